"""Benchmark: one stage-2 training iteration of R (×8) on the CPU, as a fraction of dense-conv throughput.

FLOPs per iteration are counted analytically (:mod:`selfsr_edu.flops`: every conv and
linear call's shapes, forward ``2·N·C_out·H_out·W_out·(C_in/groups)·k_h·k_w``, backward
1× or 2× that as the layer needs input and/or weight gradients). Beside it, for comparison,
``torch.utils.flop_counter.FlopCounterMode``'s count of the same maths (on the meta device):
"per block" with R's batched condition branches run one block at a time (same maths; the
count agrees with the analytic one), and "as run" with the batched grouped convolution,
whose backward FlopCounterMode over-counts.

The iteration's arithmetic rate (analytic FLOPs / time) is reported as a fraction of what
this machine achieves, in the same run, on a dense 3×3 convolution forward + backward
(64→64 channels, 64×64, batch 8, channels-last): a machine-independent "how much of the
time is spent doing useful convolution" figure.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_sr_step.py [--preset small|paper] [--batch 8]
    [--threads 2] [--repeats 20] [--what r|full] [--contiguous] [--naive] [--profile]

``--what r`` (default): R's step alone (forward, Eq. 8 + the adversarial term through a
frozen D_H, backward, Adam). ``--what full``: the whole iteration, R step and D step with R1
(lazy, every 4th step, as in the quick schedule); its FLOPs omit R1's double backward, so
the fraction is a lower bound. ``--profile``: after timing, ``torch.profiler`` over one
iteration, the top ops by self CPU time.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from selfsr_edu.flops import FlopCount, conv_flops
from selfsr_edu.losses import (hinge_d_loss, hinge_g_loss, r1_penalty, reconstruction_loss,
                               sr_discriminator_objective, sr_generator_objective)
from selfsr_edu.models import ProgressiveDiscriminator, SelfConditionedSR

REFERENCE = dict(n=8, c=64, side=64)       # the dense 3×3 conv the rate is compared with


def conv_reference(mem):
    """A dense 3×3 conv, forward + backward (input and weight gradients), and its analytic FLOPs."""
    torch.manual_seed(0)
    n, c, s = REFERENCE["n"], REFERENCE["c"], REFERENCE["side"]
    x = torch.randn(n, c, s, s).contiguous(memory_format=mem).requires_grad_(True)
    w = torch.randn(c, c, 3, 3, requires_grad=True)

    def step():
        y = F.conv2d(x, w, padding=1)
        y.backward(torch.ones_like(y))

    return step, 3 * conv_flops(n, c, c, s, s, 3, 3)


def build(preset: str, batch: int, mem, device="cpu"):
    with torch.device(device):
        torch.manual_seed(0)
        R = SelfConditionedSR.from_preset(preset).to(memory_format=mem)
        D = ProgressiveDiscriminator.from_preset(preset).to(memory_format=mem)
        lr = torch.rand(batch, 3, 16, 16).contiguous(memory_format=mem)
        hr = torch.rand(batch, 3, 128, 128).contiguous(memory_format=mem)
    return R, D, lr, hr


def sr_step_fn(preset: str, batch: int, what: str, mem):
    R, D, lr, hr = build(preset, batch, mem)
    opt_R = torch.optim.Adam(R.parameters(), lr=0.003, betas=(0.9, 0.99))
    opt_D = torch.optim.Adam(D.parameters(), lr=0.003, betas=(0.9, 0.99))
    state = {"step": 0}

    def step(r1_now=None):
        conditions = [c.contiguous(memory_format=mem) for c in R.conditions(lr, 3)]
        D.requires_grad_(False)
        sr = R(lr, 3, 1.0, conditions=conditions)
        loss = sr_generator_objective(hinge_g_loss(D(sr, 3)), reconstruction_loss(sr, hr))
        opt_R.zero_grad(set_to_none=True)
        loss.backward()
        opt_R.step()
        D.requires_grad_(True)
        if what == "full":
            fake_logits = D(sr.detach(), 3)
            if (state["step"] % 4 == 0) if r1_now is None else r1_now:
                real = hr.detach().requires_grad_(True)
                real_logits = D(real, 3)
                r1 = r1_penalty(real_logits, real) * 4
            else:
                real_logits, r1 = D(hr, 3), torch.zeros(())
            loss_D = sr_discriminator_objective(hinge_d_loss(real_logits, fake_logits), r1)
            opt_D.zero_grad(set_to_none=True)
            loss_D.backward()
            opt_D.step()
        state["step"] += 1

    return step, (R, D), sum(p.numel() for p in R.parameters())


def flop_counter_mode(preset: str, batch: int, what: str, per_block: bool) -> int:
    """FlopCounterMode's count of one iteration without R1 (meta device: shapes only)."""
    import selfsr_edu.models.sr as sr_module

    R, D, lr, hr = build(preset, batch, torch.contiguous_format, device="meta")
    batched = sr_module.level_condition_features
    if per_block:
        sr_module.level_condition_features = lambda blocks, c: [b.condition_features(c) for b in blocks]
    try:
        with FlopCounterMode(display=False) as counter:
            D.requires_grad_(False)
            sr = R(lr, 3)
            (hinge_g_loss(D(sr, 3)) + reconstruction_loss(sr, hr)).backward()
            D.requires_grad_(True)
            if what == "full":
                hinge_d_loss(D(hr, 3), D(sr.detach(), 3)).backward()
    finally:
        sr_module.level_condition_features = batched
    return counter.get_total_flops()


def profile(step, rows: int = 15) -> str:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=["tiny", "small", "paper"], default="small")
    ap.add_argument("--batch", type=int, default=None, help="default: 8 (small, tiny), 2 (paper)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=None, help="default: 3 (small, tiny), 1 (paper)")
    ap.add_argument("--what", choices=["r", "full"], default="r")
    ap.add_argument("--contiguous", action="store_true", help="NCHW instead of channels-last")
    ap.add_argument("--naive", action="store_true",
                    help="the straightforward version: NCHW, each block's condition branch run on its own")
    ap.add_argument("--profile", action="store_true", help="torch.profiler over one iteration: top ops by self time")
    args = ap.parse_args(argv)
    batch = args.batch or (2 if args.preset == "paper" else 8)
    warmup = args.warmup if args.warmup is not None else (1 if args.preset == "paper" else 3)
    if args.naive:
        import selfsr_edu.models.sr as sr_module

        args.contiguous = True
        sr_module.level_condition_features = lambda blocks, c: [b.condition_features(c) for b in blocks]
    torch.set_num_threads(args.threads)
    mem = torch.contiguous_format if args.contiguous else torch.channels_last
    conv_step, conv_flops_ = conv_reference(torch.channels_last)   # reference: the machine's best case
    step, models, n_params = sr_step_fn(args.preset, batch, args.what, mem)
    with FlopCount(*models) as fc:                                   # the first warm-up iteration, counted
        step(r1_now=False)
    flops = fc.training
    fcm_block = flop_counter_mode(args.preset, batch, args.what, per_block=True)
    fcm_run = flop_counter_mode(args.preset, batch, args.what, per_block=False)
    k = 4 if args.what == "full" else 1                              # R1 every 4th step: time 4 at a time
    for _ in range(warmup):
        conv_step(); step()
    # The machine is shared: time the reference conv and the SR step back to back,
    # so both see the same load, and take the median of the per-pair ratios.
    ratios, step_times, conv_rates = [], [], []
    for _ in range(args.repeats):
        t = time.perf_counter(); conv_step(); t_conv = time.perf_counter() - t
        t = time.perf_counter()
        for _ in range(k):
            step()
        t_step = (time.perf_counter() - t) / k
        ratios.append((flops / t_step) / (conv_flops_ / t_conv))
        step_times.append(t_step)
        conv_rates.append(conv_flops_ / t_conv)
    sec = statistics.median(step_times)
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    print(f"threads {args.threads}, memory format {'NCHW' if args.contiguous else 'channels-last'}, "
          f"condition branches {'one by one' if args.naive else 'per level, together'}, torch {torch.__version__}")
    print(f"dense 3x3 conv fwd+bwd (8x64x64x64, 64->64, channels-last): median {statistics.median(conv_rates) / 1e9:.1f}"
          f" GFLOP/s (min {min(conv_rates) / 1e9:.1f}, max {max(conv_rates) / 1e9:.1f})")
    print(f"R {args.preset} preset ({n_params / 1e6:.3f} M params), x8, batch {batch}, step '{args.what}':")
    print(f"  FLOPs per iteration: analytic {flops / 1e9:.2f} GFLOP (forward {fc.forward / 1e9:.2f}); "
          f"FlopCounterMode {fcm_block / 1e9:.2f} (branches per block), {fcm_run / 1e9:.2f} (as run, grouped)"
          + (" [R1's double backward not counted]" if args.what == "full" else ""))
    print(f"  median {sec:.3f} s/iteration over {args.repeats}, {flops / sec / 1e9:.1f} GFLOP/s (analytic)")
    print(f"  fraction of dense-conv throughput (median of {args.repeats} back-to-back pairs): "
          f"{statistics.median(ratios):.3f} (quartiles {q[0]:.3f}-{q[2]:.3f})")
    if args.profile:
        print(profile(step))


if __name__ == "__main__":
    main()
