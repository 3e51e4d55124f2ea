"""How a basic event's unavailability q(t) evolves over the mission: the time models behind the Open-PSA
`exponential`, `periodic-test` and `GLM` expressions, as values the demand analysis (fta/demand.py) can
evaluate at any time.

- `exponential`: q(t) = 1 - exp(-lambda t), never renewed (no test reveals the failure).
- `periodic-test`: a failure revealed by proof tests at theta, theta + tau, ... (MEF 7.5.3, 4 or 5
  arguments: instant repair, or repair at rate mu after the test); a share `1 - coverage` of the rate is
  never revealed and grows from t = 0; during a test lasting `test_duration` the function is unavailable.
- `GLM`: q(t) = (lambda - (lambda - gamma (lambda + mu)) exp(-(lambda + mu) t)) / (lambda + mu), a component
  repaired at rate mu whether or not anyone tests it.
- `constant`: q does not depend on t (a probability, or an exposure fixed apart from the mission).

The failure intensity w(t) (rate of going from up to down) is lambda (1 - q(t)) for every model but the
constant one (w = 0); a CCF event is `scale` times its members' model (q and w): the demand analysis weighs it by the Birnbaum importance to get the system's PFH.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from safetyops_dsl.fta.mef_expr import glm, periodic_test
from safetyops_dsl.lazy_dataclasses import dataclass

TYPE_CHECKING = False  # typing itself is not imported at run time (`sops fta` start-up)
if TYPE_CHECKING:
    from safetyops_dsl.fta.tree import BasicEvent


@dataclass(frozen=True, slots=True)
class Timing:
    """How a basic event's probability evolves over time (one of the models above)."""

    kind: str  # "exponential" | "periodic-test" | "GLM" | "constant"
    rate: float = 0.0  # lambda, per hour
    interval: float = 0.0  # tau (periodic-test)
    first: float = 0.0  # theta (periodic-test)
    repair_rate: float = 0.0  # mu: periodic-test after a test that found the failure (0: instant), GLM
    coverage: float = 1.0  # periodic-test: the share of lambda a proof test reveals
    test_duration: float = 0.0  # periodic-test: unavailable while tested
    gamma: float = 0.0  # GLM: probability of failure on demand at t = 0
    value: float = 0.0  # constant
    # a share of the event's probability at every time (the events of a CCF group: fta/ccf.py splits the
    # members' probability linearly)
    scale: float = 1.0

    def q(self, t: float) -> float:
        return self.scale * self._q(t) if self.scale != 1.0 else self._q(t)

    def _q(self, t: float) -> float:
        if self.kind == "constant":
            return self.value
        if self.kind == "exponential":
            return -math.expm1(-self.rate * t)
        if self.kind == "GLM":
            return glm(self.gamma, self.rate, self.repair_rate, t)
        if self.in_test(t):
            return 1.0
        tested = self.rate * self.coverage
        args = [tested, self.interval, self.first, t] if self.repair_rate <= 0.0 else [
            tested, self.repair_rate, self.interval, self.first, t]
        q_tested = periodic_test(args) if tested > 0.0 else 0.0
        q_hidden = -math.expm1(-self.rate * (1.0 - self.coverage) * t)
        return 1.0 - (1.0 - q_tested) * (1.0 - q_hidden)

    def intensity(self, t: float) -> float:
        """w(t): the rate at which the event goes from up to down at t."""
        if self.kind == "constant" or (self.kind == "periodic-test" and self.in_test(t)):
            return 0.0
        return self.scale * self.rate * (1.0 - self._q(t))

    def in_test(self, t: float) -> bool:
        if self.kind != "periodic-test" or self.test_duration <= 0.0 or t < self.first:
            return False
        since = (t - self.first) % self.interval
        return since < self.test_duration

    def breakpoints(self, horizon: float) -> list[float]:
        """The times in (0, horizon) where q(t) is not smooth: tests and the ends of tests."""
        if self.kind != "periodic-test" or self.interval <= 0.0:
            return []
        out: list[float] = []
        k = 0
        while (t := self.first + k * self.interval) < horizon:
            out.append(t)
            if self.test_duration > 0.0 and t + self.test_duration < horizon:
                out.append(t + self.test_duration)
            if self.repair_rate > 0.0:
                # a repair after the test: a transient with time constant 1 / mu, resolved by pieces that
                # grow geometrically after the test
                out.extend(t + self.test_duration + m / self.repair_rate for m in (0.25, 1.0, 4.0, 16.0)
                           if m / self.repair_rate < self.interval and t + m / self.repair_rate < horizon)
            k += 1
            if k > 1_000_000:  # a bound the model check keeps far away (interval <= mission time)
                break
        return [t for t in out if t > 0.0]

    @property
    def time_dependent(self) -> bool:
        return self.kind != "constant"


def has_demand(events: Iterable[BasicEvent]) -> bool:
    """Some event is proof-tested or repaired (else P(top) at the mission time is the figure: no PFDavg).
    Here, not in analysis/demand.py, so that `sops fta` imports the demand analysis only for such trees."""
    return any(e.timing is not None and e.timing.kind in ("periodic-test", "GLM") for e in events)
