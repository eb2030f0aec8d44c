"""Plain-text pieces shared by the renderers: numbers, byte sizes, diagnostics."""

from __future__ import annotations

from typing import Iterable, List

from ..diagnostics import Diagnostic
from ..report import Report


def readable_bytes(size: float) -> str:
    """Keras's ``readable_memory_size``: 536.00 KB, 43.75 KB, 0.00 B."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def where(diagnostic: Diagnostic) -> str:
    parts = [diagnostic.file or "<spec>"]
    if diagnostic.line is not None:
        parts.append(str(diagnostic.line))
        if diagnostic.column is not None:
            parts.append(str(diagnostic.column))
    return ":".join(parts)


def diagnostic_lines(diagnostic: Diagnostic) -> List[str]:
    """``error[H001] file:9:5 (layer lstm_1): message`` and an indented hint line."""
    layer = f" (layer {diagnostic.layer})" if diagnostic.layer else ""
    lines = [f"{diagnostic.severity}[{diagnostic.code}] {where(diagnostic)}{layer}: {diagnostic.message}"]
    if diagnostic.hint:
        lines.append(f"  hint: {diagnostic.hint}")
    return lines


def diagnostics_text(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n".join(line for diagnostic in diagnostics for line in diagnostic_lines(diagnostic))


def totals_lines(report: Report) -> List[str]:
    totals = report.totals
    return [
        f"Total params: {totals.params:,} ({readable_bytes(totals.param_bytes)})",
        f"Trainable params: {totals.trainable_params:,} ({readable_bytes(totals.trainable_bytes)})",
        f"Non-trainable params: {totals.non_trainable_params:,} ({readable_bytes(totals.non_trainable_bytes)})",
    ]


def verdict(report: Report) -> str:
    errors = len(report.errors)
    return f"The model is invalid: {errors} error{'s' if errors != 1 else ''}."
