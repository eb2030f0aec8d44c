"""What a diagram shows, before any geometry: one node per input, layer and model output, one
edge per tensor, built from a Report. The SVG layout and the Mermaid and DOT writers read this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ..layers.base import INPUT_TYPE
from ..report import LayerReport, Report
from ..shapes import format_summary_shape

INPUT = "input"
LAYER = "layer"
OUTPUT = "output"


@dataclass(frozen=True)
class Part:
    """A layer shown inside a wrapper's box (Bidirectional's two copies, TimeDistributed's layer)."""

    name: str
    type: str
    settings: Tuple[Tuple[str, str], ...]
    parts: Tuple["Part", ...] = ()


@dataclass(frozen=True)
class DiagramNode:
    """A box. ``status``: ok, error (rejected: ``codes`` are its diagnostics) or not-reached."""

    id: str
    kind: str  # input | layer | output
    name: str
    type: str
    status: str = "ok"
    settings: Tuple[Tuple[str, str], ...] = ()
    codes: Tuple[str, ...] = ()
    parts: Tuple[Part, ...] = ()


@dataclass(frozen=True)
class DiagramEdge:
    """One tensor from ``source`` to ``target`` (node ids). ``tensor`` names it when its producer
    has several outputs (``encoder[1]``); ``shape`` is None when it was never computed; ``role``
    is input, initial_state or output."""

    source: str
    target: str
    shape: Optional[str]
    tensor: Optional[str] = None
    role: str = "input"

    @property
    def computed(self) -> bool:
        return self.shape is not None

    @property
    def label_lines(self) -> List[str]:
        """What the edge says: its tensor and role when that needs saying, then its shape."""
        lines = []
        if self.role == "initial_state":
            lines.append(f"{self.tensor or ''} → initial_state".strip())
        elif self.tensor is not None:
            lines.append(self.tensor)
        if self.shape is not None:
            lines.append(self.shape)
        return lines


@dataclass
class Diagram:
    title: str
    ok: bool
    nodes: List[DiagramNode] = field(default_factory=list)
    edges: List[DiagramEdge] = field(default_factory=list)
    caption: str = ""  # the verdict line: totals or the error count

    def node(self, node_id: str) -> DiagramNode:
        return next(node for node in self.nodes if node.id == node_id)


def _part(layer: LayerReport) -> Part:
    return Part(layer.name, layer.type, tuple(layer.settings), tuple(_part(inner) for inner in layer.wrapped))


def _caption(report: Report) -> str:
    if report.ok:
        return f"{report.totals.params:,} params"
    errors = len(report.errors)
    return f"invalid: {errors} error{'s' if errors != 1 else ''}"


def _error_codes(report: Report) -> Dict[str, List[str]]:
    """Each layer's error codes: by the layer a diagnostic names, else (a layer that could not even
    be built, named ``layers[i]``) by where it is in the file: from the rejected layer's entry to
    the next layer's (the last layer: its own line only, as `outputs:` may follow it)."""
    codes: Dict[str, List[str]] = {}
    starts = sorted((layer.line, layer.name, layer.status) for layer in report.layers if layer.line is not None)
    spans = [(line, following[0] if following else line + 1, name, status)
             for (line, name, status), following in zip(starts, [item[:1] for item in starts[1:]] + [()])]
    names = {layer.name for layer in report.layers}
    for diagnostic in report.errors:
        if diagnostic.layer in names:
            codes.setdefault(diagnostic.layer, []).append(diagnostic.code)
        elif diagnostic.line is not None and diagnostic.file == report.file:
            for start, end, name, status in spans:
                if status == "error" and start <= diagnostic.line < end:
                    codes.setdefault(name, []).append(diagnostic.code)
    return codes


class _Builder:
    """Walks the report (and its graph, for the wiring of layers that were never reached)."""

    def __init__(self, report: Report):
        self.report = report
        self.diagram = Diagram(report.name, report.ok, caption=_caption(report))
        self.ids: Dict[str, str] = {}
        self.layers = {layer.name: layer for layer in report.layers}

    def add(self, node: DiagramNode, name: Optional[str] = None) -> None:
        if name is not None:
            self.ids[name] = node.id
        self.diagram.nodes.append(node)

    def new_id(self) -> str:
        return f"n{len(self.diagram.nodes)}"

    def output_count(self, name: str) -> int:
        layer = self.layers.get(name)
        if layer is not None:
            return len(layer.output_shapes or [])
        return 1 if any(item.name == name for item in self.report.inputs) else 0

    def shape_of(self, name: str, index: int) -> Optional[str]:
        layer = self.layers.get(name)
        shapes = layer.output_shapes if layer is not None else \
            [item.shape for item in self.report.inputs if item.name == name]
        if shapes and index < len(shapes):
            return format_summary_shape(shapes[index])
        return None

    def tensor_edges(self, name: str, index: Optional[int], target: str, role: str) -> List[DiagramEdge]:
        """Edges for ``name`` (every output) or ``name[index]`` into ``target``."""
        if name not in self.ids:
            return []
        count = self.output_count(name)
        many = count > 1 or role == "initial_state"
        if index is not None and not -count <= index < count:
            # Not computed, or an index the producer does not have (S014): the tensor as written.
            return [DiagramEdge(self.ids[name], target, None, f"{name}[{index}]" if many or count else None,
                                role)]
        indices = list(range(count)) if index is None else [index % count]
        if not indices:
            return [DiagramEdge(self.ids[name], target, None, None, role)]
        return [DiagramEdge(self.ids[name], target, self.shape_of(name, i),
                            f"{name}[{i}]" if many else None, role) for i in indices]

    def build(self) -> Diagram:
        report, graph = self.report, self.report.graph
        nodes = graph.nodes if graph is not None else {}
        codes = _error_codes(report)
        dtypes = {item.name: item.dtype for item in report.inputs}
        for name, node in nodes.items():
            if node.is_input:
                dtype = dtypes.get(name, node.input_def.dtype)
                settings = (("dtype", repr(dtype)),) if dtype != "float32" else ()
                self.add(DiagramNode(self.new_id(), INPUT, name, INPUT_TYPE,
                                     "ok" if name in dtypes else "error", settings, tuple(codes.get(name, ()))),
                         name)
        for layer in report.layers:
            self.add(DiagramNode(self.new_id(), LAYER, layer.name, layer.type, layer.status,
                                 tuple(layer.settings), tuple(dict.fromkeys(codes.get(layer.name, ()))),
                                 tuple(_part(inner) for inner in layer.wrapped)), layer.name)
        for layer in report.layers:
            node = nodes.get(layer.name)
            if node is None:
                continue
            target = self.ids[layer.name]
            for role, references in (("input", node.inputs), ("initial_state", node.initial_state)):
                for reference in references:
                    self.diagram.edges.extend(self.tensor_edges(reference.name, reference.index, target, role))
        outputs = graph.outputs if graph is not None else []
        terminals = [(reference, edge) for reference in outputs
                     for edge in self.tensor_edges(reference.name, reference.index, "", OUTPUT)]
        for position, (reference, edge) in enumerate(terminals):
            label = "output" if len(terminals) == 1 else f"output[{position}]"
            node_id = self.new_id()
            self.add(DiagramNode(node_id, OUTPUT, label, "", "ok" if edge.computed else "not-reached"))
            self.diagram.edges.append(DiagramEdge(edge.source, node_id, edge.shape, edge.tensor, OUTPUT))
        return self.diagram


def build_diagram(report: Report) -> Diagram:
    """The diagram of ``report``: inputs, the model's layers, its outputs, and the tensors between."""
    return _Builder(report).build()
