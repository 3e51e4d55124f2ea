"""`sops check PATH...`: parse and validate; print diagnostics compiler style."""

from __future__ import annotations

import sys

import click

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.cli.common import model_options, print_diagnostics


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--brief", is_flag=True, help="One line per diagnostic, no source excerpt or hint.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="text for people, json for machines.",
)
@model_options
def check(paths: tuple[str, ...], brief: bool, strict: bool, fmt: str, root: str | None, cache_dir: str | None) -> None:
    """Check .sops files or folders: syntax, names, structure, failure logic, ASIL rules.

    Exit status: 0 no errors (warnings allowed unless --strict), 1 errors, 2 usage error.
    """
    from safetyops_dsl.api import check as run_check

    checked = run_check(paths, root=root, cache_dir=cache_dir)
    diags = dg.promote_warnings(checked.diagnostics) if strict else checked.diagnostics
    if fmt == "json":
        click.echo(dg.to_json(diags, checked.file_count), nl=False)
    else:
        print_diagnostics(diags, checked.sources, brief=brief, stream=sys.stdout)
        click.echo(dg.summary(diags, checked.file_count))
    sys.exit(1 if dg.has_errors(diags) else 0)
