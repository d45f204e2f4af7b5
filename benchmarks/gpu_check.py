"""Verify the paper's configuration on the current CUDA device; write a JSON report and print a table.

    make gpu-check                                   # = python benchmarks/gpu_check.py
    python benchmarks/gpu_check.py --sections 1,3 --out docs/gpu_report.json
    python benchmarks/gpu_check.py --cpu-smoke       # no GPU: every path, tiny presets, CPU (< 1 min)

Sections (docs/gpu.md explains each and its tolerance):

1. parity: CPU (fp32, NCHW) vs the device (fp32, R and D_H channels-last as the trainer runs
   them, TF32 off) of the forward outputs of R, D_H, G, D_L and of one training step of each
   stage (losses, gradients, updated weights).
2. amp: N training steps of each stage under autocast (the stage-2 trainer's own fp16 +
   GradScaler; bf16 where supported) vs the same N steps in fp32 from the same start.
3. throughput: images/s and peak memory of the paper preset at batch 48, the R + D_H training
   step and R inference, with and without ``torch.compile`` (of R), channels-last on and off.
4. schedule: s/iteration at each of the 3 stages, weighted by the paper schedule's iterations
   per stage (160k, growth at 20k and 80k): the time the schedule takes on this device, and
   an estimate for 4 such devices under DDP.
5. ddp: a 2-process DDP run of the quick schedule (torchrun; NCCL on 2+ GPUs, else gloo on the
   CPU) ends with identical weights in both processes; compared with a 1-process run.

Never hangs: each section has a time limit and a failure is recorded and the next section
runs; the JSON is rewritten after every section.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import faulthandler
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from pathlib import Path

import torch

from selfsr_edu.models import FlowFieldDegradation, ProgressiveDiscriminator, SelfConditionedSR
from selfsr_edu.models.patch_discriminator import PatchDiscriminator
from selfsr_edu.resize import bicubic_pil
from selfsr_edu.train import stage1, stage2
from selfsr_edu.train.distributed import DistContext

ROOT = Path(__file__).resolve().parents[1]
TOL = {"forward_rel_max": 1e-4,       # max |cpu − device| / max |cpu| of a forward output
       "loss_rel": 1e-4,              # |Δ loss| / |loss| after one training step
       "grad_rel_l2": 1e-3,           # ‖g_cpu − g_dev‖ / ‖g_cpu‖ per module
       "update_rel_l2": 5e-2,         # ‖Δw_cpu − Δw_dev‖ / ‖Δw_cpu‖ (Adam's first step is ≈ lr·sign(g))
       "amp_weight_rel": 1e-2}        # ‖w_amp − w_fp32‖ / ‖w_fp32‖ after N steps


class Settings:
    def __init__(self, args):
        self.smoke = args.cpu_smoke
        self.device = torch.device("cpu" if self.smoke else "cuda")
        self.preset = "tiny" if self.smoke else "paper"
        self.parity_batch = 2 if self.smoke else 4
        self.amp_steps = args.amp_steps or (3 if self.smoke else 20)
        self.batch = args.batch or (2 if self.smoke else 48)
        self.iters = 2 if self.smoke else 10
        self.warmup = 1 if self.smoke else 3
        self.compile = args.compile or not self.smoke
        self.timeout = args.timeout


# ---------------------------------------------------------------- helpers
def rel_max(a, b) -> float:
    a, b = a.detach().float().cpu(), b.detach().float().cpu()
    return float((a - b).abs().max() / a.abs().max().clamp_min(1e-12))


def rel_l2(a, b) -> float:
    a, b = a.detach().float().cpu(), b.detach().float().cpu()
    return float((a - b).norm() / a.norm().clamp_min(1e-12))


def flat(module, what="data"):
    parts = [(p.grad if what == "grad" else p.data) for p in module.parameters()]
    return torch.cat([x.detach().float().cpu().flatten() for x in parts if x is not None])


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def sr_data(n, lr_size=16, levels=3, seed=0):
    """Random uint8 HR faces-shaped images and their PIL-bicubic LR (what draw_batch reads)."""
    g = torch.Generator().manual_seed(seed)
    hr = torch.randint(0, 256, (n, 3, lr_size << levels, lr_size << levels), generator=g, dtype=torch.uint8)
    lr = bicubic_pil(hr.float() / 255, lr_size).clamp(0, 1).mul(255).round().to(torch.uint8)
    return {"train": {"hr": hr, "lr": lr}, "test": {"hr": hr[:0], "lr": lr[:0]}}


def lr_data(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"train_clean": torch.rand(n, 3, 16, 16, generator=g), "train_real": torch.rand(n, 3, 16, 16, generator=g)}


def sr_config(S, device, **kw):
    base = dict(model=S.preset, progressive=False, batch=S.parity_batch, progress=False, device=str(device),
                amp=False, channels_last=True, r1_every=1, n_train=8)
    return stage2.Config(**{**base, **kw}).validate()


def lr_config(S, device, **kw):
    return stage1.Config(**{**dict(model=S.preset, batch=S.parity_batch, progress=False, device=str(device)),
                            **kw}).validate()


def new_state(stage, cfg, data):
    ctx = DistContext(device=torch.device(cfg.device))
    return stage.init(cfg, data, ctx), ctx


@contextlib.contextmanager
def stage2_autocast_dtype(dtype):
    """Run stage 2's own ``step`` with its autocast dtype swapped (it hard-codes fp16): the module's
    ``torch`` is replaced, for the duration, by a view of torch whose ``autocast`` uses ``dtype``."""
    class _Torch:
        def __getattr__(self, name):
            return getattr(torch, name)

        @staticmethod
        def autocast(device_type, dtype=None, enabled=True, **kw):
            return torch.autocast(device_type, dtype=wanted, enabled=enabled, **kw)

    wanted, saved = dtype, stage2.torch
    stage2.torch = _Torch()
    try:
        yield
    finally:
        stage2.torch = saved


@contextlib.contextmanager
def no_tf32():
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@contextlib.contextmanager
def time_limit(seconds):
    """TimeoutError after ``seconds`` (SIGALRM: interrupts Python code, not a stuck kernel)."""
    if seconds <= 0 or not hasattr(signal, "SIGALRM"):
        yield
        return

    def handler(signum, frame):
        raise TimeoutError(f"section exceeded its {seconds} s limit")

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(int(seconds))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------- 1. parity
def forward_parity(S):
    torch.manual_seed(0)
    n, dev = S.parity_batch, S.device
    lr, hr = torch.rand(n, 3, 16, 16), torch.rand(n, 3, 128, 128)
    cases = {"R": (SelfConditionedSR.from_preset(S.preset), (lr, 3), True),
             "D_H": (ProgressiveDiscriminator.from_preset(S.preset), (hr, 3), True),
             "G": (FlowFieldDegradation.from_preset(S.preset), (lr,), False),
             "D_L": (PatchDiscriminator.from_preset(S.preset), (lr,), False)}
    out = {}
    for name, (model, inputs, cl) in cases.items():
        mem = torch.channels_last if cl else torch.contiguous_format
        model_dev = copy.deepcopy(model).to(dev, memory_format=mem).eval()
        with torch.no_grad():
            ref = model.eval()(*inputs)
            got = model_dev(*[x.to(dev).contiguous(memory_format=mem) if torch.is_tensor(x) else x for x in inputs])
        ref, got = (ref.lr, got.lr) if hasattr(ref, "lr") else (ref, got)
        out[name] = {"rel_max": rel_max(ref, got), "scale": float(ref.abs().max())}
        out[name]["ok"] = out[name]["rel_max"] <= TOL["forward_rel_max"]
    return out


def step_parity(S, stage, make_cfg, data, modules):
    states = {}
    for where in ("cpu", S.device):
        cfg = make_cfg(S, where, **({"channels_last": False} if where == "cpu" and stage is stage2 else {}))
        state, ctx = new_state(stage, cfg, data)
        before = {k: flat(state.modules[k]) for k in modules}
        losses = stage.step(state, stage.draw_batch(data, cfg, 0, ctx), 0)
        states[str(where) if where == "cpu" else "dev"] = (state, before, losses)
    (a, a0, la), (b, b0, lb) = states["cpu"], states["dev"]
    out = {"losses": {k: {"cpu": float(v), "device": float(lb[k]),
                          "rel": abs(float(v) - float(lb[k])) / max(abs(float(v)), 1e-12)}
                      for k, v in la.items() if torch.is_tensor(v) and v.numel() == 1}}
    for k in modules:
        out[k] = {"grad_rel_l2": rel_l2(flat(a.modules[k], "grad"), flat(b.modules[k], "grad")),
                  "update_rel_l2": rel_l2(flat(a.modules[k]) - a0[k], flat(b.modules[k]) - b0[k]),
                  "weight_max_abs": float((flat(a.modules[k]) - flat(b.modules[k])).abs().max())}
    out["ok"] = (all(v["rel"] <= TOL["loss_rel"] for v in out["losses"].values())
                 and all(out[k]["grad_rel_l2"] <= TOL["grad_rel_l2"] and out[k]["update_rel_l2"] <= TOL["update_rel_l2"]
                         for k in modules))
    return out


def section_parity(S, res):
    res.update(tolerances={k: TOL[k] for k in ("forward_rel_max", "loss_rel", "grad_rel_l2", "update_rel_l2")},
               reference="cpu fp32 NCHW", device=f"{S.device} fp32, R/D_H channels-last, TF32 off")
    with no_tf32():
        res["forward"] = forward_parity(S)
        res["stage2_step"] = step_parity(S, stage2, sr_config, sr_data(8), ("R", "D"))
        res["stage1_step"] = step_parity(S, stage1, lr_config, lr_data(8), ("G", "D"))
    res["ok"] = all(v["ok"] for v in res["forward"].values()) and res["stage2_step"]["ok"] and res["stage1_step"]["ok"]


# ---------------------------------------------------------------- 2. AMP
def amp_run(S, stage, label, dtype, scaler):
    """N steps in fp32 and N under autocast ``dtype`` from the same start; final weight distance."""
    dev, is2 = S.device, stage is stage2
    data = sr_data(8) if is2 else lr_data(8)
    make = sr_config if is2 else lr_config
    runs, w0 = {}, None
    for mode in ("fp32", "amp"):
        trainer_amp = is2 and mode == "amp" and label == "trainer"
        cfg = make(S, dev, **({"amp": trainer_amp} if is2 else {}))
        state, ctx = new_state(stage, cfg, data)
        names = ("R", "D") if is2 else ("G", "D")
        w0 = w0 or {k: flat(state.modules[k]) for k in names}
        cm = contextlib.nullcontext()
        if mode == "amp" and not trainer_amp:
            if is2:
                state.extra["amp"], state.scalers = True, {}
                cm = stage2_autocast_dtype(dtype)
            else:
                cm = torch.autocast(dev.type, dtype=dtype)
                if scaler:
                    state.scalers = {k: torch.amp.GradScaler("cuda") for k in state.optimizers}
        losses = []
        with cm:
            for t in range(S.amp_steps):
                step_losses = stage.step(state, stage.draw_batch(data, cfg, t, ctx), t)
                losses.append({k: float(v) for k, v in step_losses.items() if torch.is_tensor(v) and v.numel() == 1})
        runs[mode] = (state, losses)
    (a, la), (b, lb) = runs["fp32"], runs["amp"]
    out = {"dtype": str(dtype).replace("torch.", ""), "grad_scaler": bool(b.scalers), "steps": S.amp_steps,
           "all_losses_finite": all(math.isfinite(v) for row in lb for v in row.values()),
           "final_losses": {"fp32": la[-1], "amp": lb[-1]}}
    if b.scalers:
        out["final_scale"] = {k: float(s.get_scale()) for k, s in b.scalers.items()}
    for k in w0:
        wa, wb = flat(a.modules[k]), flat(b.modules[k])
        out[k] = {"weight_rel": float((wa - wb).norm() / wa.norm()),
                  "vs_distance_travelled": float((wa - wb).norm() / (wa - w0[k]).norm().clamp_min(1e-12))}
    out["ok"] = out["all_losses_finite"] and all(out[k]["weight_rel"] <= TOL["amp_weight_rel"] for k in w0)
    return out


def section_amp(S, res):
    cuda = S.device.type == "cuda"
    bf16 = (not cuda) or torch.cuda.is_bf16_supported()
    res["tolerance_weight_rel"] = TOL["amp_weight_rel"]
    variants = [("stage2_trainer_fp16", stage2, "trainer", torch.float16, True),
                ("stage2_bf16", stage2, "bf16", torch.bfloat16, False),
                ("stage1_fp16", stage1, "fp16", torch.float16, True),
                ("stage1_bf16", stage1, "bf16", torch.bfloat16, False)]
    for name, stage, label, dtype, scaler in variants:
        if dtype is torch.float16 and not cuda:
            res[name] = {"skipped": "fp16 + GradScaler is the CUDA path (the trainer ignores amp on the CPU)"}
        elif dtype is torch.bfloat16 and not bf16:
            res[name] = {"skipped": "torch.cuda.is_bf16_supported() is False"}
        else:
            try:
                res[name] = amp_run(S, stage, label, dtype, scaler)
            except Exception as exc:      # noqa: BLE001 - recorded, the next variant runs
                res[name] = {"error": f"{type(exc).__name__}: {exc}"[:500], "ok": False}
    res["ok"] = all(v.get("ok", True) for v in res.values() if isinstance(v, dict))


# ---------------------------------------------------------------- 3. throughput
def timed(S, fn):
    for _ in range(S.warmup):
        fn()
    sync(S.device)
    if S.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for _ in range(S.iters):
        fn()
    sync(S.device)
    sec = (time.perf_counter() - t) / S.iters
    peak = torch.cuda.max_memory_allocated() / 2**30 if S.device.type == "cuda" else None
    return {"s_per_iteration": sec, "images_per_s": S.batch / sec, "peak_memory_gib": peak}


def train_step_fn(S, batch, channels_last=True, compiled=False, t=None):
    cfg = sr_config(S, S.device, batch=batch, amp=True, channels_last=channels_last, n_train=batch,
                    progressive=t is not None)
    data = sr_data(batch)
    state, ctx = new_state(stage2, cfg, data)
    if compiled:
        state.train["R"] = torch.compile(state.train["R"])
    b = stage2.draw_batch(data, cfg, 0, ctx)
    t = cfg.iterations - 1 if t is None else t
    return lambda: stage2.step(state, b, t)


def section_throughput(S, res):
    res.update(preset=S.preset, batch=S.batch, amp="trainer's (fp16 + GradScaler on CUDA)", inference_dtype="fp32",
               compiled="R only (D_H's R1 needs double backward, which compile lacks)")
    for cl in (True, False):
        for compiled in ((False, True) if S.compile else (False,)):
            key = f"{'channels_last' if cl else 'nchw'}{'_compiled' if compiled else ''}"
            try:
                res[f"train_{key}"] = timed(S, train_step_fn(S, S.batch, cl, compiled))
            except Exception as exc:      # noqa: BLE001
                res[f"train_{key}"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
            try:
                mem = torch.channels_last if cl else torch.contiguous_format
                R = SelfConditionedSR.from_preset(S.preset).to(S.device, memory_format=mem).eval()
                R = torch.compile(R) if compiled else R
                lr = torch.rand(S.batch, 3, 16, 16, device=S.device).contiguous(memory_format=mem)

                def infer():
                    with torch.no_grad():
                        R(lr, 3)
                res[f"infer_{key}"] = timed(S, infer)
            except Exception as exc:      # noqa: BLE001
                res[f"infer_{key}"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
            if S.device.type == "cuda":
                torch.cuda.empty_cache()


# ---------------------------------------------------------------- 4. schedule
def section_schedule(S, res):
    cfg = stage2.schedule("paper")
    bounds = [0, *cfg.growth, cfg.iterations]
    per_stage = [bounds[i + 1] - bounds[i] for i in range(cfg.levels)]
    at = [0] + [g + cfg.fade_in for g in cfg.growth]     # an iteration of each stage, faded in (alpha = 1)
    res.update(iterations_per_stage=per_stage, batch=S.batch, preset=S.preset,
               device_count=torch.cuda.device_count() if S.device.type == "cuda" else 0)
    for label, batch in (("single", S.batch), ("per_device_of_4", max(1, S.batch // 4))):
        secs = []
        for t in at:
            fn = train_step_fn(S, batch, t=t)
            secs.append(timed(S, fn)["s_per_iteration"])
        res[f"s_per_iteration_{label}"] = secs
        res[f"hours_{label}"] = sum(n * s for n, s in zip(per_stage, secs)) / 3600
    res["hours_4_devices_perfect_scaling"] = res["hours_single"] / 4
    res["hours_4_devices_per_device_batch"] = res["hours_per_device_of_4"]
    res["note"] = ("estimate: no DDP communication measured; 'perfect scaling' divides the 1-device time by 4, "
                   "'per_device_batch' times batch/4 on one device (what each of 4 would run), no all-reduce; "
                   "fade-in iterations (alpha < 1, slightly more work) timed as alpha = 1")


# ---------------------------------------------------------------- 5. DDP
WORKER = textwrap.dedent("""
    import os, sys, torch
    torch.set_num_threads(1)
    from selfsr_edu.train import loop, stage2
    from selfsr_edu.train.checkpoint import save_weights
    out, device = sys.argv[1], sys.argv[2]
    cfg = stage2.schedule("quick", out=out + "/run", iterations=4, growth=(1, 2), fade_in=1, batch=4, n_train=8,
                          n_test=0, r1_every=2, sample_every=0, ckpt_every=100, progress=False, device=device)
    result = loop.fit(stage2, cfg)
    rank = os.environ.get("RANK", "single")
    for name in ("R", "D"):
        save_weights(result.models[name], f"{out}/{name}_{rank}.safetensors")
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_group(cmd, env, timeout):
    """Run ``cmd`` in its own process group; on a timeout (or any exception) kill the whole group
    (torchrun's workers included) and re-raise. Returns ``(exit code, stdout + stderr)``."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=timeout)
        return proc.returncode, log
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise


def section_ddp(S, res, deadline):
    from safetensors.torch import load_file

    two_gpus = S.device.type == "cuda" and torch.cuda.device_count() >= 2
    device = "cuda" if two_gpus else "cpu"
    res.update(backend="nccl" if two_gpus else "gloo", device=device,
               why="2+ GPUs" if two_gpus else ("no GPU (smoke)" if S.smoke else
                                               "one GPU: NCCL refuses two ranks on one GPU, so gloo on the CPU"))
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "worker.py"
        script.write_text(WORKER)
        runs = {"ddp": [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
                        f"--master_port={free_port()}", str(script), f"{tmp}/ddp", device],
                "single": [sys.executable, str(script), f"{tmp}/single", device]}
        for name, cmd in runs.items():
            t = time.perf_counter()
            code, log = run_group(cmd, env, max(5.0, deadline - time.monotonic()))
            res[f"{name}_seconds"] = time.perf_counter() - t
            if code:
                raise RuntimeError(f"{name} run failed ({code}): {log[-1500:]}")
        for net in ("R", "D"):
            r0, r1 = (load_file(f"{tmp}/ddp/{net}_{r}.safetensors") for r in (0, 1))
            one = load_file(f"{tmp}/single/{net}_single.safetensors")
            res[f"{net}_ranks_identical"] = r0.keys() == r1.keys() and all(torch.equal(r0[k], r1[k]) for k in r0)
            keys = [k for k in one if one[k].is_floating_point()]
            res[f"{net}_vs_single_process_rel_l2"] = rel_l2(torch.cat([one[k].flatten() for k in keys]),
                                                            torch.cat([r0[k].flatten() for k in keys]))
    res["note"] = ("the 1-process run (batch 4) is not expected to match exactly: D_H's minibatch-stddev groups "
                   "images within each process's batch, and Adam's first steps are ≈ lr·sign(g)")
    res["ok"] = res["R_ranks_identical"] and res["D_ranks_identical"]


# ---------------------------------------------------------------- driver
#: number: (name, function filling its result dict, default time limit in seconds)
SECTIONS = {1: ("parity", section_parity, 120), 2: ("amp", section_amp, 120),
            3: ("throughput", section_throughput, 240), 4: ("schedule", section_schedule, 120),
            5: ("ddp", section_ddp, 120)}


def summary_rows(name, res):
    """(check, value) rows of the printed table."""
    rows = [(name, "ERROR " + res["error"][:90])] if "error" in res else []

    def walk(prefix, d):
        for k, v in d.items():
            if isinstance(v, dict) and k != "final_losses":
                walk(f"{prefix}.{k}", v)
            elif isinstance(v, list) and all(isinstance(x, (int, float)) for x in v):
                rows.append((f"{prefix}.{k}", ", ".join(f"{x:.4g}" for x in v)))
            elif isinstance(v, (int, float, bool, str)) and k not in ("note", "why", "error", "traceback"):
                rows.append((f"{prefix}.{k}", f"{v:.4g}" if isinstance(v, float) else str(v)))
    walk(name, res)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cpu-smoke", action="store_true", help="no GPU: tiny presets, batch 2, the CPU")
    ap.add_argument("--sections", default="1,2,3,4,5")
    ap.add_argument("--out", default=str(ROOT / "docs" / "gpu_report.json"))
    ap.add_argument("--compile", action="store_true", help="also torch.compile in --cpu-smoke")
    ap.add_argument("--batch", type=int, default=None, help="throughput/schedule batch (default 48; smoke 2)")
    ap.add_argument("--amp-steps", type=int, default=None, help="AMP comparison steps (default 20; smoke 3)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per section (default: 240 for throughput, 120 for the others)")
    args = ap.parse_args(argv)
    if not args.cpu_smoke and not torch.cuda.is_available():
        print("gpu_check: no CUDA device; run with --cpu-smoke to exercise the script on the CPU", file=sys.stderr)
        return 2
    S = Settings(args)
    if S.smoke:
        torch.set_num_threads(1)
    sections = [int(s) for s in args.sections.split(",") if s.strip()]
    limits = {n: args.timeout or SECTIONS[n][2] for n in sections}
    faulthandler.dump_traceback_later(sum(limits.values()) + 120, exit=True)    # backstop: never hang
    report = {"device": torch.cuda.get_device_name() if S.device.type == "cuda" else f"cpu ({platform.processor()})",
              "torch": torch.__version__, "cuda": torch.version.cuda, "smoke": S.smoke, "preset": S.preset,
              "time": time.strftime("%Y-%m-%d %H:%M:%S"), "sections": {}}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for number in sections:
        name, fn, _ = SECTIONS[number]
        t0, res = time.perf_counter(), {}
        try:                              # what a section measured before failing stays in the report
            with time_limit(limits[number]):
                fn(S, res, time.monotonic() + limits[number]) if number == 5 else fn(S, res)
        except Exception as exc:          # noqa: BLE001 - recorded; the next section runs
            res.update(error=f"{type(exc).__name__}: {exc}"[:1000], traceback=traceback.format_exc()[-2000:],
                       ok=False)
        res["seconds"] = time.perf_counter() - t0
        report["sections"][name] = res
        out.write_text(json.dumps(report, indent=2))
        for check, value in summary_rows(name, res):
            print(f"{check:60s} {value}", flush=True)
    faulthandler.cancel_dump_traceback_later()
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
