"""The static report site of `sops build`: HTML pages from Jinja2 templates (`templates/site/`), one CSS file
and one small script, no server, no network. Deterministic bytes: no timestamps, everything sorted.

Pages (relative to the output folder):

    index.html        release gate, summary, fault trees, diagnostics, downloads
    hazards.html      hazard log: HARA classification, goals, P(top), targets, cut sets, FMEDA verdicts
    fta/<tree>.html   one fault tree: diagram (zoomable), probabilities, cut sets, importance
    fmea.html fmeda.html hara.html   the tables, sortable and filterable
    trace.html        coverage policy, trace matrix, evidence
    gsn.html          the GSN safety case diagrams with status (when the GSN module is present)
    assets/site.css assets/site.js

Safety of the output: autoescaping is on and every model text goes through it. The only markup passed
through unescaped are the SVG diagrams, which our own generators produce (Graphviz output, sanitised, with
no script). Source links point from the page to the model file, relative, with `#L<line>`, and the
`file:line` is always written out, since browsers cannot jump to a line of a plain file.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetyops_dsl.generators import trace_report
from safetyops_dsl.generators.tables import Column, Document, Sheet, ftti_text

from safetyops_dsl.analysis.coverage import Coverage
from safetyops_dsl.analysis.fmeda import FmedaReport, Status
from safetyops_dsl.analysis.hara import HaraTable
from safetyops_dsl.analysis.targets import GoalCheck
from safetyops_dsl.analysis.trace import TraceGraph
from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.fta.result import FtaResult
from safetyops_dsl.fta.tree import FaultTree
from safetyops_dsl.model.index import Model

TEMPLATES = Path(__file__).parent / "templates" / "site"
ASSETS = ("site.css", "site.js")


@dataclass(frozen=True)
class TreePage:
    stem: str  # file stem under fta/
    tree: FaultTree
    result: FtaResult
    svg: str  # the whole tree, or its top page when the tree is drawn in pages
    more_pages: list[tuple[str, str]] = field(default_factory=list)  # (page name, SVG) after the top page


@dataclass(frozen=True)
class TracePage:
    """A hazard's, goal's or requirement's neighbourhood in the trace: `trace/<stem>.html` (build.py draws it)."""

    stem: str
    nid: str  # trace node id
    svg: str
    left_out: list[str] = field(default_factory=list)  # failure modes in the cut sets not drawn


@dataclass
class SiteData:
    model: Model
    out_dir: Path  # where the site will live: links to the model are relative to it
    version: str
    title: str
    checked_files: int
    check_diagnostics: list[Diagnostic]
    diagnostics: list[Diagnostic]
    trees: list[TreePage]
    goal_checks: list[GoalCheck]
    fmea: Document
    fmeda: Document
    fmeda_report: FmedaReport
    hara: Document
    hara_table: HaraTable
    trace: TraceGraph
    coverage: Coverage
    gate: list[dict[str, str]]
    gate_passed: bool
    case: Any = None  # safetyops_dsl.analysis.gsn.Case
    gsn_svgs: list[tuple[str, str]] = field(default_factory=list)
    gsn_note: str = ""
    results_given: bool = False
    exports: list[str] = field(default_factory=list)
    trace_pages: list[TracePage] = field(default_factory=list)
    global_trace_graph: bool = True  # exports/trace.svg exists


# -- source links ------------------------------------------------------------------------------------------------


class Sources:
    """Model element names -> (model-root-relative file, line), and links to them from a page."""

    def __init__(self, model: Model, out_dir: Path):
        self.model = model
        self.to_root = Path(os.path.relpath(model.root.resolve(), out_dir.resolve())).as_posix()
        self.where: dict[str, tuple[str, int]] = {}

        def note(name: str, file: str, line: int) -> None:
            self.where.setdefault(name, (model.rel_path(file), line))

        stores: tuple[dict[str, Any], ...] = (model.hazards, model.goals, model.requirements, model.evidence,
                                              model.components)
        for store in stores:
            for q, element in sorted(store.items()):
                note(q, element.location.file, element.location.line)
        for store in stores:
            for _, element in sorted(store.items()):
                note(element.name, element.location.file, element.location.line)
        for system in model.systems():
            for inst in model.instances(system).walk():
                comp = inst.component
                loc = inst.part.location if inst.part is not None else comp.location
                note(inst.path, loc.file, loc.line)
                for fm in comp.failure_modes:
                    note(f"{inst.path}.{fm.name}", fm.location.file, fm.location.line)
                for mech in comp.mechanisms:
                    note(f"{inst.path}.{mech.name}", mech.location.file, mech.location.line)

    def href(self, file: str, line: int, base: str) -> str:
        rel = self.model.rel_path(file)
        path = f"{base}{self.to_root}/{rel}" if self.to_root != "." else f"{base}{rel}"
        return path + (f"#L{line}" if line > 0 else "")

    def loc(self, file: str, line: int, base: str) -> dict[str, str] | None:
        if not file:
            return None
        rel = self.model.rel_path(file)
        return {"href": self.href(file, line, base), "text": f"{rel}:{line}" if line > 0 else rel}

    def of(self, name: str, base: str) -> dict[str, str] | None:
        found = self.where.get(name)
        return self.loc(found[0], found[1], base) if found else None


# -- formatting ------------------------------------------------------------------------------------------------


def num(x: float | int | None, spec: str = ".4g") -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    if isinstance(x, int):
        return str(x)
    return format(x, spec)


def sort_key(x: float | int | None) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and math.isinf(x):
        return "1e999"
    return repr(float(x))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


_FILE_LINE = re.compile(r"^(?P<file>[^:]+\.sops):(?P<line>\d+)$")


def _cell(value: Any, col: Column, src: Sources, base: str) -> dict[str, Any]:
    """A table cell: text, class, sort key, and source links for names of model elements."""
    if value is None or value == "":
        return {"text": "", "cls": "", "sort": "", "links": []}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"text": num(value, col.spec), "cls": "num", "sort": sort_key(value), "links": []}
    text = str(value)
    cls = ""
    if col.kind == "status":
        cls = "st st-" + re.sub(r"[^a-z]", "", text.lower())
    elif col.kind == "class":
        cls = "fc fc-" + re.sub(r"[^a-z]", "", text.lower())
    elif col.kind == "mono":
        cls = "mono"
    m = _FILE_LINE.match(text)
    if m and col.header == "Source":
        return {"text": "", "cls": cls, "sort": text,
                "links": [src.loc(m["file"], int(m["line"]), base)], "sep": ""}
    links: list[dict[str, str] | None] = []
    parts = [p.strip() for p in text.split(",")]
    if col.kind == "mono" and all(src.of(p, base) for p in parts):
        links = [dict(src.of(p, base) or {}, name=p) for p in parts]
        return {"text": "", "cls": cls, "sort": text, "links": [], "names": links}
    if not cls and len(text) > 24:
        cls = "long"
    return {"text": text, "cls": cls, "sort": text, "links": []}


def _sheet(sheet: Sheet, src: Sources, base: str) -> dict[str, Any]:
    return {
        "id": slug(sheet.name),
        "title": sheet.title,
        "notes": sheet.notes,
        "columns": [{"header": c.header, "num": c.kind == "num"} for c in sheet.columns],
        "rows": [[_cell(v, c, src, base) for v, c in zip(r, sheet.columns, strict=True)] for r in sheet.rows],
    }


def _p_of(tree: FaultTree, cs: Sequence[str]) -> float:
    return math.prod(tree.basic_events[e].probability for e in cs)


def _diag(d: Diagnostic, src: Sources, base: str) -> dict[str, Any]:
    return {"code": d.code, "level": d.level.value, "message": d.message, "hint": d.hint or "",
            "loc": src.loc(d.location.file, d.location.line, base)}


# -- pages -------------------------------------------------------------------------------------------------------


def _env() -> Any:
    from safetyops_dsl.generators.templating import environment

    env = environment(TEMPLATES)
    env.filters["num"] = num
    env.filters["sortkey"] = sort_key
    env.filters["ftti"] = ftti_text
    return env


def _inline_svg(svg: str) -> str:
    """The SVG element alone (no XML declaration or doctype), to embed in HTML."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def _tree_facts(page: TreePage) -> dict[str, Any]:
    r, t = page.result, page.tree
    p = r.exact_probability if r.exact_probability is not None else r.probability
    mission = t.mission_time or 1.0
    spofs = sorted(cs[0] for cs in r.cut_sets if len(cs) == 1)
    return {"p": p, "per_hour": p / mission if mission > 0 else p, "mission": t.mission_time, "spofs": spofs,
            "by_order": ", ".join(f"order {k}: {v}" for k, v in sorted(r.cut_sets_by_order.items()))}


def render_site(data: SiteData) -> dict[str, str]:
    """relative path -> text of every page and asset."""
    env = _env()
    src = Sources(data.model, data.out_dir)
    out: dict[str, str] = {}
    trees_by_name = {p.tree.name: p for p in data.trees}
    nav = [("index.html", "Overview"), ("hazards.html", "Hazard log"), ("fmea.html", "FMEA"),
           ("fmeda.html", "FMEDA"), ("hara.html", "HARA"), ("trace.html", "Trace"), ("gsn.html", "GSN")]

    def page(path: str, template: str, title: str, **ctx: Any) -> None:
        depth = path.count("/")
        base = "../" * depth
        out[path] = env.get_template(template).render(
            base=base, page=path, title=title, site_title=data.title, version=data.version, nav=nav,
            trees=[{"stem": p.stem, "name": p.tree.name} for p in data.trees],
            src=lambda name, b=base: src.of(name, b),
            loc=lambda file, line, b=base: src.loc(file, line, b),
            **ctx,
        )

    # per-tree facts shared by the overview, the hazard log and the tree pages
    facts = {p.tree.name: _tree_facts(p) for p in data.trees}
    fmeda_by_goal = {g.goal: g for g in data.fmeda_report.goals}
    checks_by_goal = {c.goal: c for c in data.goal_checks}

    # index
    tree_rows = [
        {"stem": p.stem, "name": p.tree.name, "label": p.tree.label, **facts[p.tree.name],
         "cut_sets": p.result.cut_set_count}
        for p in data.trees
    ]
    counts = {
        "hazards": len(data.model.hazards), "goals": len(data.model.goals),
        "requirements": len(data.model.requirements), "evidence": len(data.model.evidence),
        "failure modes": len(data.fmea.sheets[0].rows), "fault trees": len(data.trees),
    }
    page("index.html", "index.html.j2", "Overview", gate=data.gate, gate_passed=data.gate_passed,
         counts=counts, tree_rows=tree_rows, checked_files=data.checked_files,
         diagnostics=[_diag(d, src, "") for d in data.diagnostics + data.check_diagnostics],
         exports=data.exports, results_given=data.results_given, gsn=data.case is not None)

    # hazard log
    hazards = []
    for h in data.hara_table.hazards:
        f = facts.get(h.hazard)
        pg = trees_by_name.get(h.hazard)
        hazards.append({
            "row": h, "facts": f, "stem": pg.stem if pg else None,
            "cut_sets": pg.result.cut_set_count if pg else None,
            "goals": [{"name": g.name, "safe_state": g.safe_state, "ftti": g.ftti_seconds,
                       "target": checks_by_goal.get(g.name)} for g in h.goals],
            "loc": src.of(h.hazard, ""),
        })
    goals = []
    for g in data.hara_table.goals:
        fm = fmeda_by_goal.get(g.goal)
        verdict = "n/a" if fm is None or all(m.status is Status.NA for m in fm.metrics) else (
            "pass" if fm.passed else "fail")
        goals.append({"row": g, "check": checks_by_goal.get(g.goal), "fmeda": verdict,
                      "metrics": {m.name: m for m in fm.metrics} if fm else {}, "loc": src.of(g.goal, "")})
    page("hazards.html", "hazards.html.j2", "Hazard log", hazards=hazards, goals=goals,
         decompositions=_sheet(data.hara.sheets[2], src, "") if len(data.hara.sheets) > 2 else None)

    # fault trees
    for p in data.trees:
        base = "../"
        r = p.result
        events = {**{n: (e.origin, e.label) for n, e in p.tree.basic_events.items()}}
        top_p = facts[p.tree.name]["p"]

        def ev(name: str, b: str = base, evs: dict[str, Any] = events) -> dict[str, Any]:
            origin, label = evs.get(name, (None, ""))
            loc = src.loc(origin.file, origin.line, b) if origin is not None else src.of(name, b)
            return {"name": name, "label": label, "loc": loc}

        cut_sets = [
            {"i": i, "order": len(cs), "p": _p_of(p.tree, cs), "share": (_p_of(p.tree, cs) / top_p) if top_p else None,
             "events": [ev(e) for e in cs]}
            for i, cs in enumerate(r.cut_sets, start=1)
        ]
        importance = [{"row": row, "ev": ev(row.event)} for row in r.importance]
        top_gate = p.tree.gates.get(p.tree.top)
        top_origin = top_gate.origin if top_gate is not None else None
        top_loc = src.loc(top_origin.file, top_origin.line, base) if top_origin else src.of(p.tree.name, base)
        page(f"fta/{p.stem}.html", "fta.html.j2", f"Fault tree {p.tree.name}", tree=p.tree, result=r,
             facts=facts[p.tree.name], svg=_inline_svg(p.svg), cut_sets=cut_sets, importance=importance,
             more_pages=[{"name": n, "svg": _inline_svg(svg)} for n, svg in p.more_pages],
             checks=[c for c in data.goal_checks if p.tree.name in c.hazards or p.tree.name in c.missing],
             stem=p.stem, top_loc=top_loc)

    # tables
    for kind, doc in (("fmea", data.fmea), ("fmeda", data.fmeda), ("hara", data.hara)):
        page(f"{kind}.html", "table.html.j2", doc.title.split(" — ")[0], doc=doc, kind=kind,
             sheets=[_sheet(s, src, "") for s in doc.sheets])

    # trace
    tg = data.trace

    def located(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [dict(r, loc=src.loc(r["file"], r["line"], "")) for r in rows]

    page("trace.html", "trace.html.j2", "Trace and coverage",
         rules=trace_report.coverage_rows(data.coverage),
         violations=[_diag(d, src, "") for d in data.coverage.diagnostics],
         requirements=located(trace_report.requirement_rows(tg)),
         hazard_rows=located(trace_report.hazard_rows(tg)),
         evidence=located(trace_report.evidence_rows(tg)),
         results_given=tg.results_given, global_graph=data.global_trace_graph,
         element_pages=[{"stem": tp.stem, "name": tg.name(tp.nid)} for tp in data.trace_pages])
    for tp in data.trace_pages:
        node = tg.graph.nodes[tp.nid]
        page(f"trace/{tp.stem}.html", "trace_node.html.j2", f"{node['kind'].replace('_', ' ')} {node['name']}",
             stem=tp.stem, kind_title=node["kind"].replace("_", " "), name=node["name"],
             element_title=node.get("title", ""), svg=_inline_svg(tp.svg), left_out=tp.left_out,
             where=src.loc(node["file"], node["line"], "../"))

    # GSN
    case = data.case
    gsn_ctx: dict[str, Any] = {"available": case is not None, "note": data.gsn_note}
    if case is not None:
        nodes = [
            {"id": n.id, "kind": n.kind, "text": n.text, "module": n.module, "status": n.status,
             "undeveloped": case.undeveloped(n.id), "loc": src.loc(n.location.file, n.location.line, "")}
            for n in case.nodes.values()
        ]
        counts_by_status: dict[str, int] = {}
        for n in case.nodes.values():
            if n.kind == "solution":
                counts_by_status[n.status] = counts_by_status.get(n.status, 0) + 1
        gsn_ctx |= {
            "tops": [{"id": t, "text": case.nodes[t].text, "status": case.nodes[t].status,
                      "loc": src.loc(case.nodes[t].location.file, case.nodes[t].location.line, "")}
                     for t in case.tops],
            "diagrams": [{"stem": s, "svg": _inline_svg(svg)} for s, svg in data.gsn_svgs],
            "nodes": nodes,
            "counts": sorted(counts_by_status.items()),
            "case_diags": [_diag(d, src, "") for d in case.diagnostics],
            "results_given": data.results_given,
        }
    page("gsn.html", "gsn.html.j2", "GSN safety case", **gsn_ctx)

    for name in ASSETS:
        out[f"assets/{name}"] = (TEMPLATES / name).read_text(encoding="utf-8")
    return dict(sorted(out.items()))
