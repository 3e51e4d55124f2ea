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
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

from safetyops_dsl.fta import _bddk
from safetyops_dsl.fta.bdd import build, edge_probability
from safetyops_dsl.fta.mef_expr import glm, periodic_test, weibull
from safetyops_dsl.fta.preprocess import preprocess
from safetyops_dsl.fta.tree import DEVIATES, FaultTree, MefExpr, uncertain

BINS = 20


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

    def new_trial(self) -> None:
        self._values.clear()

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
        if tag == "histogram":
            return self._histogram(e)
        a = [self.eval(x) for x in e.args]
        if tag in DEVIATES:
            return self._deviate(tag, a)
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
    """The distribution of P(top) at the mission time, or None where no event of the tree is uncertain."""
    parameters = {name: expr for name, (expr, _unit) in tree.parameters.items()}
    sampled = {n: e.expression for n, e in tree.basic_events.items()
               if e.expression is not None and uncertain(e.expression, parameters)}
    if not sampled:
        return None
    bdds = build(preprocess(tree), split=False, max_nodes=max_nodes)
    flat = bdds.modules[-1].flat
    fixed = [tree.basic_events[n].probability if n in tree.basic_events else 0.0 for n in bdds.variables]
    slots = [(i, sampled[n]) for i, n in enumerate(bdds.variables) if n in sampled]
    sampler = Sampler(parameters, tree.mission_time or 1.0, random.Random(seed))
    values: list[float] = []
    probs = array("d", fixed)
    for _ in range(trials):
        sampler.new_trial()
        for i, expr in slots:
            probs[i] = min(max(sampler.eval(expr), 0.0), 1.0)
        pos, neg = _bddk.node_probabilities(flat.level, flat.high, flat.low, probs)
        values.append(edge_probability(flat.root, pos, neg))
    return summarise(values, seed)


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
