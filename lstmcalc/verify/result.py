"""What the verifier is asked to do and what it found: options, per-tensor and per-layer checks,
the memory estimate, the result."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence

from ..diagnostics import ERROR, Diagnostic
from ..report import Report
from ..shapes import Shape

if TYPE_CHECKING:
    from numpy import ndarray

DEFAULT_BATCH_SIZE = 2
DEFAULT_TIMESTEPS = 7
DEFAULT_MAX_MEMORY = 1 << 30
SCHEMA_ID = "lstmcalc.verify/1"


@dataclass(frozen=True)
class VerifyOptions:
    """How to run the verifier. ``weights`` (``<layer>/<weight>`` → array) and ``inputs`` (input
    name → array) replace the random ones; ``weights_path``/``input_path`` load them from .npz
    (or .npy for a single input) files. ``initial_states`` gives RNN layers (by name) their
    initial states, as Keras's ``layer(x, initial_state=[...])``: h (and c for LSTM); for
    Bidirectional the forward then the backward states."""

    batch_size: int = DEFAULT_BATCH_SIZE
    timesteps: int = DEFAULT_TIMESTEPS
    seed: int = 0
    max_memory: int = DEFAULT_MAX_MEMORY
    weights_path: Optional[str] = None
    input_path: Optional[str] = None
    weights: Optional[Mapping[str, "ndarray"]] = None
    inputs: Optional[Mapping[str, "ndarray"]] = None
    initial_states: Optional[Mapping[str, Sequence["ndarray"]]] = None
    keep_arrays: bool = False  # keep every layer's outputs in VerifyResult.arrays (port compares them)


@dataclass
class TensorCheck:
    """One tensor: the engine's shape (None = unknown), the shape expected at this run's sizes,
    and what the forward pass computed (None when it did not run)."""

    reference: str
    propagated: Shape
    expected: Optional[Shape] = None
    computed: Optional[Shape] = None
    propagated_masked: bool = False
    computed_masked: Optional[bool] = None
    # Keras itself computes another shape than it declares (Layer.computed_shapes); ``expected``
    # is then what Keras computes.
    keras_differs: bool = False

    @property
    def agrees(self) -> bool:
        if self.computed is None or self.expected is None:
            return False
        compatible = self.keras_differs or (len(self.propagated) == len(self.computed) and all(
            dim is None or dim == actual for dim, actual in zip(self.propagated, self.computed)))
        return compatible and self.computed == self.expected and self.computed_masked == self.propagated_masked

    def to_dict(self) -> Dict[str, Any]:
        return {"reference": self.reference, "propagated": list(self.propagated),
                "expected": None if self.expected is None else list(self.expected),
                "computed": None if self.computed is None else list(self.computed),
                "propagated_masked": self.propagated_masked, "computed_masked": self.computed_masked,
                "keras_differs": self.keras_differs, "agrees": self.agrees}


@dataclass
class LayerCheck:
    """One input or layer. ``status``: agrees, differs, failed (the forward pass raised),
    skipped (an earlier layer failed) or not-run (the pass was refused)."""

    name: str
    type: str
    tensors: List[TensorCheck] = field(default_factory=list)
    status: str = "not-run"
    source: str = ""  # for inputs: where the array came from

    def to_dict(self) -> Dict[str, Any]:
        entry = {"name": self.name, "type": self.type, "status": self.status,
                 "tensors": [tensor.to_dict() for tensor in self.tensors]}
        if self.source:
            entry["source"] = self.source
        return entry


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes the forward pass allocates: weights, the activations it keeps (every input, output and
    mask), and the largest temporary arrays of one layer."""

    weights: int = 0
    activations: int = 0
    scratch: int = 0

    @property
    def total(self) -> int:
        return self.weights + self.activations + self.scratch

    def to_dict(self) -> Dict[str, int]:
        return {"weights": self.weights, "activations": self.activations, "scratch": self.scratch,
                "total": self.total}


@dataclass
class VerifyResult:
    """What the verifier found. ``diagnostics`` holds only the verifier's own findings (V codes)."""

    report: Report
    options: VerifyOptions
    ran: bool = False
    batch_size: Optional[int] = None
    timesteps: Optional[int] = None
    weights_source: str = ""
    inputs: List[LayerCheck] = field(default_factory=list)
    layers: List[LayerCheck] = field(default_factory=list)
    memory: MemoryEstimate = MemoryEstimate()
    outputs: Dict[str, "ndarray"] = field(default_factory=dict)
    # With VerifyOptions.keep_arrays: every input's and layer's output arrays, by name.
    arrays: Dict[str, List["ndarray"]] = field(default_factory=dict)
    output_path: Optional[str] = None  # set by save_outputs
    diagnostics: List[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The pass ran, every tensor agrees, and nothing is an error."""
        return (self.ran and self.report.ok and all(tensor.agrees for tensor in self.tensors)
                and not any(d.severity == ERROR for d in self.diagnostics))

    @property
    def tensors(self) -> List[TensorCheck]:
        return [tensor for check in self.inputs + self.layers for tensor in check.tensors]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "schema": SCHEMA_ID,
            "ok": self.ok,
            "ran": self.ran,
            "name": self.report.name,
            "file": self.report.file,
            "batch_size": self.batch_size,
            "timesteps": self.timesteps,
            "seed": self.options.seed,
            "weights": self.weights_source,
            "memory": dict(self.memory.to_dict(), max_memory=self.options.max_memory),
            "inputs": [check.to_dict() for check in self.inputs],
            "layers": [check.to_dict() for check in self.layers],
            "outputs": {name: list(array.shape) for name, array in self.outputs.items()},
            "output_file": self.output_path,
            "diagnostics": [diagnostic.to_dict() for diagnostic in self.diagnostics],
            "model_diagnostics": [diagnostic.to_dict() for diagnostic in self.report.diagnostics],
        }


_MEMORY_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([kmgt]?)(?:i?b)?$")


def parse_memory_size(text: str) -> int:
    """``1GiB``, ``512M``, ``2gb``, ``1000000`` → bytes; K, M, G and T are powers of 1024."""
    match = _MEMORY_SIZE.match(text.strip().lower().replace(" ", ""))
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a memory size")
    return int(float(match.group(1)) * 1024 ** ("_kmgt".index(match.group(2) or "_")))
