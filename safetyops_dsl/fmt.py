"""`sops fmt`: the canonical layout of `.sops` files, comments kept.

textX drops comments, so the formatter works on tokens, not on the parse tree. Four steps:

1. `tokenize`: the language's lexical classes (comments, strings, numbers, names and dotted paths, ASIL
   decompositions such as `B(D)`, operators and punctuation), each with the number of line breaks before it.
2. `_Shape`: a small recogniser that walks the significant tokens along `grammar/sops.tx` (same ordered
   choices and greedy repetitions as the PEG parser) and marks where each header line, element and block
   member starts (except the hazard classification members that stay on one line), which `{ }` open and
   close member blocks, the kind of each member and element, which top-level units have no member block,
   and where the attributes of a requirement without a block start.
3. `_layout`: prints the tokens again with the canonical rules (see `format_text`), one space between tokens,
   and notes for each line whether it starts a unit, continues one or is something else, and, on a unit's
   *row* (its first line, or the second line of a requirement without a block), where its aligned columns
   (`_COLUMNS`, or the requirement's attributes) and its end-of-line comment start.
4. `_align`: pads the rows of runs of consecutive like units so that those columns line up (gofmt style).
   Every decision (which members share a line, which line is a row, where columns are) depends only on the
   tokens and on where the author broke lines inside units, which formatting keeps, so formatting is
   idempotent and does not depend on the author's spacing.

Safety nets: a file is formatted only when it parses (`check_syntax`, through `safetyops_dsl.api.check`), and
the formatted text must have exactly the input's token sequence (whitespace aside) or `FormatError` is
raised and nothing is written. The tests also parse every formatted example and compare the semantic models.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.parse import grammar_info

INDENT = 4  # per block level
CONTINUATION = 8  # extra indentation of a unit's continuation lines (members, and elements with a block)
FLAT_CONTINUATION = 4  # extra indentation of the continuation lines of a top-level unit without a block


class FormatError(Exception):
    """The formatter cannot vouch for its output (it never writes in that case)."""


# -- tokens ----------------------------------------------------------------------------------------------------

# The alternatives mirror the grammar's regular expressions; order matters (comments and strings first, as
# textX tries comments before every token and a string swallows what looks like a comment inside it).
_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<comment>//[^\n]*|/\*[\s\S]*?\*/)"
    r"|(?P<string>\"(?:\\\"|[^\"])*\"|'(?:\\'|[^'])*')"
    r"|(?P<asil>(?:QM|[A-D])\((?:QM|[A-D])\)(?![A-Za-z0-9_]))"
    r"|(?P<number>[-+]?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    # `<-1` after a comparison is `<` then `-1` (a rule's expression never starts with a number)
    r"|(?P<punct><-(?![0-9])|->|>=|<=|==|\.\.|[{}(),:%<>/=*+-])"
    r"|(?P<error>.)",
    re.S,
)

COMMENT, STRING, ASIL, NUMBER, NAME, PUNCT, ERROR = (
    "comment",
    "string",
    "asil",
    "number",
    "name",
    "punct",
    "error",
)


class Token(NamedTuple):
    kind: str  # one of COMMENT, STRING, ASIL, NUMBER, NAME, PUNCT, ERROR
    text: str
    line: int  # 1-based
    col: int  # 1-based
    newlines_before: int  # line breaks in the whitespace just before the token (file start counts as one)


def tokenize(text: str) -> list[Token]:
    """All tokens except whitespace, in order. Never raises: unknown characters become ERROR tokens."""
    text = text.removeprefix("\ufeff")
    out: list[Token] = []
    append = out.append
    line, line_start, newlines = 1, 0, 1
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup or ERROR
        value = m.group()
        if kind == "ws":
            breaks = value.count("\n")
            if breaks:
                newlines += breaks
                line += breaks
                line_start = m.start() + value.rfind("\n") + 1
            continue
        append(Token(kind, value, line, m.start() - line_start + 1, newlines))
        newlines = 0
        if kind in (COMMENT, STRING) and "\n" in value:
            line += value.count("\n")
            line_start = m.start() + value.rfind("\n") + 1
    return out


def _normal_comment(text: str) -> str:
    return "\n".join(part.rstrip() for part in text.replace("\r\n", "\n").split("\n"))


def signature(text: str) -> list[tuple[str, str]]:
    """The token sequence that formatting must preserve: everything but whitespace (and trailing blanks
    inside block comments, which the formatter removes like any trailing whitespace)."""
    return _signature(tokenize(text))


def _signature(tokens: Iterable[Token]) -> list[tuple[str, str]]:
    return [(t.kind, _normal_comment(t.text) if t.kind == COMMENT else t.text) for t in tokens]


def comments(text: str) -> list[str]:
    return [_normal_comment(t.text) for t in tokenize(text) if t.kind == COMMENT]


# -- structure: where units start, which braces open member blocks -------------------------------------------

_TIME_UNITS = frozenset({"ms", "min", "s", "h", "d", "y"})
_CLASS_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_INT = re.compile(r"[-+]?[0-9]+")
_SIMPLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASIL_LEVELS = frozenset({"QM", "A", "B", "C", "D"})
_COMPARISONS = frozenset({">=", "<=", ">", "<", "=="})
# The grammar's enumerations, read from grammar/sops.tx (parse/grammar_info.py), not restated here.
_DATASET_ROLES = frozenset(grammar_info.first_keywords("DatasetRole"))
_EVIDENCE_KINDS = frozenset(grammar_info.first_keywords("EvidenceKind"))
_GSN_KINDS = frozenset(grammar_info.first_keywords("GsnKind"))
_CCF_MODELS = frozenset(grammar_info.first_keywords("CcfModelKind"))
_GRAPH_PARAMETERS = frozenset(grammar_info.first_keywords("RiskGraphKind"))
_GSN_LIST_ATTRS = frozenset(k for k in grammar_info.first_keywords("GsnAttr") if k not in ("undeveloped", "module"))
# a hazard's classification: the three stay on one line where the author wrote them so
_CLASSIFICATION = frozenset(grammar_info.first_keywords("Severity") + grammar_info.first_keywords("ExposureClass")
                            + grammar_info.first_keywords("Controllability"))

Match = Callable[[int], "int | None"]

# Aligned columns, by unit kind: the offsets (in significant tokens, from the unit's first token) of the
# tokens that line up across a run of such units. The first column is the token after the unit's head: the
# path of a rule, the keyword of a port declaration, the keyword and name (or role) of the others.
_COLUMNS: dict[str, tuple[int, ...]] = {
    "rule": (1,),  # PORT.DEV | <- expr
    "port": (1,),  # in | a, b
    "failure": (2,),  # failure NAME | rate ...   (and trigger NAME | probability ...)
    "mechanism": (2,),  # mechanism NAME | covers ...   (and monitor)
    "ccf": (2,),  # ccf NAME | covers ...
    "propagate": (2,),  # propagate a | -> b
    "part": (2, 4),  # part NAME | : TYPE | "description"
    "connect": (2,),  # connect a | -> b
    "dataset": (2, 3),  # dataset ROLE | "identity" | sha256 "..." (or dvc "..." out "...")
    "metric": (2,),  # metric NAME | >= x
    "odd_attribute": (1,),  # NAME | values of domain
    "deviation": (2, 4),  # deviation PATH | refines BASE | "description"
    "evidence": (2, 3, 4),  # evidence NAME | KIND | "source" | verifies ...
    "matrix_scale": (1,),  # severity | A, B, C
    "matrix_row": (2,),  # Level: | A R U
    "graph_levels": (1,),  # consequence | C1 "meaning", ...
    "graph_row": (1,),  # row | X2: C2 F1 P1 -> - a 1
    "dal_option": (1,),  # Catastrophic | option1: A x 1, others C
}


@dataclass
class _Shape:
    """A recogniser over the significant tokens that follows grammar/sops.tx. Each `_x(i)` returns the index
    after rule x matched at token i, or None, and moves nothing: ordered choice and backtracking come free."""

    toks: list[Token]
    # for each token, whether a line break (in whitespace or inside a comment) separates it from the token
    # before it; a token without an entry counts as separated
    apart: list[bool] = field(default_factory=list)
    starts: dict[int, int] = field(default_factory=dict)  # token index -> block depth of the unit it starts
    opens: set[int] = field(default_factory=set)  # `{` of member blocks
    closes: set[int] = field(default_factory=set)  # their `}`
    # token index -> (kind, end index) of the component member or top-level element that starts there; the
    # kind names the grammar rule (`rule`, `port`, `failure` for failure and trigger, ..., or the element's
    # keyword). Recorded whenever a member matches: a match depends only on the tokens from its start, so an
    # entry made while backtracking is still true; only the entries of `starts` are read.
    units: dict[int, tuple[str, int]] = field(default_factory=dict)
    flat: set[int] = field(default_factory=set)  # top-level units without a member block
    # a top-level `requirement` without a block -> the token indices where its attributes start
    attrs: dict[int, list[int]] = field(default_factory=dict)

    # -- terminals ---------------------------------------------------------------------------------------
    def _text(self, i: int) -> str:
        return self.toks[i].text if i < len(self.toks) else ""

    def _kind(self, i: int) -> str:
        return self.toks[i].kind if i < len(self.toks) else ""

    def _kw(self, i: int, *words: str) -> int | None:
        return i + 1 if self._kind(i) == NAME and self._text(i) in words else None

    def _punct(self, i: int, *marks: str) -> int | None:
        return i + 1 if self._kind(i) == PUNCT and self._text(i) in marks else None

    def _name(self, i: int) -> int | None:
        return i + 1 if self._kind(i) == NAME and _SIMPLE_NAME.fullmatch(self._text(i)) else None

    def _path(self, i: int) -> int | None:
        return i + 1 if self._kind(i) == NAME else None

    def _string(self, i: int) -> int | None:
        return i + 1 if self._kind(i) == STRING else None

    def _number(self, i: int) -> int | None:
        return i + 1 if self._kind(i) == NUMBER else None

    def _int(self, i: int) -> int | None:
        return i + 1 if self._kind(i) == NUMBER and _INT.fullmatch(self._text(i)) else None

    def _class(self, i: int) -> int | None:
        return i + 1 if self._kind(i) == NAME and _CLASS_TOKEN.fullmatch(self._text(i)) else None

    def _asil(self, i: int) -> int | None:
        if self._kind(i) == ASIL or (self._kind(i) == NAME and self._text(i) in _ASIL_LEVELS):
            return i + 1
        return None

    def _duration(self, i: int) -> int | None:
        j = self._number(i)
        return j + 1 if j is not None and self._kind(j) == NAME and self._text(j) in _TIME_UNITS else None

    def _seq(self, i: int, *parts: Match) -> int | None:
        j: int | None = i
        for part in parts:
            if j is None:
                return None
            j = part(j)
        return j

    def _opt(self, i: int, *parts: Match) -> int:
        j = self._seq(i, *parts)
        return i if j is None else j

    def _many(self, i: int, item: Match) -> int:
        while (j := item(i)) is not None:
            i = j
        return i

    def _list(self, i: int, item: Match) -> int | None:
        """item (',' item)*"""
        j = item(i)
        if j is None:
            return None
        while self._text(j) == "," and (k := item(j + 1)) is not None:
            j = k
        return j

    def _w(self, *words: str) -> Match:
        return lambda i: self._kw(i, *words)

    def _p(self, *marks: str) -> Match:
        return lambda i: self._punct(i, *marks)

    def _refs(self, i: int) -> int | None:
        return self._list(i, self._path)

    # -- expressions ----------------------------------------------------------------------------------------
    def _or(self, i: int) -> int | None:
        j = self._and(i)
        while j is not None and (k := self._seq(j, self._w("or"), self._and)) is not None:
            j = k
        return j

    def _and(self, i: int) -> int | None:
        j = self._atom(i)
        while j is not None and (k := self._seq(j, self._w("and"), self._atom)) is not None:
            j = k
        return j

    def _atom(self, i: int) -> int | None:
        for alt in (self._k_of_n, self._group, self._path):
            j = alt(i)
            if j is not None:
                return j
        return None

    def _group(self, i: int) -> int | None:
        return self._seq(i, self._p("("), self._or, self._p(")"))

    def _k_of_n(self, i: int) -> int | None:
        j = self._seq(i, self._int, self._w("of"), self._p("("))
        if j is None:
            return None
        j = self._list(j, self._or)
        return None if j is None else self._punct(j, ")")

    # -- quantity expressions (parameters, rates, probabilities) ------------------------------------------------
    def _sum(self, i: int) -> int | None:
        j = self._product(i)
        while j is not None:
            # `a -1` is `a - 1`: the sign of a number token is the operator
            k: int | None
            if self._kind(j) == NUMBER and self._text(j)[:1] in "+-":
                k = self._many(self._opt(j + 1, self._quantity_unit),
                               lambda x: self._seq(x, self._p("*", "/"), self._factor))
            else:
                k = self._seq(j, self._p("+", "-"), self._product)
            if k is None:
                break
            j = k
        return j

    def _product(self, i: int) -> int | None:
        j = self._factor(i)
        while j is not None and (k := self._seq(j, self._p("*", "/"), self._factor)) is not None:
            j = k
        return j

    def _factor(self, i: int) -> int | None:
        j = self._number(i)
        if j is not None:
            return self._opt(j, self._quantity_unit)
        return self._first(i, (lambda k: self._seq(k, self._p("("), self._sum, self._p(")")), self._path))

    def _quantity_unit(self, i: int) -> int | None:
        j = self._rate_unit(i)
        if j is not None:
            return j
        return i + 1 if self._kind(i) == NAME and self._text(i) in _TIME_UNITS else None

    # -- blocks ------------------------------------------------------------------------------------------------
    def _block(
        self, i: int, depth: int, member: Match, joined: Callable[[list[int]], set[int]] | None = None
    ) -> int | None:
        """'{' member* '}' with each member a unit one level deeper, except the members that `joined` (given
        the members' starts and the `}`) keeps on the line of the member before. Marks only when the whole
        block matched."""
        if self._punct(i, "{") is None:
            return None
        members: list[int] = []
        j = i + 1
        while (k := member(j)) is not None:
            members.append(j)
            j = k
        if self._punct(j, "}") is None:
            return None
        self.opens.add(i)
        self.closes.add(j)
        kept = joined([*members, j]) if joined is not None else set()
        for m in members:
            if m not in kept:
                self.starts[m] = depth + 1
        return j + 1

    def _on_one_line(self, start: int, end: int) -> bool:
        """No line break anywhere between token start and token end - 1."""
        return all(k < len(self.apart) and not self.apart[k] for k in range(start + 1, end))

    def _classification_lines(self, bounds: list[int]) -> set[int]:
        """The hazard attributes that stay on the line of the attribute before them: the second and third of
        `severity`, `exposure` and `controllability` (consecutive, in any order) written on one line, and the
        `probability` after a `severity` on its line (ISO 14971). bounds:
        the attributes' starts, then the `}`. Trios are taken left to right."""
        kept: set[int] = set()
        k = 0
        while k + 3 < len(bounds):
            trio = bounds[k : k + 3]
            if {self._text(m) for m in trio} == _CLASSIFICATION and self._on_one_line(trio[0], bounds[k + 3]):
                kept.update(trio[1:])
                k += 3
            else:
                k += 1
        # ISO 14971: `severity X probability Y`, the two coordinates of a risk, kept on one line the same way
        for a, b, end in zip(bounds, bounds[1:], bounds[2:], strict=False):
            if (self._text(a), self._text(b)) == ("severity", "probability") and self._on_one_line(a, end):
                kept.add(b)
        return kept

    # -- component members ---------------------------------------------------------------------------------
    def _member(self, i: int) -> int | None:
        alternatives: tuple[tuple[str, Match], ...] = (
            ("rule", lambda k: self._seq(k, self._path, self._p("<-"), self._or)),
            ("port", lambda k: self._seq(k, self._w("in", "out"), lambda x: self._list(x, self._name))),
            ("failure", self._failure_mode),
            ("mechanism", self._mechanism),
            ("propagate", self._propagate),
            (
                "part",
                lambda k: self._seq(
                    k,
                    self._w("part"),
                    self._name,
                    self._p(":"),
                    self._path,
                    lambda x: self._opt(x, self._string),
                ),
            ),
            ("parts", lambda k: self._seq(k, self._w("parts"), self._refs)),
            ("connect", lambda k: self._seq(k, self._w("connect"), self._path, self._p("->"), self._path)),
            (
                "model",
                lambda k: self._seq(
                    k,
                    self._w("model"),
                    self._string,
                    lambda x: self._opt(x, self._w("version"), self._string),
                ),
            ),
            (
                "dataset",
                lambda k: self._seq(
                    k,
                    self._w("dataset"),
                    self._w(*_DATASET_ROLES),
                    self._string,
                    lambda x: self._opt(
                        x,
                        lambda y: self._first(
                            y,
                            (
                                lambda z: self._seq(z, self._w("sha256"), self._string),
                                lambda z: self._seq(
                                    z, self._w("dvc"), self._string,
                                    lambda w: self._opt(w, self._w("out"), self._string),
                                ),
                            ),
                        ),
                    ),
                    lambda x: self._opt(x, self._w("coverage"), self._string),
                    lambda x: self._opt(x, self._w("min"), self._int),
                ),
            ),
            (
                "metric",
                lambda k: self._seq(k, self._w("metric"), self._path, self._p(*_COMPARISONS), self._number,
                                    lambda x: self._opt(x, self._where)),
            ),
            ("odd", self._odd),
            ("mission_time", lambda k: self._seq(k, self._w("mission_time"), self._duration)),
            ("ccf", self._ccf),
            ("element_type", lambda k: self._seq(k, self._w("element_type"), self._name)),
            ("systematic_capability", lambda k: self._seq(k, self._w("systematic_capability"), self._int)),
            ("assume", self._assume),
        )
        for kind, alt in alternatives:
            j = alt(i)
            if j is not None:
                self.units[i] = (kind, j)
                return j
        return None

    def _rate_unit(self, i: int) -> int | None:
        if self._kw(i, "FIT") is not None:
            return i + 1
        if self._kw(i, "per") is not None and self._kw(i + 1, "hour", "h") is not None:
            return i + 2
        if self._punct(i, "/") is not None and self._kw(i + 1, "h") is not None:
            return i + 2
        return None

    def _failure_mode(self, i: int) -> int | None:
        j = self._seq(i, self._w("failure", "trigger"), self._name)
        if j is None:
            return None
        rate = self._seq(j, self._w("rate"), self._sum)
        j = rate if rate is not None else self._seq(j, self._w("probability"), self._sum)
        if j is None:
            return None
        attrs: tuple[Match, ...] = (
            self._string,
            lambda k: self._seq(k, self._w("exposure"), self._duration),
            lambda k: self._seq(k, self._w("exposure"), self._number, self._w("x"), self._w("mission")),
            self._proof_test,
            lambda k: self._seq(k, self._w("mttr"), self._duration),
            self._uncertainty,
            lambda k: self._seq(k, self._w("distribution"), self._name),
            lambda k: self._seq(k, self._w("safe"), self._number, self._p("%")),
            lambda k: self._seq(
                k,
                self._w("aiag"),
                self._w("severity"),
                self._int,
                self._w("occurrence"),
                self._int,
                self._w("detection"),
                self._int,
            ),
            self._w("systematic"),
            self._where,
            lambda k: self._seq(k, self._w("reveals"), lambda x: self._list(x, self._name)),
        )
        return self._many(j, lambda k: self._first(k, attrs))

    def _literal(self, i: int) -> int | None:
        j = self._number(i)
        return None if j is None else self._opt(j, self._quantity_unit)

    def _uncertainty(self, i: int) -> int | None:
        j = self._kw(i, "uncertainty")
        if j is None:
            return None
        return self._first(j, (
            lambda k: self._seq(k, self._w("lognormal"), self._w("ef"), self._number),
            lambda k: self._seq(k, self._w("gamma"), self._w("shape"), self._number),
            lambda k: self._seq(k, self._w("beta"), self._w("alpha"), self._number),
            lambda k: self._seq(k, self._w("uniform"), self._literal, self._w("to"), self._literal),
            lambda k: self._seq(k, self._w("normal"), self._w("sd"), self._literal),
            lambda k: self._seq(k, self._w("histogram"), self._w("from"), self._literal, lambda x: self._list(
                x, lambda b: self._seq(b, self._w("to"), self._literal, self._w("weight"), self._number))),
        ))

    def _assume(self, i: int) -> int | None:
        j = self._seq(i, self._w("assume"), self._path)
        if j is None:
            return None
        k = self._seq(j, self._w("probability"), self._sum)
        j = k if k is not None else self._kw(j, "outside")
        return None if j is None else self._opt(j, self._string)

    def _proof_test(self, i: int) -> int | None:
        j = self._seq(i, self._w("proof_test"), self._w("every"), self._duration)
        if j is None:
            return None
        j = self._opt(j, self._w("first"), self._duration)
        j = self._opt(j, self._w("lasting"), self._duration)
        return self._opt(j, self._w("coverage"), self._number, self._p("%"))

    def _where(self, i: int) -> int | None:
        """`where a = v and b = w` (a metric slice, a trigger's ODD cell)."""
        def condition(k: int) -> int | None:
            return self._seq(k, self._name, self._p("="), self._name)

        j = self._seq(i, self._w("where"), condition)
        while j is not None and (k := self._seq(j, self._w("and"), condition)) is not None:
            j = k
        return j

    def _odd(self, i: int) -> int | None:
        """`odd "text"? { attribute values of domain ... }`: the block's attributes are units one level down."""
        j = self._w("odd")(i)
        if j is None:
            return None
        j = self._opt(j, self._string)
        block = self._block(j, 1, self._odd_attribute)
        return block if block is not None else j

    def _odd_attribute(self, i: int) -> int | None:
        def bound(k: int) -> int | None:
            return self._seq(k, self._number, self._p(".."), self._number)

        j = self._name(i)
        if j is None:
            return None
        spec = self._seq(j, bound, self._odd_unit, self._w("of"), bound)
        if spec is None:
            spec = self._seq(j, lambda x: self._list(x, self._name), self._w("of"),
                             lambda x: self._list(x, self._name))
        if spec is not None:
            self.units[i] = ("odd_attribute", spec)
        return spec

    def _odd_unit(self, i: int) -> int | None:
        if self._kind(i) == PUNCT and self._text(i) == "%":
            return i + 1
        if self._name(i) is None:
            return None
        if self._punct(i + 1, "/") is not None and self._name(i + 2) is not None:  # km/h, m/s
            return i + 3
        return i + 1

    def _first(self, i: int, alternatives: Sequence[Match]) -> int | None:
        for alt in alternatives:
            j = alt(i)
            if j is not None:
                return j
        return None

    def _mechanism(self, i: int) -> int | None:
        j = self._seq(
            i,
            self._w("mechanism", "monitor"),
            self._name,
            self._w("covers"),
            self._refs,
            self._w("coverage"),
            self._number,
            self._p("%"),
        )
        if j is None:
            return None
        j = self._opt(j, self._w("latent"), self._w("coverage"), self._number, self._p("%"))
        return self._opt(j, self._string)

    def _ccf(self, i: int) -> int | None:
        j = self._seq(
            i,
            self._w("ccf"),
            self._name,
            self._w("covers"),
            self._refs,
            self._w(*_CCF_MODELS),
            lambda x: self._list(x, self._ccf_factor),
        )
        return None if j is None else self._opt(j, self._string)

    def _ccf_factor(self, i: int) -> int | None:
        j = self._number(i)
        return None if j is None else self._opt(j, self._p("%"))

    def _propagate(self, i: int) -> int | None:
        j = self._seq(i, self._w("propagate"), self._name, self._p("->"), self._name)
        if j is None:
            return None
        return self._opt(j, self._p("{"), self._refs, self._p("}"))  # inline braces, not a member block

    # -- top-level elements -----------------------------------------------------------------------------------
    def _element(self, i: int) -> int | None:
        word = self._text(i) if self._kind(i) == NAME else ""
        if word == "mission_time":
            return self._duration(i + 1)
        if word == "standard":
            return self._name(i + 1)
        if word == "flight_phase":
            j = self._seq(i + 1, self._name, self._duration)
            return None if j is None else self._opt(j, self._string)
        if word == "risk_matrix":
            return self._block(i + 1, 0, self._matrix_line)
        if word == "risk_graph":
            return self._block(self._opt(i + 1, self._string), 0, self._graph_line)
        if word == "dal_reduction":
            return self._block(self._opt(i + 1, self._string), 0, self._dal_line)
        if word == "ffs":
            j = self._seq(i + 1, self._name)
            j = None if j is None else self._seq(self._opt(j, self._string), self._w("for"), self._refs)
            return None if j is None else self._block(j, 0, self._ffs_line)
        if word == "parameter":
            j = self._seq(i + 1, self._name, self._p("="), self._sum)
            return None if j is None else self._opt(self._opt(j, self._uncertainty), self._string)
        if word == "deviation":
            j = self._seq(i + 1, self._path)
            if j is None:
                return None
            j = self._opt(j, self._w("refines"), self._path)
            return self._opt(j, self._string)
        if word in ("component", "ml_component", "system"):
            j = self._seq(i + 1, self._name)
            return None if j is None else self._block(self._opt(j, self._string), 0, self._member)
        if word == "hazard":
            j = self._seq(i + 1, self._name)
            j = None if j is None else self._opt(j, self._string)
            return None if j is None else self._block(j, 0, self._hazard_attr, self._classification_lines)
        if word in ("safety_goal", "safety_function"):
            return self._safety_goal(i + 1)
        if word == "requirement":
            return self._requirement(i + 1)
        if word == "evidence":
            return self._evidence(i + 1)
        if word == "argument":
            j = self._seq(i + 1, self._name)
            return None if j is None else self._block(self._opt(j, self._string), 0, self._gsn_node)
        if word == "policy":

            def rule(k: int) -> int | None:
                return self._seq(
                    k, self._w("require", "waive"), self._name, lambda x: self._opt(x, self._string)
                )

            return self._block(i + 1, 0, rule)
        return None

    def _matrix_line(self, i: int) -> int | None:
        """A line of a risk_matrix block: a scale (`severity A, B`) or a row (`Level: A R U`)."""
        scale = self._seq(i, self._w("severity", "probability"), lambda x: self._list(x, self._name))
        if scale is not None:
            self.units[i] = ("matrix_scale", scale)
            return scale
        j = self._seq(i, self._name, self._p(":"))
        if j is None:
            return None
        k = self._many(j, self._w("A", "R", "U"))
        if k == j:
            return None
        self.units[i] = ("matrix_row", k)
        return k

    def _graph_line(self, i: int) -> int | None:
        """A line of a risk_graph block: `source "..."`, a parameter's levels or a row."""
        j = self._seq(i, self._w("source"), self._string)
        if j is not None:
            return j

        def level(k: int) -> int | None:
            m = self._seq(k, self._name, self._string)
            return None if m is None else self._opt(m, self._w("below"), self._frequency)

        j = self._seq(i, self._w(*_GRAPH_PARAMETERS), lambda x: self._list(x, level))
        if j is not None:
            self.units[i] = ("graph_levels", j)
            return j
        j = self._seq(i, self._w("row"), self._name, self._p(":"))
        if j is None:
            return None
        k = self._many(j, self._name)
        if k == j or self._punct(k, "->") is None:
            return None
        end = self._many(k + 1, self._graph_outcome)
        if end == k + 1:
            return None
        self.units[i] = ("graph_row", end)
        return end

    def _graph_outcome(self, i: int) -> int | None:
        text = self._text(i)
        if (self._kind(i) == PUNCT and text == "-") or (self._kind(i) == NAME and text in ("a", "b")) or (
                self._kind(i) == NUMBER and text in ("1", "2", "3", "4")):
            return i + 1
        return None

    def _dal_level(self, i: int) -> int | None:
        return i + 1 if self._kind(i) == NAME and self._text(i) in ("A", "B", "C", "D", "E") else None

    def _dal_line(self, i: int) -> int | None:
        """A line of a dal_reduction block: `source "..."` or `Class option: L x N, others L`."""
        j = self._seq(i, self._w("source"), self._string)
        if j is not None:
            return j
        j = self._seq(i, self._name, self._name, self._p(":"), self._dal_level, self._w("x"), self._int,
                      self._p(","), self._w("others"), self._dal_level)
        if j is not None:
            self.units[i] = ("dal_option", j)
        return j

    def _ffs_line(self, i: int) -> int | None:
        j = self._seq(i, self._w("member"), self._path, self._w("fdal", "idal"), self._dal_level)
        if j is not None:
            return self._opt(j, self._string)
        j = self._seq(i, self._w("independence"), self._w("functional", "item"), self._string)
        return None if j is None else self._opt(j, self._w("evidence"), self._refs)

    def _frequency(self, i: int) -> int | None:
        return self._seq(i, self._number, self._w("per"), self._w(*_TIME_UNITS))

    def _asil_attr(self, i: int) -> int | None:
        return self._seq(i, self._w("asil"), self._asil)

    def _hazard_attr(self, i: int) -> int | None:
        return self._first(
            i,
            (
                lambda k: self._seq(k, self._w("situation"), self._string),
                lambda k: self._seq(k, self._w("severity"), self._class),
                lambda k: self._seq(k, self._w("exposure"), self._class),
                lambda k: self._seq(k, self._w("controllability"), self._class),
                self._asil_attr,
                lambda k: self._seq(k, self._w("when"), self._or),
                lambda k: self._seq(k, self._w("system"), self._path),
                lambda k: self._seq(k, self._w("mission_time"), self._duration),
                self._acceptance,
                self._string,
                lambda k: self._seq(
                    k, self._w("lopa"), self._w("demand"), self._frequency,
                    lambda x: self._opt(x, self._w("ipl"), lambda y: self._list(y, self._number)),
                    self._w("tolerable"), self._frequency,
                ),
                lambda k: self._seq(k, self._w("probability"), self._class),
                lambda k: self._seq(
                    k, self._w("residual"), lambda x: self._opt(x, self._w("severity"), self._class),
                    self._w("probability"), self._class,
                ),
                lambda k: self._seq(k, self._w("phase"), lambda x: self._list(x, self._name)),
                lambda k: self._seq(k, self._w("function"), self._string),
                lambda k: self._seq(
                    k, self._w("risk_graph"), lambda x: self._list(x, self._name),
                    lambda x: self._opt(x, self._w("demand"), self._frequency),
                ),
            ),
        )

    def _acceptance(self, i: int) -> int | None:
        j = self._seq(i, self._w("acceptance"), self._number)
        if j is None:
            return None
        if self._kw(j, "per") is not None and self._name(j + 1) is not None:
            j += 2
        j = self._opt(j, self._w("confidence"), self._number, self._p("%"))
        j = self._opt(j, self._w("exposure"), self._string)
        return self._opt(j, self._w("failures"), self._string)

    def _safety_goal(self, i: int) -> int | None:
        j = self._name(i)
        if j is None:
            return None
        j = self._opt(self._opt(j, self._string), self._w("mitigates"), self._refs)

        def goal_attr(k: int) -> int | None:
            return self._first(
                k,
                (
                    lambda x: self._seq(x, self._w("safe_state"), self._string),
                    lambda x: self._seq(x, self._w("ftti"), self._duration),
                    lambda x: self._seq(
                        x, self._w("target"), self._number, self._w("per"), self._w("h", "hour")
                    ),
                    self._asil_attr,
                    self._string,
                    lambda x: self._seq(x, self._w("demand"), self._w("low", "high", "continuous")),
                    lambda x: self._seq(x, self._w("sil"), self._int),
                ),
            )

        block = self._block(j, 0, goal_attr)
        return j if block is None else block

    def _requirement(self, i: int) -> int | None:
        j = self._name(i)
        if j is None:
            return None
        j = self._opt(j, self._string)

        def attr(k: int) -> int | None:
            return self._first(
                k,
                (
                    lambda x: self._seq(x, self._w("refines"), self._refs),
                    lambda x: self._seq(x, self._w("allocated_to"), self._refs),
                    self._asil_attr,
                ),
            )

        block = self._block(j, 0, attr)
        if block is not None:
            return block
        starts: list[int] = []
        while (k := attr(j)) is not None:
            starts.append(j)
            j = k
        self.attrs[i - 1] = starts
        return j

    def _evidence(self, i: int) -> int | None:
        j = self._seq(i, self._name, self._w(*_EVIDENCE_KINDS), self._string)
        if j is None:
            return None

        def attr(k: int) -> int | None:
            return self._first(
                k,
                (
                    lambda x: self._seq(x, self._w("verifies"), self._refs),
                    lambda x: self._seq(x, self._w("supports"), self._refs),
                    lambda x: self._seq(
                        x,
                        self._w("artifact"),
                        self._string,
                        lambda y: self._opt(y, self._w("sha256"), self._string),
                    ),
                    lambda x: self._seq(x, self._w("commit"), self._string),
                ),
            )

        return self._many(j, attr)

    def _gsn_node(self, i: int) -> int | None:
        j = self._seq(i, self._w(*_GSN_KINDS), self._name, self._string)
        if j is None:
            return None

        def attr(k: int) -> int | None:
            return self._first(
                k,
                (
                    lambda x: self._seq(x, self._w(*_GSN_LIST_ATTRS), self._refs),
                    self._w("undeveloped"),
                    lambda x: self._seq(x, self._w("module"), self._name),
                ),
            )

        return self._many(j, attr)

    # -- the file ---------------------------------------------------------------------------------------------
    def run(self) -> None:
        i = 0
        header = self._seq(i, self._w("package"), self._name)
        if header is not None:
            self.starts[i] = 0
            self.flat.add(i)
            i = header
        while (j := self._seq(i, self._w("import"), self._string)) is not None:
            self.starts[i] = 0
            self.flat.add(i)
            i = j
        while i < len(self.toks):
            j = self._element(i)
            if j is None:
                t = self.toks[i]
                raise FormatError(
                    f"line {t.line}:{t.col}: the formatter does not recognise the structure here"
                )
            self.starts[i] = 0
            self.units[i] = (self._text(i), j)
            if not any(k in self.opens for k in range(i, j)):
                self.flat.add(i)
            i = j

    def columns(self, i: int) -> tuple[str, list[int]]:
        """The kind of the unit starting at token i and the tokens that start its aligned columns (see
        `_COLUMNS`; a column whose token the unit does not have ends the list)."""
        kind, end = self.units.get(i, ("", i))
        anchors: list[int] = []
        for offset in _COLUMNS.get(kind, ()):
            if i + offset >= end:
                break
            anchors.append(i + offset)
        return kind, anchors


# -- layout ------------------------------------------------------------------------------------------------------


@dataclass
class _Line:
    """What the aligner needs to know about one output line."""

    role: str  # "start" (a unit's first line), "continuation" (a unit's later line), "comment" (a line
    # that starts with a comment; it becomes a continuation line if code follows on it), "other"
    # A unit's *row* is the line whose columns line up with those of the units next to it: its first line,
    # or, for a top-level requirement without a block, the line after the first when it starts with an
    # attribute (the first line is then `deferred`: it neither belongs to a run nor ends one).
    row: bool = False
    deferred: bool = False
    # a row's unit kind (with its first keyword, for a deferred row) and indentation
    key: tuple[str, int] = ("", 0)
    cuts: list[int] = field(default_factory=list)  # a row's column starts (offsets in the line)
    comment: int | None = None  # where a row's end-of-line `//` comment starts


def _layout(tokens: list[Token], shape: _Shape) -> str:
    sig_index: list[int] = []  # for each token, its index among significant tokens (-1 for comments)
    n = 0
    for t in tokens:
        sig_index.append(-1 if t.kind == COMMENT else n)
        n += t.kind != COMMENT
    next_sig: list[int | None] = [None] * len(tokens)  # significant index of the next significant token
    upcoming: int | None = None
    for pos in range(len(tokens) - 1, -1, -1):
        next_sig[pos] = upcoming
        if sig_index[pos] >= 0:
            upcoming = sig_index[pos]

    lines: list[str] = []
    infos: list[_Line] = []  # one per entry of lines
    cur: list[str] | None = None  # pieces of the line being built
    info = _Line("other")  # of the line being built
    prev: Token | None = None  # last token on the current line
    depth = 0
    unit_indent = 0
    unit_cont = CONTINUATION  # the extra indentation of the current unit's continuation lines
    unit_start = -1  # significant index of the current unit's first token
    unit_line = info  # the row of the current unit (its first line until a deferred row replaces it)
    anchors: list[int] = []  # significant indices of the current unit's column tokens
    just_opened = False  # the last line break followed a member block's `{`
    force_break = False  # a `//` comment ended the line

    def newline(indent: int, role: str, blank: bool = False) -> None:
        nonlocal cur, info, prev, just_opened
        if cur is not None:
            lines.append("".join(cur))
            infos.append(info)
        if blank and lines and not just_opened:
            lines.append("")
            infos.append(_Line("other"))
        just_opened = False
        cur = [" " * indent]
        info = _Line(role)
        prev = None

    def append(tok: Token, i: int = -1) -> None:
        nonlocal prev
        assert cur is not None
        if prev is not None:
            # `/h` is a rate unit; `/` before anything else divides and is spaced like the other operators
            glue = tok.text in (",", ")") or (prev.kind == PUNCT and (prev.text == "(" or (
                prev.text == "/" and tok.kind == NAME and tok.text == "h")))
            glue = glue or (tok.text == ":" and info.key[0] in ("matrix_row", "graph_row", "dal_option"))
            # an ODD unit (km/h, m/s) is written as one word
            glue = glue or (info.key[0] == "odd_attribute" and ((tok.text == "/" and prev.kind == NAME)
                                                              or (prev.kind == PUNCT and prev.text == "/")))
            if tok.kind == COMMENT and tok.text.startswith("//"):
                cur.append("  ")
            elif not glue:
                cur.append(" ")
        if info is unit_line:
            column = len(info.cuts) < len(anchors) and anchors[len(info.cuts)] == i
            comment = tok.kind == COMMENT and tok.text.startswith("//")
            # (checked only at a column or comment: a string or comment spanning lines ends the columns)
            if (column or comment) and not any("\n" in piece for piece in cur):
                if column:
                    info.cuts.append(sum(map(len, cur)))
                else:
                    info.comment = sum(map(len, cur))
        cur.append(_normal_comment(tok.text) if tok.kind == COMMENT else tok.text)
        prev = tok

    for pos, tok in enumerate(tokens):
        if tok.kind == COMMENT:
            if tok.newlines_before > 0 or cur is None:
                nxt = next_sig[pos]
                if nxt is None:
                    indent = 0
                elif nxt in shape.starts:
                    indent = INDENT * shape.starts[nxt]
                elif nxt in shape.closes:
                    indent = INDENT * depth
                else:
                    indent = unit_indent + unit_cont
                newline(indent, "comment", blank=tok.newlines_before >= 2)
            append(tok)
            force_break = tok.text.startswith("//")
            continue
        i = sig_index[pos]
        if i in shape.starts:
            unit_indent = INDENT * shape.starts[i]
            unit_cont = FLAT_CONTINUATION if i in shape.flat else CONTINUATION
            unit_start = i
            newline(unit_indent, "start", blank=tok.newlines_before >= 2)
            kind, anchors = shape.columns(i)
            info.row = True
            info.key = (kind, unit_indent)
            unit_line = info
            append(tok, i)
        elif i in shape.closes:
            depth -= 1
            if cur is not None and just_opened and prev is not None and prev.text == "{" and not force_break:
                cur.append("}")  # an empty block: `{}`
                prev = tok
            else:
                newline(INDENT * depth, "other")
                append(tok, i)
        elif i in shape.opens:
            if force_break:
                newline(unit_indent + unit_cont, "continuation")
            _code_after_comment(info)
            append(tok, i)
            depth += 1
            just_opened = True
        elif force_break or (tok.newlines_before > 0 and tok.text not in (",", ")")):
            newline(unit_indent + unit_cont, "continuation")
            attrs = shape.attrs.get(unit_start, [])
            if i in attrs and infos and infos[-1] is unit_line and unit_line.role == "start":
                # the second line of a requirement, starting with an attribute: the requirement's row
                unit_line.deferred, unit_line.row = True, False
                info.row = True
                info.key = (f"{shape.units[unit_start][0]} {tok.text}", unit_indent + unit_cont)
                unit_line = info
                anchors = attrs[attrs.index(i) + 1 :]
            append(tok, i)
        else:
            _code_after_comment(info)
            append(tok, i)
        force_break = False
    if cur is not None:
        lines.append("".join(cur))
        infos.append(info)
    _align(lines, infos)
    # rstrip logical lines only: a string may span lines, and its text is not whitespace to tidy
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    return text + "\n" if text else ""


def _code_after_comment(info: _Line) -> None:
    if info.role == "comment":  # `/* c */ or b`: a continuation line that starts with a comment
        info.role = "continuation"


def _runs(infos: list[_Line]) -> list[list[int]]:
    """Runs of lines to align: the rows of consecutive units with the same key (kind, indentation, and for a
    deferred row its first keyword), each with at least one column. The other lines of a unit in a run
    belong to the run (they are not aligned); any other line (blank, comment, `}`, a unit with another key
    or without columns) ends it."""
    runs: list[list[int]] = []
    run: list[int] = []
    for n, info in enumerate(infos):
        if info.deferred or (info.role == "continuation" and not info.row and run):
            continue
        if info.row and info.cuts and run and infos[run[-1]].key == info.key:
            run.append(n)
            continue
        if len(run) > 1:
            runs.append(run)
        run = [n] if info.row and info.cuts else []
    if len(run) > 1:
        runs.append(run)
    return runs


def _align(lines: list[str], infos: list[_Line]) -> None:
    """Pad the lines of each run so that their columns line up, left to right: column k of every line of the
    run that has it starts at the smallest position that leaves one space before it on each of these lines.
    End-of-line `//` comments are a last column (two spaces before it on the longest line)."""

    def pad(n: int, at: int, width: int) -> None:
        info = infos[n]
        lines[n] = lines[n][:at] + " " * width + lines[n][at:]
        info.cuts = [c + width if c >= at else c for c in info.cuts]
        if info.comment is not None and info.comment >= at:
            info.comment += width

    for run in _runs(infos):
        for k in range(max(len(infos[n].cuts) for n in run)):
            having = [n for n in run if len(infos[n].cuts) > k]
            target = max(infos[n].cuts[k] for n in having)
            for n in having:
                pad(n, infos[n].cuts[k], target - infos[n].cuts[k])
        commented = [n for n in run if infos[n].comment is not None]
        target = max((infos[n].comment or 0 for n in commented), default=0)
        for n in commented:
            at = infos[n].comment or 0
            pad(n, at, target - at)


def format_text(text: str) -> str:
    """The canonical layout of one file's text, which must parse (see `check_syntax`).

    Rules: each header line (`package`, `import`) and each top-level element starts a line at column 0;
    inside a member block (`component`, `hazard`, `safety_goal`, `requirement`, `argument`, `policy`) each
    member starts its own line, indented 4 per level, with one exception: a hazard's `severity`, `exposure`
    and `controllability` (three consecutive members, in any order) that the author wrote on one line stay on
    one line (`severity S3 exposure E4 controllability C3`; written on two or three lines, they get a line
    each). `{` ends the element's line, `}` has a line of its own (an empty block is `{}`). A line break the
    author put inside one unit is kept as a continuation line, indented 4 more than the unit for a top-level
    unit without a member block (`requirement` without braces, `evidence`, `deviation`, `safety_goal` without
    braces, ...) and 8 more for the others (members, and the header of an element with a block, so that it
    stands apart from the members). Tokens on a line are separated by one space, except none before `,` and
    `)` and none after `(` and `/` (`/h`); `%` keeps its space (`99 %`). Comments stay where they are: a
    comment on its own line stays on its own line, indented like the next line; an end-of-line `//` comment
    stays at the end of its line, two spaces after the code. One blank line is kept where the author left one
    or more (never right after `{`). Trailing whitespace goes, the file ends with one line break, a
    byte-order mark and CR line ends are dropped.

    Alignment (the one exception to single spaces): a run is a sequence of consecutive units of the same kind
    in the same block; a blank line, a comment line, `}` or a unit of another kind ends it, the continuation
    lines of a unit in the run do not (they are not aligned). Each unit has a *row*, its first line, where
    its columns are. On the rows of a run's units, each column below starts at the same position, the
    smallest that leaves one space before it on every row that has it; columns are aligned left to right,
    each over the units that have it (by position: the k-th column of one row lines up with the k-th of the
    others, whatever their tokens). A unit alone in its run keeps single spaces. The columns:

    - failure-logic rule `PORT.DEV <- expr`: `<-`;
    - port declaration `in a, b` / `out c`: the first name (`in  a, b`);
    - `failure`/`trigger NAME`: the quantity keyword (`rate`, `probability`);
    - `mechanism`/`monitor NAME` and `ccf NAME`: `covers`;
    - `part NAME`: `:`, then the description;
    - `connect a` and `propagate a`: `->`;
    - `dataset ROLE`: the identity string, then `sha256`;
    - `metric NAME`: the comparison;
    - top-level `deviation PATH`: what follows the path (`refines` or the description), then the description
      after `refines BASE`;
    - top-level `evidence NAME`: the kind, the source string, then the first attribute (`verifies` ...);
    - top-level `requirement` without a block whose second line starts with an attribute: that line is its
      row (the first line, `requirement NAME "title"`, is then neither part of a run nor the end of one); its
      columns are the second and later attributes on it (`refines SG1  allocated_to ecu  asil D`: the
      `allocated_to` and the `asil`), and such requirements form a run only when their rows start with the
      same keyword. A requirement whose attributes follow the title on its first line has no columns (it
      ends a run), and so does one whose row has a single attribute.

    A column counts only where its token is on the unit's row with no string or comment spanning lines before
    it; a unit whose first column is not on its row ends the run. End-of-line `//` comments on the rows of a
    run line up as a last column, two spaces after the longest code. Hazard classification lines are not
    aligned with one another: their class tokens (`S3`, `E4`, `C3`) have one width, so the trios of
    consecutive hazards written in the same order line up with single spaces.

    Raises FormatError when the token structure is not recognised or the result would not have the input's
    token sequence.
    """
    tokens = tokenize(text.replace("\r\n", "\n"))
    bad = next((t for t in tokens if t.kind == ERROR), None)
    if bad is not None:
        raise FormatError(f"line {bad.line}:{bad.col}: unexpected character {bad.text!r}")
    shape = _Shape([t for t in tokens if t.kind != COMMENT], _apart(tokens))
    try:
        shape.run()
    except RecursionError:
        raise FormatError("expression nested too deeply to format") from None
    result = _layout(tokens, shape)
    if signature(result) != _signature(tokens):
        raise FormatError(
            "internal error: formatting would change the token sequence; the file is left as it is"
        )
    return result


def _apart(tokens: list[Token]) -> list[bool]:
    """For each significant token, whether a line break separates it from the significant token before it
    (in the whitespace between them or inside a comment between them)."""
    out: list[bool] = []
    broken = False
    for t in tokens:
        broken = broken or t.newlines_before > 0
        if t.kind == COMMENT:
            broken = broken or "\n" in t.text or t.text.startswith("//")
            continue
        out.append(broken)
        broken = False
    return out


# -- files ---------------------------------------------------------------------------------------------------------

_SYNTAX_CODES = frozenset({dg.SYNTAX, dg.UNREADABLE, dg.LIMIT_EXCEEDED})


class Outcome(str, Enum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    FAILED = "failed"  # does not parse, cannot be read, or the formatter refused


@dataclass
class FileResult:
    path: Path
    outcome: Outcome
    original: str = ""
    formatted: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)


def check_syntax(paths: Sequence[Path]) -> tuple[dict[Path, list[Diagnostic]], dict[str, list[str]]]:
    """Parse the files (with what they import) through the front end; return the read/syntax diagnostics of
    each given file and the source lines for rendering them. Semantic errors do not stop formatting."""
    from safetyops_dsl.api import check

    found: dict[Path, list[Diagnostic]] = {p: [] for p in paths}
    if not paths:
        return found, {}
    checked = check(paths, validate=False)
    by_real = {p.resolve(): p for p in paths}
    for d in checked.diagnostics:
        if d.code not in _SYNTAX_CODES or d.level is not dg.Severity.ERROR:
            continue
        real = Path(d.location.file).resolve()
        if real in by_real:
            found[by_real[real]].append(d)
    return found, checked.sources


def format_files(paths: Iterable[str | os.PathLike[str]]) -> list[FileResult]:
    """Format files in memory (nothing is written): one result per file, in the given order."""
    files = [Path(p) for p in paths]
    syntax, sources = check_syntax(files)
    results: list[FileResult] = []
    for path in files:
        if syntax[path]:
            results.append(FileResult(path, Outcome.FAILED, diagnostics=syntax[path], sources=sources))
            continue
        try:
            original = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            diag = dg.make(dg.UNREADABLE, str(exc), Location(path.as_posix()))
            results.append(FileResult(path, Outcome.FAILED, diagnostics=[diag]))
            continue
        try:
            formatted = format_text(original)
        except FormatError as exc:
            diag = dg.make(dg.SYNTAX, f"not formatted: {exc}", Location(path.as_posix()))
            results.append(FileResult(path, Outcome.FAILED, original, diagnostics=[diag]))
            continue
        outcome = Outcome.UNCHANGED if formatted == original else Outcome.CHANGED
        results.append(FileResult(path, outcome, original, formatted))
    return results


def unified_diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        f"{path} (original)",
        f"{path} (formatted)",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


# -- semantic comparison (round trip) ----------------------------------------------------------------------------


def strip_locations(value: Any) -> Any:
    """A comparable view of a semantic-model value without source positions: dataclasses become
    (class name, ((field, value), ...)) with every Location-valued field left out, recursively."""
    if isinstance(value, Location):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = []
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if isinstance(v, Location) or f.name.endswith("location"):
                continue
            items.append((f.name, strip_locations(v)))
        return (type(value).__name__, tuple(items))
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return tuple(strip_locations(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, strip_locations(v)) for k, v in value.items()))
    return value
