"""Exact P(top) of trees whose BDD does not fit: modules, then Shannon decomposition on shared events.

    P(f) = p(x) P(f | x = 1) + (1 - p(x)) P(f | x = 0)

A cofactor is the same tree with x turned into a house event; preprocessing then propagates the constant,
which removes gates, lets others coalesce and, above all, cuts the sharing that tied sub-trees together:
new modules appear. Each module is solved on its own (its child modules stand in it as events with their
probability) by one BDD under a node budget, and a module whose BDD does not fit is conditioned in turn.

Why modules are used here on non-coherent trees too, where `engine.analyse` builds one BDD: a module is
independent of the rest of the tree whatever gates sit above it, so P(parent) with the module as one event
of probability P(module) is exact. Only the grafting of cut sets needs coherence, and this computes no cut
sets.

Which event to condition on: the one with the most parent gates in the module (ties: the name), the event
whose constant simplifies the most gates. The recursion is depth-first, so memory holds one BDD (at most
`max_nodes` nodes) plus one preprocessed tree per level; the time grows with the number of leaves, 2^depth
in the worst case, which `max_leaves` bounds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from safetyops_dsl.fta import _bddk
from safetyops_dsl.fta.bdd import BddTooLarge, build, edge_probability
from safetyops_dsl.fta.modules import find_modules
from safetyops_dsl.fta.preprocess import preprocess
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, HouseEvent


class TooManyLeaves(Exception):
    """The decomposition needs more BDDs than allowed."""


@dataclass
class ShannonStats:
    """What the decomposition did (reported with the figure, so that a run can be judged and repeated)."""

    bdds: int = 0  # BDDs built (module BDDs of all leaves)
    conditioned: int = 0  # Shannon splits
    max_depth: int = 0
    largest_bdd: int = 0  # nodes of the largest BDD built
    splits: Counter[str] = field(default_factory=Counter)  # event -> how often it was conditioned on


def exact_probability(
    tree: FaultTree, max_nodes: int = 1 << 20, max_leaves: int = 1 << 16
) -> tuple[float, ShannonStats]:
    """P(top) of any tree (every gate kind), exactly up to floating point."""
    stats = ShannonStats()
    solver = _Solver(max_nodes, max_leaves, stats)
    return solver.tree_probability(tree, 0), stats


@dataclass
class _Solver:
    max_nodes: int
    max_leaves: int
    stats: ShannonStats

    def tree_probability(self, tree: FaultTree, depth: int) -> float:
        """P(top) after preprocessing, module by module (children first)."""
        self.stats.max_depth = max(self.stats.max_depth, depth)
        p = preprocess(tree)
        top = p.gates[p.top]
        if top.kind is GateKind.NULL and top.inputs[0] in p.house_events:
            return 1.0 if p.house_events[top.inputs[0]].state else 0.0
        modules = find_modules(p)
        known: dict[str, float] = {}
        for m in _bottom_up_modules(p, modules):
            sub = _module_tree(p, m, modules, known)
            known[m] = self.module_probability(sub, depth)
        return known[p.top]

    def module_probability(self, sub: FaultTree, depth: int) -> float:
        """P(top) of a preprocessed tree without inner modules: one BDD, or a split when it does not fit."""
        try:
            bdds = build(sub, split=False, max_nodes=self.max_nodes)
        except BddTooLarge:
            return self.condition(sub, depth)
        self.stats.bdds += 1
        if self.stats.bdds > self.max_leaves:
            raise TooManyLeaves(self.max_leaves)
        flat = bdds.modules[-1].flat
        self.stats.largest_bdd = max(self.stats.largest_bdd, flat.size)
        pos, neg = _bddk.node_probabilities(flat.level, flat.high, flat.low, bdds.probability)
        return edge_probability(flat.root, pos, neg)

    def condition(self, sub: FaultTree, depth: int) -> float:
        x = pivot(sub)
        self.stats.conditioned += 1
        self.stats.splits[x] += 1
        px = sub.basic_events[x].probability
        hi = self.tree_probability(_fix(sub, x, True), depth + 1) if px > 0.0 else 0.0
        lo = self.tree_probability(_fix(sub, x, False), depth + 1) if px < 1.0 else 0.0
        return px * hi + (1.0 - px) * lo


def pivot(tree: FaultTree) -> str:
    """The basic event with the most parent gates (ties: the smallest name)."""
    parents: Counter[str] = Counter()
    for name in tree.reachable():
        gate = tree.gates.get(name)
        if gate is not None:
            parents.update(c for c in set(gate.inputs) if c in tree.basic_events)
    return min(parents, key=lambda e: (-parents[e], e))


def _fix(tree: FaultTree, event: str, state: bool) -> FaultTree:
    """The cofactor: `event` becomes a house event with the given state."""
    basics = {n: e for n, e in tree.basic_events.items() if n != event}
    houses = dict(tree.house_events)
    houses[event] = HouseEvent(event, state)
    return replace(tree, basic_events=basics, house_events=houses)


def _bottom_up_modules(tree: FaultTree, modules: set[str]) -> list[str]:
    order = list(tree.reachable())  # pre-order: parents before children
    return [n for n in reversed(order) if n in modules]


def _module_tree(tree: FaultTree, module: str, modules: set[str], known: dict[str, float]) -> FaultTree:
    """The gates of one module down to its child modules, which become events of known probability."""
    gates: dict[str, Gate] = {}
    basics: dict[str, BasicEvent] = {}
    houses: dict[str, HouseEvent] = {}
    stack = [module]
    while stack:
        name = stack.pop()
        gate = tree.gates[name]
        gates[name] = gate
        for c in gate.inputs:
            if c in gates:
                continue
            if c in modules:
                basics[c] = BasicEvent(c, known[c])
            elif c in tree.gates:
                stack.append(c)
            elif c in tree.basic_events:
                basics[c] = tree.basic_events[c]
            else:
                houses[c] = tree.house_events[c]
    return FaultTree(name=tree.name, top=module, gates=gates, basic_events=basics, house_events=houses)
