"""TensorFlow's image resize kernels, which Keras's UpSampling2D calls for every interpolation but
'nearest', as NumPy weight matrices: ``weights(method, size, factor)`` is the (size·factor, size)
matrix that maps one axis of the input to the same axis of the output. Each kernel weighs the rows
and the columns independently, so resizing an image is the matrix applied along each axis in turn.

The positions are computed in float32 as TensorFlow computes them (half-pixel centres:
``(i + 0.5) / factor − 0.5``); bicubic reads its weights from TensorFlow's 1024-entry table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import numpy_module

if TYPE_CHECKING:
    from numpy import ndarray

METHODS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")

_TABLE_SIZE = 1024  # tensorflow/core/kernels/image/resize_bicubic_op.cc
_KEYS_A = -0.5  # Keys' cubic kernel, as TensorFlow uses it with half-pixel centres


def _scale(size: int, factor: int):
    np = numpy_module()
    return np.float32(size) / np.float32(size * factor)  # input / output, as CalculateResizeScale


def _half_pixel(count: int, scale):
    np = numpy_module()
    return (np.arange(count, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)


def _bilinear(size: int, factor: int) -> "ndarray":
    """resize_bilinear with half_pixel_centers: the two neighbours, edges clamped."""
    np = numpy_module()
    out = size * factor
    position = _half_pixel(out, _scale(size, factor))
    floor = np.floor(position)
    lerp = (position - floor).astype(np.float64)
    lower = np.maximum(floor.astype(np.int64), 0)
    upper = np.minimum(np.ceil(position).astype(np.int64), size - 1)
    matrix = np.zeros((out, size))
    rows = np.arange(out)
    np.add.at(matrix, (rows, lower), 1 - lerp)
    np.add.at(matrix, (rows, upper), lerp)
    return matrix


def _keys_table() -> "ndarray":
    """TensorFlow's InitCoeffsTable(a = −0.5): (weight of the nearer, weight of the farther) neighbour."""
    np = numpy_module()
    x = np.arange(_TABLE_SIZE + 1) / _TABLE_SIZE
    a = _KEYS_A
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far_x = x + 1.0
    far = ((a * far_x - 5 * a) * far_x + 8 * a) * far_x - 4 * a
    return np.stack([near, far], axis=1).astype(np.float32)


def _bicubic(size: int, factor: int) -> "ndarray":
    """resize_bicubic with half_pixel_centers: four neighbours weighted from the table; neighbours
    outside the input get no weight and the others are renormalised."""
    np = numpy_module()
    out = size * factor
    table = _keys_table()
    position = _half_pixel(out, _scale(size, factor))
    start = np.floor(position).astype(np.int64)
    offset = np.rint((position - np.floor(position)) * np.float32(_TABLE_SIZE)).astype(np.int64)  # lrintf
    taps = np.stack([table[offset, 1], table[offset, 0], table[_TABLE_SIZE - offset, 0],
                     table[_TABLE_SIZE - offset, 1]], axis=1).astype(np.float64)
    sources = start[:, None] + np.arange(-1, 3)[None, :]
    taps = np.where((sources >= 0) & (sources < size), taps, 0.0)
    taps /= taps.sum(axis=1, keepdims=True)
    matrix = np.zeros((out, size))
    np.add.at(matrix, (np.repeat(np.arange(out), 4), np.clip(sources, 0, size - 1).ravel()), taps.ravel())
    return matrix


def _area(size: int, factor: int) -> "ndarray":
    """resize_area: each output cell averages the input cells it overlaps, by overlap."""
    np = numpy_module()
    out = size * factor
    scale = _scale(size, factor)
    matrix = np.zeros((out, size))
    for row in range(out):
        start, stop = np.float32(row) * scale, np.float32(row + 1) * scale
        for cell in range(int(np.floor(start)), int(np.ceil(stop))):
            overlap = min(cell + 1, stop) - max(cell, start)
            matrix[row, min(max(cell, 0), size - 1)] += overlap / scale
    return matrix


def _lanczos(radius: int):
    np = numpy_module()

    def kernel(x: "ndarray") -> "ndarray":
        x = np.abs(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi * np.pi * x * x)
        return np.where(x > radius, 0.0, np.where(x <= 1e-3, 1.0, value))
    return kernel


def _scale_and_translate(size: int, factor: int, radius: int) -> "ndarray":
    """scale_and_translate (lanczos3, lanczos5) without antialiasing: the kernel at each input
    position within ``radius`` of the sample point, normalised to sum to 1."""
    np = numpy_module()
    out = size * factor
    inverse = np.float32(1.0) / (np.float32(out) / np.float32(size))
    kernel = _lanczos(radius)
    matrix = np.zeros((out, size))
    for row in range(out):
        sample = (np.float32(row) + np.float32(0.5)) * inverse
        first = min(max(int(np.ceil(sample - radius - 0.5)), 0), size - 1)
        last = min(max(int(np.floor(sample + radius - 0.5)), 0), size - 1) + 1
        sources = np.arange(first, last)
        weights = kernel(sources + 0.5 - float(sample))
        total = weights.sum()
        if abs(total) >= 1000 * np.finfo(np.float32).tiny:
            matrix[row, first:last] = weights / total
    return matrix


def _nearest(size: int, factor: int) -> "ndarray":
    """Keras repeats each row (ops.repeat) rather than calling resize for 'nearest'."""
    np = numpy_module()
    return np.repeat(np.eye(size), factor, axis=0)


def weights(method: str, size: int, factor: int) -> "ndarray":
    """The (size·factor, size) matrix that resizes one axis of ``size`` by ``factor``."""
    if method == "nearest":
        return _nearest(size, factor)
    if method == "bilinear":
        return _bilinear(size, factor)
    if method == "bicubic":
        return _bicubic(size, factor)
    if method == "area":
        return _area(size, factor)
    return _scale_and_translate(size, factor, 3 if method == "lanczos3" else 5)


def resize_axis(x: "ndarray", axis: int, method: str, factor: int) -> "ndarray":
    """``x`` resized by ``factor`` along ``axis``."""
    np = numpy_module()
    if factor == 1 and method == "nearest":
        return x
    matrix = weights(method, x.shape[axis], factor)
    moved = np.moveaxis(x, axis, -1)
    return np.moveaxis(moved @ matrix.T, -1, axis)
