"""Sliced Wasserstein distance of Laplacian-pyramid patches (Karras et al., 2018).

Our weight-free stand-in for the paper's FID‡ (Table III: the distance
between the estimated LR images and the real ones). FID needs Inception-v3
weights, which cannot be downloaded here; SWD needs none. It is *not* FID:
numbers are not comparable with the paper's, only between our own runs.

Recipe (progressive-GAN paper, Sec. 5 and its ``sliced_wasserstein.py``):

1. build a Laplacian pyramid of every image (5-tap binomial filter
   [1, 4, 6, 4, 1]/16, downsample by 2; level ℓ = G_ℓ − up(G_{ℓ+1}), the
   coarsest level is the Gaussian residual);
2. from every level take ``patches_per_image`` random 7×7 patches; each
   patch (C·7·7 numbers) is a descriptor;
3. normalise descriptors per colour channel (subtract mean, divide by std);
4. per level, the sliced Wasserstein distance between the two descriptor
   sets: project both on ``n_directions`` random unit vectors, sort each
   projection, average the absolute difference of the sorted values
   (the exact 1-D Wasserstein-1 distance between equal-size samples);
   as Karras et al., 4 repeats of 128 directions;
5. report the per-level values and their mean. Karras et al. print ×10³.

Assumed (departure from Karras et al.): they normalise each set by its *own*
channel mean and std, which hides a global colour cast — exactly the failure
the paper attributes to CycleGAN. By default (``normalize="reference"``) we
normalise both sets with the reference set's statistics, so a colour shift
counts; ``normalize="separate"`` gives their exact recipe.
For 16×16 LR faces the pyramid has two levels (16, 8) of 7×7 patches.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def _blur(x: torch.Tensor) -> torch.Tensor:
    c = x.shape[1]
    k = (_BINOMIAL[:, None] * _BINOMIAL[None, :]).to(x)
    k = k.expand(c, 1, 5, 5)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), k, groups=c)


def pyr_down(x: torch.Tensor) -> torch.Tensor:
    """Gaussian pyramid step: blur with the 5×5 binomial filter, keep every other pixel."""
    return _blur(x)[..., ::2, ::2]


def pyr_up(x: torch.Tensor) -> torch.Tensor:
    """Inverse step: insert zeros between pixels, blur, ×4 to keep the brightness."""
    n, c, h, w = x.shape
    up = torch.zeros(n, c, 2 * h, 2 * w, dtype=x.dtype, device=x.device)
    up[..., ::2, ::2] = x
    return _blur(up) * 4.0


def laplacian_pyramid(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """``levels`` band-pass images, finest first; the last one is the low-pass residual."""
    out = []
    g = images
    for _ in range(levels - 1):
        down = pyr_down(g)
        out.append(g - pyr_up(down))
        g = down
    out.append(g)
    return out


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, n_directions: int = 128,
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """Sliced Wasserstein-1 distance between two equal-size point sets (M×D).

    Mean over ``n_directions`` random unit directions of the 1-D Wasserstein
    distance of the projections, ``mean |sort(a·d) − sort(b·d)|``.
    """
    if a.dim() != 2 or a.shape != b.shape:
        raise ValueError(f"sliced_wasserstein: a and b must both be M×D with the same shape, "
                         f"got {tuple(a.shape)} and {tuple(b.shape)}")
    d = torch.randn(n_directions, a.shape[1], generator=generator)
    d = d / d.norm(dim=1, keepdim=True)
    pa = torch.sort(d @ a.float().t(), dim=1).values   # one row per direction: sorting rows is fast
    pb = torch.sort(d @ b.float().t(), dim=1).values
    return (pa - pb).abs().mean()


def _descriptors(level: torch.Tensor, patches_per_image: int, patch_size: int,
                 generator: torch.Generator) -> torch.Tensor:
    n, c, h, w = level.shape
    if h < patch_size or w < patch_size:
        raise ValueError(f"pyramid level {h}×{w} is smaller than patch_size {patch_size}")
    ys = torch.randint(0, h - patch_size + 1, (n, patches_per_image), generator=generator)
    xs = torch.randint(0, w - patch_size + 1, (n, patches_per_image), generator=generator)
    offs = torch.arange(patch_size)
    rows = (ys[..., None] + offs)[..., :, None].expand(n, patches_per_image, patch_size, patch_size)
    cols = (xs[..., None] + offs)[..., None, :].expand(n, patches_per_image, patch_size, patch_size)
    batch = torch.arange(n)[:, None, None, None].expand_as(rows)
    patches = level.permute(0, 2, 3, 1)[batch, rows, cols]         # n×P×k×k×C
    return patches.permute(0, 1, 4, 2, 3).reshape(n * patches_per_image, c, patch_size, patch_size)


def swd(images: torch.Tensor, reference: torch.Tensor, patches_per_image: int = 64, patch_size: int = 7,
        n_directions: int = 128, repeats: int = 4, normalize: str = "reference", seed: int = 0,
        return_levels: bool = False):
    """Laplacian-pyramid SWD between ``images`` and ``reference`` (both N×C×H×W in [0, 1]).

    Lower is closer. The two sets may differ in size: the same number of
    descriptors (from random patches of randomly chosen images, with
    replacement) is drawn from each. Deterministic given ``seed``. Returns the
    mean over pyramid levels (a float); with ``return_levels`` also the list of
    per-level values (finest first).
    """
    for name, x in (("images", images), ("reference", reference)):
        if not torch.is_tensor(x) or x.dim() != 4:
            raise ValueError(f"swd: {name} must be an N×C×H×W tensor")
    if images.shape[1:] != reference.shape[1:]:
        raise ValueError(f"swd: images {tuple(images.shape)} and reference {tuple(reference.shape)} "
                         "must have the same C, H, W")
    if normalize not in ("reference", "separate"):
        raise ValueError(f"swd: normalize must be 'reference' or 'separate', got {normalize!r}")
    gen = torch.Generator().manual_seed(seed)
    images = images.detach().float().cpu()
    reference = reference.detach().float().cpu()
    levels = 1
    while min(images.shape[-2:]) // 2**levels >= max(patch_size, 8):
        levels += 1
    n_desc = max(images.shape[0], reference.shape[0]) * patches_per_image
    pyr_a = laplacian_pyramid(images, levels)
    pyr_b = laplacian_pyramid(reference, levels)
    per_level = []
    for la, lb in zip(pyr_a, pyr_b):
        da = _descriptors(la[torch.randint(0, la.shape[0], (n_desc // patches_per_image,), generator=gen)],
                          patches_per_image, patch_size, gen)
        db = _descriptors(lb[torch.randint(0, lb.shape[0], (n_desc // patches_per_image,), generator=gen)],
                          patches_per_image, patch_size, gen)
        mean_b, std_b = db.mean(dim=(0, 2, 3), keepdim=True), db.std(dim=(0, 2, 3), keepdim=True)
        if normalize == "separate":
            da = (da - da.mean(dim=(0, 2, 3), keepdim=True)) / da.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-8)
        else:
            da = (da - mean_b) / std_b.clamp_min(1e-8)
        db = (db - mean_b) / std_b.clamp_min(1e-8)
        da, db = da.flatten(1), db.flatten(1)
        value = torch.stack([sliced_wasserstein(da, db, n_directions, gen) for _ in range(repeats)]).mean()
        per_level.append(float(value))
    mean = sum(per_level) / len(per_level)
    return (mean, per_level) if return_levels else mean


__all__ = ["swd", "sliced_wasserstein", "laplacian_pyramid", "pyr_down", "pyr_up"]
