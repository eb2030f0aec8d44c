"""The 2-D/3-D pooling layers and the resampling, padding and cropping layers (issue 9), by hand:
shapes with their arithmetic, forward passes computed on paper, argument errors in Keras's words,
rejections, explanations. Real Keras's answers are in tests/fixtures/keras/conv_*.{yaml,json}."""

from __future__ import annotations

import numpy as np
import pytest

import lstmcalc
from lstmcalc.explain import explain
from lstmcalc.lints import run_lints
from lstmcalc.verify import VerifyOptions, verify_report

N = None

# (id, input shape without batch, layer, output shape without batch)
SHAPES = [
    # --- pooling, per spatial axis: valid (L − p) // s + 1, same (L − 1) // s + 1; strides default to pool_size
    ("max2d-default", [28, 28, 3], "MaxPooling2D()", (14, 14, 3)),  # (28 − 2) // 2 + 1
    ("max2d-odd-valid", [7, 7, 3], "MaxPooling2D(2)", (3, 3, 3)),  # (7 − 2) // 2 + 1 = 3
    ("max2d-odd-same", [7, 7, 3], "MaxPooling2D(2, padding='same')", (4, 4, 3)),  # (7 − 1) // 2 + 1 = 4
    ("max2d-rect", [10, 9, 3], "MaxPooling2D((2, 3), strides=(1, 2))", (9, 4, 3)),  # 10 − 2 + 1; (9 − 3) // 2 + 1
    ("max2d-channels-first", [3, 28, 28], "MaxPooling2D(data_format='channels_first')", (3, 14, 14)),
    ("max2d-unknown", [N, 9, 3], "MaxPooling2D(3)", (N, 3, 3)),  # an unknown size stays unknown
    ("avg2d-same-strides", [10, 10, 3], "AveragePooling2D(3, strides=2, padding='same')", (5, 5, 3)),  # 9 // 2 + 1
    ("max3d-default", [8, 8, 8, 2], "MaxPooling3D()", (4, 4, 4, 2)),
    ("max3d-strides", [9, 9, 9, 2], "MaxPooling3D(3, strides=(1, 2, 3))", (7, 4, 3, 2)),  # 6+1, 6//2+1, 6//3+1
    ("avg3d-channels-first", [2, 8, 8, 8], "AveragePooling3D((2, 2, 1), data_format='channels_first')",
     (2, 4, 4, 8)),
    # --- global pooling: one value per channel; keepdims keeps every spatial axis as 1
    ("gap2d", [7, 5, 16], "GlobalAveragePooling2D()", (16,)),
    ("gap2d-keepdims", [7, 5, 16], "GlobalAveragePooling2D(keepdims=True)", (1, 1, 16)),
    ("gmp2d-channels-first-keepdims", [16, 7, 5], "GlobalMaxPooling2D(data_format='channels_first', keepdims=True)",
     (16, 1, 1)),
    ("gap3d-unknown", [N, N, N, 4], "GlobalAveragePooling3D()", (4,)),
    ("gmp3d-keepdims", [3, 4, 5, 2], "GlobalMaxPooling3D(keepdims=True)", (1, 1, 1, 2)),
    # --- UpSampling: size × each spatial axis
    ("up1d", [10, 3], "UpSampling1D(3)", (30, 3)),
    ("up1d-unknown", [N, 3], "UpSampling1D()", (N, 3)),
    ("up2d-rect", [8, 8, 3], "UpSampling2D((2, 3))", (16, 24, 3)),
    ("up2d-bilinear-channels-first", [3, 8, 6], "UpSampling2D(2, interpolation='BILINEAR', data_format='channels_first')",
     (3, 16, 12)),
    ("up3d", [4, 8, 8, 3], "UpSampling3D((1, 2, 3))", (4, 16, 24, 3)),
    # --- ZeroPadding: + before + after
    ("pad1d-default", [10, 3], "ZeroPadding1D()", (12, 3)),  # 1 + 10 + 1
    ("pad1d-tuple", [10, 3], "ZeroPadding1D((2, 3))", (15, 3)),
    ("pad1d-channels-first", [3, 10], "ZeroPadding1D(2, data_format='channels_first')", (3, 14)),
    ("pad2d-int", [8, 8, 3], "ZeroPadding2D(2)", (12, 12, 3)),
    ("pad2d-symmetric-pairs", [8, 8, 3], "ZeroPadding2D((1, 2))", (10, 12, 3)),  # rows 1 + 1, cols 2 + 2
    ("pad2d-pairs-of-pairs", [8, 8, 3], "ZeroPadding2D(((1, 2), (3, 4)))", (11, 15, 3)),
    ("pad2d-mixed", [8, 8, 3], "ZeroPadding2D((1, (2, 3)))", (10, 13, 3)),  # rows 1 + 1, cols 2 + 3
    # --- Cropping: − before − after
    ("crop1d-default", [10, 3], "Cropping1D()", (8, 3)),
    ("crop1d-int", [10, 3], "Cropping1D(2)", (6, 3)),
    ("crop1d-unknown", [N, 3], "Cropping1D((1, 1))", (N, 3)),
    ("crop2d-default", [8, 8, 3], "Cropping2D()", (8, 8, 3)),  # crops nothing
    ("crop2d-pairs-of-pairs", [8, 8, 3], "Cropping2D(((1, 0), (2, 1)))", (7, 5, 3)),
    ("crop2d-channels-first", [3, 9, 7], "Cropping2D((1, 1), data_format='channels_first')", (3, 7, 5)),
    # --- TimeDistributed applies any of them to every step
    ("td-max2d", [10, 32, 32, 3], "TimeDistributed(MaxPooling2D())", (10, 16, 16, 3)),
    ("td-gap2d", [10, 7, 7, 3], "TimeDistributed(GlobalAveragePooling2D())", (10, 3)),
    ("td-up1d", [10, 6, 3], "TimeDistributed(UpSampling1D())", (10, 12, 3)),
    ("td-crop2d", [10, 9, 5, 3], "TimeDistributed(Cropping2D(1))", (10, 7, 3, 3)),
]


@pytest.mark.parametrize("case_id, input_shape, call, output", SHAPES, ids=[case[0] for case in SHAPES])
def test_shapes(case_id, input_shape, call, output):
    report = lstmcalc.analyze_layers(input_shape, [call])
    assert report.ok, report.diagnostics
    layer = report.layers[0]
    assert layer.output_shapes == [(N,) + output]
    assert (layer.params, layer.weights) == (0, [])


def build(input_shape, call: str):
    report = lstmcalc.analyze_layers(list(input_shape), [call])
    assert report.ok, report.diagnostics
    return report.graph.nodes[report.layers[0].name].layer


def run(layer, x):
    outputs, masks = layer.forward({}, [np.asarray(x, dtype="float32")], [None])
    assert masks == [None]
    return outputs[0].astype("float64")


# A 3 × 4 image with one channel: 1 … 12, row by row.
IMAGE = np.arange(1, 13, dtype="float32").reshape(1, 3, 4, 1)

# (id, layer, input (batch, ...), expected output)
FORWARD = [
    # 2 × 2 windows, strides 2, valid: rows 0-1 → max(1, 2, 5, 6) = 6, max(3, 4, 7, 8) = 8; row 2 is left out
    ("max2d", "MaxPooling2D()", IMAGE, [[[[6], [8]]]]),
    # same, strides 2 on 3 rows: TensorFlow pads 0 above, 1 below; the padding is not averaged:
    # row 0: (1 + 2 + 5 + 6)/4 = 3.5, (3 + 4 + 7 + 8)/4 = 5.5; row 1 (row 2 alone): (9 + 10)/2, (11 + 12)/2
    ("avg2d-same", "AveragePooling2D(2, padding='same')", IMAGE, [[[[3.5], [5.5]], [[9.5], [11.5]]]]),
    # 3 × 3 window, strides 1, same: pad 1 all round; the corner window holds 1, 2, 5, 6 → max 6
    ("max2d-same-corner", "MaxPooling2D(3, strides=1, padding='same')", IMAGE,
     [[[[6], [7], [8], [8]], [[10], [11], [12], [12]], [[10], [11], [12], [12]]]]),
    # channels_first: the same numbers with the channel axis first
    ("max2d-channels-first", "MaxPooling2D(data_format='channels_first')", IMAGE.reshape(1, 1, 3, 4), [[[[6, 8]]]]),
    # mean of 1 … 12 = 6.5; max 12
    ("gap2d", "GlobalAveragePooling2D()", IMAGE, [[6.5]]),
    ("gmp2d-keepdims", "GlobalMaxPooling2D(keepdims=True)", IMAGE, [[[[12]]]]),
    # each step twice
    ("up1d", "UpSampling1D()", [[[1], [2]]], [[[1], [1], [2], [2]]]),
    # nearest: rows twice, cols once → x[⌊i/2⌋, j]
    ("up2d-nearest", "UpSampling2D((2, 1))", [[[[1], [2]]]], [[[[1], [2]], [[1], [2]]]]),
    # bilinear, cols 2 → 4: half-pixel positions (j + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25; clamped at the
    # edges: x0, 0.75·x0 + 0.25·x1, 0.25·x0 + 0.75·x1, x1 with x = (1, 5) → 1, 2, 4, 5
    ("up2d-bilinear", "UpSampling2D((1, 2), interpolation='bilinear')", [[[[1], [5]]]],
     [[[[1], [2], [4], [5]]]]),
    # area, for a whole factor every output cell lies inside one input cell: the nearest copy
    ("up2d-area", "UpSampling2D((1, 2), interpolation='area')", [[[[1], [5]]]], [[[[1], [1], [5], [5]]]]),
    ("up3d", "UpSampling3D((2, 1, 1))", [[[[[1]]], [[[2]]]]], [[[[[1]]], [[[1]]], [[[2]]], [[[2]]]]]),
    # zeros: 1 step before, 2 after
    ("pad1d", "ZeroPadding1D((1, 2))", [[[1], [2]]], [[[0], [1], [2], [0], [0]]]),
    # one row of zeros above, one col after
    ("pad2d", "ZeroPadding2D(((1, 0), (0, 1)))", [[[[1], [2]]]], [[[[0], [0], [0]], [[1], [2], [0]]]]),
    ("crop1d", "Cropping1D((1, 2))", [[[1], [2], [3], [4]]], [[[2]]]),
    # rows 1 … 2 of 0 … 2, cols 1 … 2 of 0 … 3: 6, 7; 10, 11
    ("crop2d", "Cropping2D(((1, 0), (1, 1)))", IMAGE, [[[[6], [7]], [[10], [11]]]]),
]


@pytest.mark.parametrize("case_id, call, x, expected", FORWARD, ids=[case[0] for case in FORWARD])
def test_forward_by_hand(case_id, call, x, expected):
    x = np.asarray(x, dtype="float32")
    layer = build(x.shape[1:], call)
    np.testing.assert_allclose(run(layer, x), expected, rtol=1e-6)


def test_bicubic_and_lanczos_weights_sum_to_one_and_keep_a_constant():
    # Each output value is a weighted mean of the input: a constant image stays that constant.
    from lstmcalc.layers.resize import METHODS, weights

    for method in METHODS:
        for size, factor in ((1, 3), (2, 2), (5, 3)):
            matrix = weights(method, size, factor)
            assert matrix.shape == (size * factor, size)
            np.testing.assert_allclose(matrix.sum(axis=1), 1, atol=1e-6, err_msg=method)


# (id, layer, code, the start of Keras's message)
ARGUMENT_ERRORS = [
    ("pool-size-zero", "MaxPooling2D(0)", "S006",
     "The `pool_size` argument must be a tuple of 2 integers. Received pool_size=0, including values {0} that do "
     "not satisfy `value > 0`"),
    ("pool-size-three", "MaxPooling2D((2, 2, 2))", "S005",
     "The `pool_size` argument must be a tuple of 2 integers. Received pool_size=(2, 2, 2)"),
    ("pool-size-float", "MaxPooling3D(2.5)", "S005",
     "The `pool_size` argument must be a tuple of 3 integers. Received pool_size=2.5"),
    ("pool-size-missing", "AveragePooling2D()", "S007", "AveragePooling2D needs `pool_size`."),
    ("pool-padding-upper-case", "MaxPooling2D(2, padding='SAME')", "S006",
     "Argument `padding` must be either 'valid' or 'same'. Received: padding=SAME"),
    ("pool-padding-causal", "MaxPooling1D(2, padding='causal')", "S006",
     "Argument `padding` must be either 'valid' or 'same'. Received: padding=causal"),
    ("pool-strides-zero", "MaxPooling2D(2, strides=(1, 0))", "S006", "`strides` must be at least 1 on every axis"),
    ("data-format", "GlobalAveragePooling2D(data_format='channels_middle')", "S006",
     "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
     "Received: data_format=channels_middle"),
    ("up1d-tuple", "UpSampling1D((2, 2))", "S005", "Expected an integer value for `size`, got <class 'tuple'>."),
    ("up1d-zero", "UpSampling1D(0)", "S006", "Argument `size` should be a positive integer. Received: size=0"),
    ("up2d-size-zero", "UpSampling2D(0)", "S006",
     "The `size` argument must be a tuple of 2 integers. Received size=0, including values {0}"),
    # Keras builds it and fails when the model runs; lstmcalc says so at once
    ("up2d-interpolation", "UpSampling2D(interpolation='cubic')", "S006",
     "Invalid value for argument `interpolation`. Expected of one ('bilinear', 'nearest', 'lanczos3', 'lanczos5', "
     "'bicubic', 'area'). Received: interpolation=cubic"),
    ("up3d-interpolation", "UpSampling3D(interpolation='bilinear')", "S004", "UpSampling3D has no argument"),
    ("pad1d-negative", "ZeroPadding1D(-2)", "S006",
     "The `padding` argument must be a tuple of 2 integers. Received padding=-2, including values {-2} that do "
     "not satisfy `value >= 0`"),
    ("pad1d-nested", "ZeroPadding1D(((1, 2),))", "S005",
     "The `padding` argument must be a tuple of 2 integers. Received padding=((1, 2),)"),
    ("pad2d-three", "ZeroPadding2D((1, 2, 3))", "S005", "`padding` should have two elements. Received: padding=(1, 2, 3)."),
    ("pad2d-string", "ZeroPadding2D('same')", "S005", "`padding` should have two elements. Received: padding=same."),
    ("pad2d-inner-three", "ZeroPadding2D(((1, 2, 3), 1))", "S005",
     "The `1st entry of padding` argument must be a tuple of 2 integers. Received 1st entry of padding=(1, 2, 3)"),
    ("pad2d-float", "ZeroPadding2D(1.5)", "S005", "`padding` should be either an int, a tuple of 2 ints"),
    # Keras builds it; TensorFlow refuses to pad by a negative amount when the model runs
    ("pad2d-negative", "ZeroPadding2D(-1)", "S006", "ZeroPadding2D cannot pad by a negative amount (padding=-1)"),
    ("crop1d-three", "Cropping1D((1, 2, 3))", "S005",
     "The `cropping` argument must be a tuple of 2 integers. Received cropping=(1, 2, 3)"),
    ("crop2d-negative-int", "Cropping2D(-1)", "S006", "`cropping` cannot be negative. Received: cropping=-1."),
    ("crop2d-negative-entry", "Cropping2D(((-1, 0), 0))", "S006",
     "The `1st entry of cropping` argument must be a tuple of 2 integers. Received 1st entry of cropping=(-1, 0), "
     "including values {-1} that do not satisfy `value >= 0`"),
]


@pytest.mark.parametrize("case_id, call, code, message", ARGUMENT_ERRORS, ids=[case[0] for case in ARGUMENT_ERRORS])
def test_argument_errors_in_keras_words(case_id, call, code, message):
    report = lstmcalc.analyze_layers([8, 8, 8, 3], [call])
    assert not report.ok
    error = report.errors[0]
    assert error.code == code
    assert message in error.message
    assert error.hint and error.line is not None


# (id, input, layers, code, layer, the start of Keras's message)
REJECTED = [
    ("pool-larger-than-input", [2, 2, 3], ["MaxPooling2D(3)"], "H004", "max_pooling2d",
     "Computed output size would be zero or negative. Received: `inputs.shape=[None 2 2 3]`, `pool_size=[3 3]`, "
     "`strides=(3, 3)`, `padding=valid`."),
    ("pool3d-one-axis-too-short", [8, 8, 1, 2], ["MaxPooling3D(2)"], "H004", "max_pooling3d",
     "Computed output size would be zero or negative."),
    ("crop1d-everything", [10, 3], ["Cropping1D((4, 6))"], "H004", "cropping1d",
     "`cropping` parameter of `Cropping1D` layer must be smaller than the input length. Received: "
     "input_shape=(None, 10, 3), cropping=(4, 6)"),
    ("crop2d-cols", [8, 8, 3], ["Cropping2D(((0, 0), (9, 0)))"], "H004", "cropping2d",
     "Values in `cropping` argument should be smaller than the corresponding spatial dimension of the input. "
     "Received: input_shape=(None, 8, 8, 3), cropping=((0, 0), (9, 0))"),
    # a known axis is checked even when another is unknown
    ("crop2d-known-axis", [N, 2, 3], ["Cropping2D(1)"], "H004", "cropping2d", "Values in `cropping` argument"),
    ("td-crop2d", [4, 4, 4, 3], ["TimeDistributed(Cropping2D(((2, 2), (0, 0))))"], "H004", "time_distributed",
     "Values in `cropping` argument"),
    ("max2d-rank-3", [8, 3], ["MaxPooling2D()"], "H001", "max_pooling2d", "expected ndim=4, found ndim=3"),
    ("up1d-rank-4", [10, 10, 3], ["UpSampling1D()"], "H001", "up_sampling1d", "expected ndim=3, found ndim=4"),
    ("gmp3d-rank-4", [7, 7, 16], ["GlobalMaxPooling3D()"], "H001", "global_max_pooling3d",
     "expected ndim=5, found ndim=4"),
]


@pytest.mark.parametrize("case_id, input_shape, layers, code, layer, message", REJECTED,
                         ids=[case[0] for case in REJECTED])
def test_rejected(case_id, input_shape, layers, code, layer, message):
    report = lstmcalc.analyze_layers(input_shape, layers)
    assert not report.ok
    error = report.errors[0]
    assert (error.code, error.layer) == (code, layer)
    assert message in error.message
    assert error.hint


def test_a_sequence_of_images_into_a_2d_layer_says_time_distributed():
    # ConvLSTM2D(return_sequences=True) gives (batch, time, rows, cols, filters): one axis too many.
    report = lstmcalc.analyze_layers([5, 8, 8, 3], ["MaxPooling2D()"])
    error = report.errors[0]
    assert error.code == "H001"
    assert "(batch, rows, cols, channels)" in error.hint and "TimeDistributed" in error.hint


def test_cropping_an_unknown_length_fails_when_verify_picks_a_short_one():
    # Keras builds (None, None, 3) and fails when run on 4 steps; verify says which length does not fit.
    report = lstmcalc.analyze_layers([N, 3], ["Cropping1D((2, 2))"])
    assert report.ok
    result = verify_report(report, VerifyOptions(timesteps=4))
    assert [d.code for d in result.diagnostics] == ["V007"]
    assert "must be smaller than the input length" in result.diagnostics[0].message
    assert verify_report(report, VerifyOptions(timesteps=5)).ok


def _equations(call, input_shape):
    item = explain(lstmcalc.analyze_layers(input_shape, [call])).layers[0]
    return item.headline, [(eq.lhs, eq.rhs, eq.note) for block in item.blocks for eq in block.equations], \
        [block.loop for block in item.blocks]


def test_pooling_equation_has_the_window_strides_and_padding():
    # 3 × 3 windows, strides 2, same: ⌈7/2⌉ = 4 rows need (4 − 1)·2 + 3 − 7 = 2 padding rows, split (1, 1);
    # ⌈6/2⌉ = 3 cols need (3 − 1)·2 + 3 − 6 = 1, which TensorFlow puts after: (0, 1)
    headline, equations, loops = _equations("MaxPooling2D(3, strides=2, padding='same')", [7, 6, 2])
    assert headline == "MaxPooling2D over 3×3 windows, strides 2×2"
    assert equations == [("y_{i, j}", "max_{a < 3, b < 3} x_{2·i + a − 1, 2·j + b}",
                          "padding: same (rows 1 before, 1 after; cols 0 before, 1 after); padding never wins the max")]
    assert loops == ["for i over 4 rows, j over 3 cols, the same for every channel"]


def test_resampling_padding_and_cropping_equations():
    assert _equations("UpSampling2D((2, 3))", [4, 4, 1])[1] == [
        ("y_{i, j}", "x_{⌊i/2⌋, ⌊j/3⌋}", "each position repeated 2 × 3 times")]
    headline, equations, _ = _equations("UpSampling2D(2, interpolation='bilinear')", [4, 4, 1])
    assert equations[0][1] == "Σ_r Σ_s R_{i, r} · C_{j, s} · x_{r, s}" and "(i + 0.5)/2 − 0.5" in equations[0][2]
    assert _equations("ZeroPadding2D(((1, 2), (0, 3)))", [4, 4, 1])[1] == [
        ("y_{i, j}", "x_{i − 1, j} inside the input, 0 in the padding",
         "zeros added: rows: 1 at the start, 2 at the end; cols: 0 at the start, 3 at the end")]
    assert _equations("Cropping1D((2, 1))", [6, 1])[1] == [
        ("y_t", "x_{t + 2}", "cut off: steps: 2 at the start, 1 at the end")]
    assert _equations("UpSampling1D()", [6, 1])[1] == [("y_t", "x_{⌊t/2⌋}", "each step repeated 2 times")]
    assert _equations("GlobalAveragePooling3D()", [3, 4, 5, 2])[1] == [
        ("y", "mean_{d, i, j} x_{d, i, j}", "over all 3 × 4 × 5 positions, for each channel")]


def test_a_mask_reaching_these_layers_is_destroyed_as_keras_warns():
    # Masking on images gives a (batch, rows, cols) mask; MaxPooling2D does not support masking (L008).
    report = lstmcalc.analyze_layers([8, 8, 3], ["Masking()", "MaxPooling2D()"])
    assert [finding.layer for finding in run_lints(report) if finding.code == "L008"] == ["max_pooling2d"]
    # through TimeDistributed, which takes the mask, Keras says nothing
    report = lstmcalc.analyze_layers([4, 8, 8, 3], ["Masking()", "TimeDistributed(MaxPooling2D())"])
    assert not [finding for finding in run_lints(report) if finding.code == "L008"]


def test_refusals_recorded_from_keras_use_keras_words():
    """Where Keras refuses a spatial layer's arguments or input sizes, lstmcalc's message contains
    Keras's. (The rank, tensor-count, missing and unknown argument messages are lstmcalc's own, for
    every layer type.)"""
    import yaml

    from .keras_fixtures import load_cases, types_in

    spatial = {"MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D"} | {
        f"{kind}{dims}D" for kind in ("MaxPooling", "AveragePooling", "GlobalAveragePooling", "GlobalMaxPooling")
        for dims in (2, 3)} | {"UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D",
                               "Cropping1D", "Cropping2D"}
    compared = 0
    cases = load_cases("sequential_reference.json", "conv_reference.json", "spatial_reference.json",
                       "mask_reference.json", "conv_mask_reference.json")
    for case_id, case in sorted(cases.items()):
        error = case.get("error")
        if case["ok"] or error["layer_index"] is None:
            continue
        if not types_in(case["spec"]["layers"][error["layer_index"]]) & spatial:
            continue
        report = lstmcalc.analyze_text(yaml.safe_dump(case["spec"], sort_keys=False))
        first = report.errors[0]
        if first.code in ("H001", "H002", "S004", "S007"):
            continue
        assert error["core_message"] in first.message, (case_id, first.message)
        compared += 1
    assert compared >= 40
