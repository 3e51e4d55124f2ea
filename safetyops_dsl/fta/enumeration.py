"""Minimal cut sets up to an order limit without a BDD: the tree evaluated on every set of at most k events.

Where a tree's BDD does not fit (`--max-bdd-nodes`), `--limit-order k` still gets its cut sets: the minimal
sets S of at most k events whose failure, every other event working, makes the top event occur. These are
the family the engine's minsol gives with the same limit (`zdd.py`: the minimal true points of the
function; for a coherent tree its minimal cut sets, for a non-coherent one SCRAM's "products"), so the two
are checked against each other wherever the BDD fits.

Level by level, j = 0, 1, ..., k. A set of size j is true when the tree, with exactly its events failed, is
true; it is minimal when no true set of a lower level lies inside it. The tree is evaluated bit-parallel
(`simulate.evaluate_gate`, one Python int of many bits per node): level j takes each prefix Q of j - 2 events
and evaluates all the pairs {a, c} above Q's last event at once, bit a * n + c of a square of n x n bits
(chunked to CHUNK_BITS). Sets holding a known single-event or two-event cut set are masked before the true
bits are read, so the supersets of small cut sets are never listed; bigger ones are weeded out by looking
their subsets up.

The work is the number of sets evaluated: about n^k / k! for n events, so k = 3 on 1,500 events (2 x 10^9
sets) is a couple of minutes and k = 4 is out of reach. It is computed before starting; above the budget the
analysis is refused with the count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import combinations
from math import comb, prod

from safetyops_dsl.fta.cutsets import sort_key
from safetyops_dsl.fta.simulate import evaluate_gate
from safetyops_dsl.fta.tree import FaultTree, post_order

CHUNK_BITS = 1 << 20  # bits per evaluation at most (128 KiB per node value)
DEFAULT_BUDGET = 1 << 33  # sets evaluated at most (about 8.6 x 10^9: some minutes)


class TooManySets(ValueError):
    def __init__(self, sets: int, budget: int) -> None:
        super().__init__(f"{sets} sets to evaluate, more than {budget}")
        self.sets = sets
        self.budget = budget


@dataclass(frozen=True)
class EnumeratedCutSets:
    """The minimal cut sets of order <= `limit_order`, each as sorted event names; the sets sorted by names,
    or after `ranked` most probable first (ties by names) with the ones below the cut-off left out."""

    limit_order: int
    cut_sets: tuple[tuple[str, ...], ...]
    events: int  # the events the sets were drawn from (those the preprocessed tree still reads)
    evaluated: int  # sets of at most `limit_order` events the tree was evaluated on
    listed: int | None = None  # how many of `cut_sets` a report lists (None: all)
    probabilities: tuple[float, ...] = ()  # of each set, once ranked

    def by_order(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for s in self.cut_sets:
            out[len(s)] = out.get(len(s), 0) + 1
        return dict(sorted(out.items()))


def ranked(found: EnumeratedCutSets, p_of: Mapping[str, float], cut_off: float,
           limit: int | None) -> EnumeratedCutSets:
    """Most probable first, as the engine lists cut sets (`cutsets.sort_key`, ties by names); sets below
    `cut_off` dropped as the engine's `Zdd.prune` drops them; `limit` of them to list (None: all)."""
    scored = [(prod(p_of[e] for e in s), s) for s in found.cut_sets]
    kept = sorted(((p, s) for p, s in scored if p >= cut_off), key=lambda ps: (-sort_key(ps[0]), ps[1]))
    return replace(found, cut_sets=tuple(s for _, s in kept), probabilities=tuple(p for p, _ in kept),
                   listed=None if limit is None else min(limit, len(kept)))


def work(n: int, k: int) -> int:
    """How many sets `minimal_cut_sets` evaluates at most for n events and order limit k (square layout)."""
    total = 1 + (n if k >= 1 else 0)
    for j in range(2, min(k, n) + 1):
        if j == 2:  # rows a = 0 .. n - 2 of n bits
            total += (n - 1) * n
        else:  # prefixes of j - 2 events whose last is m, each with the rows m < a < n - 1
            total += sum(comb(m, j - 3) * (n - 2 - m) * n for m in range(j - 3, n - 2))
    return total


def minimal_cut_sets(tree: FaultTree, limit_order: int, budget: int = DEFAULT_BUDGET) -> EnumeratedCutSets:
    """`tree` is evaluated as given (the engine passes it preprocessed); raises TooManySets above `budget`."""
    events = sorted(n for n in tree.reachable() if n in tree.basic_events)
    n = len(events)
    planned = work(n, limit_order)
    if planned > budget:
        raise TooManySets(planned, budget)
    evaluate = _evaluator(tree, events)
    found: list[tuple[int, ...]] = []
    known: set[tuple[int, ...]] = set()
    evaluated = 0

    def keep(s: tuple[int, ...]) -> None:
        if not any(sub in known for r in range(len(s)) for sub in combinations(s, r)):
            known.add(s)
            found.append(s)

    evaluated += 1
    if evaluate(lambda i: 0, 1) & 1:
        keep(())
    if limit_order >= 1 and not found:
        evaluated += n
        bits = evaluate(lambda i: 1 << i, (1 << n) - 1)
        for i in _ones(bits):
            keep((i,))
    singles = {s[0] for s in found if len(s) == 1}
    for j in range(2, min(limit_order, n) + 1):
        if () in known:
            break
        pairs_with: dict[int, list[int]] = {}
        pair_square = 0
        for s in found:
            if len(s) == 2:
                pairs_with.setdefault(s[0], []).append(s[1])
                pairs_with.setdefault(s[1], []).append(s[0])
                pair_square |= 1 << (s[0] * n + s[1])
        level: list[tuple[int, ...]] = []
        for q in combinations(range(n), j - 2):
            if any(sub in known for r in range(len(q) + 1) for sub in combinations(q, r)):
                continue  # every set over this prefix holds a cut set already found
            start = q[-1] + 1 if q else 0
            rows = max(1, CHUNK_BITS // n)
            for a0 in range(start, n - 1, rows):
                a1 = min(n - 1, a0 + rows)
                width = (a1 - a0) * n
                evaluated += width
                level.extend(_chunk(evaluate, n, q, a0, a1, width, singles, pairs_with, pair_square))
        for s in sorted(level):
            keep(s)
    names = sorted(tuple(events[i] for i in s) for s in found)
    return EnumeratedCutSets(limit_order, tuple(names), n, evaluated)


def _chunk(evaluate: Callable[[Callable[[int], int], int], int], n: int, q: tuple[int, ...], a0: int, a1: int,
           width: int, singles: set[int], pairs_with: dict[int, list[int]], pair_square: int) -> Iterator[tuple[int, ...]]:
    """The true sets q + {a, c}, a0 <= a < a1, a < c, that hold no known one- or two-event cut set."""
    mask = (1 << width) - 1
    line = (1 << n) - 1
    comb_bits = 0  # bit r * n for each row r: shifted by c, the column c
    valid = 0  # c > a on each row
    for r in range(a1 - a0):
        comb_bits |= 1 << (r * n)
        valid |= (line ^ ((1 << (a0 + r + 1)) - 1)) << (r * n)
    inside = set(q)

    def row(i: int) -> int:
        if i in inside:
            return mask
        bits = comb_bits << i
        if a0 <= i < a1:
            bits |= line << ((i - a0) * n)
        return bits

    dead = (pair_square >> (a0 * n)) & mask
    for t in singles:
        dead |= row(t)
    for t in q:
        for u in pairs_with.get(t, ()):
            dead |= row(u)
    top = evaluate(row, mask) & valid & ~dead
    for p in _ones(top):
        a, c = a0 + p // n, p % n
        yield (*q, a, c)


def _ones(bits: int) -> Iterator[int]:
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


def _evaluator(tree: FaultTree, events: list[str]) -> Callable[[Callable[[int], int], int], int]:
    """f(row, mask): the top's bits, event i's bits being row(i); each gate's bits freed after its last use."""
    order = post_order(tree)
    index = {name: i for i, name in enumerate(events)}
    uses: dict[str, int] = {}
    for name in order:
        for c in tree.gates[name].inputs:
            uses[c] = uses.get(c, 0) + 1

    def evaluate(row: Callable[[int], int], mask: int) -> int:
        value: dict[str, int] = {}
        left = dict(uses)

        def get(c: str) -> int:
            if c in tree.gates:
                v = value[c]
                left[c] -= 1
                if not left[c]:
                    del value[c]
                return v
            if c in index:
                return row(index[c])
            return mask if tree.house_events[c].state else 0

        if tree.top not in tree.gates:
            return get(tree.top)
        for name in order:
            gate = tree.gates[name]
            value[name] = evaluate_gate(gate.kind, gate.k, [get(c) for c in gate.inputs], mask)
        return value[tree.top]

    return evaluate
