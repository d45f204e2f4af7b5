"""Command line: ``python -m selfsr_edu VERB ...`` (or the ``selfsr`` script).

    python -m selfsr_edu train-degradation --schedule course --method ff --out runs/deg
    python -m selfsr_edu train-sr --schedule quick --out runs/sr_quick
    python -m selfsr_edu train-sr --out runs/sr_quick --resume --iterations 120
    torchrun --nproc_per_node=4 -m selfsr_edu train-sr --schedule paper --model paper --out runs/sr_paper --yes
    python -m selfsr_edu evaluate runs/sr_quick --n 100
    python -m selfsr_edu upscale runs/sr_quick face.png --out-dir upscaled/

Both training verbs share their words: ``--schedule`` is the training schedule,
``--model`` the network size. User mistakes and environment failures end in one
``error: ...`` line and exit status 2 (Ctrl-C: one line, 130); ``--debug`` shows
the traceback instead.
"""
from __future__ import annotations

import argparse
import errno
import pickle
import sys
from pathlib import Path

from selfsr_edu import experiments, photo
from selfsr_edu.data import cli as data_cli
from selfsr_edu.train import stage1, stage2

#: Per-verb flags that only say where/how a run executes; everything else is the run's config.
_OPTION_FLAGS = {"out", "resume", "overwrite", "yes", "stop_after", "debug", "func", "verb", "download"}


def _training_flags(p: argparse.ArgumentParser, stage) -> None:
    """Flags both training verbs share. Defaults are None (= the schedule's value), so a
    flag given with --resume can be recognised and refused."""
    add = p.add_argument
    add("--out", required=True, help="run folder (refused if it exists, unless --resume or --overwrite)")
    add("--schedule", choices=sorted(stage.SCHEDULES),
        help="named training schedule (default quick; paper = the paper's, for GPUs)")
    add("--model", choices=["paper", "small", "tiny"], help="network size (default: the schedule's)")
    add("--iterations", type=int, help="training iterations (with --resume: extend the run to this many)")
    add("--batch", type=int, help="batch size")
    add("--lr", type=float, help="Adam learning rate (may change on --resume, e.g. after a NaN)")
    add("--seed", type=int, help="seed of the initial weights and of every iteration's batch")
    add("--data-seed", type=int, dest="data_seed", help="which SynthFaces (the world's seed)")
    add("--n-train", type=int, dest="n_train", help="training faces")
    add("--device", choices=["cpu", "cuda"], help="default: cuda when available")
    add("--threads", type=int, help="torch CPU threads (1 is often fastest on a busy machine)")
    add("--sample-every", type=int, dest="sample_every", help="write a sample grid every N iterations (0: never)")
    add("--ckpt-every", type=int, dest="ckpt_every", help="checkpoint every N iterations")
    add("--log-every", type=int, dest="log_every", help="log losses to history.jsonl every N iterations")
    add("--no-progress", dest="progress", action="store_false", default=None, help="no progress bar")
    add("--stop-after", type=int, dest="stop_after", help="checkpoint and stop after N iterations in total")
    add("--yes", action="store_true", help="start a paper-scale schedule on a CPU without asking")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true", help="continue the run in --out (its run.json is the truth)")
    g.add_argument("--overwrite", action="store_true", help="delete the run in --out and start again")


def _data_flags(p: argparse.ArgumentParser, default: str, default_help: str, lr_dest: str, lr_help: str) -> None:
    """``--data`` and its folders, the same words for both training verbs."""
    p.add_argument("--data", choices=[default, "folder", "celeba"],
                   help=f"{default_help}; folder: your HR faces in --hr-dir; celeba: CelebA under --root (the DIC "
                        "crop and split)")
    p.add_argument("--hr-dir", dest="hr_dir", help="--data folder: a folder of HR face images (last --n-test/"
                                                   "--n-eval held out, sorted by name)")
    p.add_argument("--root", help="--data celeba: the folder that holds celeba/ (img_align_celeba/ and the list files)")
    p.add_argument("--lr-dir", *(["--real-lr-dir"] if lr_dest == "real_lr_dir" else []), dest=lr_dest, help=lr_help)
    p.add_argument("--resize", action="store_true", default=None,
                   help="--data folder: cut faces of another size to their centre square and resize them (PIL "
                        "bicubic); without it they are an error that lists them")
    p.add_argument("--download", action="store_true",
                   help="--data celeba: download CelebA into --root first (needs a network; never done unasked)")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")
    parser = argparse.ArgumentParser(prog="python -m selfsr_edu", parents=[common],
                                     description="SelfSR face super-resolution, teachable edition.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    data_cli.add_parsers(sub, [common])

    p = sub.add_parser("train-degradation", parents=[common], help="stage 1: train the flow-field degradation G",
                       description="Train G (Eq. 5) or the CycleGAN baseline of Table III on unpaired clean and "
                                   "wild LR faces. Schedules: " + ", ".join(sorted(stage1.SCHEDULES)) + ".")
    _training_flags(p, stage1)
    p.add_argument("--method", choices=stage1.METHODS, help="ff (SelfSR's G, default), cyc or cyc_idt (Table III)")
    _data_flags(p, "synthfaces-wild", "SynthFaces-wild (known-truth degradations, default)",
                "real_lr_dir", "real low-resolution faces (what G learns to imitate; needed with folder/celeba)")
    p.add_argument("--data-file", dest="data_file",
                   help="a .pt snapshot of SynthFaces-wild: read if it exists, else written, so several runs "
                        "train and evaluate on identical faces")
    p.add_argument("--n-eval", type=int, dest="n_eval", help="held-out faces")
    p.set_defaults(func=lambda a: _train(a, stage1))

    p = sub.add_parser("train-sr", parents=[common], help="stage 2: train the self-conditioned SR network R",
                       description="Train R and D_H (Eq. 6-11). Schedules: paper (paired ×8: 160k iterations, "
                                   "grow at 20k/80k), unpaired (280k, 40k/120k), realworld (×4, 160k, 60k), quick.")
    _training_flags(p, stage2)
    _data_flags(p, "synthfaces", "SynthFaces, paired DIC-protocol LR (default)", "lr_dir",
                "--mode unpaired: real LR faces for R's input side (default: the HR faces' bicubic LR)")
    p.add_argument("--mode", choices=stage2.MODES, help="paired (DIC ×8), unpaired (Eq. 11) or pseudo (stage-1 G)")
    p.add_argument("--block", choices=["scb", "concat", "spade"], help="scb (Eq. 6, default), concat (Table IV)")
    p.add_argument("--degradation", help="--mode pseudo: a stage-1 run folder or checkpoint, or a reference G "
                                         "(ff-idt, cyc)")
    p.add_argument("--levels", type=int, choices=[1, 2, 3],
                   help="×2 levels of R: 3 (×8, the DIC setting) or 2 (×4, the real-world setting); a schedule's "
                        "growth points are cut to fit")
    p.add_argument("--growth", type=lambda s: tuple(int(v) for v in s.split(",") if v.strip()),
                   help="comma-separated iterations at which R grows a level, e.g. 20000,80000")
    p.add_argument("--fade-in", type=int, dest="fade_in", help="iterations over which a new level fades in")
    p.add_argument("--r1-every", type=int, dest="r1_every", help="lazy R1: every k iterations (scaled by k)")
    p.add_argument("--no-progressive", dest="progressive", action="store_false", default=None,
                   help="Table IV 'no Prog.': train the full network from the start")
    p.add_argument("--no-r1", dest="r1", action="store_false", default=None, help="Table IV 'no R1'")
    p.add_argument("--no-ema", dest="ema", action="store_false", default=None, help="no EMA copy of R")
    p.add_argument("--residual", action="store_true", default=None,
                   help="not the paper's: R adds the bicubic condition to its output")
    p.add_argument("--n-test", type=int, dest="n_test", help="held-out faces scored at the end")
    p.set_defaults(func=lambda a: _train(a, stage2))

    p = sub.add_parser("evaluate", parents=[common], help="PSNR/SSIM (DIC protocol) + SWD of a trained R vs bicubic",
                       description="Evaluate a train-sr run (or a shipped reference R) on held-out faces: PSNR/SSIM "
                                   "on Y (BT.601) with an 8-px crop (×8), SWD; LPIPS/FID only when their weights are given.")
    p.add_argument("run", nargs="?", help="train-sr run folder or checkpoint folder (or use --pretrained)")
    p.add_argument("--pretrained", help="a shipped reference R instead of a run: small-scb or small-concat")
    p.add_argument("--n", type=int, default=100, help="held-out images (default 100)")
    p.add_argument("--hr-folder", help="evaluate on these HR faces instead (LR by PIL bicubic, DIC protocol)")
    p.add_argument("--no-ema", dest="ema", action="store_false", help="use R's raw weights, not the EMA")
    p.add_argument("--lpips-weights", help="torchvision alexnet-owt-7be5be79.pth (adds an LPIPS column)")
    p.add_argument("--fid-weights", help="pytorch-fid pt_inception-2015-12-05-6726825d.pth (adds FID)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("upscale", parents=[common], help="super-resolve the faces in photos, or aligned face crops, "
                                                         "with a trained R (PNG out)",
                       description="python -m selfsr_edu upscale --pretrained small-scb photo.jpg, or "
                                   "python -m selfsr_edu upscale RUN photo.jpg ... An input larger than R's LR "
                                   "size is a photo: its faces are found (dlib, the faces extra), aligned to R's "
                                   "grid, super-resolved and pasted into the photo upscaled bicubically by R's "
                                   "factor (NAME_x8.png), or written alone with --faces-only (NAME_face1_x8.png, "
                                   "...). With --no-detect every input is an aligned LR face crop.")
    p.add_argument("items", nargs="+", metavar="[RUN] IMAGE", help="a train-sr run folder (unless --pretrained), "
                                                                   "then the photos or LR face images")
    p.add_argument("--pretrained", help="a shipped reference R instead of a run: small-scb or small-concat")
    p.add_argument("--out-dir", default=".", help="folder for NAME_x8.png outputs (default: here; never overwritten)")
    p.add_argument("--stage", type=int, help="levels to run (default: all)")
    p.add_argument("--no-ema", dest="ema", action="store_false", help="use R's raw weights, not the EMA")
    p.add_argument("--no-detect", dest="detect", action="store_false",
                   help="the inputs are already aligned LR face crops: run R on the whole image (no face detection)")
    p.add_argument("--faces-only", action="store_true",
                   help="write each face's SR crop (NAME_face{k}_x8.png) and leave the photo alone")
    p.add_argument("--max-pixels", type=int, default=photo.MAX_PIXELS,
                   help=f"refuse a photo whose upscaled output would have more pixels (default {photo.MAX_PIXELS:,})")
    p.add_argument("--upsample", type=int, choices=[0, 1, 2, 3],
                   help="2× upsamplings before face detection (finds faces of about 80, 40, 20, 10 px; each 4× "
                        "slower); default: as many as keep the image under 16 megapixels, at most 2")
    p.add_argument("--min-score", type=float, dest="min_score",
                   help=f"detection score threshold (default {photo.MIN_SCORE}; lower finds more faces and more "
                        "false ones)")
    p.set_defaults(func=_upscale)
    p = sub.add_parser("pretrained", parents=[common], help="list the reference checkpoints shipped with the package",
                       description="Each entry: what it is, how it was trained (command, iterations, hardware, wall "
                                   "time) and its held-out scores; use one with --pretrained NAME or "
                                   "selfsr_edu.pretrained(NAME).")
    p.set_defaults(func=_pretrained)

    p = sub.add_parser("ablate", parents=[common], help="run an ablation table (Table III or IV) over seeds",
                       description="Rows × seeds × a budget; finished seeds are skipped, interrupted runs resumed; "
                                   "writes table.md, table.json and table.png under OUT/EXPERIMENT.")
    p.add_argument("experiment", choices=sorted(experiments.EXPERIMENTS), help="which table")
    p.add_argument("--budget", default="quick", choices=sorted(experiments.BUDGETS),
                   help="quick (minutes on a CPU), course (hours on a CPU), short (course at half length) or "
                        "paper (GPUs)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per row (default 3)")
    p.add_argument("--out", default="runs/ablate", help="folder of the grid's runs (default runs/ablate)")
    p.add_argument("--rows", help="comma-separated row names to run (default: all)")
    p.add_argument("--threads", type=int, help="torch CPU threads per run (1 is often fastest on a busy machine)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.add_argument("--table-only", action="store_true",
                   help="train nothing: write and print the table of the seeds already finished under OUT")
    p.set_defaults(func=_ablate)
    return parser


def _pretrained(args) -> int:
    from selfsr_edu import reference

    for name, e in sorted(reference.registry().items()):
        sc = e["scores"]
        if e["kind"] == "sr":
            what = (f"R ×{1 << e['config']['levels']} ({e['config']['model']}, {e['config']['block']}); "
                    f"{sc['n']} held-out faces: {sc['psnr']:.2f} dB / {sc['ssim']:.4f}, bicubic "
                    f"{sc['psnr_bicubic']:.2f} dB / {sc['ssim_bicubic']:.4f}")
        else:
            what = (f"stage-1 G ({e['config']['method']}, {e['config']['model']}); held-out SWD to real wild LR "
                    f"{sc['swd']:.4f}, colour shift ΔE {sc['colour_shift']:.2f}")
        print(f"{name}: {what}\n    {e['iterations']:,} iterations, {e['wall_time_s'] / 60:.0f} min on "
              f"{e['hardware']}\n    {e['command']}")
    return 0


def _ablate(args) -> int:
    rows = [r.strip() for r in args.rows.split(",")] if args.rows else None
    if not args.table_only:
        experiments.run_grid(args.experiment, args.budget, args.seeds, args.out, rows, args.progress,
                             threads=args.threads)
        if experiments.processes()[0] > 0:     # torchrun: rank 0 writes and prints the table
            return 0
    found = experiments.collect(args.experiment, args.out, args.budget)
    if not found:
        print(f"error: no finished {args.experiment} seed at budget {args.budget} under {args.out} "
              f"(looked for {args.out}/{args.experiment}/<row>/seed<k>/result.json)", file=sys.stderr)
        return 2
    tab = experiments.table(args.experiment, found, args.budget, args.out)
    path = experiments.write_table(tab, Path(args.out) / args.experiment)
    print(experiments.markdown(tab))
    print(f"written: {path} (and table.json, table.png)")
    return 0


def _train(args, stage) -> int:
    import torch

    from selfsr_edu.train.loop import fit, resume_config

    given = {k: v for k, v in vars(args).items() if v is not None and k not in _OPTION_FLAGS}
    if getattr(args, "download", False):
        from selfsr_edu.data.celeba import celeba_files

        if not args.root:
            raise ValueError("--download needs --root: the folder to put CelebA in")
        celeba_files(args.root, "all", download=True)
    if args.resume:
        cfg = resume_config(stage, args.out, **given)
    else:
        name = given.pop("schedule", "quick")
        growth = stage.SCHEDULES.get(name, {}).get("growth")
        if stage is stage2 and "levels" in given and "growth" not in given and growth:
            given["growth"] = tuple(growth)[:given["levels"] - 1]   # e.g. a ×4 run on the course schedule
        cfg = stage.schedule(name, out=args.out, **given)
        device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
        if device == "cpu" and (cfg.model == "paper" or cfg.iterations >= 20_000) and not args.yes:
            print("timing one iteration of this paper-scale schedule on the CPU ...", flush=True)
            sec = estimate_seconds_per_iteration(stage, cfg)
            raise ValueError(f"--schedule {cfg.schedule} --model {cfg.model} is paper-scale: about {sec:.1f} "
                             f"s/iteration on this CPU × {cfg.iterations:,} iterations ≈ "
                             f"{sec * cfg.iterations / 3600:,.0f} hours. Pass --yes to start it anyway, or pick "
                             f"--schedule course (CPU) or quick")
    result = fit(stage, cfg, resume=args.resume, overwrite=args.overwrite, stop_after=args.stop_after)
    print(f"run {result.run_dir}: {result.step} of {cfg.iterations} iterations, "
          f"{result.seconds_per_iteration:.3f} s/iteration")
    m = result.metrics
    if m and stage is stage2:
        print(f"held-out ({m['n']} images; {m['protocol']}): R PSNR {m['psnr']:.2f} dB SSIM {m['ssim']:.4f} | "
              f"bicubic PSNR {m['psnr_bicubic']:.2f} dB SSIM {m['ssim_bicubic']:.4f}")
    elif m:
        print(f"held-out ({cfg.n_eval} faces) SWD to real wild LR [weight-free stand-in for FID‡]: generated "
              f"{m['generated']['swd']:.4f}, clean bicubic {m['clean_bicubic']['swd']:.4f}; colour shift ΔE "
              f"{m['generated']['colour_shift']:.3f}")
    return 0


def estimate_seconds_per_iteration(stage, cfg, probe_batch: int = 1) -> float:
    """Seconds one iteration of ``cfg`` would take here, timed at its last (largest) iteration
    with a batch of ``probe_batch`` and scaled linearly to ``cfg.batch`` (a rough estimate)."""
    import time
    from dataclasses import replace

    import torch

    from selfsr_edu.train import distributed

    small = replace(cfg, out=None, batch=probe_batch, progress=False,
                    **{k: v for k, v in (("n_train", probe_batch), ("n_test", 0), ("n_eval", 1)) if hasattr(cfg, k)})
    ctx = distributed.DistContext(device=torch.device(cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")))
    data = stage.load_data(small)
    state = stage.init(small, data, ctx)
    t = cfg.iterations - 1
    stage.step(state, stage.draw_batch(data, small, t, ctx), t)
    t0 = time.perf_counter()
    stage.step(state, stage.draw_batch(data, small, t, ctx), t)
    return (time.perf_counter() - t0) * cfg.batch / probe_batch


def _sr_model(run, name, ema: bool = True):
    """``(R, config, label)`` of a run folder or of a shipped reference R."""
    if bool(run) == bool(name):
        raise ValueError("give either a run folder or --pretrained NAME (one of them)")
    if name:
        from selfsr_edu import reference

        return reference.load(name), reference.sr_config(name), f"R (reference {name})"
    from selfsr_edu.evaluate import load_sr

    R, cfg = load_sr(run, ema=ema)
    return R, cfg, f"R ({cfg.model}, {cfg.block}{', EMA' if ema else ''})"


def _evaluate(args) -> int:
    from selfsr_edu.evaluate import sr_table

    R, cfg, label = _sr_model(args.run, args.pretrained, args.ema)
    rows, protocol = sr_table(R, cfg, args.n, args.hr_folder, label, args.lpips_weights, args.fid_weights,
                              args.device)
    cols = [c for c in ("PSNR", "SSIM", "SWD", "LPIPS", "FID") if c in rows[0]]
    width = max(len(r["method"]) for r in rows) + 2
    print(protocol)
    print("method".ljust(width) + "".join(c.rjust(10) for c in cols))
    for r in rows:
        print(r["method"].ljust(width) + "".join(f"{r[c]:10.4f}" for c in cols))
    gain = rows[1]["PSNR"] - rows[0]["PSNR"]
    print(f"R - bicubic: {gain:+.2f} dB PSNR, {rows[1]['SSIM'] - rows[0]['SSIM']:+.4f} SSIM")
    return 0


def _upscale(args) -> int:
    from selfsr_edu.data.io import load_image

    run, inputs = (None, args.items) if args.pretrained else (args.items[0], args.items[1:])
    if not inputs:
        raise ValueError("no input images given: upscale RUN IMAGE... or upscale --pretrained NAME IMAGE...")
    R, cfg, _ = _sr_model(run, args.pretrained, args.ema)
    stage = args.stage or cfg.levels
    if not 1 <= stage <= cfg.levels:
        raise ValueError(f"--stage must be in 1..{cfg.levels}, got {stage}")
    if args.max_pixels <= 0:
        raise ValueError(f"--max-pixels must be a positive number of pixels, got {args.max_pixels}")
    sources = [Path(name) for name in inputs]
    for src in sources:
        if not src.is_file():
            raise FileNotFoundError(f"input image {src} does not exist or is not a file")
    jobs = [photo.plan(src, load_image(src), lr_size=cfg.lr_size, stage=stage, out_dir=args.out_dir,
                       detect=args.detect, faces_only=args.faces_only, max_pixels=args.max_pixels,
                       upsample=args.upsample, min_score=args.min_score, R=R)
            for src in sources]                              # every input checked before anything is written
    photo.check_targets(jobs)
    for job in jobs:
        print(photo.describe(job, cfg.lr_size), flush=True)
    for job in jobs:
        for target, (w, h) in photo.run(job, R, cfg.lr_size, stage):
            print(f"wrote {target} ({w}×{h})", flush=True)
    return 0


def _user_errors() -> tuple:
    """Exceptions that are the user's input or the environment, not a bug: one ``error:`` line."""
    import torch
    from PIL import Image

    from selfsr_edu.train.loop import NonFiniteLossError

    return (ValueError, OSError, EOFError, pickle.UnpicklingError, Image.DecompressionBombError, MemoryError,
            torch.OutOfMemoryError, NonFiniteLossError, ImportError)


def _message(exc: BaseException) -> str:
    import torch

    if isinstance(exc, (MemoryError, torch.OutOfMemoryError)):
        return f"out of memory ({exc or type(exc).__name__}); lower --batch, use a smaller --model or fewer faces"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"the disk is full ({exc.filename or exc}); free some space or choose another --out, then --resume"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}; choose a folder you can write to"
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename} is a folder, but a file was expected"
    if isinstance(exc, (EOFError, pickle.UnpicklingError)):
        return f"a checkpoint file is damaged ({type(exc).__name__}: {exc}); resume from an older one or start again"
    if type(exc) is OSError and exc.filename:
        return f"{exc.strerror or exc}: {exc.filename}"
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    debug = getattr(args, "debug", False)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt as exc:                   # TrainingInterrupted says what was saved
        if debug:
            raise
        print(str(exc) or "interrupted; nothing was saved", file=sys.stderr)
        return 130
    except _user_errors() as exc:
        if debug:
            raise
        print(f"error: {_message(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
