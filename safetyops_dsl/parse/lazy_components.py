"""Component types read from the cache folder field by field as they are first used.

Unpickling a built file costs about 1 µs per object and a component type is some fifty objects (ports,
failure modes, rules, their locations): at 10,000 types, reading the unchanged files was most of an edited
re-check, though the check reads little of them (validation/incremental.py keeps the per-component results;
what the other rules read is mostly names and kinds, and the parts of the systems).

So a cache entry keeps each component pickled on its own (`pack`), a composite in three pieces (its ports,
its parts, the rest), beside a stub of what assembly and the validation's summaries read of every component: name,
package, kind, location and whether it has an ML part. `unpack` makes a `LazyComponent` of each: an
`el.Component` whose instance dict holds the stub; any other field is a descriptor here that unpickles its
piece into the instance dict; the last piece turns the object into a plain `el.Component` (same identity:
the model's dicts and instance trees keep it). Once made whole it is a component as built from the text
(same fields in the same order, class, equality, hash, repr; it pickles and copies as one). Objects that
the build shared between its ports, its parts and the rest are equal copies here.
"""

from __future__ import annotations

import dataclasses
import io
import pickle
import threading
from typing import Any

from safetyops_dsl.model import elements as el

_PACKED = "_sops_packed"  # instance-dict slot: (the file's buffer, where this component's three pickles start)
_STUB_FIELDS = ("name", "package", "kind", "location")
# read alone, of a component with parts: its ports (hazard conditions name a system's ports), its parts
# (instance trees: a system's parts are a few of its objects, its connections most)
_PORTS, _PARTS, _REST = 0, 1, 2
_FIELDS = tuple(f.name for f in dataclasses.fields(el.Component))

# (name, package, kind, location, ml is None, start of ports, of parts, of the rest, end) of one component;
# a component without parts is one pickle: its three starts are equal
Stub = tuple[str, str, el.ComponentKind, Any, bool, int, int, int, int]


def pack(components: tuple[el.Component, ...]) -> tuple[tuple[Stub, ...], bytes]:
    """Stubs and one buffer holding the pickles of the components (`unpack` gives the components back)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    stubs: list[Stub] = []
    for c in components:
        whole = _whole(c)
        start = buffer.tell()
        if whole.parts:
            # the other fields, in the order of the instance dict (ports and parts are put back in their places)
            pieces: tuple[object, ...] = (
                whole.ports, whole.parts,
                {k: None if k in ("ports", "parts") else v for k, v in whole.__dict__.items()})
        else:  # one piece: apart, the pieces cost more to read whole, and a check reads none of it
            pieces = (whole.__dict__,)
        cuts = [start] * (4 - len(pieces))
        for value in pieces:
            pickler.clear_memo()  # each pickle stands alone: it is read alone
            pickler.dump(value)
            cuts.append(buffer.tell())
        stubs.append((c.name, c.package, c.kind, c.location, c.ml is None, start, cuts[1], cuts[2], cuts[3]))
    return tuple(stubs), buffer.getvalue()


def unpack(stubs: object, buffer: object) -> tuple[el.Component, ...] | None:
    """The components of `pack`'s output, each made whole on first use; None for anything else (a damaged
    or foreign entry: the loader then treats it as a miss)."""
    if not (isinstance(stubs, tuple) and isinstance(buffer, bytes)):
        return None
    view = memoryview(buffer)
    out = []
    new = object.__new__
    setattr_ = object.__setattr__
    for stub in stubs:
        if not (isinstance(stub, tuple) and len(stub) == 9):
            return None
        name, package, kind, location, no_ml, a, b, c, d = stub
        if not 0 <= a <= b <= c <= d <= len(buffer):
            return None
        state: dict[str, object] = {"name": name, "package": package, "kind": kind, "location": location,
                                    _PACKED: (view, a, b, c, d)}
        if no_ml:
            state["ml"] = None
        component = new(LazyComponent)
        setattr_(component, "__dict__", state)
        out.append(component)
    return tuple(out)


def _whole(c: el.Component) -> el.Component:
    """`c` as a plain component, without what it cached about itself (cached_property lookups)."""
    _load(c, _REST)
    if set(c.__dict__) <= set(_FIELDS):
        return c
    plain = object.__new__(el.Component)
    object.__setattr__(plain, "__dict__", {k: v for k, v in c.__dict__.items() if k in _FIELDS})
    return plain


def _load(c: object, group: int) -> None:
    """Unpickle `group` of a lazy component (all of it for _REST, which then becomes a plain component)."""
    with _LOADING:  # (a model may be read from several threads: one unpickles, the others wait for it)
        _load_locked(c, group)


_LOADING = threading.Lock()


def _load_locked(c: object, group: int) -> None:
    state = c.__dict__
    packed = state.get(_PACKED)
    if packed is None:  # a plain component, or made whole meanwhile
        return
    view, start, parts_at, rest_at, end = packed
    apart = start < rest_at  # ports and parts pickled on their own (a component with parts)
    if apart and group == _PORTS:
        if "ports" not in state:
            state["ports"] = pickle.loads(view[start:parts_at])
        return
    if apart and group == _PARTS:
        if "parts" not in state:
            state["parts"] = pickle.loads(view[parts_at:rest_at])
        return
    # the object gets the instance dict a fresh build has (the pickled fields in their order; the stub's are
    # equal values), then the lookups it cached meanwhile (cached_property)
    whole = pickle.loads(view[rest_at:end])
    if apart:
        whole["ports"] = state["ports"] if "ports" in state else pickle.loads(view[start:parts_at])
        whole["parts"] = state["parts"] if "parts" in state else pickle.loads(view[parts_at:rest_at])
    del state[_PACKED]
    whole.update((k, v) for k, v in state.items() if k not in whole)
    object.__setattr__(c, "__dict__", whole)
    object.__setattr__(c, "__class__", el.Component)


class _Field:
    """A field of a component not yet unpickled: reading it unpickles its group (a non-data descriptor: once
    the instance dict holds the field, Python reads it from there)."""

    def __init__(self, name: str):
        self.name = name
        self.group = _PORTS if name == "ports" else _PARTS if name == "parts" else _REST

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return getattr(el.Component, self.name)
        _load(obj, self.group)
        # (read again: from the instance dict, or, once the object is a plain component, as for any other)
        return getattr(obj, self.name)


class LazyComponent(el.Component):
    """See the module docstring. Never constructed directly: `unpack` makes them."""

    def __eq__(self, other: object) -> bool:
        _load(self, _REST)
        if isinstance(other, LazyComponent):
            _load(other, _REST)
        return self == other  # both plain components now

    def __hash__(self) -> int:
        _load(self, _REST)
        return hash(self)

    def __repr__(self) -> str:
        _load(self, _REST)
        return repr(self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        _load(self, _REST)
        return self.__reduce_ex__(protocol)


for _name in _FIELDS:
    if _name not in _STUB_FIELDS:
        setattr(LazyComponent, _name, _Field(_name))
