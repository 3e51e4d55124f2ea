"""CI results: JUnit (pytest, gtest), metrics JSON, hostile input, and staleness of pinned evidence."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.analysis import evidence as ev
from safetyops_dsl.api import check

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "trace"
AEB = ROOT / "models" / "aeb"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("tests/test_brake.py::test_watchdog_reset", "tests.test_brake.test_watchdog_reset"),
        ("tests.test_brake.test_watchdog_reset", "tests.test_brake.test_watchdog_reset"),
        ("tests/test_x.py::TestA::test_b[p-1]", "tests.test_x.TestA.test_b[p-1]"),
        ("./tests\\win.py::t", "tests.win.t"),
        ("WatchdogTest.ResetsWithin50ms", "WatchdogTest.ResetsWithin50ms"),
        ("a/b.python.py::c", "a.b.python.c"),
    ],
)
def test_normalise_test_id(text: str, key: str) -> None:
    assert ev.normalise_test_id(text) == key


def test_pytest_junit_statuses() -> None:
    tests, diags = ev.parse_junit((FIXTURES / "results_aeb" / "junit-pytest.xml").read_bytes(), "j.xml")
    assert diags == []
    by = {t.key: t for t in tests}
    assert by["tests.test_brake.test_watchdog_reset"].status == ev.PASSED
    assert by["tests.test_radar.test_pedestrian_tracks[night]"].status == ev.FAILED
    assert by["tests.test_radar.test_pedestrian_tracks[night]"].message.startswith("AssertionError: pedestrian")
    assert by["tests.test_ecu.test_radar_confirmation"].status == ev.SKIPPED
    assert by["tests.test_ecu.test_radar_confirmation"].message == "needs the HIL rig"


def test_parametrised_cases_roll_up_to_failed() -> None:
    tests, _ = ev.parse_junit((FIXTURES / "results_aeb" / "junit-pytest.xml").read_bytes(), "j.xml")
    matched = ev.match_tests("tests/test_radar.py::test_pedestrian_tracks", tests)
    assert sorted(t.status for t in matched) == ["failed", "passed"]
    assert [t.key for t in ev.match_tests("tests/test_radar.py::test_pedestrian_tracks[day]", tests)] == [
        "tests.test_radar.test_pedestrian_tracks[day]"
    ]


def test_gtest_junit_and_suffix_matching() -> None:
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" name="AllTests">
  <testsuite name="WatchdogTest" tests="3">
    <testcase name="ResetsWithin50ms" status="run" result="completed" classname="WatchdogTest" />
    <testcase name="DISABLED_Slow" status="notrun" result="suppressed" classname="WatchdogTest" />
    <testcase name="Skipped" status="run" result="skipped" classname="WatchdogTest"><skipped message="no rig"/></testcase>
  </testsuite>
</testsuites>"""
    tests, diags = ev.parse_junit(xml, "g.xml")
    assert not diags
    assert {t.key: t.status for t in tests} == {
        "WatchdogTest.ResetsWithin50ms": "passed", "WatchdogTest.DISABLED_Slow": "skipped",
        "WatchdogTest.Skipped": "skipped",
    }
    assert [t.key for t in ev.match_tests("WatchdogTest.ResetsWithin50ms", tests)] == ["WatchdogTest.ResetsWithin50ms"]
    # pytest run from inside tests/: classname lacks the folder; the evidence id still finds it
    inner, _ = ev.parse_junit(b'<testsuite><testcase classname="test_brake" name="test_wd"/></testsuite>', "x")
    assert ev.match_tests("tests/test_brake.py::test_wd", inner) == inner
    assert ev.match_tests("tests/test_other.py::test_wd", inner) == []


@pytest.mark.parametrize(
    "xml",
    [
        (FIXTURES / "results_bad" / "billion-laughs.xml").read_bytes(),
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite>&x;</testsuite>',
        (FIXTURES / "results_bad" / "truncated.xml").read_bytes(),
        b"\x00\x01 not xml",
        b'<?xml version="1.0" encoding="klingon"?><testsuite/>',
        (FIXTURES / "results_bad" / "coverage.xml").read_bytes(),
    ],
)
def test_hostile_or_malformed_xml_is_a_diagnostic(xml: bytes) -> None:
    tests, diags = ev.parse_junit(xml, "bad.xml")
    assert tests == []
    assert [d.code for d in diags] == [dg.RESULTS_ERROR]


def test_metric_key_paths() -> None:
    doc = {"recall": {"night_pedestrian": 0.98, "x.y": 1}, "precision.highway_clutter": 0.99, "a": {"b": {"c": 2}}}
    assert ev.lookup_metric(doc, "recall.night_pedestrian") == (True, 0.98)
    assert ev.lookup_metric(doc, "precision.highway_clutter") == (True, 0.99)
    assert ev.lookup_metric(doc, "recall.x.y") == (True, 1)
    assert ev.lookup_metric(doc, "a.b.c") == (True, 2)
    assert ev.lookup_metric(doc, "a.b") == (True, {"c": 2})
    assert ev.lookup_metric(doc, "recall.day")[0] is False


def _aeb():
    checked = check([AEB])
    assert checked.ok and checked.model is not None
    return checked.model


def test_aeb_with_fixture_results() -> None:
    results = ev.read_results([FIXTURES / "results_aeb"])
    assert results.diagnostics == []
    statuses, diags = ev.evaluate_evidence(_aeb(), results, use_git=False)
    got = {q.rpartition(".")[2]: s.status for q, s in statuses.items()}
    assert got == {
        "MET_PRE": "passed", "MET_REC": "failed", "REV_DATA": "recorded", "REV_HARA": "recorded",
        "TST_CONF": "skipped", "TST_OOD": "missing",
        "TST_LS": "passed", "TST_RDR": "failed", "TST_STALE": "missing", "TST_WD": "passed",
        "MET_R_DAY": "passed", "MET_R_DSK": "passed", "MET_R_NGT": "passed", "MET_P_DRY": "passed",
        "MET_P_WET": "passed",  # the sliced metrics (docs/language/odd.md)
    }
    assert statuses["aeb.MET_REC"].value == pytest.approx(0.987)
    assert "needs >= 0.99" in statuses["aeb.MET_REC"].detail
    assert sorted(d.code for d in diags) == ["SOPS107", "SOPS107", "SOPS108", "SOPS108", "SOPS109"]  # TST_STALE and TST_OOD not in the run


def test_without_results_tests_are_not_run() -> None:
    statuses, diags = ev.evaluate_evidence(_aeb(), None, use_git=False)
    assert {s.status for q, s in statuses.items() if s.kind in ("test", "metric")} == {"not_run"}
    assert diags == []


@pytest.mark.parametrize("value", ['"0.99"', "true", "NaN", "[0.99]", "null"])
def test_metric_of_wrong_type(tmp_path: Path, value: str) -> None:
    (tmp_path / "m.json").write_text(f'{{"recall": {{"night_pedestrian": {value}}}}}', encoding="utf-8")
    results = ev.read_results([tmp_path / "m.json"])
    statuses, diags = ev.evaluate_evidence(_aeb(), results, use_git=False)
    assert statuses["aeb.MET_REC"].status == ev.MISSING
    assert dg.METRIC_RESULT_TYPE in {d.code for d in diags}


def test_unreadable_result_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("[1, 2]", encoding="utf-8")
    (tmp_path / "b.json").write_bytes(b"\xff\xfe{")
    (tmp_path / "c.json").write_text("[" * 100_000, encoding="utf-8")
    results = ev.read_results([tmp_path, tmp_path / "missing.xml"])
    assert [d.code for d in results.diagnostics] == [dg.RESULTS_ERROR] * 4


# -- staleness ----------------------------------------------------------------------------------------------------


def _model_with_pin(root: Path, pin: str) -> Path:
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "m.sops").write_text(
        'package m\nrequirement R "r"\nevidence E review "minutes" verifies R\n' + pin + "\n", encoding="utf-8"
    )
    return root


def _evidence(root: Path):
    checked = check([root])
    assert checked.model is not None
    return checked.model, checked.model.evidence["m.E"]


def test_sha256_pin(tmp_path: Path) -> None:
    doc = tmp_path / "docs" / "minutes.md"
    doc.parent.mkdir(parents=True)
    doc.write_text("v1\n", encoding="utf-8")
    digest = hashlib.sha256(b"v1\n").hexdigest()
    _model_with_pin(tmp_path, f'    artifact "docs/minutes.md" sha256 "{digest}"')
    model, e = _evidence(tmp_path)
    assert ev.staleness(model.root, e) == (False, "")
    doc.write_text("v2\n", encoding="utf-8")
    stale, why = ev.staleness(model.root, e)
    assert stale and "changed" in why
    doc.unlink()
    assert ev.staleness(model.root, e)[1] == "artifact 'docs/minutes.md' not found"


def test_pin_outside_root_is_stale(tmp_path: Path) -> None:
    _model_with_pin(tmp_path / "model", f'    artifact "../secret.txt" sha256 "{"0" * 64}"')
    model, e = _evidence(tmp_path / "model")
    assert ev.staleness(model.root, e) == (True, "artifact '../secret.txt' is outside the model root")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_commit_pin(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True,
                              text=True).stdout.strip()

    git("init", "-q")
    git("config", "user.email", "ci@example.com")
    git("config", "user.name", "CI")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "minutes.md").write_text("v1\n", encoding="utf-8")
    _model_with_pin(tmp_path, "")
    git("add", ".")
    git("commit", "-q", "-m", "v1")
    sha = git("rev-parse", "HEAD")
    _model_with_pin(tmp_path, f'    artifact "docs/minutes.md" commit "{sha}"')
    model, e = _evidence(tmp_path)
    assert ev.staleness(model.root, e) == (False, "")
    (tmp_path / "docs" / "minutes.md").write_text("v2\n", encoding="utf-8")
    assert ev.staleness(model.root, e) == (True, f"artifact 'docs/minutes.md' changed since commit {sha}")
    _model_with_pin(tmp_path, '    commit "0123456789abcdef0123456789abcdef01234567"')
    model, e = _evidence(tmp_path)
    assert ev.staleness(model.root, e)[0] is True
    assert ev.staleness(model.root, e, use_git=False) == (False, "")
