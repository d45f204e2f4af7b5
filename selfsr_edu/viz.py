"""Plots for notebooks and trainers: image grids, loss curves and flow fields.

Images are N×3×H×W tensors in [0, 1]. Functions that draw return the
matplotlib figure so notebooks can tweak or save it.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import torch

from selfsr_edu.data.flows import check_flow, flow_to_color


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


# Flows (N×2×H×W, pixels, (δx, δy)), made by selfsr_edu.data.flows


def plot_quiver(flow: torch.Tensor, image: torch.Tensor | None = None, step: int = 1, ax=None,
                scale: float = 1.0, color: str = "yellow", title: str | None = None):
    """Draw one flow (2×H×W or 1×2×H×W) as arrows, over ``image`` (3×H×W) if given.

    Arrows point along (δx, δy) in pixels: where the content at the arrow's
    tail moves to (``scale`` = 1 draws them at true length). Returns the axis.
    """
    import matplotlib.pyplot as plt

    if flow.dim() == 3:
        flow = flow[None]
    flow = check_flow(flow)[0].detach().float().cpu()
    if ax is None:
        _, ax = plt.subplots(figsize=(3.5, 3.5))
    h, w = flow.shape[-2:]
    if image is not None:
        img = image[0] if image.dim() == 4 else image
        ax.imshow(img.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy(), interpolation="nearest")
    ys, xs = torch.meshgrid(torch.arange(0, h, step), torch.arange(0, w, step), indexing="ij")
    u = flow[0, ::step, ::step]
    v = flow[1, ::step, ::step]
    # angles="xy" with an inverted y axis (imshow) makes +δy point down, as in the image
    ax.quiver(xs.numpy(), ys.numpy(), u.numpy(), v.numpy(), angles="xy", scale_units="xy",
              scale=1.0 / scale, color=color, width=0.006)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax
