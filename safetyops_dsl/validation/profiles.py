"""Validation against the standard each package declares (model/profiles): an unknown standard, an attribute the
standard does not use, a class off its scale, a safety function without a demand mode, a malformed risk matrix,
a LOPA out of range. Nothing a profile does not use is silently ignored."""

from __future__ import annotations

from collections.abc import Iterable

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.profiles import PROFILES, Profile, iec61508, owner_of_class, profile, users_of
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
    if hz.lopa is not None and p.name in ("iec61508", "iec61511"):
        lo = hz.lopa
        bad = [f"IPL PFD {x:g}" for x in lo.ipl_pfds if not 0.0 < x <= 1.0]
        if lo.demand.per_hour <= 0 or lo.tolerable.per_hour <= 0:
            bad.append("a frequency that is not positive")
        if bad:
            yield dg.make(dg.BAD_LOPA, f"{owner}: LOPA with {', '.join(bad)}", lo.location,
                          "an IPL's PFD is a probability in (0, 1]; demand and tolerable frequencies are positive")


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
    yield from _flight_phases(model)
    for _, hz in sorted(model.hazards.items()):
        yield from _hazard(model, hz, profile(model.standard(hz.package)))
    for _, goal in sorted(model.goals.items()):
        yield from _goal(model, goal, profile(model.standard(goal.package)))
    for _, req in sorted(model.requirements.items()):
        p = profile(model.standard(req.package))
        if req.asil is not None and not p.requirement_asil:
            yield _not_used("asil", "goal", p, req.asil.location, f"requirement '{req.name}'")
    for _, comp in sorted(model.components.items()):
        yield from _component(comp, profile(model.standard(comp.package)))
