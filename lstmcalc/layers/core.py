"""Dense, Embedding, Masking, Dropout, SpatialDropout1D, Activation and the reshaping layers."""

from __future__ import annotations

from typing import List, Optional, Sequence

from ..arithmetic import number as count_of, times
from ..shapes import Shape, format_shape, num_elements, product
from .arguments import (Arg, activation, anything, boolean, fraction, int_list, number, positive_int,
                        text, BASE_ARGUMENTS, choice, described, optional)
from .activations import apply as apply_activation
from .base import (NO_MACS, Arrays, Forward, Layer, MacCount, Masks, Rank, ShapeProblem, TensorSpec, Weight,
                   WeightArrays, numpy_module, register)



@register
class Dense(Layer):
    """Acts on the last axis of inputs of any rank ≥ 2."""

    keras_class = "Dense"
    displayed_arguments = ("units", "activation")
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
    displayed_arguments = ("input_dim", "output_dim", "mask_zero")
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
            raise ShapeProblem(
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
    displayed_arguments = ("mask_value",)
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


class _PassThrough(Layer):
    """Layers whose output has the shape and dtype of their input (in inference, the identity)."""

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # element-wise or a rearrangement: no products with a weight

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        return [inputs[0].shape]

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        return [inputs[0]], self.passed_masks(masks, 1)


@register
class Dropout(_PassThrough):
    keras_class = "Dropout"
    displayed_arguments = ("rate",)
    supports_masking = True
    maps_over_tensor_lists = True
    arguments = (
        Arg("rate", fraction),
        Arg("noise_shape", anything, None),
        Arg("seed", anything, None),
    )


@register
class SpatialDropout1D(_PassThrough):
    keras_class = "SpatialDropout1D"
    displayed_arguments = ("rate",)
    supports_masking = True
    input_rank = Rank(ndim=3)
    arguments = (Arg("rate", fraction), Arg("seed", anything, None))
    # Keras's constructor is (rate, seed=None, name=None, dtype=None): no other Layer keywords.
    base_arguments = tuple(argument for argument in BASE_ARGUMENTS if argument.name in ("name", "dtype"))


@register
class Activation(_PassThrough):
    keras_class = "Activation"
    displayed_arguments = ("activation",)
    supports_masking = True
    maps_over_tensor_lists = True
    arguments = (Arg("activation", activation),)

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [self.compute_dtype] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        return [apply_activation(self["activation"], self.floating(inputs[0]))], self.passed_masks(masks, 1)


@register
class RepeatVector(Layer):
    """(batch, features) → (batch, n, features)."""

    keras_class = "RepeatVector"
    displayed_arguments = ("n",)
    input_rank = Rank(ndim=2)
    arguments = (Arg("n", positive_int),)

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        return [(shape[0], self["n"], shape[1])]

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        return [numpy_module().repeat(inputs[0][:, None, :], self["n"], axis=1)], [None]


@register
class Flatten(_PassThrough):
    """(batch, d1, d2, ...) → (batch, d1·d2·...); None when any of them is unknown."""

    keras_class = "Flatten"
    input_rank = Rank(min_ndim=1)
    arguments = (Arg("data_format", choice("channels_last", "channels_first", None, ignore_case=True), None),)

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        rest = shape[1:]
        return [(shape[0], num_elements(rest) if rest else 1)]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = inputs[0]
        if self["data_format"] == "channels_first" and x.ndim > 1:
            x = x.transpose((0,) + tuple(range(2, x.ndim)) + (1,))  # to channels last, as Keras
        return [x.reshape(x.shape[0], -1)], [None]


@described({"type": "array", "items": {"type": "integer", "minimum": -1}})
def _check_target_shape(name: str, value) -> tuple:
    dims = int_list(name, value)
    if any(dim < -1 for dim in dims) or list(dims).count(-1) > 1:
        from .arguments import ArgumentError
        raise ArgumentError("S006", f"Each dimension in `{name}` must be a non-negative integer, or -1 "
                                    f"for a single unknown dimension. Received: {name}={tuple(dims)}.",
                            "Use at most one -1, for the dimension to infer.")
    return dims


@register
class Reshape(_PassThrough):
    """Reshapes everything after the batch axis to ``target_shape`` (one -1 is inferred)."""

    keras_class = "Reshape"
    displayed_arguments = ("target_shape",)
    arguments = (Arg("target_shape", _check_target_shape),)

    def warnings(self, inputs: Sequence[TensorSpec]) -> List[ShapeProblem]:
        rest = inputs[0].shape[1:]
        target = tuple(self["target_shape"])
        if None in rest and -1 not in target:
            known = product(dim for dim in rest if dim is not None)
            size = product(target)
            runs = f"only inputs with {size // known} there will run" if known and size % known == 0 \
                else "no input length will run"
            return [ShapeProblem(
                "H005", f"Reshape to {format_shape(target)} needs exactly {size} values per sample, but it "
                        f"receives {format_shape(inputs[0].shape)} whose size is unknown: Keras builds this, "
                        f"and {runs}.",
                "Give the input a fixed length, or use -1 in target_shape for the axis that varies.",
                argument="target_shape")]
        return []

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        target = tuple(self["target_shape"])
        rest = shape[1:]
        if None in rest:
            return [(shape[0],) + tuple(None if dim == -1 else dim for dim in target)]
        size = product(rest)  # type: ignore[arg-type]
        if -1 not in target:
            if size != product(target):
                raise ShapeProblem(
                    "H004", "The total size of the tensor must be unchanged. Received: "
                            f"input_shape={format_shape(rest)}, target_shape={format_shape(target)}",
                    f"The input has {size} values per sample and the target {product(target)}; "
                    "make the product of target_shape equal the input's, or use -1 for one dimension.",
                    argument="target_shape")
            return [(shape[0],) + target]
        known = product(dim for dim in target if dim != -1)
        if known == 0 or size % known != 0:
            raise ShapeProblem(
                "H004", "The total size of the tensor must be unchanged, however, the input size cannot "
                        "by divided by the specified dimensions in target_shape. Received: "
                        f"input_shape={format_shape(rest)}, target_shape={format_shape(target)}",
                f"{size} values per sample are not a multiple of {known}.", argument="target_shape")
        return [(shape[0],) + tuple(size // known if dim == -1 else dim for dim in target)]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = inputs[0]
        return [x.reshape((x.shape[0],) + tuple(self["target_shape"]))], [None]


@described({"type": "array", "items": {"type": "integer", "minimum": 1}, "uniqueItems": True})
def _check_permutation(name: str, value) -> tuple:
    dims = int_list(name, value)
    if sorted(dims) != list(range(1, len(dims) + 1)):
        from .arguments import ArgumentError
        raise ArgumentError("S006", "Invalid permutation argument `dims` for Permute Layer. The set of "
                                    "indices in `dims` must be consecutive and start from 1. "
                                    f"Received dims={list(dims)}",
                            "Number the axes after the batch axis from 1, e.g. dims: [2, 1] swaps time "
                            "and features.")
    return dims


@register
class Permute(_PassThrough):
    keras_class = "Permute"
    displayed_arguments = ("dims",)
    arguments = (Arg("dims", _check_permutation),)

    def expected_rank(self):
        return Rank(ndim=len(self["dims"]) + 1)

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        return [(shape[0],) + tuple(shape[dim] for dim in self["dims"])]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        return [inputs[0].transpose((0,) + tuple(self["dims"]))], [None]
