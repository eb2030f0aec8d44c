"""The words a layer explains itself with (``lstmcalc explain``): equations, symbols, blocks,
weight rows and tensor rows, and the notation helpers that fill them. Layer classes build these;
lstmcalc.explain assembles them into an Explanation and the renderers print them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Sequence, Tuple

from ..arithmetic import Expression
from ..shapes import Dim

if TYPE_CHECKING:
    from .base import TensorSpec


def tensor_text(shape: Sequence[Dim]) -> str:
    """A tensor's shape with the batch axis named: ``(batch, 50, 10)``; a known batch stays a number."""
    parts = ["batch" if index == 0 and dim is None else str(dim) for index, dim in enumerate(shape)]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def weight_text(shape: Sequence[Dim]) -> str:
    """A weight's shape as Python prints the tuple: ``(10, 512)``, ``(512,)``."""
    return str(tuple(shape))


class Formula(NamedTuple):
    """A count with its arithmetic: ``text`` = ``value``; ``general`` names the terms."""

    text: str
    value: int
    general: Optional[str] = None

    @classmethod
    def of(cls, expression: Expression) -> "Formula":
        general = expression.text(symbolic=True)
        return cls(expression.text(), expression.value, general if general != expression.text() else None)


class Equation(NamedTuple):
    lhs: str
    rhs: str
    note: str = ""


class Symbol(NamedTuple):
    names: str
    shape: str
    meaning: str


@dataclass
class Block:
    """A group of equations run together: one step of a recurrent cell, one copy of a wrapper."""

    title: str
    loop: str = ""
    equations: List[Equation] = field(default_factory=list)
    symbols: List[Symbol] = field(default_factory=list)
    legend: str = ""


class WeightRow(NamedTuple):
    name: str
    shape: Tuple[Dim, ...]
    size: int
    layout: str = ""
    trainable: bool = True


@dataclass
class FrameworkView:
    """The same layer as another framework stores it (PyTorch for recurrent layers)."""

    framework: str
    module: str
    equivalent: bool
    weights: List[WeightRow] = field(default_factory=list)
    parameters: Optional[Formula] = None
    notes: List[str] = field(default_factory=list)


class ToolCount(NamedTuple):
    """What a MAC-counting tool (torchinfo, thop, ptflops, DeepSpeed) reports for a module: its
    number, the formula that gives it (from the tool's source) and why it differs from lstmcalc's."""

    tool: str
    value: Optional[int]
    unit: str  # MACs or FLOPs
    formula: str
    why: str


class TensorRow(NamedTuple):
    role: str
    shape: str
    meaning: str
    returned: bool = True


class Setting(NamedTuple):
    """The layer's outputs under one return_sequences / return_state combination."""

    return_sequences: bool
    return_state: bool
    shapes: Tuple[str, ...]
    roles: Tuple[str, ...]
    current: bool


ACTIVATION_SYMBOLS = {"sigmoid": "σ", "linear": ""}


def applied(activation: Optional[str], argument: str) -> str:
    """``σ(argument)``; no wrapper for a linear activation (None)."""
    symbol = ACTIVATION_SYMBOLS.get(activation or "linear", activation)
    return f"{symbol}({argument})" if symbol else argument


def legend(*activations: Optional[str], extra: str = "") -> str:
    parts = ["· = matrix product"]
    if "sigmoid" in activations:
        parts.append("σ = sigmoid")
    if extra:
        parts.append(extra)
    return ", ".join(parts)


def count_text(dim: Dim) -> str:
    return "T" if dim is None else f"{dim:,}"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


@dataclass
class Math:
    """A layer's equations, the sentences that read them, and what each weight holds."""

    blocks: List[Block] = field(default_factory=list)
    in_words: List[str] = field(default_factory=list)
    weight_layouts: Dict[str, str] = field(default_factory=dict)
    headline: str = ""


class Context(NamedTuple):
    """What a layer's equations depend on beyond the layer and its inputs."""

    initial_state: bool = False  # the spec gives the recurrent layer its initial states


def subscript(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def io_symbols(inputs: Sequence["TensorSpec"], outputs: Sequence[Sequence[Dim]], x: str = "x",
               y: str = "y") -> List[Symbol]:
    """The input and output symbols of a one-input layer."""
    return [Symbol(x, tensor_text(inputs[0].shape), "the input"), Symbol(y, tensor_text(outputs[0]), "the output")]


def one_block(title: str, equations: List[Equation], symbols: List[Symbol], loop: str = "",
              legend_text: str = "", layouts: Optional[Dict[str, str]] = None, words: Optional[List[str]] = None,
              headline: str = "") -> Math:
    """The Math of a layer described by a single block of equations."""
    return Math([Block(title, loop, equations, symbols, legend_text)], words or [], layouts or {}, headline)
