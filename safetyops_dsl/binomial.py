"""Clopper-Pearson bounds for a measured proportion: one-sided for fault-injection coverage (detected /
injected, analysis/injection.py), two-sided for the Monte Carlo estimate of a top event (fta/simulate.py).

With k detections in n injections, the exact one-sided lower bound at confidence 1 - alpha is the alpha
quantile of Beta(k, n - k + 1) (0 when k = 0): the smallest coverage p for which seeing k or more detections
still has probability alpha. The quantile is found by bisection on the regularised incomplete beta function,
evaluated with its continued fraction (Lentz's method), which stays accurate in the tails where a binomial sum
loses its digits. With no miss (k = n) the bound has the closed form alpha ** (1 / n); the tests check both that
and a brute-force binomial inversion.
"""

from __future__ import annotations

import math

_EPS = 1e-16
_TINY = 1e-300


def _beta_cf(x: float, a: float, b: float) -> float:
    """The continued fraction of I_x(a, b) (modified Lentz), for x < (a + 1) / (a + b + 2)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_cf(x, a, b) / a
    return 1.0 - front * _beta_cf(1.0 - x, b, a) / b


def beta_quantile(q: float, a: float, b: float) -> float:
    """The x with I_x(a, b) = q, by bisection to the resolution of a float."""
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if mid in (lo, hi):
            break
        if regularized_beta(mid, a, b) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def clopper_pearson_lower(detected: int, injected: int, confidence: float = 0.95) -> float:
    """The one-sided lower confidence bound of the proportion detected / injected."""
    if injected <= 0 or not 0 <= detected <= injected:
        raise ValueError(f"need 0 <= detected <= injected and injected > 0, got {detected}/{injected}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence}")
    if detected == 0:
        return 0.0
    return beta_quantile(1.0 - confidence, detected, injected - detected + 1)


def zero_miss_sample_size(claim: float, confidence: float = 0.95) -> int | None:
    """The fewest injections that, all detected, put the lower bound at or above `claim`
    (alpha ** (1 / n) >= claim); None for a claim of 100 %, which no finite campaign demonstrates."""
    if claim >= 1.0:
        return None
    if claim <= 0.0:
        return 1
    alpha = 1.0 - confidence
    n = max(1, math.ceil(math.log(alpha) / math.log(claim)))
    while n > 1 and alpha ** (1.0 / (n - 1)) >= claim:  # float rounding of the logarithms, both ways
        n -= 1
    while alpha ** (1.0 / n) < claim:
        n += 1
    return n


def clopper_pearson(hits: int, n: int, confidence: float) -> tuple[float, float]:
    """The exact (conservative) two-sided binomial interval: the beta quantiles at alpha/2 and 1 - alpha/2."""
    alpha = 1.0 - confidence
    lower = 0.0 if hits == 0 else beta_quantile(alpha / 2, hits, n - hits + 1)
    upper = 1.0 if hits == n else beta_quantile(1 - alpha / 2, hits + 1, n - hits)
    return lower, upper
