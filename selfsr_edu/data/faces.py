"""Faces in photographs: detection, 5-point landmarks, similarity alignment and paste-back.

R super-resolves *aligned* 16×16 faces: the eyes and nose where SynthFaces
(or the DIC crops) put them. A photograph needs four steps around R:

1. **Detect** (:func:`detect_faces`): dlib's HOG + linear SVM frontal-face
   detector (``dlib.get_frontal_face_detector()``) gives boxes with a score;
   dlib's 5-point shape predictor (``shape_predictor_5_face_landmarks.dat``,
   shipped by ``face_recognition_models``, CC0) gives the two corners of each
   eye and the base of the nose. Point order, as dlib numbers them (image
   left/right, the subject's right eye is on the image's left)::

       0 outer corner of the eye on the image's right   1 its inner corner
       2 outer corner of the eye on the image's left    3 its inner corner
       4 base of the nose (between the nostrils)

2. **Align** (:func:`similarity_transform`, :func:`align_face`): the
   similarity ``x ↦ s R x + t`` (rotation, uniform scale, translation) that
   maps the 5 landmarks closest, in least squares, to :data:`TEMPLATE`; the
   crop is an inverse warp (each crop pixel looks up where it comes from in
   the photo), made at a size where one crop pixel covers at most one photo
   pixel and then shrunk with PIL bicubic (antialiased), so an aligned 16×16
   face is made the same way as the training LR.
3. **Super-resolve** with R (``selfsr_edu.photo``).
4. **Paste back** (:func:`paste_back`): the SR face is warped into the
   (upscaled) photo through the same transform, blended with a soft
   elliptical alpha (:func:`face_alpha`) so no seam shows.

Coordinates. Photo points are in *pixel coordinates with pixel centres at
integers* (dlib's and OpenCV's convention: the top-left pixel is centred on
(0, 0), the image spans [−0.5, W − 0.5]). Aligned crops use *unit
coordinates* (u right, v down; the crop spans [0, 1]², pixel k of an n-pixel
crop is centred on (k + 0.5)/n), so one transform serves the 16×16 LR, the
128×128 SR output and any size in between. Every transform is a 3×3 matrix
``T`` acting on homogeneous points: ``(u, v, 1)ᵀ = T (x, y, 1)ᵀ``.

The template (assumed). :data:`TEMPLATE` is where dlib's 5-point predictor
puts the landmarks *on SynthFaces themselves*: the mean over the 59 of the
first 60 SynthFaces (seed 0, 128×128) in which dlib found a face (one miss),
made left-right symmetric (:func:`measure_template` repeats the
measurement). Why SynthFaces: the shipped reference R was trained on them, so
a real face aligned this way sits in R's input the way its training faces
did (eye line at half height, the eye corners 0.29 of the width apart). The
DIC/CelebA-style crops of the bundled samples (``samples.CROP_BOXES``) frame
the face a little tighter and higher: on the astronaut, dlib puts the eye line
at 0.42 of the height and the outer eye corners 0.33 of the width apart, the
nose base at 0.60 (SynthFaces: 0.65). Real noses are a little longer relative
to the eyes than SynthFaces' (eye-to-nose / eye-corner span 0.53 on the
astronaut, 0.48 on SynthFaces); the least-squares fit splits the difference.
The same unit template serves the ×4 real-world setting (64×64 HR).

Missing extra: without dlib or face_recognition_models every function that
needs them raises ``ImportError`` naming ``pip install 'selfsr_edu[faces]'``.
"""
from __future__ import annotations

import importlib
import importlib.util
import math
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

#: The 5-point template in unit coordinates (x right, y down; see the module docstring), dlib's order.
TEMPLATE = np.array([
    [0.645, 0.504],   # 0 outer corner, eye on the image's right
    [0.557, 0.510],   # 1 inner corner, same eye
    [0.355, 0.504],   # 2 outer corner, eye on the image's left
    [0.443, 0.510],   # 3 inner corner, same eye
    [0.500, 0.647],   # 4 base of the nose
])

#: The paste-back alpha: an ellipse (centre cx, cy; semi-axes ax, ay in unit coordinates) that holds the
#: face, ears and hairline of the template framing, fading to 0 at its edge over the outer FEATHER of
#: its radius. Assumed (chosen by eye on SynthFaces: the face's half-width is about 0.26).
ELLIPSE = (0.5, 0.5, 0.40, 0.47)
FEATHER = 0.25

#: Detection defaults. Assumed: a score threshold of 0.2 drops the astronaut's mission patch (score 0.12
#: when upsampled once) while real faces we measured scored 0.23 (19 px wide) to 1.5; ``upsample=None``
#: upsamples the image (2× per step, at most twice) while it stays under AUTO_UPSAMPLE_PIXELS, since the
#: HOG detector only finds faces about 80 px wide, 40 px after one upsampling, 20 px after two.
MIN_SCORE = 0.2
AUTO_UPSAMPLE_PIXELS = 16_000_000
#: The largest face box (photo pixels) :func:`detect_small_faces` looks for by default (larger ones are
#: HOG's) and the cascade weight it needs (assumed; see there).
SMALL_FACE_MAX = 40
SMALL_FACE_MIN_WEIGHT = 1.0

_EXTRA = "pip install 'selfsr_edu[faces]'"
_PREDICTOR = "shape_predictor_5_face_landmarks.dat"


class Face(NamedTuple):
    """One detected face: ``box`` (left, top, right, bottom) in photo pixels, right/bottom exclusive
    (as ``samples.CROP_BOXES``; it may reach outside the photo); ``landmarks`` a 5×2 float array
    (x, y) in dlib's order; ``score`` the detector's SVM margin (higher is surer)."""
    box: tuple
    landmarks: np.ndarray
    score: float


# --------------------------------------------------------------------------- dlib and its models

def _dlib(model: str = _PREDICTOR):
    """The ``dlib`` module and the path of one of ``face_recognition_models``' files (default: the
    5-point predictor), or an ImportError naming the extra.

    The file is located with :func:`importlib.util.find_spec` rather than by importing
    ``face_recognition_models``: its ``__init__`` imports ``pkg_resources``, which setuptools ≥ 81
    no longer ships (its own ``pose_predictor_five_point_model_location()`` is this same path).
    """
    try:
        dlib = importlib.import_module("dlib")
    except ImportError as exc:
        raise ImportError(f"face detection needs dlib (the dlib-bin wheel), which is not installed: {_EXTRA}") from exc
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"face landmarks need the face_recognition_models package (dlib's model files), which "
                          f"is not installed: {_EXTRA}")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / model
    if not path.is_file():
        raise ImportError(f"{path} is missing from face_recognition_models; reinstall it: {_EXTRA}")
    return dlib, path


def check_available() -> None:
    """Raise the ImportError naming ``pip install 'selfsr_edu[faces]'`` unless dlib and its 5-point
    model are installed (call it before any long work that will need them)."""
    _dlib()


@lru_cache(maxsize=1)
def _models(path: str):
    dlib = importlib.import_module("dlib")
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(path)


def _as_uint8(image) -> np.ndarray:
    """A 3×H×W float tensor in [0, 1] or an H×W×3 uint8 array → a contiguous H×W×3 uint8 array."""
    if torch.is_tensor(image):
        if image.dim() != 3 or image.shape[0] != 3:
            raise ValueError(f"expected a 3×H×W RGB tensor, got shape {tuple(image.shape)}")
        from selfsr_edu.data.io import tensor_to_uint8

        return np.ascontiguousarray(tensor_to_uint8(image))
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"expected an H×W×3 uint8 RGB array, got shape {arr.shape} dtype {arr.dtype}")
    return np.ascontiguousarray(arr)


def auto_upsample(height: int, width: int, budget: int = AUTO_UPSAMPLE_PIXELS) -> int:
    """How many 2× upsamplings :func:`detect_faces` makes by default: the most (0, 1 or 2) that keep
    the upsampled image within ``budget`` pixels."""
    k = 0
    while k < 2 and height * width * 4 ** (k + 1) <= budget:
        k += 1
    return k


def detect_faces(image, upsample: int | None = None, min_score: float = MIN_SCORE) -> list[Face]:
    """Faces in ``image`` (3×H×W float tensor in [0, 1], or H×W×3 uint8), left to right.

    dlib's HOG detector slides a linear SVM over histograms of oriented gradients on an image
    pyramid; ``upsample`` doubles the image that many times first (smaller faces, 4× the time
    each; default :func:`auto_upsample`). Detections scoring below ``min_score`` are dropped.
    Each box's 5 landmarks come from dlib's shape predictor (a cascade of regression trees).
    """
    dlib, path = _dlib()
    arr = _as_uint8(image)
    if upsample is None:
        upsample = auto_upsample(arr.shape[0], arr.shape[1])
    if not isinstance(upsample, int) or not 0 <= upsample <= 4:
        raise ValueError(f"upsample must be an integer in 0..4, got {upsample!r}")
    detector, predictor = _models(str(path))
    rects, scores, _ = detector.run(arr, upsample, float(min_score))
    faces = []
    for rect, score in zip(rects, scores):
        if score < min_score:
            continue
        shape = predictor(arr, rect)
        pts = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
        faces.append(Face((rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1), pts, float(score)))
    return sorted(faces, key=lambda f: (f.box[0], f.box[1]))


def detect_small_faces(image, max_side: float = SMALL_FACE_MAX, min_weight: float = SMALL_FACE_MIN_WEIGHT,
                       budget: int = AUTO_UPSAMPLE_PIXELS) -> list[Face]:
    """Faces too small for the HOG detector (boxes of about 6 to ``max_side`` pixels), left to right.

    R's sweet spot is a face whose aligned crop spans about 16 px (its box about 8 px); dlib's HOG
    window is 80 px, so it misses these even upsampled 4×. OpenCV's Viola-Jones cascade
    (``haarcascade_frontalface_default.xml``, shipped inside ``cv2``) was trained on 24×24 faces:
    the image is upsampled (bicubic) by ``f = min(4, sqrt(budget / pixels))`` so an 8-px box
    becomes ≈ 32 px, the cascade scans scales 1.03 apart with 3 neighbours (assumed: on a scene of
    six 16-px SynthFaces these found all six and nothing else; 1.05 missed one); a box is kept when the
    cascade's last-stage weight is at least ``min_weight`` (assumed 1.0: the six faces scored 1.9–5.1,
    a false face in the astronaut photo 0.75). dlib's 5-point predictor places the landmarks inside
    each box on the same upsampled image. ``Face.score`` is NaN: the weight is on another scale.
    """
    try:
        cv2 = importlib.import_module("cv2")
    except ImportError as exc:
        raise ImportError(f"small-face detection needs OpenCV (opencv-python-headless): {_EXTRA}") from exc
    dlib, path = _dlib()
    _, predictor = _models(str(path))
    arr = _as_uint8(image)
    h, w = arr.shape[:2]
    f = max(1.0, min(4.0, math.sqrt(budget / max(h * w, 1))))
    up = cv2.resize(arr, (round(w * f), round(h * f)), interpolation=cv2.INTER_CUBIC) if f > 1 else arr
    cascade = _cascade(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))
    boxes, _, weights = cascade.detectMultiScale3(cv2.cvtColor(up, cv2.COLOR_RGB2GRAY), scaleFactor=1.03,
                                                  minNeighbors=3, minSize=(24, 24),
                                                  maxSize=(int(max_side * f), int(max_side * f)), outputRejectLevels=True)
    faces = []
    for (x, y, bw, bh), weight in zip(boxes if len(boxes) else [], weights if len(boxes) else []):
        if float(weight) < min_weight or bw / f > max_side:
            continue
        shape = predictor(up, dlib.rectangle(int(x), int(y), int(x + bw), int(y + bh)))
        pts = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64) / f
        faces.append(Face((x / f, y / f, (x + bw) / f, (y + bh) / f), pts, float("nan")))
    return sorted(faces, key=lambda fc: (fc.box[0], fc.box[1]))


@lru_cache(maxsize=1)
def _cascade(path: str):
    import cv2

    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise ImportError(f"OpenCV's face cascade {path} is missing or unreadable; reinstall opencv: {_EXTRA}")
    return cascade


def _overlaps(a: tuple, b: tuple) -> bool:
    """Whether the centre of box ``a`` lies inside box ``b`` or the other way round."""
    inside = lambda p, q: q[0] <= (p[0] + p[2]) / 2 <= q[2] and q[1] <= (p[1] + p[3]) / 2 <= q[3]
    return inside(a, b) or inside(b, a)


def find_faces(image, upsample: int | None = None, min_score: float = MIN_SCORE, small: bool = True) -> list[Face]:
    """Every face: :func:`detect_faces` (dlib HOG) plus, with ``small``, :func:`detect_small_faces` for
    the faces smaller than HOG can see at this ``upsample`` (a small box inside, or holding, a HOG box
    is the same face: dropped)."""
    arr = _as_uint8(image)
    upsample = auto_upsample(arr.shape[0], arr.shape[1]) if upsample is None else upsample
    found = detect_faces(arr, upsample, min_score)
    if small:           # HOG sees faces of 80 / 2^upsample px and more; the cascade looks below that
        small_faces = detect_small_faces(arr, max_side=max(12.0, 80 / 2 ** upsample))
        found += [s for s in small_faces if not any(_overlaps(s.box, f.box) for f in found)]
    return sorted(found, key=lambda fc: (fc.box[0], fc.box[1]))


# --------------------------------------------------------------------------- the similarity transform

def similarity_transform(src, dst) -> np.ndarray:
    """The similarity ``y ≈ s R x + t`` closest to mapping points ``src`` onto ``dst`` (least squares).

    Umeyama (1991): with ``n`` point pairs ``xᵢ → yᵢ`` (rows of ``src`` and ``dst``, n×2), minimise
    ``E(s, R, t) = (1/n) Σᵢ ‖yᵢ − (s R xᵢ + t)‖²`` over a scale ``s > 0``, a rotation ``R``
    (``RᵀR = I``, ``det R = +1``) and a translation ``t``:

    * centre both sets: ``μx = mean(xᵢ)``, ``μy = mean(yᵢ)``, ``x̃ᵢ = xᵢ − μx``, ``ỹᵢ = yᵢ − μy``
      (setting ∂E/∂t = 0 gives ``t = μy − s R μx``, so only the centred problem remains);
    * their variance and cross-covariance: ``σx² = (1/n) Σ ‖x̃ᵢ‖²``, ``Σ = (1/n) Σ ỹᵢ x̃ᵢᵀ`` (2×2);
    * SVD ``Σ = U D Vᵀ``; ``S = diag(1, sign det(U Vᵀ))`` keeps ``R`` a rotation, not a reflection;
    * ``R = U S Vᵀ``, ``s = tr(D S) / σx²``, ``t = μy − s R μx``.

    Returns the 3×3 matrix ``[[sR, t], [0, 0, 1]]`` acting on homogeneous points (column vectors).
    """
    x = np.asarray(src, dtype=np.float64)
    y = np.asarray(dst, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or x.shape != y.shape:
        raise ValueError(f"src and dst must be n×2 arrays of the same shape, got {x.shape} and {y.shape}")
    if len(x) < 2:
        raise ValueError(f"a similarity needs at least 2 point pairs, got {len(x)}")
    mx, my = x.mean(0), y.mean(0)
    xc, yc = x - mx, y - my
    var_x = (xc ** 2).sum(1).mean()
    if not var_x > 1e-12:
        raise ValueError("src points all coincide: no similarity is defined")
    cov = yc.T @ xc / len(x)
    U, D, Vt = np.linalg.svd(cov)
    S = np.diag([1.0, 1.0 if np.linalg.det(U @ Vt) >= 0 else -1.0])
    R = U @ S @ Vt
    s = float(np.trace(np.diag(D) @ S) / var_x)
    T = np.eye(3)
    T[:2, :2] = s * R
    T[:2, 2] = my - s * R @ mx
    return T


def apply_transform(T: np.ndarray, points) -> np.ndarray:
    """``T`` (3×3) applied to n×2 points: ``(T (x, y, 1)ᵀ)`` without the homogeneous 1."""
    p = np.asarray(points, dtype=np.float64)
    return p @ T[:2, :2].T + T[:2, 2]


def transform_scale(T: np.ndarray) -> float:
    """The uniform scale ``s`` of a similarity: ``sqrt(|det A|)`` of its 2×2 part ``A = s R``."""
    return math.sqrt(abs(np.linalg.det(T[:2, :2])))


def alignment_transform(landmarks) -> np.ndarray:
    """Photo pixel coordinates → the aligned crop's unit coordinates: the least-squares similarity
    taking the 5 ``landmarks`` (5×2, dlib's order) to :data:`TEMPLATE`."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != TEMPLATE.shape:
        raise ValueError(f"landmarks must be 5×2 (dlib's 5-point order), got shape {lm.shape}")
    return similarity_transform(lm, TEMPLATE)


def crop_side_in_photo(T: np.ndarray) -> float:
    """How many photo pixels the aligned crop spans a side (its unit square is ``1/s`` photo pixels)."""
    return 1.0 / transform_scale(T)


# --------------------------------------------------------------------------- warping

def _sample(image: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Bicubic samples of a 3×H×W ``image`` at pixel coordinates (centres at integers) ``x``, ``y``
    (both h×w); outside the image the border pixels repeat. Clamped to [0, 1] (bicubic overshoots)."""
    H, W = image.shape[-2:]
    grid = torch.stack([(x + 0.5) / W * 2 - 1, (y + 0.5) / H * 2 - 1], dim=-1)[None].to(image.dtype)
    out = F.grid_sample(image[None], grid, mode="bicubic", padding_mode="border", align_corners=False)
    return out[0].clamp(0, 1)


def align_face(image: torch.Tensor, landmarks, size: int, warp_size: int | None = None):
    """The aligned ``size``×``size`` face crop of ``image`` (3×H×W in [0, 1]) and its transform.

    Inverse warp: crop pixel ``(j, i)`` has unit coordinates ``q = ((j+½)/n, (i+½)/n)`` and
    takes the photo's (bicubic) value at ``T⁻¹ q``, with ``T = alignment_transform(landmarks)``.
    Sampling at the crop's own size would alias when the face is larger than the crop, so the warp
    is made at ``n = max(size, warp_size, ⌈photo pixels the crop spans⌉)`` (capped at 4096) and then
    shrunk to ``size`` with :func:`selfsr_edu.resize.bicubic_pil` (antialiased PIL bicubic). Pass
    ``warp_size`` = the HR side (128) for a 16×16 LR crop: warp to the HR grid, then shrink as the
    training LR is made from its HR.

    Returns ``(crop, T)``: crop 3×size×size in [0, 1], ``T`` the 3×3 photo → unit transform.
    """
    from selfsr_edu.resize import bicubic_pil

    if not torch.is_tensor(image) or image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"image must be a 3×H×W tensor, got {getattr(image, 'shape', type(image))}")
    if int(size) < 1:
        raise ValueError(f"size must be a positive number of pixels, got {size}")
    size = int(size)
    T = alignment_transform(landmarks)
    n = max(size, int(warp_size or size), min(4096, math.ceil(crop_side_in_photo(T) - 1e-6)))
    q = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    V, U = torch.meshgrid(q, q, indexing="ij")
    Ti = torch.from_numpy(np.linalg.inv(T))
    x = Ti[0, 0] * U + Ti[0, 1] * V + Ti[0, 2]
    y = Ti[1, 0] * U + Ti[1, 1] * V + Ti[1, 2]
    warped = _sample(image.float(), x.float(), y.float())
    crop = warped if n == size else bicubic_pil(warped, size).clamp(0, 1)
    return crop, T


def face_alpha(u: torch.Tensor, v: torch.Tensor, ellipse=ELLIPSE, feather: float = FEATHER) -> torch.Tensor:
    """The soft elliptical paste-back alpha at unit coordinates ``(u, v)``.

    With the ellipse's normalised radius ``ρ = √(((u − cx)/ax)² + ((v − cy)/ay)²)``:
    ``α = 1`` for ``ρ ≤ 1 − f``, ``α = 0`` for ``ρ ≥ 1``, and the smoothstep ``3t² − 2t³`` of
    ``t = (1 − ρ)/f`` in between (``f`` = ``feather``, a fraction of the radius).
    """
    if not 0 < feather <= 1:
        raise ValueError(f"feather must be in (0, 1], got {feather}")
    cx, cy, ax, ay = ellipse
    rho = torch.sqrt(((u - cx) / ax) ** 2 + ((v - cy) / ay) ** 2)
    t = ((1 - rho) / feather).clamp(0, 1)
    return t * t * (3 - 2 * t)


def paste_back(photo: torch.Tensor, sr_face: torch.Tensor, transform: np.ndarray, scale: float = 1.0,
               feather: float = FEATHER, ellipse=ELLIPSE) -> torch.Tensor:
    """``photo`` with ``sr_face`` warped back to where :func:`align_face` took it from (a new tensor).

    ``transform`` maps the *original* photo's pixel coordinates to the face's unit coordinates;
    ``photo`` is that photo resized by ``scale`` (1: the original; 8: after ×8). A pixel ``(x, y)``
    of ``photo`` sits at ``x₀ = (x + ½)/scale − ½`` in the original (likewise ``y``), i.e. at unit
    coordinates ``q = T (x₀, y₀, 1)ᵀ``; there it takes ``F(q)``, the face sampled bicubically, blended as
    ``out = (1 − α(q)) · photo + α(q) · F(q)`` with the soft elliptical :func:`face_alpha`.
    Only the pixels inside the warped unit square are touched. When the face's footprint in
    ``photo`` is smaller than ``sr_face`` it is first shrunk with PIL bicubic (antialiased).
    """
    from selfsr_edu.resize import bicubic_pil

    if not (torch.is_tensor(photo) and photo.dim() == 3 and photo.shape[0] == 3):
        raise ValueError(f"photo must be a 3×H×W tensor, got {getattr(photo, 'shape', type(photo))}")
    if not (torch.is_tensor(sr_face) and sr_face.dim() == 3 and sr_face.shape[0] == 3):
        raise ValueError(f"sr_face must be a 3×h×w tensor, got {getattr(sr_face, 'shape', type(sr_face))}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    # target pixel coordinates → original pixel coordinates → unit coordinates
    D = np.array([[1 / scale, 0, 0.5 / scale - 0.5], [0, 1 / scale, 0.5 / scale - 0.5], [0, 0, 1]])
    M = np.asarray(transform, dtype=np.float64) @ D
    H, W = photo.shape[-2:]
    corners = apply_transform(np.linalg.inv(M), [[0, 0], [1, 0], [0, 1], [1, 1]])
    x0, y0 = np.floor(corners.min(0)).astype(int)
    x1, y1 = np.ceil(corners.max(0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
    out = photo.clone()
    if x0 >= x1 or y0 >= y1:
        return out                                   # the face lies outside this photo
    footprint = crop_side_in_photo(M)
    face = sr_face.float()
    if footprint < face.shape[-1] - 1e-6:
        face = bicubic_pil(face, max(1, math.ceil(footprint))).clamp(0, 1)
    ys = torch.arange(y0, y1, dtype=torch.float64)
    xs = torch.arange(x0, x1, dtype=torch.float64)
    Y, X = torch.meshgrid(ys, xs, indexing="ij")
    u = M[0, 0] * X + M[0, 1] * Y + M[0, 2]
    v = M[1, 0] * X + M[1, 1] * Y + M[1, 2]
    n_h, n_w = face.shape[-2:]
    values = _sample(face, (u * n_w - 0.5).float(), (v * n_h - 0.5).float())
    alpha = face_alpha(u, v, ellipse, feather).to(photo.dtype)
    region = out[:, y0:y1, x0:x1]
    out[:, y0:y1, x0:x1] = region + alpha * (values.to(photo.dtype) - region)
    return out


def measure_template(n: int = 60, seed: int = 0, size: int = 128) -> np.ndarray:
    """Re-measure :data:`TEMPLATE`: the mean dlib 5-point landmarks on the first ``n`` SynthFaces
    (``seed``), in unit coordinates, made left-right symmetric. Faces dlib misses are skipped."""
    from selfsr_edu.data.synthfaces import SynthFaces

    ds = SynthFaces(n, size=size, seed=seed)
    pts = []
    for i in range(len(ds)):
        faces = detect_faces(ds[i], upsample=1, min_score=0.0)
        if faces:
            pts.append(max(faces, key=lambda f: f.score).landmarks)
    if not pts:
        raise ValueError(f"dlib found no face in the first {n} SynthFaces")
    m = (np.mean(pts, axis=0) + 0.5) / size           # pixel centres at integers → unit coordinates
    mirror = m[[2, 3, 0, 1, 4]] * [-1, 1] + [1, 0]   # swap the eyes and reflect x ↦ 1 − x
    return (m + mirror) / 2


__all__ = ["Face", "TEMPLATE", "ELLIPSE", "FEATHER", "MIN_SCORE", "check_available", "detect_faces", "auto_upsample",
           "similarity_transform", "apply_transform", "transform_scale", "alignment_transform",
           "crop_side_in_photo", "align_face", "face_alpha", "paste_back", "measure_template"]
