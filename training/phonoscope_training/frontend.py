"""The log-Mel front end, librosa-based, reading the same parameters as the TypeScript side.

The parameters live once in resources/frontend.json (beside neither implementation: the TypeScript front end reads the
same file, and the golden vectors under test/fixtures/golden prove that both produce the same matrix). A model
carries the parameters it was trained with in its checkpoint and card; the functions here take such a set, the file's
by default. Everything is computed in float64 and cast to float32 at the end, so the two implementations agree to
rounding (see test/unit/golden.test.ts).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

REPO_ROOT = Path(__file__).resolve().parents[2]
FRONTEND_JSON = REPO_ROOT / "resources" / "frontend.json"

# What this implementation computes (as src/core/dsp/params.ts checkFrontend); the numeric fields may vary.
SUPPORTED = {"window": "hamming_periodic", "center": False, "mel_scale": "slaney", "mel_norm": "slaney", "power": 2,
             "log": "natural"}
NUMERIC = ("sample_rate", "win_length", "n_fft", "hop_length", "n_mels", "fmin", "fmax", "log_offset")


def check(p: dict, subject: str) -> dict:
    """The parameters, if this front end computes them (exactly the known fields), else ValueError naming `subject`."""
    unknown = set(p) - set(SUPPORTED) - set(NUMERIC)
    missing = (set(SUPPORTED) | set(NUMERIC)) - set(p)
    if unknown or missing:
        raise ValueError(f"{subject}: front end fields {sorted(unknown)} unknown, {sorted(missing)} missing")
    for key, want in SUPPORTED.items():
        if p[key] != want:
            raise ValueError(f"{subject}: front end {key}={p[key]!r} is not supported (want {want!r})")
    n_fft = p["n_fft"]
    if n_fft <= 0 or n_fft & (n_fft - 1) or p["win_length"] != n_fft or p["hop_length"] <= 0 or p["n_mels"] <= 0:
        raise ValueError(f"{subject}: front end needs a power-of-two n_fft equal to win_length, and positive hop "
                         "and n_mels")
    if not 0 <= p["fmin"] < p["fmax"] <= p["sample_rate"] / 2:
        raise ValueError(f"{subject}: front end needs 0 <= fmin < fmax <= Nyquist")
    return p


def load(path: Path = FRONTEND_JSON) -> dict:
    """The front-end parameters of a JSON file (the shared default: resources/frontend.json), checked."""
    return check(json.loads(Path(path).read_text()), str(path))


@lru_cache(maxsize=1)
def params() -> dict:
    """The shared default parameters (sample rate, window, FFT, Mel, log offset): what training computes."""
    return load()


def frame_count(n_samples: int, p: dict | None = None) -> int:
    """Frames of an un-padded STFT: 1 + floor((n - n_fft) / hop), or 0 when shorter than one frame."""
    p = p or params()
    return 0 if n_samples < p["n_fft"] else 1 + (n_samples - p["n_fft"]) // p["hop_length"]


def mel_basis(p: dict | None = None) -> np.ndarray:
    return _mel_basis(json.dumps(p or params(), sort_keys=True))


@lru_cache(maxsize=4)
def _mel_basis(key: str) -> np.ndarray:
    p = json.loads(key)
    return librosa.filters.mel(sr=p["sample_rate"], n_fft=p["n_fft"], n_mels=p["n_mels"], fmin=p["fmin"],
                               fmax=p["fmax"], htk=p["mel_scale"] == "htk", norm=p["mel_norm"], dtype=np.float64)


def log_mel(samples: np.ndarray, p: dict | None = None) -> np.ndarray:
    """Log-Mel matrix [frames, n_mels] (float32) of mono samples already at the parameters' sample rate."""
    p = p or params()
    x = np.asarray(samples, dtype=np.float64)
    if frame_count(len(x), p) == 0:
        return np.zeros((0, p["n_mels"]), dtype=np.float32)
    # scipy's "hamming" via librosa is the periodic (DFT-even) window; the TypeScript side uses the same.
    spec = librosa.stft(x, n_fft=p["n_fft"], hop_length=p["hop_length"], win_length=p["win_length"],
                        window="hamming", center=False, dtype=np.complex128)
    power = np.abs(spec) ** p["power"]
    mel = mel_basis(p) @ power
    return np.log(mel + p["log_offset"]).T.astype(np.float32)


def load_audio(path: str | Path, p: dict | None = None) -> np.ndarray:
    """Decode a file to mono float64 at the front end's rate (channel mean; soxr resampling when needed)."""
    samples, sr = sf.read(str(path), dtype="float64", always_2d=True)
    mono = samples.mean(axis=1)
    target = (p or params())["sample_rate"]
    return mono if sr == target else librosa.resample(mono, orig_sr=sr, target_sr=target, res_type="soxr_hq")


def features(path: str | Path, p: dict | None = None) -> np.ndarray:
    return log_mel(load_audio(path, p), p)


def of_card(card: dict, subject: str) -> dict:
    """A model card's front end, checked. Cards exported before window_frames moved to the card's windowing alone
    also carry it in the front end: it must then agree with the windowing, and is dropped."""
    p = dict(card["frontend"])
    legacy = p.pop("window_frames", None)
    if legacy is not None and legacy != card["windowing"]["window_frames"]:
        raise ValueError(f"{subject}: frontend.window_frames={legacy} is not windowing.window_frames="
                         f"{card['windowing']['window_frames']}")
    return check(p, subject)
