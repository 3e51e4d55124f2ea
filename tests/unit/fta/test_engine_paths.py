"""Code paths of the engine that the random-tree properties reach only by chance: every candidate variable
order, the order race with its challengers, and minsol's two ways of bounding an order limit (the "variables
below" bound for limits up to EXACT_LONGEST_FROM, the exact longest path above it). All checked against brute
force. (The kernels' flat arrays are checked against CUDD in test_bddk.py.) The engine's flat BDDs and probability
tables are typed arrays, read in place by the kernels; lists give the very same results."""

from __future__ import annotations

import array
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_engine_properties import SETTINGS, brute_minimal_true_points, brute_probability, trees

from safetyops_dsl.fta import _bddk, _zddk
from safetyops_dsl.fta import bdd as bddmod
from safetyops_dsl.fta.bdd import BddTooLarge, _build_with_order
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.modules import candidate_orders, find_modules, first_order, is_coherent, other_orders
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind
from safetyops_dsl.fta.zdd import EXACT_LONGEST_FROM


@SETTINGS
@given(trees())
def test_every_candidate_order_gives_the_same_function(tree: FaultTree) -> None:
    modules = find_modules(tree) if is_coherent(tree) else {tree.top}
    expected = brute_probability(tree)
    for order in candidate_orders(tree, modules):
        bdds, _, _ = _build_with_order(tree, modules, order, 0)
        for m in bdds.modules:  # bottom-up: fill the placeholders as the engine does
            f = m.flat
            pos, neg = _bddk.node_probabilities(f.level, f.high, f.low, f.probability)
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
        _build_with_order(tree, modules, order, 0)[2]
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


@SETTINGS
@given(trees(), st.integers(1, 40))
def test_resumed_build_equals_uninterrupted_build(tree: FaultTree, step: int) -> None:
    # The race stops builds at their node budget and resumes them later: a build stopped every `step` nodes
    # must end with exactly the BDDs (arrays and all) of a build that ran in one go.
    modules = find_modules(tree) if is_coherent(tree) else {tree.top}
    for order in candidate_orders(tree, modules):
        whole, work, size = _build_with_order(tree, modules, order, 0)
        b = bddmod._OrderBuild(tree, modules, order)
        stops = 0
        while not b.run(b.work + step):
            stops += 1
            assert stops <= work + 1  # every resume makes progress
        assert b.size == size
        for got, want in zip(b.bdds.modules, whole.modules, strict=True):
            assert (got.name, got.children, got.events) == (want.name, want.children, want.events)
            assert (list(got.flat.level), list(got.flat.high), list(got.flat.low), got.flat.root) == (
                list(want.flat.level), list(want.flat.high), list(want.flat.low), want.flat.root)


@SETTINGS
@given(trees())
def test_kernels_give_the_same_bits_on_typed_arrays_and_lists(tree: FaultTree) -> None:
    # The engine passes flatten's array('i') and node_probabilities' array('d') (read in place); lists take
    # the conversion path. Every kernel result must be the same to the bit.
    modules = find_modules(tree) if is_coherent(tree) else {tree.top}
    bdds, _, _ = _build_with_order(tree, modules, candidate_orders(tree, modules)[0], 0)
    nvars = len(bdds.variables)
    for m in bdds.modules:
        f = m.flat
        assert all(isinstance(a, array.array) and a.typecode == "i" for a in (f.level, f.high, f.low))
        lists = (list(f.level), list(f.high), list(f.low))
        pos, neg = _bddk.node_probabilities(f.level, f.high, f.low, f.probability)
        assert pos.typecode == neg.typecode == "d"
        lpos, lneg = _bddk.node_probabilities(*lists, list(f.probability))
        assert [x.hex() for x in pos] == [x.hex() for x in lpos]
        assert [x.hex() for x in neg] == [x.hex() for x in lneg]
        cond = _bddk.conditional_probabilities(f.level, f.high, f.low, f.root, f.probability, pos, neg, nvars)
        lcond = _bddk.conditional_probabilities(*lists, f.root, f.probability, list(lpos), list(lneg), nvars)
        assert [(v, a.hex(), b.hex()) for v, (a, b) in cond.items()] == [
            (v, a.hex(), b.hex()) for v, (a, b) in lcond.items()
        ]
        for limit in (None, 0, 1, 2, EXACT_LONGEST_FROM, EXACT_LONGEST_FROM + 1, 8):
            out = _zddk.minimal_solutions(f.level, f.high, f.low, f.root, nvars, limit)
            assert out == _zddk.minimal_solutions(*lists, f.root, nvars, limit)
        if m.name != tree.top:
            root = f.root
            bdds.probability[bdds.index[m.name]] = neg[root >> 1] if root & 1 else pos[root >> 1]


def _race_model(works: list[int], sizes: list[int], first: int, cap: int) -> int | None:
    """The order `bdd.build` must pick, from what each order allocates in one go (`works`, index 0 = as written,
    then `other_orders`) and the size of its BDDs: the schedule written out on numbers alone, so the winner
    cannot depend on anything else (time, load, hash seeds). None: every order needs more than `cap`."""
    budget = min(first, cap)
    if works[0] <= budget:
        return 0
    if len(works) == 1:
        return 0 if works[0] <= cap else None
    race = [*range(1, len(works)), 0]
    held = {0: budget}
    winner = None
    # Rounds: the first budget, 2.5x, then 4x, 16x, ... (up to cap).
    rounds = [budget, min(budget * 5 // 2, cap), *(min(budget * 4**i, cap) for i in range(1, 40))]
    for budget in rounds:
        for o in race:
            if held.get(o, 0) < budget:  # a build already holding the budget returns at once
                if works[o] <= budget:
                    winner = o
                    break
                held[o] = budget
        if winner is not None:
            break
        if budget >= cap:
            return None
    assert winner is not None
    best = winner
    for o in race:
        if o != winner and works[o] <= max(1, held.get(o, 0), works[winner] // 2) and sizes[o] < sizes[best]:
            best = o
    return best


@SETTINGS
@given(trees(), st.integers(1, 64), st.integers(1, 400))
def test_race_winner_is_decided_by_node_counts(tree: FaultTree, first: int, cap: int) -> None:
    split = is_coherent(tree)
    found = find_modules(tree) if split else {tree.top}
    modules = bddmod._separate(tree, found) if split else found
    order0 = first_order(tree, modules, found)
    orders = [order0, *other_orders(tree, modules, order0)]
    built = [_build_with_order(tree, modules, order, 0) for order in orders]
    works = [w for _, w, _ in built]
    # Besides the drawn first budget, those that put an order's count just inside or outside the 2.5x and 4x
    # rounds, where a schedule without one of them picks another order.
    firsts = {first} | {max(1, f) for w in works for f in (-(-2 * w // 5), 2 * w // 5, -(-w // 4), w // 4)}
    saved = bddmod.FIRST_BUDGET
    try:
        for f in sorted(firsts):
            expected = _race_model(works, [s for _, _, s in built], f, cap)
            bddmod.FIRST_BUDGET = f
            if expected is None:
                with pytest.raises(BddTooLarge):
                    bddmod.build(tree, split=split, max_nodes=cap)
                continue
            got = bddmod.build(tree, split=split, max_nodes=cap)
            assert got.variables == orders[expected]
            want = built[expected][0]
            for g, w in zip(got.modules, want.modules, strict=True):
                assert (list(g.flat.level), list(g.flat.high), list(g.flat.low), g.flat.root) == (
                    list(w.flat.level), list(w.flat.high), list(w.flat.low), w.flat.root)
    finally:
        bddmod.FIRST_BUDGET = saved


def test_parked_manager_makes_the_same_nodes() -> None:
    # park() drops the unique and computed tables of a stopped build; the nodes made afterwards (the race's
    # measure) and the BDD must be those of a manager that never parked.
    tree = _ladder(9)
    order = candidate_orders(tree, {tree.top})[0]
    whole, work, _ = _build_with_order(tree, {tree.top}, order, 0)
    b = bddmod._OrderBuild(tree, {tree.top}, order)
    limit = 1
    while not b.run(limit):  # run() parks the manager at every stop
        limit += 3
    assert b.work == work
    assert [list(m.flat.high) for m in b.bdds.modules] == [list(m.flat.high) for m in whole.modules]
    edges, counts = [], []
    for park in (False, True):
        mgr = _bddk.Manager(4)
        x = mgr.and_(mgr.var(0), mgr.var(1))
        if park:
            mgr.park()
            mgr.park()  # parking twice is harmless
        edges.append((mgr.or_(x, mgr.var(2)), mgr.xor(x, mgr.var(3)), mgr.atleast(2, [mgr.var(i) for i in range(4)])))
        counts.append(mgr.nodes)
    assert edges[0] == edges[1]
    assert counts[0] == counts[1]
