"""JSON with positions: every object and array remembers the line and column of its bracket,
so that diagnostics about a saved Keras config point into the file."""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
from typing import Any, Optional

from ..diagnostics import Problem
from ..spec.source import LocatedList, LocatedMap, Location

# Keras configs nest a few levels per wrapper or nested model; far more is not a model.
MAX_DEPTH = 64
_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting of JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


class _LocatedDecoder(json.JSONDecoder):
    """The pure-Python scanner, whose object and array hooks receive the position of each one."""

    def __init__(self, text: str, file: Optional[str], first_line: int = 1):
        super().__init__()
        self.file = file
        self.first_line = first_line
        self.line_starts = [0] + [match.end() for match in re.finditer("\n", text)]
        self.parse_object = self._object
        self.parse_array = self._array
        self.scan_once = json.scanner.py_make_scanner(self)

    def location(self, index: int) -> Location:
        line = bisect.bisect_right(self.line_starts, index) - 1
        return Location(self.file, line + self.first_line, index - self.line_starts[line] + 1)

    def _object(self, state, *args):
        value, end = json.decoder.JSONObject(state, *args)
        located = LocatedMap(value)
        located.location = self.location(state[1] - 1)
        located.key_locations, located.value_locations = {}, {}
        return located, end

    def _array(self, state, scan_once):
        value, end = json.decoder.JSONArray(state, scan_once)
        located = LocatedList(value)
        located.location = self.location(state[1] - 1)
        located.item_locations = []
        return located, end


def load_json(text: str, file: Optional[str]) -> Any:
    """Parse JSON into located maps and lists; raises Problem(S017) when it cannot."""
    if nesting_depth(text) > MAX_DEPTH:
        raise Problem("S017", f"The JSON nests deeper than {MAX_DEPTH} levels; no Keras model config does.",
                          "Give lstmcalc the file Keras wrote (model.to_json() or a .keras archive).",
                          Location(file, None, None))
    decoder = _LocatedDecoder(text, file)
    try:
        return decoder.decode(text)
    except json.JSONDecodeError as error:
        raise Problem("S017", f"The file is not valid JSON: {error.msg}.",
                          "Give lstmcalc the file Keras wrote (model.to_json() or a .keras archive).",
                          Location(file, error.lineno, error.colno)) from None
    except RecursionError:
        raise Problem("S017", "The JSON nests too deeply to read.",
                          "Give lstmcalc the file Keras wrote.", Location(file, None, None)) from None

