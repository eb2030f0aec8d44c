"""The vocabulary of porting a model to the other framework (``lstmcalc port``): each layer class
says, in its ``port_to``, which layers of the other framework compute the same function, how its
weights become theirs, and which of their tensors carries its output — the rules of
tests/fixtures/pytorch/PORTING.md, verified in real Keras and torch. lstmcalc.port asks every layer
of a spec, writes the result and proves it by running both forward passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..diagnostics import Problem
from ..records import Record, TupleRecord
from .frameworks import FRAMEWORKS

if TYPE_CHECKING:
    from numpy import ndarray

    from .base import Layer, TensorSpec

Arrays = Dict[str, "ndarray"]
# A layer's own weights (by weight name) → the other framework's arrays, keyed as in its weights file.
Converter = Callable[[Arrays], Arrays]


class Entry(Record):
    """One layer of the written spec: its type, name and arguments as the spec writes them. In a
    graph (the written spec's `inputs:`): the tensors it takes (``inputs``), as references to
    entries (``name`` or ``name[i]``), and its ``initial_state``. None: the entry before it (the
    first entry of a layer: the tensors of the layer's own inputs)."""

    def __init__(self, type: str, name: str, arguments: Optional[Dict[str, Any]] = None,
                 inputs: Optional[List[str]] = None, initial_state: Optional[List[str]] = None,
                 listed: bool = False):
        self.type = type
        self.name = name
        self.arguments: Dict[str, Any] = {} if arguments is None else arguments
        self.inputs = inputs
        self.initial_state = initial_state
        # Its outputs are a list (a Keras RNN with return_state: [output, states...]), so a reference
        # to its first output says ``name[0]``.
        self.listed = listed

    def to_spec(self, graph: bool = False) -> Dict[str, Any]:
        wiring: Dict[str, Any] = {}
        if graph and self.inputs is not None:
            wiring["inputs"] = self.inputs[0] if len(self.inputs) == 1 else list(self.inputs)
        if graph and self.initial_state:
            wiring["initial_state"] = list(self.initial_state)
        return {"type": self.type, "name": self.name, **self.arguments, **wiring}


class Link(TupleRecord):
    """The other framework's tensor that equals output ``index`` of the ported layer: output
    ``target_index`` of layer ``target``, or its row ``row`` (h_n[k] for a Keras state), with its
    axes taken in ``axes`` order (a channels-first tensor against a channels-last one). ``rows``: how
    many rows that tensor has (a state that is its tensor's only row is the other framework's
    state as it is)."""

    index: int
    target: str
    target_index: int = 0
    row: Optional[int] = None
    axes: Optional[Tuple[int, ...]] = None
    rows: Optional[int] = None
    # The other framework's tensor equals row ``source_row`` (axis 0) of the ported layer's output:
    # a Keras state (N, H) against one row of torch's h_n (D·num_layers, N, H).
    source_row: Optional[int] = None


class Counterpart(Record):
    """What one layer becomes: entries of the written spec, its weights converted, the links that
    prove it. ``links`` is empty for a layer whose output has no tensor of its own there (a Keras
    layer folded into a torch module's num_layers). ``state_entry``: the entry that takes the
    source layer's initial states (Keras's [h, c] as torch's (h_0, c_0), each (1, N, H)); None when
    the layer has no counterpart taking them."""

    def __init__(self, source: str, entries: List[Entry], convert: Converter, links: List[Link],
                 state_entry: Optional[Entry] = None,
                 state_order: Optional[List[Tuple[Entry, List[Tuple[int, int]]]]] = None,
                 handover: Optional["Handover"] = None):
        self.source = source
        self.entries = entries
        self.convert = convert
        self.links = links
        self.state_entry = state_entry
        # PyTorch → Keras: the entries taking the initial states (one Keras layer per layer of a torch
        # module), each with its states in Keras's order as (which of the source's state tensors, which
        # row of it): [(0, 0), (1, 0)] is [h_0[0], c_0[0]].
        self.state_order = state_order
        # What the layers taking its outputs in a graph may ask of it (Handover's hooks, for any consumer).
        self.handover = handover


def no_weights(own: Arrays) -> Arrays:
    return {}


class Stack(Record):
    """The last recurrent module written, which a following recurrent layer may join as one more
    of its num_layers (``--merge-stacks``)."""

    def __init__(self, entry: Entry, signature: Tuple[Any, ...], counterpart: Counterpart):
        self.entry = entry
        self.signature = signature
        self.counterpart = counterpart


class Fold:
    """Batch and time folded into one axis by a TimeDistributed layer (nn.Flatten(0, 1)): the
    entries that end it (``tail``: back to the source's layout, then nn.Unflatten(0, (-1, steps))),
    which the next TimeDistributed layer over as many steps takes away to continue the fold, and
    the layout (channels_first, channels_owner, channels_rank) before them."""

    def __init__(self, steps: int, counterpart: "Counterpart", tail: List["Entry"], layout: Tuple[bool, str, int]):
        self.steps = steps
        self.counterpart = counterpart
        self.tail = tail
        self.layout = layout


class Folded(Record):
    """PyTorch → Keras: batch and time folded into one axis by the module ``owner`` (nn.Flatten(0,
    1)) over ``steps`` steps, not yet given back (nn.Unflatten(0, (-1, steps))); the counterparts
    from ``first`` on run on the fold, each written as Keras's TimeDistributed."""

    def __init__(self, owner: str, steps: int, first: int):
        self.owner = owner
        self.steps = steps
        self.first = first


class Handover(Record):
    """What a layer leaves for the one after it (and only for that one) — or, as a Counterpart's
    ``handover`` in a graph, what it offers every layer taking its outputs (lstmcalc.port's Wiring
    hands each the hooks that apply to it): ``stack``, a Keras recurrent layer ported to a torch
    module that the next one may join (merge-stacks); ``activation_slot``, the Keras layer (Dense,
    Conv1D) whose activation the next torch activation module may be, and the counterpart it
    belongs to; ``last_step``, which makes the Keras recurrent layer(s) a torch module became
    return the last step only (LastStep), naming the layer; ``final_state``, the last step of a
    torch module's output as its Keras layer's final state(s), for a LastStep of an output that
    other layers take whole (entries to write, the link of the step named so); ``rows``, (output,
    row) → the link to the Keras tensor equal to that row of a torch state tensor (h_n[k]); ``fold``,
    a TimeDistributed layer's fold of batch and time, which the next one may continue."""

    def __init__(self, stack: Optional[Stack] = None,
                 activation_slot: Optional[Tuple[Entry, Counterpart]] = None,
                 last_step: Optional[Callable[[], str]] = None,
                 final_state: Optional[Callable[[str], Tuple[List[Entry], "Link"]]] = None,
                 rows: Optional[Callable[[int, int], "Link"]] = None, fold: Optional[Fold] = None):
        self.stack = stack
        self.activation_slot = activation_slot
        self.last_step = last_step
        self.final_state = final_state
        self.rows = rows
        self.fold = fold


class PortPlan:
    """The spec being written, layer after layer. ``before`` is what the previous layer left,
    ``after`` what the current one leaves; lstmcalc.port calls ``advance`` between layers."""

    def __init__(self, source: str, target: str, merge_stacks: bool = False):
        self.source = FRAMEWORKS[source]
        self.target = FRAMEWORKS[target]
        self.merge_stacks = merge_stacks
        self.counterparts: List[Counterpart] = []
        self.input_dtype: Optional[str] = None  # when a layer needs another input dtype (token ids)
        # PyTorch's Conv1d and MaxPool1d read (batch, channels, length), Conv2d (batch, channels,
        # height, width): the layout the tensor is in when it leaves the last layer written, and
        # its number of spatial axes.
        self.channels_first = False
        self.channels_owner = ""
        self.channels_rank = 1
        self.before = Handover()
        self.after = Handover()
        # In a written graph: the links of the tensors the layer being ported takes (a model input:
        # a link to itself; None where the written model has no tensor equal to it).
        self.given: List[Optional[Link]] = []
        self.graph = False  # the source is a graph: its layers do not each take the one before
        self.folded: Optional[Folded] = None  # PyTorch → Keras: a fold of batch and time not yet unflattened
        # The source's layer and input names, which the layers written later keep: names made up
        # here (a convolution's `<owner>_to_steps`) must differ from them too.
        self.reserved: set = set()

    @property
    def entries(self) -> List[Entry]:
        return [entry for counterpart in self.counterparts for entry in counterpart.entries]

    def key(self, layer: str, weight: str) -> str:
        return self.target.weight_key(layer, weight)

    def add(self, counterpart: Counterpart) -> Counterpart:
        self.counterparts.append(counterpart)
        return counterpart

    def advance(self) -> None:
        self.before, self.after = self.after, Handover()

    # -- convolutions: PyTorch's read (batch, channels, length), Keras's (batch, steps, channels) ---
    # ``channels_first``: the written model's tensor is the source's with the two axes after the
    # batch swapped, which a convolution needs on one side and every other layer on neither.

    def to_written(self, rank: int) -> Tuple[int, ...]:
        """The axes (batch counted) that take the source's tensor to the written convolution's
        layout: the channels moved first in PyTorch, last in Keras."""
        spatial = tuple(range(1, rank + 1))
        if self.target.batch_required:  # PyTorch: (N, *spatial, C) → (N, C, *spatial)
            return (0, rank + 1) + spatial
        return (0,) + tuple(axis + 1 for axis in spatial) + (1,)  # Keras: (N, C, *spatial) → (N, *spatial, C)

    def to_source(self, rank: int) -> Tuple[int, ...]:
        """The axes that take the written convolution's layout back to the source's."""
        return inverse(self.to_written(rank))

    def swap(self, name: str, order: Tuple[int, ...]) -> Entry:
        """The target's Permute with ``order`` (batch counted; Keras's Permute leaves the batch out),
        named ``name`` (``name_2``, ... when a step of a source graph, written as its own Permute,
        has that name)."""
        dims = order if self.target.batch_required else order[1:]
        taken = {entry.name for entry in self.entries} | self.reserved
        candidate, count = name, 1
        while candidate in taken:
            count += 1
            candidate = f"{name}_{count}"
        return Entry("Permute", candidate, {"dims": list(dims)})

    def channels(self, owner: str, rank: int = 1) -> List[Entry]:
        """Entries that swap the axes before the convolution ``owner`` with ``rank`` spatial axes
        (a Permute named ``<owner>_to_channels``), or [] when they are swapped already."""
        back = self.steps() if self.channels_first and self.channels_rank != rank else []
        self.channels_owner = owner
        if self.channels_first:
            return back
        self.channels_first, self.channels_rank = True, rank
        return back + [self.swap(f"{owner}_to_channels", self.to_written(rank))]

    def steps(self) -> List[Entry]:
        """Entries that swap the axes back after the last convolution (``<it>_to_steps``), or []."""
        if not self.channels_first:
            return []
        self.channels_first = False
        return [self.swap(f"{self.channels_owner}_to_steps", self.to_source(self.channels_rank))]

    def reorders(self, order: Tuple[int, ...], owner: str) -> bool:
        """Whether the source model's own reordering ``order`` (batch counted) moves its tensor into
        or out of the layout its convolutions read (PyTorch's x.permute(0, 2, 1) around a Conv1d,
        (0, 3, 1, 2) before a Conv2d and (0, 2, 3, 1) after it): then the written model, whose
        convolutions read the other layout, needs no layer for it."""
        rank = len(order) - 2
        if self.graph or rank not in (1, 2):
            return False
        if not self.channels_first and order == self.to_source(rank):
            self.channels_first, self.channels_rank, self.channels_owner = True, rank, owner
            return True
        if self.channels_first and self.channels_rank == rank and order == self.to_written(rank):
            self.channels_first, self.channels_owner = False, owner
            return True
        return False

    # -- states in a written PyTorch graph (lstmcalc.port's Wiring) ---------------------------------

    @staticmethod
    def state_row(name: str, tensor: str, row: int) -> Entry:
        """The step taking row ``row`` of torch's h_n or c_n (D·num_layers, N, H): one Keras state
        (N, H)."""
        return Entry("Select", name, {"dim": 0, "index": row}, inputs=[tensor])

    @staticmethod
    def as_state(name: str, tensor: str) -> Entry:
        """The step making a Keras state (N, H) torch's h_0 or c_0 (1, N, H)."""
        return Entry("Unsqueeze", name, {"dim": 0}, inputs=[tensor])

    def link(self, index: int, target: str, target_index: int = 0) -> Link:
        """Output ``index`` is ``target``'s output, transposed back when it is channels first."""
        return Link(index, target, target_index,
                    axes=self.to_source(self.channels_rank) if self.channels_first else None)

    def layout(self) -> Tuple[bool, str, int]:
        return self.channels_first, self.channels_owner, self.channels_rank

    def continue_fold(self, fold: Fold, owner: str) -> None:
        """Take away the entries ending ``fold``: the layer ``owner`` runs on the folded tensor in
        the layout it had (and names the entries it needs to change it); the layer that left it
        has no tensor of its own any more."""
        for entry in fold.tail:
            fold.counterpart.entries.remove(entry)
        fold.counterpart.links.clear()
        self.channels_first, _, self.channels_rank = fold.layout
        self.channels_owner = owner

    # -- PyTorch → Keras: batch and time folded (nn.Flatten(0, 1) … nn.Unflatten(0, (-1, T))) -------

    def step_inputs(self, inputs: Sequence["TensorSpec"]) -> List["TensorSpec"]:
        """What the layer being ported reads: inside a fold of batch and time, one step of every
        sample, whose first axis is the batch of the TimeDistributed layer it becomes."""
        if self.folded is None:
            return list(inputs)
        from .base import TensorSpec

        return [TensorSpec(item.shape, item.dtype) for item in inputs]

    def finish(self) -> None:
        """The written model ends in the layout the source model ends in."""
        if self.folded is not None:
            raise Problem("P002", f"{self.folded.owner} folds the batch and the time axis into one, and no "
                                  "nn.Unflatten(0, (-1, steps)) after it gives the steps back: Keras's layers never "
                                  "touch the batch axis.", "End the fold with nn.Unflatten(0, (-1, steps)).")
        tail = self.steps()
        if tail:
            self.add(Counterpart("", tail, no_weights, []))


FOLD_HINT = "Write the layers between the fold and its unflatten inside TimeDistributed(...) in the Keras model by hand."


def open_fold(layer: "Layer", plan: PortPlan, inputs: Sequence["TensorSpec"]) -> None:
    """nn.Flatten(0, 1) on (batch, time, ...), PyTorch → Keras: it writes nothing; the modules
    after it, up to the nn.Unflatten that gives the steps back (close_fold), become Keras's
    TimeDistributed layers, which fold the steps into the batch themselves."""
    target, shape = plan.target.name, inputs[0].shape
    if plan.folded is not None:
        raise refuse(layer, target, f"it folds the batch again inside the fold {plan.folded.owner} began.", FOLD_HINT)
    if plan.graph:
        raise refuse(layer, target, "it folds the batch into one axis with the time axis, which lstmcalc reads "
                                    "back as Keras's TimeDistributed in a chain of modules only.", FOLD_HINT)
    if len(shape) < 3 or shape[1] is None:
        what = f"a tensor of {len(shape)} axes" if len(shape) < 3 else "a time axis of unknown length"
        raise refuse(layer, target, f"it folds the batch into one axis with others, and Keras's TimeDistributed "
                                    f"(which folds batch and time itself) needs (batch, time, ...) with at least one "
                                    f"more axis and a known number of steps; this is {what}.", FOLD_HINT)
    plan.add(Counterpart(layer.name, plan.steps(), no_weights, []))
    plan.folded = Folded(layer.name, shape[1], len(plan.counterparts))


def close_fold(layer: "Layer", plan: PortPlan, inputs: Sequence["TensorSpec"], axis: int,
               sizes: Sequence[int]) -> None:
    """nn.Unflatten(0, (-1, steps)) giving back the steps of the fold open_fold began: every
    Keras layer written since becomes TimeDistributed(<that layer>) (the Permutes a convolution
    needs included), and this module writes nothing."""
    target, folded = plan.target.name, plan.folded
    if folded is None:
        raise refuse(layer, target, "it splits the batch axis, which Keras's layers never touch, and no "
                                    "nn.Flatten(0, 1) before it folded the time axis into it.",
                     "Port a model whose tensors keep the batch axis whole.")
    length = inputs[0].shape[0]
    batch = None if length is None else length // folded.steps
    if axis != 0 or len(sizes) != 2 or sizes[1] != folded.steps or sizes[0] not in (-1, batch):
        raise refuse(layer, target, f"Keras's TimeDistributed gives back the {folded.steps} steps {folded.owner} "
                                    f"folded into the batch (nn.Unflatten(0, (-1, {folded.steps}))); this module "
                                    f"splits axis {axis} into {list(sizes)}.",
                     f"End the fold with nn.Unflatten(0, (-1, {folded.steps})).")
    tail = plan.steps()
    if tail:
        plan.add(Counterpart(layer.name, tail, no_weights, []))
    inside = plan.counterparts[folded.first:]
    entries = [entry for counterpart in inside for entry in counterpart.entries]
    if not entries:
        raise refuse(layer, target, f"no module between {folded.owner} and it has a Keras layer to apply to every "
                                    "step with TimeDistributed.", "Port the model without the fold.")
    chain = entries[0].inputs is None and all(entry.inputs in (None, [previous.name])
                                              for previous, entry in zip(entries, entries[1:]))
    if not chain or any(entry.initial_state or entry.listed for entry in entries) or any(
            counterpart.state_entry or counterpart.state_order or counterpart.handover for counterpart in inside):
        raise refuse(layer, target, f"the modules between {folded.owner} and it are not one chain of layers with "
                                    "one output each, which is all lstmcalc writes inside TimeDistributed.", FOLD_HINT)
    for entry in entries:  # Keras names the wrapped layer itself; the weights are the wrapper's
        entry.arguments = {"layer": {"type": entry.type, **entry.arguments}}
        entry.type = "TimeDistributed"
    for counterpart in inside:
        counterpart.links.clear()  # a tensor of the fold has no Keras tensor: TimeDistributed's are (batch, time, ...)
    plan.add(Counterpart(layer.name, [], no_weights, [Link(0, entries[-1].name)]))
    plan.folded = None


def refuse(layer: "Layer", target: str, why: str, hint: str) -> Problem:
    """The Problem of a layer with no counterpart in ``target`` (lstmcalc port refuses)."""
    return Problem("P002", f"{layer.name} ({layer.keras_class}) has no {FRAMEWORKS[target].title} equivalent: {why}",
                   hint)


def gate_blocks(matrix: "ndarray", order: Sequence[int], units: int) -> "ndarray":
    """The last axis's gate blocks of ``units`` reordered: block i of the result is block order[i]."""
    import numpy

    return numpy.concatenate([matrix[..., block * units:(block + 1) * units] for block in order], axis=-1)


def inverse(order: Sequence[int]) -> Tuple[int, ...]:
    """The order that undoes ``order``."""
    result = [0] * len(order)
    for position, block in enumerate(order):
        result[block] = position
    return tuple(result)


def activation_entry(layer: "Layer", activation: Optional[str], target: str) -> List[Entry]:
    """The torch module computing a Keras layer's ``activation`` after it, named
    ``<layer>_activation`` ([] for none or linear)."""
    if activation in (None, "linear"):
        return []
    from .registry import all_layer_classes

    modules = {cls.keras_activation: cls for cls in all_layer_classes(target).values()
               if getattr(cls, "keras_activation", "")}
    if activation not in modules:
        raise refuse(layer, target, f"its activation {activation!r} has no module in lstmcalc's "
                                    f"{FRAMEWORKS[target].title} family ({', '.join(sorted(modules))} have).",
                     "Use one of those activations, or port the model without this one.")
    module = modules[activation]
    return [Entry(module.keras_class, f"{layer.name}_activation", dict(module.activation_arguments))]


def port_module(layer: "Layer", plan: PortPlan, module: Entry, weights: Optional[Converter] = None,
                extra: Sequence[Entry] = (), layout: str = "steps", rank: int = 1) -> Counterpart:
    """``layer`` as one module (then ``extra`` entries: its activation), with its weights under the
    module's name. ``layout``: what the PyTorch module reads — "steps" (batch, steps, features),
    "channels" (Conv1d, MaxPool1d; Conv2d with ``rank`` 2) or "any" (element-wise)."""
    before = {"steps": plan.steps, "channels": lambda: plan.channels(layer.name, rank), "any": list}[layout]()
    entries = before + [module] + list(extra)

    def convert(own: Arrays) -> Arrays:
        return {plan.key(module.name, key): value for key, value in (weights(own) if weights else {}).items()}

    return plan.add(Counterpart(layer.name, entries, convert, [plan.link(0, entries[-1].name)]))


def with_bias(bias: bool) -> Dict[str, Any]:
    """The `bias: false` a torch module's entry writes when it has none (nothing when it has)."""
    return {} if bias else {"bias": False}


def torch_size(sizes: Sequence[int]) -> Any:
    """How torch writes one size per spatial axis (kernel_size, stride): one int when they are all
    the same, else a list."""
    return sizes[0] if len(set(sizes)) == 1 else list(sizes)
