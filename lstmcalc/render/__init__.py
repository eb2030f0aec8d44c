"""Renderers: name → function turning a Report into text. The registry also feeds click.Choice.

Modules load lazily so that `--format json` never imports rich.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

from ..report import Report


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    width: Optional[int] = None  # table width; None means Keras's default (88, or 108 for graphs)


Renderer = Callable[[Report, RenderOptions], str]

SUMMARY_RENDERERS: Dict[str, Tuple[str, str]] = {
    "table": ("lstmcalc.render.table", "render_summary"),
    "json": ("lstmcalc.render.json_format", "render_summary"),
    "markdown": ("lstmcalc.render.markdown", "render_summary"),
}


# Renderers of a lstmcalc.verify.VerifyResult (`lstmcalc verify --format`).
VERIFY_RENDERERS: Dict[str, Tuple[str, str]] = {
    "table": ("lstmcalc.render.verify_table", "render_verify"),
    "json": ("lstmcalc.render.json_format", "render_verify"),
}


def get_renderer(name: str, registry: Dict[str, Tuple[str, str]] = SUMMARY_RENDERERS) -> Renderer:
    module_name, function = registry[name]
    return getattr(importlib.import_module(module_name), function)
