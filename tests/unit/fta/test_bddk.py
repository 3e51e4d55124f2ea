"""The C BDD package `_bddk`: functions against truth tables, canonical form (and CUDD's sizes and numbering),
the probability passes against brute force and bit for bit against the pure-Python passes (fta_reference.py), limits and
argument checking. Flat BDDs come out as array('i') and node probabilities as array('d'); the passes read typed arrays in
place and any other sequence item by item, with the same results and the same checks."""

from __future__ import annotations

import array
import ctypes
import itertools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import fta_reference as pyref
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safetyops_dsl.fta import bdd
from safetyops_dsl.fta.tree import FaultTree, GateKind

bddk = pytest.importorskip("safetyops_dsl.fta._bddk")
Manager = bddk.Manager

TRUE, FALSE = 0, 1
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------------------
# Formulas: ("var", i) | ("const", bool) | ("not", f) | (op, f, g) | ("atleast", k, [f...])


def formula_trees(nvars: int) -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        st.tuples(st.just("var"), st.integers(0, nvars - 1)),
        st.tuples(st.just("var"), st.integers(0, nvars - 1)),
        st.tuples(st.just("const"), st.booleans()),
    )

    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.tuples(st.just("not"), children),
            st.tuples(st.sampled_from(["and", "or", "xor"]), children, children),
            st.tuples(st.sampled_from(["and", "or", "xor"]), children, children),
            st.tuples(st.just("atleast"), st.integers(0, 5), st.lists(children, max_size=5)),
        )

    return st.recursive(leaf, extend, max_leaves=24)


@st.composite
def formulas(draw: st.DrawFn, max_vars: int = 8) -> tuple[int, Any]:
    nvars = draw(st.integers(1, max_vars))
    return nvars, draw(formula_trees(nvars))


PROBS = st.one_of(st.sampled_from([0.0, 1.0, 0.5, 1e-9, 0.999999, 0.1, 0.3]), st.floats(0.0, 1.0))


def as_lists(flat: tuple[Sequence[int], Sequence[int], Sequence[int], int]) -> tuple[list[int], list[int], list[int], int]:
    """flatten()'s arrays as lists, to compare values with lists built by hand or from CUDD."""
    level, high, low, root = flat
    return list(level), list(high), list(low), root


def build(m: Any, f: Any) -> int:
    tag = f[0]
    if tag == "var":
        return m.var(f[1])
    if tag == "const":
        return TRUE if f[1] else FALSE
    if tag == "not":
        return build(m, f[1]) ^ 1
    if tag == "and":
        return m.and_(build(m, f[1]), build(m, f[2]))
    if tag == "or":
        return m.or_(build(m, f[1]), build(m, f[2]))
    if tag == "xor":
        return m.xor(build(m, f[1]), build(m, f[2]))
    return m.atleast(f[1], [build(m, g) for g in f[2]])


def build_cudd(b: Any, f: Any) -> Any:
    tag = f[0]
    if tag == "var":
        return b.var(f"v{f[1]}")
    if tag == "const":
        return b.true if f[1] else b.false
    if tag == "not":
        return ~build_cudd(b, f[1])
    if tag == "and":
        return build_cudd(b, f[1]) & build_cudd(b, f[2])
    if tag == "or":
        return build_cudd(b, f[1]) | build_cudd(b, f[2])
    if tag == "xor":
        return b.apply("xor", build_cudd(b, f[1]), build_cudd(b, f[2]))
    return pyref._atleast(b, f[1], [build_cudd(b, g) for g in f[2]])


def table(nvars: int, f: Any) -> int:
    """Truth table as an int: bit a is the value under assignment a (bit i of a = x_i)."""
    full = (1 << (1 << nvars)) - 1
    tag = f[0]
    if tag == "var":
        return sum(1 << a for a in range(1 << nvars) if a >> f[1] & 1)
    if tag == "const":
        return full if f[1] else 0
    if tag == "not":
        return full ^ table(nvars, f[1])
    if tag in ("and", "or", "xor"):
        x, y = table(nvars, f[1]), table(nvars, f[2])
        return x & y if tag == "and" else x | y if tag == "or" else x ^ y
    k = f[1]
    t = [full] + [0] * k
    for g in f[2]:
        x = table(nvars, g)
        for j in range(k, 0, -1):
            t[j] |= x & t[j - 1]
    return t[k]


def eval_flat(level: list[int], high: list[int], low: list[int], root: int, a: int) -> bool:
    e = root
    comp = 0
    while e >> 1:
        comp ^= e & 1
        node = e >> 1
        e = high[node] if a >> level[node] & 1 else low[node]
    return (comp ^ (e & 1)) == 0


def flat_table(nvars: int, flat: tuple[list[int], list[int], list[int], int]) -> int:
    return sum(1 << a for a in range(1 << nvars) if eval_flat(*flat, a))


def from_table(m: Any, nvars: int, t: int, v: int = 0, base: int = 0) -> int:
    """The function with truth table t built by Shannon expansion (a different route to the same function)."""
    if v == nvars:
        return TRUE if t >> base & 1 else FALSE
    hi = from_table(m, nvars, t, v + 1, base | 1 << v)
    lo = from_table(m, nvars, t, v + 1, base)
    x = m.var(v)
    return m.or_(m.and_(x, hi), m.and_(x ^ 1, lo))


def check_canonical_layout(nvars: int, level: list[int], high: list[int], low: list[int], root: int) -> None:
    n = len(level)
    assert level[0] == nvars and high[0] == 0 and low[0] == 0
    assert 0 <= root < 2 * n
    seen = set()
    for i in range(1, n):
        assert 0 <= level[i] < nvars
        assert high[i] & 1 == 0  # the then edge is never complemented
        assert high[i] != low[i]  # reduced
        for e in (high[i], low[i]):
            assert e >> 1 < i  # children numbered below parents
            assert level[e >> 1] > level[i]  # ordered
        key = (level[i], high[i], low[i])
        assert key not in seen  # no duplicate nodes
        seen.add(key)
    # Every node is reachable from the root.
    reach = {root >> 1}
    for i in range(n - 1, 0, -1):
        if i in reach:
            reach.add(high[i] >> 1)
            reach.add(low[i] >> 1)
    assert reach == set(range(n)) or (n == 1 and reach == {0})


# ---------------------------------------------------------------------------------------------------------
# Functions and canonical form


@FAST
@given(formulas())
def test_flatten_computes_the_formula(case: tuple[int, Any]) -> None:
    nvars, f = case
    m = Manager(nvars)
    e = build(m, f)
    flat = m.flatten(e)
    check_canonical_layout(nvars, *flat)
    assert flat_table(nvars, flat) == table(nvars, f)
    assert m.size(e) == len(flat[0])
    assert m.size(e ^ 1) == m.size(e)
    nflat = m.flatten(e ^ 1)
    assert nflat[:3] == flat[:3] and nflat[3] == flat[3] ^ 1


@FAST
@given(formulas(max_vars=6))
def test_equal_functions_give_equal_edges(case: tuple[int, Any]) -> None:
    nvars, f = case
    m = Manager(nvars)
    e = build(m, f)
    t = table(nvars, f)
    full = (1 << (1 << nvars)) - 1
    assert from_table(m, nvars, t) == e
    assert from_table(m, nvars, full ^ t) == e ^ 1
    assert (e == TRUE) == (t == full) and (e == FALSE) == (t == 0)
    # A second manager that reaches the function by another route numbers the flat BDD the same way.
    m2 = Manager(nvars)
    e2 = from_table(m2, nvars, t)
    assert m2.flatten(e2) == m.flatten(e)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formulas(max_vars=6), formulas(max_vars=6))
def test_binary_operations_against_truth_tables(a: tuple[int, Any], b: tuple[int, Any]) -> None:
    nvars = max(a[0], b[0])
    full = (1 << (1 << nvars)) - 1
    m = Manager(nvars)
    f, g = build(m, a[1]), build(m, b[1])
    tf, tg = table(nvars, a[1]), table(nvars, b[1])
    for fe, ft in ((f, tf), (f ^ 1, full ^ tf)):
        for ge, gt in ((g, tg), (g ^ 1, full ^ tg)):
            assert flat_table(nvars, m.flatten(m.and_(fe, ge))) == ft & gt
            assert flat_table(nvars, m.flatten(m.or_(fe, ge))) == ft | gt
            assert flat_table(nvars, m.flatten(m.xor(fe, ge))) == ft ^ gt
            assert m.and_(fe, ge) == m.and_(ge, fe)
            assert m.xor(fe, ge) == m.xor(ge, fe) == m.xor(fe ^ 1, ge) ^ 1


def test_terminal_shortcuts() -> None:
    m = Manager(3)
    x = m.var(0)
    assert (
        m.and_(x, x) == x and m.and_(x, x ^ 1) == FALSE and m.and_(x, TRUE) == x and m.and_(FALSE, x) == FALSE
    )
    assert m.or_(x, x ^ 1) == TRUE and m.or_(x, FALSE) == x and m.or_(TRUE, x) == TRUE
    assert (
        m.xor(x, x) == FALSE and m.xor(x, x ^ 1) == TRUE and m.xor(x, TRUE) == x ^ 1 and m.xor(FALSE, x) == x
    )
    assert m.var(0) == x and m.nodes == 1
    assert m.atleast(0, []) == TRUE and m.atleast(1, []) == FALSE and m.atleast(3, [x, x]) == FALSE
    assert m.atleast(2, [x, x]) == x and m.atleast(1, (x,)) == x
    assert m.size(TRUE) == m.size(FALSE) == 1 and m.size(x) == 2
    assert as_lists(m.flatten(TRUE)) == ([3], [0], [0], 0) and as_lists(m.flatten(FALSE)) == ([3], [0], [0], 1)
    assert as_lists(m.flatten(x)) == ([3, 0], [0, 0], [0, 1], 2)


def test_nodes_counts_allocations_and_never_decreases() -> None:
    m = Manager(4)
    assert m.nodes == 0
    xs = [m.var(i) for i in range(4)]
    assert m.nodes == 4
    f = m.and_(m.and_(xs[0], xs[1]), m.and_(xs[2], xs[3]))
    before = m.nodes
    assert m.and_(m.and_(xs[0], xs[1]), m.and_(xs[2], xs[3])) == f
    assert m.nodes == before >= m.size(f) - 1
    with pytest.raises(AttributeError):
        m.nodes = 3  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------------------
# Against CUDD (the `dd` package): same BDD sizes under the same order, and the same flat arrays. `flatten`
# numbers nodes in then-first post-order, as CUDD's DDDMP dump does (the engine's former copy of CUDD BDDs).


def cudd_manager(nvars: int) -> Any:
    b = pyref.import_cudd().BDD()
    b.configure(reordering=False)
    b.declare(*(f"v{i}" for i in range(nvars)))
    return b


def cudd_flatten(b: Any, u: Any, nvars: int) -> tuple[list[int], list[int], list[int], int]:
    level, high, low = [nvars], [0], [0]
    ids: dict[int, int] = {int(b.true): 0}

    def regular(w: Any) -> Any:
        return ~w if w.negated else w

    def visit(r: Any) -> int:  # r: a regular edge
        key = int(r)
        if key not in ids:
            h, lo = r.high, r.low
            assert not h.negated  # CUDD's canonical form, the same as _bddk's
            hid = visit(h)
            lid = visit(regular(lo))
            ids[key] = len(level)
            level.append(r.level)
            high.append(2 * hid)
            low.append(2 * lid + int(lo.negated))
        return ids[key]

    root = visit(regular(u))
    return level, high, low, 2 * root + int(u.negated)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formulas())
def test_same_bdd_as_cudd(case: tuple[int, Any]) -> None:
    nvars, f = case
    b = cudd_manager(nvars)
    u = build_cudd(b, f)
    m = Manager(nvars)
    e = build(m, f)
    size = 1 if u == b.true or u == b.false else len(u)
    assert m.size(e) == size
    assert as_lists(m.flatten(e)) == cudd_flatten(b, u, nvars)


ARALIA = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "openpsa" / "input" / "Aralia"


class CuddOps:
    """The Manager's interface on a CUDD manager (edges are dd Functions)."""

    def __init__(self, nvars: int) -> None:
        self.b = cudd_manager(nvars)
        self.true, self.false = self.b.true, self.b.false

    def var(self, i: int) -> Any:
        return self.b.var(f"v{i}")

    def and_(self, f: Any, g: Any) -> Any:
        return f & g

    def or_(self, f: Any, g: Any) -> Any:
        return f | g

    def xor(self, f: Any, g: Any) -> Any:
        return self.b.apply("xor", f, g)

    def atleast(self, k: int, args: list[Any]) -> Any:
        return pyref._atleast(self.b, k, args)

    def not_(self, f: Any) -> Any:
        return ~f


class BddkOps:
    def __init__(self, nvars: int) -> None:
        self.m = Manager(nvars)
        self.true, self.false = TRUE, FALSE
        self.var, self.and_, self.or_, self.xor, self.atleast = (
            self.m.var,
            self.m.and_,
            self.m.or_,
            self.m.xor,
            self.m.atleast,
        )

    def not_(self, f: int) -> int:
        return f ^ 1


def build_tree(tree: FaultTree, modules: set[str], order: list[str], ops: Any) -> list[tuple[str, Any]]:
    """The module BDDs of the tree (placeholders are variables, constant modules fold), as the engine builds
    them: n-ary gates chain binary operations in input order."""
    index = {name: i for i, name in enumerate(order)}
    constants: dict[str, Any] = {}
    built: list[tuple[str, Any]] = []

    def leaf(name: str) -> Any:
        if name in constants:
            return constants[name]
        if name in tree.basic_events or name in modules:
            return ops.var(index[name])
        return ops.true if tree.house_events[name].state else ops.false

    def gate_value(kind: GateKind, k: int | None, args: list[Any]) -> Any:
        if kind in (GateKind.AND, GateKind.NAND):
            acc = ops.true
            for a in args:
                acc = ops.and_(acc, a)
            return ops.not_(acc) if kind is GateKind.NAND else acc
        if kind in (GateKind.OR, GateKind.NOR):
            acc = ops.false
            for a in args:
                acc = ops.or_(acc, a)
            return ops.not_(acc) if kind is GateKind.NOR else acc
        if kind is GateKind.XOR:
            acc = ops.false
            for a in args:
                acc = ops.xor(acc, a)
            return acc
        if kind is GateKind.NOT:
            return ops.not_(args[0])
        if kind is GateKind.NULL:
            return args[0]
        assert kind is GateKind.ATLEAST and k is not None
        return ops.atleast(k, args)

    for module in pyref.bottom_up(tree, modules):
        values: dict[str, Any] = {}
        work = [(module, False)]
        while work:
            name, expanded = work.pop()
            if name in values:
                continue
            if name != module and (name not in tree.gates or name in modules):
                values[name] = leaf(name)
                continue
            gate = tree.gates[name]
            if not expanded:
                work.append((name, True))
                work.extend((c, False) for c in reversed(gate.inputs) if c not in values)
                continue
            values[name] = gate_value(gate.kind, gate.k, [values[c] for c in gate.inputs])
        top = values[module]
        if module != tree.top and (top == ops.true or top == ops.false):
            constants[module] = top
            continue
        built.append((module, top))
    return built


@pytest.mark.parametrize("name", ["baobab1", "das9207"])
def test_corpus_trees_match_cudd(name: str) -> None:
    path = ARALIA / f"{name}.xml"
    if not path.is_file():
        pytest.skip("Open-PSA corpus not available")
    from safetyops_dsl.fta.modules import candidate_orders, find_modules, is_coherent
    from safetyops_dsl.fta.openpsa import load_openpsa

    tree = load_openpsa([str(path)])[0]
    modules = find_modules(tree) if is_coherent(tree) else {tree.top}
    for order in candidate_orders(tree, modules):
        nvars = len(order)
        ref_ops, ops = CuddOps(nvars), BddkOps(nvars)
        ref = build_tree(tree, modules, order, ref_ops)
        mine = build_tree(tree, modules, order, ops)
        assert [mod for mod, _ in mine] == [mod for mod, _ in ref]
        probs = [tree.basic_events[n].probability if n in tree.basic_events else 0.5 for n in order]
        for (_, top), (_, u) in zip(mine, ref, strict=True):
            flat = ops.m.flatten(top)
            assert as_lists(flat) == cudd_flatten(ref_ops.b, u, nvars)
            assert ops.m.size(top) == len(flat[0])
            pos, neg = bddk.node_probabilities(*flat[:3], probs)
            ppos, pneg = pyref.node_probabilities(bdd.FlatBdd(*flat, order, probs))
            assert all(map(same_bits, pos, ppos)) and all(map(same_bits, neg, pneg))


# ---------------------------------------------------------------------------------------------------------
# Probability passes


def brute_probability(nvars: int, t: int, probs: list[float], fixed: dict[int, int] | None = None) -> float:
    total = 0.0
    for a in range(1 << nvars):
        if not t >> a & 1:
            continue
        w = 1.0
        for v in range(nvars):
            bit = a >> v & 1
            if fixed is not None and v in fixed:
                if bit != fixed[v]:
                    w = 0.0
                    break
                continue
            w *= probs[v] if bit else 1.0 - probs[v]
        total += w
    return total


def same_bits(x: float, y: float) -> bool:
    return x.hex() == y.hex()


def close(x: float, y: float) -> bool:
    return math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-15)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formulas(max_vars=7), st.data())
def test_probabilities_against_brute_force_and_python(case: tuple[int, Any], data: st.DataObject) -> None:
    nvars, f = case
    probs = data.draw(st.lists(PROBS, min_size=nvars, max_size=nvars))
    m = Manager(nvars)
    level, high, low, root = m.flatten(build(m, f))
    pos, neg = bddk.node_probabilities(level, high, low, probs)
    t = table(nvars, f)
    exact = brute_probability(nvars, t, probs)
    p_top = neg[root >> 1] if root & 1 else pos[root >> 1]
    n_top = pos[root >> 1] if root & 1 else neg[root >> 1]
    assert close(p_top, exact)
    assert close(n_top, brute_probability(nvars, ((1 << (1 << nvars)) - 1) ^ t, probs))

    flat = bdd.FlatBdd(level, high, low, root, [f"v{i}" for i in range(nvars)], probs)
    ppos, pneg = pyref.node_probabilities(flat)
    assert len(ppos) == len(pos) and all(map(same_bits, ppos, pos)) and all(map(same_bits, pneg, neg))

    cond = bddk.conditional_probabilities(level, high, low, root, probs, pos, neg, nvars)
    pcond = pyref.conditional_probabilities(flat, ppos, pneg)
    assert list(cond) == list(pcond)
    for v, (c1, c0) in cond.items():
        assert same_bits(c1, pcond[v][0]) and same_bits(c0, pcond[v][1])
    assert set(cond) == set(level[1:])
    for v, (c1, c0) in cond.items():
        assert close(c1, min(brute_probability(nvars, t, probs, {v: 1}), 1.0))
        assert close(c0, min(brute_probability(nvars, t, probs, {v: 0}), 1.0))


def test_passes_accept_any_sequence_and_ints() -> None:
    m = Manager(3)
    level, high, low, root = m.flatten(m.or_(m.var(0), m.and_(m.var(1), m.var(2))))
    probs = [0.1, 1, 0.25]
    pos, neg = bddk.node_probabilities(tuple(level), tuple(high), low, tuple(probs))
    assert (pos, neg) == bddk.node_probabilities(level, high, low, [0.1, 1.0, 0.25])
    cond = bddk.conditional_probabilities(tuple(level), high, low, root, probs, tuple(pos), neg, 3)
    assert cond == bddk.conditional_probabilities(level, high, low, root, [0.1, 1.0, 0.25], pos, neg, 3)
    p, n = bddk.node_probabilities([], [], [], [])
    assert (list(p), list(n)) == ([], [])


def test_constant_and_jumps_over_many_variables() -> None:
    nvars = 100_000
    m = Manager(nvars)
    f = m.and_(m.var(3), m.var(nvars - 1))
    level, high, low, root = m.flatten(f)
    probs = [0.5] * nvars
    pos, neg = bddk.node_probabilities(level, high, low, probs)
    cond = bddk.conditional_probabilities(level, high, low, root, probs, pos, neg, nvars)
    assert cond == {3: (0.5, 0.0), nvars - 1: (0.5, 0.0)}
    flat = bdd.FlatBdd(level, high, low, root, [""] * nvars, probs)
    assert cond == pyref.conditional_probabilities(flat, pos, neg)
    lv, hi, lo, r = m.flatten(TRUE)
    p, n = bddk.node_probabilities(lv, hi, lo, probs)
    assert (list(p), list(n)) == ([1.0], [0.0])
    assert bddk.conditional_probabilities(lv, hi, lo, r, probs, p, n, nvars) == {}


# ---------------------------------------------------------------------------------------------------------
# Scale: deep BDDs (no recursion on the C stack) and threshold functions


def test_deep_bdd_does_not_overflow_the_stack() -> None:
    nvars = 100_000
    m = Manager(nvars)
    even, odd = FALSE, FALSE
    for i in range(nvars - 1, -1, -1):  # bottom-up: every xor is O(1)
        if i % 2:
            odd = m.xor(m.var(i), odd)
        else:
            even = m.xor(m.var(i), even)
    f = m.and_(even, odd)  # recurses through all levels
    g = m.xor(even ^ 1, odd)
    assert m.size(even) == nvars // 2 + 1
    assert m.size(f) == m.size(m.or_(f, FALSE)) > nvars
    level, high, low, root = m.flatten(f)
    assert len(level) == m.size(f)
    probs = [0.5] * nvars
    pos, neg = bddk.node_probabilities(level, high, low, probs)
    assert (neg[root >> 1] if root & 1 else pos[root >> 1]) == 0.25
    cond = bddk.conditional_probabilities(level, high, low, root, probs, pos, neg, nvars)
    assert len(cond) == nvars and cond[0] == cond[nvars - 1] == (0.25, 0.25)
    assert m.and_(g, m.xor(even, odd)) == FALSE


def test_atleast_matches_the_dynamic_programme() -> None:
    m = Manager(12)
    xs = [m.var(i) for i in range(12)]
    for k in range(0, 14):
        t = [TRUE] + [FALSE] * k
        for x in xs:
            for j in range(k, 0, -1):
                t[j] = m.or_(t[j], m.and_(x, t[j - 1]))
        ref = t[k]
        assert m.atleast(k, xs) == ref
    lv, _, _, root = m.flatten(m.atleast(6, xs))
    assert len(lv) == 6 * 7 + 1  # k * (n - k + 1) nodes plus the terminal
    assert m.atleast(2, [xs[0], xs[0] ^ 1, xs[1]]) == xs[1]


# ---------------------------------------------------------------------------------------------------------
# Limits and errors


def test_node_limit_raises_and_leaves_the_manager_usable() -> None:
    m = Manager(20, node_limit=10)
    xs = [m.var(i) for i in range(10)]
    assert m.nodes == 10
    with pytest.raises(OverflowError, match="node limit 10"):
        m.var(10)
    f = xs[0]
    with pytest.raises(OverflowError):
        for x in xs[1:]:
            f = m.and_(f, x)
    assert m.nodes == 10
    assert m.and_(xs[3], TRUE) == xs[3] and m.var(2) == xs[2]
    assert as_lists(m.flatten(xs[4])) == ([20, 4], [0, 0], [0, 1], 2)
    with pytest.raises(OverflowError):
        m.atleast(3, xs)
    with pytest.raises(OverflowError):
        m.xor(xs[0], xs[1])
    assert m.nodes == 10
    # Exactly the limit is allowed.
    m2 = Manager(3, node_limit=3)
    assert m2.and_(m2.var(0), TRUE) == 2 and m2.nodes == 1
    m2.var(1)
    assert m2.and_(m2.var(0), m2.var(1)) > 0 and m2.nodes == 3


def test_node_limit_on_a_large_build() -> None:
    nvars = 40
    m = Manager(nvars, node_limit=5000)
    xs = [m.var(i) for i in range(nvars)]
    f = FALSE
    with pytest.raises(OverflowError):
        for i in range(20):  # x_i & x_(i+20) summed: 2^20 nodes under this order
            f = m.or_(f, m.and_(xs[i], xs[i + 20]))
    assert m.nodes == 5000
    assert len(m.flatten(f)[0]) == m.size(f) > 1  # the last complete result is intact
    assert m.and_(f, f) == f and m.or_(f, TRUE) == TRUE


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        Manager(-1)
    with pytest.raises(TypeError):
        Manager("3")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Manager(3, node_limit=-1)
    with pytest.raises(TypeError):
        Manager()  # type: ignore[call-arg]
    m = Manager(3)
    x = m.var(0)
    for bad in (3, -1, 1 << 70):
        with pytest.raises(ValueError):
            m.var(bad)
    with pytest.raises(TypeError):
        m.var(1.0)  # type: ignore[arg-type]
    for op in (m.and_, m.or_, m.xor):
        with pytest.raises(ValueError):
            op(x, 4)  # node 2 does not exist yet
        with pytest.raises(ValueError):
            op(-1, x)
        with pytest.raises(ValueError):
            op(x, 1 << 80)
        with pytest.raises(TypeError):
            op(x, 0.0)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            op(x)  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            op(x, x, x)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        m.atleast(-1, [x])
    with pytest.raises(TypeError):
        m.atleast(1, 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m.atleast(1, [x, "y"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        m.atleast(1, [x, 99])
    with pytest.raises(TypeError):
        m.atleast(None, [x])  # type: ignore[arg-type]
    for fn in (m.size, m.flatten):
        with pytest.raises(ValueError):
            fn(99)
        with pytest.raises(TypeError):
            fn("x")  # type: ignore[arg-type]
    assert m.atleast(1 << 62, [x]) == FALSE


def test_bad_flat_arrays() -> None:
    m = Manager(3)
    level, high, low, root = m.flatten(m.or_(m.var(0), m.var(2)))
    probs = [0.5, 0.5, 0.5]
    np_ = bddk.node_probabilities
    cp = bddk.conditional_probabilities
    with pytest.raises(ValueError):
        np_(level, high[:-1], low, probs)
    with pytest.raises(ValueError):
        np_(level, high, low, probs[:1])  # a level past the end of probs
    with pytest.raises(ValueError):
        np_(level, [0, 0, 6], low, probs)  # child numbered above its parent
    with pytest.raises(ValueError):
        np_(level, [0, 0, -2], low, probs)
    with pytest.raises(ValueError):
        np_([3, 0, -1], high, low, probs)
    with pytest.raises(TypeError):
        np_(level, high, low, ["a", 0.5, 0.5])
    with pytest.raises(TypeError):
        np_(level, high, low, 5)
    with pytest.raises(TypeError):
        np_([3.0, 2.0, 0.0], high, low, probs)
    with pytest.raises(TypeError):
        np_(level, high, low)
    pos, neg = np_(level, high, low, probs)
    with pytest.raises(ValueError):
        cp(level, high, low, 2 * len(level), probs, pos, neg, 3)
    with pytest.raises(ValueError):
        cp(level, high, low, -1, probs, pos, neg, 3)
    with pytest.raises(ValueError):
        cp(level, high, low, root, probs, pos[:-1], neg, 3)
    with pytest.raises(ValueError):
        cp(level, high, low, root, probs, pos, neg, 2)  # a level >= nvars
    with pytest.raises(ValueError):
        cp(level, high, low, root, probs, pos, neg, -1)
    with pytest.raises(ValueError):
        cp([], [], [], 0, probs, [], [], 3)
    with pytest.raises(TypeError):
        cp(level, high, low, root, probs, pos, neg)
    with pytest.raises(TypeError):
        cp(level, high, low, "0", probs, pos, neg, 3)


def test_many_managers_and_operations_stay_consistent() -> None:
    # Table growth (unique and computed) while earlier edges stay valid.
    m = Manager(16)
    xs = [m.var(i) for i in range(16)]
    fs = []
    for a, b, c in itertools.combinations(range(16), 3):
        fs.append(m.or_(m.and_(xs[a], xs[b]), m.xor(xs[b], xs[c])))
    big = m.atleast(8, xs)
    for (a, b, c), f in zip(itertools.combinations(range(16), 3), fs, strict=True):
        assert f == m.or_(m.and_(xs[a], xs[b]), m.xor(xs[b], xs[c]))
    assert m.size(big) == 8 * 9 + 1


# ---------------------------------------------------------------------------------------------------------
# Typed arrays: the buffer fast path (array('i') / array('d') read in place) against the sequence path


def bits(xs: Sequence[float]) -> list[str]:
    return [float(x).hex() for x in xs]


def cond_bits(cond: dict[int, tuple[float, float]]) -> list[tuple[int, str, str]]:
    return [(v, c1.hex(), c0.hex()) for v, (c1, c0) in cond.items()]


def strided(code: str, xs: Sequence[Any]) -> memoryview:
    """A non-contiguous memoryview of xs (every other item of a twice-longer array): no fast path."""
    backing = array.array(code, [x for v in xs for x in (v, v)])
    return memoryview(backing)[::2]


def c_ints(xs: Sequence[int]) -> Any:
    return (ctypes.c_int * len(xs))(*xs)  # buffer format "<i": read in place


def c_doubles(xs: Sequence[float]) -> Any:
    return (ctypes.c_double * len(xs))(*xs)  # "<d"


# Ways to pass a flat BDD's ints, read in place (the first three) or converted item by item (the rest).
INT_FORMS: list[Callable[[Sequence[int]], Any]] = [
    lambda a: array.array("i", a),
    lambda a: memoryview(array.array("i", a)),
    c_ints,
    list,
    tuple,
    lambda a: array.array("q", a),  # wrong format: converted
    lambda a: array.array("l", a),
    lambda a: array.array("h", a),
    lambda a: array.array("I", a),
    lambda a: strided("i", a),
]
FLOAT_FORMS: list[Callable[[Sequence[float]], Any]] = [
    lambda a: array.array("d", a),
    lambda a: memoryview(array.array("d", a)),
    c_doubles,
    list,
    tuple,
    lambda a: strided("d", a),
]


def test_flatten_and_node_probabilities_give_typed_arrays() -> None:
    m = Manager(3)
    level, high, low, root = m.flatten(m.or_(m.var(0), m.and_(m.var(1), m.var(2))))
    for a in (level, high, low):
        assert isinstance(a, array.array) and a.typecode == "i" and a.itemsize == 4
    assert type(root) is int
    pos, neg = bddk.node_probabilities(level, high, low, [0.1, 0.2, 0.3])
    for b in (pos, neg):
        assert isinstance(b, array.array) and b.typecode == "d" and len(b) == len(level)
    p, n = bddk.node_probabilities(array.array("i"), array.array("i"), array.array("i"), array.array("d"))
    assert (p.typecode, n.typecode, len(p), len(n)) == ("d", "d", 0, 0)
    flat = bdd._flatten(m, m.var(1), ["a", "b", "c"], [0.5] * 3)
    assert isinstance(flat.level, array.array) and flat.level.typecode == "i" and flat.size == 2


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formulas(max_vars=7), st.data())
def test_every_input_form_gives_the_same_bits(case: tuple[int, Any], data: st.DataObject) -> None:
    nvars, f = case
    probs = data.draw(st.lists(PROBS, min_size=nvars, max_size=nvars))
    m = Manager(nvars)
    level, high, low, root = m.flatten(build(m, f))
    lists = [list(level), list(high), list(low)]
    pos, neg = bddk.node_probabilities(level, high, low, array.array("d", probs))  # all in place
    lpos, lneg = bddk.node_probabilities(*lists, probs)  # all converted
    assert bits(pos) == bits(lpos) and bits(neg) == bits(lneg)
    ppos, pneg = pyref.node_probabilities(bdd.FlatBdd(*lists, root, [""] * nvars, probs))
    assert bits(pos) == bits(ppos) and bits(neg) == bits(pneg)
    cond = bddk.conditional_probabilities(level, high, low, root, array.array("d", probs), pos, neg, nvars)
    expected = cond_bits(cond)
    assert cond_bits(bddk.conditional_probabilities(*lists, root, probs, list(lpos), list(lneg), nvars)) == expected
    ints = data.draw(st.sampled_from(INT_FORMS))
    floats = data.draw(st.sampled_from(FLOAT_FORMS))
    mixed = data.draw(st.lists(st.sampled_from(INT_FORMS), min_size=3, max_size=3))
    for forms in ([ints] * 3, mixed):
        args = [g(a) for g, a in zip(forms, lists, strict=True)]
        p2, n2 = bddk.node_probabilities(*args, floats(probs))
        assert bits(p2) == bits(pos) and bits(n2) == bits(neg)
        c2 = bddk.conditional_probabilities(*args, root, floats(probs), floats(pos), floats(neg), nvars)
        assert cond_bits(c2) == expected


def test_float32_and_int_probabilities_are_converted() -> None:
    m = Manager(3)
    level, high, low, root = m.flatten(m.or_(m.var(0), m.and_(m.var(1), m.var(2))))
    exact = [0.5, 0.25, 0.75]  # representable in float32: the same numbers after conversion
    pos, neg = bddk.node_probabilities(level, high, low, exact)
    for probs in (array.array("f", exact), array.array("d", exact)):
        p2, n2 = bddk.node_probabilities(level, high, low, probs)
        assert bits(p2) == bits(pos) and bits(n2) == bits(neg)
    ones = bddk.node_probabilities(level, high, low, array.array("b", [1, 0, 1]))
    assert bits(ones[0]) == bits(bddk.node_probabilities(level, high, low, [1.0, 0.0, 1.0])[0])


def resizable(*arrays: array.array) -> bool:
    """True when no buffer of the arrays is still held (a held array('i') cannot change size)."""
    for a in arrays:
        a.append(a[0] if len(a) else 0)
        a.pop()
    return True


def test_typed_arrays_are_checked_and_released() -> None:
    m = Manager(3)
    level, high, low, root = m.flatten(m.or_(m.var(0), m.var(2)))
    probs = array.array("d", [0.5, 0.5, 0.5])
    np_, cp = bddk.node_probabilities, bddk.conditional_probabilities

    def i32(xs: Sequence[int]) -> array.array:
        return array.array("i", xs)

    bad_calls: list[tuple[Callable[[], Any], type[Exception]]] = [
        (lambda: np_(level, high[:-1], low, probs), ValueError),  # lengths differ
        (lambda: np_(level, high, low, probs[:1]), ValueError),  # a level past the end of probs
        (lambda: np_(level, i32([0, 0, 6]), low, probs), ValueError),  # child numbered above its parent
        (lambda: np_(level, i32([0, 0, -2]), low, probs), ValueError),
        (lambda: np_(i32([3, 0, -1]), high, low, probs), ValueError),
        (lambda: np_(i32([3, 0, 2**31 - 1]), high, low, probs), ValueError),
        (lambda: np_(array.array("d", level), high, low, probs), TypeError),  # floats are no ints
        (lambda: np_(array.array("q", [3, 0, 2**40]), high, low, probs), ValueError),  # converted, too big
        (lambda: np_(level, high, low, array.array("u", "abc")), TypeError),
        (lambda: np_(memoryview(array.array("i", [3, 0, 0, 0])).cast("B").cast("i", (2, 2)), high, low, probs),
         TypeError),  # two-dimensional
        (lambda: cp(level, high, low, root, probs, *np_(level, high, low, probs)[:1], probs[:2], 3), ValueError),
        (lambda: cp(level, high, low, root, probs, probs, probs, 2), ValueError),  # a level >= nvars
        (lambda: cp(i32([4, 0, 2]), high, low, root, probs, probs, probs, 3), ValueError),  # level[0] > nvars
        (lambda: cp(level, high, low, 2 * len(level), probs, probs, probs, 3), ValueError),
    ]
    for call, error in bad_calls:
        with pytest.raises(error):
            call()
        assert resizable(level, high, low, probs)
    pos, neg = np_(level, high, low, probs)
    assert cp(level, high, low, root, probs, pos, neg, 3) == cp(list(level), high, low, root, list(probs), pos, neg, 3)
    # pos as array('i'): another format, converted like a list of ints
    assert cp(level, high, low, root, probs, i32([1, 0, 1]), neg, 3) == cp(
        level, high, low, root, probs, [1.0, 0.0, 1.0], neg, 3
    )
    assert resizable(level, high, low, probs, pos, neg)


class Mutating:
    """An int (or float) whose conversion runs Python code while a kernel reads its arguments."""

    def __init__(self, value: Any, action: Callable[[], None]) -> None:
        self.value, self.action = value, action

    def __index__(self) -> int:
        self.action()
        return int(self.value)

    def __float__(self) -> float:
        self.action()
        return float(self.value)


def test_arguments_changed_while_read() -> None:
    m = Manager(3)
    level, high, low, root = m.flatten(m.or_(m.var(0), m.var(2)))
    probs = [0.5, 0.5, 0.5]
    # A list emptied while it is converted: ValueError, not a read of freed memory.
    lv: list[Any] = list(level)
    lv[1] = Mutating(level[1], lv.clear)
    with pytest.raises(ValueError, match="changed size"):
        bddk.node_probabilities(lv, high, low, probs)
    ps: list[Any] = list(probs)
    ps[0] = Mutating(0.5, ps.clear)
    with pytest.raises(ValueError, match="changed size"):
        bddk.node_probabilities(level, high, low, ps)
    # An array read in place cannot be resized meanwhile: the kernel passes the array's BufferError on.
    hi: list[Any] = list(high)
    hi[1] = Mutating(high[1], lambda: level.pop())
    with pytest.raises(BufferError):
        bddk.node_probabilities(level, hi, low, probs)
    assert len(level) == 3 and resizable(level)
    # Rewritten in place before the checks: checked as it is then.
    hi[1] = Mutating(high[1], lambda: level.__setitem__(1, 7))
    with pytest.raises(ValueError, match="not a variable index"):
        bddk.node_probabilities(level, hi, low, probs)


class _Alarm(Exception):
    pass


def test_a_long_apply_can_be_interrupted_and_the_manager_stays_usable() -> None:
    # (x_i == y_i) for even i, AND-ed, is A; for odd i, B. Under the order x_0..x_n-1, y_0..y_n-1 each has
    # 2^(n/2) nodes but A AND B has 2^n: one apply of seconds. A signal handler that raises (as Ctrl-C's
    # does) must stop it after at most 2^20 more nodes, not when the apply ends.
    import signal

    n = 24
    m = Manager(2 * n)
    eq = [m.xor(m.var(i), m.var(n + i)) ^ 1 for i in range(n)]
    a = b = TRUE
    for i in range(0, n, 2):
        a = m.and_(a, eq[i])
        b = m.and_(b, eq[i + 1])
    before = m.nodes
    previous = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(_Alarm()))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(_Alarm):
            m.and_(a, b)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert m.nodes - before < 1 << 22  # stopped long before the 2^24 nodes of the result
    assert m.and_(m.var(0), m.var(1)) == m.and_(m.var(1), m.var(0))  # usable after the interruption


class _Spread:
    """A manager seen through variables spread out (v -> 150 v + offset), so that packed variable changes take
    more than one byte."""

    def __init__(self, m: Any, offset: int) -> None:
        self.m, self.offset = m, offset

    def var(self, v: int) -> int:
        return int(self.m.var(150 * v + self.offset))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.m, name)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(formulas(), min_size=1, max_size=6), st.lists(st.booleans(), min_size=6, max_size=6))
def test_parked_manager_packs_and_unpacks_its_nodes_exactly(cases: list[tuple[int, Any]], parks: list[bool]) -> None:
    # park() packs the node array (varints of differences); every later operation (and size, flatten on the
    # parked manager) must see exactly the nodes of a manager that never parked.
    plain, parked = Manager(1300), Manager(1300)
    roots: list[tuple[int, int]] = []
    for i, (_, f) in enumerate(cases):
        a, b = build(_Spread(plain, i), f), build(_Spread(parked, i), f)
        assert a == b and plain.nodes == parked.nodes
        roots.append((a, b))
        if parks[i]:
            parked.park()
            parked.park()  # twice is harmless
        for x, y in roots:
            assert as_lists(plain.flatten(x)) == as_lists(parked.flatten(y)) and plain.size(x) == parked.size(y)
            if parks[i]:
                parked.park()
    for (x, _), (y, _) in zip(roots, roots[1:], strict=False):
        assert plain.xor(x, y) == parked.xor(x, y)
    assert plain.nodes == parked.nodes


def test_parking_a_large_manager_keeps_far_children_and_the_limit() -> None:
    # Children thousands of nodes below their parents (several varint bytes) and a resumed node limit.
    nvars = 40
    plain, parked = Manager(nvars), Manager(nvars, node_limit=3000)
    results = []
    for m in (plain, parked):
        xs = [m.var(i) for i in range(nvars)]
        f = FALSE
        for i in range(12):
            while True:
                try:
                    f = m.or_(f, m.and_(xs[i], xs[i + 20]))
                    break
                except OverflowError:  # parked at each stop, resumed with a larger limit
                    m.park()
                    m.node_limit += 3000
        results.append((f, m.nodes, as_lists(m.flatten(f))))
    assert results[0] == results[1] and results[0][1] > 8000


def test_parking_a_manager_too_big_to_pack_keeps_its_nodes() -> None:
    # Past 2^20 nodes park() trims the array instead of packing it: the nodes must be the same either way.
    m = Manager(40)
    xs = [m.var(i) for i in range(40)]
    f = FALSE
    for i in range(19):
        f = m.or_(f, m.and_(xs[i], xs[i + 20]))
    nodes = m.nodes
    assert nodes > 1 << 20
    before = as_lists(m.flatten(f))
    m.park()
    assert as_lists(m.flatten(f)) == before
    g = m.or_(f, m.and_(xs[19], xs[39]))  # 2^20 more nodes, made on the trimmed array
    m.park()
    assert m.size(g) == len(m.flatten(g)[0]) and m.nodes > nodes
    assert m.or_(f, m.and_(xs[19], xs[39])) == g
