"""Lints that mirror a Keras warning agree with real Keras 3 (recorded; see tests/fixtures/keras)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from lstmcalc import analyze_text
from lstmcalc.lints import run_lints

from .conftest import ROOT

KERAS = ROOT / "tests" / "fixtures" / "keras"
MASK_WARNING = re.compile(r"Layer '([^']+)' \(of type \w+\) was passed an input with a mask attached")


from .test_keras_reference import REJECTED_ON_PURPOSE


def _cases():
    cases = []
    for name in ("mask_reference.json", "sequential_reference.json", "conv_mask_reference.json",
                 "conv_reference.json", "spatial_reference.json"):
        recorded = json.loads((KERAS / name).read_text(encoding="utf-8"))["cases"]
        cases += [(case_id, case) for case_id, case in sorted(recorded.items())
                  if case["ok"] and case.get("built", True) and case_id not in REJECTED_ON_PURPOSE]
    return cases


CASES = _cases()


@pytest.mark.parametrize("case_id, case", CASES, ids=[case_id for case_id, _ in CASES])
def test_mask_destroyed_matches_keras_warning(case_id, case):
    # L008 fires for exactly the layers Keras warns about when it builds the model.
    warned = {match.group(1) for warning in case["warnings"] for match in [MASK_WARNING.search(warning)] if match}
    report = analyze_text(yaml.safe_dump(case["spec"]), file=case_id)
    assert report.ok
    flagged = {finding.layer for finding in run_lints(report) if finding.code == "L008"}
    assert flagged == warned


def test_the_recording_covers_both_answers():
    warned = [case_id for case_id, case in CASES if any(MASK_WARNING.search(w) for w in case["warnings"])]
    assert len(warned) >= 12 and len(CASES) - len(warned) > 250
