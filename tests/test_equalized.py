"""Equalized learning rate (progressive GAN Sec. 4.1): N(0, 1) storage, He scale in forward."""
import math

import torch
import torch.nn.functional as F

from selfsr_edu.nn import EqualConv2d, EqualLinear


def test_conv_scale_is_he_constant_and_applied_in_forward():
    torch.manual_seed(0)
    conv = EqualConv2d(6, 5, 3, bias_init=0.25)
    assert math.isclose(conv.scale, math.sqrt(2 / (6 * 3 * 3)))
    x = torch.randn(2, 6, 7, 7)
    expected = F.conv2d(x, conv.weight * math.sqrt(2 / 54), torch.full((5,), 0.25), padding=1)
    assert torch.allclose(conv(x), expected, atol=1e-6)
    assert conv(x).shape == (2, 5, 7, 7)


def test_stored_weights_are_standard_normal():
    torch.manual_seed(1)
    conv = EqualConv2d(64, 64, 3)
    w = conv.weight.detach()
    assert abs(w.mean().item()) < 0.02 and abs(w.std().item() - 1) < 0.02
    # the effective weight has the He variance 2/fan_in
    eff = conv.effective_weight().detach()
    assert abs(eff.var().item() - 2 / (64 * 9)) < 0.05 * 2 / (64 * 9)


def test_bad_arguments_raise():
    import pytest
    with pytest.raises(ValueError, match="positive"):
        EqualConv2d(6, 0, 3)
    with pytest.raises(ValueError, match="positive"):
        EqualLinear(0, 3)
