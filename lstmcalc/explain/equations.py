"""What each layer type computes, with the dimensions of its tensors substituted.

One builder per Keras layer type (registered by class name), reading the built layer and the
tensors it receives. Recurrent cells are described from their ``Cell`` and ``CELL_GATES`` (the
same data that sizes their weights), so the equations name exactly the blocks the weights hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from ..layers.base import Layer, TensorSpec
from ..layers.recurrent import CELL_GATES, Cell, Gate, Recurrent
from ..shapes import Dim, Shape
from .model import Block, Equation, Symbol, tensor_text, weight_text

ACTIVATION_SYMBOLS = {"sigmoid": "σ", "linear": ""}


def applied(activation: Optional[str], argument: str) -> str:
    """``σ(argument)``; no wrapper for a linear activation (None)."""
    symbol = ACTIVATION_SYMBOLS.get(activation or "linear", activation)
    return f"{symbol}({argument})" if symbol else argument


def legend(*activations: Optional[str], extra: str = "") -> str:
    parts = ["· = matrix product"]
    if "sigmoid" in activations:
        parts.append("σ = sigmoid")
    if extra:
        parts.append(extra)
    return ", ".join(parts)


def count_text(dim: Dim) -> str:
    return "T" if dim is None else f"{dim:,}"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


@dataclass
class Math:
    """A layer's equations, the sentences that read them, and what each weight holds."""

    blocks: List[Block] = field(default_factory=list)
    in_words: List[str] = field(default_factory=list)
    weight_layouts: Dict[str, str] = field(default_factory=dict)
    headline: str = ""


@dataclass(frozen=True)
class Context:
    """What a layer's equations depend on beyond the layer and its inputs."""

    initial_state: bool = False  # the spec gives the recurrent layer its initial states


Builder = Callable[[Layer, Sequence[TensorSpec], Sequence[Shape], Context], Math]
EQUATIONS: Dict[str, Builder] = {}


def equations_for(*class_names: str):
    def register(builder: Builder) -> Builder:
        for name in class_names:
            EQUATIONS[name] = builder
        return builder
    return register


def build_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
               context: Context = Context()) -> Math:
    builder = EQUATIONS.get(layer.keras_class)
    if builder is None:
        return Math(blocks=[Block(
            f"{layer.keras_class}",
            equations=[],
            legend=f"lstmcalc has no equations for {layer.keras_class} yet; the shapes, weights and "
                   "parameter count shown are exact.")])
    return builder(layer, inputs, outputs, context)


# -- recurrent cells ---------------------------------------------------------------------------

def _names(gates: Sequence[Gate], letter: str, prefix: str = "") -> List[str]:
    return [f"{letter}_{prefix}{gate.symbol}" if gate.symbol else f"{letter}" for gate in gates]


def _block_list(names: Sequence[str], separator: str = " | ") -> str:
    return "[" + separator.join(names) + "]"


def cell_weight_layouts(cell: Cell) -> Dict[str, str]:
    """What the Keras weights hold: column blocks, one per gate, in Keras's order."""
    gates = CELL_GATES[cell.kind]
    f, u, g = cell.input_dim, cell.units, cell.gates
    if g == 1:
        return {"kernel": f"W: {f} features × {u} units", "recurrent_kernel": f"U: {u} units × {u} units",
                "bias": f"b: {u} units"}
    layouts = {
        "kernel": f"{_block_list(_names(gates, 'W'))}: {f} features × ({g} gates × {u} units)",
        "recurrent_kernel": f"{_block_list(_names(gates, 'U'))}: {u} units × ({g} gates × {u} units)",
        "bias": f"{_block_list(_names(gates, 'b'))}: {g} gates × {u} units",
    }
    if cell.separate_recurrent_bias:
        layouts["bias"] = (f"rows {_block_list(_names(gates, 'b', 'x'))} and "
                           f"{_block_list(_names(gates, 'b', 'h'))}: 2 × ({g} gates × {u} units)")
    return layouts


def _loop(layer: Recurrent, steps: Dim, initial_state: bool) -> str:
    states = " = ".join(f"{name}_0" for name in layer.state_names)
    start = (f"starting from {', '.join(n + '_0' for n in layer.state_names)} = the initial_state tensors"
             if initial_state else f"starting from {states} = 0")
    if layer["go_backwards"]:
        order = f"for t = {count_text(steps)}, …, 1 (go_backwards: the sequence is read from its end)"
    else:
        order = f"for t = 1, …, {count_text(steps)}"
    length = " (T = the length of each batch: unknown)" if steps is None else ""
    return f"{order}{length}, {start}, the same weights at every step"


def _gate_input(cell: Cell, gate: Gate, bias: str) -> str:
    suffix = f"_{gate.symbol}" if gate.symbol else ""
    terms = [f"x_t·W{suffix}", f"h_{{t−1}}·U{suffix}"]
    if cell.use_bias:
        terms.append(f"{bias}{suffix}")
    return " + ".join(terms)


def lstm_equations(layer: Recurrent, cell: Cell) -> List[Equation]:
    gates = CELL_GATES["lstm"]
    names = {"i": "i_t", "f": "f_t", "c": "c̃_t", "o": "o_t"}
    equations = [Equation(names[gate.symbol], applied(layer[gate.activation], _gate_input(cell, gate, "b")),
                          gate.role) for gate in gates]
    equations.append(Equation("c_t", "f_t ⊙ c_{t−1} + i_t ⊙ c̃_t", "new cell state"))
    equations.append(Equation("h_t", "o_t ⊙ " + applied(layer["activation"], "c_t"),
                              "new hidden state = output at step t"))
    return equations


def gru_equations(layer: Recurrent, cell: Cell) -> List[Equation]:
    z, r, h = CELL_GATES["gru"]
    sigma, act = layer["recurrent_activation"], layer["activation"]
    if cell.separate_recurrent_bias:
        def gate_input(gate: Gate) -> str:
            x_part = f"x_t·W_{gate.symbol}" + (f" + b_x{gate.symbol}" if cell.use_bias else "")
            h_part = f"h_{{t−1}}·U_{gate.symbol}" + (f" + b_h{gate.symbol}" if cell.use_bias else "")
            return x_part, h_part

        equations = []
        for gate, name in ((z, "z_t"), (r, "r_t")):
            x_part, h_part = gate_input(gate)
            equations.append(Equation(name, applied(sigma, f"{x_part} + {h_part}"), gate.role))
        x_part, h_part = gate_input(h)
        equations.append(Equation("h̃_t", applied(act, f"{x_part} + r_t ⊙ ({h_part})"),
                                  "candidate, reset after the product"))
    else:
        equations = [Equation("z_t", applied(sigma, _gate_input(cell, z, "b")), z.role),
                     Equation("r_t", applied(sigma, _gate_input(cell, r, "b")), r.role)]
        bias = " + b_h" if cell.use_bias else ""
        equations.append(Equation("h̃_t", applied(act, f"x_t·W_h + (r_t ⊙ h_{{t−1}})·U_h{bias}"),
                                  "candidate, reset before the product"))
    equations.append(Equation("h_t", "z_t ⊙ h_{t−1} + (1 − z_t) ⊙ h̃_t",
                              "new hidden state = output at step t"))
    return equations


def simple_rnn_equations(layer: Recurrent, cell: Cell) -> List[Equation]:
    gate = CELL_GATES["simple_rnn"][0]
    return [Equation("h_t", applied(layer["activation"], _gate_input(cell, gate, "b")),
                     "new hidden state = output at step t")]


CELL_EQUATIONS = {"lstm": lstm_equations, "gru": gru_equations, "simple_rnn": simple_rnn_equations}


def _cell_symbols(layer: Recurrent, cell: Cell, batch: Dim) -> List[Symbol]:
    gates = CELL_GATES[cell.kind]
    f, u = cell.input_dim, cell.units
    row = (batch,)
    symbols = [Symbol("x_t", tensor_text(row + (f,)), f"the input at step t: {f} features per sample"),
               Symbol("h_{t−1}, h_t", tensor_text(row + (u,)), f"hidden state: one value per unit, {u} units")]
    if cell.kind == "lstm":
        symbols.append(Symbol("c_{t−1}, c_t", tensor_text(row + (u,)), "cell state: the LSTM's memory, "
                                                                       "one value per unit"))
    several = cell.gates > 1
    symbols.append(Symbol(", ".join(_names(gates, "W")), weight_text((f, u)),
                          "input weights" + (", one block of kernel per gate" if several else " (kernel)")))
    symbols.append(Symbol(", ".join(_names(gates, "U")), weight_text((u, u)),
                          "recurrent weights" + (", one block of recurrent_kernel per gate" if several
                                                 else " (recurrent_kernel)")))
    if cell.use_bias:
        if cell.separate_recurrent_bias:
            symbols.append(Symbol(", ".join(_names(gates, "b", "x")), weight_text((u,)), "input biases (bias[0])"))
            symbols.append(Symbol(", ".join(_names(gates, "b", "h")), weight_text((u,)),
                                  "recurrent biases (bias[1])"))
        else:
            symbols.append(Symbol(", ".join(_names(gates, "b")), weight_text((u,)),
                                  "biases" + (", one block of bias per gate" if several else "")))
    if several:
        outputs = {"lstm": "i_t, f_t, c̃_t, o_t", "gru": "z_t, r_t, h̃_t"}[cell.kind]
        symbols.append(Symbol(outputs, tensor_text(row + (u,)), "gate values at step t"))
    return symbols


def recurrent_block(layer: Recurrent, inputs: Sequence[TensorSpec], title: str,
                    initial_state: bool = False) -> Block:
    shape = inputs[0].shape
    cell = layer.cell(shape[-1])
    equations = CELL_EQUATIONS[cell.kind](layer, cell)
    activations = [layer[gate.activation] for gate in CELL_GATES[cell.kind]] + [layer["activation"]]
    return Block(title, _loop(layer, shape[1], initial_state), equations,
                 _cell_symbols(layer, cell, shape[0]),
                 legend(*activations, extra="⊙ = element-wise product" if cell.gates > 1 else ""))


def recurrent_in_words(layer: Recurrent, inputs: Sequence[TensorSpec]) -> List[str]:
    shape = inputs[0].shape
    cell = layer.cell(shape[-1])
    f, u, steps = cell.input_dim, cell.units, count_text(shape[1])
    kind = layer.keras_class
    memory = " and of c_t" if cell.kind == "lstm" else ""
    gates = f"each of the {cell.gates} gates" if cell.gates > 1 else "the cell"
    words = [
        f"A unit is one value of h_t{memory}: {kind}({u}) carries {u} numbers per sample from step to "
        f"step. The number of units is chosen freely; it does not have to match the {f} input features.",
        f"How the {f} features enter: at every step {gates} multiplies x_t {tensor_text((shape[0], f))} by "
        f"its own W {weight_text((f, u))}, so every feature reaches every unit through its own weight — "
        f"as in a Dense({u}) layer — and adds h_{{t−1}}·U, the previous step's hidden state through "
        f"U {weight_text((u, u))}.",
        f"The layer runs this step {steps} times, one step after the other, with the same weights at "
        "every step: it does not take the steps at once, and it has no weights per step.",
    ]
    if layer["return_sequences"]:
        words.append(f"return_sequences: true — it returns h_t of every step: "
                     f"{tensor_text((shape[0], shape[1], u))}, {u} values per step and sample.")
    else:
        words.append(f"return_sequences: false — it returns only the last hidden state h_{steps}: "
                     f"{tensor_text((shape[0], u))}, one vector of {u} values per sample and no value per "
                     "step.")
    if cell.kind == "lstm":
        words.append("Hidden state vs cell state: h_t is the output (and what the gates see at the next "
                     "step); c_t is the memory the gates write to and read from. c_t leaves the layer only "
                     "with return_state: true.")
    return words


@equations_for("LSTM", "GRU", "SimpleRNN")
def recurrent_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    shape = inputs[0].shape
    cell = layer.cell(shape[-1])
    headline = (f"{layer.keras_class} with {cell.units} units, reading {count_text(shape[1])} steps of "
                f"{cell.input_dim} features")
    return Math([recurrent_block(layer, inputs, "one step", context.initial_state)],
                recurrent_in_words(layer, inputs), cell_weight_layouts(cell), headline)


MERGE_EQUATIONS = {
    "concat": ("[h→ ; h←]", "the two halves side by side: last axis doubled"),
    "sum": ("h→ + h←", "element-wise sum"),
    "ave": ("(h→ + h←) / 2", "element-wise mean"),
    "mul": ("h→ ⊙ h←", "element-wise product"),
}


@equations_for("Bidirectional")
def bidirectional_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    forward, backward = layer.forward_layer, layer.backward_layer
    shape = inputs[0].shape
    steps = count_text(shape[1])
    backward_block = recurrent_block(backward, inputs, f"backward copy {backward.name}: the same "
                                                       "equations with its own weights",
                                     context.initial_state)
    backward_block.symbols, backward_block.legend = [], ""  # as for the forward copy
    blocks = [recurrent_block(forward, inputs, f"forward copy {forward.name}", context.initial_state),
              backward_block]
    merge_mode = layer.config["merge_mode"]
    units = forward.units
    if layer.return_sequences:
        subject = "y_t"
        what = (f"for every t: h→_t of the forward copy and h←_t of the backward copy (Keras reverses the "
                "backward outputs so both describe step t)")
    else:
        subject = "y"
        what = (f"h→ = h_{steps} of the forward copy, h← = the backward copy's last output, which has "
                f"read the sequence from step {steps} back to step 1")
    if merge_mode is None:
        equations = [Equation(f"{subject} (output 1)", "h→", "merge_mode: None returns both"),
                     Equation(f"{subject} (output 2)", "h←", "")]
    else:
        rhs, note = MERGE_EQUATIONS[merge_mode]
        equations = [Equation(subject, rhs, f"merge_mode: {merge_mode} — {note}")]
    width = 2 * units if merge_mode == "concat" else units
    blocks.append(Block("merge", "", equations,
                        [Symbol("h→, h←", tensor_text((shape[0], units)), what),
                         Symbol(subject, tensor_text((shape[0], width)), "the merged output"
                                + (" at step t" if layer.return_sequences else ""))],
                        "⊙ = element-wise product" if merge_mode == "mul" else ""))
    words = recurrent_in_words(forward, inputs)[:2]
    words.append(f"Bidirectional runs two independent copies of {forward.keras_class}({units}): one reads "
                 f"the {steps} steps forwards, the other backwards; each has its own weights, so the "
                 "parameter count doubles.")
    layouts = {}
    for direction, copy in (("forward", forward), ("backward", backward)):
        for name, text in cell_weight_layouts(copy.cell(shape[-1])).items():
            layouts[f"{direction}/{name}"] = text
    headline = (f"Bidirectional {forward.keras_class} with {units} units per direction, reading "
                f"{steps} steps of {shape[-1]} features both ways")
    return Math(blocks, words, layouts, headline)


@equations_for("TimeDistributed")
def time_distributed_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    inner = layer.inner
    step_inputs = layer._step_inputs(inputs)
    inner_math = build_math(inner, step_inputs, inner.output_shapes(step_inputs), context)
    steps = count_text(inputs[0].shape[1])
    wrapper = Block(f"each step", f"for t = 1, …, {steps}, the same {inner.keras_class} weights at every step",
                    [Equation("y_t", f"{inner.name}(x_t)", f"{inner.keras_class} applied to one step")],
                    [Symbol("x_t", tensor_text(step_inputs[0].shape), "one step of the input")])
    return Math([wrapper] + inner_math.blocks, inner_math.in_words, inner_math.weight_layouts,
                f"{inner.keras_class} applied to each of {steps} steps")


@equations_for("Sequential", "Functional")
def nested_model_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
                      context: Context) -> Math:
    report = layer.inner_report(inputs)
    equations = [Equation(record.name, f"{record.type}({', '.join(record.inputs)})",
                          ", ".join(tensor_text(shape) for shape in record.output_shapes or []))
                 for record in report.layers]
    block = Block("the inner model", "its layers in order, each on what it is connected to", equations,
                  _io_symbols(inputs, outputs),
                  f"Explain each inner layer by running lstmcalc explain on the inner model ({layer.name}).")
    return Math([block], [f"A {layer.keras_class} model of {plural(len(report.layers), 'layer')} used as "
                          "one layer: its weights are all of theirs."], {},
                f"{layer.keras_class} model {layer.name} of {plural(len(report.layers), 'layer')}")


# -- other layers: one line each ------------------------------------------------------------------

def _io_symbols(inputs: Sequence[TensorSpec], outputs: Sequence[Shape], x: str = "x", y: str = "y"):
    return [Symbol(x, tensor_text(inputs[0].shape), "the input"),
            Symbol(y, tensor_text(outputs[0]), "the output")]


def _single(title: str, equations: List[Equation], symbols: List[Symbol], loop: str = "",
            legend_text: str = "", layouts: Optional[Dict[str, str]] = None, words: Optional[List[str]] = None,
            headline: str = "") -> Math:
    return Math([Block(title, loop, equations, symbols, legend_text)], words or [], layouts or {}, headline)


@equations_for("Dense")
def dense_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    shape = inputs[0].shape
    n, units = shape[-1], layer["units"]
    bias = " + b" if layer["use_bias"] else ""
    positions = shape[1:-1]
    loop = ""
    x, y = "x", "y"
    if positions:
        loop = ("at each position of " + " × ".join(count_text(d) for d in positions)
                + " separately, with the same W: Dense acts on the last axis only")
        x, y = "x_t", "y_t"
    symbols = [Symbol(x, tensor_text((shape[0], n)), f"{plural(n, 'input value')}"),
               Symbol("W", weight_text((n, units)), "kernel: one column of weights per unit"),
               ] + ([Symbol("b", weight_text((units,)), "bias")] if layer["use_bias"] else []) + [
               Symbol(y, tensor_text((shape[0], units)), f"{plural(units, 'output')}, one per unit")]
    each = f"Each of the {units:,} units" if units > 1 else "The unit"
    words = [f"{each} sums all {plural(n, 'input')}, each through its own weight: "
             f"{n} × {units} weights" + (f" plus {plural(units, 'bias')}." if layer["use_bias"] else ".")]
    return _single("once per sample" if not positions else "each position",
                   [Equation(y, applied(layer["activation"], f"{x}·W{bias}"), "")], symbols, loop,
                   legend(layer["activation"]), {"kernel": "W", "bias": "b"}, words,
                   f"Dense with {plural(units, 'unit')} on {plural(n, 'input')}")


@equations_for("Embedding")
def embedding_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    rows, width = layer["input_dim"], layer["output_dim"]
    words = [f"Each integer id 0 … {rows - 1:,} selects one row of E: a learned vector of {width} values. "
             "Nothing is multiplied."]
    if layer["mask_zero"]:
        words.append("mask_zero: true — id 0 is padding: the mask marks those steps, and the layers that "
                     "use masks (LSTM, GRU, GlobalAveragePooling1D, ...) skip them.")
    return _single("each id", [Equation("y[…, :]", "E[x[…]]", "row lookup")],
                   [Symbol("x", tensor_text(inputs[0].shape), "integer ids"),
                    Symbol("E", weight_text((rows, width)), "embeddings: one row per id"),
                    Symbol("y", tensor_text(outputs[0]), "one vector per id")],
                   layouts={"embeddings": "E"}, words=words,
                   headline=f"Embedding of {rows:,} ids into {width} values")


@equations_for("Masking")
def masking_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    value = layer["mask_value"]
    return _single("each step", [Equation("mask_t", f"any(x_t ≠ {value})", "a step is padding when all its "
                                                                         "features equal mask_value"),
                                 Equation("y", "x", "values unchanged; the mask travels with y")],
                   _io_symbols(inputs, outputs), headline=f"Masking of steps equal to {value}")


@equations_for("Dropout", "SpatialDropout1D")
def dropout_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    rate = layer["rate"]
    shape = inputs[0].shape
    mask = tensor_text((shape[0], 1, shape[-1])) if layer.keras_class == "SpatialDropout1D" else "x's shape"
    return _single("training only", [
        Equation("y", f"x ⊙ m / (1 − {rate})", f"while training: m is random 0/1 with P(1) = {1 - rate:g}, "
                                              f"shape {mask}"),
        Equation("y", "x", "at inference")],
        _io_symbols(inputs, outputs), legend_text="⊙ = element-wise product",
        headline=f"{layer.keras_class} of rate {rate}")


@equations_for("Activation")
def activation_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    return _single("element-wise", [Equation("y", applied(layer["activation"], "x"), "")],
                   _io_symbols(inputs, outputs), legend_text=legend(layer["activation"]),
                   headline=f"Activation {layer['activation']}")


@equations_for("RepeatVector")
def repeat_vector_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    n = layer["n"]
    return _single("each step", [Equation("y_t", "x", f"for t = 1, …, {n}: the same vector at every step")],
                   _io_symbols(inputs, outputs),
                   words=[f"Turns one vector per sample into a sequence of {n} equal steps, e.g. to feed a "
                          "recurrent layer."],
                   headline=f"RepeatVector {n} times")


@equations_for("Flatten", "Reshape", "Permute")
def rearrangement_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    if layer.keras_class == "Permute":
        rhs = f"transpose(x, axes=(0, {', '.join(str(d) for d in layer['dims'])}))"
    else:
        rhs = f"reshape(x, {tensor_text(outputs[0])})"
    return _single("once per sample", [Equation("y", rhs, "the same values, rearranged")],
                   _io_symbols(inputs, outputs), headline=f"{layer.keras_class}")


@equations_for("Conv1D")
def conv_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    kernel = layer.weight_shapes(inputs)[0].shape
    k, per_group, filters = kernel
    stride, dilation = layer["strides"][0], layer["dilation_rate"][0]
    bias = " + b" if layer["use_bias"] else ""
    index = "t" if stride == 1 else f"{stride}·t"
    offset = "k" if dilation == 1 else f"{dilation}·k"
    steps = outputs[0][1] if layer["data_format"] != "channels_first" else outputs[0][2]
    symbols = [Symbol("x_t", tensor_text((inputs[0].shape[0], per_group * layer["groups"])), "one input step"),
               Symbol("W_k", weight_text((per_group, filters)), f"kernel[k], k = 0, …, {k - 1}"),
               ] + ([Symbol("b", weight_text((filters,)), "bias")] if layer["use_bias"] else []) + [
               Symbol("y_t", tensor_text((outputs[0][0], filters)), "one output step")]
    return _single("each output step", [Equation(
        "y_t", applied(layer["activation"], f"Σ_k x_{{{index} + {offset}}}·W_k{bias}"),
        f"padding: {layer['padding']}")], symbols, f"for t over {count_text(steps)} output steps",
        legend(layer["activation"]), {"kernel": f"[W_0 … W_{k - 1}]", "bias": "b"},
        headline=f"Conv1D with {filters} filters of width {k}")


@equations_for("MaxPooling1D", "AveragePooling1D")
def pooling_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    pool, stride = layer["pool_size"][0], layer["strides"][0]
    function = "max" if layer.keras_class == "MaxPooling1D" else "mean"
    return _single("each output step", [Equation(
        "y_t", f"{function}(x_{{{stride}·t}}, …, x_{{{stride}·t + {pool - 1}}})", f"padding: {layer['padding']}")],
        _io_symbols(inputs, outputs), headline=f"{layer.keras_class} over {pool} steps")


@equations_for("GlobalAveragePooling1D", "GlobalMaxPooling1D")
def global_pooling_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    function = "mean" if "Average" in layer.keras_class else "max"
    note = "over the steps not masked" if function == "mean" else "over all steps"
    return _single("once per sample", [Equation("y", f"{function}_t x_t", note)],
                   _io_symbols(inputs, outputs), headline=f"{layer.keras_class}: one vector per sample")


@equations_for("LayerNormalization", "BatchNormalization")
def normalization_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
              context: Context) -> Math:
    epsilon = layer["epsilon"]
    if layer.keras_class == "LayerNormalization":
        where = "μ, σ² = mean and variance of each sample over the normalised axes"
    else:
        where = ("μ, σ² = the batch's mean and variance per feature while training; moving_mean and "
                 "moving_variance at inference")
    scale = "γ ⊙ " if layer.config.get("scale", True) or layer.config.get("rms_scaling") else ""
    shift = " + β" if layer.config.get("center", True) and not layer.config.get("rms_scaling") else ""
    rhs = f"{scale}(x − μ) / √(σ² + {epsilon}){shift}"
    if layer.config.get("rms_scaling"):
        # Keras 3.15 divides by √(var(x) + ε) here, not by the root mean square, and does not centre.
        rhs, where = f"γ ⊙ x / √(σ² + {epsilon})", "rms_scaling: σ² = variance over the axes; x is not centred"
    return _single("element-wise", [Equation("y", rhs, where)],
                   _io_symbols(inputs, outputs), legend_text="⊙ = element-wise product",
                   layouts={"gamma": "γ", "beta": "β"}, headline=f"{layer.keras_class}")


# -- merges and attention --------------------------------------------------------------------------

_ELEMENTWISE = {"Add": "x₁ + x₂ + …", "Subtract": "x₁ − x₂", "Multiply": "x₁ ⊙ x₂ ⊙ …",
                "Average": "(x₁ + x₂ + …) / n", "Maximum": "max(x₁, x₂, …)", "Minimum": "min(x₁, x₂, …)"}


def _merge_symbols(inputs: Sequence[TensorSpec], outputs: Sequence[Shape]) -> List[Symbol]:
    return ([Symbol(f"x{_subscript(index + 1)}", tensor_text(tensor.shape), f"input {index + 1}")
             for index, tensor in enumerate(inputs)] + [Symbol("y", tensor_text(outputs[0]), "the output")])


def _subscript(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


@equations_for(*_ELEMENTWISE)
def elementwise_merge_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
                           context: Context) -> Math:
    words = ["Element by element: the inputs must have equal sizes after the batch axis, where a size "
             "of 1 stretches to match (shapes align on the right). No weights."]
    return _single("element-wise", [Equation("y", _ELEMENTWISE[layer.keras_class], "")],
                   _merge_symbols(inputs, outputs), legend_text="⊙ = element-wise product",
                   words=words, headline=f"{layer.keras_class} of {plural(len(inputs), 'tensor')}")


@equations_for("Concatenate")
def concatenate_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
                     context: Context) -> Math:
    axis = layer["axis"]
    return _single("once per sample", [Equation("y", f"[x₁ ‖ x₂ ‖ …] along axis {axis}",
                                                 "every other axis must match")],
                   _merge_symbols(inputs, outputs), legend_text="‖ = joined end to end",
                   words=["The inputs' values side by side: sizes along the axis add up. No weights."],
                   headline=f"Concatenate along axis {axis}")


@equations_for("Dot")
def dot_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
    axes = layer["axes"]
    axes_text = f"axis {axes} of each" if isinstance(axes, int) else f"axis {axes[0]} of x₁ with axis {axes[1]} of x₂"
    note = "each input L2-normalised first: cosine similarity" if layer["normalize"] else ""
    return _single("once per sample", [Equation("y", f"Σ x₁ · x₂ over {axes_text}", note)],
                   _merge_symbols(inputs, outputs),
                   words=["A batch of dot products: the summed axes disappear, the others remain. No weights."],
                   headline="Dot product")


@equations_for("Attention", "AdditiveAttention")
def attention_math(layer: Layer, inputs: Sequence[TensorSpec], outputs: Sequence[Shape],
                   context: Context) -> Math:
    key = "k" if len(inputs) > 2 else "v"
    if layer.keras_class == "AdditiveAttention":
        score = f"Σ tanh(q_t + {key}_s){' ⊙ scale' if layer['use_scale'] else ''}"
    elif layer["score_mode"] == "concat":
        score = f"{'scale · ' if layer['use_scale'] else ''}w · Σ tanh(q_t + {key}_s)"
    else:
        score = f"{'scale · ' if layer['use_scale'] else ''}q_t · {key}_s"
    names = ["q", "v", "k"]
    symbols = ([Symbol(names[index], tensor_text(tensor.shape), ("query", "value", "key")[index])
                for index, tensor in enumerate(inputs)] + [Symbol("y", tensor_text(outputs[0]), "the output")])
    equations = [Equation("e_ts", score, "a score for query step t against key step s"),
                 Equation("a_t", "softmax_s(e_ts)", "weights over the key steps, summing to 1"),
                 Equation("y_t", "Σ_s a_ts · v_s", "a weighted average of the values")]
    words = [f"For each query step, {layer.keras_class} scores every key step, turns the scores into "
             "weights with a softmax and averages the values with them: the output has the query's steps "
             "and the value's features."]
    return _single("each query step", equations, symbols, words=words,
                   headline=f"{layer.keras_class} over [{', '.join(names[:len(inputs)])}]")
