"""A small, safe XML reader that keeps line and column numbers (for positioned diagnostics).

defusedxml's SAX parser refuses entity declarations (billion laughs, quadratic blow-up) and external
references; its locator gives the position of each start tag. The result is a minimal element tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from safetyops_dsl.diagnostics import UNREADABLE, XML_ERROR, DiagnosticError, Location, make


@dataclass(eq=False, slots=True)
class Element:
    tag: str
    attrib: dict[str, str]
    loc: Location
    children: list[Element] = field(default_factory=list)
    text: str = ""

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.attrib.get(key, default)


def parse_file(path: str) -> Element:
    import xml.sax
    import xml.sax.handler

    from defusedxml import DefusedXmlException
    from defusedxml.sax import make_parser

    class Handler(xml.sax.handler.ContentHandler):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[Element] = []
            self.root: Element | None = None
            self.locator: Any = None
            self.text: list[list[str]] = []

        def setDocumentLocator(self, locator: Any) -> None:  # noqa: N802 (SAX API)
            self.locator = locator

        def here(self) -> Location:
            if self.locator is None:
                return Location(path)
            return Location(path, self.locator.getLineNumber(), self.locator.getColumnNumber() + 1)

        def startElement(self, name: str, attrs: Any) -> None:  # noqa: N802
            el = Element(name, dict(attrs.items()), self.here())
            if self.stack:
                self.stack[-1].children.append(el)
            else:
                self.root = el
            self.stack.append(el)
            self.text.append([])

        def endElement(self, name: str) -> None:  # noqa: N802
            el = self.stack.pop()
            el.text = "".join(self.text.pop()).strip()

        def characters(self, content: str) -> None:
            if self.text:
                self.text[-1].append(content)

    handler = Handler()
    parser = make_parser()
    parser.setContentHandler(handler)
    # No external entities, no DTD fetching.
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setFeature(xml.sax.handler.feature_external_pes, False)
    try:
        with open(path, "rb") as fh:
            parser.parse(fh)
    except OSError as exc:
        raise DiagnosticError([make(UNREADABLE, f"cannot read '{path}': {exc.strerror or exc}", Location(path))]) from None
    except xml.sax.SAXParseException as exc:
        loc = Location(path, exc.getLineNumber() or 0, (exc.getColumnNumber() or 0) + 1)
        raise DiagnosticError([make(XML_ERROR, f"malformed XML: {exc.getMessage()}", loc)]) from None
    except DefusedXmlException as exc:
        raise DiagnosticError(
            [
                make(
                    XML_ERROR,
                    f"refused unsafe XML: {_describe(exc)}",
                    handler.here(),
                    hint="entity declarations and external references are not allowed in Open-PSA input",
                )
            ]
        ) from None
    except ValueError as exc:  # e.g. undecodable bytes
        raise DiagnosticError([make(XML_ERROR, f"malformed XML: {exc}", Location(path))]) from None
    if handler.root is None:
        raise DiagnosticError([make(XML_ERROR, "malformed XML: no root element", Location(path))])
    return handler.root


def _describe(exc: Exception) -> str:
    name = getattr(exc, "name", None)
    kind = type(exc).__name__
    if kind == "EntitiesForbidden":
        return f"entity declaration '{name}' (entity expansion can exhaust memory)"
    if kind == "DTDForbidden":
        return "document type declaration"
    if kind == "ExternalReferenceForbidden":
        return f"external reference '{getattr(exc, 'sysid', '')}'"
    return kind
