"""The tables of the standard profiles (model/profiles): what each package's standard requires of its hazards
and safety functions, beside what the analyses achieve.

- IEC 61508 / 61511, per safety function: demand mode, the required SIL (from the LOPA of its hazards and/or
  the package's calibrated risk graph, with the path taken, or allocated with `sil N`), the numeric target the LOPA asks for and the SIL's target band (PFDavg for low
  demand, PFH for high / continuous demand), and the architecture: per element (a leaf part whose failure modes
  appear in the function's fault tree) its type, safe failure fraction SFF = 1 - lambda_DU / lambda (from the
  failure modes' safe fractions and the diagnostic coverage of their mechanisms), its hardware fault tolerance
  HFT = (smallest minimal cut set holding one of its failures, common causes left out) - 1, and the SIL
  Route 1H allows (IEC 61508-2 Tables 2/3) or whether IEC 61511-1 Table 6's minimum HFT is met; systematic
  capability. The achieved PFDavg / PFH is read from the demand analysis where one is given (`achieved`);
  without it the cell says "not computed": a per-mission probability is not a PFDavg.
- ARP4761A, per failure condition: function, flight phases, class, the AC 25.1309 objective per flight hour,
  the top-level FDAL, the achieved average probability per flight hour (P over one flight of the mission time /
  the flight time) and the single failures (order-1 minimal cut sets, common causes included) that may not
  lead to a Catastrophic condition.
- ARP4754A/B, per member of a functional failure set: the set's top-level FDAL, the level assigned, the
  independence claimed, the reduction option of the model's `dal_reduction` the assignment satisfies, and the
  member's own worst effect (the most severe failure condition a minimal cut set of its own elements causes
  alone; from the engine's cut sets, so a tree whose cut sets were truncated may understate it).
- ISO 14971, per hazardous situation: severity and probability before and after the risk control measures and
  the zone of the model's matrix each falls in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from safetyops_dsl.analysis.synthesis import SynthesisResult
from safetyops_dsl.fta.engine import analyse as analyse_tree
from safetyops_dsl.fta.result import AnalysisOptions, FtaResult
from safetyops_dsl.fta.tree import FaultTree
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import DEFAULT_STANDARD, Model
from safetyops_dsl.model.instances import find_instance
from safetyops_dsl.model.links import links
from safetyops_dsl.model.profiles import arp4761a, dal, iec61508, profile
from safetyops_dsl.model.profiles.classify import (
    ffs_member_items,
    ffs_top_class,
    required_sil,
    risk_graph_derivations,
)
from safetyops_dsl.model.semantics import at_risk_hours, hazard_system

NOT_COMPUTED = "not computed"
# HFT needs every minimal cut set of the function's tree without common causes; past this many it is not
# computed (a diagnostic of the table, not a guess)
HFT_CUT_SET_LIMIT = 100_000


@dataclass(frozen=True)
class ElementRow:
    function: str
    element: str  # the part's instance path
    component: str
    element_type: str  # A | B | "B (assumed)"
    sff: float | None  # None: no failure rate
    hft: int | None
    route_1h_sil: int | None  # IEC 61508-2 Route 1H: the highest SIL the element may claim (0: not allowed)
    systematic_capability: int | None


@dataclass(frozen=True)
class SilRow:
    function: str
    title: str
    standard: str
    demand: str | None
    required_sil: int | None  # 0: no SIL needed; 5: beyond SIL 4
    sil_source: str  # "LOPA HZ1, HZ2" | "allocated" | "none"
    required_value: float | None  # the LOPA's PFD target (low demand)
    target_band: str
    sff: float | None  # the lowest of its elements
    hft: int | None  # the lowest of its elements
    architectural_sil: int | None  # the SIL the architecture allows (Route 1H, or IEC 61511 Table 6)
    systematic_capability: int | None  # the lowest of its elements
    achieved: float | None  # PFDavg (low) or PFH (high / continuous) from the demand analysis
    achieved_text: str
    verdict: str  # pass | fail | incomplete
    problems: tuple[str, ...]
    # the walk through the package's calibrated risk graph, per hazard ("HZ: C3 F1 P2 -> X4 -> W2: 2")
    risk_graph: tuple[str, ...] = ()


@dataclass(frozen=True)
class DalRow:
    """One member of an ARP4754A functional failure set and the development assurance level assigned to it."""

    ffs: str
    conditions: tuple[str, ...]  # the failure conditions the set is for
    top_class: str  # the most severe of their classes
    top_level: str  # its FDAL
    member: str
    kind: str  # FDAL (a function) | IDAL (an item)
    level: str  # as assigned in the model
    independence: tuple[str, ...]  # functional | item, as claimed for the set
    option: str  # the reduction option the set's assignment satisfies, "no reduction", or ""
    own_condition: str  # the most severe failure condition this member alone causes (a minimal cut set of its own)
    own_level: str  # its FDAL; E when it causes none alone
    verdict: str  # pass | fail
    problems: tuple[str, ...]


@dataclass(frozen=True)
class FhaRow:
    condition: str
    title: str
    function: str
    phases: tuple[str, ...]
    classification: str
    qualitative: str
    objective_per_fh: float | None
    fdal: str
    flight_time_h: float
    # the at-risk time on the average flight (the durations of its flight phases) where the package declares
    # them: the exposure of the condition's fault tree; None: the whole flight
    at_risk_h: float | None
    achieved_per_fh: float | None  # None: no fault tree
    single_failures: tuple[str, ...]  # order-1 minimal cut sets (events)
    verdict: str  # pass | fail | no tree
    problems: tuple[str, ...]


@dataclass(frozen=True)
class RiskRow:
    hazard: str
    title: str
    situation: str
    severity: str
    probability: str
    initial_zone: str | None
    controls: tuple[str, ...]  # the safety goals (risk control measures) and the requirements refining them
    residual_severity: str
    residual_probability: str
    residual_zone: str | None
    verdict: str  # pass | fail | justify


@dataclass(frozen=True)
class ProfileReport:
    standards: tuple[tuple[str, str], ...]  # (package, standard) for every package with a hazard or goal
    sil: tuple[SilRow, ...]
    elements: tuple[ElementRow, ...]
    fha: tuple[FhaRow, ...]
    risk: tuple[RiskRow, ...]
    dal: tuple[DalRow, ...] = ()

    @property
    def ok(self) -> bool:
        verdicts = ([r.verdict for r in self.sil] + [r.verdict for r in self.fha] + [r.verdict for r in self.risk]
                    + [r.verdict for r in self.dal])
        return "fail" not in verdicts


def uses_profiles(model: Model) -> bool:
    return any(d.name != DEFAULT_STANDARD for d in model.standard_by_package.values())


def element_sff(comp: el.Component) -> float | None:
    """SFF = (lambda_S + lambda_DD) / lambda over the rated, non-systematic failure modes: 1 - lambda_DU / lambda,
    lambda_DU being what safe fraction and coverage leave (Component.residual_share)."""
    total = du = 0.0
    for fm in comp.failure_modes:
        if fm.rate_per_hour is None or fm.systematic or fm.kind != "failure":
            continue
        total += fm.rate_per_hour
        du += fm.rate_per_hour * comp.residual_share(fm)
    return None if total <= 0 else 1.0 - du / total


def _element_of(event: str, root_name: str) -> str:
    return event.rpartition(".")[0] if "." in event else root_name


def _hft_by_element(structure: FaultTree) -> dict[str, int] | None:
    """Element (instance path) -> HFT: the order of the smallest minimal cut set of the tree without common
    causes that holds one of its failures, minus one. None where there are too many cut sets to list."""
    result = analyse_tree(structure, AnalysisOptions(importance=False, cut_set_limit=HFT_CUT_SET_LIMIT))
    if result.cut_sets_truncated:
        return None
    out: dict[str, int] = {}
    for cs in result.cut_sets:
        for ev in cs:
            if ev not in structure.basic_events or structure.basic_events[ev].undeveloped:
                continue
            elem = _element_of(ev, structure.name)
            out[elem] = min(out.get(elem, len(cs) - 1), len(cs) - 1)
    return out


def _sil_rows(model: Model, syntheses: Sequence[SynthesisResult], achieved: Mapping[str, float]
              ) -> tuple[list[SilRow], list[ElementRow]]:
    by_hazard = {s.hazard.qualified_name: s for s in syntheses}
    rows: list[SilRow] = []
    elements: list[ElementRow] = []
    linked = links(model)
    for q, goal in sorted(model.goals.items()):
        std = model.standard(goal.package)
        if std not in ("iec61508", "iec61511"):
            continue
        hazards = [model.hazards[h] for h in linked.hazards_of_goal[q]]
        sil, source, value = required_sil(model, goal)
        walks = risk_graph_derivations(model, goal)
        mode = goal.demand or "low"
        problems: list[str] = []
        # the function's elements: the leaf parts whose failure modes its hazards' trees hold
        mine: list[ElementRow] = []
        seen: set[str] = set()
        for hz in hazards:
            syn = by_hazard.get(hz.qualified_name)
            if syn is None:
                problems.append(f"no fault tree for {hz.name}")
                continue
            hft = _hft_by_element(syn.structure)
            root = model.instances(syn.system)
            for ev in sorted(syn.structure.basic_events):
                if syn.structure.basic_events[ev].undeveloped:
                    continue
                path = _element_of(ev, syn.system.name)
                if path in seen:
                    continue
                seen.add(path)
                sub = path.split(".", 1)[1] if "." in path else ""
                inst, rest = find_instance(root, sub) if sub else (root, [])
                comp = inst.component if not rest else None
                if comp is None:
                    continue
                etype = comp.element_type or "B (assumed)"
                sff = element_sff(comp)
                h = hft.get(path) if hft is not None else None
                limit = (iec61508.route_1h(etype[0], h, sff) if sff is not None and h is not None else None)
                mine.append(ElementRow(goal.name, path, comp.name, etype, sff, h, limit, comp.systematic_capability))
        elements.extend(mine)
        sffs = [e.sff for e in mine if e.sff is not None]
        hfts = [e.hft for e in mine if e.hft is not None]
        scs = [e.systematic_capability for e in mine]
        arch: int | None = None
        if mine and len(hfts) == len(mine):
            if std == "iec61508":
                limits = [e.route_1h_sil for e in mine]
                arch = min(limits) if all(x is not None for x in limits) else None  # type: ignore[type-var]
            else:
                arch = max([s for s in (1, 2, 3, 4) if min(hfts) >= iec61508.min_hft_61511(s, mode)], default=0)
        sc = min(scs) if scs and all(s is not None for s in scs) else None  # type: ignore[type-var]
        got = achieved.get(goal.name)
        if goal.demand is None:
            problems.append("no demand mode")
        if sil is None:
            problems.append("no required SIL: give its hazards a `lopa`, or the function `sil N`")
        elif 1 <= sil <= 4:
            if arch is None:
                problems.append("architecture not assessed (an element without failure rate or HFT)")
            elif arch < sil:
                problems.append(f"architecture allows SIL {arch} < SIL {sil}"
                                + (" (Route 1H)" if std == "iec61508" else " (IEC 61511-1 Table 6 minimum HFT)"))
            if sc is None:
                problems.append("systematic capability not given for every element")
            elif sc < sil:
                problems.append(f"systematic capability SC {sc} < SIL {sil}")
            if got is not None:
                if value is not None and mode == "low":  # the LOPA's own figure is the stricter target
                    if got > value:
                        problems.append(f"achieved {got:.3g} misses the LOPA target <= {value:.3g}")
                elif got >= iec61508.band(sil, mode)[1]:
                    problems.append(f"achieved {got:.3g} misses the target < {iec61508.band(sil, mode)[1]:.0e}")
        elif sil == iec61508.BEYOND_SIL4:
            problems.append("the risk reduction needed is beyond SIL 4: one E/E/PE system is not sufficient"
                            + (" (risk graph outcome b)" if any(d.outcome == "b" for _, d in walks) else ""))
        hard = [p for p in problems if not p.startswith(("architecture not assessed", "systematic capability not"))]
        verdict = "fail" if hard else ("incomplete" if problems or (sil and 1 <= sil <= 4 and got is None)
                                        else "pass")
        rows.append(SilRow(
            goal.name, goal.title, std, goal.demand, sil, source, value,
            iec61508.band_text(sil, mode) if sil is not None else "-",
            min(sffs) if sffs else None, min(hfts) if hfts else None, arch, sc, got,
            f"{got:.3g}" if got is not None else NOT_COMPUTED, verdict, tuple(problems),
            tuple(f"{n}: {d.path}" for n, d in walks)))
    return rows, elements


def _fha_rows(model: Model, results: Mapping[str, tuple[FtaResult, float]]) -> list[FhaRow]:
    rows = []
    for _, hz in sorted(model.hazards.items()):
        if model.standard(hz.package) != "arp4761a" or hz.severity is None:
            continue
        cls = hz.severity.text
        if cls not in arp4761a.CLASSES:
            continue
        flight = hz.mission_time_hours or model.mission_time(hz.package)
        at_risk = at_risk_hours(model, hz)
        found = results.get(hz.name)
        objective = arp4761a.OBJECTIVE_PER_FH[cls]
        problems: list[str] = []
        achieved = singles = None
        if found is not None:
            res, t = found
            p = res.exact_probability if res.exact_probability is not None else res.probability
            # AMC 25.1309 11e: P(over the flight) / flight time, the tree exposed for the at-risk time only
            per = flight if at_risk is not None else t
            achieved = p / per if per > 0 else p
            singles = tuple(cs[0] for cs in res.cut_sets if len(cs) == 1)
            if res.cut_sets_by_order.get(1, 0) > len(singles):
                singles += (f"... {res.cut_sets_by_order[1] - len(singles)} more",)
            if objective is not None and achieved > objective:
                problems.append(f"{achieved:.3g} per flight hour exceeds the {arp4761a.display(cls)} objective "
                                f"{objective:.0e}")
            if cls == "Catastrophic" and singles:
                problems.append("a single failure leads to a Catastrophic condition: " + ", ".join(singles))
        verdict = "no tree" if found is None else ("fail" if problems else "pass")
        rows.append(FhaRow(hz.name, hz.title, hz.function, hz.phases, arp4761a.display(cls),
                           arp4761a.QUALITATIVE[cls], objective, arp4761a.FDAL[cls], flight, at_risk, achieved,
                           singles or (), verdict, tuple(problems)))
    return rows


def _risk_rows(model: Model) -> list[RiskRow]:
    rows = []
    linked = links(model)
    for q, hz in sorted(model.hazards.items()):
        if model.standard(hz.package) != "iso14971":
            continue
        matrix = model.risk_matrix_by_package.get(hz.package)
        sev = hz.severity.text if hz.severity else ""
        prob = hz.probability.text if hz.probability else ""
        rsev = hz.residual_severity.text if hz.residual_severity else sev
        rprob = hz.residual_probability.text if hz.residual_probability else prob
        initial = matrix.zone(sev, prob) if matrix else None
        residual = matrix.zone(rsev, rprob) if matrix else None
        controls: list[str] = []
        for gq in linked.goals_of_hazard.get(q, ()):
            controls.append(model.goals[gq].name)
            controls.extend(model.requirements[r].name for r in linked.children.get(gq, ()))
        verdict = {"A": "pass", "R": "justify", "U": "fail"}.get(residual or "", "fail")
        rows.append(RiskRow(hz.name, hz.title, hz.situation, sev, prob, initial, tuple(controls), rsev, rprob,
                            residual, verdict))
    return rows


def _own_effects(model: Model, results: Mapping[str, tuple[FtaResult, float]]
                 ) -> list[tuple[str, str, list[set[str]]]]:
    """Per ARP4761A failure condition with a tree: (condition, class, minimal cut sets as sets of element paths
    relative to the system root; a common cause counts as all its members' elements)."""
    out = []
    for _, hz in sorted(model.hazards.items()):
        if model.standard(hz.package) != "arp4761a" or hz.severity is None or hz.severity.text not in arp4761a.CLASSES:
            continue
        found = results.get(hz.name)
        system = hazard_system(model, hz)
        if found is None or not isinstance(system, el.Component):
            continue
        sets = []
        for cs in found[0].cut_sets:
            elements: set[str] = set()
            for ev in cs:
                for part in ev.strip("[]").split():
                    path = part.rpartition(".")[0]
                    elements.add(path.split(".", 1)[1] if path.startswith(system.name + ".") else path)
            sets.append(elements)
        out.append((hz.name, hz.severity.text, sets))
    return out


def _within(elements: set[str], items: tuple[str, ...]) -> bool:
    return bool(elements) and all(any(e == i or e.startswith(i + ".") for i in items) for e in elements)


def _dal_rows(model: Model, results: Mapping[str, tuple[FtaResult, float]]) -> list[DalRow]:
    """ARP4754A FDAL/IDAL assignment per FFS member: the set's top-level FDAL, the option its assignment satisfies
    (rules (a) and (b), model/profiles/dal.py) and rule (c): each member at least at the FDAL of the most severe
    failure condition that a minimal cut set made of its own elements alone causes."""
    effects = _own_effects(model, results) if model.ffs else []
    rows: list[DalRow] = []
    for _, f in sorted(model.ffs.items()):
        top_class = ffs_top_class(model, f)
        if model.standard(f.package) != "arp4761a" or top_class is None:
            continue
        table = model.dal_reduction_by_package.get(f.package)
        top = arp4761a.FDAL[top_class]
        result = dal.assess(top_class, top, f, table.options if table else ())
        claims = tuple(k for k in dal.INDEPENDENCE_KINDS if f.claims(k))
        for m in f.members:
            got = ffs_member_items(model, f, m)
            items = got[1] if not isinstance(got, str) else ()
            causes = [cls for _, cls, sets in effects if any(_within(cs, items) for cs in sets)]
            own_class = arp4761a.most_severe(causes)
            own_name = next((n for n, cls, sets in effects if cls == own_class
                             and any(_within(cs, items) for cs in sets)), "") if own_class else ""
            own = arp4761a.FDAL[own_class] if own_class else "E"
            problems = list(result.problems)
            if not dal.at_least(m.level, own):
                problems.append(f"{m.kind.upper()} {m.level} is below {own}, the FDAL of {own_name} "
                                f"({arp4761a.display(own_class or '')}) that it causes alone")
            rows.append(DalRow(f.name, tuple(c.text for c in f.conditions), arp4761a.display(top_class), top,
                               m.ref.text, m.kind.upper(), m.level, claims, result.option, own_name, own,
                               "fail" if problems else "pass", tuple(problems)))
    return rows


def build_profile_report(model: Model, syntheses: Sequence[SynthesisResult],
                         results: Mapping[str, tuple[FtaResult, float]],
                         achieved: Mapping[str, float] | None = None) -> ProfileReport:
    """`results`: hazard name -> (engine result, mission time); `achieved`: safety function name -> PFDavg or
    PFH from the demand analysis (pipeline `achieved_demand`; absent: the cells say "not computed")."""
    packages = sorted({h.package for h in model.hazards.values()} | {g.package for g in model.goals.values()})
    sil, elements = _sil_rows(model, syntheses, achieved or {})
    return ProfileReport(
        tuple((p, profile(model.standard(p)).name) for p in packages), tuple(sil), tuple(elements),
        tuple(_fha_rows(model, results)), tuple(_risk_rows(model)), tuple(_dal_rows(model, results)))
