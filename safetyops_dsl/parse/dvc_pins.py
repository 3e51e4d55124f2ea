"""Datasets pinned to DVC: `dataset train "ped-2026-07" dvc "data/ped-2026-07.dvc"` (or `dvc "dvc.lock" out
"data/ped"`) gets the md5 DVC records for the data, read when the model is loaded.

The digest is part of the model (`Dataset.md5`, a compared field), not of a result: a new `dvc add` changes the
model's meaning as a changed `sha256` would, so `sops diff` lists it with its impact (the metrics measured on
the dataset, their evidence, the requirements and goals behind them) and the staleness checks compare it with
the data a metric was measured on.

Paths are relative to the model root. The file is read with DVC's own YAML loader and checked against DVC's
own schemas (`dvc.schema`), so a file DVC would refuse is refused here too; DVC is imported only when a
model pins a dataset to it. Built files are cached by their text, so the digest is filled in after the cache,
on every load. Nothing is written to the DVC repository.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path, PurePosixPath
from typing import Any

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.model import elements as el

MAX_DVC_FILE_BYTES = 16 * 1024 * 1024
INSTALL_HINT = "pip install 'safetyops-dsl[ops]'"


def resolve(files: list[el.SourceFile], root: Path, digests: dict[str, str] | None = None
            ) -> tuple[list[el.SourceFile], list[Diagnostic]]:
    """The files with every DVC-pinned dataset's md5 filled in, and the problems found on the way.
    `digests` gets the sha256 of every DVC file read (the build's inputs: a new `dvc add` rebuilds)."""
    if not any(d.dvc for f in files for c in f.components if c.ml is not None for d in c.ml.datasets):
        return files, []
    diags: list[Diagnostic] = []
    out = []
    for f in files:
        comps = []
        for c in f.components:
            if c.ml is not None and any(d.dvc for d in c.ml.datasets):
                datasets = []
                for d in c.ml.datasets:
                    if d.dvc:
                        (md5, data), diag = read_pin(root, d, digests)
                        if diag is not None:
                            diags.append(diag)
                        d = dataclasses.replace(d, md5=md5, dvc_data=data)
                    datasets.append(d)
                c = dataclasses.replace(c, ml=dataclasses.replace(c.ml, datasets=tuple(datasets)))
            comps.append(c)
        out.append(dataclasses.replace(f, components=tuple(comps)))
    return out, diags


def dvc_repo_of(path: Path) -> Path | None:
    """The DVC repository holding `path`: the nearest folder with a `.dvc/` folder, from the file's folder up."""
    for folder in (path.parent, *path.parent.parents):
        if (folder / ".dvc").is_dir():
            return folder
    return None


Pin = tuple[str | None, str | None]  # (md5 as DVC records it, the tracked data's path relative to the root)
NO_PIN: Pin = (None, None)


def read_pin(root: Path, ds: el.Dataset, digests: dict[str, str] | None = None) -> tuple[Pin, Diagnostic | None]:
    """The pin's md5 and data path (None where unknown), and a diagnostic at the dataset line where the DVC
    file cannot be read."""
    assert ds.dvc is not None
    loc = ds.location
    rel = ds.dvc
    target = (root / rel).resolve() if not Path(rel).is_absolute() else None
    if target is None or not _under(target, root.resolve()):
        return NO_PIN, dg.make(dg.DVC_NOT_FOUND, f"dataset '{ds.identity}': DVC file '{rel}' is outside the model root",
                             loc, "name the .dvc file or dvc.lock relative to the model root")
    name = target.name
    is_lock = name == "dvc.lock"
    if not is_lock and not name.endswith(".dvc"):
        return NO_PIN, dg.make(dg.DVC_NOT_FOUND,
                             f"dataset '{ds.identity}': '{rel}' is neither a .dvc file nor dvc.lock", loc,
                             'pin the .dvc file that `dvc add` wrote, or `dvc "dvc.lock" out "PATH"`')
    if dvc_repo_of(target) is None:
        return NO_PIN, dg.make(dg.DVC_NOT_A_REPO,
                             f"dataset '{ds.identity}': '{rel}' is not inside a DVC repository (no .dvc/ folder above it)",
                             loc, "run `dvc init` at the repository root, or pin the dataset with sha256")
    if not target.is_file():
        return NO_PIN, dg.make(dg.DVC_NOT_FOUND, f"dataset '{ds.identity}': DVC file '{rel}' not found", loc,
                             f"run `dvc add` on the data to write {name}" if not is_lock else "run `dvc repro`")
    try:
        raw = target.read_bytes()[: MAX_DVC_FILE_BYTES + 1]
    except OSError as exc:
        return NO_PIN, dg.make(dg.DVC_FILE, f"dataset '{ds.identity}': cannot read '{rel}': {exc.strerror}", loc)
    if digests is not None:
        digests[str(target)] = hashlib.sha256(raw).hexdigest()
    if len(raw) > MAX_DVC_FILE_BYTES:
        return NO_PIN, dg.make(dg.DVC_FILE, f"dataset '{ds.identity}': '{rel}' is larger than 16 MiB", loc)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return NO_PIN, dg.make(dg.DVC_FILE, f"dataset '{ds.identity}': '{rel}' is not UTF-8 text", loc)
    try:
        from dvc import schema
        from dvc.utils.serialize import ParseError, parse_yaml
        from voluptuous import Invalid, Schema
    except ImportError:
        return NO_PIN, dg.make(dg.DVC_NOT_A_REPO, f"dataset '{ds.identity}': reading DVC pins needs the dvc package",
                             loc, INSTALL_HINT)
    try:
        data = parse_yaml(text, rel)
    except ParseError:
        return NO_PIN, dg.make(dg.DVC_FILE, f"dataset '{ds.identity}': '{rel}' is not YAML", loc,
                             "restore the file DVC wrote (git checkout, or `dvc add` again)")
    kind = "dvc.lock" if is_lock else ".dvc file"
    try:
        Schema(schema.LOCKFILE_SCHEMA if is_lock else schema.SINGLE_STAGE_SCHEMA)(data)
    except Invalid as exc:
        where = "/".join(str(p) for p in exc.path) or "top level"
        return NO_PIN, dg.make(dg.DVC_FILE, f"dataset '{ds.identity}': '{rel}' is not a valid {kind}: {exc.msg} at {where}",
                             loc, "restore the file DVC wrote (git checkout, or `dvc add` again)")
    return _md5(data, ds, rel, is_lock, root.resolve(), target.parent)


def _outputs(data: Any, is_lock: bool) -> list[dict[str, Any]]:
    if is_lock:
        stages = data.get("stages") or {}
        return [o for _, st in sorted(stages.items()) for o in (st.get("outs") or [])]
    return list(data.get("outs") or [])


def _md5(data: Any, ds: el.Dataset, rel: str, is_lock: bool, root: Path, folder: Path) -> tuple[Pin, Diagnostic | None]:
    outs = _outputs(data, is_lock)
    if ds.dvc_out is not None:
        want = PurePosixPath(ds.dvc_out).as_posix().strip("/")
        outs = [o for o in outs if PurePosixPath(str(o.get("path", ""))).as_posix().strip("/") == want]
        if not outs:
            return NO_PIN, dg.make(dg.DVC_NOT_FOUND, f"dataset '{ds.identity}': '{rel}' has no output '{ds.dvc_out}'",
                                 ds.location, "name an output path as DVC writes it (relative to the file's folder)")
    elif is_lock:
        return NO_PIN, dg.make(dg.DVC_NOT_FOUND, f"dataset '{ds.identity}': a dvc.lock pin names its output", ds.location,
                             'write `dvc "dvc.lock" out "PATH"` with the stage output\'s path')
    if len(outs) != 1:
        return NO_PIN, dg.make(dg.DVC_NOT_FOUND,
                             f"dataset '{ds.identity}': '{rel}' has {len(outs)} outputs; name one with `out \"PATH\"`",
                             ds.location)
    md5 = outs[0].get("md5")
    if not md5:
        return NO_PIN, dg.make(dg.DVC_NOT_FOUND, f"dataset '{ds.identity}': the output in '{rel}' has no md5 yet",
                             ds.location, "run `dvc add` (or `dvc repro`) to record it")
    tracked = (folder / str(outs[0].get("path", ""))).resolve()
    return (str(md5), tracked.relative_to(root).as_posix() if _under(tracked, root) else None), None


def _under(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True
