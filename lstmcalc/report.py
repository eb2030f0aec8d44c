"""The result of an analysis: one ``Report`` feeds every renderer.

Records hold facts only; totals are computed by ``compute_totals`` and formatting lives in render/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from .diagnostics import ERROR, Diagnostic
from .layers.base import Layer, Weight
from .shapes import Shape

SCHEMA_ID = "lstmcalc.summary/1"
DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "int8": 1, "uint8": 1,
               "int16": 2, "uint16": 2, "int32": 4, "uint32": 4, "int64": 8, "uint64": 8, "bool": 1}


class NameIndex:
    """The first item of each name in a list that grows (layer records): a lookup indexes only the
    items appended since the last one, so looking names up while the list grows stays linear."""

    __slots__ = ("items", "indexed", "by_name")

    def __init__(self) -> None:
        self.items: Optional[list] = None
        self.indexed = 0
        self.by_name: Dict[str, Any] = {}

    def get(self, items: list, name: str) -> Any:
        if items is not self.items or len(items) < self.indexed:  # a new or shortened list: start again
            self.items, self.indexed, self.by_name = items, 0, {}
        for item in items[self.indexed:]:
            self.by_name.setdefault(item.name, item)
        self.indexed = len(items)
        return self.by_name.get(name)


def count(weights: List[Weight]) -> int:
    """Parameters are always the sum of the weights' sizes — never a formula of their own (a
    PyTorch buffer is no parameter)."""
    return sum(weight.size for weight in weights if not weight.buffer)


class InputReport(NamedTuple):
    name: str
    shape: Shape
    dtype: str
    line: Optional[int] = None
    column: Optional[int] = None
    batch_axis: int = 0  # 1 in PyTorch's time-major layout (not serialised)

    def to_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}


@dataclass
class LayerReport:
    """One layer: what it consumes, what it produces, its weights. ``output_shapes`` is None when
    the layer was not reached or failed."""

    name: str
    type: str
    inputs: List[str] = field(default_factory=list)
    initial_state: List[str] = field(default_factory=list)
    mask: Optional[str] = None  # the Keras mask tensor the layer takes (graph models), e.g. not_equal[0]
    output_shapes: Optional[List[Shape]] = None
    output_dtypes: List[str] = field(default_factory=list)
    output_masks: List[bool] = field(default_factory=list)
    # Not serialised: where each output's batch axis is (None: none), and the outputs' names as
    # the framework calls them (output, h_n, c_n; [] when they have none).
    output_batch_axes: List[Optional[int]] = field(default_factory=list)
    output_labels: List[str] = field(default_factory=list)
    weights: List[Weight] = field(default_factory=list)
    status: str = "ok"  # ok | error | not-reached
    line: Optional[int] = None
    column: Optional[int] = None
    config: Dict[str, Any] = field(default_factory=dict)
    # For diagrams, not serialised: the layer's display_settings() and the layers it wraps.
    settings: List[Tuple[str, str]] = field(default_factory=list)
    wrapped: List["LayerReport"] = field(default_factory=list)
    shares: Optional[str] = None  # a shared layer's later call: the layer it calls again (no own weights)

    @property
    def params(self) -> int:
        return count(self.weights)

    @property
    def connected_to(self) -> List[str]:
        """Everything the layer's Keras node takes: inputs, initial states, then its mask."""
        return self.inputs + self.initial_state + ([self.mask] if self.mask else [])

    @property
    def trainable_params(self) -> int:
        return count([weight for weight in self.weights if weight.trainable])

    @property
    def non_trainable_params(self) -> int:
        return count([weight for weight in self.weights if not weight.trainable])

    def to_dict(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "status": self.status,
            "inputs": list(self.inputs),
            "initial_state": list(self.initial_state),
            "mask": self.mask,
            "output_shapes": None if self.output_shapes is None else [list(s) for s in self.output_shapes],
            "output_dtypes": list(self.output_dtypes),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "weights": [{"name": w.name, "shape": list(w.shape), "trainable": w.trainable, "dtype": w.dtype}
                        for w in self.weights],
            "line": self.line,
            "column": self.column,
            "shares": self.shares,
        }


def wrapped_reports(layer: Layer) -> List[LayerReport]:
    """The layers a wrapper holds (Bidirectional's two copies, TimeDistributed's layer), with their
    settings, for diagrams."""
    return [LayerReport(name=inner.name, type=inner.keras_class, config=dict(inner.config),
                        settings=inner.display_settings(), wrapped=wrapped_reports(inner))
            for inner in layer.sublayers()]


class OperationReport(NamedTuple):
    """A mask operation Keras inserts into a graph model (``not_equal (NotEqual)``); no weights."""

    name: str
    type: str
    inputs: List[str]
    output_shapes: List[Shape]

    def to_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "type": self.type, "inputs": list(self.inputs),
                "output_shapes": [list(shape) for shape in self.output_shapes]}


class Totals(NamedTuple):
    params: int
    trainable_params: int
    non_trainable_params: int
    param_bytes: int
    trainable_bytes: int
    non_trainable_bytes: int

    def to_dict(self) -> Dict[str, int]:
        return {"params": self.params, "trainable_params": self.trainable_params,
                "non_trainable_params": self.non_trainable_params, "param_bytes": self.param_bytes,
                "trainable_bytes": self.trainable_bytes, "non_trainable_bytes": self.non_trainable_bytes}


def _bytes(weights: List[Weight]) -> int:
    return sum(weight.size * DTYPE_BYTES.get(weight.dtype, 4) for weight in weights if not weight.buffer)


def compute_totals(layers: List[LayerReport]) -> Totals:
    weights = [weight for layer in layers for weight in layer.weights]
    trainable = [weight for weight in weights if weight.trainable]
    frozen = [weight for weight in weights if not weight.trainable]
    return Totals(count(weights), count(trainable), count(frozen), _bytes(weights), _bytes(trainable),
                  _bytes(frozen))


@dataclass
class Report:
    """Everything lstmcalc found out about one spec."""

    name: str
    file: Optional[str]
    functional: bool = False
    batch_size: Optional[int] = None
    inputs: List[InputReport] = field(default_factory=list)
    layers: List[LayerReport] = field(default_factory=list)
    outputs: List[str] = field(default_factory=list)
    diagnostics: List[Diagnostic] = field(default_factory=list)
    totals: Totals = field(default_factory=lambda: compute_totals([]))
    # Graph models: Keras's mask operations, the order of Keras's summary rows (inputs, layers,
    # operations), and whether Keras prints it without the "Connected to" column.
    operations: List[OperationReport] = field(default_factory=list)
    row_order: List[str] = field(default_factory=list)
    sequential_like: bool = True
    # Whose conventions the spec follows (lstmcalc.layers.frameworks): keras or pytorch; where its
    # inputs have their batch axis (0, or 1 for PyTorch's time-major layout). Not serialised.
    framework: str = "keras"
    batch_axis: int = 0
    # The built layers and graph, for the verifier and explain; not serialised.
    graph: Any = None
    # The ModelSpec it came from (its located YAML in ``spec.raw``), for check's passes; not serialised.
    spec: Any = None
    _index: NameIndex = field(default_factory=NameIndex, repr=False, compare=False)  # for layer(name)

    @classmethod
    def unread(cls, file: Optional[str], diagnostics: List[Diagnostic]) -> "Report":
        """The report of a spec that could not be read: its diagnostics and nothing else."""
        return cls(name="sequential", file=file, diagnostics=list(diagnostics))

    @property
    def ok(self) -> bool:
        return not any(diagnostic.severity == ERROR for diagnostic in self.diagnostics)

    @property
    def errors(self) -> List[Diagnostic]:
        return [diagnostic for diagnostic in self.diagnostics if diagnostic.severity == ERROR]

    def layer(self, name: str) -> Optional[LayerReport]:
        """The layer called ``name`` (an index kept in step with ``layers``: constant time)."""
        return self._index.get(self.layers, name)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "schema": SCHEMA_ID,
            "ok": self.ok,
            "name": self.name,
            "file": self.file,
            "kind": "functional" if self.functional else "sequential",
            "batch_size": self.batch_size,
            "inputs": [item.to_dict() for item in self.inputs],
            "layers": [layer.to_dict() for layer in self.layers],
            "outputs": list(self.outputs),
            "operations": [operation.to_dict() for operation in self.operations],
            "totals": self.totals.to_dict(),
            "diagnostics": [diagnostic.to_dict() for diagnostic in self.diagnostics],
        }

    # -- tables and notebooks ---------------------------------------------------------------------

    def __repr__(self) -> str:
        # Short, for a Python prompt (the dataclass's would print the whole graph); notebooks
        # show _repr_html_ instead.
        state = f"{self.totals.params:,} params" if self.ok else \
            f"invalid: {len(self.errors)} error{'s' if len(self.errors) != 1 else ''}"
        layers = len(self.layers)
        return f"<Report {self.name!r}: {layers} layer{'s' if layers != 1 else ''}, {state}>"

    def rows(self) -> List[Dict[str, Any]]:
        """One row per layer and output tensor, with the fields of the JSON layer entries (one
        ``output_shape``/``output_dtype`` per row); a layer's figures are on its first row only,
        so that columns add up. A layer without outputs (rejected, not reached) has one row."""
        rows = []
        for layer in self.layers:
            entry = layer.to_dict()
            shapes = entry.pop("output_shapes") or [None]
            dtypes = entry.pop("output_dtypes")
            for index, shape in enumerate(shapes):
                row = dict(entry)
                if index:
                    row.update(params=None, trainable_params=None, non_trainable_params=None, weights=[])
                row["output_index"] = None if shape is None else index
                row["output_shape"] = shape
                row["output_dtype"] = dtypes[index] if index < len(dtypes) else None
                rows.append({column: row[column] for column in ROW_COLUMNS})
        return rows

    def to_json(self, indent: Optional[int] = 2) -> str:
        """``to_dict()`` as JSON: the document of ``lstmcalc summary --format json``."""
        import json

        return json.dumps(self.to_dict(), indent=indent)

    def to_dataframe(self):
        """``rows()`` as a pandas DataFrame (pandas is not a dependency: install it to use this)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Report.to_dataframe() needs pandas, which lstmcalc does not install: "
                              "pip install pandas") from None
        return pandas.DataFrame(self.rows(), columns=list(ROW_COLUMNS))

    def diagram(self, format: str = "svg") -> str:
        """The model's diagram as ``lstmcalc diagram`` draws it: svg, mermaid or dot source."""
        from .render import DIAGRAM_RENDERERS, get_renderer

        if format not in DIAGRAM_RENDERERS:
            raise ValueError(f"no diagram format {format!r}; choose from {', '.join(DIAGRAM_RENDERERS)}")
        return get_renderer(format, DIAGRAM_RENDERERS)(self, _render_options())

    def _repr_html_(self) -> str:
        from .render import get_renderer

        return get_renderer("html")(self, _render_options())

    def _repr_markdown_(self) -> str:
        from .render import get_renderer

        return get_renderer("markdown")(self, _render_options())


def _render_options():
    from .render import RenderOptions

    return RenderOptions()


# The columns of Report.rows(), `summary --format csv` and Report.to_dataframe().
ROW_COLUMNS = ("name", "type", "status", "output_index", "output_shape", "output_dtype", "inputs",
               "initial_state", "mask", "params", "trainable_params", "non_trainable_params", "weights",
               "line", "column", "shares")
