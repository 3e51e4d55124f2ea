"""The achieved side of a safety function: PFDavg and PFH per hazard, from the fault tree over the mission
(fta/demand.py), with the simplified IEC 61508-6 formulas beside them as a cross-check.

The exact figures come from the BDD of the whole tree. The cross-check splits the tree into voting groups
the way the standard's formulas see a safety function: the failure modes of one component type (e.g. the
three transmitters) form a group; its architecture MooN follows from the minimal cut sets (a group whose cut
sets have m of its n members is (n-m+1)oon), its beta from the model's CCF group over them (beta model;
0 without one). Where every minimal cut set lies inside one group, the function is the series of its
groups and the formulas' sum is printed as the simplified total.

Formulas (IEC 61508-6:2010, B.3.2.2 and B.3.3.2, dangerous undetected failures only, lambda = lambda_DU):
  tCE = T1/2 + MRT, tGE = T1/3 + MRT, tG2E = T1/4 + MRT
  1oo1  PFD = lambda tCE                                        PFH = lambda
  2oo2  PFD = 2 lambda tCE                                      PFH = 2 lambda
  1oo2  PFD = 2 ((1-b) lambda)^2 tCE tGE + b lambda tCE         PFH = 2 ((1-b) lambda)^2 tCE + b lambda
  2oo3  PFD = 6 ((1-b) lambda)^2 tCE tGE + b lambda tCE         PFH = 6 ((1-b) lambda)^2 tCE + b lambda
  1oo3  PFD = 6 ((1-b) lambda)^3 tCE tGE tG2E + b lambda tCE    PFH = 6 ((1-b) lambda)^3 tCE tGE + b lambda
T1 is the proof-test interval (the mission time for a failure nothing tests), MRT the repair time after a
test. A proof test that reveals only a share PTC of the failures enters as the usual substitution
t -> PTC t(T1) + (1 - PTC) t(mission time) in each tCE / tGE / tG2E (IEC 61508-6 gives it for 1oo1).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from safetyops_dsl.diagnostics import LIMIT_EXCEEDED, DiagnosticError, Location, make
from safetyops_dsl.fta import ccf
from safetyops_dsl.fta.bdd import BddTooLarge
from safetyops_dsl.fta.demand import DemandFigures, demand_figures
from safetyops_dsl.fta.engine import analyse as analyse_tree
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.fta.timing import Timing
from safetyops_dsl.fta.timing import has_demand as _has_demand
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind

if TYPE_CHECKING:  # only named in annotations: `sops fta x.xml` must not import the model (start-up)
    from safetyops_dsl.analysis.synthesis import SynthesisResult

MAX_CHECK_CUT_SETS = 1000  # beyond this many minimal cut sets no group split is attempted


@dataclass(frozen=True)
class GroupCheck:
    """One voting group: the simplified formulas and the exact time averages of the group alone."""

    group: str  # "Component.mode"
    architecture: str  # 1oo1, 1oo2, 2oo3, ...
    members: tuple[str, ...]
    lambda_du: float  # per hour, each member
    beta: float
    proof_test_interval_hours: float  # T1
    proof_test_coverage: float  # PTC
    mrt_hours: float
    pfd_formula: float | None  # None: no simplified formula for this architecture
    pfh_formula: float | None
    pfd_exact: float
    pfh_exact: float


@dataclass(frozen=True)
class DemandRow:
    hazard: str
    mission_time_hours: float
    pfd_avg: float
    pfd_avg_error_bound: float
    pfh: float
    pfh_error_bound: float
    pfd_at_mission_end: float  # what the fault tree reports as P(top)
    groups: tuple[GroupCheck, ...] = ()
    # The sum of the groups' formulas, where the function is a series of the groups (None otherwise)
    pfd_simplified: float | None = None
    pfh_simplified: float | None = None
    note: str = ""


def build_demand(syntheses: list[SynthesisResult], max_bdd_nodes: int = 1 << 24) -> list[DemandRow]:
    """One row per hazard whose fault tree has a proof-tested or repaired event (sorted by hazard name).
    Raises DiagnosticError where a tree's BDD exceeds `max_bdd_nodes`."""
    return [row for syn in sorted(syntheses, key=lambda s: s.hazard.name)
            if (row := demand_row(syn.tree, syn, max_bdd_nodes)) is not None]


def has_demand(tree: FaultTree) -> bool:
    """Something in the tree is proof-tested or repaired (else P(top) at the mission time is the figure)."""
    return _has_demand(tree.basic_events.values())


def demand_row(tree: FaultTree, syn: SynthesisResult | None, max_bdd_nodes: int = 1 << 24) -> DemandRow | None:
    """The row of one tree (None where nothing in it is tested or repaired); the simplified cross-check needs
    the model's synthesis (component types, CCF groups): an Open-PSA tree gets the exact figures only."""
    if not has_demand(tree):
        return None
    try:
        fig = demand_figures(tree, max_bdd_nodes)
    except BddTooLarge as exc:
        top = tree.gates.get(tree.top)
        origin = top.origin if top is not None else None
        loc = Location(origin.file, origin.line, origin.col) if origin is not None else Location(tree.name)
        raise DiagnosticError([make(
            LIMIT_EXCEEDED, f"the BDD of tree '{tree.name}' needs more than {exc.limit} nodes: no PFDavg",
            loc, "allow more nodes with --max-bdd-nodes, or split the tree",
        )]) from None
    if syn is None:
        return DemandRow(tree.name, fig.mission_time, fig.pfd_avg, fig.pfd_error_bound, fig.pfh,
                         fig.pfh_error_bound, fig.pfd_at_end,
                         note="no simplified cross-check for an Open-PSA tree (component types unknown)")
    return _row(syn, fig)


def _row(syn: SynthesisResult, fig: DemandFigures) -> DemandRow:
    base = DemandRow(syn.hazard.name, fig.mission_time, fig.pfd_avg, fig.pfd_error_bound, fig.pfh,
                     fig.pfh_error_bound, fig.pfd_at_end)
    structure = syn.structure
    result = analyse_tree(structure, AnalysisOptions(importance=False, cut_set_limit=MAX_CHECK_CUT_SETS))
    if result.cut_sets_truncated:
        return _with(base, note=f"more than {MAX_CHECK_CUT_SETS} minimal cut sets: no simplified cross-check")
    by_type: dict[str, list[str]] = {}
    for event in sorted(structure.basic_events):
        by_type.setdefault(syn.modes.get(event, event), []).append(event)
    group_of = {e: g for g, events in by_type.items() for e in events}
    series = True
    orders: dict[str, set[int]] = {}
    for cut in result.cut_sets:
        types = {group_of.get(e, e) for e in cut}
        if len(types) != 1:
            series = False
            continue
        orders.setdefault(types.pop(), set()).add(len(cut))
    checks = []
    for group in sorted(orders):
        members = tuple(e for e in by_type[group] if e in {x for c in result.cut_sets for x in c})
        sizes = orders[group]
        if len(sizes) != 1:
            series = False
            continue
        checks.append(_group_check(syn, group, members, sizes.pop(), fig.mission_time))
    total_pfd = total_pfh = None
    if series and checks and all(c.pfd_formula is not None for c in checks):
        total_pfd = sum(c.pfd_formula or 0.0 for c in checks)
        total_pfh = sum(c.pfh_formula or 0.0 for c in checks)
    note = "" if series else "not a series of voting groups (a minimal cut set spans several component types)"
    return _with(base, groups=tuple(checks), pfd_simplified=total_pfd, pfh_simplified=total_pfh, note=note)


def _with(row: DemandRow, **changes: Any) -> DemandRow:
    return dataclasses.replace(row, **changes)


def _group_check(syn: SynthesisResult, group: str, members: tuple[str, ...], m: int, mission: float) -> GroupCheck:
    n = len(members)
    events = [syn.structure.basic_events[e] for e in members]
    timing = events[0].timing or Timing("constant", value=events[0].probability)
    lam = timing.rate
    tested = timing.kind == "periodic-test"
    t1 = timing.interval if tested else mission
    ptc = timing.coverage if tested else 1.0
    mrt = 1.0 / timing.repair_rate if tested and timing.repair_rate > 0.0 else 0.0
    ccf_group = next((g for g in syn.ccf_groups if set(g.members) == set(members)), None)
    beta = (next(iter(ccf_group.factors.values())) if ccf_group is not None and ccf_group.model is ccf.CcfModel.BETA
            else 0.0)
    arch = f"{n - m + 1}oo{n}"
    pfd, pfh = _formulas(arch, lam, beta, t1, ptc, mrt, mission) if timing.kind != "constant" else (None, None)
    exact = demand_figures(_group_tree(syn, group, members, m, ccf_group))
    return GroupCheck(group, arch, members, lam, beta, t1, ptc, mrt, pfd, pfh, exact.pfd_avg, exact.pfh)


def _formulas(arch: str, lam: float, beta: float, t1: float, ptc: float, mrt: float,
              mission: float) -> tuple[float | None, float | None]:
    def t(fraction: float) -> float:
        return ptc * (t1 * fraction + mrt) + (1.0 - ptc) * (mission * fraction + mrt)

    t_ce, t_ge, t_g2e = t(1 / 2), t(1 / 3), t(1 / 4)
    ind = (1.0 - beta) * lam
    if arch == "1oo1":
        return lam * t_ce, lam
    if arch == "2oo2":
        return 2 * lam * t_ce, 2 * lam
    if arch == "1oo2":
        return 2 * ind**2 * t_ce * t_ge + beta * lam * t_ce, 2 * ind**2 * t_ce + beta * lam
    if arch == "2oo3":
        return 6 * ind**2 * t_ce * t_ge + beta * lam * t_ce, 6 * ind**2 * t_ce + beta * lam
    if arch == "1oo3":
        return 6 * ind**3 * t_ce * t_ge * t_g2e + beta * lam * t_ce, 6 * ind**3 * t_ce * t_ge + beta * lam
    return None, None


def _group_tree(syn: SynthesisResult, group: str, members: tuple[str, ...], m: int,
                ccf_group: ccf.CcfGroup | None) -> FaultTree:
    """The group's failure alone: m of its members (with their common causes)."""
    events: dict[str, BasicEvent] = {e: syn.structure.basic_events[e] for e in members}
    if len(members) == 1:
        gate = Gate(group, GateKind.NULL, members)
    elif m == len(members):
        gate = Gate(group, GateKind.AND, members)
    elif m == 1:
        gate = Gate(group, GateKind.OR, members)
    else:
        gate = Gate(group, GateKind.ATLEAST, members, m)
    tree = FaultTree(group, group, {group: gate}, events, mission_time=syn.tree.mission_time)
    return ccf.expand(tree, [ccf_group]) if ccf_group is not None else tree
