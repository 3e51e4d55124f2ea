"""DVC metrics files as metric results: `--results dvc.yaml` reads the metrics files the pipeline declares
(the top-level `metrics:` list and every stage output listed under a stage's `metrics:`), in any format DVC
reads (JSON, YAML, TOML), with DVC's own loaders.

A metrics file written by a stage carries what it was measured on: the stage's deps with the md5 dvc.lock
records for them. A dataset pinned to DVC whose md5 moved since (a new `dvc add` without `dvc repro`) makes
the metric evidence measured on it stale. (`dvc metrics show --json` output is read as an ordinary metrics
JSON file: analysis/evidence.py recognises its shape.)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.analysis.evidence import MetricDocument, OpsResults
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.parse.dvc_pins import INSTALL_HINT, dvc_repo_of

PIPELINE_FILE = "dvc.yaml"


def split(results: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(result files and folders, dvc.yaml files) of a --results list."""
    dvc = tuple(r for r in results if Path(r).name == PIPELINE_FILE and Path(r).is_file())
    return tuple(r for r in results if r not in dvc), dvc


def _display(path: Path) -> str:
    try:
        return Path(os.path.relpath(path, Path.cwd())).as_posix()
    except ValueError:
        return path.as_posix()


def read(pipeline_files: Sequence[str], root: Path) -> OpsResults | None:
    if not pipeline_files:
        return None
    docs: list[MetricDocument] = []
    diags: list[Diagnostic] = []
    for f in pipeline_files:
        more, d = _read_one(Path(f).resolve(), root.resolve())
        docs += more
        diags += d
    return OpsResults(", ".join(_display(Path(f)) for f in pipeline_files), (), tuple(diags), tuple(docs))


def _read_one(pipeline: Path, root: Path) -> tuple[list[MetricDocument], list[Diagnostic]]:
    shown = _display(pipeline)
    where = Location(shown)
    if dvc_repo_of(pipeline) is None:
        return [], [dg.make(dg.DVC_NOT_A_REPO, f"'{shown}' is not inside a DVC repository (no .dvc/ folder above it)",
                            where, "run `dvc init` at the repository root")]
    try:
        from dvc.utils.serialize import LOADERS, ParseError, load_yaml
    except ImportError:
        return [], [dg.make(dg.DVC_NOT_A_REPO, "reading dvc.yaml needs the dvc package", where, INSTALL_HINT)]
    lock = pipeline.with_name("dvc.lock")
    try:
        spec = load_yaml(str(pipeline))
        locked = load_yaml(str(lock)) if lock.is_file() else {}
    except ParseError:
        return [], [dg.make(dg.DVC_FILE, f"'{shown}' or its dvc.lock is not YAML", where,
                            "restore the files DVC wrote (git checkout)")]
    except OSError as exc:
        return [], [dg.make(dg.DVC_FILE, f"cannot read '{shown}': {exc.strerror}", where)]
    if not isinstance(spec, dict) or not isinstance(locked, dict):
        return [], [dg.make(dg.DVC_FILE, f"'{shown}' is not a DVC pipeline file (not a YAML mapping)", where)]
    folder = pipeline.parent
    files: dict[str, tuple[tuple[str, str], ...]] = {}  # metrics file (relative to dvc.yaml) -> measured on
    for item in spec.get("metrics") or []:
        if isinstance(item, str):
            files.setdefault(_norm(item), ())
    for name, stage in sorted((spec.get("stages") or {}).items()):
        if not isinstance(stage, dict):
            continue
        deps = _locked_deps(locked, str(name), folder, root)
        for item in stage.get("metrics") or []:
            path = item if isinstance(item, str) else next(iter(item), None) if isinstance(item, dict) else None
            if isinstance(path, str):
                files[_norm(path)] = deps
    docs: list[MetricDocument] = []
    diags: list[Diagnostic] = []
    for rel, measured_on in sorted(files.items()):
        target = folder / rel
        doc_shown = _display(target)
        if not target.is_file():
            diags.append(dg.make(dg.RESULTS_ERROR, f"metrics file '{rel}' named in {shown} not found",
                                 Location(doc_shown), "run `dvc repro` (or `dvc pull`) to produce it"))
            continue
        try:
            data: Any = LOADERS[target.suffix.lower()](str(target))
        except (ParseError, OSError, ValueError) as exc:
            diags.append(dg.make(dg.RESULTS_ERROR, f"metrics file '{rel}' named in {shown} is unreadable: "
                                 f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", Location(doc_shown)))
            continue
        if not isinstance(data, dict):
            diags.append(dg.make(dg.RESULTS_ERROR, f"metrics file '{rel}' holds no mapping of metric values",
                                 Location(doc_shown)))
            continue
        docs.append(MetricDocument(doc_shown, data, measured_on))
    return docs, diags


def _norm(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).as_posix()


def _locked_deps(locked: dict[str, Any], stage: str, folder: Path, root: Path) -> tuple[tuple[str, str], ...]:
    """The stage's deps as dvc.lock records them: (path relative to the model root, md5)."""
    entry = (locked.get("stages") or {}).get(stage) or {}
    out = []
    for dep in entry.get("deps") or []:
        if not isinstance(dep, dict) or not dep.get("md5") or not isinstance(dep.get("path"), str):
            continue
        full = (folder / dep["path"]).resolve()
        try:
            rel = full.relative_to(root).as_posix()
        except ValueError:
            continue
        out.append((rel, str(dep["md5"])))
    return tuple(sorted(out))
