"""Training on your own faces: ``--data folder`` and ``--data celeba`` for both training verbs."""
from __future__ import annotations

import json
import os

import pytest
import torch

from selfsr_edu.cli import main
from selfsr_edu.data.io import load_image, save_image
from selfsr_edu.data.synthfaces import SynthFaces
from selfsr_edu.resize import bicubic_pil

SR_ARGS = ["--schedule", "quick", "--iterations", "4", "--growth", "1,2", "--fade-in", "1", "--batch", "2",
           "--ckpt-every", "2", "--sample-every", "0", "--no-progress", "--threads", "1"]


def _face_folder(folder, n, size=128, seed=0):
    faces = SynthFaces(n, size=size, seed=seed)
    for i in range(n):
        save_image(faces[i], folder / f"face_{i:03d}.png")
    return folder


def test_train_sr_on_a_folder_runs_resumes_and_evaluates(tmp_path, capsys):
    hr = _face_folder(tmp_path / "hr", 10)
    out = tmp_path / "run"
    args = ["train-sr", "--data", "folder", "--hr-dir", str(hr), "--n-test", "3", "--out", str(out)] + SR_ARGS
    assert main(args) == 0
    run = json.loads((out / "run.json").read_text())["config"]
    assert run["data"] == "folder" and run["hr_dir"] == str(hr)
    assert main(["train-sr", "--out", str(out), "--resume", "--iterations", "6", "--no-progress"]) == 0
    assert "6 of 6 iterations" in capsys.readouterr().out
    assert main(["evaluate", str(out), "--n", "3"]) == 0
    printed = capsys.readouterr().out
    assert f"3 held-out faces of {hr}" in printed

    # the held-out faces are the folder's last 3 files, their LR the PIL bicubic downscale (DIC protocol)
    from selfsr_edu.evaluate import held_out_pairs, load_sr

    _, cfg = load_sr(out)
    lr, hr_t = held_out_pairs(cfg)
    expect = torch.stack([load_image(hr / f"face_{i:03d}.png") for i in (7, 8, 9)])
    assert torch.allclose(hr_t, expect, atol=0.5 / 255)
    assert torch.allclose(lr, bicubic_pil(expect, 16).clamp(0, 1), atol=0.51 / 255)
    with pytest.raises(ValueError, match="held out 3"):
        held_out_pairs(cfg, 5)


def test_train_sr_on_a_folder_errors(tmp_path, capsys):
    hr = _face_folder(tmp_path / "hr", 3)
    base = ["train-sr", "--data", "folder", "--out", str(tmp_path / "r")] + SR_ARGS
    assert main(base) == 2 and "--data folder needs --hr-dir" in capsys.readouterr().err
    assert main(base + ["--hr-dir", str(hr), "--n-test", "3"]) == 2
    assert "need more than the 3 held out" in capsys.readouterr().err
    (hr / "notes.png").write_bytes(b"not an image")
    assert main(base + ["--hr-dir", str(hr), "--n-test", "1"]) == 2
    err = capsys.readouterr().err
    assert "--hr-dir" in err and "notes.png" in err and not (tmp_path / "r").exists()


def test_unpaired_folder_takes_its_lr_side_from_lr_dir(tmp_path):
    from selfsr_edu.data.settings import sr_data
    from selfsr_edu.train import stage2

    hr = _face_folder(tmp_path / "hr", 6)
    real = _face_folder(tmp_path / "real", 2, size=16, seed=5)
    cfg = stage2.schedule("quick", data="folder", hr_dir=str(hr), lr_dir=str(real), mode="unpaired", n_test=2)
    train = sr_data(cfg, "train")
    assert train["hr"].shape == (4, 3, 128, 128) and train["lr"].shape == (4, 3, 16, 16)
    reals = torch.stack([load_image(real / f"face_{i:03d}.png") for i in range(2)])
    assert torch.equal(train["lr"], (reals[[0, 1, 0, 1]] * 255).round().to(torch.uint8))


def test_train_degradation_on_folders_with_the_same_words(tmp_path):
    hr = _face_folder(tmp_path / "hr", 6, size=64)
    real = _face_folder(tmp_path / "real", 6, size=16, seed=3)
    out = tmp_path / "deg"
    args = ["train-degradation", "--data", "folder", "--hr-dir", str(hr), "--lr-dir", str(real), "--out", str(out),
            "--iterations", "2", "--batch", "2", "--n-eval", "2", "--no-progress", "--threads", "1"]
    assert main(args) == 0
    assert json.loads((out / "run.json").read_text())["config"]["data"] == "folder"


# --------------------------------------------------------------------------- CelebA
ATTRS = "5_o_Clock_Shadow Arched_Eyebrows Attractive"


def _fake_celeba(root, n_per_split=(4, 1, 3)):
    """A CelebA laid out as torchvision expects (img_align_celeba/ + the five list files), random pixels."""
    base = root / "celeba"
    images = base / "img_align_celeba"
    images.mkdir(parents=True)
    names, parts = [], []
    g = torch.Generator().manual_seed(0)
    k = 0
    for part, count in enumerate(n_per_split):
        for _ in range(count):
            k += 1
            name = f"{k:06d}.jpg"
            img = (torch.rand(3, 218, 178, generator=g) * 255).round().to(torch.uint8)
            from PIL import Image
            Image.fromarray(img.permute(1, 2, 0).numpy()).save(images / name, quality=95)
            names.append(name)
            parts.append(part)
    (base / "list_eval_partition.txt").write_text("".join(f"{n} {p}\n" for n, p in zip(names, parts)))
    (base / "identity_CelebA.txt").write_text("".join(f"{n} {i}\n" for i, n in enumerate(names)))
    (base / "list_attr_celeba.txt").write_text(f"{len(names)}\n{ATTRS}\n" + "".join(f"{n} -1 1 -1\n" for n in names))
    (base / "list_bbox_celeba.txt").write_text(f"{len(names)}\nimage_id x_1 y_1 width height\n"
                                               + "".join(f"{n} 95 71 226 313\n" for n in names))
    (base / "list_landmarks_align_celeba.txt").write_text(
        f"{len(names)}\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y "
        "rightmouth_x rightmouth_y\n" + "".join(f"{n} 69 109 106 113 77 142 73 152 108 154\n" for n in names))
    return names


@pytest.fixture
def fake_celeba(tmp_path, monkeypatch):
    """torchvision checks each list file against the real CelebA's md5; a fake cannot match, so only that
    check is replaced (by the folder test it ends with)."""
    from torchvision.datasets import CelebA

    monkeypatch.setattr(CelebA, "_check_integrity",
                        lambda self: os.path.isdir(os.path.join(self.root, self.base_folder, "img_align_celeba")))
    names = _fake_celeba(tmp_path / "data")
    return tmp_path / "data", names


def test_celeba_faces_crop_and_split(fake_celeba):
    from selfsr_edu.data.celeba import CROP, celeba_faces

    root, names = fake_celeba
    train, test = celeba_faces(root, "train", 128), celeba_faces(root, "test", 64, n=2)
    assert train.shape == (4, 3, 128, 128) and test.shape == (2, 3, 64, 64)
    top, left, side = CROP
    first = load_image(root / "celeba" / "img_align_celeba" / names[0])[:, top:top + side, left:left + side]
    assert torch.equal(train[0], (first * 255).round().to(torch.uint8))        # native pixels at 128
    test0 = load_image(root / "celeba" / "img_align_celeba" / names[5])[:, top:top + side, left:left + side]
    assert torch.allclose(test[0].float() / 255, bicubic_pil(test0[None], 64)[0].clamp(0, 1), atol=0.51 / 255)
    with pytest.raises(ValueError, match="has 3 images, 9 were asked"):
        celeba_faces(root, "test", 64, n=9)


def test_train_sr_on_celeba(fake_celeba, tmp_path, capsys):
    root, _ = fake_celeba
    out = tmp_path / "celeba_run"
    assert main(["train-sr", "--data", "celeba", "--root", str(root), "--n-train", "4", "--n-test", "2",
                 "--out", str(out)] + SR_ARGS) == 0
    assert json.loads((out / "run.json").read_text())["config"]["root"] == str(root)
    capsys.readouterr()
    assert main(["evaluate", str(out), "--n", "2"]) == 0
    assert "2 held-out faces of the CelebA test split" in capsys.readouterr().out


def test_celeba_missing_says_what_to_put_where(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    args = ["train-sr", "--data", "celeba", "--root", str(tmp_path / "empty"), "--out", str(tmp_path / "r")] + SR_ARGS
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "CelebA not found" in err and "img_align_celeba" in err and "list_eval_partition.txt" in err
    assert "--download" in err and not (tmp_path / "r").exists()
    assert main(args[:4] + [str(tmp_path / "nowhere")] + args[5:]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_crop_face_refuses_unaligned_images():
    from selfsr_edu.data.celeba import crop_face

    with pytest.raises(ValueError, match="expected an aligned CelebA image"):
        crop_face(torch.rand(3, 200, 200), "x.jpg")


def test_folder_of_wrong_size_faces_is_an_error_unless_resize(tmp_path, capsys):
    hr = tmp_path / "hr"
    _face_folder(hr, 5)
    save_image(torch.rand(3, 150, 140), hr / "odd.png")
    base = ["train-sr", "--data", "folder", "--hr-dir", str(hr), "--n-test", "2", "--out", str(tmp_path / "r")] + SR_ARGS
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "1 of 6 images are not 128×128" in err and "odd.png (140×150)" in err and "--resize" in err
    assert not (tmp_path / "r").exists()
    assert main(base + ["--resize"]) == 0
    assert "resized 1 of 6 images to 128×128" in capsys.readouterr().err
    assert json.loads((tmp_path / "r" / "run.json").read_text())["config"]["resize"] is True
