"""SimpleRNN, GRU and LSTM: one class per layer, sharing the RNN rules of keras/src/layers/rnn/rnn.py.

Weight shapes come from a cell description (gates × units) laid out by a framework convention,
so ``framework: pytorch`` changes names and shapes without a second copy of each layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, List, Optional, Sequence, Tuple

from ..arithmetic import Expression, number as count_of, plus, times
from ..shapes import Shape
from .arguments import (Arg, activation, anything, boolean, choice, number, optional, positive_int)
from .activations import activation_function
from .base import (Arrays, Forward, Layer, MacCount, Masks, Rank, ShapeProblem, TensorSpec, Weight, WeightArrays,
                   numpy_module, register)
from .time_loop import Step, run_recurrence

if TYPE_CHECKING:
    from numpy import ndarray


@dataclass(frozen=True)
class Cell:
    """What determines a recurrent layer's weights, independent of how a framework stores them."""

    kind: str             # "lstm", "gru", "simple_rnn"
    input_dim: Optional[int]
    units: int
    gates: int            # 4 for LSTM (i, f, c, o), 3 for GRU (z, r, h), 1 for SimpleRNN
    use_bias: bool
    separate_recurrent_bias: bool  # GRU with reset_after=True keeps an input and a recurrent bias

    def step_macs(self) -> Expression:
        """MACs of one step: every gate multiplies x_t by its (input_dim, units) block and
        h_{t−1} by its (units, units) block."""
        factors = [count_of(self.gates, "gates")] if self.gates > 1 else []
        return times(*factors, count_of(self.units, "units"),
                     plus(count_of(self.input_dim, "features"), count_of(self.units, "units")))


@dataclass(frozen=True)
class Gate:
    """One block of a cell's weights: ``symbol`` names W_symbol, U_symbol, b_symbol."""

    symbol: str
    role: str
    activation: str  # the config key of its activation
    pytorch: str     # PyTorch's letter for the same block


# Keras's block order inside kernel, recurrent_kernel and bias (columns), per cell kind.
CELL_GATES = {
    "lstm": (Gate("i", "input gate", "recurrent_activation", "i"),
             Gate("f", "forget gate", "recurrent_activation", "f"),
             Gate("c", "candidate cell state", "activation", "g"),
             Gate("o", "output gate", "recurrent_activation", "o")),
    "gru": (Gate("z", "update gate", "recurrent_activation", "z"),
            Gate("r", "reset gate", "recurrent_activation", "r"),
            Gate("h", "candidate hidden state", "activation", "n")),
    "simple_rnn": (Gate("", "new hidden state", "activation", ""),),
}
# PyTorch stacks the same blocks in another order (rows of weight_ih_l0 / weight_hh_l0).
PYTORCH_GATE_ORDER = {"lstm": "ifgo", "gru": "rzn", "simple_rnn": ""}


def keras_cell_weights(cell: Cell, layer: Layer) -> List[Weight]:
    """Keras 3: ``kernel`` (input_dim, gates·units), ``recurrent_kernel`` (units, gates·units),
    ``bias`` (gates·units,) — or (2, 3·units) for GRU with reset_after=True."""
    width = cell.gates * cell.units
    weights = [layer.weight("kernel", (cell.input_dim, width)),
               layer.weight("recurrent_kernel", (cell.units, width))]
    if cell.use_bias:
        bias_shape: Tuple[int, ...] = (2, width) if cell.separate_recurrent_bias else (width,)
        weights.append(layer.weight("bias", bias_shape))
    return weights


def pytorch_cell_weights(cell: Cell, layer: Layer, index: int = 0, suffix: str = "") -> List[Weight]:
    """PyTorch: ``weight_ih_l0`` (gates·units, input_size), ``weight_hh_l0`` (gates·units, units)
    and, with a bias, always two vectors ``bias_ih_l0`` and ``bias_hh_l0``."""
    width = cell.gates * cell.units
    tag = f"l{index}{suffix}"
    weights = [layer.weight(f"weight_ih_{tag}", (width, cell.input_dim)),
               layer.weight(f"weight_hh_{tag}", (width, cell.units))]
    if cell.use_bias:
        weights += [layer.weight(f"bias_ih_{tag}", (width,)), layer.weight(f"bias_hh_{tag}", (width,))]
    return weights


CELL_LAYOUTS = {"keras": keras_cell_weights, "pytorch": pytorch_cell_weights}

_RECURRENT_ARGUMENTS_TAIL = (
    Arg("return_sequences", boolean, False),
    Arg("return_state", boolean, False),
    Arg("go_backwards", boolean, False),
    Arg("stateful", boolean, False),
    Arg("unroll", boolean, False),
)


def _initializers_and_friends(*names: str) -> Tuple[Arg, ...]:
    return tuple(Arg(name, anything, None) for name in names)


class Recurrent(Layer):
    """Shared rules of keras.layers.RNN subclasses."""

    input_rank = Rank(ndim=3)
    supports_masking = True
    cell_kind: ClassVar[str] = ""
    gates: ClassVar[int] = 1
    state_names: ClassVar[Tuple[str, ...]] = ("h",)

    def cell(self, input_dim: Optional[int]) -> Cell:
        return Cell(self.cell_kind, input_dim, self["units"], self.gates, self["use_bias"],
                    separate_recurrent_bias=False)

    @property
    def units(self) -> int:
        return self["units"]

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        # An unknown feature axis gives a None in the kernel shape, which the engine rejects.
        return CELL_LAYOUTS[self.convention](self.cell(inputs[0].shape[-1]), self)

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        # The loop runs over every step whatever return_sequences says; None steps: unknown length.
        return MacCount(self.cell(inputs[0].shape[-1]).step_macs(), inputs[0].shape[1])

    def check_input(self, sequence: Shape) -> None:
        if self["stateful"] and sequence[0] is None:
            raise ShapeProblem(
                "T001",
                "When using `stateful=True` in a RNN, the batch size must be static. "
                f"Found dynamic batch size: sequence.shape={sequence}.",
                "Give the model a fixed batch size (`batch_size: 32` at the top of the spec, or "
                "--batch-size), or drop `stateful: true`.", argument="stateful")

    def warnings(self, inputs: Sequence[TensorSpec]) -> List[ShapeProblem]:
        sequence = inputs[0].shape
        if sequence[1] == 0:
            return [ShapeProblem(
                "H012", f"{self.name} ({self.keras_class}) reads sequences of 0 time steps {sequence}: Keras "
                        "builds it (and its summary), but it fails when it runs (slice index 0 of dimension 1 "
                        "out of bounds).", "Give the input at least one time step, e.g. `input: [10, 5]`; "
                                           "null when the length varies.")]
        if self["unroll"] and sequence[1] is None:
            return [ShapeProblem(
                "T002",
                f"unroll: true on sequences of unknown length {sequence}: Keras builds and runs this, "
                "unrolling the loop again for every length it meets; memory grows with the length.",
                "Give the input a fixed length (e.g. `input: [50, 10]`), or drop `unroll: true`.",
                argument="unroll")]
        return []

    def state_shapes(self, batch: Any) -> List[Shape]:
        return [(batch, self.units) for _ in self.state_names]

    def check_initial_state(self, inputs: Sequence[TensorSpec], states: Sequence[TensorSpec]) -> None:
        check_states(self, inputs[0].shape[0], states, self.state_names, self.name)

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        sequence = inputs[0].shape
        self.check_input(sequence)
        batch, length = sequence[0], sequence[1]
        output: Shape = (batch, length, self.units) if self["return_sequences"] else (batch, self.units)
        if self["return_state"]:
            return [output] + self.state_shapes(batch)
        return [output]

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        # Keras: the output keeps the input's mask only when it is a sequence; states never do.
        masked = inputs[0].masked and self["return_sequences"]
        return [masked] + [False] * (count - 1)

    # -- forward pass ---------------------------------------------------------------------------

    def computed_shapes(self, inputs: Sequence[TensorSpec]) -> Optional[List[Shape]]:
        return None  # 'glu' breaks the recurrence itself, except with 2 units (see recurrence)

    def input_bias(self, weights: WeightArrays) -> Optional["ndarray"]:
        """The bias added to the input projection x · kernel (before the loop)."""
        return weights["bias"] if self["use_bias"] else None

    def step_function(self, weights: WeightArrays) -> Step:
        """One time step: (projected input, states) → (output, new states)."""
        raise NotImplementedError

    def forward_scratch(self, inputs: Sequence[TensorSpec]) -> int:
        batch, steps, features = inputs[0].shape
        width = self.gates * self.units
        # The input cast, the projections of every step and one step's gates and states.
        return batch * steps * (features + width) + batch * (3 * width + 4 * self.units)  # type: ignore[operator]

    def initial_states(self, batch: int, initial_state: Optional[Arrays]) -> Arrays:
        np = numpy_module()
        if initial_state is None:
            return [np.zeros((batch, self.units), dtype=self.array_dtype) for _ in self.state_names]
        expected = [(batch, self.units) for _ in self.state_names]
        received = [tuple(state.shape) for state in initial_state]
        if received != expected:
            raise ShapeProblem(
                "V004", f"{self.name} ({self.keras_class}) takes initial states of shapes {expected} "
                        f"({', '.join(self.state_names)}); it received {received}.",
                f"Give {len(expected)} state(s) of shape (batch, units) = {expected[0]}.")
        return [self.floating(state) for state in initial_state]

    def recurrence(self, weights: WeightArrays, sequence: "ndarray", mask: Optional["ndarray"],
                   initial_state: Optional[Arrays] = None, zero_output_for_mask: bool = False) -> Arrays:
        """The layer's outputs: the sequence or last output, then the states with return_state."""
        np = numpy_module()
        if self.convention != "keras":
            raise ShapeProblem("V005", f"The forward pass of {self.keras_class} uses Keras's weight layout; "
                                       f"this layer uses the {self.convention} layout.",
                               "Verify the model with Keras's conventions.")
        x = self.floating(sequence)
        batch, steps, features = x.shape
        kernel = self.floating(weights["kernel"])
        # All time steps' input projections in one matrix product, before the loop.
        projected = (x.reshape(batch * steps, features) @ kernel).reshape(batch, steps, kernel.shape[1])
        bias = self.input_bias(weights)
        if bias is not None:
            projected += self.floating(bias)
        try:
            with np.errstate(over="ignore", under="ignore"):
                output, states = run_recurrence(
                    self.step_function(weights), projected, self.initial_states(batch, initial_state),
                    None if mask is None else mask.astype(bool, copy=False),
                    go_backwards=self["go_backwards"], zero_output_for_mask=zero_output_for_mask,
                    return_sequences=self["return_sequences"])
        except ValueError as error:
            if "glu" not in (self.config.get("activation"), self.config.get("recurrent_activation")):
                raise
            # 'glu' halves a gate; like TensorFlow, NumPy broadcasts that only against 2 units.
            raise ShapeProblem("V005", f"{self.keras_class}({self.units}) with a 'glu' activation fails: "
                                       f"glu halves the units and the gates no longer fit ({error}).",
                               "Keras fails too when the model runs. Use another activation.") from None
        return [output] + states if self["return_state"] else [output]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        mask = masks[0] if masks else None
        # Keras 3 hands the mask to call() only when the sequence is its one tensor argument.
        outputs = self.recurrence(weights, inputs[0], None if initial_state is not None else mask,
                                  initial_state, bool(self.config.get("zero_output_for_mask", False)))
        return outputs, [mask if self["return_sequences"] else None] + [None] * (len(outputs) - 1)


STATE_WORDS = {"h": "hidden state h", "c": "cell state c"}


def check_states(layer: "Recurrent", batch: Any, states: Sequence[TensorSpec], names: Sequence[str],
                 owner: str, offset: int = 0) -> None:
    """Keras builds a model with wrongly sized initial states and fails only when it runs; we
    reject it here, naming the state and the expected and received shapes."""
    expected = [(batch, layer.units) for _ in names]
    if len(states) != len(names):
        wanted = ", ".join(STATE_WORDS.get(name, name) for name in names)
        raise ShapeProblem(
            "T003", f"{owner} ({layer.keras_class}) takes {len(names)} initial state(s) — {wanted}, each "
                    f"(batch, {layer.units}) — but receives {len(states)}.",
            f"Pass [{', '.join(names)}] in that order; an LSTM encoder with return_state gives them as "
            "`encoder[1]` (h) and `encoder[2]` (c).", argument="initial_state")
    for position, (state, name, shape) in enumerate(zip(states, names, expected)):
        received = state.shape
        compatible = len(received) == 2 and all(
            a is None or b is None or a == b for a, b in zip(received, shape))
        if not compatible:
            raise ShapeProblem(
                "T004", f"Initial state {offset + position} of {owner} ({STATE_WORDS.get(name, name)}) must "
                        f"be (batch, {layer.units}) = {shape}, but receives {received}. Keras builds this "
                        "model but fails when it runs.",
                f"Give the state {layer.units} features: match the encoder's units to "
                f"{layer.units}, or project the state with a Dense({layer.units}) layer.",
                argument="initial_state")


_COMMON_HEAD = (Arg("units", positive_int),)


@register
class SimpleRNN(Recurrent):
    keras_class = "SimpleRNN"
    cell_kind = "simple_rnn"
    gates = 1
    arguments = _COMMON_HEAD + (
        Arg("activation", activation, "tanh"),
        Arg("use_bias", boolean, True),
    ) + _initializers_and_friends(
        "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
        "recurrent_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
        "recurrent_constraint", "bias_constraint") + (
        Arg("dropout", number, 0.0),
        Arg("recurrent_dropout", number, 0.0),
    ) + _RECURRENT_ARGUMENTS_TAIL + (Arg("seed", anything, None),)

    def step_function(self, weights: WeightArrays) -> Step:
        """h = activation(x·W + b + h₋₁·U)."""
        recurrent = self.floating(weights["recurrent_kernel"])
        activation = activation_function(self["activation"])

        def step(projected: "ndarray", states: Arrays):
            output = activation(projected + states[0] @ recurrent)
            return output, [output]
        return step


@register
class GRU(Recurrent):
    keras_class = "GRU"
    cell_kind = "gru"
    gates = 3
    arguments = _COMMON_HEAD + (
        Arg("activation", activation, "tanh"),
        Arg("recurrent_activation", activation, "sigmoid"),
        Arg("use_bias", boolean, True),
    ) + _initializers_and_friends(
        "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
        "recurrent_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
        "recurrent_constraint", "bias_constraint") + (
        Arg("dropout", number, 0.0),
        Arg("recurrent_dropout", number, 0.0),
        Arg("seed", anything, None),
    ) + _RECURRENT_ARGUMENTS_TAIL + (
        Arg("reset_after", boolean, True),
        Arg("use_cudnn", choice("auto", True, False), "auto"),
        Arg("implementation", optional(choice(1, 2)), 2),
    )

    def cell(self, input_dim: Optional[int]) -> Cell:
        return Cell(self.cell_kind, input_dim, self.units, self.gates, self["use_bias"],
                    separate_recurrent_bias=self["reset_after"])

    def input_bias(self, weights: WeightArrays) -> Optional["ndarray"]:
        if not self["use_bias"]:
            return None
        # reset_after keeps (input bias, recurrent bias) as the two rows of `bias`.
        return weights["bias"][0] if self["reset_after"] else weights["bias"]

    def step_function(self, weights: WeightArrays) -> Step:
        """Gates z, r, h in the kernels' last axis. reset_after (Keras 3's default, cuDNN's form):
        hh = act(x·Wh + bh + r ⊙ (h₋₁·Uh + bh')); otherwise hh = act(x·Wh + bh + (r ⊙ h₋₁)·Uh).
        Then h = z ⊙ h₋₁ + (1 − z) ⊙ hh."""
        units = self.units
        recurrent = self.floating(weights["recurrent_kernel"])
        recurrent_bias = (self.floating(weights["bias"][1]) if self["use_bias"] and self["reset_after"]
                          else None)
        activation = activation_function(self["activation"])
        recurrent_activation = activation_function(self["recurrent_activation"])
        reset_after = self["reset_after"]

        def step(projected: "ndarray", states: Arrays):
            previous = states[0]
            if reset_after:
                inner = previous @ recurrent
                if recurrent_bias is not None:
                    inner = inner + recurrent_bias
            else:
                inner = previous @ recurrent[:, :2 * units]
            z = recurrent_activation(projected[:, :units] + inner[:, :units])
            r = recurrent_activation(projected[:, units:2 * units] + inner[:, units:2 * units])
            if reset_after:
                candidate_input = r * inner[:, 2 * units:]
            else:
                candidate_input = (r * previous) @ recurrent[:, 2 * units:]
            candidate = activation(projected[:, 2 * units:] + candidate_input)
            output = z * previous + (1 - z) * candidate
            return output, [output]
        return step


@register
class LSTM(Recurrent):
    keras_class = "LSTM"
    cell_kind = "lstm"
    gates = 4
    state_names = ("h", "c")
    arguments = _COMMON_HEAD + (
        Arg("activation", activation, "tanh"),
        Arg("recurrent_activation", activation, "sigmoid"),
        Arg("use_bias", boolean, True),
        Arg("kernel_initializer", anything, "glorot_uniform"),
        Arg("recurrent_initializer", anything, "orthogonal"),
        Arg("bias_initializer", anything, "zeros"),
        Arg("unit_forget_bias", boolean, True),
    ) + _initializers_and_friends(
        "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "recurrent_constraint", "bias_constraint") + (
        Arg("dropout", number, 0.0),
        Arg("recurrent_dropout", number, 0.0),
        Arg("seed", anything, None),
    ) + _RECURRENT_ARGUMENTS_TAIL + (
        Arg("use_cudnn", choice("auto", True, False), "auto"),
        Arg("implementation", optional(choice(1, 2)), 2),
    )

    def step_function(self, weights: WeightArrays) -> Step:
        """Gates i, f, c, o in the kernels' last axis: c = f ⊙ c₋₁ + i ⊙ act(zc), h = o ⊙ act(c)."""
        units = self.units
        recurrent = self.floating(weights["recurrent_kernel"])
        activation = activation_function(self["activation"])
        recurrent_activation = activation_function(self["recurrent_activation"])

        def step(projected: "ndarray", states: Arrays):
            previous_h, previous_c = states
            z = projected + previous_h @ recurrent
            i = recurrent_activation(z[:, :units])
            f = recurrent_activation(z[:, units:2 * units])
            c = f * previous_c + i * activation(z[:, 2 * units:3 * units])
            o = recurrent_activation(z[:, 3 * units:])
            h = o * activation(c)
            return h, [h, c]
        return step
