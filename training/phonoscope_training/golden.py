"""Writes the front-end golden vectors: input audio files and the log-Mel matrices this Python side computes for them.

The TypeScript test (test/unit/golden.test.ts) decodes the same files with its own decoders and front end and must
match every cell. Regenerate with:  training/.venv/bin/python -m phonoscope_training.golden
Real inputs come from CirCor (ODC-BY 1.0, see README.md); synthetic ones cover tones and the edge cases.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import soundfile as sf

from .data import circor_root
from .frontend import REPO_ROOT, features, params

OUT = REPO_ROOT / "test" / "fixtures" / "golden"
SR = params()["sample_rate"]
# Short real recordings of each label, by name, so the set is stable when regenerated.
REAL_FLAC = ["50348_AV_1.flac", "85087_TV.flac"]
REAL_WAV_CROP = [("13918_TV.flac", 3.0), ("49989_PV.flac", 2.5)]


def tone(freq: float, seconds: float, amplitude: float = 0.5, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return amplitude * np.sin(2 * np.pi * freq * t)


def synthetic_cases() -> dict[str, tuple[np.ndarray, int, str]]:
    """name -> (samples [n] or [n, channels], sample rate, soundfile subtype)."""
    rng = np.random.default_rng(7)
    chirp_t = np.arange(2 * SR) / SR
    return {
        "tone-100hz-pcm16": (tone(100, 1.5), SR, "PCM_16"),
        "tone-1khz-float32": (tone(1000, 1.0), SR, "FLOAT"),
        "chirp-20-1900hz-float64": (0.4 * np.sin(2 * np.pi * (20 * chirp_t + 470 * chirp_t**2)), SR, "DOUBLE"),
        "noise-stereo-pcm24": (0.2 * rng.standard_normal((SR, 2)), SR, "PCM_24"),
        "tone-3ch-pcm32": (np.stack([tone(150, 1), tone(300, 1), tone(600, 1)], axis=1), SR, "PCM_32"),
        "tone-pcm8": (tone(440, 1.0), SR, "PCM_U8"),
        "silence": (np.zeros(SR), SR, "PCM_16"),
        "clipped": (np.clip(tone(200, 1.0, amplitude=3.0), -1, 32767 / 32768), SR, "PCM_16"),
        "odd-length-1001": (tone(250, 1001 / SR), SR, "PCM_16"),
        "exactly-one-frame": (tone(250, 256 / SR), SR, "PCM_16"),
        "shorter-than-frame": (tone(250, 100 / SR), SR, "PCM_16"),
    }


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    cases = []
    src = circor_root() / "audio"
    for name in REAL_FLAC:
        shutil.copyfile(src / name, OUT / name)
        cases.append({"file": name, "kind": "circor"})
    for name, seconds in REAL_WAV_CROP:
        samples, sr = sf.read(src / name, dtype="int16")
        out = name.replace(".flac", f"-first{seconds:g}s.wav")
        sf.write(OUT / out, samples[: int(seconds * sr)], sr, subtype="PCM_16")
        cases.append({"file": out, "kind": "circor"})
    for name, (samples, sr, subtype) in synthetic_cases().items():
        sf.write(OUT / f"{name}.wav", samples, sr, subtype=subtype)
        cases.append({"file": f"{name}.wav", "kind": "synthetic"})
    for case in cases:
        matrix = features(OUT / case["file"])
        case["frames"], case["n_mels"] = matrix.shape
        case["expected"] = case["file"].rsplit(".", 1)[0] + ".logmel.f32"
        matrix.astype("<f4").tofile(OUT / case["expected"])
    index = {"frontend": params(), "cases": cases,
             "note": "expected = log-Mel [frames, n_mels] as little-endian float32, row-major; "
                     "made by python -m phonoscope_training.golden"}
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {len(cases)} golden cases to {OUT.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
