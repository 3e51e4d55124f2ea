"""Minimal cut sets up to an order limit without a BDD (fta/enumeration.py): against brute force, the
engine's minsol, the Aralia trees, and the work bound it promises."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.enumeration import (
    CHUNK_BITS,
    EnumeratedCutSets,
    TooManySets,
    minimal_cut_sets,
    ranked,
    work,
)
from safetyops_dsl.fta.preprocess import preprocess
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind
from tests.unit.fta.test_engine_properties import brute_minimal_true_points, trees

ARALIA = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "openpsa" / "input" / "Aralia"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _names(found: EnumeratedCutSets) -> set[frozenset[str]]:
    return {frozenset(s) for s in found.cut_sets}


@SETTINGS
@given(trees(), st.integers(0, 5))
def test_the_sets_are_the_brute_force_minimal_true_points_up_to_the_limit(tree: FaultTree, limit: int) -> None:
    """Every gate kind, coherent or not, as written and preprocessed: the minimal sets of failed events that
    make the top occur, those of at most `limit` events, nothing else."""
    expected = {s for s in brute_minimal_true_points(tree) if len(s) <= limit}
    for form in (tree, preprocess(tree)):
        found = minimal_cut_sets(form, limit)
        assert _names(found) == expected
        assert len(found.cut_sets) == len(expected)  # no set twice
        assert found.evaluated <= work(found.events, limit)


@SETTINGS
@given(trees(), st.integers(1, 4))
def test_the_sets_are_the_engines_with_the_same_order_limit(tree: FaultTree, limit: int) -> None:
    result = analyse(tree, AnalysisOptions(limit_order=limit, cut_set_limit=None))
    found = ranked(minimal_cut_sets(preprocess(tree), limit),
                   {n: e.probability for n, e in tree.basic_events.items()}, 0.0, None)
    assert found.cut_sets == result.cut_sets  # the same sets, in the engine's order: most probable first
    assert found.by_order() == result.cut_sets_by_order


@SETTINGS
@given(trees(), st.integers(2, 5), st.integers(1, 24))
def test_chunks_of_a_few_bits_lose_no_set(tree: FaultTree, limit: int, chunk: int) -> None:
    """Chunks of one or a few rows: prefixes that end inside a chunk, rows below the prefix masked, the
    gates above each prefix event re-evaluated and undone across chunk boundaries."""
    from safetyops_dsl.fta import enumeration

    expected = {s for s in brute_minimal_true_points(tree) if len(s) <= limit}
    saved = enumeration.CHUNK_BITS
    enumeration.CHUNK_BITS = chunk
    try:
        found = minimal_cut_sets(tree, limit)
    finally:
        enumeration.CHUNK_BITS = saved
    assert _names(found) == expected
    assert found.evaluated <= work(found.events, limit)


def _chain_of_votes(n: int) -> FaultTree:
    """AND of n overlapping 2-of-3 votes over n + 2 events: no cut set below about 2n / 3 events."""
    events = {f"e{i}": BasicEvent(f"e{i}", 0.1 + 0.01 * i) for i in range(n + 2)}
    gates = {f"v{i}": Gate(f"v{i}", GateKind.ATLEAST, (f"e{i}", f"e{i + 1}", f"e{i + 2}"), 2) for i in range(n)}
    gates["top"] = Gate("top", GateKind.AND, tuple(gates))
    return FaultTree("T", "top", gates, events)


def test_wide_levels_are_cut_into_chunks_without_losing_a_set() -> None:
    """More events than fit one chunk row: the pairs of a level are evaluated in several chunks."""
    n = 1100  # a square of n x n bits is more than CHUNK_BITS
    assert n * n > CHUNK_BITS
    events = {f"e{i:04d}": BasicEvent(f"e{i:04d}", 0.01) for i in range(n)}
    pairs = [(f"e{i:04d}", f"e{n - 1 - i:04d}") for i in range(0, n // 2, 37)]
    gates = {f"p{i}": Gate(f"p{i}", GateKind.AND, pair) for i, pair in enumerate(pairs)}
    gates["top"] = Gate("top", GateKind.OR, (*gates, "e0550"))
    tree = FaultTree("T", "top", gates, events)
    found = minimal_cut_sets(tree, 2)
    assert _names(found) == {frozenset(p) for p in pairs} | {frozenset({"e0550"})}


def test_supersets_of_small_cut_sets_are_not_listed() -> None:
    e = {x: BasicEvent(x, 0.1) for x in "abcdef"}
    gates = {
        "top": Gate("top", GateKind.OR, ("a", "bc", "three")),
        "bc": Gate("bc", GateKind.AND, ("b", "c")),
        "three": Gate("three", GateKind.ATLEAST, ("a", "b", "d", "e", "f"), 3),
    }
    found = minimal_cut_sets(FaultTree("T", "top", gates, e), 4)
    assert _names(found) == {frozenset("a"), frozenset("bc"), frozenset("def"), frozenset("bde"),
                             frozenset("bdf"), frozenset("bef")}


def test_the_empty_set_when_the_top_occurs_with_every_event_working() -> None:
    e = {"a": BasicEvent("a", 0.1)}
    tree = FaultTree("T", "top", {"top": Gate("top", GateKind.NOT, ("a",))}, e)
    assert minimal_cut_sets(tree, 3).cut_sets == ((),)


def test_more_work_than_the_budget_is_refused_before_any_is_done() -> None:
    tree = _chain_of_votes(30)
    with pytest.raises(TooManySets) as caught:
        minimal_cut_sets(tree, 4, budget=1000)
    assert caught.value.sets == work(32, 4) > 1000
    assert minimal_cut_sets(tree, 1, budget=1000).cut_sets == ()


def test_work_counts_the_sets_of_a_full_enumeration() -> None:
    """With nothing found, every prefix is evaluated: the count is exactly `work`."""
    tree = _chain_of_votes(9)  # minimal cut sets of 6 events and more
    for k in range(5):
        found = minimal_cut_sets(tree, k)
        assert found.cut_sets == ()
        assert found.evaluated == work(11, k)


def test_ranked_orders_by_probability_drops_below_the_cut_off_and_keeps_the_limit() -> None:
    found = EnumeratedCutSets(2, (("a",), ("b", "c"), ("d",)), 4, 10)
    p = {"a": 0.1, "b": 0.5, "c": 0.5, "d": 0.01}
    r = ranked(found, p, 0.05, 1)
    assert r.cut_sets == (("b", "c"), ("a",))
    assert r.probabilities == (0.25, 0.1)
    assert r.listed == 1
    assert r.by_order() == {1: 1, 2: 1}


CORPUS = ["baobab2", "chinese", "das9202", "das9205", "das9601", "edf9205", "ftr10", "isp9602", "jbd9601"]


@pytest.mark.skipif(not ARALIA.is_dir(), reason="the Open-PSA corpus (../shared) is absent")
@pytest.mark.parametrize("name", CORPUS)
def test_the_sets_are_the_engines_on_the_corpus(name: str) -> None:
    """Order 2 on every tree and order 3 on the smaller ones (das9601 is non-coherent), listed in the
    engine's order."""
    from safetyops_dsl.fta.openpsa import load_openpsa

    tree = load_openpsa([str(ARALIA / f"{name}.xml")], None)[0]
    p = {n: e.probability for n, e in tree.basic_events.items()}
    for limit in (2, 3) if name not in ("jbd9601", "edf9205", "ftr10") else (2,):
        result = analyse(tree, AnalysisOptions(limit_order=limit, cut_set_limit=None, importance=False))
        found = ranked(minimal_cut_sets(preprocess(tree), limit), p, 0.0, None)
        assert found.cut_sets == result.cut_sets, (name, limit)


def test_no_reference_cycle_keeps_a_chunk_alive() -> None:
    """Each chunk's rows and gate values are freed when it is done, not at the next garbage collection (which
    big integers alone never trigger: nus9601 at order 3 grew to 650 MiB that way, 63 MiB without)."""
    import gc

    from safetyops_dsl.fta import enumeration

    tree = _chain_of_votes(9)
    saved = enumeration.CHUNK_BITS
    enumeration.CHUNK_BITS = 24  # two rows of 11 events: several chunks
    gc.collect()
    gc.disable()
    try:
        minimal_cut_sets(tree, 4)
        assert gc.collect() == 0
    finally:
        gc.enable()
        enumeration.CHUNK_BITS = saved
