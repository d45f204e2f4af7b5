"""WildDegradation: each degradation does what its parameters say; the composition is reproducible."""
import io

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from selfsr_edu.data import WildDegradation
from selfsr_edu.data import wild
from selfsr_edu.warp import warp


def _grad_energy(x):
    """Mean squared horizontal (d/dx) and vertical (d/dy) differences, away from the border."""
    gx = x[..., 4:-4, 5:-4] - x[..., 4:-4, 4:-5]
    gy = x[..., 5:-4, 4:-4] - x[..., 4:-5, 4:-4]
    return float((gx**2).mean()), float((gy**2).mean())


@pytest.fixture
def image(generator):
    return torch.rand(2, 3, 32, 32, generator=generator)


# --- motion blur -----------------------------------------------------------------------------
@pytest.mark.parametrize("length,angle", [(0.0, 0.0), (1.0, 30.0), (3.0, 0.0), (4.5, 117.0)])
def test_kernel_is_normalised_and_centred(length, angle):
    k = wild.motion_blur_kernel(length, angle).double()
    assert abs(float(k.sum()) - 1) < 1e-6 and float(k.min()) >= 0
    ys, xs = torch.meshgrid(torch.arange(k.shape[0]), torch.arange(k.shape[1]), indexing="ij")
    c = k.shape[0] // 2
    assert abs(float((k * xs).sum()) - c) < 1e-6 and abs(float((k * ys).sum()) - c) < 1e-6  # no shift


def test_kernel_extent_matches_length_and_direction():
    k = wild.motion_blur_kernel(4.0, 0.0)
    assert torch.count_nonzero(k.sum(1)) == 1  # horizontal: a single row
    assert torch.count_nonzero(k.sum(0)) == 5  # 4 pixels long: 5 taps
    kv = wild.motion_blur_kernel(4.0, 90.0)
    assert torch.allclose(kv, k.T, atol=1e-6)
    # 45°: the segment goes up-right (image rows grow downwards)
    kd = wild.motion_blur_kernel(4.0, 45.0)
    c = kd.shape[0] // 2
    assert kd[c - 1, c + 1] > 0 and kd[c - 1, c - 1] < 1e-6


def test_zero_length_blur_is_identity_and_constant_images_stay_constant(image):
    assert torch.allclose(wild.motion_blur(image, 0.0, 45.0), image, atol=1e-6)
    flat = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(wild.motion_blur(flat, 3.0, 70.0), flat, atol=1e-6)


def test_motion_blur_matches_scipy_convolution(image):
    k = wild.motion_blur_kernel(3.3, 25.0)
    out = wild.motion_blur(image, 3.3, 25.0)
    ref = ndimage.convolve(image[0, 1].double().numpy(), k.double().numpy(), mode="mirror")
    r = k.shape[0] // 2
    assert np.allclose(out[0, 1].numpy()[r:-r, r:-r], ref[r:-r, r:-r], atol=1e-5)


def test_horizontal_blur_softens_vertical_edges_and_keeps_horizontal_edges():
    """A horizontal motion blur averages along rows: a vertical edge (a step along x)
    spreads over the blur length, a horizontal edge (a step along y) stays sharp."""
    r, c = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    x = (0.5 * (c >= 16) + 0.5 * (r >= 16)).float().expand(1, 3, 32, 32)
    steep = lambda y: (float((y[..., :, 1:] - y[..., :, :-1]).abs().amax()),  # noqa: E731
                       float((y[..., 1:, :] - y[..., :-1, :]).abs().amax()))
    assert steep(x) == (0.5, 0.5)
    gx, gy = steep(wild.motion_blur(x, 4.0, 0.0))
    assert gy == pytest.approx(0.5, abs=1e-6) and gx < 0.15  # 4 px blur: steps of about 0.5 / 5
    gx, gy = steep(wild.motion_blur(x, 4.0, 90.0))
    assert gx == pytest.approx(0.5, abs=1e-6) and gy < 0.15


def test_horizontal_blur_on_noise_leaves_more_vertical_than_horizontal_change(image):
    gx0, gy0 = _grad_energy(image)
    gx, gy = _grad_energy(wild.motion_blur(image, 4.0, 0.0))
    assert gx < 0.25 * gx0 and gy > 2.5 * gx
    gx, gy = _grad_energy(wild.motion_blur(image, 4.0, 90.0))
    assert gy < 0.25 * gy0 and gx > 2.5 * gy


def test_longer_blur_blurs_more(image):
    e = [sum(_grad_energy(wild.motion_blur(image, L, 60.0))) for L in (0.0, 1.0, 2.0, 4.0)]
    assert e[0] > e[1] > e[2] > e[3]


# --- noise, colour, shift, JPEG ----------------------------------------------------------------
def test_gaussian_noise_has_the_asked_sigma():
    x = torch.full((1, 3, 128, 128), 0.5)
    g = torch.Generator().manual_seed(0)
    d = wild.gaussian_noise(x, 0.03, g) - x
    assert abs(float(d.std()) - 0.03) < 0.002 and abs(float(d.mean())) < 0.002


def test_poisson_noise_variance_is_x_over_peak():
    g = torch.Generator().manual_seed(0)
    for level in (0.2, 0.8):
        x = torch.full((1, 3, 128, 128), level)
        y = wild.poisson_noise(x, 100.0, g)
        assert abs(float(y.mean()) - level) < 0.01
        assert abs(float(y.var()) - level / 100.0) < 0.15 * level / 100.0
    assert torch.equal(wild.poisson_noise(torch.zeros(1, 3, 4, 4), 50.0, g), torch.zeros(1, 3, 4, 4))


def test_color_cast_is_gain_and_offset_per_channel(image):
    out = wild.color_cast(image, (1.1, 1.0, 0.9), (0.02, 0.0, -0.01))
    ref = (image * torch.tensor([1.1, 1.0, 0.9]).view(1, 3, 1, 1) + torch.tensor([0.02, 0.0, -0.01]).view(1, 3, 1, 1))
    assert torch.allclose(out, ref.clamp(0, 1))


def test_shift_moves_content_and_matches_warp_with_constant_flow(image):
    # it IS warp (Eq. 1), whose normalised grid is exact to ~1e-7 per pixel of width
    one = wild.subpixel_shift(image, 1.0, 0.0)
    assert torch.allclose(one[..., 1:], image[..., :-1], atol=1e-5)  # whole pixel to the right
    down = wild.subpixel_shift(image, 0.0, 2.0)
    assert torch.allclose(down[..., 2:, :], image[..., :-2, :], atol=1e-5)
    half = wild.subpixel_shift(image, 0.5, 0.0)
    assert torch.allclose(half[..., 1:], 0.5 * (image[..., 1:] + image[..., :-1]), atol=1e-5)
    assert torch.allclose(wild.subpixel_shift(image, 0.0, 0.0), image, atol=1e-5)
    flow = torch.zeros(2, 2, 32, 32)
    flow[:, 0], flow[:, 1] = 0.3, -0.4
    assert torch.allclose(wild.subpixel_shift(image, 0.3, -0.4), warp(image, flow), atol=1e-5)


def test_jpeg_matches_pil_and_lower_quality_loses_more(image):
    q = 40
    out = wild.jpeg(image, q)
    arr = (image[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=q)
    ref = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), np.float32) / 255
    assert np.array_equal(out[0].permute(1, 2, 0).numpy(), ref)
    err = [float((wild.jpeg(image, q) - image).abs().mean()) for q in (95, 60, 20)]
    assert err[0] < err[1] < err[2]


def test_apply_one_dispatches_and_rejects_unknown_kinds(image):
    assert torch.equal(wild.apply_one(image, "jpeg", quality=50), wild.jpeg(image, 50))
    assert torch.equal(wild.apply_one(image, "motion_blur", length=2.0, angle=0.0), wild.motion_blur(image, 2.0, 0.0))
    a = wild.apply_one(image, "gaussian_noise", sigma=0.05, noise_seed=3)
    b = wild.apply_one(image, "gaussian_noise", sigma=0.05, noise_seed=3)
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="kind"):
        wild.apply_one(image, "fog")


# --- the composition -------------------------------------------------------------------------
def test_reproducible_per_seed_and_index(image):
    d = WildDegradation(seed=4)
    a, b = d(image, [10, 11]), WildDegradation(seed=4)(image, [10, 11])
    assert torch.equal(a, b)
    assert not torch.equal(a, WildDegradation(seed=5)(image, [10, 11]))
    # image k's result depends on its own index only, not on the batch around it
    assert torch.equal(d(image[1:], [11])[0], a[1])


def test_last_params_are_the_sampled_params(image):
    d = WildDegradation(seed=1)
    d(image, [3, 9])
    assert d.last_params == [d.sample_params(3), d.sample_params(9)]


def test_degrade_one_equals_the_chain_of_single_degradations(image):
    d = WildDegradation(seed=2)
    p = d.sample_params(7)
    x = image[:1]
    ref = wild.color_cast(x, p["gains"], p["offsets"])
    ref = wild.motion_blur(ref, p["length"], p["angle"])
    ref = wild.subpixel_shift(ref, p["dx"], p["dy"])
    g = torch.Generator().manual_seed(p["noise_seed"])
    ref = wild.gaussian_noise(wild.poisson_noise(ref, p["peak"], g), p["sigma"], g).clamp(0, 1)
    ref = wild.jpeg(ref, p["quality"])
    assert torch.equal(d(x, [7]), ref)


def test_sampled_params_cover_their_ranges():
    d = WildDegradation(seed=0)
    ps = [d.sample_params(i) for i in range(300)]
    R = wild.DEFAULT_RANGES
    L = np.array([p["length"] for p in ps])
    assert R["blur_length"][0] <= L.min() and L.max() <= R["blur_length"][1] and L.std() > 0.5
    A = np.array([p["angle"] for p in ps])
    assert A.min() < 20 and A.max() > 160
    Q = np.array([p["quality"] for p in ps])
    assert Q.min() >= R["jpeg_quality"][0] and Q.max() <= R["jpeg_quality"][1]
    assert all(abs(g - 1) <= R["cast_gain"] for p in ps for g in p["gains"])
    assert all(abs(p["dx"]) <= R["shift"] and abs(p["dy"]) <= R["shift"] for p in ps)


def test_kinds_restrict_the_chain(image):
    only_jpeg = WildDegradation(seed=0, kinds=("jpeg",))
    q = only_jpeg.sample_params(0)["quality"]
    assert torch.equal(only_jpeg(image[:1], [0]), wild.jpeg(image[:1], q))
    with pytest.raises(ValueError, match="kinds"):
        WildDegradation(kinds=("jpeg", "rain"))


def test_degradation_changes_a_face_but_keeps_it_recognisable():
    from selfsr_edu.data import SynthFaces
    from selfsr_edu.resize import bicubic_pil

    hr = SynthFaces(4, size=64, cache=False).batch(range(4))
    lr = bicubic_pil(hr, 16).clamp(0, 1)
    out = WildDegradation(seed=0)(lr)
    diff = (out - lr).abs().mean(dim=(1, 2, 3))
    assert bool((diff > 0.005).all()) and bool((diff < 0.2).all())
    # the degraded face correlates with its own clean LR much more than with the others
    f = (out - out.mean(dim=(1, 2, 3), keepdim=True)).flatten(1)
    g = (lr - lr.mean(dim=(1, 2, 3), keepdim=True)).flatten(1)
    corr = (f / f.norm(dim=1, keepdim=True)) @ (g / g.norm(dim=1, keepdim=True)).T
    assert bool((corr.diag() > 0.7).all())


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="lr must be an N×3×H×W"):
        WildDegradation()(torch.rand(3, 16, 16))
    with pytest.raises(ValueError, match="indices"):
        WildDegradation()(torch.rand(2, 3, 16, 16), [1])
