"""Components read from the cache folder are unpickled as they are used (parse/lazy_components.py), and once
used are what a build from the text gives: same fields, equality, hash, repr, pickle, class."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import sys
from pathlib import Path

import pytest

from safetyops_dsl.api import check
from safetyops_dsl.model import elements as el
from safetyops_dsl.parse import lazy_components
from safetyops_dsl.parse.lazy_components import LazyComponent

MODELS = Path(__file__).resolve().parents[2] / "models"
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from scale import generate  # noqa: E402


def _components() -> tuple[el.Component, ...]:
    checked = check([MODELS / "aeb"])
    assert checked.model is not None
    return tuple(c for f in checked.model.files for c in f.components)


def _lazy(components: tuple[el.Component, ...]) -> tuple[el.Component, ...]:
    stubs, buffer = lazy_components.pack(components)
    # through pickle, as the cache folder keeps them
    unpacked = lazy_components.unpack(*pickle.loads(pickle.dumps((stubs, buffer))))
    assert unpacked is not None
    return unpacked


def test_every_field_read_first_gives_the_built_value() -> None:
    components = _components()
    assert any(c.parts for c in components) and any(c.ml for c in components)
    for field in dataclasses.fields(el.Component):
        for lazy, built in zip(_lazy(components), components, strict=True):
            assert type(lazy) is LazyComponent
            assert getattr(lazy, field.name) == getattr(built, field.name), field.name
    for lazy, built in zip(_lazy(components), components, strict=True):
        assert lazy.qualified_name == built.qualified_name
        assert [lazy.port(p.name) for p in built.ports] == list(built.ports)


def test_ports_and_parts_of_a_composite_are_read_alone() -> None:
    components = _components()
    assert sum(1 for c in components if c.parts) >= 2
    for lazy, built in zip(_lazy(components), components, strict=True):
        assert (lazy.ports, lazy.parts, lazy.kind, lazy.name) == (built.ports, built.parts, built.kind, built.name)
        # the rest of a composite is not unpickled (a component without parts is one piece)
        assert (type(lazy) is LazyComponent) == bool(built.parts)
        assert lazy.rules == built.rules
        assert type(lazy) is el.Component
        fields = [f.name for f in dataclasses.fields(el.Component)]
        assert [(k, v) for k, v in lazy.__dict__.items() if k in fields] == [
            (k, v) for k, v in built.__dict__.items() if k in fields]


@pytest.mark.parametrize("operation", ["eq", "eq_reflected", "hash", "repr", "pickle", "copy", "replace"])
def test_a_lazy_component_is_the_built_one(operation: str) -> None:
    components = _components()
    for lazy, built in zip(_lazy(components), components, strict=True):
        if operation == "eq":
            assert lazy == built
            assert (lazy != built) is False
        elif operation == "eq_reflected":
            assert built == lazy
        elif operation == "hash":
            assert hash(lazy) == hash(built)
        elif operation == "repr":
            assert repr(lazy) == repr(built)
        elif operation == "pickle":
            again = pickle.loads(pickle.dumps(lazy))
            assert type(again) is el.Component and again == built
        elif operation == "copy":
            assert copy.deepcopy(lazy) == built and copy.copy(lazy) == built
        else:
            assert dataclasses.replace(lazy, name="other") == dataclasses.replace(built, name="other")
        assert type(lazy) is el.Component
    different = _lazy(components)
    assert different[0] != different[1]


def test_a_lookup_cached_before_the_rest_is_read_stays() -> None:
    components = _components()
    for lazy, built in zip(_lazy(components), components, strict=True):
        ports = built.ports
        if ports:
            assert lazy.port(ports[0].name) == ports[0]  # caches the port index of the lazy component
        assert lazy.rules == built.rules
        assert [lazy.port(p.name) for p in ports] == list(ports)
        assert all(lazy.port(p.name) is q for p, q in zip(ports, lazy.ports, strict=True))


def test_packing_a_used_component_leaves_out_what_it_cached() -> None:
    components = _components()
    for c in components:
        c.port("nothing")  # fills the cached port index
    again = _lazy(components)
    assert [c.__dict__ for c in again] != [] and all(c == d for c, d in zip(again, components, strict=True))
    assert all("_port_index" not in c.__dict__ for c in again)


def test_a_damaged_stub_is_a_miss() -> None:
    stubs, buffer = lazy_components.pack(_components())
    assert lazy_components.unpack(stubs, buffer) is not None
    assert lazy_components.unpack(stubs, buffer[:10]) is None
    assert lazy_components.unpack(stubs[:1] + (stubs[0][:5],), buffer) is None
    assert lazy_components.unpack(list(stubs), buffer) is None


def test_a_recheck_after_an_edit_unpickles_only_ports_and_parts_of_other_files(tmp_path: Path) -> None:
    """The incremental validation keeps the per-component results: what the other rules read of the files
    not edited is names, kinds, and the ports and parts of the systems (hazard conditions, allocations)."""
    model, cache = tmp_path / "m", tmp_path / "cache"
    generate(model, 60, 20)
    first = check([model], cache_dir=cache)
    with open(model / "chunk_0001.sops", "a", encoding="utf-8") as fh:
        fh.write("// edited\n")
    again = check([model], cache_dir=cache)
    assert again.diagnostics == first.diagnostics == check([model]).diagnostics
    assert again.model is not None
    lazy = {q for q, c in again.model.components.items() if type(c) is LazyComponent}
    edited = {c.qualified_name for f in again.model.files if f.rel_path == "chunk_0001.sops" for c in f.components}
    assert lazy == set(again.model.components) - edited
    systems = {q for q, c in again.model.components.items() if c.kind is el.ComponentKind.SYSTEM}
    assert all("rules" not in again.model.components[q].__dict__ for q in lazy)
    assert {q for q in lazy if "parts" in again.model.components[q].__dict__} == systems - edited
    # and the model is the one a check from scratch makes
    assert again.model.components == check([model]).model.components  # type: ignore[union-attr]
