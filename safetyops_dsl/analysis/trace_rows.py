"""The rows of the trace matrix: requirements, hazards, evidence and coverage rules, as every format of
`sops trace` shows them and as `sops diff` compares them. Plain data (dicts of text and numbers)."""

from __future__ import annotations

from typing import Any

from safetyops_dsl.analysis.coverage import Coverage
from safetyops_dsl.analysis.trace import TraceGraph, split_id


def _short(tg: TraceGraph, nids: list[str]) -> list[str]:
    return [tg.name(n) for n in nids]


def requirement_rows(tg: TraceGraph) -> list[dict[str, Any]]:
    rows = []
    for r in tg.nodes_of("requirement"):
        node = tg.graph.nodes[r]
        evs = []
        for e in tg.evidence_of(r):
            st = tg.evidence.get(split_id(e)[1])
            evs.append({"name": tg.name(e), "status": st.status if st else "", "stale": bool(st and st.stale)})
        rows.append({
            "requirement": node["name"],
            "title": node["title"],
            "asil": node.get("asil", ""),
            "goals": _short(tg, tg.goals_of_requirement(r)),
            "hazards": _short(tg, tg.hazards_of_requirement(r)),
            "allocated_to": _short(tg, tg.out(r, "allocated_to")),
            "failure_modes": _short(tg, tg.requirement_failure_modes(r)),
            "evidence": evs,
            "status": tg.requirement_status(r),
            "file": node["file"],
            "line": node["line"],
        })
    return rows


def hazard_rows(tg: TraceGraph) -> list[dict[str, Any]]:
    rows = []
    for h in tg.nodes_of("hazard"):
        node = tg.graph.nodes[h]
        key = split_id(h)[1]
        ht = tg.trees.get(key)
        goals = tg.out(h, "mitigated_by")
        reqs = sorted({r for g in goals for r in _descendant_requirements(tg, g)})
        statuses = [tg.requirement_status(r) for r in reqs]
        rows.append({
            "hazard": node["name"],
            "title": node["title"],
            "asil": node.get("asil", ""),
            "goals": _short(tg, goals),
            "requirements": _short(tg, reqs),
            "probability": ht.result.exact_probability if ht is not None and ht.result is not None else None,
            "cut_sets": ht.result.cut_set_count if ht is not None and ht.result is not None else None,
            "failure_modes": len(tg.out(h, "cut_set_member")),
            "verified": sum(1 for s in statuses if s == "verified"),
            "file": node["file"],
            "line": node["line"],
        })
    return rows


def _descendant_requirements(tg: TraceGraph, nid: str) -> list[str]:
    out: set[str] = set()
    stack = tg.out(nid, "refined_by")
    while stack:
        r = stack.pop()
        if r not in out:
            out.add(r)
            stack.extend(tg.out(r, "refined_by"))
    return sorted(out)


def evidence_rows(tg: TraceGraph) -> list[dict[str, Any]]:
    rows = []
    for e in tg.nodes_of("evidence"):
        node = tg.graph.nodes[e]
        st = tg.evidence.get(split_id(e)[1])
        targets = [u for u, _, rel in tg.graph.in_edges(e, data="rel") if rel in ("verified_by", "supported_by")]
        rows.append({
            "evidence": node["name"],
            "kind": node.get("evidence_kind", ""),
            "source": node["title"],
            "for": sorted(tg.name(t) for t in targets),
            "status": st.status if st else "",
            "stale": bool(st and st.stale),
            "stale_reason": st.stale_reason if st else "",
            "detail": st.detail if st else "",
            "result_file": st.result_file if st else "",
            "file": node["file"],
            "line": node["line"],
            # only for metric evidence read from a tracking server's run (the other rows stay as they were)
            **({"run_url": st.run_url} if st and st.run_url else {}),
        })
    return rows


def coverage_rows(cov: Coverage) -> list[dict[str, Any]]:
    return [
        {
            "rule": r.rule, "title": r.title, "required": r.required, "reason": r.reason, "origin": r.origin,
            "satisfied": r.satisfied, "total": r.total, "evaluated": r.evaluated, "note": r.note,
            "violations": len(r.violations),
        }
        for r in cov.rules
    ]


