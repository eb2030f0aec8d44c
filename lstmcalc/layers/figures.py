"""Compute figures a layer reports about itself: MACs and values kept for backpropagation.

``Amount`` keeps an unknown length apart instead of guessing it: ``fixed + per_step × T``.
lstmcalc.compute adds these up over a model (docs/compute.md).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ..arithmetic import ZERO, Expression
from ..records import TupleRecord


class MacCount(TupleRecord):
    """Multiply–accumulate operations of one sample's forward pass: ``per_step`` (an Expression,
    so its arithmetic can be shown) done ``steps`` times — time steps for a recurrent layer,
    positions for a layer applied along a sequence, 1 otherwise; None when the length is unknown.
    Only products with a weight (matrix products, convolutions) count: docs/compute.md."""

    per_step: Expression
    steps: Optional[int] = 1
    unit: str = "step"  # what one of the ``steps`` is: "step" or "position"

    @property
    def total(self) -> Optional[int]:
        return None if self.steps is None else self.per_step.value * self.steps

    def folded(self, fold: Optional[int]) -> "MacCount":
        """The count per sample when each sample is ``fold`` items of the batch axis the count is
        per (TensorSpec.batch_fold); None: unknown, as an unknown length."""
        if fold == 1:
            return self
        return MacCount(self.per_step, None if fold is None or self.steps is None else self.steps * fold, self.unit)


NO_MACS = MacCount(ZERO)


class Amount(TupleRecord):
    """``fixed + per_step × T``, where T is a length the spec leaves unknown (None)."""

    fixed: int = 0
    per_step: int = 0

    def __add__(self, other: "Amount") -> "Amount":
        return Amount(self.fixed + other.fixed, self.per_step + other.per_step)

    def times(self, factor: int) -> "Amount":
        return Amount(self.fixed * factor, self.per_step * factor)

    @property
    def known(self) -> bool:
        return self.per_step == 0

    def to_dict(self) -> Dict[str, Any]:
        return {"value": self.fixed if self.known else None, "fixed": self.fixed, "per_step": self.per_step}


def repeated(per_step: int, steps: Optional[int]) -> Amount:
    """``per_step`` done ``steps`` times; an unknown count stays a per-step amount."""
    return Amount(per_step * steps, 0) if steps is not None else Amount(0, per_step)
