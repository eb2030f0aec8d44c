"""Keras model configs as a ModelSpec: ``model.to_json()``, the config.json inside a .keras archive,
and tf.keras 2's JSON (``batch_input_shape``, nested ``inbound_nodes`` lists).

The translation is generic: a layer entry's ``class_name`` is its type and its ``config`` keys its
arguments, which the layer factory checks against the layer class's schema. Only Keras's
serialisation format is known here: dtype policies become their names, nested layer configs
become nested layers, initializers and other serialised objects stay values. Per-type facts come
from the layer classes (``legacy_config``, ``takes_initial_state``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ..diagnostics import Diagnostic, Problem
from ..layers.registry import layer_class
from ..spec.model import Argument, InputDef, LayerDef, ModelSpec, Reference
from ..spec.reader import SpecReader
from ..spec.source import Location
from .located_json import load_json
from ..layers.base import INPUT_TYPE

INPUT_LAYER = INPUT_TYPE
# Keys of an InputLayer's config (Keras 3, then tf.keras 2) holding the shape with its batch axis.
BATCH_SHAPE_KEYS = ("batch_shape", "batch_input_shape")
# Call arguments that Keras records but that do not change shapes (the mask travels by itself).
IGNORED_CALL_ARGUMENTS = ("mask", "training")
HINT = "Give lstmcalc the file Keras wrote: model.to_json(), or the model saved with model.save('m.keras')."


def plain(value: Any) -> Any:
    """A located JSON value as plain dicts and lists (for values kept as arguments)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def is_serialized(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("class_name"), str) and \
        isinstance(value.get("config"), dict)


def is_model_config(value: Any) -> bool:
    """A serialised model (Sequential, Functional, a subclass): its config lists layers."""
    return is_serialized(value) and isinstance(value["config"].get("layers"), list)


def is_layer_config(value: Any) -> bool:
    """A serialised layer, as opposed to an initializer or regularizer: Keras 3 says so in
    ``module``; tf.keras 2 configs of layers always carry ``name`` and ``trainable``."""
    if not is_serialized(value):
        return False
    module = value.get("module")
    if isinstance(module, str):
        return module.startswith(("keras.layers", "keras.src.layers", "keras.src.models", "keras.models")) \
            or module == "keras" and is_model_config(value)
    return "name" in value["config"] and "trainable" in value["config"]


def dtype_name(value: Any) -> Any:
    """``{"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}}`` → "mixed_float16"."""
    if is_serialized(value) and isinstance(value["config"].get("name"), str):
        return value["config"]["name"]
    return value


def where(value: Any, default: Location) -> Location:
    return getattr(value, "location", default)


class ConfigReader:
    """Reads one Keras model config; problems are collected, reading goes on where it can."""

    def __init__(self, file: Optional[str]):
        self.file = file
        self.spec_reader = SpecReader(file)  # shapes, dtypes and the legacy `input_shape=` rule
        self.diagnostics: List[Diagnostic] = self.spec_reader.diagnostics

    def problem(self, code: str, message: str, hint: str, location: Location,
                layer: Optional[str] = None) -> None:
        self.diagnostics.append(Problem(code, message, hint, location, layer).to_diagnostic())

    # -- models ----------------------------------------------------------------------------------

    def model(self, document: Any) -> Optional[ModelSpec]:
        here = where(document, Location(self.file, 1, 1))
        if not is_model_config(document):
            if is_serialized(document):
                message = f"The JSON is one serialised `{document['class_name']}`, not a model."
            else:
                message = "The JSON is not a Keras model config (no `class_name` with `config.layers`)."
            self.problem("S017", message, HINT, here)
            return None
        config = document["config"]
        spec = ModelSpec(file=self.file, name=config.get("name") if isinstance(config.get("name"), str) else None,
                         saved_config=True)
        if "input_layers" in config or "output_layers" in config:
            self._functional(spec, config)
        else:
            self._sequential(spec, config, here)
        return spec

    def _sequential(self, spec: ModelSpec, config: Dict[str, Any], here: Location) -> None:
        entries = config["layers"]
        for index, entry in enumerate(entries):
            entry_where = where(entry, here)
            if isinstance(entry, dict) and entry.get("class_name") == INPUT_LAYER:
                if spec.inputs:
                    self.problem("S017", "A Sequential model config with two InputLayer entries.", HINT,
                                 entry_where)
                    continue
                spec.inputs.append(self._input_layer(entry, entry_where))
                continue
            layer = self.layer(entry, entry_where)
            if layer is not None:
                layer.index = len(spec.layers)
                spec.layers.append(layer)
        if spec.inputs:
            return
        shape, shape_where = self._legacy_input(config, entries, here)
        if shape is not None:
            checked = self.spec_reader.shape(shape[1:], shape_where, "the input shape")
            spec.inputs.append(InputDef(None, checked, "float32", shape_where, shape[0]))
        else:
            self.problem("S002", "The Sequential config has no input shape: no InputLayer, no "
                                 "`build_input_shape` and no `batch_input_shape` on its first layer.",
                         "Save a model that was built (keras.Input(shape=...) first, or model.build()); "
                         "an unbuilt Sequential has no shapes to report.", here)

    def _legacy_input(self, config: Dict[str, Any], entries: List[Any], here: Location):
        """The batch shape of a Sequential saved without an InputLayer: its ``build_input_shape``,
        or tf.keras 2's ``batch_input_shape`` / the ``build_config`` of its first layer."""
        candidates = [(config.get("build_input_shape"), here)]
        if entries and is_serialized(entries[0]):
            first = entries[0]
            candidates.append((first["config"].get("batch_input_shape"), where(first, here)))
            build = first.get("build_config")
            if isinstance(build, dict):
                candidates.append((build.get("input_shape"), where(build, here)))
        for shape, shape_where in candidates:
            if isinstance(shape, list) and shape:
                return plain(shape), shape_where
        return None, here

    def _functional(self, spec: ModelSpec, config: Dict[str, Any]) -> None:
        spec.functional = True
        inputs: Dict[str, InputDef] = {}
        for entry in config["layers"]:
            entry_where = where(entry, Location(self.file, None, None))
            if not isinstance(entry, dict):
                self.problem("S017", f"A layer entry must be an object, got {plain(entry)!r}.", HINT, entry_where)
                continue
            name = entry.get("name") or (entry.get("config") or {}).get("name")
            if entry.get("class_name") == INPUT_LAYER:
                inputs[str(name)] = self._input_layer(entry, entry_where)
                continue
            layer = self.layer(entry, entry_where, keep_name=name)
            if layer is None:
                continue
            nodes = entry.get("inbound_nodes")
            if not isinstance(nodes, list) or not nodes:
                self.problem("S017", f"`{name}` has no inbound node: it is not connected to the model.",
                             HINT, entry_where, layer=name)
                continue
            self._wire(layer, nodes[0], entry_where)
            layer.index = len(spec.layers)
            spec.layers.append(layer)
            for node in nodes[1:]:
                # A shared layer: each later node calls the same layer again.
                call = LayerDef(layer.type_name, where(node, entry_where), entry_where, shares=name)
                self._wire(call, node, where(node, entry_where))
                call.index = len(spec.layers)
                spec.layers.append(call)
        order = self._endpoints(config.get("input_layers"))
        for name, _index in order:
            if name in inputs:
                spec.inputs.append(inputs.pop(name))
        spec.inputs.extend(inputs.values())
        spec.outputs = [Reference(name, index, spec.location_of("outputs"))
                        for name, index in self._endpoints(config.get("output_layers"))]

    def _endpoints(self, value: Any) -> List[Tuple[str, int]]:
        """``input_layers`` / ``output_layers``: [name, node, tensor], or a list of them."""
        if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
            value = [value]
        endpoints = []
        for item in value if isinstance(value, list) else []:
            if isinstance(item, list) and len(item) >= 3 and isinstance(item[0], str):
                endpoints.append((item[0], item[2] if isinstance(item[2], int) else 0))
        return endpoints

    # -- wiring ----------------------------------------------------------------------------------

    def _wire(self, layer: LayerDef, node: Any, node_where: Location) -> None:
        if isinstance(node, list):  # tf.keras 2: [[name, node, tensor, kwargs], ...]
            references = [self._legacy_reference(item, node_where) for item in node]
            references = [reference for reference in references if reference is not None]
            cls = layer_class(layer.type_name)
            if len(references) > 1 and cls is not None and cls.takes_initial_state:
                # tf.keras 2 passed initial states as extra inputs of the call.
                layer.inputs, layer.initial_state = references[:1], references[1:]
            else:
                layer.inputs = references
                layer.inputs_as_list = len(references) > 1
            return
        if not isinstance(node, dict):
            self.problem("S017", "An inbound node must be an object with `args` and `kwargs`.", HINT, node_where,
                         layer=layer.explicit_name)
            return
        args = node.get("args") or []
        kwargs = node.get("kwargs") or {}
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            self.problem("S017", "An inbound node's `args` must be a list and its `kwargs` an object.", HINT,
                         node_where, layer=layer.explicit_name)
            return
        first = args[0] if args else None
        layer.inputs = self._tensors(first, node_where)
        layer.inputs_as_list = isinstance(first, list)
        for key, value in kwargs.items():
            if key == "initial_state":
                layer.initial_state = self._tensors(value, where(value, node_where))
            elif key not in IGNORED_CALL_ARGUMENTS and value is not None:
                self.problem("S004", f"`{layer.explicit_name}` is called with `{key}=`, which lstmcalc does not "
                                     "model.", "Remove that call argument from a copy of the model.",
                             where(kwargs, node_where), layer=layer.explicit_name)

    def _tensors(self, value: Any, default: Location) -> List[Reference]:
        """The `__keras_tensor__` references in a call argument (a tensor or a list of them)."""
        items = value if isinstance(value, list) else [value]
        references = []
        for item in items:
            history = item.get("config", {}).get("keras_history") if is_serialized(item) else None
            if isinstance(history, list) and len(history) == 3 and isinstance(history[0], str):
                references.append(self._reference(history, where(item, default)))
            else:
                self.problem("S017", f"Expected a tensor reference (keras_history), got {plain(item)!r}.", HINT,
                             where(item, default))
        return references

    def _legacy_reference(self, item: Any, default: Location) -> Optional[Reference]:
        if isinstance(item, list) and len(item) >= 3 and isinstance(item[0], str):
            return self._reference(item, where(item, default))
        self.problem("S017", f"Expected [layer, node, tensor], got {plain(item)!r}.", HINT, default)
        return None

    def _reference(self, history: List[Any], location: Location) -> Reference:
        name, node, tensor = history[0], history[1], history[2]
        if node:
            name = f"{name}[{node}]"  # the output of a shared layer's later call
        return Reference(name, tensor if isinstance(tensor, int) else 0, location)

    # -- layers and inputs -----------------------------------------------------------------------

    def _input_layer(self, entry: Dict[str, Any], entry_where: Location) -> InputDef:
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        name = config.get("name") if isinstance(config.get("name"), str) else entry.get("name")
        shape = next((config[key] for key in BATCH_SHAPE_KEYS if isinstance(config.get(key), list)), None)
        dtype = self.spec_reader.dtype(dtype_name(config.get("dtype")), entry_where)
        if not shape:
            self.problem("S010", f"The InputLayer `{name}` has no `batch_shape`.", HINT, entry_where)
            return InputDef(name, None, dtype, entry_where)
        batch = shape[0] if isinstance(shape[0], int) and not isinstance(shape[0], bool) else None
        checked = self.spec_reader.shape(plain(shape[1:]), where(shape, entry_where), "the input shape")
        return InputDef(name, checked, dtype, entry_where, batch)

    def layer(self, entry: Any, entry_where: Location, keep_name: Optional[str] = None) -> Optional[LayerDef]:
        """One serialised layer as a LayerDef (nested layers included)."""
        if not is_serialized(entry):
            self.problem("S017", "A layer entry needs `class_name` and `config`.", HINT, entry_where)
            return None
        type_name = entry["class_name"]
        definition = LayerDef(type_name, entry_where, entry_where)
        if is_model_config(entry):
            # A model used as a layer: its own config becomes the nested model's spec.
            inner = ConfigReader(self.file)
            spec = inner.model(entry)
            self.diagnostics.extend(inner.diagnostics)
            if spec is None:
                return None
            definition.keywords["model"] = Argument(spec, entry_where)
            definition.keywords["name"] = Argument(spec.name or keep_name, entry_where)
            if entry["config"].get("trainable") is False:
                definition.keywords["trainable"] = Argument(False, entry_where)
            return definition
        cls = layer_class(type_name)
        legacy = cls.legacy_config if cls is not None else {}
        for key, value in entry["config"].items():
            value_where = where(value, entry_where)
            if key in BATCH_SHAPE_KEYS:
                continue  # the input's shape, read with the model's input
            if key in legacy:
                if value != legacy[key]:
                    self.problem("S006", f"{type_name}: tf.keras 2's `{key}: {plain(value)!r}` has no Keras 3 "
                                         f"equivalent (Keras 3 always behaves as `{key}: {legacy[key]!r}`).",
                                 "Rebuild that layer without it in Keras 3.", entry_where,
                                 layer=entry["config"].get("name"))
                continue
            if key == "dtype":
                value = dtype_name(value)
            elif is_layer_config(value):
                value = self.layer(value, value_where)
                if value is None:
                    return None
            definition.keywords[key] = Argument(plain(value), value_where)
        if keep_name is not None and "name" not in definition.keywords:
            definition.keywords["name"] = Argument(keep_name, entry_where)
        return definition


def read_keras_config(document: Any, file: Optional[str]) -> Tuple[Optional[ModelSpec], List[Diagnostic]]:
    """A ModelSpec from a parsed Keras model config."""
    reader = ConfigReader(file)
    spec = reader.model(document)
    return spec, reader.diagnostics


def read_keras_json(text: str, file: Optional[str]) -> Tuple[Optional[ModelSpec], List[Diagnostic]]:
    """A ModelSpec from the JSON text of a Keras model config."""
    try:
        document = load_json(text, file)
    except Problem as problem:
        return None, [problem.to_diagnostic()]
    return read_keras_config(document, file)
