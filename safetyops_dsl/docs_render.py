"""The model as documentation blocks: what the Sphinx extension (`safetyops_dsl.sphinx`) and the MkDocs
plugin (`safetyops_dsl.mkdocs_plugin`) put on a page.

One adapter between the docs tools and the pipeline: it loads a model folder with `build.analyse` (the
same analyses as `sops build`), resolves element ids, and turns a block request (`sops-fta hazard=H1
cut-set=1`) into a Figure (DOT, drawn to SVG through a content-digest cache) or a Table (plain cells that
each tool lays out its own way). Bad requests raise DocsError carrying positioned diagnostics
(SOPS250-SOPS253); nothing here imports Sphinx or MkDocs, and nothing writes outside the cache folder
it is given. Every output is a function of the model's bytes: the same model gives byte-identical SVG,
PDF and tables.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.atomic import write_atomic
from safetyops_dsl.build import PAGE_COLUMNS, PAGE_NODES, BuildError, BuildOptions, analyse, gate_items
from safetyops_dsl.diagnostics import Diagnostic, Location

if TYPE_CHECKING:
    from safetyops_dsl.build import Analysis
    from safetyops_dsl.fta.result import FtaResult
    from safetyops_dsl.fta.tree import FaultTree

# The role names of the docs tools and the model kinds they name (`:sops:req:`FSR1``, `sops:req:FSR1`).
ROLE_KINDS: dict[str, str] = {
    "hazard": "hazard",
    "goal": "safety_goal",
    "req": "requirement",
    "evidence": "evidence",
    "component": "component",
}
KIND_WORDS = {"hazard": "hazard", "safety_goal": "safety goal", "requirement": "requirement",
              "evidence": "evidence", "component": "component"}
ROLE_OF_KIND = {kind: role for role, kind in ROLE_KINDS.items()}


@dataclass(frozen=True)
class BlockSpec:
    """A block's parameters: `positional` is the name a bare first argument stands for."""

    positional: str
    params: tuple[str, ...]
    required: tuple[str, ...] = ()


BLOCKS: dict[str, BlockSpec] = {
    "sops-fta": BlockSpec("hazard", ("hazard", "page", "cut-set"), ("hazard",)),
    "sops-fmea": BlockSpec("of", ("of", "goal", "component")),
    "sops-fmeda": BlockSpec("goal", ("goal",)),
    "sops-hara": BlockSpec("of", ("of", "goal", "hazard")),
    "sops-trace": BlockSpec("id", ("id",), ("id",)),
    "sops-gsn": BlockSpec("module", ("module",)),
    "sops-gate": BlockSpec("", ()),
}


class DrawingFailed(Exception):
    """Graphviz or the PDF converter is missing or failed: a problem of the machine, not of the model or
    the docs, so a plain message with a hint (as the CLI reports a missing `dot`), not a SOPS code."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


class DocsError(Exception):
    """A block or a model the docs cannot render: the diagnostics say where and why."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = list(diagnostics)


@dataclass(frozen=True)
class Element:
    role: str  # hazard | goal | req | evidence | component
    name: str  # the simple name, as written in the docs
    qname: str
    title: str
    location: Location  # in the model, relative to the docs base folder

    @property
    def anchor(self) -> str:
        return "sops-" + self.role + "-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.qname)


@dataclass(frozen=True)
class Figure:
    kind: str  # ft | gsn | trace: the SVG post-processing
    dot: str
    title: str
    targets: tuple[Element, ...] = ()  # what this block is the page of (roles link here)
    shown: tuple[Element, ...] = ()  # other elements drawn on it (roles link here when nothing else does)

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.kind}\0{self.dot}".encode()).hexdigest()


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    numeric: tuple[bool, ...]
    rows: tuple[tuple[str, ...], ...]
    targets: tuple[Element, ...] = ()
    shown: tuple[Element, ...] = ()


Block = Figure | Table


def error(code: str, message: str, where: Location, hint: str = "") -> DocsError:
    return DocsError([dg.make(code, message, where, hint)])


def parse_args(block: str, text: str, where: Location) -> dict[str, str]:
    """`H1 page=2 cut-set=1` -> {"hazard": "H1", "page": "2", "cut-set": "1"} (the fence info of MkDocs)."""
    spec = BLOCKS[block]
    args: dict[str, str] = {}
    for word in text.split():
        key, eq, value = word.partition("=")
        if not eq:
            key, value = spec.positional, word
        if not key or key not in spec.params:
            raise error(dg.DOCS_BAD_BLOCK, f"{block}: unexpected argument '{word}'", where,
                        _params_hint(block))
        if key in args:
            raise error(dg.DOCS_BAD_BLOCK, f"{block}: '{key}' given twice", where, _params_hint(block))
        args[key] = value
    return args


def _params_hint(block: str) -> str:
    spec = BLOCKS[block]
    if not spec.params:
        return f"{block} takes no arguments"
    return f"{block} takes " + ", ".join(f"{p}=..." for p in spec.params) + (
        f" (a bare first word is {spec.positional}=)" if spec.positional else "")


@dataclass
class DocsModel:
    """A loaded, analysed model. `base`: the folder diagnostics and file names are relative to (the folder
    of conf.py or mkdocs.yml)."""

    analysis: Analysis
    base: Path
    files: list[Path]
    digest: str  # of every input the analyses read: equal digests, equal blocks
    _elements: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.analysis.root

    def _names(self, kind: str) -> dict[str, list[str]]:
        """simple or qualified name -> qualified names of that kind."""
        if kind not in self._elements:
            store: Mapping[str, Any] = self.analysis.model._stores()[kind]
            names: dict[str, list[str]] = {}
            for qname, element in sorted(store.items()):
                names.setdefault(qname, []).append(qname)
                if element.name != qname:
                    names.setdefault(element.name, []).append(qname)
            self._elements[kind] = names
        return self._elements[kind]

    def model_location(self, loc: Location) -> Location:
        path = loc.file
        if path and not os.path.isabs(path):
            path = str(self.root / path)
        rel = Path(os.path.relpath(path, self.base)).as_posix() if path else self.model_name
        return Location(rel, loc.line, loc.col)

    @property
    def model_name(self) -> str:
        return Path(os.path.relpath(self.root, self.base)).as_posix()

    def find(self, role: str, name: str, where: Location) -> Element:
        kind = ROLE_KINDS[role]
        found = self._names(kind).get(name, [])
        if len(found) > 1:
            raise error(dg.DOCS_UNKNOWN_ID, f"{KIND_WORDS[kind]} '{name}' is ambiguous in the model "
                        f"{self.model_name}", where, "write the qualified name: " + ", ".join(found))
        if not found:
            known = sorted({n for n in self._names(kind) if "." not in n} or set(self._names(kind)))
            shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
            raise error(dg.DOCS_UNKNOWN_ID, f"no {KIND_WORDS[kind]} '{name}' in the model {self.model_name}",
                        where, f"the model's {KIND_WORDS[kind]}s: {shown}" if known
                        else f"the model declares no {KIND_WORDS[kind]}")
        element = self.analysis.model._stores()[kind][found[0]]
        return Element(role, element.name, found[0], str(getattr(element, "title", "") or ""),
                       self.model_location(element.location))

    def find_any(self, roles: Sequence[str], name: str, where: Location) -> Element:
        """The element named `name` among several kinds (the first that has it)."""
        for role in roles:
            if name in self._names(ROLE_KINDS[role]):
                return self.find(role, name, where)
        words = " or ".join(KIND_WORDS[ROLE_KINDS[r]] for r in roles)
        raise error(dg.DOCS_UNKNOWN_ID, f"no {words} '{name}' in the model {self.model_name}", where,
                    "names are as in the model: " + ", ".join(
                        sorted(n for r in roles for n in self._names(ROLE_KINDS[r]) if "." not in n)[:12]))

    # -- blocks -----------------------------------------------------------------------------------------------

    def block(self, block: str, args: Mapping[str, str], where: Location) -> Block:
        if block not in BLOCKS:
            raise error(dg.DOCS_BAD_BLOCK, f"unknown block '{block}'", where, "blocks: " + ", ".join(BLOCKS))
        spec = BLOCKS[block]
        for key in args:
            if key not in spec.params:
                raise error(dg.DOCS_BAD_BLOCK, f"{block}: unexpected argument '{key}'", where,
                            _params_hint(block))
        missing = [k for k in spec.required if not args.get(k)]
        if missing:
            raise error(dg.DOCS_BAD_BLOCK, f"{block}: '{missing[0]}' is required", where, _params_hint(block))
        renders: dict[str, Callable[[dict[str, str], Location], Block]] = {"sops-fta": self._fta, "sops-fmea": self._fmea, "sops-fmeda": self._fmeda,
                  "sops-hara": self._hara, "sops-trace": self._trace, "sops-gsn": self._gsn,
                  "sops-gate": self._gate}
        return renders[block](dict(args), where)

    def _tree(self, hazard: Element, where: Location) -> tuple[FaultTree, FtaResult]:
        for tree, result in self.analysis.trees:
            if tree.name in (hazard.name, hazard.qname):
                return tree, result
        raise error(dg.DOCS_BAD_BLOCK, f"hazard '{hazard.name}' has no fault tree (it has no condition)",
                    where, f"declared at {hazard.location}")

    def _fta(self, args: dict[str, str], where: Location) -> Figure:
        from safetyops_dsl.generators import fault_tree_dot

        hazard = self.find("hazard", args["hazard"], where)
        tree, result = self._tree(hazard, where)
        highlight: tuple[str, ...] | None = None
        title = f"Fault tree of hazard {hazard.name}"
        if "cut-set" in args:
            n = _positive(args["cut-set"], "cut-set", where)
            if n > len(result.cut_sets):
                raise error(dg.DOCS_BAD_BLOCK, f"sops-fta: hazard '{hazard.name}' has {len(result.cut_sets)} "
                            f"listed cut set(s), not {n}", where, "cut-set=N counts from 1, most probable first")
            highlight = tuple(result.cut_sets[n - 1])
            title += f", cut set {n}: " + " + ".join(highlight)
        if "page" in args:
            pages = fault_tree_dot.render_pages(tree, result, highlight, PAGE_NODES, max_columns=PAGE_COLUMNS)
            names = list(pages)
            page = args["page"]
            if page.isdigit() and 1 <= int(page) <= len(names):
                page = names[int(page) - 1]
            if page not in pages:
                raise error(dg.DOCS_BAD_BLOCK, f"sops-fta: the fault tree of '{hazard.name}' has no page "
                            f"'{args['page']}'", where, f"its {len(names)} page(s): 1-{len(names)} or "
                            + ", ".join(names))
            dot = pages[page]
            title += f", page {names.index(page) + 1} of {len(names)}"
        else:
            dot = fault_tree_dot.render_dot(tree, result, highlight)
        return Figure("ft", dot, title, targets=(hazard,))

    def _fmea(self, args: dict[str, str], where: Location) -> Table:
        from safetyops_dsl.generators import tables

        doc = tables.fmea_document(self.analysis.fmea)
        sheet = doc.sheets[0]
        subject, role = self._subject(args, ("goal", "component"), where)
        cols = ("Element", "Failure mode", "λ (FIT)", "System effect (hazards)", "Single point for",
                "Safety mechanisms", "DC (%)", "ASIL", "Residual λ (FIT)")
        if subject is None:
            keep = None
            title = "FMEA"
        elif role == "goal":
            hazards = self._goal_hazards(subject.qname)
            keep = {i for i, r in enumerate(self.analysis.fmea.rows) if set(r.hazards) & hazards}
            title = f"FMEA of safety goal {subject.name}"
        else:
            keep = {i for i, r in enumerate(self.analysis.fmea.rows)
                    if r.component in (subject.name, subject.qname) or r.instance == subject.name}
            title = f"FMEA of component {subject.name}"
        return _table(title, sheet, cols, keep, targets=(subject,) if subject else ())

    def _fmeda(self, args: dict[str, str], where: Location) -> Table:
        from safetyops_dsl.generators import tables

        doc = tables.fmeda_document(self.analysis.fmeda)
        if "goal" not in args:
            cols = ("Goal", "ASIL", "SPFM (%)", "SPFM", "LFM (%)", "LFM", "PMHF (FIT)", "PMHF", "Verdict")
            return _table("FMEDA: hardware metrics per safety goal", doc.sheets[0], cols, None)
        goal = self.find("goal", args["goal"], where)
        sheet = doc.sheets[1]
        keep = {i for i, row in enumerate(sheet.rows) if row[0] in (goal.name, goal.qname)}
        cols = ("Element", "Failure mode", "Class", "λ (FIT)", "Safety mechanisms", "DC (%)", "λSPF (FIT)",
                "λRF (FIT)", "λMPF,L (FIT)")
        g = next((g for g in self.analysis.fmeda.goals if g.goal in (goal.name, goal.qname)), None)
        title = f"FMEDA of safety goal {goal.name}"
        if g is not None:
            title += "; " + "; ".join(f"{m.name} {m.status.value}" for m in g.metrics)
        return _table(title, sheet, cols, keep, targets=(goal,))

    def _hara(self, args: dict[str, str], where: Location) -> Table:
        from safetyops_dsl.generators import tables

        doc = tables.hara_document(self.analysis.hara)
        sheet = doc.sheets[0]
        cols = ("Hazard", "Title", "Situation", "S", "E", "C", "ASIL", "Safety goals", "FTTI")
        subject, role = self._subject(args, ("hazard", "goal"), where)
        if subject is None:
            return _table("HARA", sheet, cols, None)
        if role == "goal":
            hazards = self._goal_hazards(subject.qname)
            names = {h.rsplit(".", 1)[-1] for h in hazards} | hazards
            title = f"HARA of safety goal {subject.name}"
        else:
            names = {subject.name, subject.qname}
            title = f"HARA of hazard {subject.name}"
        keep = {i for i, row in enumerate(sheet.rows) if row[0] in names}
        return _table(title, sheet, cols, keep, targets=(subject,))

    def _subject(self, args: dict[str, str], roles: tuple[str, str], where: Location
                 ) -> tuple[Element | None, str]:
        given = [r for r in roles if r in args]
        if len(given) + ("of" in args) > 1:
            raise error(dg.DOCS_BAD_BLOCK, "give one of " + ", ".join(roles), where)
        if given:
            return self.find(given[0], args[given[0]], where), given[0]
        if "of" in args:
            element = self.find_any(roles, args["of"], where)
            return element, element.role
        return None, ""

    def _goal_hazards(self, goal_qname: str) -> set[str]:
        goal = self.analysis.model.goals[goal_qname]
        out: set[str] = set()
        for ref in goal.mitigates:
            text = ref.text
            out.add(text)
            out.add(text.rsplit(".", 1)[-1])
        return out

    def _trace(self, args: dict[str, str], where: Location) -> Figure:
        from safetyops_dsl.generators import trace_report

        element = self.find_any(("req", "goal", "hazard"), args["id"], where)
        nid = f"{ROLE_KINDS[element.role]}:{element.qname}"
        tg = self.analysis.trace
        if nid not in tg.graph.nodes:
            raise error(dg.DOCS_BAD_BLOCK, f"{KIND_WORDS[ROLE_KINDS[element.role]]} '{element.name}' is not "
                        "in the trace", where)
        nodes, _, _ = trace_report.neighbourhood(tg, nid)
        shown = []
        urls: dict[str, str] = {}
        for n in nodes:
            kind, _, qname = n.partition(":")
            role = ROLE_OF_KIND.get(kind)
            if role and qname in self.analysis.model._stores()[kind]:
                urls[n] = link_placeholder(role, qname)
                if n != nid:
                    shown.append(self.find(role, qname, where))
        return Figure("trace", trace_report.neighbourhood_dot(tg, nid, urls),
                      f"Trace of {KIND_WORDS[ROLE_KINDS[element.role]]} {element.name}",
                      targets=(element,), shown=tuple(shown))

    def _gsn(self, args: dict[str, str], where: Location) -> Figure:
        from safetyops_dsl.generators import gsn_dot

        case = self.analysis.case
        if case is None:
            raise error(dg.DOCS_BAD_BLOCK, "sops-gsn: the model has no safety case",
                        Location(self.model_name), self.analysis.gsn_error or "")
        module = args.get("module")
        try:
            [(name, dot)] = gsn_dot.diagrams(case, module) if module else gsn_dot.diagrams(case, "overview") \
                if len(case.modules) > 1 else gsn_dot.diagrams(case)[:1]
        except KeyError:
            names = sorted(m for m, mod in case.modules.items() if mod.kind != "external")
            raise error(dg.DOCS_BAD_BLOCK, f"sops-gsn: no module '{module}' in the safety case", where,
                        "modules: overview, " + ", ".join(names)) from None
        return Figure("gsn", dot, f"GSN module {name}" if name != "overview" else "GSN overview")

    def _gate(self, args: dict[str, str], where: Location) -> Table:
        items = gate_items(self.analysis)
        rows = tuple((i.check, i.subject, i.status.upper(), i.detail) for i in items)
        return Table("Release gate", ("check", "subject", "result", "detail"), (False,) * 4, rows)


def _positive(text: str, name: str, where: Location) -> int:
    if not text.isdigit() or int(text) < 1:
        raise error(dg.DOCS_BAD_BLOCK, f"{name} must be a whole number from 1, not '{text}'", where)
    return int(text)


def _table(title: str, sheet: Any, columns: Sequence[str], keep: set[int] | None,
           targets: tuple[Element, ...] = ()) -> Table:
    from safetyops_dsl.generators.tables import _html_cell

    index = [next(i for i, c in enumerate(sheet.columns) if c.header == name) for name in columns]
    rows = tuple(
        tuple(_html_cell(row[i], sheet.columns[i])["text"] for i in index)
        for n, row in enumerate(sheet.rows) if keep is None or n in keep
    )
    numeric = tuple(sheet.columns[i].kind == "num" for i in index)
    return Table(title, tuple(columns), numeric, rows, targets)


# -- loading ------------------------------------------------------------------------------------------------


def load(model_dir: str | os.PathLike[str], base: str | os.PathLike[str],
         cache_dir: str | os.PathLike[str] | None = None, where: Location | None = None,
         base_name: str = "the folder of conf.py or mkdocs.yml") -> DocsModel:
    """Parse, check and analyse the model folder. Raises DocsError: SOPS251 when the folder is missing, the
    model's own errors (with their file:line, relative to `base`) when it does not check."""
    base_path = Path(base).resolve()
    path = (base_path / model_dir).resolve()
    where = where or Location(str(model_dir))
    if not path.exists():
        raise error(dg.DOCS_NO_MODEL, f"the model folder '{model_dir}' does not exist", where,
                    f"the path is relative to {base_name}")
    try:
        a = analyse(BuildOptions(paths=(str(path),), cache_dir=str(cache_dir) if cache_dir else None,
                                 use_git=False))
    except BuildError as exc:
        root = path if path.is_dir() else path.parent
        moved = [_relocate(d, root, base_path) for d in exc.diagnostics]
        raise DocsError(moved or [dg.make(dg.DOCS_NO_MODEL, f"the model '{model_dir}' cannot be read", where)]
                        ) from None
    except dg.DiagnosticError as exc:
        raise DocsError(exc.diagnostics) from None
    files = sorted({Path(p).resolve() for p in a.input_files})
    h = hashlib.sha256()
    for p, digest in sorted((str(k), v) for k, v in a.input_digests.items()):
        h.update(f"{os.path.relpath(p, a.root)}\0{digest}\n".encode())
    return DocsModel(a, base_path, files, h.hexdigest())


def _relocate(d: Diagnostic, root: Path, base: Path) -> Diagnostic:
    loc = d.location
    if not loc.file:
        return d
    path = loc.file if os.path.isabs(loc.file) else str(root / loc.file)
    rel = Path(os.path.relpath(path, base)).as_posix()
    return Diagnostic(d.code, d.message, Location(rel, loc.line, loc.col, loc.end_line, loc.end_col), d.hint,
                      d.severity)


# Links on diagram nodes: the DOT gets `sops:<role>:<qualified name>`, which the docs tool replaces, once every
# page is read, by the URL of the block that renders the element (or drops, when none does).
_PLACEHOLDER = re.compile(r'\sxlink:href="sops:(?P<role>[a-z]+):(?P<qname>[^"]+)"')  # Graphviz writes xlink:


def link_placeholder(role: str, qname: str) -> str:
    return f"sops:{role}:{qname}"


def resolve_svg_links(svg: str, url_of: Callable[[str, str], str | None]) -> str:
    """The SVG with every placeholder link replaced by `url_of(role, qname)`, or removed where that is None
    (the node stays, as text)."""
    def put(m: re.Match[str]) -> str:
        url = url_of(m["role"], m["qname"])
        return "" if url is None else f' xlink:href="{html_attr(url)}"'

    return _PLACEHOLDER.sub(put, svg)


def html_attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def render_message(d: Diagnostic) -> str:
    """One line, compiler style: `model/safety.sops:4:1: error[SOPS061]: ... (hint: ...)`."""
    text = f"{d.location}: {d.level.value}[{d.code}]: {d.message}"
    return text + (f" (hint: {d.hint})" if d.hint else "")


# -- drawing ------------------------------------------------------------------------------------------------


def draw(figure: Figure, cache_dir: str | os.PathLike[str] | None) -> str:
    """The figure as SVG. Drawn once per content: `cache_dir/<key>.svg` is reused while the DOT (and so the
    key) is the same, so a docs rebuild runs `dot` only for diagrams whose model part changed."""
    from safetyops_dsl.generators import fault_tree_dot, graphviz, gsn_dot

    cached = Path(cache_dir) / f"{figure.key}.svg" if cache_dir else None
    if cached is not None and cached.is_file():
        return cached.read_text(encoding="utf-8")
    post = {"ft": fault_tree_dot.post_process, "gsn": gsn_dot.post_process}.get(figure.kind)
    try:
        svg = graphviz.render(figure.dot, post)
    except graphviz.GraphvizError as exc:
        raise DrawingFailed(f"{figure.title} cannot be drawn: {exc}",
                            "install Graphviz (Debian/Ubuntu: apt-get install graphviz)") from None
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cached, svg.encode("utf-8"))
    return svg


_CREATION_DATE = re.compile(rb"/CreationDate \(D:\d{14}")


def svg_to_pdf(svg: str, cache_dir: str | os.PathLike[str] | None = None) -> bytes:
    """The SVG as PDF (for LaTeX), with the fault-tree symbols and every post-processed detail kept: the
    SVG itself is converted (cairosvg), not the DOT. Cairo stamps the time of day into /CreationDate: it is
    set to a fixed date, same length, so the PDF is byte-identical for the same SVG."""
    key = hashlib.sha256(svg.encode("utf-8")).hexdigest()
    cached = Path(cache_dir) / f"{key}.pdf" if cache_dir else None
    if cached is not None and cached.is_file():
        return cached.read_bytes()
    try:
        import cairosvg
    except (ImportError, OSError) as exc:
        raise DrawingFailed(f"diagrams for LaTeX/PDF need cairosvg: {exc}",
                            "pip install 'safetyops-dsl[docs]' (cairosvg needs the Cairo library: apt-get "
                            "install libcairo2)") from None
    pdf: bytes = cairosvg.svg2pdf(bytestring=svg.encode("utf-8"))
    pdf = _CREATION_DATE.sub(b"/CreationDate (D:20000101000000", pdf)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cached, pdf)
    return pdf


def svg_for_html(svg: str, figure_id: str) -> str:
    """The SVG ready to be inlined in a page: no XML prolog, and ids made unique per figure (two diagrams
    on one page must not share element ids)."""
    body = re.sub(r"^<\?xml[^>]*\?>\s*", "", svg)
    body = re.sub(r"<!--.*?-->\s*", "", body, flags=re.S)
    prefix = figure_id + "-"
    own = set(re.findall(r'\bid="([^"]+)"', body))
    body = re.sub(r'\bid="', 'id="' + prefix, body)
    # only references to the SVG's own ids move with them; a link to an anchor of the page stays
    body = re.sub(r'(href="#|url\(#)([^")]+)', lambda m: m[1] + (prefix if m[2] in own else "") + m[2], body)
    # scale to the column, keeping the aspect ratio (the width and height attributes stay as the maximum)
    body = re.sub(r"<svg\b", '<svg style="max-width:100%;height:auto"', body, count=1)
    return "\n".join(line for line in body.splitlines() if line.strip())


# -- finding blocks and links in docs sources (the MkDocs plugin and `sops docs check`) ------------------------


@dataclass(frozen=True)
class Use:
    """A block or a link in a docs source: `name` is the block (sops-fta) or the link's role (req)."""

    kind: str  # block | link
    name: str
    text: str  # the block's arguments as written, or the link's id
    where: Location
    end: int = 0  # a Markdown block: the index of its closing fence line


_MD_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\n]*)$")
_MD_LINK = re.compile(r"\[[^\]\n]*\]\(sops:(?P<role>[a-z]+):(?P<id>[^)\s]+)\)")
_RST_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\.\s+(?P<name>sops-[a-z]+)::(?P<arg>.*)$")
_RST_OPTION = re.compile(r"^\s+:(?P<key>[a-z-]+):\s*(?P<value>.*)$")
_RST_CODE = re.compile(r"^\s*\.\.\s+(code-block|code|sourcecode|parsed-literal)::")
_RST_ROLE = re.compile(r":sops:(?P<role>[a-z]+):`(?P<id>[^`]+)`")


def markdown_uses(lines: Sequence[str], path: str) -> list[Use]:
    """Blocks (fences whose info string names a block, arguments on the info line or in the body) and
    `[text](sops:role:id)` links; other fenced code is skipped, so a page can show the syntax."""
    uses: list[Use] = []
    i = 0
    while i < len(lines):
        m = _MD_FENCE.match(lines[i])
        if not m:
            uses += [Use("link", k["role"], k["id"], Location(path, i + 1, k.start() + 1))
                     for k in _MD_LINK.finditer(lines[i])]
            i += 1
            continue
        fence = m["fence"]
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = i + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        name, _, args = m["info"].strip().partition(" ")
        if name in BLOCKS or name.startswith("sops-"):
            body = " ".join(line.strip() for line in lines[i + 1:end])
            uses.append(Use("block", name, f"{args} {body}".strip(), Location(path, i + 1), end))
        i = end + 1
    return uses


def rst_uses(lines: Sequence[str], path: str) -> list[Use]:
    """Directives `.. sops-x:: ARG` with their `:key: value` options, and `:sops:role:`id`` roles; literal
    blocks (after a `::` line) and code directives are skipped."""
    uses: list[Use] = []
    literal_indent: int | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if not line.strip() or indent > literal_indent:
                i += 1
                continue
            literal_indent = None
        m = _RST_DIRECTIVE.match(line)
        if m:
            args = [m["arg"].strip()] if m["arg"].strip() else []
            j = i + 1
            while j < len(lines) and (o := _RST_OPTION.match(lines[j])):
                args.append(f"{o['key']}={o['value'].strip()}")
                j += 1
            uses.append(Use("block", m["name"], " ".join(args), Location(path, i + 1)))
            i = j
            continue
        uses += [Use("link", k["role"], k["id"], Location(path, i + 1, k.start() + 1))
                 for k in _RST_ROLE.finditer(line)]
        if line.rstrip().endswith("::") or _RST_CODE.match(line):
            literal_indent = indent
        i += 1
    return uses


def check_uses(model: DocsModel, uses: Sequence[Use]) -> list[Diagnostic]:
    """What a docs build would report for these blocks and links, without drawing anything: bad blocks,
    unknown ids, and links to elements that no block renders."""
    diags: list[Diagnostic] = []
    rendered: set[tuple[str, str]] = set()
    for use in uses:
        if use.kind != "block":
            continue
        try:
            if use.name not in BLOCKS:
                raise error(dg.DOCS_BAD_BLOCK, f"unknown block '{use.name}'", use.where,
                            "blocks: " + ", ".join(BLOCKS))
            block = model.block(use.name, parse_args(use.name, use.text, use.where), use.where)
        except DocsError as exc:
            diags += exc.diagnostics
            continue
        rendered.update((e.role, e.qname) for e in (*block.targets, *block.shown))
    for use in uses:
        if use.kind != "link":
            continue
        if use.name not in ROLE_KINDS:
            diags.append(dg.make(dg.DOCS_BAD_BLOCK, f"unknown link kind 'sops:{use.name}:'", use.where,
                                 "kinds: " + ", ".join(ROLE_KINDS)))
            continue
        try:
            element = model.find(use.name, use.text, use.where)
        except DocsError as exc:
            diags += exc.diagnostics
            continue
        if (element.role, element.qname) not in rendered:
            diags.append(not_rendered(element, use.where))
    return dg.sort_unique(diags)


def not_rendered(element: Element, where: Location) -> Diagnostic:
    hint = {"hazard": f"add a block that renders it, e.g. sops-fta {element.name} or sops-trace {element.name}",
            "goal": f"add a block that renders it, e.g. sops-trace {element.name} or sops-fmeda {element.name}",
            "req": f"add a block that renders it, e.g. sops-trace {element.name}",
            "evidence": "add sops-trace of a requirement it verifies (the trace shows its evidence)",
            "component": f"add a block that renders it, e.g. sops-fmea component={element.name}"}[element.role]
    return dg.make(dg.DOCS_NOT_RENDERED, f"{KIND_WORDS[ROLE_KINDS[element.role]]} '{element.name}' is "
                   "rendered by no block, so the link has no target", where, hint)
