"""Conv1D and the 1-D pooling layers (channels_last: (batch, steps, channels))."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from ..arithmetic import number as count_of, times
from ..shapes import Dim, Shape, format_shape, product
from .activations import apply as apply_activation
from .arguments import Arg, anything, activation, boolean, choice, int_tuple, optional, positive_int
from .base import (NO_MACS, Arrays, Forward, Layer, MacCount, Masks, Rank, ShapeProblem, TensorSpec, Weight,
                   WeightArrays, numpy_module, register)

if TYPE_CHECKING:
    from numpy import ndarray

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


def same_padding(length: int, window: int, stride: int) -> Tuple[int, int]:
    """TensorFlow's SAME padding (left, right): the output has ceil(length / stride) steps and
    the odd padding step goes to the right."""
    steps = -(-length // stride)
    total = max((steps - 1) * stride + window - length, 0)
    return total // 2, total - total // 2


def window_taps(length: int, window: int, stride: int, dilation: int, padding: Tuple[int, int]):
    """Indices into the unpadded axis that each output step reads, (steps, window), and which of
    them fall inside it (the others are padding)."""
    np = numpy_module()
    span = dilation * (window - 1) + 1
    steps = (length + padding[0] + padding[1] - span) // stride + 1
    taps = (np.arange(steps)[:, None] * stride + np.arange(window)[None, :] * dilation) - padding[0]
    inside = (taps >= 0) & (taps < length)
    return np.clip(taps, 0, max(length - 1, 0)), inside


def to_channels_last(layer: Layer, x: "ndarray") -> "ndarray":
    return x.transpose(0, 2, 1) if _channels_first(layer) else x


def pool_length(length: Dim, pool: int, stride: int, padding: str) -> Dim:
    if length is None:
        return None
    if padding == "valid":
        return (length - pool) // stride + 1
    return (length - 1) // stride + 1


@register
class Conv1D(Layer):
    keras_class = "Conv1D"
    displayed_arguments = ("filters", "kernel_size", "strides", "padding", "activation")
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

    def forward_scratch(self, inputs: Sequence[TensorSpec]) -> int:
        (output,) = self.output_shapes(inputs)
        channels = self._channels(inputs[0].shape)
        # The input cast and its padded copy, and every output step's window (steps × kernel × channels).
        return 2 * product(inputs[0].shape) + product(output) // self["filters"] * self["kernel_size"][0] * channels  # type: ignore[arg-type,operator]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """Keras's Conv1D.call: causal pads dilation·(kernel − 1) steps on the left and convolves
        'valid'; 'same' pads as TensorFlow. Groups split channels and filters into equal blocks."""
        np = numpy_module()
        x = to_channels_last(self, self.floating(inputs[0]))
        batch, length, channels = x.shape
        window, stride, dilation = self["kernel_size"][0], self["strides"][0], self["dilation_rate"][0]
        if self["padding"] == "causal":
            padding = (dilation * (window - 1), 0)
        elif self["padding"] == "same":
            padding = same_padding(length, dilation * (window - 1) + 1, stride)
        else:
            padding = (0, 0)
        taps, inside = window_taps(length, window, stride, dilation, padding)
        patches = np.where(inside[None, :, :, None], x[:, taps, :], 0)  # (batch, steps, window, channels)
        steps = taps.shape[0]
        kernel = self.floating(weights["kernel"])  # (window, channels / groups, filters)
        groups, filters = self["groups"], self["filters"]
        if groups == 1:
            y = (patches.reshape(batch * steps, window * channels) @ kernel.reshape(window * channels, filters))
        else:
            grouped = patches.reshape(batch, steps, window, groups, channels // groups)
            blocks = kernel.reshape(window, channels // groups, groups, filters // groups)
            y = np.einsum("bskgc,kcgf->bsgf", grouped, blocks, optimize=True)
        y = y.reshape(batch, steps, filters).astype(x.dtype, copy=False)
        if self["use_bias"]:
            y += self.floating(weights["bias"])
        y = apply_activation(self["activation"], y)
        return [to_channels_last(self, y)], [None]


class _Pooling1D(Layer):
    displayed_arguments = ("pool_size", "strides", "padding")
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


_POOL_TAIL = (
    Arg("strides", optional(int_tuple(1, minimum=1)), None),
    Arg("padding", choice("valid", "same", ignore_case=True), "valid"),
    Arg("data_format", DATA_FORMAT, None),
)


@register
class MaxPooling1D(_Pooling1D):
    keras_class = "MaxPooling1D"
    arguments = (Arg("pool_size", int_tuple(1), (2,)),) + _POOL_TAIL

    def reduce(self, windows: "ndarray", inside: "ndarray") -> "ndarray":
        np = numpy_module()
        return np.where(inside, windows, -np.inf).max(axis=2)


@register
class AveragePooling1D(_Pooling1D):
    keras_class = "AveragePooling1D"
    arguments = (Arg("pool_size", int_tuple(1)),) + _POOL_TAIL

    def reduce(self, windows: "ndarray", inside: "ndarray") -> "ndarray":
        # TensorFlow divides by the steps inside the input, not by pool_size.
        np = numpy_module()
        return np.where(inside, windows, 0).sum(axis=2) / inside.sum(axis=2)


class _GlobalPooling1D(Layer):
    displayed_arguments = ("keepdims",)
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

    def reduce(self, x: "ndarray", mask: Optional["ndarray"], axis: int) -> "ndarray":
        raise NotImplementedError

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        axis = 2 if _channels_first(self) else 1
        mask = masks[0] if masks and self.supports_masking else None
        return [self.reduce(inputs[0], mask, axis)], [None]


@register
class GlobalAveragePooling1D(_GlobalPooling1D):
    """Averages over time; with a mask, only over the unmasked steps (as Keras)."""

    keras_class = "GlobalAveragePooling1D"
    supports_masking = True

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

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count

    def reduce(self, x: "ndarray", mask: Optional["ndarray"], axis: int) -> "ndarray":
        return x.max(axis=axis, keepdims=self["keepdims"])
