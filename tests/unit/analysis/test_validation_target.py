"""The validation-target arithmetic against closed forms and published chi-square table values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetyops_dsl.analysis.validation_target import (
    chi2_quantile,
    gamma_quantile,
    poisson_cdf,
    required_exposure,
)


@pytest.mark.parametrize("confidence", [0.5, 0.9, 0.95, 0.99, 0.999])
def test_zero_failures_is_exact(confidence: float) -> None:
    assert required_exposure(1e-7, confidence) == pytest.approx(-math.log(1 - confidence) / 1e-7, rel=1e-15)


def test_zero_failures_95_percent_is_about_3_over_lambda() -> None:
    # the "rule of three": 2.9957 / lambda
    assert required_exposure(1e-8, 0.95) == pytest.approx(2.995732273553991e8, rel=1e-12)


@pytest.mark.parametrize("confidence", [0.5, 0.9, 0.95, 0.99])
def test_one_failure_solves_the_closed_form(confidence: float) -> None:
    x = gamma_quantile(1, confidence)
    assert (1 + x) * math.exp(-x) == pytest.approx(1 - confidence, rel=1e-10)


@pytest.mark.parametrize(("confidence", "dof", "table"), [
    # chi-square table values (NIST/SEMATECH e-Handbook 1.3.6.7.4, upper-tail critical values)
    (0.95, 2, 5.991), (0.95, 4, 9.488), (0.95, 6, 12.592), (0.95, 10, 18.307), (0.99, 4, 13.277),
    (0.99, 20, 37.566), (0.90, 8, 13.362), (0.95, 100, 124.342),
])
def test_chi2_against_table(confidence: float, dof: int, table: float) -> None:
    assert chi2_quantile(confidence, dof) == pytest.approx(table, abs=1.5e-3)


def test_two_failures_closed_form() -> None:
    x = gamma_quantile(2, 0.95)
    assert (1 + x + x * x / 2) * math.exp(-x) == pytest.approx(0.05, rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=60), st.floats(min_value=0.01, max_value=0.999))
def test_quantile_inverts_the_poisson_cdf(k: int, confidence: float) -> None:
    x = gamma_quantile(k, confidence)
    assert poisson_cdf(k, x) == pytest.approx(1 - confidence, rel=1e-8, abs=1e-12)
    # more failures need more exposure
    assert gamma_quantile(k + 1, confidence) > x


def test_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        gamma_quantile(0, 1.0)
    with pytest.raises(ValueError):
        chi2_quantile(0.95, 3)
    with pytest.raises(ValueError):
        required_exposure(0.0, 0.95)
