"""The descriptor heads' CV figures (descriptor_eval.py): a head that knows the label scores 1, a constant one
scores chance, the interval holds the figure, and a run's record keeps every head's out-of-fold probabilities."""
from __future__ import annotations

import numpy as np
import pytest

import synthetic_corpus
from phonoscope_training import descriptor_eval, evaluate, records

HEADS = {"systolic_pitch": ["low", "high"], "audible_here": ["no", "yes"]}


def _folds(recs, pitch, guess):
    """Out-of-fold rows as train.py writes them, each head's probabilities from guess(file, head)."""
    folds: dict[int, list[dict]] = {}
    for r in recs:
        folds.setdefault(r.fold, []).append({
            "file": r.file, "patient_id": r.patient_id, "fold": r.fold, "location": r.location,
            "label_patient": r.label_patient, "label_recording": r.label_recording, "probs": [0.5, 0.3, 0.2],
            "descriptors": {name: guess(r.file, name) for name in HEADS}})
    return folds


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("PHONOSCOPE_DATA", str(tmp_path))
    recs, _, pitch = synthetic_corpus.make(tmp_path / "circor", n_patients=80)
    return recs, pitch


def test_a_head_that_knows_scores_one_and_a_constant_one_chance(corpus):
    recs, pitch = corpus
    knows = _folds(recs, pitch, lambda f, name: [0.2, 0.8] if name == "audible_here" or pitch.get(f) == "High"
                   else [0.9, 0.1])
    out = descriptor_eval.evaluate(knows, HEADS, recs, n_boot=200)
    assert out["systolic_pitch"]["pooled"]["uar"] == 1.0
    assert out["systolic_pitch"]["counts"] == [sum(p == "Low" for p in pitch.values()),
                                               sum(p == "High" for p in pitch.values())]
    assert out["systolic_pitch"]["patients"] == len(pitch)  # one recording each: every murmur patient
    assert out["systolic_pitch"]["pooled"]["ci95"] == [1.0, 1.0]
    # every labelled recording here is audible (yes): a UAR over its one label present
    assert out["audible_here"]["counts"][0] == 0

    constant = descriptor_eval.evaluate(_folds(recs, pitch, lambda f, name: [0.9, 0.1]), HEADS, recs, n_boot=200)
    pitch_fig = constant["systolic_pitch"]
    assert pitch_fig["pooled"]["uar"] == pytest.approx(pitch_fig["chance"]) == pytest.approx(0.5)
    lo, hi = pitch_fig["pooled"]["ci95"]
    assert lo <= pitch_fig["pooled"]["uar"] <= hi
    assert set(pitch_fig["per_fold"]) == {r.fold for r in recs}


def test_a_record_keeps_each_heads_out_of_fold_probabilities(corpus, tmp_path):
    recs, pitch = corpus
    rng = np.random.default_rng(0)
    folds = _folds(recs, pitch, lambda f, name: list(rng.dirichlet([1, 1])))
    info = {"config": {"heads": HEADS, "epochs": 1}}
    record = records.record_of_run(tmp_path / "run", info, folds)
    path = records.write_record(record, tmp_path / "results")
    back = records.read_record(path)
    assert len(back["descriptor_predictions"]) == len(recs)
    rejoined = records.fold_rows(back, recs)
    first = next(iter(rejoined.values()))[0]
    want = next(r for r in folds[first["fold"]] if r["file"] == first["file"])["descriptors"]
    for name in HEADS:
        assert first["descriptors"][name] == pytest.approx(want[name], abs=1e-5)
    # the same figures from the record as from the run's rows
    direct = descriptor_eval.evaluate(folds, HEADS, recs, n_boot=100)
    from_record = evaluate.evaluate_record(back, n_boot=100, recs=recs)["descriptors"]
    assert from_record["systolic_pitch"]["pooled"]["uar"] == direct["systolic_pitch"]["pooled"]["uar"]
    # one line per recording in the committed file
    assert len(path.read_text().splitlines()) > 2 * len(recs)
