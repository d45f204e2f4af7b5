"""Analytic FLOPs of the convolutions and linear layers of a forward (and its training step).

Counted from the shapes each layer actually sees (forward hooks on ``nn.Conv2d``,
:class:`~selfsr_edu.nn.equalized.EqualConv2d`, ``nn.Linear`` and
:class:`~selfsr_edu.nn.equalized.EqualLinear`; a torch-function mode catches the
convolutions and linear maps called *outside* those modules, e.g. R's batched
condition branches, :func:`selfsr_edu.nn.scb.level_condition_features`)::

    conv,   forward:  2 · N · C_out · H_out · W_out · (C_in / groups) · k_h · k_w
    linear, forward:  2 · M · in_features · out_features        (M = rows of the input)

(one multiply-add = 2 FLOPs). Not counted: bias additions, activations, normalisation,
pooling, resizing, the loss, the equalized-lr weight scaling ``ŵ · c`` and the optimiser,
all O(size of a tensor) rather than O(size × fan-in); that is also what
``torch.utils.flop_counter.FlopCounterMode`` counts for a dense convolution, so the two
agree exactly there (tests/test_flops.py).

Training: the backward of a layer call computes the input gradient (as many FLOPs as the
forward) when its input needs a gradient, and the weight gradient (as many again) when its
weight needs one::

    backward = forward · ([input needs grad] + [weight needs grad])

so a trained layer in the middle of a network costs 3 × forward, the first layer (its input
is data) 2 × forward (weight gradient only), and a frozen D_H that the R step back-propagates
through 2 × forward (input gradient only). R1's double backward is not counted.
``FlopCounterMode`` over-counts the backward of a *grouped* convolution; this count does not.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from selfsr_edu.nn.equalized import EqualConv2d, EqualLinear

CONVS = (nn.Conv2d, EqualConv2d)
LINEARS = (nn.Linear, EqualLinear)


@dataclass
class LayerCall:
    """One call of a conv or linear layer: its shapes and FLOPs."""

    name: str
    kind: str                       # "conv" or "linear"
    in_shape: tuple
    out_shape: tuple
    groups: int
    kernel: tuple                   # (k_h, k_w); (1, 1) for linear
    forward: int                    # FLOPs
    input_grad: bool                # the input needs a gradient
    weight_grad: bool               # the weight needs a gradient

    @property
    def backward(self) -> int:
        return self.forward * (int(self.input_grad) + int(self.weight_grad))

    @property
    def training(self) -> int:
        return self.forward + self.backward


def conv_flops(n: int, c_in: int, c_out: int, h_out: int, w_out: int, k_h: int, k_w: int, groups: int = 1) -> int:
    """Forward FLOPs of one convolution: ``2 · N · C_out · H_out · W_out · (C_in / groups) · k_h · k_w``."""
    return 2 * n * c_out * h_out * w_out * (c_in // groups) * k_h * k_w


def linear_flops(rows: int, in_features: int, out_features: int) -> int:
    """Forward FLOPs of one linear map of ``rows`` input vectors: ``2 · rows · in · out``."""
    return 2 * rows * in_features * out_features


def _pair(k) -> tuple:
    return tuple(k) if isinstance(k, (tuple, list)) else (int(k), int(k))


class FlopCount:
    """Context manager recording every conv/linear call of the forwards run inside it.

    ``with FlopCount(R, D) as fc: D(R(lr, 3), 3)`` then ``fc.forward``, ``fc.backward``,
    ``fc.training`` (FLOPs), ``fc.calls`` (one :class:`LayerCall` per call) and ``fc.table()``.
    Works on the meta device (shapes only, no arithmetic): build the models and inputs under
    ``with torch.device("meta"):`` to count a big model instantly.
    """

    def __init__(self, *models: nn.Module):
        self.models, self.calls, self._handles, self._depth = models, [], [], 0
        self._mode = _Functional(self)

    def __enter__(self) -> "FlopCount":
        for i, model in enumerate(self.models):
            prefix = f"{type(model).__name__}." if len(self.models) > 1 else ""
            for name, m in model.named_modules():
                if isinstance(m, CONVS + LINEARS):
                    self._handles.append(m.register_forward_pre_hook(self._enter))
                    self._handles.append(m.register_forward_hook(self._hook(prefix + (name or type(m).__name__))))
        self._mode.__enter__()
        return self

    def __exit__(self, *exc):
        self._mode.__exit__(*exc)
        for h in self._handles:
            h.remove()
        self._handles = []

    def _enter(self, module, inputs):
        self._depth += 1

    def _hook(self, name):
        def hook(module, inputs, output):
            self._depth -= 1
            x, w = inputs[0], module.weight
            if isinstance(module, CONVS):
                groups = getattr(module, "groups", 1)
                kh, kw = _pair(module.kernel_size)
                self._add(name, "conv", x, output, groups, (kh, kw),
                          conv_flops(output.shape[0], module.in_channels, module.out_channels,
                                     output.shape[-2], output.shape[-1], kh, kw, groups), w.requires_grad)
            else:
                rows = output.numel() // module.out_features
                self._add(name, "linear", x, output, 1, (1, 1),
                          linear_flops(rows, module.in_features, module.out_features), w.requires_grad)
        return hook

    def _add(self, name, kind, x, out, groups, kernel, flops, weight_grad):
        grad = torch.is_grad_enabled()
        self.calls.append(LayerCall(name, kind, tuple(x.shape), tuple(out.shape), int(groups), kernel, int(flops),
                                    bool(grad and x.requires_grad), bool(grad and weight_grad)))

    @property
    def forward(self) -> int:
        return sum(c.forward for c in self.calls)

    @property
    def backward(self) -> int:
        return sum(c.backward for c in self.calls)

    @property
    def training(self) -> int:
        return self.forward + self.backward

    def table(self) -> str:
        rows = [f"{'layer':44s} {'input':>20s} {'groups':>6s} {'fwd GFLOP':>10s} {'train GFLOP':>11s}"]
        rows += [f"{c.name[:44]:44s} {str(list(c.in_shape)):>20s} {c.groups:6d} {c.forward / 1e9:10.4f} "
                 f"{c.training / 1e9:11.4f}" for c in self.calls]
        rows.append(f"{'total':44s} {'':20s} {'':6s} {self.forward / 1e9:10.4f} {self.training / 1e9:11.4f}")
        return "\n".join(rows)


class _Functional(TorchFunctionMode):
    """Records ``F.conv2d`` / ``F.linear`` calls made outside a hooked module."""

    def __init__(self, owner: FlopCount):
        super().__init__()
        self.owner = owner

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.owner._depth == 0 and func in (F.conv2d, F.linear):
            x, w = args[0], args[1] if len(args) > 1 else kwargs["weight"]
            if func is F.conv2d:
                groups = args[6] if len(args) > 6 else kwargs.get("groups", 1)
                kh, kw = w.shape[-2:]
                flops = conv_flops(out.shape[0], x.shape[1], out.shape[1], out.shape[-2], out.shape[-1], kh, kw, groups)
                self.owner._add("(functional conv2d)", "conv", x, out, groups, (kh, kw), flops, w.requires_grad)
            else:
                self.owner._add("(functional linear)", "linear", x, out, 1, (1, 1),
                                linear_flops(out.numel() // w.shape[0], w.shape[1], w.shape[0]), w.requires_grad)
        return out


def model_flops(model: nn.Module, *inputs, **kwargs) -> FlopCount:
    """The :class:`FlopCount` of one forward ``model(*inputs, **kwargs)`` (with autograd on)."""
    with torch.enable_grad(), FlopCount(model) as fc:
        model(*inputs, **kwargs)
    return fc


def r_step_flops(preset: str = "paper", batch: int = 48, stage: int = 3, alpha: float = 1.0, lr_size: int = 16,
                 discriminator: bool = True, full: bool = False, block: str = "scb") -> dict:
    """FLOPs of one stage-2 iteration, counted on the meta device (instant at any size).

    ``"R"``: R's step (R forward + backward; with ``discriminator`` also the frozen D_H
    forward on R's output and the backward through it to R, the adversarial term of Eq. 10).
    ``full``: also the D step (D_H on R's detached output and on the real image, forward +
    backward; R1's double backward not counted). Returns ``{"R_step", "D_step", "iteration",
    "R_forward", "count"}`` in FLOPs (``count``: the :class:`FlopCount` of the R step).
    """
    from selfsr_edu.models import ProgressiveDiscriminator, SelfConditionedSR

    with torch.device("meta"):
        R = SelfConditionedSR.from_preset(preset, block=block)
        D = ProgressiveDiscriminator.from_preset(preset)
        lr = torch.rand(batch, 3, lr_size, lr_size)
        real = torch.rand(batch, 3, lr_size << stage, lr_size << stage)
    with torch.enable_grad():
        with FlopCount(R) as r_only:
            R(lr, stage, alpha)
        with FlopCount(R, D) as fc:
            sr = R(lr, stage, alpha)
            if discriminator:
                D.requires_grad_(False)
                D(sr, stage, alpha)
                D.requires_grad_(True)
        d_step = 0
        if full:
            with FlopCount(D) as fd:
                D(sr.detach(), stage, alpha)
                D(real, stage, alpha)
            d_step = fd.training
    return {"R_forward": r_only.forward, "R_step": fc.training, "D_step": d_step,
            "iteration": fc.training + d_step, "count": fc}


__all__ = ["FlopCount", "LayerCall", "conv_flops", "linear_flops", "model_flops", "r_step_flops"]
