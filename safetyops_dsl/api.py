"""The sops Python API, for scripts and notebooks: load a model, run every analysis, take the results as
dataclasses or plain data, render any artifact.

    from safetyops_dsl import api
    model = api.load("models/aeb")                        # raises api.ModelError with the diagnostics
    results = api.analyse(model, results=["models/aeb/ci-results"])
    results.fmeda.goals[0].metrics                       # dataclasses (safetyops_dsl.analysis.*)
    api.to_data(results.hara)                            # plain dicts and lists
    api.render(results, "fmeda", "json")                 # the bytes `sops fmeda --format json` writes
    api.artifacts()                                      # every (artifact, format) render() knows

The names in `__all__` are the stable surface: they follow the package's semantic version (a removal or an
incompatible change comes with a new major version). JSON outputs carry their schema name and version
(`safetyops_dsl.schemas`, docs/api.md). Everything else in the package is internal and may move.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetyops_dsl import diagnostics as dg
from safetyops_dsl import schemas
from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.gc_pause import GcPaused
from safetyops_dsl.model.index import Model, assemble
from safetyops_dsl.parse.loader import Overrides, ParseMemo, StoredResults
from safetyops_dsl.parse.loader import load as _load_files

if TYPE_CHECKING:
    from safetyops_dsl.analysis.pipeline import Options, Results

# `sops check` imports this module for `check`: the analyses and generators (a second of imports) are imported
# by the functions that use them, and Options/Results on first access (module __getattr__).

__all__ = [
    "Checked", "Model", "ModelError", "Options", "Results",
    "analyse", "artifacts", "check", "json_schema", "load", "render", "to_data",
]


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
    with GcPaused():
        return _check(paths, root, cache_dir, workers, validate, overrides, memo)


def _check(
    paths: Iterable[str | os.PathLike[str]],
    root: str | os.PathLike[str] | None,
    cache_dir: str | os.PathLike[str] | None,
    workers: int | None,
    validate: bool,
    overrides: Overrides | None,
    memo: ParseMemo | None = None,
) -> Checked:
    loaded = _load_files(paths, root=root, cache_dir=cache_dir, workers=workers, overrides=overrides, memo=memo)
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

        diags.extend(run_rules(model, workers=workers))
    # A file that failed to parse leaves holes; the model is still returned for what did parse.
    return Checked(model, dg.sort_unique(diags), loaded.sources, file_count, loaded.digests)


class ModelError(Exception):
    """The model has errors: `diagnostics` holds them (and the warnings), `str()` renders them as `sops check` does."""

    def __init__(self, checked: Checked):
        self.diagnostics = checked.diagnostics
        self.sources = checked.sources
        errors = [d for d in checked.diagnostics if d.level is dg.Severity.ERROR]
        text = "\n".join(dg.render_one(d, checked.sources.get(d.location.file)) for d in errors)
        super().__init__(text or "no .sops files could be parsed")


def load(*paths: str | os.PathLike[str], root: str | os.PathLike[str] | None = None,
         cache_dir: str | os.PathLike[str] | None = None, strict: bool = False) -> Model:
    """The checked model of these files or folders. Raises ModelError on errors (with `strict`, on warnings too)."""
    checked = check(paths, root=root, cache_dir=cache_dir)
    diags = dg.promote_warnings(checked.diagnostics) if strict else checked.diagnostics
    if checked.model is None or dg.has_errors(diags):
        raise ModelError(dataclasses.replace(checked, diagnostics=diags))
    return checked.model


def analyse(model: Model, *, results: Sequence[str | os.PathLike[str]] = (),
            campaign_results: Sequence[str | os.PathLike[str]] | None = None, use_git: bool = True,
            check_stale: bool = True) -> Results:
    """Every analysis of `model`, each computed on first use: `.trees`, `.fmea`, `.fmeda`, `.hara`, `.trace`,
    `.coverage`, `.case` (GSN), `.ci`, `.demand`, `.profile`, `.sotif`, `.odd_coverage`, `.injection`,
    `.diagnostics`. `results`: JUnit XML and metrics JSON files or folders (the `--results` of the CLI);
    `campaign_results`: fault-injection results (default, as for the CLI: `injection.xml`/`injection.json` in
    the result folders)."""
    from safetyops_dsl.analysis.injection_results import default_campaign_results
    from safetyops_dsl.analysis.pipeline import Options
    from safetyops_dsl.analysis.pipeline import analyse as _analyse

    given = tuple(str(r) for r in results)
    campaign = (tuple(str(c) for c in campaign_results) if campaign_results is not None
                else tuple(default_campaign_results(given)))
    return _analyse(model, Options(results=given, campaign_results=campaign, use_git=use_git, check_stale=check_stale))


_OWN_FORMATS: dict[str, tuple[str, ...]] = {
    "fta": ("json", "md", "text"),
    "gsn": ("json", "md", "yaml"),
    "gate": ("json", "text"),
}


def artifacts() -> list[tuple[str, str]]:
    """Every (artifact, format) pair `render` accepts."""
    from safetyops_dsl.generators import registry

    pairs = [(f.artifact, f.name) for f in registry.FORMATS if f.artifact != "diff"]  # a diff needs two models
    pairs += [(a, f) for a, fmts in _OWN_FORMATS.items() for f in fmts]
    return sorted(pairs)


def render(results: Results, artifact: str, fmt: str) -> str | bytes:
    """An artifact as the CLI writes it: text, or bytes for binary formats (xlsx)."""
    from safetyops_dsl.analysis.gate import gate_items, gate_json, gate_text
    from safetyops_dsl.generators import fta_report, gsn_report, gsn_yaml, registry
    from safetyops_dsl.validation.rules import validate as run_rules

    if (artifact, fmt) not in artifacts():
        raise ValueError(f"no format {fmt!r} for {artifact!r}; known: {artifacts()}")
    if artifact in ("fmea", "fmeda", "hara", "sotif"):
        return registry.find(artifact, fmt).render(getattr(results, artifact))
    if artifact == "trace":
        return registry.find("trace", fmt).render(results.trace, results.coverage, title=results.model.root.name)
    if artifact == "fta":
        return fta_report.render(results.trees, fmt, results.goal_checks)
    if artifact == "gate":
        # the gate's first check is the model check: its findings are the validation rules' (a loaded model
        # parsed, so the parse and assembly left nothing to report)
        items = gate_items(results, run_rules(results.model), len(results.model.files))
        return gate_json(items) if fmt == "json" else gate_text(items)
    case = results.case
    if case is None:
        raise ValueError("the results were analysed without the GSN safety case")
    if fmt == "json":
        return gsn_report.render_json(case, case.diagnostics)
    if fmt == "yaml":
        return gsn_yaml.render_yaml(case)
    return gsn_report.render_md(case, diagnostics=case.diagnostics)


def to_data(value: Any) -> Any:
    """Plain data (dicts, lists, str, int, float, bool, None) from results: dataclasses become dicts of their
    fields, enums their values, tuples and sets lists (sets sorted), paths strings; infinities "inf"/"-inf"."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return to_data(value.value)
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_data(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((to_data(v) for v in value), key=repr)
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of an output, by its schema name (`sops-fmeda`) or a document's `schema` value
    (`sops-fmeda/1.0.0`)."""
    return schemas.load(name.partition("/")[0])


def __getattr__(name: str) -> Any:
    if name in ("Options", "Results"):
        from safetyops_dsl.analysis import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
