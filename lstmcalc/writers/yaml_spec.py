"""A read model written as an lstmcalc spec: a stack as call-syntax entries, a graph as mappings
with ``inputs:``; what the source left implicit and the spec states is commented."""

from __future__ import annotations

import json
import re
from typing import List, Optional

from ..report import Report
from ..spec.model import InputDef, LayerDef, ModelSpec, Reference
from . import NotConvertible
from .values import (call_text, droppable_names, model_name, output_counts, python_literal, source_name,
                     whole_output, without_names, written_arguments)

# Plain YAML scalars cannot hold these; such entries are written double-quoted.
_NEEDS_QUOTES = re.compile(r"(: |\s#|^[\[\]{}>|*&!%@`'\"-]|[{}\[\]]\s*$)")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain where YAML reads it back as the same string."""
    if _NEEDS_QUOTES.search(text) or text != text.strip() or text in ("true", "false", "null", "~", ""):
        return json.dumps(text, ensure_ascii=False)
    return text


def yaml_value(value) -> str:
    """A flow-style YAML value (numbers, booleans, null, strings, lists, mappings)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if not _PLAIN_KEY.match(value) or \
            value in ("true", "false", "null", "yes", "no", "on", "off") else value
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_value(str(key))}: {yaml_value(item)}" for key, item in value.items()
                               if key not in ("module", "registered_name", "shared_object_id")) + "}"
    if isinstance(value, LayerDef):
        return scalar(call_text(value, complete=True))
    raise NotConvertible(f"{value!r} cannot be written in a spec.")


def _shape(input_def: InputDef) -> str:
    return yaml_value(list(input_def.shape or ()))


def _input_entry(input_def: InputDef, with_name: bool) -> str:
    parts = [f"shape: {_shape(input_def)}"]
    if input_def.dtype != "float32":
        parts.append(f"dtype: {input_def.dtype}")
    if input_def.batch_size is not None:
        parts.append(f"batch_size: {input_def.batch_size}")
    if with_name and input_def.name:
        parts.append(f"name: {yaml_value(input_def.name)}")
    return "{" + ", ".join(parts) + "}"


def _reference(reference: Reference) -> str:
    if reference.name.endswith("]"):
        # A shared layer's later call `encoder[1]`: its outputs are written `encoder[1][i]`.
        if reference.index is None:
            raise NotConvertible(f"`{reference.name}` (every output of a shared layer's call) has no spec "
                                 "spelling; pick its outputs one by one.")
        return json.dumps(str(reference))
    return scalar(str(reference)) if reference.index is None else json.dumps(str(reference))


def _references(references: List[Reference], as_list: bool) -> str:
    if len(references) == 1 and not as_list:
        return _reference(references[0])
    return "[" + ", ".join(_reference(reference) for reference in references) + "]"


def write_yaml(report: Report) -> str:
    """The spec text of a read model."""
    spec = report.spec
    if spec is None:
        raise NotConvertible("The source could not be read, so there is nothing to write.")
    lines = [f"# Written by lstmcalc convert from {source_name(spec.file)}."] + spec_lines(spec, output_counts(report))
    return "\n".join(lines) + "\n"


def spec_lines(spec: ModelSpec, counts) -> List[str]:
    """A spec's lines (a nested model's too, indented by its caller)."""
    lines: List[str] = []
    if spec.framework != "keras":
        lines.append(f"framework: {spec.framework}")
    if model_name(spec):
        lines.append(f"name: {yaml_value(model_name(spec))}")
    if spec.batch_size is not None:
        lines.append(f"batch_size: {spec.batch_size}")
    # Keras gives default names that need not be written; PyTorch names unnamed modules by position.
    droppable = droppable_names(spec.layers) if spec.framework == "keras" else set()
    if spec.functional:
        lines.append("inputs:")
        for input_def in spec.inputs:
            lines.append(f"  {yaml_value(input_def.name or 'input_layer')}: {_input_entry(input_def, False)}")
    elif spec.inputs:
        input_def = spec.inputs[0]
        named = input_def.name is not None and not input_def.name.startswith("input_layer")
        # Keras's legacy form: the input given as `input_shape=` on the first layer.
        legacy = [key for key in ("input_shape", "input_dim")
                  if spec.layers and key in spec.layers[0].keywords and _is_legacy_input(spec, key)]
        comment = f"  # from {legacy[0]}= on the first layer" if legacy else ""
        if input_def.dtype == "float32" and input_def.batch_size is None and not named:
            lines.append(f"input: {_shape(input_def)}{comment}")
        else:
            lines.append(f"input: {_input_entry(input_def, named)}{comment}")
    lines.append("layers:")
    if spec.framework == "pytorch" and not spec.functional:
        return lines + module_lines(spec.layers, "  ")
    for index, definition in enumerate(spec.layers):
        shown = without_names(definition, droppable)
        if index == 0 and not spec.functional:
            for key in ("input_shape", "input_dim"):
                if key in shown.keywords and _is_legacy_input(spec, key):
                    del shown.keywords[key]
        if not spec.functional and not _nested_model(shown):
            lines.append(f"  - {scalar(call_text(shown, complete=spec.saved_config))}")
            continue
        lines.extend(_mapping_entry(shown, definition, spec.saved_config, counts, spec.framework))
    if spec.functional and spec.outputs:
        lines.append("outputs: [" + ", ".join(_reference(_call_output(reference, counts))
                                              for reference in spec.outputs) + "]")
    return lines


def module_lines(definitions: List[LayerDef], indent: str) -> List[str]:
    """A PyTorch stack's entries: call syntax; nn.Sequential blocks as `{type: Sequential, layers:}`
    mappings; a module called again as `{call: name}`; one forward() never calls with `called: false`."""
    from .torch_code import Block, module_tree, own_name

    def entries(items, indent: str, inside: bool) -> List[str]:
        lines: List[str] = []
        for position, item in enumerate(items):
            if isinstance(item, Block):
                lines.append(f"{indent}- type: Sequential")
                if not inside or item.name != str(position):
                    lines.append(f"{indent}  name: {yaml_value(item.name)}")
                if not item.called and (not inside):
                    lines.append(f"{indent}  called: false")
                lines.append(f"{indent}  layers:")
                lines += entries(item.items, indent + "    ", True)
                continue
            if item.shares:
                lines.append(f"{indent}- {{call: {yaml_value(item.shares)}}}")
                continue
            shown = item
            if inside and own_name(item) is None and item.explicit_name is not None:
                shown = without_names(item, {id(item)})
            text = call_text(shown)
            if item.called or inside:
                lines.append(f"{indent}- {scalar(text)}")
            else:
                lines.append(f"{indent}- {{{_flow_mapping(shown)}, called: false}}")
        return lines

    return entries(module_tree(definitions), indent, False)


def _flow_mapping(definition: LayerDef) -> str:
    """``type: Linear, in_features: 16, out_features: 1, name: attention``: a layer as a flow mapping."""
    from ..layers.registry import layer_class

    positional, keywords = written_arguments(definition)
    cls = layer_class(definition.type_name, "pytorch")
    names = [argument.name for argument in cls.arguments] if cls else []
    if len(positional) > len(names):
        raise NotConvertible(f"{definition.type_name} takes no positional argument {len(names)}.")
    items = [f"type: {definition.type_name}"] + [f"{name}: {yaml_value(value)}" for name, value in
                                                 zip(names, positional)]
    return ", ".join(items + [f"{key}: {yaml_value(value)}" for key, value in keywords])


def _nested_model(definition: LayerDef) -> Optional[ModelSpec]:
    argument = definition.keywords.get("model")
    return argument.value if argument is not None and isinstance(argument.value, ModelSpec) else None


def _is_legacy_input(spec: ModelSpec, key: str) -> bool:
    # `input_shape=` of the first layer became the spec's `input:`; Embedding's own input_dim stays.
    from ..layers.registry import layer_class

    first = spec.layers[0]
    cls = layer_class(first.type_name)
    own = {argument.name for argument in cls.arguments} if cls else set()
    return key not in own


def _mapping_entry(shown: LayerDef, original: LayerDef, complete: bool, counts, framework: str) -> List[str]:
    if original.shares:
        entry = [f"call: {yaml_value(original.shares)}"]
        inputs = [_call_output(reference, counts) for reference in original.inputs or []]
        entry.append(f"inputs: {_references(inputs, original.inputs_as_list)}")
        if original.initial_state:
            states = [_call_output(reference, counts) for reference in original.initial_state]
            entry.append(f"initial_state: {_references(states, True)}")
        return ["  - " + entry[0]] + ["    " + item for item in entry[1:]]
    positional, keywords = written_arguments(shown, complete=complete)
    cls_arguments = _positional_names(shown, framework)
    entry = [f"type: {shown.type_name}"]
    for index, value in enumerate(positional):
        name: Optional[str] = cls_arguments[index] if index < len(cls_arguments) else None
        if name is None:
            raise NotConvertible(f"{shown.type_name} takes no positional argument {index}.")
        entry.append(f"{name}: {yaml_value(value)}")
    nested = _nested_model(shown)
    # (the nested model is written below as `model:`; an argument given as null stays null)
    entry += [f"{key}: {yaml_value(value)}" for key, value in keywords if nested is None or value is not nested]
    if original.inputs is not None:
        inputs = [_call_output(reference, counts) for reference in original.inputs]
        entry.append(f"inputs: {_references(inputs, original.inputs_as_list)}")
    if original.initial_state:
        states = [_call_output(reference, counts) for reference in original.initial_state]
        entry.append(f"initial_state: {_references(states, True)}")
    if nested is not None:
        entry.append("model:")
        entry += ["  " + line for line in spec_lines(nested, {})]
    return ["  - " + entry[0]] + ["    " + item for item in entry[1:]]


def _call_output(reference: Reference, counts) -> Reference:
    """``whole_output`` for a layer; a shared call's one output keeps its index (`encoder[1][0]`)."""
    if reference.name.endswith("]"):
        if reference.index is None and counts.get(reference.name, 1) == 1:
            return Reference(reference.name, 0, reference.location)
        return reference
    return whole_output(reference, counts)


def _positional_names(definition: LayerDef, framework: str) -> List[str]:
    from ..layers.registry import layer_class

    cls = layer_class(definition.type_name, framework)
    return [argument.name for argument in cls.arguments] if cls else []


__all__ = ["write_yaml", "python_literal"]
