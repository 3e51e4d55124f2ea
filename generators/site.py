"""The static report site of `sops build`: HTML pages from Jinja2 templates (`templates/site/`), one CSS file
and one small script, no server, no network. Deterministic bytes: no timestamps, everything sorted.

Pages (relative to the output folder):

    index.html        release gate, summary, fault trees, diagnostics, downloads
    hazards.html      hazard log: HARA classification, goals, P(top), targets, cut sets, FMEDA verdicts
    fta/<tree>.html   one fault tree: diagram (zoomable), probabilities, cut sets, importance
    fmea.html fmeda.html hara.html   the tables, sortable and filterable
    trace.html        coverage policy, trace matrix, evidence
    gsn.html          the GSN safety case diagrams with status (when the GSN module is present)
    src/<file>.html   each model file, highlighted, one anchor per line (`#L12`)
    assets/site.css assets/site.js assets/search-index.js

Every link stays inside the output folder: a `file:line` opens the rendered model file at that line, so the
folder can be published or zipped on its own. Every element has one place (`Elements`): a hazard its row
in the hazard log, a goal its row in the goal table, a requirement and an evidence item their rows on the
trace page, a failure mode its FMEA row, a GSN node its row on the GSN page. Element names anywhere in the
site link there; every table row carries an anchor. A page that presents an element better (a per-element
page) is given in `SiteData.element_pages`, registered before the tables, and every link follows.

Search runs in the browser over a static index (`assets/search-index.js`: a script, not JSON fetched at run
time, since browsers refuse `fetch` on `file://`).

`render_single_file` puts every page into one HTML file (CSS, script, index and diagrams inline; links
rewritten to anchors inside the file) for a reviewer without the folder.

Safety of the output: autoescaping is on and every model text goes through it. The only markup passed
through unescaped are the SVG diagrams, which our own generators produce (Graphviz output, sanitised, with
no script), and the highlighted source, which `highlight` builds from escaped tokens.
"""

from __future__ import annotations

import html
import json
import math
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape
from safetyops_dsl.generators import trace_report
from safetyops_dsl.generators.graphviz import rebase_links
from safetyops_dsl.generators.tables import Column, Document, Sheet, anchor, ftti_text, row_ids, slug

from safetyops_dsl.analysis.coverage import Coverage
from safetyops_dsl.analysis.fmeda import FmedaReport, Status
from safetyops_dsl.analysis.gsn import natural_key
from safetyops_dsl.analysis.hara import HaraTable
from safetyops_dsl.analysis.targets import GoalCheck
from safetyops_dsl.analysis.trace import TraceGraph
from safetyops_dsl.diagnostics import Diagnostic, show_hidden
from safetyops_dsl.fta.result import FtaResult
from safetyops_dsl.fta.tree import FaultTree
from safetyops_dsl.fta.uncertainty import UncertaintyFigures
from safetyops_dsl.model.index import Model

TEMPLATES = Path(__file__).parent / "templates" / "site"
ASSETS = ("site.css", "site.js")
SEARCH_INDEX = "assets/search-index.js"


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


# Above this many fault trees or GSN modules, a list becomes a menu and diagrams get pages of their own: the
# header of every page and the GSN page stay readable for a model of a hundred hazards.
MANY = 12


def paged(count: int) -> bool:
    """Whether `count` diagrams of one kind get a page each rather than one page for all."""
    return count > MANY


@dataclass
class SiteData:
    model: Model
    out_dir: Path  # where the site will live (no link leaves it)
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
    gsn_modules: dict[str, str] = field(default_factory=dict)  # diagram stem -> GSN module name
    gsn_note: str = ""
    results_given: bool = False
    exports: list[str] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)  # model file (as displayed) -> its lines
    # element name -> site-root relative href of a page that presents it (say trace/FSR1.html): registered
    # before the table rows, so every link to that element and its search entry go there
    element_pages: dict[str, str] = field(default_factory=dict)
    trace_pages: list[TracePage] = field(default_factory=list)
    global_trace_graph: bool = True  # exports/trace.svg exists
    sotif: Document | None = None  # the SOTIF table and ODD coverage (generators/sotif_report.py): ML models only
    # hazard -> its Monte Carlo figures (`sops build --uncertainty N`); the fault-tree page draws the histogram
    uncertainty: dict[str, UncertaintyFigures] = field(default_factory=dict)


# -- the uncertainty histogram (drawn by the fta page's template) ----------------------------------------------

CHART_W, CHART_H, CHART_PAD_L, CHART_PAD_B, CHART_PAD_T = 480, 200, 56, 44, 12


def histogram_chart(title: str, f: UncertaintyFigures) -> dict[str, Any]:
    """The geometry of a Monte Carlo histogram as an SVG chart: bars, the x axis ticks at both ends and the 5 /
    50 / 95 % quantiles marked as dashed lines; numbers rounded so the bytes are stable."""
    lo, hi = f.histogram[0].lower, f.histogram[-1].upper
    span = (hi - lo) or 1.0
    plot_w, plot_h = CHART_W - CHART_PAD_L - 8, CHART_H - CHART_PAD_B - CHART_PAD_T
    top = max(b.count for b in f.histogram) or 1

    def x(v: float) -> float:
        return round(CHART_PAD_L + (v - lo) / span * plot_w, 2)

    bars = []
    for b in f.histogram:
        h = round(b.count / top * plot_h, 2)
        bars.append({"x": x(b.lower), "w": max(round(x(b.upper) - x(b.lower) - 1, 2), 0.5), "y":
                     round(CHART_PAD_T + plot_h - h, 2), "h": h, "count": b.count,
                     "range": f"{b.lower:.3g} to {b.upper:.3g}"})
    marks = [{"x": x(v), "label": label, "value": f"{v:.3g}"} for label, v in
             (("p05", f.p05), ("p50", f.p50), ("p95", f.p95))]
    return {"title": title, "w": CHART_W, "h": CHART_H, "left": CHART_PAD_L, "right": CHART_W - 8,
            "base": CHART_PAD_T + plot_h, "top": CHART_PAD_T, "bars": bars, "marks": marks, "max": top,
            "lo": f"{lo:.3g}", "hi": f"{hi:.3g}", "f": f,
            "desc": f"{f.trials} trials, seed {f.seed}: mean {f.mean:.3g}, 5 % {f.p05:.3g}, median {f.p50:.3g}, "
                    f"95 % {f.p95:.3g}"}


# -- source links ------------------------------------------------------------------------------------------------


def source_page(rel: str) -> str:
    """Site path of the rendered model file `rel` (model-root relative): inside src/ even for `../` imports."""
    parts = ["_up" if part == ".." else re.sub(r"[^A-Za-z0-9._-]", "_", part).lstrip(".") or "_"
             for part in posixpath.normpath(rel).split("/") if part not in ("", ".")]
    return "src/" + "/".join(parts) + ".html"


class Sources:
    """Model element names -> (model-root-relative file, line), and links to the rendered model files."""

    def __init__(self, model: Model, files: Sequence[str] = ()):
        self.model = model
        self.pages = {model.rel_path(f): source_page(model.rel_path(f)) for f in files}
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

    def href(self, file: str, line: int, base: str) -> str | None:
        page = self.pages.get(self.model.rel_path(file))
        if page is None:
            return None
        return f"{base}{page}" + (f"#L{line}" if line > 0 else "")

    def loc(self, file: str, line: int, base: str) -> dict[str, str | None] | None:
        """A `file:line` with its link, or without one when the file is not a model file (a result file)."""
        if not file:
            return None
        rel = self.model.rel_path(file)
        return {"href": self.href(file, line, base), "text": f"{rel}:{line}" if line > 0 else rel}

    def of(self, name: str, base: str) -> dict[str, str | None] | None:
        found = self.where.get(name)
        return self.loc(found[0], found[1], base) if found else None


class Elements:
    """Element name -> the site page and row that presents it (site-root relative href). The first
    registration of a name wins, so a more specific page registered earlier keeps it."""

    def __init__(self) -> None:
        self.hrefs: dict[str, str] = {}

    def add(self, name: str, href: str, *names: str) -> None:
        for n in (name, *names):
            self.hrefs.setdefault(n, href)

    def href(self, name: str, base: str) -> str | None:
        found = self.hrefs.get(name)
        return base + found if found is not None else None


def register_elements(model: Model, data: SiteData, elements: Elements) -> None:
    """Where each kind of element lives on the site (see the module docstring)."""
    stores: tuple[tuple[str, str, dict[str, Any]], ...] = (
        ("hz", "hazards.html", model.hazards), ("sg", "hazards.html", model.goals),
        ("req", "trace.html", model.requirements), ("ev", "trace.html", model.evidence))
    for kind, page, store in stores:
        for q, element in sorted(store.items()):
            elements.add(q, f"{page}#{anchor(kind, element.name)}", element.name)
    for row in data.fmea.sheets[0].rows:
        name = f"{row[0]}.{row[2]}"
        elements.add(name, f"fmea.html#{anchor('fm', name)}")
    if data.case is not None:
        for node_id in sorted(data.case.nodes):
            elements.add(node_id, f"gsn.html#{anchor('case', node_id)}")


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


_FILE_LINE = re.compile(r"^(?P<file>[^:]+\.sops):(?P<line>\d+)$")


class Links:
    """What a page links through: element pages first, the element's source line otherwise."""

    def __init__(self, src: Sources, elements: Elements):
        self.src, self.elements = src, elements
        self._el: dict[tuple[str, str], dict[str, str | None] | None] = {}  # tables name elements many times

    def el(self, name: str, base: str) -> dict[str, str | None] | None:
        key = (name, base)
        if key not in self._el:
            where = self.src.of(name, base)
            href = self.elements.href(name, base)
            self._el[key] = where if href is None else {"href": href, "text": where["text"] if where else name}
        return self._el[key]


def _cell(value: Any, col: Column, links: Links, base: str) -> dict[str, Any]:
    """A table cell: text, class, sort key, and links for names of model elements."""
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
                "links": [links.src.loc(m["file"], int(m["line"]), base)], "sep": ""}
    parts = [p.strip() for p in text.split(",")] if col.kind == "mono" else []
    if parts and all(links.el(p, base) for p in parts):
        names = [dict(links.el(p, base) or {}, name=p) for p in parts]
        return {"text": "", "cls": cls, "sort": text, "links": [], "names": names}
    if not cls and len(text) > 24:
        cls = "long"
    return {"text": text, "cls": cls, "sort": text, "links": []}


def _named_html(name: str, link: dict[str, Any] | None) -> str:
    """As the `named` macro: the name, linked to its element when it has a link."""
    if not link or not link.get("href"):
        return str(escape(name))
    return f'<a class="el" href="{escape(link["href"])}" title="{escape(link["text"])}">{escape(name)}</a>'


def _srclink_html(link: dict[str, Any] | None) -> str:
    """As the `srclink` macro: a `file:line`, linked to the rendered model file when it is one."""
    if not link:
        return ""
    if not link.get("href"):
        return f'<span class="src">{escape(link["text"])}</span>'
    return f'<a class="src" href="{escape(link["href"])}">{escape(link["text"])}</a>'


def _td(cell: dict[str, Any]) -> str:
    attrs = f' class="{escape(cell["cls"])}"' if cell["cls"] else ""
    if cell["sort"] != cell["text"]:
        attrs += f' data-sort="{escape(cell["sort"])}"'
    if "names" in cell:
        body = ", ".join(_named_html(n["name"], n) for n in cell["names"])
    elif cell["links"]:
        body = "".join(_srclink_html(link) for link in cell["links"])
    else:
        body = str(escape(cell["text"]))
    return f"<td{attrs}>{body}</td>"


def _sheet(kind: str, sheet: Sheet, links: Links, base: str) -> dict[str, Any]:
    """A sheet as the `sheet_table` macro draws it. The cells are HTML built here, every text escaped: with
    thousands of rows, a template call per cell was most of the site's time."""
    ids = row_ids(kind, sheet)
    return {
        "id": slug(sheet.name),
        "title": sheet.title,
        "notes": sheet.notes,
        "columns": [{"header": c.header, "num": c.kind == "num"} for c in sheet.columns],
        "rows": [{"id": row_id, "html": Markup("".join(_td(_cell(v, c, links, base))
                                                     for v, c in zip(r, sheet.columns, strict=True)))}
                 for row_id, r in zip(ids, sheet.rows, strict=True)],
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


_SVG_ID = re.compile(r'\bid="([^"]*)"')
_SVG_REF = re.compile(r'(href="#|url\(#)([^")]*)')


def _inline_svg(svg: str, prefix: str) -> str:
    """The SVG element alone (no XML declaration or doctype), to embed in HTML. Its ids (and the references
    to them) get `prefix`: Graphviz numbers every drawing from graph0/node1, so two diagrams on one page, or
    a diagram node and a table row of the same element, would otherwise share an id."""
    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    body = _SVG_ID.sub(lambda m: f'id="{prefix}-{m[1]}"', body)
    return _SVG_REF.sub(lambda m: f"{m[1]}{prefix}-{m[2]}", body)


def _module_row(case: Any, name: str, stem: str) -> dict[str, Any]:
    """A GSN module as a row of gsn.html's module table and the head of its own page."""
    module = case.modules[name]
    root = module.root
    return {"name": name, "stem": stem, "href": f"gsn/{stem}.html", "title": module.title, "kind": module.kind,
            "root": root, "status": case.nodes[root].status if root in case.nodes else "",
            "size": sum(1 for n in case.nodes.values() if n.module == name)}


def _tree_facts(page: TreePage) -> dict[str, Any]:
    r, t = page.result, page.tree
    p = r.exact_probability if r.exact_probability is not None else r.probability
    mission = t.mission_time or 1.0
    spofs = sorted(cs[0] for cs in r.cut_sets if len(cs) == 1)
    return {"p": p, "per_hour": p / mission if mission > 0 else p, "mission": t.mission_time, "spofs": spofs,
            "by_order": ", ".join(f"order {k}: {v}" for k, v in sorted(r.cut_sets_by_order.items()))}


# -- model sources -------------------------------------------------------------------------------------------------

_KEYWORDS: frozenset[str] | None = None
_TOKENS = re.compile(r"(?P<comment>//.*|/\*.*?\*/)|(?P<string>\"[^\"]*\"?)|(?P<number>\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b)"
                     r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)")


def keywords() -> frozenset[str]:
    """The language's keywords, read from the grammar (its one definition)."""
    global _KEYWORDS
    if _KEYWORDS is None:
        from importlib import resources

        text = resources.files("safetyops_dsl.grammar").joinpath("sops.tx").read_text(encoding="utf-8")
        _KEYWORDS = frozenset(re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)'", text))
    return _KEYWORDS


def highlight(line: str) -> str:
    """One line of a .sops file as escaped HTML with token classes (a block comment spanning lines is shown
    as plain text after its first line: the page is for reading, not for parsing). Quotes are escaped too,
    so no model text can look like an attribute to the single file's link rewriting."""
    out: list[str] = []
    pos = 0
    kw = keywords()
    for m in _TOKENS.finditer(line):
        out.append(html.escape(line[pos:m.start()]))
        kind = m.lastgroup or ""
        text = html.escape(m.group())
        if kind == "word":
            out.append(f'<span class="k">{text}</span>' if m.group() in kw else text)
        else:
            out.append(f'<span class="{kind[0]}">{text}</span>')
        pos = m.end()
    out.append(html.escape(line[pos:]))
    return "".join(out)


# -- search ----------------------------------------------------------------------------------------------------------


def search_entries(data: SiteData, elements: Elements, src: Sources) -> list[dict[str, str]]:
    """Every element of the model with its id, kind, title and text, and where the site shows it."""
    model = data.model
    entries: list[dict[str, str]] = []

    def add(name: str, kind: str, title: str, text: str, href: str | None) -> None:
        if href:
            entries.append({"id": name, "kind": kind, "title": title, "text": text, "href": href})

    def where(name: str) -> str | None:
        return elements.href(name, "") or (src.of(name, "") or {}).get("href")

    for _, h in sorted(model.hazards.items()):
        add(h.name, "hazard", h.title, " ".join(filter(None, (h.situation, h.description))), where(h.name))
    for _, g in sorted(model.goals.items()):
        add(g.name, "safety goal", g.title, " ".join(filter(None, (g.safe_state, g.description))), where(g.name))
    for _, r in sorted(model.requirements.items()):
        add(r.name, "requirement", r.title, "", where(r.name))
    for _, e in sorted(model.evidence.items()):
        add(e.name, f"evidence ({e.kind})", e.source, e.artifact or "", where(e.name))
    for _, c in sorted(model.components.items()):
        add(c.name, c.kind.value.replace("_", " "), c.description, "", where(c.name))
    for row in data.fmea.sheets[0].rows:
        name = f"{row[0]}.{row[2]}"
        add(name, "failure mode", str(row[4] or ""), str(row[1] or ""), where(name))
    for tree in data.trees:
        add(tree.tree.name, "fault tree", tree.tree.label or "", "", f"fta/{tree.stem}.html")
    if data.case is not None:
        for node_id, node in sorted(data.case.nodes.items()):
            add(node_id, f"GSN {node.kind}", node.text or "", node.module or "", where(node_id))
    seen: set[tuple[str, str]] = set()
    unique = []
    for entry in entries:
        if (entry["id"], entry["href"]) not in seen:
            seen.add((entry["id"], entry["href"]))
            unique.append(entry)
    return unique


def search_index_js(entries: list[dict[str, str]]) -> str:
    # hidden characters shown as the pages show them (<U+202E>): a search hit reads like its page
    shown = [{k: show_hidden(v) for k, v in e.items()} for e in entries]
    body = json.dumps(shown, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # `</` cannot end the script early when the index is inlined into a page
    return "window.sopsSearchIndex = " + body.replace("</", "<\\/") + ";\n"


# -- gate ------------------------------------------------------------------------------------------------------------


def gate_rows(gate: list[dict[str, str]], elements: Elements) -> list[dict[str, Any]]:
    """The gate table with an anchor per row and a link from each check to what it judged."""
    rows = []
    for g in gate:
        check, subject = g["check"], g["subject"]
        href: str | None
        if check == "model check":
            href = "index.html#diagnostics"
        elif check == "CI results":
            href = "trace.html#evidence-h"
        elif check == "coverage policy":
            href = "trace.html#" + (anchor("rule", subject) if subject != "policy" else "coverage")
        elif check == "FMEDA":
            href = "fmeda.html#" + anchor("fmeda", subject)
        elif check == "goal target":
            href = elements.href(subject, "") or "hazards.html#goals"
        elif check == "GSN":
            href = elements.href(subject, "") or "gsn.html"
        else:
            href = None
        rows.append(dict(g, id=anchor("gate", f"{check}-{subject}".replace(" ", "_")), href=href))
    return rows


# -- pages -----------------------------------------------------------------------------------------------------------


def render_site(data: SiteData) -> dict[str, str]:
    """relative path -> text of every page and asset."""
    env = _env()
    src = Sources(data.model, sorted(data.sources))
    elements = Elements()
    for name, href in sorted(data.element_pages.items()):
        elements.add(name, href)
    register_elements(data.model, data, elements)
    links = Links(src, elements)
    out: dict[str, str] = {}
    trees_by_name = {p.tree.name: p for p in data.trees}
    nav = [("index.html", "Overview"), ("hazards.html", "Hazard log"), ("fmea.html", "FMEA"),
           ("fmeda.html", "FMEDA"), ("hara.html", "HARA"), ("trace.html", "Trace"), ("gsn.html", "GSN")]
    if data.sotif is not None:
        nav.insert(5, ("sotif.html", "SOTIF"))

    # H2 before H10: the order a reader counts in, in the menu and the overview's table alike
    tree_pages = sorted(data.trees, key=lambda p: natural_key(p.tree.name))
    tree_menu = [{"stem": p.stem, "name": p.tree.name} for p in tree_pages]

    def page(path: str, template: str, title: str, **ctx: Any) -> None:
        depth = path.count("/")
        base = "../" * depth
        out[path] = env.get_template(template).render(
            base=base, page=path, title=title, site_title=data.title, version=data.version, nav=nav,
            trees=tree_menu, many=MANY,
            src=lambda name, b=base: src.of(name, b),
            el=lambda name, b=base: links.el(name, b),
            loc=lambda file, line, b=base: src.loc(file, line, b),
            aid=anchor,
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
        for p in tree_pages
    ]
    counts = {
        "hazards": len(data.model.hazards), "goals": len(data.model.goals),
        "requirements": len(data.model.requirements), "evidence": len(data.model.evidence),
        "failure modes": len(data.fmea.sheets[0].rows), "fault trees": len(data.trees),
    }
    page("index.html", "index.html.j2", "Overview", gate=gate_rows(data.gate, elements), gate_passed=data.gate_passed,
         counts=counts, tree_rows=tree_rows, checked_files=data.checked_files,
         diagnostics=[_diag(d, src, "") for d in data.diagnostics + data.check_diagnostics],
         exports=data.exports, results_given=data.results_given, gsn=data.case is not None,
         source_files=[{"rel": rel, "href": pg} for rel, pg in sorted(src.pages.items())])

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
         profile=data.hara_table.profile is not None,
         decompositions=_sheet("hara", data.hara.sheets[2], links, "") if len(data.hara.sheets) > 2 else None)

    # fault trees
    for p in data.trees:
        base = "../"
        r = p.result
        events = {**{n: (e.origin, e.label) for n, e in p.tree.basic_events.items()}}
        top_p = facts[p.tree.name]["p"]

        def ev(name: str, b: str = base, evs: dict[str, Any] = events) -> dict[str, Any]:
            origin, label = evs.get(name, (None, ""))
            loc = src.loc(origin.file, origin.line, b) if origin is not None else src.of(name, b)
            return {"name": name, "label": label, "loc": loc, "el": elements.href(name, b)}

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
             facts=facts[p.tree.name], svg=_inline_svg(p.svg, "svg"), cut_sets=cut_sets, importance=importance,
             more_pages=[{"name": n, "svg": _inline_svg(svg, f"svg-{slug(n)}")} for n, svg in p.more_pages],
             checks=[c for c in data.goal_checks if p.tree.name in c.hazards or p.tree.name in c.missing],
             stem=p.stem, top_loc=top_loc,
             histograms=[histogram_chart(title, f) for title, f in (
                 ("P(top) at the mission time", data.uncertainty.get(p.tree.name)),
                 ("PFDavg", getattr(data.uncertainty.get(p.tree.name), "pfd_avg", None))) if f is not None],
             uncertainty=data.uncertainty.get(p.tree.name))

    # tables
    table_docs = [("fmea", data.fmea), ("fmeda", data.fmeda), ("hara", data.hara)]
    if data.sotif is not None:
        table_docs.append(("sotif", data.sotif))
    for kind, doc in table_docs:
        page(f"{kind}.html", "table.html.j2", doc.title.split(" — ")[0], doc=doc, kind=kind,
             sheets=[_sheet(kind, s, links, "") for s in doc.sheets])

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
             element_title=node.get("title", ""), svg=_inline_svg(tp.svg, "svg"), left_out=tp.left_out,
             where=src.loc(node["file"], node["line"], "../"))

    # GSN
    case = data.case
    gsn_ctx: dict[str, Any] = {"available": case is not None, "note": data.gsn_note}
    # many modules: the overview stays on gsn.html, each module gets gsn/<stem>.html (the build drew the
    # overview's module boxes as links to those pages)
    module_stems = [s for s, _ in data.gsn_svgs if s in data.gsn_modules]
    module_pages = sorted(module_stems, key=natural_key) if paged(len(module_stems)) else []
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
            "diagrams": [{"stem": s, "svg": _inline_svg(svg, f"svg-{slug(s)}")} for s, svg in data.gsn_svgs
                         if not module_pages or s not in data.gsn_modules],
            "module_rows": [_module_row(case, data.gsn_modules[s], s) for s in module_pages],
            "nodes": nodes,
            "counts": sorted(counts_by_status.items()),
            "case_diags": [_diag(d, src, "") for d in case.diagnostics],
            "results_given": data.results_given,
        }
    page("gsn.html", "gsn.html.j2", "GSN safety case", **gsn_ctx)
    svg_of = dict(data.gsn_svgs)
    for stem in module_pages:
        assert case is not None
        row = _module_row(case, data.gsn_modules[stem], stem)
        page(f"gsn/{stem}.html", "gsn_module.html.j2", f"GSN module {row['name']}", m=row,
             svg=_inline_svg(rebase_links(svg_of[stem], "../"), f"svg-{slug(stem)}"),
             nodes=[{"id": n.id, "kind": n.kind, "text": n.text, "status": n.status}
                    for n in case.nodes.values() if n.module == row["name"]])

    # model sources
    for display in sorted(data.sources):
        rel = data.model.rel_path(display)
        path = src.pages[rel]
        page(path, "source.html.j2", rel, rel=rel,
             lines=[{"n": i, "html": highlight(line)} for i, line in enumerate(data.sources[display], start=1)])

    for name in ASSETS:
        out[f"assets/{name}"] = (TEMPLATES / name).read_text(encoding="utf-8")
    out[SEARCH_INDEX] = search_index_js(search_entries(data, elements, src))
    return dict(sorted(out.items()))


# -- one file ----------------------------------------------------------------------------------------------------

SINGLE_FILE = "report.html"
_ATTR = re.compile(r'(?P<attr>\b(?:xlink:href|href|src))="(?P<url>[^"]*)"')
_ID = re.compile(r'(?P<attr>\b(?:id|data-table))="(?P<id>[^"]*)"')
_MAIN = re.compile(r"<main>\n?(.*?)</main>", re.S)


def page_key(path: str) -> str:
    return "p-" + re.sub(r"[^A-Za-z0-9]+", "-", path.removesuffix(".html")).strip("-")


def render_single_file(pages: dict[str, str], data: SiteData) -> str:
    """Every page of `render_site` as one offline HTML file: each page's content becomes a section (its ids
    prefixed with the page's key, so they stay unique), links between pages become links to those sections,
    and CSS, script and search index are inlined. Links to files that only exist in the folder (downloads)
    become plain text: the file must work alone."""
    order = ["index.html", "hazards.html", "fta/", "fmea.html", "fmeda.html", "hara.html", "sotif.html", "trace.html",
             "gsn.html", "gsn/"]

    def reading_order(path: str) -> tuple[int, str]:
        """The site's navigation order; pages of a folder (fta/) together; model files last."""
        for i, start in enumerate(order):
            if path == start or (start.endswith("/") and path.startswith(start)):
                return i, path
        return len(order), path

    html_pages = sorted((p for p in pages if p.endswith(".html")), key=reading_order)
    keys = {p: page_key(p) for p in html_pages}

    def target(page: str, url: str) -> str | None:
        if url.startswith(("#",)):
            path, frag = page, url[1:]
        else:
            path, _, frag = url.partition("#")
            path = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
        if path not in keys:
            return None
        return "#" + (f"{keys[path]}--{frag}" if frag else keys[path])

    sections = []
    for path in html_pages:
        m = _MAIN.search(pages[path])
        if m is None:
            continue
        body = m.group(1)
        body = _ID.sub(lambda i, k=keys[path]: f'{i["attr"]}="{k}--{i["id"]}"', body)

        def link(a: re.Match[str], page: str = path) -> str:
            new = target(page, a["url"])
            return f'{a["attr"]}="{new}"' if new is not None else f'data-file="{html.escape(a["url"], quote=True)}"'

        body = _ATTR.sub(link, body)
        sections.append((path, body))

    def entry_href(e: dict[str, str]) -> dict[str, str]:
        return dict(e, href=target("index.html", e["href"]) or "")

    index = json.loads(pages[SEARCH_INDEX].removeprefix("window.sopsSearchIndex = ").rstrip(";\n")
                       .replace("<\\/", "</"))
    env = _env()
    return str(env.get_template("single.html.j2").render(
        site_title=data.title, version=data.version,
        css=pages["assets/site.css"], js=pages["assets/site.js"],
        index=search_index_js([entry_href(e) for e in index]),
        sections=[{"key": keys[p], "path": p, "title": _title_of(pages[p]), "body": b} for p, b in sections],
    ))


def _title_of(page: str) -> str:
    m = re.search(r"<title>(.*?) · ", page)
    return html.unescape(m.group(1)) if m else page
