"""The trace graph: every safety element and link of a model in one directed graph (networkx).

Nodes are `kind:key` strings; keys are qualified names for model elements and instance paths for what
exists per instance (parts, failure modes as basic events, mechanisms):

    hazard:aeb.H1   safety_goal:aeb.SG1   requirement:aeb.FSR1   evidence:aeb.TST_WD   component:aeb.Radar
    part:AEB.radars.main   failure_mode:AEB.radars.main.NoEcho   mechanism:AEB.ecu.Watchdog
    metric:recall.night_pedestrian

Edges point down the safety chain and carry `rel`:

    hazard -mitigated_by-> safety_goal -refined_by-> requirement -refined_by-> requirement
    requirement -allocated_to-> component | part          component -instantiated_as-> part
    part -contains-> part   part -has_failure-> failure_mode   part -has_mechanism-> mechanism
    mechanism -covers-> failure_mode   component -has_metric-> metric   metric -measured_by-> evidence
    requirement | safety_goal -verified_by-> evidence      any -supported_by-> evidence
    hazard -cut_set_member-> failure_mode   (fault-tree membership: the mode is in a minimal cut set)

Node attributes: kind, key, name (short, for tables), title, file (model-root relative), line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

from safetyops_dsl.analysis import evidence as evmod
from safetyops_dsl.analysis.evidence import EvidenceStatus, Results
from safetyops_dsl.analysis.synthesis import SynthesisResult, synthesise_all
from safetyops_dsl.diagnostics import Diagnostic, DiagnosticError, Location
from safetyops_dsl.fta.ccf import event_members
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.result import AnalysisOptions, FtaResult
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.links import links
from safetyops_dsl.model.semantics import derived_asil, goal_asil

KIND_ORDER = (
    "hazard", "safety_goal", "requirement", "component", "part", "mechanism", "failure_mode", "metric", "evidence"
)
KIND_TITLES = {
    "hazard": "hazard", "safety_goal": "safety goal", "requirement": "requirement", "component": "component",
    "part": "part", "mechanism": "mechanism", "failure_mode": "failure mode", "metric": "ML metric",
    "evidence": "evidence",
}
CUT_SET_LIMIT = 5000  # above this many minimal cut sets, membership falls back to "reachable in the tree"


def node_id(kind: str, key: str) -> str:
    return f"{kind}:{key}"


def split_id(nid: str) -> tuple[str, str]:
    kind, _, key = nid.partition(":")
    return kind, key


@dataclass(frozen=True)
class HazardTree:
    hazard: str  # qualified name
    synthesis: SynthesisResult
    result: FtaResult | None  # None when the analysis hit a resource limit
    members: frozenset[str]  # basic-event names in some minimal cut set
    members_exact: bool  # False: the cut sets were too many, members are all events reachable in the tree


@dataclass
class TraceGraph:
    model: Model
    graph: nx.DiGraph
    trees: dict[str, HazardTree] = field(default_factory=dict)  # hazard qualified name -> tree
    evidence: dict[str, EvidenceStatus] = field(default_factory=dict)
    results_given: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)

    # -- queries ------------------------------------------------------------------------------------------------
    def nodes_of(self, kind: str) -> list[str]:
        return sorted(n for n, d in self.graph.nodes(data=True) if d["kind"] == kind)

    def out(self, nid: str, rel: str, kind: str | None = None) -> list[str]:
        return sorted(
            v for _, v, r in self.graph.out_edges(nid, data="rel")
            if r == rel and (kind is None or self.graph.nodes[v]["kind"] == kind)
        )

    def into(self, nid: str, rel: str, kind: str | None = None) -> list[str]:
        return sorted(
            u for u, _, r in self.graph.in_edges(nid, data="rel")
            if r == rel and (kind is None or self.graph.nodes[u]["kind"] == kind)
        )

    def name(self, nid: str) -> str:
        return str(self.graph.nodes[nid]["name"]) if nid in self.graph else split_id(nid)[1]

    def goals_of_requirement(self, req: str) -> list[str]:
        """The safety goals a requirement refines, directly or through higher-level requirements."""
        seen: set[str] = set()
        goals: set[str] = set()
        stack = [req]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            for parent in self.into(n, "refined_by"):
                if self.graph.nodes[parent]["kind"] == "safety_goal":
                    goals.add(parent)
                else:
                    stack.append(parent)
        return sorted(goals)

    def hazards_of_requirement(self, req: str) -> list[str]:
        return sorted({h for g in self.goals_of_requirement(req) for h in self.into(g, "mitigated_by")})

    def failure_modes_under(self, nid: str) -> list[str]:
        """Failure modes (basic events) of an allocation target: a part and everything inside it, or every
        instance of a component type."""
        parts: list[str] = []
        if self.graph.nodes[nid]["kind"] == "component":
            parts = self.out(nid, "instantiated_as")
        elif self.graph.nodes[nid]["kind"] == "part":
            parts = [nid]
        found: set[str] = set()
        stack = list(parts)
        seen: set[str] = set()
        while stack:
            p = stack.pop()
            if p in seen:
                continue
            seen.add(p)
            found.update(self.out(p, "has_failure"))
            stack.extend(self.out(p, "contains"))
        return sorted(found)

    def requirement_failure_modes(self, req: str) -> list[str]:
        """Failure modes under the requirement's allocation that appear in the cut sets of its hazards."""
        members: set[str] = set()
        for h in self.hazards_of_requirement(req):
            members.update(self.out(h, "cut_set_member"))
        under: set[str] = set()
        for target in self.out(req, "allocated_to"):
            under.update(self.failure_modes_under(target))
        return sorted(under & members)

    def evidence_of(self, nid: str) -> list[str]:
        return self.out(nid, "verified_by")

    def requirement_status(self, req: str) -> str:
        """verified | failed | stale | incomplete | not_run | no_evidence (see docs/trace-and-impact.md)."""
        evs = [self.evidence[split_id(e)[1]] for e in self.evidence_of(req) if split_id(e)[1] in self.evidence]
        return rollup(evs)


def rollup(evs: list[EvidenceStatus]) -> str:
    if not evs:
        return "no_evidence"
    if any(e.status == evmod.FAILED for e in evs):
        return "failed"
    if any(e.stale for e in evs):
        return "stale"
    if any(e.status in (evmod.MISSING, evmod.SKIPPED) for e in evs):
        return "incomplete"
    if any(e.status == evmod.NOT_RUN for e in evs):
        return "not_run"
    return "verified"


# -- building ---------------------------------------------------------------------------------------------------


def _loc(model: Model, loc: Location) -> tuple[str, int]:
    return model.rel_path(loc.file), loc.line


def build_trace(
    model: Model,
    results: Results | None = None,
    *,
    analyse_trees: bool = True,
    syntheses: list[SynthesisResult] | None = None,  # the model's trees, where the caller has them already
    check_stale: bool = True,
    use_git: bool = True,
) -> TraceGraph:
    g: nx.DiGraph = nx.DiGraph()
    tg = TraceGraph(model, g, results_given=results is not None)

    def add(kind: str, key: str, name: str, title: str, loc: Location | None, **extra: object) -> str:
        nid = node_id(kind, key)
        file, line = _loc(model, loc) if loc is not None else ("", 0)
        g.add_node(nid, kind=kind, key=key, name=name, title=title, file=file, line=line, **extra)
        return nid

    def link(u: str, v: str, rel: str) -> None:
        if u in g and v in g:
            g.add_edge(u, v, rel=rel)


    for q, hz in sorted(model.hazards.items()):
        add("hazard", q, hz.name, hz.title, hz.location, asil=derived_asil(hz) or "")
    for q, goal in sorted(model.goals.items()):
        add("safety_goal", q, goal.name, goal.title, goal.location, asil=goal_asil(model, goal) or "")
    for q, req in sorted(model.requirements.items()):
        add("requirement", q, req.name, req.title, req.location, asil=str(req.asil) if req.asil else "")
    for q, ev in sorted(model.evidence.items()):
        add("evidence", q, ev.name, ev.source, ev.location, evidence_kind=ev.kind)
    for q, comp in sorted(model.components.items()):
        add("component", q, comp.name, comp.description, comp.location, component_kind=comp.kind.value)
        if comp.ml is not None:
            for m in comp.ml.metrics:
                mid = node_id("metric", m.result_key)
                if mid not in g:
                    add("metric", m.result_key, m.result_key, f"{m.result_key} {m.op} {m.threshold:g}", m.location)
                link(node_id("component", q), mid, "has_metric")

    # instances: parts, their failure modes and mechanisms
    for system in model.systems():
        root = model.instances(system)
        for inst in root.walk():
            comp = inst.component
            pid = add("part", inst.path, inst.path, comp.description or comp.name,
                      inst.part.location if inst.part is not None else comp.location,
                      component=comp.qualified_name)
            link(node_id("component", comp.qualified_name), pid, "instantiated_as")
            if inst.parent is not None:
                link(node_id("part", inst.parent.path), pid, "contains")
            for fm in comp.failure_modes:
                fid = add("failure_mode", f"{inst.path}.{fm.name}", f"{inst.path}.{fm.name}",
                          fm.description or fm.name, fm.location, quantity=fm.quantity_text)
                link(pid, fid, "has_failure")
            for mech in comp.mechanisms:
                mid = add("mechanism", f"{inst.path}.{mech.name}", f"{inst.path}.{mech.name}",
                          mech.description or mech.name, mech.location, coverage=mech.coverage)
                link(pid, mid, "has_mechanism")
                for ref in mech.covers:
                    link(mid, node_id("failure_mode", f"{inst.path}.{ref.text}"), "covers")

    # the safety chain (references resolved once: model/links.py)
    linked = links(model)
    for q in sorted(model.goals):
        for hq in linked.hazards_of_goal[q]:
            link(node_id("hazard", hq), node_id("safety_goal", q), "mitigated_by")
    for q in sorted(model.requirements):
        for kind, parent in linked.parents_of_requirement[q]:
            link(node_id(kind, parent), node_id("requirement", q), "refined_by")
        for target in linked.allocations[q]:
            kind = "component" if target in model.components else "part"
            link(node_id("requirement", q), node_id(kind, target), "allocated_to")
    for q, ev in sorted(model.evidence.items()):
        eid = node_id("evidence", q)
        for kind, target in linked.verifies[q]:
            link(node_id(kind, target), eid, "verified_by")
        for kind, target in linked.supports[q]:
            if kind == "mechanism":  # a mechanism of a component type: the trace shows it at the type
                kind, target = "component", target.rpartition(".")[0]
            link(node_id(kind, target), eid, "supported_by")
        if ev.kind == "metric":
            link(node_id("metric", ev.source), eid, "measured_by")

    # fault-tree membership
    if analyse_trees:
        for syn in syntheses if syntheses is not None else synthesise_all(model):
            qh = syn.hazard.qualified_name
            ht = analyse_hazard(syn)
            tg.trees[qh] = ht
            for event in sorted(ht.members):
                link(node_id("hazard", qh), node_id("failure_mode", event), "cut_set_member")

    tg.evidence, diags = evmod.evaluate_evidence(model, results, use_git=use_git, check_stale=check_stale)
    tg.diagnostics.extend(diags)
    return tg


def analyse_hazard(syn: SynthesisResult) -> HazardTree:

    tree = syn.tree
    try:
        result = analyse(tree, AnalysisOptions(cut_set_limit=CUT_SET_LIMIT, importance=False))
    except DiagnosticError:
        result = None
    # members are failure modes: a common-cause event stands for the failure modes of its group it hits
    if result is not None and not result.cut_sets_truncated:
        members = frozenset(m for cs in result.cut_sets for e in cs for m in event_members(e))
        return HazardTree(syn.hazard.qualified_name, syn, result, members, True)
    reachable = frozenset(m for n in tree.reachable() if n in tree.basic_events for m in event_members(n))
    return HazardTree(syn.hazard.qualified_name, syn, result, reachable, False)


def reachable_from(tg: TraceGraph, seeds: Iterable[str]) -> set[str]:
    """Every node reachable from `seeds` along the edges (downstream in the safety chain)."""
    out: set[str] = set()
    for s in seeds:
        if s in tg.graph:
            out |= nx.descendants(tg.graph, s)
    return out
