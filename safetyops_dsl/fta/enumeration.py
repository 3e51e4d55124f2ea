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
(chunked to CHUNK_BITS). Chunk by chunk, the tree is evaluated once with no prefix; each prefix event then
re-evaluates only the gates above it, undone on the way back (nus9601: 107 of 929 gates on average). Sets
holding a known single-event or two-event cut set are masked before the true bits are read, so the
supersets of small cut sets are never listed; bigger ones are weeded out by looking their subsets up.

The work is the number of sets evaluated: about n^k / k! for n events, so k = 3 on 1,567 events (2 x 10^9
sets) is half a minute and k = 4 is out of reach. It is computed before starting; above the budget the
analysis is refused with the count.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import combinations
from math import comb, prod

from safetyops_dsl.fta.cutsets import sort_key
from safetyops_dsl.fta.simulate import evaluate_gate
from safetyops_dsl.fta.tree import FaultTree, post_order

CHUNK_BITS = 1 << 20  # bits per evaluation at most (128 KiB per node value)
MEMORY_BITS = 1 << 29  # a chunk keeps every gate's value and two rows per event: at most this (64 MiB)
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
    zdd_nodes: int | None = None  # found by `truncated.py` (a ZDD of this many nodes), not by evaluating sets

    @property
    def shown(self) -> int:
        """How many of `cut_sets` a report lists."""
        return len(self.cut_sets) if self.listed is None else self.listed

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
    """`tree` is evaluated as given (`sops fta` passes it preprocessed); raises TooManySets above `budget`."""
    events = sorted(n for n in tree.reachable() if n in tree.basic_events)
    n = len(events)
    planned = work(n, limit_order)
    if planned > budget:
        raise TooManySets(planned, budget)
    circuit = _Circuit(tree, events)
    found: list[tuple[int, ...]] = []
    known: set[tuple[int, ...]] = set()

    def keep(s: tuple[int, ...]) -> None:
        if not any(sub in known for r in range(len(s)) for sub in combinations(s, r)):
            known.add(s)
            found.append(s)

    evaluated = 1
    if circuit.top(circuit.evaluate([0] * n, 1), [0] * n, 1) & 1:
        keep(())
    if limit_order >= 1 and not found:
        evaluated += n
        singletons = [1 << i for i in range(n)]
        for i in _ones(circuit.top(circuit.evaluate(singletons, (1 << n) - 1), singletons, (1 << n) - 1)):
            keep((i,))
    for j in range(2, min(limit_order, n) + 1):
        if () in known:
            break
        level: list[tuple[int, ...]] = []
        evaluated += _level(circuit, n, j, found, known, level)
        for s in sorted(level):
            keep(s)
    names = sorted(tuple(events[i] for i in s) for s in found)
    return EnumeratedCutSets(limit_order, tuple(names), n, evaluated)


def _level(circuit: _Circuit, n: int, j: int, found: list[tuple[int, ...]], known: set[tuple[int, ...]],
           level: list[tuple[int, ...]]) -> int:
    """Appends to `level` the true sets of j events holding no known one- or two-event cut set; returns how
    many sets it evaluated. Chunk by chunk of rows a, the tree is evaluated once with no prefix; each prefix
    event then re-evaluates only the gates above it (depth-first, undone on the way back)."""
    singles = [s[0] for s in found if len(s) == 1]
    pairs_with: dict[int, list[int]] = {}
    pair_square = 0
    for s in found:
        if len(s) == 2:
            pairs_with.setdefault(s[0], []).append(s[1])
            pairs_with.setdefault(s[1], []).append(s[0])
            pair_square |= 1 << (s[0] * n + s[1])
    per_chunk = max(1, min(CHUNK_BITS, MEMORY_BITS // (circuit.size + 2 * n)) // n)
    evaluated = 0
    for a0 in range(0, n - 1, per_chunk):
        evaluated += _chunk(circuit, n, j, a0, min(n - 1, a0 + per_chunk), singles, pairs_with, pair_square,
                            known, level)
    return evaluated


def _chunk(circuit: _Circuit, n: int, j: int, a0: int, a1: int, singles: list[int], pairs_with: dict[int, list[int]],
           pair_square: int, known: set[tuple[int, ...]], level: list[tuple[int, ...]]) -> int:
    """The sets q + {a, c} with a0 <= a < a1: every prefix q of j - 2 events below a, every c > a."""
    line = (1 << n) - 1
    width = (a1 - a0) * n
    mask = (1 << width) - 1
    comb_bits = 0  # bit r * n for each row r: shifted by c, the column c
    valid = 0  # c > a on each row
    for r in range(a1 - a0):
        comb_bits |= 1 << (r * n)
        valid |= (line ^ ((1 << (a0 + r + 1)) - 1)) << (r * n)
    original = [comb_bits << i | (line << ((i - a0) * n) if a0 <= i < a1 else 0) for i in range(n)]
    rows = list(original)
    values = circuit.evaluate(rows, mask)
    base_dead = (pair_square >> (a0 * n)) & mask
    for t in singles:
        base_dead |= original[t]

    walk = _Walk(circuit, n, j, a0, a1, mask, valid, original, rows, values, base_dead, pairs_with, known, level)
    # A module-level function over plain state, not a closure that calls itself: such a closure would keep
    # the chunk's rows and gate values in a reference cycle, until a garbage collection that big integers
    # alone never trigger (nus9601 grew to 650 MiB that way).
    return _visit(walk, ())


@dataclass
class _Walk:
    """One chunk's state during the depth-first walk over the prefixes."""

    circuit: _Circuit
    n: int
    j: int
    a0: int
    a1: int
    mask: int
    valid: int
    original: list[int]
    rows: list[int]
    values: list[int]
    base_dead: int
    pairs_with: dict[int, list[int]]
    known: set[tuple[int, ...]]
    level: list[tuple[int, ...]]


def _visit(w: _Walk, q: tuple[int, ...]) -> int:
    """Appends the true sets over prefix q (or, if q is shorter than j - 2, over every longer prefix) to
    w.level; returns how many sets it evaluated."""
    n, a0, a1 = w.n, w.a0, w.a1
    if len(q) == w.j - 2:
        lo = max(a0, q[-1] + 1 if q else 0)
        dead = w.base_dead
        for t in q:
            for u in w.pairs_with.get(t, ()):
                dead |= w.original[u]
        below = (1 << ((lo - a0) * n)) - 1
        for p in _ones(w.circuit.top(w.values, w.rows, w.mask) & w.valid & ~dead & ~below):
            w.level.append((*q, a0 + p // n, p % n))
        return (a1 - lo) * n
    done = 0
    for x in range((q[-1] + 1) if q else 0, a1 - 1):
        longer = (*q, x)
        if any(sub in w.known for r in range(len(longer) + 1) for sub in combinations(longer, r) if x in sub):
            continue  # every set over this prefix holds a cut set already found
        undo = w.circuit.assign(w.values, w.rows, x, w.mask, w.mask)
        done += _visit(w, longer)
        w.circuit.restore(w.values, w.rows, x, w.original[x], undo)
    return done


def _ones(bits: int) -> Iterator[int]:
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


class _Circuit:
    """The tree as numbered gates, evaluated over bit rows: every gate at once, or only the gates above one
    event whose row changes (its ancestors, in evaluation order, computed once per event)."""

    def __init__(self, tree: FaultTree, events: list[str]) -> None:
        order = post_order(tree)
        self.size = len(order)
        at = {name: k for k, name in enumerate(order)}
        index = {name: i for i, name in enumerate(events)}
        # inputs as (0, event), (1, gate position) or (2, house state)
        self.gates = [tree.gates[name] for name in order]
        self.inputs = [[(1, at[c]) if c in at else (0, index[c]) if c in index else
                        (2, int(tree.house_events[c].state)) for c in g.inputs] for g in self.gates]
        self.top_ref = (1, at[tree.top]) if tree.top in at else (0, index[tree.top]) if tree.top in index else \
            (2, int(tree.house_events[tree.top].state))
        self.parents: list[list[int]] = [[] for _ in range(self.size)]
        self.event_parents: list[list[int]] = [[] for _ in events]
        for k, ins in enumerate(self.inputs):
            for kind, ref in ins:
                if kind == 1:
                    self.parents[ref].append(k)
                elif kind == 0:
                    self.event_parents[ref].append(k)
        self._above: dict[int, list[int]] = {}

    def _gate(self, k: int, values: list[int], rows: list[int], mask: int) -> int:
        args = [values[ref] if kind == 1 else rows[ref] if kind == 0 else (mask if ref else 0)
                for kind, ref in self.inputs[k]]
        g = self.gates[k]
        return evaluate_gate(g.kind, g.k, args, mask)

    def evaluate(self, rows: list[int], mask: int) -> list[int]:
        values = [0] * self.size
        for k in range(self.size):
            values[k] = self._gate(k, values, rows, mask)
        return values

    def top(self, values: list[int], rows: list[int], mask: int) -> int:
        kind, ref = self.top_ref
        return values[ref] if kind == 1 else rows[ref] if kind == 0 else (mask if ref else 0)

    def above(self, event: int) -> list[int]:
        found = self._above.get(event)
        if found is None:
            seen = set(self.event_parents[event])
            stack = list(seen)
            while stack:
                for p in self.parents[stack.pop()]:
                    if p not in seen:
                        seen.add(p)
                        stack.append(p)
            found = self._above[event] = sorted(seen)  # positions are an evaluation order
        return found

    def assign(self, values: list[int], rows: list[int], event: int, bits: int, mask: int) -> list[int]:
        """rows[event] = bits, and the gates above it re-evaluated; their old values, to restore."""
        rows[event] = bits
        old = []
        for k in self.above(event):
            old.append(values[k])
            values[k] = self._gate(k, values, rows, mask)
        return old

    def restore(self, values: list[int], rows: list[int], event: int, bits: int, old: list[int]) -> None:
        rows[event] = bits
        for k, v in zip(self.above(event), old, strict=True):
            values[k] = v
