"""Lints beyond the documented examples: edges, wrappers, call syntax. Locations are line:column."""

from __future__ import annotations

import pytest

from lstmcalc import analyze_text
from lstmcalc.check import PASSES, findings


def found(text: str):
    return [(d.code, d.line, d.column, d.layer) for d in findings(analyze_text(text, file="t.yaml"), PASSES)
            if d.code[0] in "LT"]


# (id, spec, expected (code, line, column, layer) findings of groups L and T)
# Columns are those of the key the finding is about (e.g. `return_sequences` at column 28 of
# "  - {type: LSTM, units: 8, return_sequences: true}"), or of the layer's entry (column 5).
CASES = [
    ("per-step-through-dropout-and-dense",
     "input: [30, 4]\nlayers:\n  - {type: LSTM, units: 8, return_sequences: true}\n  - Dropout(0.2)\n"
     "  - Dense(16)\n  - Dense(1)\n",
     [("L001", 3, 28, "lstm")]),
    ("per-step-in-call-syntax-points-into-the-string",
     "input: [30, 4]\nlayers:\n  - LSTM(8, return_sequences=True)\n  - Dense(1)\n",
     [("L001", 3, 13, "lstm")]),
    ("per-step-bidirectional",
     "input: [30, 4]\nlayers:\n  - {type: Bidirectional, layer: {type: GRU, units: 8, return_sequences: true}}\n"
     "  - Dense(1)\n",
     [("L001", 3, 56, "bidirectional")]),
    ("time-distributed-says-per-step-is-meant",
     "input: [30, 4]\nlayers:\n  - LSTM(8, return_sequences=True)\n  - TimeDistributed(Dense(1))\n", []),
    ("tagger-with-several-classes-is-fine",
     "input: [30, 4]\nlayers:\n  - LSTM(8, return_sequences=True)\n  - Dense(5, activation='softmax')\n", []),
    ("one-step-from-reshape-is-at-the-rnn",
     "input: [8]\nlayers:\n  - Reshape((1, 8))\n  - LSTM(4)\n", [("L003", 4, 5, "lstm")]),
    ("one-step-input", "input: [1, 5]\nlayers:\n  - GRU(4)\n", [("L003", 3, 5, "gru")]),
    ("bidirectional-encoder-decoder",
     "input: [20, 3]\nlayers:\n  - Bidirectional(LSTM(8))\n  - RepeatVector(4)\n  - GRU(2, return_sequences=True)\n",
     [("L002", 4, 5, "repeat_vector")]),
    ("repeat-vector-into-dense-is-not-a-bridge",
     "input: [20, 3]\nlayers:\n  - LSTM(8)\n  - RepeatVector(4)\n  - Dense(2)\n", []),
    # UNROLL_MAX_STEPS = 100: 100 steps pass, 101 do not
    ("unroll-at-the-limit", "input: [100, 3]\nlayers:\n  - {type: LSTM, units: 2, unroll: true}\n", []),
    ("unroll-past-the-limit", "input: [101, 3]\nlayers:\n  - {type: LSTM, units: 2, unroll: true}\n",
     [("L004", 3, 28, "lstm")]),
    ("unroll-unknown-length-is-t002", "input: [null, 3]\nlayers:\n  - {type: LSTM, units: 2, unroll: true}\n",
     [("T002", 3, 28, "lstm")]),
    ("dropout-exactly-one", "input: [10, 3]\nlayers:\n  - {type: LSTM, units: 2, recurrent_dropout: 1.0}\n",
     [("L005", 3, 28, "lstm")]),
    ("dropout-negative", "input: [10, 3]\nlayers:\n  - {type: SimpleRNN, units: 2, dropout: -0.1}\n",
     [("L005", 3, 33, "simple_rnn")]),
    ("dropout-just-below-one", "input: [10, 3]\nlayers:\n  - {type: LSTM, units: 2, dropout: 0.99}\n", []),
    ("dropout-inside-bidirectional",
     "input: [10, 3]\nlayers:\n  - type: Bidirectional\n    layer: {type: GRU, units: 2, dropout: 2}\n",
     [("L005", 4, 34, "bidirectional")]),
    ("stateful-inside-bidirectional",
     "input: [10, 3]\nlayers:\n  - type: Bidirectional\n    layer: {type: LSTM, units: 2, stateful: true}\n",
     [("T001", 4, 35, "bidirectional")]),
    ("mask-zero-input-dim-one",
     "input: {shape: [5], dtype: int32}\nlayers:\n  - {type: Embedding, input_dim: 1, output_dim: 2, mask_zero: true}\n",
     [("L006", 3, 23, "embedding")]),
    ("mask-zero-power-of-two-is-not-round",
     "input: {shape: [5], dtype: int32}\nlayers:\n  - {type: Embedding, input_dim: 256, output_dim: 2, mask_zero: true}\n",
     []),
    ("round-input-dim-without-mask-zero",
     "input: {shape: [5], dtype: int32}\nlayers:\n  - {type: Embedding, input_dim: 1000, output_dim: 2}\n", []),
    ("masking-then-flatten", "input: [5, 2]\nlayers:\n  - Masking()\n  - Flatten()\n", [("L008", 4, 5, "flatten")]),
    ("every-output-used",
     "inputs: {x: {shape: [10, 4]}}\nlayers:\n  - {type: LSTM, units: 8, name: enc, inputs: x}\n"
     "  - {type: Dense, units: 1, name: head, inputs: enc}\n", []),
    ("sequential-stacks-have-no-unused-layers", "input: [10, 4]\nlayers:\n  - LSTM(8)\n  - Dense(1)\n", []),
]


@pytest.mark.parametrize("case_id, text, expected", CASES, ids=[case[0] for case in CASES])
def test_lint_cases(case_id, text, expected):
    assert found(text) == expected


def test_lints_skip_layers_that_were_not_computed():
    # lstm_1 is rejected (H001); the Dense after it is not reached: no lint may talk about them.
    text = "input: [10, 5]\nlayers:\n  - LSTM(50)\n  - LSTM(10, return_sequences=True)\n  - Dense(1)\n"
    assert found(text) == []
