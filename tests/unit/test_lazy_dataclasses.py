"""lazy_dataclasses.dataclass makes the class dataclasses.dataclass makes from the same declaration: same
constructor, equality, hash, repr, frozenness, slots, copies and pickles, and the same `dataclasses.fields`."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from safetyops_dsl import lazy_dataclasses as lazy

OPTIONS = [{"frozen": f, "slots": s} for f in (False, True) for s in (False, True)]


def declare(decorator: Callable[..., Any], make_field: Callable[..., Any], **options: bool) -> Any:
    @decorator(**options)
    class Rec:
        """A record with every kind of field the package uses."""

        name: str
        size: int = 3
        tags: dict[str, int] = make_field(default_factory=dict)
        note: str = make_field(default="n")

        def double(self) -> int:
            return self.size * 2

        @property
        def label(self) -> str:
            return f"{self.name}/{self.size}"

    return Rec


def pair(**options: bool) -> tuple[Any, Any]:
    return declare(dataclasses.dataclass, dataclasses.field, **options), declare(lazy.dataclass, lazy.field, **options)


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_the_class_behaves_as_the_dataclass_of_the_same_declaration(options: dict[str, bool]) -> None:
    real, made = pair(**options)
    assert str(inspect.signature(made)) == str(inspect.signature(real))
    for cls in (real, made):
        a, b, c = cls("a"), cls("a"), cls("c", 4, {"x": 1}, note="m")
        assert (a == b, a == c, a != c, a.double(), c.label, a.tags is not b.tags) == (True, False, True, 6, "c/4", True)
        assert a.__eq__(object()) is NotImplemented
    assert repr(made("c", 4, {"x": 1})) == repr(real("c", 4, {"x": 1}))
    assert made.__match_args__ == real.__match_args__
    assert ("__hash__" in vars(made) and made.__hash__ is None) == (real.__hash__ is None)
    if options["frozen"]:
        assert hash(made("a", 1, None)) == hash(real("a", 1, None)) == hash(("a", 1, None, "n"))
        for cls in (real, made):
            with pytest.raises(dataclasses.FrozenInstanceError):
                cls("a").size = 2
            with pytest.raises(dataclasses.FrozenInstanceError):
                del cls("a").size
    else:
        obj = made("a")
        obj.size = 5
        assert obj == made("a", 5)
    assert hasattr(made("a"), "__dict__") == hasattr(real("a"), "__dict__")
    assert getattr(made, "__slots__", None) == getattr(real, "__slots__", None)
    assert {k: v for k, v in vars(made).items() if k in ("name", "size", "tags", "note")}.keys() == {
        k for k in ("name", "size", "tags", "note") if k in vars(real)}
    if not options["slots"]:
        assert (made.size, made.note) == (real.size, real.note) == (3, "n")
    with pytest.raises(TypeError):
        made()
    with pytest.raises(TypeError):
        made("a", 1, {}, "n", "extra")


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_dataclasses_sees_the_same_fields_and_copies_replaces_and_converts(options: dict[str, bool]) -> None:
    real, made = pair(**options)
    assert "__dataclass_fields__" not in vars(made) or not isinstance(vars(made)["__dataclass_fields__"], dict)
    assert dataclasses.is_dataclass(made) and dataclasses.is_dataclass(made("a"))
    shape = [(f.name, f.type, f.default, f.default_factory, f.init, f.repr, f.compare, f.hash)
             for f in dataclasses.fields(real)]
    assert [(f.name, f.type, f.default, f.default_factory, f.init, f.repr, f.compare, f.hash)
            for f in dataclasses.fields(made("a"))] == shape
    assert made.__dataclass_params__.frozen == options["frozen"]
    obj = made("a", 2, {"k": 1})
    assert dataclasses.asdict(obj) == dataclasses.asdict(real("a", 2, {"k": 1}))
    for replaced in (dataclasses.replace(obj, size=7), lazy.replace(obj, size=7)):
        assert replaced == made("a", 7, {"k": 1}) and type(replaced) is made
    with pytest.raises(TypeError):
        lazy.replace(obj, nothing=1)
    assert lazy.replace(real("a"), size=7) == real("a", 7)
    for copied in (copy.copy(obj), copy.deepcopy(obj)):
        assert copied == obj and copied is not obj


def test_a_frozen_slotted_record_pickles() -> None:
    from safetyops_dsl.fta.timing import Timing
    from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, Origin

    event = BasicEvent("e", 0.5, origin=Origin("f.xml", 1, 2), timing=Timing("exponential", rate=1e-3))
    tree = FaultTree("T", "g", {"g": Gate("g", GateKind.OR, ("e",))}, {"e": event})
    assert pickle.loads(pickle.dumps(tree)) == tree
    assert tree.house_events == {} and tree.house_events is not FaultTree("T", "g", {}, {}).house_events


def test_a_declaration_it_cannot_honour_is_refused() -> None:
    with pytest.raises(TypeError, match="base"):
        @lazy.dataclass
        class Child(dict):  # type: ignore[type-arg]
            x: int

    with pytest.raises(TypeError, match="ClassVar"):
        @lazy.dataclass
        class Counted:
            total: ClassVar[int] = 0

    with pytest.raises(TypeError, match="follows default"):
        @lazy.dataclass
        class Misordered:
            a: int = 0
            b: int  # type: ignore[misc]

    with pytest.raises(ValueError):
        lazy.field(default=1, default_factory=list)

    class Odd:
        __annotations__ = {"x=print('no')": "int"}  # noqa: RUF012 - a name no class body can declare

    with pytest.raises(TypeError, match="not an identifier"):
        lazy.dataclass(Odd)


MODULES = ("safetyops_dsl.diagnostics", "safetyops_dsl.fta.tree", "safetyops_dsl.fta.result",
           "safetyops_dsl.fta.timing", "safetyops_dsl.fta.bdd", "safetyops_dsl.fta.preprocess")


def test_every_lazy_class_of_the_package_has_the_dataclass_fields_of_its_declaration() -> None:
    """Each class is declared again under dataclasses.dataclass from its source (the same annotations and
    defaults) and the two sets of fields compared."""
    found = 0
    for name in MODULES:
        module = importlib.import_module(name)
        for cls in [v for v in vars(module).values()
                    if isinstance(v, type) and v.__module__ == name and "__lazy_dataclass__" in vars(v)]:
            spec = vars(cls)["__lazy_dataclass__"]
            source = inspect.getsource(cls)
            namespace: dict[str, Any] = {}
            code = source[source.index("class "):]
            exec(compile("from __future__ import annotations\n" + code, name, "exec"),  # noqa: S102
                 {**vars(sys.modules[name]), "dataclass": dataclasses.dataclass, "field": dataclasses.field},
                 namespace)
            real = dataclasses.dataclass(frozen=spec.frozen)(namespace[cls.__name__])
            assert [(f.name, f.type, f.default, f.default_factory) for f in dataclasses.fields(cls)] == [
                (f.name, f.type, f.default, f.default_factory) for f in dataclasses.fields(real)], cls
            assert str(inspect.signature(cls)) == str(inspect.signature(real)), cls
            found += 1
    assert found == 17
