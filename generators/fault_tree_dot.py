"""Fault-tree diagrams: Graphviz DOT with standard fault-tree symbols, rendered to SVG.

Graphviz has no gate shapes, so every tree node becomes two DOT nodes:

* an *event box* (rectangle, HTML-like label: the node's name in bold, its description wrapped), and
* a *symbol placeholder* below it: a transparent box of the symbol's size with a stable SVG ``id`` and
  ``class`` (``ft-sym ft-and`` ...). :func:`svg_from_dot` runs ``dot -Tsvg`` and replaces each placeholder
  polygon by an SVG path of the proper symbol (AND, OR, k/n, XOR, NOT, NAND, NOR, circle, diamond, house,
  transfer triangle) drawn inside that node's bounding box.

The DOT is therefore an intermediate: render it with :func:`svg_from_dot`, not with plain ``dot``, or the
symbols are missing. Output is deterministic: node ids derive from tree names only, nodes and edges follow
the tree's depth-first order, and nothing environment-dependent (time, absolute paths) is written.
"""

from __future__ import annotations

import hashlib
import math
import re
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from safetyops_dsl.generators import graphviz

from safetyops_dsl.diagnostics import show_hidden
from safetyops_dsl.fta.result import FtaResult
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, HouseEvent, Origin

__all__ = [
    "HIGHLIGHT_FILL",
    "HIGHLIGHT_STROKE",
    "SPOF_COLOR",
    "node_ids",
    "render_dot",
    "render_pages",
    "render_svg",
    "svg_from_dot",
]

# Colours. The highlight is a dark red that stays distinguishable from black when printed in greyscale
# because highlighted lines are also much thicker; the fill is light enough to keep black text legible.
NEUTRAL_STROKE = "#000000"
NEUTRAL_FILL = "#ffffff"
HIGHLIGHT_STROKE = "#b2182b"
HIGHLIGHT_FILL = "#fddbc7"
SPOF_COLOR = "#5e3c99"  # purple: distinct from the highlight so both can be shown at once
NOTE_FILL = "#fff7d6"

FONT = "Helvetica"
NAME_PT = 10
TEXT_PT = 9
SMALL_PT = 8

# Geometry in inches (Graphviz units); the SVG is in points (1 in = 72 pt).
BOX_WIDTH = 1.85  # fits ~30 characters of 9 pt Helvetica
SYM_W = 0.5
SYM_H = 0.45
LINE_H = 0.15
NORMAL_PEN = 1.0
HIGHLIGHT_PEN = 2.6

LABEL_WRAP = 30
LABEL_MAX_LINES = 4  # longer descriptions are cut with an ellipsis; the full text is in the tooltip
NOTE_WRAP = 60
NOTES_SHOWN = 3

SVG_NS = graphviz.SVG_NS
XLINK_NS = graphviz.XLINK_NS


# --------------------------------------------------------------------------------------------- escaping

# Characters that XML 1.0 forbids (so the SVG would not parse) or that cannot be encoded (lone surrogates).
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    """Every label, tooltip and id passes here: hidden characters (bidi controls, zero-width ones) are
    written out as `<U+202E>` before the caller escapes for DOT, so neither the .dot file nor the SVG
    holds one, and Graphviz cannot misread one (U+2028 in an HTML-like label breaks its parser)."""
    text = show_hidden(text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    return _BAD_CHARS.sub("\ufffd", text)


def _html(text: str) -> str:
    """Escape for a Graphviz HTML-like label (XML text); newlines are the caller's business.

    Graphviz expands backslash escapes (\\N = node name, \\G = graph name ...) even inside HTML-like
    labels, after decoding entities, so a backslash is doubled rather than written as an entity.
    """
    return (
        _clean(text)
        .replace("\\", "\\\\")
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", " ")
    )


def _quoted(text: str) -> str:
    """A DOT double-quoted string whose rendered value is exactly `text`.

    Graphviz interprets backslash escapes (\\N, \\G, \\l ...) and also decodes HTML entities in ordinary
    strings, so backslashes are doubled and '&' is written as '&amp;'.
    """
    body = _clean(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;").replace("\n", "\\n")
    return f'"{body}"'


def _attrs(pairs: Iterable[tuple[str, str]]) -> str:
    """Attribute list; values already in DOT syntax (quoted string or <HTML>)."""
    return "[" + ", ".join(f"{k}={v}" for k, v in pairs) + "]"


def fmt_number(value: float) -> str:
    """Compact scientific notation with two significant digits: 1.2e-6, 5.0e-1; 0 and 1 stay short."""
    if value == 0:
        return "0"
    if value == 1:
        return "1"
    if not math.isfinite(value):
        return str(value)
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _wrap(text: str, width: int = LABEL_WRAP, max_lines: int = LABEL_MAX_LINES) -> list[str]:
    lines: list[str] = []
    for paragraph in _clean(text).split("\n"):
        lines.extend(textwrap.wrap(paragraph, width, break_long_words=True, break_on_hyphens=True) or [""])
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "\u2026"
    return lines


_NAME_BREAK = re.compile(r"(?<=[._/:\-])")


def _wrap_name(name: str, width: int = LABEL_WRAP) -> list[str]:
    """Wrap a qualified name after its separators (`Pump.drive.` / `motor.omission`) rather than
    mid-word; only a single part longer than a line is cut."""
    lines: list[str] = []
    current = ""
    for part in _NAME_BREAK.split(_clean(name).replace("\n", " ")):
        while len(part) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(part[:width])
            part = part[width:]
        if len(current) + len(part) > width:
            lines.append(current)
            current = ""
        current += part
    if current or not lines:
        lines.append(current)
    return lines


def _node_name_lines(name: str, width: int = LABEL_WRAP) -> list[str]:
    """A node's name in its box: as `_wrap_name`, except that a CCF event (`[PumpOne PumpTwo]`, fta/ccf.py)
    also wraps at the blanks between its members."""
    if not (name.startswith("[") and name.endswith("]") and " " in name):
        return _wrap_name(name, width)
    return fill((_wrap_name(member, width) for member in name.split(" ")), width)


def fill(words: Iterable[list[str]], width: int) -> list[str]:
    """Lines of at most `width` from words given as their pieces (a word longer than a line comes already
    broken, e.g. by `_wrap_name`): words are joined by a blank, the pieces of one word without."""
    lines: list[str] = []
    current = ""
    for pieces in words:
        for i, piece in enumerate(pieces):
            sep = " " if i == 0 and current else ""
            if current and len(current) + len(sep) + len(piece) > width:
                lines.append(current)
                current, sep = "", ""
            current += sep + piece
    lines.append(current)
    return lines


# ------------------------------------------------------------------------------------------------- ids

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def node_ids(tree: FaultTree) -> dict[str, str]:
    """Stable, collision-free ids ([A-Za-z0-9_]) for every node name of the tree.

    A name that is already safe is its own id, so ids are readable and independent of the rest of the tree.
    An unsafe name is sanitised and suffixed with a hash of the original name, which keeps the id stable
    when other nodes are added or removed (no order-dependent counters in the common case).
    """
    names = sorted({*tree.gates, *tree.basic_events, *tree.house_events})
    taken: set[str] = set()
    ids: dict[str, str] = {}
    # Safe names first: they must keep their own id, so hashed ids cannot take it from them.
    for name in names:
        if name and not _ID_UNSAFE.search(name) and not name[0].isdigit():
            ids[name] = name
            taken.add(name)
    for name in names:
        if name in ids:
            continue
        digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()
        base = _ID_UNSAFE.sub("_", name)[:40]
        if not base or base[0].isdigit():
            base = "n" + base
        candidate = f"{base}_{digest[:8]}"
        extra = 0
        while candidate in taken:  # practically never; deterministic because names are sorted
            extra += 1
            candidate = f"{base}_{digest[:8]}_{extra}"
        ids[name] = candidate
        taken.add(candidate)
    return ids


# ---------------------------------------------------------------------------------------- tree helpers


def _children(tree: FaultTree, name: str) -> tuple[str, ...]:
    gate = tree.gates.get(name)
    return gate.inputs if gate is not None else ()


def _check(tree: FaultTree) -> None:
    """Fail early with a clear message instead of producing a drawing with dangling edges."""
    known = {*tree.gates, *tree.basic_events, *tree.house_events}
    if tree.top not in known:
        raise ValueError(f"fault tree {tree.name!r}: top {tree.top!r} is not a node of the tree")
    for gate in tree.gates.values():
        for child in gate.inputs:
            if child not in known:
                raise ValueError(f"fault tree {tree.name!r}: gate {gate.name!r} has unknown input {child!r}")
    _post_order(tree)  # raises on a cycle, which would otherwise be drawn as if it were a tree


def _post_order(tree: FaultTree) -> list[str]:
    """Reachable gates, children before parents (iterative: generated trees can be deep). Rejects cycles."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[tuple[str, int]] = [(tree.top, 0)]
    while stack:
        name, index = stack.pop()
        if index == 0:
            if state.get(name) == 2:
                continue
            state[name] = 1
        inputs = _children(tree, name)
        if index < len(inputs):
            stack.append((name, index + 1))
            child = inputs[index]
            if state.get(child) == 1:
                raise ValueError(f"fault tree {tree.name!r} has a cycle through {child!r}")
            if state.get(child) != 2:
                stack.append((child, 0))
        else:
            state[name] = 2
            if name in tree.gates:
                order.append(name)
    return order


def _highlighted(tree: FaultTree, highlight: tuple[str, ...] | None) -> frozenset[str]:
    """The cut-set events plus every gate above any of them (i.e. on some path to the top)."""
    if not highlight:
        return frozenset()
    for name in highlight:
        if name not in tree.basic_events and name not in tree.house_events:
            raise ValueError(f"highlight names {name!r}, which is not an event of fault tree {tree.name!r}")
    marked = set(highlight)
    for gate in _post_order(tree):
        if any(child in marked for child in tree.gates[gate].inputs):
            marked.add(gate)
    return frozenset(marked)


def _single_points(result: FtaResult | None) -> frozenset[str]:
    if result is None:
        return frozenset()
    return frozenset(cut[0] for cut in result.cut_sets if len(cut) == 1)


# ------------------------------------------------------------------------------------------- DOT pages


@dataclass(frozen=True)
class _Ctx:
    tree: FaultTree
    ids: Mapping[str, str]
    result: FtaResult | None
    marked: frozenset[str]
    spof: frozenset[str]
    highlight: tuple[str, ...]
    urls: Mapping[str, str]


def _tooltip(name: str, label: str, origin: Origin | None) -> str:
    parts = [name]
    if label:
        parts.append(label)
    if origin is not None:
        where = f"{origin.file}:{origin.line}"
        parts.append(f"{where} ({origin.element})" if origin.element else where)
    # Graphviz 2.43 unescapes tooltips twice (so `\\N` still becomes the node name) and other versions
    # may not: a look-alike reverse solidus is the only spelling that shows the same everywhere.
    return "\n".join(parts).replace("\\", "\u29f5")


def _gate_kind_classes(gate: Gate) -> list[str]:
    classes = [f"ft-{gate.kind.value}"]
    if gate.kind is GateKind.ATLEAST:
        classes.append(f"ft-k-{gate.k if gate.k is not None else 0}-{len(gate.inputs)}")
    return classes


def _box_label(ctx: _Ctx, name: str, label: str, extra_rows: list[str]) -> str:
    rows = [
        f'<TR><TD><FONT POINT-SIZE="{NAME_PT}"><B>{"<BR/>".join(_html(x) for x in _node_name_lines(name))}</B></FONT></TD></TR>'
    ]
    if name in ctx.spof:
        rows[0] = (
            f'<TR><TD><FONT POINT-SIZE="{NAME_PT}"><B>{"<BR/>".join(_html(x) for x in _node_name_lines(name))}</B></FONT>'
            f' <FONT POINT-SIZE="{SMALL_PT}" COLOR="{SPOF_COLOR}"><I>SPOF</I></FONT></TD></TR>'
        )
    lines = _wrap(label) if label else []
    if lines:
        body = "<BR/>".join(_html(x) for x in lines)
        rows.append(f'<TR><TD><FONT POINT-SIZE="{TEXT_PT}">{body}</FONT></TD></TR>')
    rows.extend(extra_rows)
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"


def _emit_node(ctx: _Ctx, name: str, transfer_page: str | None, out: list[str]) -> None:
    """Event box + symbol placeholder + the short connector between them."""
    tree, nid = ctx.tree, ctx.ids[name]
    marked = name in ctx.marked
    stroke = HIGHLIGHT_STROKE if marked else NEUTRAL_STROKE
    pen = str(HIGHLIGHT_PEN if marked else NORMAL_PEN)
    gate = tree.gates.get(name)
    basic = tree.basic_events.get(name)
    house = tree.house_events.get(name)
    node: Gate | BasicEvent | HouseEvent | None = gate or basic or house
    assert node is not None  # _check guarantees it
    extra_rows: list[str] = []
    sym_lines: list[str] = []
    classes = ["ft-sym"]
    if transfer_page is not None:
        classes.append("ft-transfer")
        sym_lines.append(transfer_page)
        sym_id = f"xfer-{nid}"  # two gates drawn on one page may both be transfers to it
    else:
        sym_id = f"sym-{nid}"
        if gate is not None:
            classes.extend(_gate_kind_classes(gate))
            if ctx.result is not None and name == tree.top:
                # The engine only reports the top's probability; other gates get none rather than a guess.
                extra_rows.append(
                    f'<TR><TD><FONT POINT-SIZE="{TEXT_PT}"><B>P(top) = '
                    f"{_html(fmt_number(ctx.result.probability))}</B></FONT></TD></TR>"
                )
        elif basic is not None:
            classes.append("ft-undeveloped" if basic.undeveloped else "ft-basic")
            sym_lines.append(f"p={fmt_number(basic.probability)}")
            if basic.rate_per_hour is not None:
                sym_lines.append(f"\u03bb={fmt_number(basic.rate_per_hour)}/h")
        elif house is not None:
            classes.append("ft-house-true" if house.state else "ft-house-false")
    if marked:
        classes.append("ft-hl")
    if name in ctx.spof:
        classes.append("ft-spof")

    box_classes = ["ft-box", f"ft-node-{tree.node_kind(name)}"] + (["ft-hl"] if marked else [])
    box_classes += ["ft-spof"] if name in ctx.spof else []
    box = [
        ("id", _quoted(f"ev-{nid}")),
        ("class", _quoted(" ".join(box_classes))),
        ("label", _box_label(ctx, name, node.label, extra_rows)),
        ("tooltip", _quoted(_tooltip(name, node.label, node.origin))),
        ("color", _quoted(stroke)),
        ("fillcolor", _quoted(HIGHLIGHT_FILL if marked else NEUTRAL_FILL)),
        ("penwidth", _quoted(pen)),
        ("group", _quoted(nid)),
    ]
    # Symbol placeholder: a transparent box of the symbol's size (plus text lines below it); the SVG
    # post-processor finds it by id/class and draws the real symbol in its top SYM_H.
    sym = [
        ("id", _quoted(sym_id)),
        ("class", _quoted(" ".join(classes))),
        ("label", _quoted("\n".join(sym_lines))),
        ("tooltip", _quoted(_tooltip(name, node.label, node.origin))),
        ("shape", '"box"'),
        ("style", '"solid"'),
        ("color", '"transparent"'),
        ("width", f'"{SYM_W}"'),
        ("height", _quoted(f"{SYM_H + LINE_H * len(sym_lines):.2f}")),
        ("labelloc", '"b"'),
        ("fontsize", f'"{SMALL_PT}"'),
        ("margin", '"0"'),
        ("group", _quoted(nid)),
    ]
    url = ctx.urls.get(f"page:{transfer_page}" if transfer_page is not None else name)
    if url:
        # `_top`: a diagram shown in a frame opens the page in the window, not inside the frame
        link = [("URL", _quoted(url)), ("target", '"_top"')]
        box += link
        sym += link
    out.append(f"  n_{nid} {_attrs(box)};")
    out.append(f"  s_{nid} {_attrs(sym)};")
    out.append(
        f"  n_{nid} -> s_{nid} "
        + _attrs([("id", _quoted(f"c-{nid}")), ("color", _quoted(stroke)), ("penwidth", _quoted(pen))])
        + ";"
    )


def _emit_point(out: list[str], dot_name: str, svg_id: str, group: str, marked: bool) -> None:
    """A connector junction, drawn as a dot of the line's width (an invisible node leaves a gap)."""
    attrs = [
        ("id", _quoted(svg_id)),
        ("class", '"ft-junction"'),
        ("shape", '"point"'),
        ("width", _quoted(f"{(HIGHLIGHT_PEN if marked else NORMAL_PEN) / 72:.3f}")),
        ("color", _quoted(HIGHLIGHT_STROKE if marked else NEUTRAL_STROKE)),
        ("group", _quoted(group)),
    ]
    out.append(f"  {dot_name} {_attrs(attrs)};")


def _edge_attrs(edge_id: str, on_path: bool) -> list[tuple[str, str]]:
    attrs = [("id", _quoted(edge_id)), ("class", _quoted("ft-edge ft-hl" if on_path else "ft-edge"))]
    if on_path:
        attrs += [("color", _quoted(HIGHLIGHT_STROKE)), ("penwidth", _quoted(str(HIGHLIGHT_PEN)))]
    return attrs


def _graph_title(ctx: _Ctx, page: str | None, pages_total: int, from_pages: list[str]) -> str:
    tree = ctx.tree
    # One text run: Graphviz positions separate runs with its own font metrics, which overlap when the
    # viewer substitutes a wider font.
    head = _html(f"{tree.name} \u2014 {tree.label}" if tree.label else tree.name)
    rows = [f'<FONT POINT-SIZE="12"><B>{head}</B></FONT>']
    facts: list[str] = []
    if tree.mission_time is not None:
        facts.append(f"mission time {tree.mission_time:g} h")
    if ctx.result is not None:
        facts.append(
            f"P(top) = {fmt_number(ctx.result.probability)} ({ctx.result.options.approximation.value})"
        )
    if page is not None:
        facts.append(f"page {page} ({pages_total} pages)")
    if facts:
        rows.append(_html(" \u00b7 ".join(facts)))
    if from_pages:
        rows.append(_html("continued from page " + ", ".join(from_pages)))
    if ctx.highlight:
        rows.append(
            f'<FONT COLOR="{HIGHLIGHT_STROKE}">'
            + _html("cut set: {" + ", ".join(ctx.highlight) + "}")
            + "</FONT>"
        )
    if ctx.spof:
        rows.append(
            f'<FONT COLOR="{SPOF_COLOR}">'
            + _html("SPOF = single point of failure (order-1 cut set)")
            + "</FONT>"
        )
    return "<" + "<BR/>".join(rows) + ">"


def _page_dot(
    ctx: _Ctx,
    root: str,
    transfers: Mapping[str, str],
    graph_name: str,
    page: str | None = None,
    pages_total: int = 1,
    from_pages: list[str] | None = None,
) -> str:
    tree, ids = ctx.tree, ctx.ids
    out = [
        f"digraph {_quoted('ft_' + graph_name)} {{",
        "  graph "
        + _attrs(
            [
                ("rankdir", '"TB"'),
                # Polylines between the junction below a gate and the entry point above each input give a
                # clean fan with vertical drops. splines=ortho looks more "hand-drawn" on small trees but
                # splits buses into parallel tracks and takes minutes at 200 events (0.3 s with polyline).
                ("splines", '"polyline"'),
                ("nodesep", '"0.18"'),
                ("ranksep", '"0.22"'),
                ("outputorder", '"edgesfirst"'),
                ("fontname", _quoted(FONT)),
                ("fontsize", '"10"'),
                ("labelloc", '"t"'),
                ("label", _graph_title(ctx, page, pages_total, from_pages or [])),
            ]
        )
        + ";",
        "  node "
        + _attrs(
            [
                ("shape", '"box"'),
                ("style", '"filled"'),
                ("fontname", _quoted(FONT)),
                ("fontsize", f'"{TEXT_PT}"'),
                ("width", f'"{BOX_WIDTH}"'),
                ("margin", '"0.05,0.03"'),
            ]
        )
        + ";",
        "  edge " + _attrs([("dir", '"none"'), ("fontname", _quoted(FONT))]) + ";",
    ]
    if tree.notes and page in (None, ids[tree.top]):
        # A synthesised tree can carry dozens of notes ("independence assumed ..."); the diagram shows the
        # first few and a count, the report lists them all.
        shown = [*tree.notes[:NOTES_SHOWN]]
        if len(tree.notes) > NOTES_SHOWN:
            shown.append(f"\u2026 and {len(tree.notes) - NOTES_SHOWN} more notes (listed in the report)")
        note = '<BR ALIGN="LEFT"/>'.join(
            _html(line) for text in shown for line in (_wrap(text, NOTE_WRAP, 8) or [""])
        )
        out.append(
            "  notes "
            + _attrs(
                [
                    ("id", '"notes"'),
                    ("class", '"ft-notes"'),
                    ("shape", '"note"'),
                    ("fillcolor", _quoted(NOTE_FILL)),
                    ("width", '"0"'),
                    ("label", f'<<B>Notes</B><BR ALIGN="LEFT"/>{note}<BR ALIGN="LEFT"/>>'),
                ]
                + ([("URL", _quoted(ctx.urls["notes:"])), ("target", '"_top"')] if "notes:" in ctx.urls else [])
            )
            + ";"
        )
        out.append(f"  {{ rank=same; notes; n_{ids[root]}; }}")

    # Depth-first pre-order from the page root; other page roots are leaves drawn as transfers.
    order: list[str] = []
    seen: set[str] = set()
    stack = [root]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        order.append(name)
        if name == root or name not in transfers:
            stack.extend(reversed(_children(tree, name)))

    edges: list[str] = []
    for name in order:
        is_transfer = name != root and name in transfers
        _emit_node(ctx, name, transfers[name] if is_transfer else None, out)
        if name != root:
            # Entry point above the box: connectors arrive here (from the side or above) and drop straight
            # into the top of the box; orthogonal edges straight into a box often hit its side instead.
            _emit_point(out, f"a_{ids[name]}", f"a-{ids[name]}", ids[name], name in ctx.marked)
            edges.append(
                f"  a_{ids[name]} -> n_{ids[name]} {_attrs(_edge_attrs(f'i-{ids[name]}', name in ctx.marked))};"
            )
        if is_transfer:
            continue
        inputs = _children(tree, name)
        if not inputs:
            continue
        nid = ids[name]
        marked = name in ctx.marked
        # A zero-size junction below the gate symbol: the connectors fan out from it as a horizontal bus
        # (the hand-drawn fault-tree look); from the symbol itself, orthogonal edges would leave sideways.
        _emit_point(out, f"j_{nid}", f"j-{nid}", nid, marked)
        edges.append(f"  s_{nid} -> j_{nid} {_attrs(_edge_attrs(f'd-{nid}', marked))};")
        counts: dict[str, int] = {}
        for child in inputs:
            counts[child] = counts.get(child, 0) + 1
            cid = ids[child]
            suffix = f"-{counts[child]}" if counts[child] > 1 else ""
            on_path = marked and child in ctx.marked
            edges.append(f"  j_{nid} -> a_{cid} {_attrs(_edge_attrs(f'e-{nid}-{cid}{suffix}', on_path))};")
    out.extend(edges)
    out.append("}")
    return "\n".join(out) + "\n"


def _context(
    tree: FaultTree, result: FtaResult | None, highlight: tuple[str, ...] | None, spof: bool,
    urls: Mapping[str, str] | None = None,
) -> _Ctx:
    _check(tree)
    if result is not None and result.top != tree.top:
        raise ValueError(f"result is for top {result.top!r}, the tree's top is {tree.top!r}")
    return _Ctx(
        tree=tree,
        ids=node_ids(tree),
        result=result,
        marked=_highlighted(tree, highlight),
        spof=_single_points(result) if spof else frozenset(),
        highlight=tuple(highlight or ()),
        urls=urls or {},
    )


def render_dot(
    tree: FaultTree,
    result: FtaResult | None = None,
    highlight: tuple[str, ...] | None = None,
    *,
    mark_single_points: bool = True,
    urls: Mapping[str, str] | None = None,
) -> str:
    """The whole tree as one DOT graph (render with :func:`svg_from_dot` to get the gate symbols).

    `highlight` names a cut set (basic events); those events, every gate above them and the connecting
    edges are drawn in the highlight colour with thicker lines. With a `result`, the top's probability is
    shown and events in order-1 cut sets are tagged "SPOF" unless `mark_single_points` is False.
    `urls` makes nodes links: node name -> target ("page:<page>" for transfer triangles, "notes:" for the
    notes box).
    """
    ctx = _context(tree, result, highlight, mark_single_points, urls)
    return _page_dot(ctx, tree.top, {}, ctx.ids[tree.top])


# ------------------------------------------------------------------------------------------------ pages


def _plan_page_roots(tree: FaultTree, budget: int, width: int | None = None) -> list[str]:
    """Gates that get a page of their own, top first, in depth-first order.

    Bottom-up: a gate's page content is itself plus its children's content (a child already chosen as a
    page counts as one transfer node). When that exceeds the budget (`budget` nodes, or `width` columns:
    events and transfers side by side), child sub-trees become pages until it fits: independent modules
    and shared sub-trees first (a page that can be read on its own), the largest first. A shared gate is
    drawn on one page only (see `_transfers`), so no page grows past its budget by sharing.
    """
    from safetyops_dsl.fta.modules import find_modules

    roots: set[str] = {tree.top}
    content: dict[str, frozenset[str]] = {}
    parents: dict[str, set[str]] = {}
    for g in tree.gates.values():
        for child in g.inputs:
            parents.setdefault(child, set()).add(g.name)
    preferred = find_modules(tree) | {g for g in tree.gates if len(parents.get(g, ())) > 1}

    def items(name: str) -> frozenset[str]:
        if name in roots or name not in tree.gates:
            return frozenset({name})
        return content[name]

    def columns(gate: str, members: frozenset[str]) -> int:
        return sum(1 for m in members if m != gate and (m not in tree.gates or m in roots or not tree.gates[m].inputs))

    for gate in _post_order(tree):
        inputs = tree.gates[gate].inputs
        while True:
            members = frozenset({gate}).union(*(items(c) for c in inputs))
            if len(members) <= budget and (width is None or columns(gate, members) <= width):
                break
            candidates = sorted(
                {c for c in inputs if c in tree.gates and c not in roots and len(content[c]) > 1},
                key=lambda c: (-(2 * len(content[c]) if c in preferred else len(content[c])), c),
            )
            if not candidates:
                break  # more direct inputs than the budget: the page is oversized, nothing smaller exists
            roots.add(candidates[0])
        content[gate] = members

    return [name for name in tree.reachable() if name in roots]


def render_pages(
    tree: FaultTree,
    result: FtaResult | None = None,
    highlight: tuple[str, ...] | None = None,
    max_nodes_per_page: int = 60,
    *,
    max_columns: int | None = None,
    mark_single_points: bool = True,
    urls: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Page name -> DOT. Pages are cut at sub-tree boundaries; a cut gate is a transfer triangle on its
    parent page(s) and the root of its own page. Page names are the gates' ids (safe as file names); the
    top's page comes first. `max_nodes_per_page` counts tree nodes (gates, events, transfers) per page;
    `max_columns`, when given, also bounds the events and transfers a page holds side by side (its width).
    A tree that fits on one page gives one page, exactly :func:`render_dot`'s drawing."""
    if max_nodes_per_page < 2:
        raise ValueError("max_nodes_per_page must be at least 2")
    if max_columns is not None and max_columns < 2:
        raise ValueError("max_columns must be at least 2")
    ctx = _context(tree, result, highlight, mark_single_points, urls)
    if tree.top not in tree.gates:
        return {ctx.ids[tree.top]: render_dot(tree, result, highlight, mark_single_points=mark_single_points,
                                              urls=urls)}
    roots = _plan_page_roots(tree, max_nodes_per_page, max_columns)
    if len(roots) == 1:
        return {ctx.ids[tree.top]: _page_dot(ctx, tree.top, {}, ctx.ids[tree.top])}
    transfers = _transfers(tree, roots)
    parents: dict[str, list[str]] = {r: [] for r in roots}
    for root in roots:
        for name in transfers[root]:
            if name in parents:
                parents[name].append(ctx.ids[root])
    pages: dict[str, str] = {}
    for root in roots:
        page = ctx.ids[root]
        stops = {g: ctx.ids[home] for g, home in transfers[root].items()}
        pages[page] = _page_dot(ctx, root, stops, page, page, len(roots), sorted(set(parents[root])))
    return pages


def _transfers(tree: FaultTree, roots: list[str]) -> dict[str, dict[str, str]]:
    """Page root -> {gate drawn as a transfer on that page: the page root it is drawn under}. Every gate is
    drawn on one page only, the first (top first) that reaches it; a page that reaches it again, as a
    shared input, shows a transfer triangle naming that page."""
    home: dict[str, str] = {r: r for r in roots}
    out: dict[str, dict[str, str]] = {}
    for root in roots:
        stops: dict[str, str] = {}
        seen: set[str] = set()
        stack = [root]
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            if name != root and home.get(name, root) != root:
                stops[name] = home[name]
                continue
            if name in tree.gates:
                home.setdefault(name, root)
            stack.extend(reversed(_children(tree, name)))
        out[root] = stops
    return out


# -------------------------------------------------------------------------------------------------- SVG


def _run_dot(dot_source: str) -> str:
    return graphviz.run_dot(dot_source)


def _f(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _or_path(x0: float, y0: float, x1: float, y1: float) -> str:
    """Shield: concave bottom, sides curving in to a point at the top."""
    xm, h = (x0 + x1) / 2, y1 - y0
    return (
        f"M{_f(x0)},{_f(y1)} Q{_f(xm)},{_f(y1 - 0.3 * h)} {_f(x1)},{_f(y1)} "
        f"Q{_f(x1)},{_f(y0 + 0.45 * h)} {_f(xm)},{_f(y0)} "
        f"Q{_f(x0)},{_f(y0 + 0.45 * h)} {_f(x0)},{_f(y1)} Z"
    )


def _and_path(x0: float, y0: float, x1: float, y1: float) -> str:
    """Flat bottom, straight sides, semi-elliptical top."""
    rx, ry = (x1 - x0) / 2, (y1 - y0) * 0.55
    return (
        f"M{_f(x0)},{_f(y1)} L{_f(x0)},{_f(y0 + ry)} "
        f"A{_f(rx)},{_f(ry)} 0 0 1 {_f(x1)},{_f(y0 + ry)} L{_f(x1)},{_f(y1)} Z"
    )


@dataclass(frozen=True)
class _Shape:
    paths: list[str]  # filled outlines
    lines: list[str]  # stroke-only paths (the XOR arc, OR stubs)
    circles: list[tuple[float, float, float]]  # filled circles (inverter bubbles, basic events)
    texts: list[tuple[float, float, str, int]]  # x, y, text, font size


def _symbol(classes: set[str], x0: float, y0: float, x1: float, y1: float) -> _Shape:
    """The outline of one symbol inside the box (x0, y0)-(x1, y1), SVG coordinates (y grows down)."""
    w, h = x1 - x0, y1 - y0
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    paths: list[str] = []
    lines: list[str] = []
    circles: list[tuple[float, float, float]] = []
    texts: list[tuple[float, float, str, int]] = []
    bubble = 0.1 * h  # inverter circle radius
    # The OR's concave bottom leaves a gap to the node's bottom edge, where the connectors start.
    or_stub = f"M{_f(xm)},{_f(y1 - 0.15 * h)} L{_f(xm)},{_f(y1)}"
    if "ft-and" in classes:
        paths.append(_and_path(x0, y0, x1, y1))
    elif "ft-or" in classes:
        paths.append(_or_path(x0, y0, x1, y1))
        lines.append(or_stub)
    elif "ft-atleast" in classes:
        paths.append(_or_path(x0, y0, x1, y1))
        lines.append(or_stub)
        k_n = next((c[5:].replace("-", "/") for c in classes if c.startswith("ft-k-")), "k/n")
        texts.append((xm, y0 + 0.72 * h, k_n, SMALL_PT))
    elif "ft-xor" in classes:
        gap = 0.14 * h
        paths.append(_or_path(x0, y0, x1, y1 - gap))
        lines.append(f"M{_f(x0)},{_f(y1)} Q{_f(xm)},{_f(y1 - 0.3 * h)} {_f(x1)},{_f(y1)}")
        lines.append(f"M{_f(xm)},{_f(y1 - 0.15 * h)} L{_f(xm)},{_f(y1)}")
    elif "ft-nand" in classes:
        paths.append(_and_path(x0, y0 + 2 * bubble, x1, y1))
        circles.append((xm, y0 + bubble, bubble))
    elif "ft-nor" in classes:
        paths.append(_or_path(x0, y0 + 2 * bubble, x1, y1))
        lines.append(or_stub)
        circles.append((xm, y0 + bubble, bubble))
    elif "ft-not" in classes:
        paths.append(
            f"M{_f(x0 + 0.1 * w)},{_f(y1)} L{_f(x1 - 0.1 * w)},{_f(y1)} L{_f(xm)},{_f(y0 + 2 * bubble)} Z"
        )
        circles.append((xm, y0 + bubble, bubble))
    elif "ft-null" in classes:
        # Pass-through: the event box connects straight to its single input.
        lines.append(f"M{_f(xm)},{_f(y0)} L{_f(xm)},{_f(y1)}")
    elif "ft-basic" in classes:
        r = min(w, h) / 2 * 0.95
        circles.append((xm, ym, r))
        if "ft-spof" in classes:
            circles.append((xm, ym, r * 0.72))  # double ring: subtle single-point-of-failure marker
    elif "ft-undeveloped" in classes:
        paths.append(f"M{_f(xm)},{_f(y0)} L{_f(x1)},{_f(ym)} L{_f(xm)},{_f(y1)} L{_f(x0)},{_f(ym)} Z")
        if "ft-spof" in classes:
            paths.append(
                f"M{_f(xm)},{_f(y0 + 0.2 * h)} L{_f(x1 - 0.2 * w)},{_f(ym)} "
                f"L{_f(xm)},{_f(y1 - 0.2 * h)} L{_f(x0 + 0.2 * w)},{_f(ym)} Z"
            )
    elif "ft-house-true" in classes or "ft-house-false" in classes:
        hx0, hx1 = x0 - 0.1 * w, x1 + 0.1 * w  # a little wider so the state word fits
        paths.append(
            f"M{_f(hx0)},{_f(y1)} L{_f(hx1)},{_f(y1)} L{_f(hx1)},{_f(y0 + 0.4 * h)} "
            f"L{_f(xm)},{_f(y0)} L{_f(hx0)},{_f(y0 + 0.4 * h)} Z"
        )
        texts.append((xm, y0 + 0.8 * h, "TRUE" if "ft-house-true" in classes else "FALSE", 7))
    elif "ft-transfer" in classes:
        paths.append(f"M{_f(x0)},{_f(y1)} L{_f(x1)},{_f(y1)} L{_f(xm)},{_f(y0)} Z")
    return _Shape(paths, lines, circles, texts)


def _points_bbox(points: str) -> tuple[float, float, float, float]:
    coords = [tuple(float(v) for v in p.split(",")) for p in points.split()]
    xs = [c[0] for c in coords]
    ys = [c[1] for c in coords]
    return min(xs), min(ys), max(xs), max(ys)


def _draw_symbols(root: ET.Element) -> None:
    for group in root.iter(f"{{{SVG_NS}}}g"):
        classes = set(group.get("class", "").split())
        if "ft-sym" not in classes:
            continue
        # With a tooltip, Graphviz wraps the node's drawing in <g><a xlink:title> ... </a></g>.
        holder = group
        polygon = None
        for parent in group.iter():
            for index, child in enumerate(list(parent)):
                if child.tag == f"{{{SVG_NS}}}polygon":
                    holder, polygon, position = parent, child, index
                    break
            if polygon is not None:
                break
        if polygon is None:
            continue
        bx0, by0, bx1, _ = _points_bbox(polygon.get("points", ""))
        xm = (bx0 + bx1) / 2
        # The symbol occupies the top SYM_H of the placeholder; any text (probability) sits below it.
        sx0, sx1 = xm - SYM_W * 36, xm + SYM_W * 36
        sy0, sy1 = by0, by0 + SYM_H * 72
        shape = _symbol(classes, sx0, sy0, sx1, sy1)
        marked = "ft-hl" in classes
        stroke = HIGHLIGHT_STROKE if marked else NEUTRAL_STROKE
        fill = HIGHLIGHT_FILL if marked else NEUTRAL_FILL
        width = _f(HIGHLIGHT_PEN if marked else 1.2)
        new: list[ET.Element] = []
        for d in shape.paths:
            new.append(
                ET.Element(
                    f"{{{SVG_NS}}}path", {"d": d, "fill": fill, "stroke": stroke, "stroke-width": width}
                )
            )
        for d in shape.lines:
            new.append(
                ET.Element(
                    f"{{{SVG_NS}}}path", {"d": d, "fill": "none", "stroke": stroke, "stroke-width": width}
                )
            )
        for cx, cy, r in shape.circles:
            attrs = {
                "cx": _f(cx),
                "cy": _f(cy),
                "r": _f(r),
                "fill": fill,
                "stroke": stroke,
                "stroke-width": width,
            }
            new.append(ET.Element(f"{{{SVG_NS}}}circle", attrs))
        for tx, ty, text, size in shape.texts:
            element = ET.Element(
                f"{{{SVG_NS}}}text",
                {
                    "text-anchor": "middle",
                    "x": _f(tx),
                    "y": _f(ty),
                    "font-family": f"{FONT},sans-Serif",
                    "font-size": f"{size}.00",
                    "font-weight": "bold",
                },
            )
            element.text = text
            new.append(element)
        holder.remove(polygon)
        for offset, element in enumerate(new):
            holder.insert(position + offset, element)


_PATH_START = re.compile(r"^\s*M\s*")


def _join_connectors(root: ET.Element) -> None:
    """Extend connector ends to the centre of their junction points.

    Graphviz clips edges a couple of points short of a node's outline, which leaves visible gaps at the
    zero-size junctions. Edge ids say which junctions an edge joins: d-G (symbol -> junction of G),
    e-G-C[-n] (junction of G -> entry of C), i-C (entry of C -> box of C).
    """
    centres: dict[str, tuple[str, str]] = {}
    for group in root.iter(f"{{{SVG_NS}}}g"):
        if "ft-junction" in group.get("class", "").split():
            for parent in list(group.iter()):
                for ellipse in parent.findall(f"{{{SVG_NS}}}ellipse"):
                    centres[group.get("id", "")] = (ellipse.get("cx", "0"), ellipse.get("cy", "0"))
                    # Once the connectors meet at the centre, the dot itself would only show as a blob.
                    parent.remove(ellipse)
    for group in root.iter(f"{{{SVG_NS}}}g"):
        parts = group.get("id", "").split("-")
        if "ft-edge" not in group.get("class", "").split() or len(parts) < 2:
            continue
        start = end = None
        if parts[0] == "d":
            end = centres.get(f"j-{parts[1]}")
        elif parts[0] == "e" and len(parts) >= 3:
            start, end = centres.get(f"j-{parts[1]}"), centres.get(f"a-{parts[2]}")
        elif parts[0] == "i":
            start = centres.get(f"a-{parts[1]}")
        path = next(group.iter(f"{{{SVG_NS}}}path"), None)
        if path is None:
            continue
        d = path.get("d", "")
        if start is not None and _PATH_START.match(d):
            d = f"M{start[0]},{start[1]} L" + _PATH_START.sub("", d, count=1)
        if end is not None:
            d = f"{d} L{end[0]},{end[1]}"
        path.set("d", d)


_sanitise = graphviz.sanitise
_plain_names = graphviz.plain_names


def svg_from_dot(dot_source: str) -> str:
    """Run Graphviz on DOT from this module and draw the fault-tree symbols into the SVG.

    Comments (Graphviz version banner) and the DOCTYPE are dropped, so the SVG contains nothing
    environment-specific beyond what the layout itself produces.
    """
    return graphviz.render(dot_source, post_process)


def post_process(root: ET.Element) -> None:
    """What :func:`svg_from_dot` does to Graphviz's SVG: the fault-tree symbols and joined connectors."""
    _draw_symbols(root)
    _join_connectors(root)


def render_svg(
    tree: FaultTree,
    result: FtaResult | None = None,
    highlight: tuple[str, ...] | None = None,
    *,
    mark_single_points: bool = True,
) -> str:
    """The whole tree as SVG with standard fault-tree symbols (see :func:`render_dot`)."""
    return svg_from_dot(render_dot(tree, result, highlight, mark_single_points=mark_single_points))
