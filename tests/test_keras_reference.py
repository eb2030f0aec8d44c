"""lstmcalc against numbers recorded from real Keras 3 (tests/fixtures/keras, made by
scripts/record_keras_reference.py). No TensorFlow is needed to run this."""

from __future__ import annotations

import pytest
import yaml

from lstmcalc import analyze_text
from lstmcalc.layers.registry import type_names

from .keras_cases import (MASK_REFERENCES, PENDING_TYPES, SEQUENTIAL_REFERENCES, assert_refused_as_unknown, pending_in,
                          recorded)

CASES = recorded(SEQUENTIAL_REFERENCES + MASK_REFERENCES)


# Models Keras builds but that fail when they run; lstmcalc rejects them, with these codes.
REJECTED_ON_PURPOSE = {
    "bi-backward-layer-different-units-sum": "H004",
    "activation-threshold": "S006",
    "upsampling2d-interpolation-unknown": "S006",  # Keras checks interpolation only in call()
    "zeropad2d-negative": "S006",  # TensorFlow: "Paddings must be non-negative"
    "zeropad2d-negative-to-nothing": "S006",
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
    pending = pending_in(case["spec"])
    if pending:
        assert_refused_as_unknown(report, pending)
        return
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
        assert layer.output_dtypes == expected["output_dtypes"], expected["name"]
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
                   if case.get("summary") and case_id not in REJECTED_ON_PURPOSE and not pending_in(case["spec"]))


def test_pending_types_are_still_unknown():
    # When a pending type lands, its cases are compared with Keras like every other: empty the list.
    assert not PENDING_TYPES & set(type_names()), sorted(PENDING_TYPES & set(type_names()))


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


# -- models Keras ran once (`run:` cases: model.predict on random inputs) -----------------------

RUNS = {case_id: case for case_id, case in CASES.items()
        if isinstance(case.get("run"), dict) and not pending_in(case["spec"])}

# Keras builds these and fails when they run, and lstmcalc does not see it yet: the reason, and the
# code lstmcalc's verifier gives instead (so that the case is checked, and noticed when fixed).
NOT_YET_CAUGHT = {
    # Masking on frames makes a per-pixel mask (batch, time, rows, cols); TimeDistributed passes it on,
    # and the LSTM cannot use it. lstmcalc tracks whether a tensor is masked, not its mask's shape.
    "mask-masking-td-maxpool-lstm": "V001",
}


def _run_sizes(case):
    """The batch and the size Keras's run gave the spec's unknown axes (the recorder uses one size)."""
    (recorded_shape,) = case["run"]["input_shapes"]
    spec_input = case["spec"]["input"]
    spec_shape = spec_input["shape"] if isinstance(spec_input, dict) else spec_input
    unknown = {size for size, dim in zip(recorded_shape[1:], spec_shape) if dim is None}
    assert len(unknown) <= 1
    return recorded_shape[0], (unknown.pop() if unknown else 7)


@pytest.mark.parametrize("case_id", sorted(RUNS))
def test_runs_as_keras_did(case_id):
    from lstmcalc.verify import VerifyOptions, verify_report

    case = RUNS[case_id]
    report = analyze_case(case)
    if case_id in REJECTED_ON_PURPOSE:
        assert not case["run"]["ok"] and not report.ok
        return
    assert report.ok, report.diagnostics
    batch, timesteps = _run_sizes(case)
    result = verify_report(report, VerifyOptions(batch_size=batch, timesteps=timesteps))
    if case["run"]["ok"]:
        assert result.ok, [d.message for d in result.diagnostics]
        assert [list(array.shape) for array in result.outputs.values()] == case["run"]["output_shapes"]
    else:
        assert not result.ok
        codes = [d.code for d in result.diagnostics]
        assert codes[:1] == [NOT_YET_CAUGHT.get(case_id, "V007")], (codes, case["run"]["error"]["core_message"])
