"""`sops trace PATH...`: the trace matrix and coverage report, with CI results folded in.

Exit status: 0 report written; 1 model errors, unreadable results or an invalid policy, or (with --gate) a
coverage-policy violation; 2 usage errors. Diagnostics go to stderr, the report to stdout or -o FILE.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from safetyops_dsl.cli.common import (
    mlflow_option,
    model_options,
    print_diagnostics,
    read_ops,
    write_output,
)
from safetyops_dsl.generators import registry

if TYPE_CHECKING:
    from safetyops_dsl.diagnostics import Diagnostic
    from safetyops_dsl.model.elements import PolicyRule

FORMATS = registry.choices("trace")


def _policy_rules(path: str, sources: dict[str, list[str]]) -> tuple[list[PolicyRule], list[Diagnostic]]:
    from safetyops_dsl.api import check
    from safetyops_dsl.validation.rules import check_policy

    checked = check([path], validate=False)
    sources.update(checked.sources)
    if checked.model is None:
        return [], checked.diagnostics
    diags = list(checked.diagnostics) + list(check_policy(checked.model))
    return list(checked.model.policy), diags


@click.command("trace")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (atomically) instead of stdout.")
@click.option(
    "--results", "results", multiple=True, type=click.Path(exists=True),
    help="JUnit XML and metrics JSON files, or folders searched for *.xml and *.json. Repeatable.",
)
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
              help="A .sops file with a policy block; overrides the model's policy rule by rule.")
@click.option("--gate", is_flag=True, help="Exit 1 when the coverage policy is violated.")
@click.option("--no-git", is_flag=True, help="Do not ask git whether commit-pinned evidence is stale.")
@mlflow_option
@model_options
def trace(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    results: tuple[str, ...],
    policy_file: str | None,
    gate: bool,
    no_git: bool,
    mlflow_uri: str | None,
    root: str | None,
    cache_dir: str | None,
) -> None:
    """Trace hazards -> safety goals -> requirements -> components -> failure modes -> evidence.

    Prints the trace matrix and the coverage report. With --results, test and metric evidence is marked
    passed, failed, skipped or missing; pinned artifacts are checked for staleness in any case.
    """
    from safetyops_dsl import diagnostics as dg
    from safetyops_dsl.analysis.pipeline import Options, analyse
    from safetyops_dsl.api import check
    from safetyops_dsl.validation.policy import blocking_errors

    checked = check(paths, root=root, cache_dir=cache_dir)
    sources = dict(checked.sources)
    model_errors = blocking_errors(checked.diagnostics)
    if model_errors or checked.model is None:
        print_diagnostics(model_errors, sources)
        click.echo(dg.summary(model_errors, checked.file_count), err=True)
        sys.exit(1)
    model = checked.model

    diags: list[Diagnostic] = []
    file_rules: list[PolicyRule] = []
    if policy_file is not None:
        file_rules, policy_diags = _policy_rules(policy_file, sources)
        diags += policy_diags
    results, ops = read_ops(results, mlflow_uri, model, sources, checked.file_count)
    r = analyse(model, Options(results=results, file_policy=tuple(file_rules), use_git=not no_git, with_gsn=False,
                               ops=ops))
    if r.ci is not None:
        diags += r.ci.diagnostics
    tg, cov = r.trace, r.coverage
    diags += tg.diagnostics
    violations = set(cov.violations)
    for d in cov.diagnostics:
        if d in violations and gate:
            d = dg.Diagnostic(d.code, d.message, d.location, d.hint, dg.Severity.ERROR)
        diags.append(d)
    diags = dg.sort_unique(diags)

    try:
        text = registry.find("trace", fmt).render(tg, cov, title=model.root.name)
    except RuntimeError as exc:  # svg without Graphviz
        click.echo(f"sops: {exc}", err=True)
        sys.exit(1)
    write_output(output, text)
    print_diagnostics(diags, sources)
    if diags:
        errors, warnings = dg.count(diags)
        click.echo(f"trace: {errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
                   + (f" ({len(violations)} coverage violation{'s' if len(violations) != 1 else ''})"
                      if violations else ""), err=True)
    sys.exit(1 if dg.has_errors(diags) else 0)
