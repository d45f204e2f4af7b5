"""Every score of a trained model, in one place.

* :func:`load_generator` / :func:`load_sr`: a trained stage-1 G / stage-2 R from a run
  folder (its latest checkpoint) or one checkpoint folder, in eval mode;
* :func:`evaluate_degradation`: stage 1's held-out metrics (SWD to the real wild LR,
  the weight-free stand-in for Table III's FID‡; colour drift; distance to the truth);
* :func:`super_resolve`, :func:`fidelity` and :func:`sr_table`: R against bicubic
  under the DIC protocol (PSNR/SSIM on Y, BT.601, 8-px border crop at ×8, 8-bit),
  plus SWD, and LPIPS/FID only when their weight files are given.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from selfsr_edu.resize import bicubic_pil
from selfsr_edu.train.checkpoint import load_weights, read_run_record, resolve_checkpoint


def crop_border(scale: int) -> int:
    """The border cropped before PSNR/SSIM: the DIC protocol's 8 px at ×8 (Assumed: ×4 crops 4, ×2 crops 2)."""
    return 8 if scale >= 8 else scale


def sr_network(cfg) -> nn.Module:
    """An untrained R shaped like a stage-2 config (``model``, ``levels``, ``block``, ``residual``)."""
    from selfsr_edu.models.sr import SelfConditionedSR

    return SelfConditionedSR.from_preset(cfg.model, levels=cfg.levels, block=cfg.block, residual=cfg.residual)


def degradation_network(method: str, model: str) -> nn.Module:
    """An untrained clean → wild generator: FF's G (``"ff"``) or CycleGAN's clean_to_wild."""
    from selfsr_edu.models.cyclegan import CycleGAN
    from selfsr_edu.models.degradation import FlowFieldDegradation

    return FlowFieldDegradation.from_preset(model) if method == "ff" else CycleGAN.from_preset(model).clean_to_wild


class DegradationGenerator(nn.Module):
    """Clean LR → degraded LR in [0, 1]: a trained FF's ``G(lr).lr`` or CycleGAN's clean→wild."""

    def __init__(self, net: nn.Module, method: str):
        super().__init__()
        self.net, self.method = net, method

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        out = self.net(lr)
        return (out.lr if self.method == "ff" else out).clamp(0, 1)


def load_generator(run_or_ckpt: str | Path) -> DegradationGenerator:
    """The trained degradation of a stage-1 run (``train-degradation``) or a shipped reference G (``"ff-idt"``,
    ``"cyc"``), in eval mode: ``load_generator(path)(clean_lr) -> degraded_lr``; ``.net`` is the raw generator."""
    from selfsr_edu import reference

    if not Path(run_or_ckpt).exists() and reference.registry().get(str(run_or_ckpt), {}).get("kind") == "degradation":
        return reference.load(str(run_or_ckpt))

    run_dir, ckpt = resolve_checkpoint(run_or_ckpt)
    record = read_run_record(run_dir)
    if record["stage"] != "train-degradation" or not (ckpt / "G.safetensors").exists():
        raise ValueError(f"{run_or_ckpt} is not a stage-1 (train-degradation) run: it has no trained G")
    cfg = record["config"]
    net = degradation_network(cfg["method"], cfg["model"])
    load_weights(net, ckpt / "G.safetensors")
    return DegradationGenerator(net, cfg["method"]).eval()


def load_sr(run_or_ckpt: str | Path, ema: bool = True):
    """``(R, config)`` of a stage-2 run (``train-sr``) in eval mode; ``ema``: the EMA weights when saved."""
    from selfsr_edu.train.stage2 import Config

    run_dir, ckpt = resolve_checkpoint(run_or_ckpt)
    record = read_run_record(run_dir)
    if record["stage"] != "train-sr":
        raise ValueError(f"{run_or_ckpt} is not a stage-2 (train-sr) run")
    cfg = Config.from_dict(record["config"])
    R = sr_network(cfg)
    name = "R_ema" if ema and (ckpt / "R_ema.safetensors").exists() else "R"
    load_weights(R, ckpt / f"{name}.safetensors")
    return R.eval(), cfg


@torch.no_grad()
def evaluate_degradation(generator, data: dict, batch: int = 256) -> dict[str, float]:
    """Held-out stage-1 metrics of a clean → degraded mapping (``None``: the clean LR itself).

    ``swd`` between the generated set and the real wild LR set; ``colour_shift`` and
    ``mean_delta_e`` between output and its clean input (ΔE*ab); with SynthFaces-wild also
    ``truth_l1``, ``truth_l1_lowpass``, ``truth_colour_shift`` against the true degradation.
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
    report = {"swd": swd(gen, data["eval_real"]), "colour_shift": float(colour_shift(gen, clean).mean()),
              "mean_delta_e": float(mean_delta_e(gen, clean).mean())}
    if "eval_true" in data:
        truth = degradation_truth_report(gen, data["eval_true"])
        report.update(truth_l1=truth["l1"], truth_l1_lowpass=truth["l1_lowpass"],
                      truth_colour_shift=truth["colour_shift"])
    return report


@torch.no_grad()
def super_resolve(R: nn.Module, lr: torch.Tensor, batch: int = 32, stage: int | None = None) -> torch.Tensor:
    """R's output for every LR image, in batches on R's device, clamped to [0, 1], on the CPU."""
    dev = next(R.parameters()).device
    return torch.cat([R(lr[i:i + batch].to(dev), stage).clamp(0, 1).float().cpu() for i in range(0, len(lr), batch)])


def fidelity(R: nn.Module, lr: torch.Tensor, hr: torch.Tensor, crop_border: int = 8) -> dict:
    """Mean PSNR/SSIM (Y, BT.601, ``crop_border`` px, 8-bit) of R and of bicubic on ``(lr, hr)``."""
    from selfsr_edu.metrics import psnr, ssim

    was = R.training
    sr = super_resolve(R.eval(), lr)
    R.train(was)
    bic = bicubic_pil(lr, hr.shape[-1]).clamp(0, 1)
    return {"psnr": psnr(sr, hr, crop_border=crop_border).mean().item(),
            "ssim": ssim(sr, hr, crop_border=crop_border).mean().item(),
            "psnr_bicubic": psnr(bic, hr, crop_border=crop_border).mean().item(),
            "ssim_bicubic": ssim(bic, hr, crop_border=crop_border).mean().item(), "n": int(hr.shape[0]),
            "protocol": f"Y channel (BT.601), {crop_border}-px border crop, 8-bit, mean over images"}


def held_out_pairs(cfg, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Held-out ``(lr, hr)`` in [0, 1] of a stage-2 config's setting (test split; real LR for the wild setting;
    for your own faces, ``--data folder/celeba``, the first ``n`` of the ``n_test`` held out in training)."""
    from dataclasses import replace

    from selfsr_edu.data.settings import sr_data

    if cfg.data != "synthfaces" and n and n > cfg.n_test:
        raise ValueError(f"this run held out {cfg.n_test} of its own faces; asked for {n}")
    pairs = sr_data(cfg if cfg.data != "synthfaces" else replace(cfg, n_test=n or cfg.n_test), "test")
    return pairs["lr"][:n].float().div(255), pairs["hr"][:n].float().div(255)


def held_out_params(cfg, n: int | None = None) -> list[dict]:
    """SynthFaces parameters of the faces :func:`held_out_pairs` returns (same order): the
    attributes (glasses, beard, lighting, ...) and, through
    :func:`selfsr_edu.data.synthfaces.part_masks`, the part masks of each held-out HR face."""
    from selfsr_edu.data.settings import PairedSynthFaces, WildSynthFaces

    if getattr(cfg, "data", "synthfaces") != "synthfaces":
        raise ValueError(f"held_out_params: only SynthFaces have face parameters; this config's data is {cfg.data!r}")
    n = n or cfg.n_test
    hr_size = cfg.lr_size << cfg.levels
    if cfg.mode == "pseudo":
        ds = WildSynthFaces(n, "test", hr_size=hr_size, lr_size=cfg.lr_size, seed=cfg.data_seed)
        return [ds.params(i)["hr"] for i in range(n)]
    ds = PairedSynthFaces(n, "test", hr_size=hr_size, scale=1 << cfg.levels, seed=cfg.data_seed)
    return [ds.params(i) for i in range(n)]


def sr_table(R, cfg, n: int = 100, hr_folder=None, label: str = "R", lpips_weights=None, fid_weights=None,
             device: str = "cpu") -> tuple[list[dict], str]:
    """Rows ``{"method", "PSNR", "SSIM", "SWD", ["LPIPS"], ["FID"]}`` for bicubic and R (trained with the
    stage-2 config ``cfg``), and the protocol line."""
    from selfsr_edu.data.io import quantise8
    from selfsr_edu.metrics import psnr, ssim
    from selfsr_edu.metrics.swd import swd

    R = R.to(device)
    if hr_folder:
        from selfsr_edu.data import FaceFolder

        ds = FaceFolder(hr_folder, size=None)
        hr = [ds[i] for i in range(min(n, len(ds)))]
        wrong = [f"{ds.files[i].name} ({x.shape[-1]}×{x.shape[-2]})" for i, x in enumerate(hr)
                 if x.shape[-2:] != (cfg.hr_size, cfg.hr_size)]
        if wrong:
            raise ValueError(f"--hr-folder {hr_folder}: {len(wrong)} HR images are not {cfg.hr_size}×{cfg.hr_size}, "
                             f"e.g. {', '.join(wrong[:3])}; ground truth is never rescaled. Prepare the faces first "
                             "(data_scripts/prepare_dic.py crops and resizes the DIC way)")
        hr = torch.stack(hr)
        lr = quantise8(bicubic_pil(hr, cfg.lr_size))
        source = f"{hr.shape[0]} faces from {hr_folder}"
    else:
        lr, hr = held_out_pairs(cfg, n)
        source = (f"{hr.shape[0]} held-out SynthFaces ({'real LR' if cfg.mode == 'pseudo' else 'DIC-protocol LR'})"
                  if cfg.data == "synthfaces" else f"{hr.shape[0]} held-out faces of "
                  f"{cfg.hr_dir if cfg.data == 'folder' else 'the CelebA test split'} (DIC-protocol LR)")
    crop = crop_border(cfg.scale)
    lp = None
    if lpips_weights:
        from selfsr_edu.metrics.perceptual import LPIPSMetric

        lp = LPIPSMetric(lpips_weights, device)
    rows = []
    for name, img in (("bicubic", bicubic_pil(lr, cfg.hr_size).clamp(0, 1)),
                      (label, super_resolve(R, lr))):
        row = {"method": name, "PSNR": psnr(img, hr, crop_border=crop).mean().item(),
               "SSIM": ssim(img, hr, crop_border=crop).mean().item(), "SWD": swd(img, hr)}
        if lp is not None:
            row["LPIPS"] = lp(img, hr).mean().item()
        if fid_weights:
            from selfsr_edu.metrics.perceptual import fid

            row["FID"] = fid(img, hr, fid_weights, device)["fid"]
        rows.append(row)
    protocol = (f"{source}, ×{cfg.scale}; PSNR/SSIM on Y (BT.601), {crop}-px border crop, 8-bit; "
                f"SWD: Laplacian-pyramid sliced Wasserstein vs the HR set"
                + ("; LPIPS: AlexNet v0.1" if lp is not None else "")
                + (f"; FID: Inception pool, {hr.shape[0]} samples (biased high below 2048)" if fid_weights else ""))
    return rows, protocol


__all__ = ["crop_border", "sr_network", "degradation_network", "DegradationGenerator", "load_generator", "load_sr", "evaluate_degradation", "super_resolve", "fidelity",
           "held_out_pairs", "held_out_params", "sr_table"]
