"""An ensemble of trained models as one model: the members run on the same input, and the ensemble's probabilities
and attention maps are the members' means. Exported as one ONNX graph, it keeps the single model's contract (the
same input, `log_probs` = log of the mean probability, `attention` = mean map, still summing to 1 per class; each
descriptor head's log of the mean probability).
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
        out = {"log_probs": _mean_log_probs([o["log_probs"] for o in outs]),
               "attention": torch.stack([o["attention"] for o in outs]).mean(dim=0)}
        if "descriptors" in outs[0]:
            out["descriptors"] = {name: _mean_log_probs([o["descriptors"][name] for o in outs])
                                  for name in outs[0]["descriptors"]}
        return out


def _mean_log_probs(members: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack([lp.exp() for lp in members]).mean(dim=0).log()
