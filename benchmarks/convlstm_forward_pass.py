"""Speed of the verifier's ConvLSTM2D forward pass: batch 8 × 10 frames of 32 × 32 × 8 through
ConvLSTM2D(16, 3, padding='same', return_sequences=True).

    python benchmarks/convlstm_forward_pass.py [--runs 5] [--batch 8] [--steps 10] [--size 32]

Prints the median time of the pass, per step, and its ratio to the floor: the same multiply-adds
as plain matrix products on windows gathered beforehand (the input convolution of all steps, then
one recurrent convolution per step). The ratio is what gathering the windows (im2col), the gates
and the loop add. Not a test: machines vary.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import lstmcalc


def median_seconds(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--filters", type=int, default=16)
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

    positions, width = args.batch * args.size * args.size, 4 * args.filters
    frames = rng.uniform(-1, 1, (args.steps * positions, 9 * args.channels)).astype("float32")
    maps = rng.uniform(-1, 1, (positions, 9 * args.filters)).astype("float32")
    kernel = weights["kernel"].reshape(9 * args.channels, width)
    recurrent = weights["recurrent_kernel"].reshape(9 * args.filters, width)

    def products() -> None:
        frames @ kernel
        for _ in range(args.steps):
            maps @ recurrent

    forward()  # warm up BLAS and the caches
    total = median_seconds(forward, args.runs)
    floor = median_seconds(products, args.runs)
    print(f"batch {args.batch} × {args.steps} frames of {args.size}×{args.size}×{args.channels}, "
          f"ConvLSTM2D({args.filters}, 3, padding='same'), median of {args.runs}")
    print(f"{'forward pass':28} {total * 1000:9.1f} ms  {total / args.steps * 1000:8.3f} ms/step")
    print(f"{'matrix products alone':28} {floor * 1000:9.1f} ms  {floor / args.steps * 1000:8.3f} ms/step")
    print(f"ratio forward pass / matrix products: {total / floor:.2f}x")


if __name__ == "__main__":
    main()
