"""`lstmcalc port` against both real frameworks.

tests/fixtures/pytorch/porting holds Keras models recorded in real Keras 3.15 (their weights,
inputs and outputs in tests/fixtures/keras/numerics) converted by the rules of PORTING.md and run in
real torch 2.13. Here lstmcalc ports the same Keras weights and must write exactly that spec and
those weights; its PyTorch forward pass of them must give torch's recorded outputs (and so Keras's)
within 1e-5; porting back must give Keras's weights bit for bit. PyTorch models recorded in real
torch (tests/fixtures/pytorch/numerics) ported to Keras must give torch's outputs through
lstmcalc's Keras forward pass. Models without an equivalent are refused, saying why."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from lstmcalc import analyze_text
from lstmcalc.cli import cli
from lstmcalc.port import PortOptions, port_report
from lstmcalc.verify import VerifyOptions, verify_report

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PORTING = sorted(path.stem for path in (FIXTURES / "pytorch" / "porting").glob("*.npz"))
TOLERANCE = 1e-5
# Keras models with no PyTorch equivalent (recorded in tests/fixtures/keras/numerics) and the reason
# the refusal must give.
REFUSED = {
    "gru-reset-before": "reset_after",
    "bidirectional-concat-last": "reset_after",
    "lstm-activations": "tanh and sigmoid",
    "gru-activations": "tanh and sigmoid",
    "simple-rnn-linear": "tanh or relu",
    "glu-in-two-unit-rnns": "tanh and sigmoid",
    "lstm-go-backwards": "go_backwards",
    "simple-rnn-relu-state": "go_backwards",
    "mask-embedding-lstm-last": "mask_zero",
    "mask-masking-gru-last": "Masking",
    "bidirectional-backward-layer": "backward_layer",
    "conv1d-causal-dilated": "causal",
    "layer-normalization-rms": "rms_scaling",
}


def npz(path: Path) -> dict:
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def group(arrays: dict, prefix: str) -> dict:
    return {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}


def porting_case(case_id: str):
    arrays = npz(FIXTURES / "pytorch" / "porting" / f"{case_id}.npz")
    meta = json.loads(str(arrays["meta"]))
    keras = npz(FIXTURES / "keras" / "numerics" / f"{meta['keras_case']}.npz")
    return arrays, meta, keras


def keras_report(keras: dict):
    return analyze_text(yaml.safe_dump(json.loads(str(keras["spec"]))), file="keras.yaml")


def assert_close(ours, theirs, what):
    assert ours.shape == theirs.shape, what
    assert np.max(np.abs(ours.astype("float64") - theirs), initial=0.0) <= TOLERANCE, what


def ported(case_id: str):
    arrays, meta, keras = porting_case(case_id)
    result = port_report(keras_report(keras), PortOptions(
        target="pytorch", weights=group(keras, "weights/"), batch_size=4, merge_stacks=bool(meta.get("rules")) and
        any("stacked Keras layers" in rule for rules in meta["rules"].values() for rule in rules)))
    return arrays, meta, keras, result


@pytest.mark.parametrize("case_id", [case for case in PORTING if case != "simple-rnn-relu-go-backwards"])
def test_keras_to_pytorch_writes_the_recorded_spec_and_weights(case_id):
    arrays, meta, keras, result = ported(case_id)
    assert result.ok, result.diagnostics
    assert result.spec == json.loads(str(arrays["spec"]))
    recorded = group(arrays, "weights/")
    assert sorted(result.weights) == sorted(recorded)
    for key, value in recorded.items():
        np.testing.assert_array_equal(result.weights[key], value, err_msg=key)
    assert result.largest_difference <= TOLERANCE


@pytest.mark.parametrize("case_id", [case for case in PORTING if case != "simple-rnn-relu-go-backwards"])
def test_ported_weights_give_torchs_and_keras_outputs(case_id):
    """lstmcalc's PyTorch forward pass of the written spec and weights, on the recorded input: torch's
    recorded outputs, which equal Keras's (meta.compared)."""
    arrays, meta, keras, result = ported(case_id)
    report = analyze_text(yaml.safe_dump(result.spec))
    states = None
    if meta.get("initial_state"):
        states = {meta["initial_state"]: [arrays[f"initial_state/{index}"] for index in range(2)
                                          if f"initial_state/{index}" in arrays]}
    run = verify_report(report, VerifyOptions(weights=result.weights, inputs={report.inputs[0].name: arrays["inputs/input"]},
                                              initial_states=states, keep_arrays=True))
    assert run.ok, run.diagnostics
    for key, value in {**group(arrays, "outputs/"), **group(arrays, "intermediate/")}.items():
        name, _, index = key.partition("[")
        assert_close(run.arrays[name][int(index.rstrip("]") or 0)], value, key)
    outputs = {**group(arrays, "outputs/"), **group(arrays, "intermediate/")}
    for pair in meta["compared"]:
        name, _, row = pair["torch"].partition("@")
        ours = outputs[name][int(row)] if row else outputs[name]
        assert_close(ours, keras[f"outputs/{pair['keras']}"], pair)


# Ported models that do not port back to Keras, and the words saying why (none since a fold of
# batch and time reads back as TimeDistributed, and padding 1 as 'same' where TensorFlow pads 1 and 1).
NO_WAY_BACK: dict = {}


@pytest.mark.parametrize("case_id", [case for case in PORTING if case != "simple-rnn-relu-go-backwards"])
def test_round_trip_gives_keras_weights_bit_for_bit(case_id):
    arrays, meta, keras, result = ported(case_id)
    back = port_report(analyze_text(yaml.safe_dump(result.spec)),
                       PortOptions(target="keras", weights=result.weights))
    if case_id in NO_WAY_BACK:  # a fold of batch and time (TimeDistributed) has no Keras layer of its own
        assert not back.ok and NO_WAY_BACK[case_id] in back.diagnostics[0].message
        return
    assert back.ok, back.diagnostics
    original = group(keras, "weights/")
    if not meta.get("rules") or not any("stacked Keras layers" in rule for rules in meta["rules"].values()
                                        for rule in rules):
        assert sorted(back.weights) == sorted(original)
        for key, value in original.items():
            np.testing.assert_array_equal(back.weights[key], value, err_msg=key)
    else:  # merged stacks come back unfolded, layer k named <module>_l<k>
        assert sorted(np.concatenate([value.ravel() for value in back.weights.values()])) == \
            sorted(np.concatenate([value.ravel() for value in original.values()]))
    # ... the same Keras model: its layers' names (a merged stack's come back `<module>_l<k>`), first
    # outputs and counts (a torch module's h_n is not asked back as return_state; TimeDistributed(Dense)
    # comes back as the Dense it is) ...
    report = analyze_text(yaml.safe_dump(back.spec))
    original = keras_report(keras)

    def layers_of(model, named):
        return [((layer.name,) if named else ()) + (layer.output_shapes[0], layer.params) for layer in model.layers]

    merged = "merged" in case_id
    assert layers_of(report, not merged) == layers_of(original, not merged)
    # ... which computes Keras's recorded outputs from its recorded input.
    if meta.get("initial_state"):
        return  # the states are given in torch's layout; the previous tests cover those outputs
    (x,) = group(keras, "inputs/").values()
    run = verify_report(report, VerifyOptions(weights=back.weights, inputs={report.inputs[0].name: x}))
    assert run.ok, run.diagnostics
    # The model's output (its first output: a Keras layer rebuilt from a torch module returns the
    # output without the states; the states were compared on the way there).
    expected = group(keras, "outputs/")
    first = expected.get(next(iter(expected)))
    (ours, *_) = run.outputs.values()
    assert_close(ours, first, case_id)


def test_relu_weights_rule_without_go_backwards():
    """simple-rnn-relu-state runs backwards in Keras, which torch's modules cannot (port refuses);
    its relu weights follow the SimpleRNN rule, proven in torch on the reversed input."""
    arrays, meta, keras = porting_case("simple-rnn-relu-go-backwards")
    refused = port_report(keras_report(keras), PortOptions(target="pytorch", weights=group(keras, "weights/")))
    assert not refused.ok and refused.diagnostics[0].code == "P002" and "go_backwards" in refused.diagnostics[0].message
    spec = json.loads(str(keras["spec"]))
    spec["layers"] = [text.replace(", go_backwards=True", "") for text in spec["layers"]]
    result = port_report(analyze_text(yaml.safe_dump(spec)), PortOptions(target="pytorch",
                                                                          weights=group(keras, "weights/")))
    assert result.ok
    for key, value in group(arrays, "weights/").items():
        np.testing.assert_array_equal(result.weights[key], value, err_msg=key)


@pytest.mark.parametrize("keras_case, reason", sorted(REFUSED.items()))
def test_models_without_an_equivalent_are_refused(keras_case, reason):
    keras = npz(FIXTURES / "keras" / "numerics" / f"{keras_case}.npz")
    result = port_report(keras_report(keras), PortOptions(target="pytorch", weights=group(keras, "weights/")))
    assert not result.ok and not result.weights
    (finding,) = [d for d in result.diagnostics if d.is_error]
    assert finding.code == "P002" and reason in finding.message and finding.hint, finding
    assert finding.file == "keras.yaml" and finding.line and finding.column


def ported_keras_numerics(keras_case: str):
    """A Keras model recorded in real Keras (tests/fixtures/keras/numerics), ported to PyTorch, and
    lstmcalc's PyTorch forward pass of the written spec and weights on Keras's recorded input."""
    keras = npz(FIXTURES / "keras" / "numerics" / f"{keras_case}.npz")
    batch = len(keras["inputs/input_layer"])
    result = port_report(keras_report(keras), PortOptions(target="pytorch", weights=group(keras, "weights/"),
                                                          batch_size=batch))
    assert result.ok, result.diagnostics
    target = analyze_text(yaml.safe_dump(result.spec))
    run = verify_report(target, VerifyOptions(weights=result.weights, keep_arrays=True,
                                              inputs={target.inputs[0].name: keras["inputs/input_layer"]}))
    assert run.ok, run.diagnostics
    return keras, result, run


# Keras's merge_mode (recorded in real Keras): torch's one bidirectional module, its output split in
# halves (Narrow) and joined as Keras joins them — sum: Add, mul: Mul, ave: Average, None: both halves.
MERGE_MODES = {"bidirectional-sum": ["Add"], "bidirectional-mul": ["Mul"], "bidirectional-ave": ["Average"],
               "bidirectional-none": []}


@pytest.mark.parametrize("keras_case, joins", sorted(MERGE_MODES.items()))
def test_bidirectional_merge_modes_port_to_keras_recorded_outputs(keras_case, joins):
    keras, result, run = ported_keras_numerics(keras_case)
    layers = result.spec["layers"]
    assert [layer["type"] for layer in layers] == [layers[0]["type"], "Narrow", "Narrow"] + joins
    assert layers[0]["bidirectional"] is True and layers[1]["start"] == 0 and layers[2]["start"] == 3
    recorded = group(keras, "outputs/")
    expected = [recorded[key] for key in sorted(recorded)]  # bidirectional, or bidirectional[0] and [1]
    assert len(result.spec["outputs"]) == len(expected)
    for name, theirs in zip(result.spec["outputs"], expected):
        assert_close(run.arrays[name][0], theirs, name)


NUMERICS = FIXTURES / "pytorch" / "numerics"
# PyTorch models recorded in real torch with no Keras equivalent, and why.
NO_KERAS = {"lstm-proj": "proj_size", "lstm-proj-bidirectional-two-layers": "proj_size",
            "lstm-initial-state-proj": "proj_size", "embedding-max-norm": "max_norm",
            "conv2d-stride-padding": "pads", "conv2d-padding-modes": "pads",
            "maxpool2d-padding-dilation-indices": "padding", "avgpool2d-include-pad-ceil": "padding",
            "avgpool2d-exclude-pad-divisor": "padding",
            "bigru-select": "selects one index of an axis", "activations-torch-parameters": "approximate",
            "batchnorm1d-no-running-stats": "track_running_stats"}


@pytest.mark.parametrize("case_id", sorted(path.stem for path in NUMERICS.glob("*.npz")))
def test_pytorch_to_keras_gives_torchs_outputs(case_id):
    arrays = npz(NUMERICS / f"{case_id}.npz")
    spec, meta = json.loads(str(arrays["spec"])), json.loads(str(arrays["meta"]))
    if meta.get("unbatched"):
        pytest.skip("an unbatched input is not a spec")
    report = analyze_text(yaml.safe_dump(spec))
    result = port_report(report, PortOptions(target="keras", weights=group(arrays, "weights/")))
    if NO_KERAS.get(case_id):
        assert not result.ok and NO_KERAS[case_id] in result.diagnostics[0].message
        return
    assert result.ok, result.diagnostics
    keras = analyze_text(yaml.safe_dump(result.spec))
    x = arrays["inputs/input"]
    x = np.moveaxis(x, report.inputs[0].batch_axis, 0)
    if meta.get("initial_state"):
        return  # torch's (D·num_layers, N, H) states: covered by the numerics tests
    run = verify_report(keras, VerifyOptions(weights=result.weights, inputs={keras.inputs[0].name: x.astype(
        keras.inputs[0].dtype)}))
    assert run.ok, run.diagnostics
    torch_output = arrays[f"outputs/{spec['layers'][-1]['name']}"]
    last = report.layers[-1]
    torch_output = np.moveaxis(torch_output, last.output_batch_axes[0], 0)
    (ours,) = [value for key, value in run.outputs.items() if "[" not in key or key.endswith("[0]")][:1]
    assert_close(ours, torch_output, case_id)


# -- the command --------------------------------------------------------------------------------

def write_case(tmp_path: Path, keras_case: str):
    keras = npz(FIXTURES / "keras" / "numerics" / f"{keras_case}.npz")
    spec = tmp_path / "model.yaml"
    spec.write_text(yaml.safe_dump(json.loads(str(keras["spec"]))), encoding="utf-8")
    np.savez(tmp_path / "keras.npz", **group(keras, "weights/"))
    return spec, keras


def test_cli_writes_weights_that_load_by_state_dict_key_and_a_spec_that_analyses(tmp_path):
    spec, keras = write_case(tmp_path, "bidirectional-return-state")
    result = CliRunner().invoke(cli, ["port", str(spec), "--weights", str(tmp_path / "keras.npz"), "--to", "pytorch",
                                      "-o", str(tmp_path / "torch.npz"), "--spec-out", str(tmp_path / "torch.yaml")])
    assert result.exit_code == 0, result.output
    assert "✓" in result.output and "Wrote" in result.output
    report = analyze_text((tmp_path / "torch.yaml").read_text(encoding="utf-8"))
    assert report.ok
    with np.load(tmp_path / "torch.npz") as written:
        assert sorted(written.files) == sorted(f"{layer.name}.{weight.name}" for layer in report.layers
                                               for weight in layer.weights)
    back = CliRunner().invoke(cli, ["port", str(tmp_path / "torch.yaml"), "--weights", str(tmp_path / "torch.npz"),
                                    "--to", "keras", "-o", str(tmp_path / "back.npz"), "--format", "json"])
    assert back.exit_code == 0, back.output
    document = json.loads(back.output)
    assert document["ok"] and document["largest_difference"] <= TOLERANCE and document["written"]


def test_cli_refusal_writes_nothing(tmp_path):
    spec, _ = write_case(tmp_path, "gru-reset-before")
    result = CliRunner().invoke(cli, ["port", str(spec), "--weights", str(tmp_path / "keras.npz"), "--to", "pytorch",
                                      "-o", str(tmp_path / "torch.npz"), "--spec-out", str(tmp_path / "torch.yaml")])
    assert result.exit_code == 1
    assert "error[P002]" in result.output and "reset_after" in result.output and "Nothing was written" in result.output
    assert not (tmp_path / "torch.npz").exists() and not (tmp_path / "torch.yaml").exists()


@pytest.mark.parametrize("arguments, fragment", [
    (["--to", "keras"], "already follows Keras"),
    (["--to", "jax"], "Invalid value for '--to'"),
])
def test_cli_usage_errors(tmp_path, arguments, fragment):
    spec, _ = write_case(tmp_path, "lstm-last")
    result = CliRunner().invoke(cli, ["port", str(spec), "--weights", str(tmp_path / "keras.npz"),
                                      "-o", str(tmp_path / "out.npz"), *arguments])
    assert result.exit_code == 2 and fragment in result.output


def test_cli_names_missing_weights(tmp_path):
    spec, keras = write_case(tmp_path, "lstm-last")
    weights = group(keras, "weights/")
    weights.pop("lstm/bias")
    np.savez(tmp_path / "keras.npz", **weights)
    result = CliRunner().invoke(cli, ["port", str(spec), "--weights", str(tmp_path / "keras.npz"), "--to", "pytorch",
                                      "-o", str(tmp_path / "torch.npz")])
    assert result.exit_code == 1 and "lstm/bias" in result.output


def random_port(text: str, target: str, **options):
    """Port the spec ``text`` with seeded random weights."""
    report = analyze_text(text)
    rng = np.random.default_rng(0)
    separator = "." if report.framework == "pytorch" else "/"
    weights = {f"{layer.name}{separator}{weight.name}": rng.uniform(-0.5, 0.5, weight.shape).astype("float32")
               for layer in report.layers for weight in layer.weights}
    return port_report(report, PortOptions(target=target, weights=weights, **options))


def test_merge_stacks_only_folds_layers_of_the_same_kind():
    text = ("input: [6, 4]\nlayers:\n  - LSTM(4, return_sequences=True)\n  - LSTM(4, return_sequences=True)\n"
            "  - GRU(4, return_sequences=True)\n  - LSTM(3)\n")
    result = random_port(text, "pytorch", merge_stacks=True)
    assert result.ok, result.diagnostics
    assert [(entry["type"], entry["name"], entry.get("num_layers", 1)) for entry in result.spec["layers"]] == [
        ("LSTM", "lstm", 2), ("GRU", "gru", 1), ("LSTM", "lstm_2", 1), ("LastStep", "lstm_2_last", 1)]


def test_time_major_pytorch_model_ports_to_batch_first_keras():
    """torch's default layout (batch second) becomes Keras's batch-first model; the proof moves the
    batch axis to compare."""
    text = ("framework: pytorch\nbatch_size: 3\ninput: [5, 4]\nlayers:\n  - {type: GRU, hidden_size: 3, num_layers: 2, "
            "dropout: 0.1}\n  - {type: LastStep}\n  - {type: Linear, out_features: 2}\n  - {type: Softmax, dim: -1}\n")
    result = random_port(text, "keras")
    assert result.ok, result.diagnostics
    assert [(entry["type"], entry["name"]) for entry in result.spec["layers"]] == [
        ("GRU", "0"), ("Dropout", "0_dropout_l0"), ("GRU", "0_l1"), ("Dense", "2")]
    assert result.spec["layers"][-1]["activation"] == "softmax"


@pytest.mark.parametrize("case_id", ["lstm-last", "gru-reset-after", "simple-rnn-tanh", "bidirectional-lstm-sequences",
                                     "lstm-no-bias"])
def test_explains_pytorch_view_counts_what_port_writes(case_id):
    """A Keras RNN's explain shows the PyTorch module port writes: the same count."""
    from lstmcalc.compute import input_tensors

    arrays, meta, keras, result = ported(case_id)
    report = keras_report(keras)
    record = report.layers[0]
    view = report.graph.nodes[record.name].layer.framework_view(input_tensors(report, record))
    written = analyze_text(yaml.safe_dump(result.spec))
    assert view.parameters.value == written.layer(record.name).params


# Keras stacks whose LSTM/GRU passes [output, h, c] (return_state) to a merge, recorded in real Keras:
# the merge takes torch's last step and rows of h_n and c_n.
STATE_MERGES = {"merge-add-states": "Add", "merge-subtract-states": "Sub", "merge-multiply-states": "Mul",
                "merge-average-states": "Average", "merge-maximum-states": "Maximum",
                "merge-minimum-states": "Minimum", "merge-concatenate-states": "Cat"}


@pytest.mark.parametrize("keras_case, step", sorted(STATE_MERGES.items()))
def test_merges_of_returned_states_port_to_keras_recorded_outputs(keras_case, step):
    keras, result, run = ported_keras_numerics(keras_case)
    merge = result.spec["layers"][-1]
    # Keras's [output, h, c] (GRU: [output, h]): the last step, then row 0 of h_n (and of c_n).
    assert merge["type"] == step and merge["inputs"][0].endswith("_last") and len(merge["inputs"]) in (2, 3)
    (recorded,) = [value for key, value in group(keras, "outputs/").items() if not key.startswith(("lstm", "gru"))]
    (output,) = result.spec["outputs"]
    assert_close(run.arrays[output][0], recorded, keras_case)


def test_global_pooling_ports_to_mean_and_amax_with_keras_recorded_outputs():
    """Conv1D(4, 2) → GlobalMaxPooling1D(keepdims=True) → GlobalAveragePooling1D(), recorded in real
    Keras: x.amax(dim=1, keepdim=True) then x.mean(dim=1) on the steps (the Conv1d's channels-first
    output permuted back first)."""
    keras, result, run = ported_keras_numerics("global-pooling")
    assert [layer["type"] for layer in result.spec["layers"]] == ["Permute", "Conv1d", "Permute", "Amax", "Mean"]
    assert result.spec["layers"][-2:] == [
        {"type": "Amax", "name": "global_max_pooling1d", "dim": 1, "keepdim": True},
        {"type": "Mean", "name": "global_average_pooling1d", "dim": 1}]
    assert_close(run.arrays["global_average_pooling1d"][0], keras["outputs/global_average_pooling1d"], "output")


SPECS = Path(__file__).resolve().parent.parent / "specs"


def random_weights(report, seed=0):
    rng = np.random.default_rng(seed)
    return {f"{layer.name}/{weight.name}": (rng.standard_normal(weight.shape) * 0.3).astype("float32")
            for layer in report.layers for weight in layer.weights}


@pytest.mark.parametrize("name, inputs, outputs", [
    # two_head: one input, two outputs (price, direction's softmax)
    ("two_head.yaml", ["x"], ["price", "direction_activation"]),
    ("two_input_concatenate.yaml", ["sequence", "static"], ["head_activation"]),
    ("bidirectional_encoder_decoder.yaml", ["source", "target"], ["projection"]),
    ("bidirectional_stack.yaml", ["input_layer"], ["dense_activation"]),
])
def test_bundled_graphs_port_to_pytorch_and_both_passes_agree(name, inputs, outputs, tmp_path):
    report = analyze_text((SPECS / name).read_text(encoding="utf-8"), file=name)
    weights = tmp_path / "keras.npz"
    np.savez(weights, **random_weights(report))
    result = CliRunner().invoke(cli, ["port", str(SPECS / name), "--weights", str(weights), "--to", "pytorch",
                                      "-o", str(tmp_path / "torch.npz"), "--spec-out", str(tmp_path / "torch.yaml"),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["ok"] and document["largest_difference"] <= TOLERANCE
    assert list(document["spec"]["inputs"]) == inputs and document["spec"]["outputs"] == outputs
    written = analyze_text((tmp_path / "torch.yaml").read_text(encoding="utf-8"))
    assert written.ok and written.totals.params == report.totals.params + extra_torch_biases(report)


def extra_torch_biases(report):
    """torch's bias_hh per LSTM direction (4·H), which Keras does not have."""
    extra = 0
    for layer in report.layers:
        for weight in layer.weights:
            if weight.name.endswith("recurrent_kernel"):
                extra += weight.shape[-1]  # 4·H: the columns of the recurrent kernel
    return extra


def test_seq2seq_is_refused_for_its_masked_encoder():
    report = analyze_text((SPECS / "seq2seq.yaml").read_text(encoding="utf-8"), file="seq2seq.yaml")
    result = port_report(report, PortOptions(target="pytorch", weights=random_weights(report)))
    (finding,) = [d for d in result.diagnostics if d.is_error]
    assert finding.code == "P002" and "mask_zero" in finding.message and finding.layer == "enc_emb"


# The steps' refusals in torch's words (torch 2.13's messages, checked by running the same calls in
# torch by hand — not yet in modules_invalid_cases.yaml, whose recorder builds chains only).
STEP_ERRORS = [
    ("{type: Cat, dim: -1, inputs: [a, c]}", "Tensors must have same number of dimensions: got 2 and 3"),
    ("{type: Cat, dim: -1, inputs: [d, c]}", "Sizes of tensors must match except in dimension 2. Expected size 30 "
                                             "but got size 5 for tensor number 1 in the list."),
    ("{type: Add, inputs: [a, b]}", "The size of tensor a (30) must match the size of tensor b (5) at non-singleton "
                                    "dimension 1"),
    ("{type: Narrow, dim: -1, start: 28, length: 3, inputs: a}", "start (28) + length (3) exceeds dimension size "
                                                                 "(30)."),
    ("{type: Unsqueeze, dim: 3, inputs: a}", "Dimension out of range (expected to be in range of [-3, 2], but got 3)"),
    ("{type: Mean, dim: [1, 1], inputs: a}", "dim 1 appears multiple times in the list of dims"),
]


@pytest.mark.parametrize("layer, message", STEP_ERRORS)
def test_steps_refuse_in_torchs_words(layer, message):
    spec = ("framework: pytorch\nbatch_size: 2\ninputs:\n  a: {shape: [30]}\n  b: {shape: [5]}\n"
            "  c: {shape: [5, 3]}\n  d: {shape: [30, 4]}\nlayers:\n  - " + layer + "\n")
    report = analyze_text(spec)
    assert not report.ok
    assert message in report.errors[0].message, report.errors[0].message
