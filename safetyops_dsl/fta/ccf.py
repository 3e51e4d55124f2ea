"""Common-cause failure (CCF) groups: the four parametric models of the Open-PSA MEF, expanded into plain
fault-tree logic before the engine sees the tree.

A group has n members, basic events with one total failure probability Q_t each. Its model splits Q_t into
Q_k, the probability of one specific combination of k members failing together from one cause (k = 1 is the
member's independent failure). Expansion replaces each member X by an OR gate named X over its independent
event `[X]` and one event per combination of 2..m members that contains X (`[X Y]`, `[X Y Z]`, ...; members in
group order), where m is the highest factor level given. CCF event names cannot clash with model or MEF names
(neither allows brackets or spaces).

With C(a, b) the binomial coefficient and factors indexed by level (as SCRAM 0.16 computes them):
- beta-factor, one factor beta:      Q_1 = (1 - beta) Q_t, Q_n = beta Q_t, nothing in between;
- MGL, factors rho_2..rho_m:         Q_k = rho_1 ... rho_k (1 - rho_{k+1}) Q_t / C(n-1, k-1), rho_1 = 1, rho_{m+1} = 0;
- alpha-factor, alpha_1..alpha_m:    Q_k = k / C(n-1, k-1) * alpha_k / alpha_t * Q_t, alpha_t = sum k alpha_k
                                     (non-staggered testing);
- phi-factor, phi_1..phi_m:          Q_k = phi_k Q_t, the phi summing to 1.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, MefExpr, Origin


class CcfModel(str, Enum):
    BETA = "beta-factor"
    MGL = "MGL"
    ALPHA = "alpha-factor"
    PHI = "phi-factor"


class CcfError(ValueError):
    """A group the model cannot quantify (the message names the group and what is wrong).

    `part` says which part of the group's definition is at fault, for a reader that can point at it:
    "members", "distribution", "factors" (the factor set as a whole) or "factor" (the one of `level`)."""

    def __init__(self, message: str, *, part: str = "", level: int | None = None) -> None:
        super().__init__(message)
        self.part = part
        self.level = level


@dataclass(frozen=True, slots=True)
class CcfGroup:
    name: str
    model: CcfModel
    members: tuple[str, ...]  # basic-event names, in the group's order
    probability: float  # Q_t, each member's total failure probability
    factors: Mapping[int, float]  # level -> factor
    label: str = ""
    origin: Origin | None = None

    def min_level(self) -> int:
        return first_level(self.model, len(self.members))


def first_level(model: CcfModel, members: int) -> int:
    """The first factor level a model takes (SCRAM: beta n, MGL 2, alpha and phi 1)."""
    return {CcfModel.BETA: members, CcfModel.MGL: 2}.get(model, 1)


PHI_SUM_TOLERANCE = 1e-4


def validate(group: CcfGroup) -> None:
    """Raise CcfError unless the group can be quantified (the same rules as SCRAM 0.16)."""
    n, name = len(group.members), group.name
    if n < 2:
        raise CcfError(f"CCF group '{name}' needs at least two members", part="members")
    if len(set(group.members)) != n:
        raise CcfError(f"CCF group '{name}' lists a member twice", part="members")
    if not 0.0 <= group.probability <= 1.0:
        raise CcfError(f"CCF group '{name}': the member probability {group.probability:g} is not in [0, 1]",
                       part="distribution")
    if not group.factors:
        raise CcfError(f"CCF group '{name}' has no factors", part="factors")
    if group.model is CcfModel.BETA and len(group.factors) != 1:
        raise CcfError(f"CCF group '{name}': a beta-factor model takes exactly one factor", part="factors")
    low = group.min_level()
    for level, value in group.factors.items():
        if level < low:
            raise CcfError(f"CCF group '{name}': factor level {level} is below the {group.model.value} model's "
                           f"first level {low}", part="factor", level=level)
        if level > n:
            raise CcfError(f"CCF group '{name}': factor level {level} is more than its {n} members",
                           part="factor", level=level)
        if not 0.0 <= value <= 1.0:
            raise CcfError(f"CCF group '{name}': factor {value:g} (level {level}) is not a fraction in [0, 1]",
                           part="factor", level=level)
    missing = sorted(set(range(low, max(group.factors) + 1)) - set(group.factors))
    if missing:
        levels = "level" + ("s" if len(missing) > 1 else "")
        raise CcfError(f"CCF group '{name}': no factor for {levels} {', '.join(map(str, missing))}", part="factors")
    if group.model is CcfModel.PHI and abs(sum(group.factors.values()) - 1.0) > PHI_SUM_TOLERANCE:
        raise CcfError(f"CCF group '{name}': phi factors sum to {sum(group.factors.values()):g}, not 1",
                       part="factors")
    if group.model is CcfModel.ALPHA and not any(group.factors.values()):
        raise CcfError(f"CCF group '{name}': alpha factors are all zero", part="factors")


def multiplicity_probabilities(group: CcfGroup) -> dict[int, float]:
    """k -> Q_k for k = 1..m (m: the highest level the model defines events for). Validates first."""
    validate(group)
    n, qt, f = len(group.members), group.probability, group.factors
    top = max(f)
    if group.model is CcfModel.BETA:
        beta = next(iter(f.values()))
        return {1: (1.0 - beta) * qt, n: beta * qt}
    if group.model is CcfModel.MGL:
        rho = {1: 1.0, **f}
        out: dict[int, float] = {}
        for k in range(1, top + 1):
            prod = math.prod(rho[i] for i in range(1, k + 1))
            out[k] = prod * (1.0 - rho.get(k + 1, 0.0)) * qt / math.comb(n - 1, k - 1)
        return out
    if group.model is CcfModel.ALPHA:
        alpha_t = sum(k * a for k, a in f.items())
        return {k: k / math.comb(n - 1, k - 1) * f[k] / alpha_t * qt for k in range(1, top + 1)}
    return {k: f[k] * qt for k in range(1, top + 1)}


def event_name(members: Sequence[str]) -> str:
    return "[" + " ".join(members) + "]"


def event_members(name: str) -> tuple[str, ...]:
    """The member basic events a CCF event stands for (`[A B]` -> A, B); any other event stands for itself."""
    if name.startswith("[") and name.endswith("]"):
        return tuple(name[1:-1].split(" "))
    return (name,)


def expand(tree: FaultTree, groups: Sequence[CcfGroup]) -> FaultTree:
    """The tree with every group's members replaced by OR gates over their CCF events (see the module doc).
    A member the tree does not use needs no basic event in it; the new gates and events that the top does not
    reach are left out, so a group none of whose members is used changes nothing. Raises CcfError for an
    invalid group, a member that names a gate or house event of the tree, or a basic event in two groups."""
    if not groups:
        return tree
    gates: dict[str, Gate] = dict(tree.gates)
    events: dict[str, BasicEvent] = {}
    owner: dict[str, str] = {}
    for group in groups:
        q = multiplicity_probabilities(group)
        for m in group.members:
            if m in owner:
                raise CcfError(f"basic event '{m}' is a member of CCF groups '{owner[m]}' and '{group.name}'")
            owner[m] = group.name
            if m in tree.gates or m in tree.house_events:
                raise CcfError(f"CCF group '{group.name}': member '{m}' is not a basic event")
        inputs: dict[str, list[str]] = {m: [] for m in group.members}
        n = len(group.members)
        where = f"(CCF group {group.name}, {group.model.value})"
        # members share one time model (the model check makes them equal): each CCF event is its share of it
        first = next((e for m in group.members if (e := tree.basic_events.get(m)) is not None), None)
        base = first.timing if first is not None else None
        base_expr = first.expression if first is not None else None
        for k in sorted(q):
            # The name lists the members; the label says what kind of event it is.
            what = ("independent failure" if k == 1 else
                    f"common-cause failure of all {n} members" if k == n else
                    f"common-cause failure of {k} of {n} members")
            for combo in itertools.combinations(group.members, k):
                name = event_name(combo)
                timing = (dataclasses.replace(base, scale=q[k] / group.probability)
                          if base is not None and group.probability > 0.0 else None)
                share = q[k] / group.probability if group.probability > 0.0 else 0.0
                expression = (MefExpr("mul", args=(base_expr, MefExpr("float", share)))
                              if base_expr is not None else None)
                events[name] = BasicEvent(name, q[k], label=f"{what} {where}", origin=group.origin, timing=timing,
                                          expression=expression)
                for m in combo:
                    inputs[m].append(name)
        for m in group.members:
            member = tree.basic_events.get(m)
            label = (member.label if member is not None and member.label else
                     f"independent or common-cause failure (CCF group {group.name})")
            gates[m] = Gate(m, GateKind.OR, tuple(inputs[m]), label=label,
                            origin=member.origin if member is not None else group.origin)
    used = _reachable(tree.top, gates)
    notes = list(tree.notes) + [describe(g) for g in groups if any(m in used for m in g.members)]
    new_gates = {n: g for n, g in gates.items() if n in tree.gates or (n in owner and n in used)}
    kept = {n: e for n, e in tree.basic_events.items() if n not in owner}
    kept.update((n, e) for n, e in events.items() if n in used)
    return FaultTree(tree.name, tree.top, new_gates, kept, tree.house_events, tree.label, tuple(notes),
                     tree.mission_time, tree.parameters)


def describe(group: CcfGroup) -> str:
    """One line for the reader of a report: the group, its model and factors, and what they give."""
    symbol = {CcfModel.BETA: "beta", CcfModel.MGL: "rho", CcfModel.ALPHA: "alpha", CcfModel.PHI: "phi"}[group.model]
    factors = ", ".join(f"{symbol}{'' if group.model is CcfModel.BETA else level} = {value:g}"
                        for level, value in sorted(group.factors.items()))
    q = multiplicity_probabilities(group)
    n = len(group.members)
    split = ", ".join(f"Q{k} = {v:.4g}" for k, v in sorted(q.items()))
    return (f"CCF group {group.name}, {group.model.value} model ({factors}): Q = {group.probability:.4g} per "
            f"member ({n} members), split into {split} (Qk: one given set of k members failing together)")


def _reachable(top: str, gates: Mapping[str, Gate]) -> set[str]:
    seen: set[str] = set()
    stack = [top]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            g = gates.get(name)
            if g is not None:
                stack.extend(g.inputs)
    return seen
