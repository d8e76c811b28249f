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


def test_another_geometry_is_computed_from_its_own_parameters():
    import librosa

    p = {**frontend.params(), "n_mels": 40, "fmax": 1000, "hop_length": 100}
    np.testing.assert_allclose(frontend.mel_basis(p), librosa.filters.mel(sr=4000, n_fft=256, n_mels=40, fmax=1000))
    tone = 0.5 * np.sin(2 * np.pi * 700 * np.arange(4000) / 4000)
    m = frontend.log_mel(tone, p)
    assert m.shape == (1 + (4000 - 256) // 100, 40)
    centres = librosa.mel_frequencies(42, fmin=0, fmax=1000)[1:-1]
    assert m.mean(axis=0).argmax() == np.abs(centres - 700).argmin() == 28
    assert frontend.log_mel(tone).shape == (30, 64)  # the default is untouched


@pytest.mark.parametrize("change,problem", [({"window": "hann"}, "window='hann' is not supported"),
                                            ({"n_fft": 200, "win_length": 200}, "power-of-two n_fft"),
                                            ({"fmax": 2500}, "Nyquist"),
                                            ({"window_frames": 936}, r"\['window_frames'\] unknown")])
def test_a_front_end_this_code_does_not_compute_is_refused(change, problem):
    with pytest.raises(ValueError, match=problem):
        frontend.check({**frontend.params(), **change}, "test")


def test_the_shared_parameters_file_is_checked_on_load(tmp_path):
    path = tmp_path / "frontend.json"
    path.write_text(json.dumps({**frontend.params(), "n_mels": 0}))
    with pytest.raises(ValueError, match=f"{path}: .*positive hop and n_mels"):
        frontend.load(path)


def test_a_cards_legacy_window_frames_must_agree_with_its_windowing():
    card = {"frontend": {**frontend.params(), "window_frames": 936}, "windowing": {"window_frames": 936}}
    assert frontend.of_card(card, "card") == frontend.params()
    card["windowing"]["window_frames"] = 500
    with pytest.raises(ValueError, match="frontend.window_frames=936 is not windowing.window_frames=500"):
        frontend.of_card(card, "card")
