"""lstmcalc against numbers recorded from real Keras 3 (tests/fixtures/keras, made by
scripts/record_keras_reference.py). No TensorFlow is needed to run this."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lstmcalc import analyze_text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "keras"
REFERENCE = json.loads((FIXTURES / "sequential_reference.json").read_text())
CASES = REFERENCE["cases"]


# Models Keras builds but that fail when they run; lstmcalc rejects them, with these codes.
REJECTED_ON_PURPOSE = {
    "bi-backward-layer-different-units-sum": "H004",
    "activation-threshold": "S006",
    # Keras builds an LSTM over 0 time steps but cannot run it (run_reference.json: lstm-zero-steps).
    "input-zero-length": "H012",
}


def analyze_case(case):
    return analyze_text(yaml.safe_dump(case["spec"], sort_keys=False), file="case.yaml")


def _shapes(shapes):
    return [tuple(shape) for shape in shapes]


def _keras_view(weights):
    """lstmcalc names a Bidirectional's weights forward/kernel ... backward/kernel; Keras lists the
    forward copy's weights, then the backward copy's, under their paths. Compare without the prefix,
    and check that the directions come in Keras's order."""
    names = [weight.name.split("/")[-1] for weight in weights]
    directions = [weight.name.split("/")[0] for weight in weights if "/" in weight.name]
    assert directions == sorted(directions, key=["forward", "backward"].index)
    assert directions.count("forward") == directions.count("backward")
    return names


def _trains(weight) -> bool:
    # What trains is the variable's flag; Keras's per-layer count differs for wrappers built with
    # trainable=False (a Keras 3 quirk lstmcalc reports as P001), its model totals do not.
    return weight.get("variable_trainable", weight["trainable"])


def _size(shape) -> int:
    total = 1
    for dim in shape:
        total *= dim
    return total


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_matches_keras(case_id):
    case = CASES[case_id]
    report = analyze_case(case)
    if not case.get("built", True):
        # Keras leaves a Sequential without an input unbuilt (no shapes); lstmcalc asks for one.
        assert [d.code for d in report.errors][:1] in (["S002"], ["S010"]), report.diagnostics
        return
    if case_id in REJECTED_ON_PURPOSE:
        assert case["ok"] and [d.code for d in report.errors] == [REJECTED_ON_PURPOSE[case_id]]
        return
    assert report.ok == case["ok"], (case.get("error"), report.diagnostics)
    ours = {layer.name: layer for layer in report.layers}
    for expected in case["layers"]:
        layer = ours.get(expected["name"])
        assert layer is not None, f"no layer {expected['name']} in {list(ours)}"
        assert layer.type == expected["class_name"]
        assert layer.output_shapes == _shapes(expected["output_shapes"]), expected["name"]
        trainable = sum(_size(w["shape"]) for w in expected["weights"] if _trains(w))
        assert (layer.params, layer.trainable_params) == (expected["params"], trainable), expected["name"]
        assert list(zip(_keras_view(layer.weights), [w.shape for w in layer.weights],
                        [w.trainable for w in layer.weights])) == [
            (w["name"], tuple(w["shape"]), _trains(w)) for w in expected["weights"]]
    if case["ok"]:
        assert [layer.name for layer in report.layers] == [layer["name"] for layer in case["layers"]]
        assert [item.shape for item in report.inputs] == [tuple(i["shape"]) for i in case["inputs"]]
        assert report.totals.params == case["totals"]["params"]
        assert report.totals.trainable_params == case["totals"]["trainable_params"]
    else:
        named = case["error"].get("layer_name")
        if named:
            assert report.errors[0].layer == named, report.errors[0]


SUMMARIES = sorted(case_id for case_id, case in CASES.items()
                   if case.get("summary") and case_id not in REJECTED_ON_PURPOSE)


@pytest.mark.parametrize("case_id", SUMMARIES)
def test_summary_table_equals_keras(case_id):
    """The plain-text table is Keras's own `model.summary()`, character for character."""
    from lstmcalc.render import RenderOptions, get_renderer

    report = analyze_case(CASES[case_id])
    ours = get_renderer("table")(report, RenderOptions(width=88)).rstrip("\n").splitlines()
    keras_lines = CASES[case_id]["summary"].rstrip("\n").splitlines()
    assert ours[:len(keras_lines)] == keras_lines
    # lstmcalc may add its warnings below Keras's table, nothing else
    assert all(line.startswith(("warning[", "info[", "  hint:")) for line in ours[len(keras_lines):])
