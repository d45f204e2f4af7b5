"""Colour drift: the paper's skin-colour claim made measurable (Sec. I, III-A).

The paper argues that CycleGAN "drifts" the skin colour of the input while the
flow-field network G keeps it. We measure how far a degraded output's colours
are from its clean input in CIELAB, where Euclidean distance roughly follows
perceived colour difference (ΔE*ab, CIE 1976; ΔE ≈ 2.3 is a just-noticeable
difference).

* :func:`rgb_to_lab` — sRGB in [0, 1] → L*a*b* (D65 white, 2° observer), the
  same conversion as ``skimage.color.rgb2lab``:
  1. undo the sRGB gamma: ``c ≤ 0.04045 ? c/12.92 : ((c + 0.055)/1.055)^2.4``;
  2. linear RGB → XYZ with the sRGB/D65 matrix;
  3. divide by the white point (0.95047, 1, 1.08883);
  4. ``f(t) = t^(1/3)`` above (6/29)³, else ``t/(3·(6/29)²) + 4/29``;
  5. ``L = 116 f(Y) − 16, a = 500 (f(X) − f(Y)), b = 200 (f(Y) − f(Z))``.
* :func:`mean_delta_e` — mean per-pixel ΔE between two images. Blur and noise
  raise it too, so it mixes "degraded" with "recoloured".
* :func:`colour_shift` — ΔE between the two images' *average* Lab colours:
  blur, warping and zero-mean noise leave the average colour almost alone, so
  this isolates a colour cast. Our main "colour drift" number.
* :func:`chroma_shift` — the same restricted to the (a*, b*) plane (hue and
  saturation, ignoring brightness).
All return one value per image (tensor of shape N).
"""
from __future__ import annotations

import torch

# sRGB (linear) → XYZ, D65 (IEC 61966-2-1), the matrix skimage uses
_RGB_TO_XYZ = torch.tensor([
    [0.412453, 0.357580, 0.180423],
    [0.212671, 0.715160, 0.072169],
    [0.019334, 0.119193, 0.950227],
], dtype=torch.float64)
_WHITE_D65 = torch.tensor([0.95047, 1.0, 1.08883], dtype=torch.float64)


def _check(x: torch.Tensor, name: str) -> None:
    if not torch.is_tensor(x) or x.dim() != 4 or x.shape[1] != 3:
        shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise ValueError(f"{name} must be N×3×H×W RGB in [0, 1], got {shape}")


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB N×3×H×W in [0, 1] → CIELAB N×3×H×W (L in [0, 100]); values are clamped to [0, 1] first."""
    _check(rgb, "rgb")
    c = rgb.double().clamp(0, 1)
    linear = torch.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = torch.einsum("ij,njhw->nihw", _RGB_TO_XYZ.to(c.device), linear)
    t = xyz / _WHITE_D65.to(c.device).view(1, 3, 1, 1)
    delta = 6.0 / 29.0
    f = torch.where(t > delta**3, t.clamp_min(1e-12) ** (1.0 / 3.0), t / (3 * delta**2) + 4.0 / 29.0)
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
    lab = torch.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=1)
    return lab.to(rgb.dtype if rgb.is_floating_point() else torch.float32)


def _pair(images: torch.Tensor, reference: torch.Tensor):
    _check(images, "images")
    _check(reference, "reference")
    if images.shape != reference.shape:
        raise ValueError(f"images {tuple(images.shape)} and reference {tuple(reference.shape)} must match")
    return rgb_to_lab(images).double(), rgb_to_lab(reference).double()


def mean_delta_e(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Per image: mean over pixels of ΔE*ab (CIE76) between ``images`` and ``reference``."""
    a, b = _pair(images, reference)
    return (a - b).pow(2).sum(1).sqrt().mean(dim=(1, 2)).float()


def colour_shift(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Per image: ΔE*ab between the mean Lab colour of ``images`` and of ``reference``."""
    a, b = _pair(images, reference)
    return (a.mean(dim=(2, 3)) - b.mean(dim=(2, 3))).pow(2).sum(1).sqrt().float()


def chroma_shift(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Per image: distance between the mean (a*, b*) of ``images`` and of ``reference``."""
    a, b = _pair(images, reference)
    return (a[:, 1:].mean(dim=(2, 3)) - b[:, 1:].mean(dim=(2, 3))).pow(2).sum(1).sqrt().float()


__all__ = ["rgb_to_lab", "mean_delta_e", "colour_shift", "chroma_shift"]
