"""Import boundaries of the pipeline (architecture.md): parse -> model -> validation -> analyses ->
generators -> CLI, one direction."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def files(*parts: str) -> list[Path]:
    return sorted((ROOT.joinpath(*parts)).rglob("*.py"))


def test_only_the_parser_imports_textx() -> None:
    for f in files("safetyops_dsl") + files("generators"):
        if f.parent.name == "parse":
            continue
        assert not any(m == "textx" or m.startswith("textx.") for m in imports_of(f)), f


def test_generators_import_neither_textx_nor_click() -> None:
    for f in files("generators"):
        bad = [m for m in imports_of(f) if m.split(".")[0] in ("textx", "click", "arpeggio")]
        assert not bad, (f, bad)


def test_model_and_analyses_do_not_import_the_cli_or_generators() -> None:
    for sub in ("model", "validation", "analysis", "fta", "parse"):
        for f in files("safetyops_dsl", sub):
            bad = [m for m in imports_of(f) if m.startswith(("safetyops_dsl.cli", "click"))]
            assert not bad, (f, bad)


def test_model_does_not_import_analyses() -> None:
    for f in files("safetyops_dsl", "model"):
        bad = [m for m in imports_of(f) if m.startswith(("safetyops_dsl.analysis", "safetyops_dsl.validation"))]
        assert not bad, (f, bad)


def test_every_package_folder_is_listed_in_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for init in sorted((ROOT / "safetyops_dsl").rglob("__init__.py")):
        dotted = ".".join(init.parent.relative_to(ROOT).parts)
        assert f'"{dotted}"' in text, f"{dotted} is missing from [tool.setuptools] packages"
