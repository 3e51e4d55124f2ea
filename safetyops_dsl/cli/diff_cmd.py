"""`sops diff OLD [NEW]`: semantic diff of two model versions, the impact set, and numeric deltas.

Each side is a folder, or a git revision whose files are read through git (`git ls-tree`, `git cat-file`)
into a temporary folder, never by checking anything out:

    sops diff old_model/ new_model/        two folders
    sops diff HEAD~1 models/aeb            models/aeb at HEAD~1 against the working tree
    sops diff HEAD~1                       the current folder at HEAD~1 against the working tree
    sops diff main:models/aeb HEAD:models/aeb

A folder argument wins over a revision of the same name. A revision without `:path` takes the path of the
other side (or of the current folder) relative to the top of the repository.

Exit status: 0 diff written; 1 a side has errors (the diff is still written: the diagnostics first, then the
structural changes that can be computed); 2 usage errors.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from safetyops_dsl.cli.common import mlflow_option, write_output
from safetyops_dsl.generators import registry

if TYPE_CHECKING:
    from safetyops_dsl.analysis.diff import Side as DiffSide

FORMATS = registry.choices("diff")


@dataclass(frozen=True)
class Side:
    label: str  # as shown in the report: the folder, or REV:path
    folder: str | None  # an existing folder, or None for a revision
    rev: str | None = None
    path: str = ""  # for a revision: the folder inside the repository (POSIX, relative to the top)


def _git(args: list[str], cwd: str | None = None, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, input=data, capture_output=True, timeout=300, check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise click.UsageError(f"cannot run git: {exc}") from None


def _toplevel(start: str) -> str | None:
    proc = _git(["rev-parse", "--show-toplevel"], cwd=start)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def _is_rev(rev: str, top: str) -> bool:
    return bool(rev) and _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=top).returncode == 0


def _in_repo(folder: str, top: str) -> str:
    rel = os.path.relpath(Path(folder).resolve(), Path(top).resolve())
    if rel.startswith(".."):
        raise click.UsageError(f"'{folder}' is outside the git repository '{top}'")
    return "" if rel == "." else Path(rel).as_posix()


def _parse_side(arg: str, other_folder: str | None) -> Side:
    if Path(arg).is_dir():
        return Side(arg, arg)
    top = _toplevel(os.getcwd())
    if top is None:
        raise click.UsageError(f"'{arg}' is neither a folder nor a git revision (not inside a git repository)")
    rev, sep, path = arg.partition(":")
    if sep and _is_rev(rev, top):
        return Side(arg, None, rev, path.strip("/"))
    if _is_rev(arg, top):
        base = _in_repo(other_folder or os.getcwd(), top)
        return Side(f"{arg}:{base}" if base else arg, None, arg, base)
    raise click.UsageError(f"'{arg}' is neither a folder nor a git revision")


def _extract(side: Side, dest: Path) -> Path:
    """Write the files under side.path at side.rev into dest/<side.path>; return that folder."""
    assert side.rev is not None
    top = _toplevel(os.getcwd())
    assert top is not None
    # a model in a subfolder also gets the repository's .dvc/ folder: its DVC pins are read as at that revision
    spec = [side.path, ".dvc"] if side.path else []
    listing = _git(["ls-tree", "-r", "-z", "--full-tree", side.rev, "--", *spec], cwd=top)
    if listing.returncode != 0:
        raise click.UsageError(f"git ls-tree failed: {listing.stderr.decode('utf-8', 'replace').strip()}")
    entries: list[tuple[str, str]] = []
    for rec in listing.stdout.split(b"\0"):
        if not rec:
            continue
        meta, _, raw_name = rec.partition(b"\t")
        mode, kind, oid = meta.decode().split()
        if kind != "blob" or mode == "120000":  # skip submodules and symbolic links
            continue
        entries.append((raw_name.decode("utf-8", "surrogateescape"), oid))
    if not entries:
        raise click.UsageError(f"'{side.path or '.'}' holds no files at revision {side.rev}")
    batch = _git(["cat-file", "--batch"], cwd=top, data=b"".join(f"{oid}\n".encode() for _, oid in entries))
    if batch.returncode != 0:
        raise click.UsageError(f"git cat-file failed: {batch.stderr.decode('utf-8', 'replace').strip()}")
    if not side.path:  # the whole repository: keep its folder name (a file's default package is its folder's)
        dest = dest / Path(top).name
    out = batch.stdout
    pos = 0
    root = dest.resolve()
    for name, _ in entries:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        body = out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
        target = (dest / name).resolve()
        if root not in target.parents:
            continue  # never write outside the temporary folder
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    return dest / side.path if side.path else dest


def _load(side: Side, folder: str, cache_dir: str | None, mlflow_uri: str | None = None) -> tuple[DiffSide, list[str]]:
    """The checked model of one side, and its errors as one-line diagnostics (paths shown as REV:path). Errors
    are printed to stderr with their source lines; the diff still runs on what could be built."""
    from safetyops_dsl import diagnostics as dg
    from safetyops_dsl.analysis.diff import Side as DiffSide
    from safetyops_dsl.api import check
    from safetyops_dsl.build import shipped_results
    from safetyops_dsl.cli.common import print_diagnostics, read_ops

    checked = check([folder], cache_dir=cache_dir)
    errors = [d for d in checked.diagnostics if d.level is dg.Severity.ERROR]
    lines: list[str] = []
    if errors or checked.model is None:
        sources = checked.sources
        if side.rev is not None:  # show REV:path/file.sops, not the temporary folder
            def show(f: str) -> str:
                rel = os.path.relpath(Path(f).resolve(), Path(folder).resolve())
                return f"{side.rev}:{Path(side.path, rel).as_posix() if side.path else Path(rel).as_posix()}"

            errors = [dataclasses.replace(d, location=dataclasses.replace(d.location, file=show(d.location.file)))
                      for d in errors]
            sources = {show(k): v for k, v in checked.sources.items()}
        print_diagnostics(errors, sources)
        click.echo(f"sops diff: the {side.label} side has errors: only its structure is compared", err=True)
        lines = [dg.render_one(d, None, brief=True) for d in errors]
    results = shipped_results(checked.model.root) if checked.model is not None else ()
    # both sides ask the same registry, each for the versions its own model names
    ops = None
    if checked.model is not None and not errors:
        results, ops = read_ops(results, mlflow_uri, checked.model, checked.sources, checked.file_count)
    return DiffSide(checked.model, tuple(checked.diagnostics), checked.file_count, side.label, results, ops), lines


@click.command("diff")
@click.argument("old")
@click.argument("new", required=False)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
              help="md: a pull-request comment; json: for machines.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (atomically) instead of stdout.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, envvar="SOPS_CACHE_DIR",
              help="Reuse parsed files from this folder (content-hash keyed). Env: SOPS_CACHE_DIR.")
@mlflow_option
def diff(old: str, new: str | None, fmt: str, output: str | None, cache_dir: str | None,
         mlflow_uri: str | None) -> None:
    """Compare two model versions: added, removed, changed and renamed elements, and what they affect.

    OLD and NEW are folders or git revisions (REV or REV:path); NEW defaults to the working tree.
    """
    from safetyops_dsl.analysis.diff import diff_sides

    new_side = _parse_side(new, None) if new is not None else Side("working tree", ".")
    old_side = _parse_side(old, new_side.folder)
    with tempfile.TemporaryDirectory(prefix="sops-diff-") as tmp:
        folders = []
        for i, side in enumerate((old_side, new_side)):
            if side.folder is not None:
                folders.append(side.folder)
            else:
                dest = Path(tmp) / f"side{i}"
                folders.append(str(_extract(side, dest)))
        old_checked, old_problems = _load(old_side, folders[0], cache_dir, mlflow_uri)
        new_checked, new_problems = _load(new_side, folders[1], cache_dir, mlflow_uri)
        result = diff_sides(old_checked, new_checked)
        result.problems = [("old", p) for p in old_problems] + [("new", p) for p in new_problems]
    write_output(output, registry.find("diff", fmt).render(result))
    if old_problems or new_problems:
        sys.exit(1)
