"""FMEA from the model: one row per failure mode of each component instance.

Every column is derived, never typed in, so the table cannot drift from the design:

- local effect: the output deviations of the instance itself whose rules name the failure mode;
- next-level effect: the output deviations at the parent's boundary that depend on the mode through the
  deviation dependency graph (model/propagation.py), named like fault-tree gates
  (`AEB.radars.tracks.omission`); for parts of the system itself the parent's boundary is the system's;
- system effect: the hazards whose synthesised fault tree has a minimal cut set containing the mode's basic
  event; "single point for" lists the hazards where the mode alone is a minimal cut set (order 1);
- worst severity / ASIL: the highest S class and derived ASIL among those hazards;
- coverage: the safety mechanisms of the component that cover the mode, combined as 1 - prod(1 - DC_i),
  exactly as synthesis does; residual rate = rate x (1 - safe fraction) x (1 - coverage);
- AIAG-VDA: S/O/D as written in the model and the Action Priority from the AIAG & VDA FMEA Handbook (2019)
  design-FMEA table (`action_priority`).

Cut sets come from the tree structure only (no cut-off, no listing limit), so a well covered mode is never
dropped for having a small probability.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from safetyops_dsl.analysis.synthesis import SynthesisResult, synthesise_all
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.instances import Instance
from safetyops_dsl.model.iso26262 import max_asil
from safetyops_dsl.model.propagation import BoundaryCause, DevNode, NodeCause, Propagation, RuleCause
from safetyops_dsl.model.semantics import derived_asil

# -- shared helpers (also used by the FMEDA) ----------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """One safety mechanism (or ML monitor) covering a failure mode."""

    name: str
    kind: str  # "mechanism" or "monitor"
    coverage: float  # DC w.r.t. single-point / residual faults, 0..1
    latent_coverage: float  # DC w.r.t. latent faults; the coverage where the model gives none

    def text(self) -> str:
        out = f"{self.name} {_pct(self.coverage)} %"
        if self.latent_coverage != self.coverage:
            out += f" (latent {_pct(self.latent_coverage)} %)"
        return out


def _pct(x: float) -> str:
    return f"{x * 100:.10g}"


def mechanisms_for(component: el.Component, fm: el.FailureMode) -> tuple[Coverage, ...]:
    """The mechanisms of `component` that cover `fm`, in source order (the same matching as synthesis)."""
    return tuple(
        Coverage(m.name, m.kind, m.coverage, m.latent_coverage if m.latent_coverage is not None else m.coverage)
        for m in component.covering(fm.name)
    )


def combined(values: Iterable[float]) -> float:
    """Independent mechanisms: the fault escapes only if it escapes each one: 1 - prod(1 - DC_i)."""
    escape = 1.0
    for v in values:
        escape *= 1.0 - v
    return 1.0 - escape


@dataclass(frozen=True)
class ModeRef:
    """A failure mode of one component instance: the unit both tables are made of."""

    event: str  # basic-event name: `<instance path>.<failure mode>`
    system: str
    instance: Instance
    mode: el.FailureMode


def instance_modes(model: Model) -> list[ModeRef]:
    """Every failure mode of every instance of every system, ordered by event name."""
    out: list[ModeRef] = []
    for system in model.systems():
        for inst in model.instances(system).walk():
            for fm in inst.component.failure_modes:
                out.append(ModeRef(f"{inst.path}.{fm.name}", system.name, inst, fm))
    out.sort(key=lambda r: r.event)
    return out


def structural_cut_sets(results: Sequence[SynthesisResult]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Hazard name -> all minimal cut sets of its tree, over failure modes (CCF groups not applied: a common
    cause is a dependent failure of the members, not a single-point fault of either). Cut sets depend on the
    structure only: no cut-off and no listing limit, so the probabilities (residual rates) cannot hide a cut
    set."""

    options = AnalysisOptions(cut_off=0.0, cut_set_limit=None, importance=False)
    out: dict[str, tuple[tuple[str, ...], ...]] = {}
    for r in results:
        if "NEVER" in r.structure.house_events:  # synthesis found no way to the hazard
            out[r.hazard.name] = ()
            continue
        out[r.hazard.name] = tuple(sorted(analyse(r.structure, options).cut_sets))
    return out


# -- AIAG-VDA action priority -------------------------------------------------------------------------------

# AIAG & VDA FMEA Handbook (2019), Action Priority table for design FMEA. Rows: severity band, occurrence band;
# the four letters are for detection 7-10, 5-6, 2-4, 1.
_S_BANDS = ((9, 10), (7, 8), (4, 6), (2, 3), (1, 1))
_O_BANDS = ((8, 10), (6, 7), (4, 5), (2, 3), (1, 1))
_D_BANDS = ((7, 10), (5, 6), (2, 4), (1, 1))
_AP_TABLE: dict[tuple[int, int], str] = {
    # S 9-10
    (0, 0): "HHHH", (0, 1): "HHHH", (0, 2): "HHHM", (0, 3): "HMLL", (0, 4): "LLLL",
    # S 7-8
    (1, 0): "HHHH", (1, 1): "HHHM", (1, 2): "HMMM", (1, 3): "MMLL", (1, 4): "LLLL",
    # S 4-6
    (2, 0): "HHMM", (2, 1): "MMML", (2, 2): "MLLL", (2, 3): "LLLL", (2, 4): "LLLL",
    # S 2-3
    (3, 0): "MMLL", (3, 1): "LLLL", (3, 2): "LLLL", (3, 3): "LLLL", (3, 4): "LLLL",
    # S 1
    (4, 0): "LLLL", (4, 1): "LLLL", (4, 2): "LLLL", (4, 3): "LLLL", (4, 4): "LLLL",
}


def _band(value: int, bands: tuple[tuple[int, int], ...]) -> int:
    for i, (lo, hi) in enumerate(bands):
        if lo <= value <= hi:
            return i
    raise ValueError(f"rating {value} is outside 1..10")


def action_priority(severity: int, occurrence: int, detection: int) -> str:
    """H, M or L for AIAG-VDA ratings 1..10 (ValueError outside)."""
    return _AP_TABLE[(_band(severity, _S_BANDS), _band(occurrence, _O_BANDS))][_band(detection, _D_BANDS)]


# -- the table ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HazardInfo:
    name: str
    title: str
    severity: int | None  # S class 0..3
    asil: str | None  # derived from S, E, C


@dataclass(frozen=True)
class FmeaRow:
    system: str
    instance: str  # instance path, e.g. AEB.ecu
    component: str  # component type
    component_kind: str  # component | ml_component | system
    failure_mode: str
    kind: str  # failure | trigger
    description: str
    quantity: str  # as written: "120 FIT", "probability 0.02"
    rate_per_hour: float | None
    probability: float | None
    safe_fraction: float
    local_effects: tuple[str, ...]
    next_level_effects: tuple[str, ...]
    hazards: tuple[str, ...]  # system effect
    single_point_for: tuple[str, ...]
    mechanisms: tuple[Coverage, ...]
    coverage: float
    worst_severity: int | None
    worst_asil: str | None
    residual_rate_per_hour: float | None
    residual_probability: float | None
    aiag: el.Aiag | None
    action_priority: str | None
    source: str  # model-root-relative file:line of the failure mode

    @property
    def event(self) -> str:
        return f"{self.instance}.{self.failure_mode}"


@dataclass(frozen=True)
class FmeaTable:
    rows: tuple[FmeaRow, ...]
    hazards: tuple[HazardInfo, ...]
    has_aiag: bool


def _local_effects(inst: Instance, fm: el.FailureMode) -> tuple[str, ...]:
    found = {
        f"{rule.port}.{rule.deviation}"
        for rule in inst.component.rules
        if any(ref.path == fm.name for ref in el.expr_refs(rule.expr))
    }
    return tuple(sorted(found))


def _reachable_modes(prop: Propagation, start: DevNode) -> set[tuple[str, str]]:
    """(instance path, failure mode) pairs the deviation `start` depends on, ignoring the Boolean structure."""
    seen = {start}
    queue = deque([start])
    found: set[tuple[str, str]] = set()
    while queue:
        node = queue.popleft()
        for cause in prop.causes(node):
            nxt: list[DevNode] = []
            if isinstance(cause, NodeCause):
                nxt.append(cause.node)
            elif isinstance(cause, RuleCause):
                for ref in el.expr_refs(cause.rule.expr):
                    port, dot, dev = ref.path.partition(".")
                    if dot:
                        nxt.append(DevNode("in", cause.instance, port, dev))
                    else:
                        found.add((cause.instance, ref.path))
            elif isinstance(cause, BoundaryCause):
                continue
            for n in nxt:
                if n not in seen:
                    seen.add(n)
                    queue.append(n)
    return found


def _most_specific(effects: set[tuple[str, str, str]]) -> tuple[str, ...]:
    """Drop `p.value` where a refinement `p.value.stuck` of the same port is listed: querying a base
    deviation also matches the rules of its refinements, so the base adds nothing."""
    keep = []
    for inst, port, dev in effects:
        if any(i == inst and p == port and d.startswith(dev + ".") for i, p, d in effects):
            continue
        keep.append(f"{inst}.{port}.{dev}")
    return tuple(sorted(keep))


def _boundary_effects(model: Model, prop: Propagation, boundary: Instance) -> dict[tuple[str, str], tuple[str, ...]]:
    """(instance path, failure mode) -> the output deviations of `boundary` that depend on it."""
    deviations = sorted(model.all_deviations())
    raw: dict[tuple[str, str], set[tuple[str, str, str]]] = {}
    for port in boundary.component.ports:
        if port.direction is not el.PortDirection.OUT:
            continue
        for dev in deviations:
            for key in _reachable_modes(prop, DevNode("out", boundary.path, port.name, dev)):
                raw.setdefault(key, set()).add((boundary.path, port.name, dev))
    return {k: _most_specific(v) for k, v in raw.items()}


def hazard_infos(results: Sequence[SynthesisResult]) -> dict[str, HazardInfo]:

    out: dict[str, HazardInfo] = {}
    for r in results:
        hz = r.hazard
        sev = hz.severity.value if hz.severity is not None and hz.severity.value >= 0 else None
        out[hz.name] = HazardInfo(hz.name, hz.title, sev, derived_asil(hz))
    return out


def build_fmea(model: Model, results: Sequence[SynthesisResult] | None = None) -> FmeaTable:
    """The FMEA of every system of `model`. `results` are the synthesised trees (synthesised here if None)."""

    if results is None:
        results = synthesise_all(model)
    cut_sets = structural_cut_sets(results)
    infos = hazard_infos(results)
    hazards_of: dict[str, set[str]] = {}
    single_of: dict[str, set[str]] = {}
    for hz, sets in cut_sets.items():
        for cs in sets:
            for e in cs:
                hazards_of.setdefault(e, set()).add(hz)
            if len(cs) == 1:
                single_of.setdefault(cs[0], set()).add(hz)

    props: dict[str, Propagation] = {}
    boundary_cache: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {}
    rows: list[FmeaRow] = []
    for ref in instance_modes(model):
        inst, fm = ref.instance, ref.mode
        root = inst
        while root.parent is not None:
            root = root.parent
        prop = props.setdefault(root.path, Propagation(model, root))
        boundary = inst.parent
        if boundary is None:
            nxt: tuple[str, ...] = ()
        else:
            if boundary.path not in boundary_cache:
                boundary_cache[boundary.path] = _boundary_effects(model, prop, boundary)
            nxt = boundary_cache[boundary.path].get((inst.path, fm.name), ())
        mechs = mechanisms_for(inst.component, fm)
        cov = combined(m.coverage for m in mechs)
        safe = fm.safe_fraction or 0.0
        reached = sorted(hazards_of.get(ref.event, ()))
        sevs = [infos[h].severity for h in reached if infos[h].severity is not None]
        asils = [a for a in (infos[h].asil for h in reached) if a is not None]
        ap = action_priority(fm.aiag.severity, fm.aiag.occurrence, fm.aiag.detection) if fm.aiag else None
        rows.append(
            FmeaRow(
                system=ref.system,
                instance=inst.path,
                component=inst.component.name,
                component_kind=inst.component.kind.value,
                failure_mode=fm.name,
                kind=fm.kind,
                description=fm.description,
                quantity=fm.quantity_text,
                rate_per_hour=fm.rate_per_hour,
                probability=fm.probability,
                safe_fraction=safe,
                local_effects=_local_effects(inst, fm),
                next_level_effects=nxt,
                hazards=tuple(reached),
                single_point_for=tuple(sorted(single_of.get(ref.event, ()))),
                mechanisms=mechs,
                coverage=cov,
                worst_severity=max(s for s in sevs if s is not None) if sevs else None,
                worst_asil=max_asil(asils) if asils else None,
                residual_rate_per_hour=(
                    fm.rate_per_hour * (1.0 - safe) * (1.0 - cov) if fm.rate_per_hour is not None else None
                ),
                residual_probability=(
                    fm.probability * (1.0 - safe) * (1.0 - cov) if fm.probability is not None else None
                ),
                aiag=fm.aiag,
                action_priority=ap,
                source=f"{model.rel_path(fm.location.file)}:{fm.location.line}",
            )
        )
    return FmeaTable(
        rows=tuple(rows),
        hazards=tuple(infos[k] for k in sorted(infos)),
        has_aiag=any(r.aiag is not None for r in rows),
    )
