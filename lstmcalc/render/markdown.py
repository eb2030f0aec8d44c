"""`--format markdown`: a GitHub-flavoured table for pull requests."""

from __future__ import annotations

from typing import List

from ..report import LayerReport, Report
from ..shapes import format_summary_shapes
from . import RenderOptions
from .text import diagnostic_lines, totals_lines, verdict


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _layer_row(layer: LayerReport, graph: bool) -> List[str]:
    if layer.status == "ok":
        row = [f"{layer.name} ({layer.type})", format_summary_shapes(layer.output_shapes), f"{layer.params:,}"]
    else:
        row = [f"{layer.name} ({layer.type})", "✗ rejected" if layer.status == "error" else "not reached", "-"]
    return row + ([_connections(layer.connected_to)] if graph else [])


def _connections(references: List[str]) -> str:
    return ", ".join(f"{name}[0][{index}" for name, _, index in (r.partition("[") for r in references)) or "-"


def summary_rows(report: Report, graph: bool) -> List[List[str]]:
    """Rows in the table renderer's order (inputs and mask operations too, for graphs)."""
    if not report.functional:
        return [_layer_row(layer, graph) for layer in report.layers]
    inputs = {item.name: item for item in report.inputs}
    layers = {layer.name: layer for layer in report.layers}
    operations = {operation.name: operation for operation in report.operations}
    rows = []
    for name in report.row_order or list(inputs) + list(layers):
        if name in inputs:
            rows.append([f"{name} (InputLayer)", format_summary_shapes([inputs[name].shape]), "0"]
                        + (["-"] if graph else []))
        elif name in layers:
            rows.append(_layer_row(layers[name], graph))
        elif name in operations:
            operation = operations[name]
            rows.append([f"{name} ({operation.type})", format_summary_shapes(operation.output_shapes), "0"]
                        + ([_connections(operation.inputs)] if graph else []))
    return rows


def render_summary(report: Report, options: RenderOptions = RenderOptions()) -> str:
    graph = report.functional and not report.sequential_like
    header = ["Layer (type)", "Output Shape", "Param #"]
    if graph:
        header.append("Connected to")
    lines: List[str] = [f'**Model: "{_cell(report.name)}"**', ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("| " + " | ".join("--:" if title == "Param #" else "---" for title in header) + " |")
    rows = summary_rows(report, graph)
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    lines.append("")
    if report.ok:
        lines += [f"**{line.split(':')[0]}:**{line.split(':', 1)[1]}  " for line in totals_lines(report)]
        lines[-1] = lines[-1].rstrip()
    else:
        lines.append(f"**{verdict(report)}**")
    if report.diagnostics:
        lines += ["", "```"] + [line for d in report.diagnostics for line in diagnostic_lines(d)] + ["```"]
    return "\n".join(lines) + "\n"
