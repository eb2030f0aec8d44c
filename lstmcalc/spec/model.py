"""The parsed model spec: inputs and layer definitions, each with its source location."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ..records import Record, TupleRecord
from ..shapes import Shape
from .source import Location


class Argument(TupleRecord):
    """One argument as written: its value and where it was written."""

    value: Any
    location: Location


class LayerDef(Record):
    """A layer as written in the spec, before its arguments are checked against its class.

    ``inputs``: functional specs' references to what this layer consumes (None = the previous
    layer), ``inputs_as_list`` when written `inputs: [a]` (a list of one tensor; `inputs: a` is the
    tensor); ``source``: the call-syntax text, when written that way; ``index``: its position in the
    spec's `layers:` list; ``shares``: a shared layer's later call, the name of the layer called
    again (`{call: encoder, inputs: b}`; its node is `encoder[1]`, `encoder[2]`, ... as Keras
    numbers a layer's nodes). PyTorch: ``scope``, the container (nn.Sequential) holding the module,
    whose name is then `<scope>.<own>` (named_modules()'s path, e.g. `head.0`), and ``called``,
    whether forward() calls it at all (a module it never calls has no shapes, but its parameters
    count: named_parameters() lists them). ``assigned_name``: the name the layer factory gave it
    (Keras's default name, or `name:`), also when it could not be built, so that a rejected layer
    keeps the name it will have once fixed."""

    def __init__(self, type_name: str, location: Location, type_location: Location,
                 positional: Optional[List[Argument]] = None, keywords: Optional[Dict[str, Argument]] = None,
                 inputs: Optional[List["Reference"]] = None, inputs_as_list: bool = False,
                 initial_state: Optional[List["Reference"]] = None, source: Optional[str] = None,
                 index: Optional[int] = None, shares: Optional[str] = None, scope: Optional[str] = None,
                 called: bool = True, assigned_name: Optional[str] = None):
        self.type_name = type_name
        self.location = location
        self.type_location = type_location
        self.positional: List[Argument] = [] if positional is None else positional
        self.keywords: Dict[str, Argument] = {} if keywords is None else keywords
        self.inputs = inputs
        self.inputs_as_list = inputs_as_list
        self.initial_state = initial_state
        self.source = source
        self.index = index
        self.shares = shares
        self.scope = scope
        self.called = called
        self.assigned_name = assigned_name

    @property
    def explicit_name(self) -> Optional[str]:
        argument = self.keywords.get("name")
        return argument.value if argument is not None and isinstance(argument.value, str) else None


class Reference(TupleRecord):
    """``name`` or ``name[i]``: a layer's or input's output(s)."""

    name: str
    index: Optional[int]
    location: Location

    def __str__(self) -> str:
        return self.name if self.index is None else f"{self.name}[{self.index}]"


class InputDef(TupleRecord):
    name: Optional[str]
    shape: Optional[Tuple[Optional[int], ...]]  # without the batch axis; None when invalid
    dtype: str
    location: Location
    batch_size: Optional[int] = None
    # Where the batch axis goes when it is not where the spec's layers read it: axis 1 of a
    # PyTorch RNN's h_0 and c_0, (D·num_layers, N, H), whatever batch_first says.
    batch_axis: Optional[int] = None

    def batch_shape(self, batch_size: Optional[int], axis: int = 0) -> Shape:
        """The shape with the batch axis inserted at ``axis`` (PyTorch's time-major layout: 1)."""
        batch = self.batch_size if self.batch_size is not None else batch_size
        shape = tuple(self.shape)
        axis = min(axis, len(shape))
        return shape[:axis] + (batch,) + shape[axis:]


class ModelSpec(Record):
    """Everything the engine needs: inputs, layers in file order, outputs. ``framework``: whose
    layer types and conventions, keras or pytorch; ``raw``: the located YAML document, for later
    passes (expectations, lints); ``stored_weights``: weights stored with the model (a .keras
    archive), an object whose ``arrays(report)`` returns (``<layer>/<weight>`` → array or None,
    diagnostics), which lstmcalc verify uses; ``saved_config``: read from a saved Keras config,
    which writes out every argument (writers leave out defaults)."""

    def __init__(self, file: Optional[str], name: Optional[str] = None, batch_size: Optional[int] = None,
                 inputs: Optional[List[InputDef]] = None, layers: Optional[List[LayerDef]] = None,
                 outputs: Optional[List[Reference]] = None, functional: bool = False, framework: str = "keras",
                 raw: Any = None, top_locations: Optional[Dict[str, Location]] = None,
                 stored_weights: Any = None, saved_config: bool = False):
        self.file = file
        self.name = name
        self.batch_size = batch_size
        self.inputs: List[InputDef] = [] if inputs is None else inputs
        self.layers: List[LayerDef] = [] if layers is None else layers
        self.outputs = outputs
        self.functional = functional
        self.framework = framework
        self.raw = raw
        self.top_locations: Dict[str, Location] = {} if top_locations is None else top_locations
        self.stored_weights = stored_weights
        self.saved_config = saved_config

    def location_of(self, key: str) -> Location:
        return self.top_locations.get(key, Location(self.file, None, None))
