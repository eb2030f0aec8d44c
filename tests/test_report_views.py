"""The Report's other views: CSV rows, the notebook display (HTML, Markdown), to_json,
to_dataframe, diagram(), and `summary --format markdown --diagram`."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import types

import pytest
from click.testing import CliRunner

import lstmcalc
from lstmcalc.cli import cli
from lstmcalc.render import RenderOptions, get_renderer
from lstmcalc.report import ROW_COLUMNS

from .conftest import ROOT, SPECS

CSV_SPECS = ["seq2seq.yaml", "seed_000_stacked_lstm.yaml", "bidirectional_encoder_decoder.yaml",
             "seed_001_stacked_lstm.yaml"]


def analyze(spec: str):
    return lstmcalc.analyze(f"specs/{spec}")


@pytest.fixture(autouse=True)
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # file names in the output are relative, as in the README


@pytest.mark.parametrize("spec", CSV_SPECS)
def test_csv_golden(spec, golden):
    golden(f"summary/{spec[:-5]}.csv", get_renderer("csv")(analyze(spec), RenderOptions()))


def test_csv_has_one_row_per_layer_and_output():
    report = analyze("seq2seq.yaml")
    rows = list(csv.DictReader(io.StringIO(get_renderer("csv")(report, RenderOptions()))))
    assert tuple(rows[0]) == ROW_COLUMNS
    # 5 layers; the encoder (return_state) has 3 outputs: 4 + 3 = 7 rows.
    assert [(row["name"], row["output_index"], row["output_shape"]) for row in rows] == [
        ("enc_emb", "0", "(None, None, 128)"), ("encoder", "0", "(None, 256)"), ("encoder", "1", "(None, 256)"),
        ("encoder", "2", "(None, 256)"), ("dec_emb", "0", "(None, None, 128)"),
        ("decoder", "0", "(None, None, 256)"), ("logits", "0", "(None, None, 8000)")]
    # Figures sit on a layer's first row, so the column adds up to the total: 4,892,480.
    assert sum(int(row["params"]) for row in rows if row["params"]) == 4892480
    assert rows[5]["initial_state"] == "encoder[1] encoder[2]"
    assert rows[1]["weights"] == "kernel (128, 1024); recurrent_kernel (256, 1024); bias (1024,)"


def test_csv_columns_are_the_json_layer_fields():
    document = json.loads(analyze("seq2seq.yaml").to_json())
    layer_fields = set(document["layers"][0])
    # output_shapes/output_dtypes become one output_shape/output_dtype per row, with its index.
    assert set(ROW_COLUMNS) == layer_fields - {"output_shapes", "output_dtypes"} | {
        "output_index", "output_shape", "output_dtype"}


def test_csv_of_an_invalid_model():
    rows = list(csv.DictReader(io.StringIO(get_renderer("csv")(analyze("seed_000_stacked_lstm.yaml"),
                                                               RenderOptions()))))
    assert [(row["name"], row["status"], row["output_shape"]) for row in rows] == [
        ("lstm", "ok", "(None, 50)"), ("lstm_1", "error", ""), ("dense", "not-reached", "")]


def test_csv_escapes_control_characters():
    report = lstmcalc.analyze_layers([4], ["Dense(2, name='a\\x1b[2Jb')"])
    text = get_renderer("csv")(report, RenderOptions())
    assert "\x1b" not in text and "a\\x1b[2Jb" in text


def test_csv_through_the_command():
    result = CliRunner().invoke(cli, ["summary", "specs/seed_000_stacked_lstm.yaml", "--format", "csv"])
    assert result.exit_code == 1
    assert result.stdout.startswith("name,type,status,output_index,output_shape")


# -- notebooks -----------------------------------------------------------------------------------


def test_html_display():
    html = analyze("seed_001_stacked_lstm.yaml")._repr_html_()
    assert "<table>" in html and "<th>Layer (type)</th><th>Output Shape</th><th>Param #</th>" in html
    assert "<tr><td>lstm2 (LSTM)</td><td>(None, 64)</td><td style=\"text-align:right\">49,408</td></tr>" in html
    assert "Total params: 137,217 (536.00 KB)" in html


def test_html_display_of_an_invalid_model():
    html = analyze("seed_000_stacked_lstm.yaml")._repr_html_()
    assert "✗ rejected" in html and "not reached" in html
    assert "The model is invalid: 1 error." in html
    assert "error[H001]" in html


def test_html_escapes_names():
    report = lstmcalc.analyze_layers([4], ["Dense(2, name='<b>x</b>&\\x1b')"], name="<script>")
    html = report._repr_html_()
    assert "<script>" not in html and "<b>x" not in html
    assert "&lt;b&gt;x&lt;" in html and "\\x1b" in html and "\x1b" not in html


def test_markdown_display_is_the_markdown_summary():
    report = analyze("seed_000_dense.yaml")
    assert report._repr_markdown_() == get_renderer("markdown")(report, RenderOptions())


def test_to_dict_and_to_json():
    report = analyze("seed_001_stacked_lstm.yaml")
    assert json.loads(report.to_json()) == report.to_dict()
    assert report.to_dict()["totals"]["params"] == 137217


def test_rows_carry_numbers_and_shapes():
    rows = analyze("seed_001_stacked_lstm.yaml").rows()
    assert [(row["name"], row["output_shape"], row["params"]) for row in rows] == [
        ("lstm1", [None, 50, 128], 71168), ("lstm2", [None, 64], 49408), ("dense1", [None, 128], 8320),
        ("dense2", [None, 64], 8256), ("output", [None, 1], 65)]


def test_to_dataframe_without_pandas(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    with pytest.raises(ImportError, match="pip install pandas"):
        analyze("seed_001_stacked_lstm.yaml").to_dataframe()


def test_to_dataframe_builds_the_rows(monkeypatch):
    fake = types.ModuleType("pandas")
    fake.DataFrame = lambda rows, columns: ("DataFrame", rows, columns)
    monkeypatch.setitem(sys.modules, "pandas", fake)
    report = analyze("seq2seq.yaml")
    assert report.to_dataframe() == ("DataFrame", report.rows(), list(ROW_COLUMNS))


def test_to_dataframe_with_pandas():
    pandas = pytest.importorskip("pandas")
    frame = analyze("seq2seq.yaml").to_dataframe()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == list(ROW_COLUMNS)
    assert frame["params"].sum() == 4892480


def test_diagram_method():
    report = analyze("seq2seq.yaml")
    assert report.diagram().startswith("<?xml")
    assert report.diagram("mermaid").startswith("flowchart TD")
    with pytest.raises(ValueError, match="choose from svg, mermaid, dot"):
        report.diagram("png")


def test_import_lstmcalc_stays_light():
    code = ("import sys, lstmcalc\n"
            "report = lstmcalc.analyze('specs/seed_001_stacked_lstm.yaml')\n"
            "heavy = [m for m in ('numpy', 'rich', 'pandas', 'lstmcalc.diagram', 'lstmcalc.diff', 'csv') "
            "if m in sys.modules]\n"
            "print(' '.join(heavy) or 'clean')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "clean", result.stderr


# -- summary --format markdown --diagram -----------------------------------------------------------


def test_markdown_with_a_diagram(golden):
    result = CliRunner().invoke(cli, ["summary", "specs/seq2seq.yaml", "--format", "markdown", "--diagram"])
    assert result.exit_code == 0
    assert "\n```mermaid\nflowchart TD\n" in result.stdout and result.stdout.endswith("```\n")
    golden("summary/seq2seq_with_diagram.md", result.stdout)


def test_markdown_with_a_diagram_of_an_invalid_model():
    result = CliRunner().invoke(cli, ["summary", "specs/seed_000_stacked_lstm.yaml", "--format", "markdown",
                                      "--diagram"])
    assert result.exit_code == 1
    assert "class n2 rejected" in result.stdout


@pytest.mark.parametrize("output_format", ["table", "json", "csv"])
def test_diagram_needs_markdown(output_format):
    result = CliRunner().invoke(cli, ["summary", "specs/seq2seq.yaml", "--format", output_format, "--diagram"])
    assert result.exit_code == 2
    assert "--diagram goes with --format markdown" in result.stderr


def test_short_repr():
    assert repr(analyze("seed_000_stacked_lstm.yaml")) == \
        "<Report 'seed-000-stacked-lstm': 3 layers, invalid: 1 error>"
