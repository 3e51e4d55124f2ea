"""Open-PSA MEF expressions evaluated to point values (as SCRAM's `value()`: deviates give their mean)."""

from __future__ import annotations

import math
from collections.abc import Callable

from safetyops_dsl.diagnostics import OPENPSA_ERROR, Diagnostic, make
from safetyops_dsl.fta.xmlread import Element


class ExprError(Exception):
    def __init__(self, diag: Diagnostic):
        super().__init__(diag.message)
        self.diag = diag


def _p_exp(rate: float, t: float) -> float:
    return -math.expm1(-rate * t)


def glm(gamma: float, lam: float, mu: float, t: float) -> float:
    r = lam + mu
    return (lam - (lam - gamma * r) * math.exp(-r * t)) / r


def weibull(alpha: float, beta: float, t0: float, t: float) -> float:
    return 0.0 if t <= t0 else -math.expm1(-(((t - t0) / alpha) ** beta))


def periodic_test(args: list[float]) -> float:
    """Periodically tested component: 4 arguments (instant repair) or 5 (repair rate mu), MEF 7.5.3."""
    if len(args) == 4:
        lam, tau, theta, t = args
        if t <= theta:
            return _p_exp(lam, t)
        delta = t - theta
        after = delta - int(delta / tau) * tau
        return _p_exp(lam, after if after else tau)
    lam, mu, tau, theta, t = args
    if t <= theta:
        return _p_exp(lam, t)

    def p_mu_lambda(p_mu: float, p_lam: float, time: float) -> float:
        # Probability that a repair (rate mu) finished and then a failure (rate lambda) happened.
        if lam == mu:
            return p_lam - (1 - p_lam) * lam * time
        return (lam * p_mu - mu * p_lam) / (lam - mu)

    def carry(p_lam: float, p_mu: float, time: float) -> float:
        return 1 - p_mu + p_mu_lambda(p_mu, p_lam, time) - p_lam

    prob = _p_exp(lam, theta)
    delta = t - theta
    periods = int(delta / tau)
    fraction = carry(_p_exp(lam, tau), _p_exp(mu, tau), tau)
    compound = fraction**periods
    if fraction != 1:
        prob = prob * compound + _p_exp(lam, tau) * (compound - 1) / (fraction - 1)
    else:
        prob = prob + _p_exp(lam, tau) * periods
    after = delta - periods * tau
    p_lam, p_mu = _p_exp(lam, after), _p_exp(mu, after)
    return prob * carry(p_lam, p_mu, after) + p_lam


_UNARY: dict[str, Callable[[float], float]] = {
    "neg": lambda x: -x,
    "abs": abs,
    "exp": math.exp,
    "log": math.log,
    "log10": math.log10,
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "ceil": lambda x: float(math.ceil(x)),
    "floor": lambda x: float(math.floor(x)),
}

_NARY: dict[str, Callable[[list[float]], float]] = {
    "add": lambda a: math.fsum(a),
    "sub": lambda a: a[0] - math.fsum(a[1:]),
    "mul": lambda a: math.prod(a),
    "div": lambda a: a[0] / math.prod(a[1:]),
    "min": min,
    "max": max,
    "mean": lambda a: math.fsum(a) / len(a),
    "pow": lambda a: a[0] ** a[1],
    "mod": lambda a: math.fmod(a[0], a[1]),
}

# name -> (argument counts allowed, point value). Deviates evaluate to their mean, as SCRAM does.
_SPECIAL: dict[str, tuple[tuple[int, ...], Callable[[list[float]], float]]] = {
    "exponential": ((2,), lambda a: _p_exp(a[0], a[1])),
    "GLM": ((4,), lambda a: glm(*a)),
    "Weibull": ((4,), lambda a: weibull(*a)),
    "periodic-test": ((4, 5), periodic_test),
    "uniform-deviate": ((2,), lambda a: (a[0] + a[1]) / 2),
    "normal-deviate": ((2,), lambda a: a[0]),
    "lognormal-deviate": ((2, 3), lambda a: a[0]),
    "gamma-deviate": ((2,), lambda a: a[0] * a[1]),
    "beta-deviate": ((2,), lambda a: a[0] / (a[0] + a[1])),
}


class Evaluator:
    """Evaluates expressions; parameters are evaluated once, on first use, with cycle detection."""

    def __init__(self, parameters: dict[str, Element], mission_time: float):
        self.parameters = parameters
        self.mission_time = mission_time
        self._values: dict[str, float] = {}
        self._active: set[str] = set()

    def fail(self, el: Element, message: str) -> ExprError:
        return ExprError(make(OPENPSA_ERROR, message, el.loc))

    def number(self, el: Element, attr: str = "value") -> float:
        raw = el.get(attr)
        if raw is None:
            raise self.fail(el, f"<{el.tag}> needs a '{attr}' attribute")
        try:
            return float(raw)
        except ValueError:
            raise self.fail(el, f"'{raw}' is not a number") from None

    def parameter(self, name: str, ref: Element) -> float:
        if name in self._values:
            return self._values[name]
        definition = self.parameters.get(name)
        if definition is None:
            raise self.fail(ref, f"undefined parameter '{name}'")
        if name in self._active:
            raise self.fail(ref, f"parameter '{name}' is defined in terms of itself")
        self._active.add(name)
        body = [c for c in definition.children if c.tag not in ("label", "attributes")]
        if len(body) != 1:
            raise self.fail(definition, f"parameter '{name}' needs exactly one expression")
        value = self.eval(body[0])
        self._active.discard(name)
        self._values[name] = value
        return value

    def eval(self, el: Element) -> float:
        tag = el.tag
        if tag in ("float", "int"):
            return self.number(el)
        if tag == "bool":
            return 1.0 if el.get("value") == "true" else 0.0
        if tag == "system-mission-time":
            return self.mission_time
        if tag == "pi":
            return math.pi
        if tag == "parameter":
            return self.parameter(el.get("name") or "", el)
        args = [self.eval(c) for c in el.children]
        try:
            if tag in _UNARY:
                if len(args) != 1:
                    raise self.fail(el, f"<{tag}> takes one argument")
                return _UNARY[tag](args[0])
            if tag in _NARY:
                if not args:
                    raise self.fail(el, f"<{tag}> needs arguments")
                return _NARY[tag](args)
            if tag in _SPECIAL:
                counts, fn = _SPECIAL[tag]
                if len(args) not in counts:
                    want = " or ".join(str(c) for c in counts)
                    raise self.fail(el, f"<{tag}> takes {want} arguments, not {len(args)}")
                return fn(args)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise self.fail(el, f"cannot evaluate <{tag}>: {exc}") from None
        raise self.fail(el, f"unsupported expression <{tag}>")
