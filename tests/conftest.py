"""Shared test helpers: golden files (regenerate with `pytest --overwrite`) and spec paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--overwrite", action="store_true", default=False,
                     help="Rewrite golden files with the current output instead of comparing.")


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
