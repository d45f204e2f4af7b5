"""Sliced Wasserstein distance of Laplacian-pyramid patches (our stand-in for FID‡)."""
import math

import pytest
import torch
from scipy.stats import wasserstein_distance

from selfsr_edu.metrics import swd as _swd
from selfsr_edu.metrics.swd import laplacian_pyramid, pyr_down, pyr_up, sliced_wasserstein


def swd(a, b, **kw):
    """The metric with fewer patches and directions, to keep the tests fast."""
    return _swd(a, b, patches_per_image=kw.pop("patches_per_image", 16), n_directions=64, **kw)


def test_one_dimensional_case_is_the_exact_wasserstein_distance(generator):
    a = torch.randn(500, 1, generator=generator)
    b = torch.randn(500, 1, generator=generator) * 2 + 1
    expected = wasserstein_distance(a[:, 0].numpy(), b[:, 0].numpy())
    assert float(sliced_wasserstein(a, b, n_directions=8, generator=generator)) == pytest.approx(expected, rel=1e-5)


def test_translation_gives_the_mean_projected_length(generator):
    """SW(a, a + v) = E_d |d·v|; for d uniform on the sphere in D dims,
    E|d_1| = Γ(D/2) / (√π Γ((D+1)/2))."""
    dim = 6
    a = torch.randn(300, dim, generator=generator)
    v = torch.tensor([3.0, 0, 0, 0, 4.0, 0])                 # |v| = 5
    value = float(sliced_wasserstein(a, a + v, n_directions=20000, generator=generator))
    expected = 5.0 * math.gamma(dim / 2) / (math.sqrt(math.pi) * math.gamma((dim + 1) / 2))
    assert value == pytest.approx(expected, rel=0.02)


def test_pyramid_of_a_constant_image(generator):
    img = torch.full((1, 3, 16, 16), 0.3)
    torch.testing.assert_close(pyr_down(img), torch.full((1, 3, 8, 8), 0.3))
    torch.testing.assert_close(pyr_up(pyr_down(img))[..., 2:-2, 2:-2], img[..., 2:-2, 2:-2])
    levels = laplacian_pyramid(torch.rand(2, 3, 16, 16, generator=generator), 2)
    assert [tuple(x.shape) for x in levels] == [(2, 3, 16, 16), (2, 3, 8, 8)]


def test_swd_grows_with_a_colour_cast_and_is_deterministic(generator):
    x = torch.rand(64, 3, 16, 16, generator=generator) * 0.8
    y = torch.rand(64, 3, 16, 16, generator=generator) * 0.8      # same distribution, other samples
    cast = torch.tensor([0.1, 0.0, -0.05]).view(1, 3, 1, 1)
    d_same = swd(x, y)
    d_small = swd(x + cast / 2, y)
    d_large = swd(x + cast, y)
    assert d_same < d_small < d_large
    assert swd(x, y) == swd(x, y)                                  # seeded
    mean, levels = swd(x, y, return_levels=True)
    assert len(levels) == 2 and mean == pytest.approx(sum(levels) / 2)


def test_separate_normalisation_ignores_a_global_affine_colour_change(generator):
    """Karras et al.'s recipe normalises each set by its own statistics, so a global
    per-channel gain and offset is invisible to it; our default (reference statistics) sees it."""
    x = torch.rand(32, 3, 16, 16, generator=generator)
    y = torch.rand(32, 3, 16, 16, generator=generator)
    moved = 0.5 * y + 0.2
    assert swd(moved, x, normalize="separate") == pytest.approx(swd(y, x, normalize="separate"), rel=1e-4)
    assert swd(moved, x) > 2 * swd(y, x)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="same C, H, W"):
        swd(torch.rand(4, 3, 16, 16), torch.rand(4, 3, 8, 8))
    with pytest.raises(ValueError, match="normalize"):
        swd(torch.rand(4, 3, 16, 16), torch.rand(4, 3, 16, 16), normalize="own")
