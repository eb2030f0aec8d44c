"""Models Keras rejects and specs lstmcalc cannot read: code, layer, line and column."""

from __future__ import annotations

import textwrap

import pytest

from lstmcalc import analyze_layers, analyze_text

# (id, input, layers, code, layer Keras names)
REJECTED_STACKS = [
    # seed 000: LSTM(50) returns (None, 50); the next LSTM needs ndim=3
    ("seed-000", [10, 5], ["LSTM(50)", "LSTM(10)", "Dense(1)"], "H001", "lstm_1"),
    ("lstm-on-vector", [8], ["LSTM(4)"], "H001", "lstm"),
    ("gru-after-global-pool", [10, 4], ["GlobalMaxPooling1D()", "GRU(4)"], "H001", "gru"),
    ("conv-on-vector", [8], ["Conv1D(4, 3)"], "H001", "conv1d"),
    ("repeat-vector-on-sequence", [10, 4], ["RepeatVector(3)"], "H001", "repeat_vector"),
    ("permute-wrong-rank", [10, 4], ["Permute((1, 2, 3))"], "H001", "permute"),
    ("td-on-vector", [8], ["TimeDistributed(Dense(2))"], "H001", "time_distributed"),
    # after return_state the stack carries three tensors; most layers take one
    ("dense-after-state", [10, 5], ["LSTM(4, return_state=True)", "Dense(3)"], "H002", "dense"),
    ("lstm-after-state", [10, 5], ["LSTM(4, return_sequences=True, return_state=True)", "LSTM(2)"],
     "H002", "lstm_1"),
    # Flatten of an unknown length has an unknown size; Dense cannot size its kernel
    ("dense-after-unknown-flatten", [N := None, 5], ["Flatten()", "Dense(3)"], "H003", "dense"),
    ("lstm-unknown-features", [10, None], ["LSTM(3)"], "H003", "lstm"),
    ("reshape-size", [10, 6], ["Reshape((7, 7))"], "H004", "reshape"),
    ("conv-too-short", [2, 4], ["Conv1D(4, 3)"], "H004", "conv1d"),
    ("pool-too-short", [1, 4], ["MaxPooling1D(2)"], "H004", "max_pooling1d"),
    ("stateful-unknown-batch", [10, 4], ["LSTM(3, stateful=True)"], "T001", "lstm"),
    # --- the convolutional layers of issue 9
    # ConvLSTM2D(8, 3) without return_sequences returns one (None, 14, 14, 8) map: no time axis left
    ("convlstm-after-last-step", [5, 16, 16, 3], ["ConvLSTM2D(8, 3)", "ConvLSTM2D(4, 3)"], "H001", "conv_lstm2d_1"),
    ("convlstm-on-frames", [16, 16, 3], ["ConvLSTM2D(8, 3)"], "H001", "conv_lstm2d"),
    ("conv2d-on-video", [5, 28, 28, 3], ["Conv2D(4, 3)"], "H001", "conv2d"),  # kernel rank ≠ input rank
    ("convlstm-unknown-frame-size", [5, None, None, 3], ["ConvLSTM2D(8, 3, padding='same')"], "H003", "conv_lstm2d"),
    ("convlstm-unknown-channels", [5, 16, 16, None], ["ConvLSTM2D(8, 3)"], "H003", "conv_lstm2d"),
    # valid padding: 2 − 3 + 1 = 0 positions
    ("convlstm-kernel-larger", [5, 2, 2, 3], ["ConvLSTM2D(4, 3)"], "H004", "conv_lstm2d"),
    ("conv2d-dilated-kernel-larger", [8, 8, 3], ["Conv2D(4, 3, dilation_rate=4)"], "H004", "conv2d"),
    ("convlstm-stateful-unknown-batch", [5, 8, 8, 3], ["ConvLSTM2D(4, 3, stateful=True)"], "T001", "conv_lstm2d"),
    ("bidirectional-convlstm-stateful", [5, 8, 8, 3], ["Bidirectional(ConvLSTM2D(4, 3, stateful=True))"], "T001",
     "bidirectional"),
    # Masking on frames masks pixels; with valid padding the 6×6 maps cannot use an 8×8 pixel mask
    ("masking-into-valid-convlstm", [5, 8, 8, 3], ["Masking()", "ConvLSTM2D(4, 3)"], "H007", "conv_lstm2d"),
    ("masking-through-td-into-lstm", [5, 8, 8, 3], ["Masking()", "TimeDistributed(Conv2D(4, 3))",
                                                    "TimeDistributed(Flatten())", "LSTM(4)"], "H007", "lstm"),
    ("bidirectional-backward-other-kernel", [5, 16, 16, 3],
     ["Bidirectional(ConvLSTM2D(8, 3), backward_layer=ConvLSTM2D(8, 5, go_backwards=True))"], "H004", "bidirectional"),
]


@pytest.mark.parametrize("case_id, input_shape, layers, code, layer", REJECTED_STACKS,
                         ids=[case[0] for case in REJECTED_STACKS])
def test_rejected_stacks(case_id, input_shape, layers, code, layer):
    report = analyze_layers(input_shape, layers)
    assert not report.ok
    first = report.errors[0]
    assert (first.code, first.layer) == (code, layer)
    assert first.message and first.hint


def test_seed_000_error_says_what_and_how_to_fix():
    report = analyze_layers([10, 5], ["LSTM(50)", "LSTM(10)", "Dense(1)"])
    error = report.errors[0]
    assert "(None, 50)" in error.message and "from lstm" in error.message
    assert "return_sequences" in error.message
    assert "return_sequences: true" in error.hint and "RepeatVector" in error.hint
    # the layer before the error is still reported; the one after is not reached
    assert [(layer.name, layer.status) for layer in report.layers] == [
        ("lstm", "ok"), ("lstm_1", "error"), ("dense", "not-reached")]
    assert report.layers[0].output_shapes == [(None, 50)]


def test_unroll_on_unknown_length_is_a_warning():
    # Keras builds and runs it (it unrolls again for every length); lstmcalc says so.
    report = analyze_layers([None, 4], ["LSTM(3, unroll=True)"])
    assert report.ok
    assert [(d.code, d.severity, d.layer) for d in report.diagnostics] == [("T002", "warning", "lstm")]


def test_trainable_false_on_a_wrapper_is_a_warning():
    # Keras 3 does not pass the wrapper's trainable=False to the copies it makes: they still train.
    report = analyze_layers([10, 4], ["Bidirectional(LSTM(3), trainable=False)"])
    assert report.ok and report.totals.trainable_params == 2 * 4 * (3 * (4 + 3) + 3)  # 240
    assert [d.code for d in report.diagnostics] == ["P001"]


def test_stateful_with_batch_size_is_accepted():
    report = analyze_layers([10, 4], ["LSTM(3, stateful=True)"], batch_size=8)
    assert report.ok and report.layers[0].output_shapes == [(8, 3)]


def test_dropout_passes_a_state_list_through():
    report = analyze_layers([10, 5], ["LSTM(4, return_state=True)", "Dropout(0.1)"])
    assert report.ok
    assert report.layers[1].output_shapes == [(None, 4)] * 3
    assert report.outputs == ["dropout[0]", "dropout[1]", "dropout[2]"]


def spec(text: str):
    return analyze_text(textwrap.dedent(text), file="model.yaml")


# (id, spec text, code, line, column)
BAD_SPECS = [
    ("yaml-syntax", "input: [10, 5\nlayers: []\n", "S001", 2, 7),
    ("not-a-mapping", "- LSTM(4)\n", "S002", 1, 1),
    ("no-layers", "input: [10, 5]\n", "S002", 1, 1),
    ("no-input", "layers:\n  - LSTM(4)\n", "S002", 1, 1),
    ("unknown-top-key", "input: [10, 5]\nlayer:\n  - LSTM(4)\n", "S002", 2, 1),
    ("unknown-type", "input: [10, 5]\nlayers:\n  - {type: LSMT, units: 4}\n", "S003", 3, 12),
    ("unknown-type-call", "input: [10, 5]\nlayers:\n  - LSMT(4)\n", "S003", 3, 5),
    ("unknown-keyword", "input: [10, 5]\nlayers:\n  - {type: LSTM, unit: 4}\n", "S004", 3, 18),
    ("unknown-keyword-call", "input: [10, 5]\nlayers:\n  - \"LSTM(4, return_sequence=True)\"\n",
     "S004", 3, 14),
    ("units-string", "input: [10, 5]\nlayers:\n  - {type: LSTM, units: \"64\"}\n", "S005", 3, 18),
    ("units-bool", "input: [10, 5]\nlayers:\n  - {type: Dense, units: true}\n", "S005", 3, 19),
    ("units-float", "input: [10, 5]\nlayers:\n  - Dense(2.5)\n", "S005", 3, 11),
    ("units-zero", "input: [10, 5]\nlayers:\n  - {type: LSTM, units: 0}\n", "S006", 3, 18),
    ("units-negative", "input: [10, 5]\nlayers:\n  - Dense(-3)\n", "S006", 3, 11),
    ("dropout-rate", "input: [10, 5]\nlayers:\n  - Dropout(1.5)\n", "S006", 3, 13),
    ("merge-mode", "input: [10, 5]\nlayers:\n  - Bidirectional(LSTM(4), merge_mode='cat')\n", "S006", 3, 28),
    ("activation", "input: [10, 5]\nlayers:\n  - Dense(4, activation='rleu')\n", "S006", 3, 14),
    ("missing-units", "input: [10, 5]\nlayers:\n  - {type: LSTM}\n", "S007", 3, 5),
    ("not-literal", "input: [10, 5]\nlayers:\n  - Dense(4, activation=tf.nn.relu)\n", "S008", 3, 25),
    ("call-syntax", "input: [10, 5]\nlayers:\n  - \"Dense(4\"\n", "S008", 3, 11),
    ("too-many-positional", "input: [10, 5]\nlayers:\n  - RepeatVector(2, 3)\n", "S008", 3, 21),
    ("duplicate-name", "input: [10, 5]\nlayers:\n  - LSTM(4, return_sequences=True, name='a')\n"
                       "  - LSTM(4, name='a')\n", "S009", 4, 5),
    ("negative-dim", "input: [10, -5]\nlayers:\n  - LSTM(4)\n", "S010", 1, 13),
    ("input-number", "input: 10\nlayers:\n  - Dense(4)\n", "S010", 1, 8),
    ("bad-dtype", "input: {shape: [10], dtype: int23}\nlayers:\n  - Dense(4)\n", "S010", 1, 29),
    ("go-backwards-in-bidi", "input: [10, 5]\nlayers:\n  - Bidirectional(LSTM(4, go_backwards=True))\n",
     "S012", 3, 19),
    ("bidi-of-dense", "input: [10, 5]\nlayers:\n  - Bidirectional(Dense(4))\n", "S005", 3, 19),
    ("duplicate-key", "input: [10, 5]\nlayers:\n  - {type: LSTM, units: 4, units: 5}\n", "S002", 3, 28),
    ("batch-size-zero", "batch_size: 0\ninput: [10, 5]\nlayers:\n  - LSTM(4)\n", "S006", 1, 13),
    # issue 9: Keras builds a ConvLSTM with 0 filters, which fails when it runs
    ("convlstm-filters-zero", "input: [5, 8, 8, 3]\nlayers:\n  - ConvLSTM2D(0, 3)\n", "S006", 3, 16),
    ("conv2d-padding-causal", "input: [8, 8, 3]\nlayers:\n  - Conv2D(4, 3, padding='causal')\n", "S006", 3, 18),
    ("convlstm-kernel-one-value-list", "input: [5, 8, 8, 3]\nlayers:\n  - {type: ConvLSTM2D, filters: 4, "
                                       "kernel_size: [3]}\n", "S005", 3, 36),
    ("convlstm-strides-and-dilation", "input: [5, 8, 8, 3]\nlayers:\n  - ConvLSTM2D(4, 3, strides=(2, 1), "
                                      "dilation_rate=(1, 2))\n", "S012", 3, 22),
    ("convlstm-units", "input: [5, 8, 8, 3]\nlayers:\n  - {type: ConvLSTM2D, filters: 4, kernel_size: 3, units: 4}\n",
     "S004", 3, 52),
    ("conv-int-input", "input: {shape: [5, 8, 8, 3], dtype: int32}\nlayers:\n  - ConvLSTM2D(4, 3)\n", "H008", 3, 5),
]


@pytest.mark.parametrize("case_id, text, code, line, column", BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_bad_specs(case_id, text, code, line, column):
    report = analyze_text(text, file="model.yaml")
    assert not report.ok
    first = report.errors[0]
    assert (first.code, first.file, first.line, first.column) == (code, "model.yaml", line, column), first
    assert first.hint


def test_unknown_keyword_suggests_the_closest():
    report = analyze_text("input: [10, 5]\nlayers:\n  - {type: LSTM, unit: 4}\n")
    assert [d.code for d in report.errors] == ["S004"]  # no extra "needs units" noise
    assert "`units`" in report.errors[0].hint


def test_all_problems_of_a_spec_are_reported_at_once():
    report = analyze_text("input: [10, 5]\nlayers:\n  - LSMT(4)\n  - Dense(0)\n  - Dropout(2)\n")
    assert [d.code for d in report.errors] == ["S003", "S006", "S006"]


def test_reshape_of_unknown_length_to_fixed_size_is_a_warning():
    # (None, None, 4) → (8, 4) needs 32 values: Keras builds it; only length 8 runs
    report = analyze_layers([None, 4], ["Reshape((8, 4))"])
    assert report.ok and report.layers[0].output_shapes == [(None, 8, 4)]
    assert [d.code for d in report.diagnostics] == ["H005"]
    assert "only inputs with 8" in report.diagnostics[0].message


def test_bidirectional_backward_units_differ():
    concat = analyze_layers([10, 5], ["Bidirectional(LSTM(8), backward_layer=LSTM(4, go_backwards=True))"])
    # Keras declares 2 × 8 = 16 features; the running model gives 8 + 4 = 12
    assert concat.ok and concat.layers[0].output_shapes == [(None, 16)]
    assert [d.code for d in concat.diagnostics] == ["H006"] and "(None, 12)" in concat.diagnostics[0].message
    summed = analyze_layers([10, 5], ["Bidirectional(LSTM(8), backward_layer=LSTM(4, go_backwards=True), "
                                      "merge_mode='sum')"])
    assert [d.code for d in summed.errors] == ["H004"]


def test_deep_nesting_is_an_error_not_a_crash():
    deep_call = analyze_text("input: [4]\nlayers:\n  - " + "Bidirectional(" * 3000 + "LSTM(3)" + ")" * 3000 + "\n")
    assert deep_call.errors[0].code == "S008" and len(deep_call.errors[0].message) < 200
    deep_yaml = analyze_text("input: " + "[" * 5000 + "]" * 5000 + "\nlayers: []\n")
    assert deep_yaml.errors[0].code == "S028"


def test_trainable_false_on_a_convlstm_is_a_warning():
    # Keras 3 does not pass ConvLSTM2D's trainable=False to its cell, which owns the weights.
    report = analyze_layers([5, 8, 8, 3], ["ConvLSTM2D(4, 3, trainable=False)"])
    assert report.ok and report.totals.trainable_params == 4 * (3 * 3 * (3 + 4) * 4 + 4)  # 1,024
    assert [d.code for d in report.diagnostics] == ["P001"]


def test_convlstm_initial_states_are_maps_of_one_output_step():
    # valid padding, 8×8 frames: the states are 6×6 maps of 4 filters, not the frames' 8×8
    text = """\
    inputs: {x: {shape: [5, 8, 8, 3]}, h: {shape: [%s]}, c: {shape: [6, 6, 4]}}
    layers:
      - {type: ConvLSTM2D, filters: 4, kernel_size: 3, inputs: x, initial_state: [h, c]}
    """
    assert spec(text % "6, 6, 4").ok
    wrong = spec(text % "8, 8, 4")
    assert [d.code for d in wrong.errors] == ["T004"]
    assert "(batch, 6, 6, 4)" in wrong.errors[0].message and "(None, 8, 8, 4)" in wrong.errors[0].message
    assert "padding 'valid'" in wrong.errors[0].hint
