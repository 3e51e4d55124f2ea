"""The model's references, resolved once: hazard <-> goals, goal/requirement <-> refining requirements,
requirement -> allocation targets, evidence -> what it verifies or supports, hazard -> its system.

Analyses read these maps instead of resolving `mitigates`, `refines`, `allocated_to` and `verifies` each on
its own (nine modules did). A reference that does not resolve is left out here; validation reports it.
Built on first use and kept on the Model (`links(model)`).
"""

from __future__ import annotations

from dataclasses import dataclass

from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.model.elements import NameRef
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.semantics import hazard_system, resolve_allocation, resolve_mechanism

Key = tuple[str, str]  # (kind, qualified name)


@dataclass(frozen=True)
class Links:
    hazards_of_goal: dict[str, tuple[str, ...]]  # goal -> hazards it mitigates, in the order written
    goals_of_hazard: dict[str, tuple[str, ...]]  # hazard -> goals mitigating it, by goal name
    parents_of_requirement: dict[str, tuple[Key, ...]]  # requirement -> the goals/requirements it refines
    children: dict[str, tuple[str, ...]]  # goal or requirement -> requirements refining it
    allocations: dict[str, tuple[str, ...]]  # requirement -> component qualified names or instance paths
    verifies: dict[str, tuple[Key, ...]]  # evidence -> requirements and goals it verifies
    supports: dict[str, tuple[Key, ...]]  # evidence -> elements it supports (and ("mechanism", "C.M"))
    system_of_hazard: dict[str, str]  # hazard -> qualified name of its system (where it resolves)


def _resolved(model: Model, refs: tuple[NameRef, ...], kinds: tuple[str, ...], package: str, what: str) -> tuple[Key, ...]:
    out: list[Key] = []
    for ref in refs:
        found = model.resolve(ref, kinds, package, what)
        if not isinstance(found, Diagnostic) and found not in out:
            out.append(found)
    return tuple(out)


def _mechanisms(model: Model, refs: tuple[NameRef, ...], package: str) -> tuple[Key, ...]:
    """Supported mechanisms and monitors (`Component.Mechanism`) as ("mechanism", "<component>.<name>")."""
    out: list[Key] = []
    for ref in refs:
        found = resolve_mechanism(model, ref.text, package)
        if found is not None:
            out.append(("mechanism", f"{found[0]}.{found[1]}"))
    return tuple(out)


def build_links(model: Model) -> Links:
    hazards_of_goal: dict[str, tuple[str, ...]] = {}
    goals_of_hazard: dict[str, list[str]] = {}
    for q, goal in sorted(model.goals.items()):
        hz = tuple(k[1] for k in _resolved(model, goal.mitigates, ("hazard",), goal.package, "hazard"))
        hazards_of_goal[q] = hz
        for h in hz:
            goals_of_hazard.setdefault(h, []).append(q)
    parents: dict[str, tuple[Key, ...]] = {}
    children: dict[str, list[str]] = {}
    allocations: dict[str, tuple[str, ...]] = {}
    for q, req in sorted(model.requirements.items()):
        parents[q] = _resolved(model, req.refines, ("safety_goal", "requirement"), req.package, "refined element")
        for _, p in parents[q]:
            children.setdefault(p, []).append(q)
        targets: list[str] = []
        for ref in req.allocated_to:
            t = resolve_allocation(model, req, ref)
            if not isinstance(t, Diagnostic) and t not in targets:
                targets.append(t)
        allocations[q] = tuple(targets)
    verifies = {q: _resolved(model, ev.verifies, ("requirement", "safety_goal"), ev.package, "verified element")
                for q, ev in sorted(model.evidence.items())}
    supports = {q: _resolved(model, ev.supports, ("hazard", "safety_goal", "requirement", "component"), ev.package,
                             "supported element") + _mechanisms(model, ev.supports, ev.package)
                for q, ev in sorted(model.evidence.items())}
    systems: dict[str, str] = {}
    for q, hazard in sorted(model.hazards.items()):
        s = hazard_system(model, hazard)
        if not isinstance(s, Diagnostic):
            systems[q] = s.qualified_name
    return Links(hazards_of_goal, {h: tuple(gs) for h, gs in goals_of_hazard.items()}, parents,
                 {p: tuple(cs) for p, cs in children.items()}, allocations, verifies, supports, systems)


def links(model: Model) -> Links:
    """The model's resolved references, built once per Model."""
    if model.links_cache is None:
        model.links_cache = build_links(model)
    found: Links = model.links_cache
    return found
