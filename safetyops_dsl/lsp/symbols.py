"""The symbol index of a checked model: every definition and every use of a named element, with its span.

Built from the semantic model, never from textX: definitions carry a `Location` (usually of the keyword
that opens them, so the name is found by scanning forward from there), uses are `NameRef`s, `Ref`s and
connection endpoints with their own locations. Where the model keeps no position for a use (the ports of a
`propagate`, the base of a `deviation ... refines`), the source is scanned for the word after the element's
location. A name the model cannot resolve gets no occurrence; validation reports it.

Keys are stable strings: `component:aeb.Camera`, `port:aeb.Camera/frames`, `failure_mode:aeb.Camera/Dead`,
`mechanism:aeb.Camera/Crc`, `part:aeb.AEB/camera`, `hazard:aeb.H1`, `gsn_node:aeb.AEB_safe/G0`,
`deviation:value.stuck`. Spans use 1-based lines and columns (as `Location` does); `end` is exclusive.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.semantics import hazard_system

# Kinds of symbol, as shown in hovers and used in keys.
COMPONENT = "component"
PART = "part"
PORT = "port"
FAILURE_MODE = "failure_mode"
MECHANISM = "mechanism"
CCF_GROUP = "ccf_group"
HAZARD = "hazard"
SAFETY_GOAL = "safety_goal"
REQUIREMENT = "requirement"
EVIDENCE = "evidence"
ARGUMENT = "argument"
GSN_NODE = "gsn_node"
DEVIATION = "deviation"

WORD_CHARS = "A-Za-z0-9_"
# How far past an element's location a scanned-for name may be (a name on the line after its keyword).
SCAN_LINES = 3


@dataclass(frozen=True, order=True)
class Span:
    file: str  # display path, as in Location.file
    line: int  # 1-based
    start: int  # 1-based column of the first character
    end: int  # 1-based column after the last character


@dataclass(frozen=True)
class Symbol:
    key: str
    kind: str
    name: str  # as declared: `Dead`, `value.stuck`
    qualified: str  # `aeb.Camera`, `aeb.Camera.Dead`, `aeb.AEB_safe.G0`, `value.stuck`
    definition: Span | None  # None for the built-in deviations
    element: Any  # the model element: el.Component, el.Port, el.FailureMode, el.Hazard, ...
    owner: Any = None  # the el.Component or el.Argument holding a member; None for top-level elements


@dataclass(frozen=True)
class Occurrence:
    span: Span
    key: str
    is_definition: bool


@dataclass
class SymbolIndex:
    symbols: dict[str, Symbol] = field(default_factory=dict)
    by_file: dict[str, list[Occurrence]] = field(default_factory=dict)  # sorted by span
    _refs: dict[str, list[Occurrence]] = field(default_factory=dict)

    def at(self, file: str, line: int, col: int) -> Occurrence | None:
        """The occurrence under 1-based (line, col); a cursor just after a name still counts as on it.
        Where spans nest (a part declared by `parts Radar` is also a use of the type), the use wins."""
        occs = self.by_file.get(file, [])
        i = bisect.bisect_left(occs, (line,), key=lambda o: (o.span.line,))
        inside: list[Occurrence] = []
        touching: list[Occurrence] = []
        while i < len(occs) and occs[i].span.line == line:
            o = occs[i]
            if o.span.start <= col < o.span.end:
                inside.append(o)
            elif col == o.span.end:
                touching.append(o)
            i += 1
        found = inside or touching
        if not found:
            return None
        return min(found, key=lambda o: (o.span.end - o.span.start, o.is_definition))

    def definition(self, key: str) -> Span | None:
        sym = self.symbols.get(key)
        return sym.definition if sym else None

    def references(self, key: str, include_declaration: bool = True) -> list[Span]:
        return sorted(o.span for o in self._refs.get(key, []) if include_declaration or not o.is_definition)

    def of_kind(self, *kinds: str) -> list[Symbol]:
        return sorted((s for s in self.symbols.values() if s.kind in kinds), key=lambda s: s.key)


# -- spans ---------------------------------------------------------------------------------------------------


_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")  # WORD_CHARS


def find_word(lines: Sequence[str], line: int, col: int, word: str, file: str) -> Span | None:
    """The first whole-word `word` at or after 1-based (line, col), within SCAN_LINES lines."""
    if not word or line <= 0:
        return None
    # str.find, not a regex per word: a regex per name compiled 10,000 patterns for a 2,000-type model
    for n in range(line, min(line + SCAN_LINES, len(lines)) + 1):
        text = lines[n - 1]
        i = text.find(word, max(col - 1, 0) if n == line else 0)
        while i >= 0:
            end = i + len(word)
            # not inside a longer name, and not the tail of a dotted one (`stuck` in `value.stuck`)
            if (i == 0 or (text[i - 1] not in _NAME_CHARS and text[i - 1] != ".")) and (
                end == len(text) or text[end] not in _NAME_CHARS
            ):
                return Span(file, n, i + 1, end + 1)
            i = text.find(word, i + 1)
    return None


def span_at(lines: Sequence[str], loc: Location, text: str) -> Span | None:
    """The span of `text` written exactly at `loc`, else the next whole-word `text` after it. A name
    reference's location is the parser's span of exactly that name, taken as it is."""
    if loc.has_span and loc.end_line == loc.line and loc.end_col - loc.col == len(text):
        return Span(loc.file, loc.line, loc.col, loc.end_col)
    if 0 < loc.line <= len(lines) and loc.col > 0:
        line = lines[loc.line - 1]
        if line.startswith(text, loc.col - 1):
            return Span(loc.file, loc.line, loc.col, loc.col + len(text))
    return find_word(lines, loc.line, loc.col, text, loc.file)


def segments(span: Span, text: str) -> list[Span]:
    """One span per dot-separated segment of `text` written at `span`."""
    out = []
    col = span.start
    for seg in text.split("."):
        out.append(Span(span.file, span.line, col, col + len(seg)))
        col += len(seg) + 1
    return out


def join(a: Span, b: Span) -> Span:
    return Span(a.file, a.line, a.start, b.end)


# -- building ------------------------------------------------------------------------------------------------


def member_key(kind: str, owner: Any, name: str) -> str:
    return f"{kind}:{owner.qualified_name}/{name}"


class _Builder:
    def __init__(self, model: Model, sources: Mapping[str, Sequence[str]]):
        self.model = model
        self.sources = sources
        self.index = SymbolIndex()

    def lines(self, file: str) -> Sequence[str]:
        return self.sources.get(file, ())

    # -- recording ---------------------------------------------------------------------------------------------
    def occur(self, span: Span | None, key: str | None, is_definition: bool = False) -> None:
        if span is None or key is None or key not in self.index.symbols:
            return
        occ = Occurrence(span, key, is_definition)
        self.index.by_file.setdefault(span.file, []).append(occ)
        self.index._refs.setdefault(key, []).append(occ)

    def define(self, key: str, kind: str, name: str, qualified: str, loc: Location, element: Any,
               owner: Any = None, after: Span | None = None) -> Span | None:
        lines = self.lines(loc.file)
        if after is not None:
            span = find_word(lines, after.line, after.end, name, loc.file)
        else:
            span = span_at(lines, loc, name) if kind == PORT else find_word(lines, loc.line, loc.col, name, loc.file)
        if key not in self.index.symbols:
            self.index.symbols[key] = Symbol(key, kind, name, qualified, span, element, owner)
        self.occur(span, key, is_definition=True)
        return span

    def top_key(self, ref: el.NameRef, kinds: Iterable[str], package: str) -> str | None:
        found = self.model.lookup(ref.text, kinds, package)
        return f"{found[0]}:{found[1]}" if found else None

    def top_ref(self, ref: el.NameRef, kinds: Iterable[str], package: str) -> None:
        key = self.top_key(ref, kinds, package)
        if key is not None:
            self.occur(span_at(self.lines(ref.location.file), ref.location, ref.text), key)

    def component_of(self, ref: el.NameRef, package: str) -> el.Component | None:
        found = self.model.lookup(ref.text, ("component",), package)
        return self.model.components[found[1]] if found else None

    def deviation_key(self, name: str) -> str | None:
        return f"{DEVIATION}:{name}" if name in self.model.all_deviations() else None

    # -- definitions --------------------------------------------------------------------------------------------
    def definitions(self) -> None:
        for name in el.BASE_DEVIATIONS:
            key = f"{DEVIATION}:{name}"
            self.index.symbols[key] = Symbol(key, DEVIATION, name, name, None, None)
        for f in self.model.files:
            for d in f.deviations:
                key = f"{DEVIATION}:{d.name}"
                if d.name in el.BASE_DEVIATIONS:
                    continue
                self.define(key, DEVIATION, d.name, d.name, d.location, d)
            for c in f.components:
                self.define(f"{COMPONENT}:{c.qualified_name}", COMPONENT, c.name, c.qualified_name, c.location, c)
                for p in c.ports:
                    self.define(member_key(PORT, c, p.name), PORT, p.name, f"{c.qualified_name}.{p.name}",
                                p.location, p, c)
                for fm in c.failure_modes:
                    self.define(member_key(FAILURE_MODE, c, fm.name), FAILURE_MODE, fm.name,
                                f"{c.qualified_name}.{fm.name}", fm.location, fm, c)
                for m in c.mechanisms:
                    self.define(member_key(MECHANISM, c, m.name), MECHANISM, m.name,
                                f"{c.qualified_name}.{m.name}", m.location, m, c)
                for g in c.common_causes:
                    self.define(member_key(CCF_GROUP, c, g.name), CCF_GROUP, g.name,
                                f"{c.qualified_name}.{g.name}", g.location, g, c)
                for part in c.parts:
                    # `part x : T` names x after the keyword; `parts T` declares a part named like its type,
                    # whose declaration is the type reference's last segment.
                    tail = part.type_ref.text.rsplit(".", 1)[-1]
                    key = member_key(PART, c, part.name)
                    if part.name == tail and part.location == part.type_ref.location:
                        ref_span = span_at(self.lines(part.location.file), part.location, part.type_ref.text)
                        span = segments(ref_span, part.type_ref.text)[-1] if ref_span else None
                        if key not in self.index.symbols:
                            self.index.symbols[key] = Symbol(key, PART, part.name, f"{c.qualified_name}.{part.name}",
                                                             span, part, c)
                        self.occur(span, key, is_definition=True)
                    else:
                        self.define(key, PART, part.name, f"{c.qualified_name}.{part.name}", part.location, part, c)
            for kind, items in (
                (HAZARD, f.hazards), (SAFETY_GOAL, f.goals), (REQUIREMENT, f.requirements), (EVIDENCE, f.evidence),
            ):
                for item in items:
                    self.define(f"{kind}:{item.qualified_name}", kind, item.name, item.qualified_name,
                                item.location, item)
            for arg in f.arguments:
                self.define(f"{ARGUMENT}:{arg.qualified_name}", ARGUMENT, arg.name, arg.qualified_name, arg.location,
                            arg)
                for node in arg.nodes:
                    self.define(member_key(GSN_NODE, arg, node.name), GSN_NODE, node.name,
                                f"{arg.qualified_name}.{node.name}", node.location, node, arg)

    # -- uses ----------------------------------------------------------------------------------------------------
    def uses(self) -> None:
        for f in self.model.files:
            for d in f.deviations:
                self.deviation_uses(d)
            for c in f.components:
                self.component_uses(c)
            for hz in f.hazards:
                self.hazard_uses(hz)
            for g in f.goals:
                for ref in g.mitigates:
                    self.top_ref(ref, ("hazard",), g.package)
            for r in f.requirements:
                for ref in r.refines:
                    self.top_ref(ref, ("safety_goal", "requirement"), r.package)
                for ref in r.allocated_to:
                    self.allocation_use(r, ref)
            for ev in f.evidence:
                for ref in ev.verifies:
                    self.top_ref(ref, ("requirement", "safety_goal"), ev.package)
                for ref in ev.supports:
                    self.top_ref(ref, ("hazard", "safety_goal", "requirement", "component"), ev.package)
            for arg in f.arguments:
                self.argument_uses(arg)

    def deviation_uses(self, d: el.Deviation) -> None:
        if d.base is None:
            return
        key = f"{DEVIATION}:{d.name}"
        start = self.index.symbols[key].definition if key in self.index.symbols else None
        if start is None or start.file != d.location.file:
            return
        self.occur(find_word(self.lines(d.location.file), start.line, start.end, d.base, d.location.file),
                   self.deviation_key(d.base))

    def component_uses(self, c: el.Component) -> None:
        lines = self.lines(c.location.file)
        for part in c.parts:
            self.top_ref(part.type_ref, ("component",), c.package)
        for conn in c.connections:
            for text, loc in ((conn.source, conn.source_location), (conn.target, conn.target_location)):
                if loc is not None:
                    self.endpoint_use(c, text, loc)
        for m in c.mechanisms:
            for covered in m.covers:
                self.occur(span_at(lines, covered.location, covered.text), member_key(FAILURE_MODE, c, covered.text))
        for g in c.common_causes:
            for member in g.members:
                self.ccf_member_use(c, member)
        for rule in c.rules:
            target = f"{rule.port}.{rule.deviation}" if rule.deviation else rule.port
            span = span_at(lines, rule.location, target)
            if span is not None:
                segs = segments(span, rule.port)
                self.occur(segs[0], member_key(PORT, c, rule.port))
                if rule.deviation:
                    dev = Span(span.file, span.line, segs[0].end + 1, span.end)
                    self.occur(dev, self.deviation_key(rule.deviation))
            for ref in el.expr_refs(rule.expr):
                self.logic_ref_use(c, ref)
        for prop in c.propagates:
            cursor = find_word(lines, prop.location.line, prop.location.col, "propagate", prop.location.file)
            for name, key in [(prop.source, member_key(PORT, c, prop.source)),
                              (prop.target, member_key(PORT, c, prop.target))] + [
                    (d, self.deviation_key(d) or "") for d in prop.deviations]:
                if cursor is None:
                    break
                found = find_word(lines, cursor.line, cursor.end, name, prop.location.file)
                self.occur(found, key)
                cursor = found or cursor

    def endpoint_use(self, c: el.Component, text: str, loc: Location) -> None:
        span = span_at(self.lines(loc.file), loc, text)
        if span is None:
            return
        part_name, dot, port_name = text.rpartition(".")
        if not dot:
            self.occur(span, member_key(PORT, c, port_name))
            return
        part_span, port_span = segments(span, part_name)[0], Span(span.file, span.line, span.end - len(port_name),
                                                                   span.end)
        self.occur(part_span, member_key(PART, c, part_name))
        part = c.part(part_name)
        ptype = self.component_of(part.type_ref, c.package) if part else None
        if ptype is not None:
            self.occur(port_span, member_key(PORT, ptype, port_name))

    def ccf_member_use(self, c: el.Component, member: el.NameRef) -> None:
        """`part.sub.failure`: each part segment, then the failure mode of the last part's type."""
        span = span_at(self.lines(member.location.file), member.location, member.text)
        if span is None:
            return
        *parts, mode = member.text.split(".")
        spans = segments(span, member.text)
        owner: el.Component | None = c
        for name, seg in zip(parts, spans, strict=False):
            if owner is None:
                return
            self.occur(seg, member_key(PART, owner, name))
            part = owner.part(name)
            owner = self.component_of(part.type_ref, owner.package) if part else None
        if owner is not None and len(spans) > len(parts):
            self.occur(spans[len(parts)], member_key(FAILURE_MODE, owner, mode))

    def logic_ref_use(self, c: el.Component, ref: el.Ref) -> None:
        span = span_at(self.lines(ref.location.file), ref.location, ref.path)
        if span is None:
            return
        first, dot, rest = ref.path.partition(".")
        if not dot:
            if c.failure_mode(first) is not None:
                self.occur(span, member_key(FAILURE_MODE, c, first))
            return
        head = segments(span, first)[0]
        self.occur(head, member_key(PORT, c, first))
        self.occur(Span(span.file, span.line, head.end + 1, span.end), self.deviation_key(rest))

    def hazard_uses(self, hz: el.Hazard) -> None:

        if hz.system is not None:
            self.top_ref(hz.system, ("component",), hz.package)
        if hz.condition is None:
            return
        system = hazard_system(self.model, hz)
        if isinstance(system, Diagnostic):
            return
        root = self.model.instances(system)
        for ref in el.expr_refs(hz.condition):
            span = span_at(self.lines(ref.location.file), ref.location, ref.path)
            if span is None:
                continue
            segs = ref.path.split(".")
            spans = segments(span, ref.path)
            i = 0
            if segs[0] == system.name and segs[0] not in root.children:
                self.occur(spans[0], f"{COMPONENT}:{system.qualified_name}")
                i = 1
            inst = root
            while i < len(segs) and segs[i] in inst.children:
                self.occur(spans[i], member_key(PART, inst.component, segs[i]))
                inst = inst.children[segs[i]]
                i += 1
            if i < len(segs) and inst.component.port(segs[i]) is not None:
                self.occur(spans[i], member_key(PORT, inst.component, segs[i]))
                i += 1
                if i < len(segs):
                    self.occur(join(spans[i], spans[-1]), self.deviation_key(".".join(segs[i:])))

    def allocation_use(self, req: el.Requirement, ref: el.NameRef) -> None:
        span = span_at(self.lines(ref.location.file), ref.location, ref.text)
        if span is None:
            return
        comp = self.model.lookup(ref.text, ("component",), req.package)
        if comp is not None:
            self.occur(span, f"{COMPONENT}:{comp[1]}")
            return
        spans = segments(span, ref.text)
        segs = ref.text.split(".")
        for system in self.model.systems():
            root = self.model.instances(system)
            i = 1 if segs[0] == system.name and segs[0] not in root.children else 0
            inst = root
            found: list[tuple[Span, str]] = [(spans[0], f"{COMPONENT}:{system.qualified_name}")] if i else []
            while i < len(segs) and segs[i] in inst.children:
                found.append((spans[i], member_key(PART, inst.component, segs[i])))
                inst = inst.children[segs[i]]
                i += 1
            if i == len(segs) and inst is not root:
                for s, key in found:
                    self.occur(s, key)
                return

    def argument_uses(self, arg: el.Argument) -> None:
        names = {n.name for n in arg.nodes}
        for node in arg.nodes:
            for ref in node.supports + node.context_for + node.in_context_of:
                if ref.text in names:
                    self.occur(span_at(self.lines(ref.location.file), ref.location, ref.text),
                               member_key(GSN_NODE, arg, ref.text))
            for ref in node.evidence:
                self.top_ref(ref, ("evidence",), arg.package)
            for ref in node.refers:
                self.top_ref(ref, ("hazard", "safety_goal", "requirement", "component", "evidence"), arg.package)
            for ref in node.attach_to:
                self.top_ref(ref, ("hazard", "safety_goal", "requirement", "component"), arg.package)


def build_index(model: Model, sources: Mapping[str, Sequence[str]]) -> SymbolIndex:
    """The index of `model`; `sources` maps display paths to their lines (api.Checked.sources)."""
    b = _Builder(model, sources)
    b.definitions()
    b.uses()
    for occs in b.index.by_file.values():
        occs.sort(key=lambda o: (o.span, not o.is_definition))
    # A name can be reached twice (a duplicate definition, a scanned fallback that found a written use):
    # keep each span once per key.
    for key, occs in b.index._refs.items():
        seen: dict[Span, Occurrence] = {}
        for o in occs:
            if o.span not in seen or o.is_definition:
                seen[o.span] = o
        b.index._refs[key] = list(seen.values())
    return b.index
