"""`lstmcalc explain` for PyTorch modules: torch's vocabulary, equations and symbols, the count per
layer and direction, the module as Keras stores it, the MAC counters — and golden output."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lstmcalc import analyze, analyze_text
from lstmcalc.cli import cli
from lstmcalc.explain import explain
from lstmcalc.render import EXPLAIN_RENDERERS, RenderOptions, get_renderer

from .conftest import SPECS

CLASSIFIER = SPECS / "pytorch_text_classifier.yaml"


def layer_of(text: str, name: str):
    report = analyze_text(text)
    return next(item for item in explain(report).layers if item.name == name)


@pytest.mark.parametrize("output_format, suffix", [("text", "txt"), ("markdown", "md")])
def test_golden_pytorch_text_classifier(output_format, suffix, golden, monkeypatch):
    monkeypatch.chdir(SPECS.parent)
    report = analyze("specs/pytorch_text_classifier.yaml")
    text = get_renderer(output_format, EXPLAIN_RENDERERS)(explain(report), RenderOptions())
    golden(f"explain/pytorch_text_classifier.{suffix}", text)


def test_torch_symbols_and_gates():
    item = layer_of("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n"
                    "  - {type: GRU, name: gru, hidden_size: 4}\n", "gru")
    equations = {equation.lhs: equation.rhs for block in item.blocks for equation in block.equations}
    assert list(equations)[:3] == ["r_t", "z_t", "n_t"]
    assert equations["n_t"] == "tanh(W_in·x_t + b_in + r_t ⊙ (W_hn·h_{t−1} + b_hn))"
    assert equations["h_t"] == "(1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}"
    assert [row.name for row in item.weights] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert item.weights[0].layout == "[W_ir; W_iz; W_in]"


def test_projection_equation_and_count():
    item = layer_of("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n"
                    "  - {type: LSTM, name: lstm, hidden_size: 6, proj_size: 2}\n", "lstm")
    equations = {equation.lhs: equation.rhs for block in item.blocks for equation in block.equations}
    assert equations["h_t"] == "W_hr·(o_t ⊙ tanh(c_t))"
    # 4 × (6 × (3 + 2) + 2 × 6) + 2 × 6 = 4 × 42 + 12 = 180
    assert item.parameters.text == "4 × (6 × (3 + 2) + 2 × 6) + 2 × 6" and item.parameters.value == 180
    assert item.pytorch.framework == "Keras" and not item.pytorch.equivalent
    # per step: 4 × 6 × (3 + 2) + 6 × 2 = 132
    assert item.macs.per_step.value == 132


def test_count_per_layer_and_direction():
    item = layer_of("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n"
                    "  - {type: RNN, name: rnn, hidden_size: 4, num_layers: 2, bidirectional: true}\n", "rnn")
    # layer 0: 4 × (3 + 4) + 2 × 4 = 36 per direction; layer 1 reads 2 × 4: 4 × (8 + 4) + 8 = 56
    assert item.parameters.text == "2 × (4 × (3 + 4) + 2 × 4) + 2 × (4 × (8 + 4) + 2 × 4)"
    assert item.parameters.value == 2 * 36 + 2 * 56
    assert "layer 0: 4 × (3 + 4) + 2 × 4 = 36; layer 1: 4 × (8 + 4) + 2 × 4 = 56" in item.in_words[0]


def test_keras_view_of_a_module():
    item = layer_of("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n"
                    "  - {type: LSTM, name: lstm, hidden_size: 4, num_layers: 2, dropout: 0.2}\n", "lstm")
    view = item.pytorch
    assert view.module == "2 × LSTM(4, return_sequences=True)"
    assert [row.name for row in view.weights][:3] == ["lstm/kernel", "lstm/recurrent_kernel", "lstm/bias"]
    assert view.weights[3].name == "lstm_l1/kernel"
    # Keras: 4 × (4 × (3 + 4) + 4) + 4 × (4 × (4 + 4) + 4) = 128 + 144 = 272; PyTorch 32 more biases
    assert view.parameters.value == 272 and item.parameters.value == 304
    assert any("Dropout" in note for note in view.notes)


def test_last_step_after_a_bidirectional_module_says_what_it_takes():
    item = layer_of("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n"
                    "  - {type: LSTM, name: lstm, hidden_size: 4, bidirectional: true, batch_first: true}\n"
                    "  - {type: LastStep, name: last}\n", "last")
    assert "torch.cat((h_n[-2], h_n[-1]), dim=1)" in item.blocks[0].equations[0].note
    assert any("not a torch.nn module" in sentence for sentence in item.in_words)


def test_text_uses_pytorchs_words():
    result = CliRunner().invoke(cli, ["explain", str(CLASSIFIER), "lstm"])
    assert result.exit_code == 0
    assert "Weights as PyTorch stores them" in result.output
    assert "Weights as Keras stores the same layer: 2 × Bidirectional(LSTM(256, return_sequences=True))" in result.output
    assert "None in Keras's summary" not in result.output


def test_a_module_torch_refuses_is_rejected_by_pytorch():
    text = ("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n"
            "  - {type: LSTM, name: lstm, input_size: 4, hidden_size: 4}\n")
    result = CliRunner().invoke(cli, ["explain", "-"], input=text)
    assert result.exit_code == 1
    words = " ".join(result.output.split())  # the text is wrapped
    assert "✗ rejected by PyTorch" in words and "input.size(-1) must be equal to input_size. Expected 4, got 3" in words


def test_json_carries_the_counters():
    result = CliRunner().invoke(cli, ["explain", str(CLASSIFIER), "lstm", "--format", "json"])
    (layer,) = json.loads(result.output)["layers"]
    assert [tool["tool"] for tool in layer["mac_tools"]] == ["torchinfo", "thop", "ptflops (pytorch)",
                                                              "ptflops (aten)", "DeepSpeed"]
    assert layer["pytorch"]["framework"] == "Keras"
