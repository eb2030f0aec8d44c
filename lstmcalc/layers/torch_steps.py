"""lstmcalc's spec steps for the tensor operations PyTorch code writes in ``forward()`` between
modules — not torch.nn modules (torch has none for them) and without parameters:

- ``{type: LastStep}``: the last time step, ``out[:, -1, :]`` (batch first) or ``out[-1]`` (time
  major); after a bidirectional RNN the last step of each direction, ``torch.cat((h_n[-2],
  h_n[-1]), dim=1)`` — what a Keras RNN without return_sequences returns.
- ``{type: Permute, dims: [0, 2, 1]}``: ``x.permute(*dims)``, the dims counting the batch axis.
- ``{type: Transpose, dim0: 1, dim1: 2}``: ``x.transpose(dim0, dim1)``.
- ``{type: Select, dim: 1, index: -1}``: ``x.select(dim, index)``, i.e. ``out[:, -1, :]`` taken
  literally — what PyTorch source writes after a bidirectional module, where it is not LastStep.

nn.Flatten is a module (torch_nn.Flatten).

What PyTorch source selects as the last step (the reader asks the producing module, whose
``last_step_refusal`` says whether the selection is LastStep): ``STEP`` (``out[:, -1, :]``, or
``out[-1]`` time major), ``LAST_STATE`` (``h_n[-1]``), ``LAST_TWO_STATES`` (``torch.cat((h_n[-2],
h_n[-1]), dim=1)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, List, Optional, Sequence, Tuple

from ..diagnostics import Problem
from ..shapes import Shape, format_shape
from .arguments import Arg, described
from .base import (Arrays, Example, Forward, Layer, MacCount, Masks, NO_MACS, TensorSpec, WeightArrays,
                   numpy_module, register)
from .explanation import Context, Equation, Math, io_symbols, one_block

if TYPE_CHECKING:
    from .porting import PortPlan
from .porting import Counterpart, Entry, Handover, Link, no_weights, port_module, refuse
from .torch_module import NAME, TorchModule, torch_bool
from .torch_nn import whole
from .torch_recurrent import TorchRecurrent


STEP = "out[:, -1, :]"
LAST_STATE = "h_n[-1]"
LAST_TWO_STATES = "torch.cat((h_n[-2], h_n[-1]), dim=1)"


def step_math(title: str, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], equation: Equation, headline: str,
              note: str) -> Math:
    """The equations of a spec step that is one tensor operation."""
    return one_block(title, [equation], io_symbols(inputs, outputs), words=[
        f"An lstmcalc spec step: the tensor operation PyTorch code writes in forward(), not a torch.nn module. {note}"],
                     headline=headline)


class Step(TorchModule):
    """A spec step: a tensor operation written in forward(), not a module."""

    base_arguments = (NAME,)
    # What the step is in PyTorch code, for the explanation.
    code: ClassVar[str] = ""

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS

    @classmethod
    def unknown_argument_message(cls, key: str) -> str:
        return f"The lstmcalc step {cls.keras_class} has no argument `{key}`."

    @classmethod
    def missing_argument_message(cls, key: str) -> str:
        return f"The lstmcalc step {cls.keras_class} needs `{key}`."

    def dimension(self, dim: int, rank: int, inputs: Sequence[TensorSpec], argument: str) -> int:
        """torch's wrapping of a dimension index, with its IndexError."""
        if not -rank <= dim < rank:
            raise self.refuses("H004", "IndexError", f"Dimension out of range (expected to be in range of "
                                                     f"[{-rank}, {rank - 1}], but got {dim})",
                               f"The input {format_shape(inputs[0].shape)} has axes 0 … {rank - 1}, the batch "
                               "axis counted (PyTorch counts it).", inputs, argument=argument)
        return dim % rank


@register
class LastStep(Step):
    """lstmcalc step: the last time step of a sequence (per direction after a bidirectional RNN)."""

    keras_class = "LastStep"
    code = "out[:, -1, :]  (time major: out[-1])"
    examples = (Example("LastStep()", ((6, 3),), framework="pytorch"),)

    def __init__(self, name, config, convention="keras", locations=None):
        super().__init__(name, config, convention, locations)
        self.directions = 1
        # The time axis of the tensor it was last shaped for: the forward pass, which sees arrays
        # only, runs after the shapes (the engine's, then the verifier's) and reads it here.
        self.shaped_time_axis = 1

    def connect(self, producer: Optional[Layer]) -> None:
        # After a bidirectional RNN each direction's last step is at the other end of the sequence.
        self.directions = producer.directions if isinstance(producer, TorchRecurrent) else 1

    def time_axis(self, tensor: TensorSpec) -> int:
        """Time is the axis after the batch (batch first) or axis 0 (time major, or no batch axis)."""
        return 1 if tensor.batch_axis == 0 else 0

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        if len(shape) < 2:
            raise self.refuses("H001", "IndexError", f"too many indices for tensor of dimension {len(shape)}",
                               "LastStep takes a sequence: (batch, steps, features) or (steps, batch, features).",
                               inputs)
        axis = self.shaped_time_axis = self.time_axis(inputs[0])
        if shape[axis] == 0:
            raise self.refuses("H004", "IndexError", f"index -1 is out of bounds for dimension {axis} with size 0",
                               "The sequence has no step.", inputs)
        return [tuple(shape[:axis]) + tuple(shape[axis + 1:])]

    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        axis, batch = self.time_axis(inputs[0]), inputs[0].batch_axis
        return [None if batch is None else (batch - 1 if batch > axis else batch)] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        np = numpy_module()
        x = inputs[0]
        axis = self.shaped_time_axis
        last = np.take(x, -1, axis=axis)
        if self.directions == 1:
            return [last], [None]
        half = x.shape[-1] // self.directions
        first = np.take(x, 0, axis=axis)
        return [np.concatenate([last[..., :half], first[..., half:]], axis=-1)], [None]

    def forward_code(self, x: str, inputs: Sequence[TensorSpec], states: Optional[str]) -> Optional[str]:
        """``x[:, -1, :]`` (time major ``x[-1]``); after a bidirectional module both directions'
        last states, ``torch.cat((h_n[-2], h_n[-1]), dim=1)``, which needs the module's h_n."""
        if self.directions == 2:
            if states is None:
                raise Problem("P002", f"{self.name} (LastStep) takes the last step of each direction of a "
                                      "bidirectional module that is not right before it; forward() writes it as "
                                      "torch.cat((h_n[-2], h_n[-1]), dim=1) of that module.",
                              "Put the LastStep right after the recurrent module.")
            return f"torch.cat(({states}[-2], {states}[-1]), dim=1)"
        rank = len(inputs[0].shape)
        if self.time_axis(inputs[0]) == 0:
            return f"{x}[-1]"
        return f"{x}[:, -1" + ", :" * (rank - 2) + "]"

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """After a recurrent module: its (last) Keras layer without return_sequences; when other
        layers take that module's output whole, its final state (return_state: true), which is the
        last step (each direction's, joined)."""
        if plan.before.last_step is not None:
            plan.add(Counterpart(self.name, [], no_weights, [Link(0, plan.before.last_step())]))
            return
        if plan.before.final_state is not None:
            entries, link = plan.before.final_state(self.name)
            plan.add(Counterpart(self.name, entries, no_weights, [link]))
            return
        raise refuse(self, framework, "Keras has no layer that takes the last step of any tensor; only a "
                                      "recurrent layer returns it (return_sequences: false, or its state with "
                                      "return_state: true).",
                     "Take the last step of a recurrent module's output.")

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        axis = self.time_axis(inputs[0])
        literal = "out[:, -1, :]" if axis == 1 else "out[-1]"
        if self.directions == 2:
            equation = Equation("y", "[forward half of the last step ; reverse half of the FIRST step]",
                                "= torch.cat((h_n[-2], h_n[-1]), dim=1): what each direction saw last")
            words = [f"After a bidirectional RNN the reverse direction ends at step 1, so its last output is the "
                     f"reverse half of the first step. The literal {literal} would take the reverse direction after "
                     "one step only — it is not what a Keras RNN without return_sequences returns."]
        else:
            equation = Equation("y", literal, f"the last step along axis {axis} (= h_n[-1] after an RNN)")
            words = []
        words.append("An lstmcalc spec step: the tensor operation PyTorch code writes in forward(), not a torch.nn "
                     "module; it has no parameters.")
        return one_block("a selection", [equation], io_symbols(inputs, outputs), words=words,
                         headline=f"LastStep: the last of {outputs and inputs[0].shape[axis]} steps (axis {axis})")


def last_step_type() -> str:
    """The spec's name of the last-step step (readers make it from PyTorch's indexing)."""
    return LastStep.keras_class


@register
class Select(Step):
    """lstmcalc step: x.select(dim, index) — one index of one axis, the axis removed (``out[:, -1, :]``
    is ``Select(dim=1, index=-1)``)."""

    keras_class = "Select"
    code = "x.select(dim, index)"
    functional_names = ("select",)
    arguments = (Arg("dim", whole), Arg("index", whole))
    examples = (Example("Select(dim=1, index=-1)", ((6, 3),), framework="pytorch"),
                Example("Select(dim=-1, index=0)", ((6, 3),), framework="pytorch"))

    def axis(self, inputs: Sequence[TensorSpec]) -> int:
        shape = inputs[0].shape
        if not shape:
            raise self.refuses("H001", "IndexError", "select() cannot be applied to a 0-dim tensor.",
                               "Select takes a tensor with at least one axis.", inputs)
        return self.dimension(self["dim"], len(shape), inputs, "dim")

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        axis, index = self.axis(inputs), self["index"]
        size = shape[axis]
        if size is not None and not -size <= index < size:
            sizes = list(shape) if None not in shape else "[" + ", ".join(
                "?" if dim is None else str(dim) for dim in shape) + "]"
            raise self.refuses("H004", "IndexError", f"select(): index {index} out of range for tensor of size "
                                                     f"{sizes} at dimension {axis}", f"Axis {axis} has {size} entries: index "
                                                                f"{-size if size else 0} … {size - 1}.",
                               inputs, argument="index")
        return [tuple(shape[:axis]) + tuple(shape[axis + 1:])]

    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        axis, batch = self.axis(inputs), inputs[0].batch_axis
        if batch is None or batch == axis:
            return [None] * count  # selecting one sample leaves no batch axis
        return [batch - 1 if batch > axis else batch] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = inputs[0]
        return [numpy_module().take(x, self["index"], axis=self["dim"] % x.ndim)], [None]

    def forward_code(self, x: str, inputs: Sequence[TensorSpec], states: Optional[str]) -> Optional[str]:
        return f"{x}.select({self['dim']}, {self['index']})"

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """A row of a recurrent module's h_n or c_n (``h_n.select(0, k)``, ``h_n[k]``): the state its
        Keras layer returns with return_state."""
        if plan.before.rows is not None and self.axis(inputs) == 0:
            plan.add(Counterpart(self.name, [], no_weights, [plan.before.rows(self["index"])._replace(
                index=0, source_row=None)]))
            return
        raise refuse(self, framework, "Keras has no layer that selects one index of an axis (after a recurrent "
                                      "layer, return_sequences: false is LastStep, which after a bidirectional "
                                      "module is not out[:, -1, :]).",
                     "Use LastStep where it is meant: torch.cat((h_n[-2], h_n[-1]), dim=1) after a bidirectional "
                     "module.")

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        axis, index = self.axis(inputs), self["index"]
        words = ["An lstmcalc spec step: the tensor operation PyTorch code writes in forward() (an index such as "
                 "out[:, -1, :]), not a torch.nn module; it has no parameters."]
        if isinstance(self.producer, TorchRecurrent) and self.producer.directions == 2 and axis != inputs[0].batch_axis:
            words.insert(0, "After a bidirectional module, the reverse direction's half of the last step has read "
                            "one step only (it runs from the end): torch.cat((h_n[-2], h_n[-1]), dim=1) — lstmcalc's "
                            "LastStep — is what each direction saw last.")
        return one_block("a selection", [Equation("y", f"x.select({self['dim']}, {index})",
                                                  f"index {index} of axis {axis}; the axis goes")],
                         io_symbols(inputs, outputs), words=words, headline=f"Select index {index} of axis {axis}")

    producer: Optional[Layer] = None

    def connect(self, producer: Optional[Layer]) -> None:
        self.producer = producer


@described({"type": "array", "items": {"type": "integer"}})
def dims(name: str, value: Any) -> Tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        raise Problem("S005", f"`{name}` must be a list of axes, e.g. [0, 2, 1], got {value!r}.",
                      "List every axis of the input once, the batch axis (0) included, as x.permute(0, 2, 1).")
    return tuple(whole(name, item) for item in value)


class Reorder(Step):
    """A step that moves axes (Permute, Transpose): the batch axis moves with them."""

    def axes(self, rank: int) -> Tuple[int, ...]:
        """Where each axis of the output comes from, for an input of ``rank`` axes (unchecked)."""
        raise NotImplementedError

    def order(self, inputs: Sequence[TensorSpec]) -> Tuple[int, ...]:
        """``axes``, after torch's checks of the arguments against the input."""
        raise NotImplementedError

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        return [tuple(shape[axis] for axis in self.order(inputs))]

    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        batch = inputs[0].batch_axis
        return [None if batch is None else self.order(inputs).index(batch)] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = inputs[0]
        return [x.transpose(self.axes(x.ndim))], [None]

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """Moving the channels first for a Conv1d or Conv2d (and back after it) needs no Keras layer
        (Keras's convolutions read channels last) in a chain; other orders, and any in a graph, are
        Keras's Permute, whose dims leave the batch axis out."""
        order = self.order(inputs)
        if inputs[0].batch_axis != 0 or order[0] != 0:
            raise refuse(self, framework, "it moves the batch axis, which Keras's layers always keep first.",
                         "Port a model whose tensors keep the batch first (batch_first: true).")
        if plan.reorders(order, self.name):
            plan.add(Counterpart(self.name, [], no_weights, []))
            return
        port_module(self, plan, Entry("Permute", self.name, {"dims": list(order[1:])}))

    def reorder_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], equation: Equation,
                     headline: str) -> Math:
        return step_math("a reordering of axes", inputs, outputs, equation, headline,
                         "Its axes count the batch axis, as torch does (Keras's Permute does not).")


@register
class Permute(Reorder):
    """lstmcalc step: x.permute(*dims), dims counting the batch axis (unlike Keras's Permute)."""

    keras_class = "Permute"
    code = "x.permute(*dims)"
    functional_names = ("permute",)
    functional_varargs = "dims"
    arguments = (Arg("dims", dims),)
    examples = (Example("Permute(dims=[0, 2, 1])", ((6, 3),), framework="pytorch"),)

    def axes(self, rank: int) -> Tuple[int, ...]:
        return tuple(dim % rank for dim in self["dims"])

    def order(self, inputs: Sequence[TensorSpec]) -> Tuple[int, ...]:
        rank = len(inputs[0].shape)
        wanted = self["dims"]
        if len(wanted) != rank:
            keras = " (Keras's Permute counts from 1 and leaves the batch axis out; PyTorch counts it: 0)" \
                if len(wanted) == rank - 1 else ""
            raise self.refuses("H004", "RuntimeError", "permute(sparse_coo): number of dimensions in the tensor input "
                                                       "does not match the length of the desired ordering of dimensions "
                                                       f"i.e. input.dim() = {rank} is not equal to len(dims) = "
                                                       f"{len(wanted)}",
                               f"List all {rank} axes of the input once{keras}, e.g. "
                               f"dims: {[0] + list(range(rank - 1, 0, -1))}.", inputs, argument="dims")
        order = tuple(self.dimension(dim, rank, inputs, "dims") for dim in wanted)
        if len(set(order)) != rank:
            raise self.refuses("H004", "RuntimeError", "permute(): duplicate dims are not allowed.",
                               "List each axis once.", inputs, argument="dims")
        return order

    def forward_code(self, x: str, inputs: Sequence[TensorSpec], states: Optional[str]) -> Optional[str]:
        return f"{x}.permute({', '.join(str(dim) for dim in self['dims'])})"

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        order = self.order(inputs)
        return self.reorder_math(inputs, outputs, Equation("y", f"x.permute{order}", "axis i of y is axis dims[i] "
                                                                                     "of x; no values change"),
                                 f"Permute {order}")


@register
class Transpose(Reorder):
    """lstmcalc step: x.transpose(dim0, dim1), swapping two axes (the batch axis counted)."""

    keras_class = "Transpose"
    code = "x.transpose(dim0, dim1)"
    functional_names = ("transpose",)
    arguments = (Arg("dim0", whole), Arg("dim1", whole))
    examples = (Example("Transpose(dim0=1, dim1=2)", ((6, 3),), framework="pytorch"),)

    def axes(self, rank: int) -> Tuple[int, ...]:
        order = list(range(rank))
        first, second = self["dim0"] % rank, self["dim1"] % rank
        order[first], order[second] = second, first
        return tuple(order)

    def order(self, inputs: Sequence[TensorSpec]) -> Tuple[int, ...]:
        rank = len(inputs[0].shape)
        for argument in ("dim0", "dim1"):
            self.dimension(self[argument], rank, inputs, argument)
        return self.axes(rank)

    def forward_code(self, x: str, inputs: Sequence[TensorSpec], states: Optional[str]) -> Optional[str]:
        return f"{x}.transpose({self['dim0']}, {self['dim1']})"

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        return self.reorder_math(inputs, outputs, Equation("y", f"x.transpose({self['dim0']}, {self['dim1']})",
                                                           "the two axes swap; no values change"),
                                 f"Transpose {self['dim0']} ↔ {self['dim1']}")


class Reshaped(Step):
    """A step on one tensor whose Keras equivalent lstmcalc does not port (PyTorch → Keras)."""

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        raise refuse(self, framework, f"lstmcalc has no Keras layer for `{self.code}` on its own.",
                     "Port the model's chain of modules without it.")



@register
class Unsqueeze(Reshaped):
    """lstmcalc step: x.unsqueeze(dim), a new axis of size 1 (a Keras state (N, H) as torch's
    initial state (1, N, H))."""

    keras_class = "Unsqueeze"
    code = "x.unsqueeze(dim)"
    functional_names = ("unsqueeze",)
    arguments = (Arg("dim", whole),)
    examples = (Example("Unsqueeze(dim=0)", ((6, 3),), framework="pytorch"),)

    def axis(self, inputs: Sequence[TensorSpec]) -> int:
        return self.dimension(self["dim"], len(inputs[0].shape) + 1, inputs, "dim")

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape, axis = inputs[0].shape, self.axis(inputs)
        return [tuple(shape[:axis]) + (1,) + tuple(shape[axis:])]

    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        batch, axis = inputs[0].batch_axis, self.axis(inputs)
        return [None if batch is None else (batch + 1 if batch >= axis else batch)] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = inputs[0]
        return [numpy_module().expand_dims(x, self["dim"] % (x.ndim + 1))], [None]

    def forward_code(self, x: str, inputs: Sequence[TensorSpec], states: Optional[str]) -> Optional[str]:
        return f"{x}.unsqueeze({self['dim']})"

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """``h.unsqueeze(0)``, a state (N, H) made torch's h_0 (1, N, H): Keras keeps the batch axis
        first, so it has no such tensor; its one row is the state itself, which a Keras recurrent
        layer takes as an initial state (the only use the written model may make of it)."""
        given = plan.given[0] if plan.given else None
        if self.axis(inputs) != 0 or inputs[0].batch_axis != 0 or given is None or \
                (given.row, given.axes, given.source_row) != (None, None, None):
            super().port_to(framework, inputs, plan)
            return
        link = given._replace(index=0, source_row=0)

        def row(output: int, number: int) -> Link:
            if number not in (0, -1):
                raise refuse(self, framework, f"its output has one row; row {number} does not exist.",
                             "Take row 0 (or -1).")
            return link

        plan.add(Counterpart(self.name, [], no_weights, [link], handover=Handover(rows=row)))

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        axis = self.axis(inputs)
        return step_math("a tensor operation", inputs, outputs,
                         Equation("y", f"x.unsqueeze({self['dim']})", f"a new axis {axis} of size 1; no values change"),
                         f"Unsqueeze at axis {axis}", "It has no parameters; its axes count the batch axis, as torch "
                                                      "does.")


@register
class Narrow(Reshaped):
    """lstmcalc step: x.narrow(dim, start, length), entries start … start + length − 1 of one axis
    (one direction's half of a bidirectional output: Keras's merge_mode sum, ave, mul, None)."""

    keras_class = "Narrow"
    code = "x.narrow(dim, start, length)"
    functional_names = ("narrow",)
    arguments = (Arg("dim", whole), Arg("start", whole), Arg("length", whole))
    examples = (Example("Narrow(dim=-1, start=2, length=3)", ((6, 5),), framework="pytorch"),)

    def axis(self, inputs: Sequence[TensorSpec]) -> int:
        return self.dimension(self["dim"], len(inputs[0].shape), inputs, "dim")

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape, axis = inputs[0].shape, self.axis(inputs)
        start, length, size = self["start"], self["length"], shape[axis]
        if length < 0:
            raise self.refuses("H004", "RuntimeError", "narrow(): length must be non-negative.",
                               "Give a length of 0 or more.", inputs, argument="length")
        if size is not None:
            if not -size <= start <= size:
                raise self.refuses("H004", "IndexError", f"start out of range (expected to be in range of [{-size}, "
                                                         f"{size}], but got {start})",
                                   f"Axis {axis} has {size} entries.", inputs, argument="start")
            start = start + size if start < 0 else start  # only a negative start counts from the end
            if start + length > size:
                raise self.refuses("H004", "RuntimeError", f"start ({start}) + length ({length}) "
                                                           f"exceeds dimension size ({size}).",
                                   f"Axis {axis} has {size} entries.", inputs, argument="length")
        return [tuple(shape[:axis]) + (length,) + tuple(shape[axis + 1:])]

    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        return [inputs[0].batch_axis] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = inputs[0]
        axis = self["dim"] % x.ndim
        start = self["start"] % max(x.shape[axis], 1)
        return [numpy_module().take(x, range(start, start + self["length"]), axis=axis)], [None]

    def forward_code(self, x: str, inputs: Sequence[TensorSpec], states: Optional[str]) -> Optional[str]:
        return f"{x}.narrow({self['dim']}, {self['start']}, {self['length']})"

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """Keras has no slicing layer but Cropping1D, which cuts entries off both ends of axis 1 of
        (batch, steps, features): the narrowed axis is brought there (Reshape of a vector to
        (features, 1), Permute of a sequence's features) and back — moves of values, exact."""
        shape, axis = inputs[0].shape, self.axis(inputs)
        size = shape[axis]
        if inputs[0].batch_axis != 0 or axis == 0 or len(shape) not in (2, 3) or size is None:
            raise refuse(self, framework, "Keras's only slicing layer, Cropping1D, cuts axis 1 of (batch, steps, "
                                          "features); lstmcalc brings a known-size axis of a vector or sequence "
                                          f"there, and this narrows axis {axis} of {format_shape(shape)}.",
                         "Narrow the features of a vector or sequence, or the steps of a sequence of known length.")
        start = self["start"] % max(size, 1)
        cropping = {"cropping": [start, size - start - self["length"]]}
        if len(shape) == 2:
            entries = [Entry("Reshape", f"{self.name}_as_steps", {"target_shape": [size, 1]}),
                       Entry("Cropping1D", f"{self.name}_cropped", cropping),
                       Entry("Reshape", self.name, {"target_shape": [self["length"]]})]
        elif axis == 2:
            entries = [Entry("Permute", f"{self.name}_as_steps", {"dims": [2, 1]}),
                       Entry("Cropping1D", f"{self.name}_cropped", cropping),
                       Entry("Permute", self.name, {"dims": [2, 1]})]
        else:
            entries = [Entry("Cropping1D", self.name, cropping)]
        plan.add(Counterpart(self.name, plan.steps() + entries, no_weights, [plan.link(0, entries[-1].name)]))

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        axis, start, length = self.axis(inputs), self["start"], self["length"]
        return step_math("a tensor operation", inputs, outputs,
                         Equation("y", f"x.narrow({self['dim']}, {start}, {length})",
                                  f"entries {start} … {start + length - 1} of axis {axis}"),
                         f"Narrow axis {axis} to {length}", "It has no parameters; its axes count the batch axis, as "
                                                            "torch does.")


@described({"oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]})
def one_or_more_dims(name: str, value: Any) -> Any:
    """``dim: 1`` or ``dim: [1, 2]``, as torch's reductions take them."""
    if isinstance(value, (list, tuple)):
        return tuple(whole(name, item) for item in value)
    return whole(name, value)


class Reduction(Reshaped):
    """x.mean(dim) / x.amax(dim): one value over the axes ``dim`` (the batch axis counted)."""

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """Over every axis between the batch and the features (the steps of a batch-first sequence):
        Keras's global pooling layer of that many axes whose PyTorch step this is."""
        from .registry import all_layer_classes

        rank = len(inputs[0].shape)
        keras = [cls for cls in all_layer_classes(framework).values()
                 if getattr(cls, "pytorch_step", "") == self.keras_class and getattr(cls, "dims", None) == rank - 2]
        if inputs[0].batch_axis != 0 or set(self.axes(inputs)) != set(range(1, rank - 1)) or len(keras) != 1:
            super().port_to(framework, inputs, plan)
            return
        port_module(self, plan, Entry(keras[0].keras_class, self.name, {"keepdims": True} if self["keepdim"] else {}))

    arguments = (Arg("dim", one_or_more_dims), Arg("keepdim", torch_bool, False))
    # The tensor method and NumPy's function computing it.
    method: ClassVar[str] = ""
    numpy_function: ClassVar[str] = ""

    def axes(self, inputs: Sequence[TensorSpec]) -> Tuple[int, ...]:
        rank = len(inputs[0].shape)
        wanted = self["dim"] if isinstance(self["dim"], tuple) else (self["dim"],)
        axes = tuple(self.dimension(dim, rank, inputs, "dim") for dim in wanted)
        if len(set(axes)) != len(axes):
            raise self.refuses("H004", "RuntimeError", f"dim {axes[0]} appears multiple times in the list of dims",
                               "List each axis once.", inputs, argument="dim")
        return axes

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape, axes = inputs[0].shape, self.axes(inputs)
        if self["keepdim"]:
            return [tuple(1 if axis in axes else size for axis, size in enumerate(shape))]
        return [tuple(size for axis, size in enumerate(shape) if axis not in axes)]

    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        batch, axes = inputs[0].batch_axis, self.axes(inputs)
        if batch is None or batch in axes:
            return [None] * count
        return [batch if self["keepdim"] else batch - sum(axis < batch for axis in axes)] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = inputs[0]
        wanted = self["dim"] if isinstance(self["dim"], tuple) else (self["dim"],)
        axes = tuple(dim % x.ndim for dim in wanted)
        return [getattr(numpy_module(), self.numpy_function)(x, axis=axes, keepdims=self["keepdim"])], [None]

    def forward_code(self, x: str, inputs: Sequence[TensorSpec], states: Optional[str]) -> Optional[str]:
        dim = self["dim"]
        text = str(dim) if not isinstance(dim, tuple) else "(" + ", ".join(map(str, dim)) + ("," if len(dim) == 1
                                                                                               else "") + ")"
        return f"{x}.{self.method}(dim={text}" + (", keepdim=True)" if self["keepdim"] else ")")

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        axes = self.axes(inputs)
        code = self.forward_code("x", inputs, None)
        return step_math("once per sample", inputs, outputs,
                         Equation("y", code, f"the {self.method} over axis {', '.join(map(str, axes))}"),
                         f"{self.keras_class} over axis {', '.join(map(str, axes))}",
                         "It has no parameters; its axes count the batch axis, as torch does.")


@register
class Mean(Reduction):
    """lstmcalc step: x.mean(dim), the average over one or more axes (Keras's global average
    pooling: x.mean(dim=1) over the steps)."""

    keras_class = "Mean"
    code = "x.mean(dim=dim)"
    method, numpy_function = "mean", "mean"
    functional_names = ("mean",)  # x.mean(dim=1), torch.mean(x, 1)
    examples = (Example("Mean(dim=1)", ((6, 3),), framework="pytorch"),
                Example("Mean(dim=[1, 2], keepdim=True)", ((5, 4, 3),), framework="pytorch"))


@register
class Amax(Reduction):
    """lstmcalc step: x.amax(dim), the largest value over one or more axes (Keras's global max
    pooling: x.amax(dim=1) over the steps)."""

    keras_class = "Amax"
    code = "x.amax(dim=dim)"
    method, numpy_function = "amax", "max"
    functional_names = ("amax",)  # x.amax(dim=1), torch.amax(x, 1)
    examples = (Example("Amax(dim=1)", ((6, 3),), framework="pytorch"),)
