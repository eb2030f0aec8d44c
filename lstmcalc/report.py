"""The result of an analysis: one ``Report`` feeds every renderer.

Records hold facts only; totals are computed by ``compute_totals`` and formatting lives in render/.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from .diagnostics import ERROR, Diagnostic
from .records import Record, TupleRecord
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


class InputReport(TupleRecord):
    name: str
    shape: Shape
    dtype: str
    line: Optional[int] = None
    column: Optional[int] = None
    batch_axis: int = 0  # 1 in PyTorch's time-major layout (not serialised)

    def to_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}


class LayerReport(Record):
    """One layer: what it consumes, what it produces, its weights. ``output_shapes`` is None when
    the layer was not reached or failed; ``mask``: the Keras mask tensor the layer takes (graph
    models), e.g. not_equal[0]; ``status``: ok | error | not-reached; ``shares``: a shared layer's
    later call, the layer it calls again (no own weights). Not serialised: where each output's batch
    axis is (``output_batch_axes``, None: none) and how many items of it make a sample
    (``output_batch_folds``: TensorSpec.batch_fold), the outputs' names as the framework calls them
    (``output_labels``: output, h_n, c_n; [] when they have none), and for diagrams the layer's
    display_settings() (``settings``) and the layers it wraps (``wrapped``)."""

    def __init__(self, name: str, type: str, inputs: Optional[List[str]] = None,
                 initial_state: Optional[List[str]] = None, mask: Optional[str] = None,
                 output_shapes: Optional[List[Shape]] = None, output_dtypes: Optional[List[str]] = None,
                 output_masks: Optional[List[bool]] = None,
                 output_batch_axes: Optional[List[Optional[int]]] = None,
                 output_batch_folds: Optional[List[Optional[int]]] = None,
                 output_labels: Optional[List[str]] = None, weights: Optional[List[Weight]] = None,
                 status: str = "ok", line: Optional[int] = None, column: Optional[int] = None,
                 config: Optional[Dict[str, Any]] = None, settings: Optional[List[Tuple[str, str]]] = None,
                 wrapped: Optional[List["LayerReport"]] = None, shares: Optional[str] = None):
        self.name = name
        self.type = type
        self.inputs: List[str] = [] if inputs is None else inputs
        self.initial_state: List[str] = [] if initial_state is None else initial_state
        self.mask = mask
        self.output_shapes = output_shapes
        self.output_dtypes: List[str] = [] if output_dtypes is None else output_dtypes
        self.output_masks: List[bool] = [] if output_masks is None else output_masks
        self.output_batch_axes: List[Optional[int]] = [] if output_batch_axes is None else output_batch_axes
        self.output_batch_folds: List[Optional[int]] = [] if output_batch_folds is None else output_batch_folds
        self.output_labels: List[str] = [] if output_labels is None else output_labels
        self.weights: List[Weight] = [] if weights is None else weights
        self.status = status
        self.line = line
        self.column = column
        self.config: Dict[str, Any] = {} if config is None else config
        self.settings: List[Tuple[str, str]] = [] if settings is None else settings
        self.wrapped: List["LayerReport"] = [] if wrapped is None else wrapped
        self.shares = shares

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
            # A PyTorch buffer is marked (and only then), so that params = the sum over the others.
            "weights": [dict({"name": w.name, "shape": list(w.shape), "trainable": w.trainable, "dtype": w.dtype},
                             **({"buffer": True} if w.buffer else {}))
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


class OperationReport(TupleRecord):
    """A mask operation Keras inserts into a graph model (``not_equal (NotEqual)``); no weights."""

    name: str
    type: str
    inputs: List[str]
    output_shapes: List[Shape]

    def to_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "type": self.type, "inputs": list(self.inputs),
                "output_shapes": [list(shape) for shape in self.output_shapes]}


class Totals(TupleRecord):
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


class Report(Record):
    """Everything lstmcalc found out about one spec. Graph models: Keras's mask ``operations``, the
    order of Keras's summary rows (``row_order``: inputs, layers, operations), and whether Keras
    prints it without the "Connected to" column (``sequential_like``). Not serialised: whose
    conventions the spec follows (``framework``, lstmcalc.layers.frameworks: keras or pytorch),
    where its inputs have their batch axis (``batch_axis``: 0, or 1 for PyTorch's time-major
    layout), the built layers and ``graph`` (for the verifier and explain), and the ModelSpec it came
    from (``spec``; its located YAML in ``spec.raw``, for check's passes)."""

    def __init__(self, name: str, file: Optional[str], functional: bool = False,
                 batch_size: Optional[int] = None, inputs: Optional[List[InputReport]] = None,
                 layers: Optional[List[LayerReport]] = None, outputs: Optional[List[str]] = None,
                 diagnostics: Optional[List[Diagnostic]] = None, totals: Optional[Totals] = None,
                 operations: Optional[List[OperationReport]] = None, row_order: Optional[List[str]] = None,
                 sequential_like: bool = True, framework: str = "keras", batch_axis: int = 0,
                 graph: Any = None, spec: Any = None):
        self.name = name
        self.file = file
        self.functional = functional
        self.batch_size = batch_size
        self.inputs: List[InputReport] = [] if inputs is None else inputs
        self.layers: List[LayerReport] = [] if layers is None else layers
        self.outputs: List[str] = [] if outputs is None else outputs
        self.diagnostics: List[Diagnostic] = [] if diagnostics is None else diagnostics
        self.totals: Totals = compute_totals([]) if totals is None else totals
        self.operations: List[OperationReport] = [] if operations is None else operations
        self.row_order: List[str] = [] if row_order is None else row_order
        self.sequential_like = sequential_like
        self.framework = framework
        self.batch_axis = batch_axis
        self.graph = graph
        self.spec = spec
        self._index = NameIndex()  # for layer(name)

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
