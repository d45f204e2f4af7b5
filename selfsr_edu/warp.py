"""Eq. 1: warping an image by a flow field (bilinear sampling, Jaderberg et al. [52]).

The paper's degradation network G predicts an intermediate image Ĩ and a
flow field T; the degraded output is

    I_gen(x, y) = Σ_u Σ_v Ĩ(u, v) · k(x_s − u) · k(y_s − v),    (x_s, y_s) = (x − δx, y − δy)

with the bilinear kernel ``k(d) = max(0, 1 − |d|)``. Only the four pixels
around (x_s, y_s) have non-zero weight, so for ``x_s = x0 + a`` and
``y_s = y0 + b`` (x0, y0 integers, 0 ≤ a, b < 1)::

    I_gen(x, y) = (1−a)(1−b) Ĩ(x0, y0) + a(1−b) Ĩ(x0+1, y0)
                + (1−a) b   Ĩ(x0, y0+1) + a b    Ĩ(x0+1, y0+1).

Units and signs (the public contract, see DESIGN.md): ``flow`` is N×2×H×W in
*pixels*; channel 0 is δx (positive = to the right), channel 1 is δy
(positive = down). A flow of (+1, 0) everywhere therefore moves the picture one
pixel to the right: output (x, y) shows what the input had at (x − 1, y).
Samples outside the image take the nearest border pixel ("border padding").
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Warp ``image`` (N×C×H×W) by ``flow`` (N×2×H×W, pixels, (δx, δy)) — Eq. 1.

    Output pixel (x, y) samples the input at (x − δx, y − δy), bilinear,
    border padding. Differentiable in both ``image`` and ``flow``.

    How this maps onto :func:`torch.nn.functional.grid_sample`: grid_sample
    wants, for every output pixel, the sample location in *normalised*
    coordinates, ``grid[n, y, x] = (gx, gy)`` with gx, gy ∈ [−1, 1]. We use
    ``align_corners=True``, under which −1 is the *centre* of the first pixel
    (column 0) and +1 the centre of the last (column W − 1)::

        gx = 2 · x_s / (W − 1) − 1,      gy = 2 · y_s / (H − 1) − 1

    (a side of one pixel maps everything to 0). ``padding_mode="border"``
    clamps locations outside the image to the border pixels.

    Zero flow returns the input exactly: grid_sample's normalise/unnormalise
    round trip is not bit-exact in float32 (a location can come back as
    2.9999998 instead of 3), so an all-zero flow that needs no gradient takes a
    short cut and returns ``image`` itself. When ``flow`` requires a gradient
    we always sample, so the flow still learns; the result then equals the
    input to within float rounding (~1e-7).
    """
    if not torch.is_tensor(image) or image.dim() != 4:
        raise ValueError(f"warp: image must be an N×C×H×W tensor, got {_shape(image)}")
    if not torch.is_tensor(flow) or flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"warp: flow must be an N×2×H×W tensor (δx, δy in pixels), got {_shape(flow)}")
    n, _, h, w = image.shape
    if flow.shape[0] != n or flow.shape[2:] != image.shape[2:]:
        raise ValueError(
            f"warp: flow {tuple(flow.shape)} must match image {tuple(image.shape)} in N, H and W")
    if not (flow.requires_grad and torch.is_grad_enabled()) and not bool(flow.any()):
        return image

    flow = flow.to(image.dtype)
    ys = torch.arange(h, device=image.device, dtype=image.dtype).view(1, h, 1)
    xs = torch.arange(w, device=image.device, dtype=image.dtype).view(1, 1, w)
    x_s = xs - flow[:, 0]          # N×H×W sample locations in pixels
    y_s = ys - flow[:, 1]
    gx = x_s * (2.0 / (w - 1)) - 1.0 if w > 1 else torch.zeros_like(x_s)
    gy = y_s * (2.0 / (h - 1)) - 1.0 if h > 1 else torch.zeros_like(y_s)
    grid = torch.stack([gx, gy], dim=-1)  # N×H×W×2, last dim (x, y) as grid_sample expects
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def _shape(x) -> str:
    return str(tuple(x.shape)) if torch.is_tensor(x) else type(x).__name__


__all__ = ["warp"]
