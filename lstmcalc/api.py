"""The library entry points: ``analyze`` a spec file, YAML text, or layers given as call strings."""

from __future__ import annotations

import os
from typing import Optional, Sequence, Tuple, Union

from .diagnostics import Diagnostic, make
from .report import Report
from .spec.model import ModelSpec
from .spec.source import Location

PathLike = Union[str, "os.PathLike[str]"]


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
    """The file's text, or a S001 diagnostic when it is not UTF-8 text. Missing files raise."""
    name = os.fspath(path)
    with open(name, "rb") as handle:
        data = handle.read()
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        return None, make("S001", f"The file is not UTF-8 text ({error.reason} at byte {error.start}).",
                          "Save the spec as UTF-8 YAML.", location=Location(name, None, None))


def analyze(path: PathLike, *, batch_size: Optional[int] = None) -> Report:
    """Analyze the spec file at ``path``: shapes, parameters and diagnostics, as Keras 3 would."""
    name = os.fspath(path)
    text, problem = read_text(name)
    if text is None:
        return Report.unread(name, [problem])
    return analyze_text(text, file=name, batch_size=batch_size)


def analyze_layers(input_shape: Sequence[Optional[int]], layers: Sequence[str], *,
                   batch_size: Optional[int] = None, name: Optional[str] = None,
                   dtype: str = "float32", framework: str = "keras") -> Report:
    """Analyze a stack given as call strings: ``analyze_layers([50, 10], ["LSTM(64)"])``; with
    ``framework="pytorch"``, torch.nn calls: ``["LSTM(hidden_size=64, batch_first=True)"]``."""
    from .spec.reader import spec_from_arguments

    spec, diagnostics = spec_from_arguments(tuple(input_shape), list(layers), name=name, dtype=dtype,
                                            framework=framework)
    return analyze_spec(spec, batch_size=batch_size, diagnostics=diagnostics)
