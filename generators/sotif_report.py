"""The SOTIF analysis (ISO 21448) and the ODD coverage as a table document: Markdown, CSV, HTML, XLSX, JSON.

Sheets: the SOTIF table (one row per ML component, hazard, hazardous behaviour and functional insufficiency;
the CSV holds this one), the validation targets per hazard, the known (area 2) and residual unknown (area 3)
scenarios, and the ODD coverage matrix of every data set with a manifest, with the metric slice gaps. The
rendering (escaping, formula-safe cells, fixed XLSX bytes) is the FMEA's (generators/tables.py).
"""

from __future__ import annotations

import json
from typing import Any

from safetyops_dsl.generators.tables import (
    Column,
    Document,
    Sheet,
    _plain,
    _r,
    render_document,
)

from safetyops_dsl import schemas
from safetyops_dsl.analysis.sotif import UNIT_TEXT, SotifReport
from safetyops_dsl.diagnostics import json_hidden

FORMATS = ("md", "csv", "html", "xlsx", "json")


def _join(items: tuple[str, ...] | list[str], sep: str = "; ") -> str:
    return sep.join(items)


def sotif_document(report: SotifReport) -> Document:
    rows_cols = (
        Column("ML component", "mono"), Column("Hazard", "mono", refers="hazard"),
        Column("Hazardous behaviour", "mono"), Column("Functional insufficiency", "mono"), Column("Kind"),
        Column("Description"), Column("Triggering conditions"), Column("ODD cells", "mono"), Column("Measures"),
        Column("Source", "mono"),
    )
    rows = tuple(
        (r.component, r.hazard, r.behaviour, r.insufficiency, r.kind, r.description, _join(r.triggers),
         _join(r.odd_cells), _join(r.measures), r.source)
        for r in report.rows
    )
    target_cols = (
        Column("Hazard", "mono", refers="hazard"), Column("Title"), Column("Tolerated rate", "num", "g"),
        Column("Per"), Column("Confidence %", "num", ".4g"), Column("Failures", "num", "d"),
        Column("Exposure needed", "num", ".6g"), Column("Exposure reported", "num", ".6g"), Column("Status", "status"),
        Column("Source", "mono"),
    )
    targets = tuple(
        (t.hazard, t.title, _r(t.rate), UNIT_TEXT[t.unit], _r(t.confidence * 100),
         t.failures, _r(t.required), _r(t.reported), t.status, t.source)
        for t in report.targets
    )
    scen_cols = (
        Column("Area", "num", "d"), Column("Scenario", "mono"), Column("Hazard", "mono", refers="hazard"),
        Column("ODD cell", "mono"), Column("Evidence kind"), Column("Evidence"), Column("Status", "status"),
    )
    scenarios = tuple((s.area, s.scenario, s.hazard, s.odd_cell, s.evidence_kind, s.evidence, s.status)
                      for s in report.scenarios)
    cov = report.coverage
    cov_cols = (
        Column("ML component", "mono"), Column("Data set", "mono"), Column("Role"), Column("ODD cell", "mono"),
        Column("Samples", "num", "d"), Column("Min", "num", "d"), Column("Status", "status"),
    )
    cov_rows = tuple(
        (d.component, d.identity, d.role, c.cell, c.samples, d.min_samples if d.role in ("verification", "test")
         else None, c.status)
        for d in cov.datasets for c in d.cells
    )
    ds_notes = tuple(
        f"{d.role} data set {d.identity} ({d.manifest}): {len(d.cells)} cells over "
        f"{', '.join(d.attributes)}, {d.total} samples, {d.outside_odd} outside the ODD"
        + (f"; not recorded: {', '.join(d.unrecorded)}" if d.unrecorded else "")
        for d in cov.datasets
    ) + tuple(f"{b.role} data set {b.identity} ({b.manifest}): refused: {b.reason}" for b in cov.refused)
    gap_cols = (Column("ML component", "mono"), Column("Metric", "mono"), Column("Attribute", "mono"),
                Column("Slices with a threshold", "mono"), Column("Slices without", "mono"))
    gaps = tuple((g.component, g.metric, g.attribute, _join(g.evidenced, ", "), _join(g.missing, ", "))
                 for g in cov.slice_gaps)
    return Document(
        kind="sotif",
        title="SOTIF analysis (ISO 21448) and ODD coverage",
        intro=(
            "Generated from the model; do not edit. Per ML component and hazard: the functional insufficiencies, "
            "the triggering conditions that reveal them, the hazardous behaviours and the measures.",
            "Validation target: the exposure t that shows the tolerated rate at the confidence C with k failures "
            "observed, t = chi2(C; 2k+2) / (2 rate) (k = 0: t = -ln(1 - C) / rate).",
        ),
        sheets=(
            Sheet("SOTIF", "Functional insufficiencies and triggering conditions", rows_cols, rows),
            Sheet("Validation targets", "Acceptance criteria and validation targets", target_cols, targets),
            Sheet("Scenarios", "Known unsafe scenarios (area 2) and residual unknown ones (area 3)", scen_cols,
                  scenarios),
            Sheet("ODD coverage", "ODD coverage of the data sets", cov_cols, cov_rows, notes=ds_notes),
            Sheet("Metric slices", "Metrics sliced on only some values of an ODD attribute", gap_cols, gaps),
        ),
    )


def _unlocated(item: Any) -> dict[str, Any]:
    return {k: v for k, v in _plain(item).items() if k != "location"}


def to_json_text(report: SotifReport) -> str:
    data: dict[str, Any] = {
        "schema": schemas.tag("sops-sotif"),
        "units": "rates per unit of exposure (h, km or scenario), confidence 0..1",
        "components": list(report.components),
        "rows": _plain(report.rows),
        "targets": _plain(report.targets),
        "scenarios": _plain(report.scenarios),
        "coverage": {  # where a manifest is named shows as the rows' data set; a Location carries a cwd path
            "datasets": [_unlocated(d) for d in report.coverage.datasets],
            "refused": _plain(report.coverage.refused),
            "slice_gaps": [_unlocated(g) for g in report.coverage.slice_gaps],
        },
    }
    return json_hidden(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)) + "\n"


def render(report: SotifReport, fmt: str) -> str | bytes:
    """`report` in `fmt` (one of FORMATS): text for md/csv/html/json, bytes for xlsx."""
    if fmt == "json":
        return to_json_text(report)
    return render_document(sotif_document(report), fmt)
