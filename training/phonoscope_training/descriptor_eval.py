"""How well a CV run's descriptor heads describe the murmur (issue 17): each head's out-of-fold UAR.

Scored on the recordings that have the head's label (descriptors.py: a murmur patient's recordings, all but
`audible_here` only where the murmur was heard), by the most probable label, whatever grade the model gave (the head's
own quality; the app shows descriptors only under a murmur verdict). Per fold, and pooled with a 95 % interval from a
percentile bootstrap over PATIENTS (a patient's recordings share their descriptors, so resampling recordings would
overstate the precision). Chance: a UAR of 1 / the number of labels (any constant or random guess).
"""
from __future__ import annotations

import numpy as np

from . import descriptors, metrics
from .data import Recording

N_BOOT = 1000


def _patient_bootstrap(y: np.ndarray, guess: np.ndarray, patients: np.ndarray, n_labels: int, n_boot: int,
                       seed: int = 0) -> list[float]:
    """95 % percentile interval of the UAR, resampling patients (with all their recordings) with replacement."""
    ids, inverse = np.unique(patients, return_inverse=True)
    members = [np.flatnonzero(inverse == i) for i in range(len(ids))]
    rng = np.random.default_rng(seed)
    uars = []
    for _ in range(n_boot):
        idx = np.concatenate([members[i] for i in rng.integers(0, len(ids), len(ids))])
        r = metrics.recalls(metrics.confusion(y[idx], guess[idx], n_labels))
        uars.append(np.nanmean(r) if np.any(~np.isnan(r)) else np.nan)
    return np.nanpercentile(np.asarray(uars, float), [2.5, 97.5]).tolist()


def evaluate(folds: dict[int, list[dict]], heads: dict[str, list[str]], recs: list[Recording],
             n_boot: int = N_BOOT) -> dict:
    """{head: {labels, counts (recordings per label), chance, per_fold {fold: uar}, uar_mean, pooled {uar, ci95,
    recall}}} of rows that carry "descriptors" (train.py's predictions, or a record's joined back)."""
    labels = dict(zip((r.file for r in recs), descriptors.labels_of(recs)))
    out = {}
    for name, kept in heads.items():
        index = {lab: i for i, lab in enumerate(kept)}
        scored = [(k, r) for k in sorted(folds) for r in folds[k] if labels[r["file"]][name] in index]
        y = np.array([index[labels[r["file"]][name]] for _, r in scored], int)
        guess = np.array([int(np.argmax(r["descriptors"][name])) for _, r in scored], int)
        fold_of = np.array([k for k, _ in scored])
        patients = np.array([r["patient_id"] for _, r in scored])
        per_fold = {k: metrics.uar(y[fold_of == k], guess[fold_of == k], len(kept)) for k in sorted(folds)
                    if np.any(fold_of == k)}
        out[name] = {
            "labels": kept,
            "counts": [int(np.sum(y == i)) for i in range(len(kept))],
            "patients": int(len(set(patients))),
            "chance": 1 / len(kept),
            "per_fold": per_fold,
            "uar_mean": float(np.mean(list(per_fold.values()))),
            "pooled": {"uar": metrics.uar(y, guess, len(kept)),
                       "ci95": _patient_bootstrap(y, guess, patients, len(kept), n_boot),
                       "recall": metrics.recalls(metrics.confusion(y, guess, len(kept))).tolist()},
        }
    return out


def section(runs: list[dict]) -> list[str]:
    """RESULTS.md's table of every evaluated run that has descriptor heads (evaluate_record's "descriptors")."""
    described = [m for m in runs if m.get("descriptors")]
    if not described:
        return []
    lines = ["", "## Murmur descriptors (extra heads, issue 17)", "",
             "Each head's out-of-fold UAR on the recordings that have its label (a murmur patient's recordings; but "
             "for `audible_here`, only where the murmur was heard), by its most probable label, whatever grade the "
             "model gave. Pooled [95% CI]: percentile bootstrap over patients (1000 resamples). Chance: 1 / labels. "
             "Labels with fewer than 10 patients were left out (`python -m phonoscope_training.descriptors "
             "--counts`); `diastolic` is left out whole (4 patients have a diastolic murmur).", "",
             "| run | head | labels (recordings) | patients | chance | UAR mean over folds | pooled UAR [95% CI] "
             "| pooled recall per label |", "|---|---|---|---|---|---|---|---|"]
    for m in described:
        for name, d in m["descriptors"].items():
            labs = ", ".join(f"{lab} ({n})" for lab, n in zip(d["labels"], d["counts"]))
            lo, hi = d["pooled"]["ci95"]
            recall = " / ".join(f"{x:.2f}" for x in d["pooled"]["recall"])
            lines.append(f"| {m['run']} | {name} | {labs} | {d['patients']} | {d['chance']:.2f} | "
                         f"{d['uar_mean']:.3f} | {d['pooled']['uar']:.3f} [{lo:.3f}, {hi:.3f}] | {recall} |")
    return lines
