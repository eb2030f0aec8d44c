"""LayerNormalization and BatchNormalization (moving statistics are non-trainable)."""

from __future__ import annotations

from typing import List, Sequence

from ..shapes import Shape, format_shape
from .arguments import Arg, anything, axis, boolean, number
from .base import NO_MACS, Layer, MacCount, ShapeProblem, TensorSpec, Weight, register


def _resolve_axes(layer: Layer, shape: Shape) -> List[int]:
    axes = layer["axis"]
    axes = list(axes) if isinstance(axes, tuple) else [axes]
    rank = len(shape)
    resolved = []
    for item in axes:
        if not -rank <= item < rank:
            raise ShapeProblem("H004", f"Invalid axis: {item} for input of rank {rank} "
                                       f"(shape {format_shape(shape)}).",
                               f"Use an axis between {-rank} and {rank - 1}; -1 is the features axis.",
                               argument="axis")
        resolved.append(item % rank)
    return resolved


@register
class LayerNormalization(Layer):
    keras_class = "LayerNormalization"
    supports_masking = True
    arguments = (
        Arg("axis", axis, -1),
        Arg("epsilon", number, 0.001),
        Arg("center", boolean, True),
        Arg("scale", boolean, True),
        Arg("beta_initializer", anything, "zeros"),
        Arg("gamma_initializer", anything, "ones"),
        Arg("beta_regularizer", anything, None),
        Arg("gamma_regularizer", anything, None),
        Arg("beta_constraint", anything, None),
        Arg("gamma_constraint", anything, None),
        Arg("rms_scaling", boolean, False),
    )

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        shape = inputs[0].shape
        axes = sorted(_resolve_axes(self, shape)) if isinstance(self["axis"], tuple) \
            else _resolve_axes(self, shape)
        param_shape = tuple(shape[item] for item in axes)
        weights = []
        if self["scale"] or self["rms_scaling"]:
            weights.append(self.weight("gamma", param_shape))
        if self["center"] and not self["rms_scaling"]:
            weights.append(self.weight("beta", param_shape))
        return weights

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # scale and shift are element-wise (docs/compute.md)

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        _resolve_axes(self, inputs[0].shape)
        return [inputs[0].shape]


@register
class BatchNormalization(Layer):
    keras_class = "BatchNormalization"
    supports_masking = True
    arguments = (
        Arg("axis", axis, -1),
        Arg("momentum", number, 0.99),
        Arg("epsilon", number, 0.001),
        Arg("center", boolean, True),
        Arg("scale", boolean, True),
        Arg("beta_initializer", anything, "zeros"),
        Arg("gamma_initializer", anything, "ones"),
        Arg("moving_mean_initializer", anything, "zeros"),
        Arg("moving_variance_initializer", anything, "ones"),
        Arg("beta_regularizer", anything, None),
        Arg("gamma_regularizer", anything, None),
        Arg("beta_constraint", anything, None),
        Arg("gamma_constraint", anything, None),
        Arg("renorm", boolean, False),
        Arg("renorm_clipping", anything, None),
        Arg("renorm_momentum", number, 0.99),
        Arg("synchronized", boolean, False),
    )

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        shape = inputs[0].shape
        if isinstance(self["axis"], tuple):
            raise ShapeProblem("S005", "BatchNormalization takes one integer `axis`.",
                               "Write e.g. `axis: -1`.", argument="axis")
        (index,) = _resolve_axes(self, shape)
        param_shape = (shape[index],)
        weights = []
        if self["scale"]:
            weights.append(self.weight("gamma", param_shape))
        if self["center"]:
            weights.append(self.weight("beta", param_shape))
        weights.append(self.weight("moving_mean", param_shape, trainable=False))
        weights.append(self.weight("moving_variance", param_shape, trainable=False))
        if self["renorm"]:
            for name in ("moving_stddev", "renorm_mean", "renorm_stddev"):
                weights.append(self.weight(name, param_shape, trainable=False))
        return weights

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # scale and shift are element-wise (docs/compute.md)

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        _resolve_axes(self, inputs[0].shape)
        return [inputs[0].shape]
