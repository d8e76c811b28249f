"""Command line: python -m phonoscope_training <train | cv | evaluate | export | results | cache> [options].

  cache                       compute the log-Mel cache of every recording (training/cache)
  cv --name N [model opts]    5-fold CV: one model per fold, then evaluate -> training/runs/N/metrics.json + PNGs
  train --name N [--val-fold k | all folds] [model opts]   one model -> training/runs/N/model.pt
  evaluate RUN_DIR            (re)compute metrics.json and plots of a CV run
  export CKPT --name NAME [--aggregation max_murmur|mean] [--metrics RUN/metrics.json]  -> models/NAME.{onnx,json}
  results                     regenerate training/RESULTS.md from training/runs/*/metrics.json
  quantize-cv RUN_DIR         per fold: fp32 vs int8 UAR, latency and size -> RUN_DIR/int8.json
  quantize MODEL.onnx         the int8 twin of a shipped model (MODEL-int8.onnx + card)
  table [--only NAME ...]     run every CV of experiments.py not done yet, then `results` (the whole table)
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from . import data

RUNS = data.TRAINING_ROOT / "runs"


def model_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model and training (defaults: the shipped configuration)")
    g.add_argument("--arch", choices=["cnn", "lstm", "gru"], default="cnn")
    g.add_argument("--pooling", choices=["attention", "avg"], default="attention")
    g.add_argument("--activation", choices=["sigmoid", "softmax"], default="sigmoid")
    g.add_argument("--kernel", type=int, default=3)
    g.add_argument("--dropout", type=float, default=0.2)
    g.add_argument("--label", choices=["recording", "patient"], default="recording")
    g.add_argument("--unbalanced", action="store_true", help="no up-sampling of minority classes")
    g.add_argument("--crop-frames", type=int, default=250)
    g.add_argument("--specaug", action="store_true", help="SpecAugment masks on training crops (augment.py)")
    g.add_argument("--epochs", type=int, default=8)
    g.add_argument("--batch-size", type=int, default=32)
    g.add_argument("--lr", type=float, default=1e-3)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--precision", choices=["bf16", "fp32"], default="bf16",
                   help="training arithmetic (bf16 autocast; evaluation and export are fp32)")
    g.add_argument("--inner-fold", type=int, default=None,
                   help="early stopping on this inner fold instead of the fixed schedule")
    g.add_argument("--max-steps", type=int, default=None)
    g.add_argument("--limit", type=int, default=None, help="at most this many training recordings per class")


def config_from(a: argparse.Namespace) -> dict:
    return {"arch": a.arch, "pooling": a.pooling, "activation": a.activation, "kernel": a.kernel,
            "dropout": a.dropout, "label": a.label, "balanced": not a.unbalanced, "crop_frames": a.crop_frames,
            "epochs": a.epochs, "batch_size": a.batch_size, "lr": a.lr, "seed": a.seed, "precision": a.precision, "specaug": a.specaug, "inner_fold": a.inner_fold,
            "max_steps": a.max_steps, "limit": a.limit}


def cross_validate(name: str, config: dict, folds: list[int]) -> None:
    """One model per fold (finished folds are skipped), then metrics.json + plots of the run."""
    from .evaluate import evaluate_run
    from .train import train
    recs = data.read_manifest()
    feats = data.load_features(recs)
    run = RUNS / name
    for k in folds:
        if (run / f"fold{k}" / "predictions.json").exists():
            print(f"fold {k}: done already, skipped")
            continue
        shutil.rmtree(run / f"fold{k}", ignore_errors=True)  # an interrupted fold starts again, its log too
        res = train({**config, "val_fold": k}, run / f"fold{k}", recs, feats)
        print(f"fold {k}: {json.dumps(res)}", flush=True)
    m = evaluate_run(run)
    for level, v in m["levels"].items():
        print(f"{level}: UAR {v['uar_mean']:.3f} +- {v['uar_std']:.3f} (folds {m['folds']})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m phonoscope_training", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("cache")
    p = sub.add_parser("cv")
    p.add_argument("--name", required=True)
    p.add_argument("--folds", type=int, nargs="+", default=list(range(data.N_FOLDS)))
    model_args(p)
    p = sub.add_parser("train")
    p.add_argument("--name", required=True)
    p.add_argument("--val-fold", type=int, default=None, help="reported fold (default: train on all folds)")
    model_args(p)
    p = sub.add_parser("evaluate")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--n-boot", type=int, default=1000)
    p = sub.add_parser("export")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--name", required=True)
    p.add_argument("--out-dir", type=Path, default=None)
    p.add_argument("--version", default="0.1.0")
    p.add_argument("--aggregation", choices=["max_murmur", "mean"], default="max_murmur")
    p.add_argument("--metrics", type=Path, default=None, help="the CV run's metrics.json for the card")
    p.add_argument("--notes", default="")
    p = sub.add_parser("quantize-cv")
    p.add_argument("run_dir", type=Path)
    p = sub.add_parser("quantize")
    p.add_argument("model", type=Path)
    p = sub.add_parser("table")
    p.add_argument("--only", nargs="+", default=None, help="these experiments only (names in experiments.py)")
    p = sub.add_parser("results")
    p.add_argument("--runs", type=Path, default=RUNS)
    p.add_argument("--out", type=Path, default=data.TRAINING_ROOT / "RESULTS.md")
    a = ap.parse_args(argv)

    if a.cmd == "cache":
        recs = data.read_manifest(include_unknown=True)
        feats = data.load_features(recs)
        print(f"{len(feats)} recordings, {sum(len(v) for v in feats.values())} frames cached")
    elif a.cmd == "cv":
        cross_validate(a.name, config_from(a), a.folds)
    elif a.cmd == "quantize-cv":
        from .quantize import quantize_cv
        res = quantize_cv(a.run_dir)
        print(json.dumps({"pooled": res["pooled"], "mean": res["mean"]}, indent=1))
    elif a.cmd == "quantize":
        from .quantize import quantize_model
        print(f"wrote {quantize_model(a.model)}")
    elif a.cmd == "table":
        from .experiments import EXPERIMENTS
        from .report import write_results
        unknown = set(a.only or []) - set(EXPERIMENTS)
        if unknown:
            ap.error(f"unknown experiments {sorted(unknown)}; see phonoscope_training/experiments.py")
        for name, args in EXPERIMENTS.items():
            if a.only is None or name in a.only:
                c = ap.parse_args(["cv", "--name", name, *args])
                print(f"== {name} {' '.join(args)}", flush=True)
                cross_validate(name, config_from(c), c.folds)
        print(f"wrote {write_results(RUNS, data.TRAINING_ROOT / 'RESULTS.md')}")
    elif a.cmd == "train":
        from .train import train
        res = train({**config_from(a), "val_fold": a.val_fold}, RUNS / a.name)
        print(json.dumps(res))
    elif a.cmd == "evaluate":
        from .evaluate import evaluate_run
        m = evaluate_run(a.run_dir, n_boot=a.n_boot)
        for level, v in m["levels"].items():
            print(f"{level}: UAR {v['uar_mean']:.3f} +- {v['uar_std']:.3f} (folds {m['folds']})")
    elif a.cmd == "export":
        from .export import export
        card = export(a.checkpoint, a.name, a.out_dir, a.version, a.aggregation, a.metrics, a.notes)
        print(json.dumps({k: card[k] for k in ("name", "windowing", "aggregation", "onnx")}, indent=1))
    elif a.cmd == "results":
        from .report import write_results
        path = write_results(a.runs, a.out)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
