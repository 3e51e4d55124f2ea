"""The only module that talks to textX: load the grammar, parse one text, turn syntax errors into diagnostics."""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from importlib import resources
from types import SimpleNamespace
from typing import Any

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.gc_pause import GcPaused
from safetyops_dsl.parse import grammar_info

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
    "ClassToken": "a class such as S3, E4, Catastrophic or Serious",
    "RiskZone": "a risk zone (A acceptable, R reduce or justify, U unacceptable)",
    "AsilToken": "an ASIL (QM, A, B, C, D, or a decomposition such as B(D))",
    "Comparison": "a comparison (>=, <=, >, <, ==)",
}
# Keywords that start a top-level element: listed as one item, not forty.
_ELEMENT_KEYWORDS = set(grammar_info.element_keywords())


@lru_cache(maxsize=1)
def grammar_text() -> str:
    return resources.files("safetyops_dsl.grammar").joinpath("sops.tx").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def metamodel() -> Any:
    from textx import metamodel_from_str

    # autokwd: keywords match whole words only, so `order` is a name, not `or` + `der`.
    return metamodel_from_str(grammar_text(), autokwd=True)


# Where the shipped parser (generated_parser.py) is stale, generating one in-process costs about as much CPU
# as textX parsing 24 kB (metamodel 0.2 s, compile 0.1 s): a small model is then parsed by textX alone; past
# that much text in one process (or when the loader asks first, for a large model, before it forks workers)
# the generated parser takes over.
FAST_AFTER_BYTES = 24_000
_textx_bytes = 0


@lru_cache(maxsize=1)
def shipped_parser() -> Any:
    """parse() of generated_parser.py when it was generated from the packaged grammar, else None."""
    from safetyops_dsl.parse import fast_parser, generated_parser

    if fast_parser.grammar_digest(grammar_text()) != generated_parser.GRAMMAR_SHA256:
        return None  # the grammar changed since: generate in-process (fast_parser()) until it is regenerated
    return generated_parser.parse


@lru_cache(maxsize=1)
def fast_parser() -> Any:
    """The parser generated from textX's parsing expressions (fast_parser.py): the shipped module where it
    matches the grammar, else generated in this process; None if the generator refuses the grammar."""
    from safetyops_dsl.parse.fast_parser import Unsupported, compile_parser

    shipped = shipped_parser()
    if shipped is not None:
        return shipped
    try:
        return compile_parser(metamodel(), grammar_text())
    except Unsupported:
        return None


def fast_parse(text: str) -> Any | None:
    """The generated parser's model of `text`, or None where it does not parse it (or nests too deeply)."""
    generated = fast_parser()
    if generated is None:
        return None
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(FAST_RECURSION_LIMIT)
    except RecursionError:  # called from deeper than the limit: textX parses it (under its own, higher one)
        return None
    try:
        return generated(text)
    except RecursionError:
        return None
    finally:
        sys.setrecursionlimit(limit)


def parse_text(text: str, display_path: str, fast: bool = True) -> tuple[Any | None, Diagnostic | None]:
    """Parse one file's text. Returns (model, None) or (None, a positioned syntax diagnostic).

    The model comes from the generated fast parser when it accepts the text (objects shaped as textX's); textX
    parses what it rejects, so that syntax errors read the same whichever parser ran first."""
    global _textx_bytes
    if fast and (fast_parser.cache_info().currsize or shipped_parser() is not None or _textx_bytes >= FAST_AFTER_BYTES):
        generated = fast_parser()
    else:
        generated = None
        _textx_bytes += len(text)
    if generated is not None and (model := fast_parse(text)) is not None:
        return model, None
    # textX only from here: a text the generated parser rejects, for the positioned diagnostic (or a stale
    # shipped parser and little text)
    from textx.exceptions import TextXSyntaxError

    mm = metamodel()
    # The parser allocates many small objects and no cycles; the cyclic GC only costs time here.
    with GcPaused():
        # The nesting a file may have must not depend on what ran before in the process: the engine and the
        # synthesis raise the recursion limit for deep trees and leave it raised (SOPS008 came and went with
        # the order of a test run). Parse under the interpreter's default limit, always.
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(PARSE_RECURSION_LIMIT)
        try:
            model = mm.model_from_str(text)
            if isinstance(model, str):
                # textX returns '' where nothing matched an all-optional root rule (an empty or comment-only
                # file): an empty file, not a crash in the builder.
                model = SimpleNamespace(package=None, imports=[], elements=[])
            return model, None
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
            sys.setrecursionlimit(limit)


PARSE_RECURSION_LIMIT = 1000  # CPython's default
# The generated parser needs fewer frames per level of nesting than textX (4 to 6 against 14, its sequences
# and assignments inline in the rule's function): under a lower limit it gives up on nesting a little before
# textX would, and textX decides there (a result or SOPS008), so which nesting is accepted never depends on
# which parser ran (measured: parentheses 56 vs 68 levels, k of n 56 vs 68, alternating and/parentheses 37 vs
# 53, the same in parameter expressions; test_it_never_accepts_nesting_that_textx_refuses
# checks depths 30 to 120).
FAST_RECURSION_LIMIT = 240
_STRING_OR_COMMENT = re.compile(r'"(?:\\.|[^"\\\n])*"|//[^\n]*|/\*[\s\S]*?\*/')
_MEMBER_KEYWORDS = grammar_info.member_keywords()["component"]


def _unterminated_string(text: str) -> tuple[int, int] | None:
    """(line, col) of the first string that does not close on its line; strings never span lines."""
    pos = 0
    for m in _STRING_OR_COMMENT.finditer(text):
        chunk = text[pos : m.start()]
        if '"' in chunk:
            offset = pos + chunk.index('"')
            line = text.count("\n", 0, offset) + 1
            return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
        pos = m.end()
    chunk = text[pos:]
    if '"' in chunk:
        offset = pos + chunk.index('"')
        line = text.count("\n", 0, offset) + 1
        return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
    return None


def syntax_diagnostic(exc: Any, text: str, display_path: str) -> Diagnostic:
    line = int(getattr(exc, "line", 0) or 0)
    col = int(getattr(exc, "col", 0) or 0)
    lines = text.splitlines()
    unterminated = _unterminated_string(text)
    if unterminated is not None and unterminated[0] <= max(line, 1):
        s_line, s_col = unterminated
        s_end = len(lines[s_line - 1].rstrip()) + 1 if s_line <= len(lines) else s_col
        return dg.make(
            dg.SYNTAX, "unterminated string", Location(display_path, s_line, s_col, s_line, max(s_end, s_col + 1)),
            'close the string with " on the same line',
        )
    at_end = not text[_offset(text, line, col):].strip()
    if at_end:
        # point at the end of the last non-empty line, not past the end of the file
        last = max((i for i, t in enumerate(lines) if t.strip()), default=0)
        line, col = last + 1, len(lines[last]) + 1 if lines else 1
    current = lines[line - 1] if 0 < line <= len(lines) else ""
    rest = current[col - 1 :] if col > 0 else current
    token = _TOKEN.match(rest) if not at_end else None
    loc = Location(display_path, line, col, line, col + len(token.group(0))) if token else Location(display_path, line, col)
    expected = _expected_words(getattr(exc, "expected_rules", None) or [])
    found = "end of file" if at_end else _found_token(rest)
    message = f"unexpected {found}"
    if at_end and "}" in _keywords_expected(exc):
        return dg.make(dg.SYNTAX, "unexpected end of file: a `{` block is not closed", loc, "add the missing '}'")
    if expected:
        message += f"; expected {expected}"
    hint = _typo_hint(rest, exc) if found.startswith("'") else ""
    if not hint and "'<-'" in expected:
        # `falure F rate ...` parses `falure` as a port name of a rule; the typo is the word before
        before = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", current[: max(col - 1, 0)])
        if before:
            close = _close(before[-1], _MEMBER_KEYWORDS)
            if close:
                hint = f"did you mean '{close}'?"
                word_col = current.rfind(before[-1], 0, max(col - 1, 0)) + 1
                loc = Location(display_path, line, word_col, line, word_col + len(before[-1]))
                message = f"unexpected '{before[-1]}'; expected a member such as 'failure', 'in', 'out' or a rule"
    return dg.make(dg.SYNTAX, message, loc, hint)


def _offset(text: str, line: int, col: int) -> int:
    if line <= 0:
        return 0
    pos = 0
    for _ in range(line - 1):
        nxt = text.find("\n", pos)
        if nxt < 0:
            return len(text)
        pos = nxt + 1
    return min(pos + max(col - 1, 0), len(text))


def _close(word: str, choices: Any) -> str:
    import difflib

    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return found[0] if found else ""


_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*|\d[\d.eE+-]*|\"[^\"]*\"?|\S")


def _found_token(rest: str) -> str:
    if not rest.strip():
        return "end of line"
    m = _TOKEN.match(rest)
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
        if name == "Comment":
            continue
        if name == "EOF":
            word = "end of file"
        elif _is_keyword(rule):
            assert isinstance(to_match, str)
            if to_match in _ELEMENT_KEYWORDS:
                element_start = True
                continue
            word = f"'{to_match}'"
        else:
            word = _TOKEN_WORDS.get(name, name or "something else")
        if word == "end of file" and element_start:
            continue
        if word not in words:
            words.append(word)
    if element_start:
        words.append("the start of an element (component, hazard, requirement, ...)")
    if len(words) > 8:
        words = words[:8] + ["..."]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _is_keyword(rule: Any) -> bool:
    """A literal of the grammar: StrMatch, or (with autokwd) a RegExMatch with no rule name."""
    to_match = getattr(rule, "to_match", None)
    if not isinstance(to_match, str):
        return False
    if type(rule).__name__ == "StrMatch":
        return True
    return not getattr(rule, "rule_name", "") and re.fullmatch(r"[A-Za-z_]+|[^\w\s]+", to_match) is not None


def _keywords_expected(exc: Any) -> list[str]:
    return [r.to_match for r in getattr(exc, "expected_rules", None) or [] if _is_keyword(r)]


def _typo_hint(rest: str, exc: Any) -> str:
    m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", rest)
    if not m:
        return ""
    close = _close(m.group(0), _keywords_expected(exc))
    return f"did you mean '{close}'?" if close else ""
