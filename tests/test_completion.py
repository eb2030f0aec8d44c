"""Shell completion as the README documents it: click's scripts for bash, zsh and fish, and what
they complete (commands, formats, spec files)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def completion(shell_mode: str, words: str = "", cword: int = 0) -> str:
    environment = dict(os.environ, _LSTMCALC_COMPLETE=shell_mode, COMP_WORDS=words, COMP_CWORD=str(cword))
    result = subprocess.run([sys.executable, "-m", "lstmcalc"], env=environment, capture_output=True, text=True)
    return result.stdout


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o nosort -F _lstmcalc_completion lstmcalc"),
                                           ("zsh", "#compdef lstmcalc"),
                                           ("fish", "complete --no-files --command lstmcalc")])
def test_each_shell_gets_a_script(shell, marker):
    assert marker in completion(f"{shell}_source")


@pytest.mark.parametrize("words, cword, expected", [
    ("lstmcalc di", 1, "plain,diagram\nplain,diff\n"),
    ("lstmcalc diagram model.yaml --format ", 4, "plain,svg\nplain,mermaid\nplain,dot\n"),
    ("lstmcalc diff old.yaml new.yaml --format ", 5, "plain,table\nplain,markdown\nplain,json\n"),
])
def test_completes_commands_and_choices(words, cword, expected):
    assert completion("bash_complete", words, cword) == expected


@pytest.mark.parametrize("command", ["summary", "check", "explain", "verify", "diagram", "diff"])
def test_spec_arguments_complete_files(command):
    assert completion("bash_complete", f"lstmcalc {command} sp", 2) == "file,sp\n"


@pytest.mark.skipif(shutil.which("bash") is None or not (BIN / "lstmcalc").exists(),
                    reason="needs bash and the installed command")
def test_bash_completes_through_the_sourced_script():
    script = ('eval "$(_LSTMCALC_COMPLETE=bash_source lstmcalc)"; COMP_WORDS=(lstmcalc di); COMP_CWORD=1; '
              '_lstmcalc_completion lstmcalc; echo "${COMPREPLY[@]}"')
    environment = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(["bash", "-c", script], env=environment, capture_output=True, text=True)
    assert result.stdout == "diagram diff\n"
