"""`lstmcalc diagram`: the layout's geometry (no overlapping boxes, no edge through a box), the
SVG's structure, Mermaid and DOT golden files, hostile names, the CLI, and docs/diagrams/."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import combinations
from typing import List, Tuple

import pytest
from click.testing import CliRunner

import lstmcalc
from lstmcalc.cli import cli
from lstmcalc.diagram.dot import render_dot
from lstmcalc.diagram.layout import PAD_X, Layout, Rect, layout_diagram, text_width
from lstmcalc.diagram.mermaid import render_mermaid
from lstmcalc.diagram.model import build_diagram
from lstmcalc.diagram.svg import render_svg
from lstmcalc.layers import all_layer_classes
from lstmcalc.render.printable import printable

from .conftest import ROOT, SPECS

SPEC_FILES = sorted(path.name for path in SPECS.glob("*.yaml"))
SVG = "{http://www.w3.org/2000/svg}"

SIX_LAYER_STACK = """
name: six-layer-stack
input: [40, 8]
layers:
  - LSTM(128, return_sequences=True)
  - LSTM(96, return_sequences=True)
  - LSTM(64, return_sequences=True)
  - LSTM(32)
  - Dense(16, activation='relu')
  - Dense(1, activation='sigmoid')
"""

# Skip connections and a merge of four: long edges through several ranks.
SKIP_CONNECTIONS = """
name: skips
inputs:
  x: {shape: [20, 4]}
  side: {shape: [3]}
layers:
  - {type: LSTM, name: a, units: 8, return_sequences: true, inputs: x}
  - {type: LSTM, name: b, units: 8, return_sequences: true, inputs: a}
  - {type: LSTM, name: c, units: 8, return_sequences: true, inputs: b}
  - {type: Concatenate, name: all, inputs: [x, a, b, c]}
  - {type: LSTM, name: d, units: 8, inputs: all}
  - {type: Dense, name: e, units: 8, inputs: side}
  - {type: Concatenate, name: joined, inputs: [d, e]}
  - {type: Dense, name: out, units: 1, inputs: joined}
"""

# A cycle (S013): its layers are never reached, the diagram still draws them.
CYCLE = """
name: cycle
inputs:
  x: {shape: [5]}
layers:
  - {type: Dense, name: a, units: 4, inputs: [x, c]}
  - {type: Add, name: b, inputs: [a, c]}
  - {type: Dense, name: c, units: 4, inputs: b}
outputs: [c]
"""

SELF_LOOP = """
name: self-loop
inputs:
  x: {shape: [5]}
layers:
  - {type: Dense, name: a, units: 4, inputs: [a]}
outputs: [a]
"""

EXTRA_MODELS = {"six_layer_stack": SIX_LAYER_STACK, "skip_connections": SKIP_CONNECTIONS, "cycle": CYCLE,
                "self_loop": SELF_LOOP}


def report_of(model: str):
    if model in EXTRA_MODELS:
        return lstmcalc.analyze_text(EXTRA_MODELS[model], file=f"{model}.yaml")
    return lstmcalc.analyze(SPECS / model)


# -- geometry --------------------------------------------------------------------------------------


def shrunk(rect: Rect, by: float = 0.5) -> Rect:
    return Rect(rect.x + by, rect.y + by, rect.width - 2 * by, rect.height - 2 * by)


def segment_enters(start: Tuple[float, float], end: Tuple[float, float], rect: Rect) -> bool:
    """Whether the segment passes through the rectangle's interior (Liang–Barsky clipping)."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0
    for p, q in ((-dx, x0 - rect.x), (dx, rect.right - x0), (-dy, y0 - rect.y), (dy, rect.bottom - y0)):
        if p == 0:
            if q <= 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low >= high:
            return False
    return True


def segments(points: List[Tuple[float, float]]):
    return list(zip(points, points[1:]))


def geometry_problems(layout: Layout) -> List[str]:
    problems = []
    boxes = layout.boxes
    for first, second in combinations(boxes, 2):
        if first.rect.overlaps(second.rect):
            problems.append(f"boxes {first.id} and {second.id} overlap")
    labels = [(index, route.label) for index, route in enumerate(layout.routes) if route.label]
    for (i, first), (j, second) in combinations(labels, 2):
        if first.rect.overlaps(second.rect):
            problems.append(f"labels of edges {i} and {j} overlap")
    for index, label in labels:
        for box in boxes:
            if label.rect.overlaps(box.rect):
                problems.append(f"the label of edge {index} overlaps box {box.id}")
    for index, route in enumerate(layout.routes):
        for start, end in segments(route.points):
            for box in boxes:
                if segment_enters(start, end, shrunk(box.rect)):
                    problems.append(f"edge {index} ({route.edge.source}→{route.edge.target}) crosses box {box.id}")
            for other, label in labels:
                if segment_enters(start, end, shrunk(label.rect)):
                    problems.append(f"edge {index} crosses the label of edge {other}")
    for box in boxes:
        for part in box.parts:
            inner = part.rect
            if not (box.rect.x < inner.x and inner.right < box.rect.right and box.rect.y < inner.y
                    and inner.bottom < box.rect.bottom):
                problems.append(f"a part of {box.id} sticks out of it")
        for first, second in combinations(box.parts, 2):
            if first.rect.overlaps(second.rect):
                problems.append(f"parts of {box.id} overlap")
        for item in [box] + box.parts:
            for line in item.lines:
                if text_width(line.text) > item.rect.width - 2 * PAD_X + 0.01:
                    problems.append(f"text {line.text!r} is wider than its box {box.id}")
    everything = [box.rect for box in boxes] + [label.rect for _, label in labels]
    for rect in everything:
        if rect.x < 0 or rect.y < 0 or rect.right > layout.width or rect.bottom > layout.height:
            problems.append(f"{rect} is outside the {layout.width}×{layout.height} canvas")
    return problems


MODELS = SPEC_FILES + list(EXTRA_MODELS)


@pytest.mark.parametrize("model", MODELS)
def test_no_overlaps_and_no_edge_through_a_box(model):
    layout = layout_diagram(build_diagram(report_of(model)))
    assert geometry_problems(layout) == []


@pytest.mark.parametrize("model", ["seq2seq.yaml", "two_input_concatenate.yaml", "six_layer_stack",
                                   "seed_000_stacked_lstm.yaml"])
def test_the_issue_models_read_top_down(model):
    """Every edge of these acyclic models points down the page, each box on its own row or beside
    an unrelated one."""
    layout = layout_diagram(build_diagram(report_of(model)))
    boxes = {box.id: box.rect for box in layout.boxes}
    for route in layout.routes:
        assert boxes[route.edge.source].bottom < boxes[route.edge.target].y
        assert all(y1 <= y2 for (_, y1), (_, y2) in segments(route.points))


def test_the_checker_finds_overlaps_and_crossings():
    layout = layout_diagram(build_diagram(report_of("seed_001_stacked_lstm.yaml")))
    first, second, last = layout.boxes[1], layout.boxes[2], layout.boxes[-1]
    second.rect = first.rect
    (x, y), _ = segments(layout.routes[0].points)[-1]  # onto the input's edge into lstm1
    last.rect = Rect(x - 10, y - 2, 20, 4)
    problems = geometry_problems(layout)
    assert f"boxes {first.id} and {second.id} overlap" in problems
    assert f"edge 0 (n0→n1) crosses box {last.id}" in problems


def test_segment_through_a_box():
    box = Rect(10, 10, 20, 20)
    assert segment_enters((0, 20), (40, 20), box)
    assert not segment_enters((0, 5), (40, 5), box)
    assert not segment_enters((20, 30), (20, 50), shrunk(box))  # leaving from the bottom edge
    assert segment_enters((0, 0), (40, 40), box)


# -- what the boxes say ----------------------------------------------------------------------------


def test_displayed_arguments_are_arguments_of_their_layer():
    for name, cls in all_layer_classes().items():
        assert set(cls.displayed_arguments) <= set(cls.argument_names()), name


def test_settings_come_from_the_layers():
    diagram = build_diagram(report_of("seed_000_stacked_lstm.yaml"))
    lstm = next(node for node in diagram.nodes if node.name == "lstm")
    # 50 units, and return_sequences=False — the reason lstm_1 is rejected — shown though a default.
    assert lstm.settings == (("units", "50"), ("return_sequences", "False"), ("return_state", "False"))
    rejected = next(node for node in diagram.nodes if node.name == "lstm_1")
    assert (rejected.status, rejected.codes) == ("error", ("H001",))
    assert next(node for node in diagram.nodes if node.name == "dense").status == "not-reached"


def test_layers_that_cannot_be_built_show_their_codes():
    report = lstmcalc.analyze_text("input: [10, 5]\nlayers:\n  - LSTMM(4)\n  - Bidirectional(Dense(3))\n"
                                   "  - Dense(1)\n", file="x.yaml")
    nodes = {node.name: node for node in build_diagram(report).nodes}
    # A layer that cannot be built keeps the name it will have once fixed: LSTMM is taken for LSTM.
    assert (nodes["lstm"].status, nodes["lstm"].codes) == ("error", ("S003",))  # unknown type
    assert (nodes["bidirectional"].status, nodes["bidirectional"].codes) == ("error", ("S005",))  # wraps a Dense
    assert (nodes["dense_1"].status, nodes["dense_1"].codes) == ("not-reached", ())
    graph = lstmcalc.analyze_text("inputs:\n  x: {shape: [5]}\nlayers:\n  - {type: Densy, name: a, inputs: x}\n"
                                  "outputs: [a, nosuch]\n", file="y.yaml")
    # S003 is a's; the S011 of `outputs:`, on the line after the last layer, is nobody's.
    assert [(node.name, node.codes) for node in build_diagram(graph).nodes if node.kind == "layer"] == [
        ("a", ("S003",))]


def test_wrappers_show_the_layers_inside():
    diagram = build_diagram(report_of("bidirectional_stack.yaml"))
    second = next(node for node in diagram.nodes if node.name == "bidirectional_1")
    assert second.settings == (("merge_mode", "'sum'"),)
    assert [(part.name, part.type, dict(part.settings)["units"]) for part in second.parts] == [
        ("forward_lstm_1", "LSTM", "32"), ("backward_lstm_1", "LSTM", "32")]
    timed = build_diagram(lstmcalc.analyze_layers([10, 4], ["TimeDistributed(Dense(3))"]))
    wrapper = next(node for node in timed.nodes if node.type == "TimeDistributed")
    assert [(part.type, part.settings) for part in wrapper.parts] == [
        ("Dense", (("units", "3"), ("activation", "None")))]


def test_every_output_of_a_multi_output_layer_has_its_own_edge():
    diagram = build_diagram(report_of("seq2seq.yaml"))
    ids = {node.name: node.id for node in diagram.nodes}
    states = [edge for edge in diagram.edges if edge.role == "initial_state"]
    assert [(edge.source, edge.target, edge.tensor, edge.shape) for edge in states] == [
        (ids["encoder"], ids["decoder"], "encoder[1]", "(None, 256)"),
        (ids["encoder"], ids["decoder"], "encoder[2]", "(None, 256)")]
    assert states[0].label_lines == ["encoder[1] → initial_state", "(None, 256)"]


def test_edges_carry_the_shapes():
    diagram = build_diagram(report_of("seed_001_stacked_lstm.yaml"))
    # input (None, 50, 10) → lstm1 → (None, 50, 128) → lstm2 → (None, 64) → ... → output (None, 1)
    assert [edge.shape for edge in diagram.edges] == [
        "(None, 50, 10)", "(None, 50, 128)", "(None, 64)", "(None, 128)", "(None, 64)", "(None, 1)"]
    assert [node.kind for node in diagram.nodes] == ["input"] + ["layer"] * 5 + ["output"]


def test_two_outputs_get_two_terminals():
    diagram = build_diagram(report_of("two_head.yaml"))
    assert [node.name for node in diagram.nodes if node.kind == "output"] == ["output[0]", "output[1]"]


# -- SVG -------------------------------------------------------------------------------------------


def parse_svg(text: str) -> ET.Element:
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    return root


def groups(root: ET.Element, css_class: str) -> List[ET.Element]:
    return [element for element in root.iter(f"{SVG}g") if css_class in element.get("class", "").split()]


def text_of(element: ET.Element) -> List[str]:
    return ["".join(text.itertext()) for text in element.iter(f"{SVG}text")]


@pytest.mark.parametrize("spec", SPEC_FILES)
def test_svg_structure(spec):
    report = lstmcalc.analyze(SPECS / spec)
    diagram = build_diagram(report)
    root = parse_svg(render_svg(report))
    nodes = [group for group in root.iter(f"{SVG}g") if group.get("id", "").startswith("n")]
    assert [group.get("id") for group in nodes] == [node.id for node in diagram.nodes]
    for group, node in zip(nodes, diagram.nodes):
        assert group.find(f"{SVG}rect") is not None
        assert text_of(group)[0] == (node.name if node.kind == "output" else f"{node.name} ({node.type})")
    edges = groups(root, "edge")
    assert len(edges) == len(diagram.edges)
    ids = {node.id for node in diagram.nodes}
    for group, edge in zip(edges, diagram.edges):
        assert (group.get("data-source"), group.get("data-target")) == (edge.source, edge.target)
        assert {group.get("data-source"), group.get("data-target")} <= ids
        assert group.find(f"{SVG}path").get("marker-end") == "url(#arrow)"
    labels = groups(root, "label")
    assert sorted(line for label in labels for line in text_of(label)) == sorted(
        line for edge in diagram.edges for line in edge.label_lines)
    assert text_of(groups(root, "title")[0])[0].startswith(f'Model: "{report.name}"')


def test_svg_marks_rejected_and_unreached_layers():
    root = parse_svg(render_svg(report_of("seed_000_stacked_lstm.yaml")))
    rejected = [group for group in groups(root, "error") if group.get("data-name") == "lstm_1"]
    assert len(rejected) == 1
    assert rejected[0].find(f"{SVG}rect").get("stroke") == "#cf222e"
    assert "✗ rejected: H001" in text_of(rejected[0])
    unreached = {group.get("data-name") for group in groups(root, "not-reached")}
    assert unreached == {"dense", "output"}
    assert all(edge.find(f"{SVG}path").get("stroke-dasharray") for edge in groups(root, "not-computed"))
    assert len(groups(root, "not-computed")) == 2


def test_svg_nests_the_wrapped_layers():
    root = parse_svg(render_svg(report_of("bidirectional_encoder_decoder.yaml")))
    encoder = next(group for group in groups(root, "layer") if group.get("data-name") == "encoder")
    parts = groups(encoder, "part")
    assert [text_of(part)[0] for part in parts] == ["forward_lstm (LSTM)", "backward_lstm (LSTM)"]
    assert "return_state=True" in text_of(parts[0])


# -- golden files ----------------------------------------------------------------------------------

GOLDEN_SPECS = ["seq2seq.yaml", "seed_000_stacked_lstm.yaml", "bidirectional_encoder_decoder.yaml",
                "two_input_concatenate.yaml", "cnn_lstm.yaml"]


@pytest.mark.parametrize("spec", GOLDEN_SPECS)
def test_mermaid_golden(spec, golden):
    golden(f"diagram/{spec[:-5]}.mmd", render_mermaid(lstmcalc.analyze(SPECS / spec)))


@pytest.mark.parametrize("spec", GOLDEN_SPECS)
def test_dot_golden(spec, golden):
    golden(f"diagram/{spec[:-5]}.dot", render_dot(lstmcalc.analyze(SPECS / spec)))


@pytest.mark.parametrize("spec", SPEC_FILES)
def test_docs_diagrams_are_current(spec):
    """docs/diagrams/ holds each bundled spec's picture; regenerate with
    `for f in specs/*.yaml; do lstmcalc diagram $f -o docs/diagrams/$(basename $f .yaml).svg; done`."""
    path = ROOT / "docs" / "diagrams" / (spec[:-5] + ".svg")
    assert path.exists(), f"{path} is missing"
    assert path.read_text(encoding="utf-8") == render_svg(lstmcalc.analyze(SPECS / spec)), \
        f"{path} is out of date; regenerate it with lstmcalc diagram"


# -- hostile names ---------------------------------------------------------------------------------

HOSTILE = '<script>alert(1)<b x="&amp;">\x1bc\u202e|#'  # layer names cannot hold "/"
HOSTILE_SPEC = """
name: "evil</title><script>x</script>\\x1b[2J"
inputs:
  "in\\"put|#": {shape: [4]}
layers:
  - {type: Dense, name: "%s", units: 2, inputs: "in\\"put|#"}
  - {type: Dense, name: "a-->b\\nnew line]\\\\", units: 1, inputs: "%s"}
""" % (HOSTILE.replace('"', '\\"').replace("\x1b", "\\x1b").replace("\u202e", "\\u202e"),
       HOSTILE.replace('"', '\\"').replace("\x1b", "\\x1b").replace("\u202e", "\\u202e"))


def hostile_report():
    report = lstmcalc.analyze_text(HOSTILE_SPEC, file="evil.yaml")
    assert report.ok, report.diagnostics
    assert report.layers[0].name == HOSTILE
    return report


def test_svg_escapes_hostile_names():
    text = render_svg(hostile_report())
    root = parse_svg(text)  # well-formed XML, control characters included
    assert not [element for element in root.iter() if element.tag.endswith("script")]
    assert "\x1b" not in text and "\u202e" not in text
    names = [text_of(group)[0] for group in root.iter(f"{SVG}g") if group.get("id", "").startswith("n")]
    assert names[1] == printable(HOSTILE) + " (Dense)"
    assert names[2] == "a-->b\\x0anew line]\\ (Dense)"
    assert root.find(f"{SVG}title").text.startswith('Model: "evil</title><script>x</script>\\x1b[2J"')


def test_mermaid_quotes_hostile_names():
    text = render_mermaid(hostile_report())
    assert "\x1b" not in text and "\u202e" not in text
    lines = text.splitlines()
    nodes = [line for line in lines if re.match(r"^    n\d+[\[(]", line)]
    assert len(nodes) == 4
    for line in nodes:
        # One quoted label per node: no quote, fence or raw angle bracket of the name inside it.
        assert re.fullmatch(r'    n\d+(\["[^"]*"\]|\(\["[^"]*"\]\))', line), line
        assert "<script" not in line and "</text" not in line
    assert "#60;script#62;alert(1)#60;b x=#34;#38;amp;#34;#62;\\x1bc\\u202e#124;#35;" in text
    for line in lines:
        if "-->" in line.replace("-->|", "").replace('"', "") and line.startswith("    n"):
            assert re.fullmatch(r'    n\d+ (-->|-\.->)(\|"[^"]*"\|)? n\d+', line), line


def test_dot_quotes_hostile_names():
    text = render_dot(hostile_report())
    assert "\x1b" not in text and "\u202e" not in text
    string = r'"(?:[^"\\]|\\.)*"'
    for line in text.splitlines()[1:-1]:
        # Outside the quoted strings, only DOT syntax: no stray quote, angle bracket or newline.
        outside = re.sub(string, "S", line)
        assert '"' not in outside and "<" not in outside, line
    assert '\\"' in text  # the input's quote, escaped
    assert 'b x=\\"&amp;amp;\\"' in text  # Graphviz would decode a bare &amp;
    assert "a-->b\\\\x0anew line]\\\\ (Dense)" in text


# -- the command -----------------------------------------------------------------------------------


def run(*arguments: str):
    return CliRunner().invoke(cli, list(arguments))


def test_cli_svg_by_default():
    result = run("diagram", str(SPECS / "seq2seq.yaml"))
    assert result.exit_code == 0
    assert result.stdout == render_svg(lstmcalc.analyze(SPECS / "seq2seq.yaml"))


@pytest.mark.parametrize("name, renderer", [("model.svg", render_svg), ("model.mmd", render_mermaid),
                                            ("model.mermaid", render_mermaid), ("model.dot", render_dot),
                                            ("model.gv", render_dot), ("MODEL.SVG", render_svg)])
def test_cli_format_follows_the_extension(tmp_path, name, renderer):
    target = tmp_path / name
    result = run("diagram", str(SPECS / "two_input_concatenate.yaml"), "-o", str(target))
    assert (result.exit_code, result.stdout) == (0, "")
    assert target.read_text(encoding="utf-8") == renderer(lstmcalc.analyze(SPECS / "two_input_concatenate.yaml"))


def test_cli_invalid_model_is_drawn_and_exits_1(tmp_path):
    result = run("diagram", str(SPECS / "seed_000_stacked_lstm.yaml"), "--format", "mermaid")
    assert result.exit_code == 1
    assert "✗ rejected: H001" in result.stdout
    assert result.stderr.startswith("error[H001]")


@pytest.mark.parametrize("arguments, message", [
    (["-o", "model.png"], "cannot tell the format from 'model.png'"),
    (["-o", "model.svg", "--format", "dot"], "--format dot does not match -o model.svg"),
    (["--format", "png"], "'png' is not one of"),
    (["-o", "/nonexistent-directory/model.svg"], "cannot write /nonexistent-directory/model.svg"),
])
def test_cli_usage_errors(arguments, message):
    result = run("diagram", str(SPECS / "seq2seq.yaml"), *arguments)
    assert result.exit_code == 2
    assert message in result.stderr


def test_cli_missing_spec():
    result = run("diagram", "no-such-spec.yaml")
    assert result.exit_code == 2
    assert "no such file: no-such-spec.yaml" in result.stderr


def test_diagram_of_an_unreadable_spec(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("layers: [\n", encoding="utf-8")
    result = run("diagram", str(path))
    assert result.exit_code == 1
    parse_svg(result.stdout)
    assert "invalid: 1 error" in result.stdout
