"""Validation against the standard each package declares (model/profiles): an unknown standard, an attribute the
standard does not use, a class off its scale, a safety function without a demand mode, a malformed risk matrix,
a LOPA out of range. Nothing a profile does not use is silently ignored."""

from __future__ import annotations

from collections.abc import Iterable

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.profiles import (
    PROFILES,
    Profile,
    arp4761a,
    dal,
    iec61508,
    owner_of_class,
    profile,
    users_of,
)
from safetyops_dsl.model.profiles import risk_graph as rg
from safetyops_dsl.model.profiles.classify import ffs_member_items, ffs_top_class, risk_graph_derivations
from safetyops_dsl.model.semantics import did_you_mean

_SEC = {"severity": ("S", 3), "exposure": ("E", 4), "controllability": ("C", 3)}


def _not_used(keyword: str, where: str, p: Profile, loc: Location, owner: str) -> Diagnostic:
    users = [u.name for u in users_of(keyword, where)]
    hint = (f"`{keyword}` belongs to {', '.join(users)}; remove it, or declare `standard {users[0]}` for this package"
            if users else f"remove `{keyword}`")
    return dg.make(dg.NOT_IN_STANDARD, f"{owner}: `{keyword}` is not used under {p.title} ({p.name})", loc, hint)


def _scale_hint(p: Profile, attribute: str, value: str, allowed: tuple[str, ...]) -> str:
    other = owner_of_class(attribute, value)
    if other is not None and other is not p:
        return (f"'{value}' is on the {other.title} scale; this package is analysed against {p.title}. "
                f"Use {', '.join(allowed)}, or declare `standard {other.name}`")
    close = did_you_mean(value, list(allowed))
    return close if close.startswith("did you") else f"{p.title} {attribute} classes: {', '.join(allowed)}"


def _check_class(p: Profile, attribute: str, cv: el.ClassValue | None, allowed: tuple[str, ...],
                 owner: str) -> Iterable[Diagnostic]:
    if cv is None or cv.text in allowed:
        return
    if p.name == "iso26262" and attribute in _SEC and owner_of_class(attribute, cv.text) is None:
        letter, maximum = _SEC[attribute]
        if cv.text[:1] == letter and cv.text[1:].isdigit():
            # an S/E/C class out of range: the ISO 26262 range error, as before profiles
            yield dg.make(dg.BAD_CLASS, f"{attribute} must be one of {', '.join(allowed)}, got '{cv.text}'",
                          cv.location)
            return
    yield dg.make(dg.CLASS_OF_OTHER_STANDARD,
                  f"{owner}: {attribute} '{cv.text}' is not on the {p.title} scale", cv.location,
                  _scale_hint(p, attribute, cv.text, allowed))


def _hazard(model: Model, hz: el.Hazard, p: Profile) -> Iterable[Diagnostic]:
    owner = f"hazard '{hz.name}'"
    for keyword, loc in hz.attribute_locations:
        if keyword not in p.hazard_attributes:
            yield _not_used(keyword, "hazard", p, loc, owner)
    scales = dict(p.scales)
    matrix = model.risk_matrix_by_package.get(hz.package)
    if p.name == "iso14971":
        if matrix is None:
            return  # reported once per package
        scales = {"severity": matrix.severities, "probability": matrix.probabilities}
        for attr, cv in (("severity", hz.residual_severity), ("probability", hz.residual_probability)):
            yield from _check_class(p, attr, cv, scales[attr], owner + " (residual)")
    for attr, cv in (("severity", hz.severity), ("exposure", hz.exposure), ("controllability", hz.controllability),
                     ("probability", hz.probability)):
        if attr in scales and attr in p.hazard_attributes:
            yield from _check_class(p, attr, cv, scales[attr], owner)
    needed = {"arp4761a": ("severity",), "iso14971": ("severity", "probability")}.get(p.name, ())
    missing = [a for a in needed if getattr(hz, a) is None]
    if missing:
        yield dg.make(dg.MISSING_PROFILE_CLASS,
                      f"{owner} has no {' and no '.join(missing)}, which {p.title} needs to classify it",
                      hz.location, "classify it: " + "; ".join(
                          f"{a} {' | '.join(scales[a]) or '<a level of the risk_matrix>'}" for a in missing))
    if hz.risk_graph is not None and p.name in ("iec61508", "iec61511"):
        yield from _hazard_graph(model, hz, owner)
    if hz.lopa is not None and p.name in ("iec61508", "iec61511"):
        lo = hz.lopa
        bad = [f"IPL PFD {x:g}" for x in lo.ipl_pfds if not 0.0 < x <= 1.0]
        if lo.demand.per_hour <= 0 or lo.tolerable.per_hour <= 0:
            bad.append("a frequency that is not positive")
        if bad:
            yield dg.make(dg.BAD_LOPA, f"{owner}: LOPA with {', '.join(bad)}", lo.location,
                          "an IPL's PFD is a probability in (0, 1]; demand and tolerable frequencies are positive")


def _hazard_graph(model: Model, hz: el.Hazard, owner: str) -> Iterable[Diagnostic]:
    given = hz.risk_graph
    assert given is not None
    graph = model.risk_graph_by_package.get(hz.package)
    if graph is None:
        yield dg.make(dg.BAD_RISK_GRAPH_CLASSES, f"{owner} has risk-graph classes but package '{hz.package}' defines "
                      "no risk_graph", given.location, "declare the calibrated graph: `risk_graph \"...\" { consequence "
                      "C1 \"...\", ... row X1: C1 -> - - a ... }` (docs/profiles/iec61508.md)")
        return
    problems = rg.class_problems(graph, given)
    if problems:
        names = ", ".join(f"{rg.LETTER[p]}: {' '.join(lv.name for lv in graph.of(p))}" for p in el.RISK_GRAPH_PARAMETERS)
        yield dg.make(dg.BAD_RISK_GRAPH_CLASSES, f"{owner}: risk graph classes {given}: {'; '.join(problems)}",
                      given.location, f"one level per parameter, in any order ({names})")
        return
    walk = rg.derive(graph, given)
    if walk is not None and walk.outcome == "b":
        yield dg.make(dg.RISK_GRAPH_BEYOND, f"{owner}: the risk graph gives 'b' ({walk.path}): a single E/E/PE "
                      "safety-related system is not sufficient", given.location,
                      "reduce the risk by other means (inherent design, other technology, more protection layers) "
                      "and re-classify, or review the calibration")


def _goal(model: Model, goal: el.SafetyGoal, p: Profile) -> Iterable[Diagnostic]:
    owner = f"{p.goal_word} '{goal.name}'"
    for keyword, loc in goal.attribute_locations:
        if keyword not in p.goal_attributes:
            yield _not_used(keyword, "goal", p, loc, owner)
    if p.name not in ("iec61508", "iec61511"):
        return
    where = dict(goal.attribute_locations)
    if goal.demand is None:
        yield dg.make(dg.NO_DEMAND_MODE, f"safety function '{goal.name}' has no demand mode, so its SIL has no target "
                      "band (PFDavg or PFH)", goal.location,
                      "add `demand low` (PFDavg), `demand high` or `demand continuous` (PFH) to the safety function")
    if goal.typed_sil is not None and not 1 <= goal.typed_sil <= 4:
        yield dg.make(dg.CLASS_OF_OTHER_STANDARD, f"{owner}: SIL {goal.typed_sil} is not a SIL", where["sil"],
                      "a SIL is 1, 2, 3 or 4")
        return
    walks = risk_graph_derivations(model, goal)
    if goal.typed_sil is not None and walks:
        derived = max(d.sil for _, d in walks)
        shown = "; ".join(f"{n}: {d.path}" for n, d in walks)
        word = {0: "no SIL", 5: "more than SIL 4"}.get(derived, f"SIL {derived}")
        if goal.typed_sil < derived:
            yield dg.make(dg.SIL_BELOW_DERIVED, f"{owner} states SIL {goal.typed_sil}, but its risk graph requires "
                          f"{word} ({shown})", where["sil"],
                          f"write `sil {derived}`, or remove `sil` and let the graph decide" if derived <= 4 else
                          "a single E/E/PE system is not sufficient: reduce the risk by other means first")
        elif goal.typed_sil > derived:
            yield dg.make(dg.SIL_ABOVE_DERIVED, f"{owner} states SIL {goal.typed_sil}, above the {word} its risk graph "
                          f"derives ({shown}); the stated SIL governs", where["sil"],
                          "remove `sil` to use the derived SIL, or keep it as a deliberate margin")


def _component(comp: el.Component, p: Profile) -> Iterable[Diagnostic]:
    written = comp.element_type is not None or comp.systematic_capability is not None
    if not written:
        return
    loc = comp.profile_locations[0]
    if not p.component_route_1h:
        yield _not_used("element_type" if comp.element_type is not None else "systematic_capability", "component",
                        p, loc, f"component '{comp.name}'")
        return
    if comp.element_type is not None and comp.element_type not in iec61508.ROUTE_1H:
        yield dg.make(dg.CLASS_OF_OTHER_STANDARD, f"component '{comp.name}': element type '{comp.element_type}' is "
                      "not A or B", loc, "IEC 61508-2 7.4.4.1: type A (failure modes well defined, field data) or B")
    if comp.systematic_capability is not None and not 1 <= comp.systematic_capability <= 4:
        yield dg.make(dg.CLASS_OF_OTHER_STANDARD, f"component '{comp.name}': systematic capability "
                      f"{comp.systematic_capability} is not SC 1..4", comp.profile_locations[-1],
                      "write `systematic_capability 1` .. `4`")


def _matrix(package: str, m: el.RiskMatrix, p: Profile) -> Iterable[Diagnostic]:
    if p.name != "iso14971":
        yield dg.make(dg.NOT_IN_STANDARD, f"package '{package}': a risk_matrix is not used under {p.title}",
                      m.location, "a risk matrix belongs to `standard iso14971`")
        return
    levels = [r[0] for r in m.rows]
    problems = []
    for name, scale in (("severity", m.severities), ("probability", m.probabilities)):
        dup = sorted({x for x in scale if scale.count(x) > 1})
        if dup:
            problems.append(f"{name} level {', '.join(dup)} listed twice")
    if sorted(levels) != sorted(m.probabilities):
        problems.append(f"rows {', '.join(levels)} do not match the probability levels "
                        f"{', '.join(m.probabilities)} one for one")
    for level, zones in m.rows:
        if len(zones) != len(m.severities):
            problems.append(f"row {level} has {len(zones)} zones for {len(m.severities)} severity levels")
    if problems:
        yield dg.make(dg.BAD_RISK_MATRIX, "risk matrix: " + "; ".join(problems), m.location,
                      "one row `Level: Z Z ...` per probability level, one zone (A, R or U) per severity level")


def _graph(package: str, g: el.RiskGraph, p: Profile) -> Iterable[Diagnostic]:
    if p.name not in ("iec61508", "iec61511"):
        yield dg.make(dg.NOT_IN_STANDARD, f"package '{package}': a risk_graph is not used under {p.title}",
                      g.location, "a risk graph belongs to `standard iec61508` or `standard iec61511`")
        return
    problems = rg.structure_problems(g)
    for message, loc in problems:
        yield dg.make(dg.BAD_RISK_GRAPH, f"risk graph: {message}", loc,
                      "levels: `consequence C1 \"meaning\", ...` (also frequency, avoidance, demand); rows: `row X2: "
                      "C2 F1 P1 -> - a 1` with one outcome (- a 1 2 3 4 b) per demand level")
    if problems:
        return
    for message in rg.coverage_problems(g):
        yield dg.make(dg.RISK_GRAPH_INCOMPLETE, f"risk graph: {message}", g.location,
                      "every combination of C, F and P levels must select exactly one row (a level left out of a "
                      "path stands for all of that parameter's levels)")


def _dal_table(package: str, t: el.DalReduction, p: Profile) -> Iterable[Diagnostic]:
    if p.name != "arp4761a":
        yield dg.make(dg.NOT_IN_STANDARD, f"package '{package}': a dal_reduction is not used under {p.title}",
                      t.location, "FDAL/IDAL reduction belongs to `standard arp4761a`")
        return
    seen: set[tuple[str, str]] = set()
    for o in t.options:
        problems = []
        if o.top not in arp4761a.CLASSES:
            problems.append(f"'{o.top}' is no failure condition class ({', '.join(arp4761a.CLASSES)})")
        if (o.top, o.name) in seen:
            problems.append(f"option {o.name} of {o.top} declared twice")
        seen.add((o.top, o.name))
        if o.count < 1:
            problems.append("at least one member must be at the option's level")
        if o.top in arp4761a.CLASSES and not dal.at_least(arp4761a.FDAL[o.top], o.level):
            problems.append(f"level {o.level} is above the top-level FDAL {arp4761a.FDAL[o.top]} of {o.top}")
        if not dal.at_least(o.level, o.others):
            problems.append(f"the others' floor {o.others} is above the option's level {o.level}")
        if problems:
            yield dg.make(dg.BAD_DAL_TABLE, f"dal_reduction {o.top} {o.name}: {'; '.join(problems)}", o.location,
                          "`Catastrophic option1: A x 1, others C`: class, name, level x members, floor of the others")


def _ffs(model: Model, f: el.Ffs, p: Profile) -> Iterable[Diagnostic]:
    owner = f"functional failure set '{f.name}'"
    if p.name != "arp4761a":
        yield dg.make(dg.NOT_IN_STANDARD, f"{owner} is not used under {p.title}", f.location,
                      "functional failure sets (FDAL/IDAL assignment) belong to `standard arp4761a`")
        return
    bad = False
    for ref in f.conditions:
        found = model.resolve(ref, ("hazard",), f.package, "failure condition")
        if isinstance(found, Diagnostic):
            yield found
            bad = True
    for claim in f.independence:
        for ref in claim.evidence:
            found = model.resolve(ref, ("evidence",), f.package, "evidence")
            if isinstance(found, Diagnostic):
                yield found
    if bad:
        return
    if not f.members:
        yield dg.make(dg.BAD_FFS, f"{owner} has no members", f.location,
                      "add `member <function> fdal X` or `member <part> idal X` lines")
        return
    names = [m.ref.text for m in f.members]
    for m in f.members:
        if names.count(m.ref.text) > 1 and m is not next(x for x in f.members if x.ref.text == m.ref.text):
            yield dg.make(dg.BAD_FFS, f"{owner}: member '{m.ref.text}' listed twice", m.location, "list a member once")
            bad = True
        got = ffs_member_items(model, f, m)
        if isinstance(got, str):
            yield dg.make(dg.BAD_FFS, f"{owner}: {got}", m.ref.location,
                          "`fdal` members are functions (a requirement or safety requirement), `idal` members items "
                          "(a part of the failure condition's system)")
            bad = True
    top_class = ffs_top_class(model, f)
    if bad or top_class is None:
        return
    table = model.dal_reduction_by_package.get(f.package)
    result = dal.assess(top_class, arp4761a.FDAL[top_class], f, table.options if table else ())
    for problem in result.problems:
        if not result.independent:
            yield dg.make(dg.DAL_BELOW_TOP, f"{owner}: {problem}", f.location,
                          f"raise them to {result.top_level}, or claim and justify both `independence functional` and "
                          "`independence item` between the members")
        else:
            yield dg.make(dg.DAL_NO_OPTION, f"{owner}: {problem}", f.location,
                          "raise a member, or declare the options of your licensed ARP4754A Table 3 in `dal_reduction`"
                          if table is None else "raise a member until one option holds")
def _flight_phases(model: Model) -> Iterable[Diagnostic]:
    """The ARP4761A operating profile: only under ARP4761A; where a package declares it, every phase a failure
    condition names has a duration (SOPS170) and their sum, the at-risk time, fits in the flight (SOPS171)."""
    for package, phases in sorted(model.flight_phases_by_package.items()):
        p = profile(model.standard(package))
        if p.name != "arp4761a":
            first = min(phases.values(), key=lambda ph: (ph.location.line, ph.location.col))
            yield dg.make(dg.NOT_IN_STANDARD, f"package '{package}': a flight_phase is not used under {p.title}",
                          first.location, "flight phases and their at-risk times belong to `standard arp4761a`")
    for _, hz in sorted(model.hazards.items()):
        declared = model.flight_phases_by_package.get(hz.package)
        if not declared or not hz.phases or model.standard(hz.package) != "arp4761a":
            continue
        loc = dict(hz.attribute_locations).get("phase", hz.location)
        missing = [ph for ph in hz.phases if ph not in declared]
        for ph in missing:
            yield dg.make(dg.UNKNOWN_FLIGHT_PHASE, f"failure condition '{hz.name}': flight phase '{ph}' has no "
                          f"`flight_phase` in package '{hz.package}'", loc,
                          did_you_mean(ph, sorted(declared)) or f"declare `flight_phase {ph} DURATION`; declared: "
                          f"{', '.join(sorted(declared))}")
        if missing:
            continue
        at_risk = sum(declared[ph].hours for ph in dict.fromkeys(hz.phases))
        flight = hz.mission_time_hours or model.mission_time(hz.package)
        if at_risk > flight * (1 + 1e-12):
            yield dg.make(dg.AT_RISK_BEYOND_FLIGHT, f"failure condition '{hz.name}': phases {', '.join(hz.phases)} "
                          f"last {at_risk:g} h, longer than the {flight:g} h flight", loc,
                          "the mission time is the average flight time; the phases' durations are parts of it")


def check_profiles(model: Model) -> Iterable[Diagnostic]:
    for _, decl in sorted(model.standard_by_package.items()):
        if decl.name not in PROFILES:
            yield dg.make(dg.UNKNOWN_STANDARD, f"unknown standard '{decl.name}'", decl.location,
                          did_you_mean(decl.name, sorted(PROFILES)) or f"available: {', '.join(sorted(PROFILES))}")
    for package, m in sorted(model.risk_matrix_by_package.items()):
        yield from _matrix(package, m, profile(model.standard(package)))
    packages = {hz.package for hz in model.hazards.values() if model.standard(hz.package) == "iso14971"}
    for package in sorted(packages - set(model.risk_matrix_by_package)):
        first = min((hz for hz in model.hazards.values() if hz.package == package), key=lambda h: h.qualified_name)
        yield dg.make(dg.BAD_RISK_MATRIX, f"package '{package}' is analysed against ISO 14971 but defines no "
                      "risk_matrix", first.location, "define `risk_matrix { severity ... probability ... "
                      "Level: A R U ... }`: ISO 14971 leaves the scales and the acceptability to the manufacturer")
    for package, g in sorted(model.risk_graph_by_package.items()):
        yield from _graph(package, g, profile(model.standard(package)))
    for package, t in sorted(model.dal_reduction_by_package.items()):
        yield from _dal_table(package, t, profile(model.standard(package)))
    for _, f in sorted(model.ffs.items()):
        yield from _ffs(model, f, profile(model.standard(f.package)))
    assigned: dict[str, tuple[str, el.FfsMember]] = {}
    for _, fs in sorted(model.ffs.items()):
        for mem in fs.members:
            seen = assigned.setdefault(f"{fs.package}.{mem.ref.text}", (fs.name, mem))
            if seen[1].level != mem.level:
                yield dg.make(dg.DAL_TWO_LEVELS, f"'{mem.ref.text}' is {mem.kind.upper()} {mem.level} in '{fs.name}' "
                              f"but {seen[1].kind.upper()} {seen[1].level} in '{seen[0]}'", mem.location,
                              "a function or item has one development assurance level: the most stringent any of its "
                              "sets needs")
    yield from _flight_phases(model)
    for _, hz in sorted(model.hazards.items()):
        yield from _hazard(model, hz, profile(model.standard(hz.package)))
    for _, goal in sorted(model.goals.items()):
        yield from _goal(model, goal, profile(model.standard(goal.package)))
    for _, req in sorted(model.requirements.items()):
        p = profile(model.standard(req.package))
        if req.asil is not None and not p.requirement_asil:
            yield _not_used("asil", "goal", p, req.asil.location, f"requirement '{req.name}'")
    for _, comp in sorted(model.components.items()) if model.uses("profile_classes") else ():
        yield from _component(comp, profile(model.standard(comp.package)))
