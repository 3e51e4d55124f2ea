"""Open-PSA MEF export: fault trees -> one deterministic XML document that `scram --validate` accepts.

Layout: one <define-fault-tree> per tree (gates only, sorted by name) and one <model-data> holding every
basic and house event once (events shared by several trees are defined once, as MEF requires unique
names). Labels become <label>; a node's origin (the model element it came from) becomes the attributes
`origin` (file:line:col) and `element`. MEF identifiers are XML NCNames without '.' and without a leading,
trailing or doubled '-', so other names are rewritten (e.g. a private "FT.t.E1" becomes "FT_t_E1", made
unique deterministically) and the original is kept in the attribute `name`. CCF events of an expanded CCF
group (fta/ccf.py: `[A]`, `[A B]`) become `IND_A` (the independent failure) and `CCF_A_B`. Probabilities are
written with repr precision so that export -> import gives the same numbers bit for bit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from safetyops_dsl.diagnostics import show_hidden
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, HouseEvent, Origin

_INDENT = "  "
_CCF_EVENT = re.compile(r"\[([^\[\]]+)\]")


def _name_start(c: str) -> bool:
    # XML NameStartChar, approximated by Unicode letters for non-ASCII (':' is not allowed in an NCName).
    return c == "_" or ("a" <= c.lower() <= "z") or (c > "\x7f" and c.isalpha())


def _name_char(c: str) -> bool:
    # XML NameChar less '.', which MEF identifiers exclude; '-' is checked by the caller.
    if _name_start(c) or c == "-" or "0" <= c <= "9":
        return True
    return c > "\x7f" and (c.isdecimal() or unicodedata.category(c) in ("Mn", "Mc", "Lm"))


def _valid(name: str) -> bool:
    """A MEF identifier: an XML NCName matching [^-.]+(-[^-.]+)* (no '.', no leading/trailing/double '-')."""
    return (bool(name) and _name_start(name[0]) and all(_name_char(c) for c in name) and "--" not in name
            and not name.endswith("-"))


def _mef_names(names: set[str]) -> dict[str, str]:
    """Original name -> a valid, unique MEF identifier (valid names map to themselves)."""
    out = {n: n for n in names if _valid(n)}
    taken = set(out.values())
    for n in sorted(names - set(out)):
        ccf = _CCF_EVENT.fullmatch(n)
        text = n
        if ccf is not None:
            members = ccf.group(1).split()
            text = ("IND_" if len(members) == 1 else "CCF_") + "_".join(members)
        base = "".join(c if _name_char(c) else "_" for c in text)
        base = re.sub(r"-{2,}", "-", base).strip("-") or "node"
        if not _name_start(base[0]):
            base = "_" + base
        candidate, i = base, 2
        while candidate in taken:
            candidate, i = f"{base}_{i}", i + 1
        taken.add(candidate)
        out[n] = candidate
    return out


def _label(label: str, depth: int) -> list[str]:
    if not label:
        return []
    # hidden characters (bidi controls, zero-width ones) written out, then escaped like the rest
    text = show_hidden(label).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return [f"{_INDENT * depth}<label>{text}</label>"]


def _attributes(origin: Origin | None, depth: int, extra: Sequence[tuple[str, str]] = ()) -> list[str]:
    items: list[tuple[str, str]] = []
    if origin is not None:
        items.append(("origin", str(origin)))
        if origin.element:
            items.append(("element", origin.element))
    items.extend(extra)
    if not items:
        return []
    pad = _INDENT * depth
    lines = [f"{pad}<attributes>"]
    lines += [f"{pad}{_INDENT}<attribute name={quoteattr(k)} value={quoteattr(show_hidden(v))}/>" for k, v in items]
    lines.append(f"{pad}</attributes>")
    return lines


def _renamed(name: str, mef: dict[str, str]) -> list[tuple[str, str]]:
    return [] if mef[name] == name else [("name", name)]


def _ref(tree: FaultTree, name: str, mef: dict[str, str]) -> str:
    kind = tree.node_kind(name)
    return f"<{kind} name={quoteattr(mef[name])}/>"


def _gate(tree: FaultTree, gate: Gate, depth: int, mef: dict[str, str]) -> list[str]:
    pad = _INDENT * depth
    lines = [f"{pad}<define-gate name={quoteattr(mef[gate.name])}>"]
    lines += _label(gate.label, depth + 1)
    lines += _attributes(gate.origin, depth + 1, _renamed(gate.name, mef))
    inner = _INDENT * (depth + 1)
    kind, k = gate.kind, gate.k
    # SCRAM wants at least two arguments for and/or and a vote number of at least 2: write the
    # equivalent connective instead (atleast 1 = or, atleast n = and, one argument = the argument itself).
    if kind is GateKind.ATLEAST and k is not None and (k <= 1 or k >= len(gate.inputs)):
        kind = GateKind.OR if k <= 1 else GateKind.AND
    if kind in (GateKind.AND, GateKind.OR, GateKind.ATLEAST) and len(gate.inputs) == 1:
        kind = GateKind.NULL
    if kind is GateKind.NULL:
        # A pass-through is the MEF formula that is just an event: SCRAM's schema has no <null> element.
        lines += [f"{inner}{_ref(tree, i, mef)}" for i in gate.inputs]
        lines.append(f"{pad}</define-gate>")
        return lines
    open_tag = f'<atleast min="{k}">' if kind is GateKind.ATLEAST else f"<{kind.value}>"
    lines.append(f"{inner}{open_tag}")
    lines += [f"{inner}{_INDENT}{_ref(tree, i, mef)}" for i in gate.inputs]
    lines.append(f"{inner}</{kind.value}>")
    lines.append(f"{pad}</define-gate>")
    return lines


def _basic(event: BasicEvent, depth: int, mef: dict[str, str]) -> list[str]:
    pad = _INDENT * depth
    extra = _renamed(event.name, mef)
    if event.undeveloped:
        extra.append(("undeveloped", "true"))
    if event.rate_per_hour is not None:
        extra.append(("rate-per-hour", repr(event.rate_per_hour)))
    lines = [f"{pad}<define-basic-event name={quoteattr(mef[event.name])}>"]
    lines += _label(event.label, depth + 1)
    lines += _attributes(event.origin, depth + 1, extra)
    lines.append(f'{pad}{_INDENT}<float value="{event.probability!r}"/>')
    lines.append(f"{pad}</define-basic-event>")
    return lines


def _house(event: HouseEvent, depth: int, mef: dict[str, str]) -> list[str]:
    pad = _INDENT * depth
    lines = [f"{pad}<define-house-event name={quoteattr(mef[event.name])}>"]
    lines += _label(event.label, depth + 1)
    lines += _attributes(event.origin, depth + 1, _renamed(event.name, mef))
    lines.append(f'{pad}{_INDENT}<constant value="{"true" if event.state else "false"}"/>')
    lines.append(f"{pad}</define-house-event>")
    return lines


def write_openpsa(trees: list[FaultTree]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<opsa-mef>"]
    basic: dict[str, BasicEvent] = {}
    house: dict[str, HouseEvent] = {}
    gates_written: set[str] = set()
    every = {t.name for t in trees}
    for t in trees:
        every |= set(t.gates) | set(t.basic_events) | set(t.house_events)
    mef = _mef_names(every)
    for tree in sorted(trees, key=lambda t: t.name):
        lines.append(f"{_INDENT}<define-fault-tree name={quoteattr(mef[tree.name])}>")
        lines += _label(tree.label, 2)
        for name in sorted(tree.gates):
            # A gate shared by two trees is defined once (MEF names are global).
            if name in gates_written:
                continue
            gates_written.add(name)
            lines += _gate(tree, tree.gates[name], 2, mef)
        lines.append(f"{_INDENT}</define-fault-tree>")
        basic.update(tree.basic_events)
        house.update(tree.house_events)
    if basic or house:
        lines.append(f"{_INDENT}<model-data>")
        for name in sorted(house):
            lines += _house(house[name], 2, mef)
        for name in sorted(basic):
            lines += _basic(basic[name], 2, mef)
        lines.append(f"{_INDENT}</model-data>")
    lines.append("</opsa-mef>")
    return "\n".join(lines) + "\n"
