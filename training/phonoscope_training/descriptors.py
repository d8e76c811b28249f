"""Murmur descriptors (issue 17): CirCor's per-patient murmur columns as per-recording targets of extra heads.

Names and labels are the app's (`classify --json` descriptors): labels as CirCor spells them, lower case, `_` for `-`.
A recording has a target only where there is a murmur to describe: its patient has Murmur = Present, and (every head
but `audible_here`) the murmur was heard at this recording's site. `audible_here` is the manifest's
`murmur_audible_at_location` of a murmur patient's recording. Everything else (normal and unknown patients, a missing
or unknown value, a label left out) is IGNORE: masked in the loss.

A label with fewer than MIN_PATIENTS patients in the labelled corpus is left out (no clinically sound merge exists for
CirCor's rare ones: crescendo, musical, late systolic); a head left with fewer than two labels is left out whole.

  python -m phonoscope_training.descriptors --counts [--min-patients N]
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from . import data
from .data import Recording

# name -> (patients.csv column, every label CirCor has for it); audible_here reads the manifest instead
HEADS = {
    "systolic_timing": ("Systolic murmur timing", ("early_systolic", "mid_systolic", "late_systolic", "holosystolic")),
    "systolic_shape": ("Systolic murmur shape", ("crescendo", "decrescendo", "diamond", "plateau")),
    "systolic_pitch": ("Systolic murmur pitch", ("low", "medium", "high")),
    "systolic_quality": ("Systolic murmur quality", ("blowing", "harsh", "musical")),
    "diastolic": ("Diastolic murmur timing", ("no", "yes")),
    "audible_here": ("murmur_audible_at_location", ("no", "yes")),
}
IGNORE = -1
MIN_PATIENTS = 10


def _label(value: str) -> str | None:
    v = value.strip().lower().replace("-", "_")
    return None if v in ("", "unknown", "nan") else v


def recording_labels(patient: dict, audible: str) -> dict[str, str | None]:
    """The descriptor labels of one recording from its patient's patients.csv row and the recording's
    murmur_audible_at_location ("yes" | "no" | ""): {name: label or None (no target)}."""
    if patient["Murmur"] != "Present":
        return dict.fromkeys(HEADS)
    here = _label(audible)
    out = {"audible_here": here}
    for name, (column, _) in HEADS.items():
        if name == "audible_here":
            continue
        if name == "diastolic":  # a diastolic murmur is described by its timing; none given: none heard
            value = "yes" if _label(patient[column]) else "no"
        else:
            value = _label(patient[column])
        out[name] = value if here == "yes" else None
    for name, value in out.items():
        if value is not None and value not in HEADS[name][1]:
            raise ValueError(f"patient {patient['Patient ID']}: {name} {value!r} is none of {HEADS[name][1]}")
    return out


def read_patients(root: Path | None = None) -> dict[str, dict]:
    """patients.csv rows by Patient ID."""
    root = Path(root) if root else data.circor_root()
    with open(root / "patients.csv", newline="") as f:
        return {row["Patient ID"]: row for row in csv.DictReader(f)}


def read_audible(root: Path | None = None) -> dict[str, str]:
    """manifest.csv's murmur_audible_at_location by file (Recording does not carry it)."""
    root = Path(root) if root else data.circor_root()
    with open(root / "manifest.csv", newline="") as f:
        return {row["file"]: row["murmur_audible_at_location"] for row in csv.DictReader(f)}


def labels_of(recs: list[Recording], root: Path | None = None) -> list[dict[str, str | None]]:
    """Every recording's descriptor labels (recording_labels), read from the corpus at root (default: the data's)."""
    patients, at = read_patients(root), read_audible(root)
    return [recording_labels(patients[r.patient_id], at[r.file]) for r in recs]


def label_counts(recs: list[Recording], labels: list[dict]) -> dict[str, dict[str, dict[str, int]]]:
    """{name: {label: {"patients": n, "recordings": n}}} over every label CirCor has, in its order."""
    out = {}
    for name, (_, every) in HEADS.items():
        pats = {lab: set() for lab in every}
        recs_n = dict.fromkeys(every, 0)
        for r, lab in zip(recs, labels):
            if lab[name] is not None:
                pats[lab[name]].add(r.patient_id)
                recs_n[lab[name]] += 1
        out[name] = {lab: {"patients": len(pats[lab]), "recordings": recs_n[lab]} for lab in every}
    return out


def select_heads(counts: dict, min_patients: int = MIN_PATIENTS) -> dict[str, list[str]]:
    """The heads to train and their labels: those with at least min_patients patients; heads with two or more."""
    heads = {}
    for name, per_label in counts.items():
        kept = [lab for lab, n in per_label.items() if n["patients"] >= min_patients]
        if len(kept) >= 2:
            heads[name] = kept
    return heads


def heads_for(recs: list[Recording], root: Path | None = None, min_patients: int = MIN_PATIENTS
              ) -> dict[str, list[str]]:
    return select_heads(label_counts(recs, labels_of(recs, root)), min_patients)


def targets(labels: list[dict], heads: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """{name: int64 [n_recordings]}: the label's index among the head's labels, IGNORE where there is none or the
    label was left out."""
    out = {}
    for name, kept in heads.items():
        index = {lab: i for i, lab in enumerate(kept)}
        out[name] = np.array([index.get(lab[name], IGNORE) for lab in labels], dtype=np.int64)
    return out


def format_counts(counts: dict, heads: dict[str, list[str]], min_patients: int) -> str:
    lines = [f"descriptor labels of murmur patients' recordings (a label needs >= {min_patients} patients)"]
    for name, per_label in counts.items():
        state = "head kept" if name in heads else "head LEFT OUT (fewer than two labels kept)"
        lines.append(f"{name}: {state}")
        for lab, n in per_label.items():
            rare = "   left out (too few patients)" if n["patients"] < min_patients else ""
            lines.append(f"  {lab:16s} {n['patients']:4d} patients {n['recordings']:5d} recordings{rare}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m phonoscope_training.descriptors")
    ap.add_argument("--counts", action="store_true", required=True,
                    help="print each descriptor's label counts over the labelled corpus and the heads kept")
    ap.add_argument("--min-patients", type=int, default=MIN_PATIENTS)
    a = ap.parse_args(argv)
    recs = data.read_manifest()
    counts = label_counts(recs, labels_of(recs))
    print(format_counts(counts, select_heads(counts, a.min_patients), a.min_patients))


if __name__ == "__main__":
    main()
