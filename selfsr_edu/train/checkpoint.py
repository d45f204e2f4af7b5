"""Run folders, checkpoints and the NaN guard, shared by both trainers.

A run folder looks like::

    runs/deg/
      run.json                     # marker + the config the run started with
      samples/step_0000500.png     # sample grids (written by the trainers)
      checkpoints/
        latest                     # text file: name of the newest checkpoint
        step_0000500/
          G.safetensors            # weights: safetensors, no code is executed on load
          D.safetensors
          state.pt                 # optimisers, RNG states, step, extra (weights_only=True)

Checkpoints are written into a temporary folder and renamed into place, so an
interrupted save never leaves a half-written checkpoint behind; the newest
``keep`` checkpoints are kept. ``state.pt`` holds only tensors, numbers,
strings, lists and dicts so it loads with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import json
import math
import os
import random
import shutil
from pathlib import Path
from typing import Mapping

import numpy as np
import torch
from safetensors.torch import load_file, save_file

RUN_MARKER = "run.json"


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or inf; training stopped and the last good checkpoint was kept."""


# --------------------------------------------------------------------------
# run folders
# --------------------------------------------------------------------------


def prepare_run_dir(out: str | os.PathLike, config: Mapping | None = None, resume: bool = False,
                    overwrite: bool = False) -> Path:
    """Create (or reopen) a run folder and write ``run.json``.

    * new or empty folder: created;
    * existing run and ``resume=True``: reopened untouched;
    * existing run and ``overwrite=True``: its contents are deleted first (only
      if it contains ``run.json``: we never delete a folder we did not make);
    * anything else: :class:`FileExistsError` naming the folder and the flags.
    """
    out = Path(out)
    if resume and overwrite:
        raise ValueError("choose either resume or overwrite, not both")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"run folder {out} exists and is not a folder")
    nonempty = out.exists() and any(out.iterdir())
    if nonempty:
        is_run = (out / RUN_MARKER).exists()
        if resume:
            if not is_run:
                raise FileNotFoundError(f"cannot resume: {out} has no {RUN_MARKER}, it is not a selfsr_edu run")
            return out
        if overwrite:
            if not is_run:
                raise FileExistsError(
                    f"refusing to overwrite {out}: it is not a selfsr_edu run folder (no {RUN_MARKER}); "
                    "choose another --out")
            shutil.rmtree(out)
        else:
            raise FileExistsError(
                f"run folder {out} already exists and is not empty; pass --resume to continue it "
                "or --overwrite to start again (this deletes it)")
    elif resume:
        raise FileNotFoundError(f"cannot resume: run folder {out} does not exist or is empty")
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(out / RUN_MARKER, json.dumps(_jsonable(dict(config or {})), indent=2, sort_keys=True))
    return out


def read_run_config(run_dir: str | os.PathLike) -> dict:
    """The config stored in ``run_dir/run.json``."""
    path = Path(run_dir) / RUN_MARKER
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: {run_dir} is not a selfsr_edu run folder")
    return json.loads(path.read_text())


# --------------------------------------------------------------------------
# weights (safetensors)
# --------------------------------------------------------------------------


def save_weights(module: torch.nn.Module, path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write ``module.state_dict()`` to a ``.safetensors`` file (atomically)."""
    path = Path(path)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in module.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=dict(metadata or {}))
    os.replace(tmp, path)


def load_weights(module: torch.nn.Module, path: str | os.PathLike, strict: bool = True) -> torch.nn.Module:
    """Load a ``.safetensors`` file into ``module``; no code is executed.

    An incompatible file (other architecture or preset) raises a
    :class:`ValueError` that names the file and lists missing, unexpected and
    mis-shaped tensors.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"weights file {path} does not exist")
    try:
        tensors = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types
        raise ValueError(f"{path} is not a readable safetensors file: {exc}") from exc
    own = module.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    shapes = [f"{k}: file {tuple(tensors[k].shape)} vs model {tuple(own[k].shape)}"
              for k in sorted(set(own) & set(tensors)) if tensors[k].shape != own[k].shape]
    if shapes or (strict and (missing or unexpected)):
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} tensors (e.g. {missing[:3]})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} tensors (e.g. {unexpected[:3]})")
        if shapes:
            parts.append(f"{len(shapes)} shape mismatches (e.g. {shapes[:3]})")
        raise ValueError(
            f"checkpoint {path} does not fit {type(module).__name__}: " + "; ".join(parts)
            + ". Was it saved from another preset or model?")
    module.load_state_dict(tensors, strict=strict)
    return module


# --------------------------------------------------------------------------
# full checkpoints (weights + optimisers + RNG)
# --------------------------------------------------------------------------


def rng_state() -> dict:
    """Python, NumPy and torch RNG states in a ``weights_only``-loadable form."""
    np_state = np.random.get_state()
    state = {
        "python": _to_lists(random.getstate()),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), int(np_state[2]),
                  int(np_state[3]), float(np_state[4])],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping) -> None:
    """Inverse of :func:`rng_state`."""
    random.setstate(_to_tuples(state["python"]))
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
    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    name = f"step_{step:07d}"
    final = root / name
    tmp = root / (name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    for key, module in modules.items():
        save_weights(module, tmp / f"{key}.safetensors", metadata={"step": str(step)})
    state = {
        "step": int(step),
        "optimizers": {k: opt.state_dict() for k, opt in (optimizers or {}).items()},
        "rng": rng_state(),
        "extra": _jsonable_tensors(dict(extra or {})),
    }
    torch.save(state, tmp / "state.pt")
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
    if pointer.exists():
        path = root / pointer.read_text().strip()
        if (path / "state.pt").exists():
            return path
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
                    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
                    restore_rng: bool = True) -> dict:
    """Restore what :func:`save_checkpoint` wrote; returns ``{"step", "extra"}``.

    ``ckpt`` is a checkpoint folder or a run folder (its latest checkpoint is used).
    """
    _, ckpt = resolve_checkpoint(ckpt)
    for key, module in modules.items():
        load_weights(module, ckpt / f"{key}.safetensors")
    state = torch.load(ckpt / "state.pt", map_location="cpu", weights_only=True)
    for key, opt in (optimizers or {}).items():
        if key not in state["optimizers"]:
            raise ValueError(f"checkpoint {ckpt} has no optimiser state named {key!r}")
        opt.load_state_dict(state["optimizers"][key])
    if restore_rng:
        set_rng_state(state["rng"])
    return {"step": state["step"], "extra": state["extra"]}


# --------------------------------------------------------------------------
# NaN guard
# --------------------------------------------------------------------------


def check_finite(losses: Mapping[str, torch.Tensor | float], step: int, run_dir: str | os.PathLike | None = None) -> None:
    """Raise :class:`NonFiniteLossError` if any loss is NaN or inf.

    The message names the losses, the step and (when given) the last good
    checkpoint, which is left untouched.
    """
    bad = {}
    for name, value in losses.items():
        v = float(value.detach()) if torch.is_tensor(value) else float(value)
        if not math.isfinite(v):
            bad[name] = v
    if bad:
        where = ""
        if run_dir is not None:
            last = latest_checkpoint(run_dir)
            where = (f" The last good checkpoint is {last}; resume from it with a lower learning rate."
                     if last else " No checkpoint had been written yet.")
        raise NonFiniteLossError(f"non-finite loss at step {step}: {bad}.{where}")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _to_lists(x):
    if isinstance(x, (tuple, list)):
        return [_to_lists(v) for v in x]
    return x


def _to_tuples(x):
    if isinstance(x, list):
        return tuple(_to_tuples(v) for v in x)
    return x


def _jsonable(x):
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    if isinstance(x, Path):
        return str(x)
    return repr(x)


def _jsonable_tensors(x):
    """Like :func:`_jsonable` but keeps tensors (for ``state.pt``)."""
    if torch.is_tensor(x):
        return x.detach().cpu()
    if isinstance(x, Mapping):
        return {str(k): _jsonable_tensors(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable_tensors(v) for v in x]
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return repr(x)
