"""Build one file's semantic elements from its textX model. Checks that need only this file's text
(number ranges, units) happen here and become diagnostics; cross-file checks live in validation/."""

from __future__ import annotations

import bisect
import re
from typing import Any

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.model import elements as el


def _location(file: str, line: int, col: int, end_line: int, end_col: int) -> Location:
    """Location(file, line, col, end_line, end_col) without the frozen dataclass's __init__, which sets each
    field through object.__setattr__: a large model makes a quarter of a million of them (about 0.3 s of
    CPU at 10,000 component types). Same fields in the same order, so equal, hashed and pickled alike
    (tests/unit/test_loader.py)."""
    loc = _new(Location)
    _setattr(loc, "__dict__", {"file": file, "line": line, "col": col, "end_line": end_line, "end_col": end_col})
    return loc


_new = object.__new__
_setattr = object.__setattr__

_TIME_UNIT_HOURS = {"ms": 1 / 3_600_000, "s": 1 / 3600, "min": 1 / 60, "h": 1.0, "d": 24.0, "y": 8760.0}
_CLASS_RANGES = {"severity": ("S", 3), "exposure": ("E", 4), "controllability": ("C", 3)}
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
    def _line_col(self, pos: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, pos)
        return line, pos - self._line_starts[line - 1] + 1

    def _span(self, start: int, end: int) -> Location:
        line, col = self._line_col(start)
        if end <= start:
            return _location(self.path, line, col, 0, 0)
        end_line, end_col = self._line_col(end)
        return _location(self.path, line, col, end_line, end_col)

    def loc(self, obj: Any) -> Location:
        """The span textX matched for `obj`: from its first to after its last character (trailing blanks and
        comments excluded)."""
        start = getattr(obj, "_tx_position", 0)
        return self._span(start, getattr(obj, "_tx_position_end", start))

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
        buckets: dict[str, list[Any]] = {k: [] for k in ("dev", "comp", "haz", "goal", "req", "ev", "arg", "pol")}
        order: list[tuple[str, str]] = []
        for e in tx.elements:
            kind = type(e).__name__
            if kind == "MissionTime":
                mission = self.hours(e.time)
                mission_loc = self.loc(e)
                continue
            if kind == "Deviation":
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
            deviations=tuple(buckets["dev"]),
            components=tuple(buckets["comp"]),
            hazards=tuple(buckets["haz"]),
            goals=tuple(buckets["goal"]),
            requirements=tuple(buckets["req"]),
            evidence=tuple(buckets["ev"]),
            arguments=tuple(buckets["arg"]),
            policy=tuple(buckets["pol"]),
            mission_time_location=mission_loc,
            order=tuple(order),
        )

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
        datasets: list[el.Dataset] = []
        metrics: list[el.Metric] = []
        odd: str | None = None
        mission: float | None = None
        ccfs: list[el.CommonCauseGroup] = []
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
            elif kind == "Dataset":
                role = "verification" if m.role == "verify" else m.role
                if m.sha256 and not _SHA256.match(m.sha256):
                    self.error(
                        dg.BAD_HASH,
                        f"dataset '{m.identity}': sha256 must be 64 hexadecimal digits, got {len(m.sha256)} characters",
                        self.loc(m),
                        "write the full digest, e.g. the output of `sha256sum`",
                    )
                datasets.append(el.Dataset(role, m.identity, m.sha256 or None, self.loc(m)))
            elif kind == "Metric":
                metrics.append(el.Metric(m.name, m.op, self.number(m.threshold), self.loc(m)))
            elif kind == "Odd":
                odd = m.text
            elif kind == "MissionTime":
                mission = self.hours(m.time)
            elif kind == "Ccf":
                ccfs.append(self.common_cause(m))
        ckind = el.ComponentKind(e.kind)
        ml = None
        if ckind is el.ComponentKind.ML_COMPONENT or model_identity or datasets or metrics:
            ml = el.MLInfo(model_identity, model_version, tuple(datasets), tuple(metrics))
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
        )

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

    def failure_mode(self, m: Any) -> el.FailureMode:
        q = m.quantity
        loc = self.loc(m)
        rate: float | None = None
        prob: float | None = None
        value = self.number(q.value)
        if type(q).__name__ == "RateQuantity":
            unit = " ".join(q.unit.split())
            rate = value * 1e-9 if unit == "FIT" else value
            text = f"{q.value} {unit}"
            if value < 0:
                self.error(dg.BAD_RATE, f"failure rate of '{m.name}' is negative ({text})", loc)
        else:
            prob = value
            text = f"probability {q.value}"
            if not 0.0 <= value <= 1.0:
                self.error(dg.BAD_RATE, f"probability of '{m.name}' is outside 0..1 ({q.value})", loc)
        description = ""
        exposure: float | None = None
        distribution = "exponential"
        safe: float | None = None
        aiag: el.Aiag | None = None
        systematic = False
        for a in m.attrs:
            kind = type(a).__name__
            if kind == "Text":
                description = a.text
            elif kind == "Exposure":
                exposure = self.hours(a.time)
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
        return el.FailureMode(
            m.name, m.kind, rate, prob, text, description, loc, exposure, distribution, safe, aiag, systematic
        )

    def expr(self, x: Any) -> el.Expr:
        kind = type(x).__name__
        if kind == "OrExpr":
            ops = [self.expr(o) for o in x.operands]
            return ops[0] if len(ops) == 1 else el.Or(tuple(ops), self.loc(x))
        if kind == "AndExpr":
            ops = [self.expr(o) for o in x.operands]
            return ops[0] if len(ops) == 1 else el.And(tuple(ops), self.loc(x))
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
        letter, maximum = _CLASS_RANGES[attr]
        text: str = a.value
        loc = self.loc(a)
        if text[0] != letter or not text[1:].isdigit() or int(text[1:]) > maximum:
            self.error(
                dg.BAD_CLASS,
                f"{attr} must be one of {', '.join(f'{letter}{i}' for i in range(maximum + 1))}, got '{text}'",
                loc,
            )
            return el.ClassValue(text, -1, loc)
        return el.ClassValue(text, int(text[1:]), loc)

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
        }
        for a in e.attrs:
            kind = type(a).__name__
            if kind == "Situation":
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
        return el.Hazard(name=e.name, package=package, title=e.title or "", location=self.loc(e), **fields)

    def goal(self, e: Any, package: str) -> el.SafetyGoal:
        safe_state = description = ""
        ftti: float | None = None
        target: float | None = None
        asil: el.AsilSpec | None = None
        for a in e.attrs:
            kind = type(a).__name__
            if kind == "SafeState":
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
            self.loc(e),
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
