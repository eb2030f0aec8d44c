"""The words a layer explains itself with (``lstmcalc explain``): equations, symbols, blocks,
weight rows and tensor rows, and the notation helpers that fill them. Layer classes build these;
lstmcalc.explain assembles them into an Explanation and the renderers print them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from ..arithmetic import Expression
from ..records import Record, TupleRecord
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


class Formula(TupleRecord):
    """A count with its arithmetic: ``text`` = ``value``; ``general`` names the terms."""

    text: str
    value: int
    general: Optional[str] = None

    @classmethod
    def of(cls, expression: Expression) -> "Formula":
        general = expression.text(symbolic=True)
        return cls(expression.text(), expression.value, general if general != expression.text() else None)


class Equation(TupleRecord):
    lhs: str
    rhs: str
    note: str = ""


class Symbol(TupleRecord):
    names: str
    shape: str
    meaning: str


class Block(Record):
    """A group of equations run together: one step of a recurrent cell, one copy of a wrapper."""

    def __init__(self, title: str, loop: str = "", equations: Optional[List[Equation]] = None,
                 symbols: Optional[List[Symbol]] = None, legend: str = ""):
        self.title = title
        self.loop = loop
        self.equations: List[Equation] = [] if equations is None else equations
        self.symbols: List[Symbol] = [] if symbols is None else symbols
        self.legend = legend


class WeightRow(TupleRecord):
    name: str
    shape: Tuple[Dim, ...]
    size: int
    layout: str = ""
    trainable: bool = True


class FrameworkView(Record):
    """The same layer as another framework stores it (PyTorch for recurrent layers)."""

    def __init__(self, framework: str, module: str, equivalent: bool, weights: Optional[List[WeightRow]] = None,
                 parameters: Optional[Formula] = None, notes: Optional[List[str]] = None):
        self.framework = framework
        self.module = module
        self.equivalent = equivalent
        self.weights: List[WeightRow] = [] if weights is None else weights
        self.parameters = parameters
        self.notes: List[str] = [] if notes is None else notes


class ToolCount(TupleRecord):
    """What a MAC-counting tool (torchinfo, thop, ptflops, DeepSpeed) reports for a module: its
    number, the formula that gives it (from the tool's source) and why it differs from lstmcalc's."""

    tool: str
    value: Optional[int]
    unit: str  # MACs or FLOPs
    formula: str
    why: str


class TensorRow(TupleRecord):
    role: str
    shape: str
    meaning: str
    returned: bool = True


class Setting(TupleRecord):
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


class Math(Record):
    """A layer's equations, the sentences that read them, and what each weight holds."""

    def __init__(self, blocks: Optional[List[Block]] = None, in_words: Optional[List[str]] = None,
                 weight_layouts: Optional[Dict[str, str]] = None, headline: str = ""):
        self.blocks: List[Block] = [] if blocks is None else blocks
        self.in_words: List[str] = [] if in_words is None else in_words
        self.weight_layouts: Dict[str, str] = {} if weight_layouts is None else weight_layouts
        self.headline = headline


class Context(TupleRecord):
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
