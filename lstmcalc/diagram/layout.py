"""A layered (Sugiyama-style) layout of a Diagram: boxes, edge routes and labels with coordinates.

Steps: rank the nodes (longest path; back edges of a cycle reversed), turn every edge into a chain
of virtual items through the ranks it spans — the first one carries its label —, order each rank by
barycentres to reduce crossings, place each rank by least squares under no-overlap constraints,
and route each edge through its chain.

Boxes and labels sit in horizontal bands, one per level (even levels: boxes, odd levels: labels);
an edge only runs vertically inside a band (at an x that its own virtual item or its box owns)
and diagonally in the empty gaps between bands. So by construction no two boxes overlap and no
edge crosses a box or a label; tests/test_diagram.py checks both on the geometry.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ..render.printable import printable
from ..render.text import STATUS_TEXT
from .model import OUTPUT, Diagram, DiagramEdge, DiagramNode, Part

FONT_SIZE = 12
TITLE_SIZE = 13
LABEL_SIZE = 11
CHAR_WIDTH = 7.3  # a 12 px monospace character is 0.6 em = 7.2 px in the usual fonts
LINE_HEIGHT = 16
LABEL_LINE_HEIGHT = 14
PAD_X = 9
PAD_Y = 7
PART_GAP = 6
BOX_GAP = 28  # horizontal space between two items of a rank when one is a box
EDGE_GAP = 14  # ... between edges and labels
LEVEL_GAP = 22  # vertical space between two bands, where edges run diagonally
LABEL_OFFSET = 5  # a label's chip starts this far right of its edge
MARGIN = 16
TITLE_HEIGHT = 30
MIN_SETTINGS_WIDTH = 34  # characters per line of settings before wrapping
SELF_LOOP = 22  # room on a box's right for an edge from the box to itself


def text_width(text: str) -> float:
    """Width in pixels of ``text`` in the diagram's monospace font (wide CJK characters count twice)."""
    cells = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    return cells * CHAR_WIDTH


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    def overlaps(self, other: "Rect") -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom


@dataclass(frozen=True)
class TextLine:
    """One line of text: ``spans`` of (text, style) from ``x``, baseline at ``y``. Styles: name,
    type, setting, error, muted, label, title."""

    x: float
    y: float
    spans: Tuple[Tuple[str, str], ...]

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.spans)


@dataclass
class Box:
    """A drawn node (or a layer inside a wrapper's box, in ``parts``)."""

    id: str
    kind: str  # input | layer | output | part
    status: str
    rect: Rect
    lines: List[TextLine]
    parts: List["Box"] = field(default_factory=list)
    node: Optional[DiagramNode] = None


@dataclass
class Label:
    rect: Rect
    lines: List[TextLine]


@dataclass
class Route:
    edge: DiagramEdge
    points: List[Tuple[float, float]]
    label: Optional[Label] = None


@dataclass
class Layout:
    width: float
    height: float
    title: TextLine
    boxes: List[Box]
    routes: List[Route]


# -- box contents -------------------------------------------------------------------------------


def _wrap(items: Sequence[str], limit: int) -> List[str]:
    """Join ``items`` with ", " into lines of at most ``limit`` characters (an item never splits)."""
    lines: List[str] = []
    for item in items:
        if lines and len(lines[-1]) + 2 + len(item) <= limit:
            lines[-1] += ", " + item
        else:
            if lines:
                lines[-1] += ","
            lines.append(item)
    return lines


@dataclass
class _Content:
    """A box's text, before it has a position: header spans, then lines, then parts, then status."""

    header: Tuple[Tuple[str, str], ...]
    lines: List[Tuple[Tuple[str, str], ...]]
    parts: List["_Content"]
    status_line: Optional[Tuple[Tuple[str, str], ...]]
    id: str = ""
    kind: str = "part"
    status: str = "ok"

    def width(self) -> float:
        rows = [self.header] + self.lines + ([self.status_line] if self.status_line else [])
        own = max(text_width("".join(text for text, _ in row)) for row in rows) + 2 * PAD_X
        inner = max((part.width() for part in self.parts), default=0.0)
        return max(own, inner + 2 * PAD_X)

    def height(self) -> float:
        rows = 1 + len(self.lines) + (1 if self.status_line else 0)
        return rows * LINE_HEIGHT + sum(part.height() + PART_GAP for part in self.parts) + 2 * PAD_Y

    def place(self, x: float, y: float, width: float, node: Optional[DiagramNode] = None) -> Box:
        lines: List[TextLine] = []
        parts: List[Box] = []
        cursor = y + PAD_Y  # the top of the next row
        for row in [self.header] + self.lines:
            lines.append(TextLine(x + PAD_X, cursor + FONT_SIZE - 1, row))
            cursor += LINE_HEIGHT
        for part in self.parts:
            parts.append(part.place(x + PAD_X, cursor + PART_GAP / 2, width - 2 * PAD_X))
            cursor += part.height() + PART_GAP
        if self.status_line:
            lines.append(TextLine(x + PAD_X, cursor + FONT_SIZE - 1, self.status_line))
            cursor += LINE_HEIGHT
        return Box(self.id, self.kind, self.status, Rect(x, y, width, cursor + PAD_Y - y), lines, parts, node)


def _settings_lines(settings: Sequence[Tuple[str, str]], header_chars: int) -> List[Tuple[Tuple[str, str], ...]]:
    items = [f"{printable(key)}={printable(value)}" for key, value in settings]
    return [((line, "setting"),) for line in _wrap(items, max(MIN_SETTINGS_WIDTH, header_chars))]


def _part_content(part: Part) -> _Content:
    header = ((printable(part.name), "name"), (f" ({printable(part.type)})", "type"))
    chars = len("".join(text for text, _ in header))
    return _Content(header, _settings_lines(part.settings, chars), [_part_content(inner) for inner in part.parts],
                    None)


def node_content(node: DiagramNode) -> _Content:
    """The text of ``node``'s box: "name (Type)", its settings, the layers it wraps, its status."""
    if node.kind == OUTPUT:
        return _Content(((printable(node.name), "muted" if node.status != "ok" else "type"),), [], [], None,
                        node.id, node.kind, node.status)
    header = ((printable(node.name), "name"), (f" ({printable(node.type)})", "type"))
    chars = len("".join(text for text, _ in header))
    status_line = None
    if node.status == "error":
        codes = ", ".join(printable(code) for code in node.codes)
        status_line = (("✗ rejected" + (f": {codes}" if codes else ""), "error"),)
    elif node.status in ("not-reached", "unused"):
        status_line = ((STATUS_TEXT[node.status], "muted"),)
    return _Content(header, _settings_lines(node.settings, chars), [_part_content(part) for part in node.parts],
                    status_line, node.id, node.kind, node.status)


def label_lines(edge: DiagramEdge) -> List[str]:
    return [printable(line) for line in edge.label_lines]


def label_size(lines: Sequence[str]) -> Tuple[float, float]:
    if not lines:
        return 0.0, 0.0
    return max(text_width(line) for line in lines) + 2 * 5, len(lines) * LABEL_LINE_HEIGHT + 6


# -- ranks --------------------------------------------------------------------------------------


def _ranks(ids: List[str], edges: List[Tuple[str, str]]) -> Tuple[Dict[str, int], List[bool]]:
    """Rank of each node and, per edge, whether it is laid out reversed (a back edge of a cycle)."""
    order = {node_id: index for index, node_id in enumerate(ids)}
    successors: Dict[str, List[str]] = {node_id: [] for node_id in ids}
    for source, target in edges:
        if source != target:
            successors[source].append(target)
    # Depth-first search in file order: an edge to a node still on the stack closes a cycle.
    state: Dict[str, int] = {}
    back: set = set()
    for root in ids:
        if root in state:
            continue
        stack = [(root, iter(successors[root]))]
        state[root] = 1
        while stack:
            node_id, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node_id] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node_id, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(successors[child])))
    reversed_flags = [(source, target) in back for source, target in edges]
    forward = [(t, s) if flag else (s, t) for (s, t), flag in zip(edges, reversed_flags) if s != t]
    predecessors: Dict[str, List[str]] = {node_id: [] for node_id in ids}
    following: Dict[str, List[str]] = {node_id: [] for node_id in ids}
    for source, target in forward:
        predecessors[target].append(source)
        following[source].append(target)
    rank: Dict[str, int] = {}
    pending = {node_id: len(set(predecessors[node_id])) for node_id in ids}
    ready = sorted((node_id for node_id in ids if pending[node_id] == 0), key=order.get)
    done: List[str] = []
    while ready:
        node_id = ready.pop(0)
        done.append(node_id)
        rank[node_id] = max((rank[p] + 1 for p in predecessors[node_id]), default=0)
        for child in dict.fromkeys(following[node_id]):
            pending[child] -= 1
            if pending[child] == 0:
                ready.append(child)
                ready.sort(key=order.get)
    # Move a node down to just above its first consumer when that shortens its edges in total
    # (as many edges in as out or fewer): inputs and the branch they feed sit beside the layer
    # they join, not all in the top row.
    for node_id in reversed(done):
        children = set(following[node_id])
        if children and len(set(predecessors[node_id])) <= len(children):
            rank[node_id] = max(rank[node_id], min(rank[child] for child in children) - 1)
    lowest = min(rank.values(), default=0)
    return {node_id: value - lowest for node_id, value in rank.items()}, reversed_flags


# -- items: boxes and the virtual points of edges ----------------------------------------------


@dataclass
class _Item:
    key: str
    level: int
    width: float
    anchor: float  # where edges attach, from the left
    box: bool
    x: float = 0.0
    up: List["_Item"] = field(default_factory=list)
    down: List["_Item"] = field(default_factory=list)
    label: List[str] = field(default_factory=list)

    @property
    def center(self) -> float:
        return self.x + self.anchor


def _crossings(upper: List[_Item], lower: List[_Item]) -> int:
    position = {id(item): index for index, item in enumerate(lower)}
    pairs = [(index, position[id(child)]) for index, item in enumerate(upper) for child in item.down
             if id(child) in position]
    return sum(1 for i, (a, b) in enumerate(pairs) for c, d in pairs[i + 1:] if (a - c) * (b - d) < 0)


def _order(levels: List[List[_Item]]) -> None:
    """Barycentre sweeps, down then up, keeping the order with the fewest crossings."""
    def total() -> int:
        return sum(_crossings(levels[i], levels[i + 1]) for i in range(len(levels) - 1))

    def sweep(indices: Sequence[int], neighbours: str) -> None:
        for index in indices:
            level = levels[index]
            positions = {}
            for other in (levels[index - 1] if neighbours == "up" else levels[index + 1],):
                positions = {id(item): i for i, item in enumerate(other)}
            keyed = []
            for current, item in enumerate(level):
                linked = [positions[id(n)] for n in getattr(item, neighbours) if id(n) in positions]
                keyed.append((sum(linked) / len(linked) if linked else current, current, item))
            level[:] = [item for _, _, item in sorted(keyed, key=lambda entry: (entry[0], entry[1]))]

    best = [list(level) for level in levels]
    best_count = total()
    for _ in range(12):
        sweep(range(1, len(levels)), "up")
        sweep(range(len(levels) - 2, -1, -1), "down")
        count = total()
        if count < best_count:
            best, best_count = [list(level) for level in levels], count
        if best_count == 0:
            break
    levels[:] = best


def _gap(left: _Item, right: _Item) -> float:
    return BOX_GAP if left.box or right.box else EDGE_GAP


def _place_level(level: List[_Item], desired: List[float], weights: List[float]) -> None:
    """Left edges as close (least squares) to ``desired`` as the order and gaps allow
    (pool-adjacent-violators on x minus the packed offsets)."""
    offsets = [0.0]
    for left, right in zip(level, level[1:]):
        offsets.append(offsets[-1] + left.width + _gap(left, right))
    blocks: List[List[float]] = []  # [weighted sum, weight, count]
    for target, weight, offset in zip(desired, weights, offsets):
        blocks.append([(target - offset) * weight, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, weight_sum, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += weight_sum
            blocks[-1][2] += count
    index = 0
    for total, weight_sum, count in blocks:
        for _ in range(count):
            level[index].x = total / weight_sum + offsets[index]
            index += 1


def _coordinates(levels: List[List[_Item]]) -> None:
    for level in levels:
        x = 0.0
        for item in level:
            item.x = x
            x += item.width + EDGE_GAP

    def align(index: int, directions: Tuple[str, ...]) -> None:
        level = levels[index]
        desired, weights = [], []
        for item in level:
            linked = [n.center for direction in directions for n in getattr(item, direction)]
            if linked:
                desired.append(sum(linked) / len(linked) - item.anchor)
                # Long edges' points pull hard, so that they run straight.
                weights.append(len(linked) * (1.0 if item.box else 2.0))
            else:
                desired.append(item.x)
                weights.append(0.01)
        _place_level(level, desired, weights)

    for _ in range(24):
        for index in range(1, len(levels)):
            align(index, ("up",))
        for index in range(len(levels) - 2, -1, -1):
            align(index, ("down",))
    for index in range(len(levels)):
        align(index, ("up", "down"))


# -- the layout ---------------------------------------------------------------------------------


def layout_diagram(diagram: Diagram) -> Layout:
    """Coordinates for every box, edge and label of ``diagram``."""
    contents = {node.id: node_content(node) for node in diagram.nodes}
    ids = [node.id for node in diagram.nodes]
    pairs = [(edge.source, edge.target) for edge in diagram.edges]
    ranks, reversed_flags = _ranks(ids, pairs)
    self_loops = {edge.source for edge in diagram.edges if edge.source == edge.target}
    items: Dict[str, _Item] = {}
    for node in diagram.nodes:
        width = contents[node.id].width()
        extra = SELF_LOOP if node.id in self_loops else 0.0
        items[node.id] = _Item(node.id, 2 * ranks[node.id], width + extra, width / 2, True)
    chains: List[List[_Item]] = []
    for index, (edge, flag) in enumerate(zip(diagram.edges, reversed_flags)):
        if edge.source == edge.target:
            chains.append([])
            continue
        top, bottom = (edge.target, edge.source) if flag else (edge.source, edge.target)
        chain = [items[top]]
        text = label_lines(edge)
        for level in range(items[top].level + 1, items[bottom].level):
            virtual = _Item(f"e{index}.{level}", level, 0.0, 0.0, False)
            if level == items[top].level + 1 and text:
                virtual.label = text
                virtual.width = LABEL_OFFSET + label_size(text)[0]
            chain.append(virtual)
        chain.append(items[bottom])
        for upper, lower in zip(chain, chain[1:]):
            upper.down.append(lower)
            lower.up.append(upper)
        chains.append(chain)
    depth = max((item.level for item in items.values()), default=0) + 1
    levels: List[List[_Item]] = [[] for _ in range(depth)]
    for node_id in ids:
        levels[items[node_id].level].append(items[node_id])
    for chain in chains:
        for item in chain[1:-1]:
            levels[item.level].append(item)
    _order(levels)
    _coordinates(levels)

    # Bands: each level's top and height, after the title.
    heights = []
    for index, level in enumerate(levels):
        if index % 2 == 0:
            heights.append(max((contents[item.key].height() for item in level if item.box), default=0.0))
        else:
            heights.append(max((label_size(item.label)[1] for item in level if item.label), default=0.0))
    tops, y = [], MARGIN + TITLE_HEIGHT
    for height in heights:
        tops.append(y)
        y += height + LEVEL_GAP
    left = min((item.x for level in levels for item in level), default=0.0)
    shift = MARGIN - left
    for level in levels:
        for item in level:
            item.x += shift

    boxes = {node.id: contents[node.id].place(items[node.id].x, tops[items[node.id].level],
                                               contents[node.id].width(), node) for node in diagram.nodes}
    routes = _routes(diagram, chains, reversed_flags, boxes, tops, heights)
    title_text = (("Model: ", "title-muted"), (f'"{printable(diagram.title)}"', "title"),
                  (f"  {diagram.caption}", "title-error" if not diagram.ok else "title-muted"))
    title = TextLine(MARGIN + 8, MARGIN + 17, title_text)
    right = max([box.rect.right for box in boxes.values()]
                + [route.label.rect.right for route in routes if route.label]
                + [x for route in routes for x, _ in route.points]
                + [MARGIN + 16 + text_width(title.text) * TITLE_SIZE / FONT_SIZE], default=0.0)
    bottom = max([box.rect.bottom for box in boxes.values()] + [MARGIN + TITLE_HEIGHT], default=0.0)
    return Layout(right + MARGIN, bottom + MARGIN, title, [boxes[node_id] for node_id in ids], routes)


def _ports(rect: Rect, count: int) -> List[float]:
    return [rect.x + rect.width * (index + 1) / (count + 1) for index in range(count)]


def _routes(diagram: Diagram, chains: List[List[_Item]], reversed_flags: List[bool], boxes: Dict[str, Box],
            tops: List[float], heights: List[float]) -> List[Route]:
    # Each box's edges attach at evenly spread ports, ordered by where the edge goes next.
    outgoing: Dict[str, List[Tuple[float, int]]] = {}
    incoming: Dict[str, List[Tuple[float, int]]] = {}
    for index, chain in enumerate(chains):
        if chain:
            outgoing.setdefault(chain[0].key, []).append((chain[1].center, index))
            incoming.setdefault(chain[-1].key, []).append((chain[-2].center, index))
    start: Dict[int, float] = {}
    end: Dict[int, float] = {}
    for table, result in ((outgoing, start), (incoming, end)):
        for key, entries in table.items():
            entries.sort()
            for x, (_, index) in zip(_ports(boxes[key].rect, len(entries)), entries):
                result[index] = x
    routes = []
    for index, (edge, chain) in enumerate(zip(diagram.edges, chains)):
        if not chain:
            rect = boxes[edge.source].rect
            loop_x = rect.right + SELF_LOOP * 0.7
            upper, lower = rect.y + rect.height / 3, rect.y + 2 * rect.height / 3
            routes.append(Route(edge, [(rect.right, upper), (loop_x, upper), (loop_x, lower), (rect.right, lower)]))
            continue
        top_rect, bottom_rect = boxes[chain[0].key].rect, boxes[chain[-1].key].rect
        points = [(start[index], top_rect.bottom)]
        band_bottom = tops[chain[0].level] + heights[chain[0].level]
        if band_bottom > top_rect.bottom:
            points.append((start[index], band_bottom))
        label = None
        for item in chain[1:-1]:
            x = item.center
            points.append((x, tops[item.level]))
            if heights[item.level] > 0:
                points.append((x, tops[item.level] + heights[item.level]))
            if item.label:
                width, height = label_size(item.label)
                rect = Rect(x + LABEL_OFFSET, tops[item.level], width, height)
                lines = [TextLine(rect.x + 5, rect.y + 3 + 11 + row * LABEL_LINE_HEIGHT, ((text, "label"),))
                         for row, text in enumerate(item.label)]
                label = Label(rect, lines)
        points.append((end[index], bottom_rect.y))
        if reversed_flags[index]:
            points.reverse()
        routes.append(Route(edge, points, label))
    return routes
