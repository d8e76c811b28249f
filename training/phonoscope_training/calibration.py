"""Probability calibration by temperature scaling, per level (recording, patient), and how well calibrated a level
is: expected calibration error (ECE), negative log-likelihood (NLL) and Brier score. (Not the int8 activation
"calibration" of quantize.py.)

Temperature scaling (Guo et al. 2017): p' = p^(1/T) / sum_c p_c^(1/T), i.e. softmax(log p / T); T > 1 softens, T < 1
sharpens, and the argmax (the verdict) and therefore UAR never change. One scalar T per level, fitted by minimising
the NLL of the level's out-of-fold probabilities:
- recording: the mean over windows of the model's probabilities;
- patient: the card's patient rule applied to the recordings' UNcalibrated probabilities (the rule, e.g. the
  learned fusion, was fitted on those), then the patient T. For the fusion the fitted probabilities are the
  cross-fitted ones (each fold scored by a fusion that did not see it), which are what a new patient gets.
The reported "after" figures are cross-fitted too: fold k's probabilities are scaled by the T fitted on the other
four folds (for the fusion, on fusion outputs that never saw fold k either: nested), then pooled.
The app applies the card's T in src/core/analysis/calibration.ts (the same formula: test/unit/calibration.test.ts).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import records
from .data import CLASSES
from .evaluate import level_predictions, pooled

N_BINS = 15
# Records keep probabilities to 5 decimals, so a recorded 0 means "below 5e-6": floor it where a log is taken.
PROB_FLOOR = 1e-6
LOG_T_BOUNDS = (np.log(0.05), np.log(20.0))


def apply_temperature(probs, t: float) -> np.ndarray:
    """p' proportional to p^(1/T), row by row; computed as (p / max p)^(1/T) so no row underflows to all zeros."""
    p = np.asarray(probs, float).reshape(-1, len(CLASSES))
    if not (np.isfinite(t) and t > 0):
        raise ValueError(f"temperature must be a finite number > 0, not {t!r}")
    scaled = (p / p.max(axis=1, keepdims=True)) ** (1.0 / t)
    return scaled / scaled.sum(axis=1, keepdims=True)


def calibrated(probs, card: dict, level: str) -> np.ndarray:
    """Probabilities of one level ("recording" or "patient") scaled by the card's T, as the app does; a card without
    a calibration block leaves them as they are."""
    t = (card.get("calibration") or {}).get(level, {}).get("temperature")
    return np.asarray(probs, float).reshape(-1, len(CLASSES)) if t is None else apply_temperature(probs, t)


def _log_probs(probs) -> np.ndarray:
    return np.log(np.maximum(np.asarray(probs, float).reshape(-1, len(CLASSES)), PROB_FLOOR))


def nll(y, probs) -> float:
    """Mean negative log-likelihood of the true classes (probabilities floored at PROB_FLOOR)."""
    y = np.asarray(y, int)
    return float(-_log_probs(probs)[np.arange(len(y)), y].mean())


def brier(y, probs) -> float:
    """Mean over units of the squared distance between the probabilities and the one-hot truth (0 best, 2 worst)."""
    p = np.asarray(probs, float).reshape(-1, len(CLASSES))
    return float(((p - np.eye(len(CLASSES))[np.asarray(y, int)]) ** 2).sum(axis=1).mean())


def _binned_gap(confidence: np.ndarray, correct: np.ndarray, n_bins: int) -> float:
    """sum over equal-width bins of (share of units) x |mean correct - mean confidence|; bin b = [b/n, (b+1)/n)."""
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    gap = 0.0
    for b in np.unique(bins):
        inside = bins == b
        gap += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(gap)


def ece(y, probs, n_bins: int = N_BINS) -> float:
    """Top-label expected calibration error: confidence = max probability, correct = argmax is the true class."""
    p = np.asarray(probs, float).reshape(-1, len(CLASSES))
    return _binned_gap(p.max(axis=1), (p.argmax(axis=1) == np.asarray(y, int)).astype(float), n_bins)


def classwise_ece(y, probs, n_bins: int = N_BINS) -> float:
    """Mean over classes of the ECE of p_k against 1[y = k] (Kull et al. 2019): every class's probability, not just
    the top one."""
    p = np.asarray(probs, float).reshape(-1, len(CLASSES))
    y = np.asarray(y, int)
    return float(np.mean([_binned_gap(p[:, k], (y == k).astype(float), n_bins) for k in range(len(CLASSES))]))


def scores(y, probs) -> dict:
    return {"ece": ece(y, probs), "classwise_ece": classwise_ece(y, probs), "nll": nll(y, probs),
            "brier": brier(y, probs)}


def fit_temperature(y, probs) -> float:
    """The T > 0 minimising the NLL of apply_temperature(probs, T) (searched on log T within LOG_T_BOUNDS)."""
    from scipy.optimize import minimize_scalar
    y = np.asarray(y, int)
    logits = _log_probs(probs)
    if len(y) == 0:
        raise ValueError("no predictions to fit a temperature on")

    def loss(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean())

    res = minimize_scalar(loss, bounds=LOG_T_BOUNDS, method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x))


def calibrate_folds(folds: dict[int, list[dict]]) -> dict[str, dict]:
    """Every level of a CV run: T fitted on all its out-of-fold predictions, the per-fold T fitted on the other folds,
    and ECE/NLL/Brier of the pooled predictions before and after (cross-fitted). A run needs 3 folds or more (the
    fusion's nested cross-fit needs two folds besides the scored one)."""
    if len(folds) < 3:
        raise ValueError(f"calibration is cross-fitted over folds: needs 3 or more, the run has {len(folds)}")
    outer = level_predictions(folds)
    inner = {k: level_predictions({j: folds[j] for j in folds if j != k}) for k in sorted(folds)}
    out = {}
    for level, by_fold in outer.items():
        per_fold_t = {k: fit_temperature(*pooled(inner[k][level])) for k in sorted(by_fold)}
        y, before = pooled(by_fold)
        _, after = pooled({k: (yk, apply_temperature(pk, per_fold_t[k])) for k, (yk, pk) in by_fold.items()})
        out[level] = {"temperature": fit_temperature(y, before), "temperature_per_fold": per_fold_t, "n": int(len(y)),
                      "before": scores(y, before), "after": scores(y, after)}
    return out


def _rounded(level: dict) -> dict:
    return {"temperature": round(level["temperature"], 4), "n": level["n"],
            **{f"{k}_{when}": round(v, 4) for when in ("before", "after") for k, v in level[when].items()}}


def card_calibration(run: str | None, aggregation: str) -> dict:
    """The model card's calibration block: T of the recording level and of the card's patient rule, fitted on all
    out-of-fold predictions of the recorded CV run, with the cross-fitted ECE/NLL/Brier before and after."""
    if not run:
        raise ValueError("calibration is fitted on a CV run's out-of-fold probabilities: name the run (--cv RUN)")
    levels = calibrate_folds(records.fold_rows(records.read_record(records.record_path(run))))
    return {
        "method": "temperature",
        "formula": "p' = p^(1/T) / sum over classes of p^(1/T) (softmax(log p / T)); keeps the argmax",
        "applies": "recording: T = recording.temperature on the mean over windows of exp(log_probs); patient: the "
                   "aggregation rule on the recordings' uncalibrated probabilities, then T = patient.temperature. "
                   "Window probabilities shown live may use the recording T.",
        "recording": _rounded(levels["recording"]),
        "patient": {"rule": aggregation, **_rounded(levels[f"patient_{aggregation}"])},
        "fitted_on": f"the out-of-fold probabilities of the fp32 fold models of CV run {run} "
                     f"(training/results/{run}.json), NLL minimised; an int8 twin carries the same fit, as it carries "
                     "the same fusion",
        "metrics": f"ece = top-label expected calibration error, {N_BINS} equal-width bins; classwise_ece = mean over "
                   "classes of the ECE of p_k; nll = mean -log p(true class); brier = mean sum of squared errors. "
                   "before = pooled out-of-fold; after = pooled out-of-fold with each fold scaled by the T fitted on "
                   "the other folds (cross-fitted), so the after figures are not fitted on what they score",
    }


def with_calibration(card: dict, block: dict) -> dict:
    """The card with its calibration block (replaced if present) right after its verdict rule."""
    out = {}
    for key, value in card.items():
        if key != "calibration":
            out[key] = value
        if key == "verdict":
            out["calibration"] = block
    return out


def calibrate_card(path, run: str | None = None) -> dict:
    """Writes the calibration block, fitted on `run` (default: the run the card's cv_metrics come from), into the
    model card at `path`; returns the block."""
    path = Path(path)
    card = json.loads(path.read_text())
    block = card_calibration(run or (card.get("cv_metrics") or {}).get("run"), card["aggregation"])
    path.write_text(json.dumps(with_calibration(card, block), indent=1, allow_nan=False) + "\n")
    return block
