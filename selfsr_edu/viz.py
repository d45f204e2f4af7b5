"""Plots for notebooks and trainers: image grids and loss curves.

Images are N×3×H×W tensors in [0, 1]. Functions that draw return the
matplotlib figure so notebooks can tweak or save it.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F


def image_grid(images: torch.Tensor | Sequence[torch.Tensor], nrow: int = 8, pad: int = 2,
               size: int | None = None) -> torch.Tensor:
    """Tile images into one 3×H×W tensor. Images of different sizes (for
    example LR beside HR) are resized with nearest neighbour to ``size`` (or
    the largest side present) so pixels stay visible as blocks."""
    from torchvision.utils import make_grid

    if torch.is_tensor(images) and images.dim() == 3:
        images = images[None]
    items = list(images)
    side = size or max(max(t.shape[-2:]) for t in items)
    items = [t if t.shape[-1] == side and t.shape[-2] == side else
             F.interpolate(t[None].float(), size=(side, side), mode="nearest")[0] for t in items]
    return make_grid(torch.stack(items).clamp(0, 1).cpu(), nrow=nrow, padding=pad, pad_value=1.0)


def save_grid(images, path: str | os.PathLike, nrow: int = 8, overwrite: bool = True) -> Path:
    """Write :func:`image_grid` as a PNG (trainers' sample grids)."""
    from selfsr_edu.data.io import save_image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(image_grid(images, nrow=nrow), path, overwrite=overwrite)
    return path


def show_images(images, titles: Sequence[str] | None = None, ncols: int | None = None,
                size: float = 2.2, suptitle: str | None = None):
    """Show images side by side with titles (nearest-neighbour display, so a
    16×16 LR face shows its pixels)."""
    import matplotlib.pyplot as plt

    items = [images[i] for i in range(images.shape[0])] if torch.is_tensor(images) else list(images)
    n = len(items)
    ncols = ncols or n
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, img in enumerate(items):
        ax = axes.flat[i]
        ax.imshow(img.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy(), interpolation="nearest")
        if titles is not None and i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_losses(history: Mapping[str, Sequence[float]], steps: Sequence[int] | None = None,
                smooth: int = 1, title: str | None = None, logy: bool = False):
    """Plot named loss curves (``{"G": [...], "D": [...]}``), optionally
    smoothed by a moving average of ``smooth`` steps."""
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 3.2))
    for name, values in history.items():
        v = np.asarray(values, dtype=float)
        x = np.asarray(steps if steps is not None else range(len(v)))
        if smooth > 1 and len(v) >= smooth:
            v = np.convolve(v, np.ones(smooth) / smooth, mode="valid")
            x = x[smooth - 1:]
        ax.plot(x, v, label=name)
    ax.set_xlabel("iteration")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
