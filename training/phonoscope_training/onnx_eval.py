"""Python reference for the app's inference: an ONNX model (+ its model card) run by onnxruntime on manifest rows,
with the card's windowing, aggregation and calibration and the Python front end (frontend.py). The TypeScript CLI's
`phonoscope evaluate` must give the same numbers (test/unit/evaluate-parity.test.ts); `phonoscope bench` times
`bench` here against onnxruntime-node on the same ONNX file and input.

  python -m phonoscope_training.onnx_eval eval --model M.onnx --manifest CSV [--root DIR] [--label-column C]
  python -m phonoscope_training.onnx_eval bench --model M.onnx --input window.f32 --frames 936 --threads 1
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from . import data, frontend, metrics
from .aggregation import aggregate
from .calibration import calibrated
from .data import CLASS_INDEX, CLASSES, inference_windows, wrap_pad


def load_card(model: Path) -> dict:
    """The card beside an ONNX model, its front end and windowing checked (and normalised: frontend.of_card)."""
    path = model.with_suffix(".json")
    card = json.loads(path.read_text())
    if card["classes"] != CLASSES:
        raise SystemExit(f"{model}: classes {card['classes']} != {CLASSES}")
    try:
        data.check_windowing(card["windowing"], str(path))
        return {**card, "frontend": frontend.of_card(card, str(path))}
    except ValueError as e:
        raise SystemExit(str(e)) from e


def session(model: Path, threads: int = 1):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])


def recording_probs(sess, feats: np.ndarray, windowing: dict, hop: int | None = None) -> np.ndarray:
    """Mean over the card's windows of exp(log_probs); each window runs alone (batch 1), as the app does."""
    wins = inference_windows(len(feats), windowing["window_frames"], hop or windowing["hop_frames"],
                             windowing["min_frames"])
    probs = []
    for s, e, n in wins:
        x = wrap_pad(feats[s:e], n)[None, None].astype(np.float32)
        log_probs = sess.run(["log_probs"], {"log_mel": x})[0][0]
        probs.append(np.exp(log_probs.astype(np.float64)))
    return np.mean(probs, axis=0)


def _clean(x):
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def level(y: list[int], p: list[np.ndarray]) -> dict:
    s = metrics.summary(np.array(y, int), np.array(p, float).reshape(-1, len(CLASSES)))
    return {"uar": _clean(s["uar"]), "recall": dict(zip(CLASSES, _clean(s["recall"]))),
            "precision": dict(zip(CLASSES, _clean(s["precision"]))), "confusion": s["confusion"],
            "auc": dict(zip(CLASSES, _clean(s["auc_ovr"]))), "accuracy": _clean(s["accuracy"])}


def evaluate(model: Path, manifest: Path, root: Path | None, label_column: str, threads: int = 1) -> dict:
    card = load_card(model)
    sess = session(model, threads)
    root = root or manifest.parent
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    path_col = "path" if rows and "path" in rows[0] else "file"
    done, failed, skipped, model_probs = [], [], 0, {}
    for i, row in enumerate(rows):
        label = row[label_column]
        if label not in CLASS_INDEX:
            skipped += 1
            continue
        path = root / row[path_col]
        try:
            feats = frontend.features(path, card["frontend"])
            if len(feats) == 0:
                raise ValueError("too short: no frame")
            p = recording_probs(sess, feats, card["windowing"])
        except Exception as e:  # noqa: BLE001
            failed.append({"row": i + 2, "file": row[path_col], "reason": str(e).splitlines()[0]})
            continue
        model_probs[i + 2] = p  # the patient rule takes the uncalibrated probabilities
        done.append({"row": i + 2, "file": row[path_col], "patient_id": row["patient_id"], "label": label,
                     "frames": int(len(feats)),
                     "probabilities": dict(zip(CLASSES, calibrated(p, card, "recording")[0].tolist()))})
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in done:
        groups[r["patient_id"]].append(r)
    y_rec = [CLASS_INDEX[r["label"]] for r in done]
    p_rec = [[r["probabilities"][c] for c in CLASSES] for r in done]
    ids = sorted(groups)
    y_pat = [CLASS_INDEX[groups[i][0]["label"]] for i in ids]
    p_pat = [calibrated(aggregate(np.array([model_probs[r["row"]] for r in groups[i]]), card["aggregation"],
                                  card.get("fusion")), card, "patient")[0] for i in ids]
    return {"n_recordings": len(done), "n_patients": len(ids), "label_column": label_column,
            "aggregation": card["aggregation"], "recording": level(y_rec, p_rec), "patient": level(y_pat, p_pat),
            "skipped": skipped, "failed": len(failed), "failed_rows": failed, "recordings": done}


def run_times_ms(sess, x: np.ndarray, repeats: int, warmup: int = 3) -> list[float]:
    """Milliseconds of each of `repeats` runs of the session on input x, after `warmup` untimed runs."""
    for _ in range(warmup):
        sess.run(None, {"log_mel": x})
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sess.run(None, {"log_mel": x})
        times.append(1000 * (time.perf_counter() - t0))
    return times


def bench(model: Path, input_path: Path, frames: int, threads: int, repeats: int, warmup: int = 3) -> dict:
    """Milliseconds per session.run of one [1, 1, frames, n_mels] window read from a raw float32 file."""
    sess = session(model, threads)
    x = np.fromfile(input_path, dtype=np.float32).reshape(1, 1, frames, -1)
    times = run_times_ms(sess, x, repeats, warmup)
    import onnxruntime as ort
    return {"runtime": f"onnxruntime {ort.__version__} (Python)", "threads": threads, "repeats": repeats,
            "median_ms": float(np.median(times)), "mean_ms": float(np.mean(times)), "min_ms": float(np.min(times)),
            "times_ms": times}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m phonoscope_training.onnx_eval")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("eval")
    e.add_argument("--model", type=Path, required=True)
    e.add_argument("--manifest", type=Path, required=True)
    e.add_argument("--root", type=Path)
    e.add_argument("--label-column", default="label_patient")
    e.add_argument("--threads", type=int, default=1)
    b = sub.add_parser("bench")
    b.add_argument("--model", type=Path, required=True)
    b.add_argument("--input", type=Path, required=True)
    b.add_argument("--frames", type=int, default=936)
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--repeats", type=int, default=20)
    a = ap.parse_args(argv)
    if a.cmd == "eval":
        res = evaluate(a.model, a.manifest, a.root, a.label_column, a.threads)
    else:
        res = bench(a.model, a.input, a.frames, a.threads, a.repeats)
    json.dump(res, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
