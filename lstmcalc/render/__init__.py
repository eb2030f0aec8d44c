"""Renderers: name → function turning a Report into text. The registry also feeds click.Choice.

Modules load lazily so that `--format json` never imports rich.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, Optional, Tuple

from ..records import TupleRecord

class RenderOptions(TupleRecord):
    color: bool = False
    width: Optional[int] = None  # table width; None means Keras's default (88, or 108 for graphs)
    columns: Tuple[str, ...] = ("params",)  # the summary's figure columns, from SUMMARY_COLUMNS
    sections: Tuple[str, ...] = ()  # explain's sections to print, from EXPLAIN_SECTIONS; () = all
    diagram: bool = False  # summary --format markdown --diagram: add a Mermaid diagram
    # The terminal's width (COLUMNS): tables narrower than Keras's default fit it, wrapping cells.
    max_width: Optional[int] = None


Renderer = Callable[[Any, RenderOptions], str]  # (Report, RenderOptions) -> text

SUMMARY_RENDERERS: Dict[str, Tuple[str, str]] = {
    "table": ("lstmcalc.render.table", "render_summary"),
    "json": ("lstmcalc.render.json_format", "render_summary"),
    "markdown": ("lstmcalc.render.markdown", "render_summary"),
    "csv": ("lstmcalc.render.csv_format", "render_summary"),
    "html": ("lstmcalc.render.html", "render_summary"),
}


# `lstmcalc check --format ...`: functions of (CheckResult, RenderOptions) -> str.
CHECK_RENDERERS: Dict[str, Tuple[str, str]] = {
    "text": ("lstmcalc.render.check_text", "render_check"),
    "parsable": ("lstmcalc.render.check_formats", "render_parsable"),
    "json": ("lstmcalc.render.check_formats", "render_json"),
    "github": ("lstmcalc.render.check_formats", "render_github"),
    "sarif": ("lstmcalc.render.check_formats", "render_sarif"),
}

# `lstmcalc explain`: the same kind of registry over an Explanation.
EXPLAIN_RENDERERS: Dict[str, Tuple[str, str]] = {
    "text": ("lstmcalc.render.explain_text", "render_explanation"),
    "json": ("lstmcalc.render.explain_json", "render_explanation"),
    "markdown": ("lstmcalc.render.explain_markdown", "render_explanation"),
}

# What `explain --show` can pick; JSON always carries everything.
EXPLAIN_SECTIONS = ("equations", "words", "weights", "pytorch", "outputs", "compute")

# Figure columns `summary --columns` can show after Output Shape, with their headers.
SUMMARY_COLUMNS: Dict[str, str] = {"params": "Param #", "macs": "MACs", "activations": "Activations"}

# Renderers of a lstmcalc.verify.VerifyResult (`lstmcalc verify --format`).
VERIFY_RENDERERS: Dict[str, Tuple[str, str]] = {
    "table": ("lstmcalc.render.verify_table", "render_verify"),
    "json": ("lstmcalc.render.json_format", "render_verify"),
}

# `lstmcalc diagram --format`: functions of (Report, RenderOptions) -> str, over lstmcalc.diagram's
# layout model; DIAGRAM_EXTENSIONS picks the format from the name given to -o.
DIAGRAM_RENDERERS: Dict[str, Tuple[str, str]] = {
    "svg": ("lstmcalc.diagram.svg", "render_svg"),
    "mermaid": ("lstmcalc.diagram.mermaid", "render_mermaid"),
    "dot": ("lstmcalc.diagram.dot", "render_dot"),
}
# `lstmcalc diff --format`: functions of (lstmcalc.diff.ModelDiff, RenderOptions) -> str.
DIFF_RENDERERS: Dict[str, Tuple[str, str]] = {
    "table": ("lstmcalc.render.diff_text", "render_diff"),
    "markdown": ("lstmcalc.render.diff_markdown", "render_diff"),
    "json": ("lstmcalc.render.json_format", "render_diff"),
}
DIAGRAM_EXTENSIONS: Dict[str, str] = {".svg": "svg", ".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot",
                                      ".gv": "dot"}


# Renderers of a lstmcalc.port.PortResult (`lstmcalc port --format`).
PORT_RENDERERS: Dict[str, Tuple[str, str]] = {
    "text": ("lstmcalc.render.port_text", "render_port"),
    "json": ("lstmcalc.render.port_text", "render_port_json"),
}


def get_renderer(name: str, registry: Dict[str, Tuple[str, str]] = SUMMARY_RENDERERS) -> Renderer:
    module_name, function = registry[name]
    return getattr(importlib.import_module(module_name), function)
