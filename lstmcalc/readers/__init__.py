"""Readers: each turns one kind of source into the ModelSpec every command consumes.

``read_model_file`` picks the reader by extension, then by content: YAML specs
(lstmcalc/spec/reader.py), Keras model configs (``model.to_json()``, keras_json), .keras
archives (keras_archive) and Python source, read with ``ast`` and never run: PyTorch
(python_torch) when it imports torch and defines an nn.Module subclass, else Keras (python_keras);
see ``python_framework``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from ..diagnostics import Diagnostic, Problem, make
from ..spec.files import MAX_SPEC_BYTES, read_limited
from ..spec.model import ModelSpec
from ..spec.source import Location

if TYPE_CHECKING:
    from .python_torch import SourceOptions

Read = Tuple[Optional[ModelSpec], List[Diagnostic]]

ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ARCHIVE_LIMIT = 4 * 1024 * 1024 * 1024  # a .keras archive holds the weights too
TEXT_LIMIT = MAX_SPEC_BYTES  # specs, JSON configs and source files


def _yaml(data: bytes, file: str) -> Read:
    from ..spec.reader import read_spec_text

    text, problem = _text(data, file, "Save the spec as UTF-8 YAML.")
    return (None, [problem]) if text is None else read_spec_text(text, file)


def _keras_json(data: bytes, file: str) -> Read:
    from .keras_json import read_keras_json

    text, problem = _text(data, file, "Give lstmcalc the JSON text model.to_json() returns.")
    return (None, [problem]) if text is None else read_keras_json(text, file)


def _keras_archive(data: bytes, file: str) -> Read:
    from .keras_archive import read_keras_archive

    return read_keras_archive(data, file)


def _python(data: bytes, file: str, bindings: Optional[Dict[str, Any]] = None,
            options: Optional["SourceOptions"] = None) -> Read:
    text, problem = _text(data, file, "Save the source as UTF-8.")
    if text is None:
        return None, [problem]
    framework, notes = python_framework(text, file, options)
    if framework == "pytorch":
        from .python_torch import SourceOptions, read_torch

        spec, diagnostics = read_torch(text, file, bindings, options or SourceOptions())
    else:
        from .python_keras import read_python

        spec, diagnostics = read_python(text, file, bindings)
    return spec, notes + diagnostics


def python_framework(text: str, file: str,
                     options: Optional["SourceOptions"] = None) -> Tuple[str, List[Diagnostic]]:
    """Whose model Python source is: PyTorch when it imports torch and defines an nn.Module
    subclass (or imports torch and not Keras), else Keras; with an S025 warning saying so when it
    imports both, or when PyTorch's options are given for a Keras source."""
    import ast

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "keras", []  # the reader reports why it does not parse
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    torch, keras = "torch" in imported, bool(imported & {"keras", "tensorflow", "tf_keras"})
    modules = [node.name for node in tree.body if isinstance(node, ast.ClassDef)
               and any((isinstance(base, ast.Attribute) and base.attr == "Module") or
                       (isinstance(base, ast.Name) and base.id == "Module") for base in node.bases)]
    framework = "pytorch" if torch and (modules or not keras) else "keras"
    where = Location(file, None, None)
    notes = []
    if torch and keras:
        reason = (f"it defines the nn.Module subclass{'es' if len(modules) > 1 else ''} {', '.join(modules)}"
                  if framework == "pytorch" else "it defines no nn.Module subclass")
        other = ("a Keras model built in it is not read: put it in a file of its own" if framework == "pytorch"
                 else "for a PyTorch model, define an nn.Module subclass")
        notes.append(make("S025", f"{file} imports both Keras and PyTorch; lstmcalc reads it as "
                                  f"{'PyTorch' if framework == 'pytorch' else 'Keras'}: {reason}.",
                          f"Keep one framework per file; {other}.", location=where))
    given = options is not None and (options.input_shape is not None or options.class_name is not None)
    if framework == "keras" and given:
        notes.append(make("S025", f"{file} is read as Keras source (it does not import torch and define an "
                                  "nn.Module subclass), which declares its own input: --input and --class apply to "
                                  "PyTorch sources and are not used.", "Give the input in the code: "
                                  "keras.Input(shape=(35, 20)).", location=where))
    return framework, notes


def _legacy_hdf5(data: bytes, file: str) -> Read:
    return None, [make("S017", f"{file} is a legacy HDF5 model file (model.save('model.h5')), which lstmcalc does not "
                               "read.", "Save the model as model.save('model.keras'), or write model.to_json() to a "
                                        "file, and give lstmcalc that.", location=Location(file, None, None))]


# Extension → reader; files with another extension are read by content (see ``reader_for``).
READERS: Dict[str, Callable[[bytes, str], Read]] = {
    ".yaml": _yaml, ".yml": _yaml, ".json": _keras_json, ".keras": _keras_archive, ".py": _python,
    ".h5": _legacy_hdf5, ".hdf5": _legacy_hdf5,
}


def _text(data: bytes, file: str, hint: str) -> Tuple[Optional[str], Optional[Diagnostic]]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        return None, make("S001", f"The file is not UTF-8 text ({error.reason} at byte {error.start}).", hint,
                          location=Location(file, None, None))


def reader_for(file: str, head: bytes) -> Callable[[bytes, str], Read]:
    """The reader for ``file``: by extension, else by its first bytes (a zip is a .keras
    archive, a JSON object a Keras config, anything else a YAML spec)."""
    extension = os.path.splitext(file)[1].lower()
    if extension in READERS:
        return READERS[extension]
    if head.startswith(ZIP_MAGIC):
        return _keras_archive
    if head.startswith(HDF5_MAGIC):
        return _legacy_hdf5
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{") and b'"class_name"' in head:
        return _keras_json
    return _yaml


def read_model_file(path: str, bindings: Optional[Dict[str, Any]] = None,
                    options: Optional["SourceOptions"] = None) -> Read:
    """The ModelSpec of the file at ``path`` (any supported source) and the reading problems;
    ``bindings`` give names of Python source their values, ``options`` what PyTorch source does
    not say (its input, the class to read). Missing files raise OSError."""
    extension = os.path.splitext(path)[1].lower()
    limit = ARCHIVE_LIMIT if extension == ".keras" else TEXT_LIMIT
    try:
        data = read_limited(path, limit)
    except Problem as problem:  # unreadable (S026), too large (S027); a missing file raises
        return None, [problem.to_diagnostic()]
    return read_model_bytes(data, path, bindings, options)


def read_model_bytes(data: bytes, file: str, bindings: Optional[Dict[str, Any]] = None,
                     options: Optional["SourceOptions"] = None) -> Read:
    """The ModelSpec of a file's bytes (read already, e.g. from ``git show``), by its name and content."""
    reader = reader_for(file, data[:4096])
    return _python(data, file, bindings, options) if reader is _python else reader(data, file)


def read_snippet(text: str, file: str = "<command line>", bindings: Optional[Dict[str, Any]] = None) -> Read:
    """A model written as Keras code on the command line: ``Sequential([Input((30, 8)), LSTM(64)])``."""
    from .python_keras import read_python

    return read_python(text, file, bindings)


def looks_like_code(text: str) -> bool:
    """Command-line text that is Keras code rather than a file name."""
    return "(" in text and text.rstrip().endswith((")", "]"))


def is_yaml_file(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in (".yaml", ".yml")
