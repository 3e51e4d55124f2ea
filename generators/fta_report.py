"""Fault-tree analysis reports: text (terminals), JSON (machines), Markdown (reviews). Deterministic bytes.

Floats are written with `repr` precision (shortest round-trip form). JSON cannot hold infinity, so an
infinite RRW (the event is in every cut set) is written as the string "inf".
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Mapping, Sequence
from itertools import chain
from json.encoder import encode_basestring_ascii
from math import isfinite
from operator import attrgetter

from safetyops_dsl.generators.markdown import cell as md_cell

from safetyops_dsl import schemas
from safetyops_dsl.diagnostics import show_hidden
from safetyops_dsl.fta.result import FtaResult, ImportanceRow
from safetyops_dsl.fta.tree import FaultTree

TYPE_CHECKING = False  # typing itself is not imported at run time (`sops fta` start-up)
if TYPE_CHECKING:  # the model front end is not loaded for an Open-PSA input (`sops fta x.xml` start-up)
    from safetyops_dsl.analysis.demand import DemandRow
    from safetyops_dsl.analysis.targets import GoalCheck
    from safetyops_dsl.fta.count import Count
    from safetyops_dsl.fta.enumeration import EnumeratedCutSets
    from safetyops_dsl.fta.simulate import SimulationFigures
    from safetyops_dsl.fta.uncertainty import UncertaintyFigures

Pair = tuple[FaultTree, FtaResult]
# A tree whose exact analysis was refused (its BDD exceeds --max-bdd-nodes), why, and with --model-count its
# exact P(top) by weighted model counting (None without), with --limit-order its cut sets up to that order
# found without the BDD (None without); with --simulate it also has its Monte Carlo estimate.
Refusal = tuple[FaultTree, str, "Count | None", "EnumeratedCutSets | None"]

COUNT_METHOD = "weighted model counting (Ganak)"


def _exact_of(pairs: Sequence[Pair], refused: Mapping[str, Refusal]) -> dict[str, float | None]:
    """Each tree's exact P(top): from its BDD, or from the model counter where the BDD was refused."""
    exact = {tree.name: r.exact_probability for tree, r in pairs}
    exact.update({name: c.probability for name, (_, _, c, _) in refused.items() if c is not None})
    return exact


def _num(x: float | None) -> float | str | None:
    if x is None:
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


_IMPORTANCE_KEYS = ("birnbaum", "criticality", "diagnosis", "fussell_vesely", "probability", "raw", "rrw")


def _scalar(x: float | str | None) -> str:
    """One value as json.dumps(..., allow_nan=False) writes it."""
    if x is None:
        return "null"
    if isinstance(x, str):
        return encode_basestring_ascii(x)
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        if x != x or math.isinf(x):
            raise ValueError("Out of range float values are not JSON compliant: " + repr(x))
        return float.__repr__(x)
    return int.__repr__(x)


def _importance_json(rows: Sequence[ImportanceRow], indent: str) -> str:
    """The importance table as json.dumps(indent=2, sort_keys=True) writes it at `indent`, written directly:
    with `indent` json.dumps runs its pure-Python encoder, and on a tree of 10,000 events this table alone
    took longer than the analysis. tests/unit/generators/test_fta_report_json.py compares the two."""
    if not rows:
        return "{}"
    inner, innermost = indent + "  ", indent + "    "
    # One %-template a block of rows, the values read and written by C loops (attrgetter, map, zip): a
    # Python step per row or per value cost as much again as the analysis of a 10,000-event chain.
    template = (inner + "%s: {\n" + ",\n".join(f'{innermost}"{key}": %s' for key in _IMPORTANCE_KEYS)
                + "\n" + inner + "}")
    ordered = sorted(rows, key=_EVENT)
    # A block of rows at a time, joined once: the values, their texts and the template of all 10,000 rows
    # of a chain held megabytes at the report's peak.
    block = ",\n".join([template] * _ROWS_A_BLOCK)
    parts = ["{\n"]
    for start in range(0, len(ordered), _ROWS_A_BLOCK):
        rows_here = ordered[start:start + _ROWS_A_BLOCK]
        values = list(chain.from_iterable(map(_FIELDS, rows_here)))
        texts = _finite_float_texts(values)
        if texts is None:
            texts = [float.__repr__(x) if x.__class__ is float and x - x == 0.0 else _scalar(_num(x))  # finite
                     for x in values]
        row_texts = iter(texts)
        args = tuple(chain.from_iterable(zip(map(encode_basestring_ascii, map(_EVENT, rows_here)),
                                             *[row_texts] * len(_IMPORTANCE_KEYS), strict=True)))
        text = block if len(rows_here) == _ROWS_A_BLOCK else ",\n".join([template] * len(rows_here))
        parts += (text % args, ",\n")
    parts[-1] = "\n" + indent + "}"
    return "".join(parts)


_ROWS_A_BLOCK = 256


def _finite_float_texts(values: list[float]) -> list[str] | None:
    """float.__repr__ of each value when all are finite floats (else None), each distinct value written once:
    a table repeats few values (a 10,000-event chain: 70,000 values, 60 distinct) and the shortest
    round-trip digits of a float cost far more than a dict look-up."""
    if set(map(type, values)) != {float}:
        return None
    written = dict.fromkeys(values)
    if not isfinite(sum(written)):  # an inf or a nan among them, or a sum that overflows: the general way
        return None
    # -0.0 is 0.0 as a key: with a negative zero among them each value is written (a match of its bytes
    # across two values only sends the table this way too)
    if 0.0 in written and _NEGATIVE_ZERO in array("d", values).tobytes():
        return list(map(float.__repr__, values))
    return list(map(dict(zip(written, map(float.__repr__, written), strict=True)).__getitem__, values))


_NEGATIVE_ZERO = array("d", [-0.0]).tobytes()
_EVENT = attrgetter("event")
_FIELDS = attrgetter(*_IMPORTANCE_KEYS)


def _cut_sets_json(sets: Sequence[tuple[str, ...]], indent: str) -> str:
    """A list of cut sets as json.dumps(indent=2) writes it at `indent`, written directly (as the importance
    table, for the same reason: a thousand listed sets cost a tree of the Aralia set several milliseconds)."""
    if not sets:
        return "[]"
    inner, innermost = indent + "  ", indent + "    "
    sep = ",\n" + innermost
    parts = [inner + "[\n" + innermost + sep.join(map(encode_basestring_ascii, cs)) + "\n" + inner + "]" if cs
             else inner + "[]" for cs in sets]
    return "[\n" + ",\n".join(parts) + "\n" + indent + "]"


def _dumps(doc: dict[str, object], tables: dict[str, Sequence[ImportanceRow]],
           cut_sets: Mapping[str, Sequence[tuple[str, ...]]] | None = None) -> str:
    """json.dumps of the report with each importance table and list of cut sets put in at its placeholder."""
    indent = " " * 6
    written = {p.strip("\0"): _importance_json(rows, indent) for p, rows in tables.items()}
    written.update((p.strip("\0"), _cut_sets_json(sets, indent)) for p, sets in (cut_sets or {}).items())
    text = json.dumps(doc, indent=2, sort_keys=True, allow_nan=False)
    # The placeholders are the only JSON strings that start with an escaped NUL: one split finds them all
    # (a str.replace per placeholder copied the whole text once for each tree).
    head, *rest = text.split('"\\u0000')
    out = [head]
    for piece in rest:
        name, tail = piece.split('\\u0000"', 1)
        out += (written[name], tail)
    return "".join(out) + "\n"


def _json_doc(pairs: Sequence[Pair]) -> tuple[dict[str, object], dict[str, Sequence[ImportanceRow]],
                                              dict[str, Sequence[tuple[str, ...]]]]:
    """The JSON report with a placeholder for each importance table and list of cut sets (a string no name
    can hold: XML has no NUL, .sops names are identifiers), the tables and the lists by placeholder."""
    events = []
    tables: dict[str, Sequence[ImportanceRow]] = {}
    listed: dict[str, Sequence[tuple[str, ...]]] = {}
    for tree, r in pairs:
        placeholder = f"\0importance {len(tables)}\0"
        tables[placeholder] = r.importance
        sets_placeholder = f"\0cut sets {len(listed)}\0"
        listed[sets_placeholder] = r.cut_sets
        events.append(
            {
                "name": r.tree,
                "probability": r.probability,
                "approximation": r.options.approximation.value,
                "exact_probability": r.exact_probability,
                "rare_event_probability": r.rare_event_probability,
                "mcub_probability": r.mcub_probability,
                "cut_set_count": r.cut_set_count,
                "cut_sets_by_order": {str(k): v for k, v in sorted(r.cut_sets_by_order.items())},
                "cut_sets": sets_placeholder,
                "cut_sets_truncated": r.cut_sets_truncated,
                "importance": placeholder,
                "warnings": list(r.warnings),
                "notes": list(tree.notes),
            }
        )
    return {"schema": schemas.tag("sops-fta"), "top_events": events}, tables, listed


def to_json(pairs: Sequence[Pair]) -> str:
    return _dumps(*_json_doc(pairs))


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf"
    return f"{x:.6g}"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        out = [c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)]
        return "  ".join(out).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _p_of(tree: FaultTree, cs: tuple[str, ...]) -> float:
    return math.prod(tree.basic_events[e].probability for e in cs)


def to_text(pairs: Sequence[Pair]) -> str:
    out: list[str] = []
    for tree, r in pairs:
        if out:
            out.append("")
        title = f"Top event {r.tree}" + (f": {tree.label}" if tree.label else "")
        out += [title, "=" * len(title)]
        summary = [
            ("probability", f"{_fmt(r.probability)} ({r.options.approximation.value})"),
            ("exact (BDD)", _fmt(r.exact_probability)),
            ("rare-event", _fmt(r.rare_event_probability)),
            ("MCUB", _fmt(r.mcub_probability)),
            ("cut sets", str(r.cut_set_count)),
            ("by order", ", ".join(f"{k}: {v}" for k, v in sorted(r.cut_sets_by_order.items())) or "-"),
        ]
        width = max(len(k) for k, _ in summary)
        out += [f"{k.ljust(width)}  {v}" for k, v in summary]
        for w in r.warnings:
            out.append(f"warning: {w}")
        for n in tree.notes:
            out.append(f"note: {n}")
        shown = f"{len(r.cut_sets)} most probable of {r.cut_set_count}" if r.cut_sets_truncated else "all"
        out += ["", f"Minimal cut sets ({shown})"]
        rows = [
            [str(i), str(len(cs)), _fmt(_p_of(tree, cs)), " ".join(cs) or "(empty set: top event is always true)"]
            for i, cs in enumerate(r.cut_sets, start=1)
        ]
        out += _table(["#", "order", "probability", "events"], rows, {0, 1, 2})
        if r.importance:
            out += ["", "Importance"]
            rows = [
                [i.event, _fmt(i.probability), _fmt(i.fussell_vesely), _fmt(i.birnbaum), _fmt(i.criticality),
                 _fmt(i.diagnosis), _fmt(i.raw), _fmt(i.rrw)]
                for i in r.importance
            ]
            out += _table(["event", "p", "FV", "MIF", "CIF", "DIF", "RAW", "RRW"], rows, set(range(1, 8)))
    return "\n".join(out) + "\n"


def _md_table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows]
    return lines


def to_markdown(pairs: Sequence[Pair]) -> str:
    out = ["# Fault-tree analysis", "", "## Summary", ""]
    rows = [
        [f"`{r.tree}`", md_cell(tree.label) or "-", _fmt(r.probability), r.options.approximation.value,
         _fmt(r.exact_probability), _fmt(r.rare_event_probability), _fmt(r.mcub_probability), str(r.cut_set_count)]
        for tree, r in pairs
    ]
    out += _md_table(["top event", "label", "P", "method", "exact", "rare-event", "MCUB", "cut sets"], rows, {2, 4, 5, 6, 7})
    for tree, r in pairs:
        out += ["", f"## `{r.tree}`", ""]
        by_order = ", ".join(f"order {k}: {v}" for k, v in sorted(r.cut_sets_by_order.items()))
        out.append(f"{r.cut_set_count} minimal cut sets" + (f" ({by_order})." if by_order else "."))
        for w in r.warnings:
            out += ["", f"> **Warning:** {w}"]
        for n in tree.notes:
            out += ["", f"> **Note:** {md_cell(n)}"]
        shown = f"the {len(r.cut_sets)} most probable" if r.cut_sets_truncated else "all"
        out += ["", f"### Minimal cut sets ({shown})", ""]
        rows = [
            [str(i), str(len(cs)), _fmt(_p_of(tree, cs)), ", ".join(f"`{e}`" for e in cs) or "(empty set)"]
            for i, cs in enumerate(r.cut_sets, start=1)
        ]
        out += _md_table(["#", "order", "probability", "events"], rows, {0, 1, 2})
        if r.importance:
            out += ["", "### Importance", ""]
            rows = [
                [f"`{i.event}`", _fmt(i.probability), _fmt(i.fussell_vesely), _fmt(i.birnbaum), _fmt(i.criticality),
                 _fmt(i.diagnosis), _fmt(i.raw), _fmt(i.rrw)]
                for i in r.importance
            ]
            out += _md_table(["event", "p", "FV", "MIF", "CIF", "DIF", "RAW", "RRW"], rows, set(range(1, 8)))
    return "\n".join(out) + "\n"


def _goal_rows(checks: Sequence[GoalCheck]) -> list[list[str]]:
    rows = []
    for c in checks:
        verdict = "pass" if c.passed else ("no tree for " + ", ".join(c.missing) if c.missing else "FAIL")
        rows.append([c.goal, ", ".join(c.hazards) or "-", _fmt(c.target_per_hour), _fmt(c.achieved_per_hour), verdict])
    return rows


def _ratio(a: float | None, b: float) -> str:
    return "-" if a is None or b == 0.0 else f"{a / b:.3f}"


_DEMAND_HEADER = ["top event", "mission h", "PFDavg", "error bound", "PFH /h", "P(top) at end",
                  "PFDavg 61508-6", "PFH 61508-6 /h"]
_GROUP_HEADER = ["group", "arch", "lambda_DU /h", "beta", "T1 h", "PTC", "MRT h", "PFDavg formula",
                 "PFDavg exact", "ratio", "PFH formula /h", "PFH exact /h", "ratio"]


def _demand_rows(demand: Sequence[DemandRow]) -> list[list[str]]:
    return [[d.hazard, f"{d.mission_time_hours:g}", _fmt(d.pfd_avg), f"{d.pfd_avg_error_bound:.1e}", _fmt(d.pfh),
             _fmt(d.pfd_at_mission_end), _fmt(d.pfd_simplified), _fmt(d.pfh_simplified)] for d in demand]


def _group_rows(d: DemandRow) -> list[list[str]]:
    return [[g.group, g.architecture, _fmt(g.lambda_du), f"{g.beta:g}", f"{g.proof_test_interval_hours:g}",
             f"{g.proof_test_coverage:g}", f"{g.mrt_hours:g}", _fmt(g.pfd_formula), _fmt(g.pfd_exact),
             _ratio(g.pfd_formula, g.pfd_exact), _fmt(g.pfh_formula), _fmt(g.pfh_exact),
             _ratio(g.pfh_formula, g.pfh_exact)] for g in d.groups]


def demand_json(demand: Sequence[DemandRow]) -> list[dict[str, object]]:
    import dataclasses  # only trees with demand rows need it (`sops fta x.xml` start-up)

    return [dataclasses.asdict(d) for d in demand]


def _demand_text(demand: Sequence[DemandRow]) -> str:
    title = "Demand: PFDavg and PFH as time averages over the mission (BDD), IEC 61508-6 formulas beside"
    out = ["", title, "=" * len(title)]
    out += _table(_DEMAND_HEADER, _demand_rows(demand), set(range(1, 8)))
    for d in demand:
        if d.note:
            out.append(f"note ({d.hazard}): {d.note}")
        if d.groups:
            out += ["", f"{d.hazard}: voting groups (formula vs the exact time average of the group alone)"]
            out += _table(_GROUP_HEADER, _group_rows(d), set(range(2, 13)))
    return "\n".join(out) + "\n"


def _demand_md(demand: Sequence[DemandRow]) -> str:
    out = ["", "## Demand: PFDavg and PFH", "",
           "Time averages over the mission on the BDD; the IEC 61508-6 simplified formulas beside them.", ""]
    out += _md_table(_DEMAND_HEADER, [[f"`{r[0]}`", *r[1:]] for r in _demand_rows(demand)], set(range(1, 8)))
    for d in demand:
        if d.note:
            out += ["", f"> **Note ({d.hazard}):** {md_cell(d.note)}"]
        if d.groups:
            out += ["", f"### `{d.hazard}`: voting groups", ""]
            out += _md_table(_GROUP_HEADER, [[f"`{r[0]}`", *r[1:]] for r in _group_rows(d)], set(range(2, 13)))
    return "\n".join(out) + "\n"


def _figures_json(f: UncertaintyFigures) -> dict[str, object]:
    return {"trials": f.trials, "seed": f.seed, "mean": f.mean, "std": f.std, "p05": f.p05, "p50": f.p50,
            "p95": f.p95, "error_factor": _num(f.error_factor),
            "histogram": [{"lower": b.lower, "upper": b.upper, "count": b.count} for b in f.histogram]}


def uncertainty_json(figures: Mapping[str, UncertaintyFigures]) -> dict[str, dict[str, object]]:
    """Per top event the distribution of P(top) at the mission time; `pfd_avg`: that of the PFDavg over the same
    trials, for a tree whose events depend on time (demand mode)."""
    out: dict[str, dict[str, object]] = {}
    for name, f in sorted(figures.items()):
        out[name] = _figures_json(f)
        if f.pfd_avg is not None:
            out[name]["pfd_avg"] = _figures_json(f.pfd_avg)
    return out


def _uncertainty_rows(figures: Mapping[str, UncertaintyFigures]) -> list[list[str]]:
    return [[name, str(f.trials), str(f.seed), _fmt(f.mean), _fmt(f.std), _fmt(f.p05), _fmt(f.p50), _fmt(f.p95),
             _fmt(f.error_factor)] for name, f in sorted(figures.items())]


def _pfd_uncertainty(figures: Mapping[str, UncertaintyFigures]) -> dict[str, UncertaintyFigures]:
    return {name: f.pfd_avg for name, f in figures.items() if f.pfd_avg is not None}


_UNCERTAINTY_HEADER = ["top event", "trials", "seed", "mean", "std", "p05", "p50", "p95", "error factor"]


def simulation_json(pairs: Sequence[Pair], figures: Mapping[str, SimulationFigures],
                    refused: Mapping[str, Refusal] | None = None) -> dict[str, dict[str, object]]:
    exact = _exact_of(pairs, refused or {})
    out: dict[str, dict[str, object]] = {}
    for name, f in sorted(figures.items()):
        out[name] = {"samples": f.samples, "seed": f.seed, "hits": f.hits, "estimate": f.estimate,
                     "lower": f.lower, "upper": f.upper, "confidence": f.confidence, "interval": f.method,
                     "exact_in_interval": _within(exact.get(name), f)}
    return out


def _within(exact: float | None, f: SimulationFigures) -> bool | None:
    return None if exact is None else f.lower <= exact <= f.upper


def _simulation_rows(pairs: Sequence[Pair], figures: Mapping[str, SimulationFigures],
                     refused: Mapping[str, Refusal]) -> list[list[str]]:
    exact = _exact_of(pairs, refused)
    rows = []
    for name, f in sorted(figures.items()):
        inside = _within(exact.get(name), f)
        rows.append([name, str(f.samples), str(f.seed), str(f.hits), _fmt(f.estimate), _fmt(f.lower), _fmt(f.upper),
                     "refused" if exact.get(name) is None and name in refused else _fmt(exact.get(name)),
                     "-" if inside is None else ("yes" if inside else "NO")])
    return rows


def _estimate_line(f: SimulationFigures | None) -> str:
    if f is None:
        return "-"
    return (f"{_fmt(f.estimate)} (Monte Carlo; {f.confidence * 100:g} % interval {_fmt(f.lower)} to "
            f"{_fmt(f.upper)}, {f.samples} samples)")


def _count_line(c: Count | None) -> str | None:
    if c is None:
        return None
    return (f"{_fmt(c.probability)} (model counting, Ganak: {c.counted} of {c.modules} modules counted, "
            f"{c.variables} variables, {c.clauses} clauses; no cut sets or importance)")


def _enumerated_line(e: EnumeratedCutSets) -> str:
    by_order = ", ".join(f"{k}: {v}" for k, v in e.by_order().items()) or "none"
    head = f"{len(e.cut_sets)} of order <= {e.limit_order} ({by_order}), without the BDD: "
    if e.zdd_nodes is not None:
        return (head + f"a ZDD built from the formula, truncated at order {e.limit_order} ({e.zdd_nodes} nodes "
                f"made), over its {e.events} events")
    return head + f"the tree evaluated on {e.evaluated} sets of at most {e.limit_order} of its {e.events} events"


def _enumerated_rows(e: EnumeratedCutSets) -> list[tuple[int, tuple[str, ...], float]]:
    pairs = zip(e.cut_sets, e.probabilities, strict=True)  # `ranked` gives every set its probability
    return [(i, cs, p) for i, (cs, p) in enumerate(pairs, start=1) if i <= e.shown]


def _enumerated_title(e: EnumeratedCutSets) -> str:
    return "all" if e.shown == len(e.cut_sets) else f"{e.shown} most probable of {len(e.cut_sets)}"


def _refused_text(refused: Mapping[str, Refusal], figures: Mapping[str, SimulationFigures]) -> list[str]:
    out: list[str] = []
    for name, (tree, reason, count, found) in refused.items():
        title = f"Top event {name}" + (f": {tree.label}" if tree.label else "")
        out += ["", title, "=" * len(title), f"exact (BDD)  refused: {reason}"]
        if (line := _count_line(count)) is not None:
            out.append(f"exact        {line}")
        if name in figures or (count is None and found is None):
            out.append(f"estimate     {_estimate_line(figures.get(name))}")
        if found is not None:
            out.append(f"cut sets     {_enumerated_line(found)}")
        out += [f"note: {n}" for n in tree.notes]
        if found is not None and found.cut_sets:
            out += ["", f"Minimal cut sets of order <= {found.limit_order} ({_enumerated_title(found)})"]
            out += _table(["#", "order", "probability", "events"],
                          [[str(i), str(len(cs)), _fmt(p), " ".join(cs) or "(empty set: top event is always true)"]
                           for i, cs, p in _enumerated_rows(found)], {0, 1, 2})
    return out


def _refused_md(refused: Mapping[str, Refusal], figures: Mapping[str, SimulationFigures]) -> list[str]:
    out: list[str] = []
    for name, (tree, reason, count, found) in refused.items():
        out += ["", f"## `{name}`", "", f"> **Exact analysis refused:** {md_cell(reason)}", ""]
        if (line := _count_line(count)) is not None:
            out += [f"Exact P(top): {line}.", ""]
        if name in figures or (count is None and found is None):
            out.append(f"Estimate of P(top): {_estimate_line(figures.get(name))}.")
        if found is not None:
            out += [""] if out[-1] else []
            out.append(f"Minimal cut sets: {_enumerated_line(found)}.")
        out += [x for n in tree.notes for x in ("", f"> **Note:** {md_cell(n)}")]
        if found is not None and found.cut_sets:
            out += ["", f"### Minimal cut sets of order <= {found.limit_order} ({_enumerated_title(found)})", ""]
            out += _md_table(["#", "order", "probability", "events"],
                             [[str(i), str(len(cs)), _fmt(p), ", ".join(f"`{e}`" for e in cs) or "(empty set)"]
                              for i, cs, p in _enumerated_rows(found)], {0, 1, 2})
    return out


_SIMULATION_HEADER = ["top event", "samples", "seed", "hits", "estimate", "lower", "upper", "exact", "inside"]
_SIMULATION_TITLE = "Simulation: P(top) by Monte Carlo, 95 % Clopper-Pearson interval"


def render(pairs: Sequence[Pair], fmt: str, goal_checks: Sequence[GoalCheck] = (),
           demand: Sequence[DemandRow] = (), uncertainty: Mapping[str, UncertaintyFigures] | None = None,
           simulation: Mapping[str, SimulationFigures] | None = None,
           refused: Mapping[str, Refusal] | None = None) -> str:
    """`goal_checks`: the safety goals' quantitative targets against these trees (models only); `demand`: the
    PFDavg / PFH rows of the trees with proof-tested or repaired events; `refused`: by name, the trees left out
    of `pairs` because their exact analysis was refused, reported by their `simulation` figures alone."""
    refused = refused or {}
    figures = simulation or {}
    header = ["safety goal", "hazards", "target /h", "achieved /h", "result"]
    if fmt == "json":
        doc, tables, listed = _json_doc(pairs)
        if goal_checks:
            doc["safety_goals"] = [
                {"name": c.goal, "hazards": list(c.hazards), "target_per_hour": c.target_per_hour,
                 "achieved_per_hour": c.achieved_per_hour, "passed": c.passed, "missing_trees": list(c.missing)}
                for c in goal_checks
            ]
        if demand:
            doc["demand"] = demand_json(demand)
        if uncertainty:
            doc["uncertainty"] = uncertainty_json(uncertainty)
        if simulation:
            doc["simulation"] = simulation_json(pairs, simulation, refused)
        if refused:
            doc["refused"] = {name: reason for name, (_, reason, _, _) in sorted(refused.items())}
            if founds := {name: e for name, (_, _, _, e) in sorted(refused.items()) if e is not None}:
                doc["enumerated_cut_sets"] = {
                    name: {"limit_order": e.limit_order, "cut_set_count": len(e.cut_sets),
                           "cut_sets_by_order": {str(k): v for k, v in e.by_order().items()},
                           "cut_sets": [list(cs) for _, cs, _ in _enumerated_rows(e)],
                           "cut_sets_truncated": e.shown < len(e.cut_sets),
                           "events": e.events, "method": "enumeration" if e.zdd_nodes is None else "zdd",
                           "zdd_nodes": e.zdd_nodes, "sets_evaluated": e.evaluated}
                    for name, e in founds.items()}
            if counts := {name: c for name, (_, _, c, _) in sorted(refused.items()) if c is not None}:
                doc["model_count"] = {name: {"exact_probability": c.probability, "method": COUNT_METHOD,
                                             "modules": c.modules, "counted_modules": c.counted,
                                             "variables": c.variables, "clauses": c.clauses}
                                      for name, c in counts.items()}
        return _dumps(doc, tables, listed)
    if fmt == "md":
        text = to_markdown(pairs)
        if refused:
            text += "\n".join(_refused_md(refused, figures)) + "\n"
        if goal_checks:
            text += "\n## Safety goal targets\n\n" + "\n".join(
                _md_table(header, [[f"`{r[0]}`", *r[1:]] for r in _goal_rows(goal_checks)], {2, 3})
            ) + "\n"
        text += _demand_md(demand) if demand else ""
        if uncertainty:
            text += "\n## Uncertainty (Monte Carlo)\n\n" + "\n".join(_md_table(
                _UNCERTAINTY_HEADER, [[f"`{r[0]}`", *r[1:]] for r in _uncertainty_rows(uncertainty)],
                set(range(1, 9)))) + "\n"
            if pfd := _pfd_uncertainty(uncertainty):
                text += "\n### PFDavg over the same trials\n\n" + "\n".join(_md_table(
                    _UNCERTAINTY_HEADER, [[f"`{r[0]}`", *r[1:]] for r in _uncertainty_rows(pfd)],
                    set(range(1, 9)))) + "\n"
        if simulation:
            text += f"\n## {_SIMULATION_TITLE}\n\n" + "\n".join(_md_table(
                _SIMULATION_HEADER, [[f"`{r[0]}`", *r[1:]] for r in _simulation_rows(pairs, simulation, refused)],
                set(range(1, 8)))) + "\n"
        return text
    text = to_text(pairs) if pairs else ""
    if refused:
        text += "\n".join(_refused_text(refused, figures)[0 if pairs else 1:]) + "\n"
    if goal_checks:
        title = "Safety goal targets (achieved = P(top) / mission time)"
        text += "\n" + title + "\n" + "=" * len(title) + "\n"
        text += "\n".join(_table(header, _goal_rows(goal_checks), {2, 3})) + "\n"
    if demand:
        text += _demand_text(demand)
    if uncertainty:
        title = "Uncertainty: P(top) over Monte Carlo trials (error factor = sqrt(p95 / p05))"
        text += "\n" + title + "\n" + "=" * len(title) + "\n"
        text += "\n".join(_table(_UNCERTAINTY_HEADER, _uncertainty_rows(uncertainty), set(range(1, 9)))) + "\n"
        if pfd := _pfd_uncertainty(uncertainty):
            title = "Uncertainty: PFDavg over the same trials (time average on the BDD per trial)"
            text += "\n" + title + "\n" + "=" * len(title) + "\n"
            text += "\n".join(_table(_UNCERTAINTY_HEADER, _uncertainty_rows(pfd), set(range(1, 9)))) + "\n"
    if simulation:
        text += "\n" + _SIMULATION_TITLE + "\n" + "=" * len(_SIMULATION_TITLE) + "\n"
        text += "\n".join(_table(_SIMULATION_HEADER, _simulation_rows(pairs, simulation, refused), set(range(1, 8)))) + "\n"
    return show_hidden(text)  # for a terminal: every hidden character (bidi control, zero-width) written out
