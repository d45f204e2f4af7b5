"""Multi-GPU (and multi-process CPU) training the standard way: torchrun + DDP.

``torchrun --nproc_per_node=N -m selfsr_edu train-sr ...`` sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK`` and the master address; :func:`setup` joins the process group (NCCL on CUDA,
gloo on CPU). Every process builds the same model from the same seed (DDP also broadcasts
rank 0's weights), draws the *global* batch of iteration t from the same generator and keeps
its slice, so N processes with batch B/N see exactly what one process with batch B would;
DDP averages the gradients, so the replicas stay identical. Only rank 0 writes the run folder.
``find_unused_parameters=True``: levels of R that have not grown in yet get no gradient.
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


__all__ = ["DistContext", "setup", "wrap", "all_reduce_mean", "barrier", "cleanup"]
