"""The SOTIF validation target: how much exposure shows a hazardous-behaviour rate at a confidence.

With failures a Poisson process of rate lambda, an exposure t with k observed failures shows lambda below the
tolerated rate at confidence C when P(N <= k | lambda t) <= 1 - C. The smallest such t is

    t = chi2(C; 2k + 2) / (2 lambda)

(the chi-square quantile at C with 2k + 2 degrees of freedom; for k = 0 this is -ln(1 - C) / lambda). The
quantile is computed here without scipy, through the Poisson/gamma relation: chi2(C; 2k + 2) / 2 is the x
solving  sum_{i<=k} e^{-x} x^i / i! = 1 - C, found by bisection (the sum falls monotonically in x).
"""

from __future__ import annotations

import math


def poisson_cdf(k: int, x: float) -> float:
    """P(N <= k) for N ~ Poisson(x), summed in log space so that large x and k do not overflow."""
    if x <= 0.0:
        return 1.0
    log_x = math.log(x)
    terms = [i * log_x - x - math.lgamma(i + 1) for i in range(k + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def gamma_quantile(k: int, confidence: float) -> float:
    """The x with P(Poisson(x) <= k) = 1 - confidence, i.e. chi2(confidence; 2k + 2) / 2."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if k < 0:
        raise ValueError(f"failure count must be >= 0, got {k}")
    if k == 0:
        return -math.log1p(-confidence)  # exact
    target = 1.0 - confidence
    lo, hi = 0.0, max(1.0, 2.0 * (k + 1))
    while poisson_cdf(k, hi) > target:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if poisson_cdf(k, mid) > target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * hi:
            break
    return 0.5 * (lo + hi)


def chi2_quantile(confidence: float, dof: int) -> float:
    """chi2(confidence; dof) for an even number of degrees of freedom (the only ones the bound needs)."""
    if dof < 2 or dof % 2:
        raise ValueError(f"only even degrees of freedom >= 2 are supported, got {dof}")
    return 2.0 * gamma_quantile(dof // 2 - 1, confidence)


def required_exposure(rate: float, confidence: float, failures: int = 0) -> float:
    """The exposure (in the rate's unit) that shows `rate` at `confidence` with `failures` observed."""
    if rate <= 0.0:
        raise ValueError(f"rate must be positive, got {rate}")
    return chi2_quantile(confidence, 2 * failures + 2) / (2.0 * rate)
