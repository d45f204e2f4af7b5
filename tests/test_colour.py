"""Colour drift metrics: sRGB → CIELAB against scikit-image, ΔE identities."""
import numpy as np
import pytest
import torch
from skimage.color import deltaE_cie76, rgb2lab

from selfsr_edu.metrics import chroma_shift, colour_shift, mean_delta_e, rgb_to_lab
from selfsr_edu.metrics.degradation_truth import degradation_truth_report, truth_l1


def _sk_lab(x: torch.Tensor) -> np.ndarray:
    return np.stack([rgb2lab(i.permute(1, 2, 0).double().numpy()) for i in x])


def test_rgb_to_lab_matches_skimage(generator):
    x = torch.rand(3, 3, 8, 8, generator=generator)
    x[0, :, 0, 0] = 0.0
    x[0, :, 0, 1] = 1.0
    x[0, :, 0, 2] = torch.tensor([0.01, 0.002, 0.03])   # the linear (dark) branch
    ours = rgb_to_lab(x.double()).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(ours, _sk_lab(x), atol=1e-3)
    white = rgb_to_lab(torch.ones(1, 3, 1, 1, dtype=torch.float64))[0, :, 0, 0]
    np.testing.assert_allclose(white.numpy(), [100.0, 0.0, 0.0], atol=1e-2)  # the sRGB matrix rounds to 4 digits


def test_mean_delta_e_matches_skimage_cie76(generator):
    a = torch.rand(2, 3, 6, 6, generator=generator)
    b = (a + 0.1 * torch.randn(2, 3, 6, 6, generator=generator)).clamp(0, 1)
    expected = deltaE_cie76(_sk_lab(a), _sk_lab(b)).mean(axis=(1, 2))
    np.testing.assert_allclose(mean_delta_e(a, b).numpy(), expected, rtol=1e-4, atol=1e-3)


def test_colour_shift_of_a_uniform_tint_and_of_a_pixel_shuffle(generator):
    grey = torch.full((1, 3, 4, 4), 0.5)
    tint = grey + torch.tensor([0.1, 0.0, 0.0]).view(1, 3, 1, 1)
    expected = deltaE_cie76(_sk_lab(grey)[0, 0, 0], _sk_lab(tint)[0, 0, 0])
    assert float(colour_shift(tint, grey)) == pytest.approx(expected, rel=1e-4)
    assert float(mean_delta_e(tint, grey)) == pytest.approx(expected, rel=1e-4)
    # moving pixels around (what a warp does) keeps the average colour: no shift, but ΔE per pixel > 0
    img = torch.rand(1, 3, 8, 8, generator=generator)
    shuffled = img.flatten(2)[..., torch.randperm(64, generator=generator)].view_as(img)
    assert float(colour_shift(shuffled, img)) < 1e-3
    assert float(chroma_shift(shuffled, img)) < 1e-3
    assert float(mean_delta_e(shuffled, img)) > 5.0


def test_shift_is_at_most_mean_delta_e_and_chroma_ignores_brightness(generator):
    a = torch.rand(4, 3, 8, 8, generator=generator)
    b = torch.rand(4, 3, 8, 8, generator=generator)
    assert torch.all(colour_shift(a, b) <= mean_delta_e(a, b) + 1e-4)       # |mean| ≤ mean |·|
    grey = torch.full((1, 3, 4, 4), 0.4)
    assert float(chroma_shift(grey + 0.2, grey)) < 1e-3 < float(colour_shift(grey + 0.2, grey))


def test_truth_distance_by_hand():
    gen = torch.zeros(1, 3, 4, 4)
    true = torch.full((1, 3, 4, 4), 0.25)
    assert float(truth_l1(gen, true)) == pytest.approx(0.25)
    assert float(truth_l1(gen, true, lowpass=True)) == pytest.approx(0.25)   # blur keeps constants
    report = degradation_truth_report(true.clone(), true, lr_clean=gen)
    assert report["l1"] == 0.0 and report["l1_clean"] == pytest.approx(0.25)
    assert report["colour_shift"] == 0.0 and report["colour_shift_clean"] > 10
    with pytest.raises(ValueError, match="must match"):
        truth_l1(gen, torch.zeros(1, 3, 4, 5))
