"""What the condition branch learned (Fig. 9), as numbers: intermediates of a trained R.

Named ``inspect`` as DESIGN.md lists it (``selfsr_edu.inspect``: γ maps, normalised and
modulated features). It does not shadow the standard library's ``inspect``: imports are
absolute, so ``import inspect`` anywhere still finds the stdlib module.

**Capture.** R's levels compute all condition branches of a level at once and then call
``block.apply(features, c)`` directly (:class:`~selfsr_edu.models.sr.SRLevel`), so forward
hooks on the blocks never fire. :func:`tap` therefore wraps each block's ``apply`` for the
duration of a ``with`` (always restored, even on an exception) and records, per
``(level, block)`` (1-based level, 0-based block)::

    features    f                 the block's input (after conv3×3 and LeakyReLU)
    normalised  f̄ = IN(f)         Eq. 6: (f − μ_{n,c}) / sqrt(σ²_{n,c} + ε), per image and channel
    gamma       γ                 the condition branch's output (SCB, SPADE)
    beta        β                 SPADE only: c = [γ; β]
    modulated   f' = apply(f, c)  the block's output: γ ⊙ f̄ (SCB, Eq. 6), (1 + γ) ⊙ f̄ + β (SPADE),
                                  conv1×1([f̄; condition]) (the concat "vanilla" block)

plus each level's RGB output ``to_rgb_k(f_k)`` (``+ condition_k`` for a residual R) and the
conditions (the LR, bicubic-upsampled to each level). The wrappers only read; R's output is
bit-identical with and without the capture.

**Statistics.** Per channel: mean and max of γ over faces and pixels; the channels that vary
most *across faces* (the mean over pixels of the variance over faces). Then Fig. 9's claim
("shallow maps focus on boundaries, deep maps show semantic structure such as the mouth")
as correlations, per face n and channel c, over the pixels p of the level (a ``border`` of
pixels dropped, where the zero padding of the branch's convolutions shows):

* the edge map of the level's condition: Sobel on its luma Y (BT.601),
  ``G_x = [[−1, 0, 1], [−2, 0, 2], [−1, 0, 1]] ∗ Y``, ``G_y = G_xᵀ ∗ Y``,
  ``E = sqrt(G_x² + G_y²)`` (replicate padding);
* each face part's mask (:func:`selfsr_edu.data.synthfaces.part_masks`), area-averaged to
  the level's resolution (the fraction of each pixel the part covers);
* Pearson's correlation ``r(x, y) = Σ_p (x_p − x̄)(y_p − ȳ) / sqrt(Σ_p (x_p − x̄)² Σ_p (y_p − ȳ)²)``
  (undefined, NaN, when a map is constant over the face, e.g. no glasses).

We correlate **γ itself**, not ``|γ − mean|``: γ is the weight Eq. 6 puts on every position
(the paper's "the brighter, the larger the activation"), and it is used linearly; a channel
that is *low* exactly on the boundaries is as boundary-specific as one that is high, and
that shows as r ≈ −1, so the summaries use ``|r|``. The per-face r of a channel is first
averaged over faces (a channel that tracks edges does so with the same sign on every face)
and the absolute value taken after: ``ρ_c = |mean_n r_{n,c}|``, which is not inflated by
noise the way ``mean_n |r_{n,c}|`` is. :func:`edge_vs_part` reports per block the mean of
``ρ_c`` over channels for the edges and, for the part that is largest, for the part masks.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from selfsr_edu.nn.scb import instance_norm

Key = tuple  # (level, block): 1-based level, 0-based block index


@dataclass
class Capture:
    """Intermediates of one forward pass of R, keyed by ``(level, block)`` (see the module docstring)."""

    kind: str
    features: dict = field(default_factory=dict)
    normalised: dict = field(default_factory=dict)
    gamma: dict = field(default_factory=dict)
    beta: dict = field(default_factory=dict)
    modulated: dict = field(default_factory=dict)
    rgb: dict = field(default_factory=dict)  # level -> N×3×H×W
    conditions: dict = field(default_factory=dict)  # level -> N×3×H×W
    output: torch.Tensor | None = None

    @property
    def keys(self) -> list[Key]:
        """The ``(level, block)`` pairs captured, in forward order."""
        return list(self.modulated)


def _blocks(R: nn.Module):
    if not hasattr(R, "level") or not all(hasattr(lvl, "blocks") for lvl in R.level):
        raise ValueError(f"R must be a SelfConditionedSR (levels with blocks), got {type(R).__name__}")
    for k, lvl in enumerate(R.level, start=1):
        for j, block in enumerate(lvl.blocks):
            yield (k, j), block


@contextmanager
def tap(R: nn.Module):
    """Within the ``with``, every block's ``apply`` of R records its inputs and output.

    Yields a dict ``{(level, block): {"features", "c", "out"}}`` filled by each forward
    (later forwards overwrite). Each wrapper calls the original ``apply`` unchanged and
    stores detached tensors; on exit (also on an exception) the instance attribute is
    removed, so ``block.apply`` is the class's method again.
    """
    records: dict = {}
    patched = []
    try:
        for key, block in _blocks(R):
            had = "apply" in block.__dict__
            original = block.apply

            def wrapped(features, c, _original=original, _key=key):
                out = _original(features, c)
                records[_key] = {"features": features.detach(), "c": c.detach(), "out": out.detach()}
                return out

            block.apply = wrapped  # an instance attribute shadows the class's method
            patched.append((block, had, original))
        yield records
    finally:
        for block, had, original in patched:
            if had:
                block.apply = original
            else:
                del block.apply


@torch.no_grad()
def capture(R: nn.Module, lr: torch.Tensor, stage: int | None = None) -> Capture:
    """Run ``R(lr, stage)`` once and return its :class:`Capture` (γ, β, IN(f), f', RGB per level).

    ``lr``: N×3×h×w in [0, 1]; ``stage``: levels 1..stage are run (all by default).
    """
    if not torch.is_tensor(lr) or lr.dim() != 4 or lr.shape[1] != 3:
        raise ValueError(f"capture: lr must be an N×3×H×W tensor, got "
                         f"{tuple(lr.shape) if torch.is_tensor(lr) else type(lr).__name__}")
    stage = R.levels if stage is None else int(stage)
    if not 1 <= stage <= R.levels:
        raise ValueError(f"capture: stage must be in 1..{R.levels}, got {stage}")
    kind = R.config.get("block", "scb") if hasattr(R, "config") else "scb"
    conditions = R.conditions(lr, stage)
    with tap(R) as rec:
        output = R(lr, stage, conditions=conditions)
    cap = Capture(kind=kind, output=output)
    for key, r in rec.items():
        level, j = key
        block = R.level[level - 1].blocks[j]
        cap.features[key] = r["features"]
        cap.normalised[key] = instance_norm(r["features"], getattr(block, "eps", 1e-5))
        cap.modulated[key] = r["out"]
        if kind == "spade":
            cap.gamma[key], cap.beta[key] = r["c"].chunk(2, dim=1)
        elif kind == "scb":
            cap.gamma[key] = r["c"]
    for level in range(1, stage + 1):
        cap.conditions[level] = conditions[level - 1]
        last = (level, len(R.level[level - 1].blocks) - 1)
        cap.rgb[level] = R._rgb(level, rec[last]["out"], conditions[level - 1])
    return cap


# ---------------------------------------------------------------------------
# maps to correlate with
# ---------------------------------------------------------------------------
def luma(images: torch.Tensor) -> torch.Tensor:
    """BT.601 luma ``Y = 0.299 R + 0.587 G + 0.114 B`` of N×3×H×W images (N×1×H×W, same scale)."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be N×3×H×W, got {tuple(images.shape)}")
    w = images.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (images * w).sum(1, keepdim=True)


def sobel_magnitude(images: torch.Tensor) -> torch.Tensor:
    """Sobel edge magnitude of the luma: ``sqrt(G_x² + G_y²)``, N×1×H×W (replicate padding).

    ``G_x = [[−1, 0, 1], [−2, 0, 2], [−1, 0, 1]] ∗ Y`` (cross-correlation), ``G_y = G_xᵀ ∗ Y``;
    ``images``: N×3×H×W (RGB, Y taken) or N×1×H×W.
    """
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must be N×3×H×W or N×1×H×W, got {tuple(images.shape)}")
    y = luma(images) if images.shape[1] == 3 else images
    kx = y.new_tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    k = torch.stack([kx, kx.t()])[:, None]
    g = F.conv2d(F.pad(y, (1, 1, 1, 1), mode="replicate"), k)
    return g.pow(2).sum(1, keepdim=True).sqrt()


def resize_masks(masks, size: int) -> dict[str, torch.Tensor]:
    """Part masks ``{part: N×H×W}`` (bool/float, arrays or tensors) -> ``{part: N×1×size×size}``
    coverage in [0, 1] by area averaging (exact box filter when H is a multiple of ``size``)."""
    if not isinstance(masks, dict) or not masks:
        raise ValueError("masks must be a non-empty dict {part: N×H×W masks}")
    out = {}
    for name, m in masks.items():
        m = torch.as_tensor(np.asarray(m) if not torch.is_tensor(m) else m).float()
        if m.dim() != 3:
            raise ValueError(f"masks[{name!r}] must be N×H×W, got shape {tuple(m.shape)}")
        out[name] = F.adaptive_avg_pool2d(m[:, None], size) if m.shape[-1] != size else m[:, None]
    return out


def stack_masks(per_face: list[dict]) -> dict[str, torch.Tensor]:
    """``[{part: H×W}, ...]`` (one dict per face, as :func:`part_masks` gives) -> ``{part: N×H×W bool}``."""
    if not per_face:
        raise ValueError("per_face must list at least one face's masks")
    return {name: torch.from_numpy(np.stack([np.asarray(m[name]) for m in per_face])) for name in per_face[0]}


def held_out_masks(cfg, n: int | None = None) -> dict[str, torch.Tensor]:
    """Part masks ``{part: N×H×W bool}`` of the HR faces of :func:`selfsr_edu.evaluate.held_out_pairs`."""
    from selfsr_edu.data.synthfaces import part_masks
    from selfsr_edu.evaluate import held_out_params

    hr_size = cfg.lr_size << cfg.levels
    return stack_masks([part_masks(p, hr_size) for p in held_out_params(cfg, n)])


# ---------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------
def pearson(x: torch.Tensor, y: torch.Tensor, border: int = 0) -> torch.Tensor:
    """Pearson's r over the pixels of each face, for every channel of ``x`` against ``y``.

    ``x``: N×C×H×W, ``y``: N×1×H×W (or N×C×H×W); returns N×C (float64), NaN where either map
    is constant. ``r = Σ_p (x_p − x̄)(y_p − ȳ) / sqrt(Σ_p (x_p − x̄)² Σ_p (y_p − ȳ)²)``
    over the pixels p, ``border`` pixels dropped on every side.
    """
    if x.dim() != 4 or y.dim() != 4 or x.shape[0] != y.shape[0] or x.shape[-2:] != y.shape[-2:]:
        raise ValueError(f"pearson: x and y must be N×C×H×W of the same N, H, W, got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}")
    if border < 0 or 2 * border >= min(x.shape[-2:]):
        raise ValueError(f"pearson: border={border} leaves nothing of a {x.shape[-2]}×{x.shape[-1]} map")
    if border:
        x, y = x[..., border:-border, border:-border], y[..., border:-border, border:-border]
    x, y = x.double().flatten(2), y.double().flatten(2)
    x = x - x.mean(-1, keepdim=True)
    y = y - y.mean(-1, keepdim=True)
    num = (x * y).sum(-1)
    den = (x.pow(2).sum(-1) * y.pow(2).sum(-1)).sqrt()
    tiny = 1e-12 * x.shape[-1]
    return torch.where(den > tiny, num / den.clamp_min(tiny), torch.full_like(num, float("nan")))


def _gamma(cap: Capture, key: Key) -> torch.Tensor:
    if key not in cap.modulated:
        raise ValueError(f"key {key} was not captured; captured: {cap.keys}")
    if key not in cap.gamma:
        raise ValueError(f"the {cap.kind!r} block has no γ: it concatenates the condition instead of modulating")
    return cap.gamma[key]


def channel_stats(cap: Capture, key: Key, top: int = 4) -> dict:
    """Per channel of γ at ``key``: ``mean`` and ``max`` over faces and pixels, ``across_faces``
    (``mean_{h,w} Var_n γ_{n,c,h,w}``: how much a channel's map changes from face to face) and
    ``top_varying``, the ``top`` channels of largest ``across_faces``, largest first."""
    g = _gamma(cap, key).double()
    across = g.var(0, unbiased=False).mean((-2, -1)) if g.shape[0] > 1 else torch.zeros(g.shape[1], dtype=g.dtype)
    order = torch.argsort(across, descending=True)
    return {"mean": g.mean((0, 2, 3)), "max": g.amax((0, 2, 3)), "across_faces": across,
            "top_varying": order[:top].tolist()}


def correlations(cap: Capture, masks: dict | None = None, border: int = 2) -> dict:
    """Per ``(level, block)``: ``{"edge": N×C r with the condition's Sobel map, "parts": {part: N×C r}}``.

    ``masks``: ``{part: N×H×W}`` of the faces (any resolution; area-averaged to each level's),
    or ``None`` for the edges only. ``border``: pixels dropped on every side.
    """
    if not cap.gamma:
        raise ValueError(f"the {cap.kind!r} block has no γ: it concatenates the condition instead of modulating")
    out = {}
    for key in cap.keys:
        g = _gamma(cap, key)
        level = key[0]
        res = {"edge": pearson(g, sobel_magnitude(cap.conditions[level]), border)}
        if masks is not None:
            resized = resize_masks(masks, g.shape[-1])
            for name, m in resized.items():
                if m.shape[0] != g.shape[0]:
                    raise ValueError(f"masks[{name!r}] has {m.shape[0]} faces, the capture {g.shape[0]}")
            res["parts"] = {name: pearson(g, m, border) for name, m in resized.items()}
        out[key] = res
    return out


def channel_score(r: torch.Tensor) -> torch.Tensor:
    """``ρ_c = |mean_n r_{n,c}|`` over the faces where r is defined (NaN if none): N×C -> C."""
    return r.nanmean(0).abs()


def edge_vs_part(R: nn.Module, lr: torch.Tensor, masks: dict, stage: int | None = None, border: int = 2,
                 parts=None, cap: Capture | None = None) -> dict:
    """Fig. 9 as a measurement: per ``(level, block)``, edges vs face parts.

    Returns ``{(level, block): {"edge", "edge_max", "part", "best_part", "parts", "parts_max",
    "edge_channel", "part_channel"}}`` where ``edge`` is the mean over channels of ``ρ_c`` (see
    :func:`channel_score`) against the Sobel map of the condition, ``edge_max`` its max over
    channels, ``parts[p]`` the mean over channels of ``ρ_c`` against part p's mask (``parts_max[p]``
    the max over channels: one channel can follow the mouth while the others do not), ``part``
    the largest of those and ``best_part`` its name; ``edge_channel``/``part_channel``: the
    channel with the largest ρ_c for the edges / for the best part. Parts absent from every
    face (NaN) are left out. ``parts``: restrict to these names; ``cap``: a capture of
    ``R(lr, stage)`` to reuse.
    """
    if not isinstance(masks, dict) or not masks:
        raise ValueError("edge_vs_part: masks must be a non-empty dict {part: N×H×W masks}")
    if parts is not None:
        missing = [p for p in parts if p not in masks]
        if missing:
            raise ValueError(f"edge_vs_part: parts {missing} are not in masks (have {sorted(masks)})")
        masks = {p: masks[p] for p in parts}
    cap = capture(R, lr, stage) if cap is None else cap
    corr = correlations(cap, masks, border)
    out = {}
    for key, res in corr.items():
        edge = channel_score(res["edge"])
        per_part, per_part_max = {}, {}
        for name, r in res["parts"].items():
            s = channel_score(r)
            if torch.isfinite(s).any():
                per_part[name] = float(s.nanmean())
                per_part_max[name] = float(s.nan_to_num(-1).max())
        best = max(per_part, key=per_part.get) if per_part else None
        part_ch = int(torch.nan_to_num(channel_score(res["parts"][best]), nan=-1).argmax()) if best else None
        out[key] = {"edge": float(edge.nanmean()), "edge_max": float(edge.nan_to_num(-1).max()),
                    "edge_channel": int(edge.nan_to_num(-1).argmax()),
                    "part": per_part.get(best, float("nan")), "best_part": best, "part_channel": part_ch,
                    "parts": per_part, "parts_max": per_part_max}
    return out


def format_edge_vs_part(summary: dict) -> str:
    """The :func:`edge_vs_part` summary as a small text table."""
    lines = [f"{'level':>5} {'block':>5} {'edges':>7} {'best part':>10} {'(part)':<9} {'edge max':>8}"]
    for (level, block), s in summary.items():
        lines.append(f"{level:>5} {block:>5} {s['edge']:>7.3f} {s['part']:>10.3f} {str(s['best_part']):<9} "
                     f"{s['edge_max']:>8.3f}")
    return "\n".join(lines)


__all__ = ["Capture", "tap", "capture", "luma", "sobel_magnitude", "resize_masks", "stack_masks", "held_out_masks",
           "pearson", "channel_stats", "correlations", "channel_score", "edge_vs_part", "format_edge_vs_part"]
