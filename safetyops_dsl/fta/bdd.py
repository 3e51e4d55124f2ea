"""The BDD of a fault tree, built with CUDD (`dd.cudd`) and then copied into flat Python arrays.

Why copy: every later algorithm (probability, importance, minimal cut sets) walks all nodes, and walking
`dd.cudd.Function` objects allocates a wrapper per visit. One walk that numbers the nodes, followed by walks
over plain `list[int]`, is several times faster and lets the CUDD manager be freed early.

Edges are encoded as `2 * node + complemented`. Node 0 is the constant TRUE, so edge 0 is TRUE and edge 1 is
FALSE. Children always have smaller numbers than their parents (post-order numbering).

Dynamic reordering is switched off: it does not finish on CEA9601. The static order is the depth-first
order of first appearance from the top event (`variable_order`), which keeps the events of one sub-tree
(and so of one module) next to each other.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from safetyops_dsl.fta.tree import FaultTree, GateKind

TRUE, FALSE = 0, 1


def import_cudd() -> Any:
    """Import `dd.cudd` without networkx.

    `dd._utils` imports networkx only for its plotting helpers (which we never call), and that import costs
    ~0.2 s of CLI start-up. Marking networkx as unavailable for the duration of the import makes dd fall back
    to its "networkx missing" path; the marker is removed afterwards so other code imports networkx normally.
    """
    if "dd.cudd" in sys.modules:
        return sys.modules["dd.cudd"]
    hidden = "networkx" not in sys.modules
    if hidden:
        sys.modules["networkx"] = None  # type: ignore[assignment]
    try:
        from dd import cudd
    finally:
        if hidden:
            del sys.modules["networkx"]
    return cudd


@dataclass
class FlatBdd:
    """A reduced ordered BDD with complement edges, as arrays. `level[i]` is the variable index of node i."""

    level: list[int]  # node -> variable index (node 0: len(variables), below every variable)
    high: list[int]  # node -> edge
    low: list[int]  # node -> edge
    root: int  # edge
    variables: list[str]  # variable index -> basic event or module placeholder (shared by all modules)
    probability: list[float]  # variable index -> p (the same list object for all modules of a tree)

    @property
    def size(self) -> int:
        return len(self.level)


def _atleast(bdd: Any, k: int, args: list[Any]) -> Any:
    # Threshold function by dynamic programming: t[j] = "at least j of the inputs seen so far".
    t = [bdd.true] + [bdd.false] * k
    for x in args:
        for j in range(k, 0, -1):
            t[j] = t[j] | (x & t[j - 1])
    return t[k]


@dataclass
class ModuleBdd:
    """The BDD of one module; its child modules appear in it as placeholder variables."""

    name: str
    flat: FlatBdd
    children: list[str]  # child modules whose placeholder variables occur here
    events: list[str]  # basic events whose variables occur here


@dataclass
class TreeBdds:
    modules: list[ModuleBdd]  # bottom-up: every module after its children; the top is last
    variables: list[str]  # global order: basic events and module placeholders
    probability: list[float]  # global variable -> p (placeholders filled in by the engine)
    index: dict[str, int]


def build(tree: FaultTree, split: bool = False) -> TreeBdds:
    """BDDs of the tree's modules in one CUDD manager (one shared, static variable order).

    House events are constants, so CUDD propagates them. A module whose function turns out constant is
    passed to its parents as that constant, never as a variable (a constant placeholder would make the
    grafted cut sets non-minimal).
    """
    from safetyops_dsl.fta.modules import candidate_orders, find_modules

    modules = find_modules(tree) if split else {tree.top}
    orders = candidate_orders(tree, modules)
    budget = 1 << 14
    while True:
        # Race the candidate orders: the first to finish within the node budget wins; the budget grows 4x
        # per round, so the total work stays within a small factor of the best order's.
        for order in orders:
            try:
                return _build_with_order(tree, modules, order, budget if len(orders) > 1 else None)
            except _OverBudget:
                continue
        budget *= 4


class _OverBudget(Exception):
    pass


def _build_with_order(tree: FaultTree, modules: set[str], order: list[str], budget: int | None) -> TreeBdds:
    cudd = import_cudd()
    index = {name: i for i, name in enumerate(order)}
    probs = [tree.basic_events[n].probability if n in tree.basic_events else 0.0 for n in order]
    bdd = cudd.BDD()
    bdd.configure(reordering=False)
    # CUDD numbers variables in declaration order; with reordering off, index == level.
    bdd.declare(*(f"v{i}" for i in range(len(order))))
    constants: dict[str, object] = {}
    result: list[ModuleBdd] = []
    for module in _bottom_up(tree, modules):
        children: list[str] = []
        events: list[str] = []

        def leaf(name: str, children: list[str] = children, events: list[str] = events) -> object:
            if name in constants:
                return constants[name]
            if name in tree.basic_events or name in modules:
                (events if name in tree.basic_events else children).append(name)
                return bdd.var(f"v{index[name]}")
            return bdd.true if tree.house_events[name].state else bdd.false

        top = _build_gate(tree, module, modules, leaf, bdd, budget)
        if module != tree.top and (top == bdd.true or top == bdd.false):
            constants[module] = top
            continue
        flat = _flatten(bdd, top, order, probs)
        result.append(ModuleBdd(module, flat, sorted(set(children)), sorted(set(events))))
    return TreeBdds(result, order, probs, index)


def _bottom_up(tree: FaultTree, modules: set[str]) -> list[str]:
    """Modules in post-order (children first)."""
    out: list[str] = []
    seen: set[str] = set()
    stack: list[tuple[str, bool]] = [(tree.top, False)]
    while stack:
        name, done = stack.pop()
        if done:
            if name in modules:
                out.append(name)
            continue
        if name in seen:
            continue
        seen.add(name)
        stack.append((name, True))
        gate = tree.gates.get(name)
        if gate is not None:
            stack.extend((c, False) for c in reversed(gate.inputs) if c in tree.gates and c not in seen)
    return out


def _build_gate(tree: FaultTree, top: str, modules: set[str], leaf: Any, bdd: Any, budget: int | None) -> Any:
    """BDD of gate `top`, stopping at other modules (they are leaves)."""
    if top not in tree.gates:
        return leaf(top)
    remaining: dict[str, int] = {}
    seen: set[str] = set()
    stack = [top]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        for child in tree.gates[name].inputs:
            remaining[child] = remaining.get(child, 0) + 1
            if child in tree.gates and child not in modules:
                stack.append(child)
    values: dict[str, object] = {}
    applied = 0
    # Iterative post-order: deep trees must not hit Python's recursion limit. Intermediate BDDs are
    # released when their last parent has used them, so CUDD can collect them.
    work: list[tuple[str, bool]] = [(top, False)]
    while work:
        name, expanded = work.pop()
        if name in values:
            continue
        if name != top and (name not in tree.gates or name in modules):
            values[name] = leaf(name)
            continue
        gate = tree.gates[name]
        if not expanded:
            work.append((name, True))
            work.extend((c, False) for c in reversed(gate.inputs) if c not in values)
            continue
        args = [values[c] for c in gate.inputs]
        values[name] = _apply_gate(bdd, gate.kind, gate.k, args)
        applied += 1
        # len(bdd) costs ~1 ms on a large manager (CUDD counts live nodes), so check now and then.
        if budget is not None and (applied % 64 == 0 or name == top) and len(bdd) > budget:
            raise _OverBudget
        for child in gate.inputs:
            remaining[child] -= 1
            if remaining[child] == 0:
                del values[child]
    return values[top]


def _apply_gate(bdd: object, kind: GateKind, k: int | None, args: list[object]) -> object:
    b = bdd
    if kind in (GateKind.AND, GateKind.NAND):
        acc = b.true  # type: ignore[attr-defined]
        for a in args:
            acc = acc & a
        return ~acc if kind is GateKind.NAND else acc
    if kind in (GateKind.OR, GateKind.NOR):
        acc = b.false  # type: ignore[attr-defined]
        for a in args:
            acc = acc | a
        return ~acc if kind is GateKind.NOR else acc
    if kind is GateKind.XOR:  # n-ary XOR is odd parity (the chained binary XOR)
        acc = b.false  # type: ignore[attr-defined]
        for a in args:
            acc = b.apply("xor", acc, a)  # type: ignore[attr-defined]
        return acc
    if kind is GateKind.NOT:
        return ~args[0]  # type: ignore[operator]
    if kind is GateKind.NULL:
        return args[0]
    if kind is GateKind.ATLEAST:
        assert k is not None
        return _atleast(bdd, k, args)
    raise ValueError(f"unknown gate kind {kind}")


def _flatten(bdd: object, top: object, order: list[str], probs: list[float]) -> FlatBdd:
    nvars = len(order)
    level = [nvars]
    high = [TRUE]
    low = [TRUE]
    ids: dict[int, int] = {}
    true_node = bdd.true  # type: ignore[attr-defined]
    ids[int(true_node)] = 0

    def regular(u: object) -> object:
        return ~u if u.negated else u  # type: ignore[attr-defined, operator]

    # Iterative post-order over regular nodes.
    root_reg = regular(top)
    stack: list[tuple[object, bool]] = [(root_reg, False)]
    while stack:
        u, expanded = stack.pop()
        key = int(u)  # type: ignore[call-overload]
        if key in ids:
            continue
        lo, hi = u.low, u.high  # type: ignore[attr-defined]
        if not expanded:
            stack.append((u, True))
            for child in (hi, lo):
                if int(regular(child)) not in ids:  # type: ignore[call-overload]
                    stack.append((regular(child), False))
            continue
        node = len(level)
        ids[key] = node
        level.append(u.level)  # type: ignore[attr-defined]
        high.append(2 * ids[int(regular(hi))] + (1 if hi.negated else 0))  # type: ignore[call-overload]
        low.append(2 * ids[int(regular(lo))] + (1 if lo.negated else 0))  # type: ignore[call-overload]
    root = 2 * ids[int(root_reg)] + (1 if top.negated else 0)  # type: ignore[attr-defined, call-overload]
    return FlatBdd(level, high, low, root, order, probs)


def node_probabilities(f: FlatBdd) -> tuple[list[float], list[float]]:
    """P(node) and 1 - P(node) for every node, each as a sum of positive terms.

    Computing 1 - P by subtraction would lose all digits of a small top probability behind a complement
    edge (CUDD stores OR as NOT AND NOT); carrying both values keeps the relative error near machine epsilon.
    """
    n = f.size
    pos = [1.0] * n
    neg = [0.0] * n
    probs = f.probability
    level, high, low = f.level, f.high, f.low
    for i in range(1, n):
        p = probs[level[i]]
        q = 1.0 - p
        h, lo = high[i], low[i]
        if h & 1:
            ph, nh = neg[h >> 1], pos[h >> 1]
        else:
            ph, nh = pos[h >> 1], neg[h >> 1]
        if lo & 1:
            pl, nl = neg[lo >> 1], pos[lo >> 1]
        else:
            pl, nl = pos[lo >> 1], neg[lo >> 1]
        pos[i] = p * ph + q * pl
        neg[i] = p * nh + q * nl
    return pos, neg


def edge_probability(edge: int, pos: list[float], neg: list[float]) -> float:
    return neg[edge >> 1] if edge & 1 else pos[edge >> 1]


def conditional_probabilities(
    f: FlatBdd, pos: list[float], neg: list[float]
) -> dict[int, tuple[float, float]]:
    """{v: (P(top | v=1), P(top | v=0))} for every variable v of the BDD, in one top-down pass, as sums of positive terms.

    The pass runs over (node, polarity) pairs, i.e. the BDD with complement edges expanded, so every path
    weight R is a product of probabilities. For variable v,
        P(top | v=b) = sum over nodes at v of R(node) * P(child_b)  +  sum over edges jumping over v of
                       R(parent) * P(branch) * P(child).
    The jumping edges add their term to a range of levels; a segment tree that only ever adds keeps every
    sum free of cancellation, so P(top | v=0) is accurate even when it is tiny (or exactly 0) next to P(top).
    """
    n = f.size
    nvars = len(f.variables)
    size = 1
    while size < max(nvars, 1):
        size *= 2
    seg = [0.0] * (2 * size)

    def add_range(lo_level: int, hi_level: int, value: float) -> None:  # levels lo..hi-1
        lo_i, hi_i = lo_level + size, hi_level + size
        while lo_i < hi_i:
            if lo_i & 1:
                seg[lo_i] += value
                lo_i += 1
            if hi_i & 1:
                hi_i -= 1
                seg[hi_i] += value
            lo_i >>= 1
            hi_i >>= 1

    reach = [[0.0, 0.0] for _ in range(n)]  # [regular, complemented]
    root_node, root_pol = f.root >> 1, f.root & 1
    reach[root_node][root_pol] = 1.0
    level = f.level
    add_range(0, level[root_node], neg[root_node] if root_pol else pos[root_node])
    at1: dict[int, float] = {}
    at0: dict[int, float] = {}
    probs, high, low = f.probability, f.high, f.low
    for i in range(n - 1, 0, -1):  # parents have larger numbers than children
        r = reach[i]
        v = level[i]
        if v not in at1:  # every variable of the BDD gets an entry, even if no path reaches it with weight
            at1[v] = at0[v] = 0.0
        if r[0] == 0.0 and r[1] == 0.0:
            continue
        p = probs[v]
        q = 1.0 - p
        h, lo = high[i], low[i]
        hn, ln = h >> 1, lo >> 1
        lh, ll = level[hn], level[ln]
        for pol in (0, 1):
            w = r[pol]
            if w == 0.0:
                continue
            hp = (h & 1) ^ pol
            lp = (lo & 1) ^ pol
            ph = neg[hn] if hp else pos[hn]
            pl = neg[ln] if lp else pos[ln]
            at1[v] += w * ph
            at0[v] += w * pl
            reach[hn][hp] += w * p
            reach[ln][lp] += w * q
            if lh > v + 1:
                add_range(v + 1, lh, w * p * ph)
            if ll > v + 1:
                add_range(v + 1, ll, w * q * pl)
    out: dict[int, tuple[float, float]] = {}
    for v in sorted(at1):  # the variables that occur in this BDD
        i = v + size
        skip = 0.0
        while i >= 1:
            skip += seg[i]
            i >>= 1
        out[v] = (min(skip + at1[v], 1.0), min(skip + at0[v], 1.0))
    return out


def ensure_recursion(depth: int) -> None:
    """Recursive ZDD algorithms recurse at most a few times the number of variables deep."""
    need = 4 * depth + 1000
    if sys.getrecursionlimit() < need:
        sys.setrecursionlimit(need)
