"""A fast parser compiled from textX's own parser for grammar/sops.tx, for text that parses.

textX (Arpeggio) builds a parse tree, then walks it a second time to make objects: about 7,000 lines a
second here, 95 % of `sops check` on a large model. This module reads the parsing expressions textX built
from the grammar (the same objects Arpeggio interprets), generates Python source for them once per process
and returns objects shaped as textX's (same class names, attributes, defaults, `_tx_position`,
`_tx_position_end`), so the builder cannot tell them apart. Nothing of the language is written here: a
change to grammar/sops.tx changes the generated code, and a construct the generator does not know makes
`compile_parser` refuse, so that parse_text falls back to textX instead of guessing.

Only success is fast. A text that does not parse here is handed to textX, which produces the positioned
diagnostic with its expected-token list; the two parsers are checked to agree by
tests/unit/test_fast_parser.py (every model in the repository, generated models and random texts).

Semantics kept from Arpeggio: PEG ordered choice with backtracking, whitespace and comments skipped before
every terminal, keywords as `word\\b` regexes (autokwd), a repetition stops when its item fails, a separator
is consumed only with the item after it, an object's position is that of its first terminal and its end that
of its last. Ordered choices of rules are pruned by the next character (FIRST sets from the regexes): an
alternative that cannot start with that character could not match, so the order of the others is unchanged.

What makes it cheap (docs/performance.md): the whitespace before a terminal and the terminal are one regex
(`(?>WS)(token)`: atomic, so it skips what WS alone skips); a rule's sequence, assignments and simple loops
are inline in one function per rule; an attribute assigned once in the rule's own sequence is a local until
the object is made (a failed sequence makes no object, so there is nothing to undo), the others go through
the trail `f` as Arpeggio's parse tree would be discarded.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:  # Python 3.11 renamed the regex parser module; both spell the same opcodes
    import re._parser as _sre_parse  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef,unused-ignore]

_constants = _sre_parse  # opcodes are re-exported by the parser module


class Unsupported(Exception):
    """The grammar uses a construct this generator does not translate."""


_BASE_CONVERT = {"INT": "int", "STRING": "_unquote"}
_BASE_PYTHON_DEFAULT = {"ID": "''", "BOOL": "False", "INT": "0", "FLOAT": "0.0", "STRICTFLOAT": "0.0",
                        "STRING": "''", "NUMBER": "0.0", "BASETYPE": "''"}


def _unquote(x: str) -> str:
    # textX's STRING conversion, exactly (it unescapes quotes and nothing else)
    return x[1:-1].replace(r"\"", r'"').replace(r"\'", "'")


# -- FIRST sets of regexes ----------------------------------------------------------------------------------
# None means "any character"; a set is exact-or-larger (conservative), never smaller.
First = frozenset[str] | None


def _union(a: First, b: First) -> First:
    return None if a is None or b is None else a | b


def _regex_first(pattern: str, flags: int) -> tuple[First, bool]:
    if flags & re.IGNORECASE:
        return None, True
    return _seq_first(list(_sre_parse.parse(pattern, flags)))


def _seq_first(items: list[Any]) -> tuple[First, bool]:
    acc: First = frozenset()
    for op, arg in items:
        first, nullable = _op_first(op, arg)
        acc = _union(acc, first)
        if not nullable:
            return acc, False
    return acc, True


def _op_first(op: Any, arg: Any) -> tuple[First, bool]:
    c = _constants
    if op is c.LITERAL:
        return frozenset(chr(arg)), False
    if op is c.IN:
        chars: set[str] = set()
        for iop, iarg in arg:
            if iop is c.LITERAL:
                chars.add(chr(iarg))
            elif iop is c.RANGE and iarg[1] - iarg[0] <= 512:
                chars.update(chr(i) for i in range(iarg[0], iarg[1] + 1))
            else:  # NEGATE, CATEGORY, wide ranges: any character
                return None, False
        return frozenset(chars), False
    if op is c.BRANCH:
        acc: First = frozenset()
        nullable = False
        for branch in arg[1]:
            first, n = _seq_first(list(branch))
            acc = _union(acc, first)
            nullable = nullable or n
        return acc, nullable
    if op is c.SUBPATTERN:
        return _seq_first(list(arg[-1]))
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)):
        lo, _hi, item = arg
        first, n = _seq_first(list(item))
        return first, n or lo == 0
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):  # zero width: the next item decides
        return frozenset(), True
    return None, False


# -- the generator ------------------------------------------------------------------------------------------
class _Gen:
    def __init__(self, mm: Any, ws_rx: str, ws_flags: int):
        self.mm = mm
        self.ws_rx = ws_rx
        self.ws_flags = ws_flags
        self.lines: list[str] = []
        self.names: dict[Any, str] = {}  # expression key -> function name
        self.consts: dict[str, str] = {}  # global name -> Python expression of its value
        self.first_memo: dict[int, tuple[First, bool]] = {}
        self.classes: dict[str, str] = {}  # textX class name -> global name of its node class
        self.regexes: dict[str, str] = {}  # source of a compiled regex's match -> its global name
        self.tables: list[str] = []
        self.defaults: dict[str, str] = {}  # attribute -> its default, of the rule being generated
        self.count = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    # constants (compiled regexes, node classes, attribute sets) live in the generated module's globals,
    # written as source so that the module can be shipped (generated_parser.py) as well as exec'd
    def const(self, prefix: str, source: str) -> str:
        name = self.fresh(prefix)
        self.consts[name] = source
        return name

    def first(self, e: Any) -> tuple[First, bool]:
        key = id(e)
        if key in self.first_memo:
            return self.first_memo[key]
        self.first_memo[key] = (None, True)  # recursion guard: conservative
        kind = type(e).__name__
        result: tuple[First, bool]
        if kind == "StrMatch":
            result = (frozenset(e.to_match[:1]), not e.to_match)
        elif kind == "RegExMatch":
            result = _regex_first(e.regex.pattern, e.regex.flags)
        elif kind in ("Sequence",):
            acc: First = frozenset()
            nullable = True
            for n in e.nodes:
                f, nl = self.first(n)
                acc = _union(acc, f)
                if not nl:
                    nullable = False
                    break
            result = (acc, nullable)
        elif kind == "OrderedChoice":
            acc = frozenset()
            nullable = False
            for n in e.nodes:
                f, nl = self.first(n)
                acc = _union(acc, f)
                nullable = nullable or nl
            result = (acc, nullable)
        elif kind in ("Optional", "ZeroOrMore"):
            result = (self.first(e.nodes[0])[0], True)
        elif kind == "OneOrMore":
            result = self.first(e.nodes[0])
        else:
            result = (None, True)
        self.first_memo[key] = result
        return result

    def emit(self, text: str) -> None:
        self.lines.append(text)

    # Every expression becomes `def NAME(t, p, f)`: t the text, p the position, f the assignment trail of the
    # object being built; it returns the new position or -1 and, on failure, leaves f as it found it.
    # A rule or terminal referenced from many places is generated once (keyed by name or pattern).
    def key(self, e: Any) -> Any:
        kind = type(e).__name__
        if kind in ("StrMatch", "RegExMatch"):
            return (kind, e.rule_name, e.to_match) if kind == "StrMatch" else (kind, e.rule_name, e.regex.pattern,
                                                                             e.regex.flags)
        if getattr(e, "_tx_class", None) is not None and e.root:
            return ("rule", e.rule_name)
        return id(e)

    def match(self, e: Any) -> str:
        key = self.key(e)
        if key in self.names:
            return self.names[key]
        kind = type(e).__name__
        cls = getattr(e, "_tx_class", None)
        rule_name = e.rule_name
        if rule_name.startswith("__asgn"):
            return self._assignment(e)
        if cls is not None and e.root and rule_name not in ("Model",):
            # a rule referenced without an assignment: only the alternatives of an abstract rule are
            # understood (textX keeps the chosen object); anything else changes the object in ways not
            # translated here
            raise Unsupported(f"rule {rule_name} used without an assignment")
        name = self.fresh("m")
        self.names[key] = name
        if kind in ("StrMatch", "RegExMatch"):
            code, _text = self._token_match(e, "return -1", capture=False)
            self.emit(f"def {name}(t, p, f):\n{code}\n        return p\n")
        elif kind == "EndOfFile":
            self.emit(f"def {name}(t, p, f):\n        p = WS(t, p).end()\n"
                      f"        return p if p == len(t) else -1\n")
        elif kind == "Sequence":
            self.emit("\n".join(self._sequence(name, e.nodes)))
        elif kind == "OrderedChoice":
            parts = [self.match(n) for n in e.nodes]
            body = [f"def {name}(t, p, f):"]
            for part in parts:
                body.append(f"        q = {part}(t, p, f)\n        if q >= 0:\n            return q")
            body.append("        return -1\n")
            self.emit("\n".join(body))
        elif kind == "Optional":
            inner = self.match(e.nodes[0])
            self.emit(f"def {name}(t, p, f):\n        q = {inner}(t, p, f)\n        return p if q < 0 else q\n")
        elif kind in ("ZeroOrMore", "OneOrMore"):
            if e.sep is not None or getattr(e, "eolterm", False):
                raise Unsupported("separator or eolterm on an unassigned repetition")
            inner = self.match(e.nodes[0])
            least = "-1 if q == p0 else " if kind == "OneOrMore" else ""
            self.emit(
                f"def {name}(t, p, f):\n        p0 = p\n        while True:\n"
                f"            q = {inner}(t, p, f)\n            if q < 0:\n                break\n"
                f"            if q == p:\n                break\n            p = q\n"
                f"        q = p\n        return {least}q\n"
            )
        else:
            raise Unsupported(f"parsing expression {kind}")
        return name

    # value of the right-hand side of an assignment: `def NAME(t, p)` -> (new position or -1, value)
    def value(self, e: Any) -> str:
        key = ("value", self.key(e))
        if key in self.names:
            return self.names[key]
        cls = getattr(e, "_tx_class", None)
        kind = type(e).__name__
        name = self.fresh("v")
        self.names[key] = name
        if cls is not None and cls._tx_type == "common":
            self._common(e, name, cls)
        elif cls is not None and cls._tx_type == "abstract":
            self._abstract(e, name)
        elif kind in ("StrMatch", "RegExMatch"):
            if e.rule_name in _BASE_PYTHON_DEFAULT and e.rule_name not in ("ID", *_BASE_CONVERT):
                raise Unsupported(f"base type {e.rule_name}")  # BOOL, FLOAT: textX converts them
            conv = _BASE_CONVERT.get(e.rule_name, "")
            code, text = self._token_match(e, "return -1, None", capture=True)
            self.emit(f"def {name}(t, p):\n{code}\n        return p, {conv}({text})\n")
        elif kind == "OrderedChoice" and cls is not None and cls._tx_type == "match" and all(
            type(n).__name__ in ("StrMatch", "RegExMatch") and not getattr(n, "_tx_class", None) for n in e.nodes
        ):
            # a match rule of keywords: its value is the text of the alternative that matched
            if self._token_regex(e, capture=True) is not None:
                code, text = self._token_match(e, "return -1, None", capture=True)
                self.emit(f"def {name}(t, p):\n{code}\n        return p, {text}\n")
                return name
            alts = [self.match(n) for n in e.nodes]
            body = [f"def {name}(t, p):", "        s = WS(t, p).end()"]
            for alt in alts:
                body.append(f"        q = {alt}(t, p, [])\n        if q >= 0:\n            return q, t[s:q]")
            body.append("        return -1, None\n")
            self.emit("\n".join(body))
        else:
            raise Unsupported(f"value of {kind} {e.rule_name}")
        return name

    def _abstract(self, e: Any, name: str) -> None:
        if type(e).__name__ != "OrderedChoice":
            raise Unsupported(f"abstract rule {e.rule_name} is not a plain choice")
        alts = []
        for n in e.nodes:
            ncls = getattr(n, "_tx_class", None)
            if ncls is None or ncls._tx_type not in ("common", "abstract"):
                raise Unsupported(f"abstract rule {e.rule_name} has a non-rule alternative")
            alts.append((self.value(n), self.first(n), self._guard(n)))
        chars = sorted(set().union(*(f for _v, (f, _n), _g in alts if f is not None)))

        def row(c: str | None) -> str:
            # an alternative stays in the row of a character unless its FIRST set proves it cannot start there
            return "(" + "".join(f"({g}, {v}), " for v, (f, nl), g in alts
                                 if nl or f is None or (c is not None and c in f)) + ")"

        rows = {c: row(c) for c in chars}
        default = row(None)
        table = f"D{len(self.tables)}"
        self.tables.append(f"{table}_get = {{{', '.join(f'{c!r}: {r}' for c, r in rows.items())}}}.get\n"
                           f"{table}_default = {default}\n")
        self.emit(
            f"def {name}(t, p):\n        s = WS(t, p).end()\n"
            f"        for guard, alt in {table}_get(t[s:s + 1], {table}_default):\n"
            f"            if guard is not None and guard(t, s) is None:\n                continue\n"
            f"            q, o = alt(t, p)\n            if q >= 0:\n                return q, o\n"
            f"        return -1, None\n"
        )

    def _guard(self, n: Any) -> str:
        """A regex that matches wherever alternative `n` can start, for an alternative that starts with a named
        token and more terminals (`target=Path '<-' ...`): the terminals with the whitespace between, each an
        atomic group (a terminal never gives back what it matched, so the regex is exact). Where it does not
        match, the alternative is skipped without building anything: `Rule`, tried first at every member and
        failing at its second token, was a tenth of a parse. "None" where there is no such prefix."""
        if getattr(n, "_tx_class", None) is None or n._tx_class._tx_type != "common" or type(n).__name__ != "Sequence":
            return "None"
        parts: list[str] = []
        flags = {self.ws_flags}
        for item in n.nodes:
            term = item if self._inline_terminal(item) else item.nodes[0] if self._inline_assignment(item) else None
            if term is None:
                break
            if type(term).__name__ == "StrMatch":
                parts.append(re.escape(term.to_match))
            elif re.search(r"\\[1-9]|\(\?P[=<]|\(\?[a-zA-Z]", term.regex.pattern):
                break  # back-references, named groups, inline flags: not embedded in another pattern
            else:
                parts.append(term.regex.pattern)
                flags.add(int(term.regex.flags))
        if len(parts) < 2 or len(flags) != 1:
            return "None"
        first = n.nodes[0] if self._inline_terminal(n.nodes[0]) else n.nodes[0].nodes[0]
        if type(first).__name__ != "RegExMatch" or not first.rule_name:
            return "None"  # a keyword first: its own match fails as fast, and a guard would only slow a success
        pattern = f"(?>{parts[0]})" + "".join(f"(?>{self.ws_rx})(?>{part})" for part in parts[1:])
        re.compile(pattern, flags.pop())  # raises on a pattern that cannot be embedded (then generate nothing)
        source = f"re.compile({pattern!r}, {self.ws_flags}).match"
        if source not in self.regexes:
            self.regexes[source] = self.const("G", source)
        return self.regexes[source]

    def _common(self, e: Any, name: str, mcls: Any) -> None:
        """The value function of a rule that makes an object: its sequence inline. An attribute assigned once,
        in the sequence itself (not inside an optional, a choice or a repetition), is held in a local until
        the object is made (a failed sequence makes none, so nothing is to undo); the others go through the
        assignment trail `f`, undone where the part that assigned them fails, as before."""
        if type(e).__name__ != "Sequence":
            raise Unsupported(f"rule {e.rule_name} is a {type(e).__name__}")
        cname = mcls.__name__
        attrs = mcls._tx_attrs
        lists = {a.name for a in attrs.values() if a.mult in ("0..*", "1..*")}
        counts: dict[str, int] = {}
        for n in self._assignments(e):
            counts[str(n._attr_name)] = counts.get(str(n._attr_name), 0) + 1
        direct: dict[str, str] = {}  # attribute -> its local
        for n in e.nodes:
            n = self._optional_assignment(n) or n
            if n.rule_name.startswith("__asgn") and counts[str(n._attr_name)] == 1:
                many = n.rule_name.split("_")[-1] in ("zeroormore", "oneormore")
                if many == (n._attr_name in lists):  # a list is built by a repetition, a value set once
                    direct[str(n._attr_name)] = f"x_{n._attr_name}"
        trail = any(a not in direct for a in counts)
        if cname not in self.classes:
            slots = (*attrs, "_tx_position", "_tx_position_end")
            self.classes[cname] = self.const("C", f"_node_class({cname!r}, {slots!r})")
        kcls = self.classes[cname]
        defaults = {a.name: "[]" if a.name in lists else _BASE_PYTHON_DEFAULT.get(a.cls.__name__, "None")
                    for a in attrs.values()}
        fail = "return -1, None"
        body = [f"def {name}(t, p):"]
        if trail:
            body.append("        f = []")
        first = e.nodes[0]
        if self._token_of(first) is not None and self._token_regex(self._token_of(first), capture=True) is not None:
            start = None  # the first token's own match gives the position
        elif self._object_assignment(first):
            start = None  # the first object's position is this one's (both are WS(t, p).end() of the same p)
        else:
            body.append("        p0 = WS(t, p).end()")
            start = "p0"
        for i, n in enumerate(e.nodes):
            self.defaults = defaults  # (generating another rule's function in between sets its own)
            code, token_start = self._item(n, fail, "f" if trail else "NOF", direct, first=i == 0 and start is None)
            body.append(code)
            if token_start is not None:
                body.append(f"        p0 = {token_start}")
        body.append(f"        o = {kcls}()")
        for a in attrs.values():
            body.append(f"        o.{a.name} = {direct[a.name] if a.name in direct else defaults[a.name]}")
        body.append("        o._tx_position = p0\n        o._tx_position_end = p")
        if trail:
            trail_lists = sorted(lists - set(direct))
            if trail_lists:
                klists = self.const("L", f"frozenset({trail_lists!r})")
                body.append(f"        for k, v in f:\n            if k in {klists}:\n"
                            f"                getattr(o, k).append(v)\n            else:\n                setattr(o, k, v)")
            else:  # no list attribute in the trail: every assignment sets one
                body.append("        for k, v in f:\n            setattr(o, k, v)")
        body.append("        return p, o\n")
        self.emit("\n".join(body))

    def _optional_assignment(self, n: Any) -> Any:
        """The assignment `attr=X` of an optional `(attr=X)?` (X a token or a rule), else None."""
        if type(n).__name__ != "Optional":
            return None
        inner = n.nodes[0]
        if type(inner).__name__ == "Sequence" and len(inner.nodes) == 1 and not inner.rule_name.startswith("__asgn"):
            inner = inner.nodes[0]
        if not inner.rule_name.startswith("__asgn") or inner.rule_name.split("_")[-1] != "plain":
            return None
        if self._token_of(inner) is None and getattr(inner.nodes[0], "_tx_class", None) is None:
            return None
        return inner

    def _object_assignment(self, n: Any) -> bool:
        """Whether `n` is `attr=Rule` of a rule that makes an object (positioned after the whitespace at p)."""
        if not n.rule_name.startswith("__asgn") or n.rule_name.split("_")[-1] != "plain" or self._token_of(n):
            return False
        cls = getattr(n.nodes[0], "_tx_class", None)
        return cls is not None and cls._tx_type in ("common", "abstract")

    @staticmethod
    def _assignments(e: Any) -> list[Any]:
        """The assignments of a rule's body (not those inside the rules they assign)."""
        found: list[Any] = []
        todo = [e]
        while todo:
            n = todo.pop()
            if n.rule_name.startswith("__asgn"):
                found.append(n)
                continue  # its value is another rule's object, or a terminal's text
            todo.extend(getattr(n, "nodes", ()))
        return found

    # -- tokens: the whitespace before a terminal and the terminal matched by one regex ---------------------
    def _token_of(self, n: Any) -> Any:
        """The terminal (or match rule of terminals) that sequence item `n` matches inline, else None."""
        if self._inline_terminal(n):
            return n
        if n.rule_name.startswith("__asgn") and n.rule_name.split("_")[-1] == "plain":
            value = n.nodes[0]
            if self._inline_assignment(n) is not None:
                return value
            cls = getattr(value, "_tx_class", None)
            if (type(value).__name__ == "OrderedChoice" and cls is not None and cls._tx_type == "match"
                    and self._token_regex(value, capture=True) is not None):
                return value
        return None

    def _token_regex(self, e: Any, capture: bool) -> str | None:
        """The global name of a regex for the whitespace then terminal `e` (or an ordered choice of terminals:
        a regex alternation is ordered too), its text as group 1 where `capture`; None where a pattern cannot
        be embedded. The whitespace is an atomic group, so it is skipped exactly as WS does before a match."""
        pattern: str | None
        if type(e).__name__ == "OrderedChoice":
            parts = [self._token_pattern(n) for n in e.nodes]
            if any(part is None for part in parts) or any(
                    type(n).__name__ not in ("StrMatch", "RegExMatch") or getattr(n, "_tx_class", None) is not None
                    and n._tx_class._tx_type != "match" for n in e.nodes):
                return None
            pattern = "|".join(f"(?:{part})" for part in parts)
        else:
            pattern = self._token_pattern(e)
            if pattern is None:
                return None
        full = f"(?>{self.ws_rx})" + (f"({pattern})" if capture else f"(?:{pattern})")
        re.compile(full, self.ws_flags)
        if full not in self.regexes:
            name = self.fresh("W")
            self.consts[name] = f"_lazy(globals(), {name!r}, {full!r}, {self.ws_flags})"
            self.regexes[full] = name
        return self.regexes[full]

    def _token_pattern(self, e: Any) -> str | None:
        if type(e).__name__ == "StrMatch":
            if e.ignore_case:
                raise Unsupported("case-insensitive string match")
            return re.escape(e.to_match)
        if type(e).__name__ != "RegExMatch" or int(e.regex.flags) != self.ws_flags:
            return None
        if re.search(r"\\[1-9]|\(\?P[=<]|\(\?[a-zA-Z]", e.regex.pattern):
            return None  # back-references, named groups, inline flags: not embedded in another pattern
        return str(e.regex.pattern)

    def _token_match(self, e: Any, fail: str, capture: bool) -> tuple[str, str]:
        """Code that skips the whitespace and matches `e` at p, setting p after it (else runs `fail`), and the
        expression of the matched text."""
        rx = self._token_regex(e, capture)
        if rx is not None:
            return (f"        m = {rx}(t, p)\n        if m is None:\n            {fail}\n        p = m.end()",
                    "m[1]" if capture else "")
        if type(e).__name__ == "StrMatch":
            test = f"        if not t.startswith({e.to_match!r}, p):\n            {fail}\n        p += {len(e.to_match)}"
        else:
            source = f"re.compile({e.regex.pattern!r}, {int(e.regex.flags)}).match"
            if source not in self.regexes:
                self.regexes[source] = self.const("R", source)
            test = f"        m = {self.regexes[source]}(t, p)\n        if m is None:\n            {fail}\n        p = m.end()"
        return f"        p = WS(t, p).end()\n        s = p\n{test}", "t[s:p]"

    def _item(self, n: Any, fail: str, f: str, direct: dict[str, str], first: bool = False) -> tuple[str, str | None]:
        """Code of sequence item `n`; `fail` undoes what the sequence assigned and returns; `f` names the trail,
        `direct` the attributes kept in locals. With `first`, also the expression of the item's first
        position (after the whitespace)."""
        inner = self._optional_assignment(n)
        if inner is not None:
            # `(attr=X)?`: one item that matches or not, nothing to undo; a local gets the default where not
            attr = str(inner._attr_name)
            default = self.defaults.get(attr, "None")
            token = self._token_of(inner)
            if token is not None and self._token_regex(token, capture=True) is not None:
                code, text = self._token_match(token, "pass", capture=True)
                conv = _BASE_CONVERT.get(token.rule_name, "") if type(token).__name__ != "OrderedChoice" else ""
                test = "        if m is None:\n            pass\n        p = m.end()"
                assert code.endswith(test)
                code = code.removesuffix(test) + "        if m is not None:\n            p = m.end()"
                value = f"{conv}({text})"
            else:
                code = (f"        q, v = {self.value(inner.nodes[0])}(t, p)\n"
                        f"        if q >= 0:\n            p = q")
                value = "v"
            code += "\n" + self._store(attr, value, f, direct, indent=12)
            if attr in direct:
                code += f"\n        else:\n            {direct[attr]} = {default}"
            return code, None
        token = self._token_of(n)
        if token is not None:
            target = str(n._attr_name) if n.rule_name.startswith("__asgn") else None
            capture = target is not None or first
            code, text = self._token_match(token, fail, capture)
            start = ("m.start(1)" if text == "m[1]" else "s") if first else None
            if target is None:
                return code, start
            conv = _BASE_CONVERT.get(token.rule_name, "") if type(token).__name__ != "OrderedChoice" else ""
            return code + "\n" + self._store(target, f"{conv}({text})", f, direct), start
        op = n.rule_name.split("_")[-1] if n.rule_name.startswith("__asgn") else None
        if op == "plain":
            v = self.value(n.nodes[0])
            return (f"        q, v = {v}(t, p)\n        if q < 0:\n            {fail}\n        p = q\n"
                    + self._store(str(n._attr_name), "v", f, direct)), "v._tx_position" if first else None
        if op == "optional":
            inner = self.match(n.nodes[0])
            return (f"        q = {inner}(t, p, [])\n        if q >= 0:\n            p = q\n"
                    + self._store(str(n._attr_name), "True", f, direct, indent=12)
                    + ("" if n._attr_name not in direct else f"\n        else:\n            {direct[n._attr_name]} = False")
                    ), None
        if op in ("zeroormore", "oneormore") and not getattr(n, "eolterm", False):
            attr = str(n._attr_name)
            v = self.value(n.nodes[0])
            lines = [f"        {direct[attr]} = []" if attr in direct else "", "        got = 0", "        while True:"]
            if n.sep is not None:
                lines.append("            if got:")
                sep_token = n.sep if self._inline_terminal(n.sep) else None
                if sep_token is not None and self._token_regex(sep_token, capture=False) is not None:
                    lines.append(f"                m = {self._token_regex(sep_token, capture=False)}(t, p)\n"
                                 f"                if m is None:\n                    break\n                s = m.end()")
                else:
                    lines.append(f"                s = {self.match(n.sep)}(t, p, [])\n                if s < 0:\n"
                                 f"                    break")
                lines.append("            else:\n                s = p")
            else:
                lines.append("            s = p")
            lines.append(f"            q, v = {v}(t, s)\n            if q < 0:\n                break")
            if attr in direct:
                lines.append(f"            {direct[attr]}.append(v)")
            else:
                lines.append(f"            {f}.append(({attr!r}, v))")
            lines.append("            got += 1\n            p = q")
            if op == "oneormore":
                lines.append(f"        if not got:\n            {fail}")
            return "\n".join(line for line in lines if line), None
        if self._inline_loop(n):
            # `(... )*` of tokens and assignments: a loop here instead of two functions; an iteration that fails
            # gives back what it matched and assigned, one that matches nothing ends the loop (as m-functions do)
            items = n.nodes[0].nodes
            undo = "p = p1\n            del f[mark:]\n            break" if f != "NOF" else "p = p1\n            break"
            code = "\n".join(self._item(item, undo, f, direct)[0] for item in items)
            lines = ["        while True:", "            p1 = p"]
            if f != "NOF":
                lines.append(f"            mark = len({f})")
            lines.append("\n".join("    " + line if line else line for line in code.split("\n")))
            lines.append("            if p == p1:\n                break")
            return "\n".join(lines), None
        return f"        p = {self.match(n)}(t, p, {f})\n        if p < 0:\n            {fail}", None

    def _inline_loop(self, n: Any) -> bool:
        """Whether `n` is an unassigned `( ... )*` of a sequence of tokens and `attr=X` (generated as a loop)."""
        if type(n).__name__ != "ZeroOrMore" or n.rule_name.startswith("__asgn") or n.sep is not None:
            return False
        if getattr(n, "eolterm", False) or type(n.nodes[0]).__name__ != "Sequence":
            return False
        items = n.nodes[0].nodes
        return not n.nodes[0].rule_name.startswith("__asgn") and all(
            self._token_of(i) is not None or self._object_assignment(i) for i in items)

    @staticmethod
    def _store(attr: str, value: str, f: str, direct: dict[str, str], indent: int = 8) -> str:
        pad = " " * indent
        if attr in direct:
            return f"{pad}{direct[attr]} = {value}"
        return f"{pad}{f}.append(({attr!r}, {value}))"

    # A sequence's terminals, and assignments of a terminal's text, are matched inline rather than by a call
    # each (the same code as their own functions): about half the calls of a parse were those.
    def _sequence(self, name: str, nodes: list[Any]) -> list[str]:
        body = [f"def {name}(t, p, f):", "        mark = len(f)"]
        for i, n in enumerate(nodes):
            fail = "return -1" if i == 0 else "del f[mark:]\n            return -1"
            body.append(self._item(n, fail, "f", {})[0])
        body.append("        return p\n")
        return body

    @staticmethod
    def _inline_terminal(n: Any) -> bool:
        return (type(n).__name__ in ("StrMatch", "RegExMatch") and not n.rule_name.startswith("__asgn")
                and not (getattr(n, "_tx_class", None) is not None and n.root))

    def _inline_assignment(self, n: Any) -> str | None:
        """The attribute of `attr=TERMINAL` (value: the matched text, converted as textX does), else None."""
        if not n.rule_name.startswith("__asgn") or n.rule_name.split("_")[-1] != "plain":
            return None
        value = n.nodes[0]
        cls = getattr(value, "_tx_class", None)
        if type(value).__name__ not in ("StrMatch", "RegExMatch") or (cls is not None and cls._tx_type != "match"):
            return None
        if value.rule_name in _BASE_PYTHON_DEFAULT and value.rule_name not in ("ID", *_BASE_CONVERT):
            raise Unsupported(f"base type {value.rule_name}")  # BOOL, FLOAT: textX converts them
        return str(n._attr_name)

    def _assignment(self, e: Any) -> str:
        name = self.fresh("a")
        self.names[self.key(e)] = name
        attr = e._attr_name
        op = e.rule_name.split("_")[-1]
        if op == "plain":
            v = self.value(e.nodes[0])
            self.emit(f"def {name}(t, p, f):\n        q, v = {v}(t, p)\n        if q < 0:\n            return -1\n"
                      f"        f.append(({attr!r}, v))\n        return q\n")
        elif op == "optional":
            inner = self.match(e.nodes[0])
            self.emit(f"def {name}(t, p, f):\n        q = {inner}(t, p, [])\n        if q < 0:\n            return p\n"
                      f"        f.append(({attr!r}, True))\n        return q\n")
        elif op in ("zeroormore", "oneormore"):
            if getattr(e, "eolterm", False):
                raise Unsupported("eolterm")
            v = self.value(e.nodes[0])
            sep = self.match(e.sep) if e.sep is not None else None
            least = "        if not got:\n            return -1\n" if op == "oneormore" else ""
            sep_code = (f"            if got:\n                s = {sep}(t, p, [])\n                if s < 0:\n"
                        f"                    break\n            else:\n                s = p\n"
                        if sep else "            s = p\n")
            self.emit(
                f"def {name}(t, p, f):\n        got = 0\n        while True:\n{sep_code}"
                f"            q, v = {v}(t, s)\n            if q < 0:\n                break\n"
                f"            f.append(({attr!r}, v))\n            got += 1\n            p = q\n"
                f"{least}        return p\n"
            )
        else:
            raise Unsupported(f"assignment {op}")
        return name


def _lazy(namespace: dict[str, Any], name: str, pattern: str, flags: int) -> Callable[[str, int], Any]:
    """A token regex of the generated module, compiled at its first use: the module has some 170, each with
    the whitespace pattern in front (60 ms to compile them all at import), and a model uses few of them. The
    first call puts the compiled `match` in the module's global `name`, where the generated code finds it
    from then on."""

    def first(t: str, p: int) -> Any:
        match = re.compile(pattern, flags).match
        namespace[name] = match
        return match(t, p)

    first.pattern = pattern  # type: ignore[attr-defined]  # (what tests compare it by)
    first.flags = flags  # type: ignore[attr-defined]
    return first


class _Node:
    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {getattr(self, '_tx_position', '?')}>"


def _node_class(name: str, slots: tuple[str, ...]) -> type:
    """The class of a rule's objects: textX's class name (the builder dispatches on it), only its attributes."""
    return type(name, (_Node,), {"__slots__": slots})


GENERATED_HEADER = '''"""The parser of grammar/sops.tx, generated by `python -m safetyops_dsl.parse.fast_parser --write` from
textX's parsing expressions (parse/fast_parser.py): do not edit, generate it again after a grammar change.

parse(text) returns the File object shaped as textX's, or None where the text does not parse. The loader uses
it while GRAMMAR_SHA256 is the digest of the packaged grammar (textx_parser.fast_parser); otherwise it
generates the parser in-process. tests/unit/test_fast_parser.py fails when this file differs from what the
generator makes of the current grammar.
"""
# ruff: noqa
# mypy: ignore-errors
'''


def grammar_digest(grammar: str) -> str:
    return hashlib.sha256(grammar.encode("utf-8")).hexdigest()


def generate_source(mm: Any, grammar: str) -> str:
    """The Python module of the parser for textX metamodel `mm` of `grammar` (its text, for the digest).
    Raises Unsupported. The same text is exec'd by compile_parser and shipped as generated_parser.py."""
    parser = mm._parser_blueprint
    if not parser.skipws or parser.ignore_case or getattr(parser, "reduce_tree", False):
        raise Unsupported("parser options")
    if getattr(mm, "use_regexp_group", False) or not getattr(mm, "auto_init_attributes", True):
        raise Unsupported("metamodel options")
    if set(mm._obj_processors) - set(_BASE_CONVERT) - {"ID", "BOOL", "FLOAT", "STRICTFLOAT", "NUMBER", "BASETYPE"}:
        raise Unsupported("object processors")
    model = parser.parser_model
    if type(model).__name__ != "Sequence" or len(model.nodes) != 2 or type(model.nodes[1]).__name__ != "EndOfFile":
        raise Unsupported("root rule")
    ws_chars = "".join(re.escape(c) for c in parser.ws)
    comment = parser.comments_model
    if comment is not None and type(comment).__name__ != "RegExMatch":
        raise Unsupported("comment rule")
    # whitespace, then comments each followed by whitespace, as Match.parse and _parse_comments do
    ws_rx = f"[{ws_chars}]*" + (f"(?:(?:{comment.regex.pattern})[{ws_chars}]*)*" if comment is not None else "")
    ws_flags = int(comment.regex.flags) if comment is not None else 0
    gen = _Gen(mm, ws_rx, ws_flags)
    root = gen.value(model.nodes[0])
    eof = gen.match(model.nodes[1])
    consts = "".join(f"{name} = {value}\n" for name, value in gen.consts.items())
    return (
        f"{GENERATED_HEADER}\nimport re\n\nfrom safetyops_dsl.parse.fast_parser import _lazy, _node_class, _unquote\n\n"
        f"GRAMMAR_SHA256 = {grammar_digest(grammar)!r}\n\n"
        f"WS = re.compile({ws_rx!r}, {ws_flags}).match\nNOF = []  # the trail of a rule whose assignments are all held in locals: never written\n{consts}\n\n"
        + "\n".join([*gen.lines, *gen.tables])
        + f"\n\ndef parse(t):\n    q, obj = {root}(t, 0)\n    if q < 0 or {eof}(t, q, None) < 0:\n"
        f"        return None\n    return obj\n"
    )


def compile_parser(mm: Any, grammar: str = "") -> Callable[[str], Any]:
    """Generate the parser for textX metamodel `mm` and load it in this process. Returns parse(text) -> File
    object, or None where the text does not parse (the caller then asks textX, for the diagnostic). Raises
    Unsupported."""
    source = generate_source(mm, grammar)
    namespace: dict[str, Any] = {"__name__": "safetyops_dsl.parse.generated_in_process"}
    exec(compile(source, "<sops fast parser>", "exec"), namespace)  # noqa: S102 - generated above from the grammar
    parse: Callable[[str], Any] = namespace["parse"]
    parse.source = source  # type: ignore[attr-defined]
    return parse


MODULE = Path(__file__).with_name("generated_parser.py")


def main(argv: list[str] | None = None) -> int:
    """`python -m safetyops_dsl.parse.fast_parser --write`: generate generated_parser.py from the packaged
    grammar (`--check`: exit 1 if the file differs from what the generator makes now)."""
    import argparse

    from safetyops_dsl.parse import textx_parser

    ap = argparse.ArgumentParser(prog="python -m safetyops_dsl.parse.fast_parser")
    ap.add_argument("--write", action="store_true", help=f"write {MODULE.name}")
    ap.add_argument("--check", action="store_true", help=f"exit 1 if {MODULE.name} is not up to date")
    args = ap.parse_args(argv)
    source = generate_source(textx_parser.metamodel(), textx_parser.grammar_text())
    current = MODULE.read_text(encoding="utf-8") if MODULE.exists() else ""
    if args.check:
        print(f"{MODULE.name} is up to date" if current == source else f"{MODULE.name} is out of date")
        return 0 if current == source else 1
    if args.write:
        if current != source:
            MODULE.write_text(source, encoding="utf-8")
        print(f"wrote {MODULE}" if current != source else f"{MODULE.name} is up to date")
        return 0
    sys.stdout.write(source)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
