"""Open-PSA Model Exchange Format (MEF) reader: XML files -> FaultTree values, one per top gate.

Several files form one model (as with SCRAM: `tree.xml basic-events.xml`). A top gate is a gate no other
gate uses; trees come out sorted by name. Names are case-sensitive, as in SCRAM 0.16.
Nested formulas inside a gate become gates named `<gate>-<i>` (i = 1-based position, nested: `g-2-1`);
MEF names cannot hold '.', so these never clash with a qualified name. Private names are `<path>.<name>`.
Event-tree constructs are skipped (this reader is for fault trees only).
CCF groups (`define-CCF-group`) define their members as basic events; every tree is expanded with
`ccf.expand`, so member X becomes an OR gate over the CCF events `[X]`, `[X Y]`, ... (see fta/ccf.py and
docs/fault-trees.md). This is SCRAM's `--ccf true`; private members are known by their path as other
private events are (SCRAM 0.16 cannot resolve references to private members at all).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from safetyops_dsl.diagnostics import (
    LIMIT_EXCEEDED,
    OPENPSA_ERROR,
    Diagnostic,
    DiagnosticError,
    Location,
    make,
)
from safetyops_dsl.fta._xmlk import plain_model
from safetyops_dsl.fta.mef_expr import Evaluator, ExprError
from safetyops_dsl.fta.timing import Timing
from safetyops_dsl.fta.tree import (
    BasicEvent,
    FaultTree,
    Gate,
    GateKind,
    HouseEvent,
    MefExpr,
    Origin,
    uncertain,
)
from safetyops_dsl.fta.xmlread import Element, parse_file
from safetyops_dsl.gc_pause import GcPaused
from safetyops_dsl.lazy_dataclasses import replace

TYPE_CHECKING = False  # typing itself is not imported at run time (`sops fta` start-up)
if TYPE_CHECKING:
    from safetyops_dsl.fta import ccf

DEFAULT_MISSION_TIME = 8760.0  # hours; SCRAM's default
# A CCF group becomes one event per combination of members up to its highest level: 2^n - 1 for all levels.
MAX_CCF_EVENTS = 10_000

_CONNECTIVES = {
    "and": GateKind.AND,
    "or": GateKind.OR,
    "atleast": GateKind.ATLEAST,
    "xor": GateKind.XOR,
    "not": GateKind.NOT,
    "nand": GateKind.NAND,
    "nor": GateKind.NOR,
    "null": GateKind.NULL,
}
_DERIVED = {"iff", "imply", "cardinality"}
_REFS = {"gate", "basic-event", "house-event", "event"}
_META = {"label", "attributes"}
# Event-tree and analysis constructs: valid MEF, irrelevant to fault-tree analysis.
_SKIPPED = {
    "define-event-tree",
    "define-initiating-event",
    "define-rule",
    "define-sequence",
    "define-functional-event",
    "define-alignment",
    "define-substitution",
    "define-extern-library",
    "define-extern-function",
    "label",
    "attributes",
}


# Plain classes, not dataclasses: each dataclass costs about 4 M instructions to build at import (its
# methods are compiled from source), and these two are only filled in and read here.
class _Def:
    __slots__ = ("name", "el", "label", "scope", "ccf_group")

    def __init__(self, name: str, el: Element, label: str, scope: str, ccf_group: str = "") -> None:
        self.name = name  # unique key: the plain name, or "<container path>.<name>" for a private element
        self.el = el
        self.label = label
        self.scope = scope  # path of the enclosing fault tree / component, e.g. "ThreeMotor.t"
        self.ccf_group = ccf_group  # for a member of a CCF group: the group's key (the member element is `el`)


class _CcfDef:
    __slots__ = ("name", "el", "label", "members", "member_els")

    def __init__(self, name: str, el: Element, label: str) -> None:
        self.name = name  # unique key, as for _Def
        self.el = el
        self.label = label
        self.members: list[str] = []  # member keys, in the group's order
        self.member_els: dict[str, Element] = {}


def _is_one(el: Element) -> bool:
    return el.tag in ("float", "int") and el.get("value") in ("1", "1.0")


def _complement(el: Element) -> Element | None:
    """X where `el` is <sub> 1 X </sub>."""
    args = [c for c in el.children if c.tag not in _META]
    return args[1] if el.tag == "sub" and len(args) == 2 and _is_one(args[0]) else None


def _mef(el: Element) -> MefExpr:
    """An expression element as plain data (the uncertainty analysis samples it)."""
    args = tuple(_mef(c) for c in el.children if c.tag not in _META)
    raw = el.get("value")
    value: float | None = None
    if el.tag == "bool":
        value = 1.0 if raw == "true" else 0.0
    elif raw is not None:
        try:
            value = float(raw)
        except ValueError:
            value = None
    tag = "float" if el.tag in ("int", "bool") else el.tag
    return MefExpr(tag, value, el.get("name") or "", args)


def _parameters_named(el: Element, body: Callable[[str], Element]) -> list[str]:
    """Every parameter `el` names, directly or through other parameters (each once)."""
    out: list[str] = []
    stack = [el]
    while stack:
        e = stack.pop()
        if e.tag == "parameter":
            name = e.get("name") or ""
            if name in out:
                continue
            try:
                stack.append(body(name))
            except (KeyError, StopIteration):
                continue  # undefined or empty: the point evaluation reported it
            out.append(name)
        stack.extend(c for c in e.children if c.tag not in _META)
    return out


def _label(el: Element) -> str:
    for c in el.children:
        if c.tag == "label":
            return " ".join(c.text.split())
    return ""


def _origin(el: Element, element: str) -> Origin:
    return Origin(el.file, el.line, el.col, element)


class _Model:
    def __init__(self) -> None:
        self.gates: dict[str, _Def] = {}
        self.basic: dict[str, _Def] = {}
        self.house: dict[str, _Def] = {}
        self.params: dict[str, Element] = {}
        self.ccf: dict[str, _CcfDef] = {}
        self.diags: list[Diagnostic] = []
        self.names: set[str] = set()  # of gates and events: one look-up decides that a new name is free
        self._tables = (("gate", self.gates), ("basic event", self.basic), ("house event", self.house))

    def error(self, el: Element | Location, message: str, hint: str = "") -> None:
        loc = el if isinstance(el, Location) else el.loc
        self.diags.append(make(OPENPSA_ERROR, message, loc, hint))

    @staticmethod
    def key(el: Element, scope: str, role: str) -> str | None:
        plain = el.get("name")
        if not plain:
            return None
        # MEF roles: a private element is known by its container path (SCRAM reports the plain name).
        return f"{scope}.{plain}" if scope and el.get("role", role) == "private" else plain

    def define(self, table: dict[str, _Def], el: Element, scope: str, role: str, ccf_group: str = "") -> str | None:
        name = self.key(el, scope, role)
        if name is None:
            self.error(el, f"<{el.tag}> has no name")
            return None
        for kind, other in self._tables if name in self.names else ():
            if name in other:
                first = other[name]
                if first.ccf_group and ccf_group:
                    self.error(el, f"basic event '{name}' is already a member of CCF group "
                                   f"'{first.ccf_group}' at {first.el.loc}",
                               hint="a basic event can be a member of one CCF group only")
                elif first.ccf_group:
                    self.error(el, f"'{name}' is already defined as a member of CCF group '{first.ccf_group}' "
                                   f"at {first.el.loc}",
                               hint="a CCF group defines its members: remove this definition")
                elif ccf_group:
                    self.error(el, f"member '{name}' of CCF group '{ccf_group}' is already defined as a {kind} "
                                   f"at {first.el.loc}",
                               hint="a CCF group defines its members: remove the other definition"
                               if kind == "basic event" else "")
                else:
                    self.error(el, f"'{name}' is already defined as a {kind} at {first.el.loc}")
                return None
        table[name] = _Def(name, el, _label(el), scope, ccf_group)
        self.names.add(name)
        return name

    def define_ccf(self, el: Element, scope: str, role: str) -> None:
        name = self.key(el, scope, role)
        if name is None:
            self.error(el, "<define-CCF-group> has no name")
            return
        if name in self.ccf:
            self.error(el, f"CCF group '{name}' is already defined at {self.ccf[name].el.loc}")
            return
        group = _CcfDef(name, el, _label(el))
        self.ccf[name] = group
        members = [c for c in el.children if c.tag == "members"]
        if len(members) != 1:
            self.error(el, f"CCF group '{name}' needs one <members> element, not {len(members)}")
            return
        # Members take the group's path and role (as in SCRAM).
        member_role = el.get("role", role) or role
        for m in members[0].children:
            if m.tag != "basic-event":
                self.error(m, f"unexpected <{m.tag}> in the members of CCF group '{name}'",
                           hint='list the members as <basic-event name="..."/>')
                continue
            key = self.key(m, scope, member_role)
            if key is not None and key in group.member_els:
                self.error(m, f"CCF group '{name}' lists member '{key}' twice (first at {group.member_els[key].loc})")
                continue
            key = self.define(self.basic, m, scope, member_role, ccf_group=name)
            if key is not None:
                group.members.append(key)
                group.member_els[key] = m

    def collect(self, el: Element, scope: str, role: str) -> None:
        for c in el.children:
            tag = c.tag
            if tag == "define-gate":
                self.define(self.gates, c, scope, role)
            elif tag == "define-basic-event":
                self.define(self.basic, c, scope, role)
            elif tag == "define-house-event":
                self.define(self.house, c, scope, role)
            elif tag == "define-parameter":
                name = c.get("name") or ""
                if name in self.params:
                    self.error(c, f"parameter '{name}' is already defined at {self.params[name].loc}")
                else:
                    self.params[name] = c
            elif tag in ("define-fault-tree", "define-component"):
                name = c.get("name") or ""
                self.collect(c, f"{scope}.{name}" if scope else name, c.get("role") or role)
            elif tag == "model-data":
                self.collect(c, "", "public")
            elif tag == "define-CCF-group":
                self.define_ccf(c, scope, role)
            elif tag not in _SKIPPED:
                self.error(c, f"unexpected element <{tag}> in <{el.tag}>")


_Layout = tuple[type, tuple[str, ...], tuple[object, ...]]


def _layout(cls: type) -> _Layout:
    """What `_xmlk.plain_model` needs to make a record without its __init__: the class, its fields in order
    and each field's default (None where it has none: plain_model gives those)."""
    fields: tuple[str, ...] = cls.__match_args__  # type: ignore[attr-defined]
    given: tuple[object, ...] = cls.__init__.__defaults__ or ()  # type: ignore[misc]
    return cls, fields, (None,) * (len(fields) - len(given)) + given


_RECORDS: list[tuple[_Layout, _Layout, _Layout]] = []


def _records() -> tuple[_Layout, _Layout, _Layout]:
    if not _RECORDS:
        _RECORDS.append((_layout(Gate), _layout(BasicEvent), _layout(Origin)))
    return _RECORDS[0]


def load_openpsa(paths: list[str], mission_time: float | None = None) -> list[FaultTree]:
    with GcPaused():
        return _load(paths, mission_time)


def _load(paths: list[str], mission_time: float | None, plain: bool = True) -> list[FaultTree]:
    """`plain=False` reads every model the general way (the tests compare both)."""
    mission = DEFAULT_MISSION_TIME if mission_time is None else mission_time
    roots = [parse_file(path) for path in paths]  # a file that cannot be read stops here, as before
    if plain:
        found = plain_model(roots, _CONNECTIVES, *_records())
        if found is not None:
            # Nothing in a plain model depends on the mission time but the trees' own field, and nothing is
            # uncertain: no parameters.
            return [FaultTree(name=top, top=top, gates=gates, basic_events=basic, house_events={},
                              label=gates[top].label, mission_time=mission, parameters={})
                    for top, gates, basic in found]
    model = _Model()
    for root in roots:
        if root.tag != "opsa-mef":
            model.error(root, f"the root element is <{root.tag}>, not <opsa-mef>")
            continue
        model.collect(root, "", "public")
    if model.diags:
        raise DiagnosticError(model.diags)
    try:
        return _Builder(model, mission).trees()
    except RecursionError:
        # Formulas nest one Python frame per level; hundreds of levels are not a fault tree anyone writes by
        # hand, so say so instead of crashing.
        raise DiagnosticError(
            [make(LIMIT_EXCEEDED, "formulas nested too deeply to read (more than a few hundred levels)",
                  Location(paths[0] if paths else "", 0, 0), "define the inner formulas as gates of their own")]
        ) from None


class _Builder:
    def __init__(self, model: _Model, mission_time: float) -> None:
        self.m = model
        self.mission_time = mission_time
        self.gates: dict[str, Gate] = {}
        self.house: dict[str, HouseEvent] = {}
        self.basic: dict[str, BasicEvent] = {}
        self.evaluator = Evaluator(model.params, mission_time)
        self.uncertain_parameters: dict[str, MefExpr] = {}  # named by expressions with random deviates
        self.scope = ""  # container path of the gate being built (for private names)
        self.groups: dict[str, ccf.CcfGroup] = {}  # the valid CCF groups, by key
        self.tables = {"gate": model.gates, "basic-event": model.basic, "house-event": model.house}
        # No defined name has a dot (no private element, no dotted public name): then no "<scope>.<ref>" is
        # defined, and a reference found as written is found first (see _lookup).
        self.dotless = not any("." in n for n in model.names)

    def trees(self) -> list[FaultTree]:
        m = self.m
        for d in sorted(m.house.values(), key=lambda d: d.name):
            self.house[d.name] = self._house(d)
        for d in sorted(m.gates.values(), key=lambda d: d.name):
            self._gate(d)
        if not m.diags:
            self._check_cycles()
        for group in sorted(m.ccf.values(), key=lambda d: d.name):
            self._ccf_group(group)
        used_basic = {i for g in self.gates.values() for i in g.inputs if i in m.basic}
        for name in sorted(used_basic):
            self._basic(m.basic[name])
        if m.diags:
            raise DiagnosticError(m.diags)
        used = {i for g in self.gates.values() for i in g.inputs}
        tops = sorted(n for n in m.gates if n not in used)
        if not tops:
            raise DiagnosticError([make(OPENPSA_ERROR, "the model defines no fault-tree gate", Location(""))])
        return [self._tree(top) for top in tops]

    # -- events ----------------------------------------------------------------------------------------------

    def _house(self, d: _Def) -> HouseEvent:
        state = False
        body = [c for c in d.el.children if c.tag not in _META]
        if body:
            c = body[0]
            value = c.get("value")
            if c.tag not in ("constant", "bool") or value not in ("true", "false"):
                self.m.error(c, f"house event '{d.name}' needs <constant value=\"true|false\"/>")
            state = value == "true"
        return HouseEvent(d.name, state, d.label, _origin(d.el, "house-event"))

    def _basic(self, d: _Def) -> None:
        if d.ccf_group:
            group = self.groups.get(d.ccf_group)
            if group is not None:  # else the group's error is reported
                # A placeholder with the total probability: expansion replaces it by an OR gate.
                self.basic[d.name] = BasicEvent(d.name, group.probability, d.label, _origin(d.el, "ccf-member"))
            return
        body = [c for c in d.el.children if c.tag not in _META]
        if len(body) != 1:
            self.m.error(
                d.el,
                f"basic event '{d.name}' has no probability expression"
                if not body
                else f"basic event '{d.name}' has {len(body)} expressions, not one",
                hint='give it e.g. <float value="1e-3"/>',
            )
            return
        try:
            p = self.evaluator.eval(body[0])
        except ExprError as exc:
            self.m.diags.append(exc.diag)
            return
        if not 0.0 <= p <= 1.0:
            self.m.error(body[0], f"probability of basic event '{d.name}' is {p!r}, outside [0, 1]")
            return
        if body[0].tag in ("float", "int") and not body[0].children:
            # A plain number (most events): no rate, no time model, nothing uncertain. Said here rather than
            # found by the general path below, which cost a third of loading a 10,000-gate chain.
            self.basic[d.name] = BasicEvent(d.name, p, d.label, _origin(d.el, "basic-event"))
            return
        rate = None
        if body[0].tag == "exponential" and body[0].children:
            try:
                rate = self.evaluator.eval(body[0].children[0])
            except ExprError:
                rate = None
        # an expression with random deviates is kept for the uncertainty analysis (fta/uncertainty.py), with
        # the parameters it names; a plain one is its value
        parsed = _mef(body[0])
        params = {n: _mef(self._parameter_body(n)) for n in _parameters_named(body[0], self._parameter_body)}
        expression = parsed if uncertain(parsed, params) else None
        if expression is not None:
            self.uncertain_parameters.update(params)
        self.basic[d.name] = BasicEvent(d.name, p, d.label, _origin(d.el, "basic-event"), rate_per_hour=rate,
                                        timing=self._timing(body[0]), expression=expression)

    def _parameter_body(self, name: str) -> Element:
        definition = self.m.params[name]
        return next(c for c in definition.children if c.tag not in ("label", "attributes"))

    def _now(self, el: Element) -> bool:
        """The time argument of an expression is the mission time (so the event evolves over it)."""
        if el.tag == "system-mission-time":
            return True
        try:
            return math.isclose(self.evaluator.eval(el), self.mission_time, rel_tol=1e-12)
        except ExprError:
            return False

    def _timing(self, el: Element) -> Timing | None:
        """The time model of an expression evaluated at the mission time (fta/timing.py): `exponential`,
        `periodic-test` and `GLM`, a share of one (`mul` by a number: a CCF event), and the complement product
        the export writes for a proof test that reveals a share of the failures. None: constant."""
        args = [c for c in el.children if c.tag not in _META]
        try:
            if el.tag == "exponential" and len(args) == 2 and self._now(args[1]):
                return Timing("exponential", rate=self.evaluator.eval(args[0]))
            if el.tag == "GLM" and len(args) == 4 and self._now(args[3]):
                gamma, lam, mu = (self.evaluator.eval(a) for a in args[:3])
                return Timing("GLM", rate=lam, repair_rate=mu, gamma=gamma)
            if el.tag == "periodic-test" and len(args) in (4, 5) and self._now(args[-1]):
                values = [self.evaluator.eval(a) for a in args[:-1]]
                lam, mu = values[0], (values[1] if len(values) == 4 else 0.0)
                return Timing("periodic-test", rate=lam, interval=values[-2], first=values[-1], repair_rate=mu)
            if el.tag == "mul" and len(args) == 2 and args[1].tag in ("float", "int"):
                base = self._timing(args[0])
                return None if base is None else replace(base, scale=base.scale * self.evaluator.eval(args[1]))
            if el.tag == "sub" and len(args) == 2 and _is_one(args[0]) and args[1].tag == "mul":
                parts = [c for c in args[1].children if c.tag not in _META]
                found = [self._timing(x) if (x := _complement(c)) is not None else None for c in parts]
                if len(found) == 2 and found[0] is not None and found[1] is not None:
                    tested, hidden = found[0], found[1]
                    if (tested.kind == "periodic-test" and hidden.kind == "exponential" and tested.coverage == 1.0
                            and tested.scale == 1.0 and hidden.scale == 1.0 and tested.test_duration == 0.0):
                        total = tested.rate + hidden.rate
                        return replace(tested, rate=total, coverage=tested.rate / total if total else 1.0)
        except ExprError:
            return None
        return None

    def _expression(self, el: Element, what: str) -> float | None:
        """The value of the one expression inside `el` (a <distribution> or <factor>)."""
        body = [c for c in el.children if c.tag not in _META]
        if len(body) != 1:
            self.m.error(el, f"{what} needs exactly one expression, found {len(body)}",
                         hint='e.g. <float value="0.1"/>')
            return None
        try:
            return self.evaluator.eval(body[0])
        except ExprError as exc:
            self.m.diags.append(exc.diag)
            return None

    def _ccf_group(self, d: _CcfDef) -> None:
        """Quantify one CCF group (distribution, factors), validate it and keep it in self.groups."""
        from safetyops_dsl.fta import ccf  # only models with CCF groups pay for its import (start-up)

        m, el, name = self.m, d.el, d.name
        raw_model = el.get("model") or ""
        try:
            model = ccf.CcfModel(raw_model)
        except ValueError:
            models = ", ".join(x.value for x in ccf.CcfModel)
            m.error(el, f"CCF group '{name}' has the unknown model '{raw_model}'" if raw_model
                    else f"CCF group '{name}' has no model", hint=f"model is one of {models}")
            return
        distributions: list[Element] = []
        factor_lists: list[Element] = []
        factor_els: list[Element] = []
        ok = True
        for c in el.children:
            if c.tag == "distribution":
                distributions.append(c)
            elif c.tag == "factors":
                factor_lists.append(c)
                factor_els += c.children
            elif c.tag == "factor":
                factor_lists.append(c)
                factor_els.append(c)
            elif c.tag not in _META and c.tag != "members":
                m.error(c, f"unexpected element <{c.tag}> in CCF group '{name}'")
                ok = False
        if len(distributions) != 1:
            m.error(el, f"CCF group '{name}' needs one <distribution> (the members' failure probability), "
                        f"not {len(distributions)}")
            return
        if len(factor_lists) != 1:
            m.error(el, f"CCF group '{name}' needs one <factors> element (or a single <factor>), "
                        f"not {len(factor_lists)}")
            return
        q = self._expression(distributions[0], f"the distribution of CCF group '{name}'")
        if q is None:
            return
        min_level = ccf.first_level(model, len(d.members))
        factors: dict[int, float] = {}
        at_level: dict[int, Element] = {}
        previous: int | None = None
        for f in factor_els:
            if f.tag != "factor":
                m.error(f, f"unexpected <{f.tag}> in the factors of CCF group '{name}'")
                ok = False
                continue
            raw = f.get("level")
            if raw is None:
                level = min_level if previous is None else previous + 1
            else:
                try:
                    level = int(raw)
                except ValueError:
                    level = 0
                if level < 1 or not raw.strip().isdigit():
                    m.error(f, f"factor level '{raw}' of CCF group '{name}' is not a positive integer")
                    ok = False
                    continue
            previous = level
            if level in at_level:
                m.error(f, f"CCF group '{name}' has a second factor for level {level} (the first is at "
                           f"{at_level[level].loc})", hint="a factor without 'level' takes the previous level + 1")
                ok = False
                continue
            value = self._expression(f, f"factor of level {level} of CCF group '{name}'")
            if value is None:
                ok = False
                continue
            factors[level], at_level[level] = value, f
        if not ok:
            return
        group = ccf.CcfGroup(name, model, tuple(d.members), q, factors, d.label, _origin(el, "ccf-group"))
        try:
            ccf.validate(group)
        except ccf.CcfError as exc:
            members = next((c for c in el.children if c.tag == "members"), el)
            where: Element = {
                "members": members,
                "distribution": distributions[0],
                "factors": factor_lists[0],
            }.get(exc.part, el)
            if exc.part == "factor" and exc.level in at_level:
                where = at_level[exc.level]
            m.error(where, str(exc))
            return
        n = len(group.members)
        events = sum(math.comb(n, k) for k in ccf.multiplicity_probabilities(group))
        if events > MAX_CCF_EVENTS:
            m.diags.append(make(LIMIT_EXCEEDED, f"CCF group '{name}' expands into {events:,} events (one per "
                                f"combination of its {n} members), more than {MAX_CCF_EVENTS:,}", el.loc,
                                "give factors for fewer levels, or split the group"))
            return
        self.groups[name] = group

    # -- gates -------------------------------------------------------------------------------------------------

    def _gate(self, d: _Def) -> None:
        body = [c for c in d.el.children if c.tag not in _META]
        if len(body) != 1:
            self.m.error(d.el, f"gate '{d.name}' needs exactly one formula, found {len(body)}")
            return
        formula = body[0]
        self.scope = d.scope
        if formula.tag in _CONNECTIVES or formula.tag in _DERIVED:
            self._formula(d.name, formula, d.label, d.el)
        else:
            arg = self._arg(d.name, formula, 1)
            if arg is not None:
                self.gates[d.name] = Gate(d.name, GateKind.NULL, (arg,), None, d.label, _origin(d.el, "gate"))

    def _formula(self, name: str, el: Element, label: str, at: Element) -> None:
        """Define gate `name` from a connective element (nested connectives become child gates)."""
        origin = _origin(at, "gate")
        args: list[str] = []
        tables = self.tables
        found_as_written = not self.scope or self.dotless  # _lookup's first test, decided once per gate
        i = 0
        for c in el.children:
            tag = c.tag
            if tag in _META:
                continue
            i += 1
            if found_as_written and tag in tables:  # _arg's first case, inlined: most arguments end here
                ref = c.get("name")
                if ref and ref in tables[tag]:
                    args.append(ref)
                    continue
            a = self._arg(name, c, i)
            if a is not None:
                args.append(a)
        tag = el.tag
        n = len(args)
        if tag in ("not", "null") and n != 1:
            self.m.error(el, f"<{tag}> in gate '{name}' takes one argument, not {n}")
            return
        if n == 0:
            self.m.error(el, f"<{tag}> in gate '{name}' has no arguments")
            return
        if tag in ("xor", "iff", "imply") and n != 2 and tag != "xor":
            self.m.error(el, f"<{tag}> in gate '{name}' takes two arguments, not {n}")
            return
        if tag == "atleast":
            k = self._int_attr(el, "min", name)
            if k is None:
                return
            if not 1 <= k <= n:
                self.m.error(el, f"atleast min={k} in gate '{name}' is outside 1..{n}")
                return
            self.gates[name] = Gate(name, GateKind.ATLEAST, tuple(args), k, label, origin)
        elif tag == "iff":  # a <-> b  ==  not (a xor b)
            inner = f"{name}-xor"
            self.gates[inner] = Gate(inner, GateKind.XOR, tuple(args), None, "", origin)
            self.gates[name] = Gate(name, GateKind.NOT, (inner,), None, label, origin)
        elif tag == "imply":  # a -> b  ==  (not a) or b
            inner = f"{name}-not"
            self.gates[inner] = Gate(inner, GateKind.NOT, (args[0],), None, "", origin)
            self.gates[name] = Gate(name, GateKind.OR, (inner, args[1]), None, label, origin)
        elif tag == "cardinality":
            lo = self._int_attr(el, "min", name)
            hi = self._int_attr(el, "max", name)
            if lo is None or hi is None:
                return
            if not 0 <= lo <= hi <= n:
                self.m.error(el, f"cardinality min={lo} max={hi} in gate '{name}' is outside 0..{n}")
                return
            self._cardinality(name, args, lo, hi, label, origin)
        else:
            self.gates[name] = Gate(name, _CONNECTIVES[tag], tuple(args), None, label, origin)

    def _cardinality(self, name: str, args: list[str], lo: int, hi: int, label: str, origin: Origin) -> None:
        # min <= count <= max  ==  atleast(min) and not atleast(max + 1)
        parts: list[str] = []
        if lo > 0:
            parts.append(f"{name}-min")
            self.gates[parts[-1]] = Gate(parts[-1], GateKind.ATLEAST, tuple(args), lo, "", origin)
        if hi < len(args):
            over = f"{name}-over"
            self.gates[over] = Gate(over, GateKind.ATLEAST, tuple(args), hi + 1, "", origin)
            parts.append(f"{name}-max")
            self.gates[parts[-1]] = Gate(parts[-1], GateKind.NOT, (over,), None, "", origin)
        if not parts:  # 0 <= count <= n is always true
            const = f"{name}-true"
            self.house[const] = HouseEvent(const, True, "", origin)
            parts.append(const)
        self.gates[name] = Gate(name, GateKind.AND, tuple(parts), None, label, origin)

    def _int_attr(self, el: Element, attr: str, gate: str) -> int | None:
        raw = el.get(attr)
        if raw is not None:  # a missing attribute is the same error: None here means "reported", not "absent"
            try:
                return int(raw)
            except ValueError:
                pass
        self.m.error(el, f"<{el.tag}> in gate '{gate}' needs an integer '{attr}' attribute")
        return None

    def _arg(self, gate: str, el: Element, i: int) -> str | None:
        tag = el.tag
        if tag in _CONNECTIVES or tag in _DERIVED:
            nested = f"{gate}-{i}"
            self._formula(nested, el, "", el)
            return nested if nested in self.gates else None
        if tag == "constant":
            value = el.get("value")
            if value not in ("true", "false"):
                self.m.error(el, "<constant> needs value=\"true\" or \"false\"")
                return None
            const = f"{gate}-{i}"
            self.house[const] = HouseEvent(const, value == "true", "", _origin(el, "constant"))
            return const
        if tag not in _REFS:
            self.m.error(el, f"unexpected <{tag}> in gate '{gate}'")
            return None
        ref = el.get("name")
        if not ref:
            self.m.error(el, f"<{tag}> in gate '{gate}' has no name")
            return None
        m = self.m
        tables = self.tables
        kind = el.get("type", "") if tag == "event" else tag
        candidates = [tables[kind]] if kind in tables else list(tables.values())
        for table in candidates:
            found = self._lookup(table, ref)
            if found is not None:
                return found
        what = kind.replace("-", " ") if kind in tables else "event"
        defined_elsewhere = [k for k, t in tables.items() if self._lookup(t, ref) is not None]
        hint = f"'{ref}' is defined as a {defined_elsewhere[0].replace('-', ' ')}" if defined_elsewhere else ""
        m.error(el, f"undefined {what} '{ref}' in gate '{gate}'", hint)
        return None

    def _lookup(self, table: dict[str, _Def], ref: str) -> str | None:
        # Private names of the referencing gate's container and its ancestors first, then public names.
        scope = self.scope
        if (not scope or self.dotless) and ref in table:
            return ref
        while scope:
            if f"{scope}.{ref}" in table:
                return f"{scope}.{ref}"
            scope = scope.rpartition(".")[0]
        if ref in table:
            return ref
        # Path-qualified references ("FaultTree.Gate") to public names.
        if "." in ref:
            short = ref.rsplit(".", 1)[1]
            if short in table:
                return short
        return None

    def _check_cycles(self) -> None:
        # Depth-first with a stack of input iterators (no recursion, one frame per gate on the path).
        white, grey, black = 0, 1, 2
        gates = self.gates
        color = dict.fromkeys(gates, white)
        for start in sorted(gates):
            if color[start] != white:
                continue
            color[start] = grey
            path = [start]
            inputs = [iter(gates[start].inputs)]
            while inputs:
                for child in inputs[-1]:
                    c = color.get(child)  # None: an event
                    if c == white:
                        color[child] = grey
                        path.append(child)
                        inputs.append(iter(gates[child].inputs))
                        break
                    if c == grey:
                        cycle = path[path.index(child) :] + [child]
                        d = self.m.gates.get(child.split("-")[0])
                        loc = d.el.loc if d else Location("")
                        self.m.error(loc, "cyclic gates: " + " -> ".join(cycle))
                        return
                else:
                    inputs.pop()
                    color[path.pop()] = black

    def _tree(self, top: str) -> FaultTree:
        gates: dict[str, Gate] = {}
        basic: dict[str, BasicEvent] = {}
        house: dict[str, HouseEvent] = {}
        stack = [top]
        while stack:
            name = stack.pop()
            if name in gates or name in basic or name in house:
                continue
            if name in self.gates:
                gates[name] = self.gates[name]
                stack.extend(gates[name].inputs)
            elif name in self.basic:
                basic[name] = self.basic[name]
            else:
                house[name] = self.house[name]
        g = self.gates[top]
        tree = FaultTree(
            name=top,
            top=top,
            gates=dict(sorted(gates.items())),
            basic_events=dict(sorted(basic.items())),
            house_events=dict(sorted(house.items())),
            label=g.label,
            mission_time=self.mission_time,
            parameters={n: (self.uncertain_parameters[n], "") for n in sorted(self.uncertain_parameters)}
            if any(e.expression is not None for e in basic.values()) else {},
        )
        if not any(self.m.basic[n].ccf_group for n in basic if n in self.m.basic):
            return tree
        # Groups were validated and members are unique basic events, so expand raises nothing here.
        from safetyops_dsl.fta import ccf

        tree = ccf.expand(tree, [self.groups[k] for k in sorted(self.groups)])
        return replace(tree, gates=dict(sorted(tree.gates.items())), basic_events=dict(sorted(tree.basic_events.items())))
