"""SynthFaces parameters: the attribute tables (intended rates), the colours, and
:func:`sample_params`, one face's parameter dictionary per ``(seed, index)``."""
from __future__ import annotations

import math

import numpy as np

#: Bump when the rendered pixels change (here or in ``painting``): it is part of the cache key.
RENDERER_VERSION = 9

# ---------------------------------------------------------------------------
# Intended attribute rates (tests check them on a few hundred faces).
# ---------------------------------------------------------------------------
# Some attributes depend on a feminine/masculine presentation drawn first, so that
# beards rarely meet lipstick; the tables below give the conditional rates and
# the marginal rates (what a test over many faces sees) are derived from them.
PRESENTATION = {"feminine": 0.5, "masculine": 0.5}
HAIR_STYLES_BY = {
    "feminine": {"bald": 0.0, "buzz": 0.03, "short": 0.15, "medium": 0.25, "long": 0.42, "curly": 0.15},
    "masculine": {"bald": 0.08, "buzz": 0.15, "short": 0.45, "medium": 0.15, "long": 0.06, "curly": 0.11},
}
FACIAL_HAIR_BY = {
    "feminine": {"none": 1.0, "stubble": 0.0, "moustache": 0.0, "beard": 0.0},
    "masculine": {"none": 0.4, "stubble": 0.3, "moustache": 0.1, "beard": 0.2},
}
RATES_BY = {  # Bernoulli attributes that depend on the presentation
    "lipstick": {"feminine": 0.4, "masculine": 0.0},
    "eyeliner": {"feminine": 0.35, "masculine": 0.05},
    "earrings": {"feminine": 0.45, "masculine": 0.05},
}


def _marginal(by: dict) -> dict:
    return {k: sum(PRESENTATION[g] * by[g][k] for g in PRESENTATION) for k in next(iter(by.values()))}


HAIR_STYLES = _marginal(HAIR_STYLES_BY)
HAIR_COLOURS = {  # sRGB base colours, probability
    "black": ((0.06, 0.05, 0.05), 0.25),
    "dark_brown": ((0.20, 0.12, 0.07), 0.22),
    "brown": ((0.38, 0.24, 0.13), 0.16),
    "blonde": ((0.78, 0.62, 0.36), 0.14),
    "red": ((0.55, 0.22, 0.10), 0.08),
    "grey": ((0.62, 0.61, 0.60), 0.10),
    "dyed": ((0.30, 0.25, 0.60), 0.05),  # hue re-drawn per face
}
BACKGROUNDS = {"flat": 0.25, "gradient": 0.30, "clutter": 0.45}
GLASSES_SHAPES = ("round", "rectangular", "aviator", "cat_eye")
FACIAL_HAIR = _marginal(FACIAL_HAIR_BY)
IRIS_COLOURS = {
    "brown": ((0.33, 0.19, 0.09), 0.45),
    "dark_brown": ((0.16, 0.09, 0.05), 0.20),
    "hazel": ((0.45, 0.35, 0.15), 0.10),
    "green": ((0.30, 0.42, 0.22), 0.08),
    "blue": ((0.30, 0.45, 0.65), 0.12),
    "grey": ((0.45, 0.50, 0.55), 0.05),
}
RATES = {  # Bernoulli attributes: intended (marginal) probability
    "glasses": 0.30,
    "freckles": 0.20,
    "moles": 0.30,
    "mouth_open": 0.35,
    "fringe": 0.35,
    "stripes": 0.40,  # patterned clothing
    **{k: sum(PRESENTATION[g] * v[g] for g in PRESENTATION) for k, v in RATES_BY.items()},
}

# Skin tone anchors along a light-to-dark line (sRGB, roughly Fitzpatrick I-VI).
_SKIN_ANCHORS = np.array(
    [
        (0.98, 0.86, 0.77),
        (0.94, 0.76, 0.64),
        (0.87, 0.66, 0.52),
        (0.76, 0.54, 0.38),
        (0.55, 0.36, 0.23),
        (0.36, 0.23, 0.15),
    ],
    dtype=np.float64,
)


def skin_colour(tone: float) -> np.ndarray:
    """Piecewise-linear skin colour for ``tone`` in [0, 1] (0 lightest)."""
    x = float(np.clip(tone, 0.0, 1.0)) * (len(_SKIN_ANCHORS) - 1)
    i = min(int(x), len(_SKIN_ANCHORS) - 2)
    w = x - i
    return (1 - w) * _SKIN_ANCHORS[i] + w * _SKIN_ANCHORS[i + 1]


def _choice(rng: np.random.Generator, table: dict) -> str:
    """One key of ``table`` drawn with the table's probabilities (values or ``(…, prob)``)."""
    keys = list(table)
    probs = np.array([table[k][1] if isinstance(table[k], tuple) else table[k] for k in keys], dtype=np.float64)
    return keys[int(rng.choice(len(keys), p=probs / probs.sum()))]


def _scene_colour(rng: np.random.Generator, lo: float, hi: float) -> np.ndarray:
    """A plausible scene or clothing colour: half the time a near-neutral (walls, greys, beiges),
    otherwise a random hue at low to medium saturation; brightness in [lo, hi]."""
    import colorsys

    value = rng.uniform(lo, hi)
    if rng.random() < 0.5:
        tint = rng.uniform(-0.04, 0.04, 3) + np.array([0.03, 0.01, -0.03]) * rng.uniform(0, 1)
        return np.clip(value + tint, 0, 1)
    return np.array(colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(0.15, 0.55), value))


def face_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of face ``index`` of world ``seed`` (PCG64 of a SeedSequence)."""
    if int(seed) < 0 or int(index) < 0:
        raise ValueError(f"seed and index must be >= 0, got seed={seed}, index={index}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([0x5F4CE, int(seed), int(index)])))


def sample_params(seed: int, index: int) -> dict:
    """Draw the parameter dictionary of face ``index`` in world ``seed``.

    Returns plain Python scalars and strings (JSON friendly). Lengths are in
    face units (the image spans [-1, 1] before the pose), angles in degrees.
    The rendering noise (hair strands, skin texture, clutter layout) is drawn
    from ``texture_seed``, so the pixels depend on this dictionary only.
    """
    r = face_rng(seed, index)
    u = r.uniform
    p: dict = {"seed": int(seed), "index": int(index), "texture_seed": int(r.integers(0, 2**31 - 1))}
    # pose
    p["rotation"] = float(np.clip(r.normal(0.0, 5.0), -12, 12))
    p["shift_x"] = float(u(-0.05, 0.05))
    p["shift_y"] = float(u(-0.04, 0.05))
    p["scale"] = float(u(0.9, 1.08))
    # head shape
    p["presentation"] = _choice(r, PRESENTATION)
    masc = p["presentation"] == "masculine"
    p["face_width"] = float(u(0.47, 0.58))
    p["face_height"] = float(u(0.64, 0.76))
    p["jaw_taper"] = float(u(0.1, 0.3) if masc else u(0.2, 0.42))
    p["chin"] = float(u(2.0, 3.0))
    p["neck_width"] = float(u(0.45, 0.6))
    p["face_center_y"] = float(u(0.06, 0.12))
    # skin
    p["skin_tone"] = float(r.beta(1.4, 2.0))
    p["age"] = float(r.beta(1.5, 2.5))  # 0 young .. 1 old: folds and forehead lines
    p["skin_redness"] = float(u(-0.04, 0.06))
    p["skin_texture"] = float(u(0.03, 0.09))
    p["blush"] = float(u(0.0, 0.5))
    # light
    az = u(-math.pi, math.pi)
    el = u(0.15, 0.6)  # how far the light is from frontal
    p["light_x"] = float(math.sin(el) * math.cos(az))
    p["light_y"] = float(math.sin(el) * math.sin(az) - 0.25)  # mostly from above
    p["ambient"] = float(u(0.45, 0.7))
    p["exposure"] = float(u(0.85, 1.12))
    p["white_balance"] = float(u(-0.06, 0.06))  # + warm, - cool
    p["sharpen"] = float(u(0.0, 0.8))  # in-camera unsharp mask amount
    # hair
    g = p["presentation"]
    p["hair_style"] = _choice(r, HAIR_STYLES_BY[g])
    hc = _choice(r, HAIR_COLOURS)
    p["hair_colour"] = hc
    base = np.array(HAIR_COLOURS[hc][0])
    if hc == "dyed":
        h = u(0, 1)
        base = np.array([0.5 + 0.35 * math.cos(2 * math.pi * (h + k / 3)) for k in range(3)]) * 0.7
    base = np.clip(base * u(0.85, 1.15), 0.02, 0.95)
    p["hair_rgb"] = [float(c) for c in base]
    p["hair_volume"] = float(u(0.03, 0.12))
    p["hairline"] = float(u(0.38, 0.5))  # forehead height: eye line to hairline
    p["fringe"] = bool(r.random() < RATES["fringe"])
    p["fringe_depth"] = float(u(0.17, 0.27))  # eye line to fringe edge
    p["fringe_tilt"] = float(u(-0.25, 0.25))
    p["hair_length"] = float(u(0.55, 1.1))
    p["hair_curl"] = float(u(0.0, 1.0))
    # brows
    p["brow_thickness"] = float(u(0.025, 0.045) if masc else u(0.016, 0.035))
    p["brow_arch"] = float(u(0.01, 0.045))
    p["brow_height"] = float(u(0.09, 0.14))  # above the eye centre
    p["brow_tilt"] = float(u(-0.12, 0.12))
    # eyes
    p["eye_y"] = float(u(-0.03, 0.05))
    p["eye_spacing"] = float(u(0.19, 0.24))
    p["eye_width"] = float(u(0.085, 0.115))
    p["eye_open"] = float(u(0.04, 0.065))
    p["eye_tilt"] = float(u(-0.08, 0.12))
    ic = _choice(r, IRIS_COLOURS)
    p["iris_colour"] = ic
    p["iris_rgb"] = [float(c) for c in np.clip(np.array(IRIS_COLOURS[ic][0]) * u(0.8, 1.2), 0, 1)]
    p["iris_radius"] = float(u(0.04, 0.05))
    p["pupil_ratio"] = float(u(0.32, 0.5))
    p["gaze_x"] = float(u(-0.5, 0.5))
    p["gaze_y"] = float(u(-0.3, 0.3))
    p["eyeliner"] = bool(r.random() < RATES_BY["eyeliner"][g])
    # nose
    p["nose_length"] = float(u(0.19, 0.27))
    p["nose_width"] = float(u(0.055, 0.085))
    # mouth
    p["mouth_y"] = float(u(0.42, 0.5))
    p["mouth_width"] = float(u(0.12, 0.18))
    p["smile"] = float(u(-0.01, 0.03))
    p["upper_lip"] = float(u(0.028, 0.048))
    p["lower_lip"] = float(u(0.038, 0.062))
    p["mouth_open"] = bool(r.random() < RATES["mouth_open"])
    p["mouth_opening"] = float(u(0.02, 0.05)) if p["mouth_open"] else 0.0
    p["teeth"] = bool(p["mouth_open"] and r.random() < 0.9)
    p["lipstick"] = bool(r.random() < RATES_BY["lipstick"][g])
    lip = skin_colour(p["skin_tone"]) * np.array([0.88, 0.52, 0.52])
    if p["lipstick"]:
        lip = np.array([(0.65, 0.08, 0.12), (0.80, 0.35, 0.45), (0.45, 0.10, 0.25)][int(r.integers(0, 3))])
    p["lip_rgb"] = [float(c) for c in np.clip(lip, 0, 1)]
    # ears
    p["ear_size"] = float(u(0.11, 0.15))
    p["ear_y"] = float(u(0.0, 0.08))
    # accessories and marks
    p["glasses"] = bool(r.random() < RATES["glasses"])
    p["glasses_shape"] = GLASSES_SHAPES[int(r.integers(0, len(GLASSES_SHAPES)))] if p["glasses"] else "none"
    p["glasses_thickness"] = float(u(0.010, 0.024))
    frame = [(0.05, 0.05, 0.05), (0.30, 0.18, 0.08), (0.78, 0.62, 0.25), (0.75, 0.75, 0.78), (0.55, 0.08, 0.10)]
    p["glasses_rgb"] = [float(c) for c in frame[int(r.integers(0, len(frame)))]]
    p["lens_tint"] = float(u(0.0, 0.35))
    p["facial_hair"] = _choice(r, FACIAL_HAIR_BY[g])
    p["beard_density"] = float(u(0.5, 1.0))
    p["earrings"] = bool(r.random() < RATES_BY["earrings"][g])
    p["earring_kind"] = ("stud", "hoop")[int(r.integers(0, 2))] if p["earrings"] else "none"
    p["earring_rgb"] = [float(c) for c in [(0.85, 0.70, 0.30), (0.80, 0.80, 0.82), (0.95, 0.93, 0.88)][int(r.integers(0, 3))]]
    p["freckles"] = bool(r.random() < RATES["freckles"])
    p["n_freckles"] = int(r.integers(25, 70)) if p["freckles"] else 0
    p["moles"] = bool(r.random() < RATES["moles"])
    p["n_moles"] = int(r.integers(1, 4)) if p["moles"] else 0
    # clothes
    p["clothes_rgb"] = [float(c) for c in _scene_colour(r, 0.08, 0.9)]
    p["stripes"] = bool(r.random() < RATES["stripes"])
    p["neckline"] = ("round", "v", "collar")[int(r.integers(0, 3))]
    # background
    p["background"] = _choice(r, BACKGROUNDS)
    p["bg_rgb"] = [float(c) for c in _scene_colour(r, 0.15, 0.95)]
    p["bg_rgb2"] = [float(c) for c in _scene_colour(r, 0.15, 0.95)]
    p["bg_angle"] = float(u(0, 360))
    p["n_clutter"] = int(r.integers(6, 16)) if p["background"] == "clutter" else 0
    p["bg_blur"] = float(u(0.0, 1.0) ** 2)  # mostly in focus
    p["bg_texture"] = float(u(0.01, 0.1))
    p["bg_detail"] = float(u(0.0, 0.12))  # fine detail
    return p
