"""`sops fta`: analyse fault trees from Open-PSA XML or from .sops models; report, draw or export them.

Inputs ending in `.xml` are read as one Open-PSA model; `.sops` files and folders go through the model
front end. Output goes to stdout or, with -o FILE, atomically to FILE. For `dot`/`svg` with several top
events and -o, FILE names a folder that receives one `<top event>.dot|.svg` per tree.

This module is the click declaration of the options; the work is `fta_run.run`. A plain command line does
not come here at all: `fta_fast` parses it without importing click (start-up time).
"""

from __future__ import annotations

import click

from safetyops_dsl.cli.fta_run import APPROXIMATIONS, DEFAULTS, FORMATS, run
from safetyops_dsl.cli.output import UsageProblem


@click.command("fta")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=True))
@click.option("--hazard", "hazard", metavar="ID", help="Analyse only the top event (tree) with this name.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=DEFAULTS["fmt"], show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=True), help="Write here (atomically) instead of stdout.")
@click.option("--limit-order", type=click.IntRange(min=0), help="Keep cut sets of at most N events (SCRAM -l).")
@click.option("--cut-off", type=click.FloatRange(min=0.0, max=1.0), default=DEFAULTS["cut_off"], help="Drop cut sets below P.")
@click.option(
    "--approx",
    type=click.Choice(APPROXIMATIONS),
    default=DEFAULTS["approx"],
    show_default=True,
    help="Which probability is reported as the top-event probability.",
)
@click.option("--mission-time", type=click.FloatRange(min=0.0), metavar="HOURS", help="Mission time in hours.")
@click.option(
    "--cut-set-limit",
    type=click.IntRange(min=0),
    default=DEFAULTS["cut_set_limit"],
    show_default=True,
    help="How many cut sets to list (most probable first); counts are always exact.",
)
@click.option(
    "--max-cut-sets",
    type=click.IntRange(min=1),
    default=DEFAULTS["max_cut_sets"],
    show_default=True,
    help="Refuse to enumerate more cut sets than this (counting is never limited).",
)
@click.option(
    "--max-bdd-nodes",
    type=click.IntRange(min=1),
    default=DEFAULTS["max_bdd_nodes"],
    show_default=True,
    help="Refuse (an error, not an exhausted memory) a BDD that needs more nodes under every order tried.",
)
@click.option(
    "--importance/--no-importance",
    default=DEFAULTS["importance"],
    show_default=True,
    help="Compute importance factors (text, json and md reports); off saves a pass over every BDD.",
)
@click.option("--gate", is_flag=True, help="Exit 1 when a safety goal misses its quantitative target.")
@click.option("--uncertainty", "trials", type=click.IntRange(min=2), metavar="N",
              help="Monte Carlo over the model's uncertainty distributions: N trials per top event.")
@click.option("--seed", type=click.IntRange(min=0), default=DEFAULTS["seed"], show_default=True, help="Seed of the Monte Carlo samples.")
@click.option("--uncertainty-limit", type=click.IntRange(min=2), default=DEFAULTS["uncertainty_limit"], show_default=True,
              help="Refuse more Monte Carlo trials than this unless raised here.")
@click.option("--simulate", "simulate", type=click.IntRange(min=1), metavar="N",
              help="Also estimate P(top) by Monte Carlo over N samples of the basic events (95 % interval).")
@click.option("--model-count", is_flag=True,
              help="Where a tree's BDD exceeds --max-bdd-nodes, compute its exact P(top) alone by weighted model "
                   "counting (Ganak; no cut sets or importance). It can take minutes.")
def fta(
    paths: tuple[str, ...],
    hazard: str | None,
    fmt: str,
    output: str | None,
    limit_order: int | None,
    cut_off: float,
    approx: str,
    mission_time: float | None,
    cut_set_limit: int,
    max_cut_sets: int,
    max_bdd_nodes: int,
    importance: bool,
    gate: bool,
    trials: int | None,
    seed: int,
    uncertainty_limit: int,
    simulate: int | None,
    model_count: bool,
) -> None:
    """Analyse fault trees: exact probability, minimal cut sets, importance.

    PATHS are Open-PSA MEF files (*.xml, read together as one model) or .sops models and folders.
    With --format dot/svg, several trees and -o, the -o path is a folder with one file per tree.
    """
    try:
        run(
            paths, hazard, fmt, output, limit_order, cut_off, approx, mission_time, cut_set_limit, max_cut_sets,
            max_bdd_nodes, importance, gate, trials, seed, uncertainty_limit, simulate, model_count,
        )
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
