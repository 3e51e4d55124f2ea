"""The XML reader's C fast path (fta/_xmlk.c) against its expat path: the same element tree for every document
the fast path accepts, and None (so expat reads it) for every document expat rejects or that needs a DTD."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetyops_dsl.diagnostics import XML_ERROR, DiagnosticError
from safetyops_dsl.fta import _xmlk, xmlread
from safetyops_dsl.fta.openpsa import load_openpsa

Row = tuple[str, list[str], str, int, int, str, str, int]


def dump(root: xmlread.Element) -> list[Row]:
    """Every element in document order with everything the reader keeps (iterative: deep trees)."""
    out: list[Row] = []
    stack = [root]
    while stack:
        e = stack.pop()
        out.append((e.tag, list(e.attributes), e.file, e.line, e.col, e.text, type(e.children).__name__, len(e.children)))
        stack.extend(reversed(e.children))
    return out


def fast(data: bytes) -> xmlread.Element | None:
    return _xmlk.parse(data, "m.xml", xmlread.Element)


def slow(data: bytes) -> xmlread.Element:
    return xmlread._parse_with_expat(data, "m.xml")


def same_tree_or_refused(data: bytes) -> None:
    """What the fast path accepts, expat reads to the same tree; what expat rejects, the fast path refuses."""
    got = fast(data)
    try:
        want = slow(data)
    except DiagnosticError:
        assert got is None, data
        return
    if got is not None:
        assert dump(got) == dump(want), data


# -- random plain documents --------------------------------------------------------------------------------

TAGS = ["opsa-mef", "define-gate", "or", "and", "atleast", "basic-event", "gate", "label", "float", "x:y", "a.b-c_"]
NAMES = ["name", "value", "min", "role", "type", "x:lang", "_a"]
VALUE_PIECES = ["e1", "g 2", "\t", "\n", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#65;", "&#x42;", "&#10;",
                "&#9;", ">", "'", "1e-3", "  "]
TEXT_PIECES = ["  ", "\n", "Pump A", "fails", "&amp;", "&lt;b&gt;", "&#x41;", "&#10;", "\t", "x > y", "]]"]
SPACE = st.sampled_from([" ", "  ", "\n", "\t", " \n  "])


@st.composite
def attribute_text(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=3))
    out = ""
    for n in names:
        value = "".join(draw(st.lists(st.sampled_from(VALUE_PIECES), max_size=4)))
        q = draw(st.sampled_from(['"', "'"]))
        value = value.replace(q, "&quot;" if q == '"' else "&apos;")
        eq = draw(st.sampled_from(["=", " = ", "\n=\t"]))
        out += f"{draw(SPACE)}{n}{eq}{q}{value}{q}"
    return out + draw(st.sampled_from(["", " ", "\n"]))


@st.composite
def document(draw: st.DrawFn) -> bytes:
    """A random plain document, written iteratively (an explicit stack of open tags)."""
    parts: list[str] = []
    if draw(st.booleans()):
        enc = draw(st.sampled_from(["", ' encoding="UTF-8"', " encoding='us-ascii'", ' encoding="ISO-8859-1"']))
        parts.append(f'<?xml version="1.0"{enc}?>{draw(SPACE)}')
    if draw(st.booleans()):
        parts.append("<!-- a comment - with a dash -->\n")
    budget = draw(st.integers(1, 25))
    stack: list[str] = []
    made = 0
    while True:
        action = draw(st.sampled_from(["open", "empty", "text", "comment", "close"])) if stack else "open"
        if made >= budget and stack:
            action = "close"
        if action in ("open", "empty"):
            tag = draw(st.sampled_from(TAGS))
            made += 1
            if action == "empty":
                parts.append(f"<{tag}{draw(attribute_text())}/>")
                if not stack:
                    break
            else:
                parts.append(f"<{tag}{draw(attribute_text())}>")
                stack.append(tag)
        elif action == "text":
            parts.append("".join(draw(st.lists(st.sampled_from(TEXT_PIECES), max_size=4))))
        elif action == "comment":
            parts.append("<!--x-->")
        else:
            tag = stack.pop()
            parts.append(f"</{tag}{draw(st.sampled_from(['', ' ', chr(10)]))}>")
            if not stack:
                break
    parts.append(draw(st.sampled_from(["", "\n", "\n<!-- end -->\n"])))
    return "".join(parts).encode("ascii")


@settings(max_examples=300, deadline=None)
@given(document())
def test_plain_documents_read_the_same_both_ways(data: bytes) -> None:
    got = fast(data)
    assert got is not None, data
    assert dump(got) == dump(slow(data))


@settings(max_examples=200, deadline=None)
@given(document(), st.lists(st.sampled_from(["\r\n", "\r"]), min_size=1, max_size=50))
def test_carriage_returns_take_the_fast_path_and_read_as_expat_reads_them(data: bytes, ends: list[str]) -> None:
    # every newline of the document written as CR LF or a lone CR, in turn (as an editor on Windows or a
    # mixed history leaves files): the fast path reads it after unix_newlines, to expat's tree of the original
    pieces = data.split(b"\n")
    crlf = pieces[0] + b"".join(ends[i % len(ends)].encode("ascii") + p for i, p in enumerate(pieces[1:]))
    got = fast(xmlread.unix_newlines(crlf))
    assert got is not None, crlf
    assert dump(got) == dump(slow(crlf))


def test_a_crlf_file_is_read_by_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "m.xml"
    p.write_bytes(b'<?xml version="1.0"?>\r\n<opsa-mef>\r\n  <define-gate name="g">\r<label>a\r\nb</label>'
                  b'<or><basic-event name="e"/></or></define-gate></opsa-mef>\r\n')
    monkeypatch.setattr(xmlread, "_parse_with_expat", lambda data, path: pytest.fail("went to expat"))
    g = xmlread.parse_file(str(p)).children[0]
    assert (g.line, g.col, g.children[0].line, g.children[0].col, g.children[0].text) == (3, 3, 4, 1, "a\nb")


MUTATIONS = st.sampled_from(["<", ">", "&", '"', "'", "/", "!", "-", " ", "\r", "\x01", "é", "=", "?", "]]>", "&#0;",
                             "&#xD800;", "<!DOCTYPE m>", "<?pi x?>", "<![CDATA[x]]>", "&ent;", "<a>", "</a>", ""])


@settings(max_examples=400, deadline=None)
@given(document(), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), MUTATIONS), min_size=1, max_size=3))
def test_damaged_documents_are_refused_or_read_the_same(data: bytes, edits: list[tuple[int, int, str]]) -> None:
    text = data.decode("ascii")
    for at, cut, insert in edits:
        i = at % (len(text) + 1)
        text = text[:i] + insert + text[i + cut :]
    same_tree_or_refused(text.encode("utf-8"))


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "x">]><opsa-mef>&a;</opsa-mef>',
        b'<!DOCTYPE m SYSTEM "http://example.com/m.dtd"><opsa-mef/>',
        b'<?xml version="1.0" encoding="UTF-16"?><opsa-mef/>',
        b'<?xml version="1.1"?><opsa-mef/>',
        b"<opsa-mef>&a;</opsa-mef>",
        b"<opsa-mef><![CDATA[x]]></opsa-mef>",
        b"<opsa-mef/><opsa-mef/>",
        b"<opsa-mef a='1' a='2'/>",
        b"<opsa-mef a='1'b='2'/>",
        b"<opsa-mef>\r\n</opsa-mef>",
        "<opsa-mef><label>Pumpe \u00e4</label></opsa-mef>".encode(),
        b"<opsa-mef><!-- a -- b --></opsa-mef>",
        b"  <?xml version='1.0'?><opsa-mef/>",
        b"text<opsa-mef/>",
        b"",
    ],
)
def test_what_expat_must_read_is_left_to_it(data: bytes) -> None:
    assert fast(data) is None
    same_tree_or_refused(data)


def test_entities_are_still_refused_with_a_diagnostic(tmp_path: Path) -> None:
    p = tmp_path / "bomb.xml"
    p.write_bytes(b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "x">]><opsa-mef>&a;</opsa-mef>')
    with pytest.raises(DiagnosticError) as info:
        load_openpsa([str(p)])
    [d] = info.value.diagnostics
    assert d.code == XML_ERROR and "refused unsafe XML: entity declaration 'a'" in d.message


def test_unknown_encoding_is_a_diagnostic(tmp_path: Path) -> None:
    p = tmp_path / "m.xml"
    p.write_bytes(b'<?xml version="1.0" encoding="U-TF-8"?><opsa-mef/>')
    with pytest.raises(DiagnosticError) as info:
        load_openpsa([str(p)])
    [d] = info.value.diagnostics
    assert d.code == XML_ERROR and "unknown encoding: U-TF-8" in d.message


def test_deep_nesting_reads_without_recursion() -> None:
    depth = 100_000
    data = ("<a>" * depth + "</a>" * depth).encode("ascii")
    root = fast(data)
    assert root is not None
    got = dump(root)
    assert len(got) == depth and got == dump(slow(data))


def test_label_text_and_positions() -> None:
    data = b'<?xml version="1.0"?>\n<m>\n  <g name="x" role="private">\n\t<label>  A &amp; B\n  <i>in</i> C </label></g></m>'
    root = fast(data)
    assert root is not None
    g = root.children[0]
    assert (g.line, g.col, g.get("role"), g.get("nope", "d"), g.attrib) == (3, 3, "private", "d", {"name": "x", "role": "private"})
    label = g.children[0]
    assert (label.line, label.col, label.text, label.children[0].text) == (4, 2, "A & B\n   C", "in")
    assert dump(root) == dump(slow(data))


def test_corpus_reads_the_same(corpus: Path) -> None:
    refused = []
    for path in sorted(corpus.rglob("*.xml")):
        data = path.read_bytes()
        got = _xmlk.parse(xmlread.unix_newlines(data), str(path), xmlread.Element)
        if got is None:
            refused.append(path.name)
            continue
        assert dump(got) == dump(xmlread._parse_with_expat(data, str(path))), path
    assert len(refused) <= 1, refused
