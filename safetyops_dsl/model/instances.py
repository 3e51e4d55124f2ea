"""The instance tree of a system: every part of every composite, each with its own path.

Two parts of one component type are two instances with distinct paths (`AEB.radar_l`, `AEB.radar_r`), so
their failure modes become distinct basic events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.model import elements as el

if TYPE_CHECKING:  # the index builds instance trees on demand: it imports this module
    from safetyops_dsl.model.index import Model

MAX_DEPTH = 64


@dataclass
class Instance:
    path: str  # "AEB.perception.detector"
    component: el.Component
    parent: Instance | None
    part: el.Part | None  # None for the system itself
    # The children are made on first use (most checks read a system's top level only: a hazard's condition
    # names a port of the system or of one part): from the model and the types on the way here, the system's
    # first, this instance's last (a type met again on the way is a containment cycle, skipped).
    model: Model | None = field(default=None, repr=False, compare=False)
    chain: tuple[str, ...] = field(default=(), repr=False, compare=False)
    _children: dict[str, Instance] | None = field(default=None, repr=False, compare=False)
    # children made one by one (`child`) before all of them were; `children` reuses them
    _some: dict[str, Instance | None] = field(default_factory=dict, repr=False, compare=False)
    _part_index: dict[str, list[int]] | None = field(default=None, repr=False, compare=False)  # name -> parts

    @property
    def children(self) -> dict[str, Instance]:
        if self._children is None:
            self._children = _make_children(self)
        return self._children

    def child(self, name: str) -> Instance | None:
        """`children.get(name)`, without making the other children (a system of 1,000 parts, of which a
        hazard's condition names one)."""
        if self._children is not None:
            return self._children.get(name)
        if name not in self._some:
            if self._part_index is None:
                self._part_index = {}
                for i, part in enumerate(self.component.parts):
                    self._part_index.setdefault(part.name, []).append(i)
            self._some[name] = _make_child(self, self._part_index.get(name, []))
        return self._some[name]

    def walk(self) -> Iterator[Instance]:
        yield self
        for name in sorted(self.children):
            yield from self.children[name].walk()


def part_type(model: Model, owner: el.Component, part: el.Part) -> el.Component | None:
    found = model.resolve(part.type_ref, ("component",), owner.package, "component type")
    if isinstance(found, Diagnostic):
        return None
    component: el.Component = model.components[found[1]]
    return component


def part_types(model: Model, comp: el.Component) -> tuple[el.Component | None, ...]:
    """The type of each of `comp`'s parts (None where it does not resolve), as part_type gives them, resolved
    once per component type and model: the instance trees, the containment check and the incremental
    validation's keys all need them (10,000 types: each resolution was done three times). Where the model
    holds the stored names of a component's part types (validation/incremental.py: resolved against the same
    name table), they are looked up instead of resolved."""
    q = comp.qualified_name
    found = model.part_type_memo.get(q)
    if found is not None and found[0] is comp:
        return found[1]
    names = model.stored_part_types.get(q) if model.components.get(q) is comp else None
    types: tuple[el.Component | None, ...] | None = None
    if names is not None and len(names) == len(comp.parts):
        types = tuple(model.components.get(n) if n is not None else None for n in names)
        if any(t is None and n is not None for t, n in zip(types, names, strict=True)):
            types = None
    if types is None:
        types = tuple(part_type(model, comp, part) for part in comp.parts)
    model.part_type_memo[q] = (comp, types)
    return types


def part_type_names(model: Model, qname: str) -> tuple[str | None, ...]:
    """The qualified names of the types of the parts of component `qname` (None: unresolved)."""
    comp = model.components[qname]
    if not comp.parts:
        return ()
    names = model.stored_part_types.get(qname)
    if names is not None and len(names) == len(comp.parts):
        return names
    return tuple(t.qualified_name if t is not None else None for t in part_types(model, comp))


def build_instances(model: Model, system: el.Component) -> Instance:
    """Instantiate `system`. Unresolvable part types and containment cycles are skipped (validation reports
    them). Each instance's children are made when first read."""
    return Instance(system.name, system, None, None, model, (system.qualified_name,))


def _make_children(inst: Instance) -> dict[str, Instance]:
    """The children of `inst`: for each part in order, an instance of its type, unless the type is
    unresolved, already on the way here (a containment cycle) or the name is taken by an earlier part."""
    children: dict[str, Instance] = {}
    chain = inst.chain
    model = inst.model
    if len(chain) > MAX_DEPTH or model is None:
        return children
    for part, ctype in zip(inst.component.parts, part_types(model, inst.component), strict=True):
        name = part.name
        if ctype is None or name in children:
            continue
        q = ctype.qualified_name
        if q in chain:
            continue
        made = inst._some.get(name)  # the same object as `child` gave
        children[name] = made if made is not None else Instance(f"{inst.path}.{name}", ctype, inst, part, model,
                                                                chain + (q,))
    return children


def _make_child(inst: Instance, indexes: list[int]) -> Instance | None:
    """The child `_make_children` makes of the parts at `indexes` (those of one name): the first that it keeps."""
    chain = inst.chain
    model = inst.model
    if not indexes or len(chain) > MAX_DEPTH or model is None:
        return None
    types = part_types(model, inst.component)
    for i in indexes:
        ctype = types[i]
        if ctype is None or (q := ctype.qualified_name) in chain:
            continue
        part = inst.component.parts[i]
        return Instance(f"{inst.path}.{part.name}", ctype, inst, part, model, chain + (q,))
    return None


def find_instance(root: Instance, dotted: str) -> tuple[Instance, list[str]]:
    """Follow part names from `root` as far as they go; return the instance reached and the remaining segments."""
    inst = root
    segments = dotted.split(".")
    i = 0
    while i < len(segments):
        child = inst.child(segments[i])
        if child is None:
            break
        inst = child
        i += 1
    return inst, segments[i:]

