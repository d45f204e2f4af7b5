"""Checkpoints: safetensors weights + weights_only state, atomic, resumable, guarded."""
import json

import pytest
import torch

from selfsr_edu.train.checkpoint import (latest_checkpoint, load_checkpoint, load_weights, open_run_dir,
                                         read_run_record, resolve_checkpoint, save_checkpoint, save_weights)


def _net(width=4):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, width, 3), torch.nn.InstanceNorm2d(width, track_running_stats=True))


def prepare_run_dir(out, config, **kw):
    with open_run_dir(out, {"stage": "test", "config": config}, **kw) as run:
        assert (run / ".lock").exists()
        return run


def test_run_dir_refuses_then_resumes_or_overwrites_and_unlocks(tmp_path):
    out = tmp_path / "run"
    prepare_run_dir(out, {"lr": 1e-3, "model": "tiny"})
    assert read_run_record(out)["config"]["model"] == "tiny" and not (out / ".lock").exists()
    (out / "keep.txt").write_text("user data")
    with pytest.raises(FileExistsError, match="--resume.*--overwrite"):
        prepare_run_dir(out, {})
    assert prepare_run_dir(out, {}, resume=True) == out
    assert (out / "keep.txt").exists()  # resume touches nothing
    prepare_run_dir(out, {"model": "small"}, overwrite=True)
    assert not (out / "keep.txt").exists()
    # a folder we did not make is never deleted
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "me.jpg").write_text("x")
    with pytest.raises(FileExistsError, match="not a selfsr_edu run"):
        prepare_run_dir(foreign, {}, overwrite=True)
    assert (foreign / "me.jpg").exists()
    with pytest.raises(FileNotFoundError):
        prepare_run_dir(tmp_path / "nothing", {}, resume=True)
    assert not (tmp_path / "nothing").exists()            # a folder made for a failed start is removed
    (out / "run.json").write_text("[1, 2")
    with pytest.raises(ValueError, match="run.json is not valid JSON"):
        read_run_record(out)


def test_save_and_load_restore_weights_optimiser_and_rng(tmp_path):
    net = _net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.99))
    net(torch.rand(2, 3, 8, 8)).sum().backward()
    opt.step()
    torch.manual_seed(42)
    ckpt = save_checkpoint(tmp_path, 7, {"G": net}, {"G": opt}, extra={"history": [1.0, 2.0]})
    expected_next = torch.rand(3)

    other = _net()
    with torch.no_grad():
        for p in other.parameters():
            p.zero_()
    other_opt = torch.optim.Adam(other.parameters(), lr=1e-3, betas=(0.9, 0.99))
    torch.manual_seed(999)
    info = load_checkpoint(tmp_path, {"G": other}, {"G": other_opt})
    assert info["step"] == 7 and info["extra"]["history"] == [1.0, 2.0]
    assert torch.equal(torch.rand(3), expected_next)  # RNG restored
    for a, b in zip(net.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)
    s1, s2 = opt.state_dict()["state"][0], other_opt.state_dict()["state"][0]
    assert torch.equal(s1["exp_avg"], s2["exp_avg"])
    assert (ckpt / "G.safetensors").exists()
    # the state file loads with weights_only=True (no code execution)
    torch.load(ckpt / "state.pt", weights_only=True)


def test_keep_only_newest_and_latest_pointer(tmp_path):
    net = _net()
    for step in (1, 2, 3, 4):
        save_checkpoint(tmp_path, step, {"G": net}, keep=2)
    names = sorted(p.name for p in (tmp_path / "checkpoints").glob("step_*"))
    assert names == ["step_0000003", "step_0000004"]
    assert latest_checkpoint(tmp_path).name == "step_0000004"
    (tmp_path / "run.json").write_text("{}")
    assert resolve_checkpoint(tmp_path) == (tmp_path, tmp_path / "checkpoints" / "step_0000004")
    step3 = tmp_path / "checkpoints" / "step_0000003"
    assert resolve_checkpoint(step3) == (tmp_path, step3)
    with pytest.raises(FileNotFoundError, match="neither a run folder"):
        resolve_checkpoint(tmp_path / "checkpoints")


def test_incompatible_weights_give_a_clear_error(tmp_path):
    save_weights(_net(4), tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match=r"w\.safetensors.*shape mismatches"):
        load_weights(_net(8), tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="missing"):
        load_weights(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(4, 4, 1)),
                     tmp_path / "w.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(ValueError, match="junk.safetensors"):
        load_weights(_net(4), tmp_path / "junk.safetensors")


def test_nan_weights_are_refused_with_the_file_named(tmp_path):
    net = _net()
    with torch.no_grad():
        net[0].weight[0, 0, 0, 0] = float("nan")
    save_weights(net, tmp_path / "bad.safetensors")
    with pytest.raises(ValueError, match=r"bad\.safetensors holds NaN/inf weights.*0\.weight"):
        load_weights(_net(), tmp_path / "bad.safetensors")
