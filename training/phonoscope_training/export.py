"""ONNX export (opset 17, dynamic batch and time axes), PyTorch vs onnxruntime parity, latency, and the model card.

ONNX contract: input `log_mel` float32 [batch, 1, time, n_mels] = the raw log-Mel of the front end the model was
trained with (its checkpoint's, written into the card) (no normalisation: that is
inside the model); outputs `log_probs` [batch, 3] (log-softmax over ["normal", "mild", "moderate_severe"]) and
`attention` [batch, 3, time', freq'] (per class, sums to 1 over the positions; freq' = 1 for the recurrent models),
and, only for a model with descriptor heads, one `<head>_log_probs` [batch, n_labels] per head (log-softmax over the
head's labels, in the card's `heads` order).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import data, descriptors, frontend, records
from .data import CLASSES
from .aggregation import RULES, fit_fusion
from .calibration import card_calibration
from .evaluate import evaluate_record, patients
from .models import Ensemble, attention_shape, head_labels
from .onnx_eval import run_times_ms, session
from .train import git_commit, load_model

OPSET = 17
MODELS_DIR = frontend.REPO_ROOT / "models"


def head_output(name: str) -> str:
    """The ONNX output (and card output) of a descriptor head."""
    return f"{name}_log_probs"


def output_names(model: nn.Module) -> list[str]:
    return ["log_probs", "attention", *map(head_output, head_labels(model))]


class _OnnxWrapper(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.heads = list(head_labels(model))

    def forward(self, log_mel):
        out = self.model(log_mel)
        return (out["log_probs"], out["attention"], *(out["descriptors"][name] for name in self.heads))


def _flat_outputs(out: dict) -> dict[str, torch.Tensor]:
    """A model's output dict by ONNX output name."""
    return {"log_probs": out["log_probs"], "attention": out["attention"],
            **{head_output(name): lp for name, lp in out.get("descriptors", {}).items()}}


def export_onnx(model: nn.Module, path: Path, n_mels: int, example_frames: int = 936) -> Path:
    """The model as ONNX for inputs of n_mels bins; time is dynamic (example_frames only traces the graph)."""
    model = model.eval().cpu()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = torch.zeros(1, 1, example_frames, n_mels)
    names = output_names(model)
    axes = {"log_mel": {0: "batch", 2: "time"}, "attention": {0: "batch", 2: "time_out"},
            **{name: {0: "batch"} for name in names if name != "attention"}}
    torch.onnx.export(_OnnxWrapper(model), (x,), str(path), input_names=["log_mel"], output_names=names,
                      opset_version=OPSET, dynamo=False, dynamic_axes=axes)
    return path


@torch.no_grad()
def parity(model: nn.Module, onnx_path: Path, n_mels: int, lengths=(936, 500, 250, 64, 17), batch: int = 2,
           seed: int = 0) -> float:
    """Max |PyTorch - onnxruntime| over every output (the grade, the attention, each descriptor head) for random
    log-Mel-like inputs of several lengths."""
    model = model.eval().cpu()
    sess = session(onnx_path)
    rng = np.random.default_rng(seed)
    worst = 0.0
    names = output_names(model)
    if [o.name for o in sess.get_outputs()] != names:
        raise AssertionError(f"ONNX outputs {[o.name for o in sess.get_outputs()]} != the model's {names}")
    for t in lengths:
        x = (rng.normal(-8, 4, size=(batch, 1, t, n_mels))).astype(np.float32)
        ref = _flat_outputs(model(torch.from_numpy(x)))
        got = sess.run(names, {"log_mel": x})
        for name, g in zip(names, got):
            r = ref[name].numpy()
            if r.shape != g.shape:
                raise AssertionError(f"{name} shape {g.shape} != {r.shape} at time {t}")
            worst = max(worst, float(np.abs(r - g).max()))
    return worst


def latency_ms(onnx_path: Path, n_mels: int, frames: int, threads: int = 2, repeats: int = 20) -> dict:
    """Milliseconds of one window of `frames` x n_mels (the card's window_frames: what the app runs)."""
    x = np.random.default_rng(0).normal(-8, 4, size=(1, 1, frames, n_mels)).astype(np.float32)
    times = run_times_ms(session(onnx_path, threads), x, repeats)
    return {"median_ms": float(np.median(times)), "p90_ms": float(np.percentile(times, 90)), "frames": frames,
            "threads": threads, "repeats": repeats, "runtime": "onnxruntime " + __import__("onnxruntime").__version__,
            "cpu": _cpu_name()}


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fusion_of_run(run: str | None) -> dict:
    """The site fusion fitted on every out-of-fold patient of a recorded CV run (what the card's model is not)."""
    if not run:
        raise ValueError("the fusion rule is fitted on a CV run's out-of-fold probabilities: name it with --cv")
    folds = records.fold_rows(records.read_record(records.record_path(run)))
    y, probs = patients([r for k in sorted(folds) for r in folds[k]])
    return {**fit_fusion(probs, y), "fitted_on": f"the out-of-fold recording probabilities of CV run {run} "
            f"(training/results/{run}.json): each patient scored by the fold model that did not train on it"}


def cv_summary(run: str | None) -> dict | None:
    """The model card's compact CV block, computed from a recorded run (training/results/<run>.json)."""
    if not run:
        return None
    m = evaluate_record(records.read_record(records.record_path(run)))
    out = {"run": m["run"], "folds": m["folds"], "protocol": (
        "5-fold CV by the manifest's fold column (folds are subject_group-disjoint); one model per fold trained on "
        "the other 4 folds with a fixed schedule (no epoch selection on the reported fold); patients with "
        "label_patient == unknown excluded. Recording level vs label_recording (murmur_not_audible -> normal); "
        "patient level vs label_patient. ci95 = percentile bootstrap (1000) over the pooled out-of-fold units."),
        "levels": {}}
    for level, v in m["levels"].items():
        out["levels"][level] = {
            "uar_mean": round(v["uar_mean"], 4), "uar_std": round(v["uar_std"], 4),
            "uar_per_fold": [round(v["per_fold"][f]["uar"], 4) for f in m["folds"]],
            "pooled_uar": round(v["pooled"]["uar"], 4), "pooled_uar_ci95": [round(x, 4) for x in v["pooled"]["ci95"]["uar"]],
            "pooled_recall": [round(x, 4) for x in v["pooled"]["recall"]],
            "pooled_recall_ci95": [[round(a, 4), round(b, 4)] for a, b in v["pooled"]["ci95"]["recall"]],
            "pooled_auc_ovr": [round(x, 4) for x in v["pooled"]["auc_ovr"]],
            "pooled_confusion": v["pooled"]["confusion"]}
    return out


def model_card(name: str, version: str, ckpts: list[dict], onnx_path: Path, aggregation: str, cv: dict | None,
               latency: dict, max_abs_diff: float, notes: str = "", fusion: dict | None = None,
               calibration: dict | None = None) -> dict:
    """The card of one model, or of an ensemble of models trained alike (the first member's config describes all).
    Its front end is the one the model was trained with (the checkpoint's), its windowing the training config's."""
    ckpt = ckpts[0]
    cfg = ckpt["config"]
    params = frontend.check(ckpt["frontend"], "checkpoint")
    if any(c["frontend"] != params for c in ckpts):
        raise ValueError("an ensemble's members must share one front end")
    windowing = data.check_windowing(data.windowing_of(cfg), "training config")
    n_mels = params["n_mels"]
    time_out, freq_out = attention_shape(cfg, n_mels)
    if aggregation not in RULES:
        raise ValueError(f"aggregation must be one of {RULES}")
    if (aggregation == "fusion") != (fusion is not None):
        raise ValueError("the fusion rule, and only it, comes with fitted fusion weights")
    heads = card_heads(cfg.get("heads") or {})
    return {
        "name": name,
        "version": version,
        "classes": CLASSES,
        "frontend": params,
        "input": {"name": "log_mel", "dtype": "float32", "shape": ["batch", 1, "time", n_mels],
                  "description": "raw natural-log Mel power from the front end (frontend.json), frames x Mel bins; "
                                 "no normalisation (the model normalises internally). time >= min_frames."},
        "outputs": [
            {"name": "log_probs", "dtype": "float32", "shape": ["batch", 3],
             "description": "log-softmax over classes; probabilities = exp(log_probs)"},
            {"name": "attention", "dtype": "float32", "shape": ["batch", 3, "time_out", freq_out],
             "time_out": time_out,
             "description": "per-class attention map over (time, frequency) cells of the last feature map; sums to "
                            "1 over the cells for each class"},
            *({"name": h["output"], "dtype": "float32", "shape": ["batch", len(h["labels"])],
               "description": f"log-softmax over the labels of descriptor head {h['name']}"} for h in heads)],
        **({"heads": heads} if heads else {}),
        "windowing": {**windowing, "short_input": "as_is", "pad": "wrap", "last_window": "align_end",
                      "recording_rule": "mean"},
        "windowing_description": (
            f"Recording of n frames: if n <= {cfg['window_frames']}, run once at its own length (as_is), except "
            f"n < {cfg['min_frames']} is first wrap-padded (tiled) to {cfg['min_frames']} frames. If n > "
            f"{cfg['window_frames']}: windows of {cfg['window_frames']} frames starting at 0, {cfg['hop_frames']}, "
            f"2*{cfg['hop_frames']}, ... while they fit, plus one last window ending at frame n (start n - "
            f"{cfg['window_frames']}) if the grid does not already end there. Recording probabilities = mean over "
            "windows of exp(log_probs). Verdict = argmax."),
        "aggregation": aggregation,
        "aggregation_description": {
            "mean": "patient probabilities = mean of its recordings' probabilities",
            "max_murmur": "patient probabilities = those of its recording with the lowest p(normal)",
            "fusion": "patient probabilities = softmax(fusion.weights @ x + fusion.bias), x = the 9 fusion.features "
                      "of its recordings' probabilities p [n, 3]: mean_p = mean over recordings of p; mean_log_p = "
                      "mean of log(p + fusion.log_eps); max_murmur_p = p of the recording with the lowest p(normal) "
                      "(the first on ties); each in class order"}[aggregation],
        **({"fusion": fusion} if fusion is not None else {}),
        "verdict": "argmax of probabilities (recording or patient), class order as in classes",
        **({"calibration": calibration} if calibration is not None else {}),
        "model": {"arch": cfg["arch"], "pooling": cfg["pooling"], "attention_activation": cfg["activation"],
                  "kernel": cfg["kernel"], "n_params": sum(c["n_params"] for c in ckpts), "config": cfg,
                  **({"ensemble": {
                      "rule": "probabilities = mean of the members' probabilities; attention = mean of their maps",
                      "members": [{"seed": c["config"]["seed"], "git_commit": c.get("git_commit")} for c in ckpts]}}
                     if len(ckpts) > 1 else {})},
        "training": {
            "data": "CirCor DigiScope v1.0.3 (PhysioNet 2022 public training set), shared subset: "
                    "$PHONOSCOPE_DATA/circor/manifest.csv; patients with label_patient == unknown excluded",
            "label": {"recording": "label_recording with murmur_not_audible -> normal",
                      "patient": "label_patient"}[cfg["label"]],
            "trained_folds": ckpt["trained_folds"], "epochs": ckpt["epochs_run"],
            "balanced_upsampling": cfg["balanced"], "crop_frames": cfg["crop_frames"],
            "seconds_per_epoch": ckpt.get("seconds_per_epoch"),
            "licence_of_data": "ODC-BY 1.0 (cite Oliveira et al. 2022, Reyna et al. 2023, Goldberger et al. 2000)"},
        "cv_metrics": cv,
        "onnx": {"file": Path(onnx_path).name, "sha256": sha256(onnx_path), "bytes": Path(onnx_path).stat().st_size,
                 "opset": OPSET, "parity_max_abs_diff_vs_pytorch": max_abs_diff, "latency_window": latency},
        "git_commit": ckpt.get("git_commit") or git_commit(),
        "exported_at_commit": git_commit(),
        "notes": notes,
    }


def card_heads(heads: dict[str, list[str]]) -> list[dict]:
    """The card's `heads`: every descriptor head of the model, in its ONNX output order, with its labels."""
    for name, labels in heads.items():
        if name not in descriptors.HEADS or not set(labels) <= set(descriptors.HEADS[name][1]):
            raise ValueError(f"descriptor head {name} {labels}: not a head and labels of descriptors.HEADS")
    return [{"name": name, "output": head_output(name), "labels": list(labels),
             "source": f"CirCor {'manifest.csv' if name == 'audible_here' else 'patients.csv'} "
                       f"'{descriptors.HEADS[name][0]}'",
             "recording_rule": "mean", "shown": "murmur_verdict",
             "description": "probabilities = exp(output); recording probabilities = mean over the windows; label = "
                            "argmax; meaningful (and shown) only where the recording's verdict is a murmur"}
            for name, labels in heads.items()]


def export(checkpoints: list[Path], name: str, out_dir: Path | None = None, version: str = "0.1.0",
           aggregation: str = "max_murmur", cv_run: str | None = None, notes: str = "") -> dict:
    """One checkpoint, or several (an ensemble in one graph), to models/<name>.onnx and its card."""
    out_dir = Path(out_dir) if out_dir else MODELS_DIR
    loaded = [load_model(c) for c in checkpoints]
    model = loaded[0][0] if len(loaded) == 1 else Ensemble([m for m, _ in loaded])
    ckpt = loaded[0][1]
    n_mels, window_frames = ckpt["frontend"]["n_mels"], ckpt["config"]["window_frames"]
    onnx_path = export_onnx(model, out_dir / f"{name}.onnx", n_mels)
    diff = parity(model, onnx_path, n_mels)
    if diff > 1e-4:
        raise AssertionError(f"ONNX parity failed: max |diff| = {diff}")
    lat = latency_ms(onnx_path, n_mels, window_frames, threads=int(os.environ.get("PHONOSCOPE_THREADS", "2")))
    card = model_card(name, version, [c for _, c in loaded], onnx_path, aggregation, cv_summary(cv_run), lat, diff,
                      notes, fusion_of_run(cv_run) if aggregation == "fusion" else None,
                      card_calibration(cv_run, aggregation) if cv_run else None)
    (out_dir / f"{name}.json").write_text(json.dumps(card, indent=1, allow_nan=False) + "\n")
    return card
