"""Argument values and layer calls as Python literal text, shared by the writers; the readers
(call syntax, Python source) read this text back to the same values."""

from __future__ import annotations

import os

from typing import Any, Dict, List, Optional, Tuple

from ..layers.registry import layer_class
from ..spec.model import LayerDef

# Keras 3's serialisation keys that carry no configuration.
NOISE_KEYS = ("module", "registered_name", "shared_object_id")
# A dtype given as the global default policy is the same as none given.
DEFAULT_DTYPE = "float32"


def python_literal(value: Any, layer_prefix: str = "", complete: bool = False) -> str:
    """``value`` as Python source: literals, tuples, lists, dicts and nested layer calls."""
    if isinstance(value, LayerDef):
        return call_text(value, layer_prefix, complete=complete)
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        items = [python_literal(item, layer_prefix) for item in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(item, layer_prefix) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_literal(key)}: {python_literal(item, layer_prefix)}"
                               for key, item in value.items() if key not in NOISE_KEYS) + "}"
    return repr(value)


def same_value(value: Any, default: Any) -> bool:
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return len(value) == len(default) and all(same_value(a, b) for a, b in zip(value, default))
    return type(value) is type(default) and value == default or (value is None and default is None)


def identifier_form(value: Any) -> Any:
    """A serialised object with an empty or all-null config (``{"class_name": "GlorotUniform",
    "config": {"seed": None}}``) is what Keras makes of its identifier (``"glorot_uniform"``)."""
    from ..layers.factory import snake_case

    if isinstance(value, dict) and isinstance(value.get("class_name"), str) and isinstance(value.get("config"), dict) \
            and all(item is None for item in value["config"].values()):
        return snake_case(value["class_name"])
    return value


def written_arguments(definition: LayerDef, keep_name: bool = True,
                      complete: bool = False) -> Tuple[List[Any], List[Tuple[str, Any]]]:
    """The positional values and the keywords to write: all as written, or — for a ``complete``
    saved Keras config, which lists every argument — those that differ from the class's defaults."""
    cls = layer_class(definition.type_name)
    defaults: Dict[str, Any] = {}
    if cls is not None and complete:
        defaults = {argument.name: argument.default for argument in cls.all_arguments() if not argument.required}
    positional = [argument.value for argument in definition.positional]
    keywords = []
    for key, argument in definition.keywords.items():
        value = identifier_form(argument.value) if complete else argument.value
        if key == "name" and not keep_name:
            continue
        if key in defaults and (same_value(value, defaults[key]) or
                                (key == "dtype" and value == DEFAULT_DTYPE and defaults[key] is None)):
            continue
        keywords.append((key, value))
    return positional, keywords


def call_text(definition: LayerDef, prefix: str = "", keep_name: bool = True,
              name: Optional[str] = None, complete: bool = False) -> str:
    """``LSTM(64, return_sequences=True)`` (with ``prefix`` ``layers.``: Keras code)."""
    positional, keywords = written_arguments(definition, keep_name, complete)
    if name is not None:
        keywords = [(key, value) for key, value in keywords if key != "name"] + [("name", name)]
    parts = [python_literal(value, prefix, complete) for value in positional]
    parts += [f"{key}={python_literal(value, prefix, complete)}" for key, value in keywords]
    return f"{prefix}{definition.type_name}(" + ", ".join(parts) + ")"


def model_name(spec) -> "str | None":
    """The model's name when it is not the one lstmcalc (and Keras, for a first model) gives anyway."""
    default = "functional" if spec.functional else "sequential"
    return spec.name if spec.name and spec.name != default else None


def output_counts(report) -> Dict[str, int]:
    """How many tensors each layer of a report returns (inputs return one)."""
    return {layer.name: len(layer.output_shapes) for layer in report.layers if layer.output_shapes}


def whole_output(reference, counts: Dict[str, int]):
    """``lstm[0]`` of a layer with one output is that output: written ``lstm`` (in Keras code
    ``x[0]`` would slice the tensor instead of picking it)."""
    from ..spec.model import Reference

    if reference.index in (0, -1) and counts.get(reference.name, 1) == 1:
        return Reference(reference.name, None, reference.location)
    return reference


def nested_definitions(definition: LayerDef) -> List[LayerDef]:
    """The layers given as arguments of ``definition`` (a wrapper's ``layer``), in the order
    Python evaluates them — before the wrapper itself is constructed."""
    values = [argument.value for argument in definition.positional] + \
        [argument.value for argument in definition.keywords.values()]
    return [value for value in values if isinstance(value, LayerDef)]


def droppable_names(definitions: List[LayerDef]) -> set:
    """The ids of definitions whose explicit name is the one Keras would give anyway, so that
    leaving it out names every layer the same (explicit names do not advance Keras's counters)."""
    from ..layers.factory import snake_case

    counts: Dict[str, int] = {}
    droppable = set()

    def visit(definition: LayerDef) -> None:
        for inner in nested_definitions(definition):
            visit(inner)
        prefix = snake_case(definition.type_name)
        count = counts.get(prefix, 0)
        automatic = prefix if count == 0 else f"{prefix}_{count}"
        name = definition.explicit_name
        if name is None or name == automatic:
            counts[prefix] = count + 1
            if name is not None:
                droppable.add(id(definition))

    for definition in definitions:
        visit(definition)
    return droppable


def without_names(definition: LayerDef, droppable: set) -> LayerDef:
    """A copy of ``definition`` (and its nested layers) without the droppable names."""
    from ..spec.model import Argument

    keywords = {}
    for key, argument in definition.keywords.items():
        if key == "name" and id(definition) in droppable:
            continue
        value = argument.value
        if isinstance(value, LayerDef):
            value = without_names(value, droppable)
        keywords[key] = Argument(value, argument.location)
    positional = [Argument(without_names(argument.value, droppable), argument.location)
                  if isinstance(argument.value, LayerDef) else argument for argument in definition.positional]
    return definition._replace(keywords=keywords, positional=positional)


def source_name(file: Optional[str]) -> str:
    """The source file as the header of written code names it: its base name, so that the output
    does not depend on where the file was read from."""
    return os.path.basename(file) if file else "<unknown>"
