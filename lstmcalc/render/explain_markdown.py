"""`lstmcalc explain --format markdown`: the explanation for documentation and pull requests."""

from __future__ import annotations

from typing import List, Sequence

from ..explain.model import Block, Explanation, FrameworkView, LayerExplanation, WeightRow
from . import RenderOptions
from ..layers import frameworks
from .explain_text import compute_sentences, table
from .text import compute_lines, diagnostic_lines, readable_bytes, where
from .printable import printable_lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> List[str]:
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("--:" if index in right else "---" for index in range(len(header))) + " |"]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def _block(block: Block) -> List[str]:
    lines = [f"**{block.title}**" + (f" — {block.loop}" if block.loop else ""), ""]
    if block.equations:
        lines += ["```text"] + [line.rstrip() for line in table(
            [[f"{item.lhs} = {item.rhs}", item.note] for item in block.equations], indent="")] + ["```", ""]
    if block.symbols:
        lines += _table(["symbol", "shape", "meaning"],
                        [[_code(symbol.names), _code(symbol.shape), symbol.meaning] for symbol in block.symbols])
    if block.legend:
        lines += [block.legend, ""]
    return lines


def _weights(rows: Sequence[WeightRow]) -> List[str]:
    return _table(["weight", "shape", "size", "holds"],
                  [[_code(row.name), _code(str(tuple(row.shape))), f"{row.size:,}",
                    row.layout + ("" if row.trainable else " (non-trainable)")] for row in rows], right=(2,))


def _formula(formula) -> str:
    text = f"{formula.text} = {formula.value:,}" if formula.text != f"{formula.value:,}" else f"{formula.value:,}"
    return f"**Parameters:** {text}" + (f" — {formula.general}" if formula.general else "")


def _pytorch(view: FrameworkView) -> List[str]:
    lines = [f"### Weights as {view.framework} stores the same layer: `{view.module}`", ""]
    lines += _weights(view.weights)
    if view.parameters is not None:
        lines += [_formula(view.parameters), ""]
    lines += [f"- {note}" for note in view.notes] + [""]
    return lines


def _equations(layer: LayerExplanation, framework: str = "Keras") -> List[str]:
    lines = ["### Equations", ""] if layer.blocks else []
    for block in layer.blocks:
        lines += _block(block)
    return lines


def _words(layer: LayerExplanation, framework: str = "Keras") -> List[str]:
    if not layer.in_words:
        return []
    return ["### In words", ""] + [f"- {sentence}" for sentence in layer.in_words] + [""]


def _keras_weights(layer: LayerExplanation, framework: str = "Keras") -> List[str]:
    lines = [f"### Weights as {framework} stores them", ""]
    lines += _weights(layer.weights) if layer.weights else ["No weights.", ""]
    if layer.parameters is not None:
        lines += [_formula(layer.parameters), ""]
    return lines


def _pytorch_weights(layer: LayerExplanation, framework: str = "Keras") -> List[str]:
    return _pytorch(layer.pytorch) if layer.pytorch is not None else []


def _outputs(layer: LayerExplanation, framework: str = "Keras") -> List[str]:
    lines = ["### Outputs", ""]
    lines += _table(["tensor", "shape", "what it is"],
                    [[row.role, _code(row.shape), row.meaning] for row in layer.outputs])
    if layer.settings:
        lines += ["### What return_sequences and return_state change", ""]
        lines += _table(["return_sequences", "return_state", "outputs", "this layer"],
                        [[str(s.return_sequences).lower(), str(s.return_state).lower(),
                          ", ".join(f"{role} {_code(shape)}" for role, shape in zip(s.roles, s.shapes)),
                          "✓" if s.current else ""] for s in layer.settings])
    return lines


def _compute(layer: LayerExplanation, framework: str = "Keras") -> List[str]:
    sentences = compute_sentences(layer) + list(layer.notes)
    lines = ["### Compute", ""] + [f"- {sentence}" for sentence in sentences] + [""] if sentences else []
    if layer.mac_tools:
        lines += _table(["tool", "reports", "formula", "why"],
                        [[tool.tool, "—" if tool.value is None else f"{tool.value:,} {tool.unit}", tool.formula,
                          tool.why] for tool in layer.mac_tools])
    return lines


SECTIONS = {"equations": _equations, "words": _words, "weights": _keras_weights, "pytorch": _pytorch_weights,
            "outputs": _outputs, "compute": _compute}


def _layer(layer: LayerExplanation, sections: Sequence[str] = (), framework: str = "Keras") -> List[str]:
    lines = [f"## {layer.name} ({layer.type})", ""]
    if layer.status in ("not-reached", "unused"):
        return lines + [layer.headline, ""]
    if layer.rejection is not None:
        received = ", ".join(layer.rejection.received)
        lines += [f"**✗ rejected by {framework}**" + (f": it receives `{received}`." if received else "."), "",
                  layer.rejection.reason, ""]
        for diagnostic in layer.rejection.diagnostics:
            lines.append(f"- `{diagnostic.severity}[{diagnostic.code}]` {where(diagnostic)}"
                         + (f" — fix: {diagnostic.hint}" if diagnostic.hint else ""))
        lines.append("")
        if not layer.rejection.would_be:
            return lines
        lines += [f"*{layer.rejection.would_be}*", ""]
    lines += [f"{layer.headline}. Input: " + ", ".join(_code(shape) for shape in layer.inputs) + ".", ""]
    for name, section in SECTIONS.items():
        if not sections or name in sections:
            lines += section(layer, framework)
    return lines + _findings(layer.findings)


def _findings(findings) -> List[str]:
    if not findings:
        return []
    return ["### Findings", "", "```"] + [line for item in findings for line in diagnostic_lines(item)] + ["```", ""]


def render_explanation(explanation: Explanation, options: RenderOptions = RenderOptions()) -> str:
    where_from = f" ({explanation.file})" if explanation.file else ""
    framework = frameworks.framework(explanation.framework)
    lines = [f'# Model "{explanation.name}"{where_from}', "", framework.shapes_note, ""]
    for layer in explanation.layers:
        lines += _layer(layer, options.sections, framework.title)
    totals = not options.sections or "compute" in options.sections
    if explanation.compute is not None and explanation.ok and totals:
        lines += ["## Model", "",
                  f"- Parameters: {explanation.params:,} ({readable_bytes(explanation.compute.param_bytes)})"]
        lines += [f"- {line}" for line in compute_lines(explanation.compute)] + [""]
    lines += _findings(explanation.unplaced())
    if not explanation.ok:
        errors = sum(1 for item in explanation.diagnostics if item.is_error)
        lines += [f"**The model is invalid: {errors} error{'s' if errors != 1 else ''}.**", ""]
    # Names and messages from the spec never act on the terminal (escape sequences shown escaped).
    return printable_lines("\n".join(lines).rstrip("\n")) + "\n"
