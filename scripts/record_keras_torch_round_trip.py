#!/usr/bin/env python3
"""Record what real Keras makes of the Keras code lstmcalc writes from PyTorch code it wrote itself:
for every spec in specs/ and every valid random Keras graph (tests/fixtures/keras/random_*graph*),
``lstmcalc convert MODEL --to pytorch``, then that PyTorch file read back as its header says
(``--input``, ``--batch-size``, ``--dtype``) and ``lstmcalc convert --to keras``; the Keras code is
built and run here on a random input (tests/test_torch_keras_round_trip.py).

Writes tests/fixtures/keras/torch_round_trip.json: per model, the PyTorch code, the Keras code, and
what Keras reports for it (per layer ``name``, ``class_name``, ``output_shapes``, ``params``; the
totals; the shapes of the model's outputs when it runs) — or what lstmcalc said when it refused
(``pytorch_error`` / ``keras_error``).

    /work/kerasenv/bin/python scripts/record_keras_torch_round_trip.py --lstmcalc .venv/bin/lstmcalc

The written code is executed here (the recorder's own fixture); lstmcalc never runs it.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import warnings

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record_keras_files import build, describe, error_record, shape_list  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "keras", "torch_round_trip.json")
RANDOM_GRAPHS = ["random_graph_seed31_reference.json", "random_wide_graph_seed42_reference.json"]
HEADER = "Read it back with: lstmcalc summary <this file> "


def models():
    """(name, spec text) of every bundled spec and every random Keras graph Keras built and ran."""
    found = []
    for name in sorted(os.listdir(os.path.join(ROOT, "specs"))):
        if name.endswith(".yaml"):
            with open(os.path.join(ROOT, "specs", name), encoding="utf-8") as handle:
                found.append((name, handle.read()))
    for file in RANDOM_GRAPHS:
        with open(os.path.join(ROOT, "tests", "fixtures", "keras", file), encoding="utf-8") as handle:
            cases = json.load(handle)["cases"]
        for case_id, case in sorted(cases.items()):
            if case.get("ok", case.get("error") is None) and not case.get("run", {}).get("error"):
                found.append((f"keras/{case_id}", yaml.safe_dump(case["spec"], sort_keys=False)))
    return found


def convert(lstmcalc, path, target, options=()):
    done = subprocess.run([lstmcalc, "convert", path, "--to", target, *options], capture_output=True, text=True,
                          cwd=os.path.dirname(path))
    return (done.stdout, None) if done.returncode == 0 else (None, done.stderr.strip())


def read_back_options(code):
    """The options the written PyTorch code's header gives for reading it back."""
    for line in code.splitlines():
        if line.startswith(HEADER):
            return shlex.split(line[len(HEADER):])
    raise ValueError("the PyTorch code does not say how to read it back")


def run_shapes(model, rng, timesteps=6, batch=2):
    """The shapes of the model's outputs on a random input (an unknown length: the size another
    input has on that axis, which a merge may need it to equal; else ``timesteps``)."""
    arrays = []
    for tensor in model.inputs:
        shape = [batch if tensor.shape[0] is None else tensor.shape[0]]
        for axis, dim in enumerate(tensor.shape[1:], start=1):
            known = [other.shape[axis] for other in model.inputs
                     if len(other.shape) > axis and other.shape[axis] is not None]
            shape.append(dim if dim is not None else (known[0] if known else timesteps))
        arrays.append(rng.integers(0, 2, size=shape).astype(str(tensor.dtype)) if "int" in str(tensor.dtype)
                      else rng.uniform(-1, 1, size=shape).astype("float32"))
    with warnings.catch_warnings():  # a one-input functional model takes the array unlisted too
        warnings.simplefilter("ignore")
        outputs = model(arrays if len(arrays) > 1 else arrays[0])
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [shape_list(output.shape) for output in outputs]


def record(lstmcalc, only):
    import keras

    rng = np.random.default_rng(7)
    results = {}
    if only and os.path.exists(OUT):  # re-record these, keep the others
        with open(OUT, encoding="utf-8") as handle:
            results = json.load(handle)["cases"]
    with tempfile.TemporaryDirectory() as folder:
        for name, text in models():
            if only and name not in only:
                continue
            source = os.path.join(folder, "model.yaml")
            with open(source, "w", encoding="utf-8") as handle:
                handle.write(text)
            torch_code, refused = convert(lstmcalc, source, "pytorch")
            if torch_code is None:
                results[name] = {"pytorch_code": None, "pytorch_error": refused}
                continue
            written = os.path.join(folder, "model_torch.py")
            with open(written, "w", encoding="utf-8") as handle:
                handle.write(torch_code)
            options = read_back_options(torch_code)
            keras_code, refused = convert(lstmcalc, written, "keras", options)
            entry = {"pytorch_code": torch_code, "read_back": options, "keras_code": keras_code}
            if keras_code is None:
                entry["keras_error"] = refused
            else:
                keras.backend.clear_session()
                try:
                    model = build(keras_code, keras)
                    entry.update(describe(model))
                    entry["output_shapes"] = [shape_list(tensor.shape) for tensor in model.outputs]
                    entry["run_output_shapes"] = run_shapes(model, rng)
                except Exception as exc:  # noqa: BLE001
                    entry.update(error_record(exc))
            results[name] = entry
            print(name, entry.get("totals") or entry.get("keras_error") or entry.get("error"))
    with open(OUT, "w", encoding="utf-8") as handle:
        json.dump({"cases": results}, handle, indent=1, sort_keys=True)
        handle.write("\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lstmcalc", default=os.path.join(ROOT, ".venv", "bin", "lstmcalc"))
    parser.add_argument("--only", nargs="*", help="record only these models")
    args = parser.parse_args(argv)
    record(os.path.abspath(args.lstmcalc), args.only)


if __name__ == "__main__":
    main()
