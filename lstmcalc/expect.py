"""Expectations written in a spec (`expect:`), checked against the Report, and rewritten in place.

```yaml
expect:
  params: 137217              # also trainable_params, non_trainable_params
  output_shape: [null, 1]     # or output_shapes for several outputs
  layers: {lstm2: {params: 49408, output_shape: [null, 64]}}
```

A mismatch is an X-code error located at the key inside `expect:`. ``updated_text`` writes the
current numbers into the block by editing the file's text at the YAML nodes' positions, so the
rest of the file — comments, quoting, layout — stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

from .diagnostics import Diagnostic, make
from .report import LayerReport, Report
from .shapes import Shape, format_shape
from .spec.rewrite import YamlRewriter, compose, find, flow_yaml, node_value
from .spec.source import LocatedMap, Location
from .suggest import closest

TOTAL_KEYS = ("params", "trainable_params", "non_trainable_params")
SHAPE_KEYS = ("output_shape", "output_shapes")
MODEL_KEYS = TOTAL_KEYS + SHAPE_KEYS + ("layers",)
LAYER_KEYS = TOTAL_KEYS + SHAPE_KEYS
# What --update-expect writes into an empty or missing `expect:` block.
DEFAULT_KEYS = TOTAL_KEYS
UPDATE_HINT = ("If the change is intended, run `lstmcalc check --update-expect FILE` to record the "
               "new numbers; otherwise find the layer that changed.")


# -- actual values -------------------------------------------------------------------------------


def model_output_shapes(report: Report) -> Optional[List[Shape]]:
    """The shapes of the model's outputs (``report.outputs`` entries are ``name[i]``), or None when
    one of them was not computed."""
    shapes: List[Shape] = []
    for reference in report.outputs:
        name, _, index = reference.rpartition("[")
        position = int(index.rstrip("]"))
        layer = report.layer(name)
        if layer is not None and layer.output_shapes is not None and position < len(layer.output_shapes):
            shapes.append(layer.output_shapes[position])
            continue
        inputs = [item for item in report.inputs if item.name == name]
        if not inputs:
            return None
        shapes.append(inputs[0].shape)
    return shapes or None


def _as_list(shape: Sequence[Optional[int]]) -> List[Optional[int]]:
    return list(shape)


def model_value(report: Report, key: str) -> Any:
    """The current value of a model-level expectation key, or None when unknown."""
    if key in TOTAL_KEYS:
        return getattr(report.totals, key) if report.ok else None
    shapes = model_output_shapes(report)
    if shapes is None:
        return None
    if key == "output_shape":
        return _as_list(shapes[0]) if len(shapes) == 1 else [_as_list(shape) for shape in shapes]
    return [_as_list(shape) for shape in shapes]


def layer_value(layer: LayerReport, key: str) -> Any:
    if layer.status != "ok" or layer.output_shapes is None:
        return None
    if key in TOTAL_KEYS:
        return getattr(layer, key)
    if key == "output_shape":
        shapes = layer.output_shapes
        return _as_list(shapes[0]) if len(shapes) == 1 else [_as_list(shape) for shape in shapes]
    return [_as_list(shape) for shape in layer.output_shapes]


# -- checking ------------------------------------------------------------------------------------


class _Reader:
    """Validates the `expect:` block and compares it with the report."""

    def __init__(self, report: Report, block: LocatedMap):
        self.report = report
        self.block = block
        self.diagnostics: List[Diagnostic] = []

    def problem(self, code: str, message: str, hint: str, where: Location, layer: Optional[str] = None):
        self.diagnostics.append(make(code, message, hint, layer=layer, location=where))

    def run(self) -> List[Diagnostic]:
        for key in self.block:
            where = self.block.key_location(key)
            if key not in MODEL_KEYS:
                self._unknown_key(key, MODEL_KEYS, where, "expect")
            elif key == "layers":
                self._layers(self.block[key], self.block.value_location(key))
            else:
                self._compare("expect", key, self.block[key], model_value(self.report, key), where,
                              None, "X001" if key in TOTAL_KEYS else "X002")
        return self.diagnostics

    def _unknown_key(self, key: Any, known: Sequence[str], where: Location, path: str) -> None:
        suggestion = closest(str(key), known)
        self.problem("X006", f"`{path}` has no key `{key}`.",
                     f"Did you mean `{suggestion}`?" if suggestion else "Known keys: " + ", ".join(known) + ".",
                     where)

    def _layers(self, value: Any, where: Location) -> None:
        if not isinstance(value, LocatedMap):
            self.problem("X006", f"`expect.layers` must map layer names to expectations, got {value!r}.",
                         "Write e.g. `layers: {lstm2: {params: 49408, output_shape: [null, 64]}}`.", where)
            return
        names = [layer.name for layer in self.report.layers]
        for name, expected in value.items():
            name_where = value.key_location(name)
            layer = self.report.layer(str(name))
            if layer is None:
                suggestion = closest(str(name), names)
                self.problem("X005", f"`expect.layers` names `{name}`, which is not a layer of this model.",
                             f"Did you mean `{suggestion}`?" if suggestion else
                             "Layers: " + ", ".join(names) + ".", name_where, str(name))
                continue
            if not isinstance(expected, LocatedMap):
                self.problem("X006", f"`expect.layers.{name}` must be a mapping, got {expected!r}.",
                             "Write e.g. `{params: 49408, output_shape: [null, 64]}`.", name_where, layer.name)
                continue
            for key, item in expected.items():
                key_where = expected.key_location(key)
                if key not in LAYER_KEYS:
                    self._unknown_key(key, LAYER_KEYS, key_where, f"expect.layers.{name}")
                    continue
                self._compare(f"expect.layers.{name}", key, item, layer_value(layer, key), key_where,
                              layer.name, "X003" if key in TOTAL_KEYS else "X004")

    def _compare(self, path: str, key: str, expected: Any, actual: Any, where: Location,
                 layer: Optional[str], code: str) -> None:
        if not self._well_formed(path, key, expected, where, layer):
            return
        if actual is None:
            return  # not computed: the model's own errors explain why
        if key in SHAPE_KEYS:
            self._compare_shapes(path, key, expected, actual, where, layer, code)
            return
        if expected != actual:
            owner = f"{layer} has" if layer else "the model has"
            difference = actual - expected
            self.problem(code, f"`{path}.{key}` expects {expected:,} but {owner} {actual:,} "
                               f"({'+' if difference > 0 else ''}{difference:,}).", UPDATE_HINT, where, layer)

    def _compare_shapes(self, path: str, key: str, expected: Any, actual: Any, where: Location,
                        layer: Optional[str], code: str) -> None:
        owner = f"{layer} outputs" if layer else "the model outputs"
        several = key == "output_shape" and actual and isinstance(actual[0], list)
        if several:
            shown = ", ".join(format_shape(shape) for shape in actual)
            self.problem(code, f"`{path}.output_shape` expects one shape {format_shape(expected)} but {owner} "
                               f"{len(actual)} tensors: {shown}.",
                         f"Write `output_shapes: {flow_yaml(actual)}` (one shape per output).", where, layer)
            return
        if expected != actual:
            if key == "output_shapes":
                found = "[" + ", ".join(format_shape(shape) for shape in actual) + "]"
                wanted = "[" + ", ".join(format_shape(shape) for shape in expected) + "]"
            else:
                found, wanted = format_shape(actual), format_shape(expected)
            self.problem(code, f"`{path}.{key}` expects {wanted} but {owner} {found} "
                               f"(in the spec: {flow_yaml(actual)}).", UPDATE_HINT, where, layer)

    def _well_formed(self, path: str, key: str, value: Any, where: Location, layer: Optional[str]) -> bool:
        if key in TOTAL_KEYS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                self.problem("X006", f"`{path}.{key}` must be a whole number of parameters, got {value!r}.",
                             f"Write e.g. `{key}: 49408` (no thousands separators).", where, layer)
                return False
            return True
        shapes = value if key == "output_shapes" else [value]
        if key == "output_shapes" and not isinstance(value, list):
            shapes = [None]
        if all(_is_shape(shape) for shape in shapes):
            return True
        example = "[null, 64]" if key == "output_shape" else "[[null, 64], [null, 64]]"
        self.problem("X006", f"`{path}.{key}` must be {'a shape' if key == 'output_shape' else 'a list of shapes'}"
                             f" (whole numbers, null for unknown), got {value!r}.",
                     f"Write e.g. `{key}: {example}`, the batch axis included.", where, layer)
        return False


def _is_shape(value: Any) -> bool:
    return isinstance(value, list) and all(
        dim is None or (isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0) for dim in value)


def expect_block(report: Report) -> Tuple[Any, Optional[Location]]:
    """The spec's `expect:` value and the location of its key (None, None when absent)."""
    spec = report.spec
    raw = getattr(spec, "raw", None)
    if not isinstance(raw, LocatedMap) or "expect" not in raw:
        return None, None
    return raw["expect"], raw.key_location("expect")


def check_expectations(report: Report) -> List[Diagnostic]:
    """X findings: each `expect:` entry that does not hold, at its key."""
    block, where = expect_block(report)
    if where is None or block is None:
        return []
    if not isinstance(block, LocatedMap):
        return [make("X006", f"`expect` must be a mapping, got {block!r}.",
                     "Write e.g. `expect: {params: 137217, output_shape: [null, 1]}`.", location=where)]
    return _Reader(report, block).run()


# -- rewriting ---------------------------------------------------------------------------------


@dataclass
class Update:
    text: str
    changes: List[str]


class _ExpectationWriter:
    """Writes the report's numbers into the `expect:` block through a YamlRewriter."""

    def __init__(self, text: str, report: Report):
        self.rewriter = YamlRewriter(text)
        self.report = report
        self.changes: List[str] = []

    def replace(self, path: str, key_node, value_node, value: Any) -> None:
        old = node_value(value_node)
        if old == value:
            return
        key = key_node.value
        if key == "output_shape" and value and isinstance(value[0], list):
            # Several outputs: the key itself becomes output_shapes.
            self.rewriter.rename_key(key_node, "output_shapes")
            key = "output_shapes"
        self.rewriter.replace_value(value_node, value)
        self.changes.append(f"{path}.{key}: {flow_yaml(old)} → {flow_yaml(value)}")

    def run(self, root) -> None:
        import yaml

        key_node, block = find(root, "expect")
        if key_node is None:
            self.rewriter.append_block("expect", self._default_lines())
            return
        if isinstance(block, yaml.ScalarNode) and block.value in ("", "~", "null", "Null", "NULL"):
            self.rewriter.fill_empty(key_node, block, self._default_lines())
            return
        if not isinstance(block, yaml.MappingNode):
            return  # reported as X006; not ours to guess
        if not block.value:
            self.rewriter.fill_empty(key_node, block, self._default_lines())
            return
        for item_key, item_value in block.value:
            name = getattr(item_key, "value", None)
            if name in TOTAL_KEYS + SHAPE_KEYS:
                value = model_value(self.report, name)
                if value is not None:
                    self.replace("expect", item_key, item_value, value)
            elif name == "layers" and isinstance(item_value, yaml.MappingNode):
                self._layers(item_value)

    def _layers(self, layers) -> None:
        import yaml

        for name_node, entry in layers.value:
            layer = self.report.layer(str(getattr(name_node, "value", "")))
            if layer is None or not isinstance(entry, yaml.MappingNode):
                continue
            for item_key, item_value in entry.value:
                name = getattr(item_key, "value", None)
                value = layer_value(layer, name) if name in LAYER_KEYS else None
                if value is not None:
                    self.replace(f"expect.layers.{layer.name}", item_key, item_value, value)

    def _default_lines(self) -> List[str]:
        lines = [f"{key}: {flow_yaml(model_value(self.report, key))}" for key in DEFAULT_KEYS]
        shapes = model_output_shapes(self.report)
        if shapes is not None:
            key = "output_shape" if len(shapes) == 1 else "output_shapes"
            lines.append(f"{key}: {flow_yaml(model_value(self.report, key))}")
        self.changes.extend(f"expect.{line}" for line in lines)
        return lines


def updated_text(text: str, report: Report) -> Optional[Update]:
    """``text`` with the `expect:` block holding the report's numbers; None when nothing changes.

    Only the values of keys already in the block are rewritten (and, for a missing or empty block,
    the totals and output shape are added at its place), so comments and layout survive.
    """
    if not report.ok:
        return None
    writer = _ExpectationWriter(text, report)
    writer.run(compose(text))
    result = writer.rewriter.result()
    return None if result is None else Update(result, writer.changes)
