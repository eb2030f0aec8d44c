"""docs/diagnostics.md is the table of every code, checked against ``CODES`` and run as tests.

Each code's failing example must produce that code at the documented line and column with the
exit status its severity implies; its passing example must be clean even with --strict. The lint
docstrings' own examples are run the same way.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from lstmcalc.cli import cli
from lstmcalc.diagnostics import CODES, ERROR, GROUPS, INFO, WARNING
from lstmcalc.lints import LINTS

from .conftest import ROOT

DOCS = ROOT / "docs" / "diagnostics.md"
ROW = re.compile(r"^\| \[([A-Z]\d{3})\]\(#([a-z0-9-]+)\) \| ([a-z0-9-]+) \| (\w+) \| ([^|]+) \| (.+) \|$")
SECTION = re.compile(r"^### ([A-Z]\d{3}) ([a-z0-9-]+)$", re.MULTILINE)
FAILING = re.compile(r"Fails — reported at (\d+):(\d+):\s*```yaml\n(.*?)```", re.DOTALL)
PASSING = re.compile(r"Passes:\s*```yaml\n(.*?)```", re.DOTALL)


def _table():
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            code, anchor, name, severity, group, summary = match.groups()
            rows[code] = (anchor, name, severity, group.strip(), summary.strip())
    return rows


def _sections():
    text = DOCS.read_text(encoding="utf-8")
    parts = SECTION.split(text)
    # parts: [preamble, code, name, body, code, name, body, ...]
    return {parts[i]: (parts[i + 1], parts[i + 2]) for i in range(1, len(parts), 3)}


def test_the_docs_table_lists_exactly_the_codes():
    rows = _table()
    assert list(rows) == list(CODES), "docs/diagnostics.md and CODES list different codes (or order)"
    for code, entry in CODES.items():
        anchor, name, severity, group, summary = rows[code]
        assert (name, severity, group, summary) == (entry.name, entry.severity, GROUPS[entry.group],
                                                    entry.summary), code
        assert anchor == f"{code}-{entry.name}".lower()


def test_every_code_has_a_section():
    sections = _sections()
    assert list(sections) == list(CODES)
    for code, (name, _) in sections.items():
        assert name == CODES[code].name


def _examples():
    cases = []
    for code, (_, body) in _sections().items():
        if "Reserved:" in body or "Not from a spec:" in body:
            continue
        failing, passing = FAILING.search(body), PASSING.search(body)
        assert failing and passing, f"{code} needs a failing and a passing example"
        cases.append((code, int(failing.group(1)), int(failing.group(2)), failing.group(3), passing.group(1)))
    return cases


EXAMPLES = _examples()
# Exit status of a failing example, without and with --strict.
EXIT = {ERROR: (1, 1), WARNING: (0, 1), INFO: (0, 0)}


def _check(tmp_path: Path, text: str, *options: str):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(spec), "--format", "json", *options])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.output)["files"][0]["diagnostics"]


@pytest.mark.parametrize("code, line, column, failing, passing", EXAMPLES, ids=[case[0] for case in EXAMPLES])
def test_documented_examples(tmp_path, code, line, column, failing, passing):
    status, diagnostics = _check(tmp_path, failing)
    found = [(d["line"], d["column"]) for d in diagnostics if d["code"] == code]
    assert (line, column) in found, f"{code}: expected at {line}:{column}, found {found} in {diagnostics}"
    finding = next(d for d in diagnostics if d["code"] == code and (d["line"], d["column"]) == (line, column))
    assert finding["severity"] == CODES[code].severity and finding["message"] and finding["hint"]
    expected, expected_strict = EXIT[CODES[code].severity]
    assert status == expected
    assert _check(tmp_path, failing, "--strict")[0] == expected_strict
    status, diagnostics = _check(tmp_path, passing, "--strict")
    assert status == 0 and not [d for d in diagnostics if d["severity"] != INFO], diagnostics


def test_reserved_codes_are_not_raised_anywhere():
    # A code documented as reserved must not be produced by any rule (else the docs lie).
    sources = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "lstmcalc").rglob("*.py")
                        if path.name != "diagnostics.py")
    for code, (_, body) in _sections().items():
        if "Reserved:" in body:
            assert f'"{code}"' not in sources, code


def _docstring_examples(doc: str):
    parts = re.split(r"(Failing::|Passing::)", doc)
    return {parts[i][:-2]: textwrap.dedent(parts[i + 1]).strip("\n") + "\n" for i in range(1, len(parts), 2)}


@pytest.mark.parametrize("code", list(LINTS))
def test_lint_docstring_examples(tmp_path, code):
    examples = _docstring_examples(LINTS[code].doc)
    assert set(examples) == {"Failing", "Passing"}, f"{code}'s docstring needs Failing:: and Passing::"
    assert code in {d["code"] for d in _check(tmp_path, examples["Failing"])[1]}
    assert code not in {d["code"] for d in _check(tmp_path, examples["Passing"])[1]}


def test_every_lint_code_is_registered_and_documented():
    assert sorted(LINTS) == sorted(code for code in CODES if code.startswith("L"))
