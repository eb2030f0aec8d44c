"""Bad and hostile input (issue 12): every case ends at once with lstmcalc's own diagnostic and the
right exit status — never a traceback, a hang or the memory filling up."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from click.testing import CliRunner

from lstmcalc.cli import cli
from lstmcalc.spec.files import MAX_SPEC_BYTES, read_limited

from .conftest import SPECS
from .test_cli import _installed_command

SEED_001 = SPECS / "seed_001_stacked_lstm.yaml"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def invoke(*args: str, input=None, env=None):
    result = CliRunner().invoke(cli, list(args), input=input, env=env)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def diagnostics(output: str):
    """The diagnostics of a `summary --format json` or `check --format json` document."""
    document = json.loads(output)
    if "files" in document:
        return [d for item in document["files"] for d in item["diagnostics"]]
    return document["diagnostics"]


def codes(output: str):
    return [d["code"] for d in diagnostics(output)]


# -- files that are not specs ---------------------------------------------------------------------


def _fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


def _broken_link(tmp_path):
    path = tmp_path / "broken.yaml"
    path.symlink_to(tmp_path / "nowhere.yaml")
    return path


def _too_large(tmp_path):
    path = tmp_path / "large.yaml"
    with open(path, "wb") as handle:
        handle.truncate(MAX_SPEC_BYTES + 1)  # sparse: no 10 MiB written
    return path


# (id, how to make the path, code, words of the message)
NOT_SPECS = [
    ("device", lambda tmp_path: "/dev/zero", "S017", "/dev/zero is a character device, not a spec file"),
    ("fifo", _fifo, "S017", "is a FIFO (named pipe), not a spec file"),
    ("broken-link", _broken_link, "S017", "is a broken symbolic link (to "),
    ("too-large", _too_large, "S018", "is 10,485,761 bytes; lstmcalc reads specs of at most 10,485,760 bytes"),
]


@pytest.mark.parametrize("command", ["summary", "explain", "verify"])
@pytest.mark.parametrize("case_id, make, code, words", NOT_SPECS, ids=[case[0] for case in NOT_SPECS])
def test_files_that_are_not_specs_end_at_once(tmp_path, command, case_id, make, code, words):
    path = str(make(tmp_path))
    if not os.path.exists("/dev/zero") and case_id == "device":
        pytest.skip("no /dev/zero")
    arguments = [command, path] + (["--format", "json"] if command != "verify" else [])
    result = invoke(*arguments)
    assert result.exit_code == 1
    text = " ".join(result.output.split())  # explain wraps its lines
    assert words in text and (f"[{code}]" in text or f'"{code}"' in text)


@pytest.mark.parametrize("case_id, make, code, words", NOT_SPECS, ids=[case[0] for case in NOT_SPECS])
def test_check_reports_them_as_findings_and_goes_on(tmp_path, case_id, make, code, words):
    path = str(make(tmp_path))
    if not os.path.exists("/dev/zero") and case_id == "device":
        pytest.skip("no /dev/zero")
    result = invoke("check", path, str(SEED_001), "--format", "json", "--no-verify")
    assert result.exit_code == 1
    files = json.loads(result.output)["files"]
    assert [item["file"] for item in files] == [os.path.normpath(path), str(SEED_001)]
    [finding] = files[0]["diagnostics"]
    assert finding["code"] == code and words in finding["message"]
    assert files[1]["ok"] is True


def test_a_broken_link_inside_a_checked_directory(tmp_path):
    (tmp_path / "good.yaml").write_text(SEED_001.read_text())
    _broken_link(tmp_path)
    result = invoke("check", str(tmp_path), "--format", "parsable", "--no-verify")
    assert result.exit_code == 1
    assert result.output == (f"{tmp_path / 'broken.yaml'}:1:1: [error] S017 {tmp_path / 'broken.yaml'} is a "
                             f"broken symbolic link (to {tmp_path / 'nowhere.yaml'}).\n")


def test_permission_denied(tmp_path, monkeypatch):
    spec = tmp_path / "locked.yaml"
    spec.write_text(SEED_001.read_text())
    real_open = os.open

    def denied(path, *args, **kwargs):
        if os.fspath(path) == str(spec):
            raise PermissionError(13, "Permission denied", str(spec))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    for command in ("summary", "explain", "verify"):
        result = invoke(command, str(spec))
        assert result.exit_code == 1
        text = " ".join(result.output.split())  # explain wraps its lines
        assert "S017" in text and f"Cannot open {spec}: Permission denied." in text
    result = invoke("check", str(spec), "--format", "parsable")
    assert result.exit_code == 1
    assert result.output == f"{spec}:1:1: [error] S017 Cannot open {spec}: Permission denied.\n"


@pytest.mark.skipif(IS_ROOT or not hasattr(os, "geteuid"), reason="root reads every file")
def test_permission_denied_end_to_end(tmp_path):
    spec = tmp_path / "locked.yaml"
    spec.write_text(SEED_001.read_text())
    spec.chmod(0)
    result = subprocess.run(_installed_command() + ["summary", str(spec)], capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "S017" in result.stdout and "Permission denied" in result.stdout


def test_unreadable_folder_is_not_said_to_hold_no_specs(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    import lstmcalc.check as check_module

    def walk(top, onerror=None, **kwargs):
        onerror(PermissionError(13, "Permission denied", str(folder)))
        return iter(())

    monkeypatch.setattr(check_module.os, "walk", walk)
    result = invoke("check", str(folder), "--format", "parsable")
    assert result.exit_code == 1
    assert result.output == (f"{folder}:1:1: [error] S017 Cannot read the folder {folder}: Permission denied; "
                             "its specs were not checked.\n")


def test_read_limited_refuses_before_reading(tmp_path):
    path = _too_large(tmp_path)
    with pytest.raises(Exception) as raised:
        read_limited(str(path))
    assert raised.value.code == "S018"
    with pytest.raises(FileNotFoundError):
        read_limited(str(tmp_path / "missing.yaml"))


def test_device_end_to_end_is_immediate():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    result = subprocess.run(_installed_command() + ["summary", "/dev/zero"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.endswith("error[S017] /dev/zero: /dev/zero is a character device, not a spec file; "
                                  "lstmcalc reads regular files only.\n  hint: Give the path of a YAML spec (or "
                                  "`-` to read one from standard input).\n")


def test_standard_input_is_limited_too():
    result = invoke("summary", "-", "--format", "json", input=b"#" * (MAX_SPEC_BYTES + 1))
    assert result.exit_code == 1
    [finding] = diagnostics(result.output)
    assert finding["code"] == "S018" and finding["file"] == "<stdin>"
    assert finding["message"].startswith("<stdin> holds more than 10,485,760 bytes")


# -- YAML that would explode or nest without end ---------------------------------------------------


def _bomb(levels: int, width: int = 9) -> str:
    lines = ["input: [10, 5]", "layers: [LSTM(4)]", "description:",
             "  a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"  a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [7, 9, 30])
def test_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit(levels):
    # a0 is 10 nodes (the list and 9 scalars), a1 = 1 + 9 * 10 = 91, a2 = 820, a3 = 7,381,
    # a4 = 66,430. The aliases of a1..a4 stand for 90 + 819 + 7,380 + 66,429 = 74,718 nodes; the
    # first *a4 of a5 adds 66,430 more: 141,148 > 100,000, refused there (line 9, column 12).
    result = invoke("summary", "-", "--format", "json", input=_bomb(levels))
    assert result.exit_code == 1
    [finding] = diagnostics(result.output)
    assert (finding["code"], finding["line"], finding["column"]) == ("S019", 9, 12)
    assert finding["message"].startswith("The alias *a4 repeats the anchor &a4 (line 8, column 7), which stands "
                                         "for 66,430 nodes: with the aliases before it, the document would "
                                         "expand to 141,179 nodes from the 31 written;")
    assert "'billion laughs'" in finding["message"]


def test_alias_bomb_end_to_end(tmp_path):
    spec = tmp_path / "bomb.yaml"
    spec.write_text(_bomb(9))
    for command in (["summary"], ["check", "--format", "parsable"], ["verify"], ["explain"]):
        result = subprocess.run(_installed_command() + command + [str(spec)], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 1 and result.stderr == "", (command, result.stderr)
        assert "S019" in result.stdout


def test_aliases_are_shared_not_copied():
    from lstmcalc.spec.source import load_yaml

    document = load_yaml("a: &x {units: 4}\nb: *x\nc: [*x, *x]\n", "f.yaml")
    assert document["b"] is document["a"] and document["c"][0] is document["a"]
    assert document.value_location("b").line == 2  # where the alias is written


def test_merge_keys_let_the_mapping_override():
    from lstmcalc.spec.source import load_yaml

    document = load_yaml("base: &b {units: 4, activation: relu}\nlayer: {<<: *b, units: 8}\n", "f.yaml")
    assert document["layer"] == {"units": 8, "activation": "relu"}
    assert document["layer"].value_location("units").column == 24


@pytest.mark.parametrize("text, code, line, column, words", [
    ("a: &a [1, *a]\n", "S019", 1, 11, "The alias *a is inside its own anchor &a"),
    ("[" * 150 + "]" * 150 + "\n", "S019", 1, 101, "nested more than 100 levels deep"),
    ("- " * 150 + "x\n", "S019", 1, 201, "nested more than 100 levels deep"),
    ("a: *nowhere\n", "S001", 1, 4, "found undefined alias *nowhere"),
    ("a: 1\n---\nb: 2\n", "S001", 2, 1, "a second YAML document"),
    ("? [a]\n: 1\n", "S002", 1, 3, "A mapping key must be a plain name"),
    ("x: &k [1]\n*k : 2\n", "S002", 2, 1, "A mapping key must be a plain name"),
    ("a: {<<: 5}\n", "S002", 1, 9, "`<<` merges a mapping"),
    ("a: !!python/object:os.system ls\n", "S001", 1, 4, "could not determine a constructor"),
])
def test_yaml_that_cannot_be_a_spec(text, code, line, column, words):
    result = invoke("summary", "-", "--format", "json", input=text)
    assert result.exit_code == 1
    found = [(d["code"], d["line"], d["column"]) for d in diagnostics(result.output)]
    assert found[0] == (code, line, column), found
    assert words in diagnostics(result.output)[0]["message"]


def test_deep_nesting_is_refused_before_the_document_is_read():
    # 100,000 levels: libyaml reads the events without recursion; lstmcalc stops at level 101.
    result = invoke("summary", "-", "--format", "json", input="[" * 100_000 + "]" * 100_000 + "\n")
    assert result.exit_code == 1 and codes(result.output) == ["S019"]


def test_exponent_numbers_are_numbers():
    # YAML 1.2 (and editors) read 1e9 as a number; PyYAML's YAML 1.1 rules read a string.
    result = invoke("summary", "-", "--format", "json", input="input: [10, 5]\nlayers:\n  - {type: LSTM, units: 1e9}\n")
    assert result.exit_code == 1
    [finding] = diagnostics(result.output)
    assert (finding["code"], finding["line"], finding["column"]) == ("S005", 3, 18)
    assert finding["message"] == "LSTM: `units` must be a whole number, got the number 1000000000.0."
    assert finding["hint"] == "Write `units: 1000000000`."


# -- names that would act on the terminal ----------------------------------------------------------

ESCAPING = ('name: "\\e]0;title\\a\\e[2Jmodel"\ninput: [10, 5]\nlayers:\n'
            '  - {type: Dense, units: 4, name: "\\e[2J\\e[31mred"}\n'
            '  - {type: LSTM, units: 0, name: "bad\\u202eyaml.exe"}\n')


@pytest.mark.parametrize("arguments", [
    ["summary"], ["summary", "--format", "markdown"], ["summary", "--color", "always"],
    ["summary", "--columns", "params,macs"],
    ["check", "--format", "text"], ["check", "--format", "text", "--color", "always"],
    ["check", "--format", "parsable"], ["check", "--format", "github"],
    ["explain"], ["explain", "--format", "markdown"], ["verify"], ["verify", "--color", "always"],
])
def test_control_characters_in_names_are_shown_escaped(tmp_path, arguments):
    spec = tmp_path / "escape.yaml"
    spec.write_text(ESCAPING)
    result = invoke(*arguments[:1], str(spec), *arguments[1:])
    assert result.exit_code == 1
    output = result.output
    if "--color" in arguments:
        # rich's own colour sequences are the only escapes: ESC [ digits (;digits) m
        import re
        output = re.sub("\x1b\\[[0-9;]*m", "", output)
    assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output, output
    flat = " ".join(output.split())
    if arguments[0] in ("summary", "explain") and "markdown" not in arguments:
        assert "\\x1b[2J\\x1b[31mred" in flat
    assert "bad\\u202eyaml.exe" in flat or "check" in arguments or "verify" in arguments


def test_json_keeps_the_names_exact_and_escaped_by_json(tmp_path):
    spec = tmp_path / "escape.yaml"
    spec.write_text(ESCAPING)
    result = invoke("summary", str(spec), "--format", "json")
    assert "\x1b" not in result.output  # JSON writes \u001b
    document = json.loads(result.output)
    assert document["name"] == "\x1b]0;title\x07\x1b[2Jmodel"
    assert document["layers"][0]["name"] == "\x1b[2J\x1b[31mred"


# -- layer names and wrapped layers ----------------------------------------------------------------


@pytest.mark.parametrize("layers, names", [
    # Each entry takes its default name whether or not it can be built (docs/diagnostics.md).
    (["LSTM(4, return_sequences=True)", "LSTM(units=-1)", "LSTM(4)"], ["lstm", "lstm_1", "lstm_2"]),
    (["LSTM(-1, return_sequences=True)", "LSTM(4)"], ["lstm", "lstm_1"]),
    (["Dense(4, foo=1)", "Dense(3)"], ["dense", "dense_1"]),
    # The wrapped LSTM is built (and named) before its wrapper, as in Keras code.
    (["Bidirectional(LSTM(-8, return_sequences=True))", "LSTM(2)"], ["bidirectional", "lstm_1"]),
    (["LTSM(4, return_sequences=True)", "LSTM(2)"], ["lstm", "lstm_1"]),       # the probable type's name
    (["Blorp(4)", "LSTM(2)"], ["layers[0]", "lstm"]),                         # no probable type: no name
])
def test_default_names_do_not_depend_on_which_layers_failed(layers, names):
    result = invoke("summary", "--input", "10,5", *layers, "--format", "json")
    assert result.exit_code == 1
    assert [layer["name"] for layer in json.loads(result.output)["layers"]] == names


@pytest.mark.parametrize("spec, line, column, message", [
    ("input: [10, 5]\nlayers:\n  - type: Bidirectional\n    layer:\n      type: LSTM\n      units: 0\n", 6, 7,
     "In `layer` of bidirectional (Bidirectional): LSTM: `units` must be a positive whole number, got 0."),
    ('input: [10, 5]\nlayers:\n  - "Bidirectional(LSTM(-8))"\n', 3, 25,
     "In `layer` of bidirectional (Bidirectional): LSTM: `units` must be a positive whole number, got -8."),
    ("input: [10, 5]\nlayers:\n  - {type: Bidirectional, name: bi, layer: {type: GRU, units: 2, bogus: 1}}\n", 3, 66,
     "In `layer` of bi (Bidirectional): GRU has no argument `bogus`."),
    ("input: [10, 5, 3]\nlayers:\n  - TimeDistributed(Bidirectional(LSTM(0)))\n", 3, 40,
     "In `layer` of time_distributed (TimeDistributed): In `layer` of bidirectional (Bidirectional): LSTM: "
     "`units` must be a positive whole number, got 0."),
])
def test_errors_inside_a_wrapped_layer_name_the_wrapper(spec, line, column, message):
    result = invoke("summary", "-", "--format", "json", input=spec)
    assert result.exit_code == 1
    [finding] = diagnostics(result.output)
    layer = "bi" if "name: bi" in spec else message.split(" of ")[1].split(" ")[0]
    assert (finding["layer"], finding["line"], finding["column"], finding["message"]) == (layer, line, column, message)


# -- Concatenate's axis ------------------------------------------------------------------------------


@pytest.mark.parametrize("inputs, axis, message, hint", [
    # Keras 3.15 builds these and fails with an IndexError when called (recorded by hand:
    # Concatenate(axis=3) on two (None, 10, 4)); -3 joins along the batch axis, which Keras accepts.
    ("{a: [10, 4], b: [10, 4]}", 3, "`axis` 3 is outside inputs of rank 3 (batch axis included): "
     "[(None, 10, 4), (None, 10, 4)]. Keras fails with an IndexError.", "Use an axis from -3 to 2"),
    ("{a: [4], b: [4]}", 2, "`axis` 2 is outside inputs of rank 2 (batch axis included): [(None, 4), (None, 4)]. "
     "Keras fails with an IndexError.", "Use an axis from -2 to 1"),
    ("{a: [4], b: [4]}", -3, "`axis` -3 is outside inputs of rank 2", "Use an axis from -2 to 1"),
    ("{a: [4], b: [4]}", 10 ** 20, "`axis` 100000000000000000000 is outside inputs of rank 2", "Use an axis"),
    ("{a: [10, 4], b: [4]}", -1, "Received: input_shape=[(None, 10, 4), (None, 4)]. The inputs have different "
     "ranks: 3 and 2 (batch axis included).", "Give every input the same rank"),
])
def test_concatenate_axis_outside_the_rank(inputs, axis, message, hint):
    spec = f"inputs: {inputs}\nlayers:\n  - {{type: Concatenate, axis: {axis}, inputs: [a, b]}}\n"
    result = invoke("summary", "-", "--format", "json", input=spec)
    assert result.exit_code == 1
    [finding] = diagnostics(result.output)
    assert (finding["code"], finding["layer"], finding["line"]) == ("H004", "concatenate", 3)
    assert message in finding["message"] and finding["hint"].startswith(hint)


def test_concatenate_on_the_batch_axis_is_accepted():
    spec = "inputs: {a: [10, 4], b: [10, 4]}\nlayers:\n  - {type: Concatenate, axis: -3, inputs: [a, b]}\n"
    result = invoke("summary", "-", "--format", "json", input=spec)
    assert result.exit_code == 0
    assert json.loads(result.output)["layers"][0]["output_shapes"] == [[None, 10, 4]]


@pytest.mark.parametrize("output_format", ["json", "sarif"])
def test_check_reports_a_bad_axis_and_every_other_file(tmp_path, output_format):
    bad = tmp_path / "bad.yaml"
    bad.write_text("inputs: {a: [10, 4], b: [10, 4]}\nlayers:\n  - {type: Concatenate, axis: 3, inputs: [a, b]}\n")
    result = invoke("check", str(bad), str(SEED_001), "--format", output_format)
    assert result.exit_code == 1
    document = json.loads(result.output)
    if output_format == "json":
        assert [item["ok"] for item in document["files"]] == [False, True]
    else:
        assert [r["ruleId"] for r in document["runs"][0]["results"]] == ["H004"]
