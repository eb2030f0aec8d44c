"""YAML with positions: every mapping, sequence and scalar remembers its line and column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ..diagnostics import Problem


@dataclass(frozen=True)
class Location:
    """A 1-based line and column in a file (or a command-line argument)."""

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


def _loader_class():
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str, file: Optional[str]) -> Any:
    """Parse YAML text safely into located values; raises Problem(S001) on syntax errors."""
    import yaml

    loader = _loader_class()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _convert(node, loader, file)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        problem = error.problem or "invalid YAML"
        context = f" ({error.context})" if error.context else ""
        raise Problem(
            "S001",
            f"YAML syntax error: {problem}{context}",
            "Check indentation, quoting and brackets around this position; "
            "a layer in call syntax containing ':' or '#' must be quoted.",
            Location(file, line, column),
        ) from None
    except RecursionError:
        raise Problem("S001", "The YAML document is nested too deeply to read.",
                          "A spec needs only a few levels of nesting; check the brackets.",
                          Location(file, None, None)) from None
    except yaml.YAMLError as error:
        raise Problem("S001", f"YAML error: {error}", "Check the file is YAML.",
                          Location(file, None, None)) from None
    finally:
        loader.dispose()


def _location(node, file: Optional[str]) -> Location:
    mark = node.start_mark
    content_column = None
    style = getattr(node, "style", None)
    if isinstance(node.value, str) and node.start_mark.line == node.end_mark.line:
        if style in (None, ""):
            content_column = mark.column + 1
        elif style in ("'", '"') and "\\" not in node.value and "''" not in node.value:
            content_column = mark.column + 2
    return Location(file, mark.line + 1, mark.column + 1, content_column)


def _convert(node, loader, file: Optional[str]) -> Any:
    import yaml

    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result = LocatedMap()
        result.location = _location(node, file)
        result.key_locations = {}
        result.value_locations = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, loader, file)
            if isinstance(key, (list, dict)):
                raise Problem("S002", "A mapping key must be a plain name.",
                                  "Use `name: value` pairs.", _location(key_node, file))
            if key in result:
                raise Problem(
                    "S002", f"Duplicate key `{key}` in one mapping.",
                    f"Keep one `{key}:`; YAML would silently drop the first.",
                    _location(key_node, file))
            result[key] = _convert(value_node, loader, file)
            result.key_locations[key] = _location(key_node, file)
            result.value_locations[key] = _location(value_node, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        result_list = LocatedList(_convert(item, loader, file) for item in node.value)
        result_list.location = _location(node, file)
        result_list.item_locations = [_location(item, file) for item in node.value]
        return result_list
    return loader.construct_object(node, deep=True)
