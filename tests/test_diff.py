"""`lstmcalc diff`: layer matching and changes as data, golden files in every format (invalid
models included), exit codes, and `--rev` in a scratch git repository."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

import lstmcalc
from lstmcalc.cli import cli
from lstmcalc.diff import compare
from lstmcalc.render import DIFF_RENDERERS, RenderOptions, get_renderer

from .conftest import ROOT

FIXTURES = "tests/fixtures/diff"


@pytest.fixture(autouse=True)
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # relative file names in the output, as a user types them


def diff_of(old: str, new: str):
    return compare(lstmcalc.analyze(old), lstmcalc.analyze(new))


def text_diff(old_text: str, new_text: str):
    return compare(lstmcalc.analyze_text(old_text, file="old.yaml"), lstmcalc.analyze_text(new_text, file="new.yaml"))


STACK = """
name: stack
input: [10, 5]
layers:
  - {type: LSTM, name: first, units: 50, return_sequences: true}
  - {type: LSTM, name: second, units: 10}
  - {type: Dense, name: out, units: 1}
"""


# (id, new spec, expected [(change, old name, new name)], expected settings of one layer, param delta)
MATCHING = [
    ("same", STACK, [("unchanged", "first", "first"), ("unchanged", "second", "second"),
                     ("unchanged", "out", "out")], None, 0),
    # out renamed head: same position and type.
    ("renamed", STACK.replace("name: out", "name: head"),
     [("unchanged", "first", "first"), ("unchanged", "second", "second"), ("renamed", "out", "head")], None, 0),
    # second: 10 → 20 units: 4 × (20 × (50 + 20) + 20) − 4 × (10 × (50 + 10) + 10) = 5,680 − 2,440 = 3,240;
    # out: 20 × 1 + 1 − (10 × 1 + 1) = 10.
    ("units", STACK.replace("units: 10", "units: 20"),
     [("unchanged", "first", "first"), ("changed", "second", "second"), ("changed", "out", "out")],
     ("second", [("units", "10", "20")]), 3240 + 10),
    # A layer added in the middle: Dense(8) on (None, 10): 10 × 8 + 8 = 88; out then 8 × 1 + 1 = 9 (−2).
    ("added", STACK.replace("  - {type: Dense, name: out",
                            "  - {type: Dense, name: mid, units: 8}\n  - {type: Dense, name: out"),
     [("unchanged", "first", "first"), ("unchanged", "second", "second"), ("added", None, "mid"),
      ("changed", "out", "out")], ("out", [("inputs", "second[0]", "mid[0]")]), 88 - 2),
    # second removed: out reads first (None, 50) directly and becomes invalid? No: Dense on a sequence
    # is fine, out: 50 × 1 + 1 = 51 instead of 11 (+40), second's 2,440 go.
    ("removed", STACK.replace("  - {type: LSTM, name: second, units: 10}\n", ""),
     [("unchanged", "first", "first"), ("removed", "second", None), ("changed", "out", "out")],
     ("out", [("inputs", "second[0]", "first[0]")]), -2440 + 40),
    # Renamed and retyped in place: by name nothing matches; in order by type, LSTM ≠ GRU.
    ("retyped", STACK.replace("{type: LSTM, name: second", "{type: GRU, name: gru"),
     [("unchanged", "first", "first"), ("removed", "second", None), ("added", None, "gru"),
      ("changed", "out", "out")], None, 3 * (10 * (50 + 10) + 2 * 10) - 2440),
    # Same name, other type: a change of type; the settings both show are compared.
    ("type", STACK.replace("{type: LSTM, name: second", "{type: GRU, name: second"),
     [("unchanged", "first", "first"), ("changed", "second", "second"), ("unchanged", "out", "out")],
     ("second", [("type", "LSTM", "GRU")]), 1860 - 2440),
]


@pytest.mark.parametrize("case_id, new, layers, settings, delta", MATCHING, ids=[case[0] for case in MATCHING])
def test_layer_matching(case_id, new, layers, settings, delta):
    result = text_diff(STACK, new)
    assert [(layer.change, layer.old and layer.old.name, layer.new and layer.new.name)
            for layer in result.layers] == layers
    if settings is not None:
        name, expected = settings
        layer = next(layer for layer in result.layers if layer.name == name)
        assert [(change.name, change.old, change.new) for change in layer.settings] == expected
    assert result.new.totals.params - result.old.totals.params == delta
    assert sum(layer.params_delta for layer in result.layers) == delta
    assert result.same == (case_id == "same")


def test_wrapped_layer_settings_and_renamed_wiring():
    result = diff_of(f"{FIXTURES}/encoder_before.yaml", f"{FIXTURES}/encoder_after.yaml")
    encoder = result.layers[0]
    assert [(c.name, c.old, c.new) for c in encoder.settings] == [
        ("layer.units", "32", "48"), ("merge_mode", "'concat'", "'sum'")]
    # 2 × 4 × (48 × (8 + 48) + 48) = 21,888 against 2 × 4 × (32 × (8 + 32) + 32) = 10,496.
    assert (encoder.old_params, encoder.new_params, encoder.params_delta) == (10496, 21888, 11392)
    head = result.layers[-1]
    assert (head.change, head.old.name, head.new.name) == ("renamed", "dense", "head")
    # dropout[0] → summary[0] is a real rewiring (the Dropout is gone) ...
    assert [(c.name, c.old, c.new) for c in head.settings] == [("inputs", "dropout[0]", "summary[0]")]


def test_a_renamed_producer_is_not_a_rewiring():
    renamed = STACK.replace("name: second", "name: middle").replace("name: first", "name: start")
    result = text_diff(STACK, renamed)
    assert [layer.change for layer in result.layers] == ["renamed", "renamed", "unchanged"]
    assert all(not layer.settings for layer in result.layers)


def test_validity_change_lists_the_new_findings():
    result = diff_of("specs/seed_000_return_sequences.yaml", "specs/seed_000_stacked_lstm.yaml")
    assert (result.old.ok, result.new.ok, result.validity_changed) == (True, False, True)
    assert [(d.code, d.layer) for d in result.appeared] == [("H001", "lstm_1")]
    assert result.resolved == []
    statuses = [(layer.name, layer.old.status, layer.new.status) for layer in result.layers]
    assert statuses == [("lstm", "ok", "ok"), ("lstm_1", "ok", "error"), ("dense", "ok", "not-reached")]


def test_inputs_changes():
    result = text_diff(STACK, STACK.replace("input: [10, 5]", "input: [20, 5]"))
    assert [(item.change, item.old_shape, item.new_shape) for item in result.inputs] == [
        ("changed", (None, 10, 5), (None, 20, 5))]
    assert not result.same


# -- golden files in every format ---------------------------------------------------------------

PAIRS = [
    ("became_valid", "specs/seed_000_stacked_lstm.yaml", "specs/seed_000_return_sequences.yaml"),
    ("became_invalid", "specs/seed_000_return_sequences.yaml", "specs/seed_000_stacked_lstm.yaml"),
    ("layers_added_removed", "specs/seed_000_return_sequences.yaml", "specs/seed_000_dense.yaml"),
    ("renamed_and_wrapped", f"{FIXTURES}/encoder_before.yaml", f"{FIXTURES}/encoder_after.yaml"),
    ("unreadable", f"{FIXTURES}/unreadable.yaml", "specs/seed_000_dense.yaml"),
    ("graph_same_numbers", "specs/seed_001_stacked_lstm.yaml", "specs/seed_001_functional.yaml"),
    ("same", "specs/seq2seq.yaml", "specs/seq2seq.yaml"),
]


@pytest.mark.parametrize("output_format", list(DIFF_RENDERERS))
@pytest.mark.parametrize("name, old, new", PAIRS, ids=[pair[0] for pair in PAIRS])
def test_diff_golden(name, old, new, output_format, golden):
    result = CliRunner().invoke(cli, ["diff", old, new, "--format", output_format])
    assert result.exit_code == (0 if name == "same" else 1), result.output
    suffix = {"table": "txt", "markdown": "md", "json": "json"}[output_format]
    golden(f"diff/{name}.{suffix}", result.stdout)


def test_json_document():
    result = CliRunner().invoke(cli, ["diff", "specs/seed_000_return_sequences.yaml",
                                      "specs/seed_000_stacked_lstm.yaml", "--format", "json"])
    document = json.loads(result.stdout)
    assert document["schema"] == "lstmcalc.diff/1"
    assert (document["same"], document["validity_changed"]) == (False, True)
    assert document["totals"]["params"] == {"old": 13651, "new": 11200, "delta": -2451}
    assert [d["code"] for d in document["appeared_diagnostics"]] == ["H001"]
    second = document["layers"][1]
    assert (second["old_status"], second["new_status"], second["old_params"], second["new_params"]) == (
        "ok", "error", 2440, None)


def test_renderers_escape_control_characters():
    hostile = STACK.replace("name: out", "name: \"o\\x1b[2Jut\"")
    result = text_diff(STACK, hostile)
    for renderer in DIFF_RENDERERS:
        text = get_renderer(renderer, DIFF_RENDERERS)(result, RenderOptions())
        assert "\x1b" not in text
        if renderer == "json":  # JSON writes \u001b and keeps the real name
            assert json.loads(text)["layers"][2]["new_name"] == "o\x1b[2Jut"
        else:
            assert "out → o\\x1b[2Jut (Dense)" in text


# -- the command ---------------------------------------------------------------------------------


@pytest.mark.parametrize("arguments, message", [
    (["specs/seq2seq.yaml"], "give two specs"),
    (["specs/seq2seq.yaml", "specs/two_head.yaml", "--rev", "HEAD"], "with --rev, give one spec"),
    (["specs/seq2seq.yaml", "no-such.yaml"], "no such file: no-such.yaml"),
    (["specs/seq2seq.yaml", "specs/two_head.yaml", "--format", "xml"], "'xml' is not one of"),
    (["specs/seq2seq.yaml", "--rev", "-p"], "'-p' is not a revision"),
])
def test_usage_errors(arguments, message):
    result = CliRunner().invoke(cli, ["diff", *arguments])
    assert result.exit_code == 2
    assert message in result.stderr


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(directory, *arguments):
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c",
                    "commit.gpgsign=false", *arguments], cwd=directory, check=True, capture_output=True)


@pytest.fixture
def repository(tmp_path, monkeypatch):
    """A scratch repository with STACK committed as model.yaml, then edited (second: 20 units)."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    git(tmp_path, "init", "-q")
    (tmp_path / "models").mkdir()
    spec = tmp_path / "models" / "model.yaml"
    spec.write_text(STACK, encoding="utf-8")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "first")
    spec.write_text(STACK.replace("units: 10", "units: 20"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@needs_git
def test_rev_compares_with_the_committed_file(repository):
    result = CliRunner().invoke(cli, ["diff", "models/model.yaml", "--rev", "HEAD"])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("--- HEAD:models/model.yaml")
    assert "second (LSTM)  changed  (None, 10) → (None, 20)  2,440 → 5,680 (+3,240)" in result.stdout
    assert "    units: 10 → 20" in result.stdout


@needs_git
def test_rev_from_another_directory(repository, monkeypatch):
    monkeypatch.chdir(repository / "models")
    result = CliRunner().invoke(cli, ["diff", "model.yaml", "--rev", "HEAD", "--format", "json"])
    assert json.loads(result.stdout)["totals"]["params"]["delta"] == 3240 + 10


@needs_git
def test_rev_same_file_exits_0(repository):
    git(repository, "commit", "-q", "-am", "second")
    result = CliRunner().invoke(cli, ["diff", "models/model.yaml", "--rev", "HEAD"])
    assert result.exit_code == 0
    assert result.stdout.endswith("No differences.\n")


@needs_git
@pytest.mark.parametrize("revision, message", [
    ("no-such-branch", "unknown revision 'no-such-branch'"),
    ("HEAD~5", "unknown revision 'HEAD~5'"),
])
def test_rev_unknown_revision(repository, revision, message):
    result = CliRunner().invoke(cli, ["diff", "models/model.yaml", "--rev", revision])
    assert result.exit_code == 2
    assert message in result.stderr


@needs_git
def test_rev_file_not_in_that_revision(repository):
    (repository / "models" / "new.yaml").write_text(STACK, encoding="utf-8")
    result = CliRunner().invoke(cli, ["diff", "models/new.yaml", "--rev", "HEAD"])
    assert result.exit_code == 2
    assert "models/new.yaml does not exist at revision HEAD" in result.stderr


@needs_git
def test_rev_outside_a_repository(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.yaml").write_text(STACK, encoding="utf-8")
    result = CliRunner().invoke(cli, ["diff", "model.yaml", "--rev", "HEAD"])
    assert result.exit_code == 2
    assert "model.yaml is not inside a git repository" in result.stderr


def test_rev_without_git(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on the path
    result = CliRunner().invoke(cli, ["diff", "specs/seq2seq.yaml", "--rev", "HEAD"])
    assert result.exit_code == 2
    assert "--rev needs git" in result.stderr
