"""`sops build` on the command line: exit codes, messages, up to date, --check."""

from __future__ import annotations

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


def test_quiet_in_ci(built: Path) -> None:
    result = CliRunner().invoke(cli, ["build", str(built / "model"), "-o", str(built / "site")], env={"CI": "1"})
    assert "fault trees" not in result.output  # no phase lines


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
