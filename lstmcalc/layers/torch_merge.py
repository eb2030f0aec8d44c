"""lstmcalc's spec steps for the expressions PyTorch code writes in ``forward()`` to join tensors —
not torch.nn modules (torch has none for them) and without parameters; what a Keras merge layer
(Concatenate, Add, ...) becomes in PyTorch:

- ``{type: Cat, dim: -1, inputs: [a, b]}``: ``torch.cat((a, b), dim=-1)``.
- ``{type: Add}`` ``a + b``, ``{type: Sub}`` ``a - b``, ``{type: Mul}`` ``a * b``, ``{type: Average}``
  ``(a + b) / 2``, ``{type: Maximum}`` ``torch.maximum(a, b)``, ``{type: Minimum}``
  ``torch.minimum(a, b)``: element by element, with torch's broadcasting (shapes aligned on the
  right, a size of 1 stretches).
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Any, Callable, ClassVar, List, Optional, Sequence

from ..diagnostics import Problem
from ..shapes import Shape, format_shape
from .arguments import Arg
from .base import Arrays, Example, Forward, Masks, TensorSpec, WeightArrays, numpy_module, register
from .explanation import Context, Equation, Math, one_block
from .merge import merge_symbols
from .porting import refuse
from .torch_nn import whole
from .torch_steps import Step

if TYPE_CHECKING:
    from numpy import ndarray

    from .porting import PortPlan


class Join(Step):
    """A step taking several tensors (``inputs: [a, b]``) and returning one."""

    takes_tensor_list = True
    # How many tensors it takes at least (torch.cat takes one), and exactly (None: any more).
    fewest: ClassVar[int] = 2
    exact_count: ClassVar[Optional[int]] = None

    def check_count(self, inputs: Sequence[TensorSpec], as_list: bool) -> None:
        count = len(inputs)
        if count < self.fewest or (self.exact_count is not None and count != self.exact_count):
            wanted = self.exact_count if self.exact_count is not None else f"at least {self.fewest}"
            raise Problem("H002", f"{self.name} ({self.keras_class}) joins {wanted} tensors; it receives {count}: "
                                  f"{', '.join(format_shape(tensor.shape) for tensor in inputs)}.",
                          "List the tensors in `inputs:`, e.g. `inputs: [a, b]`.")

    def forward_code(self, x: str, inputs: Sequence[TensorSpec], states: Optional[str]) -> Optional[str]:
        return self.joined_code([x], inputs)

    def graph_code(self, variables: Sequence[str], inputs: Sequence[TensorSpec], states: Optional[str]) -> Optional[str]:
        return self.joined_code(variables, inputs)

    def joined_code(self, variables: Sequence[str], inputs: Sequence[TensorSpec]) -> str:
        raise NotImplementedError

    def keras_arguments(self, inputs: Sequence[TensorSpec]) -> dict:
        """The arguments of the Keras merge layer computing it."""
        return {}

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """The Keras merge layer whose PyTorch step this is (Keras's Concatenate is torch.cat, ...),
        on tensors of one rank with the batch axis first: Keras aligns lower-rank inputs after the
        batch axis, torch on the right across it."""
        from .porting import Entry, port_module
        from .registry import all_layer_classes

        keras = next((cls for cls in all_layer_classes(framework).values()
                      if getattr(cls, "pytorch_step", "") == self.keras_class), None)
        if keras is None:
            raise refuse(self, framework, "lstmcalc has no Keras merge layer for it.", "Port the model without it.")
        if any(tensor.batch_axis != 0 for tensor in inputs):
            raise refuse(self, framework, "it joins tensors whose batch axis is not first, which Keras's layers "
                                          "always keep first.", "Port a model whose tensors keep the batch first "
                                                                "(batch_first: true).")
        if len({len(tensor.shape) for tensor in inputs}) > 1:
            raise refuse(self, framework, "its inputs differ in rank, which torch aligns on the right (across the "
                                          "batch axis) and Keras after the batch axis.",
                         "Give the inputs the same rank.")
        port_module(self, plan, Entry(keras.keras_class, self.name, self.keras_arguments(inputs)))


@register
class Cat(Join):
    """lstmcalc step: torch.cat((a, b, ...), dim=dim), the tensors joined along one axis (the batch
    axis counted, as torch counts it)."""

    keras_class = "Cat"
    code = "torch.cat((a, b), dim=dim)"
    fewest = 1
    arguments = (Arg("dim", whole, default=0),)
    examples = (Example("Cat(dim=-1)", ((6, 3), (6, 5)), framework="pytorch"),
                Example("Cat(dim=1)", ((4, 3), (2, 3)), framework="pytorch"))

    def axis(self, inputs: Sequence[TensorSpec]) -> int:
        return self.dimension(self["dim"], len(inputs[0].shape), inputs, "dim")

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        first = inputs[0].shape
        for tensor in inputs[1:]:
            if len(tensor.shape) != len(first):
                raise self.refuses("H004", "RuntimeError", f"Tensors must have same number of dimensions: got "
                                                           f"{len(first)} and {len(tensor.shape)}",
                                   "Join tensors of the same rank.", inputs)
        axis = self.axis(inputs)
        for number, tensor in enumerate(inputs[1:], start=1):
            for position, (want, got) in enumerate(zip(first, tensor.shape)):
                if position != axis and want is not None and got is not None and want != got:
                    raise self.refuses("H004", "RuntimeError", f"Sizes of tensors must match except in dimension "
                                                               f"{axis}. Expected size {want} but got size {got} for "
                                                               f"tensor number {number} in the list.",
                                       f"The tensors may differ on axis {axis} only.", inputs)
        sizes = [tensor.shape[axis] for tensor in inputs]
        joined = None if any(size is None for size in sizes) else sum(sizes)
        return [tuple(first[:axis]) + (joined,) + tuple(first[axis + 1:])]

    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        return [inputs[0].batch_axis] * count

    def keras_arguments(self, inputs: Sequence[TensorSpec]) -> dict:
        """Keras's Concatenate counts the batch axis as torch does (both keep it first): the same
        axis. Concatenate(axis=0) joins the batches too (Keras builds and runs it: random-70-095,
        declaring the batch unknown); a batch elsewhere than first has no Keras axis."""
        if self.axis(inputs) == inputs[0].batch_axis and inputs[0].batch_axis != 0:
            raise refuse(self, "keras", "it joins the tensors along their batch axis, which is not their first: "
                                        "Keras keeps the batch first.",
                         "Join the tensors along a feature axis (dim=-1).")
        return {"axis": self["dim"]}

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        return [numpy_module().concatenate(list(inputs), axis=self["dim"] % inputs[0].ndim)], [None]

    def joined_code(self, variables: Sequence[str], inputs: Sequence[TensorSpec]) -> str:
        items = ", ".join(variables) + ("," if len(variables) == 1 else "")
        return f"torch.cat(({items}), dim={self['dim']})"

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        axis = self.axis(inputs)
        return one_block("a join", [Equation("y", f"torch.cat((x₁, …), dim={self['dim']})",
                                             f"the tensors one after the other along axis {axis}")],
                         merge_symbols(inputs, outputs), words=[
                             "An lstmcalc spec step: the tensor operation PyTorch code writes in forward(), not a "
                             "torch.nn module; it has no parameters."], headline=f"Cat along axis {axis}")


class Elementwise(Join):
    """A step combining tensors element by element, with torch's broadcasting."""

    # The operation as the equations write it.
    formula: ClassVar[str] = ""

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        result: Shape = tuple(inputs[0].shape)
        for tensor in inputs[1:]:
            result = self.broadcast(result, tuple(tensor.shape), inputs)
        return [result]

    def broadcast(self, first: Shape, second: Shape, inputs: Sequence[TensorSpec]) -> Shape:
        """torch's broadcasting: axes aligned on the right, a size of 1 stretches."""
        rank = max(len(first), len(second))
        first = (1,) * (rank - len(first)) + tuple(first)
        second = (1,) * (rank - len(second)) + tuple(second)
        result: List[Any] = []
        for axis, (a, b) in enumerate(zip(first, second)):
            if a == 1 or a == b:
                result.append(b)
            elif b == 1:
                result.append(a)
            elif a is None or b is None:
                result.append(a if b is None else b)
            else:
                raise self.refuses("H004", "RuntimeError", f"The size of tensor a ({a}) must match the size of "
                                                           f"tensor b ({b}) at non-singleton dimension {axis}",
                                   "Give the tensors equal sizes (or 1) on each axis, counted from the right.",
                                   inputs)
        return tuple(result)

    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        rank = max(len(tensor.shape) for tensor in inputs)
        widest = next(tensor for tensor in inputs if len(tensor.shape) == rank)
        return [widest.batch_axis] * count

    def combine(self, arrays: Arrays) -> "ndarray":
        raise NotImplementedError

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        return [self.combine(list(inputs))], [None]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        return one_block("element-wise", [Equation("y", self.formula, "")], merge_symbols(inputs, outputs), words=[
            "An lstmcalc spec step: the tensor operation PyTorch code writes in forward(), not a torch.nn module; it "
            "has no parameters. Element by element, with torch's broadcasting: shapes align on the right, where a "
            "size of 1 stretches."], headline=f"{self.keras_class} of {len(inputs)} tensors")


class Operator(Elementwise):
    """A step writing an operator between the tensors (``a + b + c``)."""

    # The operator as forward() writes it between two tensors, and the function computing it.
    symbol: ClassVar[str] = ""
    operation: ClassVar[Callable[[Any, Any], Any]]

    def combine(self, arrays: Arrays) -> "ndarray":
        return functools.reduce(type(self).operation, arrays)

    def joined_code(self, variables: Sequence[str], inputs: Sequence[TensorSpec]) -> str:
        return f" {self.symbol} ".join(variables)


@register
class Add(Operator):
    """lstmcalc step: a + b + ..., element by element."""

    keras_class = "Add"
    code = "a + b"
    formula = "x₁ + x₂ + …"
    symbol, operation = "+", operator.add
    examples = (Example("Add()", ((6, 3), (6, 3)), framework="pytorch"),)


@register
class Sub(Operator):
    """lstmcalc step: a - b, element by element."""

    keras_class = "Sub"
    code = "a - b"
    formula = "x₁ − x₂"
    exact_count = 2
    symbol, operation = "-", operator.sub
    examples = (Example("Sub()", ((6, 3), (6, 3)), framework="pytorch"),)


@register
class Mul(Operator):
    """lstmcalc step: a * b * ..., element by element."""

    keras_class = "Mul"
    code = "a * b"
    formula = "x₁ ⊙ x₂ ⊙ …"
    symbol, operation = "*", operator.mul
    examples = (Example("Mul()", ((6, 3), (6, 3)), framework="pytorch"),)


@register
class Average(Operator):
    """lstmcalc step: (a + b + ...) / n, element by element."""

    keras_class = "Average"
    code = "(a + b) / 2"
    formula = "(x₁ + x₂ + …) / n"
    symbol, operation = "+", operator.add
    examples = (Example("Average()", ((6, 3), (6, 3)), framework="pytorch"),)

    def combine(self, arrays: Arrays) -> "ndarray":
        return super().combine(arrays) / len(arrays)

    def joined_code(self, variables: Sequence[str], inputs: Sequence[TensorSpec]) -> str:
        return f"({super().joined_code(variables, inputs)}) / {len(variables)}"


class Extremum(Elementwise):
    """torch.maximum / torch.minimum, nested for more than two tensors."""

    function: ClassVar[str] = ""

    def combine(self, arrays: Arrays) -> "ndarray":
        return functools.reduce(getattr(numpy_module(), self.function), arrays)

    def joined_code(self, variables: Sequence[str], inputs: Sequence[TensorSpec]) -> str:
        return functools.reduce(lambda text, variable: f"torch.{self.function}({text}, {variable})", variables)


@register
class Maximum(Extremum):
    """lstmcalc step: torch.maximum(a, b), the larger of each pair of elements."""

    keras_class = "Maximum"
    code = "torch.maximum(a, b)"
    formula = "max(x₁, x₂, …)"
    function = "maximum"
    examples = (Example("Maximum()", ((6, 3), (6, 3)), framework="pytorch"),)


@register
class Minimum(Extremum):
    """lstmcalc step: torch.minimum(a, b), the smaller of each pair of elements."""

    keras_class = "Minimum"
    code = "torch.minimum(a, b)"
    formula = "min(x₁, x₂, …)"
    function = "minimum"
    examples = (Example("Minimum()", ((6, 3), (6, 3)), framework="pytorch"),)


def join_types() -> dict:
    """How forward() writes each join → its step's spec type, for readers of PyTorch code: ``cat``
    (torch.cat and its aliases), the operators ``+ - *``, ``average`` (``(a + b) / n``) and the
    functions ``maximum`` / ``minimum``."""
    found = {name: Cat.keras_class for name in ("cat", "concat", "concatenate")}
    found.update({cls.symbol: cls.keras_class for cls in (Add, Sub, Mul)})
    found["average"] = Average.keras_class
    found.update({cls.function: cls.keras_class for cls in (Maximum, Minimum)})
    return found

