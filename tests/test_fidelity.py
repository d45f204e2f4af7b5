"""PSNR/SSIM against scikit-image on the BT.601 Y channel, plus the edge cases."""
import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from selfsr_edu.metrics import psnr, rgb_to_y, ssim


def _y_numpy(img):
    """Independent Y: quantise to 8 bits, then BT.601 from RGB with numpy."""
    arr = np.round(np.clip(img.permute(1, 2, 0).numpy().astype(np.float64), 0, 1) * 255) / 255
    return 16 + 65.481 * arr[..., 0] + 128.553 * arr[..., 1] + 24.966 * arr[..., 2]


@pytest.fixture
def pair():
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(3, 3, 48, 40, generator=g)
    hr = torch.nn.functional.avg_pool2d(hr, 3, 1, 1)  # some spatial structure
    sr = (hr + 0.05 * torch.randn(hr.shape, generator=g)).clamp(0, 1)
    return sr, hr


@pytest.mark.parametrize("crop", [0, 4, 8])
def test_psnr_ssim_match_skimage_on_y(pair, crop):
    sr, hr = pair
    ours_p = psnr(sr, hr, crop_border=crop)
    ours_s = ssim(sr, hr, crop_border=crop)
    assert ours_p.shape == ours_s.shape == (3,)
    for i in range(3):
        ys, yh = _y_numpy(sr[i]), _y_numpy(hr[i])
        if crop:
            ys, yh = ys[crop:-crop, crop:-crop], yh[crop:-crop, crop:-crop]
        ref_p = peak_signal_noise_ratio(yh, ys, data_range=255)
        ref_s = structural_similarity(yh, ys, data_range=255, gaussian_weights=True, sigma=1.5,
                                      use_sample_covariance=False)
        assert ours_p[i].item() == pytest.approx(ref_p, abs=1e-4)
        assert ours_s[i].item() == pytest.approx(ref_s, abs=1e-5)


def test_rgb_psnr_ssim_match_skimage(pair):
    sr, hr = pair
    q = lambda t: np.round(t.permute(1, 2, 0).numpy().astype(np.float64) * 255)  # noqa: E731
    ref_p = peak_signal_noise_ratio(q(hr[0]), q(sr[0]), data_range=255)
    ref_s = structural_similarity(q(hr[0]), q(sr[0]), data_range=255, gaussian_weights=True, sigma=1.5,
                                  use_sample_covariance=False, channel_axis=2)
    assert psnr(sr[:1], hr[:1], y_channel=False).item() == pytest.approx(ref_p, abs=1e-4)
    assert ssim(sr[:1], hr[:1], y_channel=False).item() == pytest.approx(ref_s, abs=1e-5)


def test_y_is_bt601_from_rgb_not_bgr():
    red = torch.zeros(1, 3, 2, 2)
    red[:, 0] = 1.0
    blue = torch.zeros(1, 3, 2, 2)
    blue[:, 2] = 1.0
    assert rgb_to_y(red).flatten()[0].item() == pytest.approx(16 + 65.481)
    assert rgb_to_y(blue).flatten()[0].item() == pytest.approx(16 + 24.966)
    assert rgb_to_y(torch.ones(1, 3, 1, 1)).item() == pytest.approx(235.0)


def test_identical_images_give_inf_psnr_and_unit_ssim(pair):
    _, hr = pair
    assert torch.isinf(psnr(hr, hr)).all()
    assert torch.allclose(ssim(hr, hr), torch.ones(3))


def test_psnr_known_value():
    """A constant error of 10 grey levels in Y: PSNR = 20 log10(255/10)."""
    hr = torch.full((1, 3, 16, 16), 0.5)
    # shift every channel by d so that Y moves by exactly 10 levels: d·(65.481+128.553+24.966) = 10
    d = 10 / 219.0
    sr = hr + d
    got = psnr(sr, hr, quantize=False).item()
    assert got == pytest.approx(20 * math.log10(255 / 10), abs=1e-4)  # float32 inputs


def test_quantisation_is_applied_by_default():
    hr = torch.full((1, 3, 16, 16), 0.5)
    sr = hr + 0.1 / 255  # below half an 8-bit level: same PNG
    assert torch.isinf(psnr(sr, hr))
    assert torch.isfinite(psnr(sr, hr, quantize=False))


def test_crop_border_ignores_border_errors():
    hr = torch.rand(1, 3, 32, 32)
    sr = hr.clone()
    sr[..., :8, :] = 1 - sr[..., :8, :]
    assert torch.isfinite(psnr(sr, hr, crop_border=4))
    assert torch.isinf(psnr(sr, hr, crop_border=8))
    assert ssim(sr, hr, crop_border=8).item() == pytest.approx(1.0)


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 15))
    with pytest.raises(ValueError, match="shapes differ"):
        ssim(torch.rand(2, 3, 16, 16), torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="crop_border"):
        psnr(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), crop_border=8)
