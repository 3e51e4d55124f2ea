"""Hidden characters (Trojan Source): the character set, how they are shown, the SOPS014 scan, and the
span underline of terminal excerpts (which must stay under the characters it means when hidden characters
are written out or tabs expanded)."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.api import check
from safetyops_dsl.diagnostics import HIDDEN, Location, render_one, show_hidden
from safetyops_dsl.parse.hidden_text import MAX_PER_FILE, hidden_text


def test_hidden_set_is_every_format_control_and_separator_but_tab_and_newline() -> None:
    """The hard-coded ranges equal what this Python's Unicode database says (a newer Unicode that adds a
    format character fails here until the ranges are regenerated)."""
    expected = {chr(c) for c in range(sys.maxunicode + 1)
                if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp")} - {"\t", "\n"}
    found = {chr(c) for c in range(sys.maxunicode + 1) if HIDDEN.fullmatch(chr(c))}
    assert found == expected
    assert not any(c.isprintable() for c in found)  # the scan's fast path (str.isprintable) relies on it
    for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u200e\u200f\u2028\u2029\ufeff":
        assert ch in found


def test_show_hidden() -> None:
    assert show_hidden("plain text\twith tab\n") == "plain text\twith tab\n"
    assert show_hidden("a\u202eb\u2066c\u2069\ufeff\x1b") == "a<U+202E>b<U+2066>c<U+2069><U+FEFF><U+001B>"
    assert show_hidden("\U000e0041") == "<U+E0041>"
    assert show_hidden("x\u200by", "&lt;", "&gt;") == "x&lt;U+200B&gt;y"
    assert show_hidden("café ünïcode, 中文") == "café ünïcode, 中文"  # visible text is untouched


@pytest.mark.parametrize("ch", ["\u202e", "\u2067", "\u200b", "\u200f", "\u2028", "\ufeff", "\u00ad", "\x07"])
def test_each_kind_warns_at_the_character(ch: str) -> None:
    text = f'component C "ab{ch}c" {{\n}}\n'
    [d] = hidden_text(text, "f.sops")
    assert d.code == dg.HIDDEN_TEXT and d.level is dg.Severity.WARNING
    assert d.location == Location("f.sops", 1, 16, 1, 17)
    assert f"U+{ord(ch):04X}" in d.message


def test_clean_text_crlf_and_tabs_are_not_hidden() -> None:
    assert hidden_text("component C {\r\n\tout o\r\n}\r\n", "f.sops") == []
    assert hidden_text("x\ry", "f.sops") != []  # a lone CR is not a line end


def test_one_warning_per_line_and_a_bound_per_file() -> None:
    text = "\n".join(f"// {i} \u202e x \u202c" for i in range(MAX_PER_FILE + 5))
    diags = hidden_text(text, "f.sops")
    assert len(diags) == MAX_PER_FILE
    assert "and 5 more lines" in diags[-1].message
    assert all("U+202C" in d.message and "U+202E" in d.message for d in diags)


def test_check_reports_hidden_text_also_next_to_a_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "a.sops").write_text("\ufeffcomponent C\u200b {\n}\n", encoding="utf-8")
    codes = sorted(d.code for d in check([tmp_path]).diagnostics)
    assert codes == sorted([dg.HIDDEN_TEXT, dg.SYNTAX])  # the leading byte-order mark is no hidden character


def _excerpt(line: str, loc: Location) -> list[str]:
    d = dg.make(dg.UNKNOWN_NAME, "m", loc)
    return render_one(d, [line]).splitlines()[1:3]


def test_underline_covers_the_span() -> None:
    assert _excerpt("part p : Radr", Location("f", 1, 10, 1, 14)) == [" 1 | part p : Radr", "   |          ^^^^"]
    # a point: one caret; a span over several lines: to the end of its first line
    assert _excerpt("part p : Radr", Location("f", 1, 10))[1] == "   |          ^"
    assert _excerpt("hazard H {  ", Location("f", 1, 1, 4, 2))[1] == "   | ^^^^^^^^^^"


def test_underline_follows_tabs_and_written_out_hidden_characters() -> None:
    line = '\tx "a\u202eb" Radr'
    text, marks = _excerpt(line, Location("f", 1, 10, 1, 14))
    assert text == ' 1 |     x "a<U+202E>b" Radr'
    assert marks == "   |                    ^^^^"
    assert text[marks.index("^"):marks.rindex("^") + 1] == "Radr"
    assert "\u202e" not in render_one(dg.make(dg.UNKNOWN_NAME, "t \u202e", Location("f", 1, 1), "h \u2066"), [line])


def test_underline_of_a_long_line_stays_in_its_window() -> None:
    line = "x" * 500 + " Radr " + "y" * 500
    text, marks = _excerpt(line, Location("f", 1, 502, 1, 506))
    assert text[marks.index("^"):marks.rindex("^") + 1] == "Radr"
