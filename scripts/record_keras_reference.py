#!/usr/bin/env python3
"""Record reference behaviour of REAL Keras 3 for lstmcalc's test-suite.

Reads  tests/fixtures/keras/sequential_cases.yaml   (list of {id, note, spec})
Writes tests/fixtures/keras/sequential_reference.json

Every case is built in real Keras exactly the way a user would build it:

    keras.backend.clear_session()          # default names restart (lstm, lstm_1, ...)
    model = keras.Sequential(name=spec.get("name"))
    model.add(keras.Input(shape=..., batch_size=..., dtype=..., name=...))
    for each spec layer:  construct it, then model.add(it)   (Keras builds eagerly)

The first exception stops the case and is recorded with the stage where it
happened ("input": keras.Input() itself, "construct": the layer constructor,
"add": model.add(), i.e. Keras rejected the layer while building).

This script is the ONLY place that needs TensorFlow. The tests read the JSON.

How to run (from the repository root):

    python3 -m venv /tmp/kerasenv
    /tmp/kerasenv/bin/pip install tensorflow-cpu pyyaml
    TF_CPP_MIN_LOG_LEVEL=3 /tmp/kerasenv/bin/python scripts/record_keras_reference.py

Options: --cases PATH, --out PATH, --only ID [ID ...] (print those cases to
stdout instead of writing the file; handy when exploring Keras behaviour).

Layer entries given as strings in Keras call syntax (e.g.
"Bidirectional(LSTM(32, return_sequences=True))") are evaluated with eval() in
a namespace that contains only the classes of keras.layers. That is acceptable
here because this is a recording tool run by developers on the repository's
own fixtures; it is never shipped.
"""

import json
import os
import re
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recorder_cases import load_cases, parse_arguments, pin_hash_seed  # noqa: E402,F401  (record_keras_numerics imports them from here)

pin_hash_seed()  # Keras messages print Python sets (e.g. the allowed `padding` values)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# model.summary(print_fn=...) renders through a rich Console whose width comes
# from $COLUMNS (80 when unset and not a tty), which would truncate the
# 88-column table. Make it wide enough and independent of the terminal.
os.environ["COLUMNS"] = "200"

import numpy as np  # noqa: E402

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CASES = os.path.join(ROOT, "tests", "fixtures", "keras", "sequential_cases.yaml")
DEFAULT_OUT = os.path.join(ROOT, "tests", "fixtures", "keras", "sequential_reference.json")

SUMMARY_LINE_LENGTH = 88

# Only the layer classes of keras.layers; no builtins.
LAYER_NAMESPACE = {
    name: obj
    for name, obj in vars(keras.layers).items()
    if isinstance(obj, type) and not name.startswith("_")
}

# Keys of a dict layer entry that hold a nested layer (wrappers).
NESTED_LAYER_KEYS = ("layer", "backward_layer")


class SpecError(Exception):
    """The fixture itself is malformed (a bug in the YAML, not Keras behaviour)."""


# --------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------


def build_layer(entry):
    """Construct a Keras layer from a spec entry (dict or call-syntax string)."""
    if isinstance(entry, str):
        return eval(entry, {"__builtins__": {}}, dict(LAYER_NAMESPACE))  # noqa: S307
    if isinstance(entry, dict):
        kwargs = dict(entry)
        if "type" not in kwargs:
            raise SpecError(f"layer entry without 'type': {entry!r}")
        type_name = kwargs.pop("type")
        if type_name not in LAYER_NAMESPACE:
            raise SpecError(f"unknown layer type {type_name!r}")
        for key in NESTED_LAYER_KEYS:
            if isinstance(kwargs.get(key), (dict, str)):
                kwargs[key] = build_layer(kwargs[key])
        return LAYER_NAMESPACE[type_name](**kwargs)
    raise SpecError(f"layer entry must be a dict or a string: {entry!r}")


def parse_input(spec):
    """Return (shape, dtype, name) or None when the spec has no input."""
    inp = spec.get("input")
    if inp is None:
        return None
    if isinstance(inp, list):
        return tuple(inp), None, None
    if isinstance(inp, dict):
        if "shape" not in inp:
            raise SpecError(f"input mapping without 'shape': {inp!r}")
        return tuple(inp["shape"]), inp.get("dtype"), inp.get("name")
    raise SpecError(f"input must be a list or a mapping: {inp!r}")


# --------------------------------------------------------------------------
# recording helpers
# --------------------------------------------------------------------------


def shape_list(shape):
    return [None if d is None else int(d) for d in shape]


def flat(x):
    return list(keras.tree.flatten(x))


def count(variables):
    return int(sum(int(np.prod(v.shape)) for v in variables))


_LAYER_NAME_PATTERNS = [
    re.compile(r"""of layer ['"]([^'"]+)['"]"""),
    re.compile(r"""[Ll]ayer ['"]([^'"]+)['"]"""),
    re.compile(r"""Name ['"]([^'"]+)['"] is already the name of a layer"""),
]


# "... for variable path='<model>/<layer>/...'" names the (top-level) layer.
_VARIABLE_PATH_PATTERN = re.compile(r"""variable path='[^'/]+/([^'/]+)[/']""")

# Errors raised inside a layer's call() are re-raised by Keras as
#   "Exception encountered when calling <Class>.call().\n\n\x1b[1m<core>\x1b[0m\n\n
#    Arguments received by <Class>.call():\n  ..."
_CALL_CONTEXT_PATTERN = re.compile(
    r"^Exception encountered when calling [^\n]*\n\n\x1b\[1m(.*?)\x1b\[0m\n", re.S
)


def layer_name_from_message(message):
    for pattern in _LAYER_NAME_PATTERNS + [_VARIABLE_PATH_PATTERN]:
        m = pattern.search(message)
        if m:
            return m.group(1)
    return None


def core_message(message):
    m = _CALL_CONTEXT_PATTERN.match(message)
    return m.group(1) if m else message


def error_record(stage, layer_index, exc):
    message = str(exc)
    return {
        "stage": stage,
        "layer_index": layer_index,
        "type": type(exc).__name__,
        "message": message,
        # message without Keras's "Exception encountered when calling X.call()"
        # wrapper (ANSI bold codes and argument dump); equal to message otherwise
        "core_message": core_message(message),
        "layer_name": layer_name_from_message(message),
    }


def strip_model_prefix(path, model_name):
    prefix = model_name + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


def record_layer(layer, model_name, built):
    rec = {
        "name": layer.name,
        "class_name": layer.__class__.__name__,
        "trainable": bool(layer.trainable),
    }
    if built:
        outputs = flat(layer.output)
        inputs = flat(layer.input)
        rec["output_shapes"] = [shape_list(t.shape) for t in outputs]
        rec["output_dtypes"] = [str(t.dtype) for t in outputs]
        rec["input_shapes"] = [shape_list(t.shape) for t in inputs]
    else:
        rec["output_shapes"] = None
        rec["output_dtypes"] = None
        rec["input_shapes"] = None
    if layer.built:
        counted_trainable = {id(v) for v in layer.trainable_weights}
        rec["params"] = int(layer.count_params())
        rec["trainable_params"] = count(layer.trainable_weights)
        rec["non_trainable_params"] = count(layer.non_trainable_weights)
        rec["weights"] = [
            {
                "name": v.name,
                "path": strip_model_prefix(v.path, model_name),
                "shape": shape_list(v.shape),
                # counted in layer.trainable_weights (what the summary counts)
                "trainable": id(v) in counted_trainable,
                # the variable's own flag; model totals count by this. Differs from
                # "trainable" for wrappers built with trainable=False.
                "variable_trainable": bool(v.trainable),
            }
            for v in layer.weights
        ]
    else:
        rec["params"] = None
        rec["trainable_params"] = None
        rec["non_trainable_params"] = None
        rec["weights"] = None
    return rec


def input_record(input_layer):
    return {
        "name": input_layer.name,
        "shape": shape_list(input_layer.batch_shape),
        "dtype": str(input_layer.dtype),
    }


# --------------------------------------------------------------------------
# one case
# --------------------------------------------------------------------------


def run_case(case):
    spec = case["spec"]
    if not isinstance(spec, dict) or not isinstance(spec.get("layers"), list):
        raise SpecError(f"case {case.get('id')!r}: spec needs a 'layers' list")
    keras.backend.clear_session()

    result = {
        "note": case.get("note"),
        "tags": list(case.get("tags") or []),
        "spec": spec,
    }
    error = None
    added = []
    model = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = keras.Sequential(name=spec.get("name"))
        parsed = parse_input(spec)
        if parsed is not None:
            shape, dtype, name = parsed
            try:
                model.add(
                    keras.Input(
                        shape=shape,
                        batch_size=spec.get("batch_size"),
                        dtype=dtype,
                        name=name,
                    )
                )
            except Exception as exc:  # noqa: BLE001
                error = error_record("input", None, exc)
        if error is None:
            for index, entry in enumerate(spec["layers"]):
                try:
                    layer = build_layer(entry)
                except SpecError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    error = error_record("construct", index, exc)
                    break
                try:
                    model.add(layer)
                except Exception as exc:  # noqa: BLE001
                    error = error_record("add", index, exc)
                    break
                added.append(layer)

    result["model_name"] = model.name
    input_layers = [
        lyr for lyr in model._layers if isinstance(lyr, keras.layers.InputLayer)
    ]
    result["inputs"] = [input_record(lyr) for lyr in input_layers]
    result["ok"] = error is None
    result["error"] = error
    # With an Input, Keras builds (calls) every layer as it is added; without
    # one (and without a first-layer input_shape) the model stays unbuilt.
    result["built"] = bool(input_layers) and all(
        layer._inbound_nodes for layer in added
    )
    result["layers"] = [
        record_layer(layer, model.name, result["built"]) for layer in added
    ]
    result["warnings"] = [
        f"{w.category.__name__}: {w.message}" for w in caught
    ]
    result["totals"] = None
    result["summary"] = None
    if error is None:
        if result["built"]:
            result["totals"] = {
                "params": int(model.count_params()),
                "trainable_params": count(model.trainable_weights),
                "non_trainable_params": count(model.non_trainable_weights),
            }
            lines = []
            model.summary(
                line_length=SUMMARY_LINE_LENGTH,
                print_fn=lambda text, **kwargs: lines.append(text),
            )
            result["summary"] = "\n".join(lines)
    return result


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def main(argv=None):
    args, cases = parse_arguments(__doc__.splitlines()[0], DEFAULT_CASES, DEFAULT_OUT, argv)
    results = {}
    for case in cases:
        results[case["id"]] = run_case(case)

    document = {
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        "backend": keras.backend.backend(),
        "summary_line_length": SUMMARY_LINE_LENGTH,
        "cases": results,
    }
    text = json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    if args.only:
        sys.stdout.write(text)
        return 0
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(text)
    n_ok = sum(1 for r in results.values() if r["ok"])
    print(
        f"recorded {len(results)} cases ({n_ok} ok, {len(results) - n_ok} rejected) "
        f"with keras {keras.__version__} / tensorflow {tf.__version__} -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
