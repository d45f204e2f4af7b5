"""Run folders and checkpoints, shared by both stages (used by :func:`selfsr_edu.train.loop.fit`).

A run folder looks like::

    runs/deg/
      run.json                     # marker: the stage, the config (the truth on --resume), changes made on resume
      history.jsonl                # one JSON line of named losses per logged iteration
      metrics.json                 # held-out scores, written when the run finishes
      .lock                        # while a process writes the folder (holds its pid)
      samples/step_0000500.png     # sample grids
      checkpoints/
        latest                     # text file: name of the newest checkpoint
        step_0000500/
          G.safetensors            # weights: safetensors, no code is executed on load
          D.safetensors
          state.pt                 # optimisers, RNG states, step, extra (weights_only=True)

A checkpoint is written into a temporary folder and renamed into place (an interrupted save
leaves no half-written checkpoint); the newest ``keep`` are kept.
"""
from __future__ import annotations

import contextlib
import json
import os
import pickle
import random
import shutil
from pathlib import Path
from typing import Mapping

import numpy as np
import torch
from safetensors.torch import load_file, save_file

RUN_MARKER = "run.json"


@contextlib.contextmanager
def open_run_dir(out: str | os.PathLike, record: Mapping, resume: bool = False, overwrite: bool = False):
    """Lock a run folder (``.lock``, created exclusively, holds our pid; a dead process's lock is taken
    over), prepare it and yield its path. New folder: ``run.json`` is written; ``resume``: reopened
    untouched; ``overwrite``: emptied first, only if it holds ``run.json`` (we never delete a folder we
    did not make); otherwise :class:`FileExistsError`. A folder made here is removed again if the
    body fails before its first checkpoint."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"run folder {out} exists and is not a folder")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    lock = out / ".lock"
    _take_lock(lock)
    try:
        entries = [p for p in out.iterdir() if p.name != ".lock"]
        is_run = (out / RUN_MARKER).exists()
        if resume and not is_run:
            raise FileNotFoundError(f"cannot resume: {out} has no {RUN_MARKER}; it is not a selfsr_edu run folder")
        if entries and not resume:
            if not overwrite:
                raise FileExistsError(f"run folder {out} already exists and is not empty; pass --resume to "
                                      "continue it or --overwrite to start again (this deletes it)")
            if not is_run:
                raise FileExistsError(f"refusing to overwrite {out}: it is not a selfsr_edu run folder "
                                      f"(no {RUN_MARKER}); choose another --out")
            for p in entries:
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        if not resume:
            write_run_record(out, record)
        yield out
    except BaseException:
        if created and not (out / "checkpoints").exists():
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        if lock.exists():
            lock.unlink()


def _take_lock(lock: Path) -> None:
    for _ in range(2):
        try:
            with os.fdopen(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY), "w") as f:
                return f.write(str(os.getpid())) and None
        except FileExistsError:
            pid = lock.read_text().strip()
            try:
                os.kill(int(pid), 0)                  # signal 0: is that process alive?
            except (ValueError, ProcessLookupError):
                lock.unlink(missing_ok=True)          # left by a process that no longer runs
                continue
            except PermissionError:                   # alive, and someone else's
                pass
            raise FileExistsError(f"run folder {lock.parent} is being written by process {pid} "
                                  f"(lock file {lock}); wait for it or stop it first") from None
    raise FileExistsError(f"could not lock {lock}")


def write_run_record(run_dir: str | os.PathLike, record: Mapping) -> None:
    """Write ``run.json`` atomically."""
    _atomic_write_text(Path(run_dir) / RUN_MARKER, json.dumps(dict(record), indent=2, sort_keys=True))


def read_run_record(run_dir: str | os.PathLike) -> dict:
    """``run.json`` of a run folder: ``{"stage", "config", "changes"}``."""
    path = Path(run_dir) / RUN_MARKER
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {run_dir} is not a selfsr_edu run folder")
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); it is damaged") from None
    if isinstance(record, dict) and isinstance(record.get("config"), dict) and "stage" in record:
        return record
    raise ValueError(f"{path} is not a selfsr_edu run record (needs 'stage' and 'config')")


def save_weights(module: torch.nn.Module, path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write ``module.state_dict()`` to a ``.safetensors`` file (atomically)."""
    path = Path(path)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in module.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=dict(metadata or {}))
    os.replace(tmp, path)


def load_weights(module: torch.nn.Module, path: str | os.PathLike, strict: bool = True) -> torch.nn.Module:
    """Load a ``.safetensors`` file into ``module`` (no code is executed); an incompatible file raises
    a :class:`ValueError` naming the file and its missing, unexpected and mis-shaped tensors."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"weights file {path} does not exist")
    try:
        tensors = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types
        raise ValueError(f"{path} is not a readable safetensors file: {exc}") from exc
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ValueError(f"{path} holds NaN/inf weights (e.g. {bad[:3]}): it is damaged or from a diverged run")
    own = module.state_dict()
    shapes = [f"{k}: file {tuple(tensors[k].shape)} vs model {tuple(own[k].shape)}"
              for k in sorted(set(own) & set(tensors)) if tensors[k].shape != own[k].shape]
    problems = [f"missing tensors {sorted(set(own) - set(tensors))[:3]}" if strict and set(own) - set(tensors) else "",
                f"unexpected tensors {sorted(set(tensors) - set(own))[:3]}" if strict and set(tensors) - set(own) else "",
                f"{len(shapes)} shape mismatches (e.g. {shapes[:3]})" if shapes else ""]
    if any(problems):
        raise ValueError(f"checkpoint {path} does not fit {type(module).__name__}: "
                         + "; ".join(p for p in problems if p) + ". Was it saved from another preset or model?")
    module.load_state_dict(tensors, strict=strict)
    return module


def rng_state() -> dict:
    """Python, NumPy and torch RNG states in a ``weights_only``-loadable form."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"python": random.getstate(), "torch": torch.get_rng_state(),
             "numpy": [name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping) -> None:
    """Inverse of :func:`rng_state`."""
    random.setstate(state["python"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(run_dir: str | os.PathLike, step: int, modules: Mapping[str, torch.nn.Module],
                    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
                    extra: Mapping | None = None, keep: int = 3) -> Path:
    """Save weights (one ``.safetensors`` per module), optimiser and RNG state
    at ``step`` under ``run_dir/checkpoints/step_XXXXXXX`` and point ``latest`` at it."""
    root, name = Path(run_dir) / "checkpoints", f"step_{step:07d}"
    final, tmp = root / name, root / (name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for key, module in modules.items():
        save_weights(module, tmp / f"{key}.safetensors", metadata={"step": str(step)})
    torch.save({"step": int(step), "optimizers": {k: opt.state_dict() for k, opt in (optimizers or {}).items()},
                "rng": rng_state(), "extra": dict(extra or {})}, tmp / "state.pt")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    _atomic_write_text(root / "latest", name)
    for old in sorted(p for p in root.glob("step_*") if p.is_dir() and not p.name.endswith(".tmp"))[:-keep]:
        shutil.rmtree(old)
    return final


def latest_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    """The newest complete checkpoint folder of a run, or ``None``."""
    root = Path(run_dir) / "checkpoints"
    pointer = root / "latest"
    if pointer.exists() and (root / pointer.read_text().strip() / "state.pt").exists():
        return root / pointer.read_text().strip()
    done = sorted(p for p in root.glob("step_*") if (p / "state.pt").exists() and not p.name.endswith(".tmp"))
    return done[-1] if done else None


def resolve_checkpoint(path: str | os.PathLike) -> tuple[Path, Path]:
    """``(run_dir, checkpoint_dir)`` for a run folder (its latest checkpoint) or
    for one checkpoint folder (``run/checkpoints/step_XXXXXXX``)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"run or checkpoint {path} does not exist")
    if (path / RUN_MARKER).exists() or (path / "checkpoints").exists():
        ckpt = latest_checkpoint(path)
        if ckpt is None:
            raise FileNotFoundError(f"run folder {path} has no complete checkpoint yet")
        return path, ckpt
    if (path / "state.pt").exists():
        return path.parent.parent, path
    raise FileNotFoundError(f"{path} is neither a run folder ({RUN_MARKER}) nor a checkpoint folder (state.pt)")


def load_checkpoint(ckpt: str | os.PathLike, modules: Mapping[str, torch.nn.Module],
                    optimizers: Mapping[str, torch.optim.Optimizer] | None = None) -> dict:
    """Restore what :func:`save_checkpoint` wrote into ``modules``/``optimizers`` (``ckpt``: a checkpoint
    folder, or a run folder for its latest); returns ``{"step", "extra"}``."""
    _, ckpt = resolve_checkpoint(ckpt)
    for key, module in modules.items():
        load_weights(module, ckpt / f"{key}.safetensors")
    try:
        state = torch.load(ckpt / "state.pt", map_location="cpu", weights_only=True)
    except (EOFError, RuntimeError, pickle.UnpicklingError, ValueError) as exc:
        raise ValueError(f"{ckpt / 'state.pt'} is damaged or not a selfsr_edu checkpoint ({type(exc).__name__}: "
                         f"{exc}); resume from an older checkpoint folder or start again") from None
    for key, opt in (optimizers or {}).items():
        if key not in state["optimizers"]:
            raise ValueError(f"checkpoint {ckpt} has no optimiser state named {key!r}")
        opt.load_state_dict(state["optimizers"][key])
    set_rng_state(state["rng"])
    return {"step": state["step"], "extra": state["extra"]}


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
