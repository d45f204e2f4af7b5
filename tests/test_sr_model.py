"""R (Fig. 3) and D_H: sizes per stage, fade-in identity, parameter counts of the presets."""
import pytest
import torch
import torch.nn.functional as F

from selfsr_edu.resize import bicubic_pil
from selfsr_edu.models import ProgressiveDiscriminator, SelfConditionedSR
from selfsr_edu.models.progressive_discriminator import minibatch_stddev


def _count(ch, depth, hidden, levels=3, block="scb"):
    """Parameters of R by hand: stem, per level convs + blocks + to_rgb (weights and biases)."""
    n = 3 * ch[0] * 9 + ch[0]
    for k in range(1, levels + 1):
        cin, c = ch[k - 1], ch[k]
        n += cin * c * 9 + c + (depth - 1) * (c * c * 9 + c)
        if block == "scb":
            n += depth * (3 * hidden * 9 + hidden + hidden * c * 9 + c)
        else:
            n += depth * ((c + 3) * c + c)
        n += c * 3 + 3
    return n


@pytest.mark.parametrize("name", ["tiny", "small", "paper"])
def test_parameter_count_of_each_preset(name):
    from selfsr_edu.models.sr import PRESETS
    model = SelfConditionedSR.from_preset(name)
    p = PRESETS[name]
    total = sum(t.numel() for t in model.parameters())
    assert total == _count(p["channels"], p["depth"], p["hidden"])
    concat = SelfConditionedSR.from_preset(name, block="concat")
    assert sum(t.numel() for t in concat.parameters()) == _count(p["channels"], p["depth"], p["hidden"], block="concat")
    if name == "paper":
        assert abs(total - 17.89e6) / 17.89e6 < 0.03
    if name == "small":
        assert 0.25e6 < total < 0.35e6


def test_output_sizes_per_stage_and_real_world_x4():
    torch.manual_seed(0)
    model = SelfConditionedSR.from_preset("tiny")
    lr = torch.rand(2, 3, 16, 16)
    for stage, side in ((1, 32), (2, 64), (3, 128)):
        assert model(lr, stage).shape == (2, 3, side, side)
    x4 = SelfConditionedSR.from_preset("tiny", levels=2)
    assert x4(lr).shape == (2, 3, 64, 64)
    with pytest.raises(ValueError, match="stage"):
        x4(lr, 3)
    with pytest.raises(ValueError, match="alpha"):
        model(lr, 2, alpha=1.5)
    with pytest.raises(ValueError, match="N×3×H×W"):
        model(torch.rand(3, 16, 16), 1)


@pytest.mark.parametrize("block", ["scb", "concat", "spade"])
def test_alpha_zero_is_upsampled_previous_level_and_alpha_blends(block):
    torch.manual_seed(1)
    model = SelfConditionedSR.from_preset("tiny", block=block)
    lr = torch.rand(2, 3, 16, 16)
    for stage in (2, 3):
        prev = F.interpolate(model(lr, stage - 1), scale_factor=2, mode="nearest")
        assert torch.equal(model(lr, stage, alpha=0.0), prev)
        new = model(lr, stage, alpha=1.0)
        assert torch.allclose(model(lr, stage, alpha=0.3), 0.7 * prev + 0.3 * new, atol=1e-6)


def test_conditions_are_bicubic_upsampled_lr_and_can_be_reused():
    torch.manual_seed(2)
    model = SelfConditionedSR.from_preset("tiny")
    lr = torch.rand(2, 3, 16, 16)
    conds = model.conditions(lr)
    assert [c.shape[-1] for c in conds] == [32, 64, 128]
    assert torch.allclose(conds[2], bicubic_pil(lr, 128))
    assert torch.equal(model(lr, 3, conditions=conds), model(lr, 3))
    res = SelfConditionedSR.from_preset("tiny", residual=True)
    with torch.no_grad():
        for lvl in res.level:
            lvl.to_rgb.weight.zero_()
            lvl.to_rgb.bias.zero_()
    assert torch.allclose(res(lr, 3), conds[2])  # residual mode with a zero head returns bicubic


def test_discriminator_shapes_fade_in_and_minibatch_std():
    torch.manual_seed(3)
    d = ProgressiveDiscriminator.from_preset("tiny")
    for stage in (1, 2, 3):
        assert d(torch.rand(4, 3, 16 << stage, 16 << stage), stage).shape == (4, 1)
    img = torch.rand(4, 3, 64, 64)
    # alpha = 0: the new level is bypassed, D sees the half-size image through the previous from-RGB
    x = F.leaky_relu(d.from_rgb[1](F.avg_pool2d(img, 2)), 0.2)
    x = d.blocks[0](x)
    x = minibatch_stddev(x)
    x = F.leaky_relu(d.final_conv(x), 0.2)
    x = F.leaky_relu(d.final_linear(F.adaptive_avg_pool2d(x, 4).flatten(1)), 0.2)
    assert torch.allclose(d(img, 2, alpha=0.0), d.out(x), atol=1e-5)
    # minibatch std by hand: groups of 2 for a batch of 2
    feats = torch.tensor([[[[1.0]], [[2.0]]], [[[3.0]], [[6.0]]]])  # 2×2×1×1
    out = minibatch_stddev(feats)
    assert out.shape == (2, 3, 1, 1)
    assert torch.allclose(out[:, 2].flatten(), torch.full((2,), (1.0 + 2.0) / 2), atol=1e-4)
