"""YAML with positions: every mapping, sequence and scalar remembers its line and column."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from ..diagnostics import Problem
from ..records import TupleRecord


class Location(TupleRecord):
    """A 1-based line and column in a file (or a command-line argument). Immutable; a NamedTuple
    rather than a dataclass because a dataclass costs milliseconds to define at start-up."""

    file: Optional[str]
    line: Optional[int]
    column: Optional[int]
    # Column of the first character of a single-line string's content (after any quote);
    # lets call-syntax errors point inside the string. None when not derivable.
    content_column: Optional[int] = None

    def inside(self, line_offset: int, column_offset: int) -> "Location":
        """The position ``column_offset`` characters into this string's content."""
        if self.content_column is None or line_offset != 0:
            return self
        return Location(self.file, self.line, self.content_column + column_offset)

    def __str__(self) -> str:
        parts = [self.file or "<spec>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class LocatedMap(dict):
    """A dict from YAML that knows where it, each key and each value are."""

    location: Location
    key_locations: Dict[Any, Location]
    value_locations: Dict[Any, Location]

    def key_location(self, key: Any) -> Location:
        return self.key_locations.get(key, self.location)

    def value_location(self, key: Any) -> Location:
        return self.value_locations.get(key, self.location)


class LocatedList(list):
    """A list from YAML that knows where it and each item are."""

    location: Location
    item_locations: List[Location]

    def item_location(self, index: int) -> Location:
        if 0 <= index < len(self.item_locations):
            return self.item_locations[index]
        return self.location


def location_of(value: Any, default: Location) -> Location:
    return getattr(value, "location", default)


# -- reading YAML ------------------------------------------------------------------------------
#
# The document is built from the parser's events by a loop with an explicit stack, so nesting
# never costs Python recursion, and an alias is the very object its anchor made (shared, never
# copied). Two limits keep hostile documents cheap (README "Limits and safety"):

MAX_DEPTH = 100  # nested collections; a spec needs about ten
# Nodes the document would have if every alias were copied out (a "billion laughs" bomb has
# billions): at most this many beyond those written in the text, or ALIAS_RATIO times those.
ALIAS_ALLOWANCE = 100_000
ALIAS_RATIO = 10

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"
# YAML 1.2 reads 1e9 and 2E-3 as numbers; PyYAML's YAML 1.1 rules want a dot and a signed
# exponent (1.0e+9) and would read them as strings, so `units: 1e9` is read as the number.
_EXPONENT_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
_HINT_DEPTH = "A spec needs only a few levels of nesting; check the brackets and indentation."
_HINT_SYNTAX = ("Check indentation, quoting and brackets around this position; "
                "a layer in call syntax containing ':' or '#' must be quoted.")


def _loader_class():
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str, file: Optional[str]) -> Any:
    """Parse YAML text safely into located values. Raises Problem: S001 for syntax errors,
    S028 for a document nested too deeply or whose aliases expand too far."""
    import yaml

    loader = _loader_class()(text)
    try:
        return _Composer(loader, file).document()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        problem = error.problem or "invalid YAML"
        if "maximum nesting depth" in problem:  # libyaml's own limit (1000 levels)
            raise Problem("S028", f"The YAML document is nested more than {MAX_DEPTH} levels deep here.",
                              _HINT_DEPTH, Location(file, line, column)) from None
        context = f" ({error.context})" if error.context else ""
        raise Problem("S001", f"YAML syntax error: {problem}{context}", _HINT_SYNTAX,
                          Location(file, line, column)) from None
    except yaml.YAMLError as error:
        raise Problem("S001", f"YAML error: {error}", "Check the file is YAML.",
                          Location(file, None, None)) from None
    finally:
        loader.dispose()


def _location(event, file: Optional[str]) -> Location:
    mark = event.start_mark
    content_column = None
    value = getattr(event, "value", None)
    if isinstance(value, str) and mark.line == event.end_mark.line:
        style = event.style
        if style in (None, ""):
            content_column = mark.column + 1
        elif style in ("'", '"') and "\\" not in value and "''" not in value:
            content_column = mark.column + 2
    return Location(file, mark.line + 1, mark.column + 1, content_column)


class _Anchored(TupleRecord):
    value: Any
    size: int  # nodes, counting what its own aliases stand for
    height: int  # levels of nesting inside it
    location: Location


class _Collection:
    """A mapping or sequence being read: its value so far, size and height."""

    def __init__(self, value: Any, location: Location, anchor: Optional[str]):
        self.value = value
        self.location = location
        self.anchor = anchor
        self.size = 1
        self.height = 0
        self.key: Any = _NO_KEY
        self.key_location: Optional[Location] = None
        self.merges: List[Tuple[LocatedMap, Location]] = []

    def add(self, value: Any, location: Location, size: int, height: int) -> None:
        self.size += size
        self.height = max(self.height, height + 1)
        if isinstance(self.value, LocatedList):
            self.value.append(value)
            self.value.item_locations.append(location)
        elif self.key is _NO_KEY:
            self.key, self.key_location = value, location
        else:
            key, self.key = self.key, _NO_KEY
            if key is _MERGE:
                self.merges.append((value, location))
                return
            if key in self.value:
                raise Problem("S002", f"Duplicate key `{key}` in one mapping.",
                                  f"Keep one `{key}:`; YAML would silently drop the first.", self.key_location)
            self.value[key] = value
            self.value.key_locations[key] = self.key_location
            self.value.value_locations[key] = location


_NO_KEY = object()
_MERGE = object()  # the `<<` key of a YAML merge


class _Composer:
    """Builds located values from parser events (see the comment above ``MAX_DEPTH``)."""

    def __init__(self, loader, file: Optional[str]):
        import yaml

        self.yaml = yaml
        self.loader = loader
        self.file = file
        self.anchors: Dict[str, _Anchored] = {}
        self.open_anchors: set = set()
        self.written = 0  # nodes in the text
        self.copied = 0  # nodes the aliases (and merges) stand for

    def document(self) -> Any:
        yaml, loader = self.yaml, self.loader
        loader.get_event()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return None
        loader.get_event()  # document start
        root = self._root()
        loader.get_event()  # document end
        if not loader.check_event(yaml.StreamEndEvent):
            event = loader.get_event()
            raise Problem("S001", "The file holds a second YAML document here; a spec is one document.",
                              "Remove the `---` line and what follows, or split the file.",
                              _location(event, self.file))
        return root

    def _root(self) -> Any:
        yaml, loader = self.yaml, self.loader
        stack: List[_Collection] = []
        while True:
            event = loader.get_event()
            location = _location(event, self.file)
            if isinstance(event, yaml.ScalarEvent):
                value, size, height = self._scalar(event, stack, location), 1, 0
                self._anchor(event.anchor, value, size, height, location)
            elif isinstance(event, yaml.AliasEvent):
                value, size, height = self._alias(event, stack, location)
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if stack and isinstance(stack[-1].value, LocatedMap) and stack[-1].key is _NO_KEY:
                    raise Problem("S002", "A mapping key must be a plain name.",
                                      "Use `name: value` pairs.", location)
                if len(stack) >= MAX_DEPTH:
                    self._too_deep(location)
                container = LocatedList() if isinstance(event, yaml.SequenceStartEvent) else LocatedMap()
                container.location = location
                if isinstance(container, LocatedList):
                    container.item_locations = []
                else:
                    container.key_locations, container.value_locations = {}, {}
                stack.append(_Collection(container, location, event.anchor))
                if event.anchor is not None:
                    self.open_anchors.add(event.anchor)
                self.written += 1
                continue
            else:  # the end of a sequence or mapping
                collection = stack.pop()
                value, size, height = self._finish(collection), collection.size, collection.height
                location = collection.location
                if collection.anchor is not None:
                    self.open_anchors.discard(collection.anchor)
                self._anchor(collection.anchor, value, size, height, location)
            if not stack:
                return value
            stack[-1].add(value, location, size, height)

    def _scalar(self, event, stack: List[_Collection], location: Location) -> Any:
        yaml, loader = self.yaml, self.loader
        self.written += 1
        tag = event.tag
        if tag is None or tag == "!":
            tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag == _STR_TAG and event.implicit[0] and _EXPONENT_FLOAT.match(event.value):
                tag = _FLOAT_TAG
        if tag == _MERGE_TAG:
            if stack and isinstance(stack[-1].value, LocatedMap) and stack[-1].key is _NO_KEY:
                return _MERGE
            tag = _STR_TAG  # `<<` anywhere but as a key is just text
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        constructors = loader.yaml_constructors
        return (constructors.get(tag) or constructors[None])(loader, node)

    def _anchor(self, anchor: Optional[str], value: Any, size: int, height: int, location: Location) -> None:
        if anchor is not None:
            self.anchors[anchor] = _Anchored(value, size, height, location)

    def _alias(self, event, stack: List[_Collection], location: Location) -> Tuple[Any, int, int]:
        anchored = self.anchors.get(event.anchor)
        if anchored is None:
            if event.anchor in self.open_anchors:
                raise Problem("S028", f"The alias *{event.anchor} is inside its own anchor "
                                          f"&{event.anchor}: the value would contain itself.",
                                  "Refer to the anchor only after its value ends.", location)
            raise Problem("S001", f"YAML syntax error: found undefined alias *{event.anchor}.",
                              f"Define `&{event.anchor}` before using `*{event.anchor}`.", location)
        if stack and isinstance(stack[-1].value, LocatedMap) and stack[-1].key is _NO_KEY \
                and isinstance(anchored.value, (list, dict)):
            raise Problem("S002", "A mapping key must be a plain name.", "Use `name: value` pairs.",
                              location)
        if len(stack) + anchored.height >= MAX_DEPTH:
            self._too_deep(location)
        self._copy(anchored.size, f"The alias *{event.anchor} repeats the anchor &{event.anchor} (line "
                                  f"{anchored.location.line}, column {anchored.location.column}), which "
                                  f"stands for {anchored.size:,} nodes", location)
        return anchored.value, anchored.size, anchored.height

    def _copy(self, size: int, what: str, location: Location) -> None:
        self.copied += size
        limit = max(ALIAS_ALLOWANCE, ALIAS_RATIO * self.written)
        if self.copied > limit:
            raise Problem(
                "S028", f"{what}: with the aliases before it, the document would expand to "
                        f"{self.written + self.copied:,} nodes from the {self.written:,} written; aliases may "
                        f"add at most {ALIAS_ALLOWANCE:,} nodes (or {ALIAS_RATIO} times those written). Aliases "
                        "nested inside aliases multiply (a 'billion laughs' document).",
                "Write the values out, or use fewer levels of aliases inside aliases.", location)

    def _too_deep(self, location: Location) -> None:
        raise Problem("S028", f"The YAML document is nested more than {MAX_DEPTH} levels deep here.",
                          _HINT_DEPTH, location)

    def _finish(self, collection: _Collection) -> Any:
        value = collection.value
        if collection.key is not _NO_KEY:  # a mapping cannot end between a key and its value
            raise Problem("S001", "YAML syntax error: a key without a value.", _HINT_SYNTAX,
                              collection.key_location)
        if not collection.merges:
            return value
        # YAML merge keys (`<<: *defaults`): the mapping's own keys win, then the merged mappings
        # in the order given. The merged values are shared, like aliases.
        merged = LocatedMap()
        merged.location = value.location
        merged.key_locations, merged.value_locations = {}, {}
        sources: List[LocatedMap] = []
        for source, where in collection.merges:
            items = source if isinstance(source, LocatedList) else [source]
            if not all(isinstance(item, LocatedMap) for item in items):
                raise Problem("S002", "`<<` merges a mapping (or a list of mappings) into this one.",
                                  "Write `<<: *defaults` with `defaults: &defaults {...}` defined above.", where)
            sources.extend(items)
        for source in sources:
            self._copy(len(source) * 2, "The merge key `<<` here copies its mappings' keys",
                       collection.location)
            for key, item in source.items():
                if key not in value and key not in merged:
                    merged[key] = item
                    merged.key_locations[key] = source.key_location(key)
                    merged.value_locations[key] = source.value_location(key)
        for key, item in value.items():
            merged[key] = item
            merged.key_locations[key] = value.key_locations[key]
            merged.value_locations[key] = value.value_locations[key]
        return merged
