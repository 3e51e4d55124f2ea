"""The streamed JUnit reader (issue 17, item 6): the same test results as reading the whole document, in
any chunking; only what the evidence can name is kept; memory stays flat for a million-case file
(benchmarks/robustness.py measures it); DTDs and entities are still refused; the size bound is a SOPS202.
"""

from __future__ import annotations

import hashlib
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from defusedxml.ElementTree import fromstring
from harness import fuzz
from hypothesis import given
from hypothesis import strategies as st

from safetyops_dsl.analysis import evidence as ev

# -- the oracle: the whole-document reader this replaced ---------------------------------------------------------


def tree_reader(raw: bytes, shown: str) -> list[ev.TestResult]:
    root = fromstring(raw, forbid_dtd=True)
    out = []
    for case in root.iter():
        if ev._local(case.tag) != "testcase":
            continue
        name = (case.get("name") or "").strip()
        if not name:
            continue
        classname = (case.get("classname") or "").strip()
        status, message = ev.PASSED, ""
        for child in case:
            tag = ev._local(child.tag)
            if tag in ("failure", "error"):
                status = ev.FAILED
                message = ev._first_line(child.get("message") or child.text or child.get("type") or tag)
                break
            if tag == "skipped" and status == ev.PASSED:
                status = ev.SKIPPED
                message = ev._first_line(child.get("message") or child.text or "skipped")
        if status == ev.PASSED and (case.get("status") == "notrun" or case.get("result") in ("skipped", "suppressed")):
            status, message = ev.SKIPPED, "not run"
        display = f"{classname}::{name}" if classname else name
        key = ev.normalise_test_id(f"{classname}.{name}" if classname else name)
        out.append(ev.TestResult(key, display, status, message, shown))
    return out


def streamed(raw: bytes, chunk: int, wanted: list[str] | None = None) -> tuple[list[ev.TestResult], list[Any]]:
    reader = ev._JUnitReader("r.xml", ev._wanted_filter(wanted) if wanted is not None else None)
    for at in range(0, len(raw), chunk):
        reader.feed(raw[at: at + chunk])
    return reader.result()


# -- generated documents -------------------------------------------------------------------------------------------

NAMES = st.sampled_from(["test_a", "test_b[1]", "test_b[x.y]", "Suite.Case", "t", " spaced ", "", "test_a.py"])
CLASSES = st.sampled_from(["", "tests.test_m", "tests/test_m.py", "Suite", "a::b", "x.test_a"])
TEXT = st.sampled_from(["", "boom", "\n  first line\nsecond", "   ", "&lt;x&gt;", "<![CDATA[raw <b>]]>"])


@st.composite
def child(draw: st.DrawFn) -> str:
    tag = draw(st.sampled_from(["failure", "error", "skipped", "system-out", "properties", "testcase"]))
    attrs = ""
    if draw(st.booleans()):
        attrs += f' message="{draw(st.sampled_from(["msg", "", "a&amp;b", "line1&#10;line2"]))}"'
    if draw(st.booleans()):
        attrs += ' type="AssertionError"'
    inner = draw(TEXT)
    if draw(st.booleans()):
        inner += f"<nested>{draw(TEXT)}</nested>{draw(TEXT)}"
    if tag == "testcase":
        attrs = f' name="{draw(NAMES)}"'
    return f"<{tag}{attrs}>{inner}</{tag}>"


@st.composite
def case(draw: st.DrawFn) -> str:
    attrs = f' name="{draw(NAMES)}" classname="{draw(CLASSES)}"'
    if draw(st.booleans()):
        attrs += draw(st.sampled_from([' status="notrun"', ' result="skipped"', ' result="suppressed"',
                                       ' status="run"']))
    body = "".join(draw(st.lists(child(), max_size=4)))
    return f"<testcase{attrs}>{body}</testcase>" if body or draw(st.booleans()) else f"<testcase{attrs}/>"


@st.composite
def document(draw: st.DrawFn) -> bytes:
    cases = "".join(draw(st.lists(case(), max_size=8)))
    root = draw(st.sampled_from(["testsuites", "testsuite", "ns"]))
    if root == "ns":
        text = f'<t:testsuites xmlns:t="urn:x"><t:testsuite>{cases}</t:testsuite></t:testsuites>'
    elif root == "testsuites":
        text = f'<testsuites><testsuite name="s">{cases}</testsuite><testsuite/></testsuites>'
    else:
        text = f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite tests="3">{cases}</testsuite>'
    return text.encode("utf-8")


@fuzz(60)
@given(document(), st.sampled_from([1, 3, 17, 1 << 16]))
def test_streaming_reads_what_the_tree_reader_read(raw: bytes, chunk: int) -> None:
    tests, diags = streamed(raw, chunk)
    assert diags == []
    assert tests == tree_reader(raw, "r.xml")


IDS = st.text(alphabet="ab.[]/:_1", min_size=1, max_size=10)


@fuzz(200)
@given(st.lists(IDS, min_size=1, max_size=4), st.lists(IDS, max_size=12))
def test_the_filter_keeps_every_case_evidence_can_match(sources: list[str], ids: list[str]) -> None:
    tests = [ev.TestResult(ev.normalise_test_id(i), i, ev.PASSED, "", "r.xml") for i in ids]
    keep = ev._wanted_filter(sources)
    kept = [t for t in tests if keep(t.key)]
    for source in sources:
        assert ev.match_tests(source, tests) == ev.match_tests(source, kept)


def test_the_filter_drops_what_no_evidence_names() -> None:
    keep = ev._wanted_filter(["tests/test_brake.py::test_watchdog"])
    assert keep("tests.test_brake.test_watchdog") and keep("tests.test_brake.test_watchdog[fast]")
    assert keep("root.tests.test_brake.test_watchdog") and keep("test_brake.test_watchdog")
    assert not keep("tests.test_brake.test_other") and not keep("tests.test_other.test_watchdog_reset")


def _many_cases(n: int) -> bytes:
    body = "".join(f'<testcase classname="tests.test_m{i % 97}" name="test_{i}"/>' for i in range(n))
    return f"<testsuites><testsuite>{body}</testsuite></testsuites>".encode()


def test_memory_stays_flat_when_the_evidence_names_few_cases(tmp_path: Path) -> None:
    """100 000 cases (4.5 MB): the whole-document reader held every element and every result (about 60 MB
    here); the streamed one with the evidence's names holds a few chunks."""
    f = tmp_path / "big.xml"
    f.write_bytes(_many_cases(100_000))
    tracemalloc.start()
    try:
        results = ev.read_results([f], wanted=["tests/test_m7.py::test_7", "tests.test_m1.test_99999"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [t.key for t in results.tests] == ["tests.test_m7.test_7"]
    assert peak < 5 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_results_record_the_hash_of_what_they_read(tmp_path: Path) -> None:
    f = tmp_path / "r.xml"
    f.write_bytes(_many_cases(10))
    m = tmp_path / "m.json"
    m.write_bytes(b'{"recall": 0.9}')
    results = ev.read_results([tmp_path])
    assert results.digests == {str(p.resolve()): hashlib.sha256(p.read_bytes()).hexdigest() for p in (f, m)}


def test_a_junit_file_above_the_bound_is_a_diagnostic(tmp_path: Path, monkeypatch: Any) -> None:
    f = tmp_path / "r.xml"
    f.write_bytes(_many_cases(100))
    monkeypatch.setattr(ev, "MAX_JUNIT_BYTES", 1000)
    results = ev.read_results([f])
    assert results.tests == []
    assert [d.code for d in results.diagnostics] == ["SOPS202"]
    assert "result file is larger than" in results.diagnostics[0].message
    assert str(f.resolve()) in results.digests  # still fingerprinted: a build notices when it changes


def test_entities_are_still_refused_and_never_expanded() -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
              b'<testsuite><testcase name="&b;"/></testsuite>')
    tests, diags = ev.parse_junit(laughs, "r.xml")
    assert tests == [] and [d.code for d in diags] == ["SOPS202"] and "refused" in diags[0].message
    undefined = b'<testsuite><testcase name="&b;"/></testsuite>'
    tests, diags = ev.parse_junit(undefined, "r.xml")
    assert tests == [] and "malformed" in diags[0].message


def test_a_wrong_root_stops_at_the_first_tag() -> None:
    tests, diags = streamed(b"<html>" + b"<p>x</p>" * 1000, 7)
    assert tests == [] and "root element is <html>" in diags[0].message


def test_malformed_xml_reports_the_position_the_tree_reader_reported() -> None:
    raw = b'<testsuite>\n  <testcase name="a">\n</testsuite>'
    try:
        fromstring(raw)
    except ET.ParseError as exc:
        line, col = exc.position
    _, diags = streamed(raw, 5)
    assert (diags[0].location.line, diags[0].location.col) == (line, col + 1)
