"""The `sops` command: a thin click group (`cli.group`) whose subcommands are imported only when called.

Lazy loading keeps `sops fta file.xml` from paying for textX, jinja2 or networkx imports it does not use;
a plain `sops fta` command line does not even import click (`cli.fta_fast`).
Exit codes: 0 success, 1 errors in the input (or a gate failed), 2 usage errors, 3 internal errors,
130 interrupted (SIGINT, Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

TYPE_CHECKING = False  # typing itself is not imported at run time (`sops fta` start-up)
if TYPE_CHECKING:
    from typing import Any

# name -> (module, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("safetyops_dsl.cli.check_cmd", "check", "Parse and validate models; print diagnostics."),
    "fta": ("safetyops_dsl.cli.fta_cmd", "fta", "Fault trees: synthesise, analyse, draw, exchange."),
    "trace": ("safetyops_dsl.cli.trace_cmd", "trace", "Trace matrix and coverage report, with CI results."),
    "diff": ("safetyops_dsl.cli.diff_cmd", "diff", "Semantic diff of two model versions and its impact."),
    "fmt": ("safetyops_dsl.cli.fmt_cmd", "fmt", "Format .sops files canonically, comments kept (--check for CI)."),
    "fmea": ("safetyops_dsl.cli.fmea_cmd", "fmea", "FMEA table: failure modes, effects, coverage, residual rates."),
    "fmeda": ("safetyops_dsl.cli.fmeda_cmd", "fmeda", "FMEDA per safety goal: SPFM, LFM, PMHF vs ISO 26262-5."),
    "hara": ("safetyops_dsl.cli.hara_cmd", "hara", "HARA table: hazards, S/E/C, ASIL, goals, decompositions."),
    "build": ("safetyops_dsl.cli.build_cmd", "build", "Every analysis and a static report site in one folder."),
    "inject": ("safetyops_dsl.cli.inject_cmd", "inject", "Fault-injection campaign of the safety mechanisms (JSON or pytest)."),
    "gate": ("safetyops_dsl.cli.gate_cmd", "gate", "Release gate: check, coverage, FMEDA, targets, GSN; one exit code."),
    "lsp": ("safetyops_dsl.cli.lsp_cmd", "lsp", "Language server for editors (LSP over stdio)."),
    "reqif": ("safetyops_dsl.cli.reqif_cmd", "reqif", "ReqIF exchange with requirement tools: export, import."),
    "docs": ("safetyops_dsl.cli.docs_cmd", "docs", "Check docs pages' model blocks and links (Sphinx, MkDocs)."),
    "sotif": ("safetyops_dsl.cli.sotif_cmd", "sotif", "SOTIF analysis of the ML components, validation targets, ODD coverage."),
    "gsn": ("safetyops_dsl.cli.gsn_cmd", "gsn", "GSN safety case from the model: SVG, DOT, gsn2x YAML, JSON, Markdown."),
}


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so that cleanups run (a half-written temporary file is removed).
    A BaseException, like KeyboardInterrupt: no `except Exception` swallows it."""


class Interrupted(BaseException):
    """SIGINT (Ctrl-C). Not a KeyboardInterrupt, which click's standalone mode turns into 'Aborted!' and
    exit 1, the code of a model error or a failed gate: an interrupted `sops gate` must not read as one."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated


def _on_sigint(signum: int, frame: Any) -> None:
    raise Interrupted


def _redeliver(signum: signal.Signals) -> None:
    import time

    time.sleep(0.01)  # from another thread, so that it lands after the hook has returned
    import _thread

    _thread.interrupt_main(signum)


def _on_unraisable(unraisable: Any) -> None:
    """A signal that arrives while a weakref callback or a `__del__` runs (the import system's module-lock
    callback, for one) raises there, and Python swallows it with a traceback on stderr: Ctrl-C would print a
    traceback and be lost. Deliver it again, from a thread, once the callback has returned."""
    kind = unraisable.exc_type
    if kind is not None and issubclass(kind, KeyboardInterrupt | Interrupted | Terminated):
        import _thread

        _thread.start_new_thread(_redeliver, (signal.SIGTERM if issubclass(kind, Terminated) else signal.SIGINT,))
        return
    _previous_unraisablehook(unraisable)


_previous_unraisablehook = sys.__unraisablehook__


def __getattr__(name: str) -> Any:
    """`from safetyops_dsl.cli.main import cli` still works; the group (and click) load on that first use."""
    if name == "cli":
        from safetyops_dsl.cli.group import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> Any:
    """The `sops` program. Run as a program (`argv` None), it ends without tearing the interpreter down:
    freeing a large model object by object took longer than checking it (10,000 components: 2.95 s to
    check, 2.0 s to free); the output is flushed first and every file was already closed and renamed."""
    try:
        return _main(argv)
    except SystemExit as exc:
        if argv is not None:
            raise
        _exit_now(exc.code)


def _exit_now(code: Any) -> None:
    status = code if isinstance(code, int) else (0 if code is None else 1)
    if not isinstance(code, int | None):
        print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except ValueError:  # closed by its owner (the language server closes stdout at `exit`)
            pass
        except OSError:  # a broken pipe: what was left could not be delivered
            status = status or 1
    os._exit(status)


def _signal_behind(exc: BaseException) -> tuple[str, int] | None:
    """What `sops` says and its exit code when `exc` is a signal, or a signal that Python wrapped in another
    exception: one raised inside `__set_name__` while a class is created comes out as
    RuntimeError('Error calling __set_name__ ...') (seen once in 400 runs under SIGINT and SIGTERM at random
    moments). That is an interrupt, not a bug in sops. KeyboardInterrupt: where our handler could not be set."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, Terminated):
            return "terminated", 143
        if isinstance(cause, Interrupted | KeyboardInterrupt):
            return "interrupted", 130
        cause = cause.__cause__ or cause.__context__
    return None


def _main(argv: list[str] | None) -> Any:
    previous: Any = None
    previous_int: Any = None
    with contextlib.suppress(ValueError):  # signal handlers can only be set from the main thread
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        previous_int = signal.signal(signal.SIGINT, _on_sigint)
    global _previous_unraisablehook
    previous_hook = sys.unraisablehook
    if previous_hook is not _on_unraisable:  # not when `main` is called again from within a run
        _previous_unraisablehook = previous_hook
    sys.unraisablehook = _on_unraisable
    try:
        args = sys.argv[1:] if argv is None else argv
        if args[:1] == ["fta"]:
            from safetyops_dsl.cli.fta_fast import run_plain

            code = run_plain(args[1:])
            if code is not None:
                sys.exit(code)
        from safetyops_dsl.cli.group import cli

        return cli.main(args=argv, prog_name="sops", standalone_mode=True)
    except SystemExit:
        raise
    except BaseException as exc:
        signalled = _signal_behind(exc)
        if signalled is not None:
            _say(f"sops: {signalled[0]}")
            sys.exit(signalled[1])
        # Not a signal: an Exception is an internal bug (say so plainly, keep the traceback for SOPS_DEBUG=1);
        # any other BaseException goes on as it came.
        if not isinstance(exc, Exception) or os.environ.get("SOPS_DEBUG"):
            raise
        _say(f"sops: internal error: {type(exc).__name__}: {exc}")
        _say("hint: this is a bug in sops, not in your model; rerun with SOPS_DEBUG=1 and report it")
        sys.exit(3)
    finally:
        sys.unraisablehook = previous_hook
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)


if __name__ == "__main__":
    main()
