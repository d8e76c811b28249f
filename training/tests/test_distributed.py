"""Training at scale (issue 17): two CPU processes (gloo, the code path torchrun takes) reach the weights of one
process on a fixed seed; the patient split over ranks; an interrupted run resumes to the same weights."""
import json
import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

import synthetic_corpus
from phonoscope_training import distributed, train as train_module
from phonoscope_training.train import load_model, train

# descriptor heads on, so their masked loss is split over the ranks too; dropout off: its masks are drawn per rank
CONFIG = {"channels": (4, 8, 8, 8), "crop_frames": 64, "batch_size": 8, "epochs": 2, "dropout": 0.0,
          "precision": "fp32", "specaug": True, "descriptor_weight": 0.5, "val_fold": 0, "seed": 0}
CONFIG_LR = train_module.DEFAULTS["lr"]


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("PHONOSCOPE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("PHONOSCOPE_THREADS", "1")
    recs, feats, _ = synthetic_corpus.make(tmp_path / "data" / "circor", n_patients=40)
    return recs, feats


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, world_size: int, port: int, cfg: dict, out: str, recs, feats) -> None:
    import os

    import torch.distributed as dist
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world_size),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    train(cfg, out, recs, feats, progress=False)
    dist.destroy_process_group()


def _log(path):
    return [json.loads(line) for line in (path / "log.jsonl").read_text().splitlines()]


def _one_and_two_processes(cfg, recs, feats, tmp_path):
    """(checkpoint, epoch losses, out-of-fold probabilities) of the run on one process and on two."""
    train(cfg, tmp_path / "one", recs, feats, progress=False)
    mp.spawn(_rank, args=(2, _free_port(), cfg, str(tmp_path / "two"), recs, feats), nprocs=2)
    runs = []
    for d in (tmp_path / "one", tmp_path / "two"):
        assert not (d / "checkpoint.pt").exists()
        runs.append((load_model(d / "model.pt")[1], [e["loss"] for e in _log(d) if e["event"] == "epoch"],
                     np.array([r["probs"] for r in json.loads((d / "predictions.json").read_text())])))
    assert [e for e in _log(tmp_path / "two") if e["event"] == "start"][0]["world_size"] == 2
    return runs


def _weight_diffs(c1, c2) -> dict[str, float]:
    return {k: float((c1["state_dict"][k].float() - c2["state_dict"][k].float()).abs().max()) for k in c1["state_dict"]}


def test_a_step_on_two_processes_is_the_step_on_one(corpus, tmp_path):
    recs, feats = corpus
    (c1, loss1, p1), (c2, loss2, p2) = _one_and_two_processes({**CONFIG, "max_steps": 1}, recs, feats, tmp_path)
    assert c1["config"]["heads"] == c2["config"]["heads"] == {"systolic_pitch": ["low", "high"]}
    assert abs(loss1[0] - loss2[0]) < 1e-6 * loss1[0]
    diffs = _weight_diffs(c1, c2)
    # the attention bias has no gradient while the attention weights are zero (at the start): Adam turns the float
    # noise of that vanishing gradient into a step of up to lr; every other weight agrees to float noise
    assert diffs.pop("head.att.bias") <= 2 * CONFIG_LR
    assert max(diffs.values()) < 1e-5
    assert np.abs(p1 - p2).max() < 1e-5
    # the step moved the weights: agreeing on an untouched model would prove nothing
    fresh = train_module.build({**train_module.DEFAULTS, **c1["config"]}, 64).state_dict()
    assert max(float((fresh[k].float() - c1["state_dict"][k].float()).abs().max()) for k in fresh
               if fresh[k].is_floating_point()) > 1e-4


def test_two_processes_train_the_one_process_model(corpus, tmp_path):
    recs, feats = corpus
    (c1, loss1, p1), (c2, loss2, p2) = _one_and_two_processes(CONFIG, recs, feats, tmp_path)
    assert len(loss1) == 2 and loss1[0] != loss1[1]
    # eight Adam steps let float noise grow (to about 1e-4 here); a wrong split, loss or BatchNorm is far beyond
    assert np.allclose(loss1, loss2, rtol=1e-3) and np.abs(p1 - p2).max() < 1e-3
    assert max(_weight_diffs(c1, c2).values()) < 2 * CONFIG_LR


def test_ranks_hold_whole_patients_and_about_as_many():
    patients = [f"p{i // 3}" for i in range(300)]  # three recordings each
    owner = distributed.owners(patients, 4, seed=0)
    for p in set(patients):
        assert len({int(owner[i]) for i, q in enumerate(patients) if q == p}) == 1
    assert np.bincount(owner, minlength=4).tolist() == [75, 75, 75, 75]
    assert (distributed.owners(patients, 4, seed=1) != owner).any()  # seeded
    assert (distributed.owners(patients, 1, seed=0) == 0).all()


class _Interrupted(Exception):
    pass


def test_an_interrupted_run_resumes_to_the_same_weights(corpus, tmp_path, monkeypatch):
    recs, feats = corpus
    cfg = {**CONFIG, "epochs": 3, "dropout": 0.2, "ema": 0.5}  # dropout and EMA: their state resumes too
    train(cfg, tmp_path / "straight", recs, feats, progress=False)
    save = train_module.save_checkpoint

    def save_then_stop(path, state):
        save(path, state)
        if state["progress"]["epoch"] == 1:
            raise _Interrupted
    monkeypatch.setattr(train_module, "save_checkpoint", save_then_stop)
    with pytest.raises(_Interrupted):
        train(cfg, tmp_path / "resumed", recs, feats, progress=False)
    assert (tmp_path / "resumed" / "checkpoint.pt").exists()
    with pytest.raises(ValueError, match="another config"):
        train({**cfg, "lr": 0.01}, tmp_path / "resumed", recs, feats, progress=False)
    train(cfg, tmp_path / "resumed", recs, feats, progress=False)
    a = torch.load(tmp_path / "straight" / "model.pt", weights_only=False)["state_dict"]
    b = torch.load(tmp_path / "resumed" / "model.pt", weights_only=False)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    events = [e["event"] for e in _log(tmp_path / "resumed")]
    assert events == ["start", "epoch", "resume", "epoch", "epoch", "end"]
    assert not (tmp_path / "resumed" / "checkpoint.pt").exists()
