"""One pipeline: every analysis of a checked model, computed once, for every command that needs them.

`analyse(model, options)` returns `Results`: fault trees (synthesis, engine result, goal targets), FMEA,
FMEDA, HARA, the trace graph with its coverage, the GSN case and the gate items. `sops build`, `sops gate`
and `sops diff` (both sides) call it; so a result that a command shows is the result the diff compares.

Inputs beyond the model (CI results, a policy file) are read by the caller and passed in `Options`: this
module reads no file of its own but the result files named there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, TypeVar

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.analysis import gsn
from safetyops_dsl.analysis.coverage import Coverage, evaluate
from safetyops_dsl.analysis.evidence import OpsResults, read_results, test_sources, with_ops
from safetyops_dsl.analysis.evidence import Results as CiResults
from safetyops_dsl.analysis.fmea import FmeaTable, build_fmea
from safetyops_dsl.analysis.fmeda import FmedaReport, build_fmeda
from safetyops_dsl.analysis.hara import HaraTable, build_hara
from safetyops_dsl.analysis.synthesis import SynthesisResult, synthesise_all
from safetyops_dsl.analysis.targets import GoalCheck, check_goal_targets
from safetyops_dsl.analysis.trace import TraceGraph, build_trace
from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.fta.engine import analyse as analyse_tree
from safetyops_dsl.fta.result import AnalysisOptions, FtaResult
from safetyops_dsl.fta.tree import FaultTree
from safetyops_dsl.model.elements import PolicyRule
from safetyops_dsl.model.index import Model
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
    ops: OpsResults | None = None  # what the model registry (MLflow) answered, read by the caller


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
    def goal_checks(self) -> list[GoalCheck]:
        return check_goal_targets(self.model, self.probabilities())

    # -- tables --------------------------------------------------------------------------------------------------
    @cached_property
    def fmea(self) -> FmeaTable:
        with self.progress.phase("FMEA"):
            return build_fmea(self.model, self.syntheses)

    @cached_property
    def fmeda(self) -> FmedaReport:
        with self.progress.phase("FMEDA"):
            return build_fmeda(self.model, self.syntheses)

    @cached_property
    def hara(self) -> HaraTable:
        with self.progress.phase("HARA"):
            return build_hara(self.model)

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
        """Result file -> sha256 of the bytes read."""
        return dict(self.ci.digests) if self.ci is not None else {}

    @cached_property
    def trace(self) -> TraceGraph:
        with self.progress.phase("trace"):
            return build_trace(self.model, self.ci, check_stale=self.options.check_stale, use_git=self.options.use_git,
                               syntheses=self.syntheses)

    @cached_property
    def _policy(self) -> Policy:
        return resolve_policy(self.model.policy, list(self.options.file_policy))

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
            return gsn.build_case(self.model, statuses, self.probabilities(), details=details)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Beyond the model check: results, policy, trace, coverage, GSN (computes what it reports on)."""
        diags: list[Diagnostic] = list(self.ci.diagnostics) if self.ci is not None else []
        diags += self.trace.diagnostics + self.coverage.diagnostics
        if self.case is not None:
            diags += list(self.case.diagnostics)
        return dg.sort_unique(diags)


def top_probability(result: FtaResult) -> float:
    """The one figure a hazard's tree stands for: exact (BDD) where computed, else the approximation."""
    return result.exact_probability if result.exact_probability is not None else result.probability


def analyse(model: Model, options: Options | None = None, progress: Progress | None = None) -> Results:
    """The analyses of a model that passed validation, computed as they are asked for (Results)."""
    return Results(model, options, progress)
