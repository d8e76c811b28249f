"""Evaluation of a cross-validation run from its out-of-fold predictions (runs/<run>/fold<k>/predictions.json).

- Recording level: against label_recording with murmur_not_audible mapped to normal (what can be heard there).
- Patient level: against label_patient; a patient's probabilities aggregate its recordings (all sites) by
  "mean" (mean of recording probabilities) or "max_murmur" (the recording with the lowest p(normal)).
Per fold and mean +- std over the folds (UAR, per-class recall/precision, confusion, one-vs-rest AUC, bootstrap
95 % intervals per fold), and the pooled out-of-fold predictions with bootstrap intervals. A finished run writes its
committed record (records.py), runs/<run>/metrics.json and PNG plots (confusion matrices, ROC curves).
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from . import metrics, records
from .data import CLASS_INDEX, CLASSES

AGGREGATIONS = ("mean", "max_murmur")


def recording_level(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    y = np.array([CLASS_INDEX["normal" if r["label_recording"] == "murmur_not_audible" else r["label_recording"]]
                  for r in rows])
    return y, np.array([r["probs"] for r in rows]).reshape(-1, len(CLASSES))


def aggregate(probs: np.ndarray, rule: str) -> np.ndarray:
    """One patient's probabilities from its recordings' probabilities [n_recordings, 3]."""
    probs = np.asarray(probs, float)
    if rule == "mean":
        return probs.mean(axis=0)
    if rule == "max_murmur":
        return probs[int(np.argmin(probs[:, CLASS_INDEX["normal"]]))]
    raise ValueError(f"aggregation must be one of {AGGREGATIONS}, not {rule!r}")


def patient_level(rows: list[dict], rule: str) -> tuple[np.ndarray, np.ndarray]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["patient_id"]].append(r)
    ids = sorted(groups)
    y = np.array([CLASS_INDEX[groups[i][0]["label_patient"]] for i in ids])
    p = np.array([aggregate([r["probs"] for r in groups[i]], rule) for i in ids]).reshape(-1, len(CLASSES))
    return y, p


def levels(rows: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {"recording": recording_level(rows)}
    for rule in AGGREGATIONS:
        out[f"patient_{rule}"] = patient_level(rows, rule)
    return out


def load_run(run_dir: Path) -> dict[int, list[dict]]:
    folds = {}
    for p in sorted(Path(run_dir).glob("fold*/predictions.json")):
        folds[int(p.parent.name[4:])] = json.loads(p.read_text())
    if not folds:
        raise FileNotFoundError(f"no fold*/predictions.json under {run_dir}")
    return folds


def run_info(run_dir: Path) -> dict:
    """Config, epochs and seconds per epoch from the folds' logs."""
    info, secs = {}, []
    for p in sorted(Path(run_dir).glob("fold*/log.jsonl")):
        for line in p.read_text().splitlines():
            ev = json.loads(line)
            if ev["event"] == "start":
                info.setdefault("config", ev["config"])
                info.setdefault("n_params", ev["n_params"])
                info.setdefault("device", ev["device"])
                info.setdefault("threads", ev["threads"])
                info.setdefault("git_commit", ev.get("git_commit"))
            elif ev["event"] == "epoch":
                secs.append(ev["seconds"])
            elif ev["event"] == "end":
                info.setdefault("best_epochs", []).append(ev.get("best_epoch"))
    info["seconds_per_epoch"] = float(np.mean(secs)) if secs else None
    return info


def evaluate_folds(folds: dict[int, list[dict]], n_boot: int = 1000) -> dict:
    """Every level's metrics per fold, mean +- std over the folds, and pooled out-of-fold with bootstrap CIs."""
    out = {}
    pooled_rows = [r for f in sorted(folds) for r in folds[f]]
    for level in ["recording", *[f"patient_{a}" for a in AGGREGATIONS]]:
        per_fold = {}
        for f in sorted(folds):
            y, p = levels(folds[f])[level]
            s = metrics.summary(y, p)
            s["ci95"] = metrics.bootstrap_ci(y, p, n_boot=n_boot, seed=f)
            per_fold[f] = s
        y, p = levels(pooled_rows)[level]
        pooled = metrics.summary(y, p)
        pooled["ci95"] = metrics.bootstrap_ci(y, p, n_boot=n_boot, seed=123)
        uars = np.array([per_fold[f]["uar"] for f in sorted(folds)])
        rec = np.array([per_fold[f]["recall"] for f in sorted(folds)], float)
        auc = np.array([per_fold[f]["auc_ovr"] for f in sorted(folds)], float)
        out[level] = {
            "per_fold": per_fold, "pooled": pooled,
            "uar_mean": float(uars.mean()), "uar_std": float(uars.std(ddof=1)) if len(uars) > 1 else 0.0,
            "recall_mean": np.nanmean(rec, axis=0).tolist(), "auc_mean": np.nanmean(auc, axis=0).tolist()}
    return out


def evaluate_record(record: dict, n_boot: int = 1000, recs: list | None = None) -> dict:
    """The metrics of a committed run record (records.py): its header and every level of evaluate_folds."""
    head = {k: v for k, v in record.items() if k not in ("columns", "predictions")}
    return {**head, "levels": evaluate_folds(records.fold_rows(record, recs), n_boot)}


def evaluate_run(run_dir: Path, n_boot: int = 1000, plots: bool = True, results_dir: Path | None = None) -> dict:
    """A finished CV run: its record (training/results/<run>.json), metrics.json and PNG plots in the run folder."""
    run_dir = Path(run_dir)
    folds = load_run(run_dir)
    records.write_record(records.record_of_run(run_dir, run_info(run_dir), folds), results_dir)
    result = {"run": run_dir.name, "folds": sorted(folds), **run_info(run_dir), "levels": evaluate_folds(folds, n_boot)}
    if plots:
        pooled_rows = [r for f in sorted(folds) for r in folds[f]]
        for level, (y, p) in levels(pooled_rows).items():
            plot_level(run_dir, level, y, p, result["levels"][level]["pooled"])
    (run_dir / "metrics.json").write_text(json.dumps(result, indent=1))
    return result


def plot_level(run_dir: Path, level: str, y: np.ndarray, p: np.ndarray, summ: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.array(summ["confusion"])
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(cm / np.maximum(cm.sum(1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    for i in range(len(CLASSES)):
        for j in range(len(CLASSES)):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center")
    ax.set_xticks(range(3), CLASSES, rotation=20)
    ax.set_yticks(range(3), CLASSES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{run_dir.name} {level}\nUAR {summ['uar']:.3f} (pooled out-of-fold)", fontsize=9)
    fig.tight_layout()
    fig.savefig(run_dir / f"confusion_{level}.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4.5, 4))
    for k, name in enumerate(CLASSES):
        fpr, tpr = metrics.roc_curve(y == k, p[:, k])
        ax.plot(fpr, tpr, label=f"{name} AUC {summ['auc_ovr'][k]:.3f}")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"{run_dir.name} {level} (one-vs-rest)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(run_dir / f"roc_{level}.png", dpi=100)
    plt.close(fig)
