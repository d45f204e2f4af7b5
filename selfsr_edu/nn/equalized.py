"""Equalized learning-rate layers (Karras et al., progressive GAN, Sec. 4.1).

The paper trains R and D_H "with the trick of equalized learning rate [19]"
(Sec. IV, implementation details) and a constant learning rate of 0.003.

The trick: store the weight as ``ŵ ~ N(0, 1)`` and multiply by the He
constant at run time,

    w = ŵ · c,    c = gain / sqrt(fan_in),    gain = sqrt(2),

so every layer's output has the same scale at initialisation *and* Adam,
which normalises each parameter's update by its own gradient magnitude,
moves every layer's effective weights at the same relative speed. Because
``c`` is applied in ``forward`` (not folded into the stored weight) the
dynamic range of the stored parameters is the same everywhere.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

HE_GAIN = math.sqrt(2.0)


class EqualConv2d(nn.Module):
    """A 2-D convolution with equalized learning rate.

    ``forward(x) = conv2d(x, ŵ · gain/sqrt(C_in·k·k), b)`` with ``ŵ ~ N(0, 1)``;
    padding defaults to ``k // 2`` ("same").
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int | None = None, bias: bool = True, bias_init: float = 0.0, gain: float = HE_GAIN):
        super().__init__()
        if in_channels <= 0 or out_channels <= 0 or kernel_size <= 0:
            raise ValueError(f"EqualConv2d: channels and kernel_size must be positive, got "
                             f"{in_channels}, {out_channels}, {kernel_size}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = kernel_size, stride
        self.padding = kernel_size // 2 if padding is None else padding
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.scale = gain / math.sqrt(in_channels * kernel_size * kernel_size)
        self.bias = nn.Parameter(torch.full((out_channels,), float(bias_init))) if bias else None

    def effective_weight(self) -> torch.Tensor:
        """The weight the convolution actually uses: ``ŵ · c``."""
        return self.weight * self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.effective_weight(), self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, scale={self.scale:.4g}")


class EqualLinear(nn.Module):
    """A fully connected layer with equalized learning rate:
    ``forward(x) = x (ŵ · gain/sqrt(in))ᵀ + b``."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, bias_init: float = 0.0,
                 gain: float = HE_GAIN):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"EqualLinear: features must be positive, got {in_features}, {out_features}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.scale = gain / math.sqrt(in_features)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init))) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, scale={self.scale:.4g}"


__all__ = ["EqualConv2d", "EqualLinear", "HE_GAIN"]
