"""The library entry points: ``analyze`` a spec file, YAML text, or layers given as call strings."""

from __future__ import annotations

import os
from typing import BinaryIO, Optional, Sequence, Tuple, Union

from .diagnostics import Diagnostic, SpecProblem
from .report import Report
from .spec.model import ModelSpec

PathLike = Union[str, "os.PathLike[str]"]
STDIN = "<stdin>"


def _report_without_model(file: Optional[str], diagnostics: Sequence[Diagnostic]) -> Report:
    return Report(name="sequential", file=file, diagnostics=list(diagnostics))


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
        return _report_without_model(file, diagnostics)
    return analyze_spec(spec, batch_size=batch_size, diagnostics=diagnostics)


def read_text(path: PathLike) -> Tuple[Optional[str], Optional[Diagnostic]]:
    """The file's text, or a diagnostic when it cannot be a spec: not UTF-8 (S001), unreadable,
    a device, FIFO or broken link (S026), too large (S027). Missing files raise FileNotFoundError."""
    from .spec.files import decode_spec, read_limited

    name = os.fspath(path)
    try:
        return decode_spec(read_limited(name), name), None
    except SpecProblem as problem:
        return None, problem.to_diagnostic()


def read_stream_text(stream: BinaryIO, name: str = STDIN) -> Tuple[Optional[str], Optional[Diagnostic]]:
    """``read_text`` for a binary stream (standard input), within the same size limit."""
    from .spec.files import decode_spec, read_stream_limited

    try:
        return decode_spec(read_stream_limited(stream, name), name), None
    except SpecProblem as problem:
        return None, problem.to_diagnostic()


def analyze_stdin(stream: BinaryIO, *, batch_size: Optional[int] = None) -> Report:
    """Analyze a spec read from a binary stream (standard input)."""
    text, problem = read_stream_text(stream)
    if text is None:
        return _report_without_model(STDIN, [problem])
    return analyze_text(text, file=STDIN, batch_size=batch_size)


def analyze(path: PathLike, *, batch_size: Optional[int] = None) -> Report:
    """Analyze the spec file at ``path``: shapes, parameters and diagnostics, as Keras 3 would."""
    name = os.fspath(path)
    text, problem = read_text(name)
    if text is None:
        return _report_without_model(name, [problem])
    return analyze_text(text, file=name, batch_size=batch_size)


def analyze_layers(input_shape: Sequence[Optional[int]], layers: Sequence[str], *,
                   batch_size: Optional[int] = None, name: Optional[str] = None,
                   dtype: str = "float32") -> Report:
    """Analyze a stack given as Keras call strings: ``analyze_layers([50, 10], ["LSTM(64)"])``."""
    from .spec.reader import spec_from_arguments

    spec, diagnostics = spec_from_arguments(tuple(input_shape), list(layers), name=name, dtype=dtype)
    return analyze_spec(spec, batch_size=batch_size, diagnostics=diagnostics)
