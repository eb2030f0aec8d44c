"""Keras call syntax — ``LSTM(64, return_sequences=True)`` — read with ``ast``, never evaluated."""

from __future__ import annotations

import ast
from typing import Any

from ..diagnostics import Problem
from .model import Argument, LayerDef
from .source import Location

_HINT = ("Write the layer as Keras code with literal arguments, e.g. "
         "\"LSTM(64, return_sequences=True)\" or \"Bidirectional(LSTM(32))\".")


def parse_call(text: str, location: Location) -> LayerDef:
    """Parse one layer written as a Keras constructor call."""
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(stripped, mode="eval")
        return _layer_from_node(tree.body, text, location, lead)
    except (RecursionError, MemoryError):
        raise Problem("S008", "The layer is nested too deeply to read.", _HINT, location) from None
    except SyntaxError as error:
        column = (error.offset or 1) - 1 + lead
        raise Problem(
            "S008", f"Cannot read layer {_short(text)!r}: {error.msg}.", _HINT,
            location.inside(0, column) if (error.lineno or 1) == 1 else location) from None


def _short(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _where(node: ast.AST, location: Location, lead: int) -> Location:
    line = getattr(node, "lineno", 1) - 1
    return location.inside(line, getattr(node, "col_offset", 0) + lead)


def _callee_name(func: ast.AST):
    # Accept LSTM, layers.LSTM, keras.layers.LSTM, tf.keras.layers.LSTM: the class is the last name.
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _layer_from_node(node: ast.AST, text: str, location: Location, lead: int) -> LayerDef:
    here = _where(node, location, lead)
    source = ast.get_source_segment(text.strip(), node) or text.strip()
    if isinstance(node, (ast.Name, ast.Attribute)):
        # A bare class name, e.g. "Flatten", means the layer with default arguments.
        return LayerDef(_callee_name(node), here, here, source=source)
    if not isinstance(node, ast.Call):
        raise Problem("S008", f"Expected a layer constructor call, got {_short(text)!r}.", _HINT,
                          _where(node, location, lead))
    name = _callee_name(node.func)
    if name is None:
        raise Problem("S008", f"Cannot tell which layer {_short(text)!r} constructs.", _HINT,
                          _where(node.func, location, lead))
    positional = []
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise Problem("S008", "`*args` cannot be read without running code.", _HINT,
                              _where(arg, location, lead))
        positional.append(Argument(_value(arg, text, location, lead), _where(arg, location, lead)))
    keywords = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise Problem("S008", "`**kwargs` cannot be read without running code.", _HINT,
                              _where(keyword.value, location, lead))
        if keyword.arg in keywords:
            raise Problem("S008", f"Keyword `{keyword.arg}` is given twice.",
                              f"Keep one `{keyword.arg}=`.", _where(keyword, location, lead))
        keywords[keyword.arg] = Argument(_value(keyword.value, text, location, lead),
                                         _where(keyword, location, lead))
    return LayerDef(name, here, _where(node.func, location, lead), positional, keywords, source=source)


def _value(node: ast.AST, text: str, location: Location, lead: int) -> Any:
    if isinstance(node, ast.Call) or (isinstance(node, ast.Attribute) and _looks_like_layer(node)):
        return _layer_from_node(node, text, location, lead)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        segment = ast.get_source_segment(text.strip(), node) or "this argument"
        raise Problem(
            "S008", f"`{segment}` is not a literal; lstmcalc reads call syntax without running it.",
            "Use a literal value: a number, a string such as 'relu', True/False/None, or a tuple.",
            _where(node, location, lead)) from None


def _looks_like_layer(node: ast.Attribute) -> bool:
    return node.attr[:1].isupper()
