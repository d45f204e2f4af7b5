"""The notebook exercises: for each, a correct solution the checker accepts, typical wrong answers it
rejects with the right diagnosis, and the stub (not answered, no exception). These are the solutions."""
import json
import math
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from selfsr_edu import exercises as ex
from selfsr_edu.exercises import check, hint

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))     # every notebook


def ok(exercise_id, answer):
    r = check(exercise_id, answer)
    assert r.ok and r.answered, r.message
    return r


def wrong(exercise_id, answer, *phrases):
    r = check(exercise_id, answer)
    assert not r.ok and r.answered, r.message
    for p in phrases:
        assert p.lower() in r.message.lower(), (p, r.message)
    return r


# ---------------------------------------------------------------- 00_task_and_data, part 2


def test_0_1_make_lr():
    from selfsr_edu.data.io import quantise8
    from selfsr_edu.resize import bicubic_pil, imresize

    ok("0.1", lambda hr: quantise8(bicubic_pil(hr, 16)))
    wrong("0.1", lambda hr: bicubic_pil(hr, 16), "8-bit grid")
    wrong("0.1", lambda hr: quantise8(imresize(hr, 1 / 8)), "matlab")
    wrong("0.1", lambda hr: quantise8(F.interpolate(hr, size=16, mode="bicubic", antialias=True).clamp(0, 1)),
          "border")
    wrong("0.1", lambda hr: quantise8(hr[..., ::8, ::8]), "antialiasing")
    wrong("0.1", lambda hr: bicubic_pil(hr, 32), "2×3×16×16")


def test_0_2_colour_cast():
    def cast(x, gains, offsets):
        g = torch.tensor(gains, dtype=x.dtype).view(1, 3, 1, 1)
        b = torch.tensor(offsets, dtype=x.dtype).view(1, 3, 1, 1)
        return (x * g + b).clamp(0, 1)

    ok("0.2", cast)
    wrong("0.2", lambda x, g, b: x * torch.tensor(g).view(1, 3, 1, 1) + torch.tensor(b).view(1, 3, 1, 1), "clamp")
    wrong("0.2", lambda x, g, b: ((x + torch.tensor(b).view(1, 3, 1, 1)) * torch.tensor(g).view(1, 3, 1, 1)).clamp(0, 1),
          "after the gain")
    wrong("0.2", lambda x, g, b: (x * torch.tensor(g) + torch.tensor(b)).clamp(0, 1), "raised")   # wrong axis


def test_0_3_standard_error():
    ok("0.3", lambda p, n: math.sqrt(p * (1 - p) / n))
    wrong("0.3", lambda p, n: p * (1 - p) / n, "square root")
    wrong("0.3", lambda p, n: math.sqrt(n * p * (1 - p)), "count")
    wrong("0.3", lambda p, n: math.sqrt(p * (1 - p) / (n - 1)), "n − 1")


# ---------------------------------------------------------------- 00_task_and_data, part 1


def solution_rgb_to_y(x):
    return 16 + 65.481 * x[:, 0:1] + 128.553 * x[:, 1:2] + 24.966 * x[:, 2:3]


def test_p_1_rgb_to_y():
    ok("P.1", solution_rgb_to_y)
    wrong("P.1", lambda x: 16 + 24.966 * x[:, 0:1] + 128.553 * x[:, 1:2] + 65.481 * x[:, 2:3], "bgr")
    wrong("P.1", lambda x: 65.481 * x[:, 0:1] + 128.553 * x[:, 1:2] + 24.966 * x[:, 2:3], "+16")
    wrong("P.1", lambda x: solution_rgb_to_y(x) / 255, "0–255")
    wrong("P.1", lambda x: 255 * (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]), "full-range")
    wrong("P.1", lambda x: solution_rgb_to_y(x)[:, 0], "channel axis")


def solution_psnr(sr, hr):
    from selfsr_edu.data.io import quantise8

    a = solution_rgb_to_y(quantise8(sr.double()))[..., 8:-8, 8:-8]
    b = solution_rgb_to_y(quantise8(hr.double()))[..., 8:-8, 8:-8]
    mse = (a - b).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(255.0**2 / mse)


def test_p_2_psnr():
    from selfsr_edu.metrics import psnr

    ok("P.2", solution_psnr)
    wrong("P.2", lambda sr, hr: psnr(sr, hr, crop_border=8, y_channel=False), "rgb instead of y")
    wrong("P.2", lambda sr, hr: psnr(sr, hr, crop_border=0), "crop 8 pixels")
    wrong("P.2", lambda sr, hr: solution_psnr(sr, hr) - 20 * math.log10(255), "peak is 255")
    wrong("P.2", lambda sr, hr: solution_psnr(sr, hr).mean(), "one psnr per image")
    wrong("P.2", lambda sr, hr: psnr(sr, hr, crop_border=8, quantize=False), "quantisation")


def test_p_3_bicubic_baseline():
    from selfsr_edu.data.io import quantise8
    from selfsr_edu.metrics import psnr, ssim
    from selfsr_edu.resize import bicubic_pil, imresize

    def scores(hr, make_lr=lambda hr: quantise8(bicubic_pil(hr, 16)), crop=8):
        up = bicubic_pil(make_lr(hr), 128).clamp(0, 1)
        return psnr(up, hr, crop_border=crop), ssim(up, hr, crop_border=crop)

    ok("P.3", scores)
    wrong("P.3", lambda hr: scores(hr, lambda h: quantise8(imresize(h, 1 / 8))), "matlab")
    wrong("P.3", lambda hr: scores(hr, crop=0), "border crop")
    wrong("P.3", lambda hr: scores(hr)[0], "pair")


# ---------------------------------------------------------------- 01_warping


def solution_warp(image, flow):
    n, _, h, w = image.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=image.dtype), torch.arange(w, dtype=image.dtype), indexing="ij")
    grid = torch.stack([2 * (xs - flow[:, 0]) / (w - 1) - 1, 2 * (ys - flow[:, 1]) / (h - 1) - 1], dim=-1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def test_1_1_warp():
    ok("1.1", solution_warp)
    wrong("1.1", lambda im, fl: solution_warp(im, -fl), "wrong way", "x − 1")
    wrong("1.1", lambda im, fl: solution_warp(im, fl.flip(1)), "swapped")

    def zeros_padding(image, flow):
        n, _, h, w = image.shape
        ys, xs = torch.meshgrid(torch.arange(h, dtype=image.dtype), torch.arange(w, dtype=image.dtype), indexing="ij")
        grid = torch.stack([2 * (xs - flow[:, 0]) / (w - 1) - 1, 2 * (ys - flow[:, 1]) / (h - 1) - 1], dim=-1)
        return F.grid_sample(image, grid, padding_mode="zeros", align_corners=True)

    wrong("1.1", zeros_padding, "border")

    def align_false(image, flow):
        n, _, h, w = image.shape
        ys, xs = torch.meshgrid(torch.arange(h, dtype=image.dtype), torch.arange(w, dtype=image.dtype), indexing="ij")
        grid = torch.stack([2 * (xs - flow[:, 0]) / (w - 1) - 1, 2 * (ys - flow[:, 1]) / (h - 1) - 1], dim=-1)
        return F.grid_sample(image, grid, padding_mode="border", align_corners=False)

    wrong("1.1", align_false, "align_corners=true")


def test_1_2_warp_by_hand():
    ok("1.2", 3.75)
    ok("1.2", torch.tensor(3.75))
    wrong("1.2", 5 * 1.75 + 1.5, "x − δx")
    wrong("1.2", 5 * 1.5 + 1.25, "swapped")
    wrong("1.2", 7.0, "input pixel itself")


def test_1_3_motion_blur():
    from selfsr_edu.data.flows import constant_flow
    from selfsr_edu.warp import warp

    def blur(image, length, samples, start=None, vertical=False, reduce="mean"):
        n, _, h, w = image.shape
        ts = torch.linspace(-length / 2 if start is None else start, length / 2 if start is None else length, samples)
        outs = torch.stack([warp(image, constant_flow(n, h, w, 0.0, float(t)) if vertical
                                 else constant_flow(n, h, w, float(t), 0.0)) for t in ts])
        return outs.mean(0) if reduce == "mean" else outs.sum(0)

    ok("1.3", blur)
    wrong("1.3", lambda im, L, k: blur(im, L, k, vertical=True), "vertically")
    wrong("1.3", lambda im, L, k: blur(im, L, k, reduce="sum"), "mean")
    wrong("1.3", lambda im, L, k: blur(im, L, k, start=0.0), "centre")
    wrong("1.3", lambda im, L, k: blur(im, 2.0, 3), "both arguments")


# ---------------------------------------------------------------- 02_degradation


def solution_smoothness(flow):
    return ((flow[..., :, 1:] - flow[..., :, :-1]).abs().mean()
            + (flow[..., 1:, :] - flow[..., :-1, :]).abs().mean())


def test_2_1_flow_smoothness():
    ok("2.1", solution_smoothness)
    wrong("2.1", lambda f: (f[..., :, 1:] - f[..., :, :-1]).abs().mean(), "only the horizontal")
    wrong("2.1", lambda f: (f[..., 1:, :] - f[..., :-1, :]).abs().mean(), "only the vertical")
    wrong("2.1", lambda f: (f[..., :, 1:] - f[..., :, :-1]).pow(2).mean() + (f[..., 1:, :] - f[..., :-1, :]).pow(2).mean(),
          "absolute values")
    wrong("2.1", lambda f: (f[..., :, 1:] - f[..., :, :-1]).abs().sum() + (f[..., 1:, :] - f[..., :-1, :]).abs().sum(),
          "mean")
    wrong("2.1", lambda f: solution_smoothness(f) / 2, "adds them")


def test_2_2_smoothness_by_hand():
    ok("2.2", 3 / 8 + 5 / 6)
    wrong("2.2", 3 / 8, "vertical")
    wrong("2.2", 8, "sum")
    wrong("2.2", 0.5, "not it")


def test_2_3_degradation_objective():
    def objective(adv, intermediate, lr_syn, flow, l_idt=10.0, l_s=1.0, p=1):
        return adv + l_idt * (intermediate - lr_syn).abs().pow(p).mean() + l_s * solution_smoothness(flow)

    ok("2.3", objective)
    wrong("2.3", lambda *a: objective(*a, l_idt=1.0, l_s=10.0), "swapped")
    wrong("2.3", lambda *a: objective(*a, p=2), "l1")
    wrong("2.3", lambda *a: objective(*a, l_s=0.0), "smoothness term")


def test_2_4_half_pixel_blur():
    ok("2.4", (0.5, 0.5))
    from selfsr_edu.data.flows import constant_flow

    ok("2.4", constant_flow(1, 8, 8, 0.5, 0.5))
    wrong("2.4", (-0.5, -0.5), "sign is flipped")
    wrong("2.4", (0.5, 0.0), "one axis")
    wrong("2.4", 0.5, "pair")


# ---------------------------------------------------------------- 03_self_conditioned_block


def solution_instance_norm(f, eps=1e-5):
    mu = f.mean(dim=(2, 3), keepdim=True)
    var = ((f - mu) ** 2).mean(dim=(2, 3), keepdim=True)
    return (f - mu) / torch.sqrt(var + eps)


def test_3_1_instance_norm():
    ok("3.1", solution_instance_norm)
    wrong("3.1", lambda f: (f - f.mean(1, keepdim=True)) / torch.sqrt(f.var(1, keepdim=True, unbiased=False) + 1e-5),
          "normalise over the channel axis")
    wrong("3.1", lambda f: F.batch_norm(f, None, None, training=True), "batch normalisation")
    wrong("3.1", lambda f: (f - f.mean((2, 3), keepdim=True)) / torch.sqrt(f.var((2, 3), keepdim=True) + 1e-5),
          "unbiased")
    wrong("3.1", lambda f: (f - f.mean((2, 3), keepdim=True)) / (f.std((2, 3), keepdim=True, unbiased=False) + 1e-5),
          "inside the square root")
    wrong("3.1", lambda f: (f - f.mean((1, 2, 3), keepdim=True)) / f.std((1, 2, 3), keepdim=True), "layer norm")


def test_3_2_modulate():
    ok("3.2", lambda f, gamma: gamma * solution_instance_norm(f))
    wrong("3.2", lambda f, gamma: (1 + gamma) * solution_instance_norm(f), "spade")
    wrong("3.2", lambda f, gamma: gamma * f, "normalise them first")
    wrong("3.2", lambda f, gamma: gamma + solution_instance_norm(f), "added")


def solution_luma(condition):
    from selfsr_edu.metrics import rgb_to_y

    return rgb_to_y(condition) / 255


def test_3_3_luma_condition():
    from selfsr_edu.metrics import rgb_to_y

    ok("3.3", solution_luma)
    wrong("3.3", rgb_to_y, "divide by 255")
    wrong("3.3", lambda c: c.mean(1, keepdim=True), "bt.601 weights")
    wrong("3.3", lambda c: solution_luma(c)[:, 0], "channel axis")
    wrong("3.3", lambda c: c, "three channels")


def test_3_4_luma_block():
    from selfsr_edu.nn import SelfConditionedBlock

    class LumaBlock(SelfConditionedBlock):
        def __init__(self, channels, hidden=8):
            super().__init__(channels, cond_channels=1, hidden=hidden)

        def condition_features(self, condition):
            return super().condition_features(solution_luma(condition))

    r = ok("3.4", lambda channels, hidden: LumaBlock(channels, hidden))
    assert "fewer" in r.message
    wrong("3.4", lambda channels, hidden: SelfConditionedBlock(channels, 3, hidden), "still sees colour")

    class NoNorm(LumaBlock):
        def apply(self, features, gamma):
            return gamma * features

    wrong("3.4", lambda channels, hidden: NoNorm(channels, hidden), "instance-normalised")
    wrong("3.4", lambda channels, hidden: SelfConditionedBlock(channels, 1, hidden), "raised")   # RGB into 1-ch conv


# ---------------------------------------------------------------- 04_progressive_sr


def test_4_1_fade_in():
    up = lambda x: F.interpolate(x, scale_factor=2, mode="nearest")  # noqa: E731
    ok("4.1", lambda prev, new, alpha: alpha * new + (1 - alpha) * up(prev))
    wrong("4.1", lambda prev, new, alpha: (1 - alpha) * new + alpha * up(prev), "wrong term")
    wrong("4.1", lambda prev, new, alpha: alpha * new + (1 - alpha) * F.interpolate(prev, scale_factor=2,
                                                                                    mode="bilinear"), "nearest")
    wrong("4.1", lambda prev, new, alpha: alpha * new + (1 - alpha) * prev, "raised")


def solution_stage_at(t, growth, fade_in):
    stage = 1 + sum(t >= g for g in growth)
    if stage == 1:
        return 1, 1.0
    return stage, min(1.0, (t - growth[stage - 2] + 1) / fade_in)


def test_4_2_stage_at():
    ok("4.2", solution_stage_at)
    wrong("4.2", lambda t, g, f: (1 + sum(t > x for x in g), solution_stage_at(t, g, f)[1]), "t ≥ g")
    wrong("4.2", lambda t, g, f: (solution_stage_at(t, g, f)[0],
                                  1.0 if t < g[0] else min(1.0, (t - g[sum(t >= x for x in g) - 1]) / f)), "starts at 0")
    wrong("4.2", lambda t, g, f: (solution_stage_at(t, g, f)[0],
                                  1.0 if t < g[0] else (t - g[sum(t >= x for x in g) - 1] + 1) / f), "clip")


def test_4_3_cycle_loss():
    from selfsr_edu.resize import bicubic_pil

    ok("4.3", lambda sr, lr: (bicubic_pil(sr, tuple(lr.shape[-2:])) - lr).abs().mean())
    wrong("4.3", lambda sr, lr: (F.avg_pool2d(sr, sr.shape[-1] // lr.shape[-1]) - lr).abs().mean(), "box filter")
    wrong("4.3", lambda sr, lr: (bicubic_pil(sr, tuple(lr.shape[-2:])) - lr).pow(2).mean(), "l1")
    wrong("4.3", lambda sr, lr: (sr - bicubic_pil(lr, tuple(sr.shape[-2:]))).abs().mean(), "downscales the sr")


# ---------------------------------------------------------------- 06_ablations


def solution_interval(row, full, quantile=None):
    import statistics

    from scipy.stats import t

    d = [a - b for a, b in zip(row, full)]
    n = len(d)
    q = t.ppf(0.975, n - 1) if quantile is None else quantile
    half = q * statistics.stdev(d) / math.sqrt(n)
    mean = statistics.mean(d)
    return mean, mean - half, mean + half


def test_6_1_paired_interval():
    r = ok("6.1", solution_interval)
    assert "includes 0" in r.message
    wrong("6.1", lambda row, full: solution_interval(row, full, quantile=1.96), "student")
    wrong("6.1", lambda row, full: solution_interval(full, row), "sign")
    wrong("6.1", lambda row, full: solution_interval(row, full, quantile=4.303 * math.sqrt(3)), "1/√n")


def solution_seeds_needed(s, half_width):
    from scipy.stats import t

    n = 2
    while t.ppf(0.975, n - 1) * s / math.sqrt(n) > half_width:
        n += 1
    return n


def test_6_2_seeds_needed():
    from scipy.stats import t

    ok("6.2", solution_seeds_needed)

    def with_z(s, h):
        n = 2
        while 1.96 * s / math.sqrt(n) > h:
            n += 1
        return n

    def with_df_n(s, h):
        n = 2
        while t.ppf(0.975, n) * s / math.sqrt(n) > h:
            n += 1
        return n

    wrong("6.2", with_z, "student's t")
    wrong("6.2", with_df_n, "n − 1")


# ---------------------------------------------------------------- machinery


def _stub_returns_none(*args, **kwargs):
    return None


def _stub_raises(*args, **kwargs):
    raise NotImplementedError


VALUE_EXERCISES = {"1.2", "2.2", "2.4"}     # the answer is a number (or a pair), not a function


STUBS = [pytest.param(ex_id, stub, id=f"{ex_id}-{name}") for ex_id in ex.EXERCISE_IDS
         for name, stub in (("None", None), ("returns-None", _stub_returns_none), ("raises", _stub_raises))
         if stub is None or ex_id not in VALUE_EXERCISES]      # a value exercise's stub is `answer = None`


@pytest.mark.parametrize("exercise_id, stub", STUBS)
def test_stub_is_not_answered_and_does_not_raise(exercise_id, stub, capsys):
    r = check(exercise_id, stub)
    assert not r.ok and not r.answered
    assert "not answered yet" in r.message and "Hint 1" in r.message
    assert r.message in capsys.readouterr().out


@pytest.mark.parametrize("exercise_id", list(ex.EXERCISE_IDS))
def test_crashing_or_nonsense_answers_never_raise(exercise_id):
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    for answer in (crash, "a string", 3.0, [1, 2]):
        r = check(exercise_id, answer)
        assert not r.ok and r.answered


def test_registry_hints_and_listing(capsys):
    listed = ex.exercises()
    assert [e.id for e in listed] == list(ex.EXERCISE_IDS)
    for e in listed:
        assert e.title and e.equation and len(e.hints) >= 2 and e.notebook in NOTEBOOKS
        assert e.checker.__doc__ is None or isinstance(e.checker.__doc__, str)
    assert "hint 2/3 for 1.1" in hint("1.1", 2)
    assert "has hints 1..3" in hint("1.1", 9)
    with pytest.raises(KeyError):
        check("9.9", None)
    assert "CheckResult('1.1'" in repr(check("1.1", None))


# ---------------------------------------------------------------- 05_real_world
def test_5_1_pseudo_lr():
    from selfsr_edu.data.io import quantise8
    from selfsr_edu.resize import bicubic_pil

    ok("5.1", lambda hr, G: G(quantise8(bicubic_pil(hr, 16))))
    wrong("5.1", lambda hr, G: quantise8(bicubic_pil(hr, 16)), "G never ran")
    wrong("5.1", lambda hr, G: G(bicubic_pil(hr, 16)), "no 8-bit step")
    wrong("5.1", lambda hr, G: quantise8(bicubic_pil(G(hr), 16)), "shrink first, then degrade")
    wrong("5.1", lambda hr, G: G(hr), "16×16")
    assert not check("5.1", lambda hr, G: None).answered


def test_5_2_gain_over_bicubic():
    from selfsr_edu.metrics import psnr
    from selfsr_edu.resize import bicubic_pil

    def gain(sr, lr, hr, crop=4, y=True):
        bic = bicubic_pil(lr, 64).clamp(0, 1)
        return (psnr(sr, hr, crop_border=crop, y_channel=y) - psnr(bic, hr, crop_border=crop, y_channel=y)).mean()

    ok("5.2", gain)
    wrong("5.2", lambda sr, lr, hr: gain(sr, lr, hr, crop=8), "that is the ×8 rule")
    wrong("5.2", lambda sr, lr, hr: gain(sr, lr, hr, crop=0), "no border crop")
    wrong("5.2", lambda sr, lr, hr: gain(sr, lr, hr, y=False), "y channel")
    wrong("5.2", lambda sr, lr, hr: -gain(sr, lr, hr), "sign is flipped")


# ---------------------------------------------------------------- 07_feature_maps
def test_7_1_gamma_by_hand():
    ok("7.1", lambda R, lr: R.level[0].blocks[0].condition_features(R.conditions(lr)[0]))
    wrong("7.1", lambda R, lr: R.level[0].blocks[0].condition_features(lr), "that is the lr's size")
    wrong("7.1", lambda R, lr: R.level[0].blocks[1].condition_features(R.conditions(lr)[0]), "second block")
    wrong("7.1", lambda R, lr: R.level[1].blocks[0].condition_features(R.conditions(lr)[1]), "expected")


def test_7_2_sobel():
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=torch.float64)

    def grads(y, mode="replicate"):
        p = F.pad(y, (1, 1, 1, 1), mode=mode) if mode == "replicate" else F.pad(y, (1, 1, 1, 1))
        return F.conv2d(p, kx[None, None]), F.conv2d(p, kx.t()[None, None])

    def sobel(y, mode="replicate"):
        gx, gy = grads(y, mode)
        return (gx ** 2 + gy ** 2).sqrt()

    ok("7.2", sobel)
    wrong("7.2", lambda y: sobel(y) ** 2, "square root")
    wrong("7.2", lambda y: sobel(y, "zeros"), "zero padding")
    wrong("7.2", lambda y: grads(y)[0].abs() + grads(y)[1].abs(), "|G_x| + |G_y|")
    wrong("7.2", lambda y: grads(y)[0].abs(), "only the horizontal")


def test_7_3_pearson():
    def centred(v):
        v = v.flatten(1)
        return v - v.mean(1, keepdim=True)

    def pearson(x, y):
        a, b = centred(x), centred(y)
        return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))

    ok("7.3", pearson)
    wrong("7.3", lambda x, y: (x.flatten(1) * y.flatten(1)).sum(1) / (x.flatten(1).norm(dim=1) * y.flatten(1).norm(dim=1)),
          "cosine similarity")
    wrong("7.3", lambda x, y: (centred(x) * centred(y)).mean(1), "covariance")
    wrong("7.3", lambda x, y: pearson(x, y).abs(), "keep the sign")
    assert not check("7.3", None).answered


def _notebook_check_ids(name):
    nb = json.loads((ROOT / "notebooks" / name).read_text())
    ids = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            ids += re.findall(r"""\bcheck\(\s*["']([^"']+)["']""", "".join(cell["source"]))
    return nb, ids


def test_every_exercise_is_in_exactly_one_notebook():
    seen = {}
    for name in sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")):
        for ex_id in _notebook_check_ids(name)[1]:
            seen.setdefault(ex_id, []).append(name)
    for ex_id, (notebook, _) in ex.EXERCISE_IDS.items():
        assert seen.get(ex_id) == [notebook], (ex_id, seen.get(ex_id))
    assert set(seen) <= set(ex.EXERCISE_IDS), set(seen) - set(ex.EXERCISE_IDS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_has_exercises_before_what_we_checked(name):
    nb, ids = _notebook_check_ids(name)
    assert len(ids) >= 2, name
    cells = nb["cells"]
    last_md = max(i for i, c in enumerate(cells) if c["cell_type"] == "markdown")
    assert "What" in "".join(cells[last_md]["source"]) and "check" in "".join(cells[last_md]["source"]).lower()
    exercise_cells = [i for i, c in enumerate(cells)
                      if c["cell_type"] == "code" and "".join(c["source"]).startswith("# EXERCISE")]
    assert len(exercise_cells) == len(ids) and max(exercise_cells) < last_md
