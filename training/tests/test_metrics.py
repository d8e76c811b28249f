import math

import numpy as np
import pytest

from phonoscope_training import metrics
from phonoscope_training.aggregation import aggregate
from phonoscope_training.evaluate import patient_level, recording_level


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


def test_fusion_features_by_hand():
    from phonoscope_training.aggregation import LOG_EPS, fusion_features
    probs = [[0.7, 0.2, 0.1], [0.3, 0.1, 0.6]]
    f = fusion_features(probs)
    assert np.allclose(f[:3], [0.5, 0.15, 0.35])
    assert np.allclose(f[3:6], np.log(np.array(probs) + LOG_EPS).mean(axis=0))
    assert np.allclose(f[6:], [0.3, 0.1, 0.6])  # the max_murmur recording


def test_fusion_fit_folds_the_standardisation_into_its_weights():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from phonoscope_training.aggregation import FUSION_C, aggregate, fit_fusion, fusion_features
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [60, 30, 15])
    # each patient's sites lean to its class, with noise; murmur patients have some normal-sounding sites
    patients = [rng.dirichlet(np.eye(3)[k] * 4 + 1, size=rng.integers(1, 5)) for k in y]
    fusion = fit_fusion(patients, y)
    assert len(fusion["weights"]) == 3 and len(fusion["weights"][0]) == 9 and len(fusion["bias"]) == 3
    ours = np.array([aggregate(p, "fusion", fusion) for p in patients])
    assert np.allclose(ours.sum(1), 1)
    x = np.array([fusion_features(p) for p in patients])
    ref = make_pipeline(StandardScaler(), LogisticRegression(C=FUSION_C, class_weight="balanced", max_iter=10_000))
    assert np.allclose(ours, ref.fit(x, y).predict_proba(x), atol=1e-6)
    assert metrics.uar(y, ours.argmax(1)) > 0.8
    with pytest.raises(ValueError, match="every class"):
        fit_fusion(patients[:60], y[:60])
    with pytest.raises(ValueError, match="fitted weights"):
        aggregate(patients[0], "fusion")


def test_fusion_is_cross_fitted(monkeypatch):
    from phonoscope_training import evaluate
    rng = np.random.default_rng(1)
    labels = ["normal", "mild", "moderate_severe"]
    folds = {k: [{"patient_id": f"p{k}-{i}", "label_patient": labels[i % 3], "label_recording": labels[i % 3],
                  "probs": rng.dirichlet([1, 1, 1]).tolist()} for i in range(12) for _ in range(2)] for k in range(3)}
    seen = []
    real_fit = evaluate.fit_fusion

    def spy(probs, y):
        seen.append({tuple(np.round(p[0], 12)) for p in probs})
        return real_fit(probs, y)

    monkeypatch.setattr(evaluate, "fit_fusion", spy)
    fused = evaluate.cross_fitted_fusion(folds)
    assert sorted(fused) == [0, 1, 2] and len(seen) == 3
    for k, fitted_on in zip(sorted(folds), seen):
        own = {tuple(np.round(r["probs"], 12)) for r in folds[k]}
        assert not own & fitted_on and len(fitted_on) == 24  # the other two folds' 12 patients each
        y, p = fused[k]
        assert len(y) == 12 and np.allclose(p.sum(1), 1)
    assert evaluate.cross_fitted_fusion({0: folds[0]}) is None  # one fold: nothing to fit on


def test_cross_fitted_fusion_scores_other_predictions_with_the_reference_fusions():
    from phonoscope_training import evaluate
    rng = np.random.default_rng(2)
    labels = ["normal", "mild", "moderate_severe"]
    folds = {k: [{"patient_id": f"p{k}-{i}", "label_patient": labels[i % 3], "label_recording": labels[i % 3],
                  "probs": rng.dirichlet([1, 1, 1]).tolist()} for i in range(12) for _ in range(2)] for k in range(3)}
    twin = {k: [{**r, "probs": rng.dirichlet([1, 1, 1]).tolist()} for r in rows] for k, rows in folds.items()}
    fused = evaluate.cross_fitted_fusion(folds, scored=twin)
    own = evaluate.cross_fitted_fusion(folds)
    for k in folds:
        fusion = evaluate.fit_fusion(*evaluate.patients([r for j in folds if j != k for r in folds[j]])[::-1])
        y, p = evaluate.patient_level(twin[k], "fusion", fusion)
        assert np.array_equal(fused[k][0], y) and np.allclose(fused[k][1], p)
        assert not np.allclose(p, own[k][1])  # the twin's rows, not the reference's
