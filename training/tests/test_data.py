import numpy as np
import pytest

from phonoscope_training import data
from phonoscope_training.train import DEFAULTS, epoch_indices, train


def test_folds_never_leak_a_subject_group(recordings):
    assert {r.label_patient for r in recordings} == set(data.CLASSES)  # unknown excluded
    for k in range(5):
        train, inner, val = data.split(recordings, k, inner_fold=(k + 1) % 5)
        groups = [{r.subject_group for r in part} for part in (train, inner, val)]
        assert not groups[0] & groups[1] and not groups[0] & groups[2] and not groups[1] & groups[2]
        assert len(train) + len(inner) + len(val) == len(recordings)
        assert {r.fold for r in val} == {k}
    # every subject_group sits in exactly one fold in the manifest itself
    fold_of = {}
    for r in data.read_manifest(include_unknown=True):
        assert fold_of.setdefault(r.subject_group, r.fold) == r.fold


def test_manifest_counts(recordings):
    assert len(recordings) == 1802 - 130
    assert len(data.read_manifest(include_unknown=True)) == 1802


def test_leak_check_catches_a_leak(recordings):
    a = [r for r in recordings if r.fold == 0]
    b = [r for r in recordings if r.fold == 1] + a[:1]
    with pytest.raises(AssertionError):
        data.check_no_group_leak(a, b)


def test_targets():
    r = data.Recording("f", None, "1", "1", "AV", "mild", "murmur_not_audible", 0)
    assert r.target("patient") == 1 and r.target("recording") == 0


def test_wrap_pad_and_crop():
    x = np.arange(5)[:, None] * np.ones((1, 2))
    assert data.wrap_pad(x, 12)[:, 0].tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]
    assert data.wrap_pad(x, 3)[:, 0].tolist() == [0, 1, 2]
    rng = np.random.default_rng(0)
    long = np.arange(1000)[:, None]
    c = data.random_crop(long, 250, rng)
    assert c.shape == (250, 1) and np.all(np.diff(c[:, 0]) == 1)
    assert data.random_crop(x, 8, rng)[:, 0].tolist() == [0, 1, 2, 3, 4, 0, 1, 2]


def test_inference_windows():
    def windows(n):
        return data.inference_windows(n, **data.windowing_of(DEFAULTS))

    assert data.windowing_of(DEFAULTS) == {"window_frames": 936, "hop_frames": 468, "min_frames": 64}
    assert windows(500) == [(0, 500, 500)]
    assert windows(936) == [(0, 936, 936)]
    assert windows(40) == [(0, 40, 64)]  # wrap-padded to min_frames
    assert windows(1000) == [(0, 936, 936), (64, 1000, 936)]  # last aligned to the end
    assert windows(1404) == [(0, 936, 936), (468, 1404, 936)]  # grid already ends there
    assert windows(2000) == [(0, 936, 936), (468, 1404, 936), (936, 1872, 936), (1064, 2000, 936)]


@pytest.mark.parametrize("change,problem", [({"window_frames": 0}, "window_frames=0"),
                                            ({"hop_frames": 1.5}, "hop_frames=1.5"),
                                            ({"min_frames": 1000}, "min_frames exceeds window_frames")])
def test_a_training_config_with_unusable_windowing_is_refused(change, problem, tmp_path):
    with pytest.raises(ValueError, match=problem):
        train({**DEFAULTS, **change}, tmp_path, recs=[], feats={}, progress=False)


def test_balanced_epoch():
    targets = np.array([0] * 90 + [1] * 20 + [2] * 10)
    idx = epoch_indices(targets, True, np.random.default_rng(0))
    assert len(idx) == 120
    counts = np.bincount(targets[idx])
    assert counts.tolist() == [40, 40, 40]
    assert len(set(idx[targets[idx] == 0])) == 40  # majority: no repeats
    assert set(idx[targets[idx] == 2]) == set(range(110, 120))  # minority: every recording present
    plain = epoch_indices(targets, False, np.random.default_rng(0))
    assert sorted(plain) == list(range(120))


def test_data_root_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("PHONOSCOPE_DATA", str(tmp_path))
    assert data.circor_root() == tmp_path / "circor"
