"""SynthFaces: determinism, shapes and ranges, attribute rates, parameters visible in the pixels, cache."""
import json
import math
import os

import numpy as np
import pytest
import torch
from PIL import Image

from selfsr_edu.data import SynthFaces
from selfsr_edu.data import synthfaces as sf

N_RATES = 400


@pytest.fixture(scope="module")
def many_params():
    return [sf.sample_params(0, i) for i in range(N_RATES)]


def _binomial_ok(count, n, p, z=4.5):
    """``count`` successes in ``n`` trials is within ``z`` standard deviations of ``n p``."""
    return abs(count - n * p) <= z * math.sqrt(n * p * (1 - p)) + 1


# --- determinism ----------------------------------------------------------------------------
def test_same_seed_and_index_give_identical_faces():
    a = SynthFaces(3, seed=5, cache=False)
    b = SynthFaces(3, seed=5, cache=False)
    for i in range(3):
        assert torch.equal(a[i], b[i])
        assert a.params(i) == b.params(i)


def test_different_seeds_and_indices_give_different_faces():
    a, b = SynthFaces(2, seed=0, cache=False), SynthFaces(2, seed=1, cache=False)
    assert (a[0] - b[0]).abs().mean() > 0.02
    assert (a[0] - a[1]).abs().mean() > 0.02
    assert a.params(0) != b.params(0)


def test_offset_selects_the_same_face_as_a_longer_dataset():
    long, short = SynthFaces(12, cache=False), SynthFaces(2, offset=10, cache=False)
    assert torch.equal(long[11], short[1])
    assert long.params(10) == short.params(0)


def test_render_depends_only_on_params():
    p = sf.sample_params(3, 7)
    assert np.array_equal(sf.render_face(dict(p)), sf.render_face(json.loads(json.dumps(p))))


# --- shapes, ranges, quantisation -----------------------------------------------------------
@pytest.mark.parametrize("size", [128, 64])
def test_item_shape_range_and_8_bit_grid(size):
    x = SynthFaces(2, size=size, cache=False)[1]
    assert x.shape == (3, size, size) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert torch.equal(x * 255, (x * 255).round())  # stored like a PNG
    assert float(x.std()) > 0.05  # not a blank image


def test_64_pixel_face_is_the_128_face_shrunk_by_pil_bicubic():
    big = SynthFaces(1, size=128, cache=False).image(0)
    small = SynthFaces(1, size=64, cache=False).image(0)
    ref = np.asarray(Image.fromarray(big).resize((64, 64), Image.BICUBIC))
    assert np.abs(small.astype(int) - ref.astype(int)).max() <= 1


def test_supersampling_antialiases_edges():
    # a hard-edged renderer would only show the few colours it paints; box-filtered
    # 2×2 supersampling creates in-between values along every edge.
    img = SynthFaces(1, cache=False).image(0).reshape(-1, 3)
    assert len(np.unique(img, axis=0)) > 3000


def test_params_are_json_scalars_within_ranges(many_params):
    for p in many_params[:50]:
        json.dumps(p)
        assert 0 <= p["skin_tone"] <= 1
        assert -12 <= p["rotation"] <= 12
        assert 0.8 <= p["scale"] <= 1.2
        assert all(0 <= c <= 1 for key in ("hair_rgb", "iris_rgb", "lip_rgb", "bg_rgb", "clothes_rgb") for c in p[key])
        assert (p["glasses_shape"] != "none") == p["glasses"]
        assert (p["mouth_opening"] > 0) == p["mouth_open"]
        assert not p["teeth"] or p["mouth_open"]


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="n must be"):
        SynthFaces(-1)
    with pytest.raises(ValueError, match="size"):
        SynthFaces(2, size=4)
    with pytest.raises(IndexError, match="out of range"):
        SynthFaces(2, cache=False)[2]
    with pytest.raises(ValueError, match="seed"):
        sf.sample_params(-1, 0)


# --- attribute rates (parameters only: no pixels) -------------------------------------------
@pytest.mark.parametrize("name", sorted(sf.RATES))
def test_bernoulli_attribute_rates(many_params, name):
    count = sum(bool(p[name]) for p in many_params)
    assert _binomial_ok(count, N_RATES, sf.RATES[name]), (name, count / N_RATES, sf.RATES[name])


@pytest.mark.parametrize(
    "key,table",
    [("hair_style", sf.HAIR_STYLES), ("background", sf.BACKGROUNDS), ("facial_hair", sf.FACIAL_HAIR),
     ("hair_colour", sf.HAIR_COLOURS), ("iris_colour", sf.IRIS_COLOURS), ("presentation", sf.PRESENTATION)],
)
def test_categorical_attribute_rates(many_params, key, table):
    probs = {k: (v[1] if isinstance(v, tuple) else v) for k, v in table.items()}
    total = sum(probs.values())
    for value, prob in probs.items():
        count = sum(p[key] == value for p in many_params)
        assert _binomial_ok(count, N_RATES, prob / total), (key, value, count / N_RATES, prob / total)


def test_conditional_rates_follow_the_presentation(many_params):
    for group in sf.PRESENTATION:
        ps = [p for p in many_params if p["presentation"] == group]
        for value, prob in sf.FACIAL_HAIR_BY[group].items():
            count = sum(p["facial_hair"] == value for p in ps)
            assert _binomial_ok(count, len(ps), prob), (group, value)
        for name, by in sf.RATES_BY.items():
            assert _binomial_ok(sum(p[name] for p in ps), len(ps), by[group]), (group, name)
    assert not any(p["facial_hair"] != "none" for p in many_params if p["presentation"] == "feminine")


def test_glasses_shapes_all_appear(many_params):
    shapes = {p["glasses_shape"] for p in many_params if p["glasses"]}
    assert shapes == set(sf.GLASSES_SHAPES)


def test_skin_tones_span_a_realistic_range(many_params):
    tones = np.array([p["skin_tone"] for p in many_params])
    assert tones.min() < 0.1 and tones.max() > 0.85
    light, dark = sf.skin_colour(0.0), sf.skin_colour(1.0)
    assert light.mean() > 0.8 and dark.mean() < 0.3
    assert np.all(np.diff([sf.skin_colour(t).mean() for t in np.linspace(0, 1, 11)]) < 0)  # monotone


# --- the parameters are visible in the pixels -----------------------------------------------
def _face_px(p):
    """Face-unit (u, v) -> pixel (row, col) at 128 under the pose of ``p``."""
    th = math.radians(p["rotation"])

    def f(u, v):
        x = p["scale"] * (math.cos(th) * u - math.sin(th) * v) + p["shift_x"]
        y = p["scale"] * (math.sin(th) * u + math.cos(th) * v) + p["shift_y"]
        return int((y + 1) * 64), int((x + 1) * 64)

    return f


def _variant(base, **change):
    p = dict(base)
    p.update(change)
    return sf.render_face(p)


def test_glasses_change_only_the_eye_region():
    base = sf.sample_params(0, 1)
    base.update(rotation=0.0, shift_x=0.0, shift_y=0.0, scale=1.0)
    with_g = _variant(base, glasses=True, glasses_shape="rectangular", glasses_thickness=0.02)
    without = _variant(base, glasses=False, glasses_shape="none")
    diff = np.abs(with_g - without).sum(-1)
    r_eye, _ = _face_px(base)(0.0, base["eye_y"])
    band = diff[max(r_eye - 16, 0) : r_eye + 16]
    assert band.sum() > 0.95 * diff.sum() and band.max() > 0.3
    r_mouth, _ = _face_px(base)(0.0, base["mouth_y"])
    assert diff[r_mouth - 3 : r_mouth + 4].max() == 0.0


def test_darker_skin_tone_gives_darker_cheeks():
    base = sf.sample_params(0, 2)
    r, c = _face_px(base)(0.28, base["eye_y"] + 0.2)
    light = _variant(base, skin_tone=0.05)[r - 2 : r + 3, c - 2 : c + 3].mean()
    dark = _variant(base, skin_tone=0.95)[r - 2 : r + 3, c - 2 : c + 3].mean()
    assert light > dark + 0.25


def test_open_mouth_with_teeth_shows_bright_teeth_and_dark_interior():
    base = sf.sample_params(0, 3)
    base.update(facial_hair="none", smile=0.0, exposure=1.0, white_balance=0.0)
    img = _variant(base, mouth_open=True, mouth_opening=0.05, teeth=True)
    closed = _variant(base, mouth_open=False, mouth_opening=0.0, teeth=False)
    r, c = _face_px(base)(0.0, base["mouth_y"])
    win = img[r - 5 : r + 6, c - 6 : c + 7].mean(-1)
    win0 = closed[r - 5 : r + 6, c - 6 : c + 7].mean(-1)
    assert win.max() > 0.75  # teeth
    assert win.min() < 0.2  # mouth interior
    assert win.max() - win.min() > win0.max() - win0.min()


def test_light_direction_brightens_the_lit_side():
    base = sf.sample_params(0, 4)
    base.update(hair_style="bald", glasses=False, facial_hair="none", freckles=False, moles=False, rotation=0.0)
    r, c_left = _face_px(base)(-0.35, base["eye_y"] + 0.15)
    _, c_right = _face_px(base)(0.35, base["eye_y"] + 0.15)
    img = _variant(base, light_x=0.7, light_y=0.0)
    assert img[r, c_right].mean() > img[r, c_left].mean() + 0.05
    img = _variant(base, light_x=-0.7, light_y=0.0)
    assert img[r, c_left].mean() > img[r, c_right].mean() + 0.05


# --- cache -----------------------------------------------------------------------------------
def test_cache_is_keyed_written_atomically_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("SELFSR_CACHE", str(tmp_path))
    ds = SynthFaces(2, size=64, seed=3)
    x = ds[1]
    path = ds.cache_path(1)
    assert path.exists() and str(tmp_path) in str(path)
    for part in (f"v{sf.RENDERER_VERSION}", "seed3", "size64", f"{1:09d}"):
        assert part in str(path)
    assert not [f for f in os.listdir(path.parent) if f.endswith(".tmp")]
    # the cached file is what is served: overwrite it and read it back
    fake = np.full((64, 64, 3), 7, np.uint8)
    np.save(path, fake)
    assert torch.equal(ds[1], torch.full((3, 64, 64), 7 / 255))
    # a damaged file is re-rendered
    path.write_bytes(b"not a numpy file")
    assert torch.equal(ds[1], x)
    assert torch.equal(SynthFaces(2, size=64, seed=3, cache=False)[1], x)


def test_default_cache_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SELFSR_CACHE", str(tmp_path / "c"))
    assert sf.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("SELFSR_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert sf.default_cache_dir() == tmp_path / "x" / "selfsr_edu"


def test_cli_verb_saves_a_face_grid(tmp_path):
    from selfsr_edu.cli import main

    out = tmp_path / "grid.png"
    assert main(["synthfaces", str(out), "--n", "3", "--size", "64", "--cols", "2"]) == 0
    im = np.asarray(Image.open(out).convert("RGB"))
    assert im.shape == (2 * 64 + 2, 2 * 64 + 2, 3)
    assert np.array_equal(im[:64, 66:], SynthFaces(3, size=64).image(1))
