"""`--format markdown`: a GitHub-flavoured table for pull requests."""

from __future__ import annotations

from typing import List

from ..report import Report
from ..shapes import format_summary_shapes
from . import SUMMARY_COLUMNS, RenderOptions
from .text import compute_lines, diagnostic_lines, figure_cells, totals_lines, verdict


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_summary(report: Report, options: RenderOptions = RenderOptions()) -> str:
    figure_titles = [SUMMARY_COLUMNS[name] for name in options.columns]
    figures = figure_cells(report, options.columns)
    header = ["Layer (type)", "Output Shape"] + figure_titles
    if report.functional:
        header.append("Connected to")
    lines: List[str] = [f'**Model: "{_cell(report.name)}"**', ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("| " + " | ".join("--:" if title in figure_titles else "---" for title in header) + " |")
    rows = []
    if report.functional:
        rows += [[f"{item.name} (InputLayer)", format_summary_shapes([item.shape])]
                 + ["0" if name != "activations" else "-" for name in options.columns] + ["-"]
                 for item in report.inputs]
    for layer in report.layers:
        if layer.status == "ok":
            row = [f"{layer.name} ({layer.type})", format_summary_shapes(layer.output_shapes)] + figures[layer.name]
        else:
            row = [f"{layer.name} ({layer.type})", "✗ rejected" if layer.status == "error" else "not reached"]
            row += ["-"] * len(options.columns)
        if report.functional:
            row.append(", ".join(layer.inputs) or "-")
        rows.append(row)
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
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
    return "\n".join(lines) + "\n"
