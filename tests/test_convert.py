"""lstmcalc convert: every spec in specs/ becomes Keras code that real Keras 3.15 runs to the same
numbers (recorded in tests/fixtures/keras_files/round_trip.json by scripts/record_keras_files.py
--round-trip), and every source read back from what convert wrote is the same model."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lstmcalc.api import analyze, analyze_spec
from lstmcalc.cli import cli
from lstmcalc.layers import Layer
from lstmcalc.readers.python_keras import read_python
from lstmcalc.spec.model import ModelSpec
from lstmcalc.spec.reader import read_spec_text
from lstmcalc.writers import WRITERS, NotConvertible
from lstmcalc.writers.values import identifier_form

from .conftest import ROOT

SPECS = sorted((ROOT / "specs").glob("*.yaml"))
# Keras code is written for Keras specs; a PyTorch spec goes to Keras through `lstmcalc port`.
KERAS_SPECS = [path for path in SPECS if "framework: pytorch" not in path.read_text(encoding="utf-8")]
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
    """What a model is: its inputs, each layer's type, configuration, wiring and figures."""
    def config(layer_report):
        node = report.graph.nodes[layer_report.name]
        return layer_config(node.layer) if node.layer is not None else None

    return {
        "inputs": [(tuple(item.shape), item.dtype) for item in report.inputs],
        "layers": [(layer.name, layer.type, config(layer), layer.inputs, layer.initial_state,
                    layer.output_shapes, layer.params) for layer in report.layers],
        "outputs": report.outputs,
        "ok": report.ok,
    }


def read_back(text, target, name="<converted>"):
    spec, diagnostics = (read_python if target == "keras" else read_spec_text)(text, name)
    assert spec is not None, diagnostics
    return analyze_spec(spec, diagnostics=diagnostics)


@pytest.mark.parametrize("path", KERAS_SPECS, ids=[path.name for path in KERAS_SPECS])
def test_keras_code_of_every_spec_runs_in_keras_to_the_same_numbers(path):
    report = analyze(path)
    code = WRITERS["keras"].write(report)
    recorded = ROUND_TRIP[path.name]
    assert code == recorded["code"], "convert's output changed: re-run scripts/record_keras_files.py --round-trip"
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


@pytest.mark.parametrize("target", sorted(WRITERS))
@pytest.mark.parametrize("path", SPECS + KERAS_FILES, ids=[path.name for path in SPECS + KERAS_FILES])
def test_reading_back_what_convert_wrote_gives_the_same_model(path, target):
    report = analyze(path)
    if target == "keras" and path not in KERAS_SPECS + KERAS_FILES:
        with pytest.raises(NotConvertible, match="lstmcalc port"):
            WRITERS[target].write(report)
        return
    text = WRITERS[target].write(report)
    assert facts(read_back(text, target)) == facts(report)


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


def test_convert_to_pytorch_is_refused_clearly():
    result = CliRunner().invoke(cli, ["convert", str(SPECS[0]), "--to", "pytorch"])
    assert result.exit_code == 2
    assert "--to pytorch` is not available yet" in result.output


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
