"""Hidden characters in a source file (Trojan Source, CVE-2021-42574): a warning at each line that holds one.

A bidi override in a comment or string can make a reviewer read `}` where the parser sees text, or a
zero-width space can make two names look alike. The scan runs on the raw text, comments included, before
parsing, so a file whose hidden character breaks the syntax still gets the warning next to its syntax error.
"""

from __future__ import annotations

import unicodedata

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import HIDDEN, Diagnostic, Location, hidden_name

# One warning per line, and at most this many per file: a generated file with a hidden character on every
# line must not bury the other diagnostics.
MAX_PER_FILE = 20


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"{hidden_name(ch)} {name}" if name else hidden_name(ch)


def hidden_text(text: str, display: str) -> list[Diagnostic]:
    # Every hidden character is non-printable for str.isprintable (a C table lookup, several times faster
    # than the regular expression); only text that fails it is searched line by line.
    if text.replace("\r\n", "").replace("\n", "").replace("\t", "").isprintable():
        return []
    out: list[Diagnostic] = []
    lines_with = 0
    for number, line in enumerate(text.split("\n"), start=1):
        found = list(HIDDEN.finditer(line.removesuffix("\r")))  # CRLF line ends are not hidden
        if not found:
            continue
        lines_with += 1
        if len(out) < MAX_PER_FILE:
            first = found[0].start() + 1
            kinds = sorted({m.group() for m in found})
            what = ", ".join(_describe(c) for c in kinds)
            bidi = any(c in dg.BIDI_CONTROLS for c in kinds)
            message = f"hidden character{'s' if len(found) > 1 else ''} in the text: {what}"
            hint = ("bidirectional controls can make the text read differently from how it is parsed; "
                    if bidi else "invisible characters make different text look the same; ")
            hint += f"remove {'them' if len(found) > 1 else 'it'}, or write what is meant with visible characters "
            hint += f"(outputs show {hidden_name(found[0].group())} as <{hidden_name(found[0].group())}>)"
            out.append(dg.make(dg.HIDDEN_TEXT, message, Location(display, number, first, number, first + 1), hint))
    if lines_with > len(out):
        last = out[-1]
        out[-1] = dg.make(
            dg.HIDDEN_TEXT,
            f"{last.message} (and {lines_with - len(out)} more lines with hidden characters in this file)",
            last.location,
            last.hint,
        )
    return out
