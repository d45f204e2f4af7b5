"""R, the self-conditioned progressive SR network (Sec. III-B, Fig. 3).

Structure, for an LR face of side ``s`` and ``L`` levels (×2 per level)::

    lr ──stem conv──► f_0                                     (s × s)
    level k = 1..L:                                           (s·2^k × s·2^k)
        f ← nearest ×2 upsample of f_{k-1}
        repeat depth times:  f ← block( LeakyReLU(conv3×3(f)), condition_k )
        image_k = to_rgb_k(f)                       (1×1 conv to RGB)
    condition_k = bicubic upsample of lr to s·2^k  (the "self" condition)

``block`` is the self-conditioned block of Eq. 6 (or, for the Table IV
ablation, the concatenation "vanilla" block; or SPADE for discussion). Every
level has the same number of conv layers ("a balanced backbone"), and the
output of level k is an image at ×2^k: ``forward(lr, stage)`` runs levels
1..stage, so stage 1, 2, 3 give ×2, ×4, ×8.

Progressive growing (Karras et al. [19]): when a level is new, its output is
faded in::

    out = alpha · image_stage + (1 − alpha) · up2(image_{stage−1})

with ``up2`` nearest-neighbour ×2 (as in progressive GAN). ``alpha = 0`` is
exactly the previous stage's output, upsampled; ``alpha = 1`` is the new level.

Each level's condition is computed once per forward (bicubic from the LR, PIL
convention, as the DIC protocol made the LR), and the condition branches of
all blocks of a level are evaluated together
(:func:`selfsr_edu.nn.scb.level_condition_features`). Pass ``conditions=``
(from :meth:`SelfConditionedSR.conditions`) to reuse them across calls.

Assumed (the paper gives only the total, 17.89 M parameters, Table I): the
widths, depth and condition-branch width of each preset below; the stem; the
nearest upsampling of features; LeakyReLU(0.2) before each block; and that R
predicts the image directly (``residual=False``: the paper contrasts itself
with ProSR/LapSRN, which predict residuals). ``residual=True`` adds the
bicubic condition to each level's RGB output (its to-RGB weights start at zero,
so R starts as bicubic), a switch for short CPU runs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from selfsr_edu.resize import bicubic_pil
from selfsr_edu.nn.equalized import EqualConv2d
from selfsr_edu.nn.scb import LEAKY_SLOPE, level_condition_features, make_block

#: Presets. ``channels[0]`` is the stem width, ``channels[k]`` level k's width.
PRESETS: dict[str, dict] = {
    # Assumed widths chosen so the ×8 network has ≈ 17.89 M parameters (Table I).
    "paper": dict(channels=(512, 512, 320, 160), depth=4, hidden=80, levels=3),  # 17.74 M
    # ≈ 0.3 M parameters: DESIGN.md's CPU speed-budget network.
    "small": dict(channels=(64, 64, 64, 48), depth=2, hidden=32, levels=3),  # 0.31 M
    # Notebooks and tests: a few thousand parameters, runs in milliseconds.
    "tiny": dict(channels=(16, 16, 12, 8), depth=1, hidden=8, levels=3),  # 8.8 k
}


def upsample2(x: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour ×2 (the fade-in path and the feature upsampling)."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def fade_in(previous: torch.Tensor, new: torch.Tensor, alpha: float) -> torch.Tensor:
    """Progressive-GAN fade-in [19]: ``previous + alpha · (new − previous)``; ``alpha = 0``
    gives ``previous`` exactly (no gradient reaches ``new``), ``alpha = 1`` gives ``new`` exactly."""
    if alpha <= 0 or alpha >= 1:
        return previous if alpha <= 0 else new
    return previous + float(alpha) * (new - previous)


class SRLevel(nn.Module):
    """One ×2 level: upsample, then ``depth`` × (conv3×3 → LeakyReLU → block)."""

    def __init__(self, in_channels: int, channels: int, depth: int, block: str, hidden: int, cond_channels: int = 3):
        super().__init__()
        self.convs = nn.ModuleList(
            EqualConv2d(in_channels if i == 0 else channels, channels, 3) for i in range(depth))
        self.blocks = nn.ModuleList(make_block(block, channels, cond_channels, hidden) for _ in range(depth))
        self.to_rgb = EqualConv2d(channels, 3, 1, gain=1.0)

    def forward(self, features: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        f = upsample2(features)
        conds = level_condition_features(self.blocks, condition)
        for conv, block, c in zip(self.convs, self.blocks, conds):
            f = block.apply(F.leaky_relu(conv(f), LEAKY_SLOPE), c)
        return f


class SelfConditionedSR(nn.Module):
    """R (Fig. 3): ``forward(lr, stage, alpha=1.0)`` upscales ×2^stage.

    ``channels``: (stem, level 1, ..., level L) widths; ``depth``: conv+block
    layers per level; ``hidden``: condition-branch width; ``block``: "scb",
    "concat" or "spade"; ``levels``: L (3 for ×8, 2 for the real-world ×4).
    """

    def __init__(self, channels=(64, 64, 64, 48), depth: int = 2, hidden: int = 32, levels: int = 3,
                 block: str = "scb", residual: bool = False):
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if levels < 1:
            raise ValueError(f"SelfConditionedSR: levels must be >= 1, got {levels}")
        if len(channels) < levels + 1:
            raise ValueError(f"SelfConditionedSR: channels needs {levels + 1} widths (stem + one per level), "
                             f"got {channels}")
        if depth < 1:
            raise ValueError(f"SelfConditionedSR: depth must be >= 1, got {depth}")
        self.config = dict(channels=channels[: levels + 1], depth=depth, hidden=hidden, levels=levels,
                           block=block, residual=residual)
        self.levels, self.residual = levels, residual
        self.stem = EqualConv2d(3, channels[0], 3)
        self.level = nn.ModuleList(
            SRLevel(channels[k - 1], channels[k], depth, block, hidden) for k in range(1, levels + 1))
        if residual:  # R starts as bicubic: the residual heads begin at zero
            for lvl in self.level:
                nn.init.zeros_(lvl.to_rgb.weight)

    @classmethod
    def from_preset(cls, name: str, levels: int | None = None, **overrides) -> "SelfConditionedSR":
        """``"paper"`` (≈ 17.89 M parameters at ×8), ``"small"`` (≈ 0.3 M) or ``"tiny"``.

        ``levels=2`` gives the real-world ×4 network; other keyword arguments
        (``block``, ``residual``, ...) override the preset.
        """
        if name not in PRESETS:
            raise ValueError(f"SelfConditionedSR preset must be one of {sorted(PRESETS)}, got {name!r}")
        cfg = dict(PRESETS[name])
        if levels is not None:
            cfg["levels"] = levels
        cfg.update(overrides)
        return cls(**cfg)

    # ------------------------------------------------------------------
    def conditions(self, lr: torch.Tensor, stage: int | None = None) -> list[torch.Tensor]:
        """The condition of each level 1..stage: ``lr`` bicubic-upsampled (PIL) to ×2^k."""
        stage = self.levels if stage is None else stage
        h, w = lr.shape[-2], lr.shape[-1]
        return [bicubic_pil(lr, (h << k, w << k)) for k in range(1, stage + 1)]

    def _check(self, lr: torch.Tensor, stage: int, alpha: float) -> None:
        if not torch.is_tensor(lr) or lr.dim() != 4 or lr.shape[1] != 3:
            raise ValueError(f"SelfConditionedSR: lr must be an N×3×H×W tensor, got "
                             f"{tuple(lr.shape) if torch.is_tensor(lr) else type(lr).__name__}")
        if not (1 <= int(stage) <= self.levels):
            raise ValueError(f"SelfConditionedSR: stage must be in 1..{self.levels}, got {stage}")
        if not (0.0 <= float(alpha) <= 1.0):
            raise ValueError(f"SelfConditionedSR: alpha must be in [0, 1], got {alpha}")

    def _rgb(self, k: int, features: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        image = self.level[k - 1].to_rgb(features)
        return image + condition if self.residual else image

    def forward(self, lr: torch.Tensor, stage: int | None = None, alpha: float = 1.0,
                conditions: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Upscale ``lr`` (N×3×h×w in [0, 1]) by 2^stage; ``alpha`` fades the newest level in."""
        stage = self.levels if stage is None else int(stage)
        self._check(lr, stage, alpha)
        if conditions is None:
            conditions = self.conditions(lr, stage)
        f = F.leaky_relu(self.stem(lr), LEAKY_SLOPE)
        previous = None
        for k in range(1, stage + 1):
            if k == stage and alpha < 1.0 and stage > 1:
                previous = upsample2(self._rgb(k - 1, f, conditions[k - 2]))
            f = self.level[k - 1](f, conditions[k - 1])
        out = self._rgb(stage, f, conditions[stage - 1])
        return out if previous is None else fade_in(previous, out, alpha)

    def num_parameters(self, stage: int | None = None) -> int:
        """Parameters used at ``stage`` (all levels by default)."""
        stage = self.levels if stage is None else stage
        mods = [self.stem] + [self.level[k] for k in range(stage)]
        return sum(p.numel() for m in mods for p in m.parameters())


__all__ = ["SelfConditionedSR", "SRLevel", "PRESETS", "upsample2", "fade_in"]
