"""The verifier: a NumPy forward pass over the engine's own layer objects that checks every shape
the engine propagated — and, given real weights, computes Keras's numbers.

    report = lstmcalc.analyze("specs/cnn_lstm.yaml")
    result = verify_report(report, VerifyOptions(batch_size=2, timesteps=7))
    result.ok, result.diagnostics, result.outputs["dense"]

Unknown dimensions of the inputs take ``batch_size`` (the batch axis) and ``timesteps`` (every other
unknown axis); with input arrays, their shapes decide. The shapes each layer should produce at
those sizes are propagated again by the layers' own rules, and compared with the arrays the
layers' ``forward`` computes; a difference is a bug in lstmcalc (V001).

Before any array is allocated, the memory of the whole pass is estimated from the shapes (weights,
every activation the pass keeps, the largest layer's temporary arrays); above ``max_memory`` the
verifier refuses (V002). NumPy is imported only inside the functions that compute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .diagnostics import ERROR, WARNING, Diagnostic, make
from .layers.base import ARRAY_DTYPES, Layer, ShapeProblem, TensorSpec, numpy_module
from .report import DTYPE_BYTES, Report
from .shapes import Shape, format_shape, product
from .spec.model import Reference
from .spec.source import Location
from .suggest import closest

if TYPE_CHECKING:
    from numpy import ndarray

DEFAULT_BATCH_SIZE = 2
DEFAULT_TIMESTEPS = 7
DEFAULT_MAX_MEMORY = 1 << 30
SCHEMA_ID = "lstmcalc.verify/1"

# Weights that must be positive (variances and standard deviations).
POSITIVE_WEIGHTS = ("moving_variance", "moving_stddev", "renorm_stddev")


@dataclass(frozen=True)
class VerifyOptions:
    """How to run the verifier. ``weights`` (``<layer>/<weight>`` → array) and ``inputs`` (input
    name → array) replace the random ones; ``weights_path``/``input_path`` load them from .npz
    (or .npy for a single input) files. ``initial_states`` gives RNN layers (by name) their
    initial states, as Keras's ``layer(x, initial_state=[...])``: h (and c for LSTM); for
    Bidirectional the forward then the backward states."""

    batch_size: int = DEFAULT_BATCH_SIZE
    timesteps: int = DEFAULT_TIMESTEPS
    seed: int = 0
    max_memory: int = DEFAULT_MAX_MEMORY
    weights_path: Optional[str] = None
    input_path: Optional[str] = None
    weights: Optional[Mapping[str, "ndarray"]] = None
    inputs: Optional[Mapping[str, "ndarray"]] = None
    initial_states: Optional[Mapping[str, Sequence["ndarray"]]] = None


@dataclass
class TensorCheck:
    """One tensor: the engine's shape (None = unknown), the shape expected at this run's sizes,
    and what the forward pass computed (None when it did not run)."""

    reference: str
    propagated: Shape
    expected: Optional[Shape] = None
    computed: Optional[Shape] = None
    propagated_masked: bool = False
    computed_masked: Optional[bool] = None
    # Keras itself computes another shape than it declares (Layer.computed_shapes); ``expected``
    # is then what Keras computes.
    keras_differs: bool = False

    @property
    def agrees(self) -> bool:
        if self.computed is None or self.expected is None:
            return False
        compatible = self.keras_differs or (len(self.propagated) == len(self.computed) and all(
            dim is None or dim == actual for dim, actual in zip(self.propagated, self.computed)))
        return compatible and self.computed == self.expected and self.computed_masked == self.propagated_masked

    def to_dict(self) -> Dict[str, Any]:
        return {"reference": self.reference, "propagated": list(self.propagated),
                "expected": None if self.expected is None else list(self.expected),
                "computed": None if self.computed is None else list(self.computed),
                "propagated_masked": self.propagated_masked, "computed_masked": self.computed_masked,
                "keras_differs": self.keras_differs, "agrees": self.agrees}


@dataclass
class LayerCheck:
    """One input or layer. ``status``: agrees, differs, failed (the forward pass raised),
    skipped (an earlier layer failed) or not-run (the pass was refused)."""

    name: str
    type: str
    tensors: List[TensorCheck] = field(default_factory=list)
    status: str = "not-run"
    source: str = ""  # for inputs: where the array came from

    def to_dict(self) -> Dict[str, Any]:
        entry = {"name": self.name, "type": self.type, "status": self.status,
                 "tensors": [tensor.to_dict() for tensor in self.tensors]}
        if self.source:
            entry["source"] = self.source
        return entry


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes the forward pass allocates: weights, the activations it keeps (every input, output and
    mask), and the largest temporary arrays of one layer."""

    weights: int = 0
    activations: int = 0
    scratch: int = 0

    @property
    def total(self) -> int:
        return self.weights + self.activations + self.scratch

    def to_dict(self) -> Dict[str, int]:
        return {"weights": self.weights, "activations": self.activations, "scratch": self.scratch,
                "total": self.total}


@dataclass
class VerifyResult:
    """What the verifier found. ``diagnostics`` holds only the verifier's own findings (V codes)."""

    report: Report
    options: VerifyOptions
    ran: bool = False
    batch_size: Optional[int] = None
    timesteps: Optional[int] = None
    weights_source: str = ""
    inputs: List[LayerCheck] = field(default_factory=list)
    layers: List[LayerCheck] = field(default_factory=list)
    memory: MemoryEstimate = MemoryEstimate()
    outputs: Dict[str, "ndarray"] = field(default_factory=dict)
    output_path: Optional[str] = None  # set by save_outputs
    diagnostics: List[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The pass ran, every tensor agrees, and nothing is an error."""
        return (self.ran and self.report.ok and all(tensor.agrees for tensor in self.tensors)
                and not any(d.severity == ERROR for d in self.diagnostics))

    @property
    def tensors(self) -> List[TensorCheck]:
        return [tensor for check in self.inputs + self.layers for tensor in check.tensors]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "schema": SCHEMA_ID,
            "ok": self.ok,
            "ran": self.ran,
            "name": self.report.name,
            "file": self.report.file,
            "batch_size": self.batch_size,
            "timesteps": self.timesteps,
            "seed": self.options.seed,
            "weights": self.weights_source,
            "memory": dict(self.memory.to_dict(), max_memory=self.options.max_memory),
            "inputs": [check.to_dict() for check in self.inputs],
            "layers": [check.to_dict() for check in self.layers],
            "outputs": {name: list(array.shape) for name, array in self.outputs.items()},
            "output_file": self.output_path,
            "diagnostics": [diagnostic.to_dict() for diagnostic in self.diagnostics],
            "model_diagnostics": [diagnostic.to_dict() for diagnostic in self.report.diagnostics],
        }


def verify_report(report: Report, options: VerifyOptions = VerifyOptions()) -> VerifyResult:
    """Run the forward pass over an analysed, valid model; see the module docstring."""
    result = VerifyResult(report, options)
    if not report.ok or report.graph is None:
        return result  # the report's own diagnostics say why
    Verification(report, options, result).run()
    return result


def output_names(report: Report) -> List[Tuple[str, str, int]]:
    """(key, node name, output index) for every model output: the layer's name when it has one
    output, ``name[i]`` for each output of a multi-output layer or an explicit ``name[i]``."""
    names = []
    for reference in report.graph.outputs:
        layer = report.layer(reference.name)
        count = len(layer.output_shapes or []) if layer is not None else 1
        if reference.index is not None:
            names.append((str(reference), reference.name, reference.index % max(count, 1)))
        elif count == 1:
            names.append((reference.name, reference.name, 0))
        else:
            names.extend((f"{reference.name}[{index}]", reference.name, index) for index in range(count))
    return names


def save_outputs(result: VerifyResult, path: str) -> None:
    """Write the model's outputs to a .npz keyed as ``output_names`` (raises OSError)."""
    np = numpy_module()
    with open(path, "wb") as handle:
        np.savez(handle, **result.outputs)
    result.output_path = path


class Verification:
    """One run: prepare the arrays' shapes, estimate memory, then compute layer by layer."""

    def __init__(self, report: Report, options: VerifyOptions, result: VerifyResult):
        self.report = report
        self.graph = report.graph
        self.options = options
        self.result = result
        self.expected: Dict[str, List[TensorSpec]] = {}
        self.arrays: Dict[str, List["ndarray"]] = {}
        self.masks: Dict[str, List[Optional["ndarray"]]] = {}
        self.checks: Dict[str, LayerCheck] = {}
        # Layers whose Keras shapes differ from the declared ones, and everything after them.
        self.diverged: set = set()

    # -- steps -----------------------------------------------------------------------------------

    def run(self) -> None:
        weights = self._given_weights()
        inputs = self._given_inputs()
        if self.result.diagnostics:
            return
        self.result.weights_source = (self.options.weights_path or "given" if weights is not None
                                      else f"random (seed {self.options.seed})")
        if not self._propagate(inputs):
            return
        self.result.memory = self._memory()
        if self.result.memory.total > self.options.max_memory:
            self._refuse()
            return
        self.result.ran = True
        rng = numpy_module().random.default_rng(self.options.seed)
        self._fill_inputs(inputs, rng)
        for node in self._layer_nodes():
            self._compute(node, weights, rng)
        self._collect_outputs()

    # -- given arrays ------------------------------------------------------------------------------

    def _given_weights(self) -> Optional[Dict[str, "ndarray"]]:
        path = self.options.weights_path
        given = self.options.weights
        if given is None and path is None:
            return None
        if given is None:
            given = self._load(path, "V003", "weights")
            if given is None:
                return None
            if not isinstance(given, dict):
                self._problem("V003", f"{path} holds one array; the weights are several, named.",
                              "Save them with numpy.savez('weights.npz', **weights), keyed <layer>/<weight> "
                              "(see the README's export recipe).", location=Location(path, None, None))
                return None
        given = {key: numpy_module().asarray(value) for key, value in given.items()}
        expected = {f"{layer.name}/{weight.name}": (layer, weight) for layer in self.report.layers
                    for weight in layer.weights}
        where = Location(path, None, None) if path else None
        missing = [key for key in expected if key not in given]
        extra = [key for key in given if key not in expected]
        if missing:
            shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
            self._problem("V003", f"The weights{_in(path)} lack {len(missing)} of the model's "
                                  f"{len(expected)} weight(s): {shown}.",
                          "Keys are `<layer>/<weight>`, e.g. `lstm/kernel` (Bidirectional: "
                          "`<layer>/forward/<weight>`); see `lstmcalc summary --format json` for the "
                          "names, and the README for exporting them from Keras.", location=where)
        if extra:
            suggestion = closest(extra[0], list(expected))
            self._problem("V003", f"The weights{_in(path)} have {len(extra)} key(s) the model does not: "
                                  + ", ".join(extra[:6]) + ".",
                          (f"Did you mean `{suggestion}` for `{extra[0]}`? " if suggestion else "")
                          + "The weights must come from a model with the same layers and names.",
                          location=where)
        for key, (layer, weight) in expected.items():
            if key in given and tuple(given[key].shape) != tuple(weight.shape):
                self._problem("V003", f"`{key}` has shape {format_shape(given[key].shape)}{_in(path)}; "
                                      f"{layer.name} ({layer.type}) needs {format_shape(weight.shape)}.",
                              "Export the weights from a model built with the same spec (same units, "
                              "input features and layer types).", layer=layer.name, location=where)
        if self.result.diagnostics:
            return None
        return dict(given)

    def _given_inputs(self) -> Optional[Dict[str, "ndarray"]]:
        path = self.options.input_path
        given = self.options.inputs
        if given is None and path is None:
            return None
        names = [item.name for item in self.report.inputs]
        where = Location(path, None, None) if path else None
        if given is None:
            loaded = self._load(path, "V004", "input")
            if loaded is None:
                return None
            if not isinstance(loaded, dict):
                if len(names) != 1:
                    self._problem("V004", f"{path} holds one array, but the model has {len(names)} inputs "
                                          f"({', '.join(names)}).",
                                  "Save the inputs in a .npz keyed by input name: "
                                  "np.savez('x.npz', " + ", ".join(f"{n}=..." for n in names) + ").",
                                  location=where)
                    return None
                loaded = {names[0]: loaded}
            elif len(names) == 1 and list(loaded) == ["arr_0"]:
                loaded = {names[0]: loaded["arr_0"]}  # np.savez('x.npz', x) keys it arr_0
            given = loaded
        given = {key: numpy_module().asarray(value) for key, value in given.items()}
        missing = [name for name in names if name not in given]
        extra = [key for key in given if key not in names]
        if missing or extra:
            self._problem("V004", f"The input arrays{_in(path)} are keyed {sorted(given)}; the model's inputs "
                                  f"are {names}, so the keys must be {names}.",
                          "Key each array by its input's name: np.savez('x.npz', "
                          + ", ".join(f"{name}=..." for name in names) + ")"
                          + (", or save the one array unnamed: np.savez('x.npz', x)." if len(names) == 1 else "."),
                          location=where)
            return None
        batches = set()
        for item in self.report.inputs:
            array = given[item.name]
            fits = array.ndim == len(item.shape) and all(
                dim is None or dim == actual for dim, actual in zip(item.shape, array.shape))
            if not fits:
                if array.ndim != len(item.shape):
                    hint = f"Give an array of rank {len(item.shape)}, batch axis first."
                else:
                    axis = next(axis for axis, (dim, actual) in enumerate(zip(item.shape, array.shape))
                                if dim is not None and dim != actual)
                    hint = (f"Axis {axis} has length {array.shape[axis]}, the model fixes it to {item.shape[axis]}: "
                            "give arrays of that length (or make the spec's length null).")
                self._problem("V004", f"Input `{item.name}` has shape {format_shape(array.shape)}{_in(path)}; "
                                      f"the model takes {format_shape(item.shape)} (None: any size).",
                              hint, location=where)
            batches.add(array.shape[0] if array.ndim else None)
        if len(batches) > 1:
            self._problem("V004", f"The input arrays have different batch sizes: {sorted(batches)}.",
                          "Give every input the same number of samples.", location=where)
        return None if self.result.diagnostics else dict(given)

    def _load(self, path: str, code: str, what: str):
        np = numpy_module()
        from .spec.files import array_file_problem

        problem = array_file_problem(path)
        if problem is not None:
            self._problem(code, f"Cannot read the {what} file {path}: {problem}",
                          "Save the arrays with numpy.save (.npy) or numpy.savez (.npz).",
                          location=Location(path, None, None))
            return None
        try:
            loaded = np.load(path, allow_pickle=False)
            if hasattr(loaded, "files"):
                with loaded:
                    return {key: loaded[key] for key in loaded.files}
            return loaded
        except (OSError, ValueError, EOFError) as error:
            self._problem(code, f"Cannot read the {what} file {path}: {error}",
                          "Save the arrays with numpy.save (.npy) or numpy.savez (.npz), without Python "
                          "objects.", location=Location(path, None, None))
        except Exception as error:  # zipfile.BadZipFile and friends: the file is not what it claims
            self._problem(code, f"Cannot read the {what} file {path}: {type(error).__name__}: {error}",
                          "Save the arrays with numpy.save (.npy) or numpy.savez (.npz).",
                          location=Location(path, None, None))
        return None

    # -- shapes before arrays --------------------------------------------------------------------

    def _input_shape(self, shape: Shape, given: Optional["ndarray"]) -> Shape:
        if given is not None:
            return tuple(int(dim) for dim in given.shape)
        batch = self.options.batch_size if shape[0] is None else shape[0]
        return (batch,) + tuple(self.options.timesteps if dim is None else dim for dim in shape[1:])

    def _propagate(self, inputs: Optional[Dict[str, "ndarray"]]) -> bool:
        """The shapes every tensor should have at this run's sizes, by the layers' own rules."""
        for item in self.report.inputs:
            shape = self._input_shape(item.shape, inputs.get(item.name) if inputs else None)
            self.expected[item.name] = [TensorSpec(shape, item.dtype)]
            source = self.options.input_path or "given" if inputs else "random"
            self.result.inputs.append(LayerCheck(item.name, "InputLayer", [TensorCheck(
                item.name, item.shape, shape, propagated_masked=False)], source=source))
        first = self.report.inputs[0].name if self.report.inputs else None
        self.result.batch_size = self.expected[first][0].shape[0] if first else None
        if inputs is None and any(None in item.shape[1:] for item in self.report.inputs):
            self.result.timesteps = self.options.timesteps
        for node in self._layer_nodes():
            name = node.name
            layer_report = self.report.layer(name)
            check = LayerCheck(name, layer_report.type)
            self.checks[name] = check
            self.result.layers.append(check)
            specs = self._resolve(self.expected, node.inputs)
            try:
                outputs = expected_outputs(node, specs)
            except ShapeProblem as problem:
                sizes = self._sizes_text()
                received = ", ".join(format_shape(spec.shape) for spec in specs)
                if inputs is None:
                    # lstmcalc chose these sizes; the model is not wrong, the sizes do not fit it.
                    self._problem("V007", f"At {sizes}, {name} ({layer_report.type}) rejects its input "
                                          f"{received}, so the forward pass did not run: {problem.message}",
                                  "Pick sizes that fit the model: --timesteps (lstmcalc verify), or give the "
                                  "input a fixed length.", layer=name, node=node)
                else:
                    self._problem("V004", f"At {sizes}, {name} ({layer_report.type}) rejects its input "
                                          f"{received}: {problem.message}",
                                  "Give input arrays of sizes the model accepts." , layer=name, node=node)
                return False
            self.expected[name] = outputs
            computed = node.layer.computed_shapes(specs) if len(specs) == 1 else None
            for index, (shape, masked) in enumerate(zip(layer_report.output_shapes, layer_report.output_masks)):
                concrete = outputs[index].shape if index < len(outputs) else None
                check.tensors.append(TensorCheck(f"{name}[{index}]", shape, concrete, propagated_masked=masked))
            if computed is not None:
                self._keras_differs(node, check, computed)
        return True

    def _keras_differs(self, node, check: LayerCheck, computed: List[Shape]) -> None:
        """Expect what Keras computes, and say that it is not what Keras (and lstmcalc) declare."""
        self.diverged.add(node.name)
        for index, shape in enumerate(computed):
            if index >= len(check.tensors):
                check.tensors.append(TensorCheck(f"{node.name}[{index}]", ()))
            check.tensors[index].expected = tuple(shape)
            check.tensors[index].keras_differs = True
        del check.tensors[len(computed):]
        declared = ", ".join(format_shape(tensor.propagated) for tensor in check.tensors if tensor.propagated)
        self._problem("V006", f"{node.name} ({check.type}): Keras declares {declared} — what model.summary() "
                              f"shows, and lstmcalc with it — but computes "
                              f"{', '.join(format_shape(shape) for shape in computed)} at {self._sizes_text()} "
                              "when the model runs.",
                      "Layers after it receive the computed shape, and Keras fails there when the model "
                      "runs; the verifier does not run them. "
                      + ("A 'glu' activation halves the last axis: use another activation, or twice the units."
                         if node.layer.config.get("activation") == "glu"
                         else "Give backward_layer the same type and units as layer."),
                      layer=node.name, node=node,
                      severity=ERROR if self.graph.consumers(node.name) else WARNING)

    def _sizes_text(self) -> str:
        if self.result.timesteps is None:
            return f"batch {self.result.batch_size}"
        return f"batch {self.result.batch_size} and {self.result.timesteps} time steps"

    def _memory(self) -> MemoryEstimate:
        weights = sum(product(weight.shape) * _itemsize(weight.dtype)  # type: ignore[arg-type]
                      for layer in self.report.layers for weight in layer.weights)
        activations = 0
        for name, specs in self.expected.items():
            for spec in specs:
                activations += product(spec.shape) * _itemsize(spec.dtype)  # type: ignore[arg-type]
                if spec.masked:
                    activations += product(spec.shape[:2])  # a boolean mask (batch, time)
        scratch = 0
        for node in self._layer_nodes():
            specs = self._resolve(self.expected, node.inputs)
            scratch = max(scratch, node.layer.forward_scratch(specs) * _itemsize(node.layer.array_dtype))
        return MemoryEstimate(weights, activations, scratch)

    def _input_location(self) -> Location:
        """Where the sizes come from: the (first) input of the spec."""
        first = self.report.inputs[0] if self.report.inputs else None
        return Location(self.report.file, first.line if first else None, first.column if first else None)

    def _refuse(self) -> None:
        from .render.text import readable_bytes

        memory = self.result.memory
        self._problem(
            "V002", f"Not verified: the forward pass would need about {readable_bytes(memory.total)} "
                    f"(weights {readable_bytes(memory.weights)}, activations {readable_bytes(memory.activations)}, "
                    f"temporary arrays {readable_bytes(memory.scratch)}) at {self._sizes_text()}; "
                    f"--max-memory is {readable_bytes(self.options.max_memory)}.",
            "Verify with a smaller --batch-size or --timesteps (the shapes are checked just as well), or "
            "raise --max-memory.", location=self._input_location())
        for check in self.result.layers:
            check.status = "not-run"

    # -- arrays ----------------------------------------------------------------------------------

    def _fill_inputs(self, given: Optional[Dict[str, "ndarray"]], rng) -> None:
        np = numpy_module()
        for item, check in zip(self.report.inputs, self.result.inputs):
            shape = self.expected[item.name][0].shape
            if given is not None:
                array = np.asarray(given[item.name]).astype(ARRAY_DTYPES.get(item.dtype, item.dtype), copy=False)
            else:
                array, check.source = self._random_input(item.name, shape, item.dtype, rng)
            self.arrays[item.name] = [array]
            self.masks[item.name] = [None]
            check.tensors[0].computed = tuple(array.shape)
            check.tensors[0].computed_masked = False
            check.status = "agrees" if check.tensors[0].agrees else "differs"

    def _layer_nodes(self):
        """The model's layer nodes in order; layers outside the outputs are not part of Keras's model."""
        for name in self.graph.order:
            node = self.graph.nodes[name]
            if not node.is_input and name in self.graph.in_model:
                yield node

    def _consumers(self, name: str) -> List[Layer]:
        return [node.layer for node in self.graph.nodes.values()
                if node.layer is not None and any(ref.name == name for ref in node.inputs)]

    def _random_input(self, name: str, shape: Shape, dtype: str, rng) -> Tuple["ndarray", str]:
        """Uniform floats in [-1, 1), or integers below the smallest Embedding input_dim. When a
        consumer masks (Embedding mask_zero, Masking), the last third of the first sample's steps is
        padding, so that the masked path runs too. Returns the array and a description."""
        consumers = self._consumers(name)
        embeddings = [layer for layer in consumers if layer.keras_class == "Embedding"]
        padded = len(shape) >= 2 and shape[1] >= 3
        if dtype.startswith(("int", "uint")) or embeddings:
            high = min([layer["input_dim"] for layer in embeddings] or [10])
            low = 1 if any(layer["mask_zero"] for layer in embeddings) and high > 1 else 0
            array = rng.integers(low, high, size=shape).astype(dtype if dtype.startswith(("int", "uint"))
                                                                else "int32")
            text = f"random integers in [{low}, {high})"
            if low and padded:
                array[0, shape[1] - shape[1] // 3:] = 0
                return array, text + f"; sample 0 ends with {shape[1] // 3} padding steps (0)"
            return array, text
        if dtype == "bool":
            return rng.random(shape) < 0.5, "random booleans"
        array = rng.uniform(-1, 1, size=shape).astype(ARRAY_DTYPES.get(dtype, "float32"))
        maskings = [layer for layer in consumers if layer.keras_class == "Masking"]
        if maskings and padded and len(shape) >= 3:
            array[0, shape[1] - shape[1] // 3:] = maskings[0]["mask_value"]
            return array, (f"random floats in [-1, 1); sample 0 ends with {shape[1] // 3} padding steps "
                           f"({maskings[0]['mask_value']})")
        return array, "random floats in [-1, 1)"

    def _weights_of(self, name: str, given: Optional[Dict[str, "ndarray"]], rng) -> Dict[str, "ndarray"]:
        np = numpy_module()
        arrays = {}
        for weight in self.report.layer(name).weights:
            dtype = ARRAY_DTYPES.get(weight.dtype, "float32")
            if given is not None:
                arrays[weight.name] = np.asarray(given[f"{name}/{weight.name}"]).astype(dtype, copy=False)
            elif weight.name.split("/")[-1] in POSITIVE_WEIGHTS:
                arrays[weight.name] = rng.uniform(0.5, 1.5, size=weight.shape).astype(dtype)
            else:
                # Glorot-like scale keeps activations away from saturation.
                fan_in = product(weight.shape[:-1]) if len(weight.shape) > 1 else 4  # type: ignore[arg-type]
                limit = (3.0 / max(fan_in, 1)) ** 0.5
                arrays[weight.name] = _uniform(rng, -limit, limit, weight.shape, dtype)
        return arrays

    def _compute(self, node, given: Optional[Dict[str, "ndarray"]], rng) -> None:
        check = self.checks[node.name]
        references = list(node.inputs) + list(node.initial_state)
        if any(ref.name in self.diverged for ref in references):
            self.diverged.add(node.name)  # it would receive shapes its weights were not made for
            check.status = "skipped"
            return
        if any(ref.name not in self.arrays for ref in references):
            check.status = "skipped"
            return
        arrays = self._resolve(self.arrays, node.inputs)
        masks = self._resolve(self.masks, node.inputs)
        states = self._resolve(self.arrays, node.initial_state) or None
        if states is None and self.options.initial_states and node.name in self.options.initial_states:
            states = list(self.options.initial_states[node.name])
        weights = self._weights_of(node.name, given, rng)
        layer = node.layer
        try:
            if len(arrays) > 1 and layer.maps_over_tensor_lists:
                outputs, output_masks = [], []
                for array, mask in zip(arrays, masks):
                    computed = layer.forward(weights, [array], [mask])
                    outputs += computed[0]
                    output_masks += computed[1]
            else:
                outputs, output_masks = layer.forward(weights, arrays, masks, states)
        except ShapeProblem as problem:
            check.status = "failed"
            self._problem(problem.code, f"{node.name} ({layer.keras_class}): {problem.message}", problem.hint,
                          layer=node.name, node=node)
            return
        except Exception as error:  # a crash in a forward pass is a bug of ours, never a traceback
            check.status = "failed"
            self._problem("V001", f"The NumPy forward pass of {node.name} ({layer.keras_class}) failed on inputs "
                                  f"{', '.join(format_shape(a.shape) for a in arrays)}: "
                                  f"{type(error).__name__}: {error}. This is a bug in lstmcalc.",
                          _REPORT_HINT, layer=node.name, node=node)
            return
        self.arrays[node.name] = outputs
        self.masks[node.name] = output_masks
        self._compare(node, check, outputs, output_masks)

    def _compare(self, node, check: LayerCheck, outputs, output_masks) -> None:
        for index, array in enumerate(outputs):
            if index >= len(check.tensors):
                check.tensors.append(TensorCheck(f"{node.name}[{index}]", (), None))
            tensor = check.tensors[index]
            tensor.computed = tuple(int(dim) for dim in array.shape)
            tensor.computed_masked = output_masks[index] is not None
        differing = [tensor for tensor in check.tensors if not tensor.agrees]
        check.status = "differs" if differing or len(outputs) != len(check.tensors) else "agrees"
        if check.status == "differs":
            self.diverged.add(node.name)  # later layers' weights were made for the propagated shapes
        for tensor in differing:
            self._problem("V001", _disagreement(node.name, check.type, tensor, self._sizes_text()), _REPORT_HINT,
                          layer=node.name, node=node)
        if len(outputs) != len(check.tensors) and not differing:
            self._problem("V001", f"{node.name} ({check.type}): the engine propagated {len(check.tensors)} "
                                  f"output(s), the forward pass computed {len(outputs)}. This is a bug in "
                                  "lstmcalc.", _REPORT_HINT, layer=node.name, node=node)

    def _collect_outputs(self) -> None:
        for key, name, index in output_names(self.report):
            if name in self.arrays and index < len(self.arrays[name]):
                self.result.outputs[key] = self.arrays[name][index]

    # -- small pieces ----------------------------------------------------------------------------

    @staticmethod
    def _resolve(produced: Dict[str, list], references: Sequence[Reference]) -> list:
        """What ``references`` pick from ``produced``, as the engine resolves them."""
        picked: list = []
        for reference in references:
            values = produced.get(reference.name, [])
            picked.extend(values if reference.index is None else [values[reference.index]])
        return picked

    def _problem(self, code: str, message: str, hint: str = "", *, layer: Optional[str] = None,
                 node=None, location: Optional[Location] = None, severity: Optional[str] = None) -> None:
        if location is None:
            if node is not None:
                location = node.location
            else:
                location = Location(self.report.file, None, None)
        self.result.diagnostics.append(make(code, message, hint, layer=layer, location=location,
                                            severity=severity))


_REPORT_HINT = ("Please report it with this spec at the lstmcalc issue tracker; until it is fixed, trust "
                "Keras's shapes over lstmcalc's for this layer.")


def expected_outputs(node, specs: List[TensorSpec]) -> List[TensorSpec]:
    """The node's outputs for concrete inputs, by the layer's shape rules as the engine applies
    them (initial states are checked by the engine; their shapes do not change the outputs)."""
    from .engine import apply_layer

    as_list = bool(node.definition is not None and node.definition.inputs_as_list)
    return apply_layer(node.layer, specs, (), as_list)[0]


def _disagreement(name: str, type_name: str, tensor: TensorCheck, sizes: str) -> str:
    if tensor.computed_masked != tensor.propagated_masked and tensor.computed == tensor.expected:
        says = "carries a mask" if tensor.propagated_masked else "carries no mask"
        did = "with" if tensor.computed_masked else "without"
        return (f"{name} ({type_name}): the engine says output {tensor.reference} {says}, but the forward "
                f"pass computed it {did} one. This is a bug in lstmcalc.")
    return (f"{name} ({type_name}): the engine propagated {format_shape(tensor.propagated)} for "
            f"{tensor.reference} — {format_shape(tensor.expected or ())} at {sizes} — but the NumPy "
            f"forward pass computed {format_shape(tensor.computed or ())}. This is a bug in lstmcalc.")


def _uniform(rng, low: float, high: float, shape, dtype: str) -> "ndarray":
    """Uniform values in [low, high) drawn directly in float32 when that is the weight's dtype:
    drawing float64 and casting took a third of `check`'s time on specs with large Embeddings."""
    if dtype != "float32":
        return rng.uniform(low, high, size=shape).astype(dtype)
    array = rng.random(size=shape, dtype=numpy_module().float32)
    array *= high - low
    array += low
    return array


def _itemsize(dtype: str) -> int:
    return DTYPE_BYTES.get(ARRAY_DTYPES.get(dtype, dtype), 4)


def _in(path: Optional[str]) -> str:
    return f" in {path}" if path else ""


_MEMORY_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([kmgt]?)(?:i?b)?$")


def parse_memory_size(text: str) -> int:
    """``1GiB``, ``512M``, ``2gb``, ``1000000`` → bytes; K, M, G and T are powers of 1024."""
    match = _MEMORY_SIZE.match(text.strip().lower().replace(" ", ""))
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a memory size")
    return int(float(match.group(1)) * 1024 ** ("_kmgt".index(match.group(2) or "_")))
