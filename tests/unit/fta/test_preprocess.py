"""Preprocessing keeps the function exactly (brute force over every assignment, on random trees with every
gate kind, repeated and complementary inputs, constants and deep same-kind nesting), and the pathological
shapes (chains, deep k-of-n nesting, wide gates) are analysed with no recursion and the right numbers (each
checked against a closed form or a recurrence, independent of the engine)."""

from __future__ import annotations

import itertools
import math

from hypothesis import given
from hypothesis import strategies as st
from test_engine_properties import SETTINGS, brute_minimal_true_points, brute_probability, evaluate, trees

import safetyops_dsl.fta.preprocess as pp
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.modules import find_modules
from safetyops_dsl.fta.preprocess import preprocess
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, HouseEvent


@st.composite
def messy_trees(draw: st.DrawFn) -> FaultTree:
    """Trees that give every phase work: inputs may repeat, same-kind gates nest, NOT/NAND/NOR complement
    sub-trees, house events and XOR/k-of-n mix with the rest."""
    n_events = draw(st.integers(1, 6))
    basics = {f"e{i}": BasicEvent(f"e{i}", draw(st.sampled_from([0.0, 0.1, 0.3, 0.5, 1.0]))) for i in range(n_events)}
    houses = {f"h{i}": HouseEvent(f"h{i}", draw(st.booleans())) for i in range(draw(st.integers(0, 2)))}
    pool = list(basics) + list(houses)
    gates: dict[str, Gate] = {}
    for gi in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(list(GateKind)))
        if kind in (GateKind.NOT, GateKind.NULL):
            inputs = [draw(st.sampled_from(pool))]
        else:
            # Recent gates are likelier inputs, so same-kind chains form.
            inputs = draw(st.lists(st.sampled_from(pool + pool[-3:] * 2), min_size=1, max_size=5))
        k = draw(st.integers(1, len(inputs))) if kind is GateKind.ATLEAST else None
        name = f"g{gi}"
        gates[name] = Gate(name, kind, tuple(inputs), k)
        pool.append(name)
    top = pool[-1]
    full = FaultTree("T", top, gates, basics, houses)
    reach = set(full.reachable())
    return FaultTree(
        "T",
        top,
        {n: g for n, g in gates.items() if n in reach},
        {n: b for n, b in basics.items() if n in reach},
        {n: h for n, h in houses.items() if n in reach},
    )


@SETTINGS
@given(messy_trees())
def test_preprocessing_keeps_the_function(tree: FaultTree) -> None:
    pre = preprocess(tree)
    assert pre.top == tree.top and pre.basic_events == tree.basic_events
    # only normalised kinds remain: NOT sits right above an event or gate, NULL only as the top pass-through
    for g in pre.gates.values():
        assert g.kind in (GateKind.AND, GateKind.OR, GateKind.ATLEAST, GateKind.XOR, GateKind.NOT) or (
            g.kind is GateKind.NULL and g.name == pre.top
        )
        if g.kind is GateKind.ATLEAST:
            assert g.k is not None and 2 <= g.k < len(g.inputs)
    names = sorted(tree.basic_events)
    for bits in itertools.product((False, True), repeat=len(names)):
        true = {n for n, b in zip(names, bits, strict=True) if b}
        assert evaluate(pre, true) == evaluate(tree, true)


@SETTINGS
@given(messy_trees())
def test_engine_on_messy_trees(tree: FaultTree) -> None:
    r = analyse(tree, AnalysisOptions(cut_set_limit=None, importance=False))
    assert r.exact_probability is not None
    assert math.isclose(r.exact_probability, brute_probability(tree), rel_tol=1e-12, abs_tol=1e-15)
    assert {frozenset(cs) for cs in r.cut_sets} == brute_minimal_true_points(tree)


def _events(n: int, p: float = 0.001) -> dict[str, BasicEvent]:
    return {f"e{i}": BasicEvent(f"e{i}", p) for i in range(n)}


def _chain(n: int, kinds: tuple[GateKind, ...]) -> FaultTree:
    """g0 = kind0(g1, e0), g1 = kind1(g2, e1), ..., g(n-1) = kind(e(n), e(n-1)): the Open-PSA chain shape."""
    gates = {}
    for i in range(n):
        nxt = f"g{i + 1}" if i + 1 < n else f"e{n}"
        gates[f"g{i}"] = Gate(f"g{i}", kinds[i % len(kinds)], (nxt, f"e{i}"))
    return FaultTree("chain", "g0", gates, _events(n + 1))


N = 20_000  # far deeper than Python's default recursion limit of 1,000


def test_or_chain_becomes_one_gate() -> None:
    tree = _chain(N, (GateKind.OR,))
    pre = preprocess(tree)
    assert list(pre.gates) == ["g0"] and len(pre.gates["g0"].inputs) == N + 1
    r = analyse(tree, AnalysisOptions(importance=False))
    assert r.cut_set_count == N + 1 and r.cut_sets_by_order == {1: N + 1}
    assert r.exact_probability is not None
    assert math.isclose(r.exact_probability, -math.expm1((N + 1) * math.log1p(-0.001)), rel_tol=1e-9)
    # the 1,000 listed sets are the alphabetically first of the tie (every event has p = 0.001)
    assert list(r.cut_sets) == sorted((f"e{i}",) for i in range(N + 1))[:1000]


def test_alternating_chain_against_recurrence() -> None:
    tree = _chain(N, (GateKind.OR, GateKind.AND))
    r = analyse(tree, AnalysisOptions(limit_order=4, cut_set_limit=10))
    p = 0.001
    value = p  # e(N)
    for i in reversed(range(N)):
        value = 1.0 - (1.0 - value) * (1.0 - p) if i % 2 == 0 else value * p
    assert r.exact_probability is not None and math.isclose(r.exact_probability, value, rel_tol=1e-12)
    # {e0}, {e1 e2}, {e1 e3 e4}, {e1 e3 e5 e6}: one set per order up to the limit
    assert r.cut_sets == (("e0",), ("e1", "e2"), ("e1", "e3", "e4"), ("e1", "e3", "e5", "e6"))
    # every gate of the chain is a module (nothing is shared): the case that was quadratic
    assert len(find_modules(preprocess(tree))) == N
    assert len(r.importance) == N + 1
    top = {row.event: row for row in r.importance}
    assert math.isclose(top["e0"].birnbaum, 1.0 - (r.exact_probability - p) / (1.0 - p), rel_tol=1e-9)


def test_nested_k_of_n_against_recurrence() -> None:
    n = N // 4
    gates = {}
    for i in range(n):
        inner = f"g{i + 1}" if i + 1 < n else f"a{n}"
        gates[f"g{i}"] = Gate(f"g{i}", GateKind.ATLEAST, (inner, f"a{i}", f"b{i}"), 2)
    basics = {f"{c}{i}": BasicEvent(f"{c}{i}", 0.1) for i in range(n + 1) for c in "ab"}
    tree = FaultTree("kofn", "g0", gates, basics)
    r = analyse(tree, AnalysisOptions(limit_order=3, cut_set_limit=5, importance=False))
    p = 0.1
    value = p
    for _ in range(n):  # 2 of (x, a, b) with independent inputs
        value = value * (2 * p - p * p) + (1.0 - value) * p * p
    assert r.exact_probability is not None and math.isclose(r.exact_probability, value, rel_tol=1e-12)
    assert r.cut_sets_by_order == {2: 1, 3: 2}  # {a0 b0}; {a0 a1 b1}, {b0 a1 b1}


def test_wide_gates() -> None:
    n = 50_000
    for kind, p, expected in (
        (GateKind.AND, 0.9999, math.exp(n * math.log(0.9999))),
        (GateKind.OR, 1e-5, -math.expm1(n * math.log1p(-1e-5))),
    ):
        tree = FaultTree("w", "top", {"top": Gate("top", kind, tuple(f"e{i}" for i in range(n)))}, _events(n, p))
        r = analyse(tree, AnalysisOptions(limit_order=2, cut_set_limit=3, importance=False))
        assert r.exact_probability is not None and math.isclose(r.exact_probability, expected, rel_tol=1e-9)
        assert r.cut_set_count == (n if kind is GateKind.OR else 0)


def test_constants_and_complements_fold() -> None:
    e = _events(3, 0.1)
    gates = {
        "top": Gate("top", GateKind.OR, ("a", "b", "c")),
        "a": Gate("a", GateKind.AND, ("e0", "off")),  # FALSE
        "b": Gate("b", GateKind.NOR, ("n", "e1")),  # NOT (NOT e1 OR e1) = FALSE
        "n": Gate("n", GateKind.NOT, ("e1",)),
        "c": Gate("c", GateKind.ATLEAST, ("e2", "on", "off", "e2"), 2),  # 1 of (e2, e2) = e2
    }
    tree = FaultTree("t", "top", gates, e, {"off": HouseEvent("off", False), "on": HouseEvent("on", True)})
    pre = preprocess(tree)
    assert pre.gates == {"top": Gate("top", GateKind.NULL, ("e2",))}
    r = analyse(tree, AnalysisOptions())
    assert r.exact_probability == 0.1 and r.cut_sets == (("e2",),)


def test_identical_gates_merge() -> None:
    e = _events(4)
    gates = {
        "top": Gate("top", GateKind.XOR, ("x", "y")),
        "x": Gate("x", GateKind.ATLEAST, ("e0", "e1", "e2"), 2),
        "y": Gate("y", GateKind.ATLEAST, ("e2", "e0", "e1"), 2),
    }
    pre = preprocess(FaultTree("t", "top", gates, e))
    # x and y are one gate, and x XOR x is FALSE
    assert len(pre.house_events) == 1 and not next(iter(pre.house_events.values())).state


@st.composite
def sharing_trees(draw: st.DrawFn) -> FaultTree:
    """AND/OR gates (some complemented) over a few events and earlier gates, so that several gates of one
    kind share two or more inputs: the merging of common arguments has work on most of them."""
    n_events = draw(st.integers(3, 6))
    basics = {f"e{i}": BasicEvent(f"e{i}", draw(st.sampled_from([0.1, 0.3, 0.5]))) for i in range(n_events)}
    pool = list(basics)
    gates: dict[str, Gate] = {}
    for gi in range(draw(st.integers(2, 9))):
        kind = draw(st.sampled_from([GateKind.AND, GateKind.OR, GateKind.NAND, GateKind.NOR]))
        inputs = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=5, unique=True))
        gates[f"g{gi}"] = Gate(f"g{gi}", kind, tuple(inputs))
        pool.append(f"g{gi}")
    gates["top"] = Gate("top", draw(st.sampled_from([GateKind.AND, GateKind.OR])), tuple(gates))
    reach = set(FaultTree("T", "top", gates, basics).reachable())
    return FaultTree("T", "top", gates, {n: b for n, b in basics.items() if n in reach})


@SETTINGS
@given(sharing_trees())
def test_trees_of_shared_inputs_keep_their_function(tree: FaultTree) -> None:
    """Many gates over few events (the shape where merging common arguments was tried: it changed the
    function of such a tree and was taken out)."""
    plain = preprocess(tree)
    names = sorted(tree.basic_events)
    for bits in itertools.product((False, True), repeat=len(names)):
        true = {n for n, b in zip(names, bits, strict=True) if b}
        assert evaluate(plain, true) == evaluate(tree, true)
    r = analyse(tree, AnalysisOptions(cut_set_limit=None, importance=False))
    assert r.exact_probability is not None
    assert math.isclose(r.exact_probability, brute_probability(tree), rel_tol=1e-12, abs_tol=1e-15)
    assert {frozenset(cs) for cs in r.cut_sets} == brute_minimal_true_points(tree)


# ---- Merging of common arguments and decomposition of shared nodes (the optional phases) ----

PHASES = [(True, False), (False, True), (True, True)]


def _same_function(tree: FaultTree, pre: FaultTree) -> None:
    assert pre.top == tree.top and pre.basic_events == tree.basic_events
    names = sorted(tree.basic_events)
    for bits in itertools.product((False, True), repeat=len(names)):
        true = {n for n, b in zip(names, bits, strict=True) if b}
        assert evaluate(pre, true) == evaluate(tree, true), (bits, pre.gates)


@SETTINGS
@given(messy_trees())
def test_optional_phases_keep_the_function_of_messy_trees(tree: FaultTree) -> None:
    for merge, decompose in PHASES:
        _same_function(tree, preprocess(tree, merge=merge, decompose=decompose))


@SETTINGS
@given(sharing_trees())
def test_optional_phases_keep_the_function_of_shared_inputs(tree: FaultTree) -> None:
    for merge, decompose in PHASES:
        _same_function(tree, preprocess(tree, merge=merge, decompose=decompose))


@SETTINGS
@given(st.one_of(messy_trees(), sharing_trees()))
def test_engine_with_optional_phases(tree: FaultTree) -> None:
    saved = pp.MERGE_COMMON_ARGS, pp.DECOMPOSE_COMMON_NODES
    pp.MERGE_COMMON_ARGS, pp.DECOMPOSE_COMMON_NODES = True, True
    try:
        r = analyse(tree, AnalysisOptions(cut_set_limit=None, importance=False))
    finally:
        pp.MERGE_COMMON_ARGS, pp.DECOMPOSE_COMMON_NODES = saved
    assert r.exact_probability is not None
    assert math.isclose(r.exact_probability, brute_probability(tree), rel_tol=1e-12, abs_tol=1e-15)
    assert {frozenset(cs) for cs in r.cut_sets} == brute_minimal_true_points(tree)


def _or_of(kinds_inputs: list[tuple[GateKind, tuple[str, ...]]]) -> FaultTree:
    gates = {f"g{i}": Gate(f"g{i}", k, ins) for i, (k, ins) in enumerate(kinds_inputs)}
    gates["top"] = Gate("top", GateKind.OR, tuple(gates))
    return FaultTree("T", "top", gates, _events(3, 0.1))


def test_regression_or_of_and_or_nor_over_three_events() -> None:
    """The shape the merging taken out in 9c09f43 folded to a constant (an OR of AND, OR and NOR gates over
    three events). The commit names the shape, not the tree, so every such tree is checked: each gate over
    any 2 or 3 of the events, as sorted and reversed, with each optional phase and both."""
    subsets = [s for r in (2, 3) for s in itertools.combinations(("e0", "e1", "e2"), r)]
    subsets += [s[::-1] for s in subsets]  # the phases keep input order where they can: both orders
    for a, o, n in itertools.product(subsets, repeat=3):
        tree = _or_of([(GateKind.AND, a), (GateKind.OR, o), (GateKind.NOR, n)])
        for merge, decompose in PHASES:
            _same_function(tree, preprocess(tree, merge=merge, decompose=decompose))


def test_common_arguments_become_one_shared_gate() -> None:
    e = _events(5)
    gates = {
        "top": Gate("top", GateKind.OR, ("x", "y", "z")),
        "x": Gate("x", GateKind.AND, ("e0", "e1", "e2", "e3")),
        "y": Gate("y", GateKind.AND, ("e4", "e1", "e2", "e0", "e3")),
        "z": Gate("z", GateKind.AND, ("e0", "e1", "e4")),
    }
    pre = preprocess(FaultTree("t", "top", gates, e), merge=True, decompose=False)
    by_inputs = {frozenset(g.inputs): g.name for g in pre.gates.values()}
    # e0, e1 are used by x, y and z; e2, e3 by x and y: two groups, each one gate
    m01 = by_inputs[frozenset({"e0", "e1"})]
    m23 = by_inputs[frozenset({"e2", "e3"})]
    assert frozenset({m01, m23}) in by_inputs  # x
    assert frozenset({m01, m23, "e4"}) in by_inputs  # y
    assert frozenset({m01, "e4"}) in by_inputs  # z
    assert len(pre.gates) == 6


def test_shared_node_decomposes_into_a_constant() -> None:
    """top = AND(e0, g), g = OR(e0 AND e1, e2 AND e3): below top, e0 is TRUE, so g = e1 OR (e2 AND e3),
    and e0 has one parent left (the BDD and the modules see it once)."""
    e = _events(4)
    gates = {
        "top": Gate("top", GateKind.AND, ("e0", "g")),
        "g": Gate("g", GateKind.OR, ("a", "b")),
        "a": Gate("a", GateKind.AND, ("e0", "e1")),
        "b": Gate("b", GateKind.AND, ("e2", "e3")),
    }
    tree = FaultTree("t", "top", gates, e)
    pre = preprocess(tree, merge=False, decompose=True)
    _same_function(tree, pre)
    uses = [i for g in pre.gates.values() for i in g.inputs]
    assert uses.count("e0") == 1 and "e1" in pre.gates[pre.gates["top"].inputs[1]].inputs
    # the decomposed gate, used elsewhere too, keeps its old version there
    gates2 = dict(gates, top2=Gate("top2", GateKind.OR, ("top", "g")))
    tree2 = FaultTree("t", "top2", gates2, e)
    pre2 = preprocess(tree2, merge=False, decompose=True)
    _same_function(tree2, pre2)
    # OR(e0, f(e0)) = OR(e0, f(FALSE)); through a complement: AND(NOT e0, f(e0)) = AND(NOT e0, f(FALSE))
    for top_kind, first in ((GateKind.OR, "e0"), (GateKind.AND, "n0")):
        gates3 = {
            "top": Gate("top", top_kind, (first, "g")),
            "n0": Gate("n0", GateKind.NOT, ("e0",)),
            "g": Gate("g", GateKind.ATLEAST, ("e0", "e1", "e2"), 2),
        }
        tree3 = FaultTree("t", "top", gates3, e)
        pre3 = preprocess(tree3, merge=False, decompose=True)
        _same_function(tree3, pre3)
        assert [i for g in pre3.gates.values() for i in g.inputs].count("e0") == 1


def _graph_fields(g: pp._Graph) -> tuple[object, ...]:
    return (g.events, g.kind, g.k, g.inputs, g.first_gate, g.top, list(g.table.items()))


@SETTINGS
@given(st.one_of(messy_trees(), trees()))
def test_c_phase_one_builds_the_graph_of_the_walk_by_name(tree: FaultTree) -> None:
    # _from_tree runs the walk and _Graph.make in C (_bddk.graph_from_flat); _from_names is the Python walk
    # it replaced: the same events, gates (numbered alike, inputs in the same order) and hash-consing table.
    assert _graph_fields(pp._from_tree(tree)) == _graph_fields(pp._from_names(tree))


def test_c_phase_one_simplifications() -> None:
    # Each of make's rules once, through the C path: absorbing and neutral constants, repeated and
    # complementary inputs, k-of-n counting a pair x, NOT x once and turning into OR / AND, XOR parities.
    e = {n: BasicEvent(n, 0.1) for n in ("a", "b", "c")}
    h = {"t": HouseEvent("t", True), "f": HouseEvent("f", False)}
    shapes = [
        (GateKind.AND, ("a", "t", "b", "a"), None), (GateKind.OR, ("a", "t"), None), (GateKind.AND, ("a", "na"), None),
        (GateKind.ATLEAST, ("a", "na", "b", "c"), 2), (GateKind.ATLEAST, ("a", "t", "b", "f"), 2),
        (GateKind.ATLEAST, ("a", "b", "c"), 3), (GateKind.ATLEAST, ("a", "a", "b"), 2),
        (GateKind.XOR, ("a", "na", "b"), None), (GateKind.XOR, ("t", "a", "f", "b", "b"), None),
        (GateKind.NAND, ("a", "b"), None), (GateKind.NOR, ("f", "f"), None), (GateKind.NULL, ("na",), None),
    ]
    for kind, inputs, k in shapes:
        gates = {"na": Gate("na", GateKind.NOT, ("a",)), "top": Gate("top", kind, inputs, k)}
        tree = FaultTree("T", "top", gates, e, h)
        assert _graph_fields(pp._from_tree(tree)) == _graph_fields(pp._from_names(tree)), (kind, inputs, k)
