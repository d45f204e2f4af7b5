"""Building blocks: warping (Eq. 1), equalized learning-rate layers, and the
self-conditioned block (Eq. 6)."""

from selfsr_edu.nn.equalized import EqualConv2d, EqualLinear  # noqa: E402
from selfsr_edu.nn.scb import ConcatBlock, SelfConditionedBlock, SpadeBlock  # noqa: E402

__all__: list[str] = []
__all__ += ["EqualConv2d", "EqualLinear", "SelfConditionedBlock", "ConcatBlock", "SpadeBlock"]
