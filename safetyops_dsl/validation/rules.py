"""Validation rules over the assembled model. Each rule is a function returning diagnostics; none raises."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterable

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.fta import ccf
from safetyops_dsl.graphs import back_edge_cycles
from safetyops_dsl.model import elements as el
from safetyops_dsl.model import iso26262
from safetyops_dsl.model.index import DEFAULT_STANDARD, Model, unknown
from safetyops_dsl.model.instances import MAX_DEPTH, part_types
from safetyops_dsl.model.propagation import find_logic_cycles
from safetyops_dsl.model.semantics import (
    asil_of_parent,
    ccf_group,
    check_conditions,
    check_deviation,
    derived_asil,
    did_you_mean,
    goal_asil,
    hazard_mission_time,
    hazard_system,
    odd_scopes,
    requirement_asil,
    resolve_allocation,
    resolve_ccf_member,
    resolve_condition_ref,
    resolve_mechanism,
)
from safetyops_dsl.validation.forked import Forked
from safetyops_dsl.validation.policy import POLICY_RULES, waived_rules
from safetyops_dsl.validation.profiles import check_profiles

Rule = Callable[[Model], Iterable[Diagnostic]]


def _dup(kind: str, name: str, here: Location, first: Location) -> Diagnostic:
    return dg.make(dg.DUPLICATE, f"{kind} '{name}' is already defined at {first}", here)


# -- component structure -------------------------------------------------------------------------------------


def check_component_members(model: Model) -> Iterable[Diagnostic]:
    for _, comp in sorted(model.components.items()):
        yield from component_members(model, comp)


def component_members(model: Model, comp: el.Component) -> Iterable[Diagnostic]:
    seen: dict[str, Location] = {}
    named: list[tuple[str, str, Location]] = (
        [("port", p.name, p.location) for p in comp.ports]
        + [(f.kind if f.kind == "trigger" else "failure mode", f.name, f.location) for f in comp.failure_modes]
        + [(m.kind, m.name, m.location) for m in comp.mechanisms]
        + [("part", p.name, p.location) for p in comp.parts]
        + [("CCF group", c.name, c.location) for c in comp.common_causes]
    )
    for kind, name, loc in named:
        if name in seen:
            yield _dup(kind, name, loc, seen[name])
        else:
            seen[name] = loc
    failure_names = [f.name for f in comp.failure_modes]
    for mech in comp.mechanisms:
        for ref in mech.covers:
            if comp.failure_mode(ref.text) is None:
                yield unknown(ref.text, "failure mode", failure_names, ref.location, comp.name)
    for part in comp.parts:
        found = model.resolve(part.type_ref, ("component",), comp.package, "component type")
        if isinstance(found, Diagnostic):
            yield found
        elif model.components[found[1]].kind is el.ComponentKind.SYSTEM and comp.kind is not el.ComponentKind.SYSTEM:
            pass  # a system used as a part of a larger system is fine: systems of systems


def _residual(owner: el.Component, fm: el.FailureMode) -> tuple[float | None, float | None, float | None, str]:
    """What sets a failure mode's probability in a fault tree (see analysis/synthesis.py)."""
    kept = owner.residual_share(fm)
    rate = fm.rate_per_hour * kept if fm.rate_per_hour is not None else None
    prob = fm.probability * kept if fm.probability is not None else None
    # members sharing a cause must share how their probability evolves: exposure, proof tests, repair
    timing = fm.distribution, fm.exposure_missions, fm.proof_test and dataclasses.replace(
        fm.proof_test, location=Location("")), fm.mttr_hours
    return rate, prob, fm.exposure_hours, repr(timing)


def _same(a: tuple[float | None, float | None, float | None, str],
          b: tuple[float | None, float | None, float | None, str]) -> bool:
    def close(x: float | None, y: float | None) -> bool:
        return x == y or (x is not None and y is not None and math.isclose(x, y, rel_tol=1e-9, abs_tol=0.0))

    return all(close(x, y) for x, y in zip(a[:3], b[:3], strict=True)) and a[3] == b[3]


def check_common_causes(model: Model) -> Iterable[Diagnostic]:
    if not model.uses("common_causes"):
        return
    for _, comp in sorted(model.components.items()):
        owned: dict[str, str] = {}
        for group in comp.common_causes:
            members: list[tuple[el.NameRef, el.Component, el.FailureMode]] = []
            seen: set[str] = set()
            for ref in group.members:
                if ref.text in seen:
                    yield dg.make(dg.BAD_CCF, f"CCF group '{group.name}' lists '{ref.text}' twice", ref.location)
                    continue
                seen.add(ref.text)
                res = resolve_ccf_member(model, comp, ref)
                if isinstance(res, Diagnostic):
                    yield res
                    continue
                if res is None:
                    continue
                owner, fm = res
                if fm.kind == "trigger":
                    yield dg.make(dg.BAD_CCF, f"'{ref.text}' is a triggering condition, not a failure: it cannot be a "
                                  f"member of CCF group '{group.name}'", ref.location,
                                  "CCF groups quantify common causes of random failures")
                    continue
                if ref.text in owned:
                    yield dg.make(dg.BAD_CCF, f"'{ref.text}' is a member of CCF groups '{owned[ref.text]}' and "
                                  f"'{group.name}'", ref.location, "a failure mode belongs to one CCF group at most")
                    continue
                owned[ref.text] = group.name
                members.append((ref, owner, fm))
            if len(seen) < 2:
                if len(seen) == len(group.members):  # (a repeated member was reported above)
                    yield dg.make(dg.BAD_CCF, f"CCF group '{group.name}' needs at least two members",
                                  group.location, "a common cause makes several failure modes occur together")
                continue
            try:
                ccf.validate(ccf_group(group, sorted(seen), 0.5))
            except ccf.CcfError as e:
                yield dg.make(dg.BAD_CCF, str(e), group.location, CCF_FACTOR_HINT[group.model])
            if len(members) >= 2:
                first_ref, first_owner, first_fm = members[0]
                base = _residual(first_owner, first_fm)
                for ref, owner, fm in members[1:]:
                    if not _same(base, _residual(owner, fm)):
                        yield dg.make(
                            dg.CCF_UNEQUAL_MEMBERS,
                            f"CCF group '{group.name}': '{ref.text}' ({fm.quantity_text}) and '{first_ref.text}' "
                            f"({first_fm.quantity_text}) fail with different probabilities",
                            ref.location,
                            "the CCF models split one failure probability among identical members: group the "
                            "same failure mode of identical parts (same rate, coverage, safe fraction and exposure)",
                        )


    # One failure mode of one instance in groups at two levels of the hierarchy (each group is fine on its own).
    reported: set[tuple[str, str]] = set()
    for system in model.systems():
        group_of: dict[str, tuple[str, str]] = {}  # member event -> (instance path, group name)
        for inst in model.instances(system).walk():
            for group in inst.component.common_causes:
                for m in group.members:
                    event = f"{inst.path}.{m.text}"
                    first = group_of.setdefault(event, (inst.path, group.name))
                    key = (f"{first[0]}.{first[1]}", f"{inst.path}.{group.name}")
                    if first[0] != inst.path and key not in reported:  # same instance: reported above
                        reported.add(key)
                        yield dg.make(dg.BAD_CCF, f"'{event}' is a member of CCF groups '{key[0]}' and '{key[1]}'",
                                      m.location, "a failure mode belongs to one CCF group at most")


CCF_FACTOR_HINT = {
    "beta": "beta takes one factor: the fraction of each member's failures that hit all members together",
    "mgl": "mgl takes rho_2, rho_3, ... (beta, gamma, ...) in order, each a fraction in 0..1",
    "alpha": "alpha takes alpha_1, alpha_2, ... in order (the fractions of failure events of each multiplicity)",
    "phi": "phi takes phi_1, phi_2, ... in order, summing to 1",
}


def check_hierarchy_cycles(model: Model) -> Iterable[Diagnostic]:
    graph: dict[str, list[tuple[str, el.Part]]] = {}
    for qname, comp in model.components.items():
        graph[qname] = [(t.qualified_name, part) for part, t in zip(comp.parts, part_types(model, comp), strict=True)
                        if t is not None]
    reported: set[frozenset[str]] = set()
    targets = {q: [t for t, _ in edges] for q, edges in graph.items()}
    for cycle, index in back_edge_cycles(targets, sorted(graph)):
        key = frozenset(cycle)
        if key in reported:
            continue
        reported.add(key)
        part = graph[cycle[-2]][index][1]
        yield dg.make(
            dg.HIERARCHY_CYCLE,
            "component contains itself: " + " -> ".join(c.rpartition(".")[2] for c in cycle),
            part.location,
            "a component cannot be a part of itself, directly or through its parts",
        )
    if not reported:
        yield from _hierarchy_depth(model, targets)


def _hierarchy_depth(model: Model, targets: dict[str, list[str]]) -> Iterable[Diagnostic]:
    """Instances are built MAX_DEPTH levels deep; a deeper hierarchy would silently lose its lower parts."""

    height: dict[str, int] = {}
    for start in sorted(targets):  # iterative post-order: the hierarchy may be thousands of levels deep
        stack = [start]
        while stack:
            node = stack[-1]
            todo = [t for t in targets.get(node, []) if t not in height]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            height[node] = 1 + max((height[t] for t in targets.get(node, [])), default=0)
    deepest = max(sorted(height), key=lambda q: height[q], default=None)
    if deepest is not None and height[deepest] > MAX_DEPTH:
        comp = model.components[deepest]
        yield dg.make(
            dg.LIMIT_EXCEEDED,
            f"'{comp.name}' nests parts {height[deepest]} levels deep; the limit is {MAX_DEPTH}",
            comp.location,
            "flatten intermediate composites (the limit is MAX_DEPTH in model/instances.py)",
        )


def _endpoint(
    model: Model, comp: el.Component, text: str, loc: Location, part_types: dict[str, el.Component | None]
) -> tuple[str, el.Port | None, Diagnostic | None]:
    """Resolve `part.port` or `port` inside `comp`: ('part'|'self', port, diagnostic). `part_types`: part
    name -> its resolved type, filled here (a part has a connection per port: resolve its type once)."""
    part_name, _, port_name = text.rpartition(".")
    if not part_name:
        port = comp.port(port_name)
        if port is None:
            return "self", None, unknown(port_name, "port", [p.name for p in comp.ports], loc, comp.name)
        return "self", port, None
    part = comp.part(part_name)
    if part is None:
        return "part", None, unknown(part_name, "part", [p.name for p in comp.parts], loc, comp.name)
    if part_name in part_types:
        ptype = part_types[part_name]
    else:
        found = model.resolve(part.type_ref, ("component",), comp.package, "component type")
        ptype = part_types[part_name] = None if isinstance(found, Diagnostic) else model.components[found[1]]
    if ptype is None:
        return "part", None, None  # reported by check_component_members
    port = ptype.port(port_name)
    if port is None:
        return "part", None, dg.make(
            dg.UNKNOWN_PORT,
            f"'{ptype.name}' (part '{part_name}') has no port '{port_name}'",
            loc,
            did_you_mean(port_name, [p.name for p in ptype.ports]),
        )
    return "part", port, None


def check_connections(model: Model) -> Iterable[Diagnostic]:
    for _, comp in sorted(model.components.items()):
        yield from component_connections(model, comp)


def component_connections(model: Model, comp: el.Component) -> Iterable[Diagnostic]:
    if not comp.parts and not comp.connections:
        return
    driven: dict[str, Location] = {}
    part_types: dict[str, el.Component | None] = {}
    for conn in comp.connections:
        s_loc = conn.source_location or conn.location
        t_loc = conn.target_location or conn.location
        s_kind, s_port, s_diag = _endpoint(model, comp, conn.source, s_loc, part_types)
        t_kind, t_port, t_diag = _endpoint(model, comp, conn.target, t_loc, part_types)
        for d in (s_diag, t_diag):
            if d is not None:
                yield d
        if s_port is not None:
            ok = (s_kind == "part") == (s_port.direction is el.PortDirection.OUT)
            if not ok:
                yield dg.make(
                    dg.CONNECTION_DIRECTION,
                    f"'{conn.source}' is an {s_port.direction.value}put "
                    + ("of a part" if s_kind == "part" else f"of '{comp.name}'")
                    + " and cannot be the source of a connection",
                    s_loc,
                    "a connection goes from a part's output (or the enclosing component's input) "
                    "to a part's input (or the enclosing component's output)",
                )
        if t_port is not None:
            ok = (t_kind == "part") == (t_port.direction is el.PortDirection.IN)
            if not ok:
                yield dg.make(
                    dg.CONNECTION_DIRECTION,
                    f"'{conn.target}' is an {t_port.direction.value}put "
                    + ("of a part" if t_kind == "part" else f"of '{comp.name}'")
                    + " and cannot be the target of a connection",
                    t_loc,
                    "a connection goes from a part's output (or the enclosing component's input) "
                    "to a part's input (or the enclosing component's output)",
                )
            elif conn.target in driven:
                yield dg.make(
                    dg.MULTIPLE_DRIVERS,
                    f"'{conn.target}' is already driven by the connection at {driven[conn.target]}",
                    t_loc,
                    "merge the sources in a component whose failure logic says how they combine",
                )
            else:
                driven[conn.target] = conn.location
    # inputs of parts that nothing drives, outputs of the composite that nothing drives
    for part in comp.parts:
        found = model.resolve(part.type_ref, ("component",), comp.package, "component type")
        if isinstance(found, Diagnostic):
            continue
        ptype = model.components[found[1]]
        for port in ptype.ports:
            if port.direction is el.PortDirection.IN and f"{part.name}.{port.name}" not in driven:
                yield dg.make(
                    dg.UNCONNECTED_INPUT,
                    f"input '{port.name}' of part '{part.name}' is not connected: its deviations cannot occur",
                    part.location,
                    f"add `connect <part>.<output> -> {part.name}.{port.name}`",
                )
    if comp.parts:
        ruled = {r.port for r in comp.rules} | {p.target for p in comp.propagates}
        for port in comp.ports:
            if port.direction is el.PortDirection.OUT and port.name not in driven and port.name not in ruled:
                yield dg.make(
                    dg.UNDRIVEN_OUTPUT,
                    f"output '{port.name}' of '{comp.name}' is driven by no part",
                    port.location,
                    f"add `connect <part>.<output> -> {port.name}`",
                )


# -- failure logic -------------------------------------------------------------------------------------------


def check_failure_logic(model: Model) -> Iterable[Diagnostic]:
    for _, comp in sorted(model.components.items()):
        yield from component_failure_logic(model, comp)


def component_failure_logic(model: Model, comp: el.Component) -> Iterable[Diagnostic]:
    rule_seen: dict[tuple[str, str], Location] = {}
    used_modes: set[str] = set()
    failure_names = [f.name for f in comp.failure_modes]
    for rule in comp.rules:
        port = comp.port(rule.port)
        if port is None:
            yield dg.make(
                dg.LOGIC_BAD_PORT,
                f"'{comp.name}' has no port '{rule.port}'",
                rule.location,
                did_you_mean(rule.port, [p.name for p in comp.ports if p.direction is el.PortDirection.OUT]),
            )
        elif port.direction is el.PortDirection.IN:
            yield dg.make(
                dg.LOGIC_ON_INPUT,
                f"'{rule.port}' is an input of '{comp.name}'; failure logic says when an output deviates",
                rule.location,
                "write the rule for an output port; inputs deviate when what drives them does",
            )
        d = check_deviation(model, rule.deviation, rule.location)
        if d is not None:
            yield d
        key = (rule.port, rule.deviation)
        if key in rule_seen:
            yield dg.make(
                dg.DUPLICATE_LOGIC,
                f"'{rule.port}.{rule.deviation}' already has failure logic at {rule_seen[key]}",
                rule.location,
                "combine both causes in one rule with `or`",
            )
        else:
            rule_seen[key] = rule.location
        for ref in el.expr_refs(rule.expr):
            yield from _check_logic_ref(model, comp, ref, failure_names, used_modes)
    for prop in comp.propagates:
        for name, want in ((prop.source, el.PortDirection.IN), (prop.target, el.PortDirection.OUT)):
            port = comp.port(name)
            if port is None:
                yield dg.make(
                    dg.LOGIC_BAD_PORT, f"'{comp.name}' has no port '{name}'", prop.location,
                    did_you_mean(name, [p.name for p in comp.ports]),
                )
            elif port.direction is not want:
                yield dg.make(
                    dg.LOGIC_BAD_PORT,
                    f"propagate goes from an input to an output; '{name}' is an {port.direction.value}put",
                    prop.location,
                )
        for dev in prop.deviations:
            d = check_deviation(model, dev, prop.location)
            if d is not None:
                yield d
    for fm in comp.failure_modes:
        if fm.name not in used_modes and not fm.reveals:
            yield dg.make(
                dg.UNREACHABLE_FAILURE,
                f"{'trigger' if fm.kind == 'trigger' else 'failure mode'} '{fm.name}' of '{comp.name}' "
                "is used by no failure logic, so it can lead to no hazard",
                fm.location,
                f"name it in a rule, e.g. `<output>.omission <- {fm.name}`",
            )
    if not comp.parts:
        ruled = {r.port for r in comp.rules} | {p.target for p in comp.propagates}
        for port in comp.ports:
            if port.direction is el.PortDirection.OUT and port.name not in ruled:
                yield dg.make(
                    dg.NO_FAILURE_LOGIC,
                    f"output '{port.name}' of '{comp.name}' has no failure logic: it can never deviate",
                    port.location,
                    f"add a rule such as `{port.name}.omission <- <failure mode>`",
                )


def _check_logic_ref(
    model: Model, comp: el.Component, ref: el.Ref, failure_names: list[str], used: set[str]
) -> Iterable[Diagnostic]:
    port_name, dot, deviation = ref.path.partition(".")
    if not dot:
        if comp.failure_mode(ref.path) is not None:
            used.add(ref.path)
            return
        inputs = [p.name for p in comp.ports if p.direction is el.PortDirection.IN]
        yield unknown(ref.path, "failure mode", failure_names + inputs, ref.location, comp.name)
        return
    port = comp.port(port_name)
    if port is None:
        yield dg.make(
            dg.LOGIC_BAD_PORT,
            f"failure logic names '{ref.path}', but '{comp.name}' has no port '{port_name}'",
            ref.location,
            did_you_mean(port_name, [p.name for p in comp.ports if p.direction is el.PortDirection.IN]),
        )
        return
    if port.direction is el.PortDirection.OUT:
        yield dg.make(
            dg.LOGIC_BAD_PORT,
            f"failure logic names '{ref.path}', an output of '{comp.name}'; name input deviations and failure modes",
            ref.location,
        )
        return
    d = check_deviation(model, deviation, ref.location)
    if d is not None:
        yield d


def check_deviations(model: Model) -> Iterable[Diagnostic]:
    for name, dev in sorted(model.deviations.items()):
        if dev.base is None:
            continue
        if dev.base not in model.all_deviations():
            yield dg.make(
                dg.UNKNOWN_DEVIATION,
                f"deviation '{name}' refines unknown deviation '{dev.base}'",
                dev.location,
                did_you_mean(dev.base, sorted(model.all_deviations())),
            )
            continue
        chain = [name]
        cur: str | None = dev.base
        while cur is not None and cur in model.deviations:
            if cur in chain:
                if cur == name:
                    via = " -> ".join(chain[1:]) or name
                    yield dg.make(
                        dg.DEVIATION_CYCLE,
                        f"deviation '{name}' refines itself through {', '.join(repr(c) for c in chain[1:]) or repr(name)}"
                        if chain[1:] else f"deviation '{name}' refines itself",
                        dev.location,
                        "a refinement chain must end at a base deviation (omission, commission, value, early, late)"
                        + ("" if via == name else f"; the chain is {name} -> {via} -> {name}"),
                    )
                break
            chain.append(cur)
            cur = model.deviations[cur].base


def check_logic_cycles(model: Model) -> Iterable[Diagnostic]:
    """Feedback loops in the failure logic: reported once each; synthesis cuts them the same way."""

    for system in model.systems():
        yield from system_logic_cycles(model, system)


def system_logic_cycles(model: Model, system: el.Component) -> Iterable[Diagnostic]:
    for cycle, location in find_logic_cycles(model, model.instances(system)):
        yield dg.make(
            dg.LOGIC_CYCLE,
            "failure logic loops through a feedback path: " + " -> ".join(cycle),
            location,
            "the fault trees cut the loop where it closes (a deviation already on the path adds nothing); "
            "check that this is what you mean",
        )


# -- ML ------------------------------------------------------------------------------------------------------------


def check_ml(model: Model) -> Iterable[Diagnostic]:
    for _, comp in sorted(model.components.items()):
        yield from component_ml(model, comp)


def component_ml(model: Model, comp: el.Component) -> Iterable[Diagnostic]:
    if comp.kind is not el.ComponentKind.ML_COMPONENT:
        return
    ml = comp.ml or el.MLInfo(None, None, (), ())
    if not ml.metrics:
        yield dg.make(
            dg.ML_NO_METRIC,
            f"ML component '{comp.name}' has no metric threshold, so nothing checks its performance",
            comp.location,
            "add e.g. `metric recall.night_pedestrian >= 0.99`",
        )
    if not any(d.role in ("verification", "test") for d in ml.datasets):
        yield dg.make(
            dg.ML_NO_VERIFICATION_DATA,
            f"ML component '{comp.name}' names no verification dataset",
            comp.location,
            'add `dataset verification "<name>" sha256 "<digest>"`',
        )
    if ml.model_identity is None:
        yield dg.make(
            dg.ML_NO_MODEL,
            f"ML component '{comp.name}' does not say which trained model it is",
            comp.location,
            'add `model "<name>" version "<version>"`',
        )


def check_odd(model: Model) -> Iterable[Diagnostic]:
    """ODD attributes against their domains, metric slices and trigger conditions against the ODD in scope."""
    for qname in sorted(model.components) if model.uses("odd") else ():
        comp = model.components[qname]
        if comp.odd is None:
            continue
        seen: dict[str, el.OddAttribute] = {}
        for attr in comp.odd.attributes:
            if attr.name in seen:
                yield dg.make(dg.ODD_DUPLICATE_ATTRIBUTE,
                              f"ODD attribute '{attr.name}' is already declared at {seen[attr.name].location}",
                              attr.location, "merge the two lines into one")
                continue
            seen[attr.name] = attr
            if attr.is_range:
                assert attr.low is not None and attr.high is not None
                assert attr.domain_low is not None and attr.domain_high is not None
                if not (attr.domain_low <= attr.low <= attr.high <= attr.domain_high):
                    yield dg.make(dg.ODD_VALUE_OUTSIDE_DOMAIN,
                                  f"ODD attribute '{attr.name}': {attr.text()} is not inside its domain "
                                  f"{attr.domain_low:g} .. {attr.domain_high:g} (or low > high)", attr.location,
                                  "the ODD is a part of the domain: low <= high, both within the domain")
                continue
            for value, loc in zip(attr.values, attr.value_locations or (attr.location,) * len(attr.values),
                                  strict=False):
                if value not in attr.domain:
                    yield dg.make(dg.ODD_VALUE_OUTSIDE_DOMAIN,
                                  f"ODD attribute '{attr.name}': '{value}' is not in its domain "
                                  f"({', '.join(attr.domain)})", loc,
                                  did_you_mean(value, list(attr.domain)) or "add it to the domain after `of`")
    if not (model.uses("metric_slices") or model.uses("trigger_conditions") or model.uses("reveals")):
        return
    scopes = odd_scopes(model)
    for qname in sorted(model.components):
        comp = model.components[qname]
        odd = scopes.get(qname)
        # (no conditions, nothing to check: skipped before the owner's name is formatted, for each failure mode)
        for m in comp.ml.metrics if comp.ml else ():
            if m.where:
                yield from check_conditions(odd, m.where, "metric slice", comp.name)
        for fm in comp.failure_modes:
            if fm.where:
                yield from check_conditions(odd, fm.where, "triggering condition", f"{comp.name}.{fm.name}")
            for name in fm.reveals:
                revealed = comp.failure_mode(name)
                if revealed is None or revealed.kind != "failure":
                    failures = [f.name for f in comp.failure_modes if f.kind == "failure"]
                    yield dg.make(dg.TRIGGER_REVEALS_UNKNOWN,
                                  f"trigger '{comp.name}.{fm.name}' reveals '{name}', which is not a failure mode of "
                                  f"'{comp.name}'", fm.location,
                                  did_you_mean(name, failures) or "a trigger reveals failures of its own component")


# -- hazards, goals, requirements ---------------------------------------------------------------------------------


def check_hazards(model: Model) -> Iterable[Diagnostic]:
    waived = waived_rules(model.policy)  # the model's own policy waives these findings (sops trace too)
    mitigated: dict[str, list[str]] = {}
    for _, goal in sorted(model.goals.items()):
        for ref in goal.mitigates:
            found = model.resolve(ref, ("hazard",), goal.package, "hazard")
            if not isinstance(found, Diagnostic):
                mitigated.setdefault(found[1], []).append(goal.name)
    for qname, hz in sorted(model.hazards.items()):
        derived = derived_asil(hz)
        if model.standard(hz.package) != DEFAULT_STANDARD:
            # classified on another standard's scales (validation/profiles.py checks them)
            if (qname not in mitigated and "hazard_goal" not in waived
                    and not (hz.severity is not None and hz.severity.text == "NoSafetyEffect")):
                yield dg.make(dg.HAZARD_NO_GOAL, f"hazard '{hz.name}' is mitigated by no safety goal", hz.location,
                              f'add `safety_goal SGx "..." mitigates {hz.name}`')
        elif hz.severity is None or hz.exposure is None or hz.controllability is None:
            missing = [n for n, v in (("severity", hz.severity), ("exposure", hz.exposure),
                                      ("controllability", hz.controllability)) if v is None]
            yield dg.make(
                dg.MISSING_CLASSIFICATION,
                f"hazard '{hz.name}' has no {' and no '.join(missing)}, so its ASIL cannot be derived",
                hz.location,
                "classify it: severity S0..S3, exposure E0..E4, controllability C0..C3",
            )
        elif hz.typed_asil is not None and derived is not None and hz.typed_asil.level != derived:
            yield dg.make(
                dg.ASIL_MISMATCH,
                f"hazard '{hz.name}' is typed ASIL {hz.typed_asil} but {hz.severity.text} "
                f"{hz.exposure.text} {hz.controllability.text} gives ASIL {derived}",
                hz.typed_asil.location,
                "the ASIL is derived from S, E and C (ISO 26262-3 Table 4); remove the typed ASIL or fix the classes",
            )
        if (model.standard(hz.package) == DEFAULT_STANDARD and qname not in mitigated and derived is not None
                and derived != "QM" and "hazard_goal" not in waived):
            yield dg.make(
                dg.HAZARD_NO_GOAL,
                f"hazard '{hz.name}' is mitigated by no safety goal",
                hz.location,
                f'add `safety_goal SGx "..." mitigates {hz.name}`',
            )
        if hz.condition is None:
            yield dg.make(
                dg.HAZARD_NO_CONDITION,
                f"hazard '{hz.name}' has no `when` condition, so no fault tree can be synthesised for it",
                hz.location,
                "add `when <part>.<output>.<deviation>`",
            )
            continue
        system = hazard_system(model, hz)
        if isinstance(system, Diagnostic):
            yield system
            continue
        root = model.instances(system)
        for cond_ref in el.expr_refs(hz.condition):
            res = resolve_condition_ref(model, root, cond_ref)
            if isinstance(res, Diagnostic):
                yield res


def check_goals(model: Model) -> Iterable[Diagnostic]:
    waived = waived_rules(model.policy)  # the model's own policy waives these findings (sops trace too)
    refined: set[str] = set()
    for _, req in sorted(model.requirements.items()):
        for ref in req.refines:
            found = model.resolve(ref, ("safety_goal", "requirement"), req.package, "refined element")
            if not isinstance(found, Diagnostic):
                refined.add(found[1])
    for qname, goal in sorted(model.goals.items()):
        for ref in goal.mitigates:
            found = model.resolve(ref, ("hazard",), goal.package, "hazard")
            if isinstance(found, Diagnostic):
                yield found
        if not goal.mitigates:
            yield dg.make(
                dg.GOAL_NO_HAZARD,
                f"safety goal '{goal.name}' mitigates no hazard",
                goal.location,
                f"add `mitigates <hazard>` after the title of {goal.name}",
            )
        inherited = goal_asil(model, goal) if goal.mitigates else None
        if goal.typed_asil is not None and inherited is not None and goal.typed_asil.level != inherited:
            yield dg.make(
                dg.GOAL_ASIL_MISMATCH,
                f"safety goal '{goal.name}' is typed ASIL {goal.typed_asil} but inherits ASIL {inherited} "
                "from the hazards it mitigates",
                goal.typed_asil.location,
                "a safety goal takes the highest ASIL of its hazards; remove the typed ASIL",
            )
        if qname not in refined and "goal_requirement" not in waived:
            yield dg.make(
                dg.GOAL_NO_REQUIREMENT,
                f"safety goal '{goal.name}' is refined by no requirement",
                goal.location,
                f'add `requirement FSRx "..." refines {goal.name}`',
            )


def check_requirements(model: Model) -> Iterable[Diagnostic]:
    waived = waived_rules(model.policy)  # the model's own policy waives these findings (sops trace too)
    children: dict[str, list[el.Requirement]] = {}
    parents_of: dict[str, list[str]] = {}
    for qname, req in sorted(model.requirements.items()):
        for ref in req.refines:
            found = model.resolve(ref, ("safety_goal", "requirement"), req.package, "refined element")
            if isinstance(found, Diagnostic):
                yield found
                continue
            kind, parent = found
            children.setdefault(parent, []).append(req)
            parents_of.setdefault(qname, []).append(parent)
            parent_asil = asil_of_parent(model, kind, parent)
            parent_name = parent.rpartition(".")[2]
            if req.asil is None and parent_asil not in (None, "QM"):
                yield dg.make(
                    dg.REQUIREMENT_ASIL_TOO_LOW,
                    f"'{req.name}' has no ASIL but refines '{parent_name}' (ASIL {parent_asil})",
                    req.location,
                    f"add `asil {parent_asil}`, or a decomposition such as `asil B({parent_asil})`",
                )
                continue
            if req.asil is None or parent_asil is None:
                continue
            if req.asil.decomposed_from is not None:
                if iso26262.ASIL_RANK[req.asil.level] > iso26262.ASIL_RANK[req.asil.decomposed_from]:
                    yield dg.make(
                        dg.DECOMPOSITION_BASE,
                        f"'{req.name}' is ASIL {req.asil}: a decomposed part cannot be above the ASIL it comes from",
                        req.asil.location,
                        f"write {req.asil.decomposed_from} without decomposition, or a lower level",
                    )
                elif req.asil.decomposed_from != parent_asil:
                    yield dg.make(
                        dg.DECOMPOSITION_BASE,
                        f"'{req.name}' is decomposed from ASIL {req.asil.decomposed_from}, "
                        f"but '{parent_name}' is ASIL {parent_asil}",
                        req.asil.location,
                        f"write {req.asil.level}({parent_asil})",
                    )
            elif iso26262.ASIL_RANK[req.asil.level] < iso26262.ASIL_RANK[parent_asil]:
                yield dg.make(
                    dg.REQUIREMENT_ASIL_TOO_LOW,
                    f"'{req.name}' is ASIL {req.asil} but refines '{parent_name}' (ASIL {parent_asil}) "
                    "without decomposition",
                    req.asil.location,
                    f"raise it to {parent_asil}, or decompose: e.g. {req.asil.level}({parent_asil}) "
                    "with an independent partner requirement",
                )
        if not req.allocated_to and "requirement_allocation" not in waived:
            yield dg.make(
                dg.REQUIREMENT_UNALLOCATED,
                f"requirement '{req.name}' is allocated to nothing",
                req.location,
                "add `allocated_to <component or part>`",
            )
        for ref in req.allocated_to:
            d = resolve_allocation(model, req, ref)
            if isinstance(d, Diagnostic):
                yield d
    # decomposition: the decomposed children of one parent must add up to it (ISO 26262-9, 5.4.10)
    for parent, reqs in sorted(children.items()):
        if parent in model.goals:
            parent_asil = goal_asil(model, model.goals[parent])
        else:
            parent_asil = requirement_asil(model, model.requirements[parent])
        if parent_asil is None:
            continue
        decomposed = [r for r in reqs if r.asil is not None and r.asil.decomposed_from == parent_asil]
        if not decomposed:
            continue
        levels = [r.asil.level for r in decomposed if r.asil is not None]
        if not iso26262.decomposition_covers(parent_asil, levels):
            first = decomposed[0]
            assert first.asil is not None
            schemes = " or ".join(f"{a}({parent_asil}) + {b}({parent_asil})"
                                  for a, b in iso26262.DECOMPOSITION_SCHEMES.get(parent_asil, ()))
            yield dg.make(
                dg.DECOMPOSITION_SUM,
                f"the decomposition of '{parent.rpartition('.')[2]}' (ASIL {parent_asil}) into "
                + " + ".join(f"{r.name} {r.asil}" for r in decomposed)
                + " does not reach ASIL " + parent_asil,
                first.asil.location,
                f"ISO 26262-9 allows {schemes}" if schemes else "",
            )
        if len(decomposed) >= 2:
            targets: dict[str, str] = {}
            for r in decomposed:
                for ref in r.allocated_to:
                    res = resolve_allocation(model, r, ref)
                    if isinstance(res, Diagnostic):
                        continue
                    if res in targets and targets[res] != r.name:
                        yield dg.make(
                            dg.DECOMPOSITION_INDEPENDENCE,
                            f"'{r.name}' and '{targets[res]}' decompose one ASIL but are both allocated to "
                            f"'{ref.text}': decomposition needs independent elements",
                            ref.location,
                            "allocate the decomposed requirements to independent elements",
                        )
                    targets.setdefault(res, r.name)
    # refinement cycles
    graph = {q: [p for p in parents_of.get(q, []) if p in model.requirements] for q in sorted(model.requirements)}
    for cycle, _ in back_edge_cycles(graph, sorted(graph)):
        yield dg.make(
            dg.REFINEMENT_CYCLE,
            "requirements refine each other in a cycle: " + " -> ".join(c.rpartition(".")[2] for c in cycle),
            model.requirements[cycle[-2]].location,
            "a requirement refines a safety goal or a higher-level requirement, never one below it",
        )


# -- evidence, arguments, policy -------------------------------------------------------------------------------


def check_evidence(model: Model) -> Iterable[Diagnostic]:
    metric_names = sorted({m.result_key for c in model.components.values() if c.ml for m in c.ml.metrics})
    for _, ev in sorted(model.evidence.items()):
        for ref in ev.verifies:
            found = model.resolve(ref, ("requirement", "safety_goal"), ev.package, "verified element")
            if isinstance(found, Diagnostic):
                yield found
        for ref in ev.supports:
            found = model.resolve(
                ref, ("hazard", "safety_goal", "requirement", "component"), ev.package, "supported element"
            )
            if isinstance(found, Diagnostic) and resolve_mechanism(model, ref.text, ev.package) is None:
                yield found
        if not ev.verifies and not ev.supports:
            yield dg.make(
                dg.EVIDENCE_NO_TARGET,
                f"evidence '{ev.name}' verifies nothing",
                ev.location,
                "add `verifies <requirement>` or `supports <hazard, goal>`",
            )
        if ev.kind == "metric" and ev.source not in metric_names:
            yield dg.make(
                dg.EVIDENCE_BAD_METRIC,
                f"metric evidence '{ev.name}' reads '{ev.source}', which no ML component sets a threshold for",
                ev.location,
                did_you_mean(ev.source, metric_names) or "add a `metric` line to the ML component",
            )


GSN_SUPPORTS = {
    "goal": {"goal", "strategy"},  # `goal X supports Y`: X is a child of goal or strategy Y
    "strategy": {"goal"},
    "solution": {"goal"},
    "away_goal": {"goal", "strategy"},
}
GSN_CONTEXTUAL = {"context", "assumption", "justification"}


def _a(kind: str) -> str:
    word = kind.replace("_", " ")
    return ("an " if word[0] in "aeiou" else "a ") + word


def check_arguments(model: Model) -> Iterable[Diagnostic]:
    for _, arg in sorted(model.arguments.items()):
        nodes: dict[str, el.GsnNode] = {}
        for node in arg.nodes:
            if node.name in nodes:
                yield _dup(f"GSN {node.kind}", node.name, node.location, nodes[node.name].location)
            else:
                nodes[node.name] = node
        edges: dict[str, list[str]] = {}
        for node in arg.nodes:
            for ref in node.supports:
                parent = nodes.get(ref.text)
                if parent is None:
                    yield unknown(ref.text, "GSN element", sorted(nodes), ref.location)
                    continue
                allowed = GSN_SUPPORTS.get(node.kind, set())
                if parent.kind not in allowed:
                    yield dg.make(
                        dg.GSN_BAD_RELATION,
                        f"{_a(node.kind)} cannot support {_a(parent.kind)} "
                        f"('{node.name}' supports '{parent.name}')",
                        ref.location,
                        "`supports` is written on the child: a goal supports a goal or strategy, a strategy or "
                        "solution supports a goal; context, assumption and justification attach with `for`",
                    )
                edges.setdefault(parent.name, []).append(node.name)
            for ref in node.context_for:
                target = nodes.get(ref.text)
                if target is None:
                    yield unknown(ref.text, "GSN element", sorted(nodes), ref.location)
                elif node.kind not in GSN_CONTEXTUAL or target.kind not in ("goal", "strategy", "away_goal"):
                    yield dg.make(
                        dg.GSN_BAD_RELATION,
                        f"in-context-of links a context, assumption or justification to a goal or strategy; "
                        f"'{node.name}' is {_a(node.kind)} and '{target.name}' {_a(target.kind)}",
                        ref.location,
                    )
            for ref in node.in_context_of:
                target = nodes.get(ref.text)
                if target is None:
                    yield unknown(ref.text, "GSN context", sorted(nodes), ref.location)
                elif target.kind not in GSN_CONTEXTUAL or node.kind not in ("goal", "strategy", "away_goal"):
                    yield dg.make(
                        dg.GSN_BAD_RELATION,
                        f"'{node.name}' ({node.kind}) cannot take '{target.name}' ({target.kind}) as context",
                        ref.location,
                    )
            for ref in node.evidence:
                if node.kind != "solution":
                    yield dg.make(dg.GSN_BAD_RELATION, f"only a solution cites evidence; '{node.name}' is {_a(node.kind)}",
                                  ref.location)
                found = model.resolve(ref, ("evidence",), arg.package, "evidence")
                if isinstance(found, Diagnostic):
                    yield found
            for ref in node.attach_to:
                found = model.resolve(
                    ref, ("hazard", "safety_goal", "requirement", "component"), arg.package, "element to attach to"
                )
                if isinstance(found, Diagnostic):
                    yield found
            for ref in node.refers:
                found = model.resolve(
                    ref, ("hazard", "safety_goal", "requirement", "component", "evidence"), arg.package,
                    "model element",
                )
                if isinstance(found, Diagnostic):
                    yield found
        # cycles in supported-by
        for cycle, _ in back_edge_cycles(edges, sorted(nodes)):
            yield dg.make(dg.GSN_CYCLE, "supported-by cycle: " + " -> ".join(cycle), nodes[cycle[-1]].location)


def check_policy(model: Model) -> Iterable[Diagnostic]:
    for rule in model.policy:
        if rule.rule not in POLICY_RULES:
            yield unknown(rule.rule, "policy rule", POLICY_RULES, rule.location)


def check_assumptions(model: Model) -> Iterable[Diagnostic]:
    """`assume port.deviation ...` names an input port of a system (where deviations enter from outside the
    model) and a known deviation, once."""
    if not model.uses("assumptions"):
        return
    for _, comp in sorted(model.components.items()):
        seen: set[tuple[str, str]] = set()
        for a in comp.assumptions:
            port = comp.port(a.port)
            target = f"{a.port}.{a.deviation}" if a.deviation else a.port
            if comp.kind is not el.ComponentKind.SYSTEM or port is None or port.direction is not el.PortDirection.IN:
                what = (f"'{a.port}' is not an input port of system '{comp.name}'" if comp.kind is el.ComponentKind.SYSTEM
                        else f"{comp.kind.value} '{comp.name}' is not a system")
                yield dg.make(dg.BAD_ASSUMPTION, f"'{target}' enters the model nowhere: {what}", a.location,
                              "assume what arrives at an `in` port of a `system`; inside the model, failure "
                              "modes say what happens")
                continue
            if (a.port, a.deviation) in seen:
                yield dg.make(dg.BAD_ASSUMPTION, f"'{target}' is assumed twice in '{comp.name}'", a.location)
            seen.add((a.port, a.deviation))
            if a.deviation:
                bad = check_deviation(model, a.deviation, a.location)
                if bad is not None:
                    yield bad


def _uncertainty_problem(u: el.Uncertainty, value: float, is_rate: bool) -> str:
    """Why the distribution cannot spread `value` ('' where it can)."""
    want = -1 if is_rate else 0
    unit = "a rate (per h)" if is_rate else "a pure number"
    if u.kind == "lognormal" and not u.a > 1.0:
        return f"a lognormal error factor must be above 1, got {u.a:g}"
    if u.kind == "lognormal" and not value > 0.0:
        return f"a lognormal needs a positive mean, got {value:g}"
    if u.kind == "gamma" and not (u.a > 0.0 and value > 0.0):
        return f"a gamma needs a positive shape and mean, got shape {u.a:g} and mean {value:g}"
    if u.kind == "beta" and is_rate:
        return "a beta distribution spreads a probability in [0, 1], not a rate"
    if u.kind == "beta" and not (u.a > 0.0 and 0.0 < value < 1.0):
        return f"a beta needs alpha > 0 and a mean strictly inside (0, 1), got alpha {u.a:g} and mean {value:g}"
    if u.kind in ("uniform", "normal") and (u.a_dim != want or (u.kind == "uniform" and u.b_dim != want)):
        return f"the bounds or spread must be {unit}, like the value"
    if u.kind == "normal" and not u.a > 0.0:
        return f"a normal needs a positive standard deviation, got {u.a:g}"
    if u.kind == "uniform" and not (0.0 <= u.a <= value <= u.b and u.a < u.b and (is_rate or u.b <= 1.0)):
        return (f"uniform bounds {u.a:g} to {u.b:g} must be ordered, enclose the value {value:g} and stay in "
                + ("[0, inf)" if is_rate else "[0, 1]"))
    return ""


def _histogram_problems(u: el.Uncertainty, value: float, is_rate: bool, what: str) -> Iterable[Diagnostic]:
    """A histogram's boundaries must increase (SOPS167), its weights be >= 0 with a positive sum (SOPS168), and
    its bins lie in the value's domain and unit and hold the written value (SOPS169); each at the bin."""
    hint = "`histogram from LOW to E1 weight W1, to E2 weight W2, ...`: boundaries increasing, weights >= 0"
    want = -1 if is_rate else 0
    unit = "a rate (per h)" if is_rate else "a pure number"
    domain = "[0, inf)" if is_rate else "[0, 1]"
    bins = list(zip(u.edges, u.weights, u.edge_dims, u.bin_locations, strict=True))
    if u.a_dim != want or any(d != want for _, _, d, _ in bins):
        yield dg.make(dg.HISTOGRAM_DOMAIN, f"uncertainty of {what}: the histogram's boundaries must be {unit}, like "
                      "the value", u.location, hint)
        return
    lower, ordered = u.a, True
    for i, (edge, weight, _, loc) in enumerate(bins, start=1):
        if not edge > lower:
            ordered = False
            yield dg.make(dg.HISTOGRAM_BOUNDARIES, f"uncertainty of {what}: bin {i} ends at {edge:g}, not above where "
                          f"it starts ({lower:g})", loc, hint)
        if weight < 0.0:
            yield dg.make(dg.HISTOGRAM_WEIGHTS, f"uncertainty of {what}: bin {i} has a negative weight {weight:g}",
                          loc, hint)
        lower = edge
    if all(w >= 0.0 for w in u.weights) and not sum(u.weights) > 0.0:
        yield dg.make(dg.HISTOGRAM_WEIGHTS, f"uncertainty of {what}: the histogram's weights sum to zero", u.location,
                      "give at least one bin a positive weight")
    top = u.edges[-1] if u.edges else u.a
    if not ordered:  # the range is not meaningful until the boundaries increase
        return
    if u.a < 0.0 or (not is_rate and top > 1.0):
        yield dg.make(dg.HISTOGRAM_DOMAIN, f"uncertainty of {what}: the histogram spans {u.a:g} to {top:g}, outside "
                      f"{domain}", u.location, f"a {'rate' if is_rate else 'probability'} lies in {domain}")
    elif not u.a <= value <= top:
        yield dg.make(dg.HISTOGRAM_DOMAIN, f"uncertainty of {what}: the histogram spans {u.a:g} to {top:g} and does "
                      f"not hold the written value {value:g}", u.location,
                      "the written value is the point value of every analysis: write one inside the histogram")


def check_uncertainties(model: Model) -> Iterable[Diagnostic]:
    """A distribution must be able to spread the value it is written on (impossible parameters: an error
    factor of 1 or less, a beta on a rate or outside [0, 1], bounds that do not enclose the value)."""
    hint = "see docs/reliability.md#uncertainty for what each distribution needs"
    for _, comp in sorted(model.components.items()) if model.uses("uncertainties") else ():
        for fm in comp.failure_modes:
            if fm.uncertainty is None:
                continue
            value = fm.rate_per_hour if fm.is_rate else fm.probability
            if value is not None and fm.uncertainty.kind == "histogram":
                yield from _histogram_problems(fm.uncertainty, value, fm.is_rate, f"'{comp.name}.{fm.name}'")
            elif value is not None:
                why = _uncertainty_problem(fm.uncertainty, value, fm.is_rate)
                if why:
                    yield dg.make(dg.BAD_DISTRIBUTION, f"uncertainty of '{comp.name}.{fm.name}': {why}",
                                  fm.uncertainty.location, hint)
    for qname, p in sorted(model.parameters.items()):
        found = model.parameter_values.get(qname)
        if p.uncertainty is None or found is None:
            continue
        if found[1] not in (-1, 0):
            yield dg.make(dg.BAD_DISTRIBUTION, f"uncertainty of parameter '{p.name}': only rates and pure numbers "
                          "can be uncertain", p.uncertainty.location, hint)
            continue
        if p.uncertainty.kind == "histogram":
            yield from _histogram_problems(p.uncertainty, found[0], found[1] == -1, f"parameter '{p.name}'")
            continue
        why = _uncertainty_problem(p.uncertainty, found[0], found[1] == -1)
        if why:
            yield dg.make(dg.BAD_DISTRIBUTION, f"uncertainty of parameter '{p.name}': {why}",
                          p.uncertainty.location, hint)


def check_proof_tests(model: Model) -> Iterable[Diagnostic]:
    """A proof test must fall inside the mission time of every hazard tree its failure mode is in: a test
    interval (or first test) beyond it means the failure is never revealed in the analysed mission."""
    seen: set[tuple[Location, float]] = set()
    if not model.uses("proof_tests"):
        return  # nothing to check: the instance trees of the hazards' systems need not be walked
    for _, hazard in sorted(model.hazards.items()):
        system = hazard_system(model, hazard)
        if isinstance(system, Diagnostic):
            continue
        mission = hazard_mission_time(model, hazard, system)
        for inst in model.instances(system).walk():
            for fm in inst.component.failure_modes:
                pt = fm.proof_test
                if pt is None or (pt.location, mission) in seen:
                    continue
                seen.add((pt.location, mission))
                worst = max(pt.interval_hours, pt.first_hours)
                if worst > mission:
                    what = "interval" if pt.interval_hours >= pt.first_hours else "first test"
                    yield dg.make(
                        dg.PROOF_TEST_BEYOND_MISSION,
                        f"the proof-test {what} of '{inst.component.name}.{fm.name}' ({worst:g} h) is longer than "
                        f"the mission time of hazard '{hazard.name}' ({mission:g} h)",
                        pt.location,
                        "a test after the mission never reveals the failure: shorten the interval, or give the "
                        "hazard the mission time the tests are planned for (`mission_time`)",
                    )


ALL_RULES: tuple[Rule, ...] = (
    check_component_members,
    check_hierarchy_cycles,
    check_common_causes,
    check_connections,
    check_deviations,
    check_failure_logic,
    check_logic_cycles,
    check_ml,
    check_odd,
    check_hazards,
    check_goals,
    check_proof_tests,
    check_assumptions,
    check_uncertainties,
    check_requirements,
    check_evidence,
    check_arguments,
    check_policy,
    check_profiles,
)


# A large model's rules run in two processes: these in a forked child (validation/forked.py: the model is
# shared, not sent), the others here, at the same time. The split is by whole rules, so each side makes one
# pass; at 10,000 component types these take 0.7 s of CPU, the others 0.55 s, and the parent also pays the
# copy-on-write faults (measured: parent 0.77 s, child 0.90 s, one process alone 1.20 s). Both sides build
# the part types and instance trees they need (0.08 s).
FORKED_RULES: tuple[Rule, ...] = (check_component_members, check_hierarchy_cycles, check_logic_cycles)
# Below this many component types the rules take less than the fork costs the two processes (page copies).
PARALLEL_MIN_COMPONENTS = 2_000


def validate(model: Model, workers: int | None = 1) -> list[Diagnostic]:
    """The diagnostics of every rule, in ALL_RULES order. `workers` (None: one per CPU): with more than one,
    a large model's rules run in two processes; the result is the same."""
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    child: Forked | None = None
    if n_workers > 1 and len(model.components) >= PARALLEL_MIN_COMPONENTS:
        # (where it cannot fork, Forked starts nothing and its result is None: the rules then run here)
        child = Forked(lambda: [list(rule(model)) for rule in FORKED_RULES])
    by_rule: dict[Rule, list[Diagnostic]] = {}
    try:
        for rule in ALL_RULES:
            if child is None or rule not in FORKED_RULES:
                by_rule[rule] = list(rule(model))
    except BaseException:
        if child is not None:
            child.cancel()
        raise
    if child is not None:
        forked = child.result()
        if isinstance(forked, list) and len(forked) == len(FORKED_RULES):
            by_rule.update(zip(FORKED_RULES, forked, strict=True))
        else:  # the child failed (or could not start): the rules run here
            by_rule.update((rule, list(rule(model))) for rule in FORKED_RULES)
    return [d for rule in ALL_RULES for d in by_rule[rule]]
