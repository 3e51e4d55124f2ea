"""The coverage policy: which trace links a model must have, checked on the trace graph.

Every rule is on by default; together the defaults are what an ISO 26262 assessor expects to see:

    hazard_goal             every hazard (ASIL A..D; QM hazards are exempt) is mitigated by a safety goal
    goal_requirement        every safety goal is refined by at least one requirement
    requirement_allocation  every requirement is allocated to a component or part
    requirement_evidence    every requirement is verified by at least one evidence element
    evidence_passing        every requirement's evidence passes and none is stale (test and metric results
                            are judged only when CI results are supplied; staleness always)
    ml_metric_evidence      every metric threshold of an ML component is measured by metric evidence

A `policy` block (in the model or a separate policy file) turns rules off with a recorded reason, or states
that a rule is required:

    policy {
        waive requirement_evidence "prototype phase: verification plan due at milestone B"
        require evidence_passing
    }

A policy file overrides the model's blocks rule by rule. A waiver needs a reason (SOPS111); one source that
both requires and waives a rule is contradictory (SOPS112). Violations of required rules are diagnostics
SOPS100..SOPS105 at the element's location; violations of waived rules are counted, not reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.analysis import evidence as evmod
from safetyops_dsl.analysis.trace import TraceGraph, node_id, split_id
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.model import elements as el
from safetyops_dsl.validation.policy import Policy

RULE_TITLES = {
    "hazard_goal": "every hazard has a safety goal",
    "goal_requirement": "every safety goal has requirements",
    "requirement_allocation": "every requirement is allocated",
    "requirement_evidence": "every requirement has evidence",
    "evidence_passing": "every requirement's evidence passes and is current",
    "ml_metric_evidence": "every ML metric threshold has metric evidence",
}
RULE_CODES = {
    "hazard_goal": dg.POLICY_HAZARD_GOAL,
    "goal_requirement": dg.POLICY_GOAL_REQUIREMENT,
    "requirement_allocation": dg.POLICY_REQUIREMENT_ALLOCATION,
    "requirement_evidence": dg.POLICY_REQUIREMENT_EVIDENCE,
    "evidence_passing": dg.POLICY_EVIDENCE_PASSING,
    "ml_metric_evidence": dg.POLICY_ML_METRIC_EVIDENCE,
}


@dataclass(frozen=True)
class RuleResult:
    rule: str
    title: str
    required: bool
    reason: str
    origin: str
    satisfied: int
    total: int
    evaluated: bool  # False: evidence_passing without CI results judges only staleness and documents
    violations: tuple[Diagnostic, ...]  # all violations, reported or not (waived)
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.satisfied == self.total


@dataclass
class Coverage:
    rules: list[RuleResult]
    policy: Policy
    diagnostics: list[Diagnostic] = field(default_factory=list)  # violations of required rules + policy problems

    @property
    def violations(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.code in RULE_CODES.values()]

    def rule(self, name: str) -> RuleResult:
        return next(r for r in self.rules if r.rule == name)

    def summary(self) -> dict[str, tuple[int, int]]:
        return {r.rule: (r.satisfied, r.total) for r in self.rules}


def _loc(tg: TraceGraph, nid: str) -> Location:
    kind, key = split_id(nid)
    stores: dict[str, dict[str, Any]] = {
        "hazard": tg.model.hazards, "safety_goal": tg.model.goals, "requirement": tg.model.requirements,
        "evidence": tg.model.evidence, "component": tg.model.components,
    }
    element = stores.get(kind, {}).get(key)
    if element is not None:
        loc: Location = element.location
        return loc
    return Location(str(tg.graph.nodes[nid]["file"]), int(tg.graph.nodes[nid]["line"]))


def evaluate(tg: TraceGraph, policy: Policy) -> Coverage:
    model = tg.model
    results: list[RuleResult] = []

    def rule(name: str, total: int, violations: list[Diagnostic], evaluated: bool = True, note: str = "") -> None:
        s = policy.settings[name]
        results.append(
            RuleResult(name, RULE_TITLES[name], s.required, s.reason, s.origin, total - len(violations), total,
                       evaluated, tuple(violations), note)
        )

    def make(name: str, nid: str, message: str, hint: str = "") -> Diagnostic:
        return dg.make(RULE_CODES[name], message, _loc(tg, nid), hint)

    # hazard_goal
    hazards = [h for h in tg.nodes_of("hazard") if tg.graph.nodes[h].get("asil") != "QM"]
    v = [make("hazard_goal", h, f"hazard '{tg.name(h)}' is mitigated by no safety goal",
              f'add `safety_goal SGx "..." mitigates {tg.name(h)}`')
         for h in hazards if not tg.out(h, "mitigated_by")]
    qm = len(tg.nodes_of("hazard")) - len(hazards)
    rule("hazard_goal", len(hazards), v, note=f"{qm} QM hazard{'s' if qm != 1 else ''} exempt" if qm else "")

    goals = tg.nodes_of("safety_goal")
    v = [make("goal_requirement", g, f"safety goal '{tg.name(g)}' is refined by no requirement",
              f'add `requirement FSRx "..." refines {tg.name(g)}`')
         for g in goals if not tg.out(g, "refined_by", "requirement")]
    rule("goal_requirement", len(goals), v)

    reqs = tg.nodes_of("requirement")
    v = [make("requirement_allocation", r, f"requirement '{tg.name(r)}' is allocated to nothing",
              "add `allocated_to <component or part>`")
         for r in reqs if not tg.out(r, "allocated_to")]
    rule("requirement_allocation", len(reqs), v)

    v = [make("requirement_evidence", r, f"requirement '{tg.name(r)}' is verified by no evidence",
              f"add `evidence NAME test \"<test id>\" verifies {tg.name(r)}`")
         for r in reqs if not tg.evidence_of(r)]
    rule("requirement_evidence", len(reqs), v)

    # evidence_passing: only requirements that have evidence are judged here (no evidence: the rule above)
    with_evidence = [r for r in reqs if tg.evidence_of(r)]
    v = []
    for r in with_evidence:
        problems = []
        for e in tg.evidence_of(r):
            st = tg.evidence.get(split_id(e)[1])
            if st is None:
                continue
            if st.stale:
                problems.append(f"{tg.name(e)} stale")
            if st.status in (evmod.FAILED, evmod.MISSING, evmod.SKIPPED):
                problems.append(f"{tg.name(e)} {st.status}")
        if problems:
            v.append(make("evidence_passing", r, f"requirement '{tg.name(r)}' is not verified: " + ", ".join(problems)))
    note = "" if tg.results_given else "no CI results supplied: test and metric evidence not judged, staleness only"
    rule("evidence_passing", len(with_evidence), v, evaluated=tg.results_given, note=note)

    # ml_metric_evidence
    metric_pairs: list[tuple[str, el.Metric]] = []
    for q, comp in sorted(model.components.items()):
        if comp.kind is el.ComponentKind.ML_COMPONENT and comp.ml is not None:
            metric_pairs.extend((q, m) for m in comp.ml.metrics)
    v = []
    for q, m in metric_pairs:
        if not tg.out(node_id("metric", m.result_key), "measured_by"):
            v.append(dg.make(
                dg.POLICY_ML_METRIC_EVIDENCE,
                f"metric '{m.result_key}' of '{q.rpartition('.')[2]}' is measured by no metric evidence",
                m.location,
                f'add `evidence NAME metric "{m.result_key}" verifies <requirement>`',
            ))
    rule("ml_metric_evidence", len(metric_pairs), v)

    reported = [d for r in results if r.required for d in r.violations]
    return Coverage(results, policy, dg.sort_unique(list(policy.diagnostics) + reported))
