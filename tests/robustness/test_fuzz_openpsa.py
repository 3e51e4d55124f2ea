"""Fuzzing of the Open-PSA MEF reader (`sops fta file.xml`): generated fault trees with every connective and
expression kind (and near misses: undefined events, cycles, duplicates, bad numbers, unknown tags), byte
mutations of real MEF files, and the XML attacks: entity-expansion bombs, external entities and DTDs,
deep nesting, huge attributes, wrong encodings. Every input gets an Open-PSA/XML diagnostic or fault trees
that the engine analyses (bounded) and the generators render; never another exception, never a hang, and
never a byte of a file the XML names outside itself."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from harness import ROOT, fuzz, run_cli, save_crash, time_limit
from hypothesis import given
from hypothesis import strategies as st

from safetyops_dsl.diagnostics import DiagnosticError

EVENTS = ("e1", "e2", "e3", "e4")
GATES = ("top", "g1", "g2", "g3")
HOUSES = ("h1",)
CONNECTIVES = ("and", "or", "not", "xor", "nand", "nor", "null", "iff", "imply")
NUMBERS = ("0", "0.5", "1", "1e-3", "1.5", "-0.1", "nan", "inf", "abc", "", "1e400")


def ref(gates: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(EVENTS).map(lambda n: f'<basic-event name="{n}"/>'),
        st.sampled_from(gates).map(lambda n: f'<gate name="{n}"/>'),
        st.sampled_from(EVENTS + gates + HOUSES + ("undefined",)).map(lambda n: f'<event name="{n}"/>'),
        st.sampled_from(HOUSES).map(lambda n: f'<house-event name="{n}"/>'),
        st.just('<basic-event name="nowhere"/>'),
    )


def formula(gates: tuple[str, ...]) -> st.SearchStrategy[str]:
    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(st.sampled_from(CONNECTIVES), st.lists(children, min_size=1, max_size=4)).map(
                lambda t: f"<{t[0]}>{''.join(t[1])}</{t[0]}>"),
            st.tuples(st.integers(-1, 5), st.lists(children, min_size=1, max_size=4)).map(
                lambda t: f'<atleast min="{t[0]}">{"".join(t[1])}</atleast>'),
            st.tuples(st.integers(0, 3), st.integers(0, 4), st.lists(children, min_size=1, max_size=4)).map(
                lambda t: f'<cardinality min="{t[0]}" max="{t[1]}">{"".join(t[2])}</cardinality>'),
            st.sampled_from(("<frobnicate/>", "<and/>", "<constant value=\"true\"/>")),
        )

    return st.recursive(ref(gates), extend, max_leaves=8)


expression = st.one_of(
    st.sampled_from(NUMBERS).map(lambda v: f'<float value="{v}"/>'),
    st.sampled_from(("1e-4", "-1", "x")).map(lambda v: f"<exponential><float value=\"{v}\"/><system-mission-time/></exponential>"),
    st.just('<exponential><parameter name="lam"/><system-mission-time/></exponential>'),
    st.just('<exponential><parameter name="undefined_param"/><float value="10"/></exponential>'),
    st.just("<mul><float value=\"0.5\"/><sub><int value=\"1\"/><exp><neg><float value=\"1\"/></neg></exp></sub></mul>"),
    st.just('<div><float value="1"/><float value="0"/></div>'),
    st.just('<Weibull><float value="100"/><float value="2"/><float value="0"/><system-mission-time/></Weibull>'),
    st.just(""),
)


@st.composite
def ccf_group(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A CCF group over some of the events (valid or not: models, levels, factors, members); and its members."""
    models = ("beta-factor", "MGL", "alpha-factor", "phi-factor")
    if draw(st.booleans()):  # a valid group
        members = draw(st.lists(st.sampled_from(EVENTS), min_size=2, max_size=3, unique=True))
        model = draw(st.sampled_from(models))
        n = len(members)
        values = {"beta-factor": ["0.1"], "MGL": ["0.2"] * (n - 1), "alpha-factor": ["0.5"] * n,
                  "phi-factor": ["0.5", "0.5"] + ["0"] * (n - 2)}[model]
        factors = "".join(f'<factor><float value="{v}"/></factor>' for v in values)
    else:
        members = draw(st.lists(st.sampled_from(EVENTS + ("gone",)), max_size=4))
        model = draw(st.sampled_from((*models, "gamma", "")))
        levels = st.sampled_from(("", ' level="1"', ' level="2"', ' level="3"', ' level="0"', ' level="x"'))
        factors = "".join(f"<factor{draw(levels)}>{draw(expression)}</factor>" for _ in range(draw(st.integers(0, 4))))
    if draw(st.integers(0, 3)):
        factors = f"<factors>{factors}</factors>"
    listed = "".join(f'<basic-event name="{m}"/>' for m in members)
    return (f'<define-CCF-group name="G" model="{model}"><members>{listed}</members>'
            f"<distribution>{draw(expression)}</distribution>{factors}</define-CCF-group>", members)


@st.composite
def mef(draw: st.DrawFn) -> str:
    n_gates = draw(st.integers(1, len(GATES)))
    gates = GATES[:n_gates]
    body = []
    for i, g in enumerate(gates):
        # Mostly a hierarchy (a gate only uses later gates); sometimes anything goes (cycles, self-loops).
        usable = gates[i + 1:] if draw(st.integers(0, 4)) else gates
        body.append(f'<define-gate name="{g}">{draw(formula(usable or ("undefined_gate",)))}</define-gate>')
    members: list[str] = []
    if draw(st.integers(0, 3)) == 0:  # a CCF group defines its members (mostly: sometimes they clash)
        group, members = draw(ccf_group())
        body.append(group)
    for e in EVENTS:
        if draw(st.integers(0, 9)) != 5 and (e not in members or draw(st.integers(0, 9)) == 5):
            body.append(f'<define-basic-event name="{e}">{draw(expression)}</define-basic-event>')
    if draw(st.booleans()):
        body.append(f'<define-house-event name="h1"><constant value="{draw(st.sampled_from(("true", "false", "maybe")))}"/></define-house-event>')
    body.append('<define-parameter name="lam"><float value="1e-4"/></define-parameter>')
    if draw(st.integers(0, 9)) == 5:
        body.append(draw(st.sampled_from(body)))  # a duplicate definition
    body = draw(st.permutations(body))
    ft = draw(st.sampled_from(('<define-fault-tree name="FT">', '<define-fault-tree name="">', "<define-fault-tree>")))
    if ft != '<define-fault-tree name="FT">' and draw(st.booleans()):
        ft = '<define-fault-tree name="FT">'
    return f'<?xml version="1.0"?>\n<opsa-mef>\n{ft}\n' + "\n".join(body) + "\n</define-fault-tree>\n</opsa-mef>\n"


def load_and_analyse(data: bytes) -> str:
    """'diagnostics' or 'trees'; anything else raised is a bug."""
    from safetyops_dsl.generators import openpsa as writer

    from safetyops_dsl.fta.engine import analyse
    from safetyops_dsl.fta.openpsa import load_openpsa
    from safetyops_dsl.fta.result import AnalysisOptions

    with tempfile.TemporaryDirectory(prefix="sops-opsa-") as tmp:
        path = Path(tmp, "m.xml")
        path.write_bytes(data)
        try:
            with time_limit():
                try:
                    trees = load_openpsa([str(path)])
                except DiagnosticError as exc:
                    assert exc.diagnostics and all(d.code.startswith("SOPS") for d in exc.diagnostics)
                    return "diagnostics"
                for tree in trees:
                    try:
                        analyse(tree, AnalysisOptions(cut_set_limit=20, max_cut_sets=100_000))
                    except DiagnosticError as exc:
                        assert exc.diagnostics
                writer.write_openpsa(trees)
                return "trees"
        except BaseException:
            save_crash("openpsa", data, ".xml")
            raise


@fuzz(50)
@given(mef())
def test_generated_mef_gives_diagnostics_or_trees(text: str) -> None:
    load_and_analyse(text.encode())


def _seeds() -> list[Path]:
    seeds = sorted((ROOT / "tests" / "golden").glob("fta_*/*.xml"))
    corpus = ROOT.parent / "shared" / "corpus" / "openpsa"
    if corpus.is_dir():
        seeds += sorted(p for p in corpus.rglob("*.xml") if p.stat().st_size < 20_000)[:40]
    return seeds


SEEDS = _seeds()


@st.composite
def mutated_mef(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        n = len(data)
        i = draw(st.integers(0, max(n - 1, 0)))
        j = min(n, i + draw(st.integers(1, 40)))
        op = draw(st.sampled_from(("flip", "delete", "dup", "truncate", "insert")))
        if op == "flip" and n:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "delete":
            del data[i:j]
        elif op == "dup":
            data[i:i] = data[i:j]
        elif op == "truncate":
            del data[i:]
        else:
            data[i:i] = draw(st.sampled_from((b"\x00", b"\xff", b"<", b">", b"&amp;", b"&x;", b"]]>", b"<!--",
                                               b'"', b"<gate name=\"top\"/>", b"<and>", b"</or>")))
    return bytes(data)


@fuzz(60)
@given(mutated_mef())
def test_mutated_mef_gives_diagnostics_or_trees(data: bytes) -> None:
    load_and_analyse(data)


LOL = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
ATTACKS = {
    "billion_laughs": f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY l0 "lol">{LOL}]><opsa-mef>&l9;</opsa-mef>',
    "quadratic_blowup": '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "' + "A" * 50_000 + '">]><opsa-mef>'
    + "&a;" * 5_000 + "</opsa-mef>",
    "external_entity": '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<opsa-mef><define-fault-tree name="&x;"/></opsa-mef>',
    "external_parameter_entity": '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
    "<opsa-mef/>",
    "external_dtd": '<?xml version="1.0"?><!DOCTYPE opsa-mef SYSTEM "http://127.0.0.1:9/evil.dtd"><opsa-mef/>',
    "xinclude": '<?xml version="1.0"?><opsa-mef xmlns:xi="http://www.w3.org/2001/XInclude">'
    '<xi:include href="file:///etc/passwd" parse="text"/></opsa-mef>',
    "deep_nesting": '<?xml version="1.0"?><opsa-mef><define-fault-tree name="FT"><define-gate name="top">'
    + "<and>" * 20_000 + '<basic-event name="a"/>' + "</and>" * 20_000 + "</define-gate></define-fault-tree></opsa-mef>",
    "deep_gate_chain": '<?xml version="1.0"?><opsa-mef><define-fault-tree name="FT">'
    + "".join(f'<define-gate name="g{i}"><or><gate name="g{i + 1}"/><basic-event name="e{i}"/></or></define-gate>'
              for i in range(3000))
    + '<define-gate name="g3000"><basic-event name="e"/></define-gate></define-fault-tree></opsa-mef>',
    "huge_attribute": '<?xml version="1.0"?><opsa-mef><define-fault-tree name="' + "N" * 2_000_000 + '"/></opsa-mef>',
    "cyclic_gates": '<?xml version="1.0"?><opsa-mef><define-fault-tree name="FT">'
    '<define-gate name="a"><or><gate name="b"/><basic-event name="x"/></or></define-gate>'
    '<define-gate name="b"><and><gate name="a"/><basic-event name="x"/></and></define-gate>'
    '<define-basic-event name="x"><float value="0.5"/></define-basic-event></define-fault-tree></opsa-mef>',
    "self_loop": '<?xml version="1.0"?><opsa-mef><define-fault-tree name="FT">'
    '<define-gate name="a"><or><gate name="a"/></or></define-gate></define-fault-tree></opsa-mef>',
    "undefined_events": '<?xml version="1.0"?><opsa-mef><define-fault-tree name="FT"><define-gate name="t">'
    '<or><basic-event name="ghost"/><gate name="phantom"/><event name="nothing"/></or></define-gate>'
    "</define-fault-tree></opsa-mef>",
    "wrong_root": '<?xml version="1.0"?><html><script>alert(1)</script></html>',
    "empty": "",
    "not_xml": "this is not XML at all {}",
    "utf16_without_decl": "<opsa-mef/>".encode("utf-16").decode("latin-1"),
    "latin1_declared_utf8": '<?xml version="1.0" encoding="UTF-8"?><opsa-mef><define-fault-tree name="\xe9"/></opsa-mef>',
}


# Found by this suite: nested formulas recurse in _Builder._formula/_arg, so ~500 nested <and> ended in a
# RecursionError ("internal error", exit 3). Now a SOPS008 diagnostic.
KNOWN_BUGS: dict[str, pytest.MarkDecorator] = {}


@pytest.mark.parametrize("name", [pytest.param(n, marks=KNOWN_BUGS.get(n, ())) for n in sorted(ATTACKS)])
def test_xml_attacks_are_diagnostics_or_trees(name: str) -> None:
    data = ATTACKS[name].encode("latin-1" if name in ("utf16_without_decl", "latin1_declared_utf8") else "utf-8")
    outcome = load_and_analyse(data)
    if name in ("billion_laughs", "quadratic_blowup", "external_entity", "external_parameter_entity",
                "cyclic_gates", "self_loop", "undefined_events", "wrong_root", "empty", "not_xml"):
        assert outcome == "diagnostics", name


def test_entities_are_refused_not_expanded_and_no_file_is_read() -> None:
    from safetyops_dsl.fta.openpsa import load_openpsa

    for name in ("billion_laughs", "external_entity", "external_parameter_entity", "external_dtd"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "m.xml")
            path.write_text(ATTACKS[name], encoding="utf-8")
            with pytest.raises(DiagnosticError) as info:
                load_openpsa([str(path)])
            text = " ".join(d.message for d in info.value.diagnostics)
            assert "root:" not in text  # nothing from /etc/passwd leaks into a message


@pytest.mark.parametrize("name", [pytest.param(n, marks=KNOWN_BUGS.get(n, ()))
                                  for n in ("billion_laughs", "external_entity", "deep_nesting", "cyclic_gates", "not_xml")])
def test_cli_on_attacks(name: str, tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    path.write_text(ATTACKS[name], encoding="utf-8")
    proc = run_cli(["fta", str(path)], timeout=60)
    assert proc.returncode == 1 and "error[SOPS" in proc.stderr, proc.stderr
