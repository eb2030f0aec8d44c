"""Shapes as tuples of ints, with ``None`` for an unknown dimension."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

Dim = Optional[int]
Shape = Tuple[Dim, ...]


def format_shape(shape: Sequence[Dim]) -> str:
    """``(None, 50, 10)``, as Python prints a shape tuple."""
    return str(tuple(shape))


def format_summary_shape(shape: Sequence[Dim]) -> str:
    """Keras's ``summary()`` form: ``(None, 50, 10)``, and ``(None)`` for rank one."""
    return "(" + ", ".join(str(d) for d in shape) + ")"


def format_summary_shapes(shapes: Sequence[Sequence[Dim]]) -> str:
    """One shape as ``(None, 64)``; several as Keras lists them: ``[(None, 64), (None, 64)]``."""
    if len(shapes) == 1:
        return format_summary_shape(shapes[0])
    return "[" + ", ".join(format_summary_shape(s) for s in shapes) + "]"


def num_elements(shape: Sequence[Dim]) -> Optional[int]:
    """Product of the dimensions, or ``None`` when one is unknown."""
    total = 1
    for dim in shape:
        if dim is None:
            return None
        total *= dim
    return total


# Frameworks count elements in signed 64-bit integers (TensorFlow's int64 shapes, torch's
# int64_t): a dimension or tensor of 2**63 elements or more cannot exist in any of them.
MAX_ELEMENTS = 2 ** 63 - 1


def product(shape: Sequence[int]) -> int:
    """Product of fully known dimensions (1 for a scalar)."""
    total = 1
    for dim in shape:
        total *= dim
    return total
