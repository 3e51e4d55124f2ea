"""The risk graph of IEC 61508-5 Annex E / IEC 61511-3 Annex D, read as data the model declares.

The standard presents its graph as an example that the user calibrates against their tolerable-risk criteria
(the meaning of each C, F, P and W level, W usually as a demand-rate band), so nothing here knows the standard's
graph: the levels, the rows (a path through C, F, P; a parameter left out of a path stands for any of its levels)
and the outcome of each row per W level all come from the model's `risk_graph` block. This module checks that
the table is complete and consistent, and walks it for a hazard's classes. docs/profiles/iec61508.md shows the
standard's example as a calibrated model writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from safetyops_dsl.model import elements as el
from safetyops_dsl.model.profiles import iec61508

# the parameters a path goes through, in the order the graph is drawn
PATH_PARAMETERS: tuple[str, ...] = ("consequence", "frequency", "avoidance")
LETTER: dict[str, str] = {"consequence": "C", "frequency": "F", "avoidance": "P", "demand": "W"}
OUTCOME_TEXT: dict[str, str] = {
    "-": "no safety requirements",
    "a": "no special safety requirements",
    "b": "a single E/E/PE safety-related system is not sufficient",
    "1": "SIL 1", "2": "SIL 2", "3": "SIL 3", "4": "SIL 4",
}


def outcome_sil(outcome: str) -> int:
    """The required SIL of an outcome on the scale of iec61508.sil_of_value: NO_SIL for '-' and 'a',
    BEYOND_SIL4 for 'b'."""
    if outcome in ("-", "a"):
        return iec61508.NO_SIL
    if outcome == "b":
        return iec61508.BEYOND_SIL4
    return int(outcome)


def structure_problems(graph: el.RiskGraph) -> list[tuple[str, el.Location]]:
    """What makes the table unreadable (SOPS148): a parameter declared twice or not at all, a level listed twice,
    a path through an unknown level or out of C, F, P order, a row without one outcome per W level, W bands that
    do not rise."""
    out: list[tuple[str, el.Location]] = []
    seen: dict[str, el.RiskGraphLevel] = {}
    for lv in graph.levels:
        if lv.name in seen:
            out.append((f"level {lv.name} declared twice", lv.location))
        seen.setdefault(lv.name, lv)
    for param in el.RISK_GRAPH_PARAMETERS:
        if not graph.of(param):
            out.append((f"no {param} ({LETTER[param]}) levels", graph.location))
    for lv in graph.levels:
        if lv.below is not None and lv.parameter != "demand":
            out.append((f"level {lv.name}: only demand (W) levels have a `below` band", lv.location))
    bands = [lv for lv in graph.of("demand")]
    bounded = [lv for lv in bands if lv.below is not None]
    if bounded:
        if any(lv.below is None for lv in bands[:-1]):
            out.append(("W bands: every demand level but the last needs `below`", bands[0].location))
        bounds = [lv.below.per_hour for lv in bounded if lv.below is not None]
        if any(b <= 0 for b in bounds) or any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:], strict=False)):
            out.append(("W bands must be positive and rise in the order the levels are declared", bounded[0].location))
    width = len(graph.of("demand"))
    paths: set[str] = set()
    rows: dict[str, el.RiskGraphRow] = {}
    for row in graph.rows:
        if row.path in paths:
            out.append((f"path {row.path} declared twice", row.location))
        paths.add(row.path)
        first = rows.setdefault(row.name, row)
        if first.outcomes != row.outcomes:
            out.append((f"row {row.name}: outcomes {' '.join(row.outcomes)} here but {' '.join(first.outcomes)} for "
                        f"path {first.path}: one row has one set of outcomes", row.location))
        order = []
        for name in row.levels:
            hit = seen.get(name)
            if hit is None:
                out.append((f"row {row.name}: unknown level '{name}'", row.location))
            elif hit.parameter == "demand":
                out.append((f"row {row.name}: {name} is a demand level; W selects the outcome column", row.location))
            else:
                order.append(PATH_PARAMETERS.index(hit.parameter))
        if order != sorted(set(order)):
            out.append((f"row {row.name}: path {row.path} must go through C, F, P in that order, each at most once",
                        row.location))
        if not any(seen.get(n) is not None and seen[n].parameter == "consequence" for n in row.levels):
            out.append((f"row {row.name}: path {row.path} does not start with a consequence (C) level", row.location))
        if width and len(row.outcomes) != width:
            out.append((f"row {row.name} has {len(row.outcomes)} outcomes for {width} demand (W) levels",
                        row.location))
    return out


def matching_rows(graph: el.RiskGraph, combination: tuple[str, ...]) -> list[el.RiskGraphRow]:
    """The rows whose path admits a (C, F, P) combination."""
    return [row for row in graph.rows if all(name in combination for name in row.levels)]


def coverage_problems(graph: el.RiskGraph) -> list[str]:
    """SOPS149: every combination of C, F and P levels must select exactly one row."""
    levels = [[lv.name for lv in graph.of(p)] for p in PATH_PARAMETERS]
    missing: list[str] = []
    ambiguous: list[str] = []
    for combination in product(*levels):
        hits = matching_rows(graph, combination)
        if not hits:
            missing.append(" ".join(combination))
        elif len(hits) > 1:
            ambiguous.append(f"{' '.join(combination)} ({', '.join(r.name for r in hits)})")
    out = []
    if missing:
        out.append("no row for " + ", ".join(missing))
    if ambiguous:
        out.append("more than one row for " + ", ".join(ambiguous))
    return out


def w_of_demand(graph: el.RiskGraph, per_hour: float) -> str | None:
    """The W level whose band [previous bound, below) holds a demand rate; None without bands."""
    bands = graph.of("demand")
    if not bands or all(lv.below is None for lv in bands):
        return None
    for lv in bands:
        if lv.below is None or per_hour < lv.below.per_hour:
            return lv.name
    return None  # above the last bound, and the last level is bounded


@dataclass(frozen=True)
class Derivation:
    """A hazard's walk through the graph: the levels taken, the row, the W column and the outcome."""

    consequence: str
    frequency: str
    avoidance: str
    demand: str  # the W level
    row: str
    outcome: str  # - a 1 2 3 4 b
    demand_note: str  # how W was found from a demand rate ("" where the W class is written)

    @property
    def sil(self) -> int:
        return outcome_sil(self.outcome)

    @property
    def path(self) -> str:
        w = self.demand + (f" ({self.demand_note})" if self.demand_note else "")
        shown = f"SIL {self.outcome}" if self.outcome.isdigit() else f"{self.outcome} ({OUTCOME_TEXT[self.outcome]})"
        return f"{self.consequence} {self.frequency} {self.avoidance} \u2192 {self.row} \u2192 {w}: {shown}"


def class_problems(graph: el.RiskGraph, given: el.RiskGraphClasses) -> list[str]:
    """SOPS150: what keeps a hazard's classes from selecting one cell: an unknown level, a parameter given twice or
    not at all (W: neither a class nor a demand rate the bands classify)."""
    by_name = {lv.name: lv for lv in graph.levels}
    problems: list[str] = []
    got: dict[str, list[str]] = {}
    for name in given.classes:
        lv = by_name.get(name)
        if lv is None:
            problems.append(f"'{name}' is no level of the risk graph")
        else:
            got.setdefault(lv.parameter, []).append(name)
    for param in el.RISK_GRAPH_PARAMETERS:
        names = got.get(param, [])
        if len(names) > 1:
            problems.append(f"two {param} ({LETTER[param]}) levels: {', '.join(names)}")
        if param == "demand" and given.demand is not None:
            if names:
                problems.append("both a W level and a demand rate: give one")
            elif not any(lv.below is not None for lv in graph.of("demand")):
                problems.append("a demand rate, but the graph's W levels have no `below` bands to classify it")
            elif w_of_demand(graph, given.demand.per_hour) is None:
                problems.append(f"demand {given.demand.text} is above the last W band")
        elif not names and not problems:
            problems.append(f"no {param} ({LETTER[param]}) level")
    return problems


def derive(graph: el.RiskGraph, given: el.RiskGraphClasses) -> Derivation | None:
    """The cell a hazard's classes select; None where the classes or the graph have a problem (reported by
    validation)."""
    if class_problems(graph, given) or structure_problems(graph):
        return None
    by_name = {lv.name: lv for lv in graph.levels}
    pick = {by_name[n].parameter: n for n in given.classes}
    note = ""
    if given.demand is not None:
        w = w_of_demand(graph, given.demand.per_hour)
        if w is None:
            return None
        pick["demand"] = w
        note = f"demand {given.demand.text}"
    combination = tuple(pick[p] for p in PATH_PARAMETERS)
    rows = matching_rows(graph, combination)
    if len(rows) != 1:
        return None
    column = [lv.name for lv in graph.of("demand")].index(pick["demand"])
    c, f, p = combination
    return Derivation(c, f, p, pick["demand"], rows[0].name, rows[0].outcomes[column], note)
