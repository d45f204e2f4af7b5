"""selfsr_edu: a teachable implementation of SelfSR face super-resolution.

Zeng, Zhang, Liu, Tian and Liu, "SelfSR: Self-Conditioned Face Super-Resolution
in the Wild via Flow Field Degradation Network". Two stages:

1. a flow-field degradation network G learns how real low-resolution faces are
   degraded (Sec. III-A, Eqs. 1-5);
2. a self-conditioned, progressively grown SR network R learns to undo it
   (Sec. III-B, Eqs. 6-11).

The public surface kept small on purpose: import submodules for the parts
(``selfsr_edu.warp``, ``selfsr_edu.resize``, ``selfsr_edu.metrics``,
``selfsr_edu.models``, ``selfsr_edu.losses``, ``selfsr_edu.data``).
"""
from __future__ import annotations

import os
import random

__version__ = "0.1.0"

def _quick_mode() -> bool:
    value = os.environ.get("SELFSR_QUICK")
    if value is not None and value.strip():
        return value.strip().lower() not in ("0", "false", "no")
    import torch

    return not torch.cuda.is_available()


#: Quick mode: tiny presets and short runs so every notebook finishes in about a minute on a
#: laptop CPU. On by default without a GPU; ``SELFSR_QUICK=0`` turns it off (the full
#: configuration), ``SELFSR_QUICK=1`` forces it (``make test`` does). Read once, at import.
QUICK: bool = _quick_mode()


def default_device():
    """``torch.device('cuda')`` when a GPU is visible, else ``cpu``."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy and torch (CPU and all GPUs)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def pretrained(name: str, device="cpu"):
    """A shipped reference model in eval mode, its file checked against the registry's sha256:
    ``"small-scb"``, ``"small-concat"``, ``"long-scb"``, ``"long-concat"`` (R ×8; ``R(lr)`` upscales),
    ``"ff-idt"``, ``"cyc"`` (stage-1 G),
    ``"wild-vanilla"``, ``"wild-ff-idt"`` (R ×4, the real-world setting).
    See :mod:`selfsr_edu.reference`."""
    from selfsr_edu.reference import load

    return load(name, device)


def upscale_faces(lr, name: str = "small-scb"):
    """×8 super-resolution of LR faces (N×3×16×16 or 3×16×16 in [0, 1]) with a reference R."""
    from selfsr_edu.reference import upscale_faces as run

    return run(lr, name)


__all__ = ["QUICK", "default_device", "seed_everything", "pretrained", "upscale_faces", "__version__"]
