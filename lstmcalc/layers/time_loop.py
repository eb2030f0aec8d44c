"""The recurrent loop over time, as Keras 3's ``backend.rnn`` runs it (TensorFlow backend, not
unrolled: keras/src/backend/tensorflow/rnn.py), in NumPy.

The cells' input projections (x · kernel + bias) are computed for all time steps in one matrix
product before the loop; each step then only adds the recurrent part. Masking follows Keras:

- a masked step keeps every state from the step before;
- its output is the previous step's output (zeros before the first step), or zeros when
  ``zero_output_for_mask`` (Bidirectional forces it on its layers when they return sequences);
- the last output is the output of the last step after masking, so with ``return_sequences:
  false`` a right-padded sequence yields the output of its last real step;
- ``go_backwards`` reads the steps last to first and returns the sequence in that reversed order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, List, Optional, Tuple

from .base import Problem, numpy_module

if TYPE_CHECKING:
    from numpy import ndarray

Step = Callable[["ndarray", List["ndarray"]], Tuple["ndarray", List["ndarray"]]]


def _expanded(step_mask: "ndarray", like: "ndarray") -> "ndarray":
    """One step's mask with trailing axes added up to ``like``'s rank, as Keras's ``_expand_mask``:
    a (batch,) mask keeps or drops a sample's whole output; a per-pixel mask (batch, rows, cols)
    from Masking on video frames keeps or drops each position of a ConvLSTM's maps."""
    return step_mask.reshape(step_mask.shape + (1,) * (like.ndim - step_mask.ndim))


def run_recurrence(step: Step, projected: "ndarray", initial_states: List["ndarray"],
                   mask: Optional["ndarray"], *, go_backwards: bool = False,
                   zero_output_for_mask: bool = False,
                   return_sequences: bool = False) -> Tuple["ndarray", List["ndarray"]]:
    """Run ``step(projected[:, t], states) -> (output, new_states)`` over the time axis.

    ``projected`` is (batch, time, ...) and ``mask`` (batch, time, ...) booleans or None. Returns
    the output sequence (batch, time, ...) or the last output (batch, ...), and the final states.
    (ConvLSTM's loop keeps its filters first: (4·filters, time, batch, ...) in, a sequence
    (filters, time, batch, ...) out; the loop only needs time on axis 1.)
    """
    np = numpy_module()
    steps = projected.shape[1]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    states = list(initial_states)
    sequence: Optional["ndarray"] = None
    previous: Optional["ndarray"] = None
    for position, time in enumerate(order):
        output, new_states = step(projected[:, time], states)
        if mask is not None:
            step_mask = mask[:, time]
            if zero_output_for_mask or previous is None:
                fallback = np.zeros_like(output)
            else:
                fallback = previous
            output = np.where(_expanded(step_mask, output), output, fallback)
            new_states = [np.where(_expanded(step_mask, new), new, old) for new, old in zip(new_states, states)]
        if return_sequences:
            if sequence is None:
                sequence = np.empty((output.shape[0], steps) + output.shape[1:], dtype=output.dtype)
            sequence[:, position] = output
        previous, states = output, list(new_states)
    if previous is None:
        raise Problem("V004", "A recurrent layer needs at least one time step; its input has 0.",
                           "Give the sequence at least one time step.")
    return (sequence if return_sequences else previous), states  # type: ignore[return-value]
