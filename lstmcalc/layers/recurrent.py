"""SimpleRNN, GRU and LSTM: one class per layer, sharing the RNN rules of keras/src/layers/rnn/rnn.py.

Weight shapes come from a cell description (gates × units) laid out by a framework convention,
so ``framework: pytorch`` changes names and shapes without a second copy of each layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, List, Optional, Sequence, Tuple

from ..arithmetic import Expression, number as count_of, plus, times
from ..shapes import Shape
from .arguments import (Arg, activation, anything, boolean, choice, number, optional, positive_int)
from .base import Layer, MacCount, Rank, ShapeProblem, TensorSpec, Weight, register


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
