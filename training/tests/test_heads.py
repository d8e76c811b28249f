"""Descriptor heads (issue 17): the model's extra outputs, their masked loss, the ONNX graph and card that carry them,
and a head that learns a synthetic descriptor but scores at chance on shuffled labels (the pipeline can fail)."""
import json

import numpy as np
import onnx
import pytest
import torch

import synthetic_corpus
from phonoscope_training import descriptors, export, metrics
from phonoscope_training.models import Ensemble, build, head_labels
from phonoscope_training.models.attention import pooled_embedding
from phonoscope_training.tiny_model import make_test_model
from phonoscope_training.train import load_model, masked_nll_sum, train

N_MELS = 64
HEADS = {"systolic_timing": ["early_systolic", "mid_systolic", "holosystolic"], "audible_here": ["no", "yes"]}
TINY = {"arch": "cnn", "channels": (4, 8, 8, 8)}


@pytest.mark.parametrize("cfg", [TINY, {"arch": "gru", "hidden": (8, 8)}])
def test_each_head_is_a_distribution_over_its_labels_next_to_the_grade(cfg):
    m = build({**cfg, "heads": HEADS}, N_MELS).eval()
    out = m(torch.randn(2, 1, 100, N_MELS) * 4 - 8)
    assert set(out) == {"log_probs", "attention", "descriptors"} and list(out["descriptors"]) == list(HEADS)
    for name, labels in HEADS.items():
        lp = out["descriptors"][name]
        assert lp.shape == (2, len(labels)) and torch.allclose(lp.exp().sum(1), torch.ones(2), atol=1e-5)
    assert "descriptors" not in build(cfg, N_MELS).eval()(torch.randn(2, 1, 100, N_MELS))
    assert head_labels(m) == HEADS and head_labels(build(cfg, N_MELS)) == {}


def test_the_heads_read_the_feature_map_where_the_attention_looks():
    feats = torch.zeros(1, 2, 3, 1)
    feats[0, 0, 2, 0], feats[0, 1] = 6.0, 1.0
    att = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.5, 0.5]]).reshape(1, 2, 3, 1)  # class maps, each sums to 1
    assert torch.allclose(pooled_embedding(feats, att), torch.tensor([[6 * 0.75, 1.0]]))
    m = build({**TINY, "heads": HEADS}, N_MELS).eval()
    x = torch.randn(2, 1, 64, N_MELS)
    emb = pooled_embedding(m.blocks(m.bn0(x.transpose(1, 3)).transpose(1, 3)), m(x)["attention"])
    want = torch.log_softmax(m.descriptors.linears["audible_here"](emb), dim=1)
    assert torch.allclose(m(x)["descriptors"]["audible_here"], want, atol=1e-5)


def test_masked_examples_add_nothing_to_a_heads_loss():
    lp = torch.log_softmax(torch.randn(4, 3, requires_grad=True), dim=1)
    t = torch.tensor([2, -1, 0, -1])
    assert torch.allclose(masked_nll_sum(lp, t), -(lp[0, 2] + lp[2, 0]))
    none = masked_nll_sum(lp, torch.full((4,), -1))
    none.backward()  # a batch without targets still has a graph (DDP needs every rank's backward)
    assert float(none) == 0.0


def test_onnx_graph_and_card_carry_every_head(tmp_path):
    path = make_test_model(tmp_path, "heads", heads=HEADS)
    names = [o.name for o in onnx.load(str(path)).graph.output]
    assert names == ["log_probs", "attention", "systolic_timing_log_probs", "audible_here_log_probs"]
    card = json.loads((tmp_path / "heads.json").read_text())
    assert [o["name"] for o in card["outputs"]] == names
    assert [o["shape"] for o in card["outputs"][2:]] == [["batch", 3], ["batch", 2]]
    assert [(h["name"], h["output"], h["labels"]) for h in card["heads"]] == [
        ("systolic_timing", "systolic_timing_log_probs", HEADS["systolic_timing"]),
        ("audible_here", "audible_here_log_probs", ["no", "yes"])]
    assert card["model"]["config"]["heads"] == HEADS
    m = build({**TINY, "heads": HEADS}, N_MELS)
    torch.manual_seed(0)
    assert export.parity(m, export.export_onnx(m, tmp_path / "p.onnx", N_MELS), N_MELS, lengths=(300, 64)) <= 1e-4
    # without heads the graph and card are what they were
    plain = make_test_model(tmp_path, "plain")
    assert [o.name for o in onnx.load(str(plain)).graph.output] == ["log_probs", "attention"]
    assert "heads" not in json.loads((tmp_path / "plain.json").read_text())


def test_a_card_names_only_descriptors_heads_and_labels(tmp_path):
    with pytest.raises(ValueError, match="systolic_timing"):
        export.card_heads({"systolic_timing": ["early_systolic", "sudden"]})
    with pytest.raises(ValueError, match="loudness"):
        make_test_model(tmp_path, heads={"loudness": ["low", "high"]})


def test_an_ensemble_averages_each_heads_probabilities():
    torch.manual_seed(0)
    members = [build({**TINY, "heads": HEADS}, N_MELS).eval() for _ in range(2)]
    x = torch.randn(2, 1, 80, N_MELS)
    out = Ensemble(members)(x)
    want = (members[0](x)["descriptors"]["audible_here"].exp() + members[1](x)["descriptors"]["audible_here"].exp()) / 2
    assert torch.allclose(out["descriptors"]["audible_here"].exp(), want, atol=1e-6)
    with pytest.raises(ValueError, match="same descriptor heads"):
        head_labels(Ensemble([members[0], build(TINY, N_MELS)]))


def _pitch_uar(tmp_path, monkeypatch, shuffle: bool) -> float:
    root = tmp_path / ("shuffled" if shuffle else "true")
    monkeypatch.setenv("PHONOSCOPE_DATA", str(root))
    recs, feats, pitch = synthetic_corpus.make(root / "circor", n_patients=200, shuffle_pitch=shuffle)
    cfg = {**TINY, "crop_frames": 64, "batch_size": 16, "epochs": 3, "lr": 3e-3, "precision": "fp32",
           "descriptor_weight": 1.0, "val_fold": 0}
    train(cfg, root / "run", recs, feats, progress=False)
    _, ckpt = load_model(root / "run" / "model.pt")
    assert ckpt["config"]["heads"] == {"systolic_pitch": ["low", "high"]}
    rows = [r for r in json.loads((root / "run" / "predictions.json").read_text()) if r["file"] in pitch]
    truth = np.array([["Low", "High"].index(pitch[r["file"]]) for r in rows])
    guess = np.array([np.argmax(r["descriptors"]["systolic_pitch"]) for r in rows])
    return metrics.uar(truth, guess)


def test_a_head_learns_its_descriptor_and_scores_at_chance_on_shuffled_labels(tmp_path, monkeypatch):
    monkeypatch.setenv("PHONOSCOPE_THREADS", "1")
    assert _pitch_uar(tmp_path, monkeypatch, shuffle=False) > 0.9
    assert abs(_pitch_uar(tmp_path, monkeypatch, shuffle=True) - 0.5) < 0.2


def test_real_labels_train_heads_that_export_with_parity(recordings, tmp_path):
    from phonoscope_training import data
    picked = []
    for fold in (1, 2):
        for c in data.CLASSES:
            picked += [r for r in recordings if r.fold == fold and r.label_patient == c][:3]
    picked += [r for r in recordings if r.fold == 0 and r.label_patient != "normal"][:3]
    cfg = {**TINY, "val_fold": 0, "max_steps": 2, "batch_size": 6, "epochs": 1, "descriptor_weight": 0.5}
    with pytest.raises(ValueError, match="no descriptor head"):  # too few patients to choose heads by
        train(cfg, tmp_path / "few", recs=picked, progress=False)
    heads = descriptors.heads_for(recordings)  # as cv chooses them: on the whole labelled corpus
    assert list(heads) == ["systolic_timing", "systolic_shape", "systolic_pitch", "systolic_quality", "audible_here"]
    train({**cfg, "heads": heads}, tmp_path / "run", recs=picked, progress=False)
    _, ckpt = load_model(tmp_path / "run" / "model.pt")
    assert ckpt["config"]["heads"] == heads
    rows = json.loads((tmp_path / "run" / "predictions.json").read_text())
    assert all(len(r["descriptors"][name]) == len(labels) for r in rows for name, labels in heads.items())
    card = export.export([tmp_path / "run" / "model.pt"], "described", tmp_path)
    assert card["onnx"]["parity_max_abs_diff_vs_pytorch"] <= 1e-4  # every head's output among the compared
    assert {h["name"]: h["labels"] for h in card["heads"]} == heads
