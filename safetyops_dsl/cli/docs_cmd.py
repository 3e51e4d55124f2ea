"""`sops docs check`: the blocks and links of a docs project checked against the model, without Sphinx or
MkDocs (a fast CI step before the docs build, and the same diagnostics the build would give).

Exit status: 0 every block renders and every link has a target; 1 errors (or, with --strict, warnings);
2 usage errors. Diagnostics go to stderr with the docs file:line (or the model's file:line).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from safetyops_dsl.cli.common import print_diagnostics

SUFFIXES = (".md", ".rst")


def _sources(paths: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += [f for f in p.rglob("*") if f.suffix in SUFFIXES and f.is_file()
                      and not any(part.startswith((".", "_")) for part in f.relative_to(p).parts)]
        else:
            found.append(p)
    return sorted(found)


@click.group("docs")
def docs() -> None:
    """Docs that embed the model: check their blocks and links (the Sphinx extension and MkDocs plugin
    render them; docs/docs-integration.md)."""


@docs.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--model", "model_dir", required=True, type=click.Path(),
              help="The model folder the docs render (as sops_model in conf.py or model: in mkdocs.yml).")
@click.option("--strict", is_flag=True, help="Warnings fail too (as sphinx-build -W, mkdocs build --strict).")
def check(paths: tuple[str, ...], model_dir: str, strict: bool) -> None:
    """Check the sops blocks and links of docs PATHS (.md and .rst files, or folders of them)."""
    from safetyops_dsl import diagnostics as dg
    from safetyops_dsl import docs_render as dr
    from safetyops_dsl.parse.loader import source_lines

    sources: dict[str, list[str]] = {}
    uses: list[dr.Use] = []
    diags: list[dg.Diagnostic] = []
    for f in _sources(paths):
        name = f.as_posix()
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            diags.append(dg.make(dg.UNREADABLE, f"cannot read {name}: {exc}", dg.Location(name)))
            continue
        sources[name] = source_lines(text)
        lines = text.splitlines()
        uses += dr.rst_uses(lines, name) if f.suffix == ".rst" else dr.markdown_uses(lines, name)
    if not diags:
        try:
            model = dr.load(model_dir, ".", where=dg.Location(model_dir), base_name="the current folder")
        except dr.DocsError as exc:
            diags += exc.diagnostics
        else:
            diags += dr.check_uses(model, uses)
    if strict:
        diags = dg.promote_warnings(diags)
    diags = dg.sort_unique(diags)
    for d in diags:
        if d.location.file and d.location.file not in sources:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                sources[d.location.file] = source_lines(Path(d.location.file).read_text(encoding="utf-8"))
    print_diagnostics(diags, sources)
    errors, warnings = dg.count(diags)
    blocks = sum(1 for u in uses if u.kind == "block")
    click.echo(f"docs: {blocks} block{'s' if blocks != 1 else ''}, {len(uses) - blocks} "
               f"link{'s' if len(uses) - blocks != 1 else ''}: {errors} error{'s' if errors != 1 else ''}, "
               f"{warnings} warning{'s' if warnings != 1 else ''}", err=True)
    sys.exit(1 if errors else 0)
