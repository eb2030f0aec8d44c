#!/usr/bin/env python3
"""Record PyTorch graphs run in real torch 2.13 and their `lstmcalc port --to keras` run in real
Keras 3.15 on the same input: the outputs must agree (tests/test_port_torch_graphs.py).

For each case — the PyTorch code `lstmcalc convert --to pytorch` wrote for the bundled Keras graphs
(tests/fixtures/keras/torch_round_trip.json) and hand-written PyTorch graphs below — this script:

1. runs the code in torch (``--torch-run``, in the torch environment) with seeded random parameters
   on a seeded random input: its state_dict, input and outputs;
2. asks lstmcalc for the model's spec (``convert --to yaml``), ports the state_dict (``port --to keras``)
   and writes the Keras code (``convert --to keras``);
3. builds that code in Keras, loads the ported weights (keyed <layer>/<weight>, Bidirectional
   <layer>/forward/<weight>), runs it on the same input.

Writes tests/fixtures/keras/torch_graph_numerics/<case>.npz: ``code`` (the PyTorch code), ``read_back``
(its --input options), ``state_dict/<key>``, ``inputs/<name>``, ``torch/<i>`` and ``keras/<i>`` (the
outputs in forward()'s order), ``keras_weights`` (the SHA-256 of each weight lstmcalc ported, as
loaded, keyed <layer>/<weight>).

    /work/kerasenv/bin/python scripts/record_torch_graph_keras_numerics.py \\
        --torch-python /work/torchenv/bin/python --lstmcalc .venv/bin/lstmcalc
"""

import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "keras", "torch_graph_numerics")
HEADER = "Read it back with: lstmcalc summary <this file> "
BUNDLED = ["two_head.yaml", "two_input_concatenate.yaml", "bidirectional_encoder_decoder.yaml",
           "bidirectional_stack.yaml"]

# PyTorch graphs as people write them, and how to read them (--input, --batch-size).
SOURCES = {
    # a two-layer encoder's (h_n, c_n) as a two-layer decoder's initial states; the decoder's output
    # used whole and its last step (Keras: return_state, the final h)
    "seq2seq-two-layers": ('''import torch
from torch import nn


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.LSTM(5, 12, num_layers=2, batch_first=True)
        self.decoder = nn.LSTM(3, 12, num_layers=2, batch_first=True)
        self.head = nn.Linear(12, 4)
        self.summary = nn.Linear(12, 1)

    def forward(self, source, target):
        _, (h, c) = self.encoder(source)
        out, _ = self.decoder(target, (h, c))
        return self.head(out), self.summary(out[:, -1, :])
''', ["--input", "9,5;6,3", "--batch-size", "3"]),
    # a bidirectional GRU's two last states joined, merged with a second branch
    "bigru-branches": ('''import torch
from torch import nn


class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 6, batch_first=True, bidirectional=True)
        self.rnn = nn.RNN(4, 12, batch_first=True, nonlinearity="relu")
        self.out = nn.Linear(12, 2)

    def forward(self, x):
        seq, h = self.gru(x)
        both = torch.cat((h[-2], h[-1]), dim=1)
        other, _ = self.rnn(x)
        mixed = torch.maximum(both, other[:, -1, :]) - both * other[:, -1, :]
        return self.out(mixed), seq
''', ["--input", "7,4", "--batch-size", "3"]),
}


def torch_run(code_path, out_path, options):
    """In the torch environment: run the code's module with seeded parameters and input."""
    import numpy as np
    import torch

    namespace = {"__name__": "recorded"}
    with open(code_path, encoding="utf-8") as handle:
        exec(compile(handle.read(), code_path, "exec"), namespace)  # noqa: S102 (the recorder's own fixture)
    (cls,) = [value for value in namespace.values()
              if isinstance(value, type) and issubclass(value, torch.nn.Module) and value is not torch.nn.Module
              and value.__module__ == "recorded"]
    torch.manual_seed(5)
    model = cls().eval()
    generator = np.random.default_rng(5)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.from_numpy(generator.uniform(-0.5, 0.5, tuple(parameter.shape)).astype("float32")))
    arguments = dict(zip(options[::2], options[1::2]))
    batch = int(arguments["--batch-size"])
    names = list(cls.forward.__code__.co_varnames[1:cls.forward.__code__.co_argcount])
    inputs = {}
    for name, sample in zip(names, arguments["--input"].split(";")):
        shape = [batch] + [7 if size == "None" else int(size) for size in sample.split(",")]
        inputs[name] = generator.uniform(-1, 1, shape).astype("float32")
    with torch.no_grad():
        outputs = model(*[torch.from_numpy(inputs[name]) for name in names])
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    arrays = {f"state_dict/{key}": value.numpy() for key, value in model.state_dict().items()}
    arrays.update({f"inputs/{name}": value for name, value in inputs.items()})
    arrays.update({f"torch/{index}": output.numpy() for index, output in enumerate(outputs)})
    arrays["input_names"] = np.array(json.dumps(names))
    np.savez(out_path, **arrays)


def cases():
    with open(os.path.join(ROOT, "tests", "fixtures", "keras", "torch_round_trip.json"), encoding="utf-8") as handle:
        recorded = json.load(handle)["cases"]
    found = {}
    for name in BUNDLED:
        code = recorded[name]["pytorch_code"]
        line = next(line for line in code.splitlines() if line.startswith(HEADER))
        found[name.replace(".yaml", "")] = (code, shlex.split(line[len(HEADER):]))
    found.update(SOURCES)
    return found


def lstmcalc_run(lstmcalc, *arguments):
    done = subprocess.run([lstmcalc, *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"lstmcalc {' '.join(arguments)}: {done.stderr.strip()}")
    return done.stdout


def record(torch_python, lstmcalc, only):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import numpy as np

    os.makedirs(OUT, exist_ok=True)
    for case, (code, options) in cases().items():
        if only and case not in only:
            continue
        with tempfile.TemporaryDirectory() as folder:
            source = os.path.join(folder, "model.py")
            with open(source, "w", encoding="utf-8") as handle:
                handle.write(code)
            ran = os.path.join(folder, "torch.npz")
            subprocess.run([torch_python, os.path.abspath(__file__), "--torch-run", source, ran, "--", *options],
                           check=True)
            with np.load(ran) as data:
                arrays = {key: data[key] for key in data.files}
            state_dict = os.path.join(folder, "state_dict.npz")
            np.savez(state_dict, **{key[len("state_dict/"):]: value for key, value in arrays.items()
                                    if key.startswith("state_dict/")})
            spec = os.path.join(folder, "model.yaml")
            lstmcalc_run(lstmcalc, "convert", source, "--to", "yaml", "-o", spec, *options)
            ported = os.path.join(folder, "keras.npz")
            lstmcalc_run(lstmcalc, "port", spec, "--weights", state_dict, "--to", "keras", "-o", ported)
            keras_code = lstmcalc_run(lstmcalc, "convert", source, "--to", "keras", *options)
            keras.backend.clear_session()
            namespace = {}
            exec(compile(keras_code, "<keras code>", "exec"), namespace)  # noqa: S102
            model = namespace["model"]
            with np.load(ported) as data:
                weights = {key: data[key] for key in data.files}
            loaded = set()
            for layer in model.layers:
                parts = [("forward/", layer.forward_layer), ("backward/", layer.backward_layer)] \
                    if hasattr(layer, "forward_layer") else [("", layer)]
                for prefix, part in parts:
                    for variable in part.weights:
                        key = f"{layer.name}/{prefix}{variable.name}"
                        variable.assign(weights[key])
                        loaded.add(key)
            assert loaded == set(weights), sorted(set(weights) ^ loaded)
            names = json.loads(str(arrays["input_names"]))
            given = [arrays[f"inputs/{name}"] for name in names]
            outputs = model(given)  # (a list, as keras.Model(inputs=[...]) takes it)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            for index, output in enumerate(outputs):
                arrays[f"keras/{index}"] = np.asarray(output)
            # (digests of the ported weights as loaded: the test ports the state_dict again and must
            # get these bytes)
            arrays["keras_weights"] = np.array(json.dumps({key: hashlib.sha256(np.ascontiguousarray(value).tobytes())
                                                           .hexdigest() for key, value in weights.items()},
                                                          sort_keys=True))
            arrays["code"] = np.array(code)
            arrays["read_back"] = np.array(json.dumps(options))
            differences = [float(np.max(np.abs(arrays[f"keras/{index}"] - arrays[f"torch/{index}"])))
                           for index in range(len(outputs))]
            np.savez(os.path.join(OUT, f"{case}.npz"), **arrays)
            print(case, "largest differences", differences)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--torch-run":
        code_path, out_path = argv[1], argv[2]
        torch_run(code_path, out_path, argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch-python", default="/work/torchenv/bin/python")
    parser.add_argument("--lstmcalc", default=os.path.join(ROOT, ".venv", "bin", "lstmcalc"))
    parser.add_argument("--only", nargs="*", help="record only these cases")
    args = parser.parse_args(argv)
    record(args.torch_python, os.path.abspath(args.lstmcalc), args.only)


if __name__ == "__main__":
    main()
