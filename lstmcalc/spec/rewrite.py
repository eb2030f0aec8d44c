"""Editing a YAML document's text in place: values are replaced at their nodes' positions, so the
rest of the file — comments, quoting, layout — stays as it was (used by `check --update-expect`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Tuple


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


def flow_yaml(value: Any) -> str:
    """A value in YAML flow style: ``137217``, ``[null, 64]``, ``[[null, 64], [null, 64]]``."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(flow_yaml(item) for item in value) + "]"
    return str(value)


def content_end(node) -> int:
    """Where a node's own text ends (a block collection's end mark lies past trailing comments)."""
    import yaml

    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return content_end(node.value[-1])
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return content_end(node.value[-1][1])
    return node.end_mark.index


def find(mapping, key: str) -> Tuple[Any, Any]:
    """The (key node, value node) of ``key`` in a mapping node, or (None, None)."""
    import yaml

    if not isinstance(mapping, yaml.MappingNode):
        return None, None
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None, None


def node_value(node) -> Any:
    """The Python value a node holds."""
    import yaml

    return yaml.safe_load(yaml.serialize(node)) if node is not None else None


def compose(text: str):
    """The node tree of a YAML document (positions kept)."""
    import yaml

    return yaml.compose(text, Loader=yaml.SafeLoader)


class YamlRewriter:
    """Collects edits to ``text`` and applies them all at once."""

    def __init__(self, text: str):
        self.text = text
        self.edits: List[Edit] = []
        self.newline = "\r\n" if "\r\n" in text else "\n"

    def rename_key(self, key_node, name: str) -> None:
        self.edits.append(Edit(key_node.start_mark.index, key_node.end_mark.index, name))

    def replace_value(self, value_node, value: Any) -> None:
        """Write ``value`` (flow style) in place of the node's text."""
        import yaml

        end = content_end(value_node)
        if isinstance(value_node, yaml.ScalarNode) and value_node.value == "" and value_node.style is None:
            self.edits.append(Edit(value_node.start_mark.index, end, " " + flow_yaml(value)))
        else:
            self.edits.append(Edit(value_node.start_mark.index, end, flow_yaml(value)))

    def append_block(self, key: str, lines: List[str]) -> None:
        """A new top-level ``key:`` block at the end of the document."""
        prefix = "" if not self.text or self.text.endswith("\n") else "\n"
        block = prefix + f"{key}:" + self.newline + "".join(f"  {line}{self.newline}" for line in lines)
        self.edits.append(Edit(len(self.text), len(self.text), block))

    def fill_empty(self, key_node, block, lines: List[str]) -> None:
        """Lines under a key whose value is empty (``expect:``, ``expect: {}``)."""
        indent = " " * (key_node.start_mark.column + 2)
        colon = self.text.index(":", key_node.end_mark.index)
        # An empty value's marks may lie on a later line, past comments: insert after the colon.
        end = colon + 1 if block.value in ("", []) and not getattr(block, "flow_style", False) \
            else content_end(block)
        self.edits.append(Edit(colon + 1, end, "".join(f"{self.newline}{indent}{line}" for line in lines)))

    def result(self) -> Optional[str]:
        """The edited text, or None when nothing was edited."""
        if not self.edits:
            return None
        text = self.text
        for edit in sorted(self.edits, key=lambda edit: edit.start, reverse=True):
            text = text[:edit.start] + edit.text + text[edit.end:]
        return text
