"""The C minsol kernel `_zddk`: minimal solutions against brute force and against the pure-Python minsol (fta_reference.py) on random
Boolean functions and fault trees (with and without negation, with order limits), the whole-family passes bit for
bit against the pure-Python ones, the output's structure, determinism, argument checking, and inputs deep enough to overflow a
recursive C implementation. Inputs as typed arrays (array('i') from _bddk.flatten, array('d') probabilities: read in place)
and as lists (converted item by item) give the same results and meet the same checks."""

from __future__ import annotations

import array
import contextlib
import ctypes
import itertools
import math
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from fta_reference import ReferenceZdd, minimal_solutions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_properties import brute_minimal_true_points, trees

from safetyops_dsl.fta._bddk import Manager
from safetyops_dsl.fta.bdd import FlatBdd, TreeBdds, _build_with_order
from safetyops_dsl.fta.modules import candidate_orders, find_modules, is_coherent
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind

zddk = pytest.importorskip("safetyops_dsl.fta._zddk")

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIMITS = st.sampled_from([None, 0, 1, 2, 3, 5])
POWERS = 9

Family = set[frozenset[int]]


# -- helpers -----------------------------------------------------------------------------------------------


def family(var: list[int], hi: list[int], lo: list[int], root: int) -> Family:
    out: Family = set()
    stack: list[tuple[int, tuple[int, ...]]] = [(root, ())]
    while stack:
        n, prefix = stack.pop()
        while n > 1:
            stack.append((hi[n], (*prefix, var[n])))
            n = lo[n]
        if n == 1:
            out.add(frozenset(prefix))
    return out


def flat_value(flat: FlatBdd, true_vars: frozenset[int]) -> bool:
    edge, neg = flat.root, 0
    while edge >> 1 != 0:
        node = edge >> 1
        neg ^= edge & 1
        edge = flat.high[node] if flat.level[node] in true_vars else flat.low[node]
    return (neg ^ (edge & 1)) == 0


def brute_minsol(flat: FlatBdd, limit: int | None) -> Family:
    """Minimal true points of the BDD's function over all its variables, of at most `limit` events."""
    nvars = len(flat.variables)
    trues = [
        frozenset(s)
        for r in range(nvars + 1)
        for s in itertools.combinations(range(nvars), r)
        if flat_value(flat, frozenset(s))
    ]
    minimal = {s for s in trues if not any(t < s for t in trues)}
    return {s for s in minimal if limit is None or len(s) <= limit}


def run(flat: FlatBdd, limit: int | None) -> tuple[list[int], list[int], list[int], int]:
    return zddk.minimal_solutions(flat.level, flat.high, flat.low, flat.root, len(flat.variables), limit)


def python_minsol(flat: FlatBdd, limit: int | None) -> tuple[ReferenceZdd, int]:
    z = ReferenceZdd(len(flat.variables))
    return z, minimal_solutions(z, flat, limit)


def check_structure(nvars: int, out: tuple[list[int], list[int], list[int], int]) -> None:
    var, hi, lo, root = out
    assert len(var) == len(hi) == len(lo) >= 2
    assert var[0] == var[1] == nvars and hi[0] == hi[1] == lo[0] == lo[1] == 0
    seen = set()
    for n in range(2, len(var)):
        assert 0 <= var[n] < nvars
        assert hi[n] != 0  # zero-suppressed
        assert hi[n] < n and lo[n] < n  # children below parents
        assert var[n] < var[hi[n]] and var[n] < var[lo[n]]  # ordered
        assert (var[n], hi[n], lo[n]) not in seen  # reduced
        seen.add((var[n], hi[n], lo[n]))
    # only nodes reachable from root, root last
    if root > 1:
        assert root == len(var) - 1
        reach = {root}
        for n in range(root, 1, -1):
            if n in reach:
                reach.update((hi[n], lo[n]))
        assert reach | {0, 1} >= set(range(len(var)))
    else:
        assert len(var) == 2


def counts_of(fam: Family) -> dict[int, int]:
    out: dict[int, int] = {}
    for s in fam:
        out[len(s)] = out.get(len(s), 0) + 1
    return dict(sorted(out.items()))


def i32(xs: Sequence[int]) -> array.array:
    return array.array("i", xs)


def check_against_python(flat: FlatBdd, limit: int | None, expected: Family | None = None) -> None:
    nvars = len(flat.variables)
    out = run(flat, limit)
    check_structure(nvars, out)
    # the same from lists (the sequence path) as from flatten's array('i') (read in place)
    lists = FlatBdd(list(flat.level), list(flat.high), list(flat.low), flat.root, flat.variables, flat.probability)
    assert isinstance(flat.level, array.array) and run(lists, limit) == out
    var, hi, lo, root = out
    got = family(var, hi, lo, root)
    z, proot = python_minsol(flat, limit)
    assert got == {frozenset(s) for s in z.iterate(proot)}
    if expected is not None:
        assert got == expected
    assert run(flat, limit) == out  # deterministic
    # whole-family passes, on the Python store (unreachable nodes included) and on the C output
    probs = [0.5 ** (i % 5 + 1) * (1 + i / 7) for i in range(nvars)]
    assert zddk.count_by_order(z.var, z.hi, z.lo, proot) == z.count_by_order(proot)
    assert zddk.power_sums(z.var, z.hi, z.lo, proot, probs, POWERS) == z.power_sums(proot, probs, POWERS)
    mine = ReferenceZdd(nvars)
    mine.var, mine.hi, mine.lo = var, hi, lo
    assert zddk.count_by_order(var, hi, lo, root) == mine.count_by_order(root) == counts_of(got)
    sums = zddk.power_sums(var, hi, lo, root, probs, POWERS)
    assert sums == mine.power_sums(root, probs, POWERS)
    typed = (i32(var), i32(hi), i32(lo), root)
    assert zddk.count_by_order(*typed) == counts_of(got)
    assert [x.hex() for x in zddk.power_sums(*typed, array.array("d", probs), POWERS)] == [x.hex() for x in sums]
    for j, value in enumerate(sums, 1):
        brute = math.fsum(math.prod(probs[v] for v in s) ** j for s in got)
        assert math.isclose(value, brute, rel_tol=1e-12, abs_tol=1e-300)
    # the listing by ranks: Zdd.iterate's order, each set as its ascending ranks (here the reverse order)
    rank = [nvars - 1 - v for v in range(nvars)]
    listed = zddk.ranked_sets(var, hi, lo, root, rank)
    assert listed == [tuple(sorted(rank[v] for v in s)) for s in mine.iterate(root)]
    assert zddk.ranked_sets(*typed, i32(rank)) == listed
    assert zddk.ranked_sets(z.var, z.hi, z.lo, proot, rank) == [tuple(sorted(rank[v] for v in s)) for s in z.iterate(proot)]
    assert {frozenset(nvars - 1 - r for r in t) for t in listed} == got and len(listed) == len(got)
    assert unflatten(zddk.ranked_sets(var, hi, lo, root, rank, flat=True)) == listed


def unflatten(flat: tuple[bytes, bytes]) -> list[tuple[int, ...]]:
    """`ranked_sets(..., flat=True)` read back as the list of tuples it stands for."""
    items, ends = (memoryview(b).cast("i") for b in flat)
    out, start = [], 0
    for end in ends:
        out.append(tuple(items[start:end]))
        start = end
    assert start == len(items)
    return out


# -- random Boolean functions straight from CUDD ------------------------------------------------------------


@st.composite
def functions(draw: st.DrawFn, negation: bool) -> FlatBdd:
    """A random DNF over up to 7 variables (literals negated only if `negation`), possibly complemented."""
    nvars = draw(st.integers(1, 7))
    m = Manager(nvars)
    u = 1  # FALSE
    for _ in range(draw(st.integers(0, 5))):
        t = 0  # TRUE
        for v in draw(st.lists(st.integers(0, nvars - 1), min_size=1, max_size=nvars, unique=True)):
            x = m.var(v)
            t = m.and_(t, x ^ 1 if negation and draw(st.booleans()) else x)
        u = m.or_(u, t)
    if negation and draw(st.booleans()):
        u ^= 1
    level, high, low, root = m.flatten(u)
    return FlatBdd(level, high, low, root, [f"x{i}" for i in range(nvars)], [0.1] * nvars)


@SETTINGS
@given(functions(negation=False), LIMITS)
def test_monotone_functions(flat: FlatBdd, limit: int | None) -> None:
    check_against_python(flat, limit, brute_minsol(flat, limit))


@SETTINGS
@given(functions(negation=True), LIMITS)
def test_functions_with_negation(flat: FlatBdd, limit: int | None) -> None:
    check_against_python(flat, limit, brute_minsol(flat, limit))


@SETTINGS
@given(functions(negation=True), st.integers(4, 9))
def test_limits_around_the_longest_path(flat: FlatBdd, limit: int) -> None:
    # Up to 4 the BDD is read lazily with the "variables below" bound, above it the exact longest path is used.
    check_against_python(flat, limit, brute_minsol(flat, limit))


@SETTINGS
@given(functions(negation=True), st.integers(5, 9), st.sampled_from([-1, 0, 1, 2, 3, 5, 8, 13, 40]))
def test_the_unlimited_first_try_within_any_step_budget(flat: FlatBdd, limit: int, steps: int) -> None:
    # Above the lazy limits the unlimited family is tried first: finished and small enough, it is the answer;
    # stopped by its budget or too large, the limited call shares whatever it finished. Every budget gives the
    # same family.
    nvars = len(flat.variables)
    out = zddk.minimal_solutions(flat.level, flat.high, flat.low, flat.root, nvars, limit, first_steps=steps)
    check_structure(nvars, out)
    assert family(*out) == brute_minsol(flat, limit)


def test_a_limit_below_the_longest_path_but_above_every_set_takes_the_unlimited_family() -> None:
    # OR of 12 two-event ANDs, each AND also under a 3-of-4 vote of its pair with two shared events: the BDD has
    # paths of many high edges, the minimal sets have at most 3 events. Limits 5 and 8 give the sets of the
    # unlimited family, whatever the first try's budget (0: the limited call alone, as before).
    events = {f"e{i}": BasicEvent(f"e{i}", 0.1) for i in range(26)}
    gates = {f"g{i}": Gate(f"g{i}", GateKind.ATLEAST, (f"e{2 * i}", f"e{2 * i + 1}", "e24", "e25"), k=3)
             for i in range(12)}
    gates["top"] = Gate("top", GateKind.OR, tuple(gates))
    tree = FaultTree("T", "top", gates, events)
    (module,) = single_module(tree).modules
    flat = module.flat
    unlimited = family(*run(flat, None))
    assert max(map(len, unlimited)) == 3
    for limit in (2, 3, 5, 8):
        expected = {s for s in unlimited if len(s) <= limit}
        for steps in (-1, 0, 1, 100):
            out = zddk.minimal_solutions(flat.level, flat.high, flat.low, flat.root, len(flat.variables), limit,
                                         first_steps=steps)
            assert family(*out) == expected


# -- random fault trees through the engine's BDD builder ----------------------------------------------------


def single_module(tree: FaultTree) -> TreeBdds:
    return _build_with_order(tree, {tree.top}, candidate_orders(tree, {tree.top})[0], 0)[0]


@SETTINGS
@given(trees(coherent=False), LIMITS)
def test_fault_trees_against_brute_force(tree: FaultTree, limit: int | None) -> None:
    bdds = single_module(tree)
    (module,) = bdds.modules
    minimal = brute_minimal_true_points(tree)
    expected = {frozenset(bdds.index[e] for e in s) for s in minimal if limit is None or len(s) <= limit}
    check_against_python(module.flat, limit, expected)


@SETTINGS
@given(trees(coherent=True), LIMITS)
def test_fault_tree_modules(tree: FaultTree, limit: int | None) -> None:
    modules = find_modules(tree) if is_coherent(tree) else {tree.top}
    bdds = _build_with_order(tree, modules, candidate_orders(tree, modules)[0], 0)[0]
    for m in bdds.modules:  # placeholders are plain variables here
        check_against_python(m.flat, limit)


def test_a_limit_above_every_path_shares_the_unlimited_work() -> None:
    # OR of 12 two-event ANDs (24 variables): no path to TRUE takes more than 13 high edges, so a limit of 20
    # is the unlimited computation (memo entries shared from the root down) and gives the very same lists.
    events = {f"e{i}": BasicEvent(f"e{i}", 0.1) for i in range(24)}
    gates = {f"g{i}": Gate(f"g{i}", GateKind.AND, (f"e{2 * i}", f"e{2 * i + 1}")) for i in range(12)}
    gates["top"] = Gate("top", GateKind.OR, tuple(gates))
    tree = FaultTree("T", "top", gates, events)
    (module,) = single_module(tree).modules
    flat = module.flat
    assert len(flat.variables) == 24
    unlimited = run(flat, None)
    assert len(family(*unlimited)) == 12
    assert run(flat, 20) == unlimited
    assert run(flat, 13) == unlimited
    for limit in (1, 2, 5, 12):
        assert family(*run(flat, limit)) == {s for s in family(*unlimited) if len(s) <= limit}


# -- constants and hand-made inputs -----------------------------------------------------------------------


def test_constants() -> None:
    for limit in (None, 0, 3):
        assert zddk.minimal_solutions([4], [0], [0], 0, 4, limit) == ([4, 4], [0, 0], [0, 0], 1)  # TRUE: {{}}
        assert zddk.minimal_solutions([4], [0], [0], 1, 4, limit) == ([4, 4], [0, 0], [0, 0], 0)  # FALSE: {}
    assert zddk.minimal_solutions([0], [0], [0], 0, 0, None) == ([0, 0], [0, 0], [0, 0], 1)
    # not x: true at the empty set
    assert zddk.minimal_solutions([1, 0], [0, 0], [0, 1], 3, 1, 0) == ([1, 1], [0, 0], [0, 0], 1)
    assert zddk.minimal_solutions([1, 0], [0, 0], [0, 1], 2, 1, 0) == ([1, 1], [0, 0], [0, 0], 0)
    assert zddk.minimal_solutions([1, 0], [0, 0], [0, 1], 2, 1, None) == ([1, 1, 0], [0, 0, 1], [0, 0, 0], 2)
    assert zddk.count_by_order([3, 3], [0, 0], [0, 0], 1) == {0: 1}
    assert zddk.ranked_sets([3, 3], [0, 0], [0, 0], 1, [0, 1, 2]) == [()]
    assert zddk.ranked_sets([3, 3], [0, 0], [0, 0], 0, [0, 1, 2]) == []
    assert zddk.ranked_sets([3, 3], [0, 0], [0, 0], 1, [0, 1, 2], flat=True) == (b"", b"\0\0\0\0")
    assert zddk.ranked_sets([3, 3], [0, 0], [0, 0], 0, [0, 1, 2], flat=True) == (b"", b"")
    assert zddk.count_by_order([3, 3], [0, 0], [0, 0], 0) == {}
    assert zddk.power_sums([3, 3], [0, 0], [0, 0], 1, [0.5] * 3, 3) == [1.0, 1.0, 1.0]
    assert zddk.power_sums([3, 3], [0, 0], [0, 0], 0, [0.5] * 3, 3) == [0.0, 0.0, 0.0]
    assert zddk.power_sums([3, 3], [0, 0], [0, 0], 0, [0.5] * 3, 0) == []


def test_counts_beyond_64_bits() -> None:
    # All subsets of 100 variables: C(100, 50) is about 1e29.
    n = 100
    var, hi, lo = [n, n], [0, 0], [0, 0]
    prev = 1
    for v in range(n - 1, -1, -1):
        var.append(v)
        hi.append(prev)
        lo.append(prev)
        prev = len(var) - 1
    z = ReferenceZdd(n)
    z.var, z.hi, z.lo = var, hi, lo
    counts = zddk.count_by_order(var, hi, lo, prev)
    assert counts == z.count_by_order(prev) == {k: math.comb(n, k) for k in range(n + 1)}
    probs = [0.01] * n
    assert zddk.power_sums(var, hi, lo, prev, probs, 4) == z.power_sums(prev, probs, 4)


def test_unreachable_nodes_are_ignored() -> None:
    # Node 2 is garbage (its child is out of range) but not under root 3.
    var, hi, lo = [5, 5, 1, 0], [0, 0, 99, 1], [0, 0, 0, 0]
    assert zddk.count_by_order(var, hi, lo, 3) == {1: 1}
    assert zddk.power_sums(var, hi, lo, 3, [0.25, 0.5], 2) == [0.25, 0.0625]


# -- deep inputs: explicit stacks, no C recursion ---------------------------------------------------------

DEEP = 100_000


def and_chain(n: int) -> tuple[list[int], list[int], list[int], int]:
    """x0 & x1 & ... & x(n-1): node i tests x(n-i), high to node i-1, low to FALSE."""
    level, high, low = [n], [0], [0]
    for i in range(1, n + 1):
        level.append(n - i)
        high.append(2 * (i - 1))
        low.append(1)
    return level, high, low, 2 * n


def or_chain(n: int) -> tuple[list[int], list[int], list[int], int]:
    """x0 | x1 | ... : node i tests x(n-i), high to TRUE, low to node i-1 (node 1's low is FALSE)."""
    level, high, low = [n], [0], [0]
    for i in range(1, n + 1):
        level.append(n - i)
        high.append(0)
        low.append(2 * (i - 1) if i > 1 else 1)
    return level, high, low, 2 * n


def test_deep_and_chain() -> None:
    level, high, low, root = and_chain(DEEP)
    for limit in (None, DEEP - 1, DEEP, 3):
        var, hi, lo, r = zddk.minimal_solutions(level, high, low, root, DEEP, limit)
        expected = {DEEP: 1} if limit is None or limit >= DEEP else {}
        assert zddk.count_by_order(var, hi, lo, r) == expected
    assert len(var) == 2


def test_deep_or_chain() -> None:
    level, high, low, root = or_chain(DEEP)
    var, hi, lo, r = zddk.minimal_solutions(level, high, low, root, DEEP, None)
    assert zddk.count_by_order(var, hi, lo, r) == {1: DEEP}
    assert zddk.power_sums(var, hi, lo, r, [0.5] * DEEP, 2) == [DEEP * 0.5, DEEP * 0.25]
    # complemented: NOT(x0 | ...) is true at the empty set, along a low chain of DEEP nodes
    for limit in (0, 1, 7, None):
        assert zddk.minimal_solutions(level, high, low, root ^ 1, DEEP, limit)[3] == 1
    for limit in (0, 1):
        out = zddk.minimal_solutions(level, high, low, root, DEEP, limit)
        assert zddk.count_by_order(*out) == ({1: DEEP} if limit else {})


def test_deep_without() -> None:
    # f = x0 & A | !x0 & A & z with A = x1 & ... & xn: minsol takes without({A}, {A + z}) down n levels.
    n = DEEP
    nvars = n + 2
    level, high, low = [nvars], [0], [0]
    level.append(n + 1)  # z
    high.append(0)
    low.append(1)
    prev = 1
    for v in range(n, 0, -1):  # A & z
        level.append(v)
        high.append(2 * prev)
        low.append(1)
        prev = len(level) - 1
    a_z = prev
    prev = 0
    for v in range(n, 0, -1):  # A
        level.append(v)
        high.append(2 * prev if prev else 0)
        low.append(1)
        prev = len(level) - 1
    level.append(0)
    high.append(2 * prev)
    low.append(2 * a_z)
    root = 2 * (len(level) - 1)
    for limit in (None, n + 1, 5):
        var, hi, lo, r = zddk.minimal_solutions(level, high, low, root, nvars, limit)
        assert zddk.count_by_order(var, hi, lo, r) == ({n + 1: 2} if limit is None or limit > n else {})


# -- argument checking ------------------------------------------------------------------------------------

GOOD: dict[str, Any] = {"level": [2, 1, 0], "high": [0, 0, 2], "low": [0, 1, 1], "root": 4, "nvars": 2}


@pytest.mark.parametrize("limit", [None, 0, 1, 5])
@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"level": [2, 1]}, ValueError),  # lengths differ
        ({"level": [], "high": [], "low": []}, ValueError),
        ({"level": [3, 1, 0]}, ValueError),  # node 0 is not at level nvars
        ({"level": [2, 2, 0]}, ValueError),  # a node at the terminal level
        ({"level": [2, 0, 1]}, ValueError),  # child above its parent in the order
        ({"level": [2, 1, 1]}, ValueError),  # child at its parent's level
        ({"level": [2, -1, 0]}, ValueError),
        ({"high": [0, 0, 4]}, ValueError),  # child not below its parent
        ({"high": [0, 0, 6]}, ValueError),  # edge out of range
        ({"low": [0, 1, -1]}, ValueError),
        ({"high": [0, 0, 2**40]}, ValueError),
        ({"root": 6}, ValueError),
        ({"root": -1}, ValueError),
        ({"nvars": -1}, ValueError),
        ({"high": [0, 0, 2.0]}, TypeError),
        ({"level": [2, None, 0]}, TypeError),
        ({"low": 5}, TypeError),
        ({"root": "4"}, TypeError),
    ],
)
@pytest.mark.parametrize("typed", [False, True])
def test_malformed_bdd(change: dict[str, Any], error: type[Exception], limit: int | None, typed: bool) -> None:
    args = {**GOOD, **change, "limit": limit}
    if typed:  # the same checks on array('i') inputs read in place (where the values fit one)
        args.update({k: as_i32(v) for k, v in args.items() if k in ("level", "high", "low")})
    with pytest.raises(error):
        zddk.minimal_solutions(**args)
    assert all(resizable(a) for a in args.values() if isinstance(a, array.array))


def as_i32(x: Any) -> Any:
    """x as array('i') if it is a list that fits one, else x itself."""
    try:
        return array.array("i", x) if isinstance(x, list) else x
    except (TypeError, OverflowError):
        return x


def resizable(a: array.array) -> bool:
    """True when no buffer of `a` is still held (an array that exports a buffer cannot change size)."""
    a.append(0)
    a.pop()
    return True


def test_bad_limit() -> None:
    args = dict(GOOD)
    assert zddk.minimal_solutions(**args, limit=2**100)[3] == zddk.minimal_solutions(**args, limit=None)[3]
    with pytest.raises(ValueError):
        zddk.minimal_solutions(**args, limit=-1)
    with pytest.raises(ValueError):
        zddk.minimal_solutions(**args, limit=-(2**100))
    bad: object
    for bad in ("2", 2.0, []):
        with pytest.raises(TypeError):
            zddk.minimal_solutions(**args, limit=bad)


def test_good_input_accepts_any_sequence() -> None:
    expected = zddk.minimal_solutions(**GOOD, limit=None)
    assert family(*expected) == {frozenset({0, 1})}
    level = array.array("q", GOOD["level"])
    # low = 0, 1, 2 makes the function x1
    assert zddk.minimal_solutions(level, tuple(GOOD["high"]), range(3), 4, 2, None) != expected
    assert zddk.minimal_solutions(level, tuple(GOOD["high"]), (0, 1, 1), 4, 2, None) == expected


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (([3, 3, 0], [0, 0, 3], [0, 0, 0], 2), ValueError),  # child not below its parent
        (([3, 3, 0], [0, 0, 1], [0, 0, -1], 2), ValueError),
        (([3, 3, 0], [0, 0, 1], [0, 0, 0], 3), ValueError),  # root out of range
        (([3, 3, 0], [0, 0, 1], [0, 0, 0], -1), ValueError),
        (([3, 3], [0, 0, 1], [0, 0, 0], 2), ValueError),  # lengths differ
        (([3], [0], [0], 0), ValueError),  # no terminals
        (([3, 3, 0], [0, 0, "1"], [0, 0, 0], 2), TypeError),
        ((3, [0, 0, 1], [0, 0, 0], 2), TypeError),
    ],
)
@pytest.mark.parametrize("typed", [False, True])
def test_malformed_zdd(args: tuple[Any, ...], error: type[Exception], typed: bool) -> None:
    if typed:
        args = (*(as_i32(a) for a in args[:3]), args[3])
    probs = array.array("d", [0.5] * 3) if typed else [0.5] * 3
    with pytest.raises(error):
        zddk.count_by_order(*args)
    with pytest.raises(error):
        zddk.power_sums(*args, probs, 2)
    assert all(resizable(a) for a in (*args, probs) if isinstance(a, array.array))


def test_malformed_power_sums() -> None:
    var, hi, lo = [3, 3, 2], [0, 0, 1], [0, 0, 0]
    assert zddk.power_sums(var, hi, lo, 2, [0.1, 0.2, 0.5], 2) == [0.5, 0.25]
    probs = array.array("d", [0.1, 0.2, 0.5])
    assert zddk.power_sums(i32(var), i32(hi), i32(lo), 2, probs, 2) == [0.5, 0.25]
    with pytest.raises(ValueError):
        zddk.power_sums(i32(var), hi, lo, 2, probs[:2], 2)  # variable 2 has no probability
    with pytest.raises(TypeError):  # not one-dimensional
        zddk.power_sums(var, hi, lo, 2, memoryview(array.array("d", [0.5] * 4)).cast("B").cast("d", (2, 2)), 2)
    assert resizable(probs)
    with pytest.raises(ValueError):
        zddk.power_sums(var, hi, lo, 2, [0.1, 0.2], 2)  # variable 2 has no probability
    with pytest.raises(ValueError):
        zddk.power_sums([3, 3, -1], hi, lo, 2, [0.1, 0.2, 0.5], 2)
    with pytest.raises(ValueError):
        zddk.power_sums(var, hi, lo, 2, [0.1, 0.2, 0.5], -1)
    with pytest.raises(TypeError):
        zddk.power_sums(var, hi, lo, 2, [0.1, 0.2, "x"], 2)
    with pytest.raises(TypeError):
        zddk.power_sums(var, hi, lo, 2, None, 2)


class Clearing:
    """An index (or float) that empties a list while the kernel reads it."""

    def __init__(self, target: list[Any], value: int) -> None:
        self.target = target
        self.value = value

    def __index__(self) -> int:
        self.target.clear()
        return self.value

    def __float__(self) -> float:
        self.target.clear()
        return 0.5


@pytest.mark.parametrize("limit", [None, 1, 5])
def test_inputs_changed_while_read(limit: int | None) -> None:
    level: list[Any] = [3, 2, 1, 0]
    high: list[Any] = [0, 0, 2, 4]
    low: list[Any] = [0, 1, 1, 1]
    high[2] = Clearing(low, 2)
    with pytest.raises(ValueError):
        zddk.minimal_solutions(level, high, low, 6, 3, limit)


def test_zdd_changed_while_read() -> None:
    var: list[Any] = [3, 3, 1, 0]
    hi: list[Any] = [0, 0, 1, 2]
    lo: list[Any] = [0, 0, 0, 0]
    hi[3] = Clearing(lo, 2)
    with pytest.raises(ValueError):
        zddk.count_by_order(var, hi, lo, 3)
    probs: list[Any] = [0.5, 0.5]
    probs[1] = Clearing(probs, 0)
    with pytest.raises(ValueError):
        zddk.power_sums([3, 3, 1, 0], [0, 0, 1, 2], [0, 0, 0, 0], 3, probs, 2)


# -- typed arrays: read in place, or converted when they have another format ----------------------------------


def test_typed_and_list_inputs_agree_on_deep_chains() -> None:
    for chain in (and_chain, or_chain):
        level, high, low, root = chain(DEEP)
        typed = (i32(level), i32(high), i32(low))
        for limit in (None, 0, 1, 3, 5, DEEP):  # lazy reading up to 4, full conversion above
            for edge in (root, root ^ 1):
                out = zddk.minimal_solutions(*typed, edge, DEEP, limit)
                assert out == zddk.minimal_solutions(level, high, low, edge, DEEP, limit)
        var, hi, lo, r = zddk.minimal_solutions(*typed, root, DEEP, None)
        probs = [0.5] * DEEP
        assert zddk.count_by_order(i32(var), i32(hi), i32(lo), r) == zddk.count_by_order(var, hi, lo, r)
        assert zddk.power_sums(i32(var), i32(hi), i32(lo), r, array.array("d", probs), 3) == zddk.power_sums(
            var, hi, lo, r, probs, 3
        )


def strided(code: str, xs: Sequence[Any]) -> memoryview:
    """A non-contiguous memoryview of xs: no fast path, read as a sequence."""
    return memoryview(array.array(code, [x for v in xs for x in (v, v)]))[::2]


INT_FORMS: list[Callable[[list[int]], Any]] = [
    i32,  # read in place
    lambda a: memoryview(i32(a)),
    lambda a: (ctypes.c_int * len(a))(*a),  # format "<i"
    tuple,  # the rest converted item by item
    lambda a: array.array("q", a),
    lambda a: array.array("l", a),
    lambda a: array.array("I", a),
    lambda a: array.array("h", a),
    lambda a: strided("i", a),
]


@pytest.mark.parametrize("form", INT_FORMS)
@pytest.mark.parametrize("limit", [None, 0, 1, 5])
def test_every_input_form_gives_the_same_family(form: Callable[[list[int]], Any], limit: int | None) -> None:
    events = {f"e{i}": BasicEvent(f"e{i}", 0.1) for i in range(12)}
    gates = {f"g{i}": Gate(f"g{i}", GateKind.ATLEAST, (f"e{i}", f"e{i + 6}", f"e{(i * 5 + 1) % 12}"), 2) for i in range(6)}
    gates["top"] = Gate("top", GateKind.OR, tuple(gates))
    (module,) = single_module(FaultTree("T", "top", gates, events)).modules
    flat = module.flat
    nvars = len(flat.variables)
    lists = [list(flat.level), list(flat.high), list(flat.low)]
    expected = zddk.minimal_solutions(*lists, flat.root, nvars, limit)
    assert limit is not None and limit < 2 or len(family(*expected)) > 3
    assert zddk.minimal_solutions(*(form(a) for a in lists), flat.root, nvars, limit) == expected
    var, hi, lo, root = expected
    probs = [0.01 * (i + 1) for i in range(nvars)]
    assert zddk.count_by_order(form(var), form(hi), form(lo), root) == zddk.count_by_order(var, hi, lo, root)
    sums = zddk.power_sums(var, hi, lo, root, probs, 4)
    for p in (array.array("d", probs), (ctypes.c_double * nvars)(*probs), strided("d", probs), tuple(probs)):
        assert zddk.power_sums(form(var), form(hi), form(lo), root, p, 4) == sums


def test_wrong_formats_are_rejected_cleanly() -> None:
    level, high, low = GOOD["level"], GOOD["high"], GOOD["low"]
    with pytest.raises(TypeError):  # doubles are no ints
        zddk.minimal_solutions(array.array("d", level), high, low, 4, 2, None)
    with pytest.raises(TypeError):  # (count_by_order never reads var)
        zddk.power_sums(array.array("d", [3, 3, 0]), [0, 0, 1], [0, 0, 0], 2, [0.5], 1)
    with pytest.raises(TypeError):
        zddk.count_by_order([3, 3, 0], array.array("d", [0, 0, 1]), [0, 0, 0], 2)
    with pytest.raises(TypeError):  # not one-dimensional
        zddk.minimal_solutions(memoryview(i32([2, 1, 0, 0])).cast("B").cast("i", (2, 2)), high, low, 4, 2, None)
    with pytest.raises(ValueError):  # converted, and too large for any edge
        zddk.minimal_solutions(level, array.array("q", [0, 0, 2**40]), low, 4, 2, None)
    with pytest.raises(TypeError):
        zddk.power_sums([3, 3, 0], [0, 0, 1], [0, 0, 0], 2, array.array("u", "abc"), 2)


class Acting:
    """An index that runs `action` while the kernel reads it."""

    def __init__(self, value: int, action: Callable[[], object]) -> None:
        self.value, self.action = value, action

    def __index__(self) -> int:
        self.action()
        return self.value


@pytest.mark.parametrize("limit", [None, 1, 5])
def test_typed_input_changed_while_read(limit: int | None) -> None:
    # A list item's __index__ tries to resize an array('i') read in place: the array refuses (BufferError,
    # which the kernel reports as a bad item); an item rewritten in place before it is read is checked as it
    # then is.
    level, low = i32([3, 2, 1, 0]), i32([0, 1, 1, 1])
    high: list[Any] = [0, 0, 2, 4]
    high[2] = Acting(2, level.pop)
    with pytest.raises((BufferError, TypeError)):
        zddk.minimal_solutions(level, high, low, 6, 3, limit)
    assert len(level) == 4 and resizable(level)
    high[2] = Acting(2, lambda: low.__setitem__(2, 6))  # node 2's low child is now node 3, its parent
    with pytest.raises(ValueError):
        zddk.minimal_solutions(level, high, low, 6, 3, limit)
    assert resizable(level) and resizable(low)


def without_ladder(n: int) -> tuple[list[int], list[int], list[int], int, int]:
    """The BDD of test_deep_without (x0 & A | !x0 & A & z, A = x1 & ... & xn), with its nvars."""
    nvars = n + 2
    level, high, low = [nvars, n + 1], [0, 0], [0, 1]
    prev = 1
    for v in range(n, 0, -1):
        level.append(v)
        high.append(2 * prev)
        low.append(1)
        prev = len(level) - 1
    a_z, prev = prev, 0
    for v in range(n, 0, -1):
        level.append(v)
        high.append(2 * prev if prev else 0)
        low.append(1)
        prev = len(level) - 1
    level.append(0)
    high.append(2 * prev)
    low.append(2 * a_z)
    return level, high, low, 2 * (len(level) - 1), nvars


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
@pytest.mark.parametrize("limit", [None, 8])
def test_typed_input_rewritten_by_a_signal_handler(limit: int | None) -> None:
    # minsol checks for signals; a handler that rewrites the array('i') in place mid-call must not make the
    # kernel follow unchecked edges. Above LAZY_MAX minsol works on a checked copy (lazy reading checks each
    # node as it reads it): the call gives the undisturbed result, or ValueError if the handler ran first.
    level, high, low, root, nvars = without_ladder(300_000)
    expected = zddk.minimal_solutions(level, high, low, root, nvars, limit)
    typed = [i32(a) for a in (level, high, low)]
    ran: list[bool] = []

    def handler(signum: int, frame: Any) -> None:
        ran.append(True)
        h = typed[1]
        for i in range(1, len(h)):
            h[i] = 2**31 - 1

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        with contextlib.suppress(ValueError):
            assert zddk.minimal_solutions(*typed, root, nvars, limit) == expected
        deadline = time.monotonic() + 5
        while not ran and time.monotonic() < deadline:  # (if the call was faster than the timer)
            time.sleep(0.001)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert ran and all(resizable(a) for a in typed)


@pytest.mark.parametrize("typed", [False, True])
def test_ranked_sets_refuses_malformed_input(typed: bool) -> None:
    # the family {{0, 1}, {1}} over 2 variables: node 2 = (1, BASE, EMPTY), node 3 = (0, 2, 2)
    var, hi, lo, rank = [2, 2, 1, 0], [0, 0, 1, 2], [0, 0, 0, 2], [1, 0]
    conv = as_i32 if typed else (lambda x: x)
    assert zddk.ranked_sets(conv(var), conv(hi), conv(lo), 3, conv(rank)) == [(0,), (0, 1)]
    assert unflatten(zddk.ranked_sets(conv(var), conv(hi), conv(lo), 3, conv(rank), flat=True)) == [(0,), (0, 1)]
    bad: list[tuple[list[Any], int, Any, type[Exception]]] = [
        ([var, hi, lo], 4, rank, ValueError),  # root out of range
        ([var, [0, 0, 1, 3], lo], 3, rank, ValueError),  # a child not below its parent
        ([var[:3], hi, lo], 3, rank, ValueError),  # lengths differ
        ([var, hi, lo], 3, [1], ValueError),  # a variable without a rank
        ([var, hi, lo], 3, [1, -1], ValueError),  # a negative rank
        ([var, hi, lo], 3, 5, TypeError),
    ]
    for lists, root, ranks, error in bad:
        args = [conv(x) for x in lists]
        for flat in (False, True):
            with pytest.raises(error):
                zddk.ranked_sets(*args, root, conv(ranks), flat=flat)
        assert all(resizable(a) for a in args if isinstance(a, array.array))
