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
from lstmcalc.layers.base import FRAMEWORK_LAYER_TYPES, LAYER_TYPES, Example, Layer, TensorSpec
from lstmcalc.layers.figures import Amount
from lstmcalc.layers.frameworks import framework
from lstmcalc.layers.registry import FAMILIES, FRAMEWORK_FAMILIES, all_layer_classes, layer_class, type_names
from lstmcalc.render import EXPLAIN_RENDERERS, RenderOptions, get_renderer
from lstmcalc.spec.call_syntax import parse_call
from lstmcalc.spec.model import InputDef, ModelSpec, Reference
from lstmcalc.spec.source import Location
from lstmcalc.verify import VerifyOptions, verify_report

# Every framework's classes, keyed `framework/type` (LSTM is a class in Keras and in PyTorch).
CLASSES = {f"{framework}/{name}": cls for framework in FRAMEWORK_FAMILIES
           for name, cls in all_layer_classes(framework).items()}
EXAMPLES = [(name, index, example) for name, cls in sorted(CLASSES.items())
            for index, example in enumerate(cls.examples)]


def example_spec(example: Example) -> ModelSpec:
    """A graph spec feeding the example's layer its inputs (as a list when there are several), in
    the example's framework (PyTorch's with a concrete batch of 2)."""
    where = Location("example.yaml", 1, 1)
    names = [f"x{index}" for index in range(len(example.inputs))]
    definition = parse_call(example.call, where)
    definition.inputs = [Reference(name, None, where) for name in names]
    definition.inputs_as_list = len(names) > 1
    inputs = [InputDef(name, tuple(shape), example.dtype, where) for name, shape in zip(names, example.inputs)]
    batch = 2 if framework(example.framework).batch_required else None
    return ModelSpec("example.yaml", inputs=inputs, layers=[definition], functional=True, batch_size=batch,
                     framework=example.framework)


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

@pytest.mark.parametrize("name", sorted(FRAMEWORK_FAMILIES))
def test_every_registered_class_is_in_the_family_table(name):
    families = FRAMEWORK_FAMILIES[name]
    for family in sorted(set(families.values())):
        importlib.import_module(f"lstmcalc.layers.{family}")
    registered = FRAMEWORK_LAYER_TYPES[name]
    assert sorted(registered) == type_names(name)
    for type_name, cls in registered.items():
        assert cls.__module__ == f"lstmcalc.layers.{families[type_name]}", type_name
        assert cls.framework == name


def test_keras_types_are_the_default_table():
    assert LAYER_TYPES is FRAMEWORK_LAYER_TYPES["keras"] and FAMILIES is FRAMEWORK_FAMILIES["keras"]
    assert type_names() == type_names("keras")


def test_unknown_type_is_none():
    assert layer_class("NoSuchLayer") is None
    assert layer_class("Dense", "pytorch") is None and layer_class("Linear") is None


def test_same_name_two_classes():
    assert layer_class("LSTM") is not layer_class("LSTM", "pytorch")
    assert layer_class("LSTM", "pytorch").framework == "pytorch"


# -- each type implements the contract ---------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CLASSES))
def test_type_fills_the_contract(name):
    cls = CLASSES[name]
    assert f"{cls.framework}/{cls.keras_class}" == name
    assert cls.examples, f"{name} has no example"
    assert all(example.framework == cls.framework for example in cls.examples)
    assert cls.output_shapes is not Layer.output_shapes, f"{name} has no shape rule"
    assert cls.forward is not Layer.forward, f"{name} has no forward pass"
    assert cls.explain_math is not Layer.explain_math, f"{name} has no equations"
    assert len({argument.name for argument in cls.all_arguments()}) == len(cls.all_arguments())
    assert inspect.getdoc(cls), f"{name} has no docstring"


@pytest.mark.parametrize("name, index, example", EXAMPLES, ids=[f"{name}-{index}" for name, index, _ in EXAMPLES])
def test_example_counts_its_weights(name, index, example):
    report, layer, record, inputs = example_report(example)
    assert f"{example.framework}/{record.type}" == name
    weights = layer.weight_shapes(inputs)
    total = sum(weight.size for weight in weights if not weight.buffer)  # a PyTorch buffer is no parameter
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
