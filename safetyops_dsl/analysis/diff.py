"""Semantic diff of two model versions and the impact set of the change.

Identity: model elements are matched by qualified name (`aeb.FSR2`), sub-elements of a component by their
name within it (failure modes, mechanisms, ports, parts, metrics), rules by `port.deviation`, connections by
their target (an input has one driver). An element that disappears while one of the same kind appears is a
rename when the two are alike: equal content, or the same title (source, for evidence) with most fields
equal, or (components) near-identical text. Failure modes and parts are renamed inside a component when
their content is equal. References are compared through the rename map, so renaming `FSR3` does not make
every evidence that verifies it "changed".

Impact (what a reviewer must look at again) follows the trace graph from each change:

- a changed component -> its instances -> the parts that contain them -> requirements allocated to any of
  those (and to the type) -> the evidence verifying those requirements (suspect)
- a changed ML model, dataset or metric threshold -> the metric evidence measuring that metric (suspect)
- a changed requirement -> the requirements refining it and its evidence; a changed goal -> its
  requirements and evidence; a changed hazard -> its goals; evidence supporting a changed element
- fault trees: a hazard whose top-event probability or minimal cut sets changed is impacted (whatever the
  cause: a rate, a coverage, a rule, a connection), and so are the goals mitigating it and the evidence
  that verifies those goals. Numeric deltas: P(top) before/after, cut sets added/removed, goal targets.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from safetyops_dsl.analysis.coverage import Coverage
from safetyops_dsl.analysis.evidence import OpsResults
from safetyops_dsl.analysis.gate import FAIL, GateItem, gate_items
from safetyops_dsl.analysis.injection_results import default_campaign_results
from safetyops_dsl.analysis.pipeline import Options, Results, analyse
from safetyops_dsl.analysis.result_diff import FieldDelta, ResultDeltas, result_deltas
from safetyops_dsl.analysis.result_diff import text as result_text
from safetyops_dsl.analysis.targets import GoalCheck, check_goal_targets
from safetyops_dsl.analysis.trace import TraceGraph, build_trace, node_id, split_id
from safetyops_dsl.diagnostics import Diagnostic, count
from safetyops_dsl.fta.ccf import event_members, event_name
from safetyops_dsl.model import elements as el
from safetyops_dsl.model import parameters
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.schema import Role, key_of, label_of, roles
from safetyops_dsl.validation.policy import blocking_errors

TOP_KINDS = ("hazard", "safety_goal", "requirement", "evidence", "component", "argument")
IMPACT_KINDS = ("hazard", "safety_goal", "requirement", "evidence")
KIND_RANK = {k: i for i, k in enumerate(
    TOP_KINDS + ("port", "failure_mode", "mechanism", "ccf_group", "assumption", "rule", "propagate", "part", "connection",
                 "gsn_node",
                 "ml_model",
                 "dataset", "metric", "odd", "odd_attribute", "acceptance", "parameter", "deviation", "policy",
                 "mission_time", "standard", "risk_matrix", "risk_graph", "risk_graph_level", "risk_graph_row",
                 "dal_reduction", "dal_option", "ffs", "ffs_member", "independence", "flight_phase"))}
MEMBER_KINDS = ("component", "argument")  # top-level kinds whose members are diffed one by one
REL_TOLERANCE = 1e-9


FieldChange = FieldDelta  # one field of an element, before and after (the result deltas use the same record)


@dataclass(frozen=True)
class Change:
    kind: str
    key: str  # the identity on the new side (the old side for removals)
    status: str  # added | removed | changed | renamed
    old_key: str = ""  # renames: the old identity
    fields: tuple[FieldChange, ...] = ()
    owner: str = ""  # sub-elements: the component's qualified name (new side)
    file: str = ""
    line: int = 0

    @property
    def name(self) -> str:
        return self.key.rpartition(".")[2] if not self.owner else self.key


@dataclass(frozen=True)
class HazardDelta:
    hazard: str  # qualified name (new side; old for removed)
    name: str
    title: str
    status: str  # added | removed | changed | unchanged
    p_old: float | None
    p_new: float | None
    cut_sets_old: int | None
    cut_sets_new: int | None
    added: tuple[tuple[str, ...], ...] = ()
    removed: tuple[tuple[str, ...], ...] = ()
    exact: bool = True  # False where a side has more cut sets than were listed
    # basic events of the tree whose probability changed (event, before, after): a rate, a coverage, an exposure
    events: tuple[tuple[str, float | None, float | None], ...] = ()

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"


@dataclass(frozen=True)
class GoalDelta:
    goal: str
    target: float
    old: GoalCheck | None
    new: GoalCheck | None

    @property
    def changed(self) -> bool:
        a, b = self.old, self.new
        if a is None or b is None:
            return a is not b
        moved = abs(a.achieved_per_hour - b.achieved_per_hour) > REL_TOLERANCE * max(
            abs(a.achieved_per_hour), abs(b.achieved_per_hour), 1e-300)
        return moved or (a.passed, a.target_per_hour, a.missing) != (b.passed, b.target_per_hour, b.missing)


@dataclass(frozen=True)
class ImpactItem:
    node: str  # node id on the new side (the old side where the element is gone)
    kind: str
    name: str
    reason: str
    path: tuple[str, ...]  # names from the change to this element
    gone: bool = False  # exists only in the old version


@dataclass
class ModelDiff:
    changes: list[Change]
    hazards: list[HazardDelta]  # every hazard (unchanged ones too); empty where a side has errors
    goals: list[GoalDelta]
    impact: list[ImpactItem]
    coverage_old: Coverage | None  # None: that side has errors
    coverage_new: Coverage | None
    renames: dict[str, str] = field(default_factory=dict)  # old qualified name -> new
    old_label: str = ""
    new_label: str = ""
    deltas: ResultDeltas = field(default_factory=ResultDeltas)  # every other result that moved
    errors_old: bool = False  # that side has errors: only its structure is compared
    errors_new: bool = False
    problems: list[tuple[str, str]] = field(default_factory=list)  # (side, one-line diagnostic) of a side with errors

    @property
    def changed_hazards(self) -> list[HazardDelta]:
        return [h for h in self.hazards if h.changed]

    @property
    def changed_goals(self) -> list[GoalDelta]:
        return [g for g in self.goals if g.changed]

    def counts(self) -> dict[str, int]:
        top = [c for c in self.changes if not c.owner]
        return {s: sum(1 for c in top if c.status == s) for s in ("added", "removed", "changed", "renamed")}


# -- canonical content: walked from the schema (model/schema.py) ------------------------------------------------

RefMap = dict[str, str]


class UnclassifiedValue(TypeError):
    """A field value the diff cannot compare: an internal error, never a silently ignored field."""


@dataclass(frozen=True)
class Maps:
    """How names of the old side read on the new side, per namespace of the schema's `refs`."""

    elements: RefMap = field(default_factory=dict)  # qualified and simple names of model elements
    failure_modes: RefMap = field(default_factory=dict)  # failure modes of the component being compared
    ccf_member: Callable[[str], str] | None = None  # `part.Mode` of a CCF group

    def ref(self, text: str, namespace: str | None) -> str:
        if namespace == "failure_mode":
            return self.failure_modes.get(text, text)
        if namespace == "ccf_member":
            return self.ccf_member(text) if self.ccf_member is not None else text
        if namespace == "port":
            return text
        return self.elements.get(text, text)  # "" or undeclared: names of model elements


NO_MAPS = Maps()


def _num(x: float, unit: str) -> str:
    if unit == "FIT":
        return f"{x * 1e9:g} FIT"
    if unit == "%":
        return f"{x * 100:g} %"
    return f"{x:g}{unit}"


def expr_mapped(e: el.Expr, fmap: RefMap, top: bool = True) -> str:
    if isinstance(e, el.Ref):
        return fmap.get(e.path, e.path)
    if isinstance(e, el.KofN):
        return f"{e.k} of ({', '.join(expr_mapped(o, fmap) for o in e.operands)})"
    word = " and " if isinstance(e, el.And) else " or "
    text = word.join(expr_mapped(o, fmap, False) for o in e.operands)
    return text if top else f"({text})"


def value_text(value: Any, role: Role, maps: Maps) -> str:
    """A compared field's value as the diff shows it. Unknown types are refused, never skipped."""
    if isinstance(value, float):
        return _num(value, role.unit)
    if value is None or isinstance(value, bool | Enum | int | str):
        return result_text(value)  # the same spelling as the result deltas: yes/no, enum values
    if isinstance(value, el.NameRef):
        return maps.ref(value.text, role.refs)
    if isinstance(value, el.Ref | el.And | el.Or | el.KofN):
        fmap = maps.failure_modes if role.refs == "failure_mode" else {}
        return expr_mapped(value, fmap)
    if isinstance(value, tuple):
        items = [value_text(v, role, maps) for v in value]
        return ", ".join(items if role.ordered else sorted(items))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value).__str__ is not object.__str__:
            return str(value)
        shown = canon(value, maps)
        if len(shown) == 1:
            return next(iter(shown.values()))
        return ", ".join(f"{k} {v}" for k, v in shown.items())
    raise UnclassifiedValue(f"the diff cannot compare a {type(value).__name__}: give its field a role in "
                            "model/schema.py")


def canon(e: Any, maps: Maps = NO_MAPS) -> dict[str, str]:
    """label -> text of every compared field of `e` (keys, members and presentation excluded)."""
    out: dict[str, str] = {}
    for f, role in roles(type(e)):
        if role.kind == "compared":
            out[label_of(f, role)] = value_text(getattr(e, f.name), role, maps)
    return out


Members = dict[str, dict[str, dict[str, str]]]


def members_of(e: Any, maps: Maps = NO_MAPS) -> Members:
    """sub-element kind -> key -> label -> text, for every `members` and `nested` field of `e`."""
    out: Members = {}
    for f, role in roles(type(e)):
        value = getattr(e, f.name)
        if role.kind == "members":
            group = out.setdefault(role.member, {})
            for m in value:
                group[key_of(m)] = canon(m, maps)
        elif role.kind == "nested":
            out.setdefault(role.member, {})
            if value is None:
                continue
            fields = canon(value, maps)
            if any(fields.values()):
                out[role.member]["model"] = fields
            for kind, group in members_of(value, maps).items():
                out.setdefault(kind, {}).update(group)
    return out


def member_locations(model: Model, e: Any) -> dict[tuple[str, str], tuple[str, int]]:
    """(sub-element kind, key) -> (file, line) of every member of `e`, walked as members_of walks them."""
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for f, role in roles(type(e)):
        value = getattr(e, f.name)
        if role.kind == "members":
            for m in value:
                loc = getattr(m, "location", None)
                if loc is not None:
                    out.setdefault((role.member, key_of(m)), (model.rel_path(loc.file), loc.line))
        elif role.kind == "nested" and value is not None:
            out.update(member_locations(model, value))
    return out


def _flat(d: dict[str, Any]) -> str:
    return repr(sorted((k, _flat(v) if isinstance(v, dict) else v) for k, v in d.items()))


# -- matching and renames ----------------------------------------------------------------------------------------


def _store(model: Model, kind: str) -> dict[str, Any]:
    stores: dict[str, dict[str, Any]] = {
        "hazard": model.hazards, "safety_goal": model.goals, "requirement": model.requirements,
        "evidence": model.evidence, "component": model.components, "argument": model.arguments,
    }
    return stores[kind]


def _content(kind: str, e: Any, rmap: RefMap) -> dict[str, str]:
    d = canon(e, Maps(elements=rmap))
    if kind in MEMBER_KINDS:
        d["members"] = _flat(members_of(e, Maps(elements=rmap)))
    return d


def _alike(kind: str, a: dict[str, str], b: dict[str, str]) -> float:
    """0..1 likeness of two elements' content; 1.0 means equal."""
    if a == b:
        return 1.0
    if kind in MEMBER_KINDS:
        return difflib.SequenceMatcher(None, _flat(a), _flat(b), autojunk=False).ratio()
    same = sum(1 for k in a if a.get(k) == b.get(k))
    share = same / max(len(a), 1)
    ident = "source" if kind == "evidence" else "title"
    if a.get(ident) and a.get(ident) == b.get(ident) and share >= 0.5:
        return max(share, 0.9)
    return share


def find_renames(old: Model, new: Model) -> dict[str, tuple[str, str]]:
    """old qualified name -> (kind, new qualified name)."""
    renames: dict[str, tuple[str, str]] = {}
    for exact_only in (True, False):
        rmap = _rename_map({k: v[1] for k, v in renames.items()})
        for kind in TOP_KINDS:
            o, n = _store(old, kind), _store(new, kind)
            gone = sorted(q for q in o if q not in n and q not in renames)
            taken = {v[1] for v in renames.values()}
            fresh = sorted(q for q in n if q not in o and q not in taken)
            if not gone or not fresh:
                continue
            scored = []
            for qo in gone:
                co = _content(kind, o[qo], rmap)
                for qn in fresh:
                    score = _alike(kind, co, _content(kind, n[qn], {}))
                    threshold = 1.0 if exact_only else (0.85 if kind in MEMBER_KINDS else 0.75)
                    if score >= threshold:
                        scored.append((-score, qo, qn))
            used_o: set[str] = set()
            used_n: set[str] = set()
            for _, qo, qn in sorted(scored):
                if qo in used_o or qn in used_n:
                    continue
                used_o.add(qo)
                used_n.add(qn)
                renames[qo] = (kind, qn)
    return renames


def _rename_map(renames: dict[str, str]) -> RefMap:
    """Reference texts of the old model -> their new spelling: qualified and simple names."""
    rmap: RefMap = {}
    for qo, qn in renames.items():
        rmap[qo] = qn
        so, sn = qo.rpartition(".")[2], qn.rpartition(".")[2]
        rmap.setdefault(so, sn)
    return rmap


def _member_renames(
    old_members: dict[str, dict[str, str]], new_members: dict[str, dict[str, str]]
) -> dict[str, str]:
    """Within one component: a removed and an added member with equal content (and that content unique)."""
    gone = {k: _flat(v) for k, v in old_members.items() if k not in new_members}
    fresh = {k: _flat(v) for k, v in new_members.items() if k not in old_members}
    out: dict[str, str] = {}
    for ko, co in sorted(gone.items()):
        hits = [kn for kn, cn in sorted(fresh.items()) if cn == co and kn not in out.values()]
        if len(hits) == 1 and sum(1 for c in gone.values() if c == co) == 1:
            out[ko] = hits[0]
    return out


# -- the diff ---------------------------------------------------------------------------------------------------


def _loc(model: Model, e: Any) -> tuple[str, int]:
    loc = getattr(e, "location", None)
    return (model.rel_path(loc.file), loc.line) if loc is not None else ("", 0)


def _field_changes(a: dict[str, str], b: dict[str, str]) -> tuple[FieldChange, ...]:
    return tuple(FieldChange(k, a.get(k, ""), b.get(k, "")) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))


def semantic_diff(old: Model, new: Model) -> tuple[list[Change], dict[str, str], dict[str, dict[str, dict[str, str]]]]:
    """The changes, the rename map (old qualified name -> new) and, per component (new qualified name), the
    member renames by sub-element kind (old name -> new) used to map instance paths and events."""
    renamed = find_renames(old, new)
    rn = {qo: v[1] for qo, v in renamed.items()}
    rmap = _rename_map(rn)
    changes: list[Change] = []
    member_renames: dict[str, dict[str, dict[str, str]]] = {}
    type_fm = _type_failure_renames(old, new, rn)
    for kind in TOP_KINDS:
        o, n = _store(old, kind), _store(new, kind)
        back = {v: k for k, v in rn.items() if k in o}
        for qn in sorted(n):
            qo = back.get(qn, qn)
            en = n[qn]
            file, line = _loc(new, en)
            if qo not in o:
                changes.append(Change(kind, qn, "added", file=file, line=line))
                if kind in MEMBER_KINDS:
                    for sk, members in members_of(en).items():
                        for key in sorted(members):
                            changes.append(Change(sk, key, "added", owner=qn, file=file, line=line))
                continue
            eo = o[qo]
            fields = _field_changes(canon(eo, Maps(elements=rmap)), canon(en))
            sub: list[Change] = []
            if kind in MEMBER_KINDS:
                sub, renames_here = _component_changes(old, new, eo, en, rmap, type_fm)
                if kind == "component":
                    member_renames[qn] = renames_here
            status = "renamed" if qo != qn else ("changed" if fields or sub else "")
            if status:
                changes.append(Change(kind, qn, status, qo if qo != qn else "", fields, file=file, line=line))
            changes.extend(sub)
        for qo in sorted(o):
            if qo not in n and qo not in rn:
                file, line = _loc(old, o[qo])
                changes.append(Change(kind, qo, "removed", file=file, line=line))
    changes.extend(_model_level_changes(old, new))
    changes.sort(key=lambda c: (KIND_RANK.get(c.kind if not c.owner else "component", 99), c.owner or c.key,
                                0 if not c.owner else 1, KIND_RANK.get(c.kind, 99), c.key))
    return changes, rn, member_renames


def _type_failure_renames(old: Model, new: Model, rn: dict[str, str]) -> dict[str, dict[str, str]]:
    """New component qualified name -> failure-mode renames (old -> new) against its old counterpart."""
    back = {v: k for k, v in rn.items()}
    out: dict[str, dict[str, str]] = {}
    for qn, en in new.components.items():
        eo = old.components.get(back.get(qn, qn))
        if eo is not None:
            out[qn] = _member_renames(members_of(eo)["failure_mode"], members_of(en)["failure_mode"])
    return out


def _component_changes(
    old: Model, new: Model, eo: el.Component, en: el.Component, rmap: RefMap, type_fm: dict[str, dict[str, str]]
) -> tuple[list[Change], dict[str, dict[str, str]]]:
    """`type_fm`: the failure-mode renames of every component (`_type_failure_renames`), this one's included."""
    mem_new = members_of(en)
    fm_renames = type_fm.get(en.qualified_name, {})
    mem_old = members_of(eo, Maps(elements=rmap, failure_modes=fm_renames))
    renames: dict[str, dict[str, str]] = {sk: _member_renames(mem_old[sk], mem_new[sk])
                                          for sk in ("mechanism", "part", "port", "gsn_node") if sk in mem_new}
    renames["failure_mode"] = fm_renames

    def ccf_member(text: str) -> str:
        """An old CCF member after renames of the part and of the failure mode in the part's type."""
        part, dot, rest = text.partition(".")
        if not dot:
            return fm_renames.get(text, text)
        part = renames["part"].get(part, part)
        found = en.part(part) if isinstance(en, el.Component) else None
        ptype = new.lookup(found.type_ref.text, ("component",), en.package) if found is not None else None
        modes = type_fm.get(ptype[1], {}) if ptype is not None else {}
        return f"{part}.{rest}" if "." in rest else f"{part}.{modes.get(rest, rest)}"

    if isinstance(eo, el.Component):
        mem_old["ccf_group"] = members_of(eo, Maps(elements=rmap, failure_modes=fm_renames,
                                                   ccf_member=ccf_member))["ccf_group"]
    qn = en.qualified_name
    file, line = _loc(new, en)
    sub_locs = member_locations(new, en)
    out: list[Change] = []
    for sk in mem_new:
        a = dict(mem_old[sk])
        for ko, kn in renames.get(sk, {}).items():
            if ko in a:
                a[kn] = a.pop(ko)
        b = mem_new[sk]
        back = {v: k for k, v in renames.get(sk, {}).items()}
        for key in sorted(set(a) | set(b)):
            f, ln = sub_locs.get((sk, key), (file, line))
            if key not in a:
                out.append(Change(sk, key, "added", owner=qn, file=f, line=ln))
            elif key not in b:
                out.append(Change(sk, key, "removed", owner=qn, file=file, line=line))
            else:
                fields = _field_changes(a[key], b[key])
                if key in back:
                    out.append(Change(sk, key, "renamed", back[key], fields, owner=qn, file=f, line=ln))
                elif fields:
                    out.append(Change(sk, key, "changed", "", fields, owner=qn, file=f, line=ln))
    return out, renames


def _model_level_changes(old: Model, new: Model) -> list[Change]:
    out: list[Change] = []

    def compare(kind: str, a: dict[str, dict[str, str]], b: dict[str, dict[str, str]]) -> None:
        for key in sorted(set(a) | set(b)):
            if key not in a:
                out.append(Change(kind, key, "added"))
            elif key not in b:
                out.append(Change(kind, key, "removed"))
            elif a[key] != b[key]:
                out.append(Change(kind, key, "changed", fields=_field_changes(a[key], b[key])))

    compare("parameter", _parameters(old), _parameters(new))
    compare("deviation", {d: canon(x) for d, x in old.deviations.items()},
            {d: canon(x) for d, x in new.deviations.items()})
    compare("policy", {key_of(p): canon(p) for p in old.policy}, {key_of(p): canon(p) for p in new.policy})
    compare("mission_time", {k: {"hours": f"{v:g} h"} for k, v in old.mission_time_by_package.items()},
            {k: {"hours": f"{v:g} h"} for k, v in new.mission_time_by_package.items()})
    compare("standard", {k: {"standard": v.name} for k, v in old.standard_by_package.items()},
            {k: {"standard": v.name} for k, v in new.standard_by_package.items()})
    compare("risk_matrix", {k: canon(v) for k, v in old.risk_matrix_by_package.items()},
            {k: canon(v) for k, v in new.risk_matrix_by_package.items()})
    compare("risk_graph", {k: _record(v) for k, v in old.risk_graph_by_package.items()},
            {k: _record(v) for k, v in new.risk_graph_by_package.items()})
    compare("dal_reduction", {k: _record(v) for k, v in old.dal_reduction_by_package.items()},
            {k: _record(v) for k, v in new.dal_reduction_by_package.items()})
    compare("ffs", {k: _record(v) for k, v in old.ffs.items()}, {k: _record(v) for k, v in new.ffs.items()})
    compare("flight_phase", {f"{k}.{n}": canon(v) for k, ps in old.flight_phases_by_package.items()
                             for n, v in ps.items()},
            {f"{k}.{n}": canon(v) for k, ps in new.flight_phases_by_package.items() for n, v in ps.items()})
    return out


def _record(e: Any) -> dict[str, str]:
    """A package-level record and its members as one set of fields (`risk_graph_row C2 F1 P1` -> its outcomes):
    these records are compared whole, not member by member."""
    fields = canon(e)
    for kind, group in members_of(e).items():
        for k, v in group.items():
            fields[f"{kind} {k}"] = "; ".join(f"{label} {text}" for label, text in v.items())
    return fields


def _parameters(model: Model) -> dict[str, dict[str, str]]:
    """Each parameter as written and as evaluated: a parameter whose expression is unchanged still shows
    when a parameter it names moved it."""
    out: dict[str, dict[str, str]] = {}
    for qname, p in model.parameters.items():
        fields = canon(p)
        found = model.parameter_values.get(qname)
        if found is not None:
            fields["evaluates to"] = f"{found[0]:g} {parameters.unit_word(found[1])}".rstrip()
        out[qname] = fields
    return out


# -- fault trees ------------------------------------------------------------------------------------------------


def event_map(old: Model, renames: dict[str, str], members: dict[str, dict[str, dict[str, str]]]) -> dict[str, str]:
    """Old basic-event names -> new names, following component, part and failure-mode renames."""
    out: dict[str, str] = {}
    for system in old.systems():
        root = old.instances(system)
        new_sys = renames.get(system.qualified_name, system.qualified_name).rpartition(".")[2]
        paths = {root.path: new_sys}
        for inst in root.walk():
            cq = renames.get(inst.component.qualified_name, inst.component.qualified_name)
            if inst.parent is not None and inst.part is not None:
                pq = renames.get(inst.parent.component.qualified_name, inst.parent.component.qualified_name)
                part = members.get(pq, {}).get("part", {}).get(inst.part.name, inst.part.name)
                paths[inst.path] = f"{paths[inst.parent.path]}.{part}"
            for fm in inst.component.failure_modes:
                new_fm = members.get(cq, {}).get("failure_mode", {}).get(fm.name, fm.name)
                out[f"{inst.path}.{fm.name}"] = f"{paths[inst.path]}.{new_fm}"
        for port in system.ports:  # undeveloped boundary events keep the system's name
            for dev in old.all_deviations():
                out[f"{root.path}.{port.name}.{dev}"] = f"{new_sys}.{port.name}.{dev}"
    return out


def _renamed_event(event: str, emap: dict[str, str]) -> str:
    """An event's name after renames; a common-cause event `[A B]` follows the renames of its members."""
    members = event_members(event)
    if len(members) == 1 and members[0] == event:
        return emap.get(event, event)
    return event_name([emap.get(x, x) for x in members])


def _cut_sets(tg: TraceGraph, hazard: str, emap: dict[str, str] | None = None) -> tuple[set[tuple[str, ...]], bool]:
    ht = tg.trees.get(hazard)
    if ht is None or ht.result is None:
        return set(), False
    m = emap or {}
    sets = {tuple(sorted(_renamed_event(e, m) for e in cs)) for cs in ht.result.cut_sets}
    return sets, not ht.result.cut_sets_truncated


def _count(tg: TraceGraph, hazard: str) -> int | None:
    ht = tg.trees.get(hazard)
    return ht.result.cut_set_count if ht is not None and ht.result is not None else None


def _p(tg: TraceGraph, hazard: str) -> float | None:
    ht = tg.trees.get(hazard)
    if ht is None or ht.result is None:
        return None
    return ht.result.exact_probability


def hazard_deltas(old: TraceGraph, new: TraceGraph, renames: dict[str, str], emap: dict[str, str]) -> list[HazardDelta]:
    out: list[HazardDelta] = []
    back = {v: k for k, v in renames.items()}
    for qn, hz in sorted(new.model.hazards.items()):
        qo = back.get(qn, qn)
        p_new = _p(new, qn)
        sets_new, exact_new = _cut_sets(new, qn)
        n_new = _count(new, qn)
        if qo not in old.model.hazards:
            out.append(HazardDelta(qn, hz.name, hz.title, "added", None, p_new, None, n_new,
                                   tuple(sorted(sets_new)), (), exact_new))
            continue
        p_old = _p(old, qo)
        sets_old, exact_old = _cut_sets(old, qo, emap)
        n_old = _count(old, qo)
        added = tuple(sorted(sets_new - sets_old))
        removed = tuple(sorted(sets_old - sets_new))
        moved = (p_old is None) != (p_new is None) or (
            p_old is not None and p_new is not None and abs(p_new - p_old) > REL_TOLERANCE * max(abs(p_old), 1e-300)
        )
        events = _event_changes(old, qo, new, qn, emap)
        status = "changed" if moved or added or removed or n_old != n_new or events else "unchanged"
        out.append(HazardDelta(qn, hz.name, hz.title, status, p_old, p_new, n_old, n_new, added, removed,
                               exact_old and exact_new, events))
    for qo, hz in sorted(old.model.hazards.items()):
        if qo not in new.model.hazards and qo not in renames:
            sets_old, exact_old = _cut_sets(old, qo, emap)
            n_old = _count(old, qo)
            out.append(HazardDelta(qo, hz.name, hz.title, "removed", _p(old, qo), None, n_old, None, (),
                                   tuple(sorted(sets_old)), exact_old))
    return out


def _event_changes(
    old: TraceGraph, qo: str, new: TraceGraph, qn: str, emap: dict[str, str]
) -> tuple[tuple[str, float | None, float | None], ...]:
    """Basic events of either tree whose probability differs (renames followed), sorted by name."""
    to, tn = old.trees.get(qo), new.trees.get(qn)
    if to is None or tn is None:
        return ()
    po = {_renamed_event(e, emap): be.probability for e, be in to.synthesis.tree.basic_events.items()}
    pn = {e: be.probability for e, be in tn.synthesis.tree.basic_events.items()}
    out = []
    for e in sorted(set(po) & set(pn)):
        a, b = po[e], pn[e]
        if abs(a - b) > REL_TOLERANCE * max(abs(a), abs(b), 1e-300):
            out.append((e, a, b))
    return tuple(out)


def _goal_checks(tg: TraceGraph) -> dict[str, GoalCheck]:
    probs = {}
    for q, ht in tg.trees.items():
        if ht.result is not None and ht.result.exact_probability is not None:
            probs[tg.model.hazards[q].name] = (ht.result.exact_probability, ht.synthesis.tree.mission_time or 1.0)
    return {c.goal: c for c in check_goal_targets(tg.model, probs)}


def goal_deltas(old: TraceGraph, new: TraceGraph, renames: dict[str, str]) -> list[GoalDelta]:
    co, cn = _goal_checks(old), _goal_checks(new)
    names = {q.rpartition(".")[2]: n.rpartition(".")[2] for q, n in renames.items()}
    back = {v: k for k, v in names.items()}
    out = []
    for name in sorted(set(cn) | {names.get(k, k) for k in co}):
        a, b = co.get(back.get(name, name)), cn.get(name)
        either = b or a
        target = either.target_per_hour if either is not None else 0.0
        out.append(GoalDelta(name, target, a, b))
    return out


# -- impact -----------------------------------------------------------------------------------------------------

Step = tuple[str, str]  # (next node, how)


def _steps(tg: TraceGraph, nid: str, changed: bool) -> Iterator[Step]:
    kind = tg.graph.nodes[nid]["kind"]
    if kind == "component":
        for p in tg.out(nid, "instantiated_as"):
            yield p, "instance"
        for r in tg.into(nid, "allocated_to"):
            yield r, "allocated to it"
        for e in tg.out(nid, "supported_by"):
            yield e, "supports it"
    elif kind == "part":
        for p in tg.into(nid, "contains"):
            yield p, "contains it"
        for r in tg.into(nid, "allocated_to"):
            yield r, "allocated to it"
    elif kind == "metric":
        for e in tg.out(nid, "measured_by"):
            yield e, "measures it"
    elif kind in ("requirement", "safety_goal"):
        if changed:
            for r in tg.out(nid, "refined_by"):
                yield r, "refines it"
            for p in tg.into(nid, "refined_by"):
                yield p, "refined by it"
            for e in tg.out(nid, "supported_by"):
                yield e, "supports it"
        for e in tg.out(nid, "verified_by"):
            yield e, "verifies it"
    elif kind == "hazard":
        for g in tg.out(nid, "mitigated_by"):
            yield g, "mitigates it"
        if changed:
            for e in tg.out(nid, "supported_by"):
                yield e, "supports it"


def _walk(tg: TraceGraph, seeds: list[tuple[str, bool, tuple[str, ...], str]]) -> dict[str, tuple[tuple[str, ...], str]]:
    """BFS from seeds (node, changed?, path so far, reason); returns node -> (path, reason) for reached nodes."""
    reached: dict[str, tuple[tuple[str, ...], str]] = {}
    queue: deque[tuple[str, bool, tuple[str, ...], str]] = deque(sorted(seeds))
    seen: set[str] = set()
    while queue:
        nid, changed, path, reason = queue.popleft()
        if nid not in tg.graph or nid in seen:
            continue
        seen.add(nid)
        reached.setdefault(nid, (path, reason))
        for nxt, how in _steps(tg, nid, changed):
            if nxt not in seen:
                queue.append((nxt, False, path + (tg.name(nxt),), how))
    return reached


def _seeds(changes: list[Change], tg: TraceGraph, side: str, renames: dict[str, str]) -> list[tuple[str, bool, tuple[str, ...], str]]:
    """Start nodes on one side ('old' or 'new')."""
    out: list[tuple[str, bool, tuple[str, ...], str]] = []
    for c in changes:
        if side == "new" and c.status == "removed":
            continue
        if side == "old" and c.status == "added":
            continue
        if c.status == "renamed" and not c.fields:
            continue  # a pure rename changes no content
        if c.kind == "component" and not c.owner and c.status in ("changed", "renamed") and not c.fields:
            continue  # only its members changed: they are seeds of their own
        key = c.old_key or c.key if side == "old" else c.key
        if c.owner:
            owner = c.owner if side == "new" else {v: k for k, v in renames.items()}.get(c.owner, c.owner)
            label = f"{owner.rpartition('.')[2]}.{c.key}"
            out.append((node_id("component", owner), True, (label,), "changed"))
            if c.kind == "metric":
                out.append((node_id("metric", c.key), True, (label,), "changed"))
            elif c.kind in ("ml_model", "dataset"):
                comp = node_id("component", owner)
                if comp in tg.graph:
                    for m in tg.out(comp, "has_metric"):
                        out.append((m, True, (label,), "measured on a changed model or dataset"))
                        out += _verification_seeds(tg, m, label)
        elif c.kind in TOP_KINDS:
            out.append((node_id(c.kind, key), True, (key.rpartition(".")[2],), "changed"))
    return out


def _verification_seeds(tg: TraceGraph, metric: str, label: str) -> list[tuple[str, bool, tuple[str, ...], str]]:
    """A metric measured on other data: the requirements its evidence verifies and the goals they refine (up
    the refinement) rest on a measurement that no longer holds. The walk alone stops at the evidence."""
    out: list[tuple[str, bool, tuple[str, ...], str]] = []
    for ev in tg.out(metric, "measured_by"):
        for req in tg.into(ev, "verified_by"):
            path: tuple[str, ...] = (label, tg.name(ev), tg.name(req))
            out.append((req, False, path, "verified by metric evidence measured on a changed model or dataset"))
            seen = {req}
            todo: list[tuple[str, tuple[str, ...]]] = [(req, path)]
            while todo:
                node, p = todo.pop()
                for parent in tg.into(node, "refined_by"):
                    if parent not in seen:
                        seen.add(parent)
                        todo.append((parent, p + (tg.name(parent),)))
                        out.append((parent, False, p + (tg.name(parent),),
                                    "refined by a requirement whose metric evidence is suspect"))
    return out


def impact_set(
    changes: list[Change], old: TraceGraph, new: TraceGraph, hazards: list[HazardDelta], renames: dict[str, str]
) -> list[ImpactItem]:
    seeds_new = _seeds(changes, new, "new", renames)
    seeds_old = _seeds(changes, old, "old", renames)
    back = {v: k for k, v in renames.items()}
    for hd in hazards:
        if hd.status == "changed":
            causes = _tree_causes(changes, old, new, hd, back)
            seeds_new.append((node_id("hazard", hd.hazard), False, (*causes, hd.name), _tree_reason(hd)))
    direct = {s[0] for s in seeds_new if s[3] == "changed"}
    reached_new = _walk(new, seeds_new)
    reached_old = _walk(old, seeds_old)
    fwd = dict(renames)
    items: dict[str, ImpactItem] = {}
    for nid, (path, reason) in sorted(reached_new.items()):
        kind, key = split_id(nid)
        if kind in IMPACT_KINDS and nid not in direct:
            items[nid] = ImpactItem(nid, kind, new.name(nid), _reason(kind, reason), path)
    direct_old = {s[0] for s in seeds_old if s[3] == "changed"}
    for nid, (path, reason) in sorted(reached_old.items()):
        kind, key = split_id(nid)
        if kind not in IMPACT_KINDS or nid in direct_old:
            continue
        mapped = node_id(kind, fwd.get(key, key))
        if mapped in items or mapped in direct:
            continue
        gone = mapped not in new.graph
        if gone and any(c.status == "removed" and c.key == key for c in changes):
            continue  # itself removed: listed with the changes
        name = new.name(mapped) if not gone else old.name(nid)
        items[mapped] = ImpactItem(mapped, kind, name, _reason(kind, reason), path, gone)
    return sorted(items.values(), key=lambda i: (IMPACT_KINDS.index(i.kind), i.name))


def _tree_causes(changes: list[Change], old: TraceGraph, new: TraceGraph, hd: HazardDelta,
                 back: dict[str, str]) -> tuple[str, ...]:
    """The changed components with a failure mode (in them or in their parts) in the hazard's cut sets,
    before or after the change: what moved the tree."""
    comps = sorted({c.owner for c in changes if c.owner and not (c.status == "renamed" and not c.fields)}
                   | {c.key for c in changes if c.kind == "component" and not c.owner and c.fields})
    out = []
    for q in comps:
        hit = False
        for tg, hq, cq in ((new, hd.hazard, q), (old, back.get(hd.hazard, hd.hazard), back.get(q, q))):
            hn, cn = node_id("hazard", hq), node_id("component", cq)
            if hn in tg.graph and cn in tg.graph and set(tg.failure_modes_under(cn)) & set(tg.out(hn, "cut_set_member")):
                hit = True
        if hit:
            out.append(q.rpartition(".")[2])
    return (", ".join(out),) if out else ()


def _tree_reason(hd: HazardDelta) -> str:
    parts = []
    if hd.p_old is not None and hd.p_new is not None and f"{hd.p_old:.4g}" != f"{hd.p_new:.4g}":
        parts.append(f"P(top) {hd.p_old:.4g} → {hd.p_new:.4g}")
    if hd.added or hd.removed:
        parts.append(f"cut sets +{len(hd.added)} −{len(hd.removed)}")
    if hd.events:
        shown = ", ".join(f"{e} {a:.3g} → {b:.3g}" for e, a, b in hd.events[:3])
        more = f" (+{len(hd.events) - 3} more)" if len(hd.events) > 3 else ""
        parts.append(f"event probabilities {shown}{more}")
    return "fault tree changed: " + ", ".join(parts) if parts else "fault tree changed"


def _reason(kind: str, how: str) -> str:
    if kind == "evidence":
        return f"suspect: {how}" if how != "changed" else "suspect"
    return how


# -- entry point --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One version as the diff sees it: its model (None where nothing parsed), the model check's diagnostics and
    file count. A side with errors still gets the structural diff; its results are not computed."""

    model: Model | None
    diagnostics: tuple[Diagnostic, ...] = ()
    file_count: int = 0
    label: str = ""
    results: tuple[str, ...] = ()  # CI result files or folders of this version (its ci-results/, as sops gate)
    ops: OpsResults | None = None  # what the model registry says about this version's ML models

    @property
    def ok(self) -> bool:
        return self.model is not None and not blocking_errors(self.diagnostics)


def _results(side: Side) -> Results | None:
    if not side.ok or side.model is None:
        return None
    # staleness against the repository belongs to `sops trace`; the CI results a version ships are compared,
    # as `sops gate` and `sops build` read them
    return analyse(side.model, Options(results=side.results, use_git=False, check_stale=False, ops=side.ops,
                                       campaign_results=default_campaign_results(side.results)))


def _trace_of(side: Side, results: Results | None) -> TraceGraph | None:
    if results is not None:
        return results.trace
    if side.model is None:
        return None
    try:
        return build_trace(side.model, None, check_stale=False, use_git=False)
    except Exception:  # noqa: BLE001 - a model with errors may hold holes no analysis expects; the diff goes on
        return None


def diff_sides(old: Side, new: Side) -> ModelDiff:
    """The element changes, and, where both sides are free of errors, every result that moved."""
    om = old.model if old.model is not None else _empty_like(new.model)
    nm = new.model if new.model is not None else _empty_like(old.model)
    changes, renames, members = semantic_diff(om, nm)
    r_old, r_new = _results(old), _results(new)
    tg_old, tg_new = _trace_of(old, r_old), _trace_of(new, r_new)
    emap = event_map(om, renames, members)
    hazards: list[HazardDelta] = []
    goals: list[GoalDelta] = []
    impact: list[ImpactItem] = []
    if tg_old is not None and tg_new is not None:
        if r_old is not None and r_new is not None:
            hazards = hazard_deltas(tg_old, tg_new, renames, emap)
            goals = goal_deltas(tg_old, tg_new, renames)
        impact = impact_set(changes, tg_old, tg_new, hazards, renames)
    names = {q.rpartition(".")[2]: n.rpartition(".")[2] for q, n in renames.items()}

    def rename(text: str) -> str:
        return emap.get(text) or renames.get(text) or names.get(text, text)

    gate_old = gate_items(r_old, old.diagnostics, old.file_count) if r_old is not None else _gate_errors(old)
    gate_new = gate_items(r_new, new.diagnostics, new.file_count) if r_new is not None else _gate_errors(new)
    deltas = result_deltas(r_old, r_new, gate_old, gate_new, rename)
    cov_old = r_old.coverage if r_old is not None else None
    cov_new = r_new.coverage if r_new is not None else None
    return ModelDiff(changes, hazards, goals, impact, cov_old, cov_new, renames, old.label, new.label,
                     deltas=deltas, errors_old=not old.ok, errors_new=not new.ok)


def _gate_errors(side: Side) -> list[GateItem]:
    """A side with errors: its gate is the failing model check."""
    errors, warnings = count(list(side.diagnostics))
    n = side.file_count
    return [GateItem("model check", f"{n} file{'s' if n != 1 else ''}", FAIL, f"{errors} errors, {warnings} warnings")]


def _empty_like(model: Model | None) -> Model:
    return Model(root=model.root if model is not None else Path("."), files=[])


def diff_models(
    old: Model, new: Model, old_label: str = "old", new_label: str = "new",
    progress: Callable[[str], None] | None = None,
) -> ModelDiff:
    """Two models free of errors (library users and tests)."""
    return diff_sides(Side(old, label=old_label), Side(new, label=new_label))
