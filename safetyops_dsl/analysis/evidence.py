"""Evidence from CI: JUnit XML test results, ML metric results (JSON), and staleness of pinned artifacts.

- JUnit XML (pytest, gtest, any xUnit): every `<testcase>` becomes a TestResult (passed, failed, skipped).
  Test evidence names its test by its source string; pytest node ids (`tests/test_brake.py::test_x`),
  gtest ids (`Suite.Test`) and `classname.name` all match after normalisation (`/`, `::` -> `.`, `.py`
  dropped). A parametrised case `test_x[a]` also answers for `test_x`. XML is read with defusedxml: entity
  tricks and malformed files become SOPS202 diagnostics, never exceptions.
- Metrics JSON: metric evidence reads its source as a dotted key path (`recall.night_pedestrian` finds
  `{"recall": {"night_pedestrian": 0.991}}` or a literal key `"recall.night_pedestrian"`). The value must be
  a finite number (SOPS110 otherwise) and is compared with the thresholds the model declares.
- Staleness: `artifact "PATH" sha256 "..."` is stale when the file (relative to the model root) no longer
  has that digest; `commit "ID"` is stale when the commit is unknown to git, or when the artifact changed
  since that commit (`git diff --quiet ID -- PATH`).

Nothing here raises on bad input: problems come back as diagnostics.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model

MAX_RESULT_BYTES = 64 * 1024 * 1024  # a metrics JSON file is held in memory whole
# A JUnit file is streamed: memory holds the kept test cases, not the file. The bound keeps the run's time in
# reason (about 3 s per million test cases) and says so instead of running for minutes.
MAX_JUNIT_BYTES = 1024 * 1024 * 1024
MAX_MESSAGE_SCAN = 1024 * 1024  # characters of a failure's text kept to find its first line
RESULT_SUFFIXES = (".xml", ".json")
CAMPAIGN_RESULT_NAMES = ("injection.xml", "injection.json")  # read by analysis/injection_results.py

# Evidence status values. `recorded`: document evidence (analysis, review, inspection) that CI does not run;
# it counts as passing unless stale. `not_run`: test or metric evidence when no results were supplied.
PASSED, FAILED, SKIPPED, MISSING, RECORDED, NOT_RUN = "passed", "failed", "skipped", "missing", "recorded", "not_run"
PASSING = (PASSED, RECORDED)


@dataclass(frozen=True)
class TestResult:
    key: str  # normalised id: tests.test_brake.test_watchdog_reset
    display: str  # as in the file: classname::name
    status: str  # passed | failed | skipped
    message: str
    file: str  # the result file, as displayed


@dataclass(frozen=True)
class MetricDocument:
    file: str
    data: Any
    # what the metrics were measured on, where a pipeline recorded it (DVC: the deps of the dvc.lock stage
    # that wrote the file): (path relative to the model root, md5)
    measured_on: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MlRun:
    """What a model registry (MLflow) says about one ML component's model version: the run that produced it,
    the latest value of each metric logged there, and the datasets logged to it as inputs."""

    component: str  # the ML component's qualified name
    model: str  # registered model name
    version: str  # the registered version number V resolved to
    run_id: str
    run_url: str  # the run's page when the tracking store is a server, else ""
    metrics: tuple[tuple[str, float], ...]  # (key, latest value), sorted by key
    datasets: tuple[tuple[str, str], ...]  # (name, digest) of the run's input datasets, sorted

    def metric(self, key: str) -> float | None:
        logged = dict(self.metrics)
        return logged.get(key, logged.get(mlflow_metric_name(key)))


def mlflow_metric_name(key: str) -> str:
    """The name a metric result key is logged under in MLflow, whose metric names allow only letters, digits,
    `_ - . : /` and spaces: a slice `recall[light=night,road_type=urban]` (docs/language/odd.md) is logged as
    `recall/light:night/road_type:urban`; any other key as it is."""
    base, bracket, rest = key.partition("[")
    if not bracket:
        return key
    return base + "".join("/" + c.strip().replace("=", ":") for c in rest.rstrip("]").split(","))


@dataclass(frozen=True)
class OpsResults:
    """Results from the ML pipeline (read by the caller: safetyops_dsl/ops), handed to the pipeline in its
    Options so that trace, gate, build and diff see the same values."""

    source: str  # the tracking URI or DVC file as given
    runs: tuple[MlRun, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    metrics: tuple[MetricDocument, ...] = ()  # DVC metrics files named in dvc.yaml, with what they measured on


def merge_ops(parts: Iterable[OpsResults | None]) -> OpsResults | None:
    given = [p for p in parts if p is not None]
    if not given:
        return None
    return OpsResults(", ".join(p.source for p in given), tuple(r for p in given for r in p.runs),
                      tuple(d for p in given for d in p.diagnostics), tuple(m for p in given for m in p.metrics))


@dataclass
class Results:
    tests: list[TestResult] = field(default_factory=list)
    metrics: list[MetricDocument] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # real path -> sha256 of the bytes read
    runs: list[MlRun] = field(default_factory=list)  # MLflow: one per ML component with a registered model
    tests_given: bool = True  # False: only a model registry was asked; test evidence is not_run, not missing


def with_ops(results: Results | None, ops: OpsResults | None) -> Results | None:
    """CI results plus what a model registry answered (either may be absent)."""
    if ops is None:
        return results
    out = results if results is not None else Results(tests_given=False)
    out.runs = list(ops.runs)
    out.metrics = out.metrics + list(ops.metrics)
    out.diagnostics = out.diagnostics + list(ops.diagnostics)
    return out


@dataclass(frozen=True)
class EvidenceStatus:
    evidence: str  # qualified name
    kind: str
    status: str
    detail: str  # why: the failure message, the measured value, "no result in ..."
    stale: bool
    stale_reason: str
    result_file: str = ""
    value: float | None = None  # metric evidence: the measured value
    run_id: str = ""  # metric evidence read from an MLflow run
    run_url: str = ""  # that run's page, when the tracking store is a server

    @property
    def passing(self) -> bool:
        return self.status in PASSING and not self.stale


# -- reading result files -------------------------------------------------------------------------------------


def _display(path: Path) -> str:
    try:
        return Path(os.path.relpath(path, Path.cwd())).as_posix()
    except ValueError:
        return path.as_posix()


def collect_result_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[Diagnostic]]:
    """Files given directly, and every *.xml / *.json below folders given (sorted, so reading is deterministic)."""
    found: list[Path] = []
    diags: list[Diagnostic] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            # fault-injection results in a result folder are the campaign's (analysis/injection_results.py)
            found.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in RESULT_SUFFIXES
                                and not (f.parent == p and f.name in CAMPAIGN_RESULT_NAMES)))
        elif p.is_file():
            found.append(p)
        else:
            diags.append(dg.make(dg.RESULTS_ERROR, "no such result file or folder", Location(_display(p))))
    unique = sorted(set(found), key=lambda f: _display(f))
    return unique, diags


def test_sources(model: Model) -> list[str]:
    """What the model's test evidence names: the `wanted` of read_results."""
    return sorted({ev.source for ev in model.evidence.values() if ev.kind == "test"})


def read_results(paths: Iterable[str | os.PathLike[str]], wanted: Iterable[str] | None = None) -> Results:
    """Read every result file once, hashing the bytes as they are read (`Results.digests`).

    `wanted`: the sources of the model's test evidence. When given, only the test cases that could answer for
    one of them are kept (a superset of what `match_tests` finds); a JUnit file of a million cases then costs
    the memory of the few the evidence names, not of the million."""
    files, diags = collect_result_files(paths)
    results = Results(diagnostics=diags)
    keep = _wanted_filter(wanted) if wanted is not None else None
    for f in files:
        shown = _display(f)
        results.files.append(shown)
        is_json = f.suffix.lower() == ".json"
        limit = MAX_RESULT_BYTES if is_json else MAX_JUNIT_BYTES
        h = hashlib.sha256()
        try:
            with f.open("rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > limit:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
                    results.digests[str(f.resolve())] = h.hexdigest()
                    results.diagnostics.append(dg.make(
                        dg.RESULTS_ERROR, f"result file is larger than {_mib(limit)}", Location(shown),
                        "split the results into several files" if not is_json else ""))
                    continue
                if is_json:
                    raw = fh.read(limit + 1)
                    h.update(raw)
                    doc, d = parse_metrics_json(raw, shown)
                else:
                    junit = _JUnitReader(shown, keep)
                    for chunk in iter(lambda: fh.read(_CHUNK), b""):
                        h.update(chunk)
                        junit.feed(chunk)
                    tests, more = junit.result()
        except OSError as exc:
            results.diagnostics.append(dg.make(dg.RESULTS_ERROR, exc.strerror or str(exc), Location(shown)))
            continue
        results.digests[str(f.resolve())] = h.hexdigest()
        if is_json:
            if d is not None:
                results.diagnostics.append(d)
            else:
                results.metrics.append(MetricDocument(shown, doc))
        else:
            results.tests.extend(tests)
            results.diagnostics.extend(more)
    return results


def _mib(n: int) -> str:
    return f"{n // 2**30} GiB" if n % 2**30 == 0 else f"{n // 2**20} MiB"


def parse_junit(raw: bytes, shown: str, wanted: Iterable[str] | None = None) -> tuple[list[TestResult], list[Diagnostic]]:
    """JUnit XML as pytest, gtest, Maven Surefire and most xUnit runners write it."""
    reader = _JUnitReader(shown, _wanted_filter(wanted) if wanted is not None else None)
    for at in range(0, len(raw), _CHUNK):
        reader.feed(raw[at: at + _CHUNK])
    return reader.result()


_CHUNK = 1 << 16
_JUNIT_ROOTS = ("testsuites", "testsuite", "testcase")
_INTERESTING = frozenset(("testcase", "failure", "error", "skipped"))


class _NotJUnit(Exception):
    pass


@dataclass
class _Case:
    depth: int
    order: int
    name: str
    classname: str
    gtest_skip: bool
    status: str = PASSED
    message: str = ""
    decided: bool = False  # a <failure>/<error> was seen: later children change nothing


class _JUnitReader:
    """A streaming JUnit reader: defusedxml's parser (no DTD, no entities) drives a small state machine, and
    only the kept test cases are held, never the document. One element's text (a failure's stack trace) is
    held up to MAX_MESSAGE_SCAN characters, enough for the first line the report shows."""

    def __init__(self, shown: str, keep: Callable[[str], bool] | None):
        from defusedxml.ElementTree import DefusedXMLParser

        self.shown = shown
        self.keep = keep
        self.out: list[tuple[int, TestResult]] = []
        self.diagnostics: list[Diagnostic] = []
        self.depth = 0
        self.started = 0
        self.cases: list[_Case] = []
        self.child: tuple[str, dict[str, str]] | None = None  # the <failure>/<error>/<skipped> being read
        self.child_depth = 0
        self.text: list[str] = []  # its text up to its first sub-element
        self.text_size = 0
        self.collecting = False
        self.failed = False
        self.parser = DefusedXMLParser(target=self, forbid_dtd=True)
        # defusedxml guards the DTD and entity handlers of the expat parser it wraps (`.parser`, which it uses
        # itself). The element and text handlers are taken from ElementTree's Python layer and given to the
        # state machine directly: half the time per test case, and the guards stay as they are.
        expat = self.parser.parser
        expat.StartElementHandler = self.start
        expat.EndElementHandler = self.end
        expat.CharacterDataHandler = self.data

    # -- expat's handlers (ordered_attributes: a flat [name, value, ...] list) ----------------------------------

    def start(self, tag: str, attributes: list[str]) -> None:
        self.depth += 1
        local = tag.rpartition("}")[2]
        if self.depth == 1 and local not in _JUNIT_ROOTS:
            raise _NotJUnit(local)
        self.collecting = False  # a sub-element ends the text that counts as the element's own
        if local not in _INTERESTING:
            return
        attrib = dict(zip(attributes[::2], attributes[1::2], strict=False))
        if local == "testcase":
            self.started += 1
            self.cases.append(_Case(self.depth, self.started, (attrib.get("name") or "").strip(),
                                    (attrib.get("classname") or "").strip(),
                                    attrib.get("status") == "notrun" or attrib.get("result") in ("skipped", "suppressed")))
            return
        case = self.cases[-1] if self.cases else None
        if case is None or self.depth != case.depth + 1 or case.decided:
            return
        if local in ("failure", "error") or (local == "skipped" and case.status == PASSED):
            self.child, self.child_depth = (local, dict(attrib)), self.depth
            self.text, self.text_size, self.collecting = [], 0, True

    def data(self, text: str) -> None:
        if self.collecting and self.text_size < MAX_MESSAGE_SCAN:
            self.text.append(text)
            self.text_size += len(text)

    def end(self, _tag: str) -> None:
        if self.child is not None and self.depth == self.child_depth:
            self._child_done()
        if self.cases and self.cases[-1].depth == self.depth:
            self._case_done(self.cases.pop())
        self.depth -= 1
        self.collecting = False

    def result(self) -> tuple[list[TestResult], list[Diagnostic]]:
        """After the last chunk. (Not `close`: the parser calls its target's `close`.)"""
        if not self.failed:
            self._guard(self.parser.close)
        if self.diagnostics:
            return [], self.diagnostics
        self.out.sort(key=lambda item: item[0])  # document order of the <testcase> tags, as before streaming
        return [t for _, t in self.out], []

    # -- feeding -----------------------------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        if not self.failed:
            self._guard(lambda: self.parser.feed(chunk))

    def _guard(self, step: Callable[[], object]) -> None:
        import xml.etree.ElementTree as ET

        from defusedxml import DefusedXmlException

        shown = self.shown
        try:
            step()
            return
        except _NotJUnit as exc:
            d = dg.make(dg.RESULTS_ERROR,
                        f"not a JUnit XML file: the root element is <{exc}>, not <testsuites> or <testsuite>",
                        Location(shown))
        except ET.ParseError as exc:
            line, col = getattr(exc, "position", (0, 0))
            reason = str(exc).split(":")[0]
            d = dg.make(dg.RESULTS_ERROR, f"malformed JUnit XML: {reason}", Location(shown, line, col + 1))
        except DefusedXmlException as exc:
            d = dg.make(dg.RESULTS_ERROR,
                        f"JUnit XML refused: {type(exc).__name__} (DTDs and entities are not allowed in result files)",
                        Location(shown))
        except (ValueError, LookupError) as exc:  # e.g. an encoding declaration the parser does not know
            d = dg.make(dg.RESULTS_ERROR, f"malformed JUnit XML: {exc}", Location(shown))
        self.failed = True
        self.diagnostics.append(d)

    # -- results ---------------------------------------------------------------------------------------------

    def _child_done(self) -> None:
        assert self.child is not None
        tag, attrib = self.child
        text = "".join(self.text)
        self.child, self.text = None, []
        case = self.cases[-1]
        if tag in ("failure", "error"):
            case.status, case.decided = FAILED, True
            case.message = _first_line(attrib.get("message") or text or attrib.get("type") or tag)
        elif case.status == PASSED:
            case.status = SKIPPED
            case.message = _first_line(attrib.get("message") or text or "skipped")

    def _case_done(self, case: _Case) -> None:
        if not case.name:
            return
        status, message = case.status, case.message
        if status == PASSED and case.gtest_skip:
            status, message = SKIPPED, "not run"  # gtest: DISABLED_ tests and GTEST_SKIP
        key = normalise_test_id(f"{case.classname}.{case.name}" if case.classname else case.name)
        if self.keep is not None and not self.keep(key):
            return
        display = f"{case.classname}::{case.name}" if case.classname else case.name
        self.out.append((case.order, TestResult(key, display, status, message, self.shown)))


def _dotted_tails(s: str) -> Iterator[str]:
    """`a.b.c` -> `b.c`, `c`."""
    i = s.find(".")
    while i >= 0:
        yield s[i + 1:]
        i = s.find(".", i + 1)


def _wanted_filter(sources: Iterable[str]) -> Callable[[str], bool]:
    """A test of normalised test ids: True for every id `match_tests` could pair with one of `sources`
    (exact, a parametrisation, or either id a dotted suffix of the other), and for few others."""
    keys = {normalise_test_id(s) for s in sources}
    bare = {_PARAMS.sub("", k) for k in keys}
    inner = {tail for k in keys for tail in _dotted_tails(k)}
    lasts = {k.rpartition(".")[2] for k in keys}

    def keep(key: str) -> bool:
        base = _PARAMS.sub("", key) if "[" in key else key
        if key in keys or base in bare or key in inner or base in inner:
            return True
        # `key` ends with `.K` only if both end with the same segment: most ids stop at this set lookup.
        return any(s.rpartition(".")[2] in lasts and any(tail in keys for tail in _dotted_tails(s))
                   for s in {key, base})

    return keep


def _local(tag: Any) -> str:
    return str(tag).rpartition("}")[2] if isinstance(tag, str) else ""


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 160 else line[:157] + "..."


def parse_metrics_json(raw: bytes, shown: str) -> tuple[Any, Diagnostic | None]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, dg.make(dg.RESULTS_ERROR, "metrics file is not valid UTF-8", Location(shown))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, dg.make(dg.RESULTS_ERROR, f"malformed JSON: {exc.msg}", Location(shown, exc.lineno, exc.colno))
    except RecursionError:
        return None, dg.make(dg.RESULTS_ERROR, "JSON nested too deeply", Location(shown))
    except ValueError as exc:  # not a JSONDecodeError: an integer beyond sys.get_int_max_str_digits()
        return None, dg.make(dg.RESULTS_ERROR, f"unreadable JSON number: {str(exc).partition(';')[0]}", Location(shown))
    if not isinstance(data, dict):
        return None, dg.make(
            dg.RESULTS_ERROR,
            f"a metrics file holds a JSON object of metric values, not a {type(data).__name__}",
            Location(shown),
        )
    if _is_dvc_metrics_show(data):
        return _unwrap_dvc_metrics_show(data, shown)
    return data, None


def _is_dvc_metrics_show(data: dict[str, Any]) -> bool:
    """`dvc metrics show --json`: {REV: {"data": {FILE: {"data": {...}}}}} (REV "" or "workspace" for the
    working tree)."""
    return bool(data) and all(
        isinstance(v, dict) and set(v) <= {"data", "error"} and isinstance(v.get("data", {}), dict)
        and all(isinstance(f, dict) and set(f) <= {"data", "error"} for f in v.get("data", {}).values())
        for v in data.values())


def _unwrap_dvc_metrics_show(data: dict[str, Any], shown: str) -> tuple[Any, Diagnostic | None]:
    """The metric values of every file of the one revision shown, under one object (a key names one metric
    across the files, as it does in one file); files DVC could not read are an error here too."""
    if len(data) != 1:
        return None, dg.make(dg.RESULTS_ERROR, f"`dvc metrics show` output with {len(data)} revisions: which one is meant",
                             Location(shown), "run `dvc metrics show --json` for one revision (without --all-commits)")
    (rev, body), = data.items()
    merged: dict[str, Any] = {}
    for name, f in sorted(body.get("data", {}).items()):
        if "error" in f or not isinstance(f.get("data"), dict):
            return None, dg.make(dg.RESULTS_ERROR, f"`dvc metrics show` could not read '{name}'", Location(shown),
                                 "run `dvc metrics show` to see DVC's error")
        merged.update(f["data"])
    if "error" in body:
        return None, dg.make(dg.RESULTS_ERROR, f"`dvc metrics show` reports an error for revision '{rev or 'workspace'}'",
                             Location(shown))
    return merged, None


# -- matching ----------------------------------------------------------------------------------------------------

_PARAMS = re.compile(r"\[.*\]$")
_SPECIAL = ("[", "/", "\\", "::", ".py", "..")


def normalise_test_id(text: str) -> str:
    """`tests/test_brake.py::TestX::test_y` and `tests.test_brake.TestX.test_y` both -> the latter."""
    if not any(c in text for c in _SPECIAL):  # already dotted (a million JUnit cases pass here)
        return text.strip().strip(".")
    params = ""
    m = _PARAMS.search(text)
    if m:
        params, text = m.group(0), text[: m.start()]
    t = text.strip().replace("\\", "/").replace("::", ".")
    if t.startswith("./"):
        t = t[2:]
    t = re.sub(r"\.py(?=\.|$)", "", t)
    t = t.replace("/", ".")
    t = re.sub(r"\.+", ".", t).strip(".")
    return t + params


def match_tests(source: str, tests: Sequence[TestResult]) -> list[TestResult]:
    """The test cases that answer for an evidence source: exact id, parametrisations of it, or (failing
    those) a case whose id ends with the source or is a dotted suffix of it (a different test root)."""
    key = normalise_test_id(source)
    exact = [t for t in tests if t.key == key or (not _PARAMS.search(key) and _PARAMS.sub("", t.key) == key)]
    if exact:
        return exact
    out = []
    for t in tests:
        base = _PARAMS.sub("", t.key) if not _PARAMS.search(key) else t.key
        if base.endswith("." + key) or (base.count(".") >= 1 and key.endswith("." + base)):
            out.append(t)
    return out


def lookup_metric(data: Any, path: str) -> tuple[bool, Any]:
    """Find `path` (dotted) in nested objects; a key may itself contain dots. Returns (found, value)."""
    if not isinstance(data, dict):
        return False, None
    if path in data:
        return True, data[path]
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):  # longest literal prefix first
        head = ".".join(parts[:i])
        if head in data:
            found, value = lookup_metric(data[head], ".".join(parts[i:]))
            if found:
                return True, value
    return False, None


def metric_thresholds(model: Model) -> dict[str, list[tuple[str, el.Metric]]]:
    """metric result key (`recall[light=night]`) -> [(ML component qualified name, metric)], sorted."""
    out: dict[str, list[tuple[str, el.Metric]]] = {}
    for qname, comp in sorted(model.components.items()):
        if comp.ml is None:
            continue
        for m in comp.ml.metrics:
            out.setdefault(m.result_key, []).append((qname, m))
    return out


# -- staleness ---------------------------------------------------------------------------------------------------


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _inside(root: Path, rel: str) -> Path | None:
    if not rel or Path(rel).is_absolute():
        return None
    target = (root / rel).resolve()
    try:
        target.relative_to(root.resolve())
    except ValueError:
        return None
    return target


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def staleness(root: Path, ev: el.Evidence, use_git: bool = True) -> tuple[bool, str]:
    """(stale, reason). Evidence that pins nothing is never stale."""
    if ev.artifact is not None and ev.artifact_sha256 is not None:
        target = _inside(root, ev.artifact)
        if target is None:
            return True, f"artifact '{ev.artifact}' is outside the model root"
        if not target.is_file():
            return True, f"artifact '{ev.artifact}' not found"
        digest = sha256_file(target)
        if digest != ev.artifact_sha256.lower():
            return True, f"artifact '{ev.artifact}' changed: sha256 {digest[:12]}, pinned {ev.artifact_sha256[:12]}"
    if ev.commit is not None and use_git:
        found = _git(root, "rev-parse", "--verify", "--quiet", f"{ev.commit}^{{commit}}")
        if found is None:
            return False, "git is not available: commit not checked"
        if found.returncode != 0:
            inside = _git(root, "rev-parse", "--is-inside-work-tree")
            if inside is None or inside.returncode != 0:
                return False, "not a git repository: commit not checked"
            return True, f"commit {ev.commit} is not in the repository"
        if ev.artifact is not None:
            if _inside(root, ev.artifact) is None:
                return True, f"artifact '{ev.artifact}' is outside the model root"
            changed = _git(root, "diff", "--quiet", ev.commit, "--", ev.artifact)
            if changed is not None and changed.returncode == 1:
                return True, f"artifact '{ev.artifact}' changed since commit {ev.commit}"
    return False, ""


# -- evaluation ----------------------------------------------------------------------------------------------------


def evaluate_evidence(
    model: Model, results: Results | None, use_git: bool = True, check_stale: bool = True
) -> tuple[dict[str, EvidenceStatus], list[Diagnostic]]:
    """The status of every evidence element, and diagnostics for failed, missing, skipped and stale ones."""
    thresholds = metric_thresholds(model)
    out: dict[str, EvidenceStatus] = {}
    diags: list[Diagnostic] = []
    for qname, ev in sorted(model.evidence.items()):
        stale, why = staleness(model.root, ev, use_git) if check_stale else (False, "")
        value: float | None = None
        result_file = run_id = run_url = ""
        if ev.kind == "test":
            status, detail, result_file = _test_status(ev, results)
        elif ev.kind == "metric":
            run = _run_for(ev, results, thresholds)
            if run is not None:
                status, detail, value = _run_metric_status(ev, run, thresholds)
                result_file, run_id, run_url = f"MLflow run {run.run_id}", run.run_id, run.run_url
                if not stale:
                    stale, why = _measured_on_other_data(model, run)
            else:
                status, detail, result_file, value, d = _metric_status(ev, results, thresholds)
                if d is not None:
                    diags.append(d)
                doc = next((m for m in results.metrics if m.file == result_file), None) if results else None
                if doc is not None and doc.measured_on and not stale:
                    stale, why = _file_measured_on_other_data(model, ev, doc, thresholds)
        else:
            status, detail = RECORDED, ""
        out[qname] = EvidenceStatus(qname, ev.kind, status, detail, stale, why, result_file, value, run_id, run_url)
        if stale:
            diags.append(dg.make(dg.EVIDENCE_STALE, f"evidence '{ev.name}' is stale: {why}", ev.location,
                                 "rerun or re-review it against the current artifact, then update the pin"))
        if status == FAILED:
            diags.append(dg.make(dg.EVIDENCE_FAILED, f"evidence '{ev.name}' failed: {detail}", ev.location))
        elif status == MISSING:
            diags.append(dg.make(dg.EVIDENCE_MISSING, f"evidence '{ev.name}' has no result: {detail}", ev.location,
                                 "check the evidence source against the test id or metric key CI writes"))
        elif status == SKIPPED:
            diags.append(dg.make(dg.EVIDENCE_SKIPPED, f"evidence '{ev.name}' was skipped: {detail}", ev.location))
    return out, diags


def _run_for(ev: el.Evidence, results: Results | None, thresholds: dict[str, list[tuple[str, el.Metric]]]) -> MlRun | None:
    """The MLflow run of the first ML component (by qualified name) that declares the metric the evidence
    measures, when the registry was asked; None: the metric is looked up in the metrics files."""
    if results is None or not results.runs:
        return None
    runs = {r.component: r for r in results.runs}
    for comp, _ in thresholds.get(ev.source, []):
        if comp in runs:
            return runs[comp]
    return None


def _run_metric_status(
    ev: el.Evidence, run: MlRun, thresholds: dict[str, list[tuple[str, el.Metric]]]
) -> tuple[str, str, float | None]:
    where = f"MLflow run {run.run_id}, {run.model} version {run.version}"
    value = run.metric(ev.source)
    if value is None:
        return MISSING, f"no metric '{ev.source}' in {where}", None
    bounds = [(c, m) for c, m in thresholds.get(ev.source, []) if c == run.component]
    missed = [(c, m) for c, m in bounds if not m.holds(value)]
    if missed:
        _, m = missed[0]
        return FAILED, f"{ev.source} = {value:g}, needs {m.op} {m.threshold:g}; {where}", value
    need = ", ".join(f"{m.op} {m.threshold:g}" for _, m in bounds) or "no threshold"
    return PASSED, f"{ev.source} = {value:g} ({need}); {where}", value


def digests_match(pinned: str, logged: str) -> bool:
    """A dataset digest the model pins against one a run logged. MLflow's own digests are short prefixes
    (8-10 hex digits of a hash), so a logged digest that starts the pinned one matches too."""
    a, b = pinned.strip().lower(), logged.strip().lower()
    return bool(b) and (a == b or (len(b) >= 8 and a.startswith(b)))


def _measured_on_other_data(model: Model, run: MlRun) -> tuple[bool, str]:
    """(stale, why): the run's input datasets against the component's `dataset` declarations, by name and
    digest. A run that logged no inputs says nothing either way."""
    comp = model.components.get(run.component)
    if comp is None or comp.ml is None or not run.datasets:
        return False, ""
    logged: dict[str, list[str]] = {}
    for name, logged_digest in run.datasets:
        logged.setdefault(name, []).append(logged_digest)
    declared = {d.identity for d in comp.ml.datasets}
    for d in comp.ml.datasets:
        if d.identity not in logged:
            return True, f"dataset '{d.identity}' is not among the inputs of MLflow run {run.run_id}"
        digest = d.digest
        if digest is not None and not any(digests_match(digest, got) for got in logged[d.identity]):
            kind = "DVC md5" if d.md5 and not d.sha256 else "sha256"
            got = ", ".join(sorted(set(logged[d.identity])))
            return True, (f"dataset '{d.identity}' changed: MLflow run {run.run_id} was measured on digest {got}, "
                          f"the model pins {kind} {digest}")
    extra = sorted(set(logged) - declared)
    if extra:
        return True, f"MLflow run {run.run_id} was measured on dataset '{extra[0]}', which the model does not declare"
    return False, ""


def _file_measured_on_other_data(model: Model, ev: el.Evidence, doc: MetricDocument,
                                 thresholds: dict[str, list[tuple[str, el.Metric]]]) -> tuple[bool, str]:
    """(stale, why): a metrics file whose pipeline stage recorded its inputs (DVC: the deps in dvc.lock)
    against the DVC pins of the components that declare the metric. A dataset the stage did not read is no
    reason: an evaluation stage reads the verification data, not the training data."""
    read = dict(doc.measured_on)
    for comp_name, _ in thresholds.get(ev.source, []):
        comp = model.components.get(comp_name)
        for d in comp.ml.datasets if comp is not None and comp.ml is not None else ():
            if d.dvc_data is None or d.md5 is None or d.dvc_data not in read:
                continue
            if read[d.dvc_data] != d.md5:
                return True, (f"dataset '{d.identity}' changed: {doc.file} was measured on {d.dvc_data} md5 "
                              f"{read[d.dvc_data]}, DVC now records {d.md5}")
    return False, ""


def _test_status(ev: el.Evidence, results: Results | None) -> tuple[str, str, str]:
    if results is None or not results.tests_given:
        return NOT_RUN, "", ""
    cases = match_tests(ev.source, results.tests)
    if not cases:
        return MISSING, f"no test '{ev.source}' in the JUnit results", ""
    files = sorted({c.file for c in cases})
    failed = [c for c in cases if c.status == FAILED]
    if failed:
        first = failed[0]
        more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
        return FAILED, f"{first.display}: {first.message}{more}", first.file
    if any(c.status == PASSED for c in cases):
        n = sum(1 for c in cases if c.status == PASSED)
        return PASSED, f"{n} test case{'s' if n != 1 else ''} passed", files[0]
    return SKIPPED, f"{cases[0].display}: {cases[0].message}", cases[0].file


def _metric_status(
    ev: el.Evidence, results: Results | None, thresholds: dict[str, list[tuple[str, el.Metric]]]
) -> tuple[str, str, str, float | None, Diagnostic | None]:
    if results is None:
        return NOT_RUN, "", "", None, None
    for doc in results.metrics:
        found, raw = lookup_metric(doc.data, ev.source)
        if not found:
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(float(raw)):
            shown = json.dumps(raw)[:40] if _jsonable(raw) else type(raw).__name__
            d = dg.make(
                dg.METRIC_RESULT_TYPE,
                f"metric '{ev.source}' in {doc.file} is {shown}, not a finite number (evidence '{ev.name}')",
                Location(doc.file),
                "write the measured value as a JSON number",
            )
            return MISSING, f"'{ev.source}' in {doc.file} is not a number", doc.file, None, d
        value = float(raw)
        bounds = thresholds.get(ev.source, [])
        missed = [(c, m) for c, m in bounds if not m.holds(value)]
        if missed:
            comp, m = missed[0]
            return FAILED, f"{ev.source} = {value:g}, needs {m.op} {m.threshold:g} ({comp.rpartition('.')[2]})", \
                doc.file, value, None
        need = ", ".join(f"{m.op} {m.threshold:g}" for _, m in bounds) or "no threshold"
        return PASSED, f"{ev.source} = {value:g} ({need})", doc.file, value, None
    where = "the metrics files" if results.metrics else "any metrics file (none supplied)"
    return MISSING, f"no metric '{ev.source}' in {where}", "", None, None


def _jsonable(x: Any) -> bool:
    try:
        json.dumps(x)
    except (TypeError, ValueError):
        return False
    return True
