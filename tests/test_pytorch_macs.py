"""MACs of PyTorch modules: lstmcalc's own count (docs/compute.md, hand-derived cases) and what
torchinfo, thop, ptflops and DeepSpeed report for the same module — computed by lstmcalc from each
tool's formula (tests/fixtures/pytorch/MACS.md) and checked against every number the tools gave
(macs_reference.json, recorded by scripts/record_pytorch_macs.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lstmcalc import analyze_text
from lstmcalc.compute import compute_figures, input_tensors
from lstmcalc.explain import explain
from lstmcalc.layers.base import TensorSpec
from lstmcalc.render import EXPLAIN_RENDERERS, RenderOptions, get_renderer

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pytorch"
CASES = json.loads((FIXTURES / "macs_reference.json").read_text(encoding="utf-8"))["cases"]

RECORDED = {
    "torchinfo": lambda case: case["torchinfo"]["total_mult_adds"],
    "thop": lambda case: case["thop"]["macs"],
    "ptflops (pytorch)": lambda case: case["ptflops"]["pytorch"]["macs"],
    "ptflops (aten)": lambda case: case["ptflops"]["aten"]["macs"],
    "DeepSpeed": lambda case: case["deepspeed"]["flops"],
}


def counts_of(spec: dict):
    report = analyze_text(yaml.safe_dump(spec))
    record = report.layers[0]
    layer = report.graph.nodes[record.name].layer
    outputs = [TensorSpec(shape) for shape in record.output_shapes]
    return report, layer.mac_tool_counts(input_tensors(report, record), outputs, report.batch_size)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_each_tools_number_from_its_formula(case_id):
    case = CASES[case_id]
    _, counts = counts_of(case["spec"])
    recurrent = case["spec"]["layers"][0]["type"] in ("LSTM", "GRU", "RNN")
    assert [count.tool for count in counts] == (list(RECORDED) if recurrent else ["torchinfo"])
    for count in counts:
        assert count.value == RECORDED[count.tool](case), (count.tool, count.formula)
        assert count.formula and count.why


def test_deepspeed_reports_flops_and_zero_macs_for_rnns():
    case = CASES["lstm-t5-num-layers-1-bidirectional-false-proj-size-0"]
    assert case["deepspeed"]["macs"] == 0
    _, counts = counts_of(case["spec"])
    assert next(count for count in counts if count.tool == "DeepSpeed").unit == "FLOPs"


# lstmcalc's convention: products with a weight, per sample, every step, every layer and direction;
# per step and direction, gates × hidden × (input width + H_out) (+ hidden × proj_size with a projection).
@pytest.mark.parametrize("layer, features, steps, per_step", [
    # 4 × 20 × (10 + 20) = 2,400
    ("{type: LSTM, hidden_size: 20, batch_first: true}", 10, 5, 2400),
    # layer 0: 2 × 4 × 20 × (10 + 20) = 4,800; layer 1 reads 2 × 20: 2 × 4 × 20 × (40 + 20) = 9,600
    ("{type: LSTM, hidden_size: 20, num_layers: 2, bidirectional: true}", 10, 5, 14400),
    # with proj_size 7: 4 × 20 × (10 + 7) + 20 × 7 = 1,500
    ("{type: LSTM, hidden_size: 20, proj_size: 7, batch_first: true}", 10, 50, 1500),
    # 3 × 20 × (10 + 20) = 1,800; the two biases are not products
    ("{type: GRU, hidden_size: 20}", 10, 5, 1800),
    # 20 × (10 + 20) = 600 for layer 0, 20 × (20 + 20) = 800 for layer 1
    ("{type: RNN, hidden_size: 20, num_layers: 2, nonlinearity: relu}", 10, 5, 1400),
])
def test_lstmcalc_counts_products_per_sample(layer, features, steps, per_step):
    spec = f"framework: pytorch\nbatch_size: 3\ninput: [{steps}, {features}]\nlayers:\n  - {layer}\n"
    report = analyze_text(spec)
    figures = compute_figures(report).layer(report.layers[0].name)
    assert figures.macs.per_step.value == per_step
    assert figures.macs.steps == steps
    assert figures.macs.total == per_step * steps


def test_time_major_layout_counts_per_sample_too():
    """(T, N, F): the batch is axis 1, so per-sample figures leave it out, not the steps."""
    report = analyze_text("framework: pytorch\nbatch_size: 3\ninput: [5, 10]\nlayers:\n"
                          "  - {type: LSTM, hidden_size: 20}\n  - {type: Linear, out_features: 4}\n")
    figures = compute_figures(report)
    assert report.inputs[0].shape == (5, 3, 10)
    # LSTM 4 × 20 × 30 × 5 steps; Linear 20 × 4 at each of the 5 steps of a sample.
    assert figures.macs.fixed == 4 * 20 * 30 * 5 + 20 * 4 * 5
    # Activations for the batch: 3 × (5 × 20 output + 20 h_n + 20 c_n + 5 × 4) × 4 bytes.
    assert figures.activation_bytes.fixed == 3 * (5 * 20 + 20 + 20 + 5 * 4) * 4


@pytest.mark.parametrize("renderer", sorted(EXPLAIN_RENDERERS))
def test_explain_shows_the_tools(renderer):
    spec = CASES["lstm-t5-num-layers-1-bidirectional-false-proj-size-0"]["spec"]
    report = analyze_text(yaml.safe_dump(spec))
    text = get_renderer(renderer, EXPLAIN_RENDERERS)(explain(report), RenderOptions())
    for number in ("12,800" if renderer != "json" else "12800", "13,600" if renderer != "json" else "13600"):
        assert number in text
    assert "thop" in text and "DeepSpeed" in text
