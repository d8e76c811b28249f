"""Times the Python (librosa) front end on the files given, one thread, for `phonoscope bench frontend`.

Prints one JSON object: {"files", "audio_s", "compute_s", "cpu_s", "blas"}; compute covers decode + resample +
log-Mel, like the TypeScript side's figure: wall-clock seconds and this process's CPU seconds (what the comparison
uses: on a shared machine the wall clock also counts the time other processes held the core). "blas" says which BLAS kernel ran and whether the OpenBLAS overrides were set, so that
a figure states the reference's environment (a pinned older kernel made it about 2x slower).
"""
from __future__ import annotations

import json
import os
import sys
import time

import soundfile as sf
from threadpoolctl import threadpool_info

from .frontend import features

OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def blas_environment() -> dict:
    """The BLAS libraries numpy loaded (API, kernel, threads) and the OpenBLAS overrides in effect (None: unset)."""
    libraries = [{key: lib.get(key) for key in ("internal_api", "version", "architecture", "num_threads")}
                 for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return {"libraries": libraries, "overrides": {name: os.environ.get(name) for name in OPENBLAS_OVERRIDES}}


def main(paths: list[str]) -> None:
    features(paths[0])  # warm-up: imports, filterbank, FFT plans
    audio_s = sum(sf.info(p).duration for p in paths)
    start, start_cpu = time.perf_counter(), time.process_time()
    for p in paths:
        features(p)
    compute_s, cpu_s = time.perf_counter() - start, time.process_time() - start_cpu
    print(json.dumps({"files": len(paths), "audio_s": audio_s, "compute_s": compute_s, "cpu_s": cpu_s,
                      "blas": blas_environment()}))


if __name__ == "__main__":
    main(sys.stdin.read().split("\n")[:-1] if len(sys.argv) == 1 else sys.argv[1:])
