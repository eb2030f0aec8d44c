"""nn.BatchNorm1d (``framework: pytorch``): normalises the channels, dim 1, of (N, C) or (N, C, L) —
in eval mode with running_mean and running_var (buffers: in the state_dict, not parameters), or,
with track_running_stats=False, with the batch's own statistics. Shapes, errors (torch 2.13's
messages, recorded in tests/fixtures/pytorch/modules_*), the forward pass and the port to Keras's
BatchNormalization."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from ..diagnostics import Problem
from ..shapes import Shape
from .arguments import Arg, boolean, described, optional
from .base import (ARRAY_DTYPES, Arrays, Example, Forward, MacCount, Masks, NO_MACS, TensorSpec, Weight,
                   WeightArrays, numpy_module, register)
from .explanation import Context, Equation, Math, io_symbols, one_block
from .porting import Entry, port_module, refuse
from .torch_module import TorchModule, raised, type_name
from .torch_nn import SCALAR_NAMES, mixed_dtype_message, negative_size, real

if TYPE_CHECKING:
    from .explanation import ToolCount
    from .porting import PortPlan


@described({"type": "integer", "minimum": 0})
def channel_count(name: str, value: Any) -> int:
    """torch.empty(num_features): an int (not a bool, which torch refuses here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        hint = (f"Write `{name}: {int(value)}`." if isinstance(value, float) and value.is_integer()
                else f"Write the number of channels (dim 1 of the input), e.g. `{name}: 64`.")
        raise Problem("S005", raised("TypeError", f"empty(): argument 'size' (position 1) must be tuple of ints, "
                                                  f"not {type_name(value)}"), hint)
    return value


def momentum_complement(momentum: float) -> float:
    """1 − momentum, on the decimal the user wrote: Keras's 0.99 is torch's 0.01 (not 0.010000000000000009)."""
    return float(Decimal(1) - Decimal(repr(momentum)))


@register
class BatchNorm1d(TorchModule):
    """nn.BatchNorm1d: per channel (dim 1), (x − mean) / √(var + eps) ⊙ weight + bias; in eval mode
    mean and var are the buffers running_mean and running_var (the batch's own without
    track_running_stats)."""

    keras_class = "BatchNorm1d"
    keras_type = "BatchNormalization"
    keeps_shape = True
    torch_input = "(N, C) or (N, C, L)"
    arguments = (Arg("num_features", channel_count), Arg("eps", real, 1e-5), Arg("momentum", optional(real), 0.1),
                 Arg("affine", boolean, True), Arg("track_running_stats", boolean, True), Arg("bias", boolean, True))
    keras_keywords = {"eps": "epsilon"}
    keras_advice = {
        "axis": "nn.BatchNorm1d normalises dim 1 (the channels) of (N, C) or (N, C, L): a (batch, steps, features) "
                "tensor goes through `{type: Transpose, dim0: 1, dim1: 2}` first (and back after).",
        "center": "nn.BatchNorm1d has a bias with `affine: true` (the default); `bias: false` leaves it out, "
                  "`affine: false` leaves out both weight and bias.",
        "scale": "nn.BatchNorm1d has a weight with `affine: true` (the default); `affine: false` leaves out both "
                 "weight and bias.",
    }
    examples = (Example("BatchNorm1d(num_features=3)", ((3, 6),), framework="pytorch"),
                Example("BatchNorm1d(4, eps=0.001, affine=False)", ((4,),), framework="pytorch"),
                Example("BatchNorm1d(3, track_running_stats=False)", ((3, 5),), framework="pytorch"))

    def check_config(self) -> None:
        negative_size(self, (self["num_features"],), ("num_features",))

    @property
    def has_bias(self) -> bool:
        return self["affine"] and self["bias"]  # torch sets bias=False when affine is

    def declared_input(self) -> Optional[TensorSpec]:
        return TensorSpec((1, self["num_features"]), self.variable_dtype)

    def check_input(self, inputs: Sequence[TensorSpec]) -> None:
        shape, dtype = inputs[0].shape, inputs[0].dtype
        if len(shape) not in (2, 3):
            raise self.refuses("H001", "ValueError", f"expected 2D or 3D input (got {len(shape)}D input)",
                               "nn.BatchNorm1d takes (batch, channels) or (batch, channels, length).", inputs)
        if not self["track_running_stats"]:
            # Without running statistics eval mode uses the batch's, which need two values: F.batch_norm
            # checks it (_verify_batch_size) before torch.batch_norm checks the sizes of weight and bias.
            values = [dim for axis, dim in enumerate(shape) if axis != 1]
            if all(dim is not None for dim in values) and all(dim == 1 for dim in values):
                raise self.refuses("H004", "ValueError", "Expected more than 1 value per channel when training, got "
                                                         f"input size torch.Size({list(shape)})",
                                   "A batch of one needs the running statistics: `track_running_stats: true`.",
                                   inputs)
        channels, wanted = shape[1], self["num_features"]
        stored = "running_mean" if self["track_running_stats"] else "weight" if self["affine"] else ""
        if stored and channels is not None and channels != wanted:
            advice = (f"Set `num_features: {channels}` (dim 1 of its input)" if len(shape) == 2 or shape[2] != wanted
                      else "Its input is (batch, steps, features): put `{type: Transpose, dim0: 1, dim1: 2}` "
                           "before it (and after it, to go back)")
            raise self.refuses("H004", "RuntimeError", f"{stored} should contain {channels} elements not {wanted}",
                               advice + "; nn.BatchNorm1d normalises dim 1.", inputs, argument="num_features")
        if self["affine"] and channels == 0:
            raise self.refuses("H004", "IndexError", "select(): index 0 out of range for tensor of size [0] at "
                                                     "dimension 0", "Give it at least one channel, or `affine: false`.",
                               inputs, argument="num_features")
        if dtype.startswith(("int", "uint", "bool")):
            raise self.refuses("H008", "NotImplementedError",
                               f'"batch_norm" not implemented for \'{SCALAR_NAMES.get(dtype, dtype)}\'',
                               "Token ids go through an Embedding first; other integers need .float().", inputs)
        message = mixed_dtype_message(dtype, self.variable_dtype if stored else None)
        if message:
            raise self.refuses("H008", "RuntimeError", message,
                               f"Give the module `dtype: {dtype}` or the input dtype {self.variable_dtype}.", inputs)

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        self.check_input(inputs)
        shape = (self["num_features"],)
        weights = []
        if self["affine"]:
            weights.append(self.weight("weight", shape, initial="positive"))
            if self["bias"]:
                weights.append(self.weight("bias", shape))
        if self["track_running_stats"]:
            weights += [Weight("running_mean", shape, False, self.variable_dtype, "random", buffer=True),
                        Weight("running_var", shape, False, self.variable_dtype, "positive", buffer=True),
                        Weight("num_batches_tracked", (), False, "int64", "random", buffer=True)]
        return weights

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        self.check_input(inputs)
        return [inputs[0].shape]

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count  # float16 input with float32 statistics stays float16

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # element-wise scale and shift (docs/compute.md)

    def mac_tool_counts(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec],
                        batch: int) -> List["ToolCount"]:
        """torchinfo's count, of the parameters only (the buffers are none): 0 with affine=False."""
        from .torch_counters import known, torchinfo

        params = sum(weight.size for weight in self.weight_shapes(inputs) if not weight.buffer)
        if not known(outputs[0].shape):
            return []
        return [torchinfo(params, outputs[0].shape)]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """(x − mean) / √(var + eps) ⊙ weight + bias per channel (dim 1), computed in the module's
        dtype; mean and var: the running statistics, or the batch's (biased variance) without them."""
        np = numpy_module()
        x = self.floating(inputs[0])
        along = (1, -1) + (1,) * (x.ndim - 2)  # a per-channel vector against (N, C[, L])
        if self["track_running_stats"]:
            mean = self.floating(weights["running_mean"]).reshape(along)
            variance = self.floating(weights["running_var"]).reshape(along)
        else:
            axes = (0,) + tuple(range(2, x.ndim))
            mean = x.mean(axis=axes, keepdims=True)
            variance = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        y = (x - mean) / np.sqrt(variance + x.dtype.type(self["eps"]))
        if "weight" in weights:
            y = y * self.floating(weights["weight"]).reshape(along)
        if "bias" in weights:
            y = y + self.floating(weights["bias"]).reshape(along)
        return [y.astype(ARRAY_DTYPES.get(inputs[0].dtype, "float32"), copy=False)], [None]

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """Keras's BatchNormalization over the same channels: gamma = weight, beta = bias,
        moving_mean = running_mean, moving_variance = running_var, epsilon = eps, momentum = 1 −
        momentum. The channels are Keras's last axis when the written model holds the tensor
        channels last (after a Conv1d ported between Permutes), else axis 1."""
        if not self["track_running_stats"]:
            raise refuse(self, framework, "without track_running_stats it normalises with each batch's own "
                                          "statistics in eval mode too, which Keras's BatchNormalization does only "
                                          "while training.", "Port a module with running statistics.")
        if self["momentum"] is None:
            raise refuse(self, framework, "momentum None keeps a cumulative average of the statistics, which Keras's "
                                          "BatchNormalization (an exponential average) cannot.",
                         "Give a momentum, e.g. `momentum: 0.1` (Keras's 0.9).")
        axis = 1 if len(inputs[0].shape) == 3 and not plan.channels_first else -1
        arguments: Dict[str, Any] = {"axis": axis, "momentum": momentum_complement(self["momentum"]),
                                     "epsilon": self["eps"]}
        if not self["affine"]:
            arguments.update(center=False, scale=False)
        elif not self["bias"]:
            arguments["center"] = False
        names = (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
                 ("running_var", "moving_variance"))
        port_module(self, plan, Entry("BatchNormalization", self.name, arguments),
                    lambda own: {key: own[name] for name, key in names if name in own}, layout="any")

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        scale = " ⊙ γ" if self["affine"] else ""
        shift = " + β" if self.has_bias else ""
        axes = "N" + (", L" if len(inputs[0].shape) == 3 else "")
        where = ("μ, σ² = running_mean, running_var (eval mode; while training, the batch's mean and biased "
                 f"variance over {axes}, which update them with momentum {self['momentum']})"
                 if self["track_running_stats"] else
                 f"μ, σ² = the batch's mean and biased variance over {axes}, in eval mode too")
        return one_block("per channel (dim 1)", [Equation("y", f"(x − μ) / √(σ² + {self['eps']}){scale}{shift}", where)],
                         io_symbols(inputs, outputs), legend_text="⊙ = element-wise product",
                         layouts={"weight": "γ", "bias": "β", "running_mean": "μ", "running_var": "σ²",
                                  "num_batches_tracked": "batches seen while training"},
                         headline=f"nn.BatchNorm1d({self['num_features']})")
