"""The TextMate grammar in editors/: valid JSON, every regex compiles (Python's `re` stands in for Oniguruma,
so the grammar keeps to the common subset), every keyword of grammar/sops.tx is highlighted as a keyword,
and sample lines get the scopes a theme needs. A small line tokenizer imitates how TextMate applies the
patterns: at each position the earliest match wins, ties go to the pattern listed first."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDITORS = ROOT / "editors"
GRAMMAR = json.loads((EDITORS / "sops.tmLanguage.json").read_text(encoding="utf-8"))


def grammar_keywords() -> list[str]:
    text = (ROOT / "grammar" / "sops.tx").read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return sorted(set(re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)'", text)))


def regexes(node: Any, where: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("match", "begin", "end", "while") and isinstance(value, str):
                found.append((f"{where}/{key}", value))
            else:
                found.extend(regexes(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(regexes(value, f"{where}/{i}"))
    return found


def flat_rules(patterns: list[dict[str, Any]], seen: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in patterns:
        if "include" in p:
            name = p["include"].removeprefix("#")
            assert name in GRAMMAR["repository"], f"include of unknown repository entry {p['include']}"
            assert name not in seen, f"include cycle through {name}"
            out.extend(flat_rules(GRAMMAR["repository"][name]["patterns"], seen | {name}))
        else:
            out.append(p)
    return out


RULES = flat_rules(GRAMMAR["patterns"])


def scopes(line: str) -> list[str]:
    """The innermost scope of every character of one line ('' where no pattern applies)."""
    out = [""] * len(line)
    pos = 0
    while pos < len(line):
        best: tuple[re.Match[str], dict[str, Any]] | None = None
        for rule in RULES:
            m = re.compile(rule.get("match") or rule["begin"]).search(line, pos)
            if m is not None and m.end() > m.start() and (best is None or m.start() < best[0].start()):
                best = (m, rule)
        if best is None:
            break
        m, rule = best
        end = m.end()
        if "begin" in rule:
            e = re.compile(rule["end"]).search(line, m.end())
            end = e.end() if e is not None else len(line)
        for i in range(m.start(), end):
            out[i] = rule.get("name", "")
        for group, spec in (rule.get("captures") or rule.get("beginCaptures") or {}).items():
            g = int(group)
            if m.group(g) is not None:
                for i in range(m.start(g), m.end(g)):
                    out[i] = spec["name"]
        pos = end
    return out


def scope_at(line: str, word: str, nth: int = 0) -> str:
    starts = [m.start() for m in re.finditer(re.escape(word), line)]
    start = starts[nth]
    found = set(scopes(line)[start : start + len(word)])
    assert len(found) == 1, f"{word!r} in {line!r} has mixed scopes {found}"
    return found.pop()


def test_the_grammar_is_named_for_sops() -> None:
    assert GRAMMAR["scopeName"] == "source.sops"
    assert GRAMMAR["fileTypes"] == ["sops"]


@pytest.mark.parametrize("where,regex", regexes(GRAMMAR))
def test_every_regex_compiles(where: str, regex: str) -> None:
    re.compile(regex)


def test_the_grammar_keywords_are_found() -> None:
    words = grammar_keywords()
    assert len(words) > 80 and {"component", "safety_goal", "and", "in_context_of", "hour"} <= set(words)


@pytest.mark.parametrize("word", grammar_keywords())
def test_every_grammar_keyword_is_highlighted(word: str) -> None:
    samples = [word, f"{word} X", f"target 1e-7 per {word}", f"x <- a {word} b", f"2 {word} (a, b)"]
    got = {scope_at(s, word) for s in samples}
    assert any(s.startswith(("keyword.", "storage.type.")) for s in got), (word, got)


@pytest.mark.parametrize(
    "line,word,scope",
    [
        ("// a comment with component and 50 FIT", "component", "comment.line.double-slash.sops"),
        ("/* block */ component C {", "block", "comment.block.sops"),
        ('failure Dead rate 50 FIT "no signal or component"', "component", "string.quoted.double.sops"),
        ("odd 'single quoted'", "quoted", "string.quoted.single.sops"),
        ('component Camera "Front camera" {', "component", "storage.type.component.sops"),
        ('component Camera "Front camera" {', "Camera", "entity.name.type.sops"),
        ("ml_component Perception {", "Perception", "entity.name.type.sops"),
        ("system Brake {", "Brake", "entity.name.type.sops"),
        ('hazard H1 "Loss of braking" {', "H1", "entity.name.section.sops"),
        ("safety_goal SG1 mitigates H1", "SG1", "entity.name.section.sops"),
        ('requirement FSR1 "x" refines SG1', "FSR1", "entity.name.section.sops"),
        ('evidence T1 test "t" verifies FSR1', "T1", "entity.name.section.sops"),
        ('argument A1 "top" {', "A1", "entity.name.section.sops"),
        ("deviation value.stuck refines value", "value.stuck", "entity.name.type.deviation.sops"),
        ("package aeb", "aeb", "entity.name.namespace.sops"),
        ("failure Dead rate 50 FIT", "Dead", "entity.name.function.sops"),
        ("monitor Ood covers Missed coverage 90 %", "Ood", "entity.name.function.sops"),
        ("part main : Radar", "main", "variable.other.part.sops"),
        ('goal G1 "AEB is safe" supports G0', "G1", "entity.name.tag.sops"),
        ("failure Dead rate 50 FIT", "50", "constant.numeric.sops"),
        ("failure Dead rate 50 FIT", "FIT", "keyword.other.unit.sops"),
        ("mechanism M covers F coverage 99 %", "%", "keyword.other.unit.sops"),
        ("mechanism M covers F coverage 99.5 %", "99.5", "constant.numeric.sops"),
        ("ftti 100 ms", "ms", "keyword.other.unit.sops"),
        ("mission_time 200ms", "ms", "keyword.other.unit.sops"),
        ("exposure 10 min", "min", "keyword.other.unit.sops"),
        ("mission_time 1 y", "y", "keyword.other.unit.sops"),
        ("failure F rate 2e-7 per hour", "hour", "keyword.other.unit.sops"),
        ("failure F rate 2e-7 /h", "/h", "keyword.other.unit.sops"),
        ("target 1e-7 per h", "1e-7", "constant.numeric.sops"),
        ("metric recall.night >= 0.99", "0.99", "constant.numeric.sops"),
        ("metric recall.night >= 0.99", ">=", "keyword.operator.comparison.sops"),
        ("asil B(D)", "B(D)", "constant.language.asil.sops"),
        ("asil QM", "QM", "constant.language.asil.sops"),
        ("asil D", "D", "constant.language.asil.sops"),
        ("refines SG1 asil QM(D)", "QM(D)", "constant.language.asil.sops"),
        ("severity S3", "S3", "constant.language.class.sops"),
        ("exposure E4", "E4", "constant.language.class.sops"),
        ("controllability C2", "C2", "constant.language.class.sops"),
        ("out.omission <- a.value and b.value or 2 of (c, d)", "<-", "keyword.operator.arrow.sops"),
        ("out.omission <- a.value and b.value or 2 of (c, d)", "and", "keyword.operator.logical.sops"),
        ("out.omission <- a.value and b.value or 2 of (c, d)", " or ", "keyword.operator.logical.sops"),
        ("out.omission <- a.value and b.value or 2 of (c, d)", "of", "keyword.operator.logical.sops"),
        ("out.omission <- a.value", "omission", "support.constant.deviation.sops"),
        ("connect main.tracks -> fusion.main", "->", "keyword.operator.arrow.sops"),
        ('dataset verification "d" sha256 "x"', "verification", "keyword.other.kind.sops"),
    ],
)
def test_sample_scopes(line: str, word: str, scope: str) -> None:
    if word == " or ":
        start = line.index(" or ") + 1
        assert set(scopes(line)[start : start + 2]) == {scope}
        return
    assert scope_at(line, word) == scope


@pytest.mark.parametrize(
    "line,word",
    [
        ("x <- model.omission or in_context_of", "model"),  # a port called `model`, not the keyword
        ('goal G1 "x" in_context_of C1', "in_context_of"),  # one keyword, not `in` + rest
        ("x <- order", "order"),  # `or` inside a name
        ("part incoming : T", "incoming"),
    ],
)
def test_keywords_inside_names_are_not_keywords(line: str, word: str) -> None:
    scope = scope_at(line, word)
    if word == "in_context_of":
        assert scope == "keyword.other.sops"
    else:
        assert not scope.startswith(("keyword.", "storage.")), scope


def test_language_configuration_and_vscode_manifest() -> None:
    config = json.loads((EDITORS / "language-configuration.json").read_text(encoding="utf-8"))
    assert config["comments"] == {"lineComment": "//", "blockComment": ["/*", "*/"]}
    assert ["{", "}"] in config["brackets"] and ["(", ")"] in config["brackets"]
    re.compile(config["wordPattern"])
    manifest = json.loads((EDITORS / "vscode" / "package.json").read_text(encoding="utf-8"))
    (language,) = manifest["contributes"]["languages"]
    (grammar,) = manifest["contributes"]["grammars"]
    assert language["extensions"] == [".sops"]
    assert grammar["language"] == language["id"]
    assert grammar["scopeName"] == GRAMMAR["scopeName"]
    # the README copies the two files to exactly these places in the extension folder
    readme = (EDITORS / "README.md").read_text(encoding="utf-8")
    assert grammar["path"].removeprefix("./") in readme
    assert language["configuration"].removeprefix("./") in readme


def test_the_tools_keyword_tables_come_from_the_grammar() -> None:
    """Completion and syntax hints list every keyword the grammar has at the start of an element or member
    (parse/grammar_info.py reads them from grammar/sops.tx), and no other."""
    from safetyops_dsl.lsp import server
    from safetyops_dsl.parse import grammar_info, textx_parser

    starts = set(grammar_info.element_keywords())
    assert {"component", "ml_component", "system", "hazard", "safety_goal", "requirement", "evidence",
            "argument", "policy", "deviation", "mission_time", "standard", "risk_matrix", "safety_function", "parameter",
            "risk_graph", "dal_reduction", "ffs", "flight_phase"} == starts
    assert set(server.TOP_KEYWORDS) == starts | {"package", "import"}
    assert "ccf" in server.MEMBER_KEYWORDS["component"] and "ccf" in textx_parser._MEMBER_KEYWORDS
    assert set(grammar_info.member_keywords()["hazard"]) >= {"severity", "exposure", "controllability", "when"}
    for words in grammar_info.member_keywords().values():
        assert set(words) <= set(grammar_keywords())
