#!/usr/bin/env python3
"""Random stacked models, as people write them, for recording against real Keras.

    python scripts/random_keras_cases.py --count 300 --seed 13 --run 0.3 > tests/fixtures/keras/random_seed13_cases.yaml
    TF_CPP_MIN_LOG_LEVEL=3 /path/to/kerasenv/bin/python scripts/record_keras_reference.py \
        --cases tests/fixtures/keras/random_seed13_cases.yaml --out tests/fixtures/keras/random_seed13_reference.json

The hand-written cases test the rules one at a time; these combine them the way models in the
wild do — recurrent stacks with return_sequences set right or wrong, Bidirectional merges,
TimeDistributed heads, convolutions and pooling before an RNN, Embedding with masks, reshaping
layers — with arguments drawn from the values people use, so that about half are rejected. The
output is deterministic for a seed. `--graphs` draws functional graphs instead (several inputs
and outputs, merges, encoder states as a decoder's initial_state), for
scripts/record_keras_functional.py:

    python scripts/random_keras_cases.py --count 300 --seed 31 --graphs --run 0.3 \
        > tests/fixtures/keras/random_graph_seed31_cases.yaml
`--wide` adds the layers and arguments the default draws leave out (WideDraw), `--varied` on top the
arguments neither sets (VariedDraw); old seeds generate what they always did:

    python scripts/random_keras_cases.py --varied --count 300 --seed 65 --run 0.3 \
        > tests/fixtures/keras/random_varied_seed65_cases.yaml

tests/test_keras_reference.py compares lstmcalc with every recorded case. Needs only PyYAML.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from typing import Any, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recorder_cases import RandomDraws, write_generated_cases  # noqa: E402

ACTIVATIONS = ["tanh", "relu", "sigmoid", "linear", "softmax", "elu", "selu", "gelu", "hard_sigmoid", "swish"]


class ModelDraw(RandomDraws):
    """One random model: its input and the rank of the tensor the next layer receives."""

    def recurrent(self, sequences: Optional[bool] = None) -> Dict[str, Any]:
        kind = self.pick(["LSTM", "LSTM", "GRU", "SimpleRNN"])
        layer: Dict[str, Any] = {"type": kind, "units": self.pick([1, 4, 8, 16, 32, 50, 64])}
        layer["return_sequences"] = sequences if sequences is not None else self.chance(0.5)
        if self.chance(0.15):
            layer["go_backwards"] = True
        if self.chance(0.15):
            layer["activation"] = self.pick(ACTIVATIONS)
        if self.chance(0.1):
            layer["use_bias"] = False
        if kind == "GRU" and self.chance(0.3):
            layer["reset_after"] = False
        if kind == "LSTM" and self.chance(0.1):
            layer["unit_forget_bias"] = False
        if self.chance(0.1):
            layer["dropout"] = self.pick([0.1, 0.2, 0.5])
        return layer

    def wrapped_recurrent(self, sequences: Optional[bool] = None) -> Dict[str, Any]:
        inner = self.recurrent(sequences)
        inner.pop("go_backwards", None)  # Bidirectional refuses it (a rule of its own, covered elsewhere)
        wrapper: Dict[str, Any] = {"type": "Bidirectional", "layer": inner}
        if self.chance(0.4):
            wrapper["merge_mode"] = self.pick(["concat", "sum", "ave", "mul"])
        return wrapper

    def dense(self) -> Dict[str, Any]:
        layer: Dict[str, Any] = {"type": "Dense", "units": self.pick([1, 2, 3, 10, 32, 64])}
        if self.chance(0.5):
            layer["activation"] = self.pick(ACTIVATIONS)
        if self.chance(0.1):
            layer["use_bias"] = False
        return layer

    def sequence_layer(self) -> Dict[str, Any]:
        """A layer that takes a (batch, steps, features) tensor."""
        choice = self.pick(["conv", "pool", "td", "norm", "drop", "act", "conv", "gpool", "flatten", "repeat",
                            "permute", "reshape", "spatial"])
        if choice == "conv":
            layer: Dict[str, Any] = {"type": "Conv1D", "filters": self.pick([4, 8, 16, 32]),
                                     "kernel_size": self.pick([1, 2, 3, 5])}
            if self.chance(0.4):
                layer["padding"] = self.pick(["same", "valid", "causal"])
            if self.chance(0.25):
                layer["strides"] = self.pick([1, 2])
            elif self.chance(0.15):
                layer["dilation_rate"] = self.pick([2, 3])
            if self.chance(0.3):
                layer["activation"] = "relu"
            return layer
        if choice == "pool":
            layer = {"type": self.pick(["MaxPooling1D", "AveragePooling1D"]), "pool_size": self.pick([2, 3])}
            if self.chance(0.3):
                layer["padding"] = "same"
            return layer
        if choice == "td":
            return {"type": "TimeDistributed", "layer": self.dense()}
        if choice == "norm":
            return {"type": self.pick(["LayerNormalization", "BatchNormalization"])}
        if choice == "drop":
            return {"type": "Dropout", "rate": self.pick([0.1, 0.3, 0.5])}
        if choice == "act":
            return {"type": "Activation", "activation": self.pick(ACTIVATIONS)}
        if choice == "gpool":
            return {"type": self.pick(["GlobalAveragePooling1D", "GlobalMaxPooling1D"])}
        if choice == "flatten":
            return {"type": "Flatten"}
        if choice == "repeat":
            return {"type": "RepeatVector", "n": self.pick([2, 5])}
        if choice == "permute":
            return {"type": "Permute", "dims": [2, 1]}
        if choice == "reshape":
            return {"type": "Reshape", "target_shape": self.pick([[-1], [-1, 2], [2, -1]])}
        return {"type": "SpatialDropout1D", "rate": 0.2}

    def image_layer(self, rank: int) -> Dict[str, Any]:
        """A layer for a (batch, steps, height, width, channels) tensor (rank 5) or an image (rank 4)."""
        if rank == 5:
            choice = self.pick(["convlstm", "convlstm", "td-conv", "td-pool", "pool3d", "conv3d", "norm", "td-flatten"])
            if choice == "convlstm":
                layer: Dict[str, Any] = {"type": "ConvLSTM2D", "filters": self.pick([2, 4, 8]),
                                         "kernel_size": self.pick([1, 3]), "return_sequences": self.chance(0.6)}
                if self.chance(0.4):
                    layer["padding"] = "same"
                if self.chance(0.2):
                    layer["strides"] = 2
                return layer
            if choice == "td-conv":
                return {"type": "TimeDistributed", "layer": {"type": "Conv2D", "filters": self.pick([2, 4]),
                                                             "kernel_size": 3, "padding": self.pick(["same", "valid"])}}
            if choice == "td-pool":
                return {"type": "TimeDistributed", "layer": {"type": "MaxPooling2D", "pool_size": 2}}
            if choice == "td-flatten":
                return {"type": "TimeDistributed", "layer": {"type": "Flatten"}}
            if choice == "pool3d":
                return {"type": self.pick(["MaxPooling3D", "AveragePooling3D", "GlobalAveragePooling3D"])}
            if choice == "conv3d":
                return {"type": "Conv3D", "filters": self.pick([2, 4]), "kernel_size": self.pick([1, 3])}
            return {"type": "BatchNormalization"}
        choice = self.pick(["conv", "pool", "gpool", "flatten", "upsample", "pad", "crop"])
        if choice == "conv":
            return {"type": "Conv2D", "filters": self.pick([2, 4, 8]), "kernel_size": self.pick([1, 2, 3]),
                    "padding": self.pick(["same", "valid"]), "strides": self.pick([1, 1, 2])}
        if choice == "pool":
            return {"type": self.pick(["MaxPooling2D", "AveragePooling2D"]), "pool_size": self.pick([2, 3])}
        if choice == "gpool":
            return {"type": self.pick(["GlobalAveragePooling2D", "GlobalMaxPooling2D"])}
        if choice == "upsample":
            return {"type": "UpSampling2D", "size": self.pick([2, [1, 2]])}
        if choice == "pad":
            return {"type": "ZeroPadding2D", "padding": self.pick([1, [1, 2]])}
        if choice == "crop":
            return {"type": "Cropping2D", "cropping": self.pick([1, [[1, 0], [0, 1]]])}
        return {"type": "Flatten"}

    def video(self) -> Dict[str, Any]:
        """A sequence of images: ConvLSTM2D, TimeDistributed convolutions, 3-D layers."""
        size = self.pick([6, 8, 9, 16])
        spec: Dict[str, Any] = {"input": [self.pick([None, 3, 5]), size, size, self.pick([1, 3])], "layers": []}
        rank = 5
        for _ in range(self.pick([1, 2, 3, 4])):
            layer = self.image_layer(rank) if rank in (4, 5) else self.sequence_layer()
            spec["layers"].append(layer)
            if layer.get("type") == "ConvLSTM2D" and not layer["return_sequences"]:
                rank = 4
            elif layer.get("type") in ("GlobalAveragePooling3D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
                                       "Flatten"):
                rank = 2
            elif layer.get("layer", {}).get("type") == "Flatten":
                rank = 3
        if self.chance(0.6):
            spec["layers"].append(self.pick([{"type": "Flatten"}, {"type": "GlobalAveragePooling2D"}]))
            spec["layers"].append(self.dense())
        return spec

    def stack(self) -> Dict[str, Any]:
        if self.chance(0.2):
            return self.video()
        spec: Dict[str, Any] = {}
        steps = self.pick([None, 1, 5, 10, 12, 30])
        features = self.pick([1, 3, 8, 10])
        layers: List[Dict[str, Any]] = []
        if self.chance(0.2):
            spec["input"] = {"shape": [steps if steps is not None else self.pick([None, 20])], "dtype": "int32"}
            embedding: Dict[str, Any] = {"type": "Embedding", "input_dim": self.pick([100, 1000, 5001]),
                                         "output_dim": self.pick([8, 16, 32])}
            if self.chance(0.5):
                embedding["mask_zero"] = True
            layers.append(embedding)
        else:
            spec["input"] = [steps, features]
            if self.chance(0.15):
                layers.append({"type": "Masking", "mask_value": 0.0})
        if self.chance(0.15):
            spec["batch_size"] = self.pick([1, 8, 32])
        depth = self.pick([1, 2, 2, 3, 3, 4, 5])
        for index in range(depth):
            last = index == depth - 1
            roll = self.rng.random()
            if roll < 0.45:
                # Mostly right: a recurrent layer before another returns sequences.
                sequences = None if self.chance(0.3) else (not last and self.chance(0.85))
                layers.append(self.recurrent(sequences))
            elif roll < 0.6:
                sequences = None if self.chance(0.3) else (not last and self.chance(0.85))
                layers.append(self.wrapped_recurrent(sequences))
            elif roll < 0.85:
                layers.append(self.sequence_layer())
            else:
                layers.append(self.dense())
        if self.chance(0.7):
            layers.append(self.dense())
        spec["layers"] = layers
        return spec


class GraphDraw(ModelDraw):
    """A random functional graph: several inputs, branches, merges, encoder states handed to a
    decoder as initial_state, several outputs (the layers are named, so references are plain)."""

    def graph(self) -> Dict[str, Any]:
        inputs: Dict[str, Any] = {}
        tensors: List[tuple] = []  # (reference, rank, last axis or None)
        for index in range(self.pick([1, 2, 2, 3])):
            name = f"in{index}"
            if self.chance(0.6):
                steps, features = self.pick([None, 5, 10]), self.pick([3, 8])
                inputs[name] = {"shape": [steps, features]}
                tensors.append((name, 3, features))
            else:
                features = self.pick([4, 8])
                inputs[name] = {"shape": [features]}
                tensors.append((name, 2, features))
        layers: List[Dict[str, Any]] = []
        states: List[tuple] = []  # ([h, c] references, units, kind)
        consumed = set()
        for index in range(self.pick([2, 3, 4, 5, 6])):
            layer: Dict[str, Any]
            sequences = [t for t in tensors if t[1] == 3]
            roll = self.rng.random()
            name = f"l{index}"
            if roll < 0.4 and sequences:
                source = self.pick(sequences)
                layer = self.recurrent(self.chance(0.5))
                layer.pop("go_backwards", None)
                if states and self.chance(0.5):
                    given, units, kind = self.pick(states)
                    layer["units"] = units if self.chance(0.85) else units + 1
                    layer["type"] = kind if self.chance(0.85) else self.pick(["LSTM", "GRU"])
                    layer["initial_state"] = given
                elif layer["type"] != "SimpleRNN" and self.chance(0.4):
                    layer["return_state"] = True
                layer["inputs"] = source[0]
                consumed.add(source[0])
                layer["name"] = name
                rank = 3 if layer["return_sequences"] else 2
                if layer.get("return_state"):
                    count = 3 if layer["type"] == "LSTM" else 2
                    states.append(([f"{name}[{i}]" for i in range(1, count)], layer["units"], layer["type"]))
                    tensors.append((f"{name}[0]", rank, layer["units"]))
                else:
                    tensors.append((name, rank, layer["units"]))
            elif roll < 0.65 and len(tensors) >= 2:
                first, second = self.rng.sample(tensors, 2)
                kind = self.pick(["Concatenate", "Concatenate", "Add", "Multiply", "Average", "Subtract", "Maximum"])
                layer = {"type": kind, "inputs": [first[0], second[0]]}
                if kind == "Concatenate" and self.chance(0.3):
                    layer["axis"] = self.pick([1, -1, 2])
                consumed.update([first[0], second[0]])
                layer["name"] = name
                width = (first[2] or 0) + (second[2] or 0) if kind == "Concatenate" else first[2]
                tensors.append((name, first[1], width))
            else:
                source = self.pick(tensors)
                layer = self.dense() if source[1] == 2 or self.chance(0.5) else self.sequence_layer()
                layer["inputs"] = source[0]
                consumed.add(source[0])
                layer["name"] = name
                tensors.append((name, source[1], layer.get("units", source[2])))
            layers.append(layer)
        spec: Dict[str, Any] = {"inputs": inputs, "layers": layers}
        ends = [layer["name"] for layer in layers if layer["name"] not in consumed
                and not any(str(item).startswith(layer["name"] + "[") or item == layer["name"]
                            for other in layers for item in _references(other))]
        if ends and self.chance(0.5):
            spec["outputs"] = ends
        return spec


class WideDraw(GraphDraw):
    """`--wide`: the layers and arguments the default draws leave out — 1-D cropping, padding and
    upsampling, grouped and strided convolutions, ConvLSTM1D, stateful and unrolled RNNs, return_state
    inside a stack, explicit Reshape sizes, attention and Dot merges in graphs."""

    def recurrent(self, sequences: Optional[bool] = None) -> Dict[str, Any]:
        layer = super().recurrent(sequences)
        roll = self.rng.random()
        if roll < 0.1:
            layer["stateful"] = True
        elif roll < 0.2:
            layer["unroll"] = True
        elif roll < 0.28 and layer["type"] != "SimpleRNN":
            layer["return_state"] = True
        if self.chance(0.1):
            layer["recurrent_activation"] = self.pick(["hard_sigmoid", "relu", "tanh"])
        return layer

    def sequence_layer(self) -> Dict[str, Any]:
        choice = self.pick(["crop", "pad", "upsample", "grouped", "convlstm1d", "reshape", "other", "other"])
        if choice == "crop":
            return {"type": "Cropping1D", "cropping": self.pick([1, [1, 2], [0, 3]])}
        if choice == "pad":
            return {"type": "ZeroPadding1D", "padding": self.pick([1, [2, 0]])}
        if choice == "upsample":
            return {"type": "UpSampling1D", "size": self.pick([2, 3])}
        if choice == "grouped":
            return {"type": "Conv1D", "filters": self.pick([4, 6, 8]), "kernel_size": 3, "groups": self.pick([2, 3]),
                    "strides": self.pick([1, 2]), "padding": self.pick(["same", "valid"])}
        if choice == "convlstm1d":
            return {"type": "TimeDistributed", "layer": {"type": "Reshape", "target_shape": [-1, 1]}} \
                if self.chance(0.5) else {"type": "ConvLSTM1D", "filters": 4, "kernel_size": 2}
        if choice == "reshape":
            return {"type": "Reshape", "target_shape": self.pick([[5, -1], [10, 2], [-1, 4], [3, 3, -1]])}
        return super().sequence_layer()

    def graph(self) -> Dict[str, Any]:
        spec = super().graph()
        sequences = [name for name, item in spec["inputs"].items() if len(item["shape"]) == 2]
        if len(sequences) >= 1 and self.chance(0.5):
            kind = self.pick(["Attention", "AdditiveAttention", "Dot"])
            query = self.pick(sequences)
            value = self.pick(sequences)
            layer: Dict[str, Any] = {"type": kind, "name": "attend", "inputs": [query, value]}
            if kind == "Dot":
                layer["axes"] = self.pick([2, [2, 2], 1])
            elif self.chance(0.3):
                layer["use_scale"] = True
            spec["layers"].append(layer)
            spec.pop("outputs", None)
        return spec


class VariedDraw(WideDraw):
    """`--varied`: the arguments and layer types neither default nor wide draws set — data_format
    channels_first, keepdims, normalization axes, center/scale/rms_scaling, per-layer dtypes and
    trainable=False, Bidirectional backward layers, merge_mode None and return_state, ConvLSTM options
    (dilation, go_backwards, return_state, ConvLSTM3D), 3-D upsampling and pooling, TimeDistributed over
    more layer types, explicit names, Minimum, Dot normalize and Attention score_mode/dropout."""

    def _common(self, layer: Dict[str, Any]) -> Dict[str, Any]:
        """Keywords every layer takes: a dtype policy, trainable=False."""
        if self.chance(0.08):
            layer["dtype"] = self.pick(["float64", "float16", "bfloat16", "mixed_float16", "mixed_bfloat16"])
        if self.chance(0.06):
            layer["trainable"] = False
        return layer

    def recurrent(self, sequences: Optional[bool] = None) -> Dict[str, Any]:
        layer = super().recurrent(sequences)
        if self.chance(0.1):
            layer["recurrent_dropout"] = self.pick([0.1, 0.3])
        if layer["type"] != "SimpleRNN" and self.chance(0.1):
            layer["implementation"] = self.pick([1, 2])
        if layer["type"] != "SimpleRNN" and self.chance(0.08):
            layer["use_cudnn"] = self.pick([False, "auto"])
        if self.chance(0.05):
            layer["activation"] = None
        return self._common(layer)

    def wrapped_recurrent(self, sequences: Optional[bool] = None) -> Dict[str, Any]:
        wrapper = super().wrapped_recurrent(sequences)
        inner = wrapper["layer"]
        inner.pop("stateful", None)  # covered by the wide draws; keeps batch-size failures rare
        roll = self.rng.random()
        if roll < 0.25:
            backward = dict(inner)
            backward["go_backwards"] = self.chance(0.85)
            if self.chance(0.2):
                backward["units"] = self.pick([4, 8, 16])
            if self.chance(0.15):
                backward["return_sequences"] = not inner.get("return_sequences", False)
            if self.chance(0.15):
                backward["type"] = self.pick(["LSTM", "GRU", "SimpleRNN"])
                for key in ("reset_after", "unit_forget_bias", "implementation", "use_cudnn"):
                    backward.pop(key, None)
            wrapper["backward_layer"] = backward
        if self.chance(0.1):
            wrapper["merge_mode"] = None
        if self.chance(0.1) and inner["type"] != "SimpleRNN":
            inner["return_state"] = True
        return self._common(wrapper)

    def dense(self) -> Dict[str, Any]:
        return self._common(super().dense())

    def sequence_layer(self) -> Dict[str, Any]:
        choice = self.pick(["conv", "pool", "gpool", "lnorm", "bnorm", "td", "permute", "repeat", "embed",
                            "flatten", "dense3", "wide", "wide"])
        if choice == "conv":
            layer: Dict[str, Any] = {"type": "Conv1D", "filters": self.pick([2, 4, 6]),
                                     "kernel_size": self.pick([1, 2, 3, [3]])}
            if self.chance(0.4):
                layer["data_format"] = "channels_first"
            if self.chance(0.3):
                layer["padding"] = self.pick(["same", "valid", "causal"])
            if self.chance(0.3):
                layer["dilation_rate"] = self.pick([1, 2, [2]])
            if self.chance(0.25):
                layer["strides"] = self.pick([2, [1]])
            if self.chance(0.2):
                layer["groups"] = self.pick([1, 2])
            if self.chance(0.2):
                layer["use_bias"] = False
            return self._common(layer)
        if choice == "pool":
            layer = {"type": self.pick(["MaxPooling1D", "AveragePooling1D"]), "pool_size": self.pick([1, 2, 3, [2]])}
            if self.chance(0.4):
                layer["strides"] = self.pick([1, 2, 3, None])
            if self.chance(0.3):
                layer["padding"] = self.pick(["same", "valid"])
            if self.chance(0.4):
                layer["data_format"] = "channels_first"
            return self._common(layer)
        if choice == "gpool":
            layer = {"type": self.pick(["GlobalAveragePooling1D", "GlobalMaxPooling1D"])}
            if self.chance(0.5):
                layer["keepdims"] = True
            if self.chance(0.4):
                layer["data_format"] = "channels_first"
            return self._common(layer)
        if choice == "lnorm":
            layer = {"type": "LayerNormalization"}
            if self.chance(0.5):
                layer["axis"] = self.pick([-1, 1, 2, -2, [1, 2], [-1], 3])
            if self.chance(0.3):
                layer["center"] = False
            if self.chance(0.3):
                layer["scale"] = False
            if self.chance(0.2):
                layer["rms_scaling"] = True
            return self._common(layer)
        if choice == "bnorm":
            layer = {"type": "BatchNormalization"}
            if self.chance(0.5):
                layer["axis"] = self.pick([-1, 1, 2, -2, [1, 2], 3])
            if self.chance(0.3):
                layer["center"] = False
            if self.chance(0.3):
                layer["scale"] = False
            if self.chance(0.15):
                layer["renorm"] = True
            if self.chance(0.1):
                layer["synchronized"] = True
            return self._common(layer)
        if choice == "td":
            inner = self.pick([{"type": "Dropout", "rate": 0.2}, {"type": "BatchNormalization"},
                               {"type": "LayerNormalization"}, {"type": "RepeatVector", "n": 2},
                               {"type": "Reshape", "target_shape": [-1, 1]}, {"type": "Activation", "activation": "relu"},
                               {"type": "Dense", "units": 3, "use_bias": False}, {"type": "Flatten"},
                               {"type": "Embedding", "input_dim": 10, "output_dim": 2}])
            return self._common({"type": "TimeDistributed", "layer": dict(inner)})
        if choice == "permute":
            return {"type": "Permute", "dims": self.pick([[1, 2], [2, 1], [1], [3, 1, 2], [2, 2]])}
        if choice == "repeat":
            return {"type": "RepeatVector", "n": self.pick([1, 3])}
        if choice == "embed":
            layer = {"type": "Embedding", "input_dim": 20, "output_dim": self.pick([2, 4])}
            if self.chance(0.4):
                layer["mask_zero"] = True
            return self._common(layer)
        if choice == "flatten":
            layer = {"type": "Flatten"}
            if self.chance(0.5):
                layer["data_format"] = "channels_first"
            return layer
        if choice == "dense3":
            return self.dense()
        return super().sequence_layer()

    def image_layer(self, rank: int) -> Dict[str, Any]:
        first = self.chance(0.3)
        if rank == 5 and self.chance(0.6):
            choice = self.pick(["convlstm", "convlstm", "bi-convlstm", "up3d", "gpool3d", "conv3d", "pool3d", "td-conv"])
            if choice in ("convlstm", "bi-convlstm"):
                layer: Dict[str, Any] = {"type": "ConvLSTM2D", "filters": self.pick([1, 2, 4]),
                                         "kernel_size": self.pick([1, 2, 3, [3, 1]]),
                                         "return_sequences": self.chance(0.6)}
                if first:
                    layer["data_format"] = "channels_first"
                if self.chance(0.3):
                    layer["padding"] = "same"
                if self.chance(0.2):
                    layer["dilation_rate"] = self.pick([2, [1, 2]])
                if self.chance(0.2):
                    layer["strides"] = self.pick([2, [2, 1]])
                if self.chance(0.15):
                    layer["go_backwards"] = True
                if self.chance(0.15):
                    layer["use_bias"] = False
                if self.chance(0.15):
                    layer["unit_forget_bias"] = False
                if self.chance(0.1):
                    layer["return_state"] = True
                if choice == "bi-convlstm":
                    layer.pop("go_backwards", None)
                    wrapper: Dict[str, Any] = {"type": "Bidirectional", "layer": layer}
                    if self.chance(0.5):
                        wrapper["merge_mode"] = self.pick(["concat", "sum", "ave", "mul"])
                    return wrapper
                return self._common(layer)
            if choice == "up3d":
                layer = {"type": "UpSampling3D", "size": self.pick([1, 2, [1, 2, 2]])}
            elif choice == "gpool3d":
                layer = {"type": self.pick(["GlobalMaxPooling3D", "GlobalAveragePooling3D"])}
                if self.chance(0.4):
                    layer["keepdims"] = True
            elif choice == "conv3d":
                layer = {"type": "Conv3D", "filters": self.pick([2, 4]), "kernel_size": self.pick([1, 2, [1, 3, 3]])}
                if self.chance(0.3):
                    layer["strides"] = self.pick([2, [1, 2, 2]])
                if self.chance(0.3):
                    layer["padding"] = "same"
                if self.chance(0.2):
                    layer["groups"] = self.pick([1, 3])
                if self.chance(0.2):
                    layer["dilation_rate"] = 2
            elif choice == "pool3d":
                layer = {"type": self.pick(["MaxPooling3D", "AveragePooling3D"]), "pool_size": self.pick([1, 2, [1, 2, 2]])}
                if self.chance(0.3):
                    layer["padding"] = "same"
                if self.chance(0.3):
                    layer["strides"] = self.pick([1, [1, 2, 2]])
            else:
                inner = self.pick([{"type": "Conv2D", "filters": 2, "kernel_size": 2, "strides": 2},
                                   {"type": "UpSampling2D", "size": 2}, {"type": "ZeroPadding2D", "padding": 1},
                                   {"type": "Cropping2D", "cropping": [[1, 0], [0, 1]]},
                                   {"type": "GlobalMaxPooling2D"}, {"type": "AveragePooling2D", "pool_size": 3},
                                   {"type": "ConvLSTM1D", "filters": 2, "kernel_size": 2}])
                return {"type": "TimeDistributed", "layer": dict(inner)}
            if first:
                layer["data_format"] = "channels_first"
            return self._common(layer)
        if rank == 4 and self.chance(0.6):
            choice = self.pick(["conv", "pool", "up", "pad", "crop", "gpool", "convlstm1d"])
            if choice == "conv":
                layer = {"type": "Conv2D", "filters": self.pick([2, 4]), "kernel_size": self.pick([1, 2, 3, [1, 3]])}
                if self.chance(0.3):
                    layer["dilation_rate"] = self.pick([2, [2, 1]])
                if self.chance(0.3):
                    layer["strides"] = self.pick([2, [1, 2]])
                if self.chance(0.3):
                    layer["padding"] = "same"
                if self.chance(0.2):
                    layer["groups"] = self.pick([1, 2, 3])
            elif choice == "pool":
                layer = {"type": self.pick(["MaxPooling2D", "AveragePooling2D"]), "pool_size": self.pick([2, [1, 2], 3])}
                if self.chance(0.3):
                    layer["strides"] = self.pick([1, [2, 1]])
                if self.chance(0.3):
                    layer["padding"] = "same"
            elif choice == "up":
                layer = {"type": "UpSampling2D", "size": self.pick([2, [2, 1]])}
                if self.chance(0.3):
                    layer["interpolation"] = self.pick(["bilinear", "nearest", "bicubic", "area", "lanczos3"])
            elif choice == "pad":
                layer = {"type": "ZeroPadding2D", "padding": self.pick([1, [1, 2], [[1, 0], [2, 2]]])}
            elif choice == "crop":
                layer = {"type": "Cropping2D", "cropping": self.pick([1, [2, 0], [[1, 0], [0, 2]]])}
            elif choice == "gpool":
                layer = {"type": self.pick(["GlobalMaxPooling2D", "GlobalAveragePooling2D"])}
                if self.chance(0.5):
                    layer["keepdims"] = True
            else:
                layer = {"type": "ConvLSTM1D", "filters": 2, "kernel_size": self.pick([1, 2]),
                         "return_sequences": self.chance(0.5)}
                if self.chance(0.3):
                    layer["padding"] = "same"
                if self.chance(0.2):
                    layer["return_state"] = True
            if first:
                layer["data_format"] = "channels_first"
            return self._common(layer)
        return super().image_layer(rank)

    def video(self) -> Dict[str, Any]:
        if self.chance(0.25):
            # a sequence of volumes for ConvLSTM3D, or one volume
            size = self.pick([4, 5, 6])
            spec: Dict[str, Any] = {"input": [self.pick([None, 2, 3]), size, size, size, self.pick([1, 2])],
                                    "layers": []}
            layer: Dict[str, Any] = {"type": "ConvLSTM3D", "filters": self.pick([1, 2]), "kernel_size": self.pick([1, 2, 3]),
                                     "return_sequences": self.chance(0.5)}
            if self.chance(0.3):
                layer["padding"] = "same"
            if self.chance(0.3):
                layer["data_format"] = "channels_first"
            if self.chance(0.2):
                layer["strides"] = 2
            spec["layers"].append(self._common(layer))
            if self.chance(0.5):
                spec["layers"].append(self.pick([{"type": "GlobalAveragePooling3D"}, {"type": "Flatten"},
                                                 {"type": "MaxPooling3D", "pool_size": 2}, {"type": "UpSampling3D"}]))
            if self.chance(0.5):
                spec["layers"].append(self.dense())
            return spec
        spec = super().video()
        if self.chance(0.15):
            spec["input"] = {"shape": spec["input"], "dtype": self.pick(["float16", "float64", "int32"])}
        return spec

    def stack(self) -> Dict[str, Any]:
        spec = super().stack()
        if isinstance(spec["input"], list) and self.chance(0.08):
            spec["input"] = {"shape": spec["input"], "dtype": self.pick(["float16", "float64", "bfloat16", "int32", "bool"])}
        if self.chance(0.08) and len(spec["layers"]) >= 2:
            # explicit names, sometimes the same twice
            for index, layer in enumerate(spec["layers"]):
                if self.chance(0.5):
                    layer["name"] = self.pick([f"layer{index}", "block", "head"])
        return spec

    def graph(self) -> Dict[str, Any]:
        spec = super().graph()
        for layer in spec["layers"]:
            if layer.get("type") in ("Add", "Multiply", "Average", "Subtract", "Maximum") and self.chance(0.2):
                layer["type"] = "Minimum"
            elif layer.get("type") == "Dot" and self.chance(0.4):
                layer["normalize"] = True
            elif layer.get("type") == "Attention" and self.chance(0.5):
                layer["score_mode"] = self.pick(["concat", "dot"])
                if self.chance(0.3):
                    layer["dropout"] = 0.1
            elif layer.get("type") == "AdditiveAttention" and self.chance(0.3):
                layer["use_scale"] = False
            elif layer.get("type") == "Concatenate" and self.chance(0.2):
                layer["axis"] = self.pick([0, -2, 3])
        if self.chance(0.15):
            # a Bidirectional encoder whose states start a decoder
            sequences = [name for name, item in spec["inputs"].items() if len(item["shape"]) == 2]
            if sequences:
                kind = self.pick(["LSTM", "GRU"])
                units = self.pick([4, 8])
                count = 5 if kind == "LSTM" else 3
                spec["layers"].append({"type": "Bidirectional", "name": "bienc", "inputs": self.pick(sequences),
                                       "layer": {"type": kind, "units": units, "return_state": True}})
                decoder: Dict[str, Any] = {"type": "Bidirectional", "name": "bidec", "inputs": self.pick(sequences),
                                           "layer": {"type": kind, "units": units if self.chance(0.8) else units * 2,
                                                     "return_sequences": True},
                                           "initial_state": [f"bienc[{i}]" for i in range(1, count)]}
                if self.chance(0.2):
                    decoder["initial_state"] = decoder["initial_state"][: count // 2]
                spec["layers"].append(decoder)
                spec.pop("outputs", None)
        return spec


def _references(layer: Dict[str, Any]) -> List[str]:
    items = layer.get("inputs", [])
    items = items if isinstance(items, list) else [items]
    return items + list(layer.get("initial_state", []))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--run", type=float, default=0.0, help="share of the cases also run in Keras")
    parser.add_argument("--graphs", action="store_true", help="functional graphs (for record_keras_functional.py)")
    parser.add_argument("--wide", action="store_true", help="also the layers and arguments the default leaves out")
    parser.add_argument("--varied", action="store_true",
                        help="also the arguments neither the default nor --wide sets (VariedDraw)")
    options = parser.parse_args(argv)
    rng = random.Random(options.seed)
    draw = VariedDraw(rng) if options.varied else WideDraw(rng) if options.wide else GraphDraw(rng)
    cases = []
    for index in range(options.count):
        case = {"id": f"random-{options.seed}-{index:03d}",
                "note": f"scripts/random_keras_cases.py --seed {options.seed}, model {index}",
                "spec": draw.graph() if options.graphs else draw.stack()}
        if rng.random() < options.run:
            case["run"] = True  # also run model.predict: the verifier must run what Keras runs
        cases.append(case)
    recorder = ("record_keras_functional.py (random_graph_seed<N>_reference.json)" if options.graphs
                else "record_keras_reference.py (random_seed<N>_reference.json)")
    write_generated_cases(cases, "random_keras_cases.py", recorder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
