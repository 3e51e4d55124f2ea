"""Fault-tree synthesis from failure logic (the HiP-HOPS idea): one tree per hazard.

Start at the hazard's condition over system output deviations, walk back through connections and each
component's output-deviation logic, down to the failure modes of component instances (basic events).

- Every output deviation of an instance becomes one gate named `<instance path>.<port>.<deviation>`; a
  deviation reached from several places is one shared gate (the tree is a DAG).
- Input deviations are not gates of their own: they alias the output deviation that drives them.
- A deviation at a system input is an undeveloped event (the model does not say what causes it).
- A loop (feedback path) is cut where it closes: a deviation already on the current path adds nothing.
  Gates whose value depended on such a cut are built again in each context, so sharing never carries a
  cut from one path into another; each cut is listed in the tree's notes.
- A failure mode's probability is 1 - exp(-lambda * t), lambda being the rate left after its safe fraction
  and after the diagnostic coverage of the mechanisms that cover it, t its exposure or the mission time.
- Common-cause (CCF) groups of the instances are applied last (fta/ccf.py): each member failure mode becomes
  an OR of its independent part and the common-cause events it shares. The result keeps both trees: `tree`
  (with the CCF events: what the probabilities, cut sets and diagrams report) and `structure` (failure modes
  as the basic events: what the FMEA, FMEDA and trace link to failure modes).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.fta import ccf
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
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.instances import Instance
from safetyops_dsl.model.propagation import BoundaryCause, Cause, DevNode, NodeCause, Propagation, RuleCause
from safetyops_dsl.model.semantics import (
    at_risk_hours,
    ccf_group,
    hazard_mission_time,
    hazard_system,
    resolve_condition_ref,
)

FALSE = "__false__"  # marker for "cannot occur"; never a node name in a finished tree


@dataclass(frozen=True)
class EventFacts:
    """How a basic event's probability was derived, for reports (FMEA, diagrams, hover)."""

    rate_per_hour: float | None  # the modelled rate
    residual_rate_per_hour: float | None  # after safe fraction and coverage
    exposure_hours: float
    coverage: float  # combined diagnostic coverage 0..1
    mechanisms: tuple[str, ...]


_MEF_UNITS = {-1: "hours-1", 1: "hours"}


def deviate(u: el.Uncertainty, mean: float) -> MefExpr:
    """The MEF random deviate of an `uncertainty` around `mean` (the written value); its parameters were
    checked (validation: SOPS166)."""
    def num(x: float) -> MefExpr:
        return MefExpr("float", x)

    if u.kind == "lognormal":
        return MefExpr("lognormal-deviate", args=(num(mean), num(u.a), num(0.95)))
    if u.kind == "gamma":
        return MefExpr("gamma-deviate", args=(num(u.a), num(mean / u.a if u.a else 0.0)))
    if u.kind == "beta":
        return MefExpr("beta-deviate", args=(num(u.a), num(u.a * (1.0 - mean) / mean if mean else 0.0)))
    if u.kind == "uniform":
        return MefExpr("uniform-deviate", args=(num(u.a), num(u.b)))
    if u.kind == "histogram":  # MEF: the lower boundary, then per bin its upper boundary and weight
        return MefExpr("histogram", args=(num(u.a), *(MefExpr("bin", args=(num(e), num(w)))
                                                        for e, w in zip(u.edges, u.weights, strict=True))))
    return MefExpr("normal-deviate", args=(num(mean), num(u.a)))


def event_timing(fm: el.FailureMode, residual: float, from_mission_start: bool) -> Timing | None:
    """How the event's unavailability evolves over the mission (None: constant). A failure exposed for its own
    time (`exposure 120 h`, `20 x mission`) or quantified as rate x time is held at its value."""
    pt = fm.proof_test
    if pt is not None:
        repair = 1.0 / fm.mttr_hours if fm.mttr_hours else 0.0
        return Timing("periodic-test", rate=residual, interval=pt.interval_hours, first=pt.first_hours,
                      repair_rate=repair, coverage=pt.coverage, test_duration=pt.duration_hours)
    if from_mission_start:
        return Timing("exponential", rate=residual)
    return None


def event_exposure(fm: el.FailureMode, mission_time: float, per_mission: float | None = None) -> float:
    """The time a failure mode is exposed in a tree: its own exposure, a multiple of the mission
    (`exposure 20 x mission`: of `per_mission`, the whole flight where the tree's mission time is a failure
    condition's at-risk time, else the tree's mission time), or the tree's mission time."""
    if fm.exposure_hours is not None:
        return fm.exposure_hours
    if fm.exposure_missions is not None:
        return fm.exposure_missions * (per_mission if per_mission is not None else mission_time)
    return mission_time


@dataclass
class _Builder:
    model: Model
    prop: Propagation
    hazard: el.Hazard
    mission_time: float  # the exposure of the tree's events: the mission, or an ARP4761A at-risk time
    gates: dict[str, Gate] = field(default_factory=dict)
    events: dict[str, BasicEvent] = field(default_factory=dict)
    facts: dict[str, EventFacts] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    modes: dict[str, str] = field(default_factory=dict)  # basic event -> "Component.mode" it instantiates
    # Open-PSA parameters the events' expressions name: MEF name -> (expression, unit)
    parameters: dict[str, tuple[MefExpr, str]] = field(default_factory=dict)
    _owner: dict[int, str] = field(default_factory=dict)  # id(failure mode) -> its component's qualified name
    _memo: dict[DevNode, str] = field(default_factory=dict)
    _on_path: set[DevNode] = field(default_factory=set)
    _counter: dict[str, int] = field(default_factory=dict)
    per_mission: float | None = None  # the whole mission, where mission_time is an at-risk time within it

    def origin(self, loc: Location | None, element: str) -> Origin | None:
        if loc is None:
            return None
        return Origin(self.model.rel_path(loc.file), loc.line, loc.col, element)

    # -- basic events ------------------------------------------------------------------------------------------
    def failure_event(self, inst: Instance, fm: el.FailureMode) -> str:
        name = f"{inst.path}.{fm.name}"
        if name in self.events:
            return name
        self._owner[id(fm)] = inst.component.qualified_name
        exposure = event_exposure(fm, self.mission_time, self.per_mission)
        mechanisms = inst.component.covering(fm.name)
        uncovered = 1.0
        for m in mechanisms:
            uncovered *= 1.0 - m.coverage
        coverage = 1.0 - uncovered
        share = (1.0 - (fm.safe_fraction or 0.0)) * uncovered
        timing: Timing | None = None
        expression: MefExpr | None = None
        if fm.rate_per_hour is not None:
            residual = fm.rate_per_hour * (1.0 - (fm.safe_fraction or 0.0)) * uncovered
            p = -math.expm1(-residual * exposure) if fm.distribution == "exponential" else residual * exposure
            rate: float | None = fm.rate_per_hour
            timing = event_timing(fm, residual, exposure == self.mission_time and fm.distribution == "exponential")
            if timing is not None and timing.kind == "periodic-test":
                p = timing.q(self.mission_time)
            expression = self.rate_expression(fm, residual, share, exposure, timing, inst.component.package)
        else:
            residual = None
            p = (fm.probability or 0.0) * (1.0 - (fm.safe_fraction or 0.0)) * uncovered
            rate = None
            if fm.uncertainty is not None or (fm.quantity_expr is not None and el.qexpr_uses(fm.quantity_expr)):
                expression = self.quantity_mef(fm, self.package_of(inst))
                if share != 1.0:
                    expression = MefExpr("mul", args=(expression, MefExpr("float", share)))
        label = fm.description or fm.name
        if mechanisms:
            label += " (residual after " + ", ".join(
                f"{m.name} {m.coverage * 100:g} %" for m in mechanisms
            ) + ")"
        self.events[name] = BasicEvent(
            name=name,
            probability=min(max(p, 0.0), 1.0),
            label=label,
            origin=self.origin(fm.location, name),
            rate_per_hour=residual,
            timing=timing,
            expression=expression,
        )
        self.modes[name] = f"{inst.component.name}.{fm.name}"
        self.facts[name] = EventFacts(rate, residual, exposure, coverage, tuple(m.name for m in mechanisms))
        return name

    # -- Open-PSA expressions of events that use parameters or proof tests ---------------------------------------
    def package_of(self, inst: Instance) -> str:
        return inst.component.package

    def mef(self, e: el.QExpr, package: str) -> MefExpr:
        """The expression in Open-PSA terms; the parameters it names join the tree's `define-parameter`s."""
        if isinstance(e, el.Num):
            return MefExpr("float", e.value)
        if isinstance(e, el.ParamUse):
            found = self.model.lookup(e.name, ("parameter",), package)
            if found is None:
                return MefExpr("float", 0.0)  # reported by the model's assembly
            qname = found[1]
            mef_name = qname.replace(".", "_")
            if mef_name not in self.parameters:
                p = self.model.parameters[qname]
                value = self.model.parameter_values.get(qname, (0.0, 0))
                self.parameters[mef_name] = (MefExpr("float", 0.0), "")  # a cycle was reported; stop here
                body = (deviate(p.uncertainty, value[0]) if p.uncertainty is not None
                        else self.mef(p.expr, p.package))
                self.parameters[mef_name] = (body, _MEF_UNITS.get(value[1], ""))
            return MefExpr("parameter", name=mef_name)
        tag = {"+": "add", "-": "sub", "*": "mul", "/": "div"}[e.op]
        return MefExpr(tag, args=(self.mef(e.left, package), self.mef(e.right, package)))

    def quantity_mef(self, fm: el.FailureMode, package: str) -> MefExpr:
        """The failure mode's rate or probability in MEF terms: its expression over parameters, or, where it is
        uncertain, a parameter of its own (one per failure mode of a component type, so that every instance
        and CCF event samples the same value in a Monte Carlo trial)."""
        if fm.uncertainty is None:
            assert fm.quantity_expr is not None
            return self.mef(fm.quantity_expr, package)
        value = (fm.rate_per_hour if fm.is_rate else fm.probability) or 0.0
        name = f"{self.modes_owner(fm)}_{fm.name}".replace(".", "_")
        self.parameters[name] = (deviate(fm.uncertainty, value), "hours-1" if fm.is_rate else "")
        return MefExpr("parameter", name=name)

    def modes_owner(self, fm: el.FailureMode) -> str:
        return self._owner.get(id(fm), "mode")

    def rate_expression(self, fm: el.FailureMode, residual: float, share: float, exposure: float,
                        timing: Timing | None, package: str) -> MefExpr | None:
        """The MEF expression of a rate-based event, where the model says more than a number: a rate over
        parameters, a proof test or a repair (plain rates keep the plain `<float>` the export always wrote)."""
        uses = fm.quantity_expr is not None and bool(el.qexpr_uses(fm.quantity_expr))
        tested = timing is not None and timing.kind == "periodic-test"
        if not uses and not tested and fm.uncertainty is None:
            return None
        if tested and fm.proof_test is not None and fm.proof_test.duration_hours > 0.0:
            return None  # a test that takes time: MEF's 11-argument periodic-test, which the reader lacks
        if fm.uncertainty is not None or (uses and fm.quantity_expr is not None):
            lam = self.quantity_mef(fm, package)
            if share != 1.0:
                lam = MefExpr("mul", args=(lam, MefExpr("float", share)))
        else:
            lam = MefExpr("float", residual)
        horizon = MefExpr("float", self.mission_time)
        if not tested or timing is None:
            if fm.distribution != "exponential":
                return MefExpr("mul", args=(lam, MefExpr("float", exposure)))
            return MefExpr("exponential", args=(lam, MefExpr("float", exposure)))
        if uncertain(lam, {n: e for n, (e, _unit) in self.parameters.items()}):
            # SCRAM checks periodic-test's rate over the whole sample domain of its deviates and refuses one
            # that reaches 0 (a lognormal's does): a floor far below any sample keeps every value as it is
            lam = MefExpr("max", args=(lam, MefExpr("float", 1e-300)))
        revealed = lam if timing.coverage == 1.0 else MefExpr("mul", args=(lam, MefExpr("float", timing.coverage)))
        args = [revealed]
        if timing.repair_rate > 0.0:
            args.append(MefExpr("float", timing.repair_rate))
        args += [MefExpr("float", timing.interval), MefExpr("float", timing.first), horizon]
        periodic = MefExpr("periodic-test", args=tuple(args))
        if timing.coverage == 1.0:
            return periodic
        one = MefExpr("float", 1.0)
        hidden = MefExpr("exponential", args=(
            MefExpr("mul", args=(lam, MefExpr("float", 1.0 - timing.coverage))), horizon))
        return MefExpr("sub", args=(one, MefExpr("mul", args=(
            MefExpr("sub", args=(one, periodic)), MefExpr("sub", args=(one, hidden))))))

    def boundary_event(self, cause: BoundaryCause) -> str:
        name = f"{cause.system}.{cause.port}.{cause.deviation}"
        system = self.prop.instances[cause.system].component
        assumed = system.assumption(cause.port, cause.deviation)
        if assumed is not None and assumed.outside:
            note = (f"{name} comes from outside the model (system input '{cause.port}') and is outside the analysis"
                    + (f": {assumed.description}" if assumed.description else ""))
            if note not in self.notes:
                self.notes.append(note)
            return FALSE
        if assumed is not None and name not in self.events:
            self.events[name] = BasicEvent(
                name=name,
                probability=min(max(assumed.probability or 0.0, 0.0), 1.0),
                label=assumed.description or f"{cause.deviation} at system input '{cause.port}' (assumed)",
                origin=self.origin(assumed.location, name),
                undeveloped=True,
            )
        if name not in self.events:
            self.notes.append(
                f"{name} comes from outside the model (system input '{cause.port}'): undeveloped, probability 0"
            )
            self.events[name] = BasicEvent(
                name=name,
                probability=0.0,
                label=f"{cause.deviation} at system input '{cause.port}' (not developed in the model)",
                origin=self.origin(cause.location, name),
                undeveloped=True,
            )
        return name

    # -- gates --------------------------------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        n = self._counter.get(base, 0) + 1
        self._counter[base] = n
        return f"{base}#{n}"

    def combine(self, name: str, kind: GateKind, inputs: list[str], label: str, loc: Location | None,
                element: str, k: int | None = None) -> str:
        """Make a gate, simplifying constants: FALSE inputs drop out of OR, make AND false."""
        if kind is GateKind.AND and FALSE in inputs:
            return FALSE
        if kind is GateKind.ATLEAST:
            assert k is not None
            counted = [i for i in inputs if i != FALSE]
            if len(set(counted)) < len(counted) and k <= len(counted):
                # One cause feeding two operands counts twice (a sensor wired to two voter inputs defeats a
                # 2-of-3 vote alone). An Open-PSA atleast gate takes distinct inputs, so expand into the OR
                # of the AND of every k operand positions; repeated names collapse inside each AND.
                terms = []
                for combo in itertools.combinations(range(len(counted)), k):
                    members = sorted({counted[j] for j in combo}, key=counted.index)
                    terms.append(
                        members[0] if len(members) == 1
                        else self.combine(f"{name.rstrip('#')}/and#", GateKind.AND, members, "", loc, element)
                    )
                return self.combine(name, GateKind.OR, terms, label, loc, element)
        live = sorted(set(i for i in inputs if i != FALSE), key=inputs.index)
        if kind is GateKind.ATLEAST:
            assert k is not None
            if k > len(live):
                return FALSE
            if k == len(live):
                kind, k = GateKind.AND, None
            elif k == 1:
                kind, k = GateKind.OR, None
        if not live:
            return FALSE
        if len(live) == 1 and kind in (GateKind.AND, GateKind.OR, GateKind.NULL):
            if name.endswith("#"):  # an anonymous sub-expression: no gate needed for one input
                return live[0]
            kind = GateKind.NULL
        if name.endswith("#"):
            name = self.fresh(name[:-1])
        self.gates[name] = Gate(name, kind, tuple(live), k, label, self.origin(loc, element))
        return name

    def expr(
        self, e: el.Expr, inst: Instance, owner: str, path: tuple[DevNode, ...], name: str | None = None,
        label: str = "", loc: Location | None = None,
    ) -> tuple[str, bool]:
        """Returns (node name or FALSE, whether a loop was cut below). `name`, where given, names the gate of
        the expression's top operator (so a rule's gate carries its output deviation's name)."""
        if isinstance(e, el.Ref):
            port, dot, dev = e.path.partition(".")
            if not dot:
                fm = inst.component.failure_mode(e.path)
                if fm is None:
                    return FALSE, False  # validation reported it
                return self.failure_event(inst, fm), False
            return self.node(DevNode("in", inst.path, port, dev), path, e.location)
        results = [self.expr(op, inst, owner, path) for op in e.operands]
        names = [r[0] for r in results]
        cut = any(r[1] for r in results)
        gate_loc = loc or e.location
        if not label:  # an anonymous sub-expression: say what it is in the model's words
            label = f"{inst.component.name}: {el.expr_text(e)}"
        if isinstance(e, el.And):
            return self.combine(name or f"{owner}/and#", GateKind.AND, names, label, gate_loc, owner), cut
        if isinstance(e, el.Or):
            return self.combine(name or f"{owner}/or#", GateKind.OR, names, label, gate_loc, owner), cut
        return (
            self.combine(name or f"{owner}/{e.k}of{len(e.operands)}#", GateKind.ATLEAST, names, label, gate_loc,
                         owner, e.k),
            cut,
        )

    def node(self, node: DevNode, path: tuple[DevNode, ...], loc: Location | None) -> tuple[str, bool]:
        # `path` is the chain of node() calls under way; `_on_path` holds the same nodes for an O(1) test
        # (a chain of thousands of stages made the tuple scan quadratic)
        if node in self._on_path:
            loop = [str(n) for n in path[path.index(node):] if n.direction == "out"]
            note = "feedback loop cut at " + str(node) + (": " + " -> ".join(loop + [loop[0]]) if loop else "")
            if note not in self.notes:
                self.notes.append(note)
            return FALSE, True
        if node in self._memo:
            return self._memo[node], False
        causes = self.prop.causes(node)
        inner = path + (node,)
        self._on_path.add(node)
        try:
            result, cut = self._build_node(node, causes, inner, loc)
        finally:
            self._on_path.discard(node)
        if not cut:
            self._memo[node] = result
        return result, cut

    def _build_node(
        self, node: DevNode, causes: list[Cause], inner: tuple[DevNode, ...], loc: Location | None
    ) -> tuple[str, bool]:
        # An input deviation, or an output that only passes another deviation on (delegation, propagate),
        # is no gate of its own: it aliases its cause.
        if len(causes) == 1 and not isinstance(causes[0], RuleCause):
            only = causes[0]
            if isinstance(only, BoundaryCause):
                return self.boundary_event(only), False
            return self.node(only.node, inner, only.location)
        inst = self.prop.instances[node.instance]
        if node.direction == "out":
            port = inst.component.port(node.port)
            label = f"{node.deviation} of {inst.component.name} output '{node.port}'"
            gate_loc = port.location if port else loc
        else:
            label, gate_loc = "", loc
        element = str(node)
        gate_name = str(node)
        if gate_name in self.gates:  # built before in another loop context
            gate_name = self.fresh(gate_name)
        if len(causes) == 1:
            rule_cause = causes[0]
            assert isinstance(rule_cause, RuleCause)
            owner = f"{rule_cause.instance}.{rule_cause.rule.port}.{rule_cause.rule.deviation}"
            name, cut = self.expr(rule_cause.rule.expr, inst, owner, inner, gate_name, label, gate_loc)
            if name not in (FALSE, gate_name):  # a single failure mode or alias: keep the named gate
                name = self.combine(gate_name, GateKind.NULL, [name], label, gate_loc, element)
            return name, cut
        names: list[str] = []
        cut = False
        for cause in causes:
            if isinstance(cause, RuleCause):
                rinst = self.prop.instances[cause.instance]
                owner = f"{rinst.path}.{cause.rule.port}.{cause.rule.deviation}"
                name, c = self.expr(cause.rule.expr, rinst, owner, inner)
            elif isinstance(cause, NodeCause):
                name, c = self.node(cause.node, inner, cause.location)
            else:
                name, c = self.boundary_event(cause), False
            names.append(name)
            cut = cut or c
        return self.combine(gate_name, GateKind.OR, names, label, gate_loc, element), cut


def mission_time_for(model: Model, hazard: el.Hazard, system: el.Component, override: float | None) -> float:
    return override if override is not None else hazard_mission_time(model, hazard, system)


@dataclass(frozen=True)
class SynthesisResult:
    tree: FaultTree  # with common-cause events where the model has CCF groups
    hazard: el.Hazard
    system: el.Component
    facts: dict[str, EventFacts]
    structure: FaultTree  # the failure modes as basic events (== tree without CCF groups)
    modes: dict[str, str] = field(default_factory=dict)  # basic event of `structure` -> "Component.mode"
    ccf_groups: tuple[ccf.CcfGroup, ...] = ()  # the groups `tree` expanded


def _ccf_groups(
    root: Instance, tree: FaultTree, origin: Callable[[Location | None, str], Origin | None]
) -> list[ccf.CcfGroup]:
    """The CCF groups of every instance whose members the tree uses, as the engine takes them (a group that
    cannot be quantified was reported by validation and is left out)."""

    out: list[ccf.CcfGroup] = []
    owned: set[str] = set()
    for inst in root.walk():
        for group in inst.component.common_causes:
            members = [f"{inst.path}.{m.text}" for m in group.members]
            used = [tree.basic_events[m] for m in members if m in tree.basic_events]
            if not used or owned.intersection(members):  # the overlap was reported by validation
                continue
            engine_group = dataclasses.replace(
                ccf_group(group, members, used[0].probability), name=f"{inst.path}.{group.name}",
                origin=origin(group.location, f"{inst.path}.{group.name}"))
            try:
                ccf.validate(engine_group)
            except ccf.CcfError:
                continue
            owned.update(members)
            out.append(engine_group)
    return out


def synthesise(model: Model, hazard: el.Hazard, mission_time: float | None = None) -> SynthesisResult | None:
    """The fault tree of one hazard, or None where the hazard has no condition or no system (validation
    reports why)."""

    if hazard.condition is None:
        return None
    system = hazard_system(model, hazard)
    if isinstance(system, Diagnostic):
        return None
    root = model.instances(system)
    # The walk back recurses about 8 frames per port it passes: a signal chain of a few hundred stages would
    # exceed Python's default limit of 1000. Python-to-Python calls use no C stack (3.11), so a limit sized
    # by the ports of the instance tree is safe.
    ports = sum(len(inst.component.ports) for inst in root.walk())
    if sys.getrecursionlimit() < 12 * ports + 1000:
        sys.setrecursionlimit(12 * ports + 1000)
    t = mission_time_for(model, hazard, system, mission_time)
    # ARP4761A: a failure condition of some flight phases is exposed for their at-risk time, not the flight
    # (AMC 25.1309 11e); its probability per flight hour still divides by the flight time (profile_report)
    at_risk = at_risk_hours(model, hazard) if mission_time is None else None
    b = _Builder(model, Propagation(model, root), hazard, at_risk if at_risk is not None else t)
    b.per_mission = t if at_risk is not None else None
    if at_risk is not None:
        b.notes.append(f"exposure: the at-risk time of phases {', '.join(hazard.phases)}, {at_risk:g} h of the "
                       f"{t:g} h flight")
    t = at_risk if at_risk is not None else t

    title = hazard.title or hazard.name
    origin_loc = hazard.location

    def top_expr(e: el.Expr, name: str | None = None) -> str:
        if isinstance(e, el.Ref):
            res = resolve_condition_ref(model, root, e)
            if isinstance(res, Diagnostic):
                return FALSE
            inst, port, dev = res
            return b.node(DevNode("out", inst.path, port, dev), (), e.location)[0]
        names = [top_expr(op) for op in e.operands]
        owner = hazard.name
        label = title if name else ""
        if isinstance(e, el.And):
            return b.combine(name or f"{owner}/and#", GateKind.AND, names, label, origin_loc, owner)
        if isinstance(e, el.Or):
            return b.combine(name or f"{owner}/or#", GateKind.OR, names, label, origin_loc, owner)
        return b.combine(name or f"{owner}/{e.k}of{len(e.operands)}#", GateKind.ATLEAST, names, label,
                         origin_loc, owner, e.k)

    # The hazard is the top gate: its condition's operator where the condition combines several
    # deviations, a pass-through to the one deviation otherwise.
    top_input = top_expr(hazard.condition, hazard.name)
    house: dict[str, HouseEvent] = {}
    origin = b.origin(hazard.location, hazard.name)
    if top_input == FALSE:
        house["NEVER"] = HouseEvent("NEVER", False, "the failure logic gives no way for this hazard to occur")
        b.notes.append("no failure in the model leads to this hazard: the top event cannot occur")
        top_input = "NEVER"
    if top_input != hazard.name:
        b.gates[hazard.name] = Gate(hazard.name, GateKind.NULL, (top_input,), None, title, origin)
    structure = FaultTree(
        name=hazard.name,
        top=hazard.name,
        gates=dict(sorted(b.gates.items())),
        basic_events=dict(sorted(b.events.items())),
        house_events=house,
        label=title,
        notes=tuple(b.notes),
        mission_time=t,
        parameters=dict(sorted(b.parameters.items())),
    )
    groups = _ccf_groups(root, structure, b.origin)
    assumed = independence_notes(structure, {m for g in groups for m in g.members}, b.modes)
    if assumed:
        structure = dataclasses.replace(structure, notes=structure.notes + tuple(assumed))
    tree = ccf.expand(structure, groups)
    return SynthesisResult(tree, hazard, system, b.facts, structure, dict(b.modes), tuple(groups))


INDEPENDENCE_CHECK_BUDGET = 4_000_000


class _TooLarge(Exception):
    pass


def independence_notes(tree: FaultTree, grouped: set[str], modes: dict[str, str]) -> list[str]:
    """Where the same failure mode of two instances of one component type meets under an AND or k-of-n gate
    and no CCF group covers them, the redundancy is assumed free of common causes: say so (ISO 26262-9's
    dependent-failure analysis has to confirm it, or the model should declare a `ccf` group)."""
    kind = {n: m for n, m in modes.items() if n in tree.basic_events and n not in grouped}
    shared = {k for k, c in Counter(kind.values()).items() if c >= 2}
    kind = {n: k for n, k in kind.items() if k in shared}  # only modes with two instances can meet
    if not kind:
        return []
    support: dict[str, frozenset[str]] = {}
    held = 0  # events held in all support sets: long chains of one component type grow quadratically

    def events_under(name: str) -> frozenset[str]:
        nonlocal held
        stack = [(name, False)]
        while stack:  # iterative post-order: deep trees must not hit the recursion limit
            n, expanded = stack.pop()
            if n in support:
                continue
            g = tree.gates.get(n)
            if g is None:
                support[n] = frozenset({n}) if n in kind else frozenset()
            elif expanded:
                support[n] = frozenset().union(*(support[i] for i in g.inputs))
                held += len(support[n])
                if held > INDEPENDENCE_CHECK_BUDGET:
                    raise _TooLarge
            else:
                stack.append((n, True))
                stack.extend((i, False) for i in g.inputs if i not in support)
        return support[name]

    notes: dict[frozenset[str], str] = {}
    for name, gate in sorted(tree.gates.items()):
        if gate.kind not in (GateKind.AND, GateKind.ATLEAST):
            continue
        where: dict[str, dict[str, int]] = {}  # component.mode -> event -> first input holding it
        for i, child in enumerate(gate.inputs):
            try:
                under = events_under(child)
            except _TooLarge:
                return [f"independence of redundant elements not checked: the tree holds more than "
                        f"{INDEPENDENCE_CHECK_BUDGET:,} (event, gate) pairs of repeated failure modes"]
            for e in under:
                where.setdefault(kind[e], {}).setdefault(e, i)
        for mode, events in sorted(where.items()):
            if len(set(events.values())) < 2:
                continue
            key = frozenset(events)
            if key not in notes:
                names = sorted(events)
                shown = ", ".join(names) if len(names) <= 6 else ", ".join(names[:5]) + f" and {len(names) - 5} more"
                notes[key] = (f"independence assumed: {shown} ({mode}) meet at gate {name} "
                              "and no ccf group covers them; a common cause would defeat this redundancy")
    # a set that contains a noted one says nothing new (two redundant pairs ANDed: two notes, not three)
    minimal = [k for k in notes if not any(other < k for other in notes)]
    return [notes[k] for k in sorted(minimal, key=lambda k: sorted(k))]


def synthesise_all(model: Model, mission_time: float | None = None) -> list[SynthesisResult]:
    out = []
    for _, hz in sorted(model.hazards.items()):
        r = synthesise(model, hz, mission_time)
        if r is not None:
            out.append(r)
    return out
