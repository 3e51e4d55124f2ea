"""ISO 26262 tables, cell by cell, against the tables as printed in the standard (independent of the code's
additive formula)."""

from __future__ import annotations

import pytest

from safetyops_dsl.model import iso26262

# ISO 26262-3:2018 Table 4 — ASIL determination. Rows: severity, exposure; columns C1, C2, C3.
TABLE_4 = {
    (1, 1): ("QM", "QM", "QM"),
    (1, 2): ("QM", "QM", "QM"),
    (1, 3): ("QM", "QM", "A"),
    (1, 4): ("QM", "A", "B"),
    (2, 1): ("QM", "QM", "QM"),
    (2, 2): ("QM", "QM", "A"),
    (2, 3): ("QM", "A", "B"),
    (2, 4): ("A", "B", "C"),
    (3, 1): ("QM", "QM", "A"),
    (3, 2): ("QM", "A", "B"),
    (3, 3): ("A", "B", "C"),
    (3, 4): ("B", "C", "D"),
}


@pytest.mark.parametrize("s,e,c", [(s, e, c) for (s, e) in TABLE_4 for c in (1, 2, 3)])
def test_table_4_cell(s: int, e: int, c: int) -> None:
    assert iso26262.determine_asil(s, e, c) == TABLE_4[(s, e)][c - 1]


@pytest.mark.parametrize("s,e,c", [(0, 4, 3), (3, 0, 3), (3, 4, 0), (0, 0, 0), (2, 3, 0)])
def test_class_zero_gives_qm(s: int, e: int, c: int) -> None:
    assert iso26262.determine_asil(s, e, c) == "QM"


@pytest.mark.parametrize("s,e,c", [(4, 1, 1), (1, 5, 1), (1, 1, 4), (-1, 1, 1)])
def test_out_of_range_is_rejected(s: int, e: int, c: int) -> None:
    with pytest.raises(ValueError):
        iso26262.determine_asil(s, e, c)


def test_table_4_has_exactly_one_d() -> None:
    cells = [iso26262.determine_asil(s, e, c) for s in range(4) for e in range(5) for c in range(4)]
    assert cells.count("D") == 1
    assert cells.count("C") == 3
    assert cells.count("B") == 6
    assert cells.count("A") == 8


# ISO 26262-9:2018 Figure 2: every scheme is allowed, anything weaker is not.
@pytest.mark.parametrize(
    "parent,parts,ok",
    [
        ("D", ["C", "A"], True),
        ("D", ["B", "B"], True),
        ("D", ["D", "QM"], True),
        ("D", ["B", "A"], False),
        ("D", ["A", "A"], False),
        ("D", ["C", "QM"], False),
        ("D", ["C", "B"], True),  # stronger than needed is allowed
        ("C", ["B", "A"], True),
        ("C", ["C", "QM"], True),
        ("C", ["A", "A"], False),
        ("C", ["B", "QM"], False),
        ("B", ["A", "A"], True),
        ("B", ["B", "QM"], True),
        ("B", ["A", "QM"], False),
        ("A", ["A", "QM"], True),
        ("A", ["QM", "QM"], False),
        ("QM", [], True),
    ],
)
def test_decomposition(parent: str, parts: list[str], ok: bool) -> None:
    assert iso26262.decomposition_covers(parent, parts) is ok


def test_every_listed_scheme_covers_its_parent() -> None:
    for parent, schemes in iso26262.DECOMPOSITION_SCHEMES.items():
        for a, b in schemes:
            assert iso26262.decomposition_covers(parent, [a, b])


# ISO 26262-5:2018 Tables 4, 5, 6.
@pytest.mark.parametrize(
    "asil,spfm,lfm,pmhf",
    [("B", 0.90, 0.60, 1e-7), ("C", 0.97, 0.80, 1e-7), ("D", 0.99, 0.90, 1e-8)],
)
def test_hardware_targets(asil: str, spfm: float, lfm: float, pmhf: float) -> None:
    t = iso26262.HARDWARE_TARGETS[asil]
    assert t.spfm == pytest.approx(spfm)
    assert t.lfm == pytest.approx(lfm)
    assert t.pmhf_per_hour == pytest.approx(pmhf)


def test_no_hardware_targets_below_b() -> None:
    for asil in ("QM", "A"):
        t = iso26262.HARDWARE_TARGETS[asil]
        assert (t.spfm, t.lfm, t.pmhf_per_hour) == (None, None, None)
