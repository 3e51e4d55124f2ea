"""Confinement: a model reads only files under its root (imports, artifacts), follows no `..`, absolute
path or symbolic link out of it, and nothing written in a model is executed (no eval, no template code, no
shell, no git option injection). Result files and Open-PSA XML are parsed without DTDs or entities."""

from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

import pytest
from harness import ROOT, run_cli

from safetyops_dsl.api import check

LEAF = 'component Leaf "leaf" { out o  failure F rate 1 FIT  o.omission <- F }\n'
SECRET = 'component Secret "must never be read" { out o  failure S rate 1 FIT  o.omission <- S }\n'


def _codes(checked) -> set[str]:  # type: ignore[no-untyped-def]
    return {d.code for d in checked.diagnostics}


def _layout(tmp: Path, import_line: str) -> Path:
    root = tmp / "model"
    (root / "sub").mkdir(parents=True)
    (tmp / "outside.sops").write_text(SECRET, encoding="utf-8")
    (root / "sub" / "inner.sops").write_text(LEAF, encoding="utf-8")
    (root / "main.sops").write_text(f"{import_line}\n{LEAF.replace('Leaf', 'Main')}", encoding="utf-8")
    return root


@pytest.mark.parametrize("import_path", [
    "../outside.sops",
    "sub/../../outside.sops",
    "./sub/../../outside.sops",
    "sub/../../model/../outside.sops",
    "{abs}",
    "//{abs}",
])
def test_imports_cannot_leave_the_root(tmp_path: Path, import_path: str) -> None:
    outside = tmp_path / "outside.sops"
    root = _layout(tmp_path, f'import "{import_path.format(abs=outside.as_posix()).replace("///", "/")}"')
    checked = check([root / "main.sops"], root=root)
    assert "SOPS004" in _codes(checked), checked.diagnostics
    assert checked.model is None or "Secret" not in str(list(checked.model.components))
    assert not any("outside.sops" in f for f in checked.sources), checked.sources


def test_symlinked_file_pointing_outside_is_refused(tmp_path: Path) -> None:
    root = _layout(tmp_path, 'import "sub/link.sops"')
    os.symlink(tmp_path / "outside.sops", root / "sub" / "link.sops")
    checked = check([root / "main.sops"], root=root)
    assert "SOPS004" in _codes(checked), checked.diagnostics
    assert not any("outside" in f for f in checked.sources)


def test_symlinked_folder_pointing_outside_is_refused(tmp_path: Path) -> None:
    root = _layout(tmp_path, 'import "escape/outside.sops"')
    os.symlink(tmp_path, root / "escape", target_is_directory=True)
    checked = check([root / "main.sops"], root=root)
    assert "SOPS004" in _codes(checked), checked.diagnostics


def test_folder_scan_does_not_follow_a_symlink_out(tmp_path: Path) -> None:
    root = _layout(tmp_path, "")
    os.symlink(tmp_path / "outside.sops", root / "link.sops")
    checked = check([root], root=root)
    assert "SOPS004" in _codes(checked), checked.diagnostics
    assert checked.model is None or not any("Secret" in k for k in checked.model.components)


def test_import_inside_the_root_still_works(tmp_path: Path) -> None:
    root = _layout(tmp_path, 'import "sub/../sub/inner.sops"')
    checked = check([root / "main.sops"], root=root)
    assert not {"SOPS003", "SOPS004"} & _codes(checked), checked.diagnostics


def test_cli_refuses_escaping_imports(tmp_path: Path) -> None:
    root = _layout(tmp_path, 'import "../outside.sops"')
    proc = run_cli(["check", str(root / "main.sops"), "--root", str(root)])
    assert proc.returncode == 1 and "SOPS004" in proc.stdout + proc.stderr


@pytest.mark.parametrize("artifact", ["../secret.txt", "/{abs}", "sub/../../secret.txt", "link.txt"])
def test_evidence_artifacts_outside_the_root_are_never_hashed(tmp_path: Path, artifact: str) -> None:
    """A pinned artifact outside the root is stale, even when its digest matches: the file is not read."""
    import hashlib

    from safetyops_dsl.analysis.evidence import staleness

    secret = tmp_path / "secret.txt"
    secret.write_text("secret", encoding="utf-8")
    digest = hashlib.sha256(b"secret").hexdigest()
    root = tmp_path / "model"
    root.mkdir()
    os.symlink(secret, root / "link.txt")
    path = artifact.format(abs=secret.as_posix().lstrip("/"))
    (root / "m.sops").write_text(
        LEAF + f'evidence E review "r" supports Leaf artifact "{path}" sha256 "{digest}"\n', encoding="utf-8")
    checked = check([root], root=root)
    assert checked.model is not None
    [ev] = checked.model.evidence.values()
    stale, reason = staleness(root, ev, use_git=False)
    assert stale and "outside the model root" in reason, reason


def test_evidence_commit_cannot_inject_git_options(tmp_path: Path) -> None:
    from safetyops_dsl.analysis.evidence import staleness

    root = tmp_path / "model"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    pwned = tmp_path / "pwned"
    (root / "a.txt").write_text("a", encoding="utf-8")
    (root / "m.sops").write_text(
        LEAF + f'evidence E review "r" supports Leaf artifact "a.txt" commit "--output={pwned}"\n', encoding="utf-8")
    checked = check([root], root=root)
    assert checked.model is not None
    [ev] = checked.model.evidence.values()
    staleness(root, ev, use_git=True)
    assert not pwned.exists()


def test_model_text_is_never_evaluated_as_a_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Jinja syntax in model strings stays text in the HTML reports (autoescaped, not rendered)."""
    monkeypatch.chdir(tmp_path)  # the reports cite "m/m.sops": no digits of pytest's numbered tmp folder
    root = Path("m")
    root.mkdir()
    (root / "m.sops").write_text(
        'component C "{{ 7*7 }}{% for x in range(3) %}X{% endfor %}" { out o\n'
        '  failure F rate 1 FIT "{{ cycler.__init__.__globals__.os.popen(\'id\').read() }}"\n  o.omission <- F }\n'
        'system S "s" { out o  part c : C  connect c.o -> o }\n'
        'hazard H "{{ 6*7 }}" { severity S3 exposure E4 controllability C3  when o.omission }\n'
        'safety_goal SG "g" mitigates H { safe_state "off" ftti 1 s }\n', encoding="utf-8")
    for cmd in (["fmea", "--format", "html"], ["hara", "--format", "html"], ["trace", "--format", "html"]):
        out = run_cli([*cmd, str(root), "--no-git"] if cmd[0] == "trace" else [*cmd, str(root)]).stdout
        assert "49" not in out and "42" not in out and "uid=" not in out, cmd
        assert "{{ 6*7 }}" in out, cmd


PRODUCT = sorted((ROOT / "safetyops_dsl").rglob("*.py")) + sorted((ROOT / "generators").rglob("*.py"))


def _screened_by_defusedxml(f: Path, tree: ast.AST) -> bool:
    """The ReqIF reader parses with lxml (the `reqif` library does anyway, and lxml gives the XSD errors their
    line numbers), but only bytes that defusedxml has first parsed with `forbid_dtd=True`: no DOCTYPE, so no
    entity expansion or external reference can reach lxml (tests/unit/test_reqif.py tries both)."""
    if f.parent.name != "reqif" or f.name != "read.py":
        return False
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "fromstring"
               and isinstance(n.func.value, ast.Name) and n.func.value.id == "safe_et"
               and any(k.arg == "forbid_dtd" and isinstance(k.value, ast.Constant) and k.value.value is True
                       for k in n.keywords)
               for n in ast.walk(tree))


def test_product_code_executes_nothing_from_its_inputs() -> None:
    """No eval/exec/compile (but for the parser generated from the grammar), no shell=True, no unsafe YAML; pickle only for the local parse cache and a forked child's result; XML input
    only through defusedxml (the SVG post-processing parses Graphviz's own output, also with defusedxml)."""
    problems = []
    for f in PRODUCT:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                fn = node.func
                name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
                # the exceptions: the parser generated from the packaged grammar (never from an input;
                # test_fast_parser.py::test_the_generated_source_depends_on_the_grammar_only), and the
                # __init__ lazy_dataclasses compiles from a class declaration's field names, as dataclasses
                # does (identifiers only: test_lazy_dataclasses.py::test_a_declaration_it_cannot_honour_is_refused)
                generated = (f.name == "fast_parser.py" and name in ("exec", "compile")
                             or f.name == "lazy_dataclasses.py" and name == "exec")
                if isinstance(fn, ast.Name) and name in ("eval", "exec", "compile", "__import__") and not generated:
                    problems.append(f"{f}:{node.lineno}: {name}()")
                if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                       for k in node.keywords):
                    problems.append(f"{f}:{node.lineno}: shell=")
                if name in ("load", "loads") and isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name):
                    # the parse cache: its entries (loader.py) and the components in them, unpickled as
                    # they are used (lazy_components.py: pieces of an entry loader.py read);
                    # validation/forked.py: what its own forked child computed from the model already in
                    # memory, over a pipe the parent made (never an input)
                    if fn.value.id == "pickle" and f.name not in ("loader.py", "lazy_components.py", "forked.py"):
                        problems.append(f"{f}:{node.lineno}: pickle.{name} outside the parse cache")
                    if fn.value.id in ("yaml", "marshal"):
                        problems.append(f"{f}:{node.lineno}: {fn.value.id}.{name}")
        # stdlib XML modules may be imported for their types (ParseError, Element); parsing goes through
        # defusedxml. Flag any parse call on a stdlib XML module alias.
        unsafe = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
                  if a.name.startswith(("xml.", "lxml"))}
        unsafe |= {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                   and (n.module or "").startswith(("xml.", "lxml")) for a in n.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("parse", "fromstring", "XML", "iterparse", "XMLParser", "parseString",
                                           "make_parser", "fromstringlist") \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in unsafe \
                    and not _screened_by_defusedxml(f, tree):
                problems.append(f"{f}:{node.lineno}: {node.func.value.id}.{node.func.attr} (use defusedxml)")
    assert not problems, "\n".join(problems)
