"""Atomic outputs: an interrupted write (an exception mid-write, a full disk, SIGTERM/SIGINT of the CLI)
never leaves a half-written artifact; the previous file stays intact and no temporary file is left behind.
And every artifact the CLI writes goes through safetyops_dsl.atomic.write_atomic."""

from __future__ import annotations

import ast
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import ROOT, SOPS

from safetyops_dsl import atomic
from safetyops_dsl.atomic import write_atomic

OLD = b"previous artifact\n" * 100


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("data", [b"new" * 100_000, "new text \u00e9\n" * 1000])
def test_success_replaces_the_file(tmp_path: Path, data: bytes | str) -> None:
    target = tmp_path / "out.md"
    target.write_bytes(OLD)
    write_atomic(target, data)
    assert target.read_bytes() == (data if isinstance(data, bytes) else data.encode())
    assert _leftovers(tmp_path) == []


class _Boom(Exception):
    pass


@pytest.mark.parametrize("failure", ["exception", "enospc", "keyboard_interrupt", "fsync", "replace"])
def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    target = tmp_path / "report.html"
    target.write_bytes(OLD)
    real_fdopen = os.fdopen

    class HalfWriter:
        """Writes half of the data to the temporary file, then fails like the disk or the user would."""

        def __init__(self, fh):  # type: ignore[no-untyped-def]
            self.fh = fh

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            self.fh.close()
            return False

        def write(self, raw: bytes) -> int:
            self.fh.write(raw[: len(raw) // 2])
            self.fh.flush()
            if failure == "enospc":
                raise OSError(errno.ENOSPC, "No space left on device")
            if failure == "keyboard_interrupt":
                raise KeyboardInterrupt
            if failure == "exception":
                raise _Boom("mid-write")
            return self.fh.write(raw[len(raw) // 2:])

        def flush(self) -> None:
            self.fh.flush()

        def fileno(self) -> int:
            return self.fh.fileno()

    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    if failure == "fsync":
        def bad_fsync(fd: int) -> None:
            raise OSError(errno.EIO, "I/O error")
        monkeypatch.setattr(atomic.os, "fsync", bad_fsync)
    if failure == "replace":
        def bad_replace(a: str, b: str) -> None:
            raise OSError(errno.EXDEV, "cross-device")
        monkeypatch.setattr(atomic.os, "replace", bad_replace)
    with pytest.raises((OSError, KeyboardInterrupt, _Boom)):
        write_atomic(target, b"NEW" * 50_000)
    assert target.read_bytes() == OLD
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_a_run_leaves_the_old_artifact(tmp_path: Path, sig: signal.Signals) -> None:
    """Interrupt `sops trace -o` at several moments; the output is the old file or the complete new one."""
    target = tmp_path / "trace.md"
    expected = subprocess.run([SOPS, "trace", str(ROOT / "models" / "aeb"), "--no-git"], capture_output=True,
                              timeout=120, check=False).stdout
    assert expected
    for delay in (0.3, 0.8, 1.5):
        target.write_bytes(OLD)
        proc = subprocess.Popen([SOPS, "trace", str(ROOT / "models" / "aeb"), "--no-git", "-o", str(target)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        assert b"Traceback" not in err, err
        assert proc.returncode in (0, 128 + sig), (proc.returncode, err)  # 0: done before the signal
        assert target.read_bytes() in (OLD, expected), delay
        assert _leftovers(tmp_path) == []


_SWALLOWED = """
import sys, time, weakref
from safetyops_dsl.cli import fta_fast, main

class Thing:
    pass

def callback(ref):  # what the import system's module-lock callback does when a signal lands in it
    raise {exc}

def body(args):
    thing = Thing()
    ref = weakref.ref(thing, callback)
    del thing
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pass
    print("the signal was lost")
    return 0
"""


def _sops_running(body: str) -> subprocess.CompletedProcess[str]:
    """`sops fta` (through `main._main`, signal handling and all) with `body` for the command's work."""
    script = body + """
fta_fast.run_plain = body
try:
    main._main(["fta"])
except SystemExit as exc:
    print("exit", exc.code)
"""
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False,
                          cwd=ROOT)


@pytest.mark.parametrize(("exc", "code", "said"), [("KeyboardInterrupt", 130, "interrupted"),
                                                   ("main.Interrupted", 130, "interrupted"),
                                                   ("main.Terminated", 143, "terminated")])
def test_a_signal_swallowed_in_a_weakref_callback_is_delivered_again(exc: str, code: int, said: str) -> None:
    """CI caught `sops trace` printing 'Exception ignored in: <function _get_module_lock.<locals>.cb>' and a
    KeyboardInterrupt traceback: SIGINT had landed in a weakref callback, where Python swallows it. The
    run must instead stop as for any interrupt, with no traceback."""
    started = time.monotonic()
    done = _sops_running(_SWALLOWED.format(exc=exc))
    assert done.stdout == f"exit {code}\n", (done.stdout, done.stderr)
    assert done.stderr == f"sops: {said}\n"
    assert time.monotonic() - started < 15


_WRAPPED = """
from safetyops_dsl.cli import fta_fast, main

class Field:
    def __set_name__(self, owner, name):  # where a signal lands while a dataclass is being created
        raise {exc}

def body(args):
    class Model:
        components = Field()
    return 0
"""


@pytest.mark.parametrize(("exc", "code", "said"), [("main.Interrupted", 130, "interrupted"),
                                                   ("main.Terminated", 143, "terminated")])
def test_a_signal_wrapped_in_another_exception_is_still_an_interrupt(exc: str, code: int, said: str) -> None:
    """A stress run (400 random SIGINT/SIGTERM during `sops trace`) once ended 'sops: internal error:
    RuntimeError: Error calling __set_name__ on 'Field' instance': Python wraps what `__set_name__` raises."""
    done = _sops_running(_WRAPPED.format(exc=exc))
    assert (done.stdout, done.stderr) == (f"exit {code}\n", f"sops: {said}\n")


WRITERS = ("write_text", "write_bytes")


def test_cli_artifacts_are_written_only_through_write_atomic() -> None:
    """No command module or generator opens a file for writing itself (the parse cache and the temporary
    copy of a git revision in `sops diff` are not artifacts and are listed here)."""
    allowed = {("diff_cmd.py", "write_bytes"), ("atomic.py", "fdopen")}
    problems = []
    files = sorted((ROOT / "safetyops_dsl" / "cli").glob("*.py")) + sorted((ROOT / "generators").glob("*.py")) \
        + [ROOT / "safetyops_dsl" / "build.py"]
    for f in files:
        if not f.exists():
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
            if name in WRITERS and (f.name, name) not in allowed:
                problems.append(f"{f.name}:{node.lineno}: {name}")
            if name == "open":
                modes = [a.value for a in node.args[1:2] if isinstance(a, ast.Constant)] + \
                        [k.value.value for k in node.keywords if k.arg == "mode" and isinstance(k.value, ast.Constant)]
                if any(isinstance(m, str) and set(m) & set("wax+") for m in modes):
                    problems.append(f"{f.name}:{node.lineno}: open(..., {modes[0]!r})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("sig", "code", "said"), [(signal.SIGTERM, 143, "sops: terminated"),
                                                   (signal.SIGINT, 130, "sops: interrupted")])
def test_a_signal_inside_the_write_removes_the_temporary_file(tmp_path: Path, sig: signal.Signals, code: int,
                                                              said: str) -> None:
    """SIGTERM or SIGINT while the new artifact is being written (fsync held open here): the program unwinds,
    removes its temporary file, keeps the old artifact and exits 143 or 130 with one line, no traceback.
    (Python's default SIGTERM action kills the process on the spot, which left `.trace.md.*.tmp` behind;
    click turned SIGINT into 'Aborted!' and exit 1, the code of a model error.)"""
    target = tmp_path / "fmea.md"
    target.write_bytes(OLD)
    script = (
        "import sys, time\n"
        "from safetyops_dsl import atomic\n"
        "def slow_fsync(fd):\n"
        "    time.sleep(30)\n"
        "atomic.os.fsync = slow_fsync\n"
        "from safetyops_dsl.cli.main import main\n"
        f"main(['fmea', {str(ROOT / 'models' / 'aeb')!r}, '-o', {str(target)!r}])\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not _leftovers(tmp_path) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert _leftovers(tmp_path), "the temporary file never appeared"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert err.decode().strip() == said, err
    assert target.read_bytes() == OLD
    assert _leftovers(tmp_path) == []
