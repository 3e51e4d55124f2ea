"""Every registered diagnostic code is exercised by a golden case, and documented if the docs page exists.

A new `_code(...)` line in safetyops_dsl/diagnostics.py without a golden case whose expected output shows
`[SOPSnnn]` fails here, so that no code ships untested (and none is left registered but unreachable unnoticed).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from safetyops_dsl import diagnostics

TESTS = Path(__file__).resolve().parent.parent
GOLDEN = TESTS / "golden"
DOCS = TESTS.parent / "docs" / "diagnostics.md"

ALL_CODES = [info.code for info in diagnostics.all_codes()]
# SOPS2xx belong to the exchange formats (Open-PSA XML, CI result files); they are covered by `fta_*` golden
# cases written by another engineer, not by `check_*` cases.
EXCHANGE_CODES = [c for c in ALL_CODES if c.startswith("SOPS2")]
MODEL_CODES = [c for c in ALL_CODES if not c.startswith("SOPS2")]


def _golden_outputs(prefix: str = "") -> dict[str, str]:
    """case name -> expected/stdout text, for every golden case whose name starts with `prefix`."""
    if not GOLDEN.is_dir():
        return {}
    out = {}
    for case in sorted(GOLDEN.iterdir()):
        stdout = case / "expected" / "stdout"
        if case.name.startswith(prefix) and (case / "cmd").is_file() and stdout.is_file():
            out[case.name] = stdout.read_text(encoding="utf-8")
    return out


def _cases_showing(code: str, outputs: dict[str, str]) -> list[str]:
    return [name for name, text in outputs.items() if f"[{code}]" in text or f'"code": "{code}"' in text]


def test_registry_is_well_formed() -> None:
    assert ALL_CODES, "no diagnostic codes registered"
    assert len(ALL_CODES) == len(set(ALL_CODES))
    for code in ALL_CODES:
        assert re.fullmatch(r"SOPS\d{3}", code), code


@pytest.mark.parametrize("code", MODEL_CODES)
def test_code_has_golden_case(code: str) -> None:
    outputs = _golden_outputs()
    assert _cases_showing(code, outputs), (
        f"{code} ({diagnostics.code_info(code).title}) appears in no tests/golden/*/expected/stdout; "
        f"add a case tests/golden/check_{code.lower()}_<what>/ that triggers it"
    )


def test_code_has_case_named_after_it() -> None:
    """The `check_sopsNNN_*` case of a code shows that code (not only some other one)."""
    outputs = _golden_outputs("check_sops")
    for name, text in outputs.items():
        code = "SOPS" + name[len("check_sops") : len("check_sops") + 3]
        if code in ALL_CODES:
            assert f"[{code}]" in text or f'"code": "{code}"' in text, f"{name} does not show {code}"


@pytest.mark.parametrize("code", EXCHANGE_CODES)
def test_exchange_code_has_golden_case(code: str) -> None:
    outputs = _golden_outputs("")
    assert _cases_showing(code, outputs), f"{code} appears in no tests/golden/*/expected/stdout"


@pytest.mark.parametrize("code", ALL_CODES)
def test_code_is_documented(code: str) -> None:
    if not DOCS.is_file():
        pytest.skip("docs/diagnostics.md does not exist")
    assert code in DOCS.read_text(encoding="utf-8"), f"{code} is not mentioned in docs/diagnostics.md"
