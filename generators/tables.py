"""FMEA, FMEDA and HARA tables as Markdown, CSV, HTML, XLSX and JSON. Deterministic bytes.

Each report becomes a `Document`: a title, intro lines and one or more `Sheet`s (header + rows of typed
cells). Markdown, HTML and XLSX show every sheet (XLSX: one worksheet each, plus a Notes sheet); CSV holds the
document's main sheet only (`Document.csv_sheet`), because a CSV file is one table. JSON is written from the
analysis dataclasses themselves (every field, rates per hour, floats to 12 significant digits), not from the
display sheets.

Safety of the output:
- HTML: every model text goes through Jinja2 autoescaping; nothing is marked safe.
- Markdown: `|`, `<`, `>`, `&` and `\\` in cells are escaped, line breaks become spaces.
- CSV: a text cell starting with = + - @ TAB or CR gets a leading apostrophe (spreadsheet formula injection).
- XLSX: text is always stored as a string cell (data type "s"), never as a formula, and also gets the
  apostrophe where it starts like one; characters XML cannot hold are dropped.
- XLSX bytes are fixed: document properties carry a constant creation/modification time and the ZIP entries
  a constant timestamp, so the same input gives the same file.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from safetyops_dsl.generators.markdown import cell as md_cell

from safetyops_dsl import schemas
from safetyops_dsl.analysis.fmea import FmeaRow, FmeaTable
from safetyops_dsl.analysis.fmeda import FmedaReport, GoalFmeda, MetricResult, Status
from safetyops_dsl.analysis.hara import HaraTable
from safetyops_dsl.analysis.injection import MeasuredCoverage, Verdict, floor_bound
from safetyops_dsl.analysis.profile_report import ProfileReport
from safetyops_dsl.diagnostics import json_hidden, show_hidden
from safetyops_dsl.model.profiles import PROFILES
from safetyops_dsl.model.profiles.iso14971 import zone_text

Cell = str | int | float | None

FORMATS = ("md", "csv", "html", "xlsx", "json")
FIXED_TIME = datetime.datetime(2000, 1, 1, 0, 0, 0)
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text | num | status | class | mono
    spec: str = ".6g"  # format spec for num cells in Markdown/HTML (XLSX shows the same digits)
    unit: str = ""  # num cells: "%" (values in percent), "FIT", or "" (a plain number)
    refers: str = ""  # names of elements of this kind (hazard | goal): XLSX links them to their row


@dataclass(frozen=True)
class Sheet:
    name: str  # worksheet name (<= 31 characters) and anchor
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()
    holds: str = ""  # the rows are the elements of this kind (hazard | goal), named in the first column


@dataclass(frozen=True)
class Document:
    kind: str  # fmea | fmeda | hara
    title: str
    intro: tuple[str, ...]
    sheets: tuple[Sheet, ...]
    csv_sheet: int = 0
    notes: tuple[str, ...] = field(default=())


# -- small formatting helpers -------------------------------------------------------------------------------


def _r(x: float | None, digits: int = 10) -> float | None:
    """Round to `digits` significant digits: 97.50000000000001 -> 97.5 (deterministic display)."""
    if x is None:
        return None
    if x == 0 or not math.isfinite(x):
        return 0.0 if x == 0 else x
    return float(f"{x:.{digits}g}")


def _fit(rate_per_hour: float | None) -> float | None:
    return _r(rate_per_hour * 1e9) if rate_per_hour is not None else None


def _pct(fraction: float | None) -> float | None:
    return _r(fraction * 100.0) if fraction is not None else None


def _join(items: Sequence[str], sep: str = ", ") -> str:
    return sep.join(items)


def ftti_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1.0:
        return f"{seconds * 1000:g} ms"
    if seconds < 60.0 or seconds % 60:
        return f"{seconds:g} s"
    if seconds < 3600.0 or seconds % 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def _num_text(value: float | int, spec: str) -> str:
    if isinstance(value, int):
        return str(value)
    return format(value, spec)


# -- row anchors (the HTML here and the report site) ----------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def anchor(kind: str, name: str) -> str:
    """A row's id: stable (from the element's name), valid in HTML and readable in a URL."""
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9._:-]", "_", name)


# Row ids of the table sheets: (document kind, sheet name) -> (id prefix, columns whose values name the row).
# Other sheets use their own slug and first column; a repeated key gets -2, -3 (stable: rows are sorted).
ROW_KEYS: dict[tuple[str, str], tuple[str, tuple[int, ...]]] = {
    ("fmea", "FMEA"): ("fm", (0, 2)),
    ("fmea", "Hazards"): ("fmea-hz", (0,)),
    ("fmeda", "Summary"): ("fmeda", (0,)),
    ("fmeda", "Classification"): ("fmeda-row", (0, 1, 3)),
    ("fmeda", "Not counted"): ("fmeda-nc", (0, 1)),
    ("hara", "Hazards"): ("hara-hz", (0,)),
    ("hara", "Safety goals"): ("hara-sg", (0,)),
    ("hara", "Decompositions"): ("hara-dec", (0,)),
}


def row_ids(kind: str, sheet: Sheet) -> list[str]:
    prefix, cols = ROW_KEYS.get((kind, sheet.name), (slug(sheet.name), (0,)))
    seen: dict[str, int] = {}
    ids = []
    for row in sheet.rows:
        base = anchor(prefix, ".".join(str(row[c]) for c in cols if c < len(row) and row[c] not in (None, "")))
        n = seen[base] = seen.get(base, 0) + 1
        ids.append(base if n == 1 else f"{base}-{n}")
    return ids


# -- documents ----------------------------------------------------------------------------------------------


def fmea_document(table: FmeaTable) -> Document:
    cols = [
        Column("Element", "mono"),
        Column("Component"),
        Column("Failure mode", "mono"),
        Column("Kind"),
        Column("Description"),
        Column("λ (FIT)", "num", unit="FIT"),
        Column("p", "num"),
        Column("Safe (%)", "num", unit="%"),
        Column("Local effect", "mono"),
        Column("Next-level effect", "mono"),
        Column("System effect (hazards)", refers="hazard"),
        Column("Single point for", refers="hazard"),
        Column("Safety mechanisms"),
        Column("DC (%)", "num", unit="%"),
        Column("Worst S"),
        Column("ASIL"),
        Column("Residual λ (FIT)", "num", unit="FIT"),
        Column("Residual p", "num"),
    ]
    if table.has_aiag:
        cols += [Column("AIAG S", "num"), Column("AIAG O", "num"), Column("AIAG D", "num"), Column("AP", "status")]
    cols.append(Column("Source", "mono"))

    def row(r: FmeaRow) -> tuple[Cell, ...]:
        cells: list[Cell] = [
            r.instance,
            r.component + (" (ML)" if r.component_kind == "ml_component" else ""),
            r.failure_mode,
            r.kind,
            r.description,
            _fit(r.rate_per_hour),
            _r(r.probability),
            _pct(r.safe_fraction),
            _join(r.local_effects),
            _join(r.next_level_effects),
            _join(r.hazards),
            _join(r.single_point_for),
            _join([m.text() for m in r.mechanisms], "; "),
            _pct(r.coverage),
            f"S{r.worst_severity}" if r.worst_severity is not None else "",
            r.worst_asil or "",
            _fit(r.residual_rate_per_hour),
            _r(r.residual_probability),
        ]
        if table.has_aiag:
            a = r.aiag
            cells += [a.severity if a else None, a.occurrence if a else None, a.detection if a else None,
                      r.action_priority or ""]
        cells.append(r.source)
        return tuple(cells)

    hazards = Sheet(
        "Hazards",
        "Hazards referred to",
        (Column("Hazard", "mono"), Column("Title"), Column("S"), Column("ASIL")),
        tuple((h.name, h.title, f"S{h.severity}" if h.severity is not None else "", h.asil or "")
              for h in table.hazards),
        holds="hazard",
    )
    systems = sorted({r.system for r in table.rows})
    return Document(
        kind="fmea",
        title="FMEA — " + (", ".join(systems) if systems else "no system"),
        intro=(
            f"{len(table.rows)} failure modes of component instances. Generated from the model; do not edit.",
            "System effects and single points come from the minimal cut sets of the synthesised fault trees; "
            "residual = rate × (1 − safe fraction) × (1 − DC).",
        ),
        sheets=(Sheet("FMEA", "Failure modes and effects", tuple(cols), tuple(row(r) for r in table.rows)),
                hazards),
    )


def _metric_cells(m: MetricResult) -> list[Cell]:
    if m.name == "PMHF":
        return [_fit(m.value), _fit(m.target), m.status.value]
    return [_pct(m.value), _pct(m.target), m.status.value]


def _verdict(g: GoalFmeda) -> str:
    if all(m.status is Status.NA for m in g.metrics):
        return "n/a"
    return "pass" if g.passed else "fail"


def _measured_cells(measured: Sequence[MeasuredCoverage]) -> tuple[Cell, Cell, Cell]:
    def name(m: MeasuredCoverage) -> str:
        return m.mechanism.rpartition(".")[2]

    def share(m: MeasuredCoverage) -> str:
        return "n/a" if m.measured is None else f"{_pct(m.measured):g} % ({m.detected}/{m.injected})"

    def bound(m: MeasuredCoverage) -> str:
        return "n/a" if m.lower_bound is None else f"≥ {_pct(floor_bound(m.lower_bound)):g} % ({_pct(m.confidence):g} %)"

    return (_join([f"{name(m)} {share(m)}" for m in measured], "; "),
            _join([f"{name(m)} {bound(m)}" for m in measured], "; "),
            _join([f"{name(m)} {_claim(m)}" for m in measured], "; "))


def _claim(m: MeasuredCoverage) -> str:
    return "supported" if m.verdict is Verdict.SUPPORTED else f"NOT SUPPORTED ({m.verdict.value})" \
        if m.verdict is not Verdict.NOT_SUPPORTED else "NOT SUPPORTED"


def _measurement_sheet(report: FmedaReport) -> Sheet:
    cols = (
        Column("Mechanism", "mono"), Column("Claimed DC (%)", "num", "g", unit="%"), Column("Cases", "num"),
        Column("Reported", "num"), Column("Injected", "num"), Column("Detected in FTTI", "num"),
        Column("Late", "num"), Column("Measured DC (%)", "num", ".4g", unit="%"),
        Column("Lower bound (%)", "num", ".2f", unit="%"), Column("Confidence (%)", "num", "g", unit="%"),
        Column("ASIL B+ relies on it"), Column("Claim"),
    )
    rows = tuple((m.mechanism, _pct(m.claimed), m.cases, m.reported, m.injected, m.detected, m.late,
                  _pct(m.measured), _pct(floor_bound(m.lower_bound)) if m.lower_bound is not None else None,
                  _pct(m.confidence), "yes" if m.relied_on else "no",
                  _claim(m)) for m in report.measurements)
    return Sheet("Measured coverage", "Diagnostic coverage measured by fault injection", cols, rows, notes=(
        "Measured DC = detections within the FTTI / injections, over all cases of the mechanism; the lower "
        "bound is the one-sided Clopper-Pearson bound. A claim is supported when every case reported and the "
        "bound reaches the claimed DC; a detection slower than the FTTI counts as missed.",
    ))


def fmeda_document(report: FmedaReport) -> Document:
    summary_cols = (
        Column("Goal", "mono"), Column("ASIL"), Column("Hazards"), Column("T (h)", "num"),
        Column("Σλ (FIT)", "num", unit="FIT"), Column("λS (FIT)", "num", unit="FIT"), Column("λSPF (FIT)", "num", unit="FIT"),
        Column("λRF (FIT)", "num", unit="FIT"), Column("λMPF,D (FIT)", "num", unit="FIT"), Column("λMPF,L (FIT)", "num", unit="FIT"),
        Column("SPFM (%)", "num", ".2f", unit="%"), Column("SPFM target (%)", "num", "g", unit="%"), Column("SPFM", "status"),
        Column("LFM (%)", "num", ".2f", unit="%"), Column("LFM target (%)", "num", "g", unit="%"), Column("LFM", "status"),
        Column("PMHF (FIT)", "num", ".4g", unit="FIT"), Column("PMHF target (FIT)", "num", "g", unit="FIT"), Column("PMHF", "status"),
        Column("Verdict", "status"),
    )
    summary = []
    for g in report.goals:
        cells: list[Cell] = [
            g.goal, g.asil or "", _join(g.hazards), _r(g.mission_time_hours),
            _fit(g.total), _fit(g.safe), _fit(g.spf), _fit(g.rf), _fit(g.mpf_detected), _fit(g.mpf_latent),
        ]
        for m in g.metrics:
            cells += _metric_cells(m)
        cells.append(_verdict(g))
        summary.append(tuple(cells))
    rows_cols = (
        Column("Goal", "mono", refers="goal"), Column("Element", "mono"), Column("Component"), Column("Failure mode", "mono"),
        Column("Class", "class"), Column("Hazards"), Column("Together with (per cut set)", "mono"), Column("λ (FIT)", "num", unit="FIT"),
        Column("Safe (%)", "num", unit="%"), Column("Safety mechanisms"), Column("DC (%)", "num", unit="%"),
        Column("DC latent (%)", "num", unit="%"), Column("λS (FIT)", "num", unit="FIT"), Column("λSPF (FIT)", "num", unit="FIT"),
        Column("λRF (FIT)", "num", unit="FIT"), Column("λMPF,D (FIT)", "num", unit="FIT"), Column("λMPF,L (FIT)", "num", unit="FIT"),
    )
    measured = bool(report.measurements)
    row_columns: tuple[Column, ...] = rows_cols
    if measured:  # beside the claimed coverage: what the fault-injection campaign measured
        row_columns = rows_cols[:11] + (
            Column("Measured DC (detected/injected)"), Column("DC lower bound"), Column("Claim"),
        ) + rows_cols[11:]
    rows = []
    excluded = []
    for g in report.goals:
        for r in g.rows:
            row: tuple[Cell, ...] = (
                g.goal, r.instance, r.component, r.failure_mode, r.fault_class.value, _join(r.hazards),
                _join([" + ".join(p) for p in r.partners], "; "), _fit(r.rate_per_hour), _pct(r.safe_fraction),
                _join([m.text() for m in r.mechanisms], "; "), _pct(r.coverage),
            )
            if measured:
                row += _measured_cells(r.measured)
            rows.append(row + (
                _pct(r.latent_coverage), _fit(r.lambda_safe), _fit(r.lambda_spf), _fit(r.lambda_rf),
                _fit(r.lambda_mpf_detected), _fit(r.lambda_mpf_latent),
            ))
        for n in g.not_counted:
            excluded.append((g.goal, n.event, n.component, n.failure_mode, n.kind, n.quantity, n.reason,
                             _join(n.hazards), "yes" if n.single_point else "no"))
    excluded_cols = (
        Column("Goal", "mono", refers="goal"), Column("Event", "mono"), Column("Component"), Column("Failure mode", "mono"),
        Column("Kind"), Column("Rate / probability"), Column("Why not counted"), Column("Hazards"),
        Column("Alone a cut set"),
    )
    return Document(
        kind="fmeda",
        title="FMEDA — hardware metrics per safety goal (ISO 26262-5)",
        intro=(
            "Generated from the model and its synthesised fault trees; do not edit.",
            "SPFM = 1 − Σ(λSPF + λRF) / Σλ;  LFM = 1 − ΣλMPF,L / (Σλ − ΣλSPF − ΣλRF);  "
            "PMHF = Σ(λSPF + λRF) + Σ over hardware cut sets of order ≥ 2 of Πp / T.",
            "Targets (ISO 26262-5 Tables 4–6): B SPFM ≥ 90 %, LFM ≥ 60 %, PMHF < 100 FIT; "
            "C 97 %, 80 %, < 100 FIT; D 99 %, 90 %, < 10 FIT; none for ASIL A and QM (n/a).",
            "Σλ counts the hardware failure modes of the elements that have at least one mode in a cut set of "
            "the goal's hazards. ML errors, triggering conditions, systematic faults and modes without a rate "
            "are not counted.",
        ),
        sheets=(
            Sheet("Summary", "Metrics per safety goal", summary_cols, tuple(summary), holds="goal"),
            Sheet("Classification", "Classification of hardware failure modes", row_columns, tuple(rows)),
            Sheet("Not counted", "On the goal's cut sets but not random hardware faults", excluded_cols,
                  tuple(excluded)),
            *((_measurement_sheet(report),) if measured else ()),
        ),
        csv_sheet=1,
    )


def hara_document(table: HaraTable) -> Document:
    hz_cols: tuple[Column, ...] = (
        Column("Hazard", "mono"), Column("Title"), Column("Situation"), Column("S"), Column("E"), Column("C"),
        Column("ASIL"), Column("Safety goals", "mono", refers="goal"), Column("Safe state"), Column("FTTI"),
        Column("Source", "mono"),
    )
    hz_rows: tuple[tuple[Cell, ...], ...] = tuple(
        (
            h.hazard, h.title, h.situation, h.severity or "", h.exposure or "", h.controllability or "",
            h.asil or "", _join([g.name for g in h.goals]),
            _join([f"{g.name}: {g.safe_state}" if len(h.goals) > 1 else g.safe_state
                   for g in h.goals if g.safe_state], "; "),
            ftti_text(h.ftti_seconds), h.source,
        )
        for h in table.hazards
    )
    goal_cols: tuple[Column, ...] = (
        Column("Goal", "mono"), Column("Title"), Column("ASIL"), Column("Hazards", "mono", refers="hazard"),
        Column("Safe state"),
        Column("FTTI"), Column("Target (per h)", "num", "g"),
    )
    goal_rows: tuple[tuple[Cell, ...], ...] = tuple(
        (g.goal, g.title, g.asil or "", _join(g.hazards), g.safe_state, ftti_text(g.ftti_seconds),
         _r(g.target_per_hour))
        for g in table.goals
    )
    dec_cols = (
        Column("Parent", "mono", refers="goal"), Column("ASIL"), Column("Requirements"), Column("Allocated to", "mono"),
        Column("Scheme"), Column("Verdict", "status"), Column("Problems"),
    )
    dec_rows = tuple(
        (
            d.parent, d.parent_asil, _join([f"{p.requirement} {p.asil}" for p in d.parts]),
            _join([f"{p.requirement}: {', '.join(p.allocated_to)}" for p in d.parts], "; "),
            d.scheme, "pass" if d.ok else "fail", _join(d.problems, "; "),
        )
        for d in table.decompositions
    )
    title = "HARA — hazard analysis and risk assessment (ISO 26262-3)"
    intro: tuple[str, ...] = (
        "Generated from the model; do not edit. ASIL derived from S, E and C by ISO 26262-3 Table 4.",
        "FTTI of a hazard: the shortest among its safety goals.",
    )
    extra: tuple[Sheet, ...] = ()
    if table.profile is not None:
        standards = sorted({PROFILES[s].title for _, s in table.profile.standards if s in PROFILES})
        title = f"HARA — hazard analysis and risk assessment ({', '.join(standards)})"
        intro = ("Generated from the model; do not edit. Each package is analysed against the standard it declares: "
                 + "; ".join(f"{p} {PROFILES[s].title}" for p, s in table.profile.standards if s in PROFILES) + ".",
                 "S, E, C and ASIL apply to ISO 26262 packages only; the last sheets hold the other standards' tables.")
        extra = profile_sheets(table.profile)
        if all(std != "iso26262" for _, std in table.profile.standards):
            # no ISO 26262 package: its S, E, C and ASIL columns would be empty everywhere
            hz_cols, hz_rows = _drop(hz_cols, hz_rows, {3, 4, 5, 6})
            goal_cols, goal_rows = _drop(goal_cols, goal_rows, {2})
    return Document(
        kind="hara",
        title=title,
        intro=intro,
        sheets=(
            Sheet("Hazards", "Hazards", hz_cols, hz_rows, holds="hazard"),
            Sheet("Safety goals", "Safety goals", goal_cols, goal_rows, holds="goal"),
            Sheet("Decompositions", "ASIL decompositions (ISO 26262-9)", dec_cols, dec_rows),
            *extra,
        ),
    )


def _drop(cols: tuple[Column, ...], rows: tuple[tuple[Cell, ...], ...], drop: set[int]
          ) -> tuple[tuple[Column, ...], tuple[tuple[Cell, ...], ...]]:
    keep = [i for i in range(len(cols)) if i not in drop]
    return tuple(cols[i] for i in keep), tuple(tuple(r[i] for i in keep) for r in rows)


def sil_text(sil: int | None) -> str:
    if sil is None:
        return ""
    return {0: "none", 5: "beyond SIL 4"}.get(sil, f"SIL {sil}")


def profile_sheets(report: ProfileReport) -> tuple[Sheet, ...]:
    """The standards' own tables: SIL verification and Route 1H elements (IEC 61508/61511), FHA with the
    PSSA/SSA figures (ARP4761A), risk evaluation before and after control (ISO 14971); a sheet per table that
    has rows."""
    out: list[Sheet] = []
    cols: tuple[Column, ...]
    if report.sil:
        cols = (
            Column("Safety function", "mono", refers="goal"), Column("Title"), Column("Standard", "mono"),
            Column("Demand"), Column("Required SIL"), Column("SIL from"), Column("Risk graph path"),
            Column("Required PFD (LOPA)", "num", "g"),
            Column("Target band"), Column("SFF (lowest)", "num", ".4g", "%"), Column("HFT (lowest)", "num"),
            Column("Architecture allows"), Column("SC (lowest)", "num"), Column("Achieved PFDavg / PFH"),
            Column("Verdict", "status"), Column("Problems"),
        )
        rows: tuple[tuple[Cell, ...], ...] = tuple((r.function, r.title, r.standard, r.demand or "", sil_text(r.required_sil),
                      r.sil_source, _join(r.risk_graph, "; "), _r(r.required_value), r.target_band, _pct(r.sff), r.hft, sil_text(r.architectural_sil),
                      r.systematic_capability, r.achieved_text, r.verdict, _join(r.problems, "; "))
                     for r in report.sil)
        out.append(Sheet("SIL verification", "Safety functions: SIL required and verified (IEC 61508 / 61511)",
                         cols, rows, notes=(
                             "Required SIL from the LOPA: PFD target = tolerable frequency / (demand rate x IPL "
                             "PFDs), in the band [low, high) that holds it (IEC 61508-1 Tables 2 and 3).",
                             "Risk graph path: C F P -> row -> W column: outcome, on the package's calibrated "
                             "risk_graph (IEC 61508-5 Annex E / IEC 61511-3 Annex D); the calibration is the "
                             "model's. With a LOPA and a risk graph the stricter SIL governs.",
                             "Architecture: IEC 61508-2 Route 1H (Tables 2 and 3) under iec61508, IEC 61511-1:2016 "
                             "Table 6 minimum HFT under iec61511.",
                             "Achieved PFDavg / PFH: from the demand analysis (proof tests); 'not computed' where "
                             "the model has none.")))
        ecols = (
            Column("Safety function", "mono", refers="goal"), Column("Element", "mono"), Column("Component", "mono"),
            Column("Type"), Column("SFF", "num", ".4g", "%"), Column("HFT", "num"), Column("Route 1H allows"),
            Column("SC", "num"),
        )
        erows = tuple((e.function, e.element, e.component, e.element_type, _pct(e.sff), e.hft,
                       sil_text(e.route_1h_sil) if e.route_1h_sil != 0 else "not allowed", e.systematic_capability)
                      for e in report.elements)
        out.append(Sheet("Route 1H elements", "Elements of the safety functions (IEC 61508-2 Route 1H)", ecols,
                         erows, notes=("HFT: the smallest minimal cut set (common causes left out) holding one of the "
                                       "element's failures, minus one.",)))
    if report.fha:
        cols = (
            Column("Failure condition", "mono", refers="hazard"), Column("Title"), Column("Function"),
            Column("Phases"), Column("Class"), Column("Objective (per FH)", "num", "g"), Column("Qualitative"),
            Column("FDAL"), Column("Flight time (h)", "num", "g"), Column("At-risk time (h)", "num", "g"),
            Column("Achieved (per FH)", "num", ".3g"),
            Column("Single failures"), Column("Verdict", "status"), Column("Problems"),
        )
        rows = tuple((r.condition, r.title, r.function, _join(r.phases), r.classification, _r(r.objective_per_fh),
                      r.qualitative, r.fdal, _r(r.flight_time_h), _r(r.at_risk_h) if r.at_risk_h is not None else "flight",
                      _r(r.achieved_per_fh), _join(r.single_failures),
                      r.verdict, _join(r.problems, "; ")) for r in report.fha)
        out.append(Sheet("FHA", "Failure conditions: FHA, PSSA/SSA (ARP4761A, AC 25.1309-1B)", cols, rows, notes=(
            "Achieved: P(failure condition over one flight of the mission time) / flight time; a condition whose "
            "flight phases have declared durations (flight_phase) is exposed for their at-risk time only.",
            "Single failures: order-1 minimal cut sets (common causes included); none may lead to a Catastrophic "
            "condition.")))
    if report.dal:
        cols = (
            Column("FFS", "mono"), Column("Failure conditions", "mono", refers="hazard"), Column("Top class"),
            Column("Top FDAL"), Column("Member", "mono"), Column("Kind"), Column("Assigned"),
            Column("Independence"), Column("Option"), Column("Own worst effect", "mono"), Column("Own FDAL"),
            Column("Verdict", "status"), Column("Problems"),
        )
        rows = tuple((r.ffs, _join(r.conditions), r.top_class, r.top_level, r.member, r.kind, r.level,
                      _join(r.independence), r.option, r.own_condition, r.own_level, r.verdict,
                      _join(r.problems, "; ")) for r in report.dal)
        out.append(Sheet("FDAL-IDAL", "FDAL / IDAL assignment per functional failure set (ARP4754A/B 5.2)", cols,
                         rows, notes=(
                             "Top FDAL: from the most severe failure condition of the set (Catastrophic A ... No "
                             "Safety Effect E). Without both functional and item development independence every "
                             "member keeps it; with them the assignment must satisfy an option of the model's "
                             "dal_reduction (the user's copy of ARP4754A Table 3: not built in).",
                             "Own worst effect: the most severe failure condition a minimal cut set made of the "
                             "member's own elements causes alone; the member's level may not be below its FDAL.")))
    if report.risk:
        cols = (
            Column("Hazardous situation", "mono", refers="hazard"), Column("Title"), Column("Situation"),
            Column("Severity"), Column("Probability"), Column("Initial risk"), Column("Risk controls", "mono"),
            Column("Residual severity"), Column("Residual probability"), Column("Residual risk"),
            Column("Verdict", "status"),
        )
        rows = tuple((r.hazard, r.title, r.situation, r.severity, r.probability, zone_text(r.initial_zone),
                      _join(r.controls), r.residual_severity, r.residual_probability, zone_text(r.residual_zone),
                      r.verdict) for r in report.risk)
        out.append(Sheet("Risk evaluation", "Risk before and after control (ISO 14971)", cols, rows, notes=(
            "Zones from the model's risk_matrix: A acceptable, R reduce further or justify (benefit-risk), "
            "U unacceptable.",)))
    return tuple(out)


# -- Markdown -----------------------------------------------------------------------------------------------

_MD_PLAIN = re.compile(r"^[\w.:/, -]+$")  # safe inside a code span: no escaping needed


def _md_cell(value: Cell, col: Column) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _num_text(value, col.spec)
    raw = str(value)
    if col.kind == "mono" and _MD_PLAIN.match(raw):
        return f"`{raw}`"
    return md_cell(raw).strip()


def to_markdown(doc: Document) -> str:
    out = [f"# {md_cell(doc.title)}", ""]
    # intro lines are the generator's own text (never model text): written as is
    out += [line + "  " if i < len(doc.intro) - 1 else line for i, line in enumerate(doc.intro)]
    for sheet in doc.sheets:
        out += ["", f"## {md_cell(sheet.title)}", ""]
        if sheet.notes:  # one paragraph per note, then the table in its own block
            out += [x for n in sheet.notes for x in (md_cell(n), "")]
        if not sheet.rows:
            out.append("(none)")
            continue
        out.append("| " + " | ".join(md_cell(c.header) for c in sheet.columns) + " |")
        out.append("|" + "|".join("---:" if c.kind == "num" else "---" for c in sheet.columns) + "|")
        for row in sheet.rows:
            out.append("| " + " | ".join(_md_cell(v, c) for v, c in zip(row, sheet.columns, strict=True)) + " |")
    return "\n".join(out) + "\n"


# -- CSV ----------------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Every text cell of CSV and XLSX passes here: hidden characters (bidi controls, zero-width ones) are
    written out as `<U+202E>`, and a cell a spreadsheet could take for a formula gets a leading apostrophe."""
    text = show_hidden(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_value(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, ".10g") if isinstance(value, float) else str(value)
    return neutralise(str(value))


def to_csv(doc: Document) -> str:
    sheet = doc.sheets[doc.csv_sheet]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([neutralise(c.header) for c in sheet.columns])
    for row in sheet.rows:
        writer.writerow([_csv_value(v) for v in row])
    return buf.getvalue()


# -- HTML ---------------------------------------------------------------------------------------------------


def _html_cell(value: Cell, col: Column) -> dict[str, str]:
    if value is None or value == "":
        return {"text": "", "cls": ""}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"text": _num_text(value, col.spec), "cls": "num"}
    text = str(value)
    if col.kind == "status":
        return {"text": text, "cls": "st st-" + re.sub(r"[^a-z]", "", text.lower())}
    if col.kind == "class":
        return {"text": text, "cls": "fc fc-" + re.sub(r"[^a-z]", "", text.lower())}
    if col.kind == "mono":
        return {"text": text, "cls": "mono"}
    return {"text": text, "cls": ""}


def to_html(doc: Document) -> str:
    from safetyops_dsl.generators.templating import environment

    env = environment()
    sheets = [
        {
            "name": s.name,
            "anchor": re.sub(r"[^a-z0-9]+", "-", s.name.lower()).strip("-"),
            "title": s.title,
            "notes": s.notes,
            "columns": [{"header": c.header, "cls": "num" if c.kind == "num" else ""} for c in s.columns],
            "rows": [[_html_cell(v, c) for v, c in zip(r, s.columns, strict=True)] for r in s.rows],
            "ids": row_ids(doc.kind, s),
        }
        for s in doc.sheets
    ]
    return env.get_template("tables.html.j2").render(doc=doc, sheets=sheets)


# -- XLSX ---------------------------------------------------------------------------------------------------

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# Cell colours of the HTML tables (site.css): status and fault-class words -> (fill, font colour).
_OK, _BAD, _WARN, _INFO, _MUTED = ("DAFBE1", "116329"), ("FFEBE9", "A40E26"), ("FFF8C5", "7D4E00"), \
    ("DDF4FF", "0A3069"), (None, "57606A")
_COLOURS: dict[str, dict[str, tuple[str | None, str]]] = {
    "status": {"pass": _OK, "fail": _BAD, "na": _MUTED, "h": _BAD, "m": _WARN,
               # SOTIF (generators/sotif_report.py): validation targets, scenarios, ODD cells
               "met": _OK, "passed": _OK, "ok": _OK, "notmet": _BAD, "failed": _BAD, "empty": _BAD,
               "thin": _WARN, "open": _WARN, "missing": _WARN, "notreported": _WARN, "restricted": _MUTED,
               "noresults": _MUTED},
    "class": {"singlepoint": _BAD, "residual": _WARN, "multiplepoint": _INFO, "safe": (None, "116329")},
}


def xlsx_number(value: int | float, col: Column) -> tuple[int | float, str]:
    """The value as the HTML shows it (`col.spec`) and an Excel number format showing the same digits: the
    spreadsheet rounds as the report does. Percent columns become fractions with a % format; FIT columns
    say FIT; values the HTML writes in scientific notation stay scientific."""
    text = _num_text(value, col.spec)
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    digits = "0" + ("." + "0" * decimals if decimals else "") + ("E+00" if exponent else "")
    shown: int | float = int(text) if isinstance(value, int) else float(text)
    if col.unit == "%" and not exponent:
        return float(Decimal(text) / 100), digits + "%"
    if col.unit == "%":
        return shown, digits + '" %"'
    if col.unit == "FIT":
        return shown, digits + '" FIT"'
    return shown, digits


def _header_footer_text(text: str) -> str:
    """Header and footer text: `&` starts a code there, so a literal one is doubled."""
    return _ILLEGAL_XML.sub("", text).replace("&", "&&")


def to_xlsx(doc: Document) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="F0F3F6")
    link_font = Font(color="0550AE", underline="single")
    # element name -> (worksheet, row) of the sheet that holds that kind of element
    rows_of: dict[tuple[str, str], tuple[str, int]] = {}
    for sheet in doc.sheets:
        if sheet.holds:
            for i, row in enumerate(sheet.rows, start=2):
                rows_of.setdefault((sheet.holds, str(row[0])), (sheet.name[:31], i))
    for sheet in doc.sheets:
        ws = wb.create_sheet(sheet.name[:31])
        widths = [len(c.header) for c in sheet.columns]
        for j, col in enumerate(sheet.columns, start=1):
            cell = ws.cell(row=1, column=j)
            cell.value = _ILLEGAL_XML.sub("", show_hidden(col.header))
            cell.data_type = "s"
            cell.font = bold
            cell.fill = head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for i, row in enumerate(sheet.rows, start=2):
            for j, (value, col) in enumerate(zip(row, sheet.columns, strict=True), start=1):
                cell = ws.cell(row=i, column=j)
                if value is None or value == "":
                    continue
                if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                    cell.value, cell.number_format = xlsx_number(value, col)
                    shown = _num_text(value, col.spec) + (" FIT" if col.unit == "FIT" else "")
                else:
                    shown = str(value)
                    cell.value = neutralise(_ILLEGAL_XML.sub("", shown))
                    cell.data_type = "s"  # text, never a formula
                colour = _COLOURS.get(col.kind, {}).get(re.sub(r"[^a-z]", "", shown.lower()))
                if colour is not None:
                    fill, font = colour
                    cell.font = Font(bold=col.kind == "status", color=font)
                    if fill is not None:
                        cell.fill = PatternFill("solid", fgColor=fill)
                target = rows_of.get((col.refers, shown.split(",")[0].strip())) if col.refers else None
                if target is not None:
                    # an internal link (a location, no URL): model text never becomes a link target
                    cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{target[0]}'!A{target[1]}")
                    cell.font = link_font
                widths[j - 1] = max(widths[j - 1], len(shown))
        ws.freeze_panes = "A2"
        last = get_column_letter(len(sheet.columns))
        ws.auto_filter.ref = f"A1:{last}{max(len(sheet.rows) + 1, 1)}"
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = min(max(w + 2, 6), 60)
        # print: landscape A4, as wide as the page, header row on every page, page numbers
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
        ws.print_options.gridLines = True
        ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.7, bottom=0.7, header=0.3, footer=0.3)
        ws.oddHeader.left.text = _header_footer_text(doc.title)
        ws.oddHeader.right.text = _header_footer_text(sheet.title)
        ws.oddFooter.left.text = "Generated by sops from the model; do not edit"
        ws.oddFooter.right.text = "Page &P of &N"
    notes = wb.create_sheet("Notes")
    for i, line in enumerate((doc.title, *doc.intro, *doc.notes), start=1):
        cell = notes.cell(row=i, column=1)
        cell.value = neutralise(_ILLEGAL_XML.sub("", line))
        cell.data_type = "s"
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    notes.column_dimensions["A"].width = 120
    notes.page_setup.orientation = "landscape"
    notes.page_setup.paperSize = notes.PAPERSIZE_A4

    wb.properties.creator = "sops"
    wb.properties.lastModifiedBy = "sops"
    wb.properties.title = doc.title
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()  # not save_workbook(): it stamps the current time
    return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with constant entry timestamps and attributes (zipfile stamps the current time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            fixed.create_system = 3
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# -- JSON ---------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return _r(value, 12)
    return value


def to_json_text(kind: str, report: FmeaTable | FmedaReport | HaraTable) -> str:
    data: dict[str, Any] = {"schema": schemas.tag(f"sops-{kind}"), "units": "rates per hour, fractions 0..1"}
    if isinstance(report, FmeaTable):
        data["rows"] = [dict(_plain(r), event=r.event) for r in report.rows]
        data["hazards"] = _plain(report.hazards)
        data["has_aiag"] = report.has_aiag
    elif isinstance(report, FmedaReport):
        data["passed"] = report.passed
        data["goals"] = [dict(_plain(g), passed=g.passed) for g in report.goals]
        if report.measurements:
            data["measurements"] = _plain(report.measurements)
        else:  # without a campaign the rows stay as they were
            for g in data["goals"]:
                for row in g["rows"]:
                    del row["measured"]
    else:
        data["ok"] = report.ok
        data["hazards"] = _plain(report.hazards)
        data["goals"] = _plain(report.goals)
        data["decompositions"] = [dict(_plain(d), ok=d.ok) for d in report.decompositions]
        if report.profile is not None:
            data["profile"] = dict(_plain(report.profile), ok=report.profile.ok)
    return json_hidden(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)) + "\n"


# -- entry point --------------------------------------------------------------------------------------------


def render(report: FmeaTable | FmedaReport | HaraTable, fmt: str) -> str | bytes:
    """`report` in `fmt` (one of FORMATS): text for md/csv/html/json, bytes for xlsx."""
    if isinstance(report, FmeaTable):
        kind, doc = "fmea", fmea_document(report)
    elif isinstance(report, FmedaReport):
        kind, doc = "fmeda", fmeda_document(report)
    else:
        kind, doc = "hara", hara_document(report)
    if fmt == "json":
        return to_json_text(kind, report)
    return render_document(doc, fmt)


def render_document(doc: Document, fmt: str) -> str | bytes:
    """A sheet document in one of the table formats but JSON (whose shape is each report's own)."""
    if fmt == "md":
        return to_markdown(doc)
    if fmt == "csv":
        return to_csv(doc)
    if fmt == "html":
        return to_html(doc)
    if fmt == "xlsx":
        return to_xlsx(doc)
    raise ValueError(f"unknown format '{fmt}'")
