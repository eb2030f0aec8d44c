"""`--format json`: one JSON document (schema ``lstmcalc.summary/1``), also for invalid models."""

from __future__ import annotations

import json

from ..report import Report
from . import RenderOptions


def render_summary(report: Report, options: RenderOptions = RenderOptions()) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def render_verify(result, options: RenderOptions = RenderOptions()) -> str:
    """`lstmcalc verify --format json`: schema ``lstmcalc.verify/1``."""
    return json.dumps(result.to_dict(), indent=2) + "\n"
