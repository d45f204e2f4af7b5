"""SynthFaces painting: the anti-aliased canvas, one painter per face part, and
:func:`render_face` (a parameter dictionary in, an ``H×W×3`` float image out;
with ``masks=True`` also the face-part masks, :func:`part_masks`)."""
from __future__ import annotations

import math
from functools import cached_property, lru_cache

import numpy as np

from selfsr_edu.data.io import to_uint8
from selfsr_edu.data.synthfaces.parameters import _scene_colour, skin_colour

_F = np.float32  # the canvas and every mask

#: Face parts that :func:`part_masks` labels, roughly back to front (ties go to the later name).
PART_NAMES = ("background", "hair", "neck", "clothes", "ears", "skin", "nose", "beard", "mouth", "eyes",
              "brows", "glasses", "earrings")
#: A paint call claims a pixel for the current part when its opacity α exceeds this.
MASK_OPACITY = 0.3


def _smooth(t: np.ndarray) -> np.ndarray:
    """Smoothstep ``3t² − 2t³`` of ``t`` clipped to [0, 1]."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@lru_cache(maxsize=64)
def _interp_matrix(n: int, cells: int) -> np.ndarray:
    """``n×(cells+3)`` matrix interpolating a 1-D grid with uniform cubic B-spline weights.

    ``w(t) = ((1−t)³, 3t³ − 6t² + 4, −3t³ + 3t² + 3t + 1, t³) / 6``: smooth (C²), so the
    noise shows no grid squares; scaled by 1.12 to keep about the variance of linear interpolation.
    """
    x = np.linspace(0, cells, n, dtype=np.float64)
    i0 = np.minimum(x.astype(np.int64), cells - 1)
    t = x - i0
    w = np.stack([(1 - t) ** 3, 3 * t**3 - 6 * t**2 + 4, -3 * t**3 + 3 * t**2 + 3 * t + 1, t**3], 1) / 6
    m = np.zeros((n, cells + 3), np.float64)
    for k in range(4):
        m[np.arange(n), i0 + k] = w[:, k]
    return (1.12 * m).astype(_F)


def _value_noise(rng: np.random.Generator, n: int, cells: int) -> np.ndarray:
    """Smooth ``n×n`` noise of zero mean and about unit range: a random ``(cells+3)²`` grid in
    [-1, 1], B-spline interpolated. Separable, so it is two small matrix products ``M G Mᵀ``."""
    g = rng.uniform(-1.0, 1.0, (cells + 3, cells + 3)).astype(_F)
    m = _interp_matrix(n, cells)
    return m @ g @ m.T


def _up2(a: np.ndarray) -> np.ndarray:
    """Nearest-neighbour ×2 upsampling of the last two axes."""
    out = np.empty(a.shape[:-2] + (a.shape[-2] * 2, a.shape[-1] * 2), a.dtype)
    for dy in (0, 1):
        for dx in (0, 1):
            out[..., dy::2, dx::2] = a
    return out


@lru_cache(maxsize=8)
def _pixel_grid(side: int):
    """Pixel centres in image units, ``X`` right and ``Y`` down, both in (-1, 1)."""
    c = (np.arange(side, dtype=_F) + 0.5) / side * 2.0 - 1.0
    X, Y = np.meshgrid(c, c)
    X.flags.writeable = False
    Y.flags.writeable = False
    return X, Y


class _Canvas:
    """A planar ``3×side×side`` RGB canvas with face-unit coordinates under a pose."""

    def __init__(self, side: int, p: dict):
        self.side = side
        self.img = np.zeros((3, side, side), _F)
        self.X, self.Y = _pixel_grid(side)  # image units
        th = math.radians(p["rotation"])
        self.cos, self.sin = math.cos(th), math.sin(th)
        self.t = (p["shift_x"], p["shift_y"])
        self.s = p["scale"]
        # pose-corrected pixel centres per column / row: (u, v) is separable into the two
        self._a = ((self.X[0] - self.t[0]) / self.s).astype(_F)
        self._b = ((self.Y[:, 0] - self.t[1]) / self.s).astype(_F)
        self.ppu = self.s * side / 2.0  # pixels per face unit
        # part bookkeeping (only with render_face(..., masks=True)): ``owner`` holds, per pixel,
        # the index into PART_NAMES of the last part that painted it with α > MASK_OPACITY
        self.owner: np.ndarray | None = None
        self.part = 0

    @cached_property
    def U(self):
        """Face-unit ``u`` of every pixel: ``(u, v) = R(−θ) (X − t) / s``."""
        return self.local((slice(None), slice(None)), 0.0, 0.0)[0]

    @cached_property
    def V(self):
        return self.local((slice(None), slice(None)), 0.0, 0.0)[1]

    def rbox(self, u0: float, v0: float, u1: float, v1: float):
        """Pixel slices bounding a face-unit rectangle; ``None`` when off canvas."""
        xs, ys = [], []
        for u, v in ((u0, v0), (u0, v1), (u1, v0), (u1, v1)):
            X = self.s * (self.cos * u - self.sin * v) + self.t[0]
            Y = self.s * (self.sin * u + self.cos * v) + self.t[1]
            xs.append((X + 1) / 2 * self.side)
            ys.append((Y + 1) / 2 * self.side)
        x0, x1 = max(int(min(xs)) - 2, 0), min(int(max(xs)) + 3, self.side)
        y0, y1 = max(int(min(ys)) - 2, 0), min(int(max(ys)) + 3, self.side)
        if x0 >= x1 or y0 >= y1:
            return None
        return (slice(y0, y1), slice(x0, x1))

    def box(self, cx: float, cy: float, r: float):
        return self.rbox(cx - r, cy - r, cx + r, cy + r)

    def cov(self, d, soft: float = 0.0):
        """Coverage from a signed distance ``d`` in face units (positive inside).

        A one-pixel linear ramp anti-aliases hard edges (the covered area of a
        pixel); ``soft`` (face units) widens it into a smoothstep fall-off for
        shadows and blushes.
        """
        if soft > 0:
            return _smooth(0.5 + d / (soft + 1.0 / self.ppu))
        return np.clip(0.5 + d * self.ppu, 0.0, 1.0)

    def local(self, sl, cx, cy, angle_deg=0.0):
        """Face-unit coordinates of the pixels in ``sl`` relative to ``(cx, cy)``, optionally rotated."""
        a, b = self._a[sl[1]], self._b[sl[0]]
        u = (self.cos * a - cx)[None, :] + (self.sin * b)[:, None]
        v = (-self.sin * a)[None, :] + (self.cos * b - cy)[:, None]
        if angle_deg:
            a = math.radians(angle_deg)
            ca, sa = math.cos(a), math.sin(a)
            u, v = ca * u + sa * v, -sa * u + ca * v
        return u, v

    def ellipse(self, cx, cy, rx, ry, angle=0.0, soft=0.0):
        """(slices, coverage) of an ellipse.

        Signed distance approximated along the ray from the centre,
        ``d = (1 − ρ) |p| / ρ`` with ``ρ² = (u/rx)² + (v/ry)²``.
        """
        sl = self.box(cx, cy, max(rx, ry) + soft)
        if sl is None:
            return None, None
        u, v = self.local(sl, cx, cy, angle)
        f = (u / rx) ** 2 + (v / ry) ** 2
        m = min(rx, ry)
        k = np.sqrt((u * u + v * v + 1e-12) / (f + 1e-12 / (m * m)))
        return sl, self.cov((1.0 - np.sqrt(f)) * k, soft)

    def paint(self, sl, alpha, colour):
        """Over operator ``I ← I + α (c − I)``; ``colour`` is RGB or 3×h×w."""
        if sl is None:
            return
        if self.owner is not None:
            self._claim(sl, alpha)
        reg = self.img[(slice(None),) + sl]
        colour = np.asarray(colour, _F)
        if colour.ndim == 1:
            colour = colour[:, None, None]
        tmp = colour - reg
        tmp *= alpha
        reg += tmp

    def _claim(self, sl, alpha):
        """Give the pixels of ``sl`` that this paint call covers with α > MASK_OPACITY to ``self.part``."""
        a = np.asarray(alpha)
        if a.ndim == 3:
            a = a.max(0)
        own = self.owner[sl]
        own[np.broadcast_to(a > MASK_OPACITY, own.shape)] = self.part

    def as_part(self, name: str):
        """Record the following paint calls as part ``name`` (no effect on the pixels)."""
        self.part = PART_NAMES.index(name)
        return self

    def region(self, sl):
        return self.img[(slice(None),) + sl]

    def lo_map(self, name: str, sl):
        """Slice ``sl`` of an output-size map (hair colour, shading, strands), upsampled ×2 on demand."""
        a = self.lo_maps[name]
        y, x = sl
        part = _up2(a[..., y.start // 2 : (y.stop + 1) // 2, x.start // 2 : (x.stop + 1) // 2])
        return part[..., y.start % 2 : y.start % 2 + (y.stop - y.start), x.start % 2 : x.start % 2 + (x.stop - x.start)]


def _rgb(c) -> np.ndarray:
    return np.asarray(c, _F)[:, None, None]


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------
def _owner_to_masks(owner: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Per-pixel part labels (indices into PART_NAMES, any resolution) -> boolean masks at ``size``.

    Each part's coverage ``c_k`` is its label's area fraction in every output pixel
    (a box filter: the 2×2 average for the supersampled canvas, PIL's BOX resize otherwise);
    a pixel belongs to the part of largest coverage, ties to the later part of PART_NAMES.
    """
    from PIL import Image

    cov = []
    for k in range(len(PART_NAMES)):
        m = (owner == k).astype(_F)
        if m.shape[0] == 2 * size:
            c = (m[0::2, 0::2] + m[1::2, 0::2] + m[0::2, 1::2] + m[1::2, 1::2]) * 0.25
        elif m.shape[0] == size:
            c = m
        else:
            c = np.asarray(Image.fromarray(m).resize((size, size), Image.BOX), dtype=_F)
        cov.append(c)
    cov = np.stack(cov[::-1])  # reversed, so argmax's first maximum is the later part
    label = len(PART_NAMES) - 1 - np.argmax(cov, axis=0)
    return {name: label == k for k, name in enumerate(PART_NAMES)}


def part_masks(params: dict, size: int = 128) -> dict[str, np.ndarray]:
    """Boolean ``size×size`` masks of the face parts of :data:`PART_NAMES`: ``render_face(params, size, masks=True)[1]``.

    Definition. Every paint call of the renderer is the over operator ``I ← I + α (c − I)``
    with a per-pixel opacity ``α``. A call *claims* the pixels where ``α > MASK_OPACITY``
    (0.3: a visible change, not the faint tail of a soft shadow) for the part being painted;
    a later claim replaces an earlier one, so a part's pixels are those it painted and no
    later part painted over. On the 2× supersampled canvas the labels are box-filtered like
    the image: each output pixel goes to the part that owns most of its sub-pixels (ties to
    the later name of PART_NAMES). Sizes below 128 take the 128 labels the same way (area
    fractions by PIL BOX), as the image is rendered at 128 and shrunk. The masks therefore
    partition the image: every pixel belongs to exactly one part.

    Which painter is which part: background (incl. clutter), hair (back and front hair, the
    hair's shadow on the forehead), neck, clothes, ears, skin (the face: skin, blush,
    cheek hollows, forehead highlight, freckles, moles, nasolabial folds, forehead lines),
    nose, beard (stubble, beard, moustache), mouth (lips, teeth, the shadow under the lower
    lip), eyes (socket shadow, eyeball, iris, lids, lashes, crease), brows, glasses (lenses,
    frame, arms, bridge), earrings. The camera stage (exposure, vignette, sharpening) acts on
    the whole picture and belongs to no part.
    """
    return render_face(params, size, masks=True)[1]


def render_face(params: dict, size: int = 128, masks: bool = False):
    """Render one face: ``size×size×3`` float32 in [0, 1] from :func:`sample_params`.

    ``masks=True`` returns ``(image, {part: size×size bool})`` (see :func:`part_masks`);
    the image is the same, byte for byte, as without masks.

    Two passes share one pose. Large smooth layers (background, back hair,
    clothes, neck, ears, the face's skin with its soft shadows and blushes)
    and the textures (hair strands, skin, Lambertian shading) are computed at
    the output resolution, their edges anti-aliased analytically by a
    one-pixel coverage ramp. Every small detail (eyes, lashes, brows, nose,
    mouth and teeth, freckles, beard, the hairline, earrings, glasses) is
    drawn on a 2× supersampled canvas on top, which is then box-filtered 2×2
    down.
    Assumed: sizes below 128 render at 128 and shrink with PIL bicubic, so
    they are the same identity at lower resolution.
    """
    size = int(size)
    if size < 8:
        raise ValueError(f"size must be >= 8, got {size}")
    if size < 128:
        from PIL import Image

        big = render_face(params, 128, masks=masks)
        big, owner = big if masks else (big, None)
        im = Image.fromarray(to_uint8(big)).resize((size, size), Image.BICUBIC)
        img = np.asarray(im, dtype=_F) / 255.0
        if not masks:
            return img
        label = np.zeros((128, 128), np.int8)
        for k, name in enumerate(PART_NAMES):
            label[owner[name]] = k
        return img, _owner_to_masks(label, size)
    p = params
    rng = np.random.Generator(np.random.PCG64(int(p["texture_seed"])))
    lo = _Canvas(size, p)
    if masks:
        lo.owner = np.zeros((size, size), np.int8)  # PART_NAMES[0]: background

    # Lambertian shading of a head ellipsoid: shade = a + (1 - a) max(0, n . l)
    fw, fh, fcy = p["face_width"], p["face_height"], p["face_center_y"]
    L = np.array([p["light_x"], p["light_y"], 0.0])
    L[2] = math.sqrt(max(1e-6, 1 - L[0] ** 2 - L[1] ** 2))
    nx = lo.U / (fw * 1.12)
    ny = (lo.V - fcy) / (fh * 1.12)
    nz = np.sqrt(np.clip(1 - nx * nx - ny * ny, 0.0, 1.0))
    lam = np.clip(nx * L[0] + ny * L[1] + nz * L[2], 0.0, 1.0)
    amb = p["ambient"]
    shade = (amb + (1 - amb) * lam).astype(_F)

    skin = np.clip(skin_colour(p["skin_tone"]) * np.array([1 + p["skin_redness"], 1.0, 1 - p["skin_redness"]]), 0, 1)
    tex = p["skin_texture"]
    sk_noise = 1.0 + tex * (0.5 * _value_noise(rng, size, 6) + 0.3 * _value_noise(rng, size, 30) + 0.35 * _value_noise(rng, size, 90))
    skin_lit = _rgb(skin) * (sk_noise * shade)[None]
    hair = np.array(p["hair_rgb"], _F)
    hair_tex, fray = _hair_texture(lo, p, rng)
    lo.fray = fray
    hair_lit = _rgb(hair) * (hair_tex * shade)[None]

    lo.light = L
    _background(lo.as_part("background"), p, rng)
    _back_hair(lo.as_part("hair"), p, hair_lit)
    _neck_and_clothes(lo.as_part("neck"), p, skin_lit, rng)  # switches to "clothes" itself
    lo.skin = skin_lit
    _ears(lo.as_part("ears"), p, skin)  # large, smooth parts: one-pixel edge ramps at the output size
    _face(lo.as_part("skin"), p, skin)

    hi = _Canvas(2 * size, p)
    hi.img = _up2(lo.img)
    if masks:
        hi.owner = _up2(lo.owner)
    hi.light = L
    hi.lo_maps = {"hair": hair_lit, "shade": shade, "fray": fray}
    _freckles(hi.as_part("skin"), p, skin, rng)
    _nose(hi.as_part("nose"), p, skin)  # its folds are recorded as skin
    _facial_hair(hi.as_part("beard"), p, rng)
    _mouth(hi.as_part("mouth"), p, skin)
    _eyes(hi.as_part("eyes"), p, skin)
    _brows(hi.as_part("brows"), p, hair)
    _front_hair(hi.as_part("hair"), p)
    _earrings(hi.as_part("earrings"), p)
    _glasses(hi.as_part("glasses"), p)

    a = hi.img
    img = (a[:, 0::2, 0::2] + a[:, 1::2, 0::2] + a[:, 0::2, 1::2] + a[:, 1::2, 1::2]) * 0.25
    # camera: exposure, white balance, gentle vignette (linear, so after the box filter)
    wb = p["white_balance"]
    gain = p["exposure"] * np.array([1 + wb, 1.0, 1 - wb], _F)
    vig = 1.0 - 0.12 * (lo.X**2 + lo.Y**2)
    img = img * gain[:, None, None] * vig[None]
    # in-camera sharpening (unsharp mask, binomial 1-2-1 blur): img + k (img - blur(img))
    k = p["sharpen"]
    if k > 0:
        b = np.pad(img, ((0, 0), (1, 1), (1, 1)), mode="edge")
        b = 0.25 * b[:, :-2] + 0.5 * b[:, 1:-1] + 0.25 * b[:, 2:]
        b = 0.25 * b[:, :, :-2] + 0.5 * b[:, :, 1:-1] + 0.25 * b[:, :, 2:]
        img = img + k * (img - b)
    img = np.ascontiguousarray(np.clip(img, 0.0, 1.0).transpose(1, 2, 0))
    return (img, _owner_to_masks(hi.owner, size)) if masks else img


def _hair_texture(cv: _Canvas, p: dict, rng):
    """Hair brightness (strands radiating from the crown, locks, waves, a sheen band)
    and the zero-mean strand pattern (used to fray the hair's edges)."""
    n = cv.side
    crown_y = p["face_center_y"] - p["face_height"] - 0.2
    du, dv = cv.U - p["fringe_tilt"] * 0.4, cv.V - crown_y
    rho = np.sqrt(du * du + dv * dv)
    coarse = _value_noise(rng, n, 10)
    style, curl = p["hair_style"], p["hair_curl"]
    if style == "curly":
        # tight curls: a product of sines in a noise-warped domain gives round, irregular ringlets
        f = 38.0 + 20.0 * curl
        w1, w2 = _value_noise(rng, n, 18), _value_noise(rng, n, 18)
        ring = np.sin(f * cv.U + 14 * w1) * np.sin(f * cv.V + 14 * w2)
        bumps = np.sign(ring) * np.sqrt(np.abs(ring)) * 0.8 + 0.35 * _value_noise(rng, n, 30)
        t = 0.7 + 0.25 * bumps + 0.08 * coarse
        fray = bumps
    elif style == "buzz":
        fray = _value_noise(rng, n, 64)
        t = 0.85 + 0.12 * fray + 0.05 * coarse
    else:
        phi = np.arctan2(du, dv)
        k = 220
        strands = rng.uniform(-1, 1, k + 1).astype(_F)
        strands[-1] = strands[0]
        # wavy hair: the strand angle drifts with the distance from the crown
        phi = phi + 0.035 * curl * np.sin(rho * 14 + 2 * coarse)
        fine = np.interp((phi * (k / (2 * math.pi))) % k, np.arange(k + 1), strands).astype(_F)
        k2 = 90
        locks = rng.uniform(-1, 1, k2 + 1).astype(_F)
        locks[-1] = locks[0]
        lock = np.interp((phi * (k2 / (2 * math.pi)) + 3 * coarse) % k2, np.arange(k2 + 1), locks).astype(_F)
        t = 0.68 + 0.32 * fine + 0.2 * lock + 0.1 * coarse
        fray = 0.6 * fine + 0.4 * lock
    sheen = np.exp(-(((rho - 0.45 - 0.08 * coarse) / 0.07) ** 2)) * 0.3
    return (t + sheen).astype(_F), fray.astype(_F)


def _background(cv: _Canvas, p: dict, rng) -> None:
    c1, c2 = _rgb(p["bg_rgb"]), _rgb(p["bg_rgb2"])
    kind = p["background"]
    if kind == "flat":
        cv.img[:] = c1
    else:
        a = math.radians(p["bg_angle"])
        t = (cv.X * math.cos(a) + cv.Y * math.sin(a)) * 0.5 + 0.5
        cv.img[:] = c1 + t[None] * (c2 - c1)
    if kind == "clutter":
        S = cv.side
        soft = 1.0 + p["bg_blur"] * 5.0  # defocus: edge ramp width in pixels
        for _ in range(p["n_clutter"]):
            c = _scene_colour(rng, 0.1, 0.95).astype(_F)
            cx, cy = rng.uniform(-1, 1, 2)
            w, h = rng.uniform(0.05, 0.5, 2)
            x0, x1 = max(int((cx - w + 1) / 2 * S) - 4, 0), min(int((cx + w + 1) / 2 * S) + 5, S)
            y0, y1 = max(int((cy - h + 1) / 2 * S) - 4, 0), min(int((cy + h + 1) / 2 * S) + 5, S)
            if x0 >= x1 or y0 >= y1:
                continue
            sl = (slice(y0, y1), slice(x0, x1))
            X, Y = cv.X[sl], cv.Y[sl]
            shape = rng.random()
            if shape < 0.55:  # box (frames, books, furniture)
                d = np.minimum(w - np.abs(X - cx), h - np.abs(Y - cy))
            elif shape < 0.8:  # disc (lamps, plates)
                d = min(w, h) - np.sqrt((X - cx) ** 2 + (Y - cy) ** 2)
            else:  # stripes inside a box (blinds, shelves)
                f = rng.uniform(20, 60)
                d = np.minimum(np.minimum(w - np.abs(X - cx), h - np.abs(Y - cy)), (np.sin(Y * f) - 0.2) / f)
            a = np.clip(0.5 + d * (S / 2) / soft, 0, 1) * _F(rng.uniform(0.6, 1.0))
            cv.paint(sl, a, c)
    # surface texture (plaster, fabric, foliage out of focus) at two scales
    bt, bd = p["bg_texture"], p["bg_detail"]
    cv.img *= (1.0 + bt * (_value_noise(rng, cv.side, 5) + 0.6 * _value_noise(rng, cv.side, 24)) + bd * _value_noise(rng, cv.side, 40))[None]


def _head_outline(u, v, p):
    """Signed distance (face units, approximate) of the face outline; ``v`` from the face centre.

    Upper half an ellipse; lower half a jaw whose half-width shrinks as
    ``fw (1 − taper (v/fh)³)`` and whose chin is flattened by ``chin`` (> 2).
    """
    fw, fh = p["face_width"], p["face_height"]
    vv = np.clip(v / fh, 0, None)
    rx = fw * (1 - p["jaw_taper"] * vv**3)
    ry = np.where(v < 0, fh * 0.95, fh)
    a = np.abs(v / ry)
    f = np.sqrt((u / rx) ** 2 + np.where(v < 0, a * a, a ** p["chin"]))
    return (1 - f) * np.minimum(rx, fh * 0.9)


def _back_hair(cv, p, hair_lit):
    style = p["hair_style"]
    if style in ("bald", "buzz", "short"):
        return
    fw, fh, fcy = p["face_width"], p["face_height"], p["face_center_y"]
    vol = p["hair_volume"]
    u, v = cv.U, cv.V
    if style == "curly":
        rx, ry = fw + 0.16 + vol, fh + 0.04 + vol
        cy = fcy - 0.08
        ang = np.arctan2(v - cy, u)
        k = p["texture_seed"] % 7
        rr = 1 + 0.035 * np.sin(11 * ang + k) + 0.025 * np.sin(23 * ang + 2 * k)
        d = (rr - np.sqrt((u / rx) ** 2 + ((v - cy) / ry) ** 2)) * min(rx, ry)
        d = np.minimum(d, fcy + p["hair_length"] * 0.6 - v)
    else:
        bottom = fcy + (0.32 if style == "medium" else p["hair_length"])
        w = fw + vol + 0.03
        wavy = bottom + 0.025 * np.sin(u * 23 + p["texture_seed"] % 5) - 0.1 * (u / w) ** 2
        d_side = w * (1 + 0.18 * np.clip((v - fcy) / 0.6, 0, 1)) - np.abs(u)
        body = np.minimum(np.minimum(d_side, wavy - v), v - fcy + 0.1)
        top = (1 - np.sqrt((u / (fw + vol)) ** 2 + ((v - fcy + 0.05) / (fh + vol)) ** 2)) * fw
        d = np.maximum(body, top)
    cv.paint((slice(None), slice(None)), cv.cov(d + 0.012 * cv.fray), hair_lit * 0.8)


def _neck_and_clothes(cv, p, skin_lit, rng):
    fw, fh, fcy = p["face_width"], p["face_height"], p["face_center_y"]
    sl = cv.rbox(-fw, fcy, fw, 2.2)
    if sl is None:
        return
    u, v = cv.local(sl, 0.0, 0.0)
    nw = fw * p["neck_width"]
    d = np.minimum(nw * (1 + 0.35 * _smooth((v - fcy - fh - 0.1) / 0.3)) - np.abs(u), v - fcy)
    sh = 0.55 + 0.25 * _smooth((v - (fcy + fh - 0.15)) / 0.35)  # shadow under the jaw
    sh = sh * (1 - 0.3 * (np.abs(u) / nw) ** 2)
    cv.paint(sl, cv.cov(d), skin_lit[(slice(None),) + sl] * sh[None])
    # shoulders and clothes
    cv.as_part("clothes")
    sl = cv.rbox(-1.6, fcy + fh - 0.1, 1.6, 2.2)
    if sl is None:
        return
    u, v = cv.local(sl, 0.0, 0.0)
    c = np.array(p["clothes_rgb"], _F)
    top = fcy + fh + 0.1
    d = (1 - np.sqrt((u / 1.2) ** 2 + ((v - top - 0.6) / 0.6) ** 2)) * 0.6
    if p["neckline"] == "v":
        neck = np.maximum((v - top) - (0.38 - 1.5 * np.abs(u)), np.abs(u) - 0.3)
        d = np.minimum(d, neck)
    elif p["neckline"] == "round":
        neck = (np.sqrt((u / 0.32) ** 2 + ((v - top + 0.02) / 0.16) ** 2) - 1) * 0.15
        d = np.minimum(d, neck)
    a = cv.cov(d)
    pat = 1.0 - 0.18 * np.clip(u / 1.2, -1, 1) * cv.light[0]
    if p["stripes"]:
        f = 28 + (p["texture_seed"] % 20)
        pat = pat * (1 - 0.35 * np.clip(np.sin((v * f + u * 3) * 2) * 3, 0, 1))
    fold = 1 + 0.1 * _value_noise(rng, cv.side, 9)[sl] + 0.06 * _value_noise(rng, cv.side, 70)[sl]
    cv.paint(sl, a, _rgb(c) * (pat * fold)[None])
    if p["neckline"] == "collar":
        for sgn in (-1, 1):
            u2, v2 = cv.local(sl, sgn * 0.17, top + 0.06, sgn * 25)
            d = (1 - np.sqrt((u2 / 0.17) ** 2 + (v2 / 0.075) ** 2)) * 0.075
            cv.paint(sl, cv.cov(d), np.clip(c * 1.2 + 0.12, 0, 1))


def _ears(cv, p, skin):
    fw, es = p["face_width"], p["ear_size"]
    ey = p["eye_y"] + p["ear_y"] + 0.04
    fcy = p["face_center_y"]
    vv = max((ey - fcy) / p["face_height"], 0.0)
    edge = fw * (1 - p["jaw_taper"] * vv**3)
    for sgn in (-1, 1):
        cx = sgn * (edge + 0.015)
        sl, a = cv.ellipse(cx, ey, es * 0.5, es, angle=-sgn * 10)
        if sl is None:
            continue
        reg = cv.skin[(slice(None),) + sl]
        cv.paint(sl, a, reg * 0.93)
        # the concha: a soft darker hollow inside the rim
        sl2, a2 = cv.ellipse(cx + sgn * 0.01, ey - 0.005, es * 0.26, es * 0.62, angle=-sgn * 10, soft=0.02)
        if sl2 is not None:
            cv.paint(sl2, a2 * 0.5, cv.region(sl2) * 0.62)
        sl3, a3 = cv.ellipse(cx + sgn * 0.012, ey + 0.02, es * 0.08, es * 0.18, soft=0.01)
        if sl3 is not None:
            cv.paint(sl3, a3 * 0.5, cv.region(sl3) * 0.55)


def _earrings(cv, p):
    if not p["earrings"]:
        return
    fw, es = p["face_width"], p["ear_size"]
    ey = p["eye_y"] + p["ear_y"] + 0.04
    fcy = p["face_center_y"]
    vv = max((ey - fcy) / p["face_height"], 0.0)
    edge = fw * (1 - p["jaw_taper"] * vv**3)
    col = np.array(p["earring_rgb"], _F)
    for sgn in (-1, 1):
        ex, eyy = sgn * (edge + 0.015), ey + es * 0.85
        if p["earring_kind"] == "stud":
            sl, a = cv.ellipse(ex, eyy, 0.017, 0.017)
            cv.paint(sl, a, col * 0.85)
            sl, a = cv.ellipse(ex - 0.005, eyy - 0.005, 0.006, 0.006)
            cv.paint(sl, a, np.full(3, 0.98, _F))
        else:
            sl = cv.box(ex, eyy + 0.05, 0.07)
            if sl is None:
                continue
            u, v = cv.local(sl, ex, eyy + 0.05)
            rr = np.sqrt((u / 0.042) ** 2 + (v / 0.052) ** 2)
            ring = cv.cov(0.0075 - np.abs(rr - 1) * 0.047)
            cv.paint(sl, ring, _rgb(col) * (0.7 + 0.45 * (u * -sgn > 0))[None])


def _face(cv, p, skin):
    fw, fh, fcy = p["face_width"], p["face_height"], p["face_center_y"]
    sl = cv.rbox(-fw - 0.02, fcy - fh - 0.02, fw + 0.02, fcy + fh + 0.02)
    u, v = cv.local(sl, 0.0, fcy)
    d = _head_outline(u, v, p)
    col = cv.skin[(slice(None),) + sl]
    # a darker rim where the face turns away (chin, jaw line, temples)
    rim = 1 - 0.2 * _smooth(1 - d / 0.08)
    cv.paint(sl, cv.cov(d), col * rim[None])
    L = cv.light
    ey = p["eye_y"]
    for sgn in (-1, 1):
        # blush on the cheeks
        sl2, a = cv.ellipse(sgn * fw * 0.55, ey + 0.22, 0.13, 0.08, soft=0.08)
        if sl2 is not None:
            cv.paint(sl2, a * 0.2 * p["blush"], cv.region(sl2) * _rgb((1.0, 0.72, 0.72)))
        # hollow below the cheek bone
        sl2, a = cv.ellipse(sgn * fw * 0.72, ey + 0.32, 0.07, 0.14, soft=0.07)
        if sl2 is not None:
            cv.paint(sl2, a * 0.18, cv.region(sl2) * 0.7)
    # specular highlight on the forehead, towards the light
    sl2, a = cv.ellipse(L[0] * fw * 0.4, fcy - fh * 0.6 + L[1] * 0.15, 0.17, 0.09, soft=0.1)
    if sl2 is not None:
        cv.paint(sl2, a * 0.18, np.clip(cv.region(sl2) * 1.3 + 0.04, 0, 1))


def _freckles(cv, p, skin, rng):
    dots = []
    if p["freckles"]:
        n = p["n_freckles"]
        xs = rng.normal(0, 0.17, n)
        ys = p["eye_y"] + 0.12 + np.abs(rng.normal(0, 0.07, n))
        col = skin * np.array([0.7, 0.52, 0.42])
        dots += [(x, y, r, col, a) for x, y, r, a in zip(xs, ys, rng.uniform(0.007, 0.012, n), rng.uniform(0.35, 0.7, n))]
    if p["moles"]:
        n = p["n_moles"]
        xs = rng.uniform(-0.35, 0.35, n) * p["face_width"] / 0.5
        ys = rng.uniform(-0.3, 0.6, n)
        col = np.array([0.2, 0.12, 0.08])
        dots += [(x, y, r, col, a) for x, y, r, a in zip(xs, ys, rng.uniform(0.01, 0.017, n), rng.uniform(0.7, 0.95, n))]
    for x, y, r, col, a in dots:
        sl, cov = cv.ellipse(x, y, r, r)
        if sl is not None:
            cv.paint(sl, cov * a, col)


def _nose(cv, p, skin):
    ey, nl, nw = p["eye_y"], p["nose_length"], p["nose_width"]
    L = cv.light
    tip = ey + nl
    side = -1.0 if L[0] >= 0 else 1.0  # shadow on the side away from the light
    k = 0.45 + 0.5 * abs(L[0])
    sl, a = cv.ellipse(side * 0.045, ey + nl * 0.55, 0.022, nl * 0.5, soft=0.035)
    if sl is not None:  # the side of the bridge
        cv.paint(sl, a * 0.4 * k, cv.region(sl) * 0.6)
    sl, a = cv.ellipse(-side * 0.012, ey + nl * 0.5, 0.01, nl * 0.42, soft=0.02)
    if sl is not None:  # lit ridge of the bridge
        cv.paint(sl, a * 0.25, np.clip(cv.region(sl) * 1.25, 0, 1))
    for sgn in (-1, 1):  # alae (wings): a rounded bulb with a crease
        sl, a = cv.ellipse(sgn * nw * 0.82, tip - 0.005, nw * 0.42, 0.035, soft=0.015)
        if sl is not None:
            cv.paint(sl, a * (0.32 if sgn == side else 0.15), cv.region(sl) * 0.62)
        sl, a = cv.ellipse(sgn * nw * 1.18, tip - 0.01, 0.007, 0.03, angle=sgn * 20)
        if sl is not None:
            cv.paint(sl, a * 0.35, cv.region(sl) * 0.55)
    sl, a = cv.ellipse(-L[0] * 0.025, tip + 0.04, nw * 1.1, 0.02, soft=0.02)
    if sl is not None:  # cast shadow under the nose
        cv.paint(sl, a * 0.4, cv.region(sl) * 0.6)
    for sgn in (-1, 1):  # nostrils
        sl, a = cv.ellipse(sgn * nw * 0.45, tip + 0.02, 0.023, 0.011, angle=-sgn * 18)
        cv.paint(sl, a * 0.85, skin * 0.22)
    part = cv.part
    _folds(cv.as_part("skin"), p)
    cv.part = part
    sl, a = cv.ellipse(L[0] * 0.015, tip - 0.02 + L[1] * 0.01, 0.03, 0.022, soft=0.02)
    if sl is not None:  # highlight on the tip
        cv.paint(sl, a * 0.4, np.clip(cv.region(sl) * 1.25 + 0.05, 0, 1))


def _folds(cv, p):
    """Nasolabial folds (nose wing to mouth corner) and, with age, forehead lines."""
    ey, nl, nw, my, mw = p["eye_y"], p["nose_length"], p["nose_width"], p["mouth_y"], p["mouth_width"]
    k = 0.06 + 0.3 * max(p["age"] ** 1.5, p["smile"] * 10)
    for sgn in (-1, 1):
        x0, y0 = sgn * (nw * 1.35), ey + nl - 0.01
        x1, y1 = sgn * (mw + 0.035), my + 0.03
        sl = cv.rbox(min(x0, x1) - 0.03, y0 - 0.02, max(x0, x1) + 0.03, y1 + 0.02)
        if sl is None:
            continue
        u, v = cv.local(sl, 0.0, 0.0)
        t = np.clip((v - y0) / (y1 - y0), 0, 1)
        xc = x0 + (x1 - x0) * np.sqrt(t) + sgn * 0.025 * np.sin(np.pi * t)
        d = 0.006 - np.abs(u - xc)
        ends = np.minimum(v - y0, y1 - v)
        a = cv.cov(np.minimum(d, ends), soft=0.012) * k * (1 - 0.6 * t)
        cv.paint(sl, a, cv.region(sl) * 0.6)
    if p["age"] > 0.55:
        k = (p["age"] - 0.55) / 0.45
        top = ey - p["brow_height"] - 0.06
        sl = cv.rbox(-0.3, top - 0.15, 0.3, top)
        if sl is not None:
            u, v = cv.local(sl, 0.0, top)
            lines = np.cos((v - 0.006 * np.sin(u * 12)) * (2 * np.pi / 0.045))
            a = _smooth((lines - 0.6) / 0.4) * k * 0.35 * _smooth(1 - np.abs(u) / 0.28) * _smooth(-v / 0.03)
            cv.paint(sl, a, cv.region(sl) * 0.7)


def _facial_hair(cv, p, rng):
    kind = p["facial_hair"]
    if kind == "none":
        return
    fw, fh, fcy = p["face_width"], p["face_height"], p["face_center_y"]
    ny = p["eye_y"] + p["nose_length"] + 0.045  # just below the nose
    my = p["mouth_y"]
    if kind in ("stubble", "beard"):
        sl = cv.rbox(-fw - 0.02, ny - 0.05, fw + 0.02, fcy + fh + 0.05)
        u, v = cv.local(sl, 0.0, fcy)
        inside = cv.cov(_head_outline(u, v, p) + 0.012)
        vn = v + fcy - ny
        cheek = _smooth((np.abs(u) - fw * 0.55 + vn * 1.2) * -8 + 0.5)  # clear the upper cheeks
        hair = cv.lo_map("hair", sl) * 0.8
        if kind == "stubble":
            region = inside * cheek * _smooth(vn / 0.05)
            speck = (rng.random(u.shape) < 0.5).astype(_F)
            cv.paint(sl, region * (0.25 + 0.2 * speck) * p["beard_density"], hair)
        else:
            edge = 0.025 * _value_noise(rng, max(u.shape), 30)[: u.shape[0], : u.shape[1]]
            region = inside * cv.cov(np.minimum(vn + edge, 0.25 - np.abs(u) + vn * 1.5 + edge))
            region = np.maximum(region, inside * cheek * cv.cov(vn - 0.02 + edge))
            cv.paint(sl, region * 0.97, hair)
    if kind in ("moustache", "beard"):
        sl = cv.rbox(-p["mouth_width"] - 0.05, my - 0.1, p["mouth_width"] + 0.05, my + 0.02)
        if sl is not None:
            u, v = cv.local(sl, 0.0, my - p["upper_lip"] - 0.02)
            mw = p["mouth_width"] * 1.08
            d = np.minimum(0.03 * (1 - (u / mw) ** 2) - np.abs(v - 0.012 * (u / mw) ** 2), mw - np.abs(u))
            cv.paint(sl, cv.cov(d) * 0.95, cv.lo_map("hair", sl) * 0.75)


def _mouth(cv, p, skin):
    cy, mw = p["mouth_y"], p["mouth_width"]
    sl = cv.rbox(-mw - 0.03, cy - 0.09, mw + 0.03, cy + 0.12)
    if sl is None:
        return
    u, v = cv.local(sl, 0.0, cy)
    x = np.clip(u / mw, -1, 1)
    w = 1 - x * x
    sm = p["smile"]
    line = sm * 0.6 - sm * 2.0 * x * x  # corners rise when smiling
    op = p["mouth_opening"]
    top_open = line - op * 0.4 * w
    bot_open = line + op * w**0.8
    bow = 0.009 * np.exp(-((u / 0.028) ** 2))  # Cupid's bow dip
    top = top_open - p["upper_lip"] * w**0.6 + bow
    bot = bot_open + p["lower_lip"] * w**0.5
    wmask = cv.cov(mw - np.abs(u))
    lip = _rgb(p["lip_rgb"])
    s = cv.lo_map("shade", sl)[None]
    sl2, a2 = cv.ellipse(0.0, cy + p["lower_lip"] + op + 0.035, mw * 0.55, 0.022, soft=0.025)
    if sl2 is not None:  # shadow below the lower lip
        cv.paint(sl2, a2 * 0.3, cv.region(sl2) * 0.6)
    upper = cv.cov(np.minimum(v - top, top_open + 0.004 - v)) * wmask
    lower = cv.cov(np.minimum(v - bot_open + 0.004, bot - v)) * wmask
    cv.paint(sl, upper, lip * s * 0.85)
    hl = np.exp(-(((u - 0.02) / (mw * 0.35)) ** 2 + ((v - bot_open - p["lower_lip"] * 0.4) / 0.01) ** 2)) * 0.3
    cv.paint(sl, lower, lip * s + hl[None])
    if op > 0:
        opening = cv.cov(np.minimum(v - top_open, bot_open - v)) * cv.cov(mw * 0.9 - np.abs(u))
        cv.paint(sl, opening, np.array([0.2, 0.04, 0.05], _F))
        if p["teeth"]:
            th = op * 0.6
            teeth = cv.cov(np.minimum(v - top_open, top_open + th * w - v)) * cv.cov(mw * 0.75 - np.abs(u))
            gap = cv.cov(0.0025 - np.abs(((u / 0.036 + 0.5) % 1.0 - 0.5) * 0.036))  # between incisors
            tshade = (0.85 + 0.15 * w) * (1 - 0.45 * gap)
            cv.paint(sl, teeth * opening, _rgb((0.94, 0.91, 0.84)) * tshade[None])
    if op == 0:  # the dark line where the lips meet
        d = 0.004 - np.abs(v - top_open)
        cv.paint(sl, cv.cov(d) * wmask * 0.75, lip * 0.25)
    for sgn in (-1, 1):
        sl3, a3 = cv.ellipse(sgn * mw, cy - sm * 1.4, 0.012, 0.007)
        if sl3 is not None:
            cv.paint(sl3, a3 * 0.45, skin * 0.4)


def _eyes(cv, p, skin):
    ey, sp, ew, eo = p["eye_y"], p["eye_spacing"], p["eye_width"], p["eye_open"]
    L = cv.light
    for sgn in (-1, 1):
        cx = sgn * sp
        # eye socket shadow
        sls, a = cv.ellipse(cx, ey - 0.015, ew * 1.4, eo * 2.6, soft=0.05)
        if sls is not None:
            cv.paint(sls, a * 0.22, cv.region(sls) * _rgb((0.62, 0.52, 0.52)))
        sl = cv.box(cx, ey, ew + 0.03)
        if sl is None:
            continue
        u, v = cv.local(sl, cx, ey, angle_deg=-sgn * p["eye_tilt"] * 30)
        x = np.clip(u / ew, -1, 1)
        w = 1 - x * x
        peak = 1 - 0.18 * sgn * x  # the upper lid peaks towards the nose
        upper = -eo * w * peak
        lower = eo * 0.62 * w**0.9
        inside = cv.cov(np.minimum(v - upper, lower - v)) * cv.cov(ew - np.abs(u))
        sclera = (0.72 + 0.28 * _smooth((v - upper) / (eo * 0.9))) * (0.88 + 0.12 * w)
        cv.paint(sl, inside, _rgb((0.95, 0.93, 0.9)) * sclera[None])
        # iris: limbal ring, radial streaks, darker near the pupil
        ir = p["iris_radius"]
        ix, iy = p["gaze_x"] * ew * 0.42, p["gaze_y"] * eo * 0.5
        du, dv = u - ix, v - iy
        rr = np.sqrt(du * du + dv * dv)
        ang = np.arctan2(dv, du)
        streak = 0.85 + 0.15 * np.sin(ang * 23 + sgn) * np.sin(ang * 7)
        ring = 1 - 0.6 * _smooth((rr / ir - 0.72) / 0.28)
        icol = _rgb(p["iris_rgb"]) * (streak * ring * (0.75 + 0.45 * rr / ir))[None]
        cv.paint(sl, inside * cv.cov(ir - rr), icol)
        cv.paint(sl, inside * cv.cov(ir * p["pupil_ratio"] - rr), np.array([0.02, 0.02, 0.025], _F))
        # catch-light: the reflected light source, up and towards the light
        hx, hy = ix + L[0] * ir * 0.4 + 0.008, iy + min(L[1], 0.0) * ir * 0.5 - ir * 0.3
        hr = np.sqrt((u - hx) ** 2 + (v - hy) ** 2)
        cv.paint(sl, inside * cv.cov(ir * 0.26 - hr), np.array([1.0, 1.0, 1.0], _F))
        # the upper lid's shadow on the eyeball
        cv.paint(sl, inside * 0.35 * _smooth(1 - (v - upper) / (eo * 0.5)), np.array([0.25, 0.18, 0.17], _F))
        # upper lid line with lashes (thicker outwards), lower lid, crease
        lash = 0.006 + 0.007 * np.clip(sgn * x, 0, 1) + (0.006 if p["eyeliner"] else 0.0)
        d_up = lash - np.abs(v - upper + lash * 0.35)
        # individual lashes: short spikes above the lid, longer towards the outer corner
        spikes = (0.5 + 0.5 * np.sin(u * 160)) ** 3 * (0.006 + 0.012 * np.clip(sgn * x + 0.3, 0, 1))
        d_up = np.maximum(d_up, np.minimum(spikes - (upper - v), upper + 0.004 - v) * 0.5)
        cv.paint(sl, cv.cov(d_up) * cv.cov(ew * 1.08 - np.abs(u)), np.array([0.05, 0.04, 0.04], _F))
        d_lo = 0.0035 - np.abs(v - lower - 0.002)
        cv.paint(sl, cv.cov(d_lo) * 0.35 * cv.cov(ew - np.abs(u)), skin * 0.45)
        crease = upper * 1.1 - eo * 0.8 - 0.012
        d_cr = 0.0045 - np.abs(v - crease)
        cv.paint(sl, cv.cov(d_cr) * 0.35 * cv.cov(ew * 0.95 - np.abs(u)), skin * 0.5)


def _brows(cv, p, hair):
    ey, sp, ew = p["eye_y"], p["eye_spacing"], p["eye_width"]
    col = hair * (0.6 if p["hair_colour"] in ("blonde", "grey") else 0.8)
    for sgn in (-1, 1):
        cx, cy = sgn * (sp + 0.01), ey - p["brow_height"]
        hw = ew * 1.25
        sl = cv.box(cx, cy, hw + 0.05)
        if sl is None:
            continue
        u, v = cv.local(sl, cx, cy)
        x = np.clip(u / hw, -1, 1)
        xs = sgn * x  # +1 at the outer end
        centre = -p["brow_arch"] * (1 - (xs - 0.25) ** 2) - p["brow_tilt"] * xs * 0.05
        th = p["brow_thickness"] * (1.0 - 0.55 * np.clip(xs, 0, 1)) * (0.85 + 0.15 * (1 - np.abs(x)))
        a = cv.cov(np.minimum(th / 2 - np.abs(v - centre), hw - np.abs(u)))
        hairs = 0.78 + 0.22 * np.sin(u * 170 + v * 70 * sgn) * np.sin(u * 37 + 1.3)
        cv.paint(sl, a * hairs * 0.92, _rgb(col) * cv.lo_map("shade", sl)[None])


def _front_hair(cv, p):
    style = p["hair_style"]
    if style == "bald":
        return
    fw, fh, fcy = p["face_width"], p["face_height"], p["face_center_y"]
    vol = p["hair_volume"] if style != "buzz" else 0.012
    ear_top = p["eye_y"] - 0.02
    sl = cv.rbox(-fw - vol - 0.05, fcy - fh - vol - 0.08, fw + vol + 0.05, ear_top + 0.1)
    if sl is None:
        return
    u, v = cv.local(sl, 0.0, 0.0)
    rx, ry = fw + vol, fh + vol
    outer = (1 - np.sqrt((u / rx) ** 2 + ((v - fcy + 0.04) / ry) ** 2)) * rx
    if style == "curly":
        ang = np.arctan2(v - fcy, u)
        outer = outer + 0.02 * np.sin(ang * 13 + p["texture_seed"] % 11)
    hl0 = p["eye_y"] - p["hairline"]
    if p["fringe"] and style != "buzz":
        hl0 = p["eye_y"] - p["fringe_depth"]
        wave = 0.025 * np.abs(np.sin(u * 18 + p["texture_seed"] % 3))
        hl = hl0 + p["fringe_tilt"] * u + wave
    else:
        # a side part at u = part: hair swept from it over the other side of the forehead
        part = p["fringe_tilt"] * 1.2
        side = 1.0 if part < 0 else -1.0
        sweep = np.clip((u - part) * side, 0.0, None)
        hl = hl0 + 0.015 * np.sin(u * 9) + 0.12 * sweep * np.exp(-(((u - part) * side - 0.25) / 0.3) ** 2)
    hl = np.maximum(hl, hl0 + (ear_top - hl0) * (np.abs(u) / fw) ** 4)
    fray = cv.lo_map("fray", sl)
    d = np.minimum(outer + 0.01 * fray, hl - v + 0.018 * fray)
    a = cv.cov(d) * (0.85 if style == "buzz" else 1.0)
    sh = cv.cov(np.minimum(outer, hl + 0.035 - v), soft=0.03) * 0.3 * (1 - a)
    cv.paint(sl, sh, cv.region(sl) * 0.55)  # the hair's shadow on the forehead
    hair = cv.lo_map("hair", sl)
    if not p["fringe"] and style in ("short", "medium", "long"):
        # the parting: a thin line of shadowed scalp from the hairline up to the crown
        line = cv.cov(0.006 - np.abs(u - part - 0.1 * (v - hl0) * side)) * _smooth((hl0 - v) / 0.03)
        hair = hair * (1 - 0.55 * line)[None]
    cv.paint(sl, a, hair)


def _lens_distance(u, v, shape, lw, lh, sgn):
    """Signed distance (approx.) of a lens outline in its own frame (``sgn`` -1 right, +1 left eye)."""
    if shape == "round":
        n, ry = 2.0, np.full_like(v, lh)
    elif shape == "rectangular":
        n, ry = 5.0, np.full_like(v, lh)
    elif shape == "aviator":  # teardrop: flat top, deep rounded bottom, bulging outwards
        n, ry = 2.4, np.where(v > 0, lh * (1.05 + 0.35 * np.clip(sgn * u / lw, 0, 1)), lh * 0.8)
    else:  # cat-eye: raised outer-top corner
        n, ry = 2.6, np.where(v < 0, lh * (1 + 0.55 * np.clip(sgn * u / lw, 0, 1) ** 2), lh * 0.85)
    r = (np.abs(u / lw) ** n + np.abs(v / ry) ** n) ** (1.0 / n)
    return (1.0 - r) * np.minimum(lw, ry)


def _glasses(cv, p):
    if not p["glasses"]:
        return
    shape = p["glasses_shape"]
    ey, sp = p["eye_y"], p["eye_spacing"]
    t = p["glasses_thickness"]
    col = np.array(p["glasses_rgb"], _F)
    lw = p["eye_width"] * 1.4
    lh = {"round": lw * 0.9, "rectangular": lw * 0.62, "aviator": lw * 0.8, "cat_eye": lw * 0.62}[shape]
    if shape == "round":
        lw = lw * 0.9
    cy = ey + 0.012
    for sgn in (-1, 1):
        cx = sgn * sp
        sl = cv.box(cx, cy, max(lw, lh) * 1.5)
        if sl is None:
            continue
        u, v = cv.local(sl, cx, cy)
        d = _lens_distance(u, v, shape, lw, lh, sgn)
        lens = cv.cov(d)
        cv.paint(sl, lens * p["lens_tint"] * 0.5, col * 0.3)
        glare = np.exp(-(((u + v * 0.8 - 0.2 * lw) / 0.016) ** 2)) * lens * 0.3
        cv.paint(sl, glare, np.ones(3, _F))
        ring = cv.cov(t / 2 - np.abs(d))
        cv.paint(sl, ring, _rgb(col) * (0.75 + 0.5 * np.clip(-v / lh, 0, 1))[None])
        # temple arm towards the ear
        x0, x1 = sp + lw * 0.95, p["face_width"] + 0.03
        sl2 = cv.rbox(min(sgn * x0, sgn * x1), cy - lh, max(sgn * x0, sgn * x1), cy)
        if sl2 is not None:
            u2, v2 = cv.local(sl2, 0.0, cy - lh * 0.45)
            arm = np.minimum(t * 0.45 - np.abs(v2 - 0.1 * (sgn * u2 - x0)), np.minimum(sgn * u2 - x0, x1 - sgn * u2))
            cv.paint(sl2, cv.cov(arm), col)
    # the bridge over the nose
    xin = sp - lw * 0.92
    sl = cv.rbox(-xin - 0.02, cy - lh, xin + 0.02, cy)
    if sl is not None:
        u, v = cv.local(sl, 0.0, cy - lh * 0.35)
        br = np.minimum(t * 0.5 - np.abs(v + 0.02 * (1 - (u / max(xin, 1e-3)) ** 2)), xin + 0.01 - np.abs(u))
        cv.paint(sl, cv.cov(br), col)
