"""Speed of the verifier's NumPy forward pass: batch 64 × 100 steps through two LSTM(256) layers.

    python benchmarks/forward_pass.py [--runs 5] [--batch 64] [--steps 100] [--units 256]

Prints the median time of the whole pass, its time per time step, and the ratio of that to the
floor of a step: the two recurrent matrix products h·U (batch × units)·(units × 4·units), timed
alone. The input projections of all steps are one product before each loop, so the ratio shows
what the loop adds (gates, activations, masking). Next to it, the same model size in PyTorch's
layout (`framework: pytorch`: nn.LSTM(hidden_size=256, num_layers=2, batch_first=True), torch's
equations, two bias vectors) and the ratio of the two. Not a test: machines vary.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import lstmcalc
from lstmcalc.verify import VerifyOptions, verify_report


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
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--features", type=int, default=32)
    args = parser.parse_args()

    report = lstmcalc.analyze_layers([args.steps, args.features], [
        f"LSTM({args.units}, return_sequences=True)", f"LSTM({args.units}, return_sequences=True)"])
    rng = np.random.default_rng(0)
    weights = {f"{layer.name}/{weight.name}": rng.uniform(-0.1, 0.1, weight.shape).astype("float32")
               for layer in report.layers for weight in layer.weights}
    x = rng.uniform(-1, 1, (args.batch, args.steps, args.features)).astype("float32")
    layers = [(report.graph.nodes[layer.name].layer,
               {weight.name: weights[f"{layer.name}/{weight.name}"] for weight in layer.weights})
              for layer in report.layers]

    def forward() -> None:
        tensor = x
        for layer, own in layers:
            (tensor,), _ = layer.forward(own, [tensor], [None])

    h = rng.uniform(-1, 1, (args.batch, args.units)).astype("float32")
    recurrent = weights[f"{report.layers[0].name}/recurrent_kernel"]

    def recurrent_products() -> None:
        for _ in range(2 * args.steps):
            h @ recurrent

    def whole_verifier() -> None:
        verify_report(report, VerifyOptions(weights=weights, inputs={report.inputs[0].name: x}))

    torch_report = lstmcalc.analyze_text(
        f"framework: pytorch\nbatch_size: {args.batch}\ninput: [{args.steps}, {args.features}]\nlayers:\n"
        f"  - {{type: LSTM, hidden_size: {args.units}, num_layers: 2, batch_first: true}}\n")
    (torch_record,) = torch_report.layers
    torch_layer = torch_report.graph.nodes[torch_record.name].layer
    torch_weights = {weight.name: rng.uniform(-0.1, 0.1, weight.shape).astype("float32")
                     for weight in torch_record.weights}

    def torch_forward() -> None:
        torch_layer.forward(torch_weights, [x], [None])

    forward()  # warm up BLAS and the caches
    total = median_seconds(forward, args.runs)
    torch_total = median_seconds(torch_forward, args.runs)
    floor = median_seconds(recurrent_products, args.runs)
    verifier = median_seconds(whole_verifier, args.runs)
    print(f"batch {args.batch} × {args.steps} steps, 2 × LSTM({args.units}), {args.features} input features, "
          f"median of {args.runs}")
    print(f"{'forward pass':28} {total * 1000:9.1f} ms  {total / args.steps * 1000:8.3f} ms/step")
    print(f"{'recurrent products alone':28} {floor * 1000:9.1f} ms  {floor / args.steps * 1000:8.3f} ms/step")
    print(f"{'lstmcalc.verify (checks too)':28} {verifier * 1000:9.1f} ms  "
          f"{verifier / args.steps * 1000:8.3f} ms/step")
    print(f"{'PyTorch layout (nn.LSTM x2)':28} {torch_total * 1000:9.1f} ms  "
          f"{torch_total / args.steps * 1000:8.3f} ms/step")
    print(f"ratio forward pass / recurrent products: {total / floor:.2f}x")
    print(f"ratio PyTorch layout / Keras layout: {torch_total / total:.2f}x")


if __name__ == "__main__":
    main()
