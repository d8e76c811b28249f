"""Evaluation of a cross-validation run from its out-of-fold predictions (runs/<run>/fold<k>/predictions.json).

- Recording level: against label_recording with murmur_not_audible mapped to normal (what can be heard there).
- Patient level: against label_patient; a patient's probabilities aggregate its recordings (all sites) by
  "mean" (mean of recording probabilities), "max_murmur" (the recording with the lowest p(normal)) or the learned
  site fusion (aggregation.py), cross-fitted: each fold's patients by a fusion fitted on the other folds.
Per fold and mean +- std over the folds (UAR, per-class recall/precision, confusion, one-vs-rest AUC, bootstrap
95 % intervals per fold), and the pooled out-of-fold predictions with bootstrap intervals. A finished run writes its
committed record (records.py), runs/<run>/metrics.json and PNG plots (confusion matrices, ROC curves).
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from . import data, descriptor_eval, metrics, records
from .aggregation import aggregate, fit_fusion
from .data import CLASS_INDEX, CLASSES

AGGREGATIONS = ("mean", "max_murmur")  # the fixed rules; the learned fusion is cross-fitted over the folds


def recording_level(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    y = np.array([CLASS_INDEX["normal" if r["label_recording"] == "murmur_not_audible" else r["label_recording"]]
                  for r in rows])
    return y, np.array([r["probs"] for r in rows]).reshape(-1, len(CLASSES))


def patients(rows: list[dict]) -> tuple[np.ndarray, list[np.ndarray]]:
    """(label_patient per patient, [n_recordings, 3] probabilities per patient), patients in id order."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["patient_id"]].append(r)
    ids = sorted(groups)
    return (np.array([CLASS_INDEX[groups[i][0]["label_patient"]] for i in ids], int),
            [np.array([r["probs"] for r in groups[i]], float) for i in ids])


def patient_level(rows: list[dict], rule: str, fusion: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    y, probs = patients(rows)
    return y, np.array([aggregate(p, rule, fusion) for p in probs]).reshape(-1, len(CLASSES))


def levels(rows: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {"recording": recording_level(rows)}
    for rule in AGGREGATIONS:
        out[f"patient_{rule}"] = patient_level(rows, rule)
    return out


def cross_fitted_fusion(folds: dict[int, list[dict]], scored: dict[int, list[dict]] | None = None
                        ) -> dict[int, tuple[np.ndarray, np.ndarray]] | None:
    """Patient level by the learned site fusion, each fold's fusion fitted on the OTHER folds' out-of-fold
    probabilities (so no patient is scored by a fusion fitted on it). `scored`: other predictions of the same folds
    to score with those fusions instead (a quantised twin's: its card carries the fusion fitted on the fp32 model's).
    None for a run of one fold, or where the other folds lack a class."""
    scored = folds if scored is None else scored
    if len(folds) < 2:
        return None
    out = {}
    for k in sorted(folds):
        y, probs = patients([r for j in folds if j != k for r in folds[j]])
        try:
            fusion = fit_fusion(probs, y)
        except ValueError:
            return None
        out[k] = patient_level(scored[k], "fusion", fusion)
    return out


def level_predictions(folds: dict[int, list[dict]]) -> dict[str, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """{level: {fold: (y, probabilities)}} for every level a run can be scored at."""
    per_fold = {f: levels(folds[f]) for f in sorted(folds)}
    out = {level: {f: per_fold[f][level] for f in per_fold} for level in next(iter(per_fold.values()))}
    fused = cross_fitted_fusion(folds)
    if fused is not None:
        out["patient_fusion"] = fused
    return out


def pooled(by_fold: dict[int, tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    return (np.concatenate([by_fold[f][0] for f in sorted(by_fold)]),
            np.concatenate([by_fold[f][1] for f in sorted(by_fold)]))


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
    for level, by_fold in level_predictions(folds).items():
        per_fold = {}
        for f, (y, p) in by_fold.items():
            s = metrics.summary(y, p)
            s["ci95"] = metrics.bootstrap_ci(y, p, n_boot=n_boot, seed=f)
            per_fold[f] = s
        y, p = pooled(by_fold)
        pooled_summary = metrics.summary(y, p)
        pooled_summary["ci95"] = metrics.bootstrap_ci(y, p, n_boot=n_boot, seed=123)
        uars = np.array([per_fold[f]["uar"] for f in sorted(by_fold)])
        rec = np.array([per_fold[f]["recall"] for f in sorted(by_fold)], float)
        auc = np.array([per_fold[f]["auc_ovr"] for f in sorted(by_fold)], float)
        out[level] = {
            "per_fold": per_fold, "pooled": pooled_summary,
            "uar_mean": float(uars.mean()), "uar_std": float(uars.std(ddof=1)) if len(uars) > 1 else 0.0,
            "recall_mean": np.nanmean(rec, axis=0).tolist(), "auc_mean": np.nanmean(auc, axis=0).tolist()}
    return out


def descriptor_metrics(folds: dict[int, list[dict]], config: dict, recs: list | None, n_boot: int) -> dict:
    """The descriptor heads' figures (descriptor_eval.py) of a run that has heads; {} without."""
    heads = config.get("heads")
    if not heads or not all("descriptors" in r for rows in folds.values() for r in rows):
        return {}
    return descriptor_eval.evaluate(folds, heads, recs if recs is not None else data.read_manifest(), n_boot)


def evaluate_record(record: dict, n_boot: int = 1000, recs: list | None = None) -> dict:
    """The metrics of a committed run record (records.py): its header, every level of evaluate_folds and the
    descriptor heads' figures."""
    head = {k: v for k, v in record.items() if k not in ("columns", *records.ROW_LISTS)}
    folds = records.fold_rows(record, recs)
    return {**head, "levels": evaluate_folds(folds, n_boot),
            "descriptors": descriptor_metrics(folds, record["config"], recs, n_boot)}


def evaluate_run(run_dir: Path, n_boot: int = 1000, plots: bool = True, results_dir: Path | None = None) -> dict:
    """A finished CV run: its record (training/results/<run>.json), metrics.json and PNG plots in the run folder."""
    run_dir = Path(run_dir)
    folds = load_run(run_dir)
    records.write_record(records.record_of_run(run_dir, run_info(run_dir), folds), results_dir)
    info = run_info(run_dir)
    result = {"run": run_dir.name, "folds": sorted(folds), **info, "levels": evaluate_folds(folds, n_boot),
              "descriptors": descriptor_metrics(folds, info["config"], None, n_boot)}
    if plots:
        for level, by_fold in level_predictions(folds).items():
            plot_level(run_dir, level, *pooled(by_fold), result["levels"][level]["pooled"])
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
