"""Pooling over steps: MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, List, Optional, Sequence

from ..shapes import Shape, format_shape
from .arguments import Arg, boolean, choice, int_tuple, optional
from .base import (Arrays, Example, Forward, Layer, MacCount, Masks, NO_MACS, Problem, Rank, TensorSpec, WeightArrays,
                   numpy_module, register)
from .explanation import Context, Equation, Math, io_symbols, one_block
from .conv import DATA_FORMAT, channels_first, pool_length, same_padding, to_channels_last, window_taps
from .porting import Entry, port_module

if TYPE_CHECKING:
    from .porting import PortPlan
    from numpy import ndarray


class _Pooling1D(Layer):
    function: ClassVar[str] = ""  # max or mean, as the equations write it
    sequence_axes = ("batch", "timesteps", "features")
    input_rank = Rank(ndim=3)

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # maxima and means, no weights

    def check_config(self) -> None:
        if self.config["strides"] is None:
            self.config["strides"] = self.config["pool_size"]

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        first = channels_first(self)
        steps = shape[2] if first else shape[1]
        pool, stride = self["pool_size"][0], self["strides"][0]
        length = pool_length(steps, pool, stride, self["padding"])
        if length is not None and length <= 0:
            raise Problem(
                "H004", "Computed output size would be zero or negative. Received: "
                        f"`inputs.shape={format_shape(shape)}`, `pool_size={pool}`, `strides={stride}`, "
                        f"`padding={self['padding']}`.",
                f"The pool spans {pool} steps but the input has {steps}: use padding 'same' or a "
                "smaller pool_size.", argument="pool_size")
        if first:
            return [(shape[0], shape[1], length)]
        return [(shape[0], length, shape[2])]

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count

    def reduce(self, windows: "ndarray", inside: "ndarray") -> "ndarray":
        """Pool (batch, steps, pool, channels) windows; ``inside`` is False on padding."""
        raise NotImplementedError

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """TensorFlow's pooling: 'same' pads as in same_padding and ignores the padding."""
        x = to_channels_last(self, inputs[0])
        length = x.shape[1]
        pool, stride = self["pool_size"][0], self["strides"][0]
        padding = same_padding(length, pool, stride) if self["padding"] == "same" else (0, 0)
        taps, inside = window_taps(length, pool, stride, 1, padding)
        pooled = self.reduce(x[:, taps, :], inside[None, :, :, None]).astype(x.dtype, copy=False)
        return [to_channels_last(self, pooled)], [None]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        pool, stride = self["pool_size"][0], self["strides"][0]
        return one_block("each output step", [Equation(
            "y_t", f"{self.function}(x_{{{stride}·t}}, …, x_{{{stride}·t + {pool - 1}}})",
            f"padding: {self['padding']}")], io_symbols(inputs, outputs),
            headline=f"{self.keras_class} over {pool} steps")


_POOL_TAIL = (
    Arg("strides", optional(int_tuple(1, minimum=1)), None),
    Arg("padding", choice("valid", "same", ignore_case=True), "valid"),
    Arg("data_format", DATA_FORMAT, None),
)


@register
class MaxPooling1D(_Pooling1D):
    keras_class = "MaxPooling1D"
    pytorch_module = "MaxPool1d"
    examples = (Example("MaxPooling1D(2)", ((9, 2),)),)
    function = "max"
    arguments = (Arg("pool_size", int_tuple(1), (2,)),) + _POOL_TAIL

    def reduce(self, windows: "ndarray", inside: "ndarray") -> "ndarray":
        np = numpy_module()
        return np.where(inside, windows, -np.inf).max(axis=2)

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """nn.MaxPool1d on (batch, channels, length)."""
        if self["padding"] != "valid" or channels_first(self):
            super().port_to(framework, inputs, plan)
        pool, stride = self["pool_size"][0], self["strides"][0]
        port_module(self, plan, Entry("MaxPool1d", self.name, {"kernel_size": pool, **({} if stride == pool else
                                                                                       {"stride": stride})}),
                    layout="channels")


@register
class AveragePooling1D(_Pooling1D):
    keras_class = "AveragePooling1D"
    examples = (Example("AveragePooling1D(3, strides=1, padding='same')", ((9, 2),)),)
    function = "mean"
    arguments = (Arg("pool_size", int_tuple(1)),) + _POOL_TAIL

    def reduce(self, windows: "ndarray", inside: "ndarray") -> "ndarray":
        # TensorFlow divides by the steps inside the input, not by pool_size.
        np = numpy_module()
        return np.where(inside, windows, 0).sum(axis=2) / inside.sum(axis=2)


class _GlobalPooling1D(Layer):
    function: ClassVar[str] = ""
    sequence_axes = ("batch", "timesteps", "features")
    input_rank = Rank(ndim=3)
    arguments = (Arg("data_format", DATA_FORMAT, None), Arg("keepdims", boolean, False))

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        if channels_first(self):
            return [(shape[0], shape[1], 1) if self["keepdims"] else (shape[0], shape[1])]
        return [(shape[0], 1, shape[2]) if self["keepdims"] else (shape[0], shape[2])]

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        return [False] * count

    def keras_masks(self, inputs, masks, count: int, graph) -> list:
        return [None] * count  # the steps are gone, and their mask with them

    def reduce(self, x: "ndarray", mask: Optional["ndarray"], axis: int) -> "ndarray":
        raise NotImplementedError

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        axis = 2 if channels_first(self) else 1
        mask = masks[0] if masks and self.supports_masking else None
        return [self.reduce(inputs[0], mask, axis)], [None]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        note = "over the steps not masked" if self.consumes_mask else "over all steps"
        return one_block("once per sample", [Equation("y", f"{self.function}_t x_t", note)],
                         io_symbols(inputs, outputs), headline=f"{self.keras_class}: one vector per sample")


@register
class GlobalAveragePooling1D(_GlobalPooling1D):
    """Averages over time; with a mask, only over the unmasked steps (as Keras)."""

    keras_class = "GlobalAveragePooling1D"
    examples = (Example("GlobalAveragePooling1D()", ((9, 2),)),)
    function = "mean"
    supports_masking = True
    consumes_mask = True  # it averages over the steps the mask keeps

    def reduce(self, x: "ndarray", mask: Optional["ndarray"], axis: int) -> "ndarray":
        np = numpy_module()
        x = self.floating(x)
        if mask is None:
            return x.mean(axis=axis, keepdims=self["keepdims"])
        # Keras: the sum over unmasked steps over their count (NaN for a fully masked sample).
        expanded = np.expand_dims(mask.astype(bool), 2 if axis == 1 else 1)
        total = np.where(expanded, x, 0).sum(axis=axis, keepdims=self["keepdims"])
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / expanded.astype(x.dtype).sum(axis=axis, keepdims=self["keepdims"])


@register
class GlobalMaxPooling1D(_GlobalPooling1D):
    keras_class = "GlobalMaxPooling1D"
    examples = (Example("GlobalMaxPooling1D(keepdims=True)", ((9, 2),)),)
    function = "max"

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count

    def reduce(self, x: "ndarray", mask: Optional["ndarray"], axis: int) -> "ndarray":
        return x.max(axis=axis, keepdims=self["keepdims"])
