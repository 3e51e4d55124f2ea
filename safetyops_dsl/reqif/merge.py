"""`sops reqif import`: what a ReqIF file changes in a model's requirements, as new file texts.

The rules, for a safety engineer who must not lose a word:
- A requirement is matched by ReqIF.ForeignID, its qualified name (`package.Name`); ids are never renamed.
- What the file may change: the text (title), the `refines` links, `allocated_to`, the `asil`. A requirement
  whose values are unchanged keeps its bytes; a changed one is rewritten in place (comments inside it move
  above it, never dropped); a new one is appended to the file of its first refined parent in its package (or
  the package's first file).
- Hazards and goals are analysed in the model, not in the requirement tool: a difference is reported
  (SOPS266), not imported. A model requirement the file does not hold is reported (SOPS267) and kept.
- The new texts are checked as a whole before anything is written: an import that would break the model
  (SOPS265) writes nothing. The caller prints each file's diff, and writes each file atomically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.api import Checked, check
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.fmt import FormatError, comments, format_text
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.links import links
from safetyops_dsl.model.semantics import derived_asil, goal_asil
from safetyops_dsl.reqif import vocabulary as v
from safetyops_dsl.reqif.export import object_id
from safetyops_dsl.reqif.read import Document, ReqifObject

_QNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")
_ASIL = re.compile(r"(QM|[A-D])(\((QM|[A-D])\))?")


@dataclass(frozen=True)
class Wanted:
    """A requirement as the ReqIF file states it."""

    qname: str
    title: str
    refines: tuple[str, ...]  # qualified names of goals and requirements
    allocated_to: tuple[str, ...]  # as written
    asil: str  # as written, "" for none
    line: int

    @property
    def package(self) -> str:
        return self.qname.rpartition(".")[0]

    @property
    def name(self) -> str:
        return self.qname.rpartition(".")[2]


@dataclass
class Plan:
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # display path -> (before, after)
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # the imported texts, for showing where an SOPS265 points (the file on disk does not hold them)
    sources: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not dg.has_errors(self.diagnostics)


def _at(doc: Document, line: int) -> Location:
    return Location(doc.path, line, 0)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def render(name: str, want: Wanted, refines: Iterable[str]) -> str:
    """A requirement block in the layout of the examples: the head, then its attributes on one line."""
    attrs = []
    refs = list(refines)
    if refs:
        attrs.append("refines " + ", ".join(refs))
    if want.allocated_to:
        attrs.append("allocated_to " + ", ".join(want.allocated_to))
    if want.asil:
        attrs.append("asil " + want.asil)
    head = f"requirement {name} {_quote(want.title)}"
    return head + ("\n    " + "  ".join(attrs) if attrs else "")


def _offset(text: str, line: int, col: int) -> int:
    """Character offset of a 1-based line and column (columns count code points, as Location's do)."""
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts[line - 1] + col - 1


def _wanted(doc: Document, model: Model, plan: Plan) -> dict[str, Wanted]:
    by_id = doc.by_identifier()
    seen: dict[str, ReqifObject] = {}
    stores: dict[str, Mapping[str, object]] = {"hazard": model.hazards, "safety_goal": model.goals, "component": model.components,
              "evidence": model.evidence, "argument": model.arguments}
    packages = {f.package for f in model.files}
    reqs: list[ReqifObject] = []
    for o in doc.objects:
        if o.kind is None:
            continue
        fid = o.foreign_id
        if o.kind == "requirement":
            if not _QNAME.fullmatch(fid):
                plan.diagnostics.append(dg.make(
                    dg.REQIF_NO_ID, f"requirement {o.identifier!r} has ReqIF.ForeignID {fid!r}, not a qualified name",
                    _at(doc, o.line), "set ReqIF.ForeignID to the requirement's name in the model, e.g. aeb.FSR7"))
                continue
            if fid.rpartition(".")[0] not in packages:
                plan.diagnostics.append(dg.make(
                    dg.REQIF_NO_ID, f"requirement {fid}: no file of the model declares package {fid.rpartition('.')[0]}",
                    _at(doc, o.line), "packages of the model: " + ", ".join(sorted(packages))))
                continue
            clash = next((k for k, store in stores.items() if fid in store), None)
            if clash:
                plan.diagnostics.append(dg.make(
                    dg.REQIF_COLLISION, f"requirement {fid} has the name of a {clash.replace('_', ' ')} of the model",
                    _at(doc, o.line)))
                continue
        if fid in seen:
            plan.diagnostics.append(dg.make(
                dg.REQIF_COLLISION, f"{fid} is the ReqIF.ForeignID of two objects ({seen[fid].identifier}, {o.identifier})",
                _at(doc, o.line), f"the first is on line {seen[fid].line}"))
            continue
        seen[fid] = o
        if o.kind == "requirement":
            reqs.append(o)
    refines: dict[str, list[str]] = {}
    for rel in doc.relations:
        if rel.type_name != v.REFINES:
            continue
        src, dst = by_id.get(rel.source), by_id.get(rel.target)
        if src is None or src.kind != "requirement":
            continue
        # a relation to an object the file no longer holds may still name a model element by our own id
        target = dst.foreign_id if dst is not None else _own_id(rel.target)
        known = target in model.goals or target in model.requirements or any(r.foreign_id == target for r in reqs)
        if not known:
            plan.diagnostics.append(dg.make(
                dg.REQIF_UNKNOWN_REF, f"{src.foreign_id} refines {target or rel.target!r}, which is neither a safety goal "
                "or requirement of the model nor a requirement of the file", _at(doc, rel.line)))
            continue
        refines.setdefault(src.foreign_id, []).append(target)
    out: dict[str, Wanted] = {}
    for o in reqs:
        asil = o.values.get(v.INTEGRITY, "").strip()
        if asil and not _ASIL.fullmatch(asil):
            plan.diagnostics.append(dg.make(
                dg.BAD_VALUE, f"requirement {o.foreign_id}: {v.INTEGRITY} {asil!r} is not an ASIL", _at(doc, o.line),
                "QM, A, B, C or D, decomposed as B(D)"))
            continue
        out[o.foreign_id] = Wanted(o.foreign_id, o.values.get(v.TEXT, "").strip(), tuple(dict.fromkeys(refines.get(o.foreign_id, []))),
                                   _split(o.values.get(v.ALLOCATED_TO, "")), asil, o.line)
    _report_unimported(doc, model, seen, plan)
    return out


def _own_id(identifier: str) -> str:
    for type_name in (v.GOAL, v.REQUIREMENT):
        prefix = object_id(type_name, "")
        if identifier.startswith(prefix):
            return identifier[len(prefix):]
    return ""


def _report_unimported(doc: Document, model: Model, seen: dict[str, ReqifObject], plan: Plan) -> None:
    for fid, o in sorted(seen.items()):
        if o.kind == "hazard":
            hz = model.hazards.get(fid)
            have = None if hz is None else {
                v.TEXT: hz.title, v.SITUATION: hz.situation, v.SEVERITY: hz.severity.text if hz.severity else "",
                v.EXPOSURE: hz.exposure.text if hz.exposure else "",
                v.CONTROLLABILITY: hz.controllability.text if hz.controllability else "",
                v.INTEGRITY: str(hz.typed_asil) if hz.typed_asil else (derived_asil(hz) or "")}
        elif o.kind == "safety_goal":
            g = model.goals.get(fid)
            have = None if g is None else {v.TEXT: g.title, v.SAFE_STATE: g.safe_state, v.INTEGRITY: goal_asil(model, g) or ""}
        else:
            continue
        what = "hazard" if o.kind == "hazard" else "safety goal"
        if have is None:
            plan.diagnostics.append(dg.make(dg.REQIF_NOT_IMPORTED, f"new {what} {fid} not imported", _at(doc, o.line),
                                            f"hazards and safety goals are written in the model: add {fid} there"))
            continue
        differ = [a for a, value in have.items() if o.values.get(a, "").strip() != value.strip()]
        if differ:
            plan.diagnostics.append(dg.make(
                dg.REQIF_NOT_IMPORTED, f"{what} {fid} differs from the model in {', '.join(differ)}; not imported",
                _at(doc, o.line), "hazards and safety goals are analysed in the model: change them there"))


def _current(model: Model, req: el.Requirement) -> tuple[str, frozenset[str], tuple[str, ...], str]:
    parents = frozenset(q for _, q in links(model).parents_of_requirement.get(req.qualified_name, ()))
    return (req.title, parents, tuple(a.text for a in req.allocated_to), str(req.asil) if req.asil else "")


def _ref_text(model: Model, package: str, qname: str) -> str:
    """The shortest name that resolves to qname from `package`."""
    short = qname.rpartition(".")[2]
    if qname.rpartition(".")[0] == package:
        return short
    return qname if model.lookup(short, ("safety_goal", "requirement"), package) != (_kind_of(model, qname), qname) else short


def _kind_of(model: Model, qname: str) -> str:
    return "safety_goal" if qname in model.goals else "requirement"


def plan_import(doc: Document, checked: Checked, paths: Iterable[str], root: str | None = None) -> Plan:
    plan = Plan()
    model = checked.model
    assert model is not None
    wanted = _wanted(doc, model, plan)
    if not plan.ok:
        return plan
    texts: dict[str, str] = {}

    def text_of(path: str) -> str:
        if path not in texts:
            texts[path] = Path(path).read_text(encoding="utf-8")
        return texts[path]

    # rewrite from the end of each file backwards, so earlier offsets stay valid
    edits: dict[str, list[tuple[int, int, str]]] = {}
    for q in sorted(wanted):
        want = wanted[q]
        req = model.requirements.get(q)
        if req is None:
            continue
        title, parents, alloc, asil = _current(model, req)
        if (title, parents, alloc, asil) == (want.title, frozenset(want.refines), want.allocated_to, want.asil):
            plan.unchanged.append(q)
            continue
        loc = req.location
        text = text_of(loc.file)
        start, end = _offset(text, loc.line, loc.col), _offset(text, loc.end_line, loc.end_col)
        kept = comments(text[start:end])
        refs = ([r.text for r in req.refines] if parents == frozenset(want.refines)
                else [_ref_text(model, req.package, p) for p in want.refines])
        block = render(req.name, want, refs)
        indent = text[_offset(text, loc.line, 1):start]
        prefix = "".join(f"{c}\n{indent}" for c in kept)
        edits.setdefault(loc.file, []).append((start, end, prefix + block.replace("\n", "\n" + indent)))
        plan.updated.append(q)
    files_of: dict[str, str] = {}
    appended: dict[str, list[str]] = {}
    for f in sorted(model.files, key=lambda f: f.path):
        files_of.setdefault(f.package, f.path)
    for q in sorted(set(wanted) - set(model.requirements)):
        want = wanted[q]
        home = next((_home(model, p) for p in want.refines if p.rpartition(".")[0] == want.package and _home(model, p)), None)
        path = home or files_of[want.package]
        refs = [_ref_text(model, want.package, p) for p in want.refines]
        appended.setdefault(path, []).append(render(want.name, want, refs))
        plan.added.append(q)
    for path, blocks in appended.items():
        text = text_of(path)
        last = _last_requirement_line(model, path)
        if last is None or last >= len(text.splitlines()):
            texts[path] = text.rstrip("\n") + "\n\n" + "\n".join(blocks) + "\n"
        else:  # after the file's last requirement, so that the new ones stay with the others
            at = _offset(text, last + 1, 1)
            edits.setdefault(path, []).append((at, at, "".join(b + "\n" for b in blocks)))
    for path, spans in edits.items():
        text = text_of(path)
        for start, end, new in sorted(spans, reverse=True):
            text = text[:start] + new + text[end:]
        texts[path] = text
    for q in sorted(set(model.requirements) - set(wanted)):
        plan.diagnostics.append(dg.make(dg.REQIF_REQUIREMENT_ABSENT, f"requirement {q} is not in {doc.path}; kept",
                                        model.requirements[q].location, "delete it in the model if it is meant to go"))
    for path in sorted(texts):
        before = Path(path).read_text(encoding="utf-8")
        after = texts[path]
        try:
            if format_text(before) == before:  # a file kept in the canonical layout stays in it
                after = format_text(after)
        except FormatError:
            pass
        if after != before:
            plan.files[path] = (before, after)
    if plan.files:
        _recheck(plan, checked, list(paths), root)
    return plan


def _last_requirement_line(model: Model, path: str) -> int | None:
    ends = [r.location.end_line for r in model.requirements.values() if r.location.file == path]
    return max(ends) if ends else None


def _home(model: Model, qname: str) -> str | None:
    element = model.goals.get(qname) or model.requirements.get(qname)
    return element.location.file if element is not None else None


def _recheck(plan: Plan, before: Checked, paths: list[str], root: str | None) -> None:
    model = before.model
    assert model is not None
    old = {(d.code, d.message) for d in before.diagnostics if d.level is dg.Severity.ERROR}
    after = check(paths, root=root, overrides={p: t for p, (_, t) in plan.files.items()})
    new = [d for d in after.diagnostics if d.level is dg.Severity.ERROR and (d.code, d.message) not in old]
    plan.sources = {p: t.splitlines() for p, (_, t) in plan.files.items()}
    for d in new:
        plan.diagnostics.append(dg.make(
            dg.REQIF_BREAKS_MODEL, f"after the import: {d.code}: {d.message}", d.location,
            "nothing was written; correct the ReqIF file (or the model) and import again"))
