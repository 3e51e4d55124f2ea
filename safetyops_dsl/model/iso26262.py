"""ISO 26262 tables: ASIL determination (part 3, table 4), ASIL decomposition (part 9, clause 5),
and the hardware metric targets (part 5, tables 4-6) used by the FMEDA."""

from __future__ import annotations

from dataclasses import dataclass

ASIL_ORDER: tuple[str, ...] = ("QM", "A", "B", "C", "D")
ASIL_RANK: dict[str, int] = {a: i for i, a in enumerate(ASIL_ORDER)}


def determine_asil(severity: int, exposure: int, controllability: int) -> str:
    """ISO 26262-3:2018 Table 4. S0, E0 or C0 give QM (no ASIL is assigned).

    Table 4 is additive: for S1..S3, E1..E4, C1..C3 the ASIL rises by one level with each class step,
    so S+E+C = 10 is D, 9 C, 8 B, 7 A, and anything lower QM. tests/unit/test_iso26262.py checks every
    cell against the table as printed in the standard.
    """
    if not (0 <= severity <= 3 and 0 <= exposure <= 4 and 0 <= controllability <= 3):
        raise ValueError(f"class out of range: S{severity} E{exposure} C{controllability}")
    if severity == 0 or exposure == 0 or controllability == 0:
        return "QM"
    return {10: "D", 9: "C", 8: "B", 7: "A"}.get(severity + exposure + controllability, "QM")


def max_asil(asils: list[str]) -> str:
    return max(asils, key=ASIL_RANK.__getitem__) if asils else "QM"


# ISO 26262-9:2018 clause 5.4.10, Figure 2: the permitted decomposition schemes.
DECOMPOSITION_SCHEMES: dict[str, tuple[tuple[str, str], ...]] = {
    "D": (("C", "A"), ("B", "B"), ("D", "QM")),
    "C": (("B", "A"), ("C", "QM")),
    "B": (("A", "A"), ("B", "QM")),
    "A": (("A", "QM"),),
}


def decomposition_covers(parent: str, parts: list[str]) -> bool:
    """True when the decomposed parts meet the parent's ASIL.

    Each scheme in Figure 2 has parts whose ranks (QM=0 .. D=4) add up to the parent's rank; choosing a higher
    ASIL for a part is always allowed. So a set of parts covers the parent when their ranks add up to at least
    the parent's. A single part carrying X(X) alone (with no partner) is simply the parent's ASIL.
    """
    if parent == "QM":
        return True
    return sum(ASIL_RANK[p] for p in parts) >= ASIL_RANK[parent]


@dataclass(frozen=True)
class HardwareTargets:
    spfm: float | None  # single-point fault metric, lower bound (fraction)
    lfm: float | None  # latent fault metric, lower bound (fraction)
    pmhf_per_hour: float | None  # probabilistic metric for random hardware failures, upper bound


# ISO 26262-5:2018 Table 4 (SPFM), Table 5 (LFM), Table 6 (PMHF). ASIL A and QM have no targets.
HARDWARE_TARGETS: dict[str, HardwareTargets] = {
    "QM": HardwareTargets(None, None, None),
    "A": HardwareTargets(None, None, None),
    "B": HardwareTargets(0.90, 0.60, 100e-9),
    "C": HardwareTargets(0.97, 0.80, 100e-9),
    "D": HardwareTargets(0.99, 0.90, 10e-9),
}
