"""Plain-text pieces shared by the renderers: numbers, byte sizes, diagnostics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..diagnostics import Diagnostic
from ..report import LayerReport, Report
from ..shapes import Shape


# Characters a terminal acts on instead of showing: C0 and C1 controls (ESC starts an escape
# sequence), DEL, line and paragraph separators, and the bidirectional overrides and isolates
# that reorder what is shown ("Trojan Source").
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: "re.Match[str]") -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def printable(text: object) -> str:
    """Text from a spec (a name, a message quoting one, a file name) made safe to print: control
    characters appear as escapes (``\\x1b``, ``\\n``, ``\\u202e``) instead of acting on the terminal."""
    text = str(text)
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


def printable_lines(text: str) -> str:
    """``printable`` for a whole rendered document: its own line breaks are kept."""
    return _CONTROL_BUT_NEWLINE.sub(_escape, text) if _CONTROL_BUT_NEWLINE.search(text) else text


def readable_bytes(size: float) -> str:
    """Keras's ``readable_memory_size``: 536.00 KB, 43.75 KB, 0.00 B."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


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


@dataclass
class SummaryRow:
    """One row of a summary table, before any formatting: what every table renderer shows."""

    name: str
    type: str
    shapes: Optional[List[Shape]]  # None: the layer failed (status says why)
    figures: List[str]  # the --columns cells
    connections: List[str]  # `name[i]` references (graph tables only)
    status: str = "ok"


def summary_layout(report: Report, columns: Sequence[str]) -> Tuple[bool, List[SummaryRow]]:
    """Whether the table has Keras's "Connected to" column, and its rows: a stack lists its layers;
    a graph also its inputs and Keras's mask operations, in Keras's order."""
    graph = report.functional and not report.sequential_like
    figures = figure_cells(report, columns)
    # Inputs and mask operations have no weights and no multiply-accumulates.
    weightless = ["0" if name != "activations" else "-" for name in columns]

    def layer_row(layer: LayerReport) -> SummaryRow:
        cells = figures.get(layer.name, []) if layer.status == "ok" else ["-"] * len(columns)
        return SummaryRow(layer.name, layer.type, layer.output_shapes if layer.status == "ok" else None,
                          cells, layer.connected_to, layer.status)

    if not report.functional:
        return graph, [layer_row(layer) for layer in report.layers]
    inputs = {item.name: item for item in report.inputs}
    layers = {layer.name: layer for layer in report.layers}
    operations = {operation.name: operation for operation in report.operations}
    rows = []
    for name in report.row_order or list(inputs) + list(layers):
        if name in inputs:
            rows.append(SummaryRow(name, "InputLayer", [inputs[name].shape], weightless, []))
        elif name in layers:
            rows.append(layer_row(layers[name]))
        elif name in operations:
            operation = operations[name]
            rows.append(SummaryRow(name, operation.type, operation.output_shapes, weightless,
                                   operation.inputs))
    return graph, rows
