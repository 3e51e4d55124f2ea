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
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.analysis import gsn
from safetyops_dsl.analysis.coverage import Coverage, evaluate
from safetyops_dsl.analysis.evidence import read_results, test_sources
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
from safetyops_dsl.validation.policy import resolve_policy

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


@dataclass
class Results:
    model: Model
    syntheses: list[SynthesisResult]
    trees: list[tuple[FaultTree, FtaResult]]
    goal_checks: list[GoalCheck]
    fmea: FmeaTable
    fmeda: FmedaReport
    hara: HaraTable
    trace: TraceGraph
    coverage: Coverage
    results_ok: bool  # False: a result file was unreadable
    policy_ok: bool  # False: the model's policy is invalid
    diagnostics: list[Diagnostic]  # beyond the model check: results, policy, trace, GSN
    case: gsn.Case | None = None
    gsn_error: str = ""
    options: Options = field(default_factory=Options)
    result_digests: dict[str, str] = field(default_factory=dict)  # result file -> sha256 of the bytes read

    def probabilities(self) -> dict[str, tuple[float, float]]:
        """Hazard name -> (P(top), mission time): the exact probability where the engine has it."""
        return {t.name: (top_probability(r), t.mission_time or 1.0) for t, r in self.trees}


def top_probability(result: FtaResult) -> float:
    """The one figure a hazard's tree stands for: exact (BDD) where computed, else the approximation."""
    return result.exact_probability if result.exact_probability is not None else result.probability


def analyse(model: Model, options: Options | None = None, progress: Progress | None = None) -> Results:
    """Every analysis of a model that passed validation. Raises DiagnosticError where the engine refuses a
    tree (e.g. a resource limit)."""
    options = options or Options()
    progress = progress or QuietProgress()
    with progress.phase("fault trees"):
        syntheses = synthesise_all(model)
        trees = [(syn.tree, analyse_tree(syn.tree, AnalysisOptions(importance=options.importance)))
                 for syn in progress.items("fault trees", syntheses)]
        probabilities = {t.name: (top_probability(r), t.mission_time or 1.0) for t, r in trees}
        goal_checks = check_goal_targets(model, probabilities)
    with progress.phase("FMEA, FMEDA, HARA"):
        fmea = build_fmea(model, syntheses)
        fmeda = build_fmeda(model, syntheses)
        hara = build_hara(model)
    diags: list[Diagnostic] = []
    with progress.phase("trace and coverage"):
        ci = read_results(options.results, test_sources(model)) if options.results else None
        results_ok = ci is None or not dg.has_errors(ci.diagnostics)
        if ci is not None:
            diags += ci.diagnostics
        tg = build_trace(model, ci, check_stale=options.check_stale, use_git=options.use_git)
        policy = resolve_policy(model.policy, list(options.file_policy))
        policy_ok = not dg.has_errors(list(policy.diagnostics))
        cov = evaluate(tg, policy)
        diags += tg.diagnostics + cov.diagnostics
    out = Results(model, syntheses, trees, goal_checks, fmea, fmeda, hara, tg, cov, results_ok, policy_ok, diags,
                  options=options, result_digests=dict(ci.digests) if ci is not None else {})
    if options.with_gsn:
        with progress.phase("GSN safety case"):
            statuses = details = None
            if options.results:
                statuses, details, _ = gsn.evidence_statuses(model, options.results, use_git=options.use_git)
            out.case = gsn.build_case(model, statuses, probabilities, details=details)
            out.diagnostics += list(out.case.diagnostics)
    out.diagnostics = dg.sort_unique(out.diagnostics)
    return out
