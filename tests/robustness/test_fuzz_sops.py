"""Grammar-shaped fuzzing of the .sops front end and everything behind it.

Every generated model gets diagnostics (errors with a code, a position and a renderable source line) or
results: the valid ones go through synthesis, the BDD/ZDD engine (bounded), FMEA/FMEDA/HARA, trace and
every table/report generator. Nothing may raise but the documented DiagnosticError (a resource limit), and
nothing may run longer than harness.HANG_SECONDS. A few models also go through the real CLI in a
subprocess: no "Traceback", no exit status 3, no timeout.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from harness import (
    assert_diagnostics_positioned,
    check_bytes,
    fuzz,
    run_cli,
    run_pipeline,
    save_crash,
    time_limit,
)
from hypothesis import given
from hypothesis import strategies as st
from strategies import models, near_miss


def _exercise(text: str) -> tuple[bool, dict[str, int]]:
    data = text.encode("utf-8", "surrogatepass")
    try:
        with time_limit():
            checked = check_bytes(data)
            assert_diagnostics_positioned(checked)
            if not checked.ok:
                return False, {}
            return True, run_pipeline(checked.model)
    except BaseException:
        save_crash("sops", data, ".sops")
        raise


@fuzz(40)
@given(models())
def test_generated_models_give_diagnostics_or_results(text: str) -> None:
    _exercise(text)


@fuzz(50)
@given(near_miss())
def test_near_miss_models_give_diagnostics_or_results(text: str) -> None:
    _exercise(text)


def test_the_generator_reaches_the_engine() -> None:
    """The strategy is not degenerate: a good share of its models is valid and has analysable trees, so the
    fuzzing above exercises synthesis and the engine, not only the parser's error path."""
    seen = {"models": 0, "valid": 0, "trees": 0, "analysed": 0}

    @fuzz(40)
    @given(models())
    def sample(text: str) -> None:
        ok, stats = _exercise(text)
        seen["models"] += 1
        seen["valid"] += ok
        for k in ("trees", "analysed"):
            seen[k] += stats.get(k, 0)

    sample()
    assert seen["valid"] >= 0.15 * seen["models"], seen
    assert seen["analysed"] >= 4, seen


COMMANDS = (
    ["fta"], ["fta", "--format", "json"], ["fmea", "--format", "html"], ["fmeda", "--format", "csv"],
    ["hara", "--format", "md"], ["trace", "--format", "html"],
)


@fuzz(3)
@given(st.one_of(models(), near_miss()), st.sampled_from(COMMANDS))
def test_cli_never_shows_a_traceback(text: str, command: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="sops-fuzz-cli-") as tmp:
        Path(tmp, "m.sops").write_text(text, encoding="utf-8", errors="surrogatepass")
        checked = run_cli(["check", "."], cwd=Path(tmp))
        proc = run_cli([*command, "."], cwd=Path(tmp))
        if checked.returncode == 1:  # errors in the model: every command refuses it the same way
            assert proc.returncode == 1 and "error[SOPS" in proc.stderr, proc.stderr
