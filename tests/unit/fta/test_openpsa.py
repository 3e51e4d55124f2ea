"""Open-PSA import/export: diagnostics with positions, connectives SCRAM rejects, round trip, SCRAM validation."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest
from safetyops_dsl.generators.openpsa import write_openpsa

from safetyops_dsl.diagnostics import OPENPSA_ERROR, UNREADABLE, XML_ERROR, DiagnosticError
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.openpsa import load_openpsa
from safetyops_dsl.fta.result import AnalysisOptions

HEAD = '<?xml version="1.0"?>\n<opsa-mef>\n<define-fault-tree name="FT">\n'
TAIL = "</define-fault-tree>\n</opsa-mef>\n"


def write(tmp_path: Path, body: str, name: str = "m.xml") -> str:
    p = tmp_path / name
    p.write_text(HEAD + body + TAIL, encoding="utf-8")
    return str(p)


def errors(paths: list[str]) -> list[tuple[str, int, int, str]]:
    with pytest.raises(DiagnosticError) as info:
        load_openpsa(paths)
    return [(d.code, d.location.line, d.location.col, d.message) for d in info.value.diagnostics]


def test_undefined_event_is_positioned(tmp_path: Path) -> None:
    path = write(tmp_path, '<define-gate name="top">\n  <or>\n    <basic-event name="A"/>\n    <event name="B"/>\n  </or>\n</define-gate>\n<define-basic-event name="A"><float value="0.1"/></define-basic-event>\n')
    [(code, line, col, msg)] = errors([path])
    assert (code, line, col) == (OPENPSA_ERROR, 7, 5)
    assert "undefined event 'B'" in msg


def test_cycle_is_diagnosed(tmp_path: Path) -> None:
    path = write(tmp_path, '<define-gate name="a"><or><gate name="b"/><basic-event name="x"/></or></define-gate>\n<define-gate name="b"><and><gate name="a"/><basic-event name="x"/></and></define-gate>\n<define-basic-event name="x"><float value="0.5"/></define-basic-event>\n')
    [(code, _, _, msg)] = errors([path])
    assert code == OPENPSA_ERROR and "cyclic gates: a -> b -> a" in msg


def test_malformed_xml_and_entity_bomb(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<opsa-mef>\n  <define-fault-tree name='x'>\n</opsa-mef>\n", encoding="utf-8")
    [(code, line, _, msg)] = errors([str(bad)])
    assert (code, line) == (XML_ERROR, 3) and "mismatched tag" in msg
    bomb = tmp_path / "bomb.xml"
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    bomb.write_text(f'<?xml version="1.0"?><!DOCTYPE m [{lol}]><opsa-mef>&l9;</opsa-mef>', encoding="utf-8")
    [(code, _, _, msg)] = errors([str(bomb)])
    assert code == XML_ERROR and "entity" in msg
    assert errors([str(tmp_path / "missing.xml")])[0][0] == UNREADABLE


def test_bad_probability_and_unknown_expression(tmp_path: Path) -> None:
    path = write(tmp_path, '<define-gate name="t"><or><basic-event name="a"/><basic-event name="b"/></or></define-gate>\n<define-basic-event name="a"><float value="1.5"/></define-basic-event>\n<define-basic-event name="b"><frobnicate/></define-basic-event>\n')
    msgs = [m for *_, m in errors([path])]
    assert any("outside [0, 1]" in m for m in msgs)
    assert any("unsupported expression <frobnicate>" in m for m in msgs)


def test_ccf_groups_are_refused(corpus: Path) -> None:
    diags = errors([str(corpus / "tests/input/core/beta_factor_ccf.xml")])
    assert diags and all(m == "CCF groups are not supported" for *_, m in diags)


def test_expressions_and_mission_time(tmp_path: Path) -> None:
    path = write(tmp_path, """<define-gate name="t"><or><basic-event name="a"/><basic-event name="b"/><basic-event name="c"/></or></define-gate>
<define-basic-event name="a"><exponential><parameter name="lam"/><system-mission-time/></exponential></define-basic-event>
<define-basic-event name="b"><mul><float value="0.5"/><sub><int value="1"/><exp><neg><float value="1"/></neg></exp></sub></mul></define-basic-event>
<define-basic-event name="c"><Weibull><float value="100"/><float value="2"/><float value="0"/><system-mission-time/></Weibull></define-basic-event>
<define-parameter name="lam"><float value="1e-4"/></define-parameter>
""")
    [tree] = load_openpsa([path], mission_time=10.0)
    p = {n: e.probability for n, e in tree.basic_events.items()}
    assert math.isclose(p["a"], -math.expm1(-1e-3), rel_tol=1e-15)
    assert math.isclose(p["b"], 0.5 * (1 - math.exp(-1)), rel_tol=1e-12)
    assert math.isclose(p["c"], -math.expm1(-((10 / 100) ** 2)), rel_tol=1e-15)
    assert tree.basic_events["a"].rate_per_hour == 1e-4
    [default] = load_openpsa([path])
    assert default.mission_time == 8760.0


@pytest.mark.parametrize(
    ("name", "expected"),
    [("imply", 0.986), ("cardinality", 0.49)],  # README of the corpus (SCRAM's own unit tests)
)
def test_connectives_scram_0_16_rejects(corpus: Path, name: str, expected: float) -> None:
    [tree] = load_openpsa([str(corpus / f"tests/input/core/{name}.xml")])
    r = analyse(tree, AnalysisOptions())
    assert r.exact_probability is not None and math.isclose(r.exact_probability, expected, rel_tol=1e-12)


def test_iff_is_not_xor(corpus: Path) -> None:
    [tree] = load_openpsa([str(corpus / "tests/input/core/iff.xml")])
    p = {n: e.probability for n, e in tree.basic_events.items()}
    inner = p["B"] * p["C"] + (1 - p["B"]) * (1 - p["C"])  # TopEvent = A <-> (B <-> C)
    r = analyse(tree, AnalysisOptions())
    assert r.exact_probability is not None
    assert math.isclose(r.exact_probability, p["A"] * inner + (1 - p["A"]) * (1 - inner), rel_tol=1e-12)


def test_private_names_are_scoped(corpus: Path) -> None:
    [tree] = load_openpsa([str(corpus / "input/ThreeMotor/three_motor.xml")])
    assert "ThreeMotor.t.E1" in tree.gates and "E1" in tree.gates
    assert analyse(tree, AnalysisOptions()).cut_set_count == 12


ROUND_TRIP = [
    ("input/Theatre/theatre.xml",),
    ("input/ThreeMotor/three_motor.xml",),
    ("input/HIPPS/HIPPS.xml",),
    ("input/Chinese/chinese.xml", "input/Chinese/chinese-basic-events.xml"),
    ("tests/input/core/ab_or_not_ac.xml",),
    ("tests/input/core/atleast.xml",),
    ("tests/input/core/unity.xml",),
    ("tests/input/core/cardinality.xml",),
    ("input/Aralia/das9601.xml",),
]


@pytest.mark.parametrize("files", ROUND_TRIP, ids=[f[0].rsplit("/", 1)[1] for f in ROUND_TRIP])
def test_round_trip(files: tuple[str, ...], corpus: Path, tmp_path: Path) -> None:
    trees = load_openpsa([str(corpus / f) for f in files])
    text = write_openpsa(trees)
    assert text == write_openpsa(list(reversed(trees))), "export must not depend on input order"
    out = tmp_path / "export.xml"
    out.write_text(text, encoding="utf-8")
    again = load_openpsa([str(out)])
    assert [t.name for t in again] == [t.name for t in trees]
    opts = AnalysisOptions(limit_order=20, cut_set_limit=50)
    for a, b in zip(trees, again, strict=True):
        ra, rb = analyse(a, opts), analyse(b, opts)
        assert (ra.exact_probability, ra.cut_set_count, ra.cut_sets, ra.importance) == (
            rb.exact_probability,
            rb.cut_set_count,
            rb.cut_sets,
            rb.importance,
        )


@pytest.mark.parametrize("files", ROUND_TRIP, ids=[f[0].rsplit("/", 1)[1] for f in ROUND_TRIP])
def test_scram_validates_export(files: tuple[str, ...], corpus: Path, scram: str, tmp_path: Path) -> None:
    out = tmp_path / "export.xml"
    out.write_text(write_openpsa(load_openpsa([str(corpus / f) for f in files])), encoding="utf-8")
    proc = subprocess.run([scram, "--validate", str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
