"""`sops fmeda PATH`: fault classes and hardware metrics (SPFM, LFM, PMHF) per safety goal."""

from __future__ import annotations

import sys

import click

from safetyops_dsl.cli.common import model_options
from safetyops_dsl.cli.fmea_cmd import FORMAT_HELP, FORMATS, emit, load_model


@click.command("fmeda")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True, help=FORMAT_HELP)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (atomically) instead of stdout.")
@click.option("--gate", is_flag=True, help="Exit 1 when a goal misses an ISO 26262-5 target (SPFM, LFM or PMHF) "
              "or, with --campaign-results, a claimed coverage is not supported.")
@click.option("--campaign-results", "campaign_results", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Fault-injection results (JUnit XML or sops-injection-results JSON): show the measured coverage "
                   "beside each claim. Repeatable.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999999), default=0.95, show_default=True,
              help="Confidence of the measured coverage's one-sided lower bound (Clopper-Pearson).")
@model_options
def fmeda(
    paths: tuple[str, ...], fmt: str, output: str | None, gate: bool, campaign_results: tuple[str, ...],
    confidence: float, root: str | None, cache_dir: str | None
) -> None:
    """FMEDA (ISO 26262-5): classify hardware failure modes per safety goal; SPFM, LFM, PMHF vs targets.

    Exit status: 0 table written (and, with --gate, every target met), 1 model errors or a missed target
    under --gate, 2 usage error.
    """
    from safetyops_dsl import diagnostics as dg
    from safetyops_dsl.analysis.fmeda import Status
    from safetyops_dsl.analysis.injection import Verdict
    from safetyops_dsl.analysis.pipeline import Options, analyse
    from safetyops_dsl.cli.common import print_diagnostics, text_lines

    model = load_model(paths, fmt, output, root, cache_dir)
    results = analyse(model, Options(campaign_results=campaign_results, confidence=confidence, with_gsn=False))
    injection = results.injection
    if injection is not None:
        print_diagnostics(injection.diagnostics, text_lines(injection.files))
        if not injection.ok:  # unreadable results: no table that would show a partial measurement
            sys.exit(1)
    report = results.fmeda
    emit(report, fmt, output, "fmeda")
    if gate:
        missed = [(g.goal, m) for g in report.goals for m in g.metrics if m.status is Status.FAIL]
        for goal, m in missed:
            click.echo(f"sops fmeda: {goal} misses the {m.name} target: {_show(m.name, m.value)} "
                       f"(needs {m.comparison} {_show(m.name, m.target)})", err=True)
        unsupported = [mc for mc in report.measurements if mc.verdict is not Verdict.SUPPORTED]
        for mc in unsupported:
            click.echo(f"sops fmeda: {mc.text()}", err=True)
        if missed or unsupported or (injection is not None and dg.has_errors(list(injection.diagnostics))):
            sys.exit(1)


def _show(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if metric == "PMHF":
        return f"{value * 1e9:.4g} FIT"
    return f"{value * 100:.2f} %"
