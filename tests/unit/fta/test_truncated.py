"""The truncated ZDD built from the formula of a coherent tree (fta/truncated.py) against brute force, the
enumeration of fta/enumeration.py and the engine's BDD with the same order limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.enumeration import minimal_cut_sets, ranked
from safetyops_dsl.fta.preprocess import preprocess
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind
from safetyops_dsl.fta.truncated import TooManyNodes, coherent, truncated_cut_sets
from tests.unit.fta.test_engine_properties import brute_minimal_true_points, trees

ARALIA = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "openpsa" / "input" / "Aralia"
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(trees(coherent=True), st.integers(0, 5))
def test_the_sets_are_the_brute_force_minimal_cut_sets_up_to_the_limit(tree: FaultTree, limit: int) -> None:
    """AND, OR, k-of-n and pass-through gates with shared sub-trees and house events, preprocessed as
    `sops fta` passes them: the minimal cut sets of at most `limit` events, each once, sorted by names."""
    p = preprocess(tree)
    assert coherent(p)
    expected = sorted(tuple(sorted(s)) for s in brute_minimal_true_points(tree) if len(s) <= limit)
    found = truncated_cut_sets(p, limit)
    assert list(found.cut_sets) == expected
    assert found.cut_sets == minimal_cut_sets(p, limit).cut_sets
    assert found.zdd_nodes is not None and found.zdd_nodes >= 2 and found.evaluated == 0


@SETTINGS
@given(trees(), st.integers(0, 4))
def test_a_tree_with_negations_is_left_to_the_enumeration(tree: FaultTree, limit: int) -> None:
    p = preprocess(tree)
    if coherent(p):
        assert truncated_cut_sets(p, limit).cut_sets == minimal_cut_sets(p, limit).cut_sets
    else:
        with pytest.raises(ValueError, match="not coherent"):
            truncated_cut_sets(p, limit)


@SETTINGS
@given(trees(coherent=True), st.integers(1, 4))
def test_the_sets_are_the_engines_with_the_same_order_limit(tree: FaultTree, limit: int) -> None:
    p = preprocess(tree)
    result = analyse(tree, AnalysisOptions(limit_order=limit, cut_set_limit=None))
    found = ranked(truncated_cut_sets(p, limit), {n: e.probability for n, e in tree.basic_events.items()}, 0.0,
                   None)
    assert found.cut_sets == result.cut_sets
    assert found.by_order() == result.cut_sets_by_order


def _wide(n: int) -> FaultTree:
    """AND of n two-event ORs: 2^n minimal cut sets, each of n events."""
    basics = {f"e{i}": BasicEvent(f"e{i}", 0.1) for i in range(2 * n)}
    gates = {f"o{i}": Gate(f"o{i}", GateKind.OR, (f"e{2 * i}", f"e{2 * i + 1}")) for i in range(n)}
    gates["top"] = Gate("top", GateKind.AND, tuple(f"o{i}" for i in range(n)))
    return FaultTree("W", "top", gates, basics)


def test_the_order_limit_cuts_inside_the_product() -> None:
    """No set of more than k events is ever built: 12 pairs to choose from, none within order 11."""
    tree = _wide(12)
    assert truncated_cut_sets(tree, 11).cut_sets == ()
    assert len(truncated_cut_sets(tree, 12).cut_sets) == 2 ** 12


def test_more_nodes_than_allowed_are_refused() -> None:
    with pytest.raises(TooManyNodes):
        truncated_cut_sets(_wide(12), 12, max_nodes=100)


@pytest.mark.parametrize("kind", [GateKind.OR, GateKind.AND])
def test_a_chain_of_ten_thousand_gates_needs_no_recursion_limit(kind: GateKind) -> None:
    n = 10_000
    basics = {f"e{i:05}": BasicEvent(f"e{i:05}", 0.01) for i in range(n + 1)}
    gates = {f"g{i:05}": Gate(f"g{i:05}", kind, (f"g{i + 1:05}" if i + 1 < n else f"e{n:05}", f"e{i:05}"))
             for i in range(n)}
    found = truncated_cut_sets(FaultTree("C", "g00000", gates, basics), 2)
    assert len(found.cut_sets) == (n + 1 if kind is GateKind.OR else 0)


CORPUS = ["baobab2", "chinese", "das9202", "das9205", "edf9205", "ftr10", "isp9602", "jbd9601"]


@pytest.mark.skipif(not ARALIA.is_dir(), reason="the Open-PSA corpus (../shared) is absent")
@pytest.mark.parametrize("name", CORPUS)
def test_the_sets_are_the_engines_on_the_corpus(name: str) -> None:
    """The coherent trees of the enumeration's corpus test, at orders 2 and 3, in the engine's order."""
    from safetyops_dsl.fta.openpsa import load_openpsa

    tree = load_openpsa([str(ARALIA / f"{name}.xml")], None)[0]
    p = preprocess(tree)
    assert coherent(p)
    probability = {n: e.probability for n, e in tree.basic_events.items()}
    for limit in (2, 3):
        result = analyse(tree, AnalysisOptions(limit_order=limit, cut_set_limit=None, importance=False))
        found = ranked(truncated_cut_sets(p, limit), probability, 0.0, None)
        assert found.cut_sets == result.cut_sets, (name, limit)
