"""Convergence study for stage 2: held-out PSNR/SSIM against iterations and wall time.

Trains one setting with the project's own loop (``loop.fit``), stopping at each evaluation
point (``stop_after``) and resuming (bit-identical), and scores both the EMA and the raw
weights of R on held-out SynthFaces ×8 under the DIC protocol. One JSON line per point goes
to ``RESULTS`` (default ``runs/study/results.jsonl``)::

    python benchmarks/convergence_study.py --name scb --eval-every 200 --threads 2 \
        --set schedule=course block=scb
    python benchmarks/convergence_study.py --plot docs/learning_curve.png --results docs/learning_curve.jsonl \
        --names course-scb,course-concat,long-scb,long-concat

``train_s`` is training wall time only (evaluation excluded), on the machine and threads given.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text in ("true", "false"):
        return text == "true"
    if "," in text:
        return tuple(_value(v) for v in text.split(",") if v)
    return text


def run(name: str, overrides: dict, eval_at: list[int], out: Path, n_test: int, results: Path,
        label: str | None = None) -> None:
    from selfsr_edu.evaluate import fidelity, sr_network
    from selfsr_edu.train import loop, stage2
    from selfsr_edu.train.checkpoint import latest_checkpoint, load_weights

    schedule = overrides.pop("schedule", "course")
    cfg = stage2.schedule(schedule, out=str(out / name), n_test=n_test, progress=False, **overrides)
    data = stage2.load_data(cfg)
    test = data["test"]
    lr, hr = test["lr"].float().div(255), test["hr"].float().div(255)
    train_s, done = 0.0, 0
    for k in sorted(set(eval_at) | {cfg.iterations}):
        if k <= done or k > cfg.iterations:
            continue
        t0 = time.perf_counter()
        loop.fit(stage2, cfg, resume=done > 0, stop_after=k, data=data)
        train_s += time.perf_counter() - t0
        done = k
        row = {"name": label or name, "iteration": k, "train_s": round(train_s, 1), "stage": stage2.stage_at(k - 1, cfg)[0],
               "config": {key: v for key, v in vars(cfg).items() if key not in ("out", "progress")}}
        for weights in ("R_ema", "R"):
            path = latest_checkpoint(out / name) / f"{weights}.safetensors"
            if not path.exists():
                continue
            m = fidelity(load_weights(sr_network(cfg), path).eval(), lr, hr, crop_border=8)
            tag = "ema" if weights == "R_ema" else "raw"
            row.update({f"psnr_{tag}": m["psnr"], f"ssim_{tag}": m["ssim"], "psnr_bicubic": m["psnr_bicubic"],
                        "ssim_bicubic": m["ssim_bicubic"], "n": m["n"]})
        results.parent.mkdir(parents=True, exist_ok=True)
        with results.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"{label or name} it {k}: {row['train_s']:.0f} s, PSNR EMA {row.get('psnr_ema', float('nan')):.2f} / raw "
              f"{row['psnr_raw']:.2f} dB (bicubic {row['psnr_bicubic']:.2f})", flush=True)


def plot(results: Path, names: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    bicubic, colours, lengths = None, {}, sorted({r["config"]["iterations"] for r in rows if r["name"] in names})
    for name in names:
        mine = [r for r in rows if r["name"] == name and r["stage"] == r["config"]["levels"]]   # ×8 level in
        if not mine:
            continue
        bicubic = mine[0]["psnr_bicubic"]
        key = "psnr_ema" if "psnr_ema" in mine[0] else "psnr_raw"
        cfg = mine[0]["config"]   # one colour per block, one line style per schedule length
        colour = colours.setdefault(cfg.get("block"), f"C{len(colours)}")
        style = ("o-", "s--", "^:", "d-.")[lengths.index(cfg["iterations"]) % 4]
        for ax, x in zip(axes, ("iteration", "train_s")):
            ax.plot([r[x] / (60 if x == "train_s" else 1) for r in mine], [r[key] for r in mine], style, color=colour,
                    label=f"{name} ({'EMA' if key == 'psnr_ema' else 'raw'}, {cfg.get('threads', '?')} thread"
                          f"{'s' if cfg.get('threads') != 1 else ''})")
    for ax, label in zip(axes, ("iteration", "training wall time (minutes)")):
        if bicubic is not None:
            ax.axhline(bicubic, color="gray", ls="--", label="bicubic")
            ax.axhline(bicubic + 2, color="gray", ls=":", label="bicubic + 2 dB")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("held-out PSNR (dB, Y, 8-px crop)")
    axes[1].legend(fontsize=8)
    fig.suptitle("R (small), SynthFaces ×8, 100 held-out faces, DIC protocol (points once the ×8 level exists)",
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--name", help="setting name (run folder and result label)")
    p.add_argument("--label", help="result label, when it differs from --name")
    p.add_argument("--set", nargs="*", default=[], help="Config overrides key=value (schedule=course by default)")
    p.add_argument("--eval-at", default="", help="comma-separated iterations to evaluate at")
    p.add_argument("--eval-every", type=int, help="evaluate every N iterations")
    p.add_argument("--n-test", type=int, default=100, help="held-out faces (default 100)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="runs/study", help="folder of the run folders")
    p.add_argument("--results", default="runs/study/results.jsonl")
    p.add_argument("--plot", help="write the learning-curve figure to this PNG instead of training")
    p.add_argument("--names", default="course-scb,course-concat", help="--plot: settings to draw")
    args = p.parse_args()
    if args.plot:
        plot(Path(args.results), args.names.split(","), Path(args.plot))
        return 0
    torch.set_num_threads(args.threads)
    overrides = dict(kv.split("=", 1) for kv in args.set)
    overrides = {k: _value(v) for k, v in overrides.items()}
    overrides.setdefault("threads", args.threads)
    from selfsr_edu.train import stage2
    total = stage2.schedule(overrides.get("schedule", "course"), **{k: v for k, v in overrides.items()
                                                                  if k != "schedule"}).iterations
    eval_at = [int(v) for v in args.eval_at.split(",") if v]
    if args.eval_every:
        eval_at += list(range(args.eval_every, total + 1, args.eval_every))
    run(args.name, overrides, eval_at, Path(args.out), args.n_test, Path(args.results), args.label)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
