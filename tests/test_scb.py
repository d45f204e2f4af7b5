"""Eq. 6 by hand on a tiny tensor against SelfConditionedBlock, and the shared block interface."""
import math

import pytest
import torch
import torch.nn.functional as F

from selfsr_edu.resize import bicubic_pil
from selfsr_edu.nn import ConcatBlock, SelfConditionedBlock, SpadeBlock
from selfsr_edu.nn.scb import level_condition_features, make_block


def _gamma_by_hand(block, condition):
    c1, c2 = block.branch.conv1, block.branch.conv2
    h = F.conv2d(condition, c1.weight * math.sqrt(2 / (c1.in_channels * 9)), c1.bias, padding=1)
    h = torch.where(h >= 0, h, 0.2 * h)
    return F.conv2d(h, c2.weight * (1 / math.sqrt(c2.in_channels * 9)), c2.bias, padding=1)


def test_eq6_by_hand_on_a_tiny_tensor():
    torch.manual_seed(0)
    f = torch.tensor([[[[1.0, 2.0], [3.0, 6.0]], [[0.0, 0.0], [0.0, 4.0]]]])  # 1×2×2×2
    eps = 1e-5
    # channel 0: mean 3, var ((−2)²+(−1)²+0²+3²)/4 = 3.5; channel 1: mean 1, var (1+1+1+9)/4 = 3
    fbar = torch.empty_like(f)
    fbar[0, 0] = (f[0, 0] - 3.0) / math.sqrt(3.5 + eps)
    fbar[0, 1] = (f[0, 1] - 1.0) / math.sqrt(3.0 + eps)
    block = SelfConditionedBlock(2, cond_channels=3, hidden=4, eps=eps)
    with torch.no_grad():
        block.branch.conv2.bias.copy_(torch.tensor([0.5, -2.0]))
    condition = torch.rand(1, 3, 2, 2)
    gamma = _gamma_by_hand(block, condition)
    assert torch.allclose(block(f, condition), gamma * fbar, atol=1e-5)


def test_gamma_starts_near_one_and_condition_is_resized_to_features():
    torch.manual_seed(1)
    block = SelfConditionedBlock(8, hidden=8)
    f = torch.randn(2, 8, 12, 12)
    cond_small = torch.rand(2, 3, 6, 6)
    resized = bicubic_pil(cond_small, (12, 12))
    assert torch.allclose(block(f, cond_small), block(f, resized), atol=1e-6)
    gamma = block.condition_features(resized)
    assert gamma.shape == f.shape
    assert abs(gamma.mean().item() - 1.0) < 0.5
    # output statistics: γ·IN(f) with γ ≡ 1 would be zero-mean, unit-variance per channel
    with torch.no_grad():
        block.branch.conv2.weight.zero_()
    out = block(f, resized)
    assert torch.allclose(out.mean(dim=(2, 3)), torch.zeros(2, 8), atol=1e-5)
    assert torch.allclose(out.var(dim=(2, 3), unbiased=False), torch.ones(2, 8), atol=1e-3)


def test_spade_and_concat_share_the_interface():
    torch.manual_seed(2)
    f, cond = torch.randn(2, 6, 8, 8), torch.rand(2, 3, 8, 8)
    for kind, cls in (("scb", SelfConditionedBlock), ("concat", ConcatBlock), ("spade", SpadeBlock)):
        block = make_block(kind, 6, hidden=5)
        assert isinstance(block, cls)
        out = block(f, cond)
        assert out.shape == f.shape
        assert torch.allclose(out, block.apply(f, block.condition_features(cond)))
    spade = SpadeBlock(6, hidden=5)
    gb = spade.condition_features(cond)
    g, b = gb[:, :6], gb[:, 6:]
    assert torch.allclose(spade(f, cond), (1 + g) * F.instance_norm(f) + b, atol=1e-5)
    concat = ConcatBlock(6)
    x = torch.cat([F.instance_norm(f), cond], 1)
    ref = F.conv2d(x, concat.fuse.weight * math.sqrt(2 / 9), concat.fuse.bias)
    assert torch.allclose(concat(f, cond), ref, atol=1e-5)
    with pytest.raises(ValueError, match="block must be one of"):
        make_block("adain", 4)


def test_level_branches_computed_together_match_one_by_one():
    torch.manual_seed(3)
    blocks = [SelfConditionedBlock(6, hidden=4) for _ in range(3)]
    cond = torch.rand(2, 3, 10, 10)
    together = level_condition_features(blocks, cond)
    for b, g in zip(blocks, together):
        assert torch.allclose(g, b.condition_features(cond), atol=1e-5)
    spades = [SpadeBlock(6, hidden=4) for _ in range(2)]
    for b, g in zip(spades, level_condition_features(spades, cond)):
        assert torch.allclose(g, b.condition_features(cond), atol=1e-5)


def test_bad_inputs_name_the_problem():
    block = SelfConditionedBlock(4)
    with pytest.raises(ValueError, match="channels"):
        block(torch.randn(1, 5, 4, 4), torch.rand(1, 3, 4, 4))
    with pytest.raises(ValueError, match="batch"):
        block(torch.randn(2, 4, 4, 4), torch.rand(1, 3, 4, 4))
