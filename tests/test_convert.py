"""lstmcalc convert: every spec in specs/ (and every readable PyTorch source) becomes Keras code
that real Keras 3.15 runs to lstmcalc's numbers (tests/fixtures/keras_files/round_trip.json, by
scripts/record_keras_files.py --round-trip) and PyTorch code that real torch 2.13 runs to lstmcalc's
numbers (tests/fixtures/pytorch/round_trip.json, by scripts/record_pytorch_sources.py --round-trip),
or a clear refusal naming what has no equivalent; and every source read back from what convert
wrote is the same model."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lstmcalc.api import analyze, analyze_spec
from lstmcalc.cli import cli
from lstmcalc.compute import input_tensors
from lstmcalc.layers import Layer
from lstmcalc.readers.python_keras import read_python
from lstmcalc.readers.python_torch import SourceOptions, read_torch
from lstmcalc.spec.model import ModelSpec
from lstmcalc.spec.reader import read_spec_text
from lstmcalc.writers import WRITERS, NotConvertible
from lstmcalc.writers.ported import ported_report
from lstmcalc.writers.values import identifier_form

from .conftest import ROOT
from .test_pytorch_source import CASES as SOURCE_CASES, SOURCE, assert_matches_torch, options_of

SPECS = sorted((ROOT / "specs").glob("*.yaml"))
KERAS_SPECS = [path for path in SPECS if "framework: pytorch" not in path.read_text(encoding="utf-8")]
PYTORCH_ROUND_TRIP = json.loads((ROOT / "tests" / "fixtures" / "pytorch" / "round_trip.json")
                                .read_text(encoding="utf-8"))["cases"]
READABLE_SOURCES = {case["id"]: case for case in SOURCE_CASES if case["reader"] == "read"}
FIXTURES = ROOT / "tests" / "fixtures" / "keras_files"
ROUND_TRIP = json.loads((FIXTURES / "round_trip.json").read_text(encoding="utf-8"))
KERAS_FILES = sorted(path for suffix in ("*.keras", "*.json", "*.py") for path in FIXTURES.glob(suffix)
                     if path.stem not in ("reference", "tf2_reference", "round_trip", "convlstm2d",
                                          "seed_000_block1", "data_dependent"))


def normal(value):
    """A layer config value in a comparable form: layers by class and config, serialised
    initializers as the identifier Keras reads them as, the float32 policy as no policy."""
    if isinstance(value, Layer):
        return ("layer", value.keras_class, layer_config(value))
    if isinstance(value, ModelSpec):  # a nested model: what it is, not where it was written
        return ("model", value.name, repr(facts(analyze_spec(value))))
    if isinstance(value, dict):
        value = identifier_form(value)
        if isinstance(value, dict):
            return tuple(sorted((key, normal(item)) for key, item in value.items()
                                if key not in ("module", "registered_name", "shared_object_id")))
    if isinstance(value, (list, tuple)):
        return tuple(normal(item) for item in value)
    return value


def layer_config(layer):
    items = dict(layer.config)
    items.pop("input_shape", None)  # Keras's legacy spelling of the model input, written as the input
    if items.get("dtype") == "float32":
        items["dtype"] = None
    return normal(items)


def facts(report):
    """What a model is: its inputs, each layer's type, configuration, wiring and figures (a PyTorch
    module's sizes inferred from its input written out, as PyTorch code writes them)."""
    def config(layer_report):
        node = report.graph.nodes[layer_report.name]
        if node.layer is None:
            return None
        items = dict(node.layer.config)
        if report.framework == "pytorch" and layer_report.status == "ok":
            items.update(node.layer.inferred_arguments(input_tensors(report, layer_report)))
        return normal(items) if report.framework == "pytorch" else layer_config(node.layer)

    return {
        "inputs": [(tuple(item.shape), item.dtype) for item in report.inputs],
        "layers": [(layer.name, layer.type, config(layer), layer.inputs, layer.initial_state,
                    layer.output_shapes, layer.params) for layer in report.layers],
        "outputs": report.outputs,
        "ok": report.ok,
    }


def read_back(text, target, name="<converted>", like=None):
    """What a reader makes of what convert wrote; PyTorch code with the input of ``like``, the
    report it was written from (the code says it in its header, not in the module)."""
    if target == "pytorch":
        def sample(item):
            return tuple(dim for axis, dim in enumerate(item.shape) if axis != item.batch_axis)

        item, more = like.inputs[0], like.inputs[1:]
        spec, diagnostics = read_torch(text, name, None, SourceOptions(
            sample(item), item.dtype, item.shape[item.batch_axis], more_inputs=tuple(map(sample, more)),
            more_dtypes=tuple(other.dtype for other in more)))
    else:
        spec, diagnostics = (read_python if target == "keras" else read_spec_text)(text, name)
    assert spec is not None, diagnostics
    return analyze_spec(spec, diagnostics=diagnostics)


def in_framework(report, framework):
    """The model as ``framework`` has it: itself, or what its layers port to."""
    return report if report.framework == framework else ported_report(report, framework)


def source_report(case):
    return analyze(SOURCE / case["file"], bindings=case.get("kwargs") or None, source=options_of(case))


def keras_checked(report, recorded):
    """lstmcalc's numbers of the Keras model are what Keras made of the code."""
    if recorded.get("error"):
        # Keras refuses the model (seed 000's stacked LSTM); so does lstmcalc, at the same layer.
        assert not report.ok
        assert f"layer '{report.errors[0].layer}'" in recorded["error"]["message"]
        return
    assert report.ok
    assert report.totals.params == recorded["totals"]["params"]
    assert report.totals.trainable_params == recorded["totals"]["trainable_params"]
    keras_layers = [layer for layer in recorded["layers"] if layer["class_name"] != "InputLayer"]
    # (Keras lists a graph's layers in its own order; the summary tests check that order.)
    assert sorted((layer.name, layer.type, [list(shape) for shape in layer.output_shapes], layer.params)
                  for layer in report.layers) == \
        sorted((layer["name"], layer["class_name"], layer["output_shapes"][-1], layer["params"])
               for layer in keras_layers)


@pytest.mark.parametrize("path", SPECS, ids=[path.name for path in SPECS])
def test_keras_code_of_every_spec_runs_in_keras_to_the_same_numbers(path):
    report = analyze(path)
    code = WRITERS["keras"].write(report)
    recorded = ROUND_TRIP[path.name]
    assert code == recorded["code"], "convert's output changed: re-run scripts/record_keras_files.py --round-trip"
    keras_checked(in_framework(report, "keras") if report.ok else report, recorded)


@pytest.mark.parametrize("case", sorted(READABLE_SOURCES))
def test_keras_code_of_a_pytorch_source_runs_in_keras_or_is_refused_clearly(case):
    report = source_report(READABLE_SOURCES[case])
    recorded = ROUND_TRIP[f"pytorch_source/{case}"]
    if recorded["code"] is None:
        with pytest.raises(NotConvertible) as refused:
            WRITERS["keras"].write(report)
        assert str(refused.value) in recorded["convert_error"]
        return
    assert WRITERS["keras"].write(report) == recorded["code"], "re-run scripts/record_keras_files.py --round-trip"
    keras_checked(in_framework(report, "keras"), recorded)


# What has no PyTorch equivalent (or no lstmcalc writer), and the words saying so.
NO_PYTORCH = {
    "convlstm_next_frame.yaml": "conv_lstm2d (ConvLSTM2D) has no PyTorch equivalent: torch.nn has no convolutional "
                                "LSTM",
    "seed_000_stacked_lstm.yaml": "Keras rejects the model (H001",
    # Graphs convert; this one's encoder reads a masked sequence (mask_zero), which torch cannot.
    "seq2seq.yaml": "enc_emb (Embedding) has no PyTorch equivalent: mask_zero: true",
    "text_classifier_masking.yaml": "mask_zero: true",
    "source/conv-lstm": None, "source/proj-lstm": None, "source/helper-and-unused": None,
}
PYTORCH_NAMES = sorted(PYTORCH_ROUND_TRIP)


def round_trip_report(name):
    if name.startswith("source/"):
        return source_report(READABLE_SOURCES[name[len("source/"):]])
    if name.startswith("keras_files/"):
        return analyze(FIXTURES / name[len("keras_files/"):])
    return analyze(ROOT / "specs" / name)


@pytest.mark.parametrize("name", PYTORCH_NAMES)
def test_pytorch_code_runs_in_torch_to_lstmcalcs_numbers_or_is_refused_clearly(name):
    """The code convert writes, run in real torch 2.13 with forward hooks (round_trip.json), has
    lstmcalc's shapes and counts for every named_modules() path; what is refused says why."""
    report = round_trip_report(name)
    recorded = PYTORCH_ROUND_TRIP[name]
    if recorded["code"] is None:
        with pytest.raises(NotConvertible) as refused:
            WRITERS["pytorch"].write(report)
        assert NO_PYTORCH[name] in str(refused.value) and str(refused.value) in recorded["convert_error"]
        return
    assert name not in NO_PYTORCH or NO_PYTORCH[name] is None
    code = WRITERS["pytorch"].write(report)
    assert code == recorded["code"], "re-run scripts/record_pytorch_sources.py --round-trip"
    assert "error" not in recorded, recorded.get("error")
    written = in_framework(report, "pytorch")
    if "inputs" in recorded and (written.functional or len(written.inputs) > 1):
        assert_graph_matches_torch(written, recorded)
    else:
        assert_matches_torch(written, recorded)


def same_shape(ours, theirs):
    """lstmcalc's shape against torch's, an unknown length (None) run as any length."""
    return len(ours) == len(theirs) and all(a is None or a == b for a, b in zip(ours, theirs))


def assert_graph_matches_torch(report, recorded):
    """The written graph's forward(a, b, ...) run in torch: each argument, every module's
    parameters and output shapes, and the returned tensors in the spec's output order."""
    assert report.ok, [d.message for d in report.errors]
    assert report.totals.params == recorded["params"]
    assert report.totals.trainable_params == recorded["trainable_params"]
    assert len(report.inputs) == len(recorded["inputs"])
    for item, given in zip(report.inputs, recorded["inputs"]):
        assert same_shape(item.shape, given["shape"]) and f"torch.{item.dtype}" == given["dtype"]
    rows = {layer.name: layer for layer in report.layers}
    for module in recorded["modules"]:
        if not module["path"]:
            continue
        row = rows[module["path"]]
        assert row.params == module["params_own"], module["path"]
        (call,) = module["calls"]
        assert len(row.output_shapes) == len(call["output_shapes"])
        assert all(map(same_shape, row.output_shapes, call["output_shapes"])), module["path"]
    returned = []
    for reference in report.graph.outputs:
        record = rows[reference.name]
        returned += [record.output_shapes[reference.index or 0]]
    assert len(returned) == len(recorded["output_shapes"])
    assert all(map(same_shape, returned, recorded["output_shapes"]))
    written = {f"{layer.name}.{weight.name}": list(weight.shape) for layer in report.layers for weight in layer.weights}
    assert written == {item["name"]: item["shape"] for item in recorded["named_parameters"]}


def test_every_spec_is_in_the_pytorch_round_trip():
    # (and two saved Keras graphs, scripts/record_pytorch_sources.py's KERAS_GRAPHS)
    assert {path.name for path in SPECS} | {f"source/{case}" for case in READABLE_SOURCES} | \
        {"keras_files/merges.keras", "keras_files/seq2seq.keras"} == set(PYTORCH_ROUND_TRIP)


@pytest.mark.parametrize("target", sorted(WRITERS))
@pytest.mark.parametrize("path", SPECS + KERAS_FILES, ids=[path.name for path in SPECS + KERAS_FILES])
def test_reading_back_what_convert_wrote_gives_the_same_model(path, target):
    report = analyze(path)
    try:
        expected = in_framework(report, "pytorch" if target == "pytorch" else "keras") if target != "yaml" \
            else report
    except NotConvertible:
        expected = report  # a model the other framework refuses: convert says why (tested above)
    try:
        text = WRITERS[target].write(report)
    except NotConvertible as refused:
        # Which specs are refused, and why, is the round-trip tests' business.
        assert target == "pytorch" and str(refused), path
        return
    assert facts(read_back(text, target, like=expected)) == facts(expected)


@pytest.mark.parametrize("target", sorted(WRITERS))
@pytest.mark.parametrize("case", sorted(READABLE_SOURCES))
def test_reading_back_what_convert_wrote_of_a_pytorch_source_gives_the_same_model(case, target):
    report = source_report(READABLE_SOURCES[case])
    try:
        expected = report if target == "yaml" else in_framework(report, target)
        text = WRITERS[target].write(report)
    except NotConvertible:
        assert target == "keras" and PYTORCH_ROUND_TRIP.get(f"source/{case}") and \
            ROUND_TRIP[f"pytorch_source/{case}"]["code"] is None
        return
    assert facts(read_back(text, target, like=expected)) == facts(expected)


def test_seed_000_block_converts_to_what_keras_rejects():
    report = analyze(FIXTURES / "seed_000_block1.py")
    text = WRITERS["yaml"].write(report)
    assert text.splitlines()[1:] == [
        "input: [10, 5]  # from input_shape= on the first layer",
        "layers:",
        "  - LSTM(50, return_sequences=False)",
        "  - LSTM(10, return_sequences=False)",
        "  - Dense(1, activation='sigmoid')",
    ]
    assert [d.code for d in read_back(text, "yaml").errors] == ["H001"]


def test_names_keras_would_give_are_left_out_and_others_kept():
    report = analyze(FIXTURES / "stacked_dropout.keras")
    text = WRITERS["keras"].write(report)
    # A saved config lists every argument; those at Keras's defaults are left out.
    assert "    layers.LSTM(return_sequences=True, units=64, recurrent_initializer=" in text
    assert "    layers.Dropout(rate=0.2),\n" in text
    assert "name='lstm'" not in text and "], name='forecaster')" in text


def test_convert_cli_writes_a_file(tmp_path):
    output = tmp_path / "model.yaml"
    result = CliRunner().invoke(cli, ["convert", str(FIXTURES / "seq2seq.keras"), "--to", "yaml", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert analyze(output).totals.params == analyze(FIXTURES / "seq2seq.keras").totals.params


def test_convert_to_pytorch_refuses_clearly_what_it_cannot_write():
    result = CliRunner().invoke(cli, ["convert", str(ROOT / "specs" / "text_classifier_masking.yaml"), "--to",
                                      "pytorch"])
    assert result.exit_code == 1
    assert "Cannot convert" in result.output and "mask_zero: true" in result.output


def test_convert_of_a_pytorch_source_on_the_command_line(tmp_path):
    output = tmp_path / "model.py"
    result = CliRunner().invoke(cli, ["convert", str(SOURCE / "lstm_forecaster.py"), "--input", "48,8",
                                      "--batch-size", "32", "--to", "keras", "-o", str(output)])
    assert result.exit_code == 0, result.output
    # nn.LSTM(8, 64, num_layers=2) is two Keras LSTMs (one bias each): 4 × (64 × (8 + 64) + 64) +
    # 4 × (64 × (64 + 64) + 64); Linear(64, 12): 64 × 12 + 12.
    report = analyze(output)
    assert report.framework == "keras" and report.totals.params == 4 * (64 * 72 + 64) + 4 * (64 * 128 + 64) + 780
    result = CliRunner().invoke(cli, ["convert", str(ROOT / "specs" / "cnn_lstm.yaml"), "--input", "3", "--to",
                                      "pytorch"])
    assert result.exit_code == 2 and "--input and --batch-size give what a PyTorch source" in result.output


def test_convert_of_an_unreadable_source_fails_with_its_diagnostics(tmp_path):
    path = tmp_path / "model.json"
    path.write_text("{", encoding="utf-8")
    result = CliRunner().invoke(cli, ["convert", str(path), "--to", "keras"])
    assert result.exit_code == 1
    assert "does not read as a model" in result.output and "S017" in result.output


SAVED = sorted(name for name, entry in ROUND_TRIP.items() if name.startswith("keras_files/"))
REFERENCE = json.loads((FIXTURES / "reference.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", SAVED)
def test_keras_code_of_a_saved_model_rebuilds_it_in_keras(name):
    """A .keras archive converted to Keras code and run in Keras 3.15 prints the archive's own
    summary, names included (nested models too); what lstmcalc cannot read is not converted."""
    case = name[len("keras_files/"):-len(".keras")]
    recorded = ROUND_TRIP[name]
    report = analyze(FIXTURES / f"{case}.keras")
    if recorded["code"] is None:
        assert not report.ok and "does not read as a model" in recorded["convert_error"]
        return
    assert WRITERS["keras"].write(report) == recorded["code"], "re-run scripts/record_keras_files.py --round-trip"
    assert recorded["summary"] == REFERENCE[case]["keras"]["summary"]
