"""Running the verifier: a NumPy forward pass over the engine's own layer objects that checks every shape
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

from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from ..diagnostics import ERROR, WARNING, make
from ..layers import frameworks
from ..layers.base import ARRAY_DTYPES, INPUT_TYPE, Layer, Problem, TensorSpec, numpy_module
from ..report import DTYPE_BYTES, Report
from ..shapes import Shape, format_shape, product
from ..spec.model import Reference
from ..spec.source import Location
from .arrays import ArrayContext, given_inputs, given_weights
from .result import LayerCheck, MemoryEstimate, TensorCheck, VerifyOptions, VerifyResult

if TYPE_CHECKING:
    from numpy import ndarray


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
        node = report.graph.nodes.get(reference.name)
        # A layer with a primary output (a PyTorch RNN's `output`) keys it by its name alone.
        primary = node.layer.primary_output if node is not None and node.layer is not None else None
        if reference.index is not None:
            index = reference.index % max(count, 1)
            names.append((reference.name if index == primary else f"{reference.name}[{index}]", reference.name, index))
        elif count == 1:
            names.append((reference.name, reference.name, 0))
        else:
            names.extend((reference.name if index == primary else f"{reference.name}[{index}]", reference.name, index)
                         for index in range(count))
    return names


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
        self.weight_arrays: Dict[str, Dict[str, "ndarray"]] = {}  # by layer, shared by its calls

    # -- steps -----------------------------------------------------------------------------------

    def run(self) -> None:
        context = ArrayContext(self.report, self.options, self.result.diagnostics)
        weights = given_weights(context)
        inputs = given_inputs(context)
        if self.result.diagnostics:
            return
        stored = getattr(self.report.spec, "stored_weights", None)
        given_label = self.options.weights_path or (
            stored.label if stored is not None and self.options.weights is None else "given")
        self.result.weights_source = (given_label if weights is not None
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
        if self.options.keep_arrays:
            self.result.arrays = dict(self.arrays)

    # -- shapes before arrays --------------------------------------------------------------------

    def _input_shape(self, shape: Shape, given: Optional["ndarray"], batch_axis: int = 0) -> Shape:
        if given is not None:
            return tuple(int(dim) for dim in given.shape)
        return tuple((self.options.batch_size if axis == batch_axis else self.options.timesteps) if dim is None
                     else dim for axis, dim in enumerate(shape))

    def _propagate(self, inputs: Optional[Dict[str, "ndarray"]]) -> bool:
        """The shapes every tensor should have at this run's sizes, by the layers' own rules."""
        for item in self.report.inputs:
            shape = self._input_shape(item.shape, inputs.get(item.name) if inputs else None, item.batch_axis)
            self.expected[item.name] = [TensorSpec(shape, item.dtype, batch_axis=item.batch_axis)]
            source = self.options.input_path or "given" if inputs else "random"
            self.result.inputs.append(LayerCheck(item.name, INPUT_TYPE, [TensorCheck(
                item.name, item.shape, shape, propagated_masked=False)], source=source))
        first = self.report.inputs[0] if self.report.inputs else None
        self.result.batch_size = self.expected[first.name][0].shape[first.batch_axis] if first else None
        if inputs is None and any(None in item.shape[:item.batch_axis] + item.shape[item.batch_axis + 1:]
                                  for item in self.report.inputs):
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
            except Problem as problem:
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
                      + node.layer.computed_shapes_hint(),
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
        from ..quantities import readable_bytes

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
        """Uniform floats in [-1, 1), or integer ids below the smallest id range its consumers take
        (an Embedding's input_dim). When a consumer masks padding (Embedding mask_zero, Masking),
        the last third of the first sample's steps is padding, so that the masked path runs too.
        Returns the array and a description."""
        expected = [values for values in (layer.input_values() for layer in self._consumers(name))
                    if values is not None]
        integer = [values for values in expected if values.integer]
        padded = len(shape) >= 2 and shape[1] >= 3
        if dtype.startswith(("int", "uint")) or integer:
            high = min([values.below for values in integer if values.below is not None] or [10])
            low = 1 if any(values.padding == 0 for values in integer) and high > 1 else 0
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
        padding = [values.padding for values in expected if values.padding is not None]
        if padding and padded and len(shape) >= 3:
            array[0, shape[1] - shape[1] // 3:] = padding[0]
            return array, (f"random floats in [-1, 1); sample 0 ends with {shape[1] // 3} padding steps "
                           f"({padding[0]})")
        return array, "random floats in [-1, 1)"

    def _weights_of(self, name: str, given: Optional[Dict[str, "ndarray"]], rng) -> Dict[str, "ndarray"]:
        np = numpy_module()
        arrays = {}
        framework = frameworks.framework(self.report.framework)
        for weight in self.report.layer(name).weights:
            dtype = ARRAY_DTYPES.get(weight.dtype, "float32")
            if given is not None:
                arrays[weight.name] = np.asarray(given[framework.weight_key(name, weight.name)]).astype(dtype, copy=False)
            elif weight.initial == "positive":
                arrays[weight.name] = _uniform(rng, 0.5, 1.5, weight.shape, dtype)
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
        # A shared layer's later call uses the weights of its first call.
        owner = node.definition.shares if node.definition is not None and node.definition.shares else node.name
        if owner not in self.weight_arrays:
            self.weight_arrays[owner] = self._weights_of(owner, given, rng)
        weights = self.weight_arrays[owner]
        layer = node.layer
        try:
            # Random weights can overflow float32 (relu recurrences): inf and NaN are what the
            # frameworks compute too, and NumPy's RuntimeWarnings about them are no finding.
            with numpy_module().errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
                if len(arrays) > 1 and layer.maps_over_tensor_lists:
                    outputs, output_masks = [], []
                    for array, mask in zip(arrays, masks):
                        computed = layer.forward(weights, [array], [mask])
                        outputs += computed[0]
                        output_masks += computed[1]
                else:
                    outputs, output_masks = layer.forward(weights, arrays, masks, states)
        except Problem as problem:
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
    from ..engine import apply_layer

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


# Weights above this many values repeat a random block of this (prime) length: drawing every value
# took most of `check`'s time on models with large Embeddings or vocabulary-sized Dense layers
# (5 ns a value against 0.3 ns to copy one). A prime period never lines up with a weight's rows or
# gate blocks, so no two units, gates or rows of a layer see the same weights.
RANDOM_PERIOD = 65521


def _uniform(rng, low: float, high: float, shape, dtype: str) -> "ndarray":
    """Uniform values in [low, high), drawn directly in float32 when that is the weight's dtype
    (drawing float64 and casting costs twice as much); a large weight repeats a block of
    RANDOM_PERIOD values."""
    np = numpy_module()
    size = product(shape)
    if size > RANDOM_PERIOD:
        flat = np.empty(size, dtype)
        flat[:RANDOM_PERIOD] = _uniform(rng, low, high, (RANDOM_PERIOD,), dtype)
        filled = RANDOM_PERIOD
        while filled < size:  # doubling copies: memory speed, unlike np.resize's concatenation
            step = min(filled, size - filled)
            flat[filled:filled + step] = flat[:step]
            filled += step
        return flat.reshape(shape)
    if dtype != "float32":
        return rng.uniform(low, high, size=shape).astype(dtype)
    array = rng.random(size=shape, dtype=np.float32)
    array *= high - low
    array += low
    return array


def _itemsize(dtype: str) -> int:
    return DTYPE_BYTES.get(ARRAY_DTYPES.get(dtype, dtype), 4)
