"""A read model written as Keras 3 Python code: ``keras.Sequential([...])`` for a stack, the
functional API (one line per layer call, ``keras.Model(inputs, outputs)``) for a graph."""

from __future__ import annotations

import keyword
import re
from typing import Dict, List, Optional

from ..report import Report
from ..spec.model import InputDef, LayerDef, ModelSpec, Reference
from . import NotConvertible
from .values import (call_text, droppable_names, model_name, output_counts, python_literal, source_name,
                     whole_output, without_names)

PREFIX = "layers."


def identifier(name: str, taken: Dict[str, str]) -> str:
    """A Python variable for a layer or input name, unique among ``taken``'s values."""
    base = re.sub(r"\W", "_", name)
    if not base or base[0].isdigit() or keyword.iskeyword(base) or base in ("keras", "layers", "model"):
        base = f"{base}_"
    candidate, count = base, 1
    while candidate in taken.values():
        count += 1
        candidate = f"{base}{count}"
    taken[name] = candidate
    return candidate


def input_call(input_def: InputDef, batch_size, name: bool) -> str:
    parts = [f"shape={python_literal(tuple(input_def.shape or ()))}"]
    batch = input_def.batch_size if input_def.batch_size is not None else batch_size
    if batch is not None:
        parts.append(f"batch_size={batch}")
    if input_def.dtype != "float32":
        parts.append(f"dtype={input_def.dtype!r}")
    if name and input_def.name:
        parts.append(f"name={input_def.name!r}")
    return "keras.Input(" + ", ".join(parts) + ")"


def write_keras(report: Report) -> str:
    """The Keras code of a read model."""
    spec = report.spec
    if spec is None:
        raise NotConvertible("The source could not be read, so there is nothing to write.")
    if spec.framework != "keras":
        from .ported import ported_report

        report = ported_report(report, "keras")  # the Keras equivalent, layer by layer (lstmcalc port's rules)
        spec = report.spec
    header = [f'"""{spec.name or "model"}: written by lstmcalc convert from {source_name(spec.file)}."""', "",
              "import keras", "from keras import layers", ""]
    names: Dict[str, str] = {"model": "model"}
    return "\n".join(header + model_lines(spec, output_counts(report), "model", names, report)) + "\n"


def nested_model(definition: LayerDef) -> Optional[ModelSpec]:
    argument = definition.keywords.get("model")
    return argument.value if argument is not None and isinstance(argument.value, ModelSpec) else None


def model_lines(spec: ModelSpec, counts: Dict[str, int], variable: str, names: Dict[str, str],
                report: Optional[Report] = None) -> List[str]:
    """Lines that build ``spec`` into ``variable``; models used as layers are built first."""
    lines: List[str] = []
    models: Dict[int, str] = {}
    for definition in spec.layers:
        inner = nested_model(definition)
        if inner is not None:
            models[id(definition)] = identifier(f"{definition.explicit_name or 'inner'}_model", names)
            lines += model_lines(inner, {}, models[id(definition)], names) + [""]
    name_argument = f", name={model_name(spec)!r}" if model_name(spec) else ""
    droppable = droppable_names(spec.layers)
    if not spec.functional:
        lines.append(f"{variable} = keras.Sequential([")
        if spec.inputs and spec.inputs[0].shape is not None:
            input_def = spec.inputs[0]
            named = input_def.name is not None and not input_def.name.startswith("input_layer")
            lines.append(f"    {input_call(input_def, spec.batch_size, named)},")
        for index, definition in enumerate(spec.layers):
            shown = without_names(definition, droppable)
            if index == 0 and spec.inputs:
                for key in ("input_shape", "input_dim"):
                    if key in shown.keywords and not _own_argument(shown, key):
                        del shown.keywords[key]  # the input is keras.Input above
            text = models.get(id(definition)) or call_text(shown, PREFIX, complete=spec.saved_config)
            lines.append(f"    {text},")
        lines.append(f"]{name_argument})")
        return lines
    return lines + _functional(spec, report, counts, droppable, names, models, variable, name_argument)


def _own_argument(definition: LayerDef, key: str) -> bool:
    from ..layers.registry import layer_class

    cls = layer_class(definition.type_name)
    return cls is not None and key in {argument.name for argument in cls.arguments}


def _functional(spec: ModelSpec, report: Optional[Report], counts: Dict[str, int], droppable: set,
                names: Dict[str, str], models: Dict[int, str], variable: str, name_argument: str) -> List[str]:
    body: List[str] = []
    inputs = {}
    for input_def in spec.inputs:
        name = input_def.name or "input_layer"
        inputs[name] = identifier(name, names)
        body.append(f"{inputs[name]} = {input_call(input_def, spec.batch_size, True)}")
    tensors = dict(inputs)  # layer or input name -> the variable holding its output
    built = [layer.name for layer in report.layers] if report is not None else []
    shared = {definition.shares for definition in spec.layers if definition.shares}
    objects: Dict[str, str] = {}  # shared layer -> the variable holding the layer itself
    calls: Dict[str, int] = {}
    for position, definition in enumerate(spec.layers):
        if definition.shares:
            # A shared layer called again: Keras's node `name[k]`.
            calls[definition.shares] = calls.get(definition.shares, 0) + 1
            name = f"{definition.shares}[{calls[definition.shares]}]"
            output = identifier(f"{definition.shares}_{calls[definition.shares]}", names)
            if definition.shares not in objects:
                raise NotConvertible(f"`{definition.shares}` is called again before it is defined.")
            call = objects[definition.shares]
        else:
            name = definition.explicit_name or (built[position] if position < len(built) else f"layer_{position}")
            output = identifier(name, names)
        if definition.shares:
            pass  # `call` is the shared layer's variable
        elif id(definition) in models:
            call = models[id(definition)]
        else:
            call = call_text(without_names(definition, droppable), PREFIX, name=name, complete=spec.saved_config)
            if name in shared:
                objects[name] = identifier(f"{name}_layer", names)
                body.append(f"{objects[name]} = {call}")
                call = objects[name]
        if definition.inputs is None:
            raise NotConvertible(f"`{name}` has no `inputs:`; every layer of a graph names what it takes.")
        arguments = _tensors(definition.inputs, definition.inputs_as_list, tensors, counts)
        if definition.initial_state:
            arguments += f", initial_state={_tensors(definition.initial_state, True, tensors, counts)}"
        body.append(f"{output} = {call}({arguments})")
        tensors[name] = output
    outputs = spec.outputs if spec.outputs is not None else (report.graph.outputs if report and report.graph else [])
    body.append(f"{variable} = keras.Model(inputs=[{', '.join(inputs.values())}], "
                f"outputs={_tensors(list(outputs), True, tensors, counts)}{name_argument})")
    return body


def _tensors(references: List[Reference], as_list: bool, tensors: Dict[str, str], counts: Dict[str, int]) -> str:
    def one(reference: Reference) -> str:
        variable = tensors.get(reference.name)
        if variable is None:
            raise NotConvertible(f"`{reference.name}` is used before it is defined.")
        reference = whole_output(reference, counts)
        return variable if reference.index is None else f"{variable}[{reference.index}]"

    if len(references) == 1 and not as_list:
        return one(references[0])
    return "[" + ", ".join(one(reference) for reference in references) + "]"
