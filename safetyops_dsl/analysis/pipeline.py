"""One pipeline: every analysis of a checked model, computed once, for every command that needs them.

`analyse(model, options)` returns `Results`: fault trees (synthesis, engine result, goal targets), FMEA,
FMEDA, HARA, the trace graph with its coverage, the GSN case and the gate items. `sops build`, `sops gate`
and `sops diff` (both sides) call it; so a result that a command shows is the result the diff compares.

Inputs beyond the model (CI results, a policy file) are read by the caller and passed in `Options`: this
module reads no file of its own but the result files named there.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, TypeVar

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.analysis import gsn
from safetyops_dsl.analysis.coverage import Coverage, evaluate
from safetyops_dsl.analysis.demand import DemandRow, build_demand
from safetyops_dsl.analysis.evidence import OpsResults, read_results, test_sources, with_ops
from safetyops_dsl.analysis.evidence import Results as CiResults
from safetyops_dsl.analysis.fmea import FmeaTable, build_fmea, structural_cut_sets
from safetyops_dsl.analysis.fmeda import FmedaReport, build_fmeda
from safetyops_dsl.analysis.hara import HaraTable, build_hara
from safetyops_dsl.analysis.injection import (
    DEFAULT_CONFIDENCE,
    Campaign,
    InjectionReport,
    build_campaign,
    claim_diagnostics,
    measure,
)
from safetyops_dsl.analysis.injection_results import read_campaign_results
from safetyops_dsl.analysis.odd_coverage import OddCoverage, build_odd_coverage
from safetyops_dsl.analysis.profile_report import ProfileReport, build_profile_report, uses_profiles
from safetyops_dsl.analysis.sotif import SotifReport, build_sotif
from safetyops_dsl.analysis.synthesis import SynthesisResult, synthesise_all
from safetyops_dsl.analysis.targets import GoalCheck, check_goal_targets
from safetyops_dsl.analysis.trace import TraceGraph, build_trace
from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.fta.engine import analyse as analyse_tree
from safetyops_dsl.fta.result import AnalysisOptions, FtaResult
from safetyops_dsl.fta.tree import FaultTree
from safetyops_dsl.fta.uncertainty import SampleError, UncertaintyFigures, propagate
from safetyops_dsl.model.elements import PolicyRule
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.links import links
from safetyops_dsl.validation.policy import Policy, resolve_policy

T = TypeVar("T")


class Progress(Protocol):
    def phase(self, name: str) -> contextlib.AbstractContextManager[None]: ...

    def items(self, name: str, items: Sequence[T]) -> Iterable[T]: ...


class QuietProgress:
    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        yield

    def items(self, name: str, items: Sequence[T]) -> Iterable[T]:
        return items


@dataclass(frozen=True)
class Options:
    results: tuple[str, ...] = ()  # CI result files or folders (JUnit XML, metrics JSON)
    file_policy: tuple[PolicyRule, ...] = ()  # rules of a policy file, already checked by the caller
    use_git: bool = True  # evidence pinned to a commit is compared with the repository's HEAD
    check_stale: bool = True  # evidence artifacts are hashed against their pins
    with_gsn: bool = True
    importance: bool = True
    campaign_results: tuple[str, ...] = ()  # fault-injection results (JUnit XML or sops-injection-results JSON)
    confidence: float = DEFAULT_CONFIDENCE  # of the measured coverage's lower bound
    ops: OpsResults | None = None  # what the model registry (MLflow) answered, read by the caller
    uncertainty_trials: int = 0  # Monte Carlo trials per tree with uncertain events (0: none)
    uncertainty_seed: int = 1


class Results:
    """Every analysis of one model, each computed on first use and then kept: `sops fmea` asks for `.fmea`
    and pays for the synthesis and the FMEA only; `sops build` and `sops diff` ask for all of it."""

    def __init__(self, model: Model, options: Options | None = None, progress: Progress | None = None):
        self.model = model
        self.options = options or Options()
        self.progress = progress or QuietProgress()

    # -- fault trees ---------------------------------------------------------------------------------------------
    @cached_property
    def syntheses(self) -> list[SynthesisResult]:
        with self.progress.phase("synthesis"):
            return synthesise_all(self.model)

    @cached_property
    def trees(self) -> list[tuple[FaultTree, FtaResult]]:
        """Raises DiagnosticError where the engine refuses a tree (e.g. a resource limit)."""
        with self.progress.phase("fault trees"):
            return [(syn.tree, analyse_tree(syn.tree, AnalysisOptions(importance=self.options.importance)))
                    for syn in self.progress.items("fault trees", self.syntheses)]

    def probabilities(self) -> dict[str, tuple[float, float]]:
        """Hazard name -> (P(top), mission time): the exact probability where the engine has it."""
        return {t.name: (top_probability(r), t.mission_time or 1.0) for t, r in self.trees}

    @cached_property
    def demand(self) -> list[DemandRow]:
        """PFDavg and PFH per hazard (time averages over the mission on the BDD), with the simplified IEC
        61508-6 formulas beside them. Raises DiagnosticError where a tree's BDD is too large."""
        with self.progress.phase("demand"):
            return build_demand(self.syntheses)

    @cached_property
    def uncertainty(self) -> dict[str, UncertaintyFigures]:
        """Hazard name -> the Monte Carlo over its tree's distributions (P(top), and the PFDavg of a demand-mode
        tree), for trees with uncertain events; empty unless `options.uncertainty_trials`. Raises
        DiagnosticError on a distribution that cannot be sampled."""
        if not self.options.uncertainty_trials:
            return {}
        out: dict[str, UncertaintyFigures] = {}
        with self.progress.phase("uncertainty"):
            for syn in self.syntheses:
                try:
                    fig = propagate(syn.tree, self.options.uncertainty_trials, self.options.uncertainty_seed)
                except SampleError as exc:
                    raise dg.DiagnosticError([dg.make(dg.BAD_DISTRIBUTION, f"cannot sample the fault tree of "
                                                      f"'{syn.tree.name}': {exc}", syn.hazard.location)]) from exc
                if fig is not None:
                    out[syn.tree.name] = fig
        return out

    @cached_property
    def goal_checks(self) -> list[GoalCheck]:
        return check_goal_targets(self.model, self.probabilities())

    # -- tables --------------------------------------------------------------------------------------------------
    @cached_property
    def fmea(self) -> FmeaTable:
        with self.progress.phase("FMEA"):
            return build_fmea(self.model, self.syntheses)

    @cached_property
    def cut_sets(self) -> dict[str, tuple[tuple[str, ...], ...]]:
        """Hazard name -> every minimal cut set over failure modes (FMEDA and the injection campaign)."""
        return structural_cut_sets(self.syntheses)

    @cached_property
    def fmeda(self) -> FmedaReport:
        measurements = self.injection.measurements if self.injection is not None else ()
        with self.progress.phase("FMEDA"):
            return build_fmeda(self.model, self.syntheses, self.cut_sets, measurements)

    # -- fault injection -----------------------------------------------------------------------------------------
    @cached_property
    def campaign(self) -> Campaign:
        return build_campaign(self.model, self.syntheses, self.cut_sets, self.options.confidence)

    @cached_property
    def injection(self) -> InjectionReport | None:
        """The campaign measured against `options.campaign_results` (None without any)."""
        if not self.options.campaign_results:
            return None
        with self.progress.phase("fault injection"):
            read = read_campaign_results(self.options.campaign_results, self.campaign)
            report = measure(self.campaign, read.results, read.files, read.diagnostics)
            # claims are judged on readable results only: an unreadable file would make every claim "missing"
            judged = [] if dg.has_errors(read.diagnostics) else claim_diagnostics(self.model, report)
            return measure(self.campaign, read.results, read.files, read.diagnostics + judged, read.digests)

    @cached_property
    def hara(self) -> HaraTable:
        """The HARA; with the tables of the packages' standards where one is not ISO 26262 (profile)."""
        with self.progress.phase("HARA"):
            table = build_hara(self.model)
        return dataclasses.replace(table, profile=self.profile) if self.profile is not None else table

    @cached_property
    def profile(self) -> ProfileReport | None:
        """The standard profiles' tables (analysis/profile_report.py), None where every package is ISO 26262."""
        if not uses_profiles(self.model):
            return None
        with self.progress.phase("standard profiles"):
            results = {t.name: (r, t.mission_time or 1.0) for t, r in self.trees}
            return build_profile_report(self.model, self.syntheses, results, achieved=self.achieved_demand)

    @cached_property
    def achieved_demand(self) -> dict[str, float]:
        """Safety function name -> its achieved PFDavg (low demand) or PFH (high, continuous), from the demand
        analysis of the hazards it mitigates (the worst of them). A function with a hazard the demand analysis
        has no row for (no proof-tested or repairable event in its tree) gets none: the verification table then
        says "not computed" rather than showing a per-mission probability as a PFDavg."""
        rows = {row.hazard: row for row in self.demand}
        out: dict[str, float] = {}
        for gq, hazards in links(self.model).hazards_of_goal.items():
            goal = self.model.goals[gq]
            found = [rows.get(self.model.hazards[h].name) for h in hazards]
            if not hazards or goal.demand is None or any(r is None for r in found):
                continue
            out[goal.name] = max((r.pfd_avg if goal.demand == "low" else r.pfh) for r in found if r is not None)
        return out

    # -- SOTIF and ODD coverage -----------------------------------------------------------------------------------
    @cached_property
    def odd_coverage(self) -> OddCoverage:
        with self.progress.phase("ODD coverage"):
            return build_odd_coverage(self.model)

    @cached_property
    def sotif(self) -> SotifReport:
        with self.progress.phase("SOTIF"):
            return build_sotif(self.model, self.syntheses, self.ci, self.odd_coverage)

    # -- trace and coverage --------------------------------------------------------------------------------------
    @cached_property
    def ci(self) -> CiResults | None:
        """The CI results read from `options.results`, with the model registry's runs (None without either)."""
        files = read_results(self.options.results, test_sources(self.model)) if self.options.results else None
        return with_ops(files, self.options.ops)

    @property
    def results_ok(self) -> bool:
        """False: a result file was unreadable."""
        return self.ci is None or not dg.has_errors(self.ci.diagnostics)

    @property
    def result_digests(self) -> dict[str, str]:
        """Result file (CI and fault-injection results) -> sha256 of the bytes read."""
        out = dict(self.ci.digests) if self.ci is not None else {}
        if self.injection is not None:
            out.update(self.injection.digests)
        return out

    @cached_property
    def trace(self) -> TraceGraph:
        with self.progress.phase("trace"):
            return build_trace(self.model, self.ci, check_stale=self.options.check_stale, use_git=self.options.use_git,
                               syntheses=self.syntheses)

    @cached_property
    def _policy(self) -> Policy:
        return resolve_policy(self.model.policy, list(self.options.file_policy))

    @property
    def policy(self) -> Policy:
        return self._policy

    @property
    def policy_ok(self) -> bool:
        """False: the model's policy is invalid."""
        return not dg.has_errors(list(self._policy.diagnostics))

    @cached_property
    def coverage(self) -> Coverage:
        with self.progress.phase("coverage"):
            return evaluate(self.trace, self._policy)

    # -- GSN -------------------------------------------------------------------------------------------------------
    @cached_property
    def case(self) -> gsn.Case | None:
        if not self.options.with_gsn:
            return None
        with self.progress.phase("GSN safety case"):
            statuses = details = None
            if self.ci is not None:
                statuses, details, _ = gsn.statuses_of(self.model, self.ci, use_git=self.options.use_git)
            return gsn.build_case(self.model, statuses, self.probabilities(), details=details,
                                  sotif=self.sotif)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Beyond the model check: results, policy, trace, coverage, GSN (computes what it reports on)."""
        diags: list[Diagnostic] = list(self.ci.diagnostics) if self.ci is not None else []
        if self.injection is not None:
            diags += list(self.injection.diagnostics)
        diags += self.trace.diagnostics + self.coverage.diagnostics
        diags += list(self.sotif.coverage.diagnostics) + list(self.sotif.diagnostics)
        if self.case is not None:
            diags += list(self.case.diagnostics)
        return dg.sort_unique(diags)


def top_probability(result: FtaResult) -> float:
    """The one figure a hazard's tree stands for: exact (BDD) where computed, else the approximation."""
    return result.exact_probability if result.exact_probability is not None else result.probability


def analyse(model: Model, options: Options | None = None, progress: Progress | None = None) -> Results:
    """The analyses of a model that passed validation, computed as they are asked for (Results)."""
    return Results(model, options, progress)
