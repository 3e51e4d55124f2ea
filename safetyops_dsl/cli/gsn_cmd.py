"""`sops gsn PATH...`: the GSN safety case generated from the model, merged with its hand-written arguments.

Output: svg (default, needs Graphviz), dot, json, yaml (gsn2x) or md, to stdout or -o. Diagrams and YAML
come one per module (plus an overview diagram); for them -o names a folder that receives `overview.svg`,
`<module>.svg` ... (`<module>.gsn.yaml` for YAML), unless it ends in the format's suffix (one file). Without -o, DOT and YAML are written
to stdout as one stream; SVG needs -o when there is more than one diagram.

Exit status: 0 written; 1 model errors, GSN validation errors, unreadable results, or (with --gate) a top
goal that is not fully supported; 2 usage errors. Diagnostics go to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from safetyops_dsl.cli.common import load_or_exit, model_options, print_diagnostics, write_output

FORMATS = ("svg", "dot", "json", "yaml", "md")


@click.command("gsn")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="svg", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(),
              help="Write here (atomically). svg/dot/yaml: a folder with a file per module, unless the name ends "
                   "in .svg/.dot/.yaml (one diagram or module only).")
@click.option(
    "--results", "results", multiple=True, type=click.Path(exists=True),
    help="JUnit XML and metrics JSON files, or folders of them (as for `sops trace`). Repeatable.",
)
@click.option("--no-git", is_flag=True, help="Do not ask git whether commit-pinned evidence is stale.")
@click.option(
    "--split", type=click.Choice(["auto", "hazards", "none"]), default="auto", show_default=True,
    help="Modules: one per hazard and ML component (hazards), one per system (none), or by size (auto).",
)
@click.option("--module", "module", metavar="NAME", help="Only this module's diagram (or `overview`).")
@click.option("--gate", is_flag=True, help="Exit 1 unless every top goal is fully supported (passed).")
@model_options
def gsn(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    results: tuple[str, ...],
    no_git: bool,
    split: str,
    module: str | None,
    gate: bool,
    root: str | None,
    cache_dir: str | None,
) -> None:
    """Generate the GSN safety case: hazards -> safety goals -> requirements -> evidence, with status.

    Without --results every evidence solution has status `unknown`; with --results it is passed, failed,
    missing, stale or skipped, and the status rolls up to the goals it supports.
    """
    from safetyops_dsl import diagnostics as dg
    from safetyops_dsl.analysis.gsn import build_case, evidence_statuses, gate_diagnostics
    from safetyops_dsl.analysis.pipeline import Options, analyse

    checked = load_or_exit(list(paths), root, cache_dir)
    model = checked.model
    diags: list[dg.Diagnostic] = []
    statuses = details = None
    if results:
        statuses, details, result_diags = evidence_statuses(model, results, use_git=not no_git)
        # failed / missing / stale evidence is shown in the case itself; only unreadable results are reported
        diags += [d for d in result_diags if d.level is dg.Severity.ERROR]
    # the AMLAS argument cites the ODD coverage and the SOTIF validation targets, read from the same results
    ml_results = analyse(model, Options(results=tuple(results or ()), use_git=not no_git, with_gsn=False))
    case = build_case(model, statuses, split=split, details=details, sotif=ml_results.sotif)
    diags += case.diagnostics
    for d in gate_diagnostics(case):
        diags.append(dg.Diagnostic(d.code, d.message, d.location, d.hint, dg.Severity.ERROR) if gate else d)
    diags = dg.sort_unique(diags)

    if module is not None and module != "overview" and module not in case.modules:
        raise click.UsageError(f"no module named '{module}' (modules: {', '.join(case.modules)})")
    try:
        files = _render(case, fmt, module, diags, title=f"Safety case: {model.root.name}")
    except RuntimeError as exc:  # svg without Graphviz
        click.echo(f"sops: {exc}", err=True)
        sys.exit(1)
    if output is None:
        if fmt == "svg" and len(files) > 1:
            raise click.UsageError(
                f"{len(files)} diagrams (overview and modules): give -o FOLDER, or --module NAME")
        click.echo("".join(text for _, text in files) if fmt != "yaml" else "---\n".join(t for _, t in files),
                   nl=False)
    elif fmt in ("json", "md") or output.endswith((f".{fmt}", ".yml")):
        if len(files) > 1:
            raise click.UsageError(f"{len(files)} files (one per module): give -o a folder, or --module NAME")
        write_output(output, files[0][1])
    else:  # a folder: overview.svg, <module>.svg ... / <module>.gsn.yaml
        for name, text in files:
            write_output(str(Path(output) / name), text)
    print_diagnostics(diags, checked.sources)
    top = ", ".join(f"{t} {case.nodes[t].status}" for t in case.tops) or "none"
    errors, warnings = dg.count(diags)
    click.echo(f"gsn: {len(case.nodes)} elements in {len(case.modules)} module"
               f"{'s' if len(case.modules) != 1 else ''}; top goal {top}; "
               f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}",
               err=True)
    sys.exit(1 if dg.has_errors(diags) else 0)


def _render(case: object, fmt: str, module: str | None, diags: list, title: str) -> list[tuple[str, str]]:
    from safetyops_dsl.analysis.gsn import Case

    assert isinstance(case, Case)
    if fmt == "json":
        from safetyops_dsl.generators.gsn_report import render_json

        return [("gsn.json", render_json(case, diags))]
    if fmt == "md":
        from safetyops_dsl.generators.gsn_report import render_md

        return [("gsn.md", render_md(case, title, diags))]
    if fmt == "yaml":
        from safetyops_dsl.generators.gsn_yaml import render_modules

        mods = render_modules(case)
        if module is not None:
            mods = [(n, t) for n, t in mods if n == module]
        return [(f"{_safe(n)}.gsn.yaml", t) for n, t in mods]
    from safetyops_dsl.generators.gsn_dot import diagrams, svg_from_dot

    out = []
    for name, dot in diagrams(case, module):
        out.append((f"{_safe(name)}.{fmt}", dot if fmt == "dot" else svg_from_dot(dot)))
    return out


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "module"
