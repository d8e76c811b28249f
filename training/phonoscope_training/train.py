"""Training: random fixed-length crops (wrap-padded when shorter), optional balanced up-sampling, Adam, a fixed
epoch schedule with cosine learning-rate decay (or, optionally, early stopping on an INNER validation fold), a tqdm
progress bar and a JSON-lines run log. Never selects anything on the reported validation fold.
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import data, descriptors, distributed, frontend, metrics
from .augment import mixup, spec_augment, time_stretch
from .data import CLASSES, Recording
from .models import DEFAULTS as MODEL_DEFAULTS, build

# The model's own defaults are models.DEFAULTS; the front end (n_mels, hop, ...) is frontend.json's, never a config's.
DEFAULTS = {
    **MODEL_DEFAULTS,
    "label": "recording",  # training target: "recording" (label_recording, murmur_not_audible -> normal) | "patient"
    "balanced": True,  # random over-sampling of the minority classes to the majority count, per epoch
    "crop_frames": 250,  # 8 s training crops
    # inference windowing, the model card's "windowing" (its one source: the app and onnx_eval read the card's)
    "min_frames": 64,  # shorter recordings are wrap-padded to this length
    "window_frames": 936,  # 29.98 s at the default front end
    "hop_frames": 468,
    "epochs": 8,
    "batch_size": 32,
    "lr": 1e-3,
    "lr_final_fraction": 0.05,  # cosine decay from lr to lr * this over the whole schedule
    "weight_decay": 0.0,
    "seed": 0,
    "val_fold": None,  # reported fold (None: train on every fold)
    "inner_fold": None,  # early stopping on this inner fold (None: fixed schedule, the last epoch is kept)
    "patience": 4,
    "specaug": False,  # SpecAugment time and frequency masks on training crops (augment.py)
    "stretch": 0.0,  # random time stretch of training crops by up to this fraction (heart rate); 0: off
    "mixup": 0.0,  # mixup of training crops in Mel power, weights ~ Beta(mixup, mixup); 0: off (augment.py)
    "ema": None,  # decay of an exponential moving average of the weights, used for the final model; None: off
    "precision": "bf16",  # training forward/backward under bf16 autocast (fp32 weights; evaluation and export in fp32)
    # descriptor heads (descriptors.py; models.DEFAULTS "heads" then holds their labels): the weight of their masked
    # cross-entropy next to the grade's; 0: no heads (the shipped model)
    "descriptor_weight": 0.0,
    "max_steps": None,  # stop after this many optimiser steps (tests)
    "limit": None,  # use only this many training recordings per class (tests)
}


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=frontend.REPO_ROOT, capture_output=True, text=True,
                             timeout=10)
        return out.stdout.strip() or "unknown"
    except Exception:  # noqa: BLE001
        return "unknown"


def keep_freed_memory() -> None:
    """Stop glibc from returning PyTorch's large CPU buffers to the OS after every step (mmap/munmap and page faults
    per batch). Measured on 2 cores: a training step 5x faster (8.7 s -> 1.6 s, system time 13 s -> 2 s per 4 steps).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, Windows, musl): nothing to tune
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, ctypes.c_int(1 << 30))
    libc.mallopt(m_trim_threshold, ctypes.c_int(2**31 - 1))


def device(world: distributed.World | None = None) -> torch.device:
    if torch.cuda.is_available():
        if world is not None and world.size > 1:
            torch.cuda.set_device(world.local_rank)
            return torch.device("cuda", world.local_rank)
        return torch.device("cuda")
    torch.set_num_threads(int(os.environ.get("PHONOSCOPE_THREADS", "2")))
    keep_freed_memory()
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    np.random.seed(seed)
    torch.manual_seed(seed)


def epoch_indices(targets: np.ndarray, balanced: bool, rng: np.random.Generator) -> np.ndarray:
    """One epoch's sample order; an epoch has as many samples as there are training recordings.

    balanced (random over-sampling of the minority classes): every present class gets an equal share of the epoch;
    within a class, whole shuffled passes over its recordings first, the remainder drawn without replacement (so a
    minority recording appears several times per epoch, a majority-class recording at most once).
    """
    if not balanced:
        return rng.permutation(len(targets))
    classes = [np.flatnonzero(targets == k) for k in range(len(CLASSES))]
    classes = [c for c in classes if len(c)]
    share = -(-len(targets) // len(classes))
    out = []
    for c in classes:
        reps, rest = divmod(share, len(c))
        out.extend(rng.permutation(c) for _ in range(reps))
        out.append(rng.choice(c, rest, replace=False))
    return rng.permutation(np.concatenate(out))[:len(targets)]


class JsonLog:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(path, "a")

    def __call__(self, event: str, **kw):
        kw = {"event": event, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **kw}
        self.f.write(json.dumps(kw) + "\n")
        self.f.flush()

    def close(self):
        self.f.close()


@torch.no_grad()
def predict_recording(model, feats: np.ndarray, cfg: dict, dev: torch.device) -> tuple[np.ndarray, dict]:
    """Recording probabilities by the model card's windowing: mean of the windows' exp(log_probs); and each
    descriptor head's, alike ({} without heads)."""
    wins = data.inference_windows(len(feats), **data.windowing_of(cfg))
    batch = np.stack([data.wrap_pad(feats[s:e], n) for s, e, n in wins])[:, None]
    out = model(torch.from_numpy(batch).to(dev))

    def mean_probs(log_probs):
        return log_probs.exp().mean(dim=0).cpu().numpy()
    return mean_probs(out["log_probs"]), {k: mean_probs(v) for k, v in out.get("descriptors", {}).items()}


def predict(model, recs: list[Recording], feats: dict, cfg: dict, dev: torch.device, progress: bool = False
            ) -> list[dict]:
    model.eval()
    rows = []
    for r in tqdm(recs, desc="predict", disable=not progress, leave=False, mininterval=5):
        p, heads = predict_recording(model, feats[r.file], cfg, dev)
        rows.append({"file": r.file, "patient_id": r.patient_id, "subject_group": r.subject_group,
                     "location": r.location, "fold": r.fold, "label_patient": r.label_patient,
                     "label_recording": r.label_recording, "n_frames": int(len(feats[r.file])),
                     "probs": [float(x) for x in p],
                     **({"descriptors": {k: [float(x) for x in v] for k, v in heads.items()}} if heads else {})})
    return rows


def inner_score(rows: list[dict]) -> float:
    """Model-selection score on the inner fold: patient-level UAR (mean aggregation) against label_patient."""
    from .evaluate import patient_level
    y, p = patient_level(rows, "mean")
    return metrics.uar(y, p.argmax(1))


def masked_nll_sum(log_probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """A descriptor head's cross-entropy summed over the examples that have a target (descriptors.IGNORE masked):
    divided by the batch size like the grade's, a masked example adds nothing (and a batch without targets, zero)."""
    return torch.nn.functional.nll_loss(log_probs, target, ignore_index=descriptors.IGNORE, reduction="sum")


def save_checkpoint(path: Path, state: dict) -> None:
    """The state to resume from, written whole or not at all."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def train(cfg: dict, out_dir: Path, recs: list[Recording] | None = None, feats: dict | None = None,
          progress: bool = True) -> dict:
    """Train one model; writes out_dir/{log.jsonl, model.pt, predictions.json (when val_fold is set)}.

    One process, or every rank of torchrun (distributed.py: the same steps, patients split over the ranks; rank 0
    writes). An interrupted run resumes from out_dir/checkpoint.pt (written after every epoch, removed at the end).
    """
    cfg = {**DEFAULTS, **cfg}
    data.check_windowing(data.windowing_of(cfg), "training config")
    params = frontend.params()
    out_dir = Path(out_dir)
    world = distributed.setup()
    if world.main:
        out_dir.mkdir(parents=True, exist_ok=True)
    log = JsonLog(out_dir / "log.jsonl") if world.main else (lambda *a, **kw: None)
    progress = progress and world.main
    seed_everything(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    dev = device(world)

    recs = recs if recs is not None else data.read_manifest()
    if cfg["val_fold"] is None:
        train_recs, inner, val = [r for r in recs if r.fold != cfg["inner_fold"]], \
            [r for r in recs if r.fold == cfg["inner_fold"]], []
        data.check_no_group_leak(train_recs, inner)
    else:
        train_recs, inner, val = data.split(recs, cfg["val_fold"], cfg["inner_fold"])
    if cfg["limit"]:
        keep = []
        for k in range(len(CLASSES)):
            keep += [r for r in train_recs if r.target(cfg["label"]) == k][:cfg["limit"]]
        train_recs = keep
    if cfg["descriptor_weight"]:
        if cfg["mixup"]:
            raise ValueError("mixup mixes two recordings, whose descriptor targets cannot be mixed: train descriptor "
                             "heads without --mixup")
        # the heads and their labels from the whole labelled corpus given (counts only), so every fold has the same
        cfg["heads"] = cfg["heads"] or descriptors.heads_for(recs)
        if not cfg["heads"]:
            raise ValueError(f"no descriptor head has two labels of {descriptors.MIN_PATIENTS} or more patients "
                             "among these recordings (python -m phonoscope_training.descriptors --counts)")
        head_targets = descriptors.targets(descriptors.labels_of(train_recs), cfg["heads"])
    elif cfg["heads"]:
        raise ValueError("descriptor heads are trained with a descriptor_weight above 0")
    feats = feats if feats is not None else data.load_features(train_recs + inner + val, progress=progress)
    targets = np.array([r.target(cfg["label"]) for r in train_recs])
    x_train = [feats[r.file] for r in train_recs]
    owner = distributed.owners([r.patient_id for r in train_recs], world.size, cfg["seed"])

    # channels-last convolutions and bf16 autocast: 3x faster CNN steps on a CPU with AVX-512 BF16 (measured: 1.9 s
    # -> 0.63 s per batch on one core); weights, evaluation and the exported model stay fp32
    model = build(cfg, params["n_mels"])
    if world.size > 1:
        model = distributed.global_batchnorm(model)
    model = model.to(dev, memory_format=torch.channels_last)
    # weight averaging smooths the epoch-to-epoch swing of a small dataset's last epoch; BatchNorm statistics are
    # averaged with the weights (use_buffers), so the averaged model needs no extra pass over the data
    ema = torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(cfg["ema"]), use_buffers=True
    ) if cfg["ema"] else None
    final = ema.module if ema is not None else model
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cfg["precision"] == "bf16")
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    steps_per_epoch = math.ceil(len(epoch_indices(targets, cfg["balanced"], np.random.default_rng(0)))
                                / cfg["batch_size"])
    total_steps = steps_per_epoch * cfg["epochs"]
    if cfg["max_steps"]:
        total_steps = min(total_steps, cfg["max_steps"])
    lr_min = cfg["lr"] * cfg["lr_final_fraction"]

    def lr_at(step):
        return lr_min + 0.5 * (cfg["lr"] - lr_min) * (1 + math.cos(math.pi * min(step / max(total_steps, 1), 1.0)))

    s = {"epoch": 0, "step": 0, "best": -1.0, "best_state": None, "best_epoch": None, "since_best": 0,
         "epoch_seconds": [], "stopped": False}
    checkpoint = out_dir / "checkpoint.pt"
    if checkpoint.exists():
        saved = torch.load(checkpoint, map_location=dev, weights_only=False)
        if saved["config"] != cfg:
            raise ValueError(f"{checkpoint} is of a run with another config: delete it to start again")
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        if ema is not None:
            ema.load_state_dict(saved["ema"])
        rng.bit_generator.state = saved["numpy_rng"]
        torch.set_rng_state(saved["torch_rng"])
        s = saved["progress"]
        log("resume", epoch=s["epoch"], steps=s["step"], world_size=world.size)
    else:
        log("start", config=cfg, n_params=n_params, device=str(dev), threads=torch.get_num_threads(),
            host=platform.node(), git_commit=git_commit(), n_train=len(train_recs), n_inner=len(inner),
            n_val=len(val), train_class_counts=np.bincount(targets, minlength=3).tolist(),
            steps_per_epoch=steps_per_epoch, world_size=world.size)
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world.size > 1 else model
    while s["epoch"] < cfg["epochs"] and not s["stopped"]:
        epoch = s["epoch"] + 1
        model.train()
        t0 = time.time()
        order = epoch_indices(targets, cfg["balanced"], rng)
        losses, correct, seen = [], torch.zeros(2, dtype=torch.int64), 0
        bar = tqdm(range(0, len(order), cfg["batch_size"]), desc=f"epoch {epoch}/{cfg['epochs']}",
                   disable=not progress, mininterval=10 if not os.isatty(2) else 0.1)
        for b in bar:
            idx = order[b:b + cfg["batch_size"]]
            if len(idx) < 2:  # BatchNorm needs two examples
                continue
            # the whole global batch is drawn on every rank (the generator stays in lockstep); each keeps its own
            crops = [time_stretch(x_train[i], cfg["crop_frames"], cfg["stretch"], rng) if cfg["stretch"]
                     else data.random_crop(x_train[i], cfg["crop_frames"], rng) for i in idx]
            if cfg["specaug"]:
                crops = [spec_augment(c, rng) for c in crops]
            xb = np.stack(crops)[:, None]
            soft = None
            if cfg["mixup"]:
                xb, soft = mixup(xb, targets[idx], rng, cfg["mixup"], len(CLASSES))
            mine = owner[idx] == world.rank
            yb = torch.from_numpy(targets[idx[mine]]).to(dev)
            for g in opt.param_groups:
                g["lr"] = lr_at(s["step"])
            with autocast:
                out = ddp(torch.from_numpy(xb[mine]).to(dev, memory_format=torch.channels_last))
                log_probs = out["log_probs"].float()
                summed = torch.nn.functional.nll_loss(log_probs, yb, reduction="sum") if soft is None \
                    else -(torch.from_numpy(soft[mine]).to(dev) * log_probs).sum()
                for name, t in (head_targets.items() if cfg["heads"] else ()):
                    summed = summed + cfg["descriptor_weight"] * masked_nll_sum(
                        out["descriptors"][name].float(), torch.from_numpy(t[idx[mine]]).to(dev))
                # the global batch's mean: DDP averages the ranks' gradients
                loss = summed * world.size / len(idx)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if ema is not None:
                ema.update_parameters(model)
            s["step"] += 1
            losses.append(float(distributed.all_sum(loss.detach().cpu(), world)) / world.size)
            correct[0] += int((out["log_probs"].argmax(1) == yb).sum())
            correct[1] += len(yb)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}", refresh=False)
            if cfg["max_steps"] and s["step"] >= cfg["max_steps"]:
                break
        seconds = time.time() - t0
        s["epoch_seconds"].append(seconds)
        right, seen = distributed.all_sum(correct, world).tolist()
        rec = {"epoch": epoch, "loss": float(np.mean(losses)) if losses else None, "steps": s["step"],
               "train_acc": right / max(1, seen),
               "seconds": round(seconds, 2), "lr": lr_at(s["step"])}
        if inner:  # every rank scores the same model alike, so all take the same decision
            score = inner_score(predict(final, inner, feats, cfg, dev))
            rec["inner_patient_uar"] = score
            if score > s["best"]:
                s["best"], s["best_epoch"], s["since_best"] = score, epoch, 0
                s["best_state"] = {k: v.detach().cpu().clone() for k, v in final.state_dict().items()}
            else:
                s["since_best"] += 1
        log("epoch", **rec)
        if progress:
            tqdm.write(json.dumps(rec))
        s["epoch"] = epoch
        s["stopped"] = bool(cfg["max_steps"] and s["step"] >= cfg["max_steps"]) or \
            bool(inner and s["since_best"] >= cfg["patience"])
        if world.main:
            save_checkpoint(checkpoint, {
                "config": cfg, "progress": s, "model": model.state_dict(), "optimizer": opt.state_dict(),
                "ema": ema.state_dict() if ema is not None else None, "numpy_rng": rng.bit_generator.state,
                "torch_rng": torch.get_rng_state()})
        distributed.barrier(world)
    if s["best_state"] is not None:
        final.load_state_dict(s["best_state"])
    epoch_seconds = s["epoch_seconds"]
    ckpt = {"config": cfg, "state_dict": {k: v.cpu() for k, v in final.state_dict().items()}, "classes": CLASSES,
            "frontend": params, "trained_folds": sorted({r.fold for r in train_recs}),
            "inner_fold": cfg["inner_fold"], "best_epoch": s["best_epoch"] or len(epoch_seconds),
            "epochs_run": len(epoch_seconds), "git_commit": git_commit(), "n_params": n_params,
            "seconds_per_epoch": float(np.mean(epoch_seconds)) if epoch_seconds else None}
    result = {k: ckpt[k] for k in ("trained_folds", "best_epoch", "epochs_run", "n_params", "seconds_per_epoch")}
    if world.main:
        torch.save(ckpt, out_dir / "model.pt")
        if val:
            rows = predict(final, val, feats, cfg, dev, progress=progress)
            (out_dir / "predictions.json").write_text(json.dumps(rows))
            from .evaluate import patient_level, recording_level
            yr, pr = recording_level(rows)
            yp, pp = patient_level(rows, "mean")
            result["val_recording_uar"] = metrics.uar(yr, pr.argmax(1))
            result["val_patient_uar_mean"] = metrics.uar(yp, pp.argmax(1))
        log("end", **result)
        log.close()
        checkpoint.unlink(missing_ok=True)
    distributed.barrier(world)
    return result


def load_model(path: Path):
    """A checkpoint's model, built for the front end it was trained with (the checkpoint's), and the checkpoint."""
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = build(ckpt["config"], ckpt["frontend"]["n_mels"])
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model, ckpt
