"""Face-part masks, capture of R's intermediates, edge/part correlations and failure cases (Fig. 9, 10)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from selfsr_edu.data import synthfaces as sf
from selfsr_edu.data.io import quantise8
from selfsr_edu.failures import attribute_summary, face_attributes, failure_cases
from selfsr_edu.inspect import (Capture, capture, channel_stats, correlations, edge_vs_part, pearson,
                                sobel_magnitude, tap)
from selfsr_edu.metrics import psnr
from selfsr_edu.models.sr import SelfConditionedSR
from selfsr_edu.resize import bicubic_pil

torch.set_num_threads(1)


def _tiny(block="scb", depth=None, seed=0):
    torch.manual_seed(seed)
    kw = {} if depth is None else {"depth": depth}
    return SelfConditionedSR.from_preset("tiny", block=block, **kw).eval()


def _lr(n=2, seed=1):
    return torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed))


# --- part masks -----------------------------------------------------------------------------
@pytest.mark.parametrize("seed,index,size", [(0, 0, 128), (0, 3, 128), (1, 5, 128), (0, 2, 64)])
def test_masks_do_not_change_the_image(seed, index, size):
    p = sf.sample_params(seed, index)
    plain = sf.render_face(p, size)
    image, masks = sf.render_face(p, size, masks=True)
    assert plain.dtype == image.dtype and np.array_equal(plain, image)  # byte-identical
    assert set(masks) == set(sf.PART_NAMES)
    labels = sum(m.astype(np.int64) for m in masks.values())
    assert labels.shape == (size, size) and (labels == 1).all()  # a partition of the image


def _centroid_y(mask):
    return np.nonzero(mask)[0].mean()


@pytest.mark.parametrize("index", range(6))
def test_part_masks_are_plausible(index):
    p = sf.sample_params(0, index)
    m = sf.part_masks(p, 128)
    for part in ("eyes", "brows", "nose", "mouth", "skin", "background"):
        assert m[part].sum() > 10, part
    assert m["glasses"].any() == bool(p["glasses"])
    if p["facial_hair"] == "beard":
        assert m["beard"].sum() > 100
    if p["facial_hair"] == "none":
        assert not m["beard"].any()
    # anatomy: brows above eyes above nose above mouth; the mouth in the lower half of the face
    face = m["skin"] | m["nose"] | m["mouth"] | m["eyes"] | m["brows"] | m["beard"]
    rows = np.nonzero(face.any(1))[0]
    top, bottom = rows.min(), rows.max()
    assert _centroid_y(m["brows"]) < _centroid_y(m["eyes"]) < _centroid_y(m["nose"]) < _centroid_y(m["mouth"])
    assert _centroid_y(m["mouth"]) > (top + bottom) / 2
    # eyes left and right of the nose
    cols = np.nonzero(m["eyes"])[1]
    nose_x = np.nonzero(m["nose"])[1].mean()
    assert cols.min() < nose_x < cols.max()


def test_part_masks_at_lower_resolution_follow_the_128_ones():
    p = sf.sample_params(0, 4)
    big, small = sf.part_masks(p, 128), sf.part_masks(p, 64)
    for part in ("skin", "hair", "background"):
        down = big[part].reshape(64, 2, 64, 2).mean((1, 3)) > 0.5
        assert (down == small[part]).mean() > 0.97, part


def test_held_out_params_are_the_held_out_faces():
    from selfsr_edu import reference
    from selfsr_edu.evaluate import held_out_pairs, held_out_params

    cfg = reference.sr_config("small-scb")
    lr, hr = held_out_pairs(cfg, 2)
    for i, p in enumerate(held_out_params(cfg, 2)):
        face = torch.from_numpy(sf.render_face(p, hr.shape[-1])).permute(2, 0, 1)
        assert torch.equal(quantise8(face), hr[i])


# --- capture --------------------------------------------------------------------------------
@pytest.mark.parametrize("block", ["scb", "spade", "concat"])
def test_capture_is_bit_identical_and_restores_apply(block):
    R, lr = _tiny(block, depth=2), _lr()
    with torch.no_grad():
        before = R(lr)
    cap = capture(R, lr)
    with torch.no_grad():
        after = R(lr)
    assert torch.equal(cap.output, before) and torch.equal(after, before)
    for lvl in R.level:
        for b in lvl.blocks:
            assert "apply" not in b.__dict__ and b.apply.__func__ is type(b).apply
    assert cap.keys == [(k, j) for k in (1, 2, 3) for j in (0, 1)]
    assert torch.equal(cap.rgb[3], before)  # the last level's RGB is R's output
    if block == "concat":
        assert not cap.gamma
    else:
        assert set(cap.gamma) == set(cap.keys)
    assert (set(cap.beta) == set(cap.keys)) == (block == "spade")


def test_tap_restores_apply_after_an_exception():
    R, lr = _tiny(), _lr()
    with pytest.raises(RuntimeError, match="boom"):
        with tap(R) as rec:
            with torch.no_grad():
                R(lr)
            assert rec and "apply" in R.level[0].blocks[0].__dict__
            raise RuntimeError("boom")
    assert all("apply" not in b.__dict__ for lvl in R.level for b in lvl.blocks)


@pytest.mark.parametrize("depth", [None, 2])
def test_captured_gamma_is_the_condition_branch_by_hand(depth):
    R, lr = _tiny(depth=depth), _lr()
    cap = capture(R, lr, stage=2)
    assert max(cap.conditions) == 2 and cap.output.shape[-1] == 64
    for level, j in cap.keys:
        block = R.level[level - 1].blocks[j]
        cond = bicubic_pil(lr, 16 << level)
        with torch.no_grad():
            gamma = block.condition_features(cond)
        assert torch.allclose(cap.gamma[(level, j)], gamma, atol=1e-5)
        f = cap.features[(level, j)]
        mu = f.mean((2, 3), keepdim=True)
        var = (f - mu).pow(2).mean((2, 3), keepdim=True)
        f_bar = (f - mu) / torch.sqrt(var + block.eps)  # Eq. 6 by hand
        assert torch.allclose(cap.normalised[(level, j)], f_bar, atol=1e-4)
        assert torch.allclose(cap.modulated[(level, j)], cap.gamma[(level, j)] * f_bar, atol=1e-4)


def test_spade_gamma_and_beta_are_the_two_halves():
    R, lr = _tiny("spade"), _lr()
    cap = capture(R, lr)
    key = (1, 0)
    with torch.no_grad():
        c = R.level[0].blocks[0].condition_features(bicubic_pil(lr, 32))
    assert torch.allclose(torch.cat([cap.gamma[key], cap.beta[key]], 1), c, atol=1e-6)
    f_bar = cap.normalised[key]
    assert torch.allclose(cap.modulated[key], (1 + cap.gamma[key]) * f_bar + cap.beta[key], atol=1e-5)


def test_channel_stats():
    R, lr = _tiny(), _lr(3)
    cap = capture(R, lr)
    s = channel_stats(cap, (3, 0), top=2)
    g = cap.gamma[(3, 0)]
    assert torch.allclose(s["mean"].float(), g.mean((0, 2, 3)), atol=1e-5)
    assert torch.allclose(s["max"].float(), g.amax((0, 2, 3)))
    across = g.double().var(0, unbiased=False).mean((1, 2))
    assert s["top_varying"][0] == int(across.argmax()) and len(s["top_varying"]) == 2
    with pytest.raises(ValueError, match="concat"):
        channel_stats(capture(_tiny("concat"), lr), (1, 0))


def test_bad_input_is_refused_with_a_named_argument():
    with pytest.raises(ValueError, match="lr"):
        capture(_tiny(), torch.zeros(3, 16, 16))
    with pytest.raises(ValueError, match="stage"):
        capture(_tiny(), _lr(), stage=4)
    with pytest.raises(ValueError, match="masks"):
        edge_vs_part(_tiny(), _lr(), {})


# --- Sobel and correlations -----------------------------------------------------------------
def test_sobel_of_a_step_edge():
    img = torch.zeros(1, 1, 8, 8)
    img[..., 4:] = 1.0
    e = sobel_magnitude(img)[0, 0]
    # |G_x| = (1 + 2 + 1) · step next to the edge, 0 elsewhere (replicate padding: no border edges)
    assert torch.allclose(e[:, 3], torch.full((8,), 4.0)) and torch.allclose(e[:, 4], torch.full((8,), 4.0))
    assert e[:, :3].abs().max() == 0 and e[:, 5:].abs().max() == 0
    rgb = img.expand(1, 3, 8, 8)  # grey: Y = the value
    assert torch.allclose(sobel_magnitude(rgb), sobel_magnitude(img), atol=1e-6)


def test_pearson_matches_numpy_and_handles_constant_maps():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(2, 3, 10, 10, generator=g), torch.rand(2, 1, 10, 10, generator=g)
    r = pearson(x, y)
    for n in range(2):
        for c in range(3):
            ref = np.corrcoef(x[n, c].flatten().numpy(), y[n, 0].flatten().numpy())[0, 1]
            assert abs(float(r[n, c]) - ref) < 1e-6
    assert torch.isnan(pearson(x, torch.zeros(2, 1, 10, 10))).all()


def _hand_capture(lr, gamma_of):
    """A Capture of one (level 1, block 0) whose γ we choose: ``gamma_of(condition)`` -> N×C×H×W."""
    cond = bicubic_pil(lr, 32)
    g = gamma_of(cond)
    cap = Capture(kind="scb", gamma={(1, 0): g}, modulated={(1, 0): g}, conditions={1: cond})
    return cap


def test_gamma_equal_to_the_edge_map_correlates_one():
    lr = _lr(3)
    cap = _hand_capture(lr, lambda cond: torch.cat([sobel_magnitude(cond), torch.rand(3, 1, 32, 32)], 1))
    r = correlations(cap, border=2)[(1, 0)]["edge"]
    assert torch.allclose(r[:, 0], torch.ones(3, dtype=r.dtype), atol=1e-6)
    assert r[:, 1].abs().max() < 0.5


def test_gamma_equal_to_a_part_mask_wins_for_that_part():
    params = [sf.sample_params(0, i) for i in range(3)]
    masks = {k: torch.from_numpy(np.stack([sf.part_masks(p, 128)[k] for p in params]))
             for k in ("mouth", "eyes", "hair", "skin", "background")}
    hr = torch.stack([torch.from_numpy(sf.render_face(p, 128)).permute(2, 0, 1) for p in params])
    lr = quantise8(bicubic_pil(hr, 16))
    mouth32 = F.adaptive_avg_pool2d(masks["mouth"].float()[:, None], 32)
    cap = _hand_capture(lr, lambda cond: 1.0 + 2.0 * mouth32)
    s = edge_vs_part(None, None, masks, cap=cap)[(1, 0)]
    assert s["best_part"] == "mouth" and abs(s["part"] - 1.0) < 1e-6 and s["part"] > s["edge"]
    assert s["part_channel"] == 0 and set(s["parts"]) == set(masks)
    cap = _hand_capture(lr, sobel_magnitude)
    s = edge_vs_part(None, None, masks, cap=cap)[(1, 0)]
    assert abs(s["edge"] - 1.0) < 1e-6 and s["edge"] > s["part"]


def test_edge_vs_part_on_a_tiny_R():
    params = [sf.sample_params(0, i) for i in range(2)]
    masks = {k: torch.from_numpy(np.stack([sf.part_masks(p, 128)[k] for p in params])) for k in sf.PART_NAMES}
    hr = torch.stack([torch.from_numpy(sf.render_face(p, 128)).permute(2, 0, 1) for p in params])
    lr = quantise8(bicubic_pil(hr, 16))
    R = _tiny()
    out = edge_vs_part(R, lr, masks)
    assert set(out) == {(1, 0), (2, 0), (3, 0)}
    for s in out.values():
        assert 0 <= s["edge"] <= s["edge_max"] <= 1
        assert all(0 <= v <= 1 for v in s["parts"].values())
        assert s["part"] == max(s["parts"].values()) and s["best_part"] in s["parts"]
    sub = edge_vs_part(R, lr, masks, parts=["mouth", "eyes"])
    assert set(sub[(1, 0)]["parts"]) <= {"mouth", "eyes"}
    with pytest.raises(ValueError, match="parts"):
        edge_vs_part(R, lr, masks, parts=["tail"])


# --- failure cases --------------------------------------------------------------------------
def test_failure_cases_are_sorted_and_gains_match_psnr():
    params = [sf.sample_params(0, i) for i in range(6)]
    hr = torch.stack([torch.from_numpy(sf.render_face(p, 128)).permute(2, 0, 1) for p in params])
    lr = quantise8(bicubic_pil(hr, 16))
    torch.manual_seed(3)
    R = SelfConditionedSR.from_preset("tiny", residual=True).eval()
    with torch.no_grad():  # between bicubic and noise: a residual tiny R with small random RGB heads
        for lvl in R.level:
            lvl.to_rgb.weight.normal_(0, 0.02)
    fc = failure_cases(R, lr, hr, params, k=3, crop_border=8)
    with torch.no_grad():
        sr = R(lr).clamp(0, 1)
    bic = bicubic_pil(lr, 128).clamp(0, 1)
    gain = psnr(sr, hr, crop_border=8) - psnr(bic, hr, crop_border=8)
    assert torch.allclose(fc.gain, gain, atol=1e-4)
    assert (fc.gain[fc.order].diff() >= 0).all() and torch.equal(fc.worst, fc.order[:3])
    assert torch.equal(fc.hr, hr[fc.worst]) and torch.allclose(fc.sr, sr[fc.worst])
    assert fc.params == [params[int(i)] for i in fc.worst]
    rows = {r["attribute"]: r for r in fc.attributes}
    worst = fc.worst.tolist()
    for name, r in rows.items():
        n_all = sum(face_attributes(p)[name] for p in params)
        n_worst = sum(face_attributes(params[i])[name] for i in worst)
        assert (r["n_all"], r["n_worst"]) == (n_all, n_worst)
        assert abs(r["lift"] - (n_worst / 3) / (n_all / 6)) < 1e-12
    lifts = [r["lift"] for r in fc.attributes]
    assert lifts == sorted(lifts, reverse=True)


def test_attribute_summary_by_hand_and_bad_input():
    params = [dict(sf.sample_params(0, i), glasses=i < 2) for i in range(4)]
    rows = {r["attribute"]: r for r in attribute_summary(params, [0, 1])}
    assert rows["glasses"]["frac_worst"] == 1.0 and rows["glasses"]["frac_all"] == 0.5 and rows["glasses"]["lift"] == 2
    with pytest.raises(ValueError, match="worst"):
        attribute_summary(params, [7])
    R = _tiny()
    with pytest.raises(ValueError, match="k must"):
        failure_cases(R, _lr(2), torch.rand(2, 3, 128, 128), k=3)


def test_plots_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from selfsr_edu.viz import plot_edge_vs_part, plot_failure_cases, plot_feature_maps

    R = _tiny(depth=2)
    params = [sf.sample_params(0, i) for i in range(3)]
    hr = torch.stack([torch.from_numpy(sf.render_face(p, 128)).permute(2, 0, 1) for p in params])
    lr = quantise8(bicubic_pil(hr, 16))
    masks = {k: torch.from_numpy(np.stack([sf.part_masks(p, 128)[k] for p in params])) for k in ("mouth", "skin")}
    cap = capture(R, lr)
    fig = plot_feature_maps(cap, faces=(0, 2))
    assert len(fig.axes) == 2 * (1 + 6) + 2 * 6  # panels + colour bars
    plot_edge_vs_part(edge_vs_part(R, lr, masks, cap=cap))
    plot_failure_cases(failure_cases(R, lr, hr, params, k=2))
    plt.close("all")
