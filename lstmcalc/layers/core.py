"""Dense, Embedding, Masking, Dropout, SpatialDropout1D and Activation."""

from __future__ import annotations

from typing import List, Optional, Sequence

from ..arithmetic import number as count_of, times
from ..diagnostics import Problem
from ..shapes import Shape, num_elements
from .arguments import KERNEL_AND_BIAS, Arg, activation, anything, boolean, fraction, number, positive_int, BASE_ARGUMENTS
from .activations import apply as apply_activation
from .base import (Arrays, Example, Forward, InputValues, Layer, MacCount, Masks, NO_MACS, PassThrough, Rank,
                   TensorKey, TensorSpec, Weight, WeightArrays, numpy_module, register)
from .porting import Counterpart, Entry, PortPlan, activation_entry, no_weights, port_module, refuse, with_bias
from .explanation import (Context, Equation, Math, Symbol, applied, count_text, io_symbols, legend, one_block,
                          plural, tensor_text, weight_text)


@register
class Dense(Layer):
    """Acts on the last axis of inputs of any rank ≥ 2."""

    keras_class = "Dense"
    pytorch_module = "Linear"
    examples = (Example("Dense(4, activation='relu')", ((6, 3),)),
                Example("Dense(2)", ((5,),)))
    displayed_arguments = ("units", "activation")
    input_rank = Rank(min_ndim=2)
    supports_masking = True
    acts_on_last_axis = True
    arguments = (
        Arg("units", positive_int),
        *KERNEL_AND_BIAS,
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

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: PortPlan) -> None:
        """nn.Linear: weight = kernel.T (PORTING.md), then the activation's module."""
        port_module(self, plan, Entry("Linear", self.name, {"out_features": self["units"], **with_bias(self["use_bias"])}),
                    lambda own: {"weight": own["kernel"].T, **({"bias": own["bias"]} if "bias" in own else {})},
                    activation_entry(self, self["activation"], framework))

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """activation(x · kernel + bias) on the last axis, for inputs of any rank."""
        x = self.floating(inputs[0])
        kernel = self.floating(weights["kernel"])
        y = (x.reshape(-1, x.shape[-1]) @ kernel).reshape(x.shape[:-1] + (kernel.shape[1],))
        if self["use_bias"]:
            y += self.floating(weights["bias"])
        return [apply_activation(self["activation"], y)], self.passed_masks(masks, 1)

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        shape = inputs[0].shape
        n, units = shape[-1], self["units"]
        bias = " + b" if self["use_bias"] else ""
        positions = shape[1:-1]
        loop = ""
        x, y = "x", "y"
        if positions:
            loop = ("at each position of " + " × ".join(count_text(d) for d in positions)
                    + " separately, with the same W: Dense acts on the last axis only")
            x, y = "x_t", "y_t"
        symbols = [Symbol(x, tensor_text((shape[0], n)), f"{plural(n, 'input value')}"),
                   Symbol("W", weight_text((n, units)), "kernel: one column of weights per unit"),
                   ] + ([Symbol("b", weight_text((units,)), "bias")] if self["use_bias"] else []) + [
                   Symbol(y, tensor_text((shape[0], units)), f"{plural(units, 'output')}, one per unit")]
        each = f"Each of the {units:,} units" if units > 1 else "The unit"
        words = [f"{each} sums all {plural(n, 'input')}, each through its own weight: "
                 f"{n} × {units} weights" + (f" plus {plural(units, 'bias')}." if self["use_bias"] else ".")]
        return one_block("once per sample" if not positions else "each position",
                         [Equation(y, applied(self["activation"], f"{x}·W{bias}"), "")], symbols, loop,
                         legend(self["activation"]), {"kernel": "W", "bias": "b"}, words,
                         f"Dense with {plural(units, 'unit')} on {plural(n, 'input')}")


@register
class Embedding(Layer):
    """Integer indices below ``input_dim`` → vectors of ``output_dim``; adds a dimension."""

    keras_class = "Embedding"
    pytorch_module = "Embedding"
    examples = (Example("Embedding(50, 8, mask_zero=True)", ((7,),), "int32"),)
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

    def output_mask_shape(self, inputs: Sequence[TensorSpec]) -> Optional[Shape]:
        return inputs[0].shape  # one flag per id

    def keras_masks(self, inputs: Sequence[TensorKey], masks, count: int, graph) -> List[Optional[TensorKey]]:
        if not self["mask_zero"]:
            return [None] * count
        return [graph.operation("NotEqual", graph.shape_of(inputs[0]), [inputs[0]])] * count

    def input_values(self) -> InputValues:
        return InputValues(integer=True, below=self["input_dim"], padding=0 if self["mask_zero"] else None)

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: PortPlan) -> None:
        """nn.Embedding with the same table; token ids as int64."""
        if self["mask_zero"]:
            raise refuse(self, framework, "mask_zero: true — torch has no masks, so the layers after it would read "
                                          "the padding steps.", "Port the model without mask_zero (padding_idx=0 "
                                          "keeps row 0 out of the gradient in PyTorch, but does not mask).")
        plan.input_dtype = "int64"
        port_module(self, plan, Entry("Embedding", self.name, {"num_embeddings": self["input_dim"],
                                                               "embedding_dim": self["output_dim"]}),
                    lambda own: {"weight": own["embeddings"]})

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        rows, width = self["input_dim"], self["output_dim"]
        words = [f"Each integer id 0 … {rows - 1:,} selects one row of E: a learned vector of {width} values. "
                 "Nothing is multiplied."]
        if self["mask_zero"]:
            words.append("mask_zero: true — id 0 is padding: the mask marks those steps, and the layers that "
                         "use masks (LSTM, GRU, GlobalAveragePooling1D, ...) skip them.")
        return one_block("each id", [Equation("y[…, :]", "E[x[…]]", "row lookup")],
                         [Symbol("x", tensor_text(inputs[0].shape), "integer ids"),
                          Symbol("E", weight_text((rows, width)), "embeddings: one row per id"),
                          Symbol("y", tensor_text(outputs[0]), "one vector per id")],
                         layouts={"embeddings": "E"}, words=words,
                         headline=f"Embedding of {rows:,} ids into {width} values")

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """Rows of ``embeddings`` picked by the indices; mask_zero masks inputs equal to 0 (compared
        before the cast to int32, as Keras's compute_mask sees them). Keras's ops.take counts a
        negative index from the end, as NumPy does: -1 is the last row."""
        np = numpy_module()
        ids = inputs[0]
        mask = ids != 0 if self["mask_zero"] else None
        if not np.issubdtype(ids.dtype, np.integer):
            ids = ids.astype("int32")  # Keras casts other inputs to int32 (truncating)
        rows = self["input_dim"]
        outside = (ids < -rows) | (ids >= rows)
        if outside.any():
            where = tuple(int(i) for i in np.argwhere(outside)[0])
            raise Problem(
                "V004", f"indices{list(where)} = {int(ids[where])} is not in [0, {rows}) "
                        f"(Embedding {self.name}).",
                f"Embedding takes indices from 0 to input_dim - 1 = {rows - 1} (and, as Keras's "
                f"ops.take, -1 to -{rows} from the end); check the input's token ids or raise input_dim.")
        output = self.floating(weights["embeddings"])[ids]
        return [output], [mask]


@register
class Masking(Layer):
    """Marks time steps whose features all equal ``mask_value`` as padding."""

    keras_class = "Masking"
    examples = (Example("Masking(0.0)", ((7, 3),)),)
    displayed_arguments = ("mask_value",)
    supports_masking = True
    keeps_shape = True
    arguments = (Arg("mask_value", number, 0.0),)

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        return [inputs[0].shape]

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        return [True] * count

    def output_mask_shape(self, inputs: Sequence[TensorSpec]) -> Optional[Shape]:
        # Keras: any(x != mask_value) over the last axis alone, so a frame of a video gets one flag
        # per pixel, (batch, time, rows, cols), not one per step.
        return inputs[0].shape[:-1]

    def keras_masks(self, inputs: Sequence[TensorKey], masks, count: int, graph) -> List[Optional[TensorKey]]:
        shape = graph.shape_of(inputs[0])
        not_equal = graph.operation("NotEqual", shape, [inputs[0]])
        return [graph.operation("Any", shape[:-1], [not_equal])] * count

    def input_values(self) -> InputValues:
        return InputValues(padding=self["mask_value"])

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        value = self["mask_value"]
        return one_block("each step", [Equation("mask_t", f"any(x_t ≠ {value})", "a step is padding when all "
                                                                                 "its features equal mask_value"),
                                       Equation("y", "x", "values unchanged; the mask travels with y")],
                         io_symbols(inputs, outputs), headline=f"Masking of steps equal to {value}")

    # output_dtypes: the compute dtype whatever it receives (Keras declares its symbolic output
    # from compute_output_shape in the compute dtype, integers and booleans included).

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """A step is kept when any feature differs from mask_value; masked steps become zeros."""
        np = numpy_module()
        x = inputs[0]
        keep = np.any(x != self["mask_value"], axis=-1)
        return [np.where(keep[..., None], x, 0).astype(x.dtype, copy=False)], [keep]


class _Dropout(PassThrough):
    """Dropout and SpatialDropout1D: random zeros while training, the identity at inference."""

    supports_masking = True
    keeps_shape = True

    def dropped_shape(self, shape: Shape) -> str:
        """The shape of the random 0/1 tensor, as words."""
        return "x's shape"

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        # Keras declares the output from compute_output_shape: the compute dtype, whatever it
        # receives (integers and booleans included).
        return [self.compute_dtype] * count

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        rate = self["rate"]
        return one_block("training only", [
            Equation("y", f"x ⊙ m / (1 − {rate})", f"while training: m is random 0/1 with P(1) = {1 - rate:g}, "
                                                  f"shape {self.dropped_shape(inputs[0].shape)}"),
            Equation("y", "x", "at inference")],
            io_symbols(inputs, outputs), legend_text="⊙ = element-wise product",
            headline=f"{self.keras_class} of rate {rate}")


@register
class Dropout(_Dropout):
    keras_class = "Dropout"
    pytorch_module = "Dropout"
    examples = (Example("Dropout(0.5)", ((7, 3),)),)
    displayed_arguments = ("rate",)
    maps_over_tensor_lists = True
    arguments = (
        Arg("rate", fraction),
        Arg("noise_shape", anything, None),
        Arg("seed", anything, None),
    )

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: PortPlan) -> None:
        port_module(self, plan, Entry("Dropout", self.name, {"p": self["rate"]}), layout="any")


@register
class SpatialDropout1D(_Dropout):
    keras_class = "SpatialDropout1D"
    examples = (Example("SpatialDropout1D(0.2)", ((7, 3),)),)
    displayed_arguments = ("rate",)
    input_rank = Rank(ndim=3)
    sequence_axes = ("batch", "timesteps", "features")
    arguments = (Arg("rate", fraction), Arg("seed", anything, None))
    # Keras's constructor is (rate, seed=None, name=None, dtype=None): no other Layer keywords.
    base_arguments = tuple(argument for argument in BASE_ARGUMENTS if argument.name in ("name", "dtype"))

    def dropped_shape(self, shape: Shape) -> str:
        return tensor_text((shape[0], 1, shape[-1]))  # whole channels are dropped


@register
class Activation(PassThrough):
    keras_class = "Activation"
    examples = (Example("Activation('tanh')", ((7, 3),)),)
    displayed_arguments = ("activation",)
    supports_masking = True
    maps_over_tensor_lists = True
    keeps_shape = True
    arguments = (Arg("activation", activation),)

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [self.compute_dtype] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        return [apply_activation(self["activation"], self.floating(inputs[0]))], self.passed_masks(masks, 1)

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: PortPlan) -> None:
        entries = activation_entry(self, self["activation"], framework)
        if not entries:  # linear: the identity, nothing to write
            plan.add(Counterpart(self.name, [], no_weights, []))
            return
        entries[0].name = self.name
        port_module(self, plan, entries[0], layout="any")

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        return one_block("element-wise", [Equation("y", applied(self["activation"], "x"), "")],
                         io_symbols(inputs, outputs), legend_text=legend(self["activation"]),
                         headline=f"Activation {self['activation']}")
