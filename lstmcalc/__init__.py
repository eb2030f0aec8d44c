"""lstmcalc: shapes and parameter counts of recurrent models, as Keras 3 computes them.

    >>> import lstmcalc
    >>> report = lstmcalc.analyze("specs/seed_001_stacked_lstm.yaml")
    >>> report.totals.params
    137217
"""

from .api import analyze, analyze_layers, analyze_spec, analyze_text
from .diagnostics import Diagnostic
from .report import LayerReport, Report

__version__ = "0.1.0"
__all__ = ["analyze", "analyze_layers", "analyze_spec", "analyze_text", "Diagnostic", "LayerReport",
           "Report", "__version__"]
