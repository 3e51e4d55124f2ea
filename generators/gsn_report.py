"""GSN safety case as JSON (every node, link, status and diagnostic) and as a Markdown outline per module."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from safetyops_dsl import schemas
from safetyops_dsl.analysis.gsn import CONTEXTUAL, Case, Node, status_counts
from safetyops_dsl.diagnostics import Diagnostic, end_fields, json_hidden, show_hidden


def to_data(case: Case, diagnostics: Sequence[Diagnostic] = ()) -> dict[str, Any]:
    return {
        "schema": schemas.tag("sops-gsn"),
        "top_goals": [{"id": t, "status": case.nodes[t].status} for t in case.tops],
        "status": case.top_status(),
        "results_given": case.results_given,
        "solutions": status_counts(case),
        "modules": [
            {"name": m.name, "title": m.title, "kind": m.kind, "root": m.root} for m in case.modules.values()
        ],
        "nodes": [
            {
                "id": n.id,
                "kind": n.kind,
                "text": n.text,
                "module": n.module,
                "status": None if n.kind in CONTEXTUAL else n.status,
                "undeveloped": case.undeveloped(n.id) or (n.kind == "away_goal" and not case.children(n.id)),
                "supported_by": case.children(n.id),
                "in_context_of": case.contexts(n.id),
                **({"detail": n.detail} if n.detail else {}),
                **({"evidence": list(n.evidence)} if n.evidence else {}),
                **({"element": n.element} if n.element else {}),
                **({"argument": n.origin} if n.origin else {}),
                **({"away_module": n.away_module} if n.away_module else {}),
                "location": {"file": n.location.file, "line": n.location.line},
            }
            for n in case.nodes.values()
        ],
        "diagnostics": [
            {"file": d.location.file, "line": d.location.line, "col": d.location.col, **end_fields(d.location),
             "severity": d.level.value, "code": d.code, "message": d.message}
            for d in diagnostics
        ],
    }


def render_json(case: Case, diagnostics: Sequence[Diagnostic] = ()) -> str:
    return json_hidden(json.dumps(to_data(case, diagnostics), indent=2, ensure_ascii=False)) + "\n"


_MD_SPECIAL = set("\\`*_[]<>|~&")


def md(text: str) -> str:
    """Markdown-inert text on one line: every punctuation character Markdown or HTML could read is escaped."""
    flat = " ".join(show_hidden(text.replace("\r", " ")).split())
    return "".join(f"\\{c}" if c in _MD_SPECIAL else c for c in flat)


ICON = {"passed": "\u2714", "failed": "\u2718", "stale": "\u231b", "missing": "\u2753", "skipped": "\u23ed",
        "undeveloped": "\u25c7", "unknown": "\u00b7"}


def _line(case: Case, node: Node, module: str, depth: int, seen: set[str], out: list[str]) -> None:
    pad = "  " * depth
    kind = node.kind.replace("_", " ")
    if node.module != module:
        out.append(f"{pad}- \u2197 **{md(node.id)}** ({kind} in module {md(node.module)}, {node.status})")
        return
    status = "" if node.kind in CONTEXTUAL else f", {ICON[node.status]} {node.status}"
    mark = " \u25c7 undeveloped" if case.undeveloped(node.id) else ""
    away = f" \u2014 away goal, module {md(node.away_module)}" if node.away_module else ""
    detail = f" \u2014 {md(node.detail)}" if node.detail else ""
    out.append(f"{pad}- **{md(node.id)}** ({kind}{status}){mark}{away}: {md(node.text)}{detail}")
    if node.id in seen:
        return
    seen.add(node.id)
    for c in case.contexts(node.id):
        ctx = case.nodes[c]
        out.append(f"{pad}  - _{ctx.kind}_ **{md(ctx.id)}**: {md(ctx.text)}")
    for c in case.children(node.id):
        _line(case, case.nodes[c], module, depth + 1, seen, out)


def render_md(case: Case, title: str = "Safety case", diagnostics: Sequence[Diagnostic] = ()) -> str:
    out = [f"# {md(title)}", ""]
    counts = status_counts(case)
    out.append("Top goal" + ("s" if len(case.tops) != 1 else "") + ": "
               + ", ".join(f"**{md(t)}** {case.nodes[t].status}" for t in case.tops) + ".")
    out.append("Solutions: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v) + "."
               + ("" if case.results_given else " No CI results given: evidence status is unknown."))
    out += ["", "| module | kind | root | status | title |", "|---|---|---|---|---|"]
    for m in case.modules.values():
        root = case.nodes.get(m.root or "")
        out.append(f"| {md(m.name)} | {m.kind} | {md(m.root or '-')} | {root.status if root else '-'} | {md(m.title)} |")
    for m in case.modules.values():
        if m.kind == "external":
            continue
        out += ["", f"## Module {md(m.name)}", "", md(m.title), ""]
        seen: set[str] = set()
        entries = [n for n in case.nodes.values() if n.module == m.name and n.kind not in CONTEXTUAL
                   and not any(case.nodes[p].module == m.name for p in case.parents().get(n.id, []))]
        for n in entries:
            _line(case, n, m.name, 0, seen, out)
    if diagnostics:
        out += ["", "## Diagnostics", ""]
        for d in diagnostics:
            out.append(f"- `{d.code}` {d.level.value} at {md(str(d.location))}: {md(d.message)}")
    return "\n".join(out) + "\n"
