"""MkDocs plugin `safetyops`: the model's diagrams and tables in Markdown pages (docs/docs-integration.md).

    plugins:
      - safetyops:
          model: ../models/aeb        # relative to mkdocs.yml

A fenced block whose info string is a block name renders that block at build time:

    ```sops-fta hazard=H1 cut-set=1
    ```

and a link `[FSR1](sops:req:FSR1)` points at the page where a block renders FSR1. An unknown id, a bad
argument or a broken model is a warning with a file:line (the page's, or the model's), so `mkdocs build
--strict` fails with a message. Diagrams are cached by content digest under `cache_dir`, so a rebuild
runs `dot` only for what changed in the model. Works with any theme (tested with mkdocs and Material).
"""

from __future__ import annotations

import html
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.plugins import BasePlugin
from mkdocs.utils import get_relative_url

from safetyops_dsl import diagnostics as dg
from safetyops_dsl import docs_render as dr
from safetyops_dsl.diagnostics import Diagnostic, Location

log = logging.getLogger("mkdocs.plugins.safetyops")

_HREF = re.compile(r'(?<![\w:])href="sops:(?P<role>[a-z]+):(?P<id>[^"]+)"')  # a Markdown link, not a diagram's


class SafetyOpsConfig(Config):
    model = config_options.Type(str, default="")
    cache_dir = config_options.Type(str, default=".cache/safetyops")


@dataclass(frozen=True)
class _Link:
    role: str
    qname: str
    where: Location


class SafetyOpsPlugin(BasePlugin[SafetyOpsConfig]):
    def __init__(self) -> None:
        self._base = Path.cwd()
        self._model: dr.DocsModel | None = None
        self._loaded = False
        self._targets: dict[tuple[str, str], tuple[str, str]] = {}  # (role, qname) -> (page url, anchor)
        self._shown: dict[tuple[str, str], tuple[str, str]] = {}
        self._blocks: dict[str, str] = {}  # placeholder -> HTML
        self._links: dict[str, list[_Link]] = {}  # page src -> links written on it
        self._nonce = secrets.token_hex(8)
        self._counts = {"drawn": 0, "cached": 0}

    # -- set-up ------------------------------------------------------------------------------------------------

    def on_config(self, config: Any) -> Any:
        self._base = Path(config.config_file_path).resolve().parent if config.config_file_path else Path.cwd()
        self._model, self._loaded = None, False
        self._targets, self._shown, self._blocks, self._links = {}, {}, {}, {}
        self._counts = {"drawn": 0, "cached": 0}
        return config

    def _cache(self) -> Path | None:
        return self._base / self.config.cache_dir if self.config.cache_dir else None

    def _get_model(self, where: Location) -> dr.DocsModel | None:
        if self._loaded:
            if self._model is None:
                _warn(dg.make(dg.DOCS_NO_MODEL, "block not rendered: the model could not be loaded (see above)",
                              where))
            return self._model
        self._loaded = True
        if not self.config.model:
            _warn(dg.make(dg.DOCS_NO_MODEL, "the safetyops plugin has no `model:` folder", where,
                          "plugins: [{safetyops: {model: path/to/model}}] (relative to mkdocs.yml)"))
            return None
        cache = self._cache()
        try:
            self._model = dr.load(self.config.model, self._base, cache / "parse" if cache else None,
                                  Location("mkdocs.yml"))
        except dr.DocsError as exc:
            for d in exc.diagnostics:
                _warn(d)
        return self._model

    def on_serve(self, server: Any, config: Any, builder: Any) -> Any:
        if self.config.model:
            server.watch(str(self._base / self.config.model))
        return server

    # -- pages -------------------------------------------------------------------------------------------------

    def on_page_markdown(self, markdown: str, page: Any, config: Any, files: Any) -> str:
        src = page.file.abs_src_path or page.file.src_uri
        path = Path(os.path.relpath(src, self._base)).as_posix()
        lines = markdown.split("\n")
        out: list[str] = []
        done = 0
        for use in dr.markdown_uses(lines, path):
            if use.kind == "link":
                self._link(use, page)
                continue
            start = use.where.line - 1
            out += lines[done:start]
            out += ["", self._block(use.name, use.text, use.where, page), ""]
            done = use.end + 1
        out += lines[done:]
        return "\n".join(out)

    def _link(self, use: dr.Use, page: Any) -> None:
        if use.name not in dr.ROLE_KINDS:
            _warn(dg.make(dg.DOCS_BAD_BLOCK, f"unknown link kind 'sops:{use.name}:'", use.where,
                          "kinds: " + ", ".join(f"sops:{r}:" for r in dr.ROLE_KINDS)))
            return
        model = self._get_model(use.where)
        if model is None:
            return
        try:
            element = model.find(use.name, use.text, use.where)
        except dr.DocsError as exc:
            for d in exc.diagnostics:
                _warn(d)
            return
        self._links.setdefault(page.file.src_uri, []).append(_Link(use.name, element.qname, use.where))

    def _block(self, name: str, args_text: str, where: Location, page: Any) -> str:
        model = self._get_model(where)
        if model is None:
            return ""
        try:
            if name not in dr.BLOCKS:
                raise dr.error(dg.DOCS_BAD_BLOCK, f"unknown block '{name}'", where, "blocks: " + ", ".join(dr.BLOCKS))
            block = model.block(name, dr.parse_args(name, args_text, where), where)
            body = self._figure(block) if isinstance(block, dr.Figure) else _table_html(block)
        except dr.DocsError as exc:
            for d in exc.diagnostics:
                _warn(d)
            return ""
        except dr.DrawingFailed as exc:
            log.warning(f"{where}: safetyops: {exc} (hint: {exc.hint})")
            return ""
        anchors = []
        for element in block.targets:
            if (element.role, element.qname) not in self._targets:
                self._targets[(element.role, element.qname)] = (page.file.url, element.anchor)
                anchors.append(element.anchor)
        anchor = block.targets[0].anchor if block.targets else ""  # evidence on a trace links to the trace
        for element in block.shown:
            self._shown.setdefault((element.role, element.qname), (page.file.url, anchor))
        token = f"SOPSBLOCK{self._nonce}N{len(self._blocks)}"
        ids = "".join(f'<span id="{a}"></span>' for a in anchors)
        self._blocks[token] = ids + body
        return token

    def _figure(self, fig: dr.Figure) -> str:
        cache = self._cache()
        cached = cache is not None and (cache / "svg" / f"{fig.key}.svg").is_file()
        self._counts["cached" if cached else "drawn"] += 1
        svg = dr.draw(fig, cache / "svg" if cache else None)
        return (f'<figure class="sops-figure sops-{fig.kind}"><div class="sops-diagram" style="overflow-x:auto">'
                + dr.svg_for_html(svg, "sops" + fig.key[:12])
                + f"</div><figcaption>{html.escape(fig.title)}</figcaption></figure>")

    def on_page_content(self, html_text: str, page: Any, config: Any, files: Any) -> str:
        def put(m: re.Match[str]) -> str:
            return self._blocks.get(m.group(1), m.group(0))

        return re.sub(rf"<p>(SOPSBLOCK{self._nonce}N\d+)</p>", put, html_text)

    def on_post_page(self, output: str, page: Any, config: Any) -> str:
        links = {(k.role, k.qname): k for k in self._links.get(page.file.src_uri, [])}
        model = self._model

        def resolve(m: re.Match[str]) -> str:
            role, ident = m["role"], m["id"]
            if model is None or role not in dr.ROLE_KINDS:
                return m.group(0)
            try:
                element = model.find(role, ident, Location(page.file.src_uri))
            except dr.DocsError:
                return m.group(0)  # reported when the page was read
            found = self._targets.get((role, element.qname)) or self._shown.get((role, element.qname))
            if found is None:
                link = links.get((role, element.qname))
                _warn(dr.not_rendered(element, link.where if link else Location(page.file.src_uri)))
                return m.group(0)
            url, anchor = found
            rel = get_relative_url(url, page.file.url) if url != page.file.url else ""
            return f'href="{html.escape(rel)}{"#" + anchor if anchor else ""}" title="{html.escape(element.title)}"'

        def node_url(role: str, qname: str) -> str | None:
            found = self._targets.get((role, qname)) or self._shown.get((role, qname))
            if found is None:
                return None
            url, anchor = found
            rel = get_relative_url(url, page.file.url) if url != page.file.url else ""
            return rel + (f"#{anchor}" if anchor else "")

        return _HREF.sub(resolve, dr.resolve_svg_links(output, node_url))


    def on_post_build(self, config: Any) -> None:
        if self._counts["drawn"] or self._counts["cached"]:
            log.info(f"safetyops: {self._counts['drawn']} diagram(s) drawn, {self._counts['cached']} taken "
                     "from the cache")


def _warn(d: Diagnostic) -> None:
    text = f"{d.location}: {d.level.value}[{d.code}]: {d.message}" + (f" (hint: {d.hint})" if d.hint else "")
    # errors at ERROR level: `mkdocs build --strict -q` drops warnings before counting them, not errors
    {dg.Severity.NOTE: log.info, dg.Severity.WARNING: log.warning}.get(d.level, log.error)(text)


def _table_html(t: dr.Table) -> str:
    def row(cells: tuple[str, ...], tag: str) -> str:
        right = ' style="text-align:right"'
        return "<tr>" + "".join(f"<{tag}{right if num and tag == 'td' else ''}>{html.escape(c)}</{tag}>"
                                for c, num in zip(cells, t.numeric, strict=True)) + "</tr>"

    rows = [row(r, "td") for r in t.rows] or [f'<tr><td colspan="{len(t.headers)}">(none)</td></tr>']
    return ('<table class="sops-table">' + f"<caption>{html.escape(t.title)}</caption>"
            + "<thead>" + row(t.headers, "th") + "</thead><tbody>" + "".join(rows) + "</tbody></table>")
