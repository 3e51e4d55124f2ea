"""Quantitative safety-goal targets checked against the synthesised fault trees.

A goal's target is a probability per hour (e.g. `target 1e-8 per h`). The achieved figure is the top-event
probability over the mission time divided by the mission time: the average probability of failure per hour,
which is how ISO 26262-5 states PMHF. A goal that mitigates several hazards is violated when any of them
occurs; we add their per-hour figures (an upper bound of the union), so the check errs on the safe side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from safetyops_dsl.model.links import links

if TYPE_CHECKING:
    from safetyops_dsl.model.index import Model


@dataclass(frozen=True)
class GoalCheck:
    goal: str
    hazards: tuple[str, ...]  # the hazards whose trees were analysed
    target_per_hour: float
    achieved_per_hour: float
    passed: bool
    missing: tuple[str, ...] = ()  # mitigated hazards with no fault tree (no condition, or not analysed)


def check_goal_targets(
    model: Model, probabilities: Mapping[str, tuple[float, float]]
) -> list[GoalCheck]:
    """`probabilities`: hazard name -> (top-event probability, mission time in hours)."""
    checks: list[GoalCheck] = []
    for _, goal in sorted(model.goals.items()):
        if goal.target_per_hour is None:
            continue
        found: list[str] = []
        missing: list[str] = []
        per_hour = 0.0
        for hq in links(model).hazards_of_goal[goal.qualified_name]:
            name = model.hazards[hq].name
            if name in probabilities:
                p, t = probabilities[name]
                per_hour += p / t if t > 0 else p
                found.append(name)
            else:
                missing.append(name)
        checks.append(
            GoalCheck(
                goal=goal.name,
                hazards=tuple(found),
                target_per_hour=goal.target_per_hour,
                achieved_per_hour=per_hour,
                passed=bool(found) and not missing and per_hour <= goal.target_per_hour,
                missing=tuple(missing),
            )
        )
    return checks


def format_checks(checks: Sequence[GoalCheck]) -> str:
    if not checks:
        return ""
    rows = [("goal", "hazards", "target /h", "achieved /h", "result")]
    for c in checks:
        result = "PASS" if c.passed else ("NO TREE: " + ", ".join(c.missing) if c.missing else "FAIL")
        rows.append((c.goal, ", ".join(c.hazards) or "-", f"{c.target_per_hour:.3g}", f"{c.achieved_per_hour:.3g}",
                     result))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["Safety goal targets", "==================="]
    for j, r in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"
