"""Open-PSA import/export: diagnostics with positions, connectives SCRAM rejects, round trip, SCRAM validation."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest
from safetyops_dsl.generators.openpsa import write_openpsa

from safetyops_dsl.diagnostics import LIMIT_EXCEEDED, OPENPSA_ERROR, UNREADABLE, XML_ERROR, DiagnosticError
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.openpsa import load_openpsa
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.fta.tree import Gate, GateKind

HEAD = '<?xml version="1.0"?>\n<opsa-mef>\n<define-fault-tree name="FT">\n'
TAIL = "</define-fault-tree>\n</opsa-mef>\n"


def write(tmp_path: Path, body: str, name: str = "m.xml") -> str:
    p = tmp_path / name
    p.write_text(HEAD + body + TAIL, encoding="utf-8")
    return str(p)


def errors(paths: list[str]) -> list[tuple[str, int, int, str]]:
    with pytest.raises(DiagnosticError) as info:
        load_openpsa(paths)
    return [(d.code, d.location.line, d.location.col, d.message) for d in info.value.diagnostics]


def test_undefined_event_is_positioned(tmp_path: Path) -> None:
    path = write(tmp_path, '<define-gate name="top">\n  <or>\n    <basic-event name="A"/>\n    <event name="B"/>\n  </or>\n</define-gate>\n<define-basic-event name="A"><float value="0.1"/></define-basic-event>\n')
    [(code, line, col, msg)] = errors([path])
    assert (code, line, col) == (OPENPSA_ERROR, 7, 5)
    assert "undefined event 'B'" in msg


def test_cycle_is_diagnosed(tmp_path: Path) -> None:
    path = write(tmp_path, '<define-gate name="a"><or><gate name="b"/><basic-event name="x"/></or></define-gate>\n<define-gate name="b"><and><gate name="a"/><basic-event name="x"/></and></define-gate>\n<define-basic-event name="x"><float value="0.5"/></define-basic-event>\n')
    [(code, _, _, msg)] = errors([path])
    assert code == OPENPSA_ERROR and "cyclic gates: a -> b -> a" in msg


def test_malformed_xml_and_entity_bomb(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<opsa-mef>\n  <define-fault-tree name='x'>\n</opsa-mef>\n", encoding="utf-8")
    [(code, line, _, msg)] = errors([str(bad)])
    assert (code, line) == (XML_ERROR, 3) and "mismatched tag" in msg
    bomb = tmp_path / "bomb.xml"
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    bomb.write_text(f'<?xml version="1.0"?><!DOCTYPE m [{lol}]><opsa-mef>&l9;</opsa-mef>', encoding="utf-8")
    [(code, _, _, msg)] = errors([str(bomb)])
    assert code == XML_ERROR and "entity" in msg
    assert errors([str(tmp_path / "missing.xml")])[0][0] == UNREADABLE


def test_bad_probability_and_unknown_expression(tmp_path: Path) -> None:
    path = write(tmp_path, '<define-gate name="t"><or><basic-event name="a"/><basic-event name="b"/></or></define-gate>\n<define-basic-event name="a"><float value="1.5"/></define-basic-event>\n<define-basic-event name="b"><frobnicate/></define-basic-event>\n')
    msgs = [m for *_, m in errors([path])]
    assert any("outside [0, 1]" in m for m in msgs)
    assert any("unsupported expression <frobnicate>" in m for m in msgs)


# -- CCF groups ----------------------------------------------------------------------------------------------

CCF_TREE = """<define-gate name="top"><and><gate name="T1"/><gate name="T2"/></and></define-gate>
<define-gate name="T1"><or><basic-event name="P1"/><event name="V1"/></or></define-gate>
<define-gate name="T2"><or><event name="P2"/><basic-event name="V2"/></or></define-gate>
<define-basic-event name="V1"><float value="0.01"/></define-basic-event>
<define-basic-event name="V2"><float value="0.01"/></define-basic-event>
"""


def ccf_group(factors: str = '<factor level="2"><float value="0.1"/></factor>', model: str = "beta-factor",
              members: str = '<basic-event name="P1"/><basic-event name="P2"/>', name: str = "Pumps",
              distribution: str = '<float value="0.02"/>') -> str:
    return (f'<define-CCF-group name="{name}" model="{model}">\n<members>{members}</members>\n'
            f"<distribution>{distribution}</distribution>\n{factors}\n</define-CCF-group>\n")


def test_ccf_group_is_expanded(tmp_path: Path) -> None:
    [tree] = load_openpsa([write(tmp_path, CCF_TREE + ccf_group())])
    assert tree.gates["P1"] == Gate("P1", GateKind.OR, ("[P1]", "[P1 P2]"), label=tree.gates["P1"].label,
                                    origin=tree.gates["P1"].origin)
    assert tree.gates["P1"].origin is not None and tree.gates["P1"].origin.line == 10  # the member element
    assert tree.gates["P2"].inputs == ("[P2]", "[P1 P2]")
    p = {n: e.probability for n, e in tree.basic_events.items()}
    assert p == {"V1": 0.01, "V2": 0.01, "[P1]": 0.9 * 0.02, "[P2]": 0.9 * 0.02, "[P1 P2]": 0.1 * 0.02}
    assert list(tree.gates) == sorted(tree.gates) and list(tree.basic_events) == sorted(tree.basic_events)
    origin = tree.basic_events["[P1 P2]"].origin
    assert origin is not None and (origin.line, origin.element) == (9, "ccf-group")
    r = analyse(tree, AnalysisOptions())
    q1, q2, v = 0.018, 0.002, 0.01
    t = 1 - (1 - q1) * (1 - v)  # one train fails independently
    assert r.exact_probability is not None
    assert math.isclose(r.exact_probability, q2 + (1 - q2) * t * t, rel_tol=1e-12)
    assert r.cut_set_count == 5 and r.cut_sets_by_order == {1: 1, 2: 4}


def test_ccf_group_places_and_scopes(tmp_path: Path) -> None:
    """Top level, model-data, and inside a fault tree or a private component (members take the group's path)."""
    path = tmp_path / "m.xml"
    path.write_text(f"""<?xml version="1.0"?>
<opsa-mef>
<define-fault-tree name="FT">
{CCF_TREE.replace('<event name="V1"/>', '<gate name="Sensors.pair"/><event name="V1"/>')}
<define-component name="Sensors" role="private">
  <define-gate name="pair"><and><basic-event name="S1"/><basic-event name="S2"/></and></define-gate>
  {ccf_group('<factors><factor><float value="0.95"/></factor><factor><float value="0.05"/></factor></factors>',
             "alpha-factor", '<basic-event name="S1"/><basic-event name="S2"/>', "SensorPair",
             '<exponential><parameter name="lambda"/><system-mission-time/></exponential>')}
</define-component>
</define-fault-tree>
<model-data>
  <define-parameter name="lambda"><float value="1e-4"/></define-parameter>
  {ccf_group()}
</model-data>
{ccf_group(name="Unused", members='<basic-event name="U1"/><basic-event name="U2"/>')}
</opsa-mef>
""", encoding="utf-8")
    [tree] = load_openpsa([str(path)], mission_time=100.0)
    assert tree.gates["FT.Sensors.S1"].inputs == ("[FT.Sensors.S1]", "[FT.Sensors.S1 FT.Sensors.S2]")
    assert tree.gates["FT.Sensors.pair"].inputs == ("FT.Sensors.S1", "FT.Sensors.S2")
    assert "[P1 P2]" in tree.basic_events and not any("U1" in n for n in tree.basic_events)
    qt = -math.expm1(-1e-4 * 100)
    alpha_t = 0.95 + 2 * 0.05  # the factors without level take levels 1 and 2
    p = tree.basic_events
    assert math.isclose(p["[FT.Sensors.S1]"].probability, 0.95 / alpha_t * qt, rel_tol=1e-12)
    assert math.isclose(p["[FT.Sensors.S1 FT.Sensors.S2]"].probability, 2 * 0.05 / alpha_t * qt, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (ccf_group('<factors><factor level="2"><float value="0.1"/></factor><factor level="3"><float value="0.1"/>'
                   "</factor></factors>", "MGL"), 12, "CCF group 'Pumps': factor level 3 is more than its 2 members"),
        (ccf_group('<factor level="1"><float value="0.1"/></factor>', "MGL"), 12,
         "factor level 1 is below the MGL model's first level 2"),
        (ccf_group('<factor level="1"><float value="0.1"/></factor>'), 12,
         "factor level 1 is below the beta-factor model's first level 2"),
        (ccf_group('<factors><factor level="2"><float value="0.1"/></factor></factors>', "alpha-factor"), 12,
         "CCF group 'Pumps': no factor for level 1"),
        (ccf_group('<factors><factor level="2"><float value="0.1"/></factor><factor level="2"><float value="0.2"/>'
                   "</factor></factors>"), 12,
         "CCF group 'Pumps' has a second factor for level 2 (the first is at "),
        (ccf_group('<factors><factor level="2"><float value="0.1"/></factor><factor><float value="0.2"/>'
                   "</factor></factors>", "MGL"), 12, "factor level 3 is more than its 2 members"),
        (ccf_group('<factor level="2"><float value="1.5"/></factor>'), 12,
         "factor 1.5 (level 2) is not a fraction in [0, 1]"),
        (ccf_group(distribution='<float value="2"/>'), 11, "the member probability 2 is not in [0, 1]"),
        (ccf_group('<factors><factor><float value="0.5"/></factor><factor><float value="0.4"/></factor></factors>',
                   "phi-factor"), 12, "phi factors sum to 0.9, not 1"),
        (ccf_group('<factors><factor><float value="0"/></factor><factor><float value="0"/></factor></factors>',
                   "alpha-factor"), 12, "alpha factors are all zero"),
        (ccf_group('<factor level="two"><float value="0.1"/></factor>'), 12,
         "factor level 'two' of CCF group 'Pumps' is not a positive integer"),
        (ccf_group('<factor level="0"><float value="0.1"/></factor>'), 12, "is not a positive integer"),
        (ccf_group('<factor level="2"><parameter name="nope"/></factor>'), 12, "undefined parameter 'nope'"),
        (ccf_group('<factor level="2"/>'), 12, "factor of level 2 of CCF group 'Pumps' needs exactly one expression"),
        (ccf_group(model="gamma"), 9, "CCF group 'Pumps' has the unknown model 'gamma'"),
        (ccf_group("<factors/>"), 12, "CCF group 'Pumps' has no factors"),
        (ccf_group(""), 9, "needs one <factors> element (or a single <factor>), not 0"),
        (ccf_group(members='<basic-event name="P1"/>', factors='<factor level="1"><float value="0.1"/></factor>'),
         11, "CCF group 'Pumps' needs at least two members"),
    ],
)
def test_ccf_errors(tmp_path: Path, body: str, line: int, message: str) -> None:
    # With P1 the only member (last case), P2 needs a definition of its own.
    tree = CCF_TREE if "needs at least" not in message else CCF_TREE + '<define-basic-event name="P2"><float value="0.1"/></define-basic-event>\n'
    diags = errors([write(tmp_path, tree + body)])
    assert [(code, ln) for code, ln, _, _ in diags] == [(OPENPSA_ERROR, line)], diags
    assert message in diags[0][3]


def test_ccf_group_too_large(tmp_path: Path) -> None:
    members = "".join(f'<basic-event name="M{i}"/>' for i in range(14))
    factors = "<factors>" + '<factor><float value="0.01"/></factor>' * 14 + "</factors>"
    group = ccf_group(factors, "phi-factor", members).replace('value="0.01"/></factor></factors>',
                                                                'value="0.87"/></factor></factors>')
    with pytest.raises(DiagnosticError) as info:
        load_openpsa([write(tmp_path, CCF_TREE + ccf_group() + group.replace("Pumps", "Big"))])
    [d] = info.value.diagnostics
    assert d.code == LIMIT_EXCEEDED and d.location.line == 14
    assert d.message == "CCF group 'Big' expands into 16,383 events (one per combination of its 14 members), more than 10,000"
    # Thirteen members (8,191 events) are within the limit.
    load_openpsa([write(tmp_path, CCF_TREE + ccf_group() + group.replace("Pumps", "Big").replace(
        '<basic-event name="M13"/>', "").replace('<factor><float value="0.01"/></factor>', "", 1).replace(
        'value="0.87"', 'value="0.88"'))])


def test_ccf_member_definitions_clash(tmp_path: Path) -> None:
    member_too = '<define-basic-event name="P1"><float value="0.1"/></define-basic-event>\n'
    [(_, line, _, msg)] = errors([write(tmp_path, CCF_TREE + ccf_group() + member_too)])
    assert line == 14 and msg.startswith("'P1' is already defined as a member of CCF group 'Pumps' at ")
    [(_, line, _, msg)] = errors([write(tmp_path, CCF_TREE + member_too + ccf_group())])
    assert line == 11 and msg.startswith("member 'P1' of CCF group 'Pumps' is already defined as a basic event at ")
    second = ccf_group(name="Other", members='<basic-event name="P2"/><basic-event name="P3"/>')
    [(_, line, _, msg)] = errors([write(tmp_path, CCF_TREE + ccf_group() + second)])
    assert line == 15 and msg.startswith("basic event 'P2' is already a member of CCF group 'Pumps' at ")
    [(_, line, _, msg)] = errors([write(tmp_path, CCF_TREE + ccf_group() + ccf_group(members='<basic-event name="X"/>'))])
    assert line == 14 and msg.startswith("CCF group 'Pumps' is already defined at ")
    twice = ccf_group(members='<basic-event name="P1"/><basic-event name="P2"/><basic-event name="P1"/>')
    [(_, _, _, msg)] = errors([write(tmp_path, CCF_TREE + twice)])
    assert msg.startswith("CCF group 'Pumps' lists member 'P1' twice")
    [(_, _, _, msg)] = errors([write(tmp_path, CCF_TREE + ccf_group(members='<basic-event name="P1"/><gate name="P2"/>'))])
    assert msg == "unexpected <gate> in the members of CCF group 'Pumps'"
    member_gate = ccf_group(members='<basic-event name="P1"/><basic-event name="P2"/><basic-event name="T1"/>')
    [(_, _, _, msg)] = errors([write(tmp_path, CCF_TREE + member_gate)])
    assert msg.startswith("member 'T1' of CCF group 'Pumps' is already defined as a gate at ")


def test_ccf_corpus_inputs_load(corpus: Path) -> None:
    """Numbers are compared with SCRAM in test_scram_oracle.py; here: they load and expand."""
    for name in ("beta_factor", "mgl", "alpha_factor", "phi_factor"):
        [tree] = load_openpsa([str(corpus / f"tests/input/core/{name}_ccf.xml")])
        assert tree.gates["PumpOne"].kind is GateKind.OR and "[PumpOne]" in tree.basic_events


def test_expressions_and_mission_time(tmp_path: Path) -> None:
    path = write(tmp_path, """<define-gate name="t"><or><basic-event name="a"/><basic-event name="b"/><basic-event name="c"/></or></define-gate>
<define-basic-event name="a"><exponential><parameter name="lam"/><system-mission-time/></exponential></define-basic-event>
<define-basic-event name="b"><mul><float value="0.5"/><sub><int value="1"/><exp><neg><float value="1"/></neg></exp></sub></mul></define-basic-event>
<define-basic-event name="c"><Weibull><float value="100"/><float value="2"/><float value="0"/><system-mission-time/></Weibull></define-basic-event>
<define-parameter name="lam"><float value="1e-4"/></define-parameter>
""")
    [tree] = load_openpsa([path], mission_time=10.0)
    p = {n: e.probability for n, e in tree.basic_events.items()}
    assert math.isclose(p["a"], -math.expm1(-1e-3), rel_tol=1e-15)
    assert math.isclose(p["b"], 0.5 * (1 - math.exp(-1)), rel_tol=1e-12)
    assert math.isclose(p["c"], -math.expm1(-((10 / 100) ** 2)), rel_tol=1e-15)
    assert tree.basic_events["a"].rate_per_hour == 1e-4
    [default] = load_openpsa([path])
    assert default.mission_time == 8760.0


@pytest.mark.parametrize(
    ("name", "expected"),
    [("imply", 0.986), ("cardinality", 0.49)],  # README of the corpus (SCRAM's own unit tests)
)
def test_connectives_scram_0_16_rejects(corpus: Path, name: str, expected: float) -> None:
    [tree] = load_openpsa([str(corpus / f"tests/input/core/{name}.xml")])
    r = analyse(tree, AnalysisOptions())
    assert r.exact_probability is not None and math.isclose(r.exact_probability, expected, rel_tol=1e-12)


def test_iff_is_not_xor(corpus: Path) -> None:
    [tree] = load_openpsa([str(corpus / "tests/input/core/iff.xml")])
    p = {n: e.probability for n, e in tree.basic_events.items()}
    inner = p["B"] * p["C"] + (1 - p["B"]) * (1 - p["C"])  # TopEvent = A <-> (B <-> C)
    r = analyse(tree, AnalysisOptions())
    assert r.exact_probability is not None
    assert math.isclose(r.exact_probability, p["A"] * inner + (1 - p["A"]) * (1 - inner), rel_tol=1e-12)


def test_private_names_are_scoped(corpus: Path) -> None:
    [tree] = load_openpsa([str(corpus / "input/ThreeMotor/three_motor.xml")])
    assert "ThreeMotor.t.E1" in tree.gates and "E1" in tree.gates
    assert analyse(tree, AnalysisOptions()).cut_set_count == 12


ROUND_TRIP = [
    ("input/Theatre/theatre.xml",),
    ("input/ThreeMotor/three_motor.xml",),
    ("input/HIPPS/HIPPS.xml",),
    ("input/Chinese/chinese.xml", "input/Chinese/chinese-basic-events.xml"),
    ("tests/input/core/ab_or_not_ac.xml",),
    ("tests/input/core/atleast.xml",),
    ("tests/input/core/unity.xml",),
    ("tests/input/core/cardinality.xml",),
    ("input/Aralia/das9601.xml",),
]


@pytest.mark.parametrize("files", ROUND_TRIP, ids=[f[0].rsplit("/", 1)[1] for f in ROUND_TRIP])
def test_round_trip(files: tuple[str, ...], corpus: Path, tmp_path: Path) -> None:
    trees = load_openpsa([str(corpus / f) for f in files])
    text = write_openpsa(trees)
    assert text == write_openpsa(list(reversed(trees))), "export must not depend on input order"
    out = tmp_path / "export.xml"
    out.write_text(text, encoding="utf-8")
    again = load_openpsa([str(out)])
    assert [t.name for t in again] == [t.name for t in trees]
    opts = AnalysisOptions(limit_order=20, cut_set_limit=50)
    for a, b in zip(trees, again, strict=True):
        ra, rb = analyse(a, opts), analyse(b, opts)
        assert (ra.exact_probability, ra.cut_set_count, ra.cut_sets, ra.importance) == (
            rb.exact_probability,
            rb.cut_set_count,
            rb.cut_sets,
            rb.importance,
        )


@pytest.mark.parametrize("files", ROUND_TRIP, ids=[f[0].rsplit("/", 1)[1] for f in ROUND_TRIP])
def test_scram_validates_export(files: tuple[str, ...], corpus: Path, scram: str, tmp_path: Path) -> None:
    out = tmp_path / "export.xml"
    out.write_text(write_openpsa(load_openpsa([str(corpus / f) for f in files])), encoding="utf-8")
    proc = subprocess.run([scram, "--validate", str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- export of expanded CCF groups ---------------------------------------------------------------------------

CCF_FILES = [f"tests/input/core/{n}_ccf.xml" for n in ("beta_factor", "mgl", "alpha_factor", "phi_factor")]


def test_ccf_event_names_in_the_export(tmp_path: Path) -> None:
    [tree] = load_openpsa([write(tmp_path, CCF_TREE + ccf_group())])
    text = write_openpsa([tree])
    assert '<define-basic-event name="CCF_P1_P2">' in text and '<define-basic-event name="IND_P1">' in text
    assert '<attribute name="name" value="[P1 P2]"/>' in text
    assert "<label>common-cause failure of all 2 members (CCF group Pumps, beta-factor)</label>" in text
    assert '<define-gate name="P1">' in text and "[" not in text.replace('value="[', "")


def test_ccf_export_names_are_unique_and_deterministic() -> None:
    from safetyops_dsl.generators.openpsa import _mef_names

    names = {"[A B]", "CCF_A_B", "[A]", "IND_A", "FT.t.E1", "1st", "a:b", "x[1]", "ok-name", "g-2-1", "Förder"}
    mef = _mef_names(names)
    assert mef == _mef_names(set(sorted(names, reverse=True)))
    assert len(set(mef.values())) == len(names)
    assert mef["CCF_A_B"] == "CCF_A_B" and mef["[A B]"] == "CCF_A_B_2" and mef["[A]"] == "IND_A_2"
    assert mef["FT.t.E1"] == "FT_t_E1" and mef["1st"] == "_1st" and mef["a:b"] == "a_b" and mef["x[1]"] == "x_1_"
    assert all(mef[n] == n for n in ("ok-name", "g-2-1", "Förder"))


@pytest.mark.parametrize("rel", CCF_FILES, ids=[f.rsplit("/", 1)[1] for f in CCF_FILES])
def test_ccf_export_round_trip(rel: str, corpus: Path, tmp_path: Path) -> None:
    [tree] = load_openpsa([str(corpus / rel)])
    out = tmp_path / "export.xml"
    out.write_text(write_openpsa([tree]), encoding="utf-8")
    [again] = load_openpsa([str(out)])
    opts = AnalysisOptions(cut_set_limit=None)
    ra, rb = analyse(tree, opts), analyse(again, opts)
    assert (ra.exact_probability, ra.cut_set_count, ra.cut_sets_by_order) == (
        rb.exact_probability, rb.cut_set_count, rb.cut_sets_by_order
    )
    assert sorted(e.probability for e in tree.basic_events.values()) == sorted(
        e.probability for e in again.basic_events.values()
    )


@pytest.mark.parametrize("rel", CCF_FILES, ids=[f.rsplit("/", 1)[1] for f in CCF_FILES])
def test_scram_agrees_with_the_ccf_export(rel: str, corpus: Path, scram: str, tmp_path: Path) -> None:
    """The export is plain gates and events: SCRAM validates it and, without --ccf, gives our numbers."""
    from test_scram_oracle import agrees, run_scram

    [tree] = load_openpsa([str(corpus / rel)])
    out = tmp_path / "export.xml"
    out.write_text(write_openpsa([tree]), encoding="utf-8")
    proc = subprocess.run([scram, "--validate", str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [s] = run_scram(scram, [out], 20, False, tmp_path / "report.xml").findall("./results/sum-of-products")
    r = analyse(tree, AnalysisOptions())
    assert r.exact_probability is not None and agrees(r.exact_probability, s.get("probability", ""))
    assert r.cut_set_count == int(s.get("products", "0"))
    assert [r.cut_sets_by_order.get(i, 0) for i in (1, 2, 3)] == [int(x) for x in s.get("distribution", "").split()]


@pytest.mark.parametrize(("tag", "formula", "missing"), [
    ("atleast", '<atleast><basic-event name="A"/><basic-event name="A"/></atleast>', ["min"]),
    ("cardinality", '<cardinality max="1"><basic-event name="A"/></cardinality>', ["min"]),
    ("cardinality", '<cardinality><constant value="true"/></cardinality>', ["max", "min"]),
])
def test_a_missing_count_attribute_is_an_error_not_a_crash(tmp_path: Path, tag: str, formula: str,
                                                           missing: list[str]) -> None:
    """It used to leave the gate undefined without a diagnostic, and the tree's walk then failed (KeyError),
    found by test_openpsa_fast's random models."""
    path = write(tmp_path, f'<define-gate name="top">{formula}</define-gate>\n'
                           '<define-basic-event name="A"><float value="0.1"/></define-basic-event>\n')
    found = sorted((code, msg) for code, _, _, msg in errors([path]))
    assert found == [(OPENPSA_ERROR, f"<{tag}> in gate 'top' needs an integer '{a}' attribute") for a in missing]
