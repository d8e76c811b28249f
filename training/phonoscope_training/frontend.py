"""The log-Mel front end, librosa-based, reading the same parameters as the TypeScript side.

The parameters live once in src/core/dsp/frontend.json; the TypeScript front end reads the same file and the golden
vectors under test/fixtures/golden prove that both produce the same matrix. Everything is computed in float64 and
cast to float32 at the end, so the two implementations agree to rounding (see test/unit/golden.test.ts).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

REPO_ROOT = Path(__file__).resolve().parents[2]
FRONTEND_JSON = REPO_ROOT / "src" / "core" / "dsp" / "frontend.json"


@lru_cache(maxsize=1)
def params() -> dict:
    """The shared front-end parameters (sample rate, window, FFT, Mel, log offset)."""
    return json.loads(FRONTEND_JSON.read_text())


def frame_count(n_samples: int, p: dict | None = None) -> int:
    """Frames of an un-padded STFT: 1 + floor((n - n_fft) / hop), or 0 when shorter than one frame."""
    p = p or params()
    return 0 if n_samples < p["n_fft"] else 1 + (n_samples - p["n_fft"]) // p["hop_length"]


@lru_cache(maxsize=1)
def mel_basis() -> np.ndarray:
    p = params()
    return librosa.filters.mel(sr=p["sample_rate"], n_fft=p["n_fft"], n_mels=p["n_mels"], fmin=p["fmin"],
                               fmax=p["fmax"], htk=p["mel_scale"] == "htk", norm=p["mel_norm"], dtype=np.float64)


def log_mel(samples: np.ndarray) -> np.ndarray:
    """Log-Mel matrix [frames, n_mels] (float32) of mono samples already at params()['sample_rate']."""
    p = params()
    x = np.asarray(samples, dtype=np.float64)
    if frame_count(len(x), p) == 0:
        return np.zeros((0, p["n_mels"]), dtype=np.float32)
    # scipy's "hamming" via librosa is the periodic (DFT-even) window; the TypeScript side uses the same.
    spec = librosa.stft(x, n_fft=p["n_fft"], hop_length=p["hop_length"], win_length=p["win_length"],
                        window="hamming", center=False, dtype=np.complex128)
    power = np.abs(spec) ** p["power"]
    mel = mel_basis() @ power
    return np.log(mel + p["log_offset"]).T.astype(np.float32)


def load_audio(path: str | Path) -> np.ndarray:
    """Decode a file to mono float64 at the front end's rate (channel mean; soxr resampling when needed)."""
    samples, sr = sf.read(str(path), dtype="float64", always_2d=True)
    mono = samples.mean(axis=1)
    target = params()["sample_rate"]
    return mono if sr == target else librosa.resample(mono, orig_sr=sr, target_sr=target, res_type="soxr_hq")


def features(path: str | Path) -> np.ndarray:
    return log_mel(load_audio(path))
