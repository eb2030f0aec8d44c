"""`lstmcalc verify` and lstmcalc.verify: every bundled spec agrees with the engine; exit codes;
files; the memory budget; a disagreement is reported as a bug (V001)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import lstmcalc
from lstmcalc.cli import cli
from lstmcalc.verify import VerifyOptions, parse_memory_size, verify_report

from .conftest import SPECS
from .test_keras_numerics import load

SEED_001 = str(SPECS / "seed_001_stacked_lstm.yaml")
SEED_000 = str(SPECS / "seed_000_stacked_lstm.yaml")
ALL_SPECS = sorted(SPECS.glob("*.yaml"))


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("path", ALL_SPECS, ids=[path.stem for path in ALL_SPECS])
def test_verify_agrees_with_the_engine_on_every_bundled_spec(path):
    report = lstmcalc.analyze(path)
    result = verify_report(report)
    if not report.ok:  # seed 000's rejected stack: nothing to run
        assert not result.ran and result.diagnostics == []
        return
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.diagnostics == []
    checked = [tensor for check in result.layers for tensor in check.tensors]
    assert len(checked) == sum(len(layer.output_shapes) for layer in report.layers)
    assert all(tensor.agrees for tensor in checked)


@pytest.mark.parametrize("batch, steps", [(1, 1), (3, 11)])
def test_unknown_dimensions_take_the_given_sizes(batch, steps):
    # tokens (None, None) → (batch, steps); the Embedding adds 128; the GRU keeps the last step
    report = lstmcalc.analyze(SPECS / "text_classifier_masking.yaml")
    result = verify_report(report, VerifyOptions(batch_size=batch, timesteps=steps))
    assert result.ok
    assert [check.tensors[0].computed for check in result.inputs + result.layers] == [
        (batch, steps), (batch, steps, 128), (batch, 64), (batch, 1)]
    # the Embedding's output carries the mask, as the engine says
    assert result.layers[0].tensors[0].computed_masked is True


def test_lengths_after_convolutions_are_propagated_again():
    # On an unknown length, conv 'valid' (kernel 5) and pooling: 30 → 26 → 13; the engine has None there.
    report = lstmcalc.analyze_layers([None, 4], ["Conv1D(8, 5)", "MaxPooling1D(2)", "LSTM(3, return_sequences=True)"])
    result = verify_report(report, VerifyOptions(timesteps=30))
    assert result.ok
    assert [(t.propagated, t.computed) for t in result.tensors][1:] == [
        ((None, None, 8), (2, 26, 8)), ((None, None, 8), (2, 13, 8)), ((None, None, 3), (2, 13, 3))]


def test_a_length_too_short_for_the_model_is_an_input_problem():
    report = lstmcalc.analyze_layers([None, 4], ["Conv1D(8, 5)"])
    result = verify_report(report, VerifyOptions(timesteps=3))
    # lstmcalc chose the length; the model is not wrong, the verifier could not run at that size
    assert [(d.code, d.severity) for d in result.diagnostics] == [("V007", "warning")]
    assert "--timesteps" in result.diagnostics[0].hint
    assert not result.ran


def test_a_disagreement_is_reported_as_a_bug(monkeypatch):
    """If a shape rule were wrong, the verifier must say so: make Dense claim one unit more."""
    from lstmcalc.layers.core import Dense

    original = Dense.output_shapes
    monkeypatch.setattr(Dense, "output_shapes",
                        lambda self, inputs: [shape[:-1] + (shape[-1] + 1,) for shape in original(self, inputs)])
    result = run("verify", SEED_001)
    assert result.exit_code == 1
    assert "error[V001]" in result.output and "This is a bug in lstmcalc" in result.output
    assert "(None, 129)" in result.output and "(2, 128)" in result.output


MEMORY_CASE = SPECS / "seed_000_dense.yaml"


def test_memory_estimate_by_hand():
    # weights: 11,721 float32 = 46,884 B
    # activations kept: input 2·10·5 + lstm 2·50 + dense 2·10 + dense_1 2·1 = 222 floats = 888 B
    # largest temporaries, the LSTM: 2·10·(5 + 200) + 2·(3·200 + 4·50) = 5,700 floats = 22,800 B
    result = verify_report(lstmcalc.analyze(MEMORY_CASE))
    assert (result.memory.weights, result.memory.activations, result.memory.scratch) == (46884, 888, 22800)
    assert result.memory.total == 70572


def test_memory_budget_is_checked_before_anything_is_allocated():
    # 10⁶ samples × 10⁵ steps would need terabytes: refused from the shapes alone, at once.
    report = lstmcalc.analyze_layers([None, 10], ["LSTM(256, return_sequences=True)", "LSTM(256)"])
    result = verify_report(report, VerifyOptions(batch_size=10 ** 6, timesteps=10 ** 5))
    assert not result.ran and [d.code for d in result.diagnostics] == ["V002"]
    assert result.memory.total > 10 ** 12
    message = result.diagnostics[0].message
    assert "TB" in message and "--max-memory is 1.00 GB" in message
    assert all(check.status == "not-run" for check in result.layers)


@pytest.mark.parametrize("text, size", [("1GiB", 1 << 30), ("512M", 512 << 20), ("2g", 2 << 30), ("1000", 1000),
                                        ("1.5KB", 1536)])
def test_parse_memory_size(text, size):
    assert parse_memory_size(text) == size


# -- the command -------------------------------------------------------------------------------

def write_npz(path, arrays):
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return str(path)


@pytest.fixture
def lstm_last_files(tmp_path):
    """The recorded Keras case `lstm-last` as the files a user would have."""
    spec, _, weights, inputs, _, outputs = load("lstm-last")
    spec_path = tmp_path / "model.yaml"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    x_path = tmp_path / "x.npy"
    np.save(x_path, inputs["input_layer"])
    return {"spec": str(spec_path), "weights": write_npz(tmp_path / "w.npz", weights), "x": str(x_path),
            "weights_arrays": weights, "outputs": outputs, "dir": tmp_path}


def test_numbers_mode_writes_keras_outputs(lstm_last_files):
    files = lstm_last_files
    output = str(files["dir"] / "y.npz")
    result = run("verify", files["spec"], "--weights", files["weights"], "--input", files["x"], "--output", output)
    assert result.exit_code == 0, result.output
    assert "weights: " + files["weights"] in result.output
    with np.load(output) as written:
        assert sorted(written.files) == ["lstm"]
        np.testing.assert_allclose(written["lstm"], files["outputs"]["lstm"], atol=1e-5, rtol=0)
    assert "(4, 3)" in result.output  # the batch comes from the input array


def test_multi_output_layers_are_keyed_name_i(tmp_path):
    spec = tmp_path / "state.yaml"
    spec.write_text("input: [5, 4]\nlayers: ['LSTM(3, return_state=True)']\n", encoding="utf-8")
    output = str(tmp_path / "y.npz")
    assert run("verify", str(spec), "--output", output).exit_code == 0
    with np.load(output) as written:
        assert sorted(written.files) == ["lstm[0]", "lstm[1]", "lstm[2]"]
        # the output is the last h: lstm[0] equals lstm[1]
        np.testing.assert_array_equal(written["lstm[0]"], written["lstm[1]"])


def bad_files(files):
    weights = dict(files["weights_arrays"])
    missing = {key: value for key, value in weights.items() if key != "lstm/bias"}
    renamed = dict(missing, **{"lstm/biass": weights["lstm/bias"]})
    reshaped = dict(weights, **{"lstm/kernel": weights["lstm/kernel"][:, :4]})
    directory = files["dir"]
    (directory / "garbage.npz").write_bytes(b"not a zip file")
    np.save(directory / "wrong_rank.npy", np.zeros((4, 5)))
    np.save(directory / "wrong_features.npy", np.zeros((4, 5, 7)))
    np.save(directory / "one_array.npy", np.zeros(3))
    return {
        "missing": ["--weights", write_npz(directory / "missing.npz", missing)],
        "renamed": ["--weights", write_npz(directory / "renamed.npz", renamed)],
        "reshaped": ["--weights", write_npz(directory / "reshaped.npz", reshaped)],
        "garbage": ["--weights", str(directory / "garbage.npz")],
        "npy-weights": ["--weights", str(directory / "one_array.npy")],
        "wrong-rank": ["--input", str(directory / "wrong_rank.npy")],
        "wrong-features": ["--input", str(directory / "wrong_features.npy")],
    }


# (case, expected code, words the message must contain)
BAD_FILE_CASES = [
    ("missing", "V003", "lack 1 of the model's 3 weight(s): lstm/bias"),
    ("renamed", "V003", "Did you mean `lstm/bias`"),
    ("reshaped", "V003", "`lstm/kernel` has shape (4, 4)"),
    ("garbage", "V003", "Cannot read the weights file"),
    ("npy-weights", "V003", "holds one array; the weights are several, named"),
    ("wrong-rank", "V004", "has shape (4, 5)"),
    ("wrong-features", "V004", "the model takes (None, 5, 4)"),
]


@pytest.mark.parametrize("case, code, words", BAD_FILE_CASES, ids=[c[0] for c in BAD_FILE_CASES])
def test_bad_files_are_diagnostics_not_tracebacks(lstm_last_files, case, code, words):
    arguments = bad_files(lstm_last_files)[case]
    result = run("verify", lstm_last_files["spec"], *arguments)
    assert result.exit_code == 1, result.output
    assert f"error[{code}]" in result.output
    assert words in result.output
    assert "Traceback" not in result.output


def test_embedding_indices_outside_input_dim(tmp_path):
    spec = tmp_path / "tokens.yaml"
    spec.write_text("input: {shape: [3], dtype: int32}\nlayers: ['Embedding(5, 2)']\n", encoding="utf-8")
    np.save(tmp_path / "ids.npy", np.array([[1, 2, 7]]))
    result = run("verify", str(spec), "--input", str(tmp_path / "ids.npy"))
    assert result.exit_code == 1
    assert "error[V004]" in result.output and "indices[0, 2] = 7 is not in [0, 5)" in result.output


# (id, arguments, exit code)
EXIT_CODES = [
    ("valid", ["verify", SEED_001], 0),
    ("valid-json", ["verify", SEED_001, "--format", "json"], 0),
    ("sizes", ["verify", SEED_001, "--batch-size", "3", "--timesteps", "4", "--seed", "5"], 0),
    ("invalid-model", ["verify", SEED_000], 1),
    ("memory", ["verify", SEED_001, "--max-memory", "10K"], 1),
    ("missing-spec", ["verify", "no/such.yaml"], 2),
    ("missing-weights", ["verify", SEED_001, "--weights", "no/such.npz"], 2),
    ("bad-memory-size", ["verify", SEED_001, "--max-memory", "lots"], 2),
    ("bad-batch", ["verify", SEED_001, "--batch-size", "0"], 2),
    ("unknown-format", ["verify", SEED_001, "--format", "xml"], 2),
]


@pytest.mark.parametrize("case_id, arguments, code", EXIT_CODES, ids=[c[0] for c in EXIT_CODES])
def test_exit_codes(case_id, arguments, code):
    result = run(*arguments)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output


def test_sizes_do_not_apply_with_input_arrays(lstm_last_files):
    result = run("verify", lstm_last_files["spec"], "--input", lstm_last_files["x"], "--batch-size", "3")
    assert result.exit_code == 2
    assert "the input arrays' shapes set the batch size" in result.output


def test_json_document():
    document = json.loads(run("verify", str(SPECS / "text_classifier_masking.yaml"), "--format", "json").output)
    assert document["schema"] == "lstmcalc.verify/1"
    assert (document["ok"], document["batch_size"], document["timesteps"], document["seed"]) == (True, 2, 7, 0)
    assert document["weights"] == "random (seed 0)"
    assert document["inputs"][0]["tensors"][0] == {
        "reference": "tokens", "propagated": [None, None], "expected": [2, 7], "computed": [2, 7],
        "propagated_masked": False, "computed_masked": False, "keras_differs": False, "agrees": True}
    assert [layer["status"] for layer in document["layers"]] == ["agrees"] * 3
    assert document["outputs"] == {"dense": [2, 1]}
    assert document["memory"]["max_memory"] == 1 << 30
    assert document["diagnostics"] == []


@pytest.mark.parametrize("name", ["cnn_lstm", "text_classifier_masking", "seed_000_stacked_lstm"])
def test_golden_tables(golden, name):
    result = run("verify", str(SPECS / f"{name}.yaml"), "--color", "never")
    golden(f"verify/{name}.txt", result.output.replace(str(SPECS), "specs"))


def test_golden_memory_refusal(golden):
    result = run("verify", SEED_001, "--max-memory", "100K", "--batch-size", "64")
    golden("verify/memory_refusal.txt", result.output.replace(str(SPECS), "specs"))


def test_verify_imports_numpy_only_when_it_runs():
    """Building the command line (as `lstmcalc summary` does) never imports NumPy."""
    import subprocess
    import sys

    code = ("import sys\nimport lstmcalc.cli, lstmcalc.verify, lstmcalc.render.verify_table\n"
            "sys.stderr.write('numpy' if 'numpy' in sys.modules else 'clean')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.strip().endswith("clean")


def test_installed_command_end_to_end():
    import subprocess

    from .test_cli import _installed_command

    result = subprocess.run(_installed_command() + ["verify", str(SPECS / "cnn_lstm.yaml")], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert "✓ All 8 tensors agree" in result.stdout


def test_json_format_does_not_import_rich():
    import subprocess
    import sys

    code = ("import sys\nfrom lstmcalc.cli import main\ntry:\n"
            f"    main(['verify', {SEED_001!r}, '--format', 'json'])\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('rich' if 'rich' in sys.modules else 'clean')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.strip().endswith("clean")


def test_colour_on_request():
    assert "\x1b[" in run("verify", SEED_001, "--color", "always").output
    assert "\x1b[" not in run("verify", SEED_001).output


def test_every_verify_renderer_is_registered():
    from lstmcalc.render import VERIFY_RENDERERS

    assert set(VERIFY_RENDERERS) == {"table", "json"}


# (id, layers on input [3, 8], exit code, diagnostics (code, severity))
KERAS_RUNTIME_CASES = [
    # glu halves the last axis: Keras declares (None, 3, 8) but computes (2, 3, 4); nothing follows
    ("glu-last", ["Activation('glu')"], 0, [("V006", "warning")]),
    # ... and the Dense after it fails in Keras at run time: an error, the Dense is not run
    ("glu-then-dense", ["Activation('glu')", "Dense(2)"], 1, [("V006", "error")]),
    # in an LSTM(4) the halved gates cannot broadcast: Keras fails when it runs
    ("glu-in-lstm", ["LSTM(4, activation='glu')"], 1, [("V005", "error")]),
    # threshold needs two more arguments Keras cannot give it from a name: rejected too
    ("threshold", ["Dense(2, activation='threshold')"], 1, [("S006", "error")]),
]


@pytest.mark.parametrize("case_id, layers, code, found", KERAS_RUNTIME_CASES, ids=[c[0] for c in KERAS_RUNTIME_CASES])
def test_what_keras_cannot_run(tmp_path, case_id, layers, code, found):
    spec = tmp_path / "model.yaml"
    spec.write_text(json.dumps({"input": [3, 8], "layers": layers}), encoding="utf-8")
    result = run("verify", str(spec), "--format", "json")
    assert result.exit_code == code, result.output
    document = json.loads(result.output)
    findings = document["model_diagnostics"] + document["diagnostics"]
    assert [(d["code"], d["severity"]) for d in findings] == found


@pytest.mark.parametrize("shape", [
    (256, 8000),    # 2,048,000 values: a vocabulary-sized Dense kernel, 31 periods and a part
    (20000, 128),   # 2,560,000: an Embedding table
    (64, 1024),     # 65,536: one value more than a period
])
def test_large_random_weights_repeat_a_prime_block_without_equal_columns(shape):
    from lstmcalc.verify.run import RANDOM_PERIOD, _uniform

    array = _uniform(np.random.default_rng(0), -0.5, 0.5, shape, "float32")
    flat = array.ravel()
    assert array.shape == shape and array.dtype == np.float32
    assert -0.5 <= array.min() and array.max() < 0.5
    assert np.array_equal(flat[RANDOM_PERIOD:], flat[:flat.size - RANDOM_PERIOD])
    # Rows narrower than the (prime) period never line up with it: no two columns are equal.
    columns = array[:, :min(shape[1], 2048)].T
    assert len(np.unique(columns, axis=0)) == len(columns)


def test_embedding_counts_negative_indices_from_the_end():
    """Keras's ops.take wraps a negative index (-1 is the last row; TensorFlow, JAX and torch
    alike), and mask_zero compares the input before its cast to int32 (random-65-186: floats in
    [-1, 1) into an Embedding run in Keras)."""
    from lstmcalc import analyze_text

    report = analyze_text("input: {shape: [6]}\nlayers: ['Embedding(5, 2, mask_zero=True)']\n")
    ids = np.array([[0.5, 0.0, -0.3, -1.0, -5.0, 4.7]], dtype="float32")
    result = verify_report(report, VerifyOptions(inputs={"input_layer": ids}))
    assert result.ok, [d.message for d in result.diagnostics]
    assert list(next(iter(result.outputs.values())).shape) == [1, 6, 2]
    # -6 is outside [-5, 5): Keras's gather fails
    result = verify_report(report, VerifyOptions(inputs={"input_layer": ids - 5.5}))
    assert [d.code for d in result.diagnostics] == ["V004"]
