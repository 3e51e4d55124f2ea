"""`sops build` on the command line: exit codes, messages, up to date, --check."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from safetyops_dsl.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    base = tmp_path_factory.mktemp("cli-build")
    shutil.copytree(ROOT / "models" / "aeb", base / "model")
    result = CliRunner().invoke(cli, ["build", str(base / "model"), "-o", str(base / "site")])
    assert result.exit_code == 0, result.output
    assert "files written" in result.output and "GSN" in result.output
    return base


def test_second_run_is_up_to_date(built: Path) -> None:
    result = CliRunner().invoke(cli, ["build", str(built / "model"), "-o", str(built / "site")])
    assert result.exit_code == 0
    assert "up to date" in result.output


def test_progress_lines_in_ci_and_none_with_quiet(built: Path) -> None:
    """Not a terminal (CI): whole lines with elapsed seconds, stage and count, so a CI log shows where the
    time goes; -q: none."""
    args = ["build", str(built / "model"), "-o", str(built / "site"), "--force"]
    result = CliRunner().invoke(cli, args, env={"CI": "1"})
    assert result.exit_code == 0, result.output
    lines = [x for x in result.output.splitlines() if x.startswith("sops build:")]
    assert any(re.search(r"^sops build: +[0-9.]+ s  diagrams: \d+ to draw, \d+ unchanged done in [0-9.]+ s$", x)
               for x in lines), lines
    assert any(re.search(r"  fault trees 4/4$", x) for x in lines), lines
    quiet = CliRunner().invoke(cli, [*args, "-q"], env={"CI": "1"})
    assert quiet.exit_code == 0 and "sops build:" not in quiet.output


def test_check_passes_then_fails_on_a_stale_file(built: Path) -> None:
    site = built / "site"
    ok = CliRunner().invoke(cli, ["build", "--check", str(site)])
    assert ok.exit_code == 0, ok.output
    page = site / "fmea.html"
    saved = page.read_bytes()
    page.write_bytes(saved + b"<!-- hand edit -->")
    try:
        bad = CliRunner().invoke(cli, ["build", "--check", str(site)])
        assert bad.exit_code == 1
        assert "differs" in bad.output and "fmea.html" in bad.output and "out of date" in bad.output
    finally:
        page.write_bytes(saved)


def test_usage_errors() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["build", str(ROOT / "models" / "aeb")]).exit_code == 2
    assert runner.invoke(cli, ["build", "-o", "x"]).exit_code == 2


def test_model_errors_exit_1(tmp_path: Path) -> None:
    (tmp_path / "bad.sops").write_text("component {\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", str(tmp_path / "bad.sops"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "nothing written" in result.output
    assert not (tmp_path / "out").exists()


def test_foreign_folder_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", str(ROOT / "models" / "aeb"), "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert "not replacing" in result.output
    assert (tmp_path / "notes.txt").exists()


def test_check_without_manifest(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", "--check", str(tmp_path)])
    assert result.exit_code == 1
    assert "manifest.json" in result.output


def test_ci_results_folder_is_read_by_convention(built: Path) -> None:
    gate = json.loads((built / "site" / "exports" / "gate.json").read_text(encoding="utf-8"))
    checks = {(c["check"], c["subject"]): c["status"] for c in gate["checks"]}
    assert checks[("CI results", "15 evidence")] == "pass"  # models/aeb/ci-results/, no --results given
    assert checks[("coverage policy", "evidence_passing")] == "pass"
    trace = (built / "site" / "trace.html").read_text(encoding="utf-8")
    assert "ci-results/metrics.json" in trace and "not_run" not in trace
    # an explicit --results replaces the folder: here a metrics file with a failing recall
    drop = built / "model" / "what-if" / "recall-drop.json"
    out = built / "explicit"
    result = CliRunner().invoke(cli, ["build", str(built / "model"), "-o", str(out), "--results", str(drop)])
    assert result.exit_code == 0, result.output
    gate = json.loads((out / "exports" / "gate.json").read_text(encoding="utf-8"))
    checks = {(c["check"], c["subject"]): c["status"] for c in gate["checks"]}
    assert checks[("coverage policy", "evidence_passing")] == "fail"


def test_single_file(built: Path) -> None:
    out = built / "single"
    args = ["build", str(built / "model"), "-o", str(out), "--single-file"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.count("<svg") >= 5 and 'href="../' not in report
    assert "report.html" in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    assert "up to date" in CliRunner().invoke(cli, args).output
    assert CliRunner().invoke(cli, ["build", "--check", str(out)]).exit_code == 0  # the option is recorded
    assert not (built / "site" / "report.html").exists()  # only when asked
