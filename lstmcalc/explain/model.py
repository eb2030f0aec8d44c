"""The explanation of a model, as data: what `lstmcalc explain` says about each layer.

Built by ``lstmcalc.explain.explain(report)``; every renderer (text, markdown, json) reads these
records and nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from ..arithmetic import Expression
from ..diagnostics import Diagnostic
from ..shapes import Dim

if TYPE_CHECKING:
    from ..compute import ComputeFigures

SCHEMA_ID = "lstmcalc.explain/1"


def tensor_text(shape: Sequence[Dim]) -> str:
    """A tensor's shape with the batch axis named: ``(batch, 50, 10)``; a known batch stays a number."""
    parts = ["batch" if index == 0 and dim is None else str(dim) for index, dim in enumerate(shape)]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def weight_text(shape: Sequence[Dim]) -> str:
    """A weight's shape as Python prints the tuple: ``(10, 512)``, ``(512,)``."""
    return str(tuple(shape))


@dataclass(frozen=True)
class Formula:
    """A count with its arithmetic: ``text`` = ``value``; ``general`` names the terms."""

    text: str
    value: int
    general: Optional[str] = None

    @classmethod
    def of(cls, expression: Expression) -> "Formula":
        general = expression.text(symbolic=True)
        return cls(expression.text(), expression.value, general if general != expression.text() else None)


@dataclass(frozen=True)
class Equation:
    lhs: str
    rhs: str
    note: str = ""


@dataclass(frozen=True)
class Symbol:
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


@dataclass(frozen=True)
class WeightRow:
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


@dataclass(frozen=True)
class TensorRow:
    role: str
    shape: str
    meaning: str
    returned: bool = True


@dataclass(frozen=True)
class Setting:
    """The layer's outputs under one return_sequences / return_state combination."""

    return_sequences: bool
    return_state: bool
    shapes: Tuple[str, ...]
    roles: Tuple[str, ...]
    current: bool


@dataclass(frozen=True)
class MacText:
    """MACs per sample: ``per_step`` done ``steps`` times (None steps: unknown length)."""

    per_step: Formula
    steps: Optional[int]
    unit: str
    total: Optional[int]


@dataclass
class Rejection:
    """Why Keras does not build this layer, in the terms of its equations."""

    received: List[str]
    reason: str
    diagnostics: List[Diagnostic] = field(default_factory=list)
    would_be: str = ""  # when the rest of the explanation shows the layer on a corrected input


@dataclass
class LayerExplanation:
    name: str
    type: str
    status: str
    headline: str = ""
    inputs: List[str] = field(default_factory=list)
    blocks: List[Block] = field(default_factory=list)
    in_words: List[str] = field(default_factory=list)
    weights: List[WeightRow] = field(default_factory=list)
    parameters: Optional[Formula] = None
    pytorch: Optional[FrameworkView] = None
    outputs: List[TensorRow] = field(default_factory=list)
    settings: List[Setting] = field(default_factory=list)
    macs: Optional[MacText] = None
    memory: Dict[str, Any] = field(default_factory=dict)
    rejection: Optional[Rejection] = None
    notes: List[str] = field(default_factory=list)
    findings: List[Diagnostic] = field(default_factory=list)  # warnings about this layer

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data["findings"] = [item.to_dict() for item in self.findings]
        data["weights"] = [_weight_dict(row) for row in self.weights]
        if self.pytorch is not None:
            data["pytorch"]["weights"] = [_weight_dict(row) for row in self.pytorch.weights]
        if self.rejection is not None:
            data["rejection"]["diagnostics"] = [item.to_dict() for item in self.rejection.diagnostics]
        return data


def _weight_dict(row: WeightRow) -> Dict[str, Any]:
    return {"name": row.name, "shape": list(row.shape), "size": row.size, "layout": row.layout,
            "trainable": row.trainable}


@dataclass
class Explanation:
    name: str
    file: Optional[str]
    ok: bool
    batch_size: Optional[int]
    params: int = 0  # the model's total, as the summary counts it
    layers: List[LayerExplanation] = field(default_factory=list)
    compute: Optional["ComputeFigures"] = None  # the model's totals, when every layer is shown
    diagnostics: List[Diagnostic] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every layer of the model is explained (no layer was picked by name)."""
        return self.compute is not None

    def unplaced(self) -> List[Diagnostic]:
        """Findings shown under no layer (a spec that cannot be read, ...), when all layers are shown."""
        if not self.complete:
            return []
        placed = {id(item) for layer in self.layers for item in layer.findings +
                  (layer.rejection.diagnostics if layer.rejection is not None else [])}
        return [item for item in self.diagnostics if id(item) not in placed]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "schema": SCHEMA_ID,
            "ok": self.ok,
            "name": self.name,
            "file": self.file,
            "batch_size": self.batch_size,
            "params": self.params,
            "layers": [layer.to_dict() for layer in self.layers],
            "compute": self.compute.to_dict() if self.compute is not None else None,
            "diagnostics": [item.to_dict() for item in self.diagnostics],
        }
