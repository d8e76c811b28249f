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


def _rank(rank: int, world_size: int, port: int, out: str, recs, feats) -> None:
    import os

    import torch.distributed as dist
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world_size),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    train(CONFIG, out, recs, feats, progress=False)
    dist.destroy_process_group()


def _log(path):
    return [json.loads(line) for line in (path / "log.jsonl").read_text().splitlines()]


def test_two_processes_train_the_one_process_model(corpus, tmp_path):
    recs, feats = corpus
    one, two = tmp_path / "one", tmp_path / "two"
    train(CONFIG, one, recs, feats, progress=False)
    mp.spawn(_rank, args=(2, _free_port(), str(two), recs, feats), nprocs=2)
    (m1, c1), (m2, c2) = load_model(one / "model.pt"), load_model(two / "model.pt")
    assert c1["config"]["heads"] == c2["config"]["heads"] == {"systolic_pitch": ["low", "high"]}
    start = [e for e in _log(two) if e["event"] == "start"][0]
    assert start["world_size"] == 2 and start["steps_per_epoch"] == 4  # 32 training patients, batches of 8
    diff = torch.cat([(c1["state_dict"][k].float() - c2["state_dict"][k].float()).abs().flatten()
                      for k in c1["state_dict"]])
    # Adam turns the float noise of a vanishing gradient (the attention bias, while the map is still uniform) into
    # steps of up to lr: a few weights may differ by that much, the rest agree to float noise
    assert diff.max() < 2 * CONFIG_LR and (diff < 1e-4).float().mean() > 0.99
    loss1 = [e["loss"] for e in _log(one) if e["event"] == "epoch"]
    loss2 = [e["loss"] for e in _log(two) if e["event"] == "epoch"]
    assert np.allclose(loss1, loss2, rtol=1e-5) and loss1[0] != loss1[1]
    # training moved the weights: agreeing on an untouched model would prove nothing
    fresh = train_module.build({**train_module.DEFAULTS, **c1["config"]}, 64).state_dict()
    assert max(float((fresh[k].float() - c1["state_dict"][k].float()).abs().max()) for k in fresh
               if fresh[k].is_floating_point()) > 1e-3
    p1, p2 = (json.loads((d / "predictions.json").read_text()) for d in (one, two))
    assert np.allclose([r["probs"] for r in p1], [r["probs"] for r in p2], atol=1e-4)
    assert not (two / "checkpoint.pt").exists()


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
