"""Wall time of `lstmcalc summary` as a ratio to `python -c pass` (the interpreter's own start-up),
and to importing only what each path cannot do without.

    python benchmarks/startup.py [--runs 20] [--check-files 200] [--instructions]

Prints the fastest run of each command and its ratio to the bare interpreter; then issue 12's ratios:
`summary --format json` against `python -c "import click, yaml, json"`, the rich table against
that plus rich's console and table (targets: 1.25x), and `check` of 200 spec files in one call
against 3 single-file runs (target: below 1.5x; with and without the verifier; the files are copies
of the bundled specs whose forward pass is light, see LIGHT_MACS). `check` shares 200 files out among
one process per CPU (`--jobs auto`); the figure with `--jobs 1` shows what one process does. On
the 2-core machine of issue 12, quiet: 1.40-1.46x with the default jobs, 2.2x with `--jobs 1`,
0.92-0.96x with `--no-verify`. There, on 1 December 2026, `summary --format json` took 1.13-1.17x
the floor's wall time (303M instructions against 266M: 1.14x) and the table 1.08-1.13x (423M
against 376M: 1.13x), installed with `pip install .` or editable. Not a test: machines vary.

On a shared machine wall times swing by ±20% with the other processes' load; ``--instructions``
also counts the instructions each target command executes (valgrind's callgrind, when installed),
which no load changes: the same ratios, reproducible to a fraction of a percent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Optional, Tuple

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

# What each summary path cannot do without: the floor issue 12 measures against.
FLOORS = {
    "import click, yaml, json": [sys.executable, "-c", "import click, yaml, json"],
    "... + rich console and table": [sys.executable, "-c", "import click, yaml, json, rich.console, rich.table"],
}
TARGETS = [("lstmcalc summary (json)", "import click, yaml, json", 1.25),
           ("lstmcalc summary (table)", "... + rich console and table", 1.25)]


# Byte-code caching as on a normal install (some shells export PYTHONDONTWRITEBYTECODE, which
# would make every run recompile the package and measure the compiler instead).
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def run_times(command) -> Tuple[float, float]:
    """Wall time and CPU time (user + system, of the process and its children) of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0  # reaped by wait4
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def fastest_times(commands, runs: int) -> Tuple[Dict[str, float], Dict[str, float]]:
    """The fastest of ``runs`` runs of each command, wall time and CPU time, taken in interleaved
    rounds: other processes on the machine only ever make a run slower, and interleaving spreads
    their load evenly. CPU time leaves out the time a run waits for a core the others hold."""
    wall = {label: float("inf") for label in commands}
    cpu = dict(wall)
    for _ in range(runs):
        for label, command in commands.items():
            seconds, cpu_seconds = run_times(command)
            wall[label] = min(wall[label], seconds)
            cpu[label] = min(cpu[label], cpu_seconds)
    return wall, cpu


# The ratio measures what one call saves over many (start-up, imports, the verifier's set-up), not
# the forward pass's arithmetic, which costs the same either way: bundled models above this many
# MACs per sample (or per step) are left out — the ConvLSTM video model, the 200-step text
# classifier with a fixed batch of 32 — which take about a second each to verify.
LIGHT_MACS = 10_000_000


def light_specs():
    """The valid bundled specs whose forward pass is light (see LIGHT_MACS)."""
    import lstmcalc
    from lstmcalc.compute import compute_figures

    specs = []
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        report = lstmcalc.analyze(path)
        if report.ok:
            macs = compute_figures(report).macs
            if macs.fixed <= LIGHT_MACS and macs.per_step <= LIGHT_MACS:
                specs.append(path)
    return specs


def check_ratios(runs: int, count: int) -> None:
    """`check` of ``count`` spec files in one call against 3 runs of one file each."""
    specs = light_specs()
    print(f"check: {count} copies of {len(specs)} light bundled specs ({', '.join(path.stem for path in specs)})")
    with tempfile.TemporaryDirectory() as folder:
        for index in range(count):
            shutil.copy(specs[index % len(specs)], Path(folder) / f"spec_{index:03}.yaml")
        first = str(Path(folder) / "spec_000.yaml")
        check = [sys.executable, "-m", "lstmcalc", "check"]
        for options in ([], ["--jobs", "1"], ["--no-verify"]):
            best, _ = fastest_times({"many": check + options + [folder], "one": check + options + [first]},
                                    max(runs // 4, 3))
            label = " ".join(["check"] + options)
            print(f"{label:20} {count} files in one call {best['many'] * 1000:8.1f}ms, 3 single-file runs "
                  f"{3 * best['one'] * 1000:8.1f}ms: {best['many'] / (3 * best['one']):5.2f}x (target < 1.50x)")


def instructions(command) -> Optional[int]:
    """Instructions ``command`` executes (callgrind's "Collected"), or None without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    result = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV, check=False)
    for line in result.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1])
    return None


def instruction_ratios() -> None:
    """Issue 12's start-up ratios in instructions executed rather than wall time."""
    print("instructions executed (callgrind)")
    for label, floor, target in TARGETS:
        counts = {name: instructions((dict(COMMANDS, **FLOORS))[name]) for name in (label, floor)}
        if None in counts.values():
            print("valgrind is not installed: no instruction counts")
            return
        print(f"{label} / {floor}: {counts[label] / 1e6:.0f}M / {counts[floor] / 1e6:.0f}M = "
              f"{counts[label] / counts[floor]:.2f}x (target {target:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--check-files", type=int, default=200)
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions with valgrind (steady on a busy machine)")
    args = parser.parse_args()
    commands = dict(COMMANDS, **FLOORS)
    for command in commands.values():  # warm the file cache and byte-code
        run_times(command)
    best, cpu = fastest_times(commands, args.runs)
    baseline, cpu_baseline = best["python -c pass"], cpu["python -c pass"]
    print(f"fastest of {args.runs} interleaved runs: wall time, and CPU time (user + system)")
    print(f"{'command':32} {'wall':>10} {'ratio':>7} {'cpu':>10} {'ratio':>7}")
    for label, seconds in best.items():
        print(f"{label:32} {seconds * 1000:8.1f}ms {seconds / baseline:6.2f}x {cpu[label] * 1000:8.1f}ms "
              f"{cpu[label] / cpu_baseline:6.2f}x")
    print()
    for label, floor, target in TARGETS:
        print(f"{label} / {floor}: {best[label] / best[floor]:.2f}x wall, {cpu[label] / cpu[floor]:.2f}x CPU "
              f"(target {target:.2f}x)")
    if args.instructions:
        print()
        instruction_ratios()
    if args.check_files:
        print()
        check_ratios(args.runs, args.check_files)


if __name__ == "__main__":
    main()
