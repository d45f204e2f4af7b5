"""train-sr, evaluate and upscale verbs; the perceptual metric wrappers' offline behaviour."""
import numpy as np
import pytest
import torch

from selfsr_edu.cli import main
from selfsr_edu.data.io import load_image, save_image
from selfsr_edu.metrics.perceptual import LPIPSMetric, fid_from_features, frechet_distance

TRAIN = ["train-sr", "--schedule", "quick", "--iterations", "3", "--growth", "1,2", "--fade-in", "1",
         "--batch", "4", "--n-train", "8", "--n-test", "4", "--no-progress", "--ckpt-every", "100",
         "--sample-every", "0"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(TRAIN + ["--out", str(out)]) == 0
    return out


def test_train_refuses_existing_run_and_help_lists_verbs(run, capsys):
    assert main(TRAIN + ["--out", str(run)]) == 2
    assert "already exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for verb in ("train-sr", "evaluate", "upscale"):
        assert verb in out


def test_evaluate_prints_table_with_bicubic_row(run, capsys):
    assert main(["evaluate", str(run), "--n", "4"]) == 0
    out = capsys.readouterr().out
    assert "8-px border crop" in out and "bicubic" in out and "PSNR" in out and "SWD" in out
    assert "LPIPS" not in out and "FID" not in out
    # the bicubic row equals the metric computed independently
    from selfsr_edu.data.resize import bicubic_pil
    from selfsr_edu.metrics import psnr
    from selfsr_edu.train.sr import held_out_pairs, load_sr
    _, cfg = load_sr(run)
    lr, hr = held_out_pairs(cfg, 4)
    expected = psnr(bicubic_pil(lr, 128).clamp(0, 1), hr, crop_border=8).mean().item()
    line = next(ln for ln in out.splitlines() if ln.startswith("bicubic"))
    assert abs(float(line.split()[1]) - expected) < 1e-3


def test_upscale_writes_png_and_refuses_to_overwrite(run, tmp_path, capsys):
    img = torch.rand(3, 16, 16)
    save_image(img, tmp_path / "face.png")
    out_dir = tmp_path / "up"
    assert main(["upscale", str(run), str(tmp_path / "face.png"), "--out-dir", str(out_dir)]) == 0
    result = load_image(out_dir / "face_x8.png")
    assert result.shape == (3, 128, 128)
    from selfsr_edu.train.sr import load_sr
    R, _ = load_sr(run)
    with torch.no_grad():
        expected = R(load_image(tmp_path / "face.png")[None]).clamp(0, 1)[0]
    assert (result - expected).abs().max() <= 0.5 / 255 + 1e-6
    assert main(["upscale", str(run), str(tmp_path / "face.png"), "--out-dir", str(out_dir)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert main(["upscale", str(run), str(tmp_path / "missing.png"), "--out-dir", str(out_dir)]) == 2


def test_lpips_without_weights_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot download"):
        LPIPSMetric(tmp_path / "alexnet-owt-7be5be79.pth")


def test_frechet_distance_against_closed_forms():
    # 1-D: (μ1 − μ2)² + σ1² + σ2² − 2 σ1 σ2
    assert abs(frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) - (4 + 4 + 9 - 2 * 6)) < 1e-9
    # diagonal covariances: Σ_i (μ1i − μ2i)² + (sqrt(a_i) − sqrt(b_i))²
    rng = np.random.default_rng(0)
    m1, m2 = rng.normal(size=5), rng.normal(size=5)
    a, b = rng.uniform(0.5, 2, 5), rng.uniform(0.5, 2, 5)
    ref = ((m1 - m2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert abs(frechet_distance(m1, np.diag(a), m2, np.diag(b)) - ref) < 1e-8
    # a rotated pair: the distance is invariant to rotating both Gaussians together
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    rot = frechet_distance(q @ m1, q @ np.diag(a) @ q.T, q @ m2, q @ np.diag(b) @ q.T)
    assert abs(rot - ref) < 1e-6
    feats = rng.normal(size=(200, 4))
    assert abs(fid_from_features(feats, feats)) < 1e-6
    assert fid_from_features(feats, feats + 1.0) == pytest.approx(4.0, abs=1e-6)
