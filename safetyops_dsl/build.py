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
from safetyops_dsl.analysis import pipeline
from safetyops_dsl.analysis.gate import (
    FAIL,
    PASS,
    SKIP,
    SUPERSEDED,
    GateItem,
    gate_json,
    gate_passed,
    gate_text,
)
from safetyops_dsl.analysis.gate import gate_items as _gate_items
from safetyops_dsl.analysis.pipeline import Progress, QuietProgress
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

SCHEMA = "sops-build/1"
MANIFEST = "manifest.json"
# Tries before a build whose inputs keep changing under it gives up (InputsChanged).
BUILD_ATTEMPTS = 3
# Above this many tree nodes the diagram is drawn in pages of PAGE_NODES nodes (docs/diagrams.md).
PAGED_TREE_NODES = 400
PAGE_NODES = 80
T = TypeVar("T")

__all__ = ["FAIL", "PASS", "SKIP", "GateItem", "Progress", "QuietProgress", "gate_json", "gate_passed", "gate_text"]


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
    }


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
    )


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
    opts: BuildOptions
    checked: Checked
    model: Model
    root: Path
    syntheses: list[SynthesisResult]
    trees: list[tuple[FaultTree, FtaResult]]
    goal_checks: list[GoalCheck]
    fmea: FmeaTable
    fmeda: FmedaReport
    hara: HaraTable
    trace: TraceGraph
    coverage: Coverage
    results_ok: bool  # False: a result file was unreadable
    policy_ok: bool  # False: the policy file or the model's policy is invalid
    diagnostics: list[Diagnostic]  # warnings and errors beyond the model check (results, policy, trace, GSN)
    case: Any = None  # the GSN case (safetyops_dsl.analysis.gsn.Case), None when GSN is not available
    gsn_error: str = ""  # why GSN is missing
    input_files: list[Path] = field(default_factory=list)  # files read beyond the given paths
    pins_commit: bool = False
    results: pipeline.Results | None = None  # the pipeline's output the fields above were taken from
    policy_file_ok: bool = True
    # absolute path -> sha256 of the bytes the analyses read (model, policy and result files as parsed;
    # evidence artifacts as hashed after the trace checked them)
    input_digests: dict[Path, str] = field(default_factory=dict)


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
        cache_dir=ab(opts.cache_dir) if opts.cache_dir else None,
        single_file=opts.single_file,
    )


def model_root(opts: BuildOptions) -> Path:
    from safetyops_dsl.parse.loader import find_root

    return find_root([Path(p) for p in opts.paths], Path(opts.root) if opts.root else None)


RESULTS_DIR = "ci-results"  # conventional folder of CI results at the model root (docs/build-and-gate.md)


def with_default_results(opts: BuildOptions) -> BuildOptions:
    """Without `--results`, the model root's `ci-results/` folder when it exists: a model that ships its CI
    results is judged with them by a plain `sops build` or `sops gate`, as CI would."""
    if opts.results:
        return opts
    folder = model_root(opts) / RESULTS_DIR
    return dataclasses.replace(opts, results=(str(folder),)) if folder.is_dir() else opts


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
    errors = [d for d in checked.diagnostics if d.level is dg.Severity.ERROR and d.code not in SUPERSEDED]
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
    try:
        results = pipeline.analyse(model, pipeline.Options(
            results=opts.results, file_policy=tuple(file_rules), use_git=opts.use_git, with_gsn=with_gsn,
        ), progress)
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
    inputs += read

    analysis = Analysis(opts, checked, model, root, results.syntheses, results.trees, results.goal_checks,
                        results.fmea, results.fmeda, results.hara, results.trace, results.coverage,
                        results.results_ok, results.policy_ok and policy_file_ok, dg.sort_unique(diags + results.diagnostics),
                        case=results.case, gsn_error=results.gsn_error, input_files=sorted(set(inputs)),
                        pins_commit=pins_commit, results=results, policy_file_ok=policy_file_ok,
                        input_digests=read)
    return analysis


# -- the gate ----------------------------------------------------------------------------------------------------


def gate_items(a: Analysis) -> list[GateItem]:
    """The release checks of a build's analyses (analysis/gate.py)."""
    assert a.results is not None, "an Analysis is made from the pipeline's Results"
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


def render_artifacts(a: Analysis, out: Path, progress: Progress | None = None) -> dict[str, bytes]:
    """Every file of the output folder but the manifest: relative POSIX path -> bytes.
    `out` is where the folder will finally live (source links are relative to it)."""
    from safetyops_dsl.generators import fta_report, openpsa, registry, site, tables
    from safetyops_dsl.generators.fault_tree_dot import render_pages, render_svg, svg_from_dot

    progress = progress or QuietProgress()
    files: dict[str, bytes] = {}

    def put(path: str, data: str | bytes) -> None:
        files[path] = data.encode("utf-8") if isinstance(data, str) else data

    stems = tree_stems(a.trees)
    svgs: dict[str, str] = {}
    more_pages: dict[str, list[tuple[str, str]]] = {}
    with progress.phase("fault-tree artifacts"):
        for (tree, result), stem in progress.items("fault-tree diagrams", list(zip(a.trees, stems, strict=True))):
            checks = [c for c in a.goal_checks if tree.name in c.hazards or tree.name in c.missing]
            if len(tree.gates) + len(tree.basic_events) + len(tree.house_events) > PAGED_TREE_NODES:
                # One drawing of thousands of nodes is unreadable and takes Graphviz minutes: draw pages cut at
                # sub-tree boundaries (transfer triangles name the page that continues the tree).
                pages = list(render_pages(tree, result, max_nodes_per_page=PAGE_NODES).items())
                svgs[stem] = svg_from_dot(pages[0][1])
                more_pages[stem] = [(name, svg_from_dot(dot)) for name, dot in pages[1:]]
                for name, page_svg in more_pages[stem]:
                    put(f"fta/{stem}/{name}.svg", page_svg)
            else:
                svgs[stem] = render_svg(tree, result)
            put(f"fta/{stem}.svg", svgs[stem])
            put(f"fta/{stem}.json", fta_report.render([(tree, result)], "json", checks))
            put(f"fta/{stem}.md", fta_report.render([(tree, result)], "md", checks))
            put(f"fta/{stem}.xml", openpsa.write_openpsa([tree]))
        if a.trees:
            put("fta/all.json", fta_report.render(a.trees, "json", a.goal_checks))
            put("fta/all.md", fta_report.render(a.trees, "md", a.goal_checks))
            put("fta/all.xml", openpsa.write_openpsa([t for t, _ in a.trees]))

    docs = {"fmea": a.fmea, "fmeda": a.fmeda, "hara": a.hara}
    with progress.phase("tables"):
        jobs = [f for k in docs for f in registry.exports(k)]
        for f in progress.items("tables", jobs):
            put(f"exports/{f.artifact}.{f.name}", f.render(docs[f.artifact]))

    with progress.phase("trace report"):
        for f in progress.items("trace report", list(registry.exports("trace"))):
            put(f"exports/trace.{f.name}", f.render(a.trace, a.coverage, title=a.model.root.name))

    from safetyops_dsl import diagnostics as dg

    items = gate_items(a)
    put("exports/gate.json", gate_json(items))
    put("exports/gate.txt", gate_text(items))
    put("exports/check.json", dg.to_json(a.checked.diagnostics, a.checked.file_count))

    gsn_svgs: list[tuple[str, str]] = []
    if a.case is not None:
        from safetyops_dsl.generators import gsn_dot

        with progress.phase("GSN diagrams"):
            for stem, dot in progress.items("GSN diagrams", gsn_dot.diagrams(a.case)):
                svg = gsn_dot.svg_from_dot(dot)
                gsn_svgs.append((safe_stem(stem), svg))
                put(f"gsn/{safe_stem(stem)}.dot", dot)
                put(f"gsn/{safe_stem(stem)}.svg", svg)
            yaml_text = _gsn_yaml(a.case)
            if yaml_text is not None:
                put("gsn/case.yaml", yaml_text)

    with progress.phase("report site"):
        data = site.SiteData(
            model=a.model,
            out_dir=out,
            version=package_version(),
            title=a.model.root.name,
            checked_files=a.checked.file_count,
            check_diagnostics=list(a.checked.diagnostics),
            diagnostics=list(a.diagnostics),
            trees=[site.TreePage(stem, tree, result, svgs[stem], more_pages.get(stem, []))
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
            gsn_svgs=gsn_svgs,
            gsn_note=a.gsn_error,
            results_given=bool(a.opts.results),
            exports=sorted(files),
            sources=dict(a.checked.sources),
        )
        pages = site.render_site(data)
        for path, text in pages.items():
            put(path, text)
        if a.opts.single_file:
            put(site.SINGLE_FILE, site.render_single_file(pages, data))
    return dict(sorted(files.items()))


def _gsn_yaml(case: Any) -> str | None:
    """The colleague's YAML export of the case, when that module and a function we recognise are present."""
    try:
        from safetyops_dsl.generators import gsn_yaml  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    for name in ("render", "to_yaml", "render_yaml", "dump"):
        fn: Callable[[Any], Any] | None = getattr(gsn_yaml, name, None)
        if callable(fn):
            text = fn(case)
            return text if isinstance(text, str) else None
    return None


def manifest_text(files: dict[str, bytes], record: dict[str, Any], gsn: bool) -> str:
    doc = {
        "schema": SCHEMA,
        "generator": f"sops {package_version()}",
        "input_hash": input_hash(record),
        "inputs": record,
        "gsn": gsn,
        "files": {p: hashlib.sha256(b).hexdigest() for p, b in sorted(files.items())},
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
    if manifest is None:
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
              notify: Callable[[str], None] | None = None) -> tuple[dict[str, bytes], Analysis]:
    changed: list[str] = []
    for attempt in range(1, BUILD_ATTEMPTS + 1):
        if changed and notify is not None:
            notify(f"inputs changed while building ({', '.join(changed)}): building again "
                   f"(try {attempt} of {BUILD_ATTEMPTS})")
        a = analyse(opts, progress)
        files = render_artifacts(a, out, progress)
        # Hashed from disk after the artifacts were made: equal to the hashes of what was read only if no
        # input changed meanwhile, and then this record describes exactly the bytes analysed.
        record = fingerprint(opts, out, a.input_files, a.root if a.pins_commit else None)
        changed = _changed_inputs(record["files"], {_rel(p, out): h for p, h in a.input_digests.items()})
        if not changed:
            files[MANIFEST] = manifest_text(files, record, a.case is not None).encode("utf-8")
            return files, a
    raise InputsChanged(changed)


def _changed_inputs(on_disk: dict[str, str], read: dict[str, str]) -> list[str]:
    """Inputs whose bytes now differ from those read, and inputs that appeared (a new model file under the
    given folders, a new result file) without being read."""
    changed = {k for k, h in read.items() if on_disk.get(k, "absent") != h}
    changed |= {k for k, h in on_disk.items() if k not in read and h != "absent"}
    return sorted(changed)


def _write_tree(folder: Path, files: dict[str, bytes]) -> None:
    from safetyops_dsl.atomic import write_atomic

    for rel, data in files.items():
        write_atomic(folder / rel, data)


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
        files, a = _generate(opts, target, progress, notify)
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
