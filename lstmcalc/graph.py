"""The layer graph: input and layer nodes, the references between them, topological order."""

from __future__ import annotations

import heapq
from typing import Dict, List, Optional, Tuple

from .diagnostics import Diagnostic, make
from .records import Record
from .layers.base import INPUT_TYPE, Layer
from .layers.factory import Namer
from .spec.model import InputDef, LayerDef, ModelSpec, Reference
from .spec.source import Location
from .suggest import closest


class Node(Record):
    """An input or a layer application. ``inputs`` are references; ``index=None`` means all
    outputs of that node (a sequential stack passes everything on, as Keras does)."""

    def __init__(self, name: str, location: Location, layer: Optional[Layer] = None,
                 input_def: Optional[InputDef] = None, definition: Optional[LayerDef] = None,
                 inputs: Optional[List[Reference]] = None, initial_state: Optional[List[Reference]] = None,
                 type_name: str = INPUT_TYPE):
        self.name = name
        self.location = location
        self.layer = layer
        self.input_def = input_def
        self.definition = definition
        self.inputs: List[Reference] = [] if inputs is None else inputs
        self.initial_state: List[Reference] = [] if initial_state is None else initial_state
        self.type_name = type_name

    @property
    def is_input(self) -> bool:
        return self.input_def is not None

    def argument_location(self, argument: Optional[str]) -> Location:
        """Where ``argument`` of this node's layer was written, else the layer's entry."""
        if argument == "initial_state" and self.initial_state:
            return self.initial_state[0].location
        found = self.layer.location_of(argument) if argument and self.layer is not None else None
        return found if found is not None else self.location


class Graph(Record):
    """The nodes in topological ``order``; ``in_model``: the nodes the outputs depend on (Keras's
    model); ``uncalled``: PyTorch modules forward() never calls (counted, no shapes)."""

    def __init__(self, nodes: Dict[str, Node], order: List[str], outputs: List[Reference], functional: bool,
                 in_model: Optional[set] = None, uncalled: Optional[set] = None):
        self.nodes = nodes
        self.order = order
        self.outputs = outputs
        self.functional = functional
        self.in_model: set = set() if in_model is None else in_model
        self.uncalled: set = set() if uncalled is None else uncalled
        self._consumers: Optional[Dict[str, List[str]]] = None

    def producer(self, node: Node) -> Optional[Node]:
        """The node that made ``node``'s first input, looking through layers that keep the shape."""
        current = self.nodes.get(node.inputs[0].name) if node.inputs else None
        while current is not None and current.layer is not None and current.layer.keeps_shape and current.inputs:
            current = self.nodes.get(current.inputs[0].name)
        return current

    def consumers(self, name: str) -> List[str]:
        """The nodes that take ``name``'s output as an input or initial state, in file order."""
        if self._consumers is None:
            found: Dict[str, List[str]] = {}
            for node in self.nodes.values():
                for reference in dict.fromkeys(ref.name for ref in node.inputs + node.initial_state):
                    found.setdefault(reference, []).append(node.name)
            self._consumers = found
        return list(self._consumers.get(name, []))


def build_graph(spec: ModelSpec, layers: List[Tuple[LayerDef, Optional[Layer]]],
                namer: Namer) -> Tuple[Graph, List[Diagnostic]]:
    """Nodes for the spec's inputs and layers, wired and sorted."""
    problems: List[Diagnostic] = []
    nodes: Dict[str, Node] = {}
    input_names = []
    for input_def in spec.inputs:
        name = input_def.name or namer.auto(INPUT_TYPE)
        if name in nodes:
            problems.append(make("S009", f"Two inputs are named `{name}`.", "Give each input its own name.",
                                 location=input_def.location))
            continue
        nodes[name] = Node(name, input_def.location, input_def=input_def)
        input_names.append(name)
    layer_names: List[str] = []
    calls: Dict[str, int] = {}
    for position, (definition, layer) in enumerate(layers):
        if definition.shares is not None:
            # Keras numbers the calls of a shared layer: its nodes encoder[1], encoder[2], ...
            calls[definition.shares] = calls.get(definition.shares, 0) + 1
            name = f"{definition.shares}[{calls[definition.shares]}]"
        elif layer is not None:
            name = layer.name
        else:
            # Construction failed; keep a placeholder so references to it still resolve.
            index = definition.index if definition.index is not None else position
            name = definition.explicit_name or definition.assigned_name or f"layers[{index}]"
        if name in nodes:
            kind = "an input" if nodes[name].is_input else "another layer"
            problems.append(make(
                "S009", f"All layers should have unique names. Name '{name}' is already the name of {kind} "
                        "in this model.", "Update the `name` argument to pass a unique name.",
                layer=name, location=definition.location))
            continue
        nodes[name] = Node(name, definition.location, layer=layer, definition=definition,
                           type_name=definition.type_name)
        layer_names.append(name)

    previous: Optional[str] = input_names[0] if input_names else None
    for name in layer_names:
        node = nodes[name]
        definition = node.definition
        assert definition is not None
        if not definition.called:
            continue  # a PyTorch module forward() never calls: no inputs, not in the chain
        if spec.functional and definition.inputs is not None:
            node.inputs = list(definition.inputs)
        elif previous is not None:
            node.inputs = [Reference(previous, None, definition.location)]
        node.initial_state = list(definition.initial_state or [])
        previous = name
    for node in nodes.values():
        # A name without an index picks the producer's primary output when it has one (a PyTorch
        # RNN passes on `output`, not h_n and c_n); Keras layers pass everything on.
        node.inputs = [_primary(nodes, reference) for reference in node.inputs]
        for reference in node.inputs + node.initial_state:
            if reference.name not in nodes:
                suggestion = closest(reference.name, list(nodes))
                problems.append(make(
                    "S011", f"`{node.name}` refers to `{reference.name}`, which is neither a layer nor an input.",
                    f"Did you mean `{suggestion}`?" if suggestion else _known_names(nodes),
                    layer=node.name, location=reference.location))
            elif reference.name == node.name:
                problems.append(make("S013", f"`{node.name}` takes its own output as input.",
                                     "A layer cannot consume itself; refer to an earlier layer.",
                                     layer=node.name, location=reference.location))

    order, cycle = _topological_order(nodes)
    if cycle:
        first = nodes[cycle[0]]
        loop = cycle + [cycle[0]]
        if len(loop) > 12:  # a long loop: its ends, and how many layers it holds
            loop = loop[:6] + [f"… ({len(cycle):,} layers in the loop) …"] + loop[-5:]
        problems.append(make("S013", "The layers form a cycle: " + " → ".join(loop) + ".",
                             "Each layer must consume only layers that do not depend on it.",
                             layer=first.name, location=first.location))

    consumed = {ref.name for node in nodes.values() for ref in node.inputs + node.initial_state}
    if spec.outputs is not None:
        outputs = list(spec.outputs)
        for reference in outputs:
            if reference.name not in nodes:
                suggestion = closest(reference.name, list(nodes))
                problems.append(make("S011", f"`outputs` refers to `{reference.name}`, which does not exist.",
                                     f"Did you mean `{suggestion}`?" if suggestion else "List layer names.",
                                     location=reference.location))
    else:
        called = [name for name in layer_names if nodes[name].definition.called]
        outputs = [Reference(name, None, nodes[name].location) for name in called if name not in consumed]
        if not spec.functional and called:
            outputs = [Reference(called[-1], None, nodes[called[-1]].location)]
    in_model = _ancestors(nodes, outputs)
    if spec.functional and not problems:
        for name in input_names:
            if name not in consumed:
                problems.append(make("S015", f"The input `{name}` is not used by any layer.",
                                     f"Feed it to a layer with `inputs: {name}`, or remove it.",
                                     location=nodes[name].location))
        for name in layer_names:
            if name not in in_model:
                problems.append(make(
                    "S016", f"`{name}` does not lead to any of the model's outputs, so Keras leaves it out of "
                            "the model (it is not in the summary and its weights are not counted).",
                    f"Add `{name}` (or a layer after it) to `outputs:`, or remove it.", layer=name,
                    location=nodes[name].location))
    uncalled = {name for name in layer_names if not nodes[name].definition.called}
    return Graph(nodes, order, outputs, spec.functional, in_model, uncalled), problems


def _primary(nodes: Dict[str, Node], reference: Reference) -> Reference:
    producer = nodes.get(reference.name)
    layer = producer.layer if producer is not None else None
    if reference.index is not None or layer is None or layer.primary_output is None:
        return reference
    return Reference(reference.name, layer.primary_output, reference.location)


def _known_names(nodes: Dict[str, Node], shown: int = 12) -> str:
    names = list(nodes)
    more = f", … ({len(names):,} in all)" if len(names) > shown else ""
    return "Known names: " + ", ".join(names[:shown]) + more + "."


def _ancestors(nodes: Dict[str, Node], outputs: List[Reference]) -> set:
    """The nodes the outputs depend on, through inputs and initial states."""
    seen: set = set()
    pending = [reference.name for reference in outputs]
    while pending:
        name = pending.pop()
        if name in seen or name not in nodes:
            continue
        seen.add(name)
        node = nodes[name]
        pending.extend(reference.name for reference in node.inputs + node.initial_state)
    return seen


def _topological_order(nodes: Dict[str, Node]) -> Tuple[List[str], List[str]]:
    """Kahn's algorithm, ties broken by file order (a heap of positions): linear in the nodes and
    references but for the heap's log. Returns (order, a cycle or [])."""
    position = {name: index for index, name in enumerate(nodes)}
    names = list(nodes)
    waiting = {}  # name → how many distinct nodes it still waits for
    dependents: Dict[str, List[str]] = {name: [] for name in nodes}
    for name, node in nodes.items():
        depends = {ref.name for ref in node.inputs + node.initial_state if ref.name in nodes and ref.name != name}
        waiting[name] = len(depends)
        for dependency in depends:
            dependents[dependency].append(name)
    ready = [position[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: List[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for other in dependents[name]:
            waiting[other] -= 1
            if waiting[other] == 0:
                heapq.heappush(ready, position[other])
    if len(order) == len(nodes):
        return order, []
    placed = set(order)
    remaining = {name for name in nodes if name not in placed}
    # Walk dependencies inside the remaining set until a name repeats: that loop is a cycle.
    start = min(remaining, key=position.get)
    path: List[str] = []
    on_path: Dict[str, int] = {}
    current = start
    while current not in on_path:
        on_path[current] = len(path)
        path.append(current)
        node = nodes[current]
        current = min((ref.name for ref in node.inputs + node.initial_state
                       if ref.name in remaining and ref.name != current), key=position.get)
    return order, path[on_path[current]:]
