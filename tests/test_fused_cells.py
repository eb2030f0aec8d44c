"""The fused steps of the dense recurrent cells (lstmcalc/layers/fused_cells.py) against the plain
steps, which compute Keras's equations gate by gate (and which the other activations still take):
the same outputs and states, for every unit count, mask, direction and initial state."""

from __future__ import annotations

import numpy as np
import pytest

import lstmcalc
from lstmcalc.layers.fused_cells import fused_columns, lstm_step
from lstmcalc.layers.recurrent import Recurrent


def built(input_shape, call: str):
    report = lstmcalc.analyze_layers(list(input_shape), [call])
    assert report.ok, report.diagnostics
    record = report.layers[0]
    return report.graph.nodes[record.name].layer, record.weights


def random_weights(weights, rng, dtype="float32"):
    # Wide weights, so that gates saturate (e^−x overflows to inf) as well as sit near 0.5.
    return {weight.name: rng.uniform(-2, 2, weight.shape).astype(dtype) for weight in weights}


# (call, steps) — units 1, 2, 3 and 5: a one-unit layer's gate columns are 4 bytes wide.
CALLS = [
    "LSTM({units}, return_sequences=True, return_state=True)",
    "LSTM({units}, activation='relu', return_state=True)",
    "LSTM({units}, activation='linear', use_bias=False, return_sequences=True)",
    "LSTM({units}, activation='sigmoid', go_backwards=True, return_sequences=True)",
    "GRU({units}, return_sequences=True, return_state=True)",
    "GRU({units}, reset_after=False, return_sequences=True, return_state=True)",
    "GRU({units}, use_bias=False, go_backwards=True)",
    "GRU({units}, reset_after=False, use_bias=False, activation='relu', return_sequences=True)",
    "SimpleRNN({units}, return_sequences=True, return_state=True)",
    "SimpleRNN({units}, activation='relu', go_backwards=True, return_sequences=True)",
    "Bidirectional(LSTM({units}, return_sequences=True))",
    "Bidirectional(GRU({units}), merge_mode='sum')",
]


def both_passes(monkeypatch, layer, weights, inputs, masks, initial_state=None):
    fused = layer.forward(weights, inputs, masks, initial_state)[0]
    with monkeypatch.context() as patch:
        patch.setattr(Recurrent, "fuses", lambda self: False)
        plain = layer.forward(weights, inputs, masks, initial_state)[0]
    return fused, plain


@pytest.mark.parametrize("units", [1, 2, 3, 5])
@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_fused_steps_equal_the_plain_steps(monkeypatch, call, units, masked):
    rng = np.random.default_rng(units)
    layer, weights = built((6, 3), call.format(units=units))
    own = random_weights(weights, rng)
    x = rng.uniform(-2, 2, (4, 6, 3)).astype("float32")
    # Left and right padding, a gap, and a sample without any step.
    mask = np.array([[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1, 0, 1, 0, 1, 1], [0] * 6], bool) if masked else None
    fused, plain = both_passes(monkeypatch, layer, own, [x], [mask])
    assert len(fused) == len(plain)
    for computed, expected in zip(fused, plain):
        assert computed.dtype == expected.dtype == np.float32
        np.testing.assert_allclose(computed, expected, rtol=2e-6, atol=2e-6)  # a few float32 ulps


@pytest.mark.parametrize("call", ["LSTM(3, return_state=True)", "GRU(3, return_state=True)",
                                  "GRU(3, reset_after=False, return_state=True)", "SimpleRNN(3, return_state=True)"])
def test_fused_steps_take_initial_states_and_leave_them_alone(monkeypatch, call):
    rng = np.random.default_rng(7)
    layer, weights = built((5, 2), call)
    own = random_weights(weights, rng)
    x = rng.uniform(-1, 1, (2, 5, 2)).astype("float32")
    states = [rng.uniform(-1, 1, (2, 3)).astype("float32") for _ in layer.state_names]
    given = [state.copy() for state in states]
    fused, plain = both_passes(monkeypatch, layer, own, [x], [None], states)
    for computed, expected in zip(fused, plain):
        np.testing.assert_allclose(computed, expected, rtol=2e-6, atol=2e-6)  # a few float32 ulps
    for state, copy in zip(states, given):
        np.testing.assert_array_equal(state, copy)


def test_fused_steps_keep_float64():
    # dtype float64: every buffer of the step follows the weights' dtype.
    rng = np.random.default_rng(3)
    layer, weights = built((4, 2), "LSTM(3, return_sequences=True, dtype='float64')")
    own = random_weights(weights, rng, "float64")
    (sequence,), _ = layer.forward(own, [rng.uniform(-1, 1, (2, 4, 2))], [None])
    assert sequence.dtype == np.float64


# (call, fused?): the fused steps compute tanh, relu, sigmoid and linear in place, and the
# sigmoid gates through exp; the others take the plain steps.
FUSED = [
    ("LSTM(4)", True),
    ("LSTM(4, activation='relu')", True),
    ("LSTM(4, recurrent_activation='hard_sigmoid')", False),
    ("LSTM(4, activation='softmax')", False),
    ("GRU(4, reset_after=False)", True),
    ("GRU(4, recurrent_activation='tanh')", False),
    ("SimpleRNN(4, activation='gelu')", False),
    ("SimpleRNN(4, activation='sigmoid')", True),
    ("ConvLSTM1D(4, 3, return_sequences=True)", False),
]


@pytest.mark.parametrize("call, expected", FUSED, ids=[case[0] for case in FUSED])
def test_which_layers_take_the_fused_steps(call, expected):
    layer, _ = built((6, 8, 2) if call.startswith("Conv") else (6, 2), call)
    assert layer.fuses() is expected


def test_an_lstm_step_alternates_between_two_buffers_and_never_writes_what_it_reads():
    rng = np.random.default_rng(0)
    recurrent = fused_columns(rng.uniform(-1, 1, (2, 8)).astype("float32"), (0, 1, 3, 2), 3)
    step = lstm_step(recurrent, "tanh", None)
    states = [np.zeros((3, 2), "float32"), np.zeros((3, 2), "float32")]
    seen = []
    for _ in range(4):
        read = [state.copy() for state in states]
        h, new_states = step(rng.uniform(-1, 1, (3, 8)).astype("float32"), states)
        for state, copy in zip(states, read):
            np.testing.assert_array_equal(state, copy)
        assert all(new is not old for new, old in zip(new_states, states))
        seen.append(h)
        states = new_states
    # Steps 1 and 3 (and 2 and 4) write the same arrays: nothing is allocated after the first.
    assert seen[0] is seen[2] and seen[1] is seen[3] and seen[0] is not seen[1]


def test_fused_columns_orders_the_blocks_and_negates_the_sigmoid_gates():
    # Blocks i, f, c, o of one unit each → i, f, o, c, with i, f and o negated.
    kernel = np.array([[1.0, 2.0, 3.0, 4.0]], "float32")
    np.testing.assert_array_equal(fused_columns(kernel, (0, 1, 3, 2), 3), [[-1.0, -2.0, -4.0, 3.0]])
    np.testing.assert_array_equal(kernel, [[1.0, 2.0, 3.0, 4.0]])  # a new array
