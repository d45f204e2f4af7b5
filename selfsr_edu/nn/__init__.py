"""Building blocks: equalized learning-rate layers and the self-conditioned
block (Eq. 6). Warping (Eq. 1) is :mod:`selfsr_edu.warp`."""

from selfsr_edu.nn.equalized import EqualConv2d, EqualLinear  # noqa: E402
from selfsr_edu.nn.scb import ConcatBlock, SelfConditionedBlock, SpadeBlock  # noqa: E402

__all__: list[str] = []
__all__ += ["EqualConv2d", "EqualLinear", "SelfConditionedBlock", "ConcatBlock", "SpadeBlock"]
