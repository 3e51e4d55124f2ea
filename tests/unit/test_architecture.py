"""Import boundaries of the pipeline (docs/architecture.md): every import points down the layers, checked in
both directions for every module with no exceptions list, and the core layers import nothing inside
functions (such an import is how a cycle hides)."""

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


# Lower rank = lower layer. A module imports its own layer or strictly lower ones. The engine (fta) is a
# library of its own beside the model: it knows diagnostics only.
RANK = {
    "schemas": 0,  # names and versions of the JSON outputs: data only
    "lazy_dataclasses": 0,  # the dataclass decorator of the types on `sops fta`'s start-up path
    "diagnostics": 1, "graphs": 1, "atomic": 1, "grammar": 1, "binomial": 1, "gc_pause": 1,
    "fta": 2,
    "model": 3,
    "parse": 4, "validation": 4,
    "analysis": 5,
    "generators": 6,
    "api": 7, "ops": 7,  # ops: MLflow and DVC readers, asked by the CLI
    "build": 8, "fmt": 8, "lsp": 8,
    "reqif": 9,  # edits model files: it uses the formatter
    "docs_render": 9,  # the docs tools' adapter: above build (it asks it), below the CLI (`sops docs`)
    "cli": 10,
    "__main__": 11, "__init__": 11, "sphinx": 11, "mkdocs_plugin": 11,
}


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    dotted = ".".join(rel.parts)
    return "safetyops_dsl." + dotted if rel.parts[0] == "generators" else dotted


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "safetyops_dsl":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):  # a bare `import safetyops_dsl` only locates the package folder
        return [a.name for a in node.names if a.name != "safetyops_dsl"]
    if isinstance(node, ast.ImportFrom) and node.module:
        if node.module == "safetyops_dsl":  # `from safetyops_dsl import build`
            return [f"safetyops_dsl.{a.name}" for a in node.names]
        return [node.module]
    return []


def test_every_import_points_down_the_layers() -> None:
    bad = []
    for f in files("safetyops_dsl") + files("generators"):
        me = _layer(_module(f))
        assert me in RANK, f"{f}: package {me} has no layer in RANK"
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            for m in _imported(node):
                other = _layer(m)
                if other is None or other == me:
                    continue
                assert other in RANK, f"{f}: {m} has no layer"
                if RANK[other] >= RANK[me]:
                    bad.append(f"{f.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}: {me} imports {m}")
    assert not bad, "\n".join(bad)


def _function_imports(tree: ast.AST) -> list[int]:
    out = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            out += [n.lineno for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom)
                    and any(m.startswith("safetyops_dsl") for m in _imported(n))]
    return out


def test_the_core_layers_import_nothing_inside_functions() -> None:
    """model, validation and analysis import at the top of the module: an import inside a function is how an
    import cycle (validation <-> analysis, index <-> instances) used to be hidden."""
    bad = []
    for sub in ("model", "validation", "analysis"):
        for f in files("safetyops_dsl", sub):
            bad += [f"{f.relative_to(ROOT)}:{line}" for line in _function_imports(ast.parse(f.read_text("utf-8")))]
    assert not bad, bad


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
