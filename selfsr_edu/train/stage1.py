"""Stage 1: the flow-field degradation network G (Eq. 5) or the CycleGAN baseline. Run with ``fit(stage1, config)``.

G learns a mapping clean bicubic LR → "wild" LR from *unpaired* examples of
both. Methods (Table III): ``"ff"`` (SelfSR's G, with Eq. 3), ``"cyc"`` and
``"cyc_idt"`` (CycleGAN, with Eq. 3 on its output). The paper's schedule (Sec.
IV-B): Adam β = (0.9, 0.99), lr 2e-4 held for the first half and decayed
linearly to 0 over the last half, 180k iterations, batch 48, λ_idt = 10, λ_s = 1.
Assumed (not in the paper): λ_cyc = 10 (Zhu et al.), one D update per G update,
D updated before G, the sizes of G and D_L.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from selfsr_edu.losses import (cycle_consistency_loss, degradation_objective, flow_smoothness, identity_loss,
                               lr_adversarial_d_loss, lr_adversarial_g_loss)
from selfsr_edu.models.cyclegan import CycleGAN
from selfsr_edu.models.degradation import FlowFieldDegradation
from selfsr_edu.models.patch_discriminator import PatchDiscriminator
from selfsr_edu.train import distributed
from selfsr_edu.train.loop import RunConfig, State, optimise, step_generator

NAME = "train-degradation"
METHODS = ("ff", "cyc", "cyc_idt")


@dataclass
class Config(RunConfig):
    """A stage-1 run; the defaults are the paper's (Sec. IV-B)."""

    method: str = "ff"                  # "ff" (G), "cyc", "cyc_idt" (Table III)
    model: str = "paper"                # size of G / CycleGAN and D_L (FlowFieldDegradation.from_preset)
    data: str = "synthfaces-wild"       # or your own HR faces, "folder" (hr_dir) or "celeba" (root), + real LR
    hr_dir: str | None = None           # data folder: HR faces (clean LR = their PIL bicubic downscale)
    root: str | None = None             # data celeba: the folder holding celeba/
    real_lr_dir: str | None = None      # data folder/celeba: real wild LR faces (unpaired)
    resize: bool = False                # folders: resize faces of another size (else an error listing them)
    data_file: str | None = None        # a .pt snapshot of SynthFaces-wild: read if present, else written
    n_train: int = 8192
    n_eval: int = 512                   # held-out items for evaluation and sample grids
    hr_size: int = 64
    lr_size: int = 16
    iterations: int = 180_000
    batch: int = 48
    lr: float = 2e-4
    lr_decay_start: float = 0.5
    lambda_idt: float = 10.0
    lambda_s: float = 1.0
    lambda_cyc: float = 10.0            # Assumed (Zhu et al.): CycleGAN variants only

    def validate(self) -> "Config":
        super().validate()
        self.data = "folder" if self.data == "folders" else self.data        # the name before 0.2
        self.check_choices(method=METHODS, model=("paper", "small", "tiny"), data=("synthfaces-wild", "folder", "celeba"))
        if self.data != "synthfaces-wild" and not (self.real_lr_dir and (self.hr_dir or self.root)):
            raise ValueError("--data folder/celeba needs --lr-dir (real LR faces) and --hr-dir (folder) or --root (celeba)")
        if self.data_file and self.data != "synthfaces-wild":
            raise ValueError("--data-file snapshots SynthFaces-wild only; folders are read directly")
        if min(self.n_train, self.n_eval) < 1:
            raise ValueError(f"n_train and n_eval must be >= 1, got {self.n_train}, {self.n_eval}")
        return self


SCHEDULES: dict[str, dict] = {
    "paper": dict(model="paper"),
    "course": dict(model="small", iterations=3_000, batch=32, n_train=2048, n_eval=256, sample_every=500,
                   ckpt_every=500),      # a few CPU minutes
    "quick": dict(model="tiny", iterations=300, batch=16, n_train=192, n_eval=64, sample_every=100,
                  ckpt_every=100, threads=1),       # notebooks and tests: tiny nets run fastest on one thread
}


def schedule(name: str, **overrides) -> Config:
    """The :data:`SCHEDULES` entry ``name`` with keyword overrides, validated."""
    return Config.from_schedule(SCHEDULES, name, **overrides)


def load_data(cfg: Config) -> dict[str, torch.Tensor]:
    """``train_clean``/``train_real`` (unpaired) and ``eval_clean``/``eval_real`` (held out), plus
    ``eval_true`` (the hidden true degradation of ``eval_clean``; SynthFaces-wild only)."""
    from selfsr_edu.data.settings import hr_faces, load_folder_lr, load_wild_lr

    if cfg.data != "synthfaces-wild":
        hr = hr_faces(cfg.data, "train", cfg.n_train + cfg.n_eval, cfg.hr_size, cfg.hr_dir, cfg.root, resize=cfg.resize)
        return load_folder_lr(hr, cfg.real_lr_dir, cfg.n_eval, cfg.hr_size, cfg.lr_size, cfg.resize)
    return load_wild_lr(cfg.n_train, cfg.n_eval, cfg.hr_size, cfg.lr_size, cfg.data_seed, cfg.progress,
                        snapshot=cfg.data_file)


def draw_batch(data: dict, cfg: Config, t: int, ctx: distributed.DistContext) -> dict:
    """Independent batches of clean and real LR for iteration ``t`` (unpaired by construction)."""
    gen = step_generator(cfg.seed, t)
    i_clean = torch.randint(0, data["train_clean"].shape[0], (cfg.batch,), generator=gen)
    i_real = torch.randint(0, data["train_real"].shape[0], (cfg.batch,), generator=gen)
    mine = slice(ctx.rank * cfg.batch // ctx.world_size, (ctx.rank + 1) * cfg.batch // ctx.world_size)
    return {"clean": data["train_clean"][i_clean[mine]].to(ctx.device),
            "real": data["train_real"][i_real[mine]].to(ctx.device)}


def init(cfg: Config, data: dict, ctx: distributed.DistContext) -> State:
    """G (or CycleGAN's two generators) and D_L (or two), seeded, with Adam optimisers."""
    if ctx.enabled:
        raise ValueError("stage 1 trains in one process (its networks are small); run it without torchrun")
    torch.manual_seed(cfg.seed)
    if cfg.method == "ff":
        modules = {"G": FlowFieldDegradation.from_preset(cfg.model), "D": PatchDiscriminator.from_preset(cfg.model)}
    else:
        cyc = CycleGAN.from_preset(cfg.model)
        modules = {"G": cyc.clean_to_wild, "F": cyc.wild_to_clean, "D": cyc.d_wild, "D_clean": cyc.d_clean}
    modules = {k: m.to(ctx.device).train() for k, m in modules.items()}
    groups = {"D": [k for k in modules if k.startswith("D")], "G": [k for k in modules if not k.startswith("D")]}
    optimizers = {name: torch.optim.Adam([p for k in keys for p in modules[k].parameters()], lr=cfg.lr,
                                         betas=cfg.betas) for name, keys in groups.items()}
    return State(cfg, ctx, modules, optimizers, modules)


def step(state: State, batch: dict, t: int) -> dict:
    """One iteration: the D step (Eq. 2), then the G step (Eq. 5, or CycleGAN's objective) against the new D."""
    cfg, m = state.config, state.train
    clean, real = batch["clean"], batch["real"]
    if cfg.method == "ff":
        out = m["G"](clean)                          # intermediate, flow, lr = warp(intermediate, flow) (Eq. 1)
        fake = out.lr
        losses = {"D": lr_adversarial_d_loss(m["D"](real), m["D"](fake.detach()))}
    else:
        fake, fake_clean = m["G"](clean), m["F"](real)
        losses = {"D": lr_adversarial_d_loss(m["D"](real), m["D"](fake.detach()))
                  + lr_adversarial_d_loss(m["D_clean"](clean), m["D_clean"](fake_clean.detach()))}
    optimise(state, "D", losses["D"], t)

    critics = [m[k].requires_grad_(False) for k in ("D", "D_clean") if k in m]   # G's gradients only, not D's
    if cfg.method == "ff":
        losses["adv"] = lr_adversarial_g_loss(m["D"](fake))
        losses["idt"] = identity_loss(out.intermediate, clean)                                 # Eq. 3
        losses["smooth"] = flow_smoothness(out.flow)                                           # Eq. 4
        losses["G"] = degradation_objective(losses["adv"], losses["idt"], losses["smooth"],
                                            cfg.lambda_idt, cfg.lambda_s)                      # Eq. 5
    else:
        losses["adv"] = lr_adversarial_g_loss(m["D"](fake)) + lr_adversarial_g_loss(m["D_clean"](fake_clean))
        losses["cyc"] = cycle_consistency_loss(m["F"](fake), clean) + cycle_consistency_loss(m["G"](fake_clean), real)
        losses["G"] = losses["adv"] + cfg.lambda_cyc * losses["cyc"]
        if cfg.method == "cyc_idt":
            losses["idt"] = identity_loss(fake, clean)          # Eq. 3 on CycleGAN's output (no intermediate)
            losses["G"] = losses["G"] + cfg.lambda_idt * losses["idt"]
    for critic in critics:
        critic.requires_grad_(True)
    optimise(state, "G", losses["G"], t)
    return losses


def trained_G(state: State):
    """Clean LR → degraded LR in [0, 1] (eval mode) of this run."""
    from selfsr_edu.evaluate import DegradationGenerator

    return DegradationGenerator(state.modules["G"], state.config.method).eval()


@torch.no_grad()
def samples(state: State, data: dict, t: int) -> list:
    """Sample-grid rows: clean input, G's output, [FF: intermediate, flow colours], real wild LR (unpaired)."""
    from selfsr_edu.data.flows import flow_to_color

    G, clean = state.modules["G"], data["eval_clean"][:8].to(state.ctx.device)
    was = G.training
    out = G.eval()(clean)
    G.train(was)
    if not hasattr(out, "flow"):
        return [clean, out, data["eval_real"][:8]]
    flow = flow_to_color(out.flow, max_magnitude=G.max_flow).to(clean)
    return [clean, out.lr.clamp(0, 1), out.intermediate.clamp(0, 1), flow, data["eval_real"][:8]]


def evaluate(state: State, data: dict) -> dict:
    """Held-out SWD / colour / truth metrics of G, of the clean input, and the true degradation's SWD floor."""
    from selfsr_edu.evaluate import evaluate_degradation
    from selfsr_edu.metrics.swd import swd

    metrics = {"generated": evaluate_degradation(trained_G(state), data),
               "clean_bicubic": evaluate_degradation(None, data)}
    if "eval_true" in data:
        metrics["true_degradation_swd"] = swd(data["eval_true"], data["eval_real"])
    return metrics

