"""Standard profiles: what a package is analysed against (`standard NAME` at file level, ISO 26262 by default).

A profile says which hazard and safety-goal attributes it uses, what its classes are and how its integrity
level is derived; validation reports every attribute a profile does not use (SOPS142) and every class off its
scale (SOPS143), so a model never silently gets a zero. The tables themselves live one module per standard
(`iso26262` in model/iso26262.py, `iec61508`, `arp4761a`, `iso14971` here), each tagged with its edition and
sources; docs/profiles/ explains them.
"""

from __future__ import annotations

from dataclasses import dataclass

from safetyops_dsl.model.profiles import arp4761a


@dataclass(frozen=True)
class Profile:
    name: str  # as written after `standard`
    title: str  # as shown in reports
    edition: str
    integrity: str  # the integrity level's name: ASIL | SIL | FDAL | risk
    hazard_word: str  # what the standard calls a hazard row
    goal_word: str  # ... and a safety goal
    hazard_attributes: frozenset[str]  # hazard keywords the profile uses
    goal_attributes: frozenset[str]  # safety-goal keywords the profile uses
    requirement_asil: bool  # requirements may carry `asil`
    scales: tuple[tuple[str, tuple[str, ...]], ...]  # attribute -> allowed values ("" tuple: the model's scale)
    component_route_1h: bool  # components may carry element_type / systematic_capability


# a SOTIF acceptance criterion (ISO 21448) holds for an ML contribution under any of the standards
_COMMON_HAZARD = frozenset({"situation", "when", "system", "mission_time", "acceptance", "Text"})
_COMMON_GOAL = frozenset({"safe_state", "ftti", "target", "Text"})

ISO26262 = Profile(
    "iso26262", "ISO 26262", "ISO 26262:2018", "ASIL", "hazard", "safety goal",
    _COMMON_HAZARD | {"severity", "exposure", "controllability", "asil"}, _COMMON_GOAL | {"asil"}, True,
    (("severity", ("S0", "S1", "S2", "S3")), ("exposure", ("E0", "E1", "E2", "E3", "E4")),
     ("controllability", ("C0", "C1", "C2", "C3"))), False,
)
_IEC_HAZARD = _COMMON_HAZARD | {"lopa", "risk_graph"}
_IEC_GOAL = _COMMON_GOAL | {"demand", "sil"}
IEC61508 = Profile(
    "iec61508", "IEC 61508", "IEC 61508:2010 (ed. 2)", "SIL", "hazard", "safety function",
    _IEC_HAZARD, _IEC_GOAL, False, (), True,
)
IEC61511 = Profile(
    "iec61511", "IEC 61511", "IEC 61511:2016 (ed. 2)", "SIL", "hazard", "safety instrumented function",
    _IEC_HAZARD, _IEC_GOAL, False, (), True,
)
ARP4761A = Profile(
    "arp4761a", "ARP4761A / ARP4754B", "ARP4761A:2023, ARP4754B:2023, AC 25.1309-1B / AMC 25.1309",
    "FDAL", "failure condition", "safety requirement",
    _COMMON_HAZARD | {"severity", "phase", "function"}, _COMMON_GOAL, False,
    (("severity", arp4761a.CLASSES),), False,
)
ISO14971 = Profile(
    "iso14971", "ISO 14971", "ISO 14971:2019", "risk", "hazardous situation", "risk control",
    _COMMON_HAZARD | {"severity", "probability", "residual"}, _COMMON_GOAL, False,
    (("severity", ()), ("probability", ())), False,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (ISO26262, IEC61508, IEC61511, ARP4761A, ISO14971)}


def profile(name: str) -> Profile:
    """The profile of a declared standard; unknown names (reported by validation, SOPS140) read as ISO 26262."""
    return PROFILES.get(name, ISO26262)


def owner_of_class(attribute: str, value: str) -> Profile | None:
    """The profile whose fixed scale has `value` for `attribute` (for a hint), if any."""
    for p in PROFILES.values():
        for attr, values in p.scales:
            if attr == attribute and value in values:
                return p
    return None


def users_of(keyword: str, where: str) -> list[Profile]:
    """The profiles that use a hazard (`where` = "hazard"), safety-goal or component attribute."""
    if where == "component":
        return [p for p in PROFILES.values() if p.component_route_1h]
    return [p for p in PROFILES.values()
            if keyword in (p.hazard_attributes if where == "hazard" else p.goal_attributes)]
