"""D_L: the low-resolution patch discriminator of the degradation stage (Eq. 2).

It tells real wild LR faces I_real^L from G's outputs I_gen^L. The paper does
not describe it. Assumed: a PatchGAN (Isola et al., 2017) sized for 16×16
inputs — a 3×3 stem, ``n_down`` stride-2 4×4 convolutions, LeakyReLU(0.2), no
normalisation (batch statistics would let D tell the real and fake batches
apart by their mean), and a 3×3 head giving one logit per overlapping patch.
For a 16×16 input and n_down = 1 that is an 8×8 grid of logits, each seeing a
~10×10 patch: D judges local texture (noise, blur, JPEG blocks), which is what
a degradation is, rather than face identity. The CycleGAN baseline uses the
same network for both of its domains.
"""
from __future__ import annotations

import torch
import torch.nn as nn

#: Assumed widths (not in the paper): channels of the stem, doubled per downsampling.
PRESETS = {
    "paper": dict(channels=64, n_down=2),
    "small": dict(channels=32, n_down=1),
    "tiny": dict(channels=16, n_down=1),
}


class PatchDiscriminator(nn.Module):
    """LR patch discriminator: N×3×H×W images in [0, 1] → N×1×h×w logits."""

    def __init__(self, in_channels: int = 3, channels: int = 32, n_down: int = 1):
        super().__init__()
        layers = [nn.Conv2d(in_channels, channels, 3, padding=1), nn.LeakyReLU(0.2)]
        c = channels
        for _ in range(n_down):
            layers += [nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            c *= 2
        layers += [nn.Conv2d(c, c, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(c, 1, 3, padding=1)]
        self.net = nn.Sequential(*layers)
        self.config = dict(in_channels=in_channels, channels=channels, n_down=n_down)

    @classmethod
    def from_preset(cls, name: str) -> "PatchDiscriminator":
        if name not in PRESETS:
            raise ValueError(f"unknown PatchDiscriminator preset {name!r}; choose one of {sorted(PRESETS)}")
        return cls(**PRESETS[name])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] != self.config["in_channels"]:
            raise ValueError(f"PatchDiscriminator: expected N×{self.config['in_channels']}×H×W images, "
                             f"got {tuple(images.shape)}")
        # centre [0, 1] images on 0 so the first layer starts balanced
        return self.net(images * 2.0 - 1.0)


__all__ = ["PatchDiscriminator", "PRESETS"]
