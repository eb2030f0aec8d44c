"""`convert` of the random models recorded in the frameworks (tests/fixtures/*/random_*; those the
frameworks built and ran, without the ones lstmcalc rejects on purpose): the YAML,
Keras and PyTorch code written for each model reads back as the same model — the same layers,
configuration, wiring, shapes and counts — or convert says why it cannot write it. The recorded
cases are the models; no framework is needed."""

from __future__ import annotations

import json

import pytest
import yaml

from lstmcalc import analyze_text
from lstmcalc.writers import WRITERS, NotConvertible

from .conftest import ROOT
from .test_convert import facts, in_framework, read_back
from .test_keras_functional import REJECTED_ON_PURPOSE as GRAPHS_REJECTED
from .test_keras_reference import REJECTED_ON_PURPOSE as STACKS_REJECTED

FIXTURES = ROOT / "tests" / "fixtures"
RANDOM_FILES = ["keras/random_seed12_reference.json", "keras/random_seed13_reference.json",
                "keras/random_graph_seed31_reference.json", "keras/random_wide_seed41_reference.json",
                "keras/random_wide_graph_seed42_reference.json", "keras/random_seed61_reference.json",
                "keras/random_graph_seed62_reference.json", "keras/random_wide_seed63_reference.json",
                "keras/random_wide_graph_seed64_reference.json", "keras/random_varied_seed65_reference.json",
                "keras/random_varied_graph_seed66_reference.json", "keras/random_varied_seed67_reference.json",
                "keras/random_varied_graph_seed68_reference.json", "keras/random_varied_seed69_reference.json",
                "keras/random_varied_graph_seed70_reference.json", "keras/random_varied_seed71_reference.json",
                "keras/random_varied_graph_seed72_reference.json", "pytorch/random_reference.json",
                "pytorch/random_wide_seed71_reference.json", "pytorch/random_wide_seed72_reference.json",
                "pytorch/random_wide_found_reference.json", "pytorch/random_odd_seed101_reference.json",
                "pytorch/random_odd_seed102_reference.json", "pytorch/random_odd_found_reference.json"]


def _valid_cases():
    cases = {}
    for name in RANDOM_FILES:
        for case_id, case in json.loads((FIXTURES / name).read_text(encoding="utf-8"))["cases"].items():
            if case.get("ok", case.get("error") is None) and not case.get("run", {}).get("error") \
                    and case_id not in GRAPHS_REJECTED and case_id not in STACKS_REJECTED:
                cases[f"{name.split('/')[0]}/{case_id}"] = case["spec"]
    return cases


CASES = _valid_cases()


@pytest.mark.parametrize("target", sorted(WRITERS))
@pytest.mark.parametrize("case_id", sorted(CASES))
def test_what_convert_writes_reads_back_as_the_same_model(case_id, target):
    report = analyze_text(yaml.safe_dump(CASES[case_id], sort_keys=False), file="random.yaml")
    assert report.ok, report.errors
    try:
        expected = report if target == "yaml" else in_framework(report, "pytorch" if target == "pytorch" else "keras")
        text = WRITERS[target].write(report)
    except NotConvertible as refused:
        # A model the other framework cannot express (a mask in PyTorch, GRU reset_after false, ...).
        assert target != "yaml" and str(refused), case_id
        return
    got, want = facts(read_back(text, target, like=expected)), facts(expected)
    if target == "pytorch" and report.framework == "pytorch":
        # Unnamed modules are named by position ("0", "1"), which no attribute of written code can
        # be: the code calls them m_0, m_1. Compare them by position.
        got, want = by_position(got), by_position(want)
    assert got == want


def by_position(model_facts):
    """``facts`` with each layer's name replaced by its position, in every reference to it."""
    names = {layer[0]: f"#{index}" for index, layer in enumerate(model_facts["layers"])}

    def reference(text):
        name, bracket, rest = text.partition("[")
        return names.get(name, name) + bracket + rest

    def config(items):
        return None if items is None else tuple((key, names.get(value, value) if key == "name" else value)
                                                for key, value in items)

    layers = [(names[name], kind, config(settings), [reference(item) for item in inputs],
               [reference(item) for item in states], *rest)
              for name, kind, settings, inputs, states, *rest in model_facts["layers"]]
    return {**model_facts, "layers": layers, "outputs": [reference(item) for item in model_facts["outputs"]]}


def output_shapes(report):
    """The shapes of a model's outputs, in order (a reference to a layer with several outputs: each)."""
    shapes = []
    for reference in report.graph.outputs:
        record = report.layer(reference.name)
        found = record.output_shapes if record is not None else \
            [next(item.shape for item in report.inputs if item.name == reference.name)]
        shapes += found if reference.index is None else [found[reference.index]]
    return [tuple(shape) for shape in shapes]


KERAS_GRAPHS = sorted(case_id for case_id, spec in CASES.items() if case_id.startswith("keras/") and "inputs" in spec)
# Keras graphs whose PyTorch code has no Keras code back, and why.
# (none: a permute(0, 2, 1) that no Conv1d reads, as for keras/random-31-159, is a Keras Permute in a graph)
NO_WAY_BACK: dict = {}


@pytest.mark.parametrize("case_id", KERAS_GRAPHS)
def test_a_keras_graph_through_pytorch_code_back_to_keras_code_keeps_its_counts_and_shapes(case_id):
    report = analyze_text(yaml.safe_dump(CASES[case_id], sort_keys=False), file="random.yaml")
    try:
        torch_code = WRITERS["pytorch"].write(report)
    except NotConvertible:
        return  # what PyTorch cannot express: test_what_convert_writes_reads_back_as_the_same_model
    torch_report = read_back(torch_code, "pytorch", like=in_framework(report, "pytorch"))
    try:
        keras_code = WRITERS["keras"].write(torch_report)
    except NotConvertible as refused:
        assert NO_WAY_BACK.get(case_id, "(not refused)") in str(refused)
        return
    assert case_id not in NO_WAY_BACK
    back = read_back(keras_code, "keras")
    assert back.ok, back.errors
    assert (back.totals.params, back.totals.trainable_params) == (report.totals.params, report.totals.trainable_params)
    assert [(tuple(item.shape), item.dtype) for item in back.inputs] == \
        [(tuple(item.shape), item.dtype) for item in report.inputs]
    assert output_shapes(back) == output_shapes(report)
