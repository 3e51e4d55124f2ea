"""The trace graph, the coverage policy and the trace reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from safetyops_dsl.generators import trace_report

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.analysis import evidence as ev
from safetyops_dsl.analysis.coverage import evaluate
from safetyops_dsl.analysis.trace import build_trace, rollup
from safetyops_dsl.api import check
from safetyops_dsl.cli.main import cli
from safetyops_dsl.diagnostics import Location
from safetyops_dsl.model.elements import PolicyRule
from safetyops_dsl.validation.policy import resolve_policy

ROOT = Path(__file__).resolve().parents[3]
AEB = ROOT / "models" / "aeb"
FIXTURES = ROOT / "tests" / "fixtures" / "trace"


@pytest.fixture(scope="module")
def aeb():
    checked = check([AEB])
    assert checked.ok and checked.model is not None
    return build_trace(checked.model, ev.read_results([FIXTURES / "results_aeb"]), use_git=False)


def test_graph_links_every_layer(aeb) -> None:
    g = aeb.graph
    assert g.edges["hazard:aeb.H1", "safety_goal:aeb.SG1"]["rel"] == "mitigated_by"
    assert g.edges["safety_goal:aeb.SG1", "requirement:aeb.FSR2"]["rel"] == "refined_by"
    assert g.edges["requirement:aeb.FSR3", "requirement:aeb.TSR1"]["rel"] == "refined_by"
    assert g.edges["requirement:aeb.FSR2", "part:AEB.radars"]["rel"] == "allocated_to"
    assert g.edges["component:aeb.Radar", "part:AEB.radars.main"]["rel"] == "instantiated_as"
    assert g.edges["part:AEB.radars", "part:AEB.radars.main"]["rel"] == "contains"
    assert g.edges["part:AEB.radars.main", "failure_mode:AEB.radars.main.NoEcho"]["rel"] == "has_failure"
    assert g.edges["mechanism:AEB.ecu.Watchdog", "failure_mode:AEB.ecu.CanTxLoss"]["rel"] == "covers"
    assert g.edges["requirement:aeb.FSR3", "evidence:aeb.TST_WD"]["rel"] == "verified_by"
    assert g.edges["hazard:aeb.H1", "evidence:aeb.REV_HARA"]["rel"] == "supported_by"
    assert g.edges["component:aeb.Perception", "metric:recall.night_pedestrian"]["rel"] == "has_metric"
    assert g.edges["metric:recall.night_pedestrian", "evidence:aeb.MET_REC"]["rel"] == "measured_by"
    # fault-tree membership: the ghost object is in H2's cut sets, not in H1's
    assert g.has_edge("hazard:aeb.H2", "failure_mode:AEB.perception.GhostObject")
    assert not g.has_edge("hazard:aeb.H1", "failure_mode:AEB.perception.GhostObject")
    assert g.has_edge("hazard:aeb.H1", "failure_mode:AEB.perception.MissedDetection")


def test_requirement_queries(aeb) -> None:
    assert aeb.hazards_of_requirement("requirement:aeb.TSR1") == ["hazard:aeb.H1"]
    # misalignment is under the radar allocation but not in H1's cut sets
    assert aeb.requirement_failure_modes("requirement:aeb.FSR2") == [
        "failure_mode:AEB.radars.aux.NoEcho", "failure_mode:AEB.radars.fusion.FusionSwFault",
        "failure_mode:AEB.radars.main.NoEcho",
    ]
    assert aeb.requirement_status("requirement:aeb.FSR3") == "verified"
    assert aeb.requirement_status("requirement:aeb.FSR2") == "failed"
    assert aeb.requirement_status("requirement:aeb.FSR4") == "incomplete"


def _st(status: str, stale: bool = False) -> ev.EvidenceStatus:
    return ev.EvidenceStatus("m.E", "test", status, "", stale, "")


def test_rollup() -> None:
    assert rollup([]) == "no_evidence"
    assert rollup([_st("passed"), _st("recorded")]) == "verified"
    assert rollup([_st("passed"), _st("passed", stale=True)]) == "stale"
    assert rollup([_st("passed", stale=True), _st("failed")]) == "failed"
    assert rollup([_st("passed"), _st("missing")]) == "incomplete"
    assert rollup([_st("passed"), _st("not_run")]) == "not_run"


def test_default_policy_on_aeb(aeb) -> None:
    cov = evaluate(aeb, resolve_policy([]))
    assert {r.rule: (r.satisfied, r.total) for r in cov.rules} == {
        "hazard_goal": (3, 3), "goal_requirement": (3, 3), "requirement_allocation": (7, 7),
        "requirement_evidence": (7, 7), "evidence_passing": (3, 7), "ml_metric_evidence": (7, 7),
    }
    assert sorted({d.code for d in cov.violations}) == ["SOPS104"]


def _rule(mode: str, rule: str, reason: str = "", line: int = 1) -> PolicyRule:
    return PolicyRule(mode, rule, reason, Location("p.sops", line, 1))


def test_waiver_silences_and_is_recorded(aeb) -> None:
    policy = resolve_policy([_rule("waive", "evidence_passing", "HIL rig arrives in week 40")])
    cov = evaluate(aeb, policy)
    assert cov.violations == []
    rule = cov.rule("evidence_passing")
    assert (rule.required, rule.reason, rule.satisfied) == (False, "HIL rig arrives in week 40", 3)
    assert len(rule.violations) == 4  # still counted for the report


def test_policy_file_overrides_model() -> None:
    policy = resolve_policy([_rule("waive", "hazard_goal", "x")], [_rule("require", "hazard_goal")])
    assert policy.settings["hazard_goal"].required is True


def test_invalid_policies() -> None:
    policy = resolve_policy([_rule("waive", "hazard_goal", "  ")])
    assert [d.code for d in policy.diagnostics] == [dg.POLICY_WAIVER_REASON]
    assert policy.settings["hazard_goal"].required  # a waiver without a reason does not take effect
    policy = resolve_policy([_rule("require", "goal_requirement"), _rule("waive", "goal_requirement", "r", 2)])
    assert [d.code for d in policy.diagnostics] == [dg.POLICY_CONFLICT]


@pytest.mark.parametrize("fmt", trace_report.FORMATS[:-1])
def test_reports_are_deterministic_and_relative(aeb, fmt: str) -> None:
    cov = evaluate(aeb, resolve_policy([]))
    first = trace_report.render(aeb, cov, fmt, "aeb")
    assert first == trace_report.render(aeb, cov, fmt, "aeb")
    assert str(ROOT) not in first


def test_json_report_holds_the_graph(aeb) -> None:
    doc = json.loads(trace_report.to_json(aeb, evaluate(aeb, resolve_policy([]))))
    ids = {n["id"] for n in doc["graph"]["nodes"]}
    assert "failure_mode:AEB.radars.main.NoEcho" in ids
    assert {"from": "hazard:aeb.H1", "rel": "mitigated_by", "to": "safety_goal:aeb.SG1"} in doc["graph"]["edges"]
    assert doc["results_supplied"] is True


HOSTILE = '''package m
component C "<img src=x onerror=alert(1)>" { out o  failure F rate 1 FIT  o.omission <- F }
system S { out o  part c : C  connect c.o -> o }
hazard H "<script>alert('h')</script> | pipe" { severity S3 exposure E4 controllability C3  when o.omission }
safety_goal G "goal" mitigates H
requirement R "=HYPERLINK(\\"http://x\\")" refines G allocated_to c asil D
evidence E test "t.py::<b>x</b>" verifies R
'''


def test_model_text_is_escaped(tmp_path: Path) -> None:
    (tmp_path / "m.sops").write_text(HOSTILE, encoding="utf-8")
    checked = check([tmp_path])
    assert checked.ok, checked.diagnostics
    assert checked.model is not None
    tg = build_trace(checked.model, None)
    cov = evaluate(tg, resolve_policy([]))
    html = trace_report.to_html(tg, cov)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>x</b>" not in html
    md = trace_report.to_markdown(tg, cov)
    assert "<script>" not in md and "\\| pipe" in md
    csv_text = trace_report.to_csv(tg)
    assert "'=HYPERLINK" in csv_text


def test_cli_gate(tmp_path: Path) -> None:
    runner = CliRunner()
    plain = runner.invoke(cli, ["trace", str(AEB), "--results", str(FIXTURES / "results_aeb"), "--no-git"])
    assert plain.exit_code == 0, plain.output
    assert "warning[SOPS104]" in plain.output
    gated = runner.invoke(cli, ["trace", str(AEB), "--results", str(FIXTURES / "results_aeb"), "--no-git", "--gate",
                                "-o", str(tmp_path / "t.md")])
    assert gated.exit_code == 1
    assert "error[SOPS104]" in gated.output
    assert (tmp_path / "t.md").read_text(encoding="utf-8").startswith("# Trace report: aeb")
    clean = runner.invoke(cli, ["trace", str(AEB), "--gate", "--format", "json"])
    assert clean.exit_code == 0, clean.output  # without results nothing fails


def test_cli_superseded_validation_errors_do_not_block(tmp_path: Path) -> None:
    """SOPS061 (an error in `sops check`) becomes the policy's SOPS100, which a waiver silences."""
    model = HOSTILE.replace('safety_goal G "goal" mitigates H', 'safety_goal G "goal"')
    (tmp_path / "m.sops").write_text(model, encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(cli, ["trace", str(tmp_path), "--gate"])
    assert res.exit_code == 1 and "[SOPS100]" in res.output and "SOPS061" not in res.output
    (tmp_path / "m.sops").write_text(model + 'policy { waive hazard_goal "item definition pending" }\n',
                                     encoding="utf-8")
    res = runner.invoke(cli, ["trace", str(tmp_path), "--gate"])
    assert res.exit_code == 0, res.output
    assert "WAIVED: item definition pending" in res.output
