"""Attention and AdditiveAttention (keras/src/layers/attention): [query, value(, key)] in, one out."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Sequence

from ..arithmetic import number as count_of, plus, times
from ..shapes import Shape, format_shape, num_elements
from .arguments import BASE_ARGUMENTS, Arg, anything, boolean, choice, fraction
from .explanation import Context, Equation, Math, Symbol, one_block, tensor_text
from .base import (Arrays, Example, Forward, Layer, MacCount, Masks, Problem, TensorSpec, Weight, WeightArrays,
                   numpy_module, register)

if TYPE_CHECKING:
    from numpy import ndarray


class _AttentionBase(Layer):
    """[query, value] or [query, value, key]; the output is (…query steps, value features)."""

    takes_tensor_list = True
    supports_masking = True

    def check_count(self, inputs: Sequence[TensorSpec], as_list: bool) -> None:
        if not as_list:
            received = format_shape(inputs[0].shape) if len(inputs) == 1 else \
                "(" + ", ".join(format_shape(tensor.shape) for tensor in inputs) + ")"
            raise Problem(
                "H002", f"{self.keras_class} layer must be called on a list of inputs, namely [query, value] "
                        f"or [query, value, key]. Received: inputs={received}.",
                "Keras's attention layers take a list, not the tuple a multi-output layer passes on in a "
                "stack: use a graph spec with `inputs: [query, value]` (e.g. `[\"bi[0]\", \"bi[1]\"]`).")
        if not 2 <= len(inputs) <= 3:
            raise Problem(
                "H002", f"{self.keras_class} layer accepts inputs list of length 2 or 3, namely "
                        f"[query, value] or [query, value, key]. Received length: {len(inputs)}.",
                "Write `inputs: [query, value]` or `[query, value, key]`.")

    @staticmethod
    def _parts(inputs: Sequence[TensorSpec]):
        query, value = inputs[0].shape, inputs[1].shape
        key = inputs[2].shape if len(inputs) > 2 else value
        return query, value, key

    def output_shapes(self, inputs: Sequence[TensorSpec]) -> List[Shape]:
        query, value, key = self._parts(inputs)
        if query[-1] is not None and key[-1] is not None and query[-1] != key[-1]:
            # Keras builds this but the score q·kᵀ fails when the model runs.
            raise Problem(
                "H004", f"{self.keras_class}: the query's last axis ({query[-1]}) and the key's "
                        f"({key[-1]}) must be equal to score query against key; received query "
                        f"{format_shape(query)} and key {format_shape(key)}. Keras builds this model but "
                        "it fails when it runs.",
                "Project query and key to the same size first (e.g. a Dense layer), or pass a key of "
                "the query's size as the third input.")
        if len(key) >= 3 and len(value) >= 3 and None not in (key[-2], value[-2]) and key[-2] != value[-2]:
            # Keras builds this too; the weights over the key's steps then multiply the value's.
            raise Problem(
                "H004", f"{self.keras_class}: the key and the value must have as many steps, one value "
                        f"per key; received value {format_shape(value)} and key {format_shape(key)} "
                        f"({value[-2]} and {key[-2]} steps). Keras builds this model but it fails when it runs.",
                "Give the key and the value the same length (the key is usually the value itself, or "
                "a projection of it).")
        return [tuple(query[:-1]) + (value[-1],)]

    def output_masks(self, inputs: Sequence[TensorSpec], count: int) -> List[bool]:
        return [inputs[0].masked] * count

    def scores(self, weights: WeightArrays, query: "ndarray", key: "ndarray") -> "ndarray":
        raise NotImplementedError

    def forward(self, weights: WeightArrays, inputs: Arrays, masks: Masks,
                initial_state: Optional[Arrays] = None) -> Forward:
        """softmax(scores(q, k)) · v; padded key steps get −1e9 first, padded query steps give 0."""
        np = numpy_module()
        query, value = self.floating(inputs[0]), self.floating(inputs[1])
        key = self.floating(inputs[2]) if len(inputs) > 2 else value
        masks = list(masks) + [None] * (3 - len(masks))
        query_mask, value_mask = masks[0], masks[1]
        scores = self.scores(weights, query, key)
        if value_mask is not None:
            padding = np.logical_not(value_mask)
            if padding.ndim == 2:
                padding = np.expand_dims(padding, -2)
            big = 65504.0 if scores.dtype == np.float16 else 1.0e9
            scores = np.where(padding, scores - np.asarray(big, scores.dtype), scores)
        shifted = scores - scores.max(axis=-1, keepdims=True)
        exponentials = np.exp(shifted)
        attention = exponentials / exponentials.sum(axis=-1, keepdims=True)
        output = attention @ value
        if query_mask is not None:
            output = np.where(np.expand_dims(query_mask, -1), output, np.asarray(0, output.dtype))
        return [output], [query_mask]

    def macs(self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> Optional[MacCount]:
        # Per query step: scores against every key step (Tk × d), then the weighted sum of the
        # values (Tk × dv). AdditiveAttention's element-wise tanh score is not a product with a
        # weight and is not counted (docs/compute.md).
        query, value, key = self._parts(inputs)
        key_steps = key[-2] if len(key) > 2 else 1
        value_steps = value[-2] if len(value) > 2 else 1
        if None in (key_steps, key[-1], value_steps, value[-1]):
            return None  # the work per query step depends on an unknown size
        per_query = plus(times(count_of(key_steps, "key steps"), count_of(key[-1], "key features")),
                         times(count_of(value_steps, "value steps"), count_of(value[-1], "value features")))
        return MacCount(per_query, num_elements(query[1:-1]), "query step")

    def keras_masks(self, inputs, masks, count: int, graph) -> list:
        return [masks[0] if masks else None] * count  # the query's mask

    def score_text(self, key: str) -> str:
        """e_ts, the score of query step t against key step s."""
        raise NotImplementedError

    def explain_math(self, inputs: Sequence[TensorSpec], outputs: Sequence[Shape], context: Context) -> Math:
        names = ["q", "v", "k"]
        symbols = ([Symbol(names[index], tensor_text(tensor.shape), ("query", "value", "key")[index])
                    for index, tensor in enumerate(inputs)] + [Symbol("y", tensor_text(outputs[0]), "the output")])
        equations = [Equation("e_ts", self.score_text("k" if len(inputs) > 2 else "v"),
                              "a score for query step t against key step s"),
                     Equation("a_t", "softmax_s(e_ts)", "weights over the key steps, summing to 1"),
                     Equation("y_t", "Σ_s a_ts · v_s", "a weighted average of the values")]
        words = [f"For each query step, {self.keras_class} scores every key step, turns the scores into "
                 "weights with a softmax and averages the values with them: the output has the query's steps "
                 "and the value's features."]
        return one_block("each query step", equations, symbols, words=words,
                         headline=f"{self.keras_class} over [{', '.join(names[:len(inputs)])}]")


@register
class Attention(_AttentionBase):
    """Dot-product (Luong) attention."""

    keras_class = "Attention"
    displayed_arguments = ("use_scale", "score_mode")
    examples = (Example("Attention()", ((4, 3), (5, 3))),)
    arguments = (
        Arg("use_scale", boolean, False),
        Arg("score_mode", choice("dot", "concat"), "dot"),
        Arg("dropout", fraction, 0.0),
        Arg("seed", anything, None),
    )

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        weights = []
        if self["use_scale"]:
            weights.append(self.weight("scale", ()))
        if self["score_mode"] == "concat":
            weights.append(self.weight("concat_score_weight", ()))
        return weights

    def scores(self, weights: WeightArrays, query: "ndarray", key: "ndarray") -> "ndarray":
        np = numpy_module()
        scale = self.floating(weights["scale"]) if self["use_scale"] else None
        if self["score_mode"] == "dot":
            scores = query @ np.swapaxes(key, -2, -1)
            return scores * scale if scale is not None else scores
        summed = np.expand_dims(query, -2) + np.expand_dims(key, -3)
        if scale is not None:
            summed = scale * summed
        return self.floating(weights["concat_score_weight"]) * np.tanh(summed).sum(axis=-1)

    def score_text(self, key: str) -> str:
        scale = "scale · " if self["use_scale"] else ""
        if self["score_mode"] == "concat":
            return f"{scale}w · Σ tanh(q_t + {key}_s)"
        return f"{scale}q_t · {key}_s"


@register
class AdditiveAttention(_AttentionBase):
    """Additive (Bahdanau) attention; ``use_scale`` learns one scale per query feature."""

    keras_class = "AdditiveAttention"
    displayed_arguments = ("use_scale",)
    examples = (Example("AdditiveAttention()", ((4, 3), (5, 3))),)
    arguments = (
        Arg("use_scale", boolean, True),
        Arg("dropout", fraction, 0.0),
    )
    # Attention's `seed`, taken through **kwargs (saved configs carry it).
    base_arguments = tuple(BASE_ARGUMENTS) + (Arg("seed", anything, None),)

    def weight_shapes(self, inputs: Sequence[TensorSpec]) -> List[Weight]:
        if self["use_scale"]:
            return [self.weight("scale", (inputs[0].shape[-1],))]
        return []

    def scores(self, weights: WeightArrays, query: "ndarray", key: "ndarray") -> "ndarray":
        np = numpy_module()
        scale = self.floating(weights["scale"]) if self["use_scale"] else 1.0
        return (scale * np.tanh(np.expand_dims(query, -2) + np.expand_dims(key, -3))).sum(axis=-1)

    def score_text(self, key: str) -> str:
        return f"Σ tanh(q_t + {key}_s){' ⊙ scale' if self['use_scale'] else ''}"
