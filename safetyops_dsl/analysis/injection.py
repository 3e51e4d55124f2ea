"""Fault-injection campaigns: the safety mechanisms of the model, tested, and their coverage measured.

The campaign has one case per (mechanism or monitor, failure mode it covers, component instance). Its id is
`<instance path>.<failure mode>/<mechanism>` (`AEB.ecu.CanTxLoss/Watchdog`): readable, and stable as long as
those names are. The expected reaction of a case comes from the fault trees: the goals the mode threatens are
the goals mitigating a hazard with a minimal cut set that holds the mode; the mechanism must detect the fault
within the shortest FTTI of those goals and bring the item into their safe states. A case plans the fewest
injections that, all detected, demonstrate the claimed coverage at the campaign's confidence.

Measurement (per mechanism of a component type, over all its cases): detected / injected, where a case's
detections count only when its (worst-case) detection time is within the case's FTTI: a detection slower than
the FTTI is no detection. The one-sided Clopper-Pearson lower bound (safetyops_dsl/binomial.py) must reach the
claimed coverage for the claim to be supported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from safetyops_dsl import diagnostics as dg
from safetyops_dsl import schemas
from safetyops_dsl.analysis.fmea import instance_modes
from safetyops_dsl.analysis.synthesis import SynthesisResult
from safetyops_dsl.binomial import clopper_pearson_lower, zero_miss_sample_size
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.links import links
from safetyops_dsl.model.semantics import goal_asil

CAMPAIGN_SCHEMA = schemas.tag("sops-injection-campaign")
DEFAULT_CONFIDENCE = 0.95
RELIED_ON_ASILS = ("B", "C", "D")  # the gate asks for measured coverage of mechanisms these goals rely on


@dataclass(frozen=True)
class Threat:
    """A safety goal a failure mode threatens."""

    goal: str
    asil: str | None
    ftti_seconds: float | None
    safe_state: str


@dataclass(frozen=True)
class InjectionCase:
    case_id: str
    instance: str
    component: str
    failure_mode: str
    mechanism: str  # `<component>.<mechanism>`: the claim the case measures
    mechanism_kind: str  # mechanism | monitor
    claimed_coverage: float
    hazards: tuple[str, ...]
    goals: tuple[Threat, ...]
    detect_within_seconds: float | None  # the shortest FTTI of the goals; None: no goal gives one
    safe_states: tuple[str, ...]
    injections: int | None  # planned; None: a 100 % claim, which no finite campaign demonstrates
    location: Location = field(default_factory=lambda: Location(""))  # the mechanism's line

    @property
    def relied_on(self) -> bool:
        return any(t.asil in RELIED_ON_ASILS for t in self.goals)


@dataclass(frozen=True)
class Campaign:
    confidence: float
    cases: tuple[InjectionCase, ...]

    def by_id(self) -> dict[str, InjectionCase]:
        return {c.case_id: c for c in self.cases}


def _threats(model: Model, results: Sequence[SynthesisResult],
             cut_sets: dict[str, tuple[tuple[str, ...], ...]]) -> dict[str, tuple[set[str], set[str]]]:
    """event -> (hazard names, goal qualified names) whose cut sets hold it."""
    lk = links(model)
    out: dict[str, tuple[set[str], set[str]]] = {}
    for r in results:
        goals = set(lk.goals_of_hazard.get(r.hazard.qualified_name, ()))
        for cs in cut_sets.get(r.hazard.name, ()):
            for e in cs:
                hz, gs = out.setdefault(e, (set(), set()))
                hz.add(r.hazard.name)
                gs |= goals
    return out


def build_campaign(model: Model, results: Sequence[SynthesisResult],
                   cut_sets: dict[str, tuple[tuple[str, ...], ...]],
                   confidence: float = DEFAULT_CONFIDENCE) -> Campaign:
    threats = _threats(model, results, cut_sets)
    cases: dict[str, InjectionCase] = {}
    for ref in instance_modes(model):
        comp = ref.instance.component
        hazards, goal_names = threats.get(ref.event, (set(), set()))
        goals = []
        for q in sorted(goal_names):
            g = model.goals[q]
            goals.append(Threat(g.name, goal_asil(model, g), g.ftti_seconds, g.safe_state))
        fttis = [t.ftti_seconds for t in goals if t.ftti_seconds is not None]
        states = tuple(sorted({t.safe_state for t in goals if t.safe_state}))
        for m in comp.covering(ref.mode.name):
            case_id = f"{ref.event}/{m.name}"
            cases.setdefault(case_id, InjectionCase(
                case_id=case_id, instance=ref.instance.path, component=comp.name, failure_mode=ref.mode.name,
                mechanism=f"{comp.name}.{m.name}", mechanism_kind=m.kind, claimed_coverage=m.coverage,
                hazards=tuple(sorted(hazards)), goals=tuple(goals),
                detect_within_seconds=min(fttis) if fttis else None, safe_states=states,
                injections=zero_miss_sample_size(m.coverage, confidence), location=m.location,
            ))
    return Campaign(confidence, tuple(cases[k] for k in sorted(cases)))


# -- results and measurement -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    """One case as a test bench reported it."""

    case_id: str
    status: str  # passed | failed | skipped
    injected: int
    detected: int
    detection_time_seconds: float | None  # the slowest detection of the case
    file: str
    line: int = 0
    col: int = 0


class Verdict(StrEnum):
    SUPPORTED = "supported"
    NOT_SUPPORTED = "not supported"
    INCOMPLETE = "incomplete"  # some of the mechanism's cases have no result
    NO_RESULTS = "no results"


@dataclass(frozen=True)
class MeasuredCoverage:
    mechanism: str  # `<component>.<mechanism>`
    claimed: float
    cases: int
    reported: int  # cases with a result (not skipped)
    injected: int
    detected: int  # in time
    late: int  # detections slower than the FTTI (counted as missed)
    measured: float | None  # detected / injected
    lower_bound: float | None  # one-sided Clopper-Pearson at `confidence`
    confidence: float
    verdict: Verdict
    relied_on: bool  # an ASIL B+ goal relies on it

    def text(self) -> str:
        if self.measured is None or self.lower_bound is None:
            return f"{self.mechanism}: {self.verdict.value}"
        return (f"{self.mechanism}: measured {_pct(self.measured)} % ({self.detected}/{self.injected}), "
                f">= {_pct(floor_bound(self.lower_bound))} % at {_pct(self.confidence)} %, claim {_pct(self.claimed)} %: "
                f"{self.verdict.value}")


def floor_bound(x: float) -> float:
    """A lower bound as shown (hundredths of a percent): rounded down, so that it stays a lower bound."""
    return math.floor(x * 1e4 + 1e-9) / 1e4


def _pct(x: float) -> str:
    return f"{x * 100:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class InjectionReport:
    campaign: Campaign
    results: tuple[CaseResult, ...]
    measurements: tuple[MeasuredCoverage, ...]
    files: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    digests: dict[str, str] = field(default_factory=dict)  # result file -> sha256 of the bytes read

    @property
    def ok(self) -> bool:
        return not dg.has_errors(list(self.diagnostics))

    def measurement(self, mechanism: str) -> MeasuredCoverage | None:
        return next((m for m in self.measurements if m.mechanism == mechanism), None)


def counted(case: InjectionCase, result: CaseResult) -> tuple[int, int]:
    """(detected in time, late) of one case's result."""
    limit = case.detect_within_seconds
    t = result.detection_time_seconds
    # durations are written in ms, s...: "100 ms" is 0.09999999999999999 s, so compare to 1e-9 relative
    if result.detected and limit is not None and t is not None and t > limit * (1 + 1e-9):
        return 0, result.detected
    return result.detected, 0


def measure(campaign: Campaign, results: Sequence[CaseResult], files: Sequence[str] = (),
            diagnostics: Sequence[Diagnostic] = (), digests: dict[str, str] | None = None) -> InjectionReport:
    by_case = {r.case_id: r for r in results if r.status != "skipped"}
    groups: dict[str, list[InjectionCase]] = {}
    for c in campaign.cases:
        groups.setdefault(c.mechanism, []).append(c)
    out: list[MeasuredCoverage] = []
    for mech, cases in sorted(groups.items()):
        injected = detected = late = reported = 0
        for c in cases:
            r = by_case.get(c.case_id)
            if r is None:
                continue
            reported += 1
            injected += r.injected
            d, lt = counted(c, r)
            detected += d
            late += lt
        claim = cases[0].claimed_coverage
        measured = detected / injected if injected else None
        bound = clopper_pearson_lower(detected, injected, campaign.confidence) if injected else None
        if reported == 0 or bound is None:
            verdict = Verdict.NO_RESULTS
        elif reported < len(cases):
            verdict = Verdict.INCOMPLETE
        elif bound >= claim:
            verdict = Verdict.SUPPORTED
        else:
            verdict = Verdict.NOT_SUPPORTED
        out.append(MeasuredCoverage(mech, claim, len(cases), reported, injected, detected, late, measured, bound,
                                    campaign.confidence, verdict, any(c.relied_on for c in cases)))
    return InjectionReport(campaign, tuple(sorted(results, key=lambda r: r.case_id)), tuple(out), tuple(files),
                           tuple(dg.sort_unique(list(diagnostics))), dict(digests or {}))


def claim_diagnostics(model: Model, report: InjectionReport) -> list[Diagnostic]:
    """SOPS233/SOPS234 at the mechanism's line, for each claim the measurement does not support."""
    first: dict[str, InjectionCase] = {}
    for c in report.campaign.cases:
        first.setdefault(c.mechanism, c)
    out = []
    for m in report.measurements:
        case = first[m.mechanism]
        if m.verdict is Verdict.NO_RESULTS:
            if m.relied_on:
                out.append(dg.make(dg.INJECTION_NO_RESULTS,
                                   f"mechanism '{m.mechanism}' has no fault-injection results; an ASIL B+ goal "
                                   "relies on it", case.location,
                                   "run its cases (sops inject) and pass the results with --campaign-results"))
        elif m.verdict is not Verdict.SUPPORTED:
            out.append(dg.make(dg.INJECTION_CLAIM_UNSUPPORTED, f"claimed coverage of '{m.mechanism}' is not "
                               f"supported by the campaign: {m.text().partition(': ')[2]}"
                               + (f" ({m.reported} of {m.cases} cases reported)" if m.verdict is Verdict.INCOMPLETE
                                  else "") + (f"; {m.late} detection(s) not counted: a case's slowest detection exceeded its FTTI" if m.late
                                  else ""),
                               case.location,
                               "lower the claim, improve the mechanism, or inject more faults"))
    return out
