"""A small, safe XML reader that keeps line and column numbers (for positioned diagnostics).

It drives pyexpat directly with the handlers defusedxml installs on its own parsers: entity declarations
(billion laughs, quadratic blow-up) and external references raise defusedxml's exceptions. defusedxml's SAX
front end is not used because `xml.sax` imports `urllib.request` (40 ms of `sops fta x.xml` start-up, more
than the whole analysis of most inputs). The result is a minimal element tree.

Plain XML (what Open-PSA files are: elements, attributes, comments, the predefined entities, printable ASCII)
is read first by the C fast path `_xmlk.parse`, which builds the same tree without a Python call per element;
anything else (a document type declaration, so any entity or external reference, other encodings, every
malformed file) goes to expat, which builds the tree or the positioned diagnostic. tests/unit/fta/test_xmlread.py
checks that both paths give the same tree.
"""

from __future__ import annotations

from collections.abc import Sequence

from safetyops_dsl.diagnostics import UNREADABLE, XML_ERROR, DiagnosticError, Location, make
from safetyops_dsl.fta._xmlk import ElementBase, parse

TYPE_CHECKING = False  # typing itself is not imported at run time (`sops fta` start-up)
if TYPE_CHECKING:
    from typing import NoReturn


class Element(ElementBase):
    """One XML element: tag, attributes, file, line, col, children, text and get(key, default) come from the C
    type (fta/_xmlk.c), so that its fast path makes elements without a Python call each. The position is kept
    as two integers and made a Location only when a diagnostic asks for it. Memory (the peak of reading a
    large file is its elements): the attributes are expat's flat list [name, value, ...], and an element
    without children shares one empty tuple until its first child."""

    __slots__ = ()
    children: Sequence[Element]

    @property
    def loc(self) -> Location:
        return Location(self.file, self.line, self.col)

    @property
    def attrib(self) -> dict[str, str]:
        a = self.attributes
        return dict(zip(a[::2], a[1::2], strict=True))


def parse_file(path: str) -> Element:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise DiagnosticError([make(UNREADABLE, f"cannot read '{path}': {exc.strerror or exc}", Location(path))]) from None
    root = parse(unix_newlines(data), path, Element)  # plain XML; None: anything else, read by expat below
    if root is not None:
        return root
    return _parse_with_expat(data, path)


def unix_newlines(data: bytes) -> bytes:
    """`data` with its line ends as XML reads them (XML 1.0 section 2.11: CR LF and a lone CR become LF) before
    anything else, so that the fast path, which takes LF only, also reads files written on Windows. Positions
    do not move: a carriage return only ever ends a line, and expat counts CR LF as one line end too."""
    if b"\r" not in data:
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _parse_with_expat(data: bytes, path: str) -> Element:
    from xml.parsers import expat

    from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden

    parser = expat.ParserCreate()
    parser.buffer_text = True  # one characters() call per text run
    parser.ordered_attributes = True  # a list [name, value, ...]: see Element
    top = Element("", [], path, 0, 0)  # holds the root element
    stack: list[Element] = [top]
    push, pop = stack.append, stack.pop

    def here() -> Location:
        return Location(path, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    # Text is collected inside <label> only, the one element whose text the MEF reader uses: a handler
    # call for every run of whitespace between elements cost a sixth of reading a large file.
    def start(name: str, attrs: list[str]) -> None:
        el = Element(name, attrs, path, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)
        parent = stack[-1]
        if parent.children:
            parent.children.append(el)  # type: ignore[attr-defined]  # a list once it has a child
        else:
            parent.children = [el]
        push(el)
        if name == "label":
            parser.CharacterDataHandler = characters

    def end(name: str) -> None:
        el = pop()
        if name == "label":
            parser.CharacterDataHandler = None
            el.text = el.text.strip()

    def characters(content: str) -> None:
        stack[-1].text += content

    def entity_decl(name: str, _pe: bool, value: str | None, base: str | None, sysid: str | None,
                    pubid: str | None, notation: str | None) -> NoReturn:
        raise EntitiesForbidden(name, value, base, sysid, pubid, notation)

    def unparsed_entity_decl(name: str, base: str | None, sysid: str | None, pubid: str | None,
                             notation: str | None) -> NoReturn:
        raise EntitiesForbidden(name, None, base, sysid, pubid, notation)

    def external_ref(context: str, base: str | None, sysid: str | None, pubid: str | None) -> NoReturn:
        raise ExternalReferenceForbidden(context, base, sysid, pubid)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.EntityDeclHandler = entity_decl
    parser.UnparsedEntityDeclHandler = unparsed_entity_decl
    parser.ExternalEntityRefHandler = external_ref
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        loc = Location(path, exc.lineno or 0, (exc.offset or 0) + 1)
        raise DiagnosticError([make(XML_ERROR, f"malformed XML: {expat.ErrorString(exc.code)}", loc)]) from None
    except DefusedXmlException as exc:
        raise DiagnosticError(
            [
                make(
                    XML_ERROR,
                    f"refused unsafe XML: {_describe(exc)}",
                    here(),
                    hint="entity declarations and external references are not allowed in Open-PSA input",
                )
            ]
        ) from None
    except LookupError as exc:  # an encoding Python does not know (`encoding="U-TF-8"`): a traceback before
        raise DiagnosticError([make(XML_ERROR, f"malformed XML: {exc}", Location(path, 1, 1))]) from None
    except ValueError as exc:  # e.g. undecodable bytes
        raise DiagnosticError([make(XML_ERROR, f"malformed XML: {exc}", Location(path))]) from None
    if not top.children:
        raise DiagnosticError([make(XML_ERROR, "malformed XML: no root element", Location(path))])
    return top.children[0]


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
