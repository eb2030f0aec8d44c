"""The frameworks a spec can follow (`framework:` at the top of a spec) and the conventions that
differ between them: how weights are keyed in a weights file, whether a batch size is required,
and the words the output uses. Everything per layer type stays in the layer classes."""

from __future__ import annotations

from typing import Dict, Tuple

from ..records import TupleRecord


class Framework(TupleRecord):
    name: str               # as written in a spec: `framework: pytorch`
    title: str              # as the output names it: PyTorch
    namespace: str          # where its layer classes live: torch.nn
    layer_word: str         # what one entry of `layers:` is: layer / module
    weight_word: str        # weight / parameter
    weight_separator: str   # weights files: `<layer>/<weight>` (Keras) or `<layer>.<parameter>` (state_dict)
    batch_required: bool    # tensors have a concrete batch (PyTorch)
    min_batch_size: int     # PyTorch runs an empty batch; Keras's batch_size starts at 1
    weight_example: str     # one weight's key, for messages
    weights_hint: str       # how to export weights keyed as lstmcalc reads them
    shapes_note: str        # what the shapes in explain's output show
    swap_dims: Tuple[int, ...]  # a Permute's dims that swap the two axes after the batch
    model_names: Tuple[str, str]  # the default name of a stack and of a graph model

    def weight_key(self, layer: str, weight: str) -> str:
        """The key of one weight in a weights file: ``lstm/kernel``, ``lstm.weight_ih_l0``."""
        return f"{layer}{self.weight_separator}{weight}"


KERAS = "keras"
PYTORCH = "pytorch"
DEFAULT = KERAS  # what a spec without `framework:` follows

FRAMEWORKS: Dict[str, Framework] = {
    KERAS: Framework(KERAS, "Keras", "keras.layers", "layer", "weight", "/", False, 1, "lstm/kernel",
                     "Keys are `<layer>/<weight>`, e.g. `lstm/kernel` (Bidirectional: `<layer>/forward/<weight>`); "
                     "see `lstmcalc summary --format json` for the names, and docs/guides/verify.md for "
                     "exporting them from Keras.",
                     "Shapes include the batch axis; batch = the batch size (None in Keras's summary).", (2, 1),
                     ("sequential", "functional")),
    PYTORCH: Framework(PYTORCH, "PyTorch", "torch.nn", "module", "parameter", ".", True, 0, "lstm.weight_ih_l0",
                       "Keys are the state_dict's `<module>.<parameter>`, e.g. `lstm.weight_ih_l0` (with "
                       "`_reverse` for the backward direction): numpy.savez('w.npz', **{k: v.numpy() for k, v in "
                       "model.state_dict().items()}) for a model whose submodules carry the spec's names.",
                       "Shapes include the batch axis, as PyTorch's tensors do: first, or second in the time-major "
                       "layout (batch_first: false).", (0, 2, 1), ("Sequential", "Module")),
}


def framework(name: str) -> Framework:
    """The Framework called ``name`` (keras or pytorch)."""
    return FRAMEWORKS[name]


def other_framework(name: str) -> str:
    return PYTORCH if name == KERAS else KERAS
