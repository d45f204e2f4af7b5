"""Shipped reference checkpoints: every entry re-scores to its recorded numbers; tampering is refused."""
import json
import shutil

import pytest
import torch

import selfsr_edu
from selfsr_edu import reference
from selfsr_edu.cli import main
from selfsr_edu.data.io import load_image, save_image, sha256
from selfsr_edu.train import loop, stage2
from selfsr_edu.train.checkpoint import latest_checkpoint

SHIPPED = reference.registry()


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_checkpoint_rescores_to_its_recorded_numbers(name):
    e = reference.entry(name)                                     # the sha256 matches
    recorded = e["scores"]
    got = reference.score(name, n=recorded.get("n", 100))
    if e["kind"] == "sr":
        gain, was = got["psnr"] - got["psnr_bicubic"], recorded["psnr"] - recorded["psnr_bicubic"]
        assert abs(gain - was) <= 0.05, (gain, was)
        if e["config"].get("mode", "paired") == "paired":
            assert gain > 0                                       # it beats bicubic (DIC protocol)
    else:
        assert got["swd"] == pytest.approx(recorded["swd"], abs=1e-4)
        assert got["colour_shift"] == pytest.approx(recorded["colour_shift"], abs=1e-3)
    assert e["command"].startswith("python -m selfsr_edu") and e["wall_time_s"] > 0 and e["hardware"]


def test_a_reference_G_makes_the_pseudo_pairs_of_stage_2(tmp_path):
    from selfsr_edu.evaluate import load_generator
    G = load_generator("ff-idt")
    clean = torch.rand(2, 3, 16, 16)
    assert torch.equal(G(clean), reference.load("ff-idt")(clean))
    cfg = stage2.schedule("quick", out=str(tmp_path / "p"), mode="pseudo", degradation="ff-idt", levels=2,
                          growth=(1,), iterations=2, batch=2, n_train=4, n_test=2, progress=False)
    assert loop.fit(stage2, cfg).metrics["n"] == 2


def test_the_shipped_registry_has_what_the_course_needs():
    assert {"small-scb", "small-concat", "long-scb", "long-concat", "ff-idt", "cyc", "wild-vanilla",
            "wild-ff-idt"} <= set(SHIPPED)
    for e in SHIPPED.values():
        assert (reference.WEIGHTS / e["file"]).stat().st_size < 2_000_000


@pytest.fixture
def private_registry(tmp_path, monkeypatch):
    """A registry of one freshly trained tiny R, in a temporary folder."""
    cfg = stage2.schedule("quick", out=str(tmp_path / "run"), iterations=3, growth=(1, 2), batch=2, n_train=4,
                          n_test=0, progress=False)
    loop.fit(stage2, cfg)
    weights = tmp_path / "weights"
    weights.mkdir()
    shutil.copyfile(latest_checkpoint(tmp_path / "run") / "R_ema.safetensors", weights / "t.safetensors")
    monkeypatch.setattr(reference, "WEIGHTS", weights)
    monkeypatch.setattr(reference, "REGISTRY_FILE", weights / "registry.json")
    entry = {"kind": "sr", "file": "t.safetensors", "sha256": sha256(weights / "t.safetensors"),
             "config": json.loads((tmp_path / "run" / "run.json").read_text())["config"]}
    (weights / "registry.json").write_text(json.dumps({"tiny-test": entry}))
    return weights


def test_tampered_or_missing_files_are_refused(private_registry):
    R = selfsr_edu.pretrained("tiny-test")
    assert not R.training and R(torch.rand(1, 3, 16, 16)).shape == (1, 3, 128, 128)
    path = private_registry / "t.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF                                              # one flipped bit in the last weight
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="modified or damaged"):
        selfsr_edu.pretrained("tiny-test")
    path.unlink()
    with pytest.raises(FileNotFoundError, match="missing"):
        selfsr_edu.pretrained("tiny-test")
    with pytest.raises(ValueError, match="no reference checkpoint named 'nope'.*tiny-test"):
        selfsr_edu.pretrained("nope")


def test_the_pretrained_verb_lists_every_entry(capsys):
    assert main(["pretrained"]) == 0
    out = capsys.readouterr().out
    for name, e in SHIPPED.items():
        assert f"{name}: " in out and e["command"] in out


def test_upscale_faces_and_the_cli_use_the_reference_R(private_registry, tmp_path, capsys):
    lr = torch.rand(2, 3, 16, 16)
    R = selfsr_edu.pretrained("tiny-test")
    with torch.no_grad():
        expected = R(lr).clamp(0, 1)
    assert torch.equal(selfsr_edu.upscale_faces(lr, "tiny-test"), expected)
    assert selfsr_edu.upscale_faces(lr[0], "tiny-test").shape == (3, 128, 128)
    with pytest.raises(ValueError, match="N×3×H×W"):
        selfsr_edu.upscale_faces(torch.rand(16, 16), "tiny-test")
    save_image(lr[0], tmp_path / "face.png")
    assert main(["upscale", "--pretrained", "tiny-test", str(tmp_path / "face.png"), "--out-dir",
                 str(tmp_path / "up")]) == 0
    with torch.no_grad():
        expected = R(load_image(tmp_path / "face.png")[None]).clamp(0, 1)[0]
    assert (load_image(tmp_path / "up" / "face_x8.png") - expected).abs().max() <= 0.5 / 255 + 1e-6
    assert main(["evaluate", "--pretrained", "tiny-test", "--n", "4"]) == 0
    out = capsys.readouterr().out
    assert "R (reference tiny-test)" in out and "R - bicubic" in out
    assert main(["evaluate", "--n", "4"]) == 2
    assert "--pretrained" in capsys.readouterr().err
