"""The format registry is the one table behind the commands' --format choices and the build's exports."""

from __future__ import annotations

from pathlib import Path

import click
from safetyops_dsl.generators import registry

from safetyops_dsl import build as b
from safetyops_dsl.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def _choices(command: str) -> tuple[str, ...]:
    cmd = cli.get_command(click.Context(cli), command)
    assert cmd is not None
    [opt] = [p for p in cmd.params if p.name == "fmt"]
    assert isinstance(opt.type, click.Choice)
    return tuple(opt.type.choices)


def test_every_registered_writer_resolves() -> None:
    for f in registry.FORMATS:
        assert callable(f.load()), f


def test_the_commands_offer_exactly_the_registered_formats() -> None:
    for command, artifact in (("fmea", "fmea"), ("fmeda", "fmeda"), ("hara", "hara"), ("trace", "trace"),
                              ("diff", "diff")):
        assert _choices(command) == registry.choices(artifact), command


def test_the_build_exports_every_exported_format(tmp_path: Path) -> None:
    a = b.analyse(b.BuildOptions(paths=(str(ROOT / "models" / "aeb"),)), with_gsn=False)
    files = b.render_artifacts(a, tmp_path / "out")
    wanted = {f"exports/{f.artifact}.{f.name}" for f in registry.FORMATS if f.export}
    assert wanted <= set(files), wanted - set(files)
    assert registry.find("fmea", "xlsx").binary and isinstance(files["exports/fmea.xlsx"], bytes)
