"""File output that never destroys what it points at.

- A regular file (or a new one) is replaced atomically: a reader sees the old file or the new one, never half
  of either. The new file gets the mode the umask gives (0644 under umask 022), also when it replaces one.
- A special file (character or block device, FIFO, socket) is written in place: renaming over `/dev/null` as
  root would put a regular file where the device was.
- `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and `/proc/self/fd/N` name a descriptor the caller opened: it is
  written to (sharing its offset and append flag), never reopened or replaced.
- A symbolic link is written through (its target is replaced, the link stays), when the target lies in the
  link's folder or below. A link pointing elsewhere may have come with a checked-out repository
  (`report.md -> ~/.bashrc`): it is refused with OutputRefused, and naming the target itself is the way out.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
from pathlib import Path

_DESCRIPTOR = re.compile(r"/dev/(?:fd/(\d+)|(stdout)|(stderr))|/proc/self/fd/(\d+)")


class OutputRefused(PermissionError):
    """The output path is a symbolic link whose target leaves the link's folder."""

    def __init__(self, path: str, link: str):
        super().__init__(f"'{path}' is a symbolic link to '{link}', which leaves the link's folder: not written")
        self.path = path
        self.hint = "name the link's target itself as the output if it is meant"


def write_atomic(path: str | os.PathLike[str], data: str | bytes, durable: bool = True) -> None:
    """`durable=False` skips the fsync before the rename (10-20 ms each on a busy disk): for entries of a cache,
    which are recomputed when they are missing or damaged after a crash, not for outputs."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd = descriptor_of(path)
    if fd is not None:
        _write_descriptor(fd, raw)
        return
    target = follow_link(Path(path))
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        _write_in_place(target, raw)
        return
    _replace(target, raw, durable)


def descriptor_of(path: str | os.PathLike[str]) -> int | None:
    """The descriptor number a path such as /dev/stdout names, else None."""
    m = _DESCRIPTOR.fullmatch(os.path.normpath(os.path.abspath(os.fspath(path))))
    if m is None:
        return None
    if m.group(2):
        return 1
    if m.group(3):
        return 2
    return int(m.group(1) or m.group(4))


def follow_link(path: Path) -> Path:
    """`path`, or the target of the symbolic link `path` when it lies in the link's folder or below."""
    if not path.is_symlink():
        return path
    folder = path.parent.resolve()
    target = path.resolve()
    if not target.is_relative_to(folder):
        raise OutputRefused(str(path), os.readlink(path))
    return target


def _write_descriptor(fd: int, raw: bytes) -> None:
    # Whatever Python buffered for the same descriptor goes first, so the order on the terminal is kept.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            if stream.fileno() == fd:
                stream.flush()
    view = memoryview(raw)
    while view:
        view = view[os.write(fd, view):]


def _write_in_place(target: Path, raw: bytes) -> None:
    # No O_CREAT: the special file exists, and nothing is created if it vanished meanwhile.
    fd = os.open(target, os.O_WRONLY | os.O_CLOEXEC)
    try:
        _write_descriptor(fd, raw)
    finally:
        os.close(fd)


def _replace(target: Path, raw: bytes, durable: bool = True) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Created 0666, so that the umask sets the mode (mkstemp's is 0600, whatever the umask).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for _ in range(100):
        tmp = str(target.parent / f".{target.name}.{os.urandom(4).hex()}.tmp")
        # One `try` from before the file exists: a signal raised right after os.open still removes it.
        try:
            try:
                fd = os.open(tmp, flags, 0o666)
            except FileExistsError:  # not ours (O_EXCL): another name
                continue
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                fh.flush()
                if durable:
                    os.fsync(fh.fileno())
            os.replace(tmp, target)
            return
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    raise FileExistsError(f"no free temporary name next to '{target}'")


def make_folder(parent: Path, prefix: str) -> Path:
    """A new folder `parent/<prefix><random>`, mode from the umask (mkdtemp's is 0700)."""
    parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        folder = parent / f"{prefix}{os.urandom(4).hex()}"
        try:
            folder.mkdir(0o777)
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"no free folder name '{prefix}*' in '{parent}'")
