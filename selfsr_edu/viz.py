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
                scale: float = 1.0, color: str = "yellow", title: str | None = None,
                key_length: float | None = None):
    """Draw one flow (2×H×W or 1×2×H×W) as arrows, over ``image`` (3×H×W) if given.

    Arrows point along (δx, δy) in pixels: where the content at the arrow's
    tail moves to (``scale`` = 1 draws them at true length). A key arrow of
    ``key_length`` pixels (default: a round number near the longest arrow; 0:
    none) gives the scale. Returns the axis.
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
    q = ax.quiver(xs.numpy(), ys.numpy(), u.numpy(), v.numpy(), angles="xy", scale_units="xy",
                  scale=1.0 / scale, color=color, width=0.006)
    if key_length is None:        # a round length near the largest arrow
        longest = float(flow.norm(dim=0).max())
        key_length = float(f"{longest:.1g}") if longest > 0 else 1.0
    if key_length > 0:            # the scale: an arrow of key_length pixels, labelled
        ax.quiverkey(q, 0.98, 1.02, key_length, f"{key_length:g} px", labelpos="W", coordinates="axes",
                     color=color if color not in ("yellow", "white") else "black", fontproperties={"size": 7})
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def flow_wheel(max_magnitude: float, size: int = 65) -> torch.Tensor:
    """The key of :func:`~selfsr_edu.data.flows.flow_to_color`: a 3×size×size image whose pixel at
    offset (δx, δy) from the centre has the colour of that flow, lengths up to ``max_magnitude`` pixels
    (hue = direction, saturation = length; outside the circle: white)."""
    from selfsr_edu.data.flows import flow_to_color

    r = torch.linspace(-1, 1, size)
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    wheel = flow_to_color(torch.stack([xx, yy])[None] * max_magnitude, max_magnitude=max_magnitude)[0]
    return torch.where((xx ** 2 + yy ** 2 <= 1)[None], wheel, torch.ones_like(wheel))


def add_flow_key(ax, max_magnitude: float, size: float = 0.32, loc: str = "lower right"):
    """Draw :func:`flow_wheel` as an inset of ``ax`` (fraction ``size`` of it) with its scale in pixels."""
    from mpl_toolkits.axes_grid1.inset_locator import inset_axes

    inset = inset_axes(ax, width=f"{size * 100:.0f}%", height=f"{size * 100:.0f}%", loc=loc, borderpad=0.2)
    inset.imshow(flow_wheel(max_magnitude).permute(1, 2, 0).numpy(), extent=(-max_magnitude, max_magnitude,
                                                                             max_magnitude, -max_magnitude))
    inset.set_xticks([-max_magnitude, max_magnitude]); inset.set_yticks([])
    inset.tick_params(labelsize=5, pad=1)
    inset.set_xlabel("δx, px", fontsize=5, labelpad=0)
    return inset


def show_map(ax, values, title: str | None = None, cmap: str = "magma", **kw):
    """``imshow`` a single-channel map (H×W) with its colour bar beside it; returns the image."""
    import matplotlib.pyplot as plt

    values = values.detach().float().cpu().numpy() if torch.is_tensor(values) else values
    im = ax.imshow(values, cmap=cmap, interpolation="nearest", **kw)
    plt.colorbar(im, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=6)
    ax.set_xticks([]); ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return im


# What R learned: γ maps (Fig. 9), edges vs face parts, failure cases (Fig. 10); see selfsr_edu.inspect


def plot_feature_maps(cap, faces: Sequence[int] = (0, 1, 2), channels: Mapping | None = None,
                      keys: Sequence | None = None, size: float = 1.9, cmap: str = "magma"):
    """Fig. 9: γ maps of chosen channels, one row per face, each panel with its colour bar.

    ``cap``: a :class:`selfsr_edu.inspect.Capture`; ``keys``: the ``(level, block)`` to show
    (default: the shallowest and the deepest block of every level); ``channels``:
    ``{(level, block): channel}`` (default: the channel that varies most across faces,
    :func:`selfsr_edu.inspect.channel_stats`). The first column is the face's condition at
    the last level. Brighter = larger γ = more weight on that position (Eq. 6).
    """
    import matplotlib.pyplot as plt

    from selfsr_edu.inspect import channel_stats

    if not cap.gamma:
        raise ValueError(f"cap: the {cap.kind!r} block has no γ maps to show")
    n = next(iter(cap.gamma.values())).shape[0]
    faces = list(faces)
    if not faces or any(not 0 <= i < n for i in faces):
        raise ValueError(f"faces must be indices in 0..{n - 1}, got {faces}")
    if keys is None:
        keys = []
        for level in sorted({k[0] for k in cap.gamma}):
            blocks = sorted(b for (lv, b) in cap.gamma if lv == level)
            keys += [(level, blocks[0])] + ([(level, blocks[-1])] if len(blocks) > 1 else [])
    missing = [k for k in keys if k not in cap.gamma]
    if missing:
        raise ValueError(f"keys {missing} were not captured; captured: {sorted(cap.gamma)}")
    channels = dict(channels or {})
    for k in keys:
        channels.setdefault(k, channel_stats(cap, k, top=1)["top_varying"][0])
    last = max(cap.conditions)
    fig, axes = plt.subplots(len(faces), len(keys) + 1, figsize=(size * (len(keys) + 1) * 1.15, size * len(faces)),
                             squeeze=False)
    for r, i in enumerate(faces):
        ax = axes[r, 0]
        ax.imshow(cap.conditions[last][i].detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy())
        ax.set_title(f"face {i}: condition" if r == 0 else f"face {i}", fontsize=8)
        ax.axis("off")
        for c, key in enumerate(keys):
            ax = axes[r, c + 1]
            im = ax.imshow(cap.gamma[key][i, channels[key]].detach().cpu().numpy(), cmap=cmap)
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=6)
            ax.set_title(f"γ L{key[0]} B{key[1]} ch{channels[key]}", fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    return fig


def plot_edge_vs_part(summary: Mapping, title: str | None = None, ax=None):
    """Bars per ``(level, block)``: mean ``|r|`` of γ with the condition's edges vs with the best
    face part (named above its bar), from :func:`selfsr_edu.inspect.edge_vs_part`."""
    import matplotlib.pyplot as plt
    import numpy as np

    keys = list(summary)
    if not keys:
        raise ValueError("summary is empty: pass the result of selfsr_edu.inspect.edge_vs_part")
    x = np.arange(len(keys))
    edge = [summary[k]["edge"] for k in keys]
    part = [summary[k]["part"] for k in keys]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(keys) + 1.5), 3.2))
    ax.bar(x - 0.2, edge, 0.4, label="edges (Sobel of the condition)")
    bars = ax.bar(x + 0.2, part, 0.4, label="best face part")
    for b, k in zip(bars, keys):
        ax.text(b.get_x() + b.get_width() / 2, b.get_height(), str(summary[k]["best_part"]), ha="center",
                va="bottom", fontsize=7, rotation=90)
    ax.set_xticks(x)
    ax.set_xticklabels([f"L{k[0]} B{k[1]}" for k in keys])
    ax.set_ylabel("mean over channels of |mean_n r|")
    ax.set_ylim(0, max(edge + part) * 1.35)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title or "what γ follows: edges vs face parts", fontsize=10)
    ax.figure.tight_layout()
    return ax.figure


def plot_failure_cases(fc, n: int | None = None, size: float = 2.0):
    """Fig. 10: the worst faces found by :func:`selfsr_edu.failures.failure_cases`, smallest gain first.

    Rows: the LR input, R's output, the HR truth; titles give the face index and R's PSNR gain
    over bicubic (dB, DIC protocol).
    """
    n = len(fc.worst) if n is None else min(int(n), len(fc.worst))
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, n, figsize=(size * n, size * 3 + 0.3), squeeze=False)
    for c in range(n):
        i = int(fc.worst[c])
        for r, (img, label) in enumerate(((fc.lr[c], "LR"), (fc.sr[c], "R"), (fc.hr[c], "HR"))):
            ax = axes[r, c]
            ax.imshow(img.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy(), interpolation="nearest")
            ax.axis("off")
            if r == 0:
                ax.set_title(f"face {i}: {float(fc.gain[i]):+.2f} dB", fontsize=8)
            if c == 0:
                ax.text(-0.08, 0.5, label, transform=ax.transAxes, rotation=90, va="center", ha="right", fontsize=9)
    fig.suptitle("failure cases: smallest PSNR gain of R over bicubic", fontsize=10)
    fig.tight_layout()
    return fig
