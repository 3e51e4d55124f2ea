"""SOTIF analysis, ODD coverage, the AMLAS argument and their diff, on a small model and on the AEB example."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from safetyops_dsl.generators import sotif_report

from safetyops_dsl.analysis import gsn
from safetyops_dsl.analysis.odd_coverage import EMPTY, OK, THIN
from safetyops_dsl.analysis.pipeline import Options, analyse
from safetyops_dsl.analysis.result_diff import result_deltas
from safetyops_dsl.analysis.validation_target import required_exposure
from safetyops_dsl.api import check
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.semantics import odd_cells

ROOT = Path(__file__).resolve().parents[3]
AEB = ROOT / "models" / "aeb"
SMALL = ROOT / "tests" / "golden" / "check_sops132_validation_target_not_met"  # the base model of the SOTIF cases


def _copy_small(tmp_path: Path) -> Path:
    target = tmp_path / "m"
    shutil.copytree(SMALL, target, ignore=shutil.ignore_patterns("expected", "cmd"))
    return target


def _results(folder: Path, results: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    checked = check([folder])
    assert checked.model is not None, checked.diagnostics
    return analyse(checked.model, Options(results=results, use_git=False))


def test_slice_key_is_sorted_and_independent_of_writing_order() -> None:
    loc = el.Location("x")  # type: ignore[attr-defined]
    a = el.SliceCondition("road_type", "urban", loc)
    b = el.SliceCondition("light", "night", loc)
    assert el.slice_key((a, b)) == el.slice_key((b, a)) == "[light=night,road_type=urban]"
    assert el.slice_key(()) == ""


def test_aeb_odd_has_24_cells() -> None:
    checked = check([AEB])
    assert checked.model is not None
    odd = checked.model.components["aeb.AEB"].odd
    assert odd is not None
    assert len(odd_cells(odd)) == 2 * 3 * 2 * 2  # road_type x light x precipitation x actor; speed is a range


def test_aeb_sotif_rows_targets_and_scenarios() -> None:
    r = _results(AEB, (str(AEB / "ci-results"),))
    rows = {(x.hazard, x.insufficiency): x for x in r.sotif.rows}
    assert set(rows) == {("H1", "AEB.camera.LowSun"), ("H1", "AEB.perception.MissedDetection"),
                         ("H2", "AEB.perception.GhostObject")}
    assert rows["H1", "AEB.camera.LowSun"].kind == "specification"
    missed = rows["H1", "AEB.perception.MissedDetection"]
    assert missed.kind == "performance"
    assert missed.odd_cells == ("light=night", "precipitation=snow")
    assert "ODD restriction: precipitation=snow is outside the ODD" in missed.measures
    assert "monitor OodMonitor (90 %)" in missed.measures
    assert rows["H2", "AEB.perception.GhostObject"].measures == (
        "redundancy: also needs AEB.radars.fusion.tracks.value",)
    targets = {t.hazard: t for t in r.sotif.targets}
    # k = 1 at 95 %: (1 + x) e^-x = 0.05 gives x = 4.743864518, t = x / 1e-4
    assert targets["H1"].failures == 1
    assert targets["H1"].required == pytest.approx(47438.64518, rel=1e-9)
    assert targets["H1"].status == "met"
    # k = 0 at 95 %: t = -ln(0.05) / 1e-6
    assert targets["H2"].required == pytest.approx(2995732.2735539, rel=1e-12)
    areas = {(s.area, s.scenario): s.status for s in r.sotif.scenarios}
    assert areas[2, "AEB.perception.SnowSpray"] == "restricted"
    assert areas[2, "AEB.perception.DarkClothing"] == "passed"
    assert areas[3, "residual unknown scenarios of H1"] == "passed"


def test_aeb_coverage_flags_exactly_the_thin_cell() -> None:
    r = _results(AEB)
    ver = next(d for d in r.odd_coverage.datasets if d.role == "verification")
    assert [(c.cell, c.samples) for c in ver.flagged] == [
        ("road_type=highway, light=dusk, precipitation=rain, actor=cyclist", 37)]
    assert ver.flagged[0].status == THIN
    train = next(d for d in r.odd_coverage.datasets if d.role == "train")
    assert all(c.status == OK for c in train.cells) and train.outside_odd == 1800
    assert [d.code for d in r.odd_coverage.diagnostics] == ["SOPS130"]


def test_aeb_amlas_argument_has_no_undeveloped_goal_with_its_ci_results() -> None:
    r = _results(AEB, (str(AEB / "ci-results"),))
    case = r.case
    assert case is not None
    ml = case.module_nodes("ML_Perception")
    assert {n.id for n in ml} >= {f"G_ML_Perception_{s}" for s in
                                  ("scope", "reqs", "data", "learning", "verification", "deployment")}
    assert not [n.id for n in ml if case.undeveloped(n.id)]
    judged = [n for n in ml if n.kind in ("goal", "strategy", "solution")]
    assert all(n.status == gsn.PASSED for n in judged), [(n.id, n.status) for n in judged if n.status != gsn.PASSED]


def test_undeveloped_goals_say_what_evidence_develops_them(tmp_path: Path) -> None:
    m = _copy_small(tmp_path)
    text = (m / "ml.sops").read_text(encoding="utf-8").replace(' coverage "cov.json" min 50', "")
    (m / "ml.sops").write_text(text, encoding="utf-8")
    case = _results(m).case
    assert case is not None
    node = case.nodes["G_ML_Det_data_coverage"]
    assert case.undeveloped(node.id)
    assert node.detail.startswith("to develop: count the verification data per ODD cell")


def test_empty_cell_fails_the_coverage_and_a_digest_change_is_refused(tmp_path: Path) -> None:
    m = _copy_small(tmp_path)
    cov = json.loads((m / "cov.json").read_text(encoding="utf-8"))
    cov["cells"] = cov["cells"][:1]
    (m / "cov.json").write_text(json.dumps(cov), encoding="utf-8")
    r = _results(m)
    assert [c.status for c in r.odd_coverage.datasets[0].cells] == [OK, EMPTY]
    assert r.case is not None and r.case.nodes["Sn_ML_Det_coverage_ver_1"].status == gsn.FAILED
    cov["sha256"] = "b" * 64
    (m / "cov.json").write_text(json.dumps(cov), encoding="utf-8")
    r = _results(m)
    assert not r.odd_coverage.datasets and r.odd_coverage.refused
    assert [d.code for d in r.odd_coverage.diagnostics] == ["SOPS129"]


def test_a_recount_moves_the_matrix_in_the_diff(tmp_path: Path) -> None:
    old = _results(_copy_small(tmp_path / "a"))
    m = _copy_small(tmp_path / "b")
    (m / "cov.json").write_text((m / "cov.json").read_text(encoding="utf-8").replace('"samples": 120',
                                                                                      '"samples": 30'),
                                encoding="utf-8")
    new = _results(m)
    deltas = result_deltas(old, new, [], [])
    cells = deltas.sections["odd_coverage"]["cells"]
    assert [(c.key, [(f.field, f.old, f.new) for f in c.fields]) for c in cells] == [
        ("g.Det verification ver-1: light=night, road_type=urban", [("samples", "120", "30"), ("status", "ok", "thin")])]
    assert "datasets" in deltas.sections["odd_coverage"]


def test_validation_target_follows_the_reported_failures(tmp_path: Path) -> None:
    m = _copy_small(tmp_path)
    (m / "results" / "metrics.json").write_text(json.dumps(
        {"recall[light=day]": 0.995, "recall[light=night]": 0.992, "val": {"n": 4000, "k": 1}}), encoding="utf-8")
    t = _results(m, (str(m / "results"),)).sotif.targets[0]
    assert t.failures == 1 and t.required == pytest.approx(required_exposure(1e-3, 0.95, 1))
    assert t.status == "not met"  # 4000 < 4743.9


def test_xlsx_is_deterministic_and_holds_every_sheet() -> None:
    report = _results(AEB, (str(AEB / "ci-results"),)).sotif
    a, b = sotif_report.render(report, "xlsx"), sotif_report.render(report, "xlsx")
    assert isinstance(a, bytes) and a == b
    wb = load_workbook(io.BytesIO(a))
    assert wb.sheetnames[:5] == ["SOTIF", "Validation targets", "Scenarios", "ODD coverage", "Metric slices"]
    assert wb["ODD coverage"].max_row == 1 + 48
