"""Multi-GPU (and multi-process CPU) training the standard way: torchrun + DDP.

Launch any trainer under ``torchrun --nproc_per_node=N python -m selfsr_edu train-sr ...``.
torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT``; :func:`setup` reads them and joins the process group (NCCL on
CUDA, gloo on CPU). Each process then:

* builds the same model from the same seed; DistributedDataParallel also
  broadcasts rank 0's weights at wrap time, so replicas start identical;
* draws the *global* batch indices from the same per-step generator and keeps
  its own slice (``rank``-th of ``world_size``), so N processes with batch B/N
  each see exactly the batch one process with batch B would;
* averages gradients in ``backward`` (DDP's all-reduce), so every replica takes
  the same optimiser step and the weights stay identical;
* writes checkpoints, samples and logs only on rank 0.

``find_unused_parameters=True``: in progressive training the levels that have
not grown in yet (and a faded-out to-RGB) get no gradient.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class DistContext:
    """Where this process sits: ``rank`` of ``world_size``, its ``device``."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str | torch.device | None = None) -> DistContext:
    """Join the process group if launched by torchrun (``WORLD_SIZE > 1``), else a 1-process context.

    ``device``: ``"cpu"``, ``"cuda"`` or ``None`` (CUDA when available). Under
    CUDA each process takes GPU ``LOCAL_RANK`` and the NCCL backend; on CPU gloo.
    """
    want = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(device=want)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if want.type == "cuda":
        torch.cuda.set_device(local_rank)
        want = torch.device("cuda", local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if want.type == "cuda" else "gloo", rank=rank, world_size=world)
    return DistContext(rank=rank, world_size=world, local_rank=local_rank, device=want)


def wrap(module: nn.Module, ctx: DistContext) -> nn.Module:
    """``DistributedDataParallel(module)`` when distributed, else ``module`` itself."""
    if not ctx.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DDP(module, device_ids=ids, find_unused_parameters=True, broadcast_buffers=False)


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside a DDP wrapper (or the module itself)."""
    return module.module if hasattr(module, "module") else module


def all_reduce_mean(x: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Mean of a tensor over all processes (for logged losses and metrics)."""
    if not ctx.enabled:
        return x
    y = x.detach().clone()
    dist.all_reduce(y, op=dist.ReduceOp.SUM)
    return y / ctx.world_size


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()


def cleanup(ctx: DistContext) -> None:
    """Leave the process group (call at the end of a distributed run)."""
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


__all__ = ["DistContext", "setup", "wrap", "unwrap", "all_reduce_mean", "barrier", "cleanup"]
