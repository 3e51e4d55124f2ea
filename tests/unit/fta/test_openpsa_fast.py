"""The Open-PSA reader's fast path (`_xmlk.plain_model`) against the general reader (`openpsa._Builder`).

The fast path reads plain models in C and refuses everything else, which the general reader then reads with
its diagnostics. These tests check that whatever it accepts reads exactly as the general reader reads it
(same trees, same records, same name order), and that it refuses what it must.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safetyops_dsl.diagnostics import DiagnosticError
from safetyops_dsl.fta import openpsa
from safetyops_dsl.fta._xmlk import plain_model
from safetyops_dsl.fta.tree import FaultTree
from safetyops_dsl.fta.xmlread import parse_file


def _accepts(paths: list[str]) -> bool:
    try:
        roots = [parse_file(p) for p in paths]
    except DiagnosticError:  # malformed XML: the fast path never sees it
        return False
    return plain_model(roots, openpsa._CONNECTIVES, *openpsa._records()) is not None


def _read(paths: list[str], plain: bool) -> object:
    """The trees with everything their equality ignores (name order, record types), or the diagnostics."""
    try:
        trees = openpsa._load(paths, None, plain=plain)
    except DiagnosticError as exc:
        return [(d.code, str(d.location), d.message, d.hint) for d in exc.diagnostics]
    return [(t, _shape(t)) for t in trees]


def _shape(t: FaultTree) -> object:
    records = [*t.gates.values(), *t.basic_events.values(), *t.house_events.values()]
    return (list(t.gates), list(t.basic_events), list(t.house_events), [type(r) for r in records],
            [type(r.origin) for r in records], [type(getattr(r, "k", None)) for r in records])


def _same_both_ways(tmp_path: Path, *texts: str) -> bool:
    paths = []
    for i, text in enumerate(texts):
        path = tmp_path / f"m{i}.xml"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    assert _read(paths, True) == _read(paths, False)
    return _accepts(paths)


# -- plain models: the fast path must accept them -----------------------------------------------------------

CONNECTIVES = ["and", "or", "xor", "not", "nand", "nor", "null", "atleast"]
LABELS = st.sampled_from(["", "<label>pump  A\n fails</label>", "<label> </label>", "<attributes/>"])


@st.composite
def plain_models(draw: st.DrawFn) -> str:
    """Acyclic gates over later gates and basic events, in random containers; nested formulas, labels,
    pass-through gates, unused events and several tops."""
    n_gates = draw(st.integers(1, 8))
    n_basic = draw(st.integers(1, 6))
    gates = [f"g{i}" for i in range(n_gates)]
    events = [f"e{i}" for i in range(n_basic)]

    def refs(i: int) -> list[str]:
        pool = [f'<gate name="{g}"/>' for g in gates[i + 1:]] + [f'<basic-event name="{e}"/>' for e in events]
        return draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4))

    def formula(i: int, depth: int) -> str:
        args = refs(i)
        if depth < 2 and draw(st.booleans()):
            args.insert(draw(st.integers(0, len(args))), formula(i, depth + 1))
        kind = draw(st.sampled_from(CONNECTIVES))
        if kind in ("not", "null"):
            args = args[:1]
        extra = draw(st.sampled_from(["<label>x</label>", "<attributes/>", ""]))
        attr = f' min="{draw(st.integers(1, len(args)))}"' if kind == "atleast" else ""
        return f"<{kind}{attr}>{extra}{''.join(args)}</{kind}>"

    defs = []
    for i, g in enumerate(gates):
        body = draw(st.sampled_from(refs(i))) if draw(st.integers(0, 5)) == 0 else formula(i, 0)
        defs.append(f'<define-gate name="{g}">{draw(LABELS)}{body}</define-gate>')
    for e in events:
        value = draw(st.sampled_from(['<float value="0.1"/>', '<float value="1e-3"/>', '<int value="1"/>',
                                      '<float value="0"/>', '<float value=" 0.25 "/>', '<int value="0"/>']))
        defs.append(f'<define-basic-event name="{e}">{draw(LABELS)}{value}</define-basic-event>')
    defs = draw(st.permutations(defs))
    cut = draw(st.integers(0, len(defs)))
    outer = draw(st.sampled_from(["define-fault-tree", "model-data", "define-component"]))
    name = ' name="FT"' if outer != "model-data" else ""
    inner = f'<define-fault-tree name="Inner">{"".join(defs[cut:])}</define-fault-tree>'
    return (f'<?xml version="1.0"?>\n<opsa-mef><label>m</label><{outer}{name}>{"".join(defs[:cut])}</{outer}>'
            f"{inner}</opsa-mef>\n")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plain_models())
def test_plain_models_take_the_fast_path_and_read_the_same(tmp_path: Path, text: str) -> None:
    assert _same_both_ways(tmp_path, text)


def _split(text: str, cuts: list[int]) -> list[str]:
    """The definitions of a model from plain_models in several files (as `sops fta tree.xml events.xml`)."""
    head, _, rest = text.partition("<opsa-mef>")
    body = rest.rpartition("</opsa-mef>")[0]
    for outer in ("define-fault-tree", "model-data", "define-component"):
        body = body.replace(f"</{outer}><define-fault-tree", f"</{outer}>\0<define-fault-tree")
    pieces = body.split("\0")
    at = sorted({min(c, len(pieces)) for c in cuts})
    groups = [pieces[a:b] for a, b in zip([0, *at], [*at, len(pieces)], strict=True)]
    return [f"{head}<opsa-mef>{''.join(g)}</opsa-mef>\n" for g in groups]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plain_models(), st.lists(st.integers(0, 3), max_size=2))
def test_a_plain_model_in_several_files_takes_the_fast_path(tmp_path: Path, text: str, cuts: list[int]) -> None:
    assert _same_both_ways(tmp_path, *_split(text, cuts))


def test_several_files_one_not_plain(tmp_path: Path) -> None:
    gate = '<define-gate name="g"><or><basic-event name="x"/></or></define-gate>'
    events = '<define-basic-event name="x"><float value="0.5"/></define-basic-event>'
    assert _same_both_ways(tmp_path, f"<opsa-mef>{gate}</opsa-mef>", f"<opsa-mef>{events}</opsa-mef>")
    assert not _same_both_ways(tmp_path, f"<opsa-mef>{gate}</opsa-mef>", f"<mef>{events}</mef>")
    assert not _same_both_ways(tmp_path, f"<opsa-mef>{gate}{events}</opsa-mef>", f"<opsa-mef>{events}</opsa-mef>")


# -- anything: accepted or not, the result is the general reader's ------------------------------------------

NAMES = ["a", "b", "c", "a-1", "a.b", "B"]
REFS = ["gate", "basic-event", "house-event", "event", "parameter"]


@st.composite
def any_models(draw: st.DrawFn) -> str:
    """Models built from a small vocabulary that includes what the fast path must refuse (roles, dots, house
    events, parameters, derived connectives, constants, <event>, duplicate, undefined and clashing names,
    cycles, wrong arities, bad numbers)."""
    name = st.sampled_from(NAMES)

    def arg(depth: int) -> str:
        choice = draw(st.integers(0, 9))
        if choice == 0 and depth < 2:
            return formula(depth + 1)
        if choice == 1:
            return f'<constant value="{draw(st.sampled_from(["true", "false", "maybe"]))}"/>'
        return f'<{draw(st.sampled_from(REFS))} name="{draw(name)}"/>'

    def formula(depth: int) -> str:
        kind = draw(st.sampled_from([*CONNECTIVES, "iff", "imply", "cardinality", "sub"]))
        attr = draw(st.sampled_from(["", ' min="1"', ' min="2"', ' min="02"', ' min="0"', ' min="x"',
                                     ' min="1" max="2"']))
        args = "".join(arg(depth) for _ in range(draw(st.integers(0, 3))))
        return f"<{kind}{attr}>{args}</{kind}>"

    def definition() -> str:
        role = draw(st.sampled_from(["", "", "", ' role="private"', ' role="public"']))
        kind = draw(st.integers(0, 9))
        if kind <= 4:
            body = "".join(formula(0) if draw(st.booleans()) else arg(0) for _ in range(draw(st.integers(0, 2))))
            return f'<define-gate name="{draw(name)}"{role}>{body}</define-gate>'
        if kind <= 7:
            value = draw(st.sampled_from(['<float value="0.5"/>', '<float value="1.5"/>', '<float value="nan"/>',
                                          '<float value="x"/>', '<float/>', '<int value="1"/>',
                                          '<exponential><float value="1e-4"/><system-mission-time/></exponential>',
                                          '<parameter name="p"/>', '<float value="0.5"><float value="1"/></float>',
                                          '<bool value="true"/>']))
            body = "".join(value for _ in range(draw(st.integers(0, 2))))
            return f'<define-basic-event name="{draw(name)}"{role}>{body}</define-basic-event>'
        if kind == 8:
            return f'<define-house-event name="{draw(name)}"><constant value="true"/></define-house-event>'
        return draw(st.sampled_from(['<define-parameter name="p"><float value="0.2"/></define-parameter>',
                                     '<define-sequence name="s"/>', "<bogus/>",
                                     '<define-fault-tree name="Sub" role="private"/>']))

    defs = "".join(definition() for _ in range(draw(st.integers(0, 7))))
    outer = draw(st.sampled_from(["define-fault-tree", "model-data", "define-component"]))
    root = draw(st.sampled_from(["opsa-mef", "opsa-mef", "mef"]))
    return f'<?xml version="1.0"?>\n<{root}><{outer} name="FT">{defs}</{outer}></{root}>\n'


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(any_models())
def test_any_model_reads_as_the_general_reader_reads_it(tmp_path: Path, text: str) -> None:
    _same_both_ways(tmp_path, text)


EDITS = [
    ("<define-gate ", '<define-gate role="private" '),
    ("<define-gate ", '<define-gate role="public" '),
    ("<define-basic-event ", '<define-basic-event role="private" '),
    ('<define-fault-tree name="Inner"', '<define-fault-tree role="private" name="Inner"'),
    ('<gate name="g', '<gate name="FT.g'),
    ('<gate name="g', '<basic-event name="g'),
    ('<basic-event name="e', '<gate name="e'),
    ('<basic-event name="e', '<event name="e'),
    ('<basic-event name="e', '<house-event name="e'),
    ('<basic-event name="e', '<basic-event name="z'),
    ('<define-gate name="g', '<define-gate name="Inner.g'),
    ("<or>", '<or><constant value="true"/>'),
    ("<or>", "<or><gate name=\"g0\"/>"),
    ("<or>", "<or><iff><basic-event name=\"e0\"/><basic-event name=\"e0\"/></iff>"),
    ("<and>", "<and></and><and>"),
    ("<not>", "<not><basic-event name=\"e0\"/>"),
    ('<atleast min="', '<atleast min="0'),
    ('<atleast min="', '<atleast min="+'),
    ('<atleast min="', '<atleast min="9'),
    ('value="', 'value="1'),
    ('value="', 'value="x'),
    ('value="', 'value="-'),
    ('<float value="0.1"/>', '<exponential><float value="1e-4"/><system-mission-time/></exponential>'),
    ("</define-gate>", '<or><basic-event name="e0"/></or></define-gate>'),
    ("<label>", "<label>more <label>"),
    ('<define-basic-event name="e0">', '<define-gate name="g0-1"><or><basic-event name="e0"/></or></define-gate>'
                                       '<define-basic-event name="e0">'),
    ('<define-basic-event name="e0">', '<define-basic-event name="g0"><float value="0.1"/></define-basic-event>'
                                       '<define-basic-event name="e0">'),
    ('<define-basic-event name="e0">', '<define-house-event name="h"><constant value="true"/></define-house-event>'
                                       '<define-basic-event name="e0">'),
    ('<define-basic-event name="e0">', '<define-parameter name="p"><float value="0.1"/></define-parameter>'
                                       '<define-basic-event name="e0">'),
]


@st.composite
def edited_models(draw: st.DrawFn) -> str:
    """A plain model with a few edits, each at one occurrence of its pattern: some keep it plain, most do not."""
    text = draw(plain_models())
    for _ in range(draw(st.integers(0, 3))):
        old, new = draw(st.sampled_from(EDITS))
        places = [i for i in range(len(text)) if text.startswith(old, i)]
        if places:
            at = draw(st.sampled_from(places))
            text = text[:at] + new + text[at + len(old):]
    return text


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edited_models())
def test_edited_models_read_as_the_general_reader_reads_them(tmp_path: Path, text: str) -> None:
    _same_both_ways(tmp_path, text)


# -- what must be refused ------------------------------------------------------------------------------------

PLAIN_EVENTS = '<define-basic-event name="x"><float value="0.5"/></define-basic-event>'


@pytest.mark.parametrize(
    "defs",
    [
        '<define-gate name="g" role="private"><or><basic-event name="x"/></or></define-gate>',
        '<define-gate name="g.h"><or><basic-event name="x"/></or></define-gate>',
        '<define-gate name="g"><or><basic-event name="FT.x"/></or></define-gate>',
        '<define-gate name="g"><or><event name="x"/></or></define-gate>',
        '<define-gate name="g"><or><constant value="true"/><basic-event name="x"/></or></define-gate>',
        '<define-gate name="g"><imply><basic-event name="x"/><basic-event name="x"/></imply></define-gate>',
        '<define-gate name="g"><or><gate name="x"/></or></define-gate>',
        '<define-gate name="g"><or><basic-event name="y"/></or></define-gate>',
        '<define-gate name="g"><not><basic-event name="x"/><basic-event name="x"/></not></define-gate>',
        '<define-gate name="g"><or></or></define-gate>',
        '<define-gate name="g"><atleast min="3"><basic-event name="x"/></atleast></define-gate>',
        '<define-gate name="g"><atleast min="+1"><basic-event name="x"/></atleast></define-gate>',
        '<define-gate name="g"><or><gate name="h"/></or></define-gate><define-gate name="h"><or><gate name="g"/>'
        "</or></define-gate>",
        '<define-gate name="g"><or><basic-event name="x"/></or></define-gate>'
        '<define-gate name="g"><or><basic-event name="x"/></or></define-gate>',
        '<define-gate name="g"><or><and><basic-event name="x"/></and></or></define-gate>'
        '<define-gate name="g-1"><or><basic-event name="x"/></or></define-gate>',
        '<define-gate name="g"><or><basic-event name="x"/></or><and><basic-event name="x"/></and></define-gate>',
        '<define-gate name="g"><or><basic-event name="x"/></or></define-gate>'
        '<define-basic-event name="u"><float value="2"/></define-basic-event>',
        '<define-gate name="g"><or><basic-event name="x"/></or></define-gate>'
        '<define-basic-event name="u"><exponential><float value="1e-4"/><system-mission-time/></exponential>'
        "</define-basic-event>",
        '<define-gate name="g"><or><basic-event name="x"/></or></define-gate>'
        '<define-house-event name="h"><constant value="true"/></define-house-event>',
        '<define-gate name="g"><or><basic-event name="x"/></or></define-gate>'
        '<define-parameter name="p"><float value="0.1"/></define-parameter>',
        '<define-gate name="g"><or><basic-event name="x"/></or></define-gate><define-sequence name="s"/>',
        '<define-fault-tree name="Sub" role="private"><define-gate name="g"><or><basic-event name="x"/></or>'
        "</define-gate></define-fault-tree>",
    ],
)
def test_refused(tmp_path: Path, defs: str) -> None:
    text = f'<?xml version="1.0"?>\n<opsa-mef><define-fault-tree name="FT">{defs}{PLAIN_EVENTS}</define-fault-tree></opsa-mef>\n'
    assert not _same_both_ways(tmp_path, text)


def test_a_model_without_a_gate_is_left_to_the_general_reader(tmp_path: Path) -> None:
    text = f'<?xml version="1.0"?>\n<opsa-mef><define-fault-tree name="FT">{PLAIN_EVENTS}</define-fault-tree></opsa-mef>\n'
    assert not _same_both_ways(tmp_path, text)


def test_deep_nesting_is_left_to_the_general_reader(tmp_path: Path) -> None:
    # the fast path stops at 100 nested formulas (it recurses); the general reader says what it says
    text = '<define-gate name="g">' + "<or>" * 150 + '<basic-event name="x"/>' + "</or>" * 150 + "</define-gate>"
    assert not _same_both_ways(tmp_path, f'<?xml version="1.0"?>\n<opsa-mef>{text}{PLAIN_EVENTS}</opsa-mef>\n')


def test_corpus_reads_the_same_both_ways(corpus: Path) -> None:
    for f in sorted(corpus.rglob("*.xml")):
        assert _read([str(f)], True) == _read([str(f)], False), f.name
    aralia = corpus / "input" / "Aralia"
    assert _accepts([str(aralia / "baobab1.xml")]) and _accepts([str(aralia / "edf9202.xml")])
