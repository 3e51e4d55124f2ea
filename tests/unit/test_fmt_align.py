"""The formatter's gofmt-style alignment: which columns line up, what starts and ends a run, minimal padding,
idempotence on hand-made cases and on random members with random spacing, and the example models kept in
canonical form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetyops_dsl.fmt import format_text, signature

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted((ROOT / "models").rglob("*.sops"))


def fmt_ok(text: str) -> str:
    """format_text, checked to be idempotent and to keep the tokens."""
    once = format_text(text)
    assert format_text(once) == once, "not idempotent"
    assert signature(once) == signature(text)
    return once


@pytest.mark.parametrize("path", MODELS, ids=[p.relative_to(ROOT).as_posix() for p in MODELS])
def test_the_example_models_are_in_canonical_form(path: Path) -> None:
    """`sops fmt --check models` passes: run `sops fmt models` after editing a model."""
    text = path.read_text(encoding="utf-8")
    assert format_text(text) == text


def test_the_example_models_use_alignment() -> None:
    text = (ROOT / "models" / "aeb" / "components.sops").read_text(encoding="utf-8")
    assert "    in  power\n    out frames\n" in text
    assert "    frames.omission    <- Blackout or power.omission\n" in text
    assert "    frames.value.stuck <- ImagerStuck\n" in text


def test_every_aligned_member_kind() -> None:
    text = """component C {
  in a, b
  out long_name
  part a : T "one"
  part bbbb : TT
  part cc : TTTTT "three"
  connect a -> bbbb.a
  connect long_name.x -> cc.a
  propagate a -> b { omission }
  propagate abc -> b
  failure F rate 1 FIT "one"
  trigger GGG probability 0.1
  mechanism M covers F coverage 90 %
  monitor Mon covers F, GGG coverage 90 % "x"
  dataset train "x" sha256 "y"
  dataset verification "xx"
  dataset test "xxxxx" sha256 "y"
  metric a.b >= 1
  metric a.bcd < -1
  x.omission <- a.omission
  long.value.stuck <- b.value
  model "m" version "1"
  odd "o"
}
"""
    assert (
        fmt_ok(text)
        == """component C {
    in  a, b
    out long_name
    part a    : T     "one"
    part bbbb : TT
    part cc   : TTTTT "three"
    connect a           -> bbbb.a
    connect long_name.x -> cc.a
    propagate a   -> b { omission }
    propagate abc -> b
    failure F   rate 1 FIT "one"
    trigger GGG probability 0.1
    mechanism M covers F coverage 90 %
    monitor Mon covers F, GGG coverage 90 % "x"
    dataset train        "x"     sha256 "y"
    dataset verification "xx"
    dataset test         "xxxxx" sha256 "y"
    metric a.b   >= 1
    metric a.bcd < -1
    x.omission       <- a.omission
    long.value.stuck <- b.value
    model "m" version "1"
    odd "o"
}
"""
    )


def test_ccf_groups() -> None:
    text = (
        'system S {\n ccf C covers a.F, b.F beta 2 % "x"\n ccf Longer covers a.F,b.F mgl 0.1, 5 %, 0.2\n}\n'
    )
    assert fmt_ok(text) == (
        "system S {\n"
        '    ccf C      covers a.F, b.F beta 2 % "x"\n'
        "    ccf Longer covers a.F, b.F mgl 0.1, 5 %, 0.2\n"
        "}\n"
    )


def test_top_level_deviations_and_evidence() -> None:
    text = (
        'deviation value.stuck refines value "frozen"\n'
        'deviation late.stale refines late "old"\n'
        "deviation value.offset\n"
        'evidence T test "tests/a.py" verifies R\n'
        'evidence MET metric "recall" verifies R, S\n'
        'evidence REV review "minutes"\n'
        'evidence INS inspection "report" supports H artifact "x.md"\n'
    )
    assert fmt_ok(text) == (
        'deviation value.stuck refines value "frozen"\n'
        'deviation late.stale  refines late  "old"\n'
        "deviation value.offset\n"  # nothing to align: it ends the run
        'evidence T   test       "tests/a.py" verifies R\n'
        'evidence MET metric     "recall"     verifies R, S\n'
        'evidence REV review     "minutes"\n'
        'evidence INS inspection "report"     supports H artifact "x.md"\n'
    )


def test_a_member_alone_keeps_single_spaces_and_padding_is_minimal() -> None:
    hand = (
        "component A {\n    in    x\n    out     y\n    failure   F    rate 1 FIT\n    y.omission   <- F\n}\n"
    )
    assert (
        fmt_ok(hand)
        == "component A {\n    in  x\n    out y\n    failure F rate 1 FIT\n    y.omission <- F\n}\n"
    )


RUNS_IN = """component A {
    in a
    out bbbbbb
    x.omission <- a.omission or
        a.value
    long.value.stuck <- a.value
    // a comment line ends the run
    y.late <- a.late
    yy.late <- a.late

    z.omission <- a.omission
    zz.omission
        <- a.omission
    q.omission <- a.late
    r.value <- a.value or
    /* lead */ a.late
    rrrrr.value <- a.value
    s.value <- a.value or
        // a comment line inside a member
        a.late
    ss.value <- a.late
    failure F rate 1 FIT
    t.value <- F
}
"""

RUNS_OUT = """component A {
    in  a
    out bbbbbb
    x.omission       <- a.omission or
            a.value
    long.value.stuck <- a.value
    // a comment line ends the run
    y.late  <- a.late
    yy.late <- a.late

    z.omission <- a.omission
    zz.omission
            <- a.omission
    q.omission  <- a.late
    r.value     <- a.value or
            /* lead */ a.late
    rrrrr.value <- a.value
    s.value     <- a.value or
            // a comment line inside a member
            a.late
    ss.value <- a.late
    failure F rate 1 FIT
    t.value <- F
}
"""


def test_what_starts_and_ends_a_run() -> None:
    """A blank line, a comment line, a member of another kind, and a member whose column is on a
    continuation line end a run; the continuation lines of a member in the run (even one that starts with a
    comment) do not, and a comment line inside a member ends the run after that member."""
    assert fmt_ok(RUNS_IN) == RUNS_OUT


def test_end_of_line_comments_line_up_within_a_run() -> None:
    text = (
        "component A {\n"
        "    in a // first\n"
        "    out long_name, b   // second\n"
        "    failure F rate 1 FIT // alone\n"
        "    x.omission <- F // not in a run with the failure\n"
        "}\n"
    )
    assert fmt_ok(text) == (
        "component A {\n"
        "    in  a             // first\n"
        "    out long_name, b  // second\n"
        "    failure F rate 1 FIT  // alone\n"
        "    x.omission <- F  // not in a run with the failure\n"
        "}\n"
    )


def test_strings_and_comments_spanning_lines_end_the_columns_of_a_line() -> None:
    text = (
        'evidence T test "two\nlines" verifies R\n'
        'evidence TTT test "one line" verifies R\n'
        "component A {\n"
        "    failure /* c\n  d */ G rate 1 FIT\n"
        "    failure /* c */ F rate 1 FIT\n"
        "    failure Hhhhhhhhhhhhh rate 1 FIT\n"
        "}\n"
    )
    assert fmt_ok(text) == (
        'evidence T   test "two\nlines" verifies R\n'  # `verifies` is not a column of this line
        'evidence TTT test "one line" verifies R\n'
        "component A {\n"
        "    failure /* c\n  d */ G rate 1 FIT\n"  # no column on its first line: it ends the run
        "    failure /* c */ F     rate 1 FIT\n"  # a comment in the head is part of it
        "    failure Hhhhhhhhhhhhh rate 1 FIT\n"
        "}\n"
    )


def test_runs_do_not_cross_blocks() -> None:
    text = "component A {\n    out x\n}\ncomponent B {\n    out yyyy, z\n    in a\n}\n"
    assert fmt_ok(text) == "component A {\n    out x\n}\ncomponent B {\n    out yyyy, z\n    in  a\n}\n"


# -- random members, random spacing --------------------------------------------------------------------------

NAMES = ["a", "bb", "power", "frames_out", "x1"]
FAULTS = ["F", "Fault", "LongFaultName"]
DEVIATIONS = ["omission", "value", "value.stuck", "late"]

name = st.sampled_from(NAMES)
fault = st.sampled_from(FAULTS)


@st.composite
def rule(draw: st.DrawFn) -> list[str]:
    tokens = [f"{draw(name)}.{draw(st.sampled_from(DEVIATIONS))}", "<-", f"{draw(name)}.omission"]
    for _ in range(draw(st.integers(0, 2))):
        tokens += [draw(st.sampled_from(["or", "and"])), draw(st.one_of(fault, name))]
    return tokens


@st.composite
def port(draw: st.DrawFn) -> list[str]:
    names = draw(st.lists(name, min_size=1, max_size=3))
    tokens = [draw(st.sampled_from(["in", "out"])), names[0]]
    for n in names[1:]:
        tokens += [",", n]
    return tokens


@st.composite
def failure(draw: st.DrawFn) -> list[str]:
    head = [draw(st.sampled_from(["failure", "trigger"])), draw(fault)]
    quantity = draw(st.sampled_from([["rate", "12", "FIT"], ["rate", "3", "/", "h"], ["probability", "0.1"]]))
    return head + quantity + draw(st.sampled_from([[], ['"what fails"']]))


@st.composite
def part(draw: st.DrawFn) -> list[str]:
    return ["part", draw(name), ":", draw(st.sampled_from(["T", "LongType"]))]


@st.composite
def connect(draw: st.DrawFn) -> list[str]:
    return ["connect", f"{draw(name)}.{draw(name)}", "->", draw(name)]


member = st.one_of(rule(), port(), failure(), part(), connect())
# between members: a line break, a blank line, a comment line, an end-of-line comment, or the same line
SEPARATORS = ["\n", "\n", "\n", "\n\n", "\n// note\n", "  // note\n", " "]
HSPACE = [" ", "  ", "\t", "    "]


@st.composite
def component(draw: st.DrawFn) -> tuple[list[list[str]], list[str]]:
    """The members and the separators after each of them."""
    members = draw(st.lists(member, min_size=1, max_size=12))
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(members), max_size=len(members)))
    return members, seps


def render(members: list[list[str]], seps: list[str], spaces: list[str], breaks: set[int]) -> str:
    """The component text, with spaces[k] between the k-th pair of tokens and a line break before the
    operators of rules whose index is in breaks (a continuation line)."""
    out = ["component C {\n"]
    k = 0
    for m, (tokens, sep) in enumerate(zip(members, seps, strict=True)):
        for t, tok in enumerate(tokens):
            if t:
                glue = tok == ","
                brk = m in breaks and tok in ("or", "and")
                out.append("\n        " if brk else "" if glue else spaces[k % len(spaces)])
                k += 1
            out.append(tok)
        out.append(sep)
    out.append("\n}\n")
    return "".join(out)


ALIGNED = {
    "rule": re.compile(r"^    [A-Za-z_][\w.]*( +)<- "),
    "port": re.compile(r"^    (?:in|out)( +)\w"),
    "failure": re.compile(r"^    (?:failure|trigger) \w+( +)(?:rate|probability) "),
    "part": re.compile(r"^    part \w+( +): "),
    "connect": re.compile(r"^    connect [\w.]+( +)-> "),
}


def check_alignment(text: str) -> None:
    """In every run (consecutive member lines of one kind, their continuation lines skipped), the aligned
    column starts at one position with exactly one space before it on the longest line, and end-of-line
    comments start at one position with two spaces before the first of them on the longest line."""
    runs: list[tuple[str, list[tuple[int, int, int, int]]]] = []  # kind, [(column, spaces, //, spaces)]
    for line in text.splitlines():
        if line.startswith(" " * 12) and not line.lstrip().startswith("//") and runs and runs[-1][1]:
            continue  # a continuation line
        kind, found = "", None
        for k, pattern in ALIGNED.items():
            if m := pattern.match(line):
                kind, found = k, m
        if found is None:
            runs.append(("", []))
            continue
        slash = line.find("//")
        before = len(line[:slash]) - len(line[:slash].rstrip()) if slash >= 0 else 0
        entry = (found.end(1), len(found.group(1)), slash, before)
        if runs and runs[-1][0] == kind:
            runs[-1][1].append(entry)
        else:
            runs.append((kind, [entry]))
    for kind, entries in runs:
        if not entries:
            continue
        assert len({e[0] for e in entries}) == 1, (kind, entries, text)
        assert min(e[1] for e in entries) == 1, (kind, entries, text)
        commented = [e for e in entries if e[2] >= 0]
        if commented:
            assert len({e[2] for e in commented}) == 1, (kind, entries, text)
            assert min(e[3] for e in commented) == 2, (kind, entries, text)


@settings(max_examples=300, deadline=None)
@given(
    component(),
    st.lists(st.sampled_from(HSPACE), min_size=1, max_size=8),
    st.lists(st.sampled_from(HSPACE), min_size=1, max_size=8),
    st.sets(st.integers(0, 11), max_size=3),
)
def test_random_members_are_aligned_idempotently(
    shape: tuple[list[list[str]], list[str]], spaces: list[str], other_spaces: list[str], breaks: set[int]
) -> None:
    members, seps = shape
    text = render(members, seps, spaces, breaks)
    once = fmt_ok(text)
    # the layout does not depend on the spaces the author typed, only on the tokens and the line breaks
    assert format_text(render(members, seps, other_spaces, breaks)) == once
    check_alignment(once)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(MODELS), st.data())
def test_models_respaced_at_random_format_back_to_themselves(path: Path, data: st.DataObject) -> None:
    """Change only the horizontal whitespace of a canonical model: formatting restores the file exactly."""
    text = path.read_text(encoding="utf-8")
    pieces = re.split(r"(\"(?:\\\"|[^\"])*\"|//[^\n]*|/\*[\s\S]*?\*/| +)", text)
    out = []
    for piece in pieces:
        if piece and piece.strip(" ") == "" and not (out[-1] if out else "\n").endswith("\n"):
            out.append(data.draw(st.sampled_from(HSPACE)))  # between tokens (not the indentation)
        else:
            out.append(piece)
    assert format_text("".join(out)) == text
