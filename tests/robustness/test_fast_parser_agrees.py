"""The generated fast parser (parse/fast_parser.py) against textX on grammar-shaped and damaged text.

For every text both parsers must accept or both reject, and where they accept the builder must produce the
same semantic file and the same diagnostics: the fast parser is only a faster way to the same objects.
"""

from __future__ import annotations

from harness import fuzz
from hypothesis import given
from hypothesis import strategies as st
from strategies import models, near_miss

from safetyops_dsl.parse.builder import FileBuilder
from safetyops_dsl.parse.textx_parser import fast_parse, fast_parser, parse_text


def _agree(text: str) -> None:
    slow, slow_err = parse_text(text, "m.sops", fast=False)
    assert fast_parser() is not None  # built: parse_text below takes the generated path first
    _, fast_err = parse_text(text, "m.sops")
    assert slow_err == fast_err  # a rejected text reaches textX either way: the same diagnostic
    fast = fast_parse(text)
    assert (slow is None) == (fast is None)
    if slow is None:
        return
    a = FileBuilder(text, "m.sops", "m.sops", "pkg")
    b = FileBuilder(text, "m.sops", "m.sops", "pkg")
    assert a.build(slow) == b.build(fast)
    assert a.diagnostics == b.diagnostics


@fuzz(60)
@given(st.one_of(models(), near_miss()))
def test_fast_parser_builds_what_textx_builds(text: str) -> None:
    _agree(text)
