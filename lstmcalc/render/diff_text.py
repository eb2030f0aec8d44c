"""`lstmcalc diff --format table`: the layers side by side with what changed, then the totals
and the validity; also the cell texts the Markdown form shares."""

from __future__ import annotations

from typing import List, Optional, Sequence

from ..diff import ADDED, REMOVED, RENAMED, UNCHANGED, LayerDiff, ModelDiff
from ..report import LayerReport, Report
from ..shapes import format_summary_shape, format_summary_shapes
from . import RenderOptions
from .printable import printable
from .text import diagnostic_lines

HEADER = ("Layer (type)", "Change", "Output Shape", "Param #")


def arrow(old: str, new: str) -> str:
    return old if old == new else f"{old} → {new}"


def layer_cell(diff: LayerDiff) -> str:
    old, new = diff.old, diff.new
    name = arrow(printable(old.name), printable(new.name)) if old and new else printable((new or old).name)
    kind = arrow(printable(old.type), printable(new.type)) if old and new else printable((new or old).type)
    return f"{name} ({kind})"


def _shapes(layer: Optional[LayerReport]) -> str:
    if layer is None:
        return ""
    if layer.status == "error":
        return "✗ rejected"
    if layer.output_shapes is None:
        return "not reached"
    return format_summary_shapes(layer.output_shapes)


def shape_cell(diff: LayerDiff) -> str:
    if diff.old is None or diff.new is None:
        return _shapes(diff.new or diff.old)
    return arrow(_shapes(diff.old), _shapes(diff.new))


def _count(value: Optional[int]) -> str:
    return "-" if value is None else f"{value:,}"


def params_cell(diff: LayerDiff) -> str:
    old, new = diff.old_params, diff.new_params
    if diff.change == ADDED:
        return f"{_count(new)} (+{new:,})" if new else _count(new)
    if diff.change == REMOVED:
        return f"{_count(old)} (-{old:,})" if old else _count(old)
    if old == new:
        return _count(new)
    return f"{_count(old)} → {_count(new)} ({diff.params_delta:+,})"


def change_cell(diff: LayerDiff) -> str:
    return "" if diff.change == UNCHANGED else diff.change


def setting_lines(diff: LayerDiff) -> List[str]:
    return [f"{printable(change.name)}: {printable(change.old)} → {printable(change.new)}"
            for change in diff.settings if change.name != "type" or diff.change == RENAMED]


def model_line(report: Report) -> str:
    state = f"{report.totals.params:,} params" if report.ok else \
        f"invalid: {len(report.errors)} error{'s' if len(report.errors) != 1 else ''}"
    return f'{printable(report.file or "-")}  "{printable(report.name)}"  {state}'


def total_lines(diff: ModelDiff) -> List[str]:
    lines = []
    for title, key in (("Total params", "params"), ("Trainable params", "trainable_params"),
                       ("Non-trainable params", "non_trainable_params")):
        old, new = getattr(diff.old.totals, key), getattr(diff.new.totals, key)
        if key == "params" or old != new:
            lines.append(f"{title}: {old:,}" if old == new else f"{title}: {old:,} → {new:,} ({new - old:+,})")
    return lines


def model_change_lines(diff: ModelDiff) -> List[str]:
    """Changes of the model as a whole: name, inputs, totals, validity."""
    lines = []
    if diff.name_changed:
        lines.append(f'Model name: "{printable(diff.old.name)}" → "{printable(diff.new.name)}"')
    for item in diff.inputs:
        old = "-" if item.old_shape is None else f"{format_summary_shape(item.old_shape)} {item.old_dtype}"
        new = "-" if item.new_shape is None else f"{format_summary_shape(item.new_shape)} {item.new_dtype}"
        lines.append(f"Input {printable(item.name)} ({item.change}): {old} → {new}")
    lines += total_lines(diff)
    if diff.validity_changed:
        lines.append(f"Valid: {'yes' if diff.old.ok else 'no'} → {'yes' if diff.new.ok else 'no'}")
    return lines


def verdict_line(diff: ModelDiff) -> str:
    if diff.same:
        return "No differences."
    parts = [f"{count} layer{'s' if count != 1 else ''} {kind}" for kind, count in diff.counts().items()]
    if diff.inputs:
        parts.append("inputs changed")
    if diff.validity_changed:
        parts.append("the model became invalid" if diff.old.ok else "the model became valid")
    elif diff.appeared or diff.resolved:
        parts.append("findings changed")
    if not parts:
        parts.append("the model's name changed" if diff.name_changed else "totals changed")
    return "Differences: " + "; ".join(parts) + "."


def finding_sections(diff: ModelDiff) -> List[tuple]:
    """(title, lines) for the diagnostics NEW gained and those it lost."""
    sections = []
    for title, diagnostics in (("New findings", diff.appeared), ("Resolved findings", diff.resolved)):
        if diagnostics:
            sections.append((title, [printable(line) for d in diagnostics for line in diagnostic_lines(d)]))
    return sections


def _table(rows: Sequence[Sequence[str]], details: Sequence[List[str]]) -> List[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index:
            lines += [f"    {line}" for line in details[index - 1]]
    return lines


def render_diff(diff: ModelDiff, options: RenderOptions = RenderOptions()) -> str:
    lines = [f"--- {model_line(diff.old)}", f"+++ {model_line(diff.new)}", ""]
    rows = [HEADER] + [(layer_cell(layer), change_cell(layer), shape_cell(layer), params_cell(layer))
                       for layer in diff.layers]
    lines += _table(rows, [setting_lines(layer) for layer in diff.layers]) if diff.layers else ["(no layers)"]
    lines += [""] + model_change_lines(diff)
    for title, section in finding_sections(diff):
        lines += ["", f"{title}:"] + [f"  {line}" for line in section]
    lines += ["", verdict_line(diff)]
    return "\n".join(lines) + "\n"
