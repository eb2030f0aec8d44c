"""`--format json`: one JSON document (schema ``lstmcalc.summary/1``), also for invalid models."""

from __future__ import annotations

import json

from ..report import Report
from . import RenderOptions


def render_summary(report: Report, options: RenderOptions = RenderOptions()) -> str:
    document = report.to_dict()
    if set(options.columns) - {"params"}:
        # Asked for compute columns: each layer gains its figures, the document the model's.
        from ..compute import compute_figures

        figures = compute_figures(report)
        by_name = {item.name: item for item in reversed(figures.layers)}  # the first of each name
        for layer in document["layers"]:
            item = by_name.get(layer["name"])
            layer["compute"] = item.to_dict() if item is not None else None
        document["compute"] = figures.to_dict()
    return json.dumps(document, indent=2) + "\n"


def render_verify(result, options: RenderOptions = RenderOptions()) -> str:
    """`lstmcalc verify --format json`: schema ``lstmcalc.verify/1``."""
    return json.dumps(result.to_dict(), indent=2) + "\n"


def render_diff(diff, options: RenderOptions = RenderOptions()) -> str:
    """`lstmcalc diff --format json`: schema ``lstmcalc.diff/1``."""
    return json.dumps(diff.to_dict(), indent=2) + "\n"
