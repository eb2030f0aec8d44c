"""`lstmcalc diagram --format svg`: a standalone SVG of the layout, no Graphviz needed.

Colours work on GitHub's light and dark themes alike: boxes, labels and the title are filled
chips with dark text, and edges are a mid grey that shows on white and on near-black.
"""

from __future__ import annotations

from typing import Dict, List
from xml.sax.saxutils import escape, quoteattr

from ..render import RenderOptions
from ..render.printable import printable
from ..report import Report
from .layout import FONT_SIZE, LABEL_SIZE, TITLE_SIZE, Box, Layout, TextLine, layout_diagram
from .model import build_diagram

FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace"
TEXT = "#1f2328"
MUTED = "#59636e"
EDGE = "#8c959f"
# (fill, stroke, stroke-dasharray) per box kind and status.
BOX_STYLES: Dict[str, tuple] = {
    "layer": ("#ddf4ff", "#0969da", None),
    "input": ("#f6f8fa", "#59636e", None),
    "output": ("#f6f8fa", "#59636e", None),
    "part": ("#ffffff", "#54aeff", None),
    "error": ("#ffebe9", "#cf222e", None),
    "not-reached": ("#eaeef2", "#8c959f", "5 3"),
}
SPAN_STYLES = {
    "name": f'font-weight="bold" fill="{TEXT}"',
    "type": f'fill="{TEXT}"',
    "setting": f'fill="{MUTED}"',
    "error": 'font-weight="bold" fill="#cf222e"',
    "muted": f'font-style="italic" fill="{MUTED}"',
    "label": f'fill="{TEXT}"',
    "title": f'font-weight="bold" fill="{TEXT}"',
    "title-muted": f'fill="{MUTED}"',
    "title-error": 'font-weight="bold" fill="#cf222e"',
}


def _number(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text(line: TextLine, size: int = FONT_SIZE) -> str:
    spans = "".join(f"<tspan {SPAN_STYLES[style]}>{escape(text)}</tspan>" for text, style in line.spans)
    return (f'<text x="{_number(line.x)}" y="{_number(line.y)}" font-size="{size}" '
            f'xml:space="preserve">{spans}</text>')


def _box(box: Box, indent: str) -> List[str]:
    style_key = box.status if box.status in ("error", "not-reached") else box.kind
    fill, stroke, dash = BOX_STYLES[style_key]
    rect = box.rect
    radius = rect.height / 2 if box.kind == "output" else 6
    node = box.node
    attributes = f' id="{box.id}"' if box.id else ""
    if node is not None:
        attributes += f" data-name={quoteattr(printable(node.name))} data-type={quoteattr(printable(node.type))}"
    lines = [f'{indent}<g class="{box.kind} {box.status}"{attributes}>',
             f'{indent}  <rect x="{_number(rect.x)}" y="{_number(rect.y)}" width="{_number(rect.width)}" '
             f'height="{_number(rect.height)}" rx="{_number(radius)}" fill="{fill}" stroke="{stroke}" '
             f'stroke-width="{2 if box.status == "error" else 1.2}"'
             + (f' stroke-dasharray="{dash}"' if dash else "") + "/>"]
    lines += [f"{indent}  {_text(line)}" for line in box.lines]
    for part in box.parts:
        lines += _box(part, indent + "  ")
    lines.append(f"{indent}</g>")
    return lines


def render_layout(layout: Layout) -> str:
    width, height = _number(layout.width), _number(layout.height)
    title = layout.title.text
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="{FONT}" role="img" aria-labelledby="title">',
           f'  <title id="title">{escape(title)}</title>',
           "  <defs>",
           '    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE}"/></marker>',
           "  </defs>"]
    title_width = layout.width - 2 * (layout.title.x - 8)
    out += ['  <g class="title">',
            f'    <rect x="{_number(layout.title.x - 8)}" y="{_number(layout.title.y - 17)}" '
            f'width="{_number(title_width)}" height="24" rx="6" fill="#f6f8fa" stroke="#d1d9e0"/>',
            f"    {_text(layout.title, TITLE_SIZE)}",
            "  </g>"]
    out.append('  <g class="edges">')
    for index, route in enumerate(layout.routes):
        edge = route.edge
        path = " ".join(("M" if i == 0 else "L") + f"{_number(x)},{_number(y)}" for i, (x, y) in enumerate(route.points))
        dash = "" if edge.computed else ' stroke-dasharray="5 4"'
        out.append(f'    <g class="edge {edge.role}{"" if edge.computed else " not-computed"}" id="e{index}" '
                   f'data-source="{edge.source}" data-target="{edge.target}">')
        out.append(f'      <path d="{path}" fill="none" stroke="{EDGE}" stroke-width="1.5"{dash} '
                   'marker-end="url(#arrow)"/>')
        out.append("    </g>")
    out.append("  </g>")
    out.append('  <g class="nodes">')
    for box in layout.boxes:
        out += _box(box, "    ")
    out.append("  </g>")
    out.append('  <g class="labels">')
    for index, route in enumerate(layout.routes):
        if route.label is None:
            continue
        rect = route.label.rect
        out.append(f'    <g class="label" data-edge="e{index}">')
        out.append(f'      <rect x="{_number(rect.x)}" y="{_number(rect.y)}" width="{_number(rect.width)}" '
                   f'height="{_number(rect.height)}" rx="4" fill="#ffffff" stroke="#d1d9e0"/>')
        out += [f"      {_text(line, LABEL_SIZE)}" for line in route.label.lines]
        out.append("    </g>")
    out.append("  </g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_svg(report: Report, options: RenderOptions = RenderOptions()) -> str:
    """The model's diagram as a standalone SVG document."""
    return render_layout(layout_diagram(build_diagram(report)))
