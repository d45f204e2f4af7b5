"""G (flow-field degradation), the CycleGAN baseline and D_L: contracts and behaviour."""
import pytest
import torch

from selfsr_edu.losses import identity_loss
from selfsr_edu.models import CycleGAN, FlowFieldDegradation, PatchDiscriminator
from selfsr_edu.warp import warp


@pytest.mark.parametrize("preset", ["paper", "small", "tiny"])
def test_presets_output_contract(preset, generator):
    G = FlowFieldDegradation.from_preset(preset).eval()
    lr = torch.rand(2, 3, 16, 16, generator=generator)
    with torch.no_grad():
        out = G(lr)
    assert out.lr.shape == out.intermediate.shape == lr.shape
    assert out.flow.shape == (2, 2, 16, 16)
    assert torch.equal(out.lr, warp(out.intermediate, out.flow))


def test_output_is_the_warped_intermediate_with_gradients(generator):
    G = FlowFieldDegradation.from_preset("tiny")
    lr = torch.rand(2, 3, 16, 16, generator=generator)
    out = G(lr)
    torch.testing.assert_close(out.lr, warp(out.intermediate, out.flow), rtol=0, atol=0)
    out.lr.square().mean().backward()
    assert G.flow_head.weight.grad.abs().sum() > 0      # the flow branch learns through Eq. 1
    assert G.image_head.weight.grad.abs().sum() > 0     # and so does the image branch


def test_starts_as_identity_and_flow_is_bounded(generator):
    G = FlowFieldDegradation.from_preset("tiny")
    lr = torch.rand(3, 3, 16, 16, generator=generator)
    with torch.no_grad():
        out = G(lr)
        assert float(identity_loss(out.intermediate, lr)) == 0.0      # Eq. 3 is zero at step 0
        assert out.flow.abs().max() < 0.1                              # small, not zero
        G.flow_head.bias.fill_(50.0)                                   # push tanh into saturation
        flow = G(lr).flow
    assert flow.max() <= G.max_flow and flow.max() > 0.99 * G.max_flow


def test_preset_sizes_grow_and_bad_preset_is_named():
    n = {p: sum(q.numel() for q in FlowFieldDegradation.from_preset(p).parameters()) for p in ("tiny", "small", "paper")}
    assert n["tiny"] < n["small"] < n["paper"]
    with pytest.raises(ValueError, match="preset"):
        FlowFieldDegradation.from_preset("huge")
    with pytest.raises(ValueError, match="lr"):
        FlowFieldDegradation.from_preset("tiny")(torch.rand(1, 1, 16, 16))


def test_cyclegan_generators_paint_rgb_in_unit_range(generator):
    cyc = CycleGAN.from_preset("tiny")
    clean = torch.rand(2, 3, 16, 16, generator=generator)
    wild = cyc(clean)
    back = cyc.wild_to_clean(wild)
    assert wild.shape == back.shape == clean.shape
    assert wild.min() > 0 and wild.max() < 1
    assert len(list(cyc.generators().parameters())) > 0 and len(list(cyc.discriminators().parameters())) > 0
    # the two directions are separate networks
    assert not torch.equal(cyc.clean_to_wild.head.weight, cyc.wild_to_clean.head.weight)


@pytest.mark.parametrize("preset,side", [("tiny", 8), ("small", 8), ("paper", 4)])
def test_patch_discriminator_gives_a_grid_of_logits(preset, side, generator):
    D = PatchDiscriminator.from_preset(preset)
    logits = D(torch.rand(2, 3, 16, 16, generator=generator))
    assert logits.shape == (2, 1, side, side)


def test_patch_discriminator_is_local():
    """A change in one corner must not move the logits of the far corner (patch receptive field)."""
    D = PatchDiscriminator.from_preset("tiny")
    x = torch.rand(1, 3, 16, 16)
    y = x.clone()
    y[..., :3, :3] = 1.0 - y[..., :3, :3]
    with torch.no_grad():
        a, b = D(x), D(y)
    assert not torch.equal(a[..., 0, 0], b[..., 0, 0])
    assert torch.equal(a[..., -1, -1], b[..., -1, -1])
