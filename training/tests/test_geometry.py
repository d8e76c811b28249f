"""A model whose front end and windowing are not the defaults: export, card and the reference inference all follow
its checkpoint's parameters (no n_mels, hop or window length assumed anywhere)."""
import json

import numpy as np
import onnx
import pytest
import soundfile as sf

from phonoscope_training import frontend, onnx_eval
from phonoscope_training.tiny_model import make_test_model

GEOMETRY = {"n_mels": 40, "fmax": 1000, "hop_length": 100}
WINDOWING = {"window_frames": 400, "hop_frames": 200, "min_frames": 32}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return make_test_model(tmp_path_factory.mktemp("geometry"), "g40", frontend_changes=GEOMETRY,
                           windowing_changes=WINDOWING)


def test_the_card_and_the_graph_carry_the_models_geometry(model):
    card = json.loads(model.with_suffix(".json").read_text())
    assert card["frontend"] == {**frontend.params(), **GEOMETRY}
    assert {k: card["windowing"][k] for k in WINDOWING} == WINDOWING
    assert card["input"]["shape"] == ["batch", 1, "time", 40]
    assert card["outputs"][1]["shape"] == ["batch", 3, "time_out", 2]  # 40 bins halved 4 times
    assert card["onnx"]["latency_window"]["frames"] == 400
    dims = onnx.load(str(model)).graph.input[0].type.tensor_type.shape.dim
    assert dims[3].dim_value == 40


def test_the_reference_inference_uses_the_cards_front_end_and_windowing(model, tmp_path):
    card = onnx_eval.load_card(model)
    wav = tmp_path / "tone.wav"
    sf.write(wav, 0.5 * np.sin(2 * np.pi * 500 * np.arange(20 * 8000) / 8000), 8000, subtype="PCM_16")
    feats = frontend.features(wav, card["frontend"])
    assert feats.shape == (1 + (20 * 4000 - 256) // 100, 40)
    p = onnx_eval.recording_probs(onnx_eval.session(model), feats, card["windowing"])
    assert p.shape == (3,) and abs(p.sum() - 1) < 1e-5


def test_a_geometry_this_front_end_cannot_compute_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Nyquist"):
        make_test_model(tmp_path, frontend_changes={"fmax": 4000})
    with pytest.raises(ValueError, match="min_frames exceeds window_frames"):
        make_test_model(tmp_path, windowing_changes={"min_frames": 1000})
