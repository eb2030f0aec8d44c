"""Merge layers (keras/src/layers/merging): several tensors in, one out."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, List, Optional, Sequence

from ..arithmetic import number as count_of, times
from ..shapes import Shape, format_shape, num_elements
from .arguments import Arg, boolean, integer
from .explanation import Context, Equation, Math, Symbol, one_block, plural, subscript, tensor_text
from .base import (Arrays, Example, Forward, Layer, MacCount, Masks, NO_MACS, Problem, TensorSpec, WeightArrays,
                   numpy_module, register)

if TYPE_CHECKING:
    from numpy import ndarray



def _aligned(inputs: Arrays) -> Arrays:
    """Keras's merge reshape: lower-rank inputs gain axes after the batch axis, then broadcast."""
    np = numpy_module()
    rank = max(x.ndim for x in inputs)
    aligned = []
    for x in inputs:
        while x.ndim < rank:
            x = np.expand_dims(x, 1)
        aligned.append(x)
    return aligned


def _or_masks(masks: Masks) -> Optional["ndarray"]:
    """Merge.compute_mask: the OR of the masks, only when every input has one."""
    np = numpy_module()
    if not masks or any(mask is None for mask in masks):
        return None
    merged = masks[0]
    for mask in masks[1:]:
        merged = np.logical_or(merged, mask)
    return merged


def merge_symbols(inputs: Sequence[TensorSpec], outputs: Sequence[Shape]) -> List[Symbol]:
    return ([Symbol(f"x{subscript(index + 1)}", tensor_text(tensor.shape), f"input {index + 1}")
             for index, tensor in enumerate(inputs)] + [Symbol("y", tensor_text(outputs[0]), "the output")])


def _shapes_text(inputs: Sequence[TensorSpec]) -> str:
    return "[" + ", ".join(format_shape(tensor.shape) for tensor in inputs) + "]"


class Merge(Layer):
    """Base of the element-wise merges: Keras broadcasts the shapes after the batch axis,
    aligned on the right, where a dimension of 1 stretches."""

    takes_tensor_list = True
    supports_masking = True
    # Subtract takes exactly two tensors; the others any number (Keras accepts a list of one).
    exact_count: Optional[int] = None
    # The operation as the equations write it: "x₁ + x₂ + …".
    formula: ClassVar[str] = ""

    def check_count(self, inputs: Sequence[TensorSpec], as_list: bool) -> None:
        if not as_list and len(inputs) == 1:
            raise Problem(
                "H002", f"A merge layer should be called on a list of inputs. Received: "
                        f"input_shape={format_shape(inputs[0].shape)} (not a list of shapes)",
                f"Give `{self.name}` a list, e.g. `inputs: [a, b]`.")
        if self.exact_count is not None and len(inputs) != self.exact_count:
            raise Problem(
                "H002", f"A `{self.keras_class}` layer should be called on exactly {self.exact_count} inputs. "
                        f"Received: input_shape={_shapes_text(inputs)}",
                f"List exactly {self.exact_count} tensors in `inputs:`.")

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # element-wise or a join: no products with a weight

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        batches = {tensor.shape[0] for tensor in inputs} - {None}
        if len(batches) > 1:
            raise Problem(
                "H004", f"Cannot merge tensors with different batch sizes. Received tensors with shapes "
                        f"{_shapes_text(inputs)}", "Give the inputs the same batch_size.")
        merged: Shape = tuple(inputs[0].shape[1:])
        for tensor in inputs[1:]:
            merged = _broadcast(merged, tuple(tensor.shape[1:]))
        batch = batches.pop() if batches else None
        return [(batch,) + merged]

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        # Keras ORs the masks, and only when every input has one.
        return [all(tensor.masked for tensor in inputs)] * count

    def keras_masks(self, inputs, masks, count: int, graph) -> list:
        # Keras ORs the masks (a logical_or operation per extra input), only when every input has one.
        if not masks or any(mask is None for mask in masks):
            return [None] * count
        merged = masks[0]
        for mask in masks[1:]:
            merged = graph.operation("LogicalOr", graph.shape_of(merged), [merged, mask])
        return [merged] * count

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        words = ["Element by element: the inputs must have equal sizes after the batch axis, where a size "
                 "of 1 stretches to match (shapes align on the right). No weights."]
        return one_block("element-wise", [Equation("y", self.formula, "")], merge_symbols(inputs, outputs),
                         legend_text="⊙ = element-wise product", words=words,
                         headline=f"{self.keras_class} of {plural(len(inputs), 'tensor')}")


def _broadcast(first: Shape, second: Shape) -> Shape:
    """Keras's _compute_elemwise_op_output_shape."""
    if len(first) < len(second):
        return _broadcast(second, first)
    if not second:
        return first
    result = list(first[: len(first) - len(second)])
    for a, b in zip(first[len(first) - len(second):], second):
        if a is None or b is None:
            result.append(None)
        elif a == 1:
            result.append(b)
        elif b == 1 or a == b:
            result.append(a)
        else:
            raise Problem(
                "H004", f"Inputs have incompatible shapes. Received shapes {format_shape(first)} and "
                        f"{format_shape(second)}",
                "Element-wise merges need equal sizes after the batch axis (or 1, which stretches); "
                "use Concatenate to join features of different sizes.")
    return tuple(result)


class _ArithmeticMerge(Merge):
    """Add, Subtract, Average: Keras's plain operation over the (aligned) inputs."""

    def combine(self, inputs: Arrays) -> "ndarray":
        raise NotImplementedError

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        return [self.combine(_aligned([self.floating(x) for x in inputs]))], [_or_masks(masks)]


@register
class Add(_ArithmeticMerge):
    keras_class = "Add"
    examples = (Example("Add()", ((4, 3), (4, 3))),)
    formula = "x₁ + x₂ + …"

    def combine(self, inputs: Arrays) -> "ndarray":
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total


@register
class Subtract(_ArithmeticMerge):
    keras_class = "Subtract"
    examples = (Example("Subtract()", ((4, 3), (4, 3))),)
    formula = "x₁ − x₂"
    exact_count = 2

    def combine(self, inputs: Arrays) -> "ndarray":
        return inputs[0] - inputs[1]


@register
class Average(_ArithmeticMerge):
    keras_class = "Average"
    examples = (Example("Average()", ((4, 3), (4, 3))),)
    formula = "(x₁ + x₂ + …) / n"

    def combine(self, inputs: Arrays) -> "ndarray":
        return Add.combine(self, inputs) / len(inputs)


def _expanded(mask: "ndarray", like: "ndarray") -> "ndarray":
    np = numpy_module()
    return np.broadcast_to(np.expand_dims(mask, -1), like.shape)


@register
class Multiply(Merge):
    keras_class = "Multiply"
    examples = (Example("Multiply()", ((4, 3), (4, 3))),)
    formula = "x₁ ⊙ x₂ ⊙ …"

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        # Keras: masked-out values count as 1 in the product, and the result is 0 where no input
        # is unmasked (only when every input has a mask).
        np = numpy_module()
        inputs = _aligned([self.floating(x) for x in inputs])
        masks = list(masks) + [None] * (len(inputs) - len(masks))
        every = all(mask is not None for mask in masks)
        output, output_mask = None, None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = _expanded(mask, x)
                x = np.where(mask, x, np.asarray(1, x.dtype))
                if every:
                    output_mask = mask if output_mask is None else np.logical_or(output_mask, mask)
            output = x if output is None else output * x
        if every:
            output = np.where(output_mask, output, np.asarray(0, output.dtype))
            return [output], [np.any(output_mask, axis=-1)]
        return [output], [None]


class _ExtremumMerge(Merge):
    """Maximum and Minimum: Keras's _apply_merge_op_and_or_mask."""

    def operation(self, a: "ndarray", b: "ndarray") -> "ndarray":
        raise NotImplementedError

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        np = numpy_module()
        inputs = _aligned([self.floating(x) for x in inputs])
        masks = list(masks) + [None] * (len(inputs) - len(masks))
        output, output_mask = None, None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = _expanded(mask, x)
            if output is None:
                output, output_mask = x, mask
                continue
            if mask is not None:
                x = np.where(mask, x, output)
            if output_mask is not None:
                output = np.where(output_mask, output, x)
            output_mask = np.logical_or(output_mask, mask) if mask is not None and output_mask is not None \
                else None
            output = self.operation(output, x)
        return [output], [_or_masks(masks)]


@register
class Maximum(_ExtremumMerge):
    keras_class = "Maximum"
    examples = (Example("Maximum()", ((4, 3), (4, 3))),)
    formula = "max(x₁, x₂, …)"

    def operation(self, a: "ndarray", b: "ndarray") -> "ndarray":
        return numpy_module().maximum(a, b)


@register
class Minimum(_ExtremumMerge):
    keras_class = "Minimum"
    examples = (Example("Minimum()", ((4, 3), (4, 3))),)
    formula = "min(x₁, x₂, …)"

    def operation(self, a: "ndarray", b: "ndarray") -> "ndarray":
        return numpy_module().minimum(a, b)


@register
class Concatenate(Merge):
    """Joins tensors along ``axis``; every other axis must match (None matches anything)."""

    keras_class = "Concatenate"
    examples = (Example("Concatenate()", ((4, 3), (4, 5))),)
    displayed_arguments = ("axis",)
    arguments = (Arg("axis", integer, -1),)

    def check_count(self, inputs: Sequence[TensorSpec], as_list: bool) -> None:
        if not as_list and len(inputs) == 1:
            raise Problem(
                "H002", "A `Concatenate` layer should be called on a list of at least 1 input. "
                        f"Received: input_shape={format_shape(inputs[0].shape)}",
                f"Give `{self.name}` a list, e.g. `inputs: [a, b]`.")

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        axis = self["axis"]
        shapes = [list(tensor.shape) for tensor in inputs]
        ranks = [len(shape) for shape in shapes]
        if not all(-rank <= axis < rank for rank in ranks):
            if len(set(ranks)) > 1:
                raise self._ranks_differ(inputs, ranks)
            # Keras builds the layer and fails with an IndexError when it is called.
            raise Problem(
                "H004", f"`axis` {axis} is outside inputs of rank {ranks[0]} (batch axis included): "
                        f"{_shapes_text(inputs)}. Keras fails with an IndexError.",
                f"Use an axis from {-ranks[0]} to {ranks[0] - 1}; -1 (the default) joins the features.",
                argument="axis")
        reduced = []
        for shape in shapes:
            rest = list(shape)
            # Keras deletes the concatenation axis by its (possibly negative) index.
            if len(rest) > axis:
                del rest[axis]
            reduced.append(tuple(rest))
        if len(set(reduced)) != 1:
            error = Problem(
                "H004", "A `Concatenate` layer requires inputs with matching shapes except for the "
                        f"concatenation axis. Received: input_shape={_shapes_text(inputs)}",
                f"Every axis but axis {axis} must have the same size; reshape or pool the inputs to match, "
                "or concatenate along another axis.", argument="axis")
            if len(set(ranks)) != 1:
                raise self._ranks_differ(inputs, ranks)
            for position in range(len(reduced[0])):
                if len({shape[position] for shape in reduced if shape[position] is not None}) > 1:
                    raise error
        output = list(shapes[0])
        for shape in shapes[1:]:
            if output[axis] is None or shape[axis] is None:
                output[axis] = None
                break
            output[axis] += shape[axis]
        return [tuple(output)]

    def _ranks_differ(self, inputs: Sequence[TensorSpec], ranks: List[int]) -> Problem:
        ranks_text = ", ".join(str(rank) for rank in ranks[:-1]) + f" and {ranks[-1]}"
        return Problem(
            "H004", "A `Concatenate` layer requires inputs with matching shapes except for the concatenation "
                    f"axis. Received: input_shape={_shapes_text(inputs)}. The inputs have different ranks: "
                    f"{ranks_text} (batch axis included).",
            "Give every input the same rank: turn a vector into a sequence with RepeatVector (or Reshape), "
            "or a sequence into a vector with GlobalAveragePooling1D or Flatten.", argument="axis")

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        # Keras fills a missing mask with ones, so any masked input masks the result.
        return [any(tensor.masked for tensor in inputs)] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        np = numpy_module()
        dtype = np.result_type(*[self.floating(x) for x in inputs])
        output = np.concatenate([x.astype(dtype, copy=False) for x in inputs], axis=self["axis"])
        masks = list(masks) + [None] * (len(inputs) - len(masks))
        if all(mask is None for mask in masks):
            return [output], [None]
        parts = []
        for x, mask in zip(inputs, masks):
            if mask is None:
                parts.append(np.ones(x.shape, dtype=bool))
            elif mask.ndim < x.ndim:
                parts.append(_expanded(mask, x))
            else:
                parts.append(mask)
        return [output], [np.any(np.concatenate(parts, axis=self["axis"]), axis=-1)]

    def keras_masks(self, inputs, masks, count: int, graph) -> list:
        """Keras's Concatenate.compute_mask: unmasked inputs get a mask of ones, masks of a lower rank
        are expanded, the masks are concatenated along the axis, then reduced with any()."""
        if all(mask is None for mask in masks):
            return [None] * count
        parts = []
        for key, mask in zip(inputs, masks):
            shape = graph.shape_of(key)
            if mask is None:
                parts.append(graph.operation("OnesLike", shape, [key]))
            elif len(graph.shape_of(mask)) < len(shape):
                expanded = graph.operation("ExpandDims", tuple(graph.shape_of(mask)) + (1,), [mask])
                zeros = graph.operation("ZerosLike", shape, [key])
                parts.append(graph.operation("LogicalOr", shape, [expanded, zeros]))
            else:
                parts.append(mask)
        axis = self["axis"]
        shapes = [list(graph.shape_of(part)) for part in parts]
        joined = list(shapes[0])
        joined[axis] = None if any(shape[axis] is None for shape in shapes) else sum(s[axis] for s in shapes)
        concatenated = graph.operation("Concatenate", tuple(joined), parts)
        return [graph.operation("Any", tuple(joined[:-1]), [concatenated])] * count

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        axis = self["axis"]
        return one_block("once per sample", [Equation("y", f"[x₁ ‖ x₂ ‖ …] along axis {axis}",
                                                      "every other axis must match")],
                         merge_symbols(inputs, outputs), legend_text="‖ = joined end to end",
                         words=["The inputs' values side by side: sizes along the axis add up. No weights."],
                         headline=f"Concatenate along axis {axis}")


def _dot_axes(name: str, value) -> object:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise Problem("S006", "Invalid format for argument `axes`: it should contain two elements. "
                                        f"Received: axes={list(value)}", "Write e.g. `axes: [2, 1]`.")
        return tuple(integer(name, item) for item in value)
    return integer(name, value)


@register
class Dot(Layer):
    """Dot product of two tensors along ``axes`` (one per tensor)."""

    keras_class = "Dot"
    examples = (Example("Dot(axes=2)", ((4, 3), (5, 3))),)
    displayed_arguments = ("axes", "normalize")
    takes_tensor_list = True
    supports_masking = True
    arguments = (Arg("axes", _dot_axes), Arg("normalize", boolean, False))

    def check_count(self, inputs: Sequence[TensorSpec], as_list: bool) -> None:
        if len(inputs) != 2:
            raise Problem(
                "H002", "A `Dot` layer should be called on a list of 2 inputs. "
                        f"Received: input_shape={_shapes_text(inputs)}", "List exactly two tensors in `inputs:`.")

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> Optional[MacCount]:
        # One product per output value and summed element: output elements × contracted size.
        first = inputs[0].shape
        contracted = first[self._axes(first, inputs[1].shape)[0]]
        if contracted is None:
            return None
        return MacCount(times(count_of(contracted, "contracted size")),
                        num_elements(outputs[0].shape[1:]), "output value")

    def _axes(self, first: Shape, second: Shape) -> List[int]:
        axes = self["axes"]
        if isinstance(axes, int):
            return [axes % len(first), axes % len(second)] if axes < 0 else [axes, axes]
        return list(axes)

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        first, second = list(inputs[0].shape), list(inputs[1].shape)
        axes = self._axes(tuple(first), tuple(second))
        for shape, axis in zip((first, second), axes):
            if not -len(shape) <= axis < len(shape):
                raise Problem("H004", f"Dot axis {axis} is out of range for input {format_shape(shape)}.",
                                   "Number axes from 1 (axis 0 is the batch).", argument="axes")
        # Keras compares the two sizes as they are: None differs from a known size.
        if first[axes[0]] != second[axes[1]]:
            raise Problem(
                "H004", f"Incompatible input shapes: axis values {first[axes[0]]} (at axis {axes[0]}) != "
                        f"{second[axes[1]]} (at axis {axes[1]}). Full input shapes: "
                        f"{format_shape(first)}, {format_shape(second)}",
                "The dot product sums over one axis of each tensor; those two axes must have the same "
                "known size.", argument="axes")
        first.pop(axes[0])
        second.pop(axes[1])
        second.pop(0)
        output = first + second
        if len(output) == 1:
            output.append(1)
        return [tuple(output)]

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        return [False] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """Keras's batch_dot: per sample, the sum over one axis of each input."""
        np = numpy_module()
        x, y = (self.floating(array) for array in inputs)
        first, second = self._axes(x.shape, y.shape)
        first, second = first % x.ndim, second % y.ndim
        if self["normalize"]:
            x, y = _l2_normalize(x, first), _l2_normalize(y, second)
        left = np.moveaxis(x, first, -1)   # (batch, ..., d)
        right = np.moveaxis(y, second, 1)  # (batch, d, ...)
        batch, depth = left.shape[0], left.shape[-1]
        product_ = left.reshape(batch, -1, depth) @ right.reshape(batch, depth, -1)
        output = product_.reshape((batch,) + left.shape[1:-1] + right.shape[2:])
        if output.ndim == 1:
            output = output.reshape(batch, 1)
        return [output], [None]

    def keras_masks(self, inputs, masks, count: int, graph) -> list:
        return [None] * count  # Keras's Dot computes no mask

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        axes = self["axes"]
        axes_text = (f"axis {axes} of each" if isinstance(axes, int)
                     else f"axis {axes[0]} of x₁ with axis {axes[1]} of x₂")
        note = "each input L2-normalised first: cosine similarity" if self["normalize"] else ""
        return one_block("once per sample", [Equation("y", f"Σ x₁ · x₂ over {axes_text}", note)],
                         merge_symbols(inputs, outputs),
                         words=["A batch of dot products: the summed axes disappear, the others remain. "
                                "No weights."],
                         headline="Dot product")


def _l2_normalize(x: "ndarray", axis: int) -> "ndarray":
    """Keras's ops.normalize(order=2): x · min(1/sqrt(Σx²), 1/epsilon)."""
    np = numpy_module()
    square_sum = np.sum(np.square(x), axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):
        inverse = 1.0 / np.sqrt(square_sum)
    return x * np.minimum(inverse, np.asarray(1.0 / 1e-7, dtype=x.dtype))
