"""`sops build` and `sops gate`: every analysis of a model in one run, and one release verdict.

`analyse` runs the front end and every analysis once (check, fault trees with goal targets, FMEA, FMEDA,
HARA, trace and coverage, GSN when that module is present); `gate_items` turns the result into the release
checks; `build` writes every artifact and the static report site into an output folder.

Output folder contract (docs/build-and-gate.md):
- stable layout, every file byte-identical for the same inputs; `manifest.json` lists every other file with
  its sha256 (sorted, no timestamps) and the fingerprint of the inputs;
- the site is built into a temporary sibling folder and swapped in at the end, so an interrupted build
  leaves the previous folder intact;
- a rerun whose input fingerprint (model files, evidence artifacts, result and policy files, options,
  sops and Graphviz versions) equals the manifest's, with every file still matching its hash, does nothing.

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
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

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
# Above this many tree nodes the diagram is drawn in pages of PAGE_NODES nodes (docs/diagrams.md).
PAGED_TREE_NODES = 400
PAGE_NODES = 80
T = TypeVar("T")

# gate statuses
PASS, FAIL, SKIP = "pass", "fail", "skip"


# -- progress ----------------------------------------------------------------------------------------------------


class Progress(Protocol):
    def phase(self, name: str) -> contextlib.AbstractContextManager[None]: ...

    def items(self, name: str, items: Sequence[T]) -> Iterable[T]: ...


class QuietProgress:
    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        yield

    def items(self, name: str, items: Sequence[T]) -> Iterable[T]:
        return items


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


def gsn_available() -> bool:
    try:
        from safetyops_dsl.analysis import gsn
        from safetyops_dsl.generators import gsn_dot
    except ImportError:
        return False
    return all(hasattr(gsn, n) for n in ("build_case", "evidence_statuses")) and all(
        hasattr(gsn_dot, n) for n in ("diagrams", "svg_from_dot"))


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


SUPERSEDED = ("SOPS061", "SOPS062", "SOPS063")  # reported by the coverage policy instead (as sops trace does)


def analyse(opts: BuildOptions, progress: Progress | None = None, with_gsn: bool = True) -> Analysis:
    """Every analysis of the model, computed once. Raises BuildError when the model has errors."""
    progress = progress or QuietProgress()
    opts = with_default_results(_absolute(opts))
    root = model_root(opts)
    with _working_directory(root):
        return _analyse(opts, root, progress, with_gsn)


def _analyse(opts: BuildOptions, root: Path, progress: Progress, with_gsn: bool) -> Analysis:
    from safetyops_dsl import diagnostics as dg
    from safetyops_dsl.api import check

    with progress.phase("check"):
        checked = check(opts.paths, root=opts.root, cache_dir=opts.cache_dir)
    errors = [d for d in checked.diagnostics if d.level is dg.Severity.ERROR and d.code not in SUPERSEDED]
    if errors or checked.model is None:
        raise BuildError(errors, checked.sources, checked.file_count)
    model = checked.model

    from safetyops_dsl.analysis.synthesis import synthesise_all
    from safetyops_dsl.analysis.targets import check_goal_targets
    from safetyops_dsl.fta.engine import analyse as analyse_tree
    from safetyops_dsl.fta.result import AnalysisOptions

    with progress.phase("fault trees"):
        syntheses = synthesise_all(model)
        trees = []
        for syn in progress.items("fault trees", syntheses):
            try:
                trees.append((syn.tree, analyse_tree(syn.tree, AnalysisOptions(importance=True))))
            except dg.DiagnosticError as exc:
                raise BuildError(list(exc.diagnostics), checked.sources, checked.file_count) from exc
        probabilities = {
            t.name: (r.exact_probability if r.exact_probability is not None else r.probability, t.mission_time or 1.0)
            for t, r in trees
        }
        goal_checks = check_goal_targets(model, probabilities)

    from safetyops_dsl.analysis.fmea import build_fmea
    from safetyops_dsl.analysis.fmeda import build_fmeda
    from safetyops_dsl.analysis.hara import build_hara

    with progress.phase("FMEA, FMEDA, HARA"):
        fmea = build_fmea(model, syntheses)
        fmeda = build_fmeda(model, syntheses)
        hara = build_hara(model)

    from safetyops_dsl.analysis.coverage import evaluate
    from safetyops_dsl.analysis.evidence import read_results
    from safetyops_dsl.analysis.trace import build_trace
    from safetyops_dsl.validation.policy import resolve_policy

    diags: list[Diagnostic] = []
    with progress.phase("trace and coverage"):
        file_rules = []
        policy_ok = True
        if opts.policy is not None:
            from safetyops_dsl.validation.rules import check_policy

            pol = check([opts.policy], validate=False)
            if pol.model is None or dg.has_errors(pol.diagnostics):
                policy_ok = False
                diags += pol.diagnostics
            else:
                file_rules = list(pol.model.policy)
                more = list(check_policy(pol.model))
                policy_ok = not dg.has_errors(more)
                diags += more
        ci = read_results(opts.results) if opts.results else None
        results_ok = ci is None or not dg.has_errors(ci.diagnostics)
        if ci is not None:
            diags += ci.diagnostics
        tg = build_trace(model, ci, use_git=opts.use_git)
        policy = resolve_policy(model.policy, file_rules)
        if dg.has_errors(list(policy.diagnostics)):
            policy_ok = False
        cov = evaluate(tg, policy)
        diags += tg.diagnostics + cov.diagnostics

    inputs: list[Path] = [Path(s).resolve() for s in checked.sources]
    pins_commit = False
    for ev in model.evidence.values():
        if ev.artifact:
            inputs.append((root / ev.artifact).resolve())
        pins_commit = pins_commit or ev.commit is not None

    analysis = Analysis(opts, checked, model, root, syntheses, trees, goal_checks, fmea, fmeda, hara, tg, cov,
                        results_ok, policy_ok, diags, input_files=sorted(set(inputs)), pins_commit=pins_commit)
    if with_gsn:
        with progress.phase("GSN safety case"):
            _gsn(analysis, probabilities)
    analysis.diagnostics = dg.sort_unique(analysis.diagnostics)
    return analysis


def _gsn(a: Analysis, probabilities: dict[str, tuple[float, float]]) -> None:
    if not gsn_available():
        a.gsn_error = "the GSN module (sops gsn) is not installed in this version"
        return
    from safetyops_dsl.analysis import gsn

    statuses = details = None
    if a.opts.results:
        statuses, details, _ = gsn.evidence_statuses(a.model, a.opts.results, use_git=a.opts.use_git)
    a.case = gsn.build_case(a.model, statuses, probabilities, details=details)
    a.diagnostics += list(a.case.diagnostics)


# -- the gate ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateItem:
    check: str  # model check | CI results | coverage policy | FMEDA | goal target | GSN
    subject: str
    status: str  # pass | fail | skip
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "subject": self.subject, "status": self.status, "detail": self.detail}


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.2f} %"


def _fit(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 1e9:.4g} FIT"


def gate_items(a: Analysis) -> list[GateItem]:
    """The release checks, in a fixed order. A failing item fails the gate; `skip` does not."""
    from safetyops_dsl import diagnostics as dg
    from safetyops_dsl.analysis.fmeda import Status

    items: list[GateItem] = []
    errors, warnings = dg.count(a.checked.diagnostics)
    items.append(GateItem("model check", f"{a.checked.file_count} file{'s' if a.checked.file_count != 1 else ''}", PASS,
                          f"{errors} errors, {warnings} warnings"))
    if a.opts.results:
        bad = [d for d in a.diagnostics if d.level is dg.Severity.ERROR and d.code in ("SOPS110", "SOPS202")]
        items.append(GateItem("CI results", f"{len(a.trace.evidence)} evidence", PASS if a.results_ok else FAIL,
                              "readable" if a.results_ok else f"{len(bad)} unreadable or invalid result file(s)"))
    if not a.policy_ok:
        items.append(GateItem("coverage policy", "policy", FAIL, "the policy is invalid (see diagnostics)"))
    for r in a.coverage.rules:
        if not r.required:
            status, detail = SKIP, f"waived: {r.reason}"
        elif not r.evaluated:
            status, detail = PASS if r.ok else FAIL, f"{r.satisfied}/{r.total}" + (f" ({r.note})" if r.note else "")
        else:
            status, detail = PASS if r.ok else FAIL, f"{r.satisfied}/{r.total}"
        items.append(GateItem("coverage policy", r.rule, status, detail))
    for g in a.fmeda.goals:
        if all(m.status is Status.NA for m in g.metrics):
            items.append(GateItem("FMEDA", g.goal, SKIP, f"ASIL {g.asil or '-'}: no hardware targets"))
            continue
        parts = []
        for m in g.metrics:
            shown = _fit(m.value) if m.name == "PMHF" else _pct(m.value)
            target = _fit(m.target) if m.name == "PMHF" else _pct(m.target)
            mark = "" if m.status is not Status.FAIL else " FAIL"
            parts.append(f"{m.name} {shown} ({m.comparison} {target}){mark}")
        items.append(GateItem("FMEDA", g.goal, PASS if g.passed else FAIL, f"ASIL {g.asil}: " + "; ".join(parts)))
    for c in a.goal_checks:
        if c.missing:
            detail = "no fault tree for " + ", ".join(c.missing)
        else:
            detail = f"{c.achieved_per_hour:.3g} /h vs target {c.target_per_hour:.3g} /h"
        items.append(GateItem("goal target", c.goal, PASS if c.passed else FAIL, detail))
    if a.case is None:
        items.append(GateItem("GSN", "top goal", SKIP, a.gsn_error or "not built"))
    else:
        from safetyops_dsl.analysis import gsn

        why = {d.location: d.message for d in gsn.gate_diagnostics(a.case)} if hasattr(gsn, "gate_diagnostics") else {}
        for t in a.case.tops:
            node = a.case.nodes[t]
            detail = why.get(node.location, f"top goal '{t}' is {node.status}")
            if node.status != gsn.PASSED and not a.opts.results:
                detail += " (no --results given: test and metric evidence is unknown)"
            items.append(GateItem("GSN", t, PASS if node.status == gsn.PASSED else FAIL, detail))
        if not a.case.tops:
            items.append(GateItem("GSN", "top goal", FAIL, "the case has no top goal"))
    return items


def gate_passed(items: Sequence[GateItem]) -> bool:
    return all(i.status != FAIL for i in items)


def gate_json(items: Sequence[GateItem]) -> str:
    doc = {"schema": "sops-gate/1", "passed": gate_passed(items), "checks": [i.as_dict() for i in items]}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def gate_text(items: Sequence[GateItem]) -> str:
    rows = [("check", "subject", "result", "detail")] + [
        (i.check, i.subject, i.status.upper(), i.detail) for i in items
    ]
    widths = [max(len(r[k]) for r in rows) for k in range(3)]
    lines = []
    for j, r in enumerate(rows):
        lines.append("  ".join([r[k].ljust(widths[k]) for k in range(3)] + [r[3]]).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 6)
    failed = sum(1 for i in items if i.status == FAIL)
    lines.append("")
    lines.append("gate: passed" if not failed else f"gate: FAILED ({failed} of {len(items)} checks)")
    return "\n".join(lines) + "\n"


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
    from safetyops_dsl.generators import fta_report, openpsa, site, tables, trace_report
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
        jobs = [(k, f) for k in docs for f in tables.FORMATS]
        for kind, fmt in progress.items("tables", jobs):
            put(f"exports/{kind}.{fmt}", tables.render(docs[kind], fmt))

    with progress.phase("trace report"):
        for fmt in progress.items("trace report", list(trace_report.FORMATS) if hasattr(trace_report, "FORMATS")
                                  else ["md", "csv", "html", "json", "dot", "svg"]):
            put(f"exports/trace.{fmt}", trace_report.render(a.trace, a.coverage, fmt, title=a.model.root.name))

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


def _generate(opts: BuildOptions, out: Path, progress: Progress) -> tuple[dict[str, bytes], Analysis]:
    a = analyse(opts, progress)
    files = render_artifacts(a, out, progress)
    record = fingerprint(opts, out, a.input_files, a.root if a.pins_commit else None)
    files[MANIFEST] = manifest_text(files, record, a.case is not None).encode("utf-8")
    return files, a


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


def build(opts: BuildOptions, out: str | os.PathLike[str], *, force: bool = False,
          progress: Progress | None = None) -> BuildReport:
    """Build every artifact into `out` (created or replaced as a whole). Raises BuildError on model
    errors and FileExistsError when `out` is something else than an earlier build; `out` is then untouched."""
    started = time.perf_counter()
    progress = progress or QuietProgress()
    target = Path(out).resolve()
    opts = with_default_results(_absolute(opts))
    _check_target(target)
    if not force and up_to_date(opts, target):
        manifest = read_manifest(target) or {}
        return BuildReport(True, len(manifest.get("files", {})) + 1, time.perf_counter() - started, None,
                           bool(manifest.get("gsn")))
    files, a = _generate(opts, target, progress)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))
    try:
        with progress.phase("write"):
            _write_tree(tmp, files)
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BuildReport(False, len(files), time.perf_counter() - started, gate_passed(gate_items(a)),
                       a.case is not None, tuple(a.diagnostics))


def _swap(new: Path, target: Path) -> None:
    """Put `new` in place of `target`. The old folder is moved aside first and removed last, so at every
    moment either the old or the new complete folder exists under one of the two names."""
    if not target.exists():
        os.replace(new, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rmdir(old)
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
    present = _tree_files(target) if target.is_dir() else {}
    differ = [p for p in files if p in present and not _same(p, present[p].read_bytes(), files[p])]
    missing = [p for p in files if p not in present]
    extra = [p for p in present if p not in files]
    return CheckReport(tuple(sorted(differ)), tuple(sorted(missing)), tuple(sorted(extra)))
