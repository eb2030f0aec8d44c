"""Conv1D and the 1-D pooling layers (channels_last: (batch, steps, channels))."""

from __future__ import annotations

from typing import List, Optional, Sequence

from ..arithmetic import number as count_of, times
from ..shapes import Dim, Shape, format_shape
from .arguments import Arg, anything, activation, boolean, choice, int_tuple, optional, positive_int
from .base import NO_MACS, Layer, MacCount, Rank, ShapeProblem, TensorSpec, Weight, register

DATA_FORMAT = choice("channels_last", "channels_first", None, ignore_case=True)


def _channels_first(layer: Layer) -> bool:
    return layer["data_format"] == "channels_first"


def conv_length(length: Dim, kernel: int, stride: int, dilation: int, padding: str) -> Dim:
    """Output steps of a 1-D convolution (Keras's compute_conv_output_shape)."""
    if length is None:
        return None
    if padding == "valid":
        return (length - dilation * (kernel - 1) - 1) // stride + 1
    return (length - 1) // stride + 1  # same and causal


def pool_length(length: Dim, pool: int, stride: int, padding: str) -> Dim:
    if length is None:
        return None
    if padding == "valid":
        return (length - pool) // stride + 1
    return (length - 1) // stride + 1


@register
class Conv1D(Layer):
    keras_class = "Conv1D"
    input_rank = Rank(min_ndim=3)
    arguments = (
        Arg("filters", positive_int),
        Arg("kernel_size", int_tuple(1)),
        Arg("strides", int_tuple(1), (1,)),
        Arg("padding", choice("valid", "same", "causal", ignore_case=True), "valid"),
        Arg("data_format", DATA_FORMAT, None),
        Arg("dilation_rate", int_tuple(1), (1,)),
        Arg("groups", positive_int, 1),
        Arg("activation", activation, None),
        Arg("use_bias", boolean, True),
        Arg("kernel_initializer", anything, "glorot_uniform"),
        Arg("bias_initializer", anything, "zeros"),
        Arg("kernel_regularizer", anything, None),
        Arg("bias_regularizer", anything, None),
        Arg("activity_regularizer", anything, None),
        Arg("kernel_constraint", anything, None),
        Arg("bias_constraint", anything, None),
    )

    def check_config(self) -> None:
        if self["filters"] % self["groups"] != 0:
            raise ShapeProblem("S012", "The number of filters must be evenly divisible by the number of "
                                       f"groups. Received: groups={self['groups']}, filters={self['filters']}.",
                               "Choose filters as a multiple of groups.", argument="groups")
        if self["strides"][0] > 1 and self["dilation_rate"][0] > 1:
            raise ShapeProblem("S012", "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                                       f"Received: strides={self['strides']} and "
                                       f"dilation_rate={self['dilation_rate']}",
                               "Use strides 1 with dilation, or dilation 1 with strides.",
                               argument="strides")

    def _channels(self, shape: Shape) -> Dim:
        return shape[1] if _channels_first(self) else shape[-1]

    def _check_rank(self, shape: Shape) -> None:
        if len(shape) != 3:
            kernel = self["kernel_size"] + (self._channels(shape), self["filters"])
            raise ShapeProblem(
                "H001", "Kernel shape must have the same length as input, but received kernel of shape "
                        f"{kernel} and input of shape {format_shape(shape)}.",
                "Conv1D takes (batch, steps, channels); wrap it in TimeDistributed for more axes.")

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        shape = inputs[0].shape
        self._check_rank(shape)
        channels = self._channels(shape)
        if channels is not None and channels % self["groups"] != 0:
            raise ShapeProblem(
                "H004", "The number of input channels must be evenly divisible by the number of groups. "
                        f"Received groups={self['groups']}, but the input has {channels} channels "
                        f"(full input shape is {format_shape(shape)}).",
                "Choose groups that divides the channel count.", argument="groups")
        per_group = None if channels is None else channels // self["groups"]
        weights = [self.weight("kernel", self["kernel_size"] + (per_group, self["filters"]))]
        if self["use_bias"]:
            weights.append(self.weight("bias", (self["filters"],)))
        return weights

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        # Each output step: kernel_size × (channels / groups) products for every filter.
        output = outputs[0].shape
        kernel = self.weight_shapes(inputs)[0].shape
        per_step = times(count_of(kernel[0], "kernel_size"), count_of(kernel[1], "channels per group"),
                         count_of(kernel[2], "filters"))
        return MacCount(per_step, output[2] if _channels_first(self) else output[1])

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        self._check_rank(shape)
        steps = shape[2] if _channels_first(self) else shape[1]
        length = conv_length(steps, self["kernel_size"][0], self["strides"][0], self["dilation_rate"][0],
                             self["padding"])
        if length is not None and length <= 0:
            raise ShapeProblem(
                "H004", "Computed output size would be zero or negative. Received "
                        f"`inputs shape={format_shape(shape)}`, `kernel_size={self['kernel_size'][0]}`, "
                        f"`dilation_rate={self['dilation_rate'][0]}`, `strides={self['strides'][0]}`, "
                        f"`padding={self['padding']}`.",
                f"The kernel spans {self['dilation_rate'][0] * (self['kernel_size'][0] - 1) + 1} steps "
                f"but the input has {steps}: use padding 'same' or 'causal', or a smaller kernel_size.",
                argument="kernel_size")
        if _channels_first(self):
            return [(shape[0], self["filters"], length)]
        return [(shape[0], length, self["filters"])]


class _Pooling1D(Layer):
    input_rank = Rank(ndim=3)

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # maxima and means, no weights

    def check_config(self) -> None:
        if self.config["strides"] is None:
            self.config["strides"] = self.config["pool_size"]

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        first = _channels_first(self)
        steps = shape[2] if first else shape[1]
        pool, stride = self["pool_size"][0], self["strides"][0]
        length = pool_length(steps, pool, stride, self["padding"])
        if length is not None and length <= 0:
            raise ShapeProblem(
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


_POOL_TAIL = (
    Arg("strides", optional(int_tuple(1, minimum=1)), None),
    Arg("padding", choice("valid", "same", ignore_case=True), "valid"),
    Arg("data_format", DATA_FORMAT, None),
)


@register
class MaxPooling1D(_Pooling1D):
    keras_class = "MaxPooling1D"
    arguments = (Arg("pool_size", int_tuple(1), (2,)),) + _POOL_TAIL


@register
class AveragePooling1D(_Pooling1D):
    keras_class = "AveragePooling1D"
    arguments = (Arg("pool_size", int_tuple(1)),) + _POOL_TAIL


class _GlobalPooling1D(Layer):
    input_rank = Rank(ndim=3)
    arguments = (Arg("data_format", DATA_FORMAT, None), Arg("keepdims", boolean, False))

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        if _channels_first(self):
            return [(shape[0], shape[1], 1) if self["keepdims"] else (shape[0], shape[1])]
        return [(shape[0], 1, shape[2]) if self["keepdims"] else (shape[0], shape[2])]

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        return [False] * count


@register
class GlobalAveragePooling1D(_GlobalPooling1D):
    """Averages over time; with a mask, only over the unmasked steps (as Keras)."""

    keras_class = "GlobalAveragePooling1D"
    supports_masking = True


@register
class GlobalMaxPooling1D(_GlobalPooling1D):
    keras_class = "GlobalMaxPooling1D"

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count
