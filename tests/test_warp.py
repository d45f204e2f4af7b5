"""Eq. 1 (warp) against hand-computed values and a literal implementation of the sum."""
import pytest
import torch

from selfsr_edu.warp import warp


def eq1_reference(image, flow):
    """Eq. 1 literally: I_gen(x, y) = Σ_u Σ_v Ĩ(u, v) k(x_s − u) k(y_s − v), k(d) = max(0, 1 − |d|),
    with the sample location clamped to the image (border padding)."""
    n, c, h, w = image.shape
    out = torch.zeros_like(image)
    us = torch.arange(w, dtype=image.dtype)
    vs = torch.arange(h, dtype=image.dtype)
    for b in range(n):
        for y in range(h):
            for x in range(w):
                xs = min(max(x - float(flow[b, 0, y, x]), 0.0), w - 1.0)
                ys = min(max(y - float(flow[b, 1, y, x]), 0.0), h - 1.0)
                kx = (1 - (xs - us).abs()).clamp_min(0)
                ky = (1 - (ys - vs).abs()).clamp_min(0)
                out[b, :, y, x] = (image[b] * ky[None, :, None] * kx[None, None, :]).sum(dim=(1, 2))
    return out


def test_integer_shift_equals_roll_away_from_borders(generator):
    img = torch.rand(2, 3, 9, 11, generator=generator)
    flow = torch.zeros(2, 2, 9, 11)
    flow[:, 0], flow[:, 1] = 2.0, -1.0           # content moves 2 right and 1 up
    out = warp(img, flow)
    rolled = torch.roll(img, shifts=(-1, 2), dims=(2, 3))
    # valid where the source (x − 2, y + 1) is inside the image
    torch.testing.assert_close(out[..., :-1, 2:], rolled[..., :-1, 2:], rtol=0, atol=1e-6)


def test_direction_convention_positive_dx_moves_right():
    img = torch.zeros(1, 1, 6, 6)
    img[0, 0, 4, 3] = 1.0                          # a dot at x = 3, y = 4
    flow = torch.zeros(1, 2, 6, 6)
    flow[:, 0] = 1.0
    out = warp(img, flow)
    assert out[0, 0, 4, 4] == pytest.approx(1.0, abs=1e-6)
    assert out[0, 0, 4, 3] == pytest.approx(0.0, abs=1e-6)
    flow = torch.zeros(1, 2, 6, 6)
    flow[:, 1] = 1.0                               # δy > 0 moves down
    assert warp(img, flow)[0, 0, 5, 3] == pytest.approx(1.0, abs=1e-6)


def test_subpixel_shift_is_the_bilinear_mix(generator):
    img = torch.rand(1, 3, 7, 8, generator=generator)
    flow = torch.zeros(1, 2, 7, 8)
    flow[:, 0], flow[:, 1] = 0.25, 0.5
    out = warp(img, flow)
    # x_s = x − 0.25 = (x − 1) + 0.75, y_s = y − 0.5 = (y − 1) + 0.5
    a, b = 0.75, 0.5
    y, x = 3, 5
    expected = ((1 - a) * (1 - b) * img[0, :, y - 1, x - 1] + a * (1 - b) * img[0, :, y - 1, x]
                + (1 - a) * b * img[0, :, y, x - 1] + a * b * img[0, :, y, x])
    torch.testing.assert_close(out[0, :, y, x], expected, rtol=0, atol=1e-6)


def test_random_flow_matches_eq1_sum(generator):
    img = torch.rand(2, 2, 6, 5, generator=generator, dtype=torch.float64)
    flow = (torch.rand(2, 2, 6, 5, generator=generator, dtype=torch.float64) - 0.5) * 6  # also off the image
    torch.testing.assert_close(warp(img, flow), eq1_reference(img, flow), rtol=0, atol=1e-10)


@pytest.mark.parametrize("size", [(16, 16), (7, 13), (1, 5), (128, 128)])
def test_zero_flow_is_exact(size, generator):
    img = torch.rand(2, 3, *size, generator=generator)
    out = warp(img, torch.zeros(2, 2, *size))
    assert torch.equal(out, img)


def test_zero_flow_with_gradient_still_teaches_the_flow(generator):
    img = torch.rand(1, 1, 8, 8, generator=generator)
    flow = torch.zeros(1, 2, 8, 8, requires_grad=True)
    out = warp(img, flow)
    torch.testing.assert_close(out, img, rtol=0, atol=1e-6)
    out.sum().backward()
    assert flow.grad is not None and flow.grad.abs().sum() > 0


def test_border_padding_repeats_edge_pixels(generator):
    img = torch.rand(1, 3, 5, 6, generator=generator)
    flow = torch.zeros(1, 2, 5, 6)
    flow[:, 0] = 100.0                             # sample far to the left: column 0
    out = warp(img, flow)
    torch.testing.assert_close(out, img[..., :1].expand_as(img), rtol=0, atol=1e-6)
    flow = torch.zeros(1, 2, 5, 6)
    flow[:, 1] = -100.0                            # sample far below: last row
    torch.testing.assert_close(warp(img, flow), img[..., -1:, :].expand_as(img), rtol=0, atol=1e-6)


def test_differentiable_in_image_and_flow(generator):
    img = torch.rand(1, 2, 5, 5, generator=generator, dtype=torch.float64, requires_grad=True)
    # keep sample locations away from integer grid lines (bilinear has kinks there) and inside
    flow = (0.3 + 0.4 * torch.rand(1, 2, 5, 5, generator=generator, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(warp, (img, flow), eps=1e-6, atol=1e-6)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="flow"):
        warp(torch.rand(1, 3, 4, 4), torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match="image"):
        warp(torch.rand(3, 4, 4), torch.zeros(1, 2, 4, 4))
    with pytest.raises(ValueError, match="match"):
        warp(torch.rand(1, 3, 4, 4), torch.zeros(1, 2, 4, 5))


# --------------------------------------------------------------------------
# flow tools (selfsr_edu.data.flows, selfsr_edu.viz)
# --------------------------------------------------------------------------

from selfsr_edu.data import flows  # noqa: E402
from selfsr_edu.data.flows import flow_to_color  # noqa: E402


def test_rotation_flow_of_90_degrees_is_a_clockwise_quarter_turn(generator):
    img = torch.rand(2, 3, 7, 7, generator=generator)
    out = warp(img, flows.rotation_flow(2, 7, 7, 90.0))
    torch.testing.assert_close(out, torch.rot90(img, k=-1, dims=(2, 3)), rtol=0, atol=1e-5)  # top-left → top-right


def test_rotate_and_scale_flow_vectors():
    right = flows.constant_flow(1, 3, 3, 2.0, 0.0)
    down = flows.rotate_flow(right, 90.0)                       # clockwise on screen: right → down
    torch.testing.assert_close(down, flows.constant_flow(1, 3, 3, 0.0, 2.0), rtol=0, atol=1e-6)
    torch.testing.assert_close(flows.scale_flow(right, -0.5), flows.constant_flow(1, 3, 3, -1.0, 0.0))


def test_smooth_random_flow_has_the_requested_rms_length_and_smoothness(generator):
    f = flows.smooth_random_flow(3, 16, 16, magnitude=1.5, scale=8.0, generator=generator)
    rms = f.pow(2).sum(1).mean(dim=(1, 2)).sqrt()
    torch.testing.assert_close(rms, torch.full((3,), 1.5))
    rough = flows.smooth_random_flow(3, 16, 16, magnitude=1.5, scale=1.0, generator=generator)
    from selfsr_edu.losses import flow_smoothness
    assert flow_smoothness(f) < 0.5 * flow_smoothness(rough)     # larger scale = smoother field
    again = flows.smooth_random_flow(3, 16, 16, 1.5, 8.0, generator=torch.Generator().manual_seed(7))
    assert torch.equal(again, flows.smooth_random_flow(3, 16, 16, 1.5, 8.0, generator=torch.Generator().manual_seed(7)))


def test_flow_colours(generator):
    f = torch.zeros(2, 2, 4, 4)
    f[1, 0] = 1.0
    col = flow_to_color(f, max_magnitude=2.0)
    assert col.shape == (2, 3, 4, 4) and col.min() >= 0 and col.max() <= 1
    torch.testing.assert_close(col[0], torch.ones(3, 4, 4))       # no motion is white
    half = col[1, :, 0, 0]
    full = flow_to_color(f * 2, max_magnitude=2.0)[1, :, 0, 0]
    assert (1 - half).sum() < (1 - full).sum()                    # longer vectors are more saturated
