"""An UNTRAINED CNN exported with the real export path and card, for tests only (the TypeScript tests build theirs
with it: test/unit/model-fixture.ts). Small (channels 4, 8, 8, 8), or with --full the shipped architecture, whose
timings stand in for the trained model's. --frontend and --windowing change the card's geometry (JSON objects merged
into frontend.json's parameters and the training windowing), so that tests can prove every consumer reads the card.
--heads adds descriptor heads ({name: [label, ...]}, e.g. descriptors.py's), as ONNX outputs and in the card.

  python -m phonoscope_training.tiny_model --out DIR [--name NAME] [--full] [--frontend JSON] [--windowing JSON]
                                           [--heads JSON]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from . import data, descriptors, frontend
from .export import export_onnx, latency_ms, model_card
from .models import build
from .train import DEFAULTS


def make_test_model(out: Path, name: str = "tiny-cnn", seed: int = 0, full: bool = False,
                    frontend_changes: dict | None = None, windowing_changes: dict | None = None,
                    heads: dict[str, list[str]] | None = None) -> Path:
    params = frontend.check({**frontend.params(), **(frontend_changes or {})}, "--frontend")
    unknown = set(windowing_changes or {}) - set(data.WINDOWING_KEYS)
    if unknown:
        raise ValueError(f"--windowing: unknown fields {sorted(unknown)} (known: {', '.join(data.WINDOWING_KEYS)})")
    cfg = {**DEFAULTS, "arch": "cnn", **({} if full else {"channels": [4, 8, 8, 8]}), **(windowing_changes or {}),
           "heads": heads or None}
    unknown = set(heads or {}) - set(descriptors.HEADS)
    if unknown:
        raise ValueError(f"--heads: unknown heads {sorted(unknown)} (known: {', '.join(descriptors.HEADS)})")
    data.check_windowing(data.windowing_of(cfg), "--windowing")
    torch.manual_seed(seed)
    model = build(cfg, params["n_mels"]).eval()
    with torch.no_grad():  # a non-uniform attention and a bn0 matched to log-Mel ranges, so outputs vary with input
        model.head.att.weight.normal_(0, 0.5)
        model.bn0.running_mean.fill_(-8.0)
        model.bn0.running_var.fill_(16.0)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = export_onnx(model, out / f"{name}.onnx", params["n_mels"])
    ckpt = {"config": cfg, "frontend": params, "n_params": sum(p.numel() for p in model.parameters()),
            "trained_folds": [], "epochs_run": 0, "git_commit": "test"}
    card = model_card(name, "0.0.0-test", [ckpt], onnx_path, "max_murmur", None,
                      latency_ms(onnx_path, params["n_mels"], cfg["window_frames"], repeats=2), 0.0,
                      notes="untrained test model: outputs are meaningless")
    (out / f"{name}.json").write_text(json.dumps(card, indent=1) + "\n")
    return onnx_path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m phonoscope_training.tiny_model")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--name", default="tiny-cnn")
    ap.add_argument("--full", action="store_true", help="the shipped architecture (untrained), for timings")
    ap.add_argument("--frontend", type=json.loads, default={}, help="front-end fields to change, as a JSON object")
    ap.add_argument("--windowing", type=json.loads, default={}, help="window_frames, hop_frames, min_frames (JSON)")
    ap.add_argument("--heads", type=json.loads, default={}, help="descriptor heads {name: [label, ...]} (JSON)")
    a = ap.parse_args(argv)
    path = make_test_model(a.out, a.name, full=a.full, frontend_changes=a.frontend, windowing_changes=a.windowing,
                           heads=a.heads)
    json.dump({"model": str(path)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
