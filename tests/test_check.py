"""`lstmcalc check`: exit statuses, file discovery, formats (golden files), --update-expect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from lstmcalc.check import CheckOptions, UsageProblem, execute, spec_files
from lstmcalc.cli import cli
from lstmcalc.render import CHECK_RENDERERS, RenderOptions, get_renderer

from .conftest import ROOT, SPECS

FIXTURES = ROOT / "tests" / "fixtures" / "check"
SEED_000 = "specs/seed_000_stacked_lstm.yaml"


def run(*args: str, env=None):
    return CliRunner().invoke(cli, ["check", *args], env=env)


@pytest.fixture
def repo(monkeypatch):
    """Run from the repository root, so paths (and .lstmcalc.yaml) are the repository's."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


# (id, arguments, exit status)
EXIT_CODES = [
    ("bundled-specs-pass", ["specs/"], 0),
    ("bundled-specs-strict", ["specs/", "--strict"], 0),
    ("seed-000-named-explicitly", [SEED_000], 1),
    ("seed-000-force-excluded", [SEED_000, "--force-exclude", "specs/seed_001_stacked_lstm.yaml"], 0),
    ("clean-fixture", ["tests/fixtures/check/clean.yaml"], 0),
    ("errors", ["tests/fixtures/check/problems.yaml"], 1),
    ("glob", ["tests/fixtures/check/*.yaml"], 1),
    ("glob-clean", ["tests/fixtures/check/c*.yaml"], 0),
    ("missing-path", ["no/such/spec.yaml"], 2),
    ("glob-matches-nothing", ["specs/*.json"], 2),
    ("no-paths", [], 2),
    ("unknown-format", ["specs/", "--format", "xml"], 2),
    ("missing-config", ["specs/", "--config", "no/such/config.yaml"], 2),
]


@pytest.mark.parametrize("case_id, arguments, status", EXIT_CODES, ids=[case[0] for case in EXIT_CODES])
def test_exit_codes(repo, case_id, arguments, status):
    result = run(*arguments)
    assert result.exit_code == status, result.output
    assert "Traceback" not in result.output


def test_seed_000_fails_at_the_second_lstm(repo):
    result = run(SEED_000, "--format", "json")
    assert result.exit_code == 1
    [file] = json.loads(result.output)["files"]
    errors = [d for d in file["diagnostics"] if d["severity"] == "error"]
    # line 10: `  - {type: LSTM, units: 10, ...}`, the entry starts at column 5
    assert [(d["code"], d["layer"], d["line"], d["column"]) for d in errors] == [("H001", "lstm_1", 10, 5)]


def test_warnings_fail_only_with_strict(tmp_path):
    spec = tmp_path / "warn.yaml"
    spec.write_text("input: [null, 4]\nlayers:\n  - {type: LSTM, units: 3, unroll: true}\n")
    assert run(str(spec)).exit_code == 0
    assert run(str(spec), "--strict").exit_code == 1


def test_strict_from_the_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "warn.yaml").write_text("input: [null, 4]\nlayers:\n  - {type: LSTM, units: 3, unroll: true}\n")
    (tmp_path / ".lstmcalc.yaml").write_text("strict: true\n")
    assert run("warn.yaml").exit_code == 1


def test_unreadable_file_is_a_finding_not_a_crash(tmp_path):
    spec = tmp_path / "latin1.yaml"
    spec.write_bytes("name: caf\xe9\n".encode("latin-1"))
    result = run(str(spec), "--format", "parsable")
    assert result.exit_code == 1
    assert result.output.startswith(f"{spec}:1:1: [error] S001 The file is not UTF-8 text")


# -- discovery -----------------------------------------------------------------------------------


def _tree(tmp_path):
    for path in ("a.yaml", "sub/b.yml", "sub/notes.txt", ".hidden/c.yaml", "sub/.d.yaml", "skip/e.yaml"):
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("input: [3, 2]\nlayers: [LSTM(2)]\n")


def test_directories_give_yaml_files_below_them_but_not_hidden_ones(tmp_path, monkeypatch):
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    files, excluded = spec_files(["."], [("skip", str(tmp_path))])
    assert sorted(files) == ["a.yaml", "sub/b.yml"]
    assert excluded == ["skip/e.yaml"]


def test_explicit_files_are_checked_even_when_excluded(tmp_path, monkeypatch):
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    exclusions = [("skip/*", str(tmp_path))]
    assert spec_files(["skip/e.yaml"], exclusions) == (["skip/e.yaml"], [])
    assert spec_files(["skip/e.yaml"], exclusions, force_exclude=True) == ([], ["skip/e.yaml"])


def test_recursive_glob_and_duplicates(tmp_path, monkeypatch):
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    files, _ = spec_files(["**/*.y*ml", "a.yaml"])
    assert sorted(files) == ["a.yaml", "skip/e.yaml", "sub/b.yml"]


def test_exclude_option_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = execute(CheckOptions(paths=["."], exclude=["sub"]))
    assert sorted(item.file for item in result.files) == ["a.yaml", "skip/e.yaml"]
    assert result.excluded == ["sub/b.yml"]


@pytest.mark.parametrize("config, message", [
    ("exclude: specs\n", "`exclude` must be a list"),
    ("strict: yes please\n", "`strict` must be true or false"),
    ("excludes: [a]\n", "expected a mapping with the keys"),
    ("exclude: [a\n", "not valid YAML"),
])
def test_bad_config_is_a_usage_error(tmp_path, config, message):
    path = tmp_path / "config.yaml"
    path.write_text(config)
    with pytest.raises(UsageProblem, match=message):
        execute(CheckOptions(paths=[str(SPECS)], config=str(path)))
    result = run(str(SPECS), "--config", str(path))
    assert result.exit_code == 2 and message.split("`")[0] in result.output


# -- formats -------------------------------------------------------------------------------------


@pytest.fixture
def fixture_result(repo):
    return execute(CheckOptions(paths=["tests/fixtures/check"]))


def test_every_format_is_registered():
    assert set(CHECK_RENDERERS) == {"text", "parsable", "json", "github", "sarif"}


@pytest.mark.parametrize("output_format", sorted(CHECK_RENDERERS))
def test_format_golden(fixture_result, output_format, golden):
    text = get_renderer(output_format, CHECK_RENDERERS)(fixture_result, RenderOptions())
    # SARIF names the checkout it ran in (%SRCROOT%): the same file wherever the repository is.
    text = text.replace(ROOT.as_uri() + "/", "file:///checkout/")
    suffix = {"json": "json", "sarif": "sarif.json"}.get(output_format, "txt")
    golden(f"check/fixtures.{output_format}.{suffix}" if output_format not in ("json", "sarif")
           else f"check/fixtures.{suffix}", text)


def test_parsable_lines(fixture_result):
    lines = get_renderer("parsable", CHECK_RENDERERS)(fixture_result, RenderOptions()).splitlines()
    assert lines[0].startswith("tests/fixtures/check/problems.yaml:6:23: [info] L006 ")
    assert lines[-1].startswith("tests/fixtures/check/rejected.yaml:5:5: [error] H001 lstm_1 (LSTM) expects")


def test_github_escapes_and_levels(fixture_result):
    lines = get_renderer("github", CHECK_RENDERERS)(fixture_result, RenderOptions()).splitlines()
    assert lines[0].startswith("::notice file=tests/fixtures/check/problems.yaml,line=6,col=23,"
                               "title=L006 mask-zero-vocabulary (embedding)::")
    assert any(line.startswith("::error file=tests/fixtures/check/rejected.yaml,line=5,col=5,") for line in lines)
    assert all("\n" not in line for line in lines) and "%0Ahint: " in lines[0]


def test_sarif_is_2_1_0_with_rules_and_regions(fixture_result):
    document = json.loads(get_renderer("sarif", CHECK_RENDERERS)(fixture_result, RenderOptions()))
    assert document["version"] == "2.1.0"
    run_ = document["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert [r["ruleId"] for r in run_["results"]] == ["L006", "L001", "X001", "H001"]


def test_json_lists_every_file(fixture_result):
    document = json.loads(get_renderer("json", CHECK_RENDERERS)(fixture_result, RenderOptions()))
    assert document["schema"] == "lstmcalc.check/1" and document["ok"] is False
    assert [item["file"] for item in document["files"]] == [
        "tests/fixtures/check/clean.yaml", "tests/fixtures/check/problems.yaml",
        "tests/fixtures/check/rejected.yaml"]
    assert document["files"][0] == {"file": "tests/fixtures/check/clean.yaml", "ok": True, "model": "clean",
                                    "params": 120641, "verified": True, "updated": [], "diagnostics": []}
    assert document["summary"] == {"files": 3, "errors": 2, "warnings": 1, "info": 1, "excluded": 0,
                                   "not_verified": 0}


def test_github_format_is_chosen_inside_github_actions(repo):
    result = run("tests/fixtures/check/rejected.yaml", env={"GITHUB_ACTIONS": "true"})
    assert result.output.startswith("::error file=tests/fixtures/check/rejected.yaml,line=5,col=5,")
    assert run("tests/fixtures/check/rejected.yaml").output.startswith("tests/fixtures/check/rejected.yaml\n")


def test_text_is_coloured_only_on_request(repo):
    assert "\x1b[" not in run("tests/fixtures/check/rejected.yaml").output
    assert "\x1b[" in run("tests/fixtures/check/rejected.yaml", "--color", "always").output


def test_check_does_not_import_numpy(repo):
    code = ("import sys\nfrom lstmcalc.cli import main\ntry:\n    main(['check', 'specs/', '--format', 'json', '--no-verify'])\n"
            "except SystemExit:\n    pass\n"
            "sys.stderr.write(' '.join(m for m in ('numpy', 'rich') if m in sys.modules) or 'clean')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stderr.strip().endswith("clean")


# -- --update-expect -----------------------------------------------------------------------------

STALE = textwrap.dedent("""\
    # A spec whose numbers went stale: lstm2 grew from 64 to 65 units.
    name: stale   # keep me
    input: {shape: [50, 10], name: input_layer}
    layers:
      - {type: LSTM, units: 128, return_sequences: true, name: lstm1}
      - {type: LSTM, units: 65, name: lstm2}      # was 64
      - {type: Dense, units: 1, name: output}
    expect:
      params: 120641            # total, from model.summary()
      trainable_params: 120641
      output_shape:
        - null
        - 1                     # one probability
      layers:
        lstm2:
          params: 49408         # 4 × (64 × (128 + 64) + 64)
          output_shape: [null, 64]
        # lstm1 is not pinned
    # trailing comment
    """)


def test_update_expect_rewrites_only_the_numbers(tmp_path):
    spec = tmp_path / "stale.yaml"
    spec.write_text(STALE)
    assert run(str(spec)).exit_code == 1
    result = run(str(spec), "--update-expect")
    assert result.exit_code == 0, result.output
    # lstm2: 4 × (65 × (128 + 65) + 65) = 50,440; total 71,168 + 50,440 + 66 = 121,674
    assert spec.read_text() == STALE.replace("params: 120641      ", "params: 121674      ") \
        .replace("trainable_params: 120641", "trainable_params: 121674") \
        .replace("params: 49408", "params: 50440").replace("[null, 64]", "[null, 65]")
    assert "updated expect.layers.lstm2.params: 49408 → 50440" in result.output
    assert run(str(spec), "--update-expect").output == "✓ 1 file passed\n"  # nothing left to change


def test_update_expect_adds_a_block_when_there_is_none(tmp_path):
    spec = tmp_path / "new.yaml"
    spec.write_text("input: [10, 5]   # a comment\nlayers:\n  - LSTM(8)\n")
    assert run(str(spec), "--update-expect").exit_code == 0
    # LSTM(8) on 5 features: 4 × (8 × (5 + 8) + 8) = 448
    assert spec.read_text() == ("input: [10, 5]   # a comment\nlayers:\n  - LSTM(8)\nexpect:\n  params: 448\n"
                                "  trainable_params: 448\n  non_trainable_params: 0\n  output_shape: [null, 8]\n")


@pytest.mark.parametrize("block", ["expect:\n", "expect: {}\n", "expect: null\n", "expect:   # fill me\n"])
def test_update_expect_fills_an_empty_block(tmp_path, block):
    spec = tmp_path / "empty.yaml"
    spec.write_text("input: [10, 5]\nlayers:\n  - LSTM(8)\n" + block)
    assert run(str(spec), "--update-expect").exit_code == 0
    text = spec.read_text()
    assert "params: 448" in text and "output_shape: [null, 8]" in text
    assert ("# fill me" in text) == ("# fill me" in block)
    assert run(str(spec), "--strict").exit_code == 0


def test_update_expect_switches_to_output_shapes_for_several_outputs(tmp_path):
    spec = tmp_path / "states.yaml"
    spec.write_text("input: [10, 5]\nlayers:\n  - LSTM(8, return_state=True)\nexpect:\n  output_shape: [null, 8]\n")
    assert run(str(spec)).exit_code == 1
    assert run(str(spec), "--update-expect").exit_code == 0
    assert spec.read_text().endswith("  output_shapes: [[null, 8], [null, 8], [null, 8]]\n")


def test_update_expect_leaves_invalid_models_alone(tmp_path):
    spec = tmp_path / "bad.yaml"
    text = "input: [10, 5]\nlayers:\n  - LSTM(50)\n  - LSTM(10)\nexpect:\n  params: 1\n"
    spec.write_text(text)
    result = run(str(spec), "--update-expect")
    assert result.exit_code == 1 and spec.read_text() == text


def test_update_expect_keeps_crlf_line_endings(tmp_path):
    spec = tmp_path / "crlf.yaml"
    spec.write_bytes(b"input: [10, 5]\r\nlayers:\r\n  - LSTM(8)\r\nexpect:\r\n  params: 1  # old\r\n")
    assert run(str(spec), "--update-expect").exit_code == 0
    assert spec.read_bytes() == b"input: [10, 5]\r\nlayers:\r\n  - LSTM(8)\r\nexpect:\r\n  params: 448  # old\r\n"


def test_update_expect_block_sequence_keeps_its_comment(tmp_path):
    spec = tmp_path / "block.yaml"
    spec.write_text("input: [10, 5]\nlayers:\n  - LSTM(8)\n  - Dense(2)\nexpect:\n  output_shape:\n    - null\n"
                    "    - 1                     # one probability\n# end\n")
    assert run(str(spec), "--update-expect").exit_code == 0
    assert spec.read_text().endswith("  output_shape:\n    [null, 2]                     # one probability\n# end\n")


def test_installed_command_end_to_end():
    from .test_cli import _installed_command

    result = subprocess.run(_installed_command() + ["check", "specs/"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    checked = len(list((ROOT / "specs").glob("*.yaml"))) - 1  # seed 000's stack is excluded
    assert result.stdout.endswith(f"✓ {checked} files (1 excluded) passed (0 errors, 0 warnings, 2 info)\n")
    result = subprocess.run(_installed_command() + ["check", SEED_000, "--format", "github"], capture_output=True,
                            text=True, cwd=ROOT, env={**os.environ, "GITHUB_ACTIONS": "false"})
    assert result.returncode == 1
    assert result.stdout.startswith(f"::error file={SEED_000},line=10,col=5,title=H001 rank-mismatch (lstm_1)::")


def test_pre_commit_hook_runs_check():
    import re

    import yaml

    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "lstmcalc-check" and hook["entry"].split()[:2] == ["lstmcalc", "check"]
    assert re.search(hook["files"], "specs/seed_001_stacked_lstm.yaml")
    assert re.search(hook["files"], "models/specs/a.yml") and not re.search(hook["files"], ".github/ci.yaml")
    options = hook["entry"].split()[2:]
    assert run(*options, "specs/seed_001_stacked_lstm.yaml").exit_code == 0


# -- linter behaviour people expect (issue 12) ---------------------------------------------------


def test_a_file_named_after_its_folder_is_checked(repo):
    # The repository's .lstmcalc.yaml excludes seed 000 from the folder; named, it is checked,
    # whichever comes first.
    for arguments in (["specs/", SEED_000], [SEED_000, "specs/"]):
        result = run(*arguments, "--format", "json", "--no-verify")
        assert result.exit_code == 1, arguments
        document = json.loads(result.output)
        assert SEED_000 in [item["file"] for item in document["files"]]
        specs = len(list((ROOT / "specs").glob("*.yaml")))  # every spec: the excluded one is named
        assert document["summary"]["files"] == specs and document["summary"]["excluded"] == 0


def test_check_reads_standard_input(repo):
    result = CliRunner().invoke(cli, ["check", "-", "--format", "parsable"],
                                input=(ROOT / SEED_000).read_text())
    assert result.exit_code == 1
    assert result.output.startswith("<stdin>:10:5: [error] H001 lstm_1 (LSTM) expects a 3-D input")
    clean = CliRunner().invoke(cli, ["check", "-"], input=(SPECS / "seed_001_stacked_lstm.yaml").read_text())
    assert clean.exit_code == 0 and clean.output == "✓ 1 file passed\n"
    refused = CliRunner().invoke(cli, ["check", "-", "--update-expect"], input="")
    assert refused.exit_code == 2 and "cannot rewrite standard input" in refused.output


WARNS = "input: [null, 4]\nlayers:\n  - {type: LSTM, units: 3, unroll: true}\n"  # T002, a warning


def _repository(tmp_path):
    """repo/.git, repo/.lstmcalc.yaml (excludes `drafts`), repo/models/a.yaml, repo/models/drafts/b.yaml,
    repo/models/strict/.lstmcalc.yaml (strict) with c.yaml; and outside/.lstmcalc.yaml above it all."""
    (tmp_path / ".lstmcalc.yaml").write_text("strict: true\nexclude: [models]\n")  # above the repository
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".lstmcalc.yaml").write_text("exclude: [drafts]\n")
    for path in ("models/a.yaml", "models/drafts/b.yaml", "models/strict/c.yaml"):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(WARNS)
    (repo / "models" / "strict" / ".lstmcalc.yaml").write_text("strict: true\n")
    return repo


def test_configuration_is_found_from_each_file_up_to_the_repository_root(tmp_path, monkeypatch):
    repo = _repository(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = execute(CheckOptions(paths=[str(repo / "models")], passes=()))
    # drafts/ excluded by repo/.lstmcalc.yaml (found walking up from models/); the file above the
    # repository (which would exclude everything) is never read.
    assert [item.file for item in result.files] == [str(repo / "models/a.yaml"), str(repo / "models/strict/c.yaml")]
    assert result.excluded == [str(repo / "models/drafts/b.yaml")]
    # The closest configuration wins: only c.yaml's folder is strict, so only its warning fails.
    assert [item.failed for item in result.files] == [False, True] and result.failed
    monkeypatch.chdir(repo)
    assert run("models/a.yaml", "--no-verify").exit_code == 0
    assert run("models/strict/c.yaml", "--no-verify").exit_code == 1
    # --config applies one file to everything, with no discovery.
    (tmp_path / "lenient.yaml").write_text("strict: false\n")
    assert run("models/strict/c.yaml", "--no-verify", "--config", str(tmp_path / "lenient.yaml")).exit_code == 0


def test_a_bad_discovered_configuration_is_a_usage_error(tmp_path, monkeypatch):
    repo = _repository(tmp_path)
    (repo / "models" / "strict" / ".lstmcalc.yaml").write_text("strict: maybe\n")
    monkeypatch.chdir(repo)
    result = run("models/", "--no-verify")
    assert result.exit_code == 2
    assert f"{repo / 'models' / 'strict' / '.lstmcalc.yaml'}: `strict` must be true or false" in result.output


@pytest.mark.parametrize("pattern, excluded", [
    ("seq2seq.yaml", ["specs/seq2seq.yaml"]),                      # a name matches at any depth
    ("seq2*", ["specs/seq2seq.yaml"]),
    ("specs/seq2seq.yaml", ["specs/seq2seq.yaml"]),                # a path is relative to here
    ("./specs/two_*.yaml", ["specs/two_head.yaml", "specs/two_input_concatenate.yaml"]),
    ("specs", [f"specs/{name}" for name in sorted(os.listdir(SPECS)) if name != "seed_000_stacked_lstm.yaml"]),
    ("seq2seq", []),                                               # whole names only
    ("pecs/seq2seq.yaml", []),
])
def test_exclude_matches_path_components_as_ruff_and_yamllint(repo, pattern, excluded):
    result = execute(CheckOptions(paths=["specs/"], exclude=[pattern], passes=()))
    assert sorted(result.excluded) == sorted(excluded + ["specs/seed_000_stacked_lstm.yaml"])


def test_sarif_locations_are_relative_to_srcroot_with_fingerprints(repo, tmp_path):
    document = json.loads(run("tests/fixtures/check/", "--format", "sarif", "--no-verify").output)
    [run_] = document["runs"]
    assert run_["originalUriBaseIds"] == {"%SRCROOT%": {"uri": ROOT.as_uri() + "/"}}
    for result in run_["results"]:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%" and artifact["uri"].startswith("tests/fixtures/check/")
        assert len(result["partialFingerprints"]["lstmcalc/v1"]) == 32
    # A file outside the working directory is an absolute file:// URI; spaces are percent-encoded.
    outside = tmp_path / "my specs" / "bad.yaml"
    outside.parent.mkdir()
    outside.write_text("input: [10, 5]\nlayers: [LSTM(0)]\n")
    [result] = json.loads(run(str(outside), "--format", "sarif").output)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": outside.as_uri()}
    assert "%20" in outside.as_uri()


def test_sarif_fingerprint_survives_a_moved_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "spec.yaml"
    spec.write_text("input: [10, 5]\nlayers: [LSTM(0)]\n")
    first = json.loads(run("spec.yaml", "--format", "sarif").output)["runs"][0]["results"][0]
    spec.write_text("# a comment moves everything down\n\ninput: [10, 5]\nlayers: [LSTM(0)]\n")
    second = json.loads(run("spec.yaml", "--format", "sarif").output)["runs"][0]["results"][0]
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert second["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert first["partialFingerprints"] == second["partialFingerprints"]


def test_update_expect_on_a_read_only_file_is_a_finding(tmp_path, monkeypatch):
    locked = tmp_path / "locked.yaml"
    locked.write_text(STALE)
    other = tmp_path / "other.yaml"
    other.write_text(STALE)
    real_open = open

    def read_only(path, mode="r", *args, **kwargs):
        if os.fspath(path) == str(locked) and "w" in mode:
            raise PermissionError(13, "Permission denied", str(locked))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", read_only)
    result = run(str(locked), str(other), "--update-expect", "--format", "json", "--no-verify")
    assert result.exit_code == 1, result.output
    locked_check, other_check = json.loads(result.output)["files"]
    assert locked.read_text() == STALE and other.read_text() != STALE  # the other file is still updated
    assert locked_check["diagnostics"][0]["code"] == "X007"  # at 1:1, then the stale numbers (X001, ...)
    [finding] = [d for d in locked_check["diagnostics"] if d["code"] == "X007"]
    assert finding["message"] == (f"--update-expect cannot write the new expectations to {locked}: Permission "
                                  "denied; the file is unchanged.")
    assert other_check["updated"] and not locked_check["updated"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes read-only files")
def test_update_expect_read_only_end_to_end(tmp_path):
    from .test_cli import _installed_command

    locked = tmp_path / "locked.yaml"
    locked.write_text(STALE)
    locked.chmod(0o444)
    result = subprocess.run(_installed_command() + ["check", str(locked), "--update-expect"], capture_output=True,
                            text=True)
    assert result.returncode == 1 and "X007" in result.stdout and result.stderr == ""


MEMORY_HUNGRY = "input: [100000, 512]\nlayers:\n  - {type: LSTM, units: 2048, return_sequences: true}\n"


@pytest.mark.parametrize("output_format, words", [
    ("text", "✓ 1 file passed (0 errors, 1 warning, 0 info); 1 file not verified\n"),
    ("parsable", ":1:8: [warning] V002 Not verified: the forward pass would need about "),
    ("github", "lstmcalc check: 0 error(s), 1 warning(s), 0 info in 1 file(s), 1 not verified\n"),
    ("json", '"not_verified": 1'),
    ("sarif", '"text": "Not verified: the forward pass would need about '),
])
def test_a_file_too_large_to_verify_is_said_not_verified_in_every_format(tmp_path, output_format, words):
    spec = tmp_path / "big.yaml"
    spec.write_text(MEMORY_HUNGRY)
    result = run(str(spec), "--format", output_format)
    assert result.exit_code == 0 and words in result.output
    assert run(str(spec), "--strict").exit_code == 1
    if output_format == "json":
        assert json.loads(result.output)["files"][0]["verified"] is False
