"""The pipeline in one call: parse -> build -> assemble -> validate. Used by the CLI and by library users."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.model.index import Model, assemble
from safetyops_dsl.parse.loader import Overrides, ParseMemo, StoredResults, load


@dataclass
class Checked:
    model: Model | None  # None when the files could not be parsed
    diagnostics: list[Diagnostic]
    sources: dict[str, list[str]] = field(default_factory=dict)
    file_count: int = 0
    digests: dict[str, str] = field(default_factory=dict)  # real path -> sha256 of the bytes parsed

    @property
    def ok(self) -> bool:
        return self.model is not None and not dg.has_errors(self.diagnostics)


def check(
    paths: Iterable[str | os.PathLike[str]],
    root: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    validate: bool = True,
    overrides: Overrides | None = None,
    memo: ParseMemo | None = None,
) -> Checked:
    """`overrides`: file path -> text read instead of the disk (unsaved editor buffers; see loader.load).
    `memo`: built files kept in memory between calls (loader.ParseMemo), so only changed files are parsed."""
    # The front end allocates millions of small acyclic objects (parse trees, built elements, unpickled cache
    # entries) and frees few: the cyclic GC would rescan them again and again (measured: 35 % of a warm run).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _check(paths, root, cache_dir, workers, validate, overrides, memo)
    finally:
        if enabled:
            gc.enable()


def _check(
    paths: Iterable[str | os.PathLike[str]],
    root: str | os.PathLike[str] | None,
    cache_dir: str | os.PathLike[str] | None,
    workers: int | None,
    validate: bool,
    overrides: Overrides | None,
    memo: ParseMemo | None = None,
) -> Checked:
    loaded = load(paths, root=root, cache_dir=cache_dir, workers=workers, overrides=overrides, memo=memo)
    diags = list(loaded.diagnostics)
    file_count = loaded.attempted
    if not loaded.files:
        return Checked(None, dg.sort_unique(diags), loaded.sources, file_count, loaded.digests)
    model, assembly_diags = assemble(loaded.root, loaded.files)
    diags.extend(assembly_diags)
    if validate and (cache_dir is not None or memo is not None):
        # results of unchanged components and systems are reused (validation/incremental.py)
        from safetyops_dsl.validation import incremental

        store = StoredResults(Path(cache_dir) if cache_dir is not None else None, "validation", memo)
        diags.extend(incremental.validate(model, loaded.keys, store))
    elif validate:
        from safetyops_dsl.validation.rules import validate as run_rules

        diags.extend(run_rules(model))
    # A file that failed to parse leaves holes; the model is still returned for what did parse.
    return Checked(model, dg.sort_unique(diags), loaded.sources, file_count, loaded.digests)
