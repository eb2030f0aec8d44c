"""What every PyTorch class shares (``framework: pytorch`` specs): torch's argument checks with the
messages torch 2.13 gives, torch's naming (a module without a name is named by its position, as in
nn.Sequential), the Keras names of its arguments for hints, and how a torch error is worded.

The messages are the ones recorded from real torch in tests/fixtures/pytorch/modules_invalid_*.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple

from ..diagnostics import Problem
from ..shapes import format_shape
from .arguments import Arg, described
from .base import Layer, TensorSpec, Weight
from .frameworks import PYTORCH

if TYPE_CHECKING:
    from .explanation import ToolCount

# dtype= of a torch module, as the spec writes it (torch.float32 → float32).
TORCH_DTYPES = ("float32", "float64", "float16", "bfloat16")
FLOATING = set(TORCH_DTYPES)
INTEGER_IDS = ("int64", "int32")


def torch_dtype_name(dtype: str) -> str:
    """``torch.float32``, as torch prints a dtype in its messages."""
    return f"torch.{dtype}"


def type_name(value: Any) -> str:
    """Python's name of a value's type, as torch's messages print it (YAML null is NoneType)."""
    return type(value).__name__


def raised(kind: str, message: str) -> str:
    """How lstmcalc quotes torch: ``torch raises ValueError: <torch's message>``."""
    return f"torch raises {kind}: {message}"


# -- argument checks with torch's messages ------------------------------------------------------

def torch_int(minimum_message: str = "must be greater than zero", minimum: int = 1):
    """An int argument checked as RNNBase checks input_size and hidden_size: ``isinstance(int)``
    (so true counts as 1, as in torch), then ``> 0``."""
    @described({"type": "integer", "minimum": minimum})
    def check_torch_int(name: str, value: Any) -> int:
        if not isinstance(value, int):
            raise Problem("S005", raised("TypeError", f"{name} should be of type int, got: {type_name(value)}"),
                          _whole_hint(name, value))
        if value < minimum:
            raise Problem("S006", raised("ValueError", f"{name} {minimum_message}"),
                          f"Give `{name}` a size of at least {minimum}.")
        return int(value)
    return check_torch_int


def _whole_hint(name: str, value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"Write `{name}: {int(value)}`: torch takes an int, not a float."
    if isinstance(value, str) and value.strip().isdigit():
        return f"Remove the quotes: `{name}: {value.strip()}`."
    return f"Write a whole number, e.g. `{name}: 64`."


@described({"type": "integer", "minimum": 1})
def num_layers(name: str, value: Any) -> int:
    """RNNBase: ``num_layers <= 0`` is checked first, then ``range(num_layers)`` needs an int."""
    if not isinstance(value, numbers.Number):
        raise Problem("S005", raised("TypeError", f"'<=' not supported between instances of '{type_name(value)}' "
                                                  "and 'int'"), _whole_hint(name, value))
    if value <= 0:
        raise Problem("S006", raised("ValueError", "num_layers must be greater than zero"),
                      "Stack at least one layer: `num_layers: 1` (the default) or more.")
    if not isinstance(value, int):
        raise Problem("S005", raised("TypeError", f"'{type_name(value)}' object cannot be interpreted as an integer"),
                      _whole_hint(name, value))
    return int(value)


@described({"type": "number", "minimum": 0, "maximum": 1})
def rnn_dropout(name: str, value: Any) -> float:
    """RNNBase: a number in [0, 1], not a bool (kept as written: torch's warning prints it)."""
    if not isinstance(value, numbers.Number) or isinstance(value, bool) or not 0 <= value <= 1:
        raise Problem("S006" if isinstance(value, numbers.Number) and not isinstance(value, bool) else "S005",
                      raised("ValueError", "dropout should be a number in range [0, 1] representing the "
                                           "probability of an element being zeroed"),
                      "Write the probability of zeroing an element between the layers, e.g. `dropout: 0.2`.")
    return value


@described({"type": "number", "minimum": 0, "maximum": 1})
def probability(name: str, value: Any) -> float:
    """nn.Dropout's p: ``p < 0 or p > 1`` is refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise Problem("S005", raised("TypeError", f"'<' not supported between instances of '{type_name(value)}' and "
                                                  "'int'"), f"Write a probability, e.g. `{name}: 0.5`.")
    if not 0 <= value <= 1:
        raise Problem("S006", raised("ValueError", f"dropout probability has to be between 0 and 1, but got {value}"),
                      f"Write a probability between 0 and 1, e.g. `{name}: 0.5`.")
    return float(value)


@described({"type": "boolean"})
def torch_bool(name: str, value: Any) -> bool:
    """RNNBase checks bias and batch_first with ``isinstance(bool)``."""
    if not isinstance(value, bool):
        raise Problem("S005", raised("TypeError", f"{name} should be of type bool, got: {type_name(value)}"),
                      f"Write `{name}: true` or `{name}: false`.")
    return value


@described({"type": "boolean"})
def truthy(name: str, value: Any) -> bool:
    """An argument torch only tests for truth (bidirectional): any value is taken as bool(value)."""
    return bool(value)


@described({"type": "string", "minLength": 1, "pattern": r"^[^.]+$"})
def module_name(name: str, value: Any) -> str:
    """torch's add_module: a string without "." (the state_dict's separator), not empty."""
    if not isinstance(value, str):
        raise Problem("S005", raised("TypeError", f"module name should be a string. Got {type_name(value)}"),
                      f"Quote it: `{name}: \"{value}\"`.")
    if "." in value:
        raise Problem("S006", raised("KeyError", f"'module name can\\'t contain \".\", got: {value}'"),
                      f"Use e.g. {value.replace('.', '_')!r}: the state_dict joins names with \".\".")
    if not value:
        raise Problem("S006", raised("KeyError", "'module name can\\'t be empty string \"\"'"), "Give it a name.")
    return value


@described({"enum": list(TORCH_DTYPES) + [None]})
def torch_dtype(name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    text = str(value)
    text = text[len("torch."):] if text.startswith("torch.") else text
    if text not in TORCH_DTYPES:
        from ..suggest import closest

        suggestion = closest(text, TORCH_DTYPES)
        raise Problem("S006", f"`dtype` must be a floating torch dtype ({', '.join(TORCH_DTYPES)}), got {value!r}.",
                      f"Did you mean {suggestion!r}?" if suggestion else "Write e.g. `dtype: float32`.")
    return text


# torch.nn's containers, which a spec writes as `{type: Sequential, name: head, layers: [...]}`:
# nn.Sequential runs its modules in order, each named `<container>.<position>` (or `.<name>`, from
# an OrderedDict) as named_modules() names them. Readers expand a container into its modules.
CONTAINERS = ("Sequential",)
CONTAINER_MODULES = "layers"  # the key of a container's modules in a spec entry

# Keyword arguments torch.nn modules take beyond their own (factory_kwargs), and lstmcalc's name.
NAME = Arg("name", module_name, None)
FACTORY_ARGUMENTS: Tuple[Arg, ...] = (Arg("device", lambda name, value: value, None), Arg("dtype", torch_dtype, None))


class TorchModule(Layer):
    """A torch.nn module (or an lstmcalc spec step) in a ``framework: pytorch`` spec."""

    framework = PYTORCH
    base_arguments: ClassVar[Tuple[Arg, ...]] = (NAME,) + FACTORY_ARGUMENTS
    # The Keras layer type computing the same function ("" when there is none).
    keras_type: ClassVar[str] = ""
    # torch keyword → what Keras's counterpart calls it (hidden_size → units).
    keras_keywords: ClassVar[Dict[str, str]] = {}
    # Keras keywords without a torch keyword → what to do instead, for a Keras habit in a PyTorch spec.
    keras_advice: ClassVar[Dict[str, str]] = {}
    # The class whose __init__ torch's TypeErrors name (RNNBase for LSTM and GRU).
    torch_init: ClassVar[str] = ""
    # The shape of its input in torch's documentation, e.g. "(N, *, H_in)".
    torch_input: ClassVar[str] = ""
    # An activation module: the Keras activation it computes, with the arguments it needs for it.
    keras_activation: ClassVar[str] = ""
    activation_arguments: ClassVar[Dict[str, Any]] = {}
    # What forward() code writes for it without a module (PyTorch source): the names of torch's
    # functions and tensor methods computing the same (`torch.relu(x)`, `F.relu(x)`, `x.relu()`),
    # taking the module's arguments after the tensor in the same order; the defaults in which the
    # function differs from the module (torch.flatten's start_dim 0); the argument that collects the
    # rest of the positional ones (`x.permute(0, 2, 1)`).
    functional_names: ClassVar[Tuple[str, ...]] = ()
    functional_defaults: ClassVar[Dict[str, Any]] = {}
    functional_varargs: ClassVar[str] = ""

    @classmethod
    def call_result(cls) -> Any:
        """What calling the module returns, as indices of its outputs: 0 for one tensor, nested tuples
        for more (an LSTM's ``(output, (h_n, c_n))`` is ``(0, (1, 2))``)."""
        return 0

    def last_step_refusal(self, output: int, selection: str) -> Optional[str]:
        """Whether ``selection`` (a torch_steps selection) of output ``output`` is lstmcalc's
        LastStep: None when it is, else why not. One tensor's last step is."""
        from .torch_steps import STEP

        if selection == STEP and output == 0:
            return None
        return f"{self.name} ({self.keras_class}) returns one tensor, of which `{selection}` is no last step."

    def inferred_arguments(self, inputs: Sequence[TensorSpec]) -> Dict[str, Any]:
        """The sizes torch's constructor needs that the spec leaves to the input (a Linear's
        in_features), from ``inputs``; {} when it gives them all."""
        return {}

    def forward_code(self, x: str, inputs: Sequence[TensorSpec], states: Optional[str]) -> Optional[str]:
        """What forward() writes for it on the tensor ``x`` (``states``: the producing module's
        h_n, when forward() has it): an expression for a spec step, None for a module (called as
        ``self.<name>(x)``). Raises Problem when the code cannot be written."""
        return None

    def declared_input(self) -> Optional[TensorSpec]:
        """One input its own arguments describe fully enough to make its parameters (an LSTM's
        input_size, a Linear's in_features), for a module forward() never calls; None when they
        leave a size to the input."""
        return None

    def uncalled_weights(self) -> List[Weight]:
        """named_parameters() of a module forward() never calls: it is constructed all the same."""
        if type(self).weight_shapes is Layer.weight_shapes:
            return []  # a module without parameters
        declared = self.declared_input()
        if declared is None:
            raise Problem("S007", f"{self.name} ({self.keras_class}) is never called, and its sizes depend on the "
                                  "input it would receive, so its parameters cannot be counted.",
                          "Give its input size (e.g. `in_features` or `input_size`), as torch requires anyway.")
        return self.weight_shapes([declared])

    @classmethod
    def init_name(cls) -> str:
        return cls.torch_init or cls.keras_class

    @classmethod
    def default_name(cls, namer: Any, index: Optional[int]) -> str:
        # nn.Sequential names its modules by position: the state_dict keys are `0.weight`.
        return str(index) if index is not None else namer.auto(cls.keras_class)

    @classmethod
    def unknown_argument_message(cls, key: str) -> str:
        return (f"{cls.keras_class} has no argument `{key}` ("
                + raised("TypeError", f"{cls.init_name()}.__init__() got an unexpected keyword argument '{key}'")
                + ").")

    @classmethod
    def missing_argument_message(cls, key: str) -> str:
        return (f"{cls.keras_class} needs `{key}` ("
                + raised("TypeError", f"{cls.init_name()}.__init__() missing 1 required positional argument: "
                                      f"'{key}'") + ").")

    @classmethod
    def equivalent_in(cls, framework: str) -> str:
        if framework == cls.framework:
            return cls.keras_class
        return cls.keras_type

    @classmethod
    def foreign_argument_advice(cls, key: str) -> Optional[str]:
        if key in cls.keras_advice:
            return cls.keras_advice[key]
        for torch_key, keras_key in cls.keras_keywords.items():
            if keras_key == key:
                return (f"`{key}` is Keras's name; torch.nn.{cls.keras_class} calls it `{torch_key}`. (This spec "
                        "has `framework: pytorch`.)")
        return None

    @classmethod
    def own_name_of(cls, key: str, framework: str) -> str:
        return cls.keras_keywords.get(key, "")

    @classmethod
    def own_name_for(cls, key: str) -> str:
        return next((torch_key for torch_key, keras_key in cls.keras_keywords.items() if keras_key == key), "")

    @property
    def variable_dtype(self) -> str:
        return self.config.get("dtype") or "float32"

    @property
    def compute_dtype(self) -> str:
        return self.variable_dtype

    def mac_tool_counts(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec],
                        batch: int) -> List["ToolCount"]:
        """torchinfo's count for modules with parameters (every parameter once per element of the
        output's first axis; convolutions per output position)."""
        from .torch_counters import known, torchinfo

        weights = self.weight_shapes(inputs)
        if not weights or not known(outputs[0].shape):
            return []
        return [torchinfo(sum(weight.size for weight in weights), outputs[0].shape, self.convolution, self.lookup)]

    # A convolution: torchinfo counts its parameters at every output position; a lookup (Embedding)
    # has no products, which torchinfo counts all the same.
    convolution: ClassVar[bool] = False
    lookup: ClassVar[bool] = False

    # -- torch's errors on the first forward ------------------------------------------------------

    def refuses(self, code: str, kind: str, message: str, hint: str, received: Sequence[TensorSpec],
                argument: Optional[str] = None) -> Problem:
        """A Problem for what torch raises when the module is first called on ``received``."""
        shapes = ", ".join(format_shape(tensor.shape) for tensor in received)
        return Problem(code, f"{self.name} ({self.keras_class}) cannot run on its input {shapes}: "
                             + raised(kind, message) + " (on the first forward call).", hint, argument=argument)

    def check_floating(self, inputs: Sequence[TensorSpec], message: Callable[[str], str], kind: str,
                       hint: str) -> None:
        """torch refuses an input whose dtype differs from the weights' (no implicit cast)."""
        dtype = inputs[0].dtype
        if dtype != self.variable_dtype:
            raise self.refuses("H008", kind, message(dtype), hint, inputs)
