"""Change-impact reports: Markdown for a pull-request comment (summary first, details folded) and JSON.

Deterministic: everything is sorted, numbers are formatted with fixed precision, no timestamps.
"""

from __future__ import annotations

import json
from typing import Any

from safetyops_dsl.generators.markdown import cell as md_cell

from safetyops_dsl import schemas
from safetyops_dsl.analysis.diff import Change, GoalDelta, HazardDelta, ModelDiff
from safetyops_dsl.analysis.result_diff import RowDelta
from safetyops_dsl.diagnostics import json_hidden, show_hidden

FORMATS = ("md", "json")
KIND_WORDS = {
    "hazard": "hazard", "safety_goal": "safety goal", "requirement": "requirement", "evidence": "evidence",
    "component": "component", "port": "port", "failure_mode": "failure mode", "mechanism": "mechanism",
    "ccf_group": "CCF group", "rule": "failure logic", "propagate": "propagation", "part": "part",
    "connection": "connection",
    "ml_model": "ML model", "dataset": "dataset", "metric": "metric", "deviation": "deviation",
    "policy": "policy rule", "mission_time": "mission time", "standard": "standard", "risk_matrix": "risk matrix",
    "risk_graph": "risk graph", "risk_graph_level": "risk graph level", "risk_graph_row": "risk graph row",
    "dal_reduction": "FDAL/IDAL reduction options", "dal_option": "reduction option", "ffs": "functional failure set",
    "ffs_member": "FFS member", "independence": "independence claim",
    "flight_phase": "flight phase",
    "parameter": "parameter", "assumption": "input assumption", "odd": "ODD", "odd_attribute": "ODD attribute",
    "acceptance": "acceptance criterion",
}
KIND_WORDS.update({"argument": "argument", "gsn_node": "GSN node"})
PLURALS = {"hazard": "hazards", "safety_goal": "safety goals", "requirement": "requirements", "evidence": "evidence"}
SECTION_TITLES = {
    "fmeda": "FMEDA", "fmea": "FMEA", "hara": "HARA", "profile": "Standard profiles", "trace": "Trace and coverage",
    "injection": "Fault-injection campaign", "gate": "Release gate", "gsn": "GSN safety case",
    "demand": "Demand (PFDavg, PFH)", "sotif": "SOTIF analysis", "odd_coverage": "ODD coverage",
}


def render(d: ModelDiff, fmt: str) -> str:
    if fmt == "md":
        return to_markdown(d)
    if fmt == "json":
        return to_json(d)
    raise ValueError(f"unknown format {fmt}")


# -- helpers ------------------------------------------------------------------------------------------------------


def _md(text: object) -> str:
    return md_cell(text).replace("`", "'")  # cells sit next to code spans: no stray backticks


def _code(text: object) -> str:
    s = show_hidden(str(text)).replace("`", "'").replace("\n", " ").replace("|", "\\|")
    return f"`{s}`" if s else "(none)"


def _p(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def _rel(old: float | None, new: float | None) -> str:
    if old is None or new is None:
        return "new" if old is None and new is not None else ("gone" if new is None and old is not None else "-")
    if old == new:
        return "±0 (below double precision)"
    if abs(new - old) < 0.001 * abs(old):
        return f"{new - old:+.2g} (< 0.1 %)"
    if old == 0.0:
        return f"+{new:.3g}"
    pct = (new - old) / old * 100.0
    arrow = "▲" if new > old else "▼"
    return f"{arrow} {pct:+.1f} %"


def _cs(cs: tuple[str, ...]) -> str:
    return " · ".join(cs)


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _loc(c: Change) -> str:
    return f" ({c.file}:{c.line})" if c.file and c.line else ""


# -- Markdown ------------------------------------------------------------------------------------------------------


def to_markdown(d: ModelDiff) -> str:
    out: list[str] = []
    counts = d.counts()
    changed_hz = [h for h in d.hazards if h.changed]
    out.append(f"### Safety impact: {_code(d.old_label)} → {_code(d.new_label)}")
    out.append("")
    for side, bad in (("old", d.errors_old), ("new", d.errors_new)):
        if bad:
            label = d.old_label if side == "old" else d.new_label
            out.append(f"**The {side} side ({_code(label)}) has errors:** its results are not computed; only the "
                       "structural changes are listed.")
            out.append("")
            shown = [p for p in d.problems if p[0] == side]
            if shown:
                out += ["```text", *(line for _, line in shown), "```", ""]
    if d.deltas.newly_failing:
        out += ["**Newly failing release checks:**", ""]
        out += [f"- ❌ {_md(i.check)} {_code(i.subject)}: {_md(i.detail)}" for i in d.deltas.newly_failing]
        out.append("")
    if not d.changes and not d.deltas.sections and not d.changed_hazards and not d.changed_goals:
        out.append("No semantic change: the two versions define the same model.")
        return "\n".join(out) + "\n"
    by_kind: dict[str, list[str]] = {}
    for item in d.impact:
        by_kind.setdefault(item.kind, []).append(item.name)
    impact_words = [
        f"{_count(len(by_kind[k]), KIND_WORDS[k], PLURALS[k])} ({', '.join(by_kind[k])})"
        for k in ("hazard", "safety_goal", "requirement", "evidence") if k in by_kind
    ]
    out.append(
        f"**{counts['changed']} changed, {counts['added']} added, {counts['removed']} removed, "
        f"{counts['renamed']} renamed** model elements."
    )
    out.append("")
    if impact_words:
        out.append("**Re-review:** " + "; ".join(impact_words) + ".")
    else:
        out.append("**Re-review:** nothing downstream is affected.")
    out.append("")

    if d.errors_old or d.errors_new:
        pass
    elif changed_hz:
        out += ["| hazard | P(top) before | P(top) after | change | minimal cut sets |", "|---|---:|---:|---:|---|"]
        for h in changed_hz:
            cs = f"{'-' if h.cut_sets_old is None else h.cut_sets_old} → {'-' if h.cut_sets_new is None else h.cut_sets_new}"
            if h.added or h.removed:
                cs += f" (+{len(h.added)} −{len(h.removed)})"
            label = f"**{h.name}** {_md(h.title)}" + (f" *({h.status})*" if h.status in ("added", "removed") else "")
            out.append(f"| {label} | {_p(h.p_old)} | {_p(h.p_new)} | {_rel(h.p_old, h.p_new)} | {cs} |")
        out.append("")
    else:
        out += ["Fault trees: no top-event probability or cut set changed.", ""]

    goal_rows = []
    for g in d.changed_goals:
        a, b = g.old, g.new
        def verdict(x: Any) -> str:
            return "-" if x is None else f"{x.achieved_per_hour:.3g} /h {'met' if x.passed else '**MISSED**'}"
        goal_rows.append(f"| {g.goal} | {g.target:.3g} /h | {verdict(a)} | {verdict(b)} |")
    if goal_rows:
        out += ["| safety goal | target | before | after |", "|---|---:|---|---|", *goal_rows, ""]

    cov_rows = []
    if d.coverage_old is not None and d.coverage_new is not None:
        old_rules = {r.rule: r for r in d.coverage_old.rules}
        for r in d.coverage_new.rules:
            o = old_rules.get(r.rule)
            before = f"{o.satisfied}/{o.total}" if o else "-"
            after = f"{r.satisfied}/{r.total}"
            if before != after or (o is not None and o.required != r.required):
                policy = "" if r.required else f" (waived: {_md(r.reason)})"
                cov_rows.append(f"| {r.rule}{policy} | {before} | {after} |")
        if cov_rows:
            out += ["| coverage rule | before | after |", "|---|---:|---:|", *cov_rows, ""]
        else:
            out += ["Coverage: unchanged.", ""]
    out += _fmeda_table(d)

    # folded details
    top = [c for c in d.changes if not c.owner]
    out += ["<details><summary>Changes (" + _count(len(top), "element") + ")</summary>", ""]
    subs: dict[str, list[Change]] = {}
    for c in d.changes:
        if c.owner:
            subs.setdefault(c.owner, []).append(c)
    for c in top:
        out.append(_change_line(c))
        for s in subs.get(c.key, []) if c.kind == "component" and c.status != "added" else []:
            out.append("  " + _change_line(s))
    # components with only member changes already have a "changed" line; members of renamed ones too
    out += ["", "</details>", ""]

    if d.impact:
        out += ["<details><summary>Impact (" + _count(len(d.impact), "element") + "): why each must be re-reviewed"
                "</summary>", "", "| element | kind | why | path from the change |", "|---|---|---|---|"]
        for i in d.impact:
            gone = " (gone)" if i.gone else ""
            out.append(f"| {i.name}{gone} | {KIND_WORDS[i.kind]} | {_md(i.reason)} | {_md(' → '.join(i.path))} |")
        out += ["", "</details>", ""]

    for h in changed_hz:
        if not h.added and not h.removed:
            continue
        out += [f"<details><summary>Cut sets of {h.name}: +{len(h.added)} −{len(h.removed)}</summary>", ""]
        for added in h.added:
            out.append(f"- added: {_code(_cs(added))}")
        for removed in h.removed:
            out.append(f"- removed: {_code(_cs(removed))}")
        if not h.exact:
            out.append("- (only the most probable cut sets were compared: the trees have more)")
        out += ["", "</details>", ""]
    out += _result_details(d)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def _fmeda_table(d: ModelDiff) -> list[str]:
    rows = d.deltas.sections.get("fmeda", {}).get("goals", [])
    lines = []
    for r in rows:
        if r.status != "changed":
            lines.append(f"| {r.key} | {r.status} | | |")
            continue
        fields = {f.field: f for f in r.fields}
        for metric in ("SPFM", "LFM", "PMHF"):
            value, status = fields.get(metric), fields.get(f"{metric} status")
            if value is None and status is None:
                continue
            digits = 4
            while digits < 12 and value is not None and _metric(metric, value.old, digits) == _metric(
                    metric, value.new, digits):
                digits += 2  # a move below the shown precision is still shown as a move
            before = _metric(metric, value.old if value else None, digits) + (f" {status.old}" if status else "")
            after = _metric(metric, value.new if value else None, digits) + (
                f" **{status.new.upper()}**" if status and status.new == "fail" else (f" {status.new}" if status else ""))
            lines.append(f"| {r.key} | {metric} | {before} | {after} |")
    if not lines:
        return []
    return ["| safety goal | FMEDA metric | before | after |", "|---|---|---:|---:|", *lines, ""]


def _metric(name: str, raw: str | None, digits: int = 4) -> str:
    if raw is None:
        return "="
    if raw == "":
        return "n/a"
    x = float(raw)
    return f"{x * 1e9:.{digits}g} FIT" if name == "PMHF" else f"{x * 100:.{max(digits - 2, 2)}f} %"


def _result_details(d: ModelDiff) -> list[str]:
    out: list[str] = []
    for section, subs in sorted(d.deltas.sections.items(), key=lambda kv: list(SECTION_TITLES).index(kv[0])):
        n = sum(len(v) for v in subs.values())
        out += [f"<details><summary>{SECTION_TITLES[section]}: {_count(n, 'result')} moved</summary>", ""]
        for sub, rows in subs.items():
            out.append(f"- {sub}:")
            for r in rows:
                line = f"  - {_code(r.key)} {r.status}"
                if r.fields:
                    line += ": " + "; ".join(f"{f.field} {_code(f.old)} → {_code(f.new)}" for f in r.fields)
                out.append(line)
        out += ["", "</details>", ""]
    return out


def _change_line(c: Change) -> str:
    word = KIND_WORDS.get(c.kind, c.kind)
    name = c.key.rpartition(".")[2] if not c.owner and c.kind in ("hazard", "safety_goal", "requirement",
                                                                   "evidence", "component") else c.key
    if c.status == "renamed":
        old = c.old_key.rpartition(".")[2] if not c.owner else c.old_key
        head = f"- {word} {_code(old)} renamed to {_code(name)}{_loc(c)}"
    else:
        head = f"- {word} {_code(name)} {c.status}{_loc(c)}"
    if c.fields:
        head += ": " + "; ".join(f"{f.field} {_code(f.old)} → {_code(f.new)}" for f in c.fields)
    return head


# -- JSON -----------------------------------------------------------------------------------------------------------


def _hazard(h: HazardDelta) -> dict[str, Any]:
    return {
        "hazard": h.hazard, "name": h.name, "title": h.title, "status": h.status,
        "probability_before": h.p_old, "probability_after": h.p_new,
        "cut_sets_before": h.cut_sets_old, "cut_sets_after": h.cut_sets_new,
        "cut_sets_added": [list(cs) for cs in h.added], "cut_sets_removed": [list(cs) for cs in h.removed],
        "cut_sets_compared_exactly": h.exact,
        "events_changed": [{"event": e, "before": a, "after": b} for e, a, b in h.events],
    }


def _goal(g: GoalDelta) -> dict[str, Any]:
    return {
        "goal": g.goal, "target_per_hour": g.target,
        "before": None if g.old is None else {"achieved_per_hour": g.old.achieved_per_hour, "met": g.old.passed},
        "after": None if g.new is None else {"achieved_per_hour": g.new.achieved_per_hour, "met": g.new.passed},
    }


def _row(r: RowDelta) -> dict[str, Any]:
    return {"key": r.key, "status": r.status,
            "fields": [{"field": f.field, "old": f.old, "new": f.new} for f in r.fields]}


def _deltas(d: ModelDiff) -> dict[str, Any]:
    """Each section present (and non-empty) exactly when that result changed."""
    out: dict[str, Any] = {}
    fta: dict[str, Any] = {}
    if d.changed_hazards:
        fta["hazards"] = [_hazard(h) for h in d.changed_hazards]
    if d.changed_goals:
        fta["goal_targets"] = [_goal(g) for g in d.changed_goals]
    if fta:
        out["fta"] = fta
    for section, subs in d.deltas.sections.items():
        out[section] = {sub: [_row(r) for r in rows] for sub, rows in subs.items()}
    if "gate" in out:
        out["gate"]["newly_failing"] = [i.as_dict() for i in d.deltas.newly_failing]
        out["gate"]["newly_passing"] = [i.as_dict() for i in d.deltas.newly_passing]
    return out


def to_json(d: ModelDiff) -> str:
    doc = {
        "schema": schemas.tag("sops-diff"),
        "old": d.old_label,
        "new": d.new_label,
        "summary": d.counts(),
        "changes": [
            {
                "kind": c.kind, "key": c.key, "status": c.status, "old_key": c.old_key, "owner": c.owner,
                "file": c.file, "line": c.line,
                "fields": [{"field": f.field, "old": f.old, "new": f.new} for f in c.fields],
            }
            for c in d.changes
        ],
        "renames": dict(sorted(d.renames.items())),
        "deltas": _deltas(d),
        "errors": {"old": d.errors_old, "new": d.errors_new},
        "diagnostics": [{"side": side, "text": line} for side, line in d.problems],
        "impact": [
            {"id": i.node, "kind": i.kind, "name": i.name, "reason": i.reason, "path": list(i.path), "gone": i.gone}
            for i in d.impact
        ],
    }
    return json_hidden(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"
