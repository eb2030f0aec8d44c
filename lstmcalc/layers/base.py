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

from typing import TYPE_CHECKING, Any, ClassVar, Dict, List, Optional, Sequence, Tuple, Type

from ..arithmetic import Expression, plus, times
from ..records import FrozenRecord, TupleRecord
from ..shapes import Shape, format_shape, product
from ..diagnostics import Problem
from .arguments import BASE_ARGUMENTS, Arg
from .figures import NO_MACS, Amount, MacCount  # noqa: F401  (part of the contract's vocabulary)

if TYPE_CHECKING:
    from numpy import ndarray

    from ..keras_layout import MaskGraph
    from .porting import PortPlan
    from .explanation import Context, FrameworkView, Math, Setting, TensorRow, ToolCount

WeightArrays = Dict[str, "ndarray"]
Arrays = List["ndarray"]
Masks = List[Optional["ndarray"]]
Forward = Tuple[Arrays, Masks]
TensorKey = Tuple[str, int]  # (producing node or mask operation, output index) in a graph model

# The type Keras gives a model's inputs (``keras.Input`` makes an InputLayer).
INPUT_TYPE = "InputLayer"

# NumPy has no bfloat16; the forward pass computes such layers in float32.
ARRAY_DTYPES = {"float16": "float16", "bfloat16": "float32", "float32": "float32", "float64": "float64"}


def numpy_module():
    """NumPy, imported on first use (the shape engine never needs it)."""
    import numpy

    return numpy


class TensorSpec(FrozenRecord):
    """What the engine knows about a tensor: its shape (batch axis first), dtype, and whether a
    Keras mask travels with it — and that mask's shape where it is known ((batch, time) after an
    Embedding, the input's shape without its last axis after Masking), None otherwise.
    ``batch_axis``: where the batch axis is: 0 (Keras, and PyTorch with batch_first), 1 (PyTorch's
    time-major layout), or None for a tensor without one (a PyTorch RNN fed one unbatched sequence).
    ``batch_fold``: how many items of the batch axis make one sample: 1, or more where the batch is
    folded with other axes into one (after PyTorch's nn.Flatten(0, 1), batch × time: the steps);
    None when a folded size is unknown."""

    __slots__ = ("shape", "dtype", "masked", "mask_shape", "batch_axis", "batch_fold")

    def __init__(self, shape: Shape, dtype: str = "float32", masked: bool = False,
                 mask_shape: Optional[Shape] = None, batch_axis: Optional[int] = 0, batch_fold: Optional[int] = 1):
        self.shape = shape
        self.dtype = dtype
        self.masked = masked
        self.mask_shape = mask_shape
        self.batch_axis = batch_axis
        self.batch_fold = batch_fold

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not TensorSpec:
            return NotImplemented
        return (self.shape == other.shape and self.dtype == other.dtype  # type: ignore[attr-defined]
                and self.masked == other.masked and self.mask_shape == other.mask_shape  # type: ignore[attr-defined]
                and self.batch_axis == other.batch_axis  # type: ignore[attr-defined]
                and self.batch_fold == other.batch_fold)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype, self.masked, self.mask_shape, self.batch_axis, self.batch_fold))

    @property
    def rank(self) -> int:
        return len(self.shape)


class Weight(FrozenRecord):
    """A weight tensor as the framework stores it. ``initial``: the verifier's random values,
    "random" (Glorot-like, around 0) or "positive" (in [0.5, 1.5): variances and standard
    deviations, which must not be negative). ``buffer``: a PyTorch buffer (BatchNorm1d's
    running_mean, running_var, num_batches_tracked), in the state_dict and the weights file but not
    a parameter, so no count includes it."""

    __slots__ = ("name", "shape", "trainable", "dtype", "initial", "buffer")

    def __init__(self, name: str, shape: Tuple[Optional[int], ...], trainable: bool = True,
                 dtype: str = "float32", initial: str = "random", buffer: bool = False):
        self.name = name
        self.shape = shape
        self.trainable = trainable
        self.dtype = dtype
        self.initial = initial
        self.buffer = buffer

    @property
    def size(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim  # type: ignore[operator]  # the engine rejects unknown dims first
        return count


def _is_orthogonal(initializer: Any) -> bool:
    """'orthogonal', Orthogonal(...) in call syntax, or a serialized Orthogonal initializer."""
    if isinstance(initializer, dict):
        initializer = initializer.get("class_name", "")
    if not isinstance(initializer, str):
        return False
    return initializer.split("(")[0].strip().lower() in ("orthogonal", "orthogonalinitializer")


class Example(TupleRecord):
    """A working use of a layer type — for the conformance test (tests/test_layer_contract.py) and
    the reference documentation: the layer in Keras call syntax, and the shapes it receives
    without the batch axis (several for a merge)."""

    call: str
    inputs: Tuple[Tuple[Optional[int], ...], ...]
    dtype: str = "float32"
    # Types that call syntax cannot write (a nested model): a whole YAML spec whose last layer is
    # the example, in place of ``call`` and ``inputs``.
    spec: Optional[str] = None
    framework: str = "keras"  # the spec's `framework:` (a PyTorch example runs with a batch of 2)


class InputValues(TupleRecord):
    """What a layer expects to receive: integer ids below ``below`` (an Embedding's input_dim), or
    floats; ``padding`` is the value of padding steps it masks (0 with mask_zero, mask_value)."""

    integer: bool = False
    below: Optional[int] = None
    padding: Optional[float] = None


def weights_expression(weights: Sequence[Weight]) -> Expression:
    """The sum of each weight's shape product: ``64 × 128 + 128``."""
    return plus(*(times(*weight.shape) for weight in weights if not weight.buffer))


class Rank(TupleRecord):
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


class Layer:
    """Base class. Subclasses set ``keras_class``, ``arguments`` (Keras constructor order, so
    positional call syntax maps as in Keras) and ``input_rank``, and override the shape rules."""

    keras_class: ClassVar[str] = ""  # the type name as the framework spells it (LSTM, Dense, Linear)
    # The framework whose class this is (lstmcalc.layers.frameworks): a spec's `framework:` picks
    # among its types; LSTM is one class in Keras and another in PyTorch.
    framework: ClassVar[str] = "keras"
    # The torch.nn module computing the same function (port, explain, hints for a Keras name used
    # in a PyTorch spec); "" when there is none.
    pytorch_module: ClassVar[str] = ""
    arguments: ClassVar[Tuple[Arg, ...]] = ()
    input_rank: ClassVar[Optional[Rank]] = None
    supports_masking: ClassVar[bool] = False
    # Layers without an input spec in Keras apply element-wise to a list of tensors
    # (Dropout after an LSTM with return_state); the others reject a list.
    maps_over_tensor_lists: ClassVar[bool] = False
    # Layers that take several tensors by design (merges).
    takes_tensor_list: ClassVar[bool] = False
    # At least one working use of the type (checked for every type by the conformance test).
    examples: ClassVar[Tuple[Example, ...]] = ()
    # The arguments a diagram box shows (units, return_sequences, merge_mode, ...), always with
    # their values, defaults included: return_sequences=False is often the point of the picture.
    displayed_arguments: ClassVar[Tuple[str, ...]] = ()
    # Layers called with `initial_state=` (tf.keras 2 configs list those states as extra inputs).
    takes_initial_state: ClassVar[bool] = False
    # Keys tf.keras 2's get_config() wrote that Keras 3 removed, with the value that means Keras 3's
    # behaviour; readers of saved configs drop them at that value and refuse any other.
    legacy_config: ClassVar[Dict[str, Any]] = {}

    def __init__(self, name: str, config: Dict[str, Any], convention: str = "keras",
                 locations: Optional[Dict[str, Any]] = None):
        self.name = name
        self.config = config
        self.convention = convention
        # Where each argument was written (spec key → Location), for diagnostics about it.
        self.locations: Dict[str, Any] = dict(locations or {})

    def location_of(self, argument: str) -> Optional[Any]:
        """Where ``argument`` was written for this layer or for a layer it wraps (the
        `stateful: true` inside a Bidirectional's `layer:`), or None."""
        pending: List["Layer"] = [self]
        while pending:
            layer = pending.pop(0)
            if argument in layer.locations:
                return layer.locations[argument]
            # Wrapped layers as written (`layer:`, `backward_layer:`), not the wrapper's copies.
            pending.extend(value for value in layer.config.values() if isinstance(value, Layer))
        return None

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

    @classmethod
    def default_name(cls, namer: Any, index: Optional[int]) -> str:
        """The name of a layer written without one: Keras's snake_case of the class with a counter."""
        return namer.auto(cls.keras_class)

    @classmethod
    def equivalent_in(cls, framework: str) -> str:
        """The type computing the same function in ``framework`` ("" when there is none)."""
        if framework == cls.framework:
            return cls.keras_class
        return cls.pytorch_module if framework == "pytorch" else ""

    @classmethod
    def foreign_argument_advice(cls, key: str) -> Optional[str]:
        """What to write instead of ``key``, a keyword of the other framework's counterpart (the
        PyTorch classes know Keras's names for their arguments); None when the class has no advice."""
        return None

    @classmethod
    def own_name_for(cls, key: str) -> str:
        """This class's name for the other framework's keyword ``key`` ("" when it knows none)."""
        return ""

    @classmethod
    def own_name_of(cls, key: str, framework: str) -> str:
        """What ``framework``'s counterpart calls this class's argument ``key`` ("" if it has none)."""
        return ""

    @classmethod
    def unknown_argument_message(cls, key: str) -> str:
        return f"{cls.keras_class} has no argument `{key}`."

    @classmethod
    def missing_argument_message(cls, key: str) -> str:
        return f"{cls.keras_class} needs `{key}`."

    def check_config(self) -> None:
        """Cross-argument rules Keras applies at construction; raise Problem with a S-code."""

    def construction_warnings(self) -> List["Problem"]:
        """Warnings the framework gives when it constructs the layer, whatever its input."""
        return []

    @classmethod
    def warnings_before_refusal(cls, values: Dict[str, Any], refused: Sequence[str]) -> List["Problem"]:
        """Warnings the framework gives while constructing the layer before it raises: ``values``
        holds the arguments as written, ``refused`` the names of those whose own check failed
        (empty when a rule across arguments, check_config, refuses). None by default."""
        return []

    def sublayers(self) -> List["Layer"]:
        return []

    def display_settings(self) -> List[Tuple[str, str]]:
        """(argument, value as Keras call syntax writes it) for each of ``displayed_arguments``."""
        return [(name, repr(self.config[name])) for name in self.displayed_arguments if name in self.config]

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

    def step_rank(self) -> Optional[Rank]:
        """The rank it takes inside TimeDistributed, which calls its build and compute_output_shape
        but never checks its input_spec: the same as outside unless those accept other ranks."""
        return self.expected_rank()

    def rank_hint(self, shape: Shape) -> str:
        """How to fix an input of the wrong rank (``shape``), in terms of this layer; "" leaves the
        engine's general hint."""
        return ""

    def check_count(self, inputs: Sequence[TensorSpec], as_list: bool) -> None:
        """For layers that take a list of tensors: raise Problem when the count is wrong.
        ``as_list``: the spec wrote a list (`inputs: [a, b]`); several tensors arriving from one
        multi-output layer come as the tuple Keras passes on instead."""

    def check_initial_state(self, inputs: Sequence[TensorSpec], states: Sequence[TensorSpec]) -> None:
        """Layers that take ``initial_state`` override this; the others reject it."""
        raise Problem("S004", f"{self.keras_class} does not take `initial_state`; recurrent layers "
                                   "(LSTM, GRU, SimpleRNN, ConvLSTM1D/2D/3D) and Bidirectional do.",
                           "Remove `initial_state` from this layer.", argument="initial_state")

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        return []

    # Keras's default initializer of a weight, where a rule depends on it (the recurrent kernels'
    # 'orthogonal'); weights not listed default to initializers no rule looks at.
    default_initializers: ClassVar[Dict[str, str]] = {}
    # The argument initializing a weight, where it is not `<weight>_initializer`.
    initializer_arguments: ClassVar[Dict[str, str]] = {}

    def initializer_of(self, weight: str) -> Tuple[str, Any]:
        """(the argument, the initializer) of the weight named ``weight``."""
        argument = self.initializer_arguments.get(weight, f"{weight}_initializer")
        value = self.config.get(argument)
        return argument, self.default_initializers.get(weight) if value is None else value

    def check_weights(self, weights: Sequence[Weight]) -> None:
        """Raise Problem for weights Keras cannot create: an 'orthogonal' initializer takes a QR
        decomposition, which TensorFlow does not compute in bfloat16 (the `dtype: bfloat16` policy;
        `mixed_bfloat16` keeps float32 variables)."""
        owners = [self]
        for owner in owners:
            owners.extend(owner.sublayers())
        for weight in weights:
            if weight.dtype != "bfloat16":
                continue
            short = weight.name.split("/")[-1]
            for owner in owners:
                argument, initializer = owner.initializer_of(short)
                if _is_orthogonal(initializer):
                    raise Problem(
                        "S012", f"{self.name} ({self.keras_class}) cannot create its weight `{weight.name}` in "
                                f"bfloat16: its `{argument}` 'orthogonal' takes a QR decomposition, which "
                                "TensorFlow does not compute in bfloat16 (\"Value for attr 'T' of bfloat16 is not in "
                                "the list of allowed values: double, float, half, complex64, complex128 ... [Op:Qr]\"); "
                                "Keras fails while building the layer.",
                        f"Use `dtype: mixed_bfloat16` (float32 weights, bfloat16 computations), or give "
                        f"`{argument}` another initializer such as glorot_uniform.", argument="dtype")

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

    def warnings(self, inputs: Sequence[TensorSpec]) -> List["Problem"]:
        """Findings about an accepted layer (Keras builds it, but something deserves a word)."""
        return []

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        masked = self.supports_masking and any(tensor.masked for tensor in inputs)
        return [masked] * count

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        return [self.compute_dtype] * count

    def output_mask_shape(self, inputs: Sequence[TensorSpec]) -> Optional[Shape]:
        """The shape of the mask its masked outputs carry. Keras's layers pass the mask they
        receive on unchanged (its shape with it); the layers that make a mask say its shape."""
        return next((tensor.mask_shape for tensor in inputs if tensor.masked), None)
    def output_batch_axes(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        """Where each output's batch axis is; by default where the first input has it."""
        return [inputs[0].batch_axis if inputs else 0] * count

    def output_batch_folds(self, inputs: Sequence[TensorSpec], count: int) -> List[Optional[int]]:
        """How many items of each output's batch axis make one sample (TensorSpec.batch_fold); by
        default as many as in the first input's."""
        return [inputs[0].batch_fold if inputs else 1] * count

    def outputs(self, inputs: Sequence[TensorSpec]) -> List[TensorSpec]:
        shapes = self.output_shapes(inputs)
        masks = self.output_masks(inputs, len(shapes))
        dtypes = self.output_dtypes(inputs, len(shapes))
        mask_shape = self.output_mask_shape(inputs) if any(masks) else None
        axes = self.output_batch_axes(inputs, len(shapes))
        folds = self.output_batch_folds(inputs, len(shapes))
        return [TensorSpec(tuple(shape), dtype, mask, mask_shape if mask else None, axis, fold)
                for shape, dtype, mask, axis, fold in zip(shapes, dtypes, masks, axes, folds)]

    # -- traits: what the engine, the lints and explain ask instead of matching type names -------

    # The output has the input's shape (Dropout, Activation, normalisation, ...): looking through
    # such layers finds the layer that shaped a tensor.
    keeps_shape: ClassVar[bool] = False
    # Keras's call() takes a `mask` argument (the RNNs, the wrappers, GlobalAveragePooling1D): in a
    # graph model the layer is connected to the mask tensor that reaches it.
    consumes_mask: ClassVar[bool] = False
    # Acts on the last axis alone, the same way at every position before it (Dense).
    acts_on_last_axis: ClassVar[bool] = False
    # Joins every axis after the batch axis into one (Flatten): an unknown length makes it unknown.
    flattens: ClassVar[bool] = False
    # The axes of the sequence the layer reads along its time axis, batch first, e.g.
    # ("batch", "timesteps", "features"); () for layers that do not read a sequence.
    sequence_axes: ClassVar[Tuple[str, ...]] = ()

    def state_shapes_of(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        """The shapes of the states a recurrent layer carries from step to step ((batch, units) for
        an LSTM's h and c, (batch, rows, cols, filters) for a ConvLSTM2D's); [] for other layers."""
        return []

    # The output a stack passes on to the next layer, and which a reference without an index
    # picks (a PyTorch RNN's `output`, not h_n and c_n); None: all of them, as Keras passes them.
    # In output files the primary output is keyed by the layer's name alone, the others `name[i]`.
    primary_output: ClassVar[Optional[int]] = None

    def output_labels(self, count: int) -> List[str]:
        """Names of the outputs for the summary (output, h_n, c_n); [] to show shapes alone."""
        return []

    def uncalled_weights(self) -> List[Weight]:
        """The weights of a layer the model never calls. A Keras model leaves such a layer out
        (PyTorch modules count theirs: TorchModule)."""
        raise Problem("S016", f"{self.name} ({self.keras_class}) is never called, so Keras leaves it out of the "
                              "model.", "Remove it, or call it.")

    def expected_batch_axis(self) -> Optional[int]:
        """Where the layer reads the batch axis of its input when it has a say (a PyTorch RNN's
        batch_first): the spec's inputs get their batch axis there. None: no preference."""
        return None

    @classmethod
    def written_batch_axis(cls, values: Dict[str, Any]) -> Optional[int]:
        """``expected_batch_axis`` of a layer that could not be built, from its arguments as written
        (``values``, unchecked): the spec's inputs still get their batch axis where it would read it
        once fixed, as the spec says (a torch module's construction error stops nothing before it)."""
        return None

    @classmethod
    def written_arguments(cls, positional: Sequence[Any], keywords: Dict[str, Any]) -> Dict[str, Any]:
        """Arguments as written, the positional ones named in the class's order (unchecked)."""
        names = [argument.name for argument in cls.arguments]
        return {**dict(zip(names, positional)), **keywords}

    def connect(self, producer: Optional["Layer"]) -> None:
        """Told, once the graph is wired, which layer shaped its input (looking through layers that
        keep the shape); a layer whose computation depends on it (PyTorch's last step after a
        bidirectional module) keeps what it needs."""

    def recurrent_copies(self) -> List["Layer"]:
        """The recurrent layers that run this layer's loop — itself for an RNN, a Bidirectional's
        two directions — whose arguments (return_sequences, units, dropout, ...) decide what it
        returns; [] for layers that are not recurrent."""
        return []

    @property
    def is_recurrent(self) -> bool:
        return bool(self.recurrent_copies())

    def returns_last_step_only(self) -> bool:
        """A recurrent layer with return_sequences false passes only its last output on."""
        copies = self.recurrent_copies()
        return bool(copies) and not copies[0].config["return_sequences"]

    def missing_time_axis(self, received: TensorSpec) -> bool:
        """This layer reads a sequence and ``received`` lacks just its time axis (one vector or
        one frame per sample)."""
        rank = self.expected_rank()
        return bool(self.sequence_axes) and rank is not None and rank.ndim == received.rank + 1

    def missing_time_axis_advice(self, last_step_of: Optional[str]) -> Tuple[str, str]:
        """For a layer that got one step's worth instead of a sequence (``missing_time_axis``): a
        sentence for the engine's message and the hint. ``last_step_of`` names the recurrent layer
        before it that returns its last step only, if one does."""
        if last_step_of is not None:
            return (f" {last_step_of} has return_sequences: false, so it returns only its last output. Keras "
                    f"rejects this model: {self.name} ({self.keras_class}), fed a single vector, does not 'behave "
                    "like a Dense layer': it does not build.",
                    f"Set `return_sequences: true` on `{last_step_of}` so it passes its whole sequence (batch, "
                    f"timesteps, units) on, or put RepeatVector(n) before `{self.name}` to repeat that vector n "
                    f"times, or replace `{self.name}` with a Dense layer.")
        return "", (f"Feed `{self.name}` a sequence: add RepeatVector(n) or Reshape before it, or give the model "
                    "a 3-D input (timesteps, features).")

    def repeats(self) -> Optional[int]:
        """How many times the layer copies its input vector along a new time axis (RepeatVector)."""
        return None

    def input_values(self) -> Optional["InputValues"]:
        """The values the layer expects to receive (integer ids, a padding value), for the
        verifier's random inputs and the lints; None when any floats will do."""
        return None

    # -- masks in a Keras graph model (lstmcalc.keras_layout) -----------------------------------

    def keras_masks(self, inputs: Sequence[TensorKey], masks: Sequence[Optional[TensorKey]], count: int,
                    graph: "MaskGraph") -> List[Optional[TensorKey]]:
        """The mask tensors of the layer's ``count`` outputs, as Keras's ``compute_mask`` builds them
        in a graph model: ``masks`` are the inputs' (None: unmasked); a new mask operation
        (``not_equal``, ``any``, ...) is ``graph.operation(type, shape, inputs)``. By default a
        layer that supports masking passes its inputs' masks on and the others drop them."""
        if not self.supports_masking or not masks:
            return [None] * count
        return list(masks) if len(masks) == count else [masks[0]] * count

    # -- compute figures (lstmcalc.compute) ------------------------------------------------------

    def kept_for_backprop(self, inputs: Sequence[TensorSpec]) -> Amount:
        """Values per sample the layer keeps inside it for backpropagation, besides its outputs
        (a recurrent layer's gate activations and states at every step)."""
        return Amount()

    # -- explanation (lstmcalc.explain) ----------------------------------------------------------

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
                     context: "Context") -> "Math":
        """The layer's equations with the dimensions of these tensors, in words too."""
        from .explanation import Block, Math

        return Math(blocks=[Block(self.keras_class, legend=(
            f"lstmcalc has no equations for {self.keras_class} yet; the shapes, weights and parameter "
            "count shown are exact."))])

    def parameter_expression(self, inputs: Sequence[TensorSpec]) -> Expression:
        """The parameter count as arithmetic. Its value must equal the sum of the weights' sizes
        (tests/test_layer_contract.py checks it for every type); by default it is that sum."""
        return weights_expression(self.weight_shapes(inputs))

    def framework_view(self, inputs: Sequence[TensorSpec]) -> Optional["FrameworkView"]:
        """The same layer as another framework stores it (PyTorch for recurrent layers), or None."""
        return None

    def mac_tool_counts(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec],
                        batch: int) -> List["ToolCount"]:
        """What MAC-counting tools report for this layer on a batch of ``batch`` and why they differ
        from lstmcalc's count (PyTorch modules: torchinfo, thop, ptflops, DeepSpeed); [] for none."""
        return []

    def output_rows(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape]) -> List["TensorRow"]:
        """Each output with what it holds."""
        from .explanation import TensorRow, tensor_text

        return [TensorRow("output" if len(outputs) == 1 else f"output {index}", tensor_text(shape), "")
                for index, shape in enumerate(outputs)]

    def return_settings(self, inputs: Sequence[TensorSpec]) -> List["Setting"]:
        """The outputs under every return_sequences / return_state setting (recurrent layers)."""
        return []

    def missing_time_axis_reason(self, received: TensorSpec, source: str, mismatch: str) -> Optional[str]:
        """Why the layer cannot run on ``received`` (``missing_time_axis``), in the terms of its
        equations; None to keep the engine's diagnostic as the reason."""
        return None

    def compared_with_dense(self, received: TensorSpec, params: int) -> str:
        """A sentence comparing the layer, given a sequence, with a Dense layer on ``received``
        (the vector it got instead); "" when the comparison says nothing."""
        return ""

    # -- helpers for subclasses --------------------------------------------------------------

    def weight(self, name: str, shape: Sequence[Optional[int]], trainable: bool = True,
               initial: str = "random") -> Weight:
        return Weight(name, tuple(shape), trainable and self.trainable, self.variable_dtype, initial)

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

    def computed_shapes_hint(self) -> str:
        """How to make Keras compute the shapes it declares (where ``computed_shapes`` differ)."""
        return "A 'glu' activation halves the last axis: use another activation, or twice the units."

    def forward_scratch(self, inputs: Sequence[TensorSpec]) -> int:
        """Elements of the temporary arrays ``forward`` allocates besides its outputs (for the
        memory estimate, before anything is allocated). By default one copy of the inputs."""
        return sum(product(tensor.shape) for tensor in inputs)  # type: ignore[arg-type]

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """Compute the outputs from real arrays, as Keras's ``call`` in inference mode."""
        raise Problem("V005", f"lstmcalc has no NumPy forward pass for {self.keras_class} yet.",
                           "Verify the rest of the model by removing this layer from a copy of the spec.")

    # -- porting to the other framework (lstmcalc port) -------------------------------------------

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan: "PortPlan") -> None:
        """Add to ``plan`` (lstmcalc.layers.porting) the layers of ``framework`` that compute what
        this layer computes on ``inputs``, with its weights converted and the tensors that prove
        it; raise Problem P002 when there are none."""
        from .porting import refuse

        raise refuse(self, framework, "lstmcalc has no port rule for this type.",
                     "Port a model without it, or write that part of the other model by hand.")

    def __repr__(self) -> str:
        return f"<{self.keras_class} {self.name!r}>"


FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")


class PassThrough(Layer):
    """Layers whose output has the shape of their input and its values (in inference, the identity),
    in its dtype once Keras's autocast has cast a floating input to the layer's compute dtype
    (integers and booleans are not cast)."""

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        return NO_MACS  # element-wise or a rearrangement: no products with a weight

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        return [inputs[0].shape]

    def output_dtypes(self, inputs: Sequence[TensorSpec], count: int) -> List[str]:
        dtype = inputs[0].dtype
        return [self.compute_dtype if dtype in FLOAT_DTYPES else dtype] * count

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        return [inputs[0]], self.passed_masks(masks, 1)


LAYER_TYPES: Dict[str, Type[Layer]] = {}  # Keras's types
# Per framework (`framework:` of a spec), type name → class.
FRAMEWORK_LAYER_TYPES: Dict[str, Dict[str, Type[Layer]]] = {"keras": LAYER_TYPES, "pytorch": {}}


def register(cls: Type[Layer]) -> Type[Layer]:
    """Class decorator: add a layer class to its framework's name→class registry."""
    FRAMEWORK_LAYER_TYPES[cls.framework][cls.keras_class] = cls
    return cls


def clone(layer: Layer, name: str, **overrides: Any) -> Layer:
    """A copy of ``layer`` with another name and some arguments changed (Keras's
    serialize/deserialize round trip in Bidirectional)."""
    config = dict(layer.config)
    config.update(overrides)
    config["name"] = name
    return type(layer)(name, config, layer.convention)


def check_inputs(layer: Layer, inputs: Sequence[TensorSpec], as_list: bool = False,
                 rank: Optional[Rank] = None) -> None:
    """The one place that checks how many tensors a layer receives and their rank, worded as
    Keras's ``assert_input_compatibility``. ``as_list``: the tensors were given as a list;
    ``rank``: the rank to check in place of the layer's own (inside TimeDistributed)."""
    if layer.takes_tensor_list:
        layer.check_count(inputs, as_list)
        return
    rank = layer.expected_rank() if rank is None else rank
    if len(inputs) != 1:
        received = ", ".join(format_shape(tensor.shape) for tensor in inputs)
        raise Problem(
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
        raise Problem(
            "H001",
            f"Input 0 of layer '{layer.name}' is incompatible with the layer: {mismatch}. "
            f"Full shape received: {format_shape(shape)}",
            layer.rank_hint(shape))
