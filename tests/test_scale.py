"""Models of any size: no stage recurses deeper as the model grows (issue 12). Speed and memory
per layer are measured by benchmarks/scale.py, never here; the 50,000-layer runs are long tests
(`pytest --long`, or LSTMCALC_FUZZ=long)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# Every command, and the formats that walk the whole model.
COMMANDS = [["summary"], ["summary", "--format", "json"], ["summary", "--format", "markdown"],
            ["summary", "--columns", "params,macs,activations"], ["check", "--format", "json"],
            ["verify", "--format", "json"], ["explain", "--format", "json"], ["explain"]]


def sequential_chain(layers: int) -> str:
    return "input: [10, 5]\nlayers:\n" + "  - Dense(4)\n" * layers


def graph_chain(layers: int) -> str:
    """A functional spec: each Dense takes the one before it by name, written last to first so
    that the topological sort has the whole chain to order."""
    entries = [f"  - {{type: Dense, units: 4, name: d{index}, inputs: {f'd{index - 1}' if index else 'x'}}}\n"
               for index in range(layers)]
    return "inputs: {x: [10, 5]}\nlayers:\n" + "".join(reversed(entries))


def run_with_recursion_limit(spec_path, commands, limit: int):
    """Run the CLI commands in one interpreter whose recursion limit is ``limit``: a stage whose
    recursion grows with the model fails there with RecursionError."""
    code = textwrap.dedent(f"""\
        import sys
        from lstmcalc.cli import main
        sys.setrecursionlimit({limit})
        for command in {commands!r}:
            try:
                main(command[:1] + [{str(spec_path)!r}] + command[1:])
            except SystemExit as stop:
                sys.stderr.write(f"{{command}} exit {{stop.code}}\\n")
        """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


@pytest.mark.parametrize("make", [sequential_chain, graph_chain], ids=["sequential", "graph"])
def test_a_thousand_layer_chain_needs_no_deeper_recursion(tmp_path, make):
    spec = tmp_path / "chain.yaml"
    spec.write_text(make(1000))
    # 150 frames suffice for a 3-layer model; a recursion over 1,000 layers cannot fit in them.
    result = run_with_recursion_limit(spec, COMMANDS, 150)
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr, result.stderr[-3000:]
    assert result.stderr.splitlines() == [f"{command} exit 0" for command in COMMANDS]


def test_a_cycle_in_a_long_chain_is_found(tmp_path):
    from lstmcalc import analyze_text

    text = graph_chain(1000).replace("inputs: x}", "inputs: d999}")  # d0 takes the last layer
    report = analyze_text(text, file="cycle.yaml")
    [cycle] = [d for d in report.errors if d.code == "S013"]
    assert cycle.message == ("The layers form a cycle: d999 → d998 → d997 → d996 → d995 → d994 → … (1,000 layers "
                             "in the loop) … → d3 → d2 → d1 → d0 → d999.")
    assert (cycle.layer, cycle.line) == ("d999", 3)


def test_nested_wrappers_to_the_nesting_limit(tmp_path):
    # The reader allows 100 levels of YAML nesting, so wrappers recurse at most ~50 deep.
    inner = "{type: Dense, units: 3}"
    for _ in range(45):
        inner = f"{{type: TimeDistributed, layer: {inner}}}"
    spec = tmp_path / "nested.yaml"
    spec.write_text(f"input: [{', '.join(['2'] * 46)}]\nlayers:\n  - {inner}\n")
    result = run_with_recursion_limit(spec, [["summary", "--format", "json"], ["explain", "--format", "json"]], 1000)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]


@pytest.mark.long
@pytest.mark.parametrize("make", [sequential_chain, graph_chain], ids=["sequential", "graph"])
def test_fifty_thousand_layers(tmp_path, make):
    spec = tmp_path / "chain.yaml"
    spec.write_text(make(50_000))
    result = run_with_recursion_limit(spec, [["summary", "--format", "json"], ["check", "--format", "json"]], 150)
    assert result.stderr.splitlines() == ["['summary', '--format', 'json'] exit 0", "['check', '--format', 'json'] exit 0"]
    assert json.loads(result.stdout.split("\n}\n")[0] + "\n}")["totals"]["params"] == 24 + 20 * 49_999
