#!/usr/bin/env python3
"""Record what REAL Keras 3 computes, for the verifier's numeric tests.

Reads  tests/fixtures/keras/numerics_cases.yaml
Writes tests/fixtures/keras/numerics/<id>.npz, one small file per case, holding
    spec                 the lstmcalc spec, as JSON text
    meta                 JSON text: keras and tensorflow versions, note, initial_state layer
    weights/<key>        every weight, keyed <layer>/<weight> exactly as the export recipe
                         (docs/guides/verify.md)
    inputs/<name>        the input array(s)
    initial_state/<i>    the initial states given to the `initial_state` layer, if any
    outputs/<key>        the model's outputs, keyed as `lstmcalc verify --output` keys them

Each case is built as a functional model, layer after layer as a Sequential stack would be (each
layer gets all outputs of the one before), with every weight — biases and moving statistics
included — set to seeded random values, so that layouts and gate orders are really exercised.

Run from the repository root (TensorFlow lives only in a throwaway environment):

    TF_CPP_MIN_LOG_LEVEL=3 /tmp/kerasenv/venv/bin/python scripts/record_keras_numerics.py
    ... --only lstm-last gru-reset-before        # a few cases, still written

Output is deterministic for a given Keras/TensorFlow build (seed per case from its id).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from record_keras_reference import ROOT, build_layer, case_rng, parse_arguments, parse_input  # noqa: E402  (sets up Keras's env)

import numpy as np  # noqa: E402

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras.src.backend.tensorflow import nn as tensorflow_nn  # noqa: E402

DEFAULT_CASES = os.path.join(ROOT, "tests", "fixtures", "keras", "numerics_cases.yaml")
DEFAULT_OUT = os.path.join(ROOT, "tests", "fixtures", "keras", "numerics")
POSITIVE = ("moving_variance", "moving_stddev", "renorm_stddev")


# TensorFlow's CPU kernels cannot run channels_first 1-D/2-D convolutions ("The Conv2D op currently
# only supports the NHWC tensor format on the CPU"); Keras itself compiles channels_first 3-D and
# grouped convolutions with XLA for that reason. Do the same for every channels_first convolution
# (ops.conv looks the backend function up at each call); meta records that a case needed it.
_keras_conv = tensorflow_nn.conv
_xla_conv_used = []


def _conv_channels_first_with_xla(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    if (keras.config.image_data_format() if data_format is None else data_format) == "channels_first":
        _xla_conv_used.append(True)
        return tf.function(_keras_conv, jit_compile=True)(inputs, kernel, strides, padding, data_format,
                                                           dilation_rate)
    return _keras_conv(inputs, kernel, strides, padding, data_format, dilation_rate)


tensorflow_nn.conv = _conv_channels_first_with_xla


def meta_text(case, initial_state):
    meta = {"keras_version": keras.__version__, "tensorflow_version": tf.__version__,
            "note": case.get("note"), "initial_state": initial_state}
    if _xla_conv_used:
        meta["channels_first_conv_via_xla"] = True
    return np.array(json.dumps(meta, sort_keys=True))


def state_shapes(recurrent, tensor):
    """Shapes (without the batch axis) of the initial states the RNN layer `recurrent` takes."""
    cell = recurrent.cell
    if hasattr(cell, "units"):
        count = len(cell.state_size) if isinstance(cell.state_size, (list, tuple)) else 1
        return [(cell.units,)] * count
    # ConvLSTM: h and c both have the shape of one output step
    step = cell.compute_output_shape((None,) + tuple(tensor.shape[2:]))[0]
    return [tuple(step[1:])] * 2


def export_weights(model):
    """The documented recipe (docs/guides/verify.md), verbatim: every weight keyed <layer>/<weight>
    (Bidirectional: <layer>/forward/<weight> and <layer>/backward/<weight>; TimeDistributed: the inner
    layer's)."""
    parts = lambda l: [("forward/", l.forward_layer), ("backward/", l.backward_layer)] if hasattr(l, "forward_layer") else [("", getattr(l, "layer", l))]  # noqa: E731,E501
    return {f"{l.name}/{p}{w.name}": np.asarray(w) for l in model.layers for p, s in parts(l) for w in s.weights}


def randomise_weights(model, rng):
    for variable in model.weights:
        shape = tuple(variable.shape)
        if variable.name in POSITIVE:
            value = rng.uniform(0.5, 1.5, size=shape)
        else:
            value = rng.uniform(-0.7, 0.7, size=shape)
        variable.assign(value.astype(variable.dtype))


def make_input(case, shape, dtype, layers, rng):
    batch = case.get("batch", 4)
    full = (batch,) + tuple(shape)
    embeddings = [layer for layer in layers if isinstance(layer, keras.layers.Embedding)]
    if dtype and dtype.startswith("int"):
        high = embeddings[0].input_dim if embeddings else 10
        array = rng.integers(1, high, size=full).astype(dtype)
        pad_value = 0
    else:
        low, high = case.get("input_range", [-1, 1])
        array = rng.uniform(low, high, size=full).astype("float32")
        maskings = [layer for layer in layers if isinstance(layer, keras.layers.Masking)]
        pad_value = maskings[0].mask_value if maskings else 0.0
    for row, start, stop, *inner in case.get("pad", []):
        # [row, start, stop] pads whole steps; further (start, stop) pairs pad only part of each
        # step along the next axes (e.g. some pixels of a frame)
        array[(row, slice(start, stop)) + tuple(slice(a, b) for a, b in zip(inner[::2], inner[1::2]))] = pad_value
    return array


def keys_for_outputs(last_layer, outputs):
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    if len(outputs) == 1:
        return {last_layer.name: outputs[0]}
    return {f"{last_layer.name}[{index}]": output for index, output in enumerate(outputs)}


def build_graph(spec):
    """A graph spec (`inputs:` by name, per-layer `inputs:` and `initial_state:` references, layers
    in dependency order) as a functional model; a list in `inputs:` is passed to Keras as a list."""
    inputs = {name: keras.Input(shape=tuple(value["shape"]), dtype=value.get("dtype"), name=name)
              for name, value in spec["inputs"].items()}
    tensors = dict(inputs)
    layers = []
    for entry in spec["layers"]:
        entry = dict(entry)
        wiring = entry.pop("inputs")
        states = entry.pop("initial_state", None)
        layer = build_layer(entry)
        picked = [_pick(tensors, reference) for reference in (wiring if isinstance(wiring, list) else [wiring])]
        kwargs = {"initial_state": [_pick(tensors, reference) for reference in states]} if states else {}
        output = layer(picked if isinstance(wiring, list) else picked[0], **kwargs)
        tensors[layer.name] = list(output) if isinstance(output, (list, tuple)) else output
        layers.append(layer)
    return inputs, layers, tensors[layers[-1].name]


def _pick(tensors, reference):
    name, _, index = reference.partition("[")
    value = tensors[name]
    return value[int(index.rstrip("]"))] if index else value


def run_graph_case(case, rng):
    spec = case["spec"]
    inputs, layers, output = build_graph(spec)
    model = keras.Model(list(inputs.values()), output)
    randomise_weights(model, rng)
    arrays_in = {}
    for name, tensor in inputs.items():
        declared = spec["inputs"][name]
        arrays_in[name] = make_input(case, tuple(declared["shape"]), declared.get("dtype"), layers, rng)
    outputs = keras.tree.map_structure(keras.ops.convert_to_numpy,
                                       model([arrays_in[name] for name in inputs], training=False))
    arrays = {"spec": np.array(json.dumps(spec, sort_keys=True)), "meta": meta_text(case, None)}
    for key, value in export_weights(model).items():
        arrays[f"weights/{key}"] = value
    for name, value in arrays_in.items():
        arrays[f"inputs/{name}"] = value
    for key, value in keys_for_outputs(layers[-1], outputs).items():
        arrays[f"outputs/{key}"] = np.asarray(value)
    return arrays


def run_case(case):
    keras.backend.clear_session()
    _xla_conv_used.clear()
    rng = case_rng(case["id"])
    spec = case["spec"]
    if "inputs" in spec:
        return run_graph_case(case, rng)
    shape, dtype, name = parse_input(spec)
    main_input = keras.Input(shape=shape, dtype=dtype, name=name or "input_layer")
    layers = [build_layer(entry) for entry in spec["layers"]]
    state_inputs, state_arrays = [], []
    tensor = main_input
    for layer in layers:
        if layer.name == case.get("initial_state"):
            shapes = state_shapes(getattr(layer, "forward_layer", layer), tensor)
            shapes *= 2 if hasattr(layer, "forward_layer") else 1
            for index, state_shape in enumerate(shapes):
                state_inputs.append(keras.Input(shape=state_shape, name=f"state_{index}"))
            tensor = layer(tensor, initial_state=state_inputs)
        else:
            tensor = layer(tensor)
    model = keras.Model([main_input] + state_inputs, tensor)
    randomise_weights(model, rng)
    x = make_input(case, shape, dtype, layers, rng)
    batch = x.shape[0]
    for state_input in state_inputs:
        state_arrays.append(rng.uniform(-1, 1, size=(batch,) + tuple(state_input.shape[1:])).astype("float32"))
    outputs = model([x] + state_arrays, training=False)
    outputs = keras.tree.map_structure(keras.ops.convert_to_numpy, outputs)

    arrays = {"spec": np.array(json.dumps(spec, sort_keys=True)),
              "meta": meta_text(case, case.get("initial_state"))}
    for key, value in export_weights(model).items():
        arrays[f"weights/{key}"] = value
    arrays[f"inputs/{name or 'input_layer'}"] = x
    for index, value in enumerate(state_arrays):
        arrays[f"initial_state/{index}"] = value
    for key, value in keys_for_outputs(layers[-1], outputs).items():
        arrays[f"outputs/{key}"] = np.asarray(value)
    return arrays


def main(argv=None):
    args, cases = parse_arguments(__doc__.splitlines()[0], DEFAULT_CASES, DEFAULT_OUT, argv)
    os.makedirs(args.out, exist_ok=True)
    for case in cases:
        arrays = run_case(case)
        with open(os.path.join(args.out, case["id"] + ".npz"), "wb") as handle:
            np.savez_compressed(handle, **arrays)
    print(f"recorded {len(cases)} cases with keras {keras.__version__} / tensorflow {tf.__version__} "
          f"-> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
