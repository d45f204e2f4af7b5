"""G: the flow-field degradation network (Sec. III-A, Fig. 2a, Eq. 1).

G turns a clean bicubic LR face I_syn (N×3×16×16) into a degraded one that
should look like the real wild LR faces. Instead of painting the degraded
image directly, G predicts two things from one shared body:

* an **image branch**: the intermediate image Ĩ_syn, kept close to the input
  by the identity loss (Eq. 3);
* a **flow branch**: a flow field T (N×2×H×W, pixels, (δx, δy));

and outputs ``I_gen = warp(Ĩ_syn, T)`` (Eq. 1). Because colour can only enter
through Ĩ_syn, which Eq. 3 pins to the input, the output keeps the input's
colours; the degradation is mostly carried by moving pixels (motion), which
is the paper's inductive bias.

The paper does not describe G's layers or bound its flow. Assumed:

* body: a small residual U-Net (Ronneberger et al. 2015; He et al. 2016) —
  a 3×3 stem, ``levels`` stride-2 downsamplings with residual blocks at each
  scale, nearest upsampling with skip connections back to full resolution.
  Reason: a 16×16 face needs both local texture and a little context, and
  skip connections make the identity (Eq. 3) easy to reach;
* image branch: ``Ĩ = I_syn + conv(features)`` with the last conv zero-
  initialised, so at step 0 the intermediate *is* the input (Eq. 3 = 0);
* flow branch: ``T = max_flow · tanh(conv(features))`` with ``max_flow`` = 2
  pixels (1/8 of a 16-pixel face), so a displacement can never fly off the
  image; the last conv starts small but not zero (a zero flow gives
  ``warp`` nothing to differentiate through at the start).
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from selfsr_edu.warp import warp

#: Assumed sizes (the paper gives none). ``channels`` at full resolution,
#: doubled per level; ``blocks`` residual blocks per scale; flow bound in pixels.
PRESETS = {
    "paper": dict(channels=64, levels=2, blocks=2, max_flow=2.0),
    "small": dict(channels=32, levels=2, blocks=1, max_flow=2.0),
    "tiny": dict(channels=16, levels=1, blocks=1, max_flow=2.0),
}


class ResidualBlock(nn.Module):
    """``x + conv(lrelu(conv(x)))``, 3×3 convolutions, no normalisation."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.leaky_relu(self.conv1(x), 0.2))


class UNetBody(nn.Module):
    """Residual U-Net: N×in×H×W → N×channels×H×W features (H, W divisible by 2**levels)."""

    def __init__(self, in_channels: int = 3, channels: int = 32, levels: int = 2, blocks: int = 1):
        super().__init__()
        self.levels = levels
        self.stem = nn.Conv2d(in_channels, channels, 3, padding=1)
        widths = [channels * 2**i for i in range(levels + 1)]
        self.enc = nn.ModuleList(nn.Sequential(*[ResidualBlock(c) for c in [widths[i]] * blocks])
                                 for i in range(levels + 1))
        self.down = nn.ModuleList(nn.Conv2d(widths[i], widths[i + 1], 4, stride=2, padding=1)
                                  for i in range(levels))
        self.up = nn.ModuleList(nn.Conv2d(widths[i + 1], widths[i], 3, padding=1) for i in range(levels))
        self.merge = nn.ModuleList(nn.Conv2d(2 * widths[i], widths[i], 3, padding=1) for i in range(levels))
        self.dec = nn.ModuleList(nn.Sequential(*[ResidualBlock(widths[i]) for _ in range(blocks)])
                                 for i in range(levels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % 2**self.levels or w % 2**self.levels:
            raise ValueError(f"UNetBody with {self.levels} levels needs H and W divisible by "
                             f"{2**self.levels}, got {h}×{w}")
        f = F.leaky_relu(self.stem(x), 0.2)
        skips = []
        for i in range(self.levels):
            f = self.enc[i](f)
            skips.append(f)
            f = F.leaky_relu(self.down[i](f), 0.2)
        f = self.enc[self.levels](f)
        for i in reversed(range(self.levels)):
            f = F.leaky_relu(self.up[i](F.interpolate(f, scale_factor=2.0, mode="nearest")), 0.2)
            f = F.leaky_relu(self.merge[i](torch.cat([f, skips[i]], dim=1)), 0.2)
            f = self.dec[i](f)
        return f


class Degraded(NamedTuple):
    """What G returns: ``lr == warp(intermediate, flow)``."""

    lr: torch.Tensor            #: I_gen^L, the degraded output (N×3×H×W)
    intermediate: torch.Tensor  #: Ĩ_syn^L, the image branch (N×3×H×W)
    flow: torch.Tensor          #: T, the flow branch (N×2×H×W, pixels, (δx, δy))


class FlowFieldDegradation(nn.Module):
    """G of Sec. III-A: ``forward(lr) -> Degraded(lr, intermediate, flow)``.

    ``lr`` is the clean bicubic LR I_syn^L in [0, 1]. The output ``.lr`` is not
    clamped (clamping would stop gradients); it stays close to [0, 1] because
    the intermediate is pinned to the input by Eq. 3 and warping only moves
    pixel values.
    """

    def __init__(self, channels: int = 32, levels: int = 2, blocks: int = 1, max_flow: float = 2.0):
        super().__init__()
        if max_flow <= 0:
            raise ValueError(f"max_flow must be positive (pixels), got {max_flow}")
        self.config = dict(channels=channels, levels=levels, blocks=blocks, max_flow=max_flow)
        self.max_flow = float(max_flow)
        self.body = UNetBody(3, channels, levels, blocks)
        self.image_head = nn.Conv2d(channels, 3, 3, padding=1)
        self.flow_head = nn.Conv2d(channels, 2, 3, padding=1)
        nn.init.zeros_(self.image_head.weight)
        nn.init.zeros_(self.image_head.bias)
        nn.init.normal_(self.flow_head.weight, std=1e-3)
        nn.init.zeros_(self.flow_head.bias)

    @classmethod
    def from_preset(cls, name: str) -> "FlowFieldDegradation":
        """``"paper"``, ``"small"`` or ``"tiny"`` (all sizes assumed, see ``PRESETS``)."""
        if name not in PRESETS:
            raise ValueError(f"unknown FlowFieldDegradation preset {name!r}; choose one of {sorted(PRESETS)}")
        return cls(**PRESETS[name])

    def forward(self, lr: torch.Tensor) -> Degraded:
        if lr.dim() != 4 or lr.shape[1] != 3:
            raise ValueError(f"FlowFieldDegradation: lr must be N×3×H×W in [0, 1], got {tuple(lr.shape)}")
        features = self.body(lr * 2.0 - 1.0)
        intermediate = lr + self.image_head(features)                  # image branch, Ĩ_syn
        flow = self.max_flow * torch.tanh(self.flow_head(features))    # flow branch, T (pixels)
        return Degraded(lr=warp(intermediate, flow), intermediate=intermediate, flow=flow)


__all__ = ["FlowFieldDegradation", "Degraded", "UNetBody", "ResidualBlock", "PRESETS"]
