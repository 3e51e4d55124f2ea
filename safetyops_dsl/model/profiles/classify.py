"""A hazard's classification and a safety goal's integrity level under its package's standard, in one place for
every reader (the profile tables, the GSN context nodes): ASIL under ISO 26262, the SIL a LOPA requires under
IEC 61508/61511, the FDAL of the class under ARP4761A, the risk zone under ISO 14971."""

from __future__ import annotations

from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import DEFAULT_STANDARD, Model
from safetyops_dsl.model.instances import find_instance
from safetyops_dsl.model.links import links
from safetyops_dsl.model.profiles import arp4761a, iec61508, risk_graph
from safetyops_dsl.model.semantics import goal_asil, hazard_system


def lopa_target(hz: el.Hazard) -> float | None:
    """The PFD a hazard's LOPA asks of the safety function (None without a LOPA)."""
    lo = hz.lopa
    if lo is None or lo.demand.per_hour <= 0 or lo.tolerable.per_hour <= 0 or not all(0 < x <= 1 for x in lo.ipl_pfds):
        return None
    return iec61508.lopa_required_pfd(lo.demand.per_hour, lo.ipl_pfds, lo.tolerable.per_hour)


def required_sil(model: Model, goal: el.SafetyGoal) -> tuple[int | None, str, float | None]:
    """(SIL, where it comes from, the LOPA's numeric PFD target). Several scenarios of one consequence that share
    the function: the strictest target governs. Without a LOPA, the SIL allocated with `sil N`."""
    hazards = [model.hazards[h] for h in links(model).hazards_of_goal.get(goal.qualified_name, ())]
    targets = [(h.name, t) for h in hazards if (t := lopa_target(h)) is not None]
    graphs = risk_graph_derivations(model, goal)
    if targets or graphs:
        sources: list[str] = []
        sil = 0
        value = None
        if targets:
            value = min(t for _, t in targets)
            sil = iec61508.sil_of_value(value, "low")
            sources.append("LOPA " + ", ".join(n for n, _ in targets))
        if graphs:
            sil = max([sil] + [d.sil for _, d in graphs])
            sources.append("risk graph " + ", ".join(n for n, _ in graphs))
        # a stated SIL above the derived one governs (SOPS152 says so); below it is an error (SOPS151)
        if graphs and goal.typed_sil is not None and goal.typed_sil > sil:
            return goal.typed_sil, "allocated above " + "; ".join(sources), value
        return sil, "; ".join(sources), value
    if goal.typed_sil is not None:
        return goal.typed_sil, "allocated", None
    return None, "none", None


def hazard_summary(model: Model, hz: el.Hazard) -> str:
    """The classification as a reviewer reads it ("" where the hazard has none)."""
    std = model.standard(hz.package)
    if std == "arp4761a" and hz.severity is not None and hz.severity.text in arp4761a.CLASSES:
        cls = hz.severity.text
        objective = arp4761a.OBJECTIVE_PER_FH[cls]
        text = f"{arp4761a.display(cls)} \u2192 FDAL {arp4761a.FDAL[cls]}"
        return text + (f", at most {objective:.0e} per flight hour" if objective is not None else "")
    if std in ("iec61508", "iec61511"):
        parts = []
        target = lopa_target(hz)
        if target is not None:
            parts.append(f"LOPA: required PFD {target:.3g} \u2192 {_sil_word(iec61508.sil_of_value(target, 'low'))}")
        graph = model.risk_graph_by_package.get(hz.package)
        walk = risk_graph.derive(graph, hz.risk_graph) if graph is not None and hz.risk_graph is not None else None
        if walk is not None:
            parts.append(f"risk graph: {walk.path}")
        return "; ".join(parts)
    if std == "iso14971":
        matrix = model.risk_matrix_by_package.get(hz.package)
        if hz.severity is None or hz.probability is None:
            return ""
        sev, prob = hz.severity.text, hz.probability.text
        rsev = hz.residual_severity.text if hz.residual_severity else sev
        rprob = hz.residual_probability.text if hz.residual_probability else prob
        zone = matrix.zone(sev, prob) if matrix else None
        rzone = matrix.zone(rsev, rprob) if matrix else None
        return f"{sev} / {prob} (risk {zone or '?'}) \u2192 residual {rsev} / {rprob} (risk {rzone or '?'})"
    return ""


def _sil_word(sil: int) -> str:
    return {0: "no SIL", 5: "beyond SIL 4"}.get(sil, f"SIL {sil}")


def goal_level(model: Model, goal: el.SafetyGoal) -> str | None:
    """"ASIL D", "SIL 3", "FDAL A" (the most severe of its failure conditions), or None."""
    std = model.standard(goal.package)
    if std == DEFAULT_STANDARD:
        asil = goal_asil(model, goal)
        return f"ASIL {asil}" if asil else None
    if std in ("iec61508", "iec61511"):
        sil, _, _ = required_sil(model, goal)
        return _sil_word(sil) if sil is not None else None
    if std == "arp4761a":
        classes = [h.severity.text for q in links(model).hazards_of_goal.get(goal.qualified_name, ())
                   if (h := model.hazards[q]).severity is not None and h.severity.text in arp4761a.CLASSES]
        worst = arp4761a.most_severe(classes)
        return f"FDAL {arp4761a.FDAL[worst]}" if worst else None
    return None


def risk_graph_derivations(model: Model, goal: el.SafetyGoal) -> list[tuple[str, risk_graph.Derivation]]:
    """(hazard name, walk through its package's risk graph) for each hazard of the function that has classes."""
    out = []
    for q in links(model).hazards_of_goal.get(goal.qualified_name, ()):
        hz = model.hazards[q]
        graph = model.risk_graph_by_package.get(hz.package)
        if hz.risk_graph is None or graph is None:
            continue
        d = risk_graph.derive(graph, hz.risk_graph)
        if d is not None:
            out.append((hz.name, d))
    return out


def ffs_top_class(model: Model, ffs: el.Ffs) -> str | None:
    """The most severe ARP4761A class among the failure conditions an FFS is for."""
    classes = []
    for ref in ffs.conditions:
        q = model.lookup(ref.text, ("hazard",), ffs.package)
        hz = model.hazards.get(q[1]) if q else None
        if hz is not None and hz.severity is not None and hz.severity.text in arp4761a.CLASSES:
            classes.append(hz.severity.text)
    return arp4761a.most_severe(classes)


def ffs_member_items(model: Model, ffs: el.Ffs, member: el.FfsMember) -> tuple[str, tuple[str, ...]] | str:
    """What a member names: ("function", the part paths its requirement is allocated to) for `fdal` (a safety
    requirement or requirement), ("item", (part path,)) for `idal` (a part of the system of a failure condition
    the FFS is for, as `part` or `part.sub`); or the problem as text."""
    text = member.ref.text
    if member.kind == "fdal":
        found = model.lookup(text, ("requirement", "safety_goal"), ffs.package)
        if found is None:
            return f"'{text}' is no requirement or safety requirement (an `fdal` member is a function)"
        if found[0] == "requirement":
            return "function", tuple(sorted(r.text for r in model.requirements[found[1]].allocated_to))
        req = [model.requirements[r] for r in links(model).children.get(found[1], ()) if r in model.requirements]
        return "function", tuple(sorted({a.text for r in req for a in r.allocated_to}))
    for ref in ffs.conditions:
        q = model.lookup(ref.text, ("hazard",), ffs.package)
        if q is None:
            continue
        system = hazard_system(model, model.hazards[q[1]])
        if isinstance(system, el.Component):
            inst, rest = find_instance(model.instances(system), text)
            if not rest and inst is not model.instances(system):
                return "item", (text,)
    return f"'{text}' is no part of the system of {', '.join(r.text for r in ffs.conditions)} (an `idal` member is an item)"
