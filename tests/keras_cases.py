"""What the Keras fixture tests share: the recorded files, the layer types a case uses, and the
types recorded before lstmcalc has them.

The recordings of issue 9 (tests/fixtures/keras/conv_*) hold layer types that are added on other
branches. A case using one of them is not skipped: it must be refused as an unknown type (S003)
until the type lands, and `test_pending_types_are_still_unknown` fails as soon as it lands, so the
list is emptied when the branches are merged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, Iterable, Set

import yaml

KERAS = Path(__file__).resolve().parent / "fixtures" / "keras"

# Recorded by scripts/record_keras_reference.py (Sequential specs) and its --cases option.
SEQUENTIAL_REFERENCES = ("sequential_reference.json", "conv_reference.json", "spatial_reference.json")
MASK_REFERENCES = ("mask_reference.json", "conv_mask_reference.json")
# Recorded by scripts/record_keras_functional.py (graph specs).
FUNCTIONAL_REFERENCES = ("functional_reference.json", "conv_functional_reference.json")
# Cases for scripts/record_keras_numerics.py (numerics/<id>.npz).
NUMERICS_CASES = ("numerics_cases.yaml", "conv_numerics_cases.yaml", "spatial_numerics_cases.yaml")

# Types recorded in the fixtures that this branch does not have yet (Conv2D, Conv3D and ConvLSTM
# come with the conv-layers branch).
PENDING_TYPES = {"Conv2D", "Conv3D", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"}

_CALLED = re.compile(r"\b([A-Z][A-Za-z0-9]*)\s*\(")


def recorded(names: Iterable[str]) -> Dict[str, Dict[str, Any]]:
    """The cases of several recordings by id (ids are unique across them)."""
    cases: Dict[str, Dict[str, Any]] = {}
    for name in names:
        for case_id, case in json.loads((KERAS / name).read_text(encoding="utf-8"))["cases"].items():
            assert case_id not in cases, f"case id {case_id} is recorded twice"
            cases[case_id] = case
    return cases


def numerics_cases() -> list:
    cases: list = []
    for name in NUMERICS_CASES:
        cases += yaml.safe_load((KERAS / name).read_text(encoding="utf-8"))
    ids = [case["id"] for case in cases]
    assert len(ids) == len(set(ids)), "a numerics case id is used twice"
    return cases


def layer_types(spec: Any) -> Set[str]:
    """Every layer type a spec names, in mappings (`type:`) and in call syntax, wrapped ones too."""
    found: Set[str] = set()
    if isinstance(spec, dict):
        if isinstance(spec.get("type"), str):
            found.add(spec["type"])
        for value in spec.values():
            found |= layer_types(value)
    elif isinstance(spec, list):
        for item in spec:
            found |= layer_types(item)
    elif isinstance(spec, str):
        found |= set(_CALLED.findall(spec))
    return found


def pending_in(spec: Any) -> Set[str]:
    return layer_types(spec) & PENDING_TYPES


def assert_refused_as_unknown(report, pending: Set[str]) -> None:
    """A case with a type this branch does not have: lstmcalc refuses the spec, naming the type."""
    assert not report.ok
    unknown = {d.message for d in report.errors if d.code == "S003"}
    assert all(any(f"`{name}`" in message for message in unknown) for name in pending), (pending, unknown)
