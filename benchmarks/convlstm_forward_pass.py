"""Speed of the verifier's ConvLSTM2D forward pass against the floor of NumPy: batch 8 × 10 frames
of 32 × 32 × 8 through ConvLSTM2D(16, 3, padding='same', return_sequences=True).

    python benchmarks/convlstm_forward_pass.py [--runs 11] [--batch 8] [--steps 10] [--size 32] [--cpu-time]

Prints the median time of the pass, per step, and its ratio to two floors: the same multiply-adds
as plain matrix products on windows gathered beforehand (the input convolution of all steps,
then one recurrent convolution per step), and those products with the gates' exp and tanh (an
exp for each sigmoid gate, a tanh for the candidate and for c, on arrays of the maps' size). The
ratios show what gathering the windows (im2col), the cheap parts of the gates and the loop add;
medians of runs that time the pass and its floors back to back, with the interquartile range.
Not a test: machines vary. See forward_pass.py for the clocks and the machine.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

import lstmcalc
from forward_pass import CPU_TIME_HELP, chosen_clock, interleaved, ratio_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--cpu-time", action="store_true", help=CPU_TIME_HELP)
    args = parser.parse_args()

    report = lstmcalc.analyze_layers([args.steps, args.size, args.size, args.channels], [
        f"ConvLSTM2D({args.filters}, 3, padding='same', return_sequences=True)"])
    record = report.layers[0]
    layer = report.graph.nodes[record.name].layer
    rng = np.random.default_rng(0)
    weights = {weight.name: rng.uniform(-0.1, 0.1, weight.shape).astype("float32") for weight in record.weights}
    x = rng.uniform(-1, 1, (args.batch, args.steps, args.size, args.size, args.channels)).astype("float32")

    def forward() -> None:
        layer.forward(weights, [x], [None])

    # The products as the verifier orients them: the kernel from the left, the windows as columns.
    positions, width = args.batch * args.size * args.size, 4 * args.filters
    frames = rng.uniform(-1, 1, (9 * args.channels, args.steps * positions)).astype("float32")
    maps = rng.uniform(-1, 1, (9 * args.filters, positions)).astype("float32")
    kernel = np.ascontiguousarray(weights["kernel"].reshape(9 * args.channels, width).T)
    recurrent = np.ascontiguousarray(weights["recurrent_kernel"].reshape(9 * args.filters, width).T)
    gates = np.empty((width, positions), "float32")
    sigmoid_part = rng.uniform(-3, 3, (3 * args.filters, positions)).astype("float32")
    tanh_part = rng.uniform(-3, 3, (2 * args.filters, positions)).astype("float32")
    sigmoid_out, tanh_out = np.empty_like(sigmoid_part), np.empty_like(tanh_part)

    def products() -> None:
        kernel @ frames
        for _ in range(args.steps):
            np.matmul(recurrent, maps, out=gates)

    def with_activations() -> None:
        kernel @ frames
        for _ in range(args.steps):
            np.matmul(recurrent, maps, out=gates)
            np.exp(sigmoid_part, out=sigmoid_out)
            np.tanh(tanh_part, out=tanh_out)

    forward()  # warm up BLAS and the caches
    times = interleaved({"forward": forward, "products": products, "+ exp/tanh": with_activations}, args.runs,
                        chosen_clock(args))
    print(f"batch {args.batch} × {args.steps} frames of {args.size}×{args.size}×{args.channels}, "
          f"ConvLSTM2D({args.filters}, 3, padding='same'), medians of {args.runs} runs")
    for label, name in (("forward pass", "forward"), ("matrix products alone", "products"),
                        ("products + exp/tanh", "+ exp/tanh")):
        median = statistics.median(times[name])
        print(f"{label:28} {median * 1000:9.1f} ms  {median / args.steps * 1000:8.3f} ms/step")
    print(f"ratio forward pass / matrix products: {ratio_text(times['forward'], times['products'])}")
    print(f"ratio forward pass / (products + exp/tanh): {ratio_text(times['forward'], times['+ exp/tanh'])}")


if __name__ == "__main__":
    main()
