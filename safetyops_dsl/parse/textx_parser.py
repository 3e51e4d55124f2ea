"""The only module that talks to textX: load the grammar, parse one text, turn syntax errors into diagnostics."""

from __future__ import annotations

import gc
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location

# Words a model author understands, for the regex tokens of the grammar.
_TOKEN_WORDS = {
    "Name": "a name",
    "Path": "a name",
    "RefName": "a name",
    "STRING": 'a "string"',
    "Number": "a number",
    "INT": "a whole number",
    "TimeUnit": "a time unit (ms, s, min, h, d, y)",
    "RateUnit": "a rate unit (FIT, per h)",
    "ClassToken": "a class such as S3, E4 or C2",
    "AsilToken": "an ASIL (QM, A, B, C, D, or a decomposition such as B(D))",
    "Comparison": "a comparison (>=, <=, >, <, ==)",
}
# Keywords that start a top-level element: listed as one item, not forty.
_ELEMENT_KEYWORDS = {
    "mission_time", "deviation", "component", "ml_component", "system", "hazard", "safety_goal",
    "requirement", "evidence", "argument", "policy",
}


@lru_cache(maxsize=1)
def metamodel() -> Any:
    from textx import metamodel_from_str

    grammar = resources.files("safetyops_dsl.grammar").joinpath("sops.tx").read_text(encoding="utf-8")
    # autokwd: keywords match whole words only, so `order` is a name, not `or` + `der`.
    return metamodel_from_str(grammar, autokwd=True)


def parse_text(text: str, display_path: str) -> tuple[Any | None, Diagnostic | None]:
    """Parse one file's text. Returns (textX model, None) or (None, a positioned syntax diagnostic)."""
    from textx.exceptions import TextXSyntaxError

    mm = metamodel()
    # The parser allocates many small objects and no cycles; the cyclic GC only costs time here.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return mm.model_from_str(text), None
    except TextXSyntaxError as exc:
        return None, syntax_diagnostic(exc, text, display_path)
    except RecursionError:
        return None, dg.make(
            dg.LIMIT_EXCEEDED,
            "expression nested too deeply to parse",
            Location(display_path, 1, 1),
            "split the expression into intermediate rules",
        )
    finally:
        if enabled:
            gc.enable()


def syntax_diagnostic(exc: Any, text: str, display_path: str) -> Diagnostic:
    line = int(getattr(exc, "line", 0) or 0)
    col = int(getattr(exc, "col", 0) or 0)
    lines = text.splitlines()
    current = lines[line - 1] if 0 < line <= len(lines) else ""
    rest = current[col - 1 :] if col > 0 else current
    loc = Location(display_path, line, col)
    if rest.startswith('"') and rest.count('"') % 2 == 1:
        return dg.make(dg.SYNTAX, "unterminated string", loc, 'close the string with " on the same line')
    expected = _expected_words(getattr(exc, "expected_rules", None) or [])
    found = _found_token(rest)
    message = f"unexpected {found}"
    if expected:
        message += f"; expected {expected}"
    hint = ""
    if found.startswith("'") and _looks_like_typo(rest, exc):
        hint = _typo_hint(rest, exc)
    return dg.make(dg.SYNTAX, message, loc, hint)


def _found_token(rest: str) -> str:
    if not rest.strip():
        return "end of line" if rest == "" else "end of file"
    m = re.match(r"[A-Za-z_][A-Za-z0-9_.]*|\d[\d.eE+-]*|\"[^\"]*\"?|\S", rest)
    token = m.group(0) if m else rest[:1]
    if len(token) > 40:
        token = token[:37] + "..."
    return f"'{token}'"


def _expected_words(rules: list[Any]) -> str:
    words: list[str] = []
    element_start = False
    for rule in rules:
        name = getattr(rule, "rule_name", "") or ""
        to_match = getattr(rule, "to_match", None)
        if type(rule).__name__ == "StrMatch" and isinstance(to_match, str):
            if to_match in _ELEMENT_KEYWORDS:
                element_start = True
                continue
            word = f"'{to_match}'"
        else:
            word = _TOKEN_WORDS.get(name, name or "something else")
        if word not in words:
            words.append(word)
    if element_start:
        words.append("the start of an element (component, hazard, requirement, ...)")
    if len(words) > 8:
        words = words[:8] + ["..."]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _keywords_expected(exc: Any) -> list[str]:
    return [
        r.to_match
        for r in getattr(exc, "expected_rules", None) or []
        if type(r).__name__ == "StrMatch" and isinstance(getattr(r, "to_match", None), str)
    ]


def _looks_like_typo(rest: str, exc: Any) -> bool:
    return bool(_typo_hint(rest, exc))


def _typo_hint(rest: str, exc: Any) -> str:
    import difflib

    m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", rest)
    if not m:
        return ""
    close = difflib.get_close_matches(m.group(0), _keywords_expected(exc), n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else ""
