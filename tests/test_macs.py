"""Multiply–accumulates per sample of every layer type, derived by hand (docs/compute.md).

Convention: one MAC per product of a weight with an input value in a matrix product or a
convolution; biases, activations, element-wise gate products, pooling and normalisation are not
counted. Recurrent layers loop over every step, whatever return_sequences says.
"""

from __future__ import annotations

import pytest

from lstmcalc import analyze_layers
from lstmcalc.compute import compute_figures
from lstmcalc.layers.registry import all_layer_classes

N = None

# (id, input shape without batch, layer, MACs per step, steps, total per sample)
CASES = [
    # --- LSTM: 4 gates × units × (features + units) per step
    ("lstm", [50, 10], "LSTM(128)", 4 * 128 * (10 + 128), 50, 4 * 128 * 138 * 50),  # 70,656 × 50 = 3,532,800
    ("lstm-sequences", [50, 10], "LSTM(128, return_sequences=True)", 70656, 50, 3532800),  # same loop
    ("lstm-no-bias", [10, 5], "LSTM(8, use_bias=False)", 4 * 8 * (5 + 8), 10, 416 * 10),  # bias adds no MAC
    ("lstm-unknown-length", [N, 5], "LSTM(8)", 416, N, N),  # per step only
    # --- GRU: 3 gates; reset_after changes where r multiplies, not how many products
    ("gru", [20, 16], "GRU(32)", 3 * 32 * (16 + 32), 20, 4608 * 20),  # 92,160
    ("gru-reset-before", [20, 16], "GRU(32, reset_after=False)", 3 * 32 * 48, 20, 92160),
    # --- SimpleRNN: units × (features + units)
    ("simple-rnn", [7, 3], "SimpleRNN(4)", 4 * (3 + 4), 7, 28 * 7),  # 196
    # --- Bidirectional: both copies read every step
    ("bidirectional", [100, 16], "Bidirectional(LSTM(64, return_sequences=True))",
     2 * 4 * 64 * (16 + 64), 100, 40960 * 100),  # 4,096,000
    ("bidirectional-gru-mul", [100, 16], "Bidirectional(GRU(8), merge_mode='mul')",
     2 * 3 * 8 * (16 + 8), 100, 1152 * 100),  # 115,200; merging multiplies no weight
    # --- TimeDistributed: the inner layer at each of the T steps
    ("td-dense", [10, 8], "TimeDistributed(Dense(3))", 8 * 3, 10, 24 * 10),  # 240
    ("td-conv", [10, 20, 4], "TimeDistributed(Conv1D(6, 3))", 3 * 4 * 6, 18 * 10, 72 * 180),  # 12,960
    # --- Dense: inputs × units at each position before the last axis
    ("dense", [64], "Dense(128)", 64 * 128, 1, 8192),
    ("dense-sequence", [50, 10], "Dense(4)", 10 * 4, 50, 40 * 50),  # 2,000
    ("dense-4d", [3, 5, 7], "Dense(2, use_bias=False)", 7 * 2, 3 * 5, 14 * 15),  # 210
    ("dense-unknown-length", [N, 10], "Dense(4)", 40, N, N),
    # --- Conv1D: kernel_size × channels per group × filters per output step
    ("conv", [100, 8], "Conv1D(16, 3)", 3 * 8 * 16, 98, 384 * 98),  # 37,632; 100 − 3 + 1 = 98 steps
    ("conv-same-stride", [100, 8], "Conv1D(16, 3, strides=2, padding='same')", 384, 50, 384 * 50),
    ("conv-groups", [10, 8], "Conv1D(4, 1, groups=2, use_bias=False)", 1 * (8 // 2) * 4, 10, 160),
    ("conv-channels-first", [8, 20], "Conv1D(4, 3, data_format='channels_first')", 3 * 8 * 4, 18,
     96 * 18),  # 1,728; channels 8, steps 20 − 2
    # --- ConvLSTM: both convolutions at every position of the state's maps, every step:
    #     gates × filters × positions × kernel × (channels + filters)
    ("convlstm2d", [5, 16, 16, 3], "ConvLSTM2D(8, 3)", 4 * 8 * (14 * 14) * 3 * 3 * (3 + 8), 5,
     620928 * 5),  # 3,104,640; maps 16 − 3 + 1 = 14
    ("convlstm1d-same-stride", [6, 9, 2], "ConvLSTM1D(4, 3, strides=2, padding='same')", 4 * 4 * 5 * 3 * (2 + 4), 6,
     1440 * 6),  # 8,640; ceil(9 / 2) = 5 positions
    ("convlstm3d-channels-first", [3, 2, 4, 6, 6], "ConvLSTM3D(2, (1, 3, 3), data_format='channels_first')",
     4 * 2 * (4 * 4 * 4) * (1 * 3 * 3) * (2 + 2), 3, 18432 * 3),  # 55,296; depth 4, rows and cols 6 − 2
    ("convlstm2d-unknown-time", [N, 5, 5, 1], "ConvLSTM2D(2, 3)", 4 * 2 * 9 * 9 * (1 + 2), N, N),
    ("bidirectional-convlstm2d", [4, 6, 6, 1], "Bidirectional(ConvLSTM2D(2, 3, padding='same'))",
     2 * 4 * 2 * 36 * 9 * (1 + 2), 4, 15552 * 4),  # 62,208
    # --- Conv2D / Conv3D: kernel volume × channels per group × filters at every output position
    ("conv2d", [28, 28, 1], "Conv2D(32, 3)", 3 * 3 * 1 * 32, 26 * 26, 288 * 676),  # 194,688; 28 − 3 + 1 = 26
    ("conv2d-same-stride", [15, 15, 3], "Conv2D(8, 3, strides=2, padding='same')", 3 * 3 * 3 * 8, 8 * 8,
     216 * 64),  # ceil(15 / 2) = 8 per axis
    ("conv2d-groups-channels-first", [4, 9, 9], "Conv2D(6, (3, 1), groups=2, data_format='channels_first')",
     3 * 1 * (4 // 2) * 6, 7 * 9, 36 * 63),  # 2,268
    ("conv2d-unknown-size", [N, N, 3], "Conv2D(4, 3)", 3 * 3 * 3 * 4, N, N),
    ("conv3d", [8, 16, 16, 2], "Conv3D(4, (3, 3, 3))", 27 * 2 * 4, 6 * 14 * 14, 216 * 1176),  # 254,016
    # --- no products with a weight
    ("embedding", [20], "Embedding(1000, 64)", 0, 1, 0),  # a row lookup
    ("masking", [10, 3], "Masking(0.0)", 0, 1, 0),
    ("dropout", [10, 3], "Dropout(0.5)", 0, 1, 0),
    ("spatial-dropout", [10, 3], "SpatialDropout1D(0.2)", 0, 1, 0),
    ("activation", [10, 3], "Activation('relu')", 0, 1, 0),
    ("repeat-vector", [16], "RepeatVector(5)", 0, 1, 0),
    ("flatten", [10, 3], "Flatten()", 0, 1, 0),
    ("reshape", [10, 6], "Reshape((5, 12))", 0, 1, 0),
    ("permute", [10, 6], "Permute((2, 1))", 0, 1, 0),
    ("max-pooling", [10, 3], "MaxPooling1D()", 0, 1, 0),
    ("average-pooling", [10, 3], "AveragePooling1D(2)", 0, 1, 0),
    ("global-average", [10, 6], "GlobalAveragePooling1D()", 0, 1, 0),
    ("global-max", [10, 6], "GlobalMaxPooling1D()", 0, 1, 0),
    ("max-pooling-2d", [8, 8, 3], "MaxPooling2D()", 0, 1, 0),
    ("average-pooling-2d", [8, 8, 3], "AveragePooling2D(2)", 0, 1, 0),
    ("max-pooling-3d", [4, 8, 8, 3], "MaxPooling3D()", 0, 1, 0),
    ("average-pooling-3d", [4, 8, 8, 3], "AveragePooling3D(2)", 0, 1, 0),
    ("global-average-2d", [8, 8, 3], "GlobalAveragePooling2D()", 0, 1, 0),
    ("global-max-2d", [8, 8, 3], "GlobalMaxPooling2D()", 0, 1, 0),
    ("global-average-3d", [4, 8, 8, 3], "GlobalAveragePooling3D()", 0, 1, 0),
    ("global-max-3d", [4, 8, 8, 3], "GlobalMaxPooling3D()", 0, 1, 0),
    ("up-sampling-1d", [10, 3], "UpSampling1D()", 0, 1, 0),  # copies
    ("up-sampling-2d", [8, 8, 3], "UpSampling2D(interpolation='bilinear')", 0, 1, 0),  # no weight: fixed factors
    ("up-sampling-3d", [4, 8, 8, 3], "UpSampling3D()", 0, 1, 0),
    ("zero-padding-1d", [10, 3], "ZeroPadding1D()", 0, 1, 0),
    ("zero-padding-2d", [8, 8, 3], "ZeroPadding2D()", 0, 1, 0),
    ("cropping-1d", [10, 3], "Cropping1D()", 0, 1, 0),
    ("cropping-2d", [8, 8, 3], "Cropping2D(1)", 0, 1, 0),
    ("layer-norm", [10, 6], "LayerNormalization()", 0, 1, 0),  # element-wise scale and shift
    ("batch-norm", [10, 6], "BatchNormalization()", 0, 1, 0),
]


@pytest.mark.parametrize("case_id, input_shape, layer, per_step, steps, total", CASES,
                         ids=[case[0] for case in CASES])
def test_macs(case_id, input_shape, layer, per_step, steps, total):
    report = analyze_layers(input_shape, [layer])
    assert report.ok, report.diagnostics
    macs = compute_figures(report).layers[0].macs
    assert (macs.per_step.value, macs.steps, macs.total) == (per_step, steps, total)


# Layers that take several tensors: (id, inputs, layer, MACs per step, steps, total per sample)
GRAPH_CASES = [
    ("add", {"a": [10, 8], "b": [10, 8]}, {"type": "Add"}, 0, 1, 0),  # element-wise, no weights
    ("subtract", {"a": [8], "b": [8]}, {"type": "Subtract"}, 0, 1, 0),
    ("multiply", {"a": [8], "b": [8]}, {"type": "Multiply"}, 0, 1, 0),
    ("average", {"a": [8], "b": [8]}, {"type": "Average"}, 0, 1, 0),
    ("maximum", {"a": [8], "b": [8]}, {"type": "Maximum"}, 0, 1, 0),
    ("minimum", {"a": [8], "b": [8]}, {"type": "Minimum"}, 0, 1, 0),
    ("concatenate", {"a": [10, 8], "b": [10, 4]}, {"type": "Concatenate"}, 0, 1, 0),
    # dot over the features: 10 × 12 output values, each a sum of 8 products
    ("dot", {"a": [10, 8], "b": [12, 8]}, {"type": "Dot", "axes": 2}, 8, 10 * 12, 8 * 120),  # 960
    # per query step: 20 key steps × 16 features for the scores, 20 × 8 for the weighted values
    ("attention", {"q": [10, 16], "v": [20, 8], "k": [20, 16]}, {"type": "Attention"},
     20 * 16 + 20 * 8, 10, 480 * 10),  # 4,800
    ("additive-attention", {"q": [10, 16], "v": [20, 16]}, {"type": "AdditiveAttention"},
     20 * 16 + 20 * 16, 10, 640 * 10),  # 6,400; the tanh score is element-wise
    # a model used as a layer: its layers' MACs added up, LSTM 4 × 6 × (3 + 6) × 10 steps + Dense 6 × 2
    ("sequential", {"x": [10, 3]}, {"type": "Sequential", "model": {"input": [10, 3],
                                                                    "layers": ["LSTM(6)", "Dense(2)"]}},
     4 * 6 * (3 + 6) * 10 + 6 * 2, 1, 2172),
    ("functional", {"x": [10, 3]}, {"type": "Functional", "model": {
        "inputs": {"i": {"shape": [10, 3]}}, "layers": [{"type": "Dense", "units": 4, "inputs": "i"}],
        "outputs": ["dense"]}}, 3 * 4 * 10, 1, 120),
]


@pytest.mark.parametrize("case_id, inputs, layer, per_step, steps, total", GRAPH_CASES,
                         ids=[case[0] for case in GRAPH_CASES])
def test_macs_of_layers_with_several_inputs(case_id, inputs, layer, per_step, steps, total):
    import json

    from lstmcalc import analyze_text

    spec = {"inputs": {name: {"shape": shape} for name, shape in inputs.items()},
            "layers": [dict(layer, inputs=list(inputs))]}
    report = analyze_text(json.dumps(spec))
    assert report.ok, report.diagnostics
    macs = compute_figures(report).layers[0].macs
    assert (macs.per_step.value, macs.steps, macs.total) == (per_step, steps, total)


def test_every_layer_type_has_a_mac_case():
    covered = {call.split("(")[0] for _, _, call, _, _, _ in CASES}
    covered |= {layer["type"] for _, _, layer, _, _, _ in GRAPH_CASES}
    assert set(all_layer_classes()) <= covered, sorted(set(all_layer_classes()) - covered)


def test_the_arithmetic_text_is_the_count():
    macs = compute_figures(analyze_layers([50, 10], ["LSTM(128)"])).layers[0].macs
    assert macs.per_step.text() == "4 × 128 × (10 + 128)"
    assert macs.per_step.text(symbolic=True) == "gates × units × (features + units)"


def test_model_total_is_the_sum_of_the_layers():
    figures = compute_figures(analyze_layers([50, 10], ["LSTM(128, return_sequences=True)", "LSTM(64)",
                                                        "Dense(128)", "Dense(64)", "Dense(1)"]))
    # 3,532,800 + 4 × 64 × (128 + 64) × 50 + 64 × 128 + 128 × 64 + 64 × 1
    assert figures.macs.fixed == 3532800 + 2457600 + 8192 + 8192 + 64
    assert figures.macs.known


def test_unknown_length_keeps_a_per_step_part():
    figures = compute_figures(analyze_layers([N], ["Embedding(100, 16)", "GRU(8)", "Dense(1)"]))
    # GRU: 3 × 8 × (16 + 8) = 576 per step; Dense: 8 × 1 = 8 once
    assert (figures.macs.fixed, figures.macs.per_step) == (8, 576)


def _pytorch_cases():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent / "fixtures" / "pytorch" / "pytorch_reference.json"
    return json.loads(path.read_text())["cases"]


PYTORCH = _pytorch_cases()


@pytest.mark.parametrize("case_id", sorted(PYTORCH))
def test_relation_to_torchinfo(case_id):
    """docs/compute.md: torchinfo counts every PyTorch parameter (both biases included) once per
    step for a recurrent module, and once — whatever the positions — for nn.Linear; lstmcalc counts
    only the products with a weight, at every step and position."""
    case = PYTORCH[case_id]
    macs = compute_figures(analyze_layers(case["input"], [case["keras"]])).layers[0].macs
    torchinfo = case["torchinfo_mult_adds"]
    if case["torch"]["module"] == "Linear":
        assert torchinfo == case["params"]
        return
    steps = case["input"][0]
    assert torchinfo == case["params"] * steps
    bias_elements = sum(item["shape"][0] for item in case["parameters"] if item["name"].startswith("bias"))
    assert macs.total == torchinfo - bias_elements * steps
