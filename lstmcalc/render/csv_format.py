"""`--format csv`: one row per layer and output tensor (Report.rows()), for spreadsheets."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..report import ROW_COLUMNS, Report
from ..shapes import format_shape, format_summary_shape
from . import RenderOptions
from .printable import printable


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column == "output_shape":
        return format_summary_shape(value)
    if column == "weights":
        return "; ".join(f"{printable(weight['name'])} {format_shape(weight['shape'])}" for weight in value)
    if isinstance(value, list):
        return " ".join(printable(item) for item in value)
    return printable(value) if isinstance(value, str) else str(value)


def render_summary(report: Report, options: RenderOptions = RenderOptions()) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ROW_COLUMNS)
    for row in report.rows():
        writer.writerow([_cell(column, row[column]) for column in ROW_COLUMNS])
    return buffer.getvalue()
