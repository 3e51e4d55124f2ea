"""The formatter's gofmt-style alignment: which columns line up, what starts and ends a run, minimal padding,
idempotence on hand-made cases and on random members with random spacing, and the example models kept in
canonical form; the hazard classification kept on one line where the author wrote it so, requirement rows,
and the indentation of continuation lines."""

from __future__ import annotations

import re
import textwrap
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


# -- hazard classification on one line, requirement rows, continuation indentation ---------------------------


def test_the_hazard_classification_stays_on_one_line_where_the_author_wrote_it_so() -> None:
    text = (
        'hazard H1 "t" {\n'
        '  situation "s"\n'
        "  severity S3   exposure E4  controllability C3     // ASIL D\n"
        "  when a.omission\n"
        "}\n"
        "hazard H2 { exposure E2 severity S1 controllability C0 asil QM when a.value }\n"
        "hazard H3 {\n  severity S3\n  exposure E4\n  controllability C3\n}\n"
        "hazard H4 {\n  severity S3 exposure E4\n  controllability C3\n}\n"  # two on one line: split
        "hazard H5 {\n  severity S3 /* inline */ exposure E4 controllability C3\n}\n"
        "hazard H6 {\n  severity\n    S3 exposure E4 controllability C3\n}\n"  # broken inside: split
        "hazard H7 { severity S3 severity S2 exposure E1 controllability C0 }\n"  # the first trio from the left
    )
    assert fmt_ok(text) == (
        'hazard H1 "t" {\n'
        '    situation "s"\n'
        "    severity S3 exposure E4 controllability C3  // ASIL D\n"
        "    when a.omission\n"
        "}\n"
        "hazard H2 {\n    exposure E2 severity S1 controllability C0\n    asil QM\n    when a.value\n}\n"
        "hazard H3 {\n    severity S3\n    exposure E4\n    controllability C3\n}\n"
        "hazard H4 {\n    severity S3\n    exposure E4\n    controllability C3\n}\n"
        "hazard H5 {\n    severity S3 /* inline */ exposure E4 controllability C3\n}\n"
        "hazard H6 {\n    severity\n            S3\n    exposure E4\n    controllability C3\n}\n"
        "hazard H7 {\n    severity S3\n    severity S2 exposure E1 controllability C0\n}\n"
    )


def test_a_comment_or_a_line_break_between_the_three_splits_them() -> None:
    text = (
        "hazard H {\n"
        "    severity S3 exposure E4 /* two\n  lines */ controllability C3\n"
        "    severity S3 exposure E4 // eol\n    controllability C3\n"
        "    severity S3\n    /* own line */ exposure E4 controllability C3\n"
        "}\n"
    )
    assert fmt_ok(text) == (
        "hazard H {\n"
        "    severity S3\n    exposure E4 /* two\n  lines */\n    controllability C3\n"
        "    severity S3\n    exposure E4  // eol\n    controllability C3\n"
        "    severity S3\n    /* own line */\n    exposure E4\n    controllability C3\n"
        "}\n"
    )


REQUIREMENTS_IN = """requirement FSR1 "Perception detects crossing pedestrians at night"
        refines SG1 allocated_to perception asil B(D)
requirement FSR2 "The radar channel detects pedestrians"
  refines SG1   allocated_to radars asil B(D)   // decomposed
requirement TSR1 "The lockstep comparator detects core divergence"
    refines FSR3 allocated_to ecu asil D
    allocated_to watchdog
requirement TSR2 "t"
    refines FSR3 allocated_to ecu, mcu asil D

requirement R1 "a blank line ends the run"
    refines SG1 allocated_to ecu asil D
requirement R2 "a row that starts with another keyword ends it"
    allocated_to ecu asil D
requirement R3 "r"
    allocated_to perception asil D
requirement R4 "attributes on the first line: no row" refines SG1 asil D
requirement R5 "r"
    refines SG1 allocated_to ecu
requirement R6 "a single attribute on the row ends the run"
    refines SG1
requirement R7 "r"
    refines SG1 allocated_to perception
// a comment line ends the run
requirement R8 "r"
    refines SG1 allocated_to x
evidence E test "another element ends it"
requirement R9 "r" // a comment on the first line
    refines SG11 allocated_to x asil D
requirement R10 "r"
    refines SG1 asil D
requirement R11 "r" {
    refines SG1 allocated_to x
}
"""

REQUIREMENTS_OUT = """requirement FSR1 "Perception detects crossing pedestrians at night"
    refines SG1  allocated_to perception asil B(D)
requirement FSR2 "The radar channel detects pedestrians"
    refines SG1  allocated_to radars     asil B(D)  // decomposed
requirement TSR1 "The lockstep comparator detects core divergence"
    refines FSR3 allocated_to ecu        asil D
    allocated_to watchdog
requirement TSR2 "t"
    refines FSR3 allocated_to ecu, mcu   asil D

requirement R1 "a blank line ends the run"
    refines SG1 allocated_to ecu asil D
requirement R2 "a row that starts with another keyword ends it"
    allocated_to ecu        asil D
requirement R3 "r"
    allocated_to perception asil D
requirement R4 "attributes on the first line: no row" refines SG1 asil D
requirement R5 "r"
    refines SG1 allocated_to ecu
requirement R6 "a single attribute on the row ends the run"
    refines SG1
requirement R7 "r"
    refines SG1 allocated_to perception
// a comment line ends the run
requirement R8 "r"
    refines SG1 allocated_to x
evidence E test "another element ends it"
requirement R9 "r"  // a comment on the first line
    refines SG11 allocated_to x asil D
requirement R10 "r"
    refines SG1  asil D
requirement R11 "r" {
    refines SG1
    allocated_to x
}
"""


def test_requirement_rows_line_up_in_runs() -> None:
    """The second line of a requirement without braces, when it starts with an attribute, is the
    requirement's row: rows of consecutive requirements that start with the same keyword align their later
    attributes, by position (R10's `asil` lines up with R9's `allocated_to`)."""
    assert fmt_ok(REQUIREMENTS_IN) == REQUIREMENTS_OUT


def test_continuation_indentation() -> None:
    """4 more than the element for a top-level element without a block, 8 more otherwise."""
    text = (
        'package p\nimport\n"x.sops"\n'
        "mission_time\n1 h\n"
        'deviation value.stuck\nrefines value "frozen"\n'
        'evidence T test "t"\nverifies R\nartifact "a"\n'
        'safety_goal SG "t"\nmitigates H\n'
        'safety_goal SG2 "t"\nmitigates H {\nftti\n1 ms\n}\n'
        "requirement R\n// why\nrefines SG\n"
        'requirement R2 "t" {\nrefines\nSG\n}\n'
        'component C\n"d" {\nout o\no.omission <-\nF\nfailure F rate 1 FIT\n}\n'
    )
    assert fmt_ok(text) == (
        'package p\nimport\n    "x.sops"\n'
        "mission_time\n    1 h\n"
        'deviation value.stuck\n    refines value "frozen"\n'
        'evidence T test "t"\n    verifies R\n    artifact "a"\n'
        'safety_goal SG "t"\n    mitigates H\n'
        'safety_goal SG2 "t"\n        mitigates H {\n    ftti\n            1 ms\n}\n'
        "requirement R\n    // why\n    refines SG\n"
        'requirement R2 "t" {\n    refines\n            SG\n}\n'
        'component C\n        "d" {\n    out o\n    o.omission <-\n            F\n    failure F rate 1 FIT\n}\n'
    )


def test_the_requirement_example_of_the_docs_is_canonical() -> None:
    doc = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    blocks = [textwrap.dedent(b) for b in re.findall(r"  ```\n(.*?)  ```\n", doc, re.S)]
    [example] = [b for b in blocks if b.startswith("requirement ")]
    assert fmt_ok(example) == example


# -- random hazards and requirements, random spacing ---------------------------------------------------------

HAZARD_ATTRS = {
    "severity": ["S0", "S3"],
    "exposure": ["E1", "E4"],
    "controllability": ["C2", "C3"],
    "asil": ["B", "QM"],
    "when": ["a.omission", "a.value or b.late"],
    "situation": ['"night"'],
}
# between hazard attributes: on the same line (also with an inline comment), a line break, a blank line, a
# comment line, an end-of-line comment
SAME_LINE = [" ", " /* c */ "]
NEW_LINE = ["\n", "\n\n", "\n// note\n", "  // note\n"]


@st.composite
def hazard_attrs(draw: st.DrawFn) -> list[list[str]]:
    """One attribute, or the three classification attributes in some order (trios are common)."""
    if draw(st.booleans()):
        keywords = draw(st.permutations(["severity", "exposure", "controllability"]))
    else:
        keywords = [draw(st.sampled_from(list(HAZARD_ATTRS)))]
    return [[k, *draw(st.sampled_from(HAZARD_ATTRS[k])).split()] for k in keywords]


@st.composite
def hazard(draw: st.DrawFn) -> tuple[list[list[str]], list[str], set[int]]:
    """Attributes, the separator after each, and the attributes broken after their keyword."""
    attrs = [a for chunk in draw(st.lists(hazard_attrs(), min_size=1, max_size=4)) for a in chunk]
    seps = draw(st.lists(st.sampled_from(SAME_LINE * 3 + NEW_LINE), min_size=len(attrs), max_size=len(attrs)))
    broken = draw(st.sets(st.integers(0, len(attrs) - 1), max_size=1))
    return attrs, seps, broken


def render_hazard(attrs: list[list[str]], seps: list[str], broken: set[int], spaces: list[str]) -> str:
    out = ["hazard H {", spaces[0]]
    k = 1
    for m, (tokens, sep) in enumerate(zip(attrs, seps, strict=True)):
        for t, tok in enumerate(tokens):
            if t:
                out.append("\n      " if m in broken and t == 1 else spaces[k % len(spaces)])
                k += 1
            out.append(tok)
        gap = spaces[k % len(spaces)]
        out.append(gap + sep.strip(" ") + (gap if sep.strip(" ") else "") if sep in SAME_LINE else sep)
        k += 1
    out.append("\n}\n")
    return "".join(out)


def expected_lines(attrs: list[list[str]], seps: list[str], broken: set[int]) -> list[list[str]]:
    """The keywords of the attributes on each output line: classification trios that the author wrote on
    one line (no line break between or inside the three), taken from the left, share a line."""
    lines: list[list[str]] = []
    k = 0
    while k < len(attrs):
        trio = attrs[k : k + 3]
        if (
            len(trio) == 3
            and {a[0] for a in trio} == {"severity", "exposure", "controllability"}
            and seps[k] in SAME_LINE
            and seps[k + 1] in SAME_LINE
            and not broken & {k, k + 1, k + 2}
        ):
            lines.append([a[0] for a in trio])
            k += 3
        else:
            lines.append([attrs[k][0]])
            k += 1
    return lines


@settings(max_examples=300, deadline=None)
@given(
    hazard(),
    st.lists(st.sampled_from(HSPACE), min_size=1, max_size=8),
    st.lists(st.sampled_from(HSPACE), min_size=1, max_size=8),
)
def test_random_hazards_keep_the_classification_on_one_line_only_where_written_so(
    shape: tuple[list[list[str]], list[str], set[int]], spaces: list[str], other_spaces: list[str]
) -> None:
    attrs, seps, broken = shape
    once = fmt_ok(render_hazard(attrs, seps, broken, spaces))
    assert format_text(render_hazard(attrs, seps, broken, other_spaces)) == once
    found: list[list[str]] = []
    for line in once.splitlines()[1:-1]:
        code = re.sub(r"\s*(//.*|/\* c \*/)", "", line)
        if not code or line.startswith(" " * 12):
            continue  # a comment line, a blank line, a continuation line
        assert code.startswith("    ") and "  " not in code.strip(), line  # single spaces
        found.append([w for w in code.split() if w in HAZARD_ATTRS])
    assert found == expected_lines(attrs, seps, broken), once


REQ_ATTRS = {
    "refines": ["SG1", "FSR12", "SG1, SG2"],
    "allocated_to": ["ecu", "perception", "a.b, cc"],
    "asil": ["D", "B(D)", "QM"],
}


@st.composite
def requirement(draw: st.DrawFn) -> str:
    """One requirement: header, then its attributes on the first line, on the second, or over two lines."""
    first = draw(st.sampled_from(["refines", "refines", "refines", "allocated_to", "asil"]))
    attrs = [first, *draw(st.lists(st.sampled_from(list(REQ_ATTRS)), max_size=3))]
    words = [f"{a} {draw(st.sampled_from(REQ_ATTRS[a]))}" for a in attrs]
    title = draw(st.sampled_from(['"t"', '"a longer title"']))
    head = f"requirement {draw(st.sampled_from(['R', 'FSR1', 'TSR_LONG']))} {title}"
    # attributes on the second line: words[:split] (mostly all of them)
    split = draw(st.sampled_from([len(words)] * 3 + list(range(len(words) + 1))))
    comment = draw(st.sampled_from(["", " // c"]))
    if split == 0:
        return " ".join([head, *words]) + comment
    rest = " ".join(words[split:])
    return head + "\n  " + " ".join(words[:split]) + comment + ("\n  " + rest if rest else "")


SEPARATE = ["\n", "\n", "\n", "\n", "\n", "\n\n", "\n// note\n", '\nevidence E test "x"\n']


@st.composite
def requirements(draw: st.DrawFn) -> str:
    items = draw(st.lists(requirement(), min_size=1, max_size=8))
    seps = draw(st.lists(st.sampled_from(SEPARATE), min_size=len(items), max_size=len(items)))
    return "".join(item + sep for item, sep in zip(items, seps, strict=True))


def respace(text: str, spaces: list[str]) -> str:
    """Every run of spaces between two tokens (not the indentation, not inside strings and comments)
    replaced by spaces[k]."""
    out: list[str] = []
    k = 0
    for piece in re.split(r"(\"[^\"]*\"|//[^\n]*|/\*.*?\*/| +)", text):
        if piece and piece.strip(" ") == "" and not (out[-1] if out else "\n").endswith("\n"):
            out.append(spaces[k % len(spaces)])
            k += 1
        else:
            out.append(piece)
    return "".join(out)


ATTR_WORD = re.compile(r"\b(refines|allocated_to|asil)\b")


def check_requirement_rows(text: str) -> None:
    """Rows (the line after a requirement header, starting with an attribute) of consecutive requirements
    that start with the same keyword: the k-th later attribute starts at one position, with exactly one
    space before it on at least one row; end-of-line comments too (two spaces)."""
    lines = text.splitlines()
    runs: list[list[tuple[list[int], list[int], int, int]]] = []  # per run: (starts, gaps, //, gap)
    run: list[tuple[list[int], list[int], int, int]] = []
    key = ""
    for n, line in enumerate(lines):
        is_header = line.startswith("requirement ")
        if is_header and n + 1 < len(lines) and ATTR_WORD.match(lines[n + 1], 4):
            continue  # its row follows
        row = n > 0 and lines[n - 1].startswith("requirement ") and ATTR_WORD.match(line, 4)
        if not row and line.startswith("    ") and not line.lstrip().startswith("//") and run:
            continue  # a later line of a requirement in the run
        code = line.split("//")[0]
        starts = [m.start() for m in ATTR_WORD.finditer(code)][1:]
        if row and starts and line.startswith("    ") and run and code.split()[0] == key:
            pass
        else:
            runs.append(run)
            run = []
            if not (row and starts):
                continue
            key = code.split()[0]
        gaps = [len(code[:s]) - len(code[:s].rstrip()) for s in starts]
        slash = line.find("//")
        run.append((starts, gaps, slash, len(code) - len(code.rstrip()) if slash >= 0 else 0))
    runs.append(run)
    for run in runs:
        if len(run) < 2:
            continue
        for k in range(max(len(r[0]) for r in run)):
            having = [r for r in run if len(r[0]) > k]
            assert len({r[0][k] for r in having}) == 1, (run, text)
            assert min(r[1][k] for r in having) == 1, (run, text)
        commented = [r for r in run if r[2] >= 0]
        if commented:
            assert len({r[2] for r in commented}) == 1, (run, text)
            assert min(r[3] for r in commented) == 2, (run, text)


@settings(max_examples=300, deadline=None)
@given(
    requirements(),
    st.lists(st.sampled_from(HSPACE), min_size=1, max_size=8),
    st.lists(st.sampled_from(HSPACE), min_size=1, max_size=8),
)
def test_random_requirements_are_aligned_idempotently(
    text: str, spaces: list[str], other_spaces: list[str]
) -> None:
    once = fmt_ok(respace(text, spaces))
    assert format_text(respace(text, other_spaces)) == once
    check_requirement_rows(once)
    for line in once.splitlines():
        if line and not line.startswith(("requirement ", "evidence ", "//")):
            assert line.startswith("    ") and not line.startswith("     "), line  # continuation: 4
