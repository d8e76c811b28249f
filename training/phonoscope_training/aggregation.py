"""A patient's probabilities from its recordings' (sites') probabilities: the rules a model card can name, computed
exactly as the app does (src/core/analysis/aggregate.ts).

- "mean": the mean of the recordings' probabilities.
- "max_murmur": the probabilities of the recording with the lowest p(normal) (the first on ties).
- "fusion": learned site fusion, a multinomial logistic regression on 9 features of the recordings' probabilities:
  their mean, the mean of their logs (log(p + 1e-6): the product of the sites' evidence) and the max_murmur
  recording's; patient probabilities = softmax(weights @ features + bias). The mean dilutes a murmur heard at one
  site of four; max_murmur lets one noisy site flag a normal child; the fusion learns how much each view counts.
  Its 30 numbers are fitted on out-of-fold probabilities (class-balanced, L2, on standardised features folded back
  into the weights) and travel in the model card.
"""
from __future__ import annotations

import numpy as np

from .data import CLASS_INDEX, CLASSES

RULES = ("mean", "max_murmur", "fusion")
LOG_EPS = 1e-6
FUSION_FEATURES = [f"{stat}_{c}" for stat in ("mean_p", "mean_log_p", "max_murmur_p") for c in CLASSES]
FUSION_C = 0.1  # L2 strength of the fit (sklearn's C): a few hundred patients, 30 parameters


def max_murmur(probs: np.ndarray) -> np.ndarray:
    return probs[int(np.argmin(probs[:, CLASS_INDEX["normal"]]))]


def fusion_features(probs) -> np.ndarray:
    """[n_recordings, 3] -> the 9 features of FUSION_FEATURES."""
    probs = np.asarray(probs, float).reshape(-1, len(CLASSES))
    return np.concatenate([probs.mean(axis=0), np.log(probs + LOG_EPS).mean(axis=0), max_murmur(probs)])


def apply_fusion(fusion: dict, probs) -> np.ndarray:
    z = np.asarray(fusion["weights"], float) @ fusion_features(probs) + np.asarray(fusion["bias"], float)
    e = np.exp(z - z.max())
    return e / e.sum()


def fit_fusion(patients: list, labels, c: float = FUSION_C) -> dict:
    """The fusion's weights and bias from patients' recording probabilities (a list of [n_i, 3]) and their labels."""
    from sklearn.linear_model import LogisticRegression
    y = np.asarray(labels, int)
    missing = sorted(set(range(len(CLASSES))) - set(y.tolist()))
    if missing:
        raise ValueError(f"site fusion needs patients of every class; none of {[CLASSES[k] for k in missing]}")
    x = np.array([fusion_features(p) for p in patients])
    mu, sigma = x.mean(axis=0), x.std(axis=0) + 1e-9
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=10_000).fit((x - mu) / sigma, y)
    weights = lr.coef_ / sigma  # W (x - mu) / sigma + b = (W / sigma) x + (b - W mu / sigma)
    bias = lr.intercept_ - weights @ mu
    return {"features": FUSION_FEATURES, "log_eps": LOG_EPS, "weights": weights.tolist(), "bias": bias.tolist(),
            "c": c, "n_patients": int(len(y))}


def aggregate(probs, rule: str, fusion: dict | None = None) -> np.ndarray:
    """One patient's probabilities from its recordings' probabilities [n_recordings, 3]."""
    probs = np.asarray(probs, float).reshape(-1, len(CLASSES))
    if rule == "mean":
        return probs.mean(axis=0)
    if rule == "max_murmur":
        return max_murmur(probs)
    if rule == "fusion":
        if fusion is None:
            raise ValueError("the fusion rule needs its fitted weights")
        return apply_fusion(fusion, probs)
    raise ValueError(f"aggregation must be one of {RULES}, not {rule!r}")
