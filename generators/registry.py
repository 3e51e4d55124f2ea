"""The format registry: every output format of every artifact, declared once.

A command's `--format` choices and the files `sops build` writes under `exports/` both come from this table
(as textX's `GeneratorDesc(language, target, generator)` does), so a format added here is offered by the
command and published by the build, and no caller probes a generator with `hasattr`.

Writers are named as `module:function` and imported on first use: the CLI lists the choices at start-up
without importing openpyxl, Graphviz or Jinja2.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PKG = "safetyops_dsl.generators"


@dataclass(frozen=True)
class Format:
    artifact: str  # fmea | fmeda | hara | sotif | trace | diff | gate
    name: str  # the --format value and the file suffix
    writer: str  # "module:function", called as function(*subject, name, **options)
    binary: bool = False  # bytes: needs -o on the command line
    export: bool = True  # `sops build` writes exports/<artifact>.<name>
    description: str = ""

    def load(self) -> Callable[..., str | bytes]:
        module, _, func = self.writer.partition(":")
        fn: Callable[..., str | bytes] = getattr(importlib.import_module(module), func)
        return fn

    def render(self, *subject: Any, **options: Any) -> str | bytes:
        return self.load()(*subject, self.name, **options)


def _tables(artifact: str, module: str = "tables") -> tuple[Format, ...]:
    w = f"{PKG}.{module}:render"
    return (
        Format(artifact, "md", w, description="Markdown"),
        Format(artifact, "csv", w, description="CSV (formula-safe cells)"),
        Format(artifact, "html", w, description="a standalone HTML page"),
        Format(artifact, "xlsx", w, binary=True, description="a spreadsheet"),
        Format(artifact, "json", w, description="JSON for machines"),
    )


def _trace() -> tuple[Format, ...]:
    w = f"{PKG}.trace_report:render"
    return tuple(Format("trace", n, w, description=d) for n, d in (
        ("md", "Markdown"), ("csv", "the matrix as CSV"), ("html", "a standalone HTML page"),
        ("json", "JSON with the whole graph"), ("dot", "the trace graph in DOT"),
    )) + (
        # the build draws the global graph as one of its diagrams, and only while it is small enough to read
        # (a page per element otherwise: docs/diagrams.md)
        Format("trace", "svg", w, export=False, description="the trace graph drawn"),
    )


FORMATS: tuple[Format, ...] = (
    *_tables("fmea"),
    *_tables("fmeda"),
    *_tables("hara"),
    *_tables("sotif", "sotif_report"),
    *_trace(),
    Format("diff", "md", f"{PKG}.diff_report:render", export=False, description="a pull-request comment"),
    Format("diff", "json", f"{PKG}.diff_report:render", export=False, description="JSON for machines"),
)


def choices(artifact: str) -> tuple[str, ...]:
    """The --format values of an artifact, in registration order."""
    found = tuple(f.name for f in FORMATS if f.artifact == artifact)
    if not found:
        raise KeyError(f"no formats registered for {artifact!r}")
    return found


def find(artifact: str, name: str) -> Format:
    for f in FORMATS:
        if f.artifact == artifact and f.name == name:
            return f
    raise KeyError(f"{artifact} has no format {name!r}")


def exports(artifact: str) -> tuple[Format, ...]:
    """The formats `sops build` writes for an artifact."""
    return tuple(f for f in FORMATS if f.artifact == artifact and f.export)
