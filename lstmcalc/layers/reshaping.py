"""RepeatVector, Flatten, Reshape and Permute: the same values, rearranged; UpSampling1D/2D/3D,
ZeroPadding1D/2D and Cropping1D/2D: the same values repeated, framed with zeros or cut along the
spatial axes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, List, Optional, Sequence, Tuple

from ..diagnostics import Problem
from ..shapes import Dim, Shape, format_shape, num_elements, product
from .arguments import Arg, choice, described, int_list, keras_text, keras_tuple, positive_int
from .base import (Arrays, Example, Forward, Layer, MacCount, Masks, NO_MACS, PassThrough, Rank, TensorSpec,
                   WeightArrays, numpy_module, register)
from .explanation import Context, Equation, Math, Symbol, count_text, io_symbols, one_block, tensor_text
from .porting import Entry, port_module
from .spatial import AXIS_NAMES, INDEX_LETTERS, SpatialLayer, data_format, spatial_axes, with_spatial_sizes

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
    displayed_arguments = ("n",)
    examples = (Example("RepeatVector(4)", ((3,),)),)
    input_rank = Rank(ndim=2)
    arguments = (Arg("n", positive_int),)

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        return [(shape[0], self["n"], shape[1])]

    # output_dtypes: the compute dtype whatever it receives, as Keras declares it from
    # compute_output_shape.

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
    displayed_arguments = ("target_shape",)
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
    displayed_arguments = ("dims",)
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


# -- spatial resampling, padding and cropping ------------------------------------------------------

def _shifted(letter: str, amount: int) -> str:
    """``i + 3``, ``i − 1``, ``i``."""
    if amount > 0:
        return f"{letter} + {amount}"
    return f"{letter} − {-amount}" if amount < 0 else letter


def _indexed(name: str, indices: Sequence[str]) -> str:
    """``x_t``, ``x_{t + 2}``, ``x_{i, j}``."""
    joined = ", ".join(indices)
    return f"{name}_{joined}" if len(joined) == 1 else f"{name}_{{{joined}}}"


class _Spatial(SpatialLayer):
    """A layer that changes the spatial sizes and nothing else."""

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        return [with_spatial_sizes(self.config, shape, self.new_sizes(shape))]

    def new_sizes(self, shape: Shape) -> List[Dim]:
        raise NotImplementedError

    def explain(self, equation: Equation, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
                headline: str, extra: Sequence[Any] = ()) -> Math:
        return one_block("each output position", [equation], io_symbols(inputs, outputs) + list(extra),
                         self.loop_text(self.spatial(outputs[0])), headline=headline)


# UpSampling ----------------------------------------------------------------------------------------

@described({"type": "integer", "minimum": 1})
def _repeat_count(name: str, value: Any) -> int:
    # UpSampling1D checks its size itself, unlike the 2-D and 3-D layers (standardize_tuple).
    if not isinstance(value, int) or isinstance(value, bool):
        raise Problem("S005", f"Expected an integer value for `{name}`, got {type(value)}.",
                      f"UpSampling1D repeats each step `{name}` times: write one whole number, e.g. `{name}: 2`.")
    if value <= 0:
        raise Problem("S006", f"Argument `{name}` should be a positive integer. Received: {name}={value}",
                      f"Use a {name} of 1 or more.")
    return value


def _interpolation_check():
    from .resize import METHODS

    shown = "(" + ", ".join(repr(method) for method in METHODS) + ")"

    @described({"enum": list(METHODS)})
    def check_interpolation(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise Problem("S005", f"`{name}` must be the name of an interpolation, got {keras_text(value)} "
                                  f"(Keras fails with: '{type(value).__name__}' object has no attribute 'lower').",
                          f"Use one of {shown}.")
        method = value.lower()
        if method not in METHODS:
            from ..suggest import closest
            suggestion = closest(method, METHODS)
            raise Problem("S006", "Invalid value for argument `interpolation`. Expected of one "
                                  f"{shown}. Received: interpolation={method}",
                          "Keras builds the layer with any name and fails with this message when the model runs. "
                          + (f"Did you mean {suggestion!r}?" if suggestion else f"Use one of {shown}."))
        return method
    return check_interpolation


def _interpolation_note(method: str, factors: Sequence[int]) -> str:
    """What the weights R and C are, for one of TensorFlow's resize kernels."""
    point = f"((i + 0.5)/{factors[0]} − 0.5, (j + 0.5)/{factors[1]} − 0.5)"
    if method == "bilinear":
        return (f"bilinear: the 2 nearest rows and cols of the point {point}, weighted by distance, clamped "
                "at the edges (TensorFlow's resize, half-pixel centres)")
    if method == "bicubic":
        return (f"bicubic: the 4 nearest rows and cols of the point {point}, Keys' cubic weights (a = −0.5) "
                "from TensorFlow's table; rows and cols outside the image get none")
    if method == "area":
        return ("area: the input cells each output cell overlaps, by overlap (for a whole factor, the one "
                "cell under it)")
    radius = method[len("lanczos"):]
    return (f"{method}: the rows and cols within {radius} of the point {point}, Lanczos weights "
            "normalised to sum to 1")


class _UpSampling(_Spatial):
    """Each position repeated ``size`` times along each spatial axis (or, for UpSampling2D, the
    image resized by that factor with TensorFlow's interpolation)."""

    displayed_arguments: ClassVar[Tuple[str, ...]] = ("size",)

    def factors(self) -> Tuple[int, ...]:
        return tuple(self["size"])

    @property
    def interpolation(self) -> str:
        return self.config.get("interpolation", "nearest")

    def new_sizes(self, shape: Shape) -> List[Dim]:
        return [None if size is None else size * factor for size, factor in zip(self.spatial(shape), self.factors())]

    def forward_scratch(self, inputs: Sequence[TensorSpec]) -> int:
        (output,) = self.output_shapes(inputs)
        return 2 * product(output)  # type: ignore[arg-type]  # each axis's result before the last one

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        np = numpy_module()
        x = self.floating(inputs[0])
        if self.interpolation == "nearest":
            y = x
            for axis, factor in zip(spatial_axes(self.config, self.dims), self.factors()):
                y = np.repeat(y, factor, axis=axis)
            return [y], [None]
        from .resize import resize_axis

        y = x.astype(np.float64)
        for axis, factor in zip(spatial_axes(self.config, self.dims), self.factors()):
            y = resize_axis(y, axis, self.interpolation, factor)
        return [y.astype(x.dtype)], [None]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        factors = self.factors()
        letters = INDEX_LETTERS[self.dims]
        times = " × ".join(map(str, factors))
        if self.interpolation == "nearest":
            sources = [letter if factor == 1 else f"⌊{letter}/{factor}⌋" for letter, factor in zip(letters, factors)]
            equation = Equation(_indexed("y", letters), _indexed("x", sources),
                                f"each {'step' if self.dims == 1 else 'position'} repeated {times} times")
            return self.explain(equation, inputs, outputs, f"{self.keras_class}: every value {times} times")
        sizes_in, sizes_out = self.spatial(inputs[0].shape), self.spatial(outputs[0])
        equation = Equation("y_{i, j}", "Σ_r Σ_s R_{i, r} · C_{j, s} · x_{r, s}",
                            _interpolation_note(self.interpolation, factors))
        extra = [Symbol("R", f"({count_text(sizes_out[0])}, {count_text(sizes_in[0])})", "weights along the rows"),
                 Symbol("C", f"({count_text(sizes_out[1])}, {count_text(sizes_in[1])})", "weights along the cols")]
        return self.explain(equation, inputs, outputs,
                            f"{self.keras_class}: {times} times the rows and cols, {self.interpolation}", extra)


@register
class UpSampling1D(_UpSampling):
    """Repeats each step ``size`` times: (batch, steps, features) → (batch, size · steps, features)."""

    keras_class = "UpSampling1D"
    examples = (Example("UpSampling1D(3)", ((4, 2),)),)
    dims = 1
    arguments = (Arg("size", _repeat_count, 2),)

    def factors(self) -> Tuple[int, ...]:
        return (self["size"],)


@register
class UpSampling2D(_UpSampling):
    """Repeats rows and cols (interpolation 'nearest'), or resizes by the same factors with
    TensorFlow's bilinear, bicubic, area or Lanczos interpolation."""

    keras_class = "UpSampling2D"
    examples = (Example("UpSampling2D((2, 3))", ((3, 4, 2),)),
                Example("UpSampling2D(2, interpolation='bilinear', data_format='channels_first')", ((2, 3, 4),)))
    dims = 2
    displayed_arguments = ("size", "interpolation")
    arguments = (Arg("size", keras_tuple(2), (2, 2)), Arg("data_format", data_format, None),
                 Arg("interpolation", _interpolation_check(), "nearest"))


@register
class UpSampling3D(_UpSampling):
    """Repeats each position along depth, rows and cols."""

    keras_class = "UpSampling3D"
    examples = (Example("UpSampling3D((1, 2, 3))", ((2, 3, 2, 2),)),)
    dims = 3
    arguments = (Arg("size", keras_tuple(3), (2, 2, 2)), Arg("data_format", data_format, None))


# ZeroPadding and Cropping ------------------------------------------------------------------------------

def _pairs(word: str, *, negative_int: bool):
    """ZeroPadding2D's and Cropping2D's argument: an int for all four sides, a pair (symmetric rows,
    symmetric cols) or a pair of pairs ((top, bottom), (left, right)), refused in Keras's words.
    ``negative_int``: a single negative int passes Keras's check (ZeroPadding2D)."""
    shapes = {"type": "integer", "minimum": 0}
    pair = {"anyOf": [shapes, {"type": "array", "items": shapes, "minItems": 2, "maxItems": 2}]}

    @described({"anyOf": [{"type": "integer"} if negative_int else shapes,
                           {"type": "array", "items": pair, "minItems": 2, "maxItems": 2}]})
    def check_pairs(name: str, value: Any) -> Tuple[Tuple[int, int], Tuple[int, int]]:
        if isinstance(value, int):
            if value < 0 and not negative_int:
                raise Problem("S006", f"`{word}` cannot be negative. Received: {word}={value}.",
                              f"Use a {word} of 0 or more.")
            return ((int(value),) * 2,) * 2
        if isinstance(value, (list, tuple, str)):
            if len(value) != 2:
                raise Problem("S005", f"`{word}` should have two elements. Received: {word}={keras_text(value)}.",
                              f"Write one number, (rows, cols), or ((top, bottom), (left, right)), e.g. "
                              f"`{name}: [[1, 1], [2, 2]]`.")
            return (keras_tuple(2, allow_zero=True, label=f"1st entry of {word}")(name, value[0]),
                    keras_tuple(2, allow_zero=True, label=f"2nd entry of {word}")(name, value[1]))
        raise Problem("S005", f"`{word}` should be either an int, a tuple of 2 ints (symmetric_height_crop, "
                              "symmetric_width_crop), or a tuple of 2 tuples of 2 ints ((top_crop, bottom_crop), "
                              f"(left_crop, right_crop)). Received: {word}={keras_text(value)}.",
                      "Write one whole number, (rows, cols), or ((top, bottom), (left, right)).")
    return check_pairs


def _sides_text(dims: int, pairs: Sequence[Tuple[int, int]]) -> str:
    return "; ".join(f"{name}: {before} at the start, {after} at the end"
                     for name, (before, after) in zip(AXIS_NAMES[dims], pairs))


class _ZeroPadding(_Spatial):
    """Zeros added before and after the positions of each spatial axis."""

    displayed_arguments: ClassVar[Tuple[str, ...]] = ("padding",)

    def pairs(self) -> Tuple[Tuple[int, int], ...]:
        return tuple(self["padding"])

    def new_sizes(self, shape: Shape) -> List[Dim]:
        return [None if size is None else size + before + after
                for size, (before, after) in zip(self.spatial(shape), self.pairs())]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = self.floating(inputs[0])
        widths = [(0, 0)] * x.ndim
        for axis, pair in zip(spatial_axes(self.config, self.dims), self.pairs()):
            widths[axis] = pair
        return [numpy_module().pad(x, widths)], [None]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        pairs = self.pairs()
        letters = INDEX_LETTERS[self.dims]
        source = _indexed("x", [_shifted(letter, -before) for letter, (before, _) in zip(letters, pairs)])
        equation = Equation(_indexed("y", letters), f"{source} inside the input, 0 in the padding",
                            "zeros added: " + _sides_text(self.dims, pairs))
        return self.explain(equation, inputs, outputs, f"{self.keras_class}: a frame of zeros")


@register
class ZeroPadding1D(_ZeroPadding):
    """Zeros before and after the steps: ``padding`` an int (both ends) or (start, end)."""

    keras_class = "ZeroPadding1D"
    examples = (Example("ZeroPadding1D((1, 2))", ((4, 2),)),
                Example("ZeroPadding1D(2, data_format='channels_first')", ((2, 4),)))
    dims = 1
    arguments = (Arg("padding", keras_tuple(2, allow_zero=True), (1, 1)), Arg("data_format", data_format, None))

    def pairs(self) -> Tuple[Tuple[int, int], ...]:
        return (tuple(self["padding"]),)  # type: ignore[return-value]


@register
class ZeroPadding2D(_ZeroPadding):
    """Zeros around the rows and cols: ``padding`` an int, (rows, cols) or ((top, bottom), (left, right))."""

    keras_class = "ZeroPadding2D"
    examples = (Example("ZeroPadding2D(((1, 2), (0, 3)))", ((3, 4, 2),)),
                Example("ZeroPadding2D((1, 2), data_format='channels_first')", ((2, 3, 4),)))
    dims = 2
    arguments = (Arg("padding", _pairs("padding", negative_int=True), ((1, 1), (1, 1))), Arg("data_format", data_format, None))

    def check_config(self) -> None:
        padding = self.config["padding"]
        if padding[0][0] < 0:
            raise Problem("S006", f"ZeroPadding2D cannot pad by a negative amount (padding={padding[0][0]}): Keras "
                                  "builds the layer, and TensorFlow fails with 'Paddings must be non-negative' when "
                                  "the model runs.",
                          "Use Cropping2D to remove rows and cols, or a padding of 0 or more.", argument="padding")


class _Cropping(_Spatial):
    """Positions cut from the start and the end of each spatial axis."""

    displayed_arguments: ClassVar[Tuple[str, ...]] = ("cropping",)

    def pairs(self) -> Tuple[Tuple[int, int], ...]:
        return tuple(self["cropping"])

    def new_sizes(self, shape: Shape) -> List[Dim]:
        pairs = self.pairs()
        sizes = self.spatial(shape)
        if any(size is not None and before + after >= size for size, (before, after) in zip(sizes, pairs)):
            raise Problem("H004", self.too_much(shape),
                          f"{self.keras_class} removes {_sides_text(self.dims, pairs)}, which leaves nothing of "
                          f"{format_shape(shape)}: crop less, or give it a larger input.", argument="cropping")
        return [None if size is None else size - before - after for size, (before, after) in zip(sizes, pairs)]

    def too_much(self, shape: Shape) -> str:
        raise NotImplementedError

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = self.floating(inputs[0])
        index = [slice(None)] * x.ndim
        for axis, (before, after) in zip(spatial_axes(self.config, self.dims), self.pairs()):
            index[axis] = slice(before, x.shape[axis] - after)
        return [x[tuple(index)]], [None]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        pairs = self.pairs()
        letters = INDEX_LETTERS[self.dims]
        equation = Equation(_indexed("y", letters),
                            _indexed("x", [_shifted(letter, before) for letter, (before, _) in zip(letters, pairs)]),
                            "cut off: " + _sides_text(self.dims, pairs))
        return self.explain(equation, inputs, outputs, f"{self.keras_class}: the edges cut off")


@register
class Cropping1D(_Cropping):
    """Cuts steps off the start and the end: ``cropping`` an int (both ends) or (start, end)."""

    keras_class = "Cropping1D"
    examples = (Example("Cropping1D((2, 1))", ((6, 2),)),)
    dims = 1
    arguments = (Arg("cropping", keras_tuple(2, allow_zero=True), (1, 1)),)

    def pairs(self) -> Tuple[Tuple[int, int], ...]:
        return (tuple(self["cropping"]),)  # type: ignore[return-value]

    def too_much(self, shape: Shape) -> str:
        return ("`cropping` parameter of `Cropping1D` layer must be smaller than the input length. Received: "
                f"input_shape={format_shape(shape)}, cropping={self['cropping']}")


@register
class Cropping2D(_Cropping):
    """Cuts rows and cols off the edges: ``cropping`` an int, (rows, cols) or ((top, bottom), (left, right))."""

    keras_class = "Cropping2D"
    examples = (Example("Cropping2D(((1, 2), (3, 0)))", ((6, 7, 2),)),
                Example("Cropping2D((1, 2), data_format='channels_first')", ((2, 6, 7),)))
    dims = 2
    arguments = (Arg("cropping", _pairs("cropping", negative_int=False), ((0, 0), (0, 0))),
                 Arg("data_format", data_format, None))

    def too_much(self, shape: Shape) -> str:
        return ("Values in `cropping` argument should be smaller than the corresponding spatial dimension of the "
                f"input. Received: input_shape={format_shape(shape)}, cropping={self['cropping']}")
