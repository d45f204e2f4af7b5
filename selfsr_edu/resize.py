"""Public alias: ``selfsr_edu.resize`` re-exports :mod:`selfsr_edu.data.resize`."""
from selfsr_edu.data.resize import bicubic_pil, cubic_kernel, imresize  # noqa: F401

__all__ = ["imresize", "bicubic_pil", "cubic_kernel"]
