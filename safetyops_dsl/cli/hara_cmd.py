"""`sops hara PATH`: the hazard table with derived ASILs, safety goals and checked ASIL decompositions."""

from __future__ import annotations

import sys

import click

from safetyops_dsl.cli.common import model_options
from safetyops_dsl.cli.fmea_cmd import FORMAT_HELP, FORMATS, emit, load_model


@click.command("hara")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True, help=FORMAT_HELP)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (atomically) instead of stdout.")
@model_options
def hara(paths: tuple[str, ...], fmt: str, output: str | None, root: str | None, cache_dir: str | None) -> None:
    """HARA: hazards, situations, S/E/C, ASIL (ISO 26262-3 Table 4), goals, safe states, FTTI.

    Exit status: 0 table written, 1 model errors or an ASIL decomposition that breaks ISO 26262-9,
    2 usage error.
    """
    from safetyops_dsl.analysis.pipeline import analyse

    model = load_model(paths, fmt, output, root, cache_dir)
    table = analyse(model).hara
    emit(table, fmt, output, "hara")
    if not table.ok:
        for d in table.decompositions:
            for problem in d.problems:
                click.echo(f"sops hara: decomposition of {d.parent}: {problem}", err=True)
        sys.exit(1)
