"""`lstmcalc diff --format markdown`: a table for a pull-request comment."""

from __future__ import annotations

from typing import List

from ..diff import ModelDiff
from . import RenderOptions
from .diff_text import (HEADER, change_cell, finding_sections, layer_cell, model_change_lines, model_line,
                        params_cell, setting_lines, shape_cell, verdict_line)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "\\`")


def render_diff(diff: ModelDiff, options: RenderOptions = RenderOptions()) -> str:
    lines: List[str] = [f"**lstmcalc diff:** {verdict_line(diff)}", "",
                        f"- old: {_cell(model_line(diff.old))}", f"- new: {_cell(model_line(diff.new))}", ""]
    header = list(HEADER) + ["Changed settings"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("| --- | --- | --- | --: | --- |")
    for layer in diff.layers:
        cells = [layer_cell(layer), change_cell(layer), shape_cell(layer), params_cell(layer),
                 "<br>".join(setting_lines(layer))]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    lines.append("")
    lines += [f"**{line.split(':')[0]}:**{_cell(line.split(':', 1)[1])}  " for line in model_change_lines(diff)]
    lines[-1] = lines[-1].rstrip()
    for title, section in finding_sections(diff):
        lines += ["", f"**{title}:**", "", "```"] + [line.replace("```", "'''") for line in section] + ["```"]
    return "\n".join(lines) + "\n"
