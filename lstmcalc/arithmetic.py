"""Arithmetic that shows its work: a number built from products and sums keeps its terms, so the
text printed for a count (``4 × (128 × (10 + 128) + 128)``) is the very expression that computed it.

Each number may carry a label (``units``, ``features``) for the general form of the same formula
(``gates × (units × (features + units) + units)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple, Union

_NUMBER, _PRODUCT, _SUM = 0, 1, 2  # binding strength, tightest first


class Expression:
    """An integer with the arithmetic that produced it."""

    precedence = _NUMBER

    @property
    def value(self) -> int:
        raise NotImplementedError

    def text(self, symbolic: bool = False) -> str:
        """``4 × (128 × (10 + 128) + 128)``; with ``symbolic`` the labels instead of the numbers."""
        raise NotImplementedError

    def _inside(self, outer: int, symbolic: bool) -> str:
        text = self.text(symbolic)
        return f"({text})" if self.precedence > outer else text

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class Number(Expression):
    amount: int
    label: Optional[str] = None

    @property
    def value(self) -> int:
        return self.amount

    def text(self, symbolic: bool = False) -> str:
        if symbolic and self.label:
            return self.label
        return f"{self.amount:,}"


@dataclass(frozen=True)
class Product(Expression):
    factors: Tuple[Expression, ...]
    precedence = _PRODUCT

    @property
    def value(self) -> int:
        result = 1
        for factor in self.factors:
            result *= factor.value
        return result

    def text(self, symbolic: bool = False) -> str:
        return " × ".join(factor._inside(_PRODUCT, symbolic) for factor in self.factors)


@dataclass(frozen=True)
class Sum(Expression):
    terms: Tuple[Expression, ...]
    precedence = _SUM

    @property
    def value(self) -> int:
        return sum(term.value for term in self.terms)

    def text(self, symbolic: bool = False) -> str:
        return " + ".join(term._inside(_SUM, symbolic) for term in self.terms)


Operand = Union[Expression, int]


def number(amount: int, label: Optional[str] = None) -> Number:
    return Number(int(amount), label)


def _operand(item: Operand) -> Expression:
    return item if isinstance(item, Expression) else number(item)


def times(*factors: Operand) -> Expression:
    """The product of the factors; a single factor stands alone."""
    items = tuple(_operand(factor) for factor in factors)
    return items[0] if len(items) == 1 else Product(items)


def plus(*terms: Operand) -> Expression:
    """The sum of the terms; a single term stands alone, and no term gives 0."""
    items = tuple(_operand(term) for term in terms)
    if not items:
        return number(0)
    return items[0] if len(items) == 1 else Sum(items)


ZERO = number(0)
