"""SimpleRNN, GRU and LSTM: one class per layer, sharing the RNN rules of keras/src/layers/rnn/rnn.py.

Weight shapes come from a cell description (gates × units) laid out by a framework convention,
so ``framework: pytorch`` changes names and shapes without a second copy of each layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple

from ..arithmetic import Expression, number as count_of, plus, times
from ..diagnostics import Problem
from ..records import FrozenRecord
from ..shapes import Shape, format_shape
from .arguments import (BASE_ARGUMENTS, Arg, activation, anything, boolean, choice, number, optional, positive_int)
from .activations import activation_function, scratch_activation
from .base import (Amount, Arrays, Example, Forward, Layer, MacCount, Masks, Rank, TensorSpec, Weight, WeightArrays,
                   clone, numpy_module, register)
from .explanation import (Block, Context, Equation, Formula, FrameworkView, Math, Setting, Symbol, TensorRow,
                          WeightRow, applied, count_text, legend, tensor_text, weight_text)
from .figures import repeated
from .porting import Counterpart, Entry, Link, Stack, gate_blocks, inverse, refuse
from .time_loop import Step, run_recurrence

if TYPE_CHECKING:
    from numpy import ndarray

    from .porting import PortPlan


class Cell(FrozenRecord):
    """What determines a recurrent layer's weights, independent of how a framework stores them:
    ``gates`` 4 for LSTM (i, f, c, o), 3 for GRU (z, r, h), 1 for SimpleRNN;
    ``separate_recurrent_bias`` for GRU with reset_after=True, which keeps an input and a recurrent
    bias; ``projection``: PyTorch's proj_size (h_t is the cell's output projected to this width by
    weight_hr, so the recurrent weights read proj_size values instead of units; 0: none);
    ``names``: what the general formula calls the units and the input width (PyTorch:
    hidden_size, H_in)."""

    def __init__(self, input_dim: Optional[int], units: int, gates: int, use_bias: bool,
                 separate_recurrent_bias: bool, projection: int = 0,
                 names: Tuple[str, str] = ("units", "features")):
        self.input_dim = input_dim
        self.units = units
        self.gates = gates
        self.use_bias = use_bias
        self.separate_recurrent_bias = separate_recurrent_bias
        self.projection = projection
        self.names = names

    @property
    def hidden_width(self) -> int:
        """The width of h_t: what the next step (and the next layer) reads."""
        return self.projection or self.units

    def _recurrent_width(self) -> Expression:
        return count_of(self.projection, "proj_size") if self.projection else self._units()

    def _units(self) -> Expression:
        return count_of(self.units, self.names[0])

    def _features(self) -> Expression:
        return count_of(self.input_dim, self.names[1])

    def parameters(self, convention: str = "keras") -> Expression:
        """The count as the layout of ``convention`` stores the cell: gates × (units × (features +
        units) + bias), where Keras keeps one bias of units (two with GRU's reset_after) and PyTorch
        always two (bias_ih and bias_hh); with a projection, units × proj_size more."""
        units = self._units()
        inner: List[Expression] = [times(units, plus(self._features(), self._recurrent_width()))]
        if self.use_bias:
            two_biases = self.separate_recurrent_bias or convention == "pytorch"
            inner.append(times(count_of(2, "2"), units) if two_biases else units)
        total = plus(*inner)
        gated = times(count_of(self.gates, "gates"), total) if self.gates > 1 else total
        return plus(gated, times(count_of(self.projection, "proj_size"), units)) if self.projection else gated

    @property
    def state_size(self) -> int:
        """Values in one state of one sample."""
        return self.units

    def step_macs(self) -> Expression:
        """MACs of one step: every gate multiplies x_t by its (input_dim, units) block and
        h_{t−1} by its (units, units) block (with a projection, (proj_size, units), and the
        projection itself multiplies units by proj_size)."""
        factors = [count_of(self.gates, "gates")] if self.gates > 1 else []
        products = times(*factors, self._units(), plus(self._features(), self._recurrent_width()))
        if self.projection:
            return plus(products, times(self._units(), count_of(self.projection, "proj_size")))
        return products


class Gate(FrozenRecord):
    """One block of a cell's weights: ``symbol`` names W_symbol, U_symbol, b_symbol; ``activation``
    is the config key of its activation."""

    def __init__(self, symbol: str, role: str, activation: str):
        self.symbol = symbol
        self.role = role
        self.activation = activation


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
    """PyTorch (named_parameters' names and order): ``weight_ih_l0`` (gates·units, input_size),
    ``weight_hh_l0`` (gates·units, units — proj_size with a projection), with a bias always two
    vectors ``bias_ih_l0`` and ``bias_hh_l0``, then ``weight_hr_l0`` (proj_size, units) with a
    projection. ``index`` is the layer of a num_layers stack, ``suffix`` "_reverse" for the
    backward direction."""
    width = cell.gates * cell.units
    tag = f"l{index}{suffix}"
    weights = [layer.weight(f"weight_ih_{tag}", (width, cell.input_dim)),
               layer.weight(f"weight_hh_{tag}", (width, cell.hidden_width))]
    if cell.use_bias:
        weights += [layer.weight(f"bias_ih_{tag}", (width,)), layer.weight(f"bias_hh_{tag}", (width,))]
    if cell.projection:
        weights.append(layer.weight(f"weight_hr_{tag}", (cell.projection, cell.units)))
    return weights


CELL_LAYOUTS = {"keras": keras_cell_weights, "pytorch": pytorch_cell_weights}

RECURRENT_ARGUMENTS_TAIL = (
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
    takes_initial_state = True
    legacy_config = {"time_major": False}
    # keras.layers.RNN's keyword (saved configs carry it; Bidirectional sets it on its copies).
    base_arguments = tuple(BASE_ARGUMENTS) + (Arg("zero_output_for_mask", boolean, False),)
    gates: ClassVar[int] = 1
    state_names: ClassVar[Tuple[str, ...]] = ("h",)
    default_initializers = {"recurrent_kernel": "orthogonal"}
    initializer_arguments = {"recurrent_kernel": "recurrent_initializer"}
    displayed_arguments = ("units", "return_sequences", "return_state")

    def cell(self, input_dim: Optional[int]) -> Cell:
        return Cell(input_dim, self["units"], self.gates, self["use_bias"], separate_recurrent_bias=False)

    @property
    def units(self) -> int:
        return self["units"]

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        # An unknown feature axis gives a None in the kernel shape, which the engine rejects.
        return CELL_LAYOUTS[self.convention](self.cell(inputs[0].shape[-1]), self)

    def keras_saved_paths(self, weights: Sequence[Weight]) -> List[str]:
        # The variables belong to the layer's cell.
        return [f"cell/vars/{index}" for index in range(len(weights))]

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        # The loop runs over every step whatever return_sequences says; None steps: unknown length.
        return MacCount(self.cell_of(inputs).step_macs(), inputs[0].shape[1])

    def check_input(self, sequence: Shape) -> None:
        if self["stateful"] and sequence[0] is None:
            raise Problem(
                "T001",
                "When using `stateful=True` in a RNN, the batch size must be static. "
                f"Found dynamic batch size: sequence.shape={sequence}.",
                "Give the model a fixed batch size (`batch_size: 32` at the top of the spec, or "
                "--batch-size), or drop `stateful: true`.", argument="stateful")

    def warnings(self, inputs: Sequence[TensorSpec]) -> List[Problem]:
        sequence = inputs[0].shape
        if sequence[1] == 0:
            return [Problem(
                "H012", f"{self.name} ({self.keras_class}) reads sequences of 0 time steps {sequence}: Keras "
                        "builds it (and its summary), but it fails when it runs (slice index 0 of dimension 1 "
                        "out of bounds).", "Give the input at least one time step, e.g. `input: [10, 5]`; "
                                           "null when the length varies.")]
        if self["unroll"] and sequence[1] is None:
            return [Problem(
                "T002",
                f"unroll: true on sequences of unknown length {sequence}: Keras builds and runs this, "
                "unrolling the loop again for every length it meets; memory grows with the length.",
                "Give the input a fixed length (e.g. `input: [50, 10]`), or drop `unroll: true`.",
                argument="unroll")]
        return []

    def state_shapes(self, batch: Any) -> List[Shape]:
        return [(batch, self.units) for _ in self.state_names]

    # The axes of one state, as the messages name them; the word for the size the layer chooses.
    state_axes: ClassVar[Tuple[str, ...]] = ("batch", "units")
    units_name: ClassVar[str] = "units"

    def check_initial_state(self, inputs: Sequence[TensorSpec], states: Sequence[TensorSpec]) -> None:
        check_states(self, inputs, states, self.name)

    # Keras's GRU.inner_loop keeps initial_state[0] and drops the others, whatever their number or
    # shapes; the other recurrent layers need exactly their states.
    ignores_extra_states: ClassVar[bool] = False

    def accepts_state_count(self, count: int) -> bool:
        """Whether Keras runs this layer given ``count`` initial states."""
        wanted = len(self.state_names)
        return count == wanted or (self.ignores_extra_states and count > wanted)

    def state_fix_hint(self, expected: Shape) -> str:
        """How to give an initial state the shape ``expected`` (T004)."""
        units = self.units
        return (f"Give the state {units} features: match the encoder's units to {units}, or project the "
                f"state with a Dense({units}) layer.")

    def check_mask(self, inputs: Sequence[TensorSpec]) -> None:
        """Keras's loop broadcasts each step's mask against the output and the states (its
        ``_expand_mask``): trailing axes are added to the mask, and the axes it has must equal the
        output's (or be 1). A mask of another shape — Masking on video frames flags each pixel,
        (batch, time, rows, cols) — builds, but the model fails when it runs."""
        tensor = inputs[0]
        if not tensor.masked or tensor.mask_shape is None or len(tensor.mask_shape) < 2:
            return
        step = (tensor.mask_shape[0],) + tuple(tensor.mask_shape[2:])
        output = self.state_shapes_of(inputs)[0]
        fits = len(step) <= len(output) and all(
            mask in (None, 1) or size is None or mask == size for mask, size in zip(step[1:], output[1:]))
        if fits:
            return
        raise Problem(
            "H007", f"{self.name} ({self.keras_class}) receives a mask of shape {format_shape(tensor.mask_shape)}: "
                    f"at each step Keras keeps or drops the values of the output {format_shape(output)} with "
                    f"the mask of that step, {format_shape(step)}, which does not fit it. Keras builds this "
                    "model but fails when it runs.", self.mask_fix_hint(tensor.mask_shape, output))

    def mask_fix_hint(self, mask: Shape, output: Shape) -> str:
        """How to give the layer a mask that fits its steps (H007)."""
        return ("Masking flags each position of its input's last axis alone, so on frames it masks pixels, "
                "not steps: put Masking (or the Embedding) where the steps are vectors, after "
                "TimeDistributed(Flatten()) for example, or remove it.")

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        sequence = inputs[0].shape
        self.check_input(sequence)
        self.check_mask(inputs)
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

    # The gate blocks of the fused steps (fused_cells.py), as indices of the kernels' blocks, the
    # sigmoid gates first; () for a layer without them.
    fused_blocks: ClassVar[Tuple[int, ...]] = ()
    fused_sigmoids: ClassVar[int] = 0

    def fuses(self) -> bool:
        """Whether the forward pass takes the fused step: its activations computed in place, and
        its gates' recurrent_activation the sigmoid the fused step computes through exp."""
        from .fused_cells import fusable  # only the forward pass needs it

        return (bool(self.fused_blocks) and fusable(self["activation"])
                and (not self.fused_sigmoids or self["recurrent_activation"] == "sigmoid"))

    def fused_weights(self, weights: WeightArrays) -> WeightArrays:
        """kernel, recurrent_kernel and bias with their gate blocks in the fused order."""
        from .fused_cells import fused_columns  # only the forward pass needs it

        fused = {name: fused_columns(self.floating(array), self.fused_blocks, self.fused_sigmoids)
                 for name, array in weights.items() if name in ("kernel", "recurrent_kernel", "bias")}
        return {**weights, **fused}

    def fused_step(self, weights: WeightArrays) -> Step:
        """The fused step on ``fused_weights``; it adds the input bias itself (to x · kernel)."""
        raise NotImplementedError

    def recurrent_product(self, weights: WeightArrays) -> Callable[["ndarray"], "ndarray"]:
        """h ↦ h · recurrent_kernel, all gates at once: the recurrent part of one step, a new
        array the step may compute its gates in."""
        recurrent = self.floating(weights["recurrent_kernel"])
        return lambda h: h @ recurrent

    def loop_activation(self, name: Optional[str], scratch: bool = False) -> Callable[["ndarray"], "ndarray"]:
        """The activation ``name`` for the loop's arrays (with ``scratch``, one that may overwrite
        its argument: see activations.scratch_activation)."""
        return scratch_activation(name) if scratch else activation_function(name)

    def gate_views(self, z: "ndarray") -> List["ndarray"]:
        """z's blocks, one per gate in the kernels' order: views along the axis the loop keeps the
        units on (the last; ConvLSTM's loop keeps them first)."""
        width = z.shape[-1] // self.gates
        return [z[..., gate * width:(gate + 1) * width] for gate in range(self.gates)]

    def to_loop_layout(self, state: "ndarray") -> "ndarray":
        """A state as the loop carries it (the same array; ConvLSTM moves its filters first)."""
        return state

    def from_loop_layout(self, array: "ndarray", sequence: bool) -> "ndarray":
        """An output of the loop (a state, or with ``sequence`` the outputs of every step) back in
        the layer's layout."""
        return array

    def loop_mask(self, mask: "ndarray") -> "ndarray":
        """The mask in the layout of the loop's outputs."""
        return mask

    def forward_scratch(self, inputs: Sequence[TensorSpec]) -> int:
        batch, steps, features = inputs[0].shape
        width = self.gates * self.units
        # The input cast, the projections of every step and one step's gates and states.
        return batch * steps * (features + width) + batch * (3 * width + 4 * self.units)  # type: ignore[operator]

    def initial_states(self, expected: List[Shape], initial_state: Optional[Arrays]) -> Arrays:
        """Zeros of the ``expected`` state shapes, or the given states once checked against them."""
        np = numpy_module()
        if initial_state is None:
            return [np.zeros(shape, dtype=self.array_dtype) for shape in expected]
        if self.ignores_extra_states:
            initial_state = list(initial_state)[:len(expected)]
        received = [tuple(state.shape) for state in initial_state]
        if received != expected:
            raise Problem(
                "V004", f"{self.name} ({self.keras_class}) takes initial states of shapes {expected} "
                        f"({', '.join(self.state_names)}); it received {received}.",
                f"Give {len(expected)} state(s) of shape ({', '.join(self.state_axes)}) = {expected[0]}.")
        return [self.floating(state) for state in initial_state]

    def project_inputs(self, weights: WeightArrays, x: "ndarray") -> "ndarray":
        """Every time step's input part of the gates, (batch, time, gates·units): x · kernel + bias
        for all steps in one matrix product, before the loop."""
        projected = self.input_product(weights, x)
        bias = self.input_bias(weights)
        if bias is not None:
            projected += self.floating(bias)
        return projected

    def input_product(self, weights: WeightArrays, x: "ndarray") -> "ndarray":
        """x · kernel for all steps in one matrix product, (batch, time, gates·units)."""
        batch, steps, features = x.shape
        kernel = self.floating(weights["kernel"])
        return (x.reshape(batch * steps, features) @ kernel).reshape(batch, steps, kernel.shape[1])

    def recurrence(self, weights: WeightArrays, sequence: "ndarray", mask: Optional["ndarray"],
                   initial_state: Optional[Arrays] = None, zero_output_for_mask: bool = False) -> Arrays:
        """The layer's outputs: the sequence or last output, then the states with return_state."""
        np = numpy_module()
        if self.convention != "keras":
            raise Problem("V005", f"The forward pass of {self.keras_class} uses Keras's weight layout; "
                                       f"this layer uses the {self.convention} layout.",
                               "Verify the model with Keras's conventions.")
        x = self.floating(sequence)
        if self.fuses():
            weights = self.fused_weights(weights)
            step, projected = self.fused_step(weights), self.input_product(weights, x)
        else:
            step, projected = self.step_function(weights), self.project_inputs(weights, x)
        expected = [tuple(shape) for shape in self.state_shapes_of([TensorSpec(tuple(x.shape), self.array_dtype)])]
        try:
            with np.errstate(over="ignore", under="ignore"):
                output, states = run_recurrence(
                    step, projected,
                    [self.to_loop_layout(state) for state in self.initial_states(expected, initial_state)],
                    None if mask is None else self.loop_mask(mask.astype(bool, copy=False)),
                    go_backwards=self["go_backwards"], zero_output_for_mask=zero_output_for_mask,
                    return_sequences=self["return_sequences"])
            output = self.from_loop_layout(output, self["return_sequences"])
            states = [self.from_loop_layout(state, False) for state in states]
        except ValueError as error:
            if "glu" not in (self.config.get("activation"), self.config.get("recurrent_activation")):
                raise
            # 'glu' halves a gate; like TensorFlow, NumPy broadcasts that only against 2 units.
            raise Problem("V005", f"{self.keras_class}({self.units}) with a 'glu' activation fails: "
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


    # -- traits ----------------------------------------------------------------------------------

    consumes_mask = True
    sequence_axes = ("batch", "timesteps", "features")
    # The cell's gates in Keras's block order; what the equations call the gates' values.
    cell_gates: ClassVar[Tuple["Gate", ...]] = ()
    gate_values: ClassVar[str] = ""
    # The PyTorch module computing the same cell, and its order of the gate blocks.
    pytorch_module: ClassVar[str] = ""
    pytorch_gate_order: ClassVar[str] = ""

    def recurrent_copies(self) -> List[Layer]:
        return [self]

    def state_shapes_of(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        """The shapes of the states it carries from step to step (h, and c for LSTM)."""
        return self.state_shapes(inputs[0].shape[0])

    def with_return(self, return_sequences: bool, return_state: bool) -> Layer:
        """A copy with other return settings (for the table of settings)."""
        return clone(self, self.name, return_sequences=return_sequences, return_state=return_state)

    def keras_masks(self, inputs, masks, count: int, graph) -> list:
        # The output keeps the input's mask only when it is a sequence; the states never do.
        first = masks[0] if masks and self["return_sequences"] else None
        return [first] + [None] * (count - 1)

    # -- compute figures -------------------------------------------------------------------------

    def kept_for_backprop(self, inputs: Sequence[TensorSpec]) -> Amount:
        """Backpropagation through time keeps, at every step, the gate activations and the
        states: (gates + states) × units values per sample."""
        cell = self.cell_of(inputs)
        return repeated((cell.gates + len(self.state_names)) * cell.state_size, inputs[0].shape[1])

    # -- explanation -----------------------------------------------------------------------------

    def parameter_expression(self, inputs: Sequence[TensorSpec]) -> Expression:
        return self.cell_of(inputs).parameters(self.convention)

    def cell_equations(self, cell: Cell) -> List[Equation]:
        """One step of the cell, gate by gate."""
        raise NotImplementedError

    def gate_input(self, cell: Cell, gate: "Gate", bias: str) -> str:
        suffix = f"_{gate.symbol}" if gate.symbol else ""
        terms = [f"x_t·W{suffix}", f"h_{{t−1}}·U{suffix}"]
        if cell.use_bias:
            terms.append(f"{bias}{suffix}")
        return " + ".join(terms)

    def cell_of(self, inputs: Sequence[TensorSpec]) -> Cell:
        """The cell that reads these inputs."""
        return self.cell(inputs[0].shape[-1])

    def width_text(self) -> str:
        """The size the layer chooses, in words: ``64 units``."""
        return f"{self.units} units"

    def step_text(self, inputs: Sequence[TensorSpec]) -> str:
        """What one time step of the input holds, in words: ``10 features``."""
        return f"{inputs[0].shape[-1]} features"

    def weight_layouts(self, cell: Cell) -> Dict[str, str]:
        """What the Keras weights hold: column blocks, one per gate, in Keras's order."""
        f, u, g = cell.input_dim, cell.units, cell.gates
        if g == 1:
            return {"kernel": f"W: {f} features × {u} units", "recurrent_kernel": f"U: {u} units × {u} units",
                    "bias": f"b: {u} units"}
        layouts = {
            "kernel": f"{_block_list(_gate_names(self.cell_gates, 'W'))}: {f} features × ({g} gates × {u} units)",
            "recurrent_kernel": (f"{_block_list(_gate_names(self.cell_gates, 'U'))}: {u} units × "
                                 f"({g} gates × {u} units)"),
            "bias": f"{_block_list(_gate_names(self.cell_gates, 'b'))}: {g} gates × {u} units",
        }
        if cell.separate_recurrent_bias:
            layouts["bias"] = (f"rows {_block_list(_gate_names(self.cell_gates, 'b', 'x'))} and "
                               f"{_block_list(_gate_names(self.cell_gates, 'b', 'h'))}: 2 × ({g} gates × {u} units)")
        return layouts

    def loop_text(self, steps: Optional[int], initial_state: bool) -> str:
        states = " = ".join(f"{name}_0" for name in self.state_names)
        start = (f"starting from {', '.join(n + '_0' for n in self.state_names)} = the initial_state tensors"
                 if initial_state else f"starting from {states} = 0")
        if self["go_backwards"]:
            order = f"for t = {count_text(steps)}, …, 1 (go_backwards: the sequence is read from its end)"
        else:
            order = f"for t = 1, …, {count_text(steps)}"
        length = " (T = the length of each batch: unknown)" if steps is None else ""
        return f"{order}{length}, {start}, the same weights at every step"

    def cell_symbols(self, cell: Cell, batch: Optional[int]) -> List[Symbol]:
        gates = self.cell_gates
        f, u = cell.input_dim, cell.units
        row = (batch,)
        symbols = [Symbol("x_t", tensor_text(row + (f,)), f"the input at step t: {f} features per sample"),
                   Symbol("h_{t−1}, h_t", tensor_text(row + (u,)), f"hidden state: one value per unit, {u} units")]
        if "c" in self.state_names:
            symbols.append(Symbol("c_{t−1}, c_t", tensor_text(row + (u,)), "cell state: the LSTM's memory, "
                                                                           "one value per unit"))
        several = cell.gates > 1
        symbols.append(Symbol(", ".join(_gate_names(gates, "W")), weight_text((f, u)),
                              "input weights" + (", one block of kernel per gate" if several else " (kernel)")))
        symbols.append(Symbol(", ".join(_gate_names(gates, "U")), weight_text((u, u)),
                              "recurrent weights" + (", one block of recurrent_kernel per gate" if several
                                                     else " (recurrent_kernel)")))
        if cell.use_bias:
            if cell.separate_recurrent_bias:
                symbols.append(Symbol(", ".join(_gate_names(gates, "b", "x")), weight_text((u,)),
                                      "input biases (bias[0])"))
                symbols.append(Symbol(", ".join(_gate_names(gates, "b", "h")), weight_text((u,)),
                                      "recurrent biases (bias[1])"))
            else:
                symbols.append(Symbol(", ".join(_gate_names(gates, "b")), weight_text((u,)),
                                      "biases" + (", one block of bias per gate" if several else "")))
        if several:
            symbols.append(Symbol(self.gate_values, tensor_text(row + (u,)), "gate values at step t"))
        return symbols

    def cell_block(self, inputs: Sequence[TensorSpec], title: str, initial_state: bool = False) -> Block:
        shape = inputs[0].shape
        cell = self.cell_of(inputs)
        return Block(title, self.loop_text(shape[1], initial_state), self.cell_equations(cell),
                     self.cell_symbols(cell, shape[0]), self.cell_legend(cell))

    def cell_legend(self, cell: Cell) -> str:
        """What the symbols of the cell's equations mean."""
        activations = [self[gate.activation] for gate in self.cell_gates] + [self["activation"]]
        return legend(*activations, extra="⊙ = element-wise product" if cell.gates > 1 else "")

    def in_words(self, inputs: Sequence[TensorSpec]) -> List[str]:
        shape = inputs[0].shape
        cell = self.cell(shape[-1])
        f, u, steps = cell.input_dim, cell.units, count_text(shape[1])
        memory = " and of c_t" if "c" in self.state_names else ""
        gates = f"each of the {cell.gates} gates" if cell.gates > 1 else "the cell"
        words = [
            f"A unit is one value of h_t{memory}: {self.keras_class}({u}) carries {u} numbers per sample from "
            f"step to step. The number of units is chosen freely; it does not have to match the {f} input "
            "features.",
            f"How the {f} features enter: at every step {gates} multiplies x_t {tensor_text((shape[0], f))} by "
            f"its own W {weight_text((f, u))}, so every feature reaches every unit through its own weight — "
            f"as in a Dense({u}) layer — and adds h_{{t−1}}·U, the previous step's hidden state through "
            f"U {weight_text((u, u))}.",
            f"The layer runs this step {steps} times, one step after the other, with the same weights at "
            "every step: it does not take the steps at once, and it has no weights per step.",
        ]
        if self["return_sequences"]:
            words.append(f"return_sequences: true — it returns h_t of every step: "
                         f"{tensor_text((shape[0], shape[1], u))}, {u} values per step and sample.")
        else:
            words.append(f"return_sequences: false — it returns only the last hidden state h_{steps}: "
                         f"{tensor_text((shape[0], u))}, one vector of {u} values per sample and no value per "
                         "step.")
        if "c" in self.state_names:
            words.append("Hidden state vs cell state: h_t is the output (and what the gates see at the next "
                         "step); c_t is the memory the gates write to and read from. c_t leaves the layer only "
                         "with return_state: true.")
        return words

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        shape = inputs[0].shape
        cell = self.cell_of(inputs)
        headline = (f"{self.keras_class} with {self.width_text()}, reading {count_text(shape[1])} steps of "
                    f"{self.step_text(inputs)}")
        return Math([self.cell_block(inputs, "one step", context.initial_state)], self.in_words(inputs),
                    self.weight_layouts(cell), headline)

    def output_rows(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape]) -> List[TensorRow]:
        return recurrent_output_rows(self, inputs, outputs)

    def return_settings(self, inputs: Sequence[TensorSpec]) -> List[Setting]:
        return recurrent_settings(self, inputs)

    def framework_view(self, inputs: Sequence[TensorSpec]) -> Optional[FrameworkView]:
        return pytorch_view(self, inputs)

    def pytorch_differences(self, cell: Cell) -> List[str]:
        """Why PyTorch's module would compute another function, or [] when it is the same."""
        fixed = ("tanh", "sigmoid")
        if (self["activation"], self["recurrent_activation"]) != fixed:
            return [f"No PyTorch equivalent: nn.{self.pytorch_module} always uses tanh and sigmoid; this layer "
                    f"has activation={self['activation']!r}, recurrent_activation={self['recurrent_activation']!r}."]
        return []

    def pytorch_order_note(self) -> str:
        raise NotImplementedError

    def pytorch_arguments(self) -> List[str]:
        """Arguments of the PyTorch module beyond sizes, bias and layout, as Python writes them."""
        return [f"{key}={value!r}" for key, value in self.pytorch_options().items()]

    def pytorch_options(self) -> Dict[str, Any]:
        """Arguments of the PyTorch module beyond sizes, bias and layout (nn.RNN's nonlinearity)."""
        return {}

    # -- porting (lstmcalc port): PORTING.md's rules ------------------------------------------------

    # The Keras gate block each of PyTorch's gate blocks is (GRU: r, z, n are Keras's blocks 1, 0, 2).
    pytorch_gate_blocks: ClassVar[Tuple[int, ...]] = (0,)
    # How many bias rows the Keras layer keeps when it is rebuilt from a PyTorch module.
    bias_rows_from_pytorch: ClassVar[int] = 1

    def pytorch_weights(self, own: WeightArrays, tag: str) -> WeightArrays:
        """This cell's weights in PyTorch's layout: weight_ih = kernel.T and weight_hh =
        recurrent_kernel.T with the gate blocks in torch's order; Keras's one bias becomes bias_ih
        with a zero bias_hh (torch adds the two), GRU's two bias rows become bias_ih and bias_hh."""
        np = numpy_module()
        order, units = self.pytorch_gate_blocks, self.units
        weights = {f"weight_ih_{tag}": gate_blocks(own["kernel"], order, units).T,
                   f"weight_hh_{tag}": gate_blocks(own["recurrent_kernel"], order, units).T}
        if self["use_bias"]:
            bias = own["bias"]
            rows = (bias[0], bias[1]) if bias.ndim == 2 else (bias, np.zeros_like(bias))
            weights[f"bias_ih_{tag}"], weights[f"bias_hh_{tag}"] = (gate_blocks(row, order, units) for row in rows)
        return {key: np.ascontiguousarray(value) for key, value in weights.items()}

    @classmethod
    def weights_from_pytorch(cls, parameters: WeightArrays, tag: str, units: int, use_bias: bool) -> WeightArrays:
        """The reverse of ``pytorch_weights`` for one direction of one layer of a torch module:
        bias = bias_ih + bias_hh (GRU keeps them as its two rows)."""
        np = numpy_module()
        order = inverse(cls.pytorch_gate_blocks)
        weights = {"kernel": gate_blocks(parameters[f"weight_ih_{tag}"].T, order, units),
                   "recurrent_kernel": gate_blocks(parameters[f"weight_hh_{tag}"].T, order, units)}
        if use_bias:
            rows = [gate_blocks(parameters[f"bias_{side}_{tag}"], order, units) for side in ("ih", "hh")]
            weights["bias"] = np.stack(rows) if cls.bias_rows_from_pytorch == 2 else rows[0] + rows[1]
        return {key: np.ascontiguousarray(value) for key, value in weights.items()}

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        port_recurrent(self, [self], inputs, plan)

    def missing_time_axis_reason(self, received: TensorSpec, source: str, mismatch: str) -> Optional[str]:
        return time_axis_reason(self, self.name, self.keras_class, received, source, mismatch)

    def compared_with_dense(self, received: TensorSpec, params: int) -> str:
        """What a Dense layer of the same width would be, next to this layer given a sequence."""
        return dense_comparison(self.name, self.units, received, params)


STATE_WORDS = {"h": "hidden state h", "c": "cell state c"}


def check_states(layer: "Recurrent", inputs: Sequence[TensorSpec], states: Sequence[TensorSpec], owner: str,
                 offset: int = 0) -> None:
    """Keras builds a model with wrongly sized initial states and fails only when it runs; we
    reject it here, naming the state and the expected and received shapes."""
    names = layer.state_names
    expected = layer.state_shapes_of(inputs)
    if not layer.accepts_state_count(len(states)):
        wanted = ", ".join(STATE_WORDS.get(name, name) for name in names)
        least = " at least" if layer.ignores_extra_states else ""
        raise Problem(
            "T003", f"{owner} ({layer.keras_class}) takes{least} {len(names)} initial state(s) — {wanted}, each "
                    f"{tensor_text((None,) + tuple(expected[0][1:]))} — but receives {len(states)}.",
            f"Pass [{', '.join(names)}] in that order; an LSTM encoder with return_state gives them as "
            "`encoder[1]` (h) and `encoder[2]` (c).", argument="initial_state")
    for position, (state, name, shape) in enumerate(zip(states, names, expected)):
        received = state.shape
        compatible = len(received) == len(shape) and all(
            a is None or b is None or a == b for a, b in zip(received, shape))
        if not compatible:
            raise Problem(
                "T004", f"Initial state {offset + position} of {owner} ({STATE_WORDS.get(name, name)}) must "
                        f"be {tensor_text((None,) + tuple(shape[1:]))} = {shape}, but receives {received}. Keras "
                        "builds this model but fails when it runs.",
                layer.state_fix_hint(shape), argument="initial_state")


_COMMON_HEAD = (Arg("units", positive_int),)


@register
class SimpleRNN(Recurrent):
    keras_class = "SimpleRNN"
    examples = (Example("SimpleRNN(4, return_sequences=True)", ((6, 3),)),)
    gates = 1
    cell_gates = (Gate("", "new hidden state", "activation"),)
    pytorch_module = "RNN"
    arguments = _COMMON_HEAD + (
        Arg("activation", activation, "tanh"),
        Arg("use_bias", boolean, True),
    ) + _initializers_and_friends(
        "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
        "recurrent_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
        "recurrent_constraint", "bias_constraint") + (
        Arg("dropout", number, 0.0),
        Arg("recurrent_dropout", number, 0.0),
    ) + RECURRENT_ARGUMENTS_TAIL + (Arg("seed", anything, None),)

    fused_blocks = (0,)

    def fused_step(self, weights: WeightArrays) -> Step:
        from .fused_cells import simple_step  # only the forward pass needs it

        return simple_step(weights["recurrent_kernel"], self["activation"], self.input_bias(weights))

    def step_function(self, weights: WeightArrays) -> Step:
        """h = activation(x·W + b + h₋₁·U)."""
        recurrent = self.recurrent_product(weights)
        activation = scratch_activation(self["activation"])

        def step(projected: "ndarray", states: Arrays):
            z = recurrent(states[0])
            z += projected
            output = activation(z)
            return output, [output]
        return step

    def cell_equations(self, cell: Cell) -> List[Equation]:
        return [Equation("h_t", applied(self["activation"], self.gate_input(cell, self.cell_gates[0], "b")),
                         "new hidden state = output at step t")]

    def pytorch_differences(self, cell: Cell) -> List[str]:
        if self["activation"] not in ("tanh", "relu"):
            return [f"No PyTorch equivalent: nn.RNN offers tanh or relu; this layer has "
                    f"activation={self['activation']!r}."]
        return []

    def pytorch_options(self) -> Dict[str, Any]:
        return {"nonlinearity": "relu"} if self["activation"] == "relu" else {}

    def pytorch_order_note(self) -> str:
        return "weight_ih_l0 is Keras's kernel transposed, weight_hh_l0 its recurrent_kernel transposed."


@register
class GRU(Recurrent):
    keras_class = "GRU"
    examples = (Example("GRU(4, return_state=True)", ((6, 3),)),
                Example("GRU(4, reset_after=False)", ((6, 3),)))
    gates = 3
    cell_gates = (Gate("z", "update gate", "recurrent_activation"),
                  Gate("r", "reset gate", "recurrent_activation"),
                  Gate("h", "candidate hidden state", "activation"))
    gate_values = "z_t, r_t, h̃_t"
    ignores_extra_states = True  # GRU.inner_loop: `initial_state = initial_state[0]`
    pytorch_module = "GRU"
    pytorch_gate_order = "rzn"
    pytorch_gate_blocks = (1, 0, 2)
    bias_rows_from_pytorch = 2  # rebuilt with reset_after: true, the only form torch has
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
    ) + RECURRENT_ARGUMENTS_TAIL + (
        Arg("reset_after", boolean, True),
        Arg("use_cudnn", choice("auto", True, False), "auto"),
        Arg("implementation", optional(choice(1, 2)), 2),
    )

    def cell(self, input_dim: Optional[int]) -> Cell:
        return Cell(input_dim, self.units, self.gates, self["use_bias"],
                    separate_recurrent_bias=self["reset_after"])

    def input_bias(self, weights: WeightArrays) -> Optional["ndarray"]:
        if not self["use_bias"]:
            return None
        # reset_after keeps (input bias, recurrent bias) as the two rows of `bias`.
        return weights["bias"][0] if self["reset_after"] else weights["bias"]

    fused_blocks, fused_sigmoids = (0, 1, 2), 2

    def fused_weights(self, weights: WeightArrays) -> WeightArrays:
        fused = super().fused_weights(weights)
        if self["use_bias"] and self["reset_after"]:
            # The recurrent bias of z and r joins the input bias; r multiplies only its h block.
            bias = fused["bias"]
            bias[0, :2 * self.units] += bias[1, :2 * self.units]
        return fused

    def fused_step(self, weights: WeightArrays) -> Step:
        recurrent_bias = weights["bias"][1, 2 * self.units:] if self["use_bias"] and self["reset_after"] else None
        from .fused_cells import gru_step  # only the forward pass needs it

        return gru_step(weights["recurrent_kernel"], self["activation"], self.input_bias(weights), recurrent_bias,
                        self["reset_after"])

    def step_function(self, weights: WeightArrays) -> Step:
        """Gates z, r, h in the kernels' last axis. reset_after (Keras 3's default, cuDNN's form):
        hh = act(x·Wh + bh + r ⊙ (h₋₁·Uh + bh')); otherwise hh = act(x·Wh + bh + (r ⊙ h₋₁)·Uh).
        Then h = z ⊙ h₋₁ + (1 − z) ⊙ hh."""
        units = self.units
        recurrent = self.floating(weights["recurrent_kernel"])
        recurrent_bias = (self.floating(weights["bias"][1]) if self["use_bias"] and self["reset_after"]
                          else None)
        activation = scratch_activation(self["activation"])
        recurrent_activation = scratch_activation(self["recurrent_activation"])
        reset_after = self["reset_after"]

        def step(projected: "ndarray", states: Arrays):
            previous = states[0]
            # h₋₁·U (+ bh'), a new array: the gates are computed in it.
            if reset_after:
                inner = previous @ recurrent
                if recurrent_bias is not None:
                    inner += recurrent_bias
            else:
                inner = previous @ recurrent[:, :2 * units]
            inner[:, :2 * units] += projected[:, :2 * units]
            z = recurrent_activation(inner[:, :units])
            r = recurrent_activation(inner[:, units:2 * units])
            if reset_after:
                candidate_input = r * inner[:, 2 * units:]
            else:
                candidate_input = (r * previous) @ recurrent[:, 2 * units:]
            candidate_input += projected[:, 2 * units:]
            candidate = activation(candidate_input)
            output = z * previous
            output += (1 - z) * candidate
            return output, [output]
        return step

    def cell_equations(self, cell: Cell) -> List[Equation]:
        z, r, h = self.cell_gates
        sigma, act = self["recurrent_activation"], self["activation"]
        if cell.separate_recurrent_bias:
            def gate_input(gate: Gate):
                x_part = f"x_t·W_{gate.symbol}" + (f" + b_x{gate.symbol}" if cell.use_bias else "")
                h_part = f"h_{{t−1}}·U_{gate.symbol}" + (f" + b_h{gate.symbol}" if cell.use_bias else "")
                return x_part, h_part

            equations = []
            for gate, name in ((z, "z_t"), (r, "r_t")):
                x_part, h_part = gate_input(gate)
                equations.append(Equation(name, applied(sigma, f"{x_part} + {h_part}"), gate.role))
            x_part, h_part = gate_input(h)
            equations.append(Equation("h̃_t", applied(act, f"{x_part} + r_t ⊙ ({h_part})"),
                                      "candidate, reset after the product"))
        else:
            equations = [Equation("z_t", applied(sigma, self.gate_input(cell, z, "b")), z.role),
                         Equation("r_t", applied(sigma, self.gate_input(cell, r, "b")), r.role)]
            bias = " + b_h" if cell.use_bias else ""
            equations.append(Equation("h̃_t", applied(act, f"x_t·W_h + (r_t ⊙ h_{{t−1}})·U_h{bias}"),
                                      "candidate, reset before the product"))
        equations.append(Equation("h_t", "z_t ⊙ h_{t−1} + (1 − z_t) ⊙ h̃_t",
                                  "new hidden state = output at step t"))
        return equations

    def pytorch_differences(self, cell: Cell) -> List[str]:
        problems = []
        if not cell.separate_recurrent_bias:
            problems.append("No PyTorch equivalent: nn.GRU always applies the reset gate after the matrix "
                            "product (Keras's reset_after: true); this layer has reset_after: false, which "
                            "PyTorch does not offer.")
        return problems + super().pytorch_differences(cell)

    def pytorch_order_note(self) -> str:
        keras = ", ".join(gate.symbol for gate in self.cell_gates)
        return (f"Gate blocks: Keras orders them {keras}, PyTorch {', '.join(self.pytorch_gate_order)} (PyTorch's "
                "n is Keras's candidate h): swap the first two blocks and transpose to go from kernel to "
                "weight_ih_l0.")


@register
class LSTM(Recurrent):
    keras_class = "LSTM"
    examples = (Example("LSTM(4)", ((6, 3),)),
                Example("LSTM(4, return_sequences=True, return_state=True, go_backwards=True)", ((6, 3),)))
    gates = 4
    cell_gates = (Gate("i", "input gate", "recurrent_activation"),
                  Gate("f", "forget gate", "recurrent_activation"),
                  Gate("c", "candidate cell state", "activation"),
                  Gate("o", "output gate", "recurrent_activation"))
    gate_values = "i_t, f_t, c̃_t, o_t"
    pytorch_module = "LSTM"
    pytorch_gate_order = "ifgo"
    pytorch_gate_blocks = (0, 1, 2, 3)
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
    ) + RECURRENT_ARGUMENTS_TAIL + (
        Arg("use_cudnn", choice("auto", True, False), "auto"),
        Arg("implementation", optional(choice(1, 2)), 2),
    )

    # Fused order i, f, o, c: the three sigmoid gates in one block.
    fused_blocks, fused_sigmoids = (0, 1, 3, 2), 3

    def fused_step(self, weights: WeightArrays) -> Step:
        from .fused_cells import lstm_step  # only the forward pass needs it

        return lstm_step(weights["recurrent_kernel"], self["activation"], self.input_bias(weights))

    def step_function(self, weights: WeightArrays) -> Step:
        """Gates i, f, c, o in the kernels' last axis: c = f ⊙ c₋₁ + i ⊙ act(zc), h = o ⊙ act(c)."""
        recurrent, gate_views = self.recurrent_product(weights), self.gate_views
        activation = self.loop_activation(self["activation"])
        # The gates' activations may overwrite z, which is computed anew at every step.
        gate_activation = self.loop_activation(self["activation"], scratch=True)
        recurrent_activation = self.loop_activation(self["recurrent_activation"], scratch=True)

        def step(projected: "ndarray", states: Arrays):
            previous_h, previous_c = states
            z = recurrent(previous_h)
            z += projected
            z_i, z_f, z_c, z_o = gate_views(z)
            i = recurrent_activation(z_i)
            f = recurrent_activation(z_f)
            c = f * previous_c
            c += i * gate_activation(z_c)
            o = recurrent_activation(z_o)
            h = o * activation(c)
            return h, [h, c]
        return step

    def cell_equations(self, cell: Cell) -> List[Equation]:
        names = {"i": "i_t", "f": "f_t", "c": "c̃_t", "o": "o_t"}
        equations = [Equation(names[gate.symbol], applied(self[gate.activation], self.gate_input(cell, gate, "b")),
                              gate.role) for gate in self.cell_gates]
        equations.append(Equation("c_t", "f_t ⊙ c_{t−1} + i_t ⊙ c̃_t", "new cell state"))
        equations.append(Equation("h_t", "o_t ⊙ " + applied(self["activation"], "c_t"),
                                  "new hidden state = output at step t"))
        return equations

    def pytorch_order_note(self) -> str:
        keras = ", ".join(gate.symbol for gate in self.cell_gates)
        return (f"Gate blocks: Keras orders them {keras}, PyTorch {', '.join(self.pytorch_gate_order)} — the same "
                "order (PyTorch calls the candidate g); weight_ih_l0 is Keras's kernel transposed.")


# -- explanation shared by the recurrent layers and Bidirectional --------------------------------

def _gate_names(gates: Sequence[Gate], letter: str, prefix: str = "") -> List[str]:
    return [f"{letter}_{prefix}{gate.symbol}" if gate.symbol else f"{letter}" for gate in gates]


def _block_list(names: Sequence[str], separator: str = " | ") -> str:
    return "[" + separator.join(names) + "]"


def time_axis_reason(copy: Layer, name: str, type_name: str, received: TensorSpec, source: str,
                     mismatch: str) -> str:
    """A recurrent layer fed one vector per sample, in the terms of its equations."""
    axes = copy.sequence_axes
    step = ", ".join(axes[:1] + axes[2:])
    one = (f"vector of {received.shape[-1]} values" if received.rank == 2
           else f"frame of shape {tuple(received.shape[1:])}")
    return (f"{name} ({type_name}) runs its equations once per time step t over x_t ({step}), so it needs a "
            f"{len(axes)}-D input ({', '.join(axes)}). It receives {tensor_text(received.shape)}{source}: one "
            f"{one} per sample, not a sequence — there is no t to loop over (Keras: {mismatch}).")


def dense_comparison(name: str, units: int, received: TensorSpec, params: int) -> str:
    n = received.shape[-1]
    dense = n * units + units
    return (f" A Dense({units}) on {tensor_text(received.shape)} would compute y = x·W + b with W "
            f"{weight_text((n, units))}: {dense:,} parameters; {name}, given a sequence, has {params:,} and "
            "loops over the steps with its gates and states.")


def _state_word(name: str) -> str:
    return "hidden state" if name == "h" else "cell state"


def _state_meaning(name: str, sequences: bool) -> str:
    if name == "h":
        same = "the same values as the output" if not sequences else "the output's last step"
        return f"final hidden state ({same})"
    return "final cell state: the memory after the last step"


def recurrent_output_rows(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
                          merged: int = 1) -> List[TensorRow]:
    """The output(s) and the states of a recurrent layer or of a Bidirectional (``merged`` = 2
    when merge_mode None returns the two directions apart), returned or not."""
    copies = layer.recurrent_copies()
    forward = copies[0]
    steps = count_text(inputs[0].shape[1])
    sequences = forward["return_sequences"]
    last = f"h_{steps}"
    bidirectional = len(copies) == 2
    rows = []
    for index in range(merged):
        what = (f"h_1 … h_{steps}: the hidden state of every step" if sequences
                else f"{last}: the hidden state after the last step")
        if bidirectional:
            what = ("both copies' hidden states, merged" if merged == 1
                    else ("the forward" if index == 0 else "the backward") + " copy's hidden states")
            what += " at every step" if sequences else ", last step"
        rows.append(TensorRow("output" if merged == 1 else f"output {index + 1}", tensor_text(outputs[index]),
                              what))
    states = list(outputs[merged:])
    directions = [""] if len(copies) == 1 else ["forward ", "backward "]
    position = 0
    for direction, copy in zip(directions, copies):
        for name, state_shape in zip(copy.state_names, copy.state_shapes_of(inputs)):
            meaning = _state_meaning(name, sequences)
            shape = tensor_text(state_shape)
            if states:
                rows.append(TensorRow(f"{direction}state {name}_{steps}", tensor_text(states[position]), meaning))
                position += 1
            else:
                rows.append(TensorRow(f"{direction}{_state_word(name)} {name}_t", shape,
                                      "at every step; not returned (return_state: false)", returned=False))
    return rows


def recurrent_settings(layer: Layer, inputs: Sequence[TensorSpec]) -> List[Setting]:
    """The outputs of a recurrent layer (or Bidirectional) under the four return settings."""
    copies = layer.recurrent_copies()
    current = (copies[0]["return_sequences"], copies[0]["return_state"])
    steps = count_text(inputs[0].shape[1])
    directions = [""] if len(copies) == 1 else ["forward ", "backward "]
    states = tuple(f"{direction}{name}_{steps}" for direction, copy in zip(directions, copies)
                   for name in copy.state_names)
    rows = []
    for sequences in (False, True):
        for state in (False, True):
            shapes = layer.with_return(sequences, state).output_shapes(inputs)
            outputs = len(shapes) - (len(states) if state else 0)
            roles = ("output",) if outputs == 1 else ("forward output", "backward output")
            rows.append(Setting(sequences, state, tuple(tensor_text(shape) for shape in shapes),
                                roles + (states if state else ()), (sequences, state) == current))
    return rows


def _two_copies(first: Expression, second: Expression) -> Expression:
    if first == second:
        return times(count_of(2, "directions"), first)
    return plus(first, second)


def copies_expression(counts: Sequence[Expression]) -> Expression:
    """One direction's count, or both directions' (2 × when they are equal)."""
    return counts[0] if len(counts) == 1 else _two_copies(*counts)


def _pytorch_rows(cell: Cell, layer: "Recurrent", suffix: str) -> List[WeightRow]:
    order = layer.pytorch_gate_order
    f, u, g = cell.input_dim, cell.units, cell.gates
    if g > 1:
        stack_ih = "[" + "; ".join(f"W_i{letter}" for letter in order) + "]"
        stack_hh = "[" + "; ".join(f"W_h{letter}" for letter in order) + "]"
        layouts = {"weight_ih": f"{stack_ih}: ({g} gates × {u} units) × {f} features",
                   "weight_hh": f"{stack_hh}: ({g} gates × {u} units) × {u} units",
                   "bias_ih": f"{g} gates × {u} units, input side",
                   "bias_hh": f"{g} gates × {u} units, hidden side"}
    else:
        layouts = {"weight_ih": f"{u} units × {f} features", "weight_hh": f"{u} units × {u} units",
                   "bias_ih": f"{u} units, input side", "bias_hh": f"{u} units, hidden side"}
    rows = []
    for weight in pytorch_cell_weights(cell, layer, 0, suffix):
        stem = weight.name.split("_l0")[0]
        rows.append(WeightRow(weight.name, weight.shape, weight.size, layouts[stem], weight.trainable))
    return rows


def _pytorch_call(cell: Cell, layer: "Recurrent", bidirectional: bool) -> str:
    arguments = [str(cell.input_dim), str(cell.units)] + layer.pytorch_arguments()
    if not cell.use_bias:
        arguments.append("bias=False")
    arguments.append("batch_first=True")
    if bidirectional:
        arguments.append("bidirectional=True")
    return f"nn.{layer.pytorch_module}({', '.join(arguments)})"


def _count_note(keras: int, pytorch: int, cell: Cell, copies: int) -> str:
    if not cell.use_bias:
        return f"Same count ({pytorch:,}): without biases both store the same two matrices."
    extra = pytorch - keras
    vector = f"({cell.gates * cell.units},)"
    if cell.separate_recurrent_bias:
        return (f"Same count ({pytorch:,}): Keras's bias (2, {cell.gates * cell.units}) holds the same two "
                f"vectors as bias_ih_l0 and bias_hh_l0.")
    per = " per direction" if copies > 1 else ""
    return (f"PyTorch: {pytorch:,} = {keras:,} + {extra:,}. PyTorch keeps two bias vectors{per}, bias_ih_l0 "
            f"and bias_hh_l0 {vector}, where Keras keeps one bias {vector}; the two are only ever added "
            f"together, so the extra {extra:,} parameters compute nothing Keras's layer cannot.")


def pytorch_view(layer: Layer, inputs: Sequence[TensorSpec]) -> FrameworkView:
    """How PyTorch stores a recurrent layer (or a Bidirectional's two copies) and how it differs."""
    copies: List[Recurrent] = layer.recurrent_copies()  # type: ignore[assignment]
    features = inputs[0].shape[-1]
    cells = [copy.cell(features) for copy in copies]
    bidirectional = len(copies) == 2
    notes: List[str] = []
    for copy, cell in zip(copies, cells):
        for problem in copy.pytorch_differences(cell):
            if problem not in notes:
                notes.append(problem)
    if bidirectional and cells[0] != cells[1]:
        notes.append("No single PyTorch module: nn.LSTM/nn.GRU(bidirectional=True) needs both directions "
                     "to have the same size and options.")
    rows: List[WeightRow] = []
    for cell, copy, suffix in zip(cells, copies, ("", "_reverse")):
        rows += _pytorch_rows(cell, copy, suffix)
    pytorch = copies_expression([cell.parameters("pytorch") for cell in cells])
    keras = sum(cell.parameters("keras").value for cell in cells)
    equivalent = not notes
    notes.append(_count_note(keras, pytorch.value, cells[0], len(copies)))
    notes.append(copies[0].pytorch_order_note())
    if bidirectional:
        merge_mode = layer.config["merge_mode"]
        notes.append("The _reverse weights belong to the backward copy.")
        if merge_mode != "concat":
            notes.append(f"PyTorch's bidirectional output always concatenates the two directions; Keras's "
                         f"merge_mode: {merge_mode} is applied to the two halves afterwards.")
    return FrameworkView("PyTorch", _pytorch_call(cells[0], copies[0], bidirectional), equivalent, rows,
                         Formula.of(pytorch), notes)


# Keras's Bidirectional merge_mode → the lstmcalc PyTorch step (torch_merge) joining the halves.
BIDIRECTIONAL_MERGES = {"sum": "Add", "mul": "Mul", "ave": "Average"}


def port_recurrent(layer: Layer, copies: Sequence["Recurrent"], inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
    """A Keras RNN (or a Bidirectional's two copies) as a torch.nn module (PORTING.md): one layer,
    batch_first, bidirectional for two copies; a LastStep after it without return_sequences (the
    last step of each direction); with ``--merge-stacks`` one more of the previous module's
    num_layers when it is the same kind of module."""
    target = plan.target.name
    first = copies[0]
    for copy in copies:
        for difference in copy.pytorch_differences(copy.cell(inputs[0].shape[-1])):
            raise refuse(layer, target, difference.replace("No PyTorch equivalent: ", ""),
                         "Port a model whose recurrent layers use what torch's modules compute.")
    if len(copies) == 2 and copies[0].config != {**copies[1].config, "go_backwards": False,
                                                  "name": copies[0].config["name"]}:
        raise refuse(layer, target, "its backward_layer differs from the forward one, and torch's bidirectional "
                                    "modules run the same module both ways.", "Drop backward_layer.")
    merge_mode = layer.config.get("merge_mode") if len(copies) == 2 else "concat"
    if len(copies) == 1 and first["go_backwards"]:
        raise refuse(layer, target, "go_backwards: true on its own — torch's modules read the sequence forwards, "
                                    "and only `bidirectional: true` adds a reverse direction.",
                     "Flip the sequence in time before the module in PyTorch code (torch.flip), and port the "
                     "model without go_backwards.")
    if inputs[0].masked:
        raise refuse(layer, target, "it receives a masked sequence (mask_zero or Masking), and torch's modules have "
                                    "no masks: they would read the padding steps.",
                     "Port the model without masking, and pack the sequences (pack_padded_sequence) in PyTorch.")
    arguments: Dict[str, Any] = {"hidden_size": first.units, **first.pytorch_options()}
    if not first["use_bias"]:
        arguments["bias"] = False
    arguments["batch_first"] = True
    if len(copies) == 2:
        arguments["bidirectional"] = True
    signature = (first.pytorch_module, tuple(sorted(arguments.items())))
    entries = plan.steps()
    stack = plan.before.stack
    if plan.merge_stacks and stack is not None and stack.signature == signature:
        module, index = stack.entry, stack.entry.arguments.get("num_layers", 1)
        module.arguments = {"hidden_size": module.arguments["hidden_size"], "num_layers": index + 1,
                            **{k: v for k, v in module.arguments.items() if k not in ("hidden_size", "num_layers")}}
        stack.counterpart.links.clear()  # the lower layer's output is inside the module now
    else:
        # (listed: torch's module returns (output, states); a model output of it names output [0])
        module, index = Entry(first.pytorch_module, layer.name, arguments, listed=True), 0
        entries.append(module)
    prefixes = [""] if len(copies) == 1 else ["forward/", "backward/"]

    def convert(own: WeightArrays) -> WeightArrays:
        converted = {}
        for copy, prefix, suffix in zip(copies, prefixes, ("", "_reverse")):
            mine = {name[len(prefix):]: value for name, value in own.items() if name.startswith(prefix)}
            for key, value in copy.pytorch_weights(mine, f"l{index}{suffix}").items():
                converted[plan.key(module.name, key)] = value
        return converted

    output = module
    if not first["return_sequences"]:
        output = Entry("LastStep", f"{layer.name}_last")
        entries.append(output)
    if merge_mode == "concat":
        links = [Link(0, output.name)]
    else:
        # torch concatenates the two directions: Keras's merge of the two halves, written after it.
        halves = [Entry("Narrow", f"{layer.name}_{side}", {"dim": -1, "start": start, "length": first.units},
                        inputs=[output.name]) for side, start in (("forward", 0), ("backward", first.units))]
        entries += halves
        if merge_mode is None:
            links = [Link(0, halves[0].name), Link(1, halves[1].name)]
        else:
            merged = Entry(BIDIRECTIONAL_MERGES[merge_mode], f"{layer.name}_{merge_mode}",
                           inputs=[half.name for half in halves])
            entries.append(merged)
            links = [Link(0, merged.name)]
    if first["return_state"]:
        position = len(links)
        for direction, copy in enumerate(copies):
            for state in range(len(copy.state_names)):
                links.append(Link(position, module.name, 1 + state, row=index * len(copies) + direction,
                                  rows=(index + 1) * len(copies)))
                position += 1
    counterpart = plan.add(Counterpart(layer.name, entries, convert, links,
                                       state_entry=module if len(copies) == 1 and index == 0 else None))
    if first["return_sequences"] and not first["return_state"] and merge_mode == "concat":
        plan.after.stack = Stack(module, signature, counterpart)
