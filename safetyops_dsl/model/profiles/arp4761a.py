"""ARP4761A / ARP4754B with AC 25.1309-1B / AMC 25.1309 (transport aeroplanes): failure condition classes, their
quantitative objectives per flight hour and the top-level development assurance level.

Sources (see /docs/profiles/arp4761a.md): classes and objectives, ee-aero glossary "failure condition
classification" and aviationglossary.com "probability of occurrence classifications" (two public sources
agree); EASA AMC 25.1309 (ED Decision 2021/015/R) ¶7 and ¶11e; FDAL per class, ARP4754A §5.2 as summarised by
the ee-aero glossary and the ANAC workshop "Development Assurance Level Assignment" (2010).
"""

from __future__ import annotations

# most severe first
CLASSES: tuple[str, ...] = ("Catastrophic", "Hazardous", "Major", "Minor", "NoSafetyEffect")
RANK: dict[str, int] = {c: i for i, c in enumerate(CLASSES)}

# average probability per flight hour, upper bound; Minor and No Safety Effect: no quantitative objective in
# AMC 25.1309 (some summaries of AC 25.1309-1B quote 1e-3 for Minor: not used as a requirement here)
OBJECTIVE_PER_FH: dict[str, float | None] = {
    "Catastrophic": 1e-9,
    "Hazardous": 1e-7,
    "Major": 1e-5,
    "Minor": None,
    "NoSafetyEffect": None,
}
QUALITATIVE: dict[str, str] = {
    "Catastrophic": "Extremely Improbable",
    "Hazardous": "Extremely Remote",
    "Major": "Remote",
    "Minor": "Probable",
    "NoSafetyEffect": "-",
}
FDAL: dict[str, str] = {"Catastrophic": "A", "Hazardous": "B", "Major": "C", "Minor": "D", "NoSafetyEffect": "E"}


def display(cls: str) -> str:
    return "No Safety Effect" if cls == "NoSafetyEffect" else cls


def most_severe(classes: list[str]) -> str | None:
    return min(classes, key=RANK.__getitem__) if classes else None
