"""Turn a YAML document (or command-line arguments) into a ModelSpec, collecting problems."""

from __future__ import annotations

import re
from typing import Any, List, Optional, Tuple

from ..diagnostics import Diagnostic, Problem
from ..shapes import MAX_ELEMENTS
from ..suggest import closest
from .call_syntax import parse_call
from .model import Argument, InputDef, LayerDef, ModelSpec, Reference
from ..layers.frameworks import FRAMEWORKS
from .source import LocatedList, LocatedMap, Location, load_yaml, location_of
from ..layers.base import INPUT_TYPE

TOP_LEVEL_KEYS = ("name", "description", "batch_size", "input", "inputs", "layers", "outputs",
                  "expect", "framework")
# Keys of a layer entry that wire the graph rather than configure the layer.
WIRING_KEYS = ("inputs", "initial_state")
# A PyTorch module forward() never calls: `called: false` (its parameters count, it has no shapes).
CALLED_KEY = "called"
NESTED_LAYER_KEYS = ("layer", "backward_layer")
NESTED_MODEL_KEYS = ("model",)
INPUT_KEYS = ("shape", "dtype", "name", "batch_size", "batch_axis")
DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
          "uint8", "uint16", "uint32", "uint64", "bool", "string")
# keras.Input / keras.layers.InputLayer: a model's input, which a spec declares with `input:`.
INPUT_TYPES = ("Input", INPUT_TYPE)
# `name`, `name[i]` (output i), or `name[k][i]` (output i of call k of a shared layer, as Keras writes it).
_REFERENCE = re.compile(r"^\s*([^\[\]]+?)\s*(?:\[\s*(-?\d+)\s*\])?\s*(?:\[\s*(-?\d+)\s*\])?\s*$")


class SpecReader:
    """Reads one spec; problems are collected, reading goes on where it safely can."""

    def __init__(self, file: Optional[str]):
        self.file = file
        self.diagnostics: List[Diagnostic] = []
        self.framework = "keras"

    def problem(self, code: str, message: str, hint: str, location: Location) -> None:
        self.diagnostics.append(Problem(code, message, hint, location).to_diagnostic())

    # -- documents -------------------------------------------------------------------------

    def read_text(self, text: str) -> Optional[ModelSpec]:
        try:
            document = load_yaml(text, self.file)
        except Problem as problem:
            self.diagnostics.append(problem.to_diagnostic())
            return None
        return self.read_document(document)

    def read_document(self, document: Any) -> Optional[ModelSpec]:
        here = Location(self.file, 1, 1)
        if not isinstance(document, LocatedMap):
            self.problem("S002", "A spec must be a YAML mapping with `input:` and `layers:`.",
                         "Start from specs/seed_001_stacked_lstm.yaml.", location_of(document, here))
            return None
        spec = ModelSpec(file=self.file, raw=document)
        spec.top_locations = dict(document.key_locations)
        misspelt = set()
        for key in document:
            if key not in TOP_LEVEL_KEYS:
                suggestion = closest(str(key), TOP_LEVEL_KEYS)
                misspelt.add(suggestion)
                hint = (f"Did you mean `{suggestion}`?" if suggestion
                        else "Known keys: " + ", ".join(TOP_LEVEL_KEYS) + ".")
                self.problem("S002", f"Unknown top-level key `{key}`.", hint,
                             document.key_location(key))
        spec.name = self._model_name(document)
        spec.framework = self.framework = self._framework(document)
        spec.batch_size = self._batch_size(document, "batch_size",
                                           minimum=FRAMEWORKS[spec.framework].min_batch_size)
        layers = document.get("layers")
        if layers is None and "layers" in misspelt:
            layers = LocatedList()
            layers.location, layers.item_locations = document.location, []
        elif layers is None:
            self.problem("S002", "The spec has no `layers:` list.",
                         "Add `layers:` with one entry per layer, e.g. `- LSTM(64)`.", document.location)
            layers = LocatedList()
            layers.location, layers.item_locations = document.location, []
        elif not isinstance(layers, LocatedList):
            self.problem("S002", "`layers:` must be a list of layers.",
                         "Write one `- ...` entry per layer.", document.value_location("layers"))
            layers = LocatedList()
            layers.location, layers.item_locations = document.location, []
        for index, entry in enumerate(layers):
            layer = self.layer_entry(entry, layers.item_location(index))
            if layer is not None:
                layer.index = index
                spec.layers.extend(self.expand_container(layer))
        if "inputs" in document:
            spec.functional = True
            spec.inputs = self._functional_inputs(document)
            if "input" in document:
                self.problem("S002", "A spec has either `input:` (a stack) or `inputs:` (a graph), not both.",
                             "Remove one of them.", document.key_location("input"))
        elif "input" in document:
            spec.inputs = [self._input(document["input"], document.value_location("input"), None)]
        elif "input" not in misspelt and "inputs" not in misspelt:
            spec.inputs = self._input_from_first_layer(spec, document.location)
        if any(layer.inputs is not None for layer in spec.layers):
            spec.functional = True
        if "outputs" in document:
            spec.functional = True
            spec.outputs = self._references(document["outputs"], document.value_location("outputs"), "outputs")
        return spec

    # -- pieces ----------------------------------------------------------------------------

    def _model_name(self, document: LocatedMap) -> Optional[str]:
        name = document.get("name")
        if name is None:
            return None
        if name == "":
            self.problem("S006", "`name` is empty.", "Give the model a name, e.g. name: \"my-model\", or leave "
                                                     "`name:` out.", document.value_location("name"))
            return None
        if not isinstance(name, str):
            self.problem("S005", f"`name` must be a string, got {_what(name)}.",
                         f"Quote it: name: \"{name}\".", document.value_location("name"))
            return None
        return name

    def _framework(self, document: LocatedMap) -> str:
        from ..layers.frameworks import KERAS

        framework = document.get("framework", KERAS)
        if not isinstance(framework, str) or framework not in FRAMEWORKS:
            suggestion = closest(str(framework), list(FRAMEWORKS))
            self.problem("S006", f"`framework: {framework}` is not one lstmcalc follows: "
                                 f"{' or '.join(FRAMEWORKS)}.",
                         (f"Did you mean `framework: {suggestion}`? " if suggestion else "")
                         + "keras (the default) reads Keras 3 layers; pytorch reads torch.nn modules.",
                         document.value_location("framework"))
            return KERAS
        return framework

    def _batch_size(self, mapping: LocatedMap, key: str, minimum: int = 1) -> Optional[int]:
        value = mapping.get(key)
        if value is None:
            return None
        where = mapping.value_location(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem("S005", f"`{key}` must be a whole number or null, got {value!r}.",
                         f"Write e.g. `{key}: 32`, or leave it out for an unknown batch size.", where)
            return None
        if value < minimum:
            self.problem("S006", f"`{key}` must be at least {minimum}, got {value}.",
                         f"Write e.g. `{key}: 32`, or leave it out for an unknown batch size.", where)
            return None
        return value

    def shape(self, value: Any, where: Location, what: str) -> Optional[Tuple[Optional[int], ...]]:
        """A shape without the batch axis (None for an unknown dimension), or None when invalid."""
        if isinstance(value, int) and not isinstance(value, bool):
            self.problem("S010", f"{what} must be a list of dimensions, got the number {value}.",
                         f"Write [{value}] for a vector of {value} features.", where)
            return None
        if not isinstance(value, (list, tuple)):
            self.problem("S010", f"{what} must be a list of dimensions such as [50, 10], got {value!r}.",
                         "Give the shape without the batch axis; null marks an unknown length.", where)
            return None
        dims = []
        for index, dim in enumerate(value):
            dim_where = value.item_location(index) if isinstance(value, LocatedList) else where
            if dim is None:
                dims.append(None)
            elif isinstance(dim, bool) or not isinstance(dim, int):
                self.problem("S010", f"Dimension {index} of {what} must be a whole number or null, got {dim!r}.",
                             "Use null for an unknown dimension.", dim_where)
                return None
            elif dim < 0:
                self.problem("S010", f"Dimension {index} of {what} is negative ({dim}).",
                             "Dimensions are sizes: 0 or more, or null when unknown.", dim_where)
                return None
            elif dim > MAX_ELEMENTS:
                self.problem("S010", f"Dimension {index} of {what} is {dim:,}, 2**63 or more: no framework can "
                                     "hold it (they count elements in 64-bit integers).",
                             "Check the input shape for a typo.", dim_where)
                return None
            else:
                dims.append(dim)
        return tuple(dims)

    def dtype(self, value: Any, where: Location, what: str = "`dtype`") -> str:
        """An input's dtype (the spec's `dtype:`, or --dtype); float32 when absent or unknown."""
        if value is None:
            return "float32"
        if not isinstance(value, str) or value not in DTYPES:
            suggestion = closest(str(value), DTYPES)
            self.problem("S010", f"Unknown dtype {value!r} for {what}; an input's dtype is one of "
                                 f"{', '.join(DTYPES)}.",
                         f"Did you mean {suggestion!r}?" if suggestion else "Use float32 or int32.", where)
            return "float32"
        return value

    def _input(self, value: Any, where: Location, name: Optional[str]) -> InputDef:
        if isinstance(value, LocatedMap):
            for key in value:
                if key not in INPUT_KEYS:
                    suggestion = closest(str(key), INPUT_KEYS)
                    self.problem("S002", f"Unknown key `{key}` in the input.",
                                 f"Did you mean `{suggestion}`?" if suggestion
                                 else "An input takes " + ", ".join(INPUT_KEYS) + ".",
                                 value.key_location(key))
            if "shape" not in value:
                self.problem("S010", "The input has no `shape`.", "Add e.g. `shape: [50, 10]`.", where)
            shape = self.shape(value.get("shape"), value.value_location("shape"), "the input shape") \
                if "shape" in value else None
            dtype = self.dtype(value.get("dtype"), value.value_location("dtype"))
            given_name = value.get("name", name)
            if given_name is not None and not isinstance(given_name, str):
                self.problem("S005", f"The input name must be a string, got {given_name!r}.",
                             "Quote it.", value.value_location("name"))
                given_name = name
            batch = self._batch_size(value, "batch_size")
            return InputDef(given_name, shape, dtype, where, batch, self._batch_axis(value, shape))
        shape = self.shape(value, where, "the input shape")
        return InputDef(name, shape, "float32", where)

    def _batch_axis(self, value: LocatedMap, shape: Optional[Tuple[Optional[int], ...]]) -> Optional[int]:
        axis = value.get("batch_axis")
        if axis is None:
            return None
        limit = len(shape) if shape is not None else 0
        if isinstance(axis, bool) or not isinstance(axis, int) or not 0 <= axis <= limit:
            self.problem("S010", f"`batch_axis` must be an axis of the input with its batch axis: 0 … {limit}, got "
                                 f"{axis!r}.", "Write e.g. `batch_axis: 1` for a PyTorch RNN's h_0 (D·num_layers, N, H).",
                         value.value_location("batch_axis"))
            return None
        return axis

    def _functional_inputs(self, document: LocatedMap) -> List[InputDef]:
        value = document["inputs"]
        where = document.value_location("inputs")
        inputs = []
        if isinstance(value, LocatedMap):
            for key, item in value.items():
                inputs.append(self._input(item, value.value_location(key), str(key)))
        elif isinstance(value, LocatedList):
            for index, item in enumerate(value):
                item_where = value.item_location(index)
                if isinstance(item, list):  # a bare shape: `inputs: [[10, 5]]`
                    shape = ", ".join("null" if dim is None else str(dim) for dim in item)
                    self.problem("S010", f"Entry {index} of `inputs:` is a shape without a name; each input of a "
                                         "graph needs a name, which its layers refer to.",
                                 f"Write `inputs: {{x: [{shape}]}}` (a mapping of names to shapes), or "
                                 f"`input: [{shape}]` for a plain stack of layers.", item_where)
                    continue
                if not isinstance(item, LocatedMap) or "name" not in item:
                    self.problem("S010", "Each entry of a list of `inputs:` needs a `name` and a `shape`.",
                                 "Or write a mapping: `inputs: {tokens: {shape: [null], dtype: int32}}`.",
                                 item_where)
                    continue
                inputs.append(self._input(item, item_where, None))
        else:
            self.problem("S010", "`inputs:` must map each input's name to its shape.",
                         "Write e.g. `inputs: {tokens: {shape: [null], dtype: int32}}`.", where)
        if isinstance(value, (LocatedMap, LocatedList)) and not value:
            self.problem("S010", "`inputs:` is empty.", "Declare at least one input.", where)
        return inputs

    def _input_from_first_layer(self, spec: ModelSpec, where: Location) -> List[InputDef]:
        # Keras's legacy form: input_shape= (or input_dim=) on the first layer of a Sequential.
        if spec.layers:
            first = spec.layers[0]
            from ..layers.registry import layer_class

            cls = layer_class(first.type_name, spec.framework)
            own = {argument.name for argument in cls.arguments} if cls else set()
            for key in ("input_shape", "input_dim"):
                argument = first.keywords.get(key)
                # Embedding's own input_dim is its vocabulary size, not the legacy input shape.
                if argument is not None and key not in own:
                    value = (argument.value,) if key == "input_dim" and isinstance(argument.value, int) \
                        else argument.value
                    shape = self.shape(value, argument.location, f"`{key}`")
                    return [InputDef(None, shape, "float32", argument.location)]
        self.problem("S002", "The spec has no `input:` shape.",
                     "Add e.g. `input: [50, 10]` (timesteps, features), without the batch axis.", where)
        return []

    def _references(self, value: Any, where: Location, what: str) -> Optional[List[Reference]]:
        items = value if isinstance(value, list) else [value]
        references = []
        for index, item in enumerate(items):
            item_where = value.item_location(index) if isinstance(value, LocatedList) else where
            reference = self.reference(item, item_where, what)
            if reference is not None:
                references.append(reference)
        return references

    def reference(self, item: Any, where: Location, what: str) -> Optional[Reference]:
        match = _REFERENCE.match(item) if isinstance(item, str) else None
        if match is None:
            self.problem("S005", f"Each entry of `{what}` must be a name or `name[i]`, got {item!r}.",
                         "Refer to a layer or input by its name, e.g. `encoder[1]`.", where)
            return None
        name, index = match.group(1), int(match.group(2)) if match.group(2) is not None else None
        if match.group(3) is not None:
            node, index = index, int(match.group(3))
            name = name if node == 0 else f"{name}[{node}]"
        return Reference(name, index, where)

    def layer_entry(self, entry: Any, where: Location) -> Optional[LayerDef]:
        """One `layers:` entry (a mapping with `type`, or a call-syntax string) as a LayerDef."""
        layer = self._layer_entry(entry, where)
        if layer is not None and layer.type_name in INPUT_TYPES:
            self._input_as_layer(layer)
            return None
        return layer

    def expand_container(self, layer: LayerDef) -> List[LayerDef]:
        """A PyTorch container entry (`{type: Sequential, name: head, layers: [...]}`) as its modules,
        named `head.0`, `head.1`, ... (nested containers likewise); any other layer as itself."""
        from ..layers.torch_module import CONTAINER_MODULES, CONTAINERS

        if self.framework != "pytorch" or layer.type_name not in CONTAINERS:
            return [layer]
        scope = layer.explicit_name or str(layer.index)
        if layer.scope:
            scope = f"{layer.scope}.{scope}"
        for key, argument in layer.keywords.items():
            if key not in ("name", CONTAINER_MODULES):
                self.problem("S004", f"nn.{layer.type_name} takes its modules (`{CONTAINER_MODULES}:`) and a "
                                     f"`name`; got `{key}`.", f"Give the modules as `{CONTAINER_MODULES}: [...]`.",
                             argument.location)
        entries = layer.keywords.get(CONTAINER_MODULES)
        if entries is None or not isinstance(entries.value, LocatedList) or not entries.value:
            self.problem("S007", f"nn.{layer.type_name} `{scope}` needs its modules as a list: "
                                 f"`{CONTAINER_MODULES}: [...]`.", "Write e.g. `layers: [{type: Linear, "
                                 "out_features: 50}, {type: ReLU}]`.", layer.location)
            return []
        modules: List[LayerDef] = []
        for index, entry in enumerate(entries.value):
            inner = self.layer_entry(entry, entries.value.item_location(index))
            if inner is None:
                continue
            if inner.shares is not None or inner.inputs is not None or inner.initial_state is not None:
                self.problem("S004", f"nn.{layer.type_name} runs its modules in order: they take no `inputs`, "
                                     "`initial_state` or `call`.", "Remove the wiring from the module.",
                             inner.location)
                continue
            inner.index, inner.scope = index, scope
            inner.called = inner.called and layer.called
            modules.extend(self.expand_container(inner))
        return modules

    def _call_entry(self, entry: LocatedMap, where: Location) -> Optional[LayerDef]:
        """`{call: encoder, inputs: b}`: a shared layer called again (its node `encoder[1]`, ...)."""
        shared = entry["call"]
        if not isinstance(shared, str) or not shared:
            self.problem("S005", f"`call` must name a layer defined before, got {shared!r}.",
                         "Write e.g. `{call: encoder, inputs: right}`.", entry.value_location("call"))
            return None
        layer = LayerDef("", where, entry.value_location("call"), shares=shared)
        for key, value in entry.items():
            if key == "call":
                continue
            if key not in WIRING_KEYS:
                self.problem("S004", f"A `call:` entry takes only `inputs` and `initial_state`; got `{key}`.",
                             "The layer's arguments belong to its own entry, where it is defined.",
                             entry.key_location(key))
                continue
            setattr(layer, key, self._references(value, entry.value_location(key), key))
            if key == "inputs":
                layer.inputs_as_list = isinstance(value, list)
        return layer

    def _input_as_layer(self, layer: LayerDef) -> None:
        # keras.Input is not a layer of the stack: point at the spec's way to declare it.
        given = layer.keywords.get("shape") or layer.keywords.get("input_shape") or \
            (layer.positional[0] if layer.positional else None)
        shape = given.value if given is not None else None
        if isinstance(shape, int) and not isinstance(shape, bool):
            shape = (shape,)
        if isinstance(shape, (list, tuple)) and all(dim is None or isinstance(dim, int) for dim in shape):
            written = "[" + ", ".join("null" if dim is None else str(dim) for dim in shape) + "]"
            flag = ",".join("None" if dim is None else str(dim) for dim in shape)
        else:
            written, flag = "[50, 10]", "50,10"
        self.problem("S019", f"`{layer.type_name}(...)` is the model's input, not a layer.",
                     f"Remove this entry and declare the input at the top level: `input: {written}` (the shape "
                     f"without the batch axis); on the command line, --input {flag}.", layer.location)

    def _layer_entry(self, entry: Any, where: Location) -> Optional[LayerDef]:
        if isinstance(entry, str):
            try:
                return parse_call(entry, where)
            except Problem as problem:
                self.diagnostics.append(problem.to_diagnostic())
                return None
        if not isinstance(entry, LocatedMap):
            self.problem("S005", f"A layer must be a mapping with `type:` or a string such as \"LSTM(64)\", "
                                 f"got {entry!r}.", "Write e.g. `- {type: LSTM, units: 64}`.", where)
            return None
        if "call" in entry and "type" not in entry:
            return self._call_entry(entry, where)
        if "type" not in entry:
            self.problem("S007", "This layer has no `type`.",
                         "Add the Keras class name, e.g. `type: LSTM`.", where)
            return None
        type_name = entry["type"]
        if not isinstance(type_name, str):
            self.problem("S005", f"`type` must be a Keras class name, got {type_name!r}.",
                         "Write e.g. `type: LSTM`.", entry.value_location("type"))
            return None
        layer = LayerDef(type_name, where, entry.value_location("type"))
        for key, value in entry.items():
            if key == "type":
                continue
            value_where = entry.value_location(key)
            if key == CALLED_KEY:
                self._called(layer, value, entry.key_location(key), value_where)
                continue
            if key in WIRING_KEYS:
                references = self._references(value, value_where, key)
                setattr(layer, key, references)
                if key == "inputs":
                    layer.inputs_as_list = isinstance(value, list)
                continue
            if key in NESTED_LAYER_KEYS and isinstance(value, (str, LocatedMap)):
                value = self.layer_entry(value, value_where)
                if value is None:
                    return None
            if key in NESTED_MODEL_KEYS and isinstance(value, LocatedMap):
                # A model used as a layer: `{type: Sequential, model: {input: [...], layers: [...]}}`.
                inner = SpecReader(self.file)
                value = inner.read_document(value)
                self.diagnostics.extend(inner.diagnostics)
                if value is None:
                    return None
            layer.keywords[str(key)] = Argument(value, entry.key_location(key))
        return layer


    def _called(self, layer: LayerDef, value: Any, key_where: Location, value_where: Location) -> None:
        if self.framework != "pytorch":
            self.problem("S004", "`called` marks a PyTorch module that forward() never calls; a Keras model leaves "
                                 "out a layer it never calls.", "Remove the layer (or `called`).", key_where)
        elif not isinstance(value, bool):
            self.problem("S005", f"`called` must be true or false, got {value!r}.",
                         "Write `called: false` for a module forward() never calls.", value_where)
        else:
            layer.called = value


def _what(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    return repr(value)


def read_spec_text(text: str, file: Optional[str]) -> Tuple[Optional[ModelSpec], List[Diagnostic]]:
    reader = SpecReader(file)
    spec = reader.read_text(text)
    return spec, reader.diagnostics


def spec_from_arguments(input_shape: Tuple[Optional[int], ...], layers: List[str], *,
                        batch_size: Optional[int] = None, name: Optional[str] = None,
                        dtype: str = "float32", framework: str = "keras",
                        ) -> Tuple[Optional[ModelSpec], List[Diagnostic]]:
    """The model built from `--input 50,10 "LSTM(64)" ...` on the command line."""
    reader = SpecReader("<command line>")
    reader.framework = framework
    spec = ModelSpec(file="<command line>", name=name, batch_size=batch_size, framework=framework)
    where = Location("<command line>", None, None)
    # --input and --dtype are checked as a spec's `input:` is, by the same functions.
    spec.inputs = [InputDef(None, reader.shape(list(input_shape), where, "the input shape"),
                            reader.dtype(dtype, where, "--dtype"), where)]
    for index, text in enumerate(layers, start=1):
        where = Location(f"<layer argument {index}>", 1, 1, content_column=1)
        layer = reader.layer_entry(text, where)
        if layer is not None:
            layer.index = index - 1
            spec.layers.append(layer)
    return spec, reader.diagnostics
