"""`lstmcalc explain`: formulas equal counts, equations carry the right dimensions, PyTorch's
layout equals what PyTorch 2.13 stores (tests/fixtures/pytorch), rejections explain themselves."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import lstmcalc
from lstmcalc import analyze, analyze_layers, analyze_text
from lstmcalc.cli import cli
from lstmcalc.explain import UnknownLayer, explain
from lstmcalc.layers.registry import all_layer_classes
from lstmcalc.layers.base import Layer
from lstmcalc.render import EXPLAIN_RENDERERS, RenderOptions, get_renderer

from .conftest import SPECS, heavy_modules_imported
from .test_cli import _installed_command

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_001 = str(SPECS / "seed_001_stacked_lstm.yaml")
SEED_000 = str(SPECS / "seed_000_stacked_lstm.yaml")
N = None


def layer_of(input_shape, call, **options):
    return explain(analyze_layers(input_shape, [call], **options)).layers[0]


# (id, input shape, layer, parameter formula as printed, its value)
FORMULAS = [
    ("lstm", [50, 10], "LSTM(128)", "4 × (128 × (10 + 128) + 128)", 71168),
    ("lstm-no-bias", [10, 5], "LSTM(8, use_bias=False)", "4 × 8 × (5 + 8)", 416),
    ("gru-reset-after", [20, 16], "GRU(32)", "3 × (32 × (16 + 32) + 2 × 32)", 4800),
    ("gru-reset-before", [20, 16], "GRU(32, reset_after=False)", "3 × (32 × (16 + 32) + 32)", 4704),
    ("simple-rnn", [7, 3], "SimpleRNN(4)", "4 × (3 + 4) + 4", 32),
    ("bidirectional", [100, 16], "Bidirectional(LSTM(64))", "2 × 4 × (64 × (16 + 64) + 64)", 41472),
    ("bidirectional-own-backward", [10, 4],
     "Bidirectional(LSTM(6), backward_layer=LSTM(3, go_backwards=True))",
     "4 × (6 × (4 + 6) + 6) + 4 × (3 × (4 + 3) + 3)", 264 + 96),
    ("time-distributed", [10, 8], "TimeDistributed(Dense(3))", "8 × 3 + 3", 27),
    ("dense", [64], "Dense(128)", "64 × 128 + 128", 8320),
    ("conv", [200, 8], "Conv1D(32, 3, padding='same')", "3 × 8 × 32 + 32", 800),
    ("embedding", [20], "Embedding(20000, 128)", "20,000 × 128", 2560000),
    ("batch-norm", [10, 6], "BatchNormalization()", "6 + 6 + 6 + 6", 24),
    ("dropout", [10, 6], "Dropout(0.5)", "0", 0),
    # ConvLSTM: gates × (kernel × (channels + filters) × filters + filters); the frame size does not count
    ("convlstm2d", [5, 16, 16, 3], "ConvLSTM2D(8, 3)", "4 × (3 × 3 × (3 + 8) × 8 + 8)", 3200),
    ("convlstm1d-no-bias", [5, 16, 3], "ConvLSTM1D(8, 3, use_bias=False)", "4 × 3 × (3 + 8) × 8", 1056),
    ("convlstm3d-channels-first", [3, 2, 6, 6, 6], "ConvLSTM3D(4, (1, 3, 3), data_format='channels_first')",
     "4 × (1 × 3 × 3 × (2 + 4) × 4 + 4)", 880),
    ("bidirectional-convlstm2d", [5, 16, 16, 3], "Bidirectional(ConvLSTM2D(8, 3))",
     "2 × 4 × (3 × 3 × (3 + 8) × 8 + 8)", 6400),
    ("conv2d", [28, 28, 1], "Conv2D(32, 3)", "3 × 3 × 1 × 32 + 32", 320),
    ("conv3d-groups", [8, 8, 8, 4], "Conv3D(8, 3, groups=2, use_bias=False)", "3 × 3 × 3 × 2 × 8", 432),
]


@pytest.mark.parametrize("case_id, input_shape, call, text, value", FORMULAS, ids=[c[0] for c in FORMULAS])
def test_parameter_formula_is_the_count(case_id, input_shape, call, text, value):
    report = analyze_layers(input_shape, [call])
    explained = explain(report).layers[0]
    assert (explained.parameters.text, explained.parameters.value) == (text, value)
    assert explained.parameters.value == report.layers[0].params  # the same weights, summed


def _keras_cases():
    found = []
    for name in ("sequential", "conv"):
        document = json.loads((FIXTURES / "keras" / f"{name}_reference.json").read_text())
        cases = {case["id"]: case for case in __import__("yaml").safe_load(
            (FIXTURES / "keras" / f"{name}_cases.yaml").read_text())}
        found += [(case_id, cases[case_id]["spec"], recorded) for case_id, recorded in document["cases"].items()
                  if recorded["ok"] and case_id in cases]
    return found


def test_every_formula_equals_keras_count():
    """Over every model recorded from real Keras: each layer's formula gives Keras's count."""
    import yaml

    checked = 0
    for case_id, spec, recorded in _keras_cases():
        report = analyze_text(yaml.safe_dump(spec), file=f"{case_id}.yaml")
        if not report.ok:
            continue  # the layer types lstmcalc does not have yet (merge layers)
        explained = {layer.name: layer for layer in explain(report).layers}
        for keras_layer in recorded["layers"]:
            if keras_layer["class_name"] == "InputLayer":
                continue
            assert explained[keras_layer["name"]].parameters.value == keras_layer["params"], (case_id,
                                                                                              keras_layer["name"])
            checked += 1
    assert checked > 400


PYTORCH = json.loads((FIXTURES / "pytorch" / "pytorch_reference.json").read_text())["cases"]
RECURRENT = {case_id: case for case_id, case in PYTORCH.items() if case["torch"]["module"] != "Linear"}


@pytest.mark.parametrize("case_id", sorted(RECURRENT))
def test_pytorch_layout_equals_pytorch(case_id):
    case = RECURRENT[case_id]
    view = layer_of(case["input"], case["keras"]).pytorch
    assert [(row.name, list(row.shape)) for row in view.weights] == [
        (item["name"], item["shape"]) for item in case["parameters"]]
    assert view.parameters.value == case["params"]
    # the module as constructed; PyTorch's repr leaves out nonlinearity='relu'
    assert view.module.replace("nn.", "").replace("nonlinearity='relu', ", "") == case["module"]
    assert view.equivalent


def test_pytorch_count_difference_for_lstm1():
    notes = layer_of([50, 10], "LSTM(128)").pytorch.notes
    assert notes[0].startswith("PyTorch: 71,680 = 71,168 + 512.")


def test_gru_reset_before_has_no_pytorch_equivalent():
    view = layer_of([20, 16], "GRU(32, reset_after=False)").pytorch
    assert not view.equivalent
    assert view.notes[0].startswith("No PyTorch equivalent: nn.GRU always applies the reset gate after")


def test_non_default_activation_has_no_pytorch_equivalent():
    assert not layer_of([10, 4], "LSTM(3, activation='relu')").pytorch.equivalent
    assert layer_of([10, 4], "SimpleRNN(3, activation='relu')").pytorch.equivalent
    assert not layer_of([10, 4], "SimpleRNN(3, activation='sigmoid')").pytorch.equivalent


def test_dense_has_no_pytorch_view():
    assert layer_of([8], "Dense(2)").pytorch is None


def _equations(layer):
    return {equation.lhs: equation.rhs for block in layer.blocks for equation in block.equations}


def _symbols(layer):
    return {symbol.names: symbol.shape for block in layer.blocks for symbol in block.symbols}


def test_lstm_equations_with_dimensions():
    layer = layer_of([50, 10], "LSTM(128)")
    equations = _equations(layer)
    assert equations["i_t"] == "σ(x_t·W_i + h_{t−1}·U_i + b_i)"
    assert equations["c̃_t"] == "tanh(x_t·W_c + h_{t−1}·U_c + b_c)"
    assert equations["c_t"] == "f_t ⊙ c_{t−1} + i_t ⊙ c̃_t"
    assert equations["h_t"] == "o_t ⊙ tanh(c_t)"
    symbols = _symbols(layer)
    assert symbols["x_t"] == "(batch, 10)"
    assert symbols["W_i, W_f, W_c, W_o"] == "(10, 128)"
    assert symbols["U_i, U_f, U_c, U_o"] == "(128, 128)"
    assert symbols["b_i, b_f, b_c, b_o"] == "(128,)"
    assert layer.blocks[0].loop.startswith("for t = 1, …, 50")


def test_weight_layout_names_the_gate_blocks():
    rows = {row.name: row for row in layer_of([50, 10], "LSTM(128)").weights}
    assert rows["kernel"].layout == "[W_i | W_f | W_c | W_o]: 10 features × (4 gates × 128 units)"
    assert rows["kernel"].shape == (10, 512)


def test_gru_equations_in_both_reset_forms():
    after = _equations(layer_of([20, 16], "GRU(32)"))
    before = _equations(layer_of([20, 16], "GRU(32, reset_after=False)"))
    assert after["h̃_t"] == "tanh(x_t·W_h + b_xh + r_t ⊙ (h_{t−1}·U_h + b_hh))"
    assert before["h̃_t"] == "tanh(x_t·W_h + (r_t ⊙ h_{t−1})·U_h + b_h)"
    assert after["h_t"] == before["h_t"] == "z_t ⊙ h_{t−1} + (1 − z_t) ⊙ h̃_t"


def test_simple_rnn_and_activations_follow_the_config():
    assert _equations(layer_of([7, 3], "SimpleRNN(4)")) == {"h_t": "tanh(x_t·W + h_{t−1}·U + b)"}
    assert _equations(layer_of([7, 3], "SimpleRNN(4, activation='relu', use_bias=False)")) == {
        "h_t": "relu(x_t·W + h_{t−1}·U)"}
    equations = _equations(layer_of([7, 3], "LSTM(4, recurrent_activation='hard_sigmoid')"))
    assert equations["f_t"].startswith("hard_sigmoid(")


@pytest.mark.parametrize("type_name, gates", [("LSTM", 4), ("GRU", 3), ("SimpleRNN", 1)])
def test_every_cell_names_as_many_gates_as_it_has(type_name, gates):
    cls = all_layer_classes()[type_name]
    assert len(cls.cell_gates) == cls.gates == gates


def test_bidirectional_two_copies_and_the_merge():
    layer = layer_of([100, 16], "Bidirectional(LSTM(64, return_sequences=True))")
    titles = [block.title for block in layer.blocks]
    assert titles[0].startswith("forward copy") and titles[1].startswith("backward copy")
    assert titles[2] == "merge"
    assert layer.blocks[2].equations[0].rhs == "[h→ ; h←]"
    assert "t = 100, …, 1" in layer.blocks[1].loop
    summed = layer_of([100, 16], "Bidirectional(LSTM(32), merge_mode='sum')")
    assert summed.blocks[2].equations[0].rhs == "h→ + h←"


SETTINGS = [
    # (return_sequences, return_state) → shapes of LSTM(50) on 10 steps of 5 features
    ((False, False), ("(batch, 50)",)),
    ((False, True), ("(batch, 50)", "(batch, 50)", "(batch, 50)")),  # output = h_10, then h_10, c_10
    ((True, False), ("(batch, 10, 50)",)),
    ((True, True), ("(batch, 10, 50)", "(batch, 50)", "(batch, 50)")),
]


def test_convlstm_equations_convolve():
    layer = layer_of([5, 16, 16, 3], "ConvLSTM2D(8, 3, strides=2)")
    equations = _equations(layer)
    assert equations["i_t"] == "σ(W_i * x_t + U_i * h_{t−1} + b_i)"
    assert equations["c_t"] == "f_t ⊙ c_{t−1} + i_t ⊙ c̃_t"
    symbols = _symbols(layer)
    # (16 − 3) // 2 + 1 = 7 positions per axis; the recurrent kernel reads the 8 filters of h
    assert symbols["x_t"] == "(batch, 16, 16, 3)" and symbols["h_{t−1}, h_t"] == "(batch, 7, 7, 8)"
    assert symbols["W_i, W_f, W_c, W_o"] == "(3, 3, 3, 8)" and symbols["U_i, U_f, U_c, U_o"] == "(3, 3, 8, 8)"
    assert "* = convolution (W * x_t: strides 2, padding valid; U * h_{t−1}: strides 1, padding same)" in \
        layer.blocks[0].legend
    assert layer.pytorch is None and any("PyTorch has no ConvLSTM" in words for words in layer.in_words)
    # both convolutions at each of the 49 positions: 4 × 8 × 49 × 3 × 3 × (3 + 8)
    assert (layer.macs.per_step.value, layer.macs.steps) == (4 * 8 * 49 * 9 * 11, 5)
    assert [(row.role, row.shape) for row in layer.outputs] == [
        ("output", "(batch, 7, 7, 8)"), ("hidden state h_t", "(batch, 7, 7, 8)"),
        ("cell state c_t", "(batch, 7, 7, 8)")]


def test_convlstm_states_and_settings_channels_first():
    layer = layer_of([5, 3, 10, 10], "ConvLSTM2D(4, 3, padding='same', data_format='channels_first', "
                                     "return_state=True)")
    assert [row.shape for row in layer.outputs] == ["(batch, 4, 10, 10)"] * 3
    assert [setting.shapes[0] for setting in layer.settings] == [
        "(batch, 4, 10, 10)", "(batch, 4, 10, 10)", "(batch, 5, 4, 10, 10)", "(batch, 5, 4, 10, 10)"]
    words = " ".join(layer.in_words)
    # (4 gates + h and c) × 100 positions × 4 filters = 2,400 values kept per step
    assert "= 2,400 values per step and sample (12,000 over the 5 steps)" in words


def test_bidirectional_convlstm_merges_maps():
    layer = layer_of([5, 3, 8, 8], "Bidirectional(ConvLSTM2D(2, 3, data_format='channels_first'))")
    symbols = _symbols(layer)
    # concat joins the last axis, which is a spatial axis with channels_first, as in Keras: (2, 6, 12)
    assert symbols["h→, h←"] == "(batch, 2, 6, 6)" and symbols["y"] == "(batch, 2, 6, 12)"
    assert layer.headline == ("Bidirectional ConvLSTM2D with 2 filters per direction, reading 5 steps of 8×8 frames "
                              "of 3 channels both ways")
    assert layer.pytorch is None


def test_convlstm_fed_a_frame_is_explained_as_a_missing_time_axis():
    layer = explain(analyze_layers([5, 16, 16, 3], ["ConvLSTM2D(8, 3)", "ConvLSTM2D(4, 3)"])).layers[1]
    assert "one frame of shape (14, 14, 8) per sample" in layer.rejection.reason
    assert "(batch, 5, 14, 14, 8)" in layer.rejection.would_be
    assert layer.headline.startswith("ConvLSTM2D with 4 filters of 3×3, reading 5 steps of 14×14 frames")


def test_conv2d_equation_reads_a_window():
    layer = layer_of([28, 28, 3], "Conv2D(16, 3, strides=2, activation='relu')")
    assert _equations(layer)["y_{i,j}"] == "relu(Σ_m,n x_{2·i + m, 2·j + n}·W_{m,n} + b)"
    assert layer.headline == "Conv2D with 16 filters of 3×3"
    assert (layer.macs.per_step.value, layer.macs.steps) == (3 * 3 * 3 * 16, 13 * 13)


def test_shapes_under_each_setting():
    layer = layer_of([10, 5], "LSTM(50, return_state=True)")
    assert [((s.return_sequences, s.return_state), s.shapes) for s in layer.settings] == SETTINGS
    assert [s.current for s in layer.settings] == [False, True, False, False]
    assert layer.settings[1].roles == ("output", "h_10", "c_10")
    assert [row.role for row in layer.outputs] == ["output", "state h_10", "state c_10"]


def test_bidirectional_settings_list_both_directions_states():
    layer = layer_of([10, 4], "Bidirectional(GRU(6))")
    assert layer.settings[1].roles == ("output", "forward h_10", "backward h_10")
    assert layer.settings[1].shapes == ("(batch, 12)", "(batch, 6)", "(batch, 6)")


def test_seed_000_rejection_in_the_terms_of_the_equations():
    explanation = explain(analyze(SEED_000))
    layer = {item.name: item for item in explanation.layers}["lstm_1"]
    rejection = layer.rejection
    assert rejection.received == ["(batch, 50)"]
    assert "one vector of 50 values per sample, not a sequence" in rejection.reason
    assert "lstm has return_sequences: false" in rejection.reason
    assert "Dense(10) on (batch, 50)" in rejection.reason and "510 parameters" in rejection.reason
    assert [item.code for item in rejection.diagnostics] == ["H001"]
    # what it would compute once fixed: the count of specs/seed_000_return_sequences.yaml's lstm_1
    assert "(batch, 10, 50)" in rejection.would_be
    assert layer.parameters.text == "4 × (10 × (50 + 10) + 10)" and layer.parameters.value == 2440
    assert {item.name: item.status for item in explanation.layers}["dense"] == "not-reached"


def test_rejection_without_a_correction():
    layer = explain(analyze_layers([10, 4], ["RepeatVector(3)"])).layers[0]
    assert layer.rejection is not None and layer.rejection.would_be == ""
    assert layer.rejection.diagnostics[0].code == "H001"


def test_a_type_without_equations_degrades(monkeypatch):
    from lstmcalc.layers.core import Dense

    monkeypatch.setattr(Dense, "explain_math", Layer.explain_math)
    layer = layer_of([8], "Dense(2)")
    assert layer.blocks[0].equations == []
    assert "no equations for Dense yet" in layer.blocks[0].legend
    assert layer.parameters.value == 18 and layer.macs.total == 16  # still exact
    for name in EXPLAIN_RENDERERS:
        get_renderer(name, EXPLAIN_RENDERERS)(explain(analyze_layers([8], ["Dense(2)"])), RenderOptions())


def test_a_type_without_a_mac_rule_says_so(monkeypatch):
    from lstmcalc.layers.core import Dense

    monkeypatch.setattr(Dense, "macs", lambda self, inputs, outputs: None)
    layer = layer_of([8], "Dense(2)")
    assert layer.macs is None and layer.notes == ["MACs not counted: lstmcalc has no MAC rule for Dense yet."]


def test_every_layer_type_has_equations():
    without = [name for name, cls in all_layer_classes().items() if cls.explain_math is Layer.explain_math]
    assert without == []


def test_unknown_layer_name():
    with pytest.raises(UnknownLayer):
        explain(analyze(SEED_001), ["lstm3"])


def test_explain_selected_layers_only():
    explanation = explain(analyze(SEED_001), ["lstm2"])
    assert [layer.name for layer in explanation.layers] == ["lstm2"]
    assert explanation.compute is None  # model totals only when the whole model is explained


@pytest.mark.parametrize("output_format, suffix", [("text", "txt"), ("markdown", "md"), ("json", "json")])
def test_golden_seed_001(output_format, suffix, golden, monkeypatch):
    monkeypatch.chdir(SPECS.parent)
    text = get_renderer(output_format, EXPLAIN_RENDERERS)(explain(lstmcalc.analyze(
        "specs/seed_001_stacked_lstm.yaml")), RenderOptions())
    golden(f"explain/seed_001_stacked_lstm.{suffix}", text)


def test_golden_seed_000(golden, monkeypatch):
    monkeypatch.chdir(SPECS.parent)
    text = get_renderer("text", EXPLAIN_RENDERERS)(explain(lstmcalc.analyze(
        "specs/seed_000_stacked_lstm.yaml")), RenderOptions())
    golden("explain/seed_000_stacked_lstm.txt", text)


def run(*args):
    return CliRunner().invoke(cli, list(args))


EXIT_CODES = [
    ("spec", ["explain", SEED_001], 0),
    ("one-layer", ["explain", SEED_001, "lstm1"], 0),
    ("layer-option", ["explain", SEED_001, "--layer", "lstm2"], 0),
    ("json", ["explain", SEED_001, "--format", "json"], 0),
    ("markdown", ["explain", SEED_001, "--format", "markdown"], 0),
    ("command-line", ["explain", "--input", "10,5", "LSTM(50, return_state=True)"], 0),
    ("command-line-layer", ["explain", "--input", "10,5", "LSTM(4, return_sequences=True)", "LSTM(2)",
                            "--layer", "lstm_1"], 0),
    ("rejected", ["explain", SEED_000], 1),
    ("rejected-layer", ["explain", SEED_000, "lstm_1"], 1),
    ("unknown-layer", ["explain", SEED_001, "lstm3"], 2),
    ("unknown-format", ["explain", SEED_001, "--format", "table"], 2),
    ("missing-file", ["explain", "no/such.yaml"], 2),
    ("no-arguments", ["explain"], 2),
]


@pytest.mark.parametrize("case_id, arguments, code", EXIT_CODES, ids=[c[0] for c in EXIT_CODES])
def test_exit_codes(case_id, arguments, code):
    result = run(*arguments)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output


def test_unknown_layer_suggests_a_name():
    assert "did you mean lstm2?" in run("explain", SEED_001, "lstm3").output


def test_json_document():
    document = json.loads(run("explain", SEED_001, "lstm1", "--format", "json").output)
    assert document["schema"] == "lstmcalc.explain/1" and document["params"] == 137217
    lstm1 = document["layers"][0]
    assert lstm1["parameters"] == {"text": "4 × (128 × (10 + 128) + 128)", "value": 71168,
                                   "general": "gates × (units × (features + units) + units)"}
    assert lstm1["pytorch"]["weights"][0] == {"name": "weight_ih_l0", "shape": [512, 10], "size": 5120,
                                              "layout": "[W_ii; W_if; W_ig; W_io]: (4 gates × 128 units) × "
                                                        "10 features", "trainable": True}
    assert lstm1["macs"]["total"] == 3532800


def test_json_explain_imports_neither_rich_nor_numpy():
    assert heavy_modules_imported(["explain", SEED_001, "--format", "json"]) == "clean"


def test_text_explain_does_not_import_numpy():
    assert heavy_modules_imported(["explain", SEED_001], ("numpy",)) == "clean"


def test_installed_command_explains_seed_000():
    result = subprocess.run(_installed_command() + ["explain", SEED_000, "lstm_1"], capture_output=True,
                            text=True)
    assert result.returncode == 1
    assert "✗ rejected by Keras: it receives (batch, 50)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_show_picks_sections():
    output = run("explain", SEED_001, "lstm2", "--show", "outputs").output
    assert "Outputs" in output and "What return_sequences and return_state change" in output
    assert "Equations" not in output and "Weights as Keras" not in output


def test_show_keeps_the_rejection():
    output = run("explain", SEED_000, "lstm_1", "--show", "outputs").output
    assert "✗ rejected by Keras: it receives (batch, 50)" in output


@pytest.mark.parametrize("value", ["bogus", "equations,bogus", ","])
def test_bad_sections_are_usage_errors(value):
    result = run("explain", SEED_001, "--show", value)
    assert result.exit_code == 2 and "is not a section" in result.output


def test_markdown_sections():
    output = run("explain", SEED_001, "lstm1", "--format", "markdown", "--show", "weights").output
    assert "**Parameters:** 4 × (128 × (10 + 128) + 128) = 71,168" in output
    assert "### Equations" not in output


def test_an_unreadable_spec_shows_its_error():
    result = CliRunner().invoke(cli, ["explain", "-"], input="input: [10, 5]\nlayers:\n  - LSTM(4\n")
    assert result.exit_code == 1
    assert "error[S008] <stdin>:3:" in result.output


def test_a_layer_that_cannot_be_built_shows_why():
    layer = explain(analyze_text("input: [10, 5]\nlayers:\n  - LSTX(4)\n", file="x.yaml")).layers[0]
    assert [item.code for item in layer.rejection.diagnostics] == ["S003"]
    assert layer.rejection.reason == "Unknown layer type `LSTX`."


def test_warnings_are_shown_under_their_layer():
    explanation = explain(analyze_layers([10, 5], ["Bidirectional(LSTM(3), trainable=False)"]))
    assert [item.code for item in explanation.layers[0].findings] == ["P001"]
    assert explanation.unplaced() == []
