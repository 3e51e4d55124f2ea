"""The release gate: the checks a release needs, from one pipeline run, in a fixed order.

A failing item fails the gate; `skip` does not. `sops gate`, `sops build` (its gate page and gate.json) and
`sops diff` (gate items whose result changed) all read these items.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from safetyops_dsl import diagnostics as dg
from safetyops_dsl import schemas
from safetyops_dsl.analysis import gsn, sotif
from safetyops_dsl.analysis.fmeda import Status
from safetyops_dsl.analysis.injection import Verdict
from safetyops_dsl.analysis.odd_coverage import EMPTY, THIN
from safetyops_dsl.analysis.pipeline import Results
from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.model.index import DEFAULT_STANDARD
from safetyops_dsl.model.profiles import profile
from safetyops_dsl.validation.policy import blocking_errors

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(frozen=True)
class GateItem:
    check: str  # model check | CI results | coverage policy | FMEDA | fault injection | goal target | GSN
    subject: str
    status: str  # pass | fail | skip
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "subject": self.subject, "status": self.status, "detail": self.detail}

    @property
    def key(self) -> str:
        return f"{self.check}: {self.subject}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.2f} %"


def _fit(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 1e9:.4g} FIT"


def gate_items(r: Results, check_diagnostics: Sequence[Diagnostic], file_count: int,
               policy_file_ok: bool = True) -> list[GateItem]:
    """`check_diagnostics`/`file_count`: the model check's; `policy_file_ok`: False where a policy file given
    beside the model is invalid."""
    items: list[GateItem] = []
    errors, warnings = dg.count(list(check_diagnostics))
    blocking = blocking_errors(check_diagnostics)
    items.append(GateItem("model check", f"{file_count} file{'s' if file_count != 1 else ''}",
                          FAIL if blocking else PASS, f"{errors} errors, {warnings} warnings"))
    if r.options.results:
        bad = [d for d in r.diagnostics if d.level is dg.Severity.ERROR and d.code in ("SOPS110", "SOPS202")]
        items.append(GateItem("CI results", f"{len(r.trace.evidence)} evidence", PASS if r.results_ok else FAIL,
                              "readable" if r.results_ok else f"{len(bad)} unreadable or invalid result file(s)"))
    if not (r.policy_ok and policy_file_ok):
        items.append(GateItem("coverage policy", "policy", FAIL, "the policy is invalid (see diagnostics)"))
    for rule in r.coverage.rules:
        if not rule.required:
            status, detail = SKIP, f"waived: {rule.reason}"
        elif not rule.evaluated:
            status = PASS if rule.ok else FAIL
            detail = f"{rule.satisfied}/{rule.total}" + (f" ({rule.note})" if rule.note else "")
        else:
            status, detail = PASS if rule.ok else FAIL, f"{rule.satisfied}/{rule.total}"
        items.append(GateItem("coverage policy", rule.rule, status, detail))
    standard_of = {goal.name: r.model.standard(goal.package) for goal in r.model.goals.values()}
    for g in r.fmeda.goals:
        std = standard_of.get(g.goal, DEFAULT_STANDARD)
        if std != DEFAULT_STANDARD:
            items.append(GateItem("FMEDA", g.goal, SKIP, f"{profile(std).title}: the ISO 26262 hardware metrics do "
                                  "not apply"))
            continue
        if all(m.status is Status.NA for m in g.metrics):
            items.append(GateItem("FMEDA", g.goal, SKIP, f"ASIL {g.asil or '-'}: no hardware targets"))
            continue
        parts = []
        for m in g.metrics:
            shown = _fit(m.value) if m.name == "PMHF" else _pct(m.value)
            target = _fit(m.target) if m.name == "PMHF" else _pct(m.target)
            mark = "" if m.status is not Status.FAIL else " FAIL"
            parts.append(f"{m.name} {shown} ({m.comparison} {target}){mark}")
        items.append(GateItem("FMEDA", g.goal, PASS if g.passed else FAIL, f"ASIL {g.asil}: " + "; ".join(parts)))
    items += injection_items(r)
    for c in r.goal_checks:
        if c.missing:
            detail = "no fault tree for " + ", ".join(c.missing)
        else:
            detail = f"{c.achieved_per_hour:.3g} /h vs target {c.target_per_hour:.3g} /h"
        items.append(GateItem("goal target", c.goal, PASS if c.passed else FAIL, detail))
    items += profile_items(r)
    for refused in r.odd_coverage.refused:
        items.append(GateItem("ODD coverage", f"{refused.role} {refused.identity}", FAIL, refused.reason))
    for cov in r.odd_coverage.datasets:
        empty = sum(1 for c in cov.cells if c.status == EMPTY)
        thin = sum(1 for c in cov.cells if c.status == THIN)
        items.append(GateItem("ODD coverage", f"{cov.role} {cov.identity}", FAIL if empty else PASS,
                              f"{len(cov.cells)} ODD cells, {cov.total} samples: {empty} empty, {thin} thin"
                              + (f" (< {cov.min_samples})" if thin else "")))
    for vt in r.sotif.targets:
        verdict = {sotif.MET: PASS, sotif.NOT_MET: FAIL, sotif.NOT_REPORTED: FAIL, sotif.NOT_RUN: SKIP}[vt.status]
        shown = f"{vt.reported:.6g}" if vt.reported is not None else "no exposure reported"
        items.append(GateItem("SOTIF validation", vt.hazard, verdict,
                              f"{shown} vs {vt.required:.6g} {sotif.UNIT_TEXT[vt.unit]} needed for {vt.rate:g} per "
                              f"{vt.unit} at {vt.confidence * 100:g} % ({vt.failures or 0} failures)"))
    if r.case is None:
        items.append(GateItem("GSN", "top goal", SKIP, "not built"))
    else:
        why = {d.location: d.message for d in gsn.gate_diagnostics(r.case)}
        for t in r.case.tops:
            node = r.case.nodes[t]
            detail = why.get(node.location, f"top goal '{t}' is {node.status}")
            if node.status != gsn.PASSED and r.ci is None:
                detail += " (no --results given: test and metric evidence is unknown)"
            items.append(GateItem("GSN", t, PASS if node.status == gsn.PASSED else FAIL, detail))
        if not r.case.tops:
            items.append(GateItem("GSN", "top goal", FAIL, "the case has no top goal"))
    return items


def injection_items(r: Results) -> list[GateItem]:
    """The mechanisms ASIL B+ goals rely on, measured by fault injection (policy rule `injection_coverage`).
    Without campaign results the rule is enforced only where a policy states `require injection_coverage`."""
    check = "fault injection"
    relied = sorted({c.mechanism for c in r.campaign.cases if c.relied_on})
    setting = r.policy.settings["injection_coverage"]
    if not relied:
        return []
    if not setting.required:
        return [GateItem(check, "mechanisms", SKIP, f"waived: {setting.reason}")]
    report = r.injection
    if report is None:
        if setting.origin == "default":
            return [GateItem(check, "mechanisms", SKIP,
                             f"no campaign results for {len(relied)} mechanisms ASIL B+ goals rely on "
                             "(--campaign-results; `require injection_coverage` makes them mandatory)")]
        return [GateItem(check, m, FAIL, "no campaign results (required by the policy)") for m in relied]
    items = []
    if not report.ok:
        bad = sum(1 for d in report.diagnostics if d.level is dg.Severity.ERROR)
        items.append(GateItem(check, "results", FAIL, f"{bad} error(s) in the fault-injection results "
                              "(see diagnostics)"))
    for m in report.measurements:
        if m.mechanism not in relied:
            continue
        items.append(GateItem(check, m.mechanism, PASS if m.verdict is Verdict.SUPPORTED else FAIL,
                              m.text().partition(": ")[2]))
    return items


def profile_items(r: Results) -> list[GateItem]:
    """The standards' own checks: SIL verification (architecture, systematic capability; the achieved
    PFDavg / PFH where computed), ARP4761A objectives and the single-failure rule, ISO 14971 residual risk."""
    if r.profile is None:
        return []
    items: list[GateItem] = []
    for s in r.profile.sil:
        required = {0: "no SIL", 5: "beyond SIL 4"}.get(s.required_sil or 0, f"SIL {s.required_sil}")
        if s.required_sil is None:
            required = "no SIL"
        if s.verdict == "fail" or (s.verdict == "incomplete" and s.problems):
            status, detail = FAIL, f"{required}: " + "; ".join(s.problems)
        else:
            status, detail = PASS, (f"{required}: architecture allows SIL {s.architectural_sil}, SC {s.systematic_capability}")
        if s.risk_graph:
            detail += " (risk graph " + "; ".join(s.risk_graph) + ")"
        items.append(GateItem("SIL architecture", s.function, status, detail))
        if s.required_sil is not None and 1 <= s.required_sil <= 4:
            if s.achieved is None:
                items.append(GateItem("SIL target", s.function, SKIP,
                                      f"{s.target_band}: achieved PFDavg / PFH not computed"))
            else:
                miss = any(p.startswith("achieved") for p in s.problems)
                items.append(GateItem("SIL target", s.function, FAIL if miss else PASS,
                                      f"{s.achieved_text} vs {s.target_band}"))
    for f in r.profile.fha:
        if f.verdict == "no tree":
            items.append(GateItem("failure condition", f.condition, FAIL if f.objective_per_fh else SKIP,
                                  f"{f.classification}: no fault tree"))
            continue
        shown = f"{f.achieved_per_fh:.3g} /FH" if f.achieved_per_fh is not None else "-"
        target = f" vs {f.objective_per_fh:.0e} /FH" if f.objective_per_fh is not None else " (no objective)"
        detail = f"{f.classification}, FDAL {f.fdal}: {shown}{target}"
        if f.problems:
            detail += "; " + "; ".join(f.problems)
        items.append(GateItem("failure condition", f.condition, FAIL if f.verdict == "fail" else PASS, detail))
    for d in r.profile.dal:
        detail = (f"{d.kind} {d.level} in {d.ffs} (top FDAL {d.top_level}"
                  + (f", {d.option}" if d.option else "") + f"; own effect {d.own_level})")
        if d.problems:
            detail += ": " + "; ".join(d.problems)
        items.append(GateItem("FDAL/IDAL assignment", d.member, FAIL if d.verdict == "fail" else PASS, detail))
    for k in r.profile.risk:
        detail = f"residual {k.residual_severity} / {k.residual_probability}: {k.residual_zone or 'not in the matrix'}"
        if k.verdict == "justify":
            detail += " (reduce as far as possible; benefit-risk analysis)"
        items.append(GateItem("residual risk", k.hazard, FAIL if k.verdict == "fail" else PASS, detail))
    return items


def gate_passed(items: Sequence[GateItem]) -> bool:
    return all(i.status != FAIL for i in items)


def gate_json(items: Sequence[GateItem]) -> str:
    doc = {"schema": schemas.tag("sops-gate"), "passed": gate_passed(items), "checks": [i.as_dict() for i in items]}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def gate_text(items: Sequence[GateItem]) -> str:
    rows = [("check", "subject", "result", "detail")] + [
        (i.check, i.subject, i.status.upper(), i.detail) for i in items
    ]
    widths = [max(len(r[k]) for r in rows) for k in range(3)]
    lines = []
    for j, row in enumerate(rows):
        lines.append("  ".join([row[k].ljust(widths[k]) for k in range(3)] + [row[3]]).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 6)
    failed = sum(1 for i in items if i.status == FAIL)
    lines.append("")
    lines.append("gate: passed" if not failed else f"gate: FAILED ({failed} of {len(items)} checks)")
    return "\n".join(lines) + "\n"
