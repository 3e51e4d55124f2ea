"""`sops reqif export`: hazards, safety goals and requirements as one ReqIF 1.2 document.

Objects carry their qualified name in ReqIF.ForeignID and their title in ReqIF.Text; `mitigates` and
`refines` are SPEC-RELATIONs; evidence is an attribute (it lives in the model
and in CI, not in the requirement tool; items are separated by "; "). One SPECIFICATION holds the tree a reader of the safety concept
expects: each hazard, the goals mitigating it, the requirements refining them; an element reached twice
appears twice (ReqIF allows a SPEC-OBJECT under several SPEC-HIERARCHY nodes). The bytes depend on the
model only: identifiers come from qualified names, objects are sorted, the times are fixed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from reqif.models.reqif_core_content import ReqIFCoreContent
from reqif.models.reqif_data_type import ReqIFDataTypeDefinitionString
from reqif.models.reqif_namespace_info import ReqIFNamespaceInfo
from reqif.models.reqif_req_if_content import ReqIFReqIFContent
from reqif.models.reqif_reqif_header import ReqIFReqIFHeader
from reqif.models.reqif_spec_hierarchy import ReqIFSpecHierarchy
from reqif.models.reqif_spec_object import ReqIFSpecObject, SpecObjectAttribute
from reqif.models.reqif_spec_object_type import ReqIFSpecObjectType, SpecAttributeDefinition
from reqif.models.reqif_spec_relation import ReqIFSpecRelation
from reqif.models.reqif_spec_relation_type import ReqIFSpecRelationType
from reqif.models.reqif_specification import ReqIFSpecification
from reqif.models.reqif_specification_type import ReqIFSpecificationType
from reqif.models.reqif_types import SpecObjectAttributeType
from reqif.object_lookup import ReqIFObjectLookup
from reqif.reqif_bundle import ReqIFBundle
from reqif.unparser import ReqIFUnparser

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.elements import Location
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.links import links
from safetyops_dsl.model.semantics import derived_asil, goal_asil
from safetyops_dsl.reqif import vocabulary as v

NAMESPACE = "http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"
XHTML = "http://www.w3.org/1999/xhtml"
STRING = SpecObjectAttributeType.STRING
DATATYPE = v.ID_PREFIX + "string"
MAX_LENGTH = "1000000"


def timestamp() -> str:
    """SOURCE_DATE_EPOCH as an xsd:dateTime, or the epoch: never the clock."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw), tz=UTC).isoformat()
    return v.EPOCH


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text)


def object_id(kind_type: str, qname: str) -> str:
    return f"{v.ID_PREFIX}{_slug(kind_type.lower().replace(' ', '-'))}-{qname}"


def _type_id(type_name: str) -> str:
    return f"{v.ID_PREFIX}type-{_slug(type_name.lower().replace(' ', '-'))}"


def _attr_id(type_name: str, attr: str) -> str:
    return f"{_type_id(type_name)}-{_slug(attr.lower())}"


def _relation_type_id(name: str) -> str:
    return f"{v.ID_PREFIX}relation-{name}"


@dataclass(frozen=True)
class Item:
    type_name: str  # vocabulary.HAZARD | GOAL | REQUIREMENT
    qname: str
    values: dict[str, str]


def _hours(h: float | None) -> str:
    return "" if h is None else f"{h:g} per h"


def _seconds(s: float | None) -> str:
    if s is None:
        return ""
    return f"{s * 1000:g} ms" if s < 1 else f"{s:g} s"


def _source(model: Model, loc: Location) -> str:
    return f"{model.rel_path(loc.file)}:{loc.line}"


def items(model: Model) -> list[Item]:
    """Every exported object with its attribute values, in a fixed order (hazards, goals, requirements)."""
    ln = links(model)
    evidence: dict[str, list[str]] = {}
    for q in sorted(model.evidence):
        ev = model.evidence[q]
        for _, target in ln.verifies.get(q, ()):
            evidence.setdefault(target, []).append(f"{ev.qualified_name} ({ev.kind}): {ev.source}")
    out: list[Item] = []
    for q in sorted(model.hazards):
        hz = model.hazards[q]
        out.append(Item(v.HAZARD, q, {
            v.FOREIGN_ID: q, v.TEXT: hz.title, v.SITUATION: hz.situation,
            v.SEVERITY: hz.severity.text if hz.severity else "",
            v.EXPOSURE: hz.exposure.text if hz.exposure else "",
            v.CONTROLLABILITY: hz.controllability.text if hz.controllability else "",
            v.INTEGRITY: str(hz.typed_asil) if hz.typed_asil else (derived_asil(hz) or ""),
            v.EVIDENCE: "; ".join(evidence.get(q, [])), v.SOURCE: _source(model, hz.location),
        }))
    for q in sorted(model.goals):
        g = model.goals[q]
        out.append(Item(v.GOAL, q, {
            v.FOREIGN_ID: q, v.TEXT: g.title, v.SAFE_STATE: g.safe_state, v.FTTI: _seconds(g.ftti_seconds),
            v.TARGET: _hours(g.target_per_hour), v.INTEGRITY: goal_asil(model, g) or "",
            v.EVIDENCE: "; ".join(evidence.get(q, [])), v.SOURCE: _source(model, g.location),
        }))
    for q in sorted(model.requirements):
        r = model.requirements[q]
        out.append(Item(v.REQUIREMENT, q, {
            v.FOREIGN_ID: q, v.TEXT: r.title, v.ALLOCATED_TO: ", ".join(a.text for a in r.allocated_to),
            v.INTEGRITY: str(r.asil) if r.asil else "",
            v.EVIDENCE: "; ".join(evidence.get(q, [])), v.SOURCE: _source(model, r.location),
        }))
    return out


def relations(model: Model) -> list[tuple[str, str, str]]:
    """(relation, source qname, target qname) for every resolved `mitigates` and `refines`, in model order."""
    ln = links(model)
    out: list[tuple[str, str, str]] = []
    for g in sorted(ln.hazards_of_goal):
        out.extend((v.MITIGATES, g, h) for h in ln.hazards_of_goal[g])
    for r in sorted(ln.parents_of_requirement):
        out.extend((v.REFINES, r, p) for _, p in ln.parents_of_requirement[r])
    return out


def _hierarchy(model: Model, ids: dict[str, str], ts: str) -> list[ReqIFSpecHierarchy]:
    ln = links(model)
    placed: set[str] = set()

    def node(qname: str, path: tuple[str, ...], level: int) -> ReqIFSpecHierarchy:
        placed.add(qname)
        below = sorted(ln.goals_of_hazard.get(qname, ())) if qname in model.hazards else sorted(ln.children.get(qname, ()))
        # refinement is acyclic in a model that checks (SOPS072); the path guard keeps a broken one finite
        kids = [node(k, (*path, k), level + 1) for k in below if k not in path]
        return ReqIFSpecHierarchy(
            identifier=f"{v.ID_PREFIX}node-" + "--".join(_slug(p) for p in path), spec_object=ids[qname],
            level=level, children=kids or None, last_change=ts, is_self_closed=not kids,
        )

    roots = [node(h, (h,), 1) for h in sorted(model.hazards)]
    # goals that mitigate nothing and requirements that refine nothing still belong in the document
    for q in [*sorted(model.goals), *sorted(model.requirements)]:
        if q not in placed:
            roots.append(node(q, (q,), 1))
    return roots


def _attribute_definitions(type_name: str, ts: str) -> list[SpecAttributeDefinition]:
    return [
        SpecAttributeDefinition(attribute_type=STRING, identifier=_attr_id(type_name, a), datatype_definition=DATATYPE,
                                last_change=ts, long_name=a)
        for a in v.ATTRIBUTES[type_name]
    ]


def bundle(model: Model, title: str) -> ReqIFBundle:
    ts = timestamp()
    objs = items(model)
    ids = {it.qname: object_id(it.type_name, it.qname) for it in objs}
    spec_objects = [
        ReqIFSpecObject(
            identifier=ids[it.qname], spec_object_type=_type_id(it.type_name), last_change=ts,
            long_name=it.qname,
            attributes=[SpecObjectAttribute(attribute_type=STRING, definition_ref=_attr_id(it.type_name, a), value=it.values[a])
                        for a in v.ATTRIBUTES[it.type_name] if it.values.get(a)],
        )
        for it in objs
    ]
    spec_relations = [
        ReqIFSpecRelation(identifier=f"{v.ID_PREFIX}{kind}-{_slug(src)}--{_slug(dst)}", relation_type_ref=_relation_type_id(kind),
                          source=ids[src], target=ids[dst], last_change=ts)
        for kind, src, dst in relations(model) if src in ids and dst in ids
    ]
    types: list[Any] = [
        ReqIFSpecObjectType(identifier=_type_id(t), last_change=ts, long_name=t, attribute_definitions=_attribute_definitions(t, ts))
        for t in (v.HAZARD, v.GOAL, v.REQUIREMENT)
    ]
    types += [ReqIFSpecRelationType(identifier=_relation_type_id(r), last_change=ts, long_name=r) for r in v.RELATIONS]
    types.append(ReqIFSpecificationType(identifier=f"{v.ID_PREFIX}specification-type", last_change=ts, long_name="Safety concept"))
    spec = ReqIFSpecification(
        identifier=f"{v.ID_PREFIX}specification", last_change=ts, long_name=title,
        specification_type=f"{v.ID_PREFIX}specification-type", children=_hierarchy(model, ids, ts) or None,
    )
    content = ReqIFReqIFContent(
        data_types=[ReqIFDataTypeDefinitionString(identifier=DATATYPE, last_change=ts, long_name="Text", max_length=MAX_LENGTH)],
        spec_types=types,
        spec_objects=spec_objects, spec_relations=spec_relations or None, specifications=[spec],
    )
    namespace = ReqIFNamespaceInfo(
        original_reqif_tag_dump=None, doctype_is_present=True, encoding="UTF-8", namespace=NAMESPACE,
        configuration=None, namespace_id=None, namespace_xhtml=XHTML, schema_namespace=None, schema_location=None,
        language=None,
    )
    header = ReqIFReqIFHeader(
        identifier=f"{v.ID_PREFIX}header", creation_time=ts, req_if_tool_id="safetyops-dsl",
        req_if_version="1.0", source_tool_id="safetyops-dsl",
        title=escape(title),  # the library writes header text as given (attribute values it escapes itself)
    )
    return ReqIFBundle(namespace_info=namespace, req_if_header=header, core_content=ReqIFCoreContent(req_if_content=content),
                       tool_extensions_tag_exists=False, lookup=ReqIFObjectLookup.empty(), exceptions=[])


def line_breaks(model: Model) -> list[Diagnostic]:
    """Texts the export cannot carry: the reqif library writes string attributes unescaped for line breaks,
    which XML readers turn into spaces. Refused rather than changed on the way."""
    out = []
    for it in items(model):
        element: el.Hazard | el.SafetyGoal | el.Requirement = (
            model.hazards.get(it.qname) or model.goals.get(it.qname) or model.requirements[it.qname])
        for attr in (v.TEXT, v.SITUATION, v.SAFE_STATE):
            if "\n" in it.values.get(attr, "") or "\r" in it.values.get(attr, ""):
                out.append(dg.make(dg.REQIF_LINE_BREAK, f"{it.qname}: {attr} has a line break", element.location,
                                   "write the text on one line"))
    return out


def export(model: Model, title: str = "") -> str:
    return ReqIFUnparser.unparse(bundle(model, title or f"Safety concept of {model.root.name}"))


def exported_kinds(objs: Iterable[Item]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for it in objs:
        counts[it.type_name] = counts.get(it.type_name, 0) + 1
    return counts
