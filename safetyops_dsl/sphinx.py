"""Sphinx extension: the model's diagrams and tables rendered at docs build time (docs/docs-integration.md).

    extensions = ["safetyops_dsl.sphinx"]
    sops_model = "../models/aeb"        # relative to conf.py

Directives `sops-fta`, `sops-fmea`, `sops-fmeda`, `sops-hara`, `sops-trace`, `sops-gsn`, `sops-gate` (the
blocks of docs_render), and roles `:sops:hazard:`, `:sops:goal:`, `:sops:req:`, `:sops:evidence:`,
`:sops:component:` that link an element to the page where a block renders it. Every problem is a Sphinx
warning (type "sops", subtype the SOPS code) with a file:line, in the model or in the docs source, so
`sphinx-build -W` stops with a message and never a traceback.

Incremental: every document that uses a block or role depends on the model's files (note_dependency), so
an edit of the model re-reads those documents only; a diagram is drawn by `dot` only when its DOT changed
(SVG and PDF cached by content digest under the doctree folder).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.domains import Domain
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole
from sphinx.util.nodes import make_refnode

from safetyops_dsl import diagnostics as dg
from safetyops_dsl import docs_render as dr
from safetyops_dsl.diagnostics import Diagnostic, Location

logger = logging.getLogger(__name__)
ENV_VERSION = 1


class sops_diagram(nodes.General, nodes.Inline, nodes.Element):  # noqa: N801 - docutils names nodes so
    """An SVG diagram of the model: inlined in HTML, a PDF converted from the same SVG in LaTeX."""


# -- the model, loaded once per build process ---------------------------------------------------------------


# Per build (keyed by the doctree folder): the folder of conf.py, the loaded model, the diagram counts. Kept
# out of the environment, which Sphinx pickles, and off `env.app`, which Sphinx deprecates.
_STATES: dict[str, dict[str, Any]] = {}


def _state(env: BuildEnvironment) -> dict[str, Any]:
    return _STATES.setdefault(str(env.doctreedir), {})


def _cache(env: BuildEnvironment) -> Path:
    return Path(env.doctreedir) / "sops"


def _model(env: BuildEnvironment, where: Location, quiet: bool = False) -> dr.DocsModel | None:
    """The model, or None after its problems were reported (once per build; `quiet`: no warning for this
    use, a role whose text stays as it is)."""
    state = _state(env)
    if "model" in state:
        model: dr.DocsModel | None = state["model"]
        if model is None and not quiet:
            _warn(dg.make(dg.DOCS_NO_MODEL, "block not rendered: the model could not be loaded (see above)",
                          where))
        return model
    folder = env.config.sops_model
    if not folder:
        state["model"] = None
        _warn(dg.make(dg.DOCS_NO_MODEL, "sops_model is not set in conf.py", where,
                      'add sops_model = "path/to/model" (relative to conf.py)'))
        return None
    # A document that used a broken model depends on its files too: fixing the model re-reads it.
    confdir = state.get("confdir") or env.srcdir
    folder_path = Path(confdir, folder)
    state["files"] = sorted(folder_path.rglob("*.sops")) if folder_path.is_dir() else [folder_path]
    try:
        state["model"] = dr.load(folder, confdir, _cache(env) / "parse", Location("conf.py"))
    except dr.DocsError as exc:
        state["model"] = None
        for d in exc.diagnostics:
            _warn(d)
    return state["model"]


def _warn(d: Diagnostic, node: nodes.Node | None = None) -> None:
    text = f"{d.level.value}[{d.code}]: {d.message}" + (f" (hint: {d.hint})" if d.hint else "")
    loc = d.location
    location: Any = node if node is not None and not loc.file else (
        f"{loc.file}:{loc.line}" if loc.line > 0 else loc.file) or None
    if d.level is dg.Severity.NOTE:
        logger.info(text, location=location)
    else:
        logger.warning(text, location=location, type="sops", subtype=d.code)


def _where(get_location: str) -> Location:
    """Sphinx's 'path/doc.rst:12' as a Location, the path relative to the current folder as Sphinx prints it."""
    path, _, line = get_location.rpartition(":")
    if not path or not line.isdigit():
        return Location(get_location)
    return Location(path, int(line))


def _depend(env: BuildEnvironment) -> None:
    state = _state(env)
    model: dr.DocsModel | None = state.get("model")
    for f in sorted({*state.get("files", ()), *(model.files if model else ())}):
        if f.is_file():  # Sphinx takes a missing dependency for a changed one: every build would re-read
            env.note_dependency(os.fspath(f))


# -- directives ---------------------------------------------------------------------------------------------


class SopsBlock(SphinxDirective):
    block = ""
    optional_arguments = 1
    final_argument_whitespace = False

    def run(self) -> list[nodes.Node]:
        where = _where(self.get_location())
        model = _model(self.env, where)
        _depend(self.env)
        if model is None:
            return []
        args = {k: str(v) for k, v in self.options.items()}
        if self.arguments:
            positional = dr.BLOCKS[self.block].positional
            if positional in args:
                _warn(dg.make(dg.DOCS_BAD_BLOCK, f"{self.block}: {positional} given twice", where))
                return []
            args[positional] = self.arguments[0]
        try:
            block = model.block(self.block, args, where)
            return [self._figure(block, model) if isinstance(block, dr.Figure) else self._table(block)]
        except dr.DocsError as exc:
            for d in exc.diagnostics:
                _warn(d)
            return []

    def _ids(self, block: dr.Figure | dr.Table) -> list[str]:
        """Anchors of the elements this block renders, registered for the roles."""
        data = self.env.get_domain("sops").data
        ids = []
        for element in block.targets:
            anchor = element.anchor
            if anchor in self.state.document.ids or anchor in ids:
                continue
            ids.append(anchor)
            data["objects"].setdefault((element.role, element.qname), (self.env.docname, anchor))
        # an element drawn on the block (evidence on a trace) links to the block
        anchor = ids[0] if ids else (block.targets[0].anchor if block.targets else "")
        for element in block.shown:
            data["shown"].setdefault((element.role, element.qname), (self.env.docname, anchor))
        return ids

    def _figure(self, fig: dr.Figure, model: dr.DocsModel) -> nodes.Node:
        counts: dict[str, int] = _state(self.env).setdefault("counts", {"drawn": 0, "cached": 0})
        counts["cached" if (_cache(self.env) / "svg" / f"{fig.key}.svg").is_file() else "drawn"] += 1
        try:
            svg = dr.draw(fig, _cache(self.env) / "svg")
        except dr.DrawingFailed as exc:
            logger.warning(f"safetyops: {exc} (hint: {exc.hint})", location=self.get_location(), type="sops")
            return nodes.paragraph(text=f"[{fig.title}: not drawn]")
        figure = nodes.figure(classes=["sops-figure", f"sops-{fig.kind}"], ids=self._ids(fig))
        figure += sops_diagram(svg=svg, key=fig.key, title=fig.title)
        figure += nodes.caption(text=fig.title)
        return figure

    def _table(self, t: dr.Table) -> nodes.Node:
        table = nodes.table(classes=["sops-table"], ids=self._ids(t))
        table += nodes.title(text=t.title)
        group = nodes.tgroup(cols=len(t.headers))
        table += group
        for header in t.headers:
            group += nodes.colspec(colwidth=max(4, len(header)))
        head = nodes.thead()
        group += head
        head += self._row(t.headers, (False,) * len(t.headers))
        body = nodes.tbody()
        group += body
        for row in t.rows:
            body += self._row(row, t.numeric)
        if not t.rows:
            body += self._row(("(none)",) + ("",) * (len(t.headers) - 1), (False,) * len(t.headers))
        return table

    @staticmethod
    def _row(cells: tuple[str, ...], numeric: tuple[bool, ...]) -> nodes.row:
        row = nodes.row()
        for text, num in zip(cells, numeric, strict=True):
            entry = nodes.entry(classes=["sops-num"] if num else [])
            entry += nodes.paragraph(text=text)
            row += entry
        return row


def _directive(block: str) -> type[SopsBlock]:
    spec = dr.BLOCKS[block]
    options = {p: directives.unchanged_required for p in spec.params if p != spec.positional}
    return type(block.replace("-", "_"), (SopsBlock,), {
        "block": block,
        "option_spec": options,
        "optional_arguments": 1 if spec.positional else 0,
    })


# -- roles and the domain -------------------------------------------------------------------------------------


class SopsRole(SphinxRole):
    """`:sops:req:`FSR1`` -> a link to the block that renders FSR1 (checked against the model here)."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        role = self.name.split(":", 1)[-1]
        where = _where(self.get_location())
        text = nodes.literal(self.rawtext, self.text, classes=["sops", f"sops-{role}"])
        model = _model(self.env, where, quiet=True)
        _depend(self.env)
        if model is None:
            return [text], []
        try:
            element = model.find(role, self.text, where)
        except dr.DocsError as exc:
            for d in exc.diagnostics:
                _warn(d)
            return [text], []
        ref = pending_xref(self.rawtext, refdomain="sops", reftype=role, reftarget=element.qname,
                           refexplicit=True, refwarn=False, reftitle=element.title)
        ref += text
        return [ref], []


class SopsDomain(Domain):
    name = "sops"
    label = "safetyops-dsl"
    roles: ClassVar[dict[str, Any]] = {role: SopsRole() for role in dr.ROLE_KINDS}
    initial_data: ClassVar[dict[str, Any]] = {"objects": {}, "shown": {}}
    data_version = ENV_VERSION

    def clear_doc(self, docname: str) -> None:
        for key in ("objects", "shown"):
            for k, (doc, _) in list(self.data[key].items()):
                if doc == docname:
                    del self.data[key][k]

    def merge_domaindata(self, docnames: Any, otherdata: dict[str, Any]) -> None:
        for key in ("objects", "shown"):
            for k, (doc, anchor) in otherdata[key].items():
                if doc in docnames:
                    mine = self.data[key].get(k)
                    if mine is None or doc < mine[0]:  # the same page wins however the reads were split
                        self.data[key][k] = (doc, anchor)

    def resolve_xref(self, env: BuildEnvironment, fromdocname: str, builder: Builder, typ: str, target: str,
                     node: pending_xref, contnode: nodes.Element) -> nodes.reference | None:
        found = self.data["objects"].get((typ, target)) or self.data["shown"].get((typ, target))
        if found is None:
            element = dr.Element(typ, node.astext(), target, "", Location(""))
            _warn(dr.not_rendered(element, Location("")), node)
            return None
        docname, anchor = found
        return make_refnode(builder, fromdocname, docname, anchor, contnode, node.get("reftitle") or None)

    def resolve_any_xref(self, env: BuildEnvironment, fromdocname: str, builder: Builder, target: str,
                         node: pending_xref, contnode: nodes.Element) -> list[tuple[str, nodes.reference]]:
        return []

    def get_objects(self) -> Any:
        for (role, qname), (docname, anchor) in sorted(self.data["objects"].items()):
            yield qname, qname, role, docname, anchor, 1


# -- writers --------------------------------------------------------------------------------------------------


def _html_visit(self: Any, node: sops_diagram) -> None:
    builder = self.builder
    data = builder.env.get_domain("sops").data
    here = getattr(builder, "current_docname", "")

    def url_of(role: str, qname: str) -> str | None:
        found = data["objects"].get((role, qname)) or data["shown"].get((role, qname))
        if found is None:
            return None
        docname, anchor = found
        page = builder.get_relative_uri(here, docname) if docname != here else ""
        return page + (f"#{anchor}" if anchor else "")

    svg = dr.resolve_svg_links(node["svg"], url_of)
    self.body.append('<div class="sops-diagram">' + dr.svg_for_html(svg, "sops" + node["key"][:12]) + "</div>")
    raise nodes.SkipNode


def _latex_visit(self: Any, node: sops_diagram) -> None:
    stem = f"sops-{node['key'][:16]}"
    name = stem + ".pdf"
    try:
        # the PDF holds no links: a page number is not an address, and a PDF link to a URL would lead nowhere
        pdf = dr.svg_to_pdf(dr.resolve_svg_links(node["svg"], lambda role, qname: None),
                            _cache(self.builder.env) / "pdf")
    except dr.DrawingFailed as exc:
        logger.warning(f"safetyops: {exc} (hint: {exc.hint})", location=node, type="sops")
        raise nodes.SkipNode from None
    out = Path(self.builder.outdir) / name
    if not out.is_file() or out.read_bytes() != pdf:
        from safetyops_dsl.atomic import write_atomic

        write_atomic(out, pdf)
    self.body.append("\n\\sphinxincludegraphics[width=\\linewidth,height=0.75\\textheight,keepaspectratio]"
                     f"{{{{{stem}}}.pdf}}\n")  # {{stem}.pdf}: the braces as Sphinx writes image names
    raise nodes.SkipNode


def _text_visit(self: Any, node: sops_diagram) -> None:
    self.add_text("[diagram] ")  # the figure's caption follows with its title
    raise nodes.SkipNode


def _skip(self: Any, node: sops_diagram) -> None:
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("sops_model", None, "env", types=[str, Path])
    app.add_node(sops_diagram, html=(_html_visit, None), latex=(_latex_visit, None), text=(_text_visit, None),
                 man=(_skip, None), texinfo=(_skip, None))
    for block in dr.BLOCKS:
        app.add_directive(block, _directive(block))
    app.add_domain(SopsDomain)
    app.add_css_file("sops.css")
    app.connect("builder-inited", _start)
    app.connect("builder-inited", _add_static)
    app.connect("env-updated", _report)
    return {"version": "1", "env_version": ENV_VERSION, "parallel_read_safe": True, "parallel_write_safe": True}


def _start(app: Sphinx) -> None:
    """A build starts: the model is loaded anew, relative to the folder of conf.py."""
    _STATES[str(app.doctreedir)] = {"confdir": str(app.confdir)}


def _report(app: Sphinx, env: BuildEnvironment) -> list[str]:
    counts = _state(env).get("counts")
    if counts:
        logger.info(f"safetyops: {counts['drawn']} diagram(s) drawn, {counts['cached']} taken from the cache")
    return []


_CSS = """\
/* safetyops_dsl.sphinx: diagrams scale to the page width, wide tables scroll */
.sops-diagram svg { max-width: 100%; height: auto; }
.sops-diagram { overflow-x: auto; }
table.sops-table td.sops-num p { text-align: right; }
table.sops-table { font-size: 90%; }
"""


def _add_static(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    static = Path(app.doctreedir) / "sops" / "static"
    static.mkdir(parents=True, exist_ok=True)
    css = static / "sops.css"
    if not css.is_file() or css.read_text(encoding="utf-8") != _CSS:
        from safetyops_dsl.atomic import write_atomic

        write_atomic(css, _CSS)
    if str(static) not in app.config.html_static_path:
        app.config.html_static_path.append(str(static))
