"""`lstmcalc diagram --format dot`: Graphviz source, for those who have Graphviz."""

from __future__ import annotations

from typing import List

from ..render import RenderOptions
from ..render.printable import printable
from ..render.text import STATUS_TEXT
from ..report import Report
from .model import OUTPUT, Diagram, DiagramNode, Part, build_diagram

STYLES = {
    "layer": 'fillcolor="#ddf4ff", color="#0969da"',
    "input": 'fillcolor="#f6f8fa", color="#59636e"',
    "output": 'fillcolor="#f6f8fa", color="#59636e", shape=oval',
    "error": 'fillcolor="#ffebe9", color="#cf222e", penwidth=2',
    "not-reached": 'fillcolor="#eaeef2", color="#8c959f", style="rounded,filled,dashed", fontcolor="#59636e"',
}


def dot_string(text: str) -> str:
    """``text`` as a quoted DOT string: backslashes and quotes escaped, controls made visible, and
    ``&`` as ``&amp;`` (Graphviz decodes HTML entities even in plain labels)."""
    escaped = printable(text).replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped + '"'


def _settings(settings) -> str:
    return ", ".join(f"{key}={value}" for key, value in settings)


def _part_lines(part: Part, depth: int) -> List[str]:
    line = "  " * depth + f"↳ {part.name} ({part.type})" + (f": {_settings(part.settings)}" if part.settings else "")
    return [line] + [text for inner in part.parts for text in _part_lines(inner, depth + 1)]


def _label_lines(node: DiagramNode) -> List[str]:
    if node.kind == OUTPUT:
        return [node.name]
    lines = [f"{node.name} ({node.type})"]
    if node.settings:
        lines.append(_settings(node.settings))
    lines += [text for part in node.parts for text in _part_lines(part, 0)]
    if node.status == "error":
        lines.append("✗ rejected" + (": " + ", ".join(node.codes) if node.codes else ""))
    elif node.status in ("not-reached", "unused"):
        lines.append(STATUS_TEXT[node.status])
    return lines


def _joined(lines: List[str]) -> str:
    # Each line escaped on its own, then joined with DOT's left-justified line break.
    return '"' + "".join(dot_string(line)[1:-1] + "\\l" for line in lines) + '"'


def diagram_dot(diagram: Diagram) -> str:
    title = 'Model: "' + diagram.title + '"  ' + diagram.caption
    out = [f"digraph {dot_string(diagram.title)} {{",
           f"    label={dot_string(title)};",
           "    labelloc=t;",
           '    graph [rankdir=TB, fontname="monospace", fontsize=12];',
           '    node [shape=box, style="rounded,filled", fontname="monospace", fontsize=11, fontcolor="#1f2328"];',
           '    edge [color="#8c959f", fontname="monospace", fontsize=10];']
    for node in diagram.nodes:
        style = STYLES.get(node.status if node.status in ("error", "not-reached") else node.kind, "")
        out.append(f"    {node.id} [label={_joined(_label_lines(node))}, {style}];")
    for edge in diagram.edges:
        attributes = []
        if edge.label_lines:
            attributes.append("label=" + '"' + "\\n".join(dot_string(line)[1:-1] for line in edge.label_lines) + '"')
        if not edge.computed:
            attributes.append("style=dashed")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        out.append(f"    {edge.source} -> {edge.target}{suffix};")
    out.append("}")
    return "\n".join(out) + "\n"


def render_dot(report: Report, options: RenderOptions = RenderOptions()) -> str:
    """The model's diagram as Graphviz DOT source."""
    return diagram_dot(build_diagram(report))
