"""Known-truth "in the wild" degradations for the unpaired real-world setting.

The paper (Sec. III-A, IV-B) learns a degradation network G from *unpaired*
real LR faces, whose degradation nobody knows. Here the real LR faces are made
by a hidden, fully known process, so a notebook can check what G learned
against the truth. One degradation of a clean LR image ``x`` (values in [0, 1])
is, in camera order:

1. **colour cast**  ``x ← clip(g ⊙ x + b)`` with per-channel gains ``g`` near 1
   and offsets ``b`` near 0 (white-balance error);
2. **motion blur**  ``x ← x * k_{ℓ,θ}``: ``k`` is a line segment of length
   ``ℓ`` pixels at angle ``θ`` (0° = horizontal, counter-clockwise with y up),
   anti-aliased and normalised to sum 1; reflect padding;
3. **misalignment**  a sub-pixel shift by ``(dx, dy)`` pixels (bilinear,
   border padding): output pixel ``(x, y)`` samples the input at
   ``(x − dx, y − dy)``, as :func:`selfsr_edu.warp.warp` with a constant flow;
4. **sensor noise**  Poisson shot noise ``x ← Poisson(x · peak) / peak`` then
   Gaussian read noise ``x ← x + σ n``, ``n ~ N(0, 1)``;
5. **JPEG**  at quality ``q`` (PIL, in memory, 4:2:0 chroma subsampling),
   which also quantises to 8 bits.

Every image's parameters are drawn from a generator seeded by
``(seed, index)``, so ``WildDegradation(seed)(x, indices)`` is reproducible
and :meth:`WildDegradation.sample_params` tells what was done to image
``index``. Assumed (the paper has no such process): the ranges below, chosen
so that 16×16 faces stay recognisable but clearly "wild".
"""
from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F

from selfsr_edu.data.flows import constant_flow
from selfsr_edu.data.io import to_uint8
from selfsr_edu.warp import warp

#: Default parameter ranges (uniform unless stated). Lengths in LR pixels.
DEFAULT_RANGES = {
    "blur_length": (0.0, 3.0),
    "noise_sigma": (0.0, 0.04),
    "poisson_peak": (60.0, 600.0),  # log-uniform; photons at white
    "jpeg_quality": (30, 90),  # inclusive integers
    "cast_gain": 0.08,  # gains in 1 ± cast_gain
    "cast_offset": 0.03,  # offsets in ± cast_offset
    "shift": 0.5,  # |dx|, |dy| <= shift
}

KINDS = ("color_cast", "motion_blur", "shift", "poisson_noise", "gaussian_noise", "jpeg")


def _check_images(x: torch.Tensor, name: str = "x") -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be an N×3×H×W float tensor in [0, 1], got {shape}")


# ---------------------------------------------------------------------------
# The individual degradations (each a pure function of its parameters)
# ---------------------------------------------------------------------------
def motion_blur_kernel(length: float, angle: float) -> torch.Tensor:
    """Anti-aliased line kernel of ``length`` pixels at ``angle`` degrees, sum 1.

    The segment is sampled at many points, each splatted bilinearly; a length
    below one pixel degenerates smoothly to the identity (a delta).
    """
    length = float(max(length, 0.0))
    half = length / 2.0
    r = int(math.ceil(half)) + 1
    size = 2 * r + 1
    k = np.zeros((size, size), np.float64)
    a = math.radians(angle)
    dx, dy = math.cos(a), -math.sin(a)  # image rows grow downwards
    m = max(2, int(math.ceil(length * 8)) + 1)
    for t in np.linspace(-half, half, m):
        x, y = r + t * dx, r + t * dy
        x0, y0 = int(math.floor(x)), int(math.floor(y))
        fx, fy = x - x0, y - y0
        k[y0, x0] += (1 - fx) * (1 - fy)
        k[y0, x0 + 1] += fx * (1 - fy)
        k[y0 + 1, x0] += (1 - fx) * fy
        k[y0 + 1, x0 + 1] += fx * fy
    return torch.from_numpy(k / k.sum()).float()


def motion_blur(x: torch.Tensor, length: float, angle: float) -> torch.Tensor:
    """Convolve every channel with :func:`motion_blur_kernel` (reflect padding)."""
    _check_images(x)
    k = motion_blur_kernel(length, angle).to(x)
    r = k.shape[0] // 2
    if r == 0:
        return x.clone()
    pad = "reflect" if min(x.shape[-2:]) > r else "replicate"
    xp = F.pad(x, (r, r, r, r), mode=pad)
    w = k.flip(0, 1)[None, None].repeat(x.shape[1], 1, 1, 1)  # conv2d correlates
    return F.conv2d(xp, w, groups=x.shape[1])


def color_cast(x: torch.Tensor, gains, offsets=(0.0, 0.0, 0.0)) -> torch.Tensor:
    """``clip(g ⊙ x + b, 0, 1)`` per channel."""
    _check_images(x)
    g = torch.as_tensor(gains, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    b = torch.as_tensor(offsets, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * g + b).clamp(0, 1)


def subpixel_shift(x: torch.Tensor, dx: float, dy: float) -> torch.Tensor:
    """Shift by ``(dx, dy)`` pixels (right, down): out(x, y) = in(x − dx, y − dy),
    bilinear, border padding: Eq. 1's :func:`~selfsr_edu.warp.warp` with a constant flow."""
    _check_images(x)
    return warp(x, constant_flow(x.shape[0], x.shape[2], x.shape[3], dx, dy).to(x))


def poisson_noise(x: torch.Tensor, peak: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shot noise: ``Poisson(x · peak) / peak`` (variance ``x / peak``)."""
    _check_images(x)
    return torch.poisson(x.clamp(0, 1) * float(peak), generator=generator) / float(peak)


def gaussian_noise(x: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Read noise: ``x + σ n`` with ``n ~ N(0, 1)`` (not clipped; clip afterwards)."""
    _check_images(x)
    return x + float(sigma) * torch.randn(x.shape, generator=generator, dtype=x.dtype)


def jpeg(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Encode and decode each image as JPEG at ``quality`` (PIL, in memory)."""
    from PIL import Image

    _check_images(x)
    out = []
    for img in x:
        arr = to_uint8(img).permute(1, 2, 0).cpu().numpy()
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=int(quality))
        buf.seek(0)
        dec = np.asarray(Image.open(buf).convert("RGB"), dtype=np.float32) / 255.0
        out.append(torch.from_numpy(dec).permute(2, 0, 1))
    return torch.stack(out).to(x)


def apply_one(x: torch.Tensor, kind: str, **params) -> torch.Tensor:
    """Apply ONE degradation ``kind`` with the given parameters.

    kinds: ``color_cast(gains, offsets)``, ``motion_blur(length, angle)``,
    ``shift(dx, dy)``, ``poisson_noise(peak, noise_seed)``,
    ``gaussian_noise(sigma, noise_seed)``, ``jpeg(quality)``.
    """
    gen = None
    if "noise_seed" in params:
        gen = torch.Generator().manual_seed(int(params.pop("noise_seed")))
    if kind == "color_cast":
        return color_cast(x, params["gains"], params.get("offsets", (0.0, 0.0, 0.0)))
    if kind == "motion_blur":
        return motion_blur(x, params["length"], params["angle"])
    if kind == "shift":
        return subpixel_shift(x, params["dx"], params["dy"])
    if kind == "poisson_noise":
        return poisson_noise(x, params["peak"], gen)
    if kind == "gaussian_noise":
        return gaussian_noise(x, params["sigma"], gen)
    if kind == "jpeg":
        return jpeg(x, params["quality"])
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


# ---------------------------------------------------------------------------
# The random, reproducible, inspectable composition
# ---------------------------------------------------------------------------
class WildDegradation:
    """The hidden real-world degradation: colour cast → motion blur → shift → noise → JPEG.

    ``WildDegradation(seed)(lr, indices)`` degrades the N×3×H×W batch ``lr``;
    image ``k`` uses the parameters :meth:`sample_params` ``(indices[k])``
    (default ``indices = range(N)``), so the same call always gives the same
    result. After a call, :attr:`last_params` lists the parameters used.
    ``ranges`` overrides :data:`DEFAULT_RANGES` entries; ``kinds`` restricts
    which degradations are active (the others are skipped).
    """

    def __init__(self, seed: int = 0, ranges: dict | None = None, kinds=KINDS):
        if int(seed) < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"kinds must be a subset of {KINDS}, got unknown {sorted(unknown)}")
        self.seed = int(seed)
        self.ranges = dict(DEFAULT_RANGES)
        if ranges:
            bad = set(ranges) - set(DEFAULT_RANGES)
            if bad:
                raise ValueError(f"ranges keys must be among {sorted(DEFAULT_RANGES)}, got {sorted(bad)}")
            self.ranges.update(ranges)
        self.kinds = tuple(k for k in KINDS if k in kinds)
        self.last_params: list[dict] = []

    def __repr__(self) -> str:
        return f"WildDegradation(seed={self.seed}, kinds={self.kinds})"

    def sample_params(self, index: int) -> dict:
        """Parameters used for image ``index`` (plain Python numbers)."""
        if int(index) < 0:
            raise ValueError(f"index must be >= 0, got {index}")
        r = np.random.Generator(np.random.PCG64(np.random.SeedSequence([0x3A1D, self.seed, int(index)])))
        R = self.ranges
        lo, hi = R["poisson_peak"]
        return {
            "gains": [float(g) for g in 1 + r.uniform(-R["cast_gain"], R["cast_gain"], 3)],
            "offsets": [float(b) for b in r.uniform(-R["cast_offset"], R["cast_offset"], 3)],
            "length": float(r.uniform(*R["blur_length"])),
            "angle": float(r.uniform(0.0, 180.0)),
            "dx": float(r.uniform(-R["shift"], R["shift"])),
            "dy": float(r.uniform(-R["shift"], R["shift"])),
            "peak": float(math.exp(r.uniform(math.log(lo), math.log(hi)))),
            "sigma": float(r.uniform(*R["noise_sigma"])),
            "quality": int(r.integers(R["jpeg_quality"][0], R["jpeg_quality"][1] + 1)),
            "noise_seed": int(r.integers(0, 2**62)),
        }

    def degrade_one(self, x: torch.Tensor, params: dict) -> torch.Tensor:
        """Apply the active degradations with ``params`` to a 1×3×H×W image."""
        gen = torch.Generator().manual_seed(params["noise_seed"])
        if "color_cast" in self.kinds:
            x = color_cast(x, params["gains"], params["offsets"])
        if "motion_blur" in self.kinds:
            x = motion_blur(x, params["length"], params["angle"])
        if "shift" in self.kinds:
            x = subpixel_shift(x, params["dx"], params["dy"])
        if "poisson_noise" in self.kinds:
            x = poisson_noise(x, params["peak"], gen)
        if "gaussian_noise" in self.kinds:
            x = gaussian_noise(x, params["sigma"], gen)
        x = x.clamp(0, 1)
        if "jpeg" in self.kinds:
            x = jpeg(x, params["quality"])
        return x

    def __call__(self, lr: torch.Tensor, indices=None) -> torch.Tensor:
        _check_images(lr, "lr")
        if indices is None:
            indices = range(lr.shape[0])
        indices = [int(i) for i in indices]
        if len(indices) != lr.shape[0]:
            raise ValueError(f"indices must have one entry per image ({lr.shape[0]}), got {len(indices)}")
        with torch.no_grad():
            self.last_params = [self.sample_params(i) for i in indices]
            out = [self.degrade_one(lr[k : k + 1].float().cpu(), p) for k, p in enumerate(self.last_params)]
        return torch.cat(out).to(lr.device, lr.dtype)


__all__ = [
    "WildDegradation",
    "apply_one",
    "motion_blur",
    "motion_blur_kernel",
    "color_cast",
    "subpixel_shift",
    "poisson_noise",
    "gaussian_noise",
    "jpeg",
    "DEFAULT_RANGES",
    "KINDS",
]
