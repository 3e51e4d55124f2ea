"""`sops fmt [--check] [--diff] PATH...`: rewrite .sops files in the canonical layout, comments kept."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import click

from safetyops_dsl.cli.common import print_diagnostics


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 if a file would change.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of the changes; write nothing.")
def fmt(paths: tuple[str, ...], check_only: bool, show_diff: bool) -> None:
    """Format .sops files or folders (searched recursively) in place.

    A file that does not parse is left alone and its syntax error printed. Exit status: 0 done (or, with
    --check, nothing would change), 1 a file does not parse or (--check) would be reformatted, 2 usage error.
    """
    from safetyops_dsl import diagnostics as dg
    from safetyops_dsl.atomic import write_atomic
    from safetyops_dsl.fmt import Outcome, format_files, unified_diff
    from safetyops_dsl.parse.loader import discover

    files, missing = discover([Path(p) for p in paths])
    print_diagnostics(missing, {}, stream=sys.stderr)
    unique = list(dict.fromkeys(files))
    results = format_files(unique)
    write = not (check_only or show_diff)
    changed = failed = 0
    for r in results:
        shown = r.path.as_posix()
        if r.outcome is Outcome.FAILED:
            failed += 1
            print_diagnostics(r.diagnostics, r.sources, stream=sys.stderr)
            click.echo(f"error: cannot format {shown}", err=True)
            continue
        if r.outcome is Outcome.UNCHANGED:
            continue
        changed += 1
        if show_diff:
            click.echo(unified_diff(shown, r.original, r.formatted), nl=False)
        if check_only:
            click.echo(f"would reformat {shown}", err=show_diff)
        elif write:
            target = r.path.resolve()  # through a symbolic link, not over it
            mode = stat.S_IMODE(target.stat().st_mode)
            write_atomic(target, r.formatted)
            os.chmod(target, mode)  # the temporary file was created 0600
            click.echo(f"reformatted {shown}", err=True)
    unchanged = sum(1 for r in results if r.outcome is Outcome.UNCHANGED)
    failed += len(missing)
    verb = "reformatted" if write else "would be reformatted"
    summary = f"{changed} file{'' if changed == 1 else 's'} {verb}, {unchanged} unchanged"
    if failed:
        summary += f", {failed} failed"
    click.echo(summary, err=True)
    sys.exit(1 if failed or dg.has_errors(missing) or (check_only and changed) else 0)
