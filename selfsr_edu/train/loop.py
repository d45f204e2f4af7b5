"""One training loop for both stages: ``fit(stage, config)``.

A *stage* (:mod:`~selfsr_edu.train.stage1`, :mod:`~selfsr_edu.train.stage2`) is a module
with the same small contract::

    Config, SCHEDULES               a dataclass of the paper's defaults; named presets of it
    load_data(config)               -> data (everything read from disk or rendered)
    init(config, data, ctx)         -> State (models, optimisers, AMP scalers, EMA)
    draw_batch(data, config, t, ctx) -> the batch of iteration t (from step_generator(seed, t))
    step(state, batch, t)           -> named losses; D then G/R, each through optimise()
    samples(state, data, t) -> image rows of a sample grid; evaluate(state, data) -> held-out metrics

``fit`` owns everything else, so a student reads one ``step`` per stage and trusts the rest:

* config, data and models are checked *before* the run folder exists (a failed start leaves
  nothing behind); a lock file gives one run folder one writer;
* resume: ``run.json`` is the truth; only ``iterations`` (extend), ``lr`` and where it runs
  (``device``, ``threads``, ``progress``) may change, each change recorded in ``run.json``;
  every random choice of iteration ``t`` comes from ``step_generator(seed, t)``, so a resumed
  CPU run ends bit-identical to an uninterrupted one;
* the NaN guard: :func:`optimise` refuses a non-finite loss *before* any optimiser step uses
  it; the run stops and the last checkpoint on disk stays as it was;
* Ctrl-C: the iteration finishes (a second Ctrl-C abandons it), a consistent checkpoint is
  saved and :class:`TrainingInterrupted` raised;
* history as JSON lines, sample grids, checkpoint rotation, a tqdm bar (s/it, ETA).
"""
from __future__ import annotations

import json
import math
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import torch
from tqdm.auto import tqdm

from selfsr_edu.data.io import save_grid
from selfsr_edu.train import distributed
from selfsr_edu.train.checkpoint import (latest_checkpoint, load_checkpoint, open_run_dir, read_run_record,
                                         save_checkpoint, write_run_record)

#: What ``--resume`` may change; everything else in ``run.json`` is fixed.
RESUMABLE_CHANGES = ("iterations", "lr")
RUN_OPTIONS = ("device", "threads", "progress")


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or inf; training stopped before any optimiser stepped on it."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C: the run stopped; its message says which checkpoint holds the last consistent state."""


@dataclass
class RunConfig:
    """The fields every run has (each stage's ``Config`` adds its own)."""

    out: str | None = None              # run folder (None: train in memory, nothing written)
    schedule: str = "custom"            # the named preset this config came from
    iterations: int = 1000
    batch: int = 48
    lr: float = 2e-4
    betas: tuple = (0.9, 0.99)
    lr_decay_start: float = 1.0         # fraction of iterations after which lr falls linearly to 0 (1: never)
    seed: int = 0                       # initial weights and per-iteration batches
    data_seed: int = 0                  # which faces
    sample_every: int = 1000            # 0: no sample grids
    ckpt_every: int = 5000
    log_every: int = 10
    keep: int = 3                       # checkpoints kept
    device: str | None = None           # None: CUDA when available
    threads: int | None = None          # torch CPU threads
    progress: bool = True

    def check_choices(self, **allowed) -> None:
        """``ValueError`` naming the field unless each ``field=choices`` holds one of them."""
        for name, choices in allowed.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}, got {getattr(self, name)!r}")

    def validate(self):
        for name in ("iterations", "batch", "ckpt_every", "log_every", "keep"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.sample_every < 0 or not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"sample_every must be >= 0 and lr a positive number, got {self.sample_every}, {self.lr}")
        if not 0.0 <= self.lr_decay_start <= 1.0:
            raise ValueError(f"lr_decay_start must be in [0, 1], got {self.lr_decay_start}")
        if self.device is not None and (str(self.device).split(":")[0] not in ("cpu", "cuda") or
                                        str(self.device).startswith("cuda") and not torch.cuda.is_available()):
            raise ValueError(f"device must be cpu or cuda (with a visible GPU), got {self.device!r}")
        self.betas = tuple(self.betas)
        return self

    @classmethod
    def from_dict(cls, d: dict):
        """Build from a dict; unknown keys are an error that names them."""
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown {cls.__name__} fields: {unknown}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    @classmethod
    def from_schedule(cls, schedules: dict, name: str, **overrides):
        """A named schedule (a dict of field values) with keyword overrides, validated."""
        if name not in schedules:
            raise ValueError(f"schedule must be one of {sorted(schedules)}, got {name!r}")
        return cls.from_dict({**schedules[name], "schedule": name, **overrides}).validate()


@dataclass
class State:
    """What one stage's ``step`` works on."""

    config: RunConfig
    ctx: distributed.DistContext
    modules: dict                        # name -> module, saved in every checkpoint
    optimizers: dict                     # name -> optimiser, saved in every checkpoint
    train: dict = field(default_factory=dict)     # the modules as the step calls them (DDP-wrapped)
    scalers: dict = field(default_factory=dict)   # AMP gradient scalers (CUDA fp16 only)
    extra: dict = field(default_factory=dict)     # anything else a stage keeps (e.g. a frozen G)


@dataclass
class FitResult:
    """What :func:`fit` returns."""

    config: RunConfig
    run_dir: Path | None
    step: int
    state: State
    history: list                        # one dict per logged iteration
    metrics: dict | None
    seconds_per_iteration: float
    data: object = field(repr=False, default=None)

    @property
    def models(self) -> dict:
        return self.state.modules

    def curves(self, *names: str) -> dict:
        """History as columns: ``{"step": [...], name: [...]}`` (NaN where a row lacks a name)."""
        names = names or sorted({k for row in self.history for k in row} - {"step"})
        return {k: [row.get(k, math.nan) for row in self.history] for k in ("step", *names)}


def step_generator(seed: int, t: int) -> torch.Generator:
    """The generator of iteration ``t``'s random choices (both stages)."""
    return torch.Generator().manual_seed((int(seed) * 1_000_003 + int(t)) % (2**63))


def learning_rate(t: int, cfg: RunConfig) -> float:
    """``lr`` until ``lr_decay_start · iterations``, then linearly to 0 at ``iterations``."""
    start = cfg.lr_decay_start * cfg.iterations
    return cfg.lr if t < start else cfg.lr * max(0.0, (cfg.iterations - t) / max(cfg.iterations - start, 1e-12))


def optimise(state: State, name: str, loss: torch.Tensor, t: int) -> None:
    """zero_grad → backward → step of optimiser ``name``, after the NaN guard: a non-finite ``loss``
    (on any process) raises :class:`NonFiniteLossError` before any optimiser step uses it."""
    bad = ~torch.isfinite(loss.detach()).all()
    if state.ctx.enabled:
        bad = distributed.all_reduce_mean(bad.float(), state.ctx) > 0
    if bool(bad):
        raise NonFiniteLossError(f"non-finite loss {name!r} ({float(loss.detach()):.4g}) at iteration {t + 1}")
    opt, scaler = state.optimizers[name], state.scalers.get(name)
    opt.zero_grad(set_to_none=True)
    (loss if scaler is None else scaler.scale(loss)).backward()
    if scaler is None:
        opt.step()
    else:
        scaler.step(opt)
        scaler.update()


def resume_config(stage, out: str | Path, **changes):
    """The config stored in ``out/run.json`` with the changes resume allows (``iterations``, ``lr``,
    ``device``, ``threads``, ``progress``); any other change is a :class:`ValueError` naming it."""
    record = read_run_record(out)
    if record["stage"] != stage.NAME:
        raise ValueError(f"{out} is a {record['stage']} run, not {stage.NAME}")
    stored = stage.Config.from_dict(record["config"])
    cfg = replace(stored, out=str(out), **changes)
    _changes(stored, cfg)
    return cfg.validate()


def _changes(stored: RunConfig, cfg: RunConfig) -> dict:
    """``{field: [stored, new]}`` for the fields ``cfg`` changes; refuses what resume may not change."""
    changes = {f.name: [getattr(stored, f.name), getattr(cfg, f.name)] for f in fields(cfg)
               if f.name != "out" and getattr(stored, f.name) != getattr(cfg, f.name)}
    bad = sorted(k for k in changes if k not in RESUMABLE_CHANGES + RUN_OPTIONS)
    if bad:
        shown = ", ".join(f"--{k.replace('_', '-')} (run.json has {changes[k][0]!r})" for k in bad)
        raise ValueError(f"cannot change {shown} on --resume: run.json is the truth; only --iterations (to "
                         "extend) and --lr may change. Start a new run (another --out) to change the rest")
    if cfg.iterations < stored.iterations:
        raise ValueError(f"--iterations on --resume can only extend the run (run.json has {stored.iterations})")
    return changes


class _StopOnCtrlC:
    """First Ctrl-C: finish the current iteration, then stop. Second: abandon it (KeyboardInterrupt)."""

    def __enter__(self):
        self.requested, self.main = False, threading.current_thread() is threading.main_thread()
        self._old = signal.signal(signal.SIGINT, self._handle) if self.main else None
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self.main:
            signal.signal(signal.SIGINT, self._old)


def fit(stage, config, resume: bool = False, overwrite: bool = False, stop_after: int | None = None,
        data=None) -> FitResult:
    """Train one stage (module docstring). ``resume``: continue ``config.out`` (``config`` may differ from
    ``run.json`` only as :func:`resume_config` allows); ``overwrite``: delete the run there first;
    ``stop_after``: checkpoint and stop after this many iterations; ``data``: ``stage.load_data``'s result."""
    cfg = (stage.Config.from_dict(config) if isinstance(config, dict) else config).validate()
    if resume and not cfg.out:
        raise ValueError("resume needs a run folder (config.out)")
    changes = _changes(stage.Config.from_dict(read_run_record(cfg.out)["config"]), cfg) if resume else {}
    ctx = distributed.setup(cfg.device)
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    if cfg.batch % ctx.world_size:
        raise ValueError(f"batch {cfg.batch} must be divisible by the number of processes {ctx.world_size}")
    data = stage.load_data(cfg) if data is None else data
    state = stage.init(cfg, data, ctx)
    end = cfg.iterations if stop_after is None else min(cfg.iterations, int(stop_after))
    if cfg.out is None:
        return _train(stage, state, data, None, 0, [], end)
    if not ctx.is_main:                   # other DDP processes: read the checkpoint, write nothing
        distributed.barrier(ctx)
        start = _restore(state, Path(cfg.out))[0] if resume else 0
        return _train(stage, state, data, None, start, [], end)
    record = {"stage": stage.NAME, "config": asdict(cfg), "changes": []}
    with open_run_dir(cfg.out, record, resume=resume, overwrite=overwrite) as run_dir:
        start, history = 0, []
        if resume:
            start, history = _restore(state, run_dir)
            if start >= cfg.iterations:
                raise ValueError(f"run {run_dir} already finished its {cfg.iterations} iterations; pass "
                                 f"--iterations N (more than {cfg.iterations}) with --resume to extend it")
            old = read_run_record(run_dir)                 # each resume is recorded, with what it changed
            record = {**old, "config": asdict(cfg), "changes": old.get("changes", []) + [{"at_iteration": start,
                                                                                          **changes}]}
            write_run_record(run_dir, record)
        distributed.barrier(ctx)
        return _train(stage, state, data, run_dir, start, history, end)


def _restore(state: State, run_dir: Path) -> tuple[int, list]:
    """Load the latest checkpoint of ``run_dir`` into ``state``: ``(iteration, history so far)``."""
    ckpt = latest_checkpoint(run_dir)
    if ckpt is None:
        raise FileNotFoundError(f"cannot resume: {run_dir} has no checkpoint yet; start it again with --overwrite")
    info = load_checkpoint(ckpt, state.modules, state.optimizers)
    start, saved = int(info["step"]), info["extra"].get("scalers", {})
    for k, s in state.scalers.items():
        if k in saved:
            s.load_state_dict(saved[k])
    return start, (_read_history(run_dir, start) if state.ctx.is_main else [])


def _train(stage, state: State, data, run_dir: Path | None, start: int, history: list, end: int) -> FitResult:
    cfg, ctx, main = state.config, state.ctx, run_dir is not None

    def save(t):
        extra = {"scalers": {k: s.state_dict() for k, s in state.scalers.items()}}
        return save_checkpoint(run_dir, t, state.modules, state.optimizers, extra=extra, keep=cfg.keep) if main else None

    bar = tqdm(total=end, initial=start, desc=f"{stage.NAME} {cfg.schedule}", dynamic_ncols=True,
               disable=not (cfg.progress and ctx.is_main))
    log = (run_dir / "history.jsonl").open("a") if main else open(os.devnull, "w")
    t0, done, t = time.perf_counter(), 0, start
    try:
        with _StopOnCtrlC() as ctrl_c:
            for t in range(start, end):
                for group in (g for opt in state.optimizers.values() for g in opt.param_groups):
                    group["lr"] = learning_rate(t, cfg)
                batch = stage.draw_batch(data, cfg, t, ctx)
                losses = stage.step(state, batch, t)
                done += 1
                if (t + 1) % cfg.log_every == 0 or t + 1 == end:
                    row = {"step": t + 1, **{k: float(distributed.all_reduce_mean(v.detach().float(), ctx))
                                             if torch.is_tensor(v) else v for k, v in losses.items()}}
                    history.append(row)
                    print(json.dumps(row), file=log, flush=True)
                    bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k != "step"}, refresh=False)
                bar.update(1)
                if main and cfg.sample_every and (t + 1) % cfg.sample_every == 0:
                    rows = [r.detach().float().cpu() for r in stage.samples(state, data, t + 1)]
                    save_grid([img for r in rows for img in r], run_dir / "samples" / f"step_{t + 1:07d}.png", nrow=len(rows[0]),
                              size=max(64, max(r.shape[-1] for r in rows)))    # small faces shown ≥ 4×
                stop = ctrl_c.requested
                if ctx.enabled:
                    stop = bool(distributed.all_reduce_mean(torch.tensor(float(stop)), ctx) > 0)
                if stop or ((t + 1) % cfg.ckpt_every == 0 and t + 1 != end):
                    ckpt = save(t + 1)
                if stop:
                    raise TrainingInterrupted(f"interrupted: saved iteration {t + 1} in {ckpt}; continue with "
                                              "--resume (resume=True)" if main else "interrupted (no run folder)")
        if end > start:
            save(end)
    except NonFiniteLossError as exc:
        last = latest_checkpoint(run_dir) if main else None
        where = (f"the last good checkpoint {last} is untouched; resume from it with a lower learning rate, e.g. "
                 f"--resume --lr {cfg.lr / 2:g}" if last else f"no checkpoint yet: start again with --lr {cfg.lr / 2:g}")
        raise NonFiniteLossError(f"{exc}: training stopped before any optimiser step used it; {where}") from None
    except TrainingInterrupted:
        raise
    except KeyboardInterrupt:
        last = latest_checkpoint(run_dir) if main else None
        raise TrainingInterrupted(f"interrupted during iteration {t + 1}, which was abandoned; the last checkpoint "
                                  f"is {last}; continue with --resume (resume=True)") from None
    finally:
        bar.close()
        log.close()
    seconds = (time.perf_counter() - t0) / done if done else math.nan
    distributed.barrier(ctx)
    metrics = stage.evaluate(state, data) if ctx.is_main and end == cfg.iterations else None
    if main and metrics is not None:
        (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    distributed.cleanup(ctx)
    for m in state.modules.values():
        m.eval()
    return FitResult(cfg, run_dir, end if end > start else start, state, history, metrics, seconds, data)


def _read_history(run_dir: Path, upto: int) -> list:
    """History rows up to iteration ``upto``; later rows (logged after the checkpoint) are dropped."""
    path = run_dir / "history.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
    rows = [r for r in rows if r["step"] <= upto]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows

