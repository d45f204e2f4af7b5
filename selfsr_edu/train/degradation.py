"""Stage-1 trainer: the flow-field degradation network G (Eq. 5) or the CycleGAN baseline.

``train_degradation(config)`` learns a mapping clean bicubic LR → "wild" LR
from *unpaired* examples of both. One iteration of FF (``model="ff"``)::

    clean, real  ← two independent batches from the per-step generator (seed, step)
    out          = G(clean)                          (intermediate, flow, lr = warp(...), Eq. 1)
    D step:  L_D = −E[log D(real)] − E[log(1 − D(out.lr))]                    (Eq. 2)
    G step:  L_G = −E[log D(out.lr)] + λ_idt ‖out.intermediate − clean‖₁      (Eqs. 2, 3)
                   + λ_s TV(out.flow)                                         (Eq. 4) = Eq. 5

and of the CycleGAN baseline (``"cyc"``; ``"cyc_idt"`` adds Eq. 3 on its output)::

    fake_wild = G_cw(clean),  fake_clean = G_wc(real)
    D step:  Eq. 2 for d_wild (real vs fake_wild) and for d_clean (clean vs fake_clean)
    G step:  adversarial both ways + λ_cyc (‖G_wc(fake_wild) − clean‖₁ + ‖G_cw(fake_clean) − real‖₁)
             [+ λ_idt ‖fake_wild − clean‖₁ for "cyc_idt"]

Schedules are the paper's (Sec. IV-B): Adam β = (0.9, 0.99), lr 2e-4 held for
the first half and decayed linearly to 0 over the last half, 180k iterations,
batch 48, λ_idt = 10, λ_s = 1. Assumed (not in the paper): λ_cyc = 10 (Zhu
et al.), D updated once per G update, the D step before the G step.

Reproducibility: the batch of step ``t`` is drawn from a generator seeded with
``(seed, t)``, models are initialised from ``seed``, and checkpoints hold the
optimiser state, so an interrupted CPU run resumed from its checkpoint ends
with the very same weights as an uninterrupted one. Ctrl-C between iterations
saves a checkpoint of the last finished iteration; landing inside an
iteration's update, it keeps the last regular checkpoint instead.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
import torch.nn as nn

from selfsr_edu.losses import (cycle_consistency_loss, degradation_objective, flow_smoothness, identity_loss,
                               lr_adversarial_d_loss, lr_adversarial_g_loss)
from selfsr_edu.models.cyclegan import CycleGAN
from selfsr_edu.models.degradation import FlowFieldDegradation
from selfsr_edu.models.patch_discriminator import PatchDiscriminator
from selfsr_edu.train.checkpoint import (check_finite, latest_checkpoint, load_checkpoint, load_weights,
                                         prepare_run_dir, read_run_config, resolve_checkpoint, save_checkpoint)

MODELS = ("ff", "cyc", "cyc_idt")


@dataclass
class DegradationConfig:
    """Everything a stage-1 run needs; stored in ``run.json``."""

    out: str | None = "runs/deg"        # run folder (None: no checkpoints, samples or run.json)
    model: str = "ff"                   # "ff" (G, always with Eq. 3), "cyc", "cyc_idt"
    g_preset: str = "small"             # G / CycleGAN size (FlowFieldDegradation.from_preset)
    d_preset: str | None = None         # D_L size (default: same as g_preset)
    data: str = "synthfaces-wild"     # or "folders": your own HR faces and real LR faces (below)
    hr_dir: str | None = None           # data="folders": HR faces (clean LR = their PIL bicubic downscale)
    real_lr_dir: str | None = None      # data="folders": real wild LR faces (unpaired)
    n_train: int = 2048                 # wild SynthFaces items to train on
    n_eval: int = 256                   # held-out items for evaluation and sample grids
    hr_size: int = 64
    lr_size: int = 16
    data_seed: int = 0
    steps: int = 180_000
    batch: int = 48
    lr: float = 2e-4
    betas: tuple = (0.9, 0.99)
    decay_start: float = 0.5            # fraction of steps after which lr decays linearly to 0
    lambda_idt: float = 10.0
    lambda_s: float = 1.0
    lambda_cyc: float = 10.0            # Assumed (Zhu et al.): only for the CycleGAN variants
    seed: int = 0
    sample_every: int = 5_000
    checkpoint_every: int = 5_000
    keep: int = 3
    device: str = "auto"
    progress: bool = True
    # test hooks: inject a NaN into the G loss at this step; stop (as if interrupted) after this step
    nan_at_step: int | None = None
    stop_at: int | None = None
    preset: str = field(default="custom")

    def validate(self) -> "DegradationConfig":
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if self.data not in ("synthfaces-wild", "folders"):
            raise ValueError(f"data must be 'synthfaces-wild' or 'folders', got {self.data!r}")
        if self.data == "folders" and not (self.hr_dir and self.real_lr_dir):
            raise ValueError("data='folders' needs hr_dir (HR faces) and real_lr_dir (real LR faces)")
        for name in ("steps", "batch", "n_train", "n_eval", "sample_every", "checkpoint_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.decay_start <= 1.0:
            raise ValueError(f"decay_start must be in [0, 1], got {self.decay_start}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        self.betas = tuple(self.betas)
        return self

    @classmethod
    def from_dict(cls, d: dict) -> "DegradationConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


PRESETS = {
    # the paper's stage-1 schedule (Sec. IV-B); sizes of G and D_L are assumed
    "paper": dict(g_preset="paper", steps=180_000, batch=48, lr=2e-4, n_train=8192, n_eval=512,
                  sample_every=5_000, checkpoint_every=5_000),
    # a CPU-friendly run: a few minutes on one core
    "small": dict(g_preset="small", steps=3_000, batch=32, n_train=2048, n_eval=256,
                  sample_every=500, checkpoint_every=500),
    # notebooks and tests under SELFSR_QUICK=1
    "quick": dict(g_preset="tiny", steps=300, batch=16, n_train=192, n_eval=64,
                  sample_every=100, checkpoint_every=100),
}


def config_from_preset(name: str, **overrides) -> DegradationConfig:
    """``"paper"``, ``"small"`` or ``"quick"``, with any field overridden."""
    if name not in PRESETS:
        raise ValueError(f"unknown stage-1 preset {name!r}; choose one of {sorted(PRESETS)}")
    return DegradationConfig(**{**PRESETS[name], "preset": name, **overrides}).validate()


def learning_rate(step: int, cfg: DegradationConfig) -> float:
    """The paper's schedule: ``lr`` until ``decay_start·steps``, then linearly to 0 at ``steps``."""
    start = cfg.decay_start * cfg.steps
    if step < start:
        return cfg.lr
    return cfg.lr * max(0.0, (cfg.steps - step) / max(cfg.steps - start, 1e-12))


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------


def load_wild_data(n_train: int, n_eval: int, hr_size: int = 64, lr_size: int = 16, seed: int = 0,
                   progress: bool = False) -> dict[str, torch.Tensor]:
    """SynthFaces-wild as tensors: ``train_clean``/``train_real`` (unpaired) and
    ``eval_clean``/``eval_real``/``eval_true`` (held out: the last ``n_eval`` items).

    ``*_clean`` is I_syn^L (G's input), ``*_real`` the unpaired real wild LR
    (what D_L sees as real), ``eval_true`` the hidden true degradation of
    ``eval_clean`` (for measurement only, never for training).
    """
    from tqdm.auto import tqdm

    from selfsr_edu.data.settings import WildSynthFaces

    ds = WildSynthFaces(n_train + n_eval, split="train", hr_size=hr_size, lr_size=lr_size, seed=seed)
    keys = ("lr_clean", "lr_real", "lr_true")
    items = {k: [] for k in keys}
    for i in tqdm(range(len(ds)), desc="SynthFaces-wild", disable=not progress, leave=False):
        item = ds[i]
        for k in keys:
            items[k].append(item[k])
    t = {k: torch.stack(v) for k, v in items.items()}
    return {
        "train_clean": t["lr_clean"][:n_train], "train_real": t["lr_real"][:n_train],
        "eval_clean": t["lr_clean"][n_train:], "eval_real": t["lr_real"][n_train:],
        "eval_true": t["lr_true"][n_train:],
    }


def load_folder_data(hr_dir: str, real_lr_dir: str, n_eval: int, hr_size: int = 64,
                     lr_size: int = 16) -> dict[str, torch.Tensor]:
    """Your own faces (:class:`~selfsr_edu.data.datasets.FaceFolder`): clean LR = PIL bicubic of the
    HR faces at ``lr_size`` (8-bit), real LR = the real LR faces resized to ``lr_size``. The last
    ``n_eval`` images (sorted by path) of each folder are held out. There is no ``eval_true``:
    real data has no known degradation."""
    from selfsr_edu.data.datasets import FaceFolder
    from selfsr_edu.data.io import quantise8
    from selfsr_edu.data.resize import bicubic_pil

    hr = FaceFolder(hr_dir, size=hr_size)
    real = FaceFolder(real_lr_dir, size=lr_size)
    for name, ds in (("hr_dir", hr), ("real_lr_dir", real)):
        if len(ds) <= n_eval:
            raise ValueError(f"{name} {ds.root} has {len(ds)} images; need more than n_eval={n_eval}")
    clean = quantise8(torch.cat([bicubic_pil(hr[i][None], lr_size) for i in range(len(hr))]))
    real_t = torch.stack([real[i] for i in range(len(real))])
    return {"train_clean": clean[:-n_eval], "train_real": real_t[:-n_eval],
            "eval_clean": clean[-n_eval:], "eval_real": real_t[-n_eval:]}


def _step_generator(seed: int, step: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed) * 1_000_003 + int(step))


def draw_batch(data: dict, cfg: DegradationConfig, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Independent random batches of clean and real LR for ``step`` (unpaired by construction)."""
    gen = _step_generator(cfg.seed, step)
    i_clean = torch.randint(0, data["train_clean"].shape[0], (cfg.batch,), generator=gen)
    i_real = torch.randint(0, data["train_real"].shape[0], (cfg.batch,), generator=gen)
    return data["train_clean"][i_clean], data["train_real"][i_real]


# --------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------


def build_models(cfg: DegradationConfig) -> dict[str, nn.Module]:
    """Checkpoint names → modules. ``"G"`` is always the clean → wild degradation."""
    torch.manual_seed(cfg.seed)
    d_preset = cfg.d_preset or cfg.g_preset
    if cfg.model == "ff":
        return {"G": FlowFieldDegradation.from_preset(cfg.g_preset), "D": PatchDiscriminator.from_preset(d_preset)}
    cyc = CycleGAN.from_preset(cfg.g_preset)
    if cfg.d_preset:
        cyc.d_wild = PatchDiscriminator.from_preset(d_preset)
        cyc.d_clean = PatchDiscriminator.from_preset(d_preset)
    return {"G": cyc.clean_to_wild, "F": cyc.wild_to_clean, "D": cyc.d_wild, "D_clean": cyc.d_clean}


class DegradationGenerator(nn.Module):
    """Clean LR → degraded LR in [0, 1] (a trained FF's ``G(lr).lr`` or CycleGAN's clean→wild)."""

    def __init__(self, net: nn.Module, kind: str):
        super().__init__()
        self.net = net
        self.kind = kind

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        out = self.net(lr)
        return (out.lr if self.kind == "ff" else out).clamp(0, 1)


def load_generator(run_or_ckpt: str | Path) -> DegradationGenerator:
    """The trained degradation of a stage-1 run (its latest checkpoint) or of one
    checkpoint folder, in eval mode: ``load_generator(path)(clean_lr) -> degraded_lr``.
    The stage-2 "pseudo" pairs mode uses it. ``.net`` is the raw FF/CycleGAN generator."""
    run_dir, ckpt = resolve_checkpoint(run_or_ckpt)
    if not (ckpt / "G.safetensors").exists():
        raise FileNotFoundError(f"{ckpt} has no G.safetensors: is {run_or_ckpt} a stage-1 (train-degradation) run?")
    cfg = DegradationConfig.from_dict(read_run_config(run_dir))
    net = build_models(cfg)["G"]
    load_weights(net, ckpt / "G.safetensors")
    return DegradationGenerator(net, cfg.model).eval()


# --------------------------------------------------------------------------
# one iteration
# --------------------------------------------------------------------------


def _ff_losses(m, clean, real, cfg):
    out = m["G"](clean)
    loss_d = lr_adversarial_d_loss(m["D"](real), m["D"](out.lr.detach()))
    return out, {"D": loss_d}


def _ff_g_losses(m, out, clean, cfg):
    adv = lr_adversarial_g_loss(m["D"](out.lr))
    idt = identity_loss(out.intermediate, clean)
    smooth = flow_smoothness(out.flow)
    total = degradation_objective(adv, idt, smooth, cfg.lambda_idt, cfg.lambda_s)
    return {"G": total, "adv": adv, "idt": idt, "smooth": smooth}


def _cyc_losses(m, clean, real, cfg):
    fake_wild, fake_clean = m["G"](clean), m["F"](real)
    loss_d = (lr_adversarial_d_loss(m["D"](real), m["D"](fake_wild.detach()))
              + lr_adversarial_d_loss(m["D_clean"](clean), m["D_clean"](fake_clean.detach())))
    return (fake_wild, fake_clean), {"D": loss_d}


def _cyc_g_losses(m, out, clean, real, cfg):
    fake_wild, fake_clean = out
    adv = lr_adversarial_g_loss(m["D"](fake_wild)) + lr_adversarial_g_loss(m["D_clean"](fake_clean))
    cyc = cycle_consistency_loss(m["F"](fake_wild), clean) + cycle_consistency_loss(m["G"](fake_clean), real)
    total = adv + cfg.lambda_cyc * cyc
    losses = {"adv": adv, "cyc": cyc}
    if cfg.model == "cyc_idt":
        idt = identity_loss(fake_wild, clean)  # Eq. 3 on CycleGAN's output (it has no intermediate)
        total = total + cfg.lambda_idt * idt
        losses["idt"] = idt
    return {"G": total, **losses}


# --------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------


@dataclass
class DegradationResult:
    """What :func:`train_degradation` returns."""

    config: DegradationConfig
    run_dir: Path | None
    models: dict                       # checkpoint name → module ("G" is the degradation)
    generator: DegradationGenerator    # clean LR → degraded LR, eval mode
    history: dict                      # "step" and one list per loss
    seconds_per_iteration: float
    data: dict = field(repr=False, default_factory=dict)


def train_degradation(config: DegradationConfig | dict, resume: bool = False, overwrite: bool = False,
                      data: dict | None = None) -> DegradationResult:
    """Train FF or a CycleGAN variant (see the module docstring); returns a :class:`DegradationResult`.

    ``data`` may pass tensors from :func:`load_wild_data` (to share them
    between runs); otherwise they are loaded as the config says. With
    ``config.out`` set, the run folder gets ``run.json``, sample grids and
    checkpoints; ``resume`` continues from its latest checkpoint.
    A NaN/inf loss raises :class:`~selfsr_edu.train.checkpoint.NonFiniteLossError`
    before any optimiser steps on it; checkpoints on disk are never touched
    after that, so the last one stays good (the message names it).
    """
    from tqdm.auto import tqdm

    from selfsr_edu import default_device

    cfg = (DegradationConfig.from_dict(config) if isinstance(config, dict) else config).validate()
    device = default_device() if cfg.device == "auto" else torch.device(cfg.device)
    if resume and cfg.out is None:
        raise ValueError("resume needs config.out (a run folder)")
    if data is None and cfg.data == "folders":     # read the data first: a bad folder must not cost a run folder
        data = load_folder_data(cfg.hr_dir, cfg.real_lr_dir, cfg.n_eval, cfg.hr_size, cfg.lr_size)
    elif data is None:
        data = load_wild_data(cfg.n_train, cfg.n_eval, cfg.hr_size, cfg.lr_size, cfg.data_seed, cfg.progress)
    run_dir = None
    if cfg.out is not None:
        run_dir = prepare_run_dir(cfg.out, asdict(cfg), resume=resume, overwrite=overwrite)
    train = {k: v.to(device) for k, v in data.items() if k.startswith("train_")}

    models = {k: v.to(device).train() for k, v in build_models(cfg).items()}
    gen_names = ["G"] if cfg.model == "ff" else ["G", "F"]
    disc_names = ["D"] if cfg.model == "ff" else ["D", "D_clean"]
    opt_g = torch.optim.Adam([p for k in gen_names for p in models[k].parameters()], lr=cfg.lr, betas=cfg.betas)
    opt_d = torch.optim.Adam([p for k in disc_names for p in models[k].parameters()], lr=cfg.lr, betas=cfg.betas)
    optimizers = {"G": opt_g, "D": opt_d}
    history: dict[str, list] = {"step": []}
    start = 0
    if resume:
        ckpt = latest_checkpoint(run_dir)
        if ckpt is not None:
            state = load_checkpoint(ckpt, models, optimizers)
            start = int(state["step"])
            history = {k: list(v) for k, v in state["extra"].get("history", history).items()}

    fixed = data["eval_clean"][:8].to(device)
    real_show = data["eval_real"][:8].to(device)

    def save(step):
        if run_dir is not None:
            save_checkpoint(run_dir, step, models, optimizers, extra={"history": history}, keep=cfg.keep)

    def samples(step):
        if run_dir is not None:
            _save_samples(run_dir, step, models, cfg.model, fixed, real_show)

    t0, done = time.perf_counter(), 0
    completed, consistent = start, True   # steps whose updates are fully applied; False mid-update
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not cfg.progress,
               desc=f"stage 1 ({cfg.model})")
    step = start
    try:
        for step in bar:
            for opt in optimizers.values():
                for group in opt.param_groups:
                    group["lr"] = learning_rate(step, cfg)
            clean, real = draw_batch(train, cfg, step)
            clean, real = clean.to(device), real.to(device)

            # D step (Eq. 2): D sees the generated batch detached from G
            if cfg.model == "ff":
                out, losses = _ff_losses(models, clean, real, cfg)
            else:
                out, losses = _cyc_losses(models, clean, real, cfg)
            check_finite(losses, step, run_dir)
            opt_d.zero_grad(set_to_none=True)
            losses["D"].backward()
            consistent = False
            opt_d.step()

            # G step (Eq. 5, or CycleGAN's objective) against the updated D
            if cfg.model == "ff":
                g_losses = _ff_g_losses(models, out, clean, cfg)
            else:
                g_losses = _cyc_g_losses(models, out, clean, real, cfg)
            if cfg.nan_at_step is not None and step == cfg.nan_at_step:
                g_losses["G"] = g_losses["G"] * float("nan")
            check_finite(g_losses, step, run_dir)
            opt_g.zero_grad(set_to_none=True)
            g_losses["G"].backward()
            opt_g.step()

            history["step"].append(step + 1)
            for k, v in {**losses, **g_losses}.items():
                history.setdefault(k, []).append(float(v.detach()))
            completed, consistent = step + 1, True
            done += 1
            if cfg.progress and (step + 1) % 10 == 0:
                bar.set_postfix(G=f"{history['G'][-1]:.3f}", D=f"{history['D'][-1]:.3f}")
            if (step + 1) % cfg.sample_every == 0 or step + 1 == cfg.steps:
                samples(step + 1)
            if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
                save(step + 1)
            if cfg.stop_at is not None and step + 1 >= cfg.stop_at:
                save(step + 1)
                break
    except KeyboardInterrupt:
        if consistent:   # weights, optimisers and history all describe the end of step `completed`
            save(completed)
            print(f"interrupted: saved step {completed}; continue with resume=True (--resume)")
        else:            # D already took this step's update, G not yet: keep the last regular checkpoint
            last = latest_checkpoint(run_dir) if run_dir is not None else None
            print(f"interrupted mid-iteration; the last checkpoint is {last}; continue with resume=True (--resume)")
        raise
    finally:
        bar.close()
    seconds = (time.perf_counter() - t0) / max(done, 1)
    for m in models.values():
        m.eval()
    return DegradationResult(cfg, run_dir, models, DegradationGenerator(models["G"], cfg.model).eval(),
                             history, seconds, data)


def _save_samples(run_dir: Path, step: int, models: dict, kind: str, clean: torch.Tensor,
                  real: torch.Tensor) -> None:
    """Rows: clean input, G's output, [FF: intermediate, flow colours], real wild LR (unpaired)."""
    from selfsr_edu.flow import flow_to_color
    from selfsr_edu.viz import save_grid

    with torch.no_grad():
        was = models["G"].training
        models["G"].eval()
        out = models["G"](clean)
        models["G"].train(was)
    rows = [clean]
    if kind == "ff":
        rows += [out.lr.clamp(0, 1), out.intermediate.clamp(0, 1),
                 flow_to_color(out.flow, max_magnitude=models["G"].max_flow).to(clean)]
    else:
        rows += [out]
    rows.append(real)
    grid = torch.cat([r.cpu() for r in rows])
    grid = torch.nn.functional.interpolate(grid, scale_factor=4, mode="nearest")   # 16 px faces: show the pixels
    save_grid(grid, run_dir / "samples" / f"step_{step:07d}.png", nrow=clean.shape[0])


# --------------------------------------------------------------------------
# evaluation (Table III's FID‡ column, with SWD instead of FID)
# --------------------------------------------------------------------------


@torch.no_grad()
def evaluate_degradation(generator, data: dict, batch: int = 256) -> dict[str, float]:
    """Held-out stage-1 metrics of a clean → degraded mapping (``None``: the clean LR itself).

    * ``swd``: SWD (Laplacian-pyramid patches; our weight-free stand-in for the
      paper's FID‡) between the generated set and the real wild LR set;
    * ``colour_shift`` and ``mean_delta_e`` between output and its clean input
      (colour drift; ΔE*ab);
    * ``truth_l1``, ``truth_l1_lowpass``, ``truth_colour_shift``: distance to the
      true degradation of the same inputs (see :mod:`selfsr_edu.metrics.degradation_truth`).
    """
    from selfsr_edu.metrics.colour import colour_shift, mean_delta_e
    from selfsr_edu.metrics.degradation_truth import degradation_truth_report
    from selfsr_edu.metrics.swd import swd

    clean = data["eval_clean"]
    if generator is None:
        gen = clean.clone()
    else:
        dev = next(generator.parameters()).device
        gen = torch.cat([generator(clean[i:i + batch].to(dev)).float().cpu() for i in range(0, len(clean), batch)])
        gen = gen.clamp(0, 1)
    report = {
        "swd": swd(gen, data["eval_real"]),
        "colour_shift": float(colour_shift(gen, clean).mean()),
        "mean_delta_e": float(mean_delta_e(gen, clean).mean()),
    }
    if "eval_true" in data:   # SynthFaces-wild only: real data has no known degradation
        truth = degradation_truth_report(gen, data["eval_true"])
        report.update(truth_l1=truth["l1"], truth_l1_lowpass=truth["l1_lowpass"],
                      truth_colour_shift=truth["colour_shift"])
    return report


# --------------------------------------------------------------------------
# command line: python -m selfsr_edu train-degradation ...
# --------------------------------------------------------------------------


def add_parser(sub) -> None:
    p = sub.add_parser("train-degradation", help="stage 1: train the flow-field degradation G (or CycleGAN)")
    p.add_argument("--data", default="synthfaces-wild", choices=["synthfaces-wild", "folders"],
                   help="SynthFaces-wild (known-truth degradations) or your own folders (--hr-dir, --real-lr-dir)")
    p.add_argument("--hr-dir", default=None, help="--data folders: folder of HR face images")
    p.add_argument("--real-lr-dir", default=None, help="--data folders: folder of real low-resolution faces")
    p.add_argument("--preset", default="quick", choices=sorted(PRESETS), help="schedule and sizes (default quick)")
    p.add_argument("--out", default="runs/deg", help="run folder (default runs/deg)")
    p.add_argument("--model", default="ff", choices=MODELS, help="ff (SelfSR's G), cyc or cyc_idt (Table III)")
    p.add_argument("--g-preset", default=None, help="override G's size: paper, small or tiny")
    p.add_argument("--steps", type=int, default=None, help="override the number of iterations")
    p.add_argument("--batch", type=int, default=None, help="override the batch size")
    p.add_argument("--n-train", type=int, default=None, help="override the number of training faces")
    p.add_argument("--n-eval", type=int, default=None, help="override the number of held-out faces")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--no-eval", action="store_true", help="skip the held-out SWD / colour evaluation")
    p.add_argument("--data-file", default=None,
                   help="a .pt snapshot of the data tensors: read if it exists, else written, so several "
                        "runs (FF vs CycleGAN) train and evaluate on identical faces")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    g.add_argument("--overwrite", action="store_true", help="delete the run in --out and start again")
    p.set_defaults(func=_cli)


def _cli(args) -> int:
    import json

    over = {"out": args.out, "model": args.model, "data": args.data, "seed": args.seed, "device": args.device,
            "hr_dir": args.hr_dir, "real_lr_dir": args.real_lr_dir}
    for name in ("g_preset", "steps", "batch", "n_train", "n_eval"):
        if getattr(args, name) is not None:
            over[name] = getattr(args, name)
    if "steps" in over:  # keep samples/checkpoints within a shortened run
        base = PRESETS[args.preset]
        over.setdefault("sample_every", min(base["sample_every"], over["steps"]))
        over.setdefault("checkpoint_every", min(base["checkpoint_every"], over["steps"]))
    cfg = config_from_preset(args.preset, **over)
    data = _data_snapshot(args.data_file, cfg) if args.data_file and cfg.data == "synthfaces-wild" else None
    if args.data_file and cfg.data != "synthfaces-wild":
        raise ValueError("--data-file snapshots SynthFaces-wild only; folders are read directly")
    result = train_degradation(cfg, resume=args.resume, overwrite=args.overwrite, data=data)
    print(f"trained {cfg.model} ({cfg.g_preset}) for {cfg.steps} iterations, "
          f"{result.seconds_per_iteration:.3f} s/iteration; run folder {result.run_dir}")
    if not args.no_eval:
        from selfsr_edu.metrics.swd import swd

        metrics = {"generated": evaluate_degradation(result.generator, result.data),
                   "clean_bicubic": evaluate_degradation(None, result.data)}
        if "eval_true" in result.data:  # the floor: the true degradation of the same faces vs the real set
            metrics["true_degradation_swd"] = swd(result.data["eval_true"], result.data["eval_real"])
        (result.run_dir / "eval.json").write_text(json.dumps(metrics, indent=2))
        print(f"held-out ({cfg.n_eval} faces) SWD vs real wild LR [weight-free stand-in for FID‡]: "
              f"generated {metrics['generated']['swd']:.4f}, clean bicubic {metrics['clean_bicubic']['swd']:.4f}; "
              f"colour shift ΔE {metrics['generated']['colour_shift']:.3f}")
    return 0


def _data_snapshot(path: str, cfg: DegradationConfig) -> dict:
    """Load the data tensors from ``path`` (checking they fit ``cfg``) or make and save them."""
    path = Path(path)
    expect = {"train_clean": cfg.n_train, "train_real": cfg.n_train, "eval_clean": cfg.n_eval,
              "eval_real": cfg.n_eval, "eval_true": cfg.n_eval}
    if path.exists():
        data = torch.load(path, map_location="cpu", weights_only=True)
        got = {k: tuple(v.shape) for k, v in data.items()} if isinstance(data, dict) else type(data).__name__
        if not isinstance(data, dict) or any(k not in data or data[k].shape != (n, 3, cfg.lr_size, cfg.lr_size)
                                             for k, n in expect.items()):
            raise ValueError(f"data file {path} does not fit n_train={cfg.n_train}, n_eval={cfg.n_eval}, "
                             f"lr_size={cfg.lr_size}: it holds {got}")
        return data
    data = load_wild_data(cfg.n_train, cfg.n_eval, cfg.hr_size, cfg.lr_size, cfg.data_seed, cfg.progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(data, path)
    return data


__all__ = ["DegradationConfig", "PRESETS", "config_from_preset", "train_degradation", "load_generator",
           "load_wild_data", "load_folder_data", "evaluate_degradation", "learning_rate", "DegradationGenerator",
           "DegradationResult", "build_models"]
