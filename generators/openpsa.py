"""Open-PSA MEF export: fault trees -> one deterministic XML document that `scram --validate` accepts.

Layout: one <define-fault-tree> per tree (gates only, sorted by name) and one <model-data> holding the
basic and house events. MEF names are global, so a node that several trees define identically (same
connective, same inputs down to the events, same probabilities) is written once; where trees define one name
differently (hazards with their own mission times, a gate that a feedback loop cut differently), every
variant is written as its own copy, `<name>_<tree>` after the first tree that uses it. Each tree of the
document therefore gives SCRAM exactly the numbers of its export alone. Labels become <label>; a node's
origin (the model element it came from) becomes the attributes `origin` (file:line:col) and `element` (for
trees synthesised from a model: the element's instance path). MEF identifiers are XML NCNames without '.'
and without a leading, trailing or doubled '-', so other names are rewritten (e.g. a private "FT.t.E1"
becomes "FT_t_E1", made unique deterministically) and the original is kept in the attribute `name` (copies
too). Named parameters of the model become <define-parameter> (with unit `hours-1` or `hours`), and an
event whose rate names parameters or that is proof-tested keeps its expression (`exponential`,
`periodic-test` over the parameters); other events are written as their probability. CCF events of an expanded CCF group (fta/ccf.py: `[A]`, `[A B]`) become `IND_A` (the independent
failure) and `CCF_A_B`. Probabilities are written with repr precision so that export -> import gives the
same numbers bit for bit.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from safetyops_dsl.diagnostics import show_hidden
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, HouseEvent, MefExpr, Origin

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


def _base(text: str) -> str:
    """A valid MEF identifier spelling `text` (not yet made unique)."""
    ccf = _CCF_EVENT.fullmatch(text)
    if ccf is not None:
        members = ccf.group(1).split()
        text = ("IND_" if len(members) == 1 else "CCF_") + "_".join(members)
    base = "".join(c if _name_char(c) else "_" for c in text)
    base = re.sub(r"-{2,}", "-", base).strip("-") or "node"
    return base if _name_start(base[0]) else "_" + base


def _mef_names(names: set[str]) -> dict[str, str]:
    """Original name -> a valid, unique MEF identifier (valid names map to themselves)."""
    return _allocate(names, set())[0]


def _allocate(names: set[str], copies: set[tuple[str, str]]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """MEF identifiers for the plain names and for the per-tree copies (name, tree). Plain names are placed
    first, exactly as without copies, so a copy never takes the identifier a plain name would have."""
    plain = {n: n for n in names if _valid(n)}
    taken = set(plain.values())

    def unique(base: str) -> str:
        candidate, i = base, 2
        while candidate in taken:
            candidate, i = f"{base}_{i}", i + 1
        taken.add(candidate)
        return candidate

    for n in sorted(names - set(plain)):
        plain[n] = unique(_base(n))
    copied = {(n, t): unique(_base(f"{_base(n)}_{t}")) for n, t in sorted(copies)}
    return plain, copied


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
    if event.expression is not None:
        lines += _expression(event.expression, depth + 1)
    else:
        lines.append(f'{pad}{_INDENT}<float value="{event.probability!r}"/>')
    lines.append(f"{pad}</define-basic-event>")
    return lines


def _expression(e: MefExpr, depth: int) -> list[str]:
    """An expression over parameters (`define-parameter`), `exponential`, `periodic-test` and arithmetic; the
    time arguments are the tree's mission time as a number, so SCRAM gives the export's numbers whatever its
    own --mission-time."""
    pad = _INDENT * depth
    if e.tag == "float":
        return [f'{pad}<float value="{e.value!r}"/>']
    if e.tag == "parameter":
        return [f"{pad}<parameter name={quoteattr(_base(e.name))}/>"]
    return [f"{pad}<{e.tag}>", *(line for a in e.args for line in _expression(a, depth + 1)), f"{pad}</{e.tag}>"]


def _parameter(name: str, expr: MefExpr, unit: str, depth: int) -> list[str]:
    pad = _INDENT * depth
    unit_attr = f" unit={quoteattr(unit)}" if unit else ""
    return [f"{pad}<define-parameter name={quoteattr(_base(name))}{unit_attr}>", *_expression(expr, depth + 1),
            f"{pad}</define-parameter>"]


def _house(event: HouseEvent, depth: int, mef: dict[str, str]) -> list[str]:
    pad = _INDENT * depth
    lines = [f"{pad}<define-house-event name={quoteattr(mef[event.name])}>"]
    lines += _label(event.label, depth + 1)
    lines += _attributes(event.origin, depth + 1, _renamed(event.name, mef))
    lines.append(f'{pad}{_INDENT}<constant value="{"true" if event.state else "false"}"/>')
    lines.append(f"{pad}</define-house-event>")
    return lines


def _definitions(trees: list[FaultTree], shared: set[str]) -> dict[tuple[str, str], int]:
    """(tree, node) -> a number that is equal for two nodes exactly when their definitions are equal all the
    way down: same connective, inputs, label and origin, and inputs that are equal in turn (events: same
    probability and attributes). Two trees built for different mission times, or a gate that a feedback loop
    cut differently in each tree, give different numbers under one name. Only the `shared` nodes (those of
    several trees) and what lies below them are numbered: the others are written once anyway."""
    interned: dict[object, int] = {}
    out: dict[tuple[str, str], int] = {}
    for tree in trees:
        done: dict[str, int] = {}
        for root in shared.intersection(tree.gates).union(shared.intersection(tree.basic_events),
                                                          shared.intersection(tree.house_events)):
            stack = [root]
            while stack:  # iterative post-order: a chain of thousands of gates must not hit the recursion limit
                name = stack[-1]
                if name in done:
                    stack.pop()
                    continue
                gate = tree.gates.get(name)
                if gate is None:
                    event = tree.basic_events.get(name) or tree.house_events[name]
                    done[name] = interned.setdefault(event, len(interned))
                    stack.pop()
                    continue
                todo = [i for i in gate.inputs if i not in done]
                if todo:
                    stack.extend(todo)
                    continue
                stack.pop()
                done[name] = interned.setdefault((gate, tuple(done[i] for i in gate.inputs)), len(interned))
        out.update(((tree.name, n), i) for n, i in done.items())
    return out


def write_openpsa(trees: list[FaultTree]) -> str:
    """One MEF document for all `trees`. A node that several trees define identically is written once; where
    the definitions differ (another mission time, a loop cut elsewhere), each variant is written as a copy
    named after the first tree (by name) that uses it, so every tree keeps exactly its own numbers."""
    trees = sorted(trees, key=lambda t: t.name)
    uses = Counter(n for t in trees for n in (*t.gates, *t.basic_events, *t.house_events))
    definitions = _definitions(trees, {n for n, c in uses.items() if c > 1})
    variants: dict[str, dict[int, str]] = {}  # shared node -> definition -> first tree using it
    for (tree_name, node), d in definitions.items():
        variants.setdefault(node, {}).setdefault(d, tree_name)
    copies = {(node, t) for node, by_def in variants.items() if len(by_def) > 1 for t in by_def.values()}
    plain, copied = _allocate({t.name for t in trees} | set(uses), copies)

    def key(tree: FaultTree, node: str) -> tuple[str, str]:
        by_def = variants.get(node)
        return (node, "") if by_def is None or len(by_def) == 1 else (node, by_def[definitions[tree.name, node]])

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<opsa-mef>"]
    basic: dict[tuple[str, str], tuple[BasicEvent, dict[str, str]]] = {}
    house: dict[tuple[str, str], tuple[HouseEvent, dict[str, str]]] = {}
    written: set[tuple[str, str]] = set()
    for tree in trees:
        keys = {n: key(tree, n) for n in (*tree.gates, *tree.basic_events, *tree.house_events)}
        mef = {n: copied[k] if k[1] else plain[n] for n, k in keys.items()}
        lines.append(f"{_INDENT}<define-fault-tree name={quoteattr(plain[tree.name])}>")
        lines += _label(tree.label, 2)
        for name in sorted(tree.gates, key=keys.__getitem__):
            # MEF names are global: a gate that trees share is defined in the first of them only.
            if keys[name] not in written:
                written.add(keys[name])
                lines += _gate(tree, tree.gates[name], 2, mef)
        lines.append(f"{_INDENT}</define-fault-tree>")
        basic.update((keys[n], (e, mef)) for n, e in tree.basic_events.items() if keys[n] not in basic)
        house.update((keys[n], (e, mef)) for n, e in tree.house_events.items() if keys[n] not in house)
    parameters = {name: value for tree in trees for name, value in tree.parameters.items()}
    if basic or house or parameters:
        lines.append(f"{_INDENT}<model-data>")
        for name in sorted(parameters):
            lines += _parameter(name, *parameters[name], 2)
        for h, names in (house[k] for k in sorted(house)):
            lines += _house(h, 2, names)
        for b, names in (basic[k] for k in sorted(basic)):
            lines += _basic(b, 2, names)
        lines.append(f"{_INDENT}</model-data>")
    lines.append("</opsa-mef>")
    return "\n".join(lines) + "\n"
