"""torch.nn modules around the recurrent ones (``framework: pytorch``): Linear, Embedding,
LayerNorm, Dropout, Flatten, Unflatten, the activations ReLU, Tanh, Sigmoid, GELU, SiLU, ELU, LeakyReLU and
Softmax, Conv1d and MaxPool1d on (batch, channels, length), Conv2d, MaxPool2d and AvgPool2d on (batch,
channels, height, width). Shapes, named_parameters, errors (torch 2.13's messages)
and the forward pass in eval mode, as torch computes them."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, ClassVar, Dict, List, Optional, Sequence, Tuple

from ..arithmetic import number as count_of, times
from ..diagnostics import Problem
from ..shapes import Dim, Shape, format_shape, num_elements
from .activations import activation_function
from .arguments import Arg, boolean, choice, described, optional
from .base import (Arrays, Example, Forward, InputValues, MacCount, Masks, NO_MACS, TensorSpec, Weight,
                   WeightArrays, numpy_module, register)
from .explanation import Context, Equation, Math, Symbol, count_text, io_symbols, one_block, tensor_text, weight_text
from .porting import Counterpart, Entry, close_fold, no_weights, open_fold, port_module, refuse, torch_size
from .torch_module import (NAME, TorchModule, probability, raised, torch_dtype_name,
                           type_name)

if TYPE_CHECKING:
    from numpy import ndarray

    from .porting import PortPlan

# torch's name of a scalar type in its messages.
SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def per_sample_positions(tensor: TensorSpec, keep: int = 1) -> Dim:
    """How many times a layer acting on the last ``keep`` axes runs per sample: the product of the
    other axes except the batch axis (None when one is unknown)."""
    return num_elements([dim for axis, dim in enumerate(tensor.shape[:len(tensor.shape) - keep])
                         if axis != tensor.batch_axis])


def tensor_size(position: int):
    """A size torch hands to torch.empty as element ``position`` of the weight's shape: an int,
    checked there (negative sizes are refused in check_config, which knows the whole shape)."""
    @described({"type": "integer", "minimum": 0})
    def check_tensor_size(name: str, value: Any) -> int:
        if not isinstance(value, int):
            kind = type_name(value)
            message = (f"empty(): argument 'size' (position 1) must be tuple of ints, but found element of type "
                       f"{kind} at pos 0" if position == 0 else
                       f"empty(): argument 'size' failed to unpack the object at pos {position + 1} with error "
                       f"\"type must be tuple of ints,but got {kind}\"")
            hint = (f"Write `{name}: {int(value)}`." if isinstance(value, float) and value.is_integer()
                    else f"Write a whole number for `{name}`.")
            raise Problem("S005", raised("TypeError", message), hint)
        return int(value)
    return check_tensor_size


def negative_size(layer: TorchModule, shape: Tuple[Any, ...], names: Sequence[str]) -> None:
    """torch.empty refuses a negative dimension at construction."""
    for dim, name in zip(shape, names):
        if dim is not None and dim < 0:
            raise Problem("S006", raised("RuntimeError", f"Trying to create tensor with negative dimension {dim}: "
                                                         f"{list(shape)}"),
                          f"`{name}` is a size: 0 or more.", argument=name)


@described({"type": "integer"})
def whole(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Problem("S005", f"`{name}` must be a whole number, got {value!r}.", f"Write e.g. `{name}: 0`.")
    return value


@described({"type": "number"})
def real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise Problem("S005", f"`{name}` must be a number, got {value!r}.", f"Write e.g. `{name}: 1.0`.")
    return value


def dtype_refusal(layer: TorchModule, inputs: Sequence[TensorSpec], message: str, hint: str = "") -> Problem:
    integer = inputs[0].dtype.startswith(("int", "uint"))
    return layer.refuses("H008", "RuntimeError", message,
                         hint or ("Token ids go through an Embedding first." if integer else
                                  f"Give the module `dtype: {inputs[0].dtype}` or the input dtype "
                                  f"{layer.variable_dtype}."), inputs)


class Parameterless(TorchModule):
    """Modules without parameters that keep the shape (activations, Dropout)."""

    keeps_shape = True
    base_arguments = (NAME,)
    # What torch does with integer (and bool) inputs: "keep" their dtype (relu, eval-mode dropout),
    # compute in "float32" (tanh, sigmoid), or refuse them — then this is the kernel torch names in
    # its NotImplementedError ('"silu_cpu" not implemented for 'Long'').
    integer_inputs: ClassVar[str] = "keep"

    def integer_kernel(self, inputs: Sequence[TensorSpec]) -> str:
        return self.integer_inputs

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        kernel = self.integer_kernel(inputs)
        if kernel not in ("keep", "float32") and inputs[0].dtype.startswith(("int", "uint", "bool")):
            raise self.refuses("H008", "NotImplementedError",
                               f'"{kernel}" not implemented for \'{SCALAR_NAMES.get(inputs[0].dtype, inputs[0].dtype)}\'',
                               "Token ids go through an Embedding first; other integers need .float() "
                               "(a cast no module does).", inputs)
        return [inputs[0].shape]

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        if self.integer_inputs == "float32" and inputs[0].dtype.startswith(("int", "uint", "bool")):
            return ["float32"] * count  # torch's unary float functions promote integers
        return [inputs[0].dtype] * count

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS

    def function(self, x: "ndarray") -> "ndarray":
        return x

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        np = numpy_module()
        x = inputs[0]
        if self.integer_inputs == "float32" and x.dtype.kind in "iub":
            x = x.astype(np.float32)
        with np.errstate(over="ignore", under="ignore"):
            return [self.function(x)], [None]


# -- Linear -------------------------------------------------------------------------------------

@register
class Linear(TorchModule):
    """nn.Linear: y = x·Wᵀ + b on the last axis, at any rank."""

    keras_class = "Linear"
    keras_type = "Dense"
    acts_on_last_axis = True
    torch_input = "(*, H_in)"
    arguments = (Arg("in_features", optional(tensor_size(1)), None), Arg("out_features", tensor_size(0)),
                 Arg("bias", boolean, True))
    keras_keywords = {"out_features": "units", "bias": "use_bias"}
    keras_advice = {"activation": "nn.Linear has no activation: add a module after it, e.g. `{type: ReLU}` or "
                                  "`{type: Tanh}` (this spec has `framework: pytorch`)."}
    examples = (Example("Linear(out_features=4)", ((6, 3),), framework="pytorch"),
                Example("Linear(3, 2, bias=False)", ((3,),), framework="pytorch"))

    def check_config(self) -> None:
        negative_size(self, (self["out_features"], self["in_features"]), ("out_features", "in_features"))

    def in_features(self, inputs: Sequence[TensorSpec]) -> Dim:
        given = self["in_features"]
        return given if given is not None else inputs[0].shape[-1]

    def declared_input(self) -> Optional[TensorSpec]:
        given = self["in_features"]
        return None if given is None else TensorSpec((1, given), self.variable_dtype)

    def inferred_arguments(self, inputs: Sequence[TensorSpec]) -> Dict[str, Any]:
        return {"in_features": self.in_features(inputs)} if self["in_features"] is None else {}

    def check_input(self, inputs: Sequence[TensorSpec]) -> None:
        shape = inputs[0].shape
        if not shape:
            raise self.refuses("H001", "RuntimeError", "both arguments to linear need to be at least 1D, but they "
                                                       "are 0D and 2D", "nn.Linear needs at least one axis.", inputs)
        if inputs[0].dtype != self.variable_dtype:
            if not self["bias"] and is_floating(inputs[0].dtype):
                # Without a bias F.linear is a matmul (mm), whose check words it otherwise.
                raise dtype_refusal(self, inputs, "expected m1 and m2 to have the same dtype, but got: "
                                                  f"{_c_type(inputs[0].dtype)} != {_c_type(self.variable_dtype)}")
            raise dtype_refusal(self, inputs, "mat1 and mat2 must have the same dtype, but got "
                                              f"{SCALAR_NAMES.get(inputs[0].dtype)} and "
                                              f"{SCALAR_NAMES.get(self.variable_dtype)}")
        given, features = self["in_features"], shape[-1]
        if given is not None and features is not None and given != features:
            rows: Any = 1
            for dim in shape[:-1]:
                rows = None if rows is None or dim is None else rows * dim
            raise self.refuses("H004", "RuntimeError",
                               f"mat1 and mat2 shapes cannot be multiplied ({rows if rows is not None else 'N'}x"
                               f"{features} and {given}x{self['out_features']})",
                               f"Set `in_features: {features}` (the last axis of its input), or leave it out: "
                               "lstmcalc infers it.", inputs, argument="in_features")

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        self.check_input(inputs)
        weights = [self.weight("weight", (self["out_features"], self.in_features(inputs)))]
        if self["bias"]:
            weights.append(self.weight("bias", (self["out_features"],)))
        return weights

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        self.check_input(inputs)
        return [tuple(inputs[0].shape[:-1]) + (self["out_features"],)]

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return MacCount(times(count_of(self.in_features(inputs), "in_features"),
                              count_of(self["out_features"], "out_features")),
                        per_sample_positions(inputs[0]), "position")

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """Keras's Dense: kernel = weight.T; an activation module after it becomes its activation."""
        entry = Entry("Dense", self.name, {"units": self["out_features"], **({} if self["bias"] else {"use_bias": False})})
        counterpart = port_module(self, plan, entry, lambda own: {"kernel": own["weight"].T,
                                                                  **({"bias": own["bias"]} if "bias" in own else {})})
        plan.after.activation_slot = (entry, counterpart)

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = self.floating(inputs[0])
        y = x @ self.floating(weights["weight"]).T
        if self["bias"]:
            y = y + self.floating(weights["bias"])
        return [y], [None]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        n, m = self.in_features(inputs), self["out_features"]
        bias = " + b" if self["bias"] else ""
        symbols = [Symbol("x", tensor_text(inputs[0].shape), f"the input: {n} features on the last axis"),
                   Symbol("W", weight_text((m, n)), "weight: one row per output feature")]
        if self["bias"]:
            symbols.append(Symbol("b", weight_text((m,)), "bias"))
        symbols.append(Symbol("y", tensor_text(outputs[0]), "the output"))
        positions = per_sample_positions(inputs[0])
        words = [f"Each of the {m:,} outputs sums the {n:,} inputs through its own row of W"
                 + (" plus its bias" if self["bias"] else "")
                 + (f", at each of the {count_text(positions)} positions per sample before the last axis."
                    if positions != 1 else ".")]
        return one_block("on the last axis", [Equation("y", f"x·Wᵀ{bias}", "")], symbols,
                         legend_text="· = matrix product", layouts={"weight": "W", "bias": "b"}, words=words,
                         headline=f"nn.Linear({n}, {m})")


# -- Embedding ----------------------------------------------------------------------------------

@register
class Embedding(TorchModule):
    """nn.Embedding: integer ids → rows of weight (num_embeddings, embedding_dim)."""

    keras_class = "Embedding"
    keras_type = "Embedding"
    lookup = True
    torch_input = "(*) integer ids"
    arguments = (Arg("num_embeddings", tensor_size(0)), Arg("embedding_dim", tensor_size(1)),
                 Arg("padding_idx", optional(whole), None), Arg("max_norm", optional(real), None),
                 Arg("norm_type", real, 2.0), Arg("scale_grad_by_freq", boolean, False),
                 Arg("sparse", boolean, False), Arg("_weight", lambda name, value: value, None),
                 Arg("_freeze", boolean, False))
    keras_keywords = {"num_embeddings": "input_dim", "embedding_dim": "output_dim"}
    keras_advice = {"mask_zero": "PyTorch has no masks: nn.Embedding's padding_idx keeps that row out of the "
                                 "gradient, but the modules after it still read the padding steps."}
    examples = (Example("Embedding(num_embeddings=20, embedding_dim=4, padding_idx=0)", ((7,),), "int64",
                        framework="pytorch"),
                Example("Embedding(9, 3, max_norm=0.5)", ((4, 2),), "int32", framework="pytorch"))

    def check_config(self) -> None:
        negative_size(self, (self["num_embeddings"], self["embedding_dim"]), ("num_embeddings", "embedding_dim"))
        index, rows = self["padding_idx"], self["num_embeddings"]
        if index is not None and (index >= rows if index > 0 else index < -rows):
            raise Problem("S006", raised("AssertionError", "Padding_idx must be within num_embeddings"),
                          f"padding_idx picks a row: 0 … {rows - 1} (or -{rows} … -1, counted from the end).",
                          argument="padding_idx")
        if index == 0 and rows == 0:  # torch's assertion lets it through; zeroing row 0 then fails
            raise Problem("S006", raised("IndexError", "index 0 is out of bounds for dimension 0 with size 0"),
                          "An empty table has no padding row: give num_embeddings 1 or more, or no padding_idx.",
                          argument="padding_idx")

    @property
    def trainable(self) -> bool:
        return not self["_freeze"]

    def input_values(self) -> InputValues:
        return InputValues(integer=True, below=self["num_embeddings"])

    def declared_input(self) -> Optional[TensorSpec]:
        return TensorSpec((1,), "int64")

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        self.check_input(inputs)
        return [self.weight("weight", (self["num_embeddings"], self["embedding_dim"]))]

    def check_input(self, inputs: Sequence[TensorSpec]) -> None:
        dtype = inputs[0].dtype
        if dtype not in ("int64", "int32"):
            torch_type = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
                          "float16": "torch.HalfTensor"}.get(dtype, torch_dtype_name(dtype))
            raise dtype_refusal(self, inputs, "Expected tensor for argument #1 'indices' to have one of the following "
                                              f"scalar types: Long, Int; but got {torch_type} instead (while checking "
                                              "arguments for embedding)",
                                "Give the input integer ids: `input: {shape: [...], dtype: int64}`.")

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        self.check_input(inputs)
        if self["num_embeddings"] == 0 and (num_elements(inputs[0].shape) or 0) > 0:
            raise self.refuses("H004", "RuntimeError", "index_select(): self indexing axis dim should be positive",
                               "An empty table has no row to look up: give num_embeddings 1 or more (the number "
                               "of distinct ids).", inputs, argument="num_embeddings")
        return [tuple(inputs[0].shape) + (self["embedding_dim"],)]

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [self.variable_dtype] * count

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # a row lookup

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """Keras's Embedding with the same table (padding_idx only matters to gradients)."""
        if self["max_norm"] is not None:
            raise refuse(self, framework, "max_norm rescales the looked-up rows of the table in place, which Keras's "
                                          "Embedding does not do.", "Port a module without max_norm.")
        plan.input_dtype = "int32"
        port_module(self, plan, Entry("Embedding", self.name, {"input_dim": self["num_embeddings"],
                                                               "output_dim": self["embedding_dim"]}),
                    lambda own: {"embeddings": own["weight"]})

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """Rows of weight; with max_norm, each looked-up row longer than max_norm (in norm_type)
        is scaled to max_norm / (norm + 1e-7), as torch.embedding_renorm_ does in place."""
        np = numpy_module()
        ids = inputs[0]
        rows = self["num_embeddings"]
        if ((ids < 0) | (ids >= rows)).any():
            raise Problem("V004", raised("IndexError", "index out of range in self")
                          + f" ({self.name} (Embedding) takes ids 0 … {rows - 1}; the input has "
                          f"{int(ids.min())} … {int(ids.max())}).",
                          "Check the token ids, or raise num_embeddings.")
        table = self.floating(weights["weight"])
        if self["max_norm"] is not None:
            table = table.copy()
            used = np.unique(ids)
            norms = np.linalg.norm(table[used].astype("float64"), ord=self["norm_type"], axis=1)
            scale = np.where(norms > self["max_norm"], self["max_norm"] / (norms + 1e-7), 1.0)
            table[used] = (table[used] * scale[:, None]).astype(table.dtype)
        return [table[ids]], [None]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        rows, width = self["num_embeddings"], self["embedding_dim"]
        words = [f"Each integer id 0 … {rows - 1:,} selects one row of W: {width} learned values. Nothing is "
                 "multiplied."]
        if self["padding_idx"] is not None:
            words.append(f"padding_idx {self['padding_idx']}: that row starts at zero and gets no gradient; the "
                         "lookup itself is the same (PyTorch has no masks).")
        if self["max_norm"] is not None:
            words.append(f"max_norm {self['max_norm']}: every row looked up whose {self['norm_type']}-norm exceeds it is "
                         "rescaled to that norm, in the weight itself (in place), before it is returned.")
        return one_block("each id", [Equation("y[…, :]", "W[x[…]]", "row lookup")],
                         [Symbol("x", tensor_text(inputs[0].shape), "integer ids"),
                          Symbol("W", weight_text((rows, width)), "weight: one row per id"),
                          Symbol("y", tensor_text(outputs[0]), "one vector per id")],
                         layouts={"weight": "W"}, words=words, headline=f"nn.Embedding({rows}, {width})")


# -- LayerNorm ----------------------------------------------------------------------------------

@described({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "array", "items": {"type": "integer"}}]})
def normalized_shape(name: str, value: Any) -> Tuple[int, ...]:
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int):
            raise Problem("S005", raised("TypeError", f"empty(): argument 'size' must be tuple of ints, but found "
                                                      f"element of type {type_name(item)} at pos 0"),
                          "Write the sizes of the last axes, e.g. `normalized_shape: 64` or `[7, 64]`.")
    return tuple(items)


@register
class LayerNorm(TorchModule):
    """nn.LayerNorm: normalises over the last len(normalized_shape) axes, then weight ⊙ · + bias."""

    keras_class = "LayerNorm"
    keras_type = "LayerNormalization"
    keeps_shape = True
    torch_input = "(*, normalized_shape)"
    arguments = (Arg("normalized_shape", normalized_shape), Arg("eps", real, 1e-5),
                 Arg("elementwise_affine", boolean, True), Arg("bias", boolean, True))
    keras_keywords = {"eps": "epsilon"}
    keras_advice = {"axis": "nn.LayerNorm normalises the last axes given by `normalized_shape` (their sizes), "
                            "e.g. `normalized_shape: 64` for the last axis of 64 values."}
    examples = (Example("LayerNorm(normalized_shape=3)", ((6, 3),), framework="pytorch"),
                Example("LayerNorm([6, 3], elementwise_affine=False)", ((6, 3),), framework="pytorch"))

    def check_input(self, inputs: Sequence[TensorSpec]) -> None:
        # torch checks the dtypes (ATen's mixed-dtype check) before the shape.
        message = mixed_dtype_message(inputs[0].dtype, self.variable_dtype if self["elementwise_affine"] else None)
        if message:
            raise dtype_refusal(self, inputs, message)
        shape, wanted = inputs[0].shape, self["normalized_shape"]
        tail = tuple(shape[len(shape) - len(wanted):]) if len(wanted) <= len(shape) else None
        if tail is None or any(dim is not None and dim != size for dim, size in zip(tail, wanted)):
            raise self.refuses(
                "H004", "RuntimeError", f"Given normalized_shape={list(wanted)}, expected input with shape "
                                        f"[*, {', '.join(str(size) for size in wanted)}], but got input of size"
                                        f"{list(shape)}",
                f"normalized_shape names the sizes of the last axes: here `normalized_shape: {shape[-1]}`"
                + (f" (or {list(shape[-len(wanted):])})" if 1 < len(wanted) <= len(shape) else "") + ".",
                inputs, argument="normalized_shape")

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count  # float16 input with float32 weight and bias stays float16

    def declared_input(self) -> Optional[TensorSpec]:
        return TensorSpec(tuple(self["normalized_shape"]), self.variable_dtype)

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        self.check_input(inputs)
        if not self["elementwise_affine"]:
            return []
        weights = [self.weight("weight", self["normalized_shape"], initial="positive")]
        if self["bias"]:
            weights.append(self.weight("bias", self["normalized_shape"]))
        return weights

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        self.check_input(inputs)
        return [inputs[0].shape]

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # element-wise scale and shift (docs/compute.md)

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """(x − mean) / √(biased variance + eps) over the last axes, then ⊙ weight + bias."""
        np = numpy_module()
        x = self.floating(inputs[0])
        axes = tuple(range(x.ndim - len(self["normalized_shape"]), x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        variance = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        y = (x - mean) / np.sqrt(variance + x.dtype.type(self["eps"]))
        if "weight" in weights:
            y = y * self.floating(weights["weight"])
        if "bias" in weights:
            y = y + self.floating(weights["bias"])
        return [y.astype(x.dtype, copy=False)], [None]

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """Keras's LayerNormalization over the same last axes: gamma = weight, beta = bias."""
        count, rank = len(self["normalized_shape"]), len(inputs[0].shape)
        axes = -1 if count == 1 else list(range(rank - count, rank))
        arguments: dict = {"axis": axes, "epsilon": self["eps"]}
        if not self["elementwise_affine"]:
            arguments.update(center=False, scale=False)
        elif not self["bias"]:
            arguments["center"] = False
        port_module(self, plan, Entry("LayerNormalization", self.name, arguments),
                    lambda own: {key: own[name] for name, key in (("weight", "gamma"), ("bias", "beta")) if name in own})

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        scale = " ⊙ γ" if self["elementwise_affine"] else ""
        shift = " + β" if self["elementwise_affine"] and self["bias"] else ""
        axes = list(self["normalized_shape"])
        return one_block("each sample and position", [Equation(
            "y", f"(x − E[x]) / √(Var[x] + {self['eps']}){scale}{shift}",
            f"E, Var: mean and biased variance over the last {len(axes)} axis(es), of sizes {axes}")],
            io_symbols(inputs, outputs), legend_text="⊙ = element-wise product",
            layouts={"weight": "γ", "bias": "β"}, headline=f"nn.LayerNorm({axes if len(axes) > 1 else axes[0]})")


# -- Dropout, activations -----------------------------------------------------------------------

@register
class Dropout(Parameterless):
    """nn.Dropout: zeroes elements with probability p while training; the identity in eval mode."""

    keras_class = "Dropout"
    keras_type = "Dropout"
    arguments = (Arg("p", probability, 0.5), Arg("inplace", boolean, False))
    keras_keywords = {"p": "rate"}
    examples = (Example("Dropout(p=0.3)", ((6, 3),), framework="pytorch"),)

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        port_module(self, plan, Entry("Dropout", self.name, {"rate": self["p"]}), layout="any")

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        p = self["p"]
        return one_block("training only", [
            Equation("y", f"x ⊙ m / (1 − {p})", f"while training: m is random 0/1 with P(1) = {1 - p:g}"),
            Equation("y", "x", "in eval mode (model.eval()), which lstmcalc's forward pass runs")],
            io_symbols(inputs, outputs), legend_text="⊙ = element-wise product", headline=f"nn.Dropout(p={p})")


class Activation(Parameterless):
    """An element-wise activation module; ``activation`` names its NumPy function (and the Keras
    activation it computes)."""

    activation: ClassVar[str] = ""
    formula: ClassVar[str] = ""
    arguments: ClassVar[Tuple[Arg, ...]] = ()
    # The arguments' values that Keras's activation of the same name computes: other values have
    # no Keras activation name, and port refuses them.
    keras_settings: ClassVar[Dict[str, Any]] = {}

    def function(self, x: "ndarray") -> "ndarray":
        return activation_function(self.activation)(x)

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        for key, value in self.keras_settings.items():
            if self[key] != value:
                raise refuse(self, framework, f"Keras's `{self.keras_activation}` activation has {key} {value!r}; "
                                              f"this {self.keras_class} has {key} {self[key]!r}.",
                             f"Use `{key}: {value}`.")
        port_activation(self, plan)

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        return one_block("element-wise", [Equation("y", self.formula, "")], io_symbols(inputs, outputs),
                         headline=f"nn.{self.keras_class}")


@register
class ReLU(Activation):
    """nn.ReLU: max(x, 0)."""

    keras_class = "ReLU"
    activation = keras_activation = "relu"
    functional_names = ("relu",)  # torch.relu(x), F.relu(x), x.relu()
    formula = "max(x, 0)"
    arguments = (Arg("inplace", boolean, False),)
    examples = (Example("ReLU()", ((6, 3),), framework="pytorch"),)


@register
class Tanh(Activation):
    """nn.Tanh."""

    keras_class = "Tanh"
    activation = keras_activation = "tanh"
    integer_inputs = "float32"
    functional_names = ("tanh",)  # torch.tanh(x), F.tanh(x), x.tanh()
    formula = "tanh(x)"
    examples = (Example("Tanh()", ((6, 3),), framework="pytorch"),)


@register
class Sigmoid(Activation):
    """nn.Sigmoid: 1 / (1 + e^−x)."""

    keras_class = "Sigmoid"
    activation = keras_activation = "sigmoid"
    integer_inputs = "float32"
    functional_names = ("sigmoid",)  # torch.sigmoid(x), F.sigmoid(x), x.sigmoid()
    formula = "σ(x) = 1 / (1 + e^−x)"
    examples = (Example("Sigmoid()", ((6, 3),), framework="pytorch"),)


@register
class GELU(Activation):
    """nn.GELU: x·Φ(x), with the exact error function (approximate='none') or its tanh form."""

    keras_class = "GELU"
    integer_inputs = "GeluKernelImpl"
    functional_names = ("gelu",)  # F.gelu(x)
    arguments = (Arg("approximate", choice("none", "tanh"), "none"),)
    examples = (Example("GELU()", ((6, 3),), framework="pytorch"),
                Example("GELU(approximate='tanh')", ((6, 3),), framework="pytorch"))

    keras_activation = "gelu"
    keras_settings = {"approximate": "none"}  # Keras's "gelu" string is the exact form

    @property
    def formula(self) -> str:  # type: ignore[override]
        if self["approximate"] == "none":
            return "x · Φ(x) = x · ½ (1 + erf(x / √2))"
        return "½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))"

    def function(self, x: "ndarray") -> "ndarray":
        if self["approximate"] == "none":
            return activation_function("gelu")(x)
        np = numpy_module()
        inner = x.dtype.type((2 / np.pi) ** 0.5) * (x + x.dtype.type(0.044715) * x ** 3)
        return (x.dtype.type(0.5) * x * (1 + np.tanh(inner))).astype(x.dtype, copy=False)


@register
class SiLU(Activation):
    """nn.SiLU: x·σ(x) (Keras's silu / swish)."""

    keras_class = "SiLU"
    integer_inputs = "silu_cpu"
    activation = keras_activation = "silu"
    functional_names = ("silu",)
    formula = "x · σ(x)"
    arguments = (Arg("inplace", boolean, False),)
    examples = (Example("SiLU()", ((6, 3),), framework="pytorch"),)


@register
class ELU(Activation):
    """nn.ELU(alpha): x for x > 0, alpha·(e^x − 1) otherwise."""

    keras_class = "ELU"
    integer_inputs = "elu_cpu"
    functional_names = ("elu",)
    arguments = (Arg("alpha", real, 1.0), Arg("inplace", boolean, False))
    examples = (Example("ELU()", ((6, 3),), framework="pytorch"),
                Example("ELU(alpha=0.5)", ((6, 3),), framework="pytorch"))

    keras_activation = "elu"
    keras_settings = {"alpha": 1.0}

    @property
    def formula(self) -> str:  # type: ignore[override]
        return f"x if x > 0, else {self['alpha']:g} (e^x − 1)"

    def function(self, x: "ndarray") -> "ndarray":
        np = numpy_module()
        return np.where(x > 0, x, x.dtype.type(self["alpha"]) * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


@register
class LeakyReLU(Activation):
    """nn.LeakyReLU(negative_slope): x for x ≥ 0, negative_slope·x otherwise."""

    keras_class = "LeakyReLU"
    integer_inputs = "leaky_relu_cpu"
    functional_names = ("leaky_relu",)
    arguments = (Arg("negative_slope", real, 0.01), Arg("inplace", boolean, False))
    examples = (Example("LeakyReLU(negative_slope=0.2)", ((6, 3),), framework="pytorch"),)

    keras_activation = "leaky_relu"
    activation_arguments = keras_settings = {"negative_slope": 0.2}  # what Keras's "leaky_relu" computes

    @property
    def formula(self) -> str:  # type: ignore[override]
        return f"x if x ≥ 0, else {self['negative_slope']:g} x"

    def function(self, x: "ndarray") -> "ndarray":
        np = numpy_module()
        return np.where(x >= 0, x, x * x.dtype.type(self["negative_slope"])).astype(x.dtype, copy=False)



@described({"type": ["integer", "null"]})
def optional_axis(name: str, value: Any) -> Optional[int]:
    return None if value is None else whole(name, value)


@register
class Softmax(Parameterless):
    """nn.Softmax(dim): exponentials normalised to sum 1 along ``dim``."""

    keras_class = "Softmax"
    integer_inputs = "softmax_kernel_impl"
    functional_names = ("softmax",)
    keras_activation = "softmax"  # Keras's softmax is along the last axis
    activation_arguments = {"dim": -1}
    arguments = (Arg("dim", optional_axis, None),)
    examples = (Example("Softmax(dim=-1)", ((6, 3),), framework="pytorch"),)

    def integer_kernel(self, inputs: Sequence[TensorSpec]) -> str:
        rank = len(inputs[0].shape)
        return "softmax_lastdim_kernel_impl" if self.axis(rank) == rank - 1 else "softmax_kernel_impl"

    def axis(self, rank: int) -> int:
        """torch's choice when dim is None (_get_softmax_dim): 0 for ranks 0, 1 and 3, else 1."""
        dim = self["dim"]
        if dim is None:
            return 0 if rank in (0, 1, 3) else 1
        return dim % max(rank, 1)

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        rank, dim = len(inputs[0].shape), self["dim"]
        if dim is not None and not -max(rank, 1) <= dim < max(rank, 1):
            raise self.refuses("H004", "IndexError", f"Dimension out of range (expected to be in range of "
                                                     f"[{-max(rank, 1)}, {max(rank, 1) - 1}], but got {dim})",
                               "Give `dim` an axis of the input (-1: the last).", inputs, argument="dim")
        return super().output_shapes(inputs)

    def warnings(self, inputs: Sequence[TensorSpec]) -> List[Problem]:
        if self["dim"] is not None:
            return []
        axis = self.axis(len(inputs[0].shape))
        return [Problem(
            "H013", "torch warns (UserWarning): Implicit dimension choice for softmax has been deprecated. Change the "
                    f"call to include dim=X as an argument. {self.name} (Softmax) has no `dim`: on its "
                    f"{len(inputs[0].shape)}-D input torch normalises axis {axis}.",
            "Give `dim` (usually `dim: -1`, the features).")]

    def function(self, x: "ndarray") -> "ndarray":
        np = numpy_module()
        axis = self.axis(x.ndim)
        shifted = x - np.max(x, axis=axis, keepdims=True)
        exps = np.exp(shifted)
        return exps / np.sum(exps, axis=axis, keepdims=True)

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        if self.axis(len(inputs[0].shape)) != len(inputs[0].shape) - 1:
            raise refuse(self, framework, "Keras's softmax activation normalises the last axis; this Softmax "
                                          f"normalises axis {self['dim']}.", "Use `dim: -1`.")
        port_activation(self, plan)

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        axis = self.axis(len(inputs[0].shape))
        chosen = "" if self["dim"] is not None else " (dim not given: torch picks it, with a deprecation warning)"
        return one_block("along one axis", [Equation("y_i", "e^{x_i} / Σ_j e^{x_j}", f"over axis {axis}{chosen}")],
                         io_symbols(inputs, outputs), headline=f"nn.Softmax(dim={self['dim']})")


# -- Flatten ------------------------------------------------------------------------------------

class Reshaping(TorchModule):
    """nn.Flatten and nn.Unflatten: the same values, in the same order, under other axes."""

    base_arguments = (NAME,)

    def resolved(self, inputs: Sequence[TensorSpec], name: str) -> int:
        """The axis argument ``name`` counted from 0, as torch checks it."""
        rank = max(len(inputs[0].shape), 1)
        dim = self[name]
        if not -rank <= dim < rank:
            raise self.refuses("H004", "IndexError", f"Dimension out of range (expected to be in range of "
                                                     f"[{-rank}, {rank - 1}], but got {dim})",
                               f"Give `{name}` an axis of the input.", inputs, argument=name)
        return dim % rank

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS


@register
class Flatten(Reshaping):
    """nn.Flatten: joins the axes start_dim … end_dim (by default every axis after the batch)."""

    keras_class = "Flatten"
    keras_type = "Flatten"
    flattens = True
    functional_names = ("flatten",)  # torch.flatten(x, 1), x.flatten(1)
    functional_defaults = {"start_dim": 0}
    arguments = (Arg("start_dim", whole, 1), Arg("end_dim", whole, -1))
    examples = (Example("Flatten()", ((6, 3),), framework="pytorch"),)

    def span(self, inputs: Sequence[TensorSpec]) -> Tuple[int, int]:
        return self.resolved(inputs, "start_dim"), self.resolved(inputs, "end_dim")

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape = inputs[0].shape
        start, end = self.span(inputs)
        if start > end:
            raise self.refuses("H004", "RuntimeError", "flatten() has invalid args: start_dim cannot come after "
                                                       "end_dim", "Give start_dim ≤ end_dim.", inputs)
        joined: Dim = 1
        for dim in shape[start:end + 1]:
            joined = None if joined is None or dim is None else joined * dim
        return [tuple(shape[:start]) + (joined,) + tuple(shape[end + 1:])]

    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        start, end = self.span(inputs)
        axis = inputs[0].batch_axis
        if axis is None or axis < start:
            return [axis] * count
        if axis > end:
            return [axis - (end - start)] * count
        return [start] * count  # the batch joined with other axes: batch_fold items of it make a sample

    def output_batch_folds(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        """Joining the batch with other axes (nn.Flatten(0, 1): batch × time) puts their sizes'
        product of items in one sample."""
        start, end = self.span(inputs)
        axis, fold = inputs[0].batch_axis, inputs[0].batch_fold
        if axis is None or not start <= axis <= end:
            return [fold] * count
        joined = num_elements([dim for index, dim in enumerate(inputs[0].shape[start:end + 1], start)
                               if index != axis])
        return [None if fold is None or joined is None else fold * joined] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = inputs[0]
        start, end = self.span([TensorSpec(tuple(x.shape))])
        return [x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])], [None]

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        start, end = self.span(inputs)
        if (start, end) == (0, 1) and inputs[0].batch_axis == 0:  # TimeDistributed's fold of batch and time
            open_fold(self, plan, inputs)
            return
        if inputs[0].batch_axis is not None and start <= inputs[0].batch_axis <= end:
            raise refuse(self, framework, f"it folds the batch into one axis with others (x.flatten({start}, {end})), "
                                          "and Keras's layers never touch the batch axis: Keras applies the layers "
                                          "between such a fold and its unflatten to every step with TimeDistributed.",
                         "Write those layers inside TimeDistributed(...) in the Keras model by hand.")
        if self.span(inputs) != (1, len(inputs[0].shape) - 1) or inputs[0].batch_axis != 0:
            raise refuse(self, framework, "Keras's Flatten joins every axis after a leading batch axis; this one joins "
                                          f"axes {self.span(inputs)} of a tensor with the batch on axis "
                                          f"{inputs[0].batch_axis}.", "Use nn.Flatten() on a batch-first tensor.")
        port_module(self, plan, Entry("Flatten", self.name))

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        start, end = self.span(inputs)
        return one_block("a reshape", [Equation("y", f"x with axes {start} … {end} joined", "row-major: the last "
                                                "axis varies fastest; no values change")],
                         io_symbols(inputs, outputs), headline=f"nn.Flatten({start}, {self['end_dim']})")


@described({"type": "array", "items": {"type": "integer", "minimum": -1}, "minItems": 1})
def unflattened_size(name: str, value: Any) -> Tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        raise Problem("S005", raised("TypeError", f"{name} must be a tuple of ints, but found type {type_name(value)}"),
                      f"Write the sizes the axis splits into, e.g. `{name}: [-1, 16]`.")
    for position, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int):
            raise Problem("S005", raised("TypeError", f"{name} must be tuple of ints, but found element of type "
                                                      f"{type_name(item)} at pos {position}"),
                          f"Write whole numbers, e.g. `{name}: [-1, 16]`.")
    return tuple(value)


@register
class Unflatten(Reshaping):
    """nn.Unflatten: splits axis ``dim`` into ``unflattened_size`` (one of them -1: whatever is left)."""

    keras_class = "Unflatten"
    functional_names = ("unflatten",)  # x.unflatten(0, (-1, 16))
    arguments = (Arg("dim", whole), Arg("unflattened_size", unflattened_size))
    examples = (Example("Unflatten(dim=1, unflattened_size=[-1, 3])", ((6, 5),), framework="pytorch"),
                Example("Unflatten(-1, [2, 3])", ((4, 6),), framework="pytorch"))

    def axis(self, inputs: Sequence[TensorSpec]) -> int:
        return self.resolved(inputs, "dim")

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        shape, sizes = inputs[0].shape, list(self["unflattened_size"])
        axis = self.axis(inputs)
        if not sizes:
            raise self.refuses("H004", "RuntimeError", "unflatten: sizes must be non-empty",
                               "Give the sizes the axis splits into.", inputs, argument="unflattened_size")
        if sizes.count(-1) > 1:
            # torch's message, without the C++ backtrace it appends ("Exception raised from infer_size_impl …").
            raise self.refuses("H004", "RuntimeError",
                               "unflatten got an unexpected error:\nonly one dimension can be inferred",
                               "Leave at most one size -1.", inputs, argument="unflattened_size")
        length, known = shape[axis], num_elements([size for size in sizes if size != -1]) or 0
        if length is not None:
            inferred = length // known if known and length % known == 0 else None
            if (inferred is None) if -1 in sizes else known != length:
                raise self.refuses("H004", "RuntimeError", f"unflatten: Provided sizes {sizes} don't multiply up to "
                                                           f"the size of dim {axis} ({length}) in the input tensor",
                                   f"The sizes must multiply to {length}.", inputs, argument="unflattened_size")
            sizes = [inferred if size == -1 else size for size in sizes]
        else:
            sizes = [None if size == -1 else size for size in sizes]
        return [tuple(shape[:axis]) + tuple(sizes) + tuple(shape[axis + 1:])]

    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        """The batch folded with the axis after it (nn.Flatten(0, 1)) comes back as the first part."""
        batch, axis = inputs[0].batch_axis, self.axis(inputs)
        if batch == axis or (batch is None and axis == 0):  # the batch (or a fold it leads) is split
            return [axis] * count
        if batch is None:
            return [None] * count
        return [batch + len(self["unflattened_size"]) - 1 if batch > axis else batch] * count

    def output_batch_folds(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        """Splitting the batch axis (nn.Unflatten(0, (-1, T)) after nn.Flatten(0, 1)) leaves the
        first part as the batch: the other parts' items leave each sample."""
        fold, axis = inputs[0].batch_fold, self.axis(inputs)
        if inputs[0].batch_axis != axis or fold is None:
            return [fold] * count
        parted = num_elements(self.output_shapes(inputs)[0][axis + 1:axis + len(self["unflattened_size"])])
        return [fold // parted if parted and fold % parted == 0 else None] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = inputs[0]
        axis = self.axis([TensorSpec(tuple(x.shape))])
        return [x.reshape(x.shape[:axis] + tuple(self["unflattened_size"]) + x.shape[axis + 1:])], [None]

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """Only as the end of a fold of batch and time (nn.Unflatten(0, (-1, steps)) after
        nn.Flatten(0, 1)): the modules between become Keras's TimeDistributed layers."""
        close_fold(self, plan, inputs, self.axis(inputs), self["unflattened_size"])

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        axis = self.axis(inputs)
        parts = tuple(outputs[0][axis:axis + len(self["unflattened_size"])])
        return one_block("a reshape", [Equation("y", f"x with axis {axis} split into {parts}",
                                                "row-major: the last part varies fastest; no values change")],
                         io_symbols(inputs, outputs),
                         headline=f"nn.Unflatten({self['dim']}, {tuple(self['unflattened_size'])})")


# -- convolutions and pooling on (batch, channels, *spatial) -------------------------------------

@described({"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}, "maxItems": 1}]})
def single(name: str, value: Any) -> int:
    """torch's _single: an int or a 1-tuple."""
    return per_axis(sizes(1)(name, value), 1)[0]


def sizes(rank: int):
    """torch's _single / _pair: an int (the same on every spatial axis, kept as written) or
    ``rank`` ints (a tuple)."""
    one = {"type": "integer"}

    @described({"anyOf": [one, {"type": "array", "items": one, "minItems": rank, "maxItems": rank}]})
    def check_sizes(name: str, value: Any) -> Any:
        items = list(value) if isinstance(value, (list, tuple)) else [value] * rank
        if len(items) != rank or any(isinstance(item, bool) or not isinstance(item, int) for item in items):
            several = f" (or a list of {rank} int{'s' if rank > 1 else ''})"
            raise Problem("S005", f"`{name}` must be an int{several}, got {value!r}.",
                          f"Write e.g. `{name}: 3`" + (f" or `{name}: [3, 3]`." if rank > 1 else "."))
        return tuple(items) if isinstance(value, (list, tuple)) else value
    return check_sizes


def conv_padding(rank: int):
    """A convolution's padding: steps (an int, or one per spatial axis), 'same' or 'valid'."""
    steps = sizes(rank)

    @described({"anyOf": [{"type": "integer", "minimum": 0}, {"enum": ["same", "valid"]}]
                + ([{"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": rank,
                     "maxItems": rank}] if rank > 1 else [])})
    def check_conv_padding(name: str, value: Any) -> Any:
        if isinstance(value, str):
            if value not in ("same", "valid"):
                raise Problem("S006", raised("ValueError", f"Invalid padding string {value!r}, should be one of "
                                                           "{'same', 'valid'}"),
                              "PyTorch's convolutions pad by a number of steps or 'same' / 'valid'; for causal "
                              "padding, pad the left side yourself (no module for it).")
            return value
        checked = steps(name, value)
        return per_axis(checked, rank)[0] if rank == 1 else checked
    return check_conv_padding


@described({"enum": ["zeros", "reflect", "replicate", "circular"]})
def padding_mode(name: str, value: Any) -> str:
    if value not in ("zeros", "reflect", "replicate", "circular"):
        raise Problem("S006", raised("ValueError", "padding_mode must be one of {'replicate', 'reflect', 'zeros', "
                                                   f"'circular'}}, but got padding_mode='{value}'"),
                      "Use zeros (the default), reflect, replicate or circular.")
    return value


def conv_output_length(length: Dim, kernel: int, stride: int, padding: Tuple[int, int], dilation: int,
                       ceil: bool = False) -> Dim:
    """torch's ⌊(L + left + right − d·(k − 1) − 1) / s⌋ + 1 (⌈⌉ with ceil_mode)."""
    if length is None:
        return None
    span = length + padding[0] + padding[1] - dilation * (kernel - 1) - 1
    steps = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (steps - 1) * stride >= length + padding[0]:
        steps -= 1  # the last window must start inside the input or its left padding
    return steps


def per_axis(value: Any, rank: int) -> Tuple[int, ...]:
    """An argument that is one int for every spatial axis, or one per axis, as a tuple."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank


class ChannelsFirst(TorchModule):
    """Conv1d and MaxPool1d read (N, C, L), or (C, L) unbatched; Conv2d (N, C, H, W), or (C, H, W)."""

    spatial_rank: ClassVar[int] = 1
    sequence_axes = ("batch", "channels", "length")
    torch_input = "(N, C, L), or (C, L) unbatched"

    def unbatched_warning(self, inputs: Sequence[TensorSpec]) -> List[Problem]:
        if len(inputs[0].shape) != self.spatial_rank + 1:
            return []
        from .conv import size_text

        channels, *spatial = inputs[0].shape
        if self.spatial_rank == 1:
            what, fix = f"signal of {channels} channels and {spatial[0]} steps", \
                "a sequence (batch, steps, features) needs `{type: Permute, dims: [0, 2, 1]}` before it"
        else:
            what, fix = f"image of {channels} channels and {size_text(spatial)} pixels", \
                "an image (batch, height, width, channels) needs `{type: Permute, dims: [0, 3, 1, 2]}` before it"
        return [Problem(
            "H010", f"{self.name} ({self.keras_class}) receives the {self.spatial_rank + 1}-D tensor "
                    f"{format_shape(inputs[0].shape)}: torch reads it as ONE unbatched {what} — the batch becomes "
                    "the channel axis. No error is raised.",
            f"Feed it {self.layout_text}: {fix}.")]

    @property
    def layout_text(self) -> str:
        return "(batch, channels, length)" if self.spatial_rank == 1 else "(batch, channels, height, width)"

    def warnings(self, inputs: Sequence[TensorSpec]) -> List[Problem]:
        return self.unbatched_warning(inputs)

    def padding_pair(self, kernel: int, dilation: int, axis: int = 0) -> Tuple[int, int]:
        """Zeros (left, right) on spatial axis ``axis``."""
        padding = self["padding"]
        if padding == "valid":
            return 0, 0
        if padding == "same":
            total = dilation * (kernel - 1)
            return total // 2, total - total // 2
        steps = per_axis(padding, self.spatial_rank)[axis]
        return steps, steps

    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        return [None if len(inputs[0].shape) == self.spatial_rank + 1 else 0] * count

    def pooled_sizes(self, inputs: Sequence[TensorSpec], kernel: Any, stride: Any, dilation: Any,
                     ceil: bool = False) -> Tuple[Dim, ...]:
        """The output's spatial sizes."""
        rank = self.spatial_rank
        kernel, stride, dilation = (per_axis(value, rank) for value in (kernel, stride, dilation))
        spatial = inputs[0].shape[len(inputs[0].shape) - rank:]
        return tuple(conv_output_length(length, k, s, self.padding_pair(k, d, axis), d, ceil)
                     for axis, (length, k, s, d) in enumerate(zip(spatial, kernel, stride, dilation)))

    def pooled_length(self, inputs: Sequence[TensorSpec], kernel: int, stride: int, dilation: int,
                      ceil: bool = False) -> Dim:
        return self.pooled_sizes(inputs, kernel, stride, dilation, ceil)[0]

    def windows(self, x: "ndarray", kernel: Any, stride: Any, dilation: Any, fill: float,
                mode: str = "zeros", ceil: bool = False) -> "ndarray":
        """(…, C, *spatial) → (…, C, *steps, *kernel): every window, padding filled with ``fill``
        (or by ``mode``: reflect, replicate, circular)."""
        from .conv import window_taps  # imported here: the Keras convolution family loads only when run

        np = numpy_module()
        rank = self.spatial_rank
        kernel, stride, dilation = (per_axis(value, rank) for value in (kernel, stride, dilation))
        pads = [self.padding_pair(k, d, axis) for axis, (k, d) in enumerate(zip(kernel, dilation))]
        if mode != "zeros" and any(left or right for left, right in pads):
            x = np.pad(x, [(0, 0)] * (x.ndim - rank) + pads,
                       mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])
            pads = [(0, 0)] * rank
        first = x.ndim - rank
        for axis, (k, s, d, (left, right)) in enumerate(zip(kernel, stride, dilation, pads)):
            where = first + axis
            length = x.shape[where]
            steps = conv_output_length(length, k, s, (left, right), d, ceil)
            taps, inside = window_taps(length, k, s, d, (left, right + s))
            taps, inside = taps[:steps], inside[:steps]
            picked = np.take(x, taps, axis=where)  # the axis becomes (steps, k)
            inside = inside.reshape((1,) * where + inside.shape + (1,) * (x.ndim - where - 1))
            x = np.moveaxis(np.where(inside, picked, x.dtype.type(fill)), where + 1, -1)
        return x


class Convolution(ChannelsFirst):
    """nn.Conv1d and nn.Conv2d: weight (C_out, C_in / groups, *kernel_size), torch's checks in its order."""

    convolution = True
    keras_keywords = {"out_channels": "filters", "stride": "strides", "dilation": "dilation_rate", "bias": "use_bias"}

    @classmethod
    def convolution_arguments(cls, rank: int) -> Tuple[Arg, ...]:
        size = single if rank == 1 else sizes(rank)
        return (Arg("in_channels", optional(single), None), Arg("out_channels", single), Arg("kernel_size", size),
                Arg("stride", size, 1), Arg("padding", conv_padding(rank), 0), Arg("dilation", size, 1),
                Arg("groups", single, 1), Arg("bias", boolean, True), Arg("padding_mode", padding_mode, "zeros"))

    def spatial(self, name: str) -> Tuple[int, ...]:
        """kernel_size, stride or dilation: one int per spatial axis."""
        return per_axis(self[name], self.spatial_rank)

    def check_config(self) -> None:
        groups = self["groups"]
        if groups <= 0:
            raise Problem("S006", raised("ValueError", "groups must be a positive integer"),
                          "Use groups ≥ 1 (1: an ordinary convolution).", argument="groups")
        if self.inferred_channels_checked_first:
            return  # check_input makes these checks after in_channels, as torch's constructor does
        self.construction_checks()

    @property
    def inferred_channels_checked_first(self) -> bool:
        """Whether torch's constructor checks need the in_channels the input gives (left out, with
        groups > 1: ``in_channels % groups`` comes first; a negative size: torch.empty's message shows
        it): the constructor's checks then wait for the input (check_input)."""
        return self["in_channels"] is None and (self["groups"] > 1 or min(
            (self["out_channels"],) + self.spatial("kernel_size")) < 0)  # torch.empty's message shows in_channels

    def construction_checks(self, channels: Dim = None) -> None:
        """_ConvNd.__init__'s checks after ``groups > 0``, in its order (Problems with S codes);
        ``channels``: in_channels inferred from the input, when left out."""
        groups = self["groups"]
        given = self["in_channels"] if self["in_channels"] is not None else channels
        if given is not None and given % groups:
            raise Problem("S012", raised("ValueError", "in_channels must be divisible by groups"),
                          "Choose groups that divides in_channels.", argument="groups")
        if self["out_channels"] % groups:
            raise Problem("S012", raised("ValueError", "out_channels must be divisible by groups"),
                          "Choose out_channels as a multiple of groups.", argument="groups")
        if self["padding"] == "same" and any(stride != 1 for stride in self.spatial("stride")):
            raise Problem("S012", raised("ValueError", "padding='same' is not supported for strided convolutions"),
                          "Use stride 1 with padding 'same', or pad by a number of steps.", argument="padding")
        # torch.empty(out_channels, in_channels // groups, *kernel_size) at construction.
        negative_size(self, (self["out_channels"], given // groups if given is not None else None)
                      + self.spatial("kernel_size"),
                      ("out_channels", "in_channels") + ("kernel_size",) * self.spatial_rank)

    def channels(self, inputs: Sequence[TensorSpec]) -> Dim:
        given = self["in_channels"]
        return given if given is not None else inputs[0].shape[-self.spatial_rank - 1]

    def inferred_arguments(self, inputs: Sequence[TensorSpec]) -> Dict[str, Any]:
        return {"in_channels": self.channels(inputs)} if self["in_channels"] is None else {}

    def declared_input(self) -> Optional[TensorSpec]:
        given = self["in_channels"]
        if given is None:
            return None
        # Sizes the kernel fits in (the weights do not depend on them).
        spatial = tuple(d * (k - 1) + 1 + sum(self.padding_pair(k, d, axis)) for axis, (k, d) in
                        enumerate(zip(self.spatial("kernel_size"), self.spatial("dilation"))))
        return TensorSpec((1, given) + spatial, self.variable_dtype)

    def check_input(self, inputs: Sequence[TensorSpec]) -> None:
        """torch's checks in its order. With a padding_mode other than zeros, forward() pads the input
        with F.pad first (its checks come first) and convolves the padded tensor with padding 0, so
        the convolution's messages show the padded shape."""
        shape, rank = inputs[0].shape, self.spatial_rank
        kernel, dilation, stride = self.spatial("kernel_size"), self.spatial("dilation"), self.spatial("stride")
        pads = [self.padding_pair(k, d, axis) for axis, (k, d) in enumerate(zip(kernel, dilation))]
        if self.inferred_channels_checked_first:
            # The in_channels inferred from the input, then the rest of the constructor's checks
            # (torch constructs the module with it, before any call).
            channels = self.channels(inputs) if len(shape) > rank else None
            if channels is not None and channels % self["groups"]:
                raise self.refuses("H004", "ValueError", "in_channels must be divisible by groups",
                                   f"The input has {channels} channels (axis {-rank - 1}): choose groups that divides "
                                   "it.", inputs, argument="groups")
            self.construction_checks(channels)
        if self["padding_mode"] != "zeros":
            if len(shape) not in (rank + 1, rank + 2):
                raise self.refuses(
                    "H001", "NotImplementedError",
                    f"Padding size {2 * rank} is not supported for {len(shape)}D input tensor.\n"
                    "Supported combinations for non-constant padding:\n"
                    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)",
                    f"nn.{self.keras_class} reads {self.layout_text}.", inputs)
            self.check_padding(inputs, pads)
            spatial = shape[len(shape) - rank:]
            if None not in spatial:
                shape = tuple(shape[:len(shape) - rank]) + tuple(
                    length + left + right for length, (left, right) in zip(spatial, pads))
                pads = [(0, 0)] * rank
        elif self["padding"] == "same" and len(shape) in (rank + 1, rank + 2) \
                and None not in shape[len(shape) - rank:]:
            # padding='same' with an odd total (an even kernel): at::_convolution_mode pads the extra step on
            # the right first, then convolves with the symmetric part, so the messages show that shape.
            shape = tuple(shape[:len(shape) - rank]) + tuple(
                length + right - left for length, (left, right) in zip(shape[len(shape) - rank:], pads))
            pads = [(left, left) for left, _ in pads]
        if len(shape) not in (rank + 1, rank + 2):
            raise self.refuses("H001", "RuntimeError", f"Expected {rank + 1}D (unbatched) or {rank + 2}D (batched) "
                                                       f"input to conv{rank}d, but got input of size: {list(shape)}",
                               f"nn.{self.keras_class} reads {self.layout_text}.", inputs)
        # at::convolution compares the input with the bias first; without a bias, or with padding
        # 'same'/'valid' (at::_convolution_mode), the backend compares it with the weight, after the
        # channels.
        weight_checked = is_floating(inputs[0].dtype) and (not self["bias"] or (
            isinstance(self["padding"], str) and self["padding_mode"] == "zeros"))
        if inputs[0].dtype != self.variable_dtype and not weight_checked:
            raise dtype_refusal(self, inputs, f"Input type ({_c_type(inputs[0].dtype)}) and bias type "
                                              f"({_c_type(self.variable_dtype)}) should be the same")
        channels, found = self.channels(inputs), shape[-rank - 1]
        if found is not None and channels is not None and found != channels:
            weight = [self["out_channels"], channels // self["groups"], *kernel]
            batched = list(shape) if len(shape) == rank + 2 else [1] + list(shape)  # torch adds the batch first
            channels_first = [0, rank + 1] + list(range(1, rank + 1))
            raise self.refuses(
                "H004", "RuntimeError", f"Given groups={self['groups']}, weight of size {weight}, expected "
                                        f"input{batched} to have {channels} channels, but got {found} channels "
                                        "instead",
                f"Set `in_channels: {found}` or leave it out; if the input is channels-last, put "
                f"`{{type: Permute, dims: {channels_first}}}` before the {self.keras_class}.", inputs,
                argument="in_channels")
        if any(left < 0 for left, _ in pads):
            raise self.refuses("H004", "RuntimeError", "negative padding is not supported", "Pad by 0 or more.",
                               inputs, argument="padding")
        for argument, values in (("stride", stride), ("dilation", dilation)):
            if min(values) <= 0:
                raise self.refuses("H004", "RuntimeError", f"non-positive {argument} is not supported",
                                   f"Use {argument} ≥ 1.", inputs, argument=argument)
        spatial = shape[len(shape) - rank:]
        if None not in spatial:
            from .conv import size_text

            padded = [length + left + right for length, (left, right) in zip(spatial, pads)]
            extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
            if any(e > p for e, p in zip(extent, padded)):
                raise self.refuses(
                    "H004", "RuntimeError", f"Calculated padded input size per channel: "
                                            f"({' x '.join(map(str, padded))}). Kernel size: "
                                            f"({' x '.join(map(str, extent))}). Kernel size can't be greater than "
                                            "actual input size",
                    f"The kernel spans {size_text(extent)} but the padded input has {size_text(padded)}: pad more "
                    "(`padding: same`), or use a smaller kernel_size or dilation.", inputs, argument="kernel_size")
        # After the sizes: the backend compares the weight's dtype last.
        if inputs[0].dtype != self.variable_dtype and weight_checked:
            # The oneDNN path (float32 in batches of more than one, any bfloat16 input) words it one way,
            # the others another.
            dtype, weights = inputs[0].dtype, self.variable_dtype
            if dtype == "bfloat16" or (dtype == "float32" and len(shape) == rank + 2 and shape[0] != 1):
                message = (f"Input type ({_tensor_type(dtype)}) and weight type ({_tensor_type(weights)}) should be "
                           "the same or input should be a MKLDNN tensor and weight is a dense tensor")
            else:
                message = f"expected scalar type {SCALAR_NAMES.get(dtype)} but found {SCALAR_NAMES.get(weights)}"
            raise dtype_refusal(self, inputs, message)

    def check_padding(self, inputs: Sequence[TensorSpec], pads: Sequence[Tuple[int, int]]) -> None:
        """F.pad's checks of reflect and circular padding against the input's sizes."""
        shape, rank = inputs[0].shape, self.spatial_rank
        spatial = shape[len(shape) - rank:]
        for axis in reversed(range(rank)):  # torch's reflection_pad checks the last axis first
            (left, right), length = pads[axis], spatial[axis]
            if length is None:
                continue
            if self["padding_mode"] == "reflect" and max(left, right) >= length:
                raise self.refuses(
                    "H004", "RuntimeError", f"Argument #{4 + 2 * (rank - 1 - axis)}: Padding size should be less "
                                            f"than the corresponding input dimension, but got: padding ({left}, "
                                            f"{right}) at dimension {len(shape) - rank + axis} of input {list(shape)}",
                    "Reflect padding mirrors the input: pad by fewer steps than it has.", inputs, argument="padding")
            if self["padding_mode"] == "circular" and max(left, right) > length:
                raise self.refuses("H004", "RuntimeError", "Padding value causes wrapping around more than once.",
                                   "Circular padding wraps the input around once: pad by at most its size.",
                                   inputs, argument="padding")

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        self.check_input(inputs)
        channels = self.channels(inputs)
        per_group = None if channels is None else channels // self["groups"]
        weights = [self.weight("weight", (self["out_channels"], per_group) + self.spatial("kernel_size"))]
        if self["bias"]:
            weights.append(self.weight("bias", (self["out_channels"],)))
        return weights

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        self.check_input(inputs)
        spatial = self.pooled_sizes(inputs, self["kernel_size"], self["stride"], self["dilation"])
        return [tuple(inputs[0].shape[:-self.spatial_rank - 1]) + (self["out_channels"],) + spatial]

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        channels = self.channels(inputs)
        kernel = self.spatial("kernel_size")
        labels = ("kernel_size",) if self.spatial_rank == 1 else ("kernel height", "kernel width")
        per_step = times(*(count_of(size, label) for size, label in zip(kernel, labels)),
                         count_of(channels // self["groups"], "in_channels / groups"),
                         count_of(self["out_channels"], "out_channels"))
        positions = num_elements(outputs[0].shape[len(outputs[0].shape) - self.spatial_rank:])
        return MacCount(per_step, positions, "output step" if self.spatial_rank == 1 else "output position")

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """Cross-correlation of every window with each filter, groups splitting the channels."""
        np = numpy_module()
        x = self.floating(inputs[0])
        unbatched = x.ndim == self.spatial_rank + 1
        if unbatched:
            x = x[None]
        kernel = self.floating(weights["weight"])  # (out, in / groups, *kernel_size)
        windows = self.windows(x, self["kernel_size"], self["stride"], self["dilation"], 0.0, self["padding_mode"])
        batch, channels = windows.shape[:2]
        steps = windows.shape[2:2 + self.spatial_rank]
        groups, out = self["groups"], self["out_channels"]
        taps = num_elements(self.spatial("kernel_size"))
        grouped = windows.reshape(batch, groups, channels // groups, num_elements(steps), taps)
        filters = kernel.reshape(groups, out // groups, channels // groups, taps)
        # Summed in float64 and rounded once, as Keras's convolution is (lstmcalc.layers.conv): the
        # two frameworks' passes then differ by a rounding, not by two orders of float32 sums.
        y = np.einsum("bgcsk,gock->bgos", grouped, filters, dtype="float64", optimize=True,
                      casting="safe").reshape((batch, out) + steps).astype(x.dtype)
        if self["bias"]:
            y = y + self.floating(weights["bias"]).reshape((out,) + (1,) * self.spatial_rank)
        return [y[0] if unbatched else y], [None]


    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """Keras's Conv1D or Conv2D (channels last: the Permutes around it in PyTorch go away):
        kernel = weight with its axes (out, in, *kernel) moved to (*kernel, in, out)."""
        rank = self.spatial_rank
        padding = self["padding"]
        if padding not in ("valid", "same") and self.pads_as_keras_same(inputs):
            padding = "same"
        if padding not in ("valid", "same") and any(per_axis(padding, rank)) or self["padding_mode"] != "zeros" \
                or len(inputs[0].shape) != rank + 2:
            raise refuse(self, framework, f"Keras's {self.keras_type} pads 'valid' or 'same' with zeros; this module "
                                          f"pads {padding!r} ({self['padding_mode']}).",
                         f"Port a {self.keras_class} with padding 0, 'valid' or 'same' and padding_mode zeros.")
        kernel = self.spatial("kernel_size")
        arguments = {"filters": self["out_channels"], "kernel_size": kernel[0] if rank == 1 else list(kernel)}
        for name, value in (("strides", self.spatial("stride")), ("dilation_rate", self.spatial("dilation"))):
            if any(size != 1 for size in value):
                arguments[name] = value[0] if rank == 1 else list(value)
        if padding == "same":
            arguments["padding"] = "same"
        if self["groups"] != 1:
            arguments["groups"] = self["groups"]
        if not self["bias"]:
            arguments["use_bias"] = False
        entry = Entry(self.keras_type, self.name, arguments)
        keras_axes = tuple(range(2, rank + 2)) + (1, 0)
        counterpart = port_module(self, plan, entry, lambda own: {"kernel": own["weight"].transpose(keras_axes),
                                                                  **({"bias": own["bias"]} if "bias" in own else {})},
                                  layout="channels", rank=rank)
        plan.after.activation_slot = (entry, counterpart)

    def pads_as_keras_same(self, inputs: Sequence[TensorSpec]) -> bool:
        """Explicit padding that is what Keras's padding='same' (TensorFlow's SAME) adds on this
        input's known sizes, both sides alike: how a strided 'same' ports to PyTorch."""
        from .conv import same_padding

        rank = self.spatial_rank
        sizes = inputs[0].shape[-rank:]
        if isinstance(self["padding"], str) or None in sizes or any(size != 1 for size in self.spatial("dilation")):
            return False
        return all(same_padding(size, window, stride) == (pad, pad) for size, window, stride, pad in
                   zip(sizes, self.spatial("kernel_size"), self.spatial("stride"), per_axis(self["padding"], rank)))

@register
class Conv1d(Convolution):
    """nn.Conv1d on (N, C_in, L): weight (C_out, C_in / groups, kernel_size)."""

    keras_class = "Conv1d"
    keras_type = "Conv1D"
    arguments = Convolution.convolution_arguments(1)
    keras_advice = {"activation": "nn.Conv1d has no activation: add e.g. `{type: ReLU}` after it.",
                    "data_format": "nn.Conv1d always reads (batch, channels, length): put "
                                   "`{type: Permute, dims: [0, 2, 1]}` before it for (batch, steps, features)."}
    examples = (Example("Conv1d(out_channels=4, kernel_size=3, padding='same')", ((2, 9),), framework="pytorch"),
                Example("Conv1d(4, 6, 2, stride=2, groups=2, padding=1, padding_mode='reflect')", ((4, 9),),
                        framework="pytorch"))

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        k, stride, dilation = self["kernel_size"], self["stride"], self["dilation"]
        channels = self.channels(inputs)
        per_group = channels // self["groups"]
        bias = " + b_o" if self["bias"] else ""
        index = "t" if stride == 1 else f"{stride}·t"
        offset = "j" if dilation == 1 else f"{dilation}·j"
        symbols = [Symbol("x", tensor_text(inputs[0].shape), "the input: (batch, channels, length)"),
                   Symbol("W", weight_text((self["out_channels"], per_group, k)),
                          "weight: one (in_channels / groups, kernel_size) filter per output channel")]
        if self["bias"]:
            symbols.append(Symbol("b", weight_text((self["out_channels"],)), "bias"))
        symbols.append(Symbol("y", tensor_text(outputs[0]), "the output"))
        left, right = self.padding_pair(k, dilation)
        return one_block("each output channel o and step t", [Equation(
            "y[o, t]", f"Σ_c Σ_j W[o, c, j]·x[c, {index} + {offset} − {left}]{bias}",
            f"padding {left} left, {right} right ({self['padding_mode']}); c over the channels of o's group")],
            symbols, f"for t over {count_text(outputs[0][-1])} output steps", "· = product",
            {"weight": "W", "bias": "b"}, headline=f"nn.Conv1d({channels}, {self['out_channels']}, kernel_size={k})")


@register
class Conv2d(Convolution):
    """nn.Conv2d on (N, C_in, H, W): weight (C_out, C_in / groups, kH, kW)."""

    keras_class = "Conv2d"
    keras_type = "Conv2D"
    spatial_rank = 2
    sequence_axes = ("batch", "channels", "height", "width")
    torch_input = "(N, C, H, W), or (C, H, W) unbatched"
    arguments = Convolution.convolution_arguments(2)
    keras_advice = {"activation": "nn.Conv2d has no activation: add e.g. `{type: ReLU}` after it.",
                    "data_format": "nn.Conv2d always reads (batch, channels, height, width): put "
                                   "`{type: Permute, dims: [0, 3, 1, 2]}` before it for (batch, height, width, "
                                   "channels)."}
    examples = (Example("Conv2d(out_channels=4, kernel_size=3, padding='same')", ((2, 6, 5),), framework="pytorch"),
                Example("Conv2d(4, 6, (3, 2), stride=(2, 1), groups=2, padding=(1, 0), padding_mode='reflect')",
                        ((4, 7, 6),), framework="pytorch"))

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        from .conv import size_text

        (kh, kw), (sh, sw), (dh, dw) = self.spatial("kernel_size"), self.spatial("stride"), self.spatial("dilation")
        channels = self.channels(inputs)
        per_group, out = channels // self["groups"], self["out_channels"]
        bias = " + b_o" if self["bias"] else ""
        (top, bottom), (left, right) = self.padding_pair(kh, dh, 0), self.padding_pair(kw, dw, 1)
        row = ("i" if sh == 1 else f"{sh}·i") + " + " + ("m" if dh == 1 else f"{dh}·m") + \
            (f" − {top}" if top else "")
        column = ("j" if sw == 1 else f"{sw}·j") + " + " + ("n" if dw == 1 else f"{dw}·n") + \
            (f" − {left}" if left else "")
        symbols = [Symbol("x", tensor_text(inputs[0].shape), "the input: (batch, channels, height, width)"),
                   Symbol("W", weight_text((out, per_group, kh, kw)),
                          "weight: one (in_channels / groups, kH, kW) filter per output channel")]
        if self["bias"]:
            symbols.append(Symbol("b", weight_text((out,)), "bias"))
        symbols.append(Symbol("y", tensor_text(outputs[0]), "the output"))
        return one_block("each output channel o and position (i, j)", [Equation(
            "y[o, i, j]", f"Σ_c Σ_m Σ_n W[o, c, m, n]·x[c, {row}, {column}]{bias}",
            f"padding {top}/{bottom} rows, {left}/{right} columns ({self['padding_mode']}); c over the channels of "
            "o's group")], symbols, f"for (i, j) over the {size_text(outputs[0][-2:])} output positions",
            "· = product", {"weight": "W", "bias": "b"},
            headline=f"nn.Conv2d({channels}, {out}, kernel_size=({kh}, {kw}))")


def _tensor_type(dtype: str) -> str:
    """The tensor type torch's oneDNN convolution check prints: torch.FloatTensor, CPUBFloat16Type."""
    return {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "float16": "torch.HalfTensor",
            "bfloat16": "CPUBFloat16Type"}.get(dtype, dtype)


def is_floating(dtype: str) -> bool:
    return dtype in ("float16", "bfloat16", "float32", "float64")


def mixed_dtype_message(dtype: str, parameters: Optional[str]) -> str:
    """ATen's check_mixed_data_type for layer_norm and batch_norm on CPU ("" when it passes): an input
    whose parameters (``parameters``: their dtype, None without any) have another dtype is accepted
    only for float32 parameters and a float16 or bfloat16 input; the parameters are checked first."""
    if parameters is None or parameters == dtype:
        return ""
    if parameters != "float32":
        return "mixed dtype (CPU): expect parameter to have scalar type of Float"
    if dtype not in ("float16", "bfloat16"):
        return "mixed dtype (CPU): all inputs must share same datatype."
    return ""


def _c_type(dtype: str) -> str:
    """The C type torch's convolution messages print: float, double, long int."""
    return {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16"}.get(dtype, dtype)


class Pooling(ChannelsFirst):
    """MaxPool1d, MaxPool2d and AvgPool2d: windows of kernel_size every stride (kernel_size by
    default), no parameters."""

    keeps_shape = False
    base_arguments = (NAME,)
    keras_keywords = {"kernel_size": "pool_size", "stride": "strides"}
    primary_output = 0  # the pooled tensor; with return_indices, the indices are [1]

    @property
    def stride(self) -> Any:
        return self["stride"] if self["stride"] is not None else self["kernel_size"]

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype, "int64"][:count]

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """Keras's MaxPooling1D, MaxPooling2D or AveragePooling2D ('valid'), channels last."""
        rank = self.spatial_rank
        plain = {"padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False, "divisor_override": None}
        if any(key in self.config and any(value != plain[key] for value in per_axis(self[key], rank))
               for key in plain) or len(inputs[0].shape) != rank + 2:
            raise refuse(self, framework, f"Keras's {self.keras_type} has no padding by steps, dilation, ceil_mode, "
                                          "indices or divisor.", f"Port a {self.keras_class} with kernel_size and "
                                                                 "stride only.")
        pool, stride = (torch_size(per_axis(value, rank)) for value in (self["kernel_size"], self.stride))
        port_module(self, plan, Entry(self.keras_type, self.name,
                                      {"pool_size": pool, **({} if stride == pool else {"strides": stride})}),
                    layout="channels", rank=rank)

    def window_maximum(self, x: "ndarray", dilation: Any, indices: bool) -> List["ndarray"]:
        """The maximum of every window (padding never is), and with ``indices`` where it is: torch's
        flat index into the input's spatial axes."""
        np = numpy_module()
        rank = self.spatial_rank
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        taps = num_elements(per_axis(self["kernel_size"], rank))
        windows = self.windows(x, self["kernel_size"], self.stride, dilation, fill, "zeros", self["ceil_mode"])
        flat = windows.reshape(windows.shape[:windows.ndim - rank] + (taps,))
        outputs = [flat.max(axis=-1).astype(x.dtype, copy=False)]
        if indices:
            spatial = x.shape[x.ndim - rank:]
            positions = np.broadcast_to(np.arange(num_elements(spatial), dtype="float64").reshape(spatial), x.shape)
            where = self.windows(positions, self["kernel_size"], self.stride, dilation, -1, "zeros", self["ceil_mode"])
            where = where.reshape(flat.shape)
            outputs.append(np.take_along_axis(where, flat.argmax(axis=-1)[..., None], axis=-1)[..., 0].astype("int64"))
        return outputs


@register
class MaxPool1d(Pooling):
    """nn.MaxPool1d on (N, C, L): the maximum of each window, per channel."""

    keras_class = "MaxPool1d"
    keras_type = "MaxPooling1D"
    arguments = (Arg("kernel_size", single), Arg("stride", optional(single), None), Arg("padding", single, 0),
                 Arg("dilation", single, 1), Arg("return_indices", boolean, False),
                 Arg("ceil_mode", boolean, False))
    examples = (Example("MaxPool1d(2)", ((3, 8),), framework="pytorch"),
                Example("MaxPool1d(3, stride=2, padding=1, ceil_mode=True)", ((3, 8),), framework="pytorch"))

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        if self["return_indices"]:
            return [self.with_indices(inputs)] * 2
        shape = inputs[0].shape
        if len(shape) not in (2, 3):
            raise self.refuses("H001", "RuntimeError", "max_pool1d: Expected 2D or 3D (batch mode) tensor with "
                                                       "optional 0 dim batch size for input, but got:"
                                                       f"{list(shape)}", "nn.MaxPool1d reads (batch, channels, "
                                                                         "length).", inputs)
        kernel = self["kernel_size"]
        # torch's checks, in its order (check_max_pool1d): a window of no steps, or that never moves.
        for argument, value, least in (("kernel_size", kernel, 1), ("stride", self.stride, 1),
                                       ("padding", self["padding"], 0), ("dilation", self["dilation"], 1)):
            if value < least:
                need = "be non-negative" if least == 0 else "be greater than zero"
                raise self.refuses("H004", "RuntimeError", f"max_pool1d() {argument} must {need}, but got {value}",
                                   f"Give {argument} {least} or more.", inputs, argument=argument)
        if self["padding"] * 2 > kernel:
            raise self.refuses("H004", "RuntimeError", "max_pool1d() padding should be at most half of kernel size, "
                                                       f"but got padding={self['padding']} and kernel_size={kernel}",
                               "Pad by at most half the kernel.", inputs, argument="padding")
        length = self.pooled_length(inputs, kernel, self.stride, self["dilation"], self["ceil_mode"])
        if length is not None and length <= 0:
            raise self.refuses("H004", "RuntimeError", f"max_pool1d() Invalid computed output size: {length}",
                               f"The window spans {self['dilation'] * (kernel - 1) + 1} steps but the input has "
                               f"{shape[-1]}: use a smaller kernel_size.", inputs, argument="kernel_size")
        return [tuple(shape[:-1]) + (length,)]

    def with_indices(self, inputs: Sequence[TensorSpec]) -> Shape:
        """With return_indices torch runs max_pool1d_with_indices: max_pool2d_with_indices on
        (N, C, 1, L) with a (1, kernel_size) window, whose checks and messages are the 2-D ones, in
        their order (pooling_output_shape for each axis, then pool2d_shape_check)."""
        shape = inputs[0].shape
        if len(shape) not in (2, 3):
            raise self.refuses("H001", "RuntimeError", f"Expected 2 to 3 dimensions, but got {len(shape)}-dimensional "
                                                       "tensor for argument #1 'self' (while checking arguments for "
                                                       "max_pool1d)", "nn.MaxPool1d reads (batch, channels, length).",
                               inputs)
        kernel, stride, padding, dilation = self["kernel_size"], self.stride, self["padding"], self["dilation"]
        checks = (
            (stride == 0, "stride", "stride should not be zero"),
            (padding < 0, "padding", f"pad must be non-negative, but got pad: {padding}"),
            (padding > int(((kernel - 1) * dilation + 1) / 2), "padding",  # C++ division truncates
             f"pad should be at most half of effective kernel size, but got pad={padding}, kernel_size={kernel} and "
             f"dilation={dilation}"),
            (kernel <= 0, "kernel_size", f"kernel size should be greater than zero, but got kH: 1 kW: {kernel}"),
            (stride <= 0, "stride", f"stride should be greater than zero, but got dH: 1 dW: {stride}"),
            (dilation <= 0, "dilation", f"dilation should be greater than zero, but got dilationH: 1 dilationW: "
                                        f"{dilation}"),
            (int(kernel / 2) < padding, "padding", f"pad should be smaller than or equal to half of kernel size, but "
                                                   f"got padW = {padding}, padH = 0, kW = {kernel}, kH = 1"))
        for failed, argument, message in checks:
            if failed:
                raise self.refuses("H004", "RuntimeError", message, f"Check `{argument}`.", inputs, argument=argument)
        length = self.pooled_length(inputs, kernel, stride, dilation, self["ceil_mode"])
        if length is not None and length < 1:
            channels, steps = shape[-2], shape[-1]
            raise self.refuses("H004", "RuntimeError", f"Given input size: ({channels}x1x{steps}). Calculated output "
                                                       f"size: ({channels}x1x{length}). Output size is too small",
                               f"The window spans {dilation * (kernel - 1) + 1} steps but the input has {steps}: use "
                               "a smaller kernel_size.", inputs, argument="kernel_size")
        return tuple(shape[:-1]) + (length,)

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        outputs = self.window_maximum(inputs[0], self["dilation"], self["return_indices"])
        return outputs, [None] * len(outputs)

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        k, s = self["kernel_size"], self.stride
        return one_block("each channel and output step", [Equation(
            "y[c, t]", f"max(x[c, {s}·t − {self['padding']}], …, x[c, {s}·t − {self['padding']} + {k - 1}])",
            f"padding {self['padding']} (never the maximum)")], io_symbols(inputs, outputs),
            headline=f"nn.MaxPool1d({k})")


class Pool2d(Pooling):
    """MaxPool2d and AvgPool2d on (N, C, H, W), or (C, H, W) unbatched: torch's checks, in its order."""

    spatial_rank = 2
    sequence_axes = ("batch", "channels", "height", "width")
    torch_input = "(N, C, H, W), or (C, H, W) unbatched"
    rank_message: ClassVar[str] = ""

    def dilation(self) -> Tuple[int, ...]:
        return (1, 1)

    def pooled(self, inputs: Sequence[TensorSpec]) -> Shape:
        shape = inputs[0].shape
        kernel, stride, padding = (per_axis(value, 2) for value in (self["kernel_size"], self.stride, self["padding"]))
        dilation = self.dilation()
        if min(kernel) <= 0:
            raise self.refuses("H004", "RuntimeError", f"kernel size should be greater than zero, but got kH: "
                                                       f"{kernel[0]} kW: {kernel[1]}", "Give kernel_size 1 or more.",
                               inputs, argument="kernel_size")
        if 0 in stride:
            raise self.refuses("H004", "RuntimeError", "stride should not be zero", "Give stride 1 or more.", inputs,
                               argument="stride")
        if min(dilation) <= 0:
            raise self.refuses("H004", "RuntimeError", f"dilation should be greater than zero, but got dilationH: "
                                                       f"{dilation[0]} dilationW: {dilation[1]}",
                               "Give dilation 1 or more.", inputs, argument="dilation")
        if min(padding) < 0:
            raise self.refuses("H004", "RuntimeError", f"pad must be non-negative, but got pad: {min(padding)}",
                               "Pad by 0 or more.", inputs, argument="padding")
        for pad, k, d in zip(padding, kernel, dilation):
            if pad > (d * (k - 1) + 1) // 2:
                raise self.refuses("H004", "RuntimeError", f"pad should be at most half of effective kernel size, but "
                                                           f"got pad={pad}, kernel_size={k} and dilation={d}",
                                   "Pad by at most half the window.", inputs, argument="padding")
        if kernel[1] // 2 < padding[1] or kernel[0] // 2 < padding[0]:
            raise self.refuses("H004", "RuntimeError", f"pad should be smaller than or equal to half of kernel size, "
                                                       f"but got padW = {padding[1]}, padH = {padding[0]}, kW = "
                                                       f"{kernel[1]}, kH = {kernel[0]}",
                               "Pad by at most half the kernel_size (dilation not counted).", inputs,
                               argument="padding")
        if len(shape) not in (3, 4):
            raise self.refuses("H001", *self.rank_error(shape), inputs)
        sizes = self.pooled_sizes(inputs, kernel, stride, dilation, self["ceil_mode"])
        if any(size is not None and size < 1 for size in sizes):
            channels, height, width = ("?" if dim is None else dim for dim in shape[-3:])
            out_h, out_w = ("?" if dim is None else dim for dim in sizes)
            raise self.refuses("H004", "RuntimeError", f"Given input size: ({channels}x{height}x{width}). Calculated "
                                                       f"output size: ({channels}x{out_h}x{out_w}). Output size is too "
                                                       "small", "Use a smaller kernel_size (or more padding).", inputs,
                               argument="kernel_size")
        return tuple(shape[:-2]) + sizes

    def rank_error(self, shape: Shape) -> Tuple[str, str, str]:
        raise NotImplementedError

    def explain_pool(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], what: str, note: str) -> Math:
        (kh, kw), (sh, sw) = per_axis(self["kernel_size"], 2), per_axis(self.stride, 2)
        (ph, pw) = per_axis(self["padding"], 2)
        return one_block("each channel c and output position (i, j)", [Equation(
            "y[c, i, j]", f"{what} of x[c, {sh}·i − {ph} + m, {sw}·j − {pw} + n] over m < {kh}, n < {kw}", note)],
            io_symbols(inputs, outputs), headline=f"nn.{self.keras_class}(({kh}, {kw}), stride=({sh}, {sw}))")


@register
class MaxPool2d(Pool2d):
    """nn.MaxPool2d: the maximum of each kH × kW window, per channel."""

    keras_class = "MaxPool2d"
    keras_type = "MaxPooling2D"
    arguments = (Arg("kernel_size", sizes(2)), Arg("stride", optional(sizes(2)), None), Arg("padding", sizes(2), 0),
                 Arg("dilation", sizes(2), 1), Arg("return_indices", boolean, False), Arg("ceil_mode", boolean, False))
    examples = (Example("MaxPool2d(2)", ((3, 8, 6),), framework="pytorch"),
                Example("MaxPool2d((3, 2), stride=2, padding=(1, 0), ceil_mode=True, return_indices=True)",
                        ((3, 8, 7),), framework="pytorch"))

    def dilation(self) -> Tuple[int, ...]:
        return per_axis(self["dilation"], 2)

    def rank_error(self, shape: Shape) -> Tuple[str, str, str]:
        return "RuntimeError", "non-empty 3D or 4D (batch mode) tensor expected for input", \
            "nn.MaxPool2d reads (batch, channels, height, width)."

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        return [self.pooled(inputs)] * (2 if self["return_indices"] else 1)

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        outputs = self.window_maximum(inputs[0], self["dilation"], self["return_indices"])
        return outputs, [None] * len(outputs)

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        return self.explain_pool(inputs, outputs, "max", "padding is never the maximum")


@register
class AvgPool2d(Pool2d):
    """nn.AvgPool2d: the mean of each kH × kW window, per channel."""

    keras_class = "AvgPool2d"
    keras_type = "AveragePooling2D"
    arguments = (Arg("kernel_size", sizes(2)), Arg("stride", optional(sizes(2)), None), Arg("padding", sizes(2), 0),
                 Arg("ceil_mode", boolean, False), Arg("count_include_pad", boolean, True),
                 Arg("divisor_override", optional(whole), None))
    examples = (Example("AvgPool2d(2)", ((3, 8, 6),), framework="pytorch"),
                Example("AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)", ((3, 8, 7),),
                        framework="pytorch"))

    def rank_error(self, shape: Shape) -> Tuple[str, str, str]:
        if len(shape) < 3:
            rank = max(len(shape), 1)
            return "IndexError", f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but " \
                                 "got -3)", "nn.AvgPool2d reads (batch, channels, height, width)."
        return "RuntimeError", "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but " \
                               f"got:{list(shape)}", "nn.AvgPool2d reads (batch, channels, height, width)."

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        if self["divisor_override"] == 0:
            raise self.refuses("H004", "RuntimeError", "divisor must be not zero", "Leave divisor_override out, or "
                                                                                   "give a count.", inputs,
                               argument="divisor_override")
        return [self.pooled(inputs)]

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [inputs[0].dtype] * count

    def divisors(self, spatial: Sequence[int], steps: Sequence[int]) -> "ndarray":
        """What each window's sum is divided by: divisor_override, or the window's taps inside the
        padded input (count_include_pad) or inside the input."""
        np = numpy_module()
        if self["divisor_override"] is not None:
            return np.asarray(float(self["divisor_override"]))
        counts = []
        for length, count, k, s, p in zip(spatial, steps, per_axis(self["kernel_size"], 2), per_axis(self.stride, 2),
                                          per_axis(self["padding"], 2)):
            start = np.arange(count) * s - p
            end = np.minimum(start + k, length + p)
            counts.append(end - start if self["count_include_pad"] else
                          np.minimum(end, length) - np.maximum(start, 0))
        return np.multiply.outer(counts[0], counts[1]).astype("float64")

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        x = inputs[0]
        windows = self.windows(x, self["kernel_size"], self.stride, 1, 0, "zeros", self["ceil_mode"])
        sums = windows.sum(axis=(-2, -1), dtype="float64")
        mean = sums / self.divisors(x.shape[-2:], windows.shape[-4:-2])
        if x.dtype.kind in "iu":
            mean = numpy_module().trunc(mean)  # integer division, as torch's kernel for integers
        return [mean.astype(x.dtype)], [None]

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        divided = (f"divided by {self['divisor_override']}" if self["divisor_override"] is not None else
                   "padding counted in the mean" if self["count_include_pad"] else "padding not counted")
        return self.explain_pool(inputs, outputs, "mean", divided)

def port_activation(module: TorchModule, plan: "PortPlan") -> None:
    """An activation module after a Linear or Conv1d becomes that Keras layer's activation;
    elsewhere a Keras Activation layer."""
    slot = plan.before.activation_slot
    if slot is not None and slot[0].arguments.get("activation") in (None, "linear"):
        entry, owner = slot
        entry.arguments["activation"] = module.keras_activation
        owner.links.clear()  # the Keras layer's output is after the activation now
        plan.add(Counterpart(module.name, [], no_weights, [plan.link(0, entry.name)]))
        return
    port_module(module, plan, Entry("Activation", module.name, {"activation": module.keras_activation}), layout="any")
