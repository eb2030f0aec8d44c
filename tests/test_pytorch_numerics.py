"""PyTorch's forward pass in NumPy against real torch 2.13 (tests/fixtures/pytorch/numerics, recorded
by scripts/record_pytorch_numerics.py): the state_dict keyed `<layer>.<parameter>`, the input and
initial states torch got, every output of every layer within 1e-5 — and the same through the CLI
(`lstmcalc verify --weights state_dict.npz --input x.npy --output y.npz`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from lstmcalc import analyze_text
from lstmcalc.cli import cli
from lstmcalc.layers.base import TensorSpec
from lstmcalc.verify import VerifyOptions, verify_report

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pytorch"
CASES = sorted(path.stem for path in (FIXTURES / "numerics").glob("*.npz"))
INVALID = json.loads((FIXTURES / "modules_invalid_reference.json").read_text(encoding="utf-8"))["cases"]
TOLERANCE = 1e-5


def load(case_id: str) -> dict:
    with np.load(FIXTURES / "numerics" / f"{case_id}.npz") as data:
        arrays = {key: data[key] for key in data.files}
    arrays["spec"] = json.loads(str(arrays["spec"]))
    arrays["meta"] = json.loads(str(arrays["meta"]))
    return arrays


def group(arrays: dict, prefix: str) -> dict:
    return {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}


def states_of(arrays: dict) -> list:
    return [arrays[f"initial_state/{index}"] for index in range(2) if f"initial_state/{index}" in arrays]


def assert_close(ours, theirs, what):
    assert ours.shape == theirs.shape, what
    assert np.max(np.abs(ours.astype("float64") - theirs), initial=0.0) <= TOLERANCE, what


@pytest.mark.parametrize("case_id", CASES)
def test_forward_pass_equals_torch(case_id):
    arrays = load(case_id)
    spec, meta = arrays["spec"], arrays["meta"]
    report = analyze_text(yaml.safe_dump(spec))
    assert report.ok, report.diagnostics
    weights = group(arrays, "weights/")
    recorded = {**group(arrays, "outputs/"), **group(arrays, "intermediate/")}
    if meta.get("unbatched"):
        # torch got the input without a batch axis: the module alone, on the 2-D array.
        (layer_name,) = {entry["name"] for entry in spec["layers"]}
        layer = report.graph.nodes[layer_name].layer
        own = {key.split(".", 1)[1]: value for key, value in weights.items()}
        outputs, _ = layer.forward(own, [arrays["inputs/input"]], [None], states_of(arrays) or None)
        keys = [layer_name] + [f"{layer_name}[{index}]" for index in range(1, len(outputs))]
        for key, output in zip(keys, outputs):
            assert_close(output, recorded[key], key)
        return
    states = {meta["initial_state"]: states_of(arrays)} if meta.get("initial_state") else None
    result = verify_report(report, VerifyOptions(weights=weights, inputs={report.inputs[0].name: arrays["inputs/input"]},
                                                 initial_states=states, keep_arrays=True))
    assert result.ok, result.diagnostics
    for key, value in group(arrays, "outputs/").items():
        assert_close(result.outputs[key], value, key)
    for key, value in recorded.items():
        name, _, index = key.partition("[")
        assert_close(result.arrays[name][int(index.rstrip("]") or 0)], value, key)


def test_the_relu_stack_is_not_all_zeros():
    """stacked-lstm-gru-rnn ends in a relu RNN whose outputs torch recorded as zeros; the layers
    before it are compared with nonzero values."""
    arrays = load("stacked-lstm-gru-rnn")
    assert np.abs(arrays["intermediate/gru_2"]).max() > 0.1


def test_cli_verify_takes_a_state_dict_and_writes_torch_keys(tmp_path):
    arrays = load("lstm-bidirectional-two-layers")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(arrays["spec"]), encoding="utf-8")
    np.savez(tmp_path / "w.npz", **group(arrays, "weights/"))
    np.save(tmp_path / "x.npy", arrays["inputs/input"])
    result = CliRunner().invoke(cli, ["verify", str(spec), "--weights", str(tmp_path / "w.npz"), "--input",
                                      str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npz")])
    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "y.npz") as written:
        assert sorted(written.files) == ["lstm", "lstm[1]", "lstm[2]"]
        for key in written.files:
            assert_close(written[key], arrays[f"outputs/{key}"], key)


def test_cli_verify_names_a_missing_parameter_by_its_state_dict_key(tmp_path):
    arrays = load("lstm-batch-first")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(arrays["spec"]), encoding="utf-8")
    weights = group(arrays, "weights/")
    del weights["lstm.bias_hh_l0"]
    np.savez(tmp_path / "w.npz", **weights)
    result = CliRunner().invoke(cli, ["verify", str(spec), "--weights", str(tmp_path / "w.npz")])
    assert result.exit_code == 1
    assert "lstm.bias_hh_l0" in result.output and "state_dict" in result.output


@pytest.mark.parametrize("case_id", ["embedding-index-out-of-range", "embedding-negative-index"])
def test_ids_outside_the_table_are_refused_with_torchs_message(case_id):
    case = INVALID[case_id]
    report = analyze_text(yaml.safe_dump(case["spec"]))
    low, high = case["input_range"]
    ids = np.resize(np.arange(low, high, dtype="int64"), (4, 7))
    result = verify_report(report, VerifyOptions(inputs={report.inputs[0].name: ids}))
    assert not result.ok
    assert any(d.code == "V004" and case["error"]["message"] in d.message for d in result.diagnostics)


@pytest.mark.parametrize("case_id", ["h0-wrong-batch", "c0-wrong-hidden", "h0-batch-first-layout",
                                     "h0-missing-directions", "h0-proj-given-hidden", "c0-proj-given-proj",
                                     "gru-h0-wrong", "rnn-h0-wrong", "h0-2d-for-batched-input"])
def test_wrong_initial_states_are_refused_with_torchs_message(case_id):
    case = INVALID[case_id]
    report = analyze_text(yaml.safe_dump(case["spec"]))
    request = case["initial_state"]
    states = [np.zeros(shape, dtype="float32") for shape in (request.get("shapes") or [request["shape"]])]
    name = report.layers[0].name
    result = verify_report(report, VerifyOptions(initial_states={name: states}))
    assert any(d.code == "V004" and case["error"]["message"] in d.message for d in result.diagnostics), \
        result.diagnostics


def test_unbatched_rnn_input_is_one_sequence():
    """A 2-D tensor reaching an RNN is one unbatched sequence (torch's rule): the verifier computes
    what torch computes and the engine's shapes agree."""
    report = analyze_text("framework: pytorch\nbatch_size: 4\ninput: [5]\nlayers:\n"
                          "  - {type: GRU, hidden_size: 3, batch_first: true}\n")
    assert [d.code for d in report.diagnostics] == ["H010"]
    assert report.layers[0].output_shapes == [(4, 3), (1, 3)]
    result = verify_report(report)
    assert result.ok and result.ran
    layer = report.graph.nodes[report.layers[0].name].layer
    assert layer.outputs([TensorSpec((4, 5), batch_axis=None)])[1].batch_axis is None


def test_initial_states_given_as_spec_inputs():
    """h_0 and c_0 as inputs of a graph spec, their batch on axis 1 (`batch_axis: 1`), fed torch's
    recorded states: torch's outputs."""
    arrays = load("lstm-initial-state-bidirectional-two-layers-time-major")
    text = """framework: pytorch
batch_size: 3
inputs:
  x: [5, 4]
  h0: {shape: [4, 3], batch_axis: 1}
  c0: {shape: [4, 3], batch_axis: 1}
layers:
  - {type: LSTM, name: lstm, hidden_size: 3, num_layers: 2, bidirectional: true, inputs: x, initial_state: [h0, c0]}
"""
    report = analyze_text(text)
    assert report.ok, report.diagnostics
    assert [item.shape for item in report.inputs] == [(5, 3, 4), (4, 3, 3), (4, 3, 3)]
    result = verify_report(report, VerifyOptions(weights=group(arrays, "weights/"), inputs={
        "x": arrays["inputs/input"], "h0": arrays["initial_state/0"], "c0": arrays["initial_state/1"]}))
    assert result.ok, result.diagnostics
    for key in ("lstm", "lstm[1]", "lstm[2]"):
        assert_close(result.outputs[key], arrays[f"outputs/{key}"], key)
