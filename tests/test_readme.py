"""Every example in README.md and the documentation (docs/**/*.md) works as shown: each
`$ lstmcalc ...` console block prints exactly its output, each ```pycon block runs as a doctest,
each ```yaml block that is a whole spec is a model lstmcalc accepts, and the README's links lead
somewhere."""

from __future__ import annotations

import doctest
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from click.testing import CliRunner

import lstmcalc
from lstmcalc.cli import cli

from .conftest import ROOT

BLOCK = re.compile(r"```console\n\$ (lstmcalc [^\n]*)\n(.*?)```", re.S)
PYCON = re.compile(r"```pycon\n(.*?)```", re.S)
YAML = re.compile(r"```yaml\n(.*?)```", re.S)
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def examples():
    cases = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        # Blocks of several commands (a walk-through with a scratch file) are not replayed here.
        cases += [(_name(page), command, output) for command, output in BLOCK.findall(text)
                  if _replayable(command) and not re.search(r"^\$ ", output, re.M) and _files_exist(command)]
    return cases


def _replayable(command: str) -> bool:
    # A pipe is replayed when it feeds lstmcalc's output to a Python one-liner.
    return "|" not in command or command.split("|", 1)[1].strip().startswith("python3 -c ")


def _files_exist(command: str) -> bool:
    # Walk-throughs that use scratch files (weights.npz, x.npy) are not replayed here.
    return all((ROOT / word).exists() for word in shlex.split(command)
               if word.endswith((".yaml", ".npz", ".npy")))


EXAMPLES = examples()


@pytest.mark.parametrize("page, command, output", EXAMPLES, ids=[f"{page}: {command}" for page, command, _ in EXAMPLES])
def test_console_example(page, command, output, monkeypatch):
    monkeypatch.chdir(ROOT)
    own, _, consumer = command.partition(" | ") if "|" in command else (command, "", "")
    result = CliRunner().invoke(cli, shlex.split(own)[1:])
    assert "Traceback" not in result.output
    printed = result.output
    if consumer:
        arguments = shlex.split(consumer)
        printed = subprocess.run([sys.executable, *arguments[1:]], input=printed, capture_output=True, text=True,
                                 check=True).stdout
    assert printed == output, f"{page}: example `{command}` differs; paste the real output"


def test_examples_are_found_in_the_readme_and_the_docs():
    pages = {page for page, _, _ in EXAMPLES}
    assert "README.md" in pages and "docs/understanding-recurrent-layers.md" in pages
    assert len(EXAMPLES) >= 40


def test_the_docs_answer_the_seed_questions():
    commands = [command for page, command, _ in EXAMPLES if page == "docs/understanding-recurrent-layers.md"]
    assert sum(command.startswith("lstmcalc explain") for command in commands) >= 8
    assert any("--columns" in command for _, command, _ in EXAMPLES)


PYCON_BLOCKS = [(_name(page), index, block) for page in PAGES
                for index, block in enumerate(PYCON.findall(page.read_text(encoding="utf-8")))]


@pytest.mark.parametrize("page, index, block", PYCON_BLOCKS, ids=[f"{page}[{index}]" for page, index, _ in PYCON_BLOCKS])
def test_pycon_example(page, index, block, monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples name bundled specs by relative path
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(parser.get_doctest(block, {}, f"{page} pycon block {index}", page, 0))
    assert runner.summarize(verbose=False).failed == 0


def _spec_blocks():
    cases = []
    # docs/diagnostics.md shows failing specs on purpose; tests/test_diagnostics_docs.py runs them.
    for page in (page for page in PAGES if page.name != "diagnostics.md"):
        for index, block in enumerate(YAML.findall(page.read_text(encoding="utf-8"))):
            if "--8<--" in block:
                continue  # a file included as it is (pymdownx.snippets): the specs are checked elsewhere
            try:
                document = yaml.safe_load(block)
            except yaml.YAMLError:
                continue
            if isinstance(document, dict) and "layers" in document and ("input" in document or "inputs" in document):
                cases.append((_name(page), index, block))
    return cases


SPEC_BLOCKS = _spec_blocks()


@pytest.mark.parametrize("page, index, block", SPEC_BLOCKS, ids=[f"{page}[{index}]" for page, index, _ in SPEC_BLOCKS])
def test_spec_examples_are_valid_models(page, index, block):
    report = lstmcalc.analyze_text(block, file=f"{page} yaml block {index}")
    assert report.ok, [diagnostic.message for diagnostic in report.diagnostics]


def test_spec_examples_are_found():
    assert {page for page, _, _ in SPEC_BLOCKS} >= {"docs/guides/keras.md", "docs/reference/spec-format.md",
                                                     "docs/guides/graphs.md"}


README_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_readme_links_lead_to_files_and_anchors():
    """The README is read on GitHub and PyPI, outside the docs build: its links are checked here."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = [link for link in README_LINK.findall(text) if not urlsplit(link).scheme]
    assert links
    for link in links:
        path, _, anchor = link.partition("#")
        target = ROOT / path
        assert target.exists(), f"README links to {path}, which does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", target.read_text(encoding="utf-8"), re.M)
            assert anchor in {_slug(heading) for heading in headings}, f"README links to {link}: no such heading"


def _slug(heading: str) -> str:
    """The anchor MkDocs (and GitHub) give a heading: lower case, punctuation dropped, spaces as -."""
    text = re.sub(r"[^\w\s-]", "", heading.replace("`", "")).strip().lower()
    return re.sub(r"\s+", "-", text)


def test_readme_is_short():
    # A README read in two minutes; everything else lives in docs/.
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 220
