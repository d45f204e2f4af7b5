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


def test_linear_with_lr_mul_keeps_function_but_scales_storage():
    torch.manual_seed(2)
    lin = EqualLinear(10, 4, bias_init=1.0, lr_mul=0.01)
    x = torch.randn(3, 10)
    w_eff = lin.weight * (math.sqrt(2 / 10) * 0.01)
    assert torch.allclose(lin(x), x @ w_eff.t() + 1.0, atol=1e-5)
    # stored weight ~ N(0, 1/lr_mul^2), stored bias = bias_init / lr_mul
    assert torch.allclose(lin.bias, torch.full((4,), 100.0))
    assert lin.weight.detach().std() > 20
    # the update of the effective weight after one gradient step is lr_mul^2 smaller
    lin2 = EqualLinear(10, 4)
    lin2.weight.data.copy_(lin.weight.data * 0.01)
    (lin(x).sum()).backward(); (lin2(x).sum()).backward()
    assert torch.allclose(lin.weight.grad, lin2.weight.grad * 0.01, atol=1e-6)


def test_bad_arguments_raise():
    import pytest
    with pytest.raises(ValueError, match="groups"):
        EqualConv2d(6, 5, 3, groups=4)
    with pytest.raises(ValueError, match="positive"):
        EqualLinear(0, 3)
