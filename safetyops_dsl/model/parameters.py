"""Named parameters and quantity expressions: values, units and the failure modes that use them.

A value carries its dimension as the exponent of the hour (-1: a rate per hour, 1: a time in hours, 0: a pure
number). `+` and `-` need equal dimensions, `*` and `/` add and subtract them, so `lambda * 8760 h` is a pure
number and `1 / 10 y` a rate. The builder evaluates expressions that name no parameter; the model's
assembly (`resolve`) evaluates parameters across packages (own package first, as every name) and the failure
modes that use them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.model import elements as el

Value = tuple[float, int]  # (value in base units, hour exponent)
Lookup = Callable[[el.ParamUse], "Value | Diagnostic"]

_DIM_WORDS = {-1: "a rate (per h)", 0: "a pure number", 1: "a time (h)"}


def dim_text(dim: int) -> str:
    return _DIM_WORDS.get(dim, f"h^{dim}")


def unit_word(dim: int) -> str:
    """How a value of this dimension reads after its number."""
    return {-1: "per h", 0: "", 1: "h"}.get(dim, f"h^{dim}")


def evaluate(expr: el.QExpr, lookup: Lookup) -> Value | Diagnostic:
    if isinstance(expr, el.Num):
        return expr.value, expr.dim
    if isinstance(expr, el.ParamUse):
        return lookup(expr)
    left = evaluate(expr.left, lookup)
    if isinstance(left, Diagnostic):
        return left
    right = evaluate(expr.right, lookup)
    if isinstance(right, Diagnostic):
        return right
    (a, da), (b, db) = left, right
    if expr.op in "+-":
        if da != db:
            return dg.make(dg.UNIT_MISMATCH, f"'{_text(expr)}' adds {dim_text(da)} and {dim_text(db)}", expr.location,
                           "both sides of + and - need the same unit (rates per h, times in h, or numbers)")
        value = a + b if expr.op == "+" else a - b
        dim = da
    elif expr.op == "*":
        value, dim = a * b, da + db
    else:
        if b == 0.0:
            return dg.make(dg.PARAMETER_UNDEFINED_VALUE, f"'{_text(expr)}' divides by zero", expr.location)
        value, dim = a / b, da - db
    if not math.isfinite(value):
        return dg.make(dg.PARAMETER_UNDEFINED_VALUE, f"'{_text(expr)}' has no finite value", expr.location)
    return value, dim


def evaluate_quantity(expr: el.QExpr, lookup: Lookup, is_rate: bool, mode: str) -> float | Diagnostic:
    """A failure mode's rate (per hour) or probability from its expression, units and range checked."""
    found = evaluate(expr, lookup)
    if isinstance(found, Diagnostic):
        return found
    value, dim = found
    loc = _location(expr)
    want = -1 if is_rate else 0
    if dim != want:
        what = "failure rate" if is_rate else "probability"
        return dg.make(dg.UNIT_MISMATCH, f"the {what} of '{mode}' is {dim_text(dim)}, not {dim_text(want)}", loc,
                       "a rate is per h or FIT (e.g. `2 * lambda_valve`); a probability is a pure number")
    if is_rate and value < 0:
        return dg.make(dg.BAD_RATE, f"failure rate of '{mode}' is negative ({value:g} per h)", loc)
    if not is_rate and not 0.0 <= value <= 1.0:
        return dg.make(dg.BAD_RATE, f"probability of '{mode}' is outside 0..1 ({value:g})", loc)
    return value


def _text(expr: el.QExpr) -> str:
    text = str(expr)
    return text[1:-1] if isinstance(expr, el.BinOp) else text


def _location(expr: el.QExpr) -> dg.Location:
    if isinstance(expr, el.Num):
        return dg.Location("")
    return expr.location


class Table:
    """Every parameter of a model, evaluated on first use with cycle detection."""

    def __init__(self, parameters: dict[str, el.Parameter], resolve: Callable[[el.ParamUse, str], str | Diagnostic]):
        self.parameters = parameters  # qualified name -> parameter
        self.resolve = resolve  # (use, package) -> qualified name or the diagnostic
        self._values: dict[str, Value | Diagnostic] = {}
        self._active: list[str] = []

    def value(self, qname: str) -> Value | Diagnostic:
        if qname in self._values:
            return self._values[qname]
        p = self.parameters[qname]
        if qname in self._active:
            chain = " -> ".join(q.rpartition(".")[2] for q in [*self._active[self._active.index(qname):], qname])
            return dg.make(dg.PARAMETER_CYCLE, f"parameter '{p.name}' is defined in terms of itself ({chain})",
                           p.location, "give one parameter of the chain a value that does not name the others")
        self._active.append(qname)
        found = evaluate(p.expr, self.lookup(p.package))
        self._active.pop()
        self._values[qname] = found
        return found

    def lookup(self, package: str) -> Lookup:
        def at(use: el.ParamUse) -> Value | Diagnostic:
            qname = self.resolve(use, package)
            return qname if isinstance(qname, Diagnostic) else self.value(qname)

        return at


def resolve_failure_modes(component: el.Component, table: Table, diags: list[Diagnostic]) -> el.Component:
    """The component with the rate or probability of every failure mode (and the probability of every input
    assumption) written as an expression over parameters evaluated (unchanged where none is)."""
    modes = []
    changed = False
    for fm in component.failure_modes:
        if fm.quantity_expr is None or not el.qexpr_uses(fm.quantity_expr):
            modes.append(fm)
            continue
        found = evaluate_quantity(fm.quantity_expr, table.lookup(component.package), fm.is_rate, fm.name)
        if isinstance(found, Diagnostic):
            if found.location.file == "":
                found = dataclasses.replace(found, location=fm.location)
            diags.append(found)
            modes.append(fm)
            continue
        changed = True
        modes.append(dataclasses.replace(fm, rate_per_hour=found) if fm.is_rate
                     else dataclasses.replace(fm, probability=found))
    assumptions = []
    for a in component.assumptions:
        if a.quantity_expr is None or not el.qexpr_uses(a.quantity_expr):
            assumptions.append(a)
            continue
        found = evaluate_quantity(a.quantity_expr, table.lookup(component.package), False, f"{a.port}.{a.deviation}")
        if isinstance(found, Diagnostic):
            diags.append(found if found.location.file else dataclasses.replace(found, location=a.location))
            assumptions.append(a)
            continue
        changed = True
        assumptions.append(dataclasses.replace(a, probability=found))
    if not changed:
        return component
    return dataclasses.replace(component, failure_modes=tuple(modes), assumptions=tuple(assumptions))
