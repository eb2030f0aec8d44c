"""`--format markdown`: a GitHub-flavoured table for pull requests."""

from __future__ import annotations

from typing import List

from ..report import Report
from ..shapes import format_summary_shape, format_summary_shapes
from . import SUMMARY_COLUMNS, RenderOptions
from .text import (STATUS_TEXT, SummaryRow, compute_lines, diagnostic_lines, keras_reference, printable,
                   summary_layout, totals_lines, verdict)


def _cell(text: str) -> str:
    return printable(text).replace("|", "\\|")


def _connections(references: List[str]) -> str:
    return ", ".join("{}[{}][{}]".format(*keras_reference(reference)) for reference in references) or "-"


def _row(row: SummaryRow, graph: bool) -> List[str]:
    if row.shapes is not None and row.labels:
        shapes = "<br>".join(f"{label}: {format_summary_shape(shape)}" for label, shape in zip(row.labels, row.shapes))
    elif row.shapes is not None:
        shapes = format_summary_shapes(row.shapes)
    else:
        shapes = STATUS_TEXT[row.status]
    return [f"{row.name} ({row.type})", shapes] + row.figures + ([_connections(row.connections)] if graph else [])


def render_summary(report: Report, options: RenderOptions = RenderOptions()) -> str:
    graph, rows = summary_layout(report, options.columns)
    figure_titles = [SUMMARY_COLUMNS[name] for name in options.columns]
    header = ["Layer (type)", "Output Shape"] + figure_titles + (["Connected to"] if graph else [])
    lines: List[str] = [f'**Model: "{_cell(report.name)}"**', ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("| " + " | ".join("--:" if title in figure_titles else "---" for title in header) + " |")
    lines += ["| " + " | ".join(_cell(cell) for cell in _row(row, graph)) + " |" for row in rows]
    lines.append("")
    if report.ok:
        totals = totals_lines(report)
        if set(options.columns) - {"params"}:
            from ..compute import compute_figures

            totals += compute_lines(compute_figures(report))
        lines += [f"**{line.split(':')[0]}:**{line.split(':', 1)[1]}  " for line in totals]
        lines[-1] = lines[-1].rstrip()
    else:
        lines.append(f"**{verdict(report)}**")
    if report.diagnostics:
        lines += ["", "```"] + [line for d in report.diagnostics for line in diagnostic_lines(d)] + ["```"]
    if options.diagram:
        from ..diagram.mermaid import render_mermaid

        lines += ["", "```mermaid", render_mermaid(report, options).rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"
