"""Axes of spatial data — steps, rows and cols, depth — under Keras's ``data_format``, for the layers
that pool, resample, pad or crop them (pooling.py, reshaping.py). NumPy-free."""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Sequence, Tuple

from ..diagnostics import Problem
from ..shapes import Dim, Shape
from .arguments import described
from .base import NO_MACS, Layer, MacCount, Rank, TensorSpec
from .explanation import count_text

# What each spatial axis is called in explanations, by the number of spatial axes.
AXIS_NAMES = {1: ("steps",), 2: ("rows", "cols"), 3: ("depth", "rows", "cols")}
# The index letters of the output positions in equations (window offsets: OFFSET_LETTERS).
INDEX_LETTERS = {1: ("t",), 2: ("i", "j"), 3: ("d", "i", "j")}
OFFSET_LETTERS = ("a", "b", "c")


@described({"enum": ["channels_last", "channels_first", None]})
def data_format(name: str, value: Any) -> Optional[str]:
    """Keras's ``standardize_data_format``: any case, None for Keras's default (channels_last)."""
    if value is None:
        return None
    lowered = str(value).lower()
    if lowered not in ("channels_first", "channels_last"):
        raise Problem("S006", "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                              f"Received: data_format={lowered}",
                      "Use 'channels_last' (channels on the last axis, Keras's default) or 'channels_first'.")
    return lowered


def is_channels_first(config: dict) -> bool:
    return config.get("data_format") == "channels_first"


def spatial_axes(config: dict, dims: int) -> Tuple[int, ...]:
    """Indices of the ``dims`` spatial axes in a shape with its batch axis."""
    first = 2 if is_channels_first(config) else 1
    return tuple(range(first, first + dims))


def channel_axis(config: dict) -> int:
    return 1 if is_channels_first(config) else -1


def spatial_sizes(config: dict, shape: Sequence[Dim], dims: int) -> Tuple[Dim, ...]:
    return tuple(shape[axis] for axis in spatial_axes(config, dims))


def with_spatial_sizes(config: dict, shape: Sequence[Dim], sizes: Sequence[Dim]) -> Tuple[Dim, ...]:
    """``shape`` with its spatial axes replaced by ``sizes``."""
    result = list(shape)
    for axis, size in zip(spatial_axes(config, len(sizes)), sizes):
        result[axis] = size
    return tuple(result)


def axes_text(dims: int, channels_first: bool) -> str:
    """``(batch, rows, cols, channels)`` — the layout a layer expects, in words."""
    names = AXIS_NAMES[dims]
    middle = ("channels",) + names if channels_first else names + ("channels",)
    return "(batch, " + ", ".join(middle) + ")"



class SpatialLayer(Layer):
    """A weightless layer over ``dims`` spatial axes: Keras's ``InputSpec(ndim=dims + 2)``, no MACs."""

    dims: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.input_rank = Rank(ndim=cls.dims + 2)

    def rank_hint(self, shape: Shape) -> str:
        # For one spatial axis the engine's own wording (a sequence's axes) stands.
        if self.dims == 1:
            return ""
        wanted = axes_text(self.dims, is_channels_first(self.config))
        if len(shape) == self.dims + 3:
            return (f"{self.keras_class} takes {wanted}. This input has one more axis, as a sequence of them "
                    f"has: wrap the layer in TimeDistributed to apply it to each step.")
        return f"{self.keras_class} takes {wanted}; it receives {len(shape)} axes."

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # maxima, means, copies, zeros, fixed interpolation weights: no weight

    def spatial(self, shape: Sequence[Dim]) -> Tuple[Dim, ...]:
        return spatial_sizes(self.config, shape, self.dims)

    def loop_text(self, sizes: Sequence[Dim]) -> str:
        """``for i over 4 rows, j over 4 cols, the same for every channel``."""
        return ("for " + ", ".join(f"{letter} over {count_text(size)} {name}" for letter, size, name
                                   in zip(INDEX_LETTERS[self.dims], sizes, AXIS_NAMES[self.dims]))
                + ("" if self.dims == 1 else ", the same for every channel"))
