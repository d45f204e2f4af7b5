"""Eq. 7 hinge and Eq. 9 R1 on a linear discriminator, by hand; Eq. 10 and 11."""
import torch

from selfsr_edu.resize import bicubic_pil
from selfsr_edu.losses import (cycle_reconstruction_loss, hinge_d_loss, hinge_g_loss, r1_penalty,
                               reconstruction_loss, sr_discriminator_objective, sr_generator_objective)


def test_hinge_on_a_linear_discriminator():
    torch.manual_seed(0)
    w = torch.randn(3 * 4 * 4)
    real, fake = torch.rand(5, 3, 4, 4), torch.rand(5, 3, 4, 4)
    d_real, d_fake = real.flatten(1) @ w, fake.flatten(1) @ w
    by_hand = sum(max(0.0, 1 - v) for v in d_real.tolist()) / 5 + sum(max(0.0, 1 + v) for v in d_fake.tolist()) / 5
    assert abs(hinge_d_loss(d_real, d_fake).item() - by_hand) < 1e-5
    assert abs(hinge_g_loss(d_fake).item() + d_fake.mean().item()) < 1e-6


def test_r1_on_a_linear_discriminator_is_r_over_2_norm_w_squared():
    torch.manual_seed(1)
    w = torch.randn(3 * 8 * 8)
    real = torch.rand(6, 3, 8, 8).requires_grad_(True)
    logits = real.flatten(1) @ w            # D(x) = <w, x>: ∇_x D = w for every image
    for r in (10.0, 1.0):
        expected = r / 2 * w.pow(2).sum()
        assert torch.allclose(r1_penalty(logits, real, r=r), expected, rtol=1e-5)


def test_r1_gradient_reaches_the_discriminator_weights():
    torch.manual_seed(2)
    w = torch.randn(12, requires_grad=True)
    real = torch.rand(4, 12).requires_grad_(True)
    pen = r1_penalty(real @ w, real, r=10.0)
    (g,) = torch.autograd.grad(pen, w)
    assert torch.allclose(g, 10.0 * w.detach(), rtol=1e-5)       # d/dw (5 ||w||²) = 10 w


def test_full_objective_and_cycle_loss():
    sr, hr = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    rec = reconstruction_loss(sr, hr)
    assert torch.allclose(rec, (sr - hr).abs().mean())
    adv = torch.tensor(0.3)
    assert torch.allclose(sr_generator_objective(adv, rec), adv + 150 * rec)
    assert torch.allclose(sr_discriminator_objective(adv, torch.tensor(2.0)), torch.tensor(6.3))
    lr = bicubic_pil(hr, 8)
    assert cycle_reconstruction_loss(hr, lr).item() < 1e-6
    assert torch.allclose(cycle_reconstruction_loss(sr, lr), (bicubic_pil(sr, 8) - lr).abs().mean())
