"""The same recurrent layer as PyTorch stores it: module, weights, and how the counts differ.

Shapes come from ``CELL_LAYOUTS["pytorch"]`` (the layout that PyTorch 2.13 was checked against:
tests/fixtures/pytorch/). Where PyTorch computes a different function — GRU with
reset_after=False, activations other than PyTorch's fixed ones — the view says so.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

from ..layers.base import Layer, TensorSpec
from ..layers.recurrent import CELL_GATES, PYTORCH_GATE_ORDER, Cell, Recurrent, pytorch_cell_weights
from .counts import keras_parameters, pytorch_expression, recurrent_copies
from .model import Formula, FrameworkView, WeightRow

MODULES = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "RNN"}
# The activations PyTorch's modules hard-wire; SimpleRNN may choose tanh or relu (nonlinearity=).
FIXED_ACTIVATIONS = {"lstm": ("tanh", "sigmoid"), "gru": ("tanh", "sigmoid")}


def _rows(cell: Cell, layer: Layer, suffix: str) -> List[WeightRow]:
    order = PYTORCH_GATE_ORDER[cell.kind]
    f, u, g = cell.input_dim, cell.units, cell.gates
    if g > 1:
        stack_ih = "[" + "; ".join(f"W_i{letter}" for letter in order) + "]"
        stack_hh = "[" + "; ".join(f"W_h{letter}" for letter in order) + "]"
        layouts = {"weight_ih": f"{stack_ih}: ({g} gates × {u} units) × {f} features",
                   "weight_hh": f"{stack_hh}: ({g} gates × {u} units) × {u} units",
                   "bias_ih": f"{g} gates × {u} units, input side",
                   "bias_hh": f"{g} gates × {u} units, hidden side"}
    else:
        layouts = {"weight_ih": f"{u} units × {f} features", "weight_hh": f"{u} units × {u} units",
                   "bias_ih": f"{u} units, input side", "bias_hh": f"{u} units, hidden side"}
    rows = []
    for weight in pytorch_cell_weights(cell, layer, 0, suffix):
        stem = weight.name.split("_l0")[0]
        rows.append(WeightRow(weight.name, weight.shape, weight.size, layouts[stem], weight.trainable))
    return rows


def _call(cell: Cell, layer: Recurrent, bidirectional: bool) -> str:
    arguments = [str(cell.input_dim), str(cell.units)]
    if cell.kind == "simple_rnn" and layer["activation"] == "relu":
        arguments.append("nonlinearity='relu'")
    if not cell.use_bias:
        arguments.append("bias=False")
    arguments.append("batch_first=True")
    if bidirectional:
        arguments.append("bidirectional=True")
    return f"nn.{MODULES[cell.kind]}({', '.join(arguments)})"


def _differences(cell: Cell, layer: Recurrent) -> List[str]:
    """Why PyTorch's module would compute another function, or [] when it is the same."""
    problems = []
    if cell.kind == "gru" and not cell.separate_recurrent_bias:
        problems.append("No PyTorch equivalent: nn.GRU always applies the reset gate after the matrix "
                        "product (Keras's reset_after: true); this layer has reset_after: false, which "
                        "PyTorch does not offer.")
    fixed = FIXED_ACTIVATIONS.get(cell.kind)
    if fixed is not None and (layer["activation"], layer["recurrent_activation"]) != fixed:
        problems.append(f"No PyTorch equivalent: nn.{MODULES[cell.kind]} always uses tanh and sigmoid; this "
                        f"layer has activation={layer['activation']!r}, "
                        f"recurrent_activation={layer['recurrent_activation']!r}.")
    if cell.kind == "simple_rnn" and layer["activation"] not in ("tanh", "relu"):
        problems.append(f"No PyTorch equivalent: nn.RNN offers tanh or relu; this layer has "
                        f"activation={layer['activation']!r}.")
    return problems


def _order_note(cell: Cell) -> str:
    keras = ", ".join(gate.symbol for gate in CELL_GATES[cell.kind])
    pytorch = ", ".join(PYTORCH_GATE_ORDER[cell.kind])
    if cell.kind == "simple_rnn":
        return "weight_ih_l0 is Keras's kernel transposed, weight_hh_l0 its recurrent_kernel transposed."
    if cell.kind == "lstm":
        return (f"Gate blocks: Keras orders them {keras}, PyTorch {pytorch} — the same order (PyTorch calls "
                "the candidate g); weight_ih_l0 is Keras's kernel transposed.")
    return (f"Gate blocks: Keras orders them {keras}, PyTorch {pytorch} (PyTorch's n is Keras's candidate h): "
            "swap the first two blocks and transpose to go from kernel to weight_ih_l0.")


def _count_note(keras: int, pytorch: int, cell: Cell, copies: int) -> str:
    if not cell.use_bias:
        return f"Same count ({pytorch:,}): without biases both store the same two matrices."
    extra = pytorch - keras
    vector = f"({cell.gates * cell.units},)"
    if cell.separate_recurrent_bias:
        return (f"Same count ({pytorch:,}): Keras's bias (2, {cell.gates * cell.units}) holds the same two "
                f"vectors as bias_ih_l0 and bias_hh_l0.")
    per = " per direction" if copies > 1 else ""
    return (f"PyTorch: {pytorch:,} = {keras:,} + {extra:,}. PyTorch keeps two bias vectors{per}, bias_ih_l0 "
            f"and bias_hh_l0 {vector}, where Keras keeps one bias {vector}; the two are only ever added "
            f"together, so the extra {extra:,} parameters compute nothing Keras's layer cannot.")


def pytorch_view(layer: Layer, inputs: Sequence[TensorSpec]) -> Optional[FrameworkView]:
    """How PyTorch stores ``layer``; None for layers that are not recurrent."""
    copies = recurrent_copies(layer)
    if copies is None:
        return None
    features = inputs[0].shape[-1]
    cells = [copy.cell(features) for copy in copies]
    bidirectional = len(copies) == 2
    notes = []
    for copy, cell in zip(copies, cells):
        for problem in _differences(cell, copy):
            if problem not in notes:
                notes.append(problem)
    if bidirectional and cells[0] != cells[1]:
        notes.append("No single PyTorch module: nn.LSTM/nn.GRU(bidirectional=True) needs both directions "
                     "to have the same size and options.")
    rows: List[WeightRow] = []
    for cell, copy, suffix in zip(cells, copies, ("", "_reverse")):
        rows += _rows(cell, copy, suffix)
    pytorch = pytorch_expression(layer, inputs)
    keras = sum(keras_parameters(cell).value for cell in cells)
    equivalent = not notes
    notes.append(_count_note(keras, pytorch.value, cells[0], len(copies)))
    notes.append(_order_note(cells[0]))
    if bidirectional:
        merge_mode = layer.config["merge_mode"]
        notes.append("The _reverse weights belong to the backward copy.")
        if merge_mode != "concat":
            notes.append(f"PyTorch's bidirectional output always concatenates the two directions; Keras's "
                         f"merge_mode: {merge_mode} is applied to the two halves afterwards.")
    return FrameworkView("PyTorch", _call(cells[0], copies[0], bidirectional), equivalent, rows,
                         Formula.of(pytorch), notes)
