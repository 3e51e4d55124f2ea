"""`sops reqif export|import`: requirements to and from requirement tools over ReqIF 1.2."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import click

from safetyops_dsl.cli.common import load_or_exit, model_options, print_diagnostics, text_lines, write_output


@click.group("reqif")
def reqif() -> None:
    """Exchange hazards, safety goals and requirements with DOORS, Polarion, codebeamer... over ReqIF."""


@reqif.command("export")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (atomically) instead of stdout.")
@click.option("--title", default="", help="The document title. Default: 'Safety concept of <model folder>'.")
@model_options
def export_cmd(paths: tuple[str, ...], output: str | None, title: str, root: str | None, cache_dir: str | None) -> None:
    """Write the model's hazards, safety goals and requirements as one ReqIF document.

    Identifiers come from qualified names and times are fixed (SOURCE_DATE_EPOCH if set), so the same model
    gives the same bytes. Exit status: 0 written, 1 model errors, 2 usage error.
    """
    from safetyops_dsl import diagnostics as dg
    from safetyops_dsl.reqif.export import export, line_breaks

    checked = load_or_exit(list(paths), root, cache_dir)
    problems = line_breaks(checked.model)
    if problems:
        print_diagnostics(problems, checked.sources)
        click.echo(dg.summary(problems, checked.file_count), err=True)
        sys.exit(1)
    write_output(output, export(checked.model, title))


@reqif.command("import")
@click.argument("reqif_file", type=click.Path(dir_okay=False))
@click.option("--into", "into", required=True, type=click.Path(file_okay=False),
              help="The model folder whose requirement blocks are written or updated.")
@click.option("--dry-run", is_flag=True, help="Print the changes as a diff; write nothing.")
@click.option("--max-size", type=click.FloatRange(min=0, min_open=True), default=64, show_default=True,
              help="Refuse ReqIF files larger than this many MB.")
@model_options
def import_cmd(reqif_file: str, into: str, dry_run: bool, max_size: float, root: str | None, cache_dir: str | None) -> None:
    """Write or update `.sops` requirement blocks from a ReqIF file.

    Requirements are matched by ReqIF.ForeignID (the qualified name); text, refines, allocated_to and asil are
    taken from the file, new requirements are added, nothing is deleted or renamed, and hazards and goals are
    only compared. Every change is printed as a unified diff. Nothing is written when the result would not
    check. Exit status: 0 imported (or nothing to do), 1 errors in the file or the result, 2 usage error.
    """
    from safetyops_dsl import diagnostics as dg
    from safetyops_dsl.atomic import write_atomic
    from safetyops_dsl.fmt import unified_diff
    from safetyops_dsl.reqif.merge import plan_import
    from safetyops_dsl.reqif.read import read

    doc = read(reqif_file, max_size)
    if isinstance(doc, list):
        print_diagnostics(doc, text_lines([reqif_file]))
        click.echo(dg.summary(doc, 1), err=True)
        sys.exit(1)
    checked = load_or_exit([into], root, cache_dir)
    plan = plan_import(doc, checked, [into], root)
    sources = {**checked.sources, **text_lines([reqif_file])}
    for d in plan.diagnostics:  # an SOPS265 points into the imported text, which is not on disk
        print_diagnostics([d], {**sources, **plan.sources} if d.code == dg.REQIF_BREAKS_MODEL else sources)
    if not plan.ok:
        click.echo(dg.summary(plan.diagnostics, checked.file_count) + "; nothing written", err=True)
        sys.exit(1)
    for path, (before, after) in sorted(plan.files.items()):
        click.echo(unified_diff(path, before, after).replace(" (formatted)", " (imported)", 1), nl=False)
    if not dry_run:
        for path, (_, after) in sorted(plan.files.items()):
            target = Path(path).resolve()  # through a symbolic link, not over it
            mode = stat.S_IMODE(target.stat().st_mode)
            write_atomic(target, after)
            os.chmod(target, mode)  # the temporary file was created 0600
    n = len(plan.files)
    verb = "would be written" if dry_run else "written"
    click.echo(f"{len(plan.updated)} updated, {len(plan.added)} added, {len(plan.unchanged)} unchanged; "
               f"{n} file{'' if n == 1 else 's'} {verb}", err=True)

