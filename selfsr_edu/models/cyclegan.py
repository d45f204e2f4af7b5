"""The CycleGAN baseline of Table III ("Cyc", "Cyc + Idt"; Zhu et al., 2017 [70]).

Instead of G's flow field, CycleGAN learns the degradation as a free image-to-
image translation, with two generators and two discriminators:

* ``clean_to_wild`` (the degradation, the counterpart of G) and
  ``wild_to_clean`` (its inverse);
* ``d_wild`` (= D_L: real wild LR vs. translated clean LR) and ``d_clean``
  (clean bicubic LR vs. translated wild LR);
* cycle consistency ``‖wild_to_clean(clean_to_wild(c)) − c‖₁`` and
  ``‖clean_to_wild(wild_to_clean(w)) − w‖₁`` (λ_cyc = 10, as Zhu et al.);
* "+ Idt": the identity loss of Eq. 3 applied to the translation,
  ``‖clean_to_wild(c) − c‖₁`` (λ_idt = 10, as for G).

Assumed (the paper gives no CycleGAN details): each generator has the same
residual U-Net body as G (:class:`~selfsr_edu.models.degradation.UNetBody`)
so the comparison isolates the output parameterisation, and paints its output
directly in RGB through a sigmoid — "estimating noisy images directly in the
whole RGB space", the design the paper blames for colour drift. The adversarial
loss is the same non-saturating GAN loss as Eq. 2 (not the least-squares loss
of Zhu et al.), so only the architecture differs from FF.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from selfsr_edu.models.degradation import PRESETS as G_PRESETS
from selfsr_edu.models.degradation import UNetBody
from selfsr_edu.models.patch_discriminator import PRESETS as D_PRESETS
from selfsr_edu.models.patch_discriminator import PatchDiscriminator


class TranslationGenerator(nn.Module):
    """A CycleGAN generator: N×3×H×W in [0, 1] → N×3×H×W in (0, 1), painted directly."""

    def __init__(self, channels: int = 32, levels: int = 2, blocks: int = 1):
        super().__init__()
        self.config = dict(channels=channels, levels=levels, blocks=blocks)
        self.body = UNetBody(3, channels, levels, blocks)
        self.head = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"TranslationGenerator: expected N×3×H×W images in [0, 1], got {tuple(x.shape)}")
        return torch.sigmoid(self.head(self.body(x * 2.0 - 1.0)))


class CycleGAN(nn.Module):
    """Two generators and two patch discriminators; ``forward(clean)`` degrades."""

    def __init__(self, channels: int = 32, levels: int = 2, blocks: int = 1, d_channels: int = 32,
                 d_down: int = 1):
        super().__init__()
        self.config = dict(channels=channels, levels=levels, blocks=blocks, d_channels=d_channels, d_down=d_down)
        self.clean_to_wild = TranslationGenerator(channels, levels, blocks)
        self.wild_to_clean = TranslationGenerator(channels, levels, blocks)
        self.d_wild = PatchDiscriminator(3, d_channels, d_down)
        self.d_clean = PatchDiscriminator(3, d_channels, d_down)

    @classmethod
    def from_preset(cls, name: str) -> "CycleGAN":
        """Same ``"paper"``/``"small"``/``"tiny"`` sizes as G and D_L (assumed)."""
        if name not in G_PRESETS:
            raise ValueError(f"unknown CycleGAN preset {name!r}; choose one of {sorted(G_PRESETS)}")
        g = G_PRESETS[name]
        d = D_PRESETS[name]
        return cls(g["channels"], g["levels"], g["blocks"], d["channels"], d["n_down"])

    def generators(self) -> nn.ModuleList:
        return nn.ModuleList([self.clean_to_wild, self.wild_to_clean])

    def discriminators(self) -> nn.ModuleList:
        return nn.ModuleList([self.d_wild, self.d_clean])

    def forward(self, clean: torch.Tensor) -> torch.Tensor:
        """The degradation: clean bicubic LR → wild-looking LR."""
        return self.clean_to_wild(clean)


__all__ = ["CycleGAN", "TranslationGenerator"]
