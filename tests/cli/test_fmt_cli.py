"""`sops fmt` as a user and CI run it: in-place rewrite, --check, --diff, refusal of unparsable files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from safetyops_dsl.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
UGLY = 'component A "a" {  out x\n  failure F rate 1 FIT   // cause\n x.omission<-F }\n'
PRETTY = 'component A "a" {\n    out x\n    failure F rate 1 FIT  // cause\n    x.omission <- F\n}\n'


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "ugly.sops").write_text(UGLY, encoding="utf-8")
    (tmp_path / "sub" / "pretty.sops").write_text(PRETTY, encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "skip.sops").write_text(UGLY, encoding="utf-8")
    return tmp_path


def test_fmt_rewrites_only_what_changes(tree: Path) -> None:
    before = (tree / "sub" / "pretty.sops").stat().st_mtime_ns
    code, out = run("fmt", str(tree))
    assert code == 0, out
    assert (tree / "ugly.sops").read_text(encoding="utf-8") == PRETTY
    assert (tree / "sub" / "pretty.sops").stat().st_mtime_ns == before
    assert (tree / ".hidden" / "skip.sops").read_text(encoding="utf-8") == UGLY
    assert f"reformatted {(tree / 'ugly.sops').as_posix()}" in out
    assert "1 file reformatted, 1 unchanged" in out
    assert not [p for p in tree.rglob("*.tmp")], "atomic write left a temporary file"
    code, out = run("fmt", "--check", str(tree))
    assert code == 0 and "0 files would be reformatted, 2 unchanged" in out


def test_check_lists_files_and_writes_nothing(tree: Path) -> None:
    code, out = run("fmt", "--check", str(tree))
    assert code == 1
    assert f"would reformat {(tree / 'ugly.sops').as_posix()}" in out
    assert "pretty.sops" not in out
    assert (tree / "ugly.sops").read_text(encoding="utf-8") == UGLY


def test_diff_shows_the_change_and_writes_nothing(tree: Path) -> None:
    code, out = run("fmt", "--diff", str(tree / "ugly.sops"))
    assert code == 0
    assert "--- " in out and "+++ " in out
    assert '-component A "a" {  out x' in out
    assert "+    x.omission <- F" in out
    assert (tree / "ugly.sops").read_text(encoding="utf-8") == UGLY
    code, out = run("fmt", "--check", "--diff", str(tree / "ugly.sops"))
    assert code == 1 and "+    x.omission <- F" in out


def test_a_file_that_does_not_parse_is_left_alone(tree: Path) -> None:
    broken = tree / "broken.sops"
    broken.write_text("component B {\n    falure F rate 1 FIT\n}\n", encoding="utf-8")
    code, out = run("fmt", str(tree))
    assert code == 1
    assert "error[SOPS001]" in out and "did you mean 'failure'?" in out
    assert f"cannot format {broken.as_posix()}" in out
    assert broken.read_text(encoding="utf-8") == "component B {\n    falure F rate 1 FIT\n}\n"
    assert (tree / "ugly.sops").read_text(encoding="utf-8") == PRETTY  # the others are still formatted
    assert "1 failed" in out


def test_semantic_errors_do_not_stop_formatting(tmp_path: Path) -> None:
    f = tmp_path / "unknown.sops"
    f.write_text("component A { part p : Missing }", encoding="utf-8")
    code, out = run("fmt", str(f))
    assert code == 0, out
    assert f.read_text(encoding="utf-8") == "component A {\n    part p : Missing\n}\n"


def test_usage_errors(tmp_path: Path) -> None:
    code, out = run("fmt")
    assert code == 2
    code, out = run("fmt", str(tmp_path / "missing.sops"))
    assert code == 1 and "SOPS002" in out
    code, out = run("fmt", str(tmp_path))  # an empty folder
    assert code == 1 and "SOPS006" in out


def test_fmt_is_listed_in_the_help() -> None:
    code, out = run("--help")
    assert code == 0 and "fmt" in out


def test_relative_paths_are_reported_as_given(tree: Path) -> None:
    old = os.getcwd()
    os.chdir(tree)
    try:
        code, out = run("fmt", "--check", ".")
    finally:
        os.chdir(old)
    assert code == 1 and "would reformat ugly.sops" in out


def read_hooks(text: str) -> list[dict[str, object]]:
    """.pre-commit-hooks.yaml is a flat list of maps with scalar values; PyYAML is not a dependency."""
    hooks: list[dict[str, object]] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if line.startswith("- "):
            hooks.append({})
            line = line[2:]
        key, _, value = line.strip().partition(": ")
        hooks[-1][key] = {"true": True, "false": False}.get(value, value)
    return hooks


def test_pre_commit_hooks_run_sops(tree: Path) -> None:
    hooks = {
        str(h["id"]): h for h in read_hooks((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    }
    assert set(hooks) == {"sops-fmt", "sops-check"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        files, entry = str(hook["files"]), str(hook["entry"])
        assert re.search(files, "models/x.sops") and not re.search(files, "x.sops.bak")
        assert entry.split()[0] == "sops"
    assert hooks["sops-fmt"]["pass_filenames"] is True
    assert hooks["sops-check"]["pass_filenames"] is False  # a model is checked whole, named in args
    # the entries as pre-commit runs them: entry + args (+ file names)
    code, out = run(*str(hooks["sops-fmt"]["entry"]).split()[1:], str(tree / "ugly.sops"))
    assert code == 1 and "would reformat" in out
    code, out = run(*str(hooks["sops-check"]["entry"]).split()[1:], str(ROOT / "models" / "aeb"))
    assert code == 0, out


def test_rewrite_keeps_the_mode_and_follows_symbolic_links(tmp_path: Path) -> None:
    real = tmp_path / "real.sops"
    real.write_text(UGLY, encoding="utf-8")
    real.chmod(0o664)
    link = tmp_path / "sub" / "link.sops"
    link.parent.mkdir()
    link.symlink_to(real)
    code, out = run("fmt", str(link))
    assert code == 0, out
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == PRETTY
    assert real.stat().st_mode & 0o777 == 0o664
