"""Failure cases (Fig. 10), found rather than picked: the faces where R gains least over bicubic.

The paper shows five LR faces R handles badly and sorts them by eye into "not
distinguishable even by a human" and "difficult" (over-blurry, extreme angle, occlusion).
Here the worst faces are *ranked*: for each held-out face n,

    gain_n = PSNR(R(lr_n), hr_n) − PSNR(bicubic(lr_n), hr_n)        (dB)

under the DIC protocol (:func:`selfsr_edu.metrics.psnr`: Y of BT.601, 8-bit, the border
:func:`selfsr_edu.evaluate.crop_border` cropped), and the ``k`` faces of smallest gain
are the failure cases. Because SynthFaces knows every face's parameters, *what* the
failures have in common is measured too: for each attribute a,

    frac_worst(a) = #{worst faces with a} / k,   frac_all(a) = #{faces with a} / N,
    lift(a) = frac_worst(a) / frac_all(a)

(lift > 1: over-represented among the failures). With small k these fractions are
noisy (one face moves frac_worst by 1/k); :func:`attribute_summary` reports the counts.

Assumed (the thresholds that turn continuous parameters into attributes, chosen as the
extreme fifth to quarter of each parameter's range in
:func:`selfsr_edu.data.synthfaces.sample_params`): see :data:`ATTRIBUTES`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from selfsr_edu.resize import bicubic_pil

#: attribute name -> (description, predicate on a SynthFaces parameter dict)
ATTRIBUTES: dict = {
    "glasses": ("wears glasses", lambda p: bool(p["glasses"])),
    "facial_hair": ("any facial hair", lambda p: p["facial_hair"] != "none"),
    "beard": ("full beard", lambda p: p["facial_hair"] == "beard"),
    "moustache": ("moustache only", lambda p: p["facial_hair"] == "moustache"),
    "stubble": ("stubble", lambda p: p["facial_hair"] == "stubble"),
    "mouth_open": ("mouth open", lambda p: bool(p["mouth_open"])),
    "fringe": ("fringe over the forehead", lambda p: bool(p["fringe"])),
    "freckles": ("freckles", lambda p: bool(p["freckles"])),
    "moles": ("moles", lambda p: bool(p["moles"])),
    "earrings": ("earrings", lambda p: bool(p["earrings"])),
    "lipstick": ("lipstick", lambda p: bool(p["lipstick"])),
    "eyeliner": ("eyeliner", lambda p: bool(p["eyeliner"])),
    "stripes": ("striped clothes", lambda p: bool(p["stripes"])),
    "masculine": ("masculine presentation", lambda p: p["presentation"] == "masculine"),
    "hair_long": ("long hair", lambda p: p["hair_style"] == "long"),
    "hair_curly": ("curly hair", lambda p: p["hair_style"] == "curly"),
    "hair_short_or_none": ("bald, buzz or short hair", lambda p: p["hair_style"] in ("bald", "buzz", "short")),
    "bg_clutter": ("cluttered background", lambda p: p["background"] == "clutter"),
    "bg_flat": ("flat background", lambda p: p["background"] == "flat"),
    "side_light": ("strong side light, |light_x| > 0.3", lambda p: abs(p["light_x"]) > 0.3),
    "dim": ("dim ambient light, ambient < 0.5", lambda p: p["ambient"] < 0.5),
    "underexposed": ("underexposed, exposure < 0.92", lambda p: p["exposure"] < 0.92),
    "tilted": ("tilted head, |rotation| > 7°", lambda p: abs(p["rotation"]) > 7),
    "small_face": ("small face, scale < 0.95", lambda p: p["scale"] < 0.95),
    "sharpened": ("strong in-camera sharpening, sharpen > 0.6", lambda p: p["sharpen"] > 0.6),
    "dark_skin": ("dark skin, skin_tone > 0.6", lambda p: p["skin_tone"] > 0.6),
}


@dataclass
class FailureCases:
    """The ranking of all faces and the ``k`` worst. Index arrays refer to the input order."""

    order: torch.Tensor  # all face indices, smallest gain first
    gain: torch.Tensor  # N, dB, input order
    psnr_sr: torch.Tensor  # N
    psnr_bicubic: torch.Tensor  # N
    worst: torch.Tensor  # the k indices of smallest gain, smallest first
    lr: torch.Tensor  # k×3×h×w, in the order of ``worst``
    sr: torch.Tensor  # k×3×H×W
    bicubic: torch.Tensor  # k×3×H×W
    hr: torch.Tensor  # k×3×H×W
    params: list | None  # parameter dicts of the worst faces (None without params)
    attributes: list | None  # attribute_summary rows (None without params)


def psnr_gains(R: nn.Module, lr: torch.Tensor, hr: torch.Tensor, crop_border: int = 8, batch: int = 32) -> dict:
    """Per-face PSNR of R and of bicubic (DIC protocol) and their difference ``gain = psnr_sr − psnr_bicubic``.

    Returns ``{"psnr_sr", "psnr_bicubic", "gain"}`` (each shape N) and the images ``"sr"``,
    ``"bicubic"`` (clamped to [0, 1], as :func:`selfsr_edu.evaluate.fidelity` scores them).
    """
    from selfsr_edu.evaluate import super_resolve
    from selfsr_edu.metrics import psnr

    if not torch.is_tensor(lr) or lr.dim() != 4 or lr.shape[1] != 3:
        raise ValueError(f"lr must be an N×3×h×w tensor, got {tuple(lr.shape) if torch.is_tensor(lr) else type(lr)}")
    if not torch.is_tensor(hr) or hr.dim() != 4 or hr.shape[:2] != lr.shape[:2]:
        raise ValueError(f"hr must be an N×3×H×W tensor with the same N as lr, got "
                         f"{tuple(hr.shape) if torch.is_tensor(hr) else type(hr)} for lr {tuple(lr.shape)}")
    was = R.training
    sr = super_resolve(R.eval(), lr, batch)
    R.train(was)
    if sr.shape != hr.shape:
        raise ValueError(f"R's output {tuple(sr.shape)} does not match hr {tuple(hr.shape)}")
    bic = bicubic_pil(lr, hr.shape[-1]).clamp(0, 1)
    p_sr, p_bic = psnr(sr, hr, crop_border=crop_border), psnr(bic, hr, crop_border=crop_border)
    return {"psnr_sr": p_sr, "psnr_bicubic": p_bic, "gain": p_sr - p_bic, "sr": sr, "bicubic": bic}


def face_attributes(params: dict) -> dict[str, bool]:
    """The :data:`ATTRIBUTES` of one SynthFaces face (its parameter dict)."""
    return {name: bool(pred(params)) for name, (_, pred) in ATTRIBUTES.items()}


def attribute_summary(params: list, worst) -> list[dict]:
    """Which attributes are over-represented among the ``worst`` faces (indices into ``params``).

    Rows ``{"attribute", "description", "n_worst", "frac_worst", "n_all", "frac_all", "lift"}``
    for every attribute some face has, largest lift first (ties: larger ``frac_worst`` first).
    """
    worst = [int(i) for i in worst]
    if not params:
        raise ValueError("params must list at least one face's parameters")
    if not worst or any(not 0 <= i < len(params) for i in worst):
        raise ValueError(f"worst must be a non-empty list of indices into the {len(params)} faces, got {worst}")
    table = [face_attributes(p) for p in params]
    rows = []
    for name, (desc, _) in ATTRIBUTES.items():
        n_all = sum(t[name] for t in table)
        if n_all == 0:
            continue
        n_worst = sum(table[i][name] for i in worst)
        fw, fa = n_worst / len(worst), n_all / len(table)
        rows.append({"attribute": name, "description": desc, "n_worst": n_worst, "frac_worst": fw,
                     "n_all": n_all, "frac_all": fa, "lift": fw / fa})
    rows.sort(key=lambda r: (-r["lift"], -r["frac_worst"]))
    return rows


def failure_cases(R: nn.Module, lr: torch.Tensor, hr: torch.Tensor, params: list | None = None, k: int = 5,
                  crop_border: int = 8) -> FailureCases:
    """Rank faces by R's PSNR gain over bicubic and return the ``k`` worst (Fig. 10, found not picked).

    ``params``: the faces' SynthFaces parameter dicts (same order as ``lr``), for the
    attribute summary; ``crop_border``: :func:`selfsr_edu.evaluate.crop_border` of the scale.
    """
    if not 1 <= int(k) <= lr.shape[0]:
        raise ValueError(f"k must be in 1..{lr.shape[0]} (the number of faces), got {k}")
    if params is not None and len(params) != lr.shape[0]:
        raise ValueError(f"params has {len(params)} faces, lr {lr.shape[0]}")
    g = psnr_gains(R, lr, hr, crop_border)
    order = torch.argsort(g["gain"], stable=True)
    worst = order[: int(k)]
    return FailureCases(order=order, gain=g["gain"], psnr_sr=g["psnr_sr"], psnr_bicubic=g["psnr_bicubic"],
                        worst=worst, lr=lr[worst], sr=g["sr"][worst], bicubic=g["bicubic"][worst], hr=hr[worst],
                        params=None if params is None else [params[int(i)] for i in worst],
                        attributes=None if params is None else attribute_summary(params, worst.tolist()))


def held_out_failure_cases(R: nn.Module, cfg, n: int = 64, k: int = 5) -> FailureCases:
    """:func:`failure_cases` on the first ``n`` held-out faces of a stage-2 config (e.g.
    ``reference.sr_config("small-scb")``), with their SynthFaces parameters."""
    from selfsr_edu.evaluate import crop_border, held_out_pairs, held_out_params

    lr, hr = held_out_pairs(cfg, n)
    return failure_cases(R, lr, hr, held_out_params(cfg, n), k, crop_border(cfg.scale))


def format_attributes(rows: list[dict], top: int = 8) -> str:
    """The first ``top`` rows of :func:`attribute_summary` as a text table."""
    lines = [f"{'attribute':<20} {'worst':>9} {'all':>9} {'lift':>5}"]
    for r in rows[:top]:
        lines.append(f"{r['attribute']:<20} {r['n_worst']:>3} {r['frac_worst']:>5.0%} {r['n_all']:>3} "
                     f"{r['frac_all']:>5.0%} {r['lift']:>5.2f}")
    return "\n".join(lines)


__all__ = ["ATTRIBUTES", "FailureCases", "psnr_gains", "face_attributes", "attribute_summary", "failure_cases",
           "held_out_failure_cases", "format_attributes"]
