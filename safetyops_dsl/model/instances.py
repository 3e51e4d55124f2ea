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
    children: dict[str, Instance] = field(default_factory=dict)

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


def build_instances(model: Model, system: el.Component) -> Instance:
    """Instantiate `system`. Unresolvable part types and containment cycles are skipped (validation reports them)."""
    root = Instance(system.name, system, None, None)
    stack: list[tuple[Instance, tuple[str, ...]]] = [(root, (system.qualified_name,))]
    while stack:
        inst, chain = stack.pop()
        if len(chain) > MAX_DEPTH:
            continue
        for part in inst.component.parts:
            ctype = part_type(model, inst.component, part)
            if ctype is None or ctype.qualified_name in chain or part.name in inst.children:
                continue
            child = Instance(f"{inst.path}.{part.name}", ctype, inst, part)
            inst.children[part.name] = child
            stack.append((child, chain + (ctype.qualified_name,)))
    return root


def find_instance(root: Instance, dotted: str) -> tuple[Instance, list[str]]:
    """Follow part names from `root` as far as they go; return the instance reached and the remaining segments."""
    inst = root
    segments = dotted.split(".")
    i = 0
    while i < len(segments) and segments[i] in inst.children:
        inst = inst.children[segments[i]]
        i += 1
    return inst, segments[i:]

