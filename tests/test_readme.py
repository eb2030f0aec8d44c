"""Every `$ lstmcalc ...` example in README.md prints exactly what the README shows."""

from __future__ import annotations

import re
import shlex

import pytest
from click.testing import CliRunner

from lstmcalc.cli import cli

from .conftest import ROOT

BLOCK = re.compile(r"```console\n\$ (lstmcalc [^\n]*)\n(.*?)```", re.S)


def examples():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    # Blocks of several commands (a walk-through with a scratch file) are not replayed here.
    return [(command, output) for command, output in BLOCK.findall(text)
            if "|" not in command and not re.search(r"^\$ ", output, re.M) and _files_exist(command)]


def _files_exist(command: str) -> bool:
    # Walk-throughs that use scratch files (weights.npz, x.npy) are not replayed here.
    return all((ROOT / word).exists() for word in shlex.split(command)
               if word.endswith((".yaml", ".npz", ".npy")))


@pytest.mark.parametrize("command, output", examples(), ids=[command for command, _ in examples()])
def test_readme_example(command, output, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, shlex.split(command)[1:])
    assert "Traceback" not in result.output
    assert result.output == output, f"README example `{command}` differs; paste the real output"


def test_the_readme_answers_the_seed_questions():
    commands = [command for command, _ in examples()]
    assert sum(command.startswith("lstmcalc explain") for command in commands) >= 8
    assert any("--columns" in command for command in commands)
