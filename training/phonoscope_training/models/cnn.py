"""The paper's CNN: 4 conv blocks (64, 128, 256, 256), each conv -> BatchNorm -> ReLU -> 2x2 max pooling,
then global attention pooling (or global average pooling, the ablation) and log-softmax over the 3 classes.

Input: raw log-Mel [B, 1, T, n_mels]. A BatchNorm over the Mel bins ("bn0", PANNs style) normalises the input inside
the model, so the app feeds the front end's output as it is. Each block halves both axes: with 4 blocks, T x 64 input
gives a floor(T/16) x 4 attention map (58 x 4 for a 936-frame window); T must be at least 16. The defaults are
models.DEFAULTS.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .attention import AttentionPool2d, DescriptorHeads, pooled_embedding


class ConvBlock(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(F.relu(self.bn(self.conv(x))))


class CNNAtt(nn.Module):
    def __init__(self, *, n_mels: int, n_classes: int, channels: tuple[int, ...], kernel: int, pooling: str,
                 activation: str, dropout: float, heads: dict[str, list[str]] | None = None):
        super().__init__()
        self.bn0 = nn.BatchNorm2d(n_mels)
        blocks, cin = [], 1
        for cout in channels:
            blocks.append(ConvBlock(cin, cout, kernel))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.head = AttentionPool2d(cin, n_classes, activation=activation, pooling=pooling)
        self.descriptors = DescriptorHeads(cin, heads) if heads else None

    def forward(self, log_mel: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.bn0(log_mel.transpose(1, 3)).transpose(1, 3)  # normalise each Mel bin: [B, 1, T, M]
        x = self.dropout(self.blocks(x))
        scores, att = self.head(x)
        out = {"log_probs": torch.log_softmax(scores, dim=1), "attention": att}
        if self.descriptors is not None:
            out["descriptors"] = self.descriptors(pooled_embedding(x, att))
        return out
