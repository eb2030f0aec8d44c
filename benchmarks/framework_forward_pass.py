"""The reference times in forward_pass.py's docstring: the same models run by Keras or by torch.

    /work/kerasenv/bin/python benchmarks/framework_forward_pass.py keras [--runs 15]
    /work/torchenv/bin/python benchmarks/framework_forward_pass.py torch [--runs 15]

Two stacked LSTM, GRU or SimpleRNN layers of 256 units returning sequences, or two of
Bidirectional(LSTM(256)), on batch 64 × 100 steps of 32 float32 features. Keras: `predict`
(batch_size 64, so one batch) and the model called directly, `model(x, training=False)`; torch:
nn.LSTM / nn.GRU / nn.RNN(num_layers=2, batch_first=True) in eval mode under no_grad. Prints
the median, quartiles and minimum of each, in ms, after one warm-up call. Needs Keras or torch,
which lstmcalc never does: run it with an environment that has them. Not a test: machines vary.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

CELLS = ("LSTM", "GRU", "SimpleRNN", "Bidirectional")


def summary(times) -> str:
    low, middle, high = statistics.quantiles(times, n=4)
    return f"median {middle * 1000:7.1f} ms  [{low * 1000:.1f}–{high * 1000:.1f}]  min {min(times) * 1000:.1f}"


def measure(function, runs: int):
    function()  # warm up: tracing, allocation, thread pools
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def keras_functions(cell: str, x: np.ndarray, units: int):
    import keras

    def recurrent():
        inner = {"LSTM": keras.layers.LSTM, "GRU": keras.layers.GRU,
                 "SimpleRNN": keras.layers.SimpleRNN, "Bidirectional": keras.layers.LSTM}[cell]
        layer = inner(units, return_sequences=True)
        return keras.layers.Bidirectional(layer) if cell == "Bidirectional" else layer

    model = keras.Sequential([keras.Input(x.shape[1:]), recurrent(), recurrent()])
    return {"predict": lambda: model.predict(x, batch_size=len(x), verbose=0),
            "model(x)": lambda: np.asarray(model(x, training=False))}


def torch_functions(cell: str, x: np.ndarray, units: int):
    import torch

    module_class = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "SimpleRNN": torch.nn.RNN,
                    "Bidirectional": torch.nn.LSTM}[cell]
    module = module_class(x.shape[-1], units, num_layers=2, batch_first=True,
                          bidirectional=cell == "Bidirectional").eval()
    tensor = torch.from_numpy(x)

    def forward():
        with torch.no_grad():
            module(tensor)
    return {"forward": forward}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=("keras", "torch"))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--threads", type=int, help="the framework's intra-op threads (default: its own choice)")
    args = parser.parse_args()
    x = np.random.default_rng(0).uniform(-1, 1, (args.batch, args.steps, args.features)).astype("float32")
    if args.framework == "keras":
        import keras
        import tensorflow as tf

        if args.threads:
            tf.config.threading.set_intra_op_parallelism_threads(args.threads)
            tf.config.threading.set_inter_op_parallelism_threads(args.threads)
        print(f"Keras {keras.__version__}, TensorFlow {tf.__version__}, Python {platform.python_version()}")
        build = keras_functions
    else:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, Python {platform.python_version()}")
        build = torch_functions
    for cell in CELLS:
        for name, function in build(cell, x, args.units).items():
            print(f"{cell:13} {name:9} {summary(measure(function, args.runs))}")


if __name__ == "__main__":
    main()
