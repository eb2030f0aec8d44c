"""The layer contract: one class per Keras layer type owns its argument schema, accepted input
rank, weight shapes, output shapes and its NumPy forward pass, side by side.

The forward pass (used by lstmcalc.verify) is ``forward(weights, inputs, masks, initial_state)``:

- ``weights``: name → array, the names and shapes of ``weight_shapes`` (``kernel``,
  ``forward/kernel`` for Bidirectional, ...), Keras's layouts.
- ``inputs``: the arrays the layer receives, batch axis first (one for most layers, several for
  merges); ``masks``: one boolean (batch, time) array or None per input, Keras's ``_keras_mask``
  (the mask Keras's ``__call__`` hands over by itself).
- ``initial_state``: arrays for RNN layers' ``initial_state`` (h, or h and c for LSTM; the forward
  then the backward states for Bidirectional), None for zeros. As in Keras 3, a layer called with
  initial-state tensors gets no automatic mask: it computes unmasked, and its output keeps the mask.
- Returns ``(outputs, masks)``: lists with one entry per output, as ``output_shapes`` lists them.

NumPy is imported inside the methods (``numpy_module()``) so that ``lstmcalc summary`` never loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Dict, Iterator, List, Optional, Sequence, Tuple, Type

from ..arithmetic import ZERO, Expression
from ..shapes import Shape, format_shape, product
from .arguments import BASE_ARGUMENTS, Arg

if TYPE_CHECKING:
    from numpy import ndarray

WeightArrays = Dict[str, "ndarray"]
Arrays = List["ndarray"]
Masks = List[Optional["ndarray"]]
Forward = Tuple[Arrays, Masks]

# NumPy has no bfloat16; the forward pass computes such layers in float32.
ARRAY_DTYPES = {"float16": "float16", "bfloat16": "float32", "float32": "float32", "float64": "float64"}


def numpy_module():
    """NumPy, imported on first use (the shape engine never needs it)."""
    import numpy

    return numpy


@dataclass(frozen=True)
class TensorSpec:
    """What the engine knows about a tensor: its shape (batch axis first), dtype, and whether a
    Keras mask travels with it."""

    shape: Shape
    dtype: str = "float32"
    masked: bool = False

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass(frozen=True)
class Weight:
    """A weight tensor as the framework stores it."""

    name: str
    shape: Tuple[Optional[int], ...]
    trainable: bool = True
    dtype: str = "float32"

    @property
    def size(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim  # type: ignore[operator]  # the engine rejects unknown dims first
        return count


@dataclass(frozen=True)
class MacCount:
    """Multiply–accumulate operations of one sample's forward pass: ``per_step`` (an Expression,
    so its arithmetic can be shown) done ``steps`` times — time steps for a recurrent layer,
    positions for a layer applied along a sequence, 1 otherwise; None when the length is unknown.
    Only products with a weight (matrix products, convolutions) count: docs/compute.md."""

    per_step: Expression
    steps: Optional[int] = 1
    unit: str = "step"  # what one of the ``steps`` is: "step" or "position"

    @property
    def total(self) -> Optional[int]:
        return None if self.steps is None else self.per_step.value * self.steps


NO_MACS = MacCount(ZERO)


@dataclass(frozen=True)
class Rank:
    """Accepted input rank, Keras's ``InputSpec(ndim=..., min_ndim=..., max_ndim=...)``."""

    ndim: Optional[int] = None
    min_ndim: Optional[int] = None
    max_ndim: Optional[int] = None

    def mismatch(self, rank: int) -> Optional[str]:
        """Keras's wording of the expectation that ``rank`` fails, or None when it fits."""
        if self.ndim is not None and rank != self.ndim:
            return f"expected ndim={self.ndim}, found ndim={rank}"
        if self.max_ndim is not None and rank > self.max_ndim:
            return f"expected max_ndim={self.max_ndim}, found ndim={rank}"
        if self.min_ndim is not None and rank < self.min_ndim:
            return f"expected min_ndim={self.min_ndim}, found ndim={rank}"
        return None


class ShapeProblem(Exception):
    """A contradiction between a layer and what it receives; the engine locates it."""

    def __init__(self, code: str, message: str, hint: str = "", argument: Optional[str] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.argument = argument  # the spec key the problem is about, for its location


class Layer:
    """Base class. Subclasses set ``keras_class``, ``arguments`` (Keras constructor order, so
    positional call syntax maps as in Keras) and ``input_rank``, and override the shape rules."""

    keras_class: ClassVar[str] = ""
    arguments: ClassVar[Tuple[Arg, ...]] = ()
    input_rank: ClassVar[Optional[Rank]] = None
    supports_masking: ClassVar[bool] = False
    # Layers without an input spec in Keras apply element-wise to a list of tensors
    # (Dropout after an LSTM with return_state); the others reject a list.
    maps_over_tensor_lists: ClassVar[bool] = False
    # Layers that take several tensors by design (merges).
    takes_tensor_list: ClassVar[bool] = False
    # Layers called with `initial_state=` (tf.keras 2 configs list those states as extra inputs).
    takes_initial_state: ClassVar[bool] = False
    # Keys tf.keras 2's get_config() wrote that Keras 3 removed, with the value that means Keras 3's
    # behaviour; readers of saved configs drop them at that value and refuse any other.
    legacy_config: ClassVar[Dict[str, Any]] = {}

    def __init__(self, name: str, config: Dict[str, Any], convention: str = "keras"):
        self.name = name
        self.config = config
        self.convention = convention

    # -- schema ------------------------------------------------------------------------------

    # Keyword-only arguments from keras.layers.Layer; a few layers take fewer.
    base_arguments: ClassVar[Tuple[Arg, ...]] = tuple(BASE_ARGUMENTS)

    @classmethod
    def all_arguments(cls) -> Tuple[Arg, ...]:
        own = tuple(cls.arguments)
        names = {argument.name for argument in own}
        return own + tuple(argument for argument in cls.base_arguments if argument.name not in names)

    @classmethod
    def argument_names(cls) -> List[str]:
        return [argument.name for argument in cls.all_arguments()]

    def check_config(self) -> None:
        """Cross-argument rules Keras applies at construction; raise ShapeProblem with a S-code."""

    def sublayers(self) -> List["Layer"]:
        return []

    def __getitem__(self, key: str) -> Any:
        return self.config[key]

    @property
    def trainable(self) -> bool:
        return bool(self.config.get("trainable", True))

    @property
    def variable_dtype(self) -> str:
        policy = self.config.get("dtype") or "float32"
        return "float32" if policy.startswith("mixed_") else policy

    @property
    def compute_dtype(self) -> str:
        policy = self.config.get("dtype") or "float32"
        return policy[len("mixed_"):] if policy.startswith("mixed_") else policy

    # -- rules -------------------------------------------------------------------------------

    def expected_rank(self) -> Optional[Rank]:
        return self.input_rank

    def check_count(self, inputs: Sequence[TensorSpec], as_list: bool) -> None:
        """For layers that take a list of tensors: raise ShapeProblem when the count is wrong.
        ``as_list``: the spec wrote a list (`inputs: [a, b]`); several tensors arriving from one
        multi-output layer come as the tuple Keras passes on instead."""

    def check_initial_state(self, inputs: Sequence[TensorSpec], states: Sequence[TensorSpec]) -> None:
        """Layers that take ``initial_state`` override this; the others reject it."""
        raise ShapeProblem("S004", f"{self.keras_class} does not take `initial_state`; recurrent layers "
                                   "(LSTM, GRU, SimpleRNN) and Bidirectional do.",
                           "Remove `initial_state` from this layer.", argument="initial_state")

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        return []

    def keras_saved_paths(self, weights: Sequence[Weight]) -> List[str]:
        """Where a .keras archive's model.weights.h5 keeps each of ``weights`` (this layer's
        ``weight_shapes``, in order), relative to the layer's group: Keras saves a layer's own
        variables as ``vars/0``, ``vars/1``, ... and those of inner layers under their attribute."""
        return [f"vars/{index}" for index in range(len(weights))]

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> Optional[MacCount]:
        """Per-sample MACs (docs/compute.md); None where lstmcalc does not count them for the type."""
        return None

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        raise NotImplementedError

    def warnings(self, inputs: Sequence[TensorSpec]) -> List["ShapeProblem"]:
        """Findings about an accepted layer (Keras builds it, but something deserves a word)."""
        return []

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        masked = self.supports_masking and any(tensor.masked for tensor in inputs)
        return [masked] * count

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [self.compute_dtype] * count

    def outputs(self, inputs: Sequence[TensorSpec]) -> List[TensorSpec]:
        shapes = self.output_shapes(inputs)
        masks = self.output_masks(inputs, len(shapes))
        dtypes = self.output_dtypes(inputs, len(shapes))
        return [TensorSpec(tuple(shape), dtype, mask) for shape, dtype, mask in zip(shapes, dtypes, masks)]

    # -- helpers for subclasses --------------------------------------------------------------

    def weight(self, name: str, shape: Sequence[Optional[int]], trainable: bool = True) -> Weight:
        return Weight(name, tuple(shape), trainable and self.trainable, self.variable_dtype)

    def describe(self) -> str:
        return f"{self.name} ({self.keras_class})"

    # -- forward pass (lstmcalc.verify) ------------------------------------------------------

    @property
    def array_dtype(self) -> str:
        """The NumPy dtype this layer computes in (its compute dtype; bfloat16 as float32)."""
        return ARRAY_DTYPES.get(self.compute_dtype, "float32")

    def floating(self, array: "ndarray") -> "ndarray":
        """``array`` in the layer's compute dtype, as Keras casts a layer's inputs."""
        return array.astype(self.array_dtype, copy=False)

    def passed_masks(self, masks: Masks, count: int) -> Masks:
        """Keras's default ``compute_mask``: a masking layer passes its first input's mask on."""
        mask = masks[0] if self.supports_masking and masks else None
        return [mask] * count

    def computed_shapes(self, inputs: Sequence[TensorSpec]) -> Optional[List[Shape]]:
        """The shapes Keras's ``call`` really produces where they differ from the shapes its
        ``compute_output_shape`` declares (and summary() shows), else None. The 'glu' activation
        halves the last axis, which no layer's declared shape accounts for."""
        if self.config.get("activation") != "glu":
            return None
        return [tuple(shape[:-1]) + (None if shape[-1] is None else shape[-1] // 2,)
                for shape in self.output_shapes(inputs)]

    def forward_scratch(self, inputs: Sequence[TensorSpec]) -> int:
        """Elements of the temporary arrays ``forward`` allocates besides its outputs (for the
        memory estimate, before anything is allocated). By default one copy of the inputs."""
        return sum(product(tensor.shape) for tensor in inputs)  # type: ignore[arg-type]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """Compute the outputs from real arrays, as Keras's ``call`` in inference mode."""
        raise ShapeProblem("V005", f"lstmcalc has no NumPy forward pass for {self.keras_class} yet.",
                           "Verify the rest of the model by removing this layer from a copy of the spec.")

    def __repr__(self) -> str:
        return f"<{self.keras_class} {self.name!r}>"


LAYER_TYPES: Dict[str, Type[Layer]] = {}


def register(cls: Type[Layer]) -> Type[Layer]:
    """Class decorator: add a layer class to the name→class registry."""
    LAYER_TYPES[cls.keras_class] = cls
    return cls


def single_input(layer: Layer, inputs: Sequence[TensorSpec]) -> TensorSpec:
    """The one tensor a single-input layer receives (the engine has checked the count)."""
    return inputs[0]


def walk(layer: Layer) -> Iterator[Layer]:
    yield layer
    for sub in layer.sublayers():
        yield from walk(sub)


def shape_text(shape: Shape) -> str:
    return format_shape(shape)


def clone(layer: Layer, name: str, **overrides: Any) -> Layer:
    """A copy of ``layer`` with another name and some arguments changed (Keras's
    serialize/deserialize round trip in Bidirectional)."""
    config = dict(layer.config)
    config.update(overrides)
    config["name"] = name
    return type(layer)(name, config, layer.convention)


def check_inputs(layer: Layer, inputs: Sequence[TensorSpec], as_list: bool = False) -> None:
    """The one place that checks how many tensors a layer receives and their rank, worded as
    Keras's ``assert_input_compatibility``. ``as_list``: the tensors were given as a list."""
    if layer.takes_tensor_list:
        layer.check_count(inputs, as_list)
        return
    rank = layer.expected_rank()
    if len(inputs) != 1:
        received = ", ".join(format_shape(tensor.shape) for tensor in inputs)
        raise ShapeProblem(
            "H002",
            f'Layer "{layer.name}" expects 1 input(s), but it received {len(inputs)} input tensors: '
            f"{received}.",
            "The layer before it returns several tensors (return_state: true returns the output "
            "and the states). Set return_state: false there, or in a graph spec pick one output "
            "with `name[0]`.")
    if rank is None:
        return
    shape = inputs[0].shape
    mismatch = rank.mismatch(len(shape))
    if mismatch is not None:
        raise ShapeProblem(
            "H001",
            f"Input 0 of layer '{layer.name}' is incompatible with the layer: {mismatch}. "
            f"Full shape received: {format_shape(shape)}",
            "")
