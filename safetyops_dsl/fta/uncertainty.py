"""Monte Carlo propagation of parameter uncertainty through a fault tree's BDD (seeded, reproducible).

The uncertain inputs are Open-PSA expressions with random deviates (MEF 7.5.4: `lognormal-deviate`,
`gamma-deviate`, `beta-deviate`, `uniform-deviate`, `normal-deviate`, `histogram`), in the events'
expressions or in the parameters they name. Each trial samples every parameter once (so all the events that
name one parameter move together: the state-of-knowledge dependence SCRAM also keeps), evaluates each
uncertain event's expression, and evaluates the top event on one BDD of the tree. Python's `random.Random`
with the given seed makes the samples, so a run is reproducible on every platform.

Deviates sample as SCRAM does: lognormal from (mean, EF, level) with sigma = ln EF / z(level) and
mu = ln mean - sigma^2 / 2 (level 0.95 by default); gamma(k, theta); beta(alpha, beta); uniform(min, max);
normal(mean, sd); histogram: a bin chosen by weight, then uniform within it. A sample outside [0, 1] where a
probability is needed is clipped (as SCRAM clips).

Statistics: mean, standard deviation (n - 1), the 5 %, 50 % and 95 % quantiles (linear interpolation between
order statistics), the error factor sqrt(p95 / p05) (the MEF's EF_0.95) and a 20-bin histogram.

Where the tree has proof-tested or repaired events (a demand-mode function, fta/demand.py), each
trial also gives the PFDavg of that trial's sample: the events' time models with the sampled rates (the rate
argument of the event's `periodic-test`, `exponential` or `GLM`, divided by the proof-test coverage where the
export wrote c x lambda), the time average of the top event on the same BDD. The quadrature per trial is
lighter than the point figure's (MC_ORDER Gauss-Legendre points on pieces between the tests, at most
MC_MAX_PIECE_HOURS long): its error on the point values is far below the Monte Carlo error, and the tests
compare it with the point figure. Within a trial a deviate is sampled once however often the expressions
name it (SCRAM samples an expression once per trial too), so P(top) and PFDavg come from the same sample.
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, replace
from statistics import NormalDist

from safetyops_dsl.fta import _bddk
from safetyops_dsl.fta.bdd import FlatBdd, build, edge_probability
from safetyops_dsl.fta.demand import demand_mode, gauss_legendre, pieces, timing_of
from safetyops_dsl.fta.mef_expr import glm, periodic_test, weibull
from safetyops_dsl.fta.preprocess import preprocess
from safetyops_dsl.fta.timing import Timing
from safetyops_dsl.fta.tree import DEVIATES, FaultTree, MefExpr, uncertain

BINS = 20
MC_ORDER = 4  # Gauss-Legendre points per piece for the PFDavg of one trial
MC_MAX_PIECE_HOURS = 2920.0  # a third of a year: an untested exponential over a long mission stays smooth


@dataclass(frozen=True)
class HistogramBin:
    lower: float
    upper: float
    count: int


@dataclass(frozen=True)
class UncertaintyFigures:
    trials: int
    seed: int
    mean: float
    std: float
    p05: float
    p50: float
    p95: float
    error_factor: float  # sqrt(p95 / p05); inf where p05 is 0
    histogram: tuple[HistogramBin, ...]
    # the PFDavg of the same trials, where the tree has time-dependent events (None otherwise)
    pfd_avg: UncertaintyFigures | None = None


class SampleError(ValueError):
    """An expression cannot be sampled (an impossible deviate, an unknown parameter)."""


def lognormal_sigma(error_factor: float, level: float = 0.95) -> float:
    return math.log(error_factor) / NormalDist().inv_cdf(level)


class Sampler:
    def __init__(self, parameters: Mapping[str, MefExpr], mission_time: float, rng: random.Random):
        self.parameters = parameters
        self.mission_time = mission_time
        self.rng = rng
        self._values: dict[str, float] = {}
        self._drawn: dict[int, float] = {}  # id of a deviate expression -> its sample in this trial

    def new_trial(self) -> None:
        self._values.clear()
        self._drawn.clear()

    def eval(self, e: MefExpr) -> float:
        tag = e.tag
        if tag in ("float", "int"):
            return float(e.value or 0.0)
        if tag == "parameter":
            if e.name not in self._values:
                body = self.parameters.get(e.name)
                if body is None:
                    raise SampleError(f"undefined parameter '{e.name}'")
                self._values[e.name] = self.eval(body)
            return self._values[e.name]
        if tag == "system-mission-time":
            return self.mission_time
        if tag in DEVIATES:
            key = id(e)
            if key not in self._drawn:
                self._drawn[key] = self._histogram(e) if tag == "histogram" else self._deviate(
                    tag, [self.eval(x) for x in e.args])
            return self._drawn[key]
        a = [self.eval(x) for x in e.args]
        if tag == "add":
            return math.fsum(a)
        if tag == "sub":
            return a[0] - math.fsum(a[1:])
        if tag == "mul":
            return math.prod(a)
        if tag == "div":
            return a[0] / math.prod(a[1:])
        if tag == "neg":
            return -a[0]
        if tag == "max":
            return max(a)
        if tag == "min":
            return min(a)
        if tag == "exponential":
            return -math.expm1(-a[0] * a[1])
        if tag == "GLM":
            return glm(*a)
        if tag == "Weibull":
            return weibull(*a)
        if tag == "periodic-test":
            return periodic_test(a)
        raise SampleError(f"cannot sample <{tag}>")

    def _deviate(self, tag: str, a: list[float]) -> float:
        rng = self.rng
        problem = _impossible(tag, a)
        if problem:
            raise SampleError(f"<{tag}> {problem}")
        if tag == "lognormal-deviate":
            if len(a) == 2:  # mu and sigma of ln x
                return rng.lognormvariate(a[0], a[1])
            mean, ef, level = a[0], a[1], (a[2] if len(a) > 2 else 0.95)
            sigma = lognormal_sigma(ef, level)
            return rng.lognormvariate(math.log(mean) - sigma * sigma / 2.0, sigma)
        if tag == "gamma-deviate":
            return rng.gammavariate(a[0], a[1])
        if tag == "beta-deviate":
            return rng.betavariate(a[0], a[1])
        if tag == "uniform-deviate":
            return rng.uniform(a[0], a[1])
        return rng.normalvariate(a[0], a[1])

    def _histogram(self, e: MefExpr) -> float:
        lower = self.eval(e.args[0])
        edges, weights = [], []
        for b in e.args[1:]:
            edges.append(self.eval(b.args[0]))
            weights.append(self.eval(b.args[1]))
        u = self.rng.random() * math.fsum(weights)
        acc = 0.0
        for i, w in enumerate(weights):
            acc += w
            if u < acc or i == len(weights) - 1:
                lo = lower if i == 0 else edges[i - 1]
                return self.rng.uniform(lo, edges[i])
        return lower  # pragma: no cover - weights are positive (checked where the histogram is read)


def _impossible(tag: str, a: list[float]) -> str:
    """Why a deviate cannot be sampled with these arguments ('' where it can)."""
    want = {"lognormal-deviate": (2, 3), "gamma-deviate": (2,), "beta-deviate": (2,), "uniform-deviate": (2,),
            "normal-deviate": (2,)}[tag]
    if len(a) not in want:
        return f"takes {' or '.join(map(str, want))} arguments, not {len(a)}"
    if tag == "lognormal-deviate" and len(a) == 3 and not (a[0] > 0 and a[1] > 1 and 0 < a[2] < 1):
        return f"needs mean > 0, error factor > 1 and level in (0, 1), got {a[0]:g}, {a[1]:g}, {a[2]:g}"
    if tag == "lognormal-deviate" and len(a) == 2 and not a[1] > 0:
        return f"needs sigma > 0, got {a[1]:g}"
    if tag in ("gamma-deviate", "beta-deviate") and not (a[0] > 0 and a[1] > 0):
        return f"needs two positive parameters, got {a[0]:g}, {a[1]:g}"
    if tag == "uniform-deviate" and not a[0] <= a[1]:
        return f"needs min <= max, got {a[0]:g}, {a[1]:g}"
    if tag == "normal-deviate" and not a[1] >= 0:
        return f"needs a standard deviation >= 0, got {a[1]:g}"
    return ""


def propagate(tree: FaultTree, trials: int, seed: int, max_nodes: int = 1 << 24) -> UncertaintyFigures | None:
    """The distribution of P(top) at the mission time (with that of the PFDavg where the tree's events depend on
    time), or None where no event of the tree is uncertain."""
    parameters = {name: expr for name, (expr, _unit) in tree.parameters.items()}
    sampled = {n: e.expression for n, e in tree.basic_events.items()
               if e.expression is not None and uncertain(e.expression, parameters)}
    if not sampled:
        return None
    bdds = build(preprocess(tree), split=False, max_nodes=max_nodes)
    flat = bdds.modules[-1].flat
    fixed = [tree.basic_events[n].probability if n in tree.basic_events else 0.0 for n in bdds.variables]
    slots = [(i, sampled[n]) for i, n in enumerate(bdds.variables) if n in sampled]
    horizon = tree.mission_time or 1.0
    sampler = Sampler(parameters, horizon, random.Random(seed))
    averages = _TimeAverage(tree, bdds.variables, slots, horizon, demand_mode(tree))
    values: list[float] = []
    pfds: list[float] = []
    probs = array("d", fixed)
    for _ in range(trials):
        sampler.new_trial()
        for i, expr in slots:
            probs[i] = min(max(sampler.eval(expr), 0.0), 1.0)
        pos, neg = _bddk.node_probabilities(flat.level, flat.high, flat.low, probs)
        values.append(edge_probability(flat.root, pos, neg))
        if averages.active:
            pfds.append(averages.pfd_avg(sampler, probs, flat))
    figures = summarise(values, seed)
    return replace(figures, pfd_avg=summarise(pfds, seed)) if pfds else figures


def rate_argument(e: MefExpr) -> MefExpr | None:
    """The rate argument of the first time model in an event's expression (depth first): lambda of
    `exponential` and `periodic-test`, of `GLM` its second argument."""
    if e.tag in ("exponential", "periodic-test") and e.args:
        return e.args[0]
    if e.tag == "GLM" and len(e.args) > 1:
        return e.args[1]
    for a in e.args:
        found = rate_argument(a)
        if found is not None:
            return found
    return None


class _TimeAverage:
    """The PFDavg of one trial: the tree's time models with the trial's rates, averaged on the BDD over fixed
    quadrature nodes (the tests and repairs do not move with the rates, so the nodes are computed once, and so
    are the probabilities of the events no distribution touches)."""

    def __init__(self, tree: FaultTree, variables: list[str], slots: list[tuple[int, MefExpr]], horizon: float,
                 active: bool):
        self.base: list[Timing] = [timing_of(tree, n) for n in variables]
        self.horizon = horizon
        self.active = active  # the demand analysis's criterion: a proof-tested or repaired event
        if not self.active:
            return
        spans = pieces(self.base, horizon, MC_MAX_PIECE_HOURS)
        x, w = gauss_legendre(MC_ORDER)
        self.nodes = [((a + b) / 2.0 + (b - a) / 2.0 * xi, (b - a) / 2.0 * wi)
                      for a, b in spans for xi, wi in zip(x, w, strict=True)]
        self.rows = [array("d", [tm.q(t) for tm in self.base]) for t, _ in self.nodes]
        self.timed: list[tuple[int, MefExpr, float]] = []  # slot, its rate expression, the coverage it carries
        self.constant: list[int] = []
        for i, expr in slots:
            tm = self.base[i]
            if not tm.time_dependent:
                self.constant.append(i)
                continue
            arg = rate_argument(expr)
            if arg is None:
                raise SampleError(f"event '{variables[i]}' depends on time but its expression names no rate")
            carried = tm.coverage if tm.kind == "periodic-test" and tm.coverage < 1.0 else 1.0
            self.timed.append((i, arg, carried))

    def pfd_avg(self, sampler: Sampler, probs: array[float], flat: FlatBdd) -> float:
        # the events of one failure mode (its instances, its CCF shares) differ only by their scale: one time
        # model per distinct unscaled timing, evaluated once per node
        models: dict[Timing, list[tuple[int, float]]] = {}
        for i, arg, carried in self.timed:
            tm = replace(self.base[i], rate=max(sampler.eval(arg) / carried, 0.0))
            models.setdefault(replace(tm, scale=1.0), []).append((i, tm.scale))
        level, high, low, root = flat.level, flat.high, flat.low, flat.root
        total = []
        for (t, weight), row in zip(self.nodes, self.rows, strict=True):
            p = array("d", row)
            for i in self.constant:
                p[i] = probs[i]
            for tm, users in models.items():
                q = tm.q(t)
                for i, scale in users:
                    p[i] = min(max(scale * q, 0.0), 1.0)
            pos, neg = _bddk.node_probabilities(level, high, low, p)
            total.append(weight * edge_probability(root, pos, neg))
        return math.fsum(total) / self.horizon


def quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarise(values: list[float], seed: int) -> UncertaintyFigures:
    n = len(values)
    ordered = sorted(values)
    mean = math.fsum(values) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    p05, p50, p95 = (quantile(ordered, q) for q in (0.05, 0.5, 0.95))
    ef = math.sqrt(p95 / p05) if p05 > 0.0 else math.inf
    lo, hi = ordered[0], ordered[-1]
    width = (hi - lo) / BINS
    counts = [0] * BINS
    for v in ordered:
        counts[min(int((v - lo) / width), BINS - 1) if width > 0.0 else 0] += 1
    bins = tuple(HistogramBin(lo + i * width, lo + (i + 1) * width if i < BINS - 1 else hi, c)
                 for i, c in enumerate(counts))
    return UncertaintyFigures(n, seed, mean, std, p05, p50, p95, ef, bins)
