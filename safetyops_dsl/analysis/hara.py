"""HARA table (ISO 26262-3 clause 6): hazards with their situation, S/E/C classes, the ASIL derived from them
(Table 4, analysis/iso26262.py), the safety goals that mitigate them with safe state and FTTI; and the ASIL
decompositions of the requirements below the goals, checked against ISO 26262-9 clause 5.

A hazard mitigated by several goals lists every goal and safe state; its FTTI is the shortest among them
(the tightest fault-tolerant time interval is the one the design must meet).

Decomposition (ISO 26262-9, 5.4): the requirements that refine a goal or requirement with an ASIL written
`X(P)` decompose the parent's ASIL P. A decomposition holds when (1) every part names the parent's ASIL as
its base, (2) the parts' ASILs add up to at least P (Figure 2's schemes, a higher part always allowed), and
(3) the parts are allocated to different elements (independence). Validation reports violations as errors
(SOPS066-068); the table shows the verdict for each decomposition either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from safetyops_dsl.analysis.profile_report import ProfileReport
from safetyops_dsl.model import elements as el
from safetyops_dsl.model import iso26262
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.links import links
from safetyops_dsl.model.semantics import derived_asil, goal_asil


@dataclass(frozen=True)
class GoalRef:
    name: str
    title: str
    safe_state: str
    ftti_seconds: float | None


@dataclass(frozen=True)
class HaraRow:
    hazard: str
    title: str
    situation: str
    severity: str | None  # as written: "S3"
    exposure: str | None
    controllability: str | None
    asil: str | None  # derived from S, E, C (ISO 26262-3 Table 4); None where a class is missing
    typed_asil: str | None  # as written in the model, if any
    goals: tuple[GoalRef, ...]
    ftti_seconds: float | None  # the shortest FTTI of its goals
    source: str


@dataclass(frozen=True)
class GoalRow:
    goal: str
    title: str
    asil: str | None  # the highest ASIL of the hazards it mitigates
    hazards: tuple[str, ...]
    safe_state: str
    ftti_seconds: float | None
    target_per_hour: float | None


@dataclass(frozen=True)
class DecompositionPart:
    requirement: str
    asil: str  # as written: "B(D)"
    level: str
    base: str | None
    allocated_to: tuple[str, ...]  # resolved allocation keys


@dataclass(frozen=True)
class Decomposition:
    parent: str
    parent_asil: str
    parts: tuple[DecompositionPart, ...]
    base_ok: bool
    sum_ok: bool
    independent: bool
    scheme: str  # the ISO 26262-9 Figure 2 scheme matched, or how the parts cover the parent
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.base_ok and self.sum_ok and self.independent


@dataclass(frozen=True)
class HaraTable:
    hazards: tuple[HaraRow, ...]
    goals: tuple[GoalRow, ...]
    decompositions: tuple[Decomposition, ...]
    # the tables of the packages' standards (IEC 61508/61511, ARP4761A, ISO 14971); None: all ISO 26262
    profile: ProfileReport | None = None

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.decompositions)


def check_decomposition(parent: str, parent_asil: str, parts: Sequence[DecompositionPart]) -> Decomposition:
    """The verdict on one decomposition of `parent` (ASIL `parent_asil`) into `parts` (ISO 26262-9, 5.4.10)."""
    problems: list[str] = []
    base_ok = all(p.base == parent_asil for p in parts)
    if not base_ok:
        wrong = [f"{p.requirement} {p.asil}" for p in parts if p.base != parent_asil]
        problems.append(f"not decomposed from ASIL {parent_asil}: {', '.join(wrong)}")
    levels = [p.level for p in parts]
    sum_ok = len(parts) >= 2 and iso26262.decomposition_covers(parent_asil, levels)
    if len(parts) < 2:
        problems.append("a decomposition needs at least two requirements")
    elif not sum_ok:
        allowed = " or ".join(f"{a}({parent_asil}) + {b}({parent_asil})"
                              for a, b in iso26262.DECOMPOSITION_SCHEMES.get(parent_asil, ()))
        problems.append(f"{' + '.join(p.asil for p in parts)} does not reach ASIL {parent_asil}"
                        + (f"; ISO 26262-9 allows {allowed}" if allowed else ""))
    owner: dict[str, str] = {}
    independent = True
    for p in parts:
        for target in p.allocated_to:
            if target in owner and owner[target] != p.requirement:
                independent = False
                problems.append(f"{owner[target]} and {p.requirement} are both allocated to {target}")
            owner.setdefault(target, p.requirement)
    ranked = sorted(levels, key=lambda a: -iso26262.ASIL_RANK[a])
    schemes = iso26262.DECOMPOSITION_SCHEMES.get(parent_asil, ())
    if len(ranked) == 2 and tuple(ranked) in schemes:
        scheme = f"{ranked[0]}({parent_asil}) + {ranked[1]}({parent_asil})"
    elif sum_ok:
        scheme = " + ".join(f"{a}({parent_asil})" for a in ranked) + " (meets or exceeds a scheme)"
    else:
        scheme = "none"
    return Decomposition(parent, parent_asil, tuple(parts), base_ok, sum_ok, independent, scheme, tuple(problems))


def _hazard_row(model: Model, hz: el.Hazard, goals: Sequence[el.SafetyGoal]) -> HaraRow:

    refs = tuple(GoalRef(g.name, g.title, g.safe_state, g.ftti_seconds) for g in goals)
    fttis = [g.ftti_seconds for g in goals if g.ftti_seconds is not None]
    return HaraRow(
        hazard=hz.name,
        title=hz.title,
        situation=hz.situation,
        severity=hz.severity.text if hz.severity else None,
        exposure=hz.exposure.text if hz.exposure else None,
        controllability=hz.controllability.text if hz.controllability else None,
        asil=derived_asil(hz),
        typed_asil=str(hz.typed_asil) if hz.typed_asil is not None else None,
        goals=refs,
        ftti_seconds=min(fttis) if fttis else None,
        source=f"{model.rel_path(hz.location.file)}:{hz.location.line}",
    )


def _decompositions(model: Model) -> list[Decomposition]:

    linked = links(model)
    children: dict[str, list[el.Requirement]] = {}
    for q, req in sorted(model.requirements.items()):
        if req.asil is None or req.asil.decomposed_from is None:
            continue
        for _, parent in linked.parents_of_requirement[q]:
            children.setdefault(parent, []).append(req)
    out: list[Decomposition] = []
    for parent, reqs in sorted(children.items()):
        if parent in model.goals:
            parent_asil = goal_asil(model, model.goals[parent])
            name = model.goals[parent].name
        else:
            spec = model.requirements[parent].asil
            parent_asil = spec.level if spec is not None else None
            name = model.requirements[parent].name
        if parent_asil is None:
            continue
        parts = []
        for r in reqs:
            assert r.asil is not None
            targets = linked.allocations[r.qualified_name]
            parts.append(DecompositionPart(r.name, str(r.asil), r.asil.level, r.asil.decomposed_from,
                                           tuple(sorted(set(targets)))))
        out.append(check_decomposition(name, parent_asil, parts))
    return out


def build_hara(model: Model) -> HaraTable:
    """The HARA of `model`: hazards and goals ordered by qualified name."""

    linked = links(model)
    goals_of: dict[str, list[el.SafetyGoal]] = {}
    hazards_of_goal: dict[str, list[str]] = {}
    for q, goal in sorted(model.goals.items()):
        for hq in linked.hazards_of_goal[q]:
            goals_of.setdefault(hq, []).append(goal)
            hazards_of_goal.setdefault(q, []).append(model.hazards[hq].name)
    hazards = tuple(_hazard_row(model, hz, goals_of.get(q, [])) for q, hz in sorted(model.hazards.items()))
    goals = tuple(
        GoalRow(
            goal=g.name,
            title=g.title,
            asil=goal_asil(model, g),
            hazards=tuple(hazards_of_goal.get(q, [])),
            safe_state=g.safe_state,
            ftti_seconds=g.ftti_seconds,
            target_per_hour=g.target_per_hour,
        )
        for q, g in sorted(model.goals.items())
    )
    return HaraTable(hazards, goals, tuple(_decompositions(model)))
