"""data_scripts/prepare_dic.py on a tiny folder made here."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from selfsr_edu.data import load_image
from selfsr_edu.resize import bicubic_pil

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "data_scripts" / "prepare_dic.py"


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_prepare_dic_writes_hr_lr_pairs_and_refuses_to_overwrite(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (150, 140, 3), dtype=np.uint8)).save(src / "a.png")
    Image.fromarray(rng.integers(0, 256, (128, 128), dtype=np.uint8)).save(src / "sub" / "b.jpg")
    out = tmp_path / "out"
    res = _run("--src", src, "--out", out)
    assert res.returncode == 0, res.stderr
    hr = load_image(out / "HR" / "a.png")
    lr = load_image(out / "LR" / "a.png")
    assert hr.shape == (3, 128, 128) and lr.shape == (3, 16, 16)
    # the LR is the PIL bicubic of the stored HR, up to PNG rounding
    assert (bicubic_pil(hr, 16).clamp(0, 1) - lr).abs().max() <= 1.5 / 255
    assert (out / "LR" / "sub__b.png").exists()
    again = _run("--src", src, "--out", out)
    assert again.returncode == 2 and "already exist" in again.stderr
    assert torch.equal(load_image(out / "HR" / "a.png"), hr)


def test_prepare_dic_reports_bad_inputs(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "broken.png").write_text("no")
    res = _run("--src", src, "--out", tmp_path / "out")
    assert res.returncode == 2 and "broken.png" in res.stderr
    assert not (tmp_path / "out").exists()


def _script(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "data_scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prepare_celeba_writes_the_dic_split(tmp_path, monkeypatch, capsys):
    """Against a fake CelebA laid out as torchvision expects (only its md5 check is replaced)."""
    import os

    from torchvision.datasets import CelebA

    from selfsr_edu.data.celeba import CROP
    from test_real_data import _fake_celeba

    monkeypatch.setattr(CelebA, "_check_integrity",
                        lambda self: os.path.isdir(os.path.join(self.root, self.base_folder, "img_align_celeba")))
    names = _fake_celeba(tmp_path / "data")                 # 4 train, 1 valid, 3 test
    prepare = _script("prepare_celeba").main
    out = tmp_path / "out"
    assert prepare(["--root", str(tmp_path / "data"), "--out", str(out), "--n-test", "2"]) == 0
    assert sorted(p.name for p in (out / "train" / "HR").iterdir()) == [n.replace(".jpg", ".png") for n in names[:4]]
    assert sorted(p.name for p in (out / "test" / "LR").iterdir()) == [n.replace(".jpg", ".png") for n in names[5:7]]
    top, left, side = CROP
    src = load_image(tmp_path / "data" / "celeba" / "img_align_celeba" / names[5])[:, top:top + side, left:left + side]
    assert torch.allclose(load_image(out / "test" / "HR" / names[5].replace(".jpg", ".png")), src, atol=0.5 / 255)
    lr = load_image(out / "test" / "LR" / names[5].replace(".jpg", ".png"))
    assert lr.shape == (3, 16, 16) and (bicubic_pil(src, 16).clamp(0, 1) - lr).abs().max() <= 1.5 / 255
    assert prepare(["--root", str(tmp_path / "data"), "--out", str(out)]) == 2
    assert "already exist" in capsys.readouterr().err
    assert prepare(["--root", str(tmp_path / "nothing"), "--out", str(tmp_path / "o2")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def _helen_annotation(path, name, box, n=194):
    """194 points on an ellipse that fills ``box`` (left, top, right, bottom), Helen's 'x , y' format."""
    left, top, right, bottom = box
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    cx, cy, ax, ay = (left + right) / 2, (top + bottom) / 2, (right - left) / 2, (bottom - top) / 2
    path.write_text(name + "\n" + "".join(f"{cx + ax * np.cos(a):.3f} , {cy + ay * np.sin(a):.3f}\n" for a in t))


def test_prepare_helen_crops_around_the_landmarks(tmp_path, capsys):
    """On the bundled public-domain astronaut photo: the crop is the landmark box × margin, border-replicated
    where it leaves the photo; the test list decides the split; mistakes are named."""
    from selfsr_edu.data.samples import CROP_BOXES

    helen = _script("prepare_helen")
    from skimage.data import astronaut

    (tmp_path / "images").mkdir()
    (tmp_path / "annotation").mkdir()
    Image.fromarray(astronaut()).save(tmp_path / "images" / "astro_1.jpg", quality=95)
    Image.fromarray(astronaut()[:300, :300]).save(tmp_path / "images" / "astro_2.jpg", quality=95)
    _helen_annotation(tmp_path / "annotation" / "1.txt", "astro_1", CROP_BOXES["astronaut"])
    _helen_annotation(tmp_path / "annotation" / "2.txt", "astro_2", (200, 150, 300, 300))   # reaches the edge
    (tmp_path / "test.txt").write_text("astro_2\n")
    out = tmp_path / "out"
    args = ["--images", str(tmp_path / "images"), "--annotations", str(tmp_path / "annotation"), "--out", str(out),
            "--test-list", str(tmp_path / "test.txt")]
    assert helen.main(args) == 0
    hr = load_image(out / "train" / "HR" / "astro_1.png")
    photo = load_image(tmp_path / "images" / "astro_1.jpg")
    left, top, side = helen.face_square(helen.read_annotation(tmp_path / "annotation" / "1.txt")[1], 1.3)
    assert side == round(1.3 * 180) and left == round(222 - side / 2)          # the box × 1.3, same centre
    expect = bicubic_pil(photo[None, :, top:top + side, left:left + side], 128)[0].clamp(0, 1)
    assert hr.shape == (3, 128, 128) and (hr - expect).abs().max() <= 1 / 255
    edge = load_image(out / "test" / "HR" / "astro_2.png")                     # the test list decided
    assert edge.shape == (3, 128, 128) and (out / "test" / "LR" / "astro_2.png").exists()
    assert helen.main(args) == 2 and "already exist" in capsys.readouterr().err
    (tmp_path / "annotation" / "3.txt").write_text("astro_3\n1 , 2\n")
    assert helen.main(args[:-2] + ["--out", str(tmp_path / "o2")]) == 2
    assert "3.txt is not a Helen annotation" in capsys.readouterr().err and not (tmp_path / "o2").exists()
