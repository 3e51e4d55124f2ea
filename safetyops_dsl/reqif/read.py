"""Read a ReqIF file from outside, as hostile input: size bound, no DTD or entities (defusedxml screens the bytes
first), the ReqIF 1.2 XSD, then the `reqif` library's object model reduced to what an import needs.

Every refusal is a diagnostic at the file and line where the XML says so; nothing here raises."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as safe_et
import reqif
import xmlschema
from defusedxml import DefusedXmlException
from lxml import etree
from reqif.models.error_handling import ReqIFSchemaError, ReqIFXMLParsingError
from reqif.models.reqif_types import SpecObjectAttributeType
from reqif.parser import ReqIFParser

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.reqif import vocabulary as v

DEFAULT_MAX_MB = 64
SCHEMA_ERRORS_SHOWN = 5


@dataclass(frozen=True)
class ReqifObject:
    identifier: str
    type_name: str  # the SPEC-OBJECT-TYPE's long name
    values: dict[str, str]  # attribute long name -> value
    line: int

    @property
    def kind(self) -> str | None:
        return v.KIND_OF_TYPE.get(self.type_name)

    @property
    def foreign_id(self) -> str:
        return self.values.get(v.FOREIGN_ID, "").strip()


@dataclass(frozen=True)
class ReqifRelation:
    identifier: str
    type_name: str  # the SPEC-RELATION-TYPE's long name
    source: str  # spec object identifiers
    target: str
    line: int


@dataclass
class Document:
    path: str
    objects: list[ReqifObject] = field(default_factory=list)
    relations: list[ReqifRelation] = field(default_factory=list)

    def by_identifier(self) -> dict[str, ReqifObject]:
        return {o.identifier: o for o in self.objects}


@cache
def _schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(os.path.join(os.path.dirname(reqif.__file__), "reqif_schema", "reqif.xsd"))


def _at(path: str, line: int = 0, col: int = 0) -> Location:
    return Location(path, line, col)


def read(path: str, max_mb: float = DEFAULT_MAX_MB) -> Document | list[Diagnostic]:
    shown = path
    try:
        size = Path(path).stat().st_size
        if size > max_mb * 1024 * 1024:
            return [dg.make(dg.REQIF_MALFORMED, f"ReqIF file of {size:,} bytes, above the limit of {max_mb:g} MB",
                            _at(shown), f"if the file is genuine, raise the limit: --max-size {math.ceil(size / 1024 / 1024)}")]
        raw = Path(path).read_bytes()
    except OSError as exc:
        return [dg.make(dg.UNREADABLE, f"cannot read {shown}: {exc.strerror or exc}", _at(shown))]
    try:
        # DTDs are refused outright: ReqIF has none, and they are how entity expansion and external reads hide
        safe_et.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as exc:
        what = {"DTDForbidden": "a DOCTYPE declaration", "EntitiesForbidden": "an entity declaration",
                "ExternalReferenceForbidden": "an external reference"}.get(type(exc).__name__, type(exc).__name__)
        return [dg.make(dg.REQIF_MALFORMED, f"refused: the file has {what}", _at(shown),
                        "a ReqIF file has no DOCTYPE, entity declarations or external references")]
    except safe_et.ParseError as exc:
        line, col = getattr(exc, "position", (0, 0))
        return [dg.make(dg.REQIF_MALFORMED, f"not well-formed XML: {exc}", _at(shown, line, col + 1))]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        tree = etree.fromstring(raw, parser).getroottree()
    except etree.XMLSyntaxError as exc:
        line, col = exc.position
        return [dg.make(dg.REQIF_MALFORMED, f"not well-formed XML: {exc.msg}", _at(shown, line, col))]
    errors: list[Diagnostic] = []
    for err in _schema().iter_errors(tree):
        if len(errors) == SCHEMA_ERRORS_SHOWN:
            break
        errors.append(dg.make(dg.REQIF_SCHEMA, f"not valid against the ReqIF 1.2 schema: {err.reason}",
                              _at(shown, int(getattr(err, "sourceline", 0) or 0)),
                              f"at {err.path}" if err.path else ""))
    if errors:
        return errors
    try:
        bundle = ReqIFParser.parse_from_string(raw.decode("utf-8"))
    except (ReqIFXMLParsingError, ReqIFSchemaError, UnicodeDecodeError) as exc:
        return [dg.make(dg.REQIF_MALFORMED, f"cannot read the ReqIF content: {exc}", _at(shown))]
    return _document(shown, bundle)


def _line(obj: Any) -> int:
    node = getattr(obj, "xml_node", None)
    return int(getattr(node, "sourceline", 0) or 0)


def _text(attribute: Any) -> str:
    """An attribute value as plain text: XHTML (how DOORS and Polarion send ReqIF.Text) loses its markup."""
    if attribute.attribute_type is SpecObjectAttributeType.XHTML:
        markup = attribute.value_stripped_xhtml or ""
        try:
            node = etree.fromstring(f"<x>{markup}</x>", etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            return " ".join(markup.split())
        return " ".join("".join(node.itertext()).split())
    value = attribute.value
    return value if isinstance(value, str) else ", ".join(value)


def _document(path: str, bundle: Any) -> Document:
    content = bundle.core_content.req_if_content if bundle.core_content else None
    doc = Document(path)
    if content is None:
        return doc
    type_names: dict[str, str] = {}
    attr_names: dict[str, str] = {}
    for t in content.spec_types or []:
        type_names[t.identifier] = t.long_name or t.identifier
        for a in getattr(t, "attribute_definitions", None) or []:
            attr_names[a.identifier] = a.long_name or a.identifier
    for o in content.spec_objects or []:
        values: dict[str, str] = {}
        for a in o.attributes:
            values[attr_names.get(a.definition_ref, a.definition_ref)] = _text(a)
        doc.objects.append(ReqifObject(o.identifier, type_names.get(o.spec_object_type, o.spec_object_type), values, _line(o)))
    for r in content.spec_relations or []:
        doc.relations.append(ReqifRelation(r.identifier, type_names.get(r.relation_type_ref, r.relation_type_ref),
                                           r.source, r.target, _line(r)))
    return doc
