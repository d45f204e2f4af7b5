"""Stage 2: R and D_H with Eq. 10, grown progressively (Sec. III-B, IV). Run with ``fit(stage2, config)``.

Modes: ``"paired"`` (the DIC protocol: LR = PIL bicubic of the 128×128 HR; Eq. 8),
``"unpaired"`` (LR and HR drawn independently; Eq. 11's cycle loss) and ``"pseudo"`` (the
two-stage pipeline on SynthFaces-wild: a frozen stage-1 G degrades the clean LR on the fly, ×4;
evaluated on the truly degraded LR). While R is at stage s < L, its real images are the HR
downscaled to s's resolution, faded in exactly like R's output (progressive GAN).

Assumed where the paper is silent (all in the config): the fade-in length; R1 every iteration
in the paper schedules (Eq. 10 as written); an EMA of R's weights for evaluation (decay 0.999,
warm-up); horizontal flips; D updated before R, both on the same R output.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from selfsr_edu.losses import (cycle_reconstruction_loss, hinge_d_loss, hinge_g_loss, r1_penalty, reconstruction_loss,
                               sr_discriminator_objective, sr_generator_objective)
from selfsr_edu.models.progressive_discriminator import ProgressiveDiscriminator
from selfsr_edu.models.sr import SelfConditionedSR, fade_in, upsample2
from selfsr_edu.resize import bicubic_pil
from selfsr_edu.train import distributed
from selfsr_edu.train.loop import RunConfig, State, optimise, step_generator

NAME = "train-sr"
MODES = ("paired", "unpaired", "pseudo")


@dataclass
class Config(RunConfig):
    """A stage-2 run; the defaults are the paper's paired CelebA ×8 schedule (Sec. IV-A)."""

    mode: str = "paired"
    model: str = "paper"                # R's size (SelfConditionedSR.from_preset); D_H the same
    block: str = "scb"                  # "scb" (Eq. 6) | "concat" (Table IV vanilla) | "spade"
    residual: bool = False              # Assumed off: R predicts the image (see models/sr.py)
    levels: int = 3                     # 3: ×8 (16 → 128); 2: ×4 (16 → 64)
    lr_size: int = 16
    iterations: int = 160_000
    growth: tuple = (20_000, 80_000)    # iterations at which R grows a level (levels − 1 of them)
    fade_in: int = 5_000                # Assumed: iterations over which alpha goes 0 → 1
    progressive: bool = True            # False: Table IV "no Prog." (the full network from the start)
    batch: int = 48
    lr: float = 0.003
    lambda_rec: float = 150.0
    lambda_r1: float = 3.0
    r1_gamma: float = 10.0              # r in Eq. 9
    r1: bool = True                     # False: Table IV "no R1"
    r1_every: int = 1                   # lazy R1: every k iterations, scaled by k
    adv_start: int = 0                  # iterations of L_rec alone before D and the adversarial term start
    ema: bool = True
    ema_decay: float = 0.999
    amp: bool = True                    # mixed precision on CUDA (ignored on CPU)
    channels_last: bool = True
    flip: bool = True
    n_train: int = 2000
    n_test: int = 100
    degradation: str | None = None      # stage-1 run or checkpoint (mode "pseudo")
    data: str = "synthfaces"            # or your own HR faces: "folder" (hr_dir) or "celeba" (root: holds celeba/)
    hr_dir: str | None = None
    root: str | None = None
    lr_dir: str | None = None           # unpaired: real LR faces for the LR side (else the HR faces' bicubic LR)
    resize: bool = False                # folders: resize faces of another size (else an error listing them)

    def validate(self) -> "Config":
        super().validate()
        self.check_choices(mode=MODES, block=("scb", "concat", "spade"), model=("paper", "small", "tiny"),
                           data=("synthfaces", "folder", "celeba"))
        if (self.data == "folder" and not self.hr_dir) or (self.data == "celeba" and not self.root):
            raise ValueError("--data folder needs --hr-dir (a folder of HR faces); --data celeba needs --root")
        self.growth = tuple(int(g) for g in self.growth)
        if len(self.growth) != self.levels - 1 or list(self.growth) != sorted(self.growth):
            raise ValueError(f"growth needs {self.levels - 1} increasing iterations for {self.levels} levels, "
                             f"got {self.growth}")
        if self.mode == "pseudo" and not self.degradation:
            raise ValueError("mode pseudo needs --degradation: a trained stage-1 run folder or checkpoint")
        if min(self.fade_in, self.r1_every, self.n_train) < 1 or min(self.n_test, self.adv_start) < 0:
            raise ValueError("fade_in, r1_every and n_train must be >= 1, n_test and adv_start >= 0")
        return self

    @property
    def scale(self) -> int:
        return 1 << self.levels

    @property
    def hr_size(self) -> int:
        return self.lr_size << self.levels


#: Named schedules: the paper's (Sec. IV-A, IV-B) and a quick one for notebooks and tests.
SCHEDULES: dict[str, dict] = {
    "paper": dict(mode="paired", iterations=160_000, growth=(20_000, 80_000), fade_in=5_000),
    "unpaired": dict(mode="unpaired", iterations=280_000, growth=(40_000, 120_000), fade_in=10_000),
    "realworld": dict(mode="pseudo", levels=2, iterations=160_000, growth=(60_000,), fade_in=15_000),
    "course": dict(model="small", iterations=2200, growth=(300, 550), fade_in=50, batch=8, lr=0.03, lr_decay_start=0.6,
                   adv_start=1900, n_train=1000, r1_every=4, sample_every=250, ckpt_every=250),  # Assumed: README
    "long": dict(model="small", iterations=3300, growth=(300, 550), fade_in=50, batch=8, lr=0.03, lr_decay_start=0.6,
                 adv_start=2850, n_train=1000, r1_every=4, sample_every=250, ckpt_every=250),  # Assumed: course × 1.5
    "quick": dict(model="tiny", iterations=60, growth=(20, 40), fade_in=10, batch=8, n_train=32, n_test=8,
                  r1_every=4, sample_every=30, ckpt_every=30, log_every=10, ema_decay=0.9, threads=1),
}


def schedule(name: str, **overrides) -> Config:
    """The :data:`SCHEDULES` entry ``name`` with keyword overrides, validated."""
    return Config.from_schedule(SCHEDULES, name, **overrides)


def stage_at(t: int, cfg: Config) -> tuple[int, float]:
    """``(stage, alpha)`` at iteration ``t``: 1 + growths passed; alpha rises from
    1/fade_in to 1 over ``fade_in`` iterations after each growth. No progressive: (L, 1)."""
    if not cfg.progressive:
        return cfg.levels, 1.0
    stage = 1 + sum(t >= g for g in cfg.growth)
    if stage == 1:
        return 1, 1.0
    return stage, min(1.0, (t - cfg.growth[stage - 2] + 1) / cfg.fade_in)


def hr_at_stage(hr: torch.Tensor, stage: int, alpha: float, cfg: Config) -> torch.Tensor:
    """The real image R's output at ``stage`` is compared with: the HR at ×2^stage (PIL bicubic),
    faded in from the up-sampled previous stage like R's output."""
    def at(s):
        return hr if s == cfg.levels else bicubic_pil(hr, cfg.lr_size << s).clamp(0, 1)

    return fade_in(upsample2(at(stage - 1)), at(stage), alpha) if alpha < 1 and stage > 1 else at(stage)


def load_data(cfg: Config) -> dict:
    """Training and held-out faces as uint8 tensors (and the frozen stage-1 G in mode pseudo)."""
    from selfsr_edu.data.settings import sr_data

    data = {split: sr_data(cfg, split) for split in ("train", "test")}
    if cfg.mode == "pseudo":
        from selfsr_edu.evaluate import load_generator

        data["G"] = load_generator(cfg.degradation).requires_grad_(False)
    return data


def draw_batch(data: dict, cfg: Config, t: int, ctx: distributed.DistContext) -> dict:
    """``{"lr", "hr"}`` of iteration ``t`` on this process's device: the global batch from
    ``step_generator(seed, t)``, this process's slice. Unpaired: HR drawn independently of LR."""
    gen, n = step_generator(cfg.seed, t), len(data["train"]["hr"])
    idx_lr = torch.randint(0, n, (cfg.batch,), generator=gen)
    idx_hr = torch.randint(0, n, (cfg.batch,), generator=gen) if cfg.mode == "unpaired" else idx_lr
    flip_lr = torch.rand(cfg.batch, generator=gen) < 0.5
    flip_hr = torch.rand(cfg.batch, generator=gen) < 0.5 if cfg.mode == "unpaired" else flip_lr
    mine = slice(ctx.rank * cfg.batch // ctx.world_size, (ctx.rank + 1) * cfg.batch // ctx.world_size)
    out = {}
    for key, idx, flip in (("lr", idx_lr, flip_lr), ("hr", idx_hr, flip_hr)):
        x = data["train"][key][idx[mine]].to(ctx.device).float().div_(255)
        out[key] = torch.where(flip[mine, None, None, None].to(ctx.device), x.flip(-1), x) if cfg.flip else x
    if "G" in data:
        with torch.no_grad():
            out["lr"] = data["G"].to(ctx.device)(out["lr"])      # I_gen^L = G(I_syn^L), frozen
    mem = torch.channels_last if cfg.channels_last else torch.contiguous_format
    return {k: v.contiguous(memory_format=mem) for k, v in out.items()}


def init(cfg: Config, data: dict, ctx: distributed.DistContext) -> State:
    """R, D_H (seeded), their Adam optimisers, an EMA copy of R and AMP scalers on CUDA."""
    torch.manual_seed(cfg.seed)
    mem = torch.channels_last if cfg.channels_last else torch.contiguous_format
    R = SelfConditionedSR.from_preset(cfg.model, levels=cfg.levels, block=cfg.block, residual=cfg.residual)
    D = ProgressiveDiscriminator.from_preset(cfg.model, levels=cfg.levels)
    modules = {"R": R.to(ctx.device, memory_format=mem), "D": D.to(ctx.device, memory_format=mem)}
    if cfg.ema:
        modules["R_ema"] = copy.deepcopy(R).eval().requires_grad_(False)
    optimizers = {k: torch.optim.Adam(modules[k].parameters(), lr=cfg.lr, betas=cfg.betas) for k in ("D", "R")}
    amp = cfg.amp and ctx.device.type == "cuda"
    scalers = {k: torch.amp.GradScaler("cuda") for k in ("D", "R")} if amp else {}
    train = {k: distributed.wrap(modules[k], ctx) for k in ("R", "D")}
    return State(cfg, ctx, modules, optimizers, train, scalers, {"amp": amp})


def step(state: State, batch: dict, t: int) -> dict:
    """One iteration of Eq. 10: the D step, then the R step against the updated D."""
    cfg, R, D = state.config, state.train["R"], state.train["D"]
    stage, alpha = stage_at(t, cfg)
    lr, real = batch["lr"], hr_at_stage(batch["hr"], stage, alpha, cfg)
    amp = torch.autocast(state.ctx.device.type, dtype=torch.float16, enabled=state.extra["amp"])
    with amp:
        sr = R(lr, stage, alpha)                                  # Fig. 3: ×2^stage, newest level faded in

    # ---- D step: hinge (Eq. 7) + λ_r1 · R1 (Eq. 9), R1 lazily every r1_every iterations ----
    losses, adversarial = {}, t >= cfg.adv_start                 # (none during an L_rec-only warm-up)
    if adversarial:
        with amp:
            fake_logits = D(sr.detach(), stage, alpha)
        if cfg.r1 and t % cfg.r1_every == 0:
            real = real.detach().requires_grad_(True)
            real_logits = D(real, stage, alpha)                   # fp32: the gradient penalty needs it
            losses["r1"] = r1_penalty(real_logits, real, r=cfg.r1_gamma) * cfg.r1_every
        else:
            with amp:
                real_logits = D(real, stage, alpha)
        adv_D = hinge_d_loss(real_logits.float(), fake_logits.float())
        losses["D"] = sr_discriminator_objective(adv_D, losses.get("r1", torch.zeros(())), cfg.lambda_r1 * cfg.r1)
        optimise(state, "D", losses["D"], t)

    # ---- R step: −E[D(sr)] + λ_rec L_rec (Eq. 10; L_rec is Eq. 8, or Eq. 11 unpaired) ----
    adv_R = torch.zeros((), device=sr.device)
    if adversarial:
        D_plain = state.modules["D"].requires_grad_(False)        # gradients flow to sr only
        with amp:
            adv_R = hinge_g_loss(D_plain(sr, stage, alpha)).float()
        D_plain.requires_grad_(True)
    rec = (cycle_reconstruction_loss(sr.float(), lr) if cfg.mode == "unpaired"
           else reconstruction_loss(sr.float(), real.detach()))
    losses["R"] = sr_generator_objective(adv_R, rec, cfg.lambda_rec)
    optimise(state, "R", losses["R"], t)
    if "R_ema" in state.modules:                                  # Assumed: EMA, its decay warmed up
        torch._foreach_lerp_(list(state.modules["R_ema"].parameters()), list(state.modules["R"].parameters()),
                             1.0 - min(cfg.ema_decay, (1 + t) / (10 + t)))
    return {**losses, "rec": rec, "adv_R": adv_R, "stage": stage, "alpha": alpha}


def trained_R(state: State) -> SelfConditionedSR:
    """The R to evaluate: the EMA weights when kept."""
    return state.modules.get("R_ema", state.modules["R"])


@torch.no_grad()
def samples(state: State, data: dict, t: int) -> list:
    """Sample-grid rows after iteration ``t``: LR · bicubic · R (at t's stage) for four held-out faces."""
    lr = (data["test"] if len(data["test"]["lr"]) else data["train"])["lr"][:4].float().div(255).to(state.ctx.device)
    R, was = trained_R(state), trained_R(state).training
    sr = R.eval()(lr, *stage_at(t - 1, state.config)).clamp(0, 1)
    R.train(was)
    return [lr, bicubic_pil(lr, sr.shape[-1]).clamp(0, 1), sr]


def evaluate(state: State, data: dict) -> dict | None:
    """Held-out PSNR/SSIM of R (EMA) against bicubic: the DIC protocol's 8-px crop at ×8 (Assumed: ×4 crops 4)."""
    from selfsr_edu.evaluate import crop_border, fidelity

    if not len(data["test"]["lr"]):
        return None
    lr, hr = data["test"]["lr"].float().div(255), data["test"]["hr"].float().div(255)
    return fidelity(trained_R(state), lr, hr, crop_border=crop_border(state.config.scale))

