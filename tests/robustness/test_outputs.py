"""`-o` never destroys what it points at (issue 17, item 2), and outputs respect the umask (issue 12, item 6).

Regular files are replaced atomically; special files (devices, FIFOs) are written in place; `/dev/fd/N` and
`/dev/stdout` are the caller's descriptors; `-o -` is stdout; a symbolic link is written through when its
target stays in the link's folder, and refused (SOPS007) when it leaves it. Device nodes are made with
mknod in a temporary folder (as root), never taken from the machine's /dev: on a regression the test, not
the machine, loses its device.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from harness import ROOT, SOPS

from safetyops_dsl.atomic import OutputRefused, write_atomic
from safetyops_dsl.cli.main import cli

AEB = str(ROOT / "models" / "aeb")
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


def _device(path: Path, minor: int) -> Path:
    """A character device like /dev/null (minor 3) or /dev/full (minor 7), private to the test."""
    if not ROOT_USER:
        pytest.skip("making a device node needs root")
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    return path


# -- special files ---------------------------------------------------------------------------------------------


def test_a_null_device_stays_a_device(tmp_path: Path) -> None:
    null = _device(tmp_path / "null", 3)
    write_atomic(null, "report\n")
    assert stat.S_ISCHR(null.stat().st_mode) and null.stat().st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]  # no temporary file either


def test_cli_to_a_null_device(tmp_path: Path) -> None:
    null = _device(tmp_path / "null", 3)
    proc = subprocess.run([SOPS, "fmea", AEB, "-o", str(null)], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(null.stat().st_mode)


def test_a_full_device_is_a_write_error_and_stays_a_device(tmp_path: Path) -> None:
    """`-o /dev/full`: the write fails with ENOSPC, said in one line (exit 1), and the device stays."""
    full = _device(tmp_path / "full", 7)
    with pytest.raises(OSError) as info:
        write_atomic(full, "x" * 10_000)
    assert info.value.errno == errno.ENOSPC
    proc = subprocess.run([SOPS, "fmea", AEB, "-o", str(full)], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "cannot write" in proc.stderr and "No space left" in proc.stderr
    assert stat.S_ISCHR(full.stat().st_mode)


def test_a_fifo_is_written_into_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as fh:  # blocks until the writer opens: no timing involved
            got.append(fh.read())

    reader = threading.Thread(target=read)
    reader.start()
    write_atomic(fifo, b"through the pipe\n")
    reader.join(timeout=60)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_descriptor_path_is_written_to_the_descriptor(tmp_path: Path) -> None:
    """`-o /dev/fd/1`: the report arrives on stdout (a pipe here). The old code renamed a temporary file
    over the path (into /proc: an error)."""
    proc = subprocess.run([SOPS, "fmea", AEB, "-o", "/dev/fd/1"], capture_output=True, text=True, timeout=300,
                          check=False)
    plain = subprocess.run([SOPS, "fmea", AEB], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == plain.stdout and plain.stdout


def test_dash_is_stdout(tmp_path: Path) -> None:
    runner = CliRunner()
    plain = runner.invoke(cli, ["fmea", AEB])
    dash = runner.invoke(cli, ["fmea", AEB, "-o", "-"])
    assert dash.exit_code == 0 and dash.output == plain.output and plain.output
    assert not (Path.cwd() / "-").exists()


def test_dash_takes_a_binary_format(tmp_path: Path) -> None:
    """xlsx to stdout needs `-o -` (without -o it is refused: a terminal would get binary)."""
    refused = CliRunner().invoke(cli, ["fmea", AEB, "--format", "xlsx"])
    assert refused.exit_code == 2
    proc = subprocess.run([SOPS, "fmea", AEB, "--format", "xlsx", "-o", "-"], capture_output=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"PK")  # a zip container


# -- symbolic links --------------------------------------------------------------------------------------------


def test_a_link_inside_its_folder_is_written_through(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    real = tmp_path / "reports" / "2024.md"
    real.write_text("old\n")
    link = tmp_path / "latest.md"
    link.symlink_to("reports/2024.md")
    write_atomic(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == "reports/2024.md"
    assert real.read_text() == "new\n"


def test_a_dangling_link_inside_its_folder_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "latest.md"
    link.symlink_to("made.md")
    write_atomic(link, "new\n")
    assert link.is_symlink() and (tmp_path / "made.md").read_text() == "new\n"


@pytest.mark.parametrize("target", ["../outside.md", "ABSOLUTE"])
def test_a_link_leaving_its_folder_is_refused(tmp_path: Path, target: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "outside.md"
    victim.write_text("keep me\n")
    link = out / "report.md"
    link.symlink_to(str(victim) if target == "ABSOLUTE" else target)
    with pytest.raises(OutputRefused):
        write_atomic(link, "overwritten\n")
    assert victim.read_text() == "keep me\n" and link.is_symlink()
    result = CliRunner().invoke(cli, ["fmea", AEB, "-o", str(link)])
    assert result.exit_code == 1
    assert f"{link}: error[SOPS007]:" in result.output and "leaves the link's folder" in result.output
    assert victim.read_text() == "keep me\n" and link.is_symlink()
    assert sorted(p.name for p in out.iterdir()) == ["report.md"]


def test_a_link_chain_that_ends_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "b.md").symlink_to("../victim.md")
    (tmp_path / "out" / "a.md").symlink_to("b.md")
    with pytest.raises(OutputRefused):
        write_atomic(tmp_path / "out" / "a.md", "x")
    assert not (tmp_path / "victim.md").exists()


# -- modes (issue 12 item 6) -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("umask_022")
def test_new_and_replaced_files_get_the_umask_mode(tmp_path: Path) -> None:
    new = tmp_path / "sub" / "new.md"
    write_atomic(new, "x")
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    assert stat.S_IMODE(new.parent.stat().st_mode) == 0o755
    old = tmp_path / "old.md"
    old.write_text("old")
    os.chmod(old, 0o644)
    write_atomic(old, "new")
    assert stat.S_IMODE(old.stat().st_mode) == 0o644


def test_a_strict_umask_is_respected(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_atomic(tmp_path / "private.md", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "private.md").stat().st_mode) == 0o600


def test_cli_output_is_readable_by_others(tmp_path: Path) -> None:
    target = tmp_path / "fmea.md"
    target.write_text("old")
    os.chmod(target, 0o644)
    proc = subprocess.run(["sh", "-c", 'umask 022 && exec "$@"', "sh", SOPS, "fmea", AEB, "-o", str(target)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
