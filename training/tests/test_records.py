"""Run records (training/results/<run>.json): what RESULTS.md and the model card are computed from."""
import json

import numpy as np
import pytest

from phonoscope_training import records
from phonoscope_training.evaluate import evaluate_folds, evaluate_record


def _fake_run(recordings, seed):
    """A CV run's out-of-fold rows (train.py's predictions.json) for two folds of real recordings."""
    rng = np.random.default_rng(seed)
    folds = {}
    for k in (0, 1):
        rows = []
        for r in [r for r in recordings if r.fold == k][:30]:
            p = rng.dirichlet([1, 1, 1])
            rows.append({"file": r.file, "patient_id": r.patient_id, "fold": k, "label_patient": r.label_patient,
                         "label_recording": r.label_recording, "probs": p.tolist()})
        folds[k] = rows
    info = {"config": {"arch": "cnn", "epochs": 1, "seed": seed}, "n_params": 1, "device": "cpu", "threads": 2,
            "seconds_per_epoch": 1.0}
    return folds, info


def test_record_round_trip_rejoins_labels_from_the_manifest(recordings, tmp_path):
    folds, info = _fake_run(recordings, 0)
    path = records.write_record(records.record_of_run(tmp_path / "runs" / "demo", info, folds), tmp_path)
    assert path == tmp_path / "demo.json"
    text = path.read_text()
    assert len(text.splitlines()) > 60  # one line per prediction
    rec = records.read_record(path)
    assert rec["run"] == "demo" and rec["folds"] == [0, 1] and rec["config"]["seed"] == 0
    back = records.fold_rows(rec, recordings)
    for k in folds:
        assert [r["file"] for r in back[k]] == [r["file"] for r in folds[k]]
        for a, b in zip(back[k], folds[k]):
            assert a["label_patient"] == b["label_patient"] and a["label_recording"] == b["label_recording"]
            assert np.allclose(a["probs"], b["probs"], atol=1e-5)
    # the metrics of the record are those of the original rows (probabilities rounded to 5 decimals)
    direct, via = evaluate_folds(folds, n_boot=10), evaluate_record(rec, n_boot=10, recs=recordings)["levels"]
    for level in direct:
        assert via[level]["uar_mean"] == pytest.approx(direct[level]["uar_mean"])
        assert via[level]["pooled"]["confusion"] == direct[level]["pooled"]["confusion"]


def test_record_that_disagrees_with_the_manifest_is_refused(recordings, tmp_path):
    folds, info = _fake_run(recordings, 0)
    rec = records.record_of_run(tmp_path / "x", info, folds)
    wrong_fold = json.loads(json.dumps(rec))
    wrong_fold["predictions"][0][1] = 1 - wrong_fold["predictions"][0][1]
    with pytest.raises(ValueError, match="fold"):
        records.fold_rows(wrong_fold, recordings)
    unknown = json.loads(json.dumps(rec))
    unknown["predictions"][0][0] = "no_such_recording.wav"
    with pytest.raises(KeyError, match="no_such_recording"):
        records.fold_rows(unknown, recordings)


def test_ensemble_is_the_mean_of_its_members(recordings, tmp_path):
    a = records.record_of_run(tmp_path / "a", *reversed(_fake_run(recordings, 1)))
    b = records.record_of_run(tmp_path / "b", *reversed(_fake_run(recordings, 2)))
    ens = records.ensemble("ab", [a, b])
    assert ens["run"] == "ab" and ens["config"]["ensemble"] == ["a", "b"]
    pa = {(r[0], r[1]): np.array(r[2:]) for r in a["predictions"]}
    pb = {(r[0], r[1]): np.array(r[2:]) for r in b["predictions"]}
    assert len(ens["predictions"]) == len(pa)
    for f, k, *p in ens["predictions"]:
        assert np.allclose(p, (pa[(f, k)] + pb[(f, k)]) / 2, atol=1e-5)
    b["predictions"] = b["predictions"][1:]
    with pytest.raises(ValueError, match="same recordings"):
        records.ensemble("ab", [a, b])
    with pytest.raises(ValueError, match="two"):
        records.ensemble("a", [a])
