"""Exercises with self-checks for the notebooks.

Every notebook ends its lesson with a few exercises. Each one is a markdown cell
(the task and the equation), a code cell for you (``# EXERCISE 1.1 — your code
here``, holding a stub), and a cell that calls :func:`check`::

    from selfsr_edu.exercises import check, hint
    check("1.1", my_warp)        # evaluates your answer, says what is right or wrong
    hint("1.1", 2)               # the second hint

:func:`check` never raises: an unanswered stub (``None``, a function that returns
``None`` or raises ``NotImplementedError``) prints "not answered yet" and the first
hint, and a function of yours that crashes is reported with its error. It returns a
:class:`CheckResult` (``.ok``, ``.message``).

How a checker works: it runs your answer on small *designed* inputs, computes an
independent reference inside the checker (the package's own function *and* a
second computation: ``grid_sample``, ``F.instance_norm``, scikit-image, SciPy, a
closed formula), and when your answer is wrong it also computes the typical wrong
answers (the flow's sign flipped, RGB instead of Y, the variance over the wrong
axis, ...) to tell you *which* mistake it looks like.

The solutions are in ``tests/test_exercises.py``, not in the notebooks.

Exercise ids follow the notebook numbers; they live in one table,
:data:`EXERCISE_IDS`, so renumbering the notebooks means editing that table (and
the ``check("…")`` calls in the notebooks), nothing else.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import torch
import torch.nn.functional as F

# --------------------------------------------------------------------------
# The id table: exercise id → (notebook, internal key). Change ids here only.
# --------------------------------------------------------------------------

EXERCISE_IDS: dict[str, tuple[str, str]] = {
    "0.1": ("00_task_and_data.ipynb", "make_lr"),
    "0.2": ("00_task_and_data.ipynb", "colour_cast"),
    "0.3": ("00_task_and_data.ipynb", "rate_standard_error"),
    "P.1": ("00_task_and_data.ipynb", "rgb_to_y"),
    "P.2": ("00_task_and_data.ipynb", "psnr"),
    "P.3": ("00_task_and_data.ipynb", "bicubic_baseline"),
    "1.1": ("01_warping.ipynb", "warp"),
    "1.2": ("01_warping.ipynb", "warp_by_hand"),
    "1.3": ("01_warping.ipynb", "motion_blur"),
    "2.1": ("02_degradation.ipynb", "flow_smoothness"),
    "2.2": ("02_degradation.ipynb", "smoothness_by_hand"),
    "2.3": ("02_degradation.ipynb", "degradation_objective"),
    "2.4": ("02_degradation.ipynb", "half_pixel_blur"),
    "3.1": ("03_self_conditioned_block.ipynb", "instance_norm"),
    "3.2": ("03_self_conditioned_block.ipynb", "modulate"),
    "3.3": ("03_self_conditioned_block.ipynb", "luma_condition"),
    "3.4": ("03_self_conditioned_block.ipynb", "luma_block"),
    "4.1": ("04_progressive_sr.ipynb", "fade_in"),
    "4.2": ("04_progressive_sr.ipynb", "stage_at"),
    "4.3": ("04_progressive_sr.ipynb", "cycle_loss"),
    "5.1": ("05_real_world.ipynb", "pseudo_lr"),
    "5.2": ("05_real_world.ipynb", "gain_over_bicubic"),
    "6.1": ("06_ablations.ipynb", "paired_interval"),
    "6.2": ("06_ablations.ipynb", "seeds_needed"),
    "7.1": ("07_feature_maps.ipynb", "gamma_by_hand"),
    "7.2": ("07_feature_maps.ipynb", "sobel"),
    "7.3": ("07_feature_maps.ipynb", "pearson"),
}


# --------------------------------------------------------------------------
# Machinery
# --------------------------------------------------------------------------


@dataclass
class Exercise:
    """One exercise: what it asks, which equation, how it is checked, hints."""

    key: str
    title: str
    equation: str
    hints: tuple[str, ...]
    checker: Callable[[Any], str]    # returns a success message; raises _Wrong / _NotAnswered
    id: str = ""
    notebook: str = ""


@dataclass
class CheckResult:
    """What :func:`check` found: ``ok`` (bool), ``message`` (the full text), ``answered``."""

    exercise_id: str
    ok: bool
    message: str
    answered: bool = True

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        state = "correct" if self.ok else ("not answered yet" if not self.answered else "not yet right")
        return f"CheckResult({self.exercise_id!r}: {state})"


class _Wrong(Exception):
    """The answer is wrong; the message says how."""


class _NotAnswered(Exception):
    """The answer is still the stub."""


_BY_KEY: dict[str, Exercise] = {}


def _exercise(key: str, title: str, equation: str, hints: tuple[str, ...]):
    def register(fn):
        _BY_KEY[key] = Exercise(key, title, equation, hints, fn)
        return fn
    return register


def _registry() -> dict[str, Exercise]:
    out = {}
    for ex_id, (notebook, key) in EXERCISE_IDS.items():
        ex = _BY_KEY[key]
        ex.id, ex.notebook = ex_id, notebook
        out[ex_id] = ex
    return out


def _get(exercise_id: str) -> Exercise:
    reg = _registry()
    if exercise_id not in reg:
        raise KeyError(f"no exercise {exercise_id!r}; exercises are {', '.join(reg)}")
    return reg[exercise_id]


def exercises() -> list[Exercise]:
    """All exercises, in id order of :data:`EXERCISE_IDS` (each has ``id``, ``notebook``,
    ``title``, ``equation``, ``hints``)."""
    return list(_registry().values())


def hint(exercise_id: str, k: int = 1) -> str:
    """The ``k``-th hint (1-based) of an exercise; printed and returned."""
    ex = _get(exercise_id)
    if not 1 <= k <= len(ex.hints):
        text = f"exercise {exercise_id} has hints 1..{len(ex.hints)}"
    else:
        text = f"hint {k}/{len(ex.hints)} for {exercise_id}: {ex.hints[k - 1]}"
    print(text)
    return text


def check(exercise_id: str, answer: Any) -> CheckResult:
    """Check ``answer`` for exercise ``exercise_id``; print and return a :class:`CheckResult`.

    Never raises for anything about the answer: a stub gives "not answered yet",
    an exception in your code is reported as a wrong answer with its message.
    """
    ex = _get(exercise_id)
    head = f"Exercise {ex.id} ({ex.equation}) — {ex.title}"
    more = f"(more: hint({ex.id!r}, 2))" if len(ex.hints) > 1 else ""
    try:
        if answer is None or answer is Ellipsis:
            raise _NotAnswered
        with torch.no_grad():
            detail = ex.checker(answer)
        result = CheckResult(ex.id, True, f"✓ {head}: correct. {detail}")
    except _NotAnswered:
        result = CheckResult(ex.id, False, f"… {head}: not answered yet.\n  Hint 1: {ex.hints[0]} {more}", False)
    except _Wrong as e:
        result = CheckResult(ex.id, False, f"✗ {head}: not yet right.\n  {e}\n  {_hint_line(ex)}")
    except Exception as e:  # the student's code crashed in a way we did not foresee
        result = CheckResult(ex.id, False, f"✗ {head}: your code raised {type(e).__name__}: {e}\n  {_hint_line(ex)}")
    print(result.message)
    return result


def _hint_line(ex: Exercise) -> str:
    return f"Stuck? hint({ex.id!r}, 1) … hint({ex.id!r}, {len(ex.hints)})."


def _call(fn, *args, **kwargs):
    """Run the student's function: a stub (None / NotImplementedError) is 'not answered',
    other errors become a wrong answer that quotes them."""
    if not callable(fn):
        raise _Wrong(f"expected a function, got {type(fn).__name__}")
    try:
        out = fn(*args, **kwargs)
    except NotImplementedError:
        raise _NotAnswered from None
    except (_Wrong, _NotAnswered):
        raise
    except Exception as e:
        raise _Wrong(f"your function raised {type(e).__name__}: {e}") from None
    if out is None:
        raise _NotAnswered
    return out


def _tensor(x, what: str, shape: tuple | None = None) -> torch.Tensor:
    """The answer as a float64 tensor, with a clear message on the wrong type or shape."""
    if isinstance(x, (int, float, list, tuple)) or (hasattr(x, "__array__") and not torch.is_tensor(x)):
        try:
            x = torch.as_tensor(x, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            raise _Wrong(f"{what} should be a tensor, got {type(x).__name__}") from None
    if not torch.is_tensor(x):
        raise _Wrong(f"{what} should be a tensor, got {type(x).__name__}")
    x = x.detach().double()
    if shape is not None and tuple(x.shape) != tuple(shape):
        raise _Wrong(f"{what} has shape {tuple(x.shape)}, expected {tuple(shape)}")
    return x


def _number(x, what: str = "your answer") -> float:
    if torch.is_tensor(x):
        if x.numel() != 1:
            raise _Wrong(f"{what} should be one number, got a tensor of shape {tuple(x.shape)}")
        return float(x)
    try:
        return float(x)
    except (TypeError, ValueError):
        raise _Wrong(f"{what} should be a number, got {type(x).__name__}") from None


def _close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-5) -> bool:
    return a.shape == b.shape and bool(((a.double() - b.double()).abs() <= atol).all())


def _diagnose(out: torch.Tensor, variants: dict[str, torch.Tensor], atol: float) -> None:
    """Raise _Wrong with the message of the first typical mistake ``out`` matches."""
    for message, value in variants.items():
        if _close(out, value, atol):
            raise _Wrong(message)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------
# 00_task_and_data, part 2: the paired LR, the wild degradation, attribute rates
# --------------------------------------------------------------------------


@_exercise("make_lr", "make the paired ×8 LR of the DIC protocol", "DIC protocol, Table I",
           ("Two steps: PIL-compatible bicubic 128 → 16 (`selfsr_edu.resize.bicubic_pil(hr, 16)`), then "
            "8-bit quantisation as saving a PNG does (`selfsr_edu.data.io.quantise8`).",
            "`quantise8(x)` is `round(255·x) / 255`: the values stay in [0, 1] but lie on the 8-bit grid.",
            "Not MATLAB's `imresize` and not `F.interpolate`: the face protocol makes its LR with PIL."))
def _check_make_lr(make_lr) -> str:
    from selfsr_edu.data.io import quantise8
    from selfsr_edu.resize import bicubic_pil, imresize

    g = _gen(0)
    hr = F.interpolate(torch.rand(2, 3, 32, 32, generator=g), size=128, mode="bilinear", align_corners=False)
    hr = quantise8((hr + 0.08 * torch.rand(2, 3, 128, 128, generator=g)).clamp(0, 1))
    out = _tensor(_call(make_lr, hr.clone()), "the LR", None)
    if out.shape != (2, 3, 16, 16):
        raise _Wrong(f"the LR has shape {tuple(out.shape)}; for two 3×128×128 faces it must be 2×3×16×16 (×8)")
    if out.max() > 1.5:
        raise _Wrong("values go up to 255: keep images as floats in [0, 1] (quantise8 rounds to the 8-bit grid "
                     "but divides by 255 again)")
    pil = bicubic_pil(hr, 16)
    ref = quantise8(pil).double()
    if _close(out, ref, 1e-6):
        return "PIL bicubic, then the 8-bit grid: exactly the Table I LR."
    if _close(out, pil.double(), 1e-6):
        raise _Wrong("right resampling, but the values are not on the 8-bit grid: the benchmark LR was saved as PNG, "
                     "so quantise it (round(255·x)/255).")
    off_grid = float((out * 255 - (out * 255).round()).abs().max())
    matlab = quantise8(imresize(hr, 1 / 8)).double()
    if _close(out, matlab, 1e-6) or _close(out, imresize(hr, 1 / 8).double(), 1e-6):
        raise _Wrong("this is MATLAB's imresize (mirrored borders); the DIC face protocol makes its LR with PIL "
                     "bicubic — notebook 00 (part 1) measures the difference.")
    diff = (out - ref).abs() * 255
    if float(diff.mean()) < 0.2:
        raise _Wrong(f"very close to PIL (mean difference {float(diff.mean()):.2f} levels) but up to "
                     f"{float(diff.max()):.0f} levels off, mostly at the border: F.interpolate(antialias=True) treats "
                     "borders differently from PIL; use bicubic_pil.")
    raise _Wrong(f"{float(diff.mean()):.1f} levels away from PIL bicubic on average"
                 f"{' (and not on the 8-bit grid)' if off_grid > 1e-3 else ''}: without antialiasing (plain "
                 "F.interpolate, strided sampling) or with a box filter the ×8 LR is not the benchmark's.")


@_exercise("colour_cast", "the colour cast of the wild degradation by hand", "SynthFaces-wild, step 1",
           ("Each channel c gets its own gain and offset: out[:, c] = gains[c]·x[:, c] + offsets[c].",
            "Make `gains` and `offsets` tensors of shape 1×3×1×1 so they broadcast over N, H and W.",
            "A camera stores values in [0, 1]: clamp the result."))
def _check_colour_cast(colour_cast) -> str:
    from selfsr_edu.data.wild import color_cast

    x = torch.rand(2, 3, 4, 5, generator=_gen(1)) * 0.6 + 0.4
    gains, offsets = (1.25, 1.0, 0.8), (0.05, 0.0, -0.03)
    out = _tensor(_call(colour_cast, x.clone(), gains, offsets), "the cast image", x.shape)
    ref = color_cast(x, gains, offsets).double()
    g = torch.tensor(gains).view(1, 3, 1, 1)
    b = torch.tensor(offsets).view(1, 3, 1, 1)
    independent = (x * g + b).clamp(0, 1).double()
    assert _close(ref, independent, 1e-6)
    if _close(out, ref, 1e-6):
        return "per-channel gain and offset, clamped to [0, 1], as wild.color_cast."
    _diagnose(out, {
        "right without the clamp: a gain of 1.25 pushes bright red above 1; clamp to [0, 1] like a camera does.":
            (x * g + b).double(),
        "the offset is scaled by the gain ((x + offset)·gain): add the offset after the gain.":
            ((x + b) * g).clamp(0, 1).double(),
        "the gains (and offsets) are applied to the channels in reverse order (BGR?): channel 0 is red.":
            (x * g.flip(1) + b.flip(1)).clamp(0, 1).double(),
    }, 1e-6)
    raise _Wrong("the result differs from gains[c]·x + offsets[c], clamped: apply gain and offset per *channel* "
                 "(axis 1 of N×3×H×W).")


@_exercise("rate_standard_error", "how far may an observed attribute rate be from the intended one?",
           "binomial standard error",
           ("Each face has the attribute with probability p, independently: the count over n faces is binomial.",
            "The observed rate is count / n; its variance is p(1 − p)/n.",
            "The standard error is the square root of that variance: sqrt(p(1 − p)/n)."))
def _check_rate_standard_error(standard_error) -> str:
    import numpy as np

    cases = [(0.3, 400), (0.05, 1000), (0.5, 40)]
    got = [_number(_call(standard_error, p, n), f"standard_error({p}, {n})") for p, n in cases]
    ref = [math.sqrt(p * (1 - p) / n) for p, n in cases]
    rng = np.random.default_rng(0)   # independent: simulate many draws of n faces
    sim = [float(np.std(rng.binomial(n, p, size=20000) / n)) for p, n in cases]
    assert all(abs(s - r) / r < 0.05 for s, r in zip(sim, ref))
    if all(abs(a - r) <= 1e-9 + 1e-6 * r for a, r in zip(got, ref)):
        return (f"e.g. p = 0.3, n = 400: {ref[0]:.4f} (a simulation of 20 000 sets of faces gives {sim[0]:.4f}); "
                "the notebook allows 4.5 of these plus 0.01.")
    for name, fn in {
        "that is the variance p(1 − p)/n: take its square root.": lambda p, n: p * (1 - p) / n,
        "that is the standard deviation of the *count* sqrt(n p (1 − p)); the rate is count / n, so divide by n.":
            lambda p, n: math.sqrt(n * p * (1 - p)),
        "n − 1 is for a sample variance estimated from data; here p is known: divide by n.":
            lambda p, n: math.sqrt(p * (1 - p) / (n - 1)),
        "missing the (1 − p) factor: a Bernoulli variable has variance p(1 − p).": lambda p, n: math.sqrt(p / n),
    }.items():
        if all(abs(a - fn(p, n)) <= 1e-9 + 1e-6 * abs(fn(p, n)) for a, (p, n) in zip(got, cases)):
            raise _Wrong(name)
    raise _Wrong(f"standard_error(0.3, 400) gave {got[0]:.5f}, expected {ref[0]:.5f} (a simulation agrees: "
                 f"{sim[0]:.5f}).")


# --------------------------------------------------------------------------
# 00_task_and_data, part 1: Y channel, PSNR, the bicubic baseline
# --------------------------------------------------------------------------

_PRIMARIES = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 1.0], [0, 0, 0], [0.2, 0.5, 0.7]])


@_exercise("rgb_to_y", "the Y channel of ITU-R BT.601", "protocol: Y = 16 + 65.481 R + 128.553 G + 24.966 B",
           ("Input N×3×H×W RGB in [0, 1]; output N×1×H×W on the 0–255 scale (16 for black, 235 for white).",
            "Y = 16 + 65.481·R + 128.553·G + 24.966·B with R = x[:, 0:1], G = x[:, 1:2], B = x[:, 2:3] (slices keep "
            "the channel axis).",
            "Not the JPEG luma 0.299 R + 0.587 G + 0.114 B: that is full range (0–255), the protocol uses "
            "studio range (16–235)."))
def _check_rgb_to_y(rgb_to_y) -> str:
    from selfsr_edu.metrics import rgb_to_y as ref_fn

    x = _PRIMARIES.T.reshape(1, 3, 2, 3).clone()   # six pixels: red, green, blue, white, black, a mix
    raw = _call(rgb_to_y, x.clone())
    out = _tensor(raw, "Y")
    ref = ref_fn(x).double()
    try:   # independent: scikit-image's rgb2ycbcr (BT.601, studio range)
        from skimage.color import rgb2ycbcr

        sk = torch.from_numpy(rgb2ycbcr(x[0].permute(1, 2, 0).numpy().astype("float64"))[..., 0])[None, None]
        assert _close(sk, ref, 1e-3)
    except ImportError:  # pragma: no cover
        pass
    if out.shape == (1, 2, 3) and _close(out[:, None], ref, 1e-3):
        raise _Wrong("the values are right but the channel axis is gone: return N×1×H×W (use x[:, 0:1] rather "
                     "than x[:, 0], or keepdim).")
    if out.shape != ref.shape:
        raise _Wrong(f"Y has shape {tuple(out.shape)}, expected N×1×H×W = {tuple(ref.shape)}")
    if _close(out, ref, 1e-3):
        return "red 81.5, green 144.6, blue 41.0, white 235, black 16 — BT.601 studio range, as the metrics use."
    w = torch.tensor([65.481, 128.553, 24.966], dtype=torch.float64).view(1, 3, 1, 1)
    xd = x.double()
    _diagnose(out, {
        "red and blue weights are swapped: that is the formula for BGR arrays (OpenCV); our tensors are RGB, so "
        "R gets 65.481 and B 24.966.": 16 + (xd * w.flip(1)).sum(1, keepdim=True),
        "missing the +16 offset: black must be 16 and white 235 (studio range).": (xd * w).sum(1, keepdim=True),
        "this is Y on the [0, 1] scale (Y/255); the protocol's PSNR uses peak 255, so keep Y on 0–255.":
            (16 + (xd * w).sum(1, keepdim=True)) / 255,
        "that is the full-range JPEG luma 255·(0.299 R + 0.587 G + 0.114 B) (white = 255); the protocol uses "
        "BT.601 studio range, 16 + 65.481 R + 128.553 G + 24.966 B.":
            255 * (xd * torch.tensor([0.299, 0.587, 0.114], dtype=torch.float64).view(1, 3, 1, 1)).sum(1, keepdim=True),
        "that is the plain mean of R, G and B: the eye weights green most, so does Y.":
            xd.mean(1, keepdim=True) * 255,
    }, 1e-2)
    raise _Wrong(f"for pure red Y should be {float(ref[0, 0, 0, 0]):.3f}, you give {float(out[0, 0, 0, 0]):.3f}; "
                 f"for white 235, you give {float(out[0, 0, 1, 0]):.3f}.")


def _psnr_inputs():
    """Two 3×32×32 pairs: image 0 errs mostly in the 8-px border, image 1 mostly in colour (Y unchanged)."""
    g = _gen(2)
    hr = torch.rand(2, 3, 32, 32, generator=g) * 0.6 + 0.2
    sr = hr + 0.01 * torch.randn(2, 3, 32, 32, generator=g)
    border = torch.ones(32, 32, dtype=torch.bool)
    border[8:-8, 8:-8] = False
    sr[0, :, border] += 0.15 * torch.randn(3, int(border.sum()), generator=g)
    chroma = torch.tensor([1.0, -65.481 / 128.553, 0.0]).view(3, 1, 1) * 0.12   # Δ with 65.481ΔR + 128.553ΔG = 0
    sr[1] += chroma * torch.sign(torch.randn(1, 32, 32, generator=g))
    return sr.clamp(0, 1), hr


@_exercise("psnr", "PSNR under the DIC protocol", "protocol: PSNR on Y, 8-px crop",
           ("Per image: quantise both images to 8 bits, crop 8 pixels on every side, convert to Y (0–255), "
            "MSE over the pixels, 10·log10(255² / MSE).",
            "Return one value per image (shape N): `mse = (a - b).pow(2).flatten(1).mean(1)`.",
            "Crop with `x[..., 8:-8, 8:-8]`; quantise with `selfsr_edu.data.io.quantise8`; Y with P.1's function "
            "or `selfsr_edu.metrics.rgb_to_y`."))
def _check_psnr(my_psnr) -> str:
    from selfsr_edu.metrics import psnr

    sr, hr = _psnr_inputs()
    out = _tensor(_call(my_psnr, sr.clone(), hr.clone()), "your PSNR")
    ref = psnr(sr, hr, crop_border=8).double()
    if out.numel() == 1 and ref.numel() == 2:
        if abs(float(out) - float(ref.mean())) < 0.05:
            raise _Wrong("you return the mean over the batch; the protocol wants one PSNR per image (shape N), "
                         "then the mean of those.")
        raise _Wrong("you return one number for two images; return one PSNR per image (shape N).")
    out = out.reshape(-1)
    if out.shape != (2,):
        raise _Wrong(f"expected one PSNR per image (shape (2,)), got {tuple(out.shape)}")
    # independent: scikit-image on the cropped 8-bit Y arrays
    from skimage.metrics import peak_signal_noise_ratio

    from selfsr_edu.data.io import quantise8
    from selfsr_edu.metrics import rgb_to_y

    ya, yb = rgb_to_y(quantise8(sr.double())), rgb_to_y(quantise8(hr.double()))
    sk = torch.tensor([peak_signal_noise_ratio(yb[i, 0, 8:-8, 8:-8].numpy(), ya[i, 0, 8:-8, 8:-8].numpy(),
                                               data_range=255) for i in range(2)])
    assert _close(sk, ref, 1e-3)
    if _close(out, ref, 0.01):
        return f"{ref[0]:.2f} dB and {ref[1]:.2f} dB (scikit-image agrees on the cropped Y)."
    no_crop = psnr(sr, hr, crop_border=0).double()
    rgb = psnr(sr, hr, crop_border=8, y_channel=False).double()
    _diagnose(out, {
        f"off by 20·log10(255) = {20 * math.log10(255):.2f} dB: Y is on 0–255, so the peak is 255, not 1.":
            ref - 20 * math.log10(255),
        f"off by {float((rgb - ref)[1]):+.1f} dB on the second image, whose error is in colour only: are you "
        "using RGB instead of Y?": rgb,
        f"the first image's error sits in the border and you count it ({float((no_crop - ref)[0]):+.1f} dB): crop "
        "8 pixels on every side before the MSE.": no_crop,
        "RGB and no crop: two steps of the protocol are missing (Y channel, 8-px border crop).":
            psnr(sr, hr, crop_border=0, y_channel=False).double(),
        "twice the right value: 10·log10(255²/MSE) or 20·log10(255/RMSE), not both.": 2 * ref,
        "you skipped the 8-bit quantisation (a small difference, but the protocol rounds both images as PNGs do).":
            psnr(sr, hr, crop_border=8, quantize=False).double(),
    }, 0.01)
    raise _Wrong(f"expected {ref[0]:.3f} and {ref[1]:.3f} dB, got {out[0]:.3f} and {out[1]:.3f}.")


@lru_cache(maxsize=1)
def _faces():
    from selfsr_edu.data.samples import sample_faces

    return sample_faces()


@_exercise("bicubic_baseline", "the Bicubic row of Table I, end to end", "protocol, Table I",
           ("LR = quantise8(bicubic_pil(hr, 16)); up = bicubic_pil(lr, 128).clamp(0, 1); then "
            "psnr(up, hr, crop_border=8) and ssim(up, hr, crop_border=8).",
            "Return two tensors of shape N: (PSNR per image, SSIM per image).",
            "The defaults of selfsr_edu.metrics.psnr/ssim already use Y and 8-bit quantisation; the crop is yours "
            "to pass."))
def _check_bicubic_baseline(bicubic_scores) -> str:
    from selfsr_edu.data.io import quantise8
    from selfsr_edu.metrics import psnr, ssim
    from selfsr_edu.resize import bicubic_pil, imresize

    hr = _faces()
    got = _call(bicubic_scores, hr.clone())
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise _Wrong("return a pair (psnr_per_image, ssim_per_image)")
    p, s = _tensor(got[0], "PSNR").reshape(-1), _tensor(got[1], "SSIM").reshape(-1)
    if p.shape != (2,) or s.shape != (2,):
        raise _Wrong(f"expected one PSNR and one SSIM per face (two each), got shapes {tuple(p.shape)}, {tuple(s.shape)}")

    def scores(lr, crop=8, y=True):
        up = bicubic_pil(lr, 128).clamp(0, 1)
        return psnr(up, hr, crop_border=crop, y_channel=y).double(), ssim(up, hr, crop_border=crop, y_channel=y).double()

    lr = quantise8(bicubic_pil(hr, 16))
    ref_p, ref_s = scores(lr)
    if _close(p, ref_p, 0.02) and _close(s, ref_s, 2e-4):
        return (f"astronaut {ref_p[0]:.2f} dB / {ref_s[0]:.4f}, Grace Hopper {ref_p[1]:.2f} dB / {ref_s[1]:.4f} "
                "(Y, BT.601, 8-px crop).")
    candidates = {
        "the LR was made with MATLAB's imresize; the DIC protocol uses PIL bicubic.": scores(quantise8(imresize(hr, 1 / 8))),
        "the border crop is missing: the protocol drops 8 pixels on every side.": scores(lr, crop=0),
        "scores on RGB: the protocol measures on the Y channel.": scores(lr, y=False),
        "the LR was not quantised to 8 bits (the benchmark's LR are PNG files).": scores(bicubic_pil(hr, 16)),
    }
    for message, (cp, cs) in candidates.items():
        if _close(p, cp, 0.02):
            raise _Wrong(message)
    if _close(p, ref_p, 0.02):
        raise _Wrong(f"PSNR is right, SSIM is not: expected {ref_s[0]:.4f} and {ref_s[1]:.4f}, got {s[0]:.4f} and "
                     f"{s[1]:.4f} (same crop and Y for both metrics).")
    raise _Wrong(f"expected PSNR {ref_p[0]:.2f} and {ref_p[1]:.2f} dB, got {p[0]:.2f} and {p[1]:.2f}.")


# --------------------------------------------------------------------------
# 01_warping: Eq. 1
# --------------------------------------------------------------------------


def _bilinear_reference(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Eq. 1 written with gathers (no grid_sample): sample at (x − δx, y − δy), border clamp."""
    n, c, h, w = image.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=image.dtype), torch.arange(w, dtype=image.dtype), indexing="ij")
    x_s = (xs - flow[:, 0]).clamp(0, w - 1)
    y_s = (ys - flow[:, 1]).clamp(0, h - 1)
    x0, y0 = x_s.floor().long().clamp(max=w - 2), y_s.floor().long().clamp(max=h - 2)
    a, b = (x_s - x0)[:, None], (y_s - y0)[:, None]

    def at(yy, xx):
        idx = (yy * w + xx).view(n, 1, -1).expand(n, c, -1)
        return image.reshape(n, c, -1).gather(2, idx).view(n, c, h, w)

    return ((1 - a) * (1 - b) * at(y0, x0) + a * (1 - b) * at(y0, x0 + 1)
            + (1 - a) * b * at(y0 + 1, x0) + a * b * at(y0 + 1, x0 + 1))


@_exercise("warp", "write warp(image, flow) (Eq. 1)", "Eq. 1",
           ("Output pixel (x, y) samples the input at (x − δx, y − δy): build those sample locations for every pixel "
            "(torch.meshgrid), then let grid_sample interpolate.",
            "grid_sample wants normalised coordinates: with align_corners=True, g = 2·x_s/(W − 1) − 1; the grid is "
            "N×H×W×2 with (x, y) in the last axis.",
            "F.grid_sample(image, grid, mode='bilinear', padding_mode='border', align_corners=True)."))
def _check_warp(my_warp) -> str:
    from selfsr_edu.warp import warp

    h, w = 6, 7
    ramp_x = torch.arange(w, dtype=torch.float32).expand(1, 1, h, w).clone()
    ramp_y = torch.arange(h, dtype=torch.float32).view(1, 1, h, 1).expand(1, 1, h, w).clone()
    shift_x = torch.zeros(1, 2, h, w)
    shift_x[:, 0] = 1.0
    out = _tensor(_call(my_warp, ramp_x.clone(), shift_x.clone()), "warp(ramp, flow)", (1, 1, h, w))
    inner = out[0, 0, :, 1:-1]
    if _close(inner, ramp_x[0, 0, :, 1:-1].double() + 1, 1e-3):
        raise _Wrong("your warp shifts the image the wrong way: for a flow of +1 px in x the output at x should be "
                     "the input at x − 1 (the picture moves right), you sample at x + 1.")
    if _close(inner, ramp_x[0, 0, :, 1:-1].double(), 1e-3):
        shift_y = torch.zeros(1, 2, h, w)
        shift_y[:, 1] = 1.0
        out_y = _tensor(_call(my_warp, ramp_x.clone(), shift_y.clone()), "warp(ramp, flow)")
        if _close(out_y[0, 0, :, 1:-1], ramp_x[0, 0, :, 1:-1].double() - 1, 1e-3):
            raise _Wrong("δx and δy are swapped: channel 0 of the flow is δx (to the right), channel 1 is δy (down); "
                         "grid_sample's last axis is (x, y) too.")
        raise _Wrong("a flow of +1 px in x did not move the image at all: is the flow used?")
    if not _close(inner, ramp_x[0, 0, :, 1:-1].double() - 1, 1e-3):
        raise _Wrong(f"a flow of +1 px in x should move the picture one pixel right (output at x = input at x − 1); "
                     f"on a ramp 0, 1, 2, … your row reads {[round(v, 3) for v in out[0, 0, 0].tolist()]}. Check "
                     "the normalisation 2·x_s/(W − 1) − 1 with align_corners=True.")
    shift_y = torch.zeros(1, 2, h, w)
    shift_y[:, 1] = 1.0
    out_y = _tensor(_call(my_warp, ramp_y.clone(), shift_y.clone()), "warp(ramp, flow)")
    if not _close(out_y[0, 0, 1:-1], ramp_y[0, 0, 1:-1].double() - 1, 1e-3):
        raise _Wrong("x is right but a flow of +1 px in y does not move the picture one pixel down: check the y "
                     "sample location y − δy and its normalisation with H (not W).")
    g = _gen(3)
    image = torch.rand(2, 3, h, w, generator=g)
    flow = 1.6 * torch.randn(2, 2, h, w, generator=g)
    got = _tensor(_call(my_warp, image.clone(), flow.clone()), "warp(image, flow)", image.shape)
    ref = warp(image, flow).double()
    assert _close(ref, _bilinear_reference(image.double(), flow.double()), 1e-5)
    if _close(got, ref, 1e-4):
        return "shifts go the right way, sub-pixel samples are bilinear, borders repeat (matches selfsr_edu.warp and "\
               "a gather-based Eq. 1)."
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    grid = torch.stack([2 * (xs - flow[:, 0]) / (w - 1) - 1, 2 * (ys - flow[:, 1]) / (h - 1) - 1], -1)
    _diagnose(got, {
        "inside the image you are right, outside you are not: samples beyond the border should repeat the border "
        "pixel (padding_mode='border'), not be zero.":
            F.grid_sample(image, grid, padding_mode="zeros", align_corners=True).double(),
        "integer shifts are right but sub-pixel samples are nearest-neighbour: Eq. 1 interpolates bilinearly "
        "(mode='bilinear').": F.grid_sample(image, grid, mode="nearest", padding_mode="border",
                                             align_corners=True).double(),
    }, 1e-4)
    raise _Wrong(f"integer shifts are right, but for a random sub-pixel flow you are up to "
                 f"{float((got - ref).abs().max()):.3f} away from Eq. 1; check align_corners=True with the "
                 "(W − 1) normalisation.")


_HAND_X, _HAND_Y, _HAND_DX, _HAND_DY = 2, 1, -0.5, 0.75


@_exercise("warp_by_hand", "Eq. 1 by hand for one pixel", "Eq. 1",
           ("The sample location is (x_s, y_s) = (x − δx, y − δy) = (2 − (−0.5), 1 − 0.75).",
            "So x_s = 2.5 and y_s = 0.25: the four neighbours are (2, 0), (3, 0), (2, 1), (3, 1), with weights "
            "(1 − a)(1 − b), a(1 − b), (1 − a)b, ab for a = 0.5, b = 0.25.",
            "The image is linear (5y + x) and bilinear interpolation reproduces linear functions exactly: the answer "
            "is 5·y_s + x_s."))
def _check_warp_by_hand(answer) -> str:
    from selfsr_edu.warp import warp

    value = _number(answer)
    img = torch.arange(25, dtype=torch.float32).view(1, 1, 5, 5)
    flow = torch.zeros(1, 2, 5, 5)
    flow[0, 0, _HAND_Y, _HAND_X], flow[0, 1, _HAND_Y, _HAND_X] = _HAND_DX, _HAND_DY
    ref = float(warp(img, flow)[0, 0, _HAND_Y, _HAND_X])
    formula = 5 * (_HAND_Y - _HAND_DY) + (_HAND_X - _HAND_DX)
    assert abs(ref - formula) < 1e-5
    if abs(value - ref) < 1e-3:
        return f"I_gen(2, 1) = {ref:g}: sampled at (2.5, 0.25), between pixels 2 and 3 of row 0 and row 1."
    wrong = {
        5 * (_HAND_Y + _HAND_DY) + (_HAND_X + _HAND_DX):
            "you sampled at (x + δx, y + δy); Eq. 1 samples at (x − δx, y − δy).",
        5 * (_HAND_Y - _HAND_DX) + (_HAND_X - _HAND_DY): "δx and δy are swapped: δx moves along x (columns).",
        5 * (_HAND_X - _HAND_DY) + (_HAND_Y - _HAND_DX): "x and y are swapped: the pixel value is 5·y + x (y is the row).",
        float(img[0, 0, _HAND_Y, _HAND_X]): "that is the input pixel itself: the flow moves where it samples.",
        float(img[0, 0, round(_HAND_Y - _HAND_DY), round(_HAND_X - _HAND_DX)]):
            "that is the nearest pixel; Eq. 1 interpolates bilinearly between the four neighbours.",
    }
    for v, message in wrong.items():
        if abs(value - v) < 1e-3:
            raise _Wrong(message)
    raise _Wrong(f"{value:g} is not it. The sample location is (2.5, 0.25); try the four-neighbour formula.")


@_exercise("motion_blur", "motion blur as the mean of warps", "Eq. 1, Sec. 4 of notebook 01",
           ("Average `samples` warps by constant flows (t, 0) for t evenly spaced from −length/2 to +length/2 "
            "(torch.linspace).",
            "`flows.constant_flow(n, h, w, t, 0.0)` gives a constant flow; `warp(image, flow)` moves the image.",
            "Return the mean, not the sum: torch.stack([...]).mean(0)."))
def _check_motion_blur(blur) -> str:
    from selfsr_edu.data.flows import constant_flow
    from selfsr_edu.warp import warp

    image = torch.rand(1, 3, 10, 12, generator=_gen(4))

    def mean_of_warps(ts, vertical=False):
        fl = [constant_flow(1, 10, 12, 0.0, float(t)) if vertical else constant_flow(1, 10, 12, float(t), 0.0)
              for t in ts]
        return torch.stack([warp(image, f) for f in fl]).mean(0).double()

    length, samples = 2.0, 3
    got = _tensor(_call(blur, image.clone(), length, samples), "the blurred image", image.shape)
    ref = mean_of_warps(torch.linspace(-length / 2, length / 2, samples))
    independent = (torch.roll(image, 1, 3) + image + torch.roll(image, -1, 3)) / 3   # t = −1, 0, 1 px
    assert _close(ref[..., 1:-1], independent[..., 1:-1].double(), 1e-5)
    if _close(got, ref, 1e-4):
        got2 = _tensor(_call(blur, image.clone(), 5.0, 11), "the blurred image", image.shape)
        if _close(got2, mean_of_warps(torch.linspace(-2.5, 2.5, 11)), 1e-4):
            return "a horizontal stroke centred on the pixel: with length 2 and 3 samples, the mean of the pixel " \
                   "and its left and right neighbours."
        raise _Wrong("right for length 2 with 3 samples, wrong for length 5 with 11 samples: use both arguments.")
    _diagnose(got, {
        "you blurred vertically: a horizontal stroke moves pixels along x, flow (t, 0).":
            mean_of_warps(torch.linspace(-length / 2, length / 2, samples), vertical=True),
        f"that is the sum of the warps ({samples} times too bright): take the mean.":
            samples * ref,
        "your stroke runs from 0 to length: centre it on the pixel (−length/2 … +length/2), or the blurred face "
        "also shifts.": mean_of_warps(torch.linspace(0, length, samples)),
    }, 1e-4)
    raise _Wrong(f"expected the mean of {samples} warps along (t, 0), t in linspace(−1, 1, 3); you are up to "
                 f"{float((got - ref).abs().max()):.3f} away.")


# --------------------------------------------------------------------------
# 02_degradation: Eqs. 4, 5 and the half-pixel flow
# --------------------------------------------------------------------------


@_exercise("flow_smoothness", "the flow smoothness loss L_s", "Eq. 4",
           ("Eq. 4 is the total variation of the flow: horizontal plus vertical forward differences, in absolute "
            "value.",
            "Horizontal: T[..., :, 1:] − T[..., :, :-1] (along W); vertical: T[..., 1:, :] − T[..., :-1, :] (along H).",
            "Take the *mean* of each |difference| over every element (batch, both flow channels), then *add* the two."))
def _check_flow_smoothness(smoothness) -> str:
    from selfsr_edu.losses import flow_smoothness

    g = _gen(5)
    flow = torch.randn(2, 2, 5, 6, generator=g)
    got = _number(_call(smoothness, flow.clone()), "L_s")
    ref = float(flow_smoothness(flow))
    dx = torch.diff(flow, dim=3).abs().mean()
    dy = torch.diff(flow, dim=2).abs().mean()
    assert abs(ref - float(dx + dy)) < 1e-5
    if abs(got - ref) < 1e-4:
        only_x = torch.zeros(1, 2, 4, 4)
        only_x[..., 2:] = 1.0
        if abs(_number(_call(smoothness, only_x)) - 2 * 4 / (2 * 4 * 3)) > 1e-4:
            raise _Wrong("right on a random flow but not on a step: compute the differences along W and H of the "
                         "flow you are given, not a fixed one.")
        return f"{ref:.4f} = mean |∇x T| {float(dx):.4f} + mean |∇y T| {float(dy):.4f}."
    sx = torch.diff(flow, dim=3).abs().sum() + torch.diff(flow, dim=2).abs().sum()
    wrong = {
        "only the horizontal term (along W): Eq. 4 adds the vertical differences too.": float(dx),
        "only the vertical term (along H): Eq. 4 adds the horizontal differences too.": float(dy),
        "you averaged the two terms; Eq. 4 adds them.": float(dx + dy) / 2,
        "that is the sum of |differences|; the loss is their mean (so it does not grow with image size).": float(sx),
        "squared differences (an L2 / Tikhonov smoothness): Eq. 4 uses absolute values (L1, total variation).":
            float(torch.diff(flow, dim=3).pow(2).mean() + torch.diff(flow, dim=2).pow(2).mean()),
        "you differenced across the flow channels (δx − δy, axis 1): differences are taken along H and W.":
            float(torch.diff(flow, dim=1).abs().mean()),
    }
    for message, v in wrong.items():
        if abs(got - v) < 1e-4:
            raise _Wrong(message)
    raise _Wrong(f"expected {ref:.4f}, got {got:.4f}.")


_HAND_FLOW = torch.tensor([[[[0.0, 1.0, 1.0], [0.0, 0.0, 2.0]],
                            [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]]])   # 1×2×2×3: δx then δy


@_exercise("smoothness_by_hand", "Eq. 4 by hand for a 2×3 flow", "Eq. 4",
           ("Horizontal differences: each row of each channel has 2 of them (3 columns), so 2 channels × 2 rows × 2 "
            "= 8 numbers; average their absolute values.",
            "δx rows [0, 1, 1] and [0, 0, 2] give |1|, |0| and |0|, |2|; δy rows are constant. Mean = 3/8.",
            "Vertical: 2 channels × 1 × 3 = 6 differences (δx: 0, −1, 1; δy: 1, 1, 1), mean 5/6. L_s = 3/8 + 5/6."))
def _check_smoothness_by_hand(answer) -> str:
    from selfsr_edu.losses import flow_smoothness

    value = _number(answer)
    ref = float(flow_smoothness(_HAND_FLOW))
    assert abs(ref - (3 / 8 + 5 / 6)) < 1e-6
    if abs(value - ref) < 1e-3:
        return f"L_s = 3/8 + 5/6 = {ref:.4f}."
    for v, message in {3 / 8: "that is the horizontal term only; add the vertical one.",
                       5 / 6: "that is the vertical term only; add the horizontal one.",
                       3 + 5: "that is the *sum* of the absolute differences; Eq. 4 takes means (3/8 and 5/6).",
                       (3 / 8 + 5 / 6) / 2: "you averaged the two terms; Eq. 4 adds them.",
                       3 / 6 + 5 / 8: "right differences, wrong counts: there are 8 horizontal differences "
                                      "(2 channels × 2 rows × 2) and 6 vertical ones (2 × 1 × 3).",
                       (3 + 5) / 14: "you pooled all 14 differences into one mean; Eq. 4 averages each direction "
                                     "separately, then adds."}.items():
        if abs(value - v) < 1e-3:
            raise _Wrong(message)
    raise _Wrong(f"{value:g} is not it; count the differences along W and along H separately.")


@_exercise("degradation_objective", "G's objective", "Eq. 5 (with Eqs. 3 and 4)",
           ("L = L_adv + λ_idt·L_idt + λ_s·L_s with λ_idt = 10 and λ_s = 1 (Sec. IV-B).",
            "L_idt (Eq. 3) is the mean absolute difference between the intermediate image and G's clean input.",
            "L_s is Eq. 4 (your 2.1, or selfsr_edu.losses.flow_smoothness)."))
def _check_degradation_objective(objective) -> str:
    from selfsr_edu.losses import degradation_objective, flow_smoothness, identity_loss

    g = _gen(6)
    lr_syn = torch.rand(2, 3, 6, 6, generator=g)
    intermediate = lr_syn + 0.1 * torch.randn(2, 3, 6, 6, generator=g)
    flow = 0.5 * torch.randn(2, 2, 6, 6, generator=g)
    adv = torch.tensor(0.7)
    got = _number(_call(objective, adv.clone(), intermediate.clone(), lr_syn.clone(), flow.clone()), "L")
    idt, s = identity_loss(intermediate, lr_syn), flow_smoothness(flow)
    ref = float(degradation_objective(adv, idt, s))
    assert abs(ref - float(adv + 10 * (intermediate - lr_syn).abs().mean() + s)) < 1e-5
    if abs(got - ref) < 1e-4:
        return f"{float(adv):.3f} + 10·{float(idt):.4f} + 1·{float(s):.4f} = {ref:.4f}."
    for v, message in {
        float(adv + idt + 10 * s): "the weights are swapped: λ_idt = 10 multiplies the identity loss, λ_s = 1 the "
                                   "smoothness.",
        float(adv + 10 * (intermediate - lr_syn).pow(2).mean() + s): "the identity loss of Eq. 3 is L1 (mean "
                                                                      "absolute difference), not squared.",
        float(adv + 10 * idt): "the smoothness term λ_s·L_s (Eq. 4) is missing.",
        float(adv + s): "the identity term λ_idt·L_idt (Eq. 3) is missing.",
        float(10 * idt + s): "the adversarial term L_adv is missing: it is what makes G's output look real.",
        float(adv + idt + s): "λ_idt is 10, not 1.",
    }.items():
        if abs(got - v) < 1e-4:
            raise _Wrong(message)
    raise _Wrong(f"expected {ref:.4f}, got {got:.4f}.")


@_exercise("half_pixel_blur", "the flow that is a 2×2 box filter", "Eq. 1, notebook 02 Sec. 3",
           ("A constant flow samples every pixel at (x − δx, y − δy). Half-way between two pixels, bilinear sampling "
            "takes the average of both.",
            "The box filter averages the pixel with its *left* and *upper* neighbours (x − 1, y − 1): sample at "
            "(x − ½, y − ½).",
            "Answer as a pair (δx, δy) of numbers."))
def _check_half_pixel_blur(answer) -> str:
    from selfsr_edu.data.flows import constant_flow
    from selfsr_edu.warp import warp

    if torch.is_tensor(answer) and answer.dim() == 4:
        if answer.shape[1] != 2:
            raise _Wrong(f"a flow is N×2×H×W, got {tuple(answer.shape)}")
        dx, dy = float(answer[0, 0].mean()), float(answer[0, 1].mean())
        if float(answer.std(dim=(2, 3)).max()) > 1e-6:
            raise _Wrong("a box filter does the same everywhere: the flow must be constant")
    else:
        try:
            dx, dy = (_number(v, "δx, δy") for v in answer)
        except TypeError:
            raise _Wrong("answer with a pair (δx, δy), e.g. answer = (0.25, 0.0)") from None
    image = torch.rand(1, 3, 8, 8, generator=_gen(7))
    box = (image + torch.roll(image, 1, 3) + torch.roll(image, 1, 2) + torch.roll(image, (1, 1), (2, 3))) / 4
    out = warp(image, constant_flow(1, 8, 8, dx, dy))
    inner = (..., slice(1, None), slice(1, None))
    if _close(out[inner], box[inner], 1e-5):
        return "(½, ½): each output pixel is the mean of a 2×2 block — the cheapest blur a warp can make."
    if abs(abs(dx) - 0.5) < 1e-6 and abs(abs(dy) - 0.5) < 1e-6:
        raise _Wrong("it is a 2×2 box filter, but over the right/lower neighbours (x + 1, y + 1): the sign is "
                     "flipped; Eq. 1 samples at (x − δx, y − δy).")
    if (abs(abs(dx) - 0.5) < 1e-6) != (abs(abs(dy) - 0.5) < 1e-6):
        raise _Wrong("that blurs along one axis only: the 2×2 box needs half a pixel in x *and* in y.")
    raise _Wrong(f"({dx:g}, {dy:g}) does not average 2×2 blocks: bilinear sampling averages two pixels equally "
                 "only half-way between them.")


# --------------------------------------------------------------------------
# 03_self_conditioned_block: Eq. 6
# --------------------------------------------------------------------------


def _features() -> torch.Tensor:
    """2×3×4×4 features with different means and scales per image and channel; channel 2 of image 1 is
    nearly constant (std 1e-3), where ε's place matters."""
    g = _gen(8)
    f = torch.randn(2, 3, 4, 4, generator=g)
    scale = torch.tensor([[1.0, 3.0, 0.5], [2.0, 0.2, 1e-3]]).view(2, 3, 1, 1)
    shift = torch.tensor([[0.0, 5.0, -2.0], [1.0, -3.0, 4.0]]).view(2, 3, 1, 1)
    return (f - f.mean(dim=(2, 3), keepdim=True)) / f.std(dim=(2, 3), keepdim=True, unbiased=False) * scale + shift


@_exercise("instance_norm", "instance normalisation, the first half of the SCB", "Eq. 6",
           ("μ and σ are per image *and* per channel: reduce over H and W only (dim=(2, 3), keepdim=True).",
            "The variance is the biased one (divide by HW): `((f - mu)**2).mean(dim=(2, 3), keepdim=True)`; "
            "torch.var divides by HW − 1 unless unbiased=False.",
            "ε goes inside the square root: σ = sqrt(var + ε)."))
def _check_instance_norm(my_instance_norm) -> str:
    from selfsr_edu.nn.scb import instance_norm

    f = _features()
    out = _tensor(_call(my_instance_norm, f.clone()), "IN(f)")
    ref = instance_norm(f).double()
    assert _close(ref, F.instance_norm(f.double(), eps=1e-5), 1e-5)
    if out.shape != f.shape:
        raise _Wrong(f"shape {tuple(out.shape)}: IN keeps the shape of the features, N×C×H×W = {tuple(f.shape)}")
    if _close(out, ref, 1e-4):
        return "zero mean and unit (biased) variance per image and channel, ε inside the root — as F.instance_norm."
    fd = f.double()
    means = out.mean(dim=(2, 3))
    if not _close(means, torch.zeros_like(means), 1e-3):
        if _close(out.mean(dim=1), torch.zeros_like(out.mean(dim=1)), 1e-3):
            raise _Wrong("shape is N×C×H×W but the mean over H,W is not 0: did you normalise over the channel axis? "
                         "Eq. 6 reduces over H and W, per image and channel.")
        if _close(out.mean(dim=(0, 2, 3)), torch.zeros(3, dtype=out.dtype), 1e-3):
            raise _Wrong("the mean over the whole batch is 0 but not per image: that is batch normalisation; Eq. 6 "
                         "normalises each image on its own (reduce over H and W only).")
        if _close(out.mean(dim=(1, 2, 3)), torch.zeros(2, dtype=out.dtype), 1e-3):
            raise _Wrong("each image has mean 0 over C, H, W together (layer norm); Eq. 6 normalises each *channel* "
                         "of each image separately.")
        raise _Wrong("the mean over H and W of your output is not 0: subtract μ_{n,c}, the mean over H and W.")
    mu = fd.mean(dim=(2, 3), keepdim=True)
    var_b = (fd - mu).pow(2).mean(dim=(2, 3), keepdim=True)
    _diagnose(out, {
        "the variance is the unbiased one (divided by HW − 1): Eq. 6 divides by HW (torch.var(..., unbiased=False)).":
            (fd - mu) / torch.sqrt(fd.var(dim=(2, 3), keepdim=True) + 1e-5),
        "ε is outside the square root ((f − μ)/(σ + ε)); Eq. 6 puts it inside the square root: sqrt(var + ε). "
        "Look at the nearly constant channel (image 1, channel 2), where it matters.": (fd - mu) / (var_b.sqrt() + 1e-5),
        "no ε at all: on a nearly constant channel (image 1, channel 2) that blows up the noise; Eq. 6 has "
        "sqrt(var + ε).": (fd - mu) / var_b.sqrt(),
        "you divided by the variance, not by its square root.": (fd - mu) / (var_b + 1e-5),
    }, 1e-4)
    raise _Wrong(f"the mean is right but the scale is not: expected (f − μ)/sqrt(var + ε), up to "
                 f"{float((out - ref).abs().max()):.3g} off.")


@_exercise("modulate", "the self-conditioned block's output given γ", "Eq. 6",
           ("Eq. 6: f' = γ ⊙ IN(f): normalise, then multiply element by element.",
            "Use your 3.1 or selfsr_edu.nn.scb.instance_norm for IN.",
            "No '1 +' and no β: that is SPADE (SpadeBlock), which SelfSR simplifies."))
def _check_modulate(my_scb) -> str:
    from selfsr_edu.nn import SelfConditionedBlock

    f = _features()
    gamma = torch.rand(2, 3, 4, 4, generator=_gen(9)) * 2
    out = _tensor(_call(my_scb, f.clone(), gamma.clone()), "f'", f.shape)
    block = SelfConditionedBlock(3, hidden=4)
    ref = block.apply(f, gamma).double()
    assert _close(ref, gamma.double() * F.instance_norm(f.double(), eps=1e-5), 1e-5)
    if _close(out, ref, 1e-4):
        return "γ ⊙ IN(f), exactly SelfConditionedBlock.apply."
    fn = F.instance_norm(f.double(), eps=1e-5)
    gd = gamma.double()
    _diagnose(out, {
        "that is SPADE's (1 + γ) ⊙ IN(f); Eq. 6 multiplies by γ itself.": (1 + gd) * fn,
        "γ multiplies the raw features: normalise them first (Eq. 6: γ ⊙ IN(f)).": gd * f.double(),
        "γ is added; Eq. 6 multiplies (⊙ is the element-wise product).": gd + fn,
        "you return IN(f) without γ: the condition never enters.": fn,
    }, 1e-4)
    raise _Wrong(f"expected γ ⊙ IN(f); you are up to {float((out - ref).abs().max()):.3g} off.")


def _same_luma_pair():
    """Two RGB conditions with identical BT.601 Y but different colour."""
    g = _gen(10)
    c1 = torch.rand(2, 3, 8, 8, generator=g) * 0.5 + 0.25
    d = torch.tensor([24.966, 0.0, -65.481]).view(1, 3, 1, 1) / 65.481 * 0.2   # 65.481ΔR + 24.966ΔB = 0
    c2 = c1 + d * torch.sign(torch.randn(2, 1, 8, 8, generator=g))
    return c1, c2


@_exercise("luma_condition", "a luma-only condition", "Eq. 6, condition branch",
           ("Turn the N×3×H×W RGB condition into N×1×H×W: the BT.601 Y of the protocol, divided by 255 so it stays "
            "in [0, 1] like the RGB condition.",
            "`selfsr_edu.metrics.rgb_to_y(condition) / 255` (or your P.1).",
            "Keep the channel axis: N×1×H×W, not N×H×W."))
def _check_luma_condition(luma) -> str:
    from selfsr_edu.metrics import rgb_to_y

    c1, c2 = _same_luma_pair()
    out = _tensor(_call(luma, c1.clone()), "the luma condition")
    ref = rgb_to_y(c1).double() / 255
    if out.shape == (2, 8, 8) and _close(out[:, None], ref, 1e-5):
        raise _Wrong("the values are right but the channel axis is gone: return N×1×H×W (a 1-channel image).")
    if out.shape == (2, 3, 8, 8):
        raise _Wrong("still three channels: the luma condition has one (N×1×H×W).")
    if out.shape != ref.shape:
        raise _Wrong(f"shape {tuple(out.shape)}, expected N×1×H×W = {tuple(ref.shape)}")
    if _close(out, ref, 1e-5):
        out2 = _tensor(_call(luma, c2.clone()), "the luma condition")
        assert _close(out2, ref, 1e-5)
        return "BT.601 Y / 255: two conditions that differ only in colour now give the same input to γ."
    c = c1.double()
    _diagnose(out, {
        "this is Y on 0–255; divide by 255 so the condition is in [0, 1] like the RGB one.": rgb_to_y(c1).double(),
        "the plain mean of R, G and B is not luma: use the BT.601 weights.": c.mean(1, keepdim=True),
        "that is the JPEG full-range luma 0.299 R + 0.587 G + 0.114 B; use the protocol's BT.601 Y / 255.":
            (c * torch.tensor([0.299, 0.587, 0.114], dtype=torch.float64).view(1, 3, 1, 1)).sum(1, keepdim=True),
        "red and blue weights swapped (BGR): our tensors are RGB.":
            (16 + (c * torch.tensor([24.966, 128.553, 65.481], dtype=torch.float64).view(1, 3, 1, 1))
             .sum(1, keepdim=True)) / 255,
    }, 1e-4)
    raise _Wrong("expected rgb_to_y(condition) / 255.")


@_exercise("luma_block", "a self-conditioned block whose condition branch sees only Y", "Eq. 6, Fig. 4",
           ("Subclass SelfConditionedBlock with cond_channels=1 and override condition_features(condition) to turn "
            "the RGB condition into luma (your 3.3) before the branch.",
            "class LumaBlock(SelfConditionedBlock): __init__ calls super().__init__(channels, cond_channels=1, "
            "hidden=hidden); condition_features returns super().condition_features(luma(condition)).",
            "forward(features, condition) is inherited: it resizes the condition and applies γ ⊙ IN(f)."))
def _check_luma_block(make_block) -> str:
    from torch import nn

    from selfsr_edu.nn import SelfConditionedBlock

    torch.manual_seed(0)
    block = _call(make_block, 4, 8)
    if not isinstance(block, nn.Module):
        raise _Wrong(f"make_luma_block(channels, hidden) should return an nn.Module, got {type(block).__name__}")
    f = torch.randn(2, 4, 8, 8, generator=_gen(13)) * 2 + 1
    c1, c2 = _same_luma_pair()
    out = _tensor(_call(block, f.clone(), c1.clone()), "block(features, condition)", f.shape)
    out_colour = _tensor(_call(block, f.clone(), c2.clone()), "block(features, condition)")
    if not _close(out, out_colour, 1e-5):
        raise _Wrong("two conditions with the same Y but different colour give different outputs: your condition "
                     "branch still sees colour.")
    out_dark = _tensor(_call(block, f.clone(), (0.5 * c1).clone()), "block(features, condition)")
    if _close(out, out_dark, 1e-6):
        raise _Wrong("halving the condition's brightness changed nothing: γ must still depend on the condition "
                     "(its luma).")
    out_affine = _tensor(_call(block, (3 * f + 5).clone(), c1.clone()), "block(features, condition)")
    if not _close(out, out_affine, 1e-3):
        raise _Wrong("scaling and shifting the features changed the output: the features must be "
                     "instance-normalised (Eq. 6: γ ⊙ IN(f)).")
    n_luma = sum(p.numel() for p in block.parameters())
    n_rgb = sum(p.numel() for p in SelfConditionedBlock(4, cond_channels=3, hidden=8).parameters())
    return (f"colour-blind, luma-sensitive, γ ⊙ IN(f). It has {n_luma} parameters against {n_rgb} for the RGB block "
            f"({n_rgb - n_luma} fewer: the first 3×3 conv lost 2 input channels × 8 × 9 weights).")


# --------------------------------------------------------------------------
# 04_progressive_sr: fade-in, the schedule, Eq. 11
# --------------------------------------------------------------------------


@_exercise("fade_in", "fade a new level in", "progressive growing (Karras et al. [19])",
           ("out = α·new + (1 − α)·up₂(previous): previous is the stage-(s−1) image, half the size.",
            "up₂ is nearest-neighbour ×2 (F.interpolate(previous, scale_factor=2, mode='nearest')), as in "
            "progressive GAN.",
            "α = 0 must give exactly the upsampled previous image, α = 1 exactly the new one."))
def _check_fade_in(my_fade_in) -> str:
    from selfsr_edu.models.sr import fade_in, upsample2

    g = _gen(11)
    previous = torch.rand(2, 3, 4, 4, generator=g)
    new = torch.rand(2, 3, 8, 8, generator=g)
    outs = {}
    for alpha in (0.0, 0.3, 1.0):
        outs[alpha] = _tensor(_call(my_fade_in, previous.clone(), new.clone(), alpha), f"fade-in at α = {alpha}",
                              new.shape)
    up = upsample2(previous).double()
    assert _close(up, F.interpolate(previous.double(), scale_factor=2, mode="nearest"), 0)
    ref = {a: fade_in(upsample2(previous), new, a).double() for a in outs}
    if all(_close(outs[a], ref[a], 1e-5) for a in outs):
        return "α = 0 is up₂(previous), α = 1 is the new level, in between a straight blend."
    if _close(outs[0.0], new.double(), 1e-5) and _close(outs[1.0], up, 1e-5):
        raise _Wrong("α is on the wrong term: α = 0 must give the upsampled previous level (the new level starts "
                     "invisible) and α = 1 the new one.")
    for mode in ("bilinear", "bicubic"):
        other = F.interpolate(previous.double(), scale_factor=2, mode=mode, align_corners=False)
        if _close(outs[0.0], other, 1e-5):
            raise _Wrong(f"the previous level is upsampled with {mode}; R and D_H use nearest-neighbour ×2 "
                         "(selfsr_edu.models.sr.upsample2), as progressive GAN.")
    if not _close(outs[1.0], new.double(), 1e-5):
        raise _Wrong("at α = 1 the output must be the new level exactly.")
    if not _close(outs[0.0], up, 1e-5):
        raise _Wrong("at α = 0 the output must be the previous level, nearest-upsampled ×2.")
    raise _Wrong("α = 0 and α = 1 are right, α = 0.3 is not: blend linearly, α·new + (1 − α)·up₂(previous).")


@_exercise("stage_at", "the growth schedule: (stage, α) at iteration t", "progressive growing, Sec. IV-B",
           ("stage = 1 + the number of growth iterations g with t ≥ g.",
            "During stage 1 α = 1 (nothing to fade). After the growth at g, α = min(1, (t − g + 1)/fade_in): at "
            "t = g the new level already has weight 1/fade_in.",
            "growth is a tuple like (20, 40): at t = 20 R becomes ×4, at t = 40 ×8."))
def _check_stage_at(my_stage_at) -> str:
    from selfsr_edu.train import stage2

    growth, fade = (20, 40), 10
    cfg = stage2.schedule("quick", growth=growth, fade_in=fade)
    ts = [0, 19, 20, 24, 29, 30, 39, 40, 45, 59]
    got = []
    for t in ts:
        r = _call(my_stage_at, t, growth, fade)
        if not isinstance(r, (tuple, list)) or len(r) != 2:
            raise _Wrong(f"return a pair (stage, alpha); for t = {t} got {r!r}")
        got.append((int(r[0]), _number(r[1], "alpha")))
    ref = [stage2.stage_at(t, cfg) for t in ts]

    def independent(t):   # the formula, written out again
        s = 1 + sum(t >= g for g in growth)
        return (s, 1.0) if s == 1 else (s, min(1.0, (t - growth[s - 2] + 1) / fade))

    assert ref == [independent(t) for t in ts]
    bad = [(t, g, r) for t, g, r in zip(ts, got, ref) if g[0] != r[0] or abs(g[1] - r[1]) > 1e-6]
    if not bad:
        return "stage 1 until 19, at 20 stage 2 with α = 0.1 rising to 1 at 29, stage 3 from 40."
    t, g, r = bad[0]
    if any(gg[0] != rr[0] for gg, rr in zip(got, ref)):
        if got[ts.index(20)][0] == 1:
            raise _Wrong("at t = 20 (a growth iteration) R must already be at stage 2: use t ≥ g, not t > g.")
        if got[0][0] == 0:
            raise _Wrong("stages count from 1 (stage 1 = ×2).")
        raise _Wrong(f"at t = {t} the stage should be {r[0]}, you give {g[0]}.")
    if abs(got[ts.index(20)][1]) < 1e-9 and abs(got[ts.index(24)][1] - 0.4) < 1e-6:
        raise _Wrong("α starts at 0 at the growth iteration; the trainer's convention is (t − g + 1)/fade_in, so the "
                     "new level already has weight 1/fade_in at t = g (and α reaches 1 at g + fade_in − 1).")
    if got[ts.index(59)][1] > 1 + 1e-9 or got[ts.index(45)][1] > 1 + 1e-9:
        raise _Wrong("α grows beyond 1: clip it, min(1, …).")
    if abs(got[0][1] - 1) > 1e-9:
        raise _Wrong("during stage 1 there is nothing to fade in: α = 1.")
    raise _Wrong(f"at t = {t} expected (stage, α) = {r}, you give {g}.")


@_exercise("cycle_loss", "the unpaired reconstruction loss", "Eq. 11",
           ("Eq. 11: E[ |(R(I_L))↓ − I_L|₁ ]: downscale the SR output back to the LR size, compare with the LR.",
            "(·)↓ is the same PIL bicubic that made the LR: bicubic_pil(sr, (h, w)) with (h, w) the LR's size.",
            "L1 is the mean absolute difference: (down - lr).abs().mean()."))
def _check_cycle_loss(my_cycle_loss) -> str:
    from selfsr_edu.losses import cycle_reconstruction_loss
    from selfsr_edu.resize import bicubic_pil

    g = _gen(12)
    sr = F.interpolate(torch.rand(2, 3, 8, 8, generator=g), size=32, mode="bilinear", align_corners=False)
    sr = (sr + 0.2 * torch.rand(2, 3, 32, 32, generator=g)).clamp(0, 1)
    lr = torch.rand(2, 3, 8, 8, generator=g)
    got = _number(_call(my_cycle_loss, sr.clone(), lr.clone()), "L_cyc")
    ref = float(cycle_reconstruction_loss(sr, lr))
    consistent = bicubic_pil(sr, 8)
    assert float(cycle_reconstruction_loss(sr, consistent)) < 1e-6      # a perfect SR output: zero loss
    if abs(got - ref) < 1e-4:
        if _number(_call(my_cycle_loss, sr.clone(), consistent.clone())) > 1e-5:
            raise _Wrong("right value on one pair, but an SR output whose downscale *is* the LR must give 0.")
        return f"{ref:.4f}; and 0 when the SR output downscales exactly to its LR."
    for v, message in {
        float((F.avg_pool2d(sr, 4) - lr).abs().mean()): "you downscaled with a box filter (avg_pool); Eq. 11's ↓ is "
                                                         "the PIL bicubic that made the LR.",
        float((F.interpolate(sr, size=8, mode="bicubic", align_corners=False) - lr).abs().mean()):
            "F.interpolate(bicubic) without antialiasing skips most SR pixels when shrinking ×4; use bicubic_pil.",
        float((bicubic_pil(sr, 8) - lr).pow(2).mean()): "squared error; Eq. 11 is an L1 loss.",
        float((sr - bicubic_pil(lr, 32)).abs().mean()): "you upsampled the LR and compared at SR size; Eq. 11 "
                                                         "downscales the SR output to the LR size.",
    }.items():
        if abs(got - v) < 1e-4:
            raise _Wrong(message)
    raise _Wrong(f"expected {ref:.4f}, got {got:.4f}.")


# --------------------------------------------------------------------------
# 06_ablations: paired differences over seeds
# --------------------------------------------------------------------------


def _t975(df: int) -> float:
    try:
        from scipy.stats import t

        return float(t.ppf(0.975, df))
    except ImportError:  # pragma: no cover
        from selfsr_edu.experiments import T975

        return T975[df]


@_exercise("paired_interval", "the paired difference of a row to the full model, with its 95 % interval",
           "Table IV, Student t over seeds",
           ("Pair the seeds: d_k = row_k − full_k (same seed k). Work with the differences only.",
            "Mean d̄, sample standard deviation s (divide by n − 1), standard error s/√n.",
            "Half-width t_{0.975, n−1}·s/√n; for n = 3 seeds t = 4.303 (scipy.stats.t.ppf(0.975, n - 1)). Return "
            "(d̄, d̄ − half, d̄ + half)."))
def _check_paired_interval(interval) -> str:
    import statistics

    row, full = [25.90, 26.10, 25.70], [25.60, 25.95, 25.20]
    r = _call(interval, list(row), list(full))
    if not isinstance(r, (tuple, list)) or len(r) != 3:
        raise _Wrong(f"return (mean, low, high), got {r!r}")
    m, lo, hi = (_number(v, "the interval") for v in r)
    d = [a - b for a, b in zip(row, full)]
    mean, s, n = statistics.mean(d), statistics.stdev(d), len(d)
    half = _t975(n - 1) * s / math.sqrt(n)
    from selfsr_edu.experiments import T975

    assert abs(T975[n - 1] * s / math.sqrt(n) - half) < 1e-3
    if abs(m - mean) < 1e-6 and abs(lo - (mean - half)) < 2e-3 and abs(hi - (mean + half)) < 2e-3:
        return (f"Δ = {mean:+.3f} dB, 95 % interval [{mean - half:+.3f}, {mean + half:+.3f}]: it includes 0 — three "
                "seeds cannot tell this row from the full model.")
    if abs(m + mean) < 1e-6:
        raise _Wrong("the sign is flipped: the difference is row − full model (positive = the row is better).")
    if abs(m - mean) > 1e-6:
        raise _Wrong(f"the mean difference should be {mean:+.4f}, you give {m:+.4f}.")
    got_half = (hi - lo) / 2
    if abs((lo + hi) / 2 - mean) > 1e-6:
        raise _Wrong("the interval is not centred on the mean difference.")
    sp = math.sqrt((statistics.variance(row) + statistics.variance(full)) / n)
    for h, message in {
        1.96 * s / math.sqrt(n): "1.96 is the normal quantile; with 3 seeds the standard deviation is itself "
                                 "uncertain: use Student's t with n − 1 = 2 degrees of freedom (4.303).",
        _t975(n - 1) * statistics.pstdev(d) / math.sqrt(n): "the standard deviation divides by n; the sample "
                                                             "standard deviation divides by n − 1.",
        _t975(n - 1) * s: "missing the 1/√n: the interval is for the *mean* difference (its standard error s/√n).",
        _t975(n) * s / math.sqrt(n): "Student t with n degrees of freedom; it is n − 1.",
        _t975(n - 1) * sp: "that treats the two rows as independent samples; the seeds are paired (same data order, "
                           "same initialisation), so use the per-seed differences: a much narrower interval.",
    }.items():
        if abs(got_half - h) < 2e-3:
            raise _Wrong(message)
    raise _Wrong(f"half-width should be {half:.4f}, yours is {got_half:.4f}.")


@_exercise("seeds_needed", "how many seeds for a given precision?", "Table IV, Student t over seeds",
           ("Try n = 2, 3, 4, …: the half-width is t_{0.975, n−1}·s/√n; return the first n where it is ≤ the target.",
            "scipy.stats.t.ppf(0.975, n - 1) gives t; selfsr_edu.experiments.T975 has it for n − 1 ≤ 9.",
            "With one seed there is no interval at all: start at n = 2."))
def _check_seeds_needed(seeds_needed) -> str:
    cases = [(0.3, 0.2), (0.3, 0.5), (0.15, 0.1), (1.0, 0.5)]

    def solve(s, hw, quantile=lambda n: _t975(n - 1)):
        n = 2
        while quantile(n) * s / math.sqrt(n) > hw:
            n += 1
        return n

    ref = [solve(s, hw) for s, hw in cases]
    got = []
    for s, hw in cases:
        v = _call(seeds_needed, s, hw)
        got.append(int(_number(v, f"seeds_needed({s}, {hw})")))
    if got == ref:
        return (f"std 0.3 dB, ±0.2 dB → {ref[0]} seeds; ±0.5 dB → {ref[1]}. Halving the interval costs about four "
                "times the seeds.")
    if got == [solve(s, hw, lambda n: 1.96) for s, hw in cases]:
        raise _Wrong("with 1.96 (the normal quantile) you need too few seeds: for small n use Student's t, "
                     "t_{0.975, n−1}, which is much larger (12.7 at n = 2).")
    if got == [solve(s, hw, lambda n: _t975(n)) for s, hw in cases]:
        raise _Wrong("t with n degrees of freedom: it is n − 1 (one is spent on the mean).")
    if got == [max(2, math.ceil((1.96 * s / hw) ** 2)) for s, hw in cases]:
        raise _Wrong("the closed form n = (1.96 s / h)² uses the normal quantile; with few seeds the t quantile "
                     "grows, so search n upwards with t_{0.975, n−1}.")
    i = next(k for k in range(len(cases)) if got[k] != ref[k])
    raise _Wrong(f"seeds_needed{cases[i]} should be {ref[i]}, you give {got[i]}.")


__all__ = ["check", "hint", "exercises", "Exercise", "CheckResult", "EXERCISE_IDS"]


# --------------------------------------------------------------------------
# 05_real_world: pseudo pairs, the gain over bicubic on truly degraded faces
# --------------------------------------------------------------------------


def _toy_degradation(lr: torch.Tensor) -> torch.Tensor:
    """A stand-in for a trained G: a colour cast and a one-pixel horizontal smear (deterministic)."""
    cast = lr * torch.tensor([1.05, 0.97, 0.9], dtype=lr.dtype).view(1, 3, 1, 1) + 0.02
    return (0.5 * cast + 0.5 * cast.roll(1, dims=-1)).clamp(0, 1)


@_exercise("pseudo_lr", "a pseudo pair's LR: what R trains on in the real-world setting",
           "Sec. III: I_gen^L = G(I_syn^L), I_syn^L = bicubic(I^H)",
           ("Two steps, in this order: make the clean LR the way the protocol does (PIL bicubic 64 → 16, then "
            "8-bit: `quantise8(bicubic_pil(hr, 16))`), then degrade it with G: `G(clean_lr)`.",
            "G works on LR faces: it never sees the HR face. Applying G to the 64×64 face and shrinking after is a "
            "different (wrong) pipeline.",
            "The trainer does exactly this in `stage2.draw_batch` (mode pseudo), with a frozen G."))
def _check_pseudo_lr(make_pseudo_lr) -> str:
    from selfsr_edu.data.io import quantise8
    from selfsr_edu.resize import bicubic_pil

    g = _gen(5)
    hr = F.interpolate(torch.rand(3, 3, 16, 16, generator=g), size=64, mode="bilinear", align_corners=False)
    hr = quantise8((hr + 0.06 * torch.rand(3, 3, 64, 64, generator=g)).clamp(0, 1))
    out = _tensor(_call(make_pseudo_lr, hr.clone(), _toy_degradation), "the pseudo LR")
    clean = quantise8(bicubic_pil(hr, 16))
    ref = _toy_degradation(clean).double()
    if out.shape != ref.shape:
        raise _Wrong(f"shape {tuple(out.shape)}: the pseudo LR is a 16×16 face per HR face, N×3×16×16 = "
                     f"{tuple(ref.shape)}")
    if _close(out, ref, 1e-5):
        return "G(quantise8(bicubic(HR))): the LR side of a pseudo pair, as stage2.draw_batch makes it."
    _diagnose(out, {
        "you returned the clean LR: G never ran. A pseudo pair's LR is G applied to the clean LR.": clean.double(),
        "no 8-bit step before G: the clean LR of the protocol is quantised (as if saved as PNG), then degraded.":
            _toy_degradation(bicubic_pil(hr, 16)).double(),
        "G ran on the HR face and the result was shrunk: G is a degradation of *LR* faces (Sec. III-A); shrink "
        "first, then degrade.": quantise8(bicubic_pil(_toy_degradation(hr), 16)).double(),
        "the LR was made with F.interpolate (no antialiasing): the protocol's LR is PIL bicubic "
        "(selfsr_edu.resize.bicubic_pil).": _toy_degradation(quantise8(F.interpolate(
            hr, size=16, mode="bicubic", align_corners=False).clamp(0, 1))).double(),
    }, 1e-5)
    raise _Wrong(f"expected G(quantise8(bicubic_pil(hr, 16))); you are up to {float((out - ref).abs().max()):.3g} off.")


@_exercise("gain_over_bicubic", "R's gain over bicubic on truly degraded faces, ×4", "protocol: PSNR on Y, crop = scale",
           ("For every face: PSNR(sr, hr) − PSNR(bicubic(lr), hr), then the mean over faces. "
            "`selfsr_edu.metrics.psnr(a, hr, crop_border=4)` gives one value per image.",
            "×4 crops 4 pixels (the protocol crops `scale` pixels: 8 at ×8, 4 at ×4), on the Y channel.",
            "bicubic(lr) is `bicubic_pil(lr, 64).clamp(0, 1)`: the same PIL bicubic the LR was made with."))
def _check_gain_over_bicubic(gain) -> str:
    from selfsr_edu.metrics import psnr
    from selfsr_edu.resize import bicubic_pil

    g = _gen(8)
    hr = F.interpolate(torch.rand(4, 3, 16, 16, generator=g), size=64, mode="bilinear", align_corners=False)
    hr = (hr + 0.1 * torch.rand(4, 3, 64, 64, generator=g)).clamp(0, 1)
    lr = bicubic_pil(hr, 16).clamp(0, 1)
    sr = (hr + 0.04 * torch.randn(4, 3, 64, 64, generator=g)).clamp(0, 1)
    sr[:, :, :4] = (sr[:, :, :4] + 0.3).clamp(0, 1)                       # a bad border: the crop matters
    bic = bicubic_pil(lr, 64).clamp(0, 1)
    out = _number(_call(gain, sr.clone(), lr.clone(), hr.clone()), "the gain")
    ref = float((psnr(sr, hr, crop_border=4) - psnr(bic, hr, crop_border=4)).mean())

    def y(x):      # BT.601 luma, 8-bit, by hand: the independent reference
        q = (x * 255).round() / 255
        return 16 + 65.481 * q[:, 0] + 128.553 * q[:, 1] + 24.966 * q[:, 2]

    def by_hand(a, crop):
        d = (y(a) - y(hr))[:, crop:-crop, crop:-crop] if crop else y(a) - y(hr)
        return 10 * torch.log10(255.0 ** 2 / d.double().pow(2).mean(dim=(1, 2)))

    assert abs(ref - float((by_hand(sr, 4) - by_hand(bic, 4)).mean())) < 1e-3
    if abs(out - ref) < 1e-3:
        return f"{ref:+.3f} dB: the mean over faces of PSNR(R) − PSNR(bicubic), Y channel, 4-px crop."
    wrong = {
        "you cropped 8 pixels: that is the ×8 rule; at ×4 the protocol crops 4.":
            float((psnr(sr, hr, crop_border=8) - psnr(bic, hr, crop_border=8)).mean()),
        "no border crop: the protocol drops `scale` (here 4) pixels on each side before scoring.":
            float((psnr(sr, hr) - psnr(bic, hr)).mean()),
        "the PSNR is on RGB; the protocol scores the Y channel (BT.601).":
            float((psnr(sr, hr, crop_border=4, y_channel=False) - psnr(bic, hr, crop_border=4, y_channel=False)).mean()),
        "the sign is flipped: the gain is PSNR(R) − PSNR(bicubic).": -ref,
    }
    for message, value in wrong.items():
        if abs(out - value) < 1e-3:
            raise _Wrong(message)
    raise _Wrong(f"expected {ref:+.3f} dB, you have {out:+.3f} dB.")


# --------------------------------------------------------------------------
# 07_feature_maps: γ by hand, Sobel, Pearson
# --------------------------------------------------------------------------


@_exercise("gamma_by_hand", "γ of the first block of level 1, without any capture machinery",
           "Eq. 6: γ = condition branch(condition_k), condition_k = bicubic(lr) at ×2^k",
           ("The condition of level k is the LR bicubic-upsampled to ×2^k: `R.conditions(lr)[k - 1]`.",
            "The first block of level 1 is `R.level[0].blocks[0]`; its condition branch is "
            "`.condition_features(condition)`.",
            "Not the block's output (that is γ ⊙ IN(f)), and not the LR itself: γ is computed from the condition "
            "at the level's resolution."))
def _check_gamma_by_hand(first_gamma) -> str:
    from selfsr_edu.inspect import capture
    from selfsr_edu.models.sr import SelfConditionedSR

    torch.manual_seed(0)
    R = SelfConditionedSR.from_preset("tiny", depth=2).eval()       # two blocks per level
    lr = torch.rand(2, 3, 16, 16, generator=_gen(11))
    out = _tensor(_call(first_gamma, R, lr.clone()), "γ")
    ref = capture(R, lr).gamma[(1, 0)].double()
    if out.shape != ref.shape:
        hint = (" That is the LR's size: γ lives at the level's resolution (32×32 for level 1)."
                if out.shape[-1] == 16 else "")
        raise _Wrong(f"shape {tuple(out.shape)}, expected {tuple(ref.shape)} (N × channels of level 1 × 32 × 32).{hint}")
    if _close(out, ref, 1e-5):
        return "R.level[0].blocks[0].condition_features(R.conditions(lr)[0]): the same γ the capture records."
    conds = R.conditions(lr)
    _diagnose(out, {
        "that is the second block's γ: the first block of level 1 is R.level[0].blocks[0].":
            R.level[0].blocks[1].condition_features(conds[0]).double(),
    }, 1e-5)
    raise _Wrong("not γ of level 1, block 0: compute R.level[0].blocks[0].condition_features on the level-1 condition.")


@_exercise("sobel", "the Sobel edge magnitude", "Sobel: E = sqrt(G_x² + G_y²)",
           ("G_x = [[−1, 0, 1], [−2, 0, 2], [−1, 0, 1]] (cross-correlation, as F.conv2d computes), G_y = G_xᵀ.",
            "Pad by replicating the border pixels (F.pad(..., mode='replicate')) so the output keeps H×W and "
            "the border shows no false edge.",
            "The magnitude is the square root of G_x² + G_y², not |G_x| + |G_y| and not the square."))
def _check_sobel(my_sobel) -> str:
    import numpy as np
    from scipy import ndimage

    from selfsr_edu.inspect import sobel_magnitude

    y = torch.rand(2, 1, 12, 10, generator=_gen(12)).double()
    y[:, :, :, 5:] += 1.0                                           # a vertical edge
    out = _tensor(_call(my_sobel, y.clone()), "E", y.shape)
    ref = sobel_magnitude(y).double()
    a = y.numpy()[:, 0]
    sx = np.stack([ndimage.sobel(im, axis=1, mode="nearest") for im in a])
    sy = np.stack([ndimage.sobel(im, axis=0, mode="nearest") for im in a])
    assert _close(ref[:, 0], torch.from_numpy(np.hypot(sx, sy)), 1e-9)
    if _close(out, ref, 1e-6):
        return "sqrt(G_x² + G_y²) with replicate padding: scipy.ndimage.sobel (mode 'nearest') agrees."
    kx = y.new_tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    gx = F.conv2d(F.pad(y, (1, 1, 1, 1), mode="replicate"), kx[None, None])
    gy = F.conv2d(F.pad(y, (1, 1, 1, 1), mode="replicate"), kx.t()[None, None])
    zx = F.conv2d(F.pad(y, (1, 1, 1, 1)), kx[None, None])
    zy = F.conv2d(F.pad(y, (1, 1, 1, 1)), kx.t()[None, None])
    _diagnose(out, {
        "you return G_x² + G_y²: take the square root.": gx ** 2 + gy ** 2,
        "|G_x| + |G_y| is a cheaper approximation; the exercise asks for sqrt(G_x² + G_y²).": gx.abs() + gy.abs(),
        "zero padding: the border gets false edges (the image drops to 0 outside). Replicate the border pixels.":
            (zx ** 2 + zy ** 2).sqrt(),
        "only the horizontal gradient (|G_x|): add G_y, the vertical one.": gx.abs(),
    }, 1e-6)
    raise _Wrong(f"expected sqrt(G_x² + G_y²) with replicate padding; up to {float((out - ref).abs().max()):.3g} off.")


@_exercise("pearson", "Pearson's correlation between a γ map and an edge or part map", "Pearson's r",
           ("r = Σ (x − x̄)(y − ȳ) / sqrt(Σ (x − x̄)² · Σ (y − ȳ)²), over the pixels of one face.",
            "Centre both maps first: without subtracting the means you get the cosine similarity, which a "
            "bright map makes close to 1 whatever its shape.",
            "Flatten each face's map (x.flatten(1)) and reduce over dim 1: one r per face."))
def _check_pearson(my_pearson) -> str:
    import numpy as np

    g = _gen(13)
    x = torch.rand(3, 8, 8, generator=g).double() + 2.0              # bright, as γ ≈ 1 + something is
    y = torch.tensor([0.5, -0.5, 0.3], dtype=torch.float64).view(3, 1, 1) * x + torch.rand(3, 8, 8, generator=g).double()
    out = _tensor(_call(my_pearson, x.clone(), y.clone()), "r", (3,))
    ref = torch.tensor([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(x.numpy(), y.numpy())])
    if _close(out, ref, 1e-6):
        return f"r = {', '.join(f'{v:.3f}' for v in ref.tolist())}: numpy.corrcoef agrees."
    xf, yf = x.flatten(1), y.flatten(1)
    xc, yc = xf - xf.mean(1, keepdim=True), yf - yf.mean(1, keepdim=True)
    _diagnose(out, {
        "that is the cosine similarity: subtract each map's mean first (a bright γ map otherwise correlates "
        "with anything).": (xf * yf).sum(1) / (xf.norm(dim=1) * yf.norm(dim=1)),
        "that is the covariance: divide by the product of the two standard deviations.": (xc * yc).mean(1),
        "you return |r|: keep the sign (the notebook takes |·| only after averaging over faces).": ref.abs(),
    }, 1e-6)
    raise _Wrong(f"expected {', '.join(f'{v:.3f}' for v in ref.tolist())}, got {', '.join(f'{v:.3f}' for v in out.tolist())}.")
