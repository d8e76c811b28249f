"""CirCor manifest reading, labels, fold splits by subject_group, and the on-disk log-Mel feature cache.

The data location comes from ONE setting: the environment variable PHONOSCOPE_DATA (default: <repo>/../shared/data).
The CirCor corpus is $PHONOSCOPE_DATA/circor (see its README for the label rules and the folds).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import frontend

CLASSES = ["normal", "mild", "moderate_severe"]
CLASS_INDEX = {c: i for i, c in enumerate(CLASSES)}
N_FOLDS = 5
TRAINING_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = TRAINING_ROOT / "cache"


def data_root() -> Path:
    """$PHONOSCOPE_DATA, or <repo>/../shared/data."""
    env = os.environ.get("PHONOSCOPE_DATA")
    return Path(env) if env else frontend.REPO_ROOT.parent / "shared" / "data"


def circor_root() -> Path:
    return data_root() / "circor"


@dataclass(frozen=True)
class Recording:
    file: str
    path: Path  # absolute
    patient_id: str
    subject_group: str
    location: str
    label_patient: str  # normal | mild | moderate_severe | unknown
    label_recording: str  # as label_patient, or murmur_not_audible
    fold: int

    def target(self, label: str) -> int:
        """Class index of the training target.

        label="patient": label_patient. label="recording": label_recording with murmur_not_audible -> normal.
        """
        if label == "patient":
            return CLASS_INDEX[self.label_patient]
        if label == "recording":
            lab = "normal" if self.label_recording == "murmur_not_audible" else self.label_recording
            return CLASS_INDEX[lab]
        raise ValueError(f"unknown label kind {label!r}")


def read_manifest(root: Path | None = None, include_unknown: bool = False) -> list[Recording]:
    """All recordings of manifest.csv (patients with label_patient == unknown left out unless asked for)."""
    root = Path(root) if root else circor_root()
    out = []
    with open(root / "manifest.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["label_patient"] == "unknown" and not include_unknown:
                continue
            out.append(Recording(file=row["file"], path=root / row["path"], patient_id=row["patient_id"],
                                 subject_group=row["subject_group"], location=row["location"],
                                 label_patient=row["label_patient"], label_recording=row["label_recording"],
                                 fold=int(row["fold"])))
    return out


def split(recs: list[Recording], val_fold: int, inner_fold: int | None = None
          ) -> tuple[list[Recording], list[Recording], list[Recording]]:
    """(train, inner_val, val) by the manifest's `fold` column (which is assigned per subject_group).

    val = fold `val_fold` (the reported fold); inner_val = fold `inner_fold` (one of the other four, used only for
    model selection) or empty; train = the rest. Raises if a subject_group would straddle two parts.
    """
    if inner_fold is not None and inner_fold == val_fold:
        raise ValueError("inner fold must differ from the validation fold")
    val = [r for r in recs if r.fold == val_fold]
    inner = [r for r in recs if inner_fold is not None and r.fold == inner_fold]
    train = [r for r in recs if r.fold != val_fold and (inner_fold is None or r.fold != inner_fold)]
    check_no_group_leak(train, inner, val)
    return train, inner, val


def check_no_group_leak(*parts: list[Recording]) -> None:
    seen: dict[str, int] = {}
    for i, part in enumerate(parts):
        for r in part:
            if seen.setdefault(r.subject_group, i) != i:
                raise AssertionError(f"subject_group {r.subject_group} in two parts of the split")


# --------------------------------------------------------------------------------------------- feature cache
def frontend_key() -> str:
    """Short hash of the front-end parameters: a change of any parameter invalidates the cache."""
    blob = json.dumps(frontend.params(), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cached_features(path: Path, cache_dir: Path | None = None) -> np.ndarray:
    """log-Mel [frames, n_mels] float32 of an audio file (the default front end's), cached under cache_dir/<frontend key>/<file sha256>.npy."""
    cache_dir = Path(cache_dir) if cache_dir else CACHE_DIR
    d = cache_dir / f"logmel-{frontend_key()}"
    target = d / f"{file_sha256(path)}.npy"
    if target.exists():
        return np.load(target)
    feats = frontend.features(path)
    d.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}.npy")
    np.save(tmp, feats)
    os.replace(tmp, target)
    return feats


def load_features(recs: list[Recording], cache_dir: Path | None = None, progress: bool = True
                  ) -> dict[str, np.ndarray]:
    """{file: log-Mel} for the recordings, from the cache (computing what is missing)."""
    from tqdm import tqdm
    return {r.file: cached_features(r.path, cache_dir)
            for r in tqdm(recs, desc="features", disable=not progress, leave=False)}


# --------------------------------------------------------------------------------------------- cropping
def wrap_pad(x: np.ndarray, length: int) -> np.ndarray:
    """Tile x (frames first) until it has `length` frames, then cut to exactly `length`."""
    n = x.shape[0]
    if n >= length:
        return x[:length]
    if n == 0:
        raise ValueError("cannot wrap-pad an empty recording")
    reps = -(-length // n)
    return np.concatenate([x] * reps, axis=0)[:length]


def random_crop(x: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """A random `length`-frame crop; a shorter recording is wrap-padded (tiled) to `length`."""
    n = x.shape[0]
    if n <= length:
        return wrap_pad(x, length)
    start = int(rng.integers(0, n - length + 1))
    return x[start:start + length]


WINDOWING_KEYS = ("window_frames", "hop_frames", "min_frames")


def windowing_of(cfg: dict) -> dict:
    """A training config's (or a card's "windowing") frame counts, as inference_windows takes them."""
    return {k: cfg[k] for k in WINDOWING_KEYS}


def check_windowing(w: dict, subject: str) -> dict:
    """The windowing's frame counts, if usable (as src/core/model/card.ts checks a card's), else ValueError."""
    for k in WINDOWING_KEYS:
        if not (isinstance(w[k], int) and w[k] > 0):
            raise ValueError(f"{subject}: {k}={w[k]!r} must be a positive integer")
    if w["min_frames"] > w["window_frames"]:
        raise ValueError(f"{subject}: min_frames exceeds window_frames")
    return w


def inference_windows(n_frames: int, window_frames: int, hop_frames: int, min_frames: int
                      ) -> list[tuple[int, int, int]]:
    """The inference windowing of the model card, as (start, end, padded_length) frame ranges.

    n <= window_frames: one window, the whole recording at its own length (padded_length = max(n, min_frames):
    wrap-pad only below min_frames). n > window_frames: windows of that many frames every hop_frames, plus a last window aligned
    to end at the last frame (unless the hop grid already ends there).
    """
    if n_frames <= 0:
        raise ValueError("empty recording")
    if n_frames <= window_frames:
        return [(0, n_frames, max(n_frames, min_frames))]
    starts = list(range(0, n_frames - window_frames + 1, hop_frames))
    if starts[-1] + window_frames < n_frames:
        starts.append(n_frames - window_frames)
    return [(s, s + window_frames, window_frames) for s in starts]
