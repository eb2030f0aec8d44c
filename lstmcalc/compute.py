"""Compute and memory figures of an analysed model: MACs, activation, parameter and training memory.

Everything here is derived from a Report (its layer records and the built layers in
``report.graph``); the formulas and their assumptions are documented in docs/compute.md.
An unknown length (None) is kept as a separate "per step" part rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from .layers.base import Layer, TensorSpec, Weight
from .layers.figures import Amount, MacCount, repeated
from .report import DTYPE_BYTES, LayerReport, NameIndex, Report
from .shapes import Shape

ADAM_MOMENTS = 2  # Adam keeps m and v, one value each per trainable parameter


def dtype_bytes(dtype: str) -> int:
    return DTYPE_BYTES.get(dtype, 4)


def elements(shape: Shape, batch_axis: Optional[int] = 0, batch_fold: Optional[int] = 1) -> Amount:
    """Values per sample of a tensor (the batch axis left out, times the items of it one sample
    holds; a tensor without one is one sample); an unknown axis counts per step."""
    known, unknown = 1, False
    for dim in (dim for axis, dim in enumerate(shape) if axis != batch_axis):
        if dim is None:
            unknown = True
        else:
            known *= dim
    if batch_axis is not None:
        unknown = unknown or batch_fold is None
        known *= batch_fold or 1
    return Amount(0, known) if unknown else Amount(known, 0)


def mac_amount(macs: MacCount) -> Amount:
    return repeated(macs.per_step.value, macs.steps)


@dataclass
class LayerFigures:
    """One built layer's figures; ``macs`` is None where lstmcalc has no MAC rule for the type."""

    name: str
    type: str
    macs: Optional[MacCount]
    activation_bytes: Amount  # its outputs, for the whole batch
    kept_bytes: Amount        # what it keeps for the backward pass, for the whole batch
    param_bytes: int

    @property
    def mac_amount(self) -> Optional[Amount]:
        return None if self.macs is None else mac_amount(self.macs)

    def to_dict(self) -> Dict[str, Any]:
        macs = None
        if self.macs is not None:
            macs = {"per_step": self.macs.per_step.value, "steps": self.macs.steps, "unit": self.macs.unit,
                    "total": self.macs.total, "formula": self.macs.per_step.text()}
        return {"macs": macs, "activation_bytes": self.activation_bytes.to_dict(),
                "kept_for_backprop_bytes": self.kept_bytes.to_dict(), "param_bytes": self.param_bytes}


@dataclass
class ComputeFigures:
    """Per-layer figures and totals for one model at one batch size."""

    batch_size: int
    batch_given: bool
    layers: List[LayerFigures] = field(default_factory=list)
    macs: Amount = Amount()                 # per sample, over the layers with a MAC rule
    uncounted: List[str] = field(default_factory=list)  # layers whose type has no MAC rule
    activation_bytes: Amount = Amount()
    input_bytes: Amount = Amount()
    param_bytes: int = 0
    gradient_bytes: int = 0
    optimizer_bytes: int = 0
    kept_bytes: Amount = Amount()           # layer outputs, model inputs, recurrent internals

    _index: NameIndex = field(default_factory=NameIndex, repr=False, compare=False)  # for layer(name)

    def layer(self, name: str) -> Optional[LayerFigures]:
        """The figures of the layer called ``name`` (indexed: constant time)."""
        return self._index.get(self.layers, name)

    @property
    def training_bytes(self) -> Amount:
        fixed = self.param_bytes + self.gradient_bytes + self.optimizer_bytes
        return Amount(fixed) + self.kept_bytes

    @property
    def unknown_length(self) -> bool:
        return not (self.macs.known and self.activation_bytes.known and self.kept_bytes.known)

    def assumptions(self) -> List[str]:
        """What the figures depend on, in the words the renderers print."""
        notes = []
        if not self.batch_given:
            notes.append("no batch size given: memory is for a batch of 1 (set batch_size: in the spec "
                         "or --batch-size)")
        if self.unknown_length:
            notes.append("the sequence length is unknown: figures marked 'per step' grow with each "
                         "step of it (give the input a fixed length, e.g. input: [50, 10])")
        if self.uncounted:
            notes.append("MACs not counted for " + ", ".join(self.uncounted)
                         + " (no MAC rule for their type yet)")
        notes.append("MACs count products with a weight (matrix products, convolutions) per sample; "
                     "biases, activations and element-wise gate products are not counted")
        notes.append("training estimate = parameters + gradients + Adam's two moments (each in the "
                     "weights' dtype) + activations kept for backpropagation (every layer's output, "
                     "the model inputs and, per recurrent step, the gate activations and states); "
                     "frameworks may keep more (workspaces) or less (recomputation)")
        return notes

    def to_dict(self) -> Dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "batch_size_given": self.batch_given,
            "macs_per_sample": self.macs.to_dict(),
            "macs_not_counted": list(self.uncounted),
            "activation_bytes": self.activation_bytes.to_dict(),
            "param_bytes": self.param_bytes,
            "training_bytes": {
                "total": self.training_bytes.to_dict(),
                "params": self.param_bytes,
                "gradients": self.gradient_bytes,
                "optimizer": self.optimizer_bytes,
                "kept_for_backprop": self.kept_bytes.to_dict(),
            },
            "assumptions": self.assumptions(),
        }


def input_tensors(report: Report, layer: LayerReport) -> List[TensorSpec]:
    """The tensors a layer received, rebuilt from its producers' records (``name[i]`` references)."""
    tensors = []
    for reference in layer.inputs:
        name, _, index = reference.rpartition("[")  # `encoder[1][0]`: a shared layer's later call
        position = int(index.rstrip("]") or 0)
        producer = report.layer(name)
        if producer is not None and producer.output_shapes is not None:
            axes = producer.output_batch_axes or [0] * len(producer.output_shapes)
            folds = producer.output_batch_folds or [1] * len(producer.output_shapes)
            tensors.append(TensorSpec(producer.output_shapes[position], producer.output_dtypes[position],
                                      producer.output_masks[position], batch_axis=axes[position],
                                      batch_fold=folds[position]))
            continue
        for item in report.inputs:
            if item.name == name:
                tensors.append(TensorSpec(item.shape, item.dtype, batch_axis=item.batch_axis))
    return tensors


def _weight_bytes(weights: Sequence[Weight]) -> int:
    return sum(weight.size * dtype_bytes(weight.dtype) for weight in weights)


def built_layer(report: Report, name: str) -> Optional[Layer]:
    graph = report.graph
    node = graph.nodes.get(name) if graph is not None else None
    return node.layer if node is not None else None


def _batch(report: Report) -> Optional[int]:
    for item in report.inputs:
        if item.shape and item.shape[item.batch_axis] is not None:
            return item.shape[item.batch_axis]
    return report.batch_size


def layer_figures(report: Report, record: LayerReport, batch: int) -> Optional[LayerFigures]:
    layer = built_layer(report, record.name)
    if layer is None or record.status != "ok" or record.output_shapes is None:
        return None
    inputs = input_tensors(report, record)
    axes = record.output_batch_axes or [0] * len(record.output_shapes)
    folds = record.output_batch_folds or [1] * len(record.output_shapes)
    outputs = [TensorSpec(shape, dtype, masked, batch_axis=axis, batch_fold=fold) for shape, dtype, masked, axis, fold
               in zip(record.output_shapes, record.output_dtypes, record.output_masks, axes, folds)]
    if len(inputs) > 1 and layer.maps_over_tensor_lists:
        # Dropout or Activation applied to each tensor of a list: no products with a weight.
        macs = layer.macs(inputs[:1], outputs[:1])
    else:
        macs = layer.macs(inputs, outputs)
    if macs is not None and inputs and inputs[0].batch_axis is not None:
        # A layer counts per item of its input's batch axis; one sample may be several (a fold).
        macs = macs.folded(inputs[0].batch_fold)
    produced = Amount()
    for tensor in outputs:
        produced = produced + elements(tensor.shape, tensor.batch_axis, tensor.batch_fold).times(
            dtype_bytes(tensor.dtype))
    internals = layer.kept_for_backprop(inputs).times(dtype_bytes(layer.compute_dtype))
    return LayerFigures(record.name, record.type, macs, produced.times(batch),
                        (produced + internals).times(batch), _weight_bytes(record.weights))


def compute_figures(report: Report) -> ComputeFigures:
    """MACs per sample and memory for the report's batch size (1 when none is given)."""
    given = _batch(report)
    batch = given if given is not None else 1
    figures = ComputeFigures(batch_size=batch, batch_given=given is not None)
    for record in report.layers:
        item = layer_figures(report, record, batch)
        if item is None:
            continue
        figures.layers.append(item)
        if item.macs is None:
            figures.uncounted.append(record.name)
        else:
            figures.macs = figures.macs + mac_amount(item.macs)
        figures.activation_bytes = figures.activation_bytes + item.activation_bytes
        figures.kept_bytes = figures.kept_bytes + item.kept_bytes
    for item in report.inputs:
        figures.input_bytes = figures.input_bytes + elements(item.shape, item.batch_axis).times(
            dtype_bytes(item.dtype) * batch)
    figures.kept_bytes = figures.kept_bytes + figures.input_bytes
    weights = [weight for record in report.layers for weight in record.weights]
    trainable = [weight for weight in weights if weight.trainable]
    figures.param_bytes = _weight_bytes(weights)
    figures.gradient_bytes = _weight_bytes(trainable)
    figures.optimizer_bytes = ADAM_MOMENTS * _weight_bytes(trainable)
    return figures
