"""Propagation: build the layers, wire the graph, push shapes through it, collect diagnostics.

The engine never prints; it returns a Report.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from .diagnostics import Diagnostic, make
from .graph import Graph, Node, build_graph
from .layers.base import Layer, ShapeProblem, TensorSpec, Weight, check_inputs
from .layers.factory import LayerFactory, Namer
from .keras_layout import MaskTracker, TensorKey, operation_order
from .report import InputReport, LayerReport, OperationReport, Report, compute_totals
from .shapes import MAX_ELEMENTS, Shape, format_shape, product
from .spec.model import ModelSpec, Reference


def analyze_spec(spec: ModelSpec, *, batch_size: Optional[int] = None, convention: str = "keras",
                 spec_diagnostics: Sequence[Diagnostic] = ()) -> Report:
    """Propagate shapes through ``spec``; ``batch_size`` overrides the spec's."""
    batch = batch_size if batch_size is not None else spec.batch_size
    diagnostics: List[Diagnostic] = list(spec_diagnostics)
    namer = Namer()
    factory = LayerFactory(convention, namer)
    built = []
    for definition in spec.layers:
        layer, problems = factory.create(definition)
        diagnostics.extend(problems)
        built.append((definition, layer))
    # Reading and construction problems in file order; Keras would stop at the first of them.
    diagnostics.sort(key=lambda d: (d.file or "", d.line or 0, d.column or 0))
    graph, problems = build_graph(spec, built, namer)
    diagnostics.extend(problems)
    name = spec.name or ("functional" if spec.functional else "sequential")
    report = Report(name=name, file=spec.file, functional=spec.functional, batch_size=batch, graph=graph,
                    diagnostics=diagnostics, spec=spec)
    Propagation(graph, report, diagnostics, batch, namer).run()
    report.totals = compute_totals(report.layers)
    return report


def apply_layer(layer: Layer, tensors: List[TensorSpec], states: Sequence[TensorSpec] = (),
                as_list: bool = False):
    """A layer's (outputs, weights) for these input tensors, by its rules in Keras's order: the
    inputs' count and rank, the initial states, the weights (which need known sizes), the outputs.
    Raises ShapeProblem. (The verifier applies it again at concrete sizes.)"""
    if len(tensors) > 1 and layer.maps_over_tensor_lists and not states:
        # Keras applies input-spec-free layers such as Dropout to each tensor of a list.
        outputs: List[TensorSpec] = []
        for tensor in tensors:
            outputs.extend(layer.outputs([tensor]))
        return outputs, []
    check_inputs(layer, tensors, as_list)
    if states:
        layer.check_initial_state(tensors, states)
    weights = layer.weight_shapes(tensors)
    for weight in weights:
        if None in weight.shape:
            raise ShapeProblem(
                "H003",
                "Shapes used to initialize variables must be fully-defined (no `None` dimensions). "
                f"Received: shape={format_shape(weight.shape)} for variable `{weight.name}` of "
                f"{layer.name}.", "")
    outputs = layer.outputs(tensors)
    check_sizes(layer, weights, outputs)
    return outputs, weights


def check_sizes(layer: Layer, weights: Sequence[Weight], outputs: Sequence[TensorSpec]) -> None:
    """Raise H011 for a weight, or an output per sample, of more elements than any framework
    can index (the counts stay exact integers; the table and JSON never round them)."""
    for weight in weights:
        if weight.size > MAX_ELEMENTS:
            raise ShapeProblem(
                "H011", f"{layer.name} ({layer.keras_class}): its weight `{weight.name}` would have "
                        f"{format_shape(weight.shape)} = {weight.size:,} elements, 2**63 or more: no framework "
                        "can build it (they count elements in 64-bit integers).",
                "Check the sizes in this layer's arguments (units, filters, input_dim, ...) for a typo.")
    for tensor in outputs:
        per_sample = product([dim for dim in tensor.shape[1:] if dim is not None])
        if per_sample > MAX_ELEMENTS:
            raise ShapeProblem(
                "H011", f"{layer.name} ({layer.keras_class}) would output {format_shape(tensor.shape)}: "
                        f"{per_sample:,} elements per sample, 2**63 or more: no framework can hold it.",
                "Check the sizes in this layer's arguments and in the input shape for a typo.")


class Propagation:
    """One pass over the graph in topological order."""

    def __init__(self, graph: Graph, report: Report, diagnostics: List[Diagnostic], batch: Optional[int],
                 namer: Namer):
        self.graph = graph
        self.report = report
        self.diagnostics = diagnostics
        self.batch = batch
        self.tensors: Dict[str, List[TensorSpec]] = {}
        self.layer_reports: Dict[str, LayerReport] = {}
        self.masks = MaskTracker(new_name=namer.auto, shapes=self._shape_of)

    def _shape_of(self, key: TensorKey) -> Shape:
        return self.tensors[key[0]][key[1]].shape

    def run(self) -> None:
        for name in self.graph.order:
            node = self.graph.nodes[name]
            if node.is_input:
                self._input(node)
            else:
                self._layer(node)
        placed = set(self.graph.order)
        # Layers left out of the order (on a cycle) are still listed, as not reached.
        for name, node in self.graph.nodes.items():
            if name not in placed and not node.is_input:
                self.layer_reports[name] = self._blank(node, "not-reached")
        in_model = self.graph.in_model
        names = list(self.graph.order) + [name for name in self.graph.nodes if name not in placed]
        self.report.layers = [self.layer_reports[name] for name in names
                              if name in self.layer_reports and name in in_model]
        self.report.outputs = self._reference_names(self.graph.outputs)
        if self.graph.functional:
            self._keras_layout()

    # -- nodes ---------------------------------------------------------------------------------

    def _input(self, node: Node) -> None:
        definition = node.input_def
        if definition.shape is None:
            return  # the spec reader reported why (S010); nothing downstream can be computed
        shape = definition.batch_shape(self.batch)
        self.tensors[node.name] = [TensorSpec(shape, definition.dtype)]
        self.report.inputs.append(InputReport(node.name, shape, definition.dtype,
                                              node.location.line, node.location.column))

    def _blank(self, node: Node, status: str) -> LayerReport:
        layer = node.layer
        return LayerReport(
            name=node.name, type=layer.keras_class if layer else node.type_name, status=status,
            line=node.location.line, column=node.location.column,
            config=dict(layer.config) if layer else {})

    def _keys(self, node: Node, references: List[Reference]) -> Optional[List[TensorKey]]:
        """The tensors ``references`` pick, as (node, index) keys; None when one is missing."""
        keys: List[TensorKey] = []
        for reference in references:
            produced = self.tensors.get(reference.name)
            if produced is None:
                return None
            if reference.index is None:
                keys.extend((reference.name, index) for index in range(len(produced)))
            elif -len(produced) <= reference.index < len(produced):
                keys.append((reference.name, reference.index % len(produced)))
            else:
                self.diagnostics.append(make(
                    "S014", f"`{reference}` picks output {reference.index} of `{reference.name}`, which has "
                            f"{len(produced)} output(s).",
                    f"Use an index from 0 to {len(produced) - 1}.", layer=node.name,
                    location=reference.location))
                return None
        return keys

    def _reference_names(self, references: List[Reference]) -> List[str]:
        names = []
        for reference in references:
            produced = self.tensors.get(reference.name, [])
            if reference.index is None:
                names.extend(f"{reference.name}[{index}]" for index in range(len(produced)))
            elif produced:
                names.append(f"{reference.name}[{reference.index % len(produced)}]")
        return names

    def _layer(self, node: Node) -> None:
        layer_report = self._blank(node, "not-reached")
        self.layer_reports[node.name] = layer_report
        layer = node.layer
        if layer is None:
            layer_report.status = "error"
            return
        keys = self._keys(node, node.inputs)
        state_keys = self._keys(node, node.initial_state) if node.initial_state else []
        if not keys or state_keys is None:
            return
        tensors = [self.tensors[name][index] for name, index in keys]
        states = [self.tensors[name][index] for name, index in state_keys]
        layer_report.inputs = [f"{name}[{index}]" for name, index in keys]
        layer_report.initial_state = [f"{name}[{index}]" for name, index in state_keys]
        as_list = bool(node.definition is not None and node.definition.inputs_as_list)
        try:
            outputs, weights = self._apply(layer, tensors, states, as_list)
        except ShapeProblem as problem:
            layer_report.status = "error"
            self.diagnostics.append(self._locate(node, tensors, problem))
            return
        for finding in layer.warnings(tensors):
            self.diagnostics.append(self._locate(node, tensors, finding))
        layer_report.status = "ok"
        layer_report.weights = weights
        layer_report.output_shapes = [tensor.shape for tensor in outputs]
        layer_report.output_dtypes = [tensor.dtype for tensor in outputs]
        layer_report.output_masks = [tensor.masked for tensor in outputs]
        self.tensors[node.name] = outputs
        self.masks.layer_called(node.name, layer, keys, len(outputs))
        mask = self.masks.consumed.get(node.name)
        layer_report.mask = f"{mask[0]}[{mask[1]}]" if mask else None

    def _apply(self, layer: Layer, tensors: List[TensorSpec], states: List[TensorSpec], as_list: bool):
        return apply_layer(layer, tensors, states, as_list)

    # -- Keras's layout of graph models ----------------------------------------------------------

    def _parents(self, name: str) -> List[TensorKey]:
        if name in self.masks.operations:
            return list(self.masks.operations[name].inputs)
        node = self.graph.nodes[name]
        if node.is_input:
            return []
        keys = self._keys(node, node.inputs) or []
        keys += self._keys(node, node.initial_state) or []
        mask = self.masks.consumed.get(name)
        return keys + ([mask] if mask else [])

    def _keras_layout(self) -> None:
        if not self.report.ok or not self.graph.outputs:
            self.report.sequential_like = False  # show the wiring of an invalid graph
            return
        outputs = self._keys(self.graph.nodes[self.graph.outputs[0].name], self.graph.outputs) or []
        inputs = [node.name for node in self.graph.nodes.values() if node.is_input]
        order, sequential_like = operation_order(outputs, self._parents, inputs)
        self.report.row_order = order
        self.report.sequential_like = sequential_like
        self.report.operations = [
            OperationReport(operation.name, operation.type,
                            [f"{name}[{index}]" for name, index in operation.inputs], [operation.shape])
            for name, operation in self.masks.operations.items() if name in order]

    # -- diagnostics ---------------------------------------------------------------------------

    def _locate(self, node: Node, tensors: List[TensorSpec], problem: ShapeProblem) -> Diagnostic:
        where = argument_location(node, problem.argument)
        message, hint = problem.message, problem.hint
        if problem.code in ("H001", "H003"):
            message, hint = explain_shape_problem(self, node, tensors, problem)
        return make(problem.code, message, hint, layer=node.name, location=where)

def argument_location(node: Node, argument: Optional[str]):
    """Where ``argument`` was written for this node's layer — or for a layer it wraps (the
    `stateful: true` inside a Bidirectional's `layer:`) — else the layer's entry."""
    if argument == "initial_state" and node.initial_state:
        return node.initial_state[0].location
    pending = [node.layer] if argument and node.layer is not None else []
    while pending:
        layer = pending.pop(0)
        locations = getattr(layer, "argument_locations", {})
        if argument in locations:
            return locations[argument]
        # Wrapped layers as written (`layer:`, `backward_layer:`), not the wrapper's copies.
        pending.extend(value for value in layer.config.values() if isinstance(value, Layer))
    return node.location


SEQUENCE_LAYERS = {"LSTM", "GRU", "SimpleRNN", "Bidirectional", "Conv1D", "MaxPooling1D",
                   "AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "SpatialDropout1D"}


def explain_shape_problem(propagation: Propagation, node: Node, tensors: List[TensorSpec],
                          problem: ShapeProblem):
    """Say where the offending shape came from and how to fix it, in the learner's terms."""
    layer = node.layer
    producer = propagation.graph.producer(node)
    received = tensors[0].shape
    source = producer.name if producer is not None else "the input"
    if problem.code == "H003":
        axis_owner = f"{layer.name} ({layer.keras_class})"
        message = (f"{axis_owner} cannot create its weights: they need the size of the last axis of "
                   f"its input, and it receives {format_shape(received)} from {source}, whose last "
                   f"axis is unknown. Keras: {problem.message}")
        if producer is not None and producer.layer is not None and producer.layer.keras_class == "Flatten":
            hint = ("Flatten of a sequence with unknown length gives (batch, None). Give the input a fixed "
                    "length (e.g. input: [50, 10]), or replace Flatten with GlobalAveragePooling1D, or end "
                    "the recurrent stack with return_sequences: false.")
        else:
            hint = "Give the input a known feature size, e.g. input: [null, 10] rather than [null, null]."
        return message, hint
    rank = layer.expected_rank()
    wants_sequence = rank is not None and rank.ndim == 3 and layer.keras_class in SEQUENCE_LAYERS
    if wants_sequence and len(received) == 2:
        message = (f"{layer.name} ({layer.keras_class}) expects a 3-D input (batch, timesteps, features) "
                   f"but receives {format_shape(received)} from {source}: one vector per sample, not a "
                   f"sequence.")
        producer_layer = producer.layer if producer is not None else None
        if producer_layer is not None and _returns_last_step_only(producer_layer):
            message += (f" {producer.name} has return_sequences: false, so it returns only its last "
                        f"output. Keras rejects this model: a {layer.keras_class} fed a single vector does "
                        f"not 'behave like a Dense layer', it does not build.")
            hint = (f"Set `return_sequences: true` on `{producer.name}` so it passes its whole sequence "
                    f"(batch, timesteps, units) on, or put RepeatVector(n) before `{layer.name}` to repeat "
                    f"that vector n times, or replace `{layer.name}` with a Dense layer.")
        else:
            hint = (f"Feed `{layer.name}` a sequence: add RepeatVector(n) or Reshape before it, or give "
                    "the model a 3-D input (timesteps, features).")
        return message + f" Keras: {problem.message}", hint
    if not problem.hint:
        expectation = _rank_words(rank)
        hint = f"{layer.name} takes {expectation}; it receives {format_shape(received)} from {source}."
        return problem.message, hint
    return problem.message, problem.hint


def _returns_last_step_only(layer: Layer) -> bool:
    if layer.keras_class in ("LSTM", "GRU", "SimpleRNN"):
        return not layer["return_sequences"]
    if layer.keras_class == "Bidirectional":
        return not layer.return_sequences
    return False


def _rank_words(rank) -> str:
    if rank is None:
        return "any rank"
    if rank.ndim is not None:
        return f"inputs of rank {rank.ndim} (batch axis included)"
    if rank.min_ndim is not None:
        return f"inputs of rank {rank.min_ndim} or more (batch axis included)"
    return f"inputs of rank at most {rank.max_ndim}"
