"""Graph specs: merge-layer shape rules (hand-derived), wiring errors with their locations, and the
bundled graph specs against the models recorded from real Keras."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import lstmcalc
from lstmcalc import analyze_text

from .conftest import SPECS
from .test_keras_functional import CASES, keras_rows, our_rows

N = None


def graph(inputs: dict, layers: list, outputs=None):
    spec = {"inputs": {name: {"shape": list(shape)} for name, shape in inputs.items()}, "layers": layers}
    if outputs is not None:
        spec["outputs"] = outputs
    return analyze_text(json.dumps(spec), file="graph.yaml")  # JSON is YAML


# (id, inputs, layer, expected output shape, params)
MERGES = [
    ("add", {"a": [10, 8], "b": [10, 8]}, {"type": "Add"}, (N, 10, 8), 0),
    ("add-three", {"a": [8], "b": [8], "c": [8]}, {"type": "Add"}, (N, 8), 0),
    # a 1 stretches; shapes align on the right: (1, 8) + (10, 8) → (10, 8)
    ("add-broadcast", {"a": [1, 8], "b": [10, 8]}, {"type": "Add"}, (N, 10, 8), 0),
    ("add-lower-rank", {"a": [10, 8], "b": [8]}, {"type": "Add"}, (N, 10, 8), 0),
    ("add-unknown", {"a": [N, 8], "b": [10, 8]}, {"type": "Add"}, (N, N, 8), 0),
    ("subtract", {"a": [8], "b": [8]}, {"type": "Subtract"}, (N, 8), 0),
    ("multiply", {"a": [5, 8], "b": [5, 8]}, {"type": "Multiply"}, (N, 5, 8), 0),
    ("average", {"a": [8], "b": [8]}, {"type": "Average"}, (N, 8), 0),
    ("maximum", {"a": [8], "b": [8]}, {"type": "Maximum"}, (N, 8), 0),
    ("minimum", {"a": [8], "b": [8]}, {"type": "Minimum"}, (N, 8), 0),
    # concatenate: sizes add along the axis (8 + 4 = 12; 10 + 5 = 15); unknown stays unknown
    ("concat-features", {"a": [10, 8], "b": [10, 4]}, {"type": "Concatenate"}, (N, 10, 12), 0),
    ("concat-time", {"a": [10, 8], "b": [5, 8]}, {"type": "Concatenate", "axis": 1}, (N, 15, 8), 0),
    ("concat-unknown", {"a": [N, 8], "b": [10, 8]}, {"type": "Concatenate", "axis": 1}, (N, N, 8), 0),
    ("concat-three", {"a": [3], "b": [4], "c": [5]}, {"type": "Concatenate"}, (N, 12), 0),
    # dot: drop the summed axis of each; (10, 8)·(12, 8) over features → (10, 12)
    ("dot-vectors", {"a": [8], "b": [8]}, {"type": "Dot", "axes": 1}, (N, 1), 0),
    ("dot-features", {"a": [10, 8], "b": [12, 8]}, {"type": "Dot", "axes": 2}, (N, 10, 12), 0),
    ("dot-time", {"a": [10, 8], "b": [10, 6]}, {"type": "Dot", "axes": 1}, (N, 8, 6), 0),
    ("dot-pair", {"a": [10, 8], "b": [8, 6]}, {"type": "Dot", "axes": [2, 1]}, (N, 10, 6), 0),
    # attention: (query steps, value features); use_scale adds one scalar, concat scoring another
    ("attention", {"q": [10, 16], "v": [20, 16]}, {"type": "Attention"}, (N, 10, 16), 0),
    ("attention-key", {"q": [10, 16], "v": [20, 8], "k": [20, 16]}, {"type": "Attention"}, (N, 10, 8), 0),
    ("attention-scaled-concat", {"q": [10, 16], "v": [20, 16]},
     {"type": "Attention", "use_scale": True, "score_mode": "concat"}, (N, 10, 16), 1 + 1),
    # additive attention learns a scale per query feature: 16
    ("additive-attention", {"q": [10, 16], "v": [20, 16]}, {"type": "AdditiveAttention"}, (N, 10, 16), 16),
]


@pytest.mark.parametrize("case_id, inputs, layer, shape, params", MERGES, ids=[m[0] for m in MERGES])
def test_merge_rules(case_id, inputs, layer, shape, params):
    report = graph(inputs, [dict(layer, inputs=list(inputs))])
    assert report.ok, report.diagnostics
    assert report.layers[0].output_shapes == [shape]
    assert report.layers[0].params == params


# (id, inputs, layer, code): merges Keras rejects (or builds but cannot run)
MERGE_ERRORS = [
    ("add-incompatible", {"a": [10, 8], "b": [10, 6]}, {"type": "Add"}, "H004"),
    ("add-batch-sizes", None, None, "H004"),
    ("subtract-three", {"a": [8], "b": [8], "c": [8]}, {"type": "Subtract"}, "H002"),
    ("concat-mismatch", {"a": [10, 8], "b": [12, 4]}, {"type": "Concatenate"}, "H004"),
    ("concat-rank", {"a": [10, 8], "b": [8]}, {"type": "Concatenate"}, "H004"),
    ("dot-mismatch", {"a": [10, 8], "b": [12, 6]}, {"type": "Dot", "axes": 2}, "H004"),
    ("dot-unknown-vs-known", {"a": [N, 8], "b": [10, 6]}, {"type": "Dot", "axes": 1}, "H004"),
    ("dot-three", {"a": [8], "b": [8], "c": [8]}, {"type": "Dot", "axes": 1}, "H002"),
    ("attention-key-size", {"q": [10, 16], "v": [20, 8]}, {"type": "Attention"}, "H004"),
    ("attention-four", {"a": [4, 2], "b": [4, 2], "c": [4, 2], "d": [4, 2]}, {"type": "Attention"}, "H002"),
]


@pytest.mark.parametrize("case_id, inputs, layer, code", MERGE_ERRORS, ids=[m[0] for m in MERGE_ERRORS])
def test_merge_errors(case_id, inputs, layer, code):
    if case_id == "add-batch-sizes":
        report = analyze_text(textwrap.dedent("""\
            inputs: {a: {shape: [8], batch_size: 4}, b: {shape: [8], batch_size: 5}}
            layers: [{type: Add, inputs: [a, b]}]
            """))
    else:
        report = graph(inputs, [dict(layer, inputs=list(inputs))])
    assert [d.code for d in report.errors] == [code]
    assert report.errors[0].layer == report.layers[0].name


def test_a_merge_needs_a_list():
    report = graph({"a": [8]}, [{"type": "Add", "inputs": "a"}])
    assert report.errors[0].code == "H002"
    # a list of one tensor is what Keras accepts
    assert graph({"a": [8]}, [{"type": "Add", "inputs": ["a"]}]).ok


SEQ2SEQ = """\
inputs:
  src: {shape: [null, 8]}
  tgt: {shape: [null, 8]}
layers:
  - {type: LSTM, name: encoder, units: 16, return_state: true, inputs: src}
  - {type: LSTM, name: decoder, units: 16, return_sequences: true, inputs: tgt,
     initial_state: ["encoder[1]", "encoder[2]"]}
"""


def test_initial_state_from_an_encoder():
    report = analyze_text(SEQ2SEQ)
    decoder = report.layer("decoder")
    assert report.ok and decoder.initial_state == ["encoder[1]", "encoder[2]"]
    assert decoder.connected_to == ["tgt[0]", "encoder[1]", "encoder[2]"]


# (id, spec text, code, line, the text the column points at, words the message must contain)
GRAPH_ERRORS = [
    ("unknown-reference", SEQ2SEQ.replace("inputs: tgt", "inputs: tgx"), "S011", 6, "tgx", ["tgx", "tgt"]),
    ("index-out-of-range", SEQ2SEQ.replace("encoder[2]", "encoder[3]"), "S014", 7, '"encoder[3]"',
     ["encoder[3]", "3 output"]),
    ("state-count", SEQ2SEQ.replace(', "encoder[2]"', ""), "T003", 7, '"encoder[1]"', ["2 initial state", "receives 1"]),
    ("state-shape", SEQ2SEQ.replace("name: decoder, units: 16", "name: decoder, units: 32"), "T004", 7,
     '"encoder[1]"', ["(None, 32)", "(None, 16)", "hidden state"]),
    ("state-on-dense", SEQ2SEQ.replace("type: LSTM, name: decoder, units: 16, return_sequences: true",
                                       "type: Dense, name: decoder, units: 16"), "S004", 7, '"encoder[1]"',
     ["initial_state"]),
    ("multi-output-to-dense", "inputs: {x: {shape: [10, 4]}}\nlayers:\n"
     "  - {type: LSTM, name: enc, units: 8, return_state: true, inputs: x}\n"
     "  - {type: Dense, units: 1, inputs: enc}\n", "H002", 4, "{type: Dense", ["3 input tensors"]),
    ("cycle", "inputs: {x: {shape: [4]}}\nlayers:\n"
     "  - {type: Dense, name: a, units: 4, inputs: [x, b]}\n"
     "  - {type: Dense, name: b, units: 4, inputs: a}\n", "S013", 3, "{type: Dense", ["a → b → a", "cycle"]),
    ("self-reference", "inputs: {x: {shape: [4]}}\nlayers:\n"
     "  - {type: Dense, name: a, units: 4, inputs: a}\n", "S013", 3, "a}", ["itself"]),
    ("duplicate-layer-name", "inputs: {x: {shape: [4]}}\nlayers:\n"
     "  - {type: Dense, name: a, units: 4, inputs: x}\n"
     "  - {type: Dense, name: a, units: 4, inputs: x}\n", "S009", 4, "{type", ["'a'"]),
    ("layer-named-like-input", "inputs: {x: {shape: [4]}}\nlayers:\n"
     "  - {type: Dense, name: x, units: 4, inputs: x}\n", "S009", 3, "{type", ["input"]),
    ("unknown-output", "inputs: {x: {shape: [4]}}\nlayers:\n"
     "  - {type: Dense, name: a, units: 4, inputs: x}\noutputs: [b]\n", "S011", 4, "b]", ["`b`"]),
]


@pytest.mark.parametrize("case_id, text, code, line, anchor, words", GRAPH_ERRORS,
                         ids=[case[0] for case in GRAPH_ERRORS])
def test_graph_errors(case_id, text, code, line, anchor, words):
    report = analyze_text(text, file="graph.yaml")
    first = report.errors[0]
    column = text.splitlines()[line - 1].index(anchor) + 1
    assert (first.code, first.line, first.column) == (code, line, column), first
    for word in words:
        assert word in first.message + first.hint
    assert first.hint


def test_unused_input_and_layer_are_warnings():
    report = analyze_text("inputs: {a: {shape: [4]}, b: {shape: [4]}}\nlayers:\n"
                          "  - {type: Dense, name: used, units: 2, inputs: a}\n"
                          "  - {type: Dense, name: spare, units: 3, inputs: a}\noutputs: [used]\n",
                          file="graph.yaml")
    assert report.ok
    assert [(d.code, d.severity, d.line) for d in report.diagnostics] == [
        ("S015", "warning", 1), ("S016", "warning", 4)]
    # Keras leaves the spare layer out of the model: not in the summary, not counted
    assert [layer.name for layer in report.layers] == ["used"] and report.totals.params == 10


def test_layers_may_come_in_any_order():
    report = analyze_text("inputs: {x: {shape: [10, 4]}}\nlayers:\n"
                          "  - {type: Dense, name: head, units: 2, inputs: body}\n"
                          "  - {type: LSTM, name: body, units: 8, inputs: x}\n")
    assert report.ok and [layer.name for layer in report.layers] == ["body", "head"]


# The bundled graph specs are the models recorded from Keras (tests/fixtures/keras).
BUNDLED = [("seq2seq.yaml", "seq2seq"), ("bidirectional_encoder_decoder.yaml", "bidirectional-encoder-decoder"),
           ("two_input_concatenate.yaml", "two-input-concatenate"), ("two_head.yaml", "two-head"),
           ("seed_001_functional.yaml", "seed-001-functional")]


@pytest.mark.parametrize("spec, case_id", BUNDLED)
def test_bundled_graph_specs_equal_keras(spec, case_id):
    report = lstmcalc.analyze(SPECS / spec)
    assert report.ok and report.diagnostics == []
    assert our_rows(report) == keras_rows(CASES[case_id])
    assert report.name == CASES[case_id]["model_name"]
    assert report.totals.params == CASES[case_id]["totals"]["params"]


def test_json_lists_what_each_layer_consumes():
    document = lstmcalc.analyze(SPECS / "seq2seq.yaml").to_dict()
    decoder = [layer for layer in document["layers"] if layer["name"] == "decoder"][0]
    encoder = [layer for layer in document["layers"] if layer["name"] == "encoder"][0]
    assert decoder["inputs"] == ["dec_emb[0]"] and decoder["initial_state"] == ["encoder[1]", "encoder[2]"]
    assert encoder["mask"] == "not_equal[0]"
    assert document["outputs"] == ["logits[0]"]
    assert document["operations"] == [{"name": "not_equal", "type": "NotEqual", "inputs": ["encoder_tokens[0]"],
                                       "output_shapes": [[None, None]]}]
    # the sequential form is reported the same way, as a chain
    chain = lstmcalc.analyze(SPECS / "seed_001_stacked_lstm.yaml").to_dict()
    assert [layer["inputs"] for layer in chain["layers"]][:2] == [["input_layer[0]"], ["lstm1[0]"]]
