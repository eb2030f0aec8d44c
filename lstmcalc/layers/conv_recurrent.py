"""ConvLSTM1D, ConvLSTM2D and ConvLSTM3D: an LSTM whose matrix products are convolutions
(keras/src/layers/rnn/conv_lstm.py), as used for video prediction and precipitation nowcasting.

Each step reads a frame x_t (batch, *spatial, channels) and carries two states, h and c, that are
maps (batch, *spatial', filters): the input's convolution with the layer's kernel_size, strides,
padding and dilation_rate gives spatial', and the recurrent convolution (stride 1, padding same,
no dilation) keeps it. The gates are an LSTM's (i, f, c, o), Keras's order in the kernels' last axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple

from ..arithmetic import Expression, number as count_of, plus, times
from ..shapes import Dim, Shape, format_shape, product
from .activations import ON_LAST_AXIS
from .arguments import Arg, boolean, described, non_negative_int
from .base import Example, Problem, Rank, TensorSpec, Weight, WeightArrays, numpy_module, register
from .conv import (AXIS_NAMES, channel_dim, channels_first, check_float_input, conv_head, conv_output_shape,
                   convolve_channel_major, size_text, spatial_dims)
from .explanation import Context, FrameworkView, Math, Symbol, count_text, plural, tensor_text, weight_text
from .recurrent import LSTM, RECURRENT_ARGUMENTS_TAIL, Gate

if TYPE_CHECKING:
    from numpy import ndarray


@dataclass(frozen=True)
class ConvCell:
    """What determines a ConvLSTM's weights and work per step: the frame it reads (``step``, batch
    first, in the layer's data_format), the maps it carries (``state``), and its kernel."""

    step: Shape
    state: Shape
    frame: Tuple[Dim, ...]    # the spatial sizes of x_t
    maps: Tuple[Dim, ...]     # the spatial sizes of h_t and c_t
    input_dim: Optional[int]  # channels of the input frames
    units: int                # filters
    kernel_size: Tuple[int, ...]
    use_bias: bool
    gates: int = 4

    def kernel_factors(self) -> List[Expression]:
        names = AXIS_NAMES[len(self.kernel_size)]
        if len(names) == 1:
            return [count_of(self.kernel_size[0], "kernel_size")]
        return [count_of(size, f"kernel {name}") for size, name in zip(self.kernel_size, names)]

    def parameters(self, convention: str = "keras") -> Expression:
        """gates × (kernel × (channels + filters) × filters + filters): the input and recurrent
        kernels of each gate, and its bias."""
        filters = count_of(self.units, "filters")
        inner: List[Expression] = [times(*self.kernel_factors(),
                                         plus(count_of(self.input_dim, "channels"), filters), filters)]
        if self.use_bias:
            inner.append(filters)
        return times(count_of(self.gates, "gates"), plus(*inner))

    @property
    def positions(self) -> Optional[int]:
        """Positions of one map of a state (rows' × cols' for ConvLSTM2D)."""
        return None if None in self.maps else product(self.maps)  # type: ignore[arg-type]

    @property
    def state_size(self) -> int:
        return (self.positions or 0) * self.units

    def step_macs(self) -> Expression:
        """Both convolutions at every position of the state's maps: each gate's kernel over the
        frame's channels (W * x_t) and over the previous h's filters (U * h_{t−1})."""
        return times(count_of(self.gates, "gates"), count_of(self.units, "filters"),
                     count_of(self.positions, "positions"), *self.kernel_factors(),
                     plus(count_of(self.input_dim, "channels"), count_of(self.units, "filters")))


_GATES = LSTM.cell_gates


class ConvLSTM(LSTM):
    """Keras's ConvLSTM base: the RNN rules of LSTM, convolutions in place of matrix products."""

    rank: ClassVar[int] = 2
    units_name = "filters"
    displayed_arguments = ("filters", "kernel_size", "padding", "return_sequences", "return_state")

    @property
    def units(self) -> int:
        return self["filters"]

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan) -> None:
        """torch.nn has no convolutional recurrent module (LSTM's rule would write an nn.LSTM)."""
        from .porting import refuse

        raise refuse(self, framework, "torch.nn has no convolutional LSTM (ConvLSTM); nn.LSTM multiplies vectors, "
                                      "where this layer convolves maps.",
                     "Write the ConvLSTM cell as a module of your own in PyTorch; lstmcalc ports the layers torch.nn "
                     "has.")

    def check_config(self) -> None:
        if max(self["strides"]) > 1 and max(self["dilation_rate"]) > 1:
            raise Problem(
                "S012", "Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please provide "
                        f"`strides=1` or `dilation_rate=1`. Received: strides={self['strides']} and "
                        f"dilation_rate={self['dilation_rate']}",
                "Use strides 1 with dilation, or dilation 1 with strides.", argument="strides")

    # -- axes ------------------------------------------------------------------------------------

    def _spatial_names(self) -> Tuple[str, ...]:
        return AXIS_NAMES[self.rank] if self.rank > 1 else ("rows",)

    @property
    def sequence_axes(self):  # type: ignore[override]  # depends on data_format
        if channels_first(self):
            return ("batch", "time", "channels") + self._spatial_names()
        return ("batch", "time") + self._spatial_names() + ("channels",)

    @property
    def state_axes(self):  # type: ignore[override]
        if channels_first(self):
            return ("batch", "filters") + self._spatial_names()
        return ("batch",) + self._spatial_names() + ("filters",)

    # -- shapes and weights ----------------------------------------------------------------------

    def _step(self, inputs: Sequence[TensorSpec]) -> Shape:
        """One frame of the sequence: (batch, *spatial, channels)."""
        shape = inputs[0].shape
        return (shape[0],) + tuple(shape[2:])

    def _state(self, step: Shape) -> Shape:
        return conv_output_shape(self, step, self["filters"])

    def cell(self, input_dim: Optional[int]) -> ConvCell:  # type: ignore[override]
        unknown = (None,) * self.rank
        shape = (None,) * (self.rank + 2)
        return ConvCell(shape, shape, unknown, unknown, input_dim, self["filters"], self["kernel_size"],
                        self["use_bias"])

    def cell_of(self, inputs: Sequence[TensorSpec]) -> ConvCell:  # type: ignore[override]
        step = self._step(inputs)
        state = self._state(step)
        return ConvCell(step, state, spatial_dims(self, step), spatial_dims(self, state), channel_dim(self, step),
                        self["filters"], self["kernel_size"], self["use_bias"])

    def state_shapes_of(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        return [self._state(self._step(inputs)) for _ in self.state_names]

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        step = self._step(inputs)
        if None in spatial_dims(self, step):
            raise Problem(
                "H003", "ConvLSTM layers only support static input shapes for the spatial dimension. Received "
                        f"invalid input shape: input_shape={format_shape(step)}",
                f"Give every frame a known size: the input {format_shape(inputs[0].shape)} may leave only the "
                "time axis unknown, e.g. input: [null, 64, 64, 1].")
        channels = channel_dim(self, step)
        if channels is None:
            raise Problem(
                "H003", "The channel dimension of the inputs (last axis) should be defined. Found None. Full "
                        f"input shape received: input_shape={format_shape(step)}",
                "Give the input a known number of channels, e.g. input: [null, 64, 64, 1].")
        filters, kernel = self["filters"], self["kernel_size"]
        shapes = [("kernel", kernel + (channels, 4 * filters)), ("recurrent_kernel", kernel + (filters, 4 * filters))]
        if self["use_bias"]:
            shapes.append(("bias", (4 * filters,)))
        # Keras 3 quirk: the cell owns the weights and never gets the layer's `trainable`, so they
        # train (and count as trainable) whatever the layer says (see warnings()).
        return [Weight(name, shape, True, self.variable_dtype) for name, shape in shapes]

    def warnings(self, inputs: Sequence[TensorSpec]) -> List[Problem]:
        findings = super().warnings(inputs)
        if not self.trainable:
            findings.append(Problem(
                "P001", f"trainable: false on {self.name} ({self.keras_class}) does not freeze it: in Keras 3 the "
                        "flag given to a ConvLSTM's constructor does not reach its cell, which owns the weights; "
                        "they still train (and count as trainable).",
                f"Set `{self.name}.trainable = False` after building the model.", argument="trainable"))
        return findings

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        sequence = inputs[0].shape
        self.check_input(sequence)
        state = self._state(self._step(inputs))
        check_float_input(self, inputs[0])
        self.check_mask(inputs)
        output = (sequence[0], sequence[1]) + tuple(state[1:]) if self["return_sequences"] else state
        return [output, state, state] if self["return_state"] else [output]

    def state_fix_hint(self, expected: Shape) -> str:
        return (f"Give the state the shape of the layer's output at one step, {format_shape(expected[1:])}: "
                f"{self['filters']} filters over the maps the input's convolution leaves (padding "
                f"'{self['padding']}', strides {compact(self['strides'])}), in {self['data_format'] or 'channels_last'} "
                "order.")

    def mask_fix_hint(self, mask: Shape, output: Shape) -> str:
        return ("Masking flags each position of its input's last axis, so on frames it masks pixels: with "
                "padding 'same' and strides 1 the maps keep the frames' size and the pixel mask fits. Else "
                "mask whole steps — an Embedding's mask, or Masking where the steps are vectors — or remove "
                "Masking.")

    # -- forward pass ----------------------------------------------------------------------------

    def forward_scratch(self, inputs: Sequence[TensorSpec]) -> int:
        cell = self.cell_of(inputs)
        batch, steps = inputs[0].shape[:2]
        frame = product(cell.step[1:])  # type: ignore[arg-type]
        window = product(self["kernel_size"])
        maps = cell.positions or 0
        filters = self["filters"]
        # The input cast and reordered, every step's windows and projections, one step's windows,
        # gates and states, and the sequence put back in the layer's layout.
        return (batch * steps * (2 * frame + maps * (window * cell.input_dim + 4 * filters))  # type: ignore[operator]
                + batch * maps * (window * filters + 4 * filters * 3 + 4 * filters)  # type: ignore[operator]
                + batch * steps * maps * filters)  # type: ignore[operator]

    def project_inputs(self, weights: WeightArrays, x: "ndarray") -> "ndarray":
        """W * x_t + b for every step at once, in the loop's layout (4·filters, time, batch,
        *positions): the steps join the batch for one convolution."""
        np = numpy_module()
        batch, steps = x.shape[:2]
        channels = 2 if channels_first(self) else x.ndim - 1
        spatial = [axis for axis in range(2, x.ndim) if axis != channels]
        frames = np.ascontiguousarray(x.transpose([channels, 1, 0] + spatial))
        frames = frames.reshape((frames.shape[0], steps * batch) + frames.shape[3:])
        projected = convolve_channel_major(frames, self.floating(weights["kernel"]), self["strides"],
                                           self["dilation_rate"], self["padding"])
        if self["use_bias"]:
            projected += self.floating(weights["bias"]).reshape((-1,) + (1,) * (projected.ndim - 1))
        return projected.reshape((projected.shape[0], steps, batch) + projected.shape[2:])

    fused_blocks = ()  # its steps convolve: the plain LSTM step with ConvLSTM's hooks

    def recurrent_product(self, weights: WeightArrays) -> Callable[["ndarray"], "ndarray"]:
        """h ↦ U * h: Keras's recurrent convolution, stride 1, padding same, no dilation."""
        recurrent = self.floating(weights["recurrent_kernel"])
        ones = (1,) * self.rank
        return lambda h: convolve_channel_major(h, recurrent, ones, ones, "same")

    def loop_activation(self, name: Optional[str], scratch: bool = False) -> Callable[["ndarray"], "ndarray"]:
        function = super().loop_activation(name, scratch)
        if name not in ON_LAST_AXIS:
            return function
        # softmax & co. act on the filters' axis, which the loop keeps first.
        np = numpy_module()
        return lambda x: np.moveaxis(function(np.moveaxis(x, 0, -1)), -1, 0)

    def gate_views(self, z: "ndarray") -> List["ndarray"]:
        width = z.shape[0] // self.gates
        return [z[gate * width:(gate + 1) * width] for gate in range(self.gates)]

    def to_loop_layout(self, state: "ndarray") -> "ndarray":
        """(filters, batch, *positions): the loop keeps the filters first, so that each gate's block
        of z is contiguous (on the last axis, its values would come `filters` at a time)."""
        return numpy_module().moveaxis(state, 1 if channels_first(self) else -1, 0)

    def from_loop_layout(self, array: "ndarray", sequence: bool) -> "ndarray":
        # The loop's (filters, [time,] batch, *positions) back to (batch, [time,] ...) in data_format.
        leading = (2, 1) if sequence else (1,)
        positions = tuple(range(len(leading) + 1, len(leading) + 1 + self.rank))
        frame = (0,) + positions if channels_first(self) else positions + (0,)
        return numpy_module().ascontiguousarray(array.transpose(leading + frame))

    def loop_mask(self, mask: "ndarray") -> "ndarray":
        # (batch, time) or a per-pixel mask, whose axes follow the output's ((batch, *positions,
        # filters), channels_first (batch, filters, ...)), in the loop's order: (filters, time,
        # batch, *positions), with 1 for the axes it lacks.
        full = mask.reshape(mask.shape + (1,) * (self.rank + 3 - mask.ndim))
        channels = 2 if channels_first(self) else 2 + self.rank
        positions = [axis for axis in range(2, 3 + self.rank) if axis != channels]
        return full.transpose([channels, 1, 0] + positions)

    # -- explanation -----------------------------------------------------------------------------

    def width_text(self) -> str:
        return f"{self['filters']} filters"

    def step_text(self, inputs: Sequence[TensorSpec]) -> str:
        step = self._step(inputs)
        return f"{size_text(spatial_dims(self, step))} frames of {plural(channel_dim(self, step), 'channel')}"

    def gate_input(self, cell, gate: Gate, bias: str) -> str:  # type: ignore[override]
        suffix = f"_{gate.symbol}"
        terms = [f"W{suffix} * x_t", f"U{suffix} * h_{{t−1}}"]
        if cell.use_bias:
            terms.append(f"{bias}{suffix}")
        return " + ".join(terms)

    def cell_symbols(self, cell: ConvCell, batch: Optional[int]) -> List[Symbol]:  # type: ignore[override]
        kernel, channels, filters = cell.kernel_size, cell.input_dim, cell.units
        maps, frame = size_text(cell.maps), size_text(cell.frame)
        state = tensor_text(with_batch(cell.state, batch))
        symbols = [
            Symbol("x_t", tensor_text(with_batch(cell.step, batch)),
                   f"the input frame at step t: {frame} positions, {plural(channels, 'channel')}"),
            Symbol("h_{t−1}, h_t", state, f"hidden state: {filters} maps of {maps}, one per filter"),
            Symbol("c_{t−1}, c_t", state, "cell state: the memory, one value per filter and position"),
            Symbol(", ".join(f"W_{gate.symbol}" for gate in self.cell_gates), weight_text(kernel + (channels, filters)),
                   "input kernels, one block of kernel per gate"),
            Symbol(", ".join(f"U_{gate.symbol}" for gate in self.cell_gates), weight_text(kernel + (filters, filters)),
                   "recurrent kernels, one block of recurrent_kernel per gate"),
        ]
        if cell.use_bias:
            symbols.append(Symbol(", ".join(f"b_{gate.symbol}" for gate in self.cell_gates), weight_text((filters,)),
                                  "biases, one per filter, added at every position"))
        symbols.append(Symbol(self.gate_values, state, "gate values at step t, one per filter and position"))
        return symbols

    def cell_legend(self, cell) -> str:  # type: ignore[override]
        input_conv = [f"strides {compact(self['strides'])}", f"padding {self['padding']}"]
        if max(self["dilation_rate"]) > 1:
            input_conv.append(f"dilation_rate {compact(self['dilation_rate'])}")
        parts = [f"* = convolution (W * x_t: {', '.join(input_conv)}; U * h_{{t−1}}: strides 1, padding same)"]
        if "sigmoid" in (self["recurrent_activation"], self["activation"]):
            parts.append("σ = sigmoid")
        parts.append("⊙ = element-wise product")
        return ", ".join(parts)

    def weight_layouts(self, cell) -> Dict[str, str]:  # type: ignore[override]
        kernel = "×".join(str(size) for size in cell.kernel_size)
        blocks = " | ".join(f"{{}}_{gate.symbol}" for gate in self.cell_gates)
        return {
            "kernel": f"[{blocks.format(*'WWWW')}]: {kernel} kernel × {cell.input_dim} channels × "
                      f"(4 gates × {cell.units} filters)",
            "recurrent_kernel": f"[{blocks.format(*'UUUU')}]: {kernel} kernel × {cell.units} filters × "
                                f"(4 gates × {cell.units} filters)",
            "bias": f"[{blocks.format(*'bbbb')}]: 4 gates × {cell.units} filters",
        }

    def in_words(self, inputs: Sequence[TensorSpec]) -> List[str]:
        cell = self.cell_of(inputs)
        batch, steps = inputs[0].shape[0], count_text(inputs[0].shape[1])
        filters, channels = cell.units, cell.input_dim
        frame, maps = size_text(cell.frame), size_text(cell.maps)
        kernel = "×".join(str(size) for size in cell.kernel_size)
        state = tensor_text(with_batch(cell.state, batch))
        shrink = ("the same size as the frames (padding 'same', strides 1)" if maps == frame else
                  f"smaller than the {frame} frames: the input convolution (padding '{self['padding']}', strides "
                  f"{compact(self['strides'])}) leaves {maps} positions")
        words = [
            f"Like an LSTM, but every matrix product is a convolution: h_t and c_t are not vectors but "
            f"{filters} maps of {maps} — {state} — {shrink}.",
            f"How the {plural(channels, 'channel')} enter{'s' if channels == 1 else ''}: at every step each of the 4 gates slides its own {kernel} kernel "
            f"W over the frame x_t {tensor_text(with_batch(cell.step, batch))} and its own {kernel} kernel U over "
            f"h_{{t−1}}, so each position sees only its {kernel} neighbourhood, with the same weights at every "
            "position.",
            f"The layer runs this step {steps} times, one step after the other, with the same kernels at every "
            "step and every position: the parameter count depends on the kernel size, the channels and the "
            "filters, not on the frame size; the work (MACs) grows with the number of positions.",
        ]
        if self["return_sequences"]:
            sequence = (batch, inputs[0].shape[1]) + tuple(cell.state[1:])
            words.append(f"return_sequences: true — it returns h_t of every step: {tensor_text(sequence)}.")
        else:
            words.append(f"return_sequences: false — it returns only the last hidden state h_{steps}: {state}, "
                         "one set of maps per sample.")
        words.append("Hidden state vs cell state: h_t is the output (and what the gates see at the next step); "
                     "c_t is the memory the gates write to and read from. c_t leaves the layer only with "
                     "return_state: true.")
        kept = self.kept_for_backprop(inputs)
        per_step = (cell.gates + len(self.state_names)) * cell.state_size
        total = f" ({kept.fixed:,} over the {steps} steps)" if kept.known else ""
        words.append(f"Training keeps, at every step, the {cell.gates} gates' maps and both states for "
                     f"backpropagation through time: ({cell.gates} + 2) × {cell.positions:,} positions × {filters} "
                     f"filters = {per_step:,} values per step and sample{total}.")
        words.append("PyTorch has no ConvLSTM module (torch.nn offers LSTM and Conv2d, not the two in one), so "
                     "there is no PyTorch view of this layer.")
        return words

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        cell = self.cell_of(inputs)
        headline = (f"{self.keras_class} with {self.width_text()} of {size_text(cell.kernel_size)}, reading "
                    f"{count_text(inputs[0].shape[1])} steps of {self.step_text(inputs)}")
        return Math([self.cell_block(inputs, "one step", context.initial_state)], self.in_words(inputs),
                    self.weight_layouts(cell), headline)

    def missing_time_axis_advice(self, last_step_of: Optional[str]) -> Tuple[str, str]:
        if last_step_of is not None:
            return (f" {last_step_of} has return_sequences: false, so it returns only its last maps. Keras "
                    f"rejects this model: a {self.keras_class} fed a single frame does not build.",
                    f"Set `return_sequences: true` on `{last_step_of}` so it passes the maps of every step on "
                    f"({', '.join(('batch', 'time') + self.state_axes[1:])}), or replace `{self.name}` with a "
                    f"Conv{self.rank}D layer, which reads one frame.")
        return "", (f"Feed `{self.name}` a sequence of frames, `input: [{', '.join(self.sequence_axes[1:])}]`, or "
                    "add the time axis with Reshape before it.")

    def framework_view(self, inputs: Sequence[TensorSpec]) -> Optional[FrameworkView]:
        return None  # PyTorch has no ConvLSTM (said in the explanation's words)

    def compared_with_dense(self, received: TensorSpec, params: int) -> str:
        return ""  # a Dense layer on one frame says nothing about a convolution over frames


def compact(values: Sequence[int]) -> str:
    """``2`` for (2, 2), ``(2, 1)`` otherwise: a per-axis argument as one would write it."""
    return str(values[0]) if len(set(values)) == 1 else str(tuple(values))


def with_batch(shape: Shape, batch: Dim) -> Shape:
    return (batch,) + tuple(shape[1:])


@described({"type": "integer", "minimum": 1})
def filter_count(name: str, value: Any) -> int:
    """At least one filter: Keras builds a ConvLSTM with 0 filters, which fails when it runs."""
    count = non_negative_int(name, value)
    if count == 0:
        raise Problem("S006", f"`{name}` must be at least 1, got 0: Keras builds a ConvLSTM with 0 filters (and "
                              "0 parameters), but the model fails when it runs (\"The convolution operation "
                              "resulted in an empty output\").", f"Give the layer at least one filter, e.g. `{name}: 8`.")
    return count


def _arguments(rank: int) -> Tuple[Arg, ...]:
    names = [argument.name for argument in LSTM.arguments]
    # An LSTM cell's arguments, activation … seed, in the same order as LSTM's constructor.
    cell = LSTM.arguments[names.index("activation"):names.index("seed") + 1]
    return conv_head(rank, ("valid", "same"), filter_count) + cell + RECURRENT_ARGUMENTS_TAIL + (
        # keras.layers.RNN's keyword, which the ConvLSTM layers pass on
        Arg("zero_output_for_mask", boolean, False),
    )


@register
class ConvLSTM1D(ConvLSTM):
    """A ConvLSTM over sequences of 1-D signals (batch, time, rows, channels)."""

    keras_class = "ConvLSTM1D"
    rank = 1
    input_rank = Rank(ndim=4)
    arguments = _arguments(1)
    examples = (Example("ConvLSTM1D(3, 3, return_sequences=True)", ((4, 7, 2),)),
                Example("ConvLSTM1D(2, 2, strides=2, padding='same', data_format='channels_first', "
                        "return_state=True)", ((3, 2, 7),)))


@register
class ConvLSTM2D(ConvLSTM):
    """A ConvLSTM over videos (batch, time, rows, cols, channels)."""

    keras_class = "ConvLSTM2D"
    rank = 2
    input_rank = Rank(ndim=5)
    arguments = _arguments(2)
    examples = (Example("ConvLSTM2D(4, 3, padding='same', return_sequences=True)", ((4, 6, 6, 2),)),
                Example("ConvLSTM2D(2, (3, 2), dilation_rate=(1, 2), go_backwards=True, return_state=True)",
                        ((3, 7, 8, 2),)),
                Example("ConvLSTM2D(3, 3, strides=2, data_format='channels_first')", ((3, 2, 7, 7),)))


@register
class ConvLSTM3D(ConvLSTM):
    """A ConvLSTM over sequences of volumes (batch, time, depth, rows, cols, channels)."""

    keras_class = "ConvLSTM3D"
    rank = 3
    input_rank = Rank(ndim=6)
    arguments = _arguments(3)
    examples = (Example("ConvLSTM3D(2, 3, padding='same', return_sequences=True)", ((3, 4, 4, 4, 2),)),
                Example("ConvLSTM3D(2, (1, 3, 3), data_format='channels_first')", ((3, 2, 3, 5, 5),)))
