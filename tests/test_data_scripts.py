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
