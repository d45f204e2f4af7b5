"""DDP on CPU: two gloo processes under torchrun train a few steps and end with identical replicas."""
import os
import socket
import subprocess
import sys
import textwrap

import torch
from safetensors.torch import load_file

SCRIPT = textwrap.dedent("""
    import os, sys, torch
    torch.set_num_threads(1)
    from selfsr_edu.train import loop, stage2
    from selfsr_edu.train.checkpoint import save_weights
    out = sys.argv[1]
    cfg = stage2.schedule("quick", out=out + "/run", iterations=4, growth=(1, 2), fade_in=1, batch=4, n_train=8,
                          n_test=0, r1_every=2, sample_every=0, ckpt_every=100, progress=False, device="cpu")
    result = loop.fit(stage2, cfg)
    rank = os.environ["RANK"]
    save_weights(result.models["R"], f"{out}/R_rank{rank}.safetensors")
    save_weights(result.models["D"], f"{out}/D_rank{rank}.safetensors")
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_keep_identical_weights(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("WORLD_SIZE", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
           f"--master_port={_free_port()}", str(script), str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in ("R", "D"):
        a = load_file(str(tmp_path / f"{name}_rank0.safetensors"))
        b = load_file(str(tmp_path / f"{name}_rank1.safetensors"))
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    # the replicas did train (weights moved away from the seeded initialisation)
    from selfsr_edu.train import stage2
    from selfsr_edu.train.distributed import DistContext
    R0 = stage2.init(stage2.schedule("quick"), None, DistContext()).modules["R"]
    moved = load_file(str(tmp_path / "R_rank0.safetensors"))
    assert not torch.equal(moved["stem.weight"], R0.state_dict()["stem.weight"])
    # only rank 0 wrote the run folder's checkpoint
    assert (tmp_path / "run" / "checkpoints" / "latest").exists()


def test_an_ablation_grid_under_torchrun_is_written_and_printed_once(tmp_path):
    """Every rank runs the grid (each run one DDP training); only rank 0 writes result.json and the table."""
    import json

    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("WORLD_SIZE", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
           f"--master_port={_free_port()}", "-m", "selfsr_edu", "ablate", "table4", "--budget", "quick",
           "--seeds", "1", "--rows", "scb-prog-r1", "--out", str(tmp_path), "--threads", "1", "--no-progress"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count("| SCB + Prog. + R1 | 1 |") == 1 and proc.stdout.count("written:") == 1
    result = json.loads((tmp_path / "table4" / "scb-prog-r1" / "seed0" / "result.json").read_text())
    assert "× 2 DDP processes" in result["hardware"] and result["PSNR"] > 0
    # only rank 0 wrote the run folder
    assert (tmp_path / "table4" / "scb-prog-r1" / "seed0" / "sr" / "checkpoints" / "latest").exists()
