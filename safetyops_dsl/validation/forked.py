"""Run a function in a forked child process and take its (pickled) result: the child shares the parent's
memory as it was at the fork, so a large model need not be sent to it, only the small result comes back.

Used where the work is read-only over data already built (validation rules over an assembled model). Where
fork is unavailable, or unsafe (other threads may hold locks the child would inherit taken), or the child
fails, `result()` is None and the caller does the work itself: the outcome never depends on the fork.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Callable


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


class Forked:
    """`Forked(fn)` starts fn() in a child; `result()` waits for it. `cancel()` ends the child early (the
    caller failed meanwhile). Call one of them exactly once."""

    def __init__(self, fn: Callable[[], object]):
        self._pid = 0
        self._fd = -1
        if not can_fork():
            return
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child: coverage does not follow it)
            status = 1
            try:
                os.close(read)
                data = pickle.dumps(fn(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as out:
                    out.write(data)
                status = 0
            except BaseException:  # noqa: BLE001 - anything: the parent does the work itself
                pass
            # no interpreter teardown: it would flush the parent's buffered output a second time and free, one
            # by one, the objects the parent still owns
            os._exit(status)
        os.close(write)
        self._pid, self._fd = pid, read

    def result(self) -> object | None:
        if not self._pid:
            return None
        try:
            with os.fdopen(self._fd, "rb") as fh:
                data = fh.read()
        finally:
            _, status = os.waitpid(self._pid, 0)
            self._pid = 0
        if status != 0 or not data:
            return None
        try:
            value: object = pickle.loads(data)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
            return None
        return value

    def cancel(self) -> None:
        if not self._pid:
            return
        os.close(self._fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        os.waitpid(self._pid, 0)
        self._pid = 0
