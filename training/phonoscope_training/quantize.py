"""An int8 variant of an exported model, and what it costs: static QDQ quantisation of the convolutions (per-channel
int8 weights, uint8 activations calibrated on training windows); the attention head stays float.

  python -m phonoscope_training quantize-cv RUN_DIR [RUN_DIR ... --record NAME]
                                                      per fold: the fold's model (or the runs' ensemble) in fp32 and
                                                      int8 on its validation patients (UAR both ways, latency, size)
                                                      -> the run's record (or NAME's)
  python -m phonoscope_training quantize MODEL.onnx [--cv RUN]
                                                      -> MODEL-int8.onnx (+ card), calibrated on every recording;
                                                      with --cv, MODEL's card names it as its int8 twin with RUN's
                                                      quantize-cv figures (the app's CPU default where they pass its
                                                      gate: src/core/api/model-card.ts INT8_GATE)
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from . import data, metrics, records
from .evaluate import cross_fitted_fusion, levels, pooled
from .export import export_onnx, latency_ms, sha256
from .models import Ensemble
from .onnx_eval import recording_probs, session
from .train import load_model

CALIBRATION_WINDOWS = 64


def calibration_windows(recs: list[data.Recording], feats: dict, window: int, seed: int = 0) -> list[np.ndarray]:
    """Random full-length windows (wrap-padded) of the given recordings: what the app feeds the model."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(recs), size=min(CALIBRATION_WINDOWS, len(recs)), replace=False)
    return [data.random_crop(feats[recs[i].file], window, rng)[None, None].astype(np.float32) for i in chosen]


def quantize_onnx(fp32: Path, int8: Path, windows: list[np.ndarray]) -> Path:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Windows(CalibrationDataReader):
        def __init__(self):
            self.items = iter(windows)

        def get_next(self):
            x = next(self.items, None)
            return None if x is None else {"log_mel": x}

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared))
        quantize_static(str(prepared), str(int8), Windows(), quant_format=QuantFormat.QDQ, per_channel=True,
                        weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8, op_types_to_quantize=["Conv"])
    return int8


def _uars(rows: list[dict]) -> dict:
    return {level: metrics.uar(y, p.argmax(1)) for level, (y, p) in levels(rows).items()}


def _agreement(fp32: list[dict], int8: list[dict]) -> float:
    """The share of recordings (the same, in the same order) whose verdict (argmax) the two twins agree on."""
    return float(np.mean([np.argmax(a["probs"]) == np.argmax(b["probs"]) for a, b in zip(fp32, int8, strict=True)]))


def _add_fusion(result: dict, by_fold: dict[str, dict[int, list[dict]]]) -> None:
    """The shipped rule on both twins: each fold scored by the fusion fitted on the other folds' fp32 predictions."""
    fused = {kind: cross_fitted_fusion(by_fold["fp32"], scored=rows) for kind, rows in by_fold.items()}
    if fused["fp32"] is None:
        return
    for kind, per_fold in fused.items():
        for fold, (y, p) in per_fold.items():
            result["folds"][fold][kind]["patient_fusion"] = metrics.uar(y, p.argmax(1))
        y, p = pooled(per_fold)
        result["pooled"][kind]["patient_fusion"] = metrics.uar(y, p.argmax(1))


def quantize_cv(run_dirs: list[Path], record: str | None = None) -> dict:
    """fp32 vs int8 on each fold's validation recordings, with each fold's own model and calibration windows.

    Several run folders: each fold's model is the ensemble of those runs' fold models (one graph, as exported);
    the result goes into the record `record` (default: the first run's).
    """
    run_dirs = [Path(d) for d in run_dirs]
    name = record or run_dirs[0].name
    recs = data.read_manifest()
    feats = data.load_features(recs)
    result = {"run": name, "members": [d.name for d in run_dirs], "folds": {}}
    by_fold = {"fp32": {}, "int8": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for fold_dir in sorted(run_dirs[0].glob("fold*")):
            fold = int(fold_dir.name[4:])
            loaded = [load_model(d / fold_dir.name / "model.pt") for d in run_dirs]
            model = loaded[0][0] if len(loaded) == 1 else Ensemble([m for m, _ in loaded])
            cfg, n_mels = loaded[0][1]["config"], loaded[0][1]["frontend"]["n_mels"]
            windowing = data.windowing_of(cfg)
            train_recs, _, val = data.split(recs, fold)
            paths = {"fp32": export_onnx(model, Path(tmp) / f"fold{fold}.onnx", n_mels)}
            paths["int8"] = quantize_onnx(paths["fp32"], Path(tmp) / f"fold{fold}-int8.onnx",
                                          calibration_windows(train_recs, feats, cfg["window_frames"], seed=fold))
            fold_rows = {}
            for kind, path in paths.items():
                sess = session(path, threads=2)
                fold_rows[kind] = [{"patient_id": r.patient_id, "label_patient": r.label_patient,
                                    "label_recording": r.label_recording,
                                    "probs": recording_probs(sess, feats[r.file], windowing).tolist()} for r in val]
                by_fold[kind][fold] = fold_rows[kind]
            result["folds"][fold] = {kind: _uars(fold_rows[kind]) for kind in paths}
            result["folds"][fold]["recording_agreement"] = _agreement(fold_rows["fp32"], fold_rows["int8"])
            result["folds"][fold]["latency_ms"] = {
                kind: latency_ms(p, n_mels, cfg["window_frames"], threads=2)["median_ms"] for kind, p in paths.items()}
            result["folds"][fold]["bytes"] = {kind: p.stat().st_size for kind, p in paths.items()}
            print(f"fold {fold}: {json.dumps(result['folds'][fold])}", flush=True)
    result["pooled"] = {kind: _uars([r for rows in folds.values() for r in rows]) for kind, folds in by_fold.items()}
    every = {kind: [r for k in sorted(folds) for r in folds[k]] for kind, folds in by_fold.items()}
    result["recording_agreement"] = _agreement(every["fp32"], every["int8"])
    _add_fusion(result, by_fold)
    result["mean"] = {kind: {level: float(np.mean([f[kind][level] for f in result["folds"].values()]))
                             for level in result["pooled"][kind]} for kind in by_fold}
    path = records.record_path(name)
    records.write_record({**records.read_record(path), "int8": result})
    return result


def twin_figures(run: str, aggregation: str, results_dir: Path | None = None) -> dict:
    """A run's quantize-cv figures as a card's int8_twin.cv: pooled patient UAR under the card's rule, both twins,
    and the share of recordings whose verdicts agree."""
    record = records.read_record(records.record_path(run, results_dir))
    int8 = record.get("int8")
    if not int8 or "recording_agreement" not in int8:
        raise SystemExit(f"{run}: its record has no quantize-cv figures with recording_agreement (run quantize-cv)")
    level = f"patient_{aggregation}"
    return {"run": run, "patient_uar": {kind: int8["pooled"][kind][level] for kind in ("fp32", "int8")},
            "recording_agreement": int8["recording_agreement"]}


def link_twin(model: Path, twin: Path, run: str, results_dir: Path | None = None) -> None:
    """Names `twin` in `model`'s card (int8_twin: file, sha256, the CV figures of `run`)."""
    card_path = Path(model).with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["int8_twin"] = {"file": Path(twin).name, "sha256": sha256(twin),
                         "cv": twin_figures(run, card["aggregation"], results_dir)}
    card_path.write_text(json.dumps(card, indent=1) + "\n")


def quantize_model(model: Path, out: Path | None = None) -> Path:
    """The shipped model's int8 twin beside it, calibrated on every recording; its card is the fp32 card, amended."""
    model = Path(model)
    out = Path(out) if out else model.with_name(f"{model.stem}-int8.onnx")
    recs = data.read_manifest()
    card = json.loads(model.with_suffix(".json").read_text())
    card.pop("int8_twin", None)
    quantize_onnx(model, out, calibration_windows(recs, data.load_features(recs), card["windowing"]["window_frames"]))
    card["name"] = out.stem
    # the fp32 export's latency (latency_window; latency_936_frames on older cards) and parity with PyTorch are not the
    # twin's: its latency is measured anew below, its distance from fp32 is quantize-cv's to report
    kept = {k: v for k, v in card["onnx"].items() if not k.startswith(("latency_", "parity_"))}
    card["onnx"] = {**kept, "file": out.name, "bytes": out.stat().st_size,
                    "sha256": sha256(out),
                    "quantization": "static QDQ int8: Conv weights per channel (int8), activations uint8, calibrated "
                                    f"on {CALIBRATION_WINDOWS} windows of the training recordings",
                    "latency_window": latency_ms(out, card["frontend"]["n_mels"], card["windowing"]["window_frames"],
                                                 threads=2)}
    out.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")
    return out
