"""Graph specs against real Keras 3's functional API (tests/fixtures/keras/functional_reference.json,
recorded by scripts/record_keras_functional.py): every operation of the model — input layers,
layers and the mask operations Keras inserts — with its shapes, parameters and connections, in
Keras's order, and the summary text itself."""

from __future__ import annotations

import pytest
import yaml

from lstmcalc import analyze_text
from lstmcalc.render import RenderOptions, get_renderer

from .keras_fixtures import fails_when_run, load_cases

CASES = load_cases("functional_reference.json", "conv_functional_reference.json",
                   "random_graph_seed31_reference.json", "random_wide_graph_seed42_reference.json",
                   "random_graph_seed62_reference.json", "random_wide_graph_seed64_reference.json",
                   "random_varied_graph_seed66_reference.json", "random_varied_graph_seed68_reference.json",
                   "random_varied_graph_seed70_reference.json", "random_varied_graph_seed72_reference.json",
                   "initial_state_reference.json")

# Models Keras builds but that cannot run; lstmcalc rejects them (issues 3 and 9), with these codes.
REJECTED_ON_PURPOSE = {
    "initial-state-wrong-count": "T003",
    "initial-state-wrong-shape": "T004",
    "attention-mismatch": "H004",
    # ConvLSTM initial states: [h, c], each of the shape of one output step
    "convlstm2d-initial-state-one-state": "T003",
    "convlstm2d-initial-state-three-states": "T003",
    "bi-convlstm2d-initial-state-two-states": "T003",
    "convlstm2d-initial-state-input-spatial": "T004",
    "convlstm2d-initial-state-wrong-filters": "T004",
    "convlstm2d-initial-state-wrong-c-only": "T004",
    "convlstm2d-initial-state-flat-vectors": "T004",
    "convlstm2d-initial-state-rank-too-low": "T004",
    "convlstm2d-initial-state-channels-first-given-channels-last": "T004",
    "convlstm1d-initial-state-input-length": "T004",
    "convlstm3d-initial-state-wrong-depth": "T004",
    "convlstm2d-encoder-decoder-filters-mismatch": "T004",
    "convlstm2d-encoder-decoder-spatial-mismatch": "T004",
    # Masking's per-pixel mask into a ConvLSTM with valid padding
    "masking-into-convlstm2d-valid": "H007",
    # A decoder LSTM(17) given an LSTM(16)'s states (recorded without a run; initial-state-wrong-shape
    # is the same rule, run)
    "random-42-008": "T004",
    # Initial states Keras cannot run with (initial_state_cases.yaml; the random ones recorded without
    # a run): a GRU uses its first state and ignores the others, LSTM and SimpleRNN need exactly theirs,
    # and Bidirectional gives the first len // 2 to the forward layer.
    "gru-initial-state-first-wrong": "T004",
    "lstm-initial-state-three": "T003",
    "simplernn-initial-state-two": "T003",
    "bi-gru-initial-state-one": "T003",
    "bi-gru-initial-state-four-backward-wrong": "T004",
    "bi-lstm-initial-state-two": "T003",
    "bi-lstm-gru-backward-initial-state-three": "T003",
    "random-62-013": "T004",  # a GRU(17) given a GRU(16)'s state (run)
    "random-64-037": "T004",  # an LSTM(17) given an LSTM(16)'s states
    "random-64-106": "T004",  # a GRU(9) given a GRU(8)'s state
    "random-66-004": "T004",  # Bidirectional(LSTM(16)) given a Bidirectional(LSTM(8))'s states
    "random-66-033": "T003",  # Bidirectional(LSTM) given two states: one per direction
    "random-66-046": "T003",  # an LSTM given a GRU's one state
    "random-66-084": "T003",  # Bidirectional(GRU) given one state: none for the forward GRU
    "random-66-099": "T004",  # Bidirectional(LSTM(8)) given a Bidirectional(LSTM(4))'s states
    "random-66-101": "T003",  # as random-66-084
    "random-66-110": "T004",  # an LSTM(17) given an LSTM(16)'s states (the GRU given both runs)
    "random-66-152": "H004",  # AdditiveAttention of a query of 8 features and a key of 3 (run)
    "random-66-080": "H004",  # Attention of a query of 3 features and a key of 8
    "random-68-012": "T004",  # an LSTM(5) given an LSTM(4)'s states
    "random-68-029": "T004",  # Bidirectional(LSTM(8)) given a Bidirectional(LSTM(4))'s states (run)
    "random-68-047": "T003",  # as random-66-084
    "random-68-199": "T004",  # LSTM(33)s given an LSTM(32)'s states
    "random-70-011": "T004",  # Bidirectional(LSTM(16)) given a Bidirectional(LSTM(8))'s states
    "random-70-012": "T004",  # the same (run)
    "random-70-013": "T004",  # a GRU(9) given a GRU(8)'s state
    "random-70-035": "H004",  # AdditiveAttention of a query of 8 features and a key of 3 (run)
    "random-70-085": "T004",
    "random-70-151": "T004",
    "random-70-166": "T004",
    "random-70-172": "T003",  # Bidirectional(LSTM) given two states: one per direction
    "random-70-176": "T004",
    "random-72-073": "T004",  # Bidirectional(LSTM(8)) given a Bidirectional(LSTM(4))'s states (run)
    "random-72-150": "T004",  # Bidirectional(LSTM(16)) given a Bidirectional(LSTM(8))'s states
}

# Models whose recorded run failed only at the sizes the recorder picked for unknown axes: lstmcalc
# accepts them, as Keras does at other sizes.
RUNS_AT_OTHER_SIZES = {
    "convlstm2d-initial-state-unknown-spatial": "states of unknown size, fed 4×4 where the layer carries 6×6; "
                                                "6×6 states run",
    # A merge of an input of unknown length with one of a fixed length: run at 4 steps, the two
    # differ; at the fixed length they merge (lstmcalc, like Keras, merges (None, 3) with (5, 3)).
    "random-31-106": "Subtract of (None, 3) and (5, 3), run with 4 steps; 5 steps run",
    "random-31-117": "Add of (10, 3) and (None, 3), run with 4 steps; 10 steps run",
    "random-31-131": "Maximum of (5, 8) and (None, 8), run with 4 steps; 5 steps run",
    "random-42-149": "Subtract of (5, 8) and (None, 8), run with 4 steps; 5 steps run",
    "random-62-162": "Subtract of (5, 3) and (None, 3), run with 4 steps; 5 steps run",
    "random-62-278": "Concatenate of (None, 3) and (10, 8) on the features, run with 4 steps; 10 steps run",
    "random-68-102": "Concatenate of (None, 8) and (5, 8) on the features, run with 4 steps; 5 steps run",
    "random-68-190": "Concatenate of (None, 8) and (10, 3) on the features, run with 4 steps; 10 steps run",
    "random-70-039": "Reshape((5, -1)) of (None, 3), run with 4 steps (12 values); 5 steps run",
    "random-70-178": "Concatenate of (None, 3) and (10, 8) on the features, run with 4 steps; 10 steps run",
    "random-72-115": "Add of (5, 8) and (None, 8), run with 4 steps; 5 steps run",
    "random-72-117": "Subtract of (None, 3) and (5, 3), run with 4 steps; 5 steps run",
    "random-72-190": "Multiply of (None, 3) and (10, 3), run with 4 steps; 10 steps run",
}


def analyze_case(case):
    return analyze_text(yaml.safe_dump(case["spec"], sort_keys=False), file="case.yaml")


def our_rows(report):
    inputs = {item.name: item for item in report.inputs}
    layers = {layer.name: layer for layer in report.layers}
    operations = {operation.name: operation for operation in report.operations}
    rows = []
    for name in report.row_order:
        if name in inputs:
            rows.append((name, "InputLayer", [list(inputs[name].shape)], None, []))
        elif name in layers:
            layer = layers[name]
            rows.append((name, layer.type, [list(s) for s in layer.output_shapes], layer.params,
                         layer.connected_to))
        else:
            operation = operations[name]
            rows.append((name, operation.type, [list(s) for s in operation.output_shapes], None,
                         operation.inputs))
    return rows


def keras_rows(case):
    return [(op["name"], op["class_name"], op["output_shapes"], op.get("params"),
             [f"{name}[{index}]" for name, _, index in op["connected_to"]])
            for op in case["operations"]]


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_graph_matches_keras(case_id):
    case = CASES[case_id]
    report = analyze_case(case)
    if case_id in REJECTED_ON_PURPOSE:
        assert case["ok"] and not report.ok
        assert report.errors[0].code == REJECTED_ON_PURPOSE[case_id]
        return
    if fails_when_run(case) and case_id not in RUNS_AT_OTHER_SIZES:
        pytest.fail(f"Keras builds {case_id} but cannot run it; lstmcalc should reject it (REJECTED_ON_PURPOSE)")
    assert report.ok == case["ok"], (case.get("error"), report.diagnostics)
    if not case["ok"]:
        return
    assert report.name == case["model_name"]
    assert our_rows(report) == keras_rows(case)
    assert report.totals.params == case["totals"]["params"]
    assert report.outputs == [f"{name}[{index}]" for name, _, index in case["outputs"]]


@pytest.mark.parametrize("case_id", sorted(c for c in CASES if CASES[c]["summary"] and c not in REJECTED_ON_PURPOSE))
def test_graph_summary_equals_keras(case_id):
    report = analyze_case(CASES[case_id])
    ours = get_renderer("table")(report, RenderOptions()).rstrip("\n").splitlines()
    keras_lines = CASES[case_id]["summary"].rstrip("\n").splitlines()
    assert ours[:len(keras_lines)] == keras_lines
    assert all(line.startswith(("warning[", "info[", "  hint:")) for line in ours[len(keras_lines):])


def test_what_keras_cannot_run_is_listed():
    unlisted = [case_id for case_id, case in CASES.items() if fails_when_run(case)
                and case_id not in REJECTED_ON_PURPOSE and case_id not in RUNS_AT_OTHER_SIZES]
    assert unlisted == []


STATE_RUNS = sorted(case_id for case_id, case in load_cases("initial_state_reference.json").items()
                    if case["run"]["ok"])


@pytest.mark.parametrize("case_id", STATE_RUNS)
def test_verifier_runs_the_initial_states_keras_ran(case_id):
    """A GRU given extra initial states runs on the first, as Keras's GRU.inner_loop does."""
    from lstmcalc.verify import VerifyOptions, verify_report

    case = CASES[case_id]
    result = verify_report(analyze_case(case), VerifyOptions(batch_size=case["run"]["input_shapes"][0][0]))
    assert result.ok, [d.message for d in result.diagnostics]
    assert [list(array.shape) for array in result.outputs.values()] == case["run"]["output_shapes"]
