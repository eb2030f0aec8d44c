"""The command line: exit codes (click's CliRunner) and end-to-end runs of the installed command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from lstmcalc.cli import cli

from .conftest import SPECS, heavy_modules_imported

SEED_001 = str(SPECS / "seed_001_stacked_lstm.yaml")
SEED_000 = str(SPECS / "seed_000_stacked_lstm.yaml")


def run(*args: str, input: str = None):
    return CliRunner().invoke(cli, list(args), input=input)


# (id, arguments, exit code)
EXIT_CODES = [
    ("valid-spec", ["summary", SEED_001], 0),
    ("valid-json", ["summary", SEED_001, "--format", "json"], 0),
    ("valid-markdown", ["summary", SEED_001, "--format", "markdown"], 0),
    ("rejected-spec", ["summary", SEED_000], 1),
    ("rejected-json", ["summary", SEED_000, "--format", "json"], 1),
    ("command-line-model", ["summary", "--input", "50,10", "LSTM(128, return_sequences=True)", "LSTM(64)",
                            "Dense(1)"], 0),
    ("command-line-rejected", ["summary", "--input", "10,5", "LSTM(50)", "LSTM(10)"], 1),
    ("command-line-bad-layer", ["summary", "--input", "10,5", "LSTM(units='x')"], 1),
    ("missing-file", ["summary", "no/such/spec.yaml"], 2),
    ("no-arguments", ["summary"], 2),
    ("two-specs", ["summary", SEED_001, SEED_000], 2),
    ("bad-input-shape", ["summary", "--input", "50,ten", "LSTM(4)"], 2),
    ("input-without-layers", ["summary", "--input", "50,10"], 2),
    ("unknown-format", ["summary", SEED_001, "--format", "xml"], 2),
    ("bad-batch-size", ["summary", SEED_001, "--batch-size", "0"], 2),
    ("unknown-option", ["summary", SEED_001, "--bogus"], 2),
    ("unknown-command", ["summarise", SEED_001], 2),
]


@pytest.mark.parametrize("case_id, arguments, code", EXIT_CODES, ids=[c[0] for c in EXIT_CODES])
def test_exit_codes(case_id, arguments, code):
    result = run(*arguments)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output


def test_command_line_model_equals_the_spec():
    from_spec = json.loads(run("summary", str(SPECS / "seed_000_return_sequences.yaml"), "--format",
                               "json").output)
    from_args = json.loads(run("summary", "--input", "10,5", "LSTM(50, return_sequences=True)",
                               "LSTM(10)", "Dense(1, activation='sigmoid')", "--format", "json").output)
    assert from_spec["totals"] == from_args["totals"]
    assert [l["output_shapes"] for l in from_spec["layers"]] == [l["output_shapes"] for l in from_args["layers"]]


def test_json_document_for_seed_001():
    document = json.loads(run("summary", SEED_001, "--format", "json").output)
    assert document["schema"] == "lstmcalc.summary/1"
    assert document["ok"] is True
    assert document["inputs"] == [{"name": "input_layer", "shape": [None, 50, 10], "dtype": "float32"}]
    assert [layer["params"] for layer in document["layers"]] == [71168, 49408, 8320, 8256, 65]
    assert document["layers"][0]["weights"] == [
        {"name": "kernel", "shape": [10, 512], "trainable": True, "dtype": "float32"},
        {"name": "recurrent_kernel", "shape": [128, 512], "trainable": True, "dtype": "float32"},
        {"name": "bias", "shape": [512], "trainable": True, "dtype": "float32"},
    ]
    assert document["totals"]["params"] == 137217
    assert document["totals"]["param_bytes"] == 137217 * 4
    assert document["outputs"] == ["output[0]"]
    assert document["diagnostics"] == []


def test_json_document_for_an_invalid_model():
    result = run("summary", SEED_000, "--format", "json")
    document = json.loads(result.output)
    assert result.exit_code == 1 and document["ok"] is False
    first = [d for d in document["diagnostics"] if d["severity"] == "error"][0]
    assert first["layer"] == "lstm_1" and first["code"] == "H001"
    assert (first["line"], first["column"]) == (10, 5)
    assert document["layers"][0]["output_shapes"] == [[None, 50]]


def test_spec_from_stdin():
    text = (SPECS / "seed_001_stacked_lstm.yaml").read_text()
    result = run("summary", "-", "--format", "json", input=text)
    assert result.exit_code == 0 and json.loads(result.output)["totals"]["params"] == 137217


def test_batch_size_option_overrides():
    document = json.loads(run("summary", SEED_001, "--batch-size", "32", "--format", "json").output)
    assert document["inputs"][0]["shape"] == [32, 50, 10]
    assert document["layers"][-1]["output_shapes"] == [[32, 1]]


def test_no_colour_when_not_a_terminal():
    output = run("summary", SEED_001).output
    assert "\x1b[" not in output
    assert 'Model: "seed-001-stacked-lstm"' in output


def test_colour_on_request():
    assert "\x1b[" in run("summary", SEED_001, "--color", "always").output


def test_no_color_environment_wins(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run("summary", SEED_001, "--color", "auto").output


def _installed_command():
    found = shutil.which("lstmcalc", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    return [found] if found else [sys.executable, "-m", "lstmcalc"]


def test_installed_command_end_to_end():
    result = subprocess.run(_installed_command() + ["summary", SEED_001], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Total params: 137,217 (536.00 KB)" in result.stdout


def test_installed_command_rejects_seed_000():
    result = subprocess.run(_installed_command() + ["summary", SEED_000], capture_output=True, text=True)
    assert result.returncode == 1
    assert "lstm_1" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "lstmcalc", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "lstmcalc" in result.stdout


def test_summary_does_not_import_numpy():
    assert heavy_modules_imported(["summary", SEED_001], ("numpy",)) == "clean"


def test_summary_defines_no_dataclass():
    # Defining a dataclass costs about a millisecond (lstmcalc/records.py says why); a summary
    # imports none.
    assert heavy_modules_imported(["summary", SEED_001, "--format", "json"], ("dataclasses",)) == "clean"


def test_json_format_does_not_import_rich():
    assert heavy_modules_imported(["summary", SEED_001, "--format", "json"]) == "clean"


def test_keras_summary_does_not_import_pytorch_modules():
    # A Keras spec pays only for the layer families it uses (issue 12's start-up target).
    assert heavy_modules_imported(["summary", SEED_001, "--format", "json"],
                                  ("lstmcalc.layers.torch_module", "lstmcalc.layers.torch_nn")) == "clean"


def test_entry_point_collects_rarely_and_freezes_at_exit():
    # lstmcalc.__main__.main (the console script and `python -m lstmcalc`) raises Python's cycle
    # collection thresholds before importing anything and freezes the heap at exit; the check
    # runs from an atexit handler, after main has returned.
    probe = ("import atexit, gc, sys\n"
             "atexit.register(lambda: sys.stderr.write(f'{gc.get_threshold()} {gc.get_freeze_count() > 0}'))\n"
             "from lstmcalc.__main__ import COLLECTION_THRESHOLDS, main\n"
             "assert 'click' not in sys.modules\n"
             "main(['--version'])\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("(200000, 20, 20) True")


def test_installed_command_writes_whole_files(tmp_path):
    # The heap frozen at exit must lose nothing: a file written by a command is complete.
    out = tmp_path / "model.py"
    result = subprocess.run(_installed_command() + ["convert", SEED_001, "--to", "keras", "-o", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    written = out.read_text()
    assert written.rstrip().endswith(")") and "LSTM(" in written
    piped = subprocess.run(_installed_command() + ["convert", SEED_001, "--to", "keras"], capture_output=True,
                           text=True)
    assert piped.stdout.strip() == written.strip()
