"""Hypothesis profiles of the robustness suite.

`ci` (default): bounded, so that the whole of tests/robustness stays under ~90 s on a 2-core machine.
`long` (SOPS_FUZZ=long): 25x the examples of every fuzz test, for an on-demand or nightly run:

    SOPS_FUZZ=long .venv/bin/pytest tests/robustness -p no:cacheprovider

SOPS_FUZZ_EXAMPLES=N sets every fuzz test to exactly N examples. The profiles are applied per test
(harness.fuzz), not loaded globally, so the property tests elsewhere keep their own settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

COMMON = dict(
    deadline=None,  # hangs are caught by harness.time_limit, not by hypothesis' per-example deadline
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,  # a failure prints the @reproduce_failure blob to turn into a regression file
)
settings.register_profile("ci", derandomize=True, database=None, **COMMON)
settings.register_profile("long", derandomize=False, **COMMON)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask for the test, whatever the runner's (the output-mode tests assert 0644/0755)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)
