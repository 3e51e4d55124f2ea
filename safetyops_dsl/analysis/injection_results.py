"""Reading fault-injection results: JUnit XML (one testcase per case) or JSON (sops-injection-results/1).

JUnit: the case id is the testcase's `case_id` property, else the part in brackets of a parametrised name
(`test_injection[AEB.ecu.CanTxLoss/Watchdog]`), else the name. Properties `injected` and `detected` (counts)
and `detection_time_ms` (the slowest detection; given once per injection, the largest counts) carry the
measurement. Without counts a passed testcase is one injection detected, a failed one one injection missed;
a skipped testcase was not run (it counts as no result).

JSON:
    {"schema": "sops-injection-results/1.0.0",
     "results": [{"id": "AEB.ecu.CanTxLoss/Watchdog", "injected": 299, "detected": 299,
                  "detection_time_ms": 41.0}]}
(`"skipped": true` marks a case not run.)

Problems are diagnostics at the result file's line: malformed files and fields (SOPS230), ids the campaign
does not have (SOPS231), an id reported twice (SOPS232). A file with an error contributes no result.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from safetyops_dsl import diagnostics as dg
from safetyops_dsl import schemas
from safetyops_dsl.analysis.evidence import CAMPAIGN_RESULT_NAMES as RESULT_NAMES
from safetyops_dsl.analysis.injection import Campaign, CaseResult
from safetyops_dsl.diagnostics import Diagnostic, Location

RESULTS_SCHEMA = schemas.tag("sops-injection-results")
# a results file of any 1.x version is read: minor versions only add optional fields
_RESULTS_MAJOR = re.compile(r"sops-injection-results/1\.[0-9]+\.[0-9]+")
MAX_BYTES = 64 * 1024 * 1024
_PARAM = re.compile(r"^[^\[]*\[(.+)\]$")


def display(path: Path) -> str:
    try:
        return Path(os.path.relpath(path, Path.cwd())).as_posix()
    except ValueError:
        return path.as_posix()


def default_campaign_results(result_paths: Iterable[str]) -> tuple[str, ...]:
    """The `injection.xml` / `injection.json` directly inside the given result folders."""
    out = []
    for raw in result_paths:
        p = Path(raw)
        if p.is_dir():
            out += [str(p / n) for n in RESULT_NAMES if (p / n).is_file()]
    return tuple(out)


@dataclass
class _Testcase:
    name: str
    line: int
    col: int
    status: str = "passed"
    props: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)


class _JUnitCases:
    """JUnit testcases with their properties and positions (defusedxml's parser: no DTD, no entities)."""

    def __init__(self) -> None:
        self.parser = DefusedXMLParser(target=self, forbid_dtd=True)
        self.expat = self.parser.parser
        self.expat.StartElementHandler = self.start
        self.expat.EndElementHandler = self.end
        self.depth = 0
        self.root = ""
        self.cases: list[_Testcase] = []
        self.open: list[tuple[int, _Testcase]] = []

    def start(self, tag: str, attributes: list[str]) -> None:
        self.depth += 1
        local = tag.rpartition("}")[2]
        attrib = dict(zip(attributes[::2], attributes[1::2], strict=False))
        line, col = self.expat.CurrentLineNumber, self.expat.CurrentColumnNumber + 1
        if self.depth == 1:
            self.root = local
        if local == "testcase":
            case = _Testcase(attrib.get("name", "").strip(), line, col)
            self.cases.append(case)
            self.open.append((self.depth, case))
            return
        if not self.open:
            return
        case = self.open[-1][1]
        if local == "property":
            case.props.setdefault(attrib.get("name", ""), []).append((attrib.get("value", ""), line, col))
        elif local in ("failure", "error"):
            case.status = "failed"
        elif local == "skipped" and case.status == "passed":
            case.status = "skipped"

    def end(self, _tag: str) -> None:
        if self.open and self.open[-1][0] == self.depth:
            self.open.pop()
        self.depth -= 1


def _read_junit(raw: bytes, shown: str) -> tuple[list[tuple[str, dict[str, Any], Location]], list[Diagnostic]]:
    reader = _JUnitCases()
    try:
        reader.parser.feed(raw)
        reader.parser.close()
    except ET.ParseError as exc:
        line, col = getattr(exc, "position", (0, 0))
        return [], [dg.make(dg.INJECTION_RESULTS_ERROR, f"malformed JUnit XML: {str(exc).split(':')[0]}",
                            Location(shown, line, col + 1))]
    except DefusedXmlException as exc:
        return [], [dg.make(dg.INJECTION_RESULTS_ERROR, f"JUnit XML refused: {type(exc).__name__} (DTDs and "
                            "entities are not allowed in result files)", Location(shown))]
    except (ValueError, LookupError) as exc:
        return [], [dg.make(dg.INJECTION_RESULTS_ERROR, f"malformed JUnit XML: {exc}", Location(shown))]
    if reader.root not in ("testsuites", "testsuite"):
        return [], [dg.make(dg.INJECTION_RESULTS_ERROR, f"not a JUnit XML file: the root element is "
                            f"<{reader.root}>, not <testsuites> or <testsuite>", Location(shown, 1, 1))]
    entries: list[tuple[str, dict[str, Any], Location]] = []
    diags: list[Diagnostic] = []
    for c in reader.cases:
        at = Location(shown, c.line, c.col)
        given = c.props.get("case_id")
        m = _PARAM.match(c.name)
        case_id = given[0][0].strip() if given else (m.group(1) if m else c.name)
        if not case_id:
            diags.append(dg.make(dg.INJECTION_RESULTS_ERROR, "testcase without a name or case_id property", at))
            continue
        fields: dict[str, Any] = {"skipped": c.status == "skipped", "status": c.status}
        for key in ("injected", "detected"):
            if key in c.props:
                value, line, col = c.props[key][-1]
                fields[key] = (_int(value), Location(shown, line, col), value)
        if "detection_time_ms" in c.props:
            times = [(_float(v), Location(shown, line, col), v) for v, line, col in c.props["detection_time_ms"]]
            bad = next((t for t in times if t[0] is None), None)
            fields["detection_time_ms"] = bad or max(times, key=lambda t: t[0] or 0.0)
        entries.append((case_id, fields, at))
    return entries, diags


def _int(text: str) -> int | None:
    try:
        v = int(text.strip())
    except ValueError:
        return None
    return v if v >= 0 else None


def _float(text: str) -> float | None:
    try:
        v = float(text.strip())
    except ValueError:
        return None
    return v if math.isfinite(v) and v >= 0 else None


def _json_position(text: str, case_id: str, nth: int) -> tuple[int, int]:
    """Line and column of the `nth` occurrence of the id as a JSON string (1, 1 when not found)."""
    needle = json.dumps(case_id, ensure_ascii=False)
    at = -1
    for _ in range(nth + 1):
        at = text.find(needle, at + 1)
        if at < 0:
            return 1, 1
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def _read_json(raw: bytes, shown: str) -> tuple[list[tuple[str, dict[str, Any], Location]], list[Diagnostic]]:
    def err(message: str, line: int = 0, col: int = 0, hint: str = "") -> tuple[list[Any], list[Diagnostic]]:
        return [], [dg.make(dg.INJECTION_RESULTS_ERROR, message, Location(shown, line, col), hint)]

    try:
        text = raw.decode("utf-8-sig")
        data = json.loads(text)
    except UnicodeDecodeError:
        return err("fault-injection results are not valid UTF-8")
    except json.JSONDecodeError as exc:
        return err(f"malformed JSON: {exc.msg}", exc.lineno, exc.colno)
    except (RecursionError, ValueError):
        return err("unreadable JSON (nested too deeply or a number too long)")
    schema = data.get("schema") if isinstance(data, dict) else None
    if not (isinstance(schema, str) and _RESULTS_MAJOR.fullmatch(schema)):
        return err(f"not fault-injection results: the top-level \"schema\" must be {json.dumps(RESULTS_SCHEMA)}",
                   1, 1, "write the results as sops inject --format json documents them")
    rows = data.get("results")
    if not isinstance(rows, list):
        return err("\"results\" must be a list of {\"id\", \"injected\", \"detected\", \"detection_time_ms\"}", 1, 1)
    entries: list[tuple[str, dict[str, Any], Location]] = []
    diags: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not row["id"].strip():
            diags.append(dg.make(dg.INJECTION_RESULTS_ERROR, f"results[{i}] has no string \"id\"", Location(shown, 1, 1)))
            continue
        case_id = row["id"]
        nth = seen.get(case_id, 0)
        seen[case_id] = nth + 1
        at = Location(shown, *_json_position(text, case_id, nth))
        skipped = row.get("skipped", False) is True
        fields: dict[str, Any] = {"skipped": skipped, "status": "skipped" if skipped else "passed"}
        for key in ("injected", "detected"):
            if key in row:
                v = row[key]
                ok = isinstance(v, int) and not isinstance(v, bool) and v >= 0
                fields[key] = (v if ok else None, at, json.dumps(v)[:40])
            elif not skipped:
                fields[key] = (None, at, "absent")
        if row.get("detection_time_ms") is not None:
            v = row["detection_time_ms"]
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
            fields["detection_time_ms"] = (float(v) if ok else None, at, json.dumps(v)[:40])
        entries.append((case_id, fields, at))
    return entries, diags


@dataclass
class Read:
    results: list[CaseResult] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # real path -> sha256 of the bytes read


def read_campaign_results(paths: Iterable[str], campaign: Campaign) -> Read:
    """Every case result of the files, checked against the campaign; a file with an error adds no result."""
    known = campaign.by_id()
    out: list[CaseResult] = []
    files: list[str] = []
    diags: list[Diagnostic] = []
    digests: dict[str, str] = {}
    first_seen: dict[str, Location] = {}
    for raw_path in paths:
        path = Path(raw_path)
        shown = display(path)
        files.append(shown)
        try:
            with path.open("rb") as fh:
                raw = fh.read(MAX_BYTES + 1)
        except OSError as exc:
            diags.append(dg.make(dg.INJECTION_RESULTS_ERROR, exc.strerror or str(exc), Location(shown)))
            continue
        digests[str(path.resolve())] = hashlib.sha256(raw).hexdigest()
        if len(raw) > MAX_BYTES:
            diags.append(dg.make(dg.INJECTION_RESULTS_ERROR, "fault-injection results larger than 64 MiB",
                                 Location(shown)))
            continue
        is_json = path.suffix.lower() == ".json"
        entries, file_diags = _read_json(raw, shown) if is_json else _read_junit(raw, shown)
        kept: list[CaseResult] = []
        for case_id, fields, at in entries:
            case = known.get(case_id)
            if case is None:
                file_diags.append(dg.make(dg.INJECTION_UNKNOWN_CASE, f"case '{case_id}' is not in the campaign "
                                          "of this model", at, _near(case_id, known)))
                continue
            if case_id in first_seen:
                file_diags.append(dg.make(dg.INJECTION_DUPLICATE_CASE, f"case '{case_id}' is reported twice "
                                          f"(first at {first_seen[case_id]})", at, "keep one result per case id"))
                continue
            first_seen[case_id] = at
            result, problem = _case_result(case_id, fields, at, case.detect_within_seconds is not None)
            if problem is not None:
                file_diags.append(problem)
            elif result is not None:
                kept.append(result)
        diags += file_diags
        if not dg.has_errors(file_diags):
            out += kept
    return Read(out, files, dg.sort_unique(diags), digests)


def _near(case_id: str, known: dict[str, Any]) -> str:
    stem = case_id.rpartition("/")[2]
    same = sorted(k for k in known if k.rpartition("/")[2] == stem)
    if same:
        return "cases of that mechanism: " + ", ".join(same[:4]) + (" ..." if len(same) > 4 else "")
    return "regenerate the campaign with sops inject: the model's mechanisms or instances changed"


def _case_result(case_id: str, fields: dict[str, Any], at: Location,
                 timed: bool) -> tuple[CaseResult | None, Diagnostic | None]:
    def bad(message: str, where: Location) -> tuple[None, Diagnostic]:
        return None, dg.make(dg.INJECTION_RESULTS_ERROR, f"case '{case_id}': {message}", where)

    if fields["skipped"]:
        return CaseResult(case_id, "skipped", 0, 0, None, at.file, at.line, at.col), None
    counts: dict[str, int] = {}
    for key in ("injected", "detected"):
        if key in fields:
            value, where, shown = fields[key]
            if value is None:
                return bad(f"\"{key}\" must be a whole number >= 0, not {shown}", where)
            counts[key] = value
    passed = fields["status"] == "passed"
    injected = counts.get("injected", 1)
    detected = counts.get("detected", 1 if passed and "injected" not in counts else 0)
    if injected == 0:
        return bad("no fault injected (\"injected\" is 0): mark the case skipped instead", at)
    if detected > injected:
        return bad(f"{detected} detections of {injected} injections", at)
    seconds = None
    if "detection_time_ms" in fields:
        ms, where, shown = fields["detection_time_ms"]
        if ms is None:
            return bad(f"\"detection_time_ms\" must be a number >= 0, not {shown}", where)
        seconds = ms / 1000.0
    elif detected and timed:
        return bad("detections reported without \"detection_time_ms\": the FTTI cannot be checked", at)
    return CaseResult(case_id, fields["status"], injected, detected, seconds, at.file, at.line, at.col), None
