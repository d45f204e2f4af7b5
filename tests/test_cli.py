"""The verbs: train-sr, evaluate, upscale; the shared training flags; one `error:` line for every user
mistake or environment failure (exit 2), never a traceback."""
import errno
import json
import pickle

import pytest
import torch

from selfsr_edu import cli
from selfsr_edu.cli import main
from selfsr_edu.data.io import load_image, save_image
from selfsr_edu.evaluate import held_out_pairs, load_sr
from selfsr_edu.metrics.perceptual import LPIPSMetric, fid_from_features, frechet_distance
from selfsr_edu.train import loop
from selfsr_edu.train.checkpoint import latest_checkpoint

TRAIN = ["train-sr", "--schedule", "quick", "--iterations", "3", "--growth", "1,2", "--fade-in", "1",
         "--batch", "4", "--n-train", "8", "--n-test", "4", "--no-progress", "--ckpt-every", "100",
         "--sample-every", "0", "--threads", "1"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(TRAIN + ["--out", str(out)]) == 0
    return out


def one_error_line(capsys, *words):
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def test_help_lists_every_verb(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for verb in ("check-images", "synthfaces", "train-degradation", "train-sr", "evaluate", "upscale"):
        assert verb in out
    for verb in ("train-sr", "train-degradation"):         # every flag has help text
        for action in cli.build_parser()._subparsers._group_actions[0].choices[verb]._actions:
            assert action.help, (verb, action.dest)


def test_refusals_name_the_flag(run, capsys, monkeypatch):
    monkeypatch.setattr(cli, "estimate_seconds_per_iteration", lambda stage, cfg: 12.5)
    assert main(TRAIN + ["--out", str(run)]) == 2
    one_error_line(capsys, "already exists", "--resume")
    assert main(["train-sr", "--out", str(run), "--resume", "--batch", "2"]) == 2
    one_error_line(capsys, "--batch", "run.json")
    assert main(["train-sr", "--out", str(run), "--resume"]) == 2
    one_error_line(capsys, "already finished", "--iterations")
    assert main(TRAIN + ["--out", str(run.parent / "bad"), "--lr", "-1"]) == 2
    one_error_line(capsys, "lr")
    assert not (run.parent / "bad").exists()
    assert main(["train-sr", "--schedule", "paper", "--out", str(run.parent / "paper"), "--device", "cpu",
                 "--n-train", "2"]) == 2
    one_error_line(capsys, "12.5 s/iteration", "556 hours", "--yes")
    assert not (run.parent / "paper").exists()


def test_evaluate_prints_table_with_bicubic_row(run, capsys):
    assert main(["evaluate", str(run), "--n", "4"]) == 0
    out = capsys.readouterr().out
    assert "8-px border crop" in out and "bicubic" in out and "SWD" in out and "LPIPS" not in out
    from selfsr_edu.metrics import psnr
    from selfsr_edu.resize import bicubic_pil
    lr, hr = held_out_pairs(load_sr(run)[1], 4)
    expected = psnr(bicubic_pil(lr, 128).clamp(0, 1), hr, crop_border=8).mean().item()
    line = next(ln for ln in out.splitlines() if ln.startswith("bicubic"))
    assert abs(float(line.split()[1]) - expected) < 1e-3


def test_evaluate_on_a_folder_refuses_wrong_sized_ground_truth(run, tmp_path, capsys):
    for i in range(3):
        save_image(torch.rand(3, 128, 128), tmp_path / "hr" / f"{i}.png")
    assert main(["evaluate", str(run), "--hr-folder", str(tmp_path / "hr"), "--n", "3"]) == 0
    assert "3 faces from" in capsys.readouterr().out
    save_image(torch.rand(3, 5, 5), tmp_path / "hr" / "tiny.png")
    assert main(["evaluate", str(run), "--hr-folder", str(tmp_path / "hr"), "--n", "4"]) == 2
    one_error_line(capsys, "tiny.png (5×5)", "never rescaled")


def test_upscale_writes_png_and_refuses_to_overwrite(run, tmp_path, capsys):
    save_image(torch.rand(3, 16, 16), tmp_path / "face.png")
    out_dir = tmp_path / "up"
    assert main(["upscale", str(run), str(tmp_path / "face.png"), "--out-dir", str(out_dir)]) == 0
    result = load_image(out_dir / "face_x8.png")
    R, _ = load_sr(run)
    with torch.no_grad():
        expected = R(load_image(tmp_path / "face.png")[None]).clamp(0, 1)[0]
    assert result.shape == (3, 128, 128) and (result - expected).abs().max() <= 0.5 / 255 + 1e-6
    assert main(["upscale", str(run), str(tmp_path / "face.png"), "--out-dir", str(out_dir)]) == 2
    one_error_line(capsys, "refusing to overwrite")
    assert main(["upscale", str(run), str(tmp_path / "missing.png"), "--out-dir", str(out_dir)]) == 2
    one_error_line(capsys, "missing.png")
    assert main(["upscale", str(run), str(tmp_path), "--out-dir", str(out_dir)]) == 2
    one_error_line(capsys, "not a file")
    save_image(torch.rand(3, 300, 200), tmp_path / "photo.png")
    assert main(["upscale", str(run), str(tmp_path / "photo.png"), "--out-dir", str(tmp_path / "big")]) == 2
    one_error_line(capsys, "photo.png is 200×300", "Crop and align the face first")
    assert not (tmp_path / "big").exists()


def test_damaged_files_are_named(run, tmp_path, capsys):
    import shutil
    bad = tmp_path / "copy"
    shutil.copytree(run, bad)
    (bad / "run.json").write_text("{not json")
    assert main(["evaluate", str(bad), "--n", "2"]) == 2
    one_error_line(capsys, "run.json", "not valid JSON")
    shutil.rmtree(bad)
    shutil.copytree(run, bad)
    state = latest_checkpoint(bad) / "state.pt"
    state.write_bytes(state.read_bytes()[:100])                     # truncated: EOF / unpickling error
    assert main(["train-sr", "--out", str(bad), "--resume", "--iterations", "5"]) == 2
    one_error_line(capsys, "state.pt", "damaged")
    (latest_checkpoint(bad) / "R_ema.safetensors").write_bytes(b"\x00" * 10)
    assert main(["upscale", str(bad), str(tmp_path / "x.png"), "--out-dir", str(tmp_path / "o")]) == 2
    one_error_line(capsys, "R_ema.safetensors", "not a readable safetensors file")


@pytest.mark.parametrize("exc, words, code", [
    (loop.NonFiniteLossError("non-finite loss 'R' (nan) at iteration 5: ..."), ["iteration 5"], 2),
    (PermissionError(errno.EACCES, "Permission denied", "/root/x"), ["permission denied", "/root/x"], 2),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/tmp/d"), ["/tmp/d", "folder"], 2),
    (OSError(errno.ENOSPC, "No space left on device", "/tmp/run"), ["disk is full", "--resume"], 2),
    (torch.OutOfMemoryError("CUDA out of memory"), ["out of memory", "--batch"], 2),
    (MemoryError(), ["out of memory"], 2),
    (pickle.UnpicklingError("invalid load key"), ["damaged"], 2),
    (EOFError("Ran out of input"), ["damaged"], 2),
    (json.JSONDecodeError("Expecting value", "", 0), ["Expecting value"], 2),
    (ImportError("FID needs the pytorch-fid package (pip install pytorch-fid)"), ["pip install pytorch-fid"], 2),
])
def test_environment_failures_are_one_line(monkeypatch, capsys, exc, words, code):
    from PIL import Image

    def boom(args):
        raise exc

    monkeypatch.setattr(cli, "_evaluate", boom)
    assert main(["evaluate", "anything"]) == code
    one_error_line(capsys, *words)
    with pytest.raises(type(exc)):
        main(["evaluate", "anything", "--debug"])
    monkeypatch.setattr(cli, "_evaluate", lambda a: (_ for _ in ()).throw(Image.DecompressionBombError("huge")))
    assert main(["evaluate", "anything"]) == 2
    one_error_line(capsys, "huge")


def test_ctrl_c_outside_a_run_is_one_line(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_evaluate", interrupted)
    assert main(["evaluate", "x"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted; nothing was saved"


def test_time_estimate_is_close_to_a_measured_iteration(tmp_path):
    from selfsr_edu.train import stage2
    cfg = stage2.schedule("quick", out=None, batch=4, n_train=4, n_test=0, progress=False, iterations=3,
                          growth=(0, 1), fade_in=1)
    estimate = cli.estimate_seconds_per_iteration(stage2, cfg, probe_batch=4)
    measured = loop.fit(stage2, cfg).seconds_per_iteration
    assert 0.2 < estimate / measured < 5


def test_lpips_without_weights_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot download"):
        LPIPSMetric(tmp_path / "alexnet-owt-7be5be79.pth")
    # an AlexNet-shaped file that is not torchvision's published weights is refused, not scored
    import torchvision
    fake = tmp_path / "alexnet-owt-7be5be79.pth"
    torch.save(torchvision.models.alexnet().state_dict(), fake)
    with pytest.raises(ValueError, match="not the published"):
        LPIPSMetric(fake)


def test_fid_without_its_package_says_what_to_install(tmp_path, monkeypatch):
    import importlib.util
    if importlib.util.find_spec("pytorch_fid") is not None:
        pytest.skip("pytorch-fid is installed here")
    from selfsr_edu.metrics import perceptual
    monkeypatch.setattr(perceptual, "find_weights", lambda *a: tmp_path / "w.pth")
    with pytest.raises(ImportError, match="pip install pytorch-fid"):
        perceptual.inception_features(torch.rand(1, 3, 8, 8))


def test_frechet_distance_against_closed_forms():
    import numpy as np
    assert abs(frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) - (4 + 4 + 9 - 2 * 6)) < 1e-9
    rng = np.random.default_rng(0)
    m1, m2 = rng.normal(size=5), rng.normal(size=5)
    a, b = rng.uniform(0.5, 2, 5), rng.uniform(0.5, 2, 5)
    ref = ((m1 - m2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert abs(frechet_distance(m1, np.diag(a), m2, np.diag(b)) - ref) < 1e-8
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    assert abs(frechet_distance(q @ m1, q @ np.diag(a) @ q.T, q @ m2, q @ np.diag(b) @ q.T) - ref) < 1e-6
    feats = rng.normal(size=(200, 4))
    assert abs(fid_from_features(feats, feats)) < 1e-6
    assert fid_from_features(feats, feats + 1.0) == pytest.approx(4.0, abs=1e-6)
