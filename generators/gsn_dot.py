"""GSN diagrams: Graphviz DOT with the GSN Community Standard v3 shapes, one diagram per module plus an
overview, rendered to SVG.

Shapes: goal = rectangle, strategy = parallelogram, solution = circle, context = rounded rectangle,
assumption and justification = ovals marked A / J, away goal = rectangle over a band naming its module,
undeveloped goal or strategy = a hollow diamond below it. SupportedBy is a line with a filled arrowhead,
InContextOf one with a hollow arrowhead. Fill and stroke show the status (legend in every diagram); the
status is also written in the node, so the diagram reads in greyscale.

Graphviz has no A/J marks or undeveloped diamond, so :func:`svg_from_dot` draws them into the SVG after
layout, finding the nodes by their `class` (the approach and the escaping/sanitising helpers of the fault-tree
diagrams, `fault_tree_dot.py`). Output is deterministic: ids come from the case's ids, order from the case.

Readability: a module is one hazard (or one ML component) when the case is large (`build_case(split=...)`),
the overview shows modules, not nodes, and a node with many children stacks them in rows of ROW_MAX.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping

from safetyops_dsl.generators import graphviz
from safetyops_dsl.generators.fault_tree_dot import (
    SVG_NS,
    _clean,
    _html,
    _points_bbox,
    _quoted,
    _wrap_name,
    fill,
)

from safetyops_dsl.analysis.gsn import CONTEXTUAL, STATUS_ORDER, Case, Node

FONT = "Helvetica"
ROW_MAX = 6
COMPONENTS_PER_ROW = 8  # unconnected parts of the overview side by side before a new row starts
TOPS_NAMED = 4  # more top goals are counted by status in the overview's title
STRATEGY_SKEW = 9.0  # points: half the horizontal offset of a strategy's parallelogram  # children per row below one node; more are stacked in further rows
# status -> (fill, stroke). ColorBrewer-like, distinguishable for the common colour-vision deficiencies
# (failed red vs passed blue-green; the status word is in every node anyway).
COLOURS: dict[str, tuple[str, str]] = {
    "passed": ("#d9f0d3", "#1b7837"),
    "failed": ("#fddbc7", "#b2182b"),
    "stale": ("#fee0b6", "#b35806"),
    "missing": ("#fff7bc", "#8c6d1f"),
    "skipped": ("#e0e0e0", "#4d4d4d"),
    "undeveloped": ("#e7d4e8", "#762a83"),
    "unknown": ("#ffffff", "#404040"),
}
CONTEXT_COLOURS = ("#f7f7f7", "#606060")
LEGEND_TEXT = {
    "passed": "passed: all evidence passed",
    "failed": "failed: evidence failed / target missed",
    "stale": "stale: pinned artefact changed",
    "missing": "missing: no result for the evidence",
    "skipped": "skipped: test skipped",
    "undeveloped": "undeveloped: no support",
    "unknown": "unknown: no CI results given",
}
WRAP = {"goal": 34, "strategy": 30, "solution": 18, "context": 30, "assumption": 26, "justification": 26,
        "away_goal": 30}
MAX_LINES = {"solution": 5}


def _wrap(text: str, width: int, max_lines: int = 6) -> list[str]:
    """Wrap at blanks; a word longer than a line (a path, a test id) breaks after its separators and only
    as a last resort inside the word, so that "inspection" never comes out as "inspectio / n"."""
    lines: list[str] = []
    for paragraph in _clean(text).split("\n"):
        lines += fill(([word] if len(word) <= width else _wrap_name(word, width) for word in paragraph.split()),
                      width)
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "\u2026"
    return lines or [""]


def _dot_id(text: str) -> str:
    return _quoted(text)


def _status_word(case: Case, node: Node) -> str:
    if node.kind in CONTEXTUAL:
        return ""
    return node.status


def _label(node: Node, status: str, module_band: str | None = None) -> str:
    width = WRAP.get(node.kind, 30)
    lines = _wrap(node.text, width, MAX_LINES.get(node.kind, 6))
    # Graphviz rejects a `]` right after a line break (`<BR/>]`: "non-space string used after </TABLE>"), which
    # wrapping a metric key such as `recall[light=night]` can produce: such a `]` is written as an entity
    body = '<BR ALIGN="CENTER"/>'.join(re.sub(r"^\]", "&#93;", _html(line)) for line in lines)
    head = f"<B>{_html(node.id)}</B>"
    size = 8 if node.kind == "solution" and module_band is None else 9
    if status:
        # in a circle every character of width costs twice: the status goes on a line of its own
        sep = "<BR/>" if size == 8 else " "
        head += f'{sep}<FONT POINT-SIZE="8">[{_html(status)}]</FONT>'
    rows = f'<TR><TD><FONT POINT-SIZE="{size + 1}">{head}</FONT></TD></TR><TR><TD><FONT POINT-SIZE="{size}">{body}</FONT></TD></TR>'
    if module_band is None:
        return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{rows}</TABLE>>'
    fill, stroke = COLOURS.get(status, COLOURS["unknown"])
    return (
        f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" COLOR="{stroke}" BGCOLOR="{fill}">'
        f"{rows}"
        f'<TR><TD BORDER="1" SIDES="T" COLOR="{stroke}" BGCOLOR="#ffffff">'
        f'<FONT POINT-SIZE="8">\u25ad {_html(module_band)}</FONT></TD></TR></TABLE>>'
    )


def _tooltip(node: Node) -> str:
    parts = [f"{node.id} ({node.kind.replace('_', ' ')}): {node.text}"]
    if node.kind not in CONTEXTUAL:
        parts.append(f"status: {node.status}" + (f" \u2014 {node.detail}" if node.detail else ""))
    if node.origin:
        parts.append(f"written in argument {node.origin}")
    return "\n".join(parts)


def _attrs(pairs: Iterable[tuple[str, str]]) -> str:
    return "[" + ", ".join(f"{k}={v}" for k, v in pairs) + "]"


def _link(key: str, urls: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """`URL` makes the node a link in the SVG; `_top` so that a diagram shown in a frame opens the page."""
    url = (urls or {}).get(key)
    return [("URL", _quoted(url)), ("target", '"_top"')] if url else []


def _node_stmt(case: Case, node: Node, away_module: str | None = None,
               urls: Mapping[str, str] | None = None) -> str:
    status = _status_word(case, node)
    fill, stroke = COLOURS.get(status, COLOURS["unknown"]) if status else CONTEXT_COLOURS
    classes = [f"gsn-{node.kind.replace('_', '-')}"]
    if status:
        classes.append(f"gsn-status-{status}")
    attrs: list[tuple[str, str]] = [("id", _quoted(f"gsn-{node.id}"))]
    kind = node.kind
    if away_module is not None or kind == "away_goal":
        module = away_module or node.away_module or "?"
        classes.append("gsn-away")
        attrs += [("shape", '"none"'), ("margin", '"0"'), ("label", _label(node, status, module))]
        if kind == "solution":
            classes.append("gsn-away-solution")
    else:
        shape = {
            "goal": "box",
            "strategy": "box",  # skewed into a parallelogram by svg_from_dot (Graphviz's is far too wide)
            "solution": "circle",
            "context": "box",
            "assumption": "ellipse",
            "justification": "ellipse",
        }[kind]
        style = "filled,rounded" if kind == "context" else "filled"
        attrs += [("shape", _quoted(shape)), ("style", _quoted(style)), ("fillcolor", _quoted(fill)),
                  ("color", _quoted(stroke)), ("label", _label(node, status))]
        if kind == "strategy":
            attrs.append(("margin", '"0.22,0.04"'))
        if kind == "solution":
            attrs.append(("margin", '"0.02"'))
        if kind in ("goal", "strategy") and case.undeveloped(node.id):
            classes.append("gsn-undeveloped")
        if kind == "assumption":
            classes.append("gsn-mark-A")
        if kind == "justification":
            classes.append("gsn-mark-J")
    attrs += [("class", _quoted(" ".join(classes))), ("tooltip", _quoted(_tooltip(node)))]
    attrs += _link(node.id, urls)
    return f"  {_dot_id(node.id)} {_attrs(attrs)};"


def _legend(statuses: Iterable[str]) -> str:
    rows = ['<TR><TD COLSPAN="2" ALIGN="LEFT"><B>Status</B></TD></TR>']
    for s in STATUS_ORDER:
        if s not in statuses:
            continue
        fill, stroke = COLOURS[s]
        rows.append(f'<TR><TD BGCOLOR="{fill}" BORDER="1" COLOR="{stroke}" WIDTH="14"> </TD>'
                    f'<TD ALIGN="LEFT"><FONT POINT-SIZE="8">{_html(LEGEND_TEXT[s])}</FONT></TD></TR>')
    rows.append('<TR><TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="8">\u25c7 undeveloped \u00b7 '
                "\u25ad away goal (module) \u00b7 \u2192 supported by \u00b7 \u21e2 in context of</FONT></TD></TR>")
    return ('  "gsn_legend" [id="gsn-legend", class="gsn-legend", shape="none", margin="0", label=<'
            '<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2" COLOR="#999999">'
            + "".join(rows) + "</TABLE>>];")


def _header(name: str, title: str) -> list[str]:
    return [
        f"digraph {_quoted(name)} {{",
        f"  graph [label={_quoted(title)}, labelloc=\"t\", fontname=\"{FONT}\", fontsize=\"14\", "
        'rankdir="TB", nodesep="0.25", ranksep="0.45", ordering="out", newrank="true", '
        'outputorder="edgesfirst"];',
        f'  node [fontname="{FONT}", fontsize="9", penwidth="1.2"];',
        '  edge [color="#333333", penwidth="1.0", arrowsize="0.8"];',
    ]


def module_dot(case: Case, module: str, urls: Mapping[str, str] | None = None) -> str:
    """The argument view of one module: its nodes, their contexts, and elements of other modules they cite
    (drawn as away goals / away solutions with the module's name). `urls`: node id -> link target."""
    mod = case.modules[module]
    members = [n for n in case.nodes.values() if n.module == module and n.kind not in CONTEXTUAL]
    member_ids = {n.id for n in members}
    root_status = case.nodes[mod.root].status if mod.root else "undeveloped"
    title = f"Module {module}: {mod.title} \u2014 root {mod.root or '?'} {root_status}"
    out = _header(module, title)
    drawn: set[str] = set()
    statuses: set[str] = set()
    edges: list[str] = []
    same_rank: list[list[str]] = []

    def draw(node: Node, away: str | None = None) -> None:
        if node.id in drawn:
            return
        drawn.add(node.id)
        if node.kind not in CONTEXTUAL:
            statuses.add(node.status)
        out.append(_node_stmt(case, node, away, urls))

    for n in members:
        draw(n)
        kids = case.children(n.id)
        for c in kids:
            child = case.nodes[c]
            if c not in member_ids:
                draw(child, child.module if child.kind != "away_goal" else None)
        edges.extend(_fan_out(n.id, kids, "gsn-supported-by", f"gsn-e-{n.id}-"))
        ctxs = case.contexts(n.id)
        row = [n.id]
        for j, c in enumerate(ctxs):
            first_time = c not in drawn
            draw(case.nodes[c])
            attrs = [("id", _quoted(f"gsn-c-{n.id}-{c}")), ("class", '"gsn-in-context-of"')]
            if j % 2 and first_time:
                # every second context to the left of its owner (a flat edge's tail is placed left of its
                # head), so that two or three contexts sit next to the goal instead of arcing over each other
                back = attrs + [("dir", '"back"'), ("arrowtail", '"empty"')]
                edges.append(f"  {_dot_id(c)} -> {_dot_id(n.id)} {_attrs(back)};")
            else:
                ahead = attrs + [("arrowhead", '"empty"')]
                edges.append(f"  {_dot_id(n.id)} -> {_dot_id(c)} {_attrs(ahead)};")
            if first_time:
                row.append(c)
        if len(row) > 1:
            same_rank.append(row)
    out.extend(edges)
    for row in same_rank:
        out.append("  { rank=same; " + " ".join(_dot_id(x) for x in row) + "; }")
    out.append(_legend(statuses | {"unknown", "undeveloped"}))
    out.append("}")
    return "\n".join(out) + "\n"


def overview_dot(case: Case, urls: Mapping[str, str] | None = None) -> str:
    """The architecture view: one box per module, coloured by its root goal's status; an arrow where a
    module's argument is supported by another module's. `urls`: "module:<name>" -> link target."""
    if len(case.tops) <= TOPS_NAMED:
        tops = "top goal " + (", ".join(f"{t} {case.nodes[t].status}" for t in case.tops) or "none")
    else:  # a hundred systems: a count per status, not a title as wide as the hundred boxes
        by_status: dict[str, int] = {}
        for t in case.tops:
            by_status[case.nodes[t].status] = by_status.get(case.nodes[t].status, 0) + 1
        tops = f"{len(case.tops)} top goals: " + ", ".join(
            f"{by_status[s]} {s}" for s in STATUS_ORDER if s in by_status)
    out = _header("overview", f"Safety case overview \u2014 {tops}")
    # A module is drawn under the first module that cites it (case order); further citing modules are named
    # in its box, so that a module cited from everywhere (an ML component's requirements) stays readable.
    deps: dict[str, list[str]] = {}
    cited_by: dict[str, list[str]] = {}
    for parent, children in case.supported_by.items():
        pm = case.nodes[parent].module
        for c in children:
            cn = case.nodes[c]
            cm = cn.away_module if cn.kind == "away_goal" and cn.away_module else cn.module
            if cm == pm or pm in cited_by.get(cm, []):
                continue
            if cm not in cited_by:
                deps.setdefault(pm, []).append(cm)
            cited_by.setdefault(cm, []).append(pm)
    statuses: set[str] = set()
    for name, mod in case.modules.items():
        root = case.nodes.get(mod.root or "")
        status = root.status if root else ("unknown" if mod.kind == "external" else "undeveloped")
        statuses.add(status)
        fill, stroke = COLOURS[status]
        sols = case.solutions_below(root.id) if root else []
        counts: dict[str, int] = {}
        for s in sols:
            counts[s.status] = counts.get(s.status, 0) + 1
        summary = ", ".join(f"{counts[s]} {s}" for s in STATUS_ORDER if s in counts) or "no solutions"
        lines = _wrap(mod.title, 30, 3)
        body = '<BR ALIGN="CENTER"/>'.join(_html(x) for x in lines)
        label = (
            '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
            f'<TR><TD BORDER="1" COLOR="{stroke}" BGCOLOR="{fill}" WIDTH="30" HEIGHT="8" FIXEDSIZE="FALSE"></TD>'
            '<TD BORDER="0"></TD></TR>'
            f'<TR><TD COLSPAN="2" COLOR="{stroke}" BGCOLOR="{fill}"><B>{_html(name)}</B> '
            f'<FONT POINT-SIZE="8">[{_html(status)}]</FONT><BR/><FONT POINT-SIZE="9">{body}</FONT><BR/>'
            f'<FONT POINT-SIZE="8">root {_html(mod.root or "-")}; {_html(summary)}</FONT></TD></TR></TABLE>>'
        )
        also = cited_by.get(name, [])[1:]
        if also:
            shown = ", ".join(also[:3]) + (f" +{len(also) - 3}" if len(also) > 3 else "")
            label = label.replace("</FONT></TD></TR></TABLE>>",
                                  f"<BR/>also cited by {_html(shown)}</FONT></TD></TR></TABLE>>")
        tip = f"module {name}: {mod.title}\nroot {mod.root or '-'}: {status}\nsolutions: {summary}"
        out.append(f"  {_dot_id('module:' + name)} "
                   + _attrs([("id", _quoted(f"gsn-module-{name}")), ("class", _quoted(f"gsn-module gsn-status-{status}")),
                             ("shape", '"none"'), ("margin", '"0"'), ("label", label), ("tooltip", _quoted(tip))]
                          + _link("module:" + name, urls))
                   + ";")
    for pm, cms in deps.items():
        out.extend(_fan_out("module:" + pm, ["module:" + c for c in cms], "gsn-module-dependency",
                            f"gsn-m-{pm}-"))
    out.extend(_rows_of_components(list(case.modules), deps))
    out.append(_legend(statuses | {"unknown", "undeveloped"}))
    out.append("}")
    return "\n".join(out) + "\n"


def _rows_of_components(modules: list[str], deps: dict[str, list[str]]) -> list[str]:
    """Invisible edges that stack the overview's unconnected parts (a model of a hundred systems has a
    hundred) in rows of COMPONENTS_PER_ROW: Graphviz puts unconnected parts side by side, one 16,000 pt wide
    row. Each part of a later row hangs below the lowest module of the part above it."""
    parent: dict[str, str] = {m: m for m in modules}

    def find(m: str) -> str:
        while parent[m] != m:
            parent[m] = parent[parent[m]]
            m = parent[m]
        return m

    for pm, cms in deps.items():
        for c in cms:
            if pm in parent and c in parent:
                parent[find(c)] = find(pm)
    parts: dict[str, list[str]] = {}
    for m in modules:
        parts.setdefault(find(m), []).append(m)
    groups = list(parts.values())
    if len(groups) <= COMPONENTS_PER_ROW:
        return []
    depth: dict[str, int] = {}
    for group in groups:
        members = set(group)
        roots = [m for m in group if not any(m in deps.get(p, []) for p in members)] or group[:1]
        level = {r: 0 for r in roots}
        queue = list(roots)
        while queue:
            m = queue.pop(0)
            for c in deps.get(m, []):
                if c not in level:
                    level[c] = level[m] + 1
                    queue.append(c)
        depth.update(level)
    out = []
    for i in range(COMPONENTS_PER_ROW, len(groups)):
        above, below = groups[i - COMPONENTS_PER_ROW], groups[i]
        lowest = max(above, key=lambda m: (depth.get(m, 0), -above.index(m)))
        top = min(below, key=lambda m: (depth.get(m, 0), below.index(m)))
        out.append(f"  {_dot_id('module:' + lowest)} -> {_dot_id('module:' + top)} [style=\"invis\"];")
    return out


def _fan_out(parent: str, children: list[str], cls: str, id_prefix: str) -> list[str]:
    """SupportedBy edges from `parent`. Up to ROW_MAX children hang directly below it; more are stacked in
    rows, each row fed by a junction point on a bus line, so that twenty hazards read as a tidy list."""
    out = []
    if len(children) <= ROW_MAX:
        for c in children:
            out.append(f"  {_dot_id(parent)} -> {_dot_id(c)} "
                       + _attrs([("id", _quoted(id_prefix + c)), ("class", _quoted(cls)), ("arrowhead", '"normal"')])
                       + ";")
        return out
    previous = parent
    for row in range((len(children) + ROW_MAX - 1) // ROW_MAX):
        point = f"{parent}__row{row + 1}"
        out.append(f"  {_dot_id(point)} [shape=\"point\", width=\"0.03\", color=\"#333333\", label=\"\"];")
        out.append(f"  {_dot_id(previous)} -> {_dot_id(point)} [arrowhead=\"none\", class={_quoted(cls)}];")
        members = children[row * ROW_MAX:(row + 1) * ROW_MAX]
        for c in members:
            out.append(f"  {_dot_id(point)} -> {_dot_id(c)} "
                       + _attrs([("id", _quoted(id_prefix + c)), ("class", _quoted(cls)), ("arrowhead", '"normal"')])
                       + ";")
        if row:  # keep the rows below each other
            out.append(f"  {_dot_id(children[(row - 1) * ROW_MAX])} -> {_dot_id(point)} [style=\"invis\"];")
        previous = point
    return out


def diagrams(case: Case, module: str | None = None, urls: Mapping[str, str] | None = None
             ) -> list[tuple[str, str]]:
    """(file stem, DOT) for the overview (when there is more than one module) and every module, in case order.
    External modules (away goals to modules outside the model) have no diagram of their own. `urls` makes
    nodes links: node id -> target, and "module:<name>" -> target for the overview's module boxes."""
    names = [m for m, mod in case.modules.items() if mod.kind != "external"]
    if module is not None:
        if module == "overview":
            return [("overview", overview_dot(case, urls))]
        if module not in names:
            raise KeyError(module)
        return [(module, module_dot(case, module, urls))]
    out = [("overview", overview_dot(case, urls))] if len(case.modules) > 1 else []
    out += [(m, module_dot(case, m, urls)) for m in names]
    return out


# -- SVG ---------------------------------------------------------------------------------------------------------


def _bbox(group: ET.Element) -> tuple[float, float, float, float] | None:
    boxes = []
    for el in group.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "polygon" and el.get("fill") != "none" or tag == "polygon" and el.get("stroke") not in (None, "none", "transparent"):
            boxes.append(_points_bbox(el.get("points", "")))
        elif tag == "ellipse":
            cx, cy = float(el.get("cx", 0)), float(el.get("cy", 0))
            rx, ry = float(el.get("rx", 0)), float(el.get("ry", 0))
            boxes.append((cx - rx, cy - ry, cx + rx, cy + ry))
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _g(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _decorate(root: ET.Element) -> None:
    for group in root.iter(f"{{{SVG_NS}}}g"):
        classes = set(group.get("class", "").split())
        if "node" not in classes:
            continue
        box = _bbox(group)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        stroke = "#404040"
        for el in group.iter():
            if el.tag.rsplit("}", 1)[-1] in ("polygon", "ellipse") and el.get("stroke") not in (None, "none", "transparent"):
                stroke = el.get("stroke", stroke)
                break
        holder = group
        for a in group.iter(f"{{{SVG_NS}}}a"):
            holder = a
            break
        if "gsn-strategy" in classes:
            for poly in group.iter(f"{{{SVG_NS}}}polygon"):
                pts = [tuple(float(v) for v in p.split(",")) for p in poly.get("points", "").split()]
                if not pts:
                    continue
                top = min(y for _, y in pts)
                skewed = [(x + STRATEGY_SKEW if y == top else x - STRATEGY_SKEW, y) for x, y in pts]
                poly.set("points", " ".join(f"{_g(x)},{_g(y)}" for x, y in skewed))
                break
        if "gsn-undeveloped" in classes:
            xm, r = (x0 + x1) / 2, 6.0
            d = f"M{_g(xm)},{_g(y1)} L{_g(xm + r)},{_g(y1 + r)} L{_g(xm)},{_g(y1 + 2 * r)} L{_g(xm - r)},{_g(y1 + r)} Z"
            holder.append(ET.Element(f"{{{SVG_NS}}}path", {"class": "gsn-undeveloped-mark", "d": d,
                                                          "fill": "#ffffff", "stroke": stroke, "stroke-width": "1.2"}))
        for mark in ("A", "J"):
            if f"gsn-mark-{mark}" in classes:
                t = ET.Element(f"{{{SVG_NS}}}text", {
                    "class": "gsn-mark", "x": _g(x1 - 2), "y": _g(y1 + 2), "text-anchor": "start",
                    "font-family": f"{FONT},sans-Serif", "font-size": "12.00", "font-weight": "bold",
                    "fill": stroke})
                t.text = mark
                holder.append(t)


def svg_from_dot(dot_source: str) -> str:
    """Run Graphviz on DOT from this module and add the GSN marks it cannot draw (A/J, undeveloped)."""
    return graphviz.render(dot_source, post_process)


def post_process(root: ET.Element) -> None:
    _decorate(root)
    # room for the marks drawn below the lowest nodes
    vb = root.get("viewBox")
    if vb:
        x, y, w, h = (float(v) for v in vb.split())
        root.set("viewBox", f"{_g(x)} {_g(y)} {_g(w)} {_g(h + 14)}")
        height = root.get("height", "")
        if height.endswith("pt"):
            root.set("height", f"{_g(float(height[:-2]) + 14)}pt")
