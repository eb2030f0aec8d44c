"""Memory figures and `summary --columns`: hand-derived bytes (docs/compute.md)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lstmcalc import analyze, analyze_layers
from lstmcalc.cli import cli
from lstmcalc.compute import compute_figures
from lstmcalc.layers.core import Dense
from lstmcalc.render import RenderOptions, get_renderer

from .conftest import SPECS

SEED_001 = str(SPECS / "seed_001_stacked_lstm.yaml")
N = None


def test_seed_001_memory_for_a_batch_of_32():
    figures = compute_figures(analyze(SEED_001, batch_size=32))
    assert (figures.batch_size, figures.batch_given) == (32, True)
    # outputs per sample: 50 × 128 + 64 + 128 + 64 + 1 = 6,657 values of 4 bytes, × 32 samples
    assert figures.activation_bytes.fixed == 32 * 6657 * 4
    assert figures.param_bytes == 137217 * 4
    assert figures.gradient_bytes == 137217 * 4
    assert figures.optimizer_bytes == 2 * 137217 * 4  # Adam's m and v
    # kept for backprop: the outputs, the input (50 × 10), and per step (gates + states) × units:
    # lstm1 50 × (4 + 2) × 128 = 38,400, lstm2 50 × (4 + 2) × 64 = 19,200
    kept = 32 * 4 * (6657 + 500 + 38400 + 19200)
    assert figures.kept_bytes.fixed == kept
    assert figures.training_bytes.fixed == 4 * 137217 * 4 + kept


def test_layer_figures_for_seed_001():
    figures = compute_figures(analyze(SEED_001))
    lstm1 = figures.layer("lstm1")
    assert lstm1.activation_bytes.fixed == 50 * 128 * 4  # batch of 1
    assert lstm1.param_bytes == 71168 * 4


def test_no_batch_size_means_a_batch_of_one_and_says_so():
    figures = compute_figures(analyze_layers([10, 5], ["LSTM(4)"]))
    assert (figures.batch_size, figures.batch_given) == (1, False)
    assert any("no batch size given" in note for note in figures.assumptions())


def test_mixed_precision_halves_activations_not_weights():
    figures = compute_figures(analyze_layers([10, 5], ["Dense(8, dtype='mixed_float16')"]))
    layer = figures.layers[0]
    assert layer.activation_bytes.fixed == 10 * 8 * 2  # float16 outputs
    assert layer.param_bytes == (5 * 8 + 8) * 4        # float32 variables


def test_unknown_length_is_kept_per_step():
    figures = compute_figures(analyze_layers([N, 16], ["GRU(8, return_sequences=True)"]))
    # outputs: 8 values per step; kept: outputs + input 16 + GRU (3 gates + 1 state) × 8 per step
    assert (figures.activation_bytes.fixed, figures.activation_bytes.per_step) == (0, 8 * 4)
    assert figures.kept_bytes.per_step == (8 + 16 + 4 * 8) * 4
    assert any("length is unknown" in note for note in figures.assumptions())


def test_a_type_without_a_mac_rule_is_said_not_counted(monkeypatch):
    # What a new layer type (e.g. a merge layer) gets until it defines macs().
    monkeypatch.setattr(Dense, "macs", lambda self, inputs, outputs: None)
    report = analyze_layers([10, 5], ["LSTM(4)", "Dense(1)"])
    figures = compute_figures(report)
    assert figures.uncounted == ["dense"]
    assert figures.macs.fixed == 4 * 4 * (5 + 4) * 10  # the LSTM alone
    assert any("not counted for dense" in note for note in figures.assumptions())
    table = get_renderer("markdown")(report, RenderOptions(columns=("params", "macs")))
    assert "| dense (Dense) | (None, 1) | 5 | ? |" in table


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_summary_columns_table():
    result = run("summary", SEED_001, "--columns", "params,macs,activations")
    assert result.exit_code == 0, result.output
    assert "MACs" in result.output and "Activations" in result.output
    assert "3,532,800" in result.output  # lstm1: 4 × 128 × (10 + 128) × 50
    assert "MACs per sample (forward pass): 6,006,848" in result.output
    assert "Training memory estimate" in result.output


def test_summary_columns_markdown():
    result = run("summary", SEED_001, "--columns", "macs", "--format", "markdown")
    assert "| Layer (type) | Output Shape | MACs |" in result.output
    assert "| lstm1 (LSTM) | (None, 50, 128) | 3,532,800 |" in result.output


def test_summary_columns_json():
    document = json.loads(run("summary", SEED_001, "--columns", "params,macs", "--format", "json").output)
    lstm1 = document["layers"][0]["compute"]
    assert lstm1["macs"] == {"per_step": 70656, "steps": 50, "unit": "step", "total": 3532800,
                             "formula": "4 × 128 × (10 + 128)"}
    assert document["compute"]["macs_per_sample"]["value"] == 6006848


def test_unknown_length_column_says_per_step():
    result = run("summary", "--input", "None,16", "GRU(8)", "--columns", "macs,activations",
                 "--format", "markdown")
    assert "| gru (GRU) | (None, 8) | 576/step | 32.00 B |" in result.output  # 3 × 8 × (16 + 8)


def test_summary_without_columns_has_no_compute_data():
    document = json.loads(run("summary", SEED_001, "--format", "json").output)
    assert "compute" not in document and "compute" not in document["layers"][0]


@pytest.mark.parametrize("value", ["flops", "params,", ",", "params,bogus"])
def test_bad_columns_are_usage_errors(value):
    result = run("summary", SEED_001, "--columns", value)
    if value == "params,":
        assert result.exit_code == 0  # a trailing comma is forgiven
    else:
        assert result.exit_code == 2 and "choose from params, macs, activations" in result.output
