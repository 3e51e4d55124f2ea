"""`sops build` under faults (issue 17 items 1 and 3, issue 12 item 6): a model edited during the build is
never recorded as built; concurrent builds into one folder wait for each other instead of breaking each
other's swap; what a killed build left is removed (or put back) by the next one; the output tree is
readable by others. Races are made deterministic with hooks (a patched render step, os.replace, the lock's
notice), never with sleeps.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import stat
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from harness import ROOT, SOPS

from safetyops_dsl import build as b
from safetyops_dsl.cli.main import cli

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")

EDIT = ("No braking", "EDITED braking")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "models" / "aeb", tmp_path / "model")
    return tmp_path


def _opts(work: Path) -> b.BuildOptions:
    return b.BuildOptions(paths=(str(work / "model"),), use_git=False)


def _edit(work: Path) -> None:
    f = work / "model" / "safety.sops"
    f.write_text(f.read_text(encoding="utf-8").replace(*EDIT, 1), encoding="utf-8")


def _site_text(out: Path) -> str:
    return (out / "exports" / "hara.md").read_text(encoding="utf-8")


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".out."))


# -- item 1: a stale build recorded as up to date ------------------------------------------------------------


def test_a_model_edited_during_the_build_is_never_recorded_as_built(work: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's reproduction: edit safety.sops while `build --force` renders, then build again. Before,
    the edited file's hash was recorded next to output made from the old text, and every rerun said "up to
    date". Now the build notices and starts over, so the output holds the edit."""
    out = work / "out"
    b.build(_opts(work), out)
    real_render = b.render_artifacts
    renders: list[int] = []

    def render_while_editing(a: Any, target: Path, *args: Any) -> dict[str, bytes]:
        if not renders:
            _edit(work)  # the analysis has read the file; the editor saves now
        renders.append(1)
        return real_render(a, target, *args)

    monkeypatch.setattr(b, "render_artifacts", render_while_editing)
    b.build(_opts(work), out, force=True)
    monkeypatch.undo()
    assert len(renders) == 2  # the first output, made from the old text, was not kept
    again = b.build(_opts(work), out)
    assert again.up_to_date
    assert EDIT[1] in _site_text(out) and EDIT[0] not in _site_text(out)
    manifest = json.loads((out / "manifest.json").read_text())
    recorded = manifest["inputs"]["files"]["../model/safety.sops"]
    assert recorded == hashlib.sha256((work / "model" / "safety.sops").read_bytes()).hexdigest()


def test_inputs_that_keep_changing_end_the_build_and_write_nothing(work: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    out = work / "out"
    b.build(_opts(work), out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real_render = b.render_artifacts
    n = [0]

    def render_while_editing(a: Any, target: Path, *args: Any) -> dict[str, bytes]:
        n[0] += 1
        f = work / "model" / "safety.sops"
        f.write_text(f.read_text(encoding="utf-8") + f"\n// save {n[0]}\n", encoding="utf-8")
        return real_render(a, target, *args)

    monkeypatch.setattr(b, "render_artifacts", render_while_editing)
    result = CliRunner().invoke(cli, ["build", str(work / "model"), "-o", str(out), "--no-git", "--force", "-q"])
    assert result.exit_code == 1, result.output
    assert result.output.count("building again") == b.BUILD_ATTEMPTS - 1 and "safety.sops" in result.output
    assert "changed while being built" in result.output and "nothing written" in result.output
    assert n[0] == b.BUILD_ATTEMPTS
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert _hidden(work) == []


def test_a_new_model_file_during_the_build_is_a_change(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that appears under the model folder was not analysed: recording it would be a mixed state."""
    real_analyse = b.analyse
    calls = [0]

    def analyse_then_add(*args: Any, **kwargs: Any) -> Any:
        a = real_analyse(*args, **kwargs)
        calls[0] += 1
        if calls[0] == 1:
            (work / "model" / "extra.sops").write_text("// added while building\n", encoding="utf-8")
        return a

    monkeypatch.setattr(b, "analyse", analyse_then_add)
    b.build(_opts(work), work / "out")
    assert calls[0] == 2
    assert "../model/extra.sops" in json.loads((work / "out" / "manifest.json").read_text())["inputs"]["files"]


def test_the_loader_exposes_the_hash_of_the_bytes_it_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    from safetyops_dsl.api import check
    from safetyops_dsl.parse import loader

    f = tmp_path / "m.sops"
    parsed = b"component A {\n    out o\n}\n"
    f.write_bytes(parsed)
    real_read = Path.read_bytes

    def read_then_change(self: Path) -> bytes:
        data = real_read(self)
        if self == f.resolve():
            f.write_bytes(parsed + b"// changed after the read\n")
        return data

    monkeypatch.setattr(loader.Path, "read_bytes", read_then_change)
    checked = check([str(f)])
    assert checked.digests == {str(f.resolve()): hashlib.sha256(parsed).hexdigest()}


# -- item 3: concurrent builds into one folder -----------------------------------------------------------------


def test_a_second_build_waits_for_the_first_instead_of_breaking_its_swap(work: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Build A is stopped between the two renames of its swap (OUT moved aside, the new folder not yet in
    place) while build B starts. Before: B renamed its folder into the free name, A's second rename failed
    with ENOTEMPTY, its rollback too, and `.out.old-*` stayed. Now B waits for A's lock, then finds OUT up
    to date."""
    out = work / "out"
    b.build(_opts(work), out)
    _edit(work)  # so that A really rebuilds and swaps
    b_waiting = threading.Event()
    b_result: list[Any] = []
    real_replace = os.replace

    def run_b() -> None:
        try:
            b_result.append(b.build(_opts(work), out))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            b_result.append(exc)
        finally:
            b_waiting.set()  # B finished without waiting (no lock): the assertions below say so

    thread = threading.Thread(target=run_b)

    class Flock:
        """fcntl, telling when B finds the lock taken (and is about to wait for it)."""

        def __getattr__(self, name: str) -> Any:
            return getattr(fcntl, name)

        def flock(self, fd: int, op: int) -> None:
            try:
                fcntl.flock(fd, op)
            except BlockingIOError:
                if threading.current_thread() is thread:
                    b_waiting.set()
                raise

    def replace_and_let_b_in(src: Any, dst: Any) -> None:
        real_replace(src, dst)
        if Path(dst).name.startswith(".out.old-") and thread.ident is None:  # A's swap, halfway: B starts
            thread.start()
            assert b_waiting.wait(timeout=600)

    monkeypatch.setattr(b.os, "replace", replace_and_let_b_in)
    monkeypatch.setattr(b, "fcntl", Flock(), raising=False)
    a_report = b.build(_opts(work), out)
    thread.join(timeout=600)
    monkeypatch.undo()
    assert not a_report.up_to_date
    assert len(b_result) == 1 and isinstance(b_result[0], b.BuildReport), b_result
    assert b_result[0].up_to_date  # it waited, then found A's output current
    assert EDIT[1] in _site_text(out)
    assert _hidden(work) == []


def test_cli_says_it_waits_for_the_lock(work: Path) -> None:
    """A build into a folder whose lock is held prints one line and waits; it goes on once the lock is free."""
    out = work / "out"
    with b.build_lock(out.resolve()):
        proc = subprocess.Popen([SOPS, "build", str(work / "model"), "-o", str(out), "--no-git", "-q"],
                                stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        line = proc.stderr.readline()  # blocks until the build says it waits: no sleep
    assert "being built by another sops" in line and f"(pid {os.getpid()})" in line
    rest = proc.stderr.read()
    assert proc.wait(timeout=600) == 0, rest
    assert (out / "manifest.json").is_file() and not (work / ".out.lock").exists()


def test_leftovers_of_killed_builds_are_removed(work: Path) -> None:
    out = work / "out"
    b.build(_opts(work), out)
    for name in (".out.build-k1ll3d", ".out.old-abc123", ".out.build-x1y2z3ab"):
        (work / name / "fta").mkdir(parents=True)
        (work / name / "fta" / "half.svg").write_text("<svg")
    (work / ".outer.build-keep").mkdir()  # another folder's: not ours to remove
    result = CliRunner().invoke(cli, ["build", str(work / "model"), "-o", str(out), "--no-git", "-q"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output and "interrupted build" in result.output
    assert _hidden(work) == [] and (work / ".outer.build-keep").is_dir()


def test_a_build_killed_between_the_renames_gets_its_folder_back(work: Path) -> None:
    """Killed after `OUT -> .OUT.old-*` and before `.OUT.build-* -> OUT`: there is no OUT. The next run puts
    the old folder back first, so even a run that then fails (model errors) leaves OUT in place."""
    out = work / "out"
    b.build(_opts(work), out)
    saved = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    os.replace(out, work / ".out.old-deadbeef")
    (work / ".out.build-cafebabe").mkdir()
    (work / "model" / "broken.sops").write_text("component {", encoding="utf-8")
    with pytest.raises(b.BuildError):
        b.build(_opts(work), out)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == saved
    assert _hidden(work) == []


def test_out_as_a_link_leaving_its_folder_is_refused(work: Path) -> None:
    (work / "elsewhere").mkdir()
    (work / "pub").mkdir()
    (work / "pub" / "site").symlink_to("../elsewhere")
    result = CliRunner().invoke(cli, ["build", str(work / "model"), "-o", str(work / "pub" / "site"), "-q"])
    assert result.exit_code == 1
    assert "error[SOPS007]" in result.output
    assert list((work / "elsewhere").iterdir()) == [] and (work / "pub" / "site").is_symlink()


# -- issue 12 item 6: a site others can read -------------------------------------------------------------------


@pytest.mark.usefixtures("umask_022")
def test_the_output_tree_is_readable_by_others(work: Path) -> None:
    out = work / "out"
    for force in (False, True):  # a new folder, and one that replaces an earlier build
        b.build(_opts(work), out, force=force)
        modes = {p.relative_to(work).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [out, *out.rglob("*")]}
        folders = {p for p in modes if (work / p).is_dir()}
        assert {p: m for p, m in modes.items() if p in folders and m != 0o755} == {}
        assert {p: m for p, m in modes.items() if p not in folders and m != 0o644} == {}
