"""Conv1D and the 1-D pooling layers (channels_last: (batch, steps, channels))."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from ..arithmetic import number as count_of, times
from ..shapes import Dim, Shape, format_shape, product
from .activations import apply as apply_activation
from .arguments import Arg, anything, activation, boolean, choice, int_tuple, positive_int
from .explanation import (Context, Equation, Math, Symbol, applied, count_text, legend, one_block, tensor_text,
                          weight_text)
from .porting import Entry, activation_entry, port_module, refuse, with_bias
from .base import (Arrays, Example, Forward, Layer, MacCount, Masks, Problem, Rank, TensorSpec, Weight, WeightArrays,
                   numpy_module, register)

if TYPE_CHECKING:
    from .porting import PortPlan
    from numpy import ndarray

DATA_FORMAT = choice("channels_last", "channels_first", None, ignore_case=True)


def channels_first(layer: Layer) -> bool:
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
    return x.transpose(0, 2, 1) if channels_first(layer) else x


def pool_length(length: Dim, pool: int, stride: int, padding: str) -> Dim:
    if length is None:
        return None
    if padding == "valid":
        return (length - pool) // stride + 1
    return (length - 1) // stride + 1


@register
class Conv1D(Layer):
    keras_class = "Conv1D"
    pytorch_module = "Conv1d"
    examples = (Example("Conv1D(4, 3, padding='same')", ((9, 2),)),
                Example("Conv1D(6, 2, strides=2, groups=2)", ((9, 4),)))
    sequence_axes = ("batch", "timesteps", "features")
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
            raise Problem("S012", "The number of filters must be evenly divisible by the number of "
                                       f"groups. Received: groups={self['groups']}, filters={self['filters']}.",
                               "Choose filters as a multiple of groups.", argument="groups")
        if self["strides"][0] > 1 and self["dilation_rate"][0] > 1:
            raise Problem("S012", "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                                       f"Received: strides={self['strides']} and "
                                       f"dilation_rate={self['dilation_rate']}",
                               "Use strides 1 with dilation, or dilation 1 with strides.",
                               argument="strides")

    def _channels(self, shape: Shape) -> Dim:
        return shape[1] if channels_first(self) else shape[-1]

    def _check_rank(self, shape: Shape) -> None:
        if len(shape) != 3:
            kernel = self["kernel_size"] + (self._channels(shape), self["filters"])
            raise Problem(
                "H001", "Kernel shape must have the same length as input, but received kernel of shape "
                        f"{kernel} and input of shape {format_shape(shape)}.",
                "Conv1D takes (batch, steps, channels); wrap it in TimeDistributed for more axes.")

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        shape = inputs[0].shape
        self._check_rank(shape)
        channels = self._channels(shape)
        if channels is not None and channels % self["groups"] != 0:
            raise Problem(
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
        return MacCount(per_step, output[2] if channels_first(self) else output[1])

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        self._check_rank(shape)
        steps = shape[2] if channels_first(self) else shape[1]
        length = conv_length(steps, self["kernel_size"][0], self["strides"][0], self["dilation_rate"][0],
                             self["padding"])
        if length is not None and length <= 0:
            raise Problem(
                "H004", "Computed output size would be zero or negative. Received "
                        f"`inputs shape={format_shape(shape)}`, `kernel_size={self['kernel_size'][0]}`, "
                        f"`dilation_rate={self['dilation_rate'][0]}`, `strides={self['strides'][0]}`, "
                        f"`padding={self['padding']}`.",
                f"The kernel spans {self['dilation_rate'][0] * (self['kernel_size'][0] - 1) + 1} steps "
                f"but the input has {steps}: use padding 'same' or 'causal', or a smaller kernel_size.",
                argument="kernel_size")
        if channels_first(self):
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

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """nn.Conv1d on (batch, channels, length), between Permutes: weight = kernel.transpose(2, 1, 0)."""
        stride, padding = self["strides"][0], self["padding"]
        if padding == "causal" or (padding == "same" and stride > 1) or channels_first(self):
            raise refuse(self, framework, f"padding {padding!r} with strides {stride} and data_format "
                                          f"{self['data_format']}: torch's Conv1d pads 'same' only with stride 1, "
                                          "has no causal padding, and lstmcalc ports channels-last convolutions.",
                         "Port a Conv1D with padding 'valid', or 'same' and strides 1.")
        arguments = {"out_channels": self["filters"], "kernel_size": self["kernel_size"][0]}
        for name, value, default in (("stride", stride, 1), ("padding", padding, "valid"),
                                     ("dilation", self["dilation_rate"][0], 1), ("groups", self["groups"], 1)):
            if value != default:
                arguments[name] = value
        arguments.update(with_bias(self["use_bias"]))
        port_module(self, plan, Entry("Conv1d", self.name, arguments),
                    lambda own: {"weight": own["kernel"].transpose(2, 1, 0),
                                 **({"bias": own["bias"]} if "bias" in own else {})},
                    activation_entry(self, self["activation"], framework), layout="channels")

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        kernel = self.weight_shapes(inputs)[0].shape
        k, per_group, filters = kernel
        stride, dilation = self["strides"][0], self["dilation_rate"][0]
        bias = " + b" if self["use_bias"] else ""
        index = "t" if stride == 1 else f"{stride}·t"
        offset = "k" if dilation == 1 else f"{dilation}·k"
        steps = outputs[0][1] if self["data_format"] != "channels_first" else outputs[0][2]
        batch = inputs[0].shape[0]
        symbols = [Symbol("x_t", tensor_text((batch, per_group * self["groups"])), "one input step"),
                   Symbol("W_k", weight_text((per_group, filters)), f"kernel[k], k = 0, …, {k - 1}"),
                   ] + ([Symbol("b", weight_text((filters,)), "bias")] if self["use_bias"] else []) + [
                   Symbol("y_t", tensor_text((outputs[0][0], filters)), "one output step")]
        return one_block("each output step", [Equation(
            "y_t", applied(self["activation"], f"Σ_k x_{{{index} + {offset}}}·W_k{bias}"),
            f"padding: {self['padding']}")], symbols, f"for t over {count_text(steps)} output steps",
            legend(self["activation"]), {"kernel": f"[W_0 … W_{k - 1}]", "bias": "b"},
            headline=f"Conv1D with {filters} filters of width {k}")
