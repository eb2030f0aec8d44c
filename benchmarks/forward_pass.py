"""Speed of the verifier's NumPy forward pass against the floor of NumPy: two stacked recurrent
layers of 256 units returning sequences, batch 64 × 100 steps of 32 float32 features.

    python benchmarks/forward_pass.py [--runs 11] [--batch 64] [--steps 100] [--units 256]
                                      [--cells LSTM,GRU,SimpleRNN,Bidirectional] [--layouts keras,pytorch]

Models: LSTM, GRU and SimpleRNN, and Bidirectional(LSTM), in Keras's layout (two Keras layers,
return_sequences=True) and in PyTorch's (`framework: pytorch`: nn.LSTM / nn.GRU / nn.RNN with
hidden_size=256, num_layers=2, batch_first=True, bidirectional=True for the last). For each it
prints the median time of

- the forward pass (the layers' forward(), as `lstmcalc verify` runs it, without the checks);
- h·U: the recurrent matrix products alone, one (batch × units)·(units × gates·units) per step,
  layer and direction: the floor the issue names ("forward pass / recurrent products");
- products: every matrix product of the pass, the input projections too (x·W for all steps of a
  layer at once, as the verifier computes them: for the second layer as much work as its h·U);
- + exp/tanh: the products and the gates' transcendental functions alone (np.exp for each
  sigmoid gate, np.tanh for each tanh, on arrays of the gates' sizes): what no NumPy
  implementation of the equations can skip,

and the ratios of the forward pass to each floor, with the interquartile range of the ratio over
the runs (each run times the pass and its floors back to back, so a busy machine slows both).
On a shared machine, OPENBLAS_NUM_THREADS=1 gives steadier figures (OpenBLAS's threads spin
and lose their time slices when other processes want the cores). Not a test: machines vary.

Reference: the same models in the frameworks (benchmarks/framework_forward_pass.py, run with
/work/kerasenv/bin/python and /work/torchenv/bin/python), on the machine of the figures below:
AMD EPYC (2 cores with AVX2 and FMA, no AVX-512; shared with other engineers' test runs, load
average 4–7 throughout), Linux 6.18, Python 3.11.7; lstmcalc: NumPy 2.4.6 with OpenBLAS 0.3.31
(scipy-openblas, Haswell kernels); Keras 3.15.1 on TensorFlow 2.21.0 (CPU); torch 2.13.0+cpu.
Wall clock, medians (min) in ms, one thread each (OPENBLAS_NUM_THREADS=1, --threads 1) — with
two threads on this busy machine every library's threads spin against the other processes and
its times swing several-fold (torch LSTM: median 1088, min 681; lstmcalc's LSTM 1547) — on
2 December 2026 (lstmcalc: this script, 9 runs; the frameworks: 15 runs for torch, 9 for Keras):

    model                 lstmcalc, Keras layout  lstmcalc, PyTorch layout  Keras predict  Keras model(x)  torch
    2 × LSTM(256)                  438                     516                785 (752)     2613 (2165)    478 (440)
    2 × GRU(256)                   350                     360                792 (471)     3063 (2871)    460 (403)
    2 × SimpleRNN(256)             116                     114                285 (234)     1476 (1328)    179 (166)
    2 × Bidirectional(LSTM)       1076                    1164               2697 (1882)    5133 (3432)   1390 (1000)

The same machine quiet (load average below 1, 1 December 2026), Keras layout, medians of 7 runs,
one BLAS thread (two threads: LSTM 103.8 ms, h·U 44.9 ms, products 67.2 ms; 2.24x, 1.53x, 1.33x):

    model          forward     h·U   products  +exp/tanh   forward / h·U  / products  / +exp/tanh
    LSTM           154.4ms   83.3ms   125.0ms   133.4ms        1.85x        1.23x        1.15x
    GRU            111.9ms   51.5ms    80.3ms    85.1ms        2.15x        1.38x        1.31x
    SimpleRNN       33.1ms   17.7ms    27.6ms    29.0ms        1.87x        1.20x        1.13x
    Bidirectional  390.4ms  170.2ms   321.0ms   333.3ms        2.31x        1.22x        1.17x

Issue 12's target, 1.3x of h·U, is below what any NumPy forward pass can reach here: the products
alone take 1.5x of h·U (the second layer's x·W is as much arithmetic as its h·U, and BLAS runs it
no faster per operation), whatever the number of threads, since h·U uses them as well as the rest.

Where the floors come from (one thread, CPU time, this machine): per LSTM(256) layer and 100
steps, h·U is ~50 ms; x·W is as much arithmetic when the layer reads 256 features (BLAS runs the
one large product no faster than the 100 small ones, ~65 GFLOP/s either way) and ~16 ms for 32
features (writing the 26 MB projection); np.exp costs 2.1 ns and np.tanh 3.0 ns per float32
value, so the gates' transcendentals take ~20 ms per layer, 0.4× its h·U. Two stacked layers
therefore cannot go below ~1.6× h·U (all products) or ~2.1× (products + exp/tanh); the fused
steps (lstmcalc/layers/fused_cells.py) add ~15–30% to that for the per-step additions and
divisions, the copy of h into the sequence, and Python's ~20 NumPy calls a step.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

import numpy as np

import lstmcalc
from lstmcalc.verify import VerifyOptions, verify_report

# Gate counts per cell: (gates, sigmoid blocks, tanh blocks per step). An LSTM has σ for i, f, o
# and tanh for its candidate and for c; a GRU σ for z, r and tanh for its candidate.
CELLS = {"LSTM": (4, 3, 2), "GRU": (3, 2, 1), "SimpleRNN": (1, 0, 1), "Bidirectional": (4, 3, 2)}
TORCH_MODULES = {"LSTM": "LSTM", "GRU": "GRU", "SimpleRNN": "RNN", "Bidirectional": "LSTM"}


@dataclass
class Model:
    """One model in one layout: its forward pass and the matrices its floors multiply."""

    label: str
    forward: Callable[[], None]
    # Per layer and direction: the input kernel (features × gates·units) and the recurrent one.
    kernels: List[Tuple[np.ndarray, np.ndarray]]
    sigmoid_blocks: int
    tanh_blocks: int


def keras_model(cell: str, args, rng) -> Model:
    inner = "LSTM" if cell == "Bidirectional" else cell
    call = f"{inner}({args.units}, return_sequences=True)"
    if cell == "Bidirectional":
        call = f"Bidirectional({call})"
    report = lstmcalc.analyze_layers([args.steps, args.features], [call, call])
    assert report.ok, report.diagnostics
    layers = []
    kernels = []
    for record in report.layers:
        own = {weight.name: rng.uniform(-0.1, 0.1, weight.shape).astype("float32") for weight in record.weights}
        layers.append((report.graph.nodes[record.name].layer, own))
        prefixes = ("forward/", "backward/") if cell == "Bidirectional" else ("",)
        kernels += [(own[prefix + "kernel"], own[prefix + "recurrent_kernel"]) for prefix in prefixes]
    x = rng.uniform(-1, 1, (args.batch, args.steps, args.features)).astype("float32")

    def forward() -> None:
        tensor = x
        for layer, own in layers:
            (tensor,), _ = layer.forward(own, [tensor], [None])

    _, sigmoids, tanhs = CELLS[cell]
    return Model(f"{cell:13} Keras", forward, kernels, sigmoids, tanhs)


def pytorch_model(cell: str, args, rng) -> Model:
    module = TORCH_MODULES[cell]
    bidirectional = ", bidirectional: true" if cell == "Bidirectional" else ""
    report = lstmcalc.analyze_text(
        f"framework: pytorch\nbatch_size: {args.batch}\ninput: [{args.steps}, {args.features}]\nlayers:\n"
        f"  - {{type: {module}, hidden_size: {args.units}, num_layers: 2, batch_first: true{bidirectional}}}\n")
    assert report.ok, report.diagnostics
    (record,) = report.layers
    layer = report.graph.nodes[record.name].layer
    weights = {weight.name: rng.uniform(-0.1, 0.1, weight.shape).astype("float32") for weight in record.weights}
    x = rng.uniform(-1, 1, (args.batch, args.steps, args.features)).astype("float32")
    suffixes = ("", "_reverse") if cell == "Bidirectional" else ("",)
    kernels = [(np.ascontiguousarray(weights[f"weight_ih_l{index}{suffix}"].T),
                np.ascontiguousarray(weights[f"weight_hh_l{index}{suffix}"].T))
               for index in range(2) for suffix in suffixes]

    def forward() -> None:
        layer.forward(weights, [x], [None])

    _, sigmoids, tanhs = CELLS[cell]
    name = f"nn.{module}" + (" bidir." if bidirectional else "")
    return Model(f"{cell:13} {name}", forward, kernels, sigmoids, tanhs)


def floors(model: Model, args, rng) -> Dict[str, Callable[[], None]]:
    """The three floors of ``model``: h·U alone, every product, every product with exp/tanh."""
    units, batch, steps = args.units, args.batch, args.steps
    h = rng.uniform(-1, 1, (batch, units)).astype("float32")
    inputs = {kernel.shape[0]: rng.uniform(-1, 1, (batch * steps, kernel.shape[0])).astype("float32")
              for kernel, _ in model.kernels}
    gates = {kernel.shape[1]: np.empty((batch, kernel.shape[1]), "float32") for _, kernel in model.kernels}
    sigmoid_part = rng.uniform(-3, 3, (batch, max(model.sigmoid_blocks, 1) * units)).astype("float32")
    tanh_part = rng.uniform(-3, 3, (batch, model.tanh_blocks * units)).astype("float32")
    sigmoid_out, tanh_out = np.empty_like(sigmoid_part), np.empty_like(tanh_part)

    def recurrent_products() -> None:
        for _, recurrent in model.kernels:
            out = gates[recurrent.shape[1]]
            for _ in range(steps):
                np.matmul(h, recurrent, out=out)

    def all_products() -> None:
        for kernel, _ in model.kernels:
            inputs[kernel.shape[0]] @ kernel
        recurrent_products()

    def with_activations() -> None:
        for kernel, recurrent in model.kernels:
            inputs[kernel.shape[0]] @ kernel
            out = gates[recurrent.shape[1]]
            for _ in range(steps):
                np.matmul(h, recurrent, out=out)
                if model.sigmoid_blocks:
                    np.exp(sigmoid_part, out=sigmoid_out)
                np.tanh(tanh_part, out=tanh_out)

    return {"h·U": recurrent_products, "products": all_products, "+ exp/tanh": with_activations}


def timed(function: Callable[[], None], clock: Callable[[], float]) -> float:
    start = clock()
    function()
    return clock() - start


CPU_TIME_HELP = ("time the process's CPU time (all its threads') instead of the wall clock: steadier on a busy "
                 "machine when BLAS runs one thread (OPENBLAS_NUM_THREADS=1); with more it counts their spinning")


def chosen_clock(args) -> Callable[[], float]:
    return time.process_time if args.cpu_time else time.perf_counter


def quartiles(values: List[float]) -> Tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    low, middle, high = statistics.quantiles(values, n=4)
    return low, middle, high


def interleaved(functions: Dict[str, Callable[[], None]], runs: int,
                clock: Callable[[], float]) -> Dict[str, List[float]]:
    """Each function's times over ``runs`` rounds of one call each, so that a busy moment of the
    machine slows a pass and its floors alike."""
    times: Dict[str, List[float]] = {name: [] for name in functions}
    for _ in range(runs):
        for name, function in functions.items():
            times[name].append(timed(function, clock))
    return times


def ratio_text(numerators: List[float], denominators: List[float]) -> str:
    """The median of the paired ratios, with their interquartile range."""
    low, middle, high = quartiles([a / b for a, b in zip(numerators, denominators)])
    return f"{middle:5.2f}x [{low:.2f}–{high:.2f}]"


def gate_forms(args, clock: Callable[[], float]) -> None:
    """One LSTM layer's loop (the fused step of lstmcalc/layers/fused_cells.py) against the same
    loop with σ(x) = 0.5·tanh(x/2) + 0.5: the σ gates' columns pre-scaled by 0.5 once, one np.tanh
    over all four gate blocks per step, then ·0.5 + 0.5 on the σ blocks."""
    from lstmcalc.layers.fused_cells import fused_columns, lstm_step

    rng = np.random.default_rng(0)
    batch, steps, units = args.batch, args.steps, args.units
    recurrent = rng.uniform(-0.1, 0.1, (units, 4 * units)).astype("float32")
    bias = rng.uniform(-0.1, 0.1, 4 * units).astype("float32")
    projected = rng.uniform(-2, 2, (batch, steps, 4 * units)).astype("float32")
    zeros = np.zeros((batch, units), "float32")

    def halved(array: np.ndarray) -> np.ndarray:
        fused = fused_columns(array, (0, 1, 3, 2), 0)
        fused[..., :3 * units] *= 0.5  # exact
        return fused

    def tanh_form_step():
        kernel, step_bias = halved(recurrent), halved(bias)
        z = np.empty((batch, 4 * units), "float32")
        scratch = np.empty((batch, units), "float32")
        pairs = [[np.empty((batch, units), "float32") for _ in range(2)] for _ in range(2)]
        turn = [0]

        def step(inputs: np.ndarray, states):
            h, c = states
            turn[0] ^= 1
            h_new, c_new = pairs[0][turn[0]], pairs[1][turn[0]]
            np.matmul(h, kernel, out=z)
            np.add(z, inputs, out=z)
            np.add(z, step_bias, out=z)
            np.tanh(z, out=z)
            gates = z[:, :3 * units]
            gates *= 0.5
            gates += 0.5
            np.multiply(z[:, units:2 * units], c, out=c_new)
            np.multiply(z[:, :units], z[:, 3 * units:], out=scratch)
            c_new += scratch
            np.tanh(c_new, out=scratch)
            np.multiply(scratch, z[:, 2 * units:3 * units], out=h_new)
            return h_new, [h_new, c_new]
        return step

    def loop(make_step, inputs: np.ndarray) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            step, states = make_step(), [zeros, zeros]
            sequence = np.empty((batch, steps, units), "float32")
            for time_step in range(steps):
                output, states = step(inputs[:, time_step], states)
                sequence[:, time_step] = output
            return sequence
        return run

    forms = {"exp (lstmcalc)": loop(lambda: lstm_step(fused_columns(recurrent, (0, 1, 3, 2), 3), "tanh",
                                                      fused_columns(bias, (0, 1, 3, 2), 3)),
                                    fused_columns(projected, (0, 1, 3, 2), 3)),
             "tanh": loop(tanh_form_step, halved(projected))}
    outputs = [form() for form in forms.values()]
    times = interleaved(forms, args.runs, clock)
    print(f"one LSTM({units}) layer's loop, batch {batch} × {steps} steps: the σ gates through exp or through tanh "
          f"(outputs differ by {float(np.abs(outputs[0] - outputs[1]).max()):.1e})")
    for name, values in times.items():
        print(f"  {name:15} {statistics.median(values) * 1000:7.1f} ms (min {min(values) * 1000:.1f})")
    print(f"  tanh / exp: {ratio_text(times['tanh'], times['exp (lstmcalc)'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--layouts", default="keras,pytorch")
    parser.add_argument("--verify", action="store_true", help="also time lstmcalc.verify on the Keras LSTM model")
    parser.add_argument("--cpu-time", action="store_true", help=CPU_TIME_HELP)
    parser.add_argument("--gate-forms", action="store_true",
                        help="only compare the σ gates through exp (lstmcalc) and through tanh on one LSTM layer")
    args = parser.parse_args()
    clock = chosen_clock(args)
    if args.gate_forms:
        gate_forms(args, clock)
        return

    rng = np.random.default_rng(0)
    builders = {"keras": keras_model, "pytorch": pytorch_model}
    print(f"batch {args.batch} × {args.steps} steps of {args.features} features, 2 layers of {args.units} units, "
          f"float32; medians of {args.runs} runs (ratio: median [interquartile range])")
    print(f"{'model':28} {'forward':>9} {'h·U':>8} {'products':>9} {'+exp/tanh':>9}   "
          f"{'forward / h·U':>20} {'forward / products':>20} {'forward / +exp/tanh':>20}")
    for cell in args.cells.split(","):
        for layout in args.layouts.split(","):
            model = builders[layout](cell, args, rng)
            model.forward()  # warm up BLAS and the caches
            times = interleaved({"forward": model.forward, **floors(model, args, rng)}, args.runs, clock)
            medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
            forward = times["forward"]
            print(f"{model.label:28} {medians['forward']:7.1f}ms {medians['h·U']:6.1f}ms {medians['products']:7.1f}ms "
                  f"{medians['+ exp/tanh']:7.1f}ms   {ratio_text(forward, times['h·U']):>20} "
                  f"{ratio_text(forward, times['products']):>20} {ratio_text(forward, times['+ exp/tanh']):>20}")

    if args.verify:
        report = lstmcalc.analyze_layers([args.steps, args.features], [f"LSTM({args.units}, return_sequences=True)"] * 2)
        weights = {f"{layer.name}/{weight.name}": rng.uniform(-0.1, 0.1, weight.shape).astype("float32")
                   for layer in report.layers for weight in layer.weights}
        x = rng.uniform(-1, 1, (args.batch, args.steps, args.features)).astype("float32")
        options = VerifyOptions(weights=weights, inputs={report.inputs[0].name: x})
        verifier = statistics.median(timed(lambda: verify_report(report, options), clock) for _ in range(args.runs))
        print(f"lstmcalc.verify (checks too), LSTM Keras: {verifier * 1000:.1f} ms")


if __name__ == "__main__":
    main()
