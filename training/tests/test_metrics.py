import math

import numpy as np
import pytest

from phonoscope_training import metrics
from phonoscope_training.evaluate import aggregate, patient_level, recording_level


def test_confusion_recall_precision_uar_hand_case():
    y = [0, 0, 0, 0, 1, 1, 2, 2]
    p = [0, 0, 1, 2, 1, 0, 2, 1]
    cm = metrics.confusion(y, p)
    assert cm.tolist() == [[2, 1, 1], [1, 1, 0], [0, 1, 1]]
    assert np.allclose(metrics.recalls(cm), [0.5, 0.5, 0.5])
    assert np.allclose(metrics.precisions(cm), [2 / 3, 1 / 3, 1 / 2])
    assert metrics.uar(y, p) == pytest.approx(0.5)


def test_uar_is_unweighted():
    # 9 normal all right, 1 mild wrong: accuracy 0.9 but UAR over the 2 present classes = 0.5
    y = [0] * 9 + [1]
    p = [0] * 10
    assert metrics.uar(y, p) == pytest.approx(0.5)
    assert math.isnan(metrics.recalls(metrics.confusion(y, p))[2])


def test_binary_auc_hand_cases():
    assert metrics.binary_auc([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]) == 1.0
    assert metrics.binary_auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0
    # pairs (pos, neg): (0.8,0.5)>,(0.8,0.3)>,(0.4,0.5)<,(0.4,0.3)> -> 3/4
    assert metrics.binary_auc([1, 0, 1, 0], [0.8, 0.5, 0.4, 0.3]) == pytest.approx(0.75)
    # a tie counts 1/2
    assert metrics.binary_auc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    assert math.isnan(metrics.binary_auc([1, 1], [0.1, 0.2]))


def test_auc_matches_sklearn():
    from sklearn.metrics import roc_auc_score
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    p = rng.dirichlet([1, 1, 1], 200)
    p[y == 2, 2] += 0.3
    p /= p.sum(1, keepdims=True)
    ours = metrics.auc_ovr(y, p)
    for k in range(3):
        assert ours[k] == pytest.approx(roc_auc_score(y == k, p[:, k]))


def test_roc_curve_endpoints():
    fpr, tpr = metrics.roc_curve([1, 0, 1, 0], [0.8, 0.5, 0.4, 0.3])
    assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)


def test_bootstrap_ci_brackets_point_estimate_and_is_deterministic():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 150)
    p = rng.dirichlet([1, 1, 1], 150)
    p[np.arange(150), y] += 0.5
    s = metrics.summary(y, p)
    a = metrics.bootstrap_ci(y, p, n_boot=300, seed=7)
    b = metrics.bootstrap_ci(y, p, n_boot=300, seed=7)
    assert a == b
    lo, hi = a["uar"]
    assert lo <= s["uar"] <= hi and hi - lo < 0.3
    # a perfect classifier has a degenerate interval at 1
    perfect = np.eye(3)[y]
    assert metrics.bootstrap_ci(y, perfect, n_boot=50)["uar"] == [1.0, 1.0]


def test_aggregation_rules():
    probs = [[0.7, 0.2, 0.1], [0.3, 0.1, 0.6], [0.5, 0.4, 0.1]]
    assert np.allclose(aggregate(probs, "mean"), [0.5, 0.7 / 3, 0.8 / 3])
    assert np.allclose(aggregate(probs, "max_murmur"), [0.3, 0.1, 0.6])
    with pytest.raises(ValueError):
        aggregate(probs, "max")


def test_levels_labels():
    rows = [
        {"patient_id": "1", "label_patient": "mild", "label_recording": "murmur_not_audible", "probs": [0.9, 0.05, 0.05]},
        {"patient_id": "1", "label_patient": "mild", "label_recording": "mild", "probs": [0.4, 0.5, 0.1]},
        {"patient_id": "2", "label_patient": "normal", "label_recording": "normal", "probs": [0.6, 0.3, 0.1]},
    ]
    y, p = recording_level(rows)
    assert y.tolist() == [0, 1, 0]  # not audible -> normal at recording level
    y, p = patient_level(rows, "max_murmur")
    assert y.tolist() == [1, 0] and p.argmax(1).tolist() == [1, 0]
    y, p = patient_level(rows, "mean")
    assert p.argmax(1).tolist() == [0, 0]
