"""`ccf` groups in the language: synthesis applies them (the fault trees hold common-cause events), the FMEA,
FMEDA and trace keep working on failure modes, and validation refuses groups the models cannot quantify."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from safetyops_dsl.analysis.fmea import build_fmea
from safetyops_dsl.analysis.fmeda import build_fmeda
from safetyops_dsl.analysis.synthesis import SynthesisResult, synthesise_all
from safetyops_dsl.analysis.trace import build_trace, node_id
from safetyops_dsl.api import check
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.fta.tree import GateKind

PAIR = """
mission_time 10000 h
component Sensor "s" {
    out o
    failure Dead rate 100 FIT "no output"
    mechanism Plaus covers Dead coverage 90 %
    o.omission <- Dead
}
component Voter "1oo2" {
    in x, y
    out o
    o.omission <- x.omission and y.omission
}
component Pair "pair" {
    out o
    part a : Sensor
    part b : Sensor
    part v : Voter
    connect a.o -> v.x
    connect b.o -> v.y
    connect v.o -> o
    CCF
}
system S "s" {
    out o1, o2
    part p1 : Pair
    part p2 : Pair
    connect p1.o -> o1
    connect p2.o -> o2
}
hazard H "both lost" { severity S3 exposure E4 controllability C3 when o1.omission and o2.omission }
hazard H1 "first lost" { severity S3 exposure E4 controllability C3 when o1.omission }
safety_goal SG "g" mitigates H, H1 { safe_state "off" ftti 1 s target 1e-7 per hour }
"""
Q = -math.expm1(-10e-9 * 10000)  # 100 FIT, 90 % covered, over 10,000 h


def results(tmp_path: Path, ccf: str) -> dict[str, SynthesisResult]:
    (tmp_path / "m.sops").write_text(PAIR.replace("CCF", ccf), encoding="utf-8")
    checked = check([tmp_path])
    errors = [d for d in checked.diagnostics if d.level.value == "error"]
    assert not errors, errors
    assert checked.model is not None
    return {r.hazard.name: r for r in synthesise_all(checked.model)}


def test_beta_group_expands_each_instance_separately(tmp_path: Path) -> None:
    r = results(tmp_path, "ccf Shared covers a.Dead, b.Dead beta 5 %")["H1"]
    tree = r.tree
    assert tree.gates["S.p1.a.Dead"].kind is GateKind.OR
    assert tree.gates["S.p1.a.Dead"].inputs == ("[S.p1.a.Dead]", "[S.p1.a.Dead S.p1.b.Dead]")
    assert tree.basic_events["[S.p1.a.Dead S.p1.b.Dead]"].probability == pytest.approx(0.05 * Q, rel=1e-12)
    assert tree.basic_events["[S.p1.a.Dead]"].probability == pytest.approx(0.95 * Q, rel=1e-12)
    origin = tree.basic_events["[S.p1.a.Dead S.p1.b.Dead]"].origin
    assert origin is not None and origin.line == 22 and origin.element == "S.p1.Shared"
    # the structure keeps the failure modes as basic events
    assert "S.p1.a.Dead" in r.structure.basic_events and "S.p1.a.Dead" not in tree.basic_events
    result = analyse(tree, AnalysisOptions())
    assert sorted(result.cut_sets) == [("[S.p1.a.Dead S.p1.b.Dead]",), ("[S.p1.a.Dead]", "[S.p1.b.Dead]")]
    assert result.probability == pytest.approx(1 - (1 - 0.05 * Q) * (1 - (0.95 * Q) ** 2), rel=1e-12)
    # the other hazard holds both pairs: two independent common causes
    both = results(tmp_path, "ccf Shared covers a.Dead, b.Dead beta 5 %")["H"].tree
    assert {"[S.p1.a.Dead S.p1.b.Dead]", "[S.p2.a.Dead S.p2.b.Dead]"} <= set(both.basic_events)


def test_without_groups_the_two_trees_are_one(tmp_path: Path) -> None:
    r = results(tmp_path, "")["H1"]
    assert r.tree is r.structure


def test_fmea_fmeda_and_trace_stay_on_failure_modes(tmp_path: Path) -> None:
    """A common cause is a dependent failure: the FMEA and the ISO 26262 metrics see the same failure modes as
    without the group (a redundant pair: multiple-point faults), and trace links the failure modes."""
    plain = results(tmp_path, "")
    (tmp_path / "m.sops").write_text(PAIR.replace("CCF", ""), encoding="utf-8")
    model_plain = check([tmp_path]).model
    with_ccf = results(tmp_path, "ccf Shared covers a.Dead, b.Dead beta 5 %")
    model_ccf = check([tmp_path]).model
    assert model_plain is not None and model_ccf is not None
    fmea_plain = build_fmea(model_plain, list(plain.values()))
    fmea_ccf = build_fmea(model_ccf, list(with_ccf.values()))
    assert fmea_plain.rows == fmea_ccf.rows
    fmeda_plain = build_fmeda(model_plain, list(plain.values()))
    fmeda_ccf = build_fmeda(model_ccf, list(with_ccf.values()))
    assert fmeda_plain.goals == fmeda_ccf.goals
    tg = build_trace(model_ccf)
    h1 = with_ccf["H1"].hazard.qualified_name
    assert "S.p1.a.Dead" in tg.trees[h1].members
    assert tg.graph.has_edge(node_id("hazard", h1), node_id("failure_mode", "S.p1.a.Dead"))


@pytest.mark.parametrize(("spec", "q"), [
    ("mgl 0.1", {1: 0.9, 2: 0.1}),
    ("alpha 0.95, 0.05", {1: 0.95 / 1.05, 2: 2 * 0.05 / 1.05}),
    ("phi 0.9, 0.1", {1: 0.9, 2: 0.1}),
    ("beta 0.1", {1: 0.9, 2: 0.1}),
])
def test_each_model_quantifies_the_events(tmp_path: Path, spec: str, q: dict[int, float]) -> None:
    tree = results(tmp_path, f"ccf Shared covers a.Dead, b.Dead {spec}")["H1"].tree
    assert tree.basic_events["[S.p1.a.Dead]"].probability == pytest.approx(q[1] * Q, rel=1e-12)
    assert tree.basic_events["[S.p1.a.Dead S.p1.b.Dead]"].probability == pytest.approx(q[2] * Q, rel=1e-12)


def diagnostics(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    (tmp_path / "m.sops").write_text(text, encoding="utf-8")
    return [(d.code, d.message) for d in check([tmp_path]).diagnostics if d.level.value == "error"]


def test_a_member_in_groups_at_two_levels_is_refused(tmp_path: Path) -> None:
    text = PAIR.replace("CCF", "ccf Shared covers a.Dead, b.Dead beta 5 %").replace(
        "    connect p2.o -> o2\n", "    connect p2.o -> o2\n    ccf Cross covers p1.a.Dead, p2.a.Dead beta 1 %\n")
    errors = diagnostics(tmp_path, text)
    assert errors == [("SOPS041", "'S.p1.a.Dead' is a member of CCF groups 'S.Cross' and 'S.p1.Shared'"),
                      ("SOPS041", "'S.p2.a.Dead' is a member of CCF groups 'S.Cross' and 'S.p2.Shared'")], errors


def test_members_deeper_in_the_hierarchy_and_across_pairs(tmp_path: Path) -> None:
    text = PAIR.replace("CCF", "").replace(
        "    connect p2.o -> o2\n", "    connect p2.o -> o2\n    ccf Cross covers p1.a.Dead, p2.a.Dead beta 1 %\n")
    (tmp_path / "m.sops").write_text(text, encoding="utf-8")
    checked = check([tmp_path])
    assert checked.model is not None and not [d for d in checked.diagnostics if d.level.value == "error"]
    tree = next(r.tree for r in synthesise_all(checked.model) if r.hazard.name == "H")
    assert tree.basic_events["[S.p1.a.Dead S.p2.a.Dead]"].probability == pytest.approx(0.01 * Q, rel=1e-12)
    assert "[S.p1.b.Dead]" not in tree.basic_events  # not a member: stays a plain basic event
    assert "S.p1.b.Dead" in tree.basic_events


def test_unequal_members_and_unknown_names(tmp_path: Path) -> None:
    text = PAIR.replace("CCF", "ccf Shared covers a.Dead, v.Nothing, q.Dead beta 5 %")
    codes = [c for c, _ in diagnostics(tmp_path, text)]
    assert codes == ["SOPS011", "SOPS011"]
    text = PAIR.replace("CCF", "ccf Shared covers a.Dead, b.Dead beta 5 %").replace(
        "component Voter", "component Other \"o\" {\n    out o\n    failure Dead rate 100 FIT\n"
        "    o.omission <- Dead\n}\ncomponent Voter").replace("part b : Sensor", "part b : Other")
    assert [c for c, _ in diagnostics(tmp_path, text)] == ["SOPS042"]


def test_redundancy_without_a_group_is_noted_as_assumed_independent(tmp_path: Path) -> None:
    plain = results(tmp_path, "")["H1"].tree
    assert [n for n in plain.notes if n.startswith("independence assumed")] == [
        "independence assumed: S.p1.a.Dead, S.p1.b.Dead (Sensor.Dead) meet at gate S.p1.v.o.omission and no ccf "
        "group covers them; a common cause would defeat this redundancy"]
    grouped = results(tmp_path, "ccf Shared covers a.Dead, b.Dead beta 5 %")["H1"].tree
    assert not [n for n in grouped.notes if n.startswith("independence assumed")]
    assert [n for n in grouped.notes if n.startswith("CCF group S.p1.Shared")]
    # H ANDs the two pairs: one note per pair, none for the four together (it contains both)
    both = [n for n in results(tmp_path, "")["H"].tree.notes if n.startswith("independence assumed")]
    assert [n.split(" (")[0] for n in both] == ["independence assumed: S.p1.a.Dead, S.p1.b.Dead",
                                                "independence assumed: S.p2.a.Dead, S.p2.b.Dead"], both
