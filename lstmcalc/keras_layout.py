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

from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, Sequence, Tuple

from .layers.base import TensorKey
from .records import Record
from .shapes import Shape

if TYPE_CHECKING:
    from .layers.base import Layer


class MaskOperation(Record):
    """An operation Keras inserts to compute a mask, e.g. ``not_equal (NotEqual)``."""

    def __init__(self, name: str, type: str, shape: Shape, inputs: List[TensorKey]):
        self.name = name
        self.type = type
        self.shape = shape
        self.inputs = inputs


class MaskTracker:
    """Follows mask tensors through the layers as Keras computes them. ``consumed``: layer → the
    mask tensor it takes."""

    def __init__(self, new_name: Callable[[str], str], shapes: Callable[[TensorKey], Shape]):
        self.new_name = new_name
        self.shapes = shapes
        self.operations: Dict[str, MaskOperation] = {}
        self.mask_of: Dict[TensorKey, TensorKey] = {}
        self.consumed: Dict[str, TensorKey] = {}

    def operation(self, type_name: str, shape: Shape, inputs: List[TensorKey]) -> TensorKey:
        """Record a mask operation Keras inserts (named as Keras names it: not_equal, any, ...)."""
        name = self.new_name(type_name)
        self.operations[name] = MaskOperation(name, type_name, tuple(shape), inputs)
        return (name, 0)

    def shape_of(self, key: TensorKey) -> Shape:
        """The shape of a layer's output or of a mask operation."""
        if key[0] in self.operations:
            return self.operations[key[0]].shape
        return self.shapes(key)

    def layer_called(self, node: str, layer: "Layer", inputs: Sequence[TensorKey], outputs: int) -> None:
        """Record the masks of ``node``'s outputs (the layer's own rule, ``Layer.keras_masks``)."""
        masks = [self.mask_of.get(key) for key in inputs]
        if layer.consumes_mask and masks and masks[0] is not None:
            self.consumed[node] = masks[0]
        for index, mask in enumerate(layer.keras_masks(inputs, masks, outputs, self)):
            if mask is not None:
                self.mask_of[(node, index)] = mask


# What a layer's mask rule may ask of the tracker: ``operation`` and ``shape_of``.
MaskGraph = MaskTracker


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
