"""The release gate: the checks a release needs, from one pipeline run, in a fixed order.

A failing item fails the gate; `skip` does not. `sops gate`, `sops build` (its gate page and gate.json) and
`sops diff` (gate items whose result changed) all read these items.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.analysis import gsn
from safetyops_dsl.analysis.fmeda import Status
from safetyops_dsl.analysis.pipeline import Results
from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.validation.policy import blocking_errors

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(frozen=True)
class GateItem:
    check: str  # model check | CI results | coverage policy | FMEDA | goal target | GSN
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
    for g in r.fmeda.goals:
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
    for c in r.goal_checks:
        if c.missing:
            detail = "no fault tree for " + ", ".join(c.missing)
        else:
            detail = f"{c.achieved_per_hour:.3g} /h vs target {c.target_per_hour:.3g} /h"
        items.append(GateItem("goal target", c.goal, PASS if c.passed else FAIL, detail))
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


def gate_passed(items: Sequence[GateItem]) -> bool:
    return all(i.status != FAIL for i in items)


def gate_json(items: Sequence[GateItem]) -> str:
    doc = {"schema": "sops-gate/1", "passed": gate_passed(items), "checks": [i.as_dict() for i in items]}
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
