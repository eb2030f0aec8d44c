"""RepeatVector, Flatten, Reshape and Permute: the same values, rearranged."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Sequence

from ..diagnostics import Problem
from ..shapes import Shape, format_shape, num_elements, product
from .arguments import Arg, choice, described, int_list, positive_int
from .porting import Entry, port_module
from .base import (Arrays, Example, Forward, Layer, MacCount, Masks, NO_MACS, PassThrough, Rank, TensorSpec,
                   WeightArrays, numpy_module, register)
from .explanation import Context, Equation, Math, io_symbols, one_block, tensor_text

if TYPE_CHECKING:
    from .porting import PortPlan


def rearrangement_math(layer: Layer, rhs: str, inputs: Sequence[TensorSpec], outputs: Sequence[Shape]) -> Math:
    """The one equation of a layer that moves values without changing them."""
    return one_block("once per sample", [Equation("y", rhs, "the same values, rearranged")],
                     io_symbols(inputs, outputs), headline=layer.keras_class)


@register
class RepeatVector(Layer):
    """(batch, features) → (batch, n, features)."""

    keras_class = "RepeatVector"
    examples = (Example("RepeatVector(4)", ((3,),)),)
    input_rank = Rank(ndim=2)
    arguments = (Arg("n", positive_int),)

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        return [(shape[0], self["n"], shape[1])]

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        return [numpy_module().repeat(inputs[0][:, None, :], self["n"], axis=1)], [None]

    def repeats(self) -> int:
        return self["n"]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        n = self["n"]
        return one_block("each step", [Equation("y_t", "x", f"for t = 1, …, {n}: the same vector at every step")],
                         io_symbols(inputs, outputs),
                         words=[f"Turns one vector per sample into a sequence of {n} equal steps, e.g. to feed "
                                "a recurrent layer."],
                         headline=f"RepeatVector {n} times")


@register
class Flatten(PassThrough):
    """(batch, d1, d2, ...) → (batch, d1·d2·...); None when any of them is unknown."""

    keras_class = "Flatten"
    pytorch_module = "Flatten"
    examples = (Example("Flatten()", ((7, 3),)),)
    flattens = True
    input_rank = Rank(min_ndim=1)
    arguments = (Arg("data_format", choice("channels_last", "channels_first", None, ignore_case=True), None),)

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        rest = shape[1:]
        return [(shape[0], num_elements(rest) if rest else 1)]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = inputs[0]
        if self["data_format"] == "channels_first" and x.ndim > 1:
            x = x.transpose((0,) + tuple(range(2, x.ndim)) + (1,))  # to channels last, as Keras
        return [x.reshape(x.shape[0], -1)], [None]

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        if self["data_format"] == "channels_first" and len(inputs[0].shape) > 2:
            super().port_to(framework, inputs, plan)
        port_module(self, plan, Entry("Flatten", self.name))

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        return rearrangement_math(self, f"reshape(x, {tensor_text(outputs[0])})", inputs, outputs)


@described({"type": "array", "items": {"type": "integer", "minimum": -1}})
def _check_target_shape(name: str, value) -> tuple:
    dims = int_list(name, value)
    if any(dim < -1 for dim in dims) or list(dims).count(-1) > 1:
        raise Problem("S006", f"Each dimension in `{name}` must be a non-negative integer, or -1 "
                                    f"for a single unknown dimension. Received: {name}={tuple(dims)}.",
                            "Use at most one -1, for the dimension to infer.")
    return dims


@register
class Reshape(PassThrough):
    """Reshapes everything after the batch axis to ``target_shape`` (one -1 is inferred)."""

    keras_class = "Reshape"
    examples = (Example("Reshape((3, 7))", ((7, 3),)),
                Example("Reshape((-1, 1))", ((7, 3),)))
    arguments = (Arg("target_shape", _check_target_shape),)

    def warnings(self, inputs: Sequence[TensorSpec]) -> List[Problem]:
        rest = inputs[0].shape[1:]
        target = tuple(self["target_shape"])
        if None in rest and -1 not in target:
            known = product(dim for dim in rest if dim is not None)
            size = product(target)
            runs = f"only inputs with {size // known} there will run" if known and size % known == 0 \
                else "no input length will run"
            return [Problem(
                "H005", f"Reshape to {format_shape(target)} needs exactly {size} values per sample, but it "
                        f"receives {format_shape(inputs[0].shape)} whose size is unknown: Keras builds this, "
                        f"and {runs}.",
                "Give the input a fixed length, or use -1 in target_shape for the axis that varies.",
                argument="target_shape")]
        return []

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        target = tuple(self["target_shape"])
        rest = shape[1:]
        if None in rest:
            return [(shape[0],) + tuple(None if dim == -1 else dim for dim in target)]
        size = product(rest)  # type: ignore[arg-type]
        if -1 not in target:
            if size != product(target):
                raise Problem(
                    "H004", "The total size of the tensor must be unchanged. Received: "
                            f"input_shape={format_shape(rest)}, target_shape={format_shape(target)}",
                    f"The input has {size} values per sample and the target {product(target)}; "
                    "make the product of target_shape equal the input's, or use -1 for one dimension.",
                    argument="target_shape")
            return [(shape[0],) + target]
        known = product(dim for dim in target if dim != -1)
        if known == 0 or size % known != 0:
            raise Problem(
                "H004", "The total size of the tensor must be unchanged, however, the input size cannot "
                        "by divided by the specified dimensions in target_shape. Received: "
                        f"input_shape={format_shape(rest)}, target_shape={format_shape(target)}",
                f"{size} values per sample are not a multiple of {known}.", argument="target_shape")
        return [(shape[0],) + tuple(size // known if dim == -1 else dim for dim in target)]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = inputs[0]
        return [x.reshape((x.shape[0],) + tuple(self["target_shape"]))], [None]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        return rearrangement_math(self, f"reshape(x, {tensor_text(outputs[0])})", inputs, outputs)


@described({"type": "array", "items": {"type": "integer", "minimum": 1}, "uniqueItems": True})
def _check_permutation(name: str, value) -> tuple:
    dims = int_list(name, value)
    if sorted(dims) != list(range(1, len(dims) + 1)):
        raise Problem("S006", "Invalid permutation argument `dims` for Permute Layer. The set of "
                                    "indices in `dims` must be consecutive and start from 1. "
                                    f"Received dims={list(dims)}",
                            "Number the axes after the batch axis from 1, e.g. dims: [2, 1] swaps time "
                            "and features.")
    return dims


@register
class Permute(PassThrough):
    keras_class = "Permute"
    examples = (Example("Permute((2, 1))", ((7, 3),)),)
    arguments = (Arg("dims", _check_permutation),)

    def expected_rank(self):
        return Rank(ndim=len(self["dims"]) + 1)

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        return [(shape[0],) + tuple(shape[dim] for dim in self["dims"])]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        return [inputs[0].transpose((0,) + tuple(self["dims"]))], [None]

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """lstmcalc's Permute step, whose dims count the batch axis."""
        port_module(self, plan, Entry("Permute", self.name, {"dims": [0] + list(self["dims"])}))

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        axes = ", ".join(str(dim) for dim in self["dims"])
        return rearrangement_math(self, f"transpose(x, axes=(0, {axes}))", inputs, outputs)
