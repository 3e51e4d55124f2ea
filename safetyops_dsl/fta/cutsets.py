"""Choosing which cut sets to list, and the cut-set approximations, without listing them all.

The listed cut sets are the `limit` most probable, ties broken by the sorted tuple of event names. A set's
probability is the product of its events' probabilities taken in name order, so one set always gets the
same float; for ordering it is rounded to 12 significant digits so that sets equal in exact arithmetic tie.

Top-k without enumeration: a best-first search over the ZDD, whose priority is the prefix probability times
the best completion below the node, pops sets in decreasing probability. Sets tied with the k-th one can be
far more numerous than k (Aralia trees give every event p = 0.01), so the ties are taken from the band of
equal probability in name order, by walking the band's ZDD alphabetically.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator

from safetyops_dsl.fta import _zddk
from safetyops_dsl.fta.zdd import BASE, EMPTY, Zdd


def set_probability(names: tuple[str, ...], p_of: dict[str, float]) -> float:
    return math.prod(p_of[n] for n in names)


def sort_key(p: float) -> float:
    return float(f"{p:.12g}")


def best_first(z: Zdd, root: int, probs: list[float], best: dict[int, float]) -> Iterator[tuple[int, ...]]:
    """Sets of the family in decreasing probability (up to float rounding of the path products)."""
    var, hi, lo = z.var, z.hi, z.lo
    counter = 0
    # (negated bound, tie counter, node, prefix probability, prefix as a linked list)
    heap: list[tuple[float, int, int, float, tuple[object, ...] | None]] = []
    if best.get(root, -1.0) >= 0.0:
        heap.append((-best[root], 0, root, 1.0, None))
    while heap:
        _, _, n, pp, prefix = heapq.heappop(heap)
        if n == BASE:
            items: list[int] = []
            while prefix is not None:
                items.append(prefix[0])  # type: ignore[arg-type]
                prefix = prefix[1]  # type: ignore[assignment]
            yield tuple(items)
            continue
        v = var[n]
        h, low_n = hi[n], lo[n]
        bh = best[h]
        if bh >= 0.0:
            p2 = pp * probs[v]
            counter += 1
            heapq.heappush(heap, (-(p2 * bh), counter, h, p2, (v, prefix)))
        bl = best[low_n]
        if bl >= 0.0:
            counter += 1
            heapq.heappush(heap, (-(pp * bl), counter, low_n, pp, prefix))


def alphabetical(z: Zdd, root: int, rank: list[int]) -> Iterator[tuple[int, ...]]:
    """Sets of the family in lexicographic order of their name-sorted tuples (`rank` = name order)."""
    on_memo: dict[tuple[int, int], int] = {}
    off_memo: dict[tuple[int, int], int] = {}
    # Support of each node as a bit mask over name ranks, memoised: the walk asks for the support of every
    # sub-family it visits, and a fresh traversal each time made the walk quadratic.
    mask: dict[int, int] = {EMPTY: 0, BASE: 0}
    var, hi, lo = z.var, z.hi, z.lo
    by_rank = sorted(range(len(rank)), key=rank.__getitem__)

    def support(f: int) -> int:
        found = mask.get(f)
        if found is not None:
            return found
        stack = [f]
        while stack:
            n = stack[-1]
            h, low_n = hi[n], lo[n]
            if h in mask and low_n in mask:
                stack.pop()
                mask[n] = (1 << rank[var[n]]) | mask[h] | mask[low_n]
                continue
            if h not in mask:
                stack.append(h)
            if low_n not in mask:
                stack.append(low_n)
        return mask[f]

    def visit(f: int, prefix: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        if z.has_empty(f):
            yield prefix
        bits = support(f)
        while bits:
            low_bit = bits & -bits
            bits ^= low_bit
            if f == EMPTY:
                return
            v = by_rank[low_bit.bit_length() - 1]
            sub = z.onset(f, v, on_memo)
            if sub != EMPTY:
                yield from visit(sub, (*prefix, v))
            f = z.offset(f, v, off_memo)

    yield from visit(root, ())


# Bands of at most this many tied sets are listed and sorted rather than walked in name order.
SORT_BAND = 250_000


def name_order(names: list[str], probs: list[float]) -> tuple[list[int], list[str], list[float]]:
    """Each variable's rank in name order, the names by rank and the probabilities by rank.

    A set is handled as the sorted tuple of its events' ranks: it orders as the sorted tuple of their names
    (ranks follow the names), its product over p by rank takes the factors in the same (name) order as
    `set_probability`, so the same float, and tuples of ints are built and compared faster than tuples of
    strings. Only the sets listed are turned into names."""
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = [0] * len(names)
    for r, v in enumerate(order):
        rank[v] = r
    return rank, [names[v] for v in order], [probs[v] for v in order]


def ranked_sort_key(p_by_rank: list[float]) -> Callable[[tuple[int, ...]], float]:
    """`sort_key` of a set of ranks' probability, memoised per distinct probability: Aralia trees give most
    sets one of a few probabilities, and the formatting round trip cost as much as the rest of the loop."""
    p_of = p_by_rank.__getitem__
    keys: dict[float, float] = {}

    def key(t: tuple[int, ...]) -> float:
        p = math.prod(map(p_of, t))
        k = keys.get(p)
        if k is None:
            k = keys[p] = sort_key(p)
        return k

    return key


def top_cut_sets(
    z: Zdd, root: int, count: int, names: list[str], probs: list[float], limit: int
) -> list[tuple[str, ...]]:
    """The `limit` most probable sets (count > limit > 0), ties by names."""
    rank, by_rank, p_by_rank = name_order(names, probs)
    rank_of, key = rank.__getitem__, ranked_sort_key(p_by_rank)
    best, _ = z.max_min_products(root, probs)
    popped: list[tuple[float, tuple[int, ...]]] = []
    for s in best_first(z, root, probs, best):
        t = tuple(sorted(map(rank_of, s)))
        popped.append((key(t), t))
        if len(popped) == limit:
            break
    kth = min(k for k, _ in popped)
    above = {t for k, t in popped if k > kth}
    # The band of sets whose rounded probability equals the k-th's, widened for rounding.
    band = z.prune(root, probs, kth * (1 - 2e-11), kth * (1 + 2e-11))
    tied: list[tuple[int, ...]] = []
    if sum(_zddk.count_by_order(z.var, z.hi, z.lo, band).values()) <= SORT_BAND:
        # A band that fits in memory is listed and sorted: the alphabetical walk costs a ZDD restriction per
        # event, which is quadratic when the ZDD's order is far from the name order (one OR of 100,000
        # events: every set ties). Listed flat (4 bytes an item) and made a tuple one set at a time, with
        # only the `limit` first tied sets kept: as a list of tuples isp9601's band of 107,000 ties took
        # 10 MiB, more than SCRAM's whole process needs above its start.
        items, ends = (memoryview(b).cast("i") for b in _zddk.ranked_sets(z.var, z.hi, z.lo, band, rank, flat=True))

        def tied_sets() -> Iterator[tuple[int, ...]]:
            start = 0
            for end in ends:
                t = tuple(items[start:end])
                start = end
                k = key(t)
                if k > kth:
                    above.add(t)
                elif k == kth:
                    yield t

        # sorted(tied)[:limit], holding `limit` sets (the sets are distinct, so no order among equals to keep)
        tied = heapq.nsmallest(limit, tied_sets())
    else:
        for s in alphabetical(z, band, rank):
            t = tuple(sorted(map(rank_of, s)))
            k = key(t)
            if k > kth:
                above.add(t)
            elif k == kth:
                tied.append(t)
                if len(tied) + len(above) >= limit:
                    break
    ordered = sorted(above, key=lambda t: (-key(t), t))
    return [tuple(map(by_rank.__getitem__, t)) for t in (ordered + tied)[:limit]]


def all_cut_sets(z: Zdd, root: int, names: list[str], probs: list[float]) -> list[tuple[str, ...]]:
    rank, by_rank, p_by_rank = name_order(names, probs)
    key = ranked_sort_key(p_by_rank)
    sets = _zddk.ranked_sets(z.var, z.hi, z.lo, root, rank)
    sets.sort(key=lambda t: (-key(t), t))
    return [tuple(map(by_rank.__getitem__, t)) for t in sets]


def rare_event(z: Zdd, root: int, probs: list[float]) -> float:
    return z.fold(root, 1.0, lambda v, h, lo: lo + probs[v] * h)


MCUB_EXPLICIT = 0.01  # sets at least this probable enter the MCUB product one by one
MCUB_POWERS = 9  # the remaining sets have P < 0.01, so the log series is exact to ~1e-18 relative


def mcub(z: Zdd, root: int, probs: list[float], max_sets: int) -> float:
    """1 - prod(1 - P(S)) over all sets, as -expm1(sum log1p(-P(S))).

    log(1 - x) = -sum_j x**j / j, so the sum over the family of log(1 - P(S)) is a series in the power sums
    of the set probabilities, and each power sum is one pass over the ZDD. The series converges fast only
    for small P(S); the (few) sets with P(S) >= 0.01 are therefore enumerated best-first and taken exactly.
    """
    if z.has_empty(root):
        return 1.0
    best, _ = z.max_min_products(root, probs)
    big: list[float] = []
    for s in best_first(z, root, probs, best):
        p = math.prod(probs[v] for v in s)
        if p < MCUB_EXPLICIT:
            break
        big.append(p)
        if len(big) > max_sets:
            raise OverflowError(f"more than {max_sets} cut sets with probability >= {MCUB_EXPLICIT}")
    sums = _zddk.power_sums(z.var, z.hi, z.lo, root, probs, MCUB_POWERS)
    log_total = 0.0
    for p in big:
        if p >= 1.0:
            return 1.0
        log_total += math.log1p(-p)
    for j in range(MCUB_POWERS):
        rest = sums[j] - math.fsum(p ** (j + 1) for p in big)
        log_total -= max(rest, 0.0) / (j + 1)
    return -math.expm1(log_total)


__all__ = ["EMPTY", "all_cut_sets", "mcub", "rare_event", "top_cut_sets"]
