"""The self-conditioned block (Eq. 6, Fig. 4) and the two blocks it is compared with.

SelfSR feeds the LR input, bicubic-upsampled to the resolution of each level
of R, into every block of that level as a *condition*. The block normalises
the features per image and channel (instance normalisation, no affine
parameters) and multiplies them, element by element, by a modulation map γ
predicted from the condition (Eq. 6)::

    μ_{n,c}   = 1/(HW) Σ_{h,w} f_{n,c,h,w}
    σ_{n,c}   = sqrt( 1/(HW) Σ_{h,w} (f_{n,c,h,w} − μ_{n,c})² + ε )
    f̄_{n,c,h,w} = (f_{n,c,h,w} − μ_{n,c}) / σ_{n,c}
    f'_{n,c,h,w} = γ_{n,c,h,w} · f̄_{n,c,h,w},        γ = condition_branch(condition)

Three blocks share one interface, so :class:`~selfsr_edu.models.SelfConditionedSR`
takes ``block="scb" | "concat" | "spade"``:

* :class:`SelfConditionedBlock` (``"scb"``): Eq. 6 exactly (the paper's block).
* :class:`ConcatBlock` (``"concat"``): Table IV's "vanilla" variant, which
  *concatenates* the condition with the (normalised) features instead of
  modulating them.
* :class:`SpadeBlock` (``"spade"``): for discussion only, SPADE's
  ``(1 + γ) ⊙ IN(f) + β`` (Park et al., 2019); SelfSR drops β and the ``1 +``.

The interface (what R relies on):

* ``condition_features(condition)``: what the block computes from the
  condition alone (γ; γ and β; or the condition itself);
* ``apply(features, cond_features)``: the block's output;
* ``forward(features, condition) = apply(features, condition_features(resize(condition)))``,
  where the condition is resized to the features' size with PIL-compatible
  bicubic if it differs.

Since all blocks of one level of R see the *same* condition,
:func:`level_condition_features` computes their condition branches together:
one convolution for all first layers (weights concatenated) and one grouped
convolution for all second layers, instead of ``2 × depth`` small convolutions.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from selfsr_edu.resize import bicubic_pil
from selfsr_edu.nn.equalized import EqualConv2d

#: Negative slope of every LeakyReLU in R and D_H (progressive GAN's choice; Assumed).
LEAKY_SLOPE = 0.2


def instance_norm(features: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Eq. 6's normalisation: ``(f − μ_{n,c}) / sqrt(var_{n,c} + ε)`` with the
    biased (1/HW) variance over H and W and no affine parameters."""
    return F.instance_norm(features, eps=eps)


def _match_condition(condition: torch.Tensor, features: torch.Tensor, who: str) -> torch.Tensor:
    if condition.dim() != 4 or features.dim() != 4:
        raise ValueError(f"{who}: features and condition must be N×C×H×W, got "
                         f"{tuple(features.shape)} and {tuple(condition.shape)}")
    if condition.shape[0] != features.shape[0]:
        raise ValueError(f"{who}: batch sizes differ, features {features.shape[0]} vs condition {condition.shape[0]}")
    if condition.shape[-2:] != features.shape[-2:]:
        condition = bicubic_pil(condition, (features.shape[-2], features.shape[-1]))
    return condition


class _ConditionBranch(nn.Module):
    """γ's small conv net: ``conv3×3(cond → hidden) → LeakyReLU → conv3×3(hidden → out)``.

    Assumed (Fig. 4 shows the layers but not their widths): two 3×3
    equalized convolutions with ``hidden`` channels in between, as in SPADE's
    shared MLP. The last bias starts at ``bias_init`` so that γ ≈ 1 at the start
    (the block then begins as plain instance normalisation).
    """

    def __init__(self, cond_channels: int, hidden: int, out_channels: int, bias_init: float):
        super().__init__()
        self.conv1 = EqualConv2d(cond_channels, hidden, 3)
        self.conv2 = EqualConv2d(hidden, out_channels, 3, bias_init=bias_init, gain=1.0)

    def forward(self, condition: torch.Tensor) -> torch.Tensor:
        return self.conv2(F.leaky_relu(self.conv1(condition), LEAKY_SLOPE))


class SelfConditionedBlock(nn.Module):
    """Eq. 6: ``forward(features, condition) = γ(condition) ⊙ IN(features)``.

    ``channels``: feature channels C; ``cond_channels``: condition channels
    (3 for an RGB image); ``hidden``: width of the condition branch (Assumed: 32
    by default, presets choose); ``eps``: the ε inside the square root of Eq. 6.
    """

    kind = "scb"

    def __init__(self, channels: int, cond_channels: int = 3, hidden: int = 32, eps: float = 1e-5):
        super().__init__()
        if channels <= 0 or cond_channels <= 0 or hidden <= 0:
            raise ValueError(f"SelfConditionedBlock: channels, cond_channels and hidden must be positive, got "
                             f"{channels}, {cond_channels}, {hidden}")
        self.channels, self.cond_channels, self.hidden, self.eps = channels, cond_channels, hidden, eps
        self.branch = _ConditionBranch(cond_channels, hidden, channels, bias_init=1.0)

    def condition_features(self, condition: torch.Tensor) -> torch.Tensor:
        """γ: N×C×H×W, one modulation value per feature element."""
        return self.branch(condition)

    def apply(self, features: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
        return gamma * instance_norm(features, self.eps)

    def forward(self, features: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        if features.shape[1] != self.channels:
            raise ValueError(f"SelfConditionedBlock: features have {features.shape[1]} channels, expected {self.channels}")
        condition = _match_condition(condition, features, "SelfConditionedBlock")
        return self.apply(features, self.condition_features(condition))


class SpadeBlock(SelfConditionedBlock):
    """For discussion: SPADE's ``(1 + γ) ⊙ IN(f) + β``, both maps from the condition.

    The condition branch outputs 2C channels (γ then β), its last bias starts at 0.
    """

    kind = "spade"

    def __init__(self, channels: int, cond_channels: int = 3, hidden: int = 32, eps: float = 1e-5):
        super().__init__(channels, cond_channels, hidden, eps)
        self.branch = _ConditionBranch(cond_channels, hidden, 2 * channels, bias_init=0.0)

    def apply(self, features: torch.Tensor, gamma_beta: torch.Tensor) -> torch.Tensor:
        gamma, beta = gamma_beta.chunk(2, dim=1)
        return (1 + gamma) * instance_norm(features, self.eps) + beta


class ConcatBlock(nn.Module):
    """Table IV's "vanilla" block: the condition is concatenated, not used to modulate.

    ``apply(f, condition) = conv1×1([IN(f); condition])`` back to C channels.
    Assumed (the paper only says the vanilla variant "concatenates the LR input
    with intermediate features"): instance norm kept so the only difference
    from the SCB is *how* the condition enters; a 1×1 equalized conv fuses the
    C + cond channels back to C so the block is a drop-in replacement.
    ``hidden`` is accepted (and ignored) so the three blocks share a signature.
    """

    kind = "concat"

    def __init__(self, channels: int, cond_channels: int = 3, hidden: int = 32, eps: float = 1e-5):
        super().__init__()
        self.channels, self.cond_channels, self.eps = channels, cond_channels, eps
        self.fuse = EqualConv2d(channels + cond_channels, channels, 1)

    def condition_features(self, condition: torch.Tensor) -> torch.Tensor:
        return condition

    def apply(self, features: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return self.fuse(torch.cat([instance_norm(features, self.eps), condition], dim=1))

    def forward(self, features: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        if features.shape[1] != self.channels:
            raise ValueError(f"ConcatBlock: features have {features.shape[1]} channels, expected {self.channels}")
        condition = _match_condition(condition, features, "ConcatBlock")
        return self.apply(features, condition)


BLOCKS = {"scb": SelfConditionedBlock, "concat": ConcatBlock, "spade": SpadeBlock}


def make_block(kind: str, channels: int, cond_channels: int = 3, hidden: int = 32, eps: float = 1e-5) -> nn.Module:
    """Build a block by name: ``"scb"`` (Eq. 6), ``"concat"`` (Table IV vanilla) or ``"spade"``."""
    if kind not in BLOCKS:
        raise ValueError(f"block must be one of {sorted(BLOCKS)}, got {kind!r}")
    return BLOCKS[kind](channels, cond_channels=cond_channels, hidden=hidden, eps=eps)


def level_condition_features(blocks, condition: torch.Tensor) -> list[torch.Tensor]:
    """``[b.condition_features(condition) for b in blocks]``, computed together.

    For SCB/SPADE blocks of equal widths (one level of R) the first layers of
    all condition branches become one convolution (their weights concatenated
    along the output axis) and the second layers one grouped convolution
    (``groups = len(blocks)``). Same maths, far fewer tiny kernels to launch.
    """
    blocks = list(blocks)
    if not blocks:
        return []
    if isinstance(blocks[0], ConcatBlock) or len(blocks) == 1:
        return [b.condition_features(condition) for b in blocks]
    first = [b.branch.conv1 for b in blocks]
    second = [b.branch.conv2 for b in blocks]
    if len({(c.in_channels, c.out_channels) for c in first}) != 1 or len({c.out_channels for c in second}) != 1:
        return [b.condition_features(condition) for b in blocks]
    w1 = torch.cat([c.effective_weight() for c in first], 0)
    b1 = torch.cat([c.bias for c in first], 0)
    h = F.leaky_relu(F.conv2d(condition, w1, b1, padding=first[0].padding), LEAKY_SLOPE)
    w2 = torch.cat([c.effective_weight() for c in second], 0)
    b2 = torch.cat([c.bias for c in second], 0)
    out = F.conv2d(h, w2, b2, padding=second[0].padding, groups=len(blocks))
    return list(out.chunk(len(blocks), dim=1))


__all__ = ["SelfConditionedBlock", "ConcatBlock", "SpadeBlock", "make_block", "level_condition_features",
           "instance_norm", "BLOCKS", "LEAKY_SLOPE"]
