"""The parser generated from the grammar (parse/fast_parser.py): derived from grammar/sops.tx, never drifting
from textX. Random and damaged texts are compared in tests/robustness/test_fast_parser_agrees.py."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safetyops_dsl.parse import fast_parser, generated_parser, textx_parser
from safetyops_dsl.parse.builder import FileBuilder
from safetyops_dsl.parse.fast_parser import Unsupported, compile_parser, generate_source

ROOT = Path(__file__).resolve().parents[2]


def _sources() -> list[Path]:
    found = [p for p in ROOT.rglob("*.sops") if ".venv" not in p.parts and ".git" not in p.parts]
    assert len(found) > 50  # the examples, golden cases and fixtures
    return sorted(found)


def _metamodel(grammar: str):  # type: ignore[no-untyped-def]
    from textx import metamodel_from_str

    return metamodel_from_str(grammar, autokwd=True)


def test_the_shipped_grammar_compiles() -> None:
    assert compile_parser(textx_parser.metamodel(), textx_parser.grammar_text()) is not None
    assert textx_parser.fast_parser() is generated_parser.parse


def test_the_shipped_parser_is_what_the_generator_makes_of_the_grammar() -> None:
    expected = generate_source(textx_parser.metamodel(), textx_parser.grammar_text())
    shipped = Path(generated_parser.__file__).read_text(encoding="utf-8")
    assert shipped == expected, "run: python -m safetyops_dsl.parse.fast_parser --write"
    assert fast_parser.main(["--check"]) == 0


def _fresh_caches() -> None:
    for cached in (textx_parser.shipped_parser, textx_parser.fast_parser, textx_parser.metamodel):
        cached.cache_clear()


def test_a_stale_shipped_parser_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # the grammar was edited and generated_parser.py not generated again: the parser is generated in-process
    text = 'component A {\n    out y\n    failure F rate 1 FIT\n    y.omission <- F\n}\n'
    monkeypatch.setattr(generated_parser, "GRAMMAR_SHA256", "0" * 64)
    _fresh_caches()
    try:
        assert textx_parser.shipped_parser() is None
        in_process = textx_parser.fast_parser()
        assert in_process is not generated_parser.parse and in_process.source.startswith(fast_parser.GENERATED_HEADER)
        a, b = in_process(text), generated_parser.parse(text)
        assert type(a).__name__ == type(b).__name__ == "File"
        assert a.elements[0].members[2].expr.operands[0].operands[0].path == "F"
        assert (a._tx_position_end, b._tx_position_end) == (len(text) - 1, len(text) - 1)  # up to the `}`
    finally:
        monkeypatch.undo()
        _fresh_caches()
    assert textx_parser.fast_parser() is generated_parser.parse


def test_every_file_of_the_repository_builds_the_same() -> None:
    accepted = 0
    for path in _sources():
        text = path.read_bytes().decode("utf-8", "replace")
        slow, _ = textx_parser.parse_text(text, "f.sops", fast=False)
        fast = textx_parser.fast_parse(text)
        assert (slow is None) == (fast is None), path
        if slow is None:
            continue
        accepted += 1
        a = FileBuilder(text, "f.sops", "f.sops", "p")
        b = FileBuilder(text, "f.sops", "f.sops", "p")
        assert a.build(slow) == b.build(fast), path
        assert a.diagnostics == b.diagnostics, path
    assert accepted > 50


def test_positions_are_textx_positions() -> None:
    text = '// c\npackage p\n\n  component  A "d" {\n  out y /* x */ failure F rate 1 FIT\n  y.omission <- F\n}\n'
    slow, _ = textx_parser.parse_text(text, "f.sops", fast=False)
    fast = textx_parser.fast_parser()(text)
    pairs = [(slow.elements[0], fast.elements[0])]
    pairs += list(zip(slow.elements[0].members, fast.elements[0].members, strict=True))
    for s, f in pairs:
        assert type(s).__name__ == type(f).__name__
        assert (s._tx_position, s._tx_position_end) == (f._tx_position, f._tx_position_end)


def test_a_grammar_change_changes_the_generated_parser() -> None:
    grammar = resources.files("safetyops_dsl.grammar").joinpath("sops.tx").read_text(encoding="utf-8")
    changed = grammar.replace("MissionTime: 'mission_time' time=Duration;", "MissionTime: 'mission_span' time=Duration;")
    assert changed != grammar
    parse = compile_parser(_metamodel(changed))
    assert parse("mission_span 10 h\n").elements[0].time.unit == "h"
    assert parse("mission_time 10 h\n") is None


@pytest.mark.parametrize(
    "grammar",
    [
        "File: a=Inner; Inner: 'x' Other; Other: name=/[a-z]+/;",  # a common rule used without assignment
        "File: 'x' a=/[a-z]+/ b=BOOL;",  # textX converts BOOL (not used by sops.tx): not translated
    ],
)
def test_constructs_it_does_not_know_are_refused(grammar: str) -> None:
    with pytest.raises(Unsupported):
        compile_parser(_metamodel(grammar))


def test_strings_unescape_as_textx_does() -> None:
    assert fast_parser._unquote(r'"a \"b\" c\n"') == 'a "b" c\\n'


def test_small_models_use_the_shipped_parser_without_textx() -> None:
    text = 'component A {\n    out y\n    failure F rate 1 FIT\n    y.omission <- F\n}\n'
    _fresh_caches()
    model, _ = textx_parser.parse_text(text, "f.sops")
    assert isinstance(model, fast_parser._Node)
    assert textx_parser.metamodel.cache_info().currsize == 0  # textX's metamodel is not built on success
    model, err = textx_parser.parse_text(text.replace("<-", "<"), "f.sops")
    assert model is None and err is not None and err.code == "SOPS001"  # textX still words the syntax error
    assert textx_parser.metamodel.cache_info().currsize == 1


def test_small_models_do_not_pay_for_generating_a_stale_one(monkeypatch: pytest.MonkeyPatch) -> None:
    text = 'component A {\n    out y\n    failure F rate 1 FIT\n    y.omission <- F\n}\n'
    monkeypatch.setattr(generated_parser, "GRAMMAR_SHA256", "0" * 64)
    _fresh_caches()
    monkeypatch.setattr(textx_parser, "_textx_bytes", 0)
    try:
        assert type(textx_parser.parse_text(text, "f.sops")[0]).__module__.startswith("textx")
        assert textx_parser.fast_parser.cache_info().currsize == 0
        monkeypatch.setattr(textx_parser, "_textx_bytes", textx_parser.FAST_AFTER_BYTES)
        model, _ = textx_parser.parse_text(text, "f.sops")
        assert isinstance(model, fast_parser._Node)
    finally:
        monkeypatch.undo()
        _fresh_caches()


def test_the_generated_source_depends_on_the_grammar_only() -> None:
    # compile_parser exec()s generated code: its text must come from the grammar, never from a parsed input
    first = compile_parser(textx_parser.metamodel(), textx_parser.grammar_text())
    assert first('component Zq_marker "Zq text" {\n    out y\n}\n') is not None
    again = compile_parser(textx_parser.metamodel(), textx_parser.grammar_text())
    assert again.source == first.source  # type: ignore[attr-defined]
    assert "Zq" not in first.source  # type: ignore[attr-defined]


@pytest.mark.parametrize("nest", ["({})", "1 of ({})", "(F and {})"])
def test_it_never_accepts_nesting_that_textx_refuses(nest: str) -> None:
    def text(depth: int) -> str:
        expr = "F"
        for _ in range(depth):
            expr = nest.format(expr)
        return "component A {\n    out y\n    failure F rate 1 FIT\n    y.omission <- " + expr + "\n}\n"

    textx_parser.fast_parser()
    for depth in range(30, 120, 3):
        slow, slow_err = textx_parser.parse_text(text(depth), "f.sops", fast=False)
        model, err = textx_parser.parse_text(text(depth), "f.sops")
        assert (slow is None) == (model is None), depth
        assert slow_err == err, depth


@pytest.mark.parametrize(
    "member",
    [
        "y.omission <- F",
        "y.omission /* note */ <- F",
        "y.omission // note\n    <- F",
        "y.omission<-F",
        "in <- F",  # keywords as rule targets: the guard of `Rule` must not skip what textX accepts
        "odd <- F",
        "out.value <- F",
        "y.omission < - F",
        "y.omission <-",
        "y . omission <- F",
        "2 of (F, F) <- F",
        "y.omission <- 2 of (F, F)",
        "y.omission <- 2 /* k */ of (F, F)",
        "y.omission <- 2 of F",
    ],
)
def test_members_that_start_like_a_rule_parse_as_textx_parses_them(member: str) -> None:
    text = "component A {\n    in a\n    out y\n    failure F rate 1 FIT\n    " + member + "\n}\n"
    slow, _ = textx_parser.parse_text(text, "f.sops", fast=False)
    fast = textx_parser.fast_parse(text)
    assert (slow is None) == (fast is None)
    if slow is not None:
        a = FileBuilder(text, "f.sops", "f.sops", "p")
        b = FileBuilder(text, "f.sops", "f.sops", "p")
        assert a.build(slow) == b.build(fast)
        assert a.diagnostics == b.diagnostics


@pytest.mark.parametrize("text", ["", "// only a comment\n", "\n\n  ", "/* a */ package p // b\n"])
def test_empty_and_comment_only_files_build_as_with_textx(text: str) -> None:
    # small files now take the shipped parser too; textX returns '' for them (a SimpleNamespace in parse_text)
    slow, _ = textx_parser.parse_text(text, "f.sops", fast=False)
    fast, err = textx_parser.parse_text(text, "f.sops")
    assert err is None and isinstance(fast, fast_parser._Node)
    a = FileBuilder(text, "f.sops", "f.sops", "p")
    b = FileBuilder(text, "f.sops", "f.sops", "p")
    assert a.build(slow) == b.build(fast)
    assert a.diagnostics == b.diagnostics


_PIECES = [" ", "  ", "\n", "\t", "//c\n", "// c", "/*x*/", "/* a\n*/", "/*", "*/", "/", "*", "a", "_b", "x.y", "9",
           "1.5e3", "-2", "+", "FIT", "per h", "per  hour", "/ h", "ms", "min", "h", "s", "component", "ml_component",
           "or", "and", "of", "<-", "<", "->", ">=", "'q'", '"s \\" t"', '"', "(", ")", ",", "%", "km/h", "..", "A",
           "QM", "B(QM)", "=", "{", "}", ":"]


@given(st.lists(st.sampled_from(_PIECES), max_size=8).map("".join), st.integers(0, 40))
def test_whitespace_and_token_in_one_regex_match_as_the_two_did(text: str, at: int) -> None:
    # each W regex of the generated parser is `(?>WS)(?:token)` (or `(token)` for its text): it must end, and
    # capture, exactly where skipping the whitespace with WS and then matching the token alone would
    at = min(at, len(text))
    prefix = f"(?>{generated_parser.WS.__self__.pattern})"
    merged = {name: rx for name, rx in vars(generated_parser).items() if re.fullmatch(r"W\d+", name)}
    assert len(merged) > 50
    for rx in merged.values():
        source = getattr(rx, "__self__", rx)  # compiled at first use (fast_parser._lazy): the stub, or re's
        full = source.pattern
        assert full.startswith(prefix)
        token = full[len(prefix):]
        capture = not token.startswith("(?:")
        alone = re.compile(token[1:-1] if capture else token[3:-1], source.flags).match
        start = generated_parser.WS(text, at).end()
        expected = alone(text, start)
        got = rx(text, at)
        assert (got is None) == (expected is None), (full, text, at)
        if got is not None and expected is not None:
            assert got.end() == expected.end()
            if capture:
                assert (got.start(1), got[1]) == (start, expected[0])


def test_token_regexes_are_compiled_at_their_first_use() -> None:
    namespace: dict[str, object] = {}
    stub = fast_parser._lazy(namespace, "W1", "(?>[ ]*)(ab)", 0)
    namespace["W1"] = stub
    assert stub("  abc", 0)[1] == "ab"
    compiled = namespace["W1"]
    assert compiled is not stub and compiled("  abc", 0).end() == 4  # type: ignore[operator]
    assert stub("x ab", 1).start(1) == 2  # the stub still answers (a reference taken before)


def test_a_caller_deeper_than_the_fast_parsers_limit_gets_textx_not_a_traceback() -> None:
    text = 'component A {\n    out y\n    failure F rate 1 FIT\n    y.omission <- F\n}\n'

    def at_depth(n: int) -> tuple[object, object]:
        if n:
            return at_depth(n - 1)
        return textx_parser.fast_parse(text), textx_parser.parse_text(text, "f.sops")

    fast, (model, err) = at_depth(textx_parser.FAST_RECURSION_LIMIT + 20)
    assert fast is None
    assert err is None and type(model).__name__ == "File" and model.elements[0].name == "A"  # type: ignore[attr-defined]


def test_no_parse_writes_the_shared_empty_trail() -> None:
    # NOF is passed where a rule holds all its attributes in locals: nothing may ever be appended to it
    for path in _sources():
        textx_parser.fast_parse(path.read_text(encoding="utf-8", errors="replace"))
    assert generated_parser.NOF == []
