"""Flow fields for teaching: make them and disturb them (Eq. 1, Fig. 8).

A flow is an N×2×H×W tensor in pixels: channel 0 = δx (right), channel 1 = δy
(down); :func:`selfsr_edu.warp.warp` moves the picture along it (output
(x, y) samples the input at (x − δx, y − δy)). To look at them:
:func:`flow_to_color` (the colour code, below) and :func:`selfsr_edu.viz.plot_quiver`.

* :func:`constant_flow`, :func:`rotation_flow`, :func:`motion_flow` — simple
  hand-made fields;
* :func:`smooth_random_flow` — random smooth fields of a chosen spatial scale
  and magnitude (the "disturbance" of Fig. 8);
* :func:`scale_flow`, :func:`rotate_flow`, :func:`disturb_flow` — change an
  estimated flow as in Fig. 8.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def check_flow(flow: torch.Tensor, name: str = "flow") -> torch.Tensor:
    if not torch.is_tensor(flow) or flow.dim() != 4 or flow.shape[1] != 2:
        shape = tuple(flow.shape) if torch.is_tensor(flow) else type(flow).__name__
        raise ValueError(f"{name} must be an N×2×H×W tensor (δx, δy in pixels), got {shape}")
    return flow


# --------------------------------------------------------------------------
# making flows
# --------------------------------------------------------------------------


def constant_flow(n: int, h: int, w: int, dx: float, dy: float) -> torch.Tensor:
    """The same displacement (dx right, dy down, pixels) everywhere: a pure shift."""
    flow = torch.empty(n, 2, h, w)
    flow[:, 0] = dx
    flow[:, 1] = dy
    return flow


def rotation_flow(n: int, h: int, w: int, degrees: float) -> torch.Tensor:
    """The flow that rotates the picture by ``degrees`` (clockwise on screen,
    since y points down) about the image centre.

    Output pixel p samples the input at ``p − δ``; for a rotation the source
    of p is ``R(−θ)(p − c) + c``, so ``δ = p − c − R(−θ)(p − c)``.
    """
    theta = math.radians(degrees)
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    px, py = xs - (w - 1) / 2, ys - (h - 1) / 2
    c, s = math.cos(theta), math.sin(theta)
    src_x = c * px + s * py      # R(−θ) applied to (px, py)
    src_y = -s * px + c * py
    flow = torch.stack([px - src_x, py - src_y])
    return flow.expand(n, 2, h, w).clone()


def smooth_random_flow(n: int, h: int, w: int, magnitude: float = 1.0, scale: float = 4.0,
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """Random smooth flow fields: white noise on a coarse grid of cell size
    ``scale`` pixels, upsampled bicubically to H×W, then scaled so the root
    mean square vector length is ``magnitude`` pixels.

    Small ``scale`` gives a jittery field (neighbouring pixels move apart),
    large ``scale`` an almost rigid shift. Deterministic given ``generator``.
    """
    if magnitude < 0 or scale <= 0:
        raise ValueError(f"magnitude must be ≥ 0 and scale > 0, got magnitude={magnitude}, scale={scale}")
    gh, gw = max(1, round(h / scale)) + 1, max(1, round(w / scale)) + 1
    coarse = torch.randn(n, 2, gh, gw, generator=generator)
    flow = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)
    rms = flow.pow(2).sum(1).mean(dim=(1, 2)).sqrt().clamp_min(1e-8).view(n, 1, 1, 1)
    return flow / rms * magnitude


def motion_flow(n: int, h: int, w: int, length: float, angle_degrees: float = 0.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """A "camera shake" flow: every pixel moved by a random fraction in
    [−1/2, 1/2] of a stroke of ``length`` pixels along ``angle_degrees``
    (0 = right, 90 = down). Averaging warps along such a stroke is motion
    blur; one warp with a jittered fraction per pixel gives the streaky
    "motion noise" the paper says G prefers.
    """
    theta = math.radians(angle_degrees)
    t = torch.rand(n, 1, h, w, generator=generator) - 0.5
    return torch.cat([t * length * math.cos(theta), t * length * math.sin(theta)], dim=1)


# --------------------------------------------------------------------------
# disturbing an estimated flow (Fig. 8)
# --------------------------------------------------------------------------


def scale_flow(flow: torch.Tensor, factor: float) -> torch.Tensor:
    """Every vector multiplied by ``factor`` (0 removes the flow, 2 doubles it)."""
    return check_flow(flow) * factor


def rotate_flow(flow: torch.Tensor, degrees: float) -> torch.Tensor:
    """Every vector turned by ``degrees`` (clockwise on screen, y down); lengths kept."""
    check_flow(flow)
    theta = math.radians(degrees)
    c, s = math.cos(theta), math.sin(theta)
    dx, dy = flow[:, 0], flow[:, 1]
    return torch.stack([c * dx - s * dy, s * dx + c * dy], dim=1)


def disturb_flow(flow: torch.Tensor, magnitude: float = 0.5, scale: float = 4.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Fig. 8: the estimated flow plus a random smooth field (see
    :func:`smooth_random_flow`) of RMS length ``magnitude`` pixels."""
    n, _, h, w = check_flow(flow).shape
    noise = smooth_random_flow(n, h, w, magnitude=magnitude, scale=scale, generator=generator)
    return flow + noise.to(flow)




def flow_to_color(flow: torch.Tensor, max_magnitude: float | None = None) -> torch.Tensor:
    """Colour-code a flow (N×2×H×W) as N×3×H×W images in [0, 1].

    Hue is the direction, saturation the length (Baker et al.'s Middlebury
    wheel, as ``torchvision.utils.flow_to_image`` draws it). torchvision
    normalises each batch by its own largest length; pass ``max_magnitude``
    (pixels) to use one fixed scale so several flows can be compared (longer
    vectors are clipped to it).
    """
    from torchvision.utils import flow_to_image

    flow = check_flow(flow).detach().float().cpu()
    if max_magnitude is not None:
        if max_magnitude <= 0:
            raise ValueError(f"max_magnitude must be positive, got {max_magnitude}")
        length = flow.norm(dim=1, keepdim=True)
        flow = flow * (max_magnitude / length.clamp_min(max_magnitude))  # clip, keep direction
        # a tiny fixed pixel of full length sets torchvision's normaliser to max_magnitude
        flow = torch.cat([flow, torch.zeros_like(flow[..., :1])], dim=-1)
        flow[:, 0, 0, -1] = max_magnitude
        images = torch.stack([flow_to_image(f)[..., :-1] for f in flow])
    else:
        images = torch.stack([flow_to_image(f) for f in flow])
    return images.float() / 255.0


__all__ = [
    "constant_flow", "rotation_flow", "smooth_random_flow",
    "motion_flow", "scale_flow", "rotate_flow", "disturb_flow", "flow_to_color"]
