"""`lstmcalc diagram --format mermaid`: a flowchart that GitHub renders inside Markdown."""

from __future__ import annotations

from typing import List

from ..render import RenderOptions
from ..render.printable import printable
from ..render.text import STATUS_TEXT
from ..report import Report
from .model import OUTPUT, Diagram, DiagramNode, Part, build_diagram

# Characters that Mermaid's label syntax or its HTML would interpret; written as #code; entities.
_SPECIAL = set('"#&<>`|')
CLASS_DEFINITIONS = [
    "classDef layer fill:#ddf4ff,stroke:#0969da,color:#1f2328",
    "classDef input fill:#f6f8fa,stroke:#59636e,color:#1f2328",
    "classDef output fill:#f6f8fa,stroke:#59636e,color:#1f2328",
    "classDef rejected fill:#ffebe9,stroke:#cf222e,stroke-width:2px,color:#1f2328",
    "classDef notreached fill:#eaeef2,stroke:#8c959f,stroke-dasharray:5 3,color:#59636e",
]


def mermaid_text(text: str) -> str:
    """``text`` safe inside a quoted Mermaid label: controls escaped, specials as entities."""
    return "".join(f"#{ord(char)};" if char in _SPECIAL else char for char in printable(text))


def _settings(settings) -> str:
    return ", ".join(f"{mermaid_text(key)}={mermaid_text(value)}" for key, value in settings)


def _part_lines(part: Part, depth: int) -> List[str]:
    lead = "&nbsp;&nbsp;" * depth + "↳ "
    line = f"{lead}<i>{mermaid_text(part.name)}</i> ({mermaid_text(part.type)})"
    if part.settings:
        line += f": {_settings(part.settings)}"
    return [line] + [text for inner in part.parts for text in _part_lines(inner, depth + 1)]


def node_label(node: DiagramNode) -> str:
    if node.kind == OUTPUT:
        return mermaid_text(node.name)
    lines = [f"<b>{mermaid_text(node.name)}</b> ({mermaid_text(node.type)})"]
    if node.settings:
        lines.append(_settings(node.settings))
    lines += [text for part in node.parts for text in _part_lines(part, 0)]
    if node.status == "error":
        lines.append("✗ rejected" + (": " + ", ".join(mermaid_text(code) for code in node.codes) if node.codes else ""))
    elif node.status in ("not-reached", "unused"):
        lines.append(f"<i>{STATUS_TEXT[node.status]}</i>")
    return "<br/>".join(lines)


def _class(node: DiagramNode) -> str:
    return {"error": "rejected", "not-reached": "notreached"}.get(node.status, node.kind)


def diagram_mermaid(diagram: Diagram, direction: str = "TD") -> str:
    """The flowchart source, without a Markdown fence."""
    lines = [f"flowchart {direction}"]
    for node in diagram.nodes:
        open_, close = ("([", "])") if node.kind == OUTPUT else ("[", "]")
        lines.append(f'    {node.id}{open_}"{node_label(node)}"{close}')
    for edge in diagram.edges:
        arrow = "-->" if edge.computed else "-.->"
        label = "<br/>".join(mermaid_text(line) for line in edge.label_lines)
        lines.append(f'    {edge.source} {arrow}|"{label}"| {edge.target}' if label else
                     f"    {edge.source} {arrow} {edge.target}")
    lines += [f"    {definition}" for definition in CLASS_DEFINITIONS]
    groups: dict = {}
    for node in diagram.nodes:
        groups.setdefault(_class(node), []).append(node.id)
    lines += [f"    class {','.join(ids)} {name}" for name, ids in groups.items()]
    return "\n".join(lines) + "\n"


def render_mermaid(report: Report, options: RenderOptions = RenderOptions()) -> str:
    """The model's diagram as Mermaid flowchart source."""
    return diagram_mermaid(build_diagram(report))
