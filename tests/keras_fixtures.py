"""Reading the recorded Keras fixtures (tests/fixtures/keras): the cases of several files as one
table, which recorded failures say something about the model, and the layer types a case needs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, Set

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "keras"

# Layer types that fixture cases use and that another branch of issue 9 registers (Conv2D, Conv3D
# and the ConvLSTM layers). Cases using them are skipped until then; once both branches are merged
# this set is empty, and test_every_recorded_type_is_registered holds it to that.
AWAITING_MERGE = {"Conv2D", "Conv3D", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"}

# Cases without those types that only the other branch's rules reject: Masking's per-pixel mask
# reaching an LSTM through TimeDistributed (H007 there). Skipped here until the merge, then empty.
AWAITING_MERGE_CASES = {
    "mask-masking-td-maxpool-lstm": "a per-pixel mask into an LSTM is H007, added with the ConvLSTM masks",
}

# What the recorder's model.predict can fail on without the model being wrong: TensorFlow's CPU
# kernels lack channels_first (NCHW) 1-D/2-D convolutions, which GPUs and XLA run.
TENSORFLOW_CPU_LIMITS = ("only supports the NHWC tensor format on the CPU",)


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


def awaiting_merge(case: dict) -> bool:
    return bool(types_in(case["spec"]) & AWAITING_MERGE)


def skip_if_awaiting_merge(report) -> None:
    """Skip a case that uses a layer type registered by the other branch of issue 9."""
    waiting = sorted({word.strip("`.") for diagnostic in report.diagnostics if diagnostic.code == "S003"
                      for word in diagnostic.message.split() if word.strip("`.") in AWAITING_MERGE})
    if waiting:
        pytest.skip(f"uses {', '.join(waiting)}, registered by the other branch of issue 9")


def fails_when_run(case: dict) -> bool:
    """Keras built the model and model.predict failed for a reason of the model's own."""
    run = case.get("run")
    if not case.get("ok") or not run or run["ok"]:
        return False
    message = run["error"]["core_message"] or ""
    return not any(limit in message for limit in TENSORFLOW_CPU_LIMITS)
