"""`sops build PATH -o OUT`: every analysis and the static report site in one folder; `--check OUT` fails
when a committed folder is out of date (like a lockfile check).

Exit status: 0 built, up to date, or (with --check) identical; 1 model errors, a folder that is not ours,
inputs that kept changing during the build, an OUT that cannot be written, or (with --check) differences;
2 usage errors. A second build into the same OUT waits for the first (a lock file `.OUT.lock` next to OUT).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

import click

from safetyops_dsl.cli.common import mlflow_option, model_options, print_diagnostics, refused

if TYPE_CHECKING:
    from safetyops_dsl.build import Progress

T = TypeVar("T")


class TerminalProgress:
    """Phase lines with timings on stderr, and a bar for phases with several steps."""

    def __init__(self) -> None:
        self.depth = 0

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        click.echo(f"  {name:<22} {time.perf_counter() - started:6.2f} s", err=True)

    def items(self, name: str, items: Sequence[T]) -> Iterable[T]:
        if len(items) < 2:
            return items
        return _bar(name, items)


def _bar(name: str, items: Sequence[T]) -> Iterator[T]:
    with click.progressbar(items, label=f"  {name}", file=sys.stderr, show_pos=True, width=24) as bar:
        yield from bar


def progress_enabled(quiet: bool) -> bool:
    """Bars on a terminal, unless --quiet or in CI (the CI variable set, as every CI service does)."""
    return not quiet and sys.stderr.isatty() and not os.environ.get("CI")


def make_progress(quiet: bool) -> Progress:
    """Bars on a terminal; whole lines (stage, count, elapsed) elsewhere, e.g. in a CI log; none with -q."""
    from safetyops_dsl import build as b

    if quiet:
        return b.QuietProgress()
    if progress_enabled(quiet):
        return TerminalProgress()
    return b.LineProgress(lambda line: click.echo(line, err=True))


@click.command("build")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("-o", "--output", "output", type=click.Path(file_okay=False), metavar="OUT",
              help="Output folder (created, or replaced as a whole when it holds an earlier build).")
@click.option("--check", "check_dir", type=click.Path(file_okay=False), metavar="OUT",
              help="Do not write: regenerate and compare with OUT; exit 1 listing files that differ.")
@click.option("--results", "results", multiple=True, type=click.Path(exists=True),
              help="JUnit XML / metrics JSON files or folders (as sops trace). Repeatable.")
@click.option("--campaign-results", "campaign_results", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Fault-injection results (JUnit XML / sops-injection-results JSON). Default: injection.xml or "
                   "injection.json in the result folders. Repeatable.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
              help="A .sops file with a policy block overriding the model's policy.")
@click.option("--no-git", is_flag=True, help="Do not ask git whether commit-pinned evidence is stale.")
@click.option("--single-file", "single_file", is_flag=True,
              help="Also write OUT/report.html: the whole report in one offline HTML file (diagrams inline).")
@click.option("--uncertainty", "uncertainty", type=click.IntRange(min=0, max=100_000), default=0, metavar="N",
              help="Monte Carlo over the model's uncertainty distributions, N trials per fault tree (seed 1: the "
                   "same bytes every build); the fault-tree pages draw the histogram. Default 0: none.")
@click.option("--force", is_flag=True, help="Rebuild even when OUT is up to date.")
@click.option("-q", "--quiet", is_flag=True,
              help="No progress output (otherwise bars on a terminal, lines with elapsed seconds elsewhere or in CI).")
@mlflow_option
@model_options
def build(
    paths: tuple[str, ...],
    output: str | None,
    check_dir: str | None,
    results: tuple[str, ...],
    campaign_results: tuple[str, ...],
    policy_file: str | None,
    no_git: bool,
    single_file: bool,
    uncertainty: int,
    force: bool,
    quiet: bool,
    mlflow_uri: str | None,
    root: str | None,
    cache_dir: str | None,
) -> None:
    """Run check, fault trees, FMEA/FMEDA, HARA, trace and GSN; write every artifact and a static report
    site (OUT/index.html) under OUT, with OUT/manifest.json listing every file and its sha256.

    A rerun on unchanged inputs finds OUT up to date and does nothing. `--check OUT` regenerates with the
    inputs recorded in OUT/manifest.json (or PATHS and options, when given) and compares.
    """
    from safetyops_dsl import build as b
    from safetyops_dsl.atomic import OutputRefused

    if (output is None) == (check_dir is None):
        raise click.UsageError("give either -o OUT (build) or --check OUT (compare)")
    if output is not None and not paths:
        raise click.UsageError("give the model PATHS to build")
    progress = make_progress(quiet)
    opts = b.BuildOptions(paths=paths, root=root, results=results, policy=policy_file, use_git=not no_git,
                          cache_dir=cache_dir, single_file=single_file, campaign_results=campaign_results,
                          mlflow=mlflow_uri or None, uncertainty=uncertainty)
    try:
        if check_dir is not None:
            report = b.check_build(check_dir, opts if paths else None, progress)
            _print_check(check_dir, report)
            sys.exit(0 if report.ok else 1)
        assert output is not None
        built = b.build(opts, output, force=force, progress=progress, notify=_notice)
    except b.BuildError as exc:
        from safetyops_dsl import diagnostics as dg

        print_diagnostics(exc.diagnostics, exc.sources)
        click.echo(dg.summary(exc.diagnostics, exc.file_count), err=True)
        click.echo("sops build: model errors, nothing written", err=True)
        sys.exit(1)
    except b.InputsChanged as exc:
        click.echo(f"sops build: {', '.join(exc.files)} changed while being built, {b.BUILD_ATTEMPTS} times: "
                   f"nothing written; build again once the files are saved", err=True)
        sys.exit(1)
    except OutputRefused as exc:
        refused(exc)
    except (FileExistsError, FileNotFoundError) as exc:
        click.echo(f"sops build: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:  # an OUT (or its lock) that cannot be written
        where = f" '{exc.filename}'" if exc.filename else ""
        click.echo(f"sops build: cannot write{where}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    if built.cleaned:
        click.echo(f"removed what an interrupted build left: {', '.join(built.cleaned)}", err=True)
    if built.up_to_date:
        click.echo(f"{output}: up to date ({built.files} files, {built.seconds:.2f} s)", err=True)
        return
    gate = "passed" if built.gate_passed else "FAILED (see index.html or run sops gate)"
    click.echo(f"{output}: {built.files} files written in {built.seconds:.2f} s; "
               f"GSN {'included' if built.gsn else 'not available'}; release gate {gate}", err=True)


def _notice(text: str) -> None:
    click.echo(f"sops build: {text}", err=True)


def _print_check(out: str, report: object) -> None:
    from safetyops_dsl.build import CheckReport

    assert isinstance(report, CheckReport)
    if report.ok:
        click.echo(f"{out}: up to date", err=True)
        return
    for label, names in (("differs", report.differ), ("missing", report.missing), ("extra", report.extra)):
        for name in names:
            click.echo(f"{label:8} {out.rstrip('/')}/{name}")
    total = len(report.differ) + len(report.missing) + len(report.extra)
    click.echo(f"sops build --check: {out} is out of date ({total} file{'s' if total != 1 else ''}); "
               f"rerun sops build and commit the result", err=True)
