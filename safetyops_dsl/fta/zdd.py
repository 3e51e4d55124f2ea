"""Minimal cut sets as a ZDD (zero-suppressed decision diagram), in plain Python arrays.

A ZDD node (v, hi, lo) is the family {S + {v} : S in hi} | lo. Node 0 is the empty family, node 1 the family
holding only the empty set. Variables are the BDD's variable indices, smaller index = nearer the root.

`minimal_solutions` is Rauzy's minsol: for f = ite(x, f1, f0),
    minsol(f) = {x} x without(minsol(f1), minsol(f0))  |  minsol(f0)
which yields the minimal true points of f. For a coherent tree these are the minimal cut sets; for a
non-coherent one they are the prime implicants with their negative literals dropped, then minimised, which
is what SCRAM reports as "products" by default. An order limit is threaded through the recursion (a set
that already holds `k` events cannot take another), as SCRAM does when it converts its BDD.
"""

from __future__ import annotations

from collections.abc import Callable

from safetyops_dsl.fta.bdd import FlatBdd

EMPTY, BASE = 0, 1
# Order limits above this use the exact longest path below each BDD edge to share memo entries (see minsol).
EXACT_LONGEST_FROM = 4


class Zdd:
    def __init__(self, nvars: int) -> None:
        # Terminals sit below every variable.
        self.var: list[int] = [nvars, nvars]
        self.hi: list[int] = [EMPTY, EMPTY]
        self.lo: list[int] = [EMPTY, EMPTY]
        self._unique: dict[tuple[int, int, int], int] = {}
        self._without: dict[int, int] = {}
        self.eps: list[bool] = [False, True]  # node -> does the family hold the empty set

    def node(self, v: int, hi: int, lo: int) -> int:
        if hi == EMPTY:  # zero-suppression rule
            return lo
        key = (v, hi, lo)
        found = self._unique.get(key)
        if found is not None:
            return found
        n = len(self.var)
        self.var.append(v)
        self.hi.append(hi)
        self.lo.append(lo)
        self.eps.append(self.eps[lo])
        self._unique[key] = n
        return n

    def has_empty(self, f: int) -> bool:
        return self.eps[f]

    def without(self, f: int, g: int) -> int:
        """Sets of f that contain no set of g (removes non-minimal sets). The hot loop of minsol."""
        eps = self.eps
        if f == EMPTY or g == EMPTY:
            return f
        if f == g or eps[g]:
            return EMPTY
        if f == BASE:
            return BASE  # g has no empty set here, so {} contains none of g's sets
        var = self.var
        vf = var[f]
        lo = self.lo
        # Sets of g on variables above f's top can never be inside a set of f: skip them without memo.
        while var[g] < vf:
            g = lo[g]
            if g == EMPTY:
                return f
            if eps[g]:
                return EMPTY
        key = (f << 32) | g
        memo = self._without
        found = memo.get(key)
        if found is not None:
            return found
        hi = self.hi
        if vf < var[g]:
            r = self.node(vf, self.without(hi[f], g), self.without(lo[f], g))
        else:
            r = self.node(vf, self.without(self.without(hi[f], hi[g]), lo[g]), self.without(lo[f], lo[g]))
        memo[key] = r
        return r

    # -- whole-family computations (each node visited once) -----------------------------------------------

    def reachable(self, root: int) -> list[int]:
        """Non-terminal nodes under root, children before parents (node numbers grow upwards)."""
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
        return sorted(seen)

    def count_by_order(self, root: int) -> dict[int, int]:
        table: dict[int, list[int]] = {EMPTY: [], BASE: [1]}
        hi, lo = self.hi, self.lo
        for n in self.reachable(root):
            h = table[hi[n]]
            low_counts = table[lo[n]]
            size = max(len(h) + 1, len(low_counts))
            acc = [0] * size
            for i, c in enumerate(low_counts):
                acc[i] += c
            for i, c in enumerate(h):
                acc[i + 1] += c
            table[n] = acc
        return {order: c for order, c in enumerate(table[root]) if c}

    def fold(self, root: int, terminal_base: float, combine: Callable[[int, float, float], float]) -> float:
        """Bottom-up value: EMPTY -> 0, BASE -> terminal_base, node -> combine(var, value(hi), value(lo))."""
        val: dict[int, float] = {EMPTY: 0.0, BASE: terminal_base}
        var, hi, lo = self.var, self.hi, self.lo
        for n in self.reachable(root):
            val[n] = combine(var[n], val[hi[n]], val[lo[n]])
        return val[root]

    def power_sums(self, root: int, probs: list[float], powers: int) -> list[float]:
        """[sum over sets S of P(S)**j for j = 1..powers] in one pass (for the MCUB series)."""
        val: dict[int, list[float]] = {EMPTY: [0.0] * powers, BASE: [1.0] * powers}
        var, hi, lo = self.var, self.hi, self.lo
        for n in self.reachable(root):
            p = probs[var[n]]
            h, low_vals = val[hi[n]], val[lo[n]]
            pj = 1.0
            acc = []
            for j in range(powers):
                pj *= p
                acc.append(low_vals[j] + pj * h[j])
            val[n] = acc
        return val[root]

    def max_min_products(self, root: int, probs: list[float]) -> tuple[dict[int, float], dict[int, float]]:
        """Largest and smallest P(S) under each node (-1 / inf for the empty family)."""
        best: dict[int, float] = {EMPTY: -1.0, BASE: 1.0}
        worst: dict[int, float] = {EMPTY: float("inf"), BASE: 1.0}
        var, hi, lo = self.var, self.hi, self.lo
        for n in self.reachable(root):
            p = probs[var[n]]
            bh = best[hi[n]]
            best[n] = max(best[lo[n]], p * bh if bh >= 0 else -1.0)
            worst[n] = min(worst[lo[n]], p * worst[hi[n]])
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
    """ZDD of the minimal true points of the BDD `f`, keeping only sets of at most `limit` events."""
    level, high, low = f.level, f.high, f.low
    nvars = len(f.variables)
    unlimited = limit is None or limit >= nvars
    memo: dict[int, int] = {}
    limited_memo: dict[int, int] = {}
    empty_memo: dict[int, bool] = {}

    def true_at_empty(e: int) -> bool:
        # f(all events false): follow low edges, flipping on complement marks.
        found = empty_memo.get(e)
        if found is not None:
            return found
        node, neg = e >> 1, e & 1
        while node != 0:
            lo = low[node]
            neg ^= lo & 1
            node = lo >> 1
        found = neg == 0
        empty_memo[e] = found
        return found

    # A limit at least as long as the longest path below an edge (counting high edges) cuts nothing there, so
    # such calls share the unlimited memo entry (without it, limit 20 multiplies the work by up to 20).
    # The exact longest path costs a pass over the whole BDD, which a small limit never needs (its calls
    # stay within a few high edges of the root: CEA9601 `-l 1` visits a few hundred of 2.4 M nodes), and
    # multiplies the memo by at most limit + 1 anyway; there the bound "variables below the node" is used.
    big = nvars + 1
    if unlimited:
        bound: Callable[[int], int] = lambda e: 0  # noqa: E731 - never consulted: k is always `big`
    elif int(limit) <= EXACT_LONGEST_FROM:  # type: ignore[arg-type]
        bound = lambda e: nvars - level[e >> 1]  # noqa: E731
    else:
        n = len(level)
        long0 = [0] * n  # longest path to TRUE from a regular edge to node i (-1: TRUE unreachable)
        long1 = [0] * n  # ... from a complemented edge
        long1[0] = -1  # edge 1 is FALSE
        for i in range(1, n):
            h, lo = high[i], low[i]
            hn, ln = h >> 1, lo >> 1
            if h & 1:
                h0, h1 = long1[hn], long0[hn]
            else:
                h0, h1 = long0[hn], long1[hn]
            if lo & 1:
                l0, l1 = long1[ln], long0[ln]
            else:
                l0, l1 = long0[ln], long1[ln]
            a = h0 + 1 if h0 >= 0 else -1
            long0[i] = a if a > l0 else l0
            a = h1 + 1 if h1 >= 0 else -1
            long1[i] = a if a > l1 else l1

        def bound(e: int) -> int:
            return long1[e >> 1] if e & 1 else long0[e >> 1]

    def go(e: int, k: int) -> int:
        if e == 0:
            return BASE
        if e == 1:
            return EMPTY
        if k == 0:
            return BASE if true_at_empty(e) else EMPTY
        if k != big and k >= bound(e):
            k = big
        # Unlimited entries are keyed by the edge alone; limited ones by (edge, k) packed into one int, in a
        # separate table so the two key spaces cannot collide.
        table = memo if k == big else limited_memo
        key = e if k == big else e * (nvars + 2) + k
        found = table.get(key)
        if found is not None:
            return found
        node, neg = e >> 1, e & 1
        hi_e, lo_e = high[node] ^ neg, low[node] ^ neg
        lo_z = go(lo_e, k)
        hi_z = z.without(go(hi_e, k if k == big else k - 1), lo_z)
        r = z.node(level[node], hi_z, lo_z)
        table[key] = r
        return r

    return go(f.root, big if unlimited else int(limit))  # type: ignore[arg-type]


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

    def union(a: int, b: int) -> int:
        if a in (EMPTY, b):
            return b
        if b == EMPTY:
            return a
        if a > b:
            a, b = b, a
        key = (a, b)
        found = union_memo.get(key)
        if found is not None:
            return found
        va, vb = var[a], var[b]
        if va < vb:
            r = z.node(va, hi[a], union(lo[a], b))
        elif vb < va:
            r = z.node(vb, hi[b], union(a, lo[b]))
        else:
            r = z.node(va, union(hi[a], hi[b]), union(lo[a], lo[b]))
        union_memo[key] = r
        return r

    def graft(g: int, h: int, k: int) -> int:
        if g == EMPTY:
            return EMPTY
        if g == BASE:
            return sub(h, k)
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
            r = union(graft(g, hi[f], k), sub(lo[f], k))
        sub_memo[key] = r
        return r

    if not modules:
        return root
    return sub(root, 1 if unlimited else int(limit))  # type: ignore[arg-type]
