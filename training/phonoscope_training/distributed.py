"""Distributed data parallel (issue 17): the same training on one process or under `torchrun --nproc-per-node N
[--nnodes M ...]` (gloo on CPU, nccl on GPU), with the same weights up to float noise.

How a step stays the one-process step whatever the number of processes:
- every rank draws the same epoch order and the same crops and augmentations of the whole global batch (one seeded
  numpy generator, in lockstep on every rank), then keeps the examples of ITS patients: a fixed, seeded
  patient-grouped split (`owners`), so all of a patient's recordings are trained on one rank;
- the loss is the global batch's: each rank's sum over its examples, divided by the global batch size, times the world
  size (DDP averages the gradients over the ranks);
- BatchNorm normalises with the statistics of the global batch (GlobalBatchNorm: all-reduced sums, differentiable), as
  one process does (torch's SyncBatchNorm runs on GPUs only).
Dropout masks are drawn per rank, so with dropout the runs agree in distribution, not step by step.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class World:
    rank: int
    size: int
    local_rank: int

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup() -> World:
    """This process's place: one process, or a rank of torchrun's (env:// rendezvous; the group is made once)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World(0, 1, 0)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def barrier(world: World) -> None:
    if world.size > 1:
        dist.barrier()


def all_sum(x: torch.Tensor, world: World) -> torch.Tensor:
    """The sum over the ranks (not differentiable: for logging and counters)."""
    if world.size > 1:
        x = x.clone()
        dist.all_reduce(x)
    return x


def owners(patient_ids: list[str], world_size: int, seed: int) -> np.ndarray:
    """The rank that trains each recording: patients (sorted, then a seeded permutation) dealt to the ranks in turn,
    so a patient's recordings are all on one rank and the ranks hold about as many patients each."""
    patients = sorted(set(patient_ids))
    order = np.random.default_rng(seed).permutation(len(patients))
    rank_of = {patients[i]: k % world_size for k, i in enumerate(order)}
    return np.array([rank_of[p] for p in patient_ids], dtype=np.int64)


class _AllReduce(torch.autograd.Function):
    """The sum over the ranks, differentiable: every rank's loss depends on every rank's input through the sum, so
    the gradient that flows back is the sum of the ranks' gradients."""

    @staticmethod
    def forward(ctx, x):
        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


def all_reduce(x: torch.Tensor) -> torch.Tensor:
    return _AllReduce.apply(x)


class GlobalBatchNorm(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are those of the batch across every rank (two all-reduces, through
    which the gradient flows); evaluation and the state dict are BatchNorm2d's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        xf = x.float()
        dims = (0, 2, 3)
        count = all_reduce(torch.full((1,), xf.numel() / xf.shape[1], dtype=torch.float32, device=x.device))
        mean = all_reduce(xf.sum(dim=dims)) / count
        centred = xf - mean[None, :, None, None]
        var = all_reduce((centred * centred).sum(dim=dims)) / count
        with torch.no_grad():
            m = self.momentum
            self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
            self.running_var.mul_(1 - m).add_(var.detach() * count / (count - 1), alpha=m)
            self.num_batches_tracked.add_(1)
        y = centred * torch.rsqrt(var + self.eps)[None, :, None, None]
        y = y * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return y.to(x.dtype)


def global_batchnorm(model: nn.Module) -> nn.Module:
    """The model with every BatchNorm2d replaced by a GlobalBatchNorm holding the same parameters and buffers."""
    for name, child in model.named_children():
        if type(child) is nn.BatchNorm2d:
            new = GlobalBatchNorm(child.num_features, child.eps, child.momentum, child.affine,
                                  child.track_running_stats)
            new.load_state_dict(child.state_dict())
            setattr(model, name, new.to(child.weight.device))
        else:
            global_batchnorm(child)
    return model
