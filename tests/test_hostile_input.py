"""Bad and hostile input (issue 12): every case ends at once with lstmcalc's own diagnostic and the
right exit status — never a traceback, a hang or the memory filling up."""

from __future__ import annotations

import json
import os
import subprocess

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
    ("device", lambda tmp_path: "/dev/zero", "S026", "/dev/zero is a character device, not a spec file"),
    ("fifo", _fifo, "S026", "is a FIFO (named pipe), not a spec file"),
    ("broken-link", _broken_link, "S026", "is a broken symbolic link (to "),
    ("too-large", _too_large, "S027", "is 10,485,761 bytes; lstmcalc reads specs of at most 10,485,760 bytes"),
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
    assert result.output == (f"{tmp_path / 'broken.yaml'}:1:1: [error] S026 {tmp_path / 'broken.yaml'} is a "
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
        assert "S026" in text and f"Cannot open {spec}: Permission denied." in text
    result = invoke("check", str(spec), "--format", "parsable")
    assert result.exit_code == 1
    assert result.output == f"{spec}:1:1: [error] S026 Cannot open {spec}: Permission denied.\n"


@pytest.mark.skipif(IS_ROOT or not hasattr(os, "geteuid"), reason="root reads every file")
def test_permission_denied_end_to_end(tmp_path):
    spec = tmp_path / "locked.yaml"
    spec.write_text(SEED_001.read_text())
    spec.chmod(0)
    result = subprocess.run(_installed_command() + ["summary", str(spec)], capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "S026" in result.stdout and "Permission denied" in result.stdout


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
    assert result.output == (f"{folder}:1:1: [error] S026 Cannot read the folder {folder}: Permission denied; "
                             "its specs were not checked.\n")


def test_read_limited_refuses_before_reading(tmp_path):
    path = _too_large(tmp_path)
    with pytest.raises(Exception) as raised:
        read_limited(str(path))
    assert raised.value.code == "S027"
    with pytest.raises(FileNotFoundError):
        read_limited(str(tmp_path / "missing.yaml"))


def test_device_end_to_end_is_immediate():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    result = subprocess.run(_installed_command() + ["summary", "/dev/zero"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.endswith("error[S026] /dev/zero: /dev/zero is a character device, not a spec file; "
                                  "lstmcalc reads regular files only.\n  hint: Give the path of a YAML spec (or "
                                  "`-` to read one from standard input).\n")


def test_standard_input_is_limited_too():
    result = invoke("summary", "-", "--format", "json", input=b"#" * (MAX_SPEC_BYTES + 1))
    assert result.exit_code == 1
    [finding] = diagnostics(result.output)
    assert finding["code"] == "S027" and finding["file"] == "<stdin>"
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
    assert (finding["code"], finding["line"], finding["column"]) == ("S028", 9, 12)
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
        assert "S028" in result.stdout


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
    ("a: &a [1, *a]\n", "S028", 1, 11, "The alias *a is inside its own anchor &a"),
    ("[" * 150 + "]" * 150 + "\n", "S028", 1, 101, "nested more than 100 levels deep"),
    ("- " * 150 + "x\n", "S028", 1, 201, "nested more than 100 levels deep"),
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
    assert result.exit_code == 1 and codes(result.output) == ["S028"]


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


# -- one verdict, sizes, options -----------------------------------------------------------------------

ZERO_STEPS = "input: [0, 5]\nlayers: [LSTM(4)]\n"


@pytest.mark.parametrize("command", [["summary", "--format", "json"], ["check", "--format", "json"],
                                     ["verify", "--format", "json"], ["explain", "--format", "json"]])
def test_zero_time_steps_one_verdict_one_hint(tmp_path, command):
    # Keras builds it but cannot run it (tests/fixtures/keras/run_reference.json, lstm-zero-steps).
    spec = tmp_path / "zero.yaml"
    spec.write_text(ZERO_STEPS)
    result = invoke(command[0], str(spec), *command[1:])
    assert result.exit_code == 1
    found = [d for d in diagnostics(result.output) if d["severity"] == "error"] if command[0] != "verify" else \
        json.loads(result.output)["model_diagnostics"]
    [finding] = found
    assert (finding["code"], finding["layer"], finding["line"], finding["column"]) == ("H012", "lstm", 2, 10)
    assert finding["hint"].startswith("Give the input at least one time step, e.g. `input: [10, 5]`")
    assert "--timesteps" not in finding["hint"]


@pytest.mark.parametrize("arguments, words", [
    (["--input", "10,5", "LSTM(12345678901234567890123456789012345678)"],
     "its weight `kernel` would have (5, 49382715604938271560493827156049382712) = "),
    (["--input", "10,5", "Dense(9223372036854775807)"], "(5, 9223372036854775807) = 46,116,860,184,273,879,035 elements"),
    (["--input", "5", "RepeatVector(9223372036854775807)"], "elements per sample, 2**63 or more"),
])
def test_sizes_no_framework_can_build_are_refused(arguments, words):
    result = invoke("summary", *arguments, "--format", "json")
    assert result.exit_code == 1
    [finding] = diagnostics(result.output)
    assert finding["code"] == "H011" and words in finding["message"]


def test_an_input_dimension_of_2_63_is_refused():
    result = invoke("summary", "--input", "9223372036854775808,5", "LSTM(4)", "--format", "json")
    assert result.exit_code == 1
    assert diagnostics(result.output)[0]["message"].startswith(
        "Dimension 0 of the input shape is 9,223,372,036,854,775,808, 2**63 or more")


def test_huge_counts_are_exact_in_json_and_whole_in_the_table():
    # LSTM(10**9) on 5 features: 4 × (10**9 × (5 + 10**9) + 10**9) = 4,000,000,024,000,000,000.
    json_result = invoke("summary", "--input", "10,5", "LSTM(1000000000)", "--format", "json")
    assert json_result.exit_code == 0
    assert json.loads(json_result.output)["totals"]["params"] == 4_000_000_024_000_000_000
    table = invoke("summary", "--input", "10,5", "LSTM(1000000000)").output
    assert "│ lstm (LSTM)               │ (None, 1000000000)          │  4,000,000,024,000,000,000 │" in table
    assert "…" not in table


def test_a_narrow_terminal_wraps_cells_not_lines():
    result = invoke("summary", str(SPECS / "seq2seq.yaml"), env={"COLUMNS": "60"})
    lines = result.output.splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│├└"]
    assert table and all(len(line) <= 60 for line in table), max(map(len, table))
    assert "│ encoder       │ [(None,      │   394,240 │ enc_emb[0][0] │" in lines
    # Piped without COLUMNS: Keras's own widths (108 for a graph).
    assert max(len(line) for line in invoke("summary", str(SPECS / "seq2seq.yaml")).output.splitlines()
               if line[:1] == "│") == 108
    verify = invoke("verify", str(SEED_001), env={"COLUMNS": "60"}).output.splitlines()
    assert all(len(line) <= 60 for line in verify if line[:1] in "┏┃┡│├└")


@pytest.mark.parametrize("env, arguments, coloured", [
    ({"FORCE_COLOR": "1"}, [], True),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, [], False),   # NO_COLOR wins, as in rich and CPython
    ({"FORCE_COLOR": "1"}, ["--color", "never"], False),
    ({"FORCE_COLOR": ""}, [], False),                      # set but empty: not forced
    ({}, ["--color", "always"], True),
])
def test_force_color(env, arguments, coloured):
    for command in (["summary", str(SEED_001)], ["check", str(SPECS / "seq2seq.yaml"), "--no-verify"],
                    ["verify", str(SEED_001)]):
        result = invoke(*command, *arguments, env=dict({"NO_COLOR": None, "FORCE_COLOR": None}, **env))
        assert ("\x1b[" in result.output) == coloured, (command, env)


def test_verify_seed_must_not_be_negative():
    result = invoke("verify", str(SEED_001), "--seed", "-1")
    assert result.exit_code == 2
    assert "Invalid value for '--seed': -1 is not in the range x>=0." in result.output


def test_dtype_option_is_checked_as_a_spec_dtype_is():
    from_option = invoke("summary", "--input", "10,5", "--dtype", "foo", "LSTM(4)", "--format", "json")
    from_spec = invoke("summary", "-", "--format", "json",
                       input="input: {shape: [10, 5], dtype: foo}\nlayers: [LSTM(4)]\n")
    # A spec's dtype makes the model invalid (exit 1); the option's is a usage error (exit 2), with
    # the same list of dtypes.
    assert (from_option.exit_code, from_spec.exit_code) == (2, 1)
    [spec_finding] = diagnostics(from_spec.output)
    assert spec_finding["code"] == "S010"
    assert spec_finding["message"].startswith("Unknown dtype 'foo' for `dtype`; an input's dtype is one of")
    listed = spec_finding["message"].split("is one of ")[1].rstrip(".")
    assert f"Invalid value for '--dtype': unknown dtype 'foo'; an input's dtype is one of {listed}" in \
        " ".join(from_option.output.split())
    assert json.loads(invoke("summary", "--input", "10", "--dtype", "int32", "Embedding(10, 4)", "--format",
                             "json").output)["inputs"][0]["dtype"] == "int32"


# -- the verifier's array files ---------------------------------------------------------------------


def _arrays(tmp_path, name, **arrays):
    import numpy as np

    path = tmp_path / name
    if name.endswith(".npy"):
        np.save(path, next(iter(arrays.values())))
    else:
        np.savez(path, *arrays.pop("positional", []), **arrays)
    return str(path)


def test_input_npz_keyed_by_another_name_says_which_keys(tmp_path):
    import numpy as np

    path = _arrays(tmp_path, "x.npz", tokens=np.zeros((2, 50, 10), "float32"))
    result = invoke("verify", str(SEED_001), "--input", path, "--format", "json")
    assert result.exit_code == 1
    [finding] = json.loads(result.output)["diagnostics"]
    assert finding["code"] == "V004"
    assert finding["message"] == (f"The input arrays in {path} are keyed ['tokens']; the model's inputs are "
                                  "['input_layer'], so the keys must be ['input_layer'].")
    assert "np.savez('x.npz', input_layer=...)" in finding["hint"]
    # An unnamed array (np.savez('x.npz', x) keys it arr_0) is the one input.
    unnamed = _arrays(tmp_path, "unnamed.npz", positional=[np.zeros((2, 50, 10), "float32")])
    assert invoke("verify", str(SEED_001), "--input", unnamed).exit_code == 0


def test_input_of_the_wrong_length_names_the_axis(tmp_path):
    import numpy as np

    path = _arrays(tmp_path, "short.npy", x=np.zeros((2, 40, 10), "float32"))
    result = invoke("verify", str(SEED_001), "--input", path, "--format", "json")
    assert result.exit_code == 1
    [finding] = json.loads(result.output)["diagnostics"]
    assert finding["hint"] == ("Axis 1 has length 40, the model fixes it to 50: give arrays of that length (or "
                               "make the spec's length null).")


@pytest.mark.parametrize("option", ["--input", "--weights"])
def test_a_file_that_is_not_numpys_is_not_called_pickled_data(tmp_path, option):
    path = tmp_path / "corrupt.npz"
    path.write_bytes(b"hello, not an archive")
    result = invoke("verify", str(SEED_001), option, str(path), "--format", "json")
    assert result.exit_code == 1
    [finding] = json.loads(result.output)["diagnostics"]
    assert "pickled" not in finding["message"]
    assert finding["message"].endswith("it is neither a .npy file (which starts with \\x93NUMPY) nor a .npz archive "
                                       "(PK); it starts with 'hello,'.")


def test_a_fifo_as_input_file_does_not_block(tmp_path):
    fifo = _fifo(tmp_path)
    result = invoke("verify", str(SEED_001), "--input", str(fifo), "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.output)["diagnostics"][0]["message"].endswith("it is a FIFO (named pipe), not a file "
                                                                          "of arrays.")


# -- messages that misled -------------------------------------------------------------------------------


@pytest.mark.parametrize("spec, code, line, column, message, hint", [
    ('name: ""\ninput: [10, 5]\nlayers: [LSTM(4)]\n', "S006", 1, 7, "`name` is empty.",
     'Give the model a name, e.g. name: "my-model", or leave `name:` out.'),
    ("name: 5\ninput: [10, 5]\nlayers: [LSTM(4)]\n", "S005", 1, 7, "`name` must be a string, got the number 5.",
     'Quote it: name: "5".'),
    ('input: [10, 5]\nlayers:\n  - {type: LSTM, units: 4, name: ""}\n', "S006", 3, 28, "LSTM: `name` is empty.",
     'Give it a value, e.g. `name: "encoder"`, or leave `name` out.'),
    ("inputs: [[10, 5]]\nlayers: [LSTM(4)]\n", "S010", 1, 10,
     "Entry 0 of `inputs:` is a shape without a name; each input of a graph needs a name, which its layers refer to.",
     "Write `inputs: {x: [10, 5]}` (a mapping of names to shapes), or `input: [10, 5]` for a plain stack of layers."),
    ("input: [10, 5]\nlayers:\n  - Input((30, 8))\n  - LSTM(4)\n", "S019", 3, 5,
     "`Input(...)` is the model's input, not a layer.",
     "Remove this entry and declare the input at the top level: `input: [30, 8]` (the shape without the batch "
     "axis); on the command line, --input 30,8."),
])
def test_messages_that_misled(spec, code, line, column, message, hint):
    result = invoke("summary", "-", "--format", "json", input=spec)
    assert result.exit_code == 1
    found = diagnostics(result.output)
    assert [(d["code"], d["line"], d["column"], d["message"], d["hint"]) for d in found] == [
        (code, line, column, message, hint)]
