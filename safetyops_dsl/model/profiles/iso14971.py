"""ISO 14971:2019 risk evaluation on the model's own scales and matrix (the standard leaves the severity and
probability scales and the acceptability criteria to the manufacturer's policy, clauses 4.2 and 4.4).

Zones: A acceptable, R reduce further or justify (benefit-risk analysis, clause 7.4), U unacceptable.
"""

from __future__ import annotations

ZONES: dict[str, str] = {"A": "acceptable", "R": "reduce or justify", "U": "unacceptable"}


def zone_text(zone: str | None) -> str:
    return "-" if zone is None else f"{zone} ({ZONES.get(zone, zone)})"
