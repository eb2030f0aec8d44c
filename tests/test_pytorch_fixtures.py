"""The PyTorch fixtures (tests/fixtures/pytorch, recorded from real torch 2.13 by scripts/record_pytorch_*.py)
are complete and consistent with their case files, so a stale or half-regenerated fixture fails here
rather than in the tests that use them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pytorch"


def cases_of(name: str) -> list:
    return yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))


def recorded(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["cases"]


def npz(path: Path) -> dict:
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


@pytest.mark.parametrize("cases, reference", [("modules_cases.yaml", "modules_reference.json"),
                                              ("modules_invalid_cases.yaml", "modules_invalid_reference.json")])
def test_every_module_case_is_recorded(cases, reference):
    results = recorded(reference)
    recorded_ids = set(results) | {result.get("grid_of") for result in results.values()}
    assert {case["id"] for case in cases_of(cases)} <= recorded_ids
    assert {result.get("grid_of") or case_id for case_id, result in results.items()} <= {case["id"] for case in cases_of(cases)}


def test_module_parameter_counts_add_up():
    for case_id, result in {**recorded("modules_reference.json"), **recorded("modules_invalid_reference.json")}.items():
        for layer in result["layers"]:
            assert layer["params"] == sum(p["numel"] for p in layer["parameters"]), case_id
            assert all(p["numel"] == int(np.prod(p["shape"])) for p in layer["parameters"]), case_id
        if result["ok"]:
            assert result["params"] == sum(layer["params"] for layer in result["layers"]), case_id


def test_last_step_equals_final_hidden_state():
    """LastStep (the lstmcalc step the fixtures assume) is h_n's last layer, joined over directions."""
    flags = [layer["equals_final_hidden"] for result in recorded("modules_reference.json").values()
             for layer in result["layers"] if "equals_final_hidden" in layer]
    assert flags and all(flags)


def test_invalid_cases_record_a_refusal_a_warning_or_why_torch_accepts():
    for case_id, result in recorded("modules_invalid_reference.json").items():
        assert (not result["ok"]) or result["warnings"] or result.get("note"), case_id


@pytest.mark.parametrize("folder, cases", [("numerics", "numerics_cases.yaml"), ("porting", "porting_cases.yaml")])
def test_one_npz_per_case_with_its_spec(folder, cases):
    listed = {case["id"]: case for case in cases_of(cases)}
    files = {path.stem: path for path in (FIXTURES / folder).glob("*.npz")}
    assert set(files) == set(listed)
    for case_id, path in files.items():
        arrays = npz(path)
        assert json.loads(str(arrays["spec"])) == listed[case_id]["spec"], case_id
        names = {entry["name"] for entry in listed[case_id]["spec"]["layers"]}
        weights = [key[len("weights/"):] for key in arrays if key.startswith("weights/")]
        assert all(key.split(".")[0] in names for key in weights), case_id
        last = listed[case_id]["spec"]["layers"][-1]["name"]
        assert f"outputs/{last}" in arrays, case_id


def test_porting_outputs_equal_keras_within_tolerance():
    """Recomputed from the stored arrays: torch's outputs against the Keras npz the case names."""
    for path in sorted((FIXTURES / "porting").glob("*.npz")):
        arrays = npz(path)
        meta = json.loads(str(arrays["meta"]))
        keras = npz(FIXTURES.parent / "keras" / "numerics" / f"{meta['keras_case']}.npz")
        torch_outputs = {key.split("/", 1)[1]: value for key, value in arrays.items()
                         if key.startswith(("outputs/", "intermediate/"))}
        assert meta["compared"], path.stem
        for pair in meta["compared"]:
            name, _, row = pair["torch"].partition("@")
            ours = torch_outputs[name][int(row)] if row else torch_outputs[name]
            theirs = keras[f"outputs/{pair['keras']}"]
            np.testing.assert_array_equal(arrays[f"keras_outputs/{pair['keras']}"], theirs)
            assert ours.shape == theirs.shape, (path.stem, pair)
            assert np.max(np.abs(ours - theirs)) <= 1e-5, (path.stem, pair)


def test_mac_formulas_reproduce_every_tool():
    results = recorded("macs_reference.json")
    assert results
    for case_id, result in results.items():
        assert all(formula["matches"] is not False for formula in result["formulas"].values()), case_id
        assert result["formulas"]["torchinfo"]["matches"] is True, case_id


def test_source_cases_are_recorded():
    results = recorded("source_reference.json")
    for case in cases_of("source_cases.yaml"):
        assert (FIXTURES / "source" / case["file"]).is_file()
        result = results[case["id"]]
        assert result["params"] == sum(p["numel"] for p in result["named_parameters"]), case["id"]
        assert result["modules"][0]["path"] == "" and result["modules"][0]["params_total"] == result["params"]


@pytest.mark.parametrize("cases, reference, options", [
    ("random_cases.yaml", "random_reference.json", ["--seed", "21"]),
    ("random_wide_seed71_cases.yaml", "random_wide_seed71_reference.json", ["--seed", "71", "--wide"]),
    ("random_wide_seed72_cases.yaml", "random_wide_seed72_reference.json", ["--seed", "72", "--wide"]),
    ("random_odd_seed101_cases.yaml", "random_odd_seed101_reference.json", ["--seed", "101", "--odd"]),
    ("random_odd_seed102_cases.yaml", "random_odd_seed102_reference.json", ["--seed", "102", "--odd"]),
])
def test_random_cases_are_what_the_generator_draws_and_are_recorded(cases, reference, options):
    """scripts/random_pytorch_cases.py still draws every recorded seed's cases (a change to the
    draws must leave old seeds alone), and each case is recorded with its spec."""
    import subprocess
    import sys

    script = FIXTURES.parents[2] / "scripts" / "random_pytorch_cases.py"
    drawn = subprocess.run([sys.executable, str(script), "--count", "300", *options], check=True,
                           capture_output=True, text=True).stdout
    assert drawn == (FIXTURES / cases).read_text(encoding="utf-8")
    results = recorded(reference)
    assert {case["id"]: case["spec"] for case in cases_of(cases)} == \
        {case_id: result["spec"] for case_id, result in results.items()}
