"""Add a trained run to the shipped reference checkpoints (``selfsr_edu/weights/``).

    python benchmarks/register_reference.py runs/reference/sr_scb small-scb \
        --command "python -m selfsr_edu train-sr ..." --hardware "2-core x86-64 CPU, 1 thread" --wall-time 3600

Copies the run's weights (R's EMA for ``train-sr``, G for ``train-degradation``) to
``selfsr_edu/weights/NAME.safetensors``, records its sha256, the run's config, the command,
iterations, hardware and wall time, then re-scores it on held-out faces with
:func:`selfsr_edu.reference.score` and records those scores (the test suite re-scores every
entry and fails if it no longer matches). Refuses to replace an entry unless ``--replace``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import shutil

from selfsr_edu import reference
from selfsr_edu.data.io import sha256
from selfsr_edu.train.checkpoint import read_run_record, resolve_checkpoint


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="a finished train-sr or train-degradation run folder")
    p.add_argument("name", help="registry name, e.g. small-scb, small-concat, ff-idt, cyc")
    p.add_argument("--command", required=True, help="the exact command that trained it")
    p.add_argument("--hardware", required=True, help="where it trained, e.g. '2-core x86-64 CPU, 1 thread'")
    p.add_argument("--wall-time", type=float, required=True, help="training wall time in seconds")
    p.add_argument("--n", type=int, default=100, help="held-out faces to score an R on (default 100)")
    p.add_argument("--replace", action="store_true", help="replace an existing entry of that name")
    p.add_argument("--notes", default="", help="anything else a reader needs to reproduce it")
    p.add_argument("--half", action="store_true", help="store the weights as float16 (half the size; the "
                                                        "recorded scores are those of the stored file)")
    args = p.parse_args()

    run, ckpt = resolve_checkpoint(args.run)
    record = read_run_record(run)
    kind = "sr" if record["stage"] == "train-sr" else "degradation"
    weights = ("R_ema" if (ckpt / "R_ema.safetensors").exists() else "R") if kind == "sr" else "G"
    reg = reference.registry()
    if args.name in reg and not args.replace:
        raise SystemExit(f"error: {args.name} is already registered; pass --replace to retrain it")
    reference.WEIGHTS.mkdir(exist_ok=True)
    target = reference.WEIGHTS / f"{args.name}.safetensors"
    if args.half:
        from safetensors.torch import load_file, save_file

        save_file({k: v.half() for k, v in load_file(str(ckpt / f"{weights}.safetensors")).items()}, str(target))
    else:
        shutil.copyfile(ckpt / f"{weights}.safetensors", target)
    reg[args.name] = {"kind": kind, "file": target.name, "sha256": sha256(target),
                      "config": record["config"], "weights": weights, "iterations": int(ckpt.name.split("_")[1]),
                      "command": args.command, "hardware": args.hardware, "wall_time_s": round(args.wall_time),
                      "trained": datetime.date.today().isoformat(), "stored_as": "float16" if args.half else
                      "float32", "notes": args.notes, "scores": {}}
    reference.REGISTRY_FILE.write_text(json.dumps(reg, indent=2, sort_keys=True) + "\n")
    scores = reference.score(args.name, args.n)
    reg[args.name]["scores"] = scores
    reference.REGISTRY_FILE.write_text(json.dumps(reg, indent=2, sort_keys=True) + "\n")
    print(f"registered {args.name}: {target} ({target.stat().st_size / 1e6:.2f} MB)\n{json.dumps(scores, indent=2)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
