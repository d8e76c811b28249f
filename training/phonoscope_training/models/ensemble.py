"""An ensemble of trained models as one model: the members run on the same input, and the ensemble's probabilities
and attention maps are the members' means. Exported as one ONNX graph, it keeps the single model's contract (the
same input, `log_probs` = log of the mean probability, `attention` = mean map, still summing to 1 per class).
"""
from __future__ import annotations

import torch
from torch import nn


class Ensemble(nn.Module):
    def __init__(self, members: list[nn.Module]):
        super().__init__()
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two members")
        self.members = nn.ModuleList(members)

    def forward(self, log_mel: torch.Tensor) -> dict[str, torch.Tensor]:
        outs = [m(log_mel) for m in self.members]
        probs = torch.stack([o["log_probs"].exp() for o in outs]).mean(dim=0)
        return {"log_probs": probs.log(), "attention": torch.stack([o["attention"] for o in outs]).mean(dim=0)}
