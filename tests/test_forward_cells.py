"""The forward pass against cases computed by hand: one or two units, two or three steps, the
arithmetic written out in each case (Keras 3's equations; see lstmcalc/layers/recurrent.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lstmcalc


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def build(input_shape, call: str):
    """The layer object lstmcalc builds for ``call`` on inputs of ``input_shape`` (no batch axis)."""
    report = lstmcalc.analyze_layers(list(input_shape), [call])
    assert report.ok, report.diagnostics
    return report.graph.nodes[report.layers[0].name].layer


def run(layer, weights, x, mask=None, initial_state=None):
    outputs, masks = layer.forward({k: np.asarray(v, dtype="float32") for k, v in weights.items()},
                                   [np.asarray(x, dtype="float32")], [None if mask is None else np.asarray(mask)],
                                   None if initial_state is None else [np.asarray(s, "float32") for s in initial_state])
    return [output.astype("float64") for output in outputs], masks


# SimpleRNN(1), linear: h_t = 0.5·x_t + 0.1 + 0.2·h_{t-1}
RNN_WEIGHTS = {"kernel": [[0.5]], "recurrent_kernel": [[0.2]], "bias": [0.1]}
LINEAR_RNN = "SimpleRNN(1, activation='linear', return_sequences=True)"

# (id, call, x (batch 1, steps, 1), mask or None, initial h or None, expected output)
SIMPLE_RNN_CASES = [
    # h1 = 0.5·1 + 0.1 = 0.6;  h2 = 0.5·2 + 0.1 + 0.2·0.6 = 1.22
    ("two-steps", LINEAR_RNN, [1, 2], None, None, [0.6, 1.22]),
    # the last output only
    ("last", "SimpleRNN(1, activation='linear')", [1, 2], None, None, [1.22]),
    # tanh: h1 = tanh(0.6);  h2 = tanh(1.1 + 0.2·tanh(0.6))
    ("tanh", "SimpleRNN(1, return_sequences=True)", [1, 2], None, None,
     [math.tanh(0.6), math.tanh(1.1 + 0.2 * math.tanh(0.6))]),
    # step 2 masked: the state stays 0.6 and the output repeats it; h3 = 1.5 + 0.1 + 0.2·0.6 = 1.72
    ("masked-middle", LINEAR_RNN, [1, 2, 3], [True, False, True], None, [0.6, 0.6, 1.72]),
    # right padding, last output: the output of the last real step, h2 = 1.22
    ("masked-end-last", "SimpleRNN(1, activation='linear')", [1, 2, 3], [True, True, False], None, [1.22]),
    # a masked first step outputs zeros; h2 = 1.0 + 0.1 = 1.1;  h3 = 1.5 + 0.1 + 0.2·1.1 = 1.82
    ("masked-start", LINEAR_RNN, [1, 2, 3], [False, True, True], None, [0.0, 1.1, 1.82]),
    # go_backwards reads 3, 2, 1 and returns that order: 1.6;  1.1 + 0.32 = 1.42;  0.6 + 0.284 = 0.884
    ("go-backwards", "SimpleRNN(1, activation='linear', return_sequences=True, go_backwards=True)",
     [1, 2, 3], None, None, [1.6, 1.42, 0.884]),
    # initial h0 = 1: h1 = 0.6 + 0.2·1 = 0.8;  h2 = 1.1 + 0.2·0.8 = 1.26
    ("initial-state", LINEAR_RNN, [1, 2], None, [[[1.0]]], [0.8, 1.26]),
]


@pytest.mark.parametrize("case_id, call, x, mask, initial, expected", SIMPLE_RNN_CASES,
                         ids=[case[0] for case in SIMPLE_RNN_CASES])
def test_simple_rnn_by_hand(case_id, call, x, mask, initial, expected):
    layer = build((None, 1), call)
    outputs, _ = run(layer, RNN_WEIGHTS, [[[value] for value in x]], None if mask is None else [mask],
                     initial)
    np.testing.assert_allclose(outputs[0].reshape(-1), expected, rtol=1e-6)


def test_lstm_one_unit_by_hand():
    # kernel [Wi, Wf, Wc, Wo] = [0.5, 0.4, 0.3, 0.2], recurrent [0.1, 0.2, 0.3, 0.4], bias [0, 1, 0, 0]
    layer = build((None, 1), "LSTM(1, return_sequences=True, return_state=True)")
    weights = {"kernel": [[0.5, 0.4, 0.3, 0.2]], "recurrent_kernel": [[0.1, 0.2, 0.3, 0.4]],
               "bias": [0.0, 1.0, 0.0, 0.0]}
    # step 1 (x = 1, h0 = c0 = 0): c1 = σ(1.4)·0 + σ(0.5)·tanh(0.3);  h1 = σ(0.2)·tanh(c1)
    c1 = sigmoid(0.5) * math.tanh(0.3)
    h1 = sigmoid(0.2) * math.tanh(c1)
    # step 2 (x = 2): z = 2·W + h1·U + b
    c2 = sigmoid(0.8 + 1 + 0.2 * h1) * c1 + sigmoid(1.0 + 0.1 * h1) * math.tanh(0.6 + 0.3 * h1)
    h2 = sigmoid(0.4 + 0.4 * h1) * math.tanh(c2)
    (sequence, h, c), _ = run(layer, weights, [[[1.0], [2.0]]])
    np.testing.assert_allclose(sequence.reshape(-1), [h1, h2], rtol=1e-6)
    np.testing.assert_allclose([h.item(), c.item()], [h2, c2], rtol=1e-6)


def test_lstm_two_units_gate_layout_by_hand():
    # Linear activations make the arithmetic exact. Kernel columns: i1 i2 f1 f2 c1 c2 o1 o2.
    layer = build((None, 1), "LSTM(2, return_sequences=True, activation='linear', recurrent_activation='linear')")
    recurrent = np.zeros((2, 8))
    recurrent[0, 4] = 1.0  # h1 (unit 1) feeds the cell candidate of unit 1
    weights = {"kernel": [[1, 2, 0.5, 0.5, 3, -1, 1, 0]], "recurrent_kernel": recurrent, "bias": np.zeros(8)}
    # x1 = 1: i = (1, 2), f = (.5, .5), g = (3, -1), o = (1, 0)
    #   c1 = (1·3, 2·-1) = (3, -2);  h1 = o·c1 = (3, 0)
    # x2 = 2: i = (2, 4), f = (1, 1), g = (6 + h1[0]·1, -2) = (9, -2), o = (2, 0)
    #   c2 = (1·3 + 2·9, 1·-2 + 4·-2) = (21, -10);  h2 = (2·21, 0·-10) = (42, 0)
    (sequence,), _ = run(layer, weights, [[[1.0], [2.0]]])
    np.testing.assert_allclose(sequence[0], [[3, 0], [42, 0]])


GRU_KERNEL = [[0.5, -0.5, 1.0]]       # [Wz, Wr, Wh]
GRU_RECURRENT = [[0.2, 0.3, 0.4]]     # [Uz, Ur, Uh]


def test_gru_reset_after_by_hand():
    # bias rows: input bias [0.1, 0.2, 0.3], recurrent bias [0.01, 0.02, 0.03]
    layer = build((None, 1), "GRU(1, return_sequences=True)")
    weights = {"kernel": GRU_KERNEL, "recurrent_kernel": GRU_RECURRENT,
               "bias": [[0.1, 0.2, 0.3], [0.01, 0.02, 0.03]]}
    # step 1 (x = 1, h0 = 0): z = σ(0.5 + 0.1 + 0.01), r = σ(-0.5 + 0.2 + 0.02),
    #   hh = tanh(1.0 + 0.3 + r·(0.4·0 + 0.03)), h1 = z·0 + (1 - z)·hh
    z, r = sigmoid(0.61), sigmoid(-0.28)
    h1 = (1 - z) * math.tanh(1.3 + r * 0.03)
    # step 2 (x = 2): the reset gate scales (Uh·h1 + recurrent bias), after the product
    z = sigmoid(1.0 + 0.1 + 0.2 * h1 + 0.01)
    r = sigmoid(-1.0 + 0.2 + 0.3 * h1 + 0.02)
    h2 = z * h1 + (1 - z) * math.tanh(2.0 + 0.3 + r * (0.4 * h1 + 0.03))
    (sequence,), _ = run(layer, weights, [[[1.0], [2.0]]])
    np.testing.assert_allclose(sequence.reshape(-1), [h1, h2], rtol=1e-6)


def test_gru_reset_before_by_hand():
    # one bias [0.1, 0.2, 0.3]; the reset gate scales h before the product: (r·h)·Uh
    layer = build((None, 1), "GRU(1, return_sequences=True, reset_after=False)")
    weights = {"kernel": GRU_KERNEL, "recurrent_kernel": GRU_RECURRENT, "bias": [0.1, 0.2, 0.3]}
    # step 1: z = σ(0.6), hh = tanh(1.3 + (r·0)·0.4) = tanh(1.3), h1 = (1 - z)·hh
    h1 = (1 - sigmoid(0.6)) * math.tanh(1.3)
    # step 2: z = σ(1.1 + 0.2·h1), r = σ(-0.8 + 0.3·h1), hh = tanh(2.3 + 0.4·r·h1)
    z, r = sigmoid(1.1 + 0.2 * h1), sigmoid(-0.8 + 0.3 * h1)
    h2 = z * h1 + (1 - z) * math.tanh(2.3 + 0.4 * r * h1)
    (sequence,), _ = run(layer, weights, [[[1.0], [2.0]]])
    np.testing.assert_allclose(sequence.reshape(-1), [h1, h2], rtol=1e-6)


def bidirectional_weights():
    # both directions: the linear SimpleRNN above
    return {f"{direction}/{name}": value for direction in ("forward", "backward")
            for name, value in RNN_WEIGHTS.items()}


# forward on x = [1, 2]: [0.6, 1.22]; backward reads 2 then 1: 1.1, then 0.6 + 0.2·1.1 = 0.82,
# flipped back to time order: [0.82, 1.1]
BIDIRECTIONAL_CASES = [
    ("concat", [[[[0.6, 0.82], [1.22, 1.1]]]]),
    ("sum", [[[[0.6 + 0.82], [1.22 + 1.1]]]]),
    ("mul", [[[[0.6 * 0.82], [1.22 * 1.1]]]]),
    ("ave", [[[[(0.6 + 0.82) / 2], [(1.22 + 1.1) / 2]]]]),
    (None, [[[[0.6], [1.22]]], [[[0.82], [1.1]]]]),  # two outputs
]


@pytest.mark.parametrize("merge_mode, expected", BIDIRECTIONAL_CASES, ids=[str(c[0]) for c in BIDIRECTIONAL_CASES])
def test_bidirectional_merge_modes_by_hand(merge_mode, expected):
    layer = build((None, 1), f"Bidirectional(SimpleRNN(1, activation='linear', return_sequences=True), "
                             f"merge_mode={merge_mode!r})")
    outputs, _ = run(layer, bidirectional_weights(), [[[1.0], [2.0]]])
    assert len(outputs) == len(expected)
    for output, values in zip(outputs, expected):
        np.testing.assert_allclose(output, values, rtol=1e-6)


def test_bidirectional_masked_sequences_give_zeros_by_hand():
    # mask [True, False]. Keras forces zero_output_for_mask on both layers when they return sequences:
    # forward: 0.6, then zeros at the masked step; backward reads x2 (masked → 0) then x1 → 0.6,
    # flipped to time order [0.6, 0]. Alone, a SimpleRNN would repeat 0.6 at the masked step.
    layer = build((None, 1), "Bidirectional(SimpleRNN(1, activation='linear', return_sequences=True))")
    outputs, masks = run(layer, bidirectional_weights(), [[[1.0], [2.0]]], mask=[[True, False]])
    np.testing.assert_allclose(outputs[0], [[[0.6, 0.6], [0.0, 0.0]]], rtol=1e-6)
    assert masks[0].tolist() == [[True, False]]


def test_initial_state_turns_the_automatic_mask_off():
    # Keras 3 passes the mask to call() only when the sequence is the one tensor argument:
    # with initial_state, step 2 is computed although masked: h1 = 0.6 + 0.2·1 = 0.8,
    # h2 = 1.1 + 0.2·0.8 = 1.26. The output still carries the mask.
    layer = build((None, 1), LINEAR_RNN)
    outputs, masks = run(layer, RNN_WEIGHTS, [[[1.0], [2.0]]], mask=[[True, False]], initial_state=[[[1.0]]])
    np.testing.assert_allclose(outputs[0].reshape(-1), [0.8, 1.26], rtol=1e-6)
    assert masks[0].tolist() == [[True, False]]


def test_lstm_return_state_with_initial_states():
    # LSTM(1) with every weight 0 except the forget bias 10: f ≈ 1, i = o = σ(0) = 0.5, g = tanh(0) = 0,
    # so c stays c0 (·σ(10)) and h = 0.5·tanh(c): with c0 = 2, c2 = 2·σ(10)², h2 = 0.5·tanh(c2)
    layer = build((None, 1), "LSTM(1, return_state=True)")
    weights = {"kernel": np.zeros((1, 4)), "recurrent_kernel": np.zeros((1, 4)), "bias": [0, 10, 0, 0]}
    (output, h, c), _ = run(layer, weights, [[[5.0], [7.0]]], initial_state=[[[0.3]], [[2.0]]])
    c2 = 2 * sigmoid(10) ** 2
    np.testing.assert_allclose([output.item(), h.item(), c.item()], [0.5 * math.tanh(c2)] * 2 + [c2], rtol=1e-6)


def test_initial_state_of_the_wrong_shape_is_a_clear_error():
    from lstmcalc.layers.base import Problem

    layer = build((None, 1), "LSTM(2)")
    weights = {"kernel": np.zeros((1, 8)), "recurrent_kernel": np.zeros((2, 8)), "bias": np.zeros(8)}
    with pytest.raises(Problem, match=r"initial states of shapes \[\(1, 2\), \(1, 2\)\]"):
        run(layer, weights, [[[1.0]]], initial_state=[[[0.0, 0.0]]])


# Other layers, by hand.
OTHER_CASES = [
    # Conv1D causal, kernel taps [1, 10]: left pad 1 → [0·1 + 1·10, 1·1 + 2·10, 2·1 + 3·10]
    ("conv-causal", (3, 1), "Conv1D(1, 2, padding='causal', use_bias=False)", {"kernel": [[[1.0]], [[10.0]]]},
     [[[1], [2], [3]]], [[[10], [21], [32]]]),
    # Conv1D same, kernel 2: TensorFlow pads 0 left, 1 right → [1·1 + 2·10, 2 + 30, 3 + 0]
    ("conv-same", (3, 1), "Conv1D(1, 2, padding='same', use_bias=False)", {"kernel": [[[1.0]], [[10.0]]]},
     [[[1], [2], [3]]], [[[21], [32], [3]]]),
    # dilation 2, valid: taps t and t+2 → [1 + 30, 2 + 40]
    ("conv-dilated", (4, 1), "Conv1D(1, 2, dilation_rate=2, use_bias=False)", {"kernel": [[[1.0]], [[10.0]]]},
     [[[1], [2], [3], [4]]], [[[31], [42]]]),
    # AveragePooling1D(3, strides 1, same): pad 1 each side, padding not counted:
    # (1+2)/2, (1+2+3)/3, (2+3+4)/3, (3+4)/2
    ("average-same", (4, 1), "AveragePooling1D(3, strides=1, padding='same')", {},
     [[[1], [2], [3], [4]]], [[[1.5], [2], [3], [3.5]]]),
    # MaxPooling1D(2) valid: max(1, 5), max(2, 0)
    ("max-valid", (4, 1), "MaxPooling1D(2)", {}, [[[1], [5], [2], [0]]], [[[5], [2]]]),
    # LayerNormalization(epsilon=0.001): mean 2, variance 1 → (x - 2)/√1.001 · γ + β, γ = 2, β = 0.5
    ("layer-norm", (2,), "LayerNormalization()", {"gamma": [2.0, 2.0], "beta": [0.5, 0.5]},
     [[1, 3]], [[-2 / math.sqrt(1.001) + 0.5, 2 / math.sqrt(1.001) + 0.5]]),
    # BatchNormalization, inference: (3 - 1)/√(4 + 0.001)·2 + 0.5
    ("batch-norm", (1,), "BatchNormalization()",
     {"gamma": [2.0], "beta": [0.5], "moving_mean": [1.0], "moving_variance": [4.0]},
     [[3]], [[2 / math.sqrt(4.001) * 2 + 0.5]]),
    # Dense on rank 3: [1, 2]·[[1], [10]] + 0.5 = 21.5
    ("dense-rank3", (1, 2), "Dense(1)", {"kernel": [[1.0], [10.0]], "bias": [0.5]}, [[[1, 2]]], [[[21.5]]]),
]


@pytest.mark.parametrize("case_id, shape, call, weights, x, expected", OTHER_CASES, ids=[c[0] for c in OTHER_CASES])
def test_other_layers_by_hand(case_id, shape, call, weights, x, expected):
    layer = build(shape, call)
    outputs, _ = run(layer, weights, x)
    np.testing.assert_allclose(outputs[0], expected, rtol=1e-6)


def test_global_average_pooling_masked_mean_by_hand():
    # steps 1, 2, 4 with step 2 masked: (1 + 4)/2 = 2.5; a fully masked sample gives 0/0 = NaN, as Keras
    layer = build((3, 1), "GlobalAveragePooling1D()")
    outputs, masks = run(layer, {}, [[[1], [2], [4]], [[1], [2], [4]]], mask=[[True, False, True], [False] * 3])
    assert outputs[0][0].tolist() == [2.5]
    assert math.isnan(outputs[0][1][0])
    assert masks == [None]


def test_embedding_mask_zero_and_masking_by_hand():
    embedding = build((3,), "Embedding(4, 1, mask_zero=True)")
    outputs, masks = embedding.forward({"embeddings": np.array([[0.0], [10.0], [20.0], [30.0]], "float32")},
                                       [np.array([[2, 0, 3]])], [None])
    assert outputs[0].tolist() == [[[20.0], [0.0], [30.0]]]
    assert masks[0].tolist() == [[True, False, True]]
    masking = build((3, 2), "Masking(mask_value=1.0)")
    outputs, masks = run(masking, {}, [[[1, 1], [1, 2], [3, 1]]])
    # a step is masked when every feature equals mask_value; it becomes zeros
    assert outputs[0].tolist() == [[[0, 0], [1, 2], [3, 1]]]
    assert masks[0].tolist() == [[False, True, True]]


ACTIVATION_CASES = [
    # name, x, Keras 3's definition written out
    ("hard_sigmoid", [-4, -1.5, 0, 1.5, 4], [0, 0.25, 0.5, 0.75, 1]),        # relu6(x + 3)/6
    ("hard_silu", [-1.5, 1.5], [-1.5 * 0.25, 1.5 * 0.75]),                      # x·hard_sigmoid(x)
    ("relu6", [-1, 3, 7], [0, 3, 6]),
    ("leaky_relu", [-1, 2], [-0.2, 2]),                                         # slope 0.2
    ("elu", [-1, 2], [math.exp(-1) - 1, 2]),
    ("selu", [-1, 1], [1.0507009873554805 * 1.6732632423543772 * (math.exp(-1) - 1), 1.0507009873554805]),
    ("gelu", [1], [0.5 * (1 + math.erf(1 / math.sqrt(2)))]),                     # exact, not tanh-approximated
    ("swish", [1], [sigmoid(1)]),
    ("softmax", [0, math.log(3)], [0.25, 0.75]),
    ("softplus", [0], [math.log(2)]),
    ("softsign", [3], [0.75]),
    ("sparse_sigmoid", [-2, 0, 0.5, 2], [0, 0.5, 0.75, 1]),
    ("sparse_plus", [-2, 0, 2], [0, 0.25, 2]),
    ("squareplus", [0], [1]),                                                   # (x + √(x² + 4))/2
    ("hard_tanh", [-3, 0.5], [-1, 0.5]),
    ("soft_shrink", [-1, 0.2, 1], [-0.5, 0, 0.5]),
    ("hard_shrink", [-1, 0.2, 1], [-1, 0, 1]),
    ("log_sigmoid", [0], [-math.log(2)]),
    ("glu", [1, 0], [0.5]),                                                      # a·σ(b)
    ("sparsemax", [1, 0], [1, 0]),
]


@pytest.mark.parametrize("name, x, expected", ACTIVATION_CASES, ids=[c[0] for c in ACTIVATION_CASES])
def test_activations_by_hand(name, x, expected):
    from lstmcalc.layers.activations import apply

    np.testing.assert_allclose(apply(name, np.array(x, dtype="float64")), expected, rtol=1e-7, atol=1e-12)


def test_sigmoid_by_hand():
    """1/(1 + e^−x); in float32 e^100 overflows to inf and σ(−100) is 0 (the true value is 3.7e-44)."""
    from lstmcalc.layers.activations import apply

    x = np.array([0, 2, -2, 100, -100], dtype="float32")
    computed = apply("sigmoid", x)
    assert computed.dtype == np.float32
    np.testing.assert_allclose(computed, [0.5, 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(2)), 1, 0], rtol=1e-6, atol=0)


# What the recurrent steps activate: a gate block of z (batch, 4·units), a one-unit LSTM's gate
# column (16 bytes between its values), ConvLSTM's gate blocks (contiguous: overwritten in place).
GATE_BLOCKS = [("block", (5, 12), np.s_[:, 3:6]), ("one-unit-gate", (6, 4), np.s_[:, 1:2]),
               ("every-eighth", (40,), np.s_[::8]), ("maps-last-axis", (2, 3, 3, 8), np.s_[..., 2:4]),
               ("contiguous-block", (12, 2, 3), np.s_[3:6])]


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "linear", "swish"])
@pytest.mark.parametrize("block_id, shape, where", GATE_BLOCKS, ids=[block[0] for block in GATE_BLOCKS])
def test_scratch_activations_give_the_same_numbers(name, block_id, shape, where):
    """A step's activation of a gate block it no longer needs equals the allocating one bit for
    bit, and changes nothing outside the block."""
    from lstmcalc.layers.activations import activation_function, scratch_activation

    z = np.random.default_rng(3).uniform(-4, 4, shape).astype("float32")
    expected_block, before = activation_function(name)(z[where].copy()), z.copy()
    result = scratch_activation(name)(z[where])
    np.testing.assert_array_equal(result, expected_block)
    z[where], before[where] = 0, 0
    np.testing.assert_array_equal(z, before)


@pytest.mark.parametrize("block_id, shape, where", GATE_BLOCKS, ids=[block[0] for block in GATE_BLOCKS])
def test_sigmoid_into_a_strided_view(block_id, shape, where):
    """sigmoid(x, out=x) on views, the one-unit gate's among them, where NumPy 2.4's in-place
    np.negative writes wrong values."""
    from lstmcalc.layers.activations import sigmoid

    z = np.random.default_rng(3).uniform(-4, 4, shape).astype("float32")
    expected = sigmoid(z[where].copy())
    np.testing.assert_array_equal(sigmoid(z[where], out=z[where]), expected)
    np.testing.assert_array_equal(z[where], expected)


def test_one_unit_lstm_on_a_batch_equals_each_sample_alone():
    """A one-unit LSTM's gates are columns of z with 4 values between them: the batch must give
    each sample what the sample gives alone."""
    rng = np.random.default_rng(5)
    weights = _lstm_weights(rng, 2, 1)
    x = rng.uniform(-1, 1, (5, 4, 2))
    layer = build((4, 2), "LSTM(1, return_sequences=True)")
    together, _ = run(layer, weights, x)
    for sample in range(5):
        alone, _ = run(layer, weights, x[sample:sample + 1])
        np.testing.assert_allclose(together[0][sample], alone[0][0], rtol=0, atol=1e-7)


# Conv2D by hand: x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], kernel W[m, n] = [[1, 10], [100, 1000]] reads x[i + m, j + n].
CONV2D_X = [[[[1], [2], [3]], [[4], [5], [6]], [[7], [8], [9]]]]
CONV2D_KERNEL = {"kernel": [[[[1.0]], [[10.0]]], [[[100.0]], [[1000.0]]]]}
CONV2D_CASES = [
    # valid: y[0,0] = 1 + 2·10 + 4·100 + 5·1000 = 5421, y[0,1] = 2 + 30 + 500 + 6000 = 6532,
    #        y[1,0] = 4 + 50 + 700 + 8000 = 8754,    y[1,1] = 5 + 60 + 800 + 9000 = 9865
    ("conv2d-valid", (3, 3, 1), "Conv2D(1, 2, use_bias=False)", CONV2D_KERNEL, CONV2D_X,
     [[[[5421], [6532]], [[8754], [9865]]]]),
    # same, strides 2: ceil(3 / 2) = 2 positions per axis; TensorFlow pads (0, 1): the 4th row and column are 0.
    #   y[0,1] = 3 + 6·100 = 603, y[1,0] = 7 + 8·10 = 87, y[1,1] = 9
    ("conv2d-same-strides", (3, 3, 1), "Conv2D(1, 2, strides=2, padding='same', use_bias=False)", CONV2D_KERNEL,
     CONV2D_X, [[[[5421], [603]], [[87], [9]]]]),
    # channels_first, groups 2, 1×1 kernel: each channel has its own weight: [2·x0, 3·x1]
    ("conv2d-groups-channels-first", (2, 1, 2), "Conv2D(2, 1, groups=2, use_bias=False, data_format='channels_first')",
     {"kernel": [[[[2.0, 3.0]]]]}, [[[[1, 2]], [[10, 20]]]], [[[[2, 4]], [[30, 60]]]]),
    # Conv3D valid 2×1×1 kernel over depth, bias 0.5: y[d] = x[d] + 10·x[d + 1] + 0.5
    ("conv3d-depth", (3, 1, 1, 1), "Conv3D(1, (2, 1, 1))", {"kernel": [[[[[1.0]]]], [[[[10.0]]]]], "bias": [0.5]},
     [[[[[1]]], [[[2]]], [[[3]]]]], [[[[[21.5]]], [[[32.5]]]]]),
]


@pytest.mark.parametrize("case_id, shape, call, weights, x, expected", CONV2D_CASES, ids=[c[0] for c in CONV2D_CASES])
def test_convolutions_by_hand(case_id, shape, call, weights, x, expected):
    layer = build(shape, call)
    outputs, _ = run(layer, weights, x)
    np.testing.assert_allclose(outputs[0], expected, rtol=1e-6)


# (spatial sizes, kernel, strides, dilation, padding): the options ConvLSTM's input convolution takes.
CHANNEL_MAJOR_CASES = [((9,), (3,), (1,), (1,), "same"), ((9,), (2,), (2,), (1,), "valid"),
                       ((7, 6), (3, 3), (1, 1), (1, 1), "same"), ((7, 6), (3, 2), (2, 1), (1, 1), "same"),
                       ((7, 6), (2, 3), (1, 1), (2, 1), "valid"), ((4, 5, 3), (3, 3, 1), (1, 1, 1), (1, 1, 1), "same")]


@pytest.mark.parametrize("spatial, window, strides, dilation, padding", CHANNEL_MAJOR_CASES)
def test_channel_major_convolution_is_the_convolution_reordered(spatial, window, strides, dilation, padding):
    """ConvLSTM's loop convolves (channels, batch, *spatial) arrays into (filters, batch, *positions):
    the same numbers as the layers' channels_last convolution, the axes moved."""
    from lstmcalc.layers.conv import convolve, convolve_channel_major

    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (2,) + spatial + (3,)).astype("float32")
    kernel = rng.uniform(-1, 1, window + (3, 5)).astype("float32")
    expected = convolve(x, kernel, strides, dilation, padding)
    computed = convolve_channel_major(np.moveaxis(x, -1, 0), kernel, strides, dilation, padding)
    assert computed.shape == (5,) + expected.shape[:-1]
    np.testing.assert_allclose(np.moveaxis(computed, 0, -1), expected, rtol=0, atol=1e-5)


def _lstm_weights(rng, features: int, units: int):
    return {"kernel": rng.uniform(-1, 1, (features, 4 * units)), "recurrent_kernel": rng.uniform(-1, 1, (units, 4 * units)),
            "bias": rng.uniform(-1, 1, 4 * units)}


@pytest.mark.parametrize("options", ["return_sequences=True", "go_backwards=True, return_sequences=True",
                                     "return_state=True",
                                     # activations of the filters' axis as a whole, not of each value
                                     "activation='softmax', return_sequences=True",
                                     "recurrent_activation='log_softmax', return_state=True",
                                     "activation='glu', return_sequences=True"])
def test_convlstm_with_a_1x1_kernel_is_an_lstm_at_every_pixel(options):
    """A 1×1 kernel makes both convolutions per-pixel matrix products, so ConvLSTM2D(2, 1) on 2×3 frames
    computes LSTM(2) with the same weights at each of the 6 pixels, independently."""
    rng = np.random.default_rng(1)
    weights = _lstm_weights(rng, 3, 2)
    x = rng.uniform(-1, 1, (2, 4, 2, 3, 3))  # batch 2, 4 frames of 2×3 pixels, 3 channels
    conv = build((4, 2, 3, 3), f"ConvLSTM2D(2, 1, {options})")
    conv_weights = {"kernel": weights["kernel"][None, None], "recurrent_kernel": weights["recurrent_kernel"][None, None],
                    "bias": weights["bias"]}
    maps, _ = run(conv, conv_weights, x)
    lstm = build((4, 3), f"LSTM(2, {options})")
    for row in range(2):
        for col in range(3):
            pixel, _ = run(lstm, weights, x[:, :, row, col, :])
            for conv_output, lstm_output in zip(maps, pixel):
                at_pixel = conv_output[..., row, col, :]
                np.testing.assert_allclose(at_pixel, lstm_output, rtol=1e-5, atol=1e-6)


def test_convlstm_masks_pixel_by_pixel():
    """Masking on frames flags pixels: where a pixel is masked the ConvLSTM keeps that pixel's states and
    repeats its previous output, as an LSTM with that pixel's own mask does; the other pixels go on."""
    rng = np.random.default_rng(2)
    weights = _lstm_weights(rng, 2, 1)
    x = rng.uniform(-1, 1, (1, 3, 1, 2, 2))
    mask = np.array([[[[True, True]], [[False, True]], [[True, False]]]])  # (batch, time, rows, cols)
    conv = build((3, 1, 2, 2), "ConvLSTM2D(1, 1, padding='same', return_sequences=True)")
    maps, masks = run(conv, {"kernel": weights["kernel"][None, None],
                             "recurrent_kernel": weights["recurrent_kernel"][None, None], "bias": weights["bias"]},
                      x, mask=mask)
    lstm = build((3, 2), "LSTM(1, return_sequences=True)")
    for col in range(2):
        pixel, _ = run(lstm, weights, x[:, :, 0, col, :], mask=mask[:, :, 0, col])
        np.testing.assert_allclose(maps[0][:, :, 0, col, :], pixel[0], rtol=1e-5, atol=1e-6)
    assert masks[0] is mask or (masks[0] == mask).all()  # the sequence keeps the mask


def test_convlstm_channels_first_is_the_transpose_of_channels_last():
    rng = np.random.default_rng(3)
    last = build((3, 5, 4, 2), "ConvLSTM2D(3, (3, 2), strides=(2, 1), return_sequences=True, return_state=True)")
    first = build((3, 2, 5, 4), "ConvLSTM2D(3, (3, 2), strides=(2, 1), return_sequences=True, return_state=True, "
                                "data_format='channels_first')")
    weights = {"kernel": rng.uniform(-1, 1, (3, 2, 2, 12)), "recurrent_kernel": rng.uniform(-1, 1, (3, 2, 3, 12)),
               "bias": rng.uniform(-1, 1, 12)}
    x = rng.uniform(-1, 1, (2, 3, 5, 4, 2))
    expected, _ = run(last, weights, x)
    computed, _ = run(first, weights, np.moveaxis(x, -1, 2))
    np.testing.assert_allclose(computed[0], np.moveaxis(expected[0], -1, 2), rtol=1e-5, atol=1e-6)
    for state, reference in zip(computed[1:], expected[1:]):
        np.testing.assert_allclose(state, np.moveaxis(reference, -1, 1), rtol=1e-5, atol=1e-6)
