#!/usr/bin/env python3
"""Random `framework: pytorch` chains, as people write them, for recording against real torch.

    python scripts/random_pytorch_cases.py [--count 300] [--seed 21] > tests/fixtures/pytorch/random_cases.yaml
    /path/to/torchenv/bin/python scripts/record_pytorch_modules.py \
        --cases tests/fixtures/pytorch/random_cases.yaml --out tests/fixtures/pytorch/random_reference.json

Recurrent modules with every option (num_layers, bidirectional, batch_first, proj_size, bias,
dropout), the last step taken or not, Linear heads, LayerNorm with the right or a wrong size,
Conv1d between transposes (or without them), Embedding in front of token ids, activations —
mostly models torch runs, some it refuses. Deterministic for a seed; tests/test_pytorch_modules.py
compares lstmcalc with every recorded case. Needs only PyYAML.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from typing import Any, Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recorder_cases import RandomDraws, write_generated_cases  # noqa: E402


class ChainDraw(RandomDraws):
    """One random chain; `width` is the last axis the next module receives (None: unknown here)."""

    def recurrent(self, batch_first: bool) -> Dict[str, Any]:
        kind = self.pick(["LSTM", "LSTM", "GRU", "RNN"])
        layer: Dict[str, Any] = {"type": kind, "hidden_size": self.pick([4, 8, 10, 16, 32])}
        if self.chance(0.4):
            layer["num_layers"] = self.pick([2, 3])
        if self.chance(0.35):
            layer["bidirectional"] = True
        layer["batch_first"] = batch_first if self.chance(0.92) else not batch_first
        if kind == "LSTM" and self.chance(0.15):
            layer["proj_size"] = self.pick([2, 3, layer["hidden_size"]])  # equal to hidden_size: refused
        if self.chance(0.1):
            layer["bias"] = False
        if self.chance(0.1):
            layer["dropout"] = 0.2
        if kind == "RNN" and self.chance(0.3):
            layer["nonlinearity"] = "relu"
        return layer

    def chain(self) -> Dict[str, Any]:
        batch_first = self.chance(0.7)
        steps, features = self.pick([3, 7, 12]), self.pick([1, 5, 8])
        spec: Dict[str, Any] = {"framework": "pytorch", "batch_size": self.pick([1, 2, 4])}
        layers: List[Dict[str, Any]] = []
        width = features
        if self.chance(0.2):
            spec["input"] = {"shape": [steps], "dtype": "int64"}
            width = self.pick([8, 16])
            layers.append({"type": "Embedding", "num_embeddings": self.pick([50, 100]), "embedding_dim": width})
        else:
            spec["input"] = [steps, features]
        sequence = True  # the tensor still has its time axis
        for _ in range(self.pick([1, 2, 2, 3, 4])):
            roll = self.rng.random()
            if roll < 0.45:
                layer = self.recurrent(batch_first)
                layers.append(layer)
                directions = 2 if layer.get("bidirectional") else 1
                width = directions * (layer.get("proj_size") or layer["hidden_size"])
            elif roll < 0.6 and sequence:
                layers.append({"type": "LastStep"})
                sequence = False
            elif roll < 0.72:
                layer = {"type": "Linear", "out_features": self.pick([2, 6, 16])}
                if self.chance(0.1):
                    layer["bias"] = False
                layers.append(layer)
                width = layer["out_features"]
            elif roll < 0.8:
                size = width if self.chance(0.85) else width + 1
                layers.append({"type": "LayerNorm", "normalized_shape": size})
            elif roll < 0.88 and sequence:
                transposed = self.chance(0.85) and batch_first
                if transposed:
                    layers.append({"type": "Transpose", "dim0": 1, "dim1": 2})
                conv = {"type": "Conv1d", "out_channels": self.pick([4, 8]), "kernel_size": self.pick([1, 3])}
                if self.chance(0.3):
                    conv["padding"] = self.pick([1, "same"])
                layers.append(conv)
                if transposed:
                    layers.append({"type": "Transpose", "dim0": 1, "dim1": 2})
                    width = conv["out_channels"]
            elif roll < 0.94:
                layers.append({"type": self.pick(["ReLU", "Tanh", "Sigmoid", "GELU"])})
            else:
                layers.append({"type": "Dropout", "p": self.pick([0.1, 0.5])})
        if self.chance(0.5):
            if sequence and self.chance(0.6):
                layers.append({"type": "LastStep"})
            layers.append({"type": "Linear", "out_features": self.pick([1, 3])})
        spec["layers"] = layers
        return spec


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=21)
    options = parser.parse_args(argv)
    draw = ChainDraw(random.Random(options.seed))
    cases = [{"id": f"random-{options.seed}-{index:03d}",
              "note": f"scripts/random_pytorch_cases.py --seed {options.seed}, model {index}",
              "spec": draw.chain()} for index in range(options.count)]
    write_generated_cases(cases, "random_pytorch_cases.py", "record_pytorch_modules.py (random_reference.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
