"""Metrics: confusion matrix, per-class recall/precision, UAR, one-vs-rest ROC AUC, bootstrap 95 % intervals.

Plain numpy, so every function can be checked against hand-computed cases (tests/test_metrics.py).
Conventions: y_true / y_pred are class indices; probs is [N, K]; confusion[i, j] = count(true i, predicted j).
A class absent from y_true has recall NaN and is left out of the UAR (nan-mean); with probs, AUC NaN likewise.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def confusion(y_true, y_pred, n_classes: int = 3) -> np.ndarray:
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return cm


def recalls(cm: np.ndarray) -> np.ndarray:
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)


def precisions(cm: np.ndarray) -> np.ndarray:
    predicted = cm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(predicted > 0, np.diag(cm) / np.maximum(predicted, 1), np.nan)


def uar(y_true, y_pred, n_classes: int = 3) -> float:
    """Unweighted average recall: mean of the per-class recalls over the classes present in y_true."""
    r = recalls(confusion(y_true, y_pred, n_classes))
    return float(np.nanmean(r)) if np.any(~np.isnan(r)) else float("nan")


def binary_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC = P(score of a random positive > score of a random negative), ties counting 1/2 (Mann-Whitney)."""
    positive = np.asarray(positive, bool)
    scores = np.asarray(scores, float)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)  # average ranks (1-based): ties count 1/2
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auc_ovr(y_true, probs, n_classes: int = 3) -> np.ndarray:
    """One-vs-rest ROC AUC per class (class k's probability as the score for "is class k")."""
    y_true = np.asarray(y_true, int)
    probs = np.asarray(probs, float)
    return np.array([binary_auc(y_true == k, probs[:, k]) for k in range(n_classes)])


def roc_curve(positive, scores) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate) at every distinct threshold, from (0, 0) to (1, 1)."""
    positive = np.asarray(positive, bool)
    scores = np.asarray(scores, float)
    thr = np.unique(scores)[::-1]
    tpr = [0.0] + [float((scores[positive] >= t).mean()) if positive.any() else np.nan for t in thr]
    fpr = [0.0] + [float((scores[~positive] >= t).mean()) if (~positive).any() else np.nan for t in thr]
    return np.array(fpr), np.array(tpr)


def summary(y_true, probs, n_classes: int = 3) -> dict:
    """UAR, recalls, precisions, confusion and AUCs of argmax predictions."""
    y_true = np.asarray(y_true, int)
    probs = np.asarray(probs, float)
    y_pred = probs.argmax(axis=1)
    cm = confusion(y_true, y_pred, n_classes)
    r = recalls(cm)
    return {"n": int(len(y_true)), "uar": float(np.nanmean(r)), "recall": r.tolist(),
            "precision": precisions(cm).tolist(), "confusion": cm.tolist(),
            "auc_ovr": auc_ovr(y_true, probs, n_classes).tolist(),
            "accuracy": float((y_pred == y_true).mean()) if len(y_true) else float("nan")}


def bootstrap_ci(y_true, probs, n_boot: int = 1000, seed: int = 0, level: float = 0.95, n_classes: int = 3
                 ) -> dict:
    """Percentile bootstrap intervals (resampling the evaluated units with replacement) of UAR, per-class recall
    and per-class AUC. Returns {"uar": [lo, hi], "recall": [[lo, hi]...], "auc_ovr": [[lo, hi]...]}."""
    y_true = np.asarray(y_true, int)
    probs = np.asarray(probs, float)
    y_pred = probs.argmax(axis=1)
    rng = np.random.default_rng(seed)
    n = len(y_true)
    uars, recs, aucs = [], [], []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        r = recalls(confusion(y_true[idx], y_pred[idx], n_classes))
        uars.append(np.nanmean(r) if np.any(~np.isnan(r)) else np.nan)
        recs.append(r)
        aucs.append(auc_ovr(y_true[idx], probs[idx], n_classes))
    lo, hi = 100 * (1 - level) / 2, 100 * (1 + level) / 2

    def q(a):
        a = np.asarray(a, float)
        return np.nanpercentile(a, [lo, hi], axis=0).T.tolist()

    return {"uar": q(uars), "recall": q(recs), "auc_ovr": q(aucs), "n_boot": n_boot, "level": level}
