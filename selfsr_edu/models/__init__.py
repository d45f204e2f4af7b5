"""Networks: the flow-field degradation network G, the CycleGAN baseline, the
self-conditioned progressive SR network R and the discriminators."""

from selfsr_edu.models.cyclegan import CycleGAN
from selfsr_edu.models.degradation import FlowFieldDegradation
from selfsr_edu.models.patch_discriminator import PatchDiscriminator

__all__: list[str] = ["FlowFieldDegradation", "CycleGAN", "PatchDiscriminator"]

from selfsr_edu.models.progressive_discriminator import ProgressiveDiscriminator  # noqa: E402
from selfsr_edu.models.sr import SelfConditionedSR  # noqa: E402

__all__ += ["SelfConditionedSR", "ProgressiveDiscriminator"]
