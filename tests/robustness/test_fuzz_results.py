"""Fuzzing of the CI result files `sops trace --results` reads: JUnit XML (pytest, gtest and broken
variants) and metrics JSON (wrong types, huge numbers, deep nesting, bad encodings). Every input gives
evidence statuses and SOPS2xx/SOPS110 diagnostics, never an exception, never a hang; and the report is still
rendered in every format."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from harness import ROOT, fuzz, run_cli, save_crash, time_limit
from hypothesis import given
from hypothesis import strategies as st
from safetyops_dsl.generators import trace_report

from safetyops_dsl.analysis import evidence as ev
from safetyops_dsl.analysis.coverage import evaluate
from safetyops_dsl.analysis.trace import build_trace
from safetyops_dsl.api import check
from safetyops_dsl.validation.policy import resolve_policy

AEB = ROOT / "models" / "aeb"
FIXTURES = ROOT / "tests" / "fixtures" / "trace"
_MODEL = check([AEB]).model
assert _MODEL is not None

NAMES = st.sampled_from(("test_watchdog_reset", "test_divergence", "Resets", "", "x" * 300, "<script>", "a]b[c",
                         "test_frame_counter[night]", "\u202e"))
CLASSES = st.sampled_from(("tests.test_brake", "tests.test_lockstep", "WatchdogTest", "", "tests/test_x.py", "&amp;"))


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


@st.composite
def junit(draw: st.DrawFn) -> str:
    cases = []
    for _ in range(draw(st.integers(0, 6))):
        child = draw(st.sampled_from(("", "<failure message=\"boom\"/>", "<error/>", "<skipped/>",
                                      "<failure>text</failure><error/>", "<system-out>o</system-out>")))
        status = draw(st.sampled_from(("", ' status="notrun"', ' result="suppressed"', ' status="run"')))
        time_attr = draw(st.sampled_from(("", ' time="0.1"', ' time="abc"', ' time="-1"')))
        cases.append(f'<testcase classname="{_attr(draw(CLASSES))}" name="{_attr(draw(NAMES))}"{status}{time_attr}>'
                     f"{child}</testcase>")
    suite = f'<testsuite name="s" tests="{draw(st.sampled_from(("1", "x", "-5")))}">' + "".join(cases) + "</testsuite>"
    root = draw(st.sampled_from(("testsuites", "testsuite", "testrun", "html")))
    if root == "testsuite":
        return '<?xml version="1.0"?>\n' + suite
    return f'<?xml version="1.0"?>\n<{root}>{suite}</{root}>'


def json_values() -> st.SearchStrategy[object]:
    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                       st.text(max_size=8), st.sampled_from((0.99, 0.5, 1, 0)))
    keys = st.sampled_from(("recall", "night_pedestrian", "precision", "highway_clutter", "recall.night_pedestrian",
                            "precision.highway_clutter", "", "."))
    return st.recursive(leaves, lambda ch: st.one_of(st.lists(ch, max_size=3), st.dictionaries(keys, ch, max_size=4)),
                        max_leaves=10)


metrics_text = st.one_of(
    json_values().map(lambda v: json.dumps(v, allow_nan=True)),
    st.sampled_from((
        '{"recall": {"night_pedestrian": ' + "9" * 5000 + "}}",  # beyond Python's int-string limit
        '{"recall": {"night_pedestrian": 1e999}}',
        '{"recall": {"night_pedestrian": NaN}, "precision": {"highway_clutter": -Infinity}}',
        '{"recall": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"recall": ' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "}",
        '{"recall": {"night_pedestrian": "0.995"}}',
        '{"recall": {"night_pedestrian": true}}',
        '{"recall.night_pedestrian": [0.99]}',
        "\ufeff{}",
        "",
        "{",
        "[1, 2",
        '{"a": 1, "a": 2}',
    )),
)


def _trace(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory(prefix="sops-results-") as tmp:
        for name, data in files.items():
            Path(tmp, name).write_bytes(data)
        try:
            with time_limit():
                results = ev.read_results([tmp])
                for d in results.diagnostics:
                    assert d.code.startswith("SOPS") and d.message
                tg = build_trace(_MODEL, results, use_git=False)
                cov = evaluate(tg, resolve_policy(_MODEL.policy))
                for fmt in ("md", "json", "html", "csv"):
                    trace_report.render(tg, cov, fmt, title="aeb")
        except BaseException:
            for name, data in files.items():
                save_crash("results", data, Path(name).suffix)
            raise


@fuzz(25)
@given(junit(), metrics_text)
def test_generated_results_give_statuses_or_diagnostics(xml: str, metrics: str) -> None:
    _trace({"junit.xml": xml.encode(), "metrics.json": metrics.encode("utf-8", "surrogatepass")})


@st.composite
def mutated_fixture(draw: st.DrawFn) -> tuple[str, bytes]:
    path = draw(st.sampled_from(sorted(p for p in FIXTURES.rglob("*") if p.is_file())))
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(1, 3))):
        n = len(data)
        i = draw(st.integers(0, max(n - 1, 0)))
        op = draw(st.sampled_from(("flip", "delete", "truncate", "insert")))
        if op == "flip" and n:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 30))]
        elif op == "truncate":
            del data[i:]
        else:
            data[i:i] = draw(st.sampled_from((b"\x00", b"\xff", b"<", b"&", b"{", b"]", b'"', b"NaN", b"<!DOCTYPE x>")))
    return path.suffix, bytes(data)


@fuzz(20)
@given(mutated_fixture())
def test_mutated_result_files(case: tuple[str, bytes]) -> None:
    suffix, data = case
    _trace({f"r{suffix}": data})


WRONG_TYPES = {
    "string": '{"recall": {"night_pedestrian": "0.995"}}',
    "bool": '{"recall": {"night_pedestrian": true}}',
    "null": '{"recall": {"night_pedestrian": null}}',
    "list": '{"recall": {"night_pedestrian": [0.995]}}',
    "object": '{"recall": {"night_pedestrian": {"value": 0.995}}}',
    "nan": '{"recall": {"night_pedestrian": NaN}}',
    "inf": '{"recall": {"night_pedestrian": 1e999}}',
    "huge_int": '{"recall": {"night_pedestrian": ' + "9" * 5000 + "}}",
}


@pytest.mark.parametrize("kind", sorted(WRONG_TYPES))
def test_metric_of_the_wrong_type_is_a_diagnostic_not_a_pass(kind: str, tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text(WRONG_TYPES[kind], encoding="utf-8")
    results = ev.read_results([tmp_path])
    tg = build_trace(_MODEL, results, use_git=False)
    codes = {d.code for d in list(results.diagnostics) + list(tg.diagnostics)}
    assert codes & {"SOPS110", "SOPS202"}, (kind, codes)
    status = tg.evidence["aeb.MET_REC"].status
    assert status != "passed", (kind, status)


def test_cli_with_broken_results() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "a.xml").write_bytes(b"<testsuite><testcase name='x'>\xff\x00")
        Path(tmp, "b.json").write_text(WRONG_TYPES["huge_int"], encoding="utf-8")
        Path(tmp, "c.json").write_text('{"recall": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
        proc = run_cli(["trace", str(AEB), "--results", tmp, "--no-git"])
        assert proc.returncode == 1 and "SOPS202" in proc.stderr, proc.stderr[-2000:]
