"""Time averages of a top event over the mission: PFDavg and PFH, computed on the tree's BDD.

PFDavg = (1/T) integral_0^T Q(t) dt, Q(t) the exact top-event probability (the BDD evaluated at the events'
unavailabilities q_i(t), fta/timing.py), T the mission time. The event models are smooth between tests, so
the integral is taken piecewise between the breakpoints (tests and ends of tests of every event) by
Gauss-Legendre quadrature; each piece is integrated at two orders (ORDER and 2 x ORDER) and the difference
bounds the error of the lower order, which the result states (`error_bound`, on the average). The higher
order is the value given.

PFH = (1/T) integral_0^T w(t) dt, the average frequency of the top event: w(t) = sum_i B_i(t) w_i(t), B_i
the Birnbaum importance of event i at t (P(top | i down) - P(top | i up), one top-down pass over the BDD)
and w_i its failure intensity. For a tree that nothing repairs it equals Q(T) / T exactly (the tests check
this); proof tests and repairs make it larger (the function can fail more than once).

The simplified IEC 61508-6 formulas are not used here: analysis/demand.py prints them beside this result.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from safetyops_dsl.fta import _bddk
from safetyops_dsl.fta.bdd import FlatBdd, build, edge_probability
from safetyops_dsl.fta.preprocess import preprocess
from safetyops_dsl.fta.timing import Timing, has_demand
from safetyops_dsl.fta.tree import FaultTree

ORDER = 8  # Gauss-Legendre points per piece at the lower order; the value uses 2 x ORDER
MAX_PIECE_HOURS = 730.0  # long smooth stretches are cut into pieces of about a month


@dataclass(frozen=True)
class DemandFigures:
    mission_time: float  # hours: the averaging horizon
    pfd_avg: float  # time average of the top-event unavailability over the mission
    pfd_error_bound: float  # |difference between the two quadrature orders|, on the average
    pfh: float  # average frequency of the top event, per hour
    pfh_error_bound: float
    pfd_at_end: float  # Q(T): the figure the fault tree reports
    pieces: int  # integration pieces (between tests, and at most MAX_PIECE_HOURS long)


@cache
def gauss_legendre(n: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Nodes and weights of the n-point Gauss-Legendre rule on [-1, 1] (Newton on the Legendre polynomial)."""
    nodes, weights = [], []
    for i in range(1, n + 1):
        x = math.cos(math.pi * (i - 0.25) / (n + 0.5))
        for _ in range(100):
            p0, p1 = 1.0, x
            for k in range(2, n + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            dp = n * (x * p1 - p0) / (x * x - 1.0)
            dx = p1 / dp
            x -= dx
            if abs(dx) < 1e-16:
                break
        p0, p1 = 1.0, x
        for k in range(2, n + 1):
            p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
        dp = n * (x * p1 - p0) / (x * x - 1.0)
        nodes.append(x)
        weights.append(2.0 / ((1.0 - x * x) * dp * dp))
    return tuple(nodes), tuple(weights)


def pieces(timings: list[Timing], horizon: float, max_piece: float = MAX_PIECE_HOURS) -> list[tuple[float, float]]:
    cuts = {0.0, horizon}
    for t in timings:
        cuts.update(b for b in t.breakpoints(horizon))
    edges = sorted(cuts)
    out: list[tuple[float, float]] = []
    for a, b in zip(edges, edges[1:], strict=False):
        n = max(1, math.ceil((b - a) / max_piece))
        out.extend((a + (b - a) * i / n, a + (b - a) * (i + 1) / n) for i in range(n))
    return out


def integrate(f: Callable[[float], float], spans: list[tuple[float, float]], order: int = ORDER) -> tuple[float, float]:
    """(integral at 2 x order, |difference from the integral at order|) of f over the spans."""
    lo_nodes, lo_weights = gauss_legendre(order)
    hi_nodes, hi_weights = gauss_legendre(2 * order)
    low = high = 0.0
    for a, b in spans:
        half, mid = (b - a) / 2.0, (a + b) / 2.0
        low += half * math.fsum(w * f(mid + half * x) for x, w in zip(lo_nodes, lo_weights, strict=True))
        high += half * math.fsum(w * f(mid + half * x) for x, w in zip(hi_nodes, hi_weights, strict=True))
    return high, abs(high - low)


class TimedBdd:
    """One BDD of a tree (no module split: the events' probabilities change together at each time), evaluated
    for the events' unavailabilities at any time."""

    def __init__(self, tree: FaultTree, max_nodes: int = 1 << 24):
        self.tree = tree
        bdds = build(preprocess(tree), split=False, max_nodes=max_nodes)
        self.flat: FlatBdd = bdds.modules[-1].flat
        self.variables = bdds.variables
        self.timings: list[Timing] = [
            timing_of(tree, name) for name in self.variables
        ]

    def probabilities(self, t: float) -> array[float]:
        return array("d", [tm.q(t) for tm in self.timings])

    def top(self, t: float) -> float:
        f = self.flat
        pos, neg = _bddk.node_probabilities(f.level, f.high, f.low, self.probabilities(t))
        return edge_probability(f.root, pos, neg)

    def top_for(self, probs: list[float]) -> float:
        f = self.flat
        pos, neg = _bddk.node_probabilities(f.level, f.high, f.low, array("d", probs))
        return edge_probability(f.root, pos, neg)

    def frequency(self, t: float) -> float:
        """w(t) = sum_i (P(top | i=1) - P(top | i=0)) w_i(t)."""
        f = self.flat
        probs = self.probabilities(t)
        pos, neg = _bddk.node_probabilities(f.level, f.high, f.low, probs)
        cond = _bddk.conditional_probabilities(f.level, f.high, f.low, f.root, probs, pos, neg, len(self.variables))
        return math.fsum((p1 - p0) * self.timings[v].intensity(t) for v, (p1, p0) in cond.items())


def demand_mode(tree: FaultTree) -> bool:
    """Something in the tree is proof-tested or repaired (else P(top) at the mission time is the figure)."""
    return has_demand(tree.basic_events.values())


def timing_of(tree: FaultTree, name: str) -> Timing:
    event = tree.basic_events.get(name)
    if event is None:  # a module placeholder never appears without split; house events fold away
        return Timing("constant", value=0.0)
    return event.timing if event.timing is not None else Timing("constant", value=event.probability)


def demand_figures(tree: FaultTree, max_nodes: int = 1 << 24) -> DemandFigures:
    horizon = tree.mission_time or 1.0
    timed = TimedBdd(tree, max_nodes)
    spans = pieces(timed.timings, horizon)
    pfd, pfd_err = integrate(timed.top, spans)
    freq, freq_err = integrate(timed.frequency, spans)
    return DemandFigures(
        mission_time=horizon,
        pfd_avg=pfd / horizon,
        pfd_error_bound=pfd_err / horizon,
        pfh=freq / horizon,
        pfh_error_bound=freq_err / horizon,
        pfd_at_end=timed.top(horizon),
        pieces=len(spans),
    )
