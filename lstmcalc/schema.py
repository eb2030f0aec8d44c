"""The JSON Schema of the spec format, generated from the layer registry so it cannot drift.

`lstmcalc schema` prints it; schema/lstmcalc-spec.schema.json is the committed copy (a test keeps
the two equal). Editors use it for completion and validation; lstmcalc itself validates with its
own reader, whose messages are better than a schema validator's.
"""

from __future__ import annotations

import json
from typing import Any, Dict

from .expect import LAYER_KEYS, MODEL_KEYS, SHAPE_KEYS, TOTAL_KEYS
from .layers.frameworks import FRAMEWORKS
from .layers.registry import layer_class, type_names
from .layers.arguments import json_schema_of
from .layers.torch_module import CONTAINER_MODULES, CONTAINERS
from .spec.reader import CALLED_KEY, DTYPES, TOP_LEVEL_KEYS, WIRING_KEYS

SCHEMA_FILE = "schema/lstmcalc-spec.schema.json"

DIM = {"type": ["integer", "null"], "minimum": 0}
SHAPE = {"type": "array", "items": DIM, "description": "Dimensions without the batch axis; null is unknown."}
BATCH_SHAPE = {"type": "array", "items": DIM, "description": "A shape with the batch axis, e.g. [null, 64]."}
BATCH_SIZE = {"type": ["integer", "null"], "minimum": 1}
# The spec's own batch_size: PyTorch runs an empty batch (Keras's starts at 1: spec_schema's allOf).
SPEC_BATCH_SIZE = {"type": ["integer", "null"], "minimum": 0}
REFERENCE = {"type": "string", "pattern": r"^\s*[^\[\]]+?\s*(\[\s*-?\d+\s*\]){0,2}\s*$",
             "description": "A layer or input name, name[i] for one of its outputs, or name[k][i] for "
                            "output i of call k of a shared layer."}
CALL = {"type": "string", "pattern": r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*\(",
        "description": "A layer in Keras call syntax, e.g. \"LSTM(64, return_sequences=True)\"."}


CALLED = {"type": "boolean", "description": "false: a module forward() never calls (its parameters count, it has "
                                           "no shapes)."}


def _references() -> Dict[str, Any]:
    return {"anyOf": [{"$ref": "#/definitions/reference"},
                      {"type": "array", "items": {"$ref": "#/definitions/reference"}}]}


def _input_mapping(name_required: bool) -> Dict[str, Any]:
    schema: Dict[str, Any] = {
        "type": "object",
        "properties": {"shape": {"$ref": "#/definitions/shape"}, "dtype": {"enum": list(DTYPES)},
                       "name": {"type": "string"}, "batch_size": BATCH_SIZE,
                       "batch_axis": {"type": "integer", "minimum": 0,
                                      "description": "Where the batch axis goes (a PyTorch RNN's h_0: 1)."}},
        "required": ["shape", "name"] if name_required else ["shape"],
        "additionalProperties": False,
    }
    return schema


def layer_type_schema(name: str, framework: str = "keras") -> Dict[str, Any]:
    """One layer type in mapping form: `type` plus its constructor keywords (Keras's, or torch.nn's)."""
    cls = layer_class(name, framework)
    assert cls is not None, name
    properties: Dict[str, Any] = {"type": {"const": name}}
    for argument in cls.all_arguments():
        properties[argument.name] = json_schema_of(argument.check)
    for key in WIRING_KEYS:
        properties[key] = _references()
    if framework == "pytorch":
        properties[CALLED_KEY] = CALLED
    required = ["type"] + [argument.name for argument in cls.all_arguments() if argument.required]
    summary = (cls.__doc__ or "").strip().splitlines()
    schema: Dict[str, Any] = {"type": "object", "properties": properties, "required": required,
                              "additionalProperties": False}
    if summary:
        schema["description"] = summary[0]
    return schema


def _expect() -> Dict[str, Any]:
    values = {key: {"type": "integer", "minimum": 0} for key in TOTAL_KEYS}
    values.update({"output_shape": {"$ref": "#/definitions/batch_shape"},
                   "output_shapes": {"type": "array", "items": {"$ref": "#/definitions/batch_shape"}}})
    layer = {"type": "object", "properties": {key: values[key] for key in LAYER_KEYS},
             "additionalProperties": False}
    model = {key: values[key] for key in TOTAL_KEYS + SHAPE_KEYS}
    model["layers"] = {"type": "object", "additionalProperties": layer,
                       "description": "Per layer, by name: params, output_shape, ..."}
    assert set(model) == set(MODEL_KEYS)
    return {"type": "object", "properties": model, "additionalProperties": False,
            "description": "Numbers `lstmcalc check` verifies; `--update-expect` rewrites them."}


def _top_level() -> Dict[str, Any]:
    properties = {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "batch_size": SPEC_BATCH_SIZE,
        "input": {"anyOf": [{"$ref": "#/definitions/shape"}, _input_mapping(name_required=False)]},
        "inputs": {"anyOf": [{"type": "object", "additionalProperties": {
                                 "anyOf": [{"$ref": "#/definitions/shape"}, _input_mapping(False)]}},
                             {"type": "array", "items": _input_mapping(name_required=True)}]},
        # Their items depend on `framework` (see spec_schema's allOf).
        "layers": {"type": "array"},
        "outputs": _references(),
        "expect": {"$ref": "#/definitions/expect"},
        "framework": {"enum": list(FRAMEWORKS), "description": "Whose layers the spec uses: keras (the default) "
                                                                "or pytorch (torch.nn modules, a concrete batch_size)."},
    }
    missing = set(TOP_LEVEL_KEYS) ^ set(properties)
    if missing:
        raise AssertionError(f"schema and reader disagree on top-level keys: {sorted(missing)}")
    return {key: properties[key] for key in TOP_LEVEL_KEYS}


# Each framework's definitions: its layer (call or mapping) and each type's mapping, keyed
# `<prefix><Type>`; Keras's keep their bare names.
PREFIXES = {"keras": "", "pytorch": "pytorch."}


def _layer_mapping(framework: str) -> Dict[str, Any]:
    names, prefix = type_names(framework), PREFIXES[framework]
    title = FRAMEWORKS[framework]
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": names, "description": f"The {title.title} {title.layer_word} class "
                                                              f"({title.namespace}), or an lstmcalc spec step."}},
        "allOf": [{"if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                   "then": {"$ref": f"#/definitions/{prefix}{name}"}} for name in names],
    }


def spec_schema() -> Dict[str, Any]:
    """The whole schema (JSON Schema draft-07, which editors support best)."""
    definitions: Dict[str, Any] = {
        "shape": SHAPE,
        "batch_shape": BATCH_SHAPE,
        "reference": REFERENCE,
        "call": CALL,
        "layer": {"anyOf": [{"$ref": "#/definitions/call"}, {"$ref": "#/definitions/layer_mapping"},
                            {"$ref": "#/definitions/shared_call"}]},
        "layer_mapping": _layer_mapping("keras"),
        "shared_call": {"type": "object", "required": ["call", "inputs"], "additionalProperties": False,
                        "properties": {"call": {"type": "string", "minLength": 1,
                                                "description": "A layer defined before, called again (shared)."},
                                       **{key: _references() for key in WIRING_KEYS}}},
        "pytorch.layer": {"anyOf": [{"$ref": "#/definitions/call"},
                                    {"$ref": "#/definitions/pytorch.layer_mapping"},
                                    {"$ref": "#/definitions/pytorch.container"},
                                    {"$ref": "#/definitions/pytorch.shared_call"}]},
        "pytorch.layer_mapping": _layer_mapping("pytorch"),
        "pytorch.container": {
            "type": "object", "required": ["type", CONTAINER_MODULES], "additionalProperties": False,
            "description": "nn.Sequential: its modules run in order, named <name>.0, <name>.1, ...",
            "properties": {"type": {"enum": list(CONTAINERS)}, "name": {"type": "string", "minLength": 1},
                           CALLED_KEY: CALLED,
                           CONTAINER_MODULES: {"type": "array", "items": {"$ref": "#/definitions/pytorch.layer"}}}},
        "pytorch.shared_call": {"type": "object", "required": ["call"], "additionalProperties": False,
                                "properties": {"call": {"type": "string", "minLength": 1,
                                                        "description": "A module defined before, called again."},
                                               **{key: _references() for key in WIRING_KEYS}}},
        "expect": _expect(),
    }
    for framework, prefix in PREFIXES.items():
        definitions.update({prefix + name: layer_type_schema(name, framework) for name in type_names(framework)})
    pytorch = {"properties": {"framework": {"const": "pytorch"}}, "required": ["framework"]}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "lstmcalc model spec",
        "description": "A Keras model (or, with `framework: pytorch`, a PyTorch one) as YAML: input(s), layers, "
                       "optional outputs and expectations.",
        "type": "object",
        "properties": _top_level(),
        "required": ["layers"],
        "additionalProperties": False,
        "allOf": [{"if": pytorch,
                   "then": {"properties": {"layers": {"items": {"$ref": "#/definitions/pytorch.layer"}}}},
                   "else": {"properties": {"layers": {"items": {"$ref": "#/definitions/layer"}},
                                           "batch_size": {"minimum": 1}}}}],
        "definitions": definitions,
    }


def schema_text() -> str:
    return json.dumps(spec_schema(), indent=2, sort_keys=False) + "\n"
