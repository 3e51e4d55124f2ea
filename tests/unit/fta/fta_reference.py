"""Pure-Python reference implementations of the engine's C kernels (`_bddk`, `_zddk`), for tests only.

These are the algorithms the engine ran before its inner loops moved to C, kept as a second, independent
implementation: the kernels must agree with them bit for bit (probability passes, power sums) and family for
family (minsol), besides agreeing with brute force. `import_cudd` gives CUDD (the `dd` package, a dev
dependency) as a third BDD package to compare sizes against.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from safetyops_dsl.fta.bdd import FlatBdd
from safetyops_dsl.fta.tree import FaultTree, post_order
from safetyops_dsl.fta.zdd import BASE, EMPTY, EXACT_LONGEST_FROM, Zdd


def bottom_up(tree: FaultTree, modules: set[str]) -> list[str]:
    """Modules in post-order (children first), as the engine's Python walk took them (its C walk does this
    on the flat arrays now)."""
    return [name for name in post_order(tree) if name in modules]


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


def _atleast(bdd: Any, k: int, args: list[Any]) -> Any:
    # Threshold function by dynamic programming: t[j] = "at least j of the inputs seen so far".
    t = [bdd.true] + [bdd.false] * k
    for x in args:
        for j in range(k, 0, -1):
            t[j] = t[j] | (x & t[j - 1])
    return t[k]


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


def conditional_probabilities(
    f: FlatBdd, pos: Sequence[float], neg: Sequence[float]
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


class ReferenceZdd(Zdd):
    """The engine's Zdd plus the operations the C kernel now does: without (minsol's hot loop), counting
    by order and power sums."""

    def __init__(self, nvars: int) -> None:
        super().__init__(nvars)
        self._without: dict[int, int] = {}

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


def minimal_solutions(z: ReferenceZdd, f: FlatBdd, limit: int | None) -> int:
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


