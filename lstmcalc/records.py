"""``Record`` and ``TupleRecord``: the bases of the classes every `lstmcalc summary` defines at
start-up, in place of ``@dataclass`` and ``typing.NamedTuple``.

Why not ``dataclasses``: defining a dataclass costs about 0.8 ms (1.3 ms frozen), nearly all of it
compiling the methods it generates, and a summary defined about twenty of them: a fifth of its time
above the interpreter's (benchmarks/startup.py). A record writes its ``__init__`` by hand, so Python's
byte-code cache compiles it once; the fields are ``__init__``'s parameters, and ``Record`` gives
``__repr__``, ``==``, ``_asdict()`` and ``_replace(**changes)`` (as NamedTuples have) from them.

    class Entry(Record):
        def __init__(self, type: str, name: str, arguments: Optional[Dict[str, Any]] = None):
            self.type = type
            self.name = name
            self.arguments = {} if arguments is None else arguments

Attributes ``__init__`` sets that are not parameters (a cache such as ``self._index``) are not fields.
``FrozenRecord`` adds ``__hash__`` over the fields; nothing in lstmcalc assigns to one after ``__init__``.
"""

from __future__ import annotations

from operator import itemgetter
from types import FunctionType
from typing import Any, Dict, Tuple


def record_fields(cls: type) -> Tuple[str, ...]:
    """``cls``'s fields: the parameters of its ``__init__``, in order (cached on the class)."""
    fields = cls.__dict__.get("_record_fields")
    if fields is None:
        code = cls.__init__.__code__  # type: ignore[misc]
        fields = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]
        cls._record_fields = fields  # type: ignore[attr-defined]
    return fields


class Record:
    """Equality, ``repr``, ``_asdict`` and ``_replace`` over the parameters of ``__init__``."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value, as a dataclass

    def _asdict(self) -> Dict[str, Any]:
        return {name: getattr(self, name) for name in record_fields(type(self))}

    def _replace(self, **changes: Any):
        """A copy with ``changes`` to some fields (dataclasses.replace, NamedTuple._replace)."""
        values = self._asdict()
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return type(self)(**values)

    def _values(self) -> Tuple[Any, ...]:
        return tuple(getattr(self, name) for name in record_fields(type(self)))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in record_fields(type(self)))
        return f"{type(self).__qualname__}({fields})"


class FrozenRecord(Record):
    """A record compared and hashed by value (a frozen dataclass)."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())


# TupleRecord: typing.NamedTuple costs about 0.5 ms a class (0.2 ms for collections.namedtuple):
# it compiles each class's __new__, and under `from __future__ import annotations` compiles every
# field's annotation too. A TupleRecord compiles one __new__ per number of fields and renames its
# parameters for each class; defining one costs a few microseconds.
_NEW_BY_ARITY: Dict[int, Any] = {}


def _new_code(arity: int):
    """The code of ``__new__(_cls, _0, _1, ...)`` returning the tuple of its arguments."""
    code = _NEW_BY_ARITY.get(arity)
    if code is None:
        names = ", ".join(f"_{index}" for index in range(arity))
        namespace: Dict[str, Any] = {}
        exec(f"def __new__(_cls, {names}):\n    return _tuple_new(_cls, ({names}{',' if arity == 1 else ''}))",  # noqa: S102
             namespace)
        code = _NEW_BY_ARITY[arity] = namespace["__new__"].__code__
    return code


class TupleRecord(tuple):
    """A named tuple declared as a ``typing.NamedTuple`` is (annotated fields, defaults, methods),
    with the same behaviour: a tuple whose fields are attributes, ``_fields``, ``_asdict()``,
    ``_replace(**changes)``, ``_make(iterable)`` and a ``repr`` naming them."""

    __slots__ = ()
    _fields: Tuple[str, ...] = ()
    _field_defaults: Dict[str, Any] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = tuple(name for name in cls.__dict__.get("__annotations__", {}) if not name.startswith("_"))
        defaults = {name: cls.__dict__[name] for name in fields if name in cls.__dict__}
        if list(defaults) != list(fields[len(fields) - len(defaults):]):
            raise TypeError(f"{cls.__name__}: a field without a default follows one with a default")
        code = _new_code(len(fields)).replace(co_varnames=("_cls",) + fields,
                                              co_qualname=f"{cls.__qualname__}.__new__")
        new = FunctionType(code, {"_tuple_new": tuple.__new__}, "__new__", tuple(defaults.values()) or None)
        cls.__new__ = new  # type: ignore[assignment]
        for index, name in enumerate(fields):
            setattr(cls, name, property(itemgetter(index), doc=f"Alias for field number {index}"))
        cls._fields = fields
        cls._field_defaults = defaults

    @classmethod
    def _make(cls, iterable):
        return tuple.__new__(cls, iterable)

    def _asdict(self) -> Dict[str, Any]:
        return dict(zip(self._fields, self))

    def _replace(self, **changes: Any):
        values = [changes.pop(name, value) for name, value in zip(self._fields, self)]
        if changes:
            raise TypeError(f"{type(self).__name__} has no field {sorted(changes)[0]!r}")
        return tuple.__new__(type(self), values)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"{type(self).__qualname__}({fields})"

    def __getnewargs__(self):
        return tuple(self)
