import pytest
import torch

from phonoscope_training import frontend
from phonoscope_training.models import attention_shape, build

N_MELS = frontend.params()["n_mels"]


def _randomise_attention(model):
    torch.manual_seed(1)
    for p in model.head.att.parameters():
        torch.nn.init.normal_(p, std=0.5)


@pytest.mark.parametrize("frames,t_out", [(936, 58), (250, 15), (64, 4), (17, 1)])
def test_cnn_shapes(frames, t_out):
    m = build({"arch": "cnn"}, N_MELS).eval()
    out = m(torch.randn(2, 1, frames, N_MELS))
    assert out["log_probs"].shape == (2, 3)
    assert out["attention"].shape == (2, 3, t_out, 4)


@pytest.mark.parametrize("n_mels,f_out", [(64, 4), (40, 2), (32, 2)])
def test_the_attention_map_follows_the_front_ends_mel_bins(n_mels, f_out):
    cfg = {"arch": "cnn", "channels": (4, 8, 8, 8)}
    out = build(cfg, n_mels).eval()(torch.randn(1, 1, 100, n_mels))
    assert out["attention"].shape == (1, 3, 6, f_out)
    assert attention_shape(cfg, n_mels) == ("floor(time / 16)", f_out)
    assert attention_shape({"arch": "gru"}, n_mels) == ("time", 1)


def test_cnn_size_about_1m_params():
    n = sum(p.numel() for p in build({"arch": "cnn"}, N_MELS).parameters())
    assert 0.9e6 < n < 1.1e6


@pytest.mark.parametrize("cfg", [{"arch": "cnn"}, {"arch": "cnn", "activation": "softmax"},
                                 {"arch": "cnn", "pooling": "avg"}])
def test_cnn_attention_normalised_and_log_probs(cfg):
    m = build(cfg, N_MELS).eval()
    if m.head.att is not None:
        _randomise_attention(m)
    out = m(torch.randn(3, 1, 300, N_MELS) * 4 - 8)
    att = out["attention"]
    assert torch.allclose(att.sum(dim=(2, 3)), torch.ones(3, 3), atol=1e-5)
    assert (att >= 0).all()
    assert torch.allclose(out["log_probs"].exp().sum(1), torch.ones(3), atol=1e-5)
    if cfg.get("pooling") != "avg":
        # with non-zero attention weights the map is not uniform
        assert att.std() > 0
        # clamping to [0.1, 0.9] bounds the ratio between the largest and smallest weight by 9
        ratio = att.amax(dim=(2, 3)) / att.amin(dim=(2, 3))
        assert (ratio <= 9.0 + 1e-4).all()
    else:
        assert torch.allclose(att, torch.full_like(att, 1 / (18 * 4)))


def test_attention_starts_uniform():
    m = build({"arch": "cnn"}, N_MELS).eval()
    att = m(torch.randn(1, 1, 160, N_MELS))["attention"]
    assert torch.allclose(att, torch.full_like(att, 1 / (10 * 4)))


def test_pooled_output_is_attention_weighted_sum():
    m = build({"arch": "cnn"}, N_MELS).eval()
    _randomise_attention(m)
    x = torch.randn(2, 1, 128, N_MELS)
    feats = m.blocks(m.bn0(x.transpose(1, 3)).transpose(1, 3))
    cla = m.head.cla(feats)
    att = m(x)["attention"]
    expected = torch.log_softmax((cla * att).sum(dim=(2, 3)), dim=1)
    assert torch.allclose(m(x)["log_probs"], expected, atol=1e-5)


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_rnn_shapes_and_normalisation(arch):
    m = build({"arch": arch, "hidden": (16, 32, 16)}, N_MELS).eval()
    _randomise_attention(m)
    out = m(torch.randn(2, 1, 50, N_MELS))
    assert out["log_probs"].shape == (2, 3)
    assert out["attention"].shape == (2, 3, 50, 1)
    assert torch.allclose(out["attention"].sum(dim=(2, 3)), torch.ones(2, 3), atol=1e-5)


def test_rnn_paper_sizes():
    m = build({"arch": "lstm"}, N_MELS)
    assert [r.hidden_size for r in m.rnns] == [256, 1024, 256]
    assert m.rnns[0].input_size == N_MELS


def test_input_normalisation_inside_model():
    """A constant offset of the log-Mel input is absorbed by bn0 (training mode statistics)."""
    m = build({"arch": "cnn", "dropout": 0.0}, N_MELS).train()
    x = torch.randn(4, 1, 64, N_MELS)
    a = m(x)["log_probs"]
    b = m(x + 10.0)["log_probs"]
    assert torch.allclose(a, b, atol=1e-4)


def test_spec_augment_masks_time_and_frequency_and_keeps_the_input():
    import numpy as np
    from phonoscope_training.augment import spec_augment
    crop = np.random.default_rng(0).normal(size=(250, 64)).astype(np.float32)
    masked_any = False
    for seed in range(20):
        out = spec_augment(crop, np.random.default_rng(seed))
        assert out.shape == crop.shape and out.dtype == crop.dtype
        changed = out != crop
        masked_any |= bool(changed.any())
        # masked cells hold the crop's mean; masks cover whole rows (time) or whole columns (frequency)
        assert np.allclose(out[changed], crop.mean())
        assert changed.sum(axis=1).max() <= 64 and changed.mean() < 0.5
    assert masked_any
    assert crop.std() > 0.9  # the input itself is untouched


def test_mixup_adds_power_and_mixes_targets():
    import numpy as np
    from phonoscope_training.augment import mixup
    rng = np.random.default_rng(0)
    batch = rng.normal(-8, 3, size=(16, 1, 50, 64)).astype(np.float32)
    targets = np.arange(16) % 3
    mixed, soft = mixup(batch, targets, np.random.default_rng(1), alpha=0.4, n_classes=3)
    assert mixed.shape == batch.shape and mixed.dtype == batch.dtype
    assert np.allclose(soft.sum(1), 1, atol=1e-6) and (soft >= 0).all()
    assert (soft[np.arange(16), targets] > 0).all()  # each example keeps a share of its own class
    # log(l e^a + (1 - l) e^b) lies between a and b, so within the batch's range at every cell
    assert (mixed >= batch.min(0) - 1e-4).all() and (mixed <= batch.max(0) + 1e-4).all()
    assert not np.allclose(mixed, batch)
    # a sound mixed with itself is itself: power is added with weights summing to one
    same, _ = mixup(np.repeat(batch[:1], 16, 0), targets, np.random.default_rng(2), alpha=0.4, n_classes=3)
    assert np.allclose(same, batch[:1], atol=1e-4)
    # mixing in power, not in decibels: a loud and a silent crop at l = 1/2 is the loud one 3 dB (ln 2) down
    loud, quiet = np.zeros((1, 1, 4, 64)), np.full((1, 1, 4, 64), -23.0)
    pair = np.concatenate([loud, quiet]).astype(np.float32)
    for seed in range(50):
        m, s = mixup(pair, np.array([2, 0]), np.random.default_rng(seed), alpha=0.4, n_classes=3)
        lam0 = float(s[0, 2])  # 1 where the loud crop drew itself as its partner
        assert np.allclose(m[0], np.log(lam0 + (1 - lam0) * np.exp(-23.0)), atol=1e-4)


def test_time_stretch_changes_the_rate_not_the_spectrum():
    import numpy as np
    from phonoscope_training.augment import time_stretch
    frames = np.arange(400, dtype=np.float32)
    x = np.repeat(frames[:, None], 64, axis=1) + np.arange(64, dtype=np.float32)  # value = frame + bin
    factors = []
    for seed in range(30):
        out = time_stretch(x, 100, 0.15, np.random.default_rng(seed))
        assert out.shape == (100, 64) and out.dtype == x.dtype
        steps = np.diff(out[:, 0])
        assert np.allclose(steps, steps[0], atol=1e-3)  # a uniform rate...
        factors.append(steps[0])
        assert np.allclose(out - out[:, :1], np.arange(64), atol=1e-3)  # ...and every bin keeps its place
    assert min(factors) >= 1 / 1.15 - 1e-3 and max(factors) <= 1.15 + 1e-3
    assert min(factors) < 0.95 and max(factors) > 1.05
    short = time_stretch(x[:30], 100, 0.15, np.random.default_rng(0))  # shorter than the crop: tiled first
    assert short.shape == (100, 64) and np.isfinite(short).all()
