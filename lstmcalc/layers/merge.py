"""Merge layers (keras/src/layers/merging) and the attention layers: several tensors in, one out."""

from __future__ import annotations

from typing import List, Optional, Sequence

from ..arithmetic import number as count_of, plus, times
from ..shapes import Dim, Shape, format_shape, num_elements
from .arguments import Arg, ArgumentError, anything, boolean, choice, fraction, integer
from .base import NO_MACS, Layer, MacCount, ShapeProblem, TensorSpec, Weight, register


def _shapes_text(inputs: Sequence[TensorSpec]) -> str:
    return "[" + ", ".join(format_shape(tensor.shape) for tensor in inputs) + "]"


class Merge(Layer):
    """Base of the element-wise merges: Keras broadcasts the shapes after the batch axis,
    aligned on the right, where a dimension of 1 stretches."""

    takes_tensor_list = True
    supports_masking = True
    # Subtract takes exactly two tensors; the others any number (Keras accepts a list of one).
    exact_count: Optional[int] = None

    def check_count(self, inputs: Sequence[TensorSpec], as_list: bool) -> None:
        if not as_list:
            raise ShapeProblem(
                "H002", f"A merge layer should be called on a list of inputs. Received: "
                        f"input_shape={format_shape(inputs[0].shape)} (not a list of shapes)",
                f"Give `{self.name}` a list, e.g. `inputs: [a, b]`.")
        if self.exact_count is not None and len(inputs) != self.exact_count:
            raise ShapeProblem(
                "H002", f"A `{self.keras_class}` layer should be called on exactly {self.exact_count} inputs. "
                        f"Received: input_shape={_shapes_text(inputs)}",
                f"List exactly {self.exact_count} tensors in `inputs:`.")

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # element-wise or a join: no products with a weight

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        batches = {tensor.shape[0] for tensor in inputs} - {None}
        if len(batches) > 1:
            raise ShapeProblem(
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
            raise ShapeProblem(
                "H004", f"Inputs have incompatible shapes. Received shapes {format_shape(first)} and "
                        f"{format_shape(second)}",
                "Element-wise merges need equal sizes after the batch axis (or 1, which stretches); "
                "use Concatenate to join features of different sizes.")
    return tuple(result)


@register
class Add(Merge):
    keras_class = "Add"


@register
class Subtract(Merge):
    keras_class = "Subtract"
    exact_count = 2


@register
class Multiply(Merge):
    keras_class = "Multiply"


@register
class Average(Merge):
    keras_class = "Average"


@register
class Maximum(Merge):
    keras_class = "Maximum"


@register
class Minimum(Merge):
    keras_class = "Minimum"


@register
class Concatenate(Merge):
    """Joins tensors along ``axis``; every other axis must match (None matches anything)."""

    keras_class = "Concatenate"
    arguments = (Arg("axis", integer, -1),)

    def check_count(self, inputs: Sequence[TensorSpec], as_list: bool) -> None:
        if not as_list:
            raise ShapeProblem(
                "H002", "A `Concatenate` layer should be called on a list of at least 1 input. "
                        f"Received: input_shape={format_shape(inputs[0].shape)}",
                f"Give `{self.name}` a list, e.g. `inputs: [a, b]`.")

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        axis = self["axis"]
        shapes = [list(tensor.shape) for tensor in inputs]
        reduced = []
        for shape in shapes:
            rest = list(shape)
            # Keras deletes the concatenation axis by its (possibly negative) index.
            if len(rest) > axis:
                del rest[axis]
            reduced.append(tuple(rest))
        if len(set(reduced)) != 1:
            error = ShapeProblem(
                "H004", "A `Concatenate` layer requires inputs with matching shapes except for the "
                        f"concatenation axis. Received: input_shape={_shapes_text(inputs)}",
                f"Every axis but axis {axis} must have the same size; reshape or pool the inputs to match, "
                "or concatenate along another axis.", argument="axis")
            if len({len(shape) for shape in reduced}) != 1:
                raise error
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

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        # Keras fills a missing mask with ones, so any masked input masks the result.
        return [any(tensor.masked for tensor in inputs)] * count


def _dot_axes(name: str, value) -> object:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ArgumentError("S006", "Invalid format for argument `axes`: it should contain two elements. "
                                        f"Received: axes={list(value)}", "Write e.g. `axes: [2, 1]`.")
        return tuple(integer(name, item) for item in value)
    return integer(name, value)


@register
class Dot(Layer):
    """Dot product of two tensors along ``axes`` (one per tensor)."""

    keras_class = "Dot"
    takes_tensor_list = True
    supports_masking = True
    arguments = (Arg("axes", _dot_axes), Arg("normalize", boolean, False))

    def check_count(self, inputs: Sequence[TensorSpec], as_list: bool) -> None:
        if not as_list or len(inputs) != 2:
            raise ShapeProblem(
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
                raise ShapeProblem("H004", f"Dot axis {axis} is out of range for input {format_shape(shape)}.",
                                   "Number axes from 1 (axis 0 is the batch).", argument="axes")
        # Keras compares the two sizes as they are: None differs from a known size.
        if first[axes[0]] != second[axes[1]]:
            raise ShapeProblem(
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


class _AttentionBase(Layer):
    """[query, value] or [query, value, key]; the output is (…query steps, value features)."""

    takes_tensor_list = True
    supports_masking = True

    def check_count(self, inputs: Sequence[TensorSpec], as_list: bool) -> None:
        if not as_list:
            raise ShapeProblem(
                "H002", f"{self.keras_class} layer must be called on a list of inputs, namely [query, value] "
                        f"or [query, value, key]. Received: inputs={format_shape(inputs[0].shape)}.",
                "Write `inputs: [query, value]`.")
        if not 2 <= len(inputs) <= 3:
            raise ShapeProblem(
                "H002", f"{self.keras_class} layer accepts inputs list of length 2 or 3, namely "
                        f"[query, value] or [query, value, key]. Received length: {len(inputs)}.",
                "Write `inputs: [query, value]` or `[query, value, key]`.")

    @staticmethod
    def _parts(inputs: Sequence[TensorSpec]):
        query, value = inputs[0].shape, inputs[1].shape
        key = inputs[2].shape if len(inputs) > 2 else value
        return query, value, key

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        query, value, key = self._parts(inputs)
        if query[-1] is not None and key[-1] is not None and query[-1] != key[-1]:
            # Keras builds this but the score q·kᵀ fails when the model runs.
            raise ShapeProblem(
                "H004", f"{self.keras_class}: the query's last axis ({query[-1]}) and the key's "
                        f"({key[-1]}) must be equal to score query against key; received query "
                        f"{format_shape(query)} and key {format_shape(key)}. Keras builds this model but "
                        "it fails when it runs.",
                "Project query and key to the same size first (e.g. a Dense layer), or pass a key of "
                "the query's size as the third input.")
        return [tuple(query[:-1]) + (value[-1],)]

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        return [inputs[0].masked] * count

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> Optional[MacCount]:
        # Per query step: scores against every key step (Tk × d), then the weighted sum of the
        # values (Tk × dv). AdditiveAttention's element-wise tanh score is not a product with a
        # weight and is not counted (docs/compute.md).
        query, value, key = self._parts(inputs)
        key_steps = key[-2] if len(key) > 2 else 1
        value_steps = value[-2] if len(value) > 2 else 1
        if None in (key_steps, key[-1], value_steps, value[-1]):
            return None  # the work per query step depends on an unknown size
        per_query = plus(times(count_of(key_steps, "key steps"), count_of(key[-1], "key features")),
                         times(count_of(value_steps, "value steps"), count_of(value[-1], "value features")))
        return MacCount(per_query, num_elements(query[1:-1]), "query step")


@register
class Attention(_AttentionBase):
    """Dot-product (Luong) attention."""

    keras_class = "Attention"
    arguments = (
        Arg("use_scale", boolean, False),
        Arg("score_mode", choice("dot", "concat"), "dot"),
        Arg("dropout", fraction, 0.0),
        Arg("seed", anything, None),
    )

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        weights = []
        if self["use_scale"]:
            weights.append(self.weight("scale", ()))
        if self["score_mode"] == "concat":
            weights.append(self.weight("concat_score_weight", ()))
        return weights


@register
class AdditiveAttention(_AttentionBase):
    """Additive (Bahdanau) attention; ``use_scale`` learns one scale per query feature."""

    keras_class = "AdditiveAttention"
    arguments = (
        Arg("use_scale", boolean, True),
        Arg("dropout", fraction, 0.0),
    )

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        if self["use_scale"]:
            return [self.weight("scale", (inputs[0].shape[-1],))]
        return []
