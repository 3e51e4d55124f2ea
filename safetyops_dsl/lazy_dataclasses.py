"""`dataclass`, `field` and `replace` for the types on `sops fta`'s start-up path, without importing
`dataclasses` or compiling its methods there (issue 18: start-up in at most 60 ms).

`@dataclasses.dataclass` costs about 4 M instructions a class (its `__init__`, `__repr__`, `__eq__`,
`__hash__` and frozen `__setattr__`/`__delattr__` are each compiled from source when the class is made) and
importing `dataclasses` (with `inspect`) 42 M: together about 110 M of the 250 M of a small `sops fta`. The
`dataclass` here makes the same class from the same declaration, compiling one `__init__` (the only method
whose speed matters: trees make one object a gate) and sharing generic `__eq__`, `__hash__` and `__repr__`.
What the `dataclasses` module sees is unchanged: `__dataclass_fields__` is built on first use, by applying
the real decorator to a copy of the declaration, so `fields`, `is_dataclass`, `asdict` and `replace` work
on these classes as before (and import `dataclasses` only then). mypy sees the real decorator.

Supported: the options the package uses (`frozen`, `slots`; `eq` and `repr` on), fields with a default or a
`default_factory`, no dataclass bases. Anything else is refused when the class is made, so a declaration
cannot silently mean something else here; tests/unit/test_lazy_dataclasses.py compares every class made
here with the real decorator's class of the same declaration.
"""

from __future__ import annotations

from operator import attrgetter

TYPE_CHECKING = False  # typing itself is not imported at run time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    _T = TypeVar("_T")

_MISSING = object()


class _FactoryMarker:
    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _FactoryMarker()  # the default of an argument whose field has a default_factory (as dataclasses)


class _Field:
    """What `field()` returns here: the default or the factory, nothing else."""

    __slots__ = ("default", "default_factory")

    def __init__(self, default: object, default_factory: object) -> None:
        self.default = default
        self.default_factory = default_factory


def _field(*, default: object = _MISSING, default_factory: object = _MISSING) -> Any:
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return _Field(default, default_factory)


class _Spec:
    """A made class's declaration, kept to build the real `dataclasses` fields from it on first use."""

    __slots__ = ("names", "annotations", "defaults", "frozen")

    def __init__(self, names: tuple[str, ...], annotations: dict[str, object], defaults: dict[str, object],
                 frozen: bool) -> None:
        self.names = names
        self.annotations = annotations
        self.defaults = defaults  # name -> value or _Field
        self.frozen = frozen


class _LazyFields:
    """`__dataclass_fields__` (and `__dataclass_params__`) of a made class, built on first access."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, obj: object, cls: type) -> Any:
        import dataclasses

        spec: _Spec = cls.__dict__["__lazy_dataclass__"]
        namespace: dict[str, Any] = {"__annotations__": dict(spec.annotations), "__module__": cls.__module__,
                                     "__qualname__": cls.__qualname__}
        for name, default in spec.defaults.items():
            if isinstance(default, _Field):
                namespace[name] = dataclasses.field(default_factory=default.default_factory)  # type: ignore[call-overload]
            else:
                namespace[name] = default
        real: Any = dataclasses.dataclass(frozen=spec.frozen)(type(cls.__name__, (), namespace))
        type.__setattr__(cls, "__dataclass_fields__", real.__dataclass_fields__)
        type.__setattr__(cls, "__dataclass_params__", real.__dataclass_params__)
        return getattr(cls, self.attribute)


def _frozen_error(name: str) -> Exception:
    import dataclasses

    return dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _make(cls: type, frozen: bool, slots: bool) -> type:
    if any(b is not object for b in cls.__bases__) or any("__dataclass_fields__" in vars(b) for b in cls.__mro__):
        raise TypeError(f"{cls.__qualname__}: lazy_dataclasses.dataclass takes no base classes")
    annotations: dict[str, object] = dict(cls.__dict__.get("__annotations__", {}))
    names = []
    defaults: dict[str, object] = {}
    for name, ann in annotations.items():
        if not (isinstance(name, str) and name.isidentifier()):  # the __init__ source is built from the names
            raise TypeError(f"{cls.__qualname__}: field name {name!r} is not an identifier")
        if isinstance(ann, str) and ann.split("[")[0] in ("ClassVar", "typing.ClassVar", "InitVar", "KW_ONLY"):
            raise TypeError(f"{cls.__qualname__}.{name}: {ann} is not supported by lazy_dataclasses")
        names.append(name)
        if name in cls.__dict__:
            defaults[name] = cls.__dict__[name]
        elif defaults:
            raise TypeError(f"non-default argument {name!r} follows default argument")
    fields = tuple(names)
    # The one compiled method: the same code `dataclasses` generates (a frozen class sets its fields through
    # object.__setattr__, past its own __setattr__).
    params, body = [], []
    env: dict[str, Any] = {"_FACTORY": _FACTORY, "_set": object.__setattr__}
    for name in fields:
        default = defaults.get(name, _MISSING)
        if default is _MISSING:
            params.append(name)
            value = name
        elif isinstance(default, _Field) and default.default_factory is not _MISSING:
            params.append(f"{name}=_FACTORY")
            env[f"_factory_{name}"] = default.default_factory
            value = f"_factory_{name}() if {name} is _FACTORY else {name}"
        else:
            if isinstance(default, _Field):
                default = defaults[name] = default.default
            params.append(f"{name}=_default_{name}")
            env[f"_default_{name}"] = default
            value = name
        if not frozen:
            body.append(f"self.{name} = {value}")
        elif slots:
            # A frozen record is filled past its own __setattr__. object.__setattr__ called from Python costs
            # about three times the slot's own setter (bound once the class exists, below), which does the
            # same: 10,000 Gate records 39 -> 12 ms. (A record without slots keeps object.__setattr__: its
            # instance dict, taken to store into, would cost memory and slower reads for every instance.)
            body.append(f"_slot_{name}(self, {value})")
        else:
            body.append(f"_set(self, {name!r}, {value})")
    source = f"def __init__(self, {', '.join(params)}):\n    " + ("\n    ".join(body) or "pass") + "\n"
    exec(source, env)  # noqa: S102 - the source is built above from the class's own field names
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {**{name: annotations[name] for name in fields}, "return": None}
    namespace = dict(cls.__dict__)
    for name, default in defaults.items():
        if isinstance(default, _Field) or slots:  # dataclasses keeps a plain default as a class attribute
            namespace.pop(name, None)
        else:
            namespace[name] = default
    # the class is made again from its namespace (as dataclasses does for slots=True): its old instance
    # dict and weakref descriptors would apply only to the old class
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    if slots:
        namespace["__slots__"] = fields
    namespace.update(__init__=init, __repr__=_repr, __eq__=_eq, __match_args__=fields,
                     __lazy_dataclass__=_Spec(fields, annotations, defaults, frozen),
                     __lazy_key__=staticmethod(_key(fields)),
                     __dataclass_fields__=_LazyFields("__dataclass_fields__"),
                     __dataclass_params__=_LazyFields("__dataclass_params__"))
    namespace["__hash__"] = _hash if frozen else None
    if frozen:
        namespace.update(__setattr__=_setattr, __delattr__=_delattr)
        if slots:
            namespace.update(__getstate__=_getstate, __setstate__=_setstate)
    made = type(cls)(cls.__name__, cls.__bases__, namespace)
    made.__qualname__ = cls.__qualname__
    if frozen and slots:
        for name in fields:
            env[f"_slot_{name}"] = made.__dict__[name].__set__
    return made


def _key(fields: tuple[str, ...]) -> Callable[[object], tuple[object, ...]]:
    """The tuple of a record's field values (dataclasses compares and hashes that tuple)."""
    if len(fields) == 1:
        get = attrgetter(fields[0])
        return lambda obj: (get(obj),)
    if not fields:
        return lambda obj: ()
    return attrgetter(*fields)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        key = self.__lazy_key__
        return key(self) == key(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__lazy_key__(self))


def _repr(self: Any) -> str:
    values = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
    return f"{self.__class__.__qualname__}({values})"


def _setattr(self: Any, name: str, value: object) -> None:
    raise _frozen_error(name)


def _delattr(self: Any, name: str) -> None:
    raise _frozen_error(name)


def _getstate(self: Any) -> list[object]:
    return [getattr(self, name) for name in self.__match_args__]


def _setstate(self: Any, state: list[object]) -> None:
    for name, value in zip(self.__match_args__, state, strict=True):
        object.__setattr__(self, name, value)


def _dataclass(cls: Any = None, /, *, frozen: bool = False, slots: bool = False) -> Any:
    if cls is None:
        return lambda c: _make(c, frozen, slots)
    return _make(cls, frozen, slots)


def _replace(obj: _T, /, **changes: Any) -> _T:
    spec = type(obj).__dict__.get("__lazy_dataclass__")
    if spec is None:  # a class made by the real decorator
        import dataclasses

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    for name in spec.names:
        if name not in changes:
            changes[name] = getattr(obj, name)
    return type(obj)(**changes)


if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
    from dataclasses import field as field
    from dataclasses import replace as replace
else:
    dataclass, field, replace = _dataclass, _field, _replace
