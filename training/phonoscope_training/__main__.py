"""Command line: python -m phonoscope_training <train | cv | evaluate | export | results | cache> [options].

  cache                       compute the log-Mel cache of every recording (training/cache)
  cv --name N [model opts]    5-fold CV: one model per fold, then evaluate -> training/results/N.json (the run's
                              committed record) + training/runs/N/metrics.json and PNG plots
  train --name N [--val-fold k | all folds] [model opts]   one model -> training/runs/N/model.pt
  evaluate RUN_DIR            (re)compute the record, metrics.json and plots of a CV run
  ensemble NAME RUN RUN...    the record of the mean of several runs' out-of-fold probabilities
  export CKPT... --name NAME [--aggregation max_murmur|mean|fusion] [--cv RUN]  -> models/NAME.{onnx,json}
                              (several checkpoints: their ensemble as one graph)
  results                     regenerate training/RESULTS.md from the records training/results/*.json
  quantize-cv RUN_DIR...      per fold: fp32 vs int8 UAR, latency and size -> the run's record (several runs:
        [--record NAME]       their ensemble, into NAME's record)
  quantize MODEL.onnx         the int8 twin of a shipped model (MODEL-int8.onnx + card); with --cv RUN, MODEL's card
        [--cv RUN]            names it with RUN's quantize-cv figures (int8_twin: the app's CPU default if they pass)
  calibrate CARD.json...      temperature scaling per level, fitted on the out-of-fold predictions of the card's CV
        [--cv RUN]            run (or RUN) -> the cards' calibration block; prints ECE/NLL/Brier before and after
  table [--only NAME ...]     every CV run and ensemble of experiments.py not recorded yet, then `results`
        [--no-results]
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
    g.add_argument("--stretch", type=float, default=0.0, metavar="FRACTION",
                   help="random time stretch of training crops by up to this fraction, e.g. 0.15 (augment.py)")
    g.add_argument("--mixup", type=float, default=0.0, metavar="ALPHA",
                   help="mixup of training crops in the power domain, weights ~ Beta(ALPHA, ALPHA) (augment.py)")
    g.add_argument("--ema", type=float, default=None, metavar="DECAY",
                   help="keep an exponential moving average of the weights (e.g. 0.995) and use it at the end")
    g.add_argument("--epochs", type=int, default=8)
    g.add_argument("--batch-size", type=int, default=32)
    g.add_argument("--lr", type=float, default=1e-3)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--precision", choices=["bf16", "fp32"], default="bf16",
                   help="training arithmetic (bf16 autocast; evaluation and export are fp32)")
    g.add_argument("--inner-fold", type=int, default=None,
                   help="early stopping on this inner fold instead of the fixed schedule")
    g.add_argument("--descriptor-weight", type=float, default=0.0, metavar="W",
                   help="train the murmur descriptor heads (descriptors.py) with this weight on their loss; 0: none")
    g.add_argument("--max-steps", type=int, default=None)
    g.add_argument("--limit", type=int, default=None, help="at most this many training recordings per class")


def config_from(a: argparse.Namespace) -> dict:
    return {"arch": a.arch, "pooling": a.pooling, "activation": a.activation, "kernel": a.kernel,
            "dropout": a.dropout, "label": a.label, "balanced": not a.unbalanced, "crop_frames": a.crop_frames,
            "epochs": a.epochs, "batch_size": a.batch_size, "lr": a.lr, "seed": a.seed, "precision": a.precision, "specaug": a.specaug, "stretch": a.stretch, "mixup": a.mixup, "ema": a.ema, "inner_fold": a.inner_fold,
            "descriptor_weight": a.descriptor_weight, "max_steps": a.max_steps, "limit": a.limit}


def print_levels(m: dict) -> None:
    for level, v in m["levels"].items():
        print(f"{level}: UAR {v['uar_mean']:.3f} +- {v['uar_std']:.3f} (folds {m['folds']})")


def cross_validate(name: str, config: dict, folds: list[int]) -> None:
    """One model per fold (finished folds are skipped, an interrupted one resumes from its checkpoint), then the run's
    record, metrics.json and plots. A run that has a record already is not trained again (delete
    training/results/<name>.json to redo it). Under torchrun every rank runs this; rank 0 writes."""
    from . import distributed
    from .evaluate import evaluate_run
    from .records import record_path
    from .train import train
    if record_path(name).exists():
        print(f"{name}: recorded already ({record_path(name)}), skipped")
        return
    recs = data.read_manifest()
    feats = data.load_features(recs)
    run = RUNS / name
    world = distributed.setup()
    for k in folds:
        fold = run / f"fold{k}"
        if (fold / "predictions.json").exists():
            print(f"fold {k}: done already, skipped")
            continue
        if world.main and not (fold / "checkpoint.pt").exists():
            shutil.rmtree(fold, ignore_errors=True)  # interrupted before its first epoch ended: starts again
        distributed.barrier(world)
        res = train({**config, "val_fold": k}, fold, recs, feats)
        if world.main:
            print(f"fold {k}: {json.dumps(res)}", flush=True)
    if world.main:
        print_levels(evaluate_run(run))


def make_ensemble(name: str, members: list[str]) -> None:
    from . import records
    from .evaluate import evaluate_record
    rec = records.ensemble(name, [records.read_record(records.record_path(m)) for m in members])
    print(f"wrote {records.write_record(rec)}")
    print_levels(evaluate_record(rec))


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
    p.add_argument("checkpoints", type=Path, nargs="+", help="one model.pt, or several: an ensemble in one graph")
    p.add_argument("--name", required=True)
    p.add_argument("--out-dir", type=Path, default=None)
    p.add_argument("--version", default="0.1.0")
    p.add_argument("--aggregation", choices=["max_murmur", "mean", "fusion"], default="max_murmur",
                   help="the patient rule; fusion is fitted on the --cv run's out-of-fold probabilities")
    p.add_argument("--cv", default=None, metavar="RUN", help="the CV run (its record) whose figures the card carries")
    p.add_argument("--notes", default="")
    p = sub.add_parser("ensemble")
    p.add_argument("name")
    p.add_argument("members", nargs="+", help="names of recorded runs (training/results/<name>.json)")
    p = sub.add_parser("quantize-cv")
    p.add_argument("run_dirs", type=Path, nargs="+", help="a CV run's folder, or several: their ensemble per fold")
    p.add_argument("--record", default=None, help="the record the result goes to (default: the first run's)")
    p = sub.add_parser("quantize")
    p.add_argument("model", type=Path)
    p.add_argument("--cv", default=None, metavar="RUN",
                   help="link the twin into MODEL's card with this run's quantize-cv figures")
    p = sub.add_parser("calibrate")
    p.add_argument("cards", type=Path, nargs="+", help="model cards (models/NAME.json)")
    p.add_argument("--cv", default=None, metavar="RUN", help="the CV run to fit on (default: the card's cv_metrics.run)")
    p = sub.add_parser("table")
    p.add_argument("--only", nargs="+", default=None, help="these experiments only (names in experiments.py)")
    p.add_argument("--no-results", action="store_true", help="record the runs but leave RESULTS.md as it is")
    p = sub.add_parser("results")
    p.add_argument("--records", type=Path, default=None, help="default: training/results")
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
        res = quantize_cv(a.run_dirs, a.record)
        print(json.dumps({"pooled": res["pooled"], "mean": res["mean"]}, indent=1))
    elif a.cmd == "quantize":
        from .quantize import link_twin, quantize_model
        twin = quantize_model(a.model)
        if a.cv:
            link_twin(a.model, twin, a.cv)
        print(f"wrote {twin}" + (f" and named it in {a.model.with_suffix('.json')} (CV {a.cv})" if a.cv else ""))
    elif a.cmd == "calibrate":
        from .calibration import calibrate_card
        for card in a.cards:
            try:
                block = calibrate_card(card, a.cv)
            except (OSError, ValueError, KeyError) as e:
                ap.error(f"{card}: {e}")
            print(f"{card}: fitted on {block['fitted_on']}; before -> after (cross-fitted):")
            for level in ("recording", "patient"):
                b = block[level]
                print(f"  {level}: T {b['temperature']:.4f} (n {b['n']}); " + ", ".join(
                    f"{m} {b[m + '_before']:.4f} -> {b[m + '_after']:.4f}" for m in ("ece", "classwise_ece", "nll",
                                                                                      "brier")))
    elif a.cmd == "table":
        from .experiments import ENSEMBLES, EXPERIMENTS
        from .records import RESULTS_DIR, record_path
        from .report import write_results
        unknown = set(a.only or []) - set(EXPERIMENTS) - set(ENSEMBLES)
        if unknown:
            ap.error(f"unknown experiments {sorted(unknown)}; see phonoscope_training/experiments.py")
        for name, args in EXPERIMENTS.items():
            if a.only is None or name in a.only:
                c = ap.parse_args(["cv", "--name", name, *args])
                print(f"== {name} {' '.join(args)}", flush=True)
                cross_validate(name, config_from(c), c.folds)
        for name, members in ENSEMBLES.items():
            if (a.only is None or name in a.only) and all(record_path(m).exists() for m in members):
                make_ensemble(name, members)
        if not a.no_results:
            print(f"wrote {write_results(RESULTS_DIR, data.TRAINING_ROOT / 'RESULTS.md')}")
    elif a.cmd == "train":
        from .train import train
        res = train({**config_from(a), "val_fold": a.val_fold}, RUNS / a.name)
        print(json.dumps(res))  # every rank's (rank 0's has the validation figures)
    elif a.cmd == "evaluate":
        from .evaluate import evaluate_run
        print_levels(evaluate_run(a.run_dir, n_boot=a.n_boot))
    elif a.cmd == "ensemble":
        make_ensemble(a.name, a.members)
    elif a.cmd == "export":
        from .export import export
        card = export(a.checkpoints, a.name, a.out_dir, a.version, a.aggregation, a.cv, a.notes)
        print(json.dumps({k: card[k] for k in ("name", "windowing", "aggregation", "onnx")}, indent=1))
    elif a.cmd == "results":
        from .records import RESULTS_DIR
        from .report import write_results
        path = write_results(a.records or RESULTS_DIR, a.out)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
