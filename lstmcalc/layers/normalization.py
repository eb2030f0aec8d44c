"""LayerNormalization and BatchNormalization (moving statistics are non-trainable)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from ..shapes import Shape, format_shape
from .arguments import Arg, anything, axis, boolean, number
from .explanation import Context, Equation, Math, io_symbols, one_block
from .porting import Entry, port_module, refuse
from .base import (Arrays, Example, Forward, Layer, MacCount, Masks, NO_MACS, Problem, TensorSpec, Weight,
                   WeightArrays, numpy_module, register)

if TYPE_CHECKING:
    from .porting import PortPlan
    from numpy import ndarray


def statistics_dtype(x: "ndarray") -> str:
    """Keras normalises in at least float32 (float16 inputs are upcast)."""
    return "float64" if x.dtype == "float64" else "float32"


def along(vector: "ndarray", axes: Sequence[int], rank: int) -> "ndarray":
    """A weight of the normalised axes' shape, reshaped to broadcast against the input."""
    shape = [1] * rank
    for position, axis_index in enumerate(axes):
        shape[axis_index] = vector.shape[position]
    return vector.reshape(shape)


def _resolve_axes(layer: Layer, shape: Shape) -> List[int]:
    axes = layer["axis"]
    axes = list(axes) if isinstance(axes, tuple) else [axes]
    rank = len(shape)
    resolved = []
    for item in axes:
        if not -rank <= item < rank:
            raise Problem("H004", f"Invalid axis: {item} for input of rank {rank} "
                                       f"(shape {format_shape(shape)}).",
                               f"Use an axis between {-rank} and {rank - 1}; -1 is the features axis.",
                               argument="axis")
        resolved.append(item % rank)
    return resolved


def normalization_math(layer: Layer, where: str, inputs: Sequence[TensorSpec], outputs: Sequence[Shape]) -> Math:
    """y = γ ⊙ (x − μ) / √(σ² + ε) + β, with what μ and σ² are for this layer."""
    epsilon = layer["epsilon"]
    scale = "γ ⊙ " if layer.config.get("scale", True) or layer.config.get("rms_scaling") else ""
    shift = " + β" if layer.config.get("center", True) and not layer.config.get("rms_scaling") else ""
    rhs = f"{scale}(x − μ) / √(σ² + {epsilon}){shift}"
    if layer.config.get("rms_scaling"):
        # Keras 3.15 divides by √(var(x) + ε) here, not by the root mean square, and does not centre.
        rhs, where = f"γ ⊙ x / √(σ² + {epsilon})", "rms_scaling: σ² = variance over the axes; x is not centred"
    return one_block("element-wise", [Equation("y", rhs, where)], io_symbols(inputs, outputs),
                     legend_text="⊙ = element-wise product", layouts={"gamma": "γ", "beta": "β"},
                     headline=f"{layer.keras_class}")


@register
class LayerNormalization(Layer):
    keras_class = "LayerNormalization"
    pytorch_module = "LayerNorm"
    examples = (Example("LayerNormalization()", ((6, 3),)),)
    keeps_shape = True
    statistics = ("μ, σ² = mean and variance of each sample over the normalised axes")
    displayed_arguments = ("axis",)
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

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """keras.ops.layer_normalization: x·inv + (β − mean·inv) with inv = γ / √(var + ε); with
        rms_scaling, x·γ / √(var + ε) (Keras 3 uses the variance there too)."""
        np = numpy_module()
        x = inputs[0].astype(statistics_dtype(inputs[0]), copy=False)
        axes = sorted(set(_resolve_axes(self, x.shape)))  # `axis: [1, 1]` normalises axis 1 once, as Keras
        variance = x.var(axis=tuple(axes), keepdims=True)
        inv = 1 / np.sqrt(variance + x.dtype.type(self["epsilon"]))
        gamma = along(weights["gamma"].astype(x.dtype), axes, x.ndim) if "gamma" in weights else None
        if self["rms_scaling"]:
            y = x * inv if gamma is None else x * inv * gamma
        else:
            if gamma is not None:
                inv = inv * gamma
            shift = -x.mean(axis=tuple(axes), keepdims=True) * inv
            if "beta" in weights:
                shift = shift + along(weights["beta"].astype(x.dtype), axes, x.ndim)
            y = x * inv + shift
        return [self.floating(y)], self.passed_masks(masks, 1)

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        return normalization_math(self, self.statistics, inputs, outputs)

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """nn.LayerNorm over the last axis: weight = gamma, bias = beta, eps = epsilon (Keras's default
        1e-3 is not torch's 1e-5, so it is written out)."""
        rank = len(inputs[0].shape)
        if _resolve_axes(self, inputs[0].shape) != [rank - 1] or self["rms_scaling"] or \
                (self["center"] and not self["scale"]):
            raise refuse(self, framework, "nn.LayerNorm normalises the last axes with a scale (and a shift), "
                                          "centred; this layer has axis, center, scale or rms_scaling otherwise.",
                         "Port a LayerNormalization over the last axis with the default center and scale.")
        arguments = {"normalized_shape": inputs[0].shape[-1], "eps": self["epsilon"]}
        if not self["scale"]:
            arguments["elementwise_affine"] = False
        elif not self["center"]:
            arguments["bias"] = False
        port_module(self, plan, Entry("LayerNorm", self.name, arguments),
                    lambda own: {name: own[key] for name, key in (("weight", "gamma"), ("bias", "beta")) if key in own})


@register
class BatchNormalization(Layer):
    keras_class = "BatchNormalization"
    pytorch_module = "BatchNorm1d"
    examples = (Example("BatchNormalization()", ((6, 3),)),)
    keeps_shape = True
    statistics = ("μ, σ² = the batch's mean and variance per feature while training; moving_mean and "
                "moving_variance at inference")
    displayed_arguments = ("axis",)
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
            raise Problem("S005", "BatchNormalization takes one integer `axis`.",
                               "Write e.g. `axis: -1`.", argument="axis")
        (index,) = _resolve_axes(self, shape)
        param_shape = (shape[index],)
        weights = []
        if self["scale"]:
            weights.append(self.weight("gamma", param_shape))
        if self["center"]:
            weights.append(self.weight("beta", param_shape))
        weights.append(self.weight("moving_mean", param_shape, trainable=False))
        weights.append(self.weight("moving_variance", param_shape, trainable=False, initial="positive"))
        if self["renorm"]:
            for name in ("moving_stddev", "renorm_mean", "renorm_stddev"):
                initial = "random" if name == "renorm_mean" else "positive"  # deviations are positive
                weights.append(self.weight(name, param_shape, trainable=False, initial=initial))
        return weights

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # scale and shift are element-wise (docs/compute.md)

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        _resolve_axes(self, inputs[0].shape)
        return [inputs[0].shape]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """Inference mode (moving statistics), as tf.nn.batch_normalization:
        x·inv + (β − moving_mean·inv) with inv = γ / √(moving_variance + ε)."""
        np = numpy_module()
        x = inputs[0].astype(statistics_dtype(inputs[0]), copy=False)
        (index,) = _resolve_axes(self, x.shape)

        def weight(name: str) -> "ndarray":
            return along(weights[name].astype(x.dtype), [index], x.ndim)

        inv = 1 / np.sqrt(weight("moving_variance") + x.dtype.type(self["epsilon"]))
        if self["scale"]:
            inv = inv * weight("gamma")
        shift = -weight("moving_mean") * inv
        if self["center"]:
            shift = shift + weight("beta")
        return [self.floating(x * inv + shift)], self.passed_masks(masks, 1)

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        return normalization_math(self, self.statistics, inputs, outputs)

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """nn.BatchNorm1d, which normalises dim 1 of (N, C) or (N, C, L): over the last axis of a
        sequence (N, T, F) it runs between Permutes (as a Conv1d), over axis 1 as it is. weight =
        gamma, bias = beta, running_mean = moving_mean, running_var = moving_variance,
        num_batches_tracked = 0; eps = epsilon (Keras's default 1e-3 is not torch's 1e-5, so it is
        written out), momentum = 1 − momentum (Keras weighs the old average, torch the new batch).
        Without scale but with center, weight is written as ones: torch's affine has a weight
        whenever it has a bias, and ones compute the same."""
        from .torch_normalization import momentum_complement

        rank = len(inputs[0].shape)
        (index,) = _resolve_axes(self, inputs[0].shape)
        if rank not in (2, 3) or index == 0 or self["renorm"]:
            raise refuse(self, framework, f"nn.BatchNorm1d normalises the features of (batch, features) or one axis "
                                          f"after the batch of (batch, steps, features); this layer has axis "
                                          f"{self['axis']} on a rank-{rank} input"
                                          + (" and renorm (statistics torch does not keep)" if self["renorm"] else "")
                                          + ".", "Port a BatchNormalization over the features of a rank-2 or rank-3 "
                                                 "input, without renorm.")
        arguments: Dict[str, Any] = {"num_features": inputs[0].shape[index], "eps": self["epsilon"],
                                     "momentum": momentum_complement(self["momentum"])}
        if not self["scale"] and not self["center"]:
            arguments["affine"] = False
        elif not self["center"]:
            arguments["bias"] = False

        def convert(own: "WeightArrays") -> "WeightArrays":
            np = numpy_module()
            converted = {}
            if self["scale"] or self["center"]:
                converted["weight"] = own["gamma"] if "gamma" in own else np.ones_like(own["beta"])
            if self["center"]:
                converted["bias"] = own["beta"]
            converted.update(running_mean=own["moving_mean"], running_var=own["moving_variance"],
                             num_batches_tracked=np.array(0, dtype="int64"))
            return converted

        channels_last = rank == 3 and index == 2
        port_module(self, plan, Entry("BatchNorm1d", self.name, arguments), convert,
                    layout="channels" if channels_last else "steps")

