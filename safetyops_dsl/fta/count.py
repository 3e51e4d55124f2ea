"""Exact P(top) by weighted model counting, for the trees whose BDD does not fit (`sops fta --model-count`).

Some trees defeat every static variable order: das9701's BDD needs more than 16.7 M nodes under each order the
engine tries, and a good order exists only as the end point of dynamic reordering (CUDD's sifting finds one in
about 14 minutes). A weighted model counter does not need an order at all. Ganak (pyganak, MIT) counts by DPLL
search with component caching, guided by a tree decomposition of the formula, in MPFR arithmetic of 128 bits:
das9701's exact P(top) in about a minute.

Only what the BDD cannot do is counted. The preprocessed tree is cut into its modules (sub-trees entered
only through their top gate), and each module, its child modules standing in it as events of known
probability, gets a BDD where one fits a node budget: the BDD is faster by orders of magnitude wherever it
fits (jbd9601: 0.1 s against 131 s counted). A module whose BDD does not fit is counted. The substitution is
exact for P(top) on any tree, coherent or not: a module shares no event with the rest (fta/shannon.py says
the same of its own use of modules).

Before a module is counted, the events that occur once in it are folded: an AND or OR gate's inputs that are
such events become one event of the same probability (their product, or 1 - the product of their
complements). That is exact for P(top), as module substitution is: the folded events share nothing with the
rest. It matters to the counter, which decomposes the formula's primal graph, where Tseitin's clause of an
m-input gate is a clique of m + 1 variables: nus9601's top module goes from 1,417 events to 626, and the width
of a tree decomposition of its primal graph (FlowCutter) from 59 to 39, and its count, which had not
finished in over two hours, now takes about half an hour. Only the count sees folded events; cut sets and
importance never come from a counted module.

A module is written as CNF by Tseitin's encoding: one variable per basic event and per gate, and
clauses that make each gate's variable equal to its function of its inputs. Every assignment of the basic
events extends to exactly one model of those clauses, so the count of the models that also satisfy the top,
with weight p and 1 - p on an event's two literals and 1 on a gate's, is P(top). k-of-n gates use a sequential
counter (Sinz 2005) with the same property; XOR a chain of two-input XORs.

The counter's answer is rounded once, from 128 bits to a double, so it is exact in the sense the BDD's is. It is
checked against the BDD engine on the corpus and against brute force on random trees of every gate kind
(tests/unit/fta/test_count.py), and on das9701 against CUDD with sifting (docs/fault-trees.md).
"""

from __future__ import annotations

import math
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from safetyops_dsl.fta.bdd import BddTooLarge, one_bdd_probability
from safetyops_dsl.fta.modules import probability_by_modules
from safetyops_dsl.fta.preprocess import preprocess
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind

# Ganak draws random choices from this seed; with it fixed, a count is the same number run after run.
SEED = 0
PRECISION_BITS = 128
# A module whose BDD needs more nodes than this (or than --max-bdd-nodes, if lower) is counted: about a second
# of BDD work, under the minutes a count of such a module takes.
MODULE_BDD_NODES = 1 << 20


class CounterUnavailable(RuntimeError):
    """pyganak is not installed (it has wheels for Linux x86-64 and macOS only)."""


@dataclass(frozen=True, slots=True)
class Cnf:
    """A tree's Tseitin encoding: clauses over variables 1..variables, and (variable, p) for each event."""

    variables: int
    clauses: list[list[int]]
    weights: list[tuple[int, float]]


@dataclass(frozen=True, slots=True)
class Count:
    """P(top), and what was counted: `counted` of the tree's `modules`, whose encodings add up to `variables`
    and `clauses` (the other modules got a BDD)."""

    probability: float
    modules: int
    counted: int
    variables: int
    clauses: int


def encode(tree: FaultTree) -> Cnf:
    """Tseitin's encoding of `tree` (already preprocessed or not), asserting its top event."""
    index: dict[str, int] = {}  # name -> literal (a house event is the constant it holds)
    clauses: list[list[int]] = []
    variables = 0

    def fresh() -> int:
        nonlocal variables
        variables += 1
        return variables

    for name in tree.basic_events:
        index[name] = fresh()
    true = fresh()
    clauses.append([true])
    for name, h in tree.house_events.items():
        index[name] = true if h.state else -true
    for name in tree.gates:
        index[name] = fresh()

    def same(out: int, lit: int) -> None:
        clauses.extend(([-out, lit], [out, -lit]))

    for name, g in tree.gates.items():
        out = index[name]
        ins = [index[i] for i in g.inputs]
        kind = g.kind
        if kind in (GateKind.AND, GateKind.NAND, GateKind.OR, GateKind.NOR):
            # OR is the dual of AND: the same clauses over negated literals
            sign = 1 if kind in (GateKind.AND, GateKind.NAND) else -1
            o = out if kind in (GateKind.AND, GateKind.OR) else -out
            for x in ins:
                clauses.append([-o * sign, x * sign])
            clauses.append([o * sign, *(-x * sign for x in ins)])
        elif kind is GateKind.NOT:
            same(out, -ins[0])
        elif kind is GateKind.NULL:
            same(out, ins[0])
        elif kind is GateKind.XOR:
            acc = -true
            for x in ins:
                y = fresh()
                clauses.extend(([-y, acc, x], [-y, -acc, -x], [y, -acc, x], [y, acc, -x]))
                acc = y
            same(out, acc)
        elif kind is GateKind.ATLEAST:
            same(out, _at_least(g.k or 0, ins, true, fresh, clauses))
        else:  # pragma: no cover - every GateKind is handled above
            raise AssertionError(kind)
    clauses.append([index[tree.top]])
    weights = [(index[name], e.probability) for name, e in tree.basic_events.items()]
    return Cnf(variables, clauses, weights)


# Gates whose inputs that occur once combine into one event: a conjunction (AND, NAND) or a disjunction (OR, NOR).
_FOLDABLE = frozenset({GateKind.AND, GateKind.NAND, GateKind.OR, GateKind.NOR})


def fold_single_events(tree: FaultTree) -> FaultTree:
    """`tree` with the events that occur once under the same AND or OR gate (or NAND, NOR) folded into one event
    of their joint probability: the same P(top), fewer variables for the counter."""
    uses = Counter(i for g in tree.gates.values() for i in g.inputs)
    taken = set(tree.gates) | set(tree.basic_events) | set(tree.house_events)
    gates: dict[str, Gate] = {}
    events = dict(tree.basic_events)
    for name, g in tree.gates.items():
        single = [i for i in g.inputs if i in events and uses[i] == 1]
        if g.kind not in _FOLDABLE or len(single) < 2:
            gates[name] = g
            continue
        ps = [events.pop(i).probability for i in single]
        if g.kind in (GateKind.AND, GateKind.NAND):
            p = math.prod(ps)
        else:  # 1 - prod(1 - p), without the cancellation that loses small p
            p = -math.expm1(math.fsum(math.log1p(-x) for x in ps)) if max(ps) < 1.0 else 1.0
        folded = f"{name}/folded"
        while folded in taken:
            folded += "'"
        taken.add(folded)
        events[folded] = BasicEvent(folded, p)
        singles = set(single)
        gates[name] = Gate(name, g.kind, (*(i for i in g.inputs if i not in singles), folded), g.k)
    return FaultTree(name=tree.name, top=tree.top, gates=gates, basic_events=events, house_events=tree.house_events)


def _at_least(k: int, ins: list[int], true: int, fresh: Callable[[], int], clauses: list[list[int]]) -> int:
    """A literal equal to "at least k of ins": s[i][j] = at least j of the first i, for j = 1..k."""
    if k <= 0:
        return true
    if k > len(ins):
        return -true
    prev = [true] + [-true] * k
    for x in ins:
        cur = [true]
        for j in range(1, k + 1):
            a, b = prev[j], prev[j - 1]
            s = fresh()
            # s = a or (b and x)
            clauses.extend(([-a, s], [-b, -x, s], [-s, a, b], [-s, a, x]))
            cur.append(s)
        prev = cur
    return prev[k]


def exact_probability(tree: FaultTree, max_bdd_nodes: int = MODULE_BDD_NODES) -> Count:
    """P(top) of `tree`: its preprocessed modules bottom-up, each by a BDD of at most `max_bdd_nodes` nodes
    (capped at MODULE_BDD_NODES) or else by weighted model counting. Raises CounterUnavailable."""
    try:
        import pyganak
    except ImportError:
        raise CounterUnavailable("pyganak is not installed") from None
    budget = min(max_bdd_nodes, MODULE_BDD_NODES)
    counted: list[Cnf] = []

    def solve(sub: FaultTree) -> float:
        try:
            return one_bdd_probability(sub, budget)[0]
        except BddTooLarge:
            cnf = encode(fold_single_events(sub))
            counted.append(cnf)
            return _count(pyganak, cnf)

    p, modules = probability_by_modules(preprocess(tree), solve)
    return Count(p, modules, len(counted), sum(c.variables for c in counted), sum(len(c.clauses) for c in counted))


def _count(pyganak: Any, cnf: Cnf) -> float:
    counter = pyganak.WeightedCounter(verbose=0, seed=SEED, prec=PRECISION_BITS)
    counter.new_vars(cnf.variables)
    counter.add_clauses(cnf.clauses)
    for var, p in cnf.weights:
        counter.set_lit_weight(var, p)
        counter.set_lit_weight(-var, 1.0 - p)
    with _interruptible():
        return float(counter.count())


@contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C ends the process while the counter runs: its C++ loop never returns to Python, where a
    KeyboardInterrupt would be raised. Nothing is lost: outputs are written only after the count, atomically."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
