"""`--dtype` with several inputs: one dtype per input in --input's order (`"int32;float32"`), an
empty part keeping that input's default; one value sets the first input's only (as before several
inputs could be given). Invalid dtypes and counts are usage errors (exit 2)."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from lstmcalc.cli import cli

# forward(tokens, static): tokens go into an nn.Embedding (default int64), static into an nn.Linear
# (default float32).
TWO_INPUTS = textwrap.dedent("""
    import torch
    from torch import nn


    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 4)
            self.lstm = nn.LSTM(4, 6, batch_first=True)
            self.fc = nn.Linear(5, 2)

        def forward(self, tokens, static):
            out, _ = self.lstm(self.embed(tokens))
            return torch.cat((out[:, -1, :], self.fc(static)), dim=-1)
    """)

ONE_INPUT = textwrap.dedent("""
    from torch import nn


    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 4)

        def forward(self, tokens):
            return self.embed(tokens)
    """)


@pytest.fixture
def sources(tmp_path):
    (tmp_path / "two.py").write_text(TWO_INPUTS, encoding="utf-8")
    (tmp_path / "one.py").write_text(ONE_INPUT, encoding="utf-8")
    return tmp_path


def run(*arguments):
    return CliRunner().invoke(cli, [str(item) for item in arguments])


@pytest.mark.parametrize("dtype, expected", [
    (None, ["int64", "float32"]),               # the defaults: ids into an Embedding, floats into a Linear
    ("int32", ["int32", "float32"]),            # one value: the first input's, the second keeps its default
    ("int32;float32", ["int32", "float32"]),    # one per input, in --input's order
    (";float32", ["int64", "float32"]),         # an empty part keeps that input's default
    ("int32;", ["int32", "float32"]),
    (" int32 ; float32 ", ["int32", "float32"]),  # spaces around the parts are dropped
])
def test_one_dtype_per_input(sources, dtype, expected):
    result = run("summary", sources / "two.py", "--input", "7;5", "--batch-size", 2, "--format", "json",
                 *(["--dtype", dtype] if dtype is not None else []))
    assert result.exit_code == 0, result.output
    assert [item["dtype"] for item in json.loads(result.output)["inputs"]] == expected


def test_a_dtype_given_per_input_reaches_the_modules(sources):
    """static as float64 meets the Linear's float32 weight: torch refuses (exit 1, the model is invalid),
    which shows the second dtype is the second input's."""
    result = run("summary", sources / "two.py", "--input", "7;5", "--batch-size", 2, "--dtype", "int64;float64")
    assert result.exit_code == 1
    assert "mat1 and mat2 must have the same dtype, but got Double and Float" in result.output


@pytest.mark.parametrize("command", ["summary", "explain", "verify", "diagram", "convert"])
@pytest.mark.parametrize("input_shape, dtype, fragment", [
    ("7;5", "int64;floot32", "unknown dtype 'floot32'; an input's dtype is one of float16, "),
    ("7;5", "int64;floot32", "(did you mean 'float32'?)"),
    ("7;5", "torch.int64", "unknown dtype 'torch.int64'"),
    ("7;5", "int64;float32;int8", "3 dtypes for 2 input shape(s) given with --input"),  # 3 ≠ 2
    ("7", "int64;float32", "2 dtypes for 1 input shape(s) given with --input"),         # 2 ≠ 1
])
def test_invalid_dtypes_are_usage_errors(sources, command, input_shape, dtype, fragment):
    extra = ["--to", "yaml"] if command == "convert" else []
    result = run(command, sources / "two.py", "--input", input_shape, "--dtype", dtype, *extra)
    assert result.exit_code == 2, result.output
    assert "--dtype" in result.output and fragment in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


def test_one_input_source_takes_one_dtype(sources):
    result = run("summary", sources / "one.py", "--input", "7", "--batch-size", 2, "--dtype", "int32",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    assert [item["dtype"] for item in json.loads(result.output)["inputs"]] == ["int32"]


@pytest.mark.parametrize("dtype, code, fragment", [
    ("int32", 0, ""),                                   # the layers' input as int32 token ids
    ("int32;int32", 2, "2 dtypes for 1 input shape(s)"),  # --input with layers is one input
    ("flaot32", 2, "did you mean 'float32'?"),
])
def test_layers_given_on_the_command_line(dtype, code, fragment):
    result = run("summary", "--input", "7", "Embedding(20, 4)", "--dtype", dtype, "--format", "json")
    assert result.exit_code == code, result.output
    if code == 0:
        assert json.loads(result.output)["inputs"][0]["dtype"] == "int32"
    else:
        assert fragment in " ".join(result.output.split())


def test_help_says_how_to_give_several():
    result = run("summary", "--help")
    assert "\"float32;int64\"" in result.output and "one value sets the first input's only" in " ".join(
        result.output.split())
