"""Stage-1 losses (Eqs. 2-5 and CycleGAN's cycle loss) on tiny tensors, by hand."""
import math

import pytest
import torch

from selfsr_edu.losses import (cycle_consistency_loss, degradation_objective, flow_smoothness, identity_loss,
                               lr_adversarial_d_loss, lr_adversarial_g_loss)


def test_eq2_discriminator_is_binary_cross_entropy():
    # D(x) = sigmoid(logit); −log σ(2) − log(1 − σ(−1)) = log(1 + e^−2) + log(1 + e^−1)
    loss = lr_adversarial_d_loss(torch.tensor([2.0]), torch.tensor([-1.0]))
    assert float(loss) == pytest.approx(math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-1)), rel=1e-6)
    # undecided D (logit 0 everywhere): 2 log 2
    assert float(lr_adversarial_d_loss(torch.zeros(2, 1, 3, 3), torch.zeros(2, 1, 3, 3))) == pytest.approx(
        2 * math.log(2), rel=1e-6)


def test_eq2_generator_non_saturating():
    logits = torch.tensor([0.0, 3.0])
    expected = (math.log(2) + math.log(1 + math.exp(-3))) / 2   # mean of −log σ(logit)
    assert float(lr_adversarial_g_loss(logits)) == pytest.approx(expected, rel=1e-6)
    # large logits are stable (no inf)
    assert math.isfinite(float(lr_adversarial_g_loss(torch.tensor([-200.0]))))


def test_eq3_identity_is_mean_absolute_error():
    a = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    b = torch.tensor([[[[1.0, 0.0], [4.0, 0.0]]]])
    assert float(identity_loss(a, b)) == pytest.approx((0 + 2 + 1 + 4) / 4)


def test_eq4_flow_smoothness_by_hand():
    flow = torch.zeros(1, 2, 2, 2)
    flow[0, 0] = torch.tensor([[0.0, 1.0], [2.0, 4.0]])
    # horizontal differences: |1−0|, |4−2| on δx, zeros on δy → mean over 4 = 0.75
    # vertical differences:   |2−0|, |4−1| on δx, zeros on δy → mean over 4 = 1.25
    assert float(flow_smoothness(flow)) == pytest.approx(2.0)
    # a constant flow (a pure shift) is perfectly smooth
    assert float(flow_smoothness(torch.full((2, 2, 5, 5), 1.5))) == 0.0


def test_eq5_weighted_sum_with_paper_weights():
    total = degradation_objective(torch.tensor(1.0), torch.tensor(0.5), torch.tensor(2.0))
    assert float(total) == pytest.approx(1 + 10 * 0.5 + 1 * 2)


def test_cycle_consistency_by_hand():
    x = torch.tensor([[[[0.5, 0.25]]]])
    y = torch.tensor([[[[0.0, 1.0]]]])
    assert float(cycle_consistency_loss(x, y)) == pytest.approx((0.5 + 0.75) / 2)
    with pytest.raises(ValueError, match="cycle_consistency_loss"):
        cycle_consistency_loss(x, torch.zeros(1, 1, 2, 1))
