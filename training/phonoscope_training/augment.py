"""Training-time augmentation of log-Mel crops (off by default; `--specaug` turns it on).

SpecAugment (Park et al. 2019) without time warping: two time masks of up to 10 % of the crop and two frequency masks
of up to 8 Mel bins each, filled with the crop's mean log power. Loudness is left alone: the classes grade how loud a
murmur is, so random gain would blur the very cue the model needs.
"""
from __future__ import annotations

import numpy as np

TIME_MASKS, MAX_TIME_FRACTION = 2, 0.10
FREQ_MASKS, MAX_FREQ_BINS = 2, 8


def spec_augment(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """crop [frames, mels] -> a masked copy."""
    out = crop.copy()
    fill = float(crop.mean())
    frames, mels = out.shape
    for _ in range(TIME_MASKS):
        width = int(rng.integers(0, max(1, int(frames * MAX_TIME_FRACTION)) + 1))
        start = int(rng.integers(0, frames - width + 1))
        out[start:start + width] = fill
    for _ in range(FREQ_MASKS):
        width = int(rng.integers(0, MAX_FREQ_BINS + 1))
        start = int(rng.integers(0, mels - width + 1))
        out[:, start:start + width] = fill
    return out
