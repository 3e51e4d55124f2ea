"""Code paths of the engine that the random-tree properties reach only by chance: the DDDMP copy of CUDD's BDD,
the order race with its challengers, and minsol's two ways of bounding an order limit (the "variables below"
bound for limits up to EXACT_LONGEST_FROM, the exact longest path above it). All checked against brute force."""

from __future__ import annotations

import math
import random

from hypothesis import given
from hypothesis import strategies as st
from test_engine_properties import SETTINGS, brute_minimal_true_points, brute_probability, trees

from safetyops_dsl.fta import bdd as bddmod
from safetyops_dsl.fta.bdd import (
    FALSE,
    TRUE,
    _Budget,
    _build_with_order,
    _flatten,
    import_cudd,
    node_probabilities,
)
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.modules import candidate_orders, find_modules, is_coherent
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind
from safetyops_dsl.fta.zdd import EXACT_LONGEST_FROM


def _flat_value(flat: bddmod.FlatBdd, true_vars: set[int]) -> bool:
    edge = flat.root
    neg = 0
    while edge >> 1 != 0:
        node = edge >> 1
        neg ^= edge & 1
        edge = flat.high[node] if flat.level[node] in true_vars else flat.low[node]
    return (neg ^ (edge & 1)) == 0


def test_flatten_matches_cudd_on_random_functions() -> None:
    cudd = import_cudd()
    rng = random.Random(7)
    for _ in range(40):
        nvars = rng.randint(1, 7)
        b = cudd.BDD()
        b.configure(reordering=False)
        b.declare(*(f"v{i}" for i in range(nvars)))
        u = b.false
        for _ in range(rng.randint(1, 5)):  # random DNF over a random subset of the variables
            t = b.true
            for v in rng.sample(range(nvars), rng.randint(1, nvars)):
                t = t & (b.var(f"v{v}") if rng.random() < 0.6 else ~b.var(f"v{v}"))
            u = u | t
        if rng.random() < 0.5:
            u = ~u
        order = [f"x{i}" for i in range(nvars)]
        flat = _flatten(b, u, order, [0.5] * nvars)
        for i in range(1, flat.size):  # children are numbered below their parents; levels grow downwards
            for e in (flat.high[i], flat.low[i]):
                assert e >> 1 < i
                assert flat.level[e >> 1] > flat.level[i]
        for bits in range(1 << nvars):
            true_vars = {v for v in range(nvars) if bits >> v & 1}
            expected = b.let({f"v{v}": v in true_vars for v in range(nvars)}, u) == b.true
            assert _flat_value(flat, true_vars) == expected
        pos, neg = node_probabilities(flat)
        p = neg[flat.root >> 1] if flat.root & 1 else pos[flat.root >> 1]
        assert math.isclose(p, b.count(u, nvars=nvars) / 2**nvars, abs_tol=1e-15)


def test_flatten_constants() -> None:
    cudd = import_cudd()
    b = cudd.BDD()
    b.declare("v0")
    assert _flatten(b, b.true, ["a"], [0.5]).root == TRUE
    assert _flatten(b, b.false, ["a"], [0.5]).root == FALSE


@SETTINGS
@given(trees())
def test_every_candidate_order_gives_the_same_function(tree: FaultTree) -> None:
    modules = find_modules(tree) if is_coherent(tree) else {tree.top}
    expected = brute_probability(tree)
    for order in candidate_orders(tree, modules):
        bdds, _, _ = _build_with_order(tree, modules, order, _Budget(None, None))
        for m in bdds.modules:  # bottom-up: fill the placeholders as the engine does
            pos, neg = node_probabilities(m.flat)
            p = neg[m.flat.root >> 1] if m.flat.root & 1 else pos[m.flat.root >> 1]
            if m.name != tree.top:
                bdds.probability[bdds.index[m.name]] = p
        assert math.isclose(p, expected, rel_tol=1e-12, abs_tol=1e-15)


def _ladder(n: int) -> FaultTree:
    """OR of n two-event ANDs whose events are read in an order that is bad as written."""
    events = {f"a{i}": BasicEvent(f"a{i}", 0.1) for i in range(n)} | {
        f"b{i}": BasicEvent(f"b{i}", 0.2) for i in range(n)
    }
    gates = {f"g{i}": Gate(f"g{i}", GateKind.AND, (f"a{i}", f"b{(i * 3) % n}")) for i in range(n)}
    gates["top"] = Gate("top", GateKind.OR, tuple(gates))
    return FaultTree("T", "top", gates, events)


def test_race_returns_the_smallest_bdd_it_built() -> None:
    tree = _ladder(6)
    modules = {tree.top}
    sizes = [
        _build_with_order(tree, modules, order, _Budget(None, None))[2]
        for order in candidate_orders(tree, modules)
    ]
    chosen = bddmod.build(tree, split=False)
    assert sum(m.flat.size for m in chosen.modules) <= sizes[0]
    r = analyse(tree, AnalysisOptions(cut_set_limit=None))
    assert r.exact_probability is not None
    assert math.isclose(r.exact_probability, brute_probability(tree), rel_tol=1e-12)


@SETTINGS
@given(trees(), st.integers(EXACT_LONGEST_FROM - 1, 8))
def test_limit_order_both_bounds(tree: FaultTree, limit: int) -> None:
    # Limits up to EXACT_LONGEST_FROM use the "variables below" bound, larger ones the exact longest path.
    r = analyse(tree, AnalysisOptions(limit_order=limit, cut_set_limit=None, importance=False))
    expected = {s for s in brute_minimal_true_points(tree) if len(s) <= limit}
    assert {frozenset(cs) for cs in r.cut_sets} == expected
    assert r.cut_set_count == len(expected)
