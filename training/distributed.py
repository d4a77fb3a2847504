"""Data-parallel training when launched by ``torchrun`` (PyTorch's DistributedDataParallel; README, "Dependency
policy", says why not accelerate):

    torchrun --nproc_per_node 4 -m training CONFIG.yaml

Each process takes its share of every global batch (``batch_size`` stays the global size), PyTorch's
DistributedDataParallel averages the gradients, rank 0 alone logs, checkpoints and saves. InfoNCE negatives are the
in-batch items of each process (no cross-process gather). Without those variables everything is single-process."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def shard(self, indices: list[int]) -> list[int]:
        """This process's part of a global batch."""
        return indices[self.rank :: self.world_size]

    def mean(self, value: torch.Tensor) -> float:
        """The mean of a scalar over the processes (for the log)."""
        value = value.detach().float().clone()
        if self.enabled:
            dist.all_reduce(value)
            value /= self.world_size
        return value.item()

    def check_in_sync(self, parameters: list[torch.Tensor]) -> None:
        """Every process must end with the same weights; a silent divergence would save rank 0's alone."""
        if not self.enabled:
            return
        checksum = (
            torch.stack([p.detach().double().sum() for p in parameters]).sum().reshape(1).to(parameters[0].device)
        )
        gathered = [torch.zeros_like(checksum) for _ in range(self.world_size)]
        dist.all_gather(gathered, checksum)
        if not all(torch.allclose(g, gathered[0], rtol=1e-6) for g in gathered):
            raise RuntimeError(f"data-parallel processes ended with different weights: {[g.item() for g in gathered]}")

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


def init_distributed(device: str | None) -> tuple[Distributed, str | None]:
    """(the process group, the device this process trains on); a single process when not launched by torchrun."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed(), device
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and (device is None or device.startswith("cuda"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device = f"cuda:{local_rank}"
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return Distributed(rank, world_size, local_rank), device or "cpu"


class TrainStep(nn.Module):
    """Everything that trains, as one module (so DistributedDataParallel can wrap it): the backbone with its LoRA
    adapter, the modality projectors and the objectives (their temperatures, decoders). ``forward(batch)`` is the sum
    of the objectives' losses and their metrics."""

    def __init__(self, embedder, objectives: nn.ModuleDict):
        super().__init__()
        trainable = embedder.trainable_modules()
        self.model, self.projectors, self.objectives = trainable["model"], trainable["projectors"], objectives
        self.__dict__["embedder"] = embedder  # not a submodule: its trainable parts are registered above

    def forward(self, batch):
        losses, metrics = [], {}
        for objective in self.objectives.values():
            if not objective.runs_on(batch.source):
                continue
            loss, values = objective(self.embedder, batch)
            losses.append(loss)
            metrics |= values
        if not losses:
            raise ValueError(
                f"no objective runs on a batch from source {batch.source!r}: "
                f"widen an objective's sources ({', '.join(self.objectives)}) or drop the source"
            )
        return torch.stack(losses).sum(), metrics


def wrap(step: TrainStep, distributed: Distributed, device) -> nn.Module:
    if not distributed.enabled:
        return step
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [distributed.local_rank] if torch.device(device).type == "cuda" else None
    return DistributedDataParallel(step, device_ids=device_ids, find_unused_parameters=True)
