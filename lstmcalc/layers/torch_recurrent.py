"""nn.LSTM, nn.GRU and nn.RNN (``framework: pytorch``): num_layers stacked cells, each direction with
its own weights (``_reverse``), outputs ``(output, h_n[, c_n])``.

The weights are the recurrent cells of lstmcalc.layers.recurrent (``Cell``) in PyTorch's layout
(``pytorch_cell_weights``: named_parameters' names, shapes and order, with proj_size's
``weight_hr``); the forward pass runs torch's equations through the same NumPy time loop
(time_loop.run_recurrence). Errors carry the messages torch 2.13 raises (recorded in
tests/fixtures/pytorch/modules_invalid_reference.json).
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, ClassVar, Dict, List, Optional, Sequence, Tuple

from ..arithmetic import Expression, number as count_of, plus, times
from ..diagnostics import Problem
from ..shapes import Shape, format_shape, product
from .arguments import Arg, described, optional
from .base import (Amount, Arrays, Example, Forward, Layer, MacCount, Masks, TensorSpec, Weight, WeightArrays,
                   numpy_module, register)
from .explanation import (Block, Context, Equation, Formula, FrameworkView, Math, Symbol, TensorRow, ToolCount,
                          WeightRow, count_text, tensor_text, weight_text)
from .figures import repeated
from .porting import Counterpart, Entry, Handover, Link, refuse
from .recurrent import GRU as KerasGRU, LSTM as KerasLSTM, SimpleRNN as KerasSimpleRNN, Cell, Gate, \
    keras_cell_weights, pytorch_cell_weights
from .time_loop import Step, run_recurrence
from .torch_module import (TorchModule, num_layers, raised, rnn_dropout, torch_bool, torch_dtype_name, torch_int,
                           truthy, type_name)

if TYPE_CHECKING:
    from numpy import ndarray

    from .porting import PortPlan


SYMBOLS = {"sigmoid": "σ", "tanh": "tanh", "relu": "relu"}


@described({"type": "integer", "minimum": 0})
def proj_size(name: str, value: Any) -> Any:
    """RNNBase: ``proj_size < 0`` is refused; a float passes the checks and fails when torch
    allocates weight_hh (see LSTM.check_config)."""
    if not isinstance(value, numbers.Number):
        raise Problem("S005", raised("TypeError", f"'<' not supported between instances of '{type_name(value)}' and "
                                                  "'int'"), "Write a whole number: `proj_size: 16` (0: none).")
    if value < 0:
        raise Problem("S006", raised("ValueError", "proj_size should be a positive integer or zero to disable "
                                                   "projections"),
                      "Give the width h_t is projected to, smaller than hidden_size, or 0 for no projection.")
    return value


@described({"enum": ["tanh", "relu"]})
def nonlinearity(name: str, value: Any) -> str:
    if value not in ("tanh", "relu"):
        raise Problem("S006", raised("ValueError", f"Unknown nonlinearity '{value}'. Select from 'tanh' or 'relu'."),
                      "nn.RNN offers `nonlinearity: tanh` (the default) or `relu`.")
    return value


def _recurrent_arguments(*extra: Arg, after_layers: Tuple[Arg, ...] = ()) -> Tuple[Arg, ...]:
    """torch's positional order: input_size, hidden_size, num_layers, [nonlinearity,] bias,
    batch_first, dropout, bidirectional, [proj_size]."""
    return (Arg("input_size", optional(torch_int()), None), Arg("hidden_size", torch_int()),
            Arg("num_layers", num_layers, 1)) + after_layers + (
        Arg("bias", torch_bool, True), Arg("batch_first", torch_bool, False), Arg("dropout", rnn_dropout, 0.0),
        Arg("bidirectional", truthy, False)) + extra


class TorchRecurrent(TorchModule):
    """Shared by nn.LSTM, nn.GRU and nn.RNN (RNNBase)."""

    torch_init = "RNNBase"
    torch_input = "(N, L, H_in) with batch_first, else (L, N, H_in); (L, H_in) unbatched"
    primary_output = 0
    gates: ClassVar[int] = 1
    # The states carried from step to step, as the module returns them.
    state_names: ClassVar[Tuple[str, ...]] = ("h_n",)
    # torch's gate blocks in weight_ih's rows, with the role of Keras's matching gate.
    torch_gates: ClassVar[Tuple[Gate, ...]] = ()
    keras_keywords = {"hidden_size": "units", "bias": "use_bias"}

    @classmethod
    def call_result(cls) -> Any:
        # (output, h_n) or (output, (h_n, c_n)), as forward() unpacks it.
        states = tuple(range(1, len(cls.state_names) + 1))
        return (0, states if len(states) > 1 else states[0])

    def last_step_refusal(self, output: int, selection: str) -> Optional[str]:
        """``out[:, -1]`` and ``h_n[-1]`` are the last step of a one-directional module; after a
        bidirectional one, ``torch.cat((h_n[-2], h_n[-1]), dim=1)`` is (what each direction saw last)."""
        from .torch_steps import LAST_STATE, LAST_TWO_STATES, STEP

        label = (["output"] + list(self.state_names))[output] if 0 <= output <= len(self.state_names) else "?"
        if label == "c_n":
            return (f"c_n of {self.name} holds the LSTM's cell states, which no module after it reads in lstmcalc's "
                    "specs (they follow h_n and output).")
        if selection == STEP and output == 0:
            if self.directions == 1:
                return None
            return (f"after the bidirectional {self.name} ({self.keras_class}), the last step of `output` joins the "
                    "forward direction's last state with the reverse direction's state after ONE step (it runs from "
                    "the end); lstmcalc's LastStep is what each direction saw last, "
                    "torch.cat((h_n[-2], h_n[-1]), dim=1).")
        if selection == LAST_STATE and output == 1:
            if self.directions == 1:
                return None
            return (f"h_n[-1] of the bidirectional {self.name} ({self.keras_class}) is the reverse direction's state "
                    "alone; lstmcalc's LastStep is both directions' last states, torch.cat((h_n[-2], h_n[-1]), dim=1).")
        if selection == LAST_TWO_STATES and output == 1:
            if self.directions == 2:
                return None
            return (f"{self.name} ({self.keras_class}) has one direction, so h_n[-2] is the state of the layer below "
                    f"{'(or of nothing: it has one layer)' if self.layers == 1 else ''}; the last step is h_n[-1].")
        return f"`{selection}` of {label} of {self.name} ({self.keras_class}) is not a last step lstmcalc models."

    @classmethod
    def keras_habits(cls) -> Dict[str, str]:
        module = f"nn.{cls.keras_class}"
        state = "h_n and c_n" if len(cls.state_names) == 2 else "h_n"
        picks = "`name[1]` (h_n), `name[2]` (c_n)" if len(cls.state_names) == 2 else "`name[1]` (h_n)"
        return {
            "return_sequences": f"{module} always returns the whole sequence (output) with {state}; for the last "
                                "step only, add `{type: LastStep}` after it (this spec has `framework: pytorch`).",
            "return_state": f"{module} always returns {state} too: refer to them as {picks}.",
            "go_backwards": f"{module} has no go_backwards: `bidirectional: true` adds a reverse direction.",
            "activation": f"{module}'s activations are fixed (nn.RNN takes `nonlinearity: tanh` or `relu`).",
            "recurrent_activation": f"{module} always uses sigmoid for its gates.",
            "recurrent_dropout": f"{module} has no recurrent dropout; `dropout` acts between stacked layers.",
            "stateful": f"{module} has no stateful mode: pass h_n back as the next call's initial state.",
            "unroll": f"{module} has no unroll option.",
        }

    @classmethod
    def foreign_argument_advice(cls, key: str) -> Optional[str]:
        return cls.keras_habits().get(key) or super().foreign_argument_advice(key)

    # -- sizes ------------------------------------------------------------------------------------

    @property
    def directions(self) -> int:
        return 2 if self["bidirectional"] else 1

    @property
    def layers(self) -> int:
        return self["num_layers"]

    @property
    def hidden(self) -> int:
        return self["hidden_size"]

    @property
    def projection(self) -> int:
        return int(self.config.get("proj_size") or 0)

    @property
    def output_width(self) -> int:
        """H_out: what h_t (and each direction's slice of output) holds."""
        return self.projection or self.hidden

    def input_size(self, inputs: Sequence[TensorSpec]) -> Optional[int]:
        given = self["input_size"]
        return given if given is not None else inputs[0].shape[-1]

    def inferred_arguments(self, inputs: Sequence[TensorSpec]) -> Dict[str, Any]:
        return {"input_size": self.input_size(inputs)} if self["input_size"] is None else {}

    def declared_input(self) -> Optional[TensorSpec]:
        given = self["input_size"]
        return None if given is None else TensorSpec((1, given), self.variable_dtype, batch_axis=None)

    def cell(self, index: int, input_size: Optional[int]) -> Cell:
        """Layer ``index`` of the stack: it reads the input (layer 0) or the previous layer's output."""
        width = input_size if index == 0 else self.directions * self.output_width
        return Cell(width, self.hidden, self.gates, self["bias"], separate_recurrent_bias=True,
                    projection=self.projection, names=("hidden_size", "H_in"))

    def cells(self, inputs: Sequence[TensorSpec]) -> List[Cell]:
        size = self.input_size(inputs)
        return [self.cell(index, size) for index in range(self.layers)]

    @staticmethod
    def suffixes(directions: int) -> Tuple[str, ...]:
        return ("", "_reverse")[:directions]

    # -- construction -----------------------------------------------------------------------------

    def construction_warnings(self) -> List[Problem]:
        return self.dropout_warning(self["dropout"], self.layers)

    @classmethod
    def warnings_before_refusal(cls, values: Dict[str, Any], refused: Sequence[str]) -> List[Problem]:
        # RNNBase.__init__ checks dropout, warns about it, then checks the other arguments (nn.RNN
        # checks nonlinearity before RNNBase.__init__): a refusal after the warning keeps it.
        if "dropout" in refused or "nonlinearity" in refused:
            return []
        return cls.dropout_warning(values.get("dropout", 0.0), values.get("num_layers", 1))

    @classmethod
    def dropout_warning(cls, dropout: Any, layers: Any) -> List[Problem]:
        """torch's warning for inter-layer dropout with one layer (`dropout > 0 and num_layers == 1`)."""
        if dropout > 0 and layers == 1:
            return [Problem(
                "S021", "torch warns (UserWarning): dropout option adds dropout after all but last recurrent layer, "
                        f"so non-zero dropout expects num_layers greater than 1, but got dropout={dropout} and "
                        f"num_layers={layers}",
                "nn.{0}'s dropout acts between stacked layers only, so with one layer it does nothing: stack layers "
                "(`num_layers: 2`), or remove `dropout` and add a `{{type: Dropout}}` after the module.".format(
                    cls.keras_class), argument="dropout")]
        return []

    # -- the input: torch's checks on the first forward, in its order -------------------------------

    def check_input(self, inputs: Sequence[TensorSpec]) -> None:
        tensor = inputs[0]
        rank = len(tensor.shape)
        if rank not in (2, 3):
            raise self.refuses("H001", "ValueError", self.rank_message(rank),
                               f"nn.{self.keras_class} takes {self.torch_input}: a 3-D (batch, steps, features) "
                               "tensor in lstmcalc's specs (a 2-D one is read as one unbatched sequence).", inputs)
        if tensor.dtype != self.variable_dtype:
            dtype, weights = torch_dtype_name(tensor.dtype), torch_dtype_name(self.variable_dtype)
            hint = ("Token ids go through an Embedding first." if tensor.dtype.startswith(("int", "uint"))
                    else f"Give the input dtype {self.variable_dtype}, or the module `dtype: {tensor.dtype}`.")
            raise self.refuses("H008", "ValueError",
                               f"RNN input dtype ({dtype}) does not match weight dtype ({weights}). Convert input: "
                               f"input.to({weights}), or convert model: model.to({dtype})", hint, inputs)
        given, features = self["input_size"], tensor.shape[-1]
        if given is not None and features is not None and given != features:
            raise self.refuses("H004", "RuntimeError",
                               f"input.size(-1) must be equal to input_size. Expected {given}, got {features}",
                               f"Set `input_size: {features}`, or leave it out: lstmcalc infers it from the input.",
                               inputs, argument="input_size")
        steps = tensor.shape[0] if rank == 2 or not self["batch_first"] else tensor.shape[1]
        if steps == 0:
            raise self.refuses("H004", "RuntimeError", "Expected sequence length to be larger than 0 in RNN",
                               "Give the sequence at least one step.", inputs)

    def rank_message(self, rank: int) -> str:
        return f"{self.keras_class}: Expected input to be 2D or 3D, got {rank}D instead"

    def unbatched(self, inputs: Sequence[TensorSpec]) -> bool:
        return len(inputs[0].shape) == 2

    def warnings(self, inputs: Sequence[TensorSpec]) -> List[Problem]:
        if not self.unbatched(inputs):
            return []
        steps, features = inputs[0].shape
        return [Problem(
            "H010", f"{self.name} ({self.keras_class}) receives the 2-D tensor {format_shape(inputs[0].shape)}: torch "
                    f"reads it as ONE unbatched sequence of {count_text(steps)} steps of {features} features — the "
                    "batch becomes the time axis — and returns output (L, D·H_out) and h_n (D·num_layers, H_out) "
                    "without a batch axis. No error is raised.",
            "Feed it (batch, steps, features): keep the time axis (no LastStep or Flatten before it), or give "
            "the spec's input a sequence axis.")]

    def expected_batch_axis(self) -> Optional[int]:
        return 0 if self["batch_first"] else 1

    @classmethod
    def written_batch_axis(cls, values: Dict[str, Any]) -> Optional[int]:
        return 0 if values.get("batch_first", False) else 1

    # -- shapes and weights -----------------------------------------------------------------------

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        self.check_input(inputs)
        weights: List[Weight] = []
        for index, cell in enumerate(self.cells(inputs)):
            for suffix in self.suffixes(self.directions):
                weights += pytorch_cell_weights(cell, self, index, suffix)
        return weights

    def state_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        """h_0/h_n (D·num_layers, N, H_out) and c_0/c_n (D·num_layers, N, hidden_size), whatever
        batch_first says; without the batch axis for an unbatched input."""
        stacked = self.directions * self.layers
        batch: Tuple[Any, ...] = () if self.unbatched(inputs) else (self.batch(inputs[0].shape),)
        widths = (self.output_width, self.hidden)[:len(self.state_names)]
        return [(stacked,) + batch + (width,) for width in widths]

    def batch(self, shape: Shape) -> Any:
        return shape[0] if self["batch_first"] else shape[1]

    def steps(self, shape: Shape) -> Any:
        return shape[0] if len(shape) == 2 or not self["batch_first"] else shape[1]

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        self.check_input(inputs)
        shape = inputs[0].shape
        width = self.directions * self.output_width
        # The output keeps the input's layout: (N, L, ·), (L, N, ·) or unbatched (L, ·).
        output: Shape = tuple(shape[:-1]) + (width,)
        return [output] + self.state_shapes(inputs)

    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        if self.unbatched(inputs):
            return [None] * count
        return [0 if self["batch_first"] else 1] + [1] * (count - 1)

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [self.variable_dtype] * count

    def output_labels(self, count: int) -> List[str]:
        return ["output", *self.state_names][:count]

    def check_initial_state(self, inputs: Sequence[TensorSpec], states: Sequence[TensorSpec]) -> None:
        problem = self.state_problem(inputs, [tensor.shape for tensor in states], "T004")
        if problem is not None:
            raise problem

    def state_problem(self, inputs: Sequence[TensorSpec], received: Sequence[Shape], code: str) -> Optional[Problem]:
        """torch's check of (h_0, c_0) or h_0 against the input, in its order and words."""
        expected = self.state_shapes(inputs)
        names = " and ".join(name.replace("_n", "_0") for name in self.state_names)
        if len(received) != len(expected):
            return Problem("T003" if code == "T004" else code,
                           f"{self.name} ({self.keras_class}) takes {len(expected)} initial state(s) ({names}), shaped "
                           f"{', '.join(format_shape(shape) for shape in expected)}; it receives {len(received)}.",
                           f"Pass [{names.replace(' and ', ', ')}] in that order.", argument="initial_state")
        rank = len(expected[0])
        if any(len(shape) != rank for shape in received):
            dims = ", ".join(f"{len(shape)}-D" for shape in received)
            batched = "batched 3-D" if rank == 3 else "unbatched 2-D"
            if len(expected) == 2:
                message = f"For {batched} input, hx and cx should also be {rank}-D but got ({dims}) tensors"
            else:
                message = f"For {batched} input, hx should also be {rank}-D but got {dims} tensor"
            return self.state_error(code, "RuntimeError", message, expected, inputs)
        for position, (shape, want) in enumerate(zip(received, expected)):
            if tuple(shape) != tuple(want):
                which = f"hidden[{position}] size" if len(expected) == 2 else "hidden size"
                message = f"Expected {which} {tuple(want)}, got {list(shape)}"
                return self.state_error(code, "RuntimeError", message, expected, inputs)
        return None

    def state_error(self, code: str, kind: str, message: str, expected: Sequence[Shape],
                    inputs: Sequence[TensorSpec]) -> Problem:
        shapes = " and ".join(f"{name.replace('_n', '_0')} {format_shape(shape)}"
                              for name, shape in zip(self.state_names, expected))
        return Problem(code, f"{self.name} ({self.keras_class}): " + raised(kind, message) + " (on the first "
                             "forward call).",
                       f"Give {shapes}: (D·num_layers, N, H_out) — the batch on axis 1 whatever batch_first says"
                       + (", and c_0 keeps hidden_size" if self.projection else "")
                       + "; a spec input for a state puts its batch there with `batch_axis: 1`.",
                       argument="initial_state")

    # -- compute figures --------------------------------------------------------------------------

    def step_expression(self, inputs: Sequence[TensorSpec]) -> Expression:
        """MACs of one time step over every layer and direction (docs/compute.md)."""
        return plus(*(self.per_direction(cell.step_macs()) for cell in self.cells(inputs)))

    def per_direction(self, expression: Expression) -> Expression:
        return times(count_of(2, "directions"), expression) if self.directions == 2 else expression

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return MacCount(self.step_expression(inputs), self.steps(inputs[0].shape))

    def kept_for_backprop(self, inputs: Sequence[TensorSpec]) -> Amount:
        """Per step, layer and direction: the gate values and the states (as for Keras's RNNs)."""
        per_step = sum(self.directions * (self.gates * self.hidden + len(self.state_names) * self.hidden)
                       for _ in range(self.layers))
        return repeated(per_step, self.steps(inputs[0].shape))

    def mac_tool_counts(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec],
                        batch: int) -> List[ToolCount]:
        from .torch_counters import RecurrentFacts, known, recurrent_counts

        if not known(inputs[0].shape, outputs[0].shape):
            return []
        facts = RecurrentFacts(self.keras_class, self.gates, self.hidden, self.projection, self.layers,
                               self.directions, self["bias"], self.input_size(inputs),
                               sum(weight.size for weight in self.weight_shapes(inputs)), tuple(inputs[0].shape),
                               tuple(outputs[0].shape), self["batch_first"])
        return recurrent_counts(facts)

    def parameter_expression(self, inputs: Sequence[TensorSpec]) -> Expression:
        return plus(*(self.per_direction(cell.parameters("pytorch")) for cell in self.cells(inputs)))

    # -- forward pass: torch's equations ----------------------------------------------------------

    # The gate blocks of the fused steps (fused_cells.py), as indices of torch's blocks, the
    # sigmoid gates first.
    fused_blocks: ClassVar[Tuple[int, ...]] = (0,)
    fused_sigmoids: ClassVar[int] = 0

    def step_function(self, weights: WeightArrays, suffix: str, index: int) -> Step:
        """One time step of one direction of layer ``index``: (x_t·W_ihᵀ + b_ih, states) → (h_t,
        states), on the fused gate order (``fused``)."""
        raise NotImplementedError

    def fused(self, array: "ndarray") -> "ndarray":
        """A weight's gate blocks (on its last axis) in the fused order, a new array."""
        from .fused_cells import fused_columns  # only the forward pass needs it

        return fused_columns(self.floating(array), self.fused_blocks, self.fused_sigmoids)

    def recurrent_weights(self, weights: WeightArrays, tag: str) -> "ndarray":
        """W_hhᵀ of one direction in the fused order, contiguous for the per-step product h·W_hhᵀ."""
        return self.fused(weights[f"weight_hh_{tag}"].T)

    def forward_scratch(self, inputs: Sequence[TensorSpec]) -> int:
        shape = inputs[0].shape
        total = product(shape)  # type: ignore[arg-type]  # the verifier's shapes are known
        steps = self.steps(shape)
        batch = 1 if self.unbatched(inputs) else self.batch(shape)
        width = self.gates * self.hidden
        return total + steps * batch * self.directions * (width + 2 * self.output_width) * 2

    def initial_arrays(self, batch: int, inputs: Arrays, given: Optional[Arrays]) -> Arrays:
        """(h_0, c_0) as (D·num_layers, N, width) arrays; zeros when none are given."""
        np = numpy_module()
        specs = [TensorSpec(tuple(inputs[0].shape), self.variable_dtype)]
        expected = self.state_shapes(specs)
        if given is None:
            states = [np.zeros(shape, dtype=self.array_dtype) for shape in expected]
        else:
            problem = self.state_problem(specs, [tuple(state.shape) for state in given], "V004")
            if problem is not None:
                raise problem
            states = [self.floating(state) for state in given]
        if self.unbatched(specs):
            states = [state[:, None, :] for state in states]
        return [state.reshape(self.layers, self.directions, batch, state.shape[-1]) for state in states]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """torch's RNN in eval mode: layer by layer (inter-layer dropout off), each direction over
        the whole sequence; the reverse direction reads the steps last to first and its outputs are
        put back in time order, then the directions are joined on the last axis. Batch first
        inside, whatever the layout (the time loop reads (batch, time, ...)); the input projections
        of all steps are one matrix product before each loop."""
        np = numpy_module()
        x = self.floating(inputs[0])
        unbatched = x.ndim == 2
        sequence = x[None] if unbatched else (x if self["batch_first"] else x.transpose(1, 0, 2))
        batch, steps = sequence.shape[0], sequence.shape[1]
        if steps == 0:
            raise Problem("V004", raised("RuntimeError", "Expected sequence length to be larger than 0 in RNN"),
                          "Give the sequence at least one step.")
        states = self.initial_arrays(batch, [inputs[0]], initial_state)
        finals: List[List["ndarray"]] = [[] for _ in self.state_names]
        with np.errstate(over="ignore", under="ignore"):
            for index in range(self.layers):
                directions = []
                # The steps of every sample as rows of one product (a 3-D @ 2-D matmul runs one per sample).
                rows = sequence.reshape(batch * steps, sequence.shape[-1])
                for direction, suffix in enumerate(self.suffixes(self.directions)):
                    tag = f"l{index}{suffix}"
                    kernel = self.fused(weights[f"weight_ih_{tag}"].T)
                    projected = (rows @ kernel).reshape(batch, steps, kernel.shape[1])  # the step adds the bias
                    start = [state[index, direction] for state in states]
                    output, last = run_recurrence(self.step_function(weights, suffix, index), projected, start, None,
                                                  go_backwards=direction == 1, return_sequences=True)
                    directions.append(output[:, ::-1] if direction == 1 else output)  # back in time order
                    for found, state in zip(finals, last):
                        found.append(state)
                sequence = np.concatenate(directions, axis=-1) if len(directions) == 2 else directions[0]
        output = sequence[0] if unbatched else (sequence if self["batch_first"] else sequence.transpose(1, 0, 2))
        stacked = [np.stack(found) for found in finals]
        if unbatched:
            stacked = [state[:, 0] for state in stacked]
        results = [np.ascontiguousarray(output)] + stacked
        return results, [None] * len(results)

    def input_bias(self, weights: WeightArrays, tag: str) -> Optional["ndarray"]:
        """The bias the step adds to the input projection: bias_ih + bias_hh, which torch
        only ever adds together in LSTM and RNN (GRU overrides: its bias_hh_n is inside r ⊙ (…))."""
        if not self["bias"]:
            return None
        return self.fused(self.floating(weights[f"bias_ih_{tag}"]) + self.floating(weights[f"bias_hh_{tag}"]))

    # -- porting to Keras (lstmcalc port) ---------------------------------------------------------

    def keras_options(self) -> Dict[str, Any]:
        """Arguments the Keras layer needs beyond its units (SimpleRNN's activation: relu)."""
        return {}

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """One Keras layer per layer of the stack (Bidirectional for two directions), returning
        sequences; a Dropout between them for torch's inter-layer dropout (both off at inference).
        Weights: PORTING.md's rules backwards, bias = bias_ih + bias_hh (GRU keeps both rows)."""
        from .registry import layer_class

        if self.projection:
            raise refuse(self, framework, f"proj_size {self.projection} projects h_t with weight_hr, which Keras's "
                                          "LSTM does not have.", "Port a module without proj_size.")
        keras = layer_class(self.keras_type)
        inner = {"units": self.hidden, "return_sequences": True, **self.keras_options(),
                 **({} if self["bias"] else {"use_bias": False})}
        entries, layers = plan.steps(), []
        for index in range(self.layers):
            name = self.name if index == 0 else f"{self.name}_l{index}"
            entry = (Entry("Bidirectional", name, {"layer": {"type": self.keras_type, **inner}})
                     if self.directions == 2 else Entry(self.keras_type, name, dict(inner)))
            entries.append(entry)
            layers.append(entry)
            if index < self.layers - 1 and self["dropout"]:
                entries.append(Entry("Dropout", f"{self.name}_dropout_l{index}", {"rate": self["dropout"]}))
        prefixes = ("forward/", "backward/") if self.directions == 2 else ("",)

        def convert(own: WeightArrays) -> WeightArrays:
            converted = {}
            for index, entry in enumerate(layers):
                for prefix, suffix in zip(prefixes, self.suffixes(self.directions)):
                    for key, value in keras.weights_from_pytorch(own, f"l{index}{suffix}", self.hidden,
                                                                 self["bias"]).items():
                        converted[plan.key(entry.name, prefix + key)] = value
            return converted

        counterpart = plan.add(Counterpart(self.name, entries, convert, [Link(0, layers[-1].name)]))
        states = len(self.state_names)

        def last_step() -> str:
            top = layers[-1]
            top.arguments.get("layer", top.arguments)["return_sequences"] = False
            counterpart.links[:] = [link for link in counterpart.links if link.index != 0]  # no sequence now
            return top.name

        def with_states(entry: Entry) -> None:
            """return_state: true on one Keras layer (listed: what takes its output takes [0])."""
            entry.arguments.get("layer", entry.arguments)["return_state"] = True
            entry.listed = True

        def row(output: int, number: int) -> Link:
            """Row ``number`` of h_n (output 1) or c_n (2), (D·num_layers, N, H): the state its
            Keras layer returns with return_state — Bidirectional's forward states, then backward."""
            rows = self.directions * self.layers
            if not 1 <= output <= states or not -rows <= number < rows:
                raise refuse(self, framework, f"lstmcalc has no Keras tensor for row {number} of output {output}.",
                             "Take a row of h_n or c_n that exists.")
            number %= rows
            entry = layers[number // self.directions]
            if not entry.listed:
                with_states(entry)
            link = Link(output, entry.name, 1 + (number % self.directions) * states + output - 1, source_row=number)
            if link not in counterpart.links:
                counterpart.links.append(link)
            return link

        def final_state(name: str) -> Tuple[List[Entry], Link]:
            """The last step of the output, which other layers take whole: the top layer's final h
            (each direction's, joined as torch's output joins them)."""
            top = layers[-1]
            if self.directions == 1:
                return [], Link(0, top.name, row(1, -1).target_index)
            forward, backward = row(1, -2), row(1, -1)
            return ([Entry("Concatenate", name, {"axis": -1},
                           inputs=[f"{top.name}[{forward.target_index}]", f"{top.name}[{backward.target_index}]"])],
                    Link(0, name))

        plan.after.last_step = last_step
        counterpart.handover = Handover(last_step=last_step, final_state=final_state, rows=row)
        # Keras's initial_state of each layer: its rows of (h_0, c_0), each direction's states in turn
        # ([h, c]; Bidirectional: forward's, then backward's).
        counterpart.state_entry = layers[0]
        counterpart.state_order = [(entry, [(state, index * self.directions + direction)
                                            for direction in range(self.directions) for state in range(states)])
                                   for index, entry in enumerate(layers)]

    # -- the same module as Keras stores it (explain) ------------------------------------------------

    def keras_counterpart(self) -> Layer:
        """Keras's layer computing one direction of one layer of this module (for its weight names
        and layouts), built from Keras's defaults."""
        from .registry import layer_class

        cls = layer_class(self.keras_type)
        config = {argument.name: argument.default for argument in cls.all_arguments() if not argument.required}
        config.update(units=self.hidden, use_bias=self["bias"], name=self.name, **self.keras_options())
        return cls(self.name, config)

    def framework_view(self, inputs: Sequence[TensorSpec]) -> Optional[FrameworkView]:
        """The Keras layers lstmcalc port writes for this module, with their weights and count."""
        keras = self.keras_counterpart()
        rows: List[WeightRow] = []
        counts: List[Expression] = []
        for index, cell in enumerate(self.cells(inputs)):
            plain = Cell(cell.input_dim, cell.units, cell.gates, cell.use_bias, separate_recurrent_bias=cell.gates == 3)
            layouts = keras.weight_layouts(plain)
            name = self.name if index == 0 else f"{self.name}_l{index}"
            for direction in (("forward/", "backward/") if self.directions == 2 else ("",)):
                for weight in keras_cell_weights(plain, keras):
                    rows.append(WeightRow(f"{name}/{direction}{weight.name}", weight.shape, weight.size,
                                          layouts.get(weight.name, "")))
            counts.append(self.per_direction(plain.parameters("keras")))
        inner = ", ".join([str(self.hidden)] + [f"{key}={value!r}" for key, value in self.keras_options().items()]
                          + ["return_sequences=True"])
        module = f"{self.keras_type}({inner})"
        if self.directions == 2:
            module = f"Bidirectional({module})"
        if self.layers > 1:
            module = f"{self.layers} × {module}"
        notes = []
        if self.projection:
            notes.append(f"No Keras equivalent: proj_size {self.projection} projects h_t with weight_hr, which Keras's "
                         "LSTM does not have; the weights above are the module's without the projection.")
        keras_count = sum(count.value for count in counts)
        pytorch_count = self.parameter_expression(inputs).value
        if pytorch_count != keras_count and not self.projection:
            notes.append(f"Keras: {keras_count:,} = PyTorch's {pytorch_count:,} − {pytorch_count - keras_count:,}: Keras "
                         "keeps one bias per gate where PyTorch keeps bias_ih and bias_hh, which are only ever "
                         "added (lstmcalc port writes bias = bias_ih + bias_hh).")
        elif not self.projection:
            notes.append(f"Same count ({keras_count:,}).")
        notes.append(keras.pytorch_order_note())
        if self.layers > 1:
            notes.append(f"Layer k > 0 is the Keras layer `{self.name}_l<k>`, reading the one below"
                         + (f"; torch's dropout {self['dropout']} between them is a Keras Dropout layer"
                            if self["dropout"] else "") + ".")
        return FrameworkView("Keras", module, not self.projection, rows, Formula.of(plus(*counts)), notes)

    # -- explanation --------------------------------------------------------------------------------

    def cell_equations(self, projected: bool) -> List[Equation]:
        raise NotImplementedError

    def gate_sum(self, gate: Gate, x: str = "x_t", h: str = "h_{t−1}") -> str:
        letter = gate.symbol
        bias_x = f" + b_i{letter}" if self["bias"] else ""
        bias_h = f" + b_h{letter}" if self["bias"] else ""
        return f"W_i{letter}·{x}{bias_x} + W_h{letter}·{h}{bias_h}"

    def symbols(self, cell: Cell, batch: Any, first: bool) -> List[Symbol]:
        h_out = cell.hidden_width
        x_meaning = ("the input at step t" if first else
                     f"the previous layer's output at step t ({self.directions} direction(s) × {h_out})")
        letters = ", ".join(gate.symbol for gate in self.torch_gates) if self.gates > 1 else ""
        ih = "W_i" + (f"{{{letters}}}" if letters else "h")
        hh = "W_h" + (f"{{{letters}}}" if letters else "h")
        symbols = [Symbol("x_t", tensor_text((batch, cell.input_dim)), x_meaning),
                   Symbol("h_{t−1}, h_t", tensor_text((batch, h_out)), "hidden state" + (
                       f", projected to proj_size {h_out}" if cell.projection else ""))]
        if "c_n" in self.state_names:
            symbols.append(Symbol("c_{t−1}, c_t", tensor_text((batch, cell.units)), "cell state"))
        symbols.append(Symbol(ih, weight_text((cell.units, cell.input_dim)),
                              "input weights: " + ("one block of rows of weight_ih per gate" if letters else "weight_ih")))
        symbols.append(Symbol(hh, weight_text((cell.units, h_out)),
                              "hidden weights: " + ("one block of rows of weight_hh per gate" if letters else "weight_hh")))
        if self["bias"]:
            symbols.append(Symbol("b_i…, b_h…", weight_text((cell.units,)),
                                  "the two biases of each gate: blocks of bias_ih and bias_hh"))
        if cell.projection:
            symbols.append(Symbol("W_hr", weight_text((cell.projection, cell.units)), "the projection: weight_hr"))
        return symbols

    def loop_words(self, steps: Any, index: int) -> str:
        reverse = (f"; the reverse direction (the `_reverse` weights) runs t = {count_text(steps)}, …, 1"
                   if self.directions == 2 else "")
        start = "h_0 = c_0 = 0" if "c_n" in self.state_names else "h_0 = 0"
        return (f"for t = 1, …, {count_text(steps)}, starting from {start} (or the given h_0, c_0 rows of this layer and "
                f"direction){reverse}; the same weights at every step")

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        shape = inputs[0].shape
        batch = None if self.unbatched(inputs) else self.batch(shape)
        steps = self.steps(shape)
        cells = self.cells(inputs)
        legend_text = "· = matrix product (W·x multiplies each row of W with x), ⊙ = element-wise product, σ = sigmoid"
        blocks = [Block("layer 0, one step" + (", each direction" if self.directions == 2 else ""),
                        self.loop_words(steps, 0), self.cell_equations(bool(self.projection)),
                        self.symbols(cells[0], batch, True), legend_text)]
        if self.layers > 1:
            above = "layer 1" if self.layers == 2 else f"layers 1 … {self.layers - 1}"
            blocks.append(Block(
                f"{above}: the same equations with their own weights (_l1{', …' if self.layers > 2 else ''})",
                f"x_t = the layer below's output at step t: {self.directions * self.output_width} values"
                + (" (both directions joined)" if self.directions == 2 else "")
                + "; between layers, dropout while training only (off in eval mode)", [],
                [Symbol("x_t", tensor_text((batch, cells[1].input_dim)), "input of layers above the first")]))
        if self.directions == 2:
            blocks.append(Block("joining the directions", "", [Equation(
                "output_t", "[h→_t ; h←_t]", f"{self.output_width} + {self.output_width} values: forward half first")],
                [Symbol("h←_t", tensor_text((batch, self.output_width)),
                        "the reverse direction's state after reading steps T … t")]))
        words = self.in_words(inputs, cells)
        layouts = self.weight_layouts(cells)
        name = f"nn.{self.keras_class}"
        headline = (f"{name} with hidden_size {self.hidden}" + (f", proj_size {self.projection}" if self.projection else "")
                    + (f", {self.layers} layers" if self.layers > 1 else "")
                    + (", bidirectional" if self.directions == 2 else "")
                    + f", reading {count_text(steps)} steps of {cells[0].input_dim} features")
        return Math(blocks, words, layouts, headline)

    def in_words(self, inputs: Sequence[TensorSpec], cells: Sequence[Cell]) -> List[str]:
        counts = []
        for index, cell in enumerate(cells):
            formula = cell.parameters("pytorch")
            counts.append(f"layer {index}: {formula.text()} = {formula.value:,}")
        per = "per direction " if self.directions == 2 else ""
        words = [f"Parameters {per}by layer (named_parameters: weight_ih, weight_hh"
                 + (", bias_ih, bias_hh" if self["bias"] else "") + (", weight_hr" if self.projection else "")
                 + "): " + "; ".join(counts) + "."]
        if self["bias"]:
            words.append("PyTorch keeps two bias vectors per gate (b_i… in bias_ih, b_h… in bias_hh); only their sum "
                         "matters except in GRU's n gate, where b_hn sits inside r_t ⊙ (…)." if self.gates == 3 else
                         "PyTorch keeps two bias vectors, bias_ih and bias_hh, which are only ever added together: "
                         f"{self.gates * self.hidden:,} parameters per layer and direction that Keras's one bias does "
                         "without.")
        layout = "(batch, steps, features)" if self["batch_first"] else "(steps, batch, features)"
        words.append(f"batch_first: {str(self['batch_first']).lower()} — the module reads {layout}; h_n"
                     + (" and c_n are" if "c_n" in self.state_names else " is")
                     + " (D·num_layers, batch, …) either way, rows ordered layer 0 forward, layer 0 reverse, layer 1 …")
        return words

    def weight_layouts(self, cells: Sequence[Cell]) -> Dict[str, str]:
        letters = [gate.symbol for gate in self.torch_gates]
        layouts: Dict[str, str] = {}
        for index, cell in enumerate(cells):
            for suffix in self.suffixes(self.directions):
                tag = f"l{index}{suffix}"
                if letters:
                    layouts[f"weight_ih_{tag}"] = "[" + "; ".join(f"W_i{letter}" for letter in letters) + "]"
                    layouts[f"weight_hh_{tag}"] = "[" + "; ".join(f"W_h{letter}" for letter in letters) + "]"
                    layouts[f"bias_ih_{tag}"] = "[" + "; ".join(f"b_i{letter}" for letter in letters) + "]"
                    layouts[f"bias_hh_{tag}"] = "[" + "; ".join(f"b_h{letter}" for letter in letters) + "]"
                else:
                    layouts.update({f"weight_ih_{tag}": "W_ih", f"weight_hh_{tag}": "W_hh",
                                    f"bias_ih_{tag}": "b_ih", f"bias_hh_{tag}": "b_hh"})
                layouts[f"weight_hr_{tag}"] = "W_hr"
                if suffix:
                    for key in list(layouts):
                        if key.endswith(tag):
                            layouts[key] += " (reverse direction)"
        return layouts

    def output_rows(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape]) -> List[TensorRow]:
        steps = count_text(self.steps(inputs[0].shape))
        both = " of both directions, forward half first" if self.directions == 2 else ""
        rows = [TensorRow("output", tensor_text(outputs[0]),
                          f"h_t of the last layer at every step{both}; passed on to the next layer")]
        meanings = {"h_n": f"h_{steps} of every layer and direction (rows: layer 0 forward"
                           + (", layer 0 reverse" if self.directions == 2 else "") + (", …" if self.layers > 1 else "") + ")",
                    "c_n": f"c_{steps} of every layer and direction: the cell states after the last step"}
        for name, shape in zip(self.state_names, outputs[1:]):
            rows.append(TensorRow(f"{name} ({self.name}[{1 + self.state_names.index(name)}])", tensor_text(shape),
                                  meanings[name]))
        return rows


def _torch_gates(keras_gates: Sequence[Gate], letters: str, activations: Sequence[str],
                 order: Sequence[int]) -> Tuple[Gate, ...]:
    """torch's gates (letter, activation) with the role of Keras's gate at ``order``."""
    return tuple(Gate(letter, keras_gates[position].role, activation)
                 for letter, activation, position in zip(letters, activations, order))


@register
class LSTM(TorchRecurrent):
    """nn.LSTM: gates i, f, g, o; outputs (output, h_n, c_n); proj_size projects h_t."""

    keras_class = "LSTM"
    keras_type = "LSTM"
    gates = 4
    state_names = ("h_n", "c_n")
    torch_gates = _torch_gates(KerasLSTM.cell_gates, "ifgo", ("sigmoid", "sigmoid", "tanh", "sigmoid"), (0, 1, 2, 3))
    arguments = _recurrent_arguments(Arg("proj_size", proj_size, 0))
    examples = (Example("LSTM(hidden_size=4, num_layers=2, bidirectional=True, batch_first=True)", ((6, 3),),
                        framework="pytorch"),
                Example("LSTM(3, 5, proj_size=2)", ((6, 3),), framework="pytorch"))

    def check_config(self) -> None:
        projection = self.config.get("proj_size") or 0
        if projection >= self.hidden:
            raise Problem("S012", raised("ValueError", "proj_size has to be smaller than hidden_size"),
                          f"proj_size ({projection}) projects h_t from hidden_size ({self.hidden}) values down to fewer: "
                          f"choose less than {self.hidden}, or 0 for no projection.", argument="proj_size")
        if isinstance(projection, float) and projection > 0:
            raise Problem("S005", raised("TypeError", "empty(): argument 'size' failed to unpack the object at pos 2 "
                                                      "with error \"type must be tuple of ints,but got float\""),
                          f"Write `proj_size: {int(projection)}`: torch allocates weight_hh with it, which needs an int.",
                          argument="proj_size")

    fused_blocks, fused_sigmoids = (0, 1, 3, 2), 3  # i, f, o, g: the sigmoid gates in one block

    def step_function(self, weights: WeightArrays, suffix: str, index: int) -> Step:
        """i, f, g, o = σ, σ, tanh, σ of (x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh); c = f ⊙ c + i ⊙ g;
        h = o ⊙ tanh(c), projected by W_hr with proj_size (the step adds both biases)."""
        tag = f"l{index}{suffix}"
        projection = (numpy_module().ascontiguousarray(self.floating(weights[f"weight_hr_{tag}"]).T)
                      if self.projection else None)
        from .fused_cells import lstm_step  # only the forward pass needs it

        return lstm_step(self.recurrent_weights(weights, tag), "tanh", self.input_bias(weights, tag), projection)

    def cell_equations(self, projected: bool) -> List[Equation]:
        names = {"i": "i_t", "f": "f_t", "g": "g_t", "o": "o_t"}
        equations = [Equation(names[gate.symbol], f"{SYMBOLS[gate.activation]}({self.gate_sum(gate)})", gate.role)
                     for gate in self.torch_gates]
        equations.append(Equation("c_t", "f_t ⊙ c_{t−1} + i_t ⊙ g_t", "new cell state"))
        if projected:
            equations.append(Equation("h_t", "W_hr·(o_t ⊙ tanh(c_t))", "new hidden state, projected to proj_size"))
        else:
            equations.append(Equation("h_t", "o_t ⊙ tanh(c_t)", "new hidden state = output at step t"))
        return equations


class WithoutProjection(TorchRecurrent):
    """GRU and RNN refuse proj_size by name (even 0), before anything else."""

    @classmethod
    def unknown_argument_message(cls, key: str) -> str:
        if key == "proj_size":
            return (f"{cls.keras_class} has no argument `proj_size` ("
                    + raised("ValueError", "proj_size argument is only supported for LSTM, not RNN or GRU") + ").")
        return super().unknown_argument_message(key)

    @classmethod
    def foreign_argument_advice(cls, key: str) -> Optional[str]:
        if key == "proj_size":
            return f"Only nn.LSTM projects its hidden state; remove `proj_size` from this {cls.keras_class}."
        return super().foreign_argument_advice(key)


@register
class GRU(WithoutProjection):
    """nn.GRU: gates r, z, n; the reset gate multiplies (W_hn·h + b_hn), after the product."""

    keras_class = "GRU"
    keras_type = "GRU"
    gates = 3
    torch_gates = _torch_gates(KerasGRU.cell_gates, "rzn", ("sigmoid", "sigmoid", "tanh"), (1, 0, 2))
    arguments = _recurrent_arguments()
    examples = (Example("GRU(hidden_size=4, bidirectional=True)", ((6, 3),), framework="pytorch"),
                Example("GRU(hidden_size=3, num_layers=3, bias=False, batch_first=True)", ((5, 2),),
                        framework="pytorch"))

    fused_blocks, fused_sigmoids = (1, 0, 2), 2  # z, r, n: Keras's order

    def step_function(self, weights: WeightArrays, suffix: str, index: int) -> Step:
        """r, z = σ(x·W_i{r,z}ᵀ + b_i{r,z} + h·W_h{r,z}ᵀ + b_h{r,z}); n = tanh(x·W_inᵀ + b_in +
        r ⊙ (h·W_hnᵀ + b_hn)); h = (1 − z) ⊙ n + z ⊙ h."""
        tag = f"l{index}{suffix}"
        bias = self.fused(weights[f"bias_hh_{tag}"])[2 * self.hidden:] if self["bias"] else None
        from .fused_cells import gru_step  # only the forward pass needs it

        return gru_step(self.recurrent_weights(weights, tag), "tanh", self.input_bias(weights, tag), bias,
                        reset_after=True)

    def input_bias(self, weights: WeightArrays, tag: str) -> Optional["ndarray"]:
        """bias_ih, with bias_hh's r and z blocks: its n block is multiplied by the reset gate, so it stays
        in the step."""
        if not self["bias"]:
            return None
        bias = self.fused(weights[f"bias_ih_{tag}"])
        bias[:2 * self.hidden] += self.fused(weights[f"bias_hh_{tag}"])[:2 * self.hidden]
        return bias

    def cell_equations(self, projected: bool) -> List[Equation]:
        r, z, n = self.torch_gates
        equations = [Equation("r_t", f"σ({self.gate_sum(r)})", r.role), Equation("z_t", f"σ({self.gate_sum(z)})", z.role)]
        bias_x = " + b_in" if self["bias"] else ""
        bias_h = " + b_hn" if self["bias"] else ""
        equations.append(Equation("n_t", f"tanh(W_in·x_t{bias_x} + r_t ⊙ (W_hn·h_{{t−1}}{bias_h}))",
                                  "new gate (candidate), reset after the product"))
        equations.append(Equation("h_t", "(1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}", "new hidden state = output at step t"))
        return equations


@register
class RNN(WithoutProjection):
    """nn.RNN (Elman): h_t = tanh or relu of the two products and two biases."""

    keras_class = "RNN"
    keras_type = "SimpleRNN"
    gates = 1
    torch_gates = _torch_gates(KerasSimpleRNN.cell_gates, "h", ("tanh",), (0,))
    arguments = _recurrent_arguments(after_layers=(Arg("nonlinearity", nonlinearity, "tanh"),))
    examples = (Example("RNN(hidden_size=4, nonlinearity='relu', num_layers=2)", ((6, 3),), framework="pytorch"),)
    keras_keywords = {"hidden_size": "units", "bias": "use_bias", "nonlinearity": "activation"}

    def rank_message(self, rank: int) -> str:
        return f"RNN: Expected input to be 2D or 3D, got {rank}D tensor instead"

    def keras_options(self) -> Dict[str, Any]:
        return {"activation": "relu"} if self["nonlinearity"] == "relu" else {}

    def step_function(self, weights: WeightArrays, suffix: str, index: int) -> Step:
        """h = nonlinearity(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)."""
        tag = f"l{index}{suffix}"
        from .fused_cells import simple_step  # only the forward pass needs it

        return simple_step(self.recurrent_weights(weights, tag), self["nonlinearity"], self.input_bias(weights, tag))

    def cell_equations(self, projected: bool) -> List[Equation]:
        bias_x = " + b_ih" if self["bias"] else ""
        bias_h = " + b_hh" if self["bias"] else ""
        return [Equation("h_t", f"{self['nonlinearity']}(W_ih·x_t{bias_x} + W_hh·h_{{t−1}}{bias_h})",
                         "new hidden state = output at step t")]
