"""Stage-2 verbs: ``train-sr``, ``evaluate`` and ``upscale``.

    python -m selfsr_edu train-sr --schedule quick --out runs/sr_quick
    python -m selfsr_edu train-sr --schedule paired --model small --iterations 3000 --out runs/sr_small
    torchrun --nproc_per_node=4 -m selfsr_edu train-sr --schedule paired --out runs/sr_paper
    python -m selfsr_edu evaluate runs/sr_small --n 100
    python -m selfsr_edu upscale runs/sr_small face1.png face2.png --out-dir upscaled/
"""
from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("train-sr", help="stage 2: train the self-conditioned SR network R (Eq. 6-11)",
                       description="Train R and D_H. --schedule picks the paper's schedule (paired ×8: 160k it., "
                                   "grow at 20k/80k; unpaired ×8: 280k, 40k/120k; realworld ×4: 160k, 60k) "
                                   "or 'quick'; the other flags override it.")
    p.add_argument("--out", required=True, help="run folder (refused if it exists, unless --resume/--overwrite)")
    p.add_argument("--schedule", default="paired", choices=["paired", "unpaired", "realworld", "quick"])
    p.add_argument("--model", dest="preset", choices=["paper", "small", "tiny"], help="R/D_H preset")
    p.add_argument("--mode", choices=["paired", "unpaired", "pseudo"])
    p.add_argument("--block", choices=["scb", "concat", "spade"], help="scb (Eq. 6), concat (Table IV vanilla)")
    p.add_argument("--degradation", help="stage-1 run folder or checkpoint (mode pseudo)")
    p.add_argument("--iterations", type=int)
    p.add_argument("--growth", help="comma-separated growth steps, e.g. 20000,80000")
    p.add_argument("--fade-in", type=int, dest="fade_in")
    p.add_argument("--batch", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--r1-every", type=int, dest="r1_every", help="lazy R1: every k steps (scaled by k)")
    p.add_argument("--no-progressive", dest="progressive", action="store_false", default=None,
                   help="Table IV 'no Prog.': train the full network from the start")
    p.add_argument("--no-r1", dest="r1", action="store_false", default=None, help="Table IV 'no R1'")
    p.add_argument("--no-ema", dest="ema", action="store_false", default=None)
    p.add_argument("--residual", action="store_true", default=None, help="add the bicubic condition to R's output")
    p.add_argument("--n-train", type=int, dest="n_train")
    p.add_argument("--n-test", type=int, dest="n_test")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--ckpt-every", type=int, dest="ckpt_every")
    p.add_argument("--sample-every", type=int, dest="sample_every")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None)
    p.add_argument("--stop-after", type=int, dest="stop_after", help="stop (and checkpoint) after N iterations")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true", help="continue the run in --out (its run.json config)")
    g.add_argument("--overwrite", action="store_true", help="delete an existing run in --out first")
    p.set_defaults(func=_train)

    p = sub.add_parser("evaluate", help="PSNR/SSIM (DIC protocol) + SWD of a trained R against bicubic",
                       description="Evaluate a train-sr run on held-out faces: PSNR/SSIM on Y (BT.601) with an "
                                   "8-px crop (×8), SWD; LPIPS/FID columns only when their weights are given.")
    p.add_argument("run", help="train-sr run folder or checkpoint folder")
    p.add_argument("--n", type=int, default=100, help="held-out images (default 100)")
    p.add_argument("--hr-folder", help="evaluate on these HR faces instead (LR by PIL bicubic, DIC protocol)")
    p.add_argument("--no-ema", dest="ema", action="store_false", help="use R's raw weights, not the EMA")
    p.add_argument("--lpips-weights", help="torchvision alexnet-owt-7be5be79.pth (adds an LPIPS column)")
    p.add_argument("--fid-weights", help="pytorch-fid pt_inception-2015-12-05-6726825d.pth (adds FID)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("upscale", help="super-resolve image files with a trained R (PNG out)")
    p.add_argument("run", help="train-sr run folder or checkpoint folder")
    p.add_argument("inputs", nargs="+", help="LR image files")
    p.add_argument("--out-dir", required=True, help="folder for NAME_x8.png outputs (never overwritten)")
    p.add_argument("--stage", type=int, help="levels to run (default: all)")
    p.add_argument("--no-ema", dest="ema", action="store_false")
    p.set_defaults(func=_upscale)


def _train(args) -> int:
    from selfsr_edu.train.checkpoint import read_run_config
    from selfsr_edu.train.sr import SRConfig, config_from_preset, train_sr

    if args.resume:
        cfg = SRConfig.from_dict(read_run_config(args.out))
        cfg.out = args.out
    else:
        keys = ["preset", "mode", "block", "degradation", "iterations", "fade_in", "batch", "lr", "r1_every",
                "progressive", "r1", "ema", "residual", "n_train", "n_test", "seed", "device", "threads",
                "ckpt_every", "sample_every", "progress"]
        over = {k: getattr(args, k) for k in keys if getattr(args, k) is not None}
        if args.growth:
            over["growth"] = tuple(int(s) for s in args.growth.split(",") if s.strip())
        cfg = config_from_preset(args.schedule, out=args.out, **over)
    result = train_sr(cfg, resume=args.resume, overwrite=args.overwrite, stop_after=args.stop_after)
    print(f"run {result['run_dir']}: {result['step']} iterations, {result['seconds_per_iteration']:.3f} s/iteration")
    if result["metrics"]:
        m = result["metrics"]
        print(f"held-out ({m['n']} images; {m['protocol']}): R PSNR {m['psnr']:.2f} dB SSIM {m['ssim']:.4f} | "
              f"bicubic PSNR {m['psnr_bicubic']:.2f} dB SSIM {m['ssim_bicubic']:.4f}")
    return 0


def evaluation_table(run, n: int = 100, hr_folder=None, ema: bool = True, lpips_weights=None, fid_weights=None,
                     device: str = "cpu") -> tuple[list[dict], str]:
    """Rows ``{"method", "PSNR", "SSIM", "SWD", ["LPIPS"], ["FID"]}`` for bicubic and R, and the protocol line."""
    import torch

    from selfsr_edu.data.io import quantise8
    from selfsr_edu.data.resize import bicubic_pil
    from selfsr_edu.metrics import psnr, ssim
    from selfsr_edu.metrics.swd import swd
    from selfsr_edu.train.sr import held_out_pairs, load_sr, super_resolve

    R, cfg = load_sr(run, ema=ema)
    R = R.to(device)
    if hr_folder:
        from selfsr_edu.data import FaceFolder

        ds = FaceFolder(hr_folder, size=cfg.hr_size)
        hr = torch.stack([ds[i] for i in range(min(n, len(ds)))])
        lr = quantise8(bicubic_pil(hr, cfg.lr_size))  # PIL bicubic, 8-bit (DIC)
        source = f"{hr.shape[0]} faces from {hr_folder}"
    else:
        lr, hr = held_out_pairs(cfg, n)
        source = f"{hr.shape[0]} held-out SynthFaces ({'real LR' if cfg.mode == 'pseudo' else 'DIC-protocol LR'})"
    crop = 8 if cfg.scale >= 8 else cfg.scale
    sr = super_resolve(R, lr)
    bic = bicubic_pil(lr, cfg.hr_size).clamp(0, 1)
    lp = None
    if lpips_weights:
        from selfsr_edu.metrics.perceptual import LPIPSMetric

        lp = LPIPSMetric(lpips_weights, device)
    rows = []
    for name, img in (("bicubic", bic), (f"R ({cfg.preset}, {cfg.block}{', EMA' if ema else ''})", sr)):
        row = {"method": name, "PSNR": psnr(img, hr, crop_border=crop).mean().item(),
               "SSIM": ssim(img, hr, crop_border=crop).mean().item(), "SWD": swd(img, hr)}
        if lp is not None:
            row["LPIPS"] = lp(img, hr).mean().item()
        if fid_weights:
            from selfsr_edu.metrics.perceptual import fid

            row["FID"] = fid(img, hr, fid_weights, device)["fid"]
        rows.append(row)
    protocol = (f"{source}, ×{cfg.scale}; PSNR/SSIM on Y (BT.601), {crop}-px border crop, 8-bit; "
                f"SWD: Laplacian-pyramid sliced Wasserstein ×1 vs the HR set"
                + ("; LPIPS: AlexNet v0.1" if lp is not None else "")
                + (f"; FID: Inception pool, {hr.shape[0]} samples (biased high below 2048)" if fid_weights else ""))
    return rows, protocol


def _evaluate(args) -> int:
    rows, protocol = evaluation_table(args.run, args.n, args.hr_folder, args.ema, args.lpips_weights,
                                      args.fid_weights, args.device)
    cols = [c for c in ("PSNR", "SSIM", "SWD", "LPIPS", "FID") if c in rows[0]]
    width = max(len(r["method"]) for r in rows) + 2
    print(protocol)
    print("method".ljust(width) + "".join(c.rjust(10) for c in cols))
    for r in rows:
        print(r["method"].ljust(width) + "".join(f"{r[c]:10.4f}" for c in cols))
    return 0


def _upscale(args) -> int:
    import torch

    from selfsr_edu.data.io import load_image, save_image
    from selfsr_edu.train.sr import load_sr

    R, cfg = load_sr(args.run, ema=args.ema)
    stage = args.stage or cfg.levels
    if not 1 <= stage <= cfg.levels:
        raise ValueError(f"--stage must be in 1..{cfg.levels}, got {stage}")
    out_dir = Path(args.out_dir)
    targets = []
    for name in args.inputs:
        src = Path(name)
        if not src.exists():
            raise FileNotFoundError(f"input image {src} does not exist")
        targets.append((src, out_dir / f"{src.stem}_x{1 << stage}.png"))
    existing = [str(t) for _, t in targets if t.exists()]
    if existing:
        raise FileExistsError(f"refusing to overwrite existing outputs: {', '.join(existing)}")
    if len({t for _, t in targets}) != len(targets):
        raise ValueError("two inputs would write the same output name; rename one")
    for src, target in targets:
        lr = load_image(src)[None]
        with torch.no_grad():
            sr = R(lr, stage).clamp(0, 1)[0]
        save_image(sr, target)
        print(f"{src} ({lr.shape[-1]}×{lr.shape[-2]}) -> {target} ({sr.shape[-1]}×{sr.shape[-2]})")
    return 0


__all__ = ["add_parser", "evaluation_table"]
