"""nn.BatchNorm1d and its port to and from Keras's BatchNormalization: hand-derived counts and
values, the rules' edge cases, refusals, and the PyTorch code convert writes read back. (Shapes,
parameters and messages against real torch 2.13: test_pytorch_modules.py; values:
test_pytorch_numerics.py; ports proven in real Keras and torch: test_port.py.)"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import yaml

from lstmcalc import analyze_text
from lstmcalc.layers.torch_normalization import momentum_complement
from lstmcalc.port import PortOptions, port_report
from lstmcalc.api import analyze_spec
from lstmcalc.readers.python_torch import SourceOptions, read_torch
from lstmcalc.verify import VerifyOptions, verify_report
from lstmcalc.writers import WRITERS

from .test_port import assert_close, ported_keras_numerics, random_port


def torch_spec(layer: str, shape: str = "[5, 7]", batch: int = 4) -> str:
    return f"framework: pytorch\nbatch_size: {batch}\ninput: {shape}\nlayers:\n  - {layer}\n"


@pytest.mark.parametrize("layer, params, state_dict", [
    # weight and bias, one per channel: 2 × 5 = 10; the three buffers count nowhere
    ("{type: BatchNorm1d, num_features: 5}", 10,
     ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]),
    # bias=False: the weight only, 5
    ("{type: BatchNorm1d, num_features: 5, bias: false}", 5,
     ["weight", "running_mean", "running_var", "num_batches_tracked"]),
    # affine=False: no parameter, 0 (bias is False with it, whatever it says)
    ("{type: BatchNorm1d, num_features: 5, affine: false, bias: true}", 0,
     ["running_mean", "running_var", "num_batches_tracked"]),
    # without running statistics: no buffer, 2 × 5 = 10
    ("{type: BatchNorm1d, num_features: 5, track_running_stats: false}", 10, ["weight", "bias"]),
])
def test_parameters_and_buffers(layer, params, state_dict):
    report = analyze_text(torch_spec(layer))
    assert report.ok, report.diagnostics
    assert (report.totals.params, report.totals.trainable_params, report.totals.non_trainable_params) == \
        (params, params, 0)
    assert report.totals.param_bytes == 4 * params  # float32, buffers left out as torchinfo does
    assert [weight.name for weight in report.layers[0].weights] == state_dict


@pytest.mark.parametrize("layer, shape, x, weights, expected", [
    # running mean 2, var 3, eps 1: (x − 2)/√(3 + 1) = (x − 2)/2; then · γ + β
    ("{type: BatchNorm1d, name: n, num_features: 2, eps: 1.0}", "[2]", [[6.0, 1.0]],
     {"weight": [1.0, 2.0], "bias": [0.5, -1.0], "running_mean": [2.0, 1.0], "running_var": [3.0, 15.0]},
     [[(6 - 2) / 2 * 1 + 0.5, (1 - 1) / 4 * 2 - 1]]),
    # affine=False: (x − μ)/√(σ² + ε) alone, per channel of (N, C, L): channel 0 (μ 1, σ² 0, ε 1),
    # channel 1 (μ 0, σ² 8, ε 1 → /3)
    ("{type: BatchNorm1d, name: n, num_features: 2, eps: 1.0, affine: false}", "[2, 2]", [[[3.0, -1.0], [6.0, 0.0]]],
     {"running_mean": [1.0, 0.0], "running_var": [0.0, 8.0], "num_batches_tracked": 0},
     [[[2.0, -2.0], [2.0, 0.0]]]),
    # no running statistics: the batch's, over N and L — channel 0 has 1, 3, 5, 7: mean 4, biased
    # variance (9 + 1 + 1 + 9)/4 = 5, and eps 4 makes √9 = 3
    ("{type: BatchNorm1d, name: n, num_features: 1, eps: 4.0, affine: false, track_running_stats: false}", "[1, 2]",
     [[[1.0, 3.0]], [[5.0, 7.0]]], {}, [[[-1.0, -1 / 3]], [[1 / 3, 1.0]]]),
])
def test_forward_by_hand(layer, shape, x, weights, expected):
    report = analyze_text(torch_spec(layer, shape, batch=len(x)))
    arrays = {f"n.{key}": np.asarray(value, dtype="float32") for key, value in weights.items()}
    if "n.running_mean" in arrays:
        arrays["n.num_batches_tracked"] = np.asarray(0)
    run = verify_report(report, VerifyOptions(weights=arrays, inputs={report.inputs[0].name: np.asarray(
        x, dtype="float32")}))
    assert run.ok, run.diagnostics
    np.testing.assert_allclose(run.outputs["n"], expected, rtol=1e-6)


@pytest.mark.parametrize("keras, torch", [
    (0.99, 0.01),   # Keras's default; 1 − 0.99 in floats would be 0.010000000000000009
    (0.9, 0.1),     # torch's default
    (0.95, 0.05),
    (0.0, 1.0),
    (1.0, 0.0),
])
def test_momentum_is_the_complement_of_the_written_decimal(keras, torch):
    assert momentum_complement(keras) == torch and momentum_complement(torch) == keras


def test_scale_without_center_ports_with_a_weight_of_ones():
    """BatchNormalization(axis=1, scale=False, epsilon=0.1) recorded in real Keras: torch's affine
    has a weight whenever it has a bias, so the weight is ones — the same function."""
    keras, result, run = ported_keras_numerics("batch-normalization-axis1")
    assert result.spec["layers"] == [{"type": "BatchNorm1d", "name": "batch_normalization", "num_features": 5,
                                      "eps": 0.1, "momentum": 0.01}]
    np.testing.assert_array_equal(result.weights["batch_normalization.weight"], np.ones(5, dtype="float32"))
    np.testing.assert_array_equal(result.weights["batch_normalization.bias"],
                                  keras["weights/batch_normalization/beta"])
    assert_close(run.outputs["batch_normalization"], keras["outputs/batch_normalization"], "output")


@pytest.mark.parametrize("text, target, fragment", [
    ("input: [4, 4, 3]\nlayers:\n  - BatchNormalization()\n", "pytorch", "rank-4 input"),
    ("input: [5, 4]\nlayers:\n  - BatchNormalization(renorm=True)\n", "pytorch", "renorm"),
    (torch_spec("{type: BatchNorm1d, num_features: 5, track_running_stats: false}"), "keras",
     "without track_running_stats"),
    (torch_spec("{type: BatchNorm1d, num_features: 5, momentum: null}"), "keras", "momentum None"),
])
def test_what_has_no_counterpart_is_refused(text, target, fragment):
    result = random_port(text, target)
    (finding,) = [d for d in result.diagnostics if d.is_error]
    assert finding.code == "P002" and fragment in finding.message and finding.hint, finding


def test_torch_to_keras_reads_the_channels_where_the_keras_model_has_them():
    """After a Conv1d between Permutes the Keras model holds (N, L, C): BatchNormalization axis -1;
    on (N, C, L) as it is: axis 1; on (N, C): -1. momentum 0.1 → 0.9, eps → epsilon."""
    text = ("framework: pytorch\nbatch_size: 3\ninput: [9, 4]\nlayers:\n"
            "  - {type: Permute, dims: [0, 2, 1]}\n  - {type: Conv1d, name: conv, out_channels: 3, kernel_size: 2}\n"
            "  - {type: BatchNorm1d, name: after_conv, num_features: 3, eps: 0.01}\n"
            "  - {type: BatchNorm1d, name: channels_first, num_features: 3, momentum: 0.3, affine: false}\n"
            "  - {type: Permute, dims: [0, 2, 1]}\n  - {type: BatchNorm1d, name: steps, num_features: 8, bias: false}\n"
            "  - {type: Flatten}\n  - {type: BatchNorm1d, name: flat, num_features: 24}\n")
    report = analyze_text(text)
    rng = np.random.default_rng(0)
    weights = {f"{layer.name}.{weight.name}": rng.uniform(*((0.5, 1.5) if weight.initial == "positive" else (-0.5, 0.5)),
                                                          weight.shape).astype("float32")
               for layer in report.layers for weight in layer.weights}  # variances positive
    result = port_report(report, PortOptions(target="keras", weights=weights))
    assert result.ok, result.diagnostics
    norms = {entry["name"]: entry for entry in result.spec["layers"] if entry["type"] == "BatchNormalization"}
    assert norms == {
        "after_conv": {"type": "BatchNormalization", "name": "after_conv", "axis": -1, "momentum": 0.9,
                       "epsilon": 0.01},
        "channels_first": {"type": "BatchNormalization", "name": "channels_first", "axis": -1, "momentum": 0.7,
                           "epsilon": 1e-05, "center": False, "scale": False},
        "steps": {"type": "BatchNormalization", "name": "steps", "axis": 1, "momentum": 0.9, "epsilon": 1e-05,
                  "center": False},
        "flat": {"type": "BatchNormalization", "name": "flat", "axis": -1, "momentum": 0.9, "epsilon": 1e-05}}
    assert result.largest_difference <= 1e-5


def test_convert_writes_batchnorm1d_code_that_reads_back_as_the_ported_model():
    keras = "input: [5, 4]\nlayers:\n  - BatchNormalization(momentum=0.9, epsilon=0.01, center=False)\n  - LSTM(3)\n"
    report = analyze_text(keras)
    code = WRITERS["pytorch"].write(report)
    assert "self.batch_normalization = nn.BatchNorm1d(4, eps=0.01, bias=False)" in code
    assert "input_layer.permute(0, 2, 1)" in code
    spec, diagnostics = read_torch(code, "model.py", None, SourceOptions((5, 4), None, 2))
    assert spec is not None, diagnostics
    back = analyze_spec(spec)
    ported = random_port(keras, "pytorch", batch_size=2)
    expected = analyze_text(yaml.safe_dump(ported.spec))
    assert [(layer.name, layer.type, layer.output_shapes, layer.params, [w.name for w in layer.weights])
            for layer in back.layers] == \
        [(layer.name, layer.type, layer.output_shapes, layer.params, [w.name for w in layer.weights])
         for layer in expected.layers]


def test_source_with_batchnorm1d_reads_as_torch_runs_it():
    """nn.BatchNorm1d written as people write it, features normalised between transposes."""
    code = textwrap.dedent("""
        import torch
        from torch import nn


        class Forecaster(nn.Module):
            def __init__(self, features=6, hidden=16):
                super().__init__()
                self.lstm = nn.LSTM(features, hidden, batch_first=True)
                self.norm = nn.BatchNorm1d(hidden, momentum=0.01)
                self.head = nn.Linear(hidden, 1)

            def forward(self, x):
                out, _ = self.lstm(x)
                out = self.norm(out.transpose(1, 2)).transpose(1, 2)
                return self.head(out[:, -1, :])
        """)
    spec, diagnostics = read_torch(code, "model.py", None, SourceOptions((30, 6), None, 8))
    assert spec is not None, diagnostics
    report = analyze_spec(spec)
    assert report.ok, report.diagnostics
    norm = report.layer("norm")
    # 2 × 16 parameters; running_mean, running_var, num_batches_tracked in the state_dict only
    assert norm.output_shapes == [(8, 16, 30)] and norm.params == 32
    # LSTM 4 × 16 × (6 + 16) + 2 × 4 × 16 = 1,536; BatchNorm1d 32; Linear 16 + 1 = 17
    assert report.totals.params == 1536 + 32 + 17


def test_json_marks_buffers_so_params_are_the_other_weights():
    # BatchNorm1d(3): weight 3 + bias 3 = 6 parameters; running_mean 3, running_var 3 and
    # num_batches_tracked () = 1 are buffers, marked "buffer": true in the JSON and in no count.
    import json

    from lstmcalc import analyze_text
    from lstmcalc.render import RenderOptions, get_renderer

    report = analyze_text("framework: pytorch\nbatch_size: 2\ninput: [3]\nlayers:\n  - {type: BatchNorm1d, num_features: 3}\n")
    (layer,) = json.loads(get_renderer("json")(report, RenderOptions()))["layers"]
    assert [w["name"] for w in layer["weights"] if w.get("buffer")] == ["running_mean", "running_var",
                                                                         "num_batches_tracked"]
    assert layer["params"] == 6 == sum(w["shape"][0] for w in layer["weights"] if not w.get("buffer"))
