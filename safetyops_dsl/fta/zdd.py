"""Minimal cut sets as a ZDD (zero-suppressed decision diagram), in plain Python arrays.

A ZDD node (v, hi, lo) is the family {S + {v} : S in hi} | lo. Node 0 is the empty family, node 1 the family
holding only the empty set. Variables are the BDD's variable indices, smaller index = nearer the root.

`minimal_solutions` is Rauzy's minsol: for f = ite(x, f1, f0),
    minsol(f) = {x} x without(minsol(f1), minsol(f0))  |  minsol(f0)
which yields the minimal true points of f. For a coherent tree these are the minimal cut sets; for a
non-coherent one they are the prime implicants with their negative literals dropped, then minimised, which
is what SCRAM reports as "products" by default. An order limit is threaded through the recursion (a set
that already holds `k` events cannot take another), as SCRAM does when it converts its BDD.

minsol and its hot loop `without` run in C (`_zddk.c`, 10-25x faster than they ran here); so do counting
by order and the MCUB power sums. The families they return are small next to the work of computing them
(baobab1: 4,900 nodes from 170,000 `without` steps) and are loaded into this Python ZDD, where module
substitution, pruning and the top-k listing work on them.
"""

from __future__ import annotations

from collections.abc import Callable

from safetyops_dsl.fta import _zddk
from safetyops_dsl.fta.bdd import FlatBdd

EMPTY, BASE = 0, 1
# Order limits up to this bound the sets below a BDD node by the number of variables below it, reading only
# the nodes minsol reaches; larger limits compute the exact longest path below every edge first, so calls
# whose limit cannot cut share one memo entry (must equal LAZY_MAX in _zddk.c).
EXACT_LONGEST_FROM = 4


class TooManyNodes(ValueError):
    def __init__(self, nodes: int) -> None:
        super().__init__(f"more than {nodes} ZDD nodes")
        self.nodes = nodes


class Zdd:
    def __init__(self, nvars: int, max_nodes: int = 1 << 62) -> None:
        # Terminals sit below every variable.
        self.var: list[int] = [nvars, nvars]
        self.hi: list[int] = [EMPTY, EMPTY]
        self.lo: list[int] = [EMPTY, EMPTY]
        self._unique: dict[tuple[int, int, int], int] = {}
        self.eps: list[bool] = [False, True]  # node -> does the family hold the empty set
        self.max_nodes = max_nodes  # bounded where the family is built from a formula (truncated.py)
        # Nodes never change, so whole-family results are cached per root: the engine, the MCUB and the
        # top-k listing each walk the same family (and the walks used to dominate small analyses).
        self._reach: dict[int, list[int]] = {}
        self._longest: dict[int, int] = {EMPTY: -(1 << 30), BASE: 0}
        self._bounds: dict[int, tuple[list[float], dict[int, float], dict[int, float]]] = {}

    def node(self, v: int, hi: int, lo: int) -> int:
        if hi == EMPTY:  # zero-suppression rule
            return lo
        key = (v, hi, lo)
        found = self._unique.get(key)
        if found is not None:
            return found
        n = len(self.var)
        if n >= self.max_nodes:
            raise TooManyNodes(self.max_nodes)
        self.var.append(v)
        self.hi.append(hi)
        self.lo.append(lo)
        self.eps.append(self.eps[lo])
        self._unique[key] = n
        return n

    def union(self, a: int, b: int, memo: dict[tuple[int, int], int]) -> int:
        """The family a | b; `memo` is the caller's, kept as long as it wants the results."""
        if a in (EMPTY, b):
            return b
        if b == EMPTY:
            return a
        if a > b:
            a, b = b, a
        key = (a, b)
        found = memo.get(key)
        if found is not None:
            return found
        var, hi, lo = self.var, self.hi, self.lo
        va, vb = var[a], var[b]
        if va < vb:
            r = self.node(va, hi[a], self.union(lo[a], b, memo))
        elif vb < va:
            r = self.node(vb, hi[b], self.union(a, lo[b], memo))
        else:
            r = self.node(va, self.union(hi[a], hi[b], memo), self.union(lo[a], lo[b], memo))
        memo[key] = r
        return r

    def load(self, var: list[int], hi: list[int], lo: list[int], root: int) -> int:
        """Add a standalone ZDD (terminals 0 and 1, children numbered below parents) to this one; its root."""
        at = [EMPTY, BASE]
        node = self.node
        for n in range(2, len(var)):
            at.append(node(var[n], at[hi[n]], at[lo[n]]))
        return at[root]

    def longest(self, f: int) -> int:
        """The size of the largest set of f (memoised per node; nodes never change)."""
        memo = self._longest
        if f in memo:
            return memo[f]
        stack = [f]
        hi, lo = self.hi, self.lo
        while stack:
            n = stack[-1]
            h, low_n = hi[n], lo[n]
            if h in memo and low_n in memo:
                stack.pop()
                memo[n] = max(memo[h] + 1, memo[low_n])
                continue
            if h not in memo:
                stack.append(h)
            if low_n not in memo:
                stack.append(low_n)
        return memo[f]

    def has_empty(self, f: int) -> bool:
        return self.eps[f]

    # -- whole-family computations (each node visited once) -----------------------------------------------

    def reachable(self, root: int) -> list[int]:
        """Non-terminal nodes under root, children before parents (node numbers grow upwards)."""
        found = self._reach.get(root)
        if found is not None:
            return found
        seen: set[int] = set()
        stack = [root]
        hi, lo = self.hi, self.lo
        while stack:
            n = stack.pop()
            if n <= BASE or n in seen:
                continue
            seen.add(n)
            stack.append(hi[n])
            stack.append(lo[n])
        found = self._reach[root] = sorted(seen)
        return found

    def fold(self, root: int, terminal_base: float, combine: Callable[[int, float, float], float]) -> float:
        """Bottom-up value: EMPTY -> 0, BASE -> terminal_base, node -> combine(var, value(hi), value(lo))."""
        val: dict[int, float] = {EMPTY: 0.0, BASE: terminal_base}
        var, hi, lo = self.var, self.hi, self.lo
        for n in self.reachable(root):
            val[n] = combine(var[n], val[hi[n]], val[lo[n]])
        return val[root]

    def max_min_products(self, root: int, probs: list[float]) -> tuple[dict[int, float], dict[int, float]]:
        """Largest and smallest P(S) under each node (-1 / inf for the empty family).

        Cached per root for the same probability list object (the engine passes one list, filled before the
        families are built and not changed after)."""
        cached = self._bounds.get(root)
        if cached is not None and cached[0] is probs:
            return cached[1], cached[2]
        best: dict[int, float] = {EMPTY: -1.0, BASE: 1.0}
        worst: dict[int, float] = {EMPTY: float("inf"), BASE: 1.0}
        var, hi, lo = self.var, self.hi, self.lo
        for n in self.reachable(root):
            p = probs[var[n]]
            bh = best[hi[n]]
            best[n] = max(best[lo[n]], p * bh if bh >= 0 else -1.0)
            worst[n] = min(worst[lo[n]], p * worst[hi[n]])
        self._bounds[root] = (probs, best, worst)
        return best, worst

    # -- restrictions ------------------------------------------------------------------------------------------

    def prune(self, root: int, probs: list[float], lower: float, upper: float = float("inf")) -> int:
        """Sets with lower <= P(S) <= upper. Whole sub-families are kept or dropped by their bounds."""
        best, worst = self.max_min_products(root, probs)
        memo: dict[tuple[int, float, float], int] = {}
        var, hi, lo = self.var, self.hi, self.lo

        def go(n: int, lo_t: float, up_t: float) -> int:
            if n == EMPTY or best[n] < lo_t or worst[n] > up_t:
                return EMPTY
            if worst[n] >= lo_t and best[n] <= up_t:
                return n
            key = (n, lo_t, up_t)
            found = memo.get(key)
            if found is not None:
                return found
            p = probs[var[n]]
            # A zero-probability event makes every set through it have P = 0.
            h = go(hi[n], lo_t / p, up_t / p) if p > 0.0 else (hi[n] if lo_t <= 0.0 <= up_t else EMPTY)
            r = self.node(var[n], h, go(lo[n], lo_t, up_t))
            memo[key] = r
            return r

        return go(root, lower, upper)

    def onset(self, f: int, v: int, memo: dict[tuple[int, int], int]) -> int:
        """Sets of f that contain v, with v removed."""
        if f <= BASE or self.var[f] > v:
            return EMPTY
        if self.var[f] == v:
            return self.hi[f]
        key = (f, v)
        found = memo.get(key)
        if found is None:
            found = self.node(self.var[f], self.onset(self.hi[f], v, memo), self.onset(self.lo[f], v, memo))
            memo[key] = found
        return found

    def offset(self, f: int, v: int, memo: dict[tuple[int, int], int]) -> int:
        """Sets of f that do not contain v."""
        if f <= BASE or self.var[f] > v:
            return f
        if self.var[f] == v:
            return self.lo[f]
        key = (f, v)
        found = memo.get(key)
        if found is None:
            found = self.node(self.var[f], self.offset(self.hi[f], v, memo), self.offset(self.lo[f], v, memo))
            memo[key] = found
        return found

    def support(self, root: int) -> set[int]:
        return {self.var[n] for n in self.reachable(root)}

    def iterate(self, root: int) -> list[tuple[int, ...]]:
        """All sets (as variable tuples). Callers bound the count first."""
        out: list[tuple[int, ...]] = []
        var, hi, lo = self.var, self.hi, self.lo
        stack: list[tuple[int, tuple[int, ...]]] = [(root, ())]
        while stack:
            n, prefix = stack.pop()
            while n > BASE:
                stack.append((hi[n], (*prefix, var[n])))
                n = lo[n]
            if n == BASE:
                out.append(prefix)
        return out


def minimal_solutions(z: Zdd, f: FlatBdd, limit: int | None) -> int:
    """The minimal true points of the BDD `f` of at most `limit` events, as a family of `z`."""
    var, hi, lo, root = _zddk.minimal_solutions(f.level, f.high, f.low, f.root, len(f.variables), limit)
    return z.load(var, hi, lo, root)


def substitute(z: Zdd, root: int, modules: dict[int, int], limit: int | None) -> int:
    """Replace each module placeholder variable by the module's own family of cut sets.

    Placeholder v stands for module family G: node (v, hi, lo) becomes (G x hi) | lo. The module's events
    sit right after v in the variable order and before everything in `hi`, so the product is a graft (G's
    BASE leaf replaced by hi). The result is minimal because modules share no events with the rest.
    With an order limit, `k` counts the events still allowed on the path.
    """
    unlimited = limit is None
    step = 0 if unlimited else 1
    sub_memo: dict[tuple[int, int], int] = {}
    graft_memo: dict[tuple[int, int, int], int] = {}
    union_memo: dict[tuple[int, int], int] = {}
    var, hi, lo, eps = z.var, z.hi, z.lo, z.eps

    def graft(g: int, h: int, k: int) -> int:
        if g == EMPTY:
            return EMPTY
        if g == BASE:
            return sub(h, k)
        if h == BASE and (unlimited or z.longest(g) <= k):
            return g  # G x {{}} = G: shared, not copied (modules come last in their parent's order)
        if k <= 0:
            return sub(h, k) if eps[g] else EMPTY
        key = (g, h, k)
        found = graft_memo.get(key)
        if found is None:
            found = z.node(var[g], graft(hi[g], h, k - step), graft(lo[g], h, k))
            graft_memo[key] = found
        return found

    def sub(f: int, k: int) -> int:
        if f <= BASE:
            return f
        if k <= 0:
            return BASE if eps[f] else EMPTY
        key = (f, k)
        found = sub_memo.get(key)
        if found is not None:
            return found
        v = var[f]
        g = modules.get(v)
        if g is None:
            r = z.node(v, sub(hi[f], k - step), sub(lo[f], k))
        else:
            r = z.union(graft(g, hi[f], k), sub(lo[f], k), union_memo)
        sub_memo[key] = r
        return r

    if not modules:
        return root
    return sub(root, 1 if unlimited else int(limit))  # type: ignore[arg-type]
