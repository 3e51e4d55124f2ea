"""Options and output helpers shared by the subcommands (defined once, as pip-tools does)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.atomic import OutputRefused
from safetyops_dsl.cli import output
from safetyops_dsl.diagnostics import Diagnostic

if TYPE_CHECKING:
    from safetyops_dsl.analysis.evidence import OpsResults
    from safetyops_dsl.model.index import Model

F = TypeVar("F", bound=Callable[..., Any])


def mlflow_option(func: F) -> F:
    return click.option(
        "--mlflow", "mlflow_uri", default=None, envvar="MLFLOW_TRACKING_URI", metavar="URI",
        help="Read ML metric evidence from this MLflow tracking store (http(s)://, sqlite:///PATH, file:PATH): "
             "each ml_component's registered model version and its source run. Env: MLFLOW_TRACKING_URI.",
    )(func)


def model_options(func: F) -> F:
    func = click.option(
        "--root",
        type=click.Path(file_okay=False, exists=True),
        default=None,
        help="Model root: imports may not leave it. Default: the folder holding all given paths.",
    )(func)
    func = click.option(
        "--cache-dir",
        type=click.Path(file_okay=False),
        default=None,
        envvar="SOPS_CACHE_DIR",
        help="Reuse parsed files from this folder (content-hash keyed). Env: SOPS_CACHE_DIR.",
    )(func)
    return func


def print_diagnostics(
    diags: Sequence[Diagnostic], sources: dict[str, list[str]], brief: bool = False, stream: Any = None
) -> None:
    out = stream or sys.stderr
    for d in diags:
        click.echo(dg.render_one(d, sources.get(d.location.file), brief=brief), file=out)


def load_or_exit(paths: Sequence[str], root: str | None, cache_dir: str | None, strict: bool = False) -> Any:
    """Run the front end; print diagnostics (errors and warnings) to stderr; exit 1 on errors."""
    from safetyops_dsl.api import check

    checked = check(paths, root=root, cache_dir=cache_dir)
    diags = dg.promote_warnings(checked.diagnostics) if strict else checked.diagnostics
    errors = [d for d in diags if d.level is dg.Severity.ERROR]
    if errors or checked.model is None:
        print_diagnostics(errors, checked.sources)
        click.echo(dg.summary(diags, checked.file_count), err=True)
        sys.exit(1)
    return checked


def refused(exc: OutputRefused) -> NoReturn:
    """An atomic.OutputRefused as a diagnostic at the output path, exit 1."""
    output.refused(exc)


def write_output(output_path: str | None, data: str | bytes) -> None:
    """Text to stdout when no file is named (or `-`), else the file (safetyops_dsl.atomic: regular files
    replaced atomically, special files written in place, links written through); a failed write is exit 1."""
    try:
        output.write_output(output_path, data)
    except output.UsageProblem as exc:
        raise click.UsageError(str(exc)) from None


def text_lines(files: Sequence[str]) -> dict[str, list[str]]:
    """Lines of result files, for the excerpt under a diagnostic positioned in them (unreadable: no excerpt)."""
    out: dict[str, list[str]] = {}
    for f in files:
        try:
            with open(f, encoding="utf-8", errors="replace") as fh:
                out[f] = fh.read(1 << 22).splitlines()
        except OSError:
            continue
    return out


def read_ops(results: Sequence[str], uri: str | None, model: Model, sources: dict[str, list[str]],
             file_count: int) -> tuple[tuple[str, ...], OpsResults | None]:
    """The result files left for the CI reader, and what the MLflow registry at `uri` and the DVC pipelines
    among `results` answer (ops/sources.py). One that cannot answer is bad input: its diagnostics are printed
    and the command exits 1 before writing anything."""
    if not uri and not any(Path(r).name == "dvc.yaml" for r in results):
        return tuple(results), None
    from safetyops_dsl.ops import sources as ops_sources

    files, ops = ops_sources.read(results, uri, model)
    errors = [d for d in ops.diagnostics if d.level is dg.Severity.ERROR] if ops is not None else []
    if errors:
        print_diagnostics(dg.sort_unique(errors), sources)
        click.echo(dg.summary(errors, file_count), err=True)
        sys.exit(1)
    return files, ops
