"""What `sops fta` does once its arguments are known, without click: the click command (`fta_cmd`) and the
fast argument path (`fta_fast`) both call `run`, so the two cannot drift apart.

Imports are deferred to the code path that needs them: `sops fta x.xml` must start fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

from safetyops_dsl.cli.output import UsageProblem, echo_err, write_output

TYPE_CHECKING = False  # typing itself is not imported at run time (`sops fta` start-up)
if TYPE_CHECKING:
    from collections.abc import Sequence

    from safetyops_dsl.analysis.demand import DemandRow
    from safetyops_dsl.analysis.synthesis import SynthesisResult
    from safetyops_dsl.diagnostics import Diagnostic
    from safetyops_dsl.fta.count import Count
    from safetyops_dsl.fta.enumeration import EnumeratedCutSets
    from safetyops_dsl.fta.result import AnalysisOptions
    from safetyops_dsl.fta.simulate import SimulationFigures
    from safetyops_dsl.fta.tree import FaultTree
    from safetyops_dsl.fta.uncertainty import UncertaintyFigures
    from safetyops_dsl.model.index import Model

FORMATS = ("text", "json", "dot", "svg", "openpsa", "md")
APPROXIMATIONS = ("exact", "rare-event", "mcub")
# The defaults of the options, read by the click command and by the fast argument parser alike.
DEFAULTS: dict[str, object] = {
    "hazard": None,
    "fmt": "text",
    "output": None,
    "limit_order": None,
    "cut_off": 0.0,
    "approx": "exact",
    "mission_time": None,
    "cut_set_limit": 1000,
    "max_cut_sets": 10_000_000,
    "max_bdd_nodes": 1 << 24,
    "importance": True,
    "gate": False,
    "trials": None,
    "seed": 1,
    "uncertainty_limit": 100_000,  # trials; about 10 s for a tree of ten uncertain events
    "simulate": None,  # Monte Carlo samples of the basic events (fta/simulate.py)
    "model_count": False,  # exact P(top) by weighted model counting where the BDD is refused (fta/count.py)
}


def _emit_diagnostics(diags: list[Diagnostic]) -> None:
    from safetyops_dsl.diagnostics import render_one, sort_unique
    from safetyops_dsl.parse.loader import source_lines

    cache: dict[str, list[str] | None] = {}
    for d in sort_unique(diags):
        f = d.location.file
        if f not in cache:
            try:
                cache[f] = source_lines(Path(f).read_text(encoding="utf-8", errors="replace")) if f else None
            except OSError:
                cache[f] = None
        echo_err(render_one(d, cache[f]))


def _load(
    paths: tuple[str, ...], mission_time: float | None
) -> tuple[list[FaultTree], list[Diagnostic], Model | None, dict[str, SynthesisResult]]:
    from safetyops_dsl.diagnostics import DiagnosticError

    xml = [p for p in paths if p.lower().endswith(".xml")]
    models = [p for p in paths if not p.lower().endswith(".xml")]
    trees: list[FaultTree] = []
    diags: list[Diagnostic] = []
    model = None
    syntheses: dict[str, SynthesisResult] = {}
    if xml:
        from safetyops_dsl.fta.openpsa import load_openpsa

        try:
            trees += load_openpsa(xml, mission_time)
        except DiagnosticError as exc:
            diags += exc.diagnostics
    if models:
        import os

        from safetyops_dsl import diagnostics as dg
        from safetyops_dsl.analysis.synthesis import synthesise_all
        from safetyops_dsl.api import check

        checked = check(models, cache_dir=os.environ.get("SOPS_CACHE_DIR"))
        if not checked.ok or checked.model is None:
            diags += [d for d in checked.diagnostics if d.level is dg.Severity.ERROR]
        else:
            model = checked.model
            for r in synthesise_all(model, mission_time):
                trees.append(r.tree)
                syntheses[r.tree.name] = r
    return trees, diags, model, syntheses


def _uncertainty(results: Sequence[tuple[FaultTree, object]], trials: int, seed: int,
                 max_bdd_nodes: int) -> dict[str, UncertaintyFigures]:
    """Monte Carlo per top event with uncertain events (exits 1 with a diagnostic on an impossible deviate)."""
    from safetyops_dsl.diagnostics import OPENPSA_ERROR, Location, make
    from safetyops_dsl.fta.uncertainty import SampleError, propagate

    out: dict[str, UncertaintyFigures] = {}
    for tree, _ in results:
        try:
            fig = propagate(tree, trials, seed, max_bdd_nodes)
        except SampleError as exc:
            top = tree.gates.get(tree.top)
            o = top.origin if top is not None else None
            loc = Location(o.file, o.line, o.col) if o is not None else Location(tree.name)
            _emit_diagnostics([make(OPENPSA_ERROR, f"cannot sample tree '{tree.name}': {exc}", loc,
                                    "correct the distribution's parameters")])
            sys.exit(1)
        if fig is not None:
            out[tree.name] = fig
    return out


def _simulation(trees: Sequence[FaultTree], samples: int, seed: int) -> dict[str, SimulationFigures]:
    """The Monte Carlo estimate of P(top) of each tree, from the tree as loaded (not the preprocessed one)."""
    from safetyops_dsl.fta.simulate import simulate

    return {tree.name: simulate(tree, samples, seed) for tree in trees}


def _count(tree: FaultTree, refusal: list[Diagnostic], max_bdd_nodes: int,
           enumerated: bool = False) -> tuple[Count, Diagnostic]:
    """P(top) of a tree whose BDD was refused, by weighted model counting, and the warning that says what is
    missing; exits 1 with a diagnostic where the counter is not installed."""
    from safetyops_dsl.diagnostics import COUNTED_ONLY, NO_COUNTER, make
    from safetyops_dsl.fta.count import CounterUnavailable, exact_probability

    where = refusal[0].location
    try:
        count = exact_probability(tree, max_bdd_nodes)
    except CounterUnavailable:
        _emit_diagnostics([make(
            NO_COUNTER, f"--model-count cannot count tree '{tree.name}': the model counter pyganak is not installed",
            where, "pip install 'safetyops-dsl[count]' (wheels for Linux x86-64 and macOS arm64)")])
        sys.exit(1)
    reason = refusal[0].message
    missing = "its importance is not computed, its cut sets only up to --limit-order" if enumerated else \
        "its cut sets and importance are not computed"
    return count, make(
        COUNTED_ONLY, f"P(top) of tree '{tree.name}' comes from weighted model counting alone; {missing}: {reason}",
        where, "allow more nodes with --max-bdd-nodes for the cut sets")


def _enumerate(tree: FaultTree, refusal: list[Diagnostic], options: AnalysisOptions) -> EnumeratedCutSets:
    """The minimal cut sets up to --limit-order of a tree whose BDD was refused. A coherent tree gets them
    from a ZDD built from its formula, truncated at that order (fta/truncated.py); a non-coherent one, or one
    whose ZDD outgrows its bound, by evaluating the tree on every set of that many events
    (fta/enumeration.py). Exits 1 where neither fits."""
    from safetyops_dsl.diagnostics import LIMIT_EXCEEDED, make
    from safetyops_dsl.fta import enumeration, truncated
    from safetyops_dsl.fta.enumeration import TooManySets, minimal_cut_sets, ranked
    from safetyops_dsl.fta.preprocess import preprocess

    assert options.limit_order is not None
    pre = preprocess(tree)
    found: EnumeratedCutSets | None = None
    zdd_refused = ""
    if truncated.coherent(pre):
        try:
            found = truncated.truncated_cut_sets(pre, options.limit_order, truncated.DEFAULT_MAX_NODES)
        except truncated.TooManyNodes as exc:
            zdd_refused = f"a ZDD truncated at that order would take more than {exc.nodes} nodes, and "
    if found is None:
        try:
            found = minimal_cut_sets(pre, options.limit_order, enumeration.DEFAULT_BUDGET)
        except TooManySets as exc:
            _emit_diagnostics([make(
                LIMIT_EXCEEDED, f"{refusal[0].message}; its cut sets of order <= {options.limit_order} without "
                f"the BDD: {zdd_refused}evaluating the tree on {exc.sets} sets of events would be more than the "
                f"{exc.budget} allowed", refusal[0].location,
                "lower --limit-order, or allow more nodes with --max-bdd-nodes")])
            sys.exit(1)
    return ranked(found, {n: e.probability for n, e in tree.basic_events.items()}, options.cut_off,
                  options.cut_set_limit)


def _safe_file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "tree"


def run(
    paths: tuple[str, ...],
    hazard: str | None,
    fmt: str,
    output: str | None,
    limit_order: int | None,
    cut_off: float,
    approx: str,
    mission_time: float | None,
    cut_set_limit: int,
    max_cut_sets: int,
    max_bdd_nodes: int,
    importance: bool,
    gate: bool,
    trials: int | None = None,
    seed: int = 1,
    uncertainty_limit: int = 100_000,
    simulate: int | None = None,
    model_count: bool = False,
) -> None:
    """The command's work; usage errors are raised as UsageProblem, input errors exit 1."""
    from safetyops_dsl.diagnostics import DiagnosticError, has_errors

    if trials is not None and trials > uncertainty_limit:
        raise UsageProblem(
            f"--uncertainty {trials} is more than the {uncertainty_limit} trials allowed without asking: pass "
            f"--uncertainty-limit {trials} to run them (about 0.1 ms a trial per ten uncertain events; a tree "
            "with proof-tested events also averages its PFD over time in each trial, about 3 ms a trial)")
    trees, diags, model, syntheses = _load(paths, mission_time)
    if has_errors(diags):
        _emit_diagnostics(diags)
        sys.exit(1)
    if diags:
        _emit_diagnostics(diags)
    if hazard is not None:
        trees = [t for t in trees if t.name == hazard]
        if not trees:
            raise UsageProblem(f"no top event named '{hazard}'")
    if not trees:
        raise UsageProblem("the input defines no fault tree")

    if fmt == "openpsa":
        from safetyops_dsl.generators.openpsa import write_openpsa

        write_output(output, write_openpsa(trees))
        return

    from safetyops_dsl.fta.engine import BddRefused, analyse
    from safetyops_dsl.fta.result import AnalysisOptions, Approximation

    options = AnalysisOptions(
        limit_order=limit_order,
        cut_off=cut_off,
        approximation=Approximation(approx),
        cut_set_limit=cut_set_limit,
        max_cut_sets=max_cut_sets,
        max_bdd_nodes=max_bdd_nodes,
        importance=importance and fmt in ("text", "json", "md"),
    )
    # With --simulate, a tree whose BDD does not fit is reported by its Monte Carlo estimate alone: the
    # estimate does not need the BDD (fta/simulate.py). The refusal stays an error (exit 1 after the report).
    # With --model-count, such a tree's exact P(top) comes from the model counter instead (fta/count.py): the
    # refusal becomes a warning that its cut sets and importance are missing.
    estimate_alone = simulate is not None and fmt in ("text", "json", "md")
    counting = model_count and fmt in ("text", "json", "md")
    # With --limit-order, such a tree's cut sets up to that order come from evaluating the tree on every set of
    # that many events (fta/enumeration.py): listed in the report; the missing P(top) stays an error.
    listing = limit_order is not None and fmt in ("text", "json", "md")
    results = []
    refused: dict[str, tuple[FaultTree, list[Diagnostic]]] = {}
    counted: dict[str, Count] = {}
    enumerated: dict[str, EnumeratedCutSets] = {}
    said: list[Diagnostic] = []  # after the report, so that the terminal ends on why figures are missing
    for t in trees:
        try:
            results.append((t, analyse(t, options)))
        except BddRefused as exc:
            refused[t.name] = (t, exc.diagnostics)
            if listing:
                enumerated[t.name] = _enumerate(t, exc.diagnostics, options)
            if counting:
                counted[t.name], warning = _count(t, exc.diagnostics, max_bdd_nodes, t.name in enumerated)
                said.append(warning)
                continue
            from dataclasses import replace

            # the engine's hint, and this command's own way out (the engine serves commands without it)
            told = [replace(d, hint=f"{d.hint}; or compute its exact P(top) alone with --model-count")
                    for d in exc.diagnostics]
            said.extend(told)
            if not (estimate_alone or listing):
                _emit_diagnostics(told)
                sys.exit(1)
        except DiagnosticError as exc:
            _emit_diagnostics(exc.diagnostics)
            sys.exit(1)

    if fmt in ("dot", "svg"):
        from safetyops_dsl.generators.fault_tree_dot import render_dot, render_svg

        render = render_dot if fmt == "dot" else render_svg
        if output is not None and len(results) > 1:
            for tree, result in results:
                write_output(str(Path(output) / f"{_safe_file_name(tree.name)}.{fmt}"), render(tree, result))
            return
        write_output(output, "".join(render(tree, result) for tree, result in results))
        return

    goal_checks = []
    if model is not None:
        from safetyops_dsl.analysis.targets import check_goal_targets

        probabilities = {
            tree.name: (r.exact_probability if r.exact_probability is not None else r.probability,
                        tree.mission_time or 1.0)
            for tree, r in results
        }
        probabilities.update({name: (c.probability, refused[name][0].mission_time or 1.0) for name, c in counted.items()})
        goal_checks = check_goal_targets(model, probabilities)
        if hazard is not None:
            goal_checks = [c for c in goal_checks if hazard in c.hazards]

    from safetyops_dsl.fta.timing import has_demand
    from safetyops_dsl.generators.fta_report import render as render_report

    demand: list[DemandRow] = []
    tested = [tree for tree, _ in results if has_demand(tree.basic_events.values())]
    if tested:  # the demand analysis (and the model types it names) is imported only for such trees
        from safetyops_dsl.analysis.demand import demand_row

        try:
            demand = [row for tree in tested
                      if (row := demand_row(tree, syntheses.get(tree.name), max_bdd_nodes)) is not None]
        except DiagnosticError as exc:
            _emit_diagnostics(exc.diagnostics)
            sys.exit(1)
    uncertainty = _uncertainty(results, trials, seed, max_bdd_nodes) if trials is not None else {}
    simulation = _simulation(trees, simulate, seed) if simulate is not None else {}
    write_output(output, render_report(
        results, fmt, goal_checks, demand, uncertainty, simulation,
        {name: (tree, diags[0].message, counted.get(name), enumerated.get(name))
         for name, (tree, diags) in refused.items()}))
    if said:
        _emit_diagnostics(said)
    failed = [c for c in goal_checks if not c.passed]
    if gate and failed:
        for c in failed:
            echo_err(
                f"sops: safety goal {c.goal} misses its target: {c.achieved_per_hour:.3g} /h > "
                f"{c.target_per_hour:.3g} /h" if not c.missing else
                f"sops: safety goal {c.goal} has no fault tree for {', '.join(c.missing)}"
            )
        sys.exit(1)
    if len(refused) > len(counted):
        sys.exit(1)
