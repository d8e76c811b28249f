"""Training-time augmentation of log-Mel crops (off by default; `--specaug`, `--stretch` and `--mixup` turn it on).

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


def mixup(batch: np.ndarray, targets: np.ndarray, rng: np.random.Generator, alpha: float, n_classes: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """Mixup (Zhang et al. 2018) of log-Mel crops [B, ..., frames, mels] with a shuffled copy of the batch.

    The sounds are mixed where sound adds, in Mel power: log(l e^a + (1 - l) e^b), l ~ Beta(alpha, alpha) per
    example, so a murmur mixed with a normal recording is a softer murmur over normal heart sounds, not the average
    of two decibel images. Returns (mixed batch, soft targets [B, n_classes] = l y_a + (1 - l) y_b).
    """
    lam = np.clip(rng.beta(alpha, alpha, size=len(batch)), 1e-6, 1 - 1e-6)
    partner = rng.permutation(len(batch))
    shape = (-1,) + (1,) * (batch.ndim - 1)
    mixed = np.logaddexp(np.log(lam).reshape(shape) + batch, np.log1p(-lam).reshape(shape) + batch[partner])
    onehot = np.eye(n_classes)[targets]
    soft = lam[:, None] * onehot + (1 - lam[:, None]) * onehot[partner]
    return mixed.astype(batch.dtype), soft.astype(np.float32)


def time_stretch(x: np.ndarray, length: int, max_stretch: float, rng: np.random.Generator) -> np.ndarray:
    """A random `length`-frame crop of x [frames, mels] played faster or slower by a factor drawn log-uniformly
    from [1 / (1 + max_stretch), 1 + max_stretch]: the heart rate changes, the spectrum does not (frames are
    linearly interpolated in time; frequency bins are untouched). Short input is wrap-padded first, as for crops.
    """
    factor = float(np.exp(rng.uniform(-np.log1p(max_stretch), np.log1p(max_stretch))))
    span = length * factor  # source frames that become `length` output frames
    src = x if len(x) >= span + 1 else np.concatenate([x] * int(np.ceil((span + 1) / len(x))), axis=0)
    start = rng.uniform(0, len(src) - span - 1) if len(src) > span + 1 else 0.0
    pos = start + np.arange(length) * factor
    i = np.minimum(pos.astype(np.int64), len(src) - 2)
    w = (pos - i)[:, None]
    return ((1 - w) * src[i] + w * src[i + 1]).astype(x.dtype)
