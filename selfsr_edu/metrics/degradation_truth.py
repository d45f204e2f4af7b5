"""How close is a learned degradation to the truth? (SynthFaces-wild only.)

The paper can only compare distributions (FID‡) because real degradations are
unknown. On SynthFaces-wild the hidden degradation is known: for every clean
LR input I_syn we also have ``lr_true``, the same face degraded by the true
process. So we can ask per image how far G(I_syn) is from it.

A random part of the truth (sensor noise, the blur direction) cannot be
predicted from I_syn, so even a perfect G has a non-zero per-pixel error.
Therefore we report, per image:

* ``l1``: mean absolute error between G's output and ``lr_true``;
* ``l1_lowpass``: the same after a 3×3 binomial blur of both, which removes most
  of the unpredictable noise and keeps colour, brightness, blur and shape;
* ``colour_shift``: ΔE between mean Lab colours of output and truth (does G
  get the true colour cast right?);
and the same three for the clean input itself (``*_clean``), the "do nothing"
baseline a useful G must beat.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from selfsr_edu.metrics.colour import colour_shift


def _lowpass(x: torch.Tensor) -> torch.Tensor:
    k = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype, device=x.device) / 4.0
    k2 = (k[:, None] * k[None, :]).expand(x.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k2, groups=x.shape[1])


def truth_l1(generated: torch.Tensor, lr_true: torch.Tensor, lowpass: bool = False) -> torch.Tensor:
    """Per image mean |generated − lr_true| (optionally after a 3×3 binomial blur)."""
    for name, x in (("generated", generated), ("lr_true", lr_true)):
        if not torch.is_tensor(x) or x.dim() != 4:
            raise ValueError(f"{name} must be an N×C×H×W tensor")
    if generated.shape != lr_true.shape:
        raise ValueError(f"generated {tuple(generated.shape)} and lr_true {tuple(lr_true.shape)} must match")
    a, b = generated.detach().float(), lr_true.detach().float()
    if lowpass:
        a, b = _lowpass(a), _lowpass(b)
    return (a - b).abs().mean(dim=(1, 2, 3))


def degradation_truth_report(generated: torch.Tensor, lr_true: torch.Tensor,
                             lr_clean: torch.Tensor | None = None) -> dict[str, float]:
    """Means over the set of ``l1``, ``l1_lowpass``, ``colour_shift`` (see module doc), and, when
    ``lr_clean`` is given, the same for the clean input as ``*_clean``."""
    gen = generated.detach().float().clamp(0, 1)
    report = {
        "l1": float(truth_l1(gen, lr_true).mean()),
        "l1_lowpass": float(truth_l1(gen, lr_true, lowpass=True).mean()),
        "colour_shift": float(colour_shift(gen, lr_true.float()).mean()),
    }
    if lr_clean is not None:
        report.update({
            "l1_clean": float(truth_l1(lr_clean, lr_true).mean()),
            "l1_lowpass_clean": float(truth_l1(lr_clean, lr_true, lowpass=True).mean()),
            "colour_shift_clean": float(colour_shift(lr_clean.float(), lr_true.float()).mean()),
        })
    return report


__all__ = ["truth_l1", "degradation_truth_report"]
