"""The Clopper-Pearson lower bound against independent oracles: the closed form alpha ** (1 / n) with no miss,
and a brute-force inversion of the binomial tail (exact integer arithmetic, bisection), which shares no code
with the continued fraction. SciPy is used only where it is installed."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetyops_dsl.binomial import (
    beta_quantile,
    clopper_pearson_lower,
    regularized_beta,
    zero_miss_sample_size,
)


def binomial_upper_tail(n: int, k: int, p: Fraction) -> Fraction:
    """P(X >= k) for X ~ Bin(n, p), exactly."""
    return sum((math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1)), Fraction(0))


def brute_force_lower(k: int, n: int, confidence: float, steps: int = 60) -> float:
    """The p with P(X >= k | p) = alpha, by bisection on the exact binomial tail (increasing in p)."""
    if k == 0:
        return 0.0
    alpha = Fraction(1) - Fraction(confidence)
    lo, hi = Fraction(0), Fraction(1)
    for _ in range(steps):
        mid = (lo + hi) / 2
        mid = Fraction(float(mid))  # keep the fractions small
        if binomial_upper_tail(n, k, mid) < alpha:
            lo = mid
        else:
            hi = mid
    return float((lo + hi) / 2)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 29, 59, 299, 1000, 20000])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_no_miss_matches_the_closed_form(n: int, confidence: float) -> None:
    assert clopper_pearson_lower(n, n, confidence) == pytest.approx((1 - confidence) ** (1 / n), rel=1e-11)


def test_published_value() -> None:
    # 9 of 10 at 95 % one-sided: 0.6058 (e.g. the exact binomial tables of Clopper & Pearson 1934)
    assert clopper_pearson_lower(9, 10, 0.95) == pytest.approx(0.605836, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), data=st.data(), confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_matches_brute_force_binomial_inversion(n: int, data: st.DataObject, confidence: float) -> None:
    k = data.draw(st.integers(0, n))
    assert clopper_pearson_lower(k, n, confidence) == pytest.approx(brute_force_lower(k, n, confidence), abs=1e-9)


def test_bound_is_monotone_in_detections() -> None:
    bounds = [clopper_pearson_lower(k, 100) for k in range(101)]
    assert bounds == sorted(bounds) and bounds[0] == 0.0


def test_regularized_beta_closed_forms() -> None:
    for x in (0.01, 0.3, 0.5, 0.97):
        assert regularized_beta(x, 1, 1) == pytest.approx(x)
        assert regularized_beta(x, 5, 1) == pytest.approx(x**5)
        assert regularized_beta(x, 1, 4) == pytest.approx(1 - (1 - x) ** 4)
    assert beta_quantile(0.25, 2, 1) == pytest.approx(0.5)


def test_against_scipy_where_installed() -> None:
    special = pytest.importorskip("scipy.stats")
    for k, n in [(1, 5), (98, 100), (178, 200), (290, 299)]:
        assert clopper_pearson_lower(k, n) == pytest.approx(special.beta.ppf(0.05, k, n - k + 1), rel=1e-9)


@pytest.mark.parametrize("claim", [0.0, 0.5, 0.6, 0.9, 0.95, 0.99, 0.999])
def test_zero_miss_sample_size_is_the_smallest(claim: float) -> None:
    n = zero_miss_sample_size(claim)
    assert n is not None
    assert 0.05 ** (1 / n) >= claim
    assert n == 1 or 0.05 ** (1 / (n - 1)) < claim


def test_full_claim_has_no_finite_campaign() -> None:
    assert zero_miss_sample_size(1.0) is None


@pytest.mark.parametrize("k, n, c", [(1, 0, 0.95), (5, 4, 0.95), (-1, 4, 0.95), (1, 4, 1.0), (1, 4, 0.0)])
def test_bad_arguments(k: int, n: int, c: float) -> None:
    with pytest.raises(ValueError):
        clopper_pearson_lower(k, n, c)
