"""The SOTIF analysis (ISO 21448) of the ML components, derived from the failure logic and the ODD.

For each ML component instance and each hazard its output deviations reach (the synthesised fault trees):

- hazardous behaviours: the component's output deviations in the hazard's tree;
- functional insufficiencies under each behaviour: the component's own failure modes are performance
  insufficiencies; a trigger of another component that reaches the behaviour through an input of the ML
  component is an insufficiency of the specification (the ML function does not handle that input condition);
- triggering conditions: the triggers themselves, and the component's triggers that `reveal` a failure mode,
  each with the ODD cell (`where`) it occurs in;
- measures: the mechanisms and monitors that cover the event, the other inputs of every AND gate on the way
  from the behaviour down to the event (redundancy), and triggers that lie outside the ODD (ODD restriction).

Acceptance criteria (`acceptance RATE per UNIT confidence C % exposure "key" failures "key"` on a hazard)
give the validation target (analysis/validation_target.py), compared with the exposure the CI metrics report.
Known unsafe scenarios (area 2: the triggers, evidenced by metrics on their ODD slices) are listed apart from
the residual unknown ones (area 3: the validation exposure per hazard).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.analysis.evidence import Results as CiResults
from safetyops_dsl.analysis.evidence import lookup_metric
from safetyops_dsl.analysis.odd_coverage import OddCoverage, build_odd_coverage
from safetyops_dsl.analysis.synthesis import SynthesisResult
from safetyops_dsl.analysis.validation_target import required_exposure
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.fta.tree import FaultTree, GateKind
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.semantics import odd_scopes

PERFORMANCE, SPECIFICATION = "performance", "specification"
MET, NOT_MET, NOT_REPORTED, NOT_RUN = "met", "not met", "not reported", "no results"
PASSED, FAILED, MISSING, OPEN, RESTRICTED = "passed", "failed", "missing", "open", "restricted"
UNIT_TEXT = {"h": "h", "km": "km", "scenario": "scenarios"}


@dataclass(frozen=True)
class SotifRow:
    component: str  # ML component instance path
    hazard: str
    behaviour: str  # the output deviation: objects.omission
    insufficiency: str  # the failure mode or trigger event
    kind: str  # performance | specification
    description: str
    triggers: tuple[str, ...]  # "Component.Trigger (light=night, p 0.05)"
    odd_cells: tuple[str, ...]  # the cells the triggering conditions occur in
    measures: tuple[str, ...]
    source: str  # file:line of the insufficiency


@dataclass(frozen=True)
class ValidationTarget:
    hazard: str
    title: str
    rate: float
    unit: str
    confidence: float
    failures: int | None  # observed, from the CI metrics (None: not reported)
    required: float  # exposure needed with the observed failures (0 when not reported)
    reported: float | None
    status: str  # met | not met | not reported | no results
    source: str


@dataclass(frozen=True)
class ScenarioRow:
    area: int  # 2: known unsafe scenario, 3: residual unknown ones
    scenario: str
    hazard: str
    odd_cell: str
    evidence_kind: str
    evidence: str
    status: str  # passed | failed | missing | open (no evidence) | restricted (outside the ODD) | no results


@dataclass(frozen=True)
class SotifReport:
    components: tuple[str, ...]  # ML component instance paths analysed
    rows: tuple[SotifRow, ...]
    targets: tuple[ValidationTarget, ...]
    scenarios: tuple[ScenarioRow, ...]
    coverage: OddCoverage  # the data sets over the ODD cells (analysis/odd_coverage.py)
    diagnostics: tuple[Diagnostic, ...]  # the SOTIF analysis' own (the coverage's are in `coverage`)


def _src(model: Model, loc: Location) -> str:
    return f"{model.rel_path(loc.file)}:{loc.line}"


def _cells(fm: el.FailureMode) -> str:
    return ", ".join(str(c) for c in fm.where)


def _trigger_text(owner: str, fm: el.FailureMode) -> str:
    p = f"p {fm.probability:g}" if fm.probability is not None else fm.quantity_text
    where = f"{_cells(fm)}, " if fm.where else ""
    return f"{owner}.{fm.name} ({where}{p})"


def _paths_down(tree: FaultTree, top: str) -> dict[str, set[str]]:
    """Basic event under `top` -> the other inputs of every AND / k-of-n gate on some path to it."""
    out: dict[str, set[str]] = {}
    stack: list[tuple[str, frozenset[str]]] = [(top, frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while stack:
        name, siblings = stack.pop()
        if (name, siblings) in seen:
            continue
        seen.add((name, siblings))
        if name in tree.basic_events:
            out.setdefault(name, set()).update(siblings)
            continue
        gate = tree.gates.get(name)
        if gate is None:
            continue
        for i in gate.inputs:
            extra = siblings
            if gate.kind in (GateKind.AND, GateKind.ATLEAST):
                extra = siblings | {o for o in gate.inputs if o != i}
            stack.append((i, extra))
    return out


def _label(name: str) -> str:
    """A gate name without the synthesis' `/and#1` suffixes."""
    return name.split("/", 1)[0]


class _Builder:
    def __init__(self, model: Model, syntheses: list[SynthesisResult], ci: CiResults | None):
        self.model = model
        self.syntheses = syntheses
        self.ci = ci
        self.scopes = odd_scopes(model)
        self.diagnostics: list[Diagnostic] = []
        # basic event name -> (instance path, component, failure mode), over every system
        self.events: dict[str, tuple[str, el.Component, el.FailureMode]] = {}
        self.ml_instances: list[tuple[str, el.Component]] = []
        for system in model.systems():
            for inst in model.instances(system).walk():
                for fm in inst.component.failure_modes:
                    self.events[f"{inst.path}.{fm.name}"] = (inst.path, inst.component, fm)
                if inst.component.kind is el.ComponentKind.ML_COMPONENT:
                    self.ml_instances.append((inst.path, inst.component))

    def metric_value(self, key: str) -> tuple[bool, float | None]:
        if self.ci is None:
            return False, None
        for doc in self.ci.metrics:
            found, raw = lookup_metric(doc.data, key)
            if found and not isinstance(raw, bool) and isinstance(raw, int | float) and math.isfinite(raw):
                return True, float(raw)
        return False, None

    def measures(self, inst: str, comp: el.Component, fm: el.FailureMode, siblings: set[str]) -> list[str]:
        out = [f"{m.kind} {m.name} ({m.coverage * 100:g} %)" for m in comp.covering(fm.name)]
        out += [f"redundancy: also needs {_label(s)}" for s in sorted(siblings)]
        odd = self.scopes.get(comp.qualified_name)
        if odd is not None:
            for c in fm.where:
                attr = odd.attribute(c.attribute)
                if attr is not None and not attr.is_range and c.value not in attr.values:
                    out.append(f"ODD restriction: {c} is outside the ODD")
        return out

    def rows(self) -> list[SotifRow]:
        rows: list[SotifRow] = []
        for syn in self.syntheses:
            tree = syn.structure
            hz = syn.hazard.name
            for inst, comp in self.ml_instances:
                outs = {p.name for p in comp.ports if p.direction is el.PortDirection.OUT}
                for gate in sorted(tree.gates):
                    rest = gate[len(inst) + 1:] if gate.startswith(inst + ".") and "/" not in gate else ""
                    if not rest or rest.split(".", 1)[0] not in outs:
                        continue
                    for event, siblings in sorted(_paths_down(tree, gate).items()):
                        found = self.events.get(event)
                        if found is None:
                            continue
                        ev_inst, ev_comp, fm = found
                        own = ev_inst == inst
                        triggers: tuple[str, ...]
                        cells: tuple[str, ...]
                        if fm.kind == "trigger":
                            kind = PERFORMANCE if own else SPECIFICATION
                            triggers = (_trigger_text(ev_inst, fm),)
                            cells = (_cells(fm),) if fm.where else ()
                            text = fm.description or fm.name
                            if not own:
                                text = f"{rest} follows {ev_inst}.{fm.name} through an input: {text}"
                            measures = self.measures(ev_inst, ev_comp, fm, siblings)
                        elif own:
                            kind = PERFORMANCE
                            revealing = [t for t in comp.failure_modes if t.kind == "trigger" and fm.name in t.reveals]
                            triggers = tuple(_trigger_text(inst, t) for t in revealing)
                            cells = tuple(_cells(t) for t in revealing if t.where)
                            text = fm.description or fm.name
                            measures = self.measures(inst, comp, fm, siblings)
                            for t in revealing:
                                measures += [m for m in self.measures(inst, comp, t, set()) if m.startswith("ODD")]
                        else:
                            continue  # a random hardware fault: the FMEA's, not the SOTIF's
                        rows.append(SotifRow(inst, hz, rest, f"{ev_inst}.{fm.name}", kind, text, triggers, cells,
                                             tuple(measures), _src(self.model, fm.location)))
        return rows

    def targets(self, contributed: set[str]) -> list[ValidationTarget]:
        out: list[ValidationTarget] = []
        for _, hz in sorted(self.model.hazards.items()):
            acc = hz.acceptance
            if acc is None:
                if hz.name in contributed:
                    self.diagnostics.append(dg.make(
                        dg.ACCEPTANCE_MISSING,
                        f"hazard '{hz.name}' has an ML contribution but no SOTIF acceptance criterion", hz.location,
                        "add `acceptance RATE per h|km|scenario confidence 95 %` (a tolerated rate of the hazardous "
                        "behaviour, e.g. from a positive-risk-balance argument)"))
                continue
            if not acc.unit or not 0.0 < acc.confidence < 1.0 or acc.rate <= 0.0:
                continue  # reported by the model check (SOPS126, SOPS127)
            failures: int | None = None
            reported: float | None = None
            if acc.failures_key:
                found, value = self.metric_value(acc.failures_key)
                if found and value is not None and value >= 0 and value == int(value):
                    failures = int(value)
            if acc.exposure_key:
                found, value = self.metric_value(acc.exposure_key)
                reported = value if found else None
            k = failures if failures is not None else 0
            required = required_exposure(acc.rate, acc.confidence, k)
            if self.ci is None:
                status = NOT_RUN
            elif reported is None or (acc.failures_key and failures is None):
                status = NOT_REPORTED
            else:
                status = MET if reported >= required else NOT_MET
            if status == NOT_MET:
                self.diagnostics.append(dg.make(
                    dg.VALIDATION_TARGET_NOT_MET,
                    f"validation of '{hz.name}' reports {reported:.6g} {UNIT_TEXT[acc.unit]} with {k} failure(s); "
                    f"showing {acc.rate:g} per {acc.unit} at {acc.confidence * 100:g} % needs {required:.6g}",
                    acc.location, "extend the validation campaign, or revisit the acceptance criterion"))
            out.append(ValidationTarget(hz.name, hz.title, acc.rate, acc.unit, acc.confidence, failures, required,
                                        reported, status, _src(self.model, acc.location)))
        return out

    def metric_evidence(self, comp: el.Component, fm: el.FailureMode) -> list[tuple[str, str, str]]:
        """(evidence kind, text, status) for the sliced metrics whose slice lies within the trigger's cell."""
        out: list[tuple[str, str, str]] = []
        cell = {(c.attribute, c.value) for c in fm.where}
        for m in comp.ml.metrics if comp.ml else ():
            if not m.where or not {(c.attribute, c.value) for c in m.where} <= cell:
                continue
            found, value = self.metric_value(m.result_key)
            if self.ci is None:
                status = NOT_RUN
            elif not found or value is None:
                status = MISSING
            else:
                status = PASSED if m.holds(value) else FAILED
            shown = f" = {value:g}" if value is not None else ""
            out.append(("metric", f"{m.result_key}{shown} ({m.op} {m.threshold:g})", status))
        return out

    def scenarios(self, rows: list[SotifRow], targets: list[ValidationTarget]) -> list[ScenarioRow]:
        out: list[ScenarioRow] = []
        seen: set[tuple[str, str]] = set()
        for r in rows:
            inst_comp = dict(self.ml_instances)
            comp = inst_comp[r.component]
            triggers = [(t.name, t) for t in comp.failure_modes if t.kind == "trigger"
                        and (f"{r.component}.{t.name}" == r.insufficiency or r.insufficiency.rpartition(".")[2]
                             in t.reveals)]
            if r.kind == SPECIFICATION:
                ev_inst, ev_comp, fm = self.events[r.insufficiency]
                triggers = [(f"{ev_inst}.{fm.name}", fm)]
            for name, t in triggers:
                key = (r.hazard, name)
                if key in seen:
                    continue
                seen.add(key)
                label = name if "." in name else f"{r.component}.{name}"
                evidence = self.metric_evidence(comp, t)
                restricted = [m for m in self.measures(r.component, comp, t, set()) if m.startswith("ODD")]
                if restricted and not evidence:
                    out.append(ScenarioRow(2, label, r.hazard, _cells(t), "ODD restriction",
                                           restricted[0].partition(": ")[2], RESTRICTED))
                elif not evidence:
                    out.append(ScenarioRow(2, label, r.hazard, _cells(t), "", "no metric on this ODD slice", OPEN))
                for kind, text, status in evidence:
                    out.append(ScenarioRow(2, label, r.hazard, _cells(t), kind, text, status))
        for vt in targets:
            unit = UNIT_TEXT[vt.unit]
            shown = f"{vt.reported:.6g} {unit}" if vt.reported is not None else "no exposure reported"
            status = {MET: PASSED, NOT_MET: FAILED, NOT_REPORTED: MISSING, NOT_RUN: NOT_RUN}[vt.status]
            out.append(ScenarioRow(3, f"residual unknown scenarios of {vt.hazard}", vt.hazard, "whole ODD",
                                   "validation exposure", f"{shown}; needs {vt.required:.6g} {unit}", status))
        return out


def build_sotif(model: Model, syntheses: list[SynthesisResult], ci: CiResults | None = None,
                coverage: OddCoverage | None = None) -> SotifReport:
    b = _Builder(model, syntheses, ci)
    rows = b.rows()
    targets = b.targets({r.hazard for r in rows})
    scenarios = b.scenarios(rows, targets)
    return SotifReport(tuple(p for p, _ in b.ml_instances), tuple(rows), tuple(targets), tuple(scenarios),
                       coverage if coverage is not None else build_odd_coverage(model),
                       tuple(dg.sort_unique(b.diagnostics)))
