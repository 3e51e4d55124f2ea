"""Fault trees as plain values: the contract between synthesis, Open-PSA import, the engine and the diagrams.

A tree is a DAG of named nodes: gates, basic events and house events. Shared sub-trees are shared by name,
never copied. A tree is built for one mission time: probabilities are already evaluated (a producer that
supports another mission time builds the tree again).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import Enum

from safetyops_dsl.fta.timing import Timing
from safetyops_dsl.lazy_dataclasses import dataclass, field


class GateKind(str, Enum):
    AND = "and"
    OR = "or"
    ATLEAST = "atleast"  # k-of-n, `k` set on the gate
    XOR = "xor"
    NOT = "not"
    NAND = "nand"
    NOR = "nor"
    NULL = "null"  # pass-through of a single input


@dataclass(frozen=True, slots=True)
class Origin:
    """Back-reference from a tree node to the model element it came from (path relative to the model root)."""

    file: str
    line: int
    col: int
    element: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class BasicEvent:
    """A leaf of the tree: an independent event of known probability."""

    name: str
    probability: float
    label: str = ""
    origin: Origin | None = None
    # An event the model does not develop further (e.g. an input deviation with no source): drawn as a diamond.
    undeveloped: bool = False
    # Failure rate per hour behind the probability, where there is one (for reports; not used by the engine).
    rate_per_hour: float | None = None
    # How the probability evolves over the mission (fta/timing.py): `probability` is its value at the
    # mission time; None = constant.
    timing: Timing | None = None
    # The Open-PSA expression behind the probability, where the producer has one (parameters, exponential,
    # periodic-test, GLM); the MEF export writes it instead of the bare number.
    expression: MefExpr | None = None


@dataclass(frozen=True, slots=True)
class MefExpr:
    """An Open-PSA MEF expression as plain data: `<tag value=... name=...>args</tag>`."""

    tag: str
    value: float | None = None
    name: str = ""
    args: tuple[MefExpr, ...] = ()


DEVIATES = frozenset({"lognormal-deviate", "gamma-deviate", "beta-deviate", "uniform-deviate", "normal-deviate",
                      "histogram"})


def uncertain(e: MefExpr, parameters: Mapping[str, MefExpr], seen: frozenset[str] = frozenset()) -> bool:
    """The expression has a random deviate, directly or through a parameter."""
    if e.tag in DEVIATES:
        return True
    if e.tag == "parameter":
        body = parameters.get(e.name)
        return body is not None and e.name not in seen and uncertain(body, parameters, seen | {e.name})
    return any(uncertain(a, parameters, seen) for a in e.args)


@dataclass(frozen=True, slots=True)
class HouseEvent:
    """A leaf fixed true or false (Open-PSA house event)."""

    name: str
    state: bool
    label: str = ""
    origin: Origin | None = None


@dataclass(frozen=True, slots=True)
class Gate:
    """A logic gate over named inputs (gates, basic or house events)."""

    name: str
    kind: GateKind
    inputs: tuple[str, ...]
    k: int | None = None  # only for ATLEAST
    label: str = ""
    origin: Origin | None = None


@dataclass(frozen=True)
class FaultTree:
    """One top event and everything below it. Node names are unique across gates and events."""

    name: str
    top: str
    gates: Mapping[str, Gate]
    basic_events: Mapping[str, BasicEvent]
    house_events: Mapping[str, HouseEvent] = field(default_factory=dict)
    label: str = ""
    # Remarks a reader of the tree should see (e.g. a feedback loop that was cut during synthesis).
    notes: tuple[str, ...] = ()
    mission_time: float | None = None  # hours, where the producer knows it
    # Open-PSA parameters the events' expressions name: name -> (expression, MEF unit or "")
    parameters: Mapping[str, tuple[MefExpr, str]] = field(default_factory=dict)

    def node_kind(self, name: str) -> str:
        if name in self.gates:
            return "gate"
        if name in self.basic_events:
            return "basic-event"
        if name in self.house_events:
            return "house-event"
        raise KeyError(name)

    def reachable(self) -> Iterator[str]:
        """Names of all nodes reachable from the top, each once, in depth-first pre-order (deterministic)."""
        seen: set[str] = set()
        stack = [self.top]
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            yield name
            gate = self.gates.get(name)
            if gate is not None:
                stack.extend(reversed(gate.inputs))


def post_order(tree: FaultTree) -> list[str]:
    """The gates under the top, every gate after all its inputs (iterative: deep trees must not recurse).
    A reversed pre-order is not enough: a gate shared by two parents comes after the first one only."""
    out: list[str] = []
    seen: set[str] = set()
    stack: list[tuple[str, bool]] = [(tree.top, False)]
    while stack:
        name, done = stack.pop()
        if done:
            out.append(name)
            continue
        if name in seen or name not in tree.gates:
            continue
        seen.add(name)
        stack.append((name, True))
        stack.extend((c, False) for c in reversed(tree.gates[name].inputs) if c in tree.gates and c not in seen)
    return out
