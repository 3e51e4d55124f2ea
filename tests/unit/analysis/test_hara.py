"""HARA rows: the ASIL on every cell of ISO 26262-3 Table 4, goals, FTTI, ASIL decomposition verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from safetyops_dsl.analysis.hara import DecompositionPart, build_hara, check_decomposition
from safetyops_dsl.api import check
from safetyops_dsl.diagnostics import Location
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model

ROOT = Path(__file__).resolve().parents[3]
LOC = Location("h.sops", 1, 1)

# ISO 26262-3:2018 Table 4 as printed: rows S x E, columns C1 C2 C3.
TABLE_4 = """
S1 E1 QM QM QM
S1 E2 QM QM QM
S1 E3 QM QM A
S1 E4 QM A  B
S2 E1 QM QM QM
S2 E2 QM QM A
S2 E3 QM A  B
S2 E4 A  B  C
S3 E1 QM QM A
S3 E2 QM A  B
S3 E3 A  B  C
S3 E4 B  C  D
"""


def _cls(text: str) -> el.ClassValue:
    return el.ClassValue(text, int(text[1:]), LOC)


def _hazard(name: str, s: str, e: str, c: str) -> el.Hazard:
    return el.Hazard(name, "p", name, "situation", "", _cls(s), _cls(e), _cls(c), None, None, None, None, LOC)


def test_asil_on_every_cell_of_table_4() -> None:
    expected: dict[str, str] = {}
    hazards: dict[str, el.Hazard] = {}
    for line in TABLE_4.strip().splitlines():
        s, e, *asils = line.split()
        for c, asil in zip(("C1", "C2", "C3"), asils, strict=True):
            name = f"H_{s}{e}{c}"
            hazards[f"p.{name}"] = _hazard(name, s, e, c)
            expected[name] = asil
    # class 0 anywhere: no ASIL (QM)
    for s, e, c in (("S0", "E4", "C3"), ("S3", "E0", "C3"), ("S3", "E4", "C0")):
        name = f"H_{s}{e}{c}"
        hazards[f"p.{name}"] = _hazard(name, s, e, c)
        expected[name] = "QM"
    model = Model(root=Path("."), files=[], hazards=hazards)
    rows = {r.hazard: r for r in build_hara(model).hazards}
    assert len(rows) == 36 + 3
    for name, asil in expected.items():
        assert rows[name].asil == asil, name


def test_example_model_rows() -> None:
    checked = check([ROOT / "models" / "aeb"])
    assert checked.model is not None
    table = build_hara(checked.model)
    h1 = next(r for r in table.hazards if r.hazard == "H1")
    assert (h1.severity, h1.exposure, h1.controllability, h1.asil) == ("S3", "E4", "C3", "D")
    assert [g.name for g in h1.goals] == ["SG1"] and h1.ftti_seconds == pytest.approx(0.2)
    h4 = next(r for r in table.hazards if r.hazard == "H4")
    assert h4.asil == "QM" and h4.goals == ()
    (dec,) = table.decompositions
    assert dec.parent == "SG1" and dec.ok and dec.scheme == "B(D) + B(D)"


def _part(name: str, level: str, base: str | None, *targets: str) -> DecompositionPart:
    return DecompositionPart(name, f"{level}({base})" if base else level, level, base, tuple(targets))


def test_decomposition_rules() -> None:
    # every ISO 26262-9 Figure 2 scheme holds
    for parent, schemes in (("D", [("C", "A"), ("B", "B"), ("D", "QM")]), ("C", [("B", "A"), ("C", "QM")]),
                            ("B", [("A", "A"), ("B", "QM")]), ("A", [("A", "QM")])):
        for a, b in schemes:
            d = check_decomposition("G", parent, [_part("R1", a, parent, "x"), _part("R2", b, parent, "y")])
            assert d.ok and d.scheme == f"{a}({parent}) + {b}({parent})", (parent, a, b)
    # A(D) + A(D) does not reach D
    d = check_decomposition("G", "D", [_part("R1", "A", "D", "x"), _part("R2", "A", "D", "y")])
    assert not d.sum_ok and not d.ok and "ISO 26262-9 allows" in d.problems[0]
    # decomposed from the wrong base
    d = check_decomposition("G", "D", [_part("R1", "B", "C", "x"), _part("R2", "B", "D", "y")])
    assert not d.base_ok
    # both parts on one element: not independent
    d = check_decomposition("G", "D", [_part("R1", "B", "D", "ecu"), _part("R2", "B", "D", "ecu")])
    assert d.sum_ok and not d.independent and not d.ok
    # a single part is no decomposition
    assert not check_decomposition("G", "B", [_part("R1", "B", "B", "x")]).ok
    # a higher part than a scheme asks is allowed: C(D) + B(D)
    d = check_decomposition("G", "D", [_part("R1", "C", "D", "x"), _part("R2", "B", "D", "y")])
    assert d.ok
