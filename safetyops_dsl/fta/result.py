"""Results of a fault-tree analysis, as plain values for generators and the CLI."""

from __future__ import annotations

from enum import Enum

from safetyops_dsl.lazy_dataclasses import dataclass, field


class Approximation(str, Enum):
    EXACT = "exact"  # BDD
    RARE_EVENT = "rare-event"  # sum of cut-set probabilities
    MCUB = "mcub"  # min-cut upper bound: 1 - prod(1 - P(cut set))


@dataclass(frozen=True)
class AnalysisOptions:
    """What `engine.analyse` computes and the limits it keeps to."""

    limit_order: int | None = None  # keep cut sets of at most this many events (SCRAM -l)
    cut_off: float = 0.0  # drop cut sets whose probability is below this (SCRAM --cut-off)
    approximation: Approximation = Approximation.EXACT
    # How many cut sets to keep in the result (most probable first); the count is always exact.
    cut_set_limit: int | None = 1000
    # Refuse to enumerate more than this many cut sets (counting is never bounded); a clear error instead.
    max_cut_sets: int = 10_000_000
    # Refuse to grow a BDD past this many nodes under every variable order tried (about 50 bytes each, and
    # the racing orders each hold their own): a clear error instead of exhausting memory.
    max_bdd_nodes: int = 1 << 24
    importance: bool = True


@dataclass(frozen=True, slots=True)  # slots: a tree has one row an event (10,000 on a chain)
class ImportanceRow:
    """The importance factors of one basic event, as SCRAM defines them."""

    event: str
    probability: float
    fussell_vesely: float  # (P(top) - P(top | e=0)) / P(top)
    birnbaum: float  # MIF: P(top | e=1) - P(top | e=0)
    criticality: float  # CIF: MIF * p / P(top)
    diagnosis: float  # DIF: p * P(top | e=1) / P(top)
    raw: float  # risk achievement worth: P(top | e=1) / P(top)
    rrw: float  # risk reduction worth: P(top) / P(top | e=0)  (inf where that is 0)


@dataclass(frozen=True)
class FtaResult:
    """The analysis of one tree: probabilities, cut sets, importance."""

    tree: str
    top: str
    probability: float  # by the requested approximation
    exact_probability: float | None
    rare_event_probability: float | None
    mcub_probability: float | None
    cut_set_count: int  # exact count of minimal cut sets after limit_order / cut_off
    cut_sets_by_order: dict[int, int]  # order -> count
    cut_sets: tuple[tuple[str, ...], ...]  # most probable first (ties by names), each sorted by name
    cut_sets_truncated: bool  # True where cut_set_limit kept fewer than cut_set_count
    importance: tuple[ImportanceRow, ...] = ()  # sorted by event name
    options: AnalysisOptions = field(default_factory=AnalysisOptions)
    warnings: tuple[str, ...] = ()
