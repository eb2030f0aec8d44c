"""Shared test helpers: golden files (regenerate with `pytest --overwrite`) and spec paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--overwrite", action="store_true", default=False,
                     help="Rewrite golden files with the current output instead of comparing.")
    parser.addoption("--long", action="store_true", default=False,
                     help="Also run the long tests: 50,000-layer models and the long fuzz (LSTMCALC_FUZZ=long).")


@pytest.fixture
def golden(request):
    """``golden("name.txt", text)`` compares text with tests/golden/name.txt."""
    overwrite = request.config.getoption("--overwrite")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if overwrite or not path.exists():
            if not overwrite:
                pytest.fail(f"golden file {path} is missing; run pytest --overwrite to create it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from {path}; run pytest --overwrite if intended"

    return check


def heavy_modules_imported(arguments: Sequence[str], modules: Sequence[str] = ("numpy", "rich")) -> str:
    """Run the CLI with ``arguments`` in a fresh interpreter; which of ``modules`` it imported,
    space-separated, or ``clean``."""
    code = ("import sys\n"
            "from lstmcalc.cli import main\n"
            "try:\n"
            f"    main({list(arguments)!r})\n"
            "except SystemExit:\n"
            "    pass\n"
            f"sys.stderr.write(' '.join(m for m in {tuple(modules)!r} if m in sys.modules) or 'clean')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return result.stderr.strip().split("\n")[-1]


def pytest_configure(config):
    config.addinivalue_line("markers", "long: minutes-long runs (50,000-layer models, the long fuzz); "
                                       "run with `pytest --long` or LSTMCALC_FUZZ=long")
    if config.getoption("--long"):
        os.environ["LSTMCALC_FUZZ"] = "long"  # read by tests/test_fuzz.py when it is imported


def pytest_collection_modifyitems(config, items):
    if os.environ.get("LSTMCALC_FUZZ") == "long":
        return
    skip = pytest.mark.skip(reason="long run: use `pytest --long` or LSTMCALC_FUZZ=long")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
