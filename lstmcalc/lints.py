"""Lints: models Keras builds that rarely do what was meant. Each lint is a small function in the
``LINTS`` registry with its code and a docstring holding a failing and a passing example (the
tests run both); docs/diagnostics.md documents them with the other codes.

A lint reads the Report (shapes, masks, statuses), its graph (``report.graph``: nodes with the
built layers, ``Graph.consumers``) and the spec; it returns Diagnostics and never prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional

from .diagnostics import Diagnostic, make
from .graph import Node
from .layers.base import TensorSpec
from .report import LayerReport, Report
from .shapes import format_shape

# unroll: true on more steps than this draws L004. Keras only says unrolling "is only suitable for
# short sequences"; the unrolled graph holds one copy of the step's ops and activations per step.
UNROLL_MAX_STEPS = 100


class LintContext:
    """What a lint may look at, with the walks most of them need."""

    def __init__(self, report: Report):
        self.report = report
        self.graph = report.graph

    def layer_nodes(self) -> List[Node]:
        """Built layer nodes in topological order."""
        return [self.graph.nodes[name] for name in self.graph.order
                if not self.graph.nodes[name].is_input and self.graph.nodes[name].layer is not None]

    def layer_report(self, name: str) -> Optional[LayerReport]:
        return self.report.layer(name)

    def ok(self, node: Node) -> bool:
        layer = self.layer_report(node.name)
        return layer is not None and layer.status == "ok"

    def produced(self, name: str) -> List[TensorSpec]:
        """The tensors a node produced (empty when it was not computed)."""
        for item in self.report.inputs:
            if item.name == name:
                return [TensorSpec(item.shape, item.dtype)]
        layer = self.layer_report(name)
        if layer is None or layer.output_shapes is None:
            return []
        masks = layer.output_masks or [False] * len(layer.output_shapes)
        return [TensorSpec(shape, dtype, mask) for shape, dtype, mask in
                zip(layer.output_shapes, layer.output_dtypes, masks)]

    def input_tensors(self, node: Node) -> List[TensorSpec]:
        tensors: List[TensorSpec] = []
        for reference in node.inputs:
            produced = self.produced(reference.name)
            if reference.index is None:
                tensors.extend(produced)
            elif -len(produced) <= reference.index < len(produced):
                tensors.append(produced[reference.index])
        return tensors

    def producer(self, node: Node) -> Optional[Node]:
        return self.graph.producer(node)

    def consumers(self, node: Node) -> List[Node]:
        """The nodes using this node's output, looking through pass-through layers."""
        found: List[Node] = []
        for name in self.graph.consumers(node.name):
            consumer = self.graph.nodes[name]
            if consumer.layer is not None and consumer.layer.keeps_shape:
                found.extend(self.consumers(consumer))
            else:
                found.append(consumer)
        return found

    def diagnostic(self, code: str, message: str, hint: str, node: Node,
                   argument: Optional[str] = None) -> Diagnostic:
        return make(code, message, hint, layer=node.name, location=node.argument_location(argument))


@dataclass(frozen=True)
class Lint:
    code: str
    check: Callable[[LintContext], Iterable[Diagnostic]]

    @property
    def doc(self) -> str:
        return self.check.__doc__ or ""


LINTS: Dict[str, Lint] = {}


def lint(code: str):
    """Register a lint function under ``code`` (which must be in the CODES table)."""
    def register(function: Callable[[LintContext], Iterable[Diagnostic]]):
        LINTS[code] = Lint(code, function)
        return function
    return register


def run_lints(report: Report) -> List[Diagnostic]:
    """Every registered lint over one report."""
    if report.graph is None:
        return []
    context = LintContext(report)
    return [finding for entry in LINTS.values() for finding in entry.check(context)]


def _is_rnn(node: Optional[Node]) -> bool:
    return node is not None and node.layer is not None and node.layer.is_recurrent


def _rnn_config(node: Node):
    """The recurrent layer whose arguments decide (a Bidirectional's forward copy)."""
    return node.layer.recurrent_copies()[0]


def _per_position(node: Optional[Node]) -> bool:
    """A layer applied at every time step alike: Dense, or one that keeps the shape."""
    return node is not None and node.layer is not None and (node.layer.acts_on_last_axis or node.layer.keeps_shape)


def _returns_sequences(node: Node) -> bool:
    return bool(_rnn_config(node)["return_sequences"])


# -- the lints -----------------------------------------------------------------------------------


@lint("L001")
def per_step_output(context: LintContext) -> Iterable[Diagnostic]:
    """A recurrent layer with return_sequences: true whose sequence reaches a Dense, so the model
    ends with one prediction per time step — (None, T, 1) — where (None, 1) was likely meant.

    Failing::

        input: [50, 10]
        layers:
          - {type: LSTM, units: 64, return_sequences: true}
          - {type: Dense, units: 1}

    Passing::

        input: [50, 10]
        layers:
          - {type: LSTM, units: 64}
          - {type: Dense, units: 1}
    """
    for reference in context.graph.outputs:
        node = context.graph.nodes.get(reference.name)
        produced = context.produced(reference.name)
        if node is None or node.layer is None or not produced:
            continue
        shape = produced[0].shape
        if len(shape) != 3 or shape[-1] != 1 or not _per_position(node):
            continue
        current, dense = node, None
        while _per_position(current):
            dense = current if current.layer.acts_on_last_axis else dense
            current = context.graph.nodes.get(current.inputs[0].name) if current.inputs else None
        if dense is None or not _is_rnn(current) or not _returns_sequences(current):
            continue
        sequence = context.produced(current.name)[0].shape
        yield context.diagnostic(
            "L001",
            f"{current.name} has return_sequences: true, so its sequence {format_shape(sequence)} reaches "
            f"{dense.name} ({dense.layer.keras_class}), which is applied at every time step: the model outputs "
            f"{format_shape(shape)}, one prediction per step rather than one per sample.",
            f"For one prediction per sequence set `return_sequences: false` on `{current.name}` (its output "
            f"becomes {format_shape((sequence[0], sequence[-1]))}). If a prediction at every step is what you "
            f"want, wrap the {dense.layer.keras_class} in TimeDistributed to say so.", current, "return_sequences")


@lint("L002")
def repeat_vector_bridge(context: LintContext) -> Iterable[Diagnostic]:
    """An RNN with return_sequences: false, then RepeatVector, then another RNN: valid (an
    encoder-decoder), but the second RNN reads the same vector at every step, not the sequence.

    Failing::

        input: [20, 3]
        layers:
          - {type: LSTM, units: 32}
          - {type: RepeatVector, n: 5}
          - {type: LSTM, units: 16, return_sequences: true}

    Passing::

        input: [20, 3]
        layers:
          - {type: LSTM, units: 32, return_sequences: true}
          - {type: LSTM, units: 16, return_sequences: true}
    """
    for node in context.layer_nodes():
        if node.layer.repeats() is None or not context.ok(node):
            continue
        encoder = context.producer(node)
        decoders = [consumer for consumer in context.consumers(node) if _is_rnn(consumer)]
        if not _is_rnn(encoder) or _returns_sequences(encoder) or not decoders or node.layer.repeats() == 1:
            continue  # RepeatVector(1) into an RNN is L003's
        vector = context.produced(encoder.name)[0].shape
        repeated = context.produced(node.name)[0].shape
        decoder = decoders[0]
        yield context.diagnostic(
            "L002",
            f"Encoder-decoder: {encoder.name} (return_sequences: false) gives one vector "
            f"{format_shape(vector)} per sample; {node.name} copies it {node.layer.repeats()} times "
            f"{format_shape(repeated)}, so {decoder.name} reads the same vector at every step, not the "
            f"input sequence.",
            f"Nothing to fix if an encoder-decoder is meant. For {decoder.name} to read the sequence itself, "
            f"set `return_sequences: true` on `{encoder.name}` and remove the RepeatVector.", node)


@lint("L003")
def single_step_sequence(context: LintContext) -> Iterable[Diagnostic]:
    """An RNN fed sequences of exactly one time step (RepeatVector(1), Reshape((1, n)), input
    [1, n]): the recurrence never runs, so it is a gated Dense layer with unused recurrent weights.

    Failing::

        input: [10, 5]
        layers:
          - {type: LSTM, units: 50}
          - {type: RepeatVector, n: 1}
          - {type: LSTM, units: 10}

    Passing::

        input: [10, 5]
        layers:
          - {type: LSTM, units: 50, return_sequences: true}
          - {type: LSTM, units: 10}
    """
    for node in context.layer_nodes():
        if not _is_rnn(node) or not context.ok(node):
            continue
        tensors = context.input_tensors(node)
        if not tensors or len(tensors[0].shape) != 3 or tensors[0].shape[1] != 1:
            continue
        source = context.producer(node)
        repeat = source if source is not None and source.layer is not None and \
            source.layer.repeats() is not None else None
        origin = f" from {repeat.name} ({repeat.layer.keras_class}(1))" if repeat else ""
        units = _rnn_config(node)["units"]
        yield make(
            "L003",
            f"{node.name} reads sequences of one time step {format_shape(tensors[0].shape)}{origin}: its "
            f"recurrence runs once from a zero state, so its recurrent weights ({units} × {units} per gate) "
            "never see a previous step. It works as a gated Dense layer, not as a memory.",
            f"Repeat the vector for as many steps as {node.name} should produce (RepeatVector(n) with n > 1), "
            f"or replace {node.name} with Dense({units}).",
            # About the RNN, located where the one step comes from when that is a RepeatVector.
            layer=node.name, location=repeat.argument_location("n") if repeat else node.location)


@lint("L004")
def unroll_long_sequence(context: LintContext) -> Iterable[Diagnostic]:
    """unroll: true on a sequence longer than 100 steps. The unrolled graph holds one copy of the
    step's operations and activations per step; Keras: unrolling "is only suitable for short
    sequences". (Unknown lengths are T002.)

    Failing::

        input: [500, 8]
        layers:
          - {type: LSTM, units: 16, unroll: true}

    Passing::

        input: [20, 8]
        layers:
          - {type: LSTM, units: 16, unroll: true}
    """
    for node in context.layer_nodes():
        if not _is_rnn(node) or not context.ok(node) or not _rnn_config(node)["unroll"]:
            continue
        tensors = context.input_tensors(node)
        steps = tensors[0].shape[1] if tensors and len(tensors[0].shape) == 3 else None
        if steps is None or steps <= UNROLL_MAX_STEPS:
            continue
        yield context.diagnostic(
            "L004",
            f"{node.name} has unroll: true on {steps} time steps: the unrolled graph repeats the step "
            f"{steps} times, and memory for its activations grows the same way (lstmcalc warns above "
            f"{UNROLL_MAX_STEPS} steps).",
            "Drop `unroll: true` (the default loop uses constant graph size), or shorten the sequences.",
            node, "unroll")


@lint("L005")
def dropout_out_of_range(context: LintContext) -> Iterable[Diagnostic]:
    """dropout or recurrent_dropout of 1 or more (or below 0) on an RNN. Keras clips the value to
    [0, 1] without a word, and a rate of 1 means nothing useful: the per-step cell drops only when
    0 < rate < 1.

    Failing::

        input: [10, 4]
        layers:
          - {type: GRU, units: 8, dropout: 1.5}

    Passing::

        input: [10, 4]
        layers:
          - {type: GRU, units: 8, dropout: 0.2}
    """
    for node in context.layer_nodes():
        if not _is_rnn(node):
            continue
        config = _rnn_config(node)
        for argument in ("dropout", "recurrent_dropout"):
            rate = config[argument]
            if 0 <= rate < 1:
                continue
            clipped = min(1.0, max(0.0, rate))
            effect = ("a rate of 1 drops nothing in the per-step cell (it drops only when 0 < rate < 1) and "
                      "everything elsewhere" if clipped == 1.0 else "so nothing is dropped")
            yield context.diagnostic(
                "L005",
                f"{argument}: {rate} on {node.name}: Keras silently clips it to {clipped}, and {effect}.",
                f"Give `{argument}` the fraction of units to drop, below 1 — e.g. `{argument}: 0.2`.",
                node, argument)


@lint("L006")
def mask_zero_vocabulary(context: LintContext) -> Iterable[Diagnostic]:
    """Embedding with mask_zero: true and an input_dim that looks like a bare vocabulary size (a
    multiple of 100), or 1. Index 0 is then padding, so V tokens numbered 1..V need input_dim V + 1.
    Info only: it is right when the tokenizer already counts index 0 (Keras's TextVectorization
    does); write V + 1 (e.g. 20001) to say so.

    Failing::

        input: {shape: [null], dtype: int32}
        layers:
          - {type: Embedding, input_dim: 5000, output_dim: 16, mask_zero: true}

    Passing::

        input: {shape: [null], dtype: int32}
        layers:
          - {type: Embedding, input_dim: 5001, output_dim: 16, mask_zero: true}
    """
    for node in context.layer_nodes():
        values = node.layer.input_values()
        if values is None or not values.integer or values.padding != 0:
            continue
        size = values.below
        if size > 1 and size % 100 != 0:
            continue
        if size <= 1:
            message = (f"{node.name} has mask_zero: true and input_dim: {size}: index 0 is the padding, "
                       "so no index is left for a token.")
        else:
            message = (f"{node.name} has mask_zero: true, which reserves index 0 for padding, and "
                       f"input_dim: {size} — a round number, as if it were the vocabulary size. Token ids "
                       f"1..{size} need input_dim: {size + 1}; id {size} would be out of range.")
        yield context.diagnostic(
            "L006", message,
            f"If your tokenizer numbers {size} tokens from 1, use input_dim: {size + 1}; if its size already "
            "counts the padding index (TextVectorization's does), keep it — this is only a reminder.",
            node, "input_dim")


@lint("L008")
def mask_destroyed(context: LintContext) -> Iterable[Diagnostic]:
    """A masked tensor (after Embedding(mask_zero=True) or Masking) reaches a layer that does not
    support masking (Conv1D, Flatten, pooling, Reshape, ...). Keras warns at build time; after that
    layer the padding steps count as data.

    Failing::

        input: {shape: [100], dtype: int32}
        layers:
          - {type: Embedding, input_dim: 5001, output_dim: 16, mask_zero: true}
          - {type: Conv1D, filters: 8, kernel_size: 3}
          - {type: LSTM, units: 4}

    Passing::

        input: {shape: [100], dtype: int32}
        layers:
          - {type: Embedding, input_dim: 5001, output_dim: 16, mask_zero: true}
          - {type: LSTM, units: 4}
    """
    for node in context.layer_nodes():
        if node.layer.supports_masking or not context.ok(node):
            continue
        if not any(tensor.masked for tensor in context.input_tensors(node)):
            continue
        layer = node.layer
        yield context.diagnostic(
            "L008",
            f"Layer '{node.name}' (of type {layer.keras_class}) was passed an input with a mask attached to "
            "it. However, this layer does not support masking and will therefore destroy the mask "
            "information. Downstream layers will not see the mask (Keras's warning).",
            f"Padding steps count as data after {node.name}. Put the layers that use the mask (LSTM, GRU, "
            "GlobalAveragePooling1D) before it, or drop mask_zero / Masking if padding does not matter.", node)
