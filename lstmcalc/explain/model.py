"""The explanation of a model, as data: what `lstmcalc explain` says about each layer.

Built by ``lstmcalc.explain.explain(report)``; every renderer (text, markdown, json) reads these
records and nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ..diagnostics import Diagnostic
# The per-layer vocabulary belongs to the layer classes (lstmcalc.layers.explanation).
from ..layers.explanation import Block, Formula, FrameworkView, Setting, TensorRow, ToolCount, WeightRow

__all__ = ["Block", "Explanation", "Formula", "FrameworkView", "LayerExplanation", "MacText", "Rejection",
           "Setting", "TensorRow", "ToolCount", "WeightRow"]

if TYPE_CHECKING:
    from ..compute import ComputeFigures

SCHEMA_ID = "lstmcalc.explain/1"


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
    # What MAC-counting tools report for the same module, and why (PyTorch modules).
    mac_tools: List[ToolCount] = field(default_factory=list)
    memory: Dict[str, Any] = field(default_factory=dict)
    rejection: Optional[Rejection] = None
    notes: List[str] = field(default_factory=list)
    findings: List[Diagnostic] = field(default_factory=list)  # warnings about this layer

    def to_dict(self) -> Dict[str, Any]:
        data = _records_as_dicts(asdict(self))
        data["findings"] = [item.to_dict() for item in self.findings]
        data["weights"] = [_weight_dict(row) for row in self.weights]
        if not self.mac_tools:
            del data["mac_tools"]  # only PyTorch modules compare themselves with the tools
        if self.pytorch is not None:
            data["pytorch"]["weights"] = [_weight_dict(row) for row in self.pytorch.weights]
        if self.rejection is not None:
            data["rejection"]["diagnostics"] = [item.to_dict() for item in self.rejection.diagnostics]
        return data


def _records_as_dicts(value: Any) -> Any:
    """``asdict`` keeps NamedTuple records (Formula, Setting, ...) as tuples: make them objects."""
    if hasattr(value, "_asdict"):
        return {key: _records_as_dicts(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {key: _records_as_dicts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_records_as_dicts(item) for item in value]
    return value


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
    framework: str = "keras"  # whose vocabulary the output uses (lstmcalc.layers.frameworks)

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
