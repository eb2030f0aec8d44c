"""Models Keras builds but cannot run are errors; models it runs are not (recorded by
scripts/record_keras_runs.py into tests/fixtures/keras/run_reference.json)."""

from __future__ import annotations

import json

import pytest
import yaml

from lstmcalc import analyze_text
from lstmcalc.verify import VerifyOptions, verify_report

from .conftest import ROOT

REFERENCE = json.loads((ROOT / "tests" / "fixtures" / "keras" / "run_reference.json").read_text())["cases"]
# The code lstmcalc gives each model Keras builds but cannot run.
CODES = {"activation-threshold": "S006"}
# Open: models Keras builds but cannot run that lstmcalc still accepts (layer rules to add).
OPEN = {"layer-normalization-repeated-axis-wide": "a repeated `axis` on a dimension larger than 1: gamma "
                                                  "(3, 3) builds, the call fails; LayerNormalization should reject it"}


@pytest.mark.parametrize("case_id", sorted(REFERENCE))
def test_one_verdict_for_what_keras_builds_and_runs(case_id):
    if case_id in OPEN:
        pytest.xfail(OPEN[case_id])
    case = REFERENCE[case_id]
    assert case["built"], case_id
    report = analyze_text(yaml.safe_dump(case["spec"], sort_keys=False), file="case.yaml")
    if case["ran"]:
        assert report.ok, report.diagnostics
        result = verify_report(report, VerifyOptions(batch_size=2, timesteps=3))
        assert result.ok, result.diagnostics
        assert [list(array.shape) for array in result.outputs.values()] == case["output_shapes"]
    else:
        assert [d.code for d in report.errors] == [CODES.get(case_id, "H012")], report.diagnostics


@pytest.mark.parametrize("case_id", sorted(OPEN))
def test_open_cases_are_still_open(case_id):
    report = analyze_text(yaml.safe_dump(REFERENCE[case_id]["spec"], sort_keys=False), file="case.yaml")
    assert report.ok, f"{case_id} is rejected now: move it from OPEN to CODES"
