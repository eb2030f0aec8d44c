"""Propagation: build the layers, wire the graph, push shapes through it, collect diagnostics.

The engine never prints; it returns a Report.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from .diagnostics import Diagnostic, make
from .graph import Graph, Node, build_graph
from .layers.base import Layer, Problem, TensorSpec, Weight, check_inputs
from .layers.factory import LayerFactory, Namer
from .layers.registry import layer_class
from .layers import frameworks
from .keras_layout import MaskTracker, TensorKey, operation_order
from .report import InputReport, LayerReport, OperationReport, Report, compute_totals, wrapped_reports
from .shapes import MAX_ELEMENTS, Shape, format_shape, product
from .spec.model import ModelSpec, Reference


def analyze_spec(spec: ModelSpec, *, batch_size: Optional[int] = None, convention: str = "keras",
                 spec_diagnostics: Sequence[Diagnostic] = ()) -> Report:
    """Propagate shapes through ``spec``; ``batch_size`` overrides the spec's."""
    batch = batch_size if batch_size is not None else spec.batch_size
    diagnostics: List[Diagnostic] = list(spec_diagnostics)
    namer = Namer()
    factory = LayerFactory(convention, namer, spec.framework)
    built = []
    by_name: Dict[str, Layer] = {}
    for definition in spec.layers:
        if definition.shares is not None:
            # A shared layer called again: the same layer object, no new weights.
            shared = by_name.get(definition.shares)
            if shared is None:
                diagnostics.append(make("S011", f"`call: {definition.shares}` refers to no layer defined before it.",
                                        "Define the layer first, then call it again with `call: <its name>`.",
                                        location=definition.location))
            built.append((definition, shared))
            continue
        layer, problems = factory.create(definition)
        diagnostics.extend(problems)
        built.append((definition, layer))
        if layer is not None:
            by_name[layer.name] = layer
    # Reading and construction problems in file order; Keras would stop at the first of them.
    diagnostics.sort(key=lambda d: (d.file or "", d.line or 0, d.column or 0))
    graph, problems = build_graph(spec, built, namer)
    diagnostics.extend(problems)
    for node in graph.nodes.values():
        if node.layer is not None:
            producer = graph.producer(node)
            node.layer.connect(producer.layer if producer is not None else None)
    framework = frameworks.framework(spec.framework)
    if framework.batch_required and batch is None:
        diagnostics.append(make(
            "S002", f"A {framework.title} spec needs a concrete batch size: {framework.title} tensors have "
                    "one, and the shapes it reports include it.",
            "Add e.g. `batch_size: 8` at the top of the spec, or pass --batch-size.",
            location=spec.location_of("framework")))
    name = spec.name or framework.model_names[1 if spec.functional else 0]
    report = Report(name=name, file=spec.file, functional=spec.functional, batch_size=batch, graph=graph,
                    diagnostics=diagnostics, spec=spec, framework=spec.framework)
    report.batch_axis = batch_axis(built, diagnostics, spec.framework)
    Propagation(graph, report, diagnostics, batch, namer).run()
    if not spec.functional:
        in_stack_order(diagnostics, [layer.name for layer in report.layers], spec.layers)
    report.totals = compute_totals(report.layers)
    return report


def in_stack_order(diagnostics: List[Diagnostic], names: Sequence[str], definitions: Sequence[Any] = ()) -> None:
    """A stack's findings in the order of its layers: Keras builds a Sequential a layer at a time —
    constructs it, then adds it — and stops at the first that fails, so the first error is the
    first failing layer's, whether its arguments or its input are wrong. Findings about no layer
    (the spec's own) come first; the sort is stable, so a layer's own findings keep their order.
    A layer named like an earlier one (S009) is not in the stack: its finding comes where Keras
    adds it, after the layers written before it (random-67-133), not with its namesake."""
    position: Dict[str, float] = {name: index for index, name in enumerate(names)}
    places = {(definition.location.line, definition.location.column): index
              for index, definition in enumerate(definitions) if getattr(definition, "location", None)}
    duplicates = {places[(d.line, d.column)] for d in diagnostics
                  if d.code == "S009" and (d.line, d.column) in places}

    def key(diagnostic: Diagnostic) -> float:
        if diagnostic.code == "S009" and (diagnostic.line, diagnostic.column) in places:
            index = places[(diagnostic.line, diagnostic.column)]
            return sum(1 for earlier in range(index) if earlier not in duplicates) - 0.5
        return position.get(diagnostic.layer, -1) if diagnostic.layer is not None else -1
    diagnostics.sort(key=key)


def batch_axis(built: Sequence[tuple], diagnostics: List[Diagnostic], framework: str = "keras") -> int:
    """Where the spec's inputs get their batch axis: where the first layer with a say reads it (a
    PyTorch RNN's batch_first), else first. A later layer that reads it elsewhere draws H009:
    PyTorch runs such a model, reading the batch as time. A layer that could not be built has its
    say from its arguments as written (its own error does not move the batch of the layers before it)."""
    chosen = None
    for definition, layer in built:
        if layer is None:
            if chosen is None and definition.shares is None:
                cls = layer_class(definition.type_name, framework)
                written = None if cls is None else cls.written_batch_axis(cls.written_arguments(
                    [argument.value for argument in definition.positional],
                    {key: argument.value for key, argument in definition.keywords.items()}))
                if written is not None:
                    chosen = (written, None)
            continue
        axis = layer.expected_batch_axis()
        if axis is None:
            continue
        if chosen is None:
            chosen = (axis, layer)
        elif axis != chosen[0]:
            first = chosen[1]
            if first is None:  # the first says so but could not be built: its own error is enough
                continue
            where = layer.location_of("batch_first") or definition.location
            diagnostics.append(make(
                "H009", f"{layer.name} ({layer.keras_class}) reads the batch on axis {axis} of its input, "
                        f"{first.name} ({first.keras_class}) on axis {chosen[0]}: the model runs without an error, "
                        f"but {layer.name} takes the axes of the tensor it receives for others — the batch for time "
                        "steps and the steps for the batch — so its outputs mean something else.",
                f"Make the layers agree on where the batch is (PyTorch: the same batch_first on every "
                f"recurrent module); the inputs follow {first.name}, batch on axis {chosen[0]}.",
                layer=layer.name, location=where))
    return chosen[0] if chosen is not None else 0


def apply_layer(layer: Layer, tensors: List[TensorSpec], states: Sequence[TensorSpec] = (),
                as_list: bool = False):
    """A layer's (outputs, weights) for these input tensors, by its rules in Keras's order: the
    inputs' count and rank, the initial states, the weights (which need known sizes), the outputs.
    Raises Problem. (The verifier applies it again at concrete sizes.)"""
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
            raise Problem(
                "H003",
                "Shapes used to initialize variables must be fully-defined (no `None` dimensions). "
                f"Received: shape={format_shape(weight.shape)} for variable `{weight.name}` of "
                f"{layer.name}.", "")
    layer.check_weights(weights)
    outputs = layer.outputs(tensors)
    check_sizes(layer, weights, outputs)
    return outputs, weights


def check_sizes(layer: Layer, weights: Sequence[Weight], outputs: Sequence[TensorSpec]) -> None:
    """Raise H011 for a weight, or an output per sample, of more elements than any framework
    can index (the counts stay exact integers; the table and JSON never round them)."""
    for weight in weights:
        if weight.size > MAX_ELEMENTS:
            raise Problem(
                "H011", f"{layer.name} ({layer.keras_class}): its weight `{weight.name}` would have "
                        f"{format_shape(weight.shape)} = {weight.size:,} elements, 2**63 or more: no framework "
                        "can build it (they count elements in 64-bit integers).",
                "Check the sizes in this layer's arguments (units, filters, input_dim, ...) for a typo.")
    for tensor in outputs:
        per_sample = product([dim for dim in tensor.shape[1:] if dim is not None])
        if per_sample > MAX_ELEMENTS:
            raise Problem(
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
        in_model = self.graph.in_model | self.graph.uncalled
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
        axis = definition.batch_axis if definition.batch_axis is not None else self.report.batch_axis
        axis = min(axis, len(definition.shape))
        shape = definition.batch_shape(self.batch, axis)
        self.tensors[node.name] = [TensorSpec(shape, definition.dtype, batch_axis=axis)]
        self.report.inputs.append(InputReport(node.name, shape, definition.dtype,
                                              node.location.line, node.location.column, axis))

    def _blank(self, node: Node, status: str) -> LayerReport:
        layer = node.layer
        return LayerReport(
            name=node.name, type=layer.keras_class if layer else node.type_name, status=status,
            line=node.location.line, column=node.location.column,
            config=dict(layer.config) if layer else {},
            settings=layer.display_settings() if layer else [],
            wrapped=wrapped_reports(layer) if layer else [])

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
        if node.name in self.graph.uncalled:
            self._uncalled(node, layer, layer_report)
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
        except Problem as problem:
            layer_report.status = "error"
            self.diagnostics.append(self._locate(node, tensors, problem))
            return
        for finding in layer.warnings(tensors):
            self.diagnostics.append(self._locate(node, tensors, finding))
        shares = node.definition.shares if node.definition is not None else None
        if shares is not None:
            original = self.layer_reports.get(shares)
            if original is not None and original.status == "ok" and \
                    [weight.shape for weight in weights] != [weight.shape for weight in original.weights]:
                layer_report.status = "error"
                received = ", ".join(format_shape(tensor.shape) for tensor in tensors)
                self.diagnostics.append(make(
                    "H004", f"{node.name} calls {shares} ({layer.keras_class}) again on {received}, but its weights "
                            f"were made for {', '.join(original.inputs)}: they would need other shapes.",
                    "A shared layer must be called on inputs of the same feature size each time.",
                    layer=shares, location=node.location))
                return
            layer_report.shares = shares
            weights = []  # counted once, at the layer's first call
        layer_report.status = "ok"
        layer_report.weights = weights
        layer_report.output_shapes = [tensor.shape for tensor in outputs]
        layer_report.output_dtypes = [tensor.dtype for tensor in outputs]
        layer_report.output_masks = [tensor.masked for tensor in outputs]
        layer_report.output_batch_axes = [tensor.batch_axis for tensor in outputs]
        layer_report.output_batch_folds = [tensor.batch_fold for tensor in outputs]
        layer_report.output_labels = layer.output_labels(len(outputs))
        self.tensors[node.name] = outputs
        self.masks.layer_called(node.name, layer, keys, len(outputs))
        mask = self.masks.consumed.get(node.name)
        layer_report.mask = f"{mask[0]}[{mask[1]}]" if mask else None

    def _uncalled(self, node: Node, layer: Layer, layer_report: LayerReport) -> None:
        """A PyTorch module forward() never calls: no shapes, but its parameters count."""
        try:
            layer_report.weights = layer.uncalled_weights()
        except Problem as problem:
            layer_report.status = "error"
            self.diagnostics.append(make(problem.code, problem.message, problem.hint, layer=node.name,
                                         location=node.argument_location(problem.argument)))
            return
        layer_report.status = "unused"
        self.diagnostics.append(make(
            "S024", f"{node.name} ({layer.keras_class}) is never called by forward(): its "
                    f"{layer_report.params:,} parameters count (named_parameters() lists them), it has no shapes.",
            "Remove it if it is left over from an experiment.", layer=node.name, location=node.location))

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

    def _locate(self, node: Node, tensors: List[TensorSpec], problem: Problem) -> Diagnostic:
        where = node.argument_location(problem.argument)
        message, hint = problem.message, problem.hint
        if problem.code in ("H001", "H003"):
            message, hint = explain_shape_problem(self, node, tensors, problem)
        return make(problem.code, message, hint, layer=node.name, location=where)



def explain_shape_problem(propagation: Propagation, node: Node, tensors: List[TensorSpec],
                          problem: Problem):
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
        if producer is not None and producer.layer is not None and producer.layer.flattens:
            hint = ("Flatten of a sequence with unknown length gives (batch, None). Give the input a fixed "
                    "length (e.g. input: [50, 10]), or replace Flatten with GlobalAveragePooling1D, or end "
                    "the recurrent stack with return_sequences: false.")
        else:
            hint = "Give the input a known feature size, e.g. input: [null, 10] rather than [null, null]."
        return message, hint
    rank = layer.expected_rank()
    if layer.missing_time_axis(tensors[0]):
        axes = layer.sequence_axes
        message = (f"{layer.name} ({layer.keras_class}) expects a {len(axes)}-D input ({', '.join(axes)}) "
                   f"but receives {format_shape(received)} from {source}: one "
                   f"{'vector' if len(received) == 2 else 'frame'} per sample, not a sequence.")
        producer_layer = producer.layer if producer is not None else None
        last_step = producer_layer is not None and producer_layer.returns_last_step_only()
        more, hint = layer.missing_time_axis_advice(producer.name if last_step else None)
        return message + more + f" Keras: {problem.message}", hint
    if not problem.hint:
        expectation = _rank_words(rank)
        hint = f"{layer.name} takes {expectation}; it receives {format_shape(received)} from {source}."
        return problem.message, hint
    return problem.message, problem.hint


def _rank_words(rank) -> str:
    if rank is None:
        return "any rank"
    if rank.ndim is not None:
        return f"inputs of rank {rank.ndim} (batch axis included)"
    if rank.min_ndim is not None:
        return f"inputs of rank {rank.min_ndim} or more (batch axis included)"
    return f"inputs of rank at most {rank.max_ndim}"
