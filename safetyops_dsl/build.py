"""`sops build` and `sops gate`: every analysis of a model in one run, and one release verdict.

`analyse` runs the front end and every analysis once (check, fault trees with goal targets, FMEA, FMEDA,
HARA, trace and coverage, GSN when that module is present); `gate_items` turns the result into the release
checks; `build` writes every artifact and the static report site into an output folder.

Output folder contract (docs/build-and-gate.md):
- stable layout, every file byte-identical for the same inputs; `manifest.json` lists every other file with
  its sha256 (sorted, no timestamps) and the fingerprint of the inputs;
- the site is built into a temporary sibling folder and swapped in at the end, so an interrupted build
  leaves the previous folder intact; a lock file `.OUT.lock` next to OUT (there while a build runs) makes a
  second build into the same folder wait, and the next build removes what a killed one left
  (`.OUT.build-*`, `.OUT.old-*`);
- a rerun whose input fingerprint (model files, evidence artifacts, result and policy files, options,
  sops and Graphviz versions) equals the manifest's, with every file still matching its hash, does nothing;
- the fingerprint holds the hashes of the bytes the analyses read. An input that changed while the build
  ran (its bytes on disk differ from those read) makes the build start over, and after BUILD_ATTEMPTS
  tries fail with InputsChanged, writing nothing: the manifest never pairs old artifacts with new inputs;
- files get the mode the umask gives (0644 and 0755 folders under umask 022): the site is readable by others.

The analyses run with the model root as the working directory, so the file names inside artifacts
(diagnostics, result files) are relative to the model root whatever folder `sops` was started from.
Nothing here imports click: progress goes through the `Progress` protocol.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from safetyops_dsl import diagnostics as dg
from safetyops_dsl import schemas
from safetyops_dsl.analysis import pipeline
from safetyops_dsl.analysis.gate import (
    FAIL,
    PASS,
    SKIP,
    GateItem,
    gate_json,
    gate_passed,
    gate_text,
)
from safetyops_dsl.analysis.gate import gate_items as _gate_items
from safetyops_dsl.analysis.pipeline import Progress, QuietProgress
from safetyops_dsl.validation.policy import blocking_errors
from safetyops_dsl.validation.rules import check_policy

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from safetyops_dsl.analysis.coverage import Coverage
    from safetyops_dsl.analysis.fmea import FmeaTable
    from safetyops_dsl.analysis.fmeda import FmedaReport
    from safetyops_dsl.analysis.hara import HaraTable
    from safetyops_dsl.analysis.synthesis import SynthesisResult
    from safetyops_dsl.analysis.targets import GoalCheck
    from safetyops_dsl.analysis.trace import TraceGraph
    from safetyops_dsl.api import Checked
    from safetyops_dsl.diagnostics import Diagnostic
    from safetyops_dsl.fta.result import FtaResult
    from safetyops_dsl.fta.tree import FaultTree
    from safetyops_dsl.model.index import Model

SCHEMA = schemas.tag("sops-build")
MANIFEST = "manifest.json"
# Tries before a build whose inputs keep changing under it gives up (InputsChanged).
BUILD_ATTEMPTS = 3
# A fault tree is drawn in pages of at most PAGE_NODES tree nodes and PAGE_COLUMNS events or transfers side
# by side (docs/diagrams.md): a column is a 1.85 in box plus its gap, so a page stays within about 2,400 pt
# (1.6 screens of 1,920 px at 100 %) wherever no single gate has more inputs than that.
PAGE_NODES = 60
PAGE_COLUMNS = 16
T = TypeVar("T")

__all__ = ["FAIL", "PASS", "SKIP", "GateItem", "Progress", "QuietProgress", "gate_json", "gate_passed", "gate_text"]


class LineProgress:
    """Progress as whole lines (stage, count, elapsed seconds since the build started), for CI logs and
    other non-terminals: a line when a phase starts and ends, and for a phase of many steps one about every
    tenth of them, so a log shows where the time goes without a line per step."""

    def __init__(self, write: Callable[[str], None], steps: int = 10):
        self.write = write
        self.steps = steps
        self.started = time.perf_counter()

    def _line(self, text: str) -> None:
        self.write(f"sops build: {time.perf_counter() - self.started:7.2f} s  {text}")

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        self._line(f"{name} ...")
        yield
        self._line(f"{name} done in {time.perf_counter() - began:.2f} s")

    def items(self, name: str, items: Sequence[T]) -> Iterable[T]:
        return self._count(name, items) if len(items) >= 2 else items

    def _count(self, name: str, items: Sequence[T]) -> Iterator[T]:
        total = len(items)
        # a short list gets its total only; a long one a line about every tenth
        every = total if total < 2 * self.steps else -(-total // self.steps)
        for i, item in enumerate(items, start=1):
            yield item
            if i % every == 0 or i == total:
                self._line(f"{name} {i}/{total}")


# -- options and fingerprint ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildOptions:
    paths: tuple[str, ...]
    root: str | None = None
    results: tuple[str, ...] = ()
    policy: str | None = None
    use_git: bool = True
    cache_dir: str | None = None  # the parser's cache; not an input of the artifacts
    single_file: bool = False  # also write OUT/report.html: the whole site in one offline file
    campaign_results: tuple[str, ...] = ()  # fault-injection results (default: injection.* in the result folders)
    mlflow: str | None = None  # an MLflow tracking URI: ML metric evidence from the model registry
    # Monte Carlo trials per fault tree with uncertain events (0: none); seed fixed (UNCERTAINTY_SEED), so the
    # same inputs give the same bytes; the fault-tree pages draw the histogram
    uncertainty: int = 0


class InputsChanged(Exception):
    """Input files changed while the build read them, on every try: nothing was written."""

    def __init__(self, files: Sequence[str]):
        super().__init__(f"inputs changed while building: {', '.join(files)}")
        self.files = tuple(files)


class BuildError(Exception):
    """The model has errors (or the inputs cannot be read): nothing was written."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, list[str]], file_count: int):
        super().__init__(f"{len(diagnostics)} error(s)")
        self.diagnostics = diagnostics
        self.sources = sources
        self.file_count = file_count


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("safetyops-dsl")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0+unknown"


def graphviz_version() -> str:
    """`dot -V` (SVG bytes depend on it), or "" without Graphviz."""
    exe = shutil.which("dot")
    if exe is None:
        return ""
    try:
        done = subprocess.run([exe, "-V"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return (done.stderr or done.stdout).strip()


def code_hash() -> str:
    """Hash of sops' own code, grammar and templates: an edited (editable) install invalidates the cache
    even where the version number stays the same."""
    import safetyops_dsl
    from safetyops_dsl import generators

    bases = [Path(safetyops_dsl.__file__).parent, Path(generators.__file__).parent]
    with contextlib.suppress(ImportError):
        import importlib

        bases += [Path(p) for p in importlib.import_module("safetyops_dsl.grammar").__path__]
    h = hashlib.sha256()
    for base in bases:
        for f in sorted(base.rglob("*")):
            if f.suffix in (".py", ".tx", ".j2", ".css", ".js") and "__pycache__" not in f.parts and f.is_file():
                h.update(f.relative_to(base).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _rel(path: str | os.PathLike[str], base: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), base.resolve())).as_posix()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return "absent"
    return h.hexdigest()


def _discover_sops(paths: Iterable[Path]) -> list[Path]:
    """The .sops files the loader would find under the given paths (hidden folders skipped)."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += [f for f in p.rglob("*.sops")
                      if f.is_file() and not any(part.startswith(".") for part in f.parts[len(p.parts):])]
        elif p.is_file():
            found.append(p)
    return found


def _result_files(results: Sequence[str]) -> list[Path]:
    from safetyops_dsl.analysis.evidence import collect_result_files

    return collect_result_files(results)[0] if results else []


def options_record(opts: BuildOptions, out: Path) -> dict[str, Any]:
    """The options as the manifest records them: paths relative to the output folder."""
    return {
        "paths": [_rel(p, out) for p in opts.paths],
        "root": _rel(opts.root, out) if opts.root else None,
        "results": [_rel(p, out) for p in opts.results],
        "policy": _rel(opts.policy, out) if opts.policy else None,
        "git": opts.use_git,
        # only when set, so the manifests of ordinary builds stay as they were
        **({"single_file": True} if opts.single_file else {}),
        **({"campaign_results": [_rel(p, out) for p in opts.campaign_results]} if opts.campaign_results else {}),
        **({"mlflow": _mlflow_record(opts.mlflow, out)} if opts.mlflow else {}),
        **({"uncertainty": opts.uncertainty} if opts.uncertainty else {}),
    }


def _mlflow_absolute(uri: str) -> str:
    from safetyops_dsl.ops.mlflow_source import absolute

    return absolute(uri)


def _mlflow_record(uri: str, out: Path) -> str:
    """A local store relative to the output folder, as the other inputs; a server as given, less a password."""
    from safetyops_dsl.ops.mlflow_source import local_store, shown

    path = local_store(uri)
    if path is None:
        return shown(uri)
    rel = _rel(path, out)
    return f"sqlite:///{rel}" if uri.startswith("sqlite:") else f"file:{rel}"


def options_from_record(record: dict[str, Any], out: Path) -> BuildOptions:
    def back(p: str) -> str:
        return os.path.normpath(os.path.join(out, p))

    return BuildOptions(
        paths=tuple(back(p) for p in record.get("paths", [])),
        root=back(record["root"]) if record.get("root") else None,
        results=tuple(back(p) for p in record.get("results", [])),
        policy=back(record["policy"]) if record.get("policy") else None,
        use_git=bool(record.get("git", True)),
        single_file=bool(record.get("single_file", False)),
        campaign_results=tuple(back(p) for p in record.get("campaign_results", [])),
        mlflow=_mlflow_back(record["mlflow"], out) if record.get("mlflow") else None,
        uncertainty=int(record.get("uncertainty", 0)),
    )


def _mlflow_back(uri: str, out: Path) -> str:
    from safetyops_dsl.ops.mlflow_source import local_store

    path = local_store(uri)
    if path is None or path.is_absolute():
        return uri
    full = Path(os.path.normpath(out / path)).as_posix()
    return f"sqlite:///{full}" if uri.startswith("sqlite:") else f"file://{full}"


def _git_head(root: Path) -> str:
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=60, check=False, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def fingerprint(opts: BuildOptions, out: Path, extra_files: Iterable[Path] = (), git_root: Path | None = None
                ) -> dict[str, Any]:
    """What the artifacts depend on: options, versions, and the content hash of every input file.
    `extra_files`: files known from an earlier run (imports outside the given paths, evidence artifacts).
    `git_root`: set when evidence pins a commit (staleness then depends on the repository's HEAD)."""
    files = set(_discover_sops(Path(p) for p in opts.paths))
    files.update(_result_files(opts.results))
    files.update(Path(p) for p in opts.campaign_results)
    if opts.policy:
        files.add(Path(opts.policy))
    files.update(extra_files)
    hashed = {_rel(f, out): _sha256_file(f) for f in files}
    record: dict[str, Any] = {
        "options": options_record(opts, out),
        "sops": package_version(),
        "code": code_hash(),
        "graphviz": graphviz_version(),
        "files": dict(sorted(hashed.items())),
    }
    if git_root is not None and opts.use_git:
        record["git_head"] = _git_head(git_root)
    return record


def input_hash(record: dict[str, Any]) -> str:
    data = json.dumps(record, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


# -- the analyses ------------------------------------------------------------------------------------------------


@dataclass
class Analysis:
    """The pipeline's results for one build, with what the build adds: the model check, the policy file,
    the files read and their digests."""

    opts: BuildOptions
    checked: Checked
    model: Model
    root: Path
    results: pipeline.Results
    diagnostics: list[Diagnostic]  # warnings and errors beyond the model check (results, policy, trace, GSN)
    input_files: list[Path] = field(default_factory=list)  # files read beyond the given paths
    pins_commit: bool = False
    policy_file_ok: bool = True
    # absolute path -> sha256 of the bytes the analyses read (model, policy and result files as parsed;
    # evidence artifacts as hashed when the build collected its inputs)
    input_digests: dict[Path, str] = field(default_factory=dict)
    gsn_error: str = ""  # why GSN is missing

    @property
    def syntheses(self) -> list[SynthesisResult]:
        return self.results.syntheses

    @property
    def trees(self) -> list[tuple[FaultTree, FtaResult]]:
        return self.results.trees

    @property
    def goal_checks(self) -> list[GoalCheck]:
        return self.results.goal_checks

    @property
    def fmea(self) -> FmeaTable:
        return self.results.fmea

    @property
    def fmeda(self) -> FmedaReport:
        return self.results.fmeda

    @property
    def hara(self) -> HaraTable:
        return self.results.hara

    @property
    def trace(self) -> TraceGraph:
        return self.results.trace

    @property
    def coverage(self) -> Coverage:
        return self.results.coverage

    @property
    def results_ok(self) -> bool:
        """False: a result file was unreadable."""
        return self.results.results_ok

    @property
    def policy_ok(self) -> bool:
        """False: the policy file or the model's policy is invalid."""
        return self.results.policy_ok and self.policy_file_ok

    @property
    def case(self) -> Any:
        """The GSN case (safetyops_dsl.analysis.gsn.Case), None when GSN is not built."""
        return self.results.case


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _absolute(opts: BuildOptions) -> BuildOptions:
    def ab(p: str) -> str:
        return str(Path(p).resolve())

    return BuildOptions(
        paths=tuple(ab(p) for p in opts.paths),
        root=ab(opts.root) if opts.root else None,
        results=tuple(ab(p) for p in opts.results),
        policy=ab(opts.policy) if opts.policy else None,
        use_git=opts.use_git,
        mlflow=_mlflow_absolute(opts.mlflow) if opts.mlflow else None,
        cache_dir=ab(opts.cache_dir) if opts.cache_dir else None,
        single_file=opts.single_file,
        campaign_results=tuple(ab(p) for p in opts.campaign_results),
        uncertainty=opts.uncertainty,
    )


def model_root(opts: BuildOptions) -> Path:
    from safetyops_dsl.parse.loader import find_root

    return find_root([Path(p) for p in opts.paths], Path(opts.root) if opts.root else None)


RESULTS_DIR = "ci-results"  # conventional folder of CI results at the model root (docs/build-and-gate.md)


def shipped_results(root: Path) -> tuple[str, ...]:
    """The model root's `ci-results/` folder when it exists (the CI results a model ships), else nothing."""
    folder = root / RESULTS_DIR
    return (str(folder),) if folder.is_dir() else ()


def with_default_results(opts: BuildOptions) -> BuildOptions:
    """Without `--results`, the model root's `ci-results/` folder when it exists: a model that ships its CI
    results is judged with them by a plain `sops build` or `sops gate`, as CI would. Without
    `--campaign-results`, the fault-injection results (`injection.xml` / `injection.json`) in those folders."""
    from safetyops_dsl.analysis.injection_results import default_campaign_results

    if not opts.results:
        shipped = shipped_results(model_root(opts))
        opts = dataclasses.replace(opts, results=shipped) if shipped else opts
    if not opts.campaign_results:
        found = default_campaign_results(opts.results)
        opts = dataclasses.replace(opts, campaign_results=found) if found else opts
    return opts


def analyse(opts: BuildOptions, progress: Progress | None = None, with_gsn: bool = True) -> Analysis:
    """Every analysis of the model, computed once. Raises BuildError when the model has errors."""
    progress = progress or QuietProgress()
    opts = with_default_results(_absolute(opts))
    root = model_root(opts)
    with _working_directory(root):
        return _analyse(opts, root, progress, with_gsn)


def _analyse(opts: BuildOptions, root: Path, progress: Progress, with_gsn: bool) -> Analysis:
    from safetyops_dsl.api import check

    with progress.phase("check"):
        checked = check(opts.paths, root=opts.root, cache_dir=opts.cache_dir)
    errors = blocking_errors(checked.diagnostics)
    if errors or checked.model is None:
        raise BuildError(errors, checked.sources, checked.file_count)
    model = checked.model

    diags: list[Diagnostic] = []
    digests = dict(checked.digests)
    file_rules = []
    policy_file_ok = True
    if opts.policy is not None:
        pol = check([opts.policy], validate=False)
        digests.update(pol.digests)
        if pol.model is None or dg.has_errors(pol.diagnostics):
            policy_file_ok = False
            diags += pol.diagnostics
        else:
            file_rules = list(pol.model.policy)
            more = list(check_policy(pol.model))
            policy_file_ok = not dg.has_errors(more)
            diags += more
    result_files, ops = opts.results, None
    if opts.mlflow or any(Path(r).name == "dvc.yaml" for r in opts.results):
        from safetyops_dsl.ops import sources

        with progress.phase("MLflow and DVC"):
            result_files, ops = sources.read(opts.results, opts.mlflow, model)
        ops_errors = [d for d in ops.diagnostics if d.level is dg.Severity.ERROR] if ops is not None else []
        if ops_errors:  # a registry or pipeline that cannot answer stops the build: nothing written
            raise BuildError(dg.sort_unique(ops_errors), checked.sources, checked.file_count)
    results = pipeline.analyse(model, pipeline.Options(
        results=result_files, file_policy=tuple(file_rules), use_git=opts.use_git, with_gsn=with_gsn, ops=ops,
        campaign_results=opts.campaign_results, uncertainty_trials=opts.uncertainty,
    ), progress)
    try:
        results.trees  # noqa: B018 - the engine may refuse a tree (a resource limit): a BuildError, not a crash
        results.uncertainty  # noqa: B018 - likewise a distribution that cannot be sampled
    except dg.DiagnosticError as exc:
        raise BuildError(list(exc.diagnostics), checked.sources, checked.file_count) from exc
    digests.update(results.result_digests)

    inputs: list[Path] = [Path(s).resolve() for s in checked.sources]
    pins_commit = False
    read = {Path(p): h for p, h in digests.items()}
    for ev in model.evidence.values():
        if ev.artifact:
            artifact = (root / ev.artifact).resolve()
            inputs.append(artifact)
            read.setdefault(artifact, _sha256_file(artifact))
        pins_commit = pins_commit or ev.commit is not None
    for comp in model.components.values():  # the data coverage manifests the ODD coverage read
        for ds in comp.ml.datasets if comp.ml else ():
            if ds.coverage_manifest:
                manifest = (root / ds.coverage_manifest).resolve()
                inputs.append(manifest)
                read.setdefault(manifest, _sha256_file(manifest))
    inputs += read

    return Analysis(opts, checked, model, root, results, dg.sort_unique(diags + results.diagnostics),
                    input_files=sorted(set(inputs)), pins_commit=pins_commit, policy_file_ok=policy_file_ok,
                    input_digests=read)


# -- the gate ----------------------------------------------------------------------------------------------------


def gate_items(a: Analysis) -> list[GateItem]:
    """The release checks of a build's analyses (analysis/gate.py)."""
    return _gate_items(a.results, a.checked.diagnostics, a.checked.file_count, a.policy_file_ok)


# -- artifacts ----------------------------------------------------------------------------------------------------


def safe_stem(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".") or "tree"


def tree_stems(trees: Sequence[tuple[FaultTree, FtaResult]]) -> list[str]:
    stems: list[str] = []
    for tree, _ in trees:
        stem = safe_stem(tree.name)
        base, n = stem, 2
        while stem in stems:
            stem, n = f"{base}-{n}", n + 1
        stems.append(stem)
    return stems


@dataclass(frozen=True)
class _Diagram:
    """One diagram of the build: drawn (or taken from the previous build) in one parallel batch."""

    path: str  # the SVG file in OUT
    kind: str  # "ft" | "gsn" | "trace": which post-processing the SVG gets
    dot: str
    rebase: str = ""  # the file sits this much deeper than the page that shows the SVG inline

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.kind}\0{self.dot}".encode()).hexdigest()


def _post(kind: str) -> Callable[[Any], None] | None:
    from safetyops_dsl.generators import fault_tree_dot, gsn_dot

    return {"ft": fault_tree_dot.post_process, "gsn": gsn_dot.post_process}.get(kind)


def diagram_cache(out: Path) -> dict[str, str]:
    """SVGs of the build in `out`, by diagram key (hash of kind and DOT), for a rebuild to reuse: only from a
    build by the same sops code and Graphviz, and only files that still match their manifest hash."""
    manifest = read_manifest(out)
    if manifest is None:
        return {}
    inputs = manifest.get("inputs", {})
    if inputs.get("code") != code_hash() or inputs.get("graphviz") != graphviz_version():
        return {}
    from safetyops_dsl.generators import graphviz

    listed: dict[str, str] = manifest.get("files", {})
    found: dict[str, str] = {}
    for key, entry in manifest.get("diagrams", {}).items():
        path, prefix = entry.get("file", ""), entry.get("rebase", "")
        if path not in listed or _sha256_file(out / path) != listed[path]:
            continue
        with contextlib.suppress(OSError, UnicodeDecodeError):
            found[key] = graphviz.unbase_links((out / path).read_text(encoding="utf-8"), prefix)
    return found


def _draw_diagrams(diagrams: Sequence[_Diagram], cache: dict[str, str], progress: Progress,
                   drawn_record: dict[str, dict[str, str]]) -> dict[str, str]:
    """path -> SVG (links relative to the page that shows it). Diagrams whose key is in `cache` are reused;
    the others are drawn by `dot` processes in parallel. A diagram that cannot be drawn is a note in its
    place (and is not recorded, so the next build tries again)."""
    from safetyops_dsl.generators import graphviz

    svgs: dict[str, str] = {}
    todo: list[_Diagram] = []
    for d in diagrams:
        if d.key in cache:
            svgs[d.path] = cache[d.key]
            drawn_record.setdefault(d.key, {"file": d.path, "rebase": d.rebase})
        else:
            todo.append(d)
    with progress.phase(f"diagrams: {len(todo)} to draw, {len(diagrams) - len(todo)} unchanged"):
        results = graphviz.render_all([graphviz.Job(d.path, d.dot, _post(d.kind)) for d in todo])
        for d in progress.items("diagrams drawn", todo):
            result = next(results)
            svgs[d.path] = result.svg
            if not result.error:
                drawn_record.setdefault(d.key, {"file": d.path, "rebase": d.rebase})
    return svgs


class _Links:
    """Where each element's page is, for the links on diagram nodes: hazards, goals and requirements have
    trace pages (trace/<page>.html); every other element links to its place in the model source."""

    def __init__(self, a: Analysis, out: Path):
        from safetyops_dsl.generators import site, trace_report

        self.src = site.Sources(a.model, sorted(a.checked.sources))
        self.tg = a.trace
        self.pages = {n: trace_report.page_name(n) for n in trace_report.page_elements(a.trace)}

    def source(self, file: str, line: int, base: str) -> str | None:
        loc = self.src.loc(file, line, base) if file else None
        return loc["href"] if loc else None

    def trace_node(self, nid: str, base: str) -> str | None:
        """`base`: from the page's folder to OUT ("" at the top, "../" one folder down)."""
        if nid in self.pages:
            return f"{base}trace/{self.pages[nid]}.html"
        node = self.tg.graph.nodes.get(nid)
        return self.source(str(node["file"]), int(node["line"]), base) if node else None

    def trace_urls(self, base: str) -> dict[str, str]:
        urls = {n: self.trace_node(n, base) for n in self.tg.graph.nodes}
        return {n: u for n, u in urls.items() if u}

    def tree_urls(self, tree: FaultTree, stem: str) -> dict[str, str]:
        """For a tree drawn on fta/<stem>.html: the top event is the hazard, every other node links to the
        logic or failure mode it comes from, a transfer triangle to the page that continues the tree."""
        from safetyops_dsl.analysis.trace import node_id
        from safetyops_dsl.generators.fault_tree_dot import node_ids

        urls: dict[str, str] = {}
        nodes: dict[str, Any] = {**tree.gates, **tree.basic_events, **tree.house_events}
        for name, node in nodes.items():
            origin = getattr(node, "origin", None)
            url = self.source(origin.file, origin.line, "../") if origin is not None else None
            if url:
                urls[name] = url
        top = self.trace_node(node_id("hazard", tree.name), "../")
        if top:
            urls[tree.top] = top
        # any gate may become a page: its id is the page's name and the anchor on the tree's page
        for page in node_ids(tree).values():
            urls[f"page:{page}"] = f"{stem}.html#page-{page}"
        urls["notes:"] = f"{stem}.html#notes"
        return urls

    def gsn_urls(self, case: Any, stems: dict[str, str]) -> dict[str, str]:
        """For diagrams shown on gsn.html: a node standing for a hazard, goal or requirement links to its
        trace page, an away goal and an overview's module box to that module's diagram (its section of
        gsn.html, or its own page when there are many modules), anything else to its source."""
        from safetyops_dsl.generators import site

        paged = site.paged(len(stems))

        def module_url(stem: str) -> str:
            return f"gsn/{stem}.html" if paged else f"gsn.html#d-{stem}"

        urls: dict[str, str] = {}
        for name, stem in stems.items():
            urls[f"module:{name}"] = module_url(stem)
        for node in case.nodes.values():
            url = self.pages.get(node.element) and f"trace/{self.pages[node.element]}.html"
            if not url and node.kind == "away_goal" and node.away_module in stems:
                url = module_url(stems[node.away_module])
            if not url:
                url = self.source(node.location.file, node.location.line, "")
            if url:
                urls[node.id] = url
        return urls


def render_artifacts(a: Analysis, out: Path, progress: Progress | None = None,
                     cache: dict[str, str] | None = None,
                     drawn_record: dict[str, dict[str, str]] | None = None) -> dict[str, bytes]:
    """Every file of the output folder but the manifest: relative POSIX path -> bytes.
    `out` is where the folder will finally live (source links are relative to it). `cache`: SVGs of an
    earlier build by diagram key (`diagram_cache`); `drawn_record` receives key -> file of every diagram,
    for the manifest."""
    from safetyops_dsl.generators import (
        fta_report,
        graphviz,
        openpsa,
        registry,
        site,
        sotif_report,
        tables,
        trace_report,
    )
    from safetyops_dsl.generators.fault_tree_dot import render_pages

    progress = progress or QuietProgress()
    record = drawn_record if drawn_record is not None else {}
    files: dict[str, bytes] = {}

    def put(path: str, data: str | bytes) -> None:
        files[path] = data.encode("utf-8") if isinstance(data, str) else data

    links = _Links(a, out)
    stems = tree_stems(a.trees)
    diagrams: list[_Diagram] = []
    tree_pages: dict[str, list[str]] = {}  # stem -> SVG paths, top page first
    with progress.phase("fault-tree artifacts"):
        for (tree, result), stem in progress.items("fault trees", list(zip(a.trees, stems, strict=True))):
            checks = [c for c in a.goal_checks if tree.name in c.hazards or tree.name in c.missing]
            pages = render_pages(tree, result, max_nodes_per_page=PAGE_NODES, max_columns=PAGE_COLUMNS,
                                 urls=links.tree_urls(tree, stem))
            tree_pages[stem] = []
            for i, (name, dot) in enumerate(pages.items()):
                path = f"fta/{stem}.svg" if i == 0 else f"fta/{stem}/{name}.svg"
                diagrams.append(_Diagram(path, "ft", dot, "" if i == 0 else "../"))
                tree_pages[stem].append(path)
            put(f"fta/{stem}.json", fta_report.render([(tree, result)], "json", checks))
            put(f"fta/{stem}.md", fta_report.render([(tree, result)], "md", checks))
            put(f"fta/{stem}.xml", openpsa.write_openpsa([tree]))
        if a.trees:
            put("fta/all.json", fta_report.render(a.trees, "json", a.goal_checks))
            put("fta/all.md", fta_report.render(a.trees, "md", a.goal_checks))
            put("fta/all.xml", openpsa.write_openpsa([t for t, _ in a.trees]))

    docs: dict[str, Any] = {"fmea": a.fmea, "fmeda": a.fmeda, "hara": a.hara}
    sotif = a.results.sotif if a.results.sotif.components else None  # a model without ML has no SOTIF table
    if sotif is not None:
        docs["sotif"] = sotif
    with progress.phase("tables"):
        jobs = [f for k in docs for f in registry.exports(k)]
        for f in progress.items("tables", jobs):
            put(f"exports/{f.artifact}.{f.name}", f.render(docs[f.artifact]))

    global_graph = trace_report.draws_global_graph(a.trace)
    trace_elements = trace_report.page_elements(a.trace)
    with progress.phase("trace report"):
        # the registry's exported formats; the DOT carries the site's links, the SVG is a diagram (below)
        for f in progress.items("trace report", list(registry.exports("trace"))):
            put(f"exports/trace.{f.name}", trace_report.to_dot(a.trace, links.trace_urls("../")) if f.name == "dot"
                else f.render(a.trace, a.coverage, title=a.model.root.name))
        if global_graph:
            diagrams.append(_Diagram("exports/trace.svg", "trace", trace_report.to_dot(a.trace, links.trace_urls("../"))))
        # the pages and their SVGs sit side by side in trace/
        page_urls = {n: f"{links.pages[n]}.html" if n in links.pages else u
                     for n, u in links.trace_urls("../").items()}
        for nid in progress.items("trace pages", trace_elements):
            diagrams.append(_Diagram(f"trace/{links.pages[nid]}.svg", "trace",
                                     trace_report.neighbourhood_dot(a.trace, nid, page_urls)))

    from safetyops_dsl import diagnostics as dg

    items = gate_items(a)
    put("exports/gate.json", gate_json(items))
    put("exports/gate.txt", gate_text(items))
    put("exports/check.json", dg.to_json(a.checked.diagnostics, a.checked.file_count))

    gsn_stems: list[str] = []
    gsn_modules: dict[str, str] = {}
    if a.case is not None:
        from safetyops_dsl.generators import gsn_dot, gsn_yaml

        with progress.phase("GSN"):
            names = [m for m, mod in a.case.modules.items() if mod.kind != "external"]
            module_stems = {m: safe_stem(m) for m in names}
            gsn_modules = {stem: m for m, stem in module_stems.items()}
            urls = links.gsn_urls(a.case, module_stems)
            for stem, dot in gsn_dot.diagrams(a.case, urls=urls):
                gsn_stems.append(safe_stem(stem))
                put(f"gsn/{safe_stem(stem)}.dot", dot)
                diagrams.append(_Diagram(f"gsn/{safe_stem(stem)}.svg", "gsn", dot, "../"))
            # gsn2x reads one file per module; the links are relative to the file, in gsn/
            yaml_urls = {k: graphviz.rebase_url(u, "../") for k, u in urls.items()}
            for module, text in gsn_yaml.render_modules(a.case, yaml_urls):
                put(f"gsn/{safe_stem(module)}.gsn.yaml", text)

    svgs = _draw_diagrams(diagrams, cache or {}, progress, record)
    for d in diagrams:
        put(d.path, graphviz.rebase_links(svgs[d.path], d.rebase))

    with progress.phase("report site"):
        data = site.SiteData(
            model=a.model,
            out_dir=out,
            version=package_version(),
            title=a.model.root.name,
            checked_files=a.checked.file_count,
            check_diagnostics=list(a.checked.diagnostics),
            diagnostics=list(a.diagnostics),
            trees=[site.TreePage(stem, tree, result, svgs[tree_pages[stem][0]],
                                 [(Path(p).stem, svgs[p]) for p in tree_pages[stem][1:]])
                   for (tree, result), stem in zip(a.trees, stems, strict=True)],
            goal_checks=list(a.goal_checks),
            fmea=tables.fmea_document(a.fmea),
            fmeda=tables.fmeda_document(a.fmeda),
            fmeda_report=a.fmeda,
            hara=tables.hara_document(a.hara),
            hara_table=a.hara,
            trace=a.trace,
            coverage=a.coverage,
            gate=[i.as_dict() for i in items],
            gate_passed=gate_passed(items),
            case=a.case,
            gsn_svgs=[(stem, svgs[f"gsn/{stem}.svg"]) for stem in gsn_stems],
            gsn_modules=gsn_modules,
            gsn_note=a.gsn_error,
            results_given=bool(a.opts.results),
            exports=sorted(files),
            sources=dict(a.checked.sources),
            trace_pages=[site.TracePage(links.pages[n], n, svgs[f"trace/{links.pages[n]}.svg"],
                                        trace_report.neighbourhood(a.trace, n)[2]) for n in trace_elements],
            global_trace_graph=global_graph,
            sotif=sotif_report.sotif_document(sotif) if sotif is not None else None,
            uncertainty=dict(a.results.uncertainty),
        )
        pages = site.render_site(data)
        for path, text in pages.items():
            put(path, text)
        if a.opts.single_file:
            put(site.SINGLE_FILE, site.render_single_file(pages, data))
    return dict(sorted(files.items()))


def manifest_text(files: dict[str, bytes], record: dict[str, Any], gsn: bool,
                  diagrams: dict[str, dict[str, str]] | None = None) -> str:
    """`diagrams`: diagram key -> {"file", "rebase"}, so that the next build reuses unchanged drawings."""
    doc = {
        "schema": SCHEMA,
        "generator": f"sops {package_version()}",
        "input_hash": input_hash(record),
        "inputs": record,
        "gsn": gsn,
        "files": {p: hashlib.sha256(b).hexdigest() for p, b in sorted(files.items())},
        "diagrams": dict(sorted((diagrams or {}).items())),
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_manifest(out: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("schema") == SCHEMA else None


def _tree_files(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


def up_to_date(opts: BuildOptions, out: Path) -> bool:
    """True when OUT was built from exactly these inputs and every file still matches the manifest."""
    manifest = read_manifest(out)
    # a model registry is not a file, and a DVC pipeline's metrics files are not hashed here: either may
    # move at any time, so a build that reads them is never taken as up to date
    if manifest is None or opts.mlflow or any(Path(r).name == "dvc.yaml" for r in opts.results):
        return False
    opts = with_default_results(_absolute(opts))
    recorded = manifest.get("inputs", {})
    extra = [Path(os.path.normpath(out / p)) for p in recorded.get("files", {})]
    root = model_root(_absolute(opts)) if "git_head" in recorded else None
    if input_hash(fingerprint(opts, out, extra, root)) != manifest.get("input_hash"):
        return False
    listed: dict[str, str] = manifest.get("files", {})
    present = _tree_files(out)
    present.pop(MANIFEST, None)
    if sorted(present) != sorted(listed):
        return False
    return all(_sha256_file(present[p]) == h for p, h in listed.items())


# -- build -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildReport:
    up_to_date: bool
    files: int
    seconds: float
    gate_passed: bool | None  # None when the build was skipped (up to date)
    gsn: bool
    diagnostics: tuple[Diagnostic, ...] = ()
    cleaned: tuple[str, ...] = ()  # leftovers of killed builds that were removed


def _generate(opts: BuildOptions, out: Path, progress: Progress,
              notify: Callable[[str], None] | None = None, reuse: bool = False
              ) -> tuple[dict[str, bytes], Analysis]:
    """`reuse`: take unchanged diagrams from the build in `out` instead of drawing them again."""
    changed: list[str] = []
    for attempt in range(1, BUILD_ATTEMPTS + 1):
        if changed and notify is not None:
            notify(f"inputs changed while building ({', '.join(changed)}): building again "
                   f"(try {attempt} of {BUILD_ATTEMPTS})")
        a = analyse(opts, progress)
        drawn: dict[str, dict[str, str]] = {}
        files = render_artifacts(a, out, progress, diagram_cache(out) if reuse else None, drawn)
        # Hashed from disk after the artifacts were made: equal to the hashes of what was read only if no
        # input changed meanwhile, and then this record describes exactly the bytes analysed.
        record = fingerprint(opts, out, a.input_files, a.root if a.pins_commit else None)
        changed = _changed_inputs(record["files"], {_rel(p, out): h for p, h in a.input_digests.items()})
        if not changed:
            files[MANIFEST] = manifest_text(files, record, a.case is not None, drawn).encode("utf-8")
            return files, a
    raise InputsChanged(changed)


def _changed_inputs(on_disk: dict[str, str], read: dict[str, str]) -> list[str]:
    """Inputs whose bytes now differ from those read, and inputs that appeared (a new model file under the
    given folders, a new result file) without being read."""
    changed = {k for k, h in read.items() if on_disk.get(k, "absent") != h}
    changed |= {k for k, h in on_disk.items() if k not in read and h != "absent"}
    return sorted(changed)


def _write_tree(folder: Path, files: dict[str, bytes]) -> None:
    """Every file through write_atomic, in threads: the time is each file's fsync, and fsyncs overlap
    (1,738 files of a 1,000-component model: 0.9 s instead of 12 s one after the other)."""
    from concurrent.futures import ThreadPoolExecutor

    from safetyops_dsl.atomic import write_atomic

    for parent in sorted({(folder / rel).parent for rel in files}):
        parent.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda item: write_atomic(folder / item[0], item[1]), files.items()))


def _check_target(out: Path) -> None:
    """Refuse to replace a folder that is not ours: it would be deleted by the swap."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"'{out}' exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and read_manifest(out) is None:
        raise FileExistsError(f"'{out}' is not empty and holds no {MANIFEST} of a sops build: not replacing it")


def output_folder(out: str | os.PathLike[str]) -> Path:
    """OUT as an absolute path, through a symbolic link whose target stays in the link's folder (an
    atomic.OutputRefused otherwise: the swap would replace what the link points to)."""
    from safetyops_dsl.atomic import follow_link

    return follow_link(Path(out)).resolve()


def lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.lock"


@contextlib.contextmanager
def build_lock(target: Path, *, notify: Callable[[str], None] | None = None,
               required: bool = True) -> Iterator[None]:
    """Hold `.OUT.lock` next to OUT: a build from the up-to-date check to the swap, `--check` while it reads
    OUT (never halfway through a swap). flock: the kernel releases it when the holder dies, so a lock is
    never stale. The holder removes the file as it finishes (no lock file stays next to a committed OUT);
    a waiter that then gets the lock of the removed file sees so and locks the path anew.
    `required=False`: go on without a lock where none can be made (a read-only checkout)."""
    if fcntl is None:  # pragma: no cover - Windows: no advisory locks; builds are not serialised there
        yield
        return
    path = lock_path(target)
    waited = False
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError:
            if required:
                raise
            yield
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if notify is not None and not waited:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                    by = f" (pid {holder})" if holder.isdigit() else ""
                    notify(f"'{target}' is being built by another sops{by}: waiting for it to finish")
                waited = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            mine = os.fstat(fd)
            try:
                now = os.stat(path)
            except FileNotFoundError:
                now = None
        except BaseException:
            os.close(fd)
            raise
        if now is not None and (now.st_ino, now.st_dev) == (mine.st_ino, mine.st_dev):
            break
        os.close(fd)  # locked a file its holder removed meanwhile
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _leftovers(target: Path) -> list[Path]:
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(?:build|old)-[0-9a-z_]+")
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return []
    return sorted(p for p in entries if pattern.fullmatch(p.name) and p.is_dir() and not p.is_symlink())


def clean_leftovers(target: Path) -> list[str]:
    """Remove the temporary folders of builds that were killed (call with the lock held: no live build owns
    one then). A build killed between the two renames of the swap left no OUT but its previous content as
    `.OUT.old-*`: that is put back first."""
    found = _leftovers(target)
    olds = [p for p in found if p.name.startswith(f".{target.name}.old-")]
    if not target.exists() and len(olds) == 1 and read_manifest(olds[0]) is not None:
        os.replace(olds[0], target)
        found.remove(olds[0])
    for p in found:
        shutil.rmtree(p, ignore_errors=True)
    return [p.name for p in found]


def build(opts: BuildOptions, out: str | os.PathLike[str], *, force: bool = False,
          progress: Progress | None = None, notify: Callable[[str], None] | None = None) -> BuildReport:
    """Build every artifact into `out` (created or replaced as a whole). Raises BuildError on model
    errors, InputsChanged when inputs kept changing during the build, FileExistsError when `out` is
    something else than an earlier build, atomic.OutputRefused when `out` is a link leaving its folder;
    `out` is then untouched. `notify` gets one-line notices (waiting for the lock, building again)."""
    from safetyops_dsl.atomic import make_folder

    started = time.perf_counter()
    progress = progress or QuietProgress()
    target = output_folder(out)
    opts = with_default_results(_absolute(opts))
    target.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(target, notify=notify):
        cleaned = clean_leftovers(target)
        _check_target(target)
        if not force and up_to_date(opts, target):
            manifest = read_manifest(target) or {}
            return BuildReport(True, len(manifest.get("files", {})) + 1, time.perf_counter() - started, None,
                               bool(manifest.get("gsn")), cleaned=tuple(cleaned))
        files, a = _generate(opts, target, progress, notify, reuse=not force)
        tmp = make_folder(target.parent, f".{target.name}.build-")
        try:
            with progress.phase("write"):
                _write_tree(tmp, files)
            _swap(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return BuildReport(False, len(files), time.perf_counter() - started, gate_passed(gate_items(a)),
                       a.case is not None, tuple(a.diagnostics), tuple(cleaned))


def _swap(new: Path, target: Path) -> None:
    """Put `new` in place of `target` (with the build lock held). The old folder is moved aside first and
    removed last, so at every moment either the old or the new complete folder exists under one of the two
    names, and a killed build's `.old-` folder is put back by the next one (clean_leftovers)."""
    if not target.exists():
        os.replace(new, target)
        return
    old = target.parent / f".{target.name}.old-{new.name.rpartition('-')[2]}"
    os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


@dataclass(frozen=True)
class CheckReport:
    differ: tuple[str, ...]
    missing: tuple[str, ...]  # generated, but not in OUT
    extra: tuple[str, ...]  # in OUT, but not generated

    @property
    def ok(self) -> bool:
        return not (self.differ or self.missing or self.extra)


def _same(name: str, old: bytes, new: bytes) -> bool:
    """Byte equality; for the manifest, equality of everything but the cache key (`inputs`, `input_hash`):
    a new sops version or Graphviz that generates the same bytes does not make the folder out of date."""
    if old == new:
        return True
    if name != MANIFEST:
        return False
    try:
        a, b = json.loads(old), json.loads(new)
    except ValueError:
        return False
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return False
    keep = {k for k in a.keys() | b.keys() if k not in ("inputs", "input_hash", "generator")}
    return all(a.get(k) == b.get(k) for k in keep)


def check_build(out: str | os.PathLike[str], opts: BuildOptions | None = None,
                progress: Progress | None = None) -> CheckReport:
    """Regenerate (in memory) and compare with the committed folder `out`. Options default to those
    recorded in its manifest. Raises FileNotFoundError when there is neither a manifest nor options."""
    target = Path(out).resolve()
    if opts is None:
        manifest = read_manifest(target)
        if manifest is None:
            raise FileNotFoundError(f"no {MANIFEST} of a sops build in '{target}': give the model PATHS")
        opts = options_from_record(manifest.get("inputs", {}).get("options", {}), target)
    opts = with_default_results(_absolute(opts))
    files, _ = _generate(opts, target, progress or QuietProgress())
    with build_lock(target, required=False):
        present = {p: f.read_bytes() for p, f in (_tree_files(target) if target.is_dir() else {}).items()}
    differ = [p for p in files if p in present and not _same(p, present[p], files[p])]
    missing = [p for p in files if p not in present]
    extra = [p for p in present if p not in files]
    return CheckReport(tuple(sorted(differ)), tuple(sorted(missing)), tuple(sorted(extra)))
