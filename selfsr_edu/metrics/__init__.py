"""Metrics: fidelity (PSNR/SSIM on Y), distribution distances and more.

Every number printed from these should say its protocol (see README)."""
from selfsr_edu.metrics.fidelity import psnr, rgb_to_y, ssim

__all__ = ["psnr", "ssim", "rgb_to_y"]
