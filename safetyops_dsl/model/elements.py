"""The semantic model: frozen, typed dataclasses, each with the Location it was written at.

Nothing here knows textX. References stay as `NameRef`s (text + location) and are resolved against a
`Model` index (see model/index.py), so that one file's elements can be built without the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from safetyops_dsl.diagnostics import Location

BASE_DEVIATIONS: tuple[str, ...] = ("omission", "commission", "value", "early", "late")


@dataclass(frozen=True)
class NameRef:
    """A name as written at a use site; resolved later so that unknown names get a located diagnostic."""

    text: str
    location: Location


# -- failure logic expressions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """`port.deviation` (an input deviation) or a failure-mode / trigger name."""

    path: str
    location: Location


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]
    location: Location


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]
    location: Location


@dataclass(frozen=True)
class KofN:
    k: int
    operands: tuple[Expr, ...]
    location: Location


Expr = Ref | And | Or | KofN


def expr_text(expr: Expr, top: bool = True) -> str:
    """The expression as a person writes it (for gate labels)."""
    if isinstance(expr, Ref):
        return expr.path
    if isinstance(expr, KofN):
        return f"{expr.k} of ({', '.join(expr_text(o, True) for o in expr.operands)})"
    word = " and " if isinstance(expr, And) else " or "
    text = word.join(expr_text(o, False) for o in expr.operands)
    return text if top else f"({text})"


def expr_refs(expr: Expr) -> list[Ref]:
    """All references of an expression, in source order."""
    if isinstance(expr, Ref):
        return [expr]
    out: list[Ref] = []
    for op in expr.operands:
        out.extend(expr_refs(op))
    return out


# -- components ---------------------------------------------------------------------------------------------


class PortDirection(StrEnum):
    IN = "in"
    OUT = "out"


@dataclass(frozen=True)
class Port:
    name: str
    direction: PortDirection
    location: Location


@dataclass(frozen=True)
class Aiag:
    """AIAG-VDA FMEA ratings (1..10) where the model gives them."""

    severity: int
    occurrence: int
    detection: int


@dataclass(frozen=True)
class FailureMode:
    name: str
    kind: str  # "failure" (a hardware/software fault) or "trigger" (a SOTIF triggering condition)
    rate_per_hour: float | None  # None when the mode is given as a probability
    probability: float | None  # fixed probability (per demand / per mission), instead of a rate
    quantity_text: str  # as written, for reports: "120 FIT", "1e-6 per h", "probability 0.01"
    description: str
    location: Location
    exposure_hours: float | None = None  # overrides the mission time for this mode
    distribution: str = "exponential"
    safe_fraction: float | None = None  # share of the rate that is safe (FMEDA), 0..1
    aiag: Aiag | None = None
    systematic: bool = False  # a systematic fault (e.g. software): not in the FMEDA hardware metrics


@dataclass(frozen=True)
class Mechanism:
    name: str
    kind: str  # "mechanism" or "monitor" (an ML runtime monitor)
    covers: tuple[NameRef, ...]
    coverage: float  # diagnostic coverage w.r.t. residual / single-point faults, 0..1
    latent_coverage: float | None  # w.r.t. latent multiple-point faults, 0..1; None = same as coverage
    description: str
    location: Location


@dataclass(frozen=True)
class Rule:
    """`port.deviation <- expr`: when the output port shows the deviation."""

    port: str
    deviation: str
    expr: Expr
    location: Location


@dataclass(frozen=True)
class CommonCauseGroup:
    """`ccf NAME covers part.mode, ... MODEL factors`: failure modes of parts that one cause can make fail
    together, quantified by a parametric CCF model (fta/ccf.py)."""

    name: str
    members: tuple[NameRef, ...]  # `part.failure` (a part path, then a failure mode of its type)
    model: str  # beta | mgl | alpha | phi
    factors: tuple[float, ...]  # fractions, in level order from the model's first level
    factors_text: str  # as written, for reports: "5 %", "0.1, 0.27"
    description: str
    location: Location


@dataclass(frozen=True)
class Propagate:
    """`propagate in -> out { deviations }`: each listed input deviation passes to the output unchanged."""

    source: str
    target: str
    deviations: tuple[str, ...]  # empty = every deviation the rules of the model use
    location: Location


@dataclass(frozen=True)
class Part:
    name: str
    type_ref: NameRef
    description: str
    location: Location


@dataclass(frozen=True)
class Connection:
    source: str  # "part.port" or "port" (an input of the enclosing component)
    target: str  # "part.port" or "port" (an output of the enclosing component)
    location: Location
    source_location: Location | None = None
    target_location: Location | None = None


@dataclass(frozen=True)
class Dataset:
    role: str  # train | validation | verification | test
    identity: str
    sha256: str | None
    location: Location


@dataclass(frozen=True)
class Metric:
    name: str
    op: str  # >= <= > < ==
    threshold: float
    location: Location

    def holds(self, value: float) -> bool:
        return {
            ">=": value >= self.threshold,
            "<=": value <= self.threshold,
            ">": value > self.threshold,
            "<": value < self.threshold,
            "==": value == self.threshold,
        }[self.op]


@dataclass(frozen=True)
class MLInfo:
    model_identity: str | None
    model_version: str | None
    datasets: tuple[Dataset, ...]
    metrics: tuple[Metric, ...]


class ComponentKind(StrEnum):
    COMPONENT = "component"
    ML_COMPONENT = "ml_component"
    SYSTEM = "system"


@dataclass(frozen=True)
class Component:
    """A component type (instantiated as parts), an ML component, or a system (a root of instances)."""

    name: str
    package: str
    kind: ComponentKind
    description: str
    ports: tuple[Port, ...]
    failure_modes: tuple[FailureMode, ...]
    mechanisms: tuple[Mechanism, ...]
    rules: tuple[Rule, ...]
    propagates: tuple[Propagate, ...]
    parts: tuple[Part, ...]
    connections: tuple[Connection, ...]
    ml: MLInfo | None
    odd: str | None
    mission_time_hours: float | None
    location: Location
    common_causes: tuple[CommonCauseGroup, ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"

    # Name lookups are cached on first use (large systems have hundreds of parts). cached_property writes
    # into the instance __dict__ directly, which a frozen dataclass allows; equality ignores it.
    @cached_property
    def _port_index(self) -> dict[str, Port]:
        return {p.name: p for p in reversed(self.ports)}

    @cached_property
    def _failure_index(self) -> dict[str, FailureMode]:
        return {f.name: f for f in reversed(self.failure_modes)}

    @cached_property
    def _part_index(self) -> dict[str, Part]:
        return {p.name: p for p in reversed(self.parts)}

    def port(self, name: str) -> Port | None:
        return self._port_index.get(name)

    def failure_mode(self, name: str) -> FailureMode | None:
        return self._failure_index.get(name)

    def part(self, name: str) -> Part | None:
        return self._part_index.get(name)

    def covering(self, mode: str) -> tuple[Mechanism, ...]:
        """The mechanisms and monitors of this component that cover failure mode `mode`, in source order."""
        return tuple(m for m in self.mechanisms if any(r.text == mode for r in m.covers))

    def residual_share(self, fm: FailureMode) -> float:
        """The share of `fm`'s rate (or probability) left after its safe fraction and the diagnostic coverage
        of the mechanisms covering it, taken as independent: (1 - safe) * prod(1 - DC_i)."""
        share = 1.0 - (fm.safe_fraction or 0.0)
        for m in self.covering(fm.name):
            share *= 1.0 - m.coverage
        return share

    @property
    def is_composite(self) -> bool:
        return bool(self.parts)


@dataclass(frozen=True)
class Deviation:
    name: str  # may be dotted: value.stuck
    base: str | None  # the deviation it refines
    description: str
    location: Location
    package: str = ""


# -- hazards, goals, requirements, evidence -----------------------------------------------------------------


@dataclass(frozen=True)
class AsilSpec:
    """An ASIL as written: `D`, `QM`, or decomposed `B(D)` (level B, decomposed from D)."""

    level: str  # QM, A, B, C, D
    decomposed_from: str | None
    location: Location

    def __str__(self) -> str:
        return f"{self.level}({self.decomposed_from})" if self.decomposed_from else self.level


@dataclass(frozen=True)
class ClassValue:
    """S/E/C class as written (`S3`), parsed to its number; validated against the allowed range."""

    text: str
    value: int  # -1 where the text is out of range (already reported)
    location: Location


@dataclass(frozen=True)
class Hazard:
    name: str
    package: str
    title: str
    situation: str
    description: str
    severity: ClassValue | None
    exposure: ClassValue | None
    controllability: ClassValue | None
    typed_asil: AsilSpec | None
    condition: Expr | None  # over system output deviations: `port.deviation` or `part.port.deviation`
    system: NameRef | None
    mission_time_hours: float | None
    location: Location

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"


@dataclass(frozen=True)
class SafetyGoal:
    name: str
    package: str
    title: str
    mitigates: tuple[NameRef, ...]
    safe_state: str
    ftti_seconds: float | None
    target_per_hour: float | None
    typed_asil: AsilSpec | None
    description: str
    location: Location

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"


@dataclass(frozen=True)
class Requirement:
    name: str
    package: str
    title: str
    refines: tuple[NameRef, ...]
    allocated_to: tuple[NameRef, ...]
    asil: AsilSpec | None
    location: Location

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"


@dataclass(frozen=True)
class Evidence:
    name: str
    package: str
    kind: str  # test | analysis | review | metric | inspection
    source: str  # a JUnit test id, a metrics key, a document
    verifies: tuple[NameRef, ...]
    supports: tuple[NameRef, ...]
    artifact: str | None
    artifact_sha256: str | None
    commit: str | None
    location: Location

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"


@dataclass(frozen=True)
class GsnNode:
    name: str
    kind: str  # goal | strategy | solution | context | assumption | justification | away_goal
    text: str
    supports: tuple[NameRef, ...]  # this node supports (is a child of) these
    context_for: tuple[NameRef, ...]  # `for X`: this context/assumption/justification applies to goal/strategy X
    in_context_of: tuple[NameRef, ...]  # `in_context_of C`: this goal/strategy has context/assumption C
    undeveloped: bool
    evidence: tuple[NameRef, ...]
    refers: tuple[NameRef, ...]
    module: str | None
    attach_to: tuple[NameRef, ...]  # generated elements (hazard, goal, requirement) this node hangs under
    location: Location


@dataclass(frozen=True)
class Argument:
    name: str
    package: str
    title: str
    nodes: tuple[GsnNode, ...]
    location: Location

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"


@dataclass(frozen=True)
class PolicyRule:
    mode: str  # require | waive
    rule: str
    reason: str
    location: Location


# -- files and the whole model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    path: str  # as written
    resolved: str  # model-root-relative POSIX path of the imported file ("" when unresolved)
    location: Location


@dataclass(frozen=True)
class SourceFile:
    """One parsed and built file. Cacheable by content hash: it depends on nothing but its own text."""

    path: str  # as displayed in diagnostics (relative to the working directory)
    rel_path: str  # relative to the model root, POSIX: what generated artifacts cite
    package: str
    package_declared: bool
    imports: tuple[Import, ...]
    mission_time_hours: float | None
    deviations: tuple[Deviation, ...] = ()
    components: tuple[Component, ...] = ()
    hazards: tuple[Hazard, ...] = ()
    goals: tuple[SafetyGoal, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    arguments: tuple[Argument, ...] = ()
    policy: tuple[PolicyRule, ...] = ()
    mission_time_location: Location | None = None
    # Element order as written: (kind, name) for the formatter and for stable listings.
    order: tuple[tuple[str, str], ...] = field(default=())
