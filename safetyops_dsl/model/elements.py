"""The semantic model: frozen, typed dataclasses, each with the Location it was written at.

Nothing here knows textX. References stay as `NameRef`s (text + location) and are resolved against a
`Model` index (see model/index.py), so that one file's elements can be built without the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import ClassVar

from safetyops_dsl.diagnostics import Location
from safetyops_dsl.model.schema import LOCATION, compared, key, members, nested, presentation

BASE_DEVIATIONS: tuple[str, ...] = ("omission", "commission", "value", "early", "late")


@dataclass(frozen=True)
class NameRef:
    """A name as written at a use site; resolved later so that unknown names get a located diagnostic."""

    text: str
    location: Location = field(metadata=presentation(LOCATION))


# -- failure logic expressions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """`port.deviation` (an input deviation) or a failure-mode / trigger name."""

    path: str
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...] = field(metadata=compared(ordered=True))
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...] = field(metadata=compared(ordered=True))
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class KofN:
    k: int
    operands: tuple[Expr, ...] = field(metadata=compared(ordered=True))
    location: Location = field(metadata=presentation(LOCATION))


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
    name: str = field(metadata=key())
    direction: PortDirection
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class Aiag:
    """AIAG-VDA FMEA ratings (1..10) where the model gives them."""

    severity: int
    occurrence: int
    detection: int


@dataclass(frozen=True)
class FailureMode:
    name: str = field(metadata=key())
    kind: str  # "failure" (a hardware/software fault) or "trigger" (a SOTIF triggering condition)
    rate_per_hour: float | None = field(metadata=compared(label="rate", unit="FIT"))  # None when given as a probability
    probability: float | None  # fixed probability (per demand / per mission), instead of a rate
    # as written, for reports: "120 FIT", "1e-6 per h", "probability 0.01"
    quantity_text: str = field(metadata=presentation("as written; rate_per_hour and probability carry its value"))
    description: str
    location: Location = field(metadata=presentation(LOCATION))
    exposure_hours: float | None = field(default=None, metadata=compared(label="exposure", unit=" h"))  # overrides the mission time
    distribution: str = "exponential"
    safe_fraction: float | None = field(default=None, metadata=compared(unit="%"))  # share of the rate that is safe (FMEDA), 0..1
    aiag: Aiag | None = None
    systematic: bool = False  # a systematic fault (e.g. software): not in the FMEDA hardware metrics


@dataclass(frozen=True)
class Mechanism:
    name: str = field(metadata=key())
    kind: str  # "mechanism" or "monitor" (an ML runtime monitor)
    covers: tuple[NameRef, ...] = field(metadata=compared(refs="failure_mode"))
    coverage: float = field(metadata=compared(unit="%"))  # diagnostic coverage w.r.t. residual / single-point faults, 0..1
    # w.r.t. latent multiple-point faults, 0..1; None = same as coverage
    latent_coverage: float | None = field(metadata=compared(unit="%"))
    description: str
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class Rule:
    """`port.deviation <- expr`: when the output port shows the deviation."""

    SOPS_KEY: ClassVar[str] = "{port}.{deviation}"

    port: str = field(metadata=key())
    deviation: str = field(metadata=key())
    expr: Expr = field(metadata=compared(label="logic", refs="failure_mode"))
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class CommonCauseGroup:
    """`ccf NAME covers part.mode, ... MODEL factors`: failure modes of parts that one cause can make fail
    together, quantified by a parametric CCF model (fta/ccf.py)."""

    name: str = field(metadata=key())
    # `part.failure` (a part path, then a failure mode of its type)
    members: tuple[NameRef, ...] = field(metadata=compared(label="covers", refs="ccf_member"))
    model: str  # beta | mgl | alpha | phi
    factors: tuple[float, ...] = field(metadata=compared(ordered=True, unit="%"))  # fractions, in level order from the first level
    # as written, for reports: "5 %", "0.1, 0.27"
    factors_text: str = field(metadata=presentation("as written; factors carry its value"))
    description: str
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class Propagate:
    """`propagate in -> out { deviations }`: each listed input deviation passes to the output unchanged."""

    SOPS_KEY: ClassVar[str] = "{source} -> {target}"

    source: str = field(metadata=key())
    target: str = field(metadata=key())
    deviations: tuple[str, ...]  # empty = every deviation the rules of the model use
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class Part:
    name: str = field(metadata=key())
    type_ref: NameRef = field(metadata=compared(label="type"))
    description: str
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class Connection:
    source: str  # "part.port" or "port" (an input of the enclosing component)
    target: str = field(metadata=key())  # "part.port" or "port" (an output of the enclosing component): it has one driver
    location: Location = field(metadata=presentation(LOCATION))
    source_location: Location | None = field(default=None, metadata=presentation(LOCATION))
    target_location: Location | None = field(default=None, metadata=presentation(LOCATION))


@dataclass(frozen=True)
class Dataset:
    SOPS_KEY: ClassVar[str] = "{role} {identity}"

    role: str = field(metadata=key())  # train | validation | verification | test
    identity: str = field(metadata=key())
    sha256: str | None
    location: Location = field(metadata=presentation(LOCATION))
    # A DVC pin: the `.dvc` file or `dvc.lock` (relative to the model root) and, in dvc.lock, the output's path.
    dvc: str | None = field(default=None, metadata=compared(label="dvc file"))
    dvc_out: str | None = field(default=None, metadata=compared(label="dvc output"))
    # The md5 DVC records for the pinned data, read when the model is loaded (parse/dvc_pins.py): a new
    # `dvc add` changes it, and with it every metric measured on the dataset (sops diff, staleness).
    md5: str | None = field(default=None, metadata=compared(label="md5"))
    # the data the pin tracks, relative to the model root (read with md5): what a DVC stage's deps name
    dvc_data: str | None = field(default=None, metadata=presentation("read from the DVC file; a change of data shows in md5"))

    @property
    def digest(self) -> str | None:
        return self.sha256 or self.md5


@dataclass(frozen=True)
class Metric:
    name: str = field(metadata=key())
    op: str  # >= <= > < ==
    threshold: float
    location: Location = field(metadata=presentation(LOCATION))

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
    model_identity: str | None = field(metadata=compared(label="identity"))
    model_version: str | None = field(metadata=compared(label="version"))
    datasets: tuple[Dataset, ...] = field(metadata=members("dataset"))
    metrics: tuple[Metric, ...] = field(metadata=members("metric"))
    # the `model "NAME"` line: where a model registry's answer about NAME and its version is reported
    model_location: Location | None = field(default=None, metadata=presentation(LOCATION))


class ComponentKind(StrEnum):
    COMPONENT = "component"
    ML_COMPONENT = "ml_component"
    SYSTEM = "system"


@dataclass(frozen=True)
class Component:
    """A component type (instantiated as parts), an ML component, or a system (a root of instances)."""

    name: str = field(metadata=key())
    package: str = field(metadata=key())
    kind: ComponentKind
    description: str
    ports: tuple[Port, ...] = field(metadata=members("port"))
    failure_modes: tuple[FailureMode, ...] = field(metadata=members("failure_mode"))
    mechanisms: tuple[Mechanism, ...] = field(metadata=members("mechanism"))
    rules: tuple[Rule, ...] = field(metadata=members("rule"))
    propagates: tuple[Propagate, ...] = field(metadata=members("propagate"))
    parts: tuple[Part, ...] = field(metadata=members("part"))
    connections: tuple[Connection, ...] = field(metadata=members("connection"))
    ml: MLInfo | None = field(metadata=nested("ml_model"))
    odd: str | None
    mission_time_hours: float | None = field(metadata=compared(label="mission_time", unit=" h"))
    location: Location = field(metadata=presentation(LOCATION))
    common_causes: tuple[CommonCauseGroup, ...] = field(default=(), metadata=members("ccf_group"))

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
    name: str = field(metadata=key())  # may be dotted: value.stuck
    base: str | None = field(metadata=compared(label="refines"))  # the deviation it refines
    description: str
    location: Location = field(metadata=presentation(LOCATION))
    package: str = field(default="", metadata=presentation("deviations are one namespace across packages; where it is declared "
                                "does not change what it means"))


# -- hazards, goals, requirements, evidence -----------------------------------------------------------------


@dataclass(frozen=True)
class AsilSpec:
    """An ASIL as written: `D`, `QM`, or decomposed `B(D)` (level B, decomposed from D)."""

    level: str  # QM, A, B, C, D
    decomposed_from: str | None
    location: Location = field(metadata=presentation(LOCATION))

    def __str__(self) -> str:
        return f"{self.level}({self.decomposed_from})" if self.decomposed_from else self.level


@dataclass(frozen=True)
class ClassValue:
    """S/E/C class as written (`S3`), parsed to its number; validated against the allowed range."""

    text: str
    value: int = field(metadata=presentation("parsed from text"))  # -1 where the text is out of range (already reported)
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class Hazard:
    name: str = field(metadata=key())
    package: str = field(metadata=key())
    title: str
    situation: str
    description: str
    severity: ClassValue | None
    exposure: ClassValue | None
    controllability: ClassValue | None
    typed_asil: AsilSpec | None = field(metadata=compared(label="asil"))
    # over system output deviations: `port.deviation` or `part.port.deviation`
    condition: Expr | None = field(metadata=compared(label="when", refs="port"))
    system: NameRef | None = field(metadata=compared(refs=""))
    mission_time_hours: float | None = field(metadata=compared(label="mission_time", unit=" h"))
    location: Location = field(metadata=presentation(LOCATION))

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"


@dataclass(frozen=True)
class SafetyGoal:
    name: str = field(metadata=key())
    package: str = field(metadata=key())
    title: str
    mitigates: tuple[NameRef, ...] = field(metadata=compared(refs=""))
    safe_state: str
    ftti_seconds: float | None = field(metadata=compared(label="ftti", unit=" s"))
    target_per_hour: float | None = field(metadata=compared(label="target", unit=" per h"))
    typed_asil: AsilSpec | None = field(metadata=compared(label="asil"))
    description: str
    location: Location = field(metadata=presentation(LOCATION))

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"


@dataclass(frozen=True)
class Requirement:
    name: str = field(metadata=key())
    package: str = field(metadata=key())
    title: str
    refines: tuple[NameRef, ...] = field(metadata=compared(refs=""))
    allocated_to: tuple[NameRef, ...] = field(metadata=compared(refs=""))
    asil: AsilSpec | None
    location: Location = field(metadata=presentation(LOCATION))

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"


@dataclass(frozen=True)
class Evidence:
    name: str = field(metadata=key())
    package: str = field(metadata=key())
    kind: str  # test | analysis | review | metric | inspection
    source: str  # a JUnit test id, a metrics key, a document
    verifies: tuple[NameRef, ...] = field(metadata=compared(refs=""))
    supports: tuple[NameRef, ...] = field(metadata=compared(refs=""))
    artifact: str | None
    artifact_sha256: str | None = field(metadata=compared(label="sha256"))
    commit: str | None
    location: Location = field(metadata=presentation(LOCATION))

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"


@dataclass(frozen=True)
class GsnNode:
    name: str = field(metadata=key())
    kind: str  # goal | strategy | solution | context | assumption | justification | away_goal
    text: str
    supports: tuple[NameRef, ...] = field(metadata=compared(refs=""))  # this node supports (is a child of) these
    # `for X`: this context/assumption/justification applies to goal/strategy X
    context_for: tuple[NameRef, ...] = field(metadata=compared(refs=""))
    # `in_context_of C`: this goal/strategy has context/assumption C
    in_context_of: tuple[NameRef, ...] = field(metadata=compared(refs=""))
    undeveloped: bool
    evidence: tuple[NameRef, ...] = field(metadata=compared(refs=""))
    refers: tuple[NameRef, ...] = field(metadata=compared(refs=""))
    module: str | None
    # generated elements (hazard, goal, requirement) this node hangs under
    attach_to: tuple[NameRef, ...] = field(metadata=compared(refs=""))
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class Argument:
    name: str = field(metadata=key())
    package: str = field(metadata=key())
    title: str
    nodes: tuple[GsnNode, ...] = field(metadata=members("gsn_node"))
    location: Location = field(metadata=presentation(LOCATION))

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"


@dataclass(frozen=True)
class PolicyRule:
    mode: str  # require | waive
    rule: str = field(metadata=key())
    reason: str
    location: Location = field(metadata=presentation(LOCATION))


# -- files and the whole model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    path: str = field(metadata=presentation("an import only makes names visible: what it changes shows in the references "
                             "it resolves"))  # as written
    # model-root-relative POSIX path of the imported file ("" when unresolved)
    resolved: str = field(metadata=presentation("see path"))
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class SourceFile:
    """One parsed and built file. Cacheable by content hash: it depends on nothing but its own text."""

    # as displayed in diagnostics (relative to the working directory)
    path: str = field(metadata=presentation("elements are matched by qualified name, not by the file they are in"))
    rel_path: str = field(metadata=presentation("see path"))  # relative to the model root, POSIX: what generated artifacts cite
    package: str = field(metadata=key())
    package_declared: bool = field(metadata=presentation("the package is compared through the qualified names it gives"))
    imports: tuple[Import, ...] = field(metadata=presentation("see Import.path"))
    mission_time_hours: float | None = field(metadata=compared(label="hours", unit=" h"))  # per package (Model.mission_time_by_package)
    deviations: tuple[Deviation, ...] = field(default=(), metadata=members("deviation"))
    components: tuple[Component, ...] = field(default=(), metadata=members("component"))
    hazards: tuple[Hazard, ...] = field(default=(), metadata=members("hazard"))
    goals: tuple[SafetyGoal, ...] = field(default=(), metadata=members("safety_goal"))
    requirements: tuple[Requirement, ...] = field(default=(), metadata=members("requirement"))
    evidence: tuple[Evidence, ...] = field(default=(), metadata=members("evidence"))
    arguments: tuple[Argument, ...] = field(default=(), metadata=members("argument"))
    policy: tuple[PolicyRule, ...] = field(default=(), metadata=members("policy"))
    mission_time_location: Location | None = field(default=None, metadata=presentation(LOCATION))
    # Element order as written: (kind, name) for the formatter and for stable listings.
    order: tuple[tuple[str, str], ...] = field(default=(), metadata=presentation("the order elements are written in"))
