"""Golden tests: every folder tests/golden/<case>/ is one CLI run, compared whole-file with expected/.

A case folder holds:
  cmd            the sops arguments, one line, shell-quoted; paths are relative to the case folder;
                 `{out}` stands for a fresh output folder (files written there are compared too)
  <inputs>       models, XML, result files
  expected/      stdout (stdout + stderr as the CLI prints them), exit_code, and out/<file> for each
                 file the command writes into {out}
  empty_dirs     optional: folders (one per line, relative to the case folder) created before the run, for
                 inputs that need an empty folder git cannot hold (an MLflow file store's run without metrics)
  missing_modules  optional: Python modules (one per line) that cannot be imported during the run, as on a
                 machine without an optional extra (pyganak for `sops fta --model-count`)
Run `pytest --update-golden` to rewrite expected/ from the actual output, then review the diff like code.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from safetyops_dsl.cli.main import cli

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "cmd").is_file()) if GOLDEN.is_dir() else []


def _run_case(case_dir: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    args = shlex.split((case_dir / "cmd").read_text(encoding="utf-8").strip())
    args = [a.replace("{out}", "out") for a in args]
    listed = case_dir / "empty_dirs"
    if listed.is_file():
        for line in listed.read_text(encoding="utf-8").split():
            (case_dir / line).mkdir(parents=True, exist_ok=True)
    missing = case_dir / "missing_modules"
    if missing.is_file():
        for name in missing.read_text(encoding="utf-8").split():
            monkeypatch.setitem(sys.modules, name, None)  # `import name` then raises ImportError
    old = os.getcwd()
    os.chdir(case_dir)
    try:
        if Path("out").exists():
            shutil.rmtree("out")
        runner = CliRunner()
        result = runner.invoke(cli, args, catch_exceptions=False, env={"COLUMNS": "100", "NO_COLOR": "1"})
        if Path("out").exists():
            shutil.copytree("out", out_dir, dirs_exist_ok=True)
            shutil.rmtree("out")
    finally:
        os.chdir(old)
    return result.output, result.exit_code


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, tmp_path: Path, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    case_dir = GOLDEN / case
    out_dir = tmp_path / "out"
    stdout, code = _run_case(case_dir, out_dir, monkeypatch)
    expected = case_dir / "expected"
    actual_files = {"stdout": stdout, "exit_code": f"{code}\n"}
    if out_dir.exists():
        for f in sorted(out_dir.rglob("*")):
            if f.is_file() and f.suffix != ".svg":  # SVG bytes vary with the Graphviz version
                actual_files[f"out/{f.relative_to(out_dir).as_posix()}"] = f.read_text(encoding="utf-8")
    if update_golden:
        if expected.exists():
            shutil.rmtree(expected)
        for name, text in actual_files.items():
            path = expected / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return
    assert expected.is_dir(), f"no expected/ in {case_dir}; run pytest --update-golden"
    expected_names = sorted(
        p.relative_to(expected).as_posix() for p in expected.rglob("*") if p.is_file()
    )
    assert expected_names == sorted(actual_files), "the set of output files changed"
    for name in expected_names:
        want = (expected / name).read_text(encoding="utf-8")
        assert actual_files[name] == want, f"{case}: {name} differs from the golden file"
