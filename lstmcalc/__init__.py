"""lstmcalc: shapes and parameter counts of recurrent models, as Keras 3 computes them.

    >>> import lstmcalc
    >>> report = lstmcalc.analyze("specs/seed_001_stacked_lstm.yaml")
    >>> report.totals.params
    137217

The names below load on first use, so that ``import lstmcalc`` (and ``lstmcalc --version``)
imports nothing else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, List

__version__ = "0.1.0"
__all__ = ["analyze", "analyze_layers", "analyze_spec", "analyze_text", "Diagnostic", "LayerReport",
           "Report", "__version__"]

# name → the module that defines it
_HOMES = {"analyze": "api", "analyze_layers": "api", "analyze_spec": "api", "analyze_text": "api",
          "Diagnostic": "diagnostics", "LayerReport": "report", "Report": "report"}

if TYPE_CHECKING:
    from .api import analyze, analyze_layers, analyze_spec, analyze_text  # noqa: F401
    from .diagnostics import Diagnostic  # noqa: F401
    from .report import LayerReport, Report  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lstmcalc' has no attribute {name!r}")


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(__all__))
