"""D_H, the progressive HR discriminator (Sec. III-B, Eq. 7 and 9).

The paper trains R against ``D^H_real`` with the hinge loss and R1, and grows R
progressively [19]; it does not describe D_H. Assumed: the progressive-GAN
discriminator, mirrored to R's levels. For an image at ×2^stage of the LR
side ``s``::

    image ──from_rgb_stage (1×1)──► block_stage ──► ... ──► block_1 ──► final ──► logit
    block_k:  conv3×3 → LReLU → conv3×3 → LReLU → avg-pool ×½   (s·2^k → s·2^(k−1))
    final:    minibatch std (+1 channel) → conv3×3 → LReLU → avg-pool to 4×4
              → linear → LReLU → linear(1)

Fade-in, the mirror of R's: while level ``stage`` is new, its path is blended
with the previous stage's input path on the half-size image::

    x = alpha · block_stage(from_rgb_stage(image)) + (1 − alpha) · from_rgb_{stage−1}(avgpool(image))

Minibatch standard deviation (Karras et al. [19], Sec. 3): in groups of up to
4 images, the standard deviation of every feature over the group, averaged to
one number, appended as a constant feature map: it lets D see a lack of
variety in R's outputs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from selfsr_edu.nn.equalized import EqualConv2d, EqualLinear
from selfsr_edu.models.sr import fade_in
from selfsr_edu.nn.scb import LEAKY_SLOPE

#: Assumed widths: ``channels[0]`` at the LR resolution (final block), ``channels[k]`` for level k.
PRESETS: dict[str, dict] = {
    "paper": dict(channels=(512, 512, 256, 128), levels=3),
    "small": dict(channels=(64, 64, 48, 32), levels=3),
    "tiny": dict(channels=(16, 16, 12, 8), levels=3),
}


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """Append one channel: the mean over (C, H, W) of the per-feature std over a group.

    The group is the largest ``g ≤ group_size`` dividing the batch; images
    ``i`` and ``i + N/g·j`` share a group (progressive GAN's layout).
    """
    n, c, h, w = x.shape
    g = max(d for d in range(1, min(group_size, n) + 1) if n % d == 0)
    y = x.reshape(g, n // g, c, h, w).float()
    y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()          # (N/g, C, H, W)
    y = y.mean(dim=(1, 2, 3)).to(x.dtype)                    # (N/g,)
    y = y.repeat(g).reshape(n, 1, 1, 1).expand(n, 1, h, w)
    return torch.cat([x, y], dim=1)


class DiscriminatorBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv1 = EqualConv2d(in_channels, in_channels, 3)
        self.conv2 = EqualConv2d(in_channels, out_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv1(x), LEAKY_SLOPE)
        x = F.leaky_relu(self.conv2(x), LEAKY_SLOPE)
        return F.avg_pool2d(x, 2)


class ProgressiveDiscriminator(nn.Module):
    """D_H: ``forward(image, stage, alpha=1.0)`` returns N×1 logits for an image at ×2^stage."""

    def __init__(self, channels=(64, 64, 48, 32), levels: int = 3):
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if len(channels) < levels + 1:
            raise ValueError(f"ProgressiveDiscriminator: channels needs {levels + 1} widths, got {channels}")
        self.levels = levels
        self.config = dict(channels=channels[: levels + 1], levels=levels)
        self.from_rgb = nn.ModuleList(EqualConv2d(3, channels[k], 1) for k in range(levels + 1))
        self.blocks = nn.ModuleList(DiscriminatorBlock(channels[k], channels[k - 1]) for k in range(1, levels + 1))
        c0 = channels[0]
        self.final_conv = EqualConv2d(c0 + 1, c0, 3)
        self.final_linear = EqualLinear(c0 * 16, c0)
        self.out = EqualLinear(c0, 1, gain=1.0)

    @classmethod
    def from_preset(cls, name: str, levels: int | None = None) -> "ProgressiveDiscriminator":
        if name not in PRESETS:
            raise ValueError(f"ProgressiveDiscriminator preset must be one of {sorted(PRESETS)}, got {name!r}")
        cfg = dict(PRESETS[name])
        if levels is not None:
            cfg["levels"] = levels
        return cls(**cfg)

    def _from_rgb(self, k: int, image: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.from_rgb[k](image), LEAKY_SLOPE)

    def forward(self, image: torch.Tensor, stage: int | None = None, alpha: float = 1.0) -> torch.Tensor:
        stage = self.levels if stage is None else int(stage)
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"ProgressiveDiscriminator: image must be N×3×H×W, got {tuple(image.shape)}")
        if not (1 <= stage <= self.levels):
            raise ValueError(f"ProgressiveDiscriminator: stage must be in 1..{self.levels}, got {stage}")
        if image.shape[-1] % (1 << stage) or image.shape[-2] % (1 << stage):
            raise ValueError(f"ProgressiveDiscriminator: image side {tuple(image.shape[-2:])} is not divisible "
                             f"by 2^stage = {1 << stage}")
        x = self.blocks[stage - 1](self._from_rgb(stage, image))
        if alpha < 1.0:
            x = fade_in(self._from_rgb(stage - 1, F.avg_pool2d(image, 2)), x, alpha)
        for k in range(stage - 1, 0, -1):
            x = self.blocks[k - 1](x)
        x = minibatch_stddev(x)
        x = F.leaky_relu(self.final_conv(x), LEAKY_SLOPE)
        x = F.adaptive_avg_pool2d(x, 4).flatten(1)
        x = F.leaky_relu(self.final_linear(x), LEAKY_SLOPE)
        return self.out(x)


__all__ = ["ProgressiveDiscriminator", "DiscriminatorBlock", "minibatch_stddev", "PRESETS"]
