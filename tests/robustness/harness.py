"""Shared helpers of the robustness suite: budgets, the hang guard, the full pipeline, CLI runs."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import settings

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REGRESSIONS = HERE / "regressions"
SOPS = str(ROOT / ".venv" / "bin" / "sops")
LONG = os.environ.get("SOPS_FUZZ") == "long"
LONG_FACTOR = 25
# Seconds one input may take in-process before it counts as a hang.
HANG_SECONDS = float(os.environ.get("SOPS_FUZZ_HANG", "30"))


def budget(n_ci: int) -> int:
    if os.environ.get("SOPS_FUZZ_EXAMPLES"):
        return int(os.environ["SOPS_FUZZ_EXAMPLES"])
    return n_ci * LONG_FACTOR if LONG else n_ci


def fuzz(n_ci: int) -> settings:
    """Settings for one fuzz test: `n_ci` examples under the ci profile, 25x under SOPS_FUZZ=long."""
    return settings(settings.get_profile("long" if LONG else "ci"), max_examples=budget(n_ci))


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Fail (not wait forever) when the body runs longer than `seconds` (SIGALRM; main thread only)."""

    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no result after {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def save_crash(kind: str, data: bytes, suffix: str) -> Path | None:
    """Keep a crashing input as a regression file (long runs, or SOPS_FUZZ_SAVE=1); CI runs never write."""
    if not (LONG or os.environ.get("SOPS_FUZZ_SAVE")):
        return None
    name = f"{kind}-{hashlib.sha256(data).hexdigest()[:12]}{suffix}"
    path = REGRESSIONS / kind / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def check_folder(folder: Path) -> Any:
    from safetyops_dsl.api import check

    return check([folder], root=folder)


def check_bytes(data: bytes, name: str = "m.sops") -> Any:
    with tempfile.TemporaryDirectory(prefix="sops-fuzz-") as tmp:
        Path(tmp, name).write_bytes(data)
        return check_folder(Path(tmp))


def assert_diagnostics_positioned(checked: Any) -> None:
    """An invalid model is explained: at least one error, each with a file (and a line where a file)."""
    from safetyops_dsl import diagnostics as dg

    if checked.model is None or dg.has_errors(checked.diagnostics):
        errors = [d for d in checked.diagnostics if d.level is dg.Severity.ERROR]
        assert errors, "the model was refused without an error diagnostic"
        for d in errors:
            assert d.code.startswith("SOPS") and d.message, d
            # rendering must work too: that is what the user sees
            dg.render_one(d, checked.sources.get(d.location.file))


def run_pipeline(model: Any, formats: bool = True) -> dict[str, int]:
    """Everything downstream of a valid model: synthesis, the engine (bounded), FMEA/FMEDA/HARA, trace,
    coverage and every generator. Expected refusals are DiagnosticError (a resource limit); anything else
    propagates and fails the test."""
    from safetyops_dsl.generators import openpsa, tables, trace_report

    from safetyops_dsl.analysis.coverage import evaluate
    from safetyops_dsl.analysis.fmea import build_fmea
    from safetyops_dsl.analysis.fmeda import build_fmeda
    from safetyops_dsl.analysis.hara import build_hara
    from safetyops_dsl.analysis.synthesis import synthesise_all
    from safetyops_dsl.analysis.trace import build_trace
    from safetyops_dsl.diagnostics import DiagnosticError
    from safetyops_dsl.fta.engine import analyse
    from safetyops_dsl.fta.result import AnalysisOptions
    from safetyops_dsl.validation.policy import resolve_policy

    stats = {"trees": 0, "analysed": 0, "refused": 0}
    results = synthesise_all(model)
    options = AnalysisOptions(cut_set_limit=50, max_cut_sets=200_000)
    for r in results:
        stats["trees"] += 1
        try:
            res = analyse(r.tree, options)
        except DiagnosticError as exc:
            assert exc.diagnostics, "DiagnosticError without diagnostics"
            stats["refused"] += 1
            continue
        stats["analysed"] += 1
        assert 0.0 <= res.probability <= 1.0 + 1e-9, res.probability
        assert res.cut_set_count >= len(res.cut_sets)
    if results and formats:
        openpsa.write_openpsa([r.tree for r in results])
    fmea, fmeda, hara = build_fmea(model, results), build_fmeda(model, results), build_hara(model)
    tg = build_trace(model, None, use_git=False)
    cov = evaluate(tg, resolve_policy(model.policy))
    if formats:
        for report in (fmea, fmeda, hara):
            for fmt in ("md", "csv", "html", "json", "xlsx"):
                tables.render(report, fmt)
        for fmt in ("md", "csv", "html", "json", "dot"):
            trace_report.render(tg, cov, fmt, title="fuzz")
    return stats


def run_cli(args: list[str], cwd: Path | None = None, timeout: float = 60.0,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `sops ARGS`; a timeout, an exit status 3 (internal error) or a traceback fails the caller."""
    full_env = {**os.environ, "PYTHONHASHSEED": "0", **(env or {})}
    full_env.pop("SOPS_DEBUG", None)
    proc = subprocess.run([SOPS, *args], cwd=cwd, capture_output=True, text=True, errors="replace",
                          timeout=timeout, env=full_env, check=False)
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both, both[-3000:]
    assert "internal error" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode in (0, 1, 2), (proc.returncode, both[-3000:])
    return proc


PY = sys.executable
