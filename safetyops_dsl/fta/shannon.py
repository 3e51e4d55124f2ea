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

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace

from safetyops_dsl.fta.bdd import BddTooLarge, one_bdd_probability
from safetyops_dsl.fta.modules import probability_by_modules
from safetyops_dsl.fta.preprocess import preprocess
from safetyops_dsl.fta.tree import FaultTree, GateKind, HouseEvent, post_order


class TooManyLeaves(Exception):
    """The decomposition needs more BDDs than allowed."""


@dataclass
class ShannonStats:
    """What the decomposition did (reported with the figure, so that a run can be judged and repeated)."""

    bdds: int = 0  # BDDs built (module BDDs of all leaves)
    conditioned: int = 0  # Shannon splits
    max_depth: int = 0
    largest_bdd: int = 0  # nodes of the largest BDD built
    reused: int = 0  # modules met again in another branch, whose probability was known
    splits: Counter[str] = field(default_factory=Counter)  # event -> how often it was conditioned on


def exact_probability(
    tree: FaultTree, max_nodes: int = 1 << 20, max_leaves: int = 1 << 16
) -> tuple[float, ShannonStats]:
    """P(top) of any tree (every gate kind), exactly up to floating point."""
    stats = ShannonStats()
    solver = _Solver(max_nodes, max_leaves, stats, {})
    return solver.tree_probability(tree, 0), stats


@dataclass
class _Solver:
    max_nodes: int
    max_leaves: int
    stats: ShannonStats
    # module signature -> probability. Different branches meet the same module again (a split on x often
    # leaves a module untouched that the previous split had cut loose), and a module's BDD costs seconds.
    memo: dict[bytes, float]

    def tree_probability(self, tree: FaultTree, depth: int, failed: int = 0) -> float:
        """P(top) after preprocessing, module by module (children first)."""
        self.stats.max_depth = max(self.stats.max_depth, depth)
        p = preprocess(tree)
        top = p.gates[p.top]
        if top.kind is GateKind.NULL and top.inputs[0] in p.house_events:
            return 1.0 if p.house_events[top.inputs[0]].state else 0.0
        return probability_by_modules(p, lambda sub: self.module_probability(sub, depth, failed))[0]

    def module_probability(self, sub: FaultTree, depth: int, failed: int = 0) -> float:
        """P(top) of a preprocessed tree without inner modules: one BDD, or a split when it does not fit.

        `failed`: the number of events of the nearest ancestor whose BDD did not fit. A failed build costs
        a few times the budget in work, and one conditioning rarely takes a module under the budget: the
        BDD is tried again only once the module has lost a quarter of those events (das9701: the first
        module that fits has 183 of the 261 events, seven splits down)."""
        key = signature(sub)
        known = self.memo.get(key)
        if known is not None:
            self.stats.reused += 1
            return known
        p = self._module_probability(sub, depth, failed)
        self.memo[key] = p
        return p

    def _module_probability(self, sub: FaultTree, depth: int, failed: int) -> float:
        events = len(sub.basic_events)
        if failed and 4 * events > 3 * failed:
            return self.condition(sub, depth, failed)
        try:
            p, size = one_bdd_probability(sub, self.max_nodes)
        except BddTooLarge:
            return self.condition(sub, depth, events)
        self.stats.bdds += 1
        if self.stats.bdds > self.max_leaves:
            raise TooManyLeaves(self.max_leaves)
        self.stats.largest_bdd = max(self.stats.largest_bdd, size)
        return p

    def condition(self, sub: FaultTree, depth: int, failed: int) -> float:
        x = pivot(sub)
        self.stats.conditioned += 1
        self.stats.splits[x] += 1
        px = sub.basic_events[x].probability
        hi = self.tree_probability(_fix(sub, x, True), depth + 1, failed) if px > 0.0 else 0.0
        lo = self.tree_probability(_fix(sub, x, False), depth + 1, failed) if px < 1.0 else 0.0
        return px * hi + (1.0 - px) * lo


def pivot(tree: FaultTree) -> str:
    """The basic event with the most parent gates (ties: the smallest name). A parent of the event's NOT
    gate counts as a parent of the event: preprocessing gives each complemented event one NOT gate, which
    would otherwise hide every negative occurrence behind a single parent."""
    parents: Counter[str] = Counter()
    negated: dict[str, str] = {}  # NOT gate -> its event
    for name, g in tree.gates.items():
        if g.kind is GateKind.NOT and g.inputs[0] in tree.basic_events:
            negated[name] = g.inputs[0]
    for name in tree.reachable():
        gate = tree.gates.get(name)
        if gate is not None and gate.kind is not GateKind.NOT:
            for c in set(gate.inputs):
                event = negated.get(c, c)
                if event in tree.basic_events:
                    parents[event] += 1
    if not parents:  # only NOT gates over events: any event will do
        parents.update(n for n in tree.reachable() if n in tree.basic_events)
    return min(parents, key=lambda e: (-parents[e], e))


def signature(tree: FaultTree) -> bytes:
    """A digest of the tree's function as a formula: gate kind, k and the multiset of its inputs' digests,
    events by name and probability, house events by state; gate names do not count (preprocessing renames
    gates in every cofactor). Equal digests mean equal formulas over the same events, up to a 128-bit
    hash collision."""
    digest: dict[str, bytes] = {}
    for name, e in tree.basic_events.items():
        digest[name] = hashlib.blake2b(f"e\0{name}\0{e.probability!r}".encode(), digest_size=16).digest()
    for name, house in tree.house_events.items():
        digest[name] = b"T" if house.state else b"F"
    for name in post_order(tree):
        gate = tree.gates[name]
        h = hashlib.blake2b(f"g\0{gate.kind.value}\0{gate.k}".encode(), digest_size=16)
        for d in sorted(digest[c] for c in gate.inputs):
            h.update(d)
        digest[name] = h.digest()
    return digest[tree.top]


def _fix(tree: FaultTree, event: str, state: bool) -> FaultTree:
    """The cofactor: `event` becomes a house event with the given state."""
    basics = {n: e for n, e in tree.basic_events.items() if n != event}
    houses = dict(tree.house_events)
    houses[event] = HouseEvent(event, state)
    return replace(tree, basic_events=basics, house_events=houses)
