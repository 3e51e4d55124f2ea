"""The module walk in C (`Manager.build_modules`, bdd._OrderBuild) against the Python walk it replaced (kept
here as the reference): the same nodes allocated at every stop of a build resumed in steps (the order race
compares builds by those counts), and the same module BDDs, children and events."""

from __future__ import annotations

import random
from array import array
from collections.abc import Generator
from typing import Any

import pytest
from fta_reference import bottom_up
from hypothesis import given
from hypothesis import strategies as st
from test_engine_properties import SETTINGS, trees

from safetyops_dsl.fta import _bddk
from safetyops_dsl.fta import bdd as bddmod
from safetyops_dsl.fta.modules import find_modules, first_order, is_coherent, other_orders
from safetyops_dsl.fta.preprocess import preprocess
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, HouseEvent

TRUE, FALSE = bddmod.TRUE, bddmod.FALSE


def _apply_gate(mgr: Any, kind: GateKind, k: int | None, args: list[int]) -> int:
    if kind in (GateKind.AND, GateKind.NAND):
        acc = TRUE
        for a in args:
            acc = mgr.and_(acc, a)
        return acc ^ 1 if kind is GateKind.NAND else acc
    if kind in (GateKind.OR, GateKind.NOR):
        acc = FALSE
        for a in args:
            acc = mgr.or_(acc, a)
        return acc ^ 1 if kind is GateKind.NOR else acc
    if kind is GateKind.XOR:
        acc = FALSE
        for a in args:
            acc = mgr.xor(acc, a)
        return acc
    if kind is GateKind.NOT:
        return args[0] ^ 1
    if kind is GateKind.NULL:
        return args[0]
    assert kind is GateKind.ATLEAST and k is not None
    return int(mgr.atleast(k, args))


def _build_gate(tree: FaultTree, top: str, modules: set[str], leaf: Any, mgr: Any,
                index: dict[str, int]) -> Generator[None, None, int]:
    values: dict[str, int] = {}
    nvars = len(index)
    top_var: dict[str, int] = {}
    work: list[tuple[str, bool]] = [(top, False)]
    while work:
        name, expanded = work.pop()
        if name in values:
            continue
        try:
            if name not in tree.gates or (name != top and name in modules):
                values[name] = leaf(name)
                top_var[name] = index.get(name, nvars)
                continue
            gate = tree.gates[name]
            if not expanded:
                work.append((name, True))
                work.extend((c, False) for c in reversed(gate.inputs) if c not in values)
                continue
            inputs = sorted(gate.inputs, key=top_var.__getitem__, reverse=True)
            values[name] = _apply_gate(mgr, gate.kind, gate.k, [values[c] for c in inputs])
            top_var[name] = top_var[inputs[-1]]
        except OverflowError:
            work.append((name, expanded))
            yield
    return values[top]


class _PythonBuild(bddmod._OrderBuild):
    """bdd._OrderBuild with the Python walk of the previous version (one Manager call per step)."""

    def _steps_of_build(self) -> Generator[None, None, None]:
        tree, modules, mgr = self.tree, self.modules, self.mgr
        index = {name: i for i, name in enumerate(self.order)}
        probs = [tree.basic_events[n].probability if n in tree.basic_events else 0.0 for n in self.order]
        constants: dict[str, int] = {}
        built: list[tuple[str, int, list[str], list[str]]] = []
        for module in bottom_up(tree, modules):
            children: list[str] = []
            events: list[str] = []

            def leaf(name: str, children: list[str] = children, events: list[str] = events) -> int:
                if name in constants:
                    return constants[name]
                if name in tree.basic_events or name in modules:
                    (events if name in tree.basic_events else children).append(name)
                    return int(mgr.var(index[name]))
                return TRUE if tree.house_events[name].state else FALSE

            top = yield from _build_gate(tree, module, modules, leaf, mgr, index)
            if module != tree.top and top in (TRUE, FALSE):
                constants[module] = top
                continue
            built.append((module, top, children, events))
        result = [
            bddmod.ModuleBdd(module, bddmod._flatten(mgr, top, self.order, probs), sorted(set(children)),
                             sorted(set(events)))
            for module, top, children, events in built
        ]
        self.size = sum(m.flat.size for m in result)
        self._bdds = bddmod.TreeBdds(result, self.order, probs, index)


def _stepped(b: bddmod._OrderBuild, step: int) -> list[int]:
    """Run the build `step` nodes at a time; the nodes allocated at each stop."""
    stops = [b.work]
    while not b.run(b.work + step):
        stops.append(b.work)
        assert len(stops) < 100_000
    return [*stops, b.work]


def _same(a: bddmod.TreeBdds, b: bddmod.TreeBdds) -> None:
    assert a.variables == b.variables
    for x, y in zip(a.modules, b.modules, strict=True):
        assert (x.name, x.children, x.events) == (y.name, y.children, y.events)
        assert (list(x.flat.level), list(x.flat.high), list(x.flat.low), x.flat.root) == (
            list(y.flat.level), list(y.flat.high), list(y.flat.low), y.flat.root)


def _compare(tree: FaultTree, step: int, rnd: random.Random) -> None:
    split = is_coherent(tree)
    found = find_modules(tree) if split else {tree.top}
    modules = bddmod._separate(tree, found) if split else found
    first = first_order(tree, modules, found)
    # Any order, not only depth-first ones: a module's placeholder then may sit below its own events, and
    # its parents must still sort it by its variable.
    shuffled = rnd.sample(first, len(first))
    for order in [first, *other_orders(tree, modules, first), shuffled]:
        c, p = bddmod._OrderBuild(tree, modules, order), _PythonBuild(tree, modules, order)
        assert _stepped(c, step) == _stepped(p, step)
        assert c.size == p.size
        _same(c.bdds, p.bdds)


@st.composite
def repeated_inputs(draw: st.DrawFn) -> FaultTree:
    """Trees whose gates may name an input twice (k-of-n counts each), with shared gates and house events."""
    n = draw(st.integers(1, 6))
    basics = {f"e{i}": BasicEvent(f"e{i}", 0.1 * (i + 1)) for i in range(n)}
    houses = {"h": HouseEvent("h", draw(st.booleans()))}
    gates: dict[str, Gate] = {}
    for gi in range(draw(st.integers(1, 10))):
        pool = [*basics, *houses, *gates]
        kind = draw(st.sampled_from(list(GateKind)))
        size = 1 if kind in (GateKind.NOT, GateKind.NULL) else draw(st.integers(1, 5))
        inputs = tuple(draw(st.lists(st.sampled_from(pool), min_size=size, max_size=size)))
        k = draw(st.integers(0, len(inputs) + 1)) if kind is GateKind.ATLEAST else None
        gates[f"g{gi}"] = Gate(f"g{gi}", kind, inputs, k)
    top = f"g{len(gates) - 1}"
    return FaultTree("T", top, gates, basics, houses)


@SETTINGS
@given(trees(), st.integers(1, 30), st.randoms(use_true_random=False))
def test_c_walk_allocates_as_the_python_walk(tree: FaultTree, step: int, rnd: random.Random) -> None:
    _compare(tree, step, rnd)


@SETTINGS
@given(trees(coherent=True), st.integers(1, 30), st.randoms(use_true_random=False))
def test_c_walk_allocates_as_the_python_walk_preprocessed(tree: FaultTree, step: int, rnd: random.Random) -> None:
    _compare(preprocess(tree), step, rnd)  # modules, thin modules inside their parents, NOT gates over events


@SETTINGS
@given(repeated_inputs(), st.integers(1, 30), st.booleans(), st.randoms(use_true_random=False))
def test_c_walk_on_repeated_inputs_and_constants(tree: FaultTree, step: int, pre: bool, rnd: random.Random) -> None:
    _compare(preprocess(tree) if pre else tree, step, rnd)


def test_module_keeps_its_variable_in_its_parent() -> None:
    # m = or(c, d) is a module of its own; with its placeholder at the bottom of the order, the parent applies
    # it last (by its variable), not first (by c, the highest variable inside it).
    events = {n: BasicEvent(n, 0.1) for n in "abcd"}
    gates = {"m": Gate("m", GateKind.OR, ("c", "d")), "t": Gate("t", GateKind.AND, ("m", "a", "b"))}
    tree = FaultTree("T", "t", gates, events)
    for order in (["c", "d", "a", "b", "m"], ["a", "m", "b", "c", "d"]):
        c, p = bddmod._OrderBuild(tree, {"t", "m"}, order), _PythonBuild(tree, {"t", "m"}, order)
        assert _stepped(c, 1) == _stepped(p, 1)
        _same(c.bdds, p.bdds)


def test_chain_of_100000_gates_walks_without_recursion() -> None:
    n = 100_000
    events = {f"e{i}": BasicEvent(f"e{i}", 0.01) for i in range(n + 1)}
    gates = {
        f"g{i}": Gate(f"g{i}", GateKind.OR if i % 2 == 0 else GateKind.AND,
                      (f"g{i + 1}" if i + 1 < n else f"e{n}", f"e{i}"))
        for i in range(n)
    }
    tree = FaultTree("T", "g0", gates, events)
    bdds = bddmod.build(tree, split=False)
    assert len(bdds.modules) == 1 and len(bdds.modules[0].events) == n + 1
    assert bdds.modules[0].flat.size == n + 2  # one node per event and the terminal


def _python_modules_and_order(tree: FaultTree, split: bool) -> tuple[set[str], list[str]]:
    """What bdd.build computed in Python before the flat arrays."""
    found = find_modules(tree) if split else {tree.top}
    modules = bddmod._separate(tree, found) if split else found
    return modules, first_order(tree, modules, found)


@SETTINGS
@given(st.one_of(trees(), trees(coherent=True), repeated_inputs()), st.booleans(), st.booleans())
def test_c_modules_and_first_order_as_python(tree: FaultTree, pre: bool, split: bool) -> None:
    if pre:
        tree = preprocess(tree)
    flat = bddmod._FlatTree(tree)
    assert flat.modules_and_first_order(tree, split) == _python_modules_and_order(tree, split)
    if split:
        found = _bddk.flat_find_modules(flat.kinds, flat.offsets, flat.inputs, flat.top)
        assert {flat.names[x] for x, f in enumerate(found) if f} == find_modules(tree)


def test_c_modules_of_chains_and_shared_thin_modules() -> None:
    # g1 is a thin module (one child module and one event) shared by two parents; m is a module over a house
    # event and an event; the top's order puts late inputs (modules) after the others.
    events = {n: BasicEvent(n, 0.1) for n in ("a", "b", "c", "d")}
    gates = {
        "t": Gate("t", GateKind.AND, ("p", "q", "m")),
        "p": Gate("p", GateKind.OR, ("g1", "a")),
        "q": Gate("q", GateKind.OR, ("g1", "b")),
        "g1": Gate("g1", GateKind.AND, ("g2", "c")),
        "g2": Gate("g2", GateKind.ATLEAST, ("a2", "b2", "c2"), 2),
        "m": Gate("m", GateKind.OR, ("h", "d")),
    }
    events |= {n: BasicEvent(n, 0.2) for n in ("a2", "b2", "c2")}
    tree = FaultTree("T", "t", gates, events, {"h": HouseEvent("h", False)})
    flat = bddmod._FlatTree(tree)
    for split in (False, True):
        assert flat.modules_and_first_order(tree, split) == _python_modules_and_order(tree, split)
    modules, _ = flat.modules_and_first_order(tree, True)
    assert modules == {"t", "g2", "m"}  # g1 is thin; p and q share it


def _flat(kinds: list[int], offsets: list[int], inputs: list[int]) -> tuple[array[int], ...]:
    return array("i", kinds), array("i", offsets), array("i", inputs)


def test_gate_post_order_matches_tree_post_order() -> None:
    gates = {
        "t": Gate("t", GateKind.OR, ("a", "b", "x")),
        "a": Gate("a", GateKind.AND, ("b", "y")),
        "b": Gate("b", GateKind.AND, ("x", "y")),
        "u": Gate("u", GateKind.AND, ("x",)),  # unreachable
    }
    tree = FaultTree("T", "t", gates, {"x": BasicEvent("x", 0.1), "y": BasicEvent("y", 0.2)})
    flat = bddmod._FlatTree(tree)
    got = _bddk.gate_post_order(flat.kinds, flat.offsets, flat.inputs, flat.ids["t"])
    from safetyops_dsl.fta.tree import post_order

    assert [flat.names[x] for x in got] == post_order(tree) == ["b", "a", "t"]


def test_bad_arrays_are_refused() -> None:
    kinds, offsets, inputs = _flat([1, -1], [0, 1, 1], [1])
    with pytest.raises(ValueError):
        _bddk.gate_post_order(kinds, offsets, array("i", [5]), 0)
    with pytest.raises(ValueError):
        _bddk.gate_post_order(kinds, array("i", [0, 2, 1]), inputs, 0)
    mgr = _bddk.Manager(1)

    def call(**change: Any) -> None:
        args = dict(kinds=kinds, ks=array("i", [0, 0]), offsets=offsets, inputs=inputs,
                    leafval=array("i", [-1, 0]), topv=array("i", [0, 0]), values=array("I", [0, 0]),
                    stamp=array("i", [-1, -1]), modules=array("i", [0]), results=array("I", [0]), leaves=[[]],
                    state=array("i", [0]), top=0)
        args.update(change)
        mgr.build_modules(*args.values())

    call()  # the valid call: or(x)
    with pytest.raises(ValueError):
        call(leafval=array("i", [-1, 1]))  # variable 1 of a 1-variable manager
    with pytest.raises(ValueError):
        call(leafval=array("i", [-1, -1]))  # a leaf with no value
    with pytest.raises(ValueError):
        call(modules=array("i", [1]))  # a module that is no gate
    with pytest.raises(TypeError):
        call(values=[0, 0])  # not writable in place
    with pytest.raises(ValueError):
        call(state=array("i", [2]))
    cyc_kinds, cyc_offsets, cyc_inputs = _flat([1, 0, -1], [0, 2, 3, 3], [1, 2, 0])
    with pytest.raises(ValueError, match="cycle"):
        call(kinds=cyc_kinds, ks=array("i", [0, 0, 0]), offsets=cyc_offsets, inputs=cyc_inputs,
             leafval=array("i", [-1, -1, 0]), topv=array("i", [0, 0, 0]), values=array("I", [0] * 3),
             stamp=array("i", [-1] * 3))
