"""Conv1D, Conv2D and Conv3D, and the N-D convolution helpers the pooling, padding and
convolutional-recurrent layers share: output sizes as Keras's ``compute_conv_output_shape``
computes them, TensorFlow's padding, and sliding windows for an im2col-style forward pass.

A channels_last tensor is (batch, *spatial, channels); channels_first is (batch, channels, *spatial).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar, List, Optional, Sequence, Tuple

from ..arithmetic import number as count_of, times
from ..shapes import Dim, Shape, format_shape, product
from .activations import apply as apply_activation
from .arguments import KERNEL_AND_BIAS, Arg, choice, int_tuple, positive_int
from .explanation import (Context, Equation, Math, Symbol, applied, count_text, legend, one_block, tensor_text,
                          weight_text)
from .porting import Entry, activation_entry, port_module, refuse, torch_size, with_bias
from .base import (Arrays, Example, Forward, Layer, MacCount, Masks, Problem, Rank, TensorSpec, Weight, WeightArrays,
                   numpy_module, register)

if TYPE_CHECKING:
    from numpy import ndarray

    from .porting import PortPlan

DATA_FORMAT = choice("channels_last", "channels_first", None, ignore_case=True)
Padding = Tuple[int, int]


def channels_first(layer: Layer) -> bool:
    return layer["data_format"] == "channels_first"


def spatial_dims(layer: Layer, shape: Shape) -> Shape:
    """The spatial axes of a (batch, ..., channels) or (batch, channels, ...) shape."""
    return tuple(shape[2:]) if channels_first(layer) else tuple(shape[1:-1])


def channel_dim(layer: Layer, shape: Shape) -> Dim:
    return shape[1] if channels_first(layer) else shape[-1]


def with_spatial(layer: Layer, batch: Dim, spatial: Sequence[Dim], channels: Dim) -> Shape:
    """A shape from its parts, in the layer's data_format."""
    if channels_first(layer):
        return (batch, channels) + tuple(spatial)
    return (batch,) + tuple(spatial) + (channels,)


def conv_length(length: Dim, kernel: int, stride: int, dilation: int, padding: str) -> Dim:
    """Output steps of a convolution along one axis (Keras's compute_conv_output_shape)."""
    if length is None:
        return None
    if padding == "valid":
        return (length - dilation * (kernel - 1) - 1) // stride + 1
    return (length - 1) // stride + 1  # same and causal


def output_size_problem(input_shape: Shape, kernel_shape: Shape, dilation: Sequence[int], strides: Sequence[int],
                        padding: str, argument: str = "kernel_size") -> Problem:
    """Keras's "Computed output size would be zero or negative" (valid padding, a kernel that
    spans more than the input), with the reach of the kernel in the hint."""
    rank = len(dilation)
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, kernel_shape[:rank])]
    return Problem(
        "H004", "Computed output size would be zero or negative. Received "
                f"`inputs shape={format_shape(input_shape)}`, `kernel shape={format_shape(kernel_shape)}`, "
                f"`dilation_rate=[{' '.join(str(d) for d in dilation)}]`, `strides={format_shape(strides)}`, "
                f"`padding={padding}`.",
        f"The kernel spans {' × '.join(str(span) for span in spans)} positions (dilation included), more than "
        f"the input {format_shape(input_shape)} has along an axis: use padding 'same', or a smaller kernel_size "
        "or dilation_rate.",
        argument=argument)


def conv_output_shape(layer: Layer, input_shape: Shape, filters: int) -> Shape:
    """The output of a convolution with the layer's kernel_size, strides, padding, dilation_rate
    and data_format: Keras's compute_conv_output_shape, its errors included."""
    kernel_size, strides, dilation = layer["kernel_size"], layer["strides"], layer["dilation_rate"]
    kernel_shape = tuple(kernel_size) + (channel_dim(layer, input_shape), filters)
    if len(kernel_shape) != len(input_shape):
        raise Problem(
            "H001", "Kernel shape must have the same length as input, but received kernel of shape "
                    f"{format_shape(kernel_shape)} and input of shape {format_shape(input_shape)}.",
            f"{layer.keras_class} takes (batch, {', '.join(AXIS_NAMES[len(kernel_size)])}, channels); wrap it in "
            "TimeDistributed for more axes.")
    sizes = tuple(conv_length(length, k, s, d, layer["padding"])
                  for length, k, s, d in zip(spatial_dims(layer, input_shape), kernel_size, strides, dilation))
    if any(size is not None and size <= 0 for size in sizes):
        raise output_size_problem(input_shape, kernel_shape, dilation, strides, layer["padding"])
    return with_spatial(layer, input_shape[0], sizes, filters)


def check_float_input(layer: Layer, tensor: TensorSpec) -> None:
    """TensorFlow convolves floats only: Keras builds a convolution fed integers (its kernel is
    float32) and fails when the model runs."""
    if not tensor.dtype.startswith(("int", "uint", "bool")):
        return
    raise Problem(
        "H008", f"{layer.name} ({layer.keras_class}) convolves its input with float kernels, and it receives "
                f"{tensor.dtype} values: Keras builds this model, but TensorFlow's convolution refuses to mix "
                f"{tensor.dtype} and float32 when it runs (\"Input 'filter' of 'Conv2D' Op has type float32 that "
                f"does not match type {tensor.dtype} of argument 'input'\").",
        "Give the input dtype float32 (`input: {shape: [...], dtype: float32}`), or put an Embedding before "
        "the layer if the values are ids.")


def same_padding(length: int, window: int, stride: int) -> Padding:
    """TensorFlow's SAME padding (left, right): the output has ceil(length / stride) steps and
    the odd padding step goes to the right."""
    steps = -(-length // stride)
    total = max((steps - 1) * stride + window - length, 0)
    return total // 2, total - total // 2


def conv_padding(length: int, window: int, stride: int, dilation: int, padding: str) -> Padding:
    """Zeros added (before, after) along one axis: none for valid, TensorFlow's SAME for same,
    dilation·(window − 1) before for causal."""
    span = dilation * (window - 1) + 1
    if padding == "same":
        return same_padding(length, span, stride)
    if padding == "causal":
        return span - 1, 0
    return 0, 0


def window_taps(length: int, window: int, stride: int, dilation: int, padding: Padding):
    """Indices into the unpadded axis that each output step reads, (steps, window), and which of
    them fall inside it (the others are padding)."""
    np = numpy_module()
    span = dilation * (window - 1) + 1
    steps = (length + padding[0] + padding[1] - span) // stride + 1
    taps = (np.arange(steps)[:, None] * stride + np.arange(window)[None, :] * dilation) - padding[0]
    inside = (taps >= 0) & (taps < length)
    return np.clip(taps, 0, max(length - 1, 0)), inside


def sliding_windows(x: "ndarray", window: Sequence[int], strides: Sequence[int], dilation: Sequence[int],
                    padding: Sequence[Padding], fill: float = 0.0, first: int = 1) -> "ndarray":
    """Every window ``x`` offers along its spatial axes, which start at axis ``first`` (1 for
    channels_last (batch, *spatial, channels)), after padding each of them with ``fill``: a view
    of shape (*the axes before, *output positions, *the axes after, *window)."""
    np = numpy_module()
    from numpy.lib.stride_tricks import sliding_window_view

    rank = len(window)
    before, after = first, x.ndim - first - rank
    padded = np.pad(x, [(0, 0)] * before + [tuple(pair) for pair in padding] + [(0, 0)] * after,
                    constant_values=fill)
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, window)]
    views = sliding_window_view(padded, spans, axis=tuple(range(first, first + rank)))
    return views[(slice(None),) * before + tuple(slice(None, None, s) for s in strides) + (slice(None),) * after
                 + tuple(slice(None, None, d) for d in dilation)]


def convolve(x: "ndarray", kernel: "ndarray", strides: Sequence[int], dilation: Sequence[int], padding: str,
             groups: int = 1) -> "ndarray":
    """TensorFlow's convolution of a channels_last ``x`` (batch, *spatial, channels) with a Keras
    kernel (*window, channels / groups, filters): every window gathered at once (im2col) and
    multiplied with the kernel in one matrix product. Returns (batch, *positions, filters)."""
    np = numpy_module()
    window = kernel.shape[:-2]
    rank, filters = len(window), kernel.shape[-1]
    pads = [conv_padding(x.shape[1 + axis], window[axis], strides[axis], dilation[axis], padding)
            for axis in range(rank)]
    windows = sliding_windows(x, window, strides, dilation, pads)
    batch, positions, channels = x.shape[0], windows.shape[1:1 + rank], x.shape[-1]
    if groups == 1:
        # Gathered as (*window, channels), the kernel's own row order: each run the copy reads is
        # a pixel's channels (with its neighbours along the last window axis), contiguous in x.
        columns = np.moveaxis(windows, 1 + rank, -1).reshape(batch * product(positions), channels * product(window))
        # Summed in float64 and rounded once: another order of float32 sums (torch's, in lstmcalc
        # port's proof) then differs by a rounding, not by the sums' error.
        y = columns.astype("float64") @ kernel.reshape(channels * product(window), filters).astype("float64")
    else:
        letters = "klmn"[:rank]
        grouped = windows.reshape((batch,) + positions + (groups, channels // groups) + tuple(window))
        blocks = kernel.reshape(tuple(window) + (channels // groups, groups, filters // groups))
        y = np.einsum(f"b...gc{letters},{letters}cgf->b...gf", grouped, blocks, dtype="float64", optimize=True)
    return y.reshape((batch,) + positions + (filters,)).astype(x.dtype, copy=False)


def convolve_channel_major(x: "ndarray", kernel: "ndarray", strides: Sequence[int], dilation: Sequence[int],
                           padding: str) -> "ndarray":
    """``convolve`` for an ``x`` laid out (channels, batch, *spatial), giving (filters, batch,
    *positions): the kernel multiplies the gathered windows from the left, so that each filter's
    values come out as one contiguous block (ConvLSTM's loop keeps its gates so)."""
    np = numpy_module()
    window = kernel.shape[:-2]
    rank, filters = len(window), kernel.shape[-1]
    pads = [conv_padding(x.shape[2 + axis], window[axis], strides[axis], dilation[axis], padding)
            for axis in range(rank)]
    windows = sliding_windows(x, window, strides, dilation, pads, first=2)
    batch, positions = x.shape[1], windows.shape[2:2 + rank]
    # Rows (*window, channels), the kernel's order; the copy reads runs along the last spatial axis.
    rows = np.moveaxis(windows, tuple(range(2 + rank, 2 + 2 * rank)), tuple(range(rank)))
    columns = rows.reshape(x.shape[0] * product(window), batch * product(positions))
    y = kernel.reshape(-1, filters).T @ columns
    return y.reshape((filters, batch) + positions).astype(x.dtype, copy=False)


def to_channels_last(layer: Layer, x: "ndarray") -> "ndarray":
    """A channels_first array with its channels moved last (a rank-3 array: its last two axes
    swapped, so the same call also moves them back)."""
    return numpy_module().moveaxis(x, 1, -1) if channels_first(layer) else x


def from_channels_last(layer: Layer, y: "ndarray") -> "ndarray":
    """A channels_last result in the layer's data_format."""
    return numpy_module().moveaxis(y, -1, 1) if channels_first(layer) else y


def pool_length(length: Dim, pool: int, stride: int, padding: str) -> Dim:
    if length is None:
        return None
    if padding == "valid":
        return (length - pool) // stride + 1
    return (length - 1) // stride + 1


# How the explanations name positions and kernel offsets along 1, 2 or 3 spatial axes.
POSITIONS = {1: ("t",), 2: ("i", "j"), 3: ("d", "i", "j")}
OFFSETS = {1: ("k",), 2: ("m", "n"), 3: ("l", "m", "n")}
AXIS_NAMES = {1: ("steps",), 2: ("rows", "cols"), 3: ("depth", "rows", "cols")}


def indexed(letters: Sequence[str], name: str) -> str:
    """``x_t``, ``x_{i,j}``: a name with its indices."""
    inside = ",".join(letters)
    return f"{name}_{inside}" if len(letters) == 1 else f"{name}_{{{inside}}}"


def size_text(sizes: Sequence[Dim]) -> str:
    """``16×16``: a map's spatial size (``?`` where unknown)."""
    return "×".join("?" if size is None else str(size) for size in sizes)


class Conv(Layer):
    """Keras's BaseConv: ``rank`` spatial axes, a kernel (*kernel_size, channels / groups, filters)."""

    rank: ClassVar[int] = 1
    displayed_arguments = ("filters", "kernel_size", "strides", "padding", "activation")

    def check_config(self) -> None:
        if self["filters"] % self["groups"] != 0:
            raise Problem("S012", "The number of filters must be evenly divisible by the number of "
                                  f"groups. Received: groups={self['groups']}, filters={self['filters']}.",
                          "Choose filters as a multiple of groups.", argument="groups")
        if max(self["strides"]) > 1 and max(self["dilation_rate"]) > 1:
            raise Problem("S012", "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                                  f"Received: strides={self['strides']} and "
                                  f"dilation_rate={self['dilation_rate']}",
                          "Use strides 1 with dilation, or dilation 1 with strides.", argument="strides")

    def _channels(self, shape: Shape) -> Dim:
        return channel_dim(self, shape)

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        shape = inputs[0].shape
        channels = self._channels(shape)
        if channels is not None and channels % self["groups"] != 0:
            raise Problem(
                "H004", "The number of input channels must be evenly divisible by the number of groups. "
                        f"Received groups={self['groups']}, but the input has {channels} channels "
                        f"(full input shape is {format_shape(shape)}).",
                "Choose groups that divides the channel count.", argument="groups")
        conv_output_shape(self, shape, self["filters"])  # Keras checks the shapes before it makes weights
        per_group = None if channels is None else channels // self["groups"]
        weights = [self.weight("kernel", self["kernel_size"] + (per_group, self["filters"]))]
        if self["use_bias"]:
            weights.append(self.weight("bias", (self["filters"],)))
        return weights

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        output = conv_output_shape(self, inputs[0].shape, self["filters"])
        check_float_input(self, inputs[0])
        return [output]

    def _kernel_labels(self) -> Tuple[str, ...]:
        if self.rank == 1:
            return ("kernel_size",)
        return tuple(f"kernel {name}" for name in AXIS_NAMES[self.rank])

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        # Each output position: kernel size × (channels / groups) products for every filter.
        kernel = self.weight_shapes(inputs)[0].shape
        per_position = times(*(count_of(size, label) for size, label in zip(kernel, self._kernel_labels())),
                             count_of(kernel[-2], "channels per group"), count_of(kernel[-1], "filters"))
        positions = spatial_dims(self, outputs[0].shape)
        steps = None if None in positions else product(positions)  # type: ignore[arg-type]
        return MacCount(per_position, steps, "step" if self.rank == 1 else "position")

    def forward_scratch(self, inputs: Sequence[TensorSpec]) -> int:
        (output,) = self.output_shapes(inputs)
        channels = self._channels(inputs[0].shape)
        # The input cast and its padded copy, and every output position's window (kernel × channels).
        return (2 * product(inputs[0].shape)  # type: ignore[arg-type]
                + product(output) // self["filters"] * product(self["kernel_size"]) * channels)  # type: ignore[arg-type,operator]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """Keras's conv call: causal pads dilation·(kernel − 1) steps on the left and convolves
        'valid'; 'same' pads as TensorFlow. Groups split channels and filters into equal blocks."""
        x = to_channels_last(self, self.floating(inputs[0]))
        y = convolve(x, self.floating(weights["kernel"]), self["strides"], self["dilation_rate"], self["padding"],
                     self["groups"])
        if self["use_bias"]:
            y += self.floating(weights["bias"])
        y = apply_activation(self["activation"], y)
        return [from_channels_last(self, y)], [None]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        kernel = self.weight_shapes(inputs)[0].shape
        window, per_group, filters = kernel[:-2], kernel[-2], kernel[-1]
        strides, dilation = self["strides"], self["dilation_rate"]
        bias = " + b" if self["use_bias"] else ""
        positions, offsets = POSITIONS[self.rank], OFFSETS[self.rank]
        reads = [(p if s == 1 else f"{s}·{p}") + " + " + (o if d == 1 else f"{d}·{o}")
                 for p, o, s, d in zip(positions, offsets, strides, dilation)]
        batch = inputs[0].shape[0]
        out = spatial_dims(self, outputs[0])
        w = indexed(offsets, "W")
        ranges = ", ".join(f"{o} = 0, …, {k - 1}" for o, k in zip(offsets, window))
        if self.rank == 1:
            loop = f"for t over {count_text(out[0])} output steps"
            title, what_x, what_y = "each output step", "one input step", "one output step"
            headline = f"Conv1D with {filters} filters of width {window[0]}"
            reading = f"x_{{{reads[0]}}}"
        else:
            loop = f"for ({', '.join(positions)}) over the {size_text(out)} output positions"
            title, what_x, what_y = "each output position", "the input channels at one position", \
                "the output channels at one position"
            headline = f"{self.keras_class} with {filters} filters of {size_text(window)}"
            reading = f"x_{{{', '.join(reads)}}}"
        symbols = [Symbol(indexed(positions, "x"), tensor_text((batch, per_group * self["groups"])), what_x),
                   Symbol(w, weight_text((per_group, filters)), f"kernel[{', '.join(offsets)}], {ranges}"),
                   ] + ([Symbol("b", weight_text((filters,)), "bias")] if self["use_bias"] else []) + [
                   Symbol(indexed(positions, "y"), tensor_text((outputs[0][0], filters)), what_y)]
        last = [f"{k - 1}" for k in window]
        return one_block(title, [Equation(
            indexed(positions, "y"), applied(self["activation"], f"Σ_{','.join(offsets) if self.rank > 1 else 'k'} "
                                                               f"{reading}·{w}{bias}"),
            f"padding: {self['padding']}")], symbols, loop,
            legend(self["activation"]), {"kernel": f"[{indexed(['0'] * self.rank, 'W')} … {indexed(last, 'W')}]",
                                         "bias": "b"},
            headline=headline)


    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """nn.Conv1d or nn.Conv2d on (batch, channels, *spatial), between Permutes: weight = kernel
        with its axes (*kernel, in, out) moved to (out, in, *kernel). TensorFlow's 'same' padding
        with strides is written as explicit padding where it is the same on both sides (torch pads
        symmetrically; its padding='same' takes stride 1 only)."""
        module = self.pytorch_module
        if not module or channels_first(self) or self["padding"] == "causal":
            raise refuse(self, framework, f"padding {self['padding']!r} and data_format {self['data_format']}: torch "
                                          "has no causal padding, lstmcalc ports channels-last convolutions, and "
                                          "torch.nn's convolutions that lstmcalc knows are Conv1d and Conv2d.",
                         f"Port a {self.keras_class} with padding 'valid' or 'same'.")
        strides = self["strides"]
        padding: Any = self["padding"]
        if padding == "same" and max(strides) > 1:
            pads = [None if length is None else conv_padding(length, k, s, d, "same") for length, k, s, d in
                    zip(spatial_dims(self, inputs[0].shape), self["kernel_size"], strides, self["dilation_rate"])]
            if any(pad is None or pad[0] != pad[1] for pad in pads):
                raise refuse(self, framework, f"padding 'same' with strides {strides} pads {pads} (before, after) on "
                                              f"the input {format_shape(inputs[0].shape)}: torch pads both sides "
                                              "alike, and its padding='same' takes stride 1 only.",
                             "Port a convolution with padding 'valid', or 'same' with strides 1, or an input size "
                             "that 'same' pads evenly.")
            padding = [pad[0] for pad in pads]  # type: ignore[index]
        arguments = {"out_channels": self["filters"], "kernel_size": torch_size(self["kernel_size"])}
        for name, value, default in (("stride", torch_size(strides), 1), ("padding", padding, "valid"),
                                     ("dilation", torch_size(self["dilation_rate"]), 1),
                                     ("groups", self["groups"], 1)):
            if value != default:
                arguments[name] = torch_size(value) if isinstance(value, list) else value
        arguments.update(with_bias(self["use_bias"]))
        rank = self.rank
        torch_axes = (rank + 1, rank) + tuple(range(rank))
        port_module(self, plan, Entry(module, self.name, arguments),
                    lambda own: {"weight": own["kernel"].transpose(torch_axes),
                                 **({"bias": own["bias"]} if "bias" in own else {})},
                    activation_entry(self, self["activation"], framework), layout="channels", rank=rank)

_CONV_TAIL = (Arg("groups", positive_int, 1),) + tuple(KERNEL_AND_BIAS)


def conv_head(rank: int, paddings: Tuple[str, ...], filters: Callable[[str, Any], int] = positive_int) -> Tuple[Arg, ...]:
    """The first arguments of every Keras convolution, in its constructor's order."""
    return (
        Arg("filters", filters),
        Arg("kernel_size", int_tuple(rank)),
        Arg("strides", int_tuple(rank), (1,) * rank),
        Arg("padding", choice(*paddings, ignore_case=True), "valid"),
        Arg("data_format", DATA_FORMAT, None),
        Arg("dilation_rate", int_tuple(rank), (1,) * rank),
    )


def _conv_arguments(rank: int, paddings: Tuple[str, ...]) -> Tuple[Arg, ...]:
    return conv_head(rank, paddings) + _CONV_TAIL


@register
class Conv1D(Conv):
    """A 1-D convolution over (batch, steps, channels)."""

    keras_class = "Conv1D"
    pytorch_module = "Conv1d"
    examples = (Example("Conv1D(4, 3, padding='same')", ((9, 2),)),
                Example("Conv1D(6, 2, strides=2, groups=2)", ((9, 4),)))
    sequence_axes = ("batch", "timesteps", "features")
    input_rank = Rank(min_ndim=3)
    rank = 1
    arguments = _conv_arguments(1, ("valid", "same", "causal"))


@register
class Conv2D(Conv):
    """A 2-D convolution over images (batch, rows, cols, channels)."""

    keras_class = "Conv2D"
    pytorch_module = "Conv2d"
    examples = (Example("Conv2D(4, 3, padding='same', activation='relu')", ((6, 5, 2),)),
                Example("Conv2D(4, (3, 2), strides=(2, 1), groups=2, data_format='channels_first')", ((4, 7, 6),)),
                Example("Conv2D(2, 3, dilation_rate=2)", ((8, 8, 3),)))
    input_rank = Rank(min_ndim=4)
    rank = 2
    arguments = _conv_arguments(2, ("valid", "same"))


@register
class Conv3D(Conv):
    """A 3-D convolution over volumes or clips (batch, depth, rows, cols, channels)."""

    keras_class = "Conv3D"
    examples = (Example("Conv3D(3, 3, padding='same')", ((4, 5, 5, 2),)),
                Example("Conv3D(4, (1, 3, 3), strides=(1, 2, 2), data_format='channels_first')", ((2, 3, 7, 7),)))
    input_rank = Rank(min_ndim=5)
    rank = 3
    arguments = _conv_arguments(3, ("valid", "same"))
