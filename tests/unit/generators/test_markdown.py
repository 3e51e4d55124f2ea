"""One table-cell escaping for every Markdown writer."""

from __future__ import annotations

from safetyops_dsl.generators.markdown import cell


def test_cell_cannot_end_break_or_inject() -> None:
    text = "a|b\\c<script>&amp;\nrow\r\ttab"
    out = cell(text)
    assert out == "a\\|b\\\\c&lt;script&gt;&amp;amp; row  tab"
    assert "\n" not in out and "\r" not in out and "\t" not in out and "<" not in out
    assert out.replace("\\|", "").count("|") == 0
    assert cell(3.5) == "3.5"
