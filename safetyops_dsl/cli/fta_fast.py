"""`sops fta` on a plain command line, without importing click (about a third of the start-up time).

`parse` accepts only what it can read exactly as click does: the command's options spelled out in full
(`--opt value`, `--opt=value`, `-o value`), the two flags, paths that exist and are readable, values that
click's types accept unchanged. Anything else (help, `--`, an unknown or repeated option, a bad value, a
missing path, shell completion, a stream not in UTF-8) returns None and the click command parses the line,
so every message about the command line is click's own. tests/cli/test_fta_fast.py runs both paths on the
same lines and compares outputs and exit codes, and checks this table against the click command's options.
"""

from __future__ import annotations

import errno
import math
import os
import sys

from safetyops_dsl.cli.fta_run import APPROXIMATIONS, DEFAULTS, FORMATS, run
from safetyops_dsl.cli.output import UsageProblem

TYPE_CHECKING = False  # typing itself is not imported at run time (`sops fta` start-up)
if TYPE_CHECKING:
    from typing import Any, NoReturn

# option spelling -> (parameter name, kind, allowed: choices or (low, high) bounds)
OPTIONS: dict[str, tuple[str, str, Any]] = {
    "--hazard": ("hazard", "str", None),
    "--format": ("fmt", "choice", FORMATS),
    "-o": ("output", "path", None),
    "--output": ("output", "path", None),
    "--limit-order": ("limit_order", "int", (0, None)),
    "--cut-off": ("cut_off", "float", (0.0, 1.0)),
    "--approx": ("approx", "choice", APPROXIMATIONS),
    "--mission-time": ("mission_time", "float", (0.0, None)),
    "--cut-set-limit": ("cut_set_limit", "int", (0, None)),
    "--max-cut-sets": ("max_cut_sets", "int", (1, None)),
    "--max-bdd-nodes": ("max_bdd_nodes", "int", (1, None)),
    "--uncertainty": ("trials", "int", (2, None)),
    "--seed": ("seed", "int", (0, None)),
    "--uncertainty-limit": ("uncertainty_limit", "int", (2, None)),
    "--simulate": ("simulate", "int", (1, None)),
}
FLAGS: dict[str, tuple[str, bool]] = {
    "--importance": ("importance", True),
    "--no-importance": ("importance", False),
    "--gate": ("gate", True),
    "--model-count": ("model_count", True),
}


def _readable_if_present(path: str) -> bool:
    """click.Path's checks: an existing path must be readable."""
    try:
        os.stat(path)
    except OSError:
        return True
    return os.access(path, os.R_OK)


def _value(kind: str, allowed: Any, text: str) -> tuple[bool, Any]:
    if text.startswith("-") and kind != "path":
        return False, None
    if kind == "str":
        return True, text
    if kind == "path":
        return (text == "-" or not text.startswith("-")) and _readable_if_present(text), text
    if kind == "choice":
        return text in allowed, text
    low, high = allowed
    try:
        number: float = int(text) if kind == "int" else float(text)
    except ValueError:
        return False, None
    if isinstance(number, float) and not math.isfinite(number):
        return False, None
    return number >= low and (high is None or number <= high), number


def _utf8(stream: Any) -> bool:
    encoding = getattr(stream, "encoding", None) or ""
    return encoding.lower().replace("-", "").replace("_", "") == "utf8"


def parse(args: list[str]) -> dict[str, Any] | None:
    """The parameters of `run` for a plain argument list (after `fta`), or None: let click parse it."""
    if "_SOPS_COMPLETE" in os.environ or not (_utf8(sys.stdout) and _utf8(sys.stderr)):
        return None
    params: dict[str, Any] = dict(DEFAULTS)
    seen: set[str] = set()
    paths: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        if not token.startswith("-"):
            try:
                os.stat(token)
            except (OSError, ValueError):
                return None
            if not os.access(token, os.R_OK):
                return None
            paths.append(token)
            continue
        name, eq, inline = token.partition("=")
        if name in FLAGS and not eq:
            dest, flag = FLAGS[name]
            if dest in seen:
                return None
            seen.add(dest)
            params[dest] = flag
            continue
        spec = OPTIONS.get(name)
        if spec is None or (eq and not name.startswith("--")):
            return None
        dest, kind, allowed = spec
        if dest in seen:
            return None
        seen.add(dest)
        if eq:
            text = inline
        elif i < len(args):
            text = args[i]
            i += 1
        else:
            return None
        ok, value = _value(kind, allowed, text)
        if not ok:
            return None
        params[dest] = value
    if not paths:
        return None
    params["paths"] = tuple(paths)
    return params


def run_plain(args: list[str]) -> int | None:
    """Run `sops fta ARGS` when the line is plain; None when click must parse it. Errors and interrupts end
    as click's standalone mode ends them (same messages, same exit codes); SIGINT raises `main.Interrupted`,
    which `main` reports, as for every command."""
    params = parse(args)
    if params is None:
        return None
    try:
        run(**params)
    except UsageProblem as exc:
        _usage_error(args, str(exc))
    except (EOFError, KeyboardInterrupt):
        sys.stderr.write("\nAborted!\n")
        sys.stderr.flush()
        return 1
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        from click.utils import _PacifyFlushWrapper  # what click installs on a broken pipe

        sys.stdout = _PacifyFlushWrapper(sys.stdout)
        sys.stderr = _PacifyFlushWrapper(sys.stderr)
        return 1
    return 0


def _usage_error(args: list[str], message: str) -> NoReturn:
    """Show a usage error exactly as click shows it for this command line (usage line, help hint)."""
    import click

    from safetyops_dsl.cli.fta_cmd import fta
    from safetyops_dsl.cli.group import cli

    group_ctx = cli.make_context("sops", ["fta"])
    ctx = fta.make_context("fta", list(args), parent=group_ctx)
    error = click.UsageError(message, ctx)
    error.show()
    sys.exit(error.exit_code)
