"""nn.Conv2d and nn.Unflatten in PyTorch specs, and porting Keras's Conv2D and TimeDistributed to
them. torch 2.13's own numbers are in tests/fixtures/pytorch (modules_*, numerics/conv2d-*, macs_*,
round_trip.json; compared in test_pytorch_*.py and test_convert.py); here the arithmetic is written
out by hand, and the port is checked end to end through the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from lstmcalc import analyze_text
from lstmcalc.cli import cli
from lstmcalc.compute import compute_figures
from lstmcalc.port import PortOptions, port_report, ported_spec

SPECS = __import__("pathlib").Path(__file__).resolve().parent.parent / "specs"


def torch_spec(layer: str, input_shape, batch: int = 4) -> str:
    return f"framework: pytorch\nbatch_size: {batch}\ninput: {list(input_shape)}\nlayers:\n  - {layer}\n"


@pytest.mark.parametrize("layer, input_shape, output, params", [
    # H: 12 − 3 + 1 = 10, W: 10 − 3 + 1 = 8; 8 × 3 × 3 × 3 + 8 = 224
    ("{type: Conv2d, out_channels: 8, kernel_size: 3}", (3, 12, 10), (4, 8, 10, 8), 224),
    # H: ⌊(12 + 2·1 − 3) / 2⌋ + 1 = 6, W: ⌊(10 + 0 − 2) / 1⌋ + 1 = 9; 8 × 3 × 3 × 2 + 8 = 152
    ("{type: Conv2d, out_channels: 8, kernel_size: [3, 2], stride: [2, 1], padding: [1, 0]}", (3, 12, 10),
     (4, 8, 6, 9), 152),
    # 'same' keeps 12 × 10 (dilation 2: 2 + 2 zeros per axis); 224 as above
    ("{type: Conv2d, out_channels: 8, kernel_size: 3, dilation: 2, padding: same}", (3, 12, 10), (4, 8, 12, 10), 224),
    # dilation (1, 3): W spans 3·(3 − 1) + 1 = 7 → 10 − 7 + 1 = 4; H 12 − 3 + 1 = 10
    ("{type: Conv2d, out_channels: 8, kernel_size: 3, dilation: [1, 3]}", (3, 12, 10), (4, 8, 10, 4), 224),
    # groups 3: weight (9, 6 / 3, 3, 2) = 108, + 9 bias = 117; H 12 − 3 + 1 = 10, W 10 − 2 + 1 = 9
    ("{type: Conv2d, out_channels: 9, kernel_size: [3, 2], groups: 3}", (6, 12, 10), (4, 9, 10, 9), 117),
    # no bias: 8 × 3 × 2 × 2 = 96; stride 2: ⌊(12 − 2) / 2⌋ + 1 = 6, ⌊(10 − 2) / 2⌋ + 1 = 5
    ("{type: Conv2d, out_channels: 8, kernel_size: 2, stride: 2, bias: false}", (3, 12, 10), (4, 8, 6, 5), 96),
    # reflect padding 2: (12 + 4 − 3) + 1 = 14, (10 + 4 − 3) + 1 = 12
    ("{type: Conv2d, out_channels: 8, kernel_size: 3, padding: 2, padding_mode: reflect}", (3, 12, 10),
     (4, 8, 14, 12), 224),
    # MaxPool2d(2): stride = kernel_size, ⌊(12 − 2) / 2⌋ + 1 = 6, ⌊(10 − 2) / 2⌋ + 1 = 5
    ("{type: MaxPool2d, kernel_size: 2}", (3, 12, 10), (4, 3, 6, 5), 0),
    # ceil_mode: H ⌈(12 + 2 − 3) / 2⌉ + 1 = 7 (the last window starts at 6·2 = 12 < 12 + 1, inside);
    # W ⌈(10 + 2 − 3) / 2⌉ + 1 = 6 (5·2 = 10 < 10 + 1)
    ("{type: AvgPool2d, kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}", (3, 12, 10), (4, 3, 7, 6), 0),
    # dilation (2, 1): H spans 2·(3 − 1) + 1 = 5 → 12 − 5 + 1 = 8; W (10 − 2) / 2 + 1 = 5
    ("{type: MaxPool2d, kernel_size: [3, 2], stride: [1, 2], dilation: [2, 1]}", (3, 12, 10), (4, 3, 8, 5), 0),
    # nn.Unflatten: 6 = 2 × 3 on the last axis
    ("{type: Unflatten, dim: -1, unflattened_size: [2, 3]}", (7, 6), (4, 7, 2, 3), 0),
    # nn.Unflatten with -1: 6 / 3 = 2
    ("{type: Unflatten, dim: 1, unflattened_size: [-1, 3]}", (6, 5), (4, 2, 3, 5), 0),
])
def test_shapes_and_parameters(layer, input_shape, output, params):
    report = analyze_text(torch_spec(layer, input_shape))
    assert report.ok, [d.message for d in report.errors]
    assert report.layers[0].output_shapes == [output]
    assert report.totals.params == params


@pytest.mark.parametrize("layer, input_shape, per_position, positions", [
    # kH × kW × in / groups × out = 3 × 3 × 3 × 8 = 216 at each of 10 × 8 = 80 output positions
    ("{type: Conv2d, out_channels: 8, kernel_size: 3}", (3, 12, 10), 216, 80),
    # 3 × 2 × (6 / 3) × 9 = 108 at 10 × 9 = 90 positions
    ("{type: Conv2d, out_channels: 9, kernel_size: [3, 2], groups: 3}", (6, 12, 10), 108, 90),
])
def test_macs_per_sample(layer, input_shape, per_position, positions):
    report = analyze_text(torch_spec(layer, input_shape))
    macs = compute_figures(report).layer(report.layers[0].name).macs
    assert (macs.per_step.value, macs.steps, macs.total) == (per_position, positions, per_position * positions)


@pytest.mark.parametrize("layer, input_shape, words", [
    # torch: "Calculated padded input size per channel: (12 x 12). Kernel size: (13 x 2)."
    ("{type: Conv2d, out_channels: 8, kernel_size: [13, 2]}", (3, 12, 12), "(12 x 12). Kernel size: (13 x 2)"),
    ("{type: Conv2d, in_channels: 5, out_channels: 8, kernel_size: 3}", (3, 12, 12),
     "weight of size [8, 5, 3, 3], expected input[4, 3, 12, 12] to have 5 channels, but got 3"),
    ("{type: Conv2d, out_channels: 8, kernel_size: 3, stride: [1, 2], padding: same}", (3, 12, 12),
     "padding='same' is not supported for strided convolutions"),
    ("{type: Conv2d, out_channels: 8, kernel_size: 3}", (3, 12, 12, 2),
     "Expected 3D (unbatched) or 4D (batched) input to conv2d"),
    ("{type: Conv2d, out_channels: 8, kernel_size: [3, 3, 3]}", (3, 12, 12), "`kernel_size` must be an int"),
    ("{type: MaxPool2d, kernel_size: [2, 11]}", (3, 12, 10),
     "Given input size: (3x12x10). Calculated output size: (3x6x0). Output size is too small"),
    ("{type: AvgPool2d, kernel_size: [3, 2], padding: [1, 2]}", (3, 12, 10),
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1"),
    ("{type: Unflatten, dim: 1, unflattened_size: [-1, 2]}", (7, 5),
     "Provided sizes [-1, 2] don't multiply up to the size of dim 1 (7)"),
])
def test_refusals(layer, input_shape, words):
    report = analyze_text(torch_spec(layer, input_shape))
    assert not report.ok
    assert any(words in d.message for d in report.errors), [d.message for d in report.errors]


def test_conv2d_forward_is_a_cross_correlation():
    """One 2 × 2 filter of ones on a 3 × 3 ramp 0 … 8: each output sums its window, e.g.
    y[0, 0] = 0 + 1 + 3 + 4 = 8 and y[1, 1] = 4 + 5 + 7 + 8 = 24, plus the bias 0.5."""
    from lstmcalc.verify import VerifyOptions, verify_report

    report = analyze_text(torch_spec("{type: Conv2d, name: conv, out_channels: 1, kernel_size: 2}", (1, 3, 3), 1))
    x = np.arange(9, dtype="float32").reshape(1, 1, 3, 3)
    weights = {"conv.weight": np.ones((1, 1, 2, 2), "float32"), "conv.bias": np.array([0.5], "float32")}
    run = verify_report(report, VerifyOptions(weights=weights, inputs={report.inputs[0].name: x}, keep_arrays=True))
    assert run.ok
    np.testing.assert_array_equal(run.arrays["conv"][0], [[[[8.5, 12.5], [20.5, 24.5]]]])


# -- porting Keras → PyTorch -------------------------------------------------------------------------

def keras_spec(layers: str, input_shape) -> str:
    shape = ", ".join("null" if dim is None else str(dim) for dim in input_shape)
    return f"input: [{shape}]\nlayers:\n" + "".join(f"  - {layer}\n" for layer in layers.split(";"))


def random_keras_weights(report, seed=0):
    rng = np.random.default_rng(seed)
    return {f"{layer.name}/{weight.name}": rng.uniform(-0.5, 0.5, weight.shape).astype("float32")
            for layer in report.layers for weight in layer.weights}


@pytest.mark.parametrize("layers, input_shape, types, conv", [
    # Conv2D alone: Permute (N, H, W, C) → (N, C, H, W), Conv2d, ReLU, back to channels last
    ("Conv2D(4, 3, activation='relu')", (7, 6, 2), ["Permute", "Conv2d", "ReLU", "Permute"],
     {"out_channels": 4, "kernel_size": 3}),
    # two convolutions share the layout: no Permute between them; Flatten flattens channels last
    ("Conv2D(4, 3);Conv2D(5, (3, 2), strides=(2, 1));Flatten()", (9, 8, 2),
     ["Permute", "Conv2d", "Conv2d", "Permute", "Flatten"], {"out_channels": 4, "kernel_size": 3}),
    # TensorFlow's 'same' with strides 2 on 7: ⌈7 / 2⌉ = 4 steps, (4 − 1)·2 + 3 − 7 = 2 zeros, 1 on each side
    ("Conv2D(4, 3, strides=2, padding='same')", (7, 7, 2), ["Permute", "Conv2d", "Permute"],
     {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1}),
    # TimeDistributed: batch and time folded, the wrapped layer's port, unfolded to (N, 5, ...)
    ("TimeDistributed(Conv2D(4, 3))", (5, 6, 6, 2),
     ["Flatten", "Permute", "Conv2d", "Permute", "Unflatten"], {"out_channels": 4, "kernel_size": 3}),
    # consecutive TimeDistributed layers share one fold (and the convolutions one layout); a
    # TimeDistributed(Dense) after it is a Linear on the last axis, no fold
    ("TimeDistributed(Conv2D(4, 3));TimeDistributed(MaxPooling2D());TimeDistributed(Flatten());"
     "TimeDistributed(Dense(3))", (5, 8, 8, 2),
     ["Flatten", "Permute", "Conv2d", "MaxPool2d", "Permute", "Flatten", "Unflatten", "Linear"],
     {"out_channels": 4, "kernel_size": 3}),
])
def test_keras_conv2d_ports_and_proves_itself(layers, input_shape, types, conv):
    report = analyze_text(keras_spec(layers, input_shape))
    result = port_report(report, PortOptions(target="pytorch", weights=random_keras_weights(report)))
    assert result.ok, [d.message for d in result.diagnostics]
    written = result.spec["layers"]
    assert [entry["type"] for entry in written] == types
    first = next(entry for entry in written if entry["type"] == "Conv2d")
    assert {key: value for key, value in first.items() if key not in ("type", "name")} == conv
    assert result.largest_difference <= 1e-5


def test_pooling_forward_by_hand():
    """A 4 × 4 ramp 0 … 15: MaxPool2d(2) takes each 2 × 2 block's last value (5, 7, 13, 15) and
    where it is (flat indices 5, 7, 13, 15); AvgPool2d(3, stride=3, padding=1) over rows 0–1 and
    columns 0–1 of the padded input sums 0 + 1 + 4 + 5 = 10, divided by all 9 window taps with
    count_include_pad (10 / 9) or by the 4 inside the input without (2.5)."""
    from lstmcalc.verify import VerifyOptions, verify_report

    x = np.arange(16, dtype="float32").reshape(1, 1, 4, 4)
    for layer, key, expected in [
            ("{type: MaxPool2d, name: pool, kernel_size: 2, return_indices: true}", 0, [[[[5, 7], [13, 15]]]]),
            ("{type: MaxPool2d, name: pool, kernel_size: 2, return_indices: true}", 1, [[[[5, 7], [13, 15]]]]),
            ("{type: AvgPool2d, name: pool, kernel_size: 3, stride: 3, padding: 1}", 0, 10 / 9),
            ("{type: AvgPool2d, name: pool, kernel_size: 3, stride: 3, padding: 1, count_include_pad: false}", 0, 2.5)]:
        report = analyze_text(torch_spec(layer, (1, 4, 4), 1))
        run = verify_report(report, VerifyOptions(inputs={report.inputs[0].name: x}, keep_arrays=True))
        assert run.ok
        output = run.arrays["pool"][key]
        if isinstance(expected, float):
            assert output[0, 0, 0, 0] == pytest.approx(expected)
        else:
            np.testing.assert_array_equal(output, expected)


def test_keras_pooling_ports_between_the_same_permutes():
    """Conv2D → MaxPooling2D → AveragePooling2D: one Permute before, one after (channels first
    all along); 'valid' pooling has no padding to count."""
    report = analyze_text(keras_spec("Conv2D(4, 3);MaxPooling2D();AveragePooling2D((2, 3), strides=1)", (12, 12, 2)))
    result = port_report(report, PortOptions(target="pytorch", weights=random_keras_weights(report)))
    assert result.ok, [d.message for d in result.diagnostics]
    assert [(entry["type"], entry.get("kernel_size"), entry.get("stride")) for entry in result.spec["layers"]] == [
        ("Permute", None, None), ("Conv2d", 3, None), ("MaxPool2d", 2, None), ("AvgPool2d", [2, 3], 1),
        ("Permute", None, None)]


def test_time_distributed_unfolds_to_its_number_of_steps():
    report = analyze_text(keras_spec("TimeDistributed(Conv2D(4, 3))", (5, 6, 6, 2)))
    written = ported_spec(report, "pytorch").spec["layers"]
    assert written[0] == {"type": "Flatten", "name": "time_distributed_fold", "start_dim": 0, "end_dim": 1}
    assert written[-1] == {"type": "Unflatten", "name": "time_distributed_unfold", "dim": 0,
                           "unflattened_size": [-1, 5]}


@pytest.mark.parametrize("layers, input_shape, words", [
    # 'same' with strides 2 on 8: ⌈8 / 2⌉ = 4 steps, (4 − 1)·2 + 3 − 8 = 1 zero: after only
    ("Conv2D(4, 3, strides=2, padding='same')", (8, 8, 2), "pads [(0, 1), (0, 1)] (before, after)"),
    ("TimeDistributed(Conv2D(4, 3, strides=2, padding='same'))", (5, 8, 8, 2),
     "the Conv2D it wraps has none (padding 'same' with strides (2, 2)"),
    ("Conv2D(4, 3, data_format='channels_first')", (2, 8, 8), "lstmcalc ports channels-last convolutions"),
    ("Conv3D(4, 3)", (5, 8, 8, 2), "Conv1d and Conv2d"),
    # torch's unflatten needs the number of steps
    ("TimeDistributed(Conv2D(4, 3))", (None, 8, 8, 2), "unknown number of steps"),
])
def test_what_torch_cannot_pad_is_refused(layers, input_shape, words):
    result = ported_spec(analyze_text(keras_spec(layers, input_shape)), "pytorch")
    assert result.spec is None
    assert words in result.diagnostics[0].message, result.diagnostics[0].message


def test_video_classifier_converts_and_ports_through_the_cli(tmp_path):
    spec = SPECS / "video_classifier.yaml"
    converted = CliRunner().invoke(cli, ["convert", str(spec), "--to", "pytorch"])
    assert converted.exit_code == 0, converted.output
    assert "nn.Conv2d(3, 16, 3, stride=2)" in converted.output
    assert "nn.Unflatten(0, [-1, 16])" in converted.output
    report = analyze_text(spec.read_text(encoding="utf-8"))
    np.savez(tmp_path / "keras.npz", **random_keras_weights(report))
    ported = CliRunner().invoke(cli, ["port", str(spec), "--weights", str(tmp_path / "keras.npz"), "--to", "pytorch",
                                      "-o", str(tmp_path / "torch.npz"), "--spec-out", str(tmp_path / "torch.yaml")])
    assert ported.exit_code == 0, ported.output
    torch_report = analyze_text((tmp_path / "torch.yaml").read_text(encoding="utf-8"))
    # Keras's 843,365 plus torch's second LSTM bias: 4 × 64 = 256
    assert torch_report.totals.params == 843365 + 256
    with np.load(tmp_path / "torch.npz") as weights:
        # kernel (3, 3, 3, 16) → weight (16, 3, 3, 3)
        assert weights["time_distributed.weight"].shape == (16, 3, 3, 3)
        with np.load(tmp_path / "keras.npz") as keras:
            np.testing.assert_array_equal(weights["time_distributed.weight"],
                                          keras["time_distributed/kernel"].transpose(3, 2, 0, 1))


def test_refused_convolution_exits_1(tmp_path):
    spec = tmp_path / "model.yaml"
    spec.write_text(keras_spec("Conv2D(4, 3, strides=2, padding='same')", (8, 8, 2)), encoding="utf-8")
    result = CliRunner().invoke(cli, ["convert", str(spec), "--to", "pytorch"])
    assert result.exit_code == 1
    assert "torch pads both sides alike" in result.output


def test_pytorch_conv2d_ports_to_keras_conv2d():
    report = analyze_text(torch_spec("{type: Conv2d, name: conv, out_channels: 4, kernel_size: [3, 2], stride: 2, "
                                     "padding: valid}", (2, 9, 8), 2))
    rng = np.random.default_rng(1)
    weights = {"conv.weight": rng.uniform(-1, 1, (4, 2, 3, 2)).astype("float32"),
               "conv.bias": rng.uniform(-1, 1, (4,)).astype("float32")}
    result = port_report(report, PortOptions(target="keras", weights=weights))
    assert result.ok, [d.message for d in result.diagnostics]
    # The input's channels go last (Keras's Permute leaves the batch out), and back after.
    assert [(entry["type"], entry.get("dims")) for entry in result.spec["layers"]] == \
        [("Permute", [2, 3, 1]), ("Conv2D", None), ("Permute", [3, 1, 2])]
    assert yaml.safe_dump(result.spec["layers"][1], sort_keys=True) == yaml.safe_dump(
        {"type": "Conv2D", "name": "conv", "filters": 4, "kernel_size": [3, 2], "strides": [2, 2]}, sort_keys=True)
    np.testing.assert_array_equal(result.weights["conv/kernel"], weights["conv.weight"].transpose(2, 3, 1, 0))


# -- porting PyTorch → Keras: a fold of batch and time reads back as TimeDistributed ------------------

def random_torch_weights(report, seed=0):
    rng = np.random.default_rng(seed)
    return {f"{layer.name}.{weight.name}": rng.uniform(-0.5, 0.5, weight.shape).astype("float32")
            for layer in report.layers for weight in layer.weights}


def video_classifier_in_torch():
    """The PyTorch spec video_classifier.yaml ports to: nn.Flatten(0, 1), permutes, Conv2d + ReLU
    three times, nn.Flatten(), nn.Unflatten(0, (-1, 16)), LSTM, Linear."""
    report = analyze_text((SPECS / "video_classifier.yaml").read_text(encoding="utf-8"))
    return ported_spec(report, "pytorch").spec


def test_video_classifier_torch_code_converts_back_to_the_keras_model(tmp_path):
    converted = CliRunner().invoke(cli, ["convert", str(SPECS / "video_classifier.yaml"), "--to", "pytorch",
                                         "-o", str(tmp_path / "model.py")])
    assert converted.exit_code == 0, converted.output
    back = CliRunner().invoke(cli, ["convert", str(tmp_path / "model.py"), "--to", "keras", "--input", "16,64,64,3",
                                    "--batch-size", "2", "-o", str(tmp_path / "keras_model.py")])
    assert back.exit_code == 0, back.output
    summary = CliRunner().invoke(cli, ["summary", str(tmp_path / "keras_model.py"), "--format", "json"])
    assert summary.exit_code == 0, summary.output
    written = __import__("json").loads(summary.output)
    # The fold, the permutes and the unflatten write nothing; each ReLU is its Conv2D's activation.
    assert [(layer["name"], layer["type"], layer["output_shapes"][0], layer["params"])
            for layer in written["layers"]] == [
        ("time_distributed", "TimeDistributed", [None, 16, 31, 31, 16], 3 * 3 * 3 * 16 + 16),  # 448
        ("time_distributed_1", "TimeDistributed", [None, 16, 15, 15, 32], 3 * 3 * 16 * 32 + 32),  # 4,640
        ("time_distributed_2", "TimeDistributed", [None, 16, 7, 7, 64], 3 * 3 * 32 * 64 + 64),  # 18,496
        ("time_distributed_3", "TimeDistributed", [None, 16, 3136], 0),  # Flatten: 7 × 7 × 64 = 3,136
        ("lstm", "LSTM", [None, 64], 4 * (64 * (3136 + 64) + 64)),  # 819,456
        ("dense", "Dense", [None, 5], 64 * 5 + 5)]  # 325
    assert written["totals"]["params"] == 448 + 4640 + 18496 + 819456 + 325 == 843365
    assert "TimeDistributed(layer=layers.Conv2D(filters=16, kernel_size=[3, 3], strides=[2, 2], " \
           "activation='relu'))" in (tmp_path / "keras_model.py").read_text(encoding="utf-8")


def test_video_classifier_in_torch_ports_to_keras_and_proves_itself(tmp_path):
    """lstmcalc port runs both forward passes: the unfolded tensor, the LSTM's last step and the
    output agree; the Conv2d weight (out, in, kH, kW) comes back as Keras's kernel (kH, kW, in, out)."""
    spec = tmp_path / "torch.yaml"
    spec.write_text(yaml.safe_dump(video_classifier_in_torch(), sort_keys=False), encoding="utf-8")
    report = analyze_text(spec.read_text(encoding="utf-8"))
    weights = random_torch_weights(report)
    np.savez(tmp_path / "torch.npz", **weights)
    ported = CliRunner().invoke(cli, ["port", str(spec), "--weights", str(tmp_path / "torch.npz"), "--to", "keras",
                                      "-o", str(tmp_path / "keras.npz"), "--spec-out", str(tmp_path / "keras.yaml")])
    assert ported.exit_code == 0, ported.output
    result = port_report(report, PortOptions(target="keras", weights=weights))
    assert result.ok and result.largest_difference <= 1e-5
    assert [(item.source, item.target, item.shape) for item in result.comparisons] == [
        ("time_distributed_3_unfold", "time_distributed_3", (2, 16, 3136)), ("lstm_last", "lstm", (2, 64)),
        ("dense_activation", "dense", (2, 5))]
    keras = analyze_text((tmp_path / "keras.yaml").read_text(encoding="utf-8"))
    assert keras.totals.params == 843365  # torch's 843,621 less the LSTM's second bias, 4 × 64 = 256
    with np.load(tmp_path / "keras.npz") as written:
        np.testing.assert_array_equal(written["time_distributed_1/kernel"],
                                      weights["time_distributed_1.weight"].transpose(2, 3, 1, 0))


def fold_spec(*layers: str, input_shape=(4, 6, 6, 2)) -> str:
    return (f"framework: pytorch\nbatch_size: 3\ninput: {list(input_shape)}\nlayers:\n"
            + "".join(f"  - {layer}\n" for layer in layers))


FOLD = "{type: Flatten, name: fold, start_dim: 0, end_dim: 1}"
TO_CHANNELS = "{type: Permute, name: to_channels, dims: [0, 3, 1, 2]}"
CONV = "{type: Conv2d, name: conv, out_channels: 3, kernel_size: 3}"
TO_STEPS = "{type: Permute, name: to_steps, dims: [0, 2, 3, 1]}"


@pytest.mark.parametrize("layers, words", [
    # T = 4 folded, 2 given back (3 × 4 = 12 rows = 6 × 2: torch splits them, into other samples)
    ((FOLD, TO_CHANNELS, CONV, "{type: Flatten, name: flat}", "{type: Unflatten, name: unfold, dim: 0, "
                                                                "unflattened_size: [-1, 2]}"),
     "gives back the 4 steps fold folded into the batch"),
    # the fold never ends: the output has no batch axis
    ((FOLD, TO_CHANNELS, CONV), "no nn.Unflatten(0, (-1, steps)) after it gives the steps back"),
    # an unflatten of the batch with no fold before it
    (("{type: Unflatten, name: unfold, dim: 0, unflattened_size: [-1, 1]}",),
     "no nn.Flatten(0, 1) before it folded the time axis into it"),
    # nothing between the fold and its unflatten
    ((FOLD, "{type: Unflatten, name: unfold, dim: 0, unflattened_size: [-1, 4]}"), "no module between fold and it"),
    # a fold inside a fold
    ((FOLD, TO_CHANNELS, "{type: Flatten, name: again, start_dim: 0, end_dim: 1}"),
     "folds the batch again inside the fold fold began"),
    # the batch folded with two axes: not TimeDistributed's fold
    (("{type: Flatten, name: fold, start_dim: 0, end_dim: 2}",), "folds the batch into one axis with others"),
])
def test_what_does_not_read_back_as_time_distributed_is_refused(layers, words, tmp_path):
    spec = tmp_path / "model.yaml"
    spec.write_text(fold_spec(*layers), encoding="utf-8")
    assert analyze_text(spec.read_text(encoding="utf-8")).ok
    result = CliRunner().invoke(cli, ["convert", str(spec), "--to", "keras"])
    assert result.exit_code == 1
    assert words in " ".join(result.output.split()), result.output


@pytest.mark.parametrize("layers, input_shape, written", [
    # permute to channels first, Conv2d, back: Keras's Conv2D reads channels last, no Permute
    ((TO_CHANNELS, CONV, "{type: ReLU, name: relu}", TO_STEPS, "{type: Flatten, name: flat}"), (6, 6, 2),
     [("Conv2D", "relu"), ("Flatten", None)]),
    # the same inside a fold: each module is a TimeDistributed layer
    ((FOLD, TO_CHANNELS, CONV, TO_STEPS, "{type: Flatten, name: flat}",
      "{type: Unflatten, name: unfold, dim: 0, unflattened_size: [-1, 4]}", "{type: Linear, name: head, out_features: 2}"),
     (4, 6, 6, 2), [("TimeDistributed", "Conv2D"), ("TimeDistributed", "Flatten"), ("Dense", None)]),
    # a Linear inside the fold is a TimeDistributed(Dense), its Tanh the Dense's activation; the
    # unflatten may name the batch (3) instead of -1
    ((FOLD, "{type: Linear, name: head, out_features: 2}", "{type: Tanh, name: tanh}",
      "{type: Unflatten, name: unfold, dim: 0, unflattened_size: [3, 4]}"), (4, 6, 6, 2), [("TimeDistributed", "Dense")]),
])
def test_folds_and_permutes_port_to_keras_and_prove_themselves(layers, input_shape, written):
    report = analyze_text(fold_spec(*layers, input_shape=input_shape))
    result = port_report(report, PortOptions(target="keras", weights=random_torch_weights(report)))
    assert result.ok, result.diagnostics
    entries = result.spec["layers"]
    assert [(entry["type"], entry["layer"]["type"] if "layer" in entry else entry.get("activation"))
            for entry in entries] == written
