"""Trace matrix and coverage report: Markdown, CSV, HTML, JSON, DOT and SVG. Deterministic bytes.

The matrix has one row per requirement: the hazards and safety goals it serves, where it is allocated, the
failure modes under that allocation that appear in its hazards' minimal cut sets, its evidence with each
one's status, and the rolled-up verdict. Hazards and evidence have tables of their own; the coverage report
lists every policy rule with its count, and waived rules with the recorded reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import textwrap
from collections.abc import Mapping
from typing import Any

from safetyops_dsl.generators import graphviz
from safetyops_dsl.generators.markdown import cell as md_cell

from safetyops_dsl import schemas
from safetyops_dsl.analysis.coverage import Coverage
from safetyops_dsl.analysis.trace import KIND_ORDER, KIND_TITLES, TraceGraph, split_id
from safetyops_dsl.analysis.trace_rows import coverage_rows, evidence_rows, hazard_rows, requirement_rows
from safetyops_dsl.diagnostics import Diagnostic, end_fields, json_hidden, show_hidden

FORMATS = ("md", "csv", "html", "json", "dot", "svg")
STATUS_MARK = {
    "verified": "verified", "failed": "FAILED", "stale": "STALE", "incomplete": "incomplete",
    "not_run": "not run", "no_evidence": "NO EVIDENCE",
}


# -- the data every format shares: analysis/trace_rows.py --------------------------------------------------


def _diag(d: Diagnostic) -> dict[str, Any]:
    return {"code": d.code, "severity": d.level.value, "message": d.message, "file": d.location.file,
            "line": d.location.line, "col": d.location.col, **end_fields(d.location)}


# -- formats -------------------------------------------------------------------------------------------------------


def render(tg: TraceGraph, cov: Coverage, fmt: str, title: str = "") -> str:
    if fmt == "md":
        return to_markdown(tg, cov, title)
    if fmt == "csv":
        return to_csv(tg)
    if fmt == "json":
        return to_json(tg, cov)
    if fmt == "html":
        return to_html(tg, cov, title)
    if fmt == "dot":
        return to_dot(tg)
    if fmt == "svg":
        return to_svg(tg)
    raise ValueError(f"unknown format {fmt}")


def _p(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def _ev_cell(evs: list[dict[str, Any]]) -> str:
    if not evs:
        return "-"
    return ", ".join(f"{e['name']} ({e['status'].replace('_', ' ')}{', stale' if e['stale'] else ''})" for e in evs)


def to_markdown(tg: TraceGraph, cov: Coverage, title: str = "") -> str:
    reqs = requirement_rows(tg)
    lines = [f"# Trace report{': ' + md_cell(title) if title else ''}", ""]
    verified = sum(1 for r in reqs if r["status"] == "verified")
    violations = len(cov.violations)
    lines.append(
        f"{len(tg.nodes_of('hazard'))} hazards, {len(tg.nodes_of('safety_goal'))} safety goals, "
        f"{len(reqs)} requirements ({verified} verified), {len(tg.nodes_of('evidence'))} evidence; "
        f"{violations} coverage violation{'s' if violations != 1 else ''}"
        + ("" if tg.results_given else " (no CI results supplied)")
        + "."
    )
    lines += ["", "## Coverage", "", "| rule | policy | covered | note |", "|---|---|---|---|"]
    for rr in cov.rules:
        policy = "required" if rr.required else f"WAIVED: {md_cell(rr.reason)}"
        covered = f"{rr.satisfied}/{rr.total}" + ("" if rr.evaluated else " (partial)")
        mark = "" if rr.ok else " ✗"
        lines.append(f"| {rr.rule} | {policy} | {covered}{mark} | {md_cell(rr.note)} |")
    if cov.diagnostics:
        lines += ["", "### Violations", ""]
        for d in cov.diagnostics:
            lines.append(f"- `{d.location}` [{d.code}] {md_cell(d.message)}")
    lines += ["", "## Trace matrix", "",
              "| requirement | ASIL | safety goals | hazards | allocated to | failure modes in cut sets | evidence | status |",
              "|---|---|---|---|---|---|---|---|"]
    for r in reqs:
        lines.append(
            f"| {r['requirement']} | {r['asil'] or '-'} | {', '.join(r['goals']) or '-'} | "
            f"{', '.join(r['hazards']) or '-'} | {', '.join(r['allocated_to']) or '-'} | "
            f"{', '.join(r['failure_modes']) or '-'} | {md_cell(_ev_cell(r['evidence']))} | {STATUS_MARK[r['status']]} |"
        )
    lines += ["", "## Hazards", "",
              "| hazard | ASIL | title | safety goals | requirements verified | P(top) | cut sets | failure modes in cut sets |",
              "|---|---|---|---|---|---|---|---|"]
    for h in hazard_rows(tg):
        lines.append(
            f"| {h['hazard']} | {h['asil'] or '-'} | {md_cell(h['title'])} | {', '.join(h['goals']) or '-'} | "
            f"{h['verified']}/{len(h['requirements'])} | {_p(h['probability'])} | "
            f"{'-' if h['cut_sets'] is None else h['cut_sets']} | {h['failure_modes']} |"
        )
    lines += ["", "## Evidence", "", "| evidence | kind | source | for | status | detail |", "|---|---|---|---|---|---|"]
    for e in evidence_rows(tg):
        status = e["status"].replace("_", " ") + (" (STALE)" if e["stale"] else "")
        detail = "; ".join(x for x in (e["detail"], e["stale_reason"]) if x)
        lines.append(
            f"| {e['evidence']} | {e['kind']} | {md_cell(e['source'])} | {', '.join(e['for']) or '-'} | {status} | "
            f"{md_cell(detail) or '-'}{_run_link(e)} |"
        )
    return "\n".join(lines) + "\n"


def _run_link(row: dict[str, Any]) -> str:
    url = row.get("run_url", "")
    return f" [MLflow run](<{url}>)" if url and url.startswith(("http://", "https://")) and ">" not in url else ""


def to_csv(tg: TraceGraph) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["requirement", "title", "asil", "safety_goals", "hazards", "allocated_to",
                "failure_modes_in_cut_sets", "evidence", "evidence_status", "status", "file", "line"])
    for r in requirement_rows(tg):
        w.writerow([
            r["requirement"], _csv_safe(r["title"]), r["asil"], "; ".join(r["goals"]), "; ".join(r["hazards"]),
            "; ".join(r["allocated_to"]), "; ".join(r["failure_modes"]),
            "; ".join(e["name"] for e in r["evidence"]),
            "; ".join(e["status"] + (" stale" if e["stale"] else "") for e in r["evidence"]),
            r["status"], r["file"], r["line"],
        ])
    return show_hidden(buf.getvalue())  # inside quoted or plain CSV fields alike


def _csv_safe(text: str) -> str:
    """Spreadsheets execute cells starting with = + - @: prefix those with a quote (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_json(tg: TraceGraph, cov: Coverage) -> str:
    g = tg.graph
    doc = {
        "schema": schemas.tag("sops-trace"),
        "results_supplied": tg.results_given,
        "coverage": {"rules": coverage_rows(cov), "diagnostics": [_diag(d) for d in cov.diagnostics]},
        "requirements": requirement_rows(tg),
        "hazards": hazard_rows(tg),
        "evidence": evidence_rows(tg),
        "graph": {
            "nodes": [
                {k: v for k, v in sorted(g.nodes[n].items())} | {"id": n}
                for n in sorted(g.nodes, key=_node_sort)
            ],
            "edges": [
                {"from": u, "to": v, "rel": g.edges[u, v]["rel"]} for u, v in sorted(g.edges, key=lambda e: (e[0], e[1]))
            ],
        },
    }
    return json_hidden(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


def _node_sort(nid: str) -> tuple[int, str]:
    kind, key = split_id(nid)
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else 99, key)


def to_html(tg: TraceGraph, cov: Coverage, title: str = "") -> str:
    from safetyops_dsl.generators.templating import environment

    env = environment()
    template = env.get_template("trace_report.html.j2")
    return template.render(
        title=title,
        results_given=tg.results_given,
        coverage=coverage_rows(cov),
        violations=[_diag(d) for d in cov.diagnostics],
        requirements=requirement_rows(tg),
        hazards=hazard_rows(tg),
        evidence=evidence_rows(tg),
        status_mark=STATUS_MARK,
        fmt_p=_p,
    )


# -- graph drawings ---------------------------------------------------------------------------------------------

_DOT_STYLE = {
    "hazard": 'shape=box style="rounded,filled" fillcolor="#f8d7da"',
    "safety_goal": 'shape=box style="rounded,filled" fillcolor="#fff3cd"',
    "requirement": 'shape=box style=filled fillcolor="#d1ecf1"',
    "component": 'shape=component style=filled fillcolor="#e2e3e5"',
    "part": 'shape=box style=filled fillcolor="#f1f1f1"',
    "failure_mode": 'shape=ellipse style=filled fillcolor="#ffffff"',
    "mechanism": 'shape=hexagon style=filled fillcolor="#e2f0d9"',
    "metric": 'shape=octagon style=filled fillcolor="#ede7f6"',
    "evidence": 'shape=note style=filled fillcolor="#d4edda"',
}
_EVIDENCE_FILL = {"failed": "#f5c6cb", "missing": "#ffeeba", "skipped": "#ffeeba", "stale": "#ffeeba"}


def _dq(text: str) -> str:
    return '"' + show_hidden(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(tg: TraceGraph, urls: Mapping[str, str] | None = None) -> str:
    """The trace graph. Failure modes are drawn only where a hazard's cut sets contain them. `urls`: trace
    node id -> link target."""
    g = tg.graph
    urls = urls or {}
    shown = [n for n in sorted(g.nodes, key=_node_sort)
             if g.nodes[n]["kind"] != "failure_mode" or any(True for _ in tg.into(n, "cut_set_member"))]
    keep = set(shown)
    lines = ["digraph trace {", "  rankdir=LR;", '  node [fontname="Helvetica" fontsize=10];',
             '  edge [fontname="Helvetica" fontsize=8 color="#666666"];']
    for kind in KIND_ORDER:
        members = [n for n in shown if g.nodes[n]["kind"] == kind]
        if not members:
            continue
        lines.append(f"  subgraph cluster_{kind} {{")
        lines.append(f"    label={_dq(KIND_TITLES[kind])}; style=dashed; color=\"#bbbbbb\";")
        for n in members:
            label, style = _node_label(tg, n)
            link = f' URL={_dq(urls[n])} target="_top"' if n in urls else ""
            lines.append(f"    {_dq(n)} [label={_dq(label)} {style}{link}];")
        lines.append("  }")
    for u, v in sorted(g.edges):
        if u in keep and v in keep:
            rel = g.edges[u, v]["rel"]
            extra = ' style=dashed color="#c0392b"' if rel == "cut_set_member" else ""
            lines.append(f"  {_dq(u)} -> {_dq(v)} [label={_dq(rel.replace('_', ' '))}{extra}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(tg: TraceGraph, urls: Mapping[str, str] | None = None) -> str:
    return svg_from_dot(to_dot(tg, urls))


def svg_from_dot(source: str) -> str:
    return graphviz.render(source)


# -- neighbourhood pages ---------------------------------------------------------------------------------------

# The whole trace graph is one Graphviz layout: fine for a handful of hazards, unreadable (and minutes of
# layout, or none at all) for a hundred. Above this many drawn nodes only the per-element pages are drawn.
GLOBAL_GRAPH_MAX_NODES = 60
PAGE_KINDS = ("hazard", "safety_goal", "requirement")
# A hazard whose cut sets hold more failure modes than this lists them in one box (they are in its fault
# tree); the diagram stays a readable neighbourhood.
FAILURE_MODES_SHOWN = 24
_CHAIN = ("mitigated_by", "refined_by")
_EVIDENCE = ("verified_by", "supported_by")
_PAGE_UNSAFE = re.compile(r"[^A-Za-z0-9_.]")


def global_graph_size(tg: TraceGraph) -> int:
    """Nodes the global graph draws (failure modes only where some hazard's cut sets hold them)."""
    g = tg.graph
    return sum(1 for n in g.nodes
               if g.nodes[n]["kind"] != "failure_mode" or any(True for _ in tg.into(n, "cut_set_member")))


def draws_global_graph(tg: TraceGraph) -> bool:
    return global_graph_size(tg) <= GLOBAL_GRAPH_MAX_NODES


def page_name(nid: str) -> str:
    """File stem of a trace element's page: `<kind>-<name>`, sanitised; a sanitised name gets a hash of
    the original so that two names never share a page."""
    kind, key = split_id(nid)
    stem = f"{kind}-{key}"
    if _PAGE_UNSAFE.search(key) or key.startswith("."):
        stem = _PAGE_UNSAFE.sub("_", stem) + "-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    return stem


def page_elements(tg: TraceGraph) -> list[str]:
    """The trace nodes that get a page of their own, in kind order then by name."""
    return [n for kind in PAGE_KINDS for n in tg.nodes_of(kind)]


def _walk(tg: TraceGraph, start: str, rels: tuple[str, ...], forward: bool) -> list[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        n = stack.pop()
        for rel in rels:
            for m in (tg.out(n, rel) if forward else tg.into(n, rel)):
                if m not in seen and m != start:
                    seen.add(m)
                    stack.append(m)
    return sorted(seen, key=_node_sort)


def neighbourhood(tg: TraceGraph, nid: str) -> tuple[list[str], list[tuple[str, str, str]], list[str]]:
    """(nodes, edges (from, to, rel), failure modes left out) of the element's page: the hazards and
    goals above it, the goals and requirements below it, where those requirements are allocated, their
    evidence, and the failure modes in its cut sets (for a goal or requirement: those under its allocation)."""
    kind = tg.graph.nodes[nid]["kind"]
    above = _walk(tg, nid, _CHAIN, forward=False)
    below = _walk(tg, nid, _CHAIN, forward=True)
    chain = [*above, nid, *below]
    shown = set(chain)
    developed = [nid, *below]  # allocation and evidence: of the element and what refines it
    targets: list[str] = []
    for n in developed:
        targets += [t for t in tg.out(n, "allocated_to") if t not in shown]
        shown.update(targets)
    evidence = sorted({e for n in developed for rel in _EVIDENCE for e in tg.out(n, rel)} - shown, key=_node_sort)
    shown.update(evidence)
    if kind == "hazard":
        modes = tg.out(nid, "cut_set_member")
    else:
        reqs = [n for n in developed if tg.graph.nodes[n]["kind"] == "requirement"]
        modes = sorted({f for r in reqs for f in tg.requirement_failure_modes(r)})
    left_out = modes[FAILURE_MODES_SHOWN:]
    modes = modes[:FAILURE_MODES_SHOWN]
    shown.update(modes)
    edges = [(u, v, rel) for u in sorted(shown, key=_node_sort) for _, v, rel in sorted(tg.graph.out_edges(u, data="rel"))
             if v in shown and rel in (*_CHAIN, "allocated_to", *_EVIDENCE)]
    hazards = [n for n in chain if tg.graph.nodes[n]["kind"] == "hazard"]
    for f in modes:
        under = [t for t in targets if f in tg.failure_modes_under(t)]
        if under:
            edges += [(t, f, "has_failure") for t in under]
        else:
            edges += [(h, f, "cut_set_member") for h in hazards if tg.graph.has_edge(h, f)]
    nodes = sorted(shown, key=_node_sort)
    return nodes, edges, left_out


def _node_label(tg: TraceGraph, n: str) -> tuple[str, str]:
    """(label, style) of a trace node as the drawings show it."""
    g = tg.graph
    kind = g.nodes[n]["kind"]
    style = _DOT_STYLE[kind]
    label = str(g.nodes[n]["name"])
    if kind == "evidence":
        st = tg.evidence.get(split_id(n)[1])
        if st is not None:
            label += f"\n{st.status.replace('_', ' ')}{' (stale)' if st.stale else ''}"
            fill = _EVIDENCE_FILL.get("stale" if st.stale else st.status)
            if fill:
                style = style.replace('fillcolor="#d4edda"', f'fillcolor="{fill}"')
    elif kind == "requirement":
        label += f"\n{STATUS_MARK[tg.requirement_status(n)]}"
    return label, style


def _title_lines(text: str, width: int = 34, max_lines: int = 3) -> list[str]:
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "\u2026"
    return lines


def neighbourhood_dot(tg: TraceGraph, nid: str, urls: Mapping[str, str] | None = None) -> str:
    """The element's page diagram, left to right: hazards -> goals -> requirements -> allocation ->
    failure modes, evidence. `urls`: trace node id -> link target; every node with one is a link."""
    nodes, edges, left_out = neighbourhood(tg, nid)
    g = tg.graph
    urls = urls or {}
    kind = g.nodes[nid]["kind"]
    title = f"{KIND_TITLES[kind]} {g.nodes[nid]['name']}: neighbourhood in the trace"
    lines = [f"digraph {_dq('trace_' + page_name(nid))} {{",
             f"  graph [rankdir=LR, label={_dq(title)}, labelloc=t, fontname=\"Helvetica\", fontsize=12, "
             "nodesep=0.15, ranksep=0.5];",
             '  node [fontname="Helvetica" fontsize=10];',
             '  edge [fontname="Helvetica" fontsize=8 color="#666666"];']
    for n in nodes:
        label, style = _node_label(tg, n)
        title_text = str(g.nodes[n].get("title") or "")
        if g.nodes[n]["kind"] in PAGE_KINDS and title_text:
            label += "\n" + "\n".join(_title_lines(title_text))
        attrs = [f"label={_dq(label)}", style, f"id={_dq('t-' + page_name(n))}",
                 f"tooltip={_dq(KIND_TITLES[g.nodes[n]['kind']] + ' ' + str(g.nodes[n]['name']) + (': ' + title_text if title_text else ''))}"]
        if n == nid:
            attrs.append("penwidth=2.5")
        if n in urls:
            attrs += [f"URL={_dq(urls[n])}", 'target="_top"']
        lines.append(f"  {_dq(n)} [{' '.join(attrs)}];")
    if left_out:
        more = f"+{len(left_out)} more failure modes\nin the cut sets"
        lines.append(f'  "more_failure_modes" [label={_dq(more)} shape=note style=dashed id="t-more"];')
        lines.append(f"  {_dq(nid)} -> \"more_failure_modes\" [style=dashed color=\"#c0392b\"];")
    for u, v, rel in edges:
        extra = ' style=dashed color="#c0392b"' if rel == "cut_set_member" else ""
        lines.append(f"  {_dq(u)} -> {_dq(v)} [label={_dq(rel.replace('_', ' '))}{extra}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
