"""FMEDA per safety goal (ISO 26262-5 clause 8 and 9, Annex C): fault classes, SPFM, LFM and PMHF.

Hardware failure modes: `failure` lines (not `trigger`) with a rate, of components that are not ML
components and not marked `systematic`. An ML component's errors are systematic (they come from data and
training, not from random hardware faults); so are `failure`s marked `systematic` (e.g. software faults);
triggers are SOTIF triggering conditions; modes given only as a probability have no rate to put into FIT sums.
All are listed as "not counted" with the reason, never silently dropped. The fault trees keep them all as
basic events.

Hardware cut sets of a goal: each minimal cut set of the goal's hazards, reduced to its hardware events
(non-hardware events — ML errors, systematic faults, triggering conditions, undeveloped boundary inputs — are
treated as present, which is the conservative reading); cut sets without a hardware event are set aside.
Identical reduced sets are counted once; no further minimisation (a fault that matters only under another
condition is still counted as multiple-point, not as safe).

Classification of a hardware mode with rate lambda, safe fraction s and lambda' = lambda (1 - s):
- safe: the mode is in no hardware cut set of the goal, but its element (component instance) has another mode
  that is: lambda_S = lambda. Elements with no mode in any cut set are not safety-related for the goal and do
  not enter the sums at all (counting them would inflate the metrics).
- the mode alone is a hardware cut set (order 1): without a covering mechanism single-point,
  lambda_SPF = lambda'; with mechanisms of combined coverage DC residual, lambda_RF = lambda' (1 - DC), and the
  covered part lambda' DC is multiple-point detected.
- only in hardware cut sets of order >= 2: multiple-point; latent part lambda_MPF,L = lambda' (1 - DC_L), the
  rest detected. DC_L is the combined latent coverage (a mechanism's `latent coverage`, its coverage where
  none is given), 0 without a mechanism.
- the safe fraction lambda s is always safe.

Metrics (ISO 26262-5 C.2, C.3, 9.4.2):
  SPFM = 1 - sum(lambda_SPF + lambda_RF) / sum(lambda)
  LFM  = 1 - sum(lambda_MPF,L) / (sum(lambda) - sum(lambda_SPF) - sum(lambda_RF))
  PMHF = sum(lambda_SPF + lambda_RF) + sum over hardware cut sets C of order >= 2 of prod_{e in C} p_e / T
where p_e is the event's probability in the fault tree (1 - exp(-lambda_e,residual t_e): residual rate after
safe fraction and coverage over its exposure or the mission time) and T the hazard's mission time. The second
term is the rare-event approximation of the dual-point (and higher) contribution per hour. A cut set common
to several hazards of the goal is counted once; summing the hazards' contributions errs on the safe side.
Targets: iso26262.HARDWARE_TARGETS for the goal's ASIL (B to D); ASIL A and QM have none ("n/a").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from safetyops_dsl.analysis.fmea import (
    Coverage,
    ModeRef,
    combined,
    instance_modes,
    mechanisms_for,
    structural_cut_sets,
)
from safetyops_dsl.analysis.injection import MeasuredCoverage
from safetyops_dsl.analysis.synthesis import SynthesisResult, synthesise_all
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.iso26262 import HARDWARE_TARGETS
from safetyops_dsl.model.links import links
from safetyops_dsl.model.semantics import goal_asil


class FaultClass(StrEnum):
    SAFE = "safe"
    SINGLE_POINT = "single-point"
    RESIDUAL = "residual"
    MULTIPLE_POINT = "multiple-point"


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NA = "n/a"


@dataclass(frozen=True)
class FmedaRow:
    event: str  # `<instance path>.<failure mode>`
    instance: str
    component: str
    failure_mode: str
    fault_class: FaultClass
    hazards: tuple[str, ...]  # hazards with a hardware cut set holding the mode
    partners: tuple[tuple[str, ...], ...]  # multiple-point: per hardware cut set, the other events in it
    rate_per_hour: float  # lambda
    safe_fraction: float
    mechanisms: tuple[Coverage, ...]
    coverage: float  # combined DC (single-point / residual)
    latent_coverage: float  # combined DC_L
    lambda_safe: float
    lambda_spf: float
    lambda_rf: float
    lambda_mpf_detected: float
    lambda_mpf_latent: float
    # with fault-injection results: the measurement of each mechanism, in the order of `mechanisms`
    measured: tuple[MeasuredCoverage, ...] = ()


@dataclass(frozen=True)
class NotCounted:
    """A failure mode on the goal's paths that is not a random hardware fault (or has no rate)."""

    event: str
    component: str
    failure_mode: str
    kind: str
    quantity: str
    reason: str
    hazards: tuple[str, ...]
    single_point: bool  # alone a minimal cut set of one of the hazards


@dataclass(frozen=True)
class MetricResult:
    name: str  # SPFM | LFM | PMHF
    value: float | None  # fraction for SPFM/LFM, per hour for PMHF; None where undefined
    target: float | None
    comparison: str  # ">=" for SPFM/LFM, "<" for PMHF
    status: Status


@dataclass(frozen=True)
class GoalFmeda:
    goal: str
    title: str
    asil: str | None
    hazards: tuple[str, ...]  # analysed (with a fault tree)
    missing_hazards: tuple[str, ...]  # mitigated but without a fault tree
    mission_time_hours: float | None  # T of the first analysed hazard (the PMHF divides by each tree's own)
    rows: tuple[FmedaRow, ...]
    not_counted: tuple[NotCounted, ...]
    total: float
    safe: float
    spf: float
    rf: float
    mpf_detected: float
    mpf_latent: float
    pmhf_dual: float  # the order >= 2 term of the PMHF, per hour
    metrics: tuple[MetricResult, ...]

    @property
    def passed(self) -> bool:
        return all(m.status is not Status.FAIL for m in self.metrics)

    def metric(self, name: str) -> MetricResult:
        return next(m for m in self.metrics if m.name == name)


@dataclass(frozen=True)
class FmedaReport:
    goals: tuple[GoalFmeda, ...]
    measurements: tuple[MeasuredCoverage, ...] = ()  # per mechanism, with fault-injection results

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.goals)


def not_counted_reason(ref: ModeRef) -> str | None:
    """Why a failure mode is no random hardware fault for the metrics, or None where it is one."""
    if ref.mode.kind != "failure":
        return "triggering condition (SOTIF), not a fault"
    if ref.instance.component.kind is el.ComponentKind.ML_COMPONENT:
        return "ML component: model errors are systematic, not random hardware faults"
    if ref.mode.systematic:
        return "systematic fault (e.g. software): not a random hardware failure"
    if ref.mode.rate_per_hour is None:
        return "given as a probability, no failure rate for the FIT metrics"
    return None


def _metric(name: str, value: float | None, target: float | None, comparison: str) -> MetricResult:
    if target is None or value is None:
        return MetricResult(name, value, target, comparison, Status.NA)
    ok = value >= target if comparison == ">=" else value < target
    return MetricResult(name, value, target, comparison, Status.PASS if ok else Status.FAIL)


def _goal_hazards(model: Model, goal: el.SafetyGoal) -> list[str]:
    names: list[str] = []
    for hq in links(model).hazards_of_goal[goal.qualified_name]:
        name = model.hazards[hq].name
        if name not in names:
            names.append(name)
    return names


def classify_goal(
    model: Model,
    goal: el.SafetyGoal,
    results: Sequence[SynthesisResult],
    cut_sets: dict[str, tuple[tuple[str, ...], ...]],
    modes: Sequence[ModeRef],
    measurements: Sequence[MeasuredCoverage] = (),
) -> GoalFmeda:

    by_event = {m.event: m for m in modes}
    hardware = {e for e, m in by_event.items() if not_counted_reason(m) is None}
    trees = {r.hazard.name: r for r in results}
    wanted = _goal_hazards(model, goal)
    analysed = [h for h in wanted if h in trees and h in cut_sets]
    missing = [h for h in wanted if h not in analysed]

    # hardware cut sets, each with the first hazard it came from (for its mission time and probabilities)
    hw_sets: dict[frozenset[str], str] = {}
    hazards_of: dict[str, set[str]] = {}
    all_events_of: dict[str, set[str]] = {}  # every event (hardware or not) -> hazards it appears in
    single_any: set[str] = set()
    for hz in analysed:
        for cs in cut_sets[hz]:
            for e in cs:
                all_events_of.setdefault(e, set()).add(hz)
            if len(cs) == 1:
                single_any.add(cs[0])
            reduced = frozenset(e for e in cs if e in hardware)
            if not reduced:
                continue
            hw_sets.setdefault(reduced, hz)
            for e in reduced:
                hazards_of.setdefault(e, set()).add(hz)
    order1 = {next(iter(s)) for s in hw_sets if len(s) == 1}
    partners: dict[str, set[tuple[str, ...]]] = {}
    for hw_set in hw_sets:
        if len(hw_set) >= 2:
            for e in hw_set:
                partners.setdefault(e, set()).add(tuple(sorted(hw_set - {e})))
    related_elements = {by_event[e].instance.path for e in hazards_of}
    measured = {m.mechanism: m for m in measurements}

    rows: list[FmedaRow] = []
    for ref in modes:
        if ref.event not in hardware or ref.instance.path not in related_elements:
            continue
        fm = ref.mode
        assert fm.rate_per_hour is not None
        lam = fm.rate_per_hour
        s = fm.safe_fraction or 0.0
        lam_ns = lam * (1.0 - s)
        mechs = mechanisms_for(ref.instance.component, fm)
        dc = combined(m.coverage for m in mechs)
        dc_l = combined(m.latent_coverage for m in mechs)
        safe = spf = rf = mpf_d = mpf_l = 0.0
        if ref.event in order1:
            if mechs:
                cls = FaultClass.RESIDUAL
                rf = lam_ns * (1.0 - dc)
                mpf_d = lam_ns * dc
            else:
                cls = FaultClass.SINGLE_POINT
                spf = lam_ns
            safe = lam * s
        elif ref.event in hazards_of:
            cls = FaultClass.MULTIPLE_POINT
            mpf_l = lam_ns * (1.0 - dc_l)
            mpf_d = lam_ns * dc_l
            safe = lam * s
        else:
            cls = FaultClass.SAFE
            safe = lam
        rows.append(
            FmedaRow(
                event=ref.event,
                instance=ref.instance.path,
                component=ref.instance.component.name,
                failure_mode=fm.name,
                fault_class=cls,
                hazards=tuple(sorted(hazards_of.get(ref.event, ()))),
                partners=tuple(sorted(partners.get(ref.event, ()))) if cls is FaultClass.MULTIPLE_POINT else (),
                rate_per_hour=lam,
                safe_fraction=s,
                mechanisms=mechs,
                coverage=dc,
                latent_coverage=dc_l,
                lambda_safe=safe,
                lambda_spf=spf,
                lambda_rf=rf,
                lambda_mpf_detected=mpf_d,
                lambda_mpf_latent=mpf_l,
                measured=tuple(measured[k] for k in (f"{ref.instance.component.name}.{m.name}" for m in mechs)
                               if k in measured),
            )
        )

    not_counted: list[NotCounted] = []
    for ref in modes:
        reason = not_counted_reason(ref)
        if reason is None or ref.event not in all_events_of:
            continue
        not_counted.append(
            NotCounted(
                event=ref.event,
                component=ref.instance.component.name,
                failure_mode=ref.mode.name,
                kind=ref.mode.kind,
                quantity=ref.mode.quantity_text,
                reason=reason,
                hazards=tuple(sorted(all_events_of[ref.event])),
                single_point=ref.event in single_any,
            )
        )

    total = sum(r.rate_per_hour for r in rows)
    sum_safe = sum(r.lambda_safe for r in rows)
    sum_spf = sum(r.lambda_spf for r in rows)
    sum_rf = sum(r.lambda_rf for r in rows)
    sum_mpf_d = sum(r.lambda_mpf_detected for r in rows)
    sum_mpf_l = sum(r.lambda_mpf_latent for r in rows)

    dual = 0.0
    for s_set, hz in sorted(hw_sets.items(), key=lambda kv: (sorted(kv[0]), kv[1])):
        if len(s_set) < 2:
            continue
        tree = trees[hz].structure
        p = 1.0
        for e in s_set:
            p *= tree.basic_events[e].probability
        t = tree.mission_time or 0.0
        dual += p / t if t > 0 else p

    asil = goal_asil(model, goal)
    targets = HARDWARE_TARGETS[asil or "QM"]
    spfm = 1.0 - (sum_spf + sum_rf) / total if total > 0 else None
    lfm_den = total - sum_spf - sum_rf
    lfm = 1.0 - sum_mpf_l / lfm_den if lfm_den > 0 else None
    pmhf = sum_spf + sum_rf + dual if analysed else None
    metrics = (
        _metric("SPFM", spfm, targets.spfm, ">="),
        _metric("LFM", lfm, targets.lfm, ">="),
        _metric("PMHF", pmhf, targets.pmhf_per_hour, "<"),
    )
    return GoalFmeda(
        goal=goal.name,
        title=goal.title,
        asil=asil,
        hazards=tuple(analysed),
        missing_hazards=tuple(missing),
        mission_time_hours=trees[analysed[0]].structure.mission_time if analysed else None,
        rows=tuple(rows),
        not_counted=tuple(not_counted),
        total=total,
        safe=sum_safe,
        spf=sum_spf,
        rf=sum_rf,
        mpf_detected=sum_mpf_d,
        mpf_latent=sum_mpf_l,
        pmhf_dual=dual,
        metrics=metrics,
    )


def build_fmeda(model: Model, results: Sequence[SynthesisResult] | None = None,
                cut_sets: dict[str, tuple[tuple[str, ...], ...]] | None = None,
                measurements: Sequence[MeasuredCoverage] = ()) -> FmedaReport:
    """The FMEDA of every safety goal of `model`, ordered by qualified goal name; `measurements` (from a
    fault-injection campaign) are shown beside each claimed coverage."""
    if results is None:
        results = synthesise_all(model)
    if cut_sets is None:
        cut_sets = structural_cut_sets(results)
    modes = instance_modes(model)
    return FmedaReport(
        tuple(classify_goal(model, goal, results, cut_sets, modes, measurements)
              for _, goal in sorted(model.goals.items())),
        tuple(measurements),
    )
