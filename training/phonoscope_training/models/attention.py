"""Global attention pooling (Ren et al. 2022; compact PANNs / Kong et al. style), 2-D and 1-D.

Two 1x1 conv branches with one output channel per class:
- classification branch C: class scores at every position (no activation);
- attention branch: "sigmoid" -> sigmoid clamped to [0.1, 0.9] (as in the sibling ICASSP 2019 code), or
  "softmax" -> softmax over the classes at each position (Kong et al.'s `activate`), clamped the same way.
  The attention conv is initialised to zero, so attention starts uniform.
  The map is normalised over ALL positions, per class: F* = F / sum(F) (sums to 1 per class).
- pooled score per class = sum over positions of C * F*; the model applies log-softmax over the classes
  (cross-entropy on the pooled scores; NLL on un-normalised pooled scores does not train).
"avg" pooling (the ablation) is the same head with a constant attention map (global average pooling of C).
"""
from __future__ import annotations

import torch
from torch import nn

CLAMP = (0.1, 0.9)


class _AttentionPool(nn.Module):
    conv = nn.Conv2d

    def __init__(self, in_channels: int, n_classes: int, activation: str = "sigmoid", pooling: str = "attention"):
        super().__init__()
        if activation not in ("sigmoid", "softmax"):
            raise ValueError(f"activation must be sigmoid or softmax, not {activation!r}")
        if pooling not in ("attention", "avg"):
            raise ValueError(f"pooling must be attention or avg, not {pooling!r}")
        self.activation = activation
        self.pooling = pooling
        self.cla = self.conv(in_channels, n_classes, kernel_size=1)
        self.att = self.conv(in_channels, n_classes, kernel_size=1) if pooling == "attention" else None
        if self.att is not None:
            nn.init.zeros_(self.att.weight)
            nn.init.zeros_(self.att.bias)

    def _pool(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, C, *positions] -> (scores [B, K], normalised attention [B, K, *positions])."""
        cla = self.cla(x)
        dims = tuple(range(2, cla.dim()))
        if self.att is None:
            att = torch.ones_like(cla)
        else:
            a = self.att(x)
            a = torch.sigmoid(a) if self.activation == "sigmoid" else torch.softmax(a, dim=1)
            att = torch.clamp(a, CLAMP[0], CLAMP[1])
        norm = att / att.sum(dim=dims, keepdim=True)
        return (cla * norm).sum(dim=dims), norm


class AttentionPool2d(_AttentionPool):
    """[B, C, T, F] -> (scores [B, K], attention [B, K, T, F])."""
    conv = nn.Conv2d

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._pool(x)


class AttentionPool1d(_AttentionPool):
    """[B, C, T] -> (scores [B, K], attention [B, K, T, 1])."""
    conv = nn.Conv1d

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores, norm = self._pool(x)
        return scores, norm.unsqueeze(-1)


def pooled_embedding(features: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    """The feature map pooled where the model looks: features [B, C, *positions] weighted by the mean of the class
    attention maps [B, K, *positions] (which sums to 1 over the positions) -> [B, C]."""
    weights = attention.mean(dim=1, keepdim=True)
    return (features * weights).sum(dim=tuple(range(2, features.dim())))


class DescriptorHeads(nn.Module):
    """Extra heads of the same network (multi-task, issue 17): one linear layer per head on the attention-pooled
    embedding, log-softmax over its labels. heads: {name: [label, ...]} in output order (the model card's)."""

    def __init__(self, in_features: int, heads: dict[str, list[str]]):
        super().__init__()
        if not heads or any(len(labels) < 2 for labels in heads.values()):
            raise ValueError(f"every descriptor head needs two or more labels: {heads}")
        self.labels = {name: list(labels) for name, labels in heads.items()}
        self.linears = nn.ModuleDict({name: nn.Linear(in_features, len(labels)) for name, labels in heads.items()})

    def forward(self, embedding: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: torch.log_softmax(linear(embedding), dim=1) for name, linear in self.linears.items()}
