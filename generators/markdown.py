"""Model text in Markdown table cells, the same way in every Markdown writer (tables, fault-tree, trace and
diff reports).

A cell must not end early (`|`), break its row (line breaks), carry raw HTML (`<`, `>`, `&` entities) or lose
a backslash to Markdown's escaping; tabs become spaces so the row stays on one line in review diffs. Hidden
characters (bidi controls, zero-width ones: diagnostics.HIDDEN) are written out as `<U+202E>` first, so the
rendered page shows them and the brackets are escaped like any other.
"""

from __future__ import annotations

from safetyops_dsl.diagnostics import show_hidden

CELL_ESCAPES = str.maketrans(
    {"\\": "\\\\", "|": "\\|", "<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " ", "\t": " "}
)

_BLANKS = str.maketrans({"\n": " ", "\r": " ", "\t": " "})


def cell(text: object) -> str:
    # line breaks become blanks before hidden characters are written out (a CR of CRLF is no hidden text)
    return show_hidden(str(text).translate(_BLANKS)).translate(CELL_ESCAPES)
