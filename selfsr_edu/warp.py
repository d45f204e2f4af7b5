"""Public alias: ``selfsr_edu.warp`` re-exports :mod:`selfsr_edu.nn.warp` (Eq. 1)."""
from selfsr_edu.nn.warp import warp  # noqa: F401

__all__ = ["warp"]
