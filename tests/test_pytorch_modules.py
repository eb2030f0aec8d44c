"""`framework: pytorch` specs against real torch 2.13 (tests/fixtures/pytorch, recorded by
scripts/record_pytorch_modules.py): every module of the grid with the shapes of every returned
tensor, named_parameters (names, shapes, requires_grad) and counts; every refusal with torch's
message, raised where torch raises it (construction: a spec finding S…; the first forward: a shape
or state finding H…/T…); torch's warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lstmcalc import analyze_text
from lstmcalc.diagnostics import Problem
from lstmcalc.layers.base import TensorSpec

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pytorch"
MODULES = json.loads((FIXTURES / "modules_reference.json").read_text(encoding="utf-8"))["cases"]
INVALID = json.loads((FIXTURES / "modules_invalid_reference.json").read_text(encoding="utf-8"))["cases"]

# Warnings torch prints that lstmcalc does not report, and why.
UNREPORTED_WARNINGS = {
    # CPU-build specific (oneDNN) and only about which kernel runs.
    "LSTM with projections is not supported with oneDNN. Using default implementation.",
    # A note on speed (a padded copy of the input), not on the model.
    "Using padding='same' with even kernel lengths and odd dilation may require a zero-padded copy of the "
    "input be created",
}

# Sizes torch needs at construction and lstmcalc infers from the input when the spec leaves them
# out (the recorder infers them too): a torch construction error about them is found when the
# input is known, as a shape finding.
INFERRED = {"LSTM": "input_size", "GRU": "input_size", "RNN": "input_size", "Linear": "in_features",
            "Conv1d": "in_channels", "Conv2d": "in_channels"}

# Ways of passing initial states that a spec cannot express: lstmcalc's `initial_state:` is always a
# list of tensors, which torch takes as the tuple (h_0, c_0) or the tensor h_0.
NOT_EXPRESSIBLE = {"gru-given-tuple", "lstm-given-stacked-h0-c0"}


def core_message(message: str) -> str:
    """torch's message without the C++ backtrace some errors carry ("\nException raised from
    <function> at <build path>…"), which depends on the build."""
    return message.split("\nException raised from ")[0]


def spec_text(case: dict) -> str:
    return yaml.safe_dump(case["spec"], sort_keys=False)


def torch_dtype(name: str) -> str:
    return name.replace("torch.", "")


def as_report(case: dict):
    return analyze_text(spec_text(case), file="spec.yaml")


def direct_outputs(case: dict):
    """The spec's one module applied to the tensor torch was fed (without a batch axis for an
    unbatched case, or the exact `feed_shape`), by the layer's own rules."""
    report = as_report(case)
    node = next(node for node in report.graph.nodes.values() if not node.is_input)
    recorded = case["input"]
    tensor = TensorSpec(tuple(recorded["shape"]), torch_dtype(recorded["dtype"]),
                        batch_axis=None if case.get("unbatched") else 0)
    layer = node.layer
    return layer, [tensor], layer.outputs([tensor]), layer.weight_shapes([tensor])


def compare_layer(recorded: dict, shapes, weights, dtypes) -> None:
    assert [list(shape) for shape in shapes] == recorded["output_shapes"], recorded["name"]
    assert [torch_dtype(dtype) for dtype in recorded["output_dtypes"]] == list(dtypes), recorded["name"]
    parameters = [weight for weight in weights if not weight.buffer]
    assert [(weight.name, list(weight.shape), weight.trainable) for weight in parameters] == \
        [(p["name"], p["shape"], p["requires_grad"]) for p in recorded["parameters"]], recorded["name"]
    assert [weight.name for weight in weights if weight.buffer] == recorded["buffers"], recorded["name"]
    assert sum(weight.size for weight in parameters) == recorded["params"]


@pytest.mark.parametrize("case_id", sorted(MODULES))
def test_module_grid(case_id):
    case = MODULES[case_id]
    if case.get("unbatched") or case.get("feed_shape"):
        layer, _, outputs, weights = direct_outputs(case)
        compare_layer(case["layers"][0], [tensor.shape for tensor in outputs], weights,
                      [tensor.dtype for tensor in outputs])
        return
    report = as_report(case)
    errors = [d for d in report.diagnostics if d.is_error]
    assert not errors, errors
    assert [layer.name for layer in report.layers] == [layer["name"] for layer in case["layers"]]
    for record, recorded in zip(report.layers, case["layers"]):
        assert record.type == recorded["type"]
        compare_layer(recorded, record.output_shapes, record.weights, record.output_dtypes)
    assert report.totals.params == case["params"]
    assert report.totals.trainable_params == case["trainable_params"]
    assert [f"{layer.name}.{weight.name}" for layer in report.layers for weight in layer.weights] == \
        case["state_dict_keys"]
    assert list(report.inputs[0].shape) == case["input"]["shape"]
    if case.get("initial_state"):
        layer = report.graph.nodes[report.layers[0].name].layer
        states = [TensorSpec(tuple(shape)) for shape in case["layers"][0]["initial_state_shapes"]]
        layer.check_initial_state([TensorSpec(tuple(case["input"]["shape"]))], states)


@pytest.mark.parametrize("case_id", sorted(MODULES))
def test_module_warnings(case_id):
    case = MODULES[case_id]
    expected = {w["core_message"] for w in case["warnings"]} - UNREPORTED_WARNINGS
    if case.get("unbatched") or case.get("feed_shape"):
        layer, inputs, _, _ = direct_outputs(case)
        found = [problem.message for problem in layer.construction_warnings()]
    else:
        found = [d.message for d in as_report(case).diagnostics if d.severity == "warning"]
    for message in expected:
        assert any(message in text for text in found), (message, found)


def test_chain_layouts_report_the_batch_where_torch_has_it():
    """The batch axis goes second when the recurrent modules are time major, for every layer."""
    case = MODULES["chain-text-classifier-time-major"]
    report = as_report(case)
    assert report.inputs[0].shape == (35, 8)
    assert [record.output_batch_axes for record in report.layers] == [[1], [1, 1, 1], [0], [0]]


# -- refusals ------------------------------------------------------------------------------------

def _first_forward_findings(case: dict):
    """What lstmcalc says about a case whose input torch got without its batch axis, in another
    layout than the spec's, or with given initial states / out-of-range ids."""
    report = as_report(case)
    layer = report.graph.nodes[report.layers[0].name].layer
    recorded = case["input"]
    tensor = TensorSpec(tuple(recorded["shape"]), torch_dtype(recorded["dtype"]),
                        batch_axis=None if case.get("unbatched") else 0)
    messages = []
    try:
        layer.outputs([tensor])
        layer.weight_shapes([tensor])
        if case.get("initial_state"):
            request = case["initial_state"]
            shapes = request.get("shapes") or [request["shape"]]
            layer.check_initial_state([tensor], [TensorSpec(tuple(shape)) for shape in shapes])
    except Problem as problem:
        messages.append((problem.code, problem.message))
    return messages


@pytest.mark.parametrize("case_id", sorted(INVALID))
def test_refusals_and_warnings(case_id):
    case = INVALID[case_id]
    error = case["error"]
    if case_id in NOT_EXPRESSIBLE:
        pytest.skip("a spec's initial_state is a list; torch's tuple-or-tensor distinction does not exist there")
    if case.get("unbatched") or case.get("feed_shape") or case.get("initial_state"):
        findings = _first_forward_findings(case)
        if error is None:
            assert not findings
        elif case_id == "lstm-given-bare-h0":
            assert findings and findings[0][0] == "T003"  # one tensor where (h_0, c_0) belongs
        else:
            assert findings and error["message"] in findings[0][1], findings
            assert findings[0][0][0] in "HT"  # torch raises it on the first forward
        return
    if case.get("input_range"):
        pytest.skip("data-dependent: the verifier checks the ids (test_pytorch_numerics)")
    report = as_report(case)
    found = [(d.code, d.severity, d.message) for d in report.diagnostics]
    if error is not None:
        matching = [code for code, severity, message in found if severity == "error" and error["message"] in message]
        assert matching, (error, found)
        inferred = any(INFERRED.get(entry["type"]) not in entry for entry in case["spec"]["layers"]
                       if entry["type"] in INFERRED)
        groups = {"construct": "S" + ("H" if inferred else ""), "forward": "HT"}[error["stage"]]
        assert matching[0][0] in groups, (error["stage"], matching)
    else:
        assert not [item for item in found if item[1] == "error"], found
    for warning in case["warnings"]:
        if warning["core_message"] in UNREPORTED_WARNINGS:
            continue
        assert any(warning["core_message"] in message for _, severity, message in found
                   if severity == "warning"), (warning, found)


def test_every_finding_is_located():
    """Every refusal points at the file, line and column of the layer or of the argument."""
    for case_id, case in INVALID.items():
        if case.get("unbatched") or case.get("feed_shape") or case.get("initial_state") or case.get("input_range"):
            continue
        for diagnostic in as_report(case).diagnostics:
            assert diagnostic.file == "spec.yaml" and diagnostic.line and diagnostic.column, (case_id, diagnostic)
            assert diagnostic.hint, (case_id, diagnostic)


@pytest.mark.parametrize("text, code, fragment", [
    # A Keras name in a PyTorch spec, a torch name in a Keras one: the hint names the other framework.
    ("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n  - {type: Dense, units: 4}\n", "S003",
     "write `Linear`"),
    ("input: [5, 3]\nlayers:\n  - {type: Linear, out_features: 4}\n", "S003", "write `Dense`"),
    ("input: [5, 3]\nlayers:\n  - {type: LSTM, hidden_size: 4}\n", "S004", "Keras's LSTM calls it `units`"),
    ("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n  - {type: LSTM, units: 4}\n", "S004",
     "torch.nn.LSTM calls it `hidden_size`"),
    ("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n  - {type: LSTM, hidden_size: 4, return_sequences: true}\n",
     "S004", "LastStep"),
    ("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n  - {type: Masking}\n", "S003", "no PyTorch module"),
    ("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n  - {type: Dropout, rate: 0.2}\n", "S004",
     "calls it `p`"),
    ("framework: pytorch\ninput: [5, 3]\nlayers:\n  - {type: LSTM, hidden_size: 4}\n", "S002", "batch_size"),
    ("framework: torch\ninput: [5, 3]\nlayers:\n  - {type: LSTM, units: 4}\n", "S006", "framework: pytorch"),
])
def test_framework_hints(text, code, fragment):
    report = analyze_text(text, file="spec.yaml")
    findings = [d for d in report.diagnostics if d.code == code]
    assert findings and any(fragment in d.hint or fragment in d.message for d in findings), report.diagnostics


def test_unnamed_modules_are_named_by_position_as_in_sequential():
    report = analyze_text("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n"
                          "  - {type: LSTM, hidden_size: 4, batch_first: true}\n  - {type: LastStep}\n"
                          "  - {type: Linear, out_features: 1, name: head}\n")
    assert [layer.name for layer in report.layers] == ["0", "1", "head"]
    assert report.name == "Sequential"


def test_a_reference_without_index_picks_the_rnn_output_and_h_n_is_name_1():
    text = """framework: pytorch
batch_size: 2
inputs: {x: [5, 3]}
layers:
  - {type: LSTM, name: encoder, hidden_size: 4, batch_first: true, inputs: x}
  - {type: Linear, name: head, out_features: 1, inputs: encoder}
  - {type: Linear, name: state, out_features: 2, inputs: "encoder[1]"}
outputs: [head, state]
"""
    report = analyze_text(text)
    assert report.ok, report.diagnostics
    assert report.layer("head").output_shapes == [(2, 5, 1)]
    assert report.layer("state").output_shapes == [(1, 2, 2)]


def test_summary_of_a_pytorch_spec_imports_neither_numpy_nor_keras_families():
    from .conftest import ROOT, heavy_modules_imported

    spec = str(ROOT / "specs" / "pytorch_text_classifier.yaml")
    assert heavy_modules_imported(["summary", spec], ("numpy",)) == "clean"
    # Only the families the spec uses are imported.
    assert heavy_modules_imported(["summary", spec], ("lstmcalc.layers.conv", "lstmcalc.layers.merge",
                                                      "lstmcalc.layers.attention")) == "clean"


def test_cli_framework_choices_are_the_frameworks():
    from lstmcalc.cli import explain, port, summary
    from lstmcalc.layers.frameworks import FRAMEWORKS

    for command, option in ((summary, "framework"), (explain, "framework"), (port, "target")):
        assert sorted(next(p for p in command.params if p.name == option).type.choices) == sorted(FRAMEWORKS)


@pytest.mark.parametrize("case_id", sorted(case_id for case_id, case in MODULES.items()
                                           if not case.get("unbatched") and not case.get("feed_shape")))
def test_forward_pass_computes_the_recorded_shapes(case_id):
    """The NumPy forward pass of every module of the grid gives the shapes torch gave (random
    weights; the values are tested in test_pytorch_numerics)."""
    from lstmcalc.verify import VerifyOptions, verify_report

    case = MODULES[case_id]
    result = verify_report(as_report(case), VerifyOptions(keep_arrays=True))
    assert result.ok, result.diagnostics
    for recorded in case["layers"]:
        assert [list(array.shape) for array in result.arrays[recorded["name"]]] == recorded["output_shapes"]


# -- random chains (scripts/random_pytorch_cases.py), recorded in real torch ----------------------

# random_reference.json: seed 21; random_wide_seed<N>_reference.json: `--wide --seed N`;
# random_wide_found_reference.json: the chains of other `--wide` seeds lstmcalc disagreed on;
# random_odd_seed<N>_reference.json: `--odd --seed N`; random_odd_found_reference.json: the chains of
# other `--odd` seeds lstmcalc disagreed on.
RANDOM_FILES = ["random_reference.json", "random_wide_seed71_reference.json", "random_wide_seed72_reference.json",
                "random_wide_found_reference.json", "random_odd_seed101_reference.json",
                "random_odd_seed102_reference.json", "random_odd_found_reference.json"]
RANDOM = {case_id: case for name in RANDOM_FILES
          for case_id, case in json.loads((FIXTURES / name).read_text(encoding="utf-8"))["cases"].items()}


@pytest.mark.parametrize("case_id", sorted(RANDOM))
def test_random_chains_match_torch(case_id):
    case = RANDOM[case_id]
    report = as_report(case)
    errors = [d for d in report.diagnostics if d.is_error]
    error = case["error"]
    # torch's warnings, those given before a refusal included (RNNBase warns about dropout, then raises).
    expected = {w["core_message"] for w in case["warnings"]} - UNREPORTED_WARNINGS
    found = [d.message for d in report.diagnostics if d.severity == "warning"]
    assert all(any(message in text for text in found) for message in expected), (expected, found)
    if error is not None:
        # torch refused the chain at a module: lstmcalc refuses it at the same one, quoting torch.
        assert errors, error
        assert errors[0].layer == error["layer_name"] or str(errors[0].layer).endswith(f".{error['layer_name']}"), \
            (error, errors[0])
        assert core_message(error["message"]) in errors[0].message, (error, errors[0])
        # Raised where torch raises it: construction (S; H when the size torch was given is inferred
        # from the input) or the first forward call (H, T).
        inferred = any(INFERRED.get(entry["type"]) not in entry for entry in case["spec"]["layers"]
                       if entry["type"] in INFERRED)
        assert errors[0].code[0] in {"construct": "S" + ("H" if inferred else ""), "forward": "HT"}[error["stage"]], \
            (error, errors[0])
        return
    assert not errors, errors
    assert [layer.name for layer in report.layers] == [layer["name"] for layer in case["layers"]]
    # LastStep is lstmcalc's own step (out[:, -1] or out[-1]). After a module that read the axes
    # in another layout than the spec's (H009, H010; a Conv1d fed a time-major tensor), or on a
    # tensor whose batch axis is no longer where the spec's input has it (moved by a Transpose,
    # reduced away by Amax or Mean over it), there is no "last step" torch defines: the recorder
    # takes the spec's time axis, lstmcalc the time axis of the tensor as the module before left it.
    # Shapes are compared up to that step; counts always.
    layers = [entry["type"] for entry in case["spec"]["layers"]]
    time_major = next((not entry.get("batch_first", False) for entry in case["spec"]["layers"]
                       if entry["type"] in ("LSTM", "GRU", "RNN")), False)
    moved = any(kind == "LastStep" and index and report.layers[index - 1].output_batch_axes[0] != report.batch_axis
                for index, kind in enumerate(layers))
    ambiguous = any(d.code in ("H009", "H010") for d in report.diagnostics) or (time_major and "Conv1d" in layers) \
        or moved
    compared = layers.index("LastStep") if ambiguous and "LastStep" in layers else len(layers)
    for index, (record, recorded) in enumerate(zip(report.layers, case["layers"])):
        assert record.type == recorded["type"]
        assert record.params == recorded["params"], recorded["name"]
        if index < compared:
            compare_layer(recorded, record.output_shapes, record.weights, record.output_dtypes)
    assert (report.totals.params, report.totals.trainable_params) == (case["params"], case["trainable_params"])
    assert [f"{layer.name}.{weight.name}" for layer in report.layers for weight in layer.weights] == \
        case["state_dict_keys"]
