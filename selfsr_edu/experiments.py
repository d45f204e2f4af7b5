"""Ablation grids: Tables III and IV as named rows × seeds × a budget.

    python -m selfsr_edu ablate table4 --budget quick --seeds 2 --out runs/ablate

An *experiment* is a list of rows; a row is a set of config overrides, for stage 2 and,
in Table III, for a stage-1 run before it (the two-stage real-world pipeline). A *budget*
names the schedules: ``quick`` (tests, notebooks), ``course`` (a CPU), ``short`` (the course schedules at
half length), ``paper`` (GPUs).
Runs land in ``OUT/<experiment>/<row>/seed<k>/`` (``degradation/`` and ``sr/`` run folders
and the seed's ``result.json``): finished seeds are skipped, interrupted runs resumed, so a
grid can be produced in pieces. :func:`table` aggregates: mean ± std over seeds per metric,
the paired difference of every row against the full model (the last row) with its 95 %
interval (Student t over seeds), the protocol line, and the paper's numbers beside them.

Metrics: PSNR/SSIM (Y, BT.601, 8-bit; 8-px crop at ×8, 4 at ×4), the weight-free SWD between
SR and HR (the stand-in for FID); Table III adds the stage-1 columns (SWD of G's LR to the
real LR: FID‡'s stand-in; colour drift; the distance to the true degradation). LPIPS/FID are
left out: no number from a random backbone is ever reported.
"""
from __future__ import annotations

import json
import math
import os
import platform
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

#: Student t quantiles t_{0.975, df} for the 95 % interval of a mean over few seeds.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def t975(df: int) -> float:
    """t_{0.975, df}: the table above for df ≤ 9, else scipy's Student t (scipy comes with scikit-image)."""
    if df < 1:
        raise ValueError(f"a t interval needs at least 2 seeds (df ≥ 1), got df={df}")
    if df in T975:
        return T975[df]
    from scipy.stats import t

    return float(t.ppf(0.975, df))


@dataclass
class Row:
    """One row of an ablation table: stage-2 overrides, an optional stage-1 run, the paper's numbers."""

    name: str
    sr: dict = field(default_factory=dict)
    degradation: dict | None = None          # stage-1 overrides: the row is the two-stage pipeline
    paper: dict = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


def _t4(mode: str, paper: list) -> list[Row]:
    names = ("Vanilla + Prog. + R1", "SCB + R1", "SCB + Prog.", "SCB + Prog. + R1")
    overrides = ({"block": "concat"}, {"progressive": False}, {"r1": False}, {})
    return [Row(n, {"mode": mode, **o}, None, dict(zip(("PSNR", "SSIM", "LPIPS", "FID"), p)))
            for n, o, p in zip(names, overrides, paper)]


#: Tables III and IV (the paper's numbers: CelebA for IV; real-world faces, FID only, for III).
EXPERIMENTS: dict[str, list[Row]] = {
    "table4": _t4("paired", [(25.57, 0.7354, 0.1105, 37.12), (25.83, 0.7426, 0.1023, 34.97),
                             (25.94, 0.7483, 0.0912, 33.46), (26.59, 0.7696, 0.0726, 30.25)]),
    "table4-unpaired": _t4("unpaired", [(22.72, 0.6101, 0.1523, 56.18), (22.88, 0.6135, 0.1428, 52.67),
                                        (23.64, 0.6660, 0.1238, 39.09), (23.42, 0.6539, 0.1141, 35.61)]),
    "table3": [
        Row("Vanilla", {"mode": "paired", "levels": 2}, None, {"FID": 61.82, "FID‡": 24.28}),
        Row("Cyc", {"mode": "pseudo", "levels": 2}, {"method": "cyc"}, {"FID": 33.73, "FID‡": 14.12}),
        Row("Cyc + Idt", {"mode": "pseudo", "levels": 2}, {"method": "cyc_idt"}, {"FID": 29.94, "FID‡": 12.81}),
        Row("FF + Idt", {"mode": "pseudo", "levels": 2}, {"method": "ff"}, {"FID": 25.07, "FID‡": 12.03}),
    ],
}

#: Budgets: the stage-2 and stage-1 schedules (and overrides) every row starts from.
BUDGETS: dict[str, dict] = {
    "quick": {"sr": ("quick", {}), "sr-x4": ("quick", {"growth": (30,), "fade_in": 10}),
              "degradation": ("quick", {"iterations": 150})},
    "course": {"sr": ("course", {}), "sr-x4": ("course", {}), "degradation": ("course", {})},
    # Assumed: the course schedules at half length (every iteration count halved, the rest unchanged), for a
    # grid that does not fit the course budget on a CPU (Table IV's unpaired half): about half the CPU time.
    "short": {"sr": ("course", {"iterations": 1100, "growth": (150, 275), "fade_in": 25, "adv_start": 950}),
              "sr-x4": ("course", {"iterations": 1100, "growth": (150,), "fade_in": 25, "adv_start": 950}),
              "degradation": ("course", {"iterations": 1500})},
    "paper": {"sr": ("paper", {}), "sr-x4": ("realworld", {}), "degradation": ("paper", {})},
}


def _sr_config(row: Row, budget: str, seed: int, out: Path, progress: bool, threads: int | None = None):
    from selfsr_edu.train import stage2

    key = "sr-x4" if row.sr.get("levels") == 2 else "sr"
    name, extra = BUDGETS[budget][key]
    if name == "paper" and row.sr.get("mode") == "unpaired":
        name = "unpaired"
    over = {**extra, **row.sr}
    if row.degradation is not None:           # the row's own stage-1 run, trained first by run_seed
        over["degradation"] = str(Path(out).parent / "degradation")
    if row.sr.get("levels") == 2 and name not in ("realworld",):
        over.setdefault("growth", tuple(stage2.SCHEDULES[name].get("growth", (0, 0)))[:1])
    if threads is not None:                   # else the schedule's own (quick: 1 thread)
        over["threads"] = threads
    return stage2.schedule(name, out=str(out), seed=seed, progress=progress, **over)


def processes() -> tuple[int, int]:
    """``(rank, world size)`` when launched by torchrun, else ``(0, 1)``. Under torchrun every process runs the
    whole grid (each run is one DDP training); only rank 0 writes ``result.json`` files and tables."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def hardware(threads: int | None = None) -> str:
    """Where a run trains, for its ``result.json``: the CUDA device's name, else cores, architecture and threads;
    with the number of DDP processes when there are several."""
    world = processes()[1]
    ddp = f" × {world} DDP processes" if world > 1 else ""
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} (CUDA){ddp}, torch {torch.__version__}"
    used = threads or torch.get_num_threads()
    return (f"{os.cpu_count()}-core {platform.machine()} CPU, {used} thread{'s' if used > 1 else ''}{ddp}, "
            f"torch {torch.__version__}")


def _fit_or_resume(stage, cfg, data=None):
    """Train ``cfg`` in its run folder: skip when finished, resume when interrupted, else start."""
    from selfsr_edu.train import loop
    from selfsr_edu.train.checkpoint import latest_checkpoint, read_run_record

    out = Path(cfg.out)
    ckpt = latest_checkpoint(out) if (out / "run.json").exists() else None
    if ckpt is not None:
        done = int(ckpt.name.split("_")[1])
        stored = stage.Config.from_dict(read_run_record(out)["config"])
        if done >= stored.iterations:
            return None
        return loop.fit(stage, loop.resume_config(stage, out, progress=cfg.progress, threads=cfg.threads),
                        resume=True, data=data)
    return loop.fit(stage, cfg, overwrite=out.exists(), data=data)


def run_seed(experiment: str, row: Row, budget: str, seed: int, out: Path, progress: bool = False,
             threads: int | None = None) -> dict:
    """Train (or resume) one row for one seed; write and return its ``result.json``."""
    from selfsr_edu.evaluate import evaluate_degradation, load_generator, load_sr
    from selfsr_edu.train import stage1, stage2

    folder = out / experiment / row.slug / f"seed{seed}"
    result_file = folder / "result.json"
    if result_file.exists():
        return json.loads(result_file.read_text())
    cfg = _sr_config(row, budget, seed, folder / "sr", progress, threads)
    t0, result = time.time(), {"row": row.name, "seed": seed, "budget": budget, "hardware": hardware(cfg.threads),
                               "command": f"python -m selfsr_edu ablate {experiment} --budget {budget} --seeds "
                                          f"{seed + 1} --rows {row.slug} --out {out}"}
    if row.degradation is not None or experiment == "table3":
        name, extra = BUDGETS[budget]["degradation"]
        dcfg = stage1.schedule(name, out=str(folder / "degradation"), seed=seed, progress=progress,
                               **{**extra, **(row.degradation or {"method": "ff"}),
                                  **({"threads": threads} if threads is not None else {})})
        data1 = stage1.load_data(dcfg)
        if row.degradation is not None:
            _fit_or_resume(stage1, dcfg, data1)
            G = load_generator(folder / "degradation")
            cfg.degradation = str(folder / "degradation")
        else:
            G = None                                   # Vanilla: R sees the clean bicubic LR in training
        m = evaluate_degradation(G, data1)
        result.update({"SWD G-LR": m["swd"], "colour shift": m["colour_shift"],
                       "truth L1 (low-pass)": m.get("truth_l1_lowpass", math.nan)})
    _fit_or_resume(stage2, cfg)
    result.update(_score_sr(*load_sr(folder / "sr"), wild=experiment == "table3"))
    result["seconds"] = round(time.time() - t0, 1)
    if processes()[0] == 0:                        # under torchrun the other ranks score too, but write nothing
        folder.mkdir(parents=True, exist_ok=True)
        result_file.write_text(json.dumps(result, indent=2))
    return result


def _score_sr(R, cfg, wild: bool) -> dict:
    """PSNR/SSIM/SWD of R on held-out faces: the DIC-protocol test set, or the truly degraded wild LR."""
    from selfsr_edu.evaluate import crop_border, super_resolve
    from selfsr_edu.metrics import psnr, ssim
    from selfsr_edu.metrics.swd import swd

    from selfsr_edu.data.settings import sr_pairs

    pairs = sr_pairs("pseudo" if wild else "paired", "test", cfg.n_test, cfg.levels, cfg.lr_size, cfg.data_seed)
    lr, hr = pairs["lr"].float().div(255), pairs["hr"].float().div(255)
    sr = super_resolve(R, lr)
    crop = crop_border(cfg.scale)
    return {"PSNR": psnr(sr, hr, crop_border=crop).mean().item(), "SSIM": ssim(sr, hr, crop_border=crop).mean().item(),
            "SWD SR-HR": swd(sr, hr), "n_test": int(hr.shape[0])}


def run_grid(experiment: str, budget: str = "quick", seeds: int = 3, out: str | Path = "runs/ablate",
             rows: list[str] | None = None, progress: bool = True, threads: int | None = None) -> list[dict]:
    """Every (row, seed) of an experiment, one after another, with one progress bar (ETA) for the grid."""
    from tqdm.auto import tqdm

    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {sorted(EXPERIMENTS)}, got {experiment!r}")
    if budget not in BUDGETS:
        raise ValueError(f"budget must be one of {sorted(BUDGETS)}, got {budget!r}")
    chosen = [r for r in EXPERIMENTS[experiment] if rows is None or r.name in rows or r.slug in rows]
    if rows and len(chosen) != len(rows):
        raise ValueError(f"--rows: unknown row in {rows}; rows are {[r.slug for r in EXPERIMENTS[experiment]]}")
    jobs = [(r, s) for r in chosen for s in range(seeds)]
    results = []
    with tqdm(jobs, desc=f"{experiment} ({budget})", unit="run", disable=not progress or processes()[0] > 0) as bar:
        for row, seed in bar:
            bar.set_postfix_str(f"{row.name}, seed {seed}")
            results.append(run_seed(experiment, row, budget, seed, Path(out), threads=threads))
    return results


def collect(experiment: str, out: str | Path, budget: str) -> list[dict]:
    """Every finished ``result.json`` of ``experiment`` at ``budget`` under ``out``, in the table's row
    order: what a grid produced in pieces (several ``--rows`` runs) adds up to."""
    found = []
    for row in EXPERIMENTS[experiment]:
        for path in sorted((Path(out) / experiment / row.slug).glob("seed*/result.json")):
            result = json.loads(path.read_text())
            if result.get("budget") == budget:
                found.append(result)
    return found


#: Every metric a table can have, in column order, with what its chart's y axis measures and which way is better.
AXIS_LABELS = {"PSNR": "PSNR, dB (higher is better)", "SSIM": "SSIM, 0–1 (higher is better)",
               "SWD SR-HR": "sliced Wasserstein distance (lower is better)",
               "SWD G-LR": "sliced Wasserstein distance (lower is better)",
               "colour shift": "ΔE*ab of the mean Lab colour (lower is better)",
               "truth L1 (low-pass)": "L1 on [0, 1] pixels (lower is better)"}


def table(experiment: str, results: list[dict], budget: str = "quick", folder: str | Path | None = None) -> dict:
    """Aggregate seeds: ``{"rows": [...], "columns", "protocol"}``; each row has ``metric: (mean, std)``,
    ``Δ metric: (mean, low, high)`` against the full model (95 % t interval over paired seeds), the paper's."""
    rows = EXPERIMENTS[experiment]
    metrics = [k for k in AXIS_LABELS if any(k in r for r in results)]
    by_row = {r.name: {res["seed"]: res for res in results if res["row"] == r.name} for r in rows}
    full = by_row[rows[-1].name]
    out = []
    for r in rows:
        seeds = by_row[r.name]
        if not seeds:
            continue
        entry = {"row": r.name, "seeds": len(seeds), "paper": r.paper}
        for m in metrics:
            vals = [s[m] for s in seeds.values() if m in s]
            if not vals:
                continue
            entry[m] = (_mean(vals), _std(vals))
            diffs = [seeds[k][m] - full[k][m] for k in seeds if k in full and m in full[k]]
            if diffs and r is not rows[-1]:
                entry[f"Δ {m}"] = _interval(diffs)
        out.append(entry)
    scale = "×4, 16 → 64, truly degraded wild LR" if experiment == "table3" else "×8, 16 → 128, DIC protocol"
    protocol = (f"{experiment}, budget {budget}: SynthFaces held-out faces, {scale}; PSNR/SSIM on Y (BT.601), "
                f"8-bit, {'4' if experiment == 'table3' else '8'}-px crop; SWD: Laplacian-pyramid sliced "
                f"Wasserstein (weight-free stand-in for FID); Δ: paired difference to {rows[-1].name} over seeds, "
                f"95 % t interval; paper: {'real-world faces' if experiment == 'table3' else 'CelebA'}")
    used = [res for res in results if res["row"] in by_row]
    provenance = {"runs": len(used), "seconds": round(sum(res.get("seconds", 0.0) for res in used), 1),
                  "hardware": sorted({res.get("hardware", "not recorded") for res in used}),
                  "command": f"python -m selfsr_edu ablate {experiment} --budget {budget} --seeds "
                             f"{1 + max((res['seed'] for res in used), default=0)} --out {folder or 'OUT'}"}
    return {"experiment": experiment, "budget": budget, "metrics": metrics, "rows": out, "protocol": protocol,
            "provenance": provenance}


def _interval(diffs: list[float]) -> tuple[float, float, float]:
    """``(mean, low, high)``: d̄ ± t_{0.975, n−1}·s/√n over per-seed differences (NaN bounds for one seed)."""
    mean = _mean(diffs)
    half = t975(len(diffs) - 1) * _std(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else math.nan
    return mean, mean - half, mean + half


def paired_difference(results: list[dict], row: str, against: str, metric: str) -> dict:
    """``row − against`` for ``metric``, paired by seed, over the seeds both rows have: the per-seed differences,
    their mean and its 95 % t interval. :func:`table` does this against the full model; this compares any two
    rows (Table III's Cyc → Cyc + Idt, say)."""
    by = {name: {r["seed"]: r for r in results if r["row"] == name and metric in r} for name in (row, against)}
    for name in (row, against):
        if not by[name]:
            raise ValueError(f"no finished seed of row {name!r} has {metric!r}; rows present: "
                             f"{sorted({r['row'] for r in results})}")
    seeds = sorted(set(by[row]) & set(by[against]))
    if not seeds:
        raise ValueError(f"rows {row!r} and {against!r} share no seed: {sorted(by[row])} vs {sorted(by[against])}")
    diffs = [by[row][k][metric] - by[against][k][metric] for k in seeds]
    mean, low, high = _interval(diffs)
    return {"row": row, "against": against, "metric": metric, "seeds": seeds, "per_seed": diffs,
            "mean": mean, "low": low, "high": high}


def _mean(v):
    return sum(v) / len(v)


def _std(v):
    return math.sqrt(sum((x - _mean(v)) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0


def markdown(tab: dict) -> str:
    """The table as Markdown: mean ± std per metric, Δ with its interval, the paper's columns."""
    paper_cols = sorted({k for r in tab["rows"] for k in r["paper"]}, key=["PSNR", "SSIM", "LPIPS", "FID",
                                                                            "FID‡"].index)
    head = ["row", "seeds"] + tab["metrics"] + [f"Δ {m}" for m in tab["metrics"][:2]] + [f"paper {c}" for c in
                                                                                         paper_cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in tab["rows"]:
        cells = [r["row"], str(r["seeds"])]
        cells += [f"{r[m][0]:.4g} ± {r[m][1]:.2g}" if m in r else "—" for m in tab["metrics"]]
        cells += [("—" if f"Δ {m}" not in r else f"{r[f'Δ {m}'][0]:+.3g} (one seed: no interval)"
                   if math.isnan(r[f"Δ {m}"][1]) else
                   f"{r[f'Δ {m}'][0]:+.3g} [{r[f'Δ {m}'][1]:+.3g}, {r[f'Δ {m}'][2]:+.3g}]") for m in tab["metrics"][:2]]
        cells += [f"{r['paper'][c]:g}" if c in r["paper"] else "—" for c in paper_cols]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + f"\n\n{tab['protocol']}\n"
    if "provenance" in tab:
        pv = tab["provenance"]
        text += (f"\n{pv['runs']} runs, {pv['seconds'] / 3600:.1f} h of wall time recorded in their result.json "
                 f"files, on: {'; '.join(pv['hardware'])}. Reproduce: `{pv['command']}`\n")
    return text


def write_table(tab: dict, folder: str | Path) -> Path:
    """``table.md``, ``table.json`` and ``table.png`` (means with std error bars) in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "table.md").write_text(markdown(tab))
    (folder / "table.json").write_text(json.dumps(tab, indent=2))
    shown = tab["metrics"][:3]
    fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 3.4), squeeze=False)
    for ax, m in zip(axes[0], shown):
        rows = [r for r in tab["rows"] if m in r]
        ax.bar(range(len(rows)), [r[m][0] for r in rows], yerr=[r[m][1] for r in rows], capsize=4, color="tab:blue")
        ax.set_xticks(range(len(rows)), [r["row"] for r in rows], rotation=25, ha="right", fontsize=8)
        ax.set_title(m)
        ax.set_ylabel(AXIS_LABELS[m], fontsize=8)
        if m in ("PSNR", "SSIM"):
            lo = min(r[m][0] - r[m][1] for r in rows)
            ax.set_ylim(lo - 0.1 * abs(lo) if m == "SSIM" else lo - 1.0, None)
    fig.suptitle(f"{tab['experiment']} ({tab['budget']} budget; mean ± std over seeds)", fontsize=10)
    fig.tight_layout()
    fig.savefig(folder / "table.png", dpi=100)
    plt.close(fig)
    return folder / "table.md"


__all__ = ["EXPERIMENTS", "BUDGETS", "Row", "hardware", "run_grid", "run_seed", "collect", "table", "markdown",
           "write_table"]
