"""`sops check PATH...`: parse and validate; print diagnostics compiler style, as JSON, SARIF or GitHub
workflow commands."""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING

import click

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.cli.common import model_options, print_diagnostics, write_output
from safetyops_dsl.gc_pause import GcPaused

if TYPE_CHECKING:
    from safetyops_dsl.api import Checked

FORMATS = ["text", "json", "sarif", "github"]


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--brief", is_flag=True, help="One line per diagnostic, no source excerpt or hint.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
    help="text for people, json for machines, sarif for code scanning, github for Actions annotations.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), default=None,
    help="Write the report to FILE (atomically) instead of stdout; the summary line still goes to stderr.",
)
@model_options
def check(
    paths: tuple[str, ...], brief: bool, strict: bool, fmt: str, output: str | None, root: str | None,
    cache_dir: str | None,
) -> None:
    """Check .sops files or folders: syntax, names, structure, failure logic, ASIL rules.

    Exit status: 0 no errors (warnings allowed unless --strict), 1 errors, 2 usage error.
    """
    from safetyops_dsl.api import check as run_check

    # The check pauses the collector: when it resumes, its next pass would walk every object of the model (a
    # million at 10,000 component types: 0.5-1 s, after the check and before the report) to find no garbage.
    # The model lives until the command ends, so it is kept out of the collector's sight until then.
    with GcPaused():
        checked = run_check(paths, root=root, cache_dir=cache_dir)
        gc.freeze()
    try:
        _report(checked, brief, strict, fmt, output)
    finally:
        gc.unfreeze()  # a caller in the same process (tests) gets a collector that sees everything again


def _report(checked: Checked, brief: bool, strict: bool, fmt: str, output: str | None) -> None:
    diags = dg.promote_warnings(checked.diagnostics) if strict else checked.diagnostics
    summary = dg.summary(diags, checked.file_count)
    if fmt == "json":
        report = dg.to_json(diags, checked.file_count)
    elif fmt == "sarif":
        from safetyops_dsl.generators.diagnostics_formats import to_sarif

        report = to_sarif(diags)
    elif fmt == "github":
        from safetyops_dsl.generators.diagnostics_formats import to_github

        report = to_github(diags, summary)
    elif output is None:
        print_diagnostics(diags, checked.sources, brief=brief, stream=sys.stdout)
        click.echo(summary)
        report = ""
    else:
        rendered = [dg.render_one(d, checked.sources.get(d.location.file), brief=brief) for d in diags]
        report = "".join(r + "\n" for r in rendered) + summary + "\n"
    if output is not None:
        write_output(output, report)
        click.echo(summary, err=True)
    elif report:
        click.echo(report, nl=False)
    sys.exit(1 if dg.has_errors(diags) else 0)
