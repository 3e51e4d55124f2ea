"""CCF groups (safetyops_dsl/fta/ccf.py): each model's Q_k against hand-computed values, every validation rule,
the structure of the expansion, and the engine on expanded trees against brute force."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from test_engine_properties import SETTINGS, brute_minimal_true_points, brute_probability, trees

from safetyops_dsl.fta.ccf import (
    CcfError,
    CcfGroup,
    CcfModel,
    event_name,
    expand,
    multiplicity_probabilities,
    validate,
)
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, HouseEvent

ABC = ("A", "B", "C")


def group(model: CcfModel, factors: Mapping[int, float], members: tuple[str, ...] = ABC, q: float = 0.1,
          name: str = "G") -> CcfGroup:
    return CcfGroup(name, model, members, q, dict(factors))


def assert_q(actual: dict[int, float], expected: dict[int, float]) -> None:
    assert sorted(actual) == sorted(expected)
    for k, v in expected.items():
        assert math.isclose(actual[k], v, rel_tol=1e-12), (k, actual[k], v)


# -- Q_k per model ------------------------------------------------------------------------------------------


def test_mgl() -> None:
    # Q1 = (1 - rho2) Qt; Q2 = rho2 (1 - rho3) Qt / C(2, 1); Q3 = rho2 rho3 Qt / C(2, 2).
    assert_q(multiplicity_probabilities(group(CcfModel.MGL, {2: 0.2, 3: 0.1})), {1: 0.08, 2: 0.009, 3: 0.002})
    # Levels up to 2 only: no event for all three, and Q2 keeps the whole rho2 share.
    assert_q(multiplicity_probabilities(group(CcfModel.MGL, {2: 0.2})), {1: 0.08, 2: 0.01})


def test_beta() -> None:
    # Independent (1 - beta) Qt; all n members together beta Qt; nothing in between.
    assert_q(multiplicity_probabilities(group(CcfModel.BETA, {3: 0.2})), {1: 0.08, 3: 0.02})
    assert_q(multiplicity_probabilities(group(CcfModel.BETA, {2: 0.25}, ("A", "B"), q=0.4)), {1: 0.3, 2: 0.1})


def test_alpha() -> None:
    # alpha_t = 1*0.9 + 2*0.05 + 3*0.05 = 1.15; Q_k = k / C(2, k-1) * alpha_k / alpha_t * Qt.
    q = multiplicity_probabilities(group(CcfModel.ALPHA, {1: 0.9, 2: 0.05, 3: 0.05}))
    assert_q(q, {1: 0.9 / 1.15 * 0.1, 2: 2 / 2 * 0.05 / 1.15 * 0.1, 3: 3 / 1 * 0.05 / 1.15 * 0.1})


def test_phi() -> None:
    assert_q(multiplicity_probabilities(group(CcfModel.PHI, {1: 0.7, 2: 0.2, 3: 0.1})), {1: 0.07, 2: 0.02, 3: 0.01})


@pytest.mark.parametrize(
    "g",
    [
        group(CcfModel.MGL, {2: 0.3, 3: 0.4, 4: 0.5}, ("A", "B", "C", "D"), q=0.2),
        group(CcfModel.ALPHA, {1: 0.7, 2: 0.1, 3: 0.15, 4: 0.05}, ("A", "B", "C", "D"), q=0.2),
        group(CcfModel.BETA, {4: 0.1}, ("A", "B", "C", "D"), q=0.2),
    ],
    ids=["mgl", "alpha", "beta"],
)
def test_a_member_keeps_its_total_probability(g: CcfGroup) -> None:
    """With every level given, the member's events add up to Q_t (rare-event): sum C(n-1, k-1) Q_k = Q_t."""
    n = len(g.members)
    q = multiplicity_probabilities(g)
    assert math.isclose(sum(math.comb(n - 1, k - 1) * v for k, v in q.items()), g.probability, rel_tol=1e-12)


# -- validation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("g", "message", "part", "level"),
    [
        (group(CcfModel.MGL, {2: 0.2}, ("A",)), "needs at least two members", "members", None),
        (group(CcfModel.MGL, {2: 0.2}, ("A", "B", "A")), "lists a member twice", "members", None),
        (group(CcfModel.MGL, {2: 0.2}, q=1.5), "member probability 1.5 is not in [0, 1]", "distribution", None),
        (group(CcfModel.MGL, {2: 0.2}, q=-0.1), "not in [0, 1]", "distribution", None),
        (group(CcfModel.MGL, {2: 0.2}, q=math.nan), "not in [0, 1]", "distribution", None),
        (group(CcfModel.MGL, {}), "has no factors", "factors", None),
        (group(CcfModel.BETA, {2: 0.1, 3: 0.1}), "beta-factor model takes exactly one factor", "factors", None),
        (group(CcfModel.BETA, {2: 0.1}), "level 2 is below the beta-factor model's first level 3", "factor", 2),
        (group(CcfModel.MGL, {1: 0.1, 2: 0.1}), "level 1 is below the MGL model's first level 2", "factor", 1),
        (group(CcfModel.ALPHA, {0: 0.1, 1: 0.9}), "level 0 is below", "factor", 0),
        (group(CcfModel.MGL, {2: 0.2, 3: 0.1, 4: 0.1}), "level 4 is more than its 3 members", "factor", 4),
        (group(CcfModel.MGL, {2: 1.2}), "factor 1.2 (level 2) is not a fraction in [0, 1]", "factor", 2),
        (group(CcfModel.MGL, {2: -0.2}), "factor -0.2 (level 2) is not a fraction", "factor", 2),
        (group(CcfModel.ALPHA, {1: 0.5, 2: math.nan}), "is not a fraction", "factor", 2),
        (group(CcfModel.MGL, {3: 0.1}), "no factor for level 2", "factors", None),
        (group(CcfModel.ALPHA, {1: 0.9, 4: 0.1}, ("A", "B", "C", "D")), "no factor for levels 2, 3", "factors", None),
        (group(CcfModel.PHI, {1: 0.5, 2: 0.2, 3: 0.1}), "phi factors sum to 0.8, not 1", "factors", None),
        (group(CcfModel.ALPHA, {1: 0.0, 2: 0.0}), "alpha factors are all zero", "factors", None),
    ],
)
def test_invalid_groups(g: CcfGroup, message: str, part: str, level: int | None) -> None:
    with pytest.raises(CcfError) as info:
        validate(g)
    assert message in str(info.value) and str(info.value).startswith("CCF group 'G'")
    assert (info.value.part, info.value.level) == (part, level)
    with pytest.raises(CcfError):
        multiplicity_probabilities(g)


def test_valid_edges() -> None:
    validate(group(CcfModel.PHI, {1: 0.7, 2: 0.2, 3: 0.10005}))  # within SCRAM's 1e-4 tolerance
    validate(group(CcfModel.MGL, {2: 0.0, 3: 1.0}, q=1.0))
    validate(group(CcfModel.ALPHA, {1: 1.0}))  # level 1 only: no common-cause events
    assert multiplicity_probabilities(group(CcfModel.ALPHA, {1: 1.0})) == {1: 0.1}
    with pytest.raises(CcfError, match="sum to"):
        validate(group(CcfModel.PHI, {1: 0.7, 2: 0.2, 3: 0.1002}))


def test_error_is_a_value_error_with_optional_parts() -> None:
    e = CcfError("plain")
    assert isinstance(e, ValueError) and (e.part, e.level) == ("", None)


# -- expansion ----------------------------------------------------------------------------------------------


def three_trains() -> FaultTree:
    gates = {
        "top": Gate("top", GateKind.AND, ("T1", "T2", "T3")),
        "T1": Gate("T1", GateKind.OR, ("A", "V1")),
        "T2": Gate("T2", GateKind.OR, ("B", "V2")),
        "T3": Gate("T3", GateKind.OR, ("C", "V3")),
    }
    basic = {n: BasicEvent(n, 0.1, label="pump" if n == "A" else "") for n in ("A", "B", "C", "V1", "V2", "V3")}
    return FaultTree("top", "top", gates, basic, label="no flow", mission_time=100.0)


def test_event_name() -> None:
    assert event_name(["PumpOne"]) == "[PumpOne]"
    assert event_name(("PumpOne", "PumpTwo")) == "[PumpOne PumpTwo]"


def test_expand_structure() -> None:
    tree = three_trains()
    g = group(CcfModel.MGL, {2: 0.2, 3: 0.1})
    out = expand(tree, [g])
    assert (out.name, out.top, out.label, out.mission_time) == ("top", "top", "no flow", 100.0)
    assert out.gates["A"] == Gate("A", GateKind.OR, ("[A]", "[A B]", "[A C]", "[A B C]"), label="pump")
    assert out.gates["B"].inputs == ("[B]", "[A B]", "[B C]", "[A B C]")
    assert out.gates["C"].inputs == ("[C]", "[A C]", "[B C]", "[A B C]")
    assert out.gates["B"].label == "independent or common-cause failure (CCF group G)"
    assert set(out.basic_events) == {"V1", "V2", "V3", "[A]", "[B]", "[C]", "[A B]", "[A C]", "[B C]", "[A B C]"}
    p = {n: e.probability for n, e in out.basic_events.items()}
    assert math.isclose(p["[B]"], 0.08) and math.isclose(p["[B C]"], 0.009) and math.isclose(p["[A B C]"], 0.002)
    labels = {n: e.label for n, e in out.basic_events.items()}
    assert labels["[A]"] == "independent failure (CCF group G, MGL)"
    assert labels["[A C]"] == "common-cause failure of 2 of 3 members (CCF group G, MGL)"
    assert labels["[A B C]"] == "common-cause failure of all 3 members (CCF group G, MGL)"
    # The rest of the tree is untouched.
    for name in ("top", "T1", "T2", "T3"):
        assert out.gates[name] == tree.gates[name]


def test_expand_keeps_only_what_the_top_reaches() -> None:
    tree = three_trains()
    # Members D and E are not in the tree: no gates, no events for them, and none of their combinations.
    out = expand(tree, [group(CcfModel.BETA, {4: 0.1}, ("A", "B", "D", "E"))])
    assert set(out.gates) == {"top", "T1", "T2", "T3", "A", "B"}
    assert out.gates["A"].inputs == ("[A]", "[A B D E]")
    assert "[D]" not in out.basic_events and "[A B D E]" in out.basic_events
    # A group none of whose members the tree uses changes nothing.
    same = expand(tree, [group(CcfModel.MGL, {2: 0.2}, ("X", "Y"))])
    assert (same.gates, same.basic_events) == (tree.gates, tree.basic_events)
    assert expand(tree, []) is tree


def test_expand_refuses_non_basic_members_and_shared_members() -> None:
    tree = three_trains()
    with pytest.raises(CcfError, match="member 'T1' is not a basic event"):
        expand(tree, [group(CcfModel.MGL, {2: 0.2}, ("A", "T1"))])
    with_house = FaultTree("t", "top", {"top": Gate("top", GateKind.OR, ("A", "H"))},
                           {"A": BasicEvent("A", 0.1)}, {"H": HouseEvent("H", False)})
    with pytest.raises(CcfError, match="member 'H' is not a basic event"):
        expand(with_house, [group(CcfModel.MGL, {2: 0.2}, ("A", "H"))])
    with pytest.raises(CcfError, match="basic event 'B' is a member of CCF groups 'G' and 'H'"):
        expand(tree, [group(CcfModel.MGL, {2: 0.2}, ("A", "B")), group(CcfModel.MGL, {2: 0.2}, ("B", "C"), name="H")])
    with pytest.raises(CcfError, match="no factor for level 2"):
        expand(tree, [group(CcfModel.MGL, {3: 0.2})])


def test_engine_on_the_three_trains() -> None:
    """Two MGL groups of 3 (valves and pumps, rho2 = 0.2, rho3 = 0.1, Qt = 0.1): the structure of SCRAM's
    mgl_ccf input. Cut sets: the two triple CCFs (order 1), 24 of order 2, 8 of order 3."""
    tree = three_trains()
    valves = group(CcfModel.MGL, {2: 0.2, 3: 0.1}, ("V1", "V2", "V3"), name="V")
    out = expand(tree, [group(CcfModel.MGL, {2: 0.2, 3: 0.1}), valves])
    r = analyse(out, AnalysisOptions(cut_set_limit=None))
    assert r.cut_set_count == 34 and r.cut_sets_by_order == {1: 2, 2: 24, 3: 8}
    assert r.exact_probability is not None
    assert math.isclose(r.exact_probability, brute_probability(out), rel_tol=1e-12)
    assert f"{r.exact_probability:.6g}" == "0.0162948"  # SCRAM 0.16 with --ccf true on that input


# -- the engine on random expanded trees --------------------------------------------------------------------


@st.composite
def groups_for(draw: st.DrawFn, events: list[str]) -> CcfGroup:
    members = tuple(draw(st.lists(st.sampled_from(events), min_size=2, max_size=min(3, len(events)), unique=True)))
    n = len(members)
    model = draw(st.sampled_from(list(CcfModel)))
    q = draw(st.sampled_from([0.0, 0.05, 0.3, 0.9, 1.0]))
    fraction = st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0])
    top = draw(st.integers(CcfGroup("", model, members, q, {}).min_level(), n))
    if model is CcfModel.BETA:
        factors = {n: draw(fraction)}
    elif model is CcfModel.MGL:
        factors = {k: draw(fraction) for k in range(2, top + 1)}
    elif model is CcfModel.ALPHA:
        factors = {k: draw(fraction) for k in range(1, top + 1)}
        assume(any(factors.values()))
    else:
        weights = [draw(st.integers(0, 4)) for _ in range(top)]
        assume(sum(weights))
        factors = {k: w / sum(weights) for k, w in enumerate(weights, start=1)}
    return CcfGroup("G", model, members, q, factors)


@SETTINGS
@given(st.data())
def test_engine_on_expanded_trees_against_brute_force(data: st.DataObject) -> None:
    tree = data.draw(trees())
    assume(len(tree.basic_events) >= 2)
    g = data.draw(groups_for(sorted(tree.basic_events)))
    out = expand(tree, [g])
    assume(len(out.basic_events) <= 12)
    q = multiplicity_probabilities(g)
    for name, event in out.basic_events.items():
        if name.startswith("["):
            assert event.probability == q[len(name[1:-1].split())]
    r = analyse(out, AnalysisOptions(cut_set_limit=None))
    assert r.exact_probability is not None
    assert math.isclose(r.exact_probability, brute_probability(out), rel_tol=1e-12, abs_tol=1e-15)
    expected = brute_minimal_true_points(out)
    assert {frozenset(cs) for cs in r.cut_sets} == expected and r.cut_set_count == len(expected)
