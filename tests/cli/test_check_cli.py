"""`sops check` as a user runs it: exit codes, formats, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from safetyops_dsl.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("model", sorted(p.name for p in (ROOT / "models").iterdir() if p.is_dir()))
def test_every_example_model_passes_strict(model: str) -> None:
    code, out = run("check", "--strict", str(ROOT / "models" / model))
    assert code == 0, out
    assert "0 errors, 0 warnings" in out


def test_exit_codes_and_summary(tmp_path: Path) -> None:
    (tmp_path / "w.sops").write_text('component C "c" {\n    out y\n}\n', encoding="utf-8")
    code, out = run("check", str(tmp_path))
    assert code == 0 and "1 warning" in out and "warning[SOPS030]" in out
    code, out = run("check", "--strict", str(tmp_path))
    assert code == 1 and "error[SOPS030]" in out
    (tmp_path / "e.sops").write_text("component {", encoding="utf-8")
    code, out = run("check", str(tmp_path))
    assert code == 1 and "error[SOPS001]" in out
    assert out.strip().splitlines()[-1].startswith("2 files checked: 1 error")


def test_usage_error_exits_2() -> None:
    assert run("check")[0] == 2
    assert run("check", "--format", "xml", "x")[0] == 2
    assert run("no-such-command")[0] == 2


def test_json_format(tmp_path: Path) -> None:
    (tmp_path / "m.sops").write_text('hazard H1 "h" {\n    severity S3 exposure E4 controllability C3\n    asil B\n}\n',
                                     encoding="utf-8")
    code, out = run("check", "--format", "json", str(tmp_path / "m.sops"))
    doc = json.loads(out)
    assert code == 1
    first = doc["diagnostics"][0]
    assert set(first) >= {"file", "line", "col", "severity", "code", "message"}
    # sorted by position: the hazard (1:1) before its typed ASIL (3:5)
    assert [d["code"] for d in doc["diagnostics"]] == ["SOPS061", "SOPS070", "SOPS060"]
    assert doc["summary"] == {"files": 1, "errors": 2, "warnings": 1}


def test_brief_is_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "m.sops").write_text('component C "c" {\n    out y\n    y.omission <- Nope\n}\n', encoding="utf-8")
    code, out = run("check", "--brief", str(tmp_path))
    lines = out.strip().splitlines()
    assert code == 1
    assert lines[0].endswith("error[SOPS011]: unknown failure mode 'Nope' in 'C'")
    assert len(lines) == 2  # one diagnostic, the summary


@pytest.mark.parametrize(
    "garbage",
    [b"\x00\x01\x02", b"component " * 5000, b"((((((((" * 2000, "é€😀".encode(), b"}" * 100, b"hazard H {" + b"when a or " * 3000],
)
def test_no_traceback_on_garbage(tmp_path: Path, garbage: bytes) -> None:
    (tmp_path / "g.sops").write_bytes(garbage)
    proc = subprocess.run(
        [sys.executable, "-m", "safetyops_dsl", "check", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "error[SOPS" in proc.stdout


def test_the_model_is_hidden_from_the_collector_while_it_reports_and_shown_again_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from safetyops_dsl.cli import check_cmd

    (tmp_path / "w.sops").write_text('component C "c" {\n    out y\n}\n', encoding="utf-8")
    frozen_while_reporting: list[int] = []
    report = check_cmd._report

    def watched(*args: object) -> None:
        frozen_while_reporting.append(gc.get_freeze_count())
        report(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(check_cmd, "_report", watched)
    code, out = run("check", str(tmp_path))
    assert code == 0 and "1 warning" in out
    assert frozen_while_reporting and frozen_while_reporting[0] > 0  # the model was frozen before the report
    assert gc.get_freeze_count() == 0  # and nothing stays frozen for a caller in the same process
