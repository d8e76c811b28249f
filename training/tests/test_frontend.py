"""The Python front end against the shared golden vectors and its own documented rules."""
import json

import numpy as np
import pytest

from phonoscope_training import frontend
from phonoscope_training.golden import OUT as GOLDEN


def test_frame_count_rule():
    assert frontend.frame_count(255) == 0
    assert frontend.frame_count(256) == 1
    assert frontend.frame_count(256 + 127) == 1
    assert frontend.frame_count(256 + 128) == 2
    assert frontend.frame_count(256 + 935 * 128) == 936  # one model window: 119936 samples, 29.98 s
    assert frontend.frame_count(256 + 935 * 128 - 1) == 935


def test_silence_is_the_log_of_the_offset():
    m = frontend.log_mel(np.zeros(4000))
    assert m.shape == (30, 64)
    np.testing.assert_allclose(m, np.log(frontend.params()["log_offset"]), rtol=0, atol=1e-6)


def test_shorter_than_one_frame_gives_no_frames():
    assert frontend.log_mel(np.ones(100)).shape == (0, 64)


@pytest.mark.parametrize("case", json.loads((GOLDEN / "index.json").read_text())["cases"], ids=lambda c: c["file"])
def test_golden_vectors_are_reproduced(case):
    want = np.fromfile(GOLDEN / case["expected"], dtype="<f4").reshape(case["frames"], case["n_mels"])
    np.testing.assert_array_equal(frontend.features(GOLDEN / case["file"]), want)


def test_mel_filterbank_is_librosa_slaney():
    import librosa

    basis = frontend.mel_basis()
    assert basis.shape == (64, 129)
    np.testing.assert_allclose(basis, librosa.filters.mel(sr=4000, n_fft=256, n_mels=64, fmin=0, fmax=2000))
