"""The risk graph (IEC 61508-5 Annex E / IEC 61511-3 Annex D) and the ARP4754A FDAL/IDAL assignment, both read
as data the model declares (model/profiles/risk_graph.py, model/profiles/dal.py). Every cell of the example
models' tables is checked against the tables written out here independently: the risk graph's W table from BBH
SMX100 manual p. 229 [S1] with the C/F/P topology of shared/design/standards-reference.md 1.5 [R], and the
reduction options of the wheel-brake example (the [R] summary of ARP4754A Table 3) by brute force over every
assignment of two and three members."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from safetyops_dsl.analysis.pipeline import analyse
from safetyops_dsl.api import Checked, check
from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.fmt import format_text
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.profiles import dal, iec61508
from safetyops_dsl.model.profiles import risk_graph as rg
from safetyops_dsl.parse import grammar_info

ROOT = Path(__file__).resolve().parents[2]
SIF = ROOT / "models" / "sif_iec61511"
WBS = ROOT / "models" / "wheel_brake_arp4761a"

# the standard's example, as printed: row -> outcome in the columns W3, W2, W1 ("-": no safety requirements)
W_TABLE = {"X1": ("a", "-", "-"), "X2": ("1", "a", "-"), "X3": ("2", "1", "a"), "X4": ("3", "2", "1"),
           "X5": ("4", "3", "2"), "X6": ("b", "4", "3")}


def _row(c: str, f: str, p: str) -> str:
    """C1 -> X1; otherwise X = index(C) + [F2] + [P2] (the drawing's topology, [R])."""
    if c == "C1":
        return "X1"
    return f"X{int(c[1]) + (f == 'F2') + (p == 'P2')}"


def _model(paths: list[Path]) -> tuple[Checked, list[Diagnostic]]:
    checked = check(paths)
    errors = [d for d in checked.diagnostics if d.level.value == "error"]
    return checked, errors


def _graph() -> el.RiskGraph:
    checked, errors = _model([SIF])
    assert not errors and checked.model is not None
    return checked.model.risk_graph_by_package["sif"]


def _given(*classes: str, demand_per_year: float | None = None) -> el.RiskGraphClasses:
    loc = el.Location("t.sops", 1, 1)
    demand = el.Frequency(demand_per_year / 8760.0, f"{demand_per_year:g} per y") if demand_per_year else None
    return el.RiskGraphClasses(tuple(classes), demand, loc)


@pytest.mark.parametrize(("c", "f", "p", "w"), list(itertools.product(
    ("C1", "C2", "C3", "C4"), ("F1", "F2"), ("P1", "P2"), ("W1", "W2", "W3"))))
def test_every_cell_of_the_calibrated_example(c: str, f: str, p: str, w: str) -> None:
    g = _graph()
    walk = rg.derive(g, _given(c, f, p, w))
    assert walk is not None
    expected = W_TABLE[_row(c, f, p)][("W3", "W2", "W1").index(w)]
    assert (walk.row, walk.outcome) == (_row(c, f, p), expected)
    special = {"-": iec61508.NO_SIL, "a": iec61508.NO_SIL, "b": iec61508.BEYOND_SIL4}
    assert walk.sil == (special[expected] if expected in special else int(expected))


def test_the_example_graph_is_complete_and_consistent() -> None:
    g = _graph()
    assert rg.structure_problems(g) == [] and rg.coverage_problems(g) == []
    assert g.source and g.title  # the calibration says where it comes from


@pytest.mark.parametrize(("per_year", "w"), [(0.001, "W1"), (0.0299, "W1"), (0.03, "W2"), (0.2, "W2"),
                                              (0.2999, "W2"), (0.3, "W3"), (2.99, "W3"), (3.0, None)])
def test_w_bands_are_half_open(per_year: float, w: str | None) -> None:
    g = _graph()
    assert rg.w_of_demand(g, per_year / 8760.0) == w
    walk = rg.derive(g, _given("C3", "F1", "P2", demand_per_year=per_year))
    assert (walk.demand if walk else None) == w


def test_outcomes_map_to_sils() -> None:
    assert [rg.outcome_sil(o) for o in el.RISK_GRAPH_OUTCOMES] == [0, 0, 1, 2, 3, 4, iec61508.BEYOND_SIL4]


def _replace_rows(g: el.RiskGraph, rows: tuple[el.RiskGraphRow, ...]) -> el.RiskGraph:
    return el.RiskGraph(g.title, g.source, g.levels, rows, g.location)


def test_a_missing_path_and_an_overlap_are_found() -> None:
    g = _graph()
    without = _replace_rows(g, tuple(r for r in g.rows if r.path != "C4 F2 P2"))
    assert rg.coverage_problems(without) == ["no row for C4 F2 P2"]
    loc = g.location
    overlap = _replace_rows(g, (*g.rows, el.RiskGraphRow("C2 F1", "X2", ("-", "a", "1"), loc)))
    assert rg.coverage_problems(overlap) == ["more than one row for C2 F1 P1 (X2, X2), C2 F1 P2 (X3, X2)"]


def test_inconsistent_rows_and_bad_outcome_counts_are_found() -> None:
    g = _graph()
    loc = g.location
    bad = _replace_rows(g, tuple(
        el.RiskGraphRow(r.path, r.name, ("1", "2", "4") if r.path == "C3 F1 P1" else r.outcomes, r.location)
        for r in g.rows) + (el.RiskGraphRow("C9", "X1", ("-", "-"), loc),))
    messages = [m for m, _ in rg.structure_problems(bad)]
    assert any("row X3: outcomes 1 2 4 here but a 1 2" in m for m in messages)
    assert "row X1: unknown level 'C9'" in messages and "row X1 has 2 outcomes for 3 demand (W) levels" in messages


def test_class_problems() -> None:
    g = _graph()
    assert rg.class_problems(g, _given("C3", "F1", "P2", "W2")) == []
    assert rg.class_problems(g, _given("C3", "F1", "W2")) == ["no avoidance (P) level"]
    assert rg.class_problems(g, _given("C3", "C2", "F1", "P1", "W2")) == ["two consequence (C) levels: C3, C2"]
    assert rg.class_problems(g, _given("C3", "F1", "P1", "W2", demand_per_year=0.1)) == [
        "both a W level and a demand rate: give one"]


# -- ARP4754A FDAL / IDAL -----------------------------------------------------------------------------------

# the [R] summary the wheel-brake example declares: class -> [(level, count, floor of the others)]
OPTIONS = {"Catastrophic": [("A", 1, "C"), ("B", 2, "C")], "Hazardous": [("B", 1, "D"), ("C", 2, "D")],
           "Major": [("C", 1, "E"), ("D", 2, "E")], "Minor": [("D", 1, "E")], "NoSafetyEffect": [("E", 1, "E")]}
RANK = {lv: i for i, lv in enumerate("ABCDE")}


def _declared() -> tuple[el.DalOption, ...]:
    checked, errors = _model([WBS])
    assert not errors and checked.model is not None
    return checked.model.dal_reduction_by_package["wbs"].options


def test_the_example_declares_the_summary_table() -> None:
    got: dict[str, list[tuple[str, int, str]]] = {}
    for o in _declared():
        got.setdefault(o.top, []).append((o.level, o.count, o.others))
    assert got == OPTIONS


@pytest.mark.parametrize("members", [2, 3])
def test_every_assignment_against_every_option(members: int) -> None:
    for o in _declared():
        level, count, floor = o.level, o.count, o.others
        for levels in itertools.product("ABCDE", repeat=members):
            expected = (sum(1 for lv in levels if RANK[lv] <= RANK[level]) >= count
                        and all(RANK[lv] <= RANK[floor] for lv in levels))
            assert dal.satisfies(o, list(levels)) is expected, (o, levels)


def _ffs(levels: tuple[str, ...], claims: tuple[str, ...]) -> el.Ffs:
    loc = el.Location("t.sops", 1, 1)
    members = tuple(el.FfsMember(el.NameRef(f"m{i}", loc), "idal", lv, "", loc) for i, lv in enumerate(levels))
    return el.Ffs("S", "p", "", (el.NameRef("FC", loc),), tuple(el.Independence(k, "why", (), loc) for k in claims),
                  members, loc)


@pytest.mark.parametrize("top", ["Catastrophic", "Hazardous", "Major", "Minor", "NoSafetyEffect"])
def test_assess_rules_a_and_b(top: str) -> None:
    options = _declared()
    top_level = {"Catastrophic": "A", "Hazardous": "B", "Major": "C", "Minor": "D", "NoSafetyEffect": "E"}[top]
    for levels in itertools.product("ABCDE", repeat=2):
        for claims in ((), ("functional",), ("item",), ("functional", "item")):
            result = dal.assess(top, top_level, _ffs(levels, claims), options)
            at_top = all(RANK[lv] <= RANK[top_level] for lv in levels)
            if at_top:  # (a) nothing to reduce
                assert result.problems == () and result.option == "no reduction"
            elif len(claims) < 2:  # (a) no reduction without both kinds of independence
                assert result.problems and "without" in result.problems[0]
            else:  # (b) some option of the class must hold
                holds = [name for name, (lv, n, floor) in zip(("option1", "option2"), OPTIONS[top], strict=False)
                         if sum(1 for x in levels if RANK[x] <= RANK[lv]) >= n
                         and all(RANK[x] <= RANK[floor] for x in levels)]
                assert (result.option, bool(result.problems)) == ((holds[0], False) if holds else ("", True))


def test_wheel_brake_assignment_table() -> None:
    checked, errors = _model([WBS])
    assert not errors and checked.model is not None
    r = analyse(checked.model)
    assert r.profile is not None
    rows = {(d.ffs, d.member): d for d in r.profile.dal}
    assert len(rows) == 5 and all(d.verdict == "pass" for d in rows.values())
    bscu = rows[("FFS_BRAKING_ITEMS", "bscu")]
    # the BSCU alone (SwitchoverFault, or both channels) loses normal braking: FC3, Major -> C
    assert (bscu.top_level, bscu.level, bscu.option, bscu.own_condition, bscu.own_level) == ("A", "A", "option1",
                                                                                             "FC3", "C")
    alternate = rows[("FFS_BRAKING_ITEMS", "alternate")]
    assert (alternate.level, alternate.own_condition, alternate.own_level) == ("C", "", "E")
    brakes = rows[("FFS_ASYMMETRY", "brakes")]
    assert (brakes.top_level, brakes.option, brakes.own_condition) == ("B", "no reduction", "FC2")
    # function members take their allocated items' effects: WBS2 is allocated to the BSCU
    assert rows[("FFS_BRAKING_FUNCTIONS", "WBS2")].own_condition == "FC3"


def test_rule_c_a_member_below_its_own_worst_effect(tmp_path: Path) -> None:
    """The brake assemblies alone cause FC2 (Hazardous, B): at IDAL C in a Catastrophic set whose option 1 holds
    (alternate at A, others at least C), rule (c) still fails them."""
    (tmp_path / "wbs.sops").write_text((WBS / "wbs.sops").read_text(encoding="utf-8"), encoding="utf-8")
    text = (WBS / "dal_reduction.sops").read_text(encoding="utf-8")
    start = text.index("ffs FFS_BRAKING_FUNCTIONS")
    text = text[:start] + '''ffs FFS_TEST "Alternate and brakes" for FC1 {
    member alternate idal A
    member brakes    idal C
    independence functional "test" evidence IND_FUNCTIONAL
    independence item "test" evidence IND_ITEM
}
''' + text[text.index("\nevidence IND_FUNCTIONAL"):]
    (tmp_path / "dal.sops").write_text(text, encoding="utf-8")
    checked, errors = _model([tmp_path])
    assert not errors and checked.model is not None
    r = analyse(checked.model)
    assert r.profile is not None
    rows = {d.member: d for d in r.profile.dal}
    assert rows["alternate"].verdict == "pass" and rows["alternate"].option == "option1"
    assert rows["brakes"].verdict == "fail" and rows["brakes"].own_level == "B"
    assert rows["brakes"].problems == ("IDAL C is below B, the FDAL of FC2 (Hazardous) that it causes alone",)
    assert not r.profile.ok


# -- the tools that follow the grammar ----------------------------------------------------------------------


def test_formatter_layout_of_the_new_blocks() -> None:
    src = ('package p\nstandard iec61508\nrisk_graph   "cal"  {  source "s"\nconsequence C1 "a",C2 "b"\n'
           '  frequency F1 "x" , F2 "y"\navoidance P1 "p" ,P2 "q"\n      demand W1 "w" below 0.1 per y , W2 "v"\n'
           'row X1 : C1 -> - a\n  row   X2:C2   -> 1  b }\nhazard H { risk_graph C2,F1,P1 demand 0.2 per y }\n'
           'dal_reduction "u" { source "s"\nCatastrophic  option1 : A x 1 , others C }\n'
           'ffs S "t" for FC1,FC2 { member a   idal A "x"\nindependence item "y" evidence E1,E2 }\n')
    assert format_text(src) == '''package p
standard iec61508
risk_graph "cal" {
    source "s"
    consequence C1 "a", C2 "b"
    frequency   F1 "x", F2 "y"
    avoidance   P1 "p", P2 "q"
    demand      W1 "w" below 0.1 per y, W2 "v"
    row X1: C1 -> - a
    row X2: C2 -> 1 b
}
hazard H {
    risk_graph C2, F1, P1 demand 0.2 per y
}
dal_reduction "u" {
    source "s"
    Catastrophic option1: A x 1, others C
}
ffs S "t" for FC1, FC2 {
    member a idal A "x"
    independence item "y" evidence E1, E2
}
'''


def test_completion_keywords_come_from_the_grammar() -> None:
    members = grammar_info.member_keywords()
    assert members["risk_graph"] == ("consequence", "frequency", "avoidance", "demand", "row")
    assert members["ffs"] == ("member", "independence")
    assert "risk_graph" in members["hazard"]
    assert {"risk_graph", "dal_reduction", "ffs"} <= set(grammar_info.element_keywords())
