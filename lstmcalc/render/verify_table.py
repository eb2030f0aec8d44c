"""The verifier's table: each input and layer with the propagated shapes, the computed ones and ✓/✗."""

from __future__ import annotations

import io
from typing import List

from . import RenderOptions
from .table import _name, _shapes
from .text import diagnostic_lines, printable, readable_bytes, verdict

WIDTH = 88
COLUMNS = (("Layer (type)", 0.38, "left"), ("Propagated", 0.62, "left"), ("Computed", 0.86, "left"),
           ("", 1.0, "center"))
MARKS = {"agrees": "✓", "differs": "✗", "failed": "✗ failed", "skipped": "not run", "not-run": "-"}
STYLES = {"agrees": "green", "differs": "bold red", "failed": "bold red"}


def _row(check, color: bool) -> List[str]:
    computed = [tensor.computed for tensor in check.tensors]
    computed_text = _shapes(computed, color) if computed and None not in computed else "-"
    mark = MARKS[check.status]
    if color and check.status in STYLES:
        mark = f"[{STYLES[check.status]}]{mark}[/]"
    return [_name(check.name, check.type, color), _shapes([t.propagated for t in check.tensors], color),
            computed_text, mark]


def _settings(result) -> List[str]:
    options = result.options
    sizes = [f"batch {result.batch_size}"]
    if result.timesteps is not None:
        sizes.append(f"{result.timesteps} time steps for unknown lengths")
    lines = [f"Run with {', '.join(sizes)}; weights: {result.weights_source}."]
    if result.ran:
        lines += [f"Input {printable(check.name)}: {printable(check.source)}." for check in result.inputs
                  if check.source]
    lines.append(f"Memory estimate: {readable_bytes(result.memory.total)} "
                 f"(--max-memory {readable_bytes(options.max_memory)}).")
    return lines


def _outcome(result) -> List[str]:
    tensors = result.tensors
    agreeing = sum(1 for tensor in tensors if tensor.agrees)
    if result.ok:
        lines = [f"✓ All {len(tensors)} tensors agree: the NumPy forward pass computed every shape the "
                 "engine propagated."]
    elif any(d.code == "V001" for d in result.diagnostics):
        differing = sum(1 for tensor in tensors if tensor.computed is not None and not tensor.agrees)
        lines = [f"✗ {differing} of {len(tensors)} tensors {'differs' if differing == 1 else 'differ'} from "
                 f"the propagated shapes: this is a bug in lstmcalc."]
    elif result.ran:
        lines = [f"✗ Not verified: {agreeing} of {len(tensors)} tensors computed and agree; the rest did "
                 "not run."]
    else:
        lines = ["✗ Not verified: the forward pass did not run."]
    if result.outputs:
        shapes = ", ".join(f"{printable(name)} {tuple(array.shape)}" for name, array in result.outputs.items())
        where = f" written to {printable(result.output_path)}" if result.output_path else ""
        lines.append(f"Outputs{where}: {shapes}.")
    return lines


def render_verify(result, options: RenderOptions = RenderOptions()) -> str:
    import rich.console
    import rich.table
    from rich.markup import escape

    color = options.color
    width = options.width or max(min(WIDTH, options.max_width or WIDTH), 30)  # a narrow terminal: wrap cells
    buffer = io.StringIO()
    console = rich.console.Console(file=buffer, width=width, highlight=False, force_terminal=color,
                                   color_system="256" if color else None, no_color=not color,
                                   legacy_windows=False)

    def say(text: str, style: str = "") -> None:
        console.print(f"[{style}]{escape(text)}[/]" if color and style else escape(text), soft_wrap=True)

    report = result.report
    if not report.ok:
        say(f'Model: "{printable(report.name)}"', "bold")
        say(verdict(report) + " Nothing to verify: fix it first (see `lstmcalc summary`).", "bold red")
        for diagnostic in report.diagnostics:
            for line in diagnostic_lines(diagnostic):
                say(line)
        return buffer.getvalue()

    columns, current = [], 0
    for title, position, justify in COLUMNS:
        column_width = max(int(position * width) - current, 4)
        current += column_width
        columns.append(rich.table.Column(title, justify=justify, width=column_width, overflow="fold"))
    table = rich.table.Table(*columns, width=width, show_lines=True)
    for check in result.inputs + result.layers:
        table.add_row(*_row(check, color))
    say(f'Verify: "{printable(report.name)}"', "bold")
    console.print(table)
    if result.ran or result.memory.total:
        for line in _settings(result):
            say(line)
    for line in _outcome(result):
        say(line, "bold green" if result.ok else "bold red")
    for diagnostic in result.diagnostics:
        style = {"error": "bold red", "warning": "yellow"}.get(diagnostic.severity, "")
        for index, line in enumerate(diagnostic_lines(diagnostic)):
            say(line, style if index == 0 else "")
    return buffer.getvalue()
