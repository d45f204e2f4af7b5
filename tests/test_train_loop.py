"""The one training loop, through both stages: resume, run folders, locks, the NaN guard, Ctrl-C."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from selfsr_edu.train import loop, stage1, stage2
from selfsr_edu.train.checkpoint import latest_checkpoint, read_run_record


def sr_cfg(out, **kw):
    base = dict(out=str(out), iterations=6, growth=(2, 4), fade_in=2, batch=4, n_train=8, n_test=4, r1_every=2,
                sample_every=3, ckpt_every=3, log_every=1, progress=False, threads=1)
    return stage2.schedule("quick", **{**base, **kw})


def deg_cfg(out, **kw):
    base = dict(out=str(out), iterations=6, batch=4, n_train=8, n_eval=4, sample_every=3, ckpt_every=3,
                log_every=1, progress=False, threads=1)
    return stage1.schedule("quick", **{**base, **kw})


STAGES = {"sr": (stage2, sr_cfg, ("R", "D", "R_ema")), "deg": (stage1, deg_cfg, ("G", "D"))}


def weights(run, name):
    return load_file(str(latest_checkpoint(run) / f"{name}.safetensors"))


def same_weights(a, b, names):
    for name in names:
        wa, wb = weights(a, name), weights(b, name)
        assert wa.keys() == wb.keys()
        assert all(torch.equal(wa[k], wb[k]) for k in wa), f"{name} differs"


def test_schedule_and_learning_rate_by_hand():
    cfg = stage2.schedule("paper")
    assert (cfg.model, cfg.batch, cfg.lr, cfg.betas, cfg.lambda_rec, cfg.lambda_r1) == ("paper", 48, 0.003,
                                                                                         (0.9, 0.99), 150.0, 3.0)
    assert stage2.stage_at(0, cfg) == (1, 1.0) and stage2.stage_at(19_999, cfg) == (1, 1.0)
    assert stage2.stage_at(20_000, cfg) == (2, 1 / 5000) and stage2.stage_at(22_499, cfg) == (2, 0.5)
    assert stage2.stage_at(80_000 + 4_999, cfg) == (3, 1.0)
    assert stage2.stage_at(0, stage2.schedule("paper", progressive=False)) == (3, 1.0)
    deg = stage1.schedule("paper")
    assert (deg.iterations, deg.batch, deg.lr, deg.lambda_idt, deg.lambda_s) == (180_000, 48, 2e-4, 10.0, 1.0)
    assert loop.learning_rate(89_999, deg) == 2e-4 and loop.learning_rate(135_000, deg) == pytest.approx(1e-4)
    assert loop.learning_rate(180_000, deg) == 0.0 and loop.learning_rate(159_999, cfg) == 0.003
    with pytest.raises(ValueError, match="unknown Config fields: \\['preset'\\]"):
        stage2.Config.from_dict({"preset": "small"})


@pytest.mark.parametrize("name", ["sr", "deg"])
def test_split_run_resumes_bit_identically(tmp_path, name):
    stage, make, names = STAGES[name]
    straight = loop.fit(stage, make(tmp_path / "a"))
    loop.fit(stage, make(tmp_path / "b"), stop_after=3)
    assert latest_checkpoint(tmp_path / "b").name == "step_0000003"
    resumed = loop.fit(stage, make(tmp_path / "b"), resume=True)
    same_weights(tmp_path / "a", tmp_path / "b", names)
    assert straight.history == resumed.history and [r["step"] for r in resumed.history] == list(range(1, 7))
    lines = (tmp_path / "b" / "history.jsonl").read_text().splitlines()
    assert [json.loads(ln)["step"] for ln in lines] == list(range(1, 7))
    assert (tmp_path / "a" / "metrics.json").exists() and (tmp_path / "a" / "samples" / "step_0000003.png").exists()


def test_resume_changes_only_iterations_and_lr_and_records_them(tmp_path):
    loop.fit(stage2, sr_cfg(tmp_path / "r", iterations=3))
    with pytest.raises(ValueError, match="--batch"):
        loop.resume_config(stage2, tmp_path / "r", batch=2)
    with pytest.raises(ValueError, match="batch"):
        loop.fit(stage2, sr_cfg(tmp_path / "r", iterations=3, batch=2), resume=True)
    with pytest.raises(ValueError, match="already finished"):
        loop.fit(stage2, loop.resume_config(stage2, tmp_path / "r"), resume=True)
    out = loop.fit(stage2, loop.resume_config(stage2, tmp_path / "r", iterations=5, lr=0.001), resume=True)
    assert out.step == 5 and out.state.optimizers["R"].param_groups[0]["lr"] == 0.001
    record = read_run_record(tmp_path / "r")
    assert record["config"]["iterations"] == 5
    assert record["changes"] == [{"at_iteration": 3, "iterations": [3, 5], "lr": [0.003, 0.001]}]


def test_failed_start_leaves_no_folder_and_second_writer_is_refused(tmp_path):
    with pytest.raises(ValueError, match="lr"):
        loop.fit(stage2, dict(vars(sr_cfg(tmp_path / "x")), lr=-1.0))
    with pytest.raises(FileNotFoundError, match="missing"):
        loop.fit(stage2, sr_cfg(tmp_path / "x", mode="pseudo", degradation=str(tmp_path / "missing"), levels=2,
                                growth=(1,)))
    assert not (tmp_path / "x").exists()
    loop.fit(stage2, sr_cfg(tmp_path / "x", iterations=1))          # the corrected rerun is accepted
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / ".lock").write_text(str(os.getpid()))     # a live writer holds it
    with pytest.raises(FileExistsError, match="being written by process"):
        loop.fit(stage2, sr_cfg(tmp_path / "busy", iterations=1))
    (tmp_path / "busy" / ".lock").write_text("999999999")           # a dead writer's lock is taken over
    loop.fit(stage2, sr_cfg(tmp_path / "busy", iterations=1))
    assert not (tmp_path / "busy" / ".lock").exists()


@pytest.mark.parametrize("name", ["sr", "deg"])
def test_nan_at_step_k_keeps_step_k_minus_1_on_disk(tmp_path, monkeypatch, name):
    stage, make, names = STAGES[name]
    real = loop.optimise

    def poisoned(state, which, loss, t):
        return real(state, which, loss * float("nan") if t == 4 and which != "D" else loss, t)

    monkeypatch.setattr(stage, "optimise", poisoned)
    with pytest.raises(loop.NonFiniteLossError, match=r"iteration 5.*step_0000004.*--lr"):
        loop.fit(stage, make(tmp_path / "nan", ckpt_every=1, keep=10))
    assert latest_checkpoint(tmp_path / "nan").name == "step_0000004"
    monkeypatch.setattr(stage, "optimise", real)
    loop.fit(stage, make(tmp_path / "ok", ckpt_every=1), stop_after=4)
    same_weights(tmp_path / "nan", tmp_path / "ok", names)          # iteration 4's weights, untouched


def _run_cli(args, **kw):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "selfsr_edu", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.parametrize("name", ["sr", "deg"])
def test_ctrl_c_saves_a_consistent_checkpoint_and_resume_is_bit_identical(tmp_path, name):
    stage, make, names = STAGES[name]
    iters = 60 if name == "sr" else 200
    extra = ["--n-train", "8", "--batch", "4", "--threads", "1", "--no-progress", "--sample-every", "0",
             "--ckpt-every", "1000", "--log-every", "1"]
    extra += ["--n-test", "4", "--growth", "2,4"] if name == "sr" else ["--n-eval", "4"]
    verb = "train-sr" if name == "sr" else "train-degradation"
    run = tmp_path / "cut"
    proc = _run_cli([verb, "--schedule", "quick", "--iterations", str(iters), "--out", str(run), *extra])
    history = run / "history.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not history.exists() or len(history.read_text().splitlines()) < 5):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().count("\n") == 0 and "interrupted: saved iteration" in err and "Traceback" not in err
    cut = int(err.split("saved iteration ")[1].split()[0])
    assert 5 <= cut < iters and latest_checkpoint(run).name == f"step_{cut:07d}"
    proc = _run_cli([verb, "--out", str(run), "--resume", "--no-progress"])
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    cfg = stage.Config.from_dict({**read_run_record(run)["config"], "out": str(tmp_path / "straight")})
    loop.fit(stage, cfg)                                             # the same run, uninterrupted
    same_weights(run, tmp_path / "straight", names)


def test_two_processes_started_on_one_new_folder_one_is_refused(tmp_path):
    args = ["train-sr", "--schedule", "quick", "--iterations", "3", "--growth", "1,2", "--batch", "2",
            "--n-train", "4", "--n-test", "0", "--no-progress", "--out", str(tmp_path / "run")]
    procs = [_run_cli(args) for _ in range(2)]
    results = [(p.wait(timeout=120), p.communicate()[1]) for p in procs]
    assert sorted(code for code, _ in results) == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "being written by process" in refused or "already exists" in refused
    assert latest_checkpoint(tmp_path / "run").name == "step_0000003"
