"""The parsed model spec: inputs and layer definitions, each with its source location."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from ..shapes import Shape
from .source import Location


class Argument(NamedTuple):
    """One argument as written: its value and where it was written."""

    value: Any
    location: Location


@dataclass
class LayerDef:
    """A layer as written in the spec, before its arguments are checked against its class."""

    type_name: str
    location: Location
    type_location: Location
    positional: List[Argument] = field(default_factory=list)
    keywords: Dict[str, Argument] = field(default_factory=dict)
    # Functional specs: references to what this layer consumes (None = the previous layer).
    inputs: Optional[List["Reference"]] = None
    inputs_as_list: bool = False  # `inputs: [a]` is a list of one tensor, `inputs: a` the tensor
    initial_state: Optional[List["Reference"]] = None
    source: Optional[str] = None  # the call-syntax text, when written that way
    index: Optional[int] = None  # position in the spec's `layers:` list
    # A shared layer's later call: the name of the layer called again (`{call: encoder, inputs: b}`);
    # its node is `encoder[1]`, `encoder[2]`, ... as Keras numbers a layer's nodes.
    shares: Optional[str] = None
    # PyTorch: the container (nn.Sequential) holding the module, whose name is then `<scope>.<own>`
    # (named_modules()'s path, e.g. `head.0`), and whether forward() calls it at all: a module it
    # never calls has no shapes, but its parameters count (named_parameters() lists them).
    scope: Optional[str] = None
    called: bool = True
    # The name the layer factory gave it (Keras's default name, or `name:`), also when it could
    # not be built, so that a rejected layer keeps the name it will have once fixed.
    assigned_name: Optional[str] = None

    @property
    def explicit_name(self) -> Optional[str]:
        argument = self.keywords.get("name")
        return argument.value if argument is not None and isinstance(argument.value, str) else None


class Reference(NamedTuple):
    """``name`` or ``name[i]``: a layer's or input's output(s)."""

    name: str
    index: Optional[int]
    location: Location

    def __str__(self) -> str:
        return self.name if self.index is None else f"{self.name}[{self.index}]"


class InputDef(NamedTuple):
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


@dataclass
class ModelSpec:
    """Everything the engine needs: inputs, layers in file order, outputs."""

    file: Optional[str]
    name: Optional[str] = None
    batch_size: Optional[int] = None
    inputs: List[InputDef] = field(default_factory=list)
    layers: List[LayerDef] = field(default_factory=list)
    outputs: Optional[List[Reference]] = None
    functional: bool = False
    framework: str = "keras"  # whose layer types and conventions: keras or pytorch
    raw: Any = None  # the located YAML document, for later passes (expectations, lints)
    top_locations: Dict[str, Location] = field(default_factory=dict)
    # Weights stored with the model (a .keras archive): an object whose ``arrays(report)`` returns
    # (``<layer>/<weight>`` → array or None, diagnostics); lstmcalc verify uses them.
    stored_weights: Any = None
    # Read from a saved Keras config, which writes out every argument (writers leave out defaults).
    saved_config: bool = False

    def location_of(self, key: str) -> Location:
        return self.top_locations.get(key, Location(self.file, None, None))
