"""Rendered output of every bundled spec, compared with golden files (`pytest --overwrite`)."""

from __future__ import annotations

import pytest

import lstmcalc
from lstmcalc.render import SUMMARY_RENDERERS, RenderOptions, get_renderer

from .conftest import SPECS

SPEC_FILES = sorted(path.name for path in SPECS.glob("*.yaml"))


@pytest.mark.parametrize("spec", SPEC_FILES)
@pytest.mark.parametrize("output_format", ["table", "markdown"])
def test_rendered_summary(spec, output_format, golden, monkeypatch):
    monkeypatch.chdir(SPECS.parent)
    report = lstmcalc.analyze(f"specs/{spec}")
    text = get_renderer(output_format)(report, RenderOptions())
    suffix = {"table": "txt", "markdown": "md"}[output_format]
    golden(f"summary/{spec[:-5]}.{suffix}", text)


@pytest.mark.parametrize("spec", SPEC_FILES)
def test_layer_counts_add_up_to_the_total(spec):
    report = lstmcalc.analyze(SPECS / spec)
    assert report.totals.params == sum(layer.params for layer in report.layers)
    assert report.totals.params == report.totals.trainable_params + report.totals.non_trainable_params


def test_every_renderer_is_registered():
    assert set(SUMMARY_RENDERERS) == {"table", "json", "markdown", "csv", "html"}
