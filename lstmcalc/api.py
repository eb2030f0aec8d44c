"""The library entry points: ``analyze`` a spec file, YAML text, or layers given as call strings."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, BinaryIO, Dict, Optional, Sequence, Tuple, Union

from .diagnostics import Diagnostic, Problem
from .report import Report
from .spec.model import ModelSpec

if TYPE_CHECKING:
    from .readers.python_torch import SourceOptions

PathLike = Union[str, "os.PathLike[str]"]
STDIN = "<stdin>"


def analyze_spec(spec: ModelSpec, *, batch_size: Optional[int] = None,
                 diagnostics: Sequence[Diagnostic] = ()) -> Report:
    """Propagate a parsed ModelSpec."""
    from .engine import analyze_spec as propagate

    return propagate(spec, batch_size=batch_size, spec_diagnostics=diagnostics)


def analyze_text(text: str, *, file: Optional[str] = None, batch_size: Optional[int] = None) -> Report:
    """Analyze a spec given as YAML text."""
    from .spec.reader import read_spec_text

    spec, diagnostics = read_spec_text(text, file)
    if spec is None:
        return Report.unread(file, diagnostics)
    return analyze_spec(spec, batch_size=batch_size, diagnostics=diagnostics)


def read_text(path: PathLike) -> Tuple[Optional[str], Optional[Diagnostic]]:
    """The file's text, or a diagnostic when it cannot be a spec: not UTF-8 (S001), unreadable,
    a device, FIFO or broken link (S026), too large (S027). Missing files raise FileNotFoundError."""
    from .spec.files import decode_spec, read_limited

    name = os.fspath(path)
    try:
        return decode_spec(read_limited(name), name), None
    except Problem as problem:
        return None, problem.to_diagnostic()


def read_stream_text(stream: BinaryIO, name: str = STDIN) -> Tuple[Optional[str], Optional[Diagnostic]]:
    """``read_text`` for a binary stream (standard input), within the same size limit."""
    from .spec.files import decode_spec, read_stream_limited

    try:
        return decode_spec(read_stream_limited(stream, name), name), None
    except Problem as problem:
        return None, problem.to_diagnostic()


def analyze_stdin(stream: BinaryIO, *, batch_size: Optional[int] = None) -> Report:
    """Analyze a spec read from a binary stream (standard input)."""
    text, problem = read_stream_text(stream)
    if text is None:
        return Report.unread(STDIN, [problem])
    return analyze_text(text, file=STDIN, batch_size=batch_size)


def analyze(path: PathLike, *, batch_size: Optional[int] = None,
            bindings: Optional[Dict[str, Any]] = None, source: Optional["SourceOptions"] = None) -> Report:
    """Analyze the model file at ``path`` — a YAML spec, a .keras archive, a Keras JSON config, Keras
    or PyTorch Python source (lstmcalc.readers picks the reader) — as Keras 3 (or torch) would.
    ``bindings`` give names of Python source their values (``--set``); ``source`` what PyTorch
    source does not say: ``SourceOptions(input_shape=(35, 20), batch_size=8)``."""
    from .readers import read_model_file

    name = os.fspath(path)
    spec, diagnostics = read_model_file(name, bindings, source)
    if spec is None:
        return Report.unread(name, diagnostics)
    return analyze_spec(spec, batch_size=batch_size, diagnostics=diagnostics)


def analyze_bytes(data: bytes, *, file: str, batch_size: Optional[int] = None) -> Report:
    """Analyze a model file given as its bytes (e.g. from ``git show``), named ``file``."""
    from .readers import read_model_bytes

    spec, diagnostics = read_model_bytes(data, file)
    if spec is None:
        return Report.unread(file, diagnostics)
    return analyze_spec(spec, batch_size=batch_size, diagnostics=diagnostics)


def analyze_code(code: str, *, batch_size: Optional[int] = None,
                 bindings: Optional[Dict[str, Any]] = None) -> Report:
    """Analyze a model written as Keras code, e.g. ``Sequential([Input((30, 8)), LSTM(64)])``."""
    from .readers import read_snippet

    spec, diagnostics = read_snippet(code, bindings=bindings)
    if spec is None:
        return Report.unread("<command line>", diagnostics)
    return analyze_spec(spec, batch_size=batch_size, diagnostics=diagnostics)


def analyze_layers(input_shape: Sequence[Optional[int]], layers: Sequence[str], *,
                   batch_size: Optional[int] = None, name: Optional[str] = None,
                   dtype: str = "float32", framework: str = "keras") -> Report:
    """Analyze a stack given as call strings: ``analyze_layers([50, 10], ["LSTM(64)"])``; with
    ``framework="pytorch"``, torch.nn calls: ``["LSTM(hidden_size=64, batch_first=True)"]``."""
    from .spec.reader import spec_from_arguments

    spec, diagnostics = spec_from_arguments(tuple(input_shape), list(layers), name=name, dtype=dtype,
                                            framework=framework)
    return analyze_spec(spec, batch_size=batch_size, diagnostics=diagnostics)
