"""Shapes and parameter counts of every layer, derived by hand (the arithmetic is in each case)."""

from __future__ import annotations

import pytest

from lstmcalc import analyze_layers

N = None

# (id, input shape without batch, layers, [(output shapes...), params] per layer)
CASES = [
    # --- LSTM: 4 gates × (units × (features + units) + units)
    ("lstm-last", [50, 10], ["LSTM(128)"], [([(N, 128)], 4 * (128 * (10 + 128) + 128))]),  # 71,168
    ("lstm-seq", [50, 10], ["LSTM(128, return_sequences=True)"], [([(N, 50, 128)], 71168)]),
    ("lstm-state", [10, 5], ["LSTM(50, return_state=True)"],
     [([(N, 50), (N, 50), (N, 50)], 4 * (50 * (5 + 50) + 50))]),  # output, h, c: 11,200
    ("lstm-seq-state", [10, 5], ["LSTM(8, return_sequences=True, return_state=True)"],
     [([(N, 10, 8), (N, 8), (N, 8)], 4 * (8 * (5 + 8) + 8))]),  # 448
    ("lstm-no-bias", [10, 5], ["LSTM(8, use_bias=False)"], [([(N, 8)], 4 * 8 * (5 + 8))]),  # 416
    ("lstm-backwards", [10, 5], ["LSTM(8, go_backwards=True)"], [([(N, 8)], 448)]),
    ("lstm-unknown-length", [N, 5], ["LSTM(8, return_sequences=True)"], [([(N, N, 8)], 448)]),
    # --- GRU: 3 gates; reset_after=True keeps two bias vectors (2, 3·units)
    ("gru-reset-after", [20, 16], ["GRU(32)"], [([(N, 32)], 3 * (32 * (16 + 32) + 2 * 32))]),  # 4,800
    ("gru-reset-before", [20, 16], ["GRU(32, reset_after=False)"],
     [([(N, 32)], 3 * (32 * (16 + 32) + 32))]),  # 4,704
    ("gru-state", [20, 16], ["GRU(32, return_state=True, return_sequences=True)"],
     [([(N, 20, 32), (N, 32)], 4800)]),
    ("gru-no-bias", [20, 16], ["GRU(32, use_bias=False)"], [([(N, 32)], 3 * 32 * (16 + 32))]),  # 4,608
    # --- SimpleRNN: units × (features + units) + units
    ("simple-rnn", [7, 3], ["SimpleRNN(4)"], [([(N, 4)], 4 * (3 + 4) + 4)]),  # 32
    ("simple-rnn-state", [7, 3], ["SimpleRNN(4, return_state=True)"], [([(N, 4), (N, 4)], 32)]),
    # --- Bidirectional: two copies; concat doubles the last axis
    ("bidi-concat", [100, 16], ["Bidirectional(LSTM(64, return_sequences=True))"],
     [([(N, 100, 128)], 2 * 4 * (64 * (16 + 64) + 64))]),  # 41,472
    ("bidi-sum", [100, 16], ["Bidirectional(LSTM(32), merge_mode='sum')"],
     [([(N, 32)], 2 * 4 * (32 * (16 + 32) + 32))]),  # 12,544
    ("bidi-mul", [100, 16], ["Bidirectional(GRU(8), merge_mode='mul')"],
     [([(N, 8)], 2 * 3 * (8 * (16 + 8) + 2 * 8))]),  # 1,248
    ("bidi-ave", [100, 16], ["Bidirectional(SimpleRNN(8), merge_mode='ave')"],
     [([(N, 8)], 2 * (8 * (16 + 8) + 8))]),  # 400
    ("bidi-none", [100, 16], ["Bidirectional(SimpleRNN(8), merge_mode=None)"],
     [([(N, 8), (N, 8)], 400)]),
    ("bidi-state-concat", [10, 4], ["Bidirectional(LSTM(6, return_state=True))"],
     # output (concat) + forward h, c + backward h, c
     [([(N, 12), (N, 6), (N, 6), (N, 6), (N, 6)], 2 * 4 * (6 * (4 + 6) + 6))]),  # 528
    ("bidi-state-none", [10, 4], ["Bidirectional(GRU(6, return_state=True), merge_mode=None)"],
     [([(N, 6), (N, 6), (N, 6), (N, 6)], 2 * 3 * (6 * (4 + 6) + 2 * 6))]),  # 432
    # --- TimeDistributed: the inner layer on each step
    ("td-dense", [10, 8], ["TimeDistributed(Dense(3))"], [([(N, 10, 3)], 8 * 3 + 3)]),  # 27
    ("td-conv", [10, 20, 4], ["TimeDistributed(Conv1D(6, 3))"],
     [([(N, 10, 18, 6)], 3 * 4 * 6 + 6)]),  # 20 − 3 + 1 = 18 steps; 78
    # --- Dense: acts on the last axis of any rank ≥ 2
    ("dense-2d", [64], ["Dense(128)"], [([(N, 128)], 64 * 128 + 128)]),  # 8,320
    ("dense-3d", [50, 10], ["Dense(4)"], [([(N, 50, 4)], 10 * 4 + 4)]),  # 44
    ("dense-4d", [3, 5, 7], ["Dense(2, use_bias=False)"], [([(N, 3, 5, 2)], 7 * 2)]),  # 14
    # --- Embedding: a table of input_dim × output_dim; adds an axis
    ("embedding", [20], ["Embedding(1000, 64)"], [([(N, 20, 64)], 1000 * 64)]),  # 64,000
    ("embedding-unknown", [N], ["Embedding(50, 8, mask_zero=True)"], [([(N, N, 8)], 400)]),
    # --- parameter-free layers
    ("masking", [10, 3], ["Masking(0.0)"], [([(N, 10, 3)], 0)]),
    ("dropout", [10, 3], ["Dropout(0.5)"], [([(N, 10, 3)], 0)]),
    ("spatial-dropout", [10, 3], ["SpatialDropout1D(0.2)"], [([(N, 10, 3)], 0)]),
    ("activation", [10, 3], ["Activation('relu')"], [([(N, 10, 3)], 0)]),
    ("repeat-vector", [16], ["RepeatVector(5)"], [([(N, 5, 16)], 0)]),
    ("flatten", [10, 3], ["Flatten()"], [([(N, 30)], 0)]),  # 10 × 3
    ("flatten-unknown", [N, 3], ["Flatten()"], [([(N, N)], 0)]),
    ("reshape", [10, 6], ["Reshape((5, 12))"], [([(N, 5, 12)], 0)]),  # 60 values either way
    ("reshape-infer", [10, 6], ["Reshape((-1, 4))"], [([(N, 15, 4)], 0)]),  # 60 / 4 = 15
    ("permute", [10, 6], ["Permute((2, 1))"], [([(N, 6, 10)], 0)]),
    ("gap", [10, 6], ["GlobalAveragePooling1D()"], [([(N, 6)], 0)]),
    ("gmp-keepdims", [10, 6], ["GlobalMaxPooling1D(keepdims=True)"], [([(N, 1, 6)], 0)]),
    ("gap-channels-first", [10, 6], ["GlobalAveragePooling1D(data_format='channels_first')"],
     [([(N, 10)], 0)]),
    # --- Conv1D: kernel (k, in, filters); valid length L − d·(k − 1); same/causal ceil(L / s)
    ("conv-valid", [100, 8], ["Conv1D(16, 3)"], [([(N, 98, 16)], 3 * 8 * 16 + 16)]),  # 400
    ("conv-same-stride", [100, 8], ["Conv1D(16, 3, strides=2, padding='same')"],
     [([(N, 50, 16)], 400)]),  # (100 − 1) // 2 + 1 = 50
    ("conv-causal-dilated", [100, 8], ["Conv1D(4, 3, padding='causal', dilation_rate=2)"],
     [([(N, 100, 4)], 3 * 8 * 4 + 4)]),  # 100
    ("conv-valid-dilated", [100, 8], ["Conv1D(4, 3, dilation_rate=4)"],
     [([(N, 92, 4)], 100)]),  # 100 − 4 × 2 = 92
    ("conv-no-bias-groups", [10, 8], ["Conv1D(4, 1, groups=2, use_bias=False)"],
     [([(N, 10, 4)], 1 * (8 // 2) * 4)]),  # 16
    ("conv-unknown-length", [N, 8], ["Conv1D(4, 3, strides=2)"], [([(N, N, 4)], 100)]),
    # --- pooling: valid (L − p) // s + 1; same (L − 1) // s + 1
    ("maxpool", [10, 3], ["MaxPooling1D()"], [([(N, 5, 3)], 0)]),
    ("maxpool-odd", [11, 3], ["MaxPooling1D(2)"], [([(N, 5, 3)], 0)]),
    ("maxpool-same", [11, 3], ["MaxPooling1D(2, padding='same')"], [([(N, 6, 3)], 0)]),
    ("avgpool-stride", [10, 3], ["AveragePooling1D(3, strides=1)"], [([(N, 8, 3)], 0)]),
    # --- normalisation: gamma and beta per feature; BatchNorm adds 2 non-trainable statistics
    ("layernorm", [10, 6], ["LayerNormalization()"], [([(N, 10, 6)], 2 * 6)]),
    ("layernorm-no-center", [10, 6], ["LayerNormalization(center=False)"], [([(N, 10, 6)], 6)]),
    ("batchnorm", [10, 6], ["BatchNormalization()"], [([(N, 10, 6)], 4 * 6)]),
]


@pytest.mark.parametrize("case_id, input_shape, layers, expected", CASES, ids=[c[0] for c in CASES])
def test_layer_rules(case_id, input_shape, layers, expected):
    report = analyze_layers(input_shape, layers)
    assert report.ok, report.diagnostics
    assert len(report.layers) == len(expected)
    for layer, (shapes, params) in zip(report.layers, expected):
        assert layer.output_shapes == shapes
        assert layer.params == params
    assert report.totals.params == sum(params for _, params in expected)


def test_batchnorm_statistics_are_not_trainable():
    report = analyze_layers([10, 6], ["BatchNormalization()"])
    layer = report.layers[0]
    # gamma and beta train (2 × 6); moving_mean and moving_variance do not (2 × 6)
    assert (layer.trainable_params, layer.non_trainable_params) == (12, 12)
    assert [(w.name, w.trainable) for w in layer.weights] == [
        ("gamma", True), ("beta", True), ("moving_mean", False), ("moving_variance", False)]
    assert report.totals.non_trainable_params == 12


def test_frozen_layer_counts_as_non_trainable():
    report = analyze_layers([10, 5], ["LSTM(8, trainable=False)", "Dense(1)"])
    assert report.totals.trainable_params == 9  # only the Dense: 8 + 1
    assert report.totals.non_trainable_params == 448


def test_batch_size_flows_into_every_shape():
    report = analyze_layers([50, 10], ["LSTM(4, return_sequences=True)", "Dense(1)"], batch_size=32)
    assert report.inputs[0].shape == (32, 50, 10)
    assert report.layers[1].output_shapes == [(32, 50, 1)]


def test_keras_weight_shapes_for_lstm():
    layer = analyze_layers([50, 10], ["LSTM(128)"]).layers[0]
    # kernel: features × 4·units, recurrent_kernel: units × 4·units, bias: 4·units
    assert [(w.name, w.shape) for w in layer.weights] == [
        ("kernel", (10, 512)), ("recurrent_kernel", (128, 512)), ("bias", (512,))]


def test_gru_reset_after_bias_has_two_rows():
    layer = analyze_layers([20, 16], ["GRU(32)"]).layers[0]
    assert layer.weights[-1].shape == (2, 96)


def test_bidirectional_weights_are_named_by_direction():
    layer = analyze_layers([10, 4], ["Bidirectional(SimpleRNN(2))"]).layers[0]
    assert [w.name for w in layer.weights] == [
        "forward/kernel", "forward/recurrent_kernel", "forward/bias",
        "backward/kernel", "backward/recurrent_kernel", "backward/bias"]


DEFAULT_NAMES = [
    (["LSTM(4, return_sequences=True)", "LSTM(4)"], ["lstm", "lstm_1"]),
    (["SimpleRNN(4)", "Dense(1)"], ["simple_rnn", "dense"]),
    (["Conv1D(4, 3)", "GlobalAveragePooling1D()"], ["conv1d", "global_average_pooling1d"]),
    # the wrapped LSTM is constructed first and takes `lstm`; the next one is `lstm_1`
    (["Bidirectional(LSTM(4, return_sequences=True))", "LSTM(4)"], ["bidirectional", "lstm_1"]),
    (["LSTM(4, return_sequences=True, name='lstm')", "LSTM(4, name='x')"], ["lstm", "x"]),
    (["TimeDistributed(Dense(2))", "Dense(1)"], ["time_distributed", "dense_1"]),
]


@pytest.mark.parametrize("layers, names", DEFAULT_NAMES)
def test_default_names_follow_keras(layers, names):
    report = analyze_layers([10, 8], layers)
    assert [layer.name for layer in report.layers] == names
    assert report.inputs[0].name == "input_layer"
