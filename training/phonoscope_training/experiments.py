"""Every cross-validation run of training/RESULTS.md, in one list: `python -m phonoscope_training table` runs the
ones not done yet (finished folds are skipped, so an interrupted table resumes) and regenerates RESULTS.md.

The first block is the paper's ablation redone on our folds (architecture x pooling x attention activation x
balanced up-sampling); the second goes beyond the paper; ENSEMBLES average recorded runs. Every run uses the same
folds and the same fixed schedule unless its arguments say otherwise.
"""
from __future__ import annotations

# name -> arguments of `python -m phonoscope_training cv` (on top of the shipped configuration's defaults)
PAPER_ABLATION: dict[str, list[str]] = {
    "cnn-att-sigmoid": [],
    "cnn-gap": ["--pooling", "avg"],
    "cnn-att-softmax": ["--activation", "softmax"],
    "cnn-att-sigmoid-unbalanced": ["--unbalanced"],
    "cnn-gap-unbalanced": ["--pooling", "avg", "--unbalanced"],
    "cnn5-att-sigmoid": ["--kernel", "5"],
    "lstm-att": ["--arch", "lstm"],
    "gru-att": ["--arch", "gru"],
    "lstm-gap": ["--arch", "lstm", "--pooling", "avg"],
    "gru-gap": ["--arch", "gru", "--pooling", "avg"],
    "lstm-att-unbalanced": ["--arch", "lstm", "--unbalanced"],
    "gru-att-unbalanced": ["--arch", "gru", "--unbalanced"],
}

SHIPPED = ["--epochs", "20", "--specaug"]
BEYOND_PAPER: dict[str, list[str]] = {
    # a longer schedule (20 epochs instead of 8), with and without SpecAugment to hold overfitting back
    "cnn-att-20ep-specaug": SHIPPED,
    # on top of that: weight averaging (EMA over about the last 5 epochs), mixup in Mel power
    "cnn-att-20ep-specaug-ema": [*SHIPPED, "--ema", "0.995"],
    "cnn-att-20ep-specaug-mixup": [*SHIPPED, "--mixup", "0.4"],
    # heart-rate augmentation: crops played up to 15 % faster or slower
    "cnn-att-20ep-specaug-stretch": [*SHIPPED, "--stretch", "0.15"],
    # another seed of the same configuration: the seed-to-seed spread, and a 2-model ensemble below
    "cnn-att-20ep-specaug-seed1": [*SHIPPED, "--seed", "1"],
    # the murmur descriptor heads trained beside the grade (issue 17): does describing the murmur help grade it?
    "cnn-att-20ep-specaug-desc": [*SHIPPED, "--descriptor-weight", "0.5"],
    # the patient's grade on every site, instead of not-audible sites as normal
    "cnn-att-patient-label": ["--label", "patient"],
    "cnn-att-20ep": ["--epochs", "20"],
}

# name -> member runs whose out-of-fold probabilities are averaged (records.ensemble)
ENSEMBLES: dict[str, list[str]] = {
    "ensemble-seeds-0-1": ["cnn-att-20ep-specaug", "cnn-att-20ep-specaug-seed1"],
    # the shipped configuration trained three ways: plain, with EMA, with mixup
    "ensemble-specaug-ema-mixup": ["cnn-att-20ep-specaug", "cnn-att-20ep-specaug-ema",
                                   "cnn-att-20ep-specaug-mixup"],
}

_RECURRENT = ("lstm", "gru")
# the order `table` runs them in: the paper's model and its attention ablation, the runs that may improve the shipped
# model, the other CNN runs (minutes each on a CPU), then the recurrent ones (several times slower)
EXPERIMENTS = {
    **{name: PAPER_ABLATION[name] for name in ("cnn-att-sigmoid", "cnn-gap")},
    **BEYOND_PAPER,
    **{name: args for name, args in PAPER_ABLATION.items() if not name.startswith(_RECURRENT)},
    **{name: args for name, args in PAPER_ABLATION.items() if name.startswith(_RECURRENT)},
}
