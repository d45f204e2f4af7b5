"""The paper's training objectives, one function per equation.

Conventions: images are N×C×H×W floats in [0, 1]; logits are raw
discriminator outputs of any shape (patch discriminators give N×1×h×w).
"E[·]" in the paper is read as the mean over the batch and every element, so a
loss's magnitude does not depend on image size (assumed: the paper writes
``E[||·||_1]`` without saying how it is normalised).

Stage 1, degradation (Sec. III-A):   Eq. 2 adversarial, Eq. 3 identity,
                                      Eq. 4 flow smoothness, Eq. 5 objective.
Stage 2, super-resolution (Sec. III-B): Eq. 7 hinge, Eq. 8 reconstruction,
                                      Eq. 9 R1, Eq. 10 objective, Eq. 11 cycle.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from selfsr_edu.resize import bicubic_pil

# --------------------------------------------------------------------------
# Stage 1: domain-adaptive degradation
# --------------------------------------------------------------------------


def lr_adversarial_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Eq. 2, discriminator side: maximise ``E[log D(real)] + E[log(1 − D(G(x)))]``.

    With ``D = sigmoid(logit)`` this is minimising the binary cross-entropy
    ``softplus(−real) + softplus(fake)`` (the numerically stable form).
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def lr_adversarial_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Eq. 2, generator side, in the non-saturating form ``−E[log D(G(x))]``.

    Assumed: the paper writes the minimax form; minimising ``log(1 − D(G(x)))``
    directly gives vanishing gradients early on (Goodfellow et al., 2014), so
    practically every implementation, ours included, uses ``softplus(−fake)``.
    """
    return F.softplus(-fake_logits).mean()


def identity_loss(intermediate: torch.Tensor, lr_syn: torch.Tensor) -> torch.Tensor:
    """Eq. 3: ``L_idt = E[ || Ĩ_syn − I_syn ||_1 ]``, the L1 distance between
    the image branch's intermediate output and G's clean input."""
    _same_shape(intermediate, lr_syn, "identity_loss")
    return (intermediate - lr_syn).abs().mean()


def flow_smoothness(flow: torch.Tensor) -> torch.Tensor:
    """Eq. 4: total variation of the flow field ``T`` (N×2×H×W).

    ``L_s = mean(|T[..., :, 1:] − T[..., :, :-1]|) + mean(|T[..., 1:, :] − T[..., :-1, :]|)``:
    the horizontal (∇x) plus the vertical (∇y) forward differences.
    """
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"flow_smoothness: flow must be N×2×H×W, got {tuple(flow.shape)}")
    dx = (flow[..., :, 1:] - flow[..., :, :-1]).abs().mean()
    dy = (flow[..., 1:, :] - flow[..., :-1, :]).abs().mean()
    return dx + dy


def degradation_objective(
    adversarial: torch.Tensor,
    identity: torch.Tensor,
    smoothness: torch.Tensor,
    lambda_idt: float = 10.0,
    lambda_s: float = 1.0,
) -> torch.Tensor:
    """Eq. 5 (generator side): ``L = L_adv + λ_idt L_idt + λ_s L_s``; the paper
    sets λ_idt = 10 and λ_s = 1 (Sec. IV-B)."""
    return adversarial + lambda_idt * identity + lambda_s * smoothness


# --------------------------------------------------------------------------
# Stage 2: self-conditioned super-resolution
# --------------------------------------------------------------------------


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Eq. 7, discriminator: ``−E[min(0, −1 + D(real))] − E[min(0, −1 − D(fake))]``,
    i.e. ``E[relu(1 − D(real))] + E[relu(1 + D(fake))]``."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Eq. 7, generator: ``L_adv(R) = −E[D(R(I_L))]``."""
    return -fake_logits.mean()


def reconstruction_loss(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """Eq. 8: ``L_rec = E[ || I_H − R(I_L) ||_1 ]`` (mean absolute error)."""
    _same_shape(sr, hr, "reconstruction_loss")
    return (sr - hr).abs().mean()


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor, r: float = 10.0) -> torch.Tensor:
    """Eq. 9: ``L_r1 = r/2 · E[ ||∇_x D(x)||² ]`` over real images (Mescheder et al., 2018).

    ``real_images`` must have ``requires_grad=True`` and ``real_logits`` must be
    computed from them. The squared gradient norm is taken per image (summed
    over C, H, W) and averaged over the batch. ``create_graph=True`` so the
    penalty itself can be back-propagated into D.
    """
    if not real_images.requires_grad:
        raise ValueError("r1_penalty: real_images must have requires_grad=True before D is applied")
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return 0.5 * r * grad.pow(2).flatten(1).sum(1).mean()


def sr_generator_objective(
    adversarial: torch.Tensor, reconstruction: torch.Tensor, lambda_rec: float = 150.0
) -> torch.Tensor:
    """Eq. 10, the terms R minimises: ``L_adv(R) + λ_rec L_rec`` (λ_rec = 150)."""
    return adversarial + lambda_rec * reconstruction


def sr_discriminator_objective(
    adversarial: torch.Tensor, r1: torch.Tensor, lambda_r1: float = 3.0
) -> torch.Tensor:
    """Eq. 10, the terms D_H minimises: ``L_adv(D) + λ_r1 L_r1`` (λ_r1 = 3)."""
    return adversarial + lambda_r1 * r1


def cycle_reconstruction_loss(sr: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
    """Eq. 11, the unpaired reconstruction: ``E[ || (R(I_L))↓ − I_L ||_1 ]``.

    ``(·)↓`` is bicubic degradation back to the LR size. Assumed: we use the
    same PIL-compatible bicubic that made the LR in the DIC protocol
    (:func:`selfsr_edu.resize.bicubic_pil`, differentiable), so a perfect SR
    output has zero cycle loss.
    """
    if sr.dim() != 4 or lr.dim() != 4 or sr.shape[:2] != lr.shape[:2]:
        raise ValueError(
            f"cycle_reconstruction_loss: expected N×C×H×W tensors with the same N, C; "
            f"got sr {tuple(sr.shape)} and lr {tuple(lr.shape)}"
        )
    down = bicubic_pil(sr, (lr.shape[-2], lr.shape[-1]))
    return (down - lr).abs().mean()


def _same_shape(a: torch.Tensor, b: torch.Tensor, name: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name}: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")


__all__ = [
    "lr_adversarial_d_loss",
    "lr_adversarial_g_loss",
    "identity_loss",
    "flow_smoothness",
    "degradation_objective",
    "hinge_d_loss",
    "hinge_g_loss",
    "reconstruction_loss",
    "r1_penalty",
    "sr_generator_objective",
    "sr_discriminator_objective",
    "cycle_reconstruction_loss",
]


# --------------------------------------------------------------------------
# Baseline of Table III (CycleGAN, Zhu et al. 2017)
# --------------------------------------------------------------------------


def cycle_consistency_loss(reconstructed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """CycleGAN's cycle loss for one direction: ``E[ || F(G(x)) − x ||_1 ]``
    (Zhu et al., 2017, Eq. 2 there), the mean absolute error between an image
    sent round the cycle and itself. Used by the Cyc baseline of Table III."""
    _same_shape(reconstructed, original, "cycle_consistency_loss")
    return (reconstructed - original).abs().mean()


__all__ += ["cycle_consistency_loss"]
