"""Bicubic resizing that matches the two references the literature uses.

Both are written as *separable linear maps*: for each axis we build a weight
matrix ``W`` (out × in) from the cubic kernel, then ``y = W_h · x · W_wᵀ``.
That makes them exact, batched (N×C×H×W), differentiable (the cycle loss of
Eq. 11 back-propagates through the downscale) and fast for face-sized images.

The cubic convolution kernel (Keys, 1981) with ``a = −0.5``::

    k(t) = (a+2)|t|³ − (a+3)|t|² + 1          for |t| ≤ 1
    k(t) = a|t|³ − 5a|t|² + 8a|t| − 4a        for 1 < |t| < 2
    k(t) = 0                                   otherwise

* :func:`imresize` is MATLAB's ``imresize(x, scale, 'bicubic')``: output size
  ``ceil(in·scale)``; output pixel ``j`` (1-based) maps to input coordinate
  ``u = j/scale + 0.5·(1 − 1/scale)``; when shrinking, the kernel is stretched to
  ``scale·k(scale·t)`` (anti-aliasing) so it covers ``4/scale`` input pixels;
  weights are normalised to sum to 1; out-of-range taps are mirrored
  (symmetric padding).
* :func:`bicubic_pil` is Pillow's ``Image.resize(size, Image.BICUBIC)``: the
  same kernel and stretching, centre ``(j + 0.5)·in/out``, but taps outside the
  image are *dropped* (the window is clipped, then renormalised) instead of
  mirrored. Pillow resizes width first and stores that intermediate in 8 bits,
  which clips overshoot to [0, 1]; we clip too but stay in float (no rounding),
  so results agree within about one 8-bit level.

The DIC evaluation protocol makes the 16×16 LR with PIL, which is why both exist.
"""
from __future__ import annotations

import math
from functools import lru_cache

import torch

A = -0.5  # the cubic kernel's free parameter in both MATLAB and PIL


def cubic_kernel(t: torch.Tensor, a: float = A) -> torch.Tensor:
    """Keys' cubic convolution kernel ``k(t)`` (see module docstring), elementwise."""
    at = t.abs()
    at2, at3 = at * at, at * at * at
    near = (a + 2) * at3 - (a + 3) * at2 + 1
    far = a * at3 - 5 * a * at2 + 8 * a * at - 4 * a
    return torch.where(at <= 1, near, torch.where(at < 2, far, torch.zeros_like(t)))


@lru_cache(maxsize=128)
def _matlab_weights(in_size: int, out_size: int, scale: float, antialias: bool) -> torch.Tensor:
    """MATLAB ``contributions()``: the out × in weight matrix for one axis (float64)."""
    width = 4.0
    shrink = scale < 1 and antialias
    if shrink:
        width = width / scale
    j = torch.arange(1, out_size + 1, dtype=torch.float64)
    u = j / scale + 0.5 * (1 - 1 / scale)                 # input coordinate, 1-based
    left = torch.floor(u - width / 2)
    taps = int(math.ceil(width)) + 2
    idx = left[:, None] + torch.arange(taps, dtype=torch.float64)[None, :]   # 1-based indices
    dist = u[:, None] - idx
    w = scale * cubic_kernel(scale * dist) if shrink else cubic_kernel(dist)
    w = w / w.sum(dim=1, keepdim=True)
    # symmetric padding: index sequence 1..n, n..1, repeating
    zero_based = (idx - 1).long()
    period = 2 * in_size
    m = torch.remainder(zero_based, period)
    m = torch.where(m >= in_size, period - 1 - m, m)
    mat = torch.zeros(out_size, in_size, dtype=torch.float64)
    mat.scatter_add_(1, m, w)
    return mat


@lru_cache(maxsize=128)
def _pil_weights(in_size: int, out_size: int) -> torch.Tensor:
    """Pillow's ``precompute_coeffs`` for BICUBIC: the out × in weight matrix (float64)."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    mat = torch.zeros(out_size, in_size, dtype=torch.float64)
    for j in range(out_size):
        center = (j + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size)
        x = torch.arange(xmin, xmax, dtype=torch.float64)
        w = cubic_kernel((x - center + 0.5) / filterscale)
        total = w.sum()
        if total != 0:
            w = w / total
        mat[j, xmin:xmax] = w
    return mat


def _apply_separable(x: torch.Tensor, wh: torch.Tensor, ww: torch.Tensor, pil_order: bool = False) -> torch.Tensor:
    squeeze = x.dim() == 3
    if squeeze:
        x = x[None]
    if x.dim() != 4:
        raise ValueError(f"expected an N×C×H×W (or C×H×W) tensor, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"expected a float tensor in [0, 1], got dtype {x.dtype}")
    wh = wh.to(device=x.device, dtype=x.dtype)
    ww = ww.to(device=x.device, dtype=x.dtype)
    if pil_order:
        # Pillow resamples horizontally first and stores the intermediate
        # image as 8-bit, clipping bicubic overshoot to [0, 1] in between.
        y = torch.einsum("pw,nchw->nchp", ww, x)
        if ww.shape[0] != ww.shape[1] or not torch.equal(ww, torch.eye(ww.shape[0], dtype=ww.dtype, device=ww.device)):
            y = y.clamp(0, 1)
        y = torch.einsum("oh,nchw->ncow", wh, y)
    else:
        y = torch.einsum("oh,nchw->ncow", wh, x)
        y = torch.einsum("pw,nchw->nchp", ww, y)
    return y[0] if squeeze else y


def imresize(x: torch.Tensor, scale: float, antialias: bool = True) -> torch.Tensor:
    """MATLAB ``imresize(x, scale)`` with the bicubic kernel (a = −0.5).

    ``x``: N×C×H×W (or C×H×W) float tensor. ``scale``: any positive number; the
    output is ``ceil(H·scale) × ceil(W·scale)``. Anti-aliasing (kernel
    stretching) is applied when shrinking, as MATLAB does by default. The
    result is not clamped (bicubic overshoots slightly, as in MATLAB).
    """
    if not (isinstance(scale, (int, float)) and scale > 0 and math.isfinite(scale)):
        raise ValueError(f"imresize: scale must be a positive number, got {scale!r}")
    h, w = x.shape[-2], x.shape[-1]
    oh, ow = math.ceil(h * scale - 1e-9), math.ceil(w * scale - 1e-9)
    return _apply_separable(x, _matlab_weights(h, oh, float(scale), antialias),
                            _matlab_weights(w, ow, float(scale), antialias))


def bicubic_pil(x: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Pillow ``Image.resize((W, H), Image.BICUBIC)`` on [0, 1] float tensors.

    ``size`` is an int (square output) or ``(H, W)`` — note: height first, as
    torch does, unlike PIL's ``(W, H)``. Batched and differentiable; not
    clamped (Pillow clamps when it rounds to 8 bits; clamp yourself if you
    need [0, 1]).
    """
    if isinstance(size, int):
        size = (size, size)
    oh, ow = int(size[0]), int(size[1])
    if oh <= 0 or ow <= 0:
        raise ValueError(f"bicubic_pil: size must be positive, got {size!r}")
    h, w = x.shape[-2], x.shape[-1]
    return _apply_separable(x, _pil_weights(h, oh), _pil_weights(w, ow), pil_order=True)


__all__ = ["imresize", "bicubic_pil", "cubic_kernel"]
