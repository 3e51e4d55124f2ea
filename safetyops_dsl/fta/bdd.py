"""The BDD of a fault tree, built by our C kernel (`_bddk.c`) and handed on as flat arrays.

Why our own BDD package rather than CUDD (`dd.cudd`, used until measured otherwise): every later algorithm
(probability, importance, minimal cut sets) walks all nodes, and CUDD's nodes are reachable from Python
only through wrappers or a text dump. The kernel builds, numbers and walks nodes in C with no garbage
collection (a build is bounded by a node budget instead). On CEA9601 it builds the 1.1 M-node BDD in about
1 s against 4-5 s for CUDD plus 2 s to copy it out (benchmarks/fta_vs_scram.py; test_bddk.py checks it
against CUDD node for node).

Edges are encoded as `2 * node + complemented`. Node 0 is the constant TRUE, so edge 0 is TRUE and edge 1 is
FALSE. Children always have smaller numbers than their parents; the numbering is the one CUDD's DDDMP dump
gives (then-child first), so results did not move by a bit when the kernel replaced CUDD.

There is no dynamic reordering. Static orders are depth-first orders of first appearance from the top
event (`modules.candidate_orders`), which keep the events of one sub-tree (and so of one module) together;
`build` races them under a node budget.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Generator, Sequence
from itertools import accumulate, chain, compress, filterfalse
from operator import attrgetter

from safetyops_dsl.fta.preprocess import WrittenGates
from safetyops_dsl.fta.tree import FaultTree, GateKind
from safetyops_dsl.lazy_dataclasses import dataclass

TYPE_CHECKING = False  # typing itself is not imported at run time (`sops fta` start-up)
if TYPE_CHECKING:
    from typing import Any

TRUE, FALSE = 0, 1
FIRST_BUDGET = 1 << 16  # nodes the model's order gets on its own before the other orders are made


@dataclass
class FlatBdd:
    """A reduced ordered BDD with complement edges, as arrays. `level[i]` is the variable index of node i.

    From the kernel, level, high and low are array('i') (4 bytes a node each, where a list of ints costs ~36),
    which the kernels read in place; any sequence of ints works (tests build FlatBdds from lists)."""

    level: Sequence[int]  # node -> variable index (node 0: len(variables), below every variable)
    high: Sequence[int]  # node -> edge
    low: Sequence[int]  # node -> edge
    root: int  # edge
    variables: list[str]  # variable index -> basic event or module placeholder (shared by all modules)
    probability: list[float]  # variable index -> p (the same list object for all modules of a tree)

    @property
    def size(self) -> int:
        return len(self.level)


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


class BddTooLarge(Exception):
    """Every candidate order needs more than the allowed number of BDD nodes."""

    def __init__(self, limit: int, orders: int) -> None:
        super().__init__(limit, orders)
        self.limit, self.orders = limit, orders


def build(tree: FaultTree, split: bool = False, max_nodes: int = 1 << 24) -> TreeBdds:
    """BDDs of the tree's modules in one manager per candidate order (a shared, static variable order).
    Raises BddTooLarge when no order finishes within `max_nodes` allocated nodes.

    House events are constants and fold away. A module whose function turns out constant is passed to its
    parents as that constant, never as a variable (a constant placeholder would make the grafted cut sets
    non-minimal).
    """
    from safetyops_dsl.fta.modules import other_orders

    flat = _FlatTree(tree)
    modules, first = flat.modules_and_first_order(tree, split)
    flat.use_modules(modules)
    builds = [_OrderBuild(tree, modules, first, flat)]
    # Budgets count the nodes a build allocates (a manager keeps every node it makes), so a bad order is
    # stopped after a bounded amount of work whatever shape its gates have. A stopped build is resumed, not
    # restarted, when its budget grows: no work is thrown away.
    max_nodes = max(1, max_nodes)
    first_budget = min(FIRST_BUDGET, max_nodes)
    # The model's order first, on its own, with a small budget: most trees fit, and they keep the BDD they
    # always had (and so the last bits of every sum over it). The other orders are only made when it does
    # not fit (on a 10,000-gate chain making them cost as much as the build).
    if builds[0].run(first_budget):
        return builds[0].bdds
    builds += [_OrderBuild(tree, modules, order, flat) for order in other_orders(tree, modules, first)]
    if len(builds) == 1:
        if builds[0].run(max_nodes):
            return builds[0].bdds
        raise BddTooLarge(max_nodes, 1)
    race = builds[1:] + builds[:1]  # then shared-first, smaller-first, as written
    winner: _OrderBuild | None = None
    # Every order gets the round's budget: equal budgets keep the nodes held by stopped builds low (a schedule
    # that gave the first order 4x the others' let edf9202's shared-first build, which never fits, run to
    # 1,048,576 nodes before smaller-first finished in 158,000: 69 MiB peak against SCRAM's 20).
    # The winner depends only on the nodes each order allocates (deterministic for a given input), never on
    # time: a stopped build resumes where it stopped, so each order's count is that of one build in one go
    # (tests/unit/fta/test_engine_paths.py checks the winner against that model).
    for budget in _round_budgets(first_budget, max_nodes):
        for b in race:
            if b.run(budget):
                winner = b
                break
        if winner is not None:
            break
        if budget >= max_nodes:
            for b in builds:
                b.release()
            raise BddTooLarge(max_nodes, len(race))
    assert winner is not None
    # Challengers: the first to finish is not always the smallest (edfpa14b: 291,000 nodes smaller-first,
    # 196,000 as written for 2/3 of the work), and minsol can cost far more on a bigger BDD. Each goes on up to
    # half the winner's work: it wins only where it is much cheaper, and the loss where none is stays below
    # the winner's own work (CEA9601: +0.3 s on a 1 s build).
    best = winner
    for b in race:
        if b is not winner and b.run(max(1, b.work, winner.work // 2)) and b.size < best.size:
            best.release()
            best = b
        elif b is not best:
            b.release()  # now, not whenever the cyclic GC runs
    return best.bdds


def _round_budgets(first: int, cap: int) -> Generator[int, None, None]:
    """The race's round budgets: `first` (what the model's order had alone), 2.5x, then 4x, 16x, ... up to
    `cap`. Budgets grow 4x so that the work of an order that never fits stays a fraction of the winner's; the
    round at 2.5x stops such an order early when another fits there: on edf9202, where smaller-first needs
    158,000 nodes, shared-first (which needs more than 16.7 M) stops at 163,840 instead of 262,144, whose nodes
    and tables were the peak of the whole analysis (28 MiB against SCRAM's 20). On the Aralia trees that race,
    the extra round changes no winner (the first order in race order that fits is the same at 2.5x and at
    4x wherever one fits there), and adds at most 2 x 1.5x the first budget of nodes (das9601, edfpa14p,
    edfpa15o: all orders stop at 163,840 before the next round's winner)."""
    yield first
    yield min(first * 5 // 2, cap)
    budget = first * 4
    while True:
        yield min(budget, cap)
        budget *= 4


THIN = 2  # a module gate over one child module and at most this many events is built in its parent's BDD


def _separate(tree: FaultTree, modules: set[str]) -> set[str]:
    """The modules that get a BDD of their own: all but the thin ones (one child module and at most THIN
    events). In a chain of thin modules (g0 = or(g1, e0), g1 = and(g2, e1), ...) each module's BDD has two
    variables, and the Python work around each BDD (cut-set substitution, importance) costs far more than
    building the whole chain as one BDD, which the C kernel does in linear time."""
    keep = set()
    for name in modules:
        gate = tree.gates[name]
        if name != tree.top:
            inner = [c for c in gate.inputs if c in tree.gates]
            thin = len(inner) == 1 and inner[0] in modules and len(gate.inputs) - 1 <= THIN
            if thin and all(c in tree.basic_events for c in gate.inputs if c != inner[0]):
                continue
        keep.add(name)
    return keep


class _OverBudget(Exception):
    pass


# Gate kinds as the C walk (`Manager.build_modules`) reads them.
KIND_CODE = {
    GateKind.AND: 0, GateKind.OR: 1, GateKind.ATLEAST: 2, GateKind.XOR: 3,
    GateKind.NOT: 4, GateKind.NULL: 5, GateKind.NAND: 6, GateKind.NOR: 7,
}


class _FlatTree:
    """The tree's gates as arrays for the C kernel, shared by every order of one `build`: node ids are the
    gates in `tree.gates` order, then the other inputs in order of first use; `offsets[x]:offsets[x + 1]`
    are gate x's inputs in `inputs`; a leaf's kind is -1 (basic event), -2 (house event) or -3 (neither).
    `modules`: the module gates, bottom-up (`use_modules`)."""

    def __init__(self, tree: FaultTree) -> None:
        gates, basic, houses = tree.gates, tree.basic_events, tree.house_events
        self.modules = array("i")
        self._ids: dict[str, int] | None = None
        if isinstance(gates, WrittenGates):  # a preprocessed tree: its arrays come from the graph, not names
            fa = gates.flat()
            self.names, self.ngates, self.top = fa.names, fa.ngates, fa.top
            self.kinds, self.ks, self.offsets, self.inputs = fa.kinds, fa.ks, fa.offsets, fa.inputs
            return
        # One C-level pass per array (map, chain, filterfalse): on a 10,000-gate chain a Python step per
        # gate and per input cost about a third more.
        gate_list = list(gates.values())
        inputs = list(map(attrgetter("inputs"), gate_list))
        used = list(chain.from_iterable(inputs))
        names = list(gates)
        ngates = len(names)
        names += dict.fromkeys(filterfalse(gates.__contains__, used))  # the other inputs, in order of first use
        ids = dict(zip(names, range(len(names)), strict=True))
        self.names, self._ids, self.ngates = names, ids, ngates
        leaves = len(names) - ngates
        self.kinds = array("i", map(KIND_CODE.__getitem__, map(attrgetter("kind"), gate_list)))
        self.kinds.extend([-1 if n in basic else -2 if n in houses else -3 for n in names[ngates:]])
        self.ks = array("i", [g.k or 0 for g in gate_list])
        self.ks.extend([0] * leaves)
        self.offsets = array("i", accumulate(map(len, inputs), initial=0))
        self.offsets.extend([self.offsets[-1]] * leaves)
        self.inputs = array("i", map(ids.__getitem__, used))
        self.top = ids[tree.top] if tree.top in gates else -1

    @property
    def ids(self) -> dict[str, int]:
        """Node id by name."""
        if self._ids is None:
            self._ids = dict(zip(self.names, range(len(self.names)), strict=True))
        return self._ids

    def modules_and_first_order(self, tree: FaultTree, split: bool) -> tuple[set[str], list[str]]:
        """The modules that get a BDD of their own and the order as written (`modules.find_modules`,
        `_separate` and `modules.first_order`, computed in C on the arrays)."""
        from safetyops_dsl.fta import _bddk

        if self.top < 0:  # no gate at the top: nothing to walk (the Python functions decide as before)
            from safetyops_dsl.fta.modules import find_modules, first_order

            named = find_modules(tree) if split else {tree.top}
            modules = _separate(tree, named) if split else named
            return modules, first_order(tree, modules, named)
        arrays = (self.kinds, self.offsets, self.inputs, self.top)
        if split:
            found = _bddk.flat_find_modules(*arrays)
            kept = _bddk.flat_separate(*arrays, found, THIN)
        else:
            found = kept = array("b", [0]) * len(self.names)
            kept[self.top] = 1
        names = self.names
        first = [names[x] for x in _bddk.flat_first_order(*arrays, kept, found)]
        return set(compress(names, kept)), first

    def use_modules(self, modules: set[str]) -> None:
        from safetyops_dsl.fta._bddk import gate_post_order

        if self.top >= 0:
            names = self.names
            post = gate_post_order(self.kinds, self.offsets, self.inputs, self.top)
            self.modules = array("i", [x for x in post if names[x] in modules])


class _OrderBuild:
    """The module BDDs under one variable order, built in steps: `run(limit)` goes on until the build is done
    or its manager has allocated `limit` nodes; a later `run` with a larger limit resumes at the gate that
    was interrupted (nodes and cached results made before the stop stay valid in the manager)."""

    def __init__(self, tree: FaultTree, modules: set[str], order: list[str], flat: _FlatTree | None = None) -> None:
        from safetyops_dsl.fta._bddk import Manager

        self.tree, self.modules, self.order = tree, modules, order
        if flat is None:
            flat = _FlatTree(tree)
            flat.use_modules(modules)
        self.flat = flat
        self.mgr: Any = Manager(len(order))
        self.work = 0  # nodes allocated so far
        self.size = 0  # total nodes of the module BDDs, once done
        self._bdds: TreeBdds | None = None
        self._steps = self._steps_of_build()

    @property
    def bdds(self) -> TreeBdds:
        assert self._bdds is not None
        return self._bdds

    def release(self) -> None:
        """Free the manager of a build that lost the race (its generator frame holds it too)."""
        self._steps.close()
        self.mgr = None

    def run(self, limit: int) -> bool:
        """True when the build is done (limit 0: no limit)."""
        # A stopped build given no more than the nodes it already holds would stop again at once (the step it
        # retries needs a node it does not have): on edf9202 the challenger round redid 30 ms of applies so.
        if self._bdds is None and not 0 < limit <= self.work:
            self.mgr.node_limit = limit
            for _ in self._steps:  # the generator yields when the manager reaches its limit
                break
            self.work = int(self.mgr.nodes)
            if self._bdds is not None:
                self.mgr = None  # the flat copies are all that is needed: free the nodes now
            else:
                # Stopped: until it is resumed it holds its nodes only, packed up to 2^20 nodes (about 4.6 bytes
                # each, not 12, nor ~30 with the tables); it makes the same nodes when resumed (_bddk.c,
                # Manager_park).
                self.mgr.park()
        return self._bdds is not None

    def _steps_of_build(self) -> Generator[None, None, None]:
        """The walk of every module (children first) in C (`Manager.build_modules`): each module's gates in
        post-order from its top, stopping at other modules (leaves: their placeholder variable, or the
        constant the module turned out to be); a gate's inputs applied deepest first (by the highest variable
        below each, a bound on the top variable of its BDD), so each new input sits above the accumulated
        result and the apply does not walk it again (an OR of 10,000 events applied as written in the
        model's order rebuilt the whole chain at every step: 50 M nodes). At the node limit the C walk raises
        OverflowError and keeps its finished gates; this generator yields and, resumed, calls it again."""
        tree, flat, mgr = self.tree, self.flat, self.mgr
        index = {name: i for i, name in enumerate(self.order)}
        nvars = len(index)
        probs = [tree.basic_events[n].probability if n in tree.basic_events else 0.0 for n in self.order]
        names, ng, modules = flat.names, flat.ngates, self.modules
        houses = tree.house_events
        # Leaf values: a variable index (events, modules), -2 TRUE, -3 FALSE (house events; a module that
        # turned out constant is made so by the walk), -1 a gate walked through.
        leafval = array("i", [index.get(n, -1) if n in modules else -1 for n in names[:ng]])
        leafval.extend([index[n] if n in index else _constant(n, houses) for n in names[ng:]])
        topv = array("i", [index.get(n, nvars) for n in names])
        count = len(names)
        mods = flat.modules
        results = array("I", [0]) * len(mods)
        leaves: list[list[int]] = [[] for _ in mods]
        state = array("i", [0])
        args = (flat.kinds, flat.ks, flat.offsets, flat.inputs, leafval, topv, array("I", [0]) * count,
                array("i", [-1]) * count, mods, results, leaves, state, flat.top)
        while True:
            try:
                mgr.build_modules(*args)
                break
            except OverflowError:  # the node limit: wait for a larger one, then go on from the failed step
                yield
        basic = tree.basic_events
        built: list[tuple[str, int, list[str], list[str]]] = []
        for module, top, found in zip(mods, results, leaves, strict=True):
            name = names[module]
            if name != tree.top and top in (TRUE, FALSE):
                continue
            used = [names[x] for x in set(found)]
            built.append((name, top, sorted(n for n in used if n not in basic), sorted(n for n in used if n in basic)))
        result = [
            ModuleBdd(module, _flatten(mgr, top, self.order, probs), children, events)
            for module, top, children, events in built
        ]
        self.size = sum(m.flat.size for m in result)
        self._bdds = TreeBdds(result, self.order, probs, index)


def _constant(name: str, houses: Any) -> int:
    """The C walk's leaf value of an input outside the order: a house event's state; for an event under no
    gate the walk reaches, or a name that is no node (which the walk refuses if it reaches it), unused."""
    return -3 if name in houses and not houses[name].state else -2


def _build_with_order(
    tree: FaultTree, modules: set[str], order: list[str], budget: int
) -> tuple[TreeBdds, int, int]:
    """The module BDDs under one order in one go (budget: nodes it may allocate, 0 = no limit), with the
    nodes allocated and the total size of the module BDDs. Raises _OverBudget."""
    b = _OrderBuild(tree, modules, order)
    if not b.run(budget):
        raise _OverBudget
    return b.bdds, b.work, b.size


def _flatten(mgr: Any, top: int, order: list[str], probs: list[float]) -> FlatBdd:
    """The BDD of `top` as three array('i') (the manager numbers children below parents)."""
    level, high, low, root = mgr.flatten(top)
    return FlatBdd(level, high, low, root, order, probs)


def edge_probability(edge: int, pos: Sequence[float], neg: Sequence[float]) -> float:
    return neg[edge >> 1] if edge & 1 else pos[edge >> 1]


def one_bdd_probability(tree: FaultTree, max_nodes: int) -> tuple[float, int]:
    """P(top) of `tree` by one BDD, not split into modules, and that BDD's node count. Raises BddTooLarge."""
    from safetyops_dsl.fta import _bddk

    bdds = build(tree, split=False, max_nodes=max_nodes)
    flat = bdds.modules[-1].flat
    pos, neg = _bddk.node_probabilities(flat.level, flat.high, flat.low, bdds.probability)
    return edge_probability(flat.root, pos, neg), flat.size


def ensure_recursion(depth: int) -> None:
    """Recursive ZDD algorithms recurse at most a few times the number of variables deep."""
    need = 4 * depth + 1000
    if sys.getrecursionlimit() < need:
        sys.setrecursionlimit(need)
