"""`sops inject PATH`: the fault-injection campaign of the model (docs/fault-injection.md)."""

from __future__ import annotations

import click

from safetyops_dsl.cli.common import load_or_exit, model_options, write_output


@click.command("inject")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["json", "pytest"]), default="json", show_default=True,
              help="json: sops-injection-campaign/1 for any test bench; pytest: a parametrised test module "
                   "to complete with the injection hook.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (atomically) instead of stdout.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999999, min_open=False), default=0.95,
              show_default=True, help="Confidence of the coverage bound the planned injections demonstrate.")
@model_options
def inject(paths: tuple[str, ...], fmt: str, output: str | None, confidence: float, root: str | None,
           cache_dir: str | None) -> None:
    """Write the fault-injection campaign: one case per (mechanism, failure mode it covers, instance), with
    the goals the mode threatens, the detection time allowed (their shortest FTTI), their safe states, and
    the injections that demonstrate the claimed coverage.

    Exit status: 0 campaign written, 1 model errors, 2 usage error.
    """
    from safetyops_dsl.analysis.pipeline import Options, analyse
    from safetyops_dsl.generators.campaign import render

    checked = load_or_exit(paths, root, cache_dir)
    campaign = analyse(checked.model, Options(confidence=confidence, with_gsn=False)).campaign
    write_output(output, render(campaign, fmt))
