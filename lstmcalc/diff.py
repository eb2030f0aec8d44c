"""Compare two analysed specs: layers added, removed, renamed or changed (settings, wiring, output
shapes, parameters, status), input changes, totals, and validity with the diagnostics that came
or went. ``compare`` returns a ``ModelDiff``; rendering lives in render/diff_*.py.

Layers are matched by name first; the rest in order by type (a renamed layer keeps its type and
its place among the unmatched ones).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Dict, List, Optional, Tuple

from .diagnostics import Diagnostic
from .layers.base import Layer
from .report import LayerReport, Report
from .shapes import Shape

ADDED = "added"
REMOVED = "removed"
RENAMED = "renamed"
CHANGED = "changed"
UNCHANGED = "unchanged"

# Config keys that are not settings: the name is compared by matching, the rest is bookkeeping.
_NOT_SETTINGS = {"name"}


@dataclass(frozen=True)
class Change:
    """One value that differs: a setting (``units``, ``layer.units`` inside a wrapper), the
    wiring (``inputs``, ``initial_state``), or the type."""

    name: str
    old: str
    new: str

    def to_dict(self) -> Dict[str, str]:
        return {"name": self.name, "old": self.old, "new": self.new}


@dataclass
class LayerDiff:
    """One layer of either model. ``old``/``new`` are None for an added/removed layer."""

    change: str
    old: Optional[LayerReport]
    new: Optional[LayerReport]
    settings: List[Change] = field(default_factory=list)

    @property
    def name(self) -> str:
        return (self.new or self.old).name  # type: ignore[union-attr]

    @property
    def shapes_changed(self) -> bool:
        return self.old is not None and self.new is not None and _shapes(self.old) != _shapes(self.new)

    @property
    def status_changed(self) -> bool:
        return self.old is not None and self.new is not None and self.old.status != self.new.status

    @property
    def old_params(self) -> Optional[int]:
        return _params(self.old)

    @property
    def new_params(self) -> Optional[int]:
        return _params(self.new)

    @property
    def params_delta(self) -> int:
        return (self.new_params or 0) - (self.old_params or 0)

    def to_dict(self) -> Dict[str, Any]:
        def side(layer: Optional[LayerReport], prefix: str) -> Dict[str, Any]:
            return {f"{prefix}_name": layer.name if layer else None,
                    f"{prefix}_type": layer.type if layer else None,
                    f"{prefix}_status": layer.status if layer else None,
                    f"{prefix}_output_shapes": None if layer is None or layer.output_shapes is None
                    else [list(shape) for shape in layer.output_shapes],
                    f"{prefix}_params": _params(layer)}
        return {"change": self.change, **side(self.old, "old"), **side(self.new, "new"),
                "params_delta": self.params_delta, "settings": [change.to_dict() for change in self.settings]}


@dataclass(frozen=True)
class InputDiff:
    change: str  # added | removed | changed
    name: str
    old_shape: Optional[Shape]
    new_shape: Optional[Shape]
    old_dtype: Optional[str]
    new_dtype: Optional[str]

    def to_dict(self) -> Dict[str, Any]:
        return {"change": self.change, "name": self.name,
                "old_shape": None if self.old_shape is None else list(self.old_shape),
                "new_shape": None if self.new_shape is None else list(self.new_shape),
                "old_dtype": self.old_dtype, "new_dtype": self.new_dtype}


@dataclass
class ModelDiff:
    """What changed from ``old`` to ``new``."""

    old: Report
    new: Report
    layers: List[LayerDiff]
    inputs: List[InputDiff]
    appeared: List[Diagnostic]  # findings of NEW that OLD did not have
    resolved: List[Diagnostic]  # findings of OLD that NEW no longer has

    @property
    def name_changed(self) -> bool:
        return self.old.name != self.new.name

    @property
    def validity_changed(self) -> bool:
        return self.old.ok != self.new.ok

    @property
    def totals_changed(self) -> bool:
        return self.old.totals != self.new.totals

    @property
    def changed_layers(self) -> List[LayerDiff]:
        return [layer for layer in self.layers if layer.change != UNCHANGED]

    @property
    def same(self) -> bool:
        return not (self.name_changed or self.validity_changed or self.totals_changed or self.changed_layers
                    or self.inputs or self.appeared or self.resolved)

    def counts(self) -> Dict[str, int]:
        """How many layers of each kind of change, in a fixed order, zeros left out."""
        order = (CHANGED, RENAMED, ADDED, REMOVED)
        return {kind: n for kind in order if (n := sum(layer.change == kind for layer in self.layers))}

    def to_dict(self) -> Dict[str, Any]:
        def model(report: Report) -> Dict[str, Any]:
            return {"file": report.file, "name": report.name, "ok": report.ok, "totals": report.totals.to_dict()}

        def delta(key: str) -> Dict[str, int]:
            old, new = getattr(self.old.totals, key), getattr(self.new.totals, key)
            return {"old": old, "new": new, "delta": new - old}

        return {
            "schema": "lstmcalc.diff/1",
            "same": self.same,
            "old": model(self.old),
            "new": model(self.new),
            "name_changed": self.name_changed,
            "validity_changed": self.validity_changed,
            "inputs": [item.to_dict() for item in self.inputs],
            "layers": [layer.to_dict() for layer in self.layers],
            "totals": {key: delta(key) for key in ("params", "trainable_params", "non_trainable_params")},
            "appeared_diagnostics": [diagnostic.to_dict() for diagnostic in self.appeared],
            "resolved_diagnostics": [diagnostic.to_dict() for diagnostic in self.resolved],
        }


def _shapes(layer: LayerReport) -> Optional[List[Tuple]]:
    return None if layer.output_shapes is None else [tuple(shape) for shape in layer.output_shapes]


def _params(layer: Optional[LayerReport]) -> Optional[int]:
    """A layer's parameters, None when it is absent or was never built (rejected, not reached)."""
    return layer.params if layer is not None and layer.status == "ok" else None


def _flatten(config: Dict[str, Any], prefix: str = "") -> Dict[str, str]:
    """Settings as ``name → repr``; a wrapped layer's as ``layer.units``, its type as ``layer``."""
    flat: Dict[str, str] = {}
    for key, value in config.items():
        if key in _NOT_SETTINGS:
            continue
        if isinstance(value, Layer):
            flat[prefix + key] = value.keras_class
            flat.update(_flatten(value.config, f"{prefix}{key}."))
        else:
            flat[prefix + key] = repr(value)
    return flat


def _setting_changes(old: LayerReport, new: LayerReport, renames: Dict[str, str]) -> List[Change]:
    changes = []
    if old.type == new.type:
        before, after = _flatten(old.config), _flatten(new.config)
    else:
        # Another type has other arguments and defaults: compare what both boxes show (units, ...).
        changes.append(Change("type", old.type, new.type))
        before, after = dict(old.settings), {key: value for key, value in new.settings if key in dict(old.settings)}
    changes += [Change(key, before.get(key, "-"), value) for key, value in after.items() if before.get(key) != value]
    for wiring in ("inputs", "initial_state"):
        # Old references in new names, so that a renamed producer is not a rewiring.
        was = [_renamed(reference, renames) for reference in getattr(old, wiring)]
        now = list(getattr(new, wiring))
        if was != now and (was or now) and old.status != "not-reached" and new.status != "not-reached":
            changes.append(Change(wiring, ", ".join(getattr(old, wiring)) or "-", ", ".join(now) or "-"))
    return changes


def _renamed(reference: str, renames: Dict[str, str]) -> str:
    name, bracket, rest = reference.partition("[")
    return renames.get(name, name) + bracket + rest


def _match(old: List[LayerReport], new: List[LayerReport]) -> List[Tuple[Optional[int], Optional[int]]]:
    """Pairs of (old index, new index): by name, then the rest in order by type."""
    new_index = {layer.name: index for index, layer in enumerate(new)}
    pairs: Dict[int, int] = {i: new_index[layer.name] for i, layer in enumerate(old) if layer.name in new_index}
    taken = set(pairs.values())
    old_rest = [i for i in range(len(old)) if i not in pairs]
    new_rest = [j for j in range(len(new)) if j not in taken]
    matcher = SequenceMatcher(None, [old[i].type for i in old_rest], [new[j].type for j in new_rest],
                              autojunk=False)
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            pairs[old_rest[block.a + offset]] = new_rest[block.b + offset]
    matched_new = set(pairs.values())
    result: List[Tuple[Optional[int], Optional[int]]] = []
    # In the new model's order; a removed layer goes after the layer that preceded it in the old one.
    removed_after: Dict[Optional[int], List[int]] = {}
    previous: Optional[int] = None
    for i in range(len(old)):
        if i in pairs:
            previous = pairs[i]
        else:
            removed_after.setdefault(previous, []).append(i)
    old_of = {j: i for i, j in pairs.items()}
    result += [(i, None) for i in removed_after.get(None, [])]
    for j in range(len(new)):
        result.append((old_of.get(j), j) if j in matched_new else (None, j))
        result += [(i, None) for i in removed_after.get(j, [])]
    return result


def _finding(diagnostic: Diagnostic, renames: Dict[str, str]) -> Tuple:
    # Where a finding is (file, line) is not what it says: compare severity, code, layer, message.
    layer = renames.get(diagnostic.layer, diagnostic.layer) if diagnostic.layer else None
    return diagnostic.severity, diagnostic.code, layer, diagnostic.message


def compare(old: Report, new: Report) -> ModelDiff:
    """What changed from ``old`` to ``new``."""
    pairs = _match(old.layers, new.layers)
    renames = {old.layers[i].name: new.layers[j].name for i, j in pairs
               if i is not None and j is not None and old.layers[i].name != new.layers[j].name}
    layers = []
    for i, j in pairs:
        if i is None:
            layers.append(LayerDiff(ADDED, None, new.layers[j]))  # type: ignore[index]
        elif j is None:
            layers.append(LayerDiff(REMOVED, old.layers[i], None))
        else:
            before, after = old.layers[i], new.layers[j]
            diff = LayerDiff(UNCHANGED, before, after, _setting_changes(before, after, renames))
            if before.name != after.name:
                diff.change = RENAMED
            elif diff.settings or diff.shapes_changed or diff.status_changed or before.params != after.params:
                diff.change = CHANGED
            layers.append(diff)
    old_inputs = {item.name: item for item in old.inputs}
    new_inputs = {item.name: item for item in new.inputs}
    inputs = []
    for name in list(old_inputs) + [name for name in new_inputs if name not in old_inputs]:
        before, after = old_inputs.get(name), new_inputs.get(name)
        if before is not None and after is not None and (before.shape, before.dtype) == (after.shape, after.dtype):
            continue
        change = ADDED if before is None else REMOVED if after is None else CHANGED
        inputs.append(InputDiff(change, name, before.shape if before else None, after.shape if after else None,
                                before.dtype if before else None, after.dtype if after else None))
    old_findings = {_finding(d, renames) for d in old.diagnostics}
    new_findings = {_finding(d, {}) for d in new.diagnostics}
    appeared = [d for d in new.diagnostics if _finding(d, {}) not in old_findings]
    resolved = [d for d in old.diagnostics if _finding(d, renames) not in new_findings]
    return ModelDiff(old, new, layers, inputs, appeared, resolved)


# -- a spec at a git revision ---------------------------------------------------------------------


class RevisionError(Exception):
    """``--rev`` cannot be read: no git, not a repository, unknown revision, or no such file there."""


def _git(directory: str, *arguments: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", directory, *arguments], capture_output=True, timeout=60)
    except FileNotFoundError:
        raise RevisionError("--rev needs git, which is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise RevisionError(f"git did not answer within 60 s in {directory}") from None


def spec_at_revision(path: str, revision: str) -> bytes:
    """The bytes of ``path`` as committed at ``revision`` (``git show REV:./path``)."""
    if not revision or revision.startswith("-"):
        raise RevisionError(f"{revision!r} is not a revision; give a commit, branch or tag such as HEAD~1")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise RevisionError(f"no such directory: {os.path.dirname(path)}")
    if _git(directory, "rev-parse", "--show-toplevel").returncode != 0:
        raise RevisionError(f"{path} is not inside a git repository, so --rev {revision} cannot read it")
    if _git(directory, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").returncode:
        raise RevisionError(f"unknown revision {revision!r} (try a commit, branch or tag, e.g. HEAD~1)")
    shown = _git(directory, "show", f"{revision}:./{os.path.basename(path)}")
    if shown.returncode != 0:
        raise RevisionError(f"{path} does not exist at revision {revision}")
    return shown.stdout


def report_at_revision(path: str, revision: str, batch_size: Optional[int] = None) -> Report:
    """The analysis of ``path`` as it was at ``revision``; its file is named ``REV:path``."""
    from .api import analyze_bytes

    return analyze_bytes(spec_at_revision(path, revision), file=f"{revision}:{path}", batch_size=batch_size)
