"""A read model written as PyTorch code: one ``nn.Module`` whose ``__init__`` assigns the modules
(``nn.Sequential`` blocks as such) and whose ``forward`` follows the data flow — the code lstmcalc's
PyTorch source reader reads back to the same spec.

A Keras model is first ported by its layers' own rules (``port_to``, lstmcalc.layers.porting):
what has no PyTorch equivalent is refused with the reason. Sizes a spec leaves to the input
(``input_size``, ``in_features``) are written out, as torch's constructors need them; spec steps
(LastStep, Permute, Transpose, Select) are written as the expressions forward() uses for them,
each assigned to a variable of its name.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Union

from ..diagnostics import Problem
from ..report import LayerReport, Report
from ..spec.model import LayerDef
from . import NotConvertible
from .values import python_literal, same_value, source_name

RESERVED = {"self", "torch", "nn", "OrderedDict", "model"}
DEFAULT_LENGTH = 7  # an unknown length in the example at the end of the file (as lstmcalc verify's --timesteps)


@dataclass
class Block:
    """An nn.Sequential of the spec: modules named ``<path>.<position>`` (or ``.<name>``)."""

    name: str
    called: bool
    items: List[Union[LayerDef, "Block"]] = field(default_factory=list)

    def definitions(self) -> List[LayerDef]:
        found: List[LayerDef] = []
        for item in self.items:
            found += item.definitions() if isinstance(item, Block) else [item]
        return found


def module_tree(definitions: Sequence[LayerDef]) -> List[Union[LayerDef, Block]]:
    """The spec's layers with the modules of each container grouped into its Block (consecutive
    modules of one container path, as the readers write them)."""
    root: List[Union[LayerDef, Block]] = []
    for definition in definitions:
        level = root
        for part in (definition.scope.split(".") if definition.scope else []):
            if not (level and isinstance(level[-1], Block) and level[-1].name == part):
                level.append(Block(part, definition.called))
            block = level[-1]
            assert isinstance(block, Block)
            level = block.items
        level.append(definition)
    return root


def own_name(definition: LayerDef) -> Optional[str]:
    """A module's name inside its container (None: named by its position)."""
    name = definition.explicit_name
    return None if name is None or name == str(definition.index) else name


def identifier(name: str, taken: set) -> str:
    """A Python name for ``name`` (a module attribute or variable), not among ``taken``."""
    base = re.sub(r"\W", "_", name)
    if not base or base[0].isdigit() or keyword.iskeyword(base) or base in RESERVED:
        base = f"m_{base}"
    candidate, count = base, 1
    while candidate in taken:
        count += 1
        candidate = f"{base}_{count}"
    taken.add(candidate)
    return candidate


def class_name(name: Optional[str]) -> str:
    """``pytorch-text-classifier`` → ``PytorchTextClassifier``; a class name stays as it is."""
    if name and name.isidentifier() and name[:1].isupper() and not keyword.iskeyword(name):
        return name
    words = [word for word in re.split(r"[^0-9A-Za-z]+", name or "") if word]
    text = "".join(word[:1].upper() + word[1:] for word in words)
    if not text or text[0].isdigit():
        text = "Model" + text
    return text


def write_pytorch(report: Report) -> str:
    """The PyTorch code of a read model (a Keras one ported first)."""
    spec = report.spec
    if spec is None:
        raise NotConvertible("The source could not be read, so there is nothing to write.")
    source = source_name(spec.file)
    if spec.framework != "pytorch":
        from .ported import ported_report

        frozen = frozen_layers(report)
        if frozen:
            raise NotConvertible(
                f"{', '.join(frozen)} {'is' if len(frozen) == 1 else 'are'} frozen (trainable: false), and the "
                "PyTorch code would train its parameters: lstmcalc does not write requires_grad_(False).")
        report = ported_report(report, "pytorch")
    return ModuleWriter(report, source).text()


def frozen_layers(report: Report) -> List[str]:
    """The layers built with trainable=False whose weights Keras does not train (a wrapper's flag
    does not reach the layer it wraps, so its weights still train)."""
    from ..compute import built_layer

    return [layer.name for layer in report.layers
            if layer.trainable_params < layer.params and not built_layer(report, layer.name).trainable]


class ModuleWriter:
    """One nn.Module class: the modules of ``__init__``, the chain of ``forward``."""

    def __init__(self, report: Report, source: str):
        from ..compute import built_layer, input_tensors

        self.report = report
        self.spec = report.spec
        self.source = source
        self.layer_of = lambda name: built_layer(report, name)
        self.inputs_of = lambda record: input_tensors(report, record)
        self.check()
        names = {layer.name for layer in report.layers}
        self.taken: set = set()
        self.attributes: Dict[str, str] = {}  # top-level module or container name → attribute
        for item in module_tree(self.spec.layers):
            name = item.name if isinstance(item, Block) else self.node_name(item)
            if self.is_module(item) and name not in self.attributes:
                self.attributes[name] = identifier(name, self.taken)
        self.arguments = [identifier(item.name or "x", self.taken) for item in report.inputs]
        self.argument = self.arguments[0]
        self.variable = self.argument if self.argument == "x" else identifier("x", self.taken | names)
        self.taken.add(self.variable)
        self.ordered_dict = False

    def is_graph(self) -> bool:
        """forward() takes several inputs, returns several outputs, or its layers are wired other
        than one after the other (`inputs:` in the spec)."""
        return bool(self.spec.functional) or len(self.report.inputs) != 1

    # -- what can be written ---------------------------------------------------------------------

    def check(self) -> None:
        spec, report = self.spec, self.report
        if not report.ok:
            first = report.errors[0]
            raise NotConvertible(f"the model is invalid ({first.code}: {first.message}); lstmcalc writes PyTorch code "
                                 "for models torch runs.")
        if self.is_graph() and any(definition.scope for definition in spec.layers):
            raise NotConvertible("it is a graph whose modules are grouped in nn.Sequential blocks; lstmcalc writes "
                                 "the forward() of a graph with one module per layer.")

    @staticmethod
    def node_name(definition: LayerDef) -> str:
        own = definition.explicit_name or str(definition.index)
        return f"{definition.scope}.{own}" if definition.scope else own

    def is_module(self, item: Union[LayerDef, Block]) -> bool:
        """A torch.nn module (assigned in __init__), not a step of forward() nor a second call."""
        if isinstance(item, Block):
            return True
        if item.shares:
            return False
        record = self.report.layer(self.node_name(item))
        layer = self.layer_of(self.node_name(item))
        if record is None or layer is None:
            return True
        if record.status == "unused":
            return True
        try:
            return layer.forward_code("x", self.inputs_of(record), "h_n") is None
        except Problem:
            return False  # a step whose code needs more than that

    # -- __init__ ----------------------------------------------------------------------------------

    def constructor(self, definition: LayerDef) -> str:
        """``nn.LSTM(128, 256, num_layers=2, batch_first=True)``: its arguments as torch takes them,
        sizes left to the input filled in, defaults left out."""
        name = self.node_name(definition)
        layer = self.layer_of(name)
        record = self.report.layer(name)
        values = dict(layer.config)
        if record is not None and record.status == "ok":
            values.update(layer.inferred_arguments(self.inputs_of(record)))
        arguments = [argument for argument in type(layer).all_arguments() if argument.name != "name"]
        positional: List[str] = []
        keywords: List[str] = []
        for position, argument in enumerate(arguments):
            value = values.get(argument.name)
            if not argument.required and same_value(value, argument.default):
                continue
            text = self.value_text(argument.name, value)
            # Sizes go by position as torch's examples write them (nn.LSTM(128, 256), nn.Linear(512, 4)):
            # the arguments up to the last required one, while none was left out.
            leading = len(positional) == position and any(later.required for later in arguments[position:])
            if leading and not keywords:
                positional.append(text)
            else:
                keywords.append(f"{argument.name}={text}")
        return f"nn.{definition.type_name}(" + ", ".join(positional + keywords) + ")"

    @staticmethod
    def value_text(name: str, value: Any) -> str:
        if name == "dtype" and isinstance(value, str):
            return f"torch.{value}"
        return python_literal(list(value) if isinstance(value, tuple) and name != "normalized_shape" else value)

    def block_text(self, block: Block, indent: str) -> str:
        inner = indent + "    "
        items = []
        named = any(isinstance(item, LayerDef) and own_name(item) is not None for item in block.items) or \
            any(isinstance(item, Block) and item.name != str(position) for position, item in enumerate(block.items))
        for position, item in enumerate(block.items):
            text = self.block_text(item, inner) if isinstance(item, Block) else self.constructor(item)
            if named:
                label = item.name if isinstance(item, Block) else (own_name(item) or str(position))
                text = f"({label!r}, {text})"
            items.append(text)
        if named:
            self.ordered_dict = True
            return "nn.Sequential(OrderedDict([\n" + ",\n".join(inner + item for item in items) + f",\n{indent}]))"
        return "nn.Sequential(\n" + ",\n".join(inner + item for item in items) + f",\n{indent})"

    def init_lines(self) -> List[str]:
        lines = ["    def __init__(self):", "        super().__init__()"]
        for item in module_tree(self.spec.layers):
            if not self.is_module(item):
                continue
            name = item.name if isinstance(item, Block) else self.node_name(item)
            text = self.block_text(item, "        ") if isinstance(item, Block) else self.constructor(item)
            called = item.called if isinstance(item, Block) else item.called
            comment = "  # never called by forward(): its parameters count" if not called else ""
            lines.append(f"        self.{self.attributes[name]} = {text}{comment}")
        return lines

    # -- forward() ---------------------------------------------------------------------------------

    def forward_lines(self) -> List[str]:
        lines = [f"    def forward(self, {self.argument}):"]
        current = self.argument
        records = [record for record in self.report.layers if record.status != "unused"]
        blocks = {definition_name: block for block in module_tree(self.spec.layers) if isinstance(block, Block)
                  for definition_name in [self.node_name(definition) for definition in block.definitions()]}
        index = 0
        while index < len(records):
            record = records[index]
            node = self.report.graph.nodes[record.name]
            definition, layer = node.definition, node.layer
            block = blocks.get(record.name)
            if block is not None:
                members = [self.node_name(definition) for definition in block.definitions()]
                if [item.name for item in records[index:index + len(members)]] != members:
                    raise NotConvertible(f"the modules of nn.Sequential `{block.name}` are not called one after the "
                                         "other.")
                for member in members:
                    if self.layer_of(member).call_result() != 0:
                        raise NotConvertible(f"nn.Sequential `{block.name}` holds {member}, which returns several "
                                             "tensors: nn.Sequential passes them to the next module as a tuple.")
                lines.append(f"        {self.variable} = self.{self.attributes[block.name]}({current})")
                current = self.variable
                index += len(members)
                continue
            try:
                code = None if definition.shares else layer.forward_code(current, self.inputs_of(record),
                                                                          self.states(records, index))
            except Problem as problem:
                raise NotConvertible(problem.message) from None
            if code is not None:
                variable = identifier(record.name, self.taken)
                lines.append(f"        {variable} = {code}")
                current = variable
            else:
                attribute = self.attributes.get(definition.shares or record.name)
                if attribute is None:
                    raise NotConvertible(f"`{definition.shares}` is called again but is not a module of its own.")
                target = self.unpacked(layer, records, index)
                lines.append(f"        {target} = self.{attribute}({current})")
                current = self.variable
            index += 1
        lines.append(f"        return {current}")
        return lines

    def graph_forward_lines(self) -> List[str]:
        """forward() of a graph: each layer on its inputs' variables, a module's states passed as
        its (h_0, c_0), the outputs returned in the spec's order (a tuple for several)."""
        report = self.report
        lines = [f"    def forward(self, {', '.join(self.arguments)}):"]
        local = set(self.arguments) | RESERVED  # variables: a namespace apart from the modules (self.<name>)
        values: Dict[tuple, str] = {(item.name, 0): argument for item, argument in zip(report.inputs, self.arguments)}
        records = [record for record in report.layers if record.status != "unused"]
        used = {pair for record in records for pair in self.pairs(report.graph.nodes[record.name].inputs +
                                                                 report.graph.nodes[record.name].initial_state)}
        used |= set(self.pairs(report.graph.outputs))
        for record in records:
            node = report.graph.nodes[record.name]
            definition, layer = node.definition, node.layer
            sources = [values[pair] for pair in self.pairs(node.inputs)]
            producer = node.inputs[0].name if node.inputs else None
            states = values.get((producer, 1)) if producer is not None else None
            try:
                code = None if definition.shares else layer.graph_code(sources, self.inputs_of(record), states)
            except Problem as problem:
                raise NotConvertible(problem.message) from None
            if code is not None:
                values[(record.name, 0)] = variable = identifier(record.name, local)
                lines.append(f"        {variable} = {code}")
                continue
            attribute = self.attributes.get(definition.shares or record.name)
            if attribute is None:
                raise NotConvertible(f"`{definition.shares}` is called again but is not a module of its own.")
            structure = layer.call_result()
            arguments = list(sources)
            initial = [values[pair] for pair in self.pairs(node.initial_state)]
            if initial:
                held = structure[1] if isinstance(structure, tuple) else None
                arguments.append(self.nested(held, lambda item: initial[item - 1]) if held is not None else
                                 ", ".join(initial))
            labels = layer.output_labels(4)

            def target(item: int) -> str:
                if item == 0 or (record.name, item) in used or (item == 1 and self.reads_states(record, records)):
                    name = record.name if item == 0 else f"{record.name}_{labels[item]}"
                    values[(record.name, item)] = identifier(name, local)
                    return values[(record.name, item)]
                return "_"

            written = self.nested(structure, target, top=True)
            written = re.sub(r"\(_(, _)*\)", "_", written)
            lines.append(f"        {written} = self.{attribute}({', '.join(arguments)})")
        returned = [values[pair] for pair in self.pairs(report.graph.outputs)]
        lines.append(f"        return {', '.join(returned)}")
        return lines

    def pairs(self, references) -> List[tuple]:
        """(layer, output index) of each reference; a name without an index: all its outputs."""
        found: List[tuple] = []
        for reference in references:
            record = self.report.layer(reference.name)
            if reference.index is not None:
                found.append((reference.name, reference.index))
            else:
                count = len(record.output_shapes or [None]) if record is not None else 1
                found += [(reference.name, index) for index in range(count)]
        return found

    def reads_states(self, record: LayerReport, records: List[LayerReport]) -> bool:
        """A step after the module reads its states (LastStep after a bidirectional module)."""
        for other in records:
            node = self.report.graph.nodes[other.name]
            if node.inputs and node.inputs[0].name == record.name and not node.definition.shares:
                try:
                    self.layer_of(other.name).graph_code(["x"] * len(node.inputs), self.inputs_of(other), None)
                except Problem:
                    return True
        return False

    @staticmethod
    def nested(structure: Any, text, top: bool = False) -> str:
        """A call result's structure (``(0, (1, 2))``) written with ``text(index)`` for each item."""
        if isinstance(structure, tuple):
            inner = ", ".join(ModuleWriter.nested(part, text) for part in structure)
            return inner if top else f"({inner})"
        return text(structure)

    def states(self, records: List[LayerReport], index: int) -> Optional[str]:
        """``h_n`` when the operation before is a module returning states (forward() unpacks them)."""
        if index == 0:
            return None
        before = self.layer_of(records[index - 1].name)
        return "h_n" if before is not None and before.call_result() != 0 else None

    def unpacked(self, layer, records: List[LayerReport], index: int) -> str:
        """``x``, or ``x, _`` / ``x, (h_n, c_n)`` for a module returning states (named when the
        step after it reads them)."""
        structure = layer.call_result()
        if structure == 0:
            return self.variable
        needed = False
        if index + 1 < len(records):
            following = records[index + 1]
            step = self.layer_of(following.name)
            try:
                step.forward_code(self.variable, self.inputs_of(following), None)
            except Problem:
                needed = True  # the step after it reads the states (LastStep after a bidirectional module)
        labels = layer.output_labels(4)

        def text(item: Any, top: bool) -> str:
            if isinstance(item, tuple):
                inner = ", ".join(text(part, False) for part in item)
                return inner if top else f"({inner})"
            if item == 0:
                return self.variable
            return labels[item] if needed and item < len(labels) else "_"

        written = text(structure, True)
        # `x, (_, _)` says no more than `x, _`.
        return re.sub(r"\(_(, _)*\)", "_", written)

    # -- the file ----------------------------------------------------------------------------------

    def example_tensor(self, item) -> str:
        """A random tensor for the input ``item``: token ids below what its first layer takes."""
        shape = tuple(DEFAULT_LENGTH if dim is None else dim for dim in item.shape)
        first = next((record for record in self.report.layers
                      if any(reference.name == item.name for reference in
                             self.report.graph.nodes[record.name].inputs)), None) if self.is_graph() else \
            (self.report.layers[0] if self.report.layers else None)
        layer = self.layer_of(first.name) if first is not None else None
        values = layer.input_values() if layer is not None else None
        if item.dtype.startswith(("int", "uint")):
            high = values.below if values is not None and values.below is not None else 10
            return f"torch.randint(0, {high}, {python_literal(shape)}, dtype=torch.{item.dtype})"
        return f"torch.randn{python_literal(shape)}" + ("" if item.dtype == "float32" else f".to(torch.{item.dtype})")

    def example_lines(self, name: str) -> List[str]:
        lines = ['if __name__ == "__main__":', f"    model = {name}().eval()"]
        if not self.is_graph():
            return lines + [f"    x = {self.example_tensor(self.report.inputs[0])}", "    print(model(x).shape)"]
        lines += [f"    {argument} = {self.example_tensor(item)}"
                  for item, argument in zip(self.report.inputs, self.arguments)]
        call = f"model({', '.join(self.arguments)})"
        several = len(self.pairs(self.report.graph.outputs)) > 1
        return lines + [f"    print([tuple(y.shape) for y in {call}])" if several else f"    print({call}.shape)"]

    def input_flags(self) -> str:
        """``--input 35,20 --dtype int64 --batch-size 8``: how lstmcalc summary reads the input back
        (several inputs in forward()'s order: ``--input "30,12;5"``)."""
        def sample(item) -> str:
            dims = [dim for axis, dim in enumerate(item.shape) if axis != item.batch_axis]
            return ",".join("None" if dim is None else str(dim) for dim in dims)

        first = self.report.inputs[0]
        shapes = ";".join(sample(item) for item in self.report.inputs)
        batch = first.shape[first.batch_axis]
        return (f'--input "{shapes}"' if len(self.report.inputs) > 1 else f"--input {shapes}") + \
            (f" --dtype {first.dtype}" if first.dtype != "float32" else "") + \
            (f" --batch-size {batch}" if batch is not None else "")

    def text(self) -> str:
        name = class_name(self.spec.name)
        forward = self.graph_forward_lines() if self.is_graph() else self.forward_lines()
        body = [f"class {name}(nn.Module):"] + self.init_lines() + [""] + forward
        about = [f"Read it back with: lstmcalc summary <this file> {self.input_flags()}"]
        header = [f'"""{self.spec.name or name}: written by lstmcalc convert from {self.source}.', ""] + about + \
            ['"""', "", "import torch", "from torch import nn"]
        if self.ordered_dict:
            header.insert(-2, "from collections import OrderedDict")
        return "\n".join(header + ["", ""] + body + ["", ""] + self.example_lines(name)) + "\n"

