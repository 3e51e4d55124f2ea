"""Replays every crash input kept in regressions/ (see regressions/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import REGRESSIONS, assert_diagnostics_positioned, check_bytes, run_cli, run_pipeline, time_limit
from test_fuzz_openpsa import load_and_analyse
from test_fuzz_results import _trace

FILES = sorted(p for p in REGRESSIONS.rglob("*") if p.is_file() and p.name != "README.md")
# file name -> diagnostic code the input must produce (beyond "no exception")
EXPECT = {"deep-hierarchy-200.sops": "SOPS008", "huge-int-metric.json": "SOPS202"}


def test_there_are_regression_inputs() -> None:
    assert len(FILES) >= 4, FILES


@pytest.mark.parametrize("path", [pytest.param(p, id=p.relative_to(REGRESSIONS).as_posix()) for p in FILES])
def test_regression(path: Path) -> None:
    data = path.read_bytes()
    kind = path.relative_to(REGRESSIONS).parts[0]
    if kind == "sops":
        with time_limit():
            checked = check_bytes(data)
            assert_diagnostics_positioned(checked)
            if checked.ok:
                run_pipeline(checked.model)
        if path.name in EXPECT:
            assert EXPECT[path.name] in {d.code for d in checked.diagnostics}
    elif kind == "openpsa":
        load_and_analyse(data)
        proc = run_cli(["fta", str(path)])  # through the CLI too: a diagnostic, never "internal error"
        assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    elif kind == "results":
        _trace({f"r{path.suffix}": data})
        if path.name in EXPECT:
            from safetyops_dsl.analysis.evidence import read_results
            assert EXPECT[path.name] in {d.code for d in read_results([path]).diagnostics}
    else:
        pytest.fail(f"unknown regression folder {kind}")
