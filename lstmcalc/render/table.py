"""The summary table, drawn with rich the way Keras 3's ``model.summary()`` draws it."""

from __future__ import annotations

import io
from typing import List, Optional, Sequence

from ..report import LayerReport, Report
from ..shapes import Shape
from . import SUMMARY_COLUMNS, RenderOptions
from .text import compute_lines, diagnostic_lines, figure_cells, readable_bytes, verdict

SEQUENTIAL = ((0.45, 0.80, 1.0), 88)
GRAPH = ((0.3, 0.56, 0.74, 1.0), 108)


def _number(value: object, color: bool) -> str:
    # Keras's colours: 34 for numbers, 45 for None.
    if not color:
        return str(value)
    return f"[color(45)]{value}[/]" if value is None else f"[color(34)]{value}[/]"


def _shape(shape: Shape, color: bool) -> str:
    return "(" + ", ".join(_number(dim, color) for dim in shape) + ")"


def _shapes(shapes: Sequence[Shape], color: bool) -> str:
    if len(shapes) == 1:
        return _shape(shapes[0], color)
    return "[" + ", ".join(_shape(shape, color) for shape in shapes) + "]"


def _name(name: str, type_name: str, color: bool) -> str:
    from rich.markup import escape

    kind = f"[color(33)]{escape(type_name)}[/]" if color else escape(type_name)
    return f"{escape(name)} ({kind})"


def _connections(layer: LayerReport, color: bool) -> str:
    if not layer.inputs:
        return "-"
    parts = []
    for reference in layer.inputs:
        name, _, index = reference.partition("[")
        parts.append(f"{name}[{_number(0, color)}][{_number(index.rstrip(']'), color)}]")
    return ", ".join(parts)


def _layer_row(layer: LayerReport, color: bool, graph: bool, figures: List[str]) -> List[str]:
    if layer.status == "ok":
        shapes = _shapes(layer.output_shapes or [], color)
        cells = [_number(cell, color) for cell in figures]
    elif layer.status == "error":
        shapes = "[bold red]✗ rejected[/]" if color else "✗ rejected"
        cells = ["-"] * len(figures)
    else:
        shapes, cells = "not reached", ["-"] * len(figures)
    row = [_name(layer.name, layer.type, color), shapes] + cells
    if graph:
        row.append(_connections(layer, color))
    return row


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
    figures = figure_cells(report, options.columns)
    widths = _column_widths(report.functional, len(options.columns), options.width)
    width = sum(widths)
    header = (["Layer (type)", "Output Shape"] + [SUMMARY_COLUMNS[name] for name in options.columns]
              + (["Connected to"] if report.functional else []))
    align = ["left", "left"] + ["right"] * len(options.columns) + ["left"]
    columns = [rich.table.Column(title, justify=align[index], width=widths[index])
               for index, title in enumerate(header)]
    table = rich.table.Table(*columns, width=width, show_lines=True)
    if report.functional:
        for item in report.inputs:
            cells = ["0" if name != "activations" else "-" for name in options.columns]
            row = [_name(item.name, "InputLayer", color), _shape(item.shape, color)]
            table.add_row(*row, *[_number(cell, color) for cell in cells], "-")
    for layer in report.layers:
        table.add_row(*_layer_row(layer, color, report.functional, figures.get(layer.name, [])))

    buffer = io.StringIO()
    console = rich.console.Console(file=buffer, width=width, highlight=False, force_terminal=color,
                                   color_system="256" if color else None, no_color=not color,
                                   legacy_windows=False)
    from rich.markup import escape

    if report.layers or report.inputs:
        console.print(f'[bold]Model: "{escape(report.name)}"[/]')
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
