"""Property tests: the engine against brute force on random small trees (all gate kinds, shared sub-trees,
house events). Brute force enumerates all 2^n assignments of the (at most 8) basic events."""

from __future__ import annotations

import itertools
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safetyops_dsl.fta.cutsets import set_probability, sort_key
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.result import AnalysisOptions, Approximation
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, HouseEvent

KINDS = list(GateKind)
COHERENT = [GateKind.AND, GateKind.OR, GateKind.ATLEAST, GateKind.NULL]


@st.composite
def trees(draw: st.DrawFn, coherent: bool = False) -> FaultTree:
    n_events = draw(st.integers(1, 8))
    probs = draw(st.lists(st.sampled_from([0.0, 0.01, 0.1, 0.25, 0.5, 0.9, 1.0, 0.3]), min_size=n_events, max_size=n_events))
    basics = {f"e{i}": BasicEvent(f"e{i}", p) for i, p in enumerate(probs)}
    n_house = draw(st.integers(0, 2))
    houses = {f"h{i}": HouseEvent(f"h{i}", draw(st.booleans())) for i in range(n_house)}
    leaves = list(basics) + list(houses)
    gates: dict[str, Gate] = {}
    n_gates = draw(st.integers(1, 6))
    for gi in range(n_gates):
        kind = draw(st.sampled_from(COHERENT if coherent else KINDS))
        pool = leaves + list(gates)  # earlier gates: shared sub-trees
        if kind in (GateKind.NOT, GateKind.NULL):
            inputs = [draw(st.sampled_from(pool))]
        else:
            inputs = draw(st.lists(st.sampled_from(pool), min_size=min(2, len(pool)), max_size=4, unique=True))
        k = draw(st.integers(1, len(inputs))) if kind is GateKind.ATLEAST else None
        gates[f"g{gi}"] = Gate(f"g{gi}", kind, tuple(inputs), k)
    top = f"g{n_gates - 1}"
    full = FaultTree("T", top, gates, basics, houses)
    reach = set(full.reachable())
    return FaultTree(
        "T",
        top,
        {n: g for n, g in gates.items() if n in reach},
        {n: b for n, b in basics.items() if n in reach},
        {n: h for n, h in houses.items() if n in reach},
    )


def evaluate(tree: FaultTree, true_events: set[str]) -> bool:
    memo: dict[str, bool] = {}

    def ev(name: str) -> bool:
        if name in memo:
            return memo[name]
        if name in tree.basic_events:
            return name in true_events
        if name in tree.house_events:
            return tree.house_events[name].state
        g = tree.gates[name]
        vals = [ev(i) for i in g.inputs]
        r = {
            GateKind.AND: lambda: all(vals),
            GateKind.OR: lambda: any(vals),
            GateKind.ATLEAST: lambda: sum(vals) >= (g.k or 0),
            GateKind.XOR: lambda: sum(vals) % 2 == 1,
            GateKind.NOT: lambda: not vals[0],
            GateKind.NAND: lambda: not all(vals),
            GateKind.NOR: lambda: not any(vals),
            GateKind.NULL: lambda: vals[0],
        }[g.kind]()
        memo[name] = r
        return r

    return ev(tree.top)


def brute_probability(tree: FaultTree, fixed: dict[str, bool] | None = None) -> float:
    names = sorted(tree.basic_events)
    total = 0.0
    for bits in itertools.product((False, True), repeat=len(names)):
        assign = dict(zip(names, bits, strict=True))
        if fixed and any(assign[k] != v for k, v in fixed.items()):
            continue
        weight = 1.0
        for n, b in assign.items():
            if fixed and n in fixed:
                continue
            p = tree.basic_events[n].probability
            weight *= p if b else 1.0 - p
        if evaluate(tree, {n for n, b in assign.items() if b}):
            total += weight
    return total


def brute_minimal_true_points(tree: FaultTree) -> set[frozenset[str]]:
    names = sorted(tree.basic_events)
    true_sets = [
        frozenset(s)
        for r in range(len(names) + 1)
        for s in itertools.combinations(names, r)
        if evaluate(tree, set(s))
    ]
    return {s for s in true_sets if not any(t < s for t in true_sets)}


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(trees())
def test_exact_probability_and_cut_sets(tree: FaultTree) -> None:
    r = analyse(tree, AnalysisOptions(cut_set_limit=None))
    assert r.exact_probability is not None
    assert math.isclose(r.exact_probability, brute_probability(tree), rel_tol=1e-12, abs_tol=1e-15)
    expected = brute_minimal_true_points(tree)
    assert {frozenset(cs) for cs in r.cut_sets} == expected
    assert r.cut_set_count == len(expected)
    by_order: dict[int, int] = {}
    for s in expected:
        by_order[len(s)] = by_order.get(len(s), 0) + 1
    assert r.cut_sets_by_order == dict(sorted(by_order.items()))
    p_of = {n: b.probability for n, b in tree.basic_events.items()}
    ps = [math.prod(p_of[e] for e in s) for s in expected]
    assert r.rare_event_probability is not None and r.mcub_probability is not None
    assert math.isclose(r.rare_event_probability, min(sum(ps), 1.0), rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(r.mcub_probability, 1.0 - math.prod(1.0 - p for p in ps), rel_tol=1e-9, abs_tol=1e-15)
    # listing order: most probable first, ties by names
    keys = [(-sort_key(set_probability(cs, p_of)), cs) for cs in r.cut_sets]
    assert keys == sorted(keys)


@SETTINGS
@given(trees(), st.integers(0, 3), st.integers(1, 4))
def test_limit_order_and_top_k(tree: FaultTree, limit: int, k: int) -> None:
    r = analyse(tree, AnalysisOptions(limit_order=limit, cut_set_limit=k, importance=False))
    expected = {s for s in brute_minimal_true_points(tree) if len(s) <= limit}
    assert r.cut_set_count == len(expected)
    p_of = {n: b.probability for n, b in tree.basic_events.items()}
    ranked = sorted((tuple(sorted(s)) for s in expected), key=lambda t: (-sort_key(set_probability(t, p_of)), t))
    assert list(r.cut_sets) == ranked[:k]
    assert r.cut_sets_truncated == (len(expected) > k)


@SETTINGS
@given(trees(), st.sampled_from([1e-3, 0.01, 0.05]))
def test_cut_off(tree: FaultTree, cut_off: float) -> None:
    r = analyse(tree, AnalysisOptions(cut_off=cut_off, cut_set_limit=None, importance=False))
    p_of = {n: b.probability for n, b in tree.basic_events.items()}
    expected = {s for s in brute_minimal_true_points(tree) if math.prod(p_of[e] for e in s) >= cut_off}
    assert {frozenset(cs) for cs in r.cut_sets} == expected


@SETTINGS
@given(trees())
def test_importance_against_conditioning(tree: FaultTree) -> None:
    r = analyse(tree, AnalysisOptions(cut_set_limit=0, approximation=Approximation.EXACT))
    top = brute_probability(tree)
    for row in r.importance:
        p1 = brute_probability(tree, {row.event: True})
        p0 = brute_probability(tree, {row.event: False})
        assert math.isclose(row.birnbaum, p1 - p0, rel_tol=1e-9, abs_tol=1e-12)
        if top > 0:
            assert math.isclose(row.raw, p1 / top, rel_tol=1e-9, abs_tol=1e-12)
            assert math.isclose(row.diagnosis, row.probability * p1 / top, rel_tol=1e-9, abs_tol=1e-12)
            assert math.isclose(row.criticality, (p1 - p0) * row.probability / top, rel_tol=1e-9, abs_tol=1e-12)
            assert math.isclose(row.fussell_vesely, (top - p0) / top, rel_tol=1e-9, abs_tol=1e-12)
            if p0 > 0:
                assert math.isclose(row.rrw, top / p0, rel_tol=1e-9)
            else:
                assert row.rrw == math.inf
    # every event the function depends on gets a row
    depends = {
        e
        for e in tree.basic_events
        if brute_probability(tree, {e: True}) != brute_probability(tree, {e: False})
    }
    assert depends <= {row.event for row in r.importance}


@SETTINGS
@given(trees(coherent=True))
def test_coherent_trees_modularised_like_whole(tree: FaultTree) -> None:
    # Coherent trees are split into modules; the numbers must equal brute force all the same.
    r = analyse(tree, AnalysisOptions(cut_set_limit=None))
    assert r.exact_probability is not None
    assert math.isclose(r.exact_probability, brute_probability(tree), rel_tol=1e-12, abs_tol=1e-15)
    assert {frozenset(cs) for cs in r.cut_sets} == brute_minimal_true_points(tree)
