"""`sops gate`: one exit code, one table, JSON for machines."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from safetyops_dsl.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
AEB = str(ROOT / "models" / "aeb")
PUMP = str(ROOT / "models" / "insulin_pump")


def test_insulin_pump_fails_on_fmeda() -> None:
    result = CliRunner().invoke(cli, ["gate", PUMP, "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["schema"] == "sops-gate/1.0.0" and doc["passed"] is False
    failed = {(c["check"], c["subject"]) for c in doc["checks"] if c["status"] == "fail"}
    assert ("FMEDA", "PSG1") in failed and ("FMEDA", "PSG2") in failed
    assert all(c["status"] == "pass" for c in doc["checks"] if c["check"] in ("model check", "goal target"))


def test_aeb_passes_everything_but_the_safety_case() -> None:
    result = CliRunner().invoke(cli, ["gate", AEB])
    lines = result.output.splitlines()
    assert lines[0].split() == ["check", "subject", "result", "detail"]
    failing = [line for line in lines if " FAIL " in f" {line} "]
    assert all(line.startswith("GSN") for line in failing), failing
    assert result.exit_code == (1 if failing else 0)


def test_results_are_judged() -> None:
    results = str(ROOT / "tests" / "fixtures" / "trace" / "results_aeb")
    doc = json.loads(CliRunner().invoke(cli, ["gate", AEB, "--results", results, "--format", "json"]).output)
    checks = {(c["check"], c["subject"]): c for c in doc["checks"]}
    assert checks[("CI results", "15 evidence")]["status"] == "pass"
    assert "evidence_passing" in {s for _, s in checks}


def test_model_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.sops").write_text("component {\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["gate", str(tmp_path / "bad.sops")])
    assert result.exit_code == 1
    assert "model check" in result.output and "FAIL" in result.output
