"""Models: CNN (+ global attention or average pooling) and LSTM/GRU (+ 1-D attention pooling).

Every model takes raw log-Mel [batch, 1, time, 64] (normalisation is inside the model, PANNs "bn0" style) and returns
{"log_probs": [B, 3], "attention": [B, 3, T', F']} (F' = 1 for the recurrent models).
"""
from __future__ import annotations

from .attention import AttentionPool1d, AttentionPool2d
from .cnn import CNNAtt
from .ensemble import Ensemble
from .rnn import RNNAtt

ARCHS = ("cnn", "lstm", "gru")


def build(config: dict):
    """A model from its config dict (the same dict is stored in checkpoints and model cards)."""
    arch = config.get("arch", "cnn")
    n_mels = config.get("n_mels", 64)
    n_classes = config.get("n_classes", 3)
    if arch == "cnn":
        return CNNAtt(n_mels=n_mels, n_classes=n_classes, channels=tuple(config.get("channels", (64, 128, 256, 256))),
                      kernel=config.get("kernel", 3), pooling=config.get("pooling", "attention"),
                      activation=config.get("activation", "sigmoid"), dropout=config.get("dropout", 0.2))
    if arch in ("lstm", "gru"):
        return RNNAtt(cell=arch, n_mels=n_mels, n_classes=n_classes,
                      hidden=tuple(config.get("hidden", (256, 1024, 256))), pooling=config.get("pooling", "attention"),
                      activation=config.get("activation", "sigmoid"), dropout=config.get("dropout", 0.2))
    raise ValueError(f"unknown arch {arch!r}")


__all__ = ["AttentionPool1d", "AttentionPool2d", "CNNAtt", "Ensemble", "RNNAtt", "build", "ARCHS"]
