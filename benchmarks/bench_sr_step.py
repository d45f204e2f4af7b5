"""Benchmark: one stage-2 training iteration of R (small preset, ×8, batch 8) on the CPU.

Reports the iteration's arithmetic rate (FLOP/s, FLOPs counted with
``torch.utils.flop_counter.FlopCounterMode``) as a fraction of what this
machine achieves on a dense 3×3 convolution, forward + backward, measured in
the same run (64→64 channels, 64×64, batch 8, channels-last). The fraction is
a machine-independent "how much of the time is spent doing useful
convolution" figure; ≈ 0.4 is what a straightforward implementation gets.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_sr_step.py [--threads 2] [--repeats 20]
    [--what r|full] [--contiguous] [--naive]

``--what r`` (default): R's step alone (forward, Eq. 8 + the adversarial term
through a frozen D_H, backward, Adam). ``--what full``: the whole iteration,
R step and D step with R1 (lazy, every 4th step, as in the quick schedule);
its FLOPs omit R1's double backward (FlopCounterMode cannot count it), so the
fraction is a lower bound.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from selfsr_edu.losses import (hinge_d_loss, hinge_g_loss, r1_penalty, reconstruction_loss,
                               sr_discriminator_objective, sr_generator_objective)
from selfsr_edu.models import ProgressiveDiscriminator, SelfConditionedSR


def count_flops(fn) -> int:
    """FLOPs of ``fn()``. The condition branches are counted one block at a time:
    FlopCounterMode over-counts the backward of a *grouped* convolution (it
    charged our batched branches 7.3 GFLOP more per step for the same maths),
    so the batched version is timed but not counted."""
    import selfsr_edu.models.sr as sr_module

    batched = sr_module.level_condition_features
    sr_module.level_condition_features = lambda blocks, c: [b.condition_features(c) for b in blocks]
    try:
        with FlopCounterMode(display=False) as counter:
            fn()
    finally:
        sr_module.level_condition_features = batched
    return counter.get_total_flops()


def conv_reference(mem) -> tuple:
    """A dense 3×3 conv, forward + backward (input and weight gradients), and its FLOPs."""
    torch.manual_seed(0)
    x = torch.randn(8, 64, 64, 64).contiguous(memory_format=mem).requires_grad_(True)
    w = torch.randn(64, 64, 3, 3, requires_grad=True)

    def step():
        y = F.conv2d(x, w, padding=1)
        y.backward(torch.ones_like(y))

    with FlopCounterMode(display=False) as counter:
        step()
    return step, counter.get_total_flops()


def sr_step_fn(what: str, mem):
    torch.manual_seed(0)
    R = SelfConditionedSR.from_preset("small").to(memory_format=mem)
    D = ProgressiveDiscriminator.from_preset("small").to(memory_format=mem)
    opt_R = torch.optim.Adam(R.parameters(), lr=0.003, betas=(0.9, 0.99))
    opt_D = torch.optim.Adam(D.parameters(), lr=0.003, betas=(0.9, 0.99))
    lr = torch.rand(8, 3, 16, 16).contiguous(memory_format=mem)
    hr = torch.rand(8, 3, 128, 128).contiguous(memory_format=mem)
    state = {"step": 0}

    def step():
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
            if state["step"] % 4 == 0:
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

    return step, sum(p.numel() for p in R.parameters())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--what", choices=["r", "full"], default="r")
    ap.add_argument("--contiguous", action="store_true", help="NCHW instead of channels-last")
    ap.add_argument("--naive", action="store_true",
                    help="the straightforward version: NCHW, each block's condition branch run on its own")
    args = ap.parse_args(argv)
    if args.naive:
        import selfsr_edu.models.sr as sr_module

        args.contiguous = True
        sr_module.level_condition_features = lambda blocks, c: [b.condition_features(c) for b in blocks]
    torch.set_num_threads(args.threads)
    mem = torch.contiguous_format if args.contiguous else torch.channels_last
    conv_step, conv_flops = conv_reference(torch.channels_last)   # reference: the machine's best case
    step, n_params = sr_step_fn(args.what, mem)
    k = 4 if args.what == "full" else 1                            # R1 every 4th step: time 4 at a time
    if args.what == "full":
        # FlopCounterMode cannot follow R1's autograd.grad(create_graph=True): count the
        # three steps without R1 and charge the R1 step the same (an under-count).
        step()
        flops = sum(count_flops(step) for _ in range(3)) / 3
    else:
        flops = count_flops(step)
    for _ in range(3):                                             # warm-up
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
        ratios.append((flops / t_step) / (conv_flops / t_conv))
        step_times.append(t_step)
        conv_rates.append(conv_flops / t_conv)
    sec = statistics.median(step_times)
    print(f"threads {args.threads}, memory format {'NCHW' if args.contiguous else 'channels-last'}, "
          f"condition branches {'one by one' if args.naive else 'per level, together'}, torch {torch.__version__}")
    print(f"dense 3x3 conv fwd+bwd (8x64x64x64, 64->64, channels-last): median {statistics.median(conv_rates) / 1e9:.1f}"
          f" GFLOP/s (min {min(conv_rates) / 1e9:.1f}, max {max(conv_rates) / 1e9:.1f})")
    print(f"R small preset ({n_params / 1e6:.3f} M params), x8, batch 8, step '{args.what}': "
          f"{flops / 1e9:.2f} GFLOP per iteration, median {sec:.3f} s/iteration, {flops / sec / 1e9:.1f} GFLOP/s")
    print(f"fraction of dense-conv throughput (median of {args.repeats} back-to-back pairs): "
          f"{statistics.median(ratios):.3f} (quartiles {statistics.quantiles(ratios, n=4)[0]:.3f}"
          f"-{statistics.quantiles(ratios, n=4)[2]:.3f})")


if __name__ == "__main__":
    main()
