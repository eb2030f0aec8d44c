"""Arithmetic that shows its work: a number built from products and sums keeps its terms, so the
text printed for a count (``4 × (128 × (10 + 128) + 128)``) is the very expression that computed it.

Each number may carry a label (``units``, ``features``) for the general form of the same formula
(``gates × (units × (features + units) + units)``).
"""

from __future__ import annotations

from typing import Optional, Tuple, Union

_NUMBER, _PRODUCT, _SUM = 0, 1, 2  # binding strength, tightest first


class Expression:
    """An integer with the arithmetic that produced it. A value: equal and hashed by its parts.
    (Plain classes rather than frozen dataclasses: a summary imports this module, and defining a
    dataclass costs more than all the arithmetic a summary does.)"""

    __slots__ = ()
    precedence = _NUMBER

    def _parts(self) -> tuple:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._parts() == other._parts()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__,) + self._parts())

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._parts()!r}"

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


class Number(Expression):
    __slots__ = ("amount", "label")

    def __init__(self, amount: int, label: Optional[str] = None):
        self.amount, self.label = amount, label

    def _parts(self) -> tuple:
        return (self.amount, self.label)

    @property
    def value(self) -> int:
        return self.amount

    def text(self, symbolic: bool = False) -> str:
        if symbolic and self.label:
            return self.label
        return f"{self.amount:,}"


class Product(Expression):
    __slots__ = ("factors",)
    precedence = _PRODUCT

    def __init__(self, factors: Tuple[Expression, ...]):
        self.factors = factors

    def _parts(self) -> tuple:
        return (self.factors,)

    @property
    def value(self) -> int:
        result = 1
        for factor in self.factors:
            result *= factor.value
        return result

    def text(self, symbolic: bool = False) -> str:
        return " × ".join(factor._inside(_PRODUCT, symbolic) for factor in self.factors)


class Sum(Expression):
    __slots__ = ("terms",)
    precedence = _SUM

    def __init__(self, terms: Tuple[Expression, ...]):
        self.terms = terms

    def _parts(self) -> tuple:
        return (self.terms,)

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
