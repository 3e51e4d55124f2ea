"""Table generators: the XLSX read back with openpyxl (number formats that show what the HTML shows, colours,
links, print setup), byte-identical output, escaping of model text."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from safetyops_dsl.generators.tables import (
    _html_cell,
    fmea_document,
    fmeda_document,
    hara_document,
    neutralise,
    render,
)

from safetyops_dsl.analysis.fmea import build_fmea
from safetyops_dsl.analysis.fmeda import build_fmeda
from safetyops_dsl.analysis.hara import build_hara
from safetyops_dsl.api import check
from safetyops_dsl.model.index import Model

ROOT = Path(__file__).resolve().parents[3]

HOSTILE = """
package x
component C "c" {
    out o
    failure F rate 10 FIT "<script>alert(1)</script> | pipe"
    failure G rate 5 FIT "=HYPERLINK(\\"http://evil\\",\\"click\\")"
    failure K rate 5 FIT "@SUM(A1:A2)"
    o.omission <- F or G or K
}
system S "<b>sys</b>" { out o  part c : C  connect c.o -> o }
hazard H "<img src=x onerror=alert(1)>" {
    situation "-2+3"
    severity S3 exposure E4 controllability C3
    when o.omission
}
safety_goal SG "+goal" mitigates H { safe_state "<i>off</i>" ftti 50 ms }
"""


def _model(path: Path) -> Model:
    checked = check([path])
    errors = [d for d in checked.diagnostics if d.level.value == "error"]
    assert not errors, errors
    assert checked.model is not None
    return checked.model


@pytest.fixture(scope="module")
def aeb() -> Model:
    return _model(ROOT / "models" / "aeb")


@pytest.fixture
def hostile(tmp_path: Path) -> Model:
    (tmp_path / "x.sops").write_text(HOSTILE, encoding="utf-8")
    return _model(tmp_path)


def _xlsx(data: str | bytes, tmp_path: Path) -> openpyxl.Workbook:
    assert isinstance(data, bytes)
    path = tmp_path / "t.xlsx"
    path.write_bytes(data)
    return openpyxl.load_workbook(path)


def test_fmea_xlsx_read_back(aeb: Model, tmp_path: Path) -> None:
    wb = _xlsx(render(build_fmea(aeb), "xlsx"), tmp_path)
    assert wb.sheetnames == ["FMEA", "Hazards", "Notes"]
    ws = wb["FMEA"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Element", "Component", "Failure mode"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}20"  # header + 19 modes and triggers
    rows = {(r[0], r[2]): dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    cpu = rows[("AEB.ecu", "CPUFault")]
    assert cpu["λ (FIT)"] == 50 and cpu["DC (%)"] == 0.99 and cpu["Residual λ (FIT)"] == pytest.approx(0.5)
    assert cpu["Single point for"] == "H1, H2"
    assert wb.properties.creator == "sops"


def test_fmeda_xlsx_read_back(aeb: Model, tmp_path: Path) -> None:
    wb = _xlsx(render(build_fmeda(aeb), "xlsx"), tmp_path)
    assert wb.sheetnames == ["Summary", "Classification", "Not counted", "Notes"]
    ws = wb["Summary"]
    header = [c.value for c in ws[1]]
    sg1 = dict(zip(header, next(ws.iter_rows(min_row=2, values_only=True)), strict=True))
    assert sg1["Goal"] == "SG1" and sg1["ASIL"] == "D"
    assert sg1["SPFM (%)"] == 0.9967  # 1 - 1.65 / 505 (RF 1.65 FIT of 505 FIT), rounded as the HTML shows it
    assert sg1["SPFM target (%)"] == 0.99 and sg1["SPFM"] == "pass"
    for name in wb.sheetnames[:-1]:
        assert wb[name].freeze_panes == "A2" and wb[name].auto_filter.ref


def excel_text(value: float | int, fmt: str) -> str:
    """What Excel shows for the number formats the generator writes: 0, 0.00, 0.00E+00, with % (times 100)
    or a quoted suffix. Independent of the generator's code: a small model of Excel's formatting."""
    m = re.fullmatch(r'0(?:\.(0+))?(E\+00)?(%)?(?:"(.*)")?', fmt)
    assert m, fmt
    decimals = len(m[1] or "")
    x = value * 100 if m[3] else value
    if m[2]:
        mantissa, exponent = f"{x:.{decimals}E}".split("E")
        text = f"{mantissa}E{int(exponent):+03d}"
    else:
        text = f"{x:.{decimals}f}"
    return text + ("%" if m[3] else "") + (m[4] or "")


@pytest.mark.parametrize("kind", ["fmea", "fmeda", "hara"])
def test_xlsx_shows_the_numbers_as_the_html_does(aeb: Model, kind: str, tmp_path: Path) -> None:
    from safetyops_dsl.analysis.synthesis import synthesise_all

    if kind == "fmea":
        doc = fmea_document(build_fmea(aeb, synthesise_all(aeb)))
    elif kind == "fmeda":
        doc = fmeda_document(build_fmeda(aeb, synthesise_all(aeb)))
    else:
        doc = hara_document(build_hara(aeb))
    wb = _xlsx(render({"fmea": build_fmea, "fmeda": build_fmeda, "hara": build_hara}[kind](aeb), "xlsx"), tmp_path)
    checked = 0
    for sheet in doc.sheets:
        ws = wb[sheet.name]
        for i, row in enumerate(sheet.rows, start=2):
            for j, (value, col) in enumerate(zip(row, sheet.columns, strict=True), start=1):
                if col.kind != "num" or value is None or value == "":
                    continue
                html = _html_cell(value, col)["text"]
                cell = ws.cell(i, j)
                shown = excel_text(cell.value, cell.number_format)
                expected = html + ("%" if col.unit == "%" else "") + (" FIT" if col.unit == "FIT" else "")
                assert shown.lower().replace("e-0", "e-").replace("e+0", "e+") == \
                    expected.lower().replace("e-0", "e-").replace("e+0", "e+"), (sheet.name, cell.coordinate)
                checked += 1
    assert checked >= (2 if kind == "hara" else 20)  # HARA: the goals' targets


def test_xlsx_colours_links_and_print_setup(aeb: Model, tmp_path: Path) -> None:
    wb = _xlsx(render(build_fmeda(aeb), "xlsx"), tmp_path)
    summary = wb["Summary"]
    header = [c.value for c in summary[1]]
    verdict = summary.cell(2, header.index("Verdict") + 1)
    assert verdict.value == "pass" and verdict.fill.fgColor.rgb.endswith("DAFBE1")
    spfm = summary.cell(2, header.index("SPFM (%)") + 1)
    assert spfm.number_format == "0.00%"
    pmhf = summary.cell(2, header.index("PMHF (FIT)") + 1)
    assert pmhf.number_format.endswith('" FIT"')
    rows = wb["Classification"]
    goal = rows.cell(2, 1)
    assert goal.hyperlink is not None and goal.hyperlink.location == "'Summary'!A2"
    assert goal.hyperlink.target is None  # a place in the workbook, not a URL
    classes = {c.value: c for c in rows["E"][1:]}
    assert classes["residual"].fill.fgColor.rgb.endswith("FFF8C5")
    for ws in wb.worksheets[:-1]:
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.print_title_rows == "$1:$1"
        assert "&P" in ws.oddFooter.right.text
    pump = _model(ROOT / "models" / "insulin_pump")
    failing = _xlsx(render(build_fmeda(pump), "xlsx"), tmp_path)["Summary"]
    cells = [c for row in failing.iter_rows(min_row=2) for c in row if c.value == "fail"]
    assert cells and all(c.fill.fgColor.rgb.endswith("FFEBE9") for c in cells)
    hara = _xlsx(render(build_hara(aeb), "xlsx"), tmp_path)
    h1_goals = hara["Hazards"].cell(2, 8)
    assert h1_goals.value == "SG1" and h1_goals.hyperlink.location == "'Safety goals'!A2"


@pytest.mark.parametrize("build", [build_fmea, build_fmeda, build_hara])
def test_every_format_is_byte_identical(aeb: Model, build: object) -> None:
    for fmt in ("md", "csv", "html", "xlsx", "json"):
        assert render(build(aeb), fmt) == render(build(aeb), fmt), fmt  # type: ignore[operator]


def test_html_escapes_model_text(hostile: Model) -> None:
    for build in (build_fmea, build_fmeda, build_hara):
        html = render(build(hostile), "html")
        assert isinstance(html, str)
        assert "<script>" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    fmea_html = render(build_fmea(hostile), "html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in str(fmea_html)


def test_markdown_escapes_model_text(hostile: Model) -> None:
    md = str(render(build_fmea(hostile), "md"))
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "\\| pipe" in md  # a pipe inside a cell does not split the table
    row = next(line for line in md.splitlines() if "script" in line)
    assert row.count(" | ") == next(line for line in md.splitlines() if line.startswith("| Element")).count(" | ")


def test_csv_neutralises_formulas(hostile: Model) -> None:
    text = str(render(build_fmea(hostile), "csv"))
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert "'=HYPERLINK(\"http://evil\",\"click\")" in cells
    assert "'@SUM(A1:A2)" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    hara_cells = [c for row in csv.reader(io.StringIO(str(render(build_hara(hostile), "csv")))) for c in row]
    assert "'-2+3" in hara_cells
    assert neutralise("plain") == "plain" and neutralise("+1") == "'+1"


def test_xlsx_never_holds_a_formula(hostile: Model, tmp_path: Path) -> None:
    for build in (build_fmea, build_hara):
        wb = _xlsx(render(build(hostile), "xlsx"), tmp_path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(("=", "+", "-", "@")), cell.value


def test_json_is_complete_and_plain(aeb: Model) -> None:
    data = json.loads(str(render(build_fmeda(aeb), "json")))
    assert data["schema"] == "sops-fmeda/1.0.0" and data["passed"] is True  # AEB meets every target
    sg1 = data["goals"][0]
    assert sg1["goal"] == "SG1" and sg1["passed"] is True
    assert {m["name"]: m["status"] for m in sg1["metrics"]} == {"SPFM": "pass", "LFM": "pass", "PMHF": "pass"}
    fmea = json.loads(str(render(build_fmea(aeb), "json")))
    assert fmea["rows"][0]["event"] == "AEB.actuator.PumpFault"
