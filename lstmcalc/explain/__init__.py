"""`lstmcalc explain`: the arithmetic behind every number of a Report.

``explain(report)`` turns the analysed model (its records and the built layers kept in
``report.graph``) into an ``Explanation``. Every fact about a layer type comes from its class
(lstmcalc.layers): its equations with dimensions substituted, its weights as Keras and PyTorch
store them, its parameter count as a formula, its outputs under each return_sequences /
return_state setting, its MACs; this module assembles them, adds memory figures and, for a layer
Keras rejects, why. Renderers in lstmcalc.render turn the result into text, Markdown or JSON.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from ..compute import ComputeFigures, LayerFigures, built_layer, compute_figures, input_tensors
from ..diagnostics import Diagnostic, Problem
from ..layers.base import Layer, TensorSpec
from ..layers.explanation import Context, tensor_text
from ..report import LayerReport, Report
from ..shapes import Shape
from .model import Explanation, Formula, LayerExplanation, MacText, Rejection, WeightRow


class UnknownLayer(LookupError):
    """A layer name that the model does not have."""

    def __init__(self, name: str, known: Sequence[str]):
        super().__init__(name)
        self.name = name
        self.known = list(known)


def explain(report: Report, names: Optional[Sequence[str]] = None) -> Explanation:
    """Explain every layer of ``report``, or only those named."""
    records = list(report.layers)
    if names:
        known = [record.name for record in records]
        for name in names:
            if name not in known:
                raise UnknownLayer(name, known)
        records = [record for record in records if record.name in names]
    figures = compute_figures(report)
    explanation = Explanation(report.name, report.file, report.ok,
                              figures.batch_size if figures.batch_given else None, report.totals.params,
                              diagnostics=list(report.diagnostics), framework=report.framework)
    for record in records:
        explanation.layers.append(explain_layer(report, record, figures))
    if not names:
        explanation.compute = figures
    return explanation


def _about(report: Report, record: LayerReport) -> List[Diagnostic]:
    """The findings about one layer: named after it, or (construction failed) on its line."""
    return [item for item in report.diagnostics if item.layer == record.name or
            (item.layer is None and record.line is not None and item.line == record.line)]


def explain_layer(report: Report, record: LayerReport, figures: ComputeFigures) -> LayerExplanation:
    item = LayerExplanation(record.name, record.type, record.status)
    item.findings = [finding for finding in _about(report, record) if not finding.is_error]
    layer = built_layer(report, record.name)
    inputs = input_tensors(report, record)
    if record.status == "ok" and layer is not None and record.output_shapes is not None:
        describe(item, layer, inputs, record.output_shapes, _context(report, record), figures.layer(record.name),
                 figures.batch_size)
    elif record.status == "error":
        item.rejection = rejection(report, record, layer, inputs)
        correction = corrected_inputs(report, record, layer, inputs)
        if correction is not None:
            corrected, would_be = correction
            from ..engine import apply_layer

            try:
                # The engine's own checks first: the corrected input may still leave a weight's size
                # unknown (a GRU on (None, None)).
                outputs, _ = apply_layer(layer, corrected)
                describe(item, layer, corrected, [tensor.shape for tensor in outputs], _context(report, record),
                         None)
            except Problem:
                pass  # the corrected input does not fit either: the rejection alone is the answer
            else:
                item.rejection.would_be = would_be
                item.rejection.reason += layer.compared_with_dense(inputs[0], item.parameters.value)
    elif record.status == "unused":
        item.headline = (f"never called: forward() does not call it, so it has no shapes; its {record.params:,} "
                         "parameters count all the same (named_parameters() lists them)")
    else:
        item.headline = "not reached: a layer before it was rejected, so its input is unknown"
    return item


def _context(report: Report, record: LayerReport) -> Context:
    node = report.graph.nodes.get(record.name) if report.graph is not None else None
    return Context(initial_state=bool(node is not None and getattr(node, "initial_state", None)))


def describe(item: LayerExplanation, layer: Layer, inputs: List[TensorSpec], outputs: Sequence[Shape],
             context: Context, figures: Optional[LayerFigures], batch: int = 1) -> None:
    """Fill ``item`` with what ``layer`` does to ``inputs``."""
    math = layer.explain_math(inputs, outputs, context)
    item.headline = math.headline or layer.keras_class
    item.inputs = [tensor_text(tensor.shape) for tensor in inputs]
    item.blocks = math.blocks
    item.in_words = math.in_words
    weights = [] if len(inputs) > 1 and layer.maps_over_tensor_lists else layer.weight_shapes(inputs)
    item.weights = [WeightRow(weight.name, weight.shape, weight.size, math.weight_layouts.get(weight.name, ""),
                              weight.trainable) for weight in weights]
    if weights:
        item.parameters = Formula.of(layer.parameter_expression(inputs))
    else:
        item.parameters = Formula("0", 0)
    item.pytorch = layer.framework_view(inputs)
    item.outputs = layer.output_rows(inputs, outputs)
    item.settings = layer.return_settings(inputs)
    if figures is not None:
        macs = figures.macs
        item.memory = {"batch_size": batch, "activation_bytes": figures.activation_bytes.to_dict(),
                       "param_bytes": figures.param_bytes}
    else:
        macs = None if len(inputs) > 1 and layer.maps_over_tensor_lists else \
            layer.macs(inputs, [TensorSpec(shape) for shape in outputs])
    item.mac_tools = [] if figures is None else layer.mac_tool_counts(
        inputs, [TensorSpec(shape, batch_axis=None) for shape in outputs], batch)
    if macs is None:
        item.notes.append(f"MACs not counted: lstmcalc has no MAC rule for {layer.keras_class} yet.")
    else:
        item.macs = MacText(Formula.of(macs.per_step), macs.steps, macs.unit, macs.total)
        if macs.steps is None:
            item.notes.append("The sequence length is unknown: MACs are given per step.")


# -- rejected layers ---------------------------------------------------------------------------

def _producer(report: Report, record: LayerReport) -> Optional[LayerReport]:
    """The layer that shaped this layer's input, looking through layers that keep the shape."""
    node = report.graph.nodes.get(record.name) if report.graph is not None else None
    found = report.graph.producer(node) if node is not None else None
    return report.layer(found.name) if found is not None else None


def _missing_time_axis(layer: Optional[Layer], inputs: Sequence[TensorSpec]) -> bool:
    return layer is not None and len(inputs) == 1 and layer.missing_time_axis(inputs[0])


def _returns_last_step(layer: Optional[Layer]) -> bool:
    return layer is not None and layer.returns_last_step_only()


def rejection(report: Report, record: LayerReport, layer: Optional[Layer],
              inputs: Sequence[TensorSpec]) -> Rejection:
    diagnostics = [item for item in _about(report, record) if item.is_error]
    received = [tensor_text(tensor.shape) for tensor in inputs]
    reason = diagnostics[0].message if diagnostics else "Keras does not build this layer."
    if _missing_time_axis(layer, inputs):
        producer = _producer(report, record)
        source = f" from {producer.name}" if producer is not None else ""
        mismatch = layer.expected_rank().mismatch(inputs[0].rank)
        own = layer.missing_time_axis_reason(inputs[0], source, mismatch)
        if own is not None:
            reason = own
            producer_layer = built_layer(report, producer.name) if producer is not None else None
            if _returns_last_step(producer_layer):
                reason += (f" {producer.name} has return_sequences: false, so it passes on only its last "
                           "hidden state.")
            reason += (" Keras does not build this model: the layer does not fall back to acting like a "
                       "Dense layer.")
    return Rejection(received, reason, diagnostics)


def corrected_inputs(report: Report, record: LayerReport, layer: Optional[Layer],
                     inputs: Sequence[TensorSpec]) -> Optional[Tuple[List[TensorSpec], str]]:
    """For a layer that reads a sequence but got one step's worth (a vector per sample): the
    sequence it would get once fixed, and the sentence that introduces it."""
    if not (_missing_time_axis(layer, inputs) and layer.is_recurrent):
        return None
    producer = _producer(report, record)
    steps = None
    producer_layer = built_layer(report, producer.name) if producer is not None else None
    if _returns_last_step(producer_layer):
        consumed = input_tensors(report, producer)
        steps = consumed[0].shape[1] if consumed and consumed[0].rank == inputs[0].rank + 1 else None
        fix = f"with return_sequences: true on {producer.name}"
    else:
        fix = "fed a sequence (e.g. RepeatVector before it)"
    tensor = inputs[0]
    corrected = TensorSpec((tensor.shape[0], steps) + tuple(tensor.shape[1:]), tensor.dtype, tensor.masked)
    return [corrected], (f"What {record.name} would compute if it received a sequence — {fix} it would get "
                         f"{tensor_text(corrected.shape)}:")


__all__ = ["explain", "explain_layer", "Explanation", "LayerExplanation", "UnknownLayer"]
