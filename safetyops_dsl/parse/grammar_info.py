"""Keyword tables read from the grammar (grammar/sops.tx), so that the tools listing keywords cannot drift
from the language: which keywords start a top-level element, and which start a member inside each element.

The syntax-error messages (parse/textx_parser.py) and the language server's completion (lsp/server.py) take
their lists from here; the TextMate grammar's keyword list is compared with the grammar by a test
(tests/unit/test_textmate.py). Reading the rule bodies needs no textX: the grammar keeps one rule per
`Name: body ;`, alternatives at the top level of a body separated by `|`.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources

HEADER_KEYWORDS = ("package", "import")  # the file header (rule File), before any element


@lru_cache(maxsize=1)
def rules() -> dict[str, str]:
    text = resources.files("safetyops_dsl.grammar").joinpath("sops.tx").read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"'(?:[^'\\]|\\.)*'", lambda m: m.group(0).replace(";", "\0"), text)  # ';' inside quotes
    out: dict[str, str] = {}
    for m in re.finditer(r"([A-Z][A-Za-z0-9_]*)\s*:(.*?);", text, flags=re.S):
        out[m.group(1)] = m.group(2).replace("\0", ";")
    return out


def _alternatives(body: str) -> list[str]:
    """The top-level `|` alternatives of a rule body (not those inside parentheses)."""
    out: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [a.strip() for a in out if a.strip()]


_FIRST = re.compile(r"\s*(?:'([^']*)'|(?:\w+\s*[*+?]?=\s*)?([A-Z][A-Za-z0-9_]*))")


@cache
def first_keywords(rule: str) -> tuple[str, ...]:
    """The keywords a rule can start with (empty where it starts with a name, a string or a number)."""
    body = rules().get(rule)
    if body is None:
        return ()
    found: list[str] = []
    for alt in _alternatives(body):
        m = _FIRST.match(alt)
        if m is None:
            continue
        if m.group(1) is not None:
            if re.fullmatch(r"[A-Za-z_]\w*", m.group(1)):
                found.append(m.group(1))
        elif m.group(2) in rules() and m.group(2) != rule:
            found.extend(first_keywords(m.group(2)))
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=1)
def element_rules() -> tuple[str, ...]:
    """The rules of top-level elements, in grammar order (the alternatives of `Element`)."""
    return tuple(_alternatives(rules()["Element"]))


@lru_cache(maxsize=1)
def element_keywords() -> tuple[str, ...]:
    """Keywords that start a top-level element."""
    return tuple(k for r in element_rules() for k in first_keywords(r))


@lru_cache(maxsize=1)
def member_keywords() -> dict[str, tuple[str, ...]]:
    """Element keyword -> the keywords that start its members (the rules of its `*=` attributes)."""
    out: dict[str, tuple[str, ...]] = {}
    for r in element_rules():
        inner = [m.group(1) for m in re.finditer(r"\w+\s*\*=\s*([A-Z][A-Za-z0-9_]*)", rules()[r])]
        words = tuple(dict.fromkeys(k for sub in inner for k in first_keywords(sub)))
        for kw in first_keywords(r):
            if words:
                out[kw] = words
    return out
