"""Deltas between the analysis results of two model versions: every result that moved, section by section.

`sops diff` runs the one pipeline (analysis/pipeline.py) on both sides and compares what each command would
show. Rows are compared as records walked from the result dataclasses (every field, numbers to 10
significant digits), so a field added to a result later is compared without a line here. Presentation-only
fields (`source`: the file:line a row cites, `location`) are left out: moving a line is not a result change.

Sections (each present exactly when that result changed):
- fmeda: per safety goal SPFM/LFM/PMHF (value, target, status) with pass/fail flips, and FMEDA rows;
- fmea: rows added, removed or changed;
- hara: hazard rows (classification, derived ASIL, goals), goal rows and ASIL decompositions;
- profile: the standard of each package and its tables: required SIL, target band and architecture per safety
  function and per element, FHA class / objective / FDAL / achieved per flight hour, ISO 14971 risk zones;
- trace: coverage per rule, the violations (which requirement or evidence fails which rule), and the verdict
  rows of requirements, hazards and evidence as `sops trace` reports them;
- gate: items whose result or detail changed, newly failing ones listed apart;
- injection: fault-injection cases (expected reaction, planned injections) and each mechanism's measured
  coverage, bound and verdict;
- gsn: nodes whose status changed (or that appeared or went);
- demand: PFDavg / PFH per hazard with proof-tested or repairable events, and the IEC 61508-6 cross-check
  of each voting group;
- sotif: SOTIF rows, validation targets and area 2/3 scenario rows (analysis/sotif.py);
- odd_coverage: per data set its summary and its sample count per ODD cell, and the metric slice gaps: a new
  manifest or a changed data set digest moves these.
The fault-tree section (P(top), cut sets, events, goal targets) is computed in analysis/diff.py, which owns the
rename maps the cut sets need.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from safetyops_dsl.analysis.gate import FAIL, GateItem
from safetyops_dsl.analysis.pipeline import Results
from safetyops_dsl.analysis.trace_rows import coverage_rows, evidence_rows, hazard_rows, requirement_rows

PRESENTATION_FIELDS = frozenset({"source", "location"})

Record = dict[str, str]


@dataclass(frozen=True)
class FieldDelta:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class RowDelta:
    key: str
    status: str  # added | removed | changed
    fields: tuple[FieldDelta, ...] = ()


def text(value: Any) -> str:
    """A result value as compared and shown."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, str):
        return value
    if isinstance(value, tuple | list | frozenset | set):
        items = [text(v) for v in value]
        return "; ".join(items if isinstance(value, tuple | list) else sorted(items))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ", ".join(f"{k} {v}" for k, v in record(value).items() if v)
    return str(value)


def record(obj: Any, exclude: Iterable[str] = ()) -> Record:
    """Every field of a result dataclass as text, presentation fields left out."""
    skip = PRESENTATION_FIELDS | set(exclude)
    return {f.name: text(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.name not in skip}


def rows_delta(old: dict[str, Record], new: dict[str, Record]) -> list[RowDelta]:
    out: list[RowDelta] = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if a is None:
            out.append(RowDelta(k, "added"))
        elif b is None:
            out.append(RowDelta(k, "removed"))
        elif a != b:
            fields = tuple(FieldDelta(f, a.get(f, ""), b.get(f, "")) for f in sorted(set(a) | set(b))
                           if a.get(f) != b.get(f))
            out.append(RowDelta(k, "changed", fields))
    return out


@dataclass
class ResultDeltas:
    """Row deltas per section and subsection; `newly_failing` lists gate items that fail only on the new side."""

    sections: dict[str, dict[str, list[RowDelta]]] = field(default_factory=dict)
    newly_failing: list[GateItem] = field(default_factory=list)
    newly_passing: list[GateItem] = field(default_factory=list)

    def add(self, section: str, sub: str, rows: list[RowDelta]) -> None:
        if rows:
            self.sections.setdefault(section, {})[sub] = rows


# -- records per section ---------------------------------------------------------------------------------------------

Rename = Callable[[str], str]


def _same(text_: str) -> str:
    return text_


def fmeda_goal_records(r: Results, rename: Rename = _same) -> dict[str, Record]:
    out: dict[str, Record] = {}
    for g in r.fmeda.goals:
        # every field of the goal's record (the λ sums, hazards, ASIL, verdict...); its rows are the "rows"
        # subsection, and each metric is spelled out by name
        rec = record(g, exclude=("goal", "rows", "not_counted", "metrics"))
        rec["passed"] = text(g.passed)  # a property: the verdict over the metrics
        for m in g.metrics:
            rec[m.name] = text(m.value)
            rec[f"{m.name} target"] = text(m.target)
            rec[f"{m.name} status"] = text(m.status)
        out[rename(g.goal)] = rec
    return out


def fmeda_row_records(r: Results, rename: Rename = _same) -> dict[str, Record]:
    out: dict[str, Record] = {}
    for g in r.fmeda.goals:
        for row in g.rows:
            out[f"{rename(g.goal)}: {rename(row.event)}"] = record(row)
        for nc in g.not_counted:
            out[f"{rename(g.goal)}: {rename(nc.event)} (not counted)"] = record(nc)
    return out


def fmea_records(r: Results, rename: Rename = _same) -> dict[str, dict[str, Record]]:
    return {
        "rows": {rename(f"{row.instance}.{row.failure_mode}"): record(row) for row in r.fmea.rows},
        "hazards": {rename(h.name): record(h) for h in r.fmea.hazards},
    }


def hara_records(r: Results, rename: Rename = _same) -> dict[str, dict[str, Record]]:
    return {
        "hazards": {rename(h.hazard): record(h) for h in r.hara.hazards},
        "goals": {rename(g.goal): record(g) for g in r.hara.goals},
        "decompositions": {rename(d.parent): record(d) for d in r.hara.decompositions},
    }


def profile_records(r: Results, rename: Rename = _same) -> dict[str, dict[str, Record]]:
    """The standards' tables (analysis/profile_report.py): required SIL, target band and architecture per safety
    function, its elements, FHA classes / objectives / FDAL, ISO 14971 risk zones."""
    p = r.profile
    if p is None:
        return {"standards": {}, "sil": {}, "elements": {}, "fha": {}, "risk": {}, "dal": {}}
    return {
        "standards": {package: {"standard": std} for package, std in p.standards},
        "sil": {rename(s.function): record(s) for s in p.sil},
        "elements": {f"{rename(e.function)}: {rename(e.element)}": record(e) for e in p.elements},
        "fha": {rename(f.condition): record(f) for f in p.fha},
        "risk": {rename(k.hazard): record(k) for k in p.risk},
        "dal": {f"{rename(d.ffs)}: {rename(d.member)}": record(d) for d in p.dal},
    }


def _row_record(row: dict[str, Any]) -> Record:
    return {k: text(tuple(v) if isinstance(v, list) else v) if not isinstance(v, dict) else text(tuple(v.items()))
            for k, v in row.items() if k not in ("file", "line", "result_file")}  # where, not what


def trace_records(r: Results, rename: Rename = _same) -> dict[str, dict[str, Record]]:
    """The trace matrix as `sops trace` reports it: coverage per rule, the violations, and the verdict rows of
    requirements, hazards and evidence."""
    tg = r.trace
    return {
        "coverage": {row["rule"]: _row_record(row) for row in coverage_rows(r.coverage)},
        "violations": {f"{rule.rule}: {v.message}": {"required": text(rule.required)}
                       for rule in r.coverage.rules for v in rule.violations},
        "requirements": {rename(row["requirement"]): _row_record(row) for row in requirement_rows(tg)},
        "hazards": {rename(row["hazard"]): _row_record(row) for row in hazard_rows(tg)},
        "evidence": {rename(row["evidence"]): _row_record(row) for row in evidence_rows(tg)},
    }


def injection_records(r: Results, rename: Rename = _same) -> dict[str, dict[str, Record]]:
    """The campaign's cases (expected reaction, planned injections) and, with results, each mechanism's
    measured coverage and verdict."""
    cases = {rename(c.case_id.partition("/")[0]) + "/" + c.case_id.partition("/")[2]: record(c)
             for c in r.campaign.cases}
    measured = {m.mechanism: record(m) for m in r.injection.measurements} if r.injection is not None else {}
    return {"cases": cases, "mechanisms": measured}


def demand_records(r: Results, rename: Rename = _same) -> dict[str, dict[str, Record]]:
    """PFDavg/PFH per hazard, and each voting group's simplified and exact figures (the quadrature's error
    bounds are left out: they move with every change and say nothing about the function)."""
    return {
        "hazards": {rename(row.hazard): record(row, exclude=("groups", "pfd_avg_error_bound", "pfh_error_bound"))
                    for row in r.demand},
        "groups": {f"{rename(row.hazard)}: {g.group}": record(g) for row in r.demand for g in row.groups},
    }


def gate_records(items: list[GateItem]) -> dict[str, Record]:
    return {i.key: {"status": i.status, "detail": i.detail} for i in items}


def gsn_records(r: Results) -> dict[str, Record]:
    if r.case is None:
        return {}
    return {nid: record(n) for nid, n in r.case.nodes.items()}


def sotif_records(r: Results, rename: Rename = _same) -> dict[str, dict[str, Record]]:
    s = r.sotif
    return {
        "rows": {f"{rename(x.component)} {rename(x.hazard)} {x.behaviour}: {rename(x.insufficiency)}": record(x)
                 for x in s.rows},
        "targets": {rename(t.hazard): record(t) for t in s.targets},
        # a trigger has one row per sliced metric evidencing it: the metric key (first word) tells them apart
        "scenarios": {f"area {x.area}: {rename(x.hazard)} {rename(x.scenario)} {x.evidence_kind} "
                      f"{x.evidence.split(' ')[0]}": record(x) for x in s.scenarios},
    }


def odd_coverage_records(r: Results) -> dict[str, dict[str, Record]]:
    c = r.odd_coverage
    return {
        "datasets": {f"{d.component} {d.role} {d.identity}": record(d, exclude=("cells",)) for d in c.datasets}
        | {f"{b.component} {b.role} {b.identity}": record(b) for b in c.refused},
        "cells": {f"{d.component} {d.role} {d.identity}: {cell.cell}": record(cell)
                  for d in c.datasets for cell in d.cells},
        "slices": {f"{g.component} {g.metric} by {g.attribute}": record(g) for g in c.slice_gaps},
    }


def result_deltas(old: Results | None, new: Results | None, gate_old: list[GateItem], gate_new: list[GateItem],
                  rename: Rename = _same) -> ResultDeltas:
    """`rename` maps an old-side name (goal, hazard, event, instance path) to its new spelling. A side that is
    None (it has errors) contributes no results: only its gate items (the model check) are compared."""
    d = ResultDeltas()
    if old is not None and new is not None:
        d.add("fmeda", "goals", rows_delta(fmeda_goal_records(old, rename), fmeda_goal_records(new)))
        d.add("fmeda", "rows", rows_delta(fmeda_row_records(old, rename), fmeda_row_records(new)))
        fo, fn = fmea_records(old, rename), fmea_records(new)
        for sub in ("rows", "hazards"):
            d.add("fmea", sub, rows_delta(fo[sub], fn[sub]))
        ho, hn = hara_records(old, rename), hara_records(new)
        for sub in ("hazards", "goals", "decompositions"):
            d.add("hara", sub, rows_delta(ho[sub], hn[sub]))
        po, pn = profile_records(old, rename), profile_records(new)
        for sub in ("standards", "sil", "elements", "fha", "risk", "dal"):
            d.add("profile", sub, rows_delta(po[sub], pn[sub]))
        to, tn = trace_records(old, rename), trace_records(new)
        for sub in ("coverage", "violations", "requirements", "hazards", "evidence"):
            d.add("trace", sub, rows_delta(to[sub], tn[sub]))
        io, inew = injection_records(old, rename), injection_records(new)
        for sub in ("cases", "mechanisms"):
            d.add("injection", sub, rows_delta(io[sub], inew[sub]))
        d.add("gsn", "nodes", rows_delta(gsn_records(old), gsn_records(new)))
        do, dn = demand_records(old, rename), demand_records(new)
        for sub in ("hazards", "groups"):
            d.add("demand", sub, rows_delta(do[sub], dn[sub]))
        so, sn = sotif_records(old, rename), sotif_records(new)
        for sub in ("rows", "targets", "scenarios"):
            d.add("sotif", sub, rows_delta(so[sub], sn[sub]))
        oo, on = odd_coverage_records(old), odd_coverage_records(new)
        for sub in ("datasets", "cells", "slices"):
            d.add("odd_coverage", sub, rows_delta(oo[sub], on[sub]))
    go = {rename_key(i.key, rename): i for i in gate_old}
    gn = {i.key: i for i in gate_new}
    d.add("gate", "items", rows_delta({rename_key(k, rename): r for k, r in gate_records(gate_old).items()},
                                      gate_records(gate_new)))
    d.newly_failing = [i for k, i in gn.items() if i.status == FAIL and (k not in go or go[k].status != FAIL)]
    d.newly_passing = [i for k, i in gn.items() if i.status != FAIL and k in go and go[k].status == FAIL]
    return d


def rename_key(key: str, rename: Rename) -> str:
    check, sep, subject = key.partition(": ")
    return f"{check}{sep}{rename(subject)}" if sep else key
