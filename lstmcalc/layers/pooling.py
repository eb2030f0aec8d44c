"""Pooling, as Keras's BasePooling and BaseGlobalPooling: MaxPooling1D/2D/3D and AveragePooling1D/2D/3D
over windows of positions, GlobalAveragePooling1D/2D/3D and GlobalMaxPooling1D/2D/3D over all of
them. One class per operation, generalised over the number of spatial axes (``dims``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, List, Optional, Sequence, Tuple

from ..shapes import Dim, Shape, product
from .arguments import REQUIRED, Arg, boolean, described, keras_text, keras_tuple, optional
from .base import (FLOAT_DTYPES, Arrays, Example, Forward, Masks, Problem, Rank, TensorSpec, WeightArrays,
                   numpy_module, register)
from .conv import pool_length, same_padding, window_taps
from .explanation import Context, Equation, Math, count_text, io_symbols, one_block
from .porting import Entry, port_module, torch_size
from .spatial import (AXIS_NAMES, INDEX_LETTERS, OFFSET_LETTERS, SpatialLayer, data_format, is_channels_first,
                      spatial_axes, with_spatial_sizes)

if TYPE_CHECKING:
    from numpy import ndarray

    from .porting import PortPlan

SEQUENCE_AXES = ("batch", "timesteps", "features")


@described({"enum": ["valid", "same"]})
def _pool_padding(name: str, value: Any) -> str:
    # Keras keeps the value as written and compares it with 'valid' and 'same' when it builds the
    # layer: 'SAME' is refused, unlike the convolutions' padding.
    if value not in ("valid", "same"):
        raise Problem("S006", f"Argument `padding` must be either 'valid' or 'same'. Received: padding={keras_text(value)}",
                      "Use 'valid' (windows inside the input) or 'same' (as many outputs as ⌈input / strides⌉), "
                      "in lower case.")
    return value


def pooling_arguments(dims: int, pool_default: Any = REQUIRED) -> Tuple[Arg, ...]:
    """Keras's (pool_size, strides, padding, data_format) for ``dims`` spatial axes; AveragePooling
    has no default pool_size in Keras 3."""
    return (Arg("pool_size", keras_tuple(dims), pool_default),
            Arg("strides", optional(keras_tuple(dims, allow_zero=True)), None),
            Arg("padding", _pool_padding, "valid"),
            Arg("data_format", data_format, None))


def _numpy_text(shape: Sequence[Any]) -> str:
    """A shape as Keras's pooling message prints its NumPy array: ``[None 2 2 3]``."""
    return "[" + " ".join(str(dim) for dim in shape) + "]"


class _Pooling(SpatialLayer):
    """Max or mean over windows of ``pool_size`` positions moved by ``strides`` along each spatial axis;
    'same' pads as TensorFlow and leaves the padding out of the max or mean."""

    function: ClassVar[str] = ""  # max or mean, as the equations write it
    # The arguments a diagram box shows (`displayed_arguments`, read by the diagrams on main).
    displayed_arguments: ClassVar[Tuple[str, ...]] = ("pool_size", "strides", "padding")

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """nn.MaxPool1d, nn.MaxPool2d or nn.AvgPool2d on (batch, channels, *spatial): 'valid'
        windows (no padding, so no padded position to count in a mean)."""
        if not self.pytorch_module or self["padding"] != "valid" or is_channels_first(self.config):
            super().port_to(framework, inputs, plan)
        pool, stride = torch_size(self["pool_size"]), torch_size(self["strides"])
        port_module(self, plan, Entry(self.pytorch_module, self.name,
                                      {"kernel_size": pool, **({} if stride == pool else {"stride": stride})}),
                    layout="channels", rank=self.dims)

    def check_config(self) -> None:
        if self.config["strides"] is None:
            self.config["strides"] = self.config["pool_size"]
        if 0 in self.config["strides"]:
            raise Problem("S006", f"`strides` must be at least 1 on every axis; got {self.config['strides']}. "
                                  "(Keras accepts a 0 here, then fails with 'division by zero' when it builds the "
                                  "model.)", "Use strides of 1 or more, or leave strides out (it defaults to pool_size).",
                          argument="strides")

    # The dtypes TensorFlow's pooling op takes (its registration, on every device), and its name.
    op_dtypes: ClassVar[Tuple[str, ...]] = ()
    op_name: ClassVar[str] = ""

    def check_op_dtype(self, tensor: TensorSpec) -> None:
        """Keras builds a pooling layer whatever it receives; TensorFlow's op, given the input once
        Keras has cast a floating one to the compute dtype, refuses other dtypes when it runs
        (random-67-185: MaxPooling3D in float64)."""
        dtype = self.compute_dtype if tensor.dtype in FLOAT_DTYPES else tensor.dtype
        if not self.op_dtypes or dtype in self.op_dtypes:
            return
        raise Problem(
            "H008", f"{self.name} ({self.keras_class}) pools {dtype} values: Keras builds this model, but "
                    f"TensorFlow's {self.op_name} takes only {', '.join(self.op_dtypes)}, and fails when it runs "
                    f"(\"DataType {dtype} not in list of allowed values\").",
            "Pool float32 values: `dtype: float32` on the layer, or a float32 input.", argument="dtype")

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        self.check_op_dtype(inputs[0])
        shape = inputs[0].shape
        sizes = self.spatial(shape)
        pool, strides, padding = self["pool_size"], self["strides"], self["padding"]
        lengths = [pool_length(size, window, stride, padding) for size, window, stride in zip(sizes, pool, strides)]
        if any(length is not None and length <= 0 for length in lengths):
            shown = with_spatial_sizes(self.config, shape, [-1 if size is None else size for size in sizes])
            too_small = [f"{size} {name}" for size, window, name in zip(sizes, pool, AXIS_NAMES[self.dims])
                         if size is not None and size < window]
            raise Problem(
                "H004", "Computed output size would be zero or negative. Received: "
                        f"`inputs.shape={_numpy_text(shown)}`, `pool_size={_numpy_text(pool)}`, "
                        f"`strides={keras_text(strides)}`, `padding={padding}`.",
                f"The pool spans {'×'.join(map(str, pool))} but the input has {', '.join(too_small)}: use padding "
                "'same' or a smaller pool_size.", argument="pool_size")
        return [with_spatial_sizes(self.config, shape, lengths)]

    def _same_padding(self, sizes: Sequence[Dim]) -> List[Optional[Tuple[int, int]]]:
        """TensorFlow's padding (before, after) on each axis; None where the size is unknown."""
        if self["padding"] != "same":
            return [(0, 0)] * self.dims
        return [None if size is None else same_padding(size, window, stride)
                for size, window, stride in zip(sizes, self["pool_size"], self["strides"])]

    # -- forward pass ----------------------------------------------------------------------------

    def reduce(self, windows: "ndarray", inside: "ndarray", axis: int) -> Tuple["ndarray", Any]:
        """Pool ``windows`` over ``axis`` (the window axis); ``inside`` is False on padding. Returns
        the pooled values and what ``finish`` needs from this axis."""
        raise NotImplementedError

    def finish(self, pooled: "ndarray", counts: Any) -> "ndarray":
        return pooled

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """One axis at a time: a max (or a sum and a count) over a box is the same taken axis by axis."""
        np = numpy_module()
        x = self.floating(inputs[0])
        pooled = x.astype(np.promote_types(x.dtype, np.float32), copy=False)
        counts: Any = 1
        for axis, window, stride in zip(spatial_axes(self.config, self.dims), self["pool_size"], self["strides"]):
            length = pooled.shape[axis]
            padding = same_padding(length, window, stride) if self["padding"] == "same" else (0, 0)
            taps, inside = window_taps(length, window, stride, 1, padding)  # (steps, window)
            windows = np.take(pooled, taps, axis=axis)  # the axis becomes (steps, window)
            layout = [1] * windows.ndim
            layout[axis], layout[axis + 1] = inside.shape
            pooled, count = self.reduce(windows, inside.reshape(layout), axis + 1)
            counts = counts * count
        return [self.finish(pooled, counts).astype(x.dtype, copy=False)], [None]

    def forward_scratch(self, inputs: Sequence[TensorSpec]) -> int:
        # The float copy, and for each axis its gathered windows and their padded copy.
        size = product(inputs[0].shape)  # type: ignore[arg-type]
        largest = 0
        current = size
        for axis, window, stride in zip(spatial_axes(self.config, self.dims), self["pool_size"], self["strides"]):
            length = inputs[0].shape[axis]
            steps = pool_length(length, window, stride, self["padding"])
            gathered = current // length * steps * window  # type: ignore[operator]
            largest = max(largest, gathered)
            current = current // length * steps  # type: ignore[operator]
        return size + 2 * largest

    # -- explanation ------------------------------------------------------------------------------

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        pool, strides = self["pool_size"], self["strides"]
        letters, offsets = INDEX_LETTERS[self.dims], OFFSET_LETTERS[:self.dims]
        paddings = self._same_padding(self.spatial(inputs[0].shape))
        taps = []
        for letter, offset, stride, padding in zip(letters, offsets, strides, paddings):
            start = letter if stride == 1 else f"{stride}·{letter}"
            before = padding[0] if padding else 0
            taps.append(f"{start} + {offset}" + (f" − {before}" if before else ""))
        ranges = ", ".join(f"{offset} < {window}" for offset, window in zip(offsets, pool))
        lhs = "y_" + (letters[0] if self.dims == 1 else "{" + ", ".join(letters) + "}")
        equation = Equation(lhs, f"{self.function}_{{{ranges}}} x_{{{', '.join(taps)}}}", self._padding_note(paddings))
        loop = self.loop_text(self.spatial(outputs[0]))
        window = "×".join(map(str, pool))
        headline = (f"{self.keras_class} over {pool[0]} steps" if self.dims == 1
                    else f"{self.keras_class} over {window} windows, strides {'×'.join(map(str, strides))}")
        return one_block("each output position", [equation], io_symbols(inputs, outputs), loop, headline=headline)

    def _padding_note(self, paddings: Sequence[Optional[Tuple[int, int]]]) -> str:
        if self["padding"] == "valid":
            return "padding: valid"
        parts = [f"{name} {'?' if padding is None else f'{padding[0]} before, {padding[1]} after'}"
                 for name, padding in zip(AXIS_NAMES[self.dims], paddings)]
        left_out = ("padding is left out of the mean" if self.function == "mean"
                    else "padding never wins the max")
        return f"padding: same ({'; '.join(parts)}); {left_out}"


class _MaxPooling(_Pooling):
    function = "max"
    op_dtypes = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16")
    op_name = "MaxPool"

    def reduce(self, windows: "ndarray", inside: "ndarray", axis: int) -> Tuple["ndarray", Any]:
        np = numpy_module()
        return np.where(inside, windows, -np.inf).max(axis=axis), 1


class _AveragePooling(_Pooling):
    function = "mean"
    op_dtypes = ("float16", "bfloat16", "float32", "float64")
    op_name = "AvgPool"

    def reduce(self, windows: "ndarray", inside: "ndarray", axis: int) -> Tuple["ndarray", Any]:
        # TensorFlow divides by the positions inside the input, not by the window size.
        np = numpy_module()
        return np.where(inside, windows, 0).sum(axis=axis), inside.sum(axis=axis)

    def finish(self, pooled: "ndarray", counts: Any) -> "ndarray":
        return pooled / counts


@register
class MaxPooling1D(_MaxPooling):
    """The maximum over windows of steps."""

    keras_class = "MaxPooling1D"
    pytorch_module = "MaxPool1d"
    examples = (Example("MaxPooling1D(2)", ((9, 2),)),)
    sequence_axes = SEQUENCE_AXES
    dims = 1
    arguments = pooling_arguments(1, (2,))


@register
class AveragePooling1D(_AveragePooling):
    """The mean over windows of steps."""

    keras_class = "AveragePooling1D"
    examples = (Example("AveragePooling1D(3, strides=1, padding='same')", ((9, 2),)),)
    sequence_axes = SEQUENCE_AXES
    dims = 1
    arguments = pooling_arguments(1)


@register
class MaxPooling2D(_MaxPooling):
    """The maximum over windows of rows × cols."""

    keras_class = "MaxPooling2D"
    pytorch_module = "MaxPool2d"
    examples = (Example("MaxPooling2D()", ((7, 6, 2),)),
                Example("MaxPooling2D(3, strides=2, padding='same', data_format='channels_first')", ((2, 7, 6),)))
    dims = 2
    arguments = pooling_arguments(2, (2, 2))


@register
class AveragePooling2D(_AveragePooling):
    """The mean over windows of rows × cols."""

    keras_class = "AveragePooling2D"
    pytorch_module = "AvgPool2d"
    examples = (Example("AveragePooling2D((3, 2), strides=1, padding='same')", ((5, 5, 2),)),)
    dims = 2
    arguments = pooling_arguments(2)


@register
class MaxPooling3D(_MaxPooling):
    """The maximum over windows of depth × rows × cols."""

    keras_class = "MaxPooling3D"
    op_dtypes = ("float16", "bfloat16", "float32")
    op_name = "MaxPool3D"
    examples = (Example("MaxPooling3D()", ((5, 4, 5, 2),)),)
    dims = 3
    arguments = pooling_arguments(3, (2, 2, 2))


@register
class AveragePooling3D(_AveragePooling):
    """The mean over windows of depth × rows × cols."""

    keras_class = "AveragePooling3D"
    op_name = "AvgPool3D"
    examples = (Example("AveragePooling3D((1, 2, 2), padding='same', data_format='channels_first')",
                        ((2, 5, 4, 5),)),)
    dims = 3
    arguments = pooling_arguments(3)


# -- global pooling --------------------------------------------------------------------------------

class _GlobalPooling(SpatialLayer):
    """Max or mean over every spatial position: one value per channel."""

    function: ClassVar[str] = ""
    displayed_arguments: ClassVar[Tuple[str, ...]] = ("keepdims",)
    arguments = (Arg("data_format", data_format, None), Arg("keepdims", boolean, False))

    def step_rank(self) -> Optional[Rank]:
        # Keras's compute_output_shape takes any rank (len(shape) - 2 spatial axes): TimeDistributed
        # (GlobalMaxPooling2D()) builds on (batch, time, steps, channels) (random-69-087); call()
        # reduces its own axes, so it runs when the step has them.
        return Rank(min_ndim=max(spatial_axes(self.config, self.dims)) + 1)

    def computed_shapes_hint(self) -> str:
        return (f"Give {self.keras_class} steps of {self.dims} spatial axes and channels, or use the "
                "global pooling of the rank it receives.")

    def computed_shapes(self, inputs: Sequence[TensorSpec]) -> Optional[List[Shape]]:
        """Of a tensor of another rank (inside TimeDistributed): Keras declares one value per channel,
        but call() reduces its own number of axes, whatever the channels are."""
        shape = inputs[0].shape
        axes = spatial_axes(self.config, self.dims)
        if len(shape) == self.dims + 2 or max(axes) >= len(shape):
            return None
        if self["keepdims"]:
            return [tuple(1 if axis in axes else size for axis, size in enumerate(shape))]
        return [tuple(size for axis, size in enumerate(shape) if axis not in axes)]

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        if self["keepdims"]:
            ones = (1,) * (len(shape) - 2)
            return [(shape[0], shape[1]) + ones if is_channels_first(self.config) else (shape[0],) + ones + (shape[-1],)]
        return [(shape[0], shape[1] if is_channels_first(self.config) else shape[-1])]

    def reduce(self, x: "ndarray", mask: Optional["ndarray"], axes: Tuple[int, ...]) -> "ndarray":
        raise NotImplementedError

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        mask = masks[0] if masks and self.supports_masking else None
        return [self.reduce(self.floating(inputs[0]), mask, spatial_axes(self.config, self.dims))], [None]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        if self.dims == 1:
            note = "over the steps not masked" if self.consumes_mask else "over all steps"
            equation = Equation("y", f"{self.function}_t x_t", note)
        else:
            letters = ", ".join(INDEX_LETTERS[self.dims])
            sizes = self.spatial(inputs[0].shape)
            equation = Equation("y", f"{self.function}_{{{letters}}} x_{{{letters}}}",
                                f"over all {' × '.join(count_text(size) for size in sizes)} positions, "
                                "for each channel")
        return one_block("once per sample", [equation], io_symbols(inputs, outputs),
                         headline=f"{self.keras_class}: one vector per sample")


    # The lstmcalc step of a PyTorch model computing it (torch_steps: x.mean(dim), x.amax(dim)).
    pytorch_step: ClassVar[str] = ""

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan) -> None:
        """x.mean / x.amax over the same axes of the same layout (the steps: dim=1)."""
        from .porting import Entry, port_module, refuse

        if inputs[0].masked:
            raise refuse(self, framework, "it receives a masked sequence (mask_zero or Masking) and averages the "
                                          "steps not masked; torch has no masks.", "Port the model without masking.")
        axes = list(spatial_axes(self.config, self.dims))
        arguments = {"dim": axes[0] if len(axes) == 1 else axes, **({"keepdim": True} if self["keepdims"] else {})}
        port_module(self, plan, Entry(self.pytorch_step, self.name, arguments))


class _GlobalAveragePooling(_GlobalPooling):
    function = "mean"
    pytorch_step = "Mean"

    def reduce(self, x: "ndarray", mask: Optional["ndarray"], axes: Tuple[int, ...]) -> "ndarray":
        keep = self["keepdims"]
        if mask is None:
            return x.mean(axis=axes, keepdims=keep)
        # Keras: the sum over unmasked steps over their count (NaN for a fully masked sample).
        np = numpy_module()
        expanded = np.expand_dims(mask.astype(bool), 1 if is_channels_first(self.config) else 2)
        total = np.where(expanded, x, 0).sum(axis=axes, keepdims=keep)
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / expanded.astype(x.dtype).sum(axis=axes, keepdims=keep)


class _GlobalMaxPooling(_GlobalPooling):
    function = "max"
    pytorch_step = "Amax"

    def reduce(self, x: "ndarray", mask: Optional["ndarray"], axes: Tuple[int, ...]) -> "ndarray":
        return x.max(axis=axes, keepdims=self["keepdims"])


@register
class GlobalAveragePooling1D(_GlobalAveragePooling):
    """Averages over time; with a mask, only over the unmasked steps (as Keras)."""

    keras_class = "GlobalAveragePooling1D"
    examples = (Example("GlobalAveragePooling1D()", ((9, 2),)),)
    sequence_axes = SEQUENCE_AXES
    dims = 1
    supports_masking = True
    consumes_mask = True  # it averages over the steps the mask keeps

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        return [False] * count

    def keras_masks(self, inputs, masks, count: int, graph) -> list:
        return [None] * count  # the steps are gone, and their mask with them


@register
class GlobalMaxPooling1D(_GlobalMaxPooling):
    """The maximum over time."""

    keras_class = "GlobalMaxPooling1D"
    examples = (Example("GlobalMaxPooling1D(keepdims=True)", ((9, 2),)),)
    sequence_axes = SEQUENCE_AXES
    dims = 1


@register
class GlobalAveragePooling2D(_GlobalAveragePooling):
    """The mean over rows and cols (no mask: Keras's 2-D global pooling does not support one)."""

    keras_class = "GlobalAveragePooling2D"
    examples = (Example("GlobalAveragePooling2D(keepdims=True)", ((5, 4, 3),)),)
    dims = 2


@register
class GlobalMaxPooling2D(_GlobalMaxPooling):
    """The maximum over rows and cols."""

    keras_class = "GlobalMaxPooling2D"
    examples = (Example("GlobalMaxPooling2D(data_format='channels_first')", ((3, 5, 4),)),)
    dims = 2


@register
class GlobalAveragePooling3D(_GlobalAveragePooling):
    """The mean over depth, rows and cols."""

    keras_class = "GlobalAveragePooling3D"
    examples = (Example("GlobalAveragePooling3D()", ((3, 4, 5, 2),)),)
    dims = 3


@register
class GlobalMaxPooling3D(_GlobalMaxPooling):
    """The maximum over depth, rows and cols."""

    keras_class = "GlobalMaxPooling3D"
    examples = (Example("GlobalMaxPooling3D(keepdims=True, data_format='channels_first')", ((2, 3, 4, 5),)),)
    dims = 3
