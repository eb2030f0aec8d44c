"""Bidirectional and TimeDistributed: they delegate shapes and weights to the wrapped layer."""

from __future__ import annotations

from typing import List, Optional, Sequence

from ..arithmetic import number, plus, times
from ..shapes import Shape, product
from .arguments import Arg, anything, choice, layer_definition, optional_layer_definition
from .base import (Arrays, Forward, Layer, MacCount, Masks, ShapeProblem, TensorSpec, Weight, WeightArrays,
                   check_inputs, clone, numpy_module, register)
from .recurrent import Recurrent, check_states


def _frozen_wrapper_warning(wrapper: Layer) -> List[ShapeProblem]:
    if wrapper.trainable:
        return []
    inner = wrapper.config["layer"]
    return [ShapeProblem(
        "P001",
        f"trainable: false on {wrapper.keras_class} does not freeze {inner.name}: in Keras 3 the flag "
        "given to the wrapper's constructor does not reach the wrapped layer, whose weights still "
        "train (and count as trainable).",
        f"Put `trainable: false` on the wrapped layer ({inner.keras_class}(..., trainable=False)), or set "
        f"`{wrapper.name}.trainable = False` after building the model.", argument="trainable")]


def _without_prefix(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


@register
class Bidirectional(Layer):
    """Two copies of a recurrent layer, one reading backwards, merged by ``merge_mode``."""

    keras_class = "Bidirectional"
    supports_masking = True
    takes_initial_state = True
    arguments = (
        Arg("layer", layer_definition),
        Arg("merge_mode", choice("sum", "mul", "ave", "concat", None), "concat"),
        Arg("weights", anything, None),
        Arg("backward_layer", optional_layer_definition, None),
    )

    def __init__(self, name, config, convention="keras"):
        super().__init__(name, config, convention)
        inner = config["layer"]
        self.forward_layer = None
        self.backward_layer = None
        if isinstance(inner, Recurrent):
            self.forward_layer = clone(inner, "forward_" + _without_prefix(inner.name, "forward_"))
            given = config.get("backward_layer")
            self.backward_layer = given if given is not None else clone(
                inner, "backward_" + _without_prefix(inner.name, "backward_"), go_backwards=True)

    def check_config(self) -> None:
        for key in ("layer", "backward_layer"):
            inner = self.config.get(key)
            if inner is not None and not isinstance(inner, Recurrent):
                raise ShapeProblem(
                    "S005", f"Bidirectional wraps a recurrent layer (LSTM, GRU or SimpleRNN); "
                            f"`{key}` is a {inner.keras_class}.",
                    "Wrap an RNN, e.g. Bidirectional(LSTM(32)); use TimeDistributed for other layers.",
                    argument=key)
        forward, backward = self.forward_layer, self.backward_layer
        if forward["go_backwards"] == backward["go_backwards"]:
            raise ShapeProblem(
                "S012", "Forward layer and backward layer should have different `go_backwards` value. "
                        f"Received: forward_layer.go_backwards={forward['go_backwards']}, "
                        f"backward_layer.go_backwards={backward['go_backwards']}.",
                "Bidirectional makes the backward copy itself: remove `go_backwards: true` from the "
                "wrapped layer.", argument="layer")
        for attribute in ("stateful", "return_sequences", "return_state"):
            if forward[attribute] != backward[attribute]:
                raise ShapeProblem(
                    "S012", "Forward layer and backward layer are expected to have the same value "
                            f'for attribute "{attribute}", got "{forward[attribute]}" for forward layer '
                            f'and "{backward[attribute]}" for backward layer.',
                    f"Give `backward_layer` the same {attribute} as `layer`.", argument="backward_layer")

    def sublayers(self) -> List[Layer]:
        return [layer for layer in (self.forward_layer, self.backward_layer) if layer is not None]

    def check_initial_state(self, inputs: Sequence[TensorSpec], states: Sequence[TensorSpec]) -> None:
        # Keras splits the list in half: forward states, then backward states.
        forward, backward = self.forward_layer, self.backward_layer
        names = list(forward.state_names) + list(backward.state_names)
        if len(states) != len(names):
            raise ShapeProblem(
                "T003", f"{self.name} (Bidirectional) takes {len(names)} initial states — the forward "
                        f"layer's {list(forward.state_names)} then the backward layer's "
                        f"{list(backward.state_names)} — but receives {len(states)}.",
                "List the forward states first, then the backward ones.", argument="initial_state")
        half = len(forward.state_names)
        batch = inputs[0].shape[0]
        check_states(forward, batch, states[:half], forward.state_names, f"{self.name} forward")
        check_states(backward, batch, states[half:], backward.state_names, f"{self.name} backward",
                     offset=half)

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

    def warnings(self, inputs: Sequence[TensorSpec]) -> List[ShapeProblem]:
        findings = _frozen_wrapper_warning(self) + self.forward_layer.warnings(inputs)
        forward, backward = self.forward_layer.units, self.backward_layer.units
        if forward != backward:
            output = self.forward_layer.output_shapes(inputs)[0]
            findings.append(ShapeProblem(
                "H006", f"The forward layer has {forward} units and the backward layer {backward}: Keras "
                        f"declares the concatenated output as {output[:-1] + (2 * forward,)} (twice the "
                        f"forward units), but the model outputs {output[:-1] + (forward + backward,)} when it "
                        "runs.", "Give backward_layer the same units as the wrapped layer.",
                argument="backward_layer"))
        return findings

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        # As Keras: the forward layer's shapes decide; concat doubles the last axis.
        self.backward_layer.output_shapes(inputs)  # its own checks (stateful, unroll)
        forward = self.forward_layer.output_shapes(inputs)
        output, states = forward[0], forward[1:]
        merge_mode = self.config["merge_mode"]
        forward_units, backward_units = self.forward_layer.units, self.backward_layer.units
        if merge_mode in ("sum", "mul", "ave") and forward_units != backward_units:
            raise ShapeProblem(
                "H004", f"merge_mode {merge_mode!r} combines the two directions element by element, but the "
                        f"forward layer has {forward_units} units and the backward layer {backward_units}: "
                        "Keras builds this model but fails when it runs.",
                "Give backward_layer the same units, or use merge_mode 'concat'.", argument="backward_layer")
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

    def computed_shapes(self, inputs: Sequence[TensorSpec]) -> Optional[List[Shape]]:
        """A backward_layer unlike the forward one: Keras declares the forward layer's shapes
        (the last axis doubled for concat, its states twice) but returns the real ones."""
        forward, backward = self.forward_layer, self.backward_layer
        same_states = not self.return_state or len(forward.state_names) == len(backward.state_names)
        merge_mode = self.config["merge_mode"]
        if forward.units == backward.units and same_states:
            return None
        if forward.units != backward.units and merge_mode not in ("concat", None):
            return None  # Keras fails when it runs (see forward)
        declared = self.output_shapes(inputs)
        if merge_mode == "concat":
            merged = [declared[0][:-1] + (forward.units + backward.units,)]
        elif merge_mode is None:
            merged = [declared[0], declared[1][:-1] + (backward.units,)]
        else:
            merged = [declared[0]]
        batch = inputs[0].shape[0]
        states = ([(batch, forward.units)] * len(forward.state_names)
                  + [(batch, backward.units)] * len(backward.state_names)) if self.return_state else []
        return merged + states

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
            raise ShapeProblem(
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
    supports_masking = True
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
            raise ShapeProblem(
                "H001", "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                        f"dimensions, received: {shape}",
                "TimeDistributed applies its layer to each time step of (batch, time, ...); "
                "give it a sequence, e.g. with return_sequences: true on the layer before.")
        step = TensorSpec((shape[0],) + tuple(shape[2:]), inputs[0].dtype)
        check_inputs(self.inner, [step])
        return [step]

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

    def warnings(self, inputs: Sequence[TensorSpec]) -> List[ShapeProblem]:
        return _frozen_wrapper_warning(self)

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        step_outputs = self.inner.output_shapes(self._step_inputs(inputs))
        if len(step_outputs) != 1:
            raise ShapeProblem(
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
