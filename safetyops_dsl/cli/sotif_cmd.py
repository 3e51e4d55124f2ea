"""`sops sotif PATH`: the SOTIF analysis (ISO 21448) of the ML components, their validation targets and the
ODD coverage of their data sets.

Exit status: 0 report written; 1 model errors, a refused coverage manifest or unreadable results, or (with
--gate) a thin ODD cell, a metric sliced on only some values or a validation target not met; 2 usage errors.
"""

from __future__ import annotations

import sys

import click

from safetyops_dsl.cli.common import load_or_exit, model_options, print_diagnostics, write_output
from safetyops_dsl.generators import registry

FORMATS = registry.choices("sotif")
FORMAT_HELP = "; ".join(f"{f.name}: {f.description}" + (" (needs -o)" if f.binary else "")
                        for f in registry.FORMATS if f.artifact == "sotif") + "."


@click.command("sotif")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True, help=FORMAT_HELP)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (atomically) instead of stdout.")
@click.option(
    "--results", "results", multiple=True, type=click.Path(exists=True),
    help="Metrics JSON (validation exposure, failures, sliced metrics) and JUnit XML, or folders of them. "
         "Default: the model root's ci-results/ folder when it exists.",
)
@click.option("--gate", is_flag=True,
              help="Exit 1 on a thin ODD cell, a partly sliced metric or a validation target not met.")
@model_options
def sotif(paths: tuple[str, ...], fmt: str, output: str | None, results: tuple[str, ...], gate: bool,
          root: str | None, cache_dir: str | None) -> None:
    """SOTIF: functional insufficiencies, triggering conditions, measures, validation targets, ODD coverage."""
    from safetyops_dsl import diagnostics as dg
    from safetyops_dsl.analysis.pipeline import Options, analyse
    from safetyops_dsl.build import shipped_results

    if registry.find("sotif", fmt).binary and output is None:
        raise click.UsageError(f"--format {fmt} writes a binary file: give a file with -o")
    checked = load_or_exit(paths, root, cache_dir)
    model = checked.model
    r = analyse(model, Options(results=results or shipped_results(model.root), with_gsn=False))
    report = r.sotif
    diags = list(r.ci.diagnostics) if r.ci is not None else []
    diags += list(report.coverage.diagnostics) + list(report.diagnostics)
    if gate:
        diags = dg.promote_warnings(diags)
    diags = dg.sort_unique(diags)
    # written even with errors: a refused manifest is part of the report (its data set shows as refused)
    write_output(output, registry.find("sotif", fmt).render(report))
    print_diagnostics(diags, checked.sources)
    if diags:
        errors, warnings = dg.count(diags)
        click.echo(f"sotif: {errors} error{'s' if errors != 1 else ''}, "
                   f"{warnings} warning{'s' if warnings != 1 else ''}", err=True)
    sys.exit(1 if dg.has_errors(diags) else 0)
