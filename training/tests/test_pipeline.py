"""End to end on a handful of real recordings: 2 training steps, evaluation, ONNX export, parity, model card."""
import hashlib
import json

import numpy as np
import onnx
import pytest
import torch

from phonoscope_training import data, export, frontend
from phonoscope_training.train import load_model, train


@pytest.fixture(scope="module")
def picked(recordings):
    out = []
    for fold in (1, 2):
        for c in data.CLASSES:
            out += [r for r in recordings if r.fold == fold and r.label_patient == c][:2]
    return out + [r for r in recordings if r.fold == 0][:4]


def _tiny_train(picked, out, **cfg):
    return train({"val_fold": 0, "max_steps": 2, "batch_size": 4, "epochs": 1, **cfg}, out, recs=picked,
                 progress=False)


@pytest.fixture(scope="module")
def tiny_run(picked, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "fold0"
    return out, _tiny_train(picked, out)


def test_tiny_training_run(tiny_run):
    out, res = tiny_run
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events][0] == "start" and events[-1]["event"] == "end"
    epochs = [e for e in events if e["event"] == "epoch"]
    assert epochs and epochs[-1]["steps"] == 2 and np.isfinite(epochs[-1]["loss"])
    rows = json.loads((out / "predictions.json").read_text())
    assert len(rows) == 4 and all(r["fold"] == 0 for r in rows)
    assert all(abs(sum(r["probs"]) - 1) < 1e-5 for r in rows)
    model, ckpt = load_model(out / "model.pt")
    assert ckpt["trained_folds"] == [1, 2]
    # the two steps changed the attention branch away from its zero initialisation
    assert model.head.att.weight.abs().sum() > 0


def test_export_parity_and_card(tiny_run, tmp_path):
    out, _ = tiny_run
    card = export.export([out / "model.pt"], "tiny", tmp_path, aggregation="max_murmur")
    path = tmp_path / "tiny.onnx"
    m = onnx.load(str(path))
    assert m.opset_import[0].version >= 17
    assert [i.name for i in m.graph.input] == ["log_mel"]
    assert [o.name for o in m.graph.output] == ["log_probs", "attention"]
    dims = m.graph.input[0].type.tensor_type.shape.dim
    assert dims[2].dim_param and dims[3].dim_value == 64  # dynamic time, the front end's 64 Mel bins
    assert card["onnx"]["parity_max_abs_diff_vs_pytorch"] <= 1e-4
    model, ckpt = load_model(out / "model.pt")
    assert ckpt["frontend"] == frontend.params() == card["frontend"]
    assert export.parity(model, path, 64, lengths=(936, 123, 64)) <= 1e-4
    saved = json.loads((tmp_path / "tiny.json").read_text())
    assert saved["windowing"] == {"window_frames": 936, "hop_frames": 468, "min_frames": 64, "short_input": "as_is",
                                  "pad": "wrap", "last_window": "align_end", "recording_rule": "mean"}
    assert saved["aggregation"] == "max_murmur" and saved["classes"] == data.CLASSES
    assert saved["frontend"]["n_mels"] == 64 and saved["onnx"]["sha256"] == export.sha256(path)
    # the ONNX graph runs on raw log-Mel of a real recording
    sess = export.session(path)
    feats = data.cached_features(data.read_manifest()[0].path)[:936][None, None]
    lp, att = sess.run(None, {"log_mel": feats.astype(np.float32)})
    assert np.allclose(np.exp(lp).sum(1), 1, atol=1e-5)
    assert np.allclose(att.sum(axis=(2, 3)), 1, atol=1e-4)
    with torch.no_grad():
        ref = model(torch.from_numpy(feats))["log_probs"].numpy()
    assert np.abs(ref - lp).max() <= 1e-4


def test_ensemble_export_is_the_mean_of_its_members(tiny_run, picked, tmp_path):
    first = tiny_run[0] / "model.pt"
    _tiny_train(picked, tmp_path / "seed1", seed=1, mixup=0.4, ema=0.5)  # the options train and export too
    second = tmp_path / "seed1" / "model.pt"
    card = export.export([first, second], "duo", tmp_path, aggregation="mean")
    assert card["model"]["n_params"] == 2 * load_model(first)[1]["n_params"]
    assert [m["seed"] for m in card["model"]["ensemble"]["members"]] == [0, 1]
    assert card["onnx"]["parity_max_abs_diff_vs_pytorch"] <= 1e-4
    x = np.random.default_rng(0).normal(-8, 4, size=(2, 1, 300, 64)).astype(np.float32)
    lp, att = export.session(tmp_path / "duo.onnx").run(None, {"log_mel": x})
    with torch.no_grad():
        members = [load_model(c)[0](torch.from_numpy(x)) for c in (first, second)]
    want = np.mean([m["log_probs"].exp().numpy() for m in members], axis=0)
    assert np.abs(np.exp(lp) - want).max() <= 1e-4
    assert np.abs(att - np.mean([m["attention"].numpy() for m in members], axis=0)).max() <= 1e-4
    assert np.allclose(att.sum(axis=(2, 3)), 1, atol=1e-4)
    assert np.abs(np.exp(lp) - members[0]["log_probs"].exp().numpy()).max() > 1e-6  # not just the first member


def test_evaluate_record_and_results_table(tiny_run, tmp_path):
    from phonoscope_training.evaluate import evaluate_run
    from phonoscope_training.report import write_results
    run_dir = tiny_run[0].parent
    m = evaluate_run(run_dir, n_boot=20, plots=True, results_dir=tmp_path / "results")
    assert set(m["levels"]) == {"recording", "patient_mean", "patient_max_murmur"}
    for v in m["levels"].values():
        assert 0 <= v["pooled"]["uar"] <= 1 and len(v["pooled"]["confusion"]) == 3
    assert (run_dir / "confusion_patient_max_murmur.png").exists() and (run_dir / "roc_recording.png").exists()
    record = json.loads((tmp_path / "results" / f"{run_dir.name}.json").read_text())
    assert record["config"]["val_fold"] == 0 and len(record["predictions"]) == 4
    # the table is computed from the record alone: the run folder may be gone
    out = write_results(tmp_path / "results", tmp_path / "RESULTS.md", n_boot=20)
    text = out.read_text()
    assert f"| {run_dir.name} | CNN, 3x3, att-sigmoid" in text and "patient, aggregation max_murmur" in text
    uar = m["levels"]["patient_mean"]["uar_mean"]
    assert f"| patient, aggregation mean (vs label_patient) | {uar:.3f} |" in text


def test_int8_twin_runs_and_stays_close(tiny_run, tmp_path, recordings):
    from phonoscope_training.quantize import calibration_windows, quantize_onnx
    out, _ = tiny_run
    model, ckpt = load_model(out / "model.pt")
    fp32 = export.export_onnx(model, tmp_path / "fp32.onnx", ckpt["frontend"]["n_mels"])
    recs = recordings[:8]
    feats = {r.file: data.cached_features(r.path) for r in recs}
    int8 = quantize_onnx(fp32, tmp_path / "int8.onnx", calibration_windows(recs, feats, 936))
    graph = onnx.load(str(int8)).graph
    assert any(n.op_type == "QuantizeLinear" for n in graph.node)
    assert int8.stat().st_size < fp32.stat().st_size / 2  # int8 weights
    x = calibration_windows(recs, feats, 936, seed=1)[0]
    p32 = np.exp(export.session(fp32).run(["log_probs"], {"log_mel": x})[0])
    p8 = np.exp(export.session(int8).run(["log_probs"], {"log_mel": x})[0])
    assert np.allclose(p8.sum(1), 1, atol=1e-4)
    assert np.abs(p8 - p32).max() < 0.05


def test_quantize_cv_of_an_ensemble_goes_into_its_record(tiny_run, picked, tmp_path, monkeypatch):
    from phonoscope_training import quantize, records
    from phonoscope_training.evaluate import load_run, run_info
    monkeypatch.setattr(records, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(quantize.data, "read_manifest", lambda: picked)
    second = tmp_path / "second"
    _tiny_train(picked, second / "fold0", seed=1)
    first = tiny_run[0].parent
    ens = records.ensemble("duo", [records.record_of_run(d, run_info(d), load_run(d)) for d in (first, second)])
    records.write_record(ens)
    res = quantize.quantize_cv([first, second], record="duo")
    assert res["members"] == [first.name, "second"] and list(res["folds"]) == [0]
    fold = res["folds"][0]
    assert fold["bytes"]["int8"] < fold["bytes"]["fp32"] / 2  # int8 weights of both members
    for kind in ("fp32", "int8"):
        assert set(fold[kind]) == {"recording", "patient_mean", "patient_max_murmur"}
    # the share of validation recordings whose verdict the twins agree on: one recording is 1 / n of it
    n = sum(r.fold == 0 for r in picked)
    assert 0 <= res["recording_agreement"] <= 1 and round(res["recording_agreement"] * n, 6).is_integer()
    assert fold["recording_agreement"] == res["recording_agreement"]  # one fold: the same recordings
    saved = records.read_record(records.record_path("duo"))
    assert saved["int8"]["folds"]["0"]["bytes"] == fold["bytes"] and saved["predictions"] == ens["predictions"]
    # the fp32 card names its twin with these figures (the app's CPU default decides by them)
    model, twin = tmp_path / "m.onnx", tmp_path / "m-int8.onnx"
    model.write_bytes(b"fp32"), twin.write_bytes(b"int8")
    model.with_suffix(".json").write_text(json.dumps({"name": "m", "aggregation": "mean"}))
    quantize.link_twin(model, twin, "duo")
    card = json.loads(model.with_suffix(".json").read_text())
    assert card["int8_twin"] == {
        "file": "m-int8.onnx", "sha256": hashlib.sha256(b"int8").hexdigest(),
        "cv": {"run": "duo", "recording_agreement": res["recording_agreement"],
               "patient_uar": {k: res["pooled"][k]["patient_mean"] for k in ("fp32", "int8")}}}
    del saved["int8"]["recording_agreement"]
    records.write_record(saved)
    with pytest.raises(SystemExit, match="duo: its record has no quantize-cv figures"):
        quantize.link_twin(model, twin, "duo")


def test_export_with_the_site_fusion_of_a_recorded_run(tiny_run, recordings, tmp_path, monkeypatch):
    from phonoscope_training import records
    from phonoscope_training.aggregation import aggregate, fit_fusion
    from phonoscope_training.evaluate import patients
    monkeypatch.setattr(records, "RESULTS_DIR", tmp_path / "results")
    rng = np.random.default_rng(0)
    lean = {"normal": [4, 1, 1], "mild": [1, 3, 1], "moderate_severe": [1, 1, 3]}
    folds = {k: [{"file": r.file, "fold": k, "probs": rng.dirichlet(lean[r.label_patient]).tolist()}
                 for r in recordings if r.fold == k] for k in (0, 1, 2)}  # calibration cross-fits over >= 3 folds
    records.write_record(records.record_of_run(tmp_path / "cv", {"config": {}}, folds))
    with pytest.raises(ValueError, match="--cv"):
        export.export([tiny_run[0] / "model.pt"], "fused", tmp_path, aggregation="fusion")
    card = export.export([tiny_run[0] / "model.pt"], "fused", tmp_path, aggregation="fusion", cv_run="cv")
    saved = json.loads((tmp_path / "fused.json").read_text())
    assert saved["aggregation"] == "fusion" and saved["fusion"] == card["fusion"]
    assert np.array(saved["fusion"]["weights"]).shape == (3, 9) and len(saved["fusion"]["features"]) == 9
    recorded = records.fold_rows(records.read_record(records.record_path("cv")))
    y, probs = patients(recorded[0] + recorded[1] + recorded[2])
    want = fit_fusion(probs, y)
    assert np.allclose(saved["fusion"]["weights"], want["weights"]) and saved["fusion"]["n_patients"] == len(y)
    fused = np.array([aggregate(p, "fusion", saved["fusion"]) for p in probs])
    assert np.mean(fused.argmax(1) == y) > 0.6  # the fitted fusion separates the leaning classes
    assert saved["calibration"]["patient"]["rule"] == "fusion" and saved["calibration"]["recording"]["temperature"] > 0
