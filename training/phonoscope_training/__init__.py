"""Phonoscope training: data, log-Mel front end, models, training, evaluation and ONNX export."""
