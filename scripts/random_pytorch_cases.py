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

`--wide` draws the modules and arguments the default leaves out (WideChainDraw), for new seeds:

    python scripts/random_pytorch_cases.py --count 300 --seed 71 --wide > tests/fixtures/pytorch/random_wide_seed71_cases.yaml
    /path/to/torchenv/bin/python scripts/record_pytorch_modules.py \
        --cases tests/fixtures/pytorch/random_wide_seed71_cases.yaml --out tests/fixtures/pytorch/random_wide_seed71_reference.json

`--odd` adds what people get wrong more often (OddChainDraw): `--odd --seed 101` →
random_odd_seed101_cases.yaml / random_odd_seed101_reference.json.
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


def pooled_length(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """The output length of a convolution or pooling window along one axis, as torch computes it."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        length = -(-span // stride) + 1
        if (length - 1) * stride >= size + padding:
            length -= 1
        return length
    return span // stride + 1


class WideChainDraw(ChainDraw):
    """`--wide`: the modules and arguments the default draws leave out, with the tensor's shape
    followed: Conv1d (stride, dilation, groups, bias, padding_mode), MaxPool1d, BatchNorm1d,
    a Conv2d front end (Unflatten, Conv2d, MaxPool2d, AvgPool2d, then Permute and Flatten back to a
    sequence), Flatten with start_dim/end_dim, Unflatten, LayerNorm over one or two axes with its
    options, Embedding options, the other activations (ELU, LeakyReLU, SiLU, Softmax, GELU tanh),
    the steps Select, Narrow, Mean, Amax, Unsqueeze, sizes given explicitly (sometimes wrong) and
    some arguments torch refuses. Mostly models torch runs. Old seeds without --wide are unchanged."""

    def recurrent(self, batch_first: bool) -> Dict[str, Any]:
        layer = super().recurrent(batch_first)
        if self.chance(0.04):   # an argument torch refuses
            key, value = self.pick([("dropout", 1.5), ("num_layers", 0), ("hidden_size", 0),
                                    ("nonlinearity", "sigmoid"), ("proj_size", -1), ("dropout", 1.0)])
            if key == "nonlinearity" and layer["type"] != "RNN" or key == "proj_size" and layer["type"] != "LSTM":
                key, value = "num_layers", 0
            layer[key] = value
        elif self.chance(0.04) and layer["type"] != "LSTM":
            layer["proj_size"] = 2   # only an LSTM takes proj_size
        return layer

    def activation(self) -> Dict[str, Any]:
        kind = self.pick(["ReLU", "Tanh", "Sigmoid", "GELU", "ELU", "LeakyReLU", "SiLU", "Softmax"])
        layer: Dict[str, Any] = {"type": kind}
        if kind == "GELU" and self.chance(0.5):
            layer["approximate"] = self.pick(["tanh", "none"])
        elif kind == "ELU" and self.chance(0.5):
            layer["alpha"] = self.pick([0.5, 2.0])
        elif kind == "LeakyReLU" and self.chance(0.5):
            layer["negative_slope"] = self.pick([0.1, 0.2])
        elif kind == "Softmax":
            layer["dim"] = self.pick([-1, 1, -1])
        if kind in ("ReLU", "ELU", "LeakyReLU", "SiLU") and self.chance(0.2):
            layer["inplace"] = True
        return layer

    def chain(self) -> Dict[str, Any]:
        self.broken = False
        batch_first = self.chance(0.75)
        batch = self.pick([1, 2, 3])
        spec: Dict[str, Any] = {"framework": "pytorch", "batch_size": batch}
        layers: List[Dict[str, Any]] = []
        steps, features = self.pick([4, 6, 9, 12]), self.pick([1, 3, 6, 8])
        roll = self.rng.random()
        if roll < 0.2:
            spec["input"] = {"shape": [steps], "dtype": self.pick(["int64", "int64", "int32"])}
            shape = [batch, steps] if batch_first else [steps, batch]
            layers.append(self.embedding(shape))
        elif roll < 0.4 and batch_first:
            channels, height, width = self.pick([1, 1, 3]), self.pick([8, 12, 16]), self.pick([5, 8, 10])
            spec["input"] = [channels, height, width]
            shape = [batch, channels, height, width]
            self.image(layers, shape)
        elif roll < 0.5 and batch_first:
            spec["input"] = [steps * features]
            shape = [batch, steps * features]
            layers.append({"type": "Unflatten", "dim": self.pick([1, -1]),
                           "unflattened_size": self.pick([[steps, features], [-1, features], [steps, -1]])})
            shape = [batch, steps, features]
        else:
            spec["input"] = [steps, features]
            shape = [batch, steps, features] if batch_first else [steps, batch, features]
        time_axis = 1 if batch_first else 0
        for _ in range(self.pick([1, 2, 2, 3, 4])):
            if self.broken:
                break
            shape, time_axis = self.step(layers, shape, time_axis, batch_first)
        if not self.broken and self.chance(0.5):
            if len(shape) == 3 and self.chance(0.6):
                layers.append({"type": "LastStep"})
            layers.append({"type": "Linear", "out_features": self.pick([1, 3])})
        spec["layers"] = layers
        return spec

    def embedding(self, shape: List[int]) -> Dict[str, Any]:
        count = self.pick([20, 50, 100])
        layer: Dict[str, Any] = {"type": "Embedding", "num_embeddings": count, "embedding_dim": self.pick([4, 8, 16])}
        if self.chance(0.3):
            layer["padding_idx"] = self.pick([0, 1, -1, count, -count - 1])   # the last two: refused
        if self.chance(0.15):
            layer["max_norm"] = self.pick([1.0, 2.0])
            if self.chance(0.5):
                layer["norm_type"] = 1.0
        if self.chance(0.1):
            layer["sparse"] = True
        if self.chance(0.1):
            layer["scale_grad_by_freq"] = True
        if self.chance(0.1):
            layer["_freeze"] = True
        shape.append(layer["embedding_dim"])
        return layer

    def image(self, layers: List[Dict[str, Any]], shape: List[int]) -> None:
        """A Conv2d front end on (N, C, H, W), back to a sequence (N, H', C' * W')."""
        for _ in range(self.pick([1, 2, 3])):
            roll = self.rng.random()
            if roll < 0.5:
                self.conv(layers, shape, 2)
            elif roll < 0.75:
                self.pool(layers, shape, 2)
            elif roll < 0.9:
                layers.append(self.activation() if self.chance(0.7) else {"type": "Dropout", "p": 0.25})
                if layers[-1]["type"] == "Softmax":
                    layers[-1]["dim"] = 1
            else:
                layers.append({"type": "BatchNorm1d", "num_features": shape[1]})   # 4-D: refused
            if self.broken:
                return
        if self.chance(0.8):
            layers.append({"type": "Permute", "dims": [0, 2, 1, 3]})
            layers.append({"type": "Flatten", "start_dim": 2})
            shape[:] = [shape[0], shape[2], shape[1] * shape[3]]
        elif self.chance(0.5):
            layers.append({"type": "Flatten", "start_dim": 1, "end_dim": 2})
            shape[:] = [shape[0], shape[1] * shape[2], shape[3]]
        else:
            layers.append({"type": "Flatten"})
            shape[:] = [shape[0], shape[1] * shape[2] * shape[3]]

    def conv(self, layers: List[Dict[str, Any]], shape: List[int], dims: int) -> None:
        """A Conv1d on (N, C, L) or Conv2d on (N, C, H, W); updates `shape`."""
        channels = shape[1]
        layer: Dict[str, Any] = {"type": f"Conv{dims}d", "out_channels": self.pick([2, 4, 6, 8]),
                                 "kernel_size": self.pick([1, 2, 3, 5])}
        if dims == 2 and self.chance(0.3):
            layer["kernel_size"] = [self.pick([1, 3]), self.pick([2, 3])]
        kernels = layer["kernel_size"] if isinstance(layer["kernel_size"], list) else [layer["kernel_size"]] * dims
        if self.chance(0.25):
            layer["in_channels"] = channels if self.chance(0.8) else channels + 1
        stride, dilation, padding = 1, 1, [0] * dims
        if self.chance(0.3):
            stride = layer["stride"] = self.pick([2, 3])
        if self.chance(0.2):
            dilation = layer["dilation"] = 2
        if self.chance(0.4):
            choice = self.pick([1, 2, "same", "valid", "same"])
            if dims == 2 and self.chance(0.3):
                choice = [self.pick([0, 1]), self.pick([0, 1, 2])]
            layer["padding"] = choice
            if choice == "same":
                padding = None
            elif choice != "valid":
                padding = choice if isinstance(choice, list) else [choice] * dims
            if choice not in (0, "valid") and self.chance(0.2):
                layer["padding_mode"] = self.pick(["reflect", "replicate", "circular"])
        if self.chance(0.15):
            groups = self.pick([2, channels])
            layer["groups"] = groups
            if groups > 1 and self.chance(0.6):
                layer["out_channels"] = groups * self.pick([1, 2])
        if self.chance(0.15):
            layer["bias"] = False
        layers.append(layer)
        if layer.get("in_channels", channels) != channels or channels % layer.get("groups", 1) \
                or layer["out_channels"] % layer.get("groups", 1) or (padding is None and stride != 1):
            self.broken = True
            return
        sizes = []
        for axis, kernel in enumerate(kernels):
            size = shape[2 + axis]
            sizes.append(size if padding is None else pooled_length(size, kernel, stride, padding[axis], dilation))
        if min(sizes) < 1:
            self.broken = True
            return
        shape[1:] = [layer["out_channels"]] + sizes

    def pool(self, layers: List[Dict[str, Any]], shape: List[int], dims: int) -> None:
        kind = f"MaxPool{dims}d" if dims == 1 or self.chance(0.6) else "AvgPool2d"
        kernel = self.pick([2, 2, 3])
        layer: Dict[str, Any] = {"type": kind, "kernel_size": kernel}
        stride = kernel
        if self.chance(0.3):
            stride = layer["stride"] = self.pick([1, 2])
        padding = 0
        if self.chance(0.25):
            padding = layer["padding"] = self.pick([1, 1, 2])   # more than half the kernel: refused
        dilation = 1
        if kind.startswith("Max") and self.chance(0.15):
            dilation = layer["dilation"] = 2
        ceil_mode = self.chance(0.25)
        if ceil_mode:
            layer["ceil_mode"] = True
        if kind == "AvgPool2d":
            if self.chance(0.3):
                layer["count_include_pad"] = False
            if self.chance(0.2):
                layer["divisor_override"] = self.pick([2, 5])
        layers.append(layer)
        if padding * 2 > kernel:
            self.broken = True
            return
        sizes = [pooled_length(size, kernel, stride, padding, dilation, ceil_mode) for size in shape[2:]]
        if min(sizes) < 1:
            self.broken = True
            return
        shape[2:] = sizes

    def step(self, layers: List[Dict[str, Any]], shape: List[int], time_axis: int, batch_first: bool):
        """One drawn module (or a few written together) on a tensor of `shape`; the new shape and time axis."""
        rank = len(shape)
        roll = self.rng.random()
        if roll < 0.3 and rank in (2, 3):
            layer = self.recurrent(batch_first)
            if self.chance(0.15):
                layer["input_size"] = shape[-1] if self.chance(0.7) else shape[-1] + 1
            layers.append(layer)
            if any(layer.get(key) in (1.5, 0, -1, "sigmoid") for key in ("dropout", "num_layers", "hidden_size",
                                                                        "nonlinearity", "proj_size")) \
                    or layer.get("proj_size") == layer["hidden_size"] or ("proj_size" in layer and
                                                                        layer["type"] != "LSTM") \
                    or layer.get("input_size", shape[-1]) != shape[-1]:
                self.broken = True
                return shape, time_axis
            directions = 2 if layer.get("bidirectional") else 1
            shape = shape[:-1] + [directions * (layer.get("proj_size") or layer["hidden_size"])]
            return shape, (0 if rank == 2 or not layer["batch_first"] else 1)
        if roll < 0.4 and rank == 3:
            kind = self.pick(["LastStep", "LastStep", "Select", "Mean", "Amax"])
            if kind == "LastStep":
                layers.append({"type": "LastStep"})
            elif kind == "Select":
                layers.append({"type": "Select", "dim": time_axis, "index": self.pick([-1, 0])})
            else:
                layer: Dict[str, Any] = {"type": kind, "dim": time_axis}
                if self.chance(0.2):
                    layer["keepdim"] = True
                    layers.append(layer)
                    return shape[:time_axis] + [1] + shape[time_axis + 1:], time_axis
                layers.append(layer)
            return shape[:time_axis] + shape[time_axis + 1:], time_axis
        if roll < 0.52:
            layer = {"type": "Linear", "out_features": self.pick([2, 6, 16])}
            if self.chance(0.1):
                layer["bias"] = False
            if self.chance(0.15):
                layer["in_features"] = shape[-1] if self.chance(0.7) else shape[-1] + 2
                self.broken = layer["in_features"] != shape[-1]
            layers.append(layer)
            return shape[:-1] + [layer["out_features"]], time_axis
        if roll < 0.6:
            if rank >= 3 and self.chance(0.25):
                size: Any = shape[-2:] if self.chance(0.85) else [shape[-1], shape[-2]]
            else:
                size = shape[-1] if self.chance(0.85) else shape[-1] + 1
                if self.chance(0.2):
                    size = [size]
            layer = {"type": "LayerNorm", "normalized_shape": size}
            if self.chance(0.15):
                layer["elementwise_affine"] = False
            elif self.chance(0.15):
                layer["bias"] = False
            if self.chance(0.1):
                layer["eps"] = 0.001
            layers.append(layer)
            self.broken = (size if isinstance(size, list) else [size]) != shape[len(shape) - (len(size) if isinstance(size, list) else 1):]
            return shape, time_axis
        if roll < 0.68 and rank == 3 and time_axis == 1:
            transposed = self.chance(0.9)
            if transposed:
                layers.append(self.pick([{"type": "Transpose", "dim0": 1, "dim1": 2},
                                         {"type": "Permute", "dims": [0, 2, 1]}]))
                shape = [shape[0], shape[2], shape[1]]
            self.conv(layers, shape, 1)
            if not self.broken and self.chance(0.3):
                self.pool(layers, shape, 1)
            if not self.broken and self.chance(0.3):
                layer = {"type": "BatchNorm1d", "num_features": shape[1]}
                if self.chance(0.3):
                    layer.update(self.pick([{"affine": False}, {"track_running_stats": False}, {"momentum": None},
                                            {"bias": False}, {"eps": 0.001}]))
                layers.append(layer)
            if not self.broken and transposed:
                layers.append({"type": "Transpose", "dim0": 1, "dim1": 2})
                shape = [shape[0], shape[2], shape[1]]
            return shape, time_axis
        if roll < 0.74 and rank in (2, 3):
            # BatchNorm1d on (N, C) or (N, C, L); on (N, T, F) without a transpose it needs T features
            features = shape[1] if self.chance(0.75) else shape[-1]
            layer = {"type": "BatchNorm1d", "num_features": features}
            if self.chance(0.3):
                layer.update(self.pick([{"affine": False}, {"track_running_stats": False}, {"momentum": None},
                                        {"bias": False}]))
            layers.append(layer)
            self.broken = features != shape[1]
            return shape, time_axis
        if roll < 0.8 and rank >= 3:
            if self.chance(0.5):
                layers.append({"type": "Flatten"})
                return [shape[0], shape[1] * shape[2]], time_axis
            if shape[-1] % 2 == 0:
                layers.append({"type": "Unflatten", "dim": -1, "unflattened_size": [2, -1]})
                layers.append({"type": "Flatten", "start_dim": -2})
                return shape, time_axis
            layers.append({"type": "Flatten", "start_dim": 1, "end_dim": 2})
            return [shape[0], shape[1] * shape[2]], time_axis
        if roll < 0.84 and rank in (2, 3):
            if self.chance(0.5) and shape[-1] > 2:
                length = self.pick([1, 2])
                layers.append({"type": "Narrow", "dim": -1, "start": self.pick([0, 1]), "length": length})
                return shape[:-1] + [length], time_axis
            if rank == 2:
                layers.append({"type": "Unsqueeze", "dim": 1})
                return [shape[0], 1, shape[1]], 1
            layers.append({"type": "Unflatten", "dim": -1, "unflattened_size": [1, -1]})
            layers.append({"type": "Flatten", "start_dim": 2})
            return shape, time_axis
        if roll < 0.95:
            layers.append(self.activation())
            return shape, time_axis
        layers.append({"type": "Dropout", "p": self.pick([0.1, 0.5, 0.0])})
        if self.chance(0.2):
            layers[-1]["inplace"] = True
        return shape, time_axis


class OddChainDraw(WideChainDraw):
    """`--odd` (on top of --wide's draws): what people get wrong more often than --wide draws it —
    modules built with another `dtype` than the input's, float64 and float16 inputs, step arguments
    out of range (Select, Narrow, Transpose, Permute, Unsqueeze, Mean/Amax over several or repeated
    axes), nn.Softmax without `dim`, Flatten with start_dim after end_dim, Dropout(p=1.5),
    MaxPool1d/MaxPool2d with return_indices, Linear on an image, Embedding of 2-D ids, recurrent
    modules on 4-D tensors, Conv1d on a time-major tensor, LayerNorm over more axes than there are,
    Unflatten with two -1. The --wide seeds draw as before."""

    def chain(self) -> Dict[str, Any]:
        spec = super().chain()
        if self.chance(0.15) and not isinstance(spec["input"], dict):
            spec["input"] = {"shape": spec["input"], "dtype": self.pick(["float64", "float16"])}
        if self.chance(0.15):
            candidates = [layer for layer in spec["layers"] if layer["type"] in (
                "LSTM", "GRU", "RNN", "Linear", "Conv1d", "Conv2d", "LayerNorm", "BatchNorm1d", "Embedding")]
            if candidates:
                self.pick(candidates)["dtype"] = self.pick(["float64", "float16", "float32"])
        return spec

    def image(self, layers: List[Dict[str, Any]], shape: List[int]) -> None:
        if self.chance(0.2):
            layer: Dict[str, Any] = {"type": "MaxPool2d", "kernel_size": 2, "return_indices": True}
            layers.append(layer)
            shape[2:] = [size // 2 for size in shape[2:]]
            if min(shape[2:]) < 1:
                self.broken = True
                return
        if self.chance(0.15):
            layers.append({"type": "Linear", "out_features": self.pick([4, 6])})
            shape[3] = layers[-1]["out_features"]
        super().image(layers, shape)

    def step(self, layers: List[Dict[str, Any]], shape: List[int], time_axis: int, batch_first: bool):
        rank = len(shape)
        if not self.chance(0.3):
            if rank == 3 and time_axis == 0 and self.chance(0.1):
                conv = {"type": "Conv1d", "out_channels": self.pick([4, 8]), "kernel_size": self.pick([1, 3])}
                layers.append(conv)   # reads (T, N, F) as (N, C, L): runs, means something else
                shape = [shape[0], conv["out_channels"], shape[2] - conv["kernel_size"] + 1]
                self.broken = shape[2] < 1
                return shape, time_axis
            return super().step(layers, shape, time_axis, batch_first)
        roll = self.rng.random()
        if roll < 0.12:
            dim = self.pick([rank, -rank - 1, time_axis, rank - 1])
            layers.append({"type": "Select", "dim": dim, "index": self.pick([0, -1, shape[dim % rank] if
                                                                             -rank <= dim < rank else 0])})
            if not -rank <= dim < rank or layers[-1]["index"] == shape[dim % rank]:
                self.broken = True
                return shape, time_axis
            return shape[:dim % rank] + shape[dim % rank + 1:], time_axis
        if roll < 0.22:
            start, length = self.pick([0, 1, 2]), self.pick([1, 2, shape[-1]])
            layers.append({"type": "Narrow", "dim": self.pick([-1, rank - 1, rank]), "start": start, "length": length})
            self.broken = layers[-1]["dim"] == rank or start + length > shape[-1]
            return shape[:-1] + [length], time_axis
        if roll < 0.32:
            if self.chance(0.5):
                layers.append({"type": "Transpose", "dim0": self.pick([0, 1, -1]), "dim1": self.pick([2, rank, -2])})
                if max(layers[-1]["dim0"], layers[-1]["dim1"]) >= rank or min(layers[-1]["dim0"],
                                                                                layers[-1]["dim1"]) < -rank:
                    self.broken = True
                    return shape, time_axis
                a, b = layers[-1]["dim0"] % rank, layers[-1]["dim1"] % rank
                shape = list(shape)
                shape[a], shape[b] = shape[b], shape[a]
                return shape, time_axis
            dims = list(range(rank))
            self.rng.shuffle(dims)
            if self.chance(0.3):
                dims = dims[:-1] if self.chance(0.5) else dims + [0]
            layers.append({"type": "Permute", "dims": dims})
            if sorted(dims) != list(range(rank)):
                self.broken = True
                return shape, time_axis
            return [shape[axis] for axis in dims], time_axis
        if roll < 0.4:
            layers.append({"type": "Unsqueeze", "dim": self.pick([0, rank, -1, rank + 1, -rank - 2])})
            dim = layers[-1]["dim"]
            if not -rank - 1 <= dim <= rank:
                self.broken = True
                return shape, time_axis
            axis = dim % (rank + 1)
            return shape[:axis] + [1] + shape[axis:], time_axis
        if roll < 0.5 and rank >= 2:
            dims = self.pick([[1, 2], [1, 1], [-1], [0], [rank]])
            layer = {"type": self.pick(["Mean", "Amax"]), "dim": dims}
            if self.chance(0.3):
                layer["keepdim"] = True
            layers.append(layer)
            axes = [dim % rank for dim in dims if -rank <= dim < rank]
            if len(axes) != len(dims) or len(set(axes)) != len(axes):
                self.broken = True
                return shape, time_axis
            if layer.get("keepdim"):
                return [1 if axis in axes else size for axis, size in enumerate(shape)], time_axis
            return [size for axis, size in enumerate(shape) if axis not in axes], time_axis
        if roll < 0.58:
            layer = {"type": "Softmax"}
            if self.chance(0.5):
                layer["dim"] = self.pick([rank, -rank - 1, 0])
                self.broken = layer["dim"] != 0
            layers.append(layer)
            return shape, time_axis
        if roll < 0.64 and rank >= 2:
            layers.append({"type": "Flatten", "start_dim": self.pick([2, -1, rank - 1]), "end_dim": self.pick([1, 0])})
            start, end = layers[-1]["start_dim"] % rank, layers[-1]["end_dim"] % rank
            if start > end:
                self.broken = True
                return shape, time_axis
            merged = 1
            for size in shape[start:end + 1]:
                merged *= size
            return shape[:start] + [merged] + shape[end + 1:], time_axis
        if roll < 0.7:
            layers.append({"type": "Dropout", "p": self.pick([1.5, -0.1, 1.0])})
            self.broken = layers[-1]["p"] != 1.0
            return shape, time_axis
        if roll < 0.78 and rank == 3 and time_axis == 1:
            layers.append({"type": "Transpose", "dim0": 1, "dim1": 2})
            layers.append({"type": "MaxPool1d", "kernel_size": 2, "return_indices": True})
            layers.append({"type": "Transpose", "dim0": 1, "dim1": 2})
            if shape[1] < 2:
                self.broken = True
                return shape, time_axis
            return [shape[0], shape[1] // 2, shape[2]], time_axis
        if roll < 0.86:
            layer = self.recurrent(batch_first)
            layers.append({"type": "Unsqueeze", "dim": 1})
            layers.append(layer)
            self.broken = True   # 4-D into an RNN
            return shape, time_axis
        if roll < 0.93:
            size = shape[-3:] if rank >= 3 else [2] + shape
            layers.append({"type": "LayerNorm", "normalized_shape": list(size) + ([] if rank >= 3 else [])})
            self.broken = len(size) > rank
            return shape, time_axis
        layers.append({"type": "Unflatten", "dim": -1, "unflattened_size": [-1, -1]})
        self.broken = True
        return shape, time_axis


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--wide", action="store_true", help="also the modules and arguments the default leaves out")
    parser.add_argument("--odd", action="store_true", help="--wide, and what people get wrong more often (OddChainDraw)")
    options = parser.parse_args(argv)
    options.wide = options.wide or options.odd
    draw = (OddChainDraw if options.odd else WideChainDraw if options.wide else ChainDraw)(random.Random(options.seed))
    cases = [{"id": f"random-{options.seed}-{index:03d}",
              "note": f"scripts/random_pytorch_cases.py --seed {options.seed}, model {index}",
              "spec": draw.chain()} for index in range(options.count)]
    write_generated_cases(cases, "random_pytorch_cases.py",
                          "record_pytorch_modules.py (random_odd_seed<N>_reference.json)" if options.odd else
                          "record_pytorch_modules.py (random_wide_seed<N>_reference.json)"
                          if options.wide else "record_pytorch_modules.py (random_reference.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
