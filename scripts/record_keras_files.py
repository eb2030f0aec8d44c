#!/usr/bin/env python3
"""Record saved Keras models — .keras archives, model.to_json() files and the Python source that
built them — for lstmcalc's readers (tests/test_keras_files.py).

Writes tests/fixtures/keras_files/:

- ``<id>.py``: the model's source, exactly as a user would write it (the Python reader's fixture).
- ``<id>.keras`` (``model.save``) and ``<id>.json`` (``model.to_json()``) from Keras 3, after every
  weight was set to seeded random values (so biases and gate orders matter to ``verify``).
- ``tf2_<id>.json``: ``model.to_json()`` from tf.keras 2 (``tf_keras``), for the cases marked so.
- ``<id>.inputs.npz``: the recorded input, keyed by input name (``lstmcalc verify --input``), and
  ``<id>.outputs.npz``: the loaded archive's ``predict()`` of it, keyed ``0``, ``1``, ... per output.
- ``reference.json``: per case, what Keras 3 reports for the LOADED model (``load_model`` of the
  archive, ``model_from_json`` of each JSON): ``summary`` text, per layer ``name``, ``class_name``,
  ``output_shapes`` and ``params``, the totals — or the error Keras raised while loading.
- ``round_trip.json`` (``--round-trip``): for every spec in specs/ (PyTorch specs ported by their
  layers' rules), every saved model here and every readable PyTorch source of
  tests/fixtures/pytorch/source/ (read with its case's --input, --batch-size, --class, --set), the
  code ``lstmcalc convert --to keras`` wrote, run here in real Keras: its summary, totals and
  per-layer figures; or what lstmcalc said when it refused (``convert_error``).

Run from the repository root, in two steps (the tf.keras one first, it writes tf2_*.json):

    /tmp/tfkenv/bin/python scripts/record_keras_files.py --tf-keras     # tf_keras 2.x installed
    /work/kerasenv/bin/python scripts/record_keras_files.py             # Keras 3 + h5py
    /work/kerasenv/bin/python scripts/record_keras_files.py --round-trip --lstmcalc .venv/bin/lstmcalc

The model sources are executed here (the recorder's own fixtures); lstmcalc never runs them.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import warnings

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ["COLUMNS"] = "200"

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "keras_files")

# Each case: the source (which must leave the model in `model`), whether tf.keras 2 records it
# too, and how to make its input (`int` inputs get token ids with padding zeros at the end).
CASES = {
    "seed_001_functional": dict(tf2=True, source='''\
from keras.layers import Input, LSTM, Dense
from keras.models import Model

timesteps = 50
features = 10
inp = Input(shape=(timesteps, features,), name="input_layer")
x = LSTM(128, return_sequences=True, name="lstm1")(inp)
x = LSTM(64, return_sequences=False, name="lstm2")(x)
x = Dense(128, activation="relu", name="dense1")(x)
x = Dense(64, activation="relu", name="dense2")(x)
x = Dense(1, activation='sigmoid', name="output")(x)
model = Model(inputs=inp, outputs=x)
model.compile(loss='binary_crossentropy', optimizer='adam')
'''),
    "seed_000_lstm_dense": dict(tf2=True, source='''\
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import LSTM, Dense

model = Sequential([
    LSTM(50, return_sequences=False, input_shape=(10, 5)),
    Dense(10, activation='relu'),
    Dense(1, activation='sigmoid')
])
'''),
    "stacked_dropout": dict(tf2=False, source='''\
import keras
from keras import layers

model = keras.Sequential([
    keras.Input((30, 8)),
    layers.LSTM(64, return_sequences=True),
    layers.Dropout(0.2),
    layers.LSTM(32),
    layers.Dense(1),
], name="forecaster")
'''),
    "bidirectional": dict(tf2=True, source='''\
import tensorflow as tf

model = tf.keras.Sequential()
model.add(tf.keras.layers.Input(shape=(20, 8)))
model.add(tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(16, return_sequences=True)))
model.add(tf.keras.layers.Bidirectional(tf.keras.layers.GRU(8), merge_mode="sum"))
model.add(tf.keras.layers.Dense(3, activation="softmax"))
'''),
    "embedding_mask": dict(tf2=True, source='''\
from keras import Sequential, Input
from keras.layers import Embedding, LSTM, Dense

vocabulary = 1000
model = Sequential([
    Input(shape=(None,), dtype="int32"),
    Embedding(vocabulary, 32, mask_zero=True),
    LSTM(16),
    Dense(1, activation="sigmoid"),
])
'''),
    "gru_reset_after": dict(tf2=True, source='''\
from keras import layers, models

model = models.Sequential([
    layers.Input((12, 6)),
    layers.GRU(10, return_sequences=True),
    layers.GRU(5, reset_after=False),
    layers.Dense(1),
])
'''),
    "time_distributed": dict(tf2=False, source='''\
import keras
from keras import layers

steps = 15
model = keras.Sequential([
    keras.Input(shape=(steps, 4)),
    layers.LSTM(12, return_sequences=True),
    layers.TimeDistributed(layers.Dense(3)),
])
'''),
    "seq2seq": dict(tf2=True, source='''\
import keras
from keras import layers

latent_dim = 16
encoder_inputs = keras.Input(shape=(None, 7), name="encoder_inputs")
encoder_outputs, state_h, state_c = layers.LSTM(latent_dim, return_state=True, name="encoder")(encoder_inputs)
decoder_inputs = keras.Input(shape=(None, 5), name="decoder_inputs")
decoder_lstm = layers.LSTM(latent_dim, return_sequences=True, name="decoder")
decoder_outputs = decoder_lstm(decoder_inputs, initial_state=[state_h, state_c])
decoder_outputs = layers.Dense(5, activation="softmax", name="projection")(decoder_outputs)
model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)
'''),
    "nested": dict(tf2=False, source='''\
import keras
from keras import layers

encoder = keras.Sequential([
    keras.Input((24, 3)),
    layers.LSTM(20, return_sequences=True),
    layers.LSTM(10),
], name="encoder")
inputs = keras.Input((24, 3), name="series")
features = encoder(inputs)
outputs = layers.Dense(2, name="head")(features)
model = keras.Model(inputs, outputs, name="forecaster")
'''),
    "shared": dict(tf2=False, source='''\
import keras
from keras import layers

left = keras.Input((9, 4), name="left")
right = keras.Input((9, 4), name="right")
encoder = layers.LSTM(6, name="shared_lstm")
merged = layers.concatenate([encoder(left), encoder(right)])
outputs = layers.Dense(1, activation="sigmoid")(merged)
model = keras.Model(inputs=[left, right], outputs=outputs)
'''),
    "convlstm2d": dict(tf2=False, source='''\
import keras
from keras import layers

model = keras.Sequential([
    keras.Input((5, 8, 8, 1)),
    layers.ConvLSTM2D(4, 3),
    layers.Flatten(),
    layers.Dense(1),
])
'''),
    "dtype_policy": dict(tf2=False, source='''\
import keras
from keras import layers

model = keras.Sequential([
    keras.Input((10, 3)),
    layers.LSTM(8, return_sequences=True, dtype="float64",
                kernel_initializer=keras.initializers.GlorotUniform(seed=1)),
    layers.GRU(4, dtype="mixed_float16"),
    layers.Dense(2),
])
'''),
    "merges": dict(tf2=True, source='''\
from keras import Input, Model
from keras.layers import LSTM, GRU, Dense, Concatenate, Add

series = Input((16, 5), name="series")
a = LSTM(8, name="lstm_a")(series)
b = GRU(8, name="gru_b")(series)
summed = Add()([a, b])
joined = Concatenate()([a, b, summed])
out = Dense(1)(joined)
model = Model(series, out)
'''),
}

SEED = 11
BATCH = 3


def build(source, keras_module):
    """Run a case's source (the recorder's own fixture) and return its `model`."""
    namespace = {}
    exec(compile(source, "<case>", "exec"), namespace)  # noqa: S102
    return namespace["model"]


def randomise(model, keras_module, rng):
    for variable in model.weights:
        value = rng.uniform(-0.5, 0.5, size=tuple(variable.shape))
        variable.assign(value.astype(variable.dtype))


def make_inputs(model, rng, timesteps=6):
    arrays = {}
    for tensor in model.inputs:
        shape = [BATCH] + [dim if dim is not None else timesteps for dim in tensor.shape[1:]]
        if "int" in str(tensor.dtype):
            array = rng.integers(1, 50, size=shape).astype("int32")
            array[0, -2:] = 0  # padding at the end of sample 0: the mask matters
        else:
            array = rng.uniform(-1, 1, size=shape).astype("float32")
        arrays[tensor._keras_history.operation.name] = array  # the InputLayer's name
    return arrays


def shape_list(shape):
    return None if shape is None else [None if dim is None else int(dim) for dim in shape]


def summary_text(model):
    lines = []
    model.summary(print_fn=lambda line, **kwargs: lines.append(line))
    return "\n".join(lines) + "\n"


def describe(model):
    """What Keras reports about a (loaded) model: summary, layers, totals."""
    import keras

    layers = []
    for layer in model.layers:
        outputs = []
        for node in layer._inbound_nodes:
            tensors = node.output_tensors
            outputs.append([shape_list(tensor.shape) for tensor in tensors])
        layers.append({"name": layer.name, "class_name": type(layer).__name__,
                       "output_shapes": outputs, "params": int(layer.count_params()) if layer.built else None})
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    total = sum(int(np.prod(v.shape)) for v in model.weights)
    return {"keras_version": keras.__version__, "summary": summary_text(model), "layers": layers,
            "totals": {"params": total, "trainable_params": trainable, "non_trainable_params": total - trainable},
            "error": None}


def error_record(exc):
    return {"error": {"type": type(exc).__name__, "message": str(exc)[:2000]}}


def record_tf_keras():
    import tf_keras

    sys.modules["keras"] = tf_keras  # the sources say `import keras`/`tensorflow.keras`
    import tensorflow as tf

    tf.keras = tf_keras
    sys.modules["tensorflow.keras"] = tf_keras
    sys.modules["tensorflow.keras.layers"] = tf_keras.layers
    sys.modules["tensorflow.keras.models"] = tf_keras.models
    sys.modules["keras.layers"] = tf_keras.layers
    sys.modules["keras.models"] = tf_keras.models
    versions = {}
    for case_id, case in CASES.items():
        if not case["tf2"]:
            continue
        tf_keras.backend.clear_session()
        model = build(case["source"], tf_keras)
        with open(os.path.join(OUT, f"tf2_{case_id}.json"), "w", encoding="utf-8") as handle:
            handle.write(model.to_json())
        lines = []
        model.summary(print_fn=lambda line, **kwargs: lines.append(line))
        versions[case_id] = {"tf_keras_version": tf_keras.__version__, "summary": "\n".join(lines) + "\n"}
        print("tf.keras", case_id)
    with open(os.path.join(OUT, "tf2_reference.json"), "w", encoding="utf-8") as handle:
        json.dump(versions, handle, indent=1, sort_keys=True)
        handle.write("\n")


def record_keras3(only):
    import keras

    reference_path = os.path.join(OUT, "reference.json")
    reference = {}
    if os.path.exists(reference_path):
        with open(reference_path, encoding="utf-8") as handle:
            reference = json.load(handle)
    rng = np.random.default_rng(SEED)
    for case_id, case in CASES.items():
        if only and case_id not in only:
            continue
        rng = np.random.default_rng([SEED, sorted(CASES).index(case_id)])
        keras.backend.clear_session()
        warnings.simplefilter("ignore")
        with open(os.path.join(OUT, f"{case_id}.py"), "w", encoding="utf-8") as handle:
            handle.write(case["source"])
        model = build(case["source"], keras)
        randomise(model, keras, rng)
        archive = os.path.join(OUT, f"{case_id}.keras")
        model.save(archive)
        with open(os.path.join(OUT, f"{case_id}.json"), "w", encoding="utf-8") as handle:
            handle.write(model.to_json())
        entry = {"source": describe(model)}
        keras.backend.clear_session()
        loaded = keras.saving.load_model(archive, compile=False)
        entry["keras"] = describe(loaded)
        inputs = make_inputs(loaded, rng)
        arrays = list(inputs.values())
        predicted = loaded.predict(arrays if len(arrays) > 1 else arrays[0], verbose=0)
        outputs = predicted if isinstance(predicted, list) else [predicted]
        np.savez(os.path.join(OUT, f"{case_id}.inputs.npz"), **inputs)
        np.savez(os.path.join(OUT, f"{case_id}.outputs.npz"),
                 **{str(index): np.asarray(array) for index, array in enumerate(outputs)})
        for label, path in (("json", f"{case_id}.json"), ("tf2_json", f"tf2_{case_id}.json")):
            full = os.path.join(OUT, path)
            if not os.path.exists(full) or (label == "tf2_json" and not case["tf2"]):
                continue
            keras.backend.clear_session()
            with open(full, encoding="utf-8") as handle:
                text = handle.read()
            try:
                entry[label] = describe(keras.models.model_from_json(text))
            except Exception as exc:  # noqa: BLE001  (recorded: what Keras 3 does with the file)
                entry[label] = error_record(exc)
        reference[case_id] = entry
        print("keras", case_id, entry["keras"]["totals"])
    with open(reference_path, "w", encoding="utf-8") as handle:
        json.dump(reference, handle, indent=1, sort_keys=True)
        handle.write("\n")


def pytorch_sources():
    """(name, path, lstmcalc options) of the readable PyTorch sources (their case file)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from recorder_cases import load_cases, source_options

    fixtures = os.path.join(ROOT, "tests", "fixtures", "pytorch")
    sources = []
    for case in load_cases(os.path.join(fixtures, "source_cases.yaml"), ("id", "file", "class", "input")):
        if case.get("reader") != "read":
            continue
        options = source_options(case)
        sources.append((f"pytorch_source/{case['id']}", os.path.join(fixtures, "source", case["file"]), options))
    return sources


def record_round_trip(lstmcalc):
    import keras

    results = {}
    specs = sorted(name for name in os.listdir(os.path.join(ROOT, "specs")) if name.endswith(".yaml"))
    sources = [(name, os.path.join(ROOT, "specs", name)) for name in specs]
    # The saved models too: their configs list every argument, nested models included.
    sources += [(f"keras_files/{case}.keras", os.path.join(OUT, f"{case}.keras")) for case in sorted(CASES)]
    sources = [(name, path, []) for name, path in sources] + pytorch_sources()
    for name, path, options in sources:
        # Relative to the repository root, so that no message records where it was checked out.
        converted = subprocess.run([lstmcalc, "convert", os.path.relpath(path, ROOT), "--to", "keras"] + options,
                                   capture_output=True, text=True, cwd=ROOT)
        if converted.returncode != 0:
            results[name] = {"code": None, "convert_error": converted.stderr.strip()}
            print("round trip", name, "not converted")
            continue
        code = converted.stdout
        keras.backend.clear_session()
        entry = {"code": code}
        try:
            model = build(code, keras)
            entry.update(describe(model))
        except Exception as exc:  # noqa: BLE001
            entry.update(error_record(exc))
        results[name] = entry
        print("round trip", name, entry.get("totals") or entry.get("error"))
    with open(os.path.join(OUT, "round_trip.json"), "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1, sort_keys=True)
        handle.write("\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tf-keras", action="store_true", help="record tf2_*.json with tf_keras")
    parser.add_argument("--round-trip", action="store_true", help="run `lstmcalc convert --to keras` "
                        "for every spec in specs/ and record what Keras makes of the code")
    parser.add_argument("--lstmcalc", default=os.path.join(ROOT, ".venv", "bin", "lstmcalc"))
    parser.add_argument("--only", nargs="*", help="record only these cases")
    args = parser.parse_args(argv)
    os.makedirs(OUT, exist_ok=True)
    if args.tf_keras:
        record_tf_keras()
    elif args.round_trip:
        record_round_trip(os.path.abspath(args.lstmcalc))
    else:
        record_keras3(args.only)


if __name__ == "__main__":
    main()
