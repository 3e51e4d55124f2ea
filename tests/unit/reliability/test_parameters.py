"""Named parameters: values and units, failure modes over parameters, the formatter, the diff and the
Open-PSA `define-parameter` round trip."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from safetyops_dsl.generators.openpsa import write_openpsa

from safetyops_dsl.analysis.pipeline import analyse
from safetyops_dsl.analysis.synthesis import synthesise_all
from safetyops_dsl.api import check
from safetyops_dsl.fmt import format_text
from safetyops_dsl.fta.openpsa import load_openpsa

HEADER = """package demo
mission_time 1000 h
"""

SYSTEM = """
system S {
    out o
    failure a rate lam
    failure b rate 2 * lam + 100 FIT
    failure c probability lam * T
    o.omission <- a and b or c
}
hazard H "h" {
    severity S3 exposure E4 controllability C3
    system S
    when o.omission
}
safety_goal G "g" mitigates H
"""


def checked(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    (tmp_path / "m.sops").write_text(text, encoding="utf-8")
    return check([tmp_path])


def errors(c) -> list[tuple[str, int, str]]:  # type: ignore[no-untyped-def]
    return [(d.code, d.location.line, d.message) for d in c.diagnostics if d.level.value == "error"]


def test_parameters_evaluate_with_units_and_feed_failure_modes(tmp_path: Path) -> None:
    c = checked(tmp_path, HEADER + "parameter lam = 2e-6 per h\nparameter T = 1 y\n" + SYSTEM)
    assert not errors(c)
    assert c.model is not None
    assert c.model.parameter_values == {"demo.T": (8760.0, 1), "demo.lam": (2e-6, -1)}
    fms = {f.name: f for f in c.model.components["demo.S"].failure_modes}
    assert fms["a"].rate_per_hour == 2e-6
    assert math.isclose(fms["b"].rate_per_hour or 0.0, 4.1e-6, rel_tol=1e-12)
    assert math.isclose(fms["c"].probability or 0.0, 2e-6 * 8760, rel_tol=1e-12)
    # the files hold the evaluated components too: every reader sees one model
    (f,) = c.model.files
    assert f.components[0] is c.model.components["demo.S"]


@pytest.mark.parametrize(
    ("params", "code", "line", "words"),
    [
        ("parameter lam = 2e-6 per h + 1 h\nparameter T = 1 y\n", "SOPS161", 3, "adds a rate (per h) and a time"),
        ("parameter lam = T / 0\nparameter T = 1 y\n", "SOPS162", 3, "divides by zero"),
        ("parameter lam = lam2\nparameter lam2 = 2 * lam\nparameter T = 1 y\n", "SOPS160", 3, "in terms of itself"),
        ("parameter lam = 2e-6\nparameter T = 1 y\n", "SOPS161", 8, "is a pure number, not a rate"),
        ("parameter lam = 2e-6 per h\nparameter T = 1 y\nparameter unused = lamm\n", "SOPS011", 5, "lamm"),
        ("parameter lam = 2e-6 per h\nparameter T = 1000 y\n", "SOPS037", 10, "outside 0..1"),
    ],
)
def test_bad_parameters_are_positioned_errors(tmp_path: Path, params: str, code: str, line: int, words: str) -> None:
    got = errors(checked(tmp_path, HEADER + params + SYSTEM))
    assert any(c == code and ln == line and words in m for c, ln, m in got), got


def test_the_formatter_keeps_expressions_and_is_idempotent() -> None:
    text = HEADER + "parameter lam = (2e-6 per h + 1 FIT)*3 /2 \"rate\"\nparameter T = 1 y\n" + SYSTEM
    once = format_text(text)
    assert "parameter lam = (2e-6 per h + 1 FIT) * 3 / 2 \"rate\"" in once
    assert format_text(once) == once


def test_a_parameter_change_moves_the_rates_and_the_results(tmp_path: Path) -> None:
    from safetyops_dsl.analysis.diff import Side, diff_sides

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "m.sops").write_text(HEADER + "parameter lam = 2e-6 per h\nparameter T = 1 y\n" + SYSTEM)
    (b / "m.sops").write_text(HEADER + "parameter lam = 3e-6 per h\nparameter T = 1 y\n" + SYSTEM)
    ca, cb = check([a]), check([b])
    d = diff_sides(Side(ca.model, tuple(ca.diagnostics)), Side(cb.model, tuple(cb.diagnostics)))
    changed = {(c.kind, c.key): c for c in d.changes}
    assert ("parameter", "demo.lam") in changed
    fields = {f.field: (f.old, f.new) for f in changed["parameter", "demo.lam"].fields}
    assert fields["evaluates to"] == ("2e-06 per h", "3e-06 per h")
    assert {("failure_mode", "a"), ("failure_mode", "b"), ("failure_mode", "c")} <= set(changed)
    (h,) = d.hazards
    assert h.name == "H" and h.p_old is not None and h.p_new is not None and h.p_new > h.p_old


def test_define_parameter_round_trip_and_scram_agree(tmp_path: Path, scram: str) -> None:
    import subprocess
    import xml.etree.ElementTree as ET

    c = checked(tmp_path, HEADER + "parameter lam = 2e-6 per h\nparameter T = 1 y\n" + SYSTEM)
    assert c.model is not None
    (syn,) = synthesise_all(c.model)
    xml = write_openpsa([syn.tree])
    assert '<define-parameter name="demo_lam" unit="hours-1">' in xml
    assert '<parameter name="demo_lam"/>' in xml
    path = tmp_path / "t.xml"
    path.write_text(xml)
    (back,) = load_openpsa([str(path)], 1000.0)
    for name, event in syn.tree.basic_events.items():
        assert math.isclose(back.basic_events[name.replace(".", "_")].probability, event.probability, rel_tol=1e-14), name
    report = tmp_path / "r.xml"
    subprocess.run([scram, str(path), "--probability", "true", "--mission-time", "1000", "-o", str(report)],
                   check=True, capture_output=True)
    p = float(ET.parse(report).getroot().find(".//sum-of-products").get("probability"))  # type: ignore[union-attr]
    ours = analyse(c.model).probabilities()["H"][0]
    assert math.isclose(p, ours, rel_tol=1e-5)  # SCRAM prints 6 significant digits
