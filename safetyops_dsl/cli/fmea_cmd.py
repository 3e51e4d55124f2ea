"""`sops fmea PATH`: the FMEA table of a model (one row per failure mode of each component instance).

Also holds what the three table commands (fmea, fmeda, hara) share: the formats, loading the model (errors
-> diagnostics on stderr and exit 1) and writing the table (stdout, or -o atomically; xlsx needs -o).
"""

from __future__ import annotations

from typing import Any

import click

from safetyops_dsl.cli.common import load_or_exit, model_options, write_output
from safetyops_dsl.generators import registry

FORMATS = registry.choices("fmea")  # fmea, fmeda and hara share the table formats
FORMAT_HELP = "; ".join(f"{f.name}: {f.description}" + (" (needs -o)" if f.binary else "")
                        for f in registry.FORMATS if f.artifact == "fmea") + "."


def load_model(paths: tuple[str, ...], fmt: str, output: str | None, root: str | None,
               cache_dir: str | None) -> Any:
    if registry.find("fmea", fmt).binary and output is None:
        raise click.UsageError(f"--format {fmt} writes a binary file: give a file with -o")
    return load_or_exit(paths, root, cache_dir).model


def emit(report: Any, fmt: str, output: str | None, artifact: str = "fmea") -> None:
    write_output(output, registry.find(artifact, fmt).render(report))


@click.command("fmea")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True, help=FORMAT_HELP)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (atomically) instead of stdout.")
@model_options
def fmea(paths: tuple[str, ...], fmt: str, output: str | None, root: str | None, cache_dir: str | None) -> None:
    """FMEA: failure modes, local / next-level / system effects, single points, coverage, residual rates.

    Exit status: 0 table written, 1 model errors, 2 usage error (e.g. xlsx without -o).
    """
    from safetyops_dsl.analysis.pipeline import analyse

    model = load_model(paths, fmt, output, root, cache_dir)
    emit(analyse(model).fmea, fmt, output)
