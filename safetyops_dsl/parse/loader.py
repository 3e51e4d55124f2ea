"""Find, read, parse and build the files of a model; follow imports inside the model root.

Files are independent until name resolution, so they are parsed in parallel (processes, for large models)
and their built form can be cached by content hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.graphs import back_edge_cycles
from safetyops_dsl.model.elements import Import, SourceFile
from safetyops_dsl.parse import dvc_pins, lazy_components

SUFFIX = ".sops"
# Bump when the builder's output changes shape, so that stale cache entries are never read.
BUILD_FORMAT = "6"
MAX_FILE_BYTES = 64 * 1024 * 1024
# More files than this is a folder that is not a model (a home folder, generated output): refuse before
# reading, rather than parse for minutes. 100,000 tiny files check in about a minute on 2 cores.
MAX_FILES = 100_000
# Below this much text, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 200_000
# File path -> text to read instead of the disk (an editor's unsaved buffers).
Overrides = Mapping[str, str] | Mapping[Path, str]


@dataclass
class LoadResult:
    root: Path
    files: list[SourceFile] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)  # display path -> lines, for carets
    attempted: int = 0  # files we tried to read, readable or not
    # real path -> sha256 of the bytes the file was parsed from (read once: a build fingerprints these, not
    # the disk afterwards, which may have changed meanwhile)
    digests: dict[str, str] = field(default_factory=dict)
    # rel_path -> the cache key of the text it was built from (only with a cache folder or a memo): names the
    # content of a file for results derived from it (validation/incremental.py)
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not dg.has_errors(self.diagnostics)


@dataclass(frozen=True)
class _Job:
    abs_path: str
    display: str
    rel: str
    package_default: str
    text: str


def display_path(path: Path, cwd: str | None = None) -> str:
    """Relative to the working directory where possible: diagnostics and outputs carry no absolute paths."""
    try:
        return Path(os.path.relpath(path, cwd if cwd is not None else os.getcwd())).as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_posix()


def _package_default(path: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", path.parent.name) or "main"
    return name if not name[0].isdigit() else f"_{name}"


def find_root(paths: Sequence[Path], explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit.resolve()
    dirs = [p.resolve() if p.is_dir() else p.resolve().parent for p in paths]
    return Path(os.path.commonpath([str(d) for d in dirs])) if dirs else Path.cwd().resolve()


def discover(paths: Sequence[Path]) -> tuple[list[Path], list[Diagnostic]]:
    files: list[Path] = []
    diags: list[Diagnostic] = []
    for p in paths:
        if p.is_dir():
            found = sorted(
                f for f in p.rglob(f"*{SUFFIX}") if f.is_file() and not any(part.startswith(".") for part in f.parts[len(p.parts):])
            )
            if not found:
                diags.append(dg.make(dg.NO_INPUT, f"no {SUFFIX} files under this folder", Location(display_path(p))))
            files.extend(found)
            if len(files) > MAX_FILES:
                diags.append(_too_many(len(found), p))
                return [], diags
        elif p.is_file():
            files.append(p)
        else:
            diags.append(dg.make(dg.UNREADABLE, "no such file or folder", Location(display_path(p))))
    return files, diags


def _too_many(count: int, where: Path) -> Diagnostic:
    return dg.make(
        dg.LIMIT_EXCEEDED,
        f"{count} {SUFFIX} files under this folder; the limit is {MAX_FILES} files in one model",
        Location(display_path(where)),
        "check the model's own folder, not a folder above it; folders whose name starts with '.' are skipped",
    )


def source_lines(text: str) -> list[str]:
    """The lines as the parser counts them: split at newlines only. str.splitlines() would also split at
    U+2028, U+0085, form feeds ..., so every excerpt after such a character would show the wrong line."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if "\r" not in text:  # the usual case: one C-level split, no pass over every line (10,000 types: 120k lines)
        return lines
    return [line.removesuffix("\r") for line in lines]


def _read(path: Path, display: str, digests: dict[str, str] | None = None) -> tuple[str | None, Diagnostic | None]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, dg.make(
                dg.LIMIT_EXCEEDED,
                f"file is {size} bytes; the limit is {MAX_FILE_BYTES}",
                Location(display),
                "split the model into several files",
            )
        raw = path.read_bytes()
    except OSError as exc:
        return None, dg.make(dg.UNREADABLE, exc.strerror or str(exc), Location(display))
    if digests is not None:
        digests[str(path)] = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, dg.make(
            dg.UNREADABLE, "file is not valid UTF-8", Location(display, line, col), "save the file as UTF-8"
        )
    if "\x00" in text:
        at = text.index("\x00")
        line = text.count("\n", 0, at) + 1
        col = at - (text.rfind("\n", 0, at) + 1) + 1
        return None, dg.make(dg.UNREADABLE, "file contains a NUL byte (binary?)", Location(display, line, col))
    return text.removeprefix("\ufeff"), None


def _parse_and_build(job: _Job) -> tuple[SourceFile | None, list[Diagnostic]]:
    from safetyops_dsl.parse.builder import FileBuilder
    from safetyops_dsl.parse.hidden_text import hidden_text
    from safetyops_dsl.parse.textx_parser import parse_text

    hidden = hidden_text(job.text, job.display)
    tx, err = parse_text(job.text, job.display)
    if err is not None:
        return None, [*hidden, err]
    builder = FileBuilder(job.text, job.display, job.rel, job.package_default)
    try:
        built = builder.build(tx)
    except RecursionError:
        return None, [*hidden, dg.make(dg.LIMIT_EXCEEDED, "expression nested too deeply", Location(job.display, 1, 1))]
    return built, [*hidden, *builder.diagnostics]


Built = tuple[SourceFile | None, list[Diagnostic]]


@dataclass
class ParseMemo:
    """Built files of the previous load, in memory, by the same key as the disk cache."""

    entries: dict[str, Built] = field(default_factory=dict)
    # results derived from the built files, kept by their users under keys of their own (api.check keeps the
    # stored validation results here: validation/incremental.py)
    derived: dict[str, object] = field(default_factory=dict)


class _Cache:
    """Built files keyed by a hash of everything they depend on (text, paths, grammar, build format), in
    memory (a ParseMemo) and on disk (a cache folder); either may be absent."""

    def __init__(self, directory: Path | None, memo: ParseMemo | None = None):
        self.directory = directory
        self.memo = memo
        self._used: dict[str, Built] = {}
        self._salt = _salt() if directory is not None or memo is not None else b""

    @property
    def active(self) -> bool:
        return self.directory is not None or self.memo is not None

    def key(self, job: _Job) -> str:
        h = hashlib.sha256(self._salt)
        for part in (job.display, job.rel, job.package_default, job.text):
            h.update(part.encode("utf-8"))
            h.update(b"\0")
        return h.hexdigest()

    def get(self, job: _Job) -> Built | None:
        if self.directory is None and self.memo is None:
            return None
        key = self.key(job)
        if self.memo is not None and key in self.memo.entries:
            self._used[key] = self.memo.entries[key]
            return self._used[key]
        if self.directory is None:
            return None
        built = _unpack_entry(_read_entry(self.directory, key))
        if built is None:
            return None  # a damaged entry is a miss: it is built again and overwritten
        self._used[key] = built
        return built

    def put(self, job: _Job, value: Built) -> None:
        if self.directory is None and self.memo is None:
            return
        key = self.key(job)
        self._used[key] = value
        if self.directory is not None:
            _write_entry(self.directory, key, _pack_entry(value))

    def retain(self) -> None:
        """Keep in memory what this load used, nothing older (an editor session must not grow without end)."""
        if self.memo is not None:
            self.memo.entries = self._used


def _pack_entry(value: Built) -> object:
    """A built file as the cache folder keeps it: its components pickled one by one, beside stubs of what
    every check reads of them (parse/lazy_components.py), so that a check unpickles only the components it
    reads of the files it did not parse."""
    built, diags = value
    if built is None:
        return (None, diags)
    stubs, buffer = lazy_components.pack(built.components)
    return (replace(built, components=()), diags, stubs, buffer)


def _unpack_entry(value: object) -> Built | None:
    if isinstance(value, tuple) and len(value) == 2 and value[0] is None and isinstance(value[1], list):
        return None, value[1]
    if not (isinstance(value, tuple) and len(value) == 4 and isinstance(value[0], SourceFile)
            and isinstance(value[1], list)):
        return None
    components = lazy_components.unpack(value[2], value[3])
    if components is None:
        return None
    return replace(value[0], components=components), value[1]


def _read_entry(directory: Path, key: str) -> object | None:
    """A pickled entry of the cache folder, or None where it is missing or damaged."""
    try:
        with open(directory / key[:2] / key, "rb") as fh:
            value: object = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
        return None
    return value


def _write_entry(directory: Path, key: str, value: object) -> None:
    from safetyops_dsl.atomic import write_atomic

    # not durable (no fsync): an entry lost or damaged in a crash is a miss, built again
    with contextlib.suppress(OSError):  # a read-only cache is no cache, not an error
        write_atomic(directory / key[:2] / key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), durable=False)


class StoredResults:
    """Results derived from built files (validation/incremental.py), kept like the built files: in memory (a
    ParseMemo's `derived`, for the language server) and/or in the cache folder under `subfolder`, pickled,
    written atomically, a damaged entry a miss. The cache folder is trusted local state, read here only."""

    def __init__(self, directory: Path | None, subfolder: str, memo: ParseMemo | None = None):
        self.directory = directory / subfolder if directory is not None else None
        self.memory = memo.derived if memo is not None else None
        self._used: dict[str, object] = {}

    def get(self, key: str) -> object | None:
        if self.memory is not None and key in self.memory:
            self._used[key] = self.memory[key]
            return self._used[key]
        if self.directory is None:
            return None
        value = _read_entry(self.directory, key)
        if value is None:
            return None  # a damaged entry is a miss: computed again and overwritten
        self._used[key] = value
        return value

    def put(self, key: str, value: object) -> None:
        self._used[key] = value
        if self.directory is not None:
            _write_entry(self.directory, key, value)

    def retain(self) -> None:
        """Keep in memory what this check used, nothing older (an editor session must not grow without end)."""
        if self.memory is not None:
            self.memory.clear()
            self.memory.update(self._used)


@lru_cache(maxsize=1)
def _salt() -> bytes:
    """The grammar, BUILD_FORMAT and the source of the modules that decide a built file and its entry: an
    entry made by other code is never read, also where the code changed and the version did not (a source
    checkout). (Not the installed version: importlib.metadata costs 30-60 ms, a tenth of an edited re-check.)"""
    from importlib import resources

    h = hashlib.sha256(resources.files("safetyops_dsl.grammar").joinpath("sops.tx").read_bytes())
    h.update(b"\0" + BUILD_FORMAT.encode())
    package = Path(__file__).resolve().parent.parent
    for rel in _BUILD_SOURCES:
        try:
            h.update(b"\0" + (package / rel).read_bytes())
        except OSError:  # installed without its sources: the version names the code
            from importlib import metadata

            with contextlib.suppress(metadata.PackageNotFoundError):
                h.update(metadata.version("safetyops-dsl").encode())
            break
    return h.digest()


# relative to the package folder (_salt)
_BUILD_SOURCES = (
    "parse/builder.py", "parse/hidden_text.py", "parse/textx_parser.py", "parse/generated_parser.py",
    "parse/grammar_info.py", "parse/lazy_components.py", "parse/loader.py", "model/elements.py",
    "model/parameters.py", "model/schema.py", "diagnostics.py",
)


def _run_jobs(jobs: list[_Job], cache: _Cache, workers: int | None) -> list[Built]:
    from safetyops_dsl.parse.textx_parser import FAST_AFTER_BYTES, fast_parser

    results: list[Built | None] = [cache.get(j) for j in jobs]
    todo = [i for i, r in enumerate(results) if r is None]
    total = sum(len(jobs[i].text) for i in todo)
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if total >= FAST_AFTER_BYTES:
        # the shipped parser (imported), or enough text to repay generating one (textx_parser.FAST_AFTER_BYTES)
        fast_parser()
    if len(todo) > 1 and n_workers > 1 and total >= PARALLEL_MIN_BYTES:
        # the parser was loaded above, before forking, so that the workers inherit it
        for i, value in _parallel(jobs, todo, n_workers):
            results[i] = value
            cache.put(jobs[i], value)
    else:
        for i in todo:
            value = _parse_and_build(jobs[i])
            results[i] = value
            cache.put(jobs[i], value)
    return [r for r in results if r is not None]


def _parse_batch(batch: list[_Job]) -> list[Built]:
    return [_parse_and_build(job) for job in batch]


def _parallel(jobs: list[_Job], todo: list[int], n_workers: int) -> list[tuple[int, Built]]:
    """Parse and build the files `todo` (indexes into `jobs`) with n_workers - 1 worker processes and this
    one. The parent is the last worker rather than waiting: what it builds itself is not pickled to it and
    unpickled again (about a fifth of what a file costs), and while it waits, a core would sit idle.

    The batches are queued big first; the workers take them from the front, the parent from the back (the
    ones no worker has started: a started future cannot be cancelled), so both end at about the same time."""
    # Big files first: the pool then ends with small ones and every core stays busy.
    order = sorted(todo, key=lambda i: -len(jobs[i].text))
    # Many small files go in batches: one round trip to a worker costs more than parsing a tiny file.
    chunk = max(1, min(64, len(order) // (n_workers * 16)))
    batches = [order[k:k + chunk] for k in range(0, len(order), chunk)]
    out: list[tuple[int, Built]] = []
    with ProcessPoolExecutor(max_workers=max(1, min(n_workers - 1, len(batches) - 1))) as pool:
        futures = [pool.submit(_parse_batch, [jobs[i] for i in batch]) for batch in batches]
        try:
            taken = len(batches)
            while taken > 0 and futures[taken - 1].cancel():
                taken -= 1
                batch = batches[taken]
                out.extend(zip(batch, _parse_batch([jobs[i] for i in batch]), strict=True))
            for batch, future in zip(batches[:taken], futures[:taken], strict=True):
                out.extend(zip(batch, future.result(), strict=True))
        except BaseException:  # Ctrl-C or a failure: the workers need not finish the queue first
            for future in futures:
                future.cancel()
            raise
    return out


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def load(
    paths: Iterable[str | os.PathLike[str]],
    root: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    overrides: Overrides | None = None,
    memo: ParseMemo | None = None,
) -> LoadResult:
    """Load the files named or found under `paths` and what they import.

    `overrides` maps file paths to text to use instead of what is on disk (an editor's unsaved buffers). An
    overridden file named in `paths` need not exist on disk; one under a given folder is found only if it does.
    `memo` keeps built files in memory from one load to the next (the language server re-parses only the
    files whose text changed); it holds the files of the latest load only.
    """
    given = [Path(p) for p in paths]
    texts = {Path(k).resolve(): v for k, v in (overrides or {}).items()}
    root_path = find_root(given, Path(root) if root is not None else None)
    result = LoadResult(root=root_path)
    unsaved = [p for p in given if not p.exists() and p.resolve() in texts]
    initial, diags = discover([p for p in given if p not in unsaved])
    initial.extend(unsaved)
    result.diagnostics.extend(diags)
    cache = _Cache(Path(cache_dir) if cache_dir is not None else None, memo)
    cwd = os.getcwd()

    loaded: dict[Path, SourceFile | None] = {}  # real path -> built file
    # a list for the order, a set for membership: 100,000 files made the list alone quadratic
    pending: list[Path] = []
    queued: set[Path] = set()
    for f in initial:
        real = f.resolve()
        if real not in queued:
            queued.add(real)
            pending.append(real)
    while pending:
        if len(queued) > MAX_FILES:
            result.diagnostics.append(_too_many(len(queued), root_path))
            break
        jobs: list[_Job] = []
        for real in pending:
            loaded[real] = None
            display = display_path(real, cwd)
            if not _inside(real, root_path):
                result.diagnostics.append(
                    dg.make(
                        dg.IMPORT_ESCAPES_ROOT,
                        f"file is outside the model root '{display_path(root_path, cwd)}'",
                        Location(display),
                        "pass --root to widen the model root",
                    )
                )
                continue
            result.attempted += 1
            text, err = (texts[real].removeprefix("\ufeff"), None) if real in texts else _read(real, display, result.digests)
            if err is not None:
                result.diagnostics.append(err)
                continue
            assert text is not None
            result.sources[display] = source_lines(text)
            rel = real.relative_to(root_path).as_posix()
            jobs.append(_Job(str(real), display, rel, _package_default(real), text))
        pending = []
        if cache.active:
            result.keys.update((job.rel, cache.key(job)) for job in jobs)
        for job, (built, file_diags) in zip(jobs, _run_jobs(jobs, cache, workers), strict=False):
            result.diagnostics.extend(file_diags)
            if built is None:
                continue
            if built.imports:
                resolved_imports = []
                for imp in built.imports:
                    target, diag = _resolve_import(Path(job.abs_path), imp, root_path)
                    if diag is not None:
                        result.diagnostics.append(diag)
                        resolved_imports.append(imp)
                        continue
                    assert target is not None
                    resolved_imports.append(replace(imp, resolved=target.relative_to(root_path).as_posix()))
                    if target not in queued:
                        queued.add(target)
                        pending.append(target)
                built = replace(built, imports=tuple(resolved_imports))
            loaded[Path(job.abs_path)] = built
    cache.retain()
    result.files = sorted((f for f in loaded.values() if f is not None), key=lambda f: f.rel_path)
    result.files, pin_diags = dvc_pins.resolve(result.files, root_path, result.digests)  # after the cache: the data moves, the text not
    result.diagnostics.extend(pin_diags)
    result.diagnostics.extend(_import_cycles(result.files))
    return result


def _resolve_import(importer: Path, imp: Import, root: Path) -> tuple[Path | None, Diagnostic | None]:
    raw = imp.path
    if not raw.endswith(SUFFIX):
        return None, dg.make(dg.IMPORT_NOT_FOUND, f"import '{raw}' does not name a {SUFFIX} file", imp.location)
    if os.path.isabs(raw):
        return None, dg.make(
            dg.IMPORT_ESCAPES_ROOT,
            f"import '{raw}' is an absolute path",
            imp.location,
            "imports are relative to the importing file and stay inside the model root",
        )
    candidate = importer.parent / raw
    # Resolve symlinks and `..` before the confinement check, so neither can smuggle a file in.
    real = candidate.resolve()
    if not _inside(real, root):
        return None, dg.make(
            dg.IMPORT_ESCAPES_ROOT,
            f"import '{raw}' leaves the model root '{display_path(root)}'",
            imp.location,
            "move the shared file under the model root, or pass --root to widen it",
        )
    if not real.is_file():
        return None, dg.make(
            dg.IMPORT_NOT_FOUND,
            f"imported file '{raw}' not found",
            imp.location,
            f"imports are relative to the importing file's folder, here '{display_path(importer.parent)}'",
        )
    return real, None


def _import_cycles(files: list[SourceFile]) -> list[Diagnostic]:
    graph = {f.rel_path: [i for i in f.imports if i.resolved] for f in files}
    shown = {f.rel_path: f.path for f in files}
    diags: list[Diagnostic] = []
    successors = {node: [i.resolved for i in imps] for node, imps in graph.items()}
    for cycle, index in back_edge_cycles(successors, sorted(graph)):
        diags.append(
            dg.make(
                dg.IMPORT_CYCLE,
                "import cycle: " + " -> ".join(shown.get(c, c) for c in cycle),
                graph[cycle[-2]][index].location,
                "move what both files need into a third file that both import",
            )
        )
    return diags
