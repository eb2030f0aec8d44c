"""A model used as a layer of another (``features = encoder(inputs)``): one row in Keras's
summary, with every inner weight. Its shapes, weights and forward pass are the inner model's,
propagated (and run) by the same engine on the tensors it receives."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..arithmetic import number
from ..shapes import Shape
from ..diagnostics import Problem
from .arguments import Arg, boolean, described, layer_name
from .base import Amount, Arrays, Example, Forward, Layer, MacCount, Masks, TensorSpec, Weight, WeightArrays, register
from .explanation import Block, Context, Equation, Math, io_symbols, plural, tensor_text


@described({"$ref": "#", "description": "The inner model: a spec of its own (input or inputs, layers, outputs)."})
def model_spec(name: str, value: Any) -> Any:
    from ..spec.model import ModelSpec

    if not isinstance(value, ModelSpec):
        raise Problem("S005", f"`{name}` must be a model spec (input and layers), got {value!r}.",
                            f"Write `{name}: {{input: [24, 3], layers: [LSTM(10)]}}`.")
    return value


class NestedModel(Layer):
    """Keras's Sequential or Functional model called on tensors inside another model."""

    arguments = (Arg("model", model_spec),)
    base_arguments = (Arg("name", layer_name, None), Arg("trainable", boolean, True))

    def __init__(self, name, config, convention="keras", locations=None):
        super().__init__(name, config, convention, locations)
        self._reports: Dict[Tuple[Any, ...], Any] = {}

    @property
    def spec(self):
        return self.config["model"]

    def inner_report(self, inputs: Sequence[TensorSpec]):
        """The inner model propagated on ``inputs`` (each input's shape and dtype replaced by the
        tensor the model is called on, as Keras runs the inner graph on it)."""
        key = tuple((tensor.shape, tensor.dtype) for tensor in inputs)
        if key not in self._reports:
            from ..engine import analyze_spec

            spec = self.spec
            if not spec.inputs and not spec.functional and len(inputs) == 1:
                # A Sequential without an input: Keras builds it on the tensor it is called on.
                from ..spec.model import InputDef

                spec = spec._replace(inputs=[InputDef(None, None, inputs[0].dtype, spec.location_of("input"))])
            if len(inputs) != len(spec.inputs):
                raise Problem("H002", f'Layer "{self.name}" expects {len(spec.inputs)} input(s), but it '
                                           f"received {len(inputs)} input tensors.",
                                   f"Call {self.name} on as many tensors as its model has inputs.")
            batch = inputs[0].shape[0] if inputs and inputs[0].shape else None
            adjusted = spec._replace(inputs=[item._replace(shape=tuple(tensor.shape[1:]), dtype=tensor.dtype,
                                                           batch_size=batch)
                                             for item, tensor in zip(spec.inputs, inputs)])
            self._reports[key] = analyze_spec(adjusted)
        report = self._reports[key]
        if report.ok and not report.outputs:
            # The inner spec's own errors (no `layers:` list, say) are reported where it is written;
            # a model without outputs gives this layer nothing to compute.
            raise Problem("S002", f"{self.name} ({self.keras_class}) has no layers to run: its `model:` "
                                  "spec defines no output.",
                          "Give the inner model a `layers:` list (and `outputs:` for a graph).")
        if not report.ok:
            first = report.errors[0]
            raise Problem(first.code, f"Inside {self.name} ({self.keras_class}), layer {first.layer}: "
                                           f"{first.message}", first.hint)
        return report

    def _layer_reports(self, inputs: Sequence[TensorSpec]):
        report = self.inner_report(inputs)
        return report, [layer for layer in report.layers if layer.weights]

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        _, layers = self._layer_reports(inputs)
        return [Weight(f"{layer.name}/{weight.name}", weight.shape, weight.trainable and self.trainable,
                       weight.dtype) for layer in layers for weight in layer.weights]

    def outputs(self, inputs: Sequence[TensorSpec]) -> List[TensorSpec]:
        report = self.inner_report(inputs)
        tensors = []
        for reference in report.outputs:
            name, _, index = reference.rpartition("[")
            layer = report.layer(name)
            position = int(index.rstrip("]") or 0)
            if layer is not None:
                tensors.append(TensorSpec(tuple(layer.output_shapes[position]), layer.output_dtypes[position]))
            else:  # an inner input given straight back as an output
                item = next(entry for entry in report.inputs if entry.name == name)
                tensors.append(TensorSpec(tuple(item.shape), item.dtype))
        return tensors

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        return [tensor.shape for tensor in self.outputs(inputs)]

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> Optional[MacCount]:
        """The inner layers' MACs per sample, added up; None when one of them is not counted
        or depends on an unknown length."""
        from ..compute import layer_figures

        report = self.inner_report(inputs)
        total = 0
        for record in report.layers:
            figures = layer_figures(report, record, 1)
            if figures is None or figures.macs is None or figures.macs.total is None:
                return None
            total += figures.macs.total
        return MacCount(number(total, "inner MACs"))

    def kept_for_backprop(self, inputs: Sequence[TensorSpec]) -> Amount:
        """What the inner layers keep for backpropagation: their outputs and their own internals."""
        from ..compute import elements, input_tensors

        report = self.inner_report(inputs)
        total = Amount()
        for record in report.layers:
            layer = report.graph.nodes[record.name].layer
            for shape in record.output_shapes or []:
                total = total + elements(shape)
            total = total + layer.kept_for_backprop(input_tensors(report, record))
        return total

    def keras_saved_paths(self, weights: Sequence[Weight]) -> List[str]:
        """``layers/<group>/<path>``: Keras names the inner layers' groups per class, in the
        inner model's layer order (``layers/lstm``, ``layers/lstm_1``)."""
        from .factory import Namer

        namer = Namer()
        groups = {}
        for definition in self.spec.layers:
            groups[definition.explicit_name] = "layers/" + namer.auto(definition.type_name)
        report = next(iter(self._reports.values()))
        paths = []
        for layer_report in report.layers:
            own = [weight for weight in weights if weight.name.startswith(layer_report.name + "/")]
            if not own:
                continue
            inner = report.graph.nodes[layer_report.name].layer
            group = groups.get(layer_report.name, "layers/" + layer_report.name)
            paths += [f"{group}/{path}" for path in inner.keras_saved_paths(layer_report.weights)]
        return paths

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        report = self.inner_report(inputs)
        equations = [Equation(record.name, f"{record.type}({', '.join(record.inputs)})",
                              ", ".join(tensor_text(shape) for shape in record.output_shapes or []))
                     for record in report.layers]
        block = Block("the inner model", "its layers in order, each on what it is connected to", equations,
                      io_symbols(inputs, outputs),
                      f"Explain each inner layer by running lstmcalc explain on the inner model ({self.name}).")
        return Math([block], [f"A {self.keras_class} model of {plural(len(report.layers), 'layer')} used as "
                              "one layer: its weights are all of theirs."], {},
                    f"{self.keras_class} model {self.name} of {plural(len(report.layers), 'layer')}")

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        from ..verify import VerifyOptions, verify_report

        tensors = [TensorSpec(tuple(array.shape), str(array.dtype)) for array in inputs]
        report = self.inner_report(tensors)
        names = [item.name for item in report.inputs]
        result = verify_report(report, VerifyOptions(weights=dict(weights), inputs=dict(zip(names, inputs)),
                                                     max_memory=1 << 62))
        if not result.ok:
            problem = result.diagnostics[0] if result.diagnostics else None
            raise Problem("V005", f"The forward pass inside {self.name} failed: "
                                       f"{problem.message if problem else 'no outputs'}",
                               problem.hint if problem else "")
        outputs = list(result.outputs.values())
        return outputs, [None] * len(outputs)


@register
class NestedSequential(NestedModel):
    """A Sequential model used as a layer."""

    keras_class = "Sequential"
    examples = (Example("", (), spec=("input: [6, 3]\nlayers:\n  - type: Sequential\n    model:\n"
                                      "      input: [6, 3]\n      layers: [LSTM(4), Dense(2)]\n")),)


@register
class NestedFunctional(NestedModel):
    """A functional (graph) model used as a layer."""

    keras_class = "Functional"
    examples = (Example("", (), spec=(
        "input: [6, 3]\nlayers:\n  - type: Functional\n    model:\n      inputs: {x: {shape: [6, 3]}}\n"
        "      layers:\n        - {type: LSTM, units: 4, name: inner, inputs: x}\n      outputs: [inner]\n")),)
