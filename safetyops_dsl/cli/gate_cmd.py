"""`sops gate PATH`: one exit code for everything a release needs.

Checks: the model has no errors; the coverage policy holds; every safety goal meets its FMEDA targets
(SPFM, LFM, PMHF for its ASIL) and its quantitative probability target; each GSN top goal is supported.
Exit status: 0 every check passed; 1 a check failed or the model has errors; 2 usage errors.
"""

from __future__ import annotations

import sys

import click

from safetyops_dsl.cli.common import mlflow_option, model_options, print_diagnostics, text_lines


@click.command("gate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--results", "results", multiple=True, type=click.Path(exists=True),
              help="JUnit XML / metrics JSON files or folders from CI. Repeatable.")
@click.option("--campaign-results", "campaign_results", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Fault-injection results (JUnit XML / sops-injection-results JSON). Default: injection.xml or "
                   "injection.json in the result folders. Repeatable.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
              help="A .sops file with a policy block overriding the model's policy.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a summary table; json: sops-gate/1 for machines.")
@click.option("--no-git", is_flag=True, help="Do not ask git whether commit-pinned evidence is stale.")
@mlflow_option
@model_options
def gate(paths: tuple[str, ...], results: tuple[str, ...], campaign_results: tuple[str, ...], policy_file: str | None,
         fmt: str, no_git: bool, mlflow_uri: str | None, root: str | None, cache_dir: str | None) -> None:
    """Release gate: model check, coverage policy, FMEDA targets per goal, goal probability targets and the
    GSN top goal. Prints one summary table; exit 1 when any check fails.
    """
    from safetyops_dsl import build as b
    from safetyops_dsl import diagnostics as dg

    opts = b.BuildOptions(paths=paths, root=root, results=results, policy=policy_file, use_git=not no_git,
                          cache_dir=cache_dir, campaign_results=campaign_results, mlflow=mlflow_uri or None)
    try:
        analysis = b.analyse(opts)
    except b.BuildError as exc:
        print_diagnostics(exc.diagnostics, exc.sources)
        click.echo(dg.summary(exc.diagnostics, exc.file_count), err=True)
        # a registry that could not answer is not a model error: say which input failed
        registry = all(d.code in (dg.MLFLOW_URI, dg.MLFLOW_UNREACHABLE, dg.MLFLOW_VERSION, dg.MLFLOW_NO_METRICS)
                       for d in exc.diagnostics) and bool(exc.diagnostics)
        items = [b.GateItem("MLflow registry" if registry else "model check",
                            f"{exc.file_count} file{'s' if exc.file_count != 1 else ''}", b.FAIL,
                            f"{len(exc.diagnostics)} error{'s' if len(exc.diagnostics) != 1 else ''}: nothing else checked")]
        click.echo(b.gate_json(items) if fmt == "json" else b.gate_text(items), nl=False)
        sys.exit(1)
    if analysis.results.injection is not None:  # positioned problems of the campaign results, and flagged claims
        injection = analysis.results.injection
        print_diagnostics(injection.diagnostics, {**analysis.checked.sources, **text_lines(injection.files)})
    items = b.gate_items(analysis)
    click.echo(b.gate_json(items) if fmt == "json" else b.gate_text(items), nl=False)
    sys.exit(0 if b.gate_passed(items) else 1)
