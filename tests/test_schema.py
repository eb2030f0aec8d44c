"""The spec's JSON Schema: generated from the registry, committed, and true to the reader."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from lstmcalc import analyze_text
from lstmcalc.cli import cli
from lstmcalc.schema import SCHEMA_FILE, schema_text, spec_schema

from .conftest import ROOT, SPECS

jsonschema = pytest.importorskip("jsonschema")


@pytest.fixture(scope="module")
def validator():
    schema = spec_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_committed_schema_equals_the_generated_one():
    committed = (ROOT / SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == schema_text(), f"run `lstmcalc schema > {SCHEMA_FILE}`"


def test_schema_command_prints_it():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0 and json.loads(result.output) == spec_schema()


@pytest.mark.parametrize("spec", sorted(path.name for path in SPECS.glob("*.yaml")))
def test_bundled_specs_validate(validator, spec):
    document = yaml.safe_load((SPECS / spec).read_text(encoding="utf-8"))
    errors = [error.message for error in validator.iter_errors(document)]
    assert not errors


KERAS_CASES = [case for name in ("sequential_cases.yaml", "conv_cases.yaml", "spatial_cases.yaml")
               for case in yaml.safe_load((ROOT / "tests" / "fixtures" / "keras" / name).read_text())]


def test_schema_never_rejects_a_spec_lstmcalc_accepts(validator):
    # 450+ recorded cases: whatever the schema flags, lstmcalc (and Keras) reject too, so editors
    # never complain about a valid spec.
    flagged = 0
    for case in KERAS_CASES:
        if validator.is_valid(case["spec"]):
            continue
        flagged += 1
        report = analyze_text(yaml.safe_dump(case["spec"]), file=case["id"])
        assert not report.ok, f"the schema rejects {case['id']}, which lstmcalc accepts"
    assert flagged > 30  # the schema does catch the argument mistakes


@pytest.mark.parametrize("snippet, valid", [
    ("input: [10, 5]\nlayers: [LSTM(8)]\n", True),
    ("input: [10, 5]\nlayers: [{type: LSTM, units: 8, return_sequences: true}]\n", True),
    ("input: [10, 5]\nlayers: [{type: LSTM, units: 8, return_sequence: true}]\n", False),
    ("input: [10, 5]\nlayers: [{type: LSTM, units: 0}]\n", False),
    ("input: [10, 5]\nlayers: [{type: LTSM, units: 8}]\n", False),
    ("input: [10, 5]\nlayers: [{type: Bidirectional, layer: {type: GRU, units: 4}}]\n", True),
    ("input: [10, 5]\nlayers: [LSTM(8)]\nexpect: {params: 480, output_shape: [null, 8]}\n", True),
    ("input: [10, 5]\nlayers: [LSTM(8)]\nexpect: {parameters: 480}\n", False),
    ("inputs: {x: {shape: [10, 5]}}\nlayers: [{type: LSTM, units: 8, inputs: x}]\noutputs: [lstm]\n", True),
    ("inputs: {a: [9, 4], b: [9, 4]}\nlayers: [{type: LSTM, units: 6, name: e, inputs: a}, {call: e, inputs: b},\n"
     "  {type: Add, inputs: [e, 'e[1][0]']}]\n", True),
    ("inputs: {a: [9, 4]}\nlayers: [{call: e, inputs: a, units: 3}]\n", False),
    ("inputs: {x: [24, 3]}\nlayers: [{type: Sequential, name: enc, inputs: x, model: {input: [24, 3], "
     "layers: [LSTM(10)]}}]\n", True),
    ("inputs: {x: [24, 3]}\nlayers: [{type: Sequential, inputs: x, model: {input: [24, 3], lyers: []}}]\n", False),
    # framework: pytorch picks torch.nn's types and keywords
    ("framework: pytorch\nbatch_size: 8\ninput: [35, 20]\nlayers: [{type: LSTM, hidden_size: 64, num_layers: 2}, "
     "{type: LastStep}, {type: Linear, out_features: 5}]\n", True),
    ("framework: pytorch\nbatch_size: 8\ninput: [35, 20]\nlayers: [{type: LSTM, units: 64}]\n", False),
    ("framework: pytorch\nbatch_size: 8\ninput: [35, 20]\nlayers: [{type: Dense, units: 4}]\n", False),
    ("input: [35, 20]\nlayers: [{type: LSTM, hidden_size: 64}]\n", False),
    ("framework: pytorch\nbatch_size: 0\ninput: [35, 20]\nlayers: [\"LSTM(hidden_size=4)\"]\n", True),
    ("batch_size: 0\ninput: [35, 20]\nlayers: [LSTM(4)]\n", False),
    ("framework: jax\ninput: [35, 20]\nlayers: [LSTM(4)]\n", False),
])
def test_schema_cases(validator, snippet, valid):
    assert validator.is_valid(yaml.safe_load(snippet)) is valid


PYTORCH_CASES = [case for name in ("modules_reference.json", "modules_invalid_reference.json")
                 for case in json.loads((ROOT / "tests" / "fixtures" / "pytorch" / name).read_text())["cases"].values()]


def test_schema_never_rejects_a_pytorch_spec_lstmcalc_accepts(validator):
    flagged = 0
    for case in PYTORCH_CASES:
        if validator.is_valid(case["spec"]):
            continue
        if case["spec"]["layers"][0].get("hidden_size") is True:
            continue  # torch takes True as hidden_size 1 (bool is an int); the schema asks for a number on purpose
        flagged += 1
        assert not analyze_text(yaml.safe_dump(case["spec"])).ok, case["spec"]
    assert flagged > 10
