"""The layer contract, checked for every registered layer type (as Keras's `layer_test` runs every
layer through the same checks): each type is found through the registry, declares its arguments
and at least one example, and on each example builds, counts its parameters as the sum of its
weights' sizes (its formula included), computes with NumPy the shapes its output specs promise,
and explains itself in every explain format."""

from __future__ import annotations

import importlib
import inspect

import pytest

from lstmcalc import analyze_spec, analyze_text
from lstmcalc.compute import compute_figures, input_tensors
from lstmcalc.explain import explain
from lstmcalc.layers.base import LAYER_TYPES, Example, Layer, TensorSpec
from lstmcalc.layers.figures import Amount
from lstmcalc.layers.registry import FAMILIES, all_layer_classes, layer_class, type_names
from lstmcalc.render import EXPLAIN_RENDERERS, RenderOptions, get_renderer
from lstmcalc.spec.call_syntax import parse_call
from lstmcalc.spec.model import InputDef, ModelSpec, Reference
from lstmcalc.spec.source import Location
from lstmcalc.verify import VerifyOptions, verify_report

CLASSES = all_layer_classes()
EXAMPLES = [(name, index, example) for name, cls in sorted(CLASSES.items())
            for index, example in enumerate(cls.examples)]


def example_spec(example: Example) -> ModelSpec:
    """A graph spec feeding the example's layer its inputs (as a list when there are several)."""
    where = Location("example.yaml", 1, 1)
    names = [f"x{index}" for index in range(len(example.inputs))]
    definition = parse_call(example.call, where)
    definition.inputs = [Reference(name, None, where) for name in names]
    definition.inputs_as_list = len(names) > 1
    inputs = [InputDef(name, tuple(shape), example.dtype, where) for name, shape in zip(names, example.inputs)]
    return ModelSpec("example.yaml", inputs=inputs, layers=[definition], functional=True)


def example_report(example: Example):
    if example.spec is not None:
        report = analyze_text(example.spec, file="example.yaml")
    else:
        report = analyze_spec(example_spec(example))
    assert report.ok, [d.message for d in report.diagnostics]
    record = report.layers[-1]
    node = report.graph.nodes[record.name]
    inputs = input_tensors(report, record)
    return report, node.layer, record, inputs


# -- the registry ------------------------------------------------------------------------------

def test_every_registered_class_is_in_the_family_table():
    for family in sorted(set(FAMILIES.values())):
        importlib.import_module(f"lstmcalc.layers.{family}")
    assert sorted(LAYER_TYPES) == type_names()
    for name, cls in LAYER_TYPES.items():
        assert cls.__module__ == f"lstmcalc.layers.{FAMILIES[name]}", name


def test_unknown_type_is_none():
    assert layer_class("NoSuchLayer") is None


# -- each type implements the contract ---------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CLASSES))
def test_type_fills_the_contract(name):
    cls = CLASSES[name]
    assert cls.keras_class == name
    assert cls.examples, f"{name} has no example"
    assert cls.output_shapes is not Layer.output_shapes, f"{name} has no shape rule"
    assert cls.forward is not Layer.forward, f"{name} has no forward pass"
    assert cls.explain_math is not Layer.explain_math, f"{name} has no equations"
    assert len({argument.name for argument in cls.all_arguments()}) == len(cls.all_arguments())
    assert inspect.getdoc(cls), f"{name} has no docstring"


@pytest.mark.parametrize("name, index, example", EXAMPLES, ids=[f"{name}-{index}" for name, index, _ in EXAMPLES])
def test_example_counts_its_weights(name, index, example):
    report, layer, record, inputs = example_report(example)
    assert record.type == name
    weights = layer.weight_shapes(inputs)
    total = sum(weight.size for weight in weights)
    assert record.params == total
    # The formula shown to users is checked against sum(prod(shape)) over the weights.
    assert layer.parameter_expression(inputs).value == total


@pytest.mark.parametrize("name, index, example", EXAMPLES, ids=[f"{name}-{index}" for name, index, _ in EXAMPLES])
def test_example_forward_pass_gives_the_promised_shapes(name, index, example):
    report, layer, record, inputs = example_report(example)
    result = verify_report(report, VerifyOptions(batch_size=2, timesteps=5, seed=index))
    assert result.ran and result.ok, [d.message for d in result.diagnostics]
    check = next(check for check in result.layers if check.name == record.name)
    assert check.status == "agrees"
    assert len(check.tensors) == len(record.output_shapes)


@pytest.mark.parametrize("name, index, example", EXAMPLES, ids=[f"{name}-{index}" for name, index, _ in EXAMPLES])
def test_example_explains_itself(name, index, example):
    report, layer, record, inputs = example_report(example)
    explanation = explain(report)
    item = explanation.layers[0]
    assert item.headline and item.blocks and item.outputs
    assert item.parameters.value == record.params
    for renderer in EXPLAIN_RENDERERS:
        assert get_renderer(renderer, EXPLAIN_RENDERERS)(explanation, RenderOptions())


@pytest.mark.parametrize("name, index, example", EXAMPLES, ids=[f"{name}-{index}" for name, index, _ in EXAMPLES])
def test_example_compute_figures(name, index, example):
    report, layer, record, inputs = example_report(example)
    outputs = [TensorSpec(shape) for shape in record.output_shapes]
    macs = layer.macs(inputs[:1] if layer.maps_over_tensor_lists else inputs, outputs)
    assert macs is not None, f"{name} has no MAC rule"
    assert macs.per_step.value >= 0
    assert isinstance(layer.kept_for_backprop(inputs), Amount)
    assert compute_figures(report).layer(record.name) is not None


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_traits_are_consistent(name):
    cls = CLASSES[name]
    if cls.consumes_mask:
        assert cls.supports_masking, f"{name} takes a mask, so it supports masking"
    if cls.keeps_shape:
        example = cls.examples[0]
        report, layer, record, inputs = example_report(example)
        assert record.output_shapes == [inputs[0].shape]
