"""The dense recurrent cells' time steps fused for NumPy: LSTM, GRU and SimpleRNN, in Keras's and
PyTorch's layouts, when their activations can be computed in place.

The weights are prepared once per layer (``fused_columns``): the gate blocks of the kernels,
recurrent kernels and biases put in the fused order, the sigmoid gates first, their columns
negated. Each step then multiplies h·U into one preallocated buffer, adds the step's input
projection in place, and runs every sigmoid gate through ONE np.exp over their contiguous block,
which gives e^−x directly; 1 + e^−x is the gate's reciprocal, so the steps divide by it where
the equations multiply by the gate (c = c₋₁ / (1 + e^−z_f) + g / (1 + e^−z_i)): no reciprocal
pass. Negating a column is exact, so e^−x is bit for bit what the plain sigmoid computes.

Why exp rather than σ(x) = 0.5·tanh(x/2) + 0.5 over the whole gate block: NumPy's float32 tanh
costs about 1.4× its exp per value on AVX2 (NumPy 2.4), so one tanh over i, f, o and the
candidate is slower than one exp over i, f, o and one tanh over the candidate
(benchmarks/forward_pass.py, `--gate-forms`).

No array is allocated after a layer's first step: each state alternates between two buffers,
so the states a step reads (which the time loop keeps for masking) are never the ones it writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, List, Optional, Sequence

from .activations import sigmoid
from .base import numpy_module
from .time_loop import Step

if TYPE_CHECKING:
    from numpy import ndarray

# The activations a fused step computes in place, into a buffer of the same shape.
IN_PLACE = ("tanh", "relu", "sigmoid", "linear")


def fusable(*activations: Optional[str]) -> bool:
    """Whether the fused steps compute these activations (the others take the plain steps)."""
    return all((name or "linear") in IN_PLACE for name in activations)


def activation_into(name: Optional[str]) -> Callable[["ndarray", "ndarray"], "ndarray"]:
    """(x, out) ↦ activation(x) written into ``out`` (linear returns x itself), for ``fusable`` names."""
    np = numpy_module()
    functions = {
        "tanh": lambda x, out: np.tanh(x, out=out),
        "relu": lambda x, out: np.maximum(x, 0, out=out),
        "sigmoid": lambda x, out: sigmoid(x, out=out),
        "linear": lambda x, out: x,
    }
    return functions[name or "linear"]


def fused_columns(array: "ndarray", blocks: Sequence[int], sigmoids: int) -> "ndarray":
    """A new array of ``array``'s last-axis gate blocks in the fused order (``blocks`` lists
    the layer's own block indices), the first ``sigmoids`` blocks negated."""
    np = numpy_module()
    width = array.shape[-1] // len(blocks)
    fused = np.concatenate([array[..., block * width:(block + 1) * width] for block in blocks], axis=-1)
    # np.multiply, not np.negative (see activations.sigmoid); a sign change is exact.
    np.multiply(fused[..., :sigmoids * width], -1, out=fused[..., :sigmoids * width])
    return fused


class Buffers:
    """A step's preallocated arrays: its scratch arrays, and a pair for each state, of which
    successive steps write one and the other in turn."""

    def __init__(self) -> None:
        self.arrays: Optional[List["ndarray"]] = None
        self.turns: List[List["ndarray"]] = []
        self.turn = 0

    def get(self, shapes: Sequence[tuple], pairs: Sequence[tuple], dtype) -> List["ndarray"]:
        """The arrays of ``shapes``, then one of each pair of ``pairs`` (the other than last call's)."""
        np = numpy_module()
        if self.arrays is None:
            self.arrays = [np.empty(shape, dtype) for shape in shapes] + \
                          [np.empty(shape, dtype) for shape in pairs for _ in range(2)]
            fixed = self.arrays[:len(shapes)]
            self.turns = [fixed + self.arrays[len(shapes) + turn::2] for turn in (0, 1)]
        self.turn ^= 1
        return self.turns[self.turn]


def lstm_step(recurrent: "ndarray", activation: Optional[str], bias: Optional["ndarray"],
              projection: Optional["ndarray"] = None) -> Step:
    """An LSTM step on fused weights, blocks (i, f, o, c), i, f, o negated: c = f ⊙ c₋₁ + i ⊙
    act(z_c), h = o ⊙ act(c), then h · projection with PyTorch's proj_size. The input bias is
    added at each step (to one step's gates, in the cache) rather than to every step's projection
    at once (a pass through memory over all of them)."""
    np = numpy_module()
    units = recurrent.shape[1] // 4
    act = activation_into(activation)
    buffers = Buffers()
    blocks: List["ndarray"] = []  # views of the gate buffer, made once: slicing costs as much as a small ufunc

    def step(projected: "ndarray", states: List["ndarray"]):
        h, c = states
        batch = h.shape[0]
        width = units if projection is None else projection.shape[1]
        z, scratch, c_new, h_new = buffers.get([(batch, 4 * units), (batch, units)],
                                               [(batch, units), (batch, width)], recurrent.dtype)
        if not blocks:
            blocks.extend([z[:, :3 * units]] + [z[:, k * units:(k + 1) * units] for k in range(4)])
        gates, into_i, into_f, into_o, candidate = blocks
        np.matmul(h, recurrent, out=z)
        z += projected
        if bias is not None:
            z += bias
        np.exp(gates, out=gates)
        gates += 1  # 1 + e^−x = 1 / σ(x)
        g = act(candidate, candidate)
        np.divide(c, into_f, out=c_new)
        np.divide(g, into_i, out=candidate)
        c_new += candidate
        if projection is None:
            np.divide(act(c_new, scratch), into_o, out=h_new)
        else:
            np.divide(act(c_new, scratch), into_o, out=scratch)
            np.matmul(scratch, projection, out=h_new)
        return h_new, [h_new, c_new]
    return step


def gru_step(recurrent: "ndarray", activation: Optional[str], bias: Optional["ndarray"],
             recurrent_bias: Optional["ndarray"], reset_after: bool) -> Step:
    """A GRU step on fused weights, blocks (z, r, h), z and r negated. reset_after:
    hh = act(x·W_h + b_h + r ⊙ (h₋₁·U_h + b'_h)) (``recurrent_bias`` is b'_h alone: the z and r
    parts of the recurrent bias belong in the input ``bias``); otherwise hh = act(x·W_h + b_h +
    (r ⊙ h₋₁)·U_h). Then h = z ⊙ h₋₁ + (1 − z) ⊙ hh, computed as hh + z ⊙ (h₋₁ − hh)."""
    np = numpy_module()
    units = recurrent.shape[0]
    act = activation_into(activation)
    buffers = Buffers()
    # reset_after multiplies h by all three blocks at once; without it, the candidate's product waits for r.
    first_kernel = recurrent if reset_after else np.ascontiguousarray(recurrent[:, :2 * units])
    candidate_kernel = None if reset_after else np.ascontiguousarray(recurrent[:, 2 * units:])
    blocks: List["ndarray"] = []  # views of the gate buffer, made once (as in lstm_step)

    def step(projected: "ndarray", states: List["ndarray"]):
        h = states[0]
        batch = h.shape[0]
        inner, scratch, h_new = buffers.get([(batch, 3 * units), (batch, units)], [(batch, units)],
                                            recurrent.dtype)
        if not blocks:
            blocks.extend([inner[:, :2 * units], inner[:, 2 * units:], inner[:, :units], inner[:, units:2 * units]])
        gates, candidate, into_z, into_r = blocks
        np.matmul(h, first_kernel, out=inner if reset_after else gates)
        gates += projected[:, :2 * units]
        if bias is not None:
            gates += bias[:2 * units]
        np.exp(gates, out=gates)
        gates += 1
        if reset_after:
            if recurrent_bias is not None:
                candidate += recurrent_bias
            np.divide(candidate, into_r, out=candidate)
        else:
            np.divide(h, into_r, out=scratch)
            np.matmul(scratch, candidate_kernel, out=candidate)
        candidate += projected[:, 2 * units:]
        if bias is not None:
            candidate += bias[2 * units:]
        hh = act(candidate, candidate)
        np.subtract(h, hh, out=h_new)
        np.divide(h_new, into_z, out=h_new)
        h_new += hh
        return h_new, [h_new]
    return step


def simple_step(recurrent: "ndarray", activation: Optional[str], bias: Optional["ndarray"]) -> Step:
    """A SimpleRNN step: h = act(x·W + b + h₋₁·U), in place in the step's buffer."""
    np = numpy_module()
    act = activation_into(activation)
    buffers = Buffers()

    def step(projected: "ndarray", states: List["ndarray"]):
        h = states[0]
        (z,) = buffers.get([], [(h.shape[0], recurrent.shape[1])], recurrent.dtype)
        np.matmul(h, recurrent, out=z)
        z += projected
        if bias is not None:
            z += bias
        output = act(z, z)
        return output, [output]
    return step
