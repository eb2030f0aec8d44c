"""`lstmcalc port`: a model's weights converted to the other framework's layout (Keras ⇄ PyTorch),
with the equivalent spec, proven by running both forward passes on the same random input.

Every fact comes from the layer classes: each layer's ``port_to`` (lstmcalc.layers.porting) says
which layers of the other framework compute the same function, converts its weights and names the
tensors that must agree. This module asks them in order, writes the spec, and runs lstmcalc's NumPy
forward pass of both models; it refuses (P003) when any tensor differs by more than the tolerance.

    result = port_report(report, PortOptions(target="pytorch", weights_path="keras.npz"))
    result.ok, result.spec_text(), result.weights, result.largest_difference
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple

from .compute import built_layer, input_tensors
from .diagnostics import Diagnostic, Problem, make
from .layers.frameworks import DEFAULT, FRAMEWORKS
from .layers.porting import Counterpart, Handover, Link, PortPlan, no_weights
from .report import Report
from .spec.source import Location

if TYPE_CHECKING:
    from numpy import ndarray

SCHEMA_ID = "lstmcalc.port/1"
TOLERANCE = 1e-5
DEFAULT_BATCH_SIZE = 2


@dataclass(frozen=True)
class PortOptions:
    """``target``: keras or pytorch. The weights (``<layer>/<weight>`` for Keras, the state_dict's
    ``<layer>.<parameter>`` for PyTorch) from ``weights_path`` or ``weights``. ``merge_stacks``
    folds stacked recurrent layers into one module's num_layers. The proof runs on a random input of
    ``batch_size`` (the spec's when it has one) and ``timesteps`` for unknown lengths."""

    target: str
    weights_path: Optional[str] = None
    weights: Optional[Mapping[str, "ndarray"]] = None
    merge_stacks: bool = False
    batch_size: Optional[int] = None
    timesteps: int = 7
    seed: int = 0
    tolerance: float = TOLERANCE


@dataclass(frozen=True)
class Comparison:
    """One tensor of the source model against its counterpart in the written model."""

    source: str
    target: str
    shape: tuple
    largest_difference: float

    def to_dict(self) -> Dict[str, Any]:
        return {"source": self.source, "target": self.target, "shape": list(self.shape),
                "largest_difference": self.largest_difference}


@dataclass
class Ported:
    """One source layer and what it became."""

    source: str
    source_type: str
    targets: List[str]  # `name (Type)` of each written layer


@dataclass
class PortResult:
    report: Report
    options: PortOptions
    spec: Optional[Dict[str, Any]] = None
    target_report: Optional[Report] = None
    weights: Dict[str, "ndarray"] = field(default_factory=dict)
    layers: List[Ported] = field(default_factory=list)
    comparisons: List[Comparison] = field(default_factory=list)
    batch_size: Optional[int] = None
    timesteps: Optional[int] = None
    diagnostics: List[Diagnostic] = field(default_factory=list)
    output_path: Optional[str] = None  # set by save_weights
    spec_path: Optional[str] = None    # set by save_spec
    graph: Optional[List[str]] = None  # the written spec's outputs when it is a graph

    @property
    def largest_difference(self) -> Optional[float]:
        return max((item.largest_difference for item in self.comparisons), default=None)

    @property
    def ok(self) -> bool:
        """Written only when every compared tensor agrees and nothing went wrong."""
        return (self.spec is not None and bool(self.comparisons) and not any(d.is_error for d in self.diagnostics)
                and all(item.largest_difference <= self.options.tolerance for item in self.comparisons))

    def spec_text(self) -> str:
        """The written spec as YAML: one flow mapping per layer, as the examples in specs/ write them."""
        import yaml

        def flow(value: Any) -> str:
            text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 20)
            return text.replace("\n...\n", "").strip()  # a scalar's document end marker

        assert self.spec is not None
        source = FRAMEWORKS[self.report.framework].title
        lines = [f"# Written by `lstmcalc port` from {self.report.file or 'a spec'} ({source}); the two forward "
                 f"passes agree within {self.options.tolerance:g}."]
        for key, value in self.spec.items():
            if key == "layers":
                lines.append("layers:")
                lines += [f"  - {flow(entry)}" for entry in value]
            else:
                lines.append(f"{key}: {flow(value)}")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> Dict[str, Any]:
        return {"schema": SCHEMA_ID, "ok": self.ok, "source": self.report.file, "from": self.report.framework,
                "to": self.options.target, "tolerance": self.options.tolerance,
                "largest_difference": self.largest_difference, "batch_size": self.batch_size,
                "timesteps": self.timesteps, "seed": self.options.seed,
                "layers": [{"source": item.source, "type": item.source_type, "targets": item.targets}
                           for item in self.layers],
                "comparisons": [item.to_dict() for item in self.comparisons],
                "spec": self.spec, "weights": sorted(self.weights),
                "diagnostics": [item.to_dict() for item in self.diagnostics]}


def port_report(report: Report, options: PortOptions) -> PortResult:
    """Port an analysed model; see the module docstring. Raises ValueError when the target is the
    model's own framework."""
    if options.target == report.framework:
        raise ValueError(f"the spec already follows {FRAMEWORKS[report.framework].title}")
    result = PortResult(report, options)
    if not _portable(report, result):
        return result
    given = _source_weights(report, options, result)
    if given is None:
        return result
    plan = _plan(report, options, result)
    if plan is None:
        return result
    result.spec = _document(report, plan, options, result.graph)
    _prove(result, plan, given)
    return result


def ported_spec(report: Report, target: str, merge_stacks: bool = False,
                batch_size: Optional[int] = None) -> PortResult:
    """The other framework's spec of an analysed model (``result.spec``, None with
    ``result.diagnostics`` when a layer has no equivalent), without weights or proof: what the
    layers' own port rules write (lstmcalc convert uses it)."""
    options = PortOptions(target=target, merge_stacks=merge_stacks, batch_size=batch_size)
    result = PortResult(report, options)
    if target == report.framework or not _portable(report, result):
        return result
    plan = _plan(report, options, result)
    if plan is not None:
        result.spec = _document(report, plan, options, result.graph)
    return result


def _portable(report: Report, result: PortResult) -> bool:
    """A valid model: port converts nothing else (each layer says what it cannot port)."""
    if not report.ok or report.graph is None:
        result.diagnostics = list(report.errors)
        return False
    return True


def _source_weights(report: Report, options: PortOptions, result: PortResult) -> Optional[Dict[str, "ndarray"]]:
    from .verify.arrays import ArrayContext, given_weights
    from .verify.result import VerifyOptions

    context = ArrayContext(report, VerifyOptions(weights_path=options.weights_path, weights=options.weights),
                           result.diagnostics)
    return given_weights(context)


def _plan(report: Report, options: PortOptions, result: PortResult) -> Optional[PortPlan]:
    """Ask every layer, in order, what it becomes."""
    plan = PortPlan(report.framework, options.target, options.merge_stacks)
    plan.reserved = {record.name for record in report.layers} | {item.name for item in report.inputs}
    wiring = Wiring(report, plan)
    calls: Dict[str, int] = {}
    written: List[List[Any]] = []  # the entries each source layer wrote (a later layer may still change them)
    for record in report.layers:
        layer = built_layer(report, record.name)
        before = len(plan.counterparts)
        try:
            wiring.start(record)
            if record.status == "unused":
                raise Problem("P002", f"{record.name} ({record.type}) is never called by forward(): a "
                                      f"{FRAMEWORKS[options.target].title} model leaves out a layer it never calls, so "
                                      f"its {record.params:,} parameters would not be counted.",
                              "Remove it from the model (it is left over), or call it in forward().")
            if record.shares:
                layer = _called_again(report, layer, record, calls)
            layer.port_to(options.target, plan.step_inputs(input_tensors(report, record)), plan)
            for counterpart in plan.counterparts[before:]:
                if counterpart.source == layer.name:
                    counterpart.source = record.name  # a module called again: that call's tensors
            wiring.connect(record, before)
        except Problem as problem:
            node = report.graph.nodes[record.name]
            result.diagnostics.append(make(problem.code, problem.message, problem.hint, layer=record.name,
                                           location=node.argument_location(problem.argument)))
            return None
        plan.advance()
        written.append([entry for counterpart in plan.counterparts[before:] for entry in counterpart.entries])
        result.layers.append(Ported(record.name, record.type, []))
    try:
        plan.finish()
        wiring.finish()
    except Problem as problem:
        result.diagnostics.append(make(problem.code, problem.message, problem.hint,
                                       location=Location(report.file, None, None)))
        return None
    result.graph = wiring.outputs if wiring.graph else None
    kept = {id(entry) for entry in plan.entries}  # without the steps left out (unused) or taken away (a fold)
    for item, entries in zip(result.layers, written):  # as they are now (PyTorch → Keras: in a TimeDistributed)
        item.targets = [f"{entry.name} ({entry.type})" for entry in entries if id(entry) in kept]
    return plan


class Wiring:
    """Which tensors each written entry takes, for a written spec that is a graph (`inputs:`,
    `outputs:`): a source graph (several inputs or outputs, merges, initial states), or a layer
    whose entries do not form a chain (a Bidirectional's merge_mode sum, written as two halves of
    torch's output joined). Where the source's layers follow one another, each written entry takes
    the one before, as in a stack."""

    def __init__(self, report: Report, plan: PortPlan):
        self.report, self.plan = report, plan
        self.source_graph = self.graph = bool(report.functional and not is_chain(report)) or len(report.inputs) > 1 \
            or any(len(self.references(report.graph.nodes[record.name].inputs)) > 1  # a Keras RNN's [out, h, c]
                   for record in report.layers)
        plan.graph = self.source_graph
        self.links: Dict[Tuple[str, int], Any] = {}  # (source layer, output) → Link
        self.made: Dict[str, str] = {}  # a source tensor made by a written step (a state's row) → its entry
        self.handovers: Dict[str, Handover] = {}  # source layer → what the layers taking its outputs may ask of it
        self.previous: Optional[str] = None  # the source layer ported last (whose handover plan.before is)
        self.outputs: List[str] = []
        self.chained = False

    def references(self, references) -> List[Tuple[str, int]]:
        """(producer, output index) of each reference, ``name`` without an index standing for all
        of its producer's outputs."""
        found = []
        for reference in references:
            record = self.report.layer(reference.name)
            count = len(record.output_shapes or [None]) if record is not None else 1
            found += [(reference.name, reference.index)] if reference.index is not None else \
                [(reference.name, index) for index in range(count)]
        return found

    def start(self, record) -> None:
        """Before ``record`` is ported: does it continue the chain of the written entries (takes
        the last source layer's one output, which nothing else takes)?"""
        self.chained = not self.source_graph  # a stack: every layer takes the one before
        if self.chained:
            return
        node = self.report.graph.nodes[record.name]
        entries = self.plan.entries
        sources = self.references(node.inputs)
        self.plan.given = [self.links.get(source) or (Link(0, source[0]) if self.report.layer(source[0]) is None
                                                      else None) for source in sources]
        if len(sources) == 1 and not node.initial_state and entries:
            link = self.links.get(sources[0])
            self.chained = (link is not None and link.target == entries[-1].name and link.row is None and
                            sources[0][0] == self.previous and
                            link.target_index == 0 and self.report.graph.consumers(sources[0][0]) == [record.name]
                            and sources[0] not in self.outputs_of_model())
        if not self.chained:
            if self.plan.channels_first:
                raise Problem("P002", f"{record.name} takes a tensor other than the one a convolution before it "
                                      "left in PyTorch's channels-first layout; lstmcalc ports such graphs as chains "
                                      "only.", "Port the convolutions and the layers after them as one chain.")
            self.plan.before = self.handover(record.name, sources)

    def handover(self, name: str, sources: List[Tuple[str, int]]) -> Handover:
        """What the layer that made ``name``'s one input left for the layers taking it (a torch
        module's Keras layers: its last step, its states' rows); the last step as return_sequences:
        false only for the one layer taking that output."""
        found = Handover()
        given = self.handovers.get(sources[0][0]) if len(sources) == 1 else None
        if given is None:
            return found
        source = sources[0]
        if source[1] == 0:
            takers = [other for other, node in self.report.graph.nodes.items()
                      if source in self.references(node.inputs) + self.references(node.initial_state)]
            if takers == [name] and source not in self.outputs_of_model():
                found.last_step = given.last_step
            found.final_state = given.final_state
        if given.rows is not None:
            found.rows = functools.partial(given.rows, source[1])
        return found

    def outputs_of_model(self) -> List[Tuple[str, int]]:
        return self.references(self.report.graph.outputs)

    def tensor(self, source: Tuple[str, int], owner: str) -> str:
        """The written spec's reference to the tensor equal to ``source`` (an input: its name),
        written as a step when it is one row of a state (torch's h_n[k])."""
        link = self.links.get(source)
        if link is None:
            if self.report.layer(source[0]) is None:
                return source[0]  # a model input keeps its name
            if source[0] in self.handovers and self.handovers[source[0]].rows is not None:
                raise Problem("P002", f"{source[0]}[{source[1]}] is a stack of states (one row per layer and "
                                      "direction, the batch axis second), and no Keras layer returns such a tensor "
                                      f"whole (Keras's tensors keep the batch axis first); {owner} needs it.",
                              "Take one row of it (h_n[-1] for the last layer's state), or use it only as another "
                              "recurrent module's initial state.")
            raise Problem("P002", f"{source[0]}[{source[1]}] has no tensor of its own in the written model (it was "
                                  f"folded into a module's num_layers), and {owner} takes it.",
                          "Port without --merge-stacks.")
        if link.axes is not None:
            raise Problem("P002", f"{source[0]} leaves a channels-first tensor that {owner} takes; lstmcalc ports "
                                  "convolutions inside graphs as chains only.",
                          "Port the convolutions and the layers after them as one chain.")
        whole = reference_of(link)
        if link.row is None:
            return whole
        key = f"{source[0]}[{source[1]}]"
        if key not in self.made:
            name = self.unique(f"{source[0]}_state{source[1]}")
            self.plan.add(Counterpart("", [self.plan.state_row(name, whole, link.row)], no_weights, []))
            self.made[key] = name
        return self.made[key]

    def state(self, source: Tuple[str, int], owner: str) -> str:
        """The tensor to pass as one of torch's initial states (D·num_layers, N, H) where the
        source has Keras's (N, H): a state that is its module's only row as it is, else the
        tensor with a new first axis."""
        link = self.links.get(source)
        if link is not None and link.row is not None and link.rows == 1 and link.axes is None:
            return link.target + f"[{link.target_index}]"
        tensor = self.tensor(source, owner)
        name = self.unique(f"{owner}_{tensor}_0")
        self.plan.add(Counterpart("", [self.plan.as_state(name, tensor)], no_weights, []))
        return name

    def unique(self, name: str) -> str:
        taken = {entry.name for entry in self.plan.entries} | {item.name for item in self.report.inputs}
        candidate, count = name, 1
        while candidate in taken:
            count += 1
            candidate = f"{name}_{count}"
        return candidate

    def connect(self, record, before: int) -> None:
        """After ``record`` was ported into plan.counterparts[before:]: its entries' inputs, its
        initial states, and its links for the layers after it."""
        node = self.report.graph.nodes[record.name]
        written = self.plan.counterparts[before:]
        entries = [entry for counterpart in written for entry in counterpart.entries]
        if entries and not self.chained:
            del self.plan.counterparts[before:]  # the steps its inputs need go before it
            first = [self.tensor(source, record.name) for source in self.references(node.inputs)]
            given = self.references(node.initial_state)
            target = next((counterpart.state_entry for counterpart in written if counterpart.state_entry), None)
            if given and target is None:
                raise Problem("P002", f"{record.name} ({record.type}) takes initial states, which lstmcalc ports "
                                      "for a one-direction recurrent layer of one layer only.",
                              "Port the model without initial_state on this layer.")
            order = next((counterpart.state_order for counterpart in written if counterpart.state_order), None)
            states = []
            if order is not None:  # torch's (h_0, c_0) stacks: each Keras layer takes its rows' states
                for entry, rows in order:
                    entry.initial_state = [self.row(given[position], number, record.name)
                                           for position, number in rows] if given else None
            else:
                states = [self.state(source, record.name) for source in given]
            self.plan.counterparts += written
            if entries[0].inputs is None:
                entries[0].inputs = first
            if states:
                target.initial_state = states
        elif node.initial_state:
            raise Problem("P002", f"{record.name} ({record.type}) takes initial states that lstmcalc cannot wire.",
                          "Port the model without initial_state on this layer.")
        for previous, entry in zip(entries, entries[1:]):
            if entry.inputs is None:
                entry.inputs = [previous.name]
            else:
                self.graph = True  # a layer whose entries are not a chain
        for counterpart in written:
            for link in counterpart.links:
                if link.source_row is None:
                    self.links[(record.name, link.index)] = link
            if counterpart.handover is not None:
                self.handovers[record.name] = counterpart.handover
        self.previous = record.name

    def row(self, source: Tuple[str, int], number: int, owner: str) -> str:
        """The written reference to row ``number`` of ``source``, a stack of states (torch's h_0 (D·num_layers,
        N, H)) given as initial state to ``owner``: the Keras state (N, H) equal to that row."""
        given = self.handovers.get(source[0])
        if given is None or given.rows is None:
            raise Problem("P002", f"{owner} takes {source[0]}[{source[1]}] as an initial state; lstmcalc finds no "
                                  f"Keras tensor equal to its row {number} (Keras's states are (batch, units)).",
                          "Pass another recurrent module's h_n and c_n (or a state.unsqueeze(0)).")
        link = given.rows(source[1], number)
        return reference_of(link)

    def finish(self) -> None:
        """The written model's outputs, in the source's order; the entries swapping a tensor back
        after the last convolution take the last entry."""
        entries = self.plan.entries
        for previous, entry in zip(entries, entries[1:]):
            if entry.inputs is None:
                entry.inputs = [previous.name]
        if entries and entries[0].inputs is None:
            entries[0].inputs = [self.report.inputs[0].name]
        if self.graph:
            self.outputs = [self.tensor(source, "the model's outputs") for source in self.outputs_of_model()]
            self.prune()
            self.first_outputs()

    def first_outputs(self) -> None:
        """A reference to an entry whose outputs are a list (a Keras RNN with return_state, which it
        may have become after layers took its output) names its first output: ``name[0]``."""
        listed = {entry.name for entry in self.plan.entries if entry.listed}

        def first(reference: str) -> str:
            return f"{reference}[0]" if reference in listed else reference

        for entry in self.plan.entries:
            entry.inputs = None if entry.inputs is None else [first(item) for item in entry.inputs]
            entry.initial_state = None if entry.initial_state is None else [first(item) for item in entry.initial_state]
        self.outputs = [first(item) for item in self.outputs]

    def prune(self) -> None:
        """Leave out the steps written for a source tensor that nothing uses (the last step of an
        encoder of which only the states are used): forward() would compute them for nothing."""
        by_name = {entry.name: entry for entry in self.plan.entries}
        needed, pending = set(), [reference.partition("[")[0] for reference in self.outputs]
        while pending:
            name = pending.pop()
            if name in needed or name not in by_name:
                continue
            needed.add(name)
            entry = by_name[name]
            pending += [reference.partition("[")[0] for reference in (entry.inputs or []) + (entry.initial_state or [])]
        for counterpart in self.plan.counterparts:
            counterpart.entries = [entry for entry in counterpart.entries if entry.name in needed]


def reference_of(link: Link) -> str:
    """The written spec's reference to the tensor a link names: ``name`` or ``name[i]``."""
    return link.target + (f"[{link.target_index}]" if link.target_index else "")


def is_chain(report: Report) -> bool:
    """A graph whose one input goes through its layers one after the other to its one output."""
    nodes = report.graph.nodes

    def one_tensor(reference) -> bool:
        """The first output: a recurrent layer's states are other tensors (Keras's ``lstm``
        without an index is all of them)."""
        record = report.layer(reference.name)
        return reference.index == 0 or (reference.index is None and (record is None or
                                                                     len(record.output_shapes or [None]) == 1))

    previous = report.inputs[0].name if len(report.inputs) == 1 else None
    for record in report.layers:
        node = nodes[record.name]
        if node.initial_state or [reference.name for reference in node.inputs] != [previous] or \
                not one_tensor(node.inputs[0]):
            return False
        previous = record.name
    outputs = report.graph.outputs
    return [reference.name for reference in outputs] == [previous] and one_tensor(outputs[0])


def _called_again(report: Report, layer, record, calls: Dict[str, int]):
    """A module called a second time: a copy of its own under ``<name>_<k>`` when it has no weights
    (Dropout, an activation); one with weights would be one layer called twice, a graph."""
    from .layers.base import clone

    calls[record.shares] = calls.get(record.shares, 0) + 1
    first = report.layer(record.shares)
    if first is not None and first.weights:
        raise Problem("P002", f"{record.shares} ({record.type}) is called {calls[record.shares] + 1} times: its "
                              "weights would be one layer called twice, which lstmcalc port (stacks) does not write.",
                      "Give each call its own module.")
    return clone(layer, f"{record.shares}_{calls[record.shares]}")


def _document(report: Report, plan: PortPlan, options: PortOptions, graph: Optional[List[str]]) -> Dict[str, Any]:
    target = FRAMEWORKS[options.target]
    document: Dict[str, Any] = {}
    if report.spec is not None and report.spec.name:
        document["name"] = report.spec.name
    if target.name != DEFAULT:
        document["framework"] = target.name
    item = report.inputs[0]
    if target.batch_required:
        document["batch_size"] = item.shape[item.batch_axis] or options.batch_size or DEFAULT_BATCH_SIZE

    def declared(item) -> Any:
        shape = [dim for axis, dim in enumerate(item.shape) if axis != item.batch_axis]
        integer = item.dtype.startswith(("int", "uint"))
        dtype = plan.input_dtype if plan.input_dtype and (integer or len(report.inputs) == 1) else item.dtype
        return shape if dtype == "float32" else {"shape": shape, "dtype": dtype}

    if graph is None:
        document["input"] = declared(item)
        document["layers"] = [entry.to_spec() for entry in plan.entries]
        return document
    document["inputs"] = {item.name: declared(item) for item in report.inputs}
    document["layers"] = [entry.to_spec(graph=True) for entry in plan.entries]
    document["outputs"] = list(graph)
    return document


def _prove(result: PortResult, plan: PortPlan, given: Dict[str, "ndarray"]) -> None:
    """Convert the weights, run both forward passes on the same input, compare the linked tensors."""
    import yaml

    from .api import analyze_text
    from .layers.base import numpy_module
    from .verify import VerifyOptions, verify_report

    np = numpy_module()
    report, options = result.report, result.options
    source = FRAMEWORKS[report.framework]
    target = analyze_text(yaml.safe_dump(result.spec, sort_keys=False), file="<ported spec>")
    result.target_report = target
    if not target.ok:
        _internal(result, "the written spec does not analyse: " + "; ".join(d.message for d in target.errors))
        return
    for counterpart in plan.counterparts:
        record = report.layer(counterpart.source)
        own = {weight.name: given[source.weight_key(record.name, weight.name)] for weight in record.weights} \
            if record is not None else {}
        result.weights.update(counterpart.convert(own))
    framework = FRAMEWORKS[options.target]
    wanted = {framework.weight_key(layer.name, weight.name) for layer in target.layers for weight in layer.weights}
    if wanted != set(result.weights):
        _internal(result, f"the converted weights are keyed {sorted(set(result.weights) ^ wanted)} differently "
                          "from the written spec's")
        return
    item = report.inputs[0]
    batch = item.shape[item.batch_axis] or options.batch_size or DEFAULT_BATCH_SIZE
    run = VerifyOptions(batch_size=batch, timesteps=options.timesteps, seed=options.seed, weights=given,
                        keep_arrays=True)
    first = verify_report(report, run)
    if not first.ok:
        result.diagnostics += first.diagnostics
        return
    given_inputs = {}
    for source_input, target_input in zip(report.inputs, target.inputs):
        x = first.arrays[source_input.name][0]
        integer = target_input.dtype.startswith(("int", "uint"))
        given_inputs[target_input.name] = np.moveaxis(x, source_input.batch_axis, target_input.batch_axis).astype(
            target_input.dtype if integer else x.dtype)
    second = verify_report(target, VerifyOptions(weights=result.weights, inputs=given_inputs, keep_arrays=True))
    if not second.ok:
        _internal(result, "the written model's forward pass fails: " + "; ".join(d.message for d in second.diagnostics))
        return
    result.batch_size, result.timesteps = first.batch_size, first.timesteps
    for counterpart in plan.counterparts:
        for link in counterpart.links:
            if link.target not in second.arrays:
                continue  # a tensor of the source that the written graph does not compute (unused)
            theirs, axis = first.arrays[counterpart.source][link.index], \
                report.layer(counterpart.source).output_batch_axes[link.index]
            if link.source_row is not None:  # one row of a stack of states: the batch axis moves up
                theirs, axis = theirs[link.source_row], None if axis is None else axis - 1
            theirs = _batch_first(theirs, axis)
            ours = second.arrays[link.target][link.target_index]
            if link.row is not None:
                ours = ours[link.row]
            else:
                ours = _batch_first(ours, target.layer(link.target).output_batch_axes[link.target_index])
            if link.axes is not None:
                ours = ours.transpose(link.axes)
            name = counterpart.source + (f"[{link.index}]" if link.index else "") + \
                (f" row {link.source_row}" if link.source_row is not None else "")
            there = reference_of(link) + \
                (f" row {link.row}" if link.row is not None else "")
            difference = (float(np.max(np.abs(ours.astype("float64") - theirs), initial=0.0))
                          if ours.shape == theirs.shape else float("inf"))
            result.comparisons.append(Comparison(name, there, tuple(theirs.shape), difference))
    worst = max(result.comparisons, key=lambda item: item.largest_difference, default=None)
    if worst is None:
        _internal(result, "no tensor of the two models could be compared")
    elif worst.largest_difference > options.tolerance:
        result.diagnostics.append(make(
            "P003", f"The two forward passes differ: {worst.source} against {worst.target} by "
                    f"{worst.largest_difference:.3g} (more than {options.tolerance:g}); nothing is written.",
            "This is a bug in lstmcalc's conversion for that layer: please report it with the spec.",
            location=Location(report.file, None, None)))


def _batch_first(array: "ndarray", axis: Optional[int]) -> "ndarray":
    from .layers.base import numpy_module

    return array if axis in (None, 0) else numpy_module().moveaxis(array, axis, 0)


def _internal(result: PortResult, what: str) -> None:
    result.diagnostics.append(make("P003", f"lstmcalc could not prove the port: {what}; nothing is written.",
                                   "This is a bug in lstmcalc: please report it with the spec.",
                                   location=Location(result.report.file, None, None)))


def save_weights(result: PortResult, path: str) -> None:
    """The converted weights as numpy.savez writes them (raises OSError)."""
    from .layers.base import numpy_module

    with open(path, "wb") as handle:
        numpy_module().savez(handle, **result.weights)
    result.output_path = path


def save_spec(result: PortResult, path: str) -> None:
    """The written spec as YAML (raises OSError)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(result.spec_text())
    result.spec_path = path
