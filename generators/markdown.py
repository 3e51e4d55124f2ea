"""Model text in Markdown table cells, the same way in every Markdown writer (tables, fault-tree, trace and
diff reports).

A cell must not end early (`|`), break its row (line breaks), carry raw HTML (`<`, `>`, `&` entities) or lose
a backslash to Markdown's escaping; tabs become spaces so the row stays on one line in review diffs.
"""

from __future__ import annotations

CELL_ESCAPES = str.maketrans(
    {"\\": "\\\\", "|": "\\|", "<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " ", "\t": " "}
)


def cell(text: object) -> str:
    return str(text).translate(CELL_ESCAPES)
