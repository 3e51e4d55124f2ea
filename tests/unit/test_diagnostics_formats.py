"""SARIF 2.1.0 and GitHub workflow commands for `sops check`: structure, levels, locations, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from safetyops_dsl.generators.diagnostics_formats import (
    artifact_uri,
    escape_data,
    escape_property,
    github_command,
    to_github,
    to_sarif,
)

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.cli.main import cli
from safetyops_dsl.diagnostics import Diagnostic, Location, Severity

DIAGS = [
    dg.make(
        dg.UNKNOWN_NAME,
        "unknown component type 'Radr'",
        Location("models/aeb/system.sops", 12, 23),
        "did you mean 'Radar'?",
    ),
    dg.make(dg.UNCONNECTED_INPUT, "input 'x' of part 'p' is not connected", Location("m/a b.sops", 3, 5)),
    dg.make(dg.NO_INPUT, "no .sops files under this folder", Location("empty")),
    dg.make(dg.SYNTAX, "unexpected end of file", Location("e.sops", 4, 0)),
    Diagnostic(dg.UNCONNECTED_INPUT, "promoted", Location("n.sops", 1, 1), severity=Severity.NOTE),
]


def sarif(diags: list[Diagnostic]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(to_sarif(diags))
    return doc


def test_sarif_top_level_and_driver() -> None:
    doc = sarif(DIAGS)
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].endswith("sarif-2.1.0.json")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "sops"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [c.code for c in dg.all_codes()]
    for rule, info in zip(rules, dg.all_codes(), strict=True):
        assert rule["shortDescription"]["text"] == info.title
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert rule["defaultConfiguration"]["level"] == info.severity.value


def test_sarif_results_are_valid_and_point_at_their_rule() -> None:
    doc = sarif(DIAGS)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(DIAGS)
    for result, d in zip(results, DIAGS, strict=True):
        assert set(result) >= {"ruleId", "level", "message", "locations"}
        assert result["ruleId"] == d.code
        assert rules[result["ruleIndex"]]["id"] == d.code
        assert result["level"] == {"error": "error", "warning": "warning", "note": "note"}[d.level.value]
        assert result["message"]["text"].startswith(d.message)
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert not uri.startswith("/") and "\\" not in uri and " " not in uri
        region = physical.get("region")
        if d.location.line > 0:
            assert region["startLine"] == d.location.line >= 1
            assert region.get("startColumn", 1) >= 1
            assert ("startColumn" in region) == (d.location.col > 0)
        else:
            assert region is None
    assert results[0]["message"]["text"] == "unknown component type 'Radr'\nhint: did you mean 'Radar'?"
    assert results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "m/a%20b.sops"
    assert results[4]["level"] == "note"


def test_sarif_region_carries_the_span() -> None:
    spanned = dg.make(dg.UNKNOWN_NAME, "unknown 'Radr'", Location("m.sops", 12, 23, 12, 27))
    multi = dg.make(dg.HAZARD_NO_GOAL, "no goal", Location("m.sops", 3, 1, 7, 2))
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in sarif([spanned, multi])["runs"][0]["results"]]
    assert regions == [
        {"startLine": 12, "startColumn": 23, "endLine": 12, "endColumn": 27},
        {"startLine": 3, "startColumn": 1, "endLine": 7, "endColumn": 2},
    ]
    point = sarif([DIAGS[0]])["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert "endLine" not in point and "endColumn" not in point


def test_sarif_and_github_messages_show_hidden_characters() -> None:
    d = dg.make(dg.UNKNOWN_NAME, "title 'a\u202eb'", Location("m.sops", 1, 1), "hint \u200b")
    assert "\u202e" not in to_sarif([d]) and "\u200b" not in to_sarif([d])
    assert json.loads(to_sarif([d]))["runs"][0]["results"][0]["message"]["text"] == "title 'a<U+202E>b'\nhint: hint <U+200B>"
    assert github_command(d).endswith("title 'a<U+202E>b'%0Ahint: hint <U+200B>")


def test_sarif_is_deterministic_and_reflects_strict() -> None:
    assert to_sarif(DIAGS) == to_sarif(list(DIAGS))
    text = to_sarif(DIAGS)
    assert text.endswith("}\n") and json.loads(text)
    strict = sarif(dg.promote_warnings(DIAGS))
    assert strict["runs"][0]["results"][1]["level"] == "error"
    assert sarif([])["runs"][0]["results"] == []


@pytest.mark.parametrize(
    "path,uri",
    [
        ("models/aeb/system.sops", "models/aeb/system.sops"),
        ("a b/c%d.sops", "a%20b/c%25d.sops"),
        ("/abs/x.sops", "file:///abs/x.sops"),
        ("C:\\work\\x.sops", "file:///C:/work/x.sops"),
        ("sub\\x.sops", "sub/x.sops"),
        ("a:b.sops", "a%3Ab.sops"),
    ],
)
def test_artifact_uris(path: str, uri: str) -> None:
    assert artifact_uri(path) == uri


def unescape(text: str) -> str:
    return re.sub(
        r"%(25|0D|0A|3A|2C)",
        lambda m: {"25": "%", "0D": "\r", "0A": "\n", "3A": ":", "2C": ","}[m.group(1)],
        text,
    )


@pytest.mark.parametrize("text", ["plain", "50 %", "a\r\nb", "x:y,z", "%0A literally", "%%::,,\n\n"])
def test_github_escaping_round_trips(text: str) -> None:
    data = escape_data(text)
    assert "\n" not in data and "\r" not in data
    assert unescape(data) == text
    prop = escape_property(text)
    assert not set(prop) & {"\n", "\r", ":", ","}
    assert unescape(prop) == text


def test_github_escaping_exact() -> None:
    assert escape_data("100 % of a:b,c\nnext") == "100 %25 of a:b,c%0Anext"
    assert escape_property("dir,1/a:b%.sops") == "dir%2C1/a%3Ab%25.sops"


def test_github_commands() -> None:
    lines = to_github(DIAGS, "5 files checked: 2 errors, 2 warnings").splitlines()
    assert lines[0] == (
        "::error file=models/aeb/system.sops,line=12,col=23,title=SOPS011::"
        "unknown component type 'Radr'%0Ahint: did you mean 'Radar'?"
    )
    assert (
        lines[1]
        == "::warning file=m/a b.sops,line=3,col=5,title=SOPS023::input 'x' of part 'p' is not connected"
    )
    assert lines[2] == "::error file=empty,title=SOPS006::no .sops files under this folder"
    assert lines[3] == "::error file=e.sops,line=4,title=SOPS001::unexpected end of file"
    assert lines[4].startswith("::notice file=n.sops,line=1,col=1,")
    assert lines[5] == "5 files checked: 2 errors, 2 warnings"
    assert github_command(DIAGS[0]).count("::") == 2


def test_check_output_option_writes_atomically(tmp_path: Path) -> None:
    model = tmp_path / "w.sops"
    model.write_text('component C "c" {\n    out y\n}\n', encoding="utf-8")
    report = tmp_path / "reports" / "check.sarif"
    result = CliRunner().invoke(cli, ["check", "--format", "sarif", "-o", str(report), str(model)])
    assert result.exit_code == 0
    assert result.output.strip() == "1 file checked: 0 errors, 1 warning"
    doc = json.loads(report.read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["SOPS030"]
    assert [p.name for p in report.parent.iterdir()] == ["check.sarif"]
    result = CliRunner().invoke(
        cli, ["check", "--strict", "--format", "github", "-o", str(report), str(model)]
    )
    assert result.exit_code == 1
    assert report.read_text(encoding="utf-8").startswith("::error file=")
    result = CliRunner().invoke(cli, ["check", "-o", str(report), str(model)])
    assert result.exit_code == 0
    text = report.read_text(encoding="utf-8")
    assert "warning[SOPS030]" in text and text.endswith("1 file checked: 0 errors, 1 warning\n")


def test_check_json_is_unchanged_without_output(tmp_path: Path) -> None:
    model = tmp_path / "w.sops"
    model.write_text('component C "c" {\n    out y\n}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--format", "json", str(model)])
    doc = json.loads(result.output)
    assert doc["summary"] == {"files": 1, "errors": 0, "warnings": 1}
