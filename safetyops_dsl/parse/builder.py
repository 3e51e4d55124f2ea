"""Build one file's semantic elements from its textX model. Checks that need only this file's text
(number ranges, units) happen here and become diagnostics; cross-file checks live in validation/."""

from __future__ import annotations

import bisect
import dataclasses
import re
from typing import Any

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.diagnostics import make_location as _location
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.parameters import evaluate_quantity

_bisect_right = bisect.bisect_right
_TIME_UNIT_HOURS = {"ms": 1 / 3_600_000, "s": 1 / 3600, "min": 1 / 60, "h": 1.0, "d": 24.0, "y": 8760.0}
_CLASS_RANGES = {"severity": ("S", 3), "exposure": ("E", 4), "controllability": ("C", 3)}
# grammar rule -> the keyword a model author wrote (what a diagnostic names)
_ATTR_KEYWORD = {
    "Severity": "severity", "ExposureClass": "exposure", "Controllability": "controllability", "AsilAttr": "asil",
    "Lopa": "lopa", "HazardProbability": "probability", "Residual": "residual", "FlightPhase": "phase",
    "AircraftFunction": "function", "Demand": "demand", "SilAttr": "sil", "Target": "target",
    "Situation": "situation", "When": "when", "SystemRef": "system", "MissionTime": "mission_time",
    "SafeState": "safe_state", "Ftti": "ftti", "Acceptance": "acceptance", "RiskGraphClasses": "risk_graph",
}
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class FileBuilder:
    def __init__(self, text: str, display_path: str, rel_path: str, package_default: str):
        self.path = display_path
        self.rel_path = rel_path
        self._text = text
        self.package_default = package_default
        self._line_starts = [0]
        self._line_starts.extend(m.end() for m in re.finditer("\n", text))
        self.diagnostics: list[Diagnostic] = []

    # -- helpers ----------------------------------------------------------------------------------------------
    def _span(self, start: int, end: int) -> Location:
        # line and column of both ends written out (no helper call), the end searched from the start's line on:
        # a large model has a quarter of a million locations, and those calls were a third of their cost
        starts = self._line_starts
        line = _bisect_right(starts, start)
        col = start - starts[line - 1] + 1
        if end <= start:
            return _location(self.path, line, col, 0, 0)
        end_line = _bisect_right(starts, end, line - 1)
        return _location(self.path, line, col, end_line, end - starts[end_line - 1] + 1)

    def loc(self, obj: Any) -> Location:
        """The span textX matched for `obj`: from its first to after its last character (trailing blanks and
        comments excluded)."""
        # _span written out: a quarter of a million calls at 10,000 component types
        start = getattr(obj, "_tx_position", 0)
        end = getattr(obj, "_tx_position_end", start)
        starts = self._line_starts
        line = _bisect_right(starts, start)
        col = start - starts[line - 1] + 1
        if end <= start:
            return _location(self.path, line, col, 0, 0)
        end_line = _bisect_right(starts, end, line - 1)
        return _location(self.path, line, col, end_line, end - starts[end_line - 1] + 1)

    def _string_loc(self, obj: Any) -> Location:
        """Span of the first string literal of `obj` (textX keeps no position for plain attributes)."""
        start = getattr(obj, "_tx_position", 0)
        end = getattr(obj, "_tx_position_end", start)
        quote = self._text.find('"', start, max(end, start + 1))
        if quote < 0:
            return self.loc(obj)
        close = quote + 1
        while close < end and self._text[close] != '"':
            close += 2 if self._text[close] == "\\" else 1
        return self._span(quote, min(close + 1, end))

    def error(self, code: str, message: str, location: Location, hint: str = "") -> None:
        self.diagnostics.append(dg.make(code, message, location, hint))

    def ref(self, obj: Any) -> el.NameRef:
        return el.NameRef(obj.name, self.loc(obj))

    def refs(self, objs: Any) -> tuple[el.NameRef, ...]:
        return tuple(self.ref(o) for o in objs)

    def number(self, text: str) -> float:
        return float(text)

    def hours(self, duration: Any) -> float:
        value = self.number(duration.value) * _TIME_UNIT_HOURS[duration.unit]
        if value <= 0:
            self.error(dg.BAD_VALUE, f"a duration must be positive, got {duration.value} {duration.unit}",
                       self.loc(duration))
        return value

    def percent(self, text: str, what: str, obj: Any) -> float:
        value = self.number(text)
        if not 0.0 <= value <= 100.0:
            code = dg.BAD_COVERAGE if "coverage" in what else dg.BAD_VALUE
            self.error(code, f"{what} {text} % is outside 0..100 %", self.loc(obj))
        return min(max(value, 0.0), 100.0) / 100.0

    # -- file ---------------------------------------------------------------------------------------------------
    def build(self, tx: Any) -> el.SourceFile:
        package = tx.package or self.package_default
        imports = tuple(el.Import(i.path, "", self._string_loc(i)) for i in tx.imports)
        mission: float | None = None
        mission_loc: Location | None = None
        standard: el.StandardDecl | None = None
        matrix: el.RiskMatrix | None = None
        graph: el.RiskGraph | None = None
        dal: el.DalReduction | None = None
        ffs: list[el.Ffs] = []
        phases: list[el.FlightPhaseDef] = []
        buckets: dict[str, list[Any]] = {k: [] for k in ("par", "dev", "comp", "haz", "goal", "req", "ev", "arg", "pol")}
        order: list[tuple[str, str]] = []
        for e in tx.elements:
            kind = type(e).__name__
            if kind == "MissionTime":
                mission = self.hours(e.time)
                mission_loc = self.loc(e)
                continue
            if kind == "Standard":
                standard = el.StandardDecl(e.name, self.loc(e))
                continue
            if kind == "FlightPhaseDef":
                phases.append(el.FlightPhaseDef(e.name, self.hours(e.duration), e.description or "", self.loc(e)))
                continue
            if kind == "RiskMatrix":
                matrix = el.RiskMatrix(tuple(e.severities), tuple(e.probabilities),
                                       tuple((r.level, tuple(r.zones)) for r in e.rows), self.loc(e))
                continue
            if kind == "RiskGraph":
                graph = self.risk_graph(e)
                continue
            if kind == "DalReduction":
                dal = el.DalReduction(e.title or "", e.source or "", tuple(
                    el.DalOption(o.top, o.name, o.level, o.count, o.others, self.loc(o)) for o in e.options),
                    self.loc(e))
                continue
            if kind == "Ffs":
                ffs.append(self.ffs(e, package))
            elif kind == "Parameter":
                buckets["par"].append(el.Parameter(e.name, package, self.qexpr(e.expr), e.description or "",
                                                   self.loc(e), self.uncertainty(e.uncertainty)))
            elif kind == "Deviation":
                buckets["dev"].append(self.deviation(e, package))
            elif kind == "Component":
                buckets["comp"].append(self.component(e, package))
            elif kind == "Hazard":
                buckets["haz"].append(self.hazard(e, package))
            elif kind == "SafetyGoal":
                buckets["goal"].append(self.goal(e, package))
            elif kind == "Requirement":
                buckets["req"].append(self.requirement(e, package))
            elif kind == "Evidence":
                buckets["ev"].append(self.evidence(e, package))
            elif kind == "Argument":
                buckets["arg"].append(self.argument(e, package))
            elif kind == "Policy":
                buckets["pol"].extend(
                    el.PolicyRule(r.mode, r.rule, r.reason or "", self.loc(r)) for r in e.rules
                )
                continue
            order.append((kind, getattr(e, "name", "")))
        return el.SourceFile(
            path=self.path,
            rel_path=self.rel_path,
            package=package,
            package_declared=bool(tx.package),
            imports=imports,
            mission_time_hours=mission,
            parameters=tuple(buckets["par"]),
            deviations=tuple(buckets["dev"]),
            components=tuple(buckets["comp"]),
            hazards=tuple(buckets["haz"]),
            goals=tuple(buckets["goal"]),
            requirements=tuple(buckets["req"]),
            evidence=tuple(buckets["ev"]),
            arguments=tuple(buckets["arg"]),
            policy=tuple(buckets["pol"]),
            mission_time_location=mission_loc,
            standard=standard,
            risk_matrix=matrix,
            risk_graph=graph,
            dal_reduction=dal,
            ffs=tuple(ffs),
            flight_phases=tuple(phases),
            order=tuple(order),
        )

    def risk_graph(self, e: Any) -> el.RiskGraph:
        levels = tuple(
            el.RiskGraphLevel(lv.name, p.kind, lv.text, self.frequency(lv.below) if lv.below else None, self.loc(lv))
            for p in e.parameters for lv in p.levels)
        rows = tuple(el.RiskGraphRow(" ".join(r.path), r.name, tuple(r.outcomes), self.loc(r)) for r in e.rows)
        return el.RiskGraph(e.title or "", e.source or "", levels, rows, self.loc(e))

    def ffs(self, e: Any, package: str) -> el.Ffs:
        members = tuple(el.FfsMember(self.ref(a.ref), a.kind, a.level, a.text or "", self.loc(a))
                        for a in e.attrs if type(a).__name__ == "FfsMember")
        claims = tuple(el.Independence(a.kind, a.text, tuple(self.ref(r) for r in a.evidence), self.loc(a))
                       for a in e.attrs if type(a).__name__ == "FfsIndependence")
        return el.Ffs(e.name, package, e.title or "", tuple(self.ref(c) for c in e.conditions), claims, members,
                      self.loc(e))

    def deviation(self, e: Any, package: str) -> el.Deviation:
        return el.Deviation(e.name, e.base or None, e.description or "", self.loc(e), package)

    # -- components -----------------------------------------------------------------------------------------
    def component(self, e: Any, package: str) -> el.Component:
        ports: list[el.Port] = []
        failures: list[el.FailureMode] = []
        mechanisms: list[el.Mechanism] = []
        rules: list[el.Rule] = []
        propagates: list[el.Propagate] = []
        parts: list[el.Part] = []
        connections: list[el.Connection] = []
        model_identity = model_version = None
        model_location: Location | None = None
        datasets: list[el.Dataset] = []
        metrics: list[el.Metric] = []
        odd: el.Odd | None = None
        mission: float | None = None
        ccfs: list[el.CommonCauseGroup] = []
        element_type: str | None = None
        capability: int | None = None
        profile_locs: list[Location] = []
        assumptions: list[el.InputAssumption] = []
        for m in e.members:
            kind = type(m).__name__
            if kind == "Rule":
                port, _, deviation = m.target.partition(".")
                rules.append(el.Rule(port, deviation, self.expr(m.expr), self.loc(m)))
            elif kind == "Port":
                direction = el.PortDirection(m.direction)
                ports.extend(el.Port(n.name, direction, self.loc(n)) for n in m.names)
            elif kind == "FailureMode":
                failures.append(self.failure_mode(m))
            elif kind == "Mechanism":
                mechanisms.append(
                    el.Mechanism(
                        m.name,
                        m.kind,
                        self.refs(m.covers),
                        self.percent(m.coverage, "coverage", m),
                        self.percent(m.latent, "latent coverage", m) if m.latent else None,
                        m.description or "",
                        self.loc(m),
                    )
                )
            elif kind == "Propagate":
                propagates.append(el.Propagate(m.source, m.target, tuple(m.deviations), self.loc(m)))
            elif kind == "Part":
                parts.append(el.Part(m.name, self.ref(m.type), m.description or "", self.loc(m)))
            elif kind == "Parts":
                for t in m.types:
                    parts.append(el.Part(t.name.rsplit(".", 1)[-1], self.ref(t), "", self.loc(t)))
            elif kind == "Connect":
                connections.append(
                    el.Connection(m.source.name, m.target.name, self.loc(m), self.loc(m.source), self.loc(m.target))
                )
            elif kind == "MLModel":
                model_identity, model_version = m.identity, (m.version or None)
                model_location = self.loc(m)
            elif kind == "Dataset":
                role = "verification" if m.role == "verify" else m.role
                if m.sha256 and not _SHA256.match(m.sha256):
                    self.error(
                        dg.BAD_HASH,
                        f"dataset '{m.identity}': sha256 must be 64 hexadecimal digits, got {len(m.sha256)} characters",
                        self.loc(m),
                        "write the full digest, e.g. the output of `sha256sum`",
                    )
                cov = m.coverage
                datasets.append(el.Dataset(
                    role, m.identity, m.sha256 or None, self.loc(m), dvc=m.dvc or None, dvc_out=m.out or None,
                    coverage_manifest=cov.manifest if cov else None,
                    min_samples=(cov.min_samples or 1) if cov else 1,
                    coverage_location=self._string_loc(cov) if cov else None,
                ))
            elif kind == "Metric":
                where = self.conditions(m.slice)
                metrics.append(el.Metric(m.name, m.op, self.number(m.threshold), self.loc(m), where,
                                         el.slice_key(where)))
            elif kind == "Odd":
                odd = self.odd(m)
            elif kind == "MissionTime":
                mission = self.hours(m.time)
            elif kind == "Ccf":
                ccfs.append(self.common_cause(m))
            elif kind == "ElementType":
                element_type = m.value
                profile_locs.append(self.loc(m))
            elif kind == "SystematicCapability":
                capability = m.value
                profile_locs.append(self.loc(m))
            elif kind == "Assume":
                assumptions.append(self.assumption(m))
        ckind = el.ComponentKind(e.kind)
        ml = None
        if ckind is el.ComponentKind.ML_COMPONENT or model_identity or datasets or metrics:
            ml = el.MLInfo(model_identity, model_version, tuple(datasets), tuple(metrics), model_location)
        return el.Component(
            name=e.name,
            package=package,
            kind=ckind,
            description=e.description or "",
            ports=tuple(ports),
            failure_modes=tuple(failures),
            mechanisms=tuple(mechanisms),
            rules=tuple(rules),
            propagates=tuple(propagates),
            parts=tuple(parts),
            connections=tuple(connections),
            ml=ml,
            odd=odd,
            mission_time_hours=mission,
            location=self.loc(e),
            common_causes=tuple(ccfs),
            element_type=element_type,
            systematic_capability=capability,
            profile_locations=tuple(profile_locs),
            assumptions=tuple(assumptions),
        )

    def assumption(self, m: Any) -> el.InputAssumption:
        port, _, deviation = m.target.partition(".")
        prob: float | None = None
        qexpr: el.QExpr | None = None
        if m.quantity is not None:
            q = m.quantity
            if q.expr is not None:
                qexpr = self.qexpr(q.expr)
                if not el.qexpr_uses(qexpr):
                    found = evaluate_quantity(qexpr, lambda use: (0.0, 0), False, m.target)
                    if isinstance(found, Diagnostic):
                        self.diagnostics.append(found if found.location.file else
                                                dataclasses.replace(found, location=self.loc(m)))
                    else:
                        prob = found
            else:
                prob = self.number(q.value)
                if not 0.0 <= prob <= 1.0:
                    self.error(dg.BAD_RATE, f"probability of '{m.target}' is outside 0..1 ({q.value})", self.loc(m))
        return el.InputAssumption(port, deviation, prob, bool(m.outside), qexpr, m.description or "", self.loc(m))

    def conditions(self, conds: Any) -> tuple[el.SliceCondition, ...]:
        return tuple(el.SliceCondition(c.attribute, c.value, self.loc(c)) for c in conds or ())

    def odd(self, m: Any) -> el.Odd:
        attrs: list[el.OddAttribute] = []
        for a in m.attributes or ():
            attrs.append(self.odd_attribute(a))
        if not m.text and not attrs:
            self.error(dg.BAD_VALUE, "empty ODD", self.loc(m),
                       'write a sentence (`odd "..."`) or attributes (`odd { light day, night of day, dusk, night }`)')
        return el.Odd(m.text or "", tuple(attrs), self.loc(m))

    def odd_attribute(self, a: Any) -> el.OddAttribute:
        loc = self.loc(a)
        spec = a.spec
        if type(spec).__name__ == "OddRange":
            lo, hi = self.number(spec.low), self.number(spec.high)
            dlo, dhi = self.number(spec.domain_low), self.number(spec.domain_high)
            return el.OddAttribute(a.name, (), (), lo, hi, "".join(spec.unit.split()), dlo, dhi, loc)
        # where each in-ODD value is written (before `of`), for a positioned "outside the domain" diagnostic
        start = getattr(a, "_tx_position", 0)
        text = self._text[start:getattr(a, "_tx_position_end", start)]
        value_locs: list[Location] = []
        pos = len(a.name)
        for v in spec.values:
            found = re.search(rf"\b{re.escape(v)}\b", text[pos:])
            if found is None:
                value_locs.append(loc)
                continue
            value_locs.append(self._span(start + pos + found.start(), start + pos + found.end()))
            pos += found.end()
        return el.OddAttribute(a.name, tuple(spec.values), tuple(spec.domain), None, None, "", None, None, loc,
                               tuple(value_locs))

    def common_cause(self, m: Any) -> el.CommonCauseGroup:
        factors: list[float] = []
        for f in m.factors:
            value = self.number(f.value)
            if f.percent:
                value /= 100.0
            if not 0.0 <= value <= 1.0:
                self.error(dg.BAD_CCF, f"CCF factor {f.value}{' %' if f.percent else ''} is not a fraction in 0..1",
                           self.loc(f), "write a fraction (0.05) or a percentage (5 %)")
            factors.append(min(max(value, 0.0), 1.0))
        text = ", ".join(f"{f.value} %" if f.percent else f.value for f in m.factors)
        return el.CommonCauseGroup(m.name, self.refs(m.members), m.model, tuple(factors), text,
                                   m.description or "", self.loc(m))

    # -- quantity expressions ---------------------------------------------------------------------------------
    def qexpr(self, x: Any) -> el.QExpr:
        kind = type(x).__name__
        if kind == "Sum":
            items, ops = x.terms, x.ops
        elif kind == "Product":
            items, ops = x.factors, x.ops
        elif kind == "Paren":
            return self.qexpr(x.inner)
        elif kind == "Literal":
            unit = " ".join((x.unit or "").split())
            value = self.number(x.value)
            if unit == "FIT":
                return el.Num(value * 1e-9, -1, f"{x.value} FIT")
            if unit in ("per h", "per hour", "/ h", "/h"):
                return el.Num(value, -1, f"{x.value} {unit}")
            if unit:
                return el.Num(value * _TIME_UNIT_HOURS[unit], 1, f"{x.value} {unit}")
            return el.Num(value, 0, x.value)
        else:  # ParamUse
            return el.ParamUse(x.ref, self.loc(x))
        out = self.qexpr(items[0])
        for op, item in zip(ops, items[1:], strict=True):
            out = el.BinOp(op.strip(), out, self.qexpr(item), self.loc(x))
        return out

    def _source(self, obj: Any) -> str:
        start = getattr(obj, "_tx_position", 0)
        return " ".join(self._text[start:getattr(obj, "_tx_position_end", start)].split())

    def failure_mode(self, m: Any) -> el.FailureMode:
        q = m.quantity
        loc = self.loc(m)
        rate: float | None = None
        prob: float | None = None
        qexpr: el.QExpr | None = None
        is_rate = type(q).__name__ == "RateQuantity"
        if getattr(q, "expr", None) is not None:
            # an expression: evaluated here where it names no parameter, else when the model is assembled
            qexpr = self.qexpr(q.expr)
            text = self._source(q.expr) if is_rate else f"probability {self._source(q.expr)}"
            if not el.qexpr_uses(qexpr):
                found = evaluate_quantity(qexpr, lambda use: (0.0, 0), is_rate, m.name)
                if isinstance(found, Diagnostic):
                    self.diagnostics.append(found if found.location.file else dataclasses.replace(found, location=loc))
                elif is_rate:
                    rate = found
                else:
                    prob = found
        elif is_rate:
            value = self.number(q.value)
            unit = " ".join(q.unit.split())
            rate = value * 1e-9 if unit == "FIT" else value
            text = f"{q.value} {unit}"
            if value < 0:
                self.error(dg.BAD_RATE, f"failure rate of '{m.name}' is negative ({text})", loc)
        else:
            value = self.number(q.value)
            prob = value
            text = f"probability {q.value}"
            if not 0.0 <= value <= 1.0:
                self.error(dg.BAD_RATE, f"probability of '{m.name}' is outside 0..1 ({q.value})", loc)
        description = ""
        exposure: float | None = None
        exposure_missions: float | None = None
        proof: el.ProofTest | None = None
        mttr: float | None = None
        spread: el.Uncertainty | None = None
        distribution = "exponential"
        safe: float | None = None
        aiag: el.Aiag | None = None
        systematic = False
        where: tuple[el.SliceCondition, ...] = ()
        reveals: tuple[str, ...] = ()
        for a in m.attrs:
            kind = type(a).__name__
            if kind == "Text":
                description = a.text
            elif kind == "Exposure":
                if a.time is not None:
                    exposure = self.hours(a.time)
                else:
                    exposure_missions = self.number(a.missions)
                    if exposure_missions <= 0:
                        self.error(dg.BAD_VALUE, f"an exposure must be a positive multiple of the mission time, got "
                                   f"{a.missions} x mission", self.loc(a))
            elif kind == "ProofTest":
                proof = self.proof_test(a)
            elif kind == "Repair":
                mttr = self.hours(a.time)
            elif kind == "Uncertainty":
                spread = self.uncertainty(a)
            elif kind == "Distribution":
                distribution = a.name
                if distribution not in ("exponential", "constant"):
                    self.error(
                        dg.BAD_VALUE,
                        f"unknown distribution '{distribution}'",
                        self.loc(a),
                        "use 'exponential' (p = 1 - exp(-rate x time)) or 'constant' (p = rate x time, no saturation)",
                    )
            elif kind == "SafeFraction":
                safe = self.percent(a.value, "safe fraction", a)
            elif kind == "Aiag":
                vals = (a.severity, a.occurrence, a.detection)
                if not all(1 <= v <= 10 for v in vals):
                    self.error(dg.BAD_VALUE, f"AIAG-VDA ratings must be 1..10, got {vals}", self.loc(a),
                               "severity, occurrence and detection are each rated 1 (best) to 10 (worst)")
                aiag = el.Aiag(*vals)
            elif kind == "Systematic":
                if m.kind == "trigger":
                    self.error(
                        dg.BAD_VALUE,
                        f"trigger '{m.name}' cannot be systematic",
                        self.loc(a),
                        "only a 'failure' can be a systematic fault; a trigger is a SOTIF triggering condition",
                    )
                else:
                    systematic = True
            elif kind == "TriggerWhere":
                if m.kind != "trigger":
                    self.error(dg.BAD_VALUE, f"failure '{m.name}' cannot have a `where` condition", self.loc(a),
                               "only a 'trigger' (a SOTIF triggering condition) occurs in a part of the ODD")
                else:
                    where = self.conditions(a.conditions)
            elif kind == "Reveals":
                if m.kind != "trigger":
                    self.error(dg.BAD_VALUE, f"failure '{m.name}' cannot reveal another failure mode", self.loc(a),
                               "`reveals` belongs to a 'trigger': the condition that brings out an insufficiency")
                else:
                    reveals = tuple(a.modes)
        if proof is not None and rate is None and qexpr is None:
            self.error(dg.BAD_PROOF_TEST, f"'{m.name}' is given as a probability: a proof test needs a failure rate",
                       proof.location, "give the failure as a rate (e.g. `rate 2e-6 per h`)")
        if proof is not None and (exposure is not None or exposure_missions is not None or distribution != "exponential"):
            self.error(dg.BAD_PROOF_TEST, f"'{m.name}' is proof-tested: its exposure follows the test cycle",
                       proof.location, "drop the `exposure` and `distribution` of a proof-tested failure")
        if mttr is not None and proof is None:
            self.error(dg.BAD_PROOF_TEST, f"'{m.name}' has a repair time but no proof test that reveals the failure",
                       loc, "add `proof_test every ...`; a failure nothing reveals is never repaired")
        return el.FailureMode(
            m.name, m.kind, rate, prob, text, description, loc, exposure, distribution, safe, aiag, systematic,
            qexpr, exposure_missions, proof, mttr, spread, where, reveals,
        )

    def uncertainty(self, a: Any) -> el.Uncertainty | None:
        """The distribution as written; its parameters are checked against the value it spreads when the
        model is assembled (model/parameters.py: check_uncertainty)."""
        if a is None:
            return None
        loc = self.loc(a)
        if a.kind == "uniform":
            low, high = self.qexpr(a.low), self.qexpr(a.high)
            assert isinstance(low, el.Num) and isinstance(high, el.Num)
            return el.Uncertainty("uniform", low.value, high.value, loc, low.dim, high.dim)
        if a.kind == "normal":
            sd = self.qexpr(a.sd)
            assert isinstance(sd, el.Num)
            return el.Uncertainty("normal", sd.value, 0.0, loc, sd.dim)
        if a.kind == "histogram":
            low = self.qexpr(a.low)
            uppers = [self.qexpr(b.upper) for b in a.bins]
            assert isinstance(low, el.Num) and all(isinstance(u, el.Num) for u in uppers)
            return el.Uncertainty(
                "histogram", low.value, 0.0, loc, low.dim, 0,
                edges=tuple(u.value for u in uppers if isinstance(u, el.Num)),
                weights=tuple(self.number(b.weight) for b in a.bins),
                edge_dims=tuple(u.dim for u in uppers if isinstance(u, el.Num)),
                bin_locations=tuple(self.loc(b) for b in a.bins))
        return el.Uncertainty(a.kind, self.number(a.a), 0.0, loc)

    def proof_test(self, a: Any) -> el.ProofTest:
        interval = self.hours(a.interval)
        first = self.hours(a.first) if a.first is not None else interval
        duration = self.hours(a.duration) if a.duration is not None else 0.0
        coverage = self.percent(a.coverage, "proof-test coverage", a) if a.coverage else 1.0
        if duration >= interval:
            self.error(dg.BAD_PROOF_TEST, f"a proof test lasting {duration:g} h does not fit in its interval of "
                       f"{interval:g} h", self.loc(a), "the test must end before the next one starts")
        return el.ProofTest(interval, first, duration, coverage, self.loc(a))

    def expr(self, x: Any) -> el.Expr:
        kind = type(x).__name__
        if kind == "Ref":  # the most frequent (every operand), then a level of one operand (most levels)
            return el.Ref(x.path, self.loc(x))
        if kind == "OrExpr":
            operands = x.operands
            if len(operands) == 1:
                return self.expr(operands[0])
            return el.Or(tuple([self.expr(o) for o in operands]), self.loc(x))
        if kind == "AndExpr":
            operands = x.operands
            if len(operands) == 1:
                return self.expr(operands[0])
            return el.And(tuple([self.expr(o) for o in operands]), self.loc(x))
        if kind == "Group":
            return self.expr(x.expr)
        if kind == "KofN":
            voted = tuple(self.expr(o) for o in x.operands)
            if not 1 <= x.k <= len(voted):
                self.error(
                    dg.BAD_K_OF_N,
                    f"{x.k} of {len(voted)} operands can never be met" if x.k > len(voted) else "k must be at least 1",
                    self.loc(x),
                    f"k must be between 1 and {len(voted)}",
                )
            return el.KofN(x.k, voted, self.loc(x))
        return el.Ref(x.path, self.loc(x))

    # -- hazards, goals, requirements, evidence ---------------------------------------------------------------
    def class_value(self, attr: str, a: Any) -> el.ClassValue:
        """The class as written; its number where it reads as an ISO 26262 class (S/E/C with a digit in range),
        else -1. Whether it belongs to the package's standard is checked by validation, which knows it."""
        letter, maximum = _CLASS_RANGES.get(attr, ("", -1))
        text: str = a.value
        loc = self.loc(a)
        if letter and text[0] == letter and text[1:].isdigit() and int(text[1:]) <= maximum:
            return el.ClassValue(text, int(text[1:]), loc)
        return el.ClassValue(text, -1, loc)

    def frequency(self, f: Any) -> el.Frequency:
        value = self.number(f.value)
        return el.Frequency(value / _TIME_UNIT_HOURS[f.unit], f"{f.value} per {f.unit}")

    def asil(self, a: Any) -> el.AsilSpec:
        text: str = a.value
        level, _, rest = text.partition("(")
        return el.AsilSpec(level, rest.rstrip(")") or None, self.loc(a))

    def hazard(self, e: Any, package: str) -> el.Hazard:
        fields: dict[str, Any] = {
            "situation": "",
            "description": "",
            "severity": None,
            "exposure": None,
            "controllability": None,
            "typed_asil": None,
            "condition": None,
            "system": None,
            "mission_time_hours": None,
            "lopa": None,
            "probability": None,
            "residual_severity": None,
            "residual_probability": None,
            "phases": (),
            "function": "",
        }
        written: list[tuple[str, Location]] = []
        for a in e.attrs:
            kind = type(a).__name__
            written.append((_ATTR_KEYWORD.get(kind, kind), self.loc(a)))
            if kind == "Lopa":
                fields["lopa"] = el.Lopa(self.frequency(a.demand), tuple(self.number(x) for x in a.ipls),
                                         self.frequency(a.tolerable), self.loc(a))
            elif kind == "HazardProbability":
                fields["probability"] = self.class_value("probability", a)
            elif kind == "Residual":
                loc = self.loc(a)
                if a.severity:
                    fields["residual_severity"] = el.ClassValue(a.severity, -1, loc)
                fields["residual_probability"] = el.ClassValue(a.probability, -1, loc)
            elif kind == "FlightPhase":
                fields["phases"] = tuple(a.phases)
            elif kind == "AircraftFunction":
                fields["function"] = a.text
            elif kind == "Situation":
                fields["situation"] = a.text
            elif kind == "Text":
                fields["description"] = a.text
            elif kind == "Severity":
                fields["severity"] = self.class_value("severity", a)
            elif kind == "ExposureClass":
                fields["exposure"] = self.class_value("exposure", a)
            elif kind == "Controllability":
                fields["controllability"] = self.class_value("controllability", a)
            elif kind == "AsilAttr":
                fields["typed_asil"] = self.asil(a)
            elif kind == "When":
                fields["condition"] = self.expr(a.expr)
            elif kind == "SystemRef":
                fields["system"] = self.ref(a.ref)
            elif kind == "MissionTime":
                fields["mission_time_hours"] = self.hours(a.time)
            elif kind == "Acceptance":
                fields["acceptance"] = self.acceptance(e.name, a)
            elif kind == "RiskGraphClasses":
                fields["risk_graph"] = el.RiskGraphClasses(
                    tuple(a.classes), self.frequency(a.demand) if a.demand else None, self.loc(a))
        return el.Hazard(name=e.name, package=package, title=e.title or "", location=self.loc(e),
                         attribute_locations=tuple(written), **fields)

    def acceptance(self, hazard: str, a: Any) -> el.Acceptance:
        loc = self.loc(a)
        rate = self.number(a.rate)
        unit = a.unit.split()[-1] if a.unit else ""
        unit = "h" if unit == "hour" else unit
        if not unit:
            self.error(dg.ACCEPTANCE_NO_UNIT, f"acceptance criterion of '{hazard}' has no unit: {a.rate} per what?",
                       loc, f"write the exposure the rate is counted in: `acceptance {a.rate} per h`, `per km` "
                       "or `per scenario`")
        if not 0.0 < rate < 1e9:
            self.error(dg.ACCEPTANCE_BAD_VALUE, f"acceptance rate of '{hazard}' must be positive, got {a.rate}", loc,
                       "the tolerated rate of the hazardous behaviour, e.g. 1e-7 per h")
        confidence = 0.95
        if a.confidence:
            confidence = self.number(a.confidence) / 100.0
            if not 0.0 < confidence < 1.0:
                self.error(dg.ACCEPTANCE_BAD_VALUE,
                           f"confidence of the acceptance criterion of '{hazard}' must lie strictly between 0 and "
                           f"100 %, got {a.confidence} %", loc, "a usual choice is 95 % or 99 %")
        return el.Acceptance(rate, unit, confidence, a.exposure_key or None, a.failures_key or None, loc)

    def goal(self, e: Any, package: str) -> el.SafetyGoal:
        safe_state = description = ""
        ftti: float | None = None
        target: float | None = None
        asil: el.AsilSpec | None = None
        demand: str | None = None
        sil: int | None = None
        written: list[tuple[str, Location]] = []
        for a in e.attrs:
            kind = type(a).__name__
            written.append((_ATTR_KEYWORD.get(kind, kind), self.loc(a)))
            if kind == "Demand":
                demand = a.mode
            elif kind == "SilAttr":
                sil = a.value
            elif kind == "SafeState":
                safe_state = a.text
            elif kind == "Ftti":
                ftti = self.hours(a.time) * 3600
            elif kind == "Target":
                target = self.number(a.value)
                if not 0.0 < target < 1.0:
                    self.error(dg.BAD_TARGET, f"target {a.value} per h must be between 0 and 1", self.loc(a),
                               "a target is a probability per hour, e.g. `target 1e-8 per h` for 10 FIT")
            elif kind == "AsilAttr":
                asil = self.asil(a)
            elif kind == "Text":
                description = a.text
        return el.SafetyGoal(
            e.name, package, e.title or "", self.refs(e.hazards), safe_state, ftti, target, asil, description,
            self.loc(e), demand, sil, tuple(written),
        )

    def requirement(self, e: Any, package: str) -> el.Requirement:
        refines: list[el.NameRef] = []
        allocated: list[el.NameRef] = []
        asil: el.AsilSpec | None = None
        for a in e.attrs:
            kind = type(a).__name__
            if kind == "Refines":
                refines.extend(self.refs(a.refs))
            elif kind == "Allocation":
                allocated.extend(self.refs(a.refs))
            elif kind == "AsilAttr":
                asil = self.asil(a)
        return el.Requirement(e.name, package, e.title or "", tuple(refines), tuple(allocated), asil, self.loc(e))

    def evidence(self, e: Any, package: str) -> el.Evidence:
        verifies: list[el.NameRef] = []
        supports: list[el.NameRef] = []
        artifact = sha = commit = None
        for a in e.attrs:
            kind = type(a).__name__
            if kind == "Verifies":
                verifies.extend(self.refs(a.refs))
            elif kind == "Supports":
                supports.extend(self.refs(a.refs))
            elif kind == "Artifact":
                artifact, sha = a.path, (a.sha256 or None)
                if sha and not _SHA256.match(sha):
                    self.error(
                        dg.BAD_HASH,
                        f"artifact sha256 must be 64 hexadecimal digits, got {len(sha)} characters",
                        self.loc(a),
                        "write the full digest, e.g. the output of `sha256sum`",
                    )
            elif kind == "Commit":
                commit = a.id
        return el.Evidence(
            e.name, package, e.kind, e.source, tuple(verifies), tuple(supports), artifact, sha, commit, self.loc(e)
        )

    def argument(self, e: Any, package: str) -> el.Argument:
        nodes = []
        for n in e.nodes:
            groups: dict[str, list[el.NameRef]] = {
                k: [] for k in ("supports", "for", "context", "evidence", "refers", "attach")
            }
            undeveloped = False
            module: str | None = None
            for a in n.attrs:
                kind = type(a).__name__
                if kind == "GsnSupports":
                    groups["supports"].extend(self.refs(a.refs))
                elif kind == "GsnFor":
                    groups["for"].extend(self.refs(a.refs))
                elif kind == "GsnContext":
                    groups["context"].extend(self.refs(a.refs))
                elif kind == "GsnUndeveloped":
                    undeveloped = True
                elif kind == "GsnEvidence":
                    groups["evidence"].extend(self.refs(a.refs))
                elif kind == "GsnRefers":
                    groups["refers"].extend(self.refs(a.refs))
                elif kind == "GsnModule":
                    module = a.name
                elif kind == "GsnAttach":
                    groups["attach"].extend(self.refs(a.refs))
            nodes.append(
                el.GsnNode(
                    n.name, n.kind, n.text, tuple(groups["supports"]), tuple(groups["for"]),
                    tuple(groups["context"]), undeveloped, tuple(groups["evidence"]), tuple(groups["refers"]),
                    module, tuple(groups["attach"]), self.loc(n),
                )
            )
        return el.Argument(e.name, package, e.title or "", tuple(nodes), self.loc(e))
