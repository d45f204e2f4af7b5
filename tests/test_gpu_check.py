"""benchmarks/gpu_check.py --cpu-smoke: every section's code path runs on the CPU and reports finite numbers."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _numbers(d):
    for v in d.values():
        if isinstance(v, dict):
            yield from _numbers(v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            yield v


def test_cpu_smoke_writes_a_finite_report(tmp_path):
    out = tmp_path / "report.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--cpu-smoke",
                           "--sections", "1,2,3,4,5", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["smoke"] and report["preset"] == "tiny"
    sections = report["sections"]
    assert set(sections) == {"parity", "amp", "throughput", "schedule", "ddp"}
    for name, res in sections.items():
        assert "error" not in res, (name, res.get("error"), res.get("traceback"))
        assert all(math.isfinite(x) for x in _numbers(res)), name
    assert sections["parity"]["ok"]                                   # CPU NCHW vs CPU channels-last
    assert sections["amp"]["stage2_bf16"]["all_losses_finite"]        # bf16 autocast on the CPU exercised
    assert sections["amp"]["stage1_bf16"]["all_losses_finite"]
    assert sections["ddp"]["R_ranks_identical"] and sections["ddp"]["D_ranks_identical"]
    assert sections["throughput"]["train_channels_last"]["images_per_s"] > 0
    assert len(sections["schedule"]["s_per_iteration_single"]) == 3
