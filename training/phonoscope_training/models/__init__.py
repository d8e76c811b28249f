"""Models: CNN (+ global attention or average pooling) and LSTM/GRU (+ 1-D attention pooling).

Every model takes raw log-Mel [batch, 1, time, n_mels] (n_mels: the front end's, frontend.json; normalisation is
inside the model, PANNs "bn0" style) and returns {"log_probs": [B, 3], "attention": [B, 3, T', F']} (F' = 1 for the
recurrent models), and with descriptor heads (config "heads": {name: labels}) also "descriptors": {name: log-softmax
[B, n_labels]}.
"""
from __future__ import annotations

from .attention import AttentionPool1d, AttentionPool2d, DescriptorHeads
from .cnn import CNNAtt
from .ensemble import Ensemble
from .rnn import RNNAtt

ARCHS = ("cnn", "lstm", "gru")

# The one place of the architecture's defaults; a config (checkpoint, model card, train.DEFAULTS) overrides them.
DEFAULTS = {
    "arch": "cnn",  # cnn | lstm | gru
    "pooling": "attention",  # attention | avg (global average pooling ablation)
    "activation": "sigmoid",  # sigmoid | softmax (attention activation)
    "kernel": 3,  # CNN
    "channels": (64, 128, 256, 256),  # CNN: one conv block (with 2x2 max pooling) per entry
    "hidden": (256, 1024, 256),  # LSTM/GRU: one recurrent layer per entry
    "dropout": 0.2,
    "n_classes": 3,
    "heads": None,  # descriptor heads {name: [label, ...]} (descriptors.py); None: the grade alone
}


def build(config: dict, n_mels: int):
    """A model from its config dict (the same dict is stored in checkpoints and model cards) for the front end's
    n_mels Mel bins."""
    c = {**DEFAULTS, **config}
    common = {"n_mels": n_mels, "n_classes": c["n_classes"], "pooling": c["pooling"], "activation": c["activation"],
              "dropout": c["dropout"], "heads": c["heads"]}
    if c["arch"] == "cnn":
        return CNNAtt(channels=tuple(c["channels"]), kernel=c["kernel"], **common)
    if c["arch"] in ("lstm", "gru"):
        return RNNAtt(cell=c["arch"], hidden=tuple(c["hidden"]), **common)
    raise ValueError(f"unknown arch {c['arch']!r}")


def head_labels(model) -> dict[str, list[str]]:
    """A model's descriptor heads {name: labels} ({} without heads); an ensemble's members must share them."""
    members = list(model.members) if isinstance(model, Ensemble) else [model]
    heads = [m.descriptors.labels if m.descriptors is not None else {} for m in members]
    if any(h != heads[0] for h in heads):
        raise ValueError("an ensemble's members must have the same descriptor heads")
    return heads[0]


def attention_shape(config: dict, n_mels: int) -> tuple[str, int]:
    """The attention map's (time', freq') of a config for n_mels bins: a CNN halves both per conv block."""
    c = {**DEFAULTS, **config}
    if c["arch"] in ("lstm", "gru"):
        return "time", 1
    blocks = len(c["channels"])
    return f"floor(time / {2 ** blocks})", n_mels >> blocks


__all__ = ["AttentionPool1d", "AttentionPool2d", "CNNAtt", "DescriptorHeads", "Ensemble", "RNNAtt", "build",
           "attention_shape", "head_labels", "ARCHS", "DEFAULTS"]
