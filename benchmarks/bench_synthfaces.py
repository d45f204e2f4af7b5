"""Benchmark: SynthFaces rendering speed on ONE core (uncached), cache reads, and how hard ×8 is.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_synthfaces.py [--n 300] [--size 128] [--bicubic 1000]

Prints faces/s of :func:`selfsr_edu.data.synthfaces.render_face` (parameter
sampling included, no disk cache) by wall clock and by CPU time, and of cached
reads through ``SynthFaces`` (a temporary cache folder). The target is >= 100
faces/s/core at 128×128. ``--bicubic N`` also scores the Bicubic row of
Table I on the first N faces of ``PairedSynthFaces(split="test")`` under the
DIC protocol (PIL bicubic 128 → 16, 8-bit LR, bicubic back to 128, PSNR/SSIM
on Y BT.601 with an 8-pixel border crop), next to the paper's CelebA numbers.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="faces to render (default 300)")
    ap.add_argument("--size", type=int, default=128, help="face side in pixels (default 128)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bicubic", type=int, default=0, metavar="N",
                    help="also score bicubic x8 on N test faces (DIC protocol); 0 skips it")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from selfsr_edu.data.synthfaces import SynthFaces, render_face, sample_params

    render_face(sample_params(args.seed, 10**9), args.size)  # warm-up (lazy imports, caches)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(args.n):
        render_face(sample_params(args.seed, i), args.size)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print(f"render (uncached, 1 thread), wall clock: {args.n / dt:7.1f} faces/s at {args.size}x{args.size}  ({1000 * dt / args.n:.2f} ms/face)")
    print(f"render (uncached, 1 thread), CPU time:   {args.n / dc:7.1f} faces/s  (what one dedicated core gives;"
          " differs from wall clock when the machine is shared)")

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SELFSR_CACHE"] = tmp
        ds = SynthFaces(args.n, size=args.size, seed=args.seed)
        t0 = time.perf_counter()
        for i in range(args.n):
            ds[i]
        dt_fill = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(args.n):
            ds[i]
        dt_hit = time.perf_counter() - t0
    print(f"dataset, first epoch (render + write cache): {args.n / dt_fill:7.1f} faces/s")
    print(f"dataset, cached epoch (read .npy):           {args.n / dt_hit:7.1f} faces/s")

    if args.bicubic:
        from selfsr_edu.resize import bicubic_pil
        from selfsr_edu.data.settings import PairedSynthFaces
        from selfsr_edu.metrics import psnr, ssim

        with tempfile.TemporaryDirectory() as tmp:
            os.environ["SELFSR_CACHE"] = tmp
            ds = PairedSynthFaces(args.bicubic, split="test", seed=args.seed)
            items = [ds[i] for i in range(len(ds))]
        hr = torch.stack([it["hr"] for it in items])
        lr = torch.stack([it["lr"] for it in items])
        sr = bicubic_pil(lr, 128).clamp(0, 1)
        p, s = psnr(sr, hr, crop_border=8), ssim(sr, hr, crop_border=8)
        print(f"bicubic x8, DIC protocol, {len(ds)} SynthFaces (test split, seed {args.seed}): "
              f"PSNR {p.mean():.2f} dB (std {p.std():.2f}), SSIM {s.mean():.4f}")
        print("bicubic x8, DIC protocol, CelebA (paper, Table I):            PSNR 23.58 dB, SSIM 0.6285")


if __name__ == "__main__":
    main()
