"""The fault-injection loop end to end: model -> `sops inject` -> the generated pytest campaign run against the
AEB's simulated mechanisms -> JUnit results -> FMEDA with measured coverage -> gate, and the gate catching a
mechanism that detects too late."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from safetyops_dsl.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
AEB = ROOT / "models" / "aeb"
RUN = AEB / "injection" / "run.py"
SHIPPED = AEB / "ci-results" / "injection.xml"


def sops(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def run_campaign(out: Path, degrade: str = "") -> int:
    done = subprocess.run([sys.executable, str(RUN), "-o", str(out), "--degrade", degrade],
                          capture_output=True, text=True, timeout=300, check=False)
    assert out.is_file(), done.stdout + done.stderr
    return done.returncode


def test_shipped_campaign_module_is_what_sops_inject_writes(tmp_path: Path) -> None:
    out = tmp_path / "test_campaign.py"
    code, _ = sops("inject", str(AEB), "--format", "pytest", "-o", str(out))
    assert code == 0
    assert out.read_text(encoding="utf-8") == (AEB / "injection" / "test_campaign.py").read_text(encoding="utf-8")


def test_skeleton_without_a_hook_skips_every_case_with_the_reason(tmp_path: Path) -> None:
    module = tmp_path / "test_campaign.py"
    assert sops("inject", str(AEB), "--format", "pytest", "-o", str(module))[0] == 0
    env = {k: v for k, v in os.environ.items() if k != "SOPS_INJECTION_HOOK"}
    done = subprocess.run([sys.executable, "-m", "pytest", str(module), "-rs", "-p", "no:cacheprovider", "-o",
                           "addopts=", "--rootdir", str(tmp_path)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300, check=False)
    assert "14 skipped" in done.stdout and " passed" not in done.stdout, done.stdout
    assert "no injection hook: fill in inject() or set SOPS_INJECTION_HOOK" in done.stdout


def test_the_loop_reproduces_the_shipped_results_and_passes_the_gate(tmp_path: Path) -> None:
    out = tmp_path / "injection.xml"
    assert run_campaign(out) == 0
    assert out.read_bytes() == SHIPPED.read_bytes()  # the same run gives the same bytes
    code, text = sops("fmeda", str(AEB), "--campaign-results", str(out), "--gate")
    assert code == 0, text
    assert "## Diagnostic coverage measured by fault injection" in text
    assert "| `Perception.OodMonitor` | 90 | 1 | 1 | 100 | 98 | 0 | 98 | 93.83 | 95 | yes | supported |" in text
    code, text = sops("gate", str(AEB), "--campaign-results", str(out), "--format", "json")
    doc = json.loads(text)
    injection = [c for c in doc["checks"] if c["check"] == "fault injection"]
    assert code == 0 and len(injection) == 10 and all(c["status"] == "pass" for c in injection)


def test_gate_fails_on_a_late_detection(tmp_path: Path) -> None:
    out = tmp_path / "injection.xml"
    assert run_campaign(out, degrade="Watchdog") == 1  # the campaign's own test fails too
    code, text = sops("gate", str(AEB), "--campaign-results", str(out))
    assert code == 1
    assert "warning[SOPS233]: claimed coverage of 'BrakeECU.Watchdog' is not supported" in text
    failing = [" ".join(line.split()) for line in text.splitlines() if " FAIL " in line]  # columns vary in width
    assert failing == ["fault injection BrakeECU.Watchdog FAIL measured 0 % (0/299), >= 0 % at "
                       "95 %, claim 99 %: not supported"]


def test_gate_fails_on_a_missed_detection(tmp_path: Path) -> None:
    rows = [{"id": "AEB.ecu.CPUFault/Lockstep", "injected": 299, "detected": 298, "detection_time_ms": 0.9}]
    path = tmp_path / "lockstep.json"
    path.write_text(json.dumps({"schema": "sops-injection-results/1.0.0", "results": rows}))
    shipped = tmp_path / "rest.xml"
    lines = [ln for ln in SHIPPED.read_text().splitlines() if "CPUFault/Lockstep" not in ln]
    shipped.write_text("\n".join(lines) + "\n")
    code, text = sops("gate", str(AEB), "--campaign-results", str(shipped), "--campaign-results", str(path))
    assert code == 1
    assert "BrakeECU.Lockstep FAIL measured 99.67 % (298/299), >= 98.42 % at 95 %, claim 99 %" in " ".join(text.split())


def _aeb_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "aeb"
    shutil.copytree(AEB, copy, ignore=shutil.ignore_patterns("injection", "__pycache__"))
    (copy / "ci-results" / "injection.xml").unlink()
    return copy


def test_policy_requires_or_waives_the_campaign(tmp_path: Path) -> None:
    model = _aeb_copy(tmp_path)
    code, text = sops("gate", str(model))
    assert code == 0 and "fault injection mechanisms SKIP" in " ".join(text.split())  # not required by default
    require = tmp_path / "require.sops"
    require.write_text("policy {\n    require injection_coverage\n}\n")
    code, text = sops("gate", str(model), "--policy", str(require))
    assert code == 1 and text.count("no campaign results (required by the policy)") == 10
    waive = tmp_path / "waive.sops"
    waive.write_text('policy {\n    waive injection_coverage "bench not ready before sample B"\n}\n')
    degraded = tmp_path / "late.xml"
    run_campaign(degraded, degrade="Watchdog")
    code, text = sops("gate", str(model), "--policy", str(waive), "--campaign-results", str(degraded))
    assert code == 0 and "SKIP    waived: bench not ready before sample B" in text


def test_diff_shows_the_measurement_change(tmp_path: Path) -> None:
    old = _aeb_copy(tmp_path / "old")
    shutil.copy(SHIPPED, old / "ci-results" / "injection.xml")
    new = _aeb_copy(tmp_path / "new")
    run_campaign(new / "ci-results" / "injection.xml", degrade="Watchdog")
    code, text = sops("diff", str(old), str(new))
    assert "Fault-injection campaign" in text
    assert "`BrakeECU.Watchdog` changed:" in text and "verdict `supported` → `not supported`" in text
    assert "fault injection: BrakeECU.Watchdog" in text  # newly failing gate item


def test_build_reads_and_fingerprints_the_shipped_campaign(tmp_path: Path) -> None:
    model = _aeb_copy(tmp_path)
    shutil.copy(SHIPPED, model / "ci-results" / "injection.xml")
    out = tmp_path / "out"
    code, text = sops("build", str(model), "-o", str(out), "-q")
    assert code == 0, text
    manifest = json.loads((out / "manifest.json").read_text())
    assert any(k.endswith("ci-results/injection.xml") for k in manifest["inputs"]["files"]), manifest.keys()
    assert "Diagnostic coverage measured by fault injection" in (out / "fmeda.html").read_text()


@pytest.mark.parametrize("fmt", ["json", "pytest"])
def test_inject_refuses_a_model_with_errors(tmp_path: Path, fmt: str) -> None:
    bad = tmp_path / "bad.sops"
    bad.write_text("component X {\n")
    out = tmp_path / "campaign"
    code, text = sops("inject", str(bad), "--format", fmt, "-o", str(out))
    assert code == 1 and "error[SOPS001]" in text and not out.exists()
