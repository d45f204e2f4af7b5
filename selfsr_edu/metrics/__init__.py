"""Metrics: fidelity (PSNR/SSIM on Y), distribution distances and more.

Every number printed from these should say its protocol (see README)."""
from selfsr_edu.metrics.fidelity import psnr, rgb_to_y, ssim
from selfsr_edu.metrics.colour import chroma_shift, colour_shift, mean_delta_e, rgb_to_lab
from selfsr_edu.metrics.degradation_truth import degradation_truth_report, truth_l1
from selfsr_edu.metrics.swd import swd

__all__ = ["psnr", "ssim", "rgb_to_y"]
__all__ += ["swd", "rgb_to_lab", "mean_delta_e", "colour_shift", "chroma_shift", "truth_l1",
            "degradation_truth_report"]
