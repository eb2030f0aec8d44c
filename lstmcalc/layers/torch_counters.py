"""What the PyTorch MAC counters report for a module, from each tool's own formula — torchinfo 1.8,
thop 0.1.1, ptflops 0.7.5 (both backends) and DeepSpeed 0.19.8's profiler — and why each differs from
lstmcalc's count (docs/compute.md). The formulas were read in the tools' sources and checked
against every number the tools gave (tests/fixtures/pytorch/MACS.md, macs_reference.json)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple

from ..shapes import product
from .explanation import ToolCount


@dataclass(frozen=True)
class RecurrentFacts:
    """What the tools read of an nn.LSTM / nn.GRU / nn.RNN and its input."""

    kind: str                 # LSTM, GRU or RNN
    gates: int
    hidden: int               # H (hidden_size)
    projection: int           # P (proj_size, 0 for none)
    layers: int
    directions: int
    bias: bool
    input_size: int
    params: int
    input_shape: Tuple[int, ...]    # x as fed, batch axis included
    output_shape: Tuple[int, ...]   # the module's first returned tensor
    batch_first: bool

    @property
    def steps_and_batch(self) -> Tuple[int, int]:
        x = self.input_shape
        if len(x) == 2:
            return x[0], 1
        return (x[1], x[0]) if self.batch_first else (x[0], x[1])

    @property
    def elementwise(self) -> int:
        """ptflops's and DeepSpeed's element-wise operations per step of one layer: LSTM 4H + 3H + 3H,
        GRU H + 3H + 3H, RNN H."""
        return {4: 10, 3: 7}.get(self.gates, 1) * self.hidden

    def layer_inputs(self, width: int) -> List[int]:
        """The input width of each layer when the layers above the first read ``width`` per direction."""
        return [self.input_size] + [self.directions * width] * (self.layers - 1)


def known(*shapes: Sequence) -> bool:
    """The tools count concrete tensors: every dimension must be known."""
    return all(dim is not None for shape in shapes for dim in shape)


def torchinfo(params: int, output_shape: Sequence[int], convolution: bool = False, lookup: bool = False) -> ToolCount:
    """layer_info.py LayerInfo.calculate_macs: a parameter named exactly weight or bias counts
    output_size[0] · numel (convolutions: prod(output_size[:1] + output_size[2:]) · numel)."""
    if lookup:
        return ToolCount("torchinfo", output_shape[0] * params, "MACs",
                         f"output.shape[0] {output_shape[0]} · {params:,} parameters",
                         "A table lookup counted as if every row took part once per sample; lstmcalc counts 0.")
    if convolution:
        positions = output_shape[0] * product(output_shape[2:])
        return ToolCount("torchinfo", positions * params, "MACs",
                         f"{output_shape[0]} · {product(output_shape[2:])} positions · {params:,} parameters",
                         "Every parameter once per output position (biases included).")
    return ToolCount("torchinfo", output_shape[0] * params, "MACs",
                     f"output.shape[0] {output_shape[0]} · {params:,} parameters",
                     "Every parameter once per element of the output's first axis (the batch): the positions "
                     "between the batch and the last axis are not counted."
                     if len(output_shape) > 2 else "Every parameter once per sample: biases count as MACs.")


def recurrent_counts(facts: RecurrentFacts) -> List[ToolCount]:
    """torchinfo, thop, ptflops (pytorch and aten backends) and DeepSpeed for an RNN module."""
    steps, batch = facts.steps_and_batch
    out = facts.output_shape
    h, d, g = facts.hidden, facts.directions, facts.gates
    counts = [ToolCount(
        "torchinfo", out[0] * out[1] * facts.params, "MACs",
        f"output.shape[0] · output.shape[1] · params = {out[0]} · {out[1]} · {facts.params:,}",
        "Every parameter once per step and sample, both bias vectors included; gate activations and "
        "element-wise products are not counted. Called without a batch axis (input_size=(T, F)) it multiplies "
        f"by the hidden width instead: {steps} · {out[-1]} · {facts.params:,} = {steps * out[-1] * facts.params:,}.")]

    b = 2 * h if facts.bias else 0

    def thop_cell(inputs: int) -> int:
        if g == 4:
            return 4 * ((inputs + h) * h + h + b) + 3 * h + h
        if g == 3:
            return 3 * ((h + inputs) * h + h + b) + h + 3 * h
        return h * (inputs + h) + h + b

    thop_step = sum(d * thop_cell(inputs) for inputs in facts.layer_inputs(h))
    cell = {4: "4·((in + H)·H + H + 2H) + 3H + H", 3: "3·((H + in)·H + H + 2H) + H + 3H",
            1: "H·(in + H) + H + 2H"}[g]
    counts.append(ToolCount(
        "thop", thop_step * steps * batch, "MACs",
        f"T · N · Σ layers D · [{cell}] = {steps} · {batch} · {thop_step:,}",
        "Adds an H per gate for its activation and the cell's element-wise products"
        + ("; proj_size is ignored (the cell is counted as if h were hidden_size wide)" if facts.projection else "")
        + ". thop.profile reports params = 0 for a bare module (only children's are added)."))

    width = facts.projection or h

    def forward_weights(inputs: int) -> Tuple[int, int, int, int]:
        rows = g * h
        return rows * inputs, rows, rows * width, (2 * rows if facts.bias else 0)

    ptflops_layers = sum(ih + hh + facts.elementwise + biases
                         for ih, _, hh, biases in (forward_weights(inputs) for inputs in facts.layer_inputs(width)))
    x0, x1 = facts.input_shape[0], facts.input_shape[1] if len(facts.input_shape) > 1 else 1
    ptflops_total = ptflops_layers * x0 * x1 * d // x0
    per = ("per sample (T · per-step)" if facts.batch_first or len(facts.input_shape) == 2 else
           "N · per-step: the hook takes x.shape[0] as the batch, so a time-major input loses T")
    counts.append(ToolCount(
        "ptflops (pytorch)", ptflops_total, "MACs",
        f"x.shape[0] · x.shape[1] · D · Σ layers (W_ih + W_hh + {facts.elementwise // h}H"
        + (" + b_ih + b_hh" if facts.bias else "") + f") ÷ x.shape[0] = {x0} · {x1} · {d} · {ptflops_layers:,} ÷ {x0}",
        f"Counts the forward direction's weights of each layer (doubled when bidirectional) and the "
        f"element-wise operations, then divides by the batch it sees: {per}"
        + ("; weight_hr is not counted" if facts.projection else "") + "."))
    aten_zero = g == 4 and not facts.projection
    counts.append(ToolCount(
        "ptflops (aten)", 0 if aten_zero else counts[0].value, "MACs",
        "0 (one aten.mkldnn_rnn_layer call, which it has no rule for)" if aten_zero else
        "the addmm calls of every step, layer and direction = torchinfo's number",
        "Counts only matrix-product ops; an LSTM without projections runs as one oneDNN op on CPU and counts 0."
        if aten_zero else "Counts each step's matrix products with their bias adds."))

    def deepspeed_layer(inputs: int) -> int:
        ih, rows, hh, biases = forward_weights(inputs)
        return 2 * ih - rows + 2 * hh - rows + facts.elementwise + biases

    deepspeed_layers = sum(deepspeed_layer(inputs) for inputs in facts.layer_inputs(width))
    counts.append(ToolCount(
        "DeepSpeed", deepspeed_layers * x0 * x1 * d, "FLOPs",
        f"x.shape[0] · x.shape[1] · D · Σ layers (2·W_ih − rows + 2·W_hh − rows + {facts.elementwise // h}H"
        + (" + b_ih + b_hh" if facts.bias else "") + f") = {x0} · {x1} · {d} · {deepspeed_layers:,}",
        "FLOPs, not MACs (a product of n terms is 2n − 1 operations); its `macs` is 0 for recurrent modules, whose "
        "kernels bypass the functions it patches to count MACs."))
    return counts
