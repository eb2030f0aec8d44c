"""`lstmcalc explain`: the arithmetic behind every number of a Report.

``explain(report)`` turns the analysed model (its records and the built layers kept in
``report.graph``) into an ``Explanation``: per layer, its equations with dimensions substituted,
its weights as Keras and PyTorch store them, its parameter count as a formula, its output and
state shapes under each return_sequences / return_state setting, its MACs and memory, and, for a
layer Keras rejects, why. Renderers in lstmcalc.render turn it into text, Markdown or JSON.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from ..compute import ComputeFigures, LayerFigures, built_layer, compute_figures, input_tensors
from ..diagnostics import Diagnostic
from ..layers.base import Layer, ShapeProblem, TensorSpec, clone
from ..layers.wrappers import Bidirectional
from ..report import LayerReport, Report
from ..shapes import Shape
from .counts import parameter_expression, recurrent_copies
from .equations import Context, build_math, count_text
from .model import (Explanation, Formula, LayerExplanation, MacText, Rejection, Setting, TensorRow,
                    WeightRow, tensor_text, weight_text)
from .pytorch import pytorch_view

# Layers that pass a tensor on unchanged in rank: a rejection looks through them to the layer
# that shaped the tensor.

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
                              diagnostics=list(report.diagnostics))
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
            except ShapeProblem:
                pass  # the corrected input does not fit either: the rejection alone is the answer
            else:
                item.rejection.would_be = would_be
                _compare_with_dense(item, layer, inputs)
    else:
        item.headline = "not reached: a layer before it was rejected, so its input is unknown"
    return item


def _context(report: Report, record: LayerReport) -> Context:
    node = report.graph.nodes.get(record.name) if report.graph is not None else None
    return Context(initial_state=bool(node is not None and getattr(node, "initial_state", None)))


def describe(item: LayerExplanation, layer: Layer, inputs: List[TensorSpec], outputs: Sequence[Shape],
             context: Context, figures: Optional[LayerFigures], batch: int = 1) -> None:
    """Fill ``item`` with what ``layer`` does to ``inputs``."""
    math = build_math(layer, inputs, outputs, context)
    item.headline = math.headline or layer.keras_class
    item.inputs = [tensor_text(tensor.shape) for tensor in inputs]
    item.blocks = math.blocks
    item.in_words = math.in_words
    weights = [] if len(inputs) > 1 and layer.maps_over_tensor_lists else layer.weight_shapes(inputs)
    item.weights = [WeightRow(weight.name, weight.shape, weight.size, math.weight_layouts.get(weight.name, ""),
                              weight.trainable) for weight in weights]
    if weights:
        item.parameters = Formula.of(parameter_expression(layer, inputs))
    else:
        item.parameters = Formula("0", 0)
    item.pytorch = pytorch_view(layer, inputs)
    item.outputs = output_rows(layer, inputs, outputs)
    item.settings = settings(layer, inputs)
    if figures is not None:
        macs = figures.macs
        item.memory = {"batch_size": batch, "activation_bytes": figures.activation_bytes.to_dict(),
                       "param_bytes": figures.param_bytes}
    else:
        macs = None if len(inputs) > 1 and layer.maps_over_tensor_lists else \
            layer.macs(inputs, [TensorSpec(shape) for shape in outputs])
    if macs is None:
        item.notes.append(f"MACs not counted: lstmcalc has no MAC rule for {layer.keras_class} yet.")
    else:
        item.macs = MacText(Formula.of(macs.per_step), macs.steps, macs.unit, macs.total)
        if macs.steps is None:
            item.notes.append("The sequence length is unknown: MACs are given per step.")


# -- outputs and the return_sequences / return_state settings ------------------------------------

def output_rows(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape]) -> List[TensorRow]:
    copies = recurrent_copies(layer)
    if copies is None:
        return [TensorRow("output" if len(outputs) == 1 else f"output {index}", tensor_text(shape), "")
                for index, shape in enumerate(outputs)]
    forward = copies[0]
    batch, steps = inputs[0].shape[0], count_text(inputs[0].shape[1])
    units = forward.units
    sequences = forward["return_sequences"]
    last = f"h_{steps}"
    rows = []
    merged = 2 if isinstance(layer, Bidirectional) and layer.config["merge_mode"] is None else 1
    for index in range(merged):
        what = (f"h_1 … h_{steps}: the hidden state of every step" if sequences
                else f"{last}: the hidden state after the last step")
        if isinstance(layer, Bidirectional):
            what = ("both copies' hidden states, merged" if merged == 1
                    else ("the forward" if index == 0 else "the backward") + " copy's hidden states")
            what += " at every step" if sequences else ", last step"
        rows.append(TensorRow("output" if merged == 1 else f"output {index + 1}", tensor_text(outputs[index]),
                              what))
    states = list(outputs[merged:])
    directions = [""] if len(copies) == 1 else ["forward ", "backward "]
    position = 0
    for direction, copy in zip(directions, copies):
        for name in copy.state_names:
            meaning = _state_meaning(name, steps, sequences)
            shape = tensor_text((batch, copy.units))
            if states:
                rows.append(TensorRow(f"{direction}state {name}_{steps}", tensor_text(states[position]), meaning))
                position += 1
            else:
                rows.append(TensorRow(f"{direction}{_state_word(name)} {name}_t", shape,
                                      f"at every step; not returned (return_state: false)", returned=False))
    return rows


def _state_word(name: str) -> str:
    return "hidden state" if name == "h" else "cell state"


def _state_meaning(name: str, steps: str, sequences: bool) -> str:
    if name == "h":
        same = "the same values as the output" if not sequences else "the output's last step"
        return f"final hidden state ({same})"
    return "final cell state: the memory after the last step"


def with_settings(layer: Layer, return_sequences: bool, return_state: bool) -> Layer:
    """A copy of a recurrent layer (or Bidirectional) with other return settings."""
    overrides = {"return_sequences": return_sequences, "return_state": return_state}
    if isinstance(layer, Bidirectional):
        config = dict(layer.config)
        config["layer"] = clone(config["layer"], config["layer"].name, **overrides)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = clone(config["backward_layer"], config["backward_layer"].name, **overrides)
        return Bidirectional(layer.name, config, layer.convention)
    return clone(layer, layer.name, **overrides)


def settings(layer: Layer, inputs: Sequence[TensorSpec]) -> List[Setting]:
    copies = recurrent_copies(layer)
    if copies is None:
        return []
    current = (copies[0]["return_sequences"], copies[0]["return_state"])
    steps = count_text(inputs[0].shape[1])
    directions = [""] if len(copies) == 1 else ["forward ", "backward "]
    states = tuple(f"{direction}{name}_{steps}" for direction, copy in zip(directions, copies)
                   for name in copy.state_names)
    rows = []
    for sequences in (False, True):
        for state in (False, True):
            shapes = with_settings(layer, sequences, state).output_shapes(inputs)
            outputs = len(shapes) - (len(states) if state else 0)
            roles = ("output",) if outputs == 1 else ("forward output", "backward output")
            rows.append(Setting(sequences, state, tuple(tensor_text(shape) for shape in shapes),
                                roles + (states if state else ()), (sequences, state) == current))
    return rows


# -- rejected layers ---------------------------------------------------------------------------

def _producer(report: Report, record: LayerReport) -> Optional[LayerReport]:
    """The layer that shaped this layer's input, looking through layers that keep the shape."""
    node = report.graph.nodes.get(record.name) if report.graph is not None else None
    found = report.graph.producer(node) if node is not None else None
    return report.layer(found.name) if found is not None else None


def _wants_sequence(layer: Optional[Layer]) -> bool:
    return layer is not None and recurrent_copies(layer) is not None


def _returns_last_step(layer: Optional[Layer]) -> bool:
    copies = recurrent_copies(layer) if layer is not None else None
    return bool(copies) and not copies[0]["return_sequences"]


def rejection(report: Report, record: LayerReport, layer: Optional[Layer],
              inputs: Sequence[TensorSpec]) -> Rejection:
    diagnostics = [item for item in _about(report, record) if item.is_error]
    received = [tensor_text(tensor.shape) for tensor in inputs]
    reason = diagnostics[0].message if diagnostics else "Keras does not build this layer."
    if _wants_sequence(layer) and len(inputs) == 1 and inputs[0].rank == 2:
        producer = _producer(report, record)
        source = f" from {producer.name}" if producer is not None else ""
        n = inputs[0].shape[-1]
        mismatch = layer.expected_rank().mismatch(2)
        reason = (f"{record.name} ({record.type}) runs its equations once per time step t over "
                  f"x_t (batch, features), so it needs a 3-D input (batch, timesteps, features). It receives "
                  f"{received[0]}{source}: one vector of {n} values per sample, not a sequence — there is no "
                  f"t to loop over (Keras: {mismatch}).")
        producer_layer = built_layer(report, producer.name) if producer is not None else None
        if _returns_last_step(producer_layer):
            reason += (f" {producer.name} has return_sequences: false, so it passes on only its last hidden "
                       "state.")
        reason += " Keras does not build this model: the layer does not fall back to acting like a Dense layer."
    return Rejection(received, reason, diagnostics)


def corrected_inputs(report: Report, record: LayerReport, layer: Optional[Layer],
                     inputs: Sequence[TensorSpec]) -> Optional[Tuple[List[TensorSpec], str]]:
    """For a recurrent layer fed one vector per sample: the sequence it would get once fixed, and
    the sentence that introduces it."""
    if not (_wants_sequence(layer) and len(inputs) == 1 and inputs[0].rank == 2):
        return None
    producer = _producer(report, record)
    steps = None
    producer_layer = built_layer(report, producer.name) if producer is not None else None
    if _returns_last_step(producer_layer):
        consumed = input_tensors(report, producer)
        steps = consumed[0].shape[1] if consumed and consumed[0].rank == 3 else None
        fix = f"with return_sequences: true on {producer.name}"
    else:
        fix = "fed a sequence (e.g. RepeatVector before it)"
    tensor = inputs[0]
    corrected = TensorSpec((tensor.shape[0], steps, tensor.shape[1]), tensor.dtype, tensor.masked)
    return [corrected], (f"What {record.name} would compute if it received a sequence — {fix} it would get "
                         f"{tensor_text(corrected.shape)}:")


def _compare_with_dense(item: LayerExplanation, layer: Layer, received: Sequence[TensorSpec]) -> None:
    copies = recurrent_copies(layer)
    n, units = received[0].shape[-1], copies[0].units
    dense = n * units + units
    item.rejection.reason += (f" A Dense({units}) on {tensor_text(received[0].shape)} would compute "
                              f"y = x·W + b with W {weight_text((n, units))}: {dense:,} parameters; "
                              f"{layer.name}, given a sequence, has {item.parameters.value:,} and loops over "
                              "the steps with its gates and states.")


__all__ = ["explain", "explain_layer", "Explanation", "LayerExplanation", "UnknownLayer"]
