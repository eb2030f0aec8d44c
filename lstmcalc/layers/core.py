"""Dense, Embedding, Masking, Dropout, SpatialDropout1D and Activation."""

from __future__ import annotations

from typing import List, Optional, Sequence

from ..arithmetic import number as count_of, times
from ..diagnostics import Problem
from ..shapes import Shape, num_elements
from .arguments import Arg, activation, anything, boolean, fraction, number, positive_int, BASE_ARGUMENTS
from .activations import apply as apply_activation
from .base import (NO_MACS, Arrays, Forward, Layer, MacCount, Masks, PassThrough, Rank, TensorSpec, Weight,
                   WeightArrays, numpy_module, register)


@register
class Dense(Layer):
    """Acts on the last axis of inputs of any rank ≥ 2."""

    keras_class = "Dense"
    input_rank = Rank(min_ndim=2)
    supports_masking = True
    arguments = (
        Arg("units", positive_int),
        Arg("activation", activation, None),
        Arg("use_bias", boolean, True),
        Arg("kernel_initializer", anything, "glorot_uniform"),
        Arg("bias_initializer", anything, "zeros"),
        Arg("kernel_regularizer", anything, None),
        Arg("bias_regularizer", anything, None),
        Arg("activity_regularizer", anything, None),
        Arg("kernel_constraint", anything, None),
        Arg("bias_constraint", anything, None),
        Arg("lora_rank", anything, None),
        Arg("lora_alpha", anything, None),
        Arg("quantization_config", anything, None),
    )

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        weights = [self.weight("kernel", (inputs[0].shape[-1], self["units"]))]
        if self["use_bias"]:
            weights.append(self.weight("bias", (self["units"],)))
        return weights

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        # The same kernel at every position of the axes between the batch and the features.
        shape = inputs[0].shape
        return MacCount(times(count_of(shape[-1], "inputs"), count_of(self["units"], "units")),
                        num_elements(shape[1:-1]), "position")

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        return [tuple(inputs[0].shape[:-1]) + (self["units"],)]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """activation(x · kernel + bias) on the last axis, for inputs of any rank."""
        x = self.floating(inputs[0])
        kernel = self.floating(weights["kernel"])
        y = (x.reshape(-1, x.shape[-1]) @ kernel).reshape(x.shape[:-1] + (kernel.shape[1],))
        if self["use_bias"]:
            y += self.floating(weights["bias"])
        return [apply_activation(self["activation"], y)], self.passed_masks(masks, 1)


@register
class Embedding(Layer):
    """Integer indices below ``input_dim`` → vectors of ``output_dim``; adds a dimension."""

    keras_class = "Embedding"
    supports_masking = True
    arguments = (
        Arg("input_dim", positive_int),
        Arg("output_dim", positive_int),
        Arg("embeddings_initializer", anything, "uniform"),
        Arg("embeddings_regularizer", anything, None),
        Arg("embeddings_constraint", anything, None),
        Arg("mask_zero", boolean, False),
        Arg("weights", anything, None),
        Arg("lora_rank", anything, None),
        Arg("lora_alpha", anything, None),
        Arg("quantization_config", anything, None),
        Arg("input_length", anything, None),  # Keras 2's argument; Keras 3 ignores it with a warning
    )

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        return [self.weight("embeddings", (self["input_dim"], self["output_dim"]))]

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # a row lookup, no products

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        return [tuple(inputs[0].shape) + (self["output_dim"],)]

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        return [bool(self["mask_zero"])] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """Rows of ``embeddings`` picked by the indices; mask_zero masks index 0."""
        np = numpy_module()
        ids = inputs[0]
        if not np.issubdtype(ids.dtype, np.integer):
            ids = ids.astype("int32")  # Keras casts other inputs to int32 (truncating)
        outside = (ids < 0) | (ids >= self["input_dim"])
        if outside.any():
            where = tuple(int(i) for i in np.argwhere(outside)[0])
            raise Problem(
                "V004", f"indices{list(where)} = {int(ids[where])} is not in [0, {self['input_dim']}) "
                        f"(Embedding {self.name}).",
                f"Embedding takes indices from 0 to input_dim - 1 = {self['input_dim'] - 1}; check the "
                "input's token ids or raise input_dim.")
        output = self.floating(weights["embeddings"])[ids]
        return [output], [ids != 0 if self["mask_zero"] else None]


@register
class Masking(Layer):
    """Marks time steps whose features all equal ``mask_value`` as padding."""

    keras_class = "Masking"
    supports_masking = True
    arguments = (Arg("mask_value", number, 0.0),)

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        return [inputs[0].shape]

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        return [True] * count

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """A step is kept when any feature differs from mask_value; masked steps become zeros."""
        np = numpy_module()
        x = inputs[0]
        keep = np.any(x != self["mask_value"], axis=-1)
        return [np.where(keep[..., None], x, 0).astype(x.dtype, copy=False)], [keep]


@register
class Dropout(PassThrough):
    keras_class = "Dropout"
    supports_masking = True
    maps_over_tensor_lists = True
    arguments = (
        Arg("rate", fraction),
        Arg("noise_shape", anything, None),
        Arg("seed", anything, None),
    )


@register
class SpatialDropout1D(PassThrough):
    keras_class = "SpatialDropout1D"
    supports_masking = True
    input_rank = Rank(ndim=3)
    arguments = (Arg("rate", fraction), Arg("seed", anything, None))
    # Keras's constructor is (rate, seed=None, name=None, dtype=None): no other Layer keywords.
    base_arguments = tuple(argument for argument in BASE_ARGUMENTS if argument.name in ("name", "dtype"))


@register
class Activation(PassThrough):
    keras_class = "Activation"
    supports_masking = True
    maps_over_tensor_lists = True
    arguments = (Arg("activation", activation),)

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [self.compute_dtype] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        return [apply_activation(self["activation"], self.floating(inputs[0]))], self.passed_masks(masks, 1)
