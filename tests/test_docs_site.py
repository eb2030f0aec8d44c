"""The documentation site builds with `mkdocs build --strict`: a broken link or anchor, a missing
snippet or a page left out of mkdocs.yml's nav fails. MkDocs and mkdocs-material come with the
`docs` extra (`pip install '.[test,docs]'`, which .ci/run installs); without them this test is
skipped, since lstmcalc itself never needs them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import ROOT

pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install '.[docs]'")
pytest.importorskip("material", reason="the docs extra is not installed: pip install '.[docs]'")


def test_docs_build_strictly(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"), timeout=600)
    assert result.returncode == 0, result.stderr + result.stdout
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "reference" / "commands" / "index.html").exists()
