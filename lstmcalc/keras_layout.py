"""How Keras 3 lays out a functional model, so graph summaries equal ``model.summary()``.

Two Keras behaviours matter:
- Masks are symbolic tensors. When a layer computes its output mask (Embedding with mask_zero,
  Masking, merges of masked tensors), Keras records operations such as ``not_equal (NotEqual)``;
  a layer that takes a ``mask`` argument (RNNs, Bidirectional, TimeDistributed,
  GlobalAveragePooling1D) consumes that tensor, so those operations become rows of the summary
  and entries of "Connected to".
- ``model._operations`` is ordered by depth (longest path to an output, deepest first) and, within
  a depth, by first visit in a depth-first walk from the outputs (keras/src/ops/function.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from .shapes import Shape

TensorKey = Tuple[str, int]  # (producing node or operation, output index)

MASK_CONSUMERS = {"LSTM", "GRU", "SimpleRNN", "Bidirectional", "TimeDistributed", "GlobalAveragePooling1D"}
MASK_PASS_THROUGH = {"Dense", "Dropout", "SpatialDropout1D", "Activation", "LayerNormalization",
                     "BatchNormalization", "TimeDistributed"}
ELEMENTWISE_MERGES = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}


@dataclass
class MaskOperation:
    """An operation Keras inserts to compute a mask, e.g. ``not_equal (NotEqual)``."""

    name: str
    type: str
    shape: Shape
    inputs: List[TensorKey]


@dataclass
class MaskTracker:
    """Follows mask tensors through the layers as Keras computes them."""

    new_name: Callable[[str], str]
    shapes: Callable[[TensorKey], Shape]
    operations: Dict[str, MaskOperation] = field(default_factory=dict)
    mask_of: Dict[TensorKey, TensorKey] = field(default_factory=dict)
    consumed: Dict[str, TensorKey] = field(default_factory=dict)  # layer → mask tensor it takes

    def _operation(self, type_name: str, shape: Shape, inputs: List[TensorKey]) -> TensorKey:
        name = self.new_name(type_name)
        self.operations[name] = MaskOperation(name, type_name, tuple(shape), inputs)
        return (name, 0)

    def _shape(self, key: TensorKey) -> Shape:
        if key[0] in self.operations:
            return self.operations[key[0]].shape
        return self.shapes(key)

    def layer_called(self, node: str, layer, inputs: Sequence[TensorKey], outputs: int) -> None:
        """Record the masks of ``node``'s outputs, creating Keras's mask operations."""
        kind = layer.keras_class
        masks = [self.mask_of.get(key) for key in inputs]
        if kind in MASK_CONSUMERS and masks and masks[0] is not None:
            self.consumed[node] = masks[0]
        result: List[Optional[TensorKey]] = [None] * outputs
        if kind == "Embedding":
            if layer["mask_zero"]:
                result = [self._operation("NotEqual", self.shapes(inputs[0]), [inputs[0]])] * outputs
        elif kind == "Masking":
            shape = self.shapes(inputs[0])
            not_equal = self._operation("NotEqual", shape, [inputs[0]])
            result = [self._operation("Any", shape[:-1], [not_equal])] * outputs
        elif kind in ("LSTM", "GRU", "SimpleRNN"):
            if layer["return_sequences"]:
                result[0] = masks[0]
        elif kind == "Bidirectional":
            if layer.return_sequences:
                merged = 2 if layer["merge_mode"] is None else 1
                result[:merged] = [masks[0]] * merged
        elif kind in MASK_PASS_THROUGH:
            # Dropout applied to a list of tensors keeps each tensor's own mask.
            result = list(masks) if len(masks) == outputs else [masks[0]] * outputs
        elif kind in ELEMENTWISE_MERGES:
            if masks and all(mask is not None for mask in masks):
                merged = masks[0]
                for mask in masks[1:]:
                    merged = self._operation("LogicalOr", self._shape(merged), [merged, mask])
                result = [merged] * outputs
        elif kind == "Concatenate":
            result = [self._concatenate(layer, inputs, masks)] * outputs
        elif kind in ("Attention", "AdditiveAttention"):
            result = [masks[0]] * outputs
        for index, mask in enumerate(result):
            if mask is not None:
                self.mask_of[(node, index)] = mask

    def _concatenate(self, layer, inputs: Sequence[TensorKey], masks) -> Optional[TensorKey]:
        if all(mask is None for mask in masks):
            return None
        parts = []
        for key, mask in zip(inputs, masks):
            shape = self.shapes(key)
            if mask is None:
                parts.append(self._operation("OnesLike", shape, [key]))
            elif len(self._shape(mask)) < len(shape):
                expanded = self._operation("ExpandDims", tuple(self._shape(mask)) + (1,), [mask])
                zeros = self._operation("ZerosLike", shape, [key])
                parts.append(self._operation("LogicalOr", shape, [expanded, zeros]))
            else:
                parts.append(mask)
        axis = layer["axis"]
        shapes = [list(self._shape(part)) for part in parts]
        joined = list(shapes[0])
        joined[axis] = None if any(shape[axis] is None for shape in shapes) else sum(s[axis] for s in shapes)
        concatenated = self._operation("Concatenate", tuple(joined), parts)
        return self._operation("Any", tuple(joined[:-1]), [concatenated])


def operation_order(outputs: Sequence[TensorKey], parents: Callable[[str], List[TensorKey]],
                    model_inputs: Sequence[str]) -> Tuple[List[str], bool]:
    """Keras's ``map_graph``: the operations in summary order, and whether the model is
    "sequential-like" (then Keras's summary has no "Connected to" column)."""
    finished: set = set()
    in_progress: set = set()
    decreasing: List[str] = []
    first_visit: Dict[str, int] = {}

    def enter(name: str) -> Iterator[TensorKey]:
        if name in in_progress:
            raise ValueError(f"{name} is part of a cycle")
        first_visit.setdefault(name, len(first_visit))
        in_progress.add(name)
        return iter(parents(name))

    def visit(root: str) -> None:
        # Depth-first, parents before children, with an explicit stack: a chain of 50,000
        # layers costs no recursion.
        if root in finished:
            return
        stack = [(root, enter(root))]
        while stack:
            name, pending = stack[-1]
            for parent, _ in pending:
                if parent not in finished:
                    stack.append((parent, enter(parent)))
                    break
            else:
                stack.pop()
                finished.add(name)
                in_progress.discard(name)
                decreasing.append(name)

    for output, _ in outputs:
        visit(output)
    depth: Dict[str, int] = {}
    for name in reversed(decreasing):
        current = depth.setdefault(name, 0)
        for parent, _ in parents(name):
            depth[parent] = max(current + 1, depth.get(parent, 0))
    for name in model_inputs:
        if name not in depth:  # an input nothing uses sits at depth 0, first
            depth[name] = 0
            first_visit[name] = -1
    order = sorted(depth, key=lambda name: (-depth[name], first_visit[name]))
    by_depth: Dict[int, List[str]] = {}
    for name in order:
        by_depth.setdefault(depth[name], []).append(name)
    sequential_like = all(len(names) == 1 and len(parents(names[0])) <= 1 for names in by_depth.values())
    return order, sequential_like
