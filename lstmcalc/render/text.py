"""Plain-text pieces shared by the renderers: numbers, byte sizes, diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..diagnostics import Diagnostic
from ..layers.base import INPUT_TYPE
from ..quantities import readable_bytes
from ..report import LayerReport, Report
from ..shapes import Shape
from .printable import printable


def where(diagnostic: Diagnostic) -> str:
    """``file:line:column``, as far as they are known."""
    from ..spec.source import Location

    return str(Location(diagnostic.file, diagnostic.line, diagnostic.column))


def diagnostic_lines(diagnostic: Diagnostic) -> List[str]:
    """``error[H001] file:9:5 (layer lstm_1): message`` and an indented hint line."""
    layer = f" (layer {printable(diagnostic.layer)})" if diagnostic.layer else ""
    lines = [f"{diagnostic.severity}[{diagnostic.code}] {printable(where(diagnostic))}{layer}: "
             f"{printable(diagnostic.message)}"]
    if diagnostic.hint:
        lines.append(f"  hint: {printable(diagnostic.hint)}")
    return lines


def diagnostics_text(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n".join(line for diagnostic in diagnostics for line in diagnostic_lines(diagnostic))


def totals_lines(report: Report) -> List[str]:
    totals = report.totals
    return [
        f"Total params: {totals.params:,} ({readable_bytes(totals.param_bytes)})",
        f"Trainable params: {totals.trainable_params:,} ({readable_bytes(totals.trainable_bytes)})",
        f"Non-trainable params: {totals.non_trainable_params:,} ({readable_bytes(totals.non_trainable_bytes)})",
    ]


def verdict(report: Report) -> str:
    errors = len(report.errors)
    return f"The model is invalid: {errors} error{'s' if errors != 1 else ''}."


def amount_text(amount, number=lambda value: f"{value:,}") -> str:
    """An Amount as text: ``3,532,800``, or ``64 + 36,864 per step`` when a length is unknown."""
    if amount.known:
        return number(amount.fixed)
    per_step = f"{number(amount.per_step)} per step"
    return per_step if amount.fixed == 0 else f"{number(amount.fixed)} + {per_step}"


def compute_lines(figures) -> List[str]:
    """The model's compute and memory totals (a ComputeFigures), one line each, then assumptions."""
    batch = f"batch of {figures.batch_size}"
    training = figures.training_bytes
    lines = [
        f"MACs per sample (forward pass): {amount_text(figures.macs)}",
        f"Activation memory (every layer's outputs, {batch}): {amount_text(figures.activation_bytes, readable_bytes)}",
        f"Parameter memory: {readable_bytes(figures.param_bytes)}",
        f"Training memory estimate ({batch}, Adam): {amount_text(training, readable_bytes)} = parameters "
        f"{readable_bytes(figures.param_bytes)} + gradients {readable_bytes(figures.gradient_bytes)} + Adam "
        f"moments {readable_bytes(figures.optimizer_bytes)} + activations kept for backpropagation "
        f"{amount_text(figures.kept_bytes, readable_bytes)}",
    ]
    return lines + [f"Assumption: {note}" for note in figures.assumptions()]


def figure_cells(report: Report, columns: Sequence[str]) -> Dict[str, List[str]]:
    """Per layer name, the text of each requested figure column (summary --columns)."""
    by_name = {}
    if set(columns) - {"params"}:
        from ..compute import compute_figures

        by_name = {item.name: item for item in reversed(compute_figures(report).layers)}  # the first of a name
    cells: Dict[str, List[str]] = {}
    for layer in report.layers:
        item = by_name.get(layer.name)
        row = []
        for column in columns:
            if column == "params":
                row.append(f"{layer.params:,}")
            elif item is None:
                row.append("-")
            elif column == "macs":
                row.append("?" if item.mac_amount is None else amount_text(item.mac_amount).replace(
                    " per step", "/step"))
            else:
                row.append(amount_text(item.activation_bytes, readable_bytes).replace(" per step", "/step"))
        cells[layer.name] = row
    return cells


# What the Output Shape column says for a layer without shapes, by its status.
STATUS_TEXT = {"error": "✗ rejected", "not-reached": "not reached", "unused": "never called"}


@dataclass
class SummaryRow:
    """One row of a summary table, before any formatting: what every table renderer shows."""

    name: str
    type: str
    shapes: Optional[List[Shape]]  # None: the layer failed (status says why)
    figures: List[str]  # the --columns cells
    connections: List[str]  # `name[i]` references (graph tables only)
    status: str = "ok"
    labels: List[str] = field(default_factory=list)  # the outputs' names (output, h_n, c_n), when they have any


def keras_reference(reference: str) -> Tuple[str, int, int]:
    """``lstm[1]`` → ("lstm", 0, 1); ``encoder[1][0]`` (a shared layer's later call) → ("encoder", 1, 0):
    the layer, node and tensor of Keras's "Connected to" entries."""
    name, _, index = reference.rpartition("[")
    node = 0
    if name.endswith("]"):
        name, _, node_text = name[:-1].rpartition("[")
        node = int(node_text)
    return name, node, int(index.rstrip("]") or 0)


def summary_layout(report: Report, columns: Sequence[str]) -> Tuple[bool, List[SummaryRow]]:
    """Whether the table has Keras's "Connected to" column, and its rows: a stack lists its layers;
    a graph also its inputs and Keras's mask operations, in Keras's order."""
    graph = report.functional and not report.sequential_like
    figures = figure_cells(report, columns)
    # Inputs and mask operations have no weights and no multiply-accumulates.
    weightless = ["0" if name != "activations" else "-" for name in columns]

    # A shared layer of a graph is one row, as in Keras: connected to what each call takes, showing
    # the shapes of its last call. (A stack lists each call, as torchinfo does a module called twice.)
    calls: Dict[str, List[LayerReport]] = {}
    for layer in report.layers:
        if layer.shares and report.functional:
            calls.setdefault(layer.shares, []).append(layer)

    def layer_row(layer: LayerReport) -> SummaryRow:
        # A PyTorch module forward() never calls has no shapes, but its parameters count.
        cells = figures.get(layer.name, []) if layer.status in ("ok", "unused") else ["-"] * len(columns)
        later = calls.get(layer.name, [])
        shapes = later[-1].output_shapes if later and later[-1].status == "ok" else layer.output_shapes
        connected = layer.connected_to + [reference for call in later for reference in call.connected_to]
        return SummaryRow(layer.name, layer.type, shapes if layer.status == "ok" else None,
                          cells, connected, layer.status, list(layer.output_labels))

    if not report.functional:
        return graph, [layer_row(layer) for layer in report.layers]
    inputs = {item.name: item for item in report.inputs}
    layers = {layer.name: layer for layer in report.layers if not layer.shares}
    operations = {operation.name: operation for operation in report.operations}
    rows = []
    for name in report.row_order or list(inputs) + list(layers):
        if name in inputs:
            rows.append(SummaryRow(name, INPUT_TYPE, [inputs[name].shape], weightless, []))
        elif name in layers:
            rows.append(layer_row(layers[name]))
        elif name in operations:
            operation = operations[name]
            rows.append(SummaryRow(name, operation.type, operation.output_shapes, weightless,
                                   operation.inputs))
    return graph, rows
