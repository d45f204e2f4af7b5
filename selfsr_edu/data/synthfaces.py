"""SynthFaces: procedurally rendered colour faces, the embedded default dataset.

No CelebA, no network: every notebook needs faces it can make itself. This
module is a small piece of computer graphics written with NumPy:

* **Parameters first.** :func:`sample_params` draws one face's parameter
  dictionary (identity, expression, accessories, lighting, pose, background)
  from a random generator seeded by ``(seed, index)``. Sampling costs
  microseconds, so attribute statistics can be checked on thousands of faces
  without rendering a pixel.
* **Then pixels.** :func:`render_face` turns a parameter dictionary into an
  ``H×W×3`` float image in [0, 1]. Every part is an anti-aliased soft mask
  built from a signed distance (ellipses, super-ellipses, bands between two
  curves), painted back to front with the *over* operator
  ``I ← I + α (c − I)``. Skin and hair are shaded by a Lambertian head
  ellipsoid ``shade = a + (1 − a) max(0, n·l)`` with normal ``n`` of the
  ellipsoid and light direction ``l``. The image is drawn at twice the asked
  size and box-filtered down (2×2 supersampling) so edges are anti-aliased.
* **Then a dataset.** :class:`SynthFaces` is a ``torch`` ``Dataset`` of
  ``3×size×size`` tensors, deterministic per ``(seed, index)``, quantised to 8
  bits (as if stored as PNG, like CelebA crops), and cached on disk.

Coordinates. The renderer works in *face units*: ``u`` to the right and ``v``
down, the image spanning ``[-1, 1]`` on both axes before the pose is applied.
The pose (rotation, shift, scale) maps face units to image units,
``X = s R(θ) (u, v) + t``; each pixel is drawn at the inverse image
``(u, v) = R(−θ) (X − t) / s``.

Resolution. ``size >= 128`` is rendered directly at ``2 * size``. Assumed:
smaller sizes (the 64×64 HR faces of the real-world setting) are rendered at
128 and shrunk with PIL-compatible bicubic (antialiased), so a 64×64 face is
*the same identity* as its 128×128 twin, just at lower resolution, exactly as
a 64×64 crop of a photo would be made.

Detail that vanishes at 16×16 (pupils, catch-lights, teeth gaps, glasses
frames, freckles, hair strands) is present at 128×128: it is what ×8
super-resolution must recover (the paper's Fig. 5 discussion).
"""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

#: Bump when the rendered pixels change: it is part of the cache key.
RENDERER_VERSION = 1

# ---------------------------------------------------------------------------
# Intended attribute rates (tests check them on a few hundred faces).
# ---------------------------------------------------------------------------
HAIR_STYLES = {"bald": 0.05, "buzz": 0.10, "short": 0.30, "medium": 0.20, "long": 0.25, "curly": 0.10}
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
FACIAL_HAIR = {"none": 0.62, "stubble": 0.15, "moustache": 0.08, "beard": 0.15}
IRIS_COLOURS = {
    "brown": ((0.33, 0.19, 0.09), 0.45),
    "dark_brown": ((0.16, 0.09, 0.05), 0.20),
    "hazel": ((0.45, 0.35, 0.15), 0.10),
    "green": ((0.30, 0.42, 0.22), 0.08),
    "blue": ((0.30, 0.45, 0.65), 0.12),
    "grey": ((0.45, 0.50, 0.55), 0.05),
}
RATES = {  # Bernoulli attributes: intended probability
    "glasses": 0.30,
    "earrings": 0.25,
    "freckles": 0.20,
    "moles": 0.30,
    "mouth_open": 0.35,
    "fringe": 0.35,
    "lipstick": 0.20,
    "eyeliner": 0.20,
    "stripes": 0.30,  # patterned clothing
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
    keys = list(table)
    probs = np.array([table[k][1] if isinstance(table[k], tuple) else table[k] for k in keys], dtype=np.float64)
    return keys[int(rng.choice(len(keys), p=probs / probs.sum()))]


def face_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of face ``index`` of world ``seed`` (PCG64 of a SeedSequence)."""
    if int(seed) < 0 or int(index) < 0:
        raise ValueError(f"seed and index must be >= 0, got seed={seed}, index={index}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([0x5F4CE, int(seed), int(index)])))


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------
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
    p["scale"] = float(u(0.88, 1.06))
    # head shape
    p["face_width"] = float(u(0.47, 0.58))
    p["face_height"] = float(u(0.64, 0.76))
    p["jaw_taper"] = float(u(0.15, 0.45))
    p["face_center_y"] = float(u(0.06, 0.12))
    # skin
    p["skin_tone"] = float(r.beta(1.6, 1.9))
    p["skin_redness"] = float(u(-0.04, 0.06))
    p["skin_texture"] = float(u(0.02, 0.06))
    p["blush"] = float(u(0.0, 0.5))
    # light
    az = u(-math.pi, math.pi)
    el = u(0.15, 0.6)  # how far the light is from frontal
    p["light_x"] = float(math.sin(el) * math.cos(az))
    p["light_y"] = float(math.sin(el) * math.sin(az) - 0.25)  # mostly from above
    p["ambient"] = float(u(0.35, 0.6))
    p["exposure"] = float(u(0.85, 1.12))
    p["white_balance"] = float(u(-0.06, 0.06))  # + warm, - cool
    # hair
    p["hair_style"] = _choice(r, HAIR_STYLES)
    hc = _choice(r, HAIR_COLOURS)
    p["hair_colour"] = hc
    base = np.array(HAIR_COLOURS[hc][0])
    if hc == "dyed":
        h = u(0, 1)
        base = np.array([0.5 + 0.35 * math.cos(2 * math.pi * (h + k / 3)) for k in range(3)]) * 0.7
    base = np.clip(base * u(0.85, 1.15), 0.02, 0.95)
    p["hair_rgb"] = [float(c) for c in base]
    p["hair_volume"] = float(u(0.03, 0.12))
    p["hairline"] = float(u(-0.58, -0.42))
    p["fringe"] = bool(r.random() < RATES["fringe"])
    p["fringe_depth"] = float(u(-0.35, -0.2))
    p["fringe_tilt"] = float(u(-0.25, 0.25))
    p["hair_length"] = float(u(0.55, 1.1))
    p["hair_curl"] = float(u(0.0, 1.0))
    # brows
    p["brow_thickness"] = float(u(0.018, 0.04))
    p["brow_arch"] = float(u(0.01, 0.045))
    p["brow_height"] = float(u(0.09, 0.14))  # above the eye centre
    p["brow_tilt"] = float(u(-0.12, 0.12))
    # eyes
    p["eye_y"] = float(u(-0.06, 0.02))
    p["eye_spacing"] = float(u(0.19, 0.24))
    p["eye_width"] = float(u(0.085, 0.115))
    p["eye_open"] = float(u(0.03, 0.055))
    p["eye_tilt"] = float(u(-0.08, 0.12))
    ic = _choice(r, IRIS_COLOURS)
    p["iris_colour"] = ic
    p["iris_rgb"] = [float(c) for c in np.clip(np.array(IRIS_COLOURS[ic][0]) * u(0.8, 1.2), 0, 1)]
    p["iris_radius"] = float(u(0.036, 0.046))
    p["pupil_ratio"] = float(u(0.32, 0.5))
    p["gaze_x"] = float(u(-0.5, 0.5))
    p["gaze_y"] = float(u(-0.3, 0.3))
    p["eyeliner"] = bool(r.random() < RATES["eyeliner"])
    # nose
    p["nose_length"] = float(u(0.2, 0.29))
    p["nose_width"] = float(u(0.055, 0.085))
    # mouth
    p["mouth_y"] = float(u(0.42, 0.5))
    p["mouth_width"] = float(u(0.12, 0.18))
    p["smile"] = float(u(-0.01, 0.04))
    p["upper_lip"] = float(u(0.018, 0.035))
    p["lower_lip"] = float(u(0.025, 0.045))
    p["mouth_open"] = bool(r.random() < RATES["mouth_open"])
    p["mouth_opening"] = float(u(0.02, 0.05)) if p["mouth_open"] else 0.0
    p["teeth"] = bool(p["mouth_open"] and r.random() < 0.9)
    p["lipstick"] = bool(r.random() < RATES["lipstick"])
    lip = skin_colour(p["skin_tone"]) * np.array([0.95, 0.62, 0.62])
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
    p["facial_hair"] = _choice(r, FACIAL_HAIR)
    p["earrings"] = bool(r.random() < RATES["earrings"])
    p["earring_kind"] = ("stud", "hoop")[int(r.integers(0, 2))] if p["earrings"] else "none"
    p["earring_rgb"] = [float(c) for c in [(0.85, 0.70, 0.30), (0.80, 0.80, 0.82), (0.95, 0.93, 0.88)][int(r.integers(0, 3))]]
    p["freckles"] = bool(r.random() < RATES["freckles"])
    p["n_freckles"] = int(r.integers(25, 70)) if p["freckles"] else 0
    p["moles"] = bool(r.random() < RATES["moles"])
    p["n_moles"] = int(r.integers(1, 4)) if p["moles"] else 0
    # clothes
    p["clothes_rgb"] = [float(c) for c in r.uniform(0.05, 0.9, 3)]
    p["stripes"] = bool(r.random() < RATES["stripes"])
    p["neckline"] = ("round", "v", "collar")[int(r.integers(0, 3))]
    # background
    p["background"] = _choice(r, BACKGROUNDS)
    p["bg_rgb"] = [float(c) for c in r.uniform(0.1, 0.95, 3)]
    p["bg_rgb2"] = [float(c) for c in r.uniform(0.1, 0.95, 3)]
    p["bg_angle"] = float(u(0, 360))
    p["n_clutter"] = int(r.integers(4, 12)) if p["background"] == "clutter" else 0
    p["bg_blur"] = float(u(0.0, 1.0))
    return p


# ---------------------------------------------------------------------------
# Rasterisation helpers
# ---------------------------------------------------------------------------
def _smooth(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _value_noise(rng: np.random.Generator, shape: tuple, cells: int) -> np.ndarray:
    """Smooth noise in [-1, 1]: a ``cells×cells`` random grid, bilinearly upsampled."""
    h, w = shape
    grid = rng.uniform(-1.0, 1.0, (cells + 1, cells + 1)).astype(np.float32)
    y = np.linspace(0, cells, h, dtype=np.float32)
    x = np.linspace(0, cells, w, dtype=np.float32)
    y0 = np.minimum(y.astype(np.int32), cells - 1)
    x0 = np.minimum(x.astype(np.int32), cells - 1)
    wy = _smooth(y - y0)[:, None]
    wx = _smooth(x - x0)[None, :]
    g00 = grid[y0][:, x0]
    g01 = grid[y0][:, x0 + 1]
    g10 = grid[y0 + 1][:, x0]
    g11 = grid[y0 + 1][:, x0 + 1]
    return (g00 * (1 - wx) + g01 * wx) * (1 - wy) + (g10 * (1 - wx) + g11 * wx) * wy


class _Canvas:
    """A supersampled RGB canvas with face-unit coordinates under a pose."""

    def __init__(self, side: int, rotation_deg: float, shift: tuple, scale: float):
        self.side = side
        self.img = np.zeros((side, side, 3), np.float32)
        c = (np.arange(side, dtype=np.float32) + 0.5) / side * 2.0 - 1.0
        self.X, self.Y = np.meshgrid(c, c)  # image units
        th = math.radians(rotation_deg)
        self.cos, self.sin = math.cos(th), math.sin(th)
        self.t = shift
        self.s = scale
        xs, ys = (self.X - shift[0]) / scale, (self.Y - shift[1]) / scale
        self.U = (self.cos * xs + self.sin * ys).astype(np.float32)
        self.V = (-self.sin * xs + self.cos * ys).astype(np.float32)
        self.ppu = scale * side / 2.0  # pixels per face unit

    def box(self, cx: float, cy: float, r: float):
        """Pixel slices bounding a face-unit disc; ``None`` when off canvas."""
        X = self.s * (self.cos * cx - self.sin * cy) + self.t[0]
        Y = self.s * (self.sin * cx + self.cos * cy) + self.t[1]
        px, py = (X + 1) / 2 * self.side, (Y + 1) / 2 * self.side
        rp = r * self.ppu + 2
        x0, x1 = max(int(px - rp), 0), min(int(px + rp) + 1, self.side)
        y0, y1 = max(int(py - rp), 0), min(int(py + rp) + 1, self.side)
        if x0 >= x1 or y0 >= y1:
            return None
        return (slice(y0, y1), slice(x0, x1))

    def cov(self, d: np.ndarray, soft: float = 0.0) -> np.ndarray:
        """Coverage from a signed distance ``d`` in face units (positive inside).

        A 1-pixel linear ramp gives anti-aliased hard edges; ``soft`` (face
        units) widens it into a smooth fall-off for shadows and blushes.
        """
        width = 1.0 + soft * self.ppu
        t = 0.5 + d * (self.ppu / width)
        return _smooth(t) if soft > 0 else np.clip(t, 0.0, 1.0)

    def local(self, sl, cx, cy, angle_deg=0.0):
        u = self.U[sl] - cx
        v = self.V[sl] - cy
        if angle_deg:
            a = math.radians(angle_deg)
            ca, sa = math.cos(a), math.sin(a)
            u, v = ca * u + sa * v, -sa * u + ca * v
        return u, v

    def ellipse(self, cx, cy, rx, ry, angle=0.0, soft=0.0):
        """(slices, coverage) of an ellipse; approximate signed distance along the ray."""
        sl = self.box(cx, cy, max(rx, ry) + soft)
        if sl is None:
            return None, None
        u, v = self.local(sl, cx, cy, angle)
        f = (u / rx) ** 2 + (v / ry) ** 2
        m = min(rx, ry)
        k = np.sqrt((u * u + v * v + 1e-12) / (f + 1e-12 / (m * m)))
        return sl, self.cov((1.0 - np.sqrt(f)) * k, soft)

    def superellipse(self, cx, cy, rx, ry, n=4.0, angle=0.0):
        """(slices, signed distance) of ``|u/rx|^n + |v/ry|^n = 1`` (approximate)."""
        sl = self.box(cx, cy, max(rx, ry) * 1.2)
        if sl is None:
            return None, None
        u, v = self.local(sl, cx, cy, angle)
        r = (np.abs(u / rx) ** n + np.abs(v / ry) ** n) ** (1.0 / n)
        return sl, (1.0 - r) * min(rx, ry)

    def paint(self, sl, alpha, colour):
        if sl is None:
            return
        reg = self.img[sl]
        colour = np.asarray(colour, np.float32)
        reg += alpha[..., None] * (colour - reg)

    def dots(self, xs, ys, radii, colours, alphas):
        """Many small discs at once (freckles, moles): vectorised over dots."""
        for x, y, rr, c, a in zip(xs, ys, radii, colours, alphas):
            sl, cv = self.ellipse(x, y, rr, rr)
            if sl is not None:
                self.paint(sl, cv * a, c)


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------
def render_face(params: dict, size: int = 128) -> np.ndarray:
    """Render one face: ``size×size×3`` float32 in [0, 1] from :func:`sample_params`.

    ``size >= 128`` renders at ``2*size`` and box-filters 2×2 (anti-aliasing).
    Assumed: smaller sizes render at 128 and shrink with PIL-compatible bicubic,
    so they are the same identity at lower resolution.
    """
    size = int(size)
    if size < 8:
        raise ValueError(f"size must be >= 8, got {size}")
    if size < 128:
        from PIL import Image

        big = render_face(params, 128)
        im = Image.fromarray(np.round(big * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
        return np.asarray(im, dtype=np.float32) / 255.0
    ss = 2
    side = size * ss
    p = params
    rng = np.random.Generator(np.random.PCG64(int(p["texture_seed"])))
    cv = _Canvas(side, p["rotation"], (p["shift_x"], p["shift_y"]), p["scale"])
    _background(cv, p, rng)

    skin = skin_colour(p["skin_tone"]) * np.array([1 + p["skin_redness"], 1.0, 1 - p["skin_redness"]])
    skin = np.clip(skin, 0, 1).astype(np.float32)
    fw, fh, fcy = p["face_width"], p["face_height"], p["face_center_y"]
    # Lambertian shading of a head ellipsoid (face units).
    L = np.array([p["light_x"], p["light_y"], 0.0])
    L[2] = math.sqrt(max(1e-6, 1 - L[0] ** 2 - L[1] ** 2))
    nx = cv.U / (fw * 1.15)
    ny = (cv.V - fcy) / (fh * 1.15)
    nz = np.sqrt(np.clip(1 - nx * nx - ny * ny, 0.0, 1.0))
    lam = np.clip(nx * L[0] + ny * L[1] + nz * L[2], 0.0, 1.0)
    amb = p["ambient"]
    shade = (amb + (1 - amb) * lam).astype(np.float32)
    cv.shade = shade
    cv.light = L
    # skin albedo field with low/mid-frequency blotches and fine pores
    tex = p["skin_texture"]
    sk_noise = 1.0 + tex * (0.6 * _value_noise(rng, (side, side), 6) + 0.4 * _value_noise(rng, (side, side), 40))
    skin_field = skin[None, None, :] * sk_noise[..., None]
    cv.skin_field = skin_field

    hair = np.array(p["hair_rgb"], np.float32)
    hair_tex = _hair_texture(cv, p, rng)

    _back_hair(cv, p, hair, hair_tex)
    _clothes(cv, p, skin_field, rng)
    _ears(cv, p, skin_field, shade, early=True)
    _face(cv, p, skin_field, shade)
    _freckles(cv, p, skin, rng)
    _nose(cv, p, skin)
    _facial_hair(cv, p, hair, hair_tex, rng)
    _mouth(cv, p, skin)
    _eyes(cv, p, skin)
    _brows(cv, p, hair, rng)
    _front_hair(cv, p, hair, hair_tex)
    _ears(cv, p, skin_field, shade, early=False)
    _glasses(cv, p)

    img = cv.img
    # global camera response: exposure, white balance, gentle vignette
    wb = p["white_balance"]
    img = img * np.float32(p["exposure"]) * np.array([1 + wb, 1.0, 1 - wb], np.float32)
    vig = 1.0 - 0.12 * (cv.X**2 + cv.Y**2)
    img = img * vig[..., None]
    img = img.reshape(size, ss, size, ss, 3).mean(axis=(1, 3))
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def _hair_texture(cv: _Canvas, p: dict, rng) -> np.ndarray:
    """Per-pixel hair brightness: strands radiating from the crown + clumps + sheen."""
    crown_y = p["face_center_y"] - p["face_height"] - 0.15
    du, dv = cv.U - p["fringe_tilt"] * 0.3, cv.V - crown_y
    phi = np.arctan2(du, dv)  # angle around the crown
    n = 900
    strands = rng.uniform(-1, 1, n + 1).astype(np.float32)
    strands = 0.6 * strands + 0.4 * np.roll(strands, 1)
    fine = np.interp(phi * (n / (2 * math.pi)) % n, np.arange(n + 1), strands)
    rho = np.sqrt(du * du + dv * dv)
    coarse = _value_noise(rng, cv.U.shape, 10)
    curl = p["hair_curl"] if p["hair_style"] == "curly" else p["hair_curl"] * 0.3
    if p["hair_style"] == "curly":
        bumps = _value_noise(rng, cv.U.shape, 36)
        t = 0.72 + 0.2 * bumps + 0.1 * fine * (1 - curl) + 0.08 * coarse
    elif p["hair_style"] == "buzz":
        t = 0.85 + 0.1 * _value_noise(rng, cv.U.shape, 60) + 0.05 * coarse
    else:
        wav = np.sin(rho * (20 + 40 * curl) + coarse * 3) * 0.08 * curl
        t = 0.72 + 0.22 * fine + 0.08 * coarse + wav
    sheen = np.exp(-(((rho - 0.35 - 0.1 * coarse) / 0.08) ** 2)) * 0.35
    return (t + sheen).astype(np.float32)


def _background(cv: _Canvas, p: dict, rng) -> None:
    c1 = np.array(p["bg_rgb"], np.float32)
    c2 = np.array(p["bg_rgb2"], np.float32)
    kind = p["background"]
    if kind == "flat":
        cv.img[:] = c1
    else:
        a = math.radians(p["bg_angle"])
        t = (cv.X * math.cos(a) + cv.Y * math.sin(a)) * 0.5 + 0.5
        cv.img[:] = c1 + t[..., None] * (c2 - c1)
    if kind == "clutter":
        for _ in range(p["n_clutter"]):
            c = rng.uniform(0.05, 0.95, 3).astype(np.float32)
            cx, cy = rng.uniform(-1, 1, 2)
            w, h = rng.uniform(0.05, 0.5, 2)
            soft = 1.0 + p["bg_blur"] * 6.0
            if rng.random() < 0.6:  # box
                d = np.minimum(w - np.abs(cv.X - cx), h - np.abs(cv.Y - cy))
            else:  # disc
                d = min(w, h) - np.sqrt((cv.X - cx) ** 2 + (cv.Y - cy) ** 2)
            a = np.clip(0.5 + d * cv.side / 2 / soft, 0, 1) * rng.uniform(0.6, 1.0)
            cv.img += a[..., None] * (c - cv.img)
            if rng.random() < 0.3:  # thin lines (shelves, window frames)
                yl = rng.uniform(-1, 1)
                d = 0.006 + 0.01 * rng.random() - np.abs(cv.Y - yl)
                a = np.clip(0.5 + d * cv.side / 2 / soft, 0, 1)
                cv.img += a[..., None] * (c * 0.5 - cv.img)
    cv.img *= (1.0 + 0.04 * _value_noise(rng, cv.U.shape, 5))[..., None]


def _back_hair(cv, p, hair, tex):
    style = p["hair_style"]
    if style in ("bald", "buzz", "short"):
        return
    fw, fh, fcy = p["face_width"], p["face_height"], p["face_center_y"]
    vol = p["hair_volume"]
    if style == "curly":
        cx, cy = 0.0, fcy - 0.1
        rx, ry = fw + 0.18 + vol, fh + 0.08 + vol
        u, v = cv.U - cx, cv.V - cy
        ang = np.arctan2(v, u)
        k = p["texture_seed"] % 7
        rr = 1 + 0.04 * np.sin(9 * ang + k) + 0.03 * np.sin(17 * ang + 2 * k)
        d = (rr - np.sqrt((u / rx) ** 2 + (v / ry) ** 2)) * min(rx, ry)
        a = cv.cov(d)
    else:
        bottom = fcy + (0.35 if style == "medium" else p["hair_length"])
        w = fw + vol + 0.05
        u, v = cv.U, cv.V
        wavy = bottom + 0.03 * np.sin(u * 25 + p["texture_seed"] % 5) - 0.08 * (u / w) ** 2
        d_side = w * (1 + 0.15 * np.clip((v - fcy) / 0.6, 0, 1)) - np.abs(u)
        d = np.minimum(d_side, wavy - v)
        d = np.minimum(d, v - (fcy - fh - vol))  # not above the head
        top = (1 - np.sqrt((u / (fw + vol)) ** 2 + ((v - fcy + 0.05) / (fh + vol)) ** 2)) * fw
        a = np.maximum(cv.cov(np.minimum(d, np.where(v < fcy, top, d))), cv.cov(top))
    col = hair[None, None, :] * (tex * cv.shade * 0.8)[..., None]
    cv.paint((slice(None), slice(None)), a, col)


def _clothes(cv, p, skin_field, rng):
    fw, fh, fcy = p["face_width"], p["face_height"], p["face_center_y"]
    # neck
    sl = cv.box(0.0, fcy + fh + 0.25, 0.55)
    if sl is not None:
        u, v = cv.local(sl, 0.0, 0.0)
        nw = fw * 0.52
        d = np.minimum(nw - np.abs(u), v - fcy)
        a = cv.cov(d)
        sh = 0.62 + 0.2 * np.clip((v - (fcy + fh - 0.1)) / 0.3, 0, 1)  # shadow under the jaw
        sh = sh * (1 - 0.25 * (np.abs(u) / nw) ** 2)
        cv.paint(sl, a, skin_field[sl] * sh[..., None])
    # shoulders and clothes
    c = np.array(p["clothes_rgb"], np.float32)
    top = fcy + fh + 0.12
    u, v = cv.U, cv.V
    d = (1 - np.sqrt((u / 1.25) ** 2 + ((v - top - 0.55) / 0.55) ** 2)) * 0.55
    if p["neckline"] == "v":
        neck = (v - top) - (0.35 - 1.6 * np.abs(u))
        d = np.minimum(d, np.maximum(neck, np.abs(u) - 0.28))
    elif p["neckline"] == "round":
        neck = np.sqrt((u / 0.3) ** 2 + ((v - top + 0.02) / 0.16) ** 2) - 1
        d = np.minimum(d, neck * 0.15)
    a = cv.cov(d)
    pat = 1.0 - 0.12 * np.clip(u / 1.2, -1, 1) * cv.light[0]
    if p["stripes"]:
        f = 25 + (p["texture_seed"] % 20)
        pat = pat * (1 - 0.35 * (np.sin((v * f + u * 3) * 2) > 0.3))
    fold = 1 + 0.08 * _value_noise(rng, u.shape, 8)
    col = c[None, None, :] * (pat * fold)[..., None]
    cv.paint((slice(None), slice(None)), a, col)
    if p["neckline"] == "collar":
        for sgn in (-1, 1):
            sl, cov = cv.ellipse(sgn * 0.16, top + 0.05, 0.16, 0.07, angle=sgn * 25)
            if sl is not None:
                cv.paint(sl, cov, np.clip(c * 1.25 + 0.1, 0, 1))


def _ears(cv, p, skin_field, shade, early):
    fw, fcy = p["face_width"], p["face_center_y"]
    es = p["ear_size"]
    ey = p["eye_y"] + p["ear_y"] + 0.05
    for sgn in (-1, 1):
        cx = sgn * (fw - 0.015)
        if early:
            sl, a = cv.ellipse(cx + sgn * 0.03, ey, es * 0.55, es, angle=sgn * 8)
            if sl is None:
                continue
            cv.paint(sl, a, skin_field[sl] * (shade[sl] * 0.92)[..., None])
            sl2, a2 = cv.ellipse(cx + sgn * 0.04, ey - 0.01, es * 0.3, es * 0.65, angle=sgn * 8, soft=0.01)
            if sl2 is not None:
                cv.paint(sl2, a2 * 0.45, skin_field[sl2] * 0.45)
        elif p["earrings"]:
            ex, eyy = cx + sgn * 0.04, ey + es * 0.95
            col = np.array(p["earring_rgb"], np.float32)
            if p["earring_kind"] == "stud":
                sl, a = cv.ellipse(ex, eyy, 0.018, 0.018)
                cv.paint(sl, a, col)
                sl, a = cv.ellipse(ex - 0.005, eyy - 0.006, 0.006, 0.006)
                cv.paint(sl, a, np.ones(3) * 0.98)
            else:
                sl, a = cv.ellipse(ex, eyy + 0.05, 0.045, 0.055)
                if sl is not None:
                    sl2 = sl
                    u, v = cv.local(sl2, ex, eyy + 0.05)
                    rr = np.sqrt((u / 0.045) ** 2 + (v / 0.055) ** 2)
                    ring = cv.cov(0.007 - np.abs(rr - 1) * 0.05)
                    cv.paint(sl2, ring, col * (0.8 + 0.4 * (v < 0))[..., None])


def _face(cv, p, skin_field, shade):
    fw, fh, fcy = p["face_width"], p["face_height"], p["face_center_y"]
    sl = cv.box(0.0, fcy, max(fw, fh) + 0.02)
    u, v = cv.local(sl, 0.0, fcy)
    vv = np.clip(v / fh, 0, 1)
    rx = fw * (1 - p["jaw_taper"] * vv**2)
    f = np.sqrt((u / rx) ** 2 + (v / fh) ** 2)
    a = cv.cov((1 - f) * np.minimum(rx, fh))
    s = shade[sl]
    # cheek bone shadow and blush
    col = skin_field[sl] * s[..., None]
    L = cv.light
    for sgn in (-1, 1):
        d2 = ((u - sgn * fw * 0.55) / 0.14) ** 2 + ((v - (p["eye_y"] - fcy + 0.22)) / 0.09) ** 2
        bl = np.exp(-d2) * p["blush"] * 0.18
        col = col * (1 - bl[..., None] * np.array([0.0, 0.5, 0.45], np.float32))
        d3 = ((u - sgn * fw * 0.72) / 0.1) ** 2 + ((v - (p["eye_y"] - fcy + 0.3)) / 0.18) ** 2
        col = col * (1 - 0.12 * np.exp(-d3))[..., None]
    # forehead specular highlight towards the light
    hx, hy = L[0] * fw * 0.5, -fh * 0.55 + L[1] * 0.2
    spec = np.exp(-(((u - hx) / 0.16) ** 2 + ((v - hy) / 0.1) ** 2)) * 0.1
    col = col + spec[..., None]
    # chin shadow at the bottom edge
    col = col * (1 - 0.18 * _smooth((f - 0.75) / 0.25) * (v > 0))[..., None]
    cv.paint(sl, a, col)


def _freckles(cv, p, skin, rng):
    if p["freckles"]:
        n = p["n_freckles"]
        xs = rng.normal(0, 0.16, n)
        ys = p["eye_y"] + 0.12 + np.abs(rng.normal(0, 0.07, n))
        rr = rng.uniform(0.006, 0.011, n)
        col = skin * np.array([0.72, 0.55, 0.45])
        cv.dots(xs, ys, rr, [col] * n, rng.uniform(0.35, 0.7, n))
    if p["moles"]:
        n = p["n_moles"]
        xs = rng.uniform(-0.35, 0.35, n)
        ys = rng.uniform(-0.3, 0.6, n)
        rr = rng.uniform(0.009, 0.016, n)
        col = np.array([0.22, 0.13, 0.09])
        cv.dots(xs, ys, rr, [col] * n, rng.uniform(0.7, 0.95, n))


def _nose(cv, p, skin):
    ey, nl, nw = p["eye_y"], p["nose_length"], p["nose_width"]
    L = cv.light
    tip = ey + nl
    side = -1.0 if L[0] >= 0 else 1.0  # shadow on the side away from light
    dark = np.array([0.55, 0.48, 0.46], np.float32)
    # bridge side-shadow
    sl, a = cv.ellipse(side * 0.04, ey + nl * 0.55, 0.025, nl * 0.5, soft=0.03)
    if sl is not None:
        cv.paint(sl, a * 0.35 * (0.5 + abs(L[0])), cv.img[sl] * dark)
    # alae (wings)
    for sgn in (-1, 1):
        sl, a = cv.ellipse(sgn * nw * 0.8, tip - 0.005, nw * 0.45, 0.035, soft=0.02)
        if sl is not None:
            cv.paint(sl, a * 0.25, cv.img[sl] * dark)
    # shadow under the nose
    sl, a = cv.ellipse(-L[0] * 0.02, tip + 0.035, nw * 1.1, 0.022, soft=0.02)
    if sl is not None:
        cv.paint(sl, a * 0.35, cv.img[sl] * dark)
    # nostrils
    for sgn in (-1, 1):
        sl, a = cv.ellipse(sgn * nw * 0.45, tip + 0.02, 0.022, 0.011, angle=-sgn * 20)
        cv.paint(sl, a * 0.85, skin * 0.25)
    # tip highlight
    sl, a = cv.ellipse(L[0] * 0.015, tip - 0.02 + L[1] * 0.01, 0.03, 0.025, soft=0.02)
    if sl is not None:
        cv.paint(sl, a * 0.35, np.clip(cv.img[sl] * 1.25 + 0.05, 0, 1))


def _facial_hair(cv, p, hair, tex, rng):
    fh_kind = p["facial_hair"]
    if fh_kind == "none":
        return
    fw, fh, fcy = p["face_width"], p["face_height"], p["face_center_y"]
    sl = cv.box(0.0, fcy + fh * 0.5, fh * 0.7)
    u, v = cv.local(sl, 0.0, fcy)
    vv = np.clip(v / fh, 0, 1)
    rx = fw * (1 - p["jaw_taper"] * vv**2)
    f = np.sqrt((u / rx) ** 2 + (v / fh) ** 2)
    inside = cv.cov((1 - f) * np.minimum(rx, fh) + 0.01)
    my = p["mouth_y"] - fcy
    ny = p["eye_y"] + p["nose_length"] - fcy + 0.05
    col = hair[None, None, :] * (tex[sl] * cv.shade[sl] * 0.8)[..., None]
    if fh_kind in ("stubble", "beard"):
        region = inside * _smooth((v - ny) / 0.05) * _smooth((np.abs(u) - (fw - 0.15) + (v - ny)) / 0.05 + 1)
        if fh_kind == "stubble":
            speck = (rng.random(u.shape) < 0.45).astype(np.float32)
            cv.paint(sl, region * speck * 0.35, col)
        else:
            edge = 0.02 * _value_noise(rng, u.shape, 30)
            region = inside * cv.cov(v - ny + edge)
            cv.paint(sl, region * 0.95, col)
    if fh_kind in ("moustache", "beard"):
        sl2, a = cv.ellipse(0.0, p["mouth_y"] - 0.045, p["mouth_width"] * 1.05, 0.035)
        if sl2 is not None:
            cv.paint(sl2, a * 0.95, hair * 0.85 * cv.shade[sl2][..., None])


def _mouth(cv, p, skin):
    cx, cy, mw = 0.0, p["mouth_y"], p["mouth_width"]
    sl = cv.box(cx, cy, mw + 0.1)
    if sl is None:
        return
    u, v = cv.local(sl, cx, cy)
    x = np.clip(u / mw, -1, 1)
    inside_w = 1 - x * x
    line = -p["smile"] * x * x * 2.0 + p["smile"] * 0.5  # corners up when smiling
    op = p["mouth_opening"]
    top_open = line - op * 0.45 * inside_w
    bot_open = line + op * inside_w
    bow = 0.008 * np.exp(-((u / 0.03) ** 2))
    top = top_open - p["upper_lip"] * inside_w**0.6 + bow
    bot = bot_open + p["lower_lip"] * inside_w**0.5
    wmask = cv.cov(mw - np.abs(u))
    lip = np.array(p["lip_rgb"], np.float32)
    # shadow below the lower lip
    sl2, a2 = cv.ellipse(cx, cy + p["lower_lip"] + op + 0.03, mw * 0.6, 0.025, soft=0.02)
    if sl2 is not None:
        cv.paint(sl2, a2 * 0.25, cv.img[sl2] * 0.6)
    lips = cv.cov(np.minimum(v - top, bot - v)) * wmask
    s = cv.shade[sl][..., None]
    hl = np.exp(-(((u - 0.02) / (mw * 0.4)) ** 2 + ((v - (bot_open + p["lower_lip"] * 0.45)) / 0.012) ** 2)) * 0.25
    cv.paint(sl, lips, lip * s + hl[..., None])
    if op > 0:
        opening = cv.cov(np.minimum(v - top_open, bot_open - v)) * cv.cov(mw * 0.92 - np.abs(u))
        interior = np.array([0.22, 0.05, 0.06], np.float32)
        cv.paint(sl, opening, interior)
        if p["teeth"]:
            th = op * 0.55
            teeth = cv.cov(np.minimum(v - top_open, top_open + th * inside_w - v)) * cv.cov(mw * 0.7 - np.abs(u))
            gaps = 1 - 0.45 * (np.abs(((u / 0.026) % 1.0) - 0.5) > 0.42)
            tcol = np.array([0.93, 0.9, 0.82], np.float32)
            cv.paint(sl, teeth * opening, tcol * (gaps * (0.8 + 0.2 * inside_w))[..., None])
    else:
        # the dark line between the lips
        d = 0.0045 - np.abs(v - line)
        cv.paint(sl, cv.cov(d) * wmask * 0.8, lip * 0.3)
    # mouth corners
    for sgn in (-1, 1):
        sl3, a3 = cv.ellipse(sgn * mw, cy + line.mean() * 0 - p["smile"] * 1.5, 0.012, 0.008)
        if sl3 is not None:
            cv.paint(sl3, a3 * 0.5, skin * 0.4)


def _eyes(cv, p, skin):
    ey, sp, ew, eo = p["eye_y"], p["eye_spacing"], p["eye_width"], p["eye_open"]
    L = cv.light
    for sgn in (-1, 1):
        cx = sgn * sp
        sl = cv.box(cx, ey, ew + 0.06)
        if sl is None:
            continue
        u, v = cv.local(sl, cx, ey, angle_deg=-sgn * p["eye_tilt"] * 30)
        x = np.clip(u / ew, -1, 1)
        w = 1 - x * x
        # asymmetric almond: upper lid peaks towards the nose
        peak = 1 + 0.15 * sgn * -x
        upper = -eo * w * peak
        lower = eo * 0.65 * w**0.9
        inside = cv.cov(np.minimum(v - upper, lower - v)) * cv.cov(ew - np.abs(u))
        # eye socket shadow and under-eye darkness
        sls, a = cv.ellipse(cx, ey - 0.01, ew * 1.35, eo * 2.4, soft=0.04)
        if sls is not None:
            cv.paint(sls, a * 0.22, cv.img[sls] * np.array([0.6, 0.5, 0.5], np.float32))
        sclera = np.array([0.93, 0.91, 0.88], np.float32) * (0.75 + 0.25 * _smooth((v - upper) / (eo * 0.8)))[..., None]
        sclera = sclera * (0.9 + 0.1 * w)[..., None]
        cv.paint(sl, inside, sclera)
        # iris, with a dark limbal ring and radial streaks
        ir = p["iris_radius"]
        ix, iy = p["gaze_x"] * ew * 0.45, p["gaze_y"] * eo * 0.5
        du, dv = u - ix, v - iy
        rr = np.sqrt(du * du + dv * dv)
        ang = np.arctan2(dv, du)
        iris_c = np.array(p["iris_rgb"], np.float32)
        streak = 0.85 + 0.15 * np.sin(ang * 23 + sgn) * np.sin(ang * 7)
        ring = 1 - 0.55 * _smooth((rr / ir - 0.75) / 0.25)
        icol = iris_c[None, None, :] * (streak * ring * (0.8 + 0.4 * rr / ir))[..., None]
        cv.paint(sl, inside * cv.cov(ir - rr), icol)
        cv.paint(sl, inside * cv.cov(ir * p["pupil_ratio"] - rr), np.array([0.02, 0.02, 0.025], np.float32))
        # catch-light (reflection of the light source)
        hx, hy = ix + L[0] * ir * 0.45 + 0.01, iy + L[1] * ir * 0.45 - 0.01
        hr = np.sqrt((u - hx) ** 2 + (v - hy) ** 2)
        cv.paint(sl, inside * cv.cov(ir * 0.24 - hr), np.array([1.0, 1.0, 1.0], np.float32))
        # shadow of the upper lid on the eyeball
        cv.paint(sl, inside * 0.35 * _smooth(1 - (v - upper) / (eo * 0.6)), np.array([0.2, 0.15, 0.15], np.float32))
        # upper lid line with lashes (thicker outwards), lower lid, crease
        lash = 0.006 + 0.006 * np.clip(sgn * x, 0, 1) + (0.006 if p["eyeliner"] else 0.0)
        d_up = lash - np.abs(v - upper + lash * 0.3)
        cv.paint(sl, cv.cov(d_up) * cv.cov(ew * 1.03 - np.abs(u)), np.array([0.05, 0.04, 0.04], np.float32))
        d_lo = 0.0035 - np.abs(v - lower - 0.002)
        cv.paint(sl, cv.cov(d_lo) * 0.35 * cv.cov(ew - np.abs(u)), skin * 0.45)
        crease = upper - eo * 0.9 - 0.01
        d_cr = 0.004 - np.abs(v - crease)
        cv.paint(sl, cv.cov(d_cr) * 0.3 * cv.cov(ew * 0.95 - np.abs(u)), skin * 0.5)


def _brows(cv, p, hair, rng):
    ey, sp, ew = p["eye_y"], p["eye_spacing"], p["eye_width"]
    col = np.clip(hair * 0.75, 0, 1) if p["hair_colour"] not in ("blonde", "grey") else np.clip(hair * 0.6, 0, 1)
    for sgn in (-1, 1):
        cx, cy = sgn * sp, ey - p["brow_height"]
        hw = ew * 1.25
        sl = cv.box(cx, cy, hw + 0.05)
        if sl is None:
            continue
        u, v = cv.local(sl, cx, cy)
        x = np.clip(u / hw, -1, 1)
        xs = sgn * x  # +1 at the outer end
        centre = -p["brow_arch"] * (1 - (xs - 0.2) ** 2) - p["brow_tilt"] * xs * 0.05
        th = p["brow_thickness"] * (1.0 - 0.55 * np.clip(xs, 0, 1)) * (0.8 + 0.2 * (1 - np.abs(x)))
        a = cv.cov(np.minimum(th / 2 - np.abs(v - centre), hw - np.abs(u)))
        hairs = 0.75 + 0.25 * np.sin((u * 160 + v * 60 * sgn)) * np.sin(u * 37 + 1.3)
        cv.paint(sl, a * hairs * 0.9, col * cv.shade[sl][..., None])


def _front_hair(cv, p, hair, tex):
    style = p["hair_style"]
    if style == "bald":
        return
    fw, fh, fcy = p["face_width"], p["face_height"], p["face_center_y"]
    vol = p["hair_volume"] if style != "buzz" else 0.012
    sl = cv.box(0.0, fcy - 0.1, max(fw, fh) + vol + 0.2)
    u, v = cv.local(sl, 0.0, 0.0)
    rx, ry = fw + vol, fh + vol
    outer = (1 - np.sqrt((u / rx) ** 2 + ((v - fcy + 0.04) / ry) ** 2)) * rx
    if style == "curly":
        ang = np.arctan2(v - fcy, u)
        outer = outer + 0.02 * np.sin(ang * 13 + p["texture_seed"] % 11)
    ear_top = p["eye_y"] - 0.02
    hl0 = p["hairline"]
    if p["fringe"] and style not in ("buzz",):
        hl0 = p["fringe_depth"]
        wave = 0.025 * np.abs(np.sin(u * 18 + p["texture_seed"] % 3))
        hl = hl0 + p["fringe_tilt"] * u + wave
    else:
        hl = hl0 + 0.02 * np.sin(u * 9)
    hl = np.maximum(hl, hl0 + (ear_top - hl0) * (u / fw) ** 4)
    a = cv.cov(np.minimum(outer, hl - v))
    if style == "buzz":
        a = a * 0.8
    col = hair[None, None, :] * (tex[sl] * cv.shade[sl])[..., None]
    # fringe edge shadow on the forehead
    sh = cv.cov(np.minimum(outer, hl + 0.03 - v), soft=0.03) * 0.25 * (1 - a)
    cv.paint(sl, sh, cv.img[sl] * 0.55)
    cv.paint(sl, a, col)


def _glasses(cv, p):
    if not p["glasses"]:
        return
    shape = p["glasses_shape"]
    ey, sp = p["eye_y"], p["eye_spacing"]
    t = p["glasses_thickness"]
    col = np.array(p["glasses_rgb"], np.float32)
    lw = p["eye_width"] * 1.35
    lh = {"round": lw, "rectangular": lw * 0.62, "aviator": lw * 0.85, "cat_eye": lw * 0.68}[shape]
    for sgn in (-1, 1):
        cx, cy = sgn * sp, ey + 0.01
        if shape == "round":
            sl, d = cv.superellipse(cx, cy, lw * 0.9, lh * 0.9, n=2.0)
        elif shape == "rectangular":
            sl, d = cv.superellipse(cx, cy, lw, lh, n=5.0)
        elif shape == "aviator":
            sl, d = cv.superellipse(cx, cy, lw, lh, n=2.2)
            if sl is not None:
                u, v = cv.local(sl, cx, cy)
                d = d - 0.25 * np.clip(-v, 0, None) * np.clip(sgn * u, 0, None) * 0  # keep ellipse; droop below
                d = d + 0.2 * np.clip(v, 0, None) * (1 - np.clip(-sgn * u / lw + 0.3, 0, 1)) * 0.0
        else:  # cat-eye: outer-top corner raised
            sl, d = cv.superellipse(cx, cy, lw, lh, n=2.6, angle=-sgn * 10)
            if sl is not None:
                u, v = cv.local(sl, cx, cy)
                d = d + 0.6 * np.clip(sgn * u / lw, 0, 1) ** 3 * np.clip(-v / lh, 0, 1) * lh
        if sl is None:
            continue
        u, v = cv.local(sl, cx, cy)
        lens = cv.cov(d)
        tint = p["lens_tint"]
        cv.paint(sl, lens * tint * 0.5, col * 0.3)
        glare = np.exp(-(((u + v * 0.8) / 0.015) ** 2)) * lens * 0.35
        cv.paint(sl, glare, np.ones(3, np.float32))
        ring = cv.cov(t / 2 - np.abs(d))
        shade = 0.75 + 0.5 * np.clip(-v / lh, 0, 1)
        cv.paint(sl, ring, col * shade[..., None])
        # temple arm towards the ear
        sl2 = cv.box(sgn * (sp + lw + 0.1), cy, 0.16)
        if sl2 is not None:
            u2, v2 = cv.local(sl2, 0.0, cy - lh * 0.5)
            x0 = sp + lw * 0.95
            arm = np.minimum(t * 0.4 - np.abs(v2 - 0.08 * (np.abs(u2) - x0)), np.minimum(sgn * u2 - x0, p["face_width"] + 0.04 - sgn * u2))
            cv.paint(sl2, cv.cov(arm), col)
    # bridge
    sl = cv.box(0.0, ey, sp)
    if sl is not None:
        u, v = cv.local(sl, 0.0, ey + 0.01 - lh * 0.35)
        xin = sp - lw * 0.9
        br = np.minimum(t * 0.45 - np.abs(v + 0.02 * (1 - (u / max(xin, 1e-3)) ** 2)), xin + 0.01 - np.abs(u))
        cv.paint(sl, cv.cov(br), col)


# ---------------------------------------------------------------------------
# Dataset with an on-disk cache
# ---------------------------------------------------------------------------
def default_cache_dir() -> Path:
    """``$SELFSR_CACHE`` if set, else ``$XDG_CACHE_HOME/selfsr_edu`` (``~/.cache/selfsr_edu``)."""
    env = os.environ.get("SELFSR_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA") or str(Path.home() / ".cache")
    return Path(base) / "selfsr_edu"


def quantise(img: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] -> uint8, rounding (as when saving a PNG)."""
    return np.round(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)


class SynthFaces(torch.utils.data.Dataset):
    """``n`` procedural faces, item ``i`` a ``3×size×size`` float tensor in [0, 1].

    Deterministic per ``(seed, index)``; pixels are 8-bit quantised (as a PNG
    would store them). ``offset`` shifts the face indices: item ``i`` is face
    ``offset + i`` of world ``seed`` (the settings use it for disjoint seed
    ranges). Rendered faces are cached under :func:`default_cache_dir` in
    ``synthfaces/v{RENDERER_VERSION}/seed{seed}/size{size}/`` as ``.npy``
    files written atomically (temporary file + ``os.replace``), so concurrent
    processes can share it; ``cache=False`` disables it.
    """

    def __init__(self, n: int, size: int = 128, seed: int = 0, offset: int = 0, cache: bool = True):
        if int(n) < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if int(size) < 8:
            raise ValueError(f"size must be >= 8 pixels, got {size}")
        if int(seed) < 0 or int(offset) < 0:
            raise ValueError(f"seed and offset must be >= 0, got seed={seed}, offset={offset}")
        self.n, self.size, self.seed, self.offset = int(n), int(size), int(seed), int(offset)
        self.cache = bool(cache)

    def __len__(self) -> int:
        return self.n

    def _index(self, i: int) -> int:
        i = int(i)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(f"index {i} out of range for SynthFaces of length {self.n}")
        return self.offset + i

    def params(self, i: int) -> dict:
        """Parameter dictionary of item ``i`` (see :func:`sample_params`)."""
        return sample_params(self.seed, self._index(i))

    def cache_path(self, i: int) -> Path:
        return (
            default_cache_dir()
            / "synthfaces"
            / f"v{RENDERER_VERSION}"
            / f"seed{self.seed}"
            / f"size{self.size}"
            / f"{self._index(i):09d}.npy"
        )

    def image(self, i: int) -> np.ndarray:
        """Item ``i`` as an ``H×W×3`` uint8 array (cached)."""
        path = self.cache_path(i) if self.cache else None
        if path is not None and path.exists():
            try:
                arr = np.load(path)
                if arr.shape == (self.size, self.size, 3) and arr.dtype == np.uint8:
                    return arr
            except (OSError, ValueError):
                pass  # a damaged file: render again and overwrite
        arr = quantise(render_face(self.params(i), self.size))
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
                with os.fdopen(fd, "wb") as f:
                    np.save(f, arr)
                os.replace(tmp, path)
            except OSError:
                pass  # read-only cache: still return the face
        return arr

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.from_numpy(self.image(i)).permute(2, 0, 1).float().div_(255.0)

    def batch(self, indices) -> torch.Tensor:
        """Stack items into an ``N×3×size×size`` tensor."""
        return torch.stack([self[int(i)] for i in indices])


__all__ = ["SynthFaces", "sample_params", "render_face", "skin_colour", "RENDERER_VERSION", "RATES"]
