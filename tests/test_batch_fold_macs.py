"""MACs and memory per sample of PyTorch modules between nn.Flatten(0, 1) and nn.Unflatten(0, (-1, T)),
where the first axis holds batch × time: a module there runs once per frame, T times per sample
(TensorSpec.batch_fold; docs/compute.md). The arithmetic is written out by hand in each case."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lstmcalc import analyze_text
from lstmcalc.cli import cli
from lstmcalc.compute import compute_figures
from lstmcalc.layers.base import TensorSpec

SPECS = __import__("pathlib").Path(__file__).resolve().parent.parent / "specs"

FOLD = "{type: Flatten, start_dim: 0, end_dim: 1}"


def unfold(steps: int) -> str:
    return f"{{type: Unflatten, dim: 0, unflattened_size: [-1, {steps}]}}"


def torch_spec(layers, input_shape, batch) -> str:
    listed = "".join(f"  - {layer}\n" for layer in layers)
    batch_line = "" if batch is None else f"batch_size: {batch}\n"
    return f"framework: pytorch\n{batch_line}input: {json.dumps(list(input_shape))}\nlayers:\n{listed}"


# (id, input shape without batch, modules, the module counted, MACs per step, steps per sample, total)
CASES = [
    # 16 frames of 3 × 64 × 64: ⌊(64 − 3) / 2⌋ + 1 = 31 → 31 × 31 = 961 positions per frame,
    # 3·3·3 × 16 = 432 per position: 415,152 per frame × 16 frames = 6,642,432 per sample
    ("conv2d-video", (16, 3, 64, 64), [FOLD, "{type: Conv2d, name: conv, out_channels: 16, kernel_size: 3, stride: 2}",
                                       unfold(16)], "conv", 432, 961 * 16, 6642432),
    # 4 frames of (2 channels, 10 steps): 10 − 3 + 1 = 8 positions × 3 × 2 × 6 = 36 → 288 per frame × 4 = 1,152
    ("conv1d", (4, 2, 10), [FOLD, "{type: Conv1d, name: conv, out_channels: 6, kernel_size: 3}", unfold(4)],
     "conv", 36, 8 * 4, 1152),
    # a pooling multiplies no weight, folded or not: 0 once per frame, 4 frames
    ("maxpool2d", (4, 3, 8, 8), [FOLD, "{type: MaxPool2d, name: pool, kernel_size: 2}", unfold(4)], "pool", 0, 4, 0),
    # Linear(8, 3) on (N·5, 8): 8 × 3 = 24 at each of the 5 rows of a sample = 120
    ("linear", (5, 8), [FOLD, "{type: Linear, name: linear, out_features: 3}"], "linear", 24, 5, 120),
    # the same after the unfold: (N, 5, 3) → 5 positions per sample, not multiplied again: 4 × 2 × 5 = 40
    ("linear-after-unfold", (5, 8), [FOLD, "{type: Linear, out_features: 4}", unfold(5),
                                     "{type: Linear, name: linear, out_features: 2}"], "linear", 8, 5, 40),
    # Flatten(0, 2) joins batch × 2 × 3: 6 rows of a sample, 8 × 4 = 32 each = 192
    ("linear-fold-of-three-axes", (2, 3, 8), ["{type: Flatten, start_dim: 0, end_dim: 2}",
                                              "{type: Linear, name: linear, out_features: 4}"], "linear", 32, 6, 192),
    # 3 clips of 5 steps folded: LSTM(4, 8) 4 gates × 8 × (4 + 8) = 384 per step, 5 steps × 3 clips = 5,760
    ("lstm-over-clips", (3, 5, 4), [FOLD, "{type: LSTM, name: lstm, hidden_size: 8, batch_first: true}"],
     "lstm", 384, 5 * 3, 5760),
    # Flatten(2, 3) on (N, 2, 3, 4) leaves the batch alone: (N, 2, 12), 12 × 3 = 36 at 2 positions = 72
    ("no-fold", (2, 3, 4), ["{type: Flatten, start_dim: 2, end_dim: 3}", "{type: Linear, name: linear, out_features: 3}"],
     "linear", 36, 2, 72),
]


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("case_id, input_shape, layers, name, per_step, steps, total", CASES,
                         ids=[case[0] for case in CASES])
def test_macs_per_sample_in_a_fold(case_id, input_shape, layers, name, per_step, steps, total, batch):
    report = analyze_text(torch_spec(layers, input_shape, batch))
    assert report.ok, [d.message for d in report.errors]
    macs = compute_figures(report).layer(name).macs
    assert (macs.per_step.value, macs.steps, macs.total) == (per_step, steps, total)


@pytest.mark.parametrize("layers, folds", [
    # (N, 5, 8) → (N·5, 8): 5 rows a sample; → (N, 5, 3): 1 again
    ([FOLD, "{type: Linear, out_features: 3}", unfold(5)], [5, 5, 1]),
    # unflattening into (−1, 1) keeps 5 rows a sample
    ([FOLD, "{type: Unflatten, dim: 0, unflattened_size: [-1, 1]}"], [5, 5]),
    # (N, 5, 8) → (N, 40): the batch is not in the join
    (["{type: Flatten}"], [1]),
])
def test_the_fold_is_carried_and_ended(layers, folds):
    report = analyze_text(torch_spec(layers, (5, 8), 4))
    assert report.ok, [d.message for d in report.errors]
    assert [record.output_batch_folds[0] for record in report.layers] == folds
    assert [record.output_batch_axes[0] for record in report.layers] == [0] * len(folds)


def test_an_unknown_number_of_folded_steps_leaves_the_count_per_step():
    # (N, T, 8) with T unknown → (None, 8): Linear(8, 3) is 24 per step, T of them per sample
    report = analyze_text(torch_spec([FOLD, "{type: Linear, name: linear, out_features: 3}"], (None, 8), 4))
    macs = compute_figures(report).layer("linear").macs
    assert (macs.per_step.value, macs.steps) == (24, None)


def test_activation_memory_of_a_fold_is_per_sample_times_the_batch():
    # (4, 5, 8) → (20, 8) float32: 5 × 8 = 40 values a sample × 4 bytes × batch 4 = 640 bytes
    report = analyze_text(torch_spec([FOLD], (5, 8), 4))
    figures = compute_figures(report)
    assert figures.layers[0].activation_bytes.fixed == 40 * 4 * 4


def test_converted_video_classifier_counts_what_the_keras_spec_counts(tmp_path):
    """Per sample, Keras's TimeDistributed(Conv2D) and the ported Flatten(0, 1) → Conv2d → Unflatten
    count the same: 6,642,432 + 16,588,800 + 14,450,688 (convolutions, 16 frames) + 13,107,200 (LSTM:
    4 × 64 × (3,136 + 64) = 819,200 per step × 16) + 320 (Dense 64 × 5) = 50,789,440; torch's second
    LSTM bias adds parameters, not MACs."""
    code = tmp_path / "video_classifier.py"
    converted = CliRunner().invoke(cli, ["convert", str(SPECS / "video_classifier.yaml"), "--to", "pytorch",
                                         "-o", str(code)])
    assert converted.exit_code == 0, converted.output
    keras = CliRunner().invoke(cli, ["summary", str(SPECS / "video_classifier.yaml"), "--format", "json",
                                     "--columns", "macs"])
    torch = CliRunner().invoke(cli, ["summary", str(code), "--input", "16,64,64,3", "--batch-size", "2",
                                     "--format", "json", "--columns", "macs"])
    assert keras.exit_code == 0 and torch.exit_code == 0, keras.output + torch.output
    keras_report, torch_report = json.loads(keras.output), json.loads(torch.output)
    assert keras_report["compute"]["macs_per_sample"]["value"] == torch_report["compute"]["macs_per_sample"]["value"] \
        == 6642432 + 16588800 + 14450688 + 13107200 + 320
    # layer by layer: the modules written for a Keras layer carry its name (Conv2d: time_distributed)
    keras_layers = {layer["name"]: layer["compute"]["macs"] for layer in keras_report["layers"]}
    torch_layers = {layer["name"]: layer["compute"]["macs"] for layer in torch_report["layers"]}
    for name, total in [("time_distributed", 6642432), ("time_distributed_1", 16588800),
                        ("time_distributed_2", 14450688), ("lstm", 13107200), ("dense", 320)]:
        assert keras_layers[name]["total"] == torch_layers[name]["total"] == total, name
    # 31 × 31 output positions a frame × 16 frames, as TimeDistributed counts them
    assert keras_layers["time_distributed"]["steps"] == torch_layers["time_distributed"]["steps"] == 961 * 16


def test_tensor_specs_differing_in_their_fold_differ():
    plain, folded = TensorSpec((20, 8)), TensorSpec((20, 8), batch_fold=5)
    assert plain != folded and hash(plain) != hash(folded)
    assert folded == TensorSpec((20, 8), "float32", False, None, 0, 5)
