"""Lints that mirror a Keras warning agree with real Keras 3 (recorded; see tests/fixtures/keras)."""

from __future__ import annotations

import re

import pytest
import yaml

from lstmcalc import analyze_text
from lstmcalc.lints import run_lints

from .keras_cases import MASK_REFERENCES, SEQUENTIAL_REFERENCES, assert_refused_as_unknown, pending_in, recorded

MASK_WARNING = re.compile(r"Layer '([^']+)' \(of type \w+\) was passed an input with a mask attached")


from .test_keras_reference import REJECTED_ON_PURPOSE


def _cases():
    return [(case_id, case) for case_id, case in sorted(recorded(MASK_REFERENCES + SEQUENTIAL_REFERENCES).items())
            if case["ok"] and case["built"] and case_id not in REJECTED_ON_PURPOSE]


CASES = _cases()


@pytest.mark.parametrize("case_id, case", CASES, ids=[case_id for case_id, _ in CASES])
def test_mask_destroyed_matches_keras_warning(case_id, case):
    # L008 fires for exactly the layers Keras warns about when it builds the model.
    warned = {match.group(1) for warning in case["warnings"] for match in [MASK_WARNING.search(warning)] if match}
    report = analyze_text(yaml.safe_dump(case["spec"]), file=case_id)
    pending = pending_in(case["spec"])
    if pending:
        assert_refused_as_unknown(report, pending)
        return
    assert report.ok
    flagged = {finding.layer for finding in run_lints(report) if finding.code == "L008"}
    assert flagged == warned


def test_the_recording_covers_both_answers():
    warned = [case_id for case_id, case in CASES if any(MASK_WARNING.search(w) for w in case["warnings"])]
    assert len(warned) >= 12 and len(CASES) - len(warned) > 250
