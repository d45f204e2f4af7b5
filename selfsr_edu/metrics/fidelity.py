"""Fidelity metrics: PSNR and SSIM, per image, the way face-SR papers report them.

Protocol (DESIGN.md; DIC, Ma et al. 2020, and the SelfSR tables):

1. images are quantised to 8 bits (``round(255·x)``), as if saved to PNG;
2. the border of ``crop_border`` pixels is dropped on every side;
3. with ``y_channel=True`` (default) both images are converted from **RGB**
   to the luma Y of ITU-R BT.601, on the 0–255 scale::

       Y = 16 + 65.481·R + 128.553·G + 24.966·B        (R, G, B in [0, 1])

   (BasicSR's ``to_y_channel`` computes the same from *BGR* arrays read by
   OpenCV; our tensors are RGB, so the coefficients are in RGB order here);
4. PSNR = 10·log10(255² / MSE); SSIM (Wang et al., 2004) with an 11×11
   Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03, L = 255, averaged over the
   valid region (no padding: the SSIM map is 10 pixels smaller than the image).

Both return a tensor of shape N (one value per image); average yourself.
Identical images give PSNR = inf.
"""
from __future__ import annotations


import torch

from selfsr_edu.data.io import quantise8

BT601_RGB = (65.481, 128.553, 24.966)


def rgb_to_y(images: torch.Tensor) -> torch.Tensor:
    """ITU-R BT.601 luma of N×3×H×W **RGB** images in [0, 1], on the 0–255
    scale (16–235 for in-range input), as N×1×H×W."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"rgb_to_y expects N×3×H×W RGB images, got shape {tuple(images.shape)}")
    r, g, b = images[:, 0:1], images[:, 1:2], images[:, 2:3]
    return 16.0 + BT601_RGB[0] * r + BT601_RGB[1] * g + BT601_RGB[2] * b


def _prepare(sr: torch.Tensor, hr: torch.Tensor, crop_border: int, y_channel: bool, quantize: bool,
             name: str) -> tuple[torch.Tensor, torch.Tensor]:
    if not (torch.is_tensor(sr) and torch.is_tensor(hr)):
        raise TypeError(f"{name}: expected two tensors")
    if sr.dim() == 3:
        sr = sr[None]
    if hr.dim() == 3:
        hr = hr[None]
    if sr.shape != hr.shape:
        raise ValueError(f"{name}: image shapes differ, sr {tuple(sr.shape)} vs hr {tuple(hr.shape)}")
    if sr.dim() != 4 or sr.shape[1] not in (1, 3):
        raise ValueError(f"{name}: expected N×3×H×W (or N×1×H×W) images, got {tuple(sr.shape)}")
    if crop_border < 0 or 2 * crop_border >= min(sr.shape[-2:]):
        raise ValueError(f"{name}: crop_border={crop_border} leaves nothing of a {sr.shape[-2]}×{sr.shape[-1]} image")
    sr, hr = sr.detach().double(), hr.detach().double()
    if quantize:
        sr, hr = quantise8(sr), quantise8(hr)
    if crop_border:
        sr = sr[..., crop_border:-crop_border, crop_border:-crop_border]
        hr = hr[..., crop_border:-crop_border, crop_border:-crop_border]
    if y_channel:
        if sr.shape[1] != 3:
            raise ValueError(f"{name}: y_channel=True needs RGB images")
        return rgb_to_y(sr), rgb_to_y(hr)
    return sr * 255.0, hr * 255.0


def psnr(sr: torch.Tensor, hr: torch.Tensor, crop_border: int = 0, y_channel: bool = True,
         quantize: bool = True) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image (shape N), peak 255.

    ``sr``, ``hr``: N×3×H×W RGB in [0, 1]. See the module docstring for the
    protocol. Identical images give ``inf``.
    """
    a, b = _prepare(sr, hr, crop_border, y_channel, quantize, "psnr")
    mse = (a - b).pow(2).flatten(1).mean(1)
    out = 10.0 * torch.log10(255.0**2 / mse)  # mse == 0 gives +inf
    return out.float()


def _gaussian_1d(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _band(g: torch.Tensor, size: int) -> torch.Tensor:
    """(size − k + 1) × size matrix whose row i holds the filter g at columns i … i + k − 1."""
    k = g.numel()
    rows = torch.zeros(size - k + 1, size, dtype=g.dtype, device=g.device)
    for i in range(size - k + 1):
        rows[i, i:i + k] = g
    return rows


def ssim(sr: torch.Tensor, hr: torch.Tensor, crop_border: int = 0, y_channel: bool = True,
         quantize: bool = True) -> torch.Tensor:
    """Structural similarity per image (shape N): 11×11 Gaussian window,
    σ = 1.5, K1 = 0.01, K2 = 0.03, L = 255, mean of the SSIM map over the valid
    region; with ``y_channel=False`` the mean over R, G and B maps.

    The 2-D Gaussian window is the outer product of two 1-D ones, so the local
    means are a vertical then a horizontal 11-tap "valid" filter, written as
    band matrices ``G_h · X · G_wᵀ`` (same result as sliding the 11×11 window,
    much faster in float64), applied to the five maps a, b, a², b², ab at once.
    """
    a, b = _prepare(sr, hr, crop_border, y_channel, quantize, "ssim")
    if min(a.shape[-2:]) < 11:
        raise ValueError(f"ssim: images must be at least 11×11 after cropping, got {tuple(a.shape[-2:])}")
    n, c, h, w = a.shape
    g = _gaussian_1d().to(a.device)
    maps = torch.stack([a, b, a * a, b * b, a * b], dim=2)
    maps = _band(g, h) @ maps @ _band(g, w).T
    mu_a, mu_b, e_aa, e_bb, e_ab = maps.unbind(2)
    C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    var_a, var_b, cov = e_aa - mu_a**2, e_bb - mu_b**2, e_ab - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + C1) * (2 * cov + C2)) / ((mu_a**2 + mu_b**2 + C1) * (var_a + var_b + C2))
    return ssim_map.flatten(1).mean(1).float()


__all__ = ["psnr", "ssim", "rgb_to_y"]


