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

    def batch_shape(self, batch_size: Optional[int]) -> Shape:
        return (self.batch_size if self.batch_size is not None else batch_size,) + tuple(self.shape)


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
    raw: Any = None  # the located YAML document, for later passes (expectations, lints)
    top_locations: Dict[str, Location] = field(default_factory=dict)

    def location_of(self, key: str) -> Location:
        return self.top_locations.get(key, Location(self.file, None, None))
