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
    # a loop over a stack, not recursion: called for every rule of every component by several checks
    # (a tenth of validation's time when it built a list per sub-expression)
    out: list[Ref] = []
    stack: list[Expr] = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, Ref):
            out.append(e)
        else:
            stack.extend(reversed(e.operands))
    return out


# -- named parameters and quantity expressions --------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    """A literal, converted to the base unit of its dimension (per hour, hours)."""

    value: float
    dim: int  # exponent of the hour: -1 a rate, 1 a time, 0 a pure number
    text: str = field(metadata=presentation("as written; value and dim carry its meaning"))

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class ParamUse:
    """A parameter named in an expression (resolved like every other name: own package first)."""

    name: str
    location: Location = field(metadata=presentation(LOCATION))

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * /
    left: QExpr
    right: QExpr
    location: Location = field(metadata=presentation(LOCATION))

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


QExpr = Num | ParamUse | BinOp


def qexpr_uses(expr: QExpr) -> list[ParamUse]:
    """The parameters an expression names, in source order."""
    if isinstance(expr, ParamUse):
        return [expr]
    if isinstance(expr, BinOp):
        return qexpr_uses(expr.left) + qexpr_uses(expr.right)
    return []


@dataclass(frozen=True)
class Uncertainty:
    """`uncertainty lognormal ef 3 | gamma shape 2 | beta alpha 2 | uniform LO to HI | normal sd S | histogram from
    LO to E1 weight W1, to E2 weight W2, ...`: the spread of a rate or probability around its written value,
    which is the mean (lognormal, gamma, beta, normal) or lies between the bounds (uniform, histogram). `a`,
    `b`: the numbers (ef / shape / alpha; LO and HI; sd; the histogram's lower boundary), in base units;
    `edges`, `weights`: a histogram's upper bin boundaries and weights."""

    kind: str
    a: float
    b: float = 0.0
    location: Location = field(default=Location(""), metadata=presentation(LOCATION))
    a_dim: int = field(default=0, metadata=presentation("the unit a was written in; checked, a holds base units"))
    b_dim: int = field(default=0, metadata=presentation("the unit b was written in; checked, b holds base units"))
    edges: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()
    edge_dims: tuple[int, ...] = field(default=(), metadata=presentation(
        "the units the edges were written in; checked, edges hold base units"))
    # where each bin was written, for positioned diagnostics on one bin
    bin_locations: tuple[Location, ...] = field(default=(), metadata=presentation(LOCATION))

    def __str__(self) -> str:
        if self.kind == "histogram":
            return f"histogram from {self.a:g} " + ", ".join(
                f"to {e:g} weight {w:g}" for e, w in zip(self.edges, self.weights, strict=True))
        if self.kind == "uniform":
            return f"uniform {self.a:g} to {self.b:g}"
        word = {"lognormal": "ef", "gamma": "shape", "beta": "alpha", "normal": "sd"}[self.kind]
        return f"{self.kind} {word} {self.a:g}"


@dataclass(frozen=True)
class Parameter:
    """`parameter NAME = expression`: a named value (a rate, a time or a pure number) shared by failure modes."""

    name: str = field(metadata=key())
    package: str = field(metadata=key())
    expr: QExpr = field(metadata=compared(label="value"))
    description: str
    location: Location = field(metadata=presentation(LOCATION))
    uncertainty: Uncertainty | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"


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
class ProofTest:
    """`proof_test every T [first T0] [lasting D] [coverage C %]` on a failure mode (times in hours)."""

    interval_hours: float = field(metadata=compared(label="interval", unit=" h"))
    first_hours: float = field(metadata=compared(label="first", unit=" h"))  # the interval unless written
    duration_hours: float = field(metadata=compared(label="lasting", unit=" h"))  # 0 unless written
    coverage: float = field(metadata=compared(unit="%"))  # share of the rate a test reveals, 0..1
    location: Location = field(metadata=presentation(LOCATION))


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
    # the rate or probability as an expression over parameters (None for a plain literal); the model's
    # assembly evaluates it into rate_per_hour / probability
    quantity_expr: QExpr | None = field(default=None, metadata=compared(label="expression"))
    # `exposure N x mission`: the exposure as a multiple of the mission time of the tree it is in
    exposure_missions: float | None = field(default=None, metadata=compared(label="exposure", unit=" x mission"))
    proof_test: ProofTest | None = None
    mttr_hours: float | None = field(default=None, metadata=compared(label="mttr", unit=" h"))
    uncertainty: Uncertainty | None = None

    # a trigger's `where light = night and ...`: the ODD cell(s) the triggering condition occurs in
    where: tuple[SliceCondition, ...] = field(default=(), metadata=compared(label="where", ordered=True))
    # a trigger's `reveals MissedDetection`: the failure modes of its component whose errors it brings out (the
    # failure modes' rates count those errors, so such a trigger need not be an event of the failure logic)
    reveals: tuple[str, ...] = field(default=(), metadata=compared())

    @property
    def is_rate(self) -> bool:
        """Written as a rate (else as a probability), whether or not its expression could be evaluated."""
        return not self.quantity_text.startswith("probability")


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
class InputAssumption:
    """`assume port.deviation probability P` or `assume port.deviation outside`: what the analysis takes for a
    deviation that arrives at a system input from outside the model."""

    SOPS_KEY: ClassVar[str] = "{port}.{deviation}"

    port: str = field(metadata=key())
    deviation: str = field(metadata=key())
    probability: float | None  # None: outside the analysis (or an expression not yet evaluated)
    outside: bool
    quantity_expr: QExpr | None = field(metadata=compared(label="expression"))
    description: str
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
class SliceCondition:
    """`attribute = value`: one ODD attribute fixed to one of its values (a metric slice, a trigger's cell)."""

    attribute: str
    value: str
    location: Location = field(metadata=presentation(LOCATION))

    def __str__(self) -> str:
        return f"{self.attribute}={self.value}"


def slice_key(conditions: tuple[SliceCondition, ...]) -> str:
    """The suffix a sliced metric is looked up by in CI results: `[light=night,road_type=urban]` (conditions
    sorted by attribute, so the key does not depend on the order they are written in); "" for no slice."""
    if not conditions:
        return ""
    return "[" + ",".join(str(c) for c in sorted(conditions, key=lambda c: (c.attribute, c.value))) + "]"


@dataclass(frozen=True)
class OddAttribute:
    """One ODD attribute: its domain (every value the taxonomy allows) and the part of it inside the ODD.
    Enumerated (`light day, night of day, dusk, night`) or a range (`speed 0 .. 130 km/h of 0 .. 250`)."""

    name: str = field(metadata=key())
    values: tuple[str, ...] = field(metadata=compared(label="in ODD", ordered=True))  # () for a range
    domain: tuple[str, ...] = field(metadata=compared(ordered=True))
    low: float | None = field(metadata=compared())
    high: float | None = field(metadata=compared())
    unit: str = field(metadata=compared())
    domain_low: float | None = field(metadata=compared())
    domain_high: float | None = field(metadata=compared())
    location: Location = field(metadata=presentation(LOCATION))
    value_locations: tuple[Location, ...] = field(default=(), metadata=presentation(LOCATION))

    @property
    def is_range(self) -> bool:
        return self.low is not None

    def text(self) -> str:
        if self.is_range:
            return f"{self.low:g} .. {self.high:g} {self.unit}"
        return ", ".join(self.values)


@dataclass(frozen=True)
class Odd:
    """`odd "sentence" { attributes }`: the operational design domain as text and as data."""

    text: str = field(metadata=compared())
    attributes: tuple[OddAttribute, ...] = field(metadata=members("odd_attribute"))
    location: Location = field(metadata=presentation(LOCATION))

    def attribute(self, name: str) -> OddAttribute | None:
        return next((a for a in self.attributes if a.name == name), None)


@dataclass(frozen=True)
class Dataset:
    SOPS_KEY: ClassVar[str] = "{role} {identity}"

    role: str = field(metadata=key())  # train | validation | verification | test
    identity: str = field(metadata=key())
    sha256: str | None
    location: Location = field(metadata=presentation(LOCATION))
    # `coverage "manifest.json" min N`: sample counts per ODD cell (analysis/odd_coverage.py)
    coverage_manifest: str | None = field(default=None, metadata=compared(label="coverage"))
    min_samples: int = field(default=1, metadata=compared(label="min samples"))
    coverage_location: Location | None = field(default=None, metadata=presentation(LOCATION))
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
    SOPS_KEY: ClassVar[str] = "{name}{slice_key}"

    name: str = field(metadata=key())
    op: str  # >= <= > < ==
    threshold: float
    location: Location = field(metadata=presentation(LOCATION))
    where: tuple[SliceCondition, ...] = field(default=(), metadata=presentation("carried by slice_key"))
    slice_key: str = field(default="", metadata=key())  # `[light=night]`, see slice_key()

    @property
    def result_key(self) -> str:
        """The key CI metric results hold this metric's value under: `recall[light=night]`."""
        return self.name + self.slice_key

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
    odd: Odd | None = field(metadata=nested("odd"))
    mission_time_hours: float | None = field(metadata=compared(label="mission_time", unit=" h"))
    location: Location = field(metadata=presentation(LOCATION))
    common_causes: tuple[CommonCauseGroup, ...] = field(default=(), metadata=members("ccf_group"))
    # IEC 61508-2 Route 1H: "A" or "B" as written (validated against the package's standard), None: not given
    element_type: str | None = None
    systematic_capability: int | None = None  # SC 1..4
    profile_locations: tuple[Location, ...] = field(default=(), metadata=presentation(
        "where element_type / systematic_capability were written, for diagnostics"))
    assumptions: tuple[InputAssumption, ...] = field(default=(), metadata=members("assumption"))

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

    def assumption(self, port: str, deviation: str) -> InputAssumption | None:
        """The assumption about `port.deviation`, or about `port` for every deviation (`assume port ...`)."""
        found = None
        for a in self.assumptions:
            if a.port == port and a.deviation == deviation:
                return a
            if a.port == port and not a.deviation:
                found = a
        return found

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
class Frequency:
    """`1e-4 per y`: an event frequency, kept per hour."""

    per_hour: float = field(metadata=compared(unit=" per h"))
    text: str = field(metadata=presentation("as written; per_hour carries its value"))


@dataclass(frozen=True)
class Lopa:
    """IEC 61511-3 layer of protection analysis of one hazard: initiating demand rate, the PFDs of the other
    independent protection layers, the tolerable frequency of the consequence."""

    demand: Frequency
    ipl_pfds: tuple[float, ...] = field(metadata=compared(ordered=True))
    tolerable: Frequency
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class RiskGraphClasses:
    """A hazard's classes on its package's calibrated risk graph (IEC 61508-5 Annex E / IEC 61511-3 Annex D):
    one level per parameter as written (`C2, F1, P2, W2`), or C, F, P and the demand rate that the graph's W
    bands classify."""

    classes: tuple[str, ...] = field(metadata=compared(ordered=True))
    demand: Frequency | None = field(metadata=compared(label="demand"))
    location: Location = field(metadata=presentation(LOCATION))

    def __str__(self) -> str:
        return ", ".join(self.classes) + (f" demand {self.demand.text}" if self.demand is not None else "")


@dataclass(frozen=True)
class Acceptance:
    """SOTIF acceptance criterion of a hazard (ISO 21448 clause 6.5): the tolerated rate of the hazardous
    behaviour per unit of exposure, the confidence to show it at, and the CI metric keys that report the
    validation exposure and the failures observed in it."""

    rate: float = field(metadata=compared())
    unit: str = field(metadata=compared())  # h | km | scenario; "" when not written (SOPS126)
    confidence: float = field(metadata=compared(unit="%"))  # 0..1
    exposure_key: str | None = field(metadata=compared(label="exposure"))
    failures_key: str | None = field(metadata=compared(label="failures"))
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
    lopa: Lopa | None = None  # IEC 61511
    probability: ClassValue | None = None  # ISO 14971: probability of harm, on the model's scale
    residual_severity: ClassValue | None = None  # ISO 14971: after the risk control measures (None: unchanged)
    residual_probability: ClassValue | None = None
    phases: tuple[str, ...] = field(default=(), metadata=compared(ordered=True))  # ARP4761A flight phases
    function: str = ""  # ARP4761A: the aircraft function whose failure condition this is
    # the attributes as written, keyword -> where: a standard that does not use one reports it there
    attribute_locations: tuple[tuple[str, Location], ...] = field(default=(), metadata=presentation(
        "where each attribute was written, for diagnostics"))
    acceptance: Acceptance | None = field(default=None, metadata=nested("acceptance"))
    risk_graph: RiskGraphClasses | None = field(default=None, metadata=compared(label="risk_graph"))  # IEC 61508/61511

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
    demand: str | None = None  # IEC 61508/61511 mode of operation: low | high | continuous
    typed_sil: int | None = field(default=None, metadata=compared(label="sil"))  # allocated outside the model
    attribute_locations: tuple[tuple[str, Location], ...] = field(default=(), metadata=presentation(
        "where each attribute was written, for diagnostics"))

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


@dataclass(frozen=True)
class RiskMatrix:
    """ISO 14971 risk acceptability, as the model defines it: the severity and probability scales (lowest
    first) and the zone of each cell (A acceptable, R reduce further or justify, U unacceptable)."""

    severities: tuple[str, ...] = field(metadata=compared(ordered=True))
    probabilities: tuple[str, ...] = field(metadata=compared(ordered=True))
    # probability level -> one zone per severity level, in the order written
    rows: tuple[tuple[str, tuple[str, ...]], ...] = field(metadata=compared(ordered=True))
    location: Location = field(metadata=presentation(LOCATION))

    def zone(self, severity: str, probability: str) -> str | None:
        for level, zones in self.rows:
            if level == probability and severity in self.severities:
                i = self.severities.index(severity)
                return zones[i] if i < len(zones) else None
        return None


# outcome of a risk-graph cell (IEC 61508-5 Annex E key): "-" no safety requirements, "a" no special safety
# requirements, "1".."4" the SIL, "b" a single E/E/PE safety-related system is not sufficient
RISK_GRAPH_OUTCOMES: tuple[str, ...] = ("-", "a", "1", "2", "3", "4", "b")
RISK_GRAPH_PARAMETERS: tuple[str, ...] = ("consequence", "frequency", "avoidance", "demand")


@dataclass(frozen=True)
class RiskGraphLevel:
    """A level of one risk-graph parameter with its calibrated meaning; a demand (W) level may carry the upper
    bound of its demand-rate band (`below 0.3 per y`, half-open [previous bound, this bound))."""

    name: str = field(metadata=key())
    parameter: str  # consequence | frequency | avoidance | demand
    text: str
    below: Frequency | None = field(metadata=compared(label="below"))
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class RiskGraphRow:
    """A path of the risk graph through C, F, P (a parameter left out: any of its levels), the row it selects and
    that row's outcome per W level, in the order the W levels are declared."""

    path: str = field(metadata=key())  # the levels, space-separated (`C2 F1 P1`)
    name: str  # the row it selects (X1..X6 in the standard's drawing); several paths may select one row
    outcomes: tuple[str, ...] = field(metadata=compared(ordered=True))
    location: Location = field(metadata=presentation(LOCATION))

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(self.path.split())


@dataclass(frozen=True)
class RiskGraph:
    """IEC 61508-5 Annex E / IEC 61511-3 Annex D risk graph as the model calibrates it (the standard's graph is an
    example): parameter levels with their meaning, rows with their outcomes, and where the calibration comes from."""

    title: str
    source: str
    levels: tuple[RiskGraphLevel, ...] = field(metadata=members("risk_graph_level"))
    rows: tuple[RiskGraphRow, ...] = field(metadata=members("risk_graph_row"))
    location: Location = field(metadata=presentation(LOCATION))

    def of(self, parameter: str) -> tuple[RiskGraphLevel, ...]:
        return tuple(lv for lv in self.levels if lv.parameter == parameter)


@dataclass(frozen=True)
class DalOption:
    """One option of the FDAL/IDAL reduction table (ARP4754A Table 3, as the model's user takes it from their
    copy): under a top-level class, at least `count` members at `level` or above, every other at `others` or above."""

    top: str = field(metadata=key())
    name: str = field(metadata=key())
    level: str
    count: int
    others: str
    location: Location = field(metadata=presentation(LOCATION))
    SOPS_KEY: ClassVar[str] = "{top} {name}"


@dataclass(frozen=True)
class DalReduction:
    title: str
    source: str
    options: tuple[DalOption, ...] = field(metadata=members("dal_option"))
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class FfsMember:
    """A member of a functional failure set: a function (`fdal`) or an item (`idal`) and the level assigned."""

    ref: NameRef = field(metadata=key())
    kind: str  # fdal | idal
    level: str  # A..E
    text: str
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class Independence:
    """A claim of functional or item development independence between the members of an FFS, with its rationale
    and the evidence for it."""

    kind: str = field(metadata=key())  # functional | item
    text: str
    evidence: tuple[NameRef, ...] = field(metadata=compared(refs=""))
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class Ffs:
    """ARP4754A functional failure set: the members whose development errors could together cause the failure
    conditions it is `for`; their assigned FDAL / IDAL and the independence claimed between them."""

    name: str = field(metadata=key())
    package: str = field(metadata=key())
    title: str
    conditions: tuple[NameRef, ...] = field(metadata=compared(refs=""))
    # (declared before `members`, whose name would shadow the role function in the class body)
    independence: tuple[Independence, ...] = field(metadata=members("independence"))
    members: tuple[FfsMember, ...] = field(metadata=members("ffs_member"))
    location: Location = field(metadata=presentation(LOCATION))

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"

    def claims(self, kind: str) -> bool:
        return any(i.kind == kind for i in self.independence)


@dataclass(frozen=True)
class FlightPhaseDef:
    """`flight_phase NAME DURATION`: a phase of the average flight (ARP4761A operating profile); a failure
    condition's `phase` list names these, and their durations are its at-risk time."""

    name: str = field(metadata=key())
    hours: float = field(metadata=compared(label="duration", unit=" h"))
    description: str = field(metadata=compared())
    location: Location = field(metadata=presentation(LOCATION))


@dataclass(frozen=True)
class StandardDecl:
    name: str
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
    parameters: tuple[Parameter, ...] = field(default=(), metadata=members("parameter"))
    deviations: tuple[Deviation, ...] = field(default=(), metadata=members("deviation"))
    components: tuple[Component, ...] = field(default=(), metadata=members("component"))
    hazards: tuple[Hazard, ...] = field(default=(), metadata=members("hazard"))
    goals: tuple[SafetyGoal, ...] = field(default=(), metadata=members("safety_goal"))
    requirements: tuple[Requirement, ...] = field(default=(), metadata=members("requirement"))
    evidence: tuple[Evidence, ...] = field(default=(), metadata=members("evidence"))
    arguments: tuple[Argument, ...] = field(default=(), metadata=members("argument"))
    policy: tuple[PolicyRule, ...] = field(default=(), metadata=members("policy"))
    mission_time_location: Location | None = field(default=None, metadata=presentation(LOCATION))
    standard: StandardDecl | None = None  # per package (Model.standard_by_package)
    risk_matrix: RiskMatrix | None = None  # per package (Model.risk_matrix_by_package)
    risk_graph: RiskGraph | None = None  # per package (Model.risk_graph_by_package)
    dal_reduction: DalReduction | None = None  # per package (Model.dal_reduction_by_package)
    ffs: tuple[Ffs, ...] = field(default=(), metadata=members("ffs"))
    # per package (Model.flight_phases_by_package): the ARP4761A operating profile
    flight_phases: tuple[FlightPhaseDef, ...] = ()
    # Element order as written: (kind, name) for the formatter and for stable listings.
    order: tuple[tuple[str, str], ...] = field(default=(), metadata=presentation("the order elements are written in"))
