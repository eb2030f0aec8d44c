"""lstmcalc.records: Record (in place of @dataclass) and TupleRecord (in place of typing.NamedTuple)
behave as what they replace, for the uses lstmcalc makes of them."""

from __future__ import annotations

import pickle
from typing import Dict, List, Optional, Tuple

import pytest

from lstmcalc.records import FrozenRecord, Record, TupleRecord


class Entry(Record):
    def __init__(self, type: str, name: str, arguments: Optional[Dict[str, int]] = None):
        self.type = type
        self.name = name
        self.arguments: Dict[str, int] = {} if arguments is None else arguments
        self._cache: List[str] = []  # not a parameter: not a field


class Spec(FrozenRecord):
    def __init__(self, shape: Tuple[int, ...], dtype: str = "float32"):
        self.shape = shape
        self.dtype = dtype


class Formula(TupleRecord):
    """A docstring stays."""

    text: str
    value: Optional[int]
    unit: str = "MACs"
    shown: bool = True

    def doubled(self) -> int:
        return 2 * (self.value or 0)


def test_record_fields_are_the_parameters_of_init():
    entry = Entry("LSTM", "lstm", {"units": 4})
    assert entry._asdict() == {"type": "LSTM", "name": "lstm", "arguments": {"units": 4}}
    assert repr(entry) == "Entry(type='LSTM', name='lstm', arguments={'units': 4})"


@pytest.mark.parametrize("other, equal", [
    (Entry("LSTM", "lstm", {"units": 4}), True),
    (Entry("LSTM", "lstm", {"units": 5}), False),   # one field differs
    (Entry("GRU", "lstm", {"units": 4}), False),
    (("LSTM", "lstm", {"units": 4}), False),        # another class: never equal
])
def test_record_equality_is_by_fields(other, equal):
    entry = Entry("LSTM", "lstm", {"units": 4})
    entry._cache.append("not compared")
    assert (entry == other) is equal


def test_record_replace_copies_with_changes_and_a_fresh_cache():
    entry = Entry("LSTM", "lstm")
    entry._cache.append("x")
    changed = entry._replace(name="encoder")
    assert (changed.type, changed.name, changed._cache) == ("LSTM", "encoder", [])
    assert entry.name == "lstm"
    with pytest.raises(TypeError, match="no field 'units'"):
        entry._replace(units=3)


def test_default_containers_are_not_shared():
    assert Entry("a", "b").arguments is not Entry("a", "b").arguments


def test_records_hash_only_when_frozen():
    with pytest.raises(TypeError):
        hash(Entry("a", "b"))
    assert hash(Spec((None, 4))) == hash(Spec((None, 4)))
    assert {Spec((2,)): 1}[Spec((2,))] == 1
    assert Spec((2,)) != Spec((2,), "int64")


def test_tuple_record_is_a_named_tuple():
    formula = Formula("4 × 5", 20)
    assert formula == ("4 × 5", 20, "MACs", True) and isinstance(formula, tuple)
    assert (formula.text, formula.value, formula.unit, formula.shown) == ("4 × 5", 20, "MACs", True)
    text, value, unit, shown = formula
    assert (text, value) == ("4 × 5", 20) and formula[1] == 20
    assert Formula(text="t", value=None, shown=False) == ("t", None, "MACs", False)
    assert formula.doubled() == 40 and Formula.__doc__ == "A docstring stays."
    assert Formula._fields == ("text", "value", "unit", "shown")
    assert Formula._field_defaults == {"unit": "MACs", "shown": True}
    assert repr(formula) == "Formula(text='4 × 5', value=20, unit='MACs', shown=True)"
    assert formula._asdict() == {"text": "4 × 5", "value": 20, "unit": "MACs", "shown": True}
    assert formula._replace(value=21) == ("4 × 5", 21, "MACs", True)
    assert Formula._make(["a", 1, "FLOPs", False]).unit == "FLOPs"
    assert hash(formula) == hash(("4 × 5", 20, "MACs", True))
    assert pickle.loads(pickle.dumps(formula)) == formula


@pytest.mark.parametrize("arguments, message", [
    ((), "missing 2 required positional arguments: 'text' and 'value'"),
    (("a", 1, "MACs", True, "extra"), "takes from 3 to 5 positional arguments but 6 were given"),
])
def test_tuple_record_arguments_are_checked_as_a_named_tuple_checks_them(arguments, message):
    with pytest.raises(TypeError, match=message):
        Formula(*arguments)


def test_tuple_record_refuses_a_field_without_default_after_one_with():
    with pytest.raises(TypeError, match="without a default follows"):
        class Wrong(TupleRecord):
            first: int = 0
            second: int
