"""Stage 2 trainer: R and D_H with Eq. 10, grown progressively (Sec. III-B, IV).

``train_sr(config)`` trains the self-conditioned SR network R against the
progressive discriminator D_H. One iteration::

    stage, alpha  ← schedule(step)                  (×2 → ×4 → ×8, fade-in after each growth)
    lr, hr        ← batch from the per-step generator (seed, step)
    sr            = R(lr, stage, alpha)             (conditions computed once per batch)
    R step:  L_R = −E[D(sr)] + λ_rec · L_rec        (Eq. 7, 8 or 11; Eq. 10)
    D step:  L_D = hinge(D(real), D(sr.detach()))   (Eq. 7)
             + λ_r1 · k · r/2 E||∇D(real)||²        (Eq. 9, every k-th step: lazy R1)

Modes (``config.mode``):

* ``"paired"``: the synthetic-degradation protocol (DIC): LR = PIL bicubic of
  the 128×128 HR, L_rec = Eq. 8 against the HR (at the stage's resolution);
* ``"unpaired"``: LR and HR drawn independently; L_rec = Eq. 11, the cycle loss
  through bicubic degradation; D_H sees HR faces of other identities;
* ``"pseudo"``: the two-stage SelfSR pipeline on the in-the-wild setting: LR
  made on the fly from the HR's clean downscale by a trained, frozen stage-1
  G (``config.degradation``), ×4 (16 → 64); evaluated on the truly degraded LR.

While R is at stage s < L the targets are the HR bicubic-downscaled to
s's resolution; during a fade-in the real images are blended exactly like R's
output (``alpha·hr_s + (1−alpha)·up2(hr_{s−1})``), as progressive GAN does.

Assumed where the paper is silent (all switchable in the config):
fade-in length (``fade_in``: a quarter of the first growth interval in the
paper presets), R1 every step (``r1_every=1``, i.e. not lazy) in the paper
presets, EMA of R's weights for evaluation (decay 0.999 with a warm-up,
progressive-GAN practice), horizontal flips (the paper's only augmentation).

Reproducibility: every random choice of step ``t`` comes from a generator seeded
with ``(seed, t)``, so resuming from a checkpoint continues bit-identically on CPU.
"""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch

from selfsr_edu.data.resize import bicubic_pil
from selfsr_edu.losses import (cycle_reconstruction_loss, hinge_d_loss, hinge_g_loss, r1_penalty,
                               reconstruction_loss, sr_discriminator_objective, sr_generator_objective)
from selfsr_edu.models.progressive_discriminator import ProgressiveDiscriminator
from selfsr_edu.models.sr import SelfConditionedSR, upsample2
from selfsr_edu.train import distributed
from selfsr_edu.train.checkpoint import (check_finite, latest_checkpoint, load_checkpoint, load_weights,
                                         prepare_run_dir, read_run_config, resolve_checkpoint, save_checkpoint)

MODES = ("paired", "unpaired", "pseudo")


@dataclass
class SRConfig:
    """Everything a stage-2 run needs; stored in ``run.json``."""

    out: str = "runs/sr"
    mode: str = "paired"
    preset: str = "small"               # R's preset (SelfConditionedSR.from_preset)
    d_preset: str | None = None         # D_H's preset (default: same as preset)
    block: str = "scb"                  # "scb" | "concat" (Table IV vanilla) | "spade"
    residual: bool = False              # Assumed off: R predicts the image (see models/sr.py)
    levels: int = 3                     # 3: ×8 (16 → 128); 2: ×4 (16 → 64)
    lr_size: int = 16
    iterations: int = 160_000
    growth: tuple = (20_000, 80_000)    # steps at which R grows a level (levels − 1 of them)
    fade_in: int = 5_000                # Assumed: iterations over which alpha goes 0 → 1
    progressive: bool = True            # False: Table IV "no Prog." (full network from step 0)
    batch: int = 48
    lr: float = 0.003
    betas: tuple = (0.9, 0.99)
    lambda_rec: float = 150.0
    lambda_r1: float = 3.0
    r1_gamma: float = 10.0              # r in Eq. 9
    r1: bool = True                     # False: Table IV "no R1"
    r1_every: int = 1                   # lazy R1: every k steps, scaled by k (Assumed 1 = Eq. 10 as written)
    ema: bool = True                    # Assumed: evaluate an EMA of R's weights
    ema_decay: float = 0.999
    amp: bool = True                    # mixed precision on CUDA (ignored on CPU)
    flip: bool = True                   # random horizontal flip (the paper's only augmentation)
    n_train: int = 2000
    n_test: int = 100
    data_seed: int = 0
    seed: int = 0
    degradation: str | None = None      # stage-1 run/checkpoint (mode "pseudo")
    device: str | None = None           # None: CUDA when available
    channels_last: bool = True
    sample_every: int = 1000
    ckpt_every: int = 5000
    log_every: int = 50
    keep: int = 3
    progress: bool = True
    threads: int | None = None

    def validate(self) -> "SRConfig":
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.block not in ("scb", "concat", "spade"):
            raise ValueError(f"block must be 'scb', 'concat' or 'spade', got {self.block!r}")
        if len(tuple(self.growth)) != self.levels - 1:
            raise ValueError(f"growth needs {self.levels - 1} steps for {self.levels} levels, got {self.growth}")
        if list(self.growth) != sorted(self.growth):
            raise ValueError(f"growth steps must increase, got {self.growth}")
        if self.mode == "pseudo" and not self.degradation:
            raise ValueError("mode 'pseudo' needs degradation= a trained stage-1 run folder or checkpoint")
        if self.batch < 1 or self.iterations < 0 or self.fade_in < 1 or self.r1_every < 1:
            raise ValueError("batch, fade_in and r1_every must be >= 1 and iterations >= 0")
        return self

    @property
    def scale(self) -> int:
        return 1 << self.levels

    @property
    def hr_size(self) -> int:
        return self.lr_size << self.levels

    @classmethod
    def from_dict(cls, d: dict) -> "SRConfig":
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown SR config keys: {sorted(unknown)}")
        d = dict(d)
        for key in ("growth", "betas"):
            if key in d and d[key] is not None:
                d[key] = tuple(d[key])
        return cls(**d)


#: The paper's schedules (Sec. IV-A, IV-B) and a quick one for notebooks/tests.
PRESETS: dict[str, dict] = {
    "paired": dict(mode="paired", preset="paper", levels=3, iterations=160_000, growth=(20_000, 80_000),
                   fade_in=5_000),
    "unpaired": dict(mode="unpaired", preset="paper", levels=3, iterations=280_000, growth=(40_000, 120_000),
                     fade_in=10_000),
    "realworld": dict(mode="pseudo", preset="paper", levels=2, iterations=160_000, growth=(60_000,),
                      fade_in=15_000),
    "quick": dict(mode="paired", preset="tiny", levels=3, iterations=60, growth=(20, 40), fade_in=10,
                  batch=8, n_train=32, n_test=8, r1_every=4, sample_every=30, ckpt_every=30, log_every=10,
                  ema_decay=0.9),
}


def config_from_preset(name: str, **overrides) -> SRConfig:
    """``SRConfig`` for one of :data:`PRESETS` with keyword overrides."""
    if name not in PRESETS:
        raise ValueError(f"SR training preset must be one of {sorted(PRESETS)}, got {name!r}")
    return SRConfig.from_dict({**PRESETS[name], **overrides}).validate()


# --------------------------------------------------------------------------
# schedule
# --------------------------------------------------------------------------


def stage_at(step: int, cfg: SRConfig) -> tuple[int, float]:
    """``(stage, alpha)`` at iteration ``step`` (0-based).

    Stage = 1 + number of growth steps passed; after growing, alpha rises
    linearly from 1/fade_in to 1 over ``fade_in`` iterations. Without
    progressive training: the last stage with alpha = 1 throughout.
    """
    if not cfg.progressive:
        return cfg.levels, 1.0
    stage = 1 + sum(step >= g for g in cfg.growth)
    if stage == 1:
        return 1, 1.0
    since = step - cfg.growth[stage - 2]
    return stage, min(1.0, (since + 1) / cfg.fade_in)


# --------------------------------------------------------------------------
# data: the whole (small) training set lives in memory as uint8
# --------------------------------------------------------------------------


class _Pool:
    """Training/test images held as uint8 tensors, batches drawn by index."""

    def __init__(self, cfg: SRConfig, split: str, n: int):
        from selfsr_edu.data import settings

        self.mode = cfg.mode
        if cfg.mode in ("paired", "unpaired"):
            ds = settings.PairedSynthFaces(n, split=split, hr_size=cfg.hr_size, scale=cfg.scale, seed=cfg.data_seed)
            keys = {"hr": "hr", "lr": "lr"}
        else:
            ds = settings.WildSynthFaces(n, split=split, hr_size=cfg.hr_size, lr_size=cfg.lr_size,
                                         seed=cfg.data_seed)
            keys = {"hr": "hr", "lr": "lr_clean" if split == "train" else "lr_real"}
        items = [ds[i] for i in range(n)]
        self.tensors = {k: torch.stack([it[src] for it in items]).mul(255).round().to(torch.uint8)
                        for k, src in keys.items()}

    def get(self, key: str, index: torch.Tensor) -> torch.Tensor:
        return self.tensors[key][index].float().div_(255.0)

    def __len__(self) -> int:
        return self.tensors["hr"].shape[0]


def _step_generator(seed: int, step: int) -> torch.Generator:
    return torch.Generator().manual_seed((int(seed) * 1_000_003 + int(step) * 7_919 + 12_345) % (2**63))


def draw_batch(pool: _Pool, cfg: SRConfig, step: int, ctx: distributed.DistContext) -> tuple[torch.Tensor, torch.Tensor]:
    """``(lr, hr)`` for iteration ``step``: the global batch from the (seed, step)
    generator, this process's slice of it. Unpaired: HR indices independent of LR's."""
    gen = _step_generator(cfg.seed, step)
    n = len(pool)
    idx_lr = torch.randint(0, n, (cfg.batch,), generator=gen)
    idx_hr = torch.randint(0, n, (cfg.batch,), generator=gen) if cfg.mode == "unpaired" else idx_lr
    flip_lr = torch.rand(cfg.batch, generator=gen) < 0.5
    flip_hr = torch.rand(cfg.batch, generator=gen) < 0.5 if cfg.mode == "unpaired" else flip_lr
    per = cfg.batch // ctx.world_size
    sl = slice(ctx.rank * per, (ctx.rank + 1) * per)
    lr, hr = pool.get("lr", idx_lr[sl]), pool.get("hr", idx_hr[sl])
    if cfg.flip:
        lr = torch.where(flip_lr[sl, None, None, None], lr.flip(-1), lr)
        hr = torch.where(flip_hr[sl, None, None, None], hr.flip(-1), hr)
    return lr, hr


def hr_at_stage(hr: torch.Tensor, stage: int, alpha: float, lr_size: int, levels: int) -> torch.Tensor:
    """The real image R's stage output is compared with: the HR at ×2^stage
    (PIL bicubic downscale), blended with the up-sampled previous stage during a fade-in."""
    def at(s):
        side = lr_size << s
        return hr if s == levels and hr.shape[-1] == side else bicubic_pil(hr, side).clamp(0, 1)

    target = at(stage)
    if alpha < 1.0 and stage > 1:
        prev = upsample2(at(stage - 1))
        target = prev + alpha * (target - prev)
    return target


# --------------------------------------------------------------------------
# building and loading
# --------------------------------------------------------------------------


def build_models(cfg: SRConfig) -> tuple[SelfConditionedSR, ProgressiveDiscriminator]:
    """R and D_H for a config (seeded: same config, same initial weights)."""
    torch.manual_seed(cfg.seed)
    R = SelfConditionedSR.from_preset(cfg.preset, levels=cfg.levels, block=cfg.block, residual=cfg.residual)
    D = ProgressiveDiscriminator.from_preset(cfg.d_preset or cfg.preset, levels=cfg.levels)
    return R, D


def load_sr(run_or_ckpt: str | Path, ema: bool = True) -> tuple[SelfConditionedSR, SRConfig]:
    """R from a stage-2 run folder (its latest checkpoint) or a checkpoint folder.

    Returns ``(R, config)`` in eval mode; ``ema=True`` loads the EMA weights when saved.
    """
    run, ckpt = resolve_checkpoint(run_or_ckpt)
    raw = read_run_config(run)
    if "preset" not in raw or "levels" not in raw or "block" not in raw:
        raise ValueError(f"{run}/run.json is not a stage-2 (train-sr) run")
    cfg = SRConfig.from_dict(raw)
    R, _ = build_models(cfg)
    name = "R_ema" if ema and (ckpt / "R_ema.safetensors").exists() else "R"
    load_weights(R, ckpt / f"{name}.safetensors")
    return R.eval(), cfg


def _load_degradation(path: str, device: torch.device):
    from selfsr_edu.train.degradation import load_generator

    G = load_generator(path).to(device).eval()
    for p in G.parameters():
        p.requires_grad_(False)
    return G


@torch.no_grad()
def degrade(G, lr_clean: torch.Tensor) -> torch.Tensor:
    """I_gen^L = G(I_syn^L): the stage-1 network's output as a [0, 1] tensor."""
    out = G(lr_clean)
    out = out if torch.is_tensor(out) else out.lr
    return out.clamp(0, 1)


# --------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------


@torch.no_grad()
@torch.no_grad()
def super_resolve(R: SelfConditionedSR, lr: torch.Tensor, batch: int = 32, stage: int | None = None) -> torch.Tensor:
    """R's output for every LR image, in batches on R's device, clamped to [0, 1], on the CPU."""
    dev = next(R.parameters()).device
    return torch.cat([R(lr[i:i + batch].to(dev), stage).clamp(0, 1).float().cpu()
                      for i in range(0, lr.shape[0], batch)])


def evaluate_fidelity(R: SelfConditionedSR, lr: torch.Tensor, hr: torch.Tensor, crop_border: int = 8,
                      batch: int = 32, stage: int | None = None) -> dict:
    """Mean PSNR/SSIM (Y, BT.601, ``crop_border`` px, 8-bit) of R and of bicubic on (lr, hr)."""
    from selfsr_edu.metrics import psnr, ssim

    R.eval()
    sr = super_resolve(R, lr, batch, stage)
    bic = bicubic_pil(lr, hr.shape[-1]).clamp(0, 1)
    return {
        "psnr": psnr(sr, hr, crop_border=crop_border).mean().item(),
        "ssim": ssim(sr, hr, crop_border=crop_border).mean().item(),
        "psnr_bicubic": psnr(bic, hr, crop_border=crop_border).mean().item(),
        "ssim_bicubic": ssim(bic, hr, crop_border=crop_border).mean().item(),
        "n": int(hr.shape[0]),
        "protocol": f"Y channel (BT.601), {crop_border}-px border crop, 8-bit, mean over images",
    }


# --------------------------------------------------------------------------
# the trainer
# --------------------------------------------------------------------------


def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        e = list(ema.parameters())
        m = list(model.parameters())
        torch._foreach_lerp_(e, m, 1.0 - decay)


def train_sr(config: SRConfig | dict, resume: bool = False, overwrite: bool = False,
             stop_after: int | None = None) -> dict:
    """Train R and D_H; returns ``{"run_dir", "step", "history", "metrics", "seconds_per_iteration"}``.

    ``resume``: continue the run in ``config.out`` from its latest checkpoint;
    ``overwrite``: delete an existing run there first; ``stop_after``: stop (and
    checkpoint) after this many iterations in total, e.g. to split a run.
    """
    cfg = (SRConfig.from_dict(config) if isinstance(config, dict) else config).validate()
    ctx = distributed.setup(cfg.device)
    dev = ctx.device
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    if cfg.batch % ctx.world_size:
        raise ValueError(f"batch {cfg.batch} must be divisible by the number of processes {ctx.world_size}")
    use_amp = bool(cfg.amp) and dev.type == "cuda"
    mem = torch.channels_last if cfg.channels_last else torch.contiguous_format

    run_dir = Path(cfg.out)
    if ctx.is_main:
        prepare_run_dir(run_dir, asdict(cfg), resume=resume, overwrite=overwrite)
    distributed.barrier(ctx)

    R, D = build_models(cfg)
    R, D = R.to(dev, memory_format=mem), D.to(dev, memory_format=mem)
    R_ema = copy.deepcopy(R).eval().requires_grad_(False) if cfg.ema else None
    opt_R = torch.optim.Adam(R.parameters(), lr=cfg.lr, betas=tuple(cfg.betas))
    opt_D = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=tuple(cfg.betas))
    scaler_R = torch.amp.GradScaler("cuda", enabled=use_amp)
    scaler_D = torch.amp.GradScaler("cuda", enabled=use_amp)

    modules = {"R": R, "D": D, **({"R_ema": R_ema} if R_ema is not None else {})}
    optimizers = {"R": opt_R, "D": opt_D}
    start, history = 0, {"step": [], "loss_R": [], "loss_D": [], "rec": [], "adv_R": [], "r1": [], "stage": [],
                         "alpha": []}
    if resume:
        ckpt = latest_checkpoint(run_dir)
        if ckpt is None:
            raise FileNotFoundError(f"cannot resume: {run_dir} has no checkpoint")
        state = load_checkpoint(ckpt, modules, optimizers, restore_rng=True)
        start = int(state["step"])
        extra = state["extra"]
        history = {k: list(v) for k, v in extra.get("history", history).items()}
        if use_amp and "scaler_R" in extra:
            scaler_R.load_state_dict(extra["scaler_R"])
            scaler_D.load_state_dict(extra["scaler_D"])
    R_train, D_train = distributed.wrap(R, ctx), distributed.wrap(D, ctx)

    pool = _Pool(cfg, "train", cfg.n_train)
    G = _load_degradation(cfg.degradation, dev) if cfg.mode == "pseudo" else None
    end = cfg.iterations if stop_after is None else min(cfg.iterations, int(stop_after))

    def save(step):
        if not ctx.is_main:
            return
        extra = {"history": history}
        if use_amp:
            extra.update(scaler_R=scaler_R.state_dict(), scaler_D=scaler_D.state_dict())
        save_checkpoint(run_dir, step, modules, optimizers, extra=extra, keep=cfg.keep)

    bar = None
    if cfg.progress and ctx.is_main:
        from tqdm.auto import tqdm
        bar = tqdm(total=end, initial=start, desc=f"train-sr {cfg.mode}", dynamic_ncols=True)
    fixed = pool.get("lr", torch.arange(min(4, len(pool)))).to(dev)
    if G is not None:
        fixed = degrade(G, fixed)
    t0, steps_timed = time.perf_counter(), 0
    last_r1 = torch.zeros((), device=dev)
    for step in range(start, end):
        stage, alpha = stage_at(step, cfg)
        lr, hr = draw_batch(pool, cfg, step, ctx)
        lr, hr = lr.to(dev), hr.to(dev)
        if G is not None:
            lr = degrade(G, lr)
        lr = lr.contiguous(memory_format=mem)
        real = hr_at_stage(hr, stage, alpha, cfg.lr_size, cfg.levels).contiguous(memory_format=mem)
        conditions = [c.contiguous(memory_format=mem) for c in R.conditions(lr, stage)]

        # ---- R step: L_adv(R) + λ_rec L_rec (Eq. 10) ----
        R_train.train()
        D.requires_grad_(False)
        with torch.autocast(dev.type, dtype=torch.float16, enabled=use_amp):
            sr = R_train(lr, stage, alpha, conditions=conditions)
            adv_R = hinge_g_loss(D(sr, stage, alpha))
        sr32 = sr.float()
        rec = cycle_reconstruction_loss(sr32, lr) if cfg.mode == "unpaired" else reconstruction_loss(sr32, real.float())
        loss_R = sr_generator_objective(adv_R.float(), rec, cfg.lambda_rec)
        opt_R.zero_grad(set_to_none=True)
        scaler_R.scale(loss_R).backward()
        scaler_R.step(opt_R)
        scaler_R.update()
        D.requires_grad_(True)
        if R_ema is not None:
            _ema_update(R_ema, R, min(cfg.ema_decay, (1 + step) / (10 + step)))

        # ---- D step: hinge (Eq. 7) + λ_r1 · R1 (Eq. 9), lazy every r1_every steps ----
        do_r1 = cfg.r1 and step % cfg.r1_every == 0
        fake = sr.detach()
        with torch.autocast(dev.type, dtype=torch.float16, enabled=use_amp):
            fake_logits = D_train(fake, stage, alpha)
        if do_r1:
            real_in = real.detach().requires_grad_(True)
            real_logits = D_train(real_in, stage, alpha)            # fp32: the gradient penalty needs it
            r1 = r1_penalty(real_logits, real_in, r=cfg.r1_gamma) * cfg.r1_every
        else:
            with torch.autocast(dev.type, dtype=torch.float16, enabled=use_amp):
                real_logits = D_train(real, stage, alpha)
            r1 = last_r1                                            # logged: the last computed penalty
        adv_D = hinge_d_loss(real_logits.float(), fake_logits.float())
        loss_D = sr_discriminator_objective(adv_D, r1 if do_r1 else torch.zeros((), device=dev),
                                            cfg.lambda_r1 if cfg.r1 else 0.0)
        if do_r1:
            last_r1 = r1.detach()
        opt_D.zero_grad(set_to_none=True)
        scaler_D.scale(loss_D).backward()
        scaler_D.step(opt_D)
        scaler_D.update()

        check_finite({"loss_R": loss_R, "loss_D": loss_D}, step + 1, run_dir if ctx.is_main else None)
        steps_timed += 1
        if (step + 1) % cfg.log_every == 0 or step + 1 == end:
            vals = {k: distributed.all_reduce_mean(v.detach().float(), ctx).item()
                    for k, v in (("loss_R", loss_R), ("loss_D", loss_D), ("rec", rec), ("adv_R", adv_R), ("r1", r1))}
            history["step"].append(step + 1)
            for k, v in vals.items():
                history[k].append(v)
            history["stage"].append(stage)
            history["alpha"].append(alpha)
            if bar is not None:
                bar.set_postfix(stage=stage, alpha=f"{alpha:.2f}", R=f"{vals['loss_R']:.3f}", D=f"{vals['loss_D']:.3f}")
        if bar is not None:
            bar.update(1)
        if ctx.is_main and cfg.sample_every and (step + 1) % cfg.sample_every == 0:
            _save_samples(run_dir, step + 1, R_ema or R, fixed, stage, alpha)
        if (step + 1) % cfg.ckpt_every == 0 and step + 1 != end:
            save(step + 1)
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - t0
    final_step = max(end, start)
    if end > start:
        save(final_step)
    distributed.barrier(ctx)

    metrics = None
    if ctx.is_main and final_step >= cfg.iterations and cfg.n_test > 0:
        metrics = evaluate_run_models(cfg, R_ema or R, dev)
        (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    distributed.cleanup(ctx)
    return {"run_dir": run_dir, "step": final_step, "history": history, "metrics": metrics,
            "seconds_per_iteration": elapsed / steps_timed if steps_timed else math.nan, "R": R_ema or R, "D": D}


def held_out_pairs(cfg: SRConfig, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Held-out ``(lr, hr)`` of a config's setting (test split; real LR for the wild setting)."""
    pool = _Pool(cfg, "test", n or cfg.n_test)
    idx = torch.arange(len(pool))
    return pool.get("lr", idx), pool.get("hr", idx)


def evaluate_run_models(cfg: SRConfig, R: SelfConditionedSR, dev=None) -> dict:
    """Held-out PSNR/SSIM of R against bicubic (the DIC protocol's 8-px crop at ×8; Assumed: ×4 crops 4)."""
    lr, hr = held_out_pairs(cfg)
    return evaluate_fidelity(R, lr, hr, crop_border=8 if cfg.scale >= 8 else cfg.scale)


@torch.no_grad()
def _save_samples(run_dir: Path, step: int, R, lr: torch.Tensor, stage: int, alpha: float) -> None:
    from selfsr_edu.viz import save_grid

    was = R.training
    R.eval()
    sr = R(lr, stage, alpha).clamp(0, 1).float().cpu()
    bic = bicubic_pil(lr, sr.shape[-1]).clamp(0, 1).cpu()
    rows = [t for pair in zip(lr.cpu(), bic, sr) for t in pair]
    save_grid(rows, run_dir / "samples" / f"step_{step:07d}.png", nrow=3)
    R.train(was)


__all__ = ["SRConfig", "PRESETS", "config_from_preset", "train_sr", "stage_at", "draw_batch", "hr_at_stage",
           "build_models", "load_sr", "evaluate_fidelity", "evaluate_run_models", "held_out_pairs", "degrade", "MODES"]
