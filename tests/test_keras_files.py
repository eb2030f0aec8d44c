"""Saved Keras models — .keras archives, model.to_json() and tf.keras 2 JSON — and the Python
source that built them give exactly what Keras 3.15 reported for the loaded model
(tests/fixtures/keras_files/, recorded by scripts/record_keras_files.py)."""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner

from lstmcalc.api import analyze
from lstmcalc.cli import cli
from lstmcalc.render import RenderOptions, get_renderer

from .conftest import ROOT, heavy_modules_imported

FIXTURES = ROOT / "tests" / "fixtures" / "keras_files"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text(encoding="utf-8"))
# What lstmcalc cannot model yet, with the code that says so (the fixtures are kept for when it can).
SUPPORTED = sorted(REFERENCE)
TF2_CASES = sorted(path.stem[len("tf2_"):] for path in FIXTURES.glob("tf2_*.json") if path.stem != "tf2_reference")
# Which recorded Keras model each source is compared with: the archive loaded by
# keras.saving.load_model, the JSON by model_from_json, the source as it built the model.
RECORD_OF = {".keras": "keras", ".json": "json", ".py": "source"}


def table(report):
    return get_renderer("table")(report, RenderOptions()).rstrip("\n").splitlines()


def keras_summary(record):
    """Keras's summary lines, and the total without an optimizer's parameters (model_from_json
    compiles a model saved after compile(), and its summary then counts the optimizer too)."""
    lines = record["summary"].rstrip("\n").splitlines()
    optimizer = [line for line in lines if line.startswith(" Optimizer params:")]
    if optimizer:
        lines = [line for line in lines if not line.startswith((" Optimizer params:", " Total params:"))
                 and line.strip()]
    return lines, bool(optimizer)


@pytest.mark.parametrize("suffix", sorted(RECORD_OF))
@pytest.mark.parametrize("case", SUPPORTED)
def test_summary_equals_keras(case, suffix):
    report = analyze(FIXTURES / f"{case}{suffix}")
    record = REFERENCE[case][RECORD_OF[suffix]]
    expected, compiled = keras_summary(record)
    ours = table(report)
    if compiled:
        ours = [line for line in ours if not line.startswith(" Total params:")]
    assert ours[:len(expected)] == expected
    assert all(line.startswith(("warning[", "info[", "  hint:")) for line in ours[len(expected):])
    assert report.ok and report.totals.params == record["totals"]["params"]


@pytest.mark.parametrize("case", SUPPORTED)
def test_layers_equal_keras(case):
    """Per layer: name, type, output shapes and parameters of the loaded archive."""
    report = analyze(FIXTURES / f"{case}.keras")
    keras_layers = [layer for layer in REFERENCE[case]["keras"]["layers"] if layer["class_name"] != "InputLayer"]
    # A shared layer is one layer with a node per call; Keras's summary shows its last call's shapes.
    last = {layer.shares: layer for layer in report.layers if layer.shares}
    ours = [(layer.name, layer.type, [list(shape) for shape in last.get(layer.name, layer).output_shapes],
             layer.params) for layer in report.layers if not layer.shares]
    assert ours == [(layer["name"], layer["class_name"], layer["output_shapes"][-1], layer["params"])
                    for layer in keras_layers]


@pytest.mark.parametrize("case", TF2_CASES)
def test_tf_keras_2_json_gives_keras_3_figures(case):
    """tf.keras 2's JSON (batch_input_shape, nested inbound_nodes, initial states passed as extra
    inputs): Keras 3 cannot load it (recorded), so the figures are those of the same model built
    in Keras 3; the names are tf.keras 2's."""
    assert "Could not locate class" in REFERENCE[case]["tf2_json"]["error"]["message"]
    report = analyze(FIXTURES / f"tf2_{case}.json")
    assert report.ok, report.diagnostics
    keras_layers = [layer for layer in REFERENCE[case]["keras"]["layers"] if layer["class_name"] != "InputLayer"]
    assert [(layer.type, [list(shape) for shape in layer.output_shapes], layer.params) for layer in report.layers] \
        == [(layer["class_name"], layer["output_shapes"][-1], layer["params"]) for layer in keras_layers]
    assert report.totals.params == REFERENCE[case]["keras"]["totals"]["params"]
    config = json.loads((FIXTURES / f"tf2_{case}.json").read_text())
    names = [layer["config"]["name"] for layer in config["config"]["layers"] if layer["class_name"] != "InputLayer"]
    assert [layer.name for layer in report.layers] == names


def test_a_shared_layer_counts_its_weights_once_and_lists_every_call():
    report = analyze(FIXTURES / "shared.keras")
    calls = [(layer.name, layer.shares, layer.inputs, layer.params) for layer in report.layers if layer.shares]
    assert calls == [("shared_lstm[1]", "shared_lstm", ["right[0]"], 0)]
    # LSTM(6) on 4 features once: 4 × (6 × (4 + 6) + 6) = 264; Dense(1) on 12: 13.
    assert report.totals.params == 264 + 13


def test_a_shared_layer_in_a_yaml_spec(tmp_path):
    spec = tmp_path / "siamese.yaml"
    spec.write_text(
        "inputs: {left: {shape: [9, 4]}, right: {shape: [9, 5]}}\n"
        "layers:\n"
        "  - {type: LSTM, units: 6, name: encoder, inputs: left}\n"
        "  - {call: encoder, inputs: right}\n"
        "  - {type: Concatenate, inputs: [encoder, \"encoder[1][0]\"]}\n"
        "outputs: [concatenate]\n", encoding="utf-8")
    report = analyze(spec)
    # Called on 5 features, the encoder's kernel would be (5, 24) instead of (4, 24): Keras refuses.
    assert [(d.code, d.line, d.column) for d in report.errors] == [("H004", 4, 5)]
    assert "calls encoder (LSTM) again" in report.errors[0].message


def test_tf_keras_2_initial_states_are_read_as_initial_states():
    report = analyze(FIXTURES / "tf2_seq2seq.json")
    decoder = report.layer("decoder")
    assert decoder.inputs == ["decoder_inputs[0]"] and decoder.initial_state == ["encoder[1]", "encoder[2]"]


@pytest.mark.parametrize("case", SUPPORTED)
def test_verify_with_the_archive_weights_equals_keras_predict(case):
    import numpy as np

    from lstmcalc.verify import VerifyOptions, verify_report

    report = analyze(FIXTURES / f"{case}.keras")
    with np.load(FIXTURES / f"{case}.inputs.npz") as loaded:
        inputs = {key: loaded[key] for key in loaded.files}
    with np.load(FIXTURES / f"{case}.outputs.npz") as loaded:
        expected = [loaded[str(index)] for index in range(len(loaded.files))]
    result = verify_report(report, VerifyOptions(inputs=inputs))
    assert result.ok, result.diagnostics
    assert result.weights_source == f"{FIXTURES / case}.keras (model.weights.h5)"
    computed = list(result.outputs.values())
    assert len(computed) == len(expected)
    # mixed_float16 computes in float16: its rounding, not lstmcalc's, sets the tolerance.
    tolerance = 2e-3 if case == "dtype_policy" else 1e-5
    for ours, theirs in zip(computed, expected):
        np.testing.assert_allclose(ours.astype("float64"), theirs, rtol=tolerance, atol=tolerance)


# -- the CLI -----------------------------------------------------------------------------------


def invoke(*arguments):
    result = CliRunner().invoke(cli, list(arguments))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_summary_of_a_pasted_snippet():
    result = invoke("summary", "Sequential([Input((30, 8)), LSTM(64, return_sequences=True), Dropout(0.2), "
                               "LSTM(32), Dense(1)])")
    assert result.exit_code == 0
    # LSTM(64) on 8 features: 4 × (64 × (8 + 64) + 64) = 18,688; LSTM(32): 4 × (32 × (64 + 32) + 32) = 12,416;
    # Dense: 32 + 1 = 33; total 31,137.
    assert "│ lstm (LSTM)                          │ (None, 30, 64)              │          18,688 │" in result.output
    assert "Total params: 31,137" in result.output


def test_a_pasted_layer_points_at_input():
    result = invoke("summary", "LSTM(64)")
    assert result.exit_code == 1
    assert "error[S018]" in result.output and "--input 50,10" in result.output


def test_input_written_as_a_yaml_layer_points_at_the_input_key(tmp_path):
    spec = tmp_path / "model.yaml"
    spec.write_text("layers:\n  - Input((30, 8))\n  - LSTM(64)\n", encoding="utf-8")
    result = invoke("summary", str(spec))
    assert result.exit_code == 1
    assert f"error[S019] {spec}:2:5" in result.output
    assert "`input: [30, 8]`" in result.output and "--input 30,8" in result.output


def test_summary_of_a_keras_file_does_not_import_numpy():
    for name in ("bidirectional.keras", "seq2seq.json", "seq2seq.py"):
        assert heavy_modules_imported(["summary", str(FIXTURES / name)], ("numpy", "h5py")) == "clean"


def test_check_takes_keras_files_named_explicitly():
    result = invoke("check", str(FIXTURES / "seed_001_functional.keras"), str(FIXTURES / "merges.py"))
    assert result.exit_code == 0, result.output
    result = invoke("check", str(FIXTURES / "convlstm2d.keras"), str(FIXTURES / "seed_000_block1.py"))
    assert result.exit_code == 1 and "H001" in result.output  # seed 000's stacked LSTM, as Keras rejects it


def test_check_directories_still_take_yaml_only(tmp_path):
    (tmp_path / "model.keras").write_bytes((FIXTURES / "shared.keras").read_bytes())
    (tmp_path / "spec.yaml").write_text("input: [5, 2]\nlayers: [LSTM(3)]\n", encoding="utf-8")
    result = invoke("check", str(tmp_path))
    assert result.exit_code == 0 and "1 file passed" in result.output


def test_verify_cli_with_archive_weights_and_recorded_input(tmp_path):
    output = tmp_path / "y.npz"
    result = invoke("verify", str(FIXTURES / "seq2seq.keras"), "--input", str(FIXTURES / "seq2seq.inputs.npz"),
                    "--output", str(output))
    assert result.exit_code == 0, result.output
    assert "weights: " + str(FIXTURES / "seq2seq.keras") + " (model.weights.h5)" in result.output


def test_archive_file_by_content_under_another_name(tmp_path):
    renamed = tmp_path / "model.bin"
    renamed.write_bytes((FIXTURES / "merges.keras").read_bytes())
    assert analyze(renamed).totals.params == REFERENCE["merges"]["keras"]["totals"]["params"]
    renamed = tmp_path / "model.txt"
    renamed.write_text((FIXTURES / "merges.json").read_text(), encoding="utf-8")
    assert analyze(renamed).totals.params == REFERENCE["merges"]["keras"]["totals"]["params"]


# -- untrusted files ---------------------------------------------------------------------------


def rezip(tmp_path, case, change=None, extra=()):
    """A copy of a fixture archive with config.json changed by ``change`` and members added."""
    source = zipfile.ZipFile(FIXTURES / f"{case}.keras")
    target = tmp_path / f"{case}.keras"
    with zipfile.ZipFile(target, "w") as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "config.json" and change is not None:
                data = change(data.decode()).encode()
            archive.writestr(info.filename, data)
        for name, data, method in extra:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return target


def test_unknown_layer_types_are_one_error_each_by_name(tmp_path):
    text = (FIXTURES / "stacked_dropout.json").read_text()
    text = text.replace('"class_name": "Dropout"', '"class_name": "MyDropout"')
    text = text.replace('"class_name": "Dense"', '"class_name": "CustomHead"')
    path = tmp_path / "custom.json"
    path.write_text(text, encoding="utf-8")
    report = analyze(path)
    errors = [(d.code, d.message) for d in report.errors]
    assert errors == [("S003", "Unknown layer type `MyDropout`."), ("S003", "Unknown layer type `CustomHead`.")]
    # The layers before them are still reported: lstm (4 × (64 × (8 + 64) + 64) = 18,688).
    assert report.layers[0].status == "ok" and report.layers[0].params == 18688
    # Each error points at the `{` of its layer entry in the one-line JSON.
    first = report.errors[0]
    assert first.line == 1 and text[first.column - 1] == "{" and '"MyDropout"' in text[first.column - 1:][:60]


def test_an_archive_member_larger_than_allowed_is_refused(tmp_path, monkeypatch):
    from lstmcalc.readers import keras_archive

    monkeypatch.setattr(keras_archive, "MAX_JSON_BYTES", 1000)
    report = analyze(FIXTURES / "merges.keras")
    assert [d.code for d in report.errors] == ["S017"]
    assert "config.json declares" in report.errors[0].message


def test_a_zip_bomb_is_refused_before_it_is_expanded(tmp_path):
    # 20 MiB of spaces deflate about 1,028-fold, beyond what any real member does: refused from
    # the sizes the archive declares, before a byte is inflated.
    with zipfile.ZipFile(tmp_path / "bomb.keras", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("config.json", b" " * (20 * 1024 * 1024))
    report = analyze(tmp_path / "bomb.keras")
    assert [d.code for d in report.errors] == ["S017"]
    assert "zip bomb" in report.errors[0].message


def test_an_archive_with_too_many_members_is_refused(tmp_path):
    crowded = rezip(tmp_path, "merges", extra=[(f"assets/{index}", b"", zipfile.ZIP_STORED) for index in range(70)])
    report = analyze(crowded)
    assert [d.code for d in report.errors] == ["S017"] and "70" not in report.errors[0].message[:5]
    assert "members" in report.errors[0].message


@pytest.mark.parametrize("content, expected", [
    (b"not a zip at all", "not a zip archive"),
    (b"PK\x03\x04broken", "not a zip archive"),
])
def test_a_broken_archive_is_a_clear_error(tmp_path, content, expected):
    path = tmp_path / "model.keras"
    path.write_bytes(content)
    report = analyze(path)
    assert [d.code for d in report.errors] == ["S017"] and expected in report.errors[0].message


def test_reading_writes_nothing_to_disk(tmp_path, monkeypatch):
    from lstmcalc.verify import VerifyOptions, verify_report

    copy = tmp_path / "model.keras"
    copy.write_bytes((FIXTURES / "bidirectional.keras").read_bytes())
    monkeypatch.chdir(tmp_path)
    verify_report(analyze(copy), VerifyOptions())
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.keras"]


@pytest.mark.parametrize("text, message, line, column", [
    ("[" * 100 + "]" * 100, "nests deeper than 64 levels", None, None),
    ('{"class_name": "Sequential",\n "config": {"layers": [}', "not valid JSON", 2, 24),
    ('{"class_name": "LSTM", "config": {"units": 3}}', "one serialised `LSTM`, not a model", 1, 1),
    ("[1, 2]", "not a Keras model config", 1, 1),
])
def test_bad_json_is_a_located_error(tmp_path, text, message, line, column):
    path = tmp_path / "model.json"
    path.write_text(text, encoding="utf-8")
    report = analyze(path)
    assert [d.code for d in report.errors] == ["S017"]
    assert message in report.errors[0].message
    assert (report.errors[0].line, report.errors[0].column) == (line, column)


def test_weights_that_contradict_the_config_name_the_layer_and_weight(tmp_path):
    from lstmcalc.verify import VerifyOptions, verify_report

    # The Dense layer's units changed from 3 to 4 in config.json; its stored kernel is still (8, 3).
    edited = rezip(tmp_path, "bidirectional", change=lambda text: text.replace('"units": 3,', '"units": 4,'))
    report = analyze(edited)
    assert report.ok  # the config alone is a valid model
    result = verify_report(report, VerifyOptions())
    assert not result.ok
    messages = [d.message for d in result.diagnostics if d.code == "V003"]
    assert any("`dense/kernel` of dense (Dense) has shape (8, 3)" in m and "config makes it (8, 4)" in m
               for m in messages), messages


def test_without_h5py_verify_says_what_to_install(monkeypatch):
    import sys

    from lstmcalc.verify import VerifyOptions, verify_report

    monkeypatch.setitem(sys.modules, "h5py", None)
    result = verify_report(analyze(FIXTURES / "merges.keras"), VerifyOptions())
    assert [d.code for d in result.diagnostics] == ["V003"]
    assert "pip install 'lstmcalc[keras-files]'" in result.diagnostics[0].hint


def test_a_legacy_hdf5_model_says_how_to_save_it(tmp_path):
    path = tmp_path / "model.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    report = analyze(path)
    assert [d.code for d in report.errors] == ["S017"] and "model.save('model.keras')" in report.errors[0].hint


@pytest.mark.parametrize("keep", ["build_input_shape", "first_layer_build_config"])
def test_a_sequential_saved_without_input_layer_takes_its_build_shape(tmp_path, keep):
    """Keras 3 writes `build_input_shape` for a Sequential built with model.build(), and every
    layer's `build_config`; without an InputLayer entry, either gives the input."""
    config = json.loads((FIXTURES / "stacked_dropout.json").read_text())
    layers = config["config"]["layers"]
    input_layer = layers.pop(0)
    assert input_layer["class_name"] == "InputLayer"
    if keep == "build_input_shape":
        config["config"]["build_input_shape"] = [None, 30, 8]
    else:
        assert layers[0]["build_config"] == {"input_shape": [None, 30, 8]}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    report = analyze(path)
    assert report.ok and report.totals.params == REFERENCE["stacked_dropout"]["keras"]["totals"]["params"]
    assert report.inputs[0].shape == (None, 30, 8)


def test_a_malformed_inbound_node_is_an_error_not_a_crash(tmp_path):
    # Found by mutating the fixtures: every malformed config is a diagnostic.
    config = json.loads((FIXTURES / "merges.json").read_text())
    config["config"]["layers"][1]["inbound_nodes"][0]["args"] = 1.5
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    report = analyze(path)
    assert "S017" in [d.code for d in report.errors]
    assert any("`args` must be a list" in d.message for d in report.errors)
