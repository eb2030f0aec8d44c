"""Time and peak memory per layer at 1,000, 10,000 and 50,000 layers (a sequential stack of Dense
layers, and a graph chain of the same layers wired by name, written last to first).

    python benchmarks/scale.py [--sizes 1000,10000,50000] [--command all|json|check|table|explain|explain-json]
                               [--runs 1]

Each run is a fresh interpreter running one command over a generated spec; it reports its own
time (from calling the CLI to its exit) and peak resident memory. A 10-layer run measures the
fixed costs, which are subtracted before dividing by the number of layers. "ratio" is a size's
time per layer over the smallest size's: near 1 when the stage is linear (issue 12 asks within
1.5x); memory per layer likewise. Not a test: machines vary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

COMMANDS = {
    "json": ["summary", "--format", "json"],
    "check": ["check", "--format", "json"],
    "table": ["summary"],
    "explain": ["explain"],
    "explain-json": ["explain", "--format", "json"],
}

# The child: run the CLI once, then report its time and peak memory on stderr as JSON.
CHILD = """
import json, sys, time
try:
    import resource
except ImportError:
    resource = None
from lstmcalc.__main__ import main  # the console script's entry point (it sets the GC thresholds)
start = time.perf_counter()
try:
    main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if resource else 0
peak *= 1 if sys.platform == "darwin" else 1024  # kilobytes on Linux, bytes on macOS
sys.stderr.write(json.dumps({"seconds": seconds, "peak": peak, "code": code}))
"""

ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def sequential(layers: int) -> str:
    return "input: [10, 5]\nlayers:\n" + "  - Dense(4)\n" * layers


def graph(layers: int) -> str:
    entries = [f"  - {{type: Dense, units: 4, name: d{index}, inputs: {f'd{index - 1}' if index else 'x'}}}\n"
               for index in range(layers)]
    return "inputs: {x: [10, 5]}\nlayers:\n" + "".join(reversed(entries))


def measure(text: str, command, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "chain.yaml"
        spec.write_text(text)
        results = []
        for _ in range(runs):
            done = subprocess.run([sys.executable, "-c", CHILD, command[0], str(spec)] + command[1:],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
            results.append(json.loads(done.stderr.strip().splitlines()[-1]))
        best = min(results, key=lambda result: result["seconds"])
        if best["code"] not in (0, None):
            raise SystemExit(f"the command exited with {best['code']}")
        return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--command", choices=["all"] + sorted(COMMANDS), default="json")
    parser.add_argument("--runs", type=int, default=1, help="runs per size (the fastest counts)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    for name in COMMANDS if args.command == "all" else [args.command]:
        report(COMMANDS[name], sizes, args.runs)


def report(command, sizes, runs: int) -> None:
    """One command's table: time and peak memory per layer at each size, for both models."""
    print(f"lstmcalc {' '.join(command)}, fixed costs (a 10-layer model) subtracted")
    print(f"{'model':12} {'layers':>8} {'time':>9} {'per layer':>10} {'ratio':>6} {'peak':>9} {'per layer':>10} {'ratio':>6}")
    for name, make in (("sequential", sequential), ("graph chain", graph)):
        fixed = measure(make(10), command, max(runs, 3))
        first = None
        for size in sizes:
            result = measure(make(size), command, runs)
            time_per_layer = max(result["seconds"] - fixed["seconds"], 0) / (size - 10)
            memory_per_layer = max(result["peak"] - fixed["peak"], 0) / (size - 10)
            first = first or (time_per_layer, memory_per_layer)
            print(f"{name:12} {size:>8,} {result['seconds']:8.2f}s {time_per_layer * 1e6:8.0f}µs "
                  f"{time_per_layer / first[0]:5.2f}x {result['peak'] / 2 ** 20:7.0f}MB "
                  f"{memory_per_layer / 1024:8.1f}KB {memory_per_layer / max(first[1], 1):5.2f}x")
    print()


if __name__ == "__main__":
    main()
