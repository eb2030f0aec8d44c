"""Parameter counts as arithmetic: the factored formula of a layer, derived from the same Cell (or
the same weight shapes) that the count itself sums, so the two cannot disagree."""

from __future__ import annotations

from typing import List, Optional, Sequence

from ..arithmetic import Expression, number, plus, times
from ..layers.base import Layer, TensorSpec, Weight
from ..layers.recurrent import Cell, Recurrent
from ..layers.wrappers import Bidirectional, TimeDistributed


def recurrent_copies(layer: Layer) -> Optional[List[Recurrent]]:
    """The recurrent layer itself, or a Bidirectional's two copies; None for other layers."""
    if isinstance(layer, Recurrent):
        return [layer]
    if isinstance(layer, Bidirectional) and layer.forward_layer is not None:
        return [layer.forward_layer, layer.backward_layer]
    return None


def _per_gate(cell: Cell, inner: Expression) -> Expression:
    return times(number(cell.gates, "gates"), inner) if cell.gates > 1 else inner


def _cell_count(cell: Cell, bias: Optional[Expression]) -> Expression:
    units = number(cell.units, "units")
    inner: List[Expression] = [times(units, plus(number(cell.input_dim, "features"), units))]
    if bias is not None:
        inner.append(bias)
    return _per_gate(cell, plus(*inner))


def keras_parameters(cell: Cell) -> Expression:
    """gates × (units × (features + units) + units); GRU's reset_after keeps 2 × units of bias."""
    if not cell.use_bias:
        return _cell_count(cell, None)
    units = number(cell.units, "units")
    return _cell_count(cell, times(number(2, "2"), units) if cell.separate_recurrent_bias else units)


def pytorch_parameters(cell: Cell) -> Expression:
    """PyTorch's count of the same cell: one bias on the input side and one on the hidden side."""
    return _cell_count(cell, times(number(2, "2"), number(cell.units, "units")) if cell.use_bias else None)


def _two_copies(first: Expression, second: Expression) -> Expression:
    if first == second:
        return times(number(2, "directions"), first)
    return plus(first, second)


def weights_expression(weights: Sequence[Weight]) -> Expression:
    """The sum of each weight's shape product: ``64 × 128 + 128``."""
    return plus(*(times(*weight.shape) for weight in weights))


def parameter_expression(layer: Layer, inputs: Sequence[TensorSpec]) -> Expression:
    """The layer's parameter count with its arithmetic, factored for recurrent layers."""
    copies = recurrent_copies(layer)
    if copies is not None:
        counts = [keras_parameters(copy.cell(inputs[0].shape[-1])) for copy in copies]
        return counts[0] if len(counts) == 1 else _two_copies(*counts)
    if isinstance(layer, TimeDistributed):
        return parameter_expression(layer.inner, layer._step_inputs(inputs))
    return weights_expression(layer.weight_shapes(inputs))


def pytorch_expression(layer: Layer, inputs: Sequence[TensorSpec]) -> Optional[Expression]:
    copies = recurrent_copies(layer)
    if copies is None:
        return None
    counts = [pytorch_parameters(copy.cell(inputs[0].shape[-1])) for copy in copies]
    return counts[0] if len(counts) == 1 else _two_copies(*counts)
