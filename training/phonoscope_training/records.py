"""The committed record of a cross-validation run: training/results/<run>.json.

Run outputs (checkpoints, logs, plots under training/runs/) are not committed, so a new checkout could not redo the
results table without retraining everything. The record keeps what the table is computed from: the run's
configuration and timing and every out-of-fold recording probability (one line per recording). Labels are joined
back from the manifest by file name when a record is read, so a record stays small (about 60 kB) and the manifest
stays the one source of labels and folds.

An ensemble record averages its members' recording probabilities (the same recordings, the same folds): the honest CV
figure of an ensemble of models that each saw only their fold's training folds.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import data
from .data import CLASSES

RESULTS_DIR = data.TRAINING_ROOT / "results"
COLUMNS = ["file", "fold", *CLASSES]
PROB_DECIMALS = 5


def record_path(name: str, results_dir: Path | None = None) -> Path:
    return Path(results_dir or RESULTS_DIR) / f"{name}.json"


ROW_LISTS = ("predictions", "descriptor_predictions")


def _dump(record: dict) -> str:
    """JSON with one prediction row per line (readable diffs, no pretty-printed arrays of numbers)."""
    head = {k: v for k, v in record.items() if k not in ROW_LISTS}
    named = [f' "{k}": [\n' + ",\n".join("  " + json.dumps(r) for r in record[k]) + "\n ]"
             for k in ROW_LISTS if k in record]
    return json.dumps(head, indent=1)[:-2] + ",\n" + ",\n".join(named) + "\n}\n"


def write_record(record: dict, results_dir: Path | None = None) -> Path:
    path = record_path(record["run"], results_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_dump(record))
    return path


def record_of_run(run_dir: Path, info: dict, folds: dict[int, list[dict]]) -> dict:
    """A record from a run's out-of-fold predictions (train.py's predictions.json rows) and run_info()."""
    rows = [[r["file"], int(r["fold"]), *[round(float(p), PROB_DECIMALS) for p in r["probs"]]]
            for k in sorted(folds) for r in folds[k]]
    record = {"run": Path(run_dir).name, "folds": sorted(folds), **info, "columns": COLUMNS, "predictions": rows}
    heads = (info.get("config") or {}).get("heads")
    if heads:  # each head's out-of-fold label probabilities, in the config's head order
        record["descriptor_predictions"] = [
            [r["file"], int(r["fold"]), *[[round(float(p), PROB_DECIMALS) for p in r["descriptors"][name]]
                                          for name in heads]]
            for k in sorted(folds) for r in folds[k]]
    return record


def ensemble(name: str, members: list[dict]) -> dict:
    """The record of the mean of several runs' recording probabilities (a seed or variant ensemble)."""
    if len(members) < 2:
        raise ValueError("an ensemble needs at least two member runs")
    keys = [sorted((r[0], r[1]) for r in m["predictions"]) for m in members]
    if any(k != keys[0] for k in keys[1:]):
        raise ValueError("ensemble members must hold the same recordings in the same folds")
    probs = [{(r[0], r[1]): np.array(r[2:], float) for r in m["predictions"]} for m in members]
    rows = [[f, k, *[round(float(x), PROB_DECIMALS) for x in np.mean([p[(f, k)] for p in probs], axis=0)]]
            for f, k in keys[0]]
    first = members[0]
    secs = [m.get("seconds_per_epoch") for m in members]
    return {"run": name, "folds": first["folds"], "config": {**first["config"], "ensemble": [m["run"] for m in members]},
            "n_params": first.get("n_params"), "device": first.get("device"), "threads": first.get("threads"),
            "seconds_per_epoch": float(np.mean(secs)) if all(secs) else None, "members": [m["run"] for m in members],
            "columns": COLUMNS, "predictions": rows}


def read_record(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def read_records(results_dir: Path | None = None) -> list[dict]:
    return [read_record(p) for p in sorted(Path(results_dir or RESULTS_DIR).glob("*.json"))]


def fold_rows(record: dict, recs: list[data.Recording] | None = None) -> dict[int, list[dict]]:
    """{fold: rows} as evaluate.py takes them, labels and patients joined from the manifest by file name."""
    by_file = {r.file: r for r in (recs if recs is not None else data.read_manifest())}
    folds: dict[int, list[dict]] = {k: [] for k in record["folds"]}
    for file, fold, *probs in record["predictions"]:
        r = by_file.get(file)
        if r is None:
            raise KeyError(f"record {record['run']}: {file} is not a labelled recording of the manifest")
        if r.fold != fold:
            raise ValueError(f"record {record['run']}: {file} is in fold {r.fold} of the manifest, not {fold}")
        folds[fold].append({"file": file, "patient_id": r.patient_id, "fold": fold, "location": r.location,
                            "label_patient": r.label_patient, "label_recording": r.label_recording, "probs": probs})
    heads = list(record["config"].get("heads") or {})
    described = {(file, fold): dict(zip(heads, probs)) for file, fold, *probs in record.get("descriptor_predictions", [])}
    for rows in folds.values():
        for row in rows:
            if (row["file"], row["fold"]) in described:
                row["descriptors"] = described[(row["file"], row["fold"])]
    return folds
