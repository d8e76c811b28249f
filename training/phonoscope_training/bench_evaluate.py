"""Times a plain Python evaluation pipeline on the files given, for `phonoscope bench evaluate`: per recording, the
soundfile + librosa front end (frontend.py, as in training) then onnxruntime on the card's windows (onnx_eval), one
after the other, like `onnx_eval eval`.

  python -m phonoscope_training.bench_evaluate --model M.onnx --threads 2 < paths

Prints one JSON object: {"files", "failed", "audio_s", "compute_s", "front_end_s", "cpu_s", "runtime", "threads"};
compute (wall) and cpu (this process's CPU seconds) cover decode + front end + inference of every file, after one
untimed warm-up file.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import soundfile as sf

from . import frontend
from .onnx_eval import load_card, recording_probs, session


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m phonoscope_training.bench_evaluate")
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    paths = sys.stdin.read().split("\n")[:-1]
    card = load_card(a.model)
    sess = session(a.model, a.threads)
    recording_probs(sess, frontend.features(paths[0], card["frontend"]), card["windowing"])  # warm-up
    front_end_s = 0.0
    done: list[str] = []
    start, cpu = time.perf_counter(), time.process_time()
    for p in paths:
        t0 = time.perf_counter()
        try:
            feats = frontend.features(p, card["frontend"])
            front_end_s += time.perf_counter() - t0
            recording_probs(sess, feats, card["windowing"])
        except Exception:  # noqa: BLE001 - a bad file counts as failed, as in onnx_eval eval
            continue
        done.append(p)
    compute_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    audio_s = sum(sf.info(p).duration for p in done)
    import onnxruntime as ort
    print(json.dumps({"files": len(paths), "failed": len(paths) - len(done), "audio_s": audio_s, "compute_s": compute_s,
                      "front_end_s": front_end_s, "cpu_s": cpu_s, "runtime": f"onnxruntime {ort.__version__} (Python)",
                      "threads": a.threads}))


if __name__ == "__main__":
    main()
