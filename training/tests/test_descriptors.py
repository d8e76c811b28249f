"""Descriptor labels (issue 17) from hand-made CirCor rows, and their counts on the corpus."""
import numpy as np
import pytest

from phonoscope_training import descriptors as d
from phonoscope_training.data import Recording


def _patient(pid="1", murmur="Present", timing="Holosystolic", shape="Plateau", pitch="High", quality="Harsh",
             diastolic=""):
    return {"Patient ID": pid, "Murmur": murmur, "Systolic murmur timing": timing, "Systolic murmur shape": shape,
            "Systolic murmur pitch": pitch, "Systolic murmur quality": quality, "Diastolic murmur timing": diastolic}


def _rec(file, pid):
    return Recording(file=file, path=None, patient_id=pid, subject_group=pid, location="AV", label_patient="mild",
                     label_recording="mild", fold=0)


def test_a_murmur_heard_here_is_described_in_the_apps_names_and_labels():
    labels = d.recording_labels(_patient(timing="Early-systolic", diastolic="Early-diastolic"), "yes")
    assert labels == {"audible_here": "yes", "systolic_timing": "early_systolic", "systolic_shape": "plateau",
                      "systolic_pitch": "high", "systolic_quality": "harsh", "diastolic": "yes"}
    assert d.recording_labels(_patient(timing="Mid-systolic"), "yes")["systolic_timing"] == "mid_systolic"
    assert d.recording_labels(_patient(), "yes")["diastolic"] == "no"


def test_where_the_murmur_was_not_heard_only_audible_here_has_a_target():
    labels = d.recording_labels(_patient(), "no")
    assert labels.pop("audible_here") == "no"
    assert set(labels.values()) == {None}


@pytest.mark.parametrize("murmur", ["Absent", "Unknown"])
def test_no_murmur_no_target(murmur):
    assert set(d.recording_labels(_patient(murmur=murmur), "").values()) == {None}


def test_missing_and_unknown_values_are_ignored_and_a_new_spelling_is_an_error():
    labels = d.recording_labels(_patient(shape="", pitch="Unknown"), "yes")
    assert labels["systolic_shape"] is None and labels["systolic_pitch"] is None
    assert labels["systolic_timing"] == "holosystolic"
    with pytest.raises(ValueError, match="systolic_quality 'rumbling'"):
        d.recording_labels(_patient(quality="Rumbling"), "yes")


def test_rare_labels_are_left_out_and_their_recordings_masked():
    recs = [_rec(f"{i}_AV.wav", str(i)) for i in range(5)] + [_rec("4_MV.wav", "4")]
    labels = [d.recording_labels(_patient(pid=str(i), quality=q), "yes")
              for i, q in enumerate(["Harsh", "Harsh", "Blowing", "Blowing", "Musical", "Musical"])]
    labels[0] = d.recording_labels(_patient(pid="0"), "no")
    counts = d.label_counts(recs, labels)
    assert counts["systolic_quality"] == {"blowing": {"patients": 2, "recordings": 2},
                                          "harsh": {"patients": 1, "recordings": 1},
                                          "musical": {"patients": 1, "recordings": 2}}
    assert counts["audible_here"]["no"] == {"patients": 1, "recordings": 1}
    heads = d.select_heads(counts, min_patients=1)
    assert heads["systolic_quality"] == ["blowing", "harsh", "musical"]
    heads = d.select_heads(counts, min_patients=2)
    assert "systolic_quality" not in heads  # only blowing has two patients: one label is no head
    assert "diastolic" not in heads  # every patient "no"
    heads = {"systolic_quality": ["blowing", "harsh"], "audible_here": ["no", "yes"]}
    t = d.targets(labels, heads)
    assert t["systolic_quality"].tolist() == [d.IGNORE, 1, 0, 0, d.IGNORE, d.IGNORE]
    assert t["audible_here"].tolist() == [0, 1, 1, 1, 1, 1]
    assert t["audible_here"].dtype == np.int64


def test_corpus_counts_keep_the_heads_with_enough_patients(recordings, circor_root):
    counts = d.label_counts(recordings, d.labels_of(recordings, circor_root))
    heads = d.select_heads(counts)
    assert heads["systolic_timing"] == ["early_systolic", "mid_systolic", "holosystolic"]  # no late systolic murmur
    assert "crescendo" not in heads["systolic_shape"] and "musical" not in heads["systolic_quality"]
    assert "diastolic" not in heads  # a handful of patients
    assert heads["audible_here"] == ["no", "yes"]
    # every murmur patient's recording has an audible_here target, and no normal patient's has one
    n_murmur = sum(r.label_patient != "normal" for r in recordings)
    assert sum(n["recordings"] for n in counts["audible_here"].values()) == n_murmur
    text = d.format_counts(counts, heads, d.MIN_PATIENTS)
    assert "diastolic: head LEFT OUT" in text and "late_systolic" in text
