"""The library entry points: ``analyze`` a spec file, YAML text, or layers given as call strings."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, Optional, Sequence, Tuple, Union

from .diagnostics import Diagnostic, make
from .report import Report
from .spec.model import ModelSpec
from .spec.source import Location

if TYPE_CHECKING:
    from .readers.python_torch import SourceOptions

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
        return decode_text(handle.read(), name)


def decode_text(data: bytes, name: str) -> Tuple[Optional[str], Optional[Diagnostic]]:
    """A spec's bytes as text, or a S001 diagnostic naming ``name`` when they are not UTF-8."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        return None, make("S001", f"The file is not UTF-8 text ({error.reason} at byte {error.start}).",
                          "Save the spec as UTF-8 YAML.", location=Location(name, None, None))


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
