"""Findings as values: ``Diagnostic`` and the table of stable codes.

The engine returns diagnostics and never prints; renderers and the CLI decide what to show.
The code table below is the single source of truth; docs/diagnostics.md is checked against it.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from .records import TupleRecord

ERROR = "error"
WARNING = "warning"
INFO = "info"

SEVERITY_RANK = {ERROR: 0, WARNING: 1, INFO: 2}


class Code(TupleRecord):
    """One entry of the code table."""

    code: str
    name: str
    severity: str
    group: str
    summary: str


GROUPS = {
    "S": "spec and syntax",
    "H": "shapes",
    "T": "states",
    "P": "parameters",
    "X": "expectations",
    "L": "lints",
    "V": "verifier",
}

_TABLE = [
    # spec and syntax
    Code("S001", "yaml-syntax", ERROR, "S", "The file is not valid YAML."),
    Code("S002", "spec-structure", ERROR, "S", "The spec's top level is missing a key or has one it does not know."),
    Code("S003", "unknown-layer-type", ERROR, "S", "A layer `type` that lstmcalc does not know."),
    Code("S004", "unknown-argument", ERROR, "S", "A keyword that the layer's Keras constructor does not take."),
    Code("S005", "wrong-value-type", ERROR, "S", "An argument of the wrong type (a string or boolean where a number belongs, ...)."),
    Code("S006", "value-out-of-range", ERROR, "S", "An argument outside its allowed range or set of values."),
    Code("S007", "missing-argument", ERROR, "S", "A required argument is missing."),
    Code("S008", "call-syntax", ERROR, "S", "A layer written in call syntax that cannot be read."),
    Code("S009", "duplicate-name", ERROR, "S", "Two layers (or a layer and an input) share a name."),
    Code("S010", "invalid-input", ERROR, "S", "The model input is not a valid shape or dtype."),
    Code("S011", "unknown-reference", ERROR, "S", "A reference to a layer or input that does not exist."),
    Code("S012", "conflicting-arguments", ERROR, "S", "Arguments that Keras rejects in combination."),
    Code("S013", "cycle", ERROR, "S", "Layers that depend on each other in a loop."),
    Code("S014", "output-index-out-of-range", ERROR, "S", "`name[i]` picks an output the layer does not have."),
    Code("S015", "unused-input", WARNING, "S", "An input that no layer consumes."),
    Code("S016", "unused-layer", WARNING, "S", "A layer outside the model's outputs (Keras leaves it out)."),
    Code("S017", "unreadable-model-file", ERROR, "S",
         "A Keras model file that cannot be read: not a .keras zip or JSON config, a missing or oversized "
         "member, nesting too deep."),
    Code("S018", "unresolved-python", ERROR, "S",
         "Python source with a value, loop or call that cannot be resolved without running the code."),
    Code("S019", "input-as-layer", ERROR, "S", "`Input(...)` written as a layer; a spec declares its input with `input:`."),
    Code("S020", "unsupported-model-structure", ERROR, "S",
         "A model structure lstmcalc does not model: a layer both wrapped and called on its own, or a PyTorch "
         "forward() lstmcalc cannot follow as a data flow."),
    Code("S021", "dropout-single-layer", WARNING, "S",
         "dropout on a PyTorch RNN with num_layers 1: it only acts between layers, so it does nothing."),
    Code("S022", "pytorch-input-unknown", ERROR, "S",
         "PyTorch source whose input shape is not in the code: give it with --input."),
    Code("S023", "module-class-choice", ERROR, "S",
         "Python source with no nn.Module subclass, several of them (pick one with --class), or not the one named."),
    Code("S024", "uncalled-module", INFO, "S",
         "A PyTorch module forward() never calls: its parameters count, it has no shapes."),
    Code("S025", "ambiguous-python-source", WARNING, "S",
         "Python source that imports both Keras and PyTorch: lstmcalc says which model it reads."),
    Code("S026", "unreadable-file", ERROR, "S",
         "The spec cannot be read: permission denied, a broken link, or not a regular file."),
    Code("S027", "file-too-large", ERROR, "S", "The spec file is larger than lstmcalc reads (10 MiB)."),
    Code("S028", "yaml-limit", ERROR, "S",
         "YAML nested too deeply, or aliases that expand too far (a 'billion laughs' document)."),
    # shapes
    Code("H001", "rank-mismatch", ERROR, "H", "A layer receives a tensor of a rank it does not accept."),
    Code("H002", "multiple-tensors", ERROR, "H", "A layer that takes one tensor receives several (for example after return_state)."),
    Code("H003", "undefined-dimension", ERROR, "H", "A weight shape depends on a dimension that is unknown (None)."),
    Code("H004", "incompatible-shape", ERROR, "H", "A layer's arguments contradict the shape it receives."),
    Code("H005", "reshape-unknown-size", WARNING, "H",
         "Reshape to a fixed size from an input of unknown size: only one length will run."),
    Code("H006", "bidirectional-unit-mismatch", WARNING, "H",
         "A Bidirectional backward_layer with other units than the forward layer."),
    Code("H007", "mask-shape-mismatch", ERROR, "H",
         "A recurrent layer receives a mask that does not fit its output (Keras builds the model, fails when it runs)."),
    Code("H008", "input-dtype", ERROR, "H",
         "A layer receives values of a dtype it cannot compute with (the framework builds the model, fails when it "
         "runs)."),
    Code("H009", "batch-axis-mismatch", WARNING, "H",
         "Layers that read the batch on different axes (PyTorch modules with different batch_first)."),
    Code("H010", "unbatched-sequence", WARNING, "H",
         "A PyTorch module reads a tensor without a sequence axis as one unbatched sequence."),
    Code("H011", "size-out-of-range", ERROR, "H",
         "A dimension or weight of 2**63 elements or more, which no framework can index."),
    Code("H012", "empty-sequence", ERROR, "H",
         "A recurrent layer over sequences of 0 time steps: Keras builds it, but it fails when it runs."),
    Code("H013", "implicit-softmax-dim", WARNING, "H",
         "nn.Softmax without `dim`: torch picks the axis from the input's rank, with a deprecation warning."),
    # parameters
    Code("P001", "wrapper-trainable-ignored", WARNING, "P",
         "trainable: false on Bidirectional, TimeDistributed or a ConvLSTM does not freeze the weights it holds."),
    Code("P002", "no-counterpart", ERROR, "P",
         "lstmcalc port: a layer with no equivalent in the other framework (port refuses, saying why)."),
    Code("P003", "port-disagrees", ERROR, "P",
         "lstmcalc port: the two forward passes differ by more than 1e-5 (nothing is written)."),
    # states
    Code("T001", "stateful-needs-batch-size", ERROR, "T", "A stateful RNN without a fixed batch size."),
    Code("T002", "unroll-unknown-length", WARNING, "T", "An unrolled RNN on sequences of unknown length."),
    Code("T003", "initial-state-count", ERROR, "T", "initial_state lists the wrong number of states."),
    Code("T004", "initial-state-shape", ERROR, "T",
         "An initial state's shape differs from the state the layer carries ((batch, units), a ConvLSTM's maps, "
         "PyTorch's (D·num_layers, N, H))."),
    # expectations (the spec's `expect:` block, checked by `lstmcalc check`)
    Code("X001", "params-mismatch", ERROR, "X",
         "The model's total, trainable or non-trainable parameter count differs from `expect:`."),
    Code("X002", "output-shape-mismatch", ERROR, "X", "The model's output shape(s) differ from `expect:`."),
    Code("X003", "layer-params-mismatch", ERROR, "X", "A layer's parameter count differs from `expect.layers`."),
    Code("X004", "layer-output-shape-mismatch", ERROR, "X", "A layer's output shape differs from `expect.layers`."),
    Code("X005", "unknown-expected-layer", ERROR, "X", "`expect.layers` names a layer the model does not have."),
    Code("X006", "invalid-expectation", ERROR, "X", "The `expect:` block is malformed (unknown key, wrong type)."),
    Code("X007", "expect-not-written", ERROR, "X",
         "check --update-expect could not write the new numbers into the file (read-only, permissions)."),
    # lints (`lstmcalc check`): Keras builds these models, but they rarely do what was meant
    Code("L001", "per-step-output", WARNING, "L",
         "return_sequences: true feeds a Dense that predicts at every time step, where one prediction "
         "per sample looks intended."),
    Code("L002", "repeat-vector-bridge", INFO, "L",
         "An RNN's last output repeated by RepeatVector into another RNN: an encoder-decoder, said plainly."),
    Code("L003", "single-step-sequence", WARNING, "L",
         "An RNN reads sequences of one time step (e.g. after RepeatVector(1)): its recurrence never runs."),
    Code("L004", "unroll-long-sequence", WARNING, "L", "unroll: true on a long sequence (memory grows with its length)."),
    Code("L005", "dropout-out-of-range", ERROR, "L",
         "dropout or recurrent_dropout outside [0, 1) on an RNN; Keras clips it silently."),
    Code("L006", "mask-zero-vocabulary", INFO, "L",
         "Embedding with mask_zero: true whose input_dim looks like it leaves no room for the padding index 0."),
    Code("L008", "mask-destroyed", WARNING, "L",
         "A masked tensor reaches a layer that does not support masking; the mask is lost after it."),
    # verifier
    Code("V001", "verifier-disagrees", ERROR, "V",
         "The NumPy forward pass computed a shape (or mask) other than the propagated one: a bug in lstmcalc."),
    Code("V002", "memory-budget", WARNING, "V", "The forward pass would need more memory than --max-memory allows."),
    Code("V003", "bad-weights", ERROR, "V",
         "The weights file cannot be read, or misses, adds or misshapes a weight."),
    Code("V004", "bad-input", ERROR, "V",
         "The input arrays cannot be read or do not fit the model (shape, dtype, Embedding indices)."),
    Code("V005", "not-verifiable", ERROR, "V",
         "A layer the NumPy forward pass cannot run (e.g. an activation Keras cannot call by name)."),
    Code("V006", "keras-computes-other-shape", WARNING, "V",
         "Keras computes another shape than it declares (and summary() shows) for this layer."),
    Code("V007", "sizes-do-not-fit", WARNING, "V",
         "The sizes the verifier chose for unknown dimensions do not fit the model; the pass did not run."),
]

CODES: Dict[str, Code] = {entry.code: entry for entry in _TABLE}


class Diagnostic(TupleRecord):
    """One finding about a spec: what, where, and how to fix it. Immutable and ordered by its
    fields; a NamedTuple rather than a dataclass because defining a dataclass costs milliseconds
    at start-up, which every command pays."""

    code: str
    severity: str
    message: str
    hint: str = ""
    layer: Optional[str] = None
    file: Optional[str] = None
    line: Optional[int] = None
    column: Optional[int] = None

    @property
    def name(self) -> str:
        entry = CODES.get(self.code)
        return entry.name if entry else self.code

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def located(self, file: Optional[str], line: Optional[int], column: Optional[int]) -> "Diagnostic":
        return self._replace(file=file, line=line, column=column)

    def changed(self, **fields: Any) -> "Diagnostic":
        """A copy with some fields changed (``layer=...``, ``message=...``)."""
        return self._replace(**fields)

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "hint": self.hint,
            "layer": self.layer,
            "file": self.file,
            "line": self.line,
            "column": self.column,
        }


def make(code: str, message: str, hint: str = "", *, layer: Optional[str] = None,
         location: "Optional[object]" = None, severity: Optional[str] = None) -> Diagnostic:
    """Build a diagnostic for ``code``; the severity comes from the code table unless given."""
    entry = CODES[code]
    file = line = column = None
    if location is not None:
        file, line, column = location.file, location.line, location.column  # type: ignore[attr-defined]
    return Diagnostic(code, severity or entry.severity, message, hint, layer, file, line, column)


class Problem(Exception):
    """A finding raised where it is found — spec reading, an argument check, a layer's rules — and
    turned into a Diagnostic by whoever knows where it was written: the reader, the layer factory
    or the engine. ``argument`` names the spec key it is about, so that its location can be found."""

    def __init__(self, code: str, message: str, hint: str = "", location: "Optional[object]" = None,
                 layer: Optional[str] = None, *, argument: Optional[str] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.location = location
        self.layer = layer
        self.argument = argument

    def to_diagnostic(self, layer: Optional[str] = None, location: "Optional[object]" = None) -> Diagnostic:
        return make(self.code, self.message, self.hint, layer=self.layer or layer,
                    location=self.location or location)


def sort_key(diagnostic: Diagnostic):
    return (diagnostic.file or "", diagnostic.line or 0, diagnostic.column or 0,
            SEVERITY_RANK.get(diagnostic.severity, 9), diagnostic.code)
