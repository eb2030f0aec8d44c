"""Argument schemas: each layer declares its Keras constructor arguments as ``Arg`` values.

A check takes the written value and returns the value to keep, or raises ``Problem``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from ..diagnostics import Problem
from ..records import TupleRecord

REQUIRED = object()

ACTIVATIONS = (
    "relu", "leaky_relu", "relu6", "softmax", "celu", "elu", "selu", "softplus", "softsign",
    "squareplus", "soft_shrink", "sparse_plus", "silu", "gelu", "glu", "tanh", "tanh_shrink",
    "threshold", "sigmoid", "sparse_sigmoid", "exponential", "hard_sigmoid", "hard_silu",
    "hard_tanh", "hard_shrink", "linear", "mish", "log_softmax", "log_sigmoid", "sparsemax",
    "swish", "hard_swish",
)

DTYPE_POLICIES = ("float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16")


def described(schema: Dict[str, Any]) -> Callable[[Callable[[str, Any], Any]], Callable[[str, Any], Any]]:
    """Attach the JSON Schema of the values a check accepts (for `lstmcalc schema`)."""
    def attach(check: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
        check.json_schema = schema  # type: ignore[attr-defined]
        return check
    return attach


def json_schema_of(check: Callable[[str, Any], Any]) -> Dict[str, Any]:
    """The JSON Schema a check declared; {} (anything) when it declared none."""
    return dict(getattr(check, "json_schema", {}))


class Arg(TupleRecord):
    """One constructor argument: its name, how to check it, and Keras's default."""

    name: str
    check: Callable[[str, Any], Any]
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, (list, tuple)):
        return f"the list {list(value)!r}"
    return repr(value)


def _whole_number(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise Problem("S005", f"`{name}` must be a whole number, got {_describe(value)}.",
                            f"Write a number, e.g. `{name}: 64`; true/false are not sizes.")
    if isinstance(value, float) and value.is_integer():
        raise Problem("S005", f"`{name}` must be a whole number, got {_describe(value)}.",
                            f"Write `{name}: {int(value)}`.")
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.lstrip("-").isdigit():
            raise Problem("S005", f"`{name}` must be a number, got {_describe(value)}.",
                                f"Remove the quotes: `{name}: {stripped}`.")
        raise Problem("S005", f"`{name}` must be a whole number, got {_describe(value)}.",
                            f"Write a number, e.g. `{name}: 64`.")
    if not isinstance(value, int):
        raise Problem("S005", f"`{name}` must be a whole number, got {_describe(value)}.",
                            f"Write a number, e.g. `{name}: 64`.")
    return value


@described({"type": "integer", "minimum": 1})
def positive_int(name: str, value: Any) -> int:
    number = _whole_number(name, value)
    if number <= 0:
        raise Problem("S006", f"`{name}` must be a positive whole number, got {number}.",
                            f"Use {name} of at least 1.")
    return number


@described({"type": "integer", "minimum": 0})
def non_negative_int(name: str, value: Any) -> int:
    number = _whole_number(name, value)
    if number < 0:
        raise Problem("S006", f"`{name}` must be 0 or more, got {number}.", f"Use a {name} of 0 or more.")
    return number


@described({"type": "integer"})
def integer(name: str, value: Any) -> int:
    return _whole_number(name, value)


def optional(check: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    def check_optional(name: str, value: Any) -> Any:
        return None if value is None else check(name, value)
    return described({"anyOf": [json_schema_of(check), {"type": "null"}]})(check_optional)


@described({"type": "boolean"})
def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        hint = f"Write `{name}: true` or `{name}: false`"
        if isinstance(value, str) and value.lower() in ("true", "false"):
            hint += " without quotes"
        raise Problem("S005", f"`{name}` must be true or false, got {_describe(value)}.", hint + ".")
    return value


@described({"type": "number"})
def number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Problem("S005", f"`{name}` must be a number, got {_describe(value)}.",
                            f"Write e.g. `{name}: 0.2`.")
    return value


@described({"type": "number", "minimum": 0, "maximum": 1})
def fraction(name: str, value: Any) -> float:
    """A rate in [0, 1], as Keras's Dropout layers require."""
    rate = number(name, value)
    if not 0 <= rate <= 1:
        raise Problem("S006", f"`{name}` must be between 0 and 1, got {rate}.",
                            f"A {name} is the fraction of units dropped, e.g. 0.2.")
    return rate


def choice(*options: Any, ignore_case: bool = False) -> Callable[[str, Any], Any]:
    def check_choice(name: str, value: Any) -> Any:
        candidate = value.lower() if ignore_case and isinstance(value, str) else value
        for option in options:
            if candidate == option and type(candidate) is type(option):
                return option
        from ..suggest import closest
        shown = ", ".join("null" if option is None else repr(option) for option in options)
        suggestion = closest(str(value), [option for option in options if isinstance(option, str)])
        hint = f"Did you mean {suggestion!r}? " if suggestion else ""
        raise Problem("S006", f"`{name}` must be one of {shown}; got {_describe(value)}.",
                            hint + f"Allowed: {shown}.")
    return described({"enum": list(options)})(check_choice)


@described({"enum": list(ACTIVATIONS) + [None]})
def activation(name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Problem("S005", f"`{name}` must be the name of a Keras activation, got {_describe(value)}.",
                            "Write e.g. 'relu', 'tanh', 'sigmoid' or null.")
    if value == "threshold":
        # Keras accepts the name and builds the model, but calling the function needs its
        # `threshold` and `default_value` arguments: the model fails when it runs.
        raise Problem("S006", f"Keras's 'threshold' activation cannot be used by name for `{name}`: it "
                                    "needs `threshold` and `default_value` arguments, so Keras builds the model "
                                    "but fails when it runs.",
                            "Use 'relu' (a threshold at 0), or a separate layer for other thresholds.")
    if value not in ACTIVATIONS:
        from ..suggest import closest
        suggestion = closest(value, ACTIVATIONS)
        raise Problem("S006", f"Unknown activation {value!r} for `{name}`.",
                            f"Did you mean {suggestion!r}?" if suggestion
                            else "Known: " + ", ".join(sorted(ACTIVATIONS)) + ".")
    return value


@described({"type": "string", "minLength": 1})
def text(name: str, value: Any) -> str:
    if value == "":
        raise Problem("S006", f"`{name}` is empty.", f"Give it a value, e.g. `{name}: \"encoder\"`, or leave "
                                                          f"`{name}` out.")
    if not isinstance(value, str):
        raise Problem("S005", f"`{name}` must be a string, got {_describe(value)}.",
                            f"Quote it: `{name}: \"...\"`.")
    return value


@described({"type": "string", "minLength": 1, "pattern": "^[^/]+$"})
def layer_name(name: str, value: Any) -> str:
    checked = text(name, value)
    if "/" in checked:
        raise Problem("S006", f"A layer name cannot contain `/` (Keras uses it in weight paths); "
                                    f"got {value!r}.", f"Use e.g. {value.replace('/', '_')!r}.")
    return checked


@described({"enum": list(DTYPE_POLICIES) + [None]})
def dtype_policy(name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if value not in DTYPE_POLICIES:
        from ..suggest import closest
        suggestion = closest(str(value), DTYPE_POLICIES)
        raise Problem("S006", f"Unknown dtype {value!r}.",
                            f"Did you mean {suggestion!r}?" if suggestion
                            else "Use one of " + ", ".join(DTYPE_POLICIES) + ".")
    return value


@described({})
def anything(name: str, value: Any) -> Any:
    """Accepted and kept: initializers, regularizers, constraints, seeds and such."""
    return value


def int_tuple(length: int, *, minimum: int = 1) -> Callable[[str, Any], Tuple[int, ...]]:
    """An int or a tuple of ``length`` ints (kernel_size, strides, pool_size, ...)."""
    def check_int_tuple(name: str, value: Any) -> Tuple[int, ...]:
        # Keras's standardize_tuple: one int stands for every axis; a list must name them all.
        items = list(value) if isinstance(value, (list, tuple)) else [value] * length
        if len(items) != length:
            raise Problem("S005", f"`{name}` must be an integer or a tuple of {length} integer(s), "
                                        f"got {_describe(value)}.", f"Write e.g. `{name}: 3`.")
        checked = []
        for item in items:
            number_value = _whole_number(name, item)
            if number_value < minimum:
                raise Problem("S006", f"`{name}` must be at least {minimum}, got {number_value}.",
                                    f"Use a {name} of {minimum} or more.")
            checked.append(number_value)
        return tuple(checked)
    one = {"type": "integer", "minimum": minimum}
    return described({"anyOf": [one, {"type": "array", "items": one, "minItems": 1, "maxItems": length}]})(
        check_int_tuple)


@described({"type": "array", "items": {"type": "integer"}})
def int_list(name: str, value: Any) -> Tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        raise Problem("S005", f"`{name}` must be a list of integers, got {_describe(value)}.",
                            f"Write e.g. `{name}: [2, 1]`.")
    return tuple(_whole_number(name, item) for item in value)


@described({"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]})
def axis(name: str, value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_whole_number(name, item) for item in value)
    return _whole_number(name, value)


@described({"type": ["array", "null"], "items": {"type": ["integer", "null"], "minimum": 0}})
def shape_or_none(name: str, value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise Problem("S005", f"`{name}` must be a list of dimensions, got {_describe(value)}.",
                            f"Write e.g. `{name}: [50, 10]`.")
    dims = []
    for item in value:
        if item is None:
            dims.append(None)
        else:
            dims.append(non_negative_int(name, item))
    return tuple(dims)


@described({"$ref": "#/definitions/layer"})
def layer_definition(name: str, value: Any) -> Any:
    from ..spec.model import LayerDef

    if not isinstance(value, LayerDef):
        raise Problem("S005", f"`{name}` must be a layer, got {_describe(value)}.",
                            f"Write e.g. `{name}: {{type: LSTM, units: 32}}` or `{name}: LSTM(32)`.")
    return value


@described({"anyOf": [{"$ref": "#/definitions/layer"}, {"type": "null"}]})
def optional_layer_definition(name: str, value: Any) -> Any:
    return None if value is None else layer_definition(name, value)


# The keywords after a Dense's units or a convolution's groups, in Keras's constructor order (which
# positional arguments follow): the activation, and how the kernel and bias are made and kept.
KERNEL_AND_BIAS: Sequence[Arg] = (
    Arg("activation", activation, None),
    Arg("use_bias", boolean, True),
    Arg("kernel_initializer", anything, "glorot_uniform"),
    Arg("bias_initializer", anything, "zeros"),
    Arg("kernel_regularizer", anything, None),
    Arg("bias_regularizer", anything, None),
    Arg("activity_regularizer", anything, None),
    Arg("kernel_constraint", anything, None),
    Arg("bias_constraint", anything, None),
)

# Keywords every Keras layer accepts (keras.layers.Layer.__init__).
BASE_ARGUMENTS: Sequence[Arg] = (
    Arg("name", layer_name, None),
    Arg("dtype", dtype_policy, None),
    Arg("trainable", boolean, True),
    Arg("activity_regularizer", anything, None),
    Arg("autocast", boolean, True),
    Arg("input_shape", shape_or_none, None),
    Arg("input_dim", optional(positive_int), None),
)


def keras_text(value: Any) -> str:
    """A value as Keras's messages print it (``str`` of the Python value): ``(2, 2)``, ``same``."""
    return str(value)


def keras_tuple(length: int, *, allow_zero: bool = False, label: Optional[str] = None
                ) -> Callable[[str, Any], Tuple[int, ...]]:
    """Keras's ``standardize_tuple``: one integer for every axis, or ``length`` integers, each above 0
    (or 0 and above with ``allow_zero``), refused in Keras's words. ``label`` names the value in
    the messages when it is a part of an argument (Keras's "1st entry of padding")."""
    requirement = ">= 0" if allow_zero else "> 0"

    def check_keras_tuple(name: str, value: Any) -> Tuple[int, ...]:
        called = label or name
        message = f"The `{called}` argument must be a tuple of {length} integers. Received {called}={keras_text(value)}"
        hint = (f"Write one whole number for every axis, or {length} of them, e.g. `{name}: "
                f"{[2] * length if length > 1 else 2}`.")
        if isinstance(value, int):  # True counts as 1 in Keras, as in Python
            items = [int(value)] * length
        elif isinstance(value, (list, tuple)) and len(value) == length:
            items = []
            for item in value:
                if isinstance(item, float) and item.is_integer():
                    item = int(item)  # Keras accepts 2.0 where it converts with int()
                if not isinstance(item, int):
                    raise Problem("S005", f"{message}including element {keras_text(item)} of type {type(item)}",
                                  hint)
                items.append(int(item))
        else:
            raise Problem("S005", message, hint)
        refused = sorted({item for item in items if item < 0 or (item == 0 and not allow_zero)})
        if refused:
            shown = "{" + ", ".join(str(item) for item in refused) + "}"
            raise Problem("S006", f"{message}, including values {shown} that do not satisfy `value {requirement}`",
                          f"Use sizes of {'0' if allow_zero else '1'} or more.")
        return tuple(items)

    one = {"type": "integer", "minimum": 0 if allow_zero else 1}
    return described({"anyOf": [one, {"type": "array", "items": one, "minItems": length, "maxItems": length}]})(
        check_keras_tuple)
