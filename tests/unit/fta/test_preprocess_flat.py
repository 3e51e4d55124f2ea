"""The preprocessed tree's flat arrays made from the graph in C (`_bddk.graph_to_flat`, read through
`preprocess.WrittenGates`) are, node for node, those `bdd._FlatTree` makes of the tree `_to_tree` writes out
by name (the path they replaced); the graph's post-order and the coalescing's scan in C give what the Python
they replaced gave (kept here and in `preprocess._reference_post_order` as the references)."""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import given
from hypothesis import strategies as st
from test_engine_properties import SETTINGS, trees
from test_preprocess import messy_trees, sharing_trees

import safetyops_dsl.fta.preprocess as pp
from safetyops_dsl.fta import _bddk
from safetyops_dsl.fta.bdd import _FlatTree
from safetyops_dsl.fta.modules import is_coherent
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, HouseEvent


def _graphs(tree: FaultTree) -> Iterator[pp._Graph]:
    """The graph after each phase preprocess may run (the optional ones included)."""
    g = pp._from_tree(tree)
    yield g
    g = pp._coalesce_rounds(g)
    yield g
    yield pp._decompose_phase(pp._merge_phase(pp._from_tree(tree)))
    yield pp._decompose_phase(pp._coalesce_rounds(pp._from_tree(tree)))


def _flat_fields(f: _FlatTree) -> tuple[object, ...]:
    return (f.names, f.ngates, list(f.kinds), list(f.ks), list(f.offsets), list(f.inputs), f.top, f.ids)


def _reference_scan(g: pp._Graph) -> tuple[list[int], dict[int, int], bool]:
    """_coalesce's scan as it was in Python: post-order, uses per reachable gate, anything absorbable."""
    order = pp._reference_post_order(g)
    first, inputs, kinds = g.first_gate, g.inputs, g.kind
    users: dict[int, int] = {}
    for x in order:
        for lit in inputs[x]:
            c = (lit >> 1) - first
            if c >= 0:
                users[c] = users.get(c, 0) + 1
    if g.is_gate(g.top):
        users[g.gate(g.top)] = users.get(g.gate(g.top), 0) + 1
    found = any(
        users[c] == 1 and kinds[c] in (pp.AND, pp.OR) and (kinds[c] == kind) == (lit & 1 == 0)
        for x in order
        if (kind := kinds[x]) in (pp.AND, pp.OR)
        for lit in inputs[x]
        if (c := (lit >> 1) - first) >= 0
    )
    return order, users, found


def _check(tree: FaultTree) -> None:
    for g in _graphs(tree):
        assert list(pp._post_order(g)) == pp._reference_post_order(g)
        order, users, found = _bddk.graph_coalesce_scan(g.kind, g.inputs, g.first_gate, g.top)
        ref_order, ref_users, ref_found = _reference_scan(g)
        assert list(order) == ref_order and bool(found) == ref_found
        assert {x: users[x] for x in ref_users} == ref_users
        eager = pp._to_tree(tree, g)
        if tree.top not in tree.gates:  # preprocess writes such a tree out by name (its top names two nodes)
            assert not isinstance(pp.preprocess(tree).gates, pp.WrittenGates)
            continue
        lazy = pp._to_tree(tree, g, lazy=True)
        assert isinstance(lazy.gates, pp.WrittenGates)
        # the arrays first (read before the gates are written out), then the gates themselves
        assert _flat_fields(_FlatTree(lazy)) == _flat_fields(_FlatTree(eager))
        assert lazy.gates.coherent() == is_coherent(eager)
        assert dict(lazy.gates) == dict(eager.gates) and list(lazy.gates) == list(eager.gates)
        assert lazy.house_events == eager.house_events and lazy.basic_events is eager.basic_events
        assert (lazy.name, lazy.top, lazy.label, lazy.notes) == (eager.name, eager.top, eager.label, eager.notes)


@SETTINGS
@given(st.one_of(messy_trees(), trees(), sharing_trees()))
def test_flat_arrays_from_the_graph_are_those_of_the_written_tree(tree: FaultTree) -> None:
    _check(tree)


def test_flat_arrays_of_tops_that_are_no_gate() -> None:
    # The written-back top is a NULL gate over a constant (its house event), an event, or a NOT gate; the
    # model's names may start with the prefix, which then grows.
    e = {n: BasicEvent(n, 0.1) for n in ("a", "b", "@x")}
    h = {"t": HouseEvent("t", True), "f": HouseEvent("f", False)}
    shapes = [
        {"top": Gate("top", GateKind.AND, ("a", "f"))},
        {"top": Gate("top", GateKind.OR, ("a", "t"))},
        {"top": Gate("top", GateKind.NULL, ("a",))},
        {"top": Gate("top", GateKind.NOT, ("a",))},
        {"top": Gate("top", GateKind.NAND, ("a", "b"))},
        {"top": Gate("top", GateKind.NOR, ("g", "@x")), "g": Gate("g", GateKind.XOR, ("a", "b"))},
        {"top": Gate("top", GateKind.XOR, ("g", "a")), "g": Gate("g", GateKind.NOT, ("b",))},
        {"top": Gate("top", GateKind.ATLEAST, ("g", "a", "b"), 2), "g": Gate("g", GateKind.NOR, ("a", "b"))},
    ]
    for gates in shapes:
        _check(FaultTree("T", "top", gates, e, h))
    _check(FaultTree("T", "a", {}, e, h))  # a top that is a basic event
