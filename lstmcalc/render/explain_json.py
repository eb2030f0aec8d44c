"""`lstmcalc explain --format json`: the explanation as one JSON document (schema lstmcalc.explain/1)."""

from __future__ import annotations

import json

from ..explain.model import Explanation
from . import RenderOptions


def render_explanation(explanation: Explanation, options: RenderOptions = RenderOptions()) -> str:
    return json.dumps(explanation.to_dict(), indent=2, ensure_ascii=False) + "\n"
