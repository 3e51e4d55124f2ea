"""The domain's semantics, below validation: reference resolution and the ISO 26262 rules every layer needs.

Validation reports what these functions find (a `Diagnostic` where a reference does not resolve); analyses,
the diff and the language server read the same answers. Nothing here reports on its own.
"""

from __future__ import annotations

import difflib
import math

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.fta import ccf
from safetyops_dsl.model import elements as el
from safetyops_dsl.model import iso26262
from safetyops_dsl.model.index import Model, unknown
from safetyops_dsl.model.instances import Instance, find_instance


def resolve_ccf_member(
    model: Model, comp: el.Component, ref: el.NameRef
) -> tuple[el.Component, el.FailureMode] | Diagnostic | None:
    """`part.sub.failure` inside `comp`: the owning component type and the failure mode (None: a part type that
    does not resolve, reported elsewhere)."""
    *parts, mode = ref.text.split(".")
    owner = comp
    for name in parts:
        part = owner.part(name)
        if part is None:
            return unknown(name, "part", [p.name for p in owner.parts], ref.location, owner.name)
        found = model.resolve(part.type_ref, ("component",), owner.package, "component type")
        if isinstance(found, Diagnostic):
            return None
        owner = model.components[found[1]]
    fm = owner.failure_mode(mode)
    if fm is None:
        return unknown(mode, "failure mode", [f.name for f in owner.failure_modes], ref.location, owner.name)
    return owner, fm


def ccf_group(group: el.CommonCauseGroup, members: list[str], probability: float) -> ccf.CcfGroup:
    """The engine's CcfGroup for a model group (members: the basic-event names)."""
    model = {"beta": ccf.CcfModel.BETA, "mgl": ccf.CcfModel.MGL, "alpha": ccf.CcfModel.ALPHA,
             "phi": ccf.CcfModel.PHI}[group.model]
    first = ccf.first_level(model, len(members))
    factors = {first + i: f for i, f in enumerate(group.factors)}
    return ccf.CcfGroup(group.name, model, tuple(members), probability, factors, group.description)


def did_you_mean(text: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(text, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"available: {', '.join(sorted(choices))}" if choices else ""


def hazard_system(model: Model, hazard: el.Hazard) -> el.Component | Diagnostic:
    systems = model.systems()
    if hazard.system is not None:
        found = model.resolve(hazard.system, ("component",), hazard.package, "system")
        if isinstance(found, Diagnostic):
            return found
        comp = model.components[found[1]]
        if comp.kind is not el.ComponentKind.SYSTEM:
            return dg.make(dg.WRONG_KIND, f"'{comp.name}' is a {comp.kind.value}, not a system", hazard.system.location)
        return comp
    local = [s for s in systems if s.package == hazard.package]
    if len(local) == 1:
        return local[0]
    if len(systems) == 1:
        return systems[0]
    if not systems:
        return dg.make(
            dg.NO_SYSTEM,
            f"hazard '{hazard.name}' has a condition but the model defines no system",
            hazard.location,
            "define `system NAME { parts ... }` whose outputs the condition names",
        )
    return dg.make(
        dg.NO_SYSTEM,
        f"hazard '{hazard.name}' must say which system it belongs to: the model defines "
        + ", ".join(s.name for s in systems),
        hazard.location,
        "add `system NAME` to the hazard",
    )


def hazard_mission_time(model: Model, hazard: el.Hazard, system: el.Component) -> float:
    """The mission time of a hazard's fault tree: the hazard's own, else its system's, else its package's."""
    if hazard.mission_time_hours is not None:
        return hazard.mission_time_hours
    if system.mission_time_hours is not None:
        return system.mission_time_hours
    return model.mission_time(hazard.package)


def at_risk_hours(model: Model, hazard: el.Hazard) -> float | None:
    """ARP4761A: the at-risk time of a failure condition on the average flight, the sum of the durations of the
    flight phases it applies to (the package's `flight_phase` declarations). None where the package is not
    under ARP4761A, the condition names no phase, or a phase has no declared duration (validation: SOPS170)."""
    if not hazard.phases or model.standard(hazard.package) != "arp4761a":
        return None
    profile = model.flight_phases_by_package.get(hazard.package, {})
    if any(p not in profile for p in hazard.phases):
        return None
    return math.fsum(profile[p].hours for p in dict.fromkeys(hazard.phases))


def resolve_condition_ref(
    model: Model, root: Instance, ref: el.Ref
) -> tuple[Instance, str, str] | Diagnostic:
    """A hazard condition reference -> (instance, output port, deviation)."""
    path = ref.path
    system = root.component
    if path.startswith(system.name + ".") and root.child(path.split(".", 1)[0]) is None:
        path = path.split(".", 1)[1]
    inst, rest = find_instance(root, path)
    if len(rest) < 2:
        return dg.make(
            dg.HAZARD_NOT_BOUNDARY,
            f"'{ref.path}' does not name a port deviation (expected [part.]port.deviation)",
            ref.location,
        )
    port_name, deviation = rest[0], ".".join(rest[1:])
    port = inst.component.port(port_name)
    if port is None:
        where = f"part '{inst.path}'" if inst.parent else f"system '{system.name}'"
        choices = [p.name for p in inst.component.ports] + sorted(inst.children)
        return dg.make(
            dg.HAZARD_NOT_BOUNDARY,
            f"{where} has no port or part '{port_name}'",
            ref.location,
            did_you_mean(port_name, choices),
        )
    if port.direction is not el.PortDirection.OUT:
        return dg.make(
            dg.HAZARD_NOT_BOUNDARY,
            f"'{ref.path}' is an input; a hazard condition names output deviations",
            ref.location,
        )
    if deviation not in model.all_deviations():
        d = check_deviation(model, deviation, ref.location)
        assert d is not None
        return d
    return inst, port_name, deviation


def derived_asil(hz: el.Hazard) -> str | None:
    classes = (hz.severity, hz.exposure, hz.controllability)
    if any(c is None or c.value < 0 for c in classes):
        return None
    assert hz.severity and hz.exposure and hz.controllability
    return iso26262.determine_asil(hz.severity.value, hz.exposure.value, hz.controllability.value)


def goal_asil(model: Model, goal: el.SafetyGoal) -> str | None:
    asils = []
    for ref in goal.mitigates:
        found = model.resolve(ref, ("hazard",), goal.package, "hazard")
        if not isinstance(found, Diagnostic):
            a = derived_asil(model.hazards[found[1]])
            if a is not None:
                asils.append(a)
    if asils:
        return iso26262.max_asil(asils)
    return goal.typed_asil.level if goal.typed_asil is not None else None


def requirement_asil(model: Model, req: el.Requirement) -> str | None:
    return req.asil.level if req.asil is not None else None


def asil_of_parent(model: Model, kind: str, qname: str) -> str | None:
    if kind == "safety_goal":
        return goal_asil(model, model.goals[qname])
    return requirement_asil(model, model.requirements[qname])


def resolve_allocation(model: Model, req: el.Requirement, ref: el.NameRef) -> str | Diagnostic:
    """An allocation target: a component type (`Radar`) or a part path (`AEB.radar_l`, or `radar_l` in the
    only system). Returns a stable key: the component's qualified name or the instance path."""
    text = ref.text
    found = model.lookup(text, ("component",), req.package)
    if found is not None:
        return found[1]
    for system in model.systems():
        root = model.instances(system)
        path = text.split(".", 1)[1] if text.startswith(system.name + ".") else text
        inst, rest = find_instance(root, path)
        if not rest and inst is not root:
            return inst.path
    parts = sorted({p.name for s in model.systems() for p in s.parts})
    return unknown(text, "allocation target (component or part)", model.names_of(("component",)) + parts,
                   ref.location)


def check_deviation(model: Model, name: str, loc: Location) -> Diagnostic | None:
    if name in el.BASE_DEVIATIONS or name in model.deviations:  # model.all_deviations(), without a new set
        return None
    if not name:
        return dg.make(dg.UNKNOWN_DEVIATION, "missing deviation after the port name", loc, "write port.deviation")
    return dg.make(
        dg.UNKNOWN_DEVIATION,
        f"unknown deviation type '{name}'",
        loc,
        did_you_mean(name, sorted(model.all_deviations())) or "declare it with `deviation NAME refines BASE`",
    )


def resolve_mechanism(model: Model, text: str, package: str) -> tuple[str, str] | None:
    """`Component.Mechanism` (a safety mechanism or ML monitor of a component type) -> (component qualified
    name, mechanism name), or None where it names no mechanism. Evidence can support a mechanism: a test
    of a runtime monitor, a fault-injection campaign measuring a diagnostic coverage."""
    owner, dot, name = text.rpartition(".")
    if not dot:
        return None
    found = model.lookup(owner, ("component",), package)
    if found is None:
        return None
    comp = model.components[found[1]]
    return (comp.qualified_name, name) if any(m.name == name for m in comp.mechanisms) else None


def odd_scopes(model: Model) -> dict[str, el.Odd]:
    """Component qualified name -> the structured ODD its slices and triggers are read against: its own `odd`
    with attributes, else that of the nearest enclosing instance that has one (first system by name wins
    where a type is used in several)."""
    scopes: dict[str, el.Odd] = {}
    for comp in model.components.values():
        if comp.odd is not None and comp.odd.attributes:
            scopes[comp.qualified_name] = comp.odd
    if not scopes:  # no structured ODD anywhere: nothing to inherit, so no instance tree need be walked
        return scopes
    for system in model.systems():
        stack: list[tuple[Instance, el.Odd | None]] = [(model.instances(system), None)]
        while stack:
            inst, inherited = stack.pop()
            own = inst.component.odd if inst.component.odd is not None and inst.component.odd.attributes else None
            here = own or inherited
            if here is not None:
                scopes.setdefault(inst.component.qualified_name, here)
            stack.extend((child, here) for _, child in sorted(inst.children.items(), reverse=True))
    return scopes


def odd_cells(odd: el.Odd) -> list[tuple[tuple[str, str], ...]]:
    """Every cell of the ODD: one in-ODD value of each enumerated attribute (ranges are not split into cells),
    in declaration order of the attributes and of their values."""
    cells: list[tuple[tuple[str, str], ...]] = [()]
    for attr in odd.attributes:
        if attr.is_range:
            continue
        cells = [cell + ((attr.name, v),) for cell in cells for v in attr.values]
    return cells if any(not a.is_range for a in odd.attributes) else []


def check_conditions(odd: el.Odd | None, conditions: tuple[el.SliceCondition, ...], what: str,
                     owner: str) -> list[Diagnostic]:
    """A slice or triggering condition against the ODD in scope: known attribute, value in its domain
    (SOPS122/123/125); a value in the domain but outside the ODD is a warning for metric slices (SOPS124)."""
    out: list[Diagnostic] = []
    for c in conditions:
        if odd is None:
            out.append(dg.make(dg.ODD_NO_ATTRIBUTES,
                               f"{what} of '{owner}' names ODD attribute '{c.attribute}', but no structured ODD "
                               "is in scope", c.location,
                               "declare the attributes on the system or the component: "
                               "`odd { light day, night of day, dusk, night }`"))
            continue
        attr = odd.attribute(c.attribute)
        if attr is None:
            out.append(dg.make(dg.ODD_UNKNOWN_ATTRIBUTE,
                               f"{what} of '{owner}' names unknown ODD attribute '{c.attribute}'", c.location,
                               did_you_mean(c.attribute, [a.name for a in odd.attributes])))
        elif attr.is_range:
            out.append(dg.make(dg.ODD_UNKNOWN_VALUE,
                               f"ODD attribute '{c.attribute}' is a range ({attr.text()}): a {what} can only fix an "
                               "enumerated attribute", c.location,
                               "slice by an enumerated attribute, e.g. a speed band `speed_band low, high of ...`"))
        elif c.value not in attr.domain:
            out.append(dg.make(dg.ODD_UNKNOWN_VALUE,
                               f"{what} of '{owner}': '{c.value}' is not a value of ODD attribute '{c.attribute}'",
                               c.location, did_you_mean(c.value, list(attr.domain))))
        elif c.value not in attr.values and what == "metric slice":
            out.append(dg.make(dg.ODD_SLICE_OUTSIDE,
                               f"metric slice of '{owner}': {c} lies outside the ODD "
                               f"({c.attribute} is {', '.join(attr.values)})", c.location,
                               "a threshold outside the ODD argues nothing about the ODD; extend the ODD or drop "
                               "the slice"))
    return out


def odd_text(odd: el.Odd) -> str:
    """The ODD in one line: its sentence, then its attributes (`light: day, night`)."""
    attrs = "; ".join(f"{a.name}: {a.text()}" for a in odd.attributes)
    return "; ".join(t for t in (odd.text, attrs) if t)
