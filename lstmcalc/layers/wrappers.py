"""Bidirectional and TimeDistributed: they delegate shapes and weights to the wrapped layer."""

from __future__ import annotations

from typing import List, Optional, Sequence

from ..arithmetic import Expression, number, plus, times
from ..diagnostics import Problem
from ..shapes import Shape, format_shape, product
from .arguments import Arg, anything, choice, layer_definition, optional_layer_definition
from .base import (Amount, Arrays, Example, Forward, Layer, MacCount, Masks, TensorSpec, Weight, WeightArrays,
                   check_inputs, clone, numpy_module, register)
from .explanation import (Block, Context, Equation, FrameworkView, Math, Setting, Symbol, TensorRow, count_text,
                          tensor_text)
from .recurrent import (check_states, copies_expression, dense_comparison, port_recurrent, pytorch_view,
                        recurrent_output_rows, recurrent_settings, time_axis_reason)


def _frozen_wrapper_warning(wrapper: Layer) -> List[Problem]:
    if wrapper.trainable:
        return []
    inner = wrapper.config["layer"]
    return [Problem(
        "P001",
        f"trainable: false on {wrapper.keras_class} does not freeze {inner.name}: in Keras 3 the flag "
        "given to the wrapper's constructor does not reach the wrapped layer, whose weights still "
        "train (and count as trainable).",
        f"Put `trainable: false` on the wrapped layer ({inner.keras_class}(..., trainable=False)), or set "
        f"`{wrapper.name}.trainable = False` after building the model.", argument="trainable")]


def _is_single_recurrent(layer: Layer) -> bool:
    """A recurrent layer itself (not a wrapper of one): what Bidirectional can copy."""
    return layer.recurrent_copies() == [layer]


def _without_prefix(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


# How merge_mode joins the two directions, as the equations write it.
MERGE_EQUATIONS = {
    "concat": ("[h→ ; h←]", "the two halves side by side: last axis doubled"),
    "sum": ("h→ + h←", "element-wise sum"),
    "ave": ("(h→ + h←) / 2", "element-wise mean"),
    "mul": ("h→ ⊙ h←", "element-wise product"),
}


@register
class Bidirectional(Layer):
    """Two copies of a recurrent layer, one reading backwards, merged by ``merge_mode``."""

    keras_class = "Bidirectional"
    takes_initial_state = True
    examples = (Example("Bidirectional(LSTM(4, return_sequences=True))", ((6, 3),)),
                Example("Bidirectional(GRU(3, return_state=True), merge_mode='sum')", ((6, 3),)))
    displayed_arguments = ("merge_mode",)
    supports_masking = True
    consumes_mask = True
    arguments = (
        Arg("layer", layer_definition),
        Arg("merge_mode", choice("sum", "mul", "ave", "concat", None), "concat"),
        Arg("weights", anything, None),
        Arg("backward_layer", optional_layer_definition, None),
    )

    def __init__(self, name, config, convention="keras", locations=None):
        super().__init__(name, config, convention, locations)
        inner = config["layer"]
        self.forward_layer = None
        self.backward_layer = None
        if _is_single_recurrent(inner):
            self.forward_layer = clone(inner, "forward_" + _without_prefix(inner.name, "forward_"))
            given = config.get("backward_layer")
            self.backward_layer = given if given is not None else clone(
                inner, "backward_" + _without_prefix(inner.name, "backward_"), go_backwards=True)

    def check_config(self) -> None:
        for key in ("layer", "backward_layer"):
            inner = self.config.get(key)
            if inner is not None and not _is_single_recurrent(inner):
                raise Problem(
                    "S005", f"Bidirectional wraps a recurrent layer (LSTM, GRU, SimpleRNN or a ConvLSTM); "
                            f"`{key}` is a {inner.keras_class}.",
                    "Wrap an RNN, e.g. Bidirectional(LSTM(32)); use TimeDistributed for other layers.",
                    argument=key)
        forward, backward = self.forward_layer, self.backward_layer
        if forward["go_backwards"] == backward["go_backwards"]:
            raise Problem(
                "S012", "Forward layer and backward layer should have different `go_backwards` value. "
                        # Keras's words, its missing "=" after the forward layer's included
                        f"Received: forward_layer.go_backwards {forward['go_backwards']}, "
                        f"backward_layer.go_backwards={backward['go_backwards']}.",
                "Bidirectional makes the backward copy itself: remove `go_backwards: true` from the "
                "wrapped layer.", argument="layer")
        for attribute in ("stateful", "return_sequences", "return_state"):
            if forward[attribute] != backward[attribute]:
                raise Problem(
                    "S012", "Forward layer and backward layer are expected to have the same value "
                            f'for attribute "{attribute}", got "{forward[attribute]}" for forward layer '
                            f'and "{backward[attribute]}" for backward layer.',
                    f"Give `backward_layer` the same {attribute} as `layer`.", argument="backward_layer")

    def sublayers(self) -> List[Layer]:
        return [layer for layer in (self.forward_layer, self.backward_layer) if layer is not None]

    def recurrent_copies(self) -> List[Layer]:
        return self.sublayers()

    @property
    def sequence_axes(self):  # type: ignore[override]  # the wrapped layer's
        return self.forward_layer.sequence_axes

    @property
    def merged_outputs(self) -> int:
        """merge_mode None returns the two directions' outputs apart."""
        return 2 if self.config["merge_mode"] is None else 1

    def with_return(self, return_sequences: bool, return_state: bool) -> Layer:
        overrides = {"return_sequences": return_sequences, "return_state": return_state}
        config = dict(self.config)
        config["layer"] = clone(config["layer"], config["layer"].name, **overrides)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = clone(config["backward_layer"], config["backward_layer"].name, **overrides)
        return Bidirectional(self.name, config, self.convention)

    def keras_masks(self, inputs, masks, count: int, graph) -> list:
        mask = masks[0] if masks and self.return_sequences else None
        return [mask] * self.merged_outputs + [None] * (count - self.merged_outputs)

    def kept_for_backprop(self, inputs: Sequence[TensorSpec]) -> Amount:
        return self.forward_layer.kept_for_backprop(inputs) + self.backward_layer.kept_for_backprop(inputs)

    def parameter_expression(self, inputs: Sequence[TensorSpec]) -> Expression:
        return copies_expression([copy.parameter_expression(inputs) for copy in self.sublayers()])

    def framework_view(self, inputs: Sequence[TensorSpec]) -> Optional[FrameworkView]:
        if self.forward_layer.framework_view(inputs) is None:
            return None  # no module to hold one direction, none for both
        return pytorch_view(self, inputs)

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan) -> None:
        port_recurrent(self, self.recurrent_copies(), inputs, plan)

    def output_rows(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape]) -> List[TensorRow]:
        return recurrent_output_rows(self, inputs, outputs, self.merged_outputs)

    def return_settings(self, inputs: Sequence[TensorSpec]) -> List[Setting]:
        return recurrent_settings(self, inputs)

    def missing_time_axis_reason(self, received: TensorSpec, source: str, mismatch: str) -> Optional[str]:
        return time_axis_reason(self.forward_layer, self.name, self.keras_class, received, source, mismatch)

    def compared_with_dense(self, received: TensorSpec, params: int) -> str:
        if not self.forward_layer.compared_with_dense(received, params):
            return ""
        return dense_comparison(self.name, self.forward_layer.units, received, params)

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        forward, backward = self.forward_layer, self.backward_layer
        shape = inputs[0].shape
        steps = count_text(shape[1])
        backward_block = backward.cell_block(inputs, f"backward copy {backward.name}: the same equations with "
                                                     "its own weights", context.initial_state)
        backward_block.symbols, backward_block.legend = [], ""  # as for the forward copy
        blocks = [forward.cell_block(inputs, f"forward copy {forward.name}", context.initial_state),
                  backward_block]
        merge_mode = self.config["merge_mode"]
        units = forward.units
        step = forward.state_shapes_of(inputs)[0]  # one direction's output at one step
        if self.return_sequences:
            subject = "y_t"
            what = ("for every t: h→_t of the forward copy and h←_t of the backward copy (Keras reverses the "
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
        merged = step[:-1] + (2 * step[-1],) if merge_mode == "concat" else step
        blocks.append(Block("merge", "", equations,
                            [Symbol("h→, h←", tensor_text(step), what),
                             Symbol(subject, tensor_text(merged), "the merged output"
                                    + (" at step t" if self.return_sequences else ""))],
                            "⊙ = element-wise product" if merge_mode == "mul" else ""))
        words = forward.in_words(inputs)[:2]
        words.append(f"Bidirectional runs two independent copies of {forward.keras_class}({units}): one reads "
                     f"the {steps} steps forwards, the other backwards; each has its own weights, so the "
                     "parameter count doubles.")
        layouts = {}
        for direction, copy in (("forward", forward), ("backward", backward)):
            for name, text in copy.weight_layouts(copy.cell_of(inputs)).items():
                layouts[f"{direction}/{name}"] = text
        headline = (f"Bidirectional {forward.keras_class} with {forward.width_text()} per direction, reading "
                    f"{steps} steps of {forward.step_text(inputs)} both ways")
        return Math(blocks, words, layouts, headline)

    def check_initial_state(self, inputs: Sequence[TensorSpec], states: Sequence[TensorSpec]) -> None:
        # Keras splits the list in half, len // 2: forward states, then backward states (a GRU uses
        # the first of its half and ignores the others).
        forward, backward = self.forward_layer, self.backward_layer
        names = list(forward.state_names) + list(backward.state_names)
        half = len(states) // 2
        if not (forward.accepts_state_count(half) and backward.accepts_state_count(len(states) - half)):
            split = (f" Keras gives the first half ({half}) to the forward layer and the other "
                     f"{len(states) - half} to the backward one."
                     if len(forward.state_names) != len(backward.state_names) or len(states) % 2 else "")
            raise Problem(
                "T003", f"{self.name} (Bidirectional) takes {len(names)} initial states — the forward "
                        f"layer's {list(forward.state_names)} then the backward layer's "
                        f"{list(backward.state_names)} — but receives {len(states)}.{split}",
                "List the forward states first, then the backward ones.", argument="initial_state")
        check_states(forward, inputs, states[:half], f"{self.name} forward")
        check_states(backward, inputs, states[half:], f"{self.name} backward", offset=half)

    def expected_rank(self):
        return self.forward_layer.expected_rank()

    @property
    def return_state(self) -> bool:
        return self.forward_layer["return_state"]

    @property
    def return_sequences(self) -> bool:
        return self.forward_layer["return_sequences"]

    def keras_saved_paths(self, weights: Sequence[Weight]) -> List[str]:
        paths = []
        for direction, layer in (("forward", self.forward_layer), ("backward", self.backward_layer)):
            own = [weight for weight in weights if weight.name.startswith(direction + "/")]
            paths += [f"{direction}_layer/{path}" for path in layer.keras_saved_paths(own)]
        return paths

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        weights = []
        for direction, layer in (("forward", self.forward_layer), ("backward", self.backward_layer)):
            for weight in layer.weight_shapes(inputs):
                # Keras 3 quirk: `trainable=False` given to the wrapper's constructor does not reach
                # the copies it makes, so their weights still train (see warnings()).
                weights.append(Weight(f"{direction}/{weight.name}", weight.shape, weight.trainable,
                                      weight.dtype))
        return weights

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MacCount:
        # Both copies read every step; merging adds no products with a weight.
        forward = self.forward_layer.macs(inputs, outputs)
        backward = self.backward_layer.macs(inputs, outputs)
        if forward.per_step == backward.per_step:
            per_step = times(number(2, "directions"), forward.per_step)
        else:
            per_step = plus(forward.per_step, backward.per_step)
        return MacCount(per_step, forward.steps)

    def warnings(self, inputs: Sequence[TensorSpec]) -> List[Problem]:
        findings = _frozen_wrapper_warning(self) + self.forward_layer.warnings(inputs)
        forward, backward = self.forward_layer.units, self.backward_layer.units
        if forward != backward:
            output = self.forward_layer.output_shapes(inputs)[0]
            units = self.forward_layer.units_name
            findings.append(Problem(
                "H006", f"The forward layer has {forward} {units} and the backward layer {backward}: Keras "
                        f"declares the concatenated output as {output[:-1] + (2 * forward,)} (twice the "
                        f"forward {units}), but the model outputs {output[:-1] + (forward + backward,)} when it "
                        f"runs.", f"Give backward_layer the same {units} as the wrapped layer.",
                argument="backward_layer"))
        return findings

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        # As Keras: the forward layer's shapes decide; concat doubles the last axis.
        backward_output = self.backward_layer.output_shapes(inputs)[0]  # and its own checks (stateful, unroll)
        forward = self.forward_layer.output_shapes(inputs)
        output, states = forward[0], forward[1:]
        merge_mode = self.config["merge_mode"]
        forward_units, backward_units = self.forward_layer.units, self.backward_layer.units
        units = self.forward_layer.units_name
        if merge_mode in ("sum", "mul", "ave") and forward_units != backward_units:
            raise Problem(
                "H004", f"merge_mode {merge_mode!r} combines the two directions element by element, but the "
                        f"forward layer has {forward_units} {units} and the backward layer {backward_units}: "
                        "Keras builds this model but fails when it runs.",
                f"Give backward_layer the same {units}, or use merge_mode 'concat'.", argument="backward_layer")
        if merge_mode is not None and tuple(backward_output[:-1]) != tuple(output[:-1]):
            how = "side by side on the last axis" if merge_mode == "concat" else "element by element"
            raise Problem(
                "H004", f"The forward layer outputs {format_shape(output)} and the backward layer "
                        f"{format_shape(backward_output)}: merge_mode {merge_mode!r} joins them {how}, which needs "
                        "every other axis to match. Keras builds this model but fails when it runs.",
                "Give backward_layer the arguments of the wrapped layer (all but go_backwards), so both "
                "directions output the same shape.", argument="backward_layer")
        if merge_mode == "concat":
            outputs = [output[:-1] + (output[-1] * 2,)]
        elif merge_mode is None:
            outputs = [output, output]
        else:
            outputs = [output]
        if self.return_state:
            return outputs + list(states) + list(states)
        return outputs

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        masked = inputs[0].masked and self.return_sequences
        merged = 2 if self.config["merge_mode"] is None else 1
        return [masked] * merged + [False] * (count - merged)

    def computed_shapes_hint(self) -> str:
        return ("Give backward_layer the same type and units as layer."
                if self.forward_layer.config.get("activation") != "glu" else super().computed_shapes_hint())

    def computed_shapes(self, inputs: Sequence[TensorSpec]) -> Optional[List[Shape]]:
        """A backward_layer unlike the forward one: Keras declares the forward layer's shapes
        (the last axis doubled for concat, its states twice) but returns the real ones."""
        forward = self.forward_layer.output_shapes(inputs)
        backward = self.backward_layer.output_shapes(inputs)
        merge_mode = self.config["merge_mode"]
        if forward[0] == backward[0] and (not self.return_state or forward[1:] == backward[1:]):
            return None
        if forward[0] != backward[0] and merge_mode not in ("concat", None):
            return None  # Keras fails when it runs (see output_shapes and forward)
        self.output_shapes(inputs)  # rejects what Keras cannot run
        if merge_mode == "concat":
            merged = [forward[0][:-1] + (forward[0][-1] + backward[0][-1],)]
        elif merge_mode is None:
            merged = [forward[0], backward[0]]
        else:
            merged = [forward[0]]
        return merged + (forward[1:] + backward[1:] if self.return_state else [])

    def forward_scratch(self, inputs: Sequence[TensorSpec]) -> int:
        directions = [self.forward_layer, self.backward_layer]
        # Each direction's loop, then both directions' outputs before they are merged.
        outputs = sum(sum(product(shape) for shape in layer.output_shapes(inputs)) for layer in directions)
        return max(layer.forward_scratch(inputs) for layer in directions) + outputs

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """Keras's Bidirectional.call: the backward layer reads the sequence last to first and its
        sequence is flipped back before the merge; with return_sequences both layers give zeros
        (not the previous output) at masked steps, as Keras forces zero_output_for_mask then."""
        mask = masks[0] if masks else None
        half = len(initial_state) // 2 if initial_state else 0
        # Keras 3 hands the mask to call() only when the sequence is its one tensor argument.
        call_mask = None if initial_state is not None else mask
        results = []
        for direction, layer, states in (
                ("forward", self.forward_layer, initial_state[:half] if initial_state else None),
                ("backward", self.backward_layer, initial_state[half:] if initial_state else None)):
            prefix = direction + "/"
            own = {name[len(prefix):]: array for name, array in weights.items() if name.startswith(prefix)}
            results.append(layer.recurrence(own, inputs[0], call_mask, states,
                                            zero_output_for_mask=self.return_sequences))
        (y, *forward_states), (y_rev, *backward_states) = results
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        merge_mode = self.config["merge_mode"]
        if merge_mode in ("sum", "ave", "mul") and y.shape != y_rev.shape:
            raise Problem(
                "V005", f"Incompatible shapes: {list(y.shape)} vs. {list(y_rev.shape)}: merge_mode "
                        f"{merge_mode!r} combines the forward layer's {self.forward_layer.units} units with "
                        f"the backward layer's {self.backward_layer.units} element by element.",
                "Keras fails too when the model runs. Give backward_layer the same units, or use "
                "merge_mode 'concat'.")
        if merge_mode == "concat":
            merged = [numpy_module().concatenate([y, y_rev], axis=-1)]
        elif merge_mode == "sum":
            merged = [y + y_rev]
        elif merge_mode == "ave":
            merged = [(y + y_rev) / 2]
        elif merge_mode == "mul":
            merged = [y * y_rev]
        else:
            merged = [y, numpy_module().ascontiguousarray(y_rev)]
        states = list(forward_states) + list(backward_states) if self.return_state else []
        output_mask = mask if self.return_sequences else None
        return merged + states, [output_mask] * len(merged) + [None] * len(states)


@register
class TimeDistributed(Layer):
    """Applies the wrapped layer to every time step: (batch, time, ...) → (batch, time, ...)."""

    keras_class = "TimeDistributed"
    examples = (Example("TimeDistributed(Dense(5))", ((6, 3),)),)
    supports_masking = True
    consumes_mask = True
    arguments = (Arg("layer", layer_definition),)

    @property
    def inner(self) -> Layer:
        return self.config["layer"]

    def sublayers(self) -> List[Layer]:
        return [self.inner]

    def keras_saved_paths(self, weights: Sequence[Weight]) -> List[str]:
        return ["layer/" + path for path in self.inner.keras_saved_paths(weights)]

    def _step_inputs(self, inputs: Sequence[TensorSpec]) -> List[TensorSpec]:
        shape = inputs[0].shape
        if len(shape) < 3:
            raise Problem(
                "H001", "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                        f"dimensions, received: {shape}",
                "TimeDistributed applies its layer to each time step of (batch, time, ...); "
                "give it a sequence, e.g. with return_sequences: true on the layer before.")
        step = TensorSpec((shape[0],) + tuple(shape[2:]), inputs[0].dtype)
        check_inputs(self.inner, [step], rank=self.inner.step_rank())
        return [step]

    def computed_shapes_hint(self) -> str:
        return self.inner.computed_shapes_hint()

    def computed_shapes(self, inputs: Sequence[TensorSpec]) -> Optional[List[Shape]]:
        """What the wrapped layer's call() really gives each step, where it is not what its
        compute_output_shape declares, with the time axis put back."""
        inner = self.inner.computed_shapes(self._step_inputs(inputs))
        if inner is None:
            return None
        shape = inputs[0].shape
        return [(shape[0], shape[1]) + tuple(computed[1:]) for computed in inner]

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        # As for Bidirectional, the wrapper's own `trainable` does not reach the wrapped layer.
        return self.inner.weight_shapes(self._step_inputs(inputs))

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> Optional[MacCount]:
        step_inputs = self._step_inputs(inputs)
        inner = self.inner.macs(step_inputs, self.inner.outputs(step_inputs))
        if inner is None:
            return None
        length = inputs[0].shape[1]
        steps = None if inner.steps is None or length is None else inner.steps * length
        return MacCount(inner.per_step, steps, "position")

    def warnings(self, inputs: Sequence[TensorSpec]) -> List[Problem]:
        return _frozen_wrapper_warning(self)

    def port_to(self, framework: str, inputs: Sequence[TensorSpec], plan) -> None:
        """A wrapped layer acting on the last axis alone (Dense) is the same layer on every step.
        Any other is the wrapped layer's own port on the steps folded into the batch: nn.Flatten(0, 1)
        before it, nn.Unflatten(0, (-1, T)) after it, as Keras's TimeDistributed reshapes; one fold
        for consecutive TimeDistributed layers, whose layers then run one after the other on it
        (only the last one's output has a tensor of its own)."""
        if self.inner.acts_on_last_axis:
            clone(self.inner, self.name).port_to(framework, inputs, plan)
            return
        from .porting import Counterpart, Entry, Fold, Handover, Link, refuse

        steps = inputs[0].shape[1]
        if steps is None:
            raise refuse(self, framework, "its input has an unknown number of steps, and torch's unflatten needs "
                                          "it to give the steps their own axis back.",
                         "Give the input a fixed number of steps.")
        first = len(plan.counterparts)
        fold = plan.before.fold
        if fold is not None and fold.steps == steps:
            plan.continue_fold(fold, self.name)
            head = []
        else:
            head = plan.steps() + [Entry("Flatten", f"{self.name}_fold", {"start_dim": 0, "end_dim": 1})]
        plan.before = Handover()  # nothing joins the wrapped layer across the fold
        try:
            clone(self.inner, self.name).port_to(framework, self._step_inputs(inputs), plan)
        except Problem as problem:
            reason = problem.message.split("equivalent: ", 1)[-1].rstrip(".")
            raise refuse(self, framework, f"the {self.inner.keras_class} it wraps has none ({reason}).",
                         problem.hint) from None
        layout = plan.layout()
        tail = plan.steps() + [Entry("Unflatten", f"{self.name}_unfold", {"dim": 0, "unflattened_size": [-1, steps]})]
        inner = plan.counterparts[first:]
        del plan.counterparts[first:]

        def convert(own: Arrays) -> Arrays:
            return {key: value for counterpart in inner for key, value in counterpart.convert(own).items()}

        entries = head + [entry for counterpart in inner for entry in counterpart.entries] + tail
        counterpart = plan.add(Counterpart(self.name, entries, convert, [Link(0, tail[-1].name)]))
        plan.after = Handover(fold=Fold(steps, counterpart, tail, layout))

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        step_outputs = self.inner.output_shapes(self._step_inputs(inputs))
        if len(step_outputs) != 1:
            raise Problem(
                "H004", f"TimeDistributed needs a layer with one output; {self.inner.name} returns "
                        f"{len(step_outputs)}.", "Drop return_state from the wrapped layer.")
        step = step_outputs[0]
        return [(step[0], inputs[0].shape[1]) + tuple(step[1:])]

    def forward_scratch(self, inputs: Sequence[TensorSpec]) -> int:
        return self.inner.forward_scratch(self._step_inputs(inputs))

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """The wrapped layer on all (batch × time) steps at once: the same numbers as Keras's loop
        over time, since the layer treats the samples of a batch independently."""
        x = inputs[0]
        batch, steps = x.shape[0], x.shape[1]
        outputs, _ = self.inner.forward(weights, [x.reshape((batch * steps,) + x.shape[2:])], [None])
        y = outputs[0]
        return [y.reshape((batch, steps) + y.shape[1:])], self.passed_masks(masks, 1)

    def kept_for_backprop(self, inputs: Sequence[TensorSpec]) -> Amount:
        length = inputs[0].shape[1]
        inner = self.inner.kept_for_backprop(self._step_inputs(inputs))
        return inner.times(length) if length is not None else Amount(0, inner.fixed + inner.per_step)

    def parameter_expression(self, inputs: Sequence[TensorSpec]) -> Expression:
        return self.inner.parameter_expression(self._step_inputs(inputs))

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        inner = self.inner
        step_inputs = self._step_inputs(inputs)
        inner_math = inner.explain_math(step_inputs, inner.output_shapes(step_inputs), context)
        steps = count_text(inputs[0].shape[1])
        wrapper = Block("each step", f"for t = 1, …, {steps}, the same {inner.keras_class} weights at every step",
                        [Equation("y_t", f"{inner.name}(x_t)", f"{inner.keras_class} applied to one step")],
                        [Symbol("x_t", tensor_text(step_inputs[0].shape), "one step of the input")])
        return Math([wrapper] + inner_math.blocks, inner_math.in_words, inner_math.weight_layouts,
                    f"{inner.keras_class} applied to each of {steps} steps")
