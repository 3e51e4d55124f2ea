"""Fault-injection campaigns: the cases the model gives, reading results back, and the measured coverage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from safetyops_dsl.analysis.injection import Campaign, CaseResult, Verdict, counted, measure
from safetyops_dsl.analysis.injection_results import read_campaign_results
from safetyops_dsl.analysis.pipeline import Options, Results, analyse
from safetyops_dsl.api import check
from safetyops_dsl.model.index import Model

ROOT = Path(__file__).resolve().parents[3]
AEB = ROOT / "models" / "aeb"


@pytest.fixture(scope="module")
def aeb() -> Model:
    checked = check([str(AEB)])
    assert checked.model is not None
    return checked.model


@pytest.fixture(scope="module")
def campaign(aeb: Model) -> Campaign:
    return analyse(aeb, Options(with_gsn=False)).campaign


def _json(tmp_path: Path, rows: list[dict[str, Any]], name: str = "r.json") -> str:
    doc = {"schema": "sops-injection-results/1.0.0", "results": rows}
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return str(path)


def _all_detected(campaign: Campaign, **override: Any) -> list[dict[str, Any]]:
    rows = []
    for c in campaign.cases:
        n = c.injections or 1
        row = {"id": c.case_id, "injected": n, "detected": n, "detection_time_ms": 10.0}
        row.update(override.get(c.case_id, {}))
        rows.append(row)
    return rows


# -- the campaign ---------------------------------------------------------------------------------------------


def test_one_case_per_mechanism_mode_and_instance(campaign: Campaign) -> None:
    ids = [c.case_id for c in campaign.cases]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 14
    # the radar pair: one case per instance of the same mechanism
    assert "AEB.radars.main.NoEcho/BlockageDetect" in ids and "AEB.radars.aux.NoEcho/BlockageDetect" in ids
    # a mechanism covering two modes: one case per mode
    assert {"AEB.supply.BatteryLoss/UnderVoltage", "AEB.supply.DcdcFault/UnderVoltage"} <= set(ids)
    # an ML monitor is a case too
    assert "AEB.perception.MissedDetection/OodMonitor" in ids


def test_expected_reaction_comes_from_the_threatened_goals(campaign: Campaign) -> None:
    cases = campaign.by_id()
    lockstep = cases["AEB.ecu.CPUFault/Lockstep"]  # omission (H1, SG1 200 ms) and commission (H2, SG2 100 ms)
    assert [t.goal for t in lockstep.goals] == ["SG1", "SG2"] and lockstep.hazards == ("H1", "H2")
    assert lockstep.detect_within_seconds == pytest.approx(0.1)
    assert lockstep.safe_states == ("AEB switched off, driver informed", "driver warned, AEB degraded to warning only")
    stuck = cases["AEB.camera.ImagerStuck/FrameCounter"]
    assert [(t.goal, t.asil) for t in stuck.goals] == [("SG1", "D"), ("SG3", "B")]
    assert stuck.detect_within_seconds == pytest.approx(0.2)  # the shorter FTTI of the two
    assert cases["AEB.radars.main.Misaligned/AlignmentMonitor"].goals[0].goal == "SG2"


def test_planned_injections_demonstrate_the_claim(campaign: Campaign) -> None:
    for c in campaign.cases:
        assert c.injections is not None
        assert 0.05 ** (1 / c.injections) >= c.claimed_coverage
    assert campaign.by_id()["AEB.ecu.CanTxLoss/Watchdog"].injections == 299


def test_campaign_is_deterministic(aeb: Model) -> None:
    from safetyops_dsl.generators.campaign import render

    a = render(analyse(aeb, Options(with_gsn=False)).campaign, "json")
    b = render(analyse(aeb, Options(with_gsn=False)).campaign, "json")
    assert a == b
    doc = json.loads(a)
    assert doc["schema"] == "sops-injection-campaign/1.0.0"
    assert doc["results_schema"] == "sops-injection-results/1.0.0"


# -- reading results ------------------------------------------------------------------------------------------


def test_junit_properties_and_parametrised_names(campaign: Campaign, tmp_path: Path) -> None:
    xml = tmp_path / "r.xml"
    xml.write_text(
        '<testsuites><testsuite name="s">\n'
        '<testcase classname="t" name="test_injection[AEB.ecu.CanTxLoss/Watchdog]">'
        '<properties><property name="injected" value="299"/><property name="detected" value="297"/>'
        '<property name="detection_time_ms" value="48.5"/></properties></testcase>\n'
        '<testcase classname="t" name="x"><properties><property name="case_id" value="AEB.ecu.CPUFault/Lockstep"/>'
        '<property name="detection_time_ms" value="0.4"/><property name="detection_time_ms" value="0.9"/>'
        '</properties></testcase>\n'
        '<testcase classname="t" name="test_injection[AEB.camera.Blackout/FrameTimeout]"><failure message="m"/></testcase>\n'
        '<testcase classname="t" name="test_injection[AEB.camera.ImagerStuck/FrameCounter]"><skipped/></testcase>\n'
        '</testsuite></testsuites>\n', encoding="utf-8")
    read = read_campaign_results([str(xml)], campaign)
    assert read.diagnostics == []
    got = {r.case_id: (r.status, r.injected, r.detected, r.detection_time_seconds) for r in read.results}
    assert got == {
        "AEB.ecu.CanTxLoss/Watchdog": ("passed", 299, 297, 0.0485),
        "AEB.ecu.CPUFault/Lockstep": ("passed", 1, 1, 0.0009),  # the slowest of the times given
        "AEB.camera.Blackout/FrameTimeout": ("failed", 1, 0, None),
        "AEB.camera.ImagerStuck/FrameCounter": ("skipped", 0, 0, None),
    }
    assert read.digests and all(len(h) == 64 for h in read.digests.values())


def _codes(read: Any) -> list[tuple[str, int]]:
    return [(d.code, d.location.line) for d in read.diagnostics]


def test_unknown_and_duplicate_ids_are_positioned(campaign: Campaign, tmp_path: Path) -> None:
    rows = _all_detected(campaign)
    rows.insert(3, {"id": "AEB.ecu.Gone/Watchdog", "injected": 1, "detected": 1, "detection_time_ms": 1})
    rows.append(dict(rows[0]))
    path = _json(tmp_path, rows)
    read = read_campaign_results([path], campaign)
    text = Path(path).read_text(encoding="utf-8").splitlines()
    (c1, l1), (c2, l2) = _codes(read)
    assert {c1, c2} == {"SOPS231", "SOPS232"}
    lines = {c1: l1, c2: l2}
    assert '"AEB.ecu.Gone/Watchdog"' in text[lines["SOPS231"] - 1]
    assert lines["SOPS232"] > 10 and rows[0]["id"] in text[lines["SOPS232"] - 1]
    assert read.results == []  # a file with an error contributes nothing


def test_duplicates_across_files(campaign: Campaign, tmp_path: Path) -> None:
    rows = _all_detected(campaign)
    a = _json(tmp_path, rows[:5], "a.json")
    b = _json(tmp_path, rows[4:], "b.json")
    read = read_campaign_results([a, b], campaign)
    assert [d.code for d in read.diagnostics] == ["SOPS232"]
    assert "first at" in read.diagnostics[0].message and read.diagnostics[0].location.file.endswith("b.json")


@pytest.mark.parametrize("content, message", [
    ("<testsuites><testcase name='a'>", "malformed JUnit XML"),
    ("<report/>", "not a JUnit XML file"),
    ('<!DOCTYPE x [<!ENTITY a "b">]><testsuites/>', "refused"),
])
def test_malformed_junit(campaign: Campaign, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.xml"
    path.write_text(content, encoding="utf-8")
    read = read_campaign_results([str(path)], campaign)
    assert [d.code for d in read.diagnostics] == ["SOPS230"] and message in read.diagnostics[0].message


@pytest.mark.parametrize("row, message", [
    ({"injected": 5, "detected": 6, "detection_time_ms": 1}, "6 detections of 5 injections"),
    ({"injected": -1, "detected": 0}, "\"injected\" must be a whole number"),
    ({"injected": 3, "detected": True, "detection_time_ms": 1}, "\"detected\" must be a whole number"),
    ({"injected": 3, "detected": 3}, "without \"detection_time_ms\""),
    ({"injected": 3, "detected": 3, "detection_time_ms": "fast"}, "\"detection_time_ms\" must be a number"),
    ({"injected": 0, "detected": 0}, "mark the case skipped"),
    ({"detected": 1, "detection_time_ms": 1}, "\"injected\" must be a whole number >= 0, not absent"),
])
def test_invalid_fields(campaign: Campaign, tmp_path: Path, row: dict[str, Any], message: str) -> None:
    path = _json(tmp_path, [{"id": "AEB.ecu.CanTxLoss/Watchdog", **row}])
    read = read_campaign_results([path], campaign)
    assert [d.code for d in read.diagnostics] == ["SOPS230"], read.diagnostics
    assert message in read.diagnostics[0].message
    assert read.diagnostics[0].location.line > 1


@pytest.mark.parametrize("text", ['{"results": []}', "[1]", "{", '{"schema": {"name": "sops-injection-results", '
                                  '"version": 1}, "results": {}}'])
def test_malformed_json(campaign: Campaign, tmp_path: Path, text: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(text, encoding="utf-8")
    assert [d.code for d in read_campaign_results([str(path)], campaign).diagnostics] == ["SOPS230"]


# -- measurement ------------------------------------------------------------------------------------------------


def test_late_detection_counts_as_missed(campaign: Campaign) -> None:
    case = campaign.by_id()["AEB.ecu.CPUFault/Lockstep"]  # FTTI 100 ms
    assert counted(case, CaseResult(case.case_id, "passed", 10, 10, 0.1, "f")) == (10, 0)
    assert counted(case, CaseResult(case.case_id, "passed", 10, 10, 0.1001, "f")) == (0, 10)


def test_verdicts(campaign: Campaign) -> None:
    cases = campaign.by_id()
    results = [
        CaseResult("AEB.ecu.CanTxLoss/Watchdog", "passed", 299, 299, 0.05, "f"),  # supported (bound 0.99003)
        CaseResult("AEB.ecu.CPUFault/Lockstep", "passed", 299, 298, 0.001, "f"),  # one miss: not supported
        CaseResult("AEB.radars.main.NoEcho/BlockageDetect", "passed", 59, 59, 0.1, "f"),  # aux missing
        CaseResult("AEB.camera.Blackout/FrameTimeout", "passed", 299, 299, 0.3, "f"),  # late: 0/299
    ]
    report = measure(campaign, results)
    by = {m.mechanism: m for m in report.measurements}
    assert by["BrakeECU.Watchdog"].verdict is Verdict.SUPPORTED
    assert by["BrakeECU.Watchdog"].lower_bound == pytest.approx(0.05 ** (1 / 299))
    assert by["BrakeECU.Lockstep"].verdict is Verdict.NOT_SUPPORTED
    assert by["Radar.BlockageDetect"].verdict is Verdict.INCOMPLETE and by["Radar.BlockageDetect"].reported == 1
    fto = by["Camera.FrameTimeout"]
    assert (fto.detected, fto.late, fto.verdict) == (0, 299, Verdict.NOT_SUPPORTED)
    assert by["BrakeActuator.PressureFeedback"].verdict is Verdict.NO_RESULTS
    assert len(report.measurements) == len({c.mechanism for c in cases.values()}) == 10


def _results(aeb: Model, path: str, **kw: Any) -> Results:
    return analyse(aeb, Options(campaign_results=(path,), with_gsn=False, **kw))


def test_fmeda_rows_carry_the_measurement(aeb: Model, campaign: Campaign, tmp_path: Path) -> None:
    r = _results(aeb, _json(tmp_path, _all_detected(campaign)))
    rows = [row for g in r.fmeda.goals for row in g.rows if row.mechanisms]
    assert rows and all(len(row.measured) == len(row.mechanisms) for row in rows)
    assert all(m.verdict is Verdict.SUPPORTED for m in r.fmeda.measurements)
    assert [d.code for d in r.diagnostics if d.code.startswith("SOPS23")] == []


def test_unsupported_claim_is_flagged_at_the_mechanism(aeb: Model, campaign: Campaign, tmp_path: Path) -> None:
    rows = _all_detected(campaign, **{"AEB.ecu.CanTxLoss/Watchdog": {"detected": 295}})
    r = _results(aeb, _json(tmp_path, rows))
    flagged = [d for d in r.diagnostics if d.code == "SOPS233"]
    assert len(flagged) == 1 and "BrakeECU.Watchdog" in flagged[0].message
    assert flagged[0].location.file.endswith("components.sops")
    assert "mechanism Watchdog" in (AEB / "components.sops").read_text().splitlines()[flagged[0].location.line - 1]


def test_confidence_option(aeb: Model, campaign: Campaign, tmp_path: Path) -> None:
    rows = _all_detected(campaign)
    r90 = _results(aeb, _json(tmp_path, rows), confidence=0.9)
    assert r90.campaign.by_id()["AEB.ecu.CanTxLoss/Watchdog"].injections == 230  # ln 0.1 / ln 0.99 = 229.1
    m = r90.injection.measurement("BrakeECU.Watchdog") if r90.injection else None
    assert m is not None and m.lower_bound == pytest.approx(0.1 ** (1 / 299))
