"""The summary table, drawn with rich the way Keras 3's ``model.summary()`` draws it."""

from __future__ import annotations

import io
from typing import List, Optional, Sequence

from ..report import Report
from ..shapes import Shape
from . import SUMMARY_COLUMNS, RenderOptions
from .text import (STATUS_TEXT, SummaryRow, compute_lines, diagnostic_lines, keras_reference, printable,
                   readable_bytes, summary_layout, verdict)

SEQUENTIAL = ((0.45, 0.80, 1.0), 88)
GRAPH = ((0.3, 0.56, 0.74, 1.0), 108)


def _number(value: object, color: bool) -> str:
    # Keras's colours: 34 for numbers, 45 for None.
    if not color:
        return str(value)
    return f"[color(45)]{value}[/]" if value is None else f"[color(34)]{value}[/]"


def _shape(shape: Shape, color: bool) -> str:
    return "(" + ", ".join(_number(dim, color) for dim in shape) + ")"


def _shapes(shapes: Sequence[Shape], color: bool, labels: Sequence[str] = ()) -> str:
    if labels:
        # Named outputs (a PyTorch RNN's output, h_n, c_n): one line each.
        return "\n".join(f"{label}: {_shape(shape, color)}" for label, shape in zip(labels, shapes))
    if len(shapes) == 1:
        return _shape(shapes[0], color)
    return "[" + ", ".join(_shape(shape, color) for shape in shapes) + "]"


def _name(name: str, type_name: str, color: bool) -> str:
    from rich.markup import escape

    kind = f"[color(33)]{escape(printable(type_name))}[/]" if color else escape(printable(type_name))
    return f"{escape(printable(name))} ({kind})"


def _connections(references: List[str], color: bool) -> str:
    """Keras's "Connected to": ``layer[node][tensor]``; lstmcalc has one node per layer."""
    if not references:
        return "-"
    from rich.markup import escape

    parts = []
    for reference in references:
        name, node, index = keras_reference(reference)
        parts.append(f"{escape(printable(name))}[{_number(node, color)}][{_number(index, color)}]")
    return ", ".join(parts)


def _row(row: SummaryRow, color: bool, graph: bool) -> List[str]:
    if row.shapes is not None:
        shapes = _shapes(row.shapes, color, row.labels)
        cells = [_number(cell, color) if cell not in ("-", "?") else cell for cell in row.figures]
    else:
        rejected = f"[bold red]{STATUS_TEXT['error']}[/]" if color else STATUS_TEXT["error"]
        shapes, cells = (rejected if row.status == "error" else STATUS_TEXT[row.status]), row.figures
    return [_name(row.name, row.type, color), shapes] + cells + (
        [_connections(row.connections, color)] if graph else [])


def fit_cells(widths: List[int], rows: Sequence[Sequence[str]], fixed: Sequence[int],
              flexible: Sequence[int]) -> List[int]:
    """Widen the ``fixed`` columns (figures) to their longest cell, so that a number is never cut,
    taking the room from the ``flexible`` ones (names and shapes wrap), keeping each at least 10."""
    widths = list(widths)
    for index in fixed:
        # rich gives a column its width less about 4 characters (padding, and the borders it takes
        # from all columns evenly), as it does for Keras's own summary.
        need = max([len(row[index]) + 4 for row in rows] + [widths[index]])
        missing = need - widths[index]
        for other in flexible:
            taken = min(missing, max(widths[other] - 10, 0))
            widths[other] -= taken
            missing -= taken
        widths[index] = need - missing
    return widths


def _plain(text: str) -> str:
    from rich.text import Text

    return Text.from_markup(text).plain


def _column_widths(graph: bool, count: int, width: Optional[int]) -> List[int]:
    """Keras's proportions; each figure column beyond the first is as wide as Param #."""
    positions, default_width = GRAPH if graph else SEQUENTIAL
    if count == 1:
        total = width or default_width
        widths, current = [], 0
        for position in positions:
            column_width = max(int(position * total) - current, 4)
            current += column_width
            widths.append(column_width)
        return widths
    base = _column_widths(graph, 1, None)
    widths = base[:2] + [base[2]] * count + base[3:]
    if width:
        scale = width / sum(widths)
        widths = [max(int(column * scale), 4) for column in widths]
        widths[-1] += width - sum(widths)
    return widths


def render_summary(report: Report, options: RenderOptions = RenderOptions()) -> str:
    import rich.box
    import rich.console
    import rich.table

    color = options.color
    graph, rows = summary_layout(report, options.columns)
    width = options.width
    if width is None and options.max_width is not None:
        # A terminal narrower than Keras's table: the same table, its cells wrapped to fit.
        default = sum(_column_widths(graph, len(options.columns), None))
        width = max(min(default, options.max_width), 30) if options.max_width < default else None
    widths = _column_widths(graph, len(options.columns), width)
    cells = [_row(row, color, graph) for row in rows]
    figures = range(2, 2 + len(options.columns))
    widths = fit_cells(widths, [[_plain(cell) for cell in row] for row in cells], figures, [0, 1])
    width = sum(widths)
    header = (["Layer (type)", "Output Shape"] + [SUMMARY_COLUMNS[name] for name in options.columns]
              + (["Connected to"] if graph else []))
    align = ["left", "left"] + ["right"] * len(options.columns) + ["left"]
    # fold: a name or number longer than its cell breaks onto the next line, never cut with "…".
    columns = [rich.table.Column(title, justify=align[index], width=widths[index], overflow="fold")
               for index, title in enumerate(header)]
    table = rich.table.Table(*columns, width=width, show_lines=True)
    for row in cells:
        table.add_row(*row)

    buffer = io.StringIO()
    console = rich.console.Console(file=buffer, width=width, highlight=False, force_terminal=color,
                                   color_system="256" if color else None, no_color=not color,
                                   legacy_windows=False)
    from rich.markup import escape

    if report.layers or report.inputs:
        console.print(f'[bold]Model: "{escape(printable(report.name))}"[/]')
        console.print(table)
    if report.ok:
        totals = report.totals
        for label, value, size in (("Total params", totals.params, totals.param_bytes),
                                   ("Trainable params", totals.trainable_params, totals.trainable_bytes),
                                   ("Non-trainable params", totals.non_trainable_params,
                                    totals.non_trainable_bytes)):
            console.print(f"[bold] {label}: [/]{_number(f'{value:,}', color)} ({readable_bytes(size)})")
        if set(options.columns) - {"params"}:
            from ..compute import compute_figures

            for line in compute_lines(compute_figures(report)):
                label, _, value = line.partition(": ")
                console.print(f"[bold] {escape(label)}: [/]{escape(value)}", soft_wrap=True)
    else:
        console.print(f"[bold red]{escape(verdict(report))}[/]" if color else verdict(report))
    for diagnostic in report.diagnostics:
        style = {"error": "bold red", "warning": "yellow", "info": "cyan"}.get(diagnostic.severity, "")
        lines = diagnostic_lines(diagnostic)
        first = escape(lines[0])
        console.print(f"[{style}]{first}[/]" if color and style else first, soft_wrap=True)
        for line in lines[1:]:
            console.print(escape(line), soft_wrap=True)
    return buffer.getvalue()
