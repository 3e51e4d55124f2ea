"""The GSN safety case, generated from the model and merged with the hand-written `argument` blocks.

Argument pattern (per system; ids derive from model names, so they are stable across runs):

    G_<Sys>  "<Sys> is acceptably safe within its ODD"      in context of C_<Sys>_ODD, C_<Sys>_hazard_log
      S_<Sys>_hazards  "Argue over each identified hazard"
        G_<H>  "<H> is acceptably mitigated"                  in context of C_<H> (situation, S/E/C, ASIL)
          S_<H>_goals  "Argue over the safety goals that mitigate <H>"
            G_<SG>  "<SG> is achieved"                        in context of C_<SG> (safe state, FTTI)
              S_<SG>_reqs  "Argue over the requirements refining <SG> (and its target)"
                G_<SG>_target  -> Sn_FTA_<SG>                 the fault-tree result against the target
                G_<R>  "<R> is met"  -> G_<sub-requirement> ..., Sn_<Evidence> ...
      S_<Sys>_ml  "Argue over the ML components (AMLAS)"
        G_ML_<C>  S_ML_<C>: one goal per AMLAS stage (Hawkins et al., 2021)
          G_ML_<C>_scope         ODD attributes and the SOTIF table (analysis solutions)
          G_ML_<C>_reqs          the requirements allocated to <C>; metric thresholds as context
          G_ML_<C>_data          coverage of the ODD cells by the verification data, digests, data review
          G_ML_<C>_learning      model identity and pinned training data (and its ODD coverage)
          G_ML_<C>_verification  one goal per (sliced) metric threshold with its metric evidence
          G_ML_<C>_deployment    runtime monitors; the SOTIF validation target per hazard

Evidence that `verifies` a requirement or safety goal, or `supports` a hazard, goal, requirement or
component, becomes a solution under that element's goal. A goal or strategy with no support is marked
undeveloped. Hand-written arguments are merged in (see `build_case`), the result is split into modules,
validated against the GSN Community Standard v3 rules, and every node gets a status rolled up from its
solutions (see `roll_up`).

Nothing here raises on a bad model: problems come back as diagnostics (SOPS090, SOPS091, SOPS092-099).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.analysis import evidence as evidence_results
from safetyops_dsl.analysis.sotif import SotifReport, build_sotif
from safetyops_dsl.analysis.synthesis import synthesise, synthesise_all
from safetyops_dsl.analysis.targets import GoalCheck, check_goal_targets
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import DEFAULT_STANDARD, Model
from safetyops_dsl.model.links import links
from safetyops_dsl.model.profiles.classify import goal_level, hazard_summary
from safetyops_dsl.model.semantics import (
    derived_asil,
    hazard_system,
    odd_cells,
    odd_scopes,
    odd_text,
)

# -- statuses ------------------------------------------------------------------------------------------------

PASSED, FAILED, MISSING, STALE, SKIPPED = "passed", "failed", "missing", "stale", "skipped"
UNDEVELOPED, UNKNOWN = "undeveloped", "unknown"
# Worst first: a goal takes the worst status of what supports it.
STATUS_ORDER: tuple[str, ...] = (FAILED, STALE, MISSING, SKIPPED, UNDEVELOPED, UNKNOWN, PASSED)
SOLUTION_STATUSES = (PASSED, FAILED, MISSING, STALE, SKIPPED, UNKNOWN)
_RANK = {s: i for i, s in enumerate(STATUS_ORDER)}

GOALISH = ("goal", "away_goal")
CONTEXTUAL = ("context", "assumption", "justification")
# GSN Community Standard v3, core notation: parent kind -> kinds it may be SupportedBy.
SUPPORTED_BY: dict[str, frozenset[str]] = {
    "goal": frozenset({"goal", "strategy", "solution", "away_goal"}),
    "strategy": frozenset({"goal", "away_goal"}),
}
IN_CONTEXT_OF: dict[str, frozenset[str]] = {
    "goal": frozenset(CONTEXTUAL),
    "strategy": frozenset(CONTEXTUAL),
    "away_goal": frozenset(CONTEXTUAL),
}

# `auto` splits a system's case into one module per hazard (and per ML component) above this many nodes.
SPLIT_THRESHOLD = 45


def worst(statuses: Iterable[str]) -> str:
    found = list(statuses)
    return min(found, key=lambda s: _RANK[s]) if found else UNDEVELOPED


# -- the case ------------------------------------------------------------------------------------------------


@dataclass
class Node:
    id: str
    kind: str  # goal | strategy | solution | context | assumption | justification | away_goal
    text: str
    module: str
    location: Location
    origin: str = ""  # "" = generated; otherwise the qualified name of the hand-written argument
    element: str = ""  # "kind:qualified name" of the model element the node stands for ("" = none)
    marked_undeveloped: bool = False  # `undeveloped` written in the model (hand-written nodes)
    evidence: tuple[str, ...] = ()  # solutions: qualified names of the evidence they cite
    fixed_status: str | None = None  # solutions whose status the model decides (fault-tree results)
    away_module: str | None = None  # hand-written away goal: the module where it is developed
    detail: str = ""  # why the status is what it is (evidence result, fault-tree figure)
    status: str = UNKNOWN  # after roll_up


@dataclass
class Module:
    name: str
    title: str
    kind: str  # system | hazard | ml | argument | external
    root: str | None = None  # set by validation when exactly one


@dataclass
class Case:
    nodes: dict[str, Node] = field(default_factory=dict)
    supported_by: dict[str, list[str]] = field(default_factory=dict)  # parent -> children, in order
    in_context_of: dict[str, list[str]] = field(default_factory=dict)  # goal/strategy -> contexts
    modules: dict[str, Module] = field(default_factory=dict)
    tops: list[str] = field(default_factory=list)  # the top goal of each system's case
    diagnostics: list[Diagnostic] = field(default_factory=list)
    results_given: bool = False

    # -- construction --------------------------------------------------------------------------------------
    def add(self, node: Node) -> Node:
        existing = self.nodes.get(node.id)
        if existing is not None:
            return existing
        self.nodes[node.id] = node
        return node

    def support(self, parent: str, child: str) -> None:
        children = self.supported_by.setdefault(parent, [])
        if child not in children:
            children.append(child)

    def context(self, owner: str, ctx: str) -> None:
        ctxs = self.in_context_of.setdefault(owner, [])
        if ctx not in ctxs:
            ctxs.append(ctx)

    # -- queries -------------------------------------------------------------------------------------------
    def children(self, node_id: str) -> list[str]:
        return self.supported_by.get(node_id, [])

    def contexts(self, node_id: str) -> list[str]:
        return self.in_context_of.get(node_id, [])

    def parents(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for parent, children in self.supported_by.items():
            for c in children:
                out.setdefault(c, []).append(parent)
        return out

    def context_owners(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for owner, ctxs in self.in_context_of.items():
            for c in ctxs:
                out.setdefault(c, []).append(owner)
        return out

    def module_nodes(self, module: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.module == module]

    def undeveloped(self, node_id: str) -> bool:
        """GSN's undeveloped marker: a goal or strategy with no support (whether or not the model says so)."""
        n = self.nodes[node_id]
        return n.kind in ("goal", "strategy") and not self.children(node_id)

    def top_status(self) -> str:
        return worst(self.nodes[t].status for t in self.tops) if self.tops else UNDEVELOPED

    def solutions_below(self, node_id: str) -> list[Node]:
        seen: set[str] = set()
        out: list[Node] = []
        stack = [node_id]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            if self.nodes[n].kind == "solution":
                out.append(self.nodes[n])
            stack.extend(reversed(self.children(n)))
        return sorted(out, key=lambda x: x.id)


# -- ids -----------------------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_NATURAL = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, str], ...]:
    """H2 before H10."""
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in _NATURAL.split(text) if p)


def safe_id(text: str) -> str:
    return _UNSAFE.sub("_", text)


class _Ids:
    """Generated ids use an element's simple name, or `package_name` where the simple name is not unique."""

    def __init__(self, model: Model):
        count: dict[str, int] = {}
        for store in (model.hazards, model.goals, model.requirements, model.evidence, model.components):
            for element in store.values():
                count[element.name] = count.get(element.name, 0) + 1
        self._count = count

    def of(self, element: el.Hazard | el.SafetyGoal | el.Requirement | el.Evidence | el.Component) -> str:
        if self._count.get(element.name, 0) > 1:
            return safe_id(f"{element.package}_{element.name}")
        return safe_id(element.name)


def _fmt(value: float) -> str:
    return f"{value:.2g}"


# -- generation ----------------------------------------------------------------------------------------------


def hazard_probabilities(model: Model) -> dict[str, tuple[float, float]]:
    """hazard name -> (top-event probability, mission time) for the hazards that a safety goal with a
    quantitative target mitigates (only those are needed for the target sub-argument)."""

    wanted: set[str] = set()
    for goal in model.goals.values():
        if goal.target_per_hour is None:
            continue
        wanted.update(links(model).hazards_of_goal[goal.qualified_name])
    out: dict[str, tuple[float, float]] = {}
    options = AnalysisOptions(cut_set_limit=1, importance=False)
    for qname in sorted(wanted):
        synthesis = synthesise(model, model.hazards[qname])
        if synthesis is None:
            continue
        try:
            result = analyse(synthesis.tree, options)
        except dg.DiagnosticError:
            continue
        p = result.exact_probability if result.exact_probability is not None else result.probability
        out[model.hazards[qname].name] = (p, synthesis.tree.mission_time or 1.0)
    return out


def evidence_statuses(model: Model, result_paths: Iterable[str], use_git: bool = True) -> tuple[
    dict[str, str], dict[str, str], list[Diagnostic]
]:
    """CI results -> (evidence qualified name -> GSN status, -> detail, diagnostics), using the trace
    issue's reader (analysis/evidence.py). Document evidence (review, analysis, inspection) counts as passed
    unless stale; a stale pin beats any result."""

    results = evidence_results.read_results(list(result_paths), evidence_results.test_sources(model))
    return statuses_of(model, results, use_git)


def statuses_of(model: Model, results: evidence_results.Results, use_git: bool = True) -> tuple[
    dict[str, str], dict[str, str], list[Diagnostic]
]:
    """As evidence_statuses, from results already read (CI files and model registry runs)."""
    found, diags = evidence_results.evaluate_evidence(model, results, use_git=use_git)
    status: dict[str, str] = {}
    detail: dict[str, str] = {}
    mapping = {evidence_results.PASSED: PASSED, evidence_results.RECORDED: PASSED, evidence_results.FAILED: FAILED, evidence_results.SKIPPED: SKIPPED,
               evidence_results.MISSING: MISSING, evidence_results.NOT_RUN: MISSING}
    for qname, st in found.items():
        status[qname] = STALE if st.stale else mapping.get(st.status, MISSING)
        detail[qname] = st.stale_reason if st.stale else st.detail + (f" \u2014 {st.run_url}" if st.run_url else "")
    return status, detail, list(results.diagnostics) + diags


class _Builder:
    def __init__(
        self,
        model: Model,
        statuses: Mapping[str, str] | None,
        details: Mapping[str, str],
        probabilities: Mapping[str, tuple[float, float]],
        sotif: SotifReport,
    ):
        self.model = model
        self.sotif = sotif
        self.odd_scopes = odd_scopes(model)
        self.statuses = statuses
        self.details = details
        self.probabilities = probabilities
        self.case = Case(results_given=statuses is not None)
        self.ids = _Ids(model)
        self.module = ""
        # element key ("kind:qname") -> generated node id, for attach_to and shared nodes
        self.generated: dict[str, str] = {}
        self.hazard_parent: dict[str, str] = {}  # system qname -> node the hazard goals hang under
        self.unified: dict[str, tuple[el.Argument, el.GsnNode, el.GsnNode | None]] = {}
        self.req_stack: set[str] = set()  # guards against refinement cycles (SOPS072, reported by check)
        self.goal_checks: dict[str, GoalCheck] = {}
        if probabilities:

            self.goal_checks = {c.goal: c for c in check_goal_targets(model, probabilities)}

    # -- helpers --------------------------------------------------------------------------------------------
    def node(self, node_id: str, kind: str, text: str, location: Location, element: str = "", **kw: object) -> str:
        n = self.case.add(Node(node_id, kind, text, self.module, location, element=element, **kw))  # type: ignore[arg-type]
        if element and element not in self.generated:
            self.generated[element] = n.id
        return n.id

    def module_of(self, name: str, title: str, kind: str) -> None:
        self.case.modules.setdefault(name, Module(name, title, kind))
        self.module = name

    def evidence_status(self, qname: str) -> tuple[str, str]:
        if self.statuses is None:
            return UNKNOWN, ""
        ev = self.model.evidence[qname]
        st = self.statuses.get(qname, self.statuses.get(ev.name, MISSING))
        if st not in SOLUTION_STATUSES:
            st = MISSING
        return st, self.details.get(qname, self.details.get(ev.name, ""))

    def solution(self, ev: el.Evidence) -> str:
        key = f"evidence:{ev.qualified_name}"
        if key in self.generated:
            return self.generated[key]
        status, detail = self.evidence_status(ev.qualified_name)
        return self.node(
            f"Sn_{self.ids.of(ev)}", "solution", f"{ev.kind} {ev.source}", ev.location, key,
            evidence=(ev.qualified_name,), fixed_status=status, detail=detail,
        )

    def resolve(self, ref: el.NameRef, kinds: tuple[str, ...], package: str) -> str | None:
        found = self.model.resolve(ref, kinds, package, "element")
        return None if isinstance(found, Diagnostic) else found[1]

    def evidence_for(self, kind: str, qname: str) -> list[el.Evidence]:
        """The evidence that verifies or supports (kind, qname), by evidence name (model/links.py)."""
        linked = links(self.model)
        return [ev for q, ev in sorted(self.model.evidence.items())
                if (kind, qname) in linked.verifies[q] or (kind, qname) in linked.supports[q]]

    # -- the pattern ----------------------------------------------------------------------------------------
    def build(self, split: str) -> Case:

        self.find_unified_tops()
        systems = self.model.systems()
        by_system: dict[str, list[el.Hazard]] = {s.qualified_name: [] for s in systems}
        orphans: list[el.Hazard] = []
        for _, hz in sorted(self.model.hazards.items()):
            sysc = hazard_system(self.model, hz) if systems else None
            if isinstance(sysc, el.Component) and sysc.qualified_name in by_system:
                by_system[sysc.qualified_name].append(hz)
            elif len(systems) >= 1 and hz.condition is None and hz.system is None:
                by_system[systems[0].qualified_name].append(hz)
            else:
                orphans.append(hz)
        ml_by_system = self.ml_components(systems)
        for system in systems:
            self.system_case(system, by_system[system.qualified_name], ml_by_system.get(system.qualified_name, []))
        if orphans or not systems:
            self.system_case(None, orphans, [] if systems else ml_by_system.get("", []))
        self.merge_arguments()
        if split == "none" or (split == "auto" and len(self.case.nodes) <= SPLIT_THRESHOLD):
            self.unsplit()
        return self.case

    def ml_components(self, systems: list[el.Component]) -> dict[str, list[el.Component]]:
        """ML components per system (those instantiated in it); unused ones go to the first system."""
        out: dict[str, list[el.Component]] = {}
        placed: set[str] = set()
        for s in systems:
            types = {inst.component.qualified_name for inst in self.model.instances(s).walk()}
            for q in sorted(types, key=natural_key):
                c = self.model.components[q]
                if c.kind is el.ComponentKind.ML_COMPONENT and q not in placed:
                    out.setdefault(s.qualified_name, []).append(c)
                    placed.add(q)
        rest = [c for q, c in sorted(self.model.components.items())
                if c.kind is el.ComponentKind.ML_COMPONENT and q not in placed]
        if rest:
            out.setdefault(systems[0].qualified_name if systems else "", []).extend(rest)
        return out

    def find_unified_tops(self) -> None:
        """A hand-written root goal that names a system (by `refers`, or through its context) is that system's
        top goal; a childless strategy directly under it (exactly one) is the strategy over the hazards."""
        for _, arg in sorted(self.model.arguments.items()):
            nodes = {n.name: n for n in arg.nodes}
            roots = [n for n in arg.nodes if n.kind == "goal" and not n.supports and not n.attach_to]
            for root in roots:
                refs = list(root.refers)
                for n in arg.nodes:
                    if n.kind in CONTEXTUAL and any(r.text == root.name for r in n.context_for):
                        refs.extend(n.refers)
                for r in root.in_context_of:
                    if r.text in nodes:
                        refs.extend(nodes[r.text].refers)
                system = None
                for ref in refs:
                    q = self.resolve(ref, ("component",), arg.package)
                    if q is not None and self.model.components[q].kind is el.ComponentKind.SYSTEM:
                        system = q
                        break
                if system is None or system in self.unified:
                    continue
                children = [n for n in arg.nodes if any(s.text == root.name for s in n.supports)]
                leaf = [n for n in children if n.kind == "strategy" and not n.undeveloped
                        and not any(any(s.text == n.name for s in m.supports) for m in arg.nodes)]
                self.unified[system] = (arg, root, leaf[0] if len(leaf) == 1 else None)

    def system_case(self, system: el.Component | None, hazards: list[el.Hazard], mls: list[el.Component]) -> None:
        name = system.name if system is not None else "Case"
        sid = self.ids.of(system) if system is not None else "Case"
        loc = system.location if system is not None else Location(str(self.model.root))
        self.module_of(name, f"Safety case of {name}" if system else "Safety case", "system")
        unified = self.unified.get(system.qualified_name) if system is not None else None
        key = f"component:{system.qualified_name}" if system is not None else ""
        if unified is not None:
            arg, root, leaf = unified
            top = self.node(root.name, "goal", root.text, root.location, key, origin=arg.qualified_name,
                            marked_undeveloped=root.undeveloped)
        else:
            top = self.node(f"G_{sid}", "goal", f"{name} is acceptably safe within its operational design domain",
                            loc, key)
        self.case.tops.append(top)
        odd = odd_text(system.odd) if system is not None and system.odd else "not stated in the model"
        self.case.context(top, self.node(f"C_{sid}_ODD", "context", f"Operational design domain: {odd}", loc))
        hz_names = sorted((h.name for h in hazards), key=natural_key)
        if len(hz_names) > 6:
            listed = f"{', '.join(hz_names[:3])}, ..., {hz_names[-1]}"
        else:
            listed = ", ".join(hz_names) or "none"
        self.case.context(top, self.node(
            f"C_{sid}_hazard_log", "context",
            f"Hazard log: {len(hz_names)} hazard{'s' if len(hz_names) != 1 else ''} identified in the HARA ({listed})",
            loc))
        if hazards:
            if unified is not None and unified[2] is not None:
                leaf = unified[2]
                strat = self.node(leaf.name, "strategy", leaf.text, leaf.location, origin=unified[0].qualified_name)
            else:
                strat = self.node(f"S_{sid}_hazards", "strategy", f"Argue over each identified hazard of {name}", loc)
            self.case.support(top, strat)
            for hz in sorted(hazards, key=lambda h: natural_key(h.name)):
                self.case.support(strat, self.hazard(hz, split_from=name))
                self.module = name
        if mls:
            strat = self.node(f"S_{sid}_ml", "strategy",
                              f"Argue over the ML components of {name} (AMLAS: requirements, data, model, deployment)",
                              loc)
            self.case.support(top, strat)
            for c in mls:
                self.case.support(strat, self.ml(c))
                self.module = name

    def hazard(self, hz: el.Hazard, split_from: str) -> str:

        key = f"hazard:{hz.qualified_name}"
        if key in self.generated:
            return self.generated[key]
        hid = self.ids.of(hz)
        self.module_of(hid, f"Hazard {hz.name}: {hz.title}", "hazard")
        g = self.node(f"G_{hid}", "goal", f"{hz.name} \u201c{hz.title}\u201d is acceptably mitigated", hz.location, key)
        parts = []
        if hz.situation:
            parts.append(f"Situation: {hz.situation}")
        if self.model.standard(hz.package) == DEFAULT_STANDARD:
            classes = [c.text for c in (hz.severity, hz.exposure, hz.controllability) if c is not None]
            asil = derived_asil(hz) or (hz.typed_asil.level if hz.typed_asil else None)
            if classes or asil:
                parts.append(" ".join(classes) + (f" \u2192 ASIL {asil}" if asil else ""))
        elif summary := hazard_summary(self.model, hz):  # the package's standard (model/profiles)
            parts.append(summary)
        if parts:
            self.case.context(g, self.node(f"C_{hid}", "context", "; ".join(parts), hz.location))
        goals = [self.model.goals[q] for q in links(self.model).goals_of_hazard.get(hz.qualified_name, ())]
        if goals:
            strat = self.node(f"S_{hid}_goals", "strategy", f"Argue over the safety goals that mitigate {hz.name}",
                              hz.location)
            self.case.support(g, strat)
            for sg in sorted(goals, key=lambda x: natural_key(x.name)):
                self.case.support(strat, self.safety_goal(sg))
        for ev in self.evidence_for("hazard", hz.qualified_name):
            self.case.support(g, self.solution(ev))
        return g

    def safety_goal(self, sg: el.SafetyGoal) -> str:

        key = f"safety_goal:{sg.qualified_name}"
        if key in self.generated:
            return self.generated[key]
        gid = self.ids.of(sg)
        level = goal_level(self.model, sg)  # ASIL, SIL or FDAL under the package's standard
        g = self.node(f"G_{gid}", "goal",
                      f"{sg.name} \u201c{sg.title}\u201d is achieved" + (f" ({level})" if level else ""),
                      sg.location, key)
        facts = []
        if sg.safe_state:
            facts.append(f"Safe state: {sg.safe_state}")
        if sg.ftti_seconds is not None:
            facts.append(f"FTTI {sg.ftti_seconds * 1000:g} ms")
        if facts:
            self.case.context(g, self.node(f"C_{gid}", "context", "; ".join(facts), sg.location))
        reqs = [self.model.requirements[q] for q in links(self.model).children.get(sg.qualified_name, ())]
        if reqs or sg.target_per_hour is not None:
            what = "the requirements refining " + sg.name if reqs else "the quantitative target of " + sg.name
            if reqs and sg.target_per_hour is not None:
                what += " and its quantitative target"
            strat = self.node(f"S_{gid}_reqs", "strategy", f"Argue over {what}", sg.location)
            self.case.support(g, strat)
            if sg.target_per_hour is not None:
                self.case.support(strat, self.target(sg, gid))
            for r in sorted(reqs, key=lambda x: natural_key(x.name)):
                self.case.support(strat, self.requirement(r))
        for ev in self.evidence_for("safety_goal", sg.qualified_name):
            self.case.support(g, self.solution(ev))
        return g

    def target(self, sg: el.SafetyGoal, gid: str) -> str:
        assert sg.target_per_hour is not None
        g = self.node(f"G_{gid}_target", "goal",
                      f"The residual hazard rate meets the target of {sg.name}: at most {_fmt(sg.target_per_hour)} per h",
                      sg.location)
        check = self.goal_checks.get(sg.name)
        if check is None:
            status, text, detail = MISSING, "Fault-tree analysis (no fault tree: the hazards have no condition)", ""
        elif check.missing:
            status = MISSING
            text = f"Fault-tree analysis: no fault tree for {', '.join(check.missing)}"
            detail = "a mitigated hazard has no condition or no system"
        else:
            status = PASSED if check.passed else FAILED
            text = (f"Fault-tree analysis of {', '.join(check.hazards)}: "
                    f"{_fmt(check.achieved_per_hour)} per h")
            detail = (f"{_fmt(check.achieved_per_hour)} per h "
                      f"{'<=' if check.passed else '>'} target {_fmt(check.target_per_hour)} per h")
        sn = self.node(f"Sn_FTA_{gid}", "solution", text, sg.location, fixed_status=status, detail=detail)
        self.case.support(g, sn)
        return g

    def requirement(self, req: el.Requirement) -> str:
        key = f"requirement:{req.qualified_name}"
        if key in self.generated:
            return self.generated[key]
        rid = self.ids.of(req)
        extra = []
        if req.asil is not None:
            extra.append(f"ASIL {req.asil}")
        if req.allocated_to:
            extra.append("allocated to " + ", ".join(r.text for r in req.allocated_to))
        g = self.node(f"G_{rid}", "goal",
                      f"{req.name} \u201c{req.title}\u201d is met" + (f" ({'; '.join(extra)})" if extra else ""),
                      req.location, key)
        subs = [self.model.requirements[q] for q in links(self.model).children.get(req.qualified_name, ())]
        self.req_stack.add(req.qualified_name)
        for sub in sorted(subs, key=lambda x: natural_key(x.name)):
            if sub.qualified_name not in self.req_stack:
                self.case.support(g, self.requirement(sub))
        self.req_stack.discard(req.qualified_name)
        for ev in self.evidence_for("requirement", req.qualified_name):
            self.case.support(g, self.solution(ev))
        return g

    def ml(self, c: el.Component) -> str:
        """The AMLAS argument (Hawkins et al., 2021) for ML component `c`: one goal per AMLAS stage, each
        supported by the model's evidence and by the analyses of the ODD, the data coverage and SOTIF."""
        key = f"component:{c.qualified_name}"
        if key in self.generated:
            return self.generated[key]
        cid = self.ids.of(c)
        self.module_of(f"ML_{cid}", f"AMLAS argument for {c.name}", "ml")
        ml = c.ml or el.MLInfo(None, None, (), ())
        ident = (f"{ml.model_identity} {ml.model_version or ''}".strip() if ml.model_identity else "no model identity")
        g = self.node(f"G_ML_{cid}", "goal",
                      f"ML component {c.name} ({ident}) meets its ML safety requirements in the ODD", c.location, key)
        self.case.context(g, self.node(f"C_ML_{cid}_model", "context",
                                       f"ML model: {ident}" + (f"; {c.description}" if c.description else ""),
                                       c.location))
        odd = self.odd_scopes.get(c.qualified_name)
        if odd is not None:
            self.case.context(g, self.node(f"C_ML_{cid}_odd", "context", f"ODD: {odd_text(odd)}", odd.location))
        strat = self.node(f"S_ML_{cid}", "strategy",
                          "Argue over the AMLAS stages: assurance scoping, ML safety requirements, data management, "
                          "model learning, model verification, model deployment", c.location)
        self.case.support(g, strat)
        paths = self.paths_of_type(c)
        rows = [r for r in self.sotif.rows if r.component in paths]
        hazards = sorted({r.hazard for r in rows}, key=natural_key)
        for stage in (self.ml_scope, self.ml_requirements, self.ml_data, self.ml_learning, self.ml_verification,
                      self.ml_deployment):
            self.module = f"ML_{cid}"
            self.case.support(strat, stage(c, cid, ml, odd, hazards))
        return g

    def develop(self, node_id: str, hint: str) -> None:
        """An undeveloped goal says what evidence would develop it."""
        if not self.case.children(node_id):
            self.case.nodes[node_id].detail = f"to develop: {hint}"

    def analysis(self, node_id: str, text: str, loc: Location, passed: bool | None, detail: str) -> str:
        """A solution whose status the model's own analyses decide (like the fault-tree result)."""
        status = UNKNOWN if passed is None else PASSED if passed else FAILED
        return self.node(node_id, "solution", text, loc, fixed_status=status, detail=detail)

    def ml_scope(self, c: el.Component, cid: str, ml: el.MLInfo, odd: el.Odd | None, hazards: list[str]) -> str:
        g = self.node(f"G_ML_{cid}_scope", "goal",
                      f"The ML safety assurance scope of {c.name} is defined: its ODD and the hazards it contributes "
                      "to (AMLAS stage 1)", c.location)
        if odd is not None:
            cells = odd_cells(odd)
            self.case.support(g, self.analysis(
                f"Sn_ML_{cid}_odd", "analysis ODD attributes", odd.location, True,
                f"{len(odd.attributes)} attributes, {len(cells)} cells of enumerated values"))
        if hazards:
            self.case.support(g, self.analysis(
                f"Sn_ML_{cid}_sotif", "analysis SOTIF table (sops sotif)", c.location, True,
                f"functional insufficiencies and triggering conditions for {', '.join(hazards)}"))
        self.develop(g, "declare the ODD as attributes (`odd { light day, night of day, dusk, night }`) on the "
                        "system or the component")
        return g

    def ml_requirements(self, c: el.Component, cid: str, ml: el.MLInfo, odd: el.Odd | None,
                        hazards: list[str]) -> str:
        g = self.node(f"G_ML_{cid}_reqs", "goal",
                      f"The ML safety requirements allocated to {c.name} are met (AMLAS stage 2)", c.location)
        if ml.metrics:
            self.case.context(g, self.node(
                f"C_ML_{cid}_thresholds", "context",
                "ML safety requirements as metric thresholds: "
                + "; ".join(f"{m.result_key} {m.op} {m.threshold:g}" for m in ml.metrics), c.location))
        for req in self.requirements_allocated_to(c):
            self.case.support(g, self.requirement(req))
            self.module = f"ML_{cid}"
        self.develop(g, f"allocate a requirement to {c.name} (`allocated_to`) and verify it")
        return g

    def ml_data(self, c: el.Component, cid: str, ml: el.MLInfo, odd: el.Odd | None, hazards: list[str]) -> str:
        g = self.node(f"G_ML_{cid}_data", "goal",
                      f"The data of {c.name} meets its data requirements: relevance, completeness over the ODD, "
                      "balance, accuracy (AMLAS stage 3)", c.location)
        if ml.datasets:
            rows = [f"{d.role} {d.identity}" + (f" (sha256 {d.sha256[:12]}\u2026)" if d.sha256 else " (not pinned)")
                    for d in ml.datasets]
            self.case.context(g, self.node(f"C_ML_{cid}_data", "context", "Data sets: " + "; ".join(rows),
                                           c.location))
        # completeness: the verification data over the ODD cells (analysis/odd_coverage.py)
        g_cov = self.node(f"G_ML_{cid}_data_coverage", "goal",
                          f"The verification data of {c.name} covers every cell of the ODD", c.location)
        self.case.support(g, g_cov)
        cov = self.sotif.coverage
        for d in ml.datasets:
            if d.role not in ("verification", "test") or d.coverage_manifest is None:
                continue
            loc = d.coverage_location or d.location
            sid = f"Sn_ML_{cid}_coverage_{safe_id(d.identity)}"
            found = next((x for x in cov.datasets if x.component == c.qualified_name and x.identity == d.identity
                          and x.role == d.role), None)
            refused = next((x for x in cov.refused if x.component == c.qualified_name and x.identity == d.identity
                            and x.role == d.role), None)
            if found is not None:
                empty = [x.cell for x in found.cells if x.status == "empty"]
                thin = [x.cell for x in found.cells if x.status == "thin"]
                detail = f"{len(found.cells)} cells, {found.total} samples"
                if empty:
                    detail += f"; no sample in {'; '.join(empty)}"
                if thin:
                    detail += f"; thin (< {found.min_samples}, flagged for review): {'; '.join(thin)}"
                self.case.support(g_cov, self.analysis(sid, f"analysis ODD coverage of {d.identity}", loc,
                                                       not empty, detail))
            elif refused is not None:
                self.case.support(g_cov, self.analysis(sid, f"analysis ODD coverage of {d.identity}", loc, False,
                                                       refused.reason))
        self.develop(g_cov, 'count the verification data per ODD cell: `coverage "manifest.json" min N` on the '
                            "verification data set")
        g_pin = self.node(f"G_ML_{cid}_data_pinned", "goal",
                          f"The data sets of {c.name} are identified and pinned by digest", c.location)
        self.case.support(g, g_pin)
        if ml.datasets:
            unpinned = [d.identity for d in ml.datasets if not d.sha256]
            self.case.support(g_pin, self.analysis(
                f"Sn_ML_{cid}_data_pins", "analysis data set digests", c.location, not unpinned,
                f"not pinned: {', '.join(unpinned)}" if unpinned else f"{len(ml.datasets)} data sets pinned by sha256"))
        self.develop(g_pin, 'declare the data sets: `dataset verification "<name>" sha256 "<digest>"`')
        g_rev = self.node(f"G_ML_{cid}_data_review", "goal",
                          f"The data of {c.name} is relevant, balanced and accurately labelled (data review)",
                          c.location)
        self.case.support(g, g_rev)
        for ev in self.evidence_for("component", c.qualified_name):
            self.case.support(g_rev, self.solution(ev))
        self.develop(g_rev, f"a data review: `evidence NAME review \"...\" supports {c.name}`")
        return g

    def ml_learning(self, c: el.Component, cid: str, ml: el.MLInfo, odd: el.Odd | None, hazards: list[str]) -> str:
        g = self.node(f"G_ML_{cid}_learning", "goal",
                      f"The model of {c.name} is learnt from its identified training data (AMLAS stage 4)",
                      c.location)
        train = [d for d in ml.datasets if d.role == "train"]
        if ml.model_identity and train:
            pinned = all(d.sha256 for d in train)
            self.case.support(g, self.analysis(
                f"Sn_ML_{cid}_learning", "analysis model identity and training data", c.location, pinned,
                f"{ml.model_identity} {ml.model_version or '(no version)'} from "
                + ", ".join(d.identity + ("" if d.sha256 else " (not pinned)") for d in train)))
        for cov in self.sotif.coverage.datasets:
            if cov.component == c.qualified_name and cov.role == "train":
                self.case.support(g, self.analysis(
                    f"Sn_ML_{cid}_coverage_{safe_id(cov.identity)}", f"analysis ODD coverage of {cov.identity}",
                    cov.location, True, f"{len(cov.cells)} cells, {cov.total} samples "
                    f"({cov.outside_odd} outside the ODD)"))
        self.develop(g, 'name the model and its training data: `model "<name>" version "<v>"`, '
                        '`dataset train "<name>" sha256 "<digest>"`')
        return g

    def ml_verification(self, c: el.Component, cid: str, ml: el.MLInfo, odd: el.Odd | None,
                        hazards: list[str]) -> str:
        g = self.node(f"G_ML_{cid}_verification", "goal",
                      f"The model of {c.name} meets its metric thresholds on the verification data, slice by slice "
                      "(AMLAS stage 5)", c.location)
        for m in ml.metrics:
            gm = self.node(f"G_ML_{cid}_{safe_id(m.result_key)}", "goal",
                           f"{m.result_key} {m.op} {m.threshold:g} on the verification data", m.location)
            self.case.support(g, gm)
            for _, ev in sorted(self.model.evidence.items()):
                if ev.kind == "metric" and ev.source == m.result_key:
                    self.case.support(gm, self.solution(ev))
            self.develop(gm, f'metric evidence: `evidence NAME metric "{m.result_key}" verifies <requirement>`')
        for gap in self.sotif.coverage.slice_gaps:
            if gap.component != c.qualified_name:
                continue
            for v in gap.missing:
                gs = self.node(f"G_ML_{cid}_{safe_id(f'{gap.metric}[{gap.attribute}={v}]')}", "goal",
                               f"{gap.metric} holds on the ODD slice {gap.attribute}={v}", gap.location)
                self.case.support(g, gs)
                self.develop(gs, f"a threshold and its evidence on this slice: `metric {gap.metric} ... where "
                                 f"{gap.attribute} = {v}`")
        self.develop(g, "a metric threshold (`metric recall >= 0.99 where light = night`) and its evidence")
        return g

    def ml_deployment(self, c: el.Component, cid: str, ml: el.MLInfo, odd: el.Odd | None,
                      hazards: list[str]) -> str:
        g = self.node(f"G_ML_{cid}_deployment", "goal",
                      f"{c.name} is deployed with runtime monitors and a residual SOTIF risk below its acceptance "
                      "criteria (AMLAS stage 6)", c.location)
        monitors = [mech for mech in c.mechanisms if mech.kind == "monitor"]
        g_mon = self.node(f"G_ML_{cid}_monitors", "goal",
                          f"Residual ML errors of {c.name} are detected at run time"
                          + ("" if monitors else " (no runtime monitor is modelled)"), c.location)
        self.case.support(g, g_mon)
        supported = links(self.model).supports
        for mech in monitors:
            covers = ", ".join(r.text for r in mech.covers)
            g_m = self.node(f"G_ML_{cid}_{safe_id(mech.name)}", "goal",
                            f"{mech.name} detects {covers} at run time (coverage {mech.coverage * 100:g} %)",
                            mech.location)
            self.case.support(g_mon, g_m)
            # evidence that `supports Component.Monitor`: a test of the monitor, a fault-injection campaign
            target = ("mechanism", f"{c.qualified_name}.{mech.name}")
            for q, ev in sorted(self.model.evidence.items()):
                if target in supported[q]:
                    self.case.support(g_m, self.solution(ev))
            self.develop(g_m, f"a test of the monitor: `evidence NAME test \"...\" supports {c.name}.{mech.name}`")
        self.develop(g_mon, f"a runtime monitor: `monitor NAME covers <failure> coverage N %` in {c.name}")
        if hazards:
            g_val = self.node(f"G_ML_{cid}_validation", "goal",
                              f"The hazardous behaviours of {c.name} occur below the acceptance criteria of "
                              f"{', '.join(hazards)} (SOTIF validation)", c.location)
            self.case.support(g, g_val)
            targets = {t.hazard: t for t in self.sotif.targets}
            for hz in hazards:
                t = targets.get(hz)
                if t is None:
                    gh = self.node(f"G_ML_{cid}_validation_{safe_id(hz)}", "goal",
                                   f"The residual risk of {hz} is accepted", c.location)
                    self.case.support(g_val, gh)
                    self.develop(gh, f"an acceptance criterion on {hz} (`acceptance RATE per h|km|scenario "
                                     "confidence C % exposure \"key\" failures \"key\"`) and the validation exposure")
                    continue
                unit = {"h": "h", "km": "km", "scenario": "scenarios"}[t.unit]
                shown = f"{t.reported:.6g} {unit}" if t.reported is not None else "no exposure reported"
                passed = {"met": True, "not met": False, "not reported": False}.get(t.status)
                self.case.support(g_val, self.analysis(
                    f"Sn_ML_{cid}_validation_{safe_id(hz)}", f"analysis validation target of {hz}",
                    self.model.hazards[self.hazard_qname(hz)].location, passed,
                    f"{shown} with {t.failures or 0} failures vs {t.required:.6g} {unit} needed to show "
                    f"{t.rate:g} per {t.unit} at {t.confidence * 100:g} %"))
        return g

    def hazard_qname(self, name: str) -> str:
        return next(q for q, h in sorted(self.model.hazards.items()) if h.name == name)

    def paths_of_type(self, c: el.Component) -> set[str]:
        return {inst.path for s in self.model.systems() for inst in self.model.instances(s).walk()
                if inst.component.qualified_name == c.qualified_name}

    def requirements_allocated_to(self, c: el.Component) -> list[el.Requirement]:

        paths_of_type: set[str] = set()
        for s in self.model.systems():
            for inst in self.model.instances(s).walk():
                if inst.component.qualified_name == c.qualified_name:
                    paths_of_type.add(inst.path)
        allocations = links(self.model).allocations
        out = [req for q, req in sorted(self.model.requirements.items())
               if any(t == c.qualified_name or t in paths_of_type for t in allocations[q])]
        return sorted(out, key=lambda r: natural_key(r.name))

    # -- merging hand-written arguments -----------------------------------------------------------------------
    def attach_target(self, ref: el.NameRef, package: str) -> str | None:
        found = self.model.resolve(ref, ("hazard", "safety_goal", "requirement", "component"), package, "element")
        if isinstance(found, Diagnostic):
            return None
        return self.generated.get(f"{found[0]}:{found[1]}")

    def merge_arguments(self) -> None:
        case = self.case
        unified_args = {a.qualified_name: s for s, (a, _, _) in self.unified.items()}
        for _, arg in sorted(self.model.arguments.items()):
            system_q = unified_args.get(arg.qualified_name)
            home = self.model.components[system_q].name if system_q else arg.name
            if system_q is None:
                case.modules.setdefault(arg.name, Module(arg.name, arg.title or arg.name, "argument"))
            ids: dict[str, str] = {}  # node name in the argument -> id in the case
            for n in arg.nodes:
                if n.name in ids:
                    continue  # SOPS010, reported by sops check
                existing = case.nodes.get(n.name)
                if existing is not None and existing.origin == arg.qualified_name:
                    ids[n.name] = n.name  # the unified top goal / strategy, already placed
                    continue
                if existing is not None and n.kind == "away_goal":
                    new_id = f"{arg.name}.{n.name}"  # a reference to that goal: resolved by resolve_away_goals
                elif existing is not None:
                    where = f"argument '{existing.origin}'" if existing.origin else "the generated argument"
                    case.diagnostics.append(dg.make(
                        dg.GSN_DUPLICATE_ID,
                        f"GSN id '{n.name}' is already used by {where}; ids must be unique across the merged "
                        "safety case", n.location,
                        "rename the node (generated ids are G_/S_/C_/Sn_ followed by a model name)"))
                    new_id = f"{arg.name}.{n.name}"
                else:
                    new_id = n.name
                ids[n.name] = new_id
                evidence = []
                for ref in n.evidence:
                    q = self.resolve(ref, ("evidence",), arg.package)
                    if q is not None:
                        evidence.append(q)
                status: str | None = None
                detail = ""
                if n.kind == "solution":
                    if evidence:
                        found = [self.evidence_status(q) for q in evidence]
                        status = worst(s for s, _ in found)
                        detail = "; ".join(d for _, d in found if d)
                    else:
                        status, detail = UNKNOWN, "cites no evidence element of the model"
                case.nodes[new_id] = Node(
                    new_id, n.kind, n.text, "", n.location, origin=arg.qualified_name,
                    marked_undeveloped=n.undeveloped, evidence=tuple(evidence), fixed_status=status,
                    detail=detail, away_module=n.module if n.kind == "away_goal" else None)
            # links
            for n in arg.nodes:
                me = ids.get(n.name)
                if me is None or case.nodes[me].origin != arg.qualified_name:
                    continue
                for ref in n.supports:
                    if ref.text in ids:
                        case.support(ids[ref.text], me)
                for ref in n.context_for:
                    if ref.text in ids:
                        case.context(ids[ref.text], me)
                for ref in n.in_context_of:
                    if ref.text in ids:
                        case.context(me, ids[ref.text])
                for ref in n.attach_to:
                    target = self.attach_target(ref, arg.package)
                    if target is None:
                        case.diagnostics.append(dg.make(
                            dg.GSN_NO_ATTACH_POINT,
                            f"'{ref.text}' has no node in the generated safety case to attach '{n.name}' to",
                            ref.location,
                            "attach to a hazard, safety goal or requirement, a system or an ML component"))
                    elif n.kind in CONTEXTUAL:
                        case.context(target, me)
                    else:
                        case.support(target, me)
            self.place_argument(arg, ids, home)

    def place_argument(self, arg: el.Argument, ids: dict[str, str], home: str) -> None:
        """Module of each hand-written node: the module of the node it is attached to or supports, else the
        argument's own module (the system's main module for the argument that is the system's top)."""
        case = self.case
        mine = [ids[n.name] for n in arg.nodes if n.name in ids and case.nodes[ids[n.name]].origin == arg.qualified_name]
        parents = case.parents()
        owners = case.context_owners()
        changed = True
        while changed:
            changed = False
            for nid in mine:
                node = case.nodes[nid]
                if node.module:
                    continue
                for p in parents.get(nid, []) + owners.get(nid, []):
                    if case.nodes[p].module:
                        node.module = case.nodes[p].module
                        changed = True
                        break
        for nid in mine:
            if not case.nodes[nid].module:
                case.nodes[nid].module = home

    def unsplit(self) -> None:
        """Fold the hazard and ML modules back into their system's module (small systems read better whole)."""
        parents = self.case.parents()
        target_of: dict[str, str] = {}
        for name, mod in self.case.modules.items():
            if mod.kind not in ("hazard", "ml"):
                continue
            members = [n for n in self.case.nodes.values() if n.module == name]
            # the module's entry goal hangs under a strategy of the system module
            for m in members:
                for p in parents.get(m.id, []):
                    pm = self.case.nodes[p].module
                    if self.case.modules.get(pm) is not None and self.case.modules[pm].kind == "system":
                        target_of[name] = pm
                        break
                if name in target_of:
                    break
        for name, target in target_of.items():
            for n in self.case.nodes.values():
                if n.module == name:
                    n.module = target
            del self.case.modules[name]


def build_case(
    model: Model,
    statuses: Mapping[str, str] | None = None,
    probabilities: Mapping[str, tuple[float, float]] | None = None,
    split: str = "auto",
    details: Mapping[str, str] | None = None,
    sotif: SotifReport | None = None,
) -> Case:
    """The merged, validated, rolled-up safety case.

    `statuses`: evidence qualified name (or simple name) -> passed | failed | missing | stale | skipped, from
    CI; None when no results were given (every evidence solution is then `unknown`). `probabilities`: hazard
    name -> (top-event probability, mission time), computed with `hazard_probabilities` when None.
    `split`: auto | hazards | none (modules per hazard and ML component). `sotif`: the SOTIF results and the ODD
    coverage the AMLAS argument cites (computed without CI results when None).
    """
    if split not in ("auto", "hazards", "none"):
        raise ValueError(f"split must be auto, hazards or none, not {split!r}")
    if probabilities is None:
        probabilities = hazard_probabilities(model)
    if sotif is None:
        sotif = build_sotif(model, synthesise_all(model), None)
    builder = _Builder(model, statuses, details or {}, probabilities, sotif)
    case = builder.build(split)
    resolve_away_goals(case)
    mark_generated_undeveloped(case)
    case.diagnostics.extend(validate_case(case))
    roll_up(case)
    case.diagnostics = dg.sort_unique(case.diagnostics)
    return case


def mark_generated_undeveloped(case: Case) -> None:
    for n in case.nodes.values():
        if not n.origin and n.kind in ("goal", "strategy") and not case.children(n.id):
            n.marked_undeveloped = True


def resolve_away_goals(case: Case) -> None:
    """An away goal cites a goal of another module by its id. Where that module is part of this case (a
    generated module, or the argument the goal is written in) the away goal is a reference: links to it are
    redirected to the goal it cites. Where the module is outside the model, the away goal stays, in a stub
    module of that name (status unknown). Argument modules left empty by attach_to are dropped."""
    for nid in list(case.nodes):
        n = case.nodes[nid]
        if n.kind != "away_goal":
            continue
        if not n.away_module:
            case.diagnostics.append(dg.make(
                dg.GSN_AWAY_GOAL, f"away goal '{n.id}' names no module", n.location,
                "add `module NAME`: the module in which the goal is developed"))
            continue
        name = n.id.rpartition(".")[2]
        if n.away_module in case.modules and case.modules[n.away_module].kind != "external":
            target = case.nodes.get(name)
            if (target is None or target is n or target.kind != "goal"
                    or n.away_module not in (target.module, target.origin.rpartition(".")[2])):
                case.diagnostics.append(dg.make(
                    dg.GSN_AWAY_GOAL,
                    f"away goal '{name}' refers to module '{n.away_module}', which has no goal '{name}'",
                    n.location, "an away goal carries the id of the goal it cites in the other module"))
                continue
            _redirect(case, n.id, target.id)
        else:
            case.modules.setdefault(n.away_module, Module(n.away_module, "developed outside this model", "external"))
            n.module = n.away_module
    used = {n.module for n in case.nodes.values()}
    for name in [m for m, mod in case.modules.items() if mod.kind == "argument" and m not in used]:
        del case.modules[name]


def _redirect(case: Case, old: str, new: str) -> None:
    for parent, children in case.supported_by.items():
        case.supported_by[parent] = list(dict.fromkeys(new if c == old else c for c in children))
    if old in case.supported_by:
        moved = case.supported_by.pop(old)
        for c in moved:
            case.support(new, c)
    if old in case.in_context_of:
        for c in case.in_context_of.pop(old):
            case.context(new, c)
    del case.nodes[old]


# -- validation (GSN Community Standard v3) ---------------------------------------------------------------------


def validate_case(case: Case) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    nodes = case.nodes
    # relations
    for parent, children in case.supported_by.items():
        p = nodes[parent]
        for c in children:
            k = nodes[c].kind
            if k not in SUPPORTED_BY.get(p.kind, frozenset()):
                why = ("an away goal is developed in its own module" if p.kind == "away_goal"
                       else f"GSN does not let {_a(p.kind)} be supported by {_a(k)}")
                out.append(dg.make(dg.GSN_BAD_RELATION,
                                   f"'{parent}' ({p.kind}) is supported by '{c}' ({k}) in the merged safety case: "
                                   f"{why}", nodes[c].location if nodes[c].origin else p.location))
    for owner, ctxs in case.in_context_of.items():
        o = nodes[owner]
        for c in ctxs:
            k = nodes[c].kind
            if k not in IN_CONTEXT_OF.get(o.kind, frozenset()):
                out.append(dg.make(dg.GSN_BAD_RELATION,
                                   f"'{owner}' ({o.kind}) cannot be in the context of '{c}' ({k})",
                                   nodes[c].location))
    out.extend(_cycles(case))
    # roots per module, dangling elements
    parents = case.parents()
    owners = case.context_owners()
    for name, mod in sorted(case.modules.items()):
        if mod.kind == "external":
            continue
        members = case.module_nodes(name)
        entries = [n for n in members if n.kind not in CONTEXTUAL
                   and not any(nodes[p].module == name for p in parents.get(n.id, []))]
        root_goals = [n for n in entries if n.kind in GOALISH]
        if len(root_goals) == 1 and len(entries) == 1:
            mod.root = root_goals[0].id
            continue
        if all(n.kind in CONTEXTUAL for n in members):
            continue  # only loose context elements: SOPS097 says what is wrong
        if not root_goals:
            first = entries[0] if entries else members[0]
            out.append(dg.make(dg.GSN_MODULE_ROOTS, f"module '{name}' has no root goal", first.location,
                               "every module is headed by exactly one goal"))
        else:
            mod.root = root_goals[0].id
            extra = [n for n in entries if n is not root_goals[0]]
            for n in extra:
                what = f"a second root goal '{n.id}'" if n.kind in GOALISH else f"{_a(n.kind)} '{n.id}' that supports nothing"
                out.append(dg.make(
                    dg.GSN_MODULE_ROOTS,
                    f"module '{name}' has {what} besides its root '{root_goals[0].id}'", n.location,
                    "a module has exactly one root goal: link the element with `supports`, `attach_to` it to a "
                    "generated node, or move it into an argument of its own"))
    for n in nodes.values():
        if n.kind in CONTEXTUAL and n.id not in owners:
            out.append(dg.make(dg.GSN_DANGLING, f"{n.kind} '{n.id}' is the context of nothing", n.location,
                               "link it with `for GOAL` or from the goal with `in_context_of`"))
        if n.origin and n.kind in ("goal", "strategy"):
            supported = bool(case.children(n.id))
            if not supported and not n.marked_undeveloped:
                out.append(dg.make(
                    dg.GSN_NOT_DEVELOPED, f"{n.kind} '{n.id}' is neither supported nor marked undeveloped",
                    n.location, "support it (a sub-goal, strategy or solution `supports` it) or write `undeveloped`"))
            elif supported and n.marked_undeveloped:
                out.append(dg.make(
                    dg.GSN_UNDEVELOPED_SUPPORTED, f"{n.kind} '{n.id}' is marked undeveloped but is supported by "
                    + ", ".join(f"'{c}'" for c in case.children(n.id)), n.location,
                    "remove `undeveloped`, or the links that support it"))
    return out


def _a(kind: str) -> str:
    word = kind.replace("_", " ")
    return ("an " if word[0] in "aeiou" else "a ") + word


def _cycles(case: Case) -> Iterator[Diagnostic]:
    state: dict[str, int] = {}
    reported = False
    for start in case.nodes:
        if start in state or reported:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(case.children(start)))]
        path = [start]
        state[start] = 1
        while stack and not reported:
            node, it = stack[-1]
            child = next(it, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(child) == 1:
                cycle = path[path.index(child):] + [child]
                reported = True
                n = case.nodes[child]
                yield dg.make(dg.GSN_CYCLE, "supported-by cycle in the merged safety case: " + " -> ".join(cycle),
                              n.location, "an `attach_to` or `supports` link closes the loop: remove one")
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(case.children(child))))


# -- status roll-up ----------------------------------------------------------------------------------------------


def roll_up(case: Case) -> None:
    """Solutions keep their own status. A goal or strategy with no support is `undeveloped`; otherwise it takes
    the worst status of what supports it (failed > stale > missing > skipped > undeveloped > unknown > passed).
    An away goal to a module outside the model is `unknown`; context elements are `unknown` (not argued)."""
    done: dict[str, str] = {}
    visiting: set[str] = set()

    def status(nid: str) -> str:
        if nid in done:
            return done[nid]
        n = case.nodes[nid]
        if nid in visiting:  # a cycle (reported by validation): no support can be claimed through it
            return UNDEVELOPED
        visiting.add(nid)
        if n.kind == "solution":
            s = n.fixed_status or UNKNOWN
        elif n.kind in CONTEXTUAL:
            s = UNKNOWN
        elif n.kind == "away_goal":
            s = worst(status(c) for c in case.children(nid)) if case.children(nid) else UNKNOWN
        else:
            kids = case.children(nid)
            s = worst(status(c) for c in kids) if kids else UNDEVELOPED
        visiting.discard(nid)
        done[nid] = s
        return s

    for nid in case.nodes:
        case.nodes[nid].status = status(nid)


def status_counts(case: Case) -> dict[str, int]:
    counts = {s: 0 for s in SOLUTION_STATUSES}
    for n in case.nodes.values():
        if n.kind == "solution":
            counts[n.status] = counts.get(n.status, 0) + 1
    return counts


def gate_diagnostics(case: Case) -> list[Diagnostic]:
    """SOPS099 for every top goal that is not fully supported (passed), naming the first gaps below it."""
    out = []
    for t in case.tops:
        top = case.nodes[t]
        if top.status == PASSED:
            continue
        gaps = _gaps(case, t)
        shown = ", ".join(f"{g} {case.nodes[g].status}" for g in gaps[:5]) + (f" (+{len(gaps) - 5} more)"
                                                                            if len(gaps) > 5 else "")
        out.append(dg.make(dg.GSN_TOP_NOT_SUPPORTED,
                           f"top goal '{t}' is {top.status}, not fully supported" + (f": {shown}" if shown else ""),
                           top.location,
                           ("fix or rerun what failed, refresh stale pins, develop what is undeveloped"
                            if case.results_given else
                            "pass CI results with --results; develop what is undeveloped")))
    return out


def _gaps(case: Case, start: str) -> list[str]:
    """Leaves below `start` that are not passed: solutions, undeveloped goals and strategies, away goals."""
    seen: set[str] = set()
    out: list[str] = []
    stack = [start]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        kids = case.children(n)
        if not kids and case.nodes[n].status != PASSED:
            out.append(n)
        stack.extend(reversed(kids))
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    return sorted(out, key=lambda x: (order[case.nodes[x].status], natural_key(x)))
