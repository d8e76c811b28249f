"""Temperature scaling and calibration errors (calibration.py): synthetic sets with a known answer, and the card's
calibration block fitted on a committed run record."""
import json

import numpy as np
import pytest

from phonoscope_training import calibration as cal
from phonoscope_training import records
from phonoscope_training.__main__ import main

SHIPPED_RUN = "cnn-att-20ep-specaug"


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def draw(rng, p):
    """One class per row, drawn from that row's probabilities."""
    return (rng.random(len(p))[:, None] > np.cumsum(p, axis=1)).sum(axis=1)


@pytest.mark.parametrize("true_t", [0.5, 2.0])
def test_fit_recovers_the_temperature_of_synthetic_logits(true_t):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, size=(20_000, 3))
    y = draw(rng, softmax(z / true_t))  # the truth follows softmax(z / T); the "model" says softmax(z)
    t = cal.fit_temperature(y, softmax(z))
    assert t == pytest.approx(true_t, rel=0.05)
    assert cal.nll(y, cal.apply_temperature(softmax(z), t)) < cal.nll(y, softmax(z))


def test_ece_is_near_zero_for_calibrated_probabilities_and_large_for_overconfident_ones():
    rng = np.random.default_rng(2)
    p = rng.dirichlet([1, 1, 1], size=50_000)
    y = draw(rng, p)
    assert cal.ece(y, p) < 0.01 and cal.classwise_ece(y, p) < 0.01
    sharp = cal.apply_temperature(p, 0.3)  # the same ranking, far too confident
    assert cal.ece(y, sharp) > 0.1 and cal.classwise_ece(y, sharp) > 0.05
    assert cal.ece(y, cal.apply_temperature(sharp, cal.fit_temperature(y, sharp))) < 0.01


def test_hand_computed_scores():
    p = np.array([[0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    y = np.array([0, 1, 1])
    # bins of the top probabilities: 0.9 (right), 0.6 (wrong), 0.7 (right): |1-0.9| + |0-0.6| + |1-0.7|, each 1/3
    assert cal.ece(y, p) == pytest.approx((0.1 + 0.6 + 0.3) / 3)
    assert cal.nll(y, p) == pytest.approx(-(np.log(0.9) + np.log(0.3) + np.log(0.7)) / 3)
    assert cal.brier(y, p) == pytest.approx((0.01 + 0.0025 * 2 + 0.36 + 0.49 + 0.01 + 0.04 + 0.09 + 0.01) / 3)


def test_temperature_keeps_the_argmax_and_sums_to_one():
    rng = np.random.default_rng(3)
    p = rng.dirichlet([0.3, 0.3, 0.3], size=1000)
    for t in (0.2, 0.83, 1.0, 3.0):
        q = cal.apply_temperature(p, t)
        assert np.allclose(q.sum(axis=1), 1) and (q.argmax(axis=1) == p.argmax(axis=1)).all()
    assert np.allclose(cal.apply_temperature(p, 1.0), p)
    assert np.allclose(cal.apply_temperature([[1e-300, 1 - 1e-300, 0.0]], 0.05), [[0, 1, 0]])
    with pytest.raises(ValueError, match="temperature"):
        cal.apply_temperature(p, 0.0)


@pytest.fixture(scope="module")
def shipped_folds(recordings):
    return records.fold_rows(records.read_record(records.record_path(SHIPPED_RUN)), recordings)


def test_cross_fitted_after_figures_are_not_fitted_on_what_they_score(shipped_folds):
    levels = cal.calibrate_folds(shipped_folds)
    assert {"recording", "patient_mean", "patient_fusion"} <= set(levels)
    for v in levels.values():
        assert 0.3 < v["temperature"] < 3 and len(v["temperature_per_fold"]) == 5
        # each fold's T differs from the all-folds T: fitted without that fold
        assert any(abs(t - v["temperature"]) > 1e-3 for t in v["temperature_per_fold"].values())
    fused = levels["patient_fusion"]
    assert fused["n"] == len({r["patient_id"] for rows in shipped_folds.values() for r in rows})
    # in-sample scaling by the all-folds T can only lower the pooled NLL; the cross-fitted figure need not
    from phonoscope_training.evaluate import level_predictions, pooled
    y, p = pooled(level_predictions(shipped_folds)["patient_fusion"])
    assert cal.nll(y, cal.apply_temperature(p, fused["temperature"])) <= fused["before"]["nll"]
    with pytest.raises(ValueError, match="3 or more"):
        cal.calibrate_folds({k: shipped_folds[k] for k in (0, 1)})


def test_calibrate_command_writes_the_block_into_a_card(shipped_folds, tmp_path, capsys):
    card = {"name": "x", "aggregation": "fusion", "verdict": "argmax", "cv_metrics": {"run": SHIPPED_RUN},
            "notes": "kept"}
    path = tmp_path / "x.json"
    path.write_text(json.dumps(card))
    assert main(["calibrate", str(path)]) == 0
    saved = json.loads(path.read_text())
    assert list(saved) == ["name", "aggregation", "verdict", "calibration", "cv_metrics", "notes"]
    block = saved["calibration"]
    levels = cal.calibrate_folds(shipped_folds)
    assert block["recording"]["temperature"] == round(levels["recording"]["temperature"], 4)
    assert block["patient"]["rule"] == "fusion"
    assert block["patient"]["temperature"] == round(levels["patient_fusion"]["temperature"], 4)
    assert block["patient"]["ece_after"] == round(levels["patient_fusion"]["after"]["ece"], 4)
    assert "recording: T" in capsys.readouterr().out
    # the Python reference of the app applies it: recording probabilities scaled, the patient rule on the raw ones
    assert np.allclose(cal.calibrated([[0.5, 0.3, 0.2]], saved, "recording"),
                       cal.apply_temperature([[0.5, 0.3, 0.2]], block["recording"]["temperature"]))
    assert np.allclose(cal.calibrated([[0.5, 0.3, 0.2]], card, "patient"), [[0.5, 0.3, 0.2]])  # no block: as is


def test_calibrate_command_refuses_a_card_without_a_run(tmp_path):
    path = tmp_path / "y.json"
    path.write_text(json.dumps({"name": "y", "aggregation": "mean", "verdict": "argmax", "cv_metrics": None}))
    with pytest.raises(SystemExit) as exit_:
        main(["calibrate", str(path)])
    assert exit_.value.code == 2
    assert "calibration" not in json.loads(path.read_text())
