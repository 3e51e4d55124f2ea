"""Output safety: a hostile model (strings with <script>, quotes, backslashes, {}|<>, escaped newlines,
spreadsheet formulas, bidi controls, Jinja syntax) through every generator. Each output is checked by the
rules of its format: HTML has no element or attribute the model wrote, SVG and Open-PSA XML parse and hold
no script, DOT is accepted by Graphviz with the expected node count, Markdown tables keep their column
count, CSV/XLSX cells never start a formula, JSON round-trips the strings unchanged."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from defusedxml.ElementTree import fromstring as safe_xml
from safetyops_dsl.generators import diff_report, fault_tree_dot, fta_report, openpsa, tables, trace_report

from safetyops_dsl.analysis.diff import diff_models
from safetyops_dsl.analysis.fmea import build_fmea
from safetyops_dsl.analysis.fmeda import build_fmeda
from safetyops_dsl.analysis.hara import build_hara
from safetyops_dsl.analysis.synthesis import synthesise_all
from safetyops_dsl.api import check
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.result import AnalysisOptions

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK(\\"http://evil.example\\",\\"x\\")'
BIDI = "\u202eevil\u202c \u2066iso\u2069"
HOSTILE = f"""
package evil
deviation value.high refines value "{SCRIPT}"
component Sensor "{SCRIPT} \\" quote \\\\ backslash {{}}|<> pipes" {{
    in  power
    out data
    failure Dead rate 10 FIT "{FORMULA}"
    failure Stuck rate 5 FIT "@SUM(1+1)*cmd|' /C calc'!A0"
    failure Drift rate 5 FIT "+1+2 -3 {BIDI} line\\nbreak"
    mechanism Watch covers Dead coverage 90 % "<img src=x onerror=alert(2)> ]]> <!-- -->"
    data.omission <- Dead or power.omission
    data.value.high <- Stuck or Drift
}}
component Supply "&amp; &lt; {{{{ 7*7 }}}} \\" ] [ ; -> -- //" {{
    out power
    failure Off rate 20 FIT "\\t=1+1"
    power.omission <- Off
}}
system Sys "{SCRIPT}" {{
    out data
    part s : Sensor
    part p : Supply
    connect p.power -> s.power
    connect s.data -> data
}}
hazard H1 "</td></tr></table>{SCRIPT}" {{
    situation "-2+3 | a | b"
    severity S3 exposure E4 controllability C3
    when data.omission or data.value.high
}}
safety_goal SG1 "=1+1 \\"goal\\"" mitigates H1 {{ safe_state "<b>off</b>" ftti 50 ms target 1e-7 per h }}
requirement R1 "{FORMULA}" refines SG1 allocated_to s asil D
evidence E1 test "tests/x.py::{SCRIPT}" verifies R1
evidence E2 review "@import url(evil.css) {BIDI}" supports H1
"""
ALLOWED_HTML_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p", "table", "thead",
                     "tbody", "tr", "th", "td", "span", "div", "ul", "li", "code", "small", "section", "caption",
                     "em", "strong", "br", "details", "summary", "nav", "header", "footer", "main", "col",
                     "colgroup", "abbr", "sup", "sub", "pre", "ol", "dl", "dt", "dd", "hr", "i", "a"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("hostile")
    (root / "evil.sops").write_text(HOSTILE, encoding="utf-8")
    checked = check([root])
    errors = [d for d in checked.diagnostics if d.level.name == "ERROR"]
    assert checked.model is not None and not errors, errors
    results = synthesise_all(checked.model)
    assert results
    pairs = [(r.tree, analyse(r.tree, AnalysisOptions())) for r in results]
    return checked.model, results, pairs


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [a for a, _ in attrs]
        if tag == "a":  # in-page links of the report only
            self.hrefs += [v or "" for a, v in attrs if a == "href"]


def assert_safe_html(text: str) -> None:
    p = _Tags()
    p.feed(text)
    p.close()
    assert set(p.tags) <= ALLOWED_HTML_TAGS, set(p.tags) - ALLOWED_HTML_TAGS
    assert not [a for a in p.attrs if a.startswith("on")], p.attrs
    assert all(h.startswith("#") for h in p.hrefs), p.hrefs
    assert "<script" not in text.lower() and "<img" not in text.lower()


def assert_safe_xml(text: str) -> None:
    root = safe_xml(text.encode())
    for el in root.iter():
        tag = el.tag.rpartition("}")[2].lower()
        assert tag not in ("script", "foreignobject", "iframe"), tag
        assert not [a for a in el.attrib if a.rpartition("}")[2].lower().startswith("on")], el.attrib
        for v in el.attrib.values():
            assert not v.strip().lower().startswith("javascript:"), v


def assert_md_tables(text: str) -> None:
    """Every row of a table has the header's number of unescaped cell separators; no raw HTML tags."""
    import re

    prose = re.sub(r"`[^`\n]*`", "", text)  # code spans show their text literally
    assert "<script" not in prose.lower() and "<img" not in prose.lower(), prose
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and re.match(r"^\|[ :|-]+\|$", lines[i + 1]):
            n = len(re.findall(r"(?<!\\)\|", lines[i]))
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                assert len(re.findall(r"(?<!\\)\|", lines[j])) == n, (lines[i], lines[j])
                j += 1
            i = j
        else:
            i += 1


def assert_csv_safe(text: str) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows and all(len(r) == len(rows[0]) for r in rows), "ragged CSV"
    for row in rows:
        for cell in row:
            if cell and cell[0] in "=+-@\t\r":
                assert _is_number(cell), f"formula-like cell not neutralised: {cell!r}"


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def assert_xlsx_safe(data: bytes) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str) and c.value and c.value[0] in "=+-@\t\r":
                    raise AssertionError(f"{ws.title}!{c.coordinate}: {c.value!r}")


def assert_dot_ok(text: str) -> None:
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("Graphviz dot is not installed")
    proc = subprocess.run([dot, "-Tsvg"], input=text, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and "Warning: syntax" not in proc.stderr, proc.stderr
    assert_safe_xml(proc.stdout)


@pytest.mark.parametrize("fmt", ["md", "csv", "html", "json", "xlsx"])
@pytest.mark.parametrize("kind", ["fmea", "fmeda", "hara"])
def test_tables(hostile, kind: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    model, results, _ = hostile
    report = {"fmea": lambda: build_fmea(model, results), "fmeda": lambda: build_fmeda(model, results),
              "hara": lambda: build_hara(model)}[kind]()
    out = tables.render(report, fmt)
    if fmt == "xlsx":
        assert isinstance(out, bytes)
        assert_xlsx_safe(out)
        return
    assert isinstance(out, str)
    {"md": assert_md_tables, "csv": assert_csv_safe, "html": assert_safe_html,
     "json": lambda t: json.loads(t)}[fmt](out)
    if fmt == "json" and kind == "fmea":
        assert "@SUM(1+1)*cmd|' /C calc'!A0" in out  # JSON keeps the text exact


@pytest.mark.parametrize("fmt", ["md", "csv", "html", "json", "dot"])
def test_trace_report(hostile, fmt: str) -> None:  # type: ignore[no-untyped-def]
    from safetyops_dsl.analysis.coverage import evaluate
    from safetyops_dsl.analysis.trace import build_trace
    from safetyops_dsl.validation.policy import resolve_policy

    model, _, _ = hostile
    tg = build_trace(model, None, use_git=False)
    out = trace_report.render(tg, evaluate(tg, resolve_policy(model.policy)), fmt, title=SCRIPT)
    {"md": assert_md_tables, "csv": assert_csv_safe, "html": assert_safe_html, "json": json.loads,
     "dot": assert_dot_ok}[fmt](out)


@pytest.mark.parametrize("fmt", ["md", "json", "text"])
def test_fta_report(hostile, fmt: str) -> None:  # type: ignore[no-untyped-def]
    _, _, pairs = hostile
    out = fta_report.render(pairs, fmt)
    if fmt == "md":
        assert_md_tables(out)
    elif fmt == "json":
        json.loads(out)
    else:
        assert "<script" not in out or SCRIPT in out  # plain text: shown as written, nothing interprets it


def test_fta_dot_and_svg(hostile) -> None:  # type: ignore[no-untyped-def]
    _, _, pairs = hostile
    for tree, result in pairs:
        dot = fault_tree_dot.render_dot(tree, result)
        assert_dot_ok(dot)
        assert_safe_xml(fault_tree_dot.render_svg(tree, result))


def test_fta_openpsa_is_well_formed_and_round_trips(hostile, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from safetyops_dsl.fta.openpsa import load_openpsa

    _, results, _ = hostile
    text = openpsa.write_openpsa([r.tree for r in results])
    assert_safe_xml(text)
    (tmp_path / "t.xml").write_text(text, encoding="utf-8")
    back = load_openpsa([str(tmp_path / "t.xml")])
    assert sorted(t.name for t in back) == sorted(r.tree.name for r in results)


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_diff_report(hostile, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = hostile
    (tmp_path / "evil.sops").write_text(HOSTILE.replace("rate 10 FIT", "rate 99 FIT").replace(
        'failure Off rate 20 FIT', f'failure Off2 rate 1 FIT "{SCRIPT}"\n    failure Off rate 20 FIT'), encoding="utf-8")
    new = check([tmp_path]).model
    assert new is not None
    out = diff_report.render(diff_models(model, new, SCRIPT, "=cmd|x"), fmt)
    if fmt == "md":
        assert_md_tables(out)
    else:
        json.loads(out)


def test_the_checks_can_fail() -> None:
    """The format checkers reject what they must (so a passing test above means something)."""
    for bad, check_fn in [("<p>" + SCRIPT + "</p>", assert_safe_html), ("<svg><script>x</script></svg>", assert_safe_xml),
                          ("=HYPERLINK(1)\n", assert_csv_safe), ("| a | b |\n|---|---|\n| x | y | z |\n", assert_md_tables),
                          ('digraph { a [label="x"" ] }', assert_dot_ok)]:
        with pytest.raises((AssertionError, Exception)):
            check_fn(bad)
