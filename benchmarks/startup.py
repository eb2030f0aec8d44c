"""Wall time of `lstmcalc summary` as a ratio to `python -c pass` (the interpreter's own start-up).

    python benchmarks/startup.py [--runs 20]

Prints the median of each command and its ratio to the bare interpreter. Not a test: machines vary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = str(ROOT / "specs" / "seed_001_stacked_lstm.yaml")

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import lstmcalc'": [sys.executable, "-c", "import lstmcalc"],
    "lstmcalc --version": [sys.executable, "-m", "lstmcalc", "--version"],
    "lstmcalc summary (json)": [sys.executable, "-m", "lstmcalc", "summary", SPEC, "--format", "json"],
    "lstmcalc summary (markdown)": [sys.executable, "-m", "lstmcalc", "summary", SPEC, "--format", "markdown"],
    "lstmcalc summary (table)": [sys.executable, "-m", "lstmcalc", "summary", SPEC],
    "lstmcalc summary --input": [sys.executable, "-m", "lstmcalc", "summary", "--input", "50,10",
                                 "LSTM(128, return_sequences=True)", "LSTM(64)", "Dense(1)"],
    "lstmcalc summary --columns": [sys.executable, "-m", "lstmcalc", "summary", SPEC, "--columns",
                                   "params,macs,activations"],
    "lstmcalc explain (text)": [sys.executable, "-m", "lstmcalc", "explain", SPEC],
    "lstmcalc explain (json)": [sys.executable, "-m", "lstmcalc", "explain", SPEC, "--format", "json"],
}


# Byte-code caching as on a normal install (some shells export PYTHONDONTWRITEBYTECODE, which
# would make every run recompile the package and measure the compiler instead).
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def median_seconds(command, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    for command in COMMANDS.values():  # warm the file cache and byte-code
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
    baseline = median_seconds(COMMANDS["python -c pass"], args.runs)
    print(f"{'command':32} {'median':>10} {'ratio':>7}")
    for label, command in COMMANDS.items():
        seconds = baseline if label == "python -c pass" else median_seconds(command, args.runs)
        print(f"{label:32} {seconds * 1000:8.1f}ms {seconds / baseline:6.2f}x")


if __name__ == "__main__":
    main()
