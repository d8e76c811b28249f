"""A tiny synthetic CirCor-like corpus for training tests: patients.csv and manifest.csv in a folder (what
descriptors.py reads), Recording objects and log-Mel features in memory. One recording per patient; a murmur
patient's systolic pitch is how rough the log-Mel is (its spread over cells), which a convolutional head can learn
wherever it looks."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from phonoscope_training.data import Recording

N_MELS = 64
PITCH_SPREAD = {"Low": 1.0, "High": 3.0}


def make(root: Path, n_patients: int, frames: int = 96, seed: int = 0, shuffle_pitch: bool = False
         ) -> tuple[list[Recording], dict[str, np.ndarray], dict[str, str]]:
    """(recordings, features by file, true systolic pitch by file) of n_patients patients in 5 folds; every fourth
    patient has no murmur. shuffle_pitch writes the murmur patients' pitch labels permuted (the features keep the
    true ones)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    recs, feats, pitch, rows = [], {}, {}, []
    for i in range(n_patients):
        pid, murmur = str(1000 + i), i % 4 != 3
        label = ("mild", "moderate_severe")[i % 2] if murmur else "normal"
        file = f"{pid}_AV.wav"
        if murmur:
            pitch[file] = ("Low", "High")[int(rng.integers(2))]
        spread = PITCH_SPREAD[pitch[file]] if murmur else 1.0
        feats[file] = rng.normal(-8, spread, size=(frames, N_MELS)).astype(np.float32)
        recs.append(Recording(file=file, path=root / file, patient_id=pid, subject_group=pid, location="AV",
                              label_patient=label, label_recording=label, fold=i % 5))
        rows.append({"Patient ID": pid, "Murmur": "Present" if murmur else "Absent",
                     "Systolic murmur timing": "Holosystolic" if murmur else "",
                     "Systolic murmur shape": "Plateau" if murmur else "", "Systolic murmur pitch": pitch.get(file, ""),
                     "Systolic murmur quality": "Harsh" if murmur else "", "Diastolic murmur timing": ""})
    if shuffle_pitch:
        murmur_rows = [r for r in rows if r["Murmur"] == "Present"]
        for r, p in zip(murmur_rows, rng.permutation([r["Systolic murmur pitch"] for r in murmur_rows])):
            r["Systolic murmur pitch"] = p
    with open(root / "patients.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(root / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "murmur_audible_at_location"])
        w.writerows([r.file, "yes" if r.label_patient != "normal" else ""] for r in recs)
    return recs, feats, pitch
