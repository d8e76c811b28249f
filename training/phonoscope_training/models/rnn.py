"""LSTM / GRU + 1-D global attention pooling: 3 recurrent layers (256, 1024, 256 units) over time with the Mel
bins as features, then 1x1 conv1d classification and attention branches over time, log-softmax over classes.
Input normalisation (bn0 over the Mel bins) is inside the model. Attention: [B, 3, T, 1]. The defaults are
models.DEFAULTS.
"""
from __future__ import annotations

import torch
from torch import nn

from .attention import AttentionPool1d, DescriptorHeads, pooled_embedding


class RNNAtt(nn.Module):
    def __init__(self, *, cell: str, n_mels: int, n_classes: int, hidden: tuple[int, ...], pooling: str,
                 activation: str, dropout: float, heads: dict[str, list[str]] | None = None):
        super().__init__()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.bn0 = nn.BatchNorm2d(n_mels)
        sizes = [n_mels, *hidden]
        self.rnns = nn.ModuleList(rnn(sizes[i], sizes[i + 1], batch_first=True) for i in range(len(hidden)))
        self.dropout = nn.Dropout(dropout)
        self.head = AttentionPool1d(sizes[-1], n_classes, activation=activation, pooling=pooling)
        self.descriptors = DescriptorHeads(sizes[-1], heads) if heads else None

    def forward(self, log_mel: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.bn0(log_mel.transpose(1, 3)).transpose(1, 3)  # [B, 1, T, M]
        x = x.squeeze(1)  # [B, T, M]
        for rnn in self.rnns:
            x, _ = rnn(x)
        x = self.dropout(x).transpose(1, 2)  # [B, H, T]
        scores, att = self.head(x)
        out = {"log_probs": torch.log_softmax(scores, dim=1), "attention": att}
        if self.descriptors is not None:
            out["descriptors"] = self.descriptors(pooled_embedding(x.unsqueeze(-1), att))
        return out
