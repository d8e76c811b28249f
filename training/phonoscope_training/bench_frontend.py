"""Times the Python (librosa) front end on the files given, one thread, for `phonoscope bench frontend`.

Prints one JSON object: {"files", "audio_s", "compute_s"}; compute covers decode + resample + log-Mel, like the
TypeScript side's figure.
"""
from __future__ import annotations

import json
import sys
import time

import soundfile as sf

from .frontend import features


def main(paths: list[str]) -> None:
    features(paths[0])  # warm-up: imports, filterbank, FFT plans
    audio_s = sum(sf.info(p).duration for p in paths)
    start = time.perf_counter()
    for p in paths:
        features(p)
    print(json.dumps({"files": len(paths), "audio_s": audio_s, "compute_s": time.perf_counter() - start}))


if __name__ == "__main__":
    main(sys.stdin.read().split("\n")[:-1] if len(sys.argv) == 1 else sys.argv[1:])
