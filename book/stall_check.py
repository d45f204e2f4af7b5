"""Run every notebook headless many times and look for stalls: the check behind issue 14.

    SELFSR_QUICK=1 python book/stall_check.py --runs 20 --out docs/stall_check.json
    SELFSR_QUICK=1 python book/stall_check.py --runs 5 --only '02_*' --plain   # control: stock nbclient

Why: executing notebooks headless, an ``interact`` cell once took the full 600-s cell timeout
although the kernel had finished it in seconds (the reply sat unread while nbclient waited in
one long ``get_msg`` call; jupyter/nbclient#312). ``book/build.py`` and the root ``conftest.py``
(nbval) now wait in 1-s slices. This script executes each notebook ``--runs`` times in a fresh
kernel (round robin, so every notebook meets the same background load), with the same client
``make book`` uses (or stock nbclient with ``--plain``), and records for each run the total
seconds, every cell's seconds and the load average.

A run *stalls* when one of its cells takes ``--stall`` seconds (default 60) longer than that
cell's median over all runs of the notebook: a stuck reply costs the cell's whole timeout, so
it stands out by minutes, while ordinary jitter under load is seconds. Load: what else runs on
the machine (training in the background, say), plus ``--spin N`` busy-looping processes this
script starts for the duration.

Writes a JSON report (per notebook: run seconds, slowest cell per run, stalls) and prints a
table. Exit status 1 if any run failed or stalled.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import ROOT, BuildError, _SlicedPollClient, execute, find_notebooks  # noqa: E402


def _spin(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def stalls(runs: list[dict], threshold: float) -> list[dict]:
    """Cells of ``runs`` (each ``{"cells": {index: seconds}}``) that took ``threshold`` seconds
    longer than the same cell's median over the runs: ``{"run", "cell", "seconds", "median"}``."""
    found = []
    cells = {c for r in runs for c in r["cells"]}
    for c in sorted(cells):
        times = [r["cells"][c] for r in runs if c in r["cells"]]
        median = statistics.median(times)
        for k, r in enumerate(runs):
            if c in r["cells"] and r["cells"][c] > median + threshold:
                found.append({"run": k, "cell": c + 1, "seconds": round(r["cells"][c], 1), "median": round(median, 1)})
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=20, help="executions of each notebook (default 20)")
    p.add_argument("--only", action="append", metavar="PATTERN", help="only notebooks whose file name matches")
    p.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600, as make test)")
    p.add_argument("--stall", type=float, default=60.0, help="seconds over a cell's median that count as a stall")
    p.add_argument("--spin", type=int, default=0, help="busy-looping processes to add as load (default 0)")
    p.add_argument("--plain", action="store_true", help="stock nbclient (no 1-s slices): the control")
    p.add_argument("--out", type=Path, help="JSON report (default: print only)")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be >= 1")
    notebooks = find_notebooks(args.notebooks, args.only, None)
    if not notebooks:
        p.error(f"no notebooks matching {args.only} in {args.notebooks}")
    client = NotebookClient if args.plain else _SlicedPollClient
    stop = mp.Event()
    spinners = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(args.spin)]
    for s in spinners:
        s.start()
    results: dict[str, list[dict]] = {nb.name: [] for nb in notebooks}
    failures: list[str] = []
    start = time.time()
    try:
        for k in range(args.runs):
            for nb in notebooks:
                cells: dict[int, float] = {}
                load = os.getloadavg()[0]
                try:
                    _, seconds, _ = execute(nb, args.timeout, "python3", cell_times=cells, client_class=client)
                    ok = True
                except BuildError as exc:
                    seconds, ok = float("nan"), False
                    failures.append(f"run {k}: {exc}")
                results[nb.name].append({"seconds": round(seconds, 1), "ok": ok, "load": round(load, 2),
                                         "cells": {i: round(t, 2) for i, t in cells.items()}})
                slowest = max(cells.values()) if cells else float("nan")
                print(f"[{time.time() - start:6.0f} s] run {k + 1}/{args.runs} {nb.name:32s} {seconds:6.1f} s "
                      f"(slowest cell {slowest:5.1f} s, load {load:.2f}){'' if ok else '  FAILED'}", flush=True)
    finally:
        stop.set()
        for s in spinners:
            s.join()
    report = {"client": "nbclient (stock)" if args.plain else "book/build.py's 1-s sliced polling",
              "runs": args.runs, "stall_threshold_s": args.stall, "spin": args.spin, "timeout_s": args.timeout,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "quick": os.environ.get("SELFSR_QUICK"),
              "wall_s": round(time.time() - start), "failures": failures, "notebooks": {}}
    print(f"\n{'notebook':32s} {'runs':>4s} {'median s':>8s} {'max s':>6s} {'max cell s':>10s} {'load':>9s} stalls")
    bad = bool(failures)
    for name, runs in results.items():
        done = [r for r in runs if r["ok"]]
        found = stalls(done, args.stall)
        bad |= bool(found)
        seconds = [r["seconds"] for r in done]
        slowest = [max(r["cells"].values(), default=0.0) for r in done]
        loads = [r["load"] for r in runs]
        report["notebooks"][name] = {"seconds": seconds, "slowest_cell_s": slowest, "load": loads, "stalls": found}
        if seconds:
            print(f"{name:32s} {len(done):4d} {statistics.median(seconds):8.1f} {max(seconds):6.1f} "
                  f"{max(slowest):10.1f} {min(loads):4.1f}-{max(loads):<4.1f} {len(found)}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
        print(f"written: {args.out}")
    for f in failures:
        print(f, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
