"""The summary as an HTML table: what a Report shows in Jupyter (``Report._repr_html_``)."""

from __future__ import annotations

from html import escape
from typing import List

from ..report import Report
from ..shapes import format_summary_shapes
from . import SUMMARY_COLUMNS, RenderOptions
from .printable import printable
from .text import STATUS_TEXT, SummaryRow, diagnostic_lines, summary_layout, totals_lines, verdict


def _text(value: str) -> str:
    return escape(printable(value))


def _row(row: SummaryRow, graph: bool) -> str:
    if row.shapes is not None:
        shapes = _text(format_summary_shapes(row.shapes))
    elif row.status == "error":
        shapes = '<span style="color:#cf222e;font-weight:bold">✗ rejected</span>'
    else:
        shapes = f'<span style="color:#59636e;font-style:italic">{STATUS_TEXT[row.status]}</span>'
    cells = [f"<td>{_text(row.name)} ({_text(row.type)})</td>", f"<td>{shapes}</td>"]
    cells += [f'<td style="text-align:right">{_text(figure)}</td>' for figure in row.figures]
    if graph:
        cells.append(f"<td>{_text(', '.join(row.connections) or '-')}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def render_summary(report: Report, options: RenderOptions = RenderOptions()) -> str:
    graph, rows = summary_layout(report, options.columns)
    header = ["Layer (type)", "Output Shape"] + [SUMMARY_COLUMNS[name] for name in options.columns] \
        + (["Connected to"] if graph else [])
    parts: List[str] = ['<div class="lstmcalc-summary">', f"<p><b>Model: &quot;{_text(report.name)}&quot;</b></p>",
                        "<table>", "<thead><tr>" + "".join(f"<th>{title}</th>" for title in header) + "</tr></thead>",
                        "<tbody>"]
    parts += [_row(row, graph) for row in rows]
    parts += ["</tbody>", "</table>"]
    if report.ok:
        parts.append("<p>" + "<br>".join(_text(line) for line in totals_lines(report)) + "</p>")
    else:
        parts.append(f'<p style="color:#cf222e"><b>{_text(verdict(report))}</b></p>')
    if report.diagnostics:
        lines = [line for diagnostic in report.diagnostics for line in diagnostic_lines(diagnostic)]
        parts.append('<pre style="white-space:pre-wrap">' + "\n".join(_text(line) for line in lines) + "</pre>")
    parts.append("</div>")
    return "\n".join(parts) + "\n"
