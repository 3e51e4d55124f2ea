"""Table generators: the XLSX read back with openpyxl, byte-identical output, escaping of model text."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from safetyops_dsl.generators.tables import neutralise, render

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
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}17"  # header + 16 modes
    rows = {(r[0], r[2]): dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    cpu = rows[("AEB.ecu", "CPUFault")]
    assert cpu["λ (FIT)"] == 50 and cpu["DC (%)"] == 99 and cpu["Residual λ (FIT)"] == pytest.approx(0.5)
    assert cpu["Single point for"] == "H1, H2"
    assert wb.properties.creator == "sops"


def test_fmeda_xlsx_read_back(aeb: Model, tmp_path: Path) -> None:
    wb = _xlsx(render(build_fmeda(aeb), "xlsx"), tmp_path)
    assert wb.sheetnames == ["Summary", "Classification", "Not counted", "Notes"]
    ws = wb["Summary"]
    header = [c.value for c in ws[1]]
    sg1 = dict(zip(header, next(ws.iter_rows(min_row=2, values_only=True)), strict=True))
    assert sg1["Goal"] == "SG1" and sg1["ASIL"] == "D"
    assert sg1["SPFM (%)"] == pytest.approx(100 * (1 - 1.65 / 505))  # RF 1.65 FIT of 505 FIT
    assert sg1["SPFM target (%)"] == 99 and sg1["SPFM"] == "pass"
    for name in wb.sheetnames[:-1]:
        assert wb[name].freeze_panes == "A2" and wb[name].auto_filter.ref


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
    assert data["schema"] == "sops-fmeda/1" and data["passed"] is True  # AEB meets every target
    sg1 = data["goals"][0]
    assert sg1["goal"] == "SG1" and sg1["passed"] is True
    assert {m["name"]: m["status"] for m in sg1["metrics"]} == {"SPFM": "pass", "LFM": "pass", "PMHF": "pass"}
    fmea = json.loads(str(render(build_fmea(aeb), "json")))
    assert fmea["rows"][0]["event"] == "AEB.actuator.PumpFault"
