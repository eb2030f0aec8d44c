"""The summary table, drawn with rich the way Keras 3's ``model.summary()`` draws it."""

from __future__ import annotations

import io
from typing import List, Optional, Sequence

from ..report import LayerReport, Report
from ..shapes import Shape
from . import RenderOptions
from .text import diagnostic_lines, readable_bytes, verdict

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


def _connections(references: List[str], color: bool) -> str:
    """Keras's "Connected to": ``layer[node][tensor]``; lstmcalc has one node per layer."""
    if not references:
        return "-"
    parts = []
    for reference in references:
        name, _, index = reference.partition("[")
        parts.append(f"{escape_markup(name)}[{_number(0, color)}][{_number(index.rstrip(']'), color)}]")
    return ", ".join(parts)


def escape_markup(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _layer_row(layer: LayerReport, color: bool, graph: bool) -> List[str]:
    if layer.status == "ok":
        shapes = _shapes(layer.output_shapes or [], color)
        params = _number(f"{layer.params:,}", color)
    elif layer.status == "error":
        shapes = "[bold red]✗ rejected[/]" if color else "✗ rejected"
        params = "-"
    else:
        shapes, params = "not reached", "-"
    row = [_name(layer.name, layer.type, color), shapes, params]
    if graph:
        row.append(_connections(layer.connected_to, color))
    return row


def summary_rows(report: Report, color: bool, graph: bool) -> List[List[str]]:
    """The table's rows: a stack lists its layers; a graph also its inputs and Keras's mask
    operations, in Keras's order."""
    if not report.functional:
        return [_layer_row(layer, color, graph) for layer in report.layers]
    inputs = {item.name: item for item in report.inputs}
    layers = {layer.name: layer for layer in report.layers}
    operations = {operation.name: operation for operation in report.operations}
    order = report.row_order or list(inputs) + list(layers)
    rows = []
    for name in order:
        if name in inputs:
            row = [_name(name, "InputLayer", color), _shape(inputs[name].shape, color), _number(0, color)]
            rows.append(row + (["-"] if graph else []))
        elif name in layers:
            rows.append(_layer_row(layers[name], color, graph))
        elif name in operations:
            operation = operations[name]
            row = [_name(name, operation.type, color), _shapes(operation.output_shapes, color),
                   _number(0, color)]
            rows.append(row + ([_connections(operation.inputs, color)] if graph else []))
    return rows


def render_summary(report: Report, options: RenderOptions = RenderOptions()) -> str:
    import rich.box
    import rich.console
    import rich.table

    color = options.color
    graph = report.functional and not report.sequential_like
    positions, default_width = GRAPH if graph else SEQUENTIAL
    width = options.width or default_width
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if graph else [])
    align = ["left", "left", "right", "left"]
    columns, current = [], 0
    for index, position in enumerate(positions):
        column_width = max(int(position * width) - current, 4)
        current += column_width
        columns.append(rich.table.Column(header[index], justify=align[index], width=column_width))
    table = rich.table.Table(*columns, width=width, show_lines=True)
    for row in summary_rows(report, color, graph):
        table.add_row(*row)

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
