"""Keras 3's activation functions in NumPy, by the names a spec uses (``activation: relu``).

Each follows keras/src/activations/activations.py and the TensorFlow backend's ops
(keras/src/backend/tensorflow/nn.py) with the defaults a name string gets: ``hard_sigmoid`` is
``relu6(x + 3) / 6``, ``gelu`` is the exact (erf) form, ``leaky_relu`` has slope 0.2,
``softmax``/``log_softmax``/``glu``/``sparsemax`` act on the last axis, ``swish`` is ``silu``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Dict, Optional

from .base import Problem, numpy_module

if TYPE_CHECKING:
    from numpy import ndarray

# tf.nn.selu's constants.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def sigmoid(x: "ndarray", out: Optional["ndarray"] = None) -> "ndarray":
    """1 / (1 + e^−x), into ``out`` when given (``out=x`` overwrites x and allocates nothing).

    Below x ≈ −88 (float32) e^−x overflows to inf and the result is 0, where the true value is
    under 1e-38: callers run under ``errstate(over="ignore")``. One exp costs less than the tanh
    of 0.5·(1 + tanh(x/2)), the same function."""
    np = numpy_module()
    # Not np.negative: NumPy 2.4 writes wrong values with it in place on some strided views
    # (a one-unit LSTM's gate columns, 16 bytes apart).
    out = np.multiply(x, -1, out=out)
    np.exp(out, out=out)
    out += 1
    return np.divide(1, out, out=out)  # np.reciprocal gives the same values without SIMD


def softplus(x: "ndarray") -> "ndarray":
    np = numpy_module()
    return np.logaddexp(0, x).astype(x.dtype, copy=False)


def relu6(x: "ndarray") -> "ndarray":
    return numpy_module().clip(x, 0, 6)


def hard_sigmoid(x: "ndarray") -> "ndarray":
    return relu6(x + 3) / x.dtype.type(6)


def _where(condition, a, b, like: "ndarray") -> "ndarray":
    return numpy_module().where(condition, a, b).astype(like.dtype, copy=False)


def erf(x: "ndarray") -> "ndarray":
    """The error function, element by element with ``math.erf`` (NumPy has none; exactness
    matters more than speed here, and only gelu uses it)."""
    np = numpy_module()
    return np.frompyfunc(math.erf, 1, 1)(np.asarray(x, dtype="float64")).astype("float64")


def _softmax(x: "ndarray") -> "ndarray":
    np = numpy_module()
    shifted = x - np.max(x, axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=-1, keepdims=True)


def _log_softmax(x: "ndarray") -> "ndarray":
    np = numpy_module()
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _glu(x: "ndarray") -> "ndarray":
    if x.shape[-1] % 2:
        raise Problem("V005", f"axis size must be divisible by 2. Received: x.shape={x.shape} with axis=-1",
                           "glu halves the last axis: give the layer an even number of units.")
    half = x.shape[-1] // 2
    return x[..., :half] * sigmoid(x[..., half:])


def _sparsemax(x: "ndarray") -> "ndarray":
    np = numpy_module()
    ordered = -np.sort(-x, axis=-1)
    cumulative = np.cumsum(ordered, axis=-1)
    ranks = np.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    support = ordered - (cumulative - 1) / ranks > 0
    k = np.sum(support, axis=-1, keepdims=True).astype(x.dtype)
    tau = (np.sum(np.where(support, cumulative, 0), axis=-1, keepdims=True) - 1) / k
    return np.maximum(x - tau, 0).astype(x.dtype, copy=False)


def _gelu(x: "ndarray") -> "ndarray":
    return (0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))).astype(x.dtype, copy=False)


def _elu(x: "ndarray") -> "ndarray":
    np = numpy_module()
    return _where(x > 0, x, np.expm1(np.minimum(x, 0)), x)


def _selu(x: "ndarray") -> "ndarray":
    np = numpy_module()
    return (SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))).astype(x.dtype, copy=False)


def _threshold(x: "ndarray") -> "ndarray":
    raise Problem("V005", "threshold() missing 2 required positional arguments: 'threshold' and "
                               "'default_value'",
                       "Keras fails too when it runs this layer: activation='threshold' cannot be "
                       "given its arguments by name. Use another activation.")


def _functions() -> Dict[str, Callable[["ndarray"], "ndarray"]]:
    np = numpy_module()
    return {
        "linear": lambda x: x,
        "relu": lambda x: np.maximum(x, 0),
        "leaky_relu": lambda x: _where(x >= 0, x, x * x.dtype.type(0.2), x),
        "relu6": relu6,
        "elu": _elu,
        "celu": lambda x: (np.maximum(x, 0) + np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False),
        "selu": _selu,
        "softplus": softplus,
        "softsign": lambda x: x / (1 + np.abs(x)),
        "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
        "soft_shrink": lambda x: _where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0), x),
        "sparse_plus": lambda x: _where(x <= -1, 0, np.where(x < 1, 0.25 * (x + 1) ** 2, x), x),
        "silu": lambda x: x * sigmoid(x),
        "swish": lambda x: x * sigmoid(x),
        "gelu": _gelu,
        "glu": _glu,
        "tanh": np.tanh,
        "tanh_shrink": lambda x: x - np.tanh(x),
        "threshold": _threshold,
        "sigmoid": sigmoid,
        "sparse_sigmoid": lambda x: _where(x <= -1, 0, np.where(x >= 1, 1, 0.5 * (x + 1)), x),
        "exponential": np.exp,
        "hard_sigmoid": hard_sigmoid,
        "hard_silu": lambda x: x * hard_sigmoid(x),
        "hard_swish": lambda x: x * hard_sigmoid(x),
        "hard_tanh": lambda x: np.clip(x, -1, 1),
        "hard_shrink": lambda x: _where(np.abs(x) > 0.5, x, 0, x),
        "mish": lambda x: x * np.tanh(softplus(x)),
        "softmax": _softmax,
        "log_softmax": _log_softmax,
        "log_sigmoid": lambda x: -softplus(-x),
        "sparsemax": _sparsemax,
    }


# The activations of the last axis as a whole; the others act on each value alone.
ON_LAST_AXIS = frozenset({"softmax", "log_softmax", "glu", "sparsemax"})

_CACHE: Dict[str, Callable[["ndarray"], "ndarray"]] = {}


def activation_function(name: Optional[str]) -> Callable[["ndarray"], "ndarray"]:
    """The NumPy function for a Keras activation name (None is linear, as ``activations.get``)."""
    if not _CACHE:
        _CACHE.update(_functions())
    return _CACHE[name or "linear"]


def _scratch(x: "ndarray") -> Optional["ndarray"]:
    """Where an activation of ``x`` may write: x itself when it is contiguous; a new array for a
    strided view (a gate's columns of z), whose first pass makes it contiguous — cheaper than
    passing over the view again."""
    return x if x.flags.c_contiguous else None


def _scratch_functions() -> Dict[str, Callable[["ndarray"], "ndarray"]]:
    np = numpy_module()
    return {
        "linear": lambda x: x,
        "relu": lambda x: np.maximum(x, 0, out=_scratch(x)),
        "sigmoid": lambda x: sigmoid(x, out=_scratch(x)),
        "tanh": lambda x: np.tanh(x, out=_scratch(x)),
    }


_SCRATCH_CACHE: Dict[str, Callable[["ndarray"], "ndarray"]] = {}


def scratch_activation(name: Optional[str]) -> Callable[["ndarray"], "ndarray"]:
    """``activation_function(name)`` for an argument whose values are not needed afterwards (a
    recurrent cell's gate pre-activations): the common activations overwrite it when it is
    contiguous, with the same numbers; the others return a new array (glu's has half the width).
    Use the return value."""
    if not _SCRATCH_CACHE:
        _SCRATCH_CACHE.update(_scratch_functions())
    return _SCRATCH_CACHE.get(name or "linear") or activation_function(name)


def apply(name: Optional[str], x: "ndarray") -> "ndarray":
    np = numpy_module()
    with np.errstate(over="ignore", under="ignore"):
        return activation_function(name)(x)
