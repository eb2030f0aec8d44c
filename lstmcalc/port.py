"""`lstmcalc port`: a model's weights converted to the other framework's layout (Keras ⇄ PyTorch),
with the equivalent spec, proven by running both forward passes on the same random input.

Every fact comes from the layer classes: each layer's ``port_to`` (lstmcalc.layers.porting) says
which layers of the other framework compute the same function, converts its weights and names the
tensors that must agree. This module asks them in order, writes the spec, and runs lstmcalc's NumPy
forward pass of both models; it refuses (P003) when any tensor differs by more than the tolerance.

    result = port_report(report, PortOptions(target="pytorch", weights_path="keras.npz"))
    result.ok, result.spec_text(), result.weights, result.largest_difference
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

from .compute import built_layer, input_tensors
from .diagnostics import Diagnostic, Problem, make
from .layers.frameworks import DEFAULT, FRAMEWORKS
from .layers.porting import PortPlan
from .report import Report
from .spec.source import Location

if TYPE_CHECKING:
    from numpy import ndarray

SCHEMA_ID = "lstmcalc.port/1"
TOLERANCE = 1e-5
DEFAULT_BATCH_SIZE = 2


@dataclass(frozen=True)
class PortOptions:
    """``target``: keras or pytorch. The weights (``<layer>/<weight>`` for Keras, the state_dict's
    ``<layer>.<parameter>`` for PyTorch) from ``weights_path`` or ``weights``. ``merge_stacks``
    folds stacked recurrent layers into one module's num_layers. The proof runs on a random input of
    ``batch_size`` (the spec's when it has one) and ``timesteps`` for unknown lengths."""

    target: str
    weights_path: Optional[str] = None
    weights: Optional[Mapping[str, "ndarray"]] = None
    merge_stacks: bool = False
    batch_size: Optional[int] = None
    timesteps: int = 7
    seed: int = 0
    tolerance: float = TOLERANCE


@dataclass(frozen=True)
class Comparison:
    """One tensor of the source model against its counterpart in the written model."""

    source: str
    target: str
    shape: tuple
    largest_difference: float

    def to_dict(self) -> Dict[str, Any]:
        return {"source": self.source, "target": self.target, "shape": list(self.shape),
                "largest_difference": self.largest_difference}


@dataclass
class Ported:
    """One source layer and what it became."""

    source: str
    source_type: str
    targets: List[str]  # `name (Type)` of each written layer


@dataclass
class PortResult:
    report: Report
    options: PortOptions
    spec: Optional[Dict[str, Any]] = None
    target_report: Optional[Report] = None
    weights: Dict[str, "ndarray"] = field(default_factory=dict)
    layers: List[Ported] = field(default_factory=list)
    comparisons: List[Comparison] = field(default_factory=list)
    batch_size: Optional[int] = None
    timesteps: Optional[int] = None
    diagnostics: List[Diagnostic] = field(default_factory=list)
    output_path: Optional[str] = None  # set by save_weights
    spec_path: Optional[str] = None    # set by save_spec

    @property
    def largest_difference(self) -> Optional[float]:
        return max((item.largest_difference for item in self.comparisons), default=None)

    @property
    def ok(self) -> bool:
        """Written only when every compared tensor agrees and nothing went wrong."""
        return (self.spec is not None and bool(self.comparisons) and not any(d.is_error for d in self.diagnostics)
                and all(item.largest_difference <= self.options.tolerance for item in self.comparisons))

    def spec_text(self) -> str:
        """The written spec as YAML: one flow mapping per layer, as the examples in specs/ write them."""
        import yaml

        def flow(value: Any) -> str:
            text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 20)
            return text.replace("\n...\n", "").strip()  # a scalar's document end marker

        assert self.spec is not None
        source = FRAMEWORKS[self.report.framework].title
        lines = [f"# Written by `lstmcalc port` from {self.report.file or 'a spec'} ({source}); the two forward "
                 f"passes agree within {self.options.tolerance:g}."]
        for key, value in self.spec.items():
            if key == "layers":
                lines.append("layers:")
                lines += [f"  - {flow(entry)}" for entry in value]
            else:
                lines.append(f"{key}: {flow(value)}")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> Dict[str, Any]:
        return {"schema": SCHEMA_ID, "ok": self.ok, "source": self.report.file, "from": self.report.framework,
                "to": self.options.target, "tolerance": self.options.tolerance,
                "largest_difference": self.largest_difference, "batch_size": self.batch_size,
                "timesteps": self.timesteps, "seed": self.options.seed,
                "layers": [{"source": item.source, "type": item.source_type, "targets": item.targets}
                           for item in self.layers],
                "comparisons": [item.to_dict() for item in self.comparisons],
                "spec": self.spec, "weights": sorted(self.weights),
                "diagnostics": [item.to_dict() for item in self.diagnostics]}


def port_report(report: Report, options: PortOptions) -> PortResult:
    """Port an analysed model; see the module docstring. Raises ValueError when the target is the
    model's own framework."""
    if options.target == report.framework:
        raise ValueError(f"the spec already follows {FRAMEWORKS[report.framework].title}")
    result = PortResult(report, options)
    if not _portable(report, result):
        return result
    given = _source_weights(report, options, result)
    if given is None:
        return result
    plan = _plan(report, options, result)
    if plan is None:
        return result
    result.spec = _document(report, plan, options)
    _prove(result, plan, given)
    return result


def ported_spec(report: Report, target: str, merge_stacks: bool = False,
                batch_size: Optional[int] = None) -> PortResult:
    """The other framework's spec of an analysed model (``result.spec``, None with
    ``result.diagnostics`` when a layer has no equivalent), without weights or proof: what the
    layers' own port rules write (lstmcalc convert uses it)."""
    options = PortOptions(target=target, merge_stacks=merge_stacks, batch_size=batch_size)
    result = PortResult(report, options)
    if target == report.framework or not _portable(report, result):
        return result
    plan = _plan(report, options, result)
    if plan is not None:
        result.spec = _document(report, plan, options)
    return result


def _portable(report: Report, result: PortResult) -> bool:
    """A valid stack (or a graph that is one: each layer taking the one before): port converts
    nothing else."""
    if not report.ok or report.graph is None:
        result.diagnostics = list(report.errors)
        return False
    if (report.functional and not is_chain(report)) or len(report.inputs) != 1:
        result.diagnostics.append(make(
            "P002", "lstmcalc port converts stacks (`input:` and `layers:`); this spec is a graph.",
            "Port the stack of layers on their own.", location=Location(report.file, None, None)))
        return False
    return True


def _source_weights(report: Report, options: PortOptions, result: PortResult) -> Optional[Dict[str, "ndarray"]]:
    from .verify.arrays import ArrayContext, given_weights
    from .verify.result import VerifyOptions

    context = ArrayContext(report, VerifyOptions(weights_path=options.weights_path, weights=options.weights),
                           result.diagnostics)
    return given_weights(context)


def _plan(report: Report, options: PortOptions, result: PortResult) -> Optional[PortPlan]:
    """Ask every layer, in order, what it becomes."""
    plan = PortPlan(report.framework, options.target, options.merge_stacks)
    calls: Dict[str, int] = {}
    for record in report.layers:
        layer = built_layer(report, record.name)
        before = len(plan.counterparts)
        try:
            if record.status == "unused":
                raise Problem("P002", f"{record.name} ({record.type}) is never called by forward(): a "
                                      f"{FRAMEWORKS[options.target].title} model leaves out a layer it never calls, so "
                                      f"its {record.params:,} parameters would not be counted.",
                              "Remove it from the model (it is left over), or call it in forward().")
            if record.shares:
                layer = _called_again(report, layer, record, calls)
            layer.port_to(options.target, input_tensors(report, record), plan)
            for counterpart in plan.counterparts[before:]:
                if counterpart.source == layer.name:
                    counterpart.source = record.name  # a module called again: that call's tensors
        except Problem as problem:
            node = report.graph.nodes[record.name]
            result.diagnostics.append(make(problem.code, problem.message, problem.hint, layer=record.name,
                                           location=node.argument_location(problem.argument)))
            return None
        plan.advance()
        written = [f"{entry.name} ({entry.type})" for counterpart in plan.counterparts[before:]
                   for entry in counterpart.entries]
        result.layers.append(Ported(record.name, record.type, written))
    plan.finish()
    return plan


def is_chain(report: Report) -> bool:
    """A graph whose one input goes through its layers one after the other to its one output."""
    nodes = report.graph.nodes
    previous = report.inputs[0].name if len(report.inputs) == 1 else None
    for record in report.layers:
        node = nodes[record.name]
        if node.initial_state or [reference.name for reference in node.inputs] != [previous]:
            return False
        previous = record.name
    return [reference.name for reference in report.graph.outputs] == [previous]


def _called_again(report: Report, layer, record, calls: Dict[str, int]):
    """A module called a second time: a copy of its own under ``<name>_<k>`` when it has no weights
    (Dropout, an activation); one with weights would be one layer called twice, a graph."""
    from .layers.base import clone

    calls[record.shares] = calls.get(record.shares, 0) + 1
    first = report.layer(record.shares)
    if first is not None and first.weights:
        raise Problem("P002", f"{record.shares} ({record.type}) is called {calls[record.shares] + 1} times: its "
                              "weights would be one layer called twice, which lstmcalc port (stacks) does not write.",
                      "Give each call its own module.")
    return clone(layer, f"{record.shares}_{calls[record.shares]}")


def _document(report: Report, plan: PortPlan, options: PortOptions) -> Dict[str, Any]:
    target = FRAMEWORKS[options.target]
    document: Dict[str, Any] = {}
    if report.spec is not None and report.spec.name:
        document["name"] = report.spec.name
    if target.name != DEFAULT:
        document["framework"] = target.name
    item = report.inputs[0]
    if target.batch_required:
        document["batch_size"] = item.shape[item.batch_axis] or options.batch_size or DEFAULT_BATCH_SIZE
    shape = [dim for axis, dim in enumerate(item.shape) if axis != item.batch_axis]
    dtype = plan.input_dtype or item.dtype
    document["input"] = shape if dtype == "float32" else {"shape": shape, "dtype": dtype}
    document["layers"] = [entry.to_spec() for entry in plan.entries]
    return document


def _prove(result: PortResult, plan: PortPlan, given: Dict[str, "ndarray"]) -> None:
    """Convert the weights, run both forward passes on the same input, compare the linked tensors."""
    import yaml

    from .api import analyze_text
    from .layers.base import numpy_module
    from .verify import VerifyOptions, verify_report

    np = numpy_module()
    report, options = result.report, result.options
    source = FRAMEWORKS[report.framework]
    target = analyze_text(yaml.safe_dump(result.spec, sort_keys=False), file="<ported spec>")
    result.target_report = target
    if not target.ok:
        _internal(result, "the written spec does not analyse: " + "; ".join(d.message for d in target.errors))
        return
    for counterpart in plan.counterparts:
        record = report.layer(counterpart.source)
        own = {weight.name: given[source.weight_key(record.name, weight.name)] for weight in record.weights} \
            if record is not None else {}
        result.weights.update(counterpart.convert(own))
    framework = FRAMEWORKS[options.target]
    wanted = {framework.weight_key(layer.name, weight.name) for layer in target.layers for weight in layer.weights}
    if wanted != set(result.weights):
        _internal(result, f"the converted weights are keyed {sorted(set(result.weights) ^ wanted)} differently "
                          "from the written spec's")
        return
    item = report.inputs[0]
    batch = item.shape[item.batch_axis] or options.batch_size or DEFAULT_BATCH_SIZE
    run = VerifyOptions(batch_size=batch, timesteps=options.timesteps, seed=options.seed, weights=given,
                        keep_arrays=True)
    first = verify_report(report, run)
    if not first.ok:
        result.diagnostics += first.diagnostics
        return
    x = first.arrays[item.name][0]
    target_input = target.inputs[0]
    integer = target_input.dtype.startswith(("int", "uint"))
    x = np.moveaxis(x, item.batch_axis, target_input.batch_axis).astype(target_input.dtype if integer else x.dtype)
    second = verify_report(target, VerifyOptions(weights=result.weights, inputs={target_input.name: x},
                                                 keep_arrays=True))
    if not second.ok:
        _internal(result, "the written model's forward pass fails: " + "; ".join(d.message for d in second.diagnostics))
        return
    result.batch_size, result.timesteps = first.batch_size, first.timesteps
    for counterpart in plan.counterparts:
        for link in counterpart.links:
            theirs = _batch_first(first.arrays[counterpart.source][link.index],
                                  report.layer(counterpart.source).output_batch_axes[link.index])
            ours = second.arrays[link.target][link.target_index]
            if link.row is not None:
                ours = ours[link.row]
            else:
                ours = _batch_first(ours, target.layer(link.target).output_batch_axes[link.target_index])
            if link.axes is not None:
                ours = ours.transpose(link.axes)
            name = counterpart.source + (f"[{link.index}]" if link.index else "")
            there = link.target + (f"[{link.target_index}]" if link.target_index else "") + \
                (f" row {link.row}" if link.row is not None else "")
            difference = (float(np.max(np.abs(ours.astype("float64") - theirs), initial=0.0))
                          if ours.shape == theirs.shape else float("inf"))
            result.comparisons.append(Comparison(name, there, tuple(theirs.shape), difference))
    worst = max(result.comparisons, key=lambda item: item.largest_difference, default=None)
    if worst is None:
        _internal(result, "no tensor of the two models could be compared")
    elif worst.largest_difference > options.tolerance:
        result.diagnostics.append(make(
            "P003", f"The two forward passes differ: {worst.source} against {worst.target} by "
                    f"{worst.largest_difference:.3g} (more than {options.tolerance:g}); nothing is written.",
            "This is a bug in lstmcalc's conversion for that layer: please report it with the spec.",
            location=Location(report.file, None, None)))


def _batch_first(array: "ndarray", axis: Optional[int]) -> "ndarray":
    from .layers.base import numpy_module

    return array if axis in (None, 0) else numpy_module().moveaxis(array, axis, 0)


def _internal(result: PortResult, what: str) -> None:
    result.diagnostics.append(make("P003", f"lstmcalc could not prove the port: {what}; nothing is written.",
                                   "This is a bug in lstmcalc: please report it with the spec.",
                                   location=Location(result.report.file, None, None)))


def save_weights(result: PortResult, path: str) -> None:
    """The converted weights as numpy.savez writes them (raises OSError)."""
    from .layers.base import numpy_module

    with open(path, "wb") as handle:
        numpy_module().savez(handle, **result.weights)
    result.output_path = path


def save_spec(result: PortResult, path: str) -> None:
    """The written spec as YAML (raises OSError)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(result.spec_text())
    result.spec_path = path
