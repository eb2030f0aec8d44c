"""`lstmcalc explain` as plain text for the terminal."""

from __future__ import annotations

import textwrap
import unicodedata
from typing import Iterable, List, Sequence

from ..explain.model import Block, Explanation, FrameworkView, LayerExplanation, MacText, WeightRow
from . import RenderOptions
from ..layers import frameworks
from ..compute import Amount
from .text import amount_text, compute_lines, diagnostic_lines, readable_bytes, where
from .printable import printable_lines

WIDTH = 100
INDENT = "  "


def width(text: str) -> int:
    """Columns the text takes in a terminal: combining marks (the tilde of c̃) take none."""
    return sum(0 if unicodedata.combining(char) else 1 for char in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(columns - width(text), 0)


def table(rows: Sequence[Sequence[str]], indent: str = INDENT, right: Sequence[int] = (),
          wrap: bool = True) -> List[str]:
    """Columns padded to their widest cell; the last column wraps under itself past WIDTH."""
    if not rows:
        return []
    count = max(len(row) for row in rows)
    widths = [max(width(row[index]) for row in rows if index < len(row)) for index in range(count)]
    lines = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row[:-1]):
            if index in right:
                cells.append(" " * (widths[index] - width(cell)) + cell)
            else:
                cells.append(pad(cell, widths[index]))
        start = indent + "".join(cell + "   " for cell in cells)
        room = WIDTH - width(start)
        last = textwrap.wrap(row[-1], room, break_on_hyphens=False) if wrap and room >= 30 else [row[-1]]
        lines.append((start + (last[0] if last else "")).rstrip())
        lines += [" " * width(start) + more for more in last[1:]]
    return lines


def paragraph(text: str, indent: str = INDENT, bullet: str = "") -> List[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent + bullet,
                         subsequent_indent=indent + " " * len(bullet), break_on_hyphens=False) or [indent]


def heading(text: str) -> List[str]:
    return ["", text]


def block_lines(block: Block) -> List[str]:
    lines = [INDENT + block.title]
    if block.loop:
        lines += paragraph(block.loop, INDENT * 2)
    lines += table([[f"{equation.lhs} = {equation.rhs}", equation.note] for equation in block.equations],
                   INDENT * 2)
    if block.symbols:
        lines.append(INDENT * 2 + "where")
        lines += table([[symbol.names, symbol.shape, symbol.meaning] for symbol in block.symbols], INDENT * 3)
    if block.legend:
        lines += paragraph(block.legend, INDENT * 2)
    return lines


def weight_rows(weights: Iterable[WeightRow]) -> List[List[str]]:
    return [[row.name, str(tuple(row.shape)), f"{row.size:,}", row.layout + ("" if row.trainable else
                                                                             " (non-trainable)")]
            for row in weights]


def formula_lines(label: str, formula) -> List[str]:
    lines = [f"{label}: {formula.text} = {formula.value:,}" if formula.text != f"{formula.value:,}"
             else f"{label}: {formula.value:,}"]
    if formula.general:
        lines.append(" " * (len(label) + 2) + formula.general)
    return lines


def pytorch_lines(view: FrameworkView) -> List[str]:
    lines = heading(f"Weights as {view.framework} stores the same layer: {view.module}")
    lines += table(weight_rows(view.weights), right=(2,), wrap=False)
    if view.parameters is not None:
        lines += [INDENT + line for line in formula_lines("Parameters", view.parameters)]
    for note in view.notes:
        lines += paragraph(note, bullet="- ")
    return lines


def macs_text(macs: MacText) -> str:
    per_step = macs.per_step
    arithmetic = f"{per_step.text} = {per_step.value:,}" if per_step.text != f"{per_step.value:,}" \
        else f"{per_step.value:,}"
    if macs.steps == 1:
        return arithmetic
    if macs.steps is None:
        return f"{arithmetic} per {macs.unit} × T {macs.unit}s (length unknown: per {macs.unit})"
    return f"{arithmetic} per {macs.unit} × {macs.steps:,} {macs.unit}s = {macs.total:,}"


def memory_text(memory) -> str:
    activation = Amount(memory["activation_bytes"]["fixed"], memory["activation_bytes"]["per_step"])
    return (f"outputs {amount_text(activation, readable_bytes)} for a batch of {memory['batch_size']}, "
            f"weights {readable_bytes(memory['param_bytes'])}")


def compute_sentences(layer: LayerExplanation) -> List[str]:
    sentences = []
    if layer.macs is not None:
        sentences.append("MACs per sample: " + macs_text(layer.macs))
    if layer.memory:
        sentences.append("Memory: " + memory_text(layer.memory))
    return sentences


def _equations(layer: LayerExplanation, framework: str = "Keras") -> List[str]:
    lines = heading("Equations") if layer.blocks else []
    for block in layer.blocks:
        lines += block_lines(block)
    return lines


def _words(layer: LayerExplanation, framework: str = "Keras") -> List[str]:
    lines = heading("In words") if layer.in_words else []
    for sentence in layer.in_words:
        lines += paragraph(sentence, bullet="- ")
    return lines


def _weights(layer: LayerExplanation, framework: str = "Keras") -> List[str]:
    lines = heading(f"Weights as {framework} stores them" if layer.weights else "Weights: none")
    lines += table(weight_rows(layer.weights), right=(2,), wrap=False)
    if layer.parameters is not None:
        lines += [INDENT + line for line in formula_lines("Parameters", layer.parameters)]
    return lines


def _pytorch(layer: LayerExplanation, framework: str = "Keras") -> List[str]:
    return pytorch_lines(layer.pytorch) if layer.pytorch is not None else []


def _outputs(layer: LayerExplanation, framework: str = "Keras") -> List[str]:
    lines = heading("Outputs") + table([[row.role, row.shape, row.meaning] for row in layer.outputs])
    if layer.settings:
        lines += heading("What return_sequences and return_state change")
        rows = [["", "return_sequences", "return_state", "outputs"]]
        for setting in layer.settings:
            shapes = ", ".join(f"{role} {shape}" for role, shape in zip(setting.roles, setting.shapes))
            rows.append(["→" if setting.current else "", str(setting.return_sequences).lower(),
                         str(setting.return_state).lower(), shapes])
        lines += table(rows)
        lines.append(INDENT + "(→ this layer's setting)")
    return lines


def _compute(layer: LayerExplanation, framework: str = "Keras") -> List[str]:
    lines = heading("Compute") if layer.macs is not None or layer.memory else []
    for sentence in compute_sentences(layer):
        lines += paragraph(sentence)
    for note in layer.notes:
        lines += paragraph(note, bullet="- ")
    if layer.mac_tools:
        lines += paragraph("What MAC counters report for the same module (docs/compute.md):")
        for tool in layer.mac_tools:
            value = "—" if tool.value is None else f"{tool.value:,} {tool.unit}"
            lines += paragraph(f"{tool.tool}: {value} = {tool.formula}. {tool.why}", INDENT, bullet="- ")
    return lines


SECTIONS = {"equations": _equations, "words": _words, "weights": _weights, "pytorch": _pytorch,
            "outputs": _outputs, "compute": _compute}


def layer_lines(layer: LayerExplanation, sections: Sequence[str] = (), framework: str = "Keras") -> List[str]:
    title = f"{layer.name} ({layer.type})"
    lines = ["", "━━ " + title + " " + "━" * max(WIDTH - width(title) - 4, 3)]
    if layer.status in ("not-reached", "unused"):
        return lines + [layer.headline]
    if layer.rejection is not None:
        lines.append(f"✗ rejected by {framework}" + (f": it receives {', '.join(layer.rejection.received)}"
                                             if layer.rejection.received else ""))
        lines += paragraph(layer.rejection.reason, "")
        for diagnostic in layer.rejection.diagnostics:
            lines += paragraph(f"{diagnostic.severity}[{diagnostic.code}] {where(diagnostic)}", INDENT)
            if diagnostic.hint:
                lines += paragraph(diagnostic.hint, INDENT, bullet="fix: ")
        if not layer.rejection.would_be:
            return lines
        lines += [""] + paragraph(layer.rejection.would_be, "")
    lines.append(layer.headline)
    lines.append("Input: " + ", ".join(layer.inputs))
    for name, section in SECTIONS.items():
        if not sections or name in sections:
            lines += section(layer, framework)
    return lines + finding_lines(layer.findings)


def finding_lines(findings) -> List[str]:
    lines = heading("Findings") if findings else []
    for finding in findings:
        first, *rest = diagnostic_lines(finding)
        lines += paragraph(first)
        lines += [line for hint in rest for line in paragraph(hint.strip(), INDENT * 2)]
    return lines


def render_explanation(explanation: Explanation, options: RenderOptions = RenderOptions()) -> str:
    where = f" ({explanation.file})" if explanation.file else ""
    framework = frameworks.framework(explanation.framework)
    lines = [f'Model "{explanation.name}"{where}', framework.shapes_note]
    for layer in explanation.layers:
        lines += layer_lines(layer, options.sections, framework.title)
    totals = not options.sections or "compute" in options.sections
    if explanation.compute is not None and explanation.ok and totals:
        lines += ["", "━━ Model " + "━" * (WIDTH - 9)]
        lines.append(f"Parameters: {explanation.params:,} ({readable_bytes(explanation.compute.param_bytes)})")
        for line in compute_lines(explanation.compute):
            lines += paragraph(line, "")
    lines += finding_lines(explanation.unplaced())
    if not explanation.ok:
        errors = sum(1 for item in explanation.diagnostics if item.is_error)
        lines += ["", f"The model is invalid: {errors} error{'s' if errors != 1 else ''}."]
    # Names and messages from the spec never act on the terminal (escape sequences shown escaped).
    return printable_lines("\n".join(lines)) + "\n"
