"""Reading the recorded Keras fixtures (tests/fixtures/keras): the cases of several files as one
table, which recorded failures say something about the model, and the layer types a case needs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, Set


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "keras"

# What the recorder's model.predict can fail on without the model being wrong: TensorFlow's CPU
# kernels lack channels_first (NCHW) 1-D/2-D convolutions, which GPUs and XLA run, and 3-D max
# pooling of float16.
TENSORFLOW_CPU_LIMITS = ("only supports the NHWC tensor format on the CPU",
                         # 3-D max pooling of float16 (GPUs have the kernel; dtype_cases.yaml)
                         "No OpKernel was registered to support Op 'MaxPool3D'")


def load_cases(*names: str) -> Dict[str, dict]:
    """The cases of several reference files, by id (ids are unique across them)."""
    cases: Dict[str, dict] = {}
    for name in names:
        recorded = json.loads((FIXTURES / name).read_text(encoding="utf-8"))["cases"]
        repeated = set(cases) & set(recorded)
        assert not repeated, f"{name} repeats case ids {sorted(repeated)}"
        cases.update(recorded)
    return cases


def types_in(spec) -> Set[str]:
    """The layer types a spec names, in call syntax or as `type:`."""
    text = str(spec)
    return set(re.findall(r"\b([A-Z][A-Za-z0-9]+)\(", text)) | set(re.findall(r"'type': '([A-Za-z0-9]+)'", text))


def fails_when_run(case: dict) -> bool:
    """Keras built the model and model.predict failed for a reason of the model's own."""
    run = case.get("run")
    if not case.get("ok") or not run or run["ok"]:
        return False
    message = run["error"]["core_message"] or ""
    return not any(limit in message for limit in TENSORFLOW_CPU_LIMITS)
