"""Bicubic resizing against independent references: PIL itself, kernel
weights computed by hand, and the identities a bicubic resampler must keep."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

from selfsr_edu.resize import bicubic_pil, cubic_kernel, imresize


def keys(t, a=-0.5):
    """Keys' kernel written out scalar by scalar, for hand computations."""
    t = abs(t)
    if t <= 1:
        return (a + 2) * t**3 - (a + 3) * t**2 + 1
    if t < 2:
        return a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a
    return 0.0


def test_cubic_kernel_values():
    ts = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5]
    got = cubic_kernel(torch.tensor(ts, dtype=torch.float64)).tolist()
    assert got == pytest.approx([keys(t) for t in ts], abs=1e-12)
    # interpolating kernel: 1 at 0, 0 at the other integers
    assert got[0] == 1.0 and got[4] == 0.0 and got[8] == 0.0
    assert keys(0.5) == pytest.approx(0.5625)  # (1.5)(1/8) - (2.5)(1/4) + 1


def test_imresize_halving_matches_hand_weights():
    """MATLAB, scale 0.5, 1-D signal of length 8: output j samples u = 2j − 0.5
    with the stretched kernel 0.5·k(0.5·d) over 10 taps, mirrored at the borders."""
    x = torch.tensor([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0], dtype=torch.float64)
    n = len(x)
    expected = []
    for j in range(1, 5):
        u = 2 * j - 0.5
        left = math.floor(u - 4)
        acc, wsum = 0.0, 0.0
        for i in range(left, left + 10):
            w = 0.5 * keys(0.5 * (u - i))
            k = i - 1
            k = k % (2 * n)
            k = k if k < n else 2 * n - 1 - k
            acc += w * x[k].item()
            wsum += w
        expected.append(acc / wsum)
    got = imresize(x.view(1, 1, 1, 8).expand(1, 1, 8, 8).contiguous(), 0.5)[0, 0, 0]
    # rows are constant so the vertical pass is the identity on them
    assert got.tolist() == pytest.approx(expected, abs=1e-9)


def test_imresize_upscale_interpolates_at_integer_positions():
    """Scale 2: output j maps to u = j/2 + 1/4, never an input sample, but a
    ramp stays a ramp: cubic convolution reproduces linear functions."""
    ramp = torch.arange(12, dtype=torch.float64).view(1, 1, 1, 12).expand(1, 1, 12, 12)
    up = imresize(ramp, 2.0)[0, 0, 0]
    j = torch.arange(1, 25, dtype=torch.float64)
    u = j / 2 + 0.25 - 1  # 0-based input coordinate
    interior = slice(4, 20)
    assert torch.allclose(up[interior], u[interior], atol=1e-12)


@pytest.mark.parametrize("scale", [0.125, 0.25, 0.5, 0.3, 1.0, 1.7, 2.0, 4.0])
def test_imresize_constant_image_and_sizes(scale):
    x = torch.full((2, 3, 13, 21), 0.37)
    y = imresize(x, scale)
    assert y.shape == (2, 3, math.ceil(13 * scale), math.ceil(21 * scale))
    assert torch.allclose(y, torch.full_like(y, 0.37), atol=1e-6)


def test_imresize_scale_one_is_identity():
    x = torch.rand(1, 3, 9, 7)
    assert torch.allclose(imresize(x, 1.0), x, atol=1e-6)


def test_imresize_antialias_removes_aliasing_stripes():
    """Stripes of period 3 px lie above the Nyquist limit of a ×1/4 image. MATLAB's
    antialiasing kernel flattens them to their mean; plain bicubic sampling
    aliases them into a strong false pattern of period 3 output pixels."""
    x = torch.arange(48.0)
    stripes = (0.5 + 0.5 * torch.cos(2 * math.pi * x / 3)).view(1, 1, 1, 48).expand(1, 1, 48, 48)
    aa = imresize(stripes, 0.25)[0, 0, 0, 1:-1]
    no_aa = imresize(stripes, 0.25, antialias=False)[0, 0, 0, 1:-1]
    assert (aa - 0.5).abs().max() < 0.01
    assert no_aa.max() - no_aa.min() > 0.4


def test_imresize_is_differentiable_and_batched():
    x = torch.rand(3, 3, 16, 16, requires_grad=True)
    y = imresize(x, 0.5)
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    single = imresize(x[1:2].detach(), 0.5)
    assert torch.allclose(single, y[1:2].detach(), atol=1e-6)


def test_imresize_rejects_bad_scale():
    with pytest.raises(ValueError, match="scale"):
        imresize(torch.rand(1, 3, 8, 8), 0)
    with pytest.raises(ValueError, match="N×C×H×W"):
        imresize(torch.rand(8, 8), 0.5)


def _pil_resize(arr, size_hw):
    return np.asarray(Image.fromarray(arr).resize((size_hw[1], size_hw[0]), Image.BICUBIC)).astype(np.int64)


@pytest.mark.parametrize("size", [(16, 16), (32, 32), (20, 30), (256, 256), (100, 37)])
def test_bicubic_pil_matches_pillow(size):
    from skimage.data import astronaut

    face = np.ascontiguousarray(astronaut()[20:276, 120:376])  # 256×256 crop with the face
    x = torch.from_numpy(face).permute(2, 0, 1).float().div(255)[None]
    ours = bicubic_pil(x, size).clamp(0, 1).mul(255).round()[0].permute(1, 2, 0).numpy().astype(np.int64)
    ref = _pil_resize(face, size)
    diff = np.abs(ours - ref)
    assert diff.max() <= 2, f"max 8-bit difference {diff.max()}"
    assert diff.mean() < 0.3


def test_bicubic_pil_matches_pillow_on_noise():
    """Random noise overshoots; Pillow clips its 8-bit intermediate, so must we."""
    rng = np.random.default_rng(0)
    arr = (rng.random((48, 40, 3)) * 255).astype(np.uint8)
    x = torch.from_numpy(arr).permute(2, 0, 1).float().div(255)[None]
    for size in [(96, 80), (12, 10), (48, 20)]:
        ours = bicubic_pil(x, size).clamp(0, 1).mul(255).round()[0].permute(1, 2, 0).numpy()
        assert np.abs(ours.astype(np.int64) - _pil_resize(arr, size)).max() <= 2


def test_bicubic_pil_differs_from_matlab_at_borders_only_a_little():
    """The two references agree in the interior of a smooth image and differ at the border."""
    from skimage.data import astronaut

    face = torch.from_numpy(np.ascontiguousarray(astronaut()[0:256, 128:384])).permute(2, 0, 1).float().div(255)[None]
    pil = bicubic_pil(face, 32)
    mat = imresize(face, 0.125)
    assert pil.shape == mat.shape == (1, 3, 32, 32)
    inner = (pil - mat)[..., 4:-4, 4:-4].abs().mean()
    border = (pil - mat).abs().mean()
    assert inner < 0.02
    assert border >= inner


def test_bicubic_pil_size_argument():
    x = torch.rand(2, 3, 32, 24)
    assert bicubic_pil(x, 8).shape == (2, 3, 8, 8)
    assert bicubic_pil(x, (16, 12)).shape == (2, 3, 16, 12)
    assert bicubic_pil(x[0], 8).shape == (3, 8, 8)
    with pytest.raises(ValueError):
        bicubic_pil(x, 0)
