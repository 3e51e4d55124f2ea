"""IEC 61508 / IEC 61511 tables: SIL target bands, the SIL a required risk reduction calls for (LOPA), the
Route 1H architectural constraints and IEC 61511's minimum hardware fault tolerance.

Bands are half-open [low, high), as IEC writes them (SCRAM's SIL histogram uses (low, high]): a required
PFDavg of exactly 1e-2 (a risk reduction of exactly 100) is SIL 1. Sources, per table, in docs/profiles/iec61508.md;
tests/unit/test_profiles.py checks every cell.
"""

from __future__ import annotations

import math

DEMAND_MODES: tuple[str, ...] = ("low", "high", "continuous")

# IEC 61508-1:2010 Tables 2 and 3 (the same bands in IEC 61511-1:2016): SIL -> [low, high)
PFD_BANDS: dict[int, tuple[float, float]] = {4: (1e-5, 1e-4), 3: (1e-4, 1e-3), 2: (1e-3, 1e-2), 1: (1e-2, 1e-1)}
PFH_BANDS: dict[int, tuple[float, float]] = {4: (1e-9, 1e-8), 3: (1e-8, 1e-7), 2: (1e-7, 1e-6), 1: (1e-6, 1e-5)}

NO_SIL = 0  # the required risk reduction needs no safety function ("-" / "a")
BEYOND_SIL4 = 5  # more than SIL 4: one E/E/PE safety-related system is not sufficient ("b")


def band(sil: int, mode: str) -> tuple[float, float]:
    return (PFD_BANDS if mode == "low" else PFH_BANDS)[sil]


def band_text(sil: int, mode: str) -> str:
    if sil == NO_SIL:
        return "no SIL required"
    if sil == BEYOND_SIL4:
        return "beyond SIL 4"
    low, high = band(sil, mode)
    measure = "PFDavg" if mode == "low" else "PFH"
    unit = "" if mode == "low" else " /h"
    return f"{measure} in [{low:.0e}, {high:.0e}){unit}"


def sil_of_value(value: float, mode: str) -> int:
    """The SIL band [low, high) holding a PFDavg (low demand) or PFH (high / continuous demand): NO_SIL above
    the SIL 1 band, BEYOND_SIL4 below the SIL 4 band."""
    bands = PFD_BANDS if mode == "low" else PFH_BANDS
    if value >= bands[1][1]:
        return NO_SIL
    for sil in (1, 2, 3, 4):
        if value >= bands[sil][0]:
            return sil
    return BEYOND_SIL4


def lopa_required_pfd(demand_per_hour: float, ipl_pfds: tuple[float, ...], tolerable_per_hour: float) -> float:
    """IEC 61511-3 (LOPA): the PFD the safety function must reach so that the consequence occurs no more
    often than tolerated: f_tolerable / (f_initiating x prod PFD_IPL). Rates in the same unit."""
    mitigated = demand_per_hour * math.prod(ipl_pfds)
    return tolerable_per_hour / mitigated


# IEC 61508-2:2010 Tables 2 (type A) and 3 (type B), Route 1H: the highest SIL that may be claimed for a
# (sub)system of hardware fault tolerance HFT and safe failure fraction SFF; 0: not allowed.
# Rows: SFF < 60 %, 60 % - < 90 %, 90 % - < 99 %, >= 99 %; columns HFT 0, 1, 2.
ROUTE_1H: dict[str, tuple[tuple[int, int, int], ...]] = {
    "A": ((1, 2, 3), (2, 3, 4), (3, 4, 4), (3, 4, 4)),
    "B": ((0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 4)),
}
SFF_BOUNDS: tuple[float, ...] = (0.60, 0.90, 0.99)


def sff_row(sff: float) -> int:
    return sum(1 for b in SFF_BOUNDS if sff >= b)


def route_1h(element_type: str, hft: int, sff: float) -> int:
    """The highest SIL an element of `element_type` with `hft` and `sff` may claim (0: not allowed). An HFT
    above 2 claims what HFT 2 claims (the table stops there)."""
    return ROUTE_1H[element_type][sff_row(sff)][min(max(hft, 0), 2)]


def min_hft_61511(sil: int, mode: str) -> int:
    """IEC 61511-1:2016 Table 6: the minimum HFT of a SIS subsystem for a SIL (SFF no longer used)."""
    if sil <= 1:
        return 0
    if sil == 2:
        return 0 if mode == "low" else 1
    return 1 if sil == 3 else 2
