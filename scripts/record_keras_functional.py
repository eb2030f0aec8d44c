#!/usr/bin/env python3
"""Record reference behaviour of REAL Keras 3 for lstmcalc's graph (functional) specs.

Reads  tests/fixtures/keras/functional_cases.yaml   (list of {id, note, spec})
Writes tests/fixtures/keras/functional_reference.json

Each spec is built with Keras's functional API the way a user would write it: layers are
constructed in file order (that fixes their default names), then called in dependency order
with `inputs:` and `initial_state:` resolved (`name` = all outputs of a layer, `name[i]` one of
them), and `keras.Model(inputs, outputs)` is made from the spec's `outputs:` (or, without it, the
outputs nobody consumes). For every operation of the model (input layers, layers, and the mask
operations Keras inserts) it records shapes, parameters, weights and the "Connected to" entries,
plus the text of `model.summary()`. A case with `run:` is also run with `model.predict`, as in
scripts/record_keras_reference.py (Keras builds a ConvLSTM given initial states of the wrong shape
and fails only when it runs).

Run it like scripts/record_keras_reference.py (whose helpers it reuses):

    TF_CPP_MIN_LOG_LEVEL=3 /tmp/kerasenv/bin/python scripts/record_keras_functional.py
"""

import importlib.util
import json
import os
import re
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("record_keras_reference",
                                               os.path.join(HERE, "record_keras_reference.py"))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)  # sets PYTHONHASHSEED (re-exec), COLUMNS, imports keras

keras = base.keras
tf = base.tf
ROOT = base.ROOT
DEFAULT_CASES = os.path.join(ROOT, "tests", "fixtures", "keras", "functional_cases.yaml")
DEFAULT_OUT = os.path.join(ROOT, "tests", "fixtures", "keras", "functional_reference.json")
REFERENCE = re.compile(r"^\s*([^\[\]]+?)\s*(?:\[\s*(-?\d+)\s*\])?\s*$")


def parse_reference(text):
    match = REFERENCE.match(text)
    if match is None:
        raise base.SpecError(f"bad reference {text!r}")
    return match.group(1), (int(match.group(2)) if match.group(2) is not None else None)


def as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def make_inputs(spec):
    inputs = {}
    declared = spec["inputs"]
    items = declared.items() if isinstance(declared, dict) else [(d["name"], d) for d in declared]
    for name, value in items:
        if isinstance(value, list):
            value = {"shape": value}
        inputs[name] = keras.Input(shape=tuple(value["shape"]), dtype=value.get("dtype"), name=name,
                                   batch_size=value.get("batch_size", spec.get("batch_size")))
    return inputs


def run_case(case):
    spec = case["spec"]
    keras.backend.clear_session()
    result = {"note": case.get("note"), "tags": list(case.get("tags") or []), "spec": spec,
              "error": None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            tensors = make_inputs(spec)  # name -> tensor or list of tensors
        except Exception as exc:  # noqa: BLE001
            result["error"] = base.error_record("input", None, exc)
            tensors = None
        entries = []
        if tensors is not None:
            for index, entry in enumerate(spec["layers"]):
                config = dict(entry) if isinstance(entry, dict) else None
                wiring = {}
                if config is not None:
                    for key in ("inputs", "initial_state"):
                        if key in config:
                            # `inputs: [a]` is a list of one tensor; `inputs: a` is the tensor itself
                            wiring[key + "_is_list"] = isinstance(config[key], list)
                            wiring[key] = as_list(config.pop(key))
                try:
                    layer = base.build_layer(config if config is not None else entry)
                except base.SpecError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    result["error"] = base.error_record("construct", index, exc)
                    break
                entries.append((index, layer, wiring))
        consumed = set()
        if result["error"] is None:
            pending = list(entries)
            previous = None
            order = []
            # Default wiring: a layer without `inputs:` takes the previous layer in file order.
            for position, (index, layer, wiring) in enumerate(entries):
                if "inputs" not in wiring:
                    wiring["inputs"] = [entries[position - 1][1].name] if position else [next(iter(tensors))]
            while pending:
                progressed = False
                # Call the first ready layer in file order, then look again from the start
                # (the order lstmcalc's topological sort uses, so mask operations get the same names).
                for item in list(pending):
                    index, layer, wiring = item
                    names = [parse_reference(r)[0] for r in wiring["inputs"] + wiring.get("initial_state", [])]
                    if all(name in tensors for name in names):
                        order.append(item)
                        pending.remove(item)
                        progressed = True
                        try:
                            args = [pick(tensors, r) for r in wiring["inputs"]]
                            if len(args) == 1 and not wiring.get("inputs_is_list"):
                                x = args[0]
                            else:
                                x = [t for a in args for t in (a if isinstance(a, list) else [a])]
                            kwargs = {}
                            if wiring.get("initial_state"):
                                kwargs["initial_state"] = [pick(tensors, r) for r in wiring["initial_state"]]
                            output = layer(x, **kwargs)
                        except Exception as exc:  # noqa: BLE001
                            result["error"] = base.error_record("call", index, exc)
                            pending = []
                            break
                        tensors[layer.name] = list(output) if isinstance(output, (list, tuple)) else output
                        consumed.update(names)
                        break
                if not progressed:
                    break
        model = None
        if result["error"] is None:
            try:
                input_tensors = [tensors[name] for name in make_input_names(spec)]
                if "outputs" in spec:
                    outputs = [pick(tensors, r) for r in as_list(spec["outputs"])]
                    outputs = [t for o in outputs for t in (o if isinstance(o, list) else [o])]
                else:
                    outputs = []
                    for index, layer, wiring in entries:
                        if layer.name not in consumed:
                            value = tensors[layer.name]
                            outputs.extend(value if isinstance(value, list) else [value])
                model = keras.Model(input_tensors, outputs if len(outputs) > 1 else outputs[0],
                                    name=spec.get("name"))
            except Exception as exc:  # noqa: BLE001
                result["error"] = base.error_record("model", None, exc)
    result["ok"] = result["error"] is None
    result["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
    result["operations"] = []
    result["summary"] = None
    result["totals"] = None
    if model is not None:
        for operation in model._operations:
            result["operations"].append(record_operation(operation, model))
        result["model_name"] = model.name
        result["outputs"] = [connection(t) for t in keras.tree.flatten(model.outputs)]
        result["totals"] = {"params": int(model.count_params()),
                            "trainable_params": base.count(model.trainable_weights),
                            "non_trainable_params": base.count(model.non_trainable_weights)}
        lines = []
        model.summary(line_length=None, print_fn=lambda text, **kwargs: lines.append(text))
        result["summary"] = "\n".join(lines)
    options = base.run_options(case)
    if options is not None:
        result["run"] = base.run_model(model, case["id"], options) if model is not None else None
    return result


def make_input_names(spec):
    declared = spec["inputs"]
    return list(declared) if isinstance(declared, dict) else [d["name"] for d in declared]


def pick(tensors, reference):
    name, index = parse_reference(reference)
    value = tensors[name]
    if index is None:
        return value
    return value[index]


def connection(tensor):
    history = tensor._keras_history
    return [history.operation.name, history.node_index, history.tensor_index]


def record_operation(operation, model):
    is_layer = isinstance(operation, keras.layers.Layer)
    node = operation._inbound_nodes[0]
    record = {
        "name": operation.name,
        "class_name": operation.__class__.__name__,
        "is_layer": is_layer,
        "output_shapes": [base.shape_list(t.shape) for t in keras.tree.flatten(node.output_tensors)],
        "connected_to": [connection(t) for t in node.input_tensors] if not node.is_input else [],
    }
    if is_layer and not isinstance(operation, keras.layers.InputLayer):
        layer_record = base.record_layer(operation, model.name, True)
        for key in ("params", "trainable_params", "non_trainable_params", "weights"):
            record[key] = layer_record[key]
    return record


def main(argv=None):
    args, cases = base.parse_arguments(__doc__.splitlines()[0], DEFAULT_CASES, DEFAULT_OUT, argv)
    results = {case["id"]: run_case(case) for case in cases}
    document = {"keras_version": keras.__version__, "tensorflow_version": tf.__version__,
                "backend": keras.backend.backend(), "cases": results}
    text = json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    if args.only:
        sys.stdout.write(text)
        return 0
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(text)
    ok = sum(1 for r in results.values() if r["ok"])
    print(f"recorded {len(results)} cases ({ok} ok, {len(results) - ok} rejected) -> {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
