"""ODD coverage: each data set's sample counts over the cells of its ML component's ODD.

A data set with `coverage "manifest.json" min N` names a manifest (JSON, relative to the model root):

    {"dataset": "<identity>", "sha256": "<the data set's digest>",   ("md5" for a data set pinned to DVC)
     "attributes": ["light", "road_type"],
     "cells": [{"light": "night", "road_type": "urban", "samples": 180}, ...]}

The manifest is bound to the data set by its digest: a manifest counted over other data is refused (SOPS129).
The matrix has one row per ODD cell over the enumerated ODD attributes the manifest records (ranges are not
split); a cell with fewer than N samples in a verification data set is thin (SOPS130). Samples of cells that
lie in the attributes' domains but outside the ODD are counted apart. A metric sliced by an attribute should
be evidenced on every ODD value of it: slices the requirements leave out are reported (SOPS131).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.semantics import odd_scopes

MAX_MANIFEST_BYTES = 16 * 1024 * 1024
VERIFICATION_ROLES = ("verification", "test")
OK, THIN, EMPTY = "ok", "thin", "empty"


@dataclass(frozen=True)
class CellCount:
    cell: str  # "light=night, road_type=urban"
    samples: int
    status: str  # ok | thin | empty (thin/empty only flagged for verification data)


@dataclass(frozen=True)
class DatasetCoverage:
    component: str  # ML component qualified name
    role: str
    identity: str
    manifest: str
    sha256: str
    min_samples: int
    attributes: tuple[str, ...]  # the matrix's dimensions
    unrecorded: tuple[str, ...]  # enumerated ODD attributes the manifest does not record
    cells: tuple[CellCount, ...]
    total: int
    outside_odd: int  # samples in cells outside the ODD
    location: Location

    @property
    def flagged(self) -> tuple[CellCount, ...]:
        return tuple(c for c in self.cells if c.status != OK)


@dataclass(frozen=True)
class SliceGap:
    component: str
    metric: str  # the metric name
    attribute: str
    evidenced: tuple[str, ...]  # ODD values with a sliced threshold
    missing: tuple[str, ...]  # ODD values without one
    location: Location


@dataclass(frozen=True)
class RefusedManifest:
    component: str
    role: str
    identity: str
    manifest: str
    reason: str


@dataclass(frozen=True)
class OddCoverage:
    datasets: tuple[DatasetCoverage, ...]
    slice_gaps: tuple[SliceGap, ...]
    refused: tuple[RefusedManifest, ...]  # manifests unreadable, malformed or counted over other data
    diagnostics: tuple[Diagnostic, ...]


def cell_text(cell: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{a}={v}" for a, v in cell)


def _read(root: Path, ds: el.Dataset, odd: el.Odd) -> tuple[dict[str, object] | None, Diagnostic | None]:
    loc = ds.coverage_location or ds.location
    rel = ds.coverage_manifest or ""
    path = (root / rel).resolve()
    try:
        path.relative_to(root.resolve())
    except ValueError:
        return None, dg.make(dg.COVERAGE_MANIFEST_UNREADABLE, f"coverage manifest '{rel}' lies outside the model root",
                             loc, "keep manifests inside the model folder")
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_MANIFEST_BYTES + 1)
    except OSError as e:
        return None, dg.make(dg.COVERAGE_MANIFEST_UNREADABLE,
                             f"coverage manifest '{rel}' of data set '{ds.identity}' cannot be read: "
                             f"{e.strerror or type(e).__name__}", loc,
                             "the path is relative to the model root; write the manifest with the data set's "
                             "sample counts per ODD cell")
    if len(raw) > MAX_MANIFEST_BYTES:
        return None, dg.make(dg.COVERAGE_MANIFEST_UNREADABLE, f"coverage manifest '{rel}' is larger than 16 MiB",
                             loc, "count per cell, not per sample")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, dg.make(dg.COVERAGE_MANIFEST_UNREADABLE, f"coverage manifest '{rel}' is not valid JSON: {e}",
                             loc, "see docs/language/odd.md for the manifest format")
    problem = _shape_problem(data, odd)
    if problem:
        return None, dg.make(dg.COVERAGE_MANIFEST_UNREADABLE, f"coverage manifest '{rel}': {problem}", loc,
                             "see docs/language/odd.md for the manifest format")
    assert isinstance(data, dict)
    # the data set's digest: typed (sha256), or the md5 DVC records for a `dvc` pin; the manifest names it
    # under the same key
    kind, pin = ("sha256", ds.sha256) if ds.sha256 else ("md5", ds.md5)
    if pin is None or data.get(kind) != pin or data.get("dataset") != ds.identity:
        said = f"data set '{data.get('dataset')}' {kind} {str(data.get(kind))[:12]}\u2026"
        pinned = f"'{ds.identity}' {kind} {pin[:12]}\u2026" if pin else f"'{ds.identity}' (no sha256 or dvc pin)"
        return None, dg.make(dg.COVERAGE_MANIFEST_DIGEST,
                             f"coverage manifest '{rel}' counts {said}, but the model pins {pinned}", loc,
                             "recount the manifest from the pinned data set, or pin the data set the manifest "
                             "was counted from")
    return data, None


def _shape_problem(data: object, odd: el.Odd) -> str:
    if not isinstance(data, dict):
        return "the manifest is a JSON object"
    attrs = data.get("attributes")
    if not isinstance(attrs, list) or not all(isinstance(a, str) for a in attrs):
        return "'attributes' must be a list of ODD attribute names"
    for a in attrs:
        attr = odd.attribute(a)
        if attr is None or attr.is_range:
            return f"'{a}' is not an enumerated attribute of the ODD"
    cells = data.get("cells")
    if not isinstance(cells, list):
        return "'cells' must be a list of {attribute: value, ..., \"samples\": n}"
    for i, c in enumerate(cells):
        if not isinstance(c, dict) or set(c) != set(attrs) | {"samples"}:
            return f"cell {i + 1} must name each of {', '.join(attrs)} and 'samples'"
        n = c["samples"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            return f"cell {i + 1}: 'samples' must be a non-negative integer"
        for a in attrs:
            attr = odd.attribute(a)
            assert attr is not None
            if c[a] not in attr.domain:
                return f"cell {i + 1}: '{c[a]}' is not a value of ODD attribute '{a}' ({', '.join(attr.domain)})"
    return ""


def _matrix(comp: str, ds: el.Dataset, odd: el.Odd, data: dict[str, object]) -> DatasetCoverage:
    attrs = tuple(str(a) for a in data["attributes"])  # type: ignore[attr-defined]
    in_odd = {a.name: a.values for a in odd.attributes}
    counts: dict[tuple[tuple[str, str], ...], int] = {}
    outside = 0
    for c in data["cells"]:  # type: ignore[attr-defined]
        key = tuple((a, str(c[a])) for a in attrs)
        if all(v in in_odd[a] for a, v in key):
            counts[key] = counts.get(key, 0) + int(c["samples"])
        else:
            outside += int(c["samples"])
    dims = [a for a in odd.attributes if a.name in attrs]
    cells: list[tuple[tuple[str, str], ...]] = [()]
    for a in dims:
        cells = [cell + ((a.name, v),) for cell in cells for v in a.values]
    verification = ds.role in VERIFICATION_ROLES
    rows = []
    for cell in cells:
        n = counts.get(cell, 0)
        status = OK if not verification or n >= ds.min_samples else (EMPTY if n == 0 else THIN)
        rows.append(CellCount(cell_text(cell), n, status))
    unrecorded = tuple(a.name for a in odd.attributes if not a.is_range and a.name not in attrs)
    return DatasetCoverage(comp, ds.role, ds.identity, ds.coverage_manifest or "", ds.sha256 or "", ds.min_samples,
                           tuple(a.name for a in dims), unrecorded, tuple(rows), sum(counts.values()) + outside,
                           outside, ds.coverage_location or ds.location)


def slice_gaps(comp: el.Component, odd: el.Odd) -> list[SliceGap]:
    """Per metric name and attribute it is sliced by: the ODD values with no threshold for that slice."""
    out: list[SliceGap] = []
    if comp.ml is None:
        return out
    by: dict[tuple[str, str], tuple[set[str], Location]] = {}
    for m in comp.ml.metrics:
        if len(m.where) == 1:
            c = m.where[0]
            seen, loc = by.setdefault((m.name, c.attribute), (set(), m.location))
            seen.add(c.value)
    for (name, attribute), (seen, loc) in sorted(by.items()):
        attr = odd.attribute(attribute)
        if attr is None or attr.is_range:
            continue
        missing = tuple(v for v in attr.values if v not in seen)
        if missing:
            out.append(SliceGap(comp.qualified_name, name, attribute, tuple(v for v in attr.values if v in seen),
                                missing, loc))
    return out


def build_odd_coverage(model: Model) -> OddCoverage:
    scopes = odd_scopes(model)
    datasets: list[DatasetCoverage] = []
    gaps: list[SliceGap] = []
    refused: list[RefusedManifest] = []
    diags: list[Diagnostic] = []
    for q, comp in sorted(model.components.items()):
        if comp.ml is None:
            continue
        odd = scopes.get(q)
        if odd is None:
            continue
        for ds in comp.ml.datasets:
            if ds.coverage_manifest is None:
                continue
            data, d = _read(model.root, ds, odd)
            if d is not None:
                diags.append(d)
                refused.append(RefusedManifest(q, ds.role, ds.identity, ds.coverage_manifest, d.message))
                continue
            assert data is not None
            cov = _matrix(q, ds, odd, data)
            datasets.append(cov)
            for c in cov.flagged:
                diags.append(dg.make(
                    dg.ODD_CELL_THIN,
                    f"ODD cell {c.cell} has {c.samples} sample{'s' if c.samples != 1 else ''} in verification data "
                    f"set '{ds.identity}' of '{comp.name}' (at least {ds.min_samples} wanted)", cov.location,
                    "collect verification data for this cell, or restrict the ODD and argue the restriction"))
        for gap in slice_gaps(comp, odd):
            gaps.append(gap)
            diags.append(dg.make(
                dg.METRIC_SLICES_PARTIAL,
                f"metric '{gap.metric}' of '{comp.name}' has thresholds for {gap.attribute} = "
                f"{', '.join(gap.evidenced)} but none for {', '.join(gap.missing)}", gap.location,
                f"add `metric {gap.metric} ... where {gap.attribute} = {gap.missing[0]}`, or argue why that slice "
                "needs none"))
    return OddCoverage(tuple(datasets), tuple(gaps), tuple(refused), tuple(dg.sort_unique(diags)))


def share(cov: DatasetCoverage) -> float:
    """The share of ODD cells with enough samples (verification data) or any sample (other data)."""
    if not cov.cells:
        return math.nan
    return sum(1 for c in cov.cells if c.samples >= (cov.min_samples if cov.role in VERIFICATION_ROLES else 1)) \
        / len(cov.cells)
