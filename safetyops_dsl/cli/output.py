"""Writing results and messages without importing click (the fast path of `sops fta` starts without it).

`echo`/`echo_err` write exactly what `click.echo` writes: click strips ANSI escape sequences from text that
does not go to a terminal, so text holding an ESC is handed to click itself (imported only then).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing itself is not imported at run time (`sops fta` start-up)
if TYPE_CHECKING:
    from typing import NoReturn

    from safetyops_dsl.atomic import OutputRefused


class UsageProblem(Exception):
    """A usage error found after the arguments were parsed; the click layer shows it as `click.UsageError`."""


def echo(text: str, nl: bool = True, err: bool = False) -> None:
    if "\x1b" in text:
        import click

        click.echo(text, nl=nl, err=err)
        return
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n" if nl else text)
    stream.flush()


def echo_err(text: str) -> None:
    echo(text, err=True)


def refused(exc: OutputRefused) -> NoReturn:
    """An atomic.OutputRefused as a diagnostic at the output path, exit 1."""
    from safetyops_dsl import diagnostics as dg

    d = dg.make(dg.OUTPUT_REFUSED, str(exc), dg.Location(exc.path), exc.hint)
    echo_err(dg.render_one(d, None))
    sys.exit(1)


def write_output(output: str | None, data: str | bytes) -> None:
    """Text to stdout when no file is named (or `-`), else the file (safetyops_dsl.atomic: regular files
    replaced atomically, special files written in place, links written through); a failed write is exit 1."""
    if output is None or output == "-":
        if isinstance(data, bytes):
            if output is None:
                raise UsageProblem("this format is binary: name an output file with -o (or -o - for stdout)")
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        echo(data, nl=False)
        return
    from safetyops_dsl.atomic import OutputRefused, write_atomic

    try:
        write_atomic(output, data)
    except OutputRefused as exc:
        refused(exc)
    except OSError as exc:
        echo_err(f"sops: cannot write '{output}': {exc.strerror or exc}")
        sys.exit(1)
