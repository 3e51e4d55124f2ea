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

import os
import re
import sys
import tempfile
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
    if len(orders) == 1:
        return _build_with_order(tree, modules, orders[0], _Budget(None, None))[0]
    nodes = 1 << 14
    # The model's order first, on its own, with a small budget: most trees fit, and they keep the BDD (and
    # so the last bits of every probability) they always had.
    try:
        return _build_with_order(tree, modules, orders[0], _Budget(nodes, 8 * nodes))[0]
    except _OverBudget:
        pass
    orders = orders[1:] + orders[:1]  # then shared-first, smaller-first, as written
    while True:
        # Race the candidate orders: the first to finish with every gate's BDD within the node budget (and the
        # sum of all gate sizes within 8x that) wins; the budget grows 4x per round. The first order (best on
        # most of the corpus) gets the round's budget, the others a quarter of it: they only overtake it when
        # they are much better, and a big tree no longer pays three failed builds per round (CEA9601: 12 s
        # of failed attempts with equal budgets, for a winner that takes 7 s).
        for i, order in enumerate(orders):
            cap = nodes if i == 0 else nodes // 4
            try:
                best, work, size = _build_with_order(tree, modules, order, _Budget(cap, 8 * cap))
            except _OverBudget:
                continue
            # Challengers: the first to fit is not always the smallest (edf9202: 188,000 nodes for the
            # shared-first order, 2,000 for smaller-sub-trees-first, whose gates peak at 123,000 nodes on the
            # way). Every later pass is per node in Python, so a much smaller final BDD is worth some extra
            # CUDD work: a later order may spend up to 1.5x the winner's work (sum of the gates' BDD sizes,
            # deterministic) and must keep every gate below the best final size so far. The first challenger
            # that fails ends the challenge (on CEA9601 each one costs seconds and none is smaller).
            for other in orders[i + 1 :]:
                try:
                    cand, _, csize = _build_with_order(
                        tree, modules, other, _Budget(min(nodes, size), work * 3 // 2)
                    )
                except _OverBudget:
                    break
                if csize < size:
                    best, size = cand, csize
            return best
        nodes *= 4


class _OverBudget(Exception):
    pass


class _Budget:
    """Limits of one build: nodes per gate BDD, and work = the sum of all gate BDD sizes (None: no limit)."""

    __slots__ = ("nodes", "work", "used")

    def __init__(self, nodes: int | None, work: int | None) -> None:
        self.nodes = nodes
        self.work = work
        self.used = 0

    def check(self, f: Any) -> None:
        if self.nodes is None and self.work is None:
            return
        n = len(f)  # Cudd_DagSize: linear in the BDD the apply just built
        self.used += n
        if (self.nodes is not None and n > self.nodes) or (self.work is not None and self.used > self.work):
            raise _OverBudget


def _build_with_order(
    tree: FaultTree, modules: set[str], order: list[str], budget: _Budget
) -> tuple[TreeBdds, int, int]:
    """The module BDDs under one order, with the work spent and the total number of nodes."""
    cudd = import_cudd()
    index = {name: i for i, name in enumerate(order)}
    probs = [tree.basic_events[n].probability if n in tree.basic_events else 0.0 for n in order]
    bdd = cudd.BDD()
    bdd.configure(reordering=False)
    # CUDD numbers variables in declaration order; with reordering off, index == level.
    bdd.declare(*(f"v{i}" for i in range(len(order))))
    constants: dict[str, object] = {}
    built: list[tuple[str, Any, list[str], list[str]]] = []
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
        built.append((module, top, children, events))
    # Copied only once the whole order has succeeded (an order over budget is abandoned before any copy).
    result = [
        ModuleBdd(module, _flatten(bdd, top, order, probs), sorted(set(children)), sorted(set(events)))
        for module, top, children, events in built
    ]
    return TreeBdds(result, order, probs, index), budget.used, sum(m.flat.size for m in result)


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


def _build_gate(tree: FaultTree, top: str, modules: set[str], leaf: Any, bdd: Any, budget: _Budget) -> Any:
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
        values[name] = result = _apply_gate(bdd, gate.kind, gate.k, args, budget)
        # The budget bounds every gate's BDD (Cudd_DagSize, linear in the result that the apply just built, so
        # cheap enough for every gate). `len(bdd)` (live nodes of the manager) was checked only every 64
        # gates because it scans the unique table (36 ms at 200,000 nodes), and then a bad order on
        # CEA9601 (201 gates) ran for 10-20 s past the budget before it was stopped.
        budget.check(result)
        for child in gate.inputs:
            remaining[child] -= 1
            if remaining[child] == 0:
                del values[child]
    return values[top]


def _apply_gate(
    bdd: object, kind: GateKind, k: int | None, args: list[object], budget: _Budget | None = None
) -> object:
    b = bdd
    if kind in (GateKind.AND, GateKind.NAND):
        acc = b.true  # type: ignore[attr-defined]
        for i, a in enumerate(args, 1):
            acc = acc & a
            if budget is not None and i % 8 == 0:
                budget.check(acc)
        return ~acc if kind is GateKind.NAND else acc
    if kind in (GateKind.OR, GateKind.NOR):
        acc = b.false  # type: ignore[attr-defined]
        for i, a in enumerate(args, 1):
            acc = acc | a
            if budget is not None and i % 8 == 0:
                budget.check(acc)
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


def _flatten(bdd: Any, top: Any, order: list[str], probs: list[float]) -> FlatBdd:
    """Copy the BDD of `top` into arrays through CUDD's DDDMP text dump.

    CUDD writes the dump in C (children before parents, complemented else-edges as negative ids), and the
    text splits into integer columns with a few list comprehensions. Walking the nodes through `dd.cudd`
    attributes instead costs several Python-level calls per node: on CEA9601 (2.4 M nodes) that walk was
    the largest single cost (170 s of a 500 s cProfile run); the dump and parse take ~3 s.
    """
    nvars = len(order)
    if top == bdd.true or top == bdd.false:
        return FlatBdd([nvars], [TRUE], [TRUE], TRUE if top == bdd.true else FALSE, order, probs)
    fd, path = tempfile.mkstemp(prefix="sops-fta-", suffix=".dddmp")
    os.close(fd)
    try:
        bdd._dump_dddmp(top, path)
        with open(path, "rb") as fh:
            text = fh.read()
    finally:
        os.unlink(path)
    head, _, body = text.partition(b"\n.nodes\n")
    body = body[: body.rindex(b".end")]
    root_id = int(re.search(rb"^\.rootids (-?\d+)", head, re.MULTILINE).group(1))  # type: ignore[union-attr]
    # Lines: "id name index then else"; line i (1-based) is node id i, node 1 the constant (its index column is
    # not a variable, so it is skipped).
    toks = body.split()
    ids = list(map(int, toks[0::5]))
    if ids != list(range(1, len(ids) + 1)):  # DDDMP numbers nodes consecutively; anything else is a surprise
        raise RuntimeError("unexpected DDDMP node numbering")
    # The index column counts support variables only; `.ids` maps it to CUDD's index (= our variable).
    support = list(map(int, re.search(rb"^\.ids ([\d ]+)$", head, re.MULTILINE).group(1).split()))  # type: ignore[union-attr]
    level = [nvars]
    level += [support[i] for i in map(int, toks[7::5])]
    # DDDMP id d > 0 is our node d - 1; an edge to -d is complemented: 2 * (d - 1) + 1 = -2 * d - 1.
    high = [2 * d - 2 if d > 0 else -2 * d - 1 for d in map(int, toks[3::5])]
    low = [2 * d - 2 if d > 0 else -2 * d - 1 for d in map(int, toks[4::5])]
    high[0] = low[0] = TRUE
    root = 2 * root_id - 2 if root_id > 0 else -2 * root_id - 1
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
    A jumping edge adds its term to the range of levels it skips. The terms are first summed per range (a
    dict keyed by the range: there are at most nvars^2 distinct ranges, against millions of edges on
    CEA9601), then each range sum goes into a segment tree that only ever adds. Every sum is thus free of
    cancellation, so P(top | v=0) is accurate even when it is tiny (or exactly 0) next to P(top).
    """
    n = f.size
    nvars = len(f.variables)
    level, high, low, probs = f.level, f.high, f.low, f.probability
    reach0 = [0.0] * n  # path weight reaching node i through a regular edge
    reach1 = [0.0] * n  # ... through a complemented edge
    root_node, root_pol = f.root >> 1, f.root & 1
    (reach1 if root_pol else reach0)[root_node] = 1.0
    at1 = [0.0] * (nvars + 1)
    at0 = [0.0] * (nvars + 1)
    present = [False] * (nvars + 1)
    jumps: dict[int, float] = {}  # lo_level * (nvars + 1) + hi_level -> summed term for levels lo..hi-1
    stride = nvars + 1
    if level[root_node] > 0:
        jumps[level[root_node]] = neg[root_node] if root_pol else pos[root_node]
    get = jumps.get
    for i in range(n - 1, 0, -1):  # parents have larger numbers than children
        v = level[i]
        present[v] = True  # every variable of the BDD gets an entry, even if no path reaches it with weight
        r0 = reach0[i]
        r1 = reach1[i]
        if r0 == 0.0 and r1 == 0.0:
            continue
        p = probs[v]
        q = 1.0 - p
        h = high[i]
        lo = low[i]
        hn = h >> 1
        ln = lo >> 1
        # Child values seen through a regular parent (index 0) and a complemented one (index 1).
        if h & 1:
            ph0, ph1 = neg[hn], pos[hn]
        else:
            ph0, ph1 = pos[hn], neg[hn]
        if lo & 1:
            pl0, pl1 = neg[ln], pos[ln]
        else:
            pl0, pl1 = pos[ln], neg[ln]
        a1 = 0.0  # sum over polarities of w * P(high child): also the high edge's jump term, before p
        a0 = 0.0
        if r0 != 0.0:
            a1 += r0 * ph0
            a0 += r0 * pl0
            if h & 1:
                reach1[hn] += r0 * p
            else:
                reach0[hn] += r0 * p
            if lo & 1:
                reach1[ln] += r0 * q
            else:
                reach0[ln] += r0 * q
        if r1 != 0.0:
            a1 += r1 * ph1
            a0 += r1 * pl1
            if h & 1:
                reach0[hn] += r1 * p
            else:
                reach1[hn] += r1 * p
            if lo & 1:
                reach0[ln] += r1 * q
            else:
                reach1[ln] += r1 * q
        at1[v] += a1
        at0[v] += a0
        lh = level[hn]
        if lh > v + 1:
            key = (v + 1) * stride + lh
            jumps[key] = get(key, 0.0) + p * a1
        ll = level[ln]
        if ll > v + 1:
            key = (v + 1) * stride + ll
            jumps[key] = get(key, 0.0) + q * a0
    size = 1
    while size < max(nvars, 1):
        size *= 2
    seg = [0.0] * (2 * size)
    for key, value in jumps.items():  # add value to levels lo..hi-1
        lo_i, hi_i = divmod(key, stride)
        lo_i += size
        hi_i += size
        while lo_i < hi_i:
            if lo_i & 1:
                seg[lo_i] += value
                lo_i += 1
            if hi_i & 1:
                hi_i -= 1
                seg[hi_i] += value
            lo_i >>= 1
            hi_i >>= 1
    out: dict[int, tuple[float, float]] = {}
    for v in range(nvars):  # the variables that occur in this BDD
        if not present[v]:
            continue
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
